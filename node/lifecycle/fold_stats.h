/*
 * Statistics as a pure function of complaint states.
 *
 * Each complaint contributes counters to a few (scope, day) rows: the national region scope
 * "", its province ("35"), its regency ("35.77"), and the agency currently holding it
 * (sp_fold_holder). Event counters (filed, verified, first response, completed...) go to the
 * local date, in the region's time zone, of the moment recorded in the state; status gauges
 * go to day 0; the complaint's active deadline goes to the row of its local date
 * (DUE_WIB/WITA/WIT), so "overdue at now" is a sum over rows, exact to the millisecond because
 * deadlines fall at the end of a local day (node/lifecycle/sla.h).
 *
 * Because a contribution is a function of the state alone, the node keeps stats incrementally
 * (subtract the old state's contribution, add the new one) and `simpul rebuild` gets the same
 * numbers by adding every final state once. Rows that sum to zero are deleted, never stored.
 *
 * Each of those scopes also has a slice per intake channel (the complaint's simpul.v1.Channel,
 * 1..7), so that a filter by channel reads rows too instead of every complaint: the slice's
 * scope is the scope + '#' + the channel's number ("35.77#3" is Kota Madiun's SMS complaints).
 * A complaint of channel 0 or of a channel this version does not know is in the plain rows
 * only.
 *
 * Besides the active deadline, a complaint that waits for its first response (dispositioned,
 * nobody answered yet) puts its respond deadline on the row of that date (DUE_RESPOND_*): the
 * complaints past it at now are the missed first responses that the "followed up within SLA"
 * share counts along with the late answers.
 *
 * Row keys are text: kind ('R' region, 'A' agency) + scope + '/' + YYYYMMDD ("00000000" for
 * the gauges), e.g. "R35.77/20250331", "Akemenkes#1/00000000". Scopes never contain '/'.
 * Values are sparse varints (sp_stats_encode). Thread-safety: an accumulator belongs to one
 * thread; everything else is pure.
 */
#ifndef SP_FOLD_STATS_H
#define SP_FOLD_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "node/lifecycle/fold.h"

#define SP_STAT_MAP(XX)                                                                           \
    XX(FILED, "filed")                                                                            \
    XX(VERIFIED, "verified")                                                                      \
    XX(VERIFIED_IN_SLA, "verified_in_sla")                                                        \
    XX(ARCHIVED, "archived")                                                                      \
    XX(FIRST_RESPONSE, "first_response")                                                          \
    XX(FIRST_RESPONSE_IN_SLA, "first_response_in_sla")                                            \
    XX(RESPONSE_MS_SUM, "response_ms_sum")                                                        \
    XX(RESP_LE_1H, "response_le_1h")                                                              \
    XX(RESP_LE_4H, "response_le_4h")                                                              \
    XX(RESP_LE_1D, "response_le_1d")                                                              \
    XX(RESP_LE_2D, "response_le_2d")                                                              \
    XX(RESP_LE_3D, "response_le_3d")                                                              \
    XX(RESP_LE_5D, "response_le_5d")                                                              \
    XX(RESP_LE_7D, "response_le_7d")                                                              \
    XX(RESP_LE_14D, "response_le_14d")                                                            \
    XX(RESP_LE_30D, "response_le_30d")                                                            \
    XX(RESP_GT_30D, "response_gt_30d")                                                            \
    XX(COMPLETED, "completed")                                                                    \
    XX(COMPLETED_IN_SLA, "completed_in_sla")                                                      \
    XX(AUTO_COMPLETED, "auto_completed")                                                          \
    XX(RESOLVED, "resolved")                                                                      \
    XX(FEEDBACK, "feedback")                                                                      \
    XX(SATISFIED, "satisfied")                                                                    \
    XX(RATED, "rated")                                                                            \
    XX(RATING_SUM, "rating_sum")                                                                  \
    XX(REOPENED, "reopened")                                                                      \
    XX(ESCALATED, "escalated")                                                                    \
    XX(REROUTED, "rerouted")                                                                      \
    XX(ST_FILED, "status_filed")                                                                  \
    XX(ST_VERIFIED, "status_verified")                                                            \
    XX(ST_ARCHIVED, "status_archived")                                                            \
    XX(ST_DISPOSITIONED, "status_dispositioned")                                                  \
    XX(ST_IN_PROGRESS, "status_in_progress")                                                      \
    XX(ST_REROUTED, "status_rerouted")                                                            \
    XX(ST_COMPLETED, "status_completed")                                                          \
    XX(ST_RESOLVED, "status_resolved")                                                            \
    XX(ST_REOPENED, "status_reopened")                                                            \
    XX(DUE_WIB, "due_wib")                                                                        \
    XX(DUE_WITA, "due_wita")                                                                      \
    XX(DUE_WIT, "due_wit")                                                                        \
    XX(DUE_RESPOND_WIB, "due_respond_wib")                                                        \
    XX(DUE_RESPOND_WITA, "due_respond_wita")                                                      \
    XX(DUE_RESPOND_WIT, "due_respond_wit")

typedef enum {
#define XX(name, text) SP_STAT_##name,
    SP_STAT_MAP(XX)
#undef XX
        SP_STAT__COUNT
} sp_stat;

typedef struct {
    int64_t v[SP_STAT__COUNT];
} sp_stats;

/* "filed", "first_response_in_sla", ...; "?" when out of range. */
const char *sp_stat_name(sp_stat s);
/* Upper bounds (ms) of the response-time buckets RESP_LE_1H..RESP_LE_30D (10 entries). */
extern const uint64_t sp_stats_resp_bounds_ms[10];

typedef enum { SP_SCOPE_REGION = 'R', SP_SCOPE_AGENCY = 'A' } sp_scope_kind;

/* Channels with their own slice: simpul.v1.Channel values 1 .. SP_STATS_CHANNELS - 1. */
#define SP_STATS_CHANNELS 9
/* A scope, possibly sliced: a region code or node id, then "#<channel>". */
#define SP_STATS_SCOPE_MAX (SP_MAX_ORIGIN + 2)
#define SP_STATS_KEY_MAX (1 + SP_STATS_SCOPE_MAX + 1 + 8 + 1)
/* The scope of base's slice of one channel ("35.77" 3 -> "35.77#3") into
 * out[SP_STATS_SCOPE_MAX + 1]; channel 0 gives base itself (every channel). SP_ERR_INVAL when
 * base is too long or has '/' or '#', or the channel has no slice. Pure. */
sp_err sp_stats_scope(char *out, const char *base, uint32_t channel);
/* Write the row key (NUL-terminated) into key[SP_STATS_KEY_MAX]; returns its length, or 0 when
 * scope (plain or sliced) is too long or contains '/'. ymd 0 is the gauge row. */
size_t sp_stats_key(char *key, sp_scope_kind kind, const char *scope, uint32_t ymd);
/* Split a row key; SP_ERR_CORRUPT when malformed. scope holds SP_STATS_SCOPE_MAX + 1 bytes. */
sp_err sp_stats_key_parse(const uint8_t *k, size_t n, sp_scope_kind *kind, char *scope,
                          uint32_t *ymd);

/* Sparse encoding: for each non-zero counter, varint(index) then zigzag varint(value).
 * encode needs cap >= SP_STATS_VALUE_MAX; returns the length. decode: SP_ERR_CORRUPT. */
#define SP_STATS_VALUE_MAX (SP_STAT__COUNT * 11)
size_t sp_stats_encode(const sp_stats *st, uint8_t *buf);
sp_err sp_stats_decode(sp_stats *st, const uint8_t *p, size_t n);
int sp_stats_is_zero(const sp_stats *st);
void sp_stats_add(sp_stats *dst, const sp_stats *src, int sign);

/* How many of a row's deadlines (DUE_*) have passed at now: the row's overdue count. */
int64_t sp_stats_overdue(const sp_stats *row, uint32_t ymd, uint64_t now_ms);
/* How many of a row's respond deadlines (DUE_RESPOND_*) have passed at now: complaints still
 * without a first response after their respond deadline (a subset of the overdue ones). */
int64_t sp_stats_unanswered_overdue(const sp_stats *row, uint32_t ymd, uint64_t now_ms);

/* An accumulator of row deltas. */
typedef struct sp_stats_acc sp_stats_acc;
sp_err sp_stats_acc_new(sp_stats_acc **out);
void sp_stats_acc_free(sp_stats_acc *acc); /* accepts NULL */
void sp_stats_acc_reset(sp_stats_acc *acc);
/* How many rows the accumulator holds (zero deltas included). */
size_t sp_stats_acc_rows(const sp_stats_acc *acc);
/* Add sign (+1/-1) times the contribution of s (nothing for status NONE). SP_ERR_NOMEM. */
sp_err sp_stats_contribute(sp_stats_acc *acc, const sp_complaint_state *s, int sign);
/* Visit the rows, in key order, whose delta is not zero; stop when fn returns non-zero. */
typedef int (*sp_stats_visit_fn)(void *arg, const char *key, const sp_stats *delta);
sp_err sp_stats_acc_each(const sp_stats_acc *acc, sp_stats_visit_fn fn, void *arg);

#endif
