/*
 * Bytes in and out of the fold: Event bodies (schemas/simpul.proto) into sp_fold_event, and
 * sp_complaint_state to and from ComplaintState (schemas/state.proto). protobuf-c packs fields
 * in field-number order and leaves zero values out, so the encoding of a state is a function
 * of the state alone: what makes incremental state and `simpul rebuild` byte-identical.
 */
#include <stdlib.h>
#include <string.h>

#include "base/varint.h"
#include "node/lifecycle/fold.h"
#include "schemas/simpul.pb-c.h"
#include "schemas/state.pb-c.h"

/* The proto enums and the C enums must agree value for value (checked on the last of each). */
#define SAME(a, b) ((int)(a) == (int)(b))
_Static_assert(SAME(SIMPUL__V1__COMPLAINT_STATUS__STATUS_REOPENED, SP_ST_REOPENED) &&
                   SP_ST__COUNT == 10,
               "ComplaintStatus and sp_status must agree");
_Static_assert(SAME(SIMPUL__V1__EVENT_KIND__KIND_PRIVACY_RAISED, SP_EV_PRIVACY_RAISED) &&
                   SP_EV__COUNT == 13,
               "EventKind and sp_ev_kind must agree");
_Static_assert(SAME(SIMPUL__V1__ACTOR_ROLE__ROLE_SYSTEM, SP_ROLE_SYSTEM), "ActorRole and sp_role");
_Static_assert(SAME(SIMPUL__V1__VERDICT__REJ_UNKNOWN_KIND, SP_V_UNKNOWN_KIND) && SP_V__COUNT == 15,
               "Verdict and sp_verdict must agree");
#undef SAME

#define STATE_VERSION 2 /* 1 held the history (field 80) */

struct sp_fold_body {
    Simpul__V1__Event *msg;
};

void sp_fold_body_free(sp_fold_body *body) {
    if (!body) return;
    simpul__v1__event__free_unpacked(body->msg, NULL);
    free(body);
}

static const char *str_or_empty(const char *s) {
    return s ? s : "";
}

static void fill_body(sp_fold_event *ev, const Simpul__V1__Event *m) {
    switch (m->body_case) {
    case SIMPUL__V1__EVENT__BODY_FILED:
        ev->kind = SP_EV_FILED;
        ev->type = (uint32_t)m->filed->type;
        ev->channel = (uint32_t)m->filed->channel;
        ev->privacy = (uint32_t)m->filed->privacy;
        ev->category = str_or_empty(m->filed->category);
        ev->region = str_or_empty(m->filed->region);
        ev->number = m->filed->number;
        break;
    case SIMPUL__V1__EVENT__BODY_VERIFIED: ev->kind = SP_EV_VERIFIED; break;
    case SIMPUL__V1__EVENT__BODY_ARCHIVED:
        ev->kind = SP_EV_ARCHIVED;
        ev->reason = str_or_empty(m->archived->reason);
        break;
    case SIMPUL__V1__EVENT__BODY_DISPOSITIONED:
        ev->kind = SP_EV_DISPOSITIONED;
        ev->agency = str_or_empty(m->dispositioned->agency);
        break;
    case SIMPUL__V1__EVENT__BODY_FOLLOW_UP: ev->kind = SP_EV_FOLLOW_UP; break;
    case SIMPUL__V1__EVENT__BODY_COMPLETED: ev->kind = SP_EV_COMPLETED; break;
    case SIMPUL__V1__EVENT__BODY_FEEDBACK:
        ev->kind = SP_EV_FEEDBACK;
        ev->satisfied = m->feedback->satisfied ? 1 : 0;
        ev->rating = m->feedback->rating;
        break;
    case SIMPUL__V1__EVENT__BODY_REOPENED:
        ev->kind = SP_EV_REOPENED;
        ev->reason = str_or_empty(m->reopened->reason);
        break;
    case SIMPUL__V1__EVENT__BODY_ESCALATED:
        ev->kind = SP_EV_ESCALATED;
        ev->agency = str_or_empty(m->escalated->to_agency);
        ev->reason = str_or_empty(m->escalated->reason);
        break;
    case SIMPUL__V1__EVENT__BODY_REROUTED:
        ev->kind = SP_EV_REROUTED;
        ev->reason = str_or_empty(m->rerouted->reason);
        ev->agency = str_or_empty(m->rerouted->suggested_agency);
        break;
    case SIMPUL__V1__EVENT__BODY_COMMENTED: ev->kind = SP_EV_COMMENTED; break;
    case SIMPUL__V1__EVENT__BODY_PRIVACY_RAISED:
        ev->kind = SP_EV_PRIVACY_RAISED;
        ev->privacy = (uint32_t)m->privacy_raised->privacy;
        break;
    default: ev->kind = SP_EV_UNKNOWN; break; /* a body from a newer schema */
    }
}

sp_err sp_fold_decode_raw(const char *origin, uint64_t seq, uint64_t hlc, const uint8_t *p,
                          size_t n, sp_fold_event *ev, sp_fold_body **body,
                          char complaint_id[SP_TRACKING_ID_MAX]) {
    *body = NULL;
    Simpul__V1__Event *m = simpul__v1__event__unpack(NULL, n, p);
    if (!m) return SP_ERR_DECODE;
    memset(ev, 0, sizeof *ev);
    ev->origin = origin;
    ev->seq = seq;
    ev->hlc = hlc;
    ev->complaint = str_or_empty(m->complaint_id);
    ev->role = sp_role_parse(m->actor_role);
    ev->category = ev->region = ev->agency = ev->reason = "";
    fill_body(ev, m);
    sp_err rv = SP_OK;
    if (ev->kind == SP_EV_FILED && ev->number)
        rv = sp_tracking_number(complaint_id, origin, ev->number);
    else if (ev->kind == SP_EV_FILED)
        rv = sp_tracking_id(complaint_id, origin, seq);
    else if (sp_tracking_id_valid(ev->complaint))
        strcpy(complaint_id, ev->complaint); /* valid ids fit */
    else
        rv = SP_ERR_NOT_FOUND;
    if (rv == SP_OK && !(*body = malloc(sizeof **body))) rv = SP_ERR_NOMEM;
    if (rv != SP_OK) {
        simpul__v1__event__free_unpacked(m, NULL);
        return rv == SP_ERR_INVAL ? SP_ERR_NOT_FOUND : rv;
    }
    (*body)->msg = m;
    return SP_OK;
}

sp_err sp_fold_decode(const sp_envelope *env, sp_fold_event *ev, sp_fold_body **body,
                      char complaint_id[SP_TRACKING_ID_MAX]) {
    return sp_fold_decode_raw(env->origin, env->seq, env->hlc, env->body, env->body_len, ev, body,
                              complaint_id);
}

/* ---- states ---- */

/* protobuf-c wants char * even for fields it only reads. */
#define RW(s) ((char *)(s))

static void put_scalars(Simpul__V1__ComplaintState *m, const sp_complaint_state *s) {
    m->version = STATE_VERSION;
    m->id = RW(s->id);
    m->status = (Simpul__V1__ComplaintStatus)s->status;
    m->type = s->type;
    m->channel = s->channel;
    m->privacy = s->privacy;
    m->category = RW(s->category);
    m->region = RW(s->region);
    m->timezone = (uint32_t)s->tz;
    m->intake = RW(s->intake);
    m->responsible = RW(s->responsible);
    m->agency = RW(s->agency);
    m->archive_reason = RW(s->archive_reason);
    m->last_rerouted_by = RW(s->last_rerouted_by);
    m->filed_at = s->filed_at;
    m->verified_at = s->verified_at;
    m->archived_at = s->archived_at;
    m->dispositioned_at = s->dispositioned_at;
    m->first_response_at = s->first_response_at;
    m->last_follow_up_at = s->last_follow_up_at;
    m->completed_at = s->completed_at;
    m->resolved_at = s->resolved_at;
    m->reopened_at = s->reopened_at;
    m->escalated_at = s->escalated_at;
    m->rerouted_at = s->rerouted_at;
    m->updated_at = s->updated_at;
    m->verify_due = s->verify_due;
    m->dispose_due = s->dispose_due;
    m->respond_due = s->respond_due;
    m->complete_due = s->complete_due;
    m->autoclose_at = s->autoclose_at;
    m->verify_late = s->verify_late;
    m->first_response_late = s->first_response_late;
    m->completed_late = s->completed_late;
    m->complete_escalated = s->complete_escalated;
    m->auto_completed = s->auto_completed;
    m->follow_ups = s->follow_ups;
    m->reroutes = s->reroutes;
    m->escalations = s->escalations;
    m->reopens = s->reopens;
    m->comments = s->comments;
    m->rejected = s->rejected;
    m->has_feedback = s->has_feedback;
    m->satisfied = s->satisfied;
    m->rating = s->rating;
    m->last_hlc = s->last_hlc;
    m->last_origin = RW(s->last_origin);
    m->last_seq = s->last_seq;
    m->events = s->events;
    m->filed_seq = s->filed_seq;
}

sp_err sp_state_encode(const sp_complaint_state *s, uint8_t **out, size_t *n) {
    Simpul__V1__ComplaintState m = SIMPUL__V1__COMPLAINT_STATE__INIT;
    put_scalars(&m, s);
    size_t len = simpul__v1__complaint_state__get_packed_size(&m);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) return SP_ERR_NOMEM;
    simpul__v1__complaint_state__pack(&m, buf);
    *out = buf;
    *n = len;
    return SP_OK;
}

/* Copy a decoded string into a fixed field; 0 when it does not fit (corrupt state). */
static int take(char *dst, size_t cap, const char *src) {
    size_t n = strlen(str_or_empty(src));
    if (n >= cap) return 0;
    memcpy(dst, str_or_empty(src), n + 1);
    return 1;
}

#define TAKE(field, src) take((field), sizeof(field), (src))

static int get_strings(sp_complaint_state *s, const Simpul__V1__ComplaintState *m) {
    return TAKE(s->id, m->id) && TAKE(s->category, m->category) && TAKE(s->region, m->region) &&
           TAKE(s->intake, m->intake) && TAKE(s->responsible, m->responsible) &&
           TAKE(s->agency, m->agency) && TAKE(s->archive_reason, m->archive_reason) &&
           TAKE(s->last_rerouted_by, m->last_rerouted_by) && TAKE(s->last_origin, m->last_origin);
}

static void get_scalars(sp_complaint_state *s, const Simpul__V1__ComplaintState *m) {
    s->status = (sp_status)m->status;
    s->type = m->type;
    s->channel = m->channel;
    s->privacy = m->privacy;
    s->tz = (sp_timezone)m->timezone;
    s->filed_at = m->filed_at;
    s->verified_at = m->verified_at;
    s->archived_at = m->archived_at;
    s->dispositioned_at = m->dispositioned_at;
    s->first_response_at = m->first_response_at;
    s->last_follow_up_at = m->last_follow_up_at;
    s->completed_at = m->completed_at;
    s->resolved_at = m->resolved_at;
    s->reopened_at = m->reopened_at;
    s->escalated_at = m->escalated_at;
    s->rerouted_at = m->rerouted_at;
    s->updated_at = m->updated_at;
    s->verify_due = m->verify_due;
    s->dispose_due = m->dispose_due;
    s->respond_due = m->respond_due;
    s->complete_due = m->complete_due;
    s->autoclose_at = m->autoclose_at;
    s->verify_late = (uint8_t)(m->verify_late != 0);
    s->first_response_late = (uint8_t)(m->first_response_late != 0);
    s->completed_late = (uint8_t)(m->completed_late != 0);
    s->complete_escalated = (uint8_t)(m->complete_escalated != 0);
    s->auto_completed = (uint8_t)(m->auto_completed != 0);
    s->follow_ups = m->follow_ups;
    s->reroutes = m->reroutes;
    s->escalations = m->escalations;
    s->reopens = m->reopens;
    s->comments = m->comments;
    s->rejected = m->rejected;
    s->has_feedback = (uint8_t)(m->has_feedback != 0);
    s->satisfied = (uint8_t)(m->satisfied != 0);
    s->rating = m->rating;
    s->last_hlc = m->last_hlc;
    s->last_seq = m->last_seq;
    s->events = m->events;
    s->filed_seq = m->filed_seq;
}

sp_err sp_state_decode(sp_complaint_state *s, const uint8_t *p, size_t n) {
    sp_state_init(s, "");
    Simpul__V1__ComplaintState *m = simpul__v1__complaint_state__unpack(NULL, n, p);
    if (!m) return SP_ERR_CORRUPT;
    sp_err rv = SP_OK;
    if (m->version != STATE_VERSION || (unsigned)m->status >= SP_ST__COUNT || m->timezone > 2 ||
        !get_strings(s, m))
        rv = SP_ERR_CORRUPT;
    if (rv == SP_OK) get_scalars(s, m);
    simpul__v1__complaint_state__free_unpacked(m, NULL);
    return rv;
}

/* ---- the compact events of the event index ----
 *
 * kind, role, flags (bit 0: complaint is the complaint's own id, not stored), then varints
 * type, channel, privacy, number, satisfied, rating, then the strings complaint (unless bit 0),
 * category, region, agency, reason, each with its NUL so that unpack can borrow them. */

#define PACK_SAME_ID 1u

static size_t str_put(uint8_t *p, const char *s, size_t n) {
    memcpy(p, s, n);
    p[n] = 0;
    return n + 1;
}

sp_err sp_fold_event_pack(const sp_fold_event *ev, const char *complaint_id, uint8_t **out,
                          size_t *n) {
    int same = strcmp(ev->complaint, complaint_id) == 0;
    const char *strs[5] = {same ? "" : ev->complaint, ev->category, ev->region, ev->agency,
                           ev->reason};
    size_t lens[5], cap = 3 + 6 * 10;
    for (int i = 0; i < 5; i++) cap += (lens[i] = strlen(strs[i])) + 1;
    uint8_t *p = malloc(cap);
    if (!p) return SP_ERR_NOMEM;
    size_t k = 0;
    p[k++] = (uint8_t)((unsigned)ev->kind < SP_EV__COUNT ? ev->kind : SP_EV_UNKNOWN);
    p[k++] = (uint8_t)((unsigned)ev->role < SP_ROLE__COUNT ? ev->role : SP_ROLE_UNKNOWN);
    p[k++] = (uint8_t)(same ? PACK_SAME_ID : 0);
    const uint64_t nums[6] = {ev->type, ev->channel, ev->privacy, ev->number, ev->satisfied,
                              ev->rating};
    for (int i = 0; i < 6; i++) k += sp_varint_put(p + k, nums[i]);
    for (int i = same ? 1 : 0; i < 5; i++) k += str_put(p + k, strs[i], lens[i]);
    *out = p;
    *n = k;
    return SP_OK;
}

/* The NUL-terminated string at p[*at..n), advancing *at; NULL when there is none. */
static const char *str_get(const uint8_t *p, size_t n, size_t *at) {
    const uint8_t *end = *at < n ? memchr(p + *at, 0, n - *at) : NULL;
    if (!end) return NULL;
    const char *s = (const char *)(p + *at);
    *at = (size_t)(end - p) + 1;
    return s;
}

sp_err sp_fold_event_unpack(sp_fold_event *ev, const char *origin, uint64_t seq, uint64_t hlc,
                            const char *complaint_id, const uint8_t *p, size_t n) {
    memset(ev, 0, sizeof *ev);
    if (n < 3 || p[0] >= SP_EV__COUNT || p[1] >= SP_ROLE__COUNT || (p[2] & ~PACK_SAME_ID))
        return SP_ERR_CORRUPT;
    ev->origin = origin;
    ev->seq = seq;
    ev->hlc = hlc;
    ev->kind = (sp_ev_kind)p[0];
    ev->role = (sp_role)p[1];
    size_t at = 3;
    uint64_t nums[6];
    for (int i = 0; i < 6; i++)
        if (!sp_varint_get(p, n, &at, &nums[i]) || (i != 3 && nums[i] > UINT32_MAX))
            return SP_ERR_CORRUPT; /* all but number are 32-bit */
    ev->type = (uint32_t)nums[0];
    ev->channel = (uint32_t)nums[1];
    ev->privacy = (uint32_t)nums[2];
    ev->number = nums[3];
    ev->satisfied = (uint32_t)nums[4];
    ev->rating = (uint32_t)nums[5];
    ev->complaint = p[2] & PACK_SAME_ID ? complaint_id : str_get(p, n, &at);
    ev->category = str_get(p, n, &at);
    ev->region = str_get(p, n, &at);
    ev->agency = str_get(p, n, &at);
    ev->reason = str_get(p, n, &at);
    if (!ev->complaint || !ev->category || !ev->region || !ev->agency || !ev->reason || at != n)
        return SP_ERR_CORRUPT;
    return SP_OK;
}
