/*
 * Attachments across the federation (node/app/blob_fetch.h): who may fetch, serving a fetch at the
 * intake node, and fetching at a handling node. The serving side trusts nothing from the
 * request but its signature; it decides from the complaint's events it stores itself.
 */
#include "node/app/blob_fetch.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "node/intake/blob_wire.h"
#include "node/intake/blobs.h"
#include "node/intake/intake.h"

#define HOLDERS_MAX 64 /* distinct key holders followed per complaint; more are refused */

/* ---- who may fetch ---- */

typedef struct {
    const char *id[HOLDERS_MAX];
    size_t n;
} holders;

static int holds(const holders *h, const char *node) {
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->id[i], node) == 0) return 1;
    return 0;
}

static void add_recipients(holders *h, Simpul__V1__Sealed *const *keys, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const char *to = keys[i]->recipient;
        if (sp_node_id_valid(to) && !holds(h, to) && h->n < HOLDERS_MAX) h->id[h->n++] = to;
    }
}

/* The wraps an event gives, if it is one that gives any. */
static void event_wraps(const Simpul__V1__Event *ev, Simpul__V1__Sealed *const **keys, size_t *n) {
    *keys = NULL;
    *n = 0;
    if (ev->body_case == SIMPUL__V1__EVENT__BODY_FILED) {
        *keys = ev->filed->content_keys;
        *n = ev->filed->n_content_keys;
    } else if (ev->body_case == SIMPUL__V1__EVENT__BODY_DISPOSITIONED) {
        *keys = ev->dispositioned->content_keys;
        *n = ev->dispositioned->n_content_keys;
    } else if (ev->body_case == SIMPUL__V1__EVENT__BODY_PRIVACY_RAISED) {
        *keys = ev->privacy_raised->content_keys;
        *n = ev->privacy_raised->n_content_keys;
    }
}

/* Genuine key holders, in the fold's order: the intake node, then the recipients of wraps in
 * accepted events whose author already held the key (and so could have put it in the box). */
static void key_holders(const sp_complaint_state *s, const sp_complaint_events *e, holders *h) {
    h->n = 0;
    h->id[h->n++] = s->intake;
    for (size_t i = 0; i < e->n; i++) {
        const Simpul__V1__Event *ev = e->ev[i];
        if (!ev || e->hist[i].verdict != SP_V_ACCEPTED || !holds(h, e->hist[i].origin)) continue;
        Simpul__V1__Sealed *const *keys;
        size_t n;
        event_wraps(ev, &keys, &n);
        add_recipients(h, keys, n);
    }
}

int sp_blob_entitled(const sp_topology *topo, const sp_complaint_state *s,
                     const sp_complaint_events *e, const char *node) {
    if (!node || !*node || !s->intake[0]) return 0;
    holders h;
    key_holders(s, e, &h);
    if (holds(&h, node)) return 1;
    if (s->privacy == SIMPUL__V1__PRIVACY__CONFIDENTIAL) return 0;
    return strcmp(node, sp_topology_national(topo)->id) == 0 || strcmp(node, s->responsible) == 0 ||
           strcmp(node, s->agency) == 0;
}

int sp_blob_served_here(const sp_daemon_parts *p, const sp_complaint_state *s,
                        const sp_complaint_events *e) {
    return sp_view_is_intake(p, s) || sp_blob_entitled(p->topo, s, e, p->self->id);
}

/* ---- serving (at the intake node) ---- */

static const Simpul__V1__Attachment *find_attachment(const Simpul__V1__ComplaintContent *c,
                                                     const uint8_t sha[SP_HASH_LEN]) {
    for (size_t i = 0; c && i < c->n_attachments; i++)
        if (c->attachments[i]->sha256.len == SP_HASH_LEN &&
            memcmp(c->attachments[i]->sha256.data, sha, SP_HASH_LEN) == 0)
            return c->attachments[i];
    return NULL;
}

typedef struct {
    const char *code; /* SP_BLOB_* refusal, NULL when served */
    sp_err rv;        /* what sp_blob_serve returns */
    char message[200];
} verdict;

static void refuse(verdict *v, const char *code, sp_err rv, const char *msg) {
    v->code = code;
    v->rv = rv;
    snprintf(v->message, sizeof v->message, "%s", msg);
}

/* May q's requester have this attachment of this complaint, and do we hold it? *blob on yes. */
static void check_blob(const sp_daemon_parts *p, const sp_blob_request *q,
                       const sp_complaint_state *s, const sp_complaint_events *e, verdict *v,
                       uint8_t **blob, size_t *n) {
    if (!sp_blob_entitled(p->topo, s, e, q->requester)) {
        refuse(v, SP_BLOB_FORBIDDEN, SP_ERR_FORBIDDEN,
               "the requester may not read this complaint's content");
        return;
    }
    Simpul__V1__ComplaintContent *c = NULL;
    sp_viewer node = {1, "blob-fetch", 0}; /* the node itself, on behalf of an entitled node */
    sp_err rv = sp_view_content(p, s, e, &node, &c);
    if (rv == SP_OK && !find_attachment(c, q->sha256))
        refuse(v, SP_BLOB_NOT_FOUND, SP_ERR_NOT_FOUND, "the complaint has no such attachment");
    else if (rv != SP_OK)
        refuse(v, SP_BLOB_UNAVAILABLE, rv, "this node cannot open the complaint's content");
    else if ((rv = sp_blob_get(p->cfg->data, q->sha256, SP_INTAKE_ATTACH_BYTES, blob, n)) ==
             SP_ERR_NOT_FOUND)
        refuse(v, SP_BLOB_NOT_FOUND, SP_ERR_NOT_FOUND, "the attachment is not stored here");
    else if (rv != SP_OK)
        refuse(v, SP_BLOB_UNAVAILABLE, rv, "the stored attachment cannot be read");
    if (c) simpul__v1__complaint_content__free_unpacked(c, NULL);
}

/* A verified request: the answer, sealed, into *reply. */
static void serve_verified(const sp_daemon_parts *p, const sp_blob_request *q, verdict *v,
                           uint8_t **reply, size_t *len) {
    sp_complaint_state s;
    sp_complaint_events e = {0};
    uint8_t *blob = NULL;
    size_t n = 0;
    sp_state_init(&s, "");
    sp_err rv = sp_complaints_get(p->complaints, q->complaint_id, 0, &s);
    if (rv == SP_OK) rv = sp_view_load(p, &s, &e);
    if (rv == SP_ERR_NOT_FOUND)
        refuse(v, SP_BLOB_NOT_FOUND, rv, "no such complaint at this node");
    else if (rv != SP_OK)
        refuse(v, SP_BLOB_UNAVAILABLE, rv, "storage error");
    else
        check_blob(p, q, &s, &e, v, &blob, &n);
    const sp_topo_node *to = sp_topology_find(p->topo, q->requester);
    const sp_seal_key *k = to ? sp_topo_node_seal_key(to) : NULL;
    if (!v->code && !k)
        refuse(v, SP_BLOB_UNAVAILABLE, SP_ERR_CONFIG, "the requester has no sealing key");
    if (!v->code && (rv = sp_blob_reply_seal(q, k->id, k->key, blob, n, reply, len)) != SP_OK)
        refuse(v, SP_BLOB_UNAVAILABLE, rv, "sealing failed");
    free(blob);
    sp_view_events_free(&e);
    sp_state_clear(&s);
}

/* Parse, authenticate and place a request; v says why when it is refused. */
static void check_request(const sp_daemon_parts *p, const char *from, const uint8_t *req, size_t n,
                          sp_blob_request *q, verdict *v) {
    sp_err rv = sp_blob_request_parse(q, req, n);
    if (rv != SP_OK)
        refuse(v, SP_BLOB_MALFORMED, SP_ERR_DECODE,
               rv == SP_ERR_TOO_BIG ? "request too large" : "not a well-formed BlobRequest");
    else if (strcmp(q->requester, from) != 0)
        refuse(v, SP_BLOB_MALFORMED, SP_ERR_DECODE, "requester differs from the sender");
    else if ((rv = sp_blob_request_verify(q, p->topo)) == SP_ERR_UNKNOWN_ORIGIN)
        refuse(v, SP_BLOB_UNKNOWN_NODE, rv, "the requester is not a node of this federation");
    else if (rv != SP_OK)
        refuse(v, SP_BLOB_BAD_SIGNATURE, SP_ERR_UNKNOWN_ORIGIN,
               "the request is not signed by the requester's key");
    else if (strcmp(q->server, p->self->id) != 0)
        refuse(v, SP_BLOB_WRONG_SERVER, SP_ERR_DECODE, "the request is meant for another node");
}

const char *const sp_blob_outcome_names[SP_BLOB_OUTCOMES] = {
    "served",           SP_BLOB_MALFORMED, SP_BLOB_UNKNOWN_NODE, SP_BLOB_BAD_SIGNATURE,
    SP_BLOB_WRONG_SERVER, SP_BLOB_FORBIDDEN, SP_BLOB_NOT_FOUND,  SP_BLOB_UNAVAILABLE};
static atomic_uint_fast64_t outcomes[SP_BLOB_OUTCOMES];

static void count_outcome(const char *code) {
    for (size_t i = 0; i < SP_BLOB_OUTCOMES; i++)
        if (strcmp(sp_blob_outcome_names[i], code ? code : "served") == 0)
            atomic_fetch_add(&outcomes[i], 1);
}

void sp_blob_outcome_counts(uint64_t counts[SP_BLOB_OUTCOMES]) {
    for (size_t i = 0; i < SP_BLOB_OUTCOMES; i++) counts[i] = atomic_load(&outcomes[i]);
}

sp_err sp_blob_serve(void *ctx, const char *from, const uint8_t *req, size_t n, uint8_t **reply,
                     size_t *reply_len) {
    const sp_daemon_parts *p = ctx;
    sp_blob_request q;
    verdict v = {NULL, SP_OK, ""};
    *reply = NULL;
    check_request(p, from, req, n, &q, &v);
    if (!v.code) serve_verified(p, &q, &v, reply, reply_len);
    char hex[2 * SP_HASH_LEN + 1];
    sp_hex(q.sha256, SP_HASH_LEN, hex);
    count_outcome(v.code);
    if (!v.code) {
        sp_log_info("blob.served", "requester=%s complaint=%s sha256=%.16s", q.requester,
                    q.complaint_id, hex);
        return SP_OK;
    }
    sp_log_warn("blob.refused", "from=%.64s complaint=%s sha256=%.16s error=%s detail=\"%s\"", from,
                q.complaint_id[0] ? q.complaint_id : "-", hex, v.code, v.message);
    if (sp_blob_reply_refuse(v.code, v.message, reply, reply_len) != SP_OK) *reply = NULL;
    return v.rv;
}

/* ---- fetching (at a handling node) ---- */

typedef struct {
    const sp_daemon_parts *p;
    sp_blob_request q;
    sp_blob_fetched done;
    void *arg;
} fetch_job;

/* Open the answer, check it is the blob asked for, keep it; then tell the caller. */
static void on_answer(void *arg, sp_err rv, const uint8_t *reply, size_t n) {
    fetch_job *j = arg;
    uint8_t *blob = NULL, sha[SP_HASH_LEN];
    size_t len = 0;
    char why[256] = "";
    if (rv == SP_OK)
        rv = sp_blob_reply_open(&j->q, j->p->seal, reply, n, SP_INTAKE_ATTACH_BYTES, &blob, &len,
                                why, sizeof why);
    else if (rv == SP_ERR_REJECTED)
        snprintf(why, sizeof why, "%.*s", (int)(n < 200 ? n : 200), (const char *)reply);
    if (rv == SP_OK) rv = sp_blob_put(j->p->cfg->data, blob, len, sha);
    if (!why[0]) snprintf(why, sizeof why, "%s", sp_strerror(rv));
    char hex[2 * SP_HASH_LEN + 1];
    sp_hex(j->q.sha256, SP_HASH_LEN, hex);
    if (rv == SP_OK)
        sp_log_info("blob.fetched", "from=%s complaint=%s sha256=%.16s bytes=%zu", j->q.server,
                    j->q.complaint_id, hex, len);
    else
        sp_log_warn("blob.fetch_failed", "from=%s complaint=%s sha256=%.16s error=%s detail=\"%s\"",
                    j->q.server, j->q.complaint_id, hex, sp_errname(rv), why);
    j->done(j->arg, rv, rv == SP_OK ? blob : NULL, rv == SP_OK ? len : 0, why);
    free(blob);
    free(j);
}

sp_err sp_blob_fetch(const sp_daemon_parts *p, const sp_complaint_state *s,
                     const sp_complaint_events *e, const uint8_t sha[SP_HASH_LEN],
                     sp_blob_fetched done, void *arg) {
    if (sp_view_is_intake(p, s) || !sp_blob_entitled(p->topo, s, e, p->self->id))
        return SP_ERR_FORBIDDEN;
    const sp_topo_node *intake = sp_topology_find(p->topo, s->intake);
    if (!intake || !intake->address) return SP_ERR_NOT_FOUND;
    if (!p->rep) return SP_ERR_CLOSED;
    fetch_job *j = calloc(1, sizeof *j);
    if (!j) return SP_ERR_NOMEM;
    j->p = p;
    j->done = done;
    j->arg = arg;
    uint8_t *req = NULL;
    size_t n = 0;
    sp_err rv = sp_blob_request_make(&j->q, p->self->id, intake->id, s->id, sha, p->sign_key);
    if (rv != SP_OK) rv = SP_ERR_CONFIG;
    if (rv == SP_OK) rv = sp_blob_request_encode(&j->q, &req, &n);
    if (rv == SP_OK)
        rv = sp_replicator_ask(p->rep, intake->id, intake->address, req, n, on_answer, j);
    free(req);
    if (rv != SP_OK) free(j);
    return rv;
}
