#include "node/daemon.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "broker/replica_store.h"
#include "node/app/backup.h"
#include "node/app/blob_fetch.h"
#include "node/app/control.h"
#include "node/app/sla_timer.h"
#include "node/app/stream_node.h"
#include "node/http/http.h"
#include "node/lifecycle/calendar.h"

#define MAX_PEERS 1024

struct sp_daemon {
    sp_daemon_parts parts;
    sp_node_config *cfg;
    sp_topology *topo;
    sp_key *sign_key;
    sp_seal_keyring seal;
    sp_calendar *calendar;
    sp_sla_policy policy;
    sp_fold_ctx fold;
    sp_complaints *complaints;
    sp_store *store;
    sp_feedlog *log;
    sp_replica_adapter adapter;
    sp_replica_store ops;
    sp_peer_config *peers;
    size_t n_peers;
    sp_replicator *rep;
    sp_stream *stream;
    sp_sla_timer *sla;
    sp_control *control;
    sp_http *http;
    char agreement[96]; /* parts.agreement */
};

static sp_err load_config(sp_daemon *d, const char *path) {
    sp_diag_list diags;
    sp_diag_list_init(&diags);
    sp_err rv = sp_node_config_load(&d->cfg, path, &diags);
    sp_diag_list_print(&diags, stderr, 20);
    sp_diag_list_clear(&diags);
    if (rv != SP_OK) return rv;
    int lvl = sp_log_parse_level(d->cfg->log_level);
    if (lvl >= 0) sp_log_set_level((sp_log_level)lvl);
    sp_diag_list_init(&diags);
    rv = sp_topology_load(&d->topo, d->cfg->topology, &diags);
    sp_diag_list_print(&diags, stderr, 20);
    sp_diag_list_clear(&diags);
    if (rv != SP_OK) {
        sp_log_error("daemon.topology", "file=%s error=\"%s\"", d->cfg->topology, sp_strerror(rv));
        return rv;
    }
    d->parts.self = sp_topology_find(d->topo, d->cfg->node);
    if (!d->parts.self) {
        sp_log_error("daemon.config", "detail=\"node '%s' is not in topology %s\"", d->cfg->node,
                     d->cfg->topology);
        return SP_ERR_CONFIG;
    }
    return SP_OK;
}

/* Our private keys; the signing key must be the one the topology publishes for us. */
static sp_err load_keys(sp_daemon *d) {
    char path[4200];
    snprintf(path, sizeof path, "%s/node.key", d->cfg->keys);
    sp_err rv = sp_key_load_pem(&d->sign_key, path, SP_KEY_ED25519);
    if (rv == SP_OK && !sp_key_has_private(d->sign_key)) rv = SP_ERR_CRYPTO;
    if (rv != SP_OK) {
        sp_log_error("daemon.key", "file=%s error=\"%s\"", path, sp_strerror(rv));
        return rv;
    }
    uint8_t pub[SP_PUBKEY_LEN];
    if ((rv = sp_key_raw_public(d->sign_key, pub)) != SP_OK) return rv;
    if (d->parts.self->has_sign_pub && memcmp(pub, d->parts.self->sign_pub, SP_PUBKEY_LEN) != 0) {
        sp_log_error("daemon.key", "file=%s detail=\"not the signing key the topology lists for %s\"",
                     path, d->parts.self->id);
        return SP_ERR_CONFIG;
    }
    if (sp_seal_keyring_load(&d->seal, d->cfg->keys) != SP_OK)
        sp_log_warn("daemon.key", "dir=%s detail=\"no sealing key: sealed fields cannot be opened "
                    "here\"", d->cfg->keys);
    return SP_OK;
}

/* The calendar and SLA policy: the shipped calendar, then the configured file on top. */
static sp_err load_calendar(sp_daemon *d) {
    sp_err rv = sp_calendar_new(&d->calendar);
    sp_sla_policy_default(&d->policy); /* the calendar files only override it */
    if (rv == SP_OK) rv = sp_calendar_load_builtin(d->calendar, &d->policy);
    if (rv == SP_OK && d->cfg->calendar) {
        sp_diag_list diags;
        sp_diag_list_init(&diags);
        rv = sp_calendar_load_file(d->calendar, &d->policy, d->cfg->calendar, &diags);
        sp_diag_list_print(&diags, stderr, 20);
        sp_diag_list_clear(&diags);
    }
    /* A node that keeps every feed folds every complaint; one that keeps its region folds the
     * complaints that can reach it whole (fold.h). */
    d->fold = (sp_fold_ctx){.topo = d->topo, .cal = d->calendar, .policy = &d->policy,
                            .self = d->cfg->keep_all ? NULL : d->parts.self};
    return rv;
}

static sp_err open_log(sp_daemon *d) {
    sp_err rv = sp_store_open(&d->store, d->cfg->data, SP_NODE_CFS);
    if (rv == SP_ERR_LOCKED)
        sp_log_error("daemon.store", "data=%s detail=\"locked: is another simpul running on it?\"", d->cfg->data);
    if (rv != SP_OK) return rv;
    if ((rv = sp_feedlog_open(&d->log, d->store, d->parts.self->id, d->sign_key)) != SP_OK) return rv;
    for (size_t i = 0; i < sp_topology_count(d->topo); i++) {
        const sp_topo_node *n = sp_topology_node_at(d->topo, i);
        if (!n->has_sign_pub || strcmp(n->id, d->parts.self->id) == 0) continue;
        rv = sp_feedlog_add_origin_key(d->log, n->id, n->sign_pub);
        if (rv == SP_ERR_EXISTS)
            sp_log_error("daemon.key_changed", "origin=%s detail=\"the topology's key differs from "
                         "the key its stored chain was verified with; its events will be refused\"", n->id);
        else if (rv != SP_OK)
            return rv;
    }
    return SP_OK;
}

/* keep: region (topology/topology.h); national always keeps everything. */
static int keeps_region(void *arg, const char *origin) {
    const sp_daemon *d = arg;
    return sp_topology_keeps_region(d->topo, d->parts.self, origin);
}

static sp_err on_stage(void *arg, sp_wbatch *b, const sp_envelope *const *envs,
                       const uint64_t *offsets, size_t n) {
    sp_daemon *d = arg;
    return sp_complaints_stage(d->complaints, b, envs, offsets, n);
}

static void on_committed(void *arg, const sp_envelope *const *envs, const uint64_t *offsets, size_t n) {
    sp_daemon *d = arg;
    if (d->rep) sp_replicator_offer(d->rep, envs, n);
    if (d->stream) sp_node_stream_publish(d->stream, &d->parts, envs, offsets, n);
}

static sp_err start_replication(sp_daemon *d) {
    const sp_topo_node *peers[MAX_PEERS];
    size_t n = sp_topology_peers(d->topo, d->parts.self->id, peers, MAX_PEERS);
    if (n > MAX_PEERS) n = MAX_PEERS;
    if (!(d->peers = calloc(n ? n : 1, sizeof *d->peers))) return SP_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        if (peers[i]->address)
            d->peers[d->n_peers++] = (sp_peer_config){
                peers[i]->id, peers[i]->address,
                .lazy = !sp_topology_tree_link(d->parts.self, peers[i]),
                .sign_pub = peers[i]->has_sign_pub ? peers[i]->sign_pub : NULL};
    int keep_all = d->cfg->keep_all || d->parts.self->kind == SP_NODE_NATIONAL;
    d->adapter = (sp_replica_adapter){d->log, keep_all ? NULL : keeps_region, d};
    sp_replica_store_init(&d->ops, &d->adapter);
    snprintf(d->agreement, sizeof d->agreement, "topology=%016" PRIx64 ";calendar=%016" PRIx64
             ";policy=%016" PRIx64, sp_topology_fingerprint(d->topo),
             sp_calendar_fingerprint(d->calendar), sp_sla_policy_fingerprint(&d->policy));
    d->parts.agreement = d->agreement;
    sp_replicator_config rc = {
        .self = d->parts.self->id, .listen = d->cfg->listen_peer, .peers = d->peers,
        .n_peers = d->n_peers, .tls_cert_key_file = d->cfg->tls_cert, .tls_ca_file = d->cfg->tls_ca,
        .sync_interval_ms = d->cfg->sync_interval_ms, .request_timeout_ms = d->cfg->request_timeout_ms,
        .push_batch = d->cfg->push_batch, .queue_limit = d->cfg->queue_limit,
        .agreement = d->agreement, .sign_key = d->sign_key, /* links bound to node keys */
        .blob_serve = sp_blob_serve, .blob_ctx = &d->parts}; /* attachments: node/app/blob_fetch.h */
    sp_feedlog_hooks hooks = {on_stage, on_committed, d};
    sp_feedlog_set_hooks(d->log, &hooks);
    return sp_replicator_start(&d->rep, &rc, &d->ops);
}

/* A node that lost its data comes back with an empty feed of its own, and one restored from a
 * backup with an old one. Authoring the next seq would fork its own chain, so first give every
 * peer one anti-entropy round to send back the feed they hold (bounded wait: a node alone, or
 * its peers down, starts anyway). */
static void recover_own_feed(sp_daemon *d) {
    const char *data = d->parts.cfg->data;
    int restored = sp_backup_restored(data);
    if (d->n_peers == 0 || (!restored && sp_feedlog_head(d->log, d->parts.self->id, NULL) > 0)) {
        if (restored) sp_backup_clear_restored(data);
        return;
    }
    uint64_t before = sp_feedlog_head(d->log, d->parts.self->id, NULL);
    for (int i = 0; i < 100; i++) { /* 10 s at most */
        sp_peer_stats *ps;
        size_t n, synced = 0;
        if (sp_replicator_stats(d->rep, &ps, &n, NULL) != SP_OK) return;
        for (size_t k = 0; k < n; k++) synced += ps[k].sync_rounds > 0;
        free(ps);
        if (synced == n) break;
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    sp_log_info("daemon.own_feed", "node=%s restored=%d seq_before=%llu recovered_seq=%llu",
                d->parts.self->id, restored, (unsigned long long)before,
                (unsigned long long)sp_feedlog_head(d->log, d->parts.self->id, NULL));
    if (restored) sp_backup_clear_restored(data); /* only once the peers were asked */
}

/* Derived state computed by another version's rules is recomputed before anything commits (a
 * node upgraded in place); state from a newer version is refused rather than mixed. */
static sp_err refresh_derived(sp_daemon *d) {
    uint32_t found = 0;
    sp_err rv = sp_complaints_format(d->complaints, &found);
    if (rv != SP_OK || found == SP_COMPLAINTS_FORMAT) return rv;
    if (found > SP_COMPLAINTS_FORMAT) {
        sp_log_error("daemon.derived_format",
                     "data=%s format=%u supported=%u detail=\"the complaint state was written by "
                     "a newer simpul; run that version, or this one's 'simpul rebuild'\"",
                     d->cfg->data, (unsigned)found, (unsigned)SP_COMPLAINTS_FORMAT);
        return SP_ERR_CONFIG;
    }
    sp_log_warn("daemon.rebuild", "data=%s format=%u now=%u detail=\"complaint state and "
                "statistics are in an older format: recomputing them from the feeds\"",
                d->cfg->data, (unsigned)found, (unsigned)SP_COMPLAINTS_FORMAT);
    sp_rebuild_result res;
    rv = sp_complaints_rebuild(d->store, &d->fold, NULL, NULL, &res);
    if (rv == SP_OK)
        sp_log_info("daemon.rebuilt", "events=%llu complaints=%llu stats_rows=%llu",
                    (unsigned long long)res.events, (unsigned long long)res.complaints,
                    (unsigned long long)res.stats_rows);
    return rv;
}

sp_err sp_daemon_start(sp_daemon **out, const char *config_path) {
    sp_daemon *d = calloc(1, sizeof *d);
    if (!d) return SP_ERR_NOMEM;
    sp_err rv = load_config(d, config_path);
    if (rv == SP_OK) rv = load_keys(d);
    if (rv == SP_OK) rv = load_calendar(d);
    if (rv == SP_OK) rv = open_log(d);
    if (rv == SP_OK) rv = sp_complaints_open(&d->complaints, d->store, &d->fold);
    if (rv == SP_OK) rv = refresh_derived(d); /* before the log's hooks fold anything */
    if (rv == SP_OK) {
        d->parts = (sp_daemon_parts){.cfg = d->cfg,
                                     .topo = d->topo,
                                     .self = d->parts.self,
                                     .store = d->store,
                                     .log = d->log,
                                     .rep = NULL, /* set once replication runs */
                                     .sign_key = d->sign_key,
                                     .seal = &d->seal,
                                     .complaints = d->complaints,
                                     .fold = &d->fold};
        if (d->cfg->listen_stream) rv = sp_node_stream_start(&d->stream, &d->parts);
    }
    if (rv == SP_OK) rv = start_replication(d); /* from here on, commits come from peers too */
    d->parts.rep = d->rep;
    if (rv == SP_OK) recover_own_feed(d);
    if (rv == SP_OK) rv = sp_sla_timer_start(&d->sla, &d->parts);
    if (rv == SP_OK) rv = sp_control_start(&d->control, &d->parts);
    if (rv == SP_OK && d->cfg->listen_http) rv = sp_http_start(&d->http, &d->parts);
    if (rv != SP_OK) {
        sp_daemon_stop(d);
        return rv;
    }
    sp_log_info("daemon.started", "node=%s peers=%zu listen=%s data=%s", d->parts.self->id,
                d->n_peers, d->cfg->listen_peer, d->cfg->data);
    *out = d;
    return SP_OK;
}

const sp_daemon_parts *sp_daemon_get_parts(const sp_daemon *d) {
    return &d->parts;
}

void sp_daemon_stop(sp_daemon *d) {
    if (!d) return;
    sp_http_stop(d->http); /* first: queued requests are still authored and answered */
    sp_control_stop(d->control);
    sp_sla_timer_stop(d->sla);
    sp_replicator_stop(d->rep); /* no more peers writing into the log */
    if (d->log) {
        sp_feedlog_hooks none = {0};
        sp_feedlog_set_hooks(d->log, &none);
    }
    sp_stream_stop(d->stream);
    sp_complaints_close(d->complaints);
    sp_feedlog_close(d->log);
    sp_store_close(d->store);
    sp_key_free(d->sign_key);
    sp_seal_keyring_clear(&d->seal);
    sp_calendar_free(d->calendar);
    free(d->peers);
    sp_topology_free(d->topo);
    if (d->cfg) sp_log_info("daemon.stopped", "node=%s", d->cfg->node);
    sp_node_config_free(d->cfg);
    free(d);
}
