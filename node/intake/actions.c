/*
 * Actions: parsing, role table, event bodies (node/intake/actions.h).
 */
#include "node/intake/actions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "node/intake/intake_int.h"
#include "schemas/simpul.pb-c.h"

#define INVALID(err, ...) sp__intake_fail(err, 400, "invalid_field", SP_ERR_INVAL, __VA_ARGS__)
#define MISSING(err, f)                                                                            \
    sp__intake_fail(err, 400, "missing_field", SP_ERR_INVAL, "'%s' is required", f)

static const struct {
    const char *name;
    sp_ev_kind ev;
} actions[SP_ACT__COUNT] = {
#define XX(name, text, ev) {text, ev},
    SP_ACTION_MAP(XX)
#undef XX
};

const char *sp_action_name(sp_action_kind k) {
    return (unsigned)k < SP_ACT__COUNT ? actions[k].name : "?";
}

sp_ev_kind sp_action_event(sp_action_kind k) {
    return (unsigned)k < SP_ACT__COUNT ? actions[k].ev : SP_EV_UNKNOWN;
}

#define R(role) (1u << (role))
#define ADMINS (R(SP_ROLE_ADMIN_PUSAT) | R(SP_ROLE_ADMIN_KOORDINATOR))
#define OFFICERS (ADMINS | R(SP_ROLE_ADMIN_PENGHUBUNG))
#define ANYONE (OFFICERS | R(SP_ROLE_REPORTER))

int sp_action_role_allowed(sp_action_kind k, sp_role role) {
    static const unsigned allowed[SP_ACT__COUNT] = {
        [SP_ACT_VERIFY] = ADMINS,
        [SP_ACT_ARCHIVE] = ADMINS,
        [SP_ACT_DISPOSITION] = ADMINS,
        [SP_ACT_REROUTE] = OFFICERS,
        [SP_ACT_FOLLOW_UP] = OFFICERS,
        [SP_ACT_COMPLETE] = OFFICERS,
        [SP_ACT_COMMENT] = ANYONE,
        [SP_ACT_REOPEN] = R(SP_ROLE_REPORTER),
        [SP_ACT_FEEDBACK] = R(SP_ROLE_REPORTER),
        [SP_ACT_RAISE_PRIVACY] = ANYONE,
    };
    return (unsigned)k < SP_ACT__COUNT && (unsigned)role < 32 && ((allowed[k] >> role) & 1u);
}

/* ---- parsing ---- */

void sp_action_free(sp_action *a) {
    if (!a) return;
    free(a->text);
    memset(a, 0, sizeof *a);
}

static sp_err opt_str(json_t *o, const char *key, size_t max, const char **out,
                      sp_intake_error *err) {
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v)) return SP_OK;
    if (!json_is_string(v)) return INVALID(err, "'%s' must be a string", key);
    if (json_string_length(v) > max) return INVALID(err, "'%s' is longer than %zu bytes", key, max);
    if (memchr(json_string_value(v), '\0', json_string_length(v)))
        return INVALID(err, "'%s' contains a NUL", key);
    *out = json_string_value(v);
    return SP_OK;
}

/* Which JSON field carries the free text of each action, and whether it is required. */
static void text_field(sp_action_kind k, const char **name, int *required) {
    *required = k == SP_ACT_FOLLOW_UP || k == SP_ACT_COMPLETE || k == SP_ACT_COMMENT;
    *name = k == SP_ACT_COMPLETE                                                   ? "summary"
            : k == SP_ACT_FOLLOW_UP || k == SP_ACT_COMMENT || k == SP_ACT_FEEDBACK ? "text"
                                                                                   : "note";
}

static sp_err parse_text(sp_action *a, json_t *o, sp_intake_error *err) {
    const char *name, *v;
    int required;
    text_field(a->kind, &name, &required);
    sp_err rv = opt_str(o, name, SP_ACTION_TEXT_MAX, &v, err);
    if (rv != SP_OK) return rv;
    if (required && (!v || !*v)) return MISSING(err, name);
    if (v && *v && !(a->text = strdup(v))) return SP_ERR_NOMEM;
    return SP_OK;
}

static sp_err parse_reason(sp_action *a, json_t *o, sp_intake_error *err) {
    const char *v;
    sp_err rv = opt_str(o, "reason", SP_REASON_MAX, &v, err);
    if (rv != SP_OK) return rv;
    if (!v || !*v) {
        if (a->kind == SP_ACT_REROUTE)
            v = "bukan wewenang";
        else if (a->kind == SP_ACT_ARCHIVE || a->kind == SP_ACT_REOPEN)
            return MISSING(err, "reason");
        else
            return SP_OK;
    }
    snprintf(a->reason, sizeof a->reason, "%s", v);
    return SP_OK;
}

static sp_err parse_agency(sp_action *a, json_t *o, sp_intake_error *err) {
    const char *key = a->kind == SP_ACT_REROUTE ? "suggested_agency" : "agency", *v;
    sp_err rv = opt_str(o, key, SP_MAX_ORIGIN, &v, err);
    if (rv != SP_OK) return rv;
    if (v) snprintf(a->agency, sizeof a->agency, "%s", v);
    if (a->kind != SP_ACT_DISPOSITION) return SP_OK;
    json_t *br = json_object_get(o, "by_rule");
    if (br && !json_is_boolean(br)) return INVALID(err, "'by_rule' must be true or false");
    a->by_rule = json_is_true(br);
    if (a->by_rule == (a->agency[0] != '\0'))
        return INVALID(
            err, "a disposition names an 'agency' or asks for \"by_rule\": true (one of them)");
    return SP_OK;
}

static sp_err parse_feedback(sp_action *a, json_t *o, sp_intake_error *err) {
    json_t *s = json_object_get(o, "satisfied"), *r = json_object_get(o, "rating");
    if (!json_is_boolean(s)) return MISSING(err, "satisfied");
    a->satisfied = json_is_true(s);
    if (r && !json_is_null(r)) {
        if (!json_is_integer(r) || json_integer_value(r) < 1 || json_integer_value(r) > 5)
            return INVALID(err, "'rating' must be 1 to 5");
        a->rating = (uint32_t)json_integer_value(r);
    }
    return SP_OK;
}

static sp_err parse_privacy(sp_action *a, json_t *o, sp_intake_error *err) {
    const char *v;
    sp_err rv = opt_str(o, "privacy", 32, &v, err);
    if (rv != SP_OK) return rv;
    if (!v) return MISSING(err, "privacy");
    if (sp_privacy_parse(v, &a->privacy) != SP_OK)
        return INVALID(err, "'privacy' must be anonymous or confidential");
    return SP_OK;
}

static sp_err parse_kind(sp_action *a, json_t *o, sp_intake_error *err) {
    const char *name = json_string_value(json_object_get(o, "action"));
    if (!name) return MISSING(err, "action");
    for (int k = 0; k < SP_ACT__COUNT; k++) {
        if (strcmp(name, actions[k].name) == 0) {
            a->kind = (sp_action_kind)k;
            return SP_OK;
        }
    }
    return INVALID(err,
                   "unknown action '%.40s' (verify, archive, disposition, reroute, follow-up, "
                   "complete, comment, reopen, feedback, raise-privacy)",
                   name);
}

static sp_err parse_fields(sp_action *a, json_t *o, sp_intake_error *err) {
    sp_err rv = parse_kind(a, o, err);
    if (rv == SP_OK) rv = parse_text(a, o, err);
    if (rv == SP_OK) rv = parse_reason(a, o, err);
    if (rv == SP_OK && (a->kind == SP_ACT_DISPOSITION || a->kind == SP_ACT_REROUTE))
        rv = parse_agency(a, o, err);
    if (rv == SP_OK && a->kind == SP_ACT_FEEDBACK) rv = parse_feedback(a, o, err);
    if (rv == SP_OK && a->kind == SP_ACT_RAISE_PRIVACY) rv = parse_privacy(a, o, err);
    return rv;
}

sp_err sp_action_parse(sp_action *out, const char *buf, size_t n, sp_intake_error *err) {
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *o = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &jerr);
    sp_err rv;
    if (!json_is_object(o))
        rv = sp__intake_fail(err, 400, "bad_json", SP_ERR_DECODE,
                             "the body must be a JSON object%s%s", o ? "" : ": ",
                             o ? "" : jerr.text);
    else
        rv = parse_fields(out, o, err);
    if (rv == SP_ERR_NOMEM) sp__intake_fail(err, 500, "internal", rv, "out of memory");
    json_decref(o);
    if (rv != SP_OK) sp_action_free(out);
    return rv;
}

/* ---- events ---- */

#define RW(s) ((char *)(s))

void sp_action_fold_event(const sp_action *a, const sp_action_ctx *c, const char *origin,
                          sp_fold_event *ev) {
    memset(ev, 0, sizeof *ev);
    ev->origin = origin;
    ev->complaint = c->complaint_id;
    ev->kind = sp_action_event(a->kind);
    ev->role = c->role;
    ev->category = ev->region = "";
    ev->agency = a->kind == SP_ACT_DISPOSITION && c->agency ? c->agency->id : a->agency;
    ev->reason = a->reason;
    ev->privacy = a->privacy;
    ev->satisfied = (uint32_t)a->satisfied;
    ev->rating = a->rating;
}

/* Free text: in clear, or for a confidential complaint only under the content key. */
static sp_err put_text(const sp_action_ctx *c, const char *text, char **clear,
                       ProtobufCBinaryData *sealed) {
    if (!text) return SP_OK;
    if (!c->confidential) {
        *clear = RW(text);
        return SP_OK;
    }
    if (!c->content_key) return SP_ERR_FORBIDDEN;
    return sp_content_seal(c->content_key, c->complaint_id, SP_FIELD_TEXT, (const uint8_t *)text,
                           strlen(text), &sealed->data, &sealed->len);
}

/* Everything an action's Event points to while it is packed. */
typedef struct {
    Simpul__V1__Event ev;
    Simpul__V1__Verified verified;
    Simpul__V1__Archived archived;
    Simpul__V1__Dispositioned disp;
    Simpul__V1__FollowUp follow;
    Simpul__V1__Completed completed;
    Simpul__V1__Commented comment;
    Simpul__V1__Reopened reopened;
    Simpul__V1__ReporterFeedback feedback;
    Simpul__V1__Rerouted rerouted;
    Simpul__V1__PrivacyRaised raised;
    Simpul__V1__Sealed wrap;
    Simpul__V1__Sealed *wrapp;
} action_parts;

static sp_err disposition(action_parts *m, const sp_action *a, const sp_action_ctx *c) {
    simpul__v1__dispositioned__init(&m->disp);
    m->disp.agency = RW(c->agency->id);
    m->disp.rule = RW(c->rule ? c->rule : "");
    m->disp.note = RW(a->text ? a->text : "");
    m->ev.body_case = SIMPUL__V1__EVENT__BODY_DISPOSITIONED;
    m->ev.dispositioned = &m->disp;
    const sp_seal_key *k = sp_topo_node_seal_key(c->agency);
    if (!c->content_key || !k) return SP_OK; /* nothing to hand over (reads say so) */
    sp_err rv = sp_seal_to(&m->wrap, c->agency->id, k->id, k->key, c->complaint_id,
                           SP_FIELD_CONTENT_KEY, c->content_key, SP_CONTENT_KEY_LEN);
    if (rv != SP_OK) return rv;
    m->wrapp = &m->wrap;
    m->disp.n_content_keys = 1;
    m->disp.content_keys = &m->wrapp;
    return SP_OK;
}

static sp_err fill_texts(action_parts *m, const sp_action *a, const sp_action_ctx *c) {
    switch (a->kind) {
    case SP_ACT_FOLLOW_UP:
        m->ev.body_case = SIMPUL__V1__EVENT__BODY_FOLLOW_UP;
        m->ev.follow_up = &m->follow;
        return put_text(c, a->text, &m->follow.text, &m->follow.sealed_text);
    case SP_ACT_COMPLETE:
        m->ev.body_case = SIMPUL__V1__EVENT__BODY_COMPLETED;
        m->ev.completed = &m->completed;
        return put_text(c, a->text, &m->completed.summary, &m->completed.sealed_summary);
    case SP_ACT_COMMENT:
        m->ev.body_case = SIMPUL__V1__EVENT__BODY_COMMENTED;
        m->ev.commented = &m->comment;
        return put_text(c, a->text, &m->comment.text, &m->comment.sealed_text);
    default:
        return SP_ERR_INVAL;
    }
}

static sp_err fill_body(action_parts *m, const sp_action *a, const sp_action_ctx *c) {
    const char *note = a->text && !c->confidential ? a->text : "";
    switch (a->kind) {
    case SP_ACT_VERIFY:
        m->verified.note = RW(note);
        m->ev.body_case = SIMPUL__V1__EVENT__BODY_VERIFIED;
        m->ev.verified = &m->verified;
        return SP_OK;
    case SP_ACT_ARCHIVE:
        m->archived.reason = RW(a->reason);
        m->archived.note = RW(note);
        m->ev.body_case = SIMPUL__V1__EVENT__BODY_ARCHIVED;
        m->ev.archived = &m->archived;
        return SP_OK;
    case SP_ACT_DISPOSITION:
        return c->agency ? disposition(m, a, c) : SP_ERR_INVAL;
    case SP_ACT_REROUTE:
        m->rerouted.reason = RW(a->reason);
        m->rerouted.suggested_agency = RW(a->agency);
        m->ev.body_case = SIMPUL__V1__EVENT__BODY_REROUTED;
        m->ev.rerouted = &m->rerouted;
        return SP_OK;
    case SP_ACT_REOPEN:
        m->reopened.reason = RW(a->reason);
        m->ev.body_case = SIMPUL__V1__EVENT__BODY_REOPENED;
        m->ev.reopened = &m->reopened;
        return SP_OK;
    case SP_ACT_FEEDBACK:
        m->feedback.satisfied = a->satisfied;
        m->feedback.rating = a->rating;
        m->feedback.text = RW(note); /* no sealed variant: a confidential one keeps no text */
        m->ev.body_case = SIMPUL__V1__EVENT__BODY_FEEDBACK;
        m->ev.feedback = &m->feedback;
        return SP_OK;
    case SP_ACT_RAISE_PRIVACY:
        m->raised.privacy = (Simpul__V1__Privacy)a->privacy;
        m->ev.body_case = SIMPUL__V1__EVENT__BODY_PRIVACY_RAISED;
        m->ev.privacy_raised = &m->raised;
        return SP_OK;
    default:
        return fill_texts(m, a, c);
    }
}

static void init_parts(action_parts *m) {
    memset(m, 0, sizeof *m);
    simpul__v1__event__init(&m->ev);
    simpul__v1__verified__init(&m->verified);
    simpul__v1__archived__init(&m->archived);
    simpul__v1__follow_up__init(&m->follow);
    simpul__v1__completed__init(&m->completed);
    simpul__v1__commented__init(&m->comment);
    simpul__v1__reopened__init(&m->reopened);
    simpul__v1__reporter_feedback__init(&m->feedback);
    simpul__v1__rerouted__init(&m->rerouted);
    simpul__v1__privacy_raised__init(&m->raised);
}

sp_err sp_action_build(const sp_action *a, const sp_action_ctx *c, uint8_t **body, size_t *len) {
    action_parts *m = malloc(sizeof *m);
    if (!m) return SP_ERR_NOMEM;
    init_parts(m);
    m->ev.complaint_id = RW(c->complaint_id);
    m->ev.actor = RW(c->actor);
    m->ev.actor_role = RW(sp_role_name(c->role));
    sp_err rv = fill_body(m, a, c);
    if (rv == SP_OK) {
        *len = simpul__v1__event__get_packed_size(&m->ev);
        if (!(*body = malloc(*len ? *len : 1)))
            rv = SP_ERR_NOMEM;
        else
            simpul__v1__event__pack(&m->ev, *body);
    }
    if (m->wrapp) sp_sealed_clear(&m->wrap); /* an init'ed Sealed holds static strings */
    free(m->follow.sealed_text.data);
    free(m->completed.sealed_summary.data);
    free(m->comment.sealed_text.data);
    free(m);
    return rv;
}
