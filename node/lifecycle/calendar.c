/*
 * The SLA calendar: holidays in a sorted array (names, kinds) plus a bitmap over 1970..2200 for
 * O(1) lookups in the deadline loops. A load parses into a staging record first and applies it
 * only when the whole file is valid.
 */
#include "node/lifecycle/calendar.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/yaml.h"

#define FIRST_YEAR 1970
#define LAST_YEAR 2200
#define MAX_FILE (4u << 20)

typedef struct {
    int32_t day;
    uint8_t kind;
    char *name;
} holiday;

typedef struct {
    int year;
    uint8_t status;
} year_entry;

struct sp_calendar {
    holiday *v;
    size_t n, cap;
    year_entry *years;
    size_t n_years;
    uint8_t *bits; /* one bit per day since 1970-01-01 */
    int32_t n_days;
};

/* Embedded copy of deploy/calendar/holidays.yaml, generated at build time. */
extern const unsigned char sp__calendar_builtin[];
extern const size_t sp__calendar_builtin_len;

sp_err sp_calendar_new(sp_calendar **out) {
    sp_calendar *cal = calloc(1, sizeof *cal);
    if (!cal) return SP_ERR_NOMEM;
    cal->n_days = sp_days_from_civil(LAST_YEAR, 12, 31) + 1;
    if (!(cal->bits = calloc((size_t)cal->n_days / 8 + 1, 1))) {
        free(cal);
        return SP_ERR_NOMEM;
    }
    *out = cal;
    return SP_OK;
}

void sp_calendar_free(sp_calendar *cal) {
    if (!cal) return;
    for (size_t i = 0; i < cal->n; i++) free(cal->v[i].name);
    free(cal->v);
    free(cal->years);
    free(cal->bits);
    free(cal);
}

static int day_in_range(const sp_calendar *cal, int32_t day) {
    return day >= 0 && day < cal->n_days;
}

int sp_calendar_is_holiday(const sp_calendar *cal, int32_t day) {
    if (!day_in_range(cal, day)) return 0;
    return (cal->bits[day >> 3] >> (day & 7)) & 1;
}

/* Index of the first holiday on or after day. */
static size_t lower_bound(const sp_calendar *cal, int32_t day) {
    size_t lo = 0, hi = cal->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cal->v[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const char *sp_calendar_holiday(const sp_calendar *cal, int32_t day, sp_holiday_kind *kind) {
    size_t i = lower_bound(cal, day);
    if (i == cal->n || cal->v[i].day != day) return NULL;
    if (kind) *kind = (sp_holiday_kind)cal->v[i].kind;
    return cal->v[i].name;
}

sp_err sp_calendar_add(sp_calendar *cal, int32_t day, sp_holiday_kind kind, const char *name) {
    if (!day_in_range(cal, day)) return SP_ERR_INVAL;
    size_t i = lower_bound(cal, day);
    if (i < cal->n && cal->v[i].day == day) return SP_OK;
    if (cal->n == cal->cap) {
        size_t cap = cal->cap ? cal->cap * 2 : 64;
        holiday *v = realloc(cal->v, cap * sizeof *v);
        if (!v) return SP_ERR_NOMEM;
        cal->v = v;
        cal->cap = cap;
    }
    char *copy = strdup(name ? name : "");
    if (!copy) return SP_ERR_NOMEM;
    memmove(cal->v + i + 1, cal->v + i, (cal->n - i) * sizeof *cal->v);
    cal->v[i] = (holiday){day, (uint8_t)kind, copy};
    cal->n++;
    cal->bits[day >> 3] |= (uint8_t)(1u << (day & 7));
    return SP_OK;
}

static void calendar_remove(sp_calendar *cal, int32_t day) {
    size_t i = lower_bound(cal, day);
    if (i == cal->n || cal->v[i].day != day) return;
    free(cal->v[i].name);
    memmove(cal->v + i, cal->v + i + 1, (cal->n - i - 1) * sizeof *cal->v);
    cal->n--;
    cal->bits[day >> 3] &= (uint8_t) ~(1u << (day & 7));
}

sp_year_status sp_calendar_year(const sp_calendar *cal, int year) {
    for (size_t i = 0; i < cal->n_years; i++)
        if (cal->years[i].year == year) return (sp_year_status)cal->years[i].status;
    return SP_YEAR_UNCOVERED;
}

static sp_err set_year(sp_calendar *cal, int year, uint8_t status) {
    for (size_t i = 0; i < cal->n_years; i++) {
        if (cal->years[i].year == year) {
            cal->years[i].status = status;
            return SP_OK;
        }
    }
    year_entry *y = realloc(cal->years, (cal->n_years + 1) * sizeof *y);
    if (!y) return SP_ERR_NOMEM;
    cal->years = y;
    cal->years[cal->n_years++] = (year_entry){year, status};
    return SP_OK;
}

size_t sp_calendar_count(const sp_calendar *cal) {
    return cal->n;
}

uint64_t sp_calendar_fingerprint(const sp_calendar *cal) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < cal->n; i++) {
        uint32_t d = (uint32_t)cal->v[i].day;
        for (int b = 0; b < 4; b++) {
            h ^= (d >> (8 * b)) & 0xff;
            h *= 1099511628211ull;
        }
    }
    return h;
}

/* ---- loading: YAML tree -> staging -> calendar ---- */

typedef struct {
    int32_t day;
    uint8_t kind;
    const char *name; /* in the parse arena */
} staged_day;

typedef struct {
    const char *file;
    sp__diags d;
    staged_day *add, *del;
    size_t n_add, n_del;
    year_entry *years;
    size_t n_years;
    sp_sla_policy policy;
    int has_policy;
    int nomem;
} loader;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void bad(loader *l, const sp__ynode *at, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sp__diag_add(&l->d, 0, l->file, 0, at ? at->line : 0, at ? at->col : 0, "%s", msg);
}

static int is_scalar(loader *l, const sp__ynode *n, const char *what) {
    if (n && n->type == SP__Y_SCALAR) return 1;
    bad(l, n, "%s must be a string, not %s", what, sp__ytype_name(n));
    return 0;
}

/* Parse "YYYY-MM-DD" strictly (a real date within the supported years). */
static int parse_date(const char *s, int32_t *day) {
    int y, m, d, used = 0;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 || used != 10)
        return 0;
    if (y < FIRST_YEAR || y > LAST_YEAR || m < 1 || m > 12 || d < 1 || d > 31) return 0;
    int32_t z = sp_days_from_civil(y, m, d);
    int y2, m2, d2;
    sp_civil_from_days(z, &y2, &m2, &d2);
    if (y2 != y || m2 != m || d2 != d) return 0; /* 2025-02-30 */
    *day = z;
    return 1;
}

static int parse_uint(const char *s, unsigned max, unsigned *out) {
    unsigned long v = 0;
    if (!*s) return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return 0;
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > max) return 0;
    }
    *out = (unsigned)v;
    return 1;
}

static void *grow(loader *l, void *p, size_t n, size_t size) {
    void *q = realloc(p, (n + 1) * size);
    if (!q) l->nomem = 1;
    return q;
}

static void stage_day(loader *l, staged_day **v, size_t *n, staged_day sd) {
    staged_day *g = grow(l, *v, *n, sizeof **v);
    if (!g) return;
    *v = g;
    g[(*n)++] = sd;
}

/* Value of key k in mapping m, or NULL. */
static const sp__ynode *map_get(const sp__ynode *m, const char *k) {
    for (size_t i = 0; m && m->type == SP__Y_MAP && i < m->n; i++)
        if (strcmp(m->kids[2 * i]->str, k) == 0) return m->kids[2 * i + 1];
    return NULL;
}

static void check_keys(loader *l, const sp__ynode *m, const char *what, const char *const *keys) {
    for (size_t i = 0; i < m->n; i++) {
        const sp__ynode *k = m->kids[2 * i];
        int known = 0;
        for (const char *const *p = keys; *p && !known; p++) known = strcmp(k->str, *p) == 0;
        if (!known) bad(l, k, "unknown key '%s' in %s", k->str, what);
    }
}

static void load_holiday(loader *l, const sp__ynode *h) {
    static const char *const keys[] = {"date", "kind", "name", NULL};
    if (h->type != SP__Y_MAP) {
        bad(l, h, "a holiday must be a mapping {date, kind, name}, not %s", sp__ytype_name(h));
        return;
    }
    check_keys(l, h, "a holiday", keys);
    const sp__ynode *date = map_get(h, "date"), *kind = map_get(h, "kind"),
                    *name = map_get(h, "name");
    staged_day sd = {0, SP_HOLIDAY_LIBUR, ""};
    if (!date) bad(l, h, "holiday without a date");
    if (date && is_scalar(l, date, "date") && !parse_date(date->str, &sd.day))
        bad(l, date, "'%s' is not a date YYYY-MM-DD in %d..%d", date->str, FIRST_YEAR, LAST_YEAR);
    if (kind && is_scalar(l, kind, "kind")) {
        if (strcmp(kind->str, "cuti-bersama") == 0)
            sd.kind = SP_HOLIDAY_CUTI_BERSAMA;
        else if (strcmp(kind->str, "libur") != 0)
            bad(l, kind, "kind must be 'libur' or 'cuti-bersama', not '%s'", kind->str);
    }
    if (name && is_scalar(l, name, "name")) sd.name = name->str;
    stage_day(l, &l->add, &l->n_add, sd);
}

static void load_list(loader *l, const sp__ynode *seq, int removing) {
    if (seq->type != SP__Y_SEQ) {
        bad(l, seq, "expected a sequence, not %s", sp__ytype_name(seq));
        return;
    }
    for (size_t i = 0; i < seq->n; i++) {
        const sp__ynode *it = seq->kids[i];
        if (!removing) {
            load_holiday(l, it);
            continue;
        }
        staged_day sd = {0, 0, ""};
        if (is_scalar(l, it, "a date to remove") && parse_date(it->str, &sd.day))
            stage_day(l, &l->del, &l->n_del, sd);
        else if (it->type == SP__Y_SCALAR)
            bad(l, it, "'%s' is not a date YYYY-MM-DD", it->str);
    }
}

static void load_years(loader *l, const sp__ynode *m) {
    static const char *const keys[] = {"status", "source", NULL};
    if (m->type != SP__Y_MAP) {
        bad(l, m, "years must be a mapping year -> {status, source}");
        return;
    }
    for (size_t i = 0; i < m->n; i++) {
        const sp__ynode *k = m->kids[2 * i], *v = m->kids[2 * i + 1];
        unsigned year;
        if (!parse_uint(k->str, LAST_YEAR, &year) || year < FIRST_YEAR) {
            bad(l, k, "'%s' is not a year in %d..%d", k->str, FIRST_YEAR, LAST_YEAR);
            continue;
        }
        const sp__ynode *st = v->type == SP__Y_MAP ? map_get(v, "status") : NULL;
        if (v->type == SP__Y_MAP) check_keys(l, v, "a year", keys);
        uint8_t status = 0;
        if (st && st->type == SP__Y_SCALAR && strcmp(st->str, "final") == 0) status = SP_YEAR_FINAL;
        if (st && st->type == SP__Y_SCALAR && strcmp(st->str, "provisional") == 0)
            status = SP_YEAR_PROVISIONAL;
        if (!status) {
            bad(l, st ? st : v, "year %u needs status: final or provisional", year);
            continue;
        }
        year_entry *y = grow(l, l->years, l->n_years, sizeof *y);
        if (!y) return;
        l->years = y;
        y[l->n_years++] = (year_entry){(int)year, status};
    }
}

/* "3" or "3wd": working days; "60d": calendar days; "0": no deadline. */
static int parse_span(const char *s, sp_sla_span *out) {
    char num[8];
    size_t n = strspn(s, "0123456789");
    unsigned v;
    if (n == 0 || n >= sizeof num) return 0;
    memcpy(num, s, n);
    num[n] = '\0';
    if (!parse_uint(num, 3650, &v)) return 0;
    const char *unit = s + n;
    if (*unit && strcmp(unit, "wd") != 0 && strcmp(unit, "d") != 0) return 0;
    *out = (sp_sla_span){(uint16_t)v, strcmp(unit, "d") == 0 ? SP_SPAN_CALENDAR : SP_SPAN_WORKING};
    return 1;
}

static void load_sla_type(loader *l, const sp__ynode *m, int lo, int hi) {
    if (m->type != SP__Y_MAP) {
        bad(l, m, "an SLA entry must be a mapping of deadlines");
        return;
    }
    for (size_t i = 0; i < m->n; i++) {
        const sp__ynode *k = m->kids[2 * i], *v = m->kids[2 * i + 1];
        int kind = -1;
        for (int j = 0; j < SP_SLA__COUNT; j++)
            if (strcmp(k->str, sp_sla_kind_name((sp_sla_kind)j)) == 0) kind = j;
        sp_sla_span span;
        if (kind < 0) {
            bad(l, k, "unknown deadline '%s' (verify, dispose, respond, autoclose, complete)",
                k->str);
        } else if (!is_scalar(l, v, "a deadline") || !parse_span(v->str, &span)) {
            if (v->type == SP__Y_SCALAR)
                bad(l, v, "'%s' is not a span: N (working days), Nwd or Nd (calendar days)",
                    v->str);
        } else {
            for (int t = lo; t <= hi; t++) l->policy.span[t][kind] = span;
        }
    }
}

static void load_sla(loader *l, const sp__ynode *m) {
    static const char *const types[SP_SLA_TYPES] = {"default", "aspirasi", "pengaduan",
                                                    "permintaan-informasi"};
    if (m->type != SP__Y_MAP) {
        bad(l, m, "sla must be a mapping: default, aspirasi, pengaduan, permintaan-informasi");
        return;
    }
    l->has_policy = 1;
    const sp__ynode *def = map_get(m, "default");
    if (def) load_sla_type(l, def, 0, SP_SLA_TYPES - 1); /* first, whatever the file order */
    for (size_t i = 0; i < m->n; i++) {
        const sp__ynode *k = m->kids[2 * i];
        int t = -1;
        for (int j = 0; j < SP_SLA_TYPES; j++)
            if (strcmp(k->str, types[j]) == 0) t = j;
        if (t < 0)
            bad(l, k, "unknown complaint type '%s' in sla", k->str);
        else if (t > 0)
            load_sla_type(l, m->kids[2 * i + 1], t, t);
    }
}

static void load_root(loader *l, const sp__ynode *root) {
    static const char *const keys[] = {"version", "years", "holidays", "remove", "sla", NULL};
    if (!root) return; /* an empty file changes nothing */
    if (root->type != SP__Y_MAP) {
        bad(l, root, "a calendar must be a mapping, not %s", sp__ytype_name(root));
        return;
    }
    check_keys(l, root, "the calendar", keys);
    const sp__ynode *v = map_get(root, "version");
    if (v && (v->type != SP__Y_SCALAR || strcmp(v->str, "1") != 0))
        bad(l, v, "unsupported calendar version (this Simpul reads version 1)");
    if ((v = map_get(root, "years"))) load_years(l, v);
    if ((v = map_get(root, "holidays"))) load_list(l, v, 0);
    if ((v = map_get(root, "remove"))) load_list(l, v, 1);
    if ((v = map_get(root, "sla"))) load_sla(l, v);
}

/* Apply a valid staging record. Adds cannot fail halfway in a way that matters: on NOMEM the
 * calendar keeps what was added so far and the caller reports the error. */
static sp_err apply(loader *l, sp_calendar *cal, sp_sla_policy *policy) {
    for (size_t i = 0; i < l->n_del; i++) calendar_remove(cal, l->del[i].day);
    for (size_t i = 0; i < l->n_add; i++) {
        sp_err rv = sp_calendar_add(cal, l->add[i].day, (sp_holiday_kind)l->add[i].kind,
                                    l->add[i].name);
        if (rv != SP_OK) return rv;
    }
    for (size_t i = 0; i < l->n_years; i++) {
        sp_err rv = set_year(cal, l->years[i].year, l->years[i].status);
        if (rv != SP_OK) return rv;
    }
    if (policy && l->has_policy) *policy = l->policy;
    return SP_OK;
}

sp_err sp_calendar_load_buffer(sp_calendar *cal, sp_sla_policy *policy, const char *name,
                               const char *buf, size_t len, sp_diag_list *diags) {
    loader l = {.file = name};
    sp__arena arena = SP__ARENA_INIT;
    sp__src src = {name, 0};
    const sp__ynode *root = NULL;
    if (policy)
        l.policy = *policy;
    else
        sp_sla_policy_default(&l.policy);
    sp_err rv = sp__yaml_parse(&root, &src, buf, len, &arena, &l.d);
    if (rv == SP_OK) load_root(&l, root);
    if (rv == SP_OK && l.nomem) rv = SP_ERR_NOMEM;
    if (rv == SP_OK && l.d.n_errors) rv = SP_ERR_CONFIG;
    if (rv == SP_OK) rv = apply(&l, cal, policy);
    if (sp__diags_flush(&l.d, diags) != SP_OK && rv == SP_OK) rv = SP_ERR_NOMEM;
    sp__diags_free(&l.d);
    sp__arena_free(&arena);
    free(l.add);
    free(l.del);
    free(l.years);
    return rv;
}

sp_err sp_calendar_load_file(sp_calendar *cal, sp_sla_policy *policy, const char *path,
                             sp_diag_list *diags) {
    sp_err rv = SP_OK;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return SP_ERR_IO;
    if (!(buf = malloc(MAX_FILE))) {
        rv = SP_ERR_NOMEM;
        goto out;
    }
    size_t n = fread(buf, 1, MAX_FILE, f);
    if (ferror(f)) rv = SP_ERR_IO;
    if (rv == SP_OK && n == MAX_FILE) rv = SP_ERR_TOO_BIG;
    if (rv == SP_OK) rv = sp_calendar_load_buffer(cal, policy, path, buf, n, diags);
out:
    free(buf);
    fclose(f);
    return rv;
}

sp_err sp_calendar_load_builtin(sp_calendar *cal, sp_sla_policy *policy) {
    return sp_calendar_load_buffer(cal, policy, "holidays.yaml (built in)",
                                   (const char *)sp__calendar_builtin, sp__calendar_builtin_len,
                                   NULL);
}
