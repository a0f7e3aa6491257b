/*
 * Contributions of a complaint state to the statistics rows, and the row codec.
 */
#include "node/lifecycle/fold_stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strmap.h"
#include "base/varint.h"

const uint64_t sp_stats_resp_bounds_ms[10] = {
    3600000ull,       4 * 3600000ull,  SP_DAY_MS,      2 * SP_DAY_MS,  3 * SP_DAY_MS,
    5 * SP_DAY_MS,    7 * SP_DAY_MS,   14 * SP_DAY_MS, 30 * SP_DAY_MS, 0,
};

const char *sp_stat_name(sp_stat s) {
    static const char *const names[] = {
#define XX(name, text) text,
        SP_STAT_MAP(XX)
#undef XX
    };
    return (unsigned)s < SP_STAT__COUNT ? names[s] : "?";
}

sp_err sp_stats_scope(char *out, const char *base, uint32_t channel) {
    size_t n = strlen(base);
    if (n > SP_MAX_ORIGIN || strpbrk(base, "/#") || channel >= SP_STATS_CHANNELS)
        return SP_ERR_INVAL;
    if (!channel)
        snprintf(out, SP_STATS_SCOPE_MAX + 1, "%s", base);
    else
        snprintf(out, SP_STATS_SCOPE_MAX + 1, "%s#%u", base, (unsigned)channel);
    return SP_OK;
}

size_t sp_stats_key(char *key, sp_scope_kind kind, const char *scope, uint32_t ymd) {
    size_t n = strlen(scope);
    if (n > SP_STATS_SCOPE_MAX || memchr(scope, '/', n) || ymd > 99999999u) return 0;
    /* "%c%s/%08u" without snprintf: this runs for every row a complaint touches */
    key[0] = (char)kind;
    memcpy(key + 1, scope, n);
    key[n + 1] = '/';
    for (int i = 7; i >= 0; i--, ymd /= 10) key[n + 2 + (size_t)i] = (char)('0' + ymd % 10);
    key[n + 10] = '\0';
    return n + 10;
}

sp_err sp_stats_key_parse(const uint8_t *k, size_t n, sp_scope_kind *kind, char *scope,
                          uint32_t *ymd) {
    if (n < 10 || (k[0] != SP_SCOPE_REGION && k[0] != SP_SCOPE_AGENCY) || k[n - 9] != '/')
        return SP_ERR_CORRUPT;
    size_t sn = n - 10;
    if (sn > SP_STATS_SCOPE_MAX) return SP_ERR_CORRUPT;
    uint32_t d = 0;
    for (size_t i = n - 8; i < n; i++) {
        if (k[i] < '0' || k[i] > '9') return SP_ERR_CORRUPT;
        d = d * 10 + (uint32_t)(k[i] - '0');
    }
    *kind = (sp_scope_kind)k[0];
    memcpy(scope, k + 1, sn);
    scope[sn] = '\0';
    *ymd = d;
    return SP_OK;
}

/* ---- values ---- */

size_t sp_stats_encode(const sp_stats *st, uint8_t *buf) {
    size_t n = 0;
    for (int i = 0; i < SP_STAT__COUNT; i++) {
        if (!st->v[i]) continue;
        uint64_t z = ((uint64_t)st->v[i] << 1) ^ (uint64_t)(st->v[i] >> 63);
        n += sp_varint_put(buf + n, (uint64_t)i);
        n += sp_varint_put(buf + n, z);
    }
    return n;
}

sp_err sp_stats_decode(sp_stats *st, const uint8_t *p, size_t n) {
    memset(st, 0, sizeof *st);
    size_t at = 0;
    while (at < n) {
        uint64_t i, z;
        if (!sp_varint_get(p, n, &at, &i) || !sp_varint_get(p, n, &at, &z) || i >= SP_STAT__COUNT)
            return SP_ERR_CORRUPT;
        st->v[i] = (int64_t)((z >> 1) ^ (~(z & 1) + 1));
    }
    return SP_OK;
}

int sp_stats_is_zero(const sp_stats *st) {
    for (int i = 0; i < SP_STAT__COUNT; i++)
        if (st->v[i]) return 0;
    return 1;
}

void sp_stats_add(sp_stats *dst, const sp_stats *src, int sign) {
    for (int i = 0; i < SP_STAT__COUNT; i++) dst->v[i] += sign * src->v[i];
}

/* The deadlines of a row (counters first, first + 1, first + 2 for WIB, WITA, WIT) that have
 * passed at now: exact, because deadlines fall at the end of a local day. */
static int64_t passed(const sp_stats *row, uint32_t ymd, uint64_t now_ms, sp_stat first) {
    if (ymd == 0) return 0;
    int32_t day = sp_days_from_civil((int)(ymd / 10000), (int)(ymd / 100 % 100), (int)(ymd % 100));
    int64_t n = 0;
    for (int tz = 0; tz < 3; tz++)
        if (now_ms > sp_end_of_local_day(day, (sp_timezone)tz)) n += row->v[first + tz];
    return n;
}

int64_t sp_stats_overdue(const sp_stats *row, uint32_t ymd, uint64_t now_ms) {
    return passed(row, ymd, now_ms, SP_STAT_DUE_WIB);
}

int64_t sp_stats_unanswered_overdue(const sp_stats *row, uint32_t ymd, uint64_t now_ms) {
    return passed(row, ymd, now_ms, SP_STAT_DUE_RESPOND_WIB);
}

/* ---- the accumulator ---- */

struct sp_stats_acc {
    sp_strmap rows; /* key -> sp_stats */
};

sp_err sp_stats_acc_new(sp_stats_acc **out) {
    return (*out = calloc(1, sizeof **out)) ? SP_OK : SP_ERR_NOMEM;
}

void sp_stats_acc_free(sp_stats_acc *acc) {
    if (!acc) return;
    sp_strmap_free(&acc->rows, free);
    free(acc);
}

void sp_stats_acc_reset(sp_stats_acc *acc) {
    sp_strmap_free(&acc->rows, free);
    memset(&acc->rows, 0, sizeof acc->rows);
}

size_t sp_stats_acc_rows(const sp_stats_acc *acc) {
    return acc->rows.len;
}

static sp_stats *row(sp_stats_acc *acc, const char *key) {
    sp_stats *r = sp_strmap_get(&acc->rows, key);
    if (r) return r;
    if (!(r = calloc(1, sizeof *r))) return NULL;
    if (sp_strmap_put(&acc->rows, key, r, NULL) != SP_OK) {
        free(r);
        return NULL;
    }
    return r;
}

/* One complaint's contribution to one scope, as a handful of (day, counter, amount). */
typedef struct {
    uint32_t ymd;
    sp_stat stat;
    int64_t amount;
} item;

#define MAX_ITEMS 32

typedef struct {
    item v[MAX_ITEMS];
    size_t n;
    sp_timezone tz;
} items;

static void add_at(items *it, uint64_t at_ms, sp_stat stat, int64_t amount) {
    if (!amount || it->n == MAX_ITEMS) return;
    uint32_t ymd = at_ms ? sp_day_ymd(sp_local_day(at_ms, it->tz)) : 0;
    it->v[it->n++] = (item){ymd, stat, amount};
}

static sp_stat response_bucket(uint64_t ms) {
    for (int i = 0; i < 9; i++)
        if (ms <= sp_stats_resp_bounds_ms[i]) return (sp_stat)(SP_STAT_RESP_LE_1H + i);
    return SP_STAT_RESP_GT_30D;
}

static void collect(items *it, const sp_complaint_state *s) {
    static const sp_stat gauges[SP_ST__COUNT] = {
        [SP_ST_FILED] = SP_STAT_ST_FILED,
        [SP_ST_VERIFIED] = SP_STAT_ST_VERIFIED,
        [SP_ST_ARCHIVED] = SP_STAT_ST_ARCHIVED,
        [SP_ST_DISPOSITIONED] = SP_STAT_ST_DISPOSITIONED,
        [SP_ST_IN_PROGRESS] = SP_STAT_ST_IN_PROGRESS,
        [SP_ST_REROUTED] = SP_STAT_ST_REROUTED,
        [SP_ST_COMPLETED] = SP_STAT_ST_COMPLETED,
        [SP_ST_RESOLVED] = SP_STAT_ST_RESOLVED,
        [SP_ST_REOPENED] = SP_STAT_ST_REOPENED,
    };
    it->v[it->n++] = (item){0, gauges[s->status], 1};
    add_at(it, s->filed_at, SP_STAT_FILED, 1);
    if (s->verified_at) {
        add_at(it, s->verified_at, SP_STAT_VERIFIED, 1);
        add_at(it, s->verified_at, SP_STAT_VERIFIED_IN_SLA, !s->verify_late);
    }
    if (s->archived_at) add_at(it, s->archived_at, SP_STAT_ARCHIVED, 1);
    if (s->first_response_at) {
        uint64_t took = s->first_response_at > s->filed_at ? s->first_response_at - s->filed_at : 0;
        add_at(it, s->first_response_at, SP_STAT_FIRST_RESPONSE, 1);
        add_at(it, s->first_response_at, SP_STAT_FIRST_RESPONSE_IN_SLA, !s->first_response_late);
        add_at(it, s->first_response_at, SP_STAT_RESPONSE_MS_SUM, (int64_t)took);
        add_at(it, s->first_response_at, response_bucket(took), 1);
    }
    if (s->status == SP_ST_COMPLETED || s->status == SP_ST_RESOLVED) {
        add_at(it, s->completed_at, SP_STAT_COMPLETED, 1);
        add_at(it, s->completed_at, SP_STAT_COMPLETED_IN_SLA, !s->completed_late);
        add_at(it, s->completed_at, SP_STAT_AUTO_COMPLETED, s->auto_completed);
    }
    if (s->status == SP_ST_RESOLVED) add_at(it, s->resolved_at, SP_STAT_RESOLVED, 1);
    if (s->has_feedback && s->completed_at) {
        add_at(it, s->completed_at, SP_STAT_FEEDBACK, 1);
        add_at(it, s->completed_at, SP_STAT_SATISFIED, s->satisfied);
        add_at(it, s->completed_at, SP_STAT_RATED, s->rating > 0);
        add_at(it, s->completed_at, SP_STAT_RATING_SUM, s->rating);
    }
    if (s->reopens) add_at(it, s->reopened_at, SP_STAT_REOPENED, 1);
    if (s->escalations) add_at(it, s->escalated_at, SP_STAT_ESCALATED, 1);
    if (s->reroutes) add_at(it, s->rerouted_at, SP_STAT_REROUTED, 1);
    int tz = s->tz <= SP_TZ_WIT ? s->tz : 0;
    uint64_t due = sp_fold_active_deadline(s);
    if (due) add_at(it, due, (sp_stat)(SP_STAT_DUE_WIB + tz), 1);
    /* Nobody answered yet: once the respond deadline passes, a missed first response. */
    if (s->status == SP_ST_DISPOSITIONED && !s->first_response_at && s->respond_due)
        add_at(it, s->respond_due, (sp_stat)(SP_STAT_DUE_RESPOND_WIB + tz), 1);
}

/* Items are sorted by day (sort_items): one key and one row lookup per day, not per item. */
static sp_err apply_scope(sp_stats_acc *acc, const items *it, sp_scope_kind kind,
                          const char *scope, int sign) {
    char key[SP_STATS_KEY_MAX];
    sp_stats *r = NULL;
    for (size_t i = 0; i < it->n; i++) {
        if (!r || it->v[i].ymd != it->v[i - 1].ymd) {
            if (!sp_stats_key(key, kind, scope, it->v[i].ymd)) return SP_OK; /* unusable scope */
            if (!(r = row(acc, key))) return SP_ERR_NOMEM;
        }
        r->v[it->v[i].stat] += sign * it->v[i].amount;
    }
    return SP_OK;
}

/* By day, stably (insertion sort: at most MAX_ITEMS). Sums do not depend on the order. */
static void sort_items(items *it) {
    for (size_t i = 1; i < it->n; i++) {
        item x = it->v[i];
        size_t j = i;
        for (; j > 0 && it->v[j - 1].ymd > x.ymd; j--) it->v[j] = it->v[j - 1];
        it->v[j] = x;
    }
}

/* The plain rows of scope base, and its slice of the complaint's channel when it has one. */
static sp_err apply_sliced(sp_stats_acc *acc, const items *it, sp_scope_kind kind, const char *base,
                           uint32_t channel, int sign) {
    char scope[SP_STATS_SCOPE_MAX + 1];
    sp_err rv = apply_scope(acc, it, kind, base, sign);
    if (rv == SP_OK && channel && sp_stats_scope(scope, base, channel) == SP_OK)
        rv = apply_scope(acc, it, kind, scope, sign);
    return rv;
}

sp_err sp_stats_contribute(sp_stats_acc *acc, const sp_complaint_state *s, int sign) {
    if (s->status == SP_ST_NONE || (unsigned)s->status >= SP_ST__COUNT) return SP_OK;
    items it = {.tz = s->tz};
    collect(&it, s);
    sort_items(&it);
    char prov[3] = "", regency[6] = "";
    size_t rn = strlen(s->region);
    if (rn >= 2) memcpy(prov, s->region, 2);
    if (rn >= 5 && s->region[2] == '.') memcpy(regency, s->region, 5);
    uint32_t ch = s->channel < SP_STATS_CHANNELS ? s->channel : 0; /* unknown: plain rows only */
    sp_err rv = apply_sliced(acc, &it, SP_SCOPE_REGION, "", ch, sign);
    if (rv == SP_OK && prov[0]) rv = apply_sliced(acc, &it, SP_SCOPE_REGION, prov, ch, sign);
    if (rv == SP_OK && regency[0]) rv = apply_sliced(acc, &it, SP_SCOPE_REGION, regency, ch, sign);
    const char *holder = sp_fold_holder(s);
    if (rv == SP_OK && holder[0]) rv = apply_sliced(acc, &it, SP_SCOPE_AGENCY, holder, ch, sign);
    return rv;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

sp_err sp_stats_acc_each(const sp_stats_acc *acc, sp_stats_visit_fn fn, void *arg) {
    const char **keys = malloc((acc->rows.len ? acc->rows.len : 1) * sizeof *keys);
    if (!keys) return SP_ERR_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < acc->rows.cap; i++)
        if (acc->rows.slots[i].key) keys[n++] = acc->rows.slots[i].key;
    qsort(keys, n, sizeof *keys, cmp_str);
    for (size_t i = 0; i < n; i++) {
        const sp_stats *r = sp_strmap_get(&acc->rows, keys[i]);
        if (!sp_stats_is_zero(r) && fn(arg, keys[i], r)) break;
    }
    free(keys);
    return SP_OK;
}
