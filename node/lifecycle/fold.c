/*
 * The lifecycle rules. Each event kind has one rule function that first checks (status, then
 * the acting node, then the actor's role, then the body's fields, then time) and only then
 * changes the state, so a refused event provably changes nothing but the refused count and
 * the last-event position.
 * docs/lifecycle.md is the prose version of this file; keep them in step.
 */
#include "node/lifecycle/fold.h"

#include <stdlib.h>
#include <string.h>

#include "broker/hlc.h"

/* ---- names ---- */

static const char *const status_names[SP_ST__COUNT] = {
    "none",        "filed",    "verified",  "archived", "dispositioned",
    "in-progress", "rerouted", "completed", "resolved", "reopened",
};

static const char *const kind_names[SP_EV__COUNT] = {
    "unknown",   "filed",    "verified", "archived", "dispositioned", "follow-up",      "completed",
    "feedback",  "reopened", "escalated", "rerouted", "commented",    "privacy-raised",
};

static const char *const role_names[SP_ROLE__COUNT] = {
    "", "admin-pusat", "admin-koordinator", "admin-penghubung", "reporter", "system",
};

const char *sp_status_name(sp_status st) {
    return (unsigned)st < SP_ST__COUNT ? status_names[st] : "?";
}

sp_err sp_status_parse(const char *name, sp_status *out) {
    for (int i = 0; i < SP_ST__COUNT; i++) {
        if (strcmp(name, status_names[i]) == 0) {
            *out = (sp_status)i;
            return SP_OK;
        }
    }
    return SP_ERR_INVAL;
}

const char *sp_ev_kind_name(sp_ev_kind k) {
    return (unsigned)k < SP_EV__COUNT ? kind_names[k] : "?";
}

const char *sp_role_name(sp_role r) {
    return (unsigned)r < SP_ROLE__COUNT && r ? role_names[r] : "unknown";
}

sp_role sp_role_parse(const char *s) {
    for (int i = 1; s && i < SP_ROLE__COUNT; i++)
        if (strcmp(s, role_names[i]) == 0) return (sp_role)i;
    return SP_ROLE_UNKNOWN;
}

const char *sp_verdict_name(sp_verdict v) {
    static const char *const names[] = {
#define XX(name, msg) #name,
        SP_VERDICT_MAP(XX)
#undef XX
    };
    return (unsigned)v < SP_V__COUNT ? names[v] : "?";
}

const char *sp_verdict_message(sp_verdict v) {
    static const char *const msgs[] = {
#define XX(name, msg) msg,
        SP_VERDICT_MAP(XX)
#undef XX
    };
    return (unsigned)v < SP_V__COUNT ? msgs[v] : "?";
}

/* ---- tracking ids ---- */

static void upcase_into(char *out, const char *in, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        out[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
    }
}

/* Decimal digits of v at out; returns how many. */
static size_t put_u64(char *out, uint64_t v) {
    char digits[24];
    size_t dn = 0, n = 0;
    do {
        digits[dn++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (dn) out[n++] = digits[--dn];
    return n;
}

/* origin without its leading kind ("kota-3577" -> "3577"), of the first n of these kinds; a
 * bare kind ("kota-") stays whole. */
static const char *without_kind(const char *origin, size_t n) {
    static const char *const kinds[] = {"kota-", "kab-", "prov-", "opd-"};
    for (size_t i = 0; i < n && i < sizeof kinds / sizeof *kinds; i++) {
        size_t k = strlen(kinds[i]);
        if (strncmp(origin, kinds[i], k) == 0 && origin[k]) return origin + k;
    }
    return origin;
}

sp_err sp_tracking_id(char out[SP_TRACKING_ID_MAX], const char *origin, uint64_t seq) {
    if (!origin || !*origin || seq == 0 || strlen(origin) > SP_MAX_ORIGIN) return SP_ERR_INVAL;
    const char *tag = without_kind(origin, 3); /* the legacy tag keeps "opd-" */
    size_t n = strlen(tag);
    upcase_into(out, tag, n);
    out[n++] = '-';
    n += put_u64(out + n, seq);
    out[n] = '\0';
    return SP_OK;
}

sp_err sp_tracking_tag(char out[SP_TRACKING_TAG_MAX], const char *origin) {
    if (!origin || strlen(origin) > SP_MAX_ORIGIN) return SP_ERR_INVAL;
    const char *tag = without_kind(origin, 4);
    size_t n = 0;
    for (; *tag; tag++)
        if (*tag != '-') upcase_into(out + n++, tag, 1);
    out[n] = '\0';
    return n ? SP_OK : SP_ERR_INVAL;
}

/* 23 letters: no I, O or Q, which are read as 1, 0 and 0 (or G). */
static const char check_letters[] = "ABCDEFGHJKLMNPRSTUVWXYZ";

/* The check letter of tag and digits (canonical, without the dash). Weights 1..22 cycle from
 * the right: each is a unit mod 23 and neighbours differ, so one wrong character (a digit) and
 * one swap of neighbours always change the sum. */
static char check_letter(const char *tag, size_t tn, const char *digits, size_t dn) {
    unsigned sum = 0, w = 0;
    for (size_t i = tn + dn; i-- > 0;) {
        char c = i >= tn ? digits[i - tn] : tag[i];
        unsigned v = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                     : c >= 'A' && c <= 'Z' ? (unsigned)(c - 'A' + 10)
                                            : 36u;
        sum = (sum + v * (w % 22 + 1)) % 23;
        w++;
    }
    return check_letters[sum];
}

sp_err sp_tracking_number(char out[SP_TRACKING_ID_MAX], const char *origin, uint64_t number) {
    char tag[SP_TRACKING_TAG_MAX];
    if (number == 0 || sp_tracking_tag(tag, origin) != SP_OK) return SP_ERR_INVAL;
    size_t tn = strlen(tag), n = tn;
    memcpy(out, tag, tn);
    out[n++] = '-';
    size_t dn = put_u64(out + n, number);
    out[n + dn] = check_letter(tag, tn, out + n, dn);
    out[n + dn + 1] = '\0';
    return SP_OK;
}

static int tag_char_ok(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* The shape of s: 1 legacy, 2 numbered (check not yet verified), 0 neither. */
static int tracking_shape(const char *s, const char **dash_out) {
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n >= SP_TRACKING_ID_MAX) return 0;
    const char *dash = strrchr(s, '-');
    if (!dash || dash == s || dash[1] < '1' || dash[1] > '9') return 0;
    for (const char *p = s; p < dash; p++)
        if (!tag_char_ok(*p)) return 0;
    const char *p = dash + 1;
    while (*p >= '0' && *p <= '9') p++;
    size_t dn = (size_t)(p - dash - 1);
    if (dn > 20) return 0;
    *dash_out = dash;
    if (!*p) return 1;
    return p[1] == '\0' && strchr(check_letters, *p) ? 2 : 0; /* *p is no NUL here */
}

static int check_matches(const char *s, const char *dash) {
    size_t tn = (size_t)(dash - s), dn = strlen(dash + 1) - 1;
    return memchr(s, '-', tn) == NULL && check_letter(s, tn, dash + 1, dn) == dash[1 + dn];
}

int sp_tracking_id_valid(const char *s) {
    const char *dash;
    int shape = tracking_shape(s, &dash);
    return shape == 1 || (shape == 2 && check_matches(s, dash));
}

sp_err sp_tracking_normalize(const char *in, char out[SP_TRACKING_ID_MAX]) {
    out[0] = '\0';
    if (!in) return SP_ERR_INVAL;
    while (*in == ' ' || *in == '\t') in++;
    size_t n = strlen(in);
    while (n && (in[n - 1] == ' ' || in[n - 1] == '\t' || in[n - 1] == '\r' || in[n - 1] == '\n'))
        n--;
    if (n == 0 || n >= SP_TRACKING_ID_MAX) return SP_ERR_INVAL;
    upcase_into(out, in, n);
    out[n] = '\0';
    const char *dash;
    int shape = tracking_shape(out, &dash);
    if (shape == 1 || (shape == 2 && check_matches(out, dash))) return SP_OK;
    return shape == 2 ? SP_ERR_REJECTED : SP_ERR_INVAL;
}

uint64_t sp_tracking_id_number(const char *id) {
    const char *dash;
    if (tracking_shape(id, &dash) != 2 || !check_matches(id, dash)) return 0;
    return strtoull(dash + 1, NULL, 10);
}

/* ---- state basics ---- */

static void copy_str(char *dst, size_t cap, const char *src) {
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1; /* callers check lengths first; this is a backstop */
    memcpy(dst, src, n);
    dst[n] = '\0';
}

#define SET_STR(field, src) copy_str((field), sizeof(field), (src))

void sp_state_init(sp_complaint_state *s, const char *id) {
    memset(s, 0, sizeof *s);
    SET_STR(s->id, id ? id : "");
}

void sp_state_clear(sp_complaint_state *s) {
    if (!s) return;
    memset(s, 0, sizeof *s);
}

sp_err sp_state_copy(sp_complaint_state *dst, const sp_complaint_state *src) {
    *dst = *src;
    return SP_OK;
}

/* The history entry of ev, applied to s with verdict v (s is the state after it). */
static void history_entry(sp_history_entry *e, const sp_complaint_state *s,
                          const sp_fold_event *ev, sp_verdict v) {
    memset(e, 0, sizeof *e);
    SET_STR(e->origin, ev->origin);
    e->seq = ev->seq;
    e->hlc = ev->hlc;
    /* Out-of-range values from a caller are recorded as unknown: the history must render. */
    e->kind = (uint8_t)((unsigned)ev->kind < SP_EV__COUNT ? ev->kind : SP_EV_UNKNOWN);
    e->role = (uint8_t)((unsigned)ev->role < SP_ROLE__COUNT ? ev->role : SP_ROLE_UNKNOWN);
    e->verdict = (uint8_t)v;
    e->status_after = (uint8_t)s->status;
}

/* ---- order ---- */

static int key_cmp(uint64_t ha, const char *oa, uint64_t sa, uint64_t hb, const char *ob,
                   uint64_t sb) {
    if (ha != hb) return ha < hb ? -1 : 1;
    int c = strcmp(oa, ob);
    if (c) return c < 0 ? -1 : 1;
    return sa < sb ? -1 : sa > sb;
}

int sp_fold_event_cmp(const sp_fold_event *a, const sp_fold_event *b) {
    return key_cmp(a->hlc, a->origin, a->seq, b->hlc, b->origin, b->seq);
}

int sp_fold_can_append(const sp_complaint_state *s, const sp_fold_event *ev) {
    if (s->events == 0) return 1;
    return key_cmp(ev->hlc, ev->origin, ev->seq, s->last_hlc, s->last_origin, s->last_seq) > 0;
}

/* ---- helpers for the rules ---- */

static uint64_t deadline(const sp_fold_ctx *ctx, const sp_complaint_state *s, sp_sla_kind k,
                         uint64_t from) {
    const sp_sla_policy *p = ctx->policy ? ctx->policy : &sp_sla_default_policy;
    return sp_sla_deadline(ctx->cal, s->tz, from, sp_sla_policy_get(p, s->type, k));
}

static int is_national(const sp_fold_ctx *ctx, const char *origin) {
    const sp_topo_node *n = sp_topology_national(ctx->topo);
    return n && strcmp(n->id, origin) == 0;
}

static int role_in(sp_role r, unsigned mask) {
    return (mask >> r) & 1u;
}

#define R(role) (1u << (role))
#define TRIAGE_ROLES (R(SP_ROLE_ADMIN_PUSAT) | R(SP_ROLE_ADMIN_KOORDINATOR))
#define AGENCY_ROLES                                                                               \
    (R(SP_ROLE_ADMIN_PUSAT) | R(SP_ROLE_ADMIN_KOORDINATOR) | R(SP_ROLE_ADMIN_PENGHUBUNG))
#define ESCALATE_ROLES (R(SP_ROLE_SYSTEM) | R(SP_ROLE_ADMIN_PUSAT) | R(SP_ROLE_ADMIN_KOORDINATOR))

static int status_in(sp_status st, unsigned mask) {
    return (mask >> st) & 1u;
}

#define S(st) (1u << (st))
#define TRIAGE_STATES (S(SP_ST_FILED) | S(SP_ST_VERIFIED) | S(SP_ST_REROUTED))
#define HANDLING_STATES (S(SP_ST_DISPOSITIONED) | S(SP_ST_IN_PROGRESS) | S(SP_ST_REOPENED))
#define AWAITING_RESPONSE (S(SP_ST_DISPOSITIONED) | S(SP_ST_REOPENED))

/* Verify / archive / disposition: the responsible node's or national's admins. */
static sp_verdict triage_authority(const sp_fold_ctx *ctx, const sp_complaint_state *s,
                                   const sp_fold_event *ev) {
    if (strcmp(ev->origin, s->responsible) != 0 && !is_national(ctx, ev->origin))
        return SP_V_NOT_RESPONSIBLE;
    return role_in(ev->role, TRIAGE_ROLES) ? SP_V_ACCEPTED : SP_V_WRONG_ROLE;
}

/* Follow-up / complete / reroute: the assigned agency. */
static sp_verdict agency_authority(const sp_complaint_state *s, const sp_fold_event *ev,
                                   unsigned roles) {
    if (!s->agency[0] || strcmp(ev->origin, s->agency) != 0) return SP_V_NOT_ASSIGNED;
    return role_in(ev->role, roles) ? SP_V_ACCEPTED : SP_V_WRONG_ROLE;
}

/* Feedback / reopen: the reporter, through the intake node. */
static sp_verdict reporter_authority(const sp_complaint_state *s, const sp_fold_event *ev) {
    if (strcmp(ev->origin, s->intake) != 0) return SP_V_NOT_INTAKE;
    return ev->role == SP_ROLE_REPORTER ? SP_V_ACCEPTED : SP_V_WRONG_ROLE;
}

static int str_ok(const char *s, size_t max) {
    size_t n = strlen(s);
    return n > 0 && n <= max;
}

/* The first response to the reporter: a follow-up or a completion. */
static void first_response(sp_complaint_state *s, uint64_t t) {
    if (s->first_response_at) return;
    s->first_response_at = t;
    s->first_response_late = s->respond_due && t > s->respond_due;
}

static void clear_deadlines(sp_complaint_state *s) {
    s->verify_due = s->dispose_due = s->respond_due = s->complete_due = s->autoclose_at = 0;
}

/* ---- the rules, one per kind ---- */

static sp_verdict on_filed(const sp_fold_ctx *ctx, sp_complaint_state *s, const sp_fold_event *ev,
                           uint64_t t) {
    char id[SP_TRACKING_ID_MAX];
    if (s->status != SP_ST_NONE) return SP_V_WRONG_STATUS;
    sp_err idr = ev->number ? sp_tracking_number(id, ev->origin, ev->number)
                            : sp_tracking_id(id, ev->origin, ev->seq);
    if (idr != SP_OK || strcmp(id, s->id) != 0 ||
        (ev->complaint[0] && strcmp(ev->complaint, s->id) != 0))
        return SP_V_BAD_ID;
    if (ev->type < 1 || ev->type > 3 || ev->privacy > 2 || !str_ok(ev->category, SP_CATEGORY_MAX) ||
        strlen(ev->region) > SP_REGION_MAX)
        return SP_V_BAD_FIELD;
    const sp_topo_node *resp = sp_topology_responsible(ctx->topo, ev->region);
    if (!resp) return SP_V_UNKNOWN_REGION;
    sp_timezone tz = SP_TZ_WIB;
    if (ev->region[0] && sp_timezone_for_code(ev->region, &tz) != SP_OK) tz = SP_TZ_WIB;
    s->status = SP_ST_FILED;
    s->type = ev->type;
    s->channel = ev->channel;
    s->privacy = ev->privacy;
    SET_STR(s->category, ev->category);
    SET_STR(s->region, ev->region);
    s->tz = tz;
    SET_STR(s->intake, ev->origin);
    SET_STR(s->responsible, resp->id);
    s->filed_at = t;
    s->verify_due = deadline(ctx, s, SP_SLA_VERIFY, t);
    return SP_V_ACCEPTED;
}

static sp_verdict on_verified(const sp_fold_ctx *ctx, sp_complaint_state *s,
                              const sp_fold_event *ev, uint64_t t) {
    if (s->status != SP_ST_FILED) return SP_V_WRONG_STATUS;
    sp_verdict v = triage_authority(ctx, s, ev);
    if (v != SP_V_ACCEPTED) return v;
    s->status = SP_ST_VERIFIED;
    s->verified_at = t;
    s->verify_late = s->verify_due && t > s->verify_due;
    s->verify_due = 0;
    s->dispose_due = deadline(ctx, s, SP_SLA_DISPOSE, t);
    s->complete_due = deadline(ctx, s, SP_SLA_COMPLETE, t);
    return SP_V_ACCEPTED;
}

static sp_verdict on_archived(const sp_fold_ctx *ctx, sp_complaint_state *s,
                              const sp_fold_event *ev, uint64_t t) {
    if (!status_in(s->status, TRIAGE_STATES)) return SP_V_WRONG_STATUS;
    sp_verdict v = triage_authority(ctx, s, ev);
    if (v != SP_V_ACCEPTED) return v;
    if (!str_ok(ev->reason, SP_REASON_MAX)) return SP_V_BAD_FIELD;
    if (s->status == SP_ST_FILED) s->verify_late = s->verify_due && t > s->verify_due;
    s->status = SP_ST_ARCHIVED;
    s->archived_at = t;
    SET_STR(s->archive_reason, ev->reason);
    clear_deadlines(s);
    return SP_V_ACCEPTED;
}

static sp_verdict on_dispositioned(const sp_fold_ctx *ctx, sp_complaint_state *s,
                                   const sp_fold_event *ev, uint64_t t) {
    unsigned ok = S(SP_ST_VERIFIED) | S(SP_ST_REROUTED) | S(SP_ST_DISPOSITIONED);
    if (!status_in(s->status, ok)) return SP_V_WRONG_STATUS;
    sp_verdict v = triage_authority(ctx, s, ev);
    if (v != SP_V_ACCEPTED) return v;
    if (!str_ok(ev->agency, SP_MAX_ORIGIN)) return SP_V_BAD_FIELD;
    if (!sp_topology_find(ctx->topo, ev->agency)) return SP_V_UNKNOWN_AGENCY;
    s->status = SP_ST_DISPOSITIONED;
    SET_STR(s->agency, ev->agency);
    s->dispositioned_at = t;
    s->dispose_due = 0;
    s->respond_due = deadline(ctx, s, SP_SLA_RESPOND, t);
    return SP_V_ACCEPTED;
}

static sp_verdict on_follow_up(const sp_fold_ctx *ctx, sp_complaint_state *s,
                               const sp_fold_event *ev, uint64_t t) {
    if (!status_in(s->status, HANDLING_STATES)) return SP_V_WRONG_STATUS;
    sp_verdict v = agency_authority(s, ev, AGENCY_ROLES);
    if (v != SP_V_ACCEPTED) return v;
    first_response(s, t);
    s->status = SP_ST_IN_PROGRESS;
    s->follow_ups++;
    s->last_follow_up_at = t;
    s->respond_due = 0;
    s->autoclose_at = deadline(ctx, s, SP_SLA_AUTOCLOSE, t);
    return SP_V_ACCEPTED;
}

static sp_verdict on_completed(const sp_fold_ctx *ctx, sp_complaint_state *s,
                               const sp_fold_event *ev, uint64_t t) {
    if (!status_in(s->status, HANDLING_STATES)) return SP_V_WRONG_STATUS;
    sp_verdict v = agency_authority(s, ev, AGENCY_ROLES | R(SP_ROLE_SYSTEM));
    if (v != SP_V_ACCEPTED) return v;
    int automatic = ev->role == SP_ROLE_SYSTEM;
    if (automatic && (s->status != SP_ST_IN_PROGRESS || !s->autoclose_at || t <= s->autoclose_at))
        return SP_V_NOT_DUE;
    first_response(s, t);
    s->status = SP_ST_COMPLETED;
    s->completed_at = t;
    s->completed_late = s->complete_due && t > s->complete_due;
    s->auto_completed = (uint8_t)automatic;
    clear_deadlines(s);
    return SP_V_ACCEPTED;
}

static sp_verdict on_feedback(const sp_fold_ctx *ctx, sp_complaint_state *s,
                              const sp_fold_event *ev, uint64_t t) {
    if (s->status != SP_ST_COMPLETED) return SP_V_WRONG_STATUS;
    sp_verdict v = reporter_authority(s, ev);
    if (v != SP_V_ACCEPTED) return v;
    if (ev->rating > 5) return SP_V_BAD_FIELD;
    s->has_feedback = 1;
    s->satisfied = ev->satisfied != 0;
    s->rating = ev->rating;
    if (s->satisfied) {
        s->status = SP_ST_RESOLVED;
        s->resolved_at = t;
    }
    return SP_V_ACCEPTED;
}

static sp_verdict on_reopened(const sp_fold_ctx *ctx, sp_complaint_state *s,
                              const sp_fold_event *ev, uint64_t t) {
    if (s->status != SP_ST_COMPLETED) return SP_V_WRONG_STATUS;
    sp_verdict v = reporter_authority(s, ev);
    if (v != SP_V_ACCEPTED) return v;
    s->status = SP_ST_REOPENED;
    s->reopens++;
    s->reopened_at = t;
    s->respond_due = deadline(ctx, s, SP_SLA_RESPOND, t);
    s->complete_due = deadline(ctx, s, SP_SLA_COMPLETE, t);
    s->complete_escalated = 0;
    return SP_V_ACCEPTED;
}

static sp_verdict on_rerouted(const sp_fold_ctx *ctx, sp_complaint_state *s,
                              const sp_fold_event *ev, uint64_t t) {
    if (!status_in(s->status, HANDLING_STATES)) return SP_V_WRONG_STATUS;
    sp_verdict v = agency_authority(s, ev, AGENCY_ROLES);
    if (v != SP_V_ACCEPTED) return v;
    s->status = SP_ST_REROUTED;
    SET_STR(s->last_rerouted_by, s->agency);
    s->agency[0] = '\0';
    s->reroutes++;
    s->rerouted_at = t;
    s->respond_due = s->autoclose_at = 0;
    s->dispose_due = deadline(ctx, s, SP_SLA_DISPOSE, t);
    return SP_V_ACCEPTED;
}

const char *sp_fold_holder(const sp_complaint_state *s) {
    return s->agency[0] ? s->agency : s->responsible;
}

/* Which deadline breach (if any) allows an escalation at t; NULL when none. */
static const char *breach(const sp_complaint_state *s, uint64_t t) {
    if (s->status == SP_ST_FILED && s->verify_due && t > s->verify_due) return "sla-verify";
    if ((s->status == SP_ST_VERIFIED || s->status == SP_ST_REROUTED) && s->dispose_due &&
        t > s->dispose_due)
        return "sla-dispose";
    if (status_in(s->status, AWAITING_RESPONSE) && s->respond_due && t > s->respond_due)
        return "sla-respond";
    if (status_in(s->status, HANDLING_STATES) && s->complete_due && t > s->complete_due &&
        !s->complete_escalated)
        return "sla-complete";
    return NULL;
}

/* The parent of the current holder in the topology, or NULL. */
static const sp_topo_node *escalation_target(const sp_fold_ctx *ctx, const sp_complaint_state *s) {
    const sp_topo_node *holder = sp_topology_find(ctx->topo, sp_fold_holder(s));
    return holder ? holder->parent : NULL;
}

static sp_verdict on_escalated(const sp_fold_ctx *ctx, sp_complaint_state *s,
                               const sp_fold_event *ev, uint64_t t) {
    if (!status_in(s->status, TRIAGE_STATES | HANDLING_STATES)) return SP_V_WRONG_STATUS;
    const sp_topo_node *target = escalation_target(ctx, s);
    if (!target || strcmp(ev->agency, target->id) != 0) return SP_V_NOT_PARENT;
    if (strcmp(ev->origin, target->id) != 0 && !is_national(ctx, ev->origin))
        return SP_V_NOT_RESPONSIBLE;
    if (!role_in(ev->role, ESCALATE_ROLES)) return SP_V_WRONG_ROLE;
    if (!breach(s, t)) return SP_V_NOT_DUE;
    if (status_in(s->status, TRIAGE_STATES)) {
        SET_STR(s->responsible, target->id);
        if (s->status == SP_ST_FILED)
            s->verify_due = deadline(ctx, s, SP_SLA_VERIFY, t);
        else
            s->dispose_due = deadline(ctx, s, SP_SLA_DISPOSE, t);
    } else {
        SET_STR(s->agency, target->id);
        if (status_in(s->status, AWAITING_RESPONSE) && s->respond_due && t > s->respond_due)
            s->respond_due = deadline(ctx, s, SP_SLA_RESPOND, t);
        if (s->complete_due && t > s->complete_due) s->complete_escalated = 1;
    }
    s->escalations++;
    s->escalated_at = t;
    return SP_V_ACCEPTED;
}

static sp_verdict on_commented(const sp_fold_ctx *ctx, sp_complaint_state *s,
                               const sp_fold_event *ev, uint64_t t) {
    if (ev->role == SP_ROLE_REPORTER && strcmp(ev->origin, s->intake) != 0) return SP_V_NOT_INTAKE;
    s->comments++;
    /* The reporter answered the follow-up: no auto-completion until the next follow-up. */
    if (ev->role == SP_ROLE_REPORTER && s->status == SP_ST_IN_PROGRESS) s->autoclose_at = 0;
    return SP_V_ACCEPTED;
}

static sp_verdict on_privacy(const sp_fold_ctx *ctx, sp_complaint_state *s,
                             const sp_fold_event *ev, uint64_t t) {
    if (strcmp(ev->origin, s->intake) != 0 && strcmp(ev->origin, s->responsible) != 0 &&
        !is_national(ctx, ev->origin))
        return SP_V_NOT_INTAKE;
    if (ev->role == SP_ROLE_REPORTER && strcmp(ev->origin, s->intake) != 0) return SP_V_NOT_INTAKE;
    if (ev->privacy > 2) return SP_V_BAD_FIELD;
    if (ev->privacy <= s->privacy) return SP_V_NOT_A_RAISE;
    s->privacy = ev->privacy;
    return SP_V_ACCEPTED;
}

typedef sp_verdict (*rule_fn)(const sp_fold_ctx *, sp_complaint_state *, const sp_fold_event *,
                              uint64_t);

static const rule_fn rules[SP_EV__COUNT] = {
    [SP_EV_FILED] = on_filed,         [SP_EV_VERIFIED] = on_verified,
    [SP_EV_ARCHIVED] = on_archived,   [SP_EV_DISPOSITIONED] = on_dispositioned,
    [SP_EV_FOLLOW_UP] = on_follow_up, [SP_EV_COMPLETED] = on_completed,
    [SP_EV_FEEDBACK] = on_feedback,   [SP_EV_REOPENED] = on_reopened,
    [SP_EV_ESCALATED] = on_escalated, [SP_EV_REROUTED] = on_rerouted,
    [SP_EV_COMMENTED] = on_commented, [SP_EV_PRIVACY_RAISED] = on_privacy,
};

static sp_verdict judge(const sp_fold_ctx *ctx, sp_complaint_state *s, const sp_fold_event *ev) {
    if ((unsigned)ev->kind >= SP_EV__COUNT || !rules[ev->kind]) return SP_V_UNKNOWN_KIND;
    if (ev->kind != SP_EV_FILED && s->status == SP_ST_NONE) return SP_V_NOT_FILED;
    return rules[ev->kind](ctx, s, ev, sp_hlc_ms(ev->hlc));
}

sp_err sp_fold_apply(const sp_fold_ctx *ctx, sp_complaint_state *s, const sp_fold_event *ev,
                     sp_verdict *verdict) {
    sp_verdict v = judge(ctx, s, ev);
    if (v == SP_V_ACCEPTED) {
        s->updated_at = sp_hlc_ms(ev->hlc);
        if (ev->kind == SP_EV_FILED) s->filed_seq = ev->seq;
    } else {
        s->rejected++;
    }
    s->last_hlc = ev->hlc;
    s->last_seq = ev->seq;
    SET_STR(s->last_origin, ev->origin);
    s->events++;
    if (verdict) *verdict = v;
    return SP_OK;
}

/* ---- folding a whole set ---- */

static int cmp_total(const void *a, const void *b) {
    return sp_fold_event_cmp(*(const sp_fold_event *const *)a, *(const sp_fold_event *const *)b);
}

/* (origin, seq) first, then hlc: duplicates and forks become neighbours. */
static int cmp_identity(const void *a, const void *b) {
    const sp_fold_event *x = *(const sp_fold_event *const *)a,
                        *y = *(const sp_fold_event *const *)b;
    int c = strcmp(x->origin, y->origin);
    if (c) return c;
    if (x->seq != y->seq) return x->seq < y->seq ? -1 : 1;
    return x->hlc < y->hlc ? -1 : x->hlc > y->hlc;
}

/* Sorted, deduplicated pointers to the events (for one (origin, seq), the lowest hlc wins:
 * the feed log never stores two, but the fold must not depend on that). Returns the count. */
static size_t order_events(const sp_fold_event **p, const sp_fold_event *ev, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = &ev[i];
    qsort(p, n, sizeof *p, cmp_identity);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || strcmp(p[m - 1]->origin, p[i]->origin) != 0 || p[m - 1]->seq != p[i]->seq)
            p[m++] = p[i];
    qsort(p, m, sizeof *p, cmp_total);
    return m;
}

sp_err sp_fold_run_history(const sp_fold_ctx *ctx, const char *id, const sp_fold_event *ev,
                           size_t n, sp_complaint_state *out, sp_history_entry **hist,
                           size_t **at, size_t *n_hist) {
    sp_err rv = SP_OK;
    sp_state_init(out, id);
    if (hist) *hist = NULL;
    if (at) *at = NULL;
    if (n_hist) *n_hist = 0;
    const sp_fold_event **p = malloc((n ? n : 1) * sizeof *p);
    sp_history_entry *h = hist ? malloc((n ? n : 1) * sizeof *h) : NULL;
    size_t *idx = at ? malloc((n ? n : 1) * sizeof *idx) : NULL;
    if (!p || (hist && !h) || (at && !idx)) {
        rv = SP_ERR_NOMEM;
        goto out;
    }
    size_t m = order_events(p, ev, n);
    for (size_t i = 0; i < m && rv == SP_OK; i++) {
        sp_verdict v;
        rv = sp_fold_apply(ctx, out, p[i], &v);
        if (h) history_entry(&h[i], out, p[i], v);
        if (idx) idx[i] = (size_t)(p[i] - ev);
    }
    if (rv == SP_OK && hist) *hist = h, h = NULL;
    if (rv == SP_OK && at) *at = idx, idx = NULL;
    if (rv == SP_OK && n_hist) *n_hist = m;
out:
    free(p);
    free(h);
    free(idx);
    return rv;
}

sp_err sp_fold_run(const sp_fold_ctx *ctx, const char *id, const sp_fold_event *ev, size_t n,
                   sp_complaint_state *out) {
    return sp_fold_run_history(ctx, id, ev, n, out, NULL, NULL, NULL);
}

/* ---- reading a state at a time ---- */

int sp_status_closed(sp_status st) {
    return st == SP_ST_ARCHIVED || st == SP_ST_RESOLVED;
}

static uint64_t min_nonzero(uint64_t a, uint64_t b) {
    if (!a) return b;
    if (!b) return a;
    return a < b ? a : b;
}

uint64_t sp_fold_active_deadline(const sp_complaint_state *s) {
    switch (s->status) {
    case SP_ST_FILED: return s->verify_due;
    case SP_ST_VERIFIED:
    case SP_ST_REROUTED: return min_nonzero(s->dispose_due, s->complete_due);
    case SP_ST_DISPOSITIONED:
    case SP_ST_REOPENED: return min_nonzero(s->respond_due, s->complete_due);
    case SP_ST_IN_PROGRESS: return s->complete_due;
    default: return 0;
    }
}

int sp_fold_overdue(const sp_complaint_state *s, uint64_t now_ms) {
    uint64_t d = sp_fold_active_deadline(s);
    return d && now_ms > d;
}

size_t sp_fold_due_actions(const sp_fold_ctx *ctx, const sp_complaint_state *s, uint64_t now_ms,
                           sp_due_action *out, size_t cap) {
    if (cap == 0) return 0;
    memset(out, 0, sizeof *out);
    /* Auto-completion closes the case: it goes first and alone. */
    if (s->status == SP_ST_IN_PROGRESS && s->autoclose_at && now_ms > s->autoclose_at &&
        s->agency[0]) {
        out->kind = SP_EV_COMPLETED;
        SET_STR(out->author, s->agency);
        SET_STR(out->target, s->agency);
        out->reason = "auto-complete";
        out->due_at = s->autoclose_at;
        return 1;
    }
    const char *why = breach(s, now_ms);
    const sp_topo_node *target = why ? escalation_target(ctx, s) : NULL;
    if (!target) return 0;
    out->kind = SP_EV_ESCALATED;
    SET_STR(out->author, target->id);
    SET_STR(out->target, target->id);
    out->reason = why;
    out->due_at = strcmp(why, "sla-verify") == 0    ? s->verify_due
                  : strcmp(why, "sla-dispose") == 0 ? s->dispose_due
                  : strcmp(why, "sla-respond") == 0 ? s->respond_due
                                                    : s->complete_due;
    return 1;
}
