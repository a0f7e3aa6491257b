/*
 * The complaint fold: a complaint's state as a pure function of its set of events.
 *
 * The events of one complaint (envelope metadata + decoded body) are sorted by the total order
 * (hlc, origin, seq), deduplicated by (origin, seq), and applied one by one under the
 * lifecycle's rules (docs/lifecycle.md). An event that breaks a rule gets a verdict and changes
 * nothing but the counters of refused events. Same set => same state, byte for byte
 * (sp_state_encode), whatever the arrival order; a late event simply means folding again.
 * The state holds what the next step needs, not the history: its size does not grow with the
 * number of events. The history (each event's verdict and status after it) is what
 * sp_fold_run_history records while folding.
 *
 * Inputs besides the events: the topology (who is responsible for a region, who is whose
 * parent, which agencies exist), the SLA calendar and the SLA policy. Changing any of them
 * changes derived state: run `simpul rebuild`. Nothing here reads a clock: deadlines are
 * stored, and "overdue" or "due" are asked with an explicit `now` (sp_fold_overdue,
 * sp_fold_due_actions).
 *
 * Tracking ids: a ComplaintFiled event's complaint is sp_tracking_number(origin, number) of
 * its filing number (ComplaintFiled.number), or, for filings without a number (made before
 * numbers existed), sp_tracking_id(origin, seq) of its envelope; every later event names the
 * complaint in Event.complaint_id.
 *
 * Thread-safety: all functions are reentrant; a state belongs to one thread at a time; a
 * context is read-only and may be shared.
 */
#ifndef SP_FOLD_H
#define SP_FOLD_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "broker/envelope.h"
#include "node/lifecycle/sla.h"
#include "topology/topology.h"

/* "3577-42K", "KEMENKES-7C", legacy "3577-42": tag (<= 64 chars) + '-' + up to 20 digits +
 * (new format) one check letter. */
#define SP_TRACKING_ID_MAX 96
#define SP_CATEGORY_MAX 128
#define SP_REGION_MAX 32
#define SP_REASON_MAX 128

/* Values equal simpul.v1.ComplaintStatus (schemas/state.proto). */
typedef enum {
    SP_ST_NONE = 0,
    SP_ST_FILED,
    SP_ST_VERIFIED,
    SP_ST_ARCHIVED,
    SP_ST_DISPOSITIONED,
    SP_ST_IN_PROGRESS,
    SP_ST_REROUTED,
    SP_ST_COMPLETED,
    SP_ST_RESOLVED,
    SP_ST_REOPENED,
    SP_ST__COUNT
} sp_status;

/* Values equal simpul.v1.EventKind. */
typedef enum {
    SP_EV_UNKNOWN = 0,
    SP_EV_FILED,
    SP_EV_VERIFIED,
    SP_EV_ARCHIVED,
    SP_EV_DISPOSITIONED,
    SP_EV_FOLLOW_UP,
    SP_EV_COMPLETED,
    SP_EV_FEEDBACK,
    SP_EV_REOPENED,
    SP_EV_ESCALATED,
    SP_EV_REROUTED,
    SP_EV_COMMENTED,
    SP_EV_PRIVACY_RAISED,
    SP_EV__COUNT
} sp_ev_kind;

/* Values equal simpul.v1.ActorRole. */
typedef enum {
    SP_ROLE_UNKNOWN = 0,
    SP_ROLE_ADMIN_PUSAT,
    SP_ROLE_ADMIN_KOORDINATOR,
    SP_ROLE_ADMIN_PENGHUBUNG,
    SP_ROLE_REPORTER,
    SP_ROLE_SYSTEM,
    SP_ROLE__COUNT
} sp_role;

/* Verdicts: X-macro of (name, message); values equal simpul.v1.Verdict. */
#define SP_VERDICT_MAP(XX)                                                                        \
    XX(ACCEPTED, "accepted")                                                                      \
    XX(NOT_FILED, "complaint not filed (yet) at this point")                                      \
    XX(BAD_ID, "complaint_id does not match the filing's tracking id")                            \
    XX(BAD_FIELD, "a required field is missing, malformed or too long")                           \
    XX(UNKNOWN_REGION, "region unknown to the topology")                                          \
    XX(UNKNOWN_AGENCY, "agency unknown to the topology")                                          \
    XX(WRONG_STATUS, "not allowed in the complaint's current status")                             \
    XX(NOT_RESPONSIBLE, "only the node responsible for the region (or national) may do this")     \
    XX(NOT_ASSIGNED, "only the assigned agency may do this")                                      \
    XX(NOT_INTAKE, "only the reporter's intake node may do this")                                 \
    XX(WRONG_ROLE, "the actor's role may not do this")                                            \
    XX(NOT_DUE, "no deadline has passed that would allow this")                                   \
    XX(NOT_PARENT, "escalation must go to the parent of the current holder")                      \
    XX(NOT_A_RAISE, "privacy can only be raised")                                                 \
    XX(UNKNOWN_KIND, "event kind unknown to this version")

typedef enum {
#define XX(name, msg) SP_V_##name,
    SP_VERDICT_MAP(XX)
#undef XX
        SP_V__COUNT
} sp_verdict;

/*
 * One event as the fold sees it. Strings are borrowed (never NULL: "" when absent) and must
 * outlive the fold call; sp_fold_decode fills one from an envelope.
 */
typedef struct {
    const char *origin; /* envelope origin: the acting node */
    uint64_t seq, hlc;
    const char *complaint; /* Event.complaint_id */
    sp_ev_kind kind;
    sp_role role;
    /* Body fields the lifecycle uses (others, like texts, never change state). */
    uint32_t type, channel, privacy;  /* Filed (privacy also PrivacyRaised) */
    uint64_t number;                  /* Filed: the intake's filing number, 0 in legacy ones */
    const char *category, *region;    /* Filed */
    const char *agency;               /* Dispositioned.agency, Escalated.to_agency */
    const char *reason;               /* Archived, Rerouted, Escalated, Reopened */
    uint32_t satisfied, rating;       /* ReporterFeedback */
} sp_fold_event;

/* One step of a complaint's history: an event and what the fold made of it. */
typedef struct {
    char origin[SP_MAX_ORIGIN + 1];
    uint64_t seq, hlc;
    uint8_t kind, role, verdict, status_after;
} sp_history_entry;

/* The fold's state. Every field is in the serialized form, so a stored state can be resumed
 * (sp_fold_apply) exactly as if it had never left memory. Owns no memory: a plain value. */
typedef struct {
    char id[SP_TRACKING_ID_MAX];
    sp_status status;
    uint32_t type, channel, privacy;
    char category[SP_CATEGORY_MAX + 1];
    char region[SP_REGION_MAX + 1];
    sp_timezone tz;
    char intake[SP_MAX_ORIGIN + 1];
    char responsible[SP_MAX_ORIGIN + 1]; /* whose admins verify / disposition */
    char agency[SP_MAX_ORIGIN + 1];      /* assigned agency, "" when none */
    char archive_reason[SP_REASON_MAX + 1];
    char last_rerouted_by[SP_MAX_ORIGIN + 1];
    uint64_t filed_at, verified_at, archived_at, dispositioned_at, first_response_at,
        last_follow_up_at, completed_at, resolved_at, reopened_at, escalated_at, rerouted_at,
        updated_at;
    uint64_t verify_due, dispose_due, respond_due, complete_due, autoclose_at;
    uint8_t verify_late, first_response_late, completed_late, complete_escalated, auto_completed;
    uint32_t follow_ups, reroutes, escalations, reopens, comments, rejected;
    uint8_t has_feedback, satisfied;
    uint32_t rating;
    /* The last event applied, in the total order (hlc, origin, seq): where sp_fold_apply
     * continues; events == 0 means none yet. */
    uint64_t last_hlc, last_seq;
    char last_origin[SP_MAX_ORIGIN + 1];
    uint32_t events;    /* events applied, accepted or refused */
    uint64_t filed_seq; /* envelope seq of the accepted ComplaintFiled (its origin: intake) */
} sp_complaint_state;

/* What the fold depends on besides events. topo is required; cal NULL means only weekends are
 * off; policy NULL means sp_sla_policy_default. All borrowed.
 * self is the node the derived state is kept for (NULL: fold every complaint). A node folds
 * only the complaints taken in at a node whose feed it keeps (sp_topology_keeps_region): a
 * kabupaten stores the ministries' feeds, but a ministry's follow-up on a complaint filed in
 * another province can never meet its filing there, so it is stored and relayed, not folded
 * (node/lifecycle/complaints.h). */
typedef struct {
    const sp_topology *topo;
    const sp_calendar *cal;
    const sp_sla_policy *policy;
    const sp_topo_node *self;
} sp_fold_ctx;

/* ---- tracking ids ---- */

/*
 * A tracking number is what a citizen reads over the phone: "<tag>-<number><check>", e.g.
 * "3577-12E" for the 12th complaint filed at Kota Madiun. The tag is the intake node's id with
 * a leading "kota-", "kab-", "prov-" or "opd-" removed, its dashes dropped and uppercased
 * (opd-3577-pupr -> "3577PUPR", kemenkes -> "KEMENKES"); the number counts the node's filings
 * from 1 with no gaps; the check letter (from 23 letters without I, O, Q) is a weighted sum mod
 * 23 over tag and digits, so that any single wrong digit and any swap of two neighbouring
 * characters is caught. Ids compare in upper case; sp_tracking_normalize accepts what a
 * person types. Legacy ids (filings without a number) are "<old tag>-<seq>" with the old tag
 * ("OPD-3577-PUPR-13") and no check letter; they stay valid.
 */
#define SP_TRACKING_TAG_MAX (SP_MAX_ORIGIN + 1)

/* The tag of intake node origin into out. SP_ERR_INVAL when it would be empty. */
sp_err sp_tracking_tag(char out[SP_TRACKING_TAG_MAX], const char *origin);
/* The tracking id of filing `number` (>= 1) at origin. SP_ERR_INVAL for an empty tag or
 * number 0. Thread-safe. */
sp_err sp_tracking_number(char out[SP_TRACKING_ID_MAX], const char *origin, uint64_t number);
/* The legacy tracking id of a filing without a number, from its envelope (origin, seq):
 * kota-3577 42 -> "3577-42", kemenkes 42 -> "KEMENKES-42". SP_ERR_INVAL for an empty origin or
 * seq 0. Thread-safe. */
sp_err sp_tracking_id(char out[SP_TRACKING_ID_MAX], const char *origin, uint64_t seq);
/* Whether s is a tracking id in canonical (upper-case) form: a legacy one
 * ([A-Z0-9._-]+ '-' [1-9][0-9]*) or a numbered one whose check letter matches. Events naming
 * anything else (e.g. the CLI's "TEST-..." events) belong to no complaint. */
int sp_tracking_id_valid(const char *s);
/* What a person typed (any case, blanks around) to the canonical id in out. SP_ERR_INVAL when
 * it is no tracking id at all; SP_ERR_REJECTED when it has the form of a numbered id whose
 * check letter does not match (a character was misheard or mistyped). */
sp_err sp_tracking_normalize(const char *in, char out[SP_TRACKING_ID_MAX]);
/* The filing number of a numbered id (0 for a legacy or invalid one). */
uint64_t sp_tracking_id_number(const char *id);

/* ---- folding ---- */

/* A fresh state for complaint id (status NONE, no event). */
void sp_state_init(sp_complaint_state *s, const char *id);
/* Zero the state (it owns nothing; kept so that callers need not know). Accepts NULL. */
void sp_state_clear(sp_complaint_state *s);
/* Copy (dst is overwritten, not cleared). Never fails today; SP_ERR_NOMEM reserved. */
sp_err sp_state_copy(sp_complaint_state *dst, const sp_complaint_state *src);

/* Total order of events: <0, 0, >0 by (hlc, origin, seq). */
int sp_fold_event_cmp(const sp_fold_event *a, const sp_fold_event *b);
/* Whether ev sorts after every event already in s (then sp_fold_apply continues the fold;
 * otherwise the complaint must be folded again from all its events). */
int sp_fold_can_append(const sp_complaint_state *s, const sp_fold_event *ev);
/* Apply one event that sorts after everything in s (caller checked sp_fold_can_append): rules,
 * effects, the last-event position. Returns SP_OK (a refused event is not an error: see
 * *verdict, which may be NULL). */
sp_err sp_fold_apply(const sp_fold_ctx *ctx, sp_complaint_state *s, const sp_fold_event *ev,
                     sp_verdict *verdict);
/* Fold complaint id from n events in any order (duplicates by (origin, seq) are dropped; ev is
 * not modified). out is initialised here (sp_state_clear it even on error). SP_ERR_NOMEM. */
sp_err sp_fold_run(const sp_fold_ctx *ctx, const char *id, const sp_fold_event *ev, size_t n,
                   sp_complaint_state *out);
/* sp_fold_run that also records the history: *hist (malloc'ed, caller frees; NULL when
 * *n_hist is 0) gets one entry per event applied, in the total order, and *at (may be NULL;
 * malloc'ed likewise) the index in ev of each entry's event. SP_ERR_NOMEM. */
sp_err sp_fold_run_history(const sp_fold_ctx *ctx, const char *id, const sp_fold_event *ev,
                           size_t n, sp_complaint_state *out, sp_history_entry **hist,
                           size_t **at, size_t *n_hist);

/* ---- reading a state at a given time ---- */

/* Earliest deadline the complaint is currently waiting on (0: none; closed complaints have
 * none). Overdue means now > that deadline. */
uint64_t sp_fold_active_deadline(const sp_complaint_state *s);
int sp_fold_overdue(const sp_complaint_state *s, uint64_t now_ms);
/* Whether the status is closed (ARCHIVED, RESOLVED) or open. COMPLETED is not closed: the
 * reporter may still appeal. */
int sp_status_closed(sp_status st);
/* The node that currently holds the complaint: the assigned agency when there is one,
 * else the responsible node. */
const char *sp_fold_holder(const sp_complaint_state *s);

/* A system event the daemon of node `author` should write now (its timer calls
 * sp_fold_due_actions). For ESCALATED: Escalated{to_agency = target, reason}; for COMPLETED
 * (auto-completion): Completed{summary = reason}; both with actor_role "system". */
typedef struct {
    sp_ev_kind kind;
    char author[SP_MAX_ORIGIN + 1];
    char target[SP_MAX_ORIGIN + 1];
    const char *reason; /* static: "sla-verify", "sla-dispose", "sla-respond", "sla-complete",
                           "auto-complete" */
    uint64_t due_at;    /* the deadline that passed */
} sp_due_action;

/* The system event due at now, if any: an auto-completion (IN_PROGRESS past autoclose_at,
 * authored by the assigned agency) or else an escalation (a verify/dispose/respond deadline, or
 * the completion deadline once, has passed; authored by the holder's parent, which becomes the
 * holder). Returns how many were written to out (0 or 1; 0 when cap is 0). The event is
 * accepted by the fold when written with an hlc after now_ms; a daemon calls this from its
 * timer for the complaints it is the author for. Pure. */
size_t sp_fold_due_actions(const sp_fold_ctx *ctx, const sp_complaint_state *s, uint64_t now_ms,
                           sp_due_action *out, size_t cap);

/* ---- names ---- */
const char *sp_status_name(sp_status st);   /* "filed", "in-progress", ...; "?" */
sp_err sp_status_parse(const char *name, sp_status *out);
const char *sp_ev_kind_name(sp_ev_kind k);  /* "filed", "follow-up", ... */
const char *sp_role_name(sp_role r);        /* "admin-pusat", ... */
sp_role sp_role_parse(const char *s);       /* SP_ROLE_UNKNOWN when not a role */
const char *sp_verdict_name(sp_verdict v);  /* "NOT_ASSIGNED" */
const char *sp_verdict_message(sp_verdict v);

/* ---- decoding events, encoding states (node/lifecycle/fold_codec.c) ---- */

/* A decoded Event body that sp_fold_event strings point into. */
typedef struct sp_fold_body sp_fold_body;

/* Decode env's body into *ev (its strings borrow from *body and env; free *body with
 * sp_fold_body_free after use). *complaint_id receives the complaint the event belongs to
 * (tracking id of (origin, seq) for ComplaintFiled, else Event.complaint_id).
 * SP_ERR_DECODE: not an Event; SP_ERR_NOT_FOUND: an Event that belongs to no complaint
 * (complaint_id not a tracking id); in both cases *body is NULL. SP_ERR_NOMEM. */
sp_err sp_fold_decode(const sp_envelope *env, sp_fold_event *ev, sp_fold_body **body,
                      char complaint_id[SP_TRACKING_ID_MAX]);
/* Same from raw fields (body bytes borrowed). */
sp_err sp_fold_decode_raw(const char *origin, uint64_t seq, uint64_t hlc, const uint8_t *p,
                          size_t n, sp_fold_event *ev, sp_fold_body **body,
                          char complaint_id[SP_TRACKING_ID_MAX]);
void sp_fold_body_free(sp_fold_body *body);

/* Deterministic serialization (ComplaintState of schemas/state.proto). encode: *out is
 * malloc'ed (caller frees); SP_ERR_NOMEM. decode: s is initialised (sp_state_clear it);
 * SP_ERR_CORRUPT on bytes that are not a valid state. decode(encode(s)) == s exactly. */
sp_err sp_state_encode(const sp_complaint_state *s, uint8_t **out, size_t *n);
sp_err sp_state_decode(sp_complaint_state *s, const uint8_t *p, size_t n);

/* The fields of an event the fold reads, in a compact form (the value of the complaint's
 * event index, node/lifecycle/complaints.h), so that re-folding, the history and rebuild need
 * not decode envelopes. pack: a function of ev alone (deterministic); complaint_id is the
 * complaint it belongs to (ev->complaint equal to it costs nothing); *out malloc'ed (caller
 * frees); SP_ERR_NOMEM. unpack: ev's strings borrow from p (which must outlive ev) and from
 * origin and complaint_id; SP_ERR_CORRUPT on bytes pack did not write. */
sp_err sp_fold_event_pack(const sp_fold_event *ev, const char *complaint_id, uint8_t **out,
                          size_t *n);
sp_err sp_fold_event_unpack(sp_fold_event *ev, const char *origin, uint64_t seq, uint64_t hlc,
                            const char *complaint_id, const uint8_t *p, size_t n);

#endif
