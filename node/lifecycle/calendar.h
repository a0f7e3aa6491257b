/*
 * The SLA calendar: which dates are national holidays (libur nasional) or cuti bersama, and
 * optionally the federation's deadline policy, read from YAML (deploy/calendar/holidays.yaml;
 * format in docs/lifecycle.md). The shipped file is compiled into the binary
 * (sp_calendar_load_builtin) so a node never computes deadlines without it; a federation may
 * load override files on top (later files add dates, `remove:` dates, and override `sla:`).
 *
 * Problems are reported like the topology's: "file:line:col: message" into an sp_diag_list,
 * and a file with any error changes nothing (all or nothing).
 *
 * The YAML is read through the topology module's YAML layer (base/yaml.h), which owns
 * every libyaml call. A loaded calendar is read-only: const functions are thread-safe; the
 * load functions need exclusive access.
 */
#ifndef SP_CALENDAR_H
#define SP_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "base/err.h"
#include "node/lifecycle/days.h"
#include "node/lifecycle/sla_policy.h"

typedef struct sp_calendar sp_calendar;

typedef enum { SP_HOLIDAY_LIBUR = 0, SP_HOLIDAY_CUTI_BERSAMA = 1 } sp_holiday_kind;

/* Year coverage as declared by `years:`. */
typedef enum { SP_YEAR_UNCOVERED = 0, SP_YEAR_FINAL = 1, SP_YEAR_PROVISIONAL = 2 } sp_year_status;

/* An empty calendar (only weekends are off). The caller owns *out (sp_calendar_free).
 * SP_ERR_NOMEM. */
sp_err sp_calendar_new(sp_calendar **out);
/* Accepts NULL. */
void sp_calendar_free(sp_calendar *cal);

/* Load the shipped calendar compiled into the binary; its `sla:` section (if any) goes into
 * policy when policy is not NULL. SP_ERR_CONFIG only if the shipped file is broken (a build
 * bug: the unit tests load it). */
sp_err sp_calendar_load_builtin(sp_calendar *cal, sp_sla_policy *policy);
/* Load a calendar file on top of what cal has. policy (may be NULL) receives `sla:`
 * overrides. Errors: SP_ERR_IO (unreadable), SP_ERR_TOO_BIG (over 4 MiB), SP_ERR_CONFIG
 * (invalid: see diags, which may be NULL), SP_ERR_NOMEM. On IO, TOO_BIG and CONFIG neither cal
 * nor policy changed; after NOMEM cal may hold part of the file. Borrows path and diags. */
sp_err sp_calendar_load_file(sp_calendar *cal, sp_sla_policy *policy, const char *path,
                             sp_diag_list *diags);
/* Same from buf[0..len), reported as file `name`. */
sp_err sp_calendar_load_buffer(sp_calendar *cal, sp_sla_policy *policy, const char *name,
                               const char *buf, size_t len, sp_diag_list *diags);

/* Add one holiday (name is copied; a date already present keeps its first name).
 * SP_ERR_INVAL for a day outside 1970..2200, SP_ERR_NOMEM. */
sp_err sp_calendar_add(sp_calendar *cal, int32_t day, sp_holiday_kind kind, const char *name);

/* Whether day is a holiday or cuti bersama. O(1). */
int sp_calendar_is_holiday(const sp_calendar *cal, int32_t day);
/* The holiday's name and kind, or NULL when day is not one. Owned by cal. */
const char *sp_calendar_holiday(const sp_calendar *cal, int32_t day, sp_holiday_kind *kind);
/* Whether the calendar declares a year complete, provisional, or not at all. */
sp_year_status sp_calendar_year(const sp_calendar *cal, int year);
/* Number of holidays. */
size_t sp_calendar_count(const sp_calendar *cal);
/* A 64-bit fingerprint of the holiday dates (FNV-1a over the sorted day numbers): deadlines
 * depend on it, so a node can tell that derived state needs `simpul rebuild`. */
uint64_t sp_calendar_fingerprint(const sp_calendar *cal);

#endif
