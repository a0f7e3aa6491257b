/* Diagnostics: formatted once when found, sorted when the load ends. */
#include "base/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void sp_diag_list_init(sp_diag_list *l) {
    memset(l, 0, sizeof *l);
}

static void free_lines(char **v, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void sp_diag_list_clear(sp_diag_list *l) {
    if (!l) return;
    free_lines(l->errors, l->n_errors);
    free_lines(l->warnings, l->n_warnings);
    sp_diag_list_init(l);
}

void sp_diag_list_print(const sp_diag_list *l, FILE *f, size_t max_warnings) {
    for (size_t i = 0; i < l->n_errors; i++)
        fprintf(f, "%s\n", l->errors[i]);
    size_t shown = l->n_warnings < max_warnings ? l->n_warnings : max_warnings;
    for (size_t i = 0; i < shown; i++)
        fprintf(f, "%s\n", l->warnings[i]);
    if (shown < l->n_warnings) fprintf(f, "... and %zu more warnings\n", l->n_warnings - shown);
}

#if defined(__GNUC__)
__attribute__((format(printf, 5, 0)))
#endif
static char *
format_text(const char *file, uint32_t line, uint32_t col, int warning, const char *fmt,
            va_list ap) {
    char prefix[64];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return NULL;
    if (line)
        snprintf(prefix, sizeof prefix, ":%u:%u: %s", (unsigned)line, (unsigned)col,
                 warning ? "warning: " : "");
    else
        snprintf(prefix, sizeof prefix, ": %s", warning ? "warning: " : "");
    size_t len = strlen(file) + strlen(prefix) + (size_t)n + 1;
    char *s = malloc(len);
    if (!s) return NULL;
    int k = snprintf(s, len, "%s%s", file, prefix);
    vsnprintf(s + k, len - (size_t)k, fmt, ap);
    return s;
}

void sp__diag_add(sp__diags *d, int warning, const char *file, uint32_t src, uint32_t line,
                  uint32_t col, const char *fmt, ...) {
    if (!warning) d->n_errors++;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        sp__diag *v = realloc(d->v, cap * sizeof *v);
        if (!v) {
            d->nomem = 1;
            return;
        }
        d->v = v;
        d->cap = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    char *text = format_text(file, line, col, warning, fmt, ap);
    va_end(ap);
    if (!text) {
        d->nomem = 1;
        return;
    }
    d->v[d->n] = (sp__diag){src, line, col, (uint32_t)d->n, warning, text};
    d->n++;
}

static int cmp_diag(const void *pa, const void *pb) {
    const sp__diag *a = pa, *b = pb;
    if (a->src != b->src) return a->src < b->src ? -1 : 1;
    if (a->line != b->line) return a->line < b->line ? -1 : 1;
    if (a->col != b->col) return a->col < b->col ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int reserve_lines(char ***v, size_t n, size_t more) {
    if (!more) return 0;
    char **nv = realloc(*v, (n + more) * sizeof *nv);
    if (!nv) return -1;
    *v = nv;
    return 0;
}

sp_err sp__diags_flush(sp__diags *d, sp_diag_list *out) {
    int lost = d->nomem;
    size_t n_warn = 0;
    for (size_t i = 0; i < d->n; i++)
        n_warn += d->v[i].warning != 0;
    if (out && (reserve_lines(&out->errors, out->n_errors, d->n - n_warn) != 0 ||
                reserve_lines(&out->warnings, out->n_warnings, n_warn) != 0)) {
        out = NULL; /* drop them all rather than hand over a partial, unsorted list */
        lost = 1;
    }
    if (d->n) qsort(d->v, d->n, sizeof *d->v, cmp_diag);
    for (size_t i = 0; i < d->n; i++) {
        if (!out)
            free(d->v[i].text);
        else if (d->v[i].warning)
            out->warnings[out->n_warnings++] = d->v[i].text;
        else
            out->errors[out->n_errors++] = d->v[i].text;
    }
    d->n = 0;
    d->n_errors = 0;
    d->nomem = 0;
    return lost ? SP_ERR_NOMEM : SP_OK;
}

void sp__diags_free(sp__diags *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i].text);
    free(d->v);
    memset(d, 0, sizeof *d);
}
