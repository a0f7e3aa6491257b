/*
 * Diagnostics of the topology loader. Every problem found in a topology becomes one line
 * "file:line:col: message" (warnings: "file:line:col: warning: message"), like a compiler's,
 * so editors can jump to it. The loader collects all of them in one run, sorted by file (in
 * load order) and position, and hands them over in an sp_diag_list.
 */
#ifndef SP_TOPOLOGY_DIAG_H
#define SP_TOPOLOGY_DIAG_H

#include <stdint.h>
#include <stdio.h>

#include "base/err.h"

/* Public: the diagnostics of one load. The strings are owned by the list. */
typedef struct sp_diag_list {
    char **errors; /* n_errors lines "file:line:col: message" */
    size_t n_errors;
    char **warnings; /* n_warnings lines "file:line:col: warning: message" */
    size_t n_warnings;
} sp_diag_list;

/* Makes l empty (equivalent to zero-initialising it). */
void sp_diag_list_init(sp_diag_list *l);
/* Frees every string and leaves l empty and reusable. Accepts NULL. */
void sp_diag_list_clear(sp_diag_list *l);
/* Writes the errors, then at most max_warnings warnings (SIZE_MAX: all), one per line, to f;
 * when warnings were left out, ends with a line saying how many. Borrows l and f. */
void sp_diag_list_print(const sp_diag_list *l, FILE *f, size_t max_warnings);

/* ---- Internal to topology/: the collector the loader writes into. ---- */

typedef struct sp__diag {
    uint32_t src, line, col, seq; /* sort key: file in load order, position, arrival */
    int warning;
    char *text;
} sp__diag;

typedef struct sp__diags {
    sp__diag *v;
    size_t n, cap;
    size_t n_errors;
    int nomem; /* a diagnostic was lost for lack of memory */
} sp__diags;

/* Records a diagnostic at file:line:col (line 0: no position, "file: message"). The message is
 * printf-formatted. Out of memory sets d->nomem (and still counts errors). */
#if defined(__GNUC__)
__attribute__((format(printf, 7, 8)))
#endif
void sp__diag_add(sp__diags *d, int warning, const char *file, uint32_t src, uint32_t line,
                  uint32_t col, const char *fmt, ...);
/* Sorts the diagnostics and moves their texts to the end of out (which may be NULL: they are
 * dropped). d is empty afterwards. Returns SP_ERR_NOMEM if any was lost, else SP_OK. */
sp_err sp__diags_flush(sp__diags *d, sp_diag_list *out);
/* Frees everything still held by d. Accepts NULL. */
void sp__diags_free(sp__diags *d);

#endif
