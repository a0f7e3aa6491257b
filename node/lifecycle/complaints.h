/*
 * Complaint state and statistics in the node's store, maintained incrementally as events are
 * committed to the feed log, rebuildable from the feeds, and readable by the HTTP API.
 *
 * Invariants:
 *  - derived records are written in the same WriteBatch as the events that caused them (the
 *    feed log's `stage` hook), so state on disk always matches the stored events;
 *  - a complaint's state is sp_fold_run over all its stored events. The common case (a new
 *    event later in the total order than everything seen) applies it to the stored state; a
 *    late event re-folds the complaint from its event index (e/) plus the new ones;
 *  - the stored state has a fixed size whatever the number of events: the history is not
 *    stored but recomputed from the event index when asked for (sp_complaints_history);
 *  - statistics rows change by (new state's contribution - old state's contribution), which
 *    are pure functions of state, so the result equals `simpul rebuild` byte for byte;
 *  - events that are not Events, or that belong to no complaint (node/lifecycle/fold.h), are skipped;
 *  - events of complaints taken in at a node whose feed this node does not keep (sp_fold_ctx.self)
 *    are not folded: their filing never arrives, so they would only make unfiled states.
 *
 * Layout of the complaints column family (text keys):
 *   s/<id>                       -> ComplaintState (schemas/state.proto)
 *   i/S/<status 2 digits>/<id>   -> ""   status index
 *   i/R/<region code>/<id>       -> ""   region index
 *   i/A/<holder>/<id>            -> ""   agency index (assigned agency, else responsible node)
 *   i/D/<deadline 16 hex>/<id>   -> ""   active-deadline index (open complaints with one)
 *   i/N/<intake>/<number 16 hex> -> ""   filing numbers of each intake node (numbered ids)
 *   e/<id>/<hlc 16 hex>/<origin>/<seq 16 hex> -> the event as the fold reads it
 *                                (sp_fold_event_pack): every stored event of the complaint
 * Complaints with no accepted filing yet (status NONE) have only their s/ and e/ records. The stats
 * column family holds the rows of node/lifecycle/fold_stats.h.
 *
 * Thread-safety: stage runs under the feed log's write lock; reads (get, list, stats) may run
 * concurrently from any thread and see whole batches (RocksDB). The context (topology,
 * calendar, policy) is borrowed and must outlive the handle.
 */
#ifndef SP_COMPLAINTS_H
#define SP_COMPLAINTS_H

#include <stddef.h>
#include <stdint.h>

#include "broker/feedlog.h"
#include "broker/store.h"
#include "node/lifecycle/fold.h"
#include "node/lifecycle/fold_stats.h"

/* The node's column families beside the log's (broker/store.h), in this order: pass
 * SP_NODE_CFS to sp_store_open. */
#define SP_CF_COMPLAINTS ((sp_cf)SP_CF_APP)
#define SP_CF_STATS ((sp_cf)(SP_CF_APP + 1))
/* The intake's own records (node/intake/idempotency.h): not derived, so rebuild keeps them. */
#define SP_CF_INTAKE ((sp_cf)(SP_CF_APP + 2))
extern const char *const sp_node_cfs[]; /* {"complaints", "stats", "intake", NULL} */
#define SP_NODE_CFS sp_node_cfs

typedef struct sp_complaints sp_complaints;

/* A handle on st (borrowed, must outlive it) folding with ctx (borrowed, copied by value;
 * what it points to must outlive the handle). The caller owns *out. SP_ERR_NOMEM,
 * SP_ERR_INVAL (no topology). */
sp_err sp_complaints_open(sp_complaints **out, sp_store *st, const sp_fold_ctx *ctx);
void sp_complaints_close(sp_complaints *c); /* accepts NULL */

/* The layout of derived state (index keys, statistics rows). A store records the format its
 * state was computed in (key "format" of the complaints column family; a new store gets the
 * current one at open, state from before formats were recorded is format 1). State in another
 * format than SP_COMPLAINTS_FORMAT must be recomputed with sp_complaints_rebuild before the
 * log commits anything: the daemon does so at start. History: 1 the first; 2 filing numbers
 * (i/N/), statistics sliced by channel and respond deadlines (due_respond_*); 3 the state
 * without its history (ComplaintState version 2: the last event's position instead) and the
 * event index (e/); 4 only the complaints of intake nodes whose feed the node keeps are folded
 * (sp_fold_ctx.self). */
#define SP_COMPLAINTS_FORMAT 4
/* The format the store's derived state is in, into *found. SP_ERR_STORE, SP_ERR_CORRUPT. */
sp_err sp_complaints_format(sp_complaints *c, uint32_t *found);

/* The feed log's stage hook (arg is the sp_complaints *): adds the derived records for envs to
 * b. Errors abort the commit: SP_ERR_NOMEM, SP_ERR_STORE (a read failed), SP_ERR_CORRUPT (a
 * stored state or an event record of its index is unreadable; logged with the complaint id).
 * A daemon with its own hooks calls this from its stage function. */
sp_err sp_complaints_stage(void *c, sp_wbatch *b, const sp_envelope *const *envs,
                           const uint64_t *offsets, size_t n);
/* Hooks with stage = sp_complaints_stage, arg = c (committed unset). */
sp_feedlog_hooks sp_complaints_hooks(sp_complaints *c);

typedef struct {
    uint64_t events;   /* complaint events staged */
    uint64_t skipped;  /* envelopes that are no complaint event */
    uint64_t foreign;  /* events of complaints this node does not fold (sp_fold_ctx.self) */
    uint64_t appended; /* complaint updates applied to the stored state */
    uint64_t refolds;  /* complaint updates that re-folded from all events (late arrivals) */
} sp_complaints_counters;
/* A snapshot of the counters (thread-safe). */
void sp_complaints_counters_get(sp_complaints *c, sp_complaints_counters *out);

/* ---- reads ---- */

/* The highest filing number of a filed complaint taken in at intake (0 when none): where the
 * intake node's numbering resumes after a restart or a rebuild. SP_ERR_STORE, SP_ERR_CORRUPT. */
sp_err sp_complaints_last_number(sp_complaints *c, const char *intake, uint64_t *out);

/* The state of complaint id into out, which is initialised on every path (sp_state_clear it). SP_ERR_NOT_FOUND when the node has
 * no event of it, or only events and no accepted filing (status NONE) if include_unfiled is 0.
 * SP_ERR_CORRUPT, SP_ERR_STORE, SP_ERR_NOMEM. */
sp_err sp_complaints_get(sp_complaints *c, const char *id, int include_unfiled,
                         sp_complaint_state *out);

/* The history of complaint id: one entry per stored event, in the total order, with the
 * verdict the fold gave it and the status after it, computed by folding the complaint's
 * indexed events again (the state does not store it). *out (malloc'ed, caller frees; NULL
 * when *n is 0) receives the entries. envs (may be NULL) receives an array aligned with
 * *out of the stored envelopes (sp_envelopes_free(*envs, *n)), read from the feeds; an
 * envelope missing there is left zeroed (seq 0). SP_ERR_NOT_FOUND when the node has no event
 * of id, SP_ERR_CORRUPT, SP_ERR_STORE, SP_ERR_NOMEM. Thread-safe like the other reads; the
 * history may be one batch newer than a state read just before. */
sp_err sp_complaints_history(sp_complaints *c, const char *id, sp_history_entry **out,
                             size_t *n, sp_envelope **envs);

typedef struct {
    uint32_t status_mask; /* bit (1u << sp_status) per wanted status; 0: every filed one */
    const char *region;   /* "35" matches "35" and "35.xx"; NULL: any */
    const char *agency;   /* holder (assigned agency, else responsible node); NULL: any */
    int overdue_only;     /* only complaints overdue at now_ms */
    uint64_t now_ms;
    const char *category;  /* "infrastruktur" matches it and "infrastruktur/..."; NULL: any */
    uint32_t channel_mask; /* bit (1u << simpul.v1.Channel) per wanted channel; 0: any */
    uint64_t filed_from, filed_to; /* filed_at within [from, to] (unix ms); 0: no bound */
} sp_complaint_filter;

#define SP_CURSOR_MAX 200

typedef struct {
    sp_complaint_state *v; /* n states, owned by the page */
    size_t n;
    char next[SP_CURSOR_MAX]; /* cursor for the next page; "" when this was the last */
} sp_complaint_page;

/* Up to limit (1..1000) complaints matching f, after cursor (NULL or "" for the first page;
 * else a page's `next`, with the same filter). Order: by the index used: agency, then region,
 * then (overdue) deadline, then status, then id. Errors: SP_ERR_INVAL (limit, or a cursor that
 * does not belong to this filter), SP_ERR_CORRUPT, SP_ERR_STORE, SP_ERR_NOMEM. On success the
 * caller frees out with sp_complaint_page_free. */
sp_err sp_complaints_list(sp_complaints *c, const sp_complaint_filter *f, const char *cursor,
                          size_t limit, sp_complaint_page *out);
void sp_complaint_page_free(sp_complaint_page *p); /* accepts NULL */

/* In the statistics reads, scope is a region code, a node id, or one of their channel slices
 * (sp_stats_scope). */

/* Sum of the dated rows of one scope with from_ymd <= day <= to_ymd (YYYYMMDD). */
sp_err sp_complaints_stats_sum(sp_complaints *c, sp_scope_kind kind, const char *scope,
                               uint32_t from_ymd, uint32_t to_ymd, sp_stats *out);
/* Visit the dated rows of one scope in [from_ymd, to_ymd], in date order (trends). */
typedef int (*sp_stats_day_fn)(void *arg, uint32_t ymd, const sp_stats *row);
sp_err sp_complaints_stats_days(sp_complaints *c, sp_scope_kind kind, const char *scope,
                                uint32_t from_ymd, uint32_t to_ymd, sp_stats_day_fn fn, void *arg);
/* The current picture of one scope: the status gauges (ST_*) and how many open complaints are
 * overdue at now_ms. */
sp_err sp_complaints_stats_now(sp_complaints *c, sp_scope_kind kind, const char *scope,
                               uint64_t now_ms, sp_stats *gauges, int64_t *overdue);
typedef struct {
    sp_stats gauges;            /* complaints per status (ST_*) */
    int64_t overdue;            /* open complaints past their active deadline */
    int64_t unanswered_overdue; /* of those, dispositioned ones past their respond deadline
                                   with no first response yet */
} sp_stats_current;
/* The same picture with the unanswered ones too, into out. SP_ERR_STORE, SP_ERR_CORRUPT. */
sp_err sp_complaints_stats_current(sp_complaints *c, sp_scope_kind kind, const char *scope,
                                   uint64_t now_ms, sp_stats_current *out);

/* ---- rebuild ---- */

/* phase is "wipe", "scan" (feeds -> event index) or "fold" (index -> states, statistics);
 * total is 0 when unknown. */
typedef void (*sp_rebuild_progress_fn)(void *arg, const char *phase, uint64_t done,
                                       uint64_t total);

typedef struct {
    uint64_t events;     /* complaint events folded */
    uint64_t skipped;    /* envelopes that are no complaint event */
    uint64_t foreign;    /* events of complaints this node does not fold (sp_fold_ctx.self) */
    uint64_t complaints; /* states written */
    uint64_t stats_rows; /* statistics rows written */
} sp_rebuild_result;

/* Wipe the complaints and stats column families and recompute them from the feeds, in format
 * SP_COMPLAINTS_FORMAT: the result is byte-identical to incremental maintenance over the same
 * events. Not concurrent with
 * writers (the CLI runs it with the data directory locked). Memory is bounded, whatever the
 * number of events: the first pass writes the event index in bounded batches, the second
 * walks it complaint by complaint and accumulates statistics in bounded chunks. progress (may
 * be NULL) is called every 64k events and at each phase's end (done == total). Errors: SP_ERR_STORE, SP_ERR_CORRUPT
 * (an undecodable envelope in feeds), SP_ERR_NOMEM, SP_ERR_INVAL (no topology). */
sp_err sp_complaints_rebuild(sp_store *st, const sp_fold_ctx *ctx, sp_rebuild_progress_fn progress,
                             void *arg, sp_rebuild_result *res);

#endif
