/*
 * POST /api/v1/complaints/{id}/actions: officer and reporter actions with bearer tokens.
 *
 * Order of refusals, each answered before anything is written: 401 (no or bad token), 400
 * (malformed action), 403 (the token's role may never do this), 404 (no such complaint here),
 * 422 (unknown agency), then the fold's verdict, checked in the batcher against the
 * complaint's current state plus the actions admitted before it in the same batch: 403 when
 * this node or role has no authority over it (NOT_RESPONSIBLE, NOT_ASSIGNED, NOT_INTAKE,
 * WRONG_ROLE), 409 otherwise (e.g. WRONG_STATUS). An accepted action is authored with
 * Event.actor = token name, actor_role = its role, and answered once durable, with the verdict
 * the fold gave the stored event (a concurrent event from another node can still make it
 * refused: then 409 with "recorded": true).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/hlc.h"
#include "node/app/view.h"
#include "node/http/http_int.h"
#include "node/intake/actions.h"

typedef struct {
    char id[SP_TRACKING_ID_MAX];
    sp_complaint_state s;
} cache_entry;

/* States as the actions admitted in the current batch leave them (batcher thread only). */
typedef struct {
    cache_entry *v;
    size_t n, cap;
} action_cache;

typedef struct {
    sp_batch_job job; /* first */
    sp_http_req *r;
    sp_action a;
    sp_action_ctx c;
    char id[SP_TRACKING_ID_MAX];
    uint8_t *body;
    size_t len;
    sp_verdict verdict;
    sp_status status;
    int key_shared;
} action_job;

/* ---- the per-batch cache ---- */

sp_err sp__http_actions_init(sp_http *h);
void sp__http_actions_fini(sp_http *h);
void sp__http_actions_batch_done(void *arg);

sp_err sp__http_actions_init(sp_http *h) {
    return (h->action_cache = calloc(1, sizeof(action_cache))) ? SP_OK : SP_ERR_NOMEM;
}

void sp__http_actions_batch_done(void *arg) {
    action_cache *c = ((sp_http *)arg)->action_cache;
    for (size_t i = 0; i < c->n; i++)
        sp_state_clear(&c->v[i].s);
    c->n = 0;
}

void sp__http_actions_fini(sp_http *h) {
    if (!h->action_cache) return;
    sp__http_actions_batch_done(h);
    free(((action_cache *)h->action_cache)->v);
    free(h->action_cache);
    h->action_cache = NULL;
}

/* The batch's state of id, loading it on first use. */
static sp_err cache_get(sp_http *h, const char *id, cache_entry **out) {
    action_cache *c = h->action_cache;
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->v[i].id, id) == 0) {
            *out = &c->v[i];
            return SP_OK;
        }
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        cache_entry *v = realloc(c->v, cap * sizeof *v);
        if (!v) return SP_ERR_NOMEM;
        c->v = v;
        c->cap = cap;
    }
    cache_entry *e = &c->v[c->n];
    sp_err rv = sp_complaints_get(h->p->complaints, id, 0, &e->s);
    if (rv != SP_OK) {
        sp_state_clear(&e->s);
        return rv;
    }
    snprintf(e->id, sizeof e->id, "%s", id);
    c->n++;
    *out = e;
    return SP_OK;
}

/* ---- the job ---- */

/* A stamp after everything the state and our clock have seen: what the event will get. */
static uint64_t next_stamp(const sp_http *h, const sp_complaint_state *s) {
    uint64_t t = sp_hlc_make(sp_wall_ms(), 0), clock = sp_feedlog_clock(h->p->log) + 1;
    if (t < clock) t = clock;
    if (s->events && t <= s->last_hlc) t = s->last_hlc + 1;
    return t;
}

static sp_err job_admit(sp_batch_job *j, void *arg) {
    action_job *aj = (action_job *)j;
    sp_http *h = arg;
    cache_entry *e;
    sp_err rv = cache_get(h, aj->id, &e);
    if (rv != SP_OK) return rv;
    sp_fold_event ev;
    sp_action_fold_event(&aj->a, &aj->c, h->p->self->id, &ev);
    ev.seq = sp_feedlog_head(h->p->log, h->p->self->id, NULL) + 1;
    ev.hlc = next_stamp(h, &e->s);
    sp_complaint_state next;
    if ((rv = sp_state_copy(&next, &e->s)) == SP_OK)
        rv = sp_fold_apply(h->p->fold, &next, &ev, &aj->verdict);
    aj->status = e->s.status;
    if (rv == SP_OK && aj->verdict != SP_V_ACCEPTED) rv = SP_ERR_REJECTED;
    if (rv == SP_OK) { /* the next action on it in this batch sees this one */
        sp_state_clear(&e->s);
        e->s = next;
    } else {
        sp_state_clear(&next);
    }
    return rv;
}

static sp_err job_build(sp_batch_job *j, uint64_t seq, sp_wbatch *with, uint8_t **body,
                        size_t *len) {
    (void)with;
    action_job *aj = (action_job *)j;
    if (!aj->body) return SP_ERR_INVAL; /* built once, before submitting */
    *body = aj->body;
    *len = aj->len;
    aj->body = NULL;
    return SP_OK;
}

static int authority_verdict(sp_verdict v) {
    return v == SP_V_NOT_RESPONSIBLE || v == SP_V_NOT_ASSIGNED || v == SP_V_NOT_INTAKE ||
           v == SP_V_WRONG_ROLE;
}

static void reply_verdict(sp_http_req *r, const action_job *aj, int recorded) {
    int forbidden = authority_verdict(aj->verdict);
    const char *code = forbidden ? "forbidden" : "conflict";
    sp_http_count_reject(r->srv, code);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "error", code, "message",
                          sp_verdict_message(aj->verdict), "verdict", sp_verdict_name(aj->verdict),
                          "action", sp_action_name(aj->a.kind), "status",
                          sp_status_name(aj->status), "recorded", recorded);
    sp_http_reply_json(r, forbidden ? 403 : 409, o);
}

/* The verdict the fold gave our stored event (from the history: one index scan and a fold of
 * the complaint's events, no envelope read), and the state after it. */
static sp_err stored_verdict(sp_http *h, action_job *aj, uint64_t seq) {
    sp_complaint_state s;
    sp_history_entry *hist = NULL;
    size_t n = 0;
    sp_err rv = sp_complaints_get(h->p->complaints, aj->id, 0, &s);
    aj->verdict = SP_V_ACCEPTED;
    aj->status = s.status;
    if (rv == SP_OK) rv = sp_complaints_history(h->p->complaints, aj->id, &hist, &n, NULL);
    for (size_t i = n; rv == SP_OK && i-- > 0;) {
        if (hist[i].seq == seq && strcmp(hist[i].origin, h->p->self->id) == 0) {
            aj->verdict = (sp_verdict)hist[i].verdict;
            break;
        }
    }
    free(hist);
    sp_state_clear(&s);
    return rv;
}

static void reply_done(sp_http_req *r, action_job *aj, const sp_envelope *env) {
    sp_err rv = stored_verdict(r->srv, aj, env->seq);
    if (rv != SP_OK) {
        sp_http_internal_error(r, rv, "state after the action");
        return;
    }
    if (aj->verdict != SP_V_ACCEPTED) {
        reply_verdict(r, aj, 1);
        return;
    }
    atomic_fetch_add(&r->srv->m.actions[sp_action_event(aj->a.kind)], 1);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:I, s:o}}", "id", aj->id, "action",
                          sp_action_name(aj->a.kind), "verdict", "ACCEPTED", "status",
                          sp_status_name(aj->status), "event", "node", env->origin, "seq",
                          (json_int_t)env->seq, "at", sp_json_time(sp_hlc_ms(env->hlc)));
    if (o && aj->a.kind == SP_ACT_DISPOSITION) {
        json_object_set_new(o, "agency", json_string(aj->c.agency->id));
        if (aj->c.rule) json_object_set_new(o, "rule", json_string(aj->c.rule));
        json_object_set_new(o, "content_key_shared", json_boolean(aj->key_shared));
    }
    sp_http_reply_json(r, 200, o);
}

static void job_free(action_job *aj) {
    free(aj->body);
    sp_action_free(&aj->a);
    free(aj);
}

static void job_finish(sp_batch_job *j, sp_err rv, const sp_envelope *env) {
    action_job *aj = (action_job *)j;
    if (rv == SP_OK)
        reply_done(aj->r, aj, env);
    else if (rv == SP_ERR_REJECTED)
        reply_verdict(aj->r, aj, 0);
    else if (rv == SP_ERR_NOT_FOUND)
        sp_http_error(aj->r, 404, "not_found", "no complaint %s at this node", aj->id);
    else
        sp_http_internal_error(aj->r, rv, "action");
    job_free(aj);
}

static const sp_batch_job_ops action_ops = {job_admit, NULL, job_build, job_finish};

/* ---- the handler ---- */

/* The disposition's agency: named, or chosen by the routing rules. Answers 422 on failure. */
static int resolve_agency(sp_http_req *r, action_job *aj, const sp_complaint_state *s) {
    const sp_topology *t = r->srv->p->topo;
    if (aj->a.kind != SP_ACT_DISPOSITION) return 0;
    if (aj->a.by_rule) {
        const char *rule = NULL;
        if (sp_topology_route(t, s->category, s->region, &aj->c.agency, &rule) != SP_OK ||
            !aj->c.agency) {
            sp_http_error(r, 422, "unknown_region",
                          "no routing rule or responsible node for %s in %s", s->category,
                          s->region);
            return -1;
        }
        aj->c.rule = rule;
        return 0;
    }
    if (!(aj->c.agency = sp_topology_find(t, aj->a.agency))) {
        sp_http_error(r, 422, "invalid_field", "agency '%s' is not a node of the topology",
                      aj->a.agency);
        return -1;
    }
    return 0;
}

/* Whether building the event needs the content key. */
static int needs_key(const action_job *aj) {
    sp_action_kind k = aj->a.kind;
    return k == SP_ACT_DISPOSITION ||
           (aj->c.confidential && aj->a.text &&
            (k == SP_ACT_FOLLOW_UP || k == SP_ACT_COMPLETE || k == SP_ACT_COMMENT));
}

/* Build the event body (unwrapping the content key when needed). */
static sp_err build_body(sp_http_req *r, action_job *aj, const sp_complaint_state *s) {
    uint8_t key[SP_CONTENT_KEY_LEN];
    sp_complaint_events e = {0};
    sp_err rv = SP_OK;
    int have_key = 0;
    if (needs_key(aj)) {
        rv = sp_view_load(r->srv->p, s, &e);
        if (rv == SP_OK) have_key = sp_view_content_key(r->srv->p, s, &e, key) == SP_OK;
    }
    aj->c.content_key = have_key ? key : NULL;
    aj->key_shared = have_key && aj->c.agency && sp_topo_node_seal_key(aj->c.agency);
    if (rv == SP_OK) rv = sp_action_build(&aj->a, &aj->c, &aj->body, &aj->len);
    aj->c.content_key = NULL;
    memset(key, 0, sizeof key);
    sp_view_events_free(&e);
    return rv;
}

/* Parse and check the role. Answers and returns NULL when the request stops here. */
static action_job *parse(sp_http_req *r) {
    sp_intake_error err;
    action_job *aj = calloc(1, sizeof *aj);
    if (!aj) {
        sp_http_internal_error(r, SP_ERR_NOMEM, "action");
        return NULL;
    }
    if (sp_action_parse(&aj->a, (const char *)r->body, r->body_len, &err) != SP_OK) {
        free(aj);
        sp_http_intake_error(r, &err);
        return NULL;
    }
    if (!sp_action_role_allowed(aj->a.kind, r->token.role)) {
        sp_http_error(r, 403, "forbidden", "role %s may not %s", sp_role_name(r->token.role),
                      sp_action_name(aj->a.kind));
        job_free(aj);
        return NULL;
    }
    if (sp_tracking_normalize(r->params[0], aj->id) != SP_OK) /* kept for the 404's message */
        snprintf(aj->id, sizeof aj->id, "%.*s", SP_TRACKING_ID_MAX - 1, r->params[0]);
    aj->c = (sp_action_ctx){.complaint_id = aj->id, .actor = r->token.name, .role = r->token.role};
    aj->r = r;
    aj->job.ops = &action_ops;
    return aj;
}

/* Load the complaint and build the event. Returns SP_OK, an error to answer, or SP_ERR_CLOSED
 * when an answer was already given. */
static sp_err prepare(sp_http_req *r, action_job *aj) {
    sp_complaint_state s;
    sp_state_init(&s, "");
    sp_err rv = sp_tracking_id_valid(aj->id)
                    ? sp_complaints_get(r->srv->p->complaints, aj->id, 0, &s)
                    : SP_ERR_NOT_FOUND;
    if (rv == SP_OK) {
        aj->c.confidential = s.privacy == SIMPUL__V1__PRIVACY__CONFIDENTIAL;
        rv = resolve_agency(r, aj, &s) == 0 ? build_body(r, aj, &s) : SP_ERR_CLOSED;
    }
    sp_state_clear(&s);
    return rv;
}

void sp__http_complaint_action(sp_http_req *r) {
    if (sp_http_authenticate(r, 1) != 0) return;
    action_job *aj = parse(r);
    if (!aj) return;
    sp_err rv = prepare(r, aj);
    if (rv == SP_OK) {
        rv = sp_batcher_submit(r->srv->batcher, &aj->job);
        if (rv == SP_OK) return;
        sp_http_internal_error(r, rv, "queue");
    } else if (rv == SP_ERR_NOT_FOUND) {
        sp_http_error(r, 404, "not_found", "no complaint %s at this node", aj->id);
    } else if (rv == SP_ERR_FORBIDDEN) {
        sp_http_error(r, 403, "forbidden",
                      "complaint %s is confidential and this node holds no "
                      "key to seal its texts",
                      aj->id);
    } else if (rv != SP_ERR_CLOSED) {
        sp_http_internal_error(r, rv, "action");
    }
    job_free(aj);
}
