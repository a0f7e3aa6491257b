#include "node/app/status.h"

#include <stdlib.h>

/* Envelopes rejected by reason, and the peer's refused TLS handshakes as TLS_REFUSED: both
 * are what this node would not take from the peer, and `simpul status` sums them. */
static json_t *rejects_json(const sp_peer_stats *s) {
    json_t *o = json_object();
    for (int e = 0; e < SP_ERR__COUNT; e++)
        if (s->rejects[e])
            json_object_set_new(o, sp_errname((sp_err)e), json_integer((json_int_t)s->rejects[e]));
    if (s->tls_refused) json_object_set_new(o, "TLS_REFUSED", json_integer((json_int_t)s->tls_refused));
    return o;
}

static json_t *peer_json(const sp_peer_stats *s) {
    json_t *o = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                          "id", s->id, "address", s->address, "connected", s->connected,
                          "sent_events", (json_int_t)s->sent_events, "repaired_events",
                          (json_int_t)s->repaired_events, "sent_bytes",
                          (json_int_t)s->sent_bytes, "received_events",
                          (json_int_t)s->received_events, "received_bytes",
                          (json_int_t)s->received_bytes, "lag", (json_int_t)s->lag,
                          "last_contact_ms", (json_int_t)s->last_contact_ms, "queued",
                          (json_int_t)s->queued, "queue_dropped", (json_int_t)s->queue_dropped,
                          "sync_rounds", (json_int_t)s->sync_rounds, "failures",
                          (json_int_t)s->failures);
    if (o) json_object_set_new(o, "impostor", json_integer((json_int_t)s->impostor));
    if (o) json_object_set_new(o, "rejects", rejects_json(s));
    /* "agrees", "differs: calendar,policy", or "unknown" before the first sync */
    char agreement[sizeof s->disagrees + 16];
    snprintf(agreement, sizeof agreement, "%s%s", !s->agreement_known ? "unknown"
                                                  : s->disagrees[0] ? "differs: " : "agrees",
             s->agreement_known ? s->disagrees : "");
    if (o) json_object_set_new(o, "agreement", json_string(agreement));
    return o;
}

static json_t *heads_json(sp_feedlog *log, uint64_t *events) {
    sp_vv_entry *vv;
    size_t n;
    json_t *o = json_object();
    *events = 0;
    if (sp_feedlog_version_vector(log, &vv, &n) != SP_OK) return o;
    for (size_t i = 0; i < n; i++) {
        json_object_set_new(o, vv[i].origin, json_integer((json_int_t)vv[i].seq));
        *events += vv[i].seq;
    }
    free(vv);
    return o;
}

json_t *sp_status_json(const sp_daemon_parts *p) {
    uint64_t events;
    json_t *heads = heads_json(p->log, &events);
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "node", p->self->id, "name",
                          p->self->name ? p->self->name : "", "events", (json_int_t)events,
                          "next_offset", (json_int_t)sp_feedlog_next_offset(p->log), "forks",
                          (json_int_t)sp_feedlog_fork_count(p->log), "hlc",
                          (json_int_t)sp_feedlog_clock(p->log));
    if (!o) {
        json_decref(heads);
        return NULL;
    }
    json_object_set_new(o, "heads", heads);
    if (p->agreement) json_object_set_new(o, "agreement", json_string(p->agreement));
    sp_peer_stats *ps;
    size_t np;
    sp_server_stats ss;
    if (p->rep && sp_replicator_stats(p->rep, &ps, &np, &ss) == SP_OK) {
        json_t *arr = json_array();
        for (size_t i = 0; i < np; i++) json_array_append_new(arr, peer_json(&ps[i]));
        json_object_set_new(o, "peers", arr);
        json_object_set_new(o, "server",
                            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "requests",
                                      (json_int_t)ss.requests, "unknown_peer",
                                      (json_int_t)ss.unknown_peer, "malformed",
                                      (json_int_t)ss.malformed, "oversized",
                                      (json_int_t)ss.oversized, "tls_refused",
                                      (json_int_t)ss.tls_refused, "unauthenticated",
                                      (json_int_t)ss.unauthenticated, "bad_proof",
                                      (json_int_t)ss.bad_proof));
        free(ps);
    }
    return o;
}
