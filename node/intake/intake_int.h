/*
 * Internals shared by the intake parsers (intake_parse.c: JSON and common fields;
 * intake_channels.c: SMS, forms, Open311), so that every channel validates a field the same way.
 */
#ifndef SP_INTAKE_INT_H
#define SP_INTAKE_INT_H

#include "node/intake/intake.h"

/* Fill err and return rv. */
sp_err sp__intake_fail(sp_intake_error *err, int status, const char *code, sp_err rv,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Text (required, trimmed) and title (given, or the text's first line, <= 80 bytes). */
sp_err sp__intake_set_text(sp_intake_req *r, const char *title, const char *text,
                           sp_intake_error *err);
/* Reporter identity; every argument may be NULL or "". Phone is normalised. */
sp_err sp__intake_set_identity(sp_intake_req *r, const char *name, const char *phone,
                               const char *email, const char *nik, sp_intake_error *err);
/* Category and region, syntax only (sp_intake_check does the topology). */
sp_err sp__intake_set_place(sp_intake_req *r, const char *category, const char *region,
                            sp_intake_error *err);

#endif
