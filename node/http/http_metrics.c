/*
 * GET /metrics (Prometheus text format 0.0.4), GET /healthz and GET /api/v1/status.
 *
 * Metrics: HTTP requests by route and status, refusals by reason, complaints filed by channel,
 * actions by kind, the batcher (group commit), the feed log, the complaint store (status
 * gauges, overdue), and replication per peer (node/app/status.h's figures).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/hlc.h"
#include "node/app/blob_fetch.h"
#include "node/app/status.h"
#include "node/http/http_int.h"

static void help(FILE *f, const char *name, const char *type, const char *text) {
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void http_metrics(FILE *f, sp_http *h) {
    size_t n = h->n_routes;
    const sp_http_route *routes = h->routes;
    help(f, "simpul_http_requests_total", "counter",
         "HTTP requests answered, by route and status.");
    for (size_t i = 0; i <= SP_HTTP_MAX_ROUTES; i++) {
        if (i >= n && i != SP_HTTP_MAX_ROUTES) continue;
        for (size_t k = 0; k < SP_HTTP_N_STATUS; k++) {
            uint64_t v = atomic_load(&h->m.requests[i][k]);
            if (!v) continue;
            char code[8];
            snprintf(code, sizeof code, "%d", k < SP_HTTP_N_STATUS - 1 ? sp__http_statuses[k] : 0);
            fprintf(f, "simpul_http_requests_total{route=\"%s\",code=\"%s\"} %llu\n",
                    i < n ? routes[i].name : "none", k < SP_HTTP_N_STATUS - 1 ? code : "other",
                    (unsigned long long)v);
        }
    }
    help(f, "simpul_http_rejects_total", "counter", "Requests refused, by reason.");
    for (size_t i = 0; i < SP_REJ__COUNT; i++)
        fprintf(f, "simpul_http_rejects_total{reason=\"%s\"} %llu\n", sp__http_reject_names[i],
                (unsigned long long)atomic_load(&h->m.rejects[i]));
}

static void intake_metrics(FILE *f, sp_http *h) {
    help(f, "simpul_intake_total", "counter", "Complaints filed here (durable), by channel.");
    for (uint32_t c = 1; c < SP_HTTP_CHANNELS; c++)
        fprintf(f, "simpul_intake_total{channel=\"%s\"} %llu\n", sp_channel_name(c),
                (unsigned long long)atomic_load(&h->m.intake[c]));
    help(f, "simpul_actions_total", "counter",
         "Actions authored here (durable, accepted), by event.");
    for (int k = 1; k < SP_EV__COUNT; k++)
        if (atomic_load(&h->m.actions[k]))
            fprintf(f, "simpul_actions_total{event=\"%s\"} %llu\n", sp_ev_kind_name((sp_ev_kind)k),
                    (unsigned long long)atomic_load(&h->m.actions[k]));
    help(f, "simpul_attachments_total", "counter", "Attachments stored as blobs.");
    fprintf(f, "simpul_attachments_total %llu\n",
            (unsigned long long)atomic_load(&h->m.attachments));
    help(f, "simpul_attachment_bytes_total", "counter", "Bytes of attachments stored.");
    fprintf(f, "simpul_attachment_bytes_total %llu\n",
            (unsigned long long)atomic_load(&h->m.attachment_bytes));
    help(f, "simpul_intake_replayed_total", "counter",
         "Retried filings (same Idempotency-Key) answered with their first filing.");
    fprintf(f, "simpul_intake_replayed_total %llu\n",
            (unsigned long long)atomic_load(&h->m.intake_replayed));
    static const char *const kinds[] = {"token", "client", "anonymous"};
    help(f, "simpul_http_rate_limited_total", "counter",
         "Requests answered 429 (limits.*), by bucket: an officer token, a client a trusted "
         "proxy names, the bucket shared by the others.");
    for (int k = 0; k < 3; k++)
        fprintf(f, "simpul_http_rate_limited_total{bucket=\"%s\"} %llu\n", kinds[k],
                (unsigned long long)atomic_load(&h->m.rate_limited[k]));
}

static void batcher_metrics(FILE *f, sp_http *h) {
    sp_batcher_stats b;
    sp_batcher_get_stats(h->batcher, &b);
    const struct {
        const char *name, *type, *text;
        uint64_t v;
    } rows[] = {
        {"simpul_batches_total", "counter", "Group commits (one fsync each).", b.batches},
        {"simpul_batch_requests_total", "counter", "Requests taken into batches.", b.jobs},
        {"simpul_batch_authored_total", "counter", "Events authored for requests.", b.authored},
        {"simpul_batch_refused_total", "counter", "Actions refused by the fold's pre-check.",
         b.refused},
        {"simpul_batch_failed_total", "counter", "Requests whose event could not be authored.",
         b.failed},
        {"simpul_batch_rebuilt_total", "counter", "Bodies re-sealed because their seq changed.",
         b.rebuilt},
        {"simpul_batch_max", "gauge", "Largest batch so far.", b.max_batch},
        {"simpul_batch_queue", "gauge", "Requests waiting for the batcher.", b.queued},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        help(f, rows[i].name, rows[i].type, rows[i].text);
        fprintf(f, "%s %llu\n", rows[i].name, (unsigned long long)rows[i].v);
    }
}

_Static_assert(SP_STAT_ST_REOPENED - SP_STAT_ST_FILED == SP_ST_REOPENED - SP_ST_FILED,
               "status gauges follow sp_status order");

static void store_metrics(FILE *f, const sp_daemon_parts *p) {
    help(f, "simpul_log_events", "gauge", "Envelopes stored in the feed log (all origins).");
    fprintf(f, "simpul_log_events %llu\n",
            (unsigned long long)(sp_feedlog_next_offset(p->log) - 1));
    help(f, "simpul_log_own_seq", "gauge", "Head of this node's own feed.");
    fprintf(f, "simpul_log_own_seq %llu\n",
            (unsigned long long)sp_feedlog_head(p->log, p->self->id, NULL));
    help(f, "simpul_log_forks_total", "counter", "Forks detected (evidence kept).");
    fprintf(f, "simpul_log_forks_total %llu\n", (unsigned long long)sp_feedlog_fork_count(p->log));
    sp_complaints_counters c;
    sp_complaints_counters_get(p->complaints, &c);
    help(f, "simpul_fold_events_total", "counter", "Complaint events folded into state.");
    fprintf(f, "simpul_fold_events_total %llu\n", (unsigned long long)c.events);
    help(f, "simpul_fold_refolds_total", "counter", "Complaints re-folded for a late event.");
    fprintf(f, "simpul_fold_refolds_total %llu\n", (unsigned long long)c.refolds);
    sp_stats g;
    int64_t overdue = 0;
    if (sp_complaints_stats_now(p->complaints, SP_SCOPE_REGION, "", sp_wall_ms(), &g, &overdue) !=
        SP_OK)
        return;
    help(f, "simpul_complaints", "gauge", "Complaints known here, by status.");
    for (int s = SP_ST_FILED; s < SP_ST__COUNT; s++)
        fprintf(f, "simpul_complaints{status=\"%s\"} %lld\n", sp_status_name((sp_status)s),
                (long long)g.v[SP_STAT_ST_FILED + s - SP_ST_FILED]);
    help(f, "simpul_complaints_overdue", "gauge",
         "Open complaints past their active SLA deadline.");
    fprintf(f, "simpul_complaints_overdue %lld\n", (long long)overdue);
}

static void peer_row(FILE *f, const char *name, const char *peer, uint64_t v) {
    fprintf(f, "%s{peer=\"%s\"} %llu\n", name, peer, (unsigned long long)v);
}

static const struct {
    const char *name, *type, *text;
    size_t offset;
} peer_fields[] = {
    {"simpul_peer_sent_events_total", "counter", "Envelopes sent to the peer.",
     offsetof(sp_peer_stats, sent_events)},
    {"simpul_peer_repaired_events_total", "counter",
     "Of the envelopes sent to the peer, those anti-entropy sent because the peer lacked them.",
     offsetof(sp_peer_stats, repaired_events)},
    {"simpul_peer_impostor_total", "counter",
     "Link openings where the peer failed to prove it holds its node's key (replica.impostor).",
     offsetof(sp_peer_stats, impostor)},
    {"simpul_peer_received_events_total", "counter", "Envelopes received from the peer.",
     offsetof(sp_peer_stats, received_events)},
    {"simpul_peer_sent_bytes_total", "counter", "Bytes sent to the peer.",
     offsetof(sp_peer_stats, sent_bytes)},
    {"simpul_peer_received_bytes_total", "counter", "Bytes received from the peer.",
     offsetof(sp_peer_stats, received_bytes)},
    {"simpul_peer_lag_events", "gauge", "Envelopes we hold that the peer is known to lack.",
     offsetof(sp_peer_stats, lag)},
    {"simpul_peer_queued", "gauge", "Envelopes queued for eager push.",
     offsetof(sp_peer_stats, queued)},
    {"simpul_peer_queue_dropped_total", "counter",
     "Push queue overflows (repaired by anti-entropy).", offsetof(sp_peer_stats, queue_dropped)},
    {"simpul_peer_sync_rounds_total", "counter", "Anti-entropy rounds completed.",
     offsetof(sp_peer_stats, sync_rounds)},
    {"simpul_peer_failures_total", "counter", "Failed requests to the peer.",
     offsetof(sp_peer_stats, failures)},
};

static void peer_metrics(FILE *f, const sp_daemon_parts *p) {
    sp_peer_stats *ps;
    size_t n;
    sp_server_stats ss;
    if (!p->rep || sp_replicator_stats(p->rep, &ps, &n, &ss) != SP_OK) return;
    uint64_t now = sp_wall_ms();
    help(f, "simpul_peer_up", "gauge", "1 when the last request to the peer succeeded.");
    for (size_t i = 0; i < n; i++)
        peer_row(f, "simpul_peer_up", ps[i].id, (uint64_t)ps[i].connected);
    for (size_t k = 0; k < sizeof peer_fields / sizeof *peer_fields; k++) {
        help(f, peer_fields[k].name, peer_fields[k].type, peer_fields[k].text);
        for (size_t i = 0; i < n; i++)
            peer_row(f, peer_fields[k].name, ps[i].id,
                     *(const uint64_t *)((const char *)&ps[i] + peer_fields[k].offset));
    }
    help(f, "simpul_peer_agrees", "gauge",
         "1 when the peer has the same topology, calendar and SLA policy, 0 when not (see "
         "simpul_peer_disagrees), -1 before the first sync.");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "simpul_peer_agrees{peer=\"%s\"} %d\n", ps[i].id,
                !ps[i].agreement_known ? -1 : !ps[i].disagrees[0]);
    help(f, "simpul_peer_disagrees", "gauge", "1 for each part the peer has otherwise.");
    for (size_t i = 0; i < n; i++)
        for (const char *s = ps[i].disagrees; *s;) {
            size_t len = strcspn(s, ",");
            fprintf(f, "simpul_peer_disagrees{peer=\"%s\",part=\"%.*s\"} 1\n", ps[i].id, (int)len, s);
            s += len + (s[len] == ',');
        }
    help(f, "simpul_peer_last_contact_seconds", "gauge",
         "Seconds since the last successful exchange (-1: never).");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "simpul_peer_last_contact_seconds{peer=\"%s\"} %.3f\n", ps[i].id,
                ps[i].last_contact_ms ? (double)(now - ps[i].last_contact_ms) / 1000.0 : -1.0);
    help(f, "simpul_peer_rejects_total", "counter",
         "Envelopes from the peer rejected, by reason; TLS_REFUSED: failed TLS handshakes.");
    for (size_t i = 0; i < n; i++) {
        for (int e = 0; e < SP_ERR__COUNT; e++)
            if (ps[i].rejects[e])
                fprintf(f, "simpul_peer_rejects_total{peer=\"%s\",reason=\"%s\"} %llu\n", ps[i].id,
                        sp_errname((sp_err)e), (unsigned long long)ps[i].rejects[e]);
        if (ps[i].tls_refused)
            fprintf(f, "simpul_peer_rejects_total{peer=\"%s\",reason=\"TLS_REFUSED\"} %llu\n",
                    ps[i].id, (unsigned long long)ps[i].tls_refused);
    }
    help(f, "simpul_peer_server_requests_total", "counter",
         "Requests served to peers, by outcome.");
    fprintf(f, "simpul_peer_server_requests_total{outcome=\"all\"} %llu\n",
            (unsigned long long)ss.requests);
    fprintf(f, "simpul_peer_server_requests_total{outcome=\"unknown_peer\"} %llu\n",
            (unsigned long long)ss.unknown_peer);
    fprintf(f, "simpul_peer_server_requests_total{outcome=\"malformed\"} %llu\n",
            (unsigned long long)ss.malformed);
    fprintf(f, "simpul_peer_server_requests_total{outcome=\"oversized\"} %llu\n",
            (unsigned long long)ss.oversized);
    fprintf(f, "simpul_peer_server_requests_total{outcome=\"unauthenticated\"} %llu\n",
            (unsigned long long)ss.unauthenticated);
    fprintf(f, "simpul_peer_server_requests_total{outcome=\"bad_proof\"} %llu\n",
            (unsigned long long)ss.bad_proof);
    help(f, "simpul_peer_server_tls_refused_total", "counter",
         "TLS handshakes of dialing nodes that failed (NNG does not say which node).");
    fprintf(f, "simpul_peer_server_tls_refused_total %llu\n", (unsigned long long)ss.tls_refused);
    free(ps);
}

static void blob_metrics(FILE *f) {
    uint64_t counts[SP_BLOB_OUTCOMES];
    sp_blob_outcome_counts(counts);
    help(f, "simpul_blob_requests_total", "counter",
         "Attachment requests from other nodes answered here as the intake node, by outcome.");
    for (size_t i = 0; i < SP_BLOB_OUTCOMES; i++)
        fprintf(f, "simpul_blob_requests_total{outcome=\"%s\"} %llu\n", sp_blob_outcome_names[i],
                (unsigned long long)counts[i]);
}

/* NNG's own counters of every listening socket of this process (peer, stream, replay; the
 * HTTP server's listener has none): connections accepted and refused, protocol errors (what a
 * port scanner or garbage sender causes before any of our code sees a message). */
static void listener_scope(FILE *f, nng_stat *ep) {
    const char *url = NULL;
    for (nng_stat *c = nng_stat_child(ep); c; c = nng_stat_next(c))
        if (nng_stat_type(c) == NNG_STAT_STRING && strcmp(nng_stat_name(c), "url") == 0)
            url = nng_stat_string(c);
    if (!url) return;
    for (nng_stat *c = nng_stat_child(ep); c; c = nng_stat_next(c))
        if (nng_stat_type(c) == NNG_STAT_COUNTER)
            fprintf(f, "simpul_listener_events_total{url=\"%s\",event=\"%s\"} %llu\n", url,
                    nng_stat_name(c), (unsigned long long)nng_stat_value(c));
}

static void listener_walk(FILE *f, nng_stat *s) {
    for (; s; s = nng_stat_next(s)) {
        if (nng_stat_type(s) != NNG_STAT_SCOPE) continue;
        if (strcmp(nng_stat_name(s), "listener") == 0)
            listener_scope(f, s);
        else
            listener_walk(f, nng_stat_child(s));
    }
}

static void listener_metrics(FILE *f) {
    nng_stat *root;
    if (nng_stats_get(&root) != 0) return;
    help(f, "simpul_listener_events_total", "counter",
         "NNG's counters of each listening socket (peer, stream, replay): accepted and refused "
         "connections, protocol and authentication errors.");
    listener_walk(f, root);
    nng_stats_free(root);
}

void sp__http_metrics(sp_http_req *r) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        sp_http_internal_error(r, SP_ERR_NOMEM, "metrics");
        return;
    }
    http_metrics(f, r->srv);
    intake_metrics(f, r->srv);
    batcher_metrics(f, r->srv);
    store_metrics(f, r->srv->p);
    peer_metrics(f, r->srv->p);
    listener_metrics(f);
    blob_metrics(f);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        sp_http_internal_error(r, SP_ERR_NOMEM, "metrics");
    else
        sp_http_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", buf, len);
    free(buf);
}

void sp__http_healthz(sp_http_req *r) {
    const sp_daemon_parts *p = r->srv->p;
    int ok = p->store && p->log && p->topo && p->complaints && sp_topology_count(p->topo) > 0;
    json_t *o = json_pack("{s:s, s:s, s:b, s:b}", "status", ok ? "ok" : "unavailable", "node",
                          p->self->id, "store", p->store && p->log, "topology", p->topo != NULL);
    sp_http_reply_json(r, ok ? 200 : 503, o);
}

void sp__http_status(sp_http_req *r) {
    sp_http_reply_json(r, 200, sp_status_json(r->srv->p));
}
