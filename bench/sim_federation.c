/*
 * sim_federation: the whole national federation in one process (issue 12).
 *
 *   sim_federation [--smoke] [--burst N] [--warmup R] [--provinces 35,13,...] [--ministries K]
 *                  [--topology FILE] [--districts FILE] [--dir DIR] [--keep] [--seed S]
 *                  [--sync-ms MS] [--timeout-ms MS] [--no-scenarios]
 *
 * Defaults: the whole topology, a 10,000-event burst after 3 warm-up rounds, the replicator's
 * own defaults (anti-entropy every 10 s, 5 s request timeout). --smoke (CTest): Jawa Timur and
 * Sumatera Barat with national and 3 ministries (63 nodes), a 600-event burst, 1 s anti-entropy
 * and timeout, every scenario and check.
 *
 * Every node of the generated national topology (deploy/topology/: national, 47 ministries and
 * lembaga, 38 provinces, 514 kabupaten/kota) runs the code the daemon runs: its own RocksDB
 * store, feed log, complaint fold (the log's stage hook) and replicator, linked to its
 * topology peers over NNG inproc:// with the daemon's scoped replication (keep: region). One
 * process rather than 600: the question is whether the design fits 2 cores and 24 GiB, and in
 * one process the stores share one block cache and small memtable budgets (broker/store.h),
 * which 600 separate daemons could not, and inproc measures the protocol, not the kernel's
 * loopback. What the daemon adds on top (HTTP, stream, SLA timer) is not run.
 *
 * Load, in rounds: complaints are filed at kabupaten/kota nodes in proportion to their number
 * of districts (bench/data/districts.tsv), through the real intake builder (identity sealed);
 * every node then reads its own folded state (sp_complaints_list) and acts on what it holds,
 * as its officers would: the responsible node verifies and dispositions by the routing rules
 * (to itself, or to a ministry or lembaga for their categories), the agency follows up and
 * completes or sometimes reroutes, the intake node records the reporter's feedback. A node only
 * acts on what has reached it, so lifecycles advance one step per round.
 *
 * Measured: after warm-up rounds, a burst of N events (filings + every action due) authored as
 * fast as the nodes can, and the time until every node holds every event it keeps; latency from
 * a kota's acknowledged write to the national's commit (p50/p99); per node and kind, copies of
 * each event received, requests and bytes per stored event; RSS and threads. Then the failure
 * scenarios: a province offline while the rest files and acts, then healed; a 10 % lossy link
 * (a proxy on the national <-> province link drops a tenth of the messages each way); the
 * national node rebuilt from an empty directory. Finally the national node's statistics must
 * equal what the driver filed and resolved, nationally and per province (exit 1 otherwise).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "base/diag.h"
#include "base/log.h"
#include "base/strmap.h"
#include "bench/bench_util.h"
#include "broker/feedlog.h"
#include "broker/hlc.h"
#include "broker/replica_store.h"
#include "broker/replicator.h"
#include "node/intake/actions.h"
#include "node/intake/intake.h"
#include "node/lifecycle/calendar.h"
#include "node/lifecycle/complaints.h"
#include "tests/unit/testutil.h"

#ifndef SP_SOURCE_DIR
#define SP_SOURCE_DIR "."
#endif

#define AUTHORED_CAP 8192  /* per node: acknowledgement times of its first events (latency) */
#define CONVERGE_LIMIT_S 600
#define LIST_PAGE 1000

typedef struct {
    size_t burst, warmup, ministries;
    uint32_t sync_ms, timeout_ms; /* replicator: anti-entropy period, request timeout; 0 default */
    const char *provinces; /* comma-separated codes, NULL: all */
    const char *topology, *districts, *dir;
    int keep, scenarios, smoke;
    uint64_t seed;
} opts;

struct sim;

typedef struct {
    struct sim *s;
    const sp_topo_node *t;
    size_t index;
    char dir[300];
    char listen[96];
    sp_key *sign;
    uint8_t sign_pub[SP_PUBKEY_LEN];
    sp_store *store;
    sp_feedlog *log;
    sp_fold_ctx fold; /* the federation's, for this node (sp_fold_ctx.self) */
    sp_complaints *complaints;
    sp_replica_adapter adapter;
    sp_replica_store ops;
    sp_peer_config *peers;
    char (*peer_addr)[96];
    size_t n_peers;
    sp_replicator *rep;
    int running;
    int cut_off;          /* unreachable on purpose: left out of convergence checks */
    uint64_t next_number; /* filings made here */
    uint32_t districts;   /* filing weight (kabupaten/kota only) */
    size_t *keeps;        /* indices of the nodes whose feeds it keeps */
    size_t n_keeps;
    _Atomic uint64_t *authored_ms; /* [seq]: when the write of seq was acknowledged */
    double converged_at;
} simnode;

/* A proxy that forwards one direction of a peer link and drops a share of the messages. */
typedef struct {
    char front[96], back[96];
    nng_socket rep, req;
    pthread_t up, down;
    atomic_uint drop_pct;
    atomic_int stop;
    _Atomic uint64_t forwarded, dropped;
    uint64_t seed;
} lossy;

typedef struct sim {
    opts o;
    char root[256];
    sp_topology *topo;
    sp_calendar *cal;
    sp_sla_policy policy;
    sp_fold_ctx fold;
    sp_store_cache *cache;
    sp_store_options store_opts;
    simnode *nodes;
    size_t n;
    sp_strmap by_id; /* id -> simnode * */
    simnode *national;
    uint64_t rng;
    /* filing sites */
    simnode **sites;
    uint64_t *site_cum; /* cumulative districts */
    size_t n_sites;
    /* latency kota -> national, collected by the national's commit hook */
    pthread_mutex_t lat_lock;
    double *lat;
    size_t n_lat, cap_lat;
    atomic_int lat_on;
    /* what the driver did, to check the national's statistics against */
    uint64_t filed, resolved;
    uint64_t filed_prov[100];
    lossy *lossy_up, *lossy_down;
    const char *lossy_a, *lossy_b; /* the lossy link's two ends */
    int failed;
} sim;

static void die(const char *what, sp_err rv) {
    fprintf(stderr, "sim_federation: %s: %s\n", what, sp_strerror(rv));
    exit(1);
}

static uint64_t rnd(uint64_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static double now_s(void) {
    return sp_bench_now_s();
}

/* ---- process figures ---- */

static long proc_status(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') v = atol(line + n + 1);
    if (f) fclose(f);
    return v;
}

static double rss_mib(void) {
    return (double)proc_status("VmRSS") / 1024.0;
}

/* ---- the topology, with a key pair per node ---- */

typedef struct {
    char sign_b64[64], seal_b64[64];
} keytext;

static sp_err pub_b64(const sp_key *k, char out[64]) {
    uint8_t pub[SP_PUBKEY_LEN];
    sp_err rv = sp_key_raw_public(k, pub);
    if (rv == SP_OK) sp_base64_encode(pub, SP_PUBKEY_LEN, out);
    return rv;
}

/* Copy one topology file into dir, giving every node its public keys (made here). */
static sp_err copy_with_keys(const char *from, const char *to, sp_strmap *keys) {
    FILE *in = fopen(from, "r"), *out = fopen(to, "w");
    char line[1024];
    sp_err rv = in && out ? SP_OK : SP_ERR_IO;
    while (rv == SP_OK && fgets(line, sizeof line, in)) {
        fputs(line, out);
        char id[SP_MAX_ORIGIN + 1];
        if (sscanf(line, "  - id: %64s", id) != 1) continue;
        sp_key *sign, *seal;
        if ((rv = sp_key_generate(&sign, SP_KEY_ED25519)) != SP_OK) break;
        if ((rv = sp_key_generate(&seal, SP_KEY_X25519)) != SP_OK) break;
        keytext kt;
        if ((rv = pub_b64(sign, kt.sign_b64)) == SP_OK) rv = pub_b64(seal, kt.seal_b64);
        sp_key_free(seal); /* nobody here opens what is sealed: the public half is enough */
        if (rv == SP_OK) rv = sp_strmap_put(keys, id, sign, NULL);
        if (rv != SP_OK) break;
        fprintf(out, "    sign_key: %s\n    seal_key: %s\n", kt.sign_b64, kt.seal_b64);
    }
    if (in) fclose(in);
    if (out && fclose(out) != 0) rv = SP_ERR_IO;
    return rv;
}

/* The topology of o->topology (national.yaml and its provinces/) copied under root with keys;
 * keys receives id -> sp_key * (signing key, owned by the caller). */
static sp_err keyed_topology(sim *s, sp_strmap *keys, char *path, size_t cap) {
    char src_dir[512], dst_dir[600], from[1100], to[1100];
    snprintf(src_dir, sizeof src_dir, "%s", s->o.topology);
    char *slash = strrchr(src_dir, '/');
    if (slash) *slash = '\0';
    else snprintf(src_dir, sizeof src_dir, ".");
    snprintf(dst_dir, sizeof dst_dir, "%s/topology/provinces", s->root);
    char cmd[800];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dst_dir);
    if (system(cmd) != 0) return SP_ERR_IO;
    snprintf(path, cap, "%s/topology/national.yaml", s->root);
    sp_err rv = copy_with_keys(s->o.topology, path, keys);
    snprintf(from, sizeof from, "%s/provinces", src_dir);
    DIR *d = opendir(from);
    struct dirent *e;
    while (rv == SP_OK && d && (e = readdir(d))) {
        if (!strstr(e->d_name, ".yaml")) continue;
        snprintf(from, sizeof from, "%s/provinces/%s", src_dir, e->d_name);
        snprintf(to, sizeof to, "%s/%s", dst_dir, e->d_name);
        rv = copy_with_keys(from, to, keys);
    }
    if (d) closedir(d);
    return rv;
}

static sp_err load_context(sim *s, sp_strmap *keys) {
    char path[700];
    sp_err rv = keyed_topology(s, keys, path, sizeof path);
    if (rv != SP_OK) return rv;
    sp_diag_list diags;
    sp_diag_list_init(&diags);
    rv = sp_topology_load(&s->topo, path, &diags);
    sp_diag_list_print(&diags, stderr, 10);
    sp_diag_list_clear(&diags);
    if (rv != SP_OK) return rv;
    sp_sla_policy_default(&s->policy);
    if ((rv = sp_calendar_new(&s->cal)) == SP_OK) rv = sp_calendar_load_builtin(s->cal, &s->policy);
    s->fold = (sp_fold_ctx){.topo = s->topo, .cal = s->cal, .policy = &s->policy};
    return rv;
}

/* ---- which nodes run ---- */

static int province_wanted(const sim *s, const char *code) {
    if (!s->o.provinces) return 1;
    size_t n = strlen(code);
    for (const char *p = s->o.provinces; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 2 && strncmp(p, code, 2) == 0 && n >= 2) return 1;
        p += len + (end != NULL);
    }
    return 0;
}

static int node_wanted(const sim *s, const sp_topo_node *t, size_t *ministries) {
    switch (t->kind) {
    case SP_NODE_NATIONAL: return 1;
    case SP_NODE_MINISTRY:
    case SP_NODE_LEMBAGA: return s->o.ministries == 0 || (*ministries)++ < s->o.ministries;
    case SP_NODE_PROVINCE:
    case SP_NODE_KABUPATEN:
    case SP_NODE_KOTA: return t->code && province_wanted(s, t->code);
    default: return 0;
    }
}

/* ---- one node ---- */

static sp_err on_stage(void *arg, sp_wbatch *b, const sp_envelope *const *envs,
                       const uint64_t *offsets, size_t n) {
    simnode *nd = arg;
    return sp_complaints_stage(nd->complaints, b, envs, offsets, n);
}

static void record_latency(sim *s, const sp_envelope *const *envs, size_t n) {
    double t = (double)sp_wall_ms();
    pthread_mutex_lock(&s->lat_lock);
    for (size_t i = 0; i < n; i++) {
        simnode *o = sp_strmap_get(&s->by_id, envs[i]->origin);
        if (!o || o->t->kind != SP_NODE_KOTA || envs[i]->seq >= AUTHORED_CAP) continue;
        uint64_t at = atomic_load(&o->authored_ms[envs[i]->seq]);
        if (!at) continue;
        if (s->n_lat == s->cap_lat) {
            size_t cap = s->cap_lat ? 2 * s->cap_lat : 4096;
            double *v = realloc(s->lat, cap * sizeof *v);
            if (!v) break;
            s->lat = v;
            s->cap_lat = cap;
        }
        s->lat[s->n_lat++] = t - (double)at;
    }
    pthread_mutex_unlock(&s->lat_lock);
}

static void on_committed(void *arg, const sp_envelope *const *envs, const uint64_t *offsets,
                         size_t n) {
    (void)offsets;
    simnode *nd = arg;
    if (nd->rep) sp_replicator_offer(nd->rep, envs, n);
    if (nd == nd->s->national && atomic_load(&nd->s->lat_on)) record_latency(nd->s, envs, n);
}

static int keeps_region(void *arg, const char *origin) {
    simnode *nd = arg;
    return sp_topology_keeps_region(nd->s->topo, nd->t, origin);
}

/* Where node nd dials peer p: p's listener, or the lossy proxy when it is the lossy link. */
static void peer_address(const sim *s, const simnode *nd, const simnode *p, char out[96]) {
    if (s->lossy_a && ((strcmp(nd->t->id, s->lossy_a) == 0 && strcmp(p->t->id, s->lossy_b) == 0) ||
                       (strcmp(nd->t->id, s->lossy_b) == 0 && strcmp(p->t->id, s->lossy_a) == 0)))
        snprintf(out, 96, "inproc://lossy/%s/%s", nd->t->id, p->t->id);
    else
        snprintf(out, 96, "%s", p->listen);
}

static void link_peers(sim *s, simnode *nd) {
    const sp_topo_node *tp[1024];
    size_t n = sp_topology_peers(s->topo, nd->t->id, tp, 1024);
    nd->peers = calloc(n ? n : 1, sizeof *nd->peers);
    nd->peer_addr = calloc(n ? n : 1, sizeof *nd->peer_addr);
    if (!nd->peers || !nd->peer_addr) die("peers", SP_ERR_NOMEM);
    for (size_t i = 0; i < n && i < 1024; i++) {
        simnode *p = sp_strmap_get(&s->by_id, tp[i]->id);
        if (!p) continue; /* not part of this run */
        peer_address(s, nd, p, nd->peer_addr[nd->n_peers]);
        nd->peers[nd->n_peers] = (sp_peer_config){p->t->id, nd->peer_addr[nd->n_peers],
                                                  .lazy = !sp_topology_tree_link(nd->t, p->t),
                                                  .sign_pub = p->sign_pub};
        nd->n_peers++;
    }
}

/* Open the node's store, log and fold and start its replicator (a fresh directory or not). */
static sp_err node_start(sim *s, simnode *nd) {
    sp_err rv = sp_store_open_with(&nd->store, nd->dir, SP_NODE_CFS, &s->store_opts);
    if (rv == SP_OK) rv = sp_feedlog_open(&nd->log, nd->store, nd->t->id, nd->sign);
    /* The daemon trusts every key of the topology; here only the feeds the node keeps, which
     * are the only ones it is ever sent (600 x 600 OpenSSL keys would be 0.5 GiB). */
    for (size_t k = 0; rv == SP_OK && k < nd->n_keeps; k++) {
        const simnode *o = &s->nodes[nd->keeps[k]];
        rv = sp_feedlog_add_origin_key(nd->log, o->t->id, o->sign_pub);
    }
    nd->fold = s->fold;
    nd->fold.self = nd->t;
    if (rv == SP_OK) rv = sp_complaints_open(&nd->complaints, nd->store, &nd->fold);
    if (rv != SP_OK) return rv;
    int keep_all = nd->t->kind == SP_NODE_NATIONAL;
    nd->adapter = (sp_replica_adapter){nd->log, keep_all ? NULL : keeps_region, nd};
    sp_replica_store_init(&nd->ops, &nd->adapter);
    sp_feedlog_hooks hooks = {on_stage, on_committed, nd};
    sp_feedlog_set_hooks(nd->log, &hooks);
    sp_replicator_config rc = {.self = nd->t->id, .listen = nd->listen, .peers = nd->peers,
                               .n_peers = nd->n_peers, .sync_interval_ms = s->o.sync_ms,
                               .request_timeout_ms = s->o.timeout_ms,
                               .sign_key = nd->sign}; /* links prove node keys, as the daemon's */
    rv = sp_replicator_start(&nd->rep, &rc, &nd->ops);
    nd->running = rv == SP_OK;
    return rv;
}

static void node_stop(simnode *nd) {
    sp_replicator_stop(nd->rep);
    nd->rep = NULL;
    if (nd->log) {
        sp_feedlog_hooks none = {0};
        sp_feedlog_set_hooks(nd->log, &none);
    }
    sp_complaints_close(nd->complaints);
    sp_feedlog_close(nd->log);
    sp_store_close(nd->store);
    nd->complaints = NULL;
    nd->log = NULL;
    nd->store = NULL;
    nd->running = 0;
}

static uint32_t districts_of(const char *file, const char *code) {
    FILE *f = fopen(file, "r");
    char line[128], c[32];
    unsigned n;
    uint32_t found = 0;
    while (f && fgets(line, sizeof line, f))
        if (line[0] != '#' && sscanf(line, "%31s %u", c, &n) == 2 && strcmp(c, code) == 0) found = n;
    if (f) fclose(f);
    return found;
}

static void setup_nodes(sim *s, sp_strmap *keys) {
    size_t total = sp_topology_count(s->topo), ministries = 0;
    s->nodes = calloc(total, sizeof *s->nodes);
    s->sites = calloc(total, sizeof *s->sites);
    s->site_cum = calloc(total, sizeof *s->site_cum);
    if (!s->nodes || !s->sites || !s->site_cum) die("nodes", SP_ERR_NOMEM);
    for (size_t i = 0; i < total; i++) {
        const sp_topo_node *t = sp_topology_node_at(s->topo, i);
        if (!node_wanted(s, t, &ministries)) continue;
        simnode *nd = &s->nodes[s->n];
        *nd = (simnode){.s = s, .t = t, .index = s->n};
        snprintf(nd->dir, sizeof nd->dir, "%s/nodes/%s", s->root, t->id);
        snprintf(nd->listen, sizeof nd->listen, "inproc://sim/%s", t->id);
        nd->sign = sp_strmap_get(keys, t->id);
        if (!nd->sign || sp_key_raw_public(nd->sign, nd->sign_pub) != SP_OK) die(t->id, SP_ERR_CRYPTO);
        nd->authored_ms = calloc(AUTHORED_CAP, sizeof *nd->authored_ms);
        if (!nd->authored_ms) die("nodes", SP_ERR_NOMEM);
        if (t->kind == SP_NODE_KABUPATEN || t->kind == SP_NODE_KOTA) {
            nd->districts = districts_of(s->o.districts, t->code);
            if (!nd->districts) nd->districts = 1;
        }
        if (sp_strmap_put(&s->by_id, t->id, nd, NULL) != SP_OK) die("nodes", SP_ERR_NOMEM);
        if (t->kind == SP_NODE_NATIONAL) s->national = nd;
        s->n++;
    }
    char nodes_dir[300];
    snprintf(nodes_dir, sizeof nodes_dir, "%s/nodes", s->root);
    if (mkdir(nodes_dir, 0700) != 0) die(nodes_dir, SP_ERR_IO);
    uint64_t cum = 0;
    for (size_t i = 0; i < s->n; i++) {
        simnode *nd = &s->nodes[i];
        if (!nd->districts) continue;
        cum += nd->districts;
        s->sites[s->n_sites] = nd;
        s->site_cum[s->n_sites++] = cum;
    }
    for (size_t i = 0; i < s->n; i++) { /* what each node keeps, for the convergence check */
        simnode *nd = &s->nodes[i];
        nd->keeps = calloc(s->n, sizeof *nd->keeps);
        if (!nd->keeps) die("nodes", SP_ERR_NOMEM);
        for (size_t k = 0; k < s->n; k++)
            if (k != i && (nd->t->kind == SP_NODE_NATIONAL ||
                           sp_topology_keeps_region(s->topo, nd->t, s->nodes[k].t->id)))
                nd->keeps[nd->n_keeps++] = k;
        link_peers(s, nd);
    }
}

/* ---- the lossy link ---- */

static void *lossy_pump(lossy *l, nng_socket from, nng_socket to, uint64_t rng) {
    while (!atomic_load(&l->stop)) {
        nng_msg *m;
        if (nng_recvmsg(from, &m, 0) != 0) continue; /* a receive timeout: look at stop */
        if (rnd(&rng) % 100 < atomic_load(&l->drop_pct)) {
            nng_msg_free(m);
            atomic_fetch_add(&l->dropped, 1);
        } else if (nng_sendmsg(to, m, 0) != 0) {
            nng_msg_free(m);
        } else {
            atomic_fetch_add(&l->forwarded, 1);
        }
    }
    return NULL;
}

static void *lossy_up(void *arg) {
    lossy *l = arg;
    return lossy_pump(l, l->rep, l->req, l->seed);
}

static void *lossy_down(void *arg) {
    lossy *l = arg;
    return lossy_pump(l, l->req, l->rep, l->seed * 7 + 3);
}

/* A raw REP/REQ pair between front (where the dialing node connects) and back (the listener
 * of the node it means to reach): requests and replies go through, a share is dropped. */
static lossy *lossy_start(const char *dialer, const char *listener, uint64_t seed) {
    lossy *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    snprintf(l->front, sizeof l->front, "inproc://lossy/%s/%s", dialer, listener);
    snprintf(l->back, sizeof l->back, "inproc://sim/%s", listener);
    l->seed = seed | 1;
    int rv = nng_rep0_open_raw(&l->rep);
    if (rv == 0) rv = nng_req0_open_raw(&l->req);
    if (rv == 0) rv = nng_listen(l->rep, l->front, NULL, 0);
    if (rv == 0) rv = nng_dial(l->req, l->back, NULL, NNG_FLAG_NONBLOCK);
    nng_socket_set_ms(l->rep, NNG_OPT_RECVTIMEO, 200);
    nng_socket_set_ms(l->req, NNG_OPT_RECVTIMEO, 200);
    if (rv == 0 && pthread_create(&l->up, NULL, lossy_up, l) != 0) rv = NNG_ENOMEM;
    if (rv == 0 && pthread_create(&l->down, NULL, lossy_down, l) != 0) rv = NNG_ENOMEM;
    if (rv != 0) {
        fprintf(stderr, "sim_federation: lossy proxy %s: %s\n", l->front, nng_strerror(rv));
        exit(1);
    }
    return l;
}

static void lossy_stop(lossy *l) {
    if (!l) return;
    atomic_store(&l->stop, 1);
    pthread_join(l->up, NULL);
    pthread_join(l->down, NULL);
    nng_close(l->rep);
    nng_close(l->req);
    free(l);
}

/* ---- the load ---- */

/* What one node authors in a round: bodies in order, one durable batch. */
typedef struct {
    uint8_t **bodies;
    size_t *lens;
    size_t n, cap;
} batch;

typedef struct {
    batch *b; /* per node */
    size_t events, filings, actions;
    uint64_t resolved;
} round_plan;

static void batch_add(batch *b, uint8_t *body, size_t len) {
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 16;
        uint8_t **nb = realloc(b->bodies, cap * sizeof *nb);
        size_t *nl = nb ? realloc(b->lens, cap * sizeof *nl) : NULL;
        if (!nb || !nl) die("plan", SP_ERR_NOMEM);
        b->bodies = nb;
        b->lens = nl;
        b->cap = cap;
    }
    b->bodies[b->n] = body;
    b->lens[b->n++] = len;
}

static void plan_action(round_plan *rp, simnode *nd, const sp_complaint_state *st,
                        sp_action_kind kind, const sp_topo_node *agency, const char *rule,
                        sp_role role) {
    static char follow[] = "Petugas sudah meninjau lokasi dan menjadwalkan perbaikan.";
    static char done[] = "Perbaikan selesai dikerjakan.";
    static char thanks[] = "Terima kasih, sudah beres.";
    sp_action a = {.kind = kind};
    if (kind == SP_ACT_FOLLOW_UP) a.text = follow;
    if (kind == SP_ACT_COMPLETE) a.text = done;
    if (kind == SP_ACT_FEEDBACK) {
        a.text = thanks;
        a.satisfied = 1;
        a.rating = 5;
    }
    if (kind == SP_ACT_REROUTE) snprintf(a.reason, sizeof a.reason, "bukan kewenangan kami");
    sp_action_ctx c = {.complaint_id = st->id, .actor = "sim-officer", .role = role,
                       .agency = agency, .rule = rule};
    uint8_t *body;
    size_t len;
    sp_err rv = sp_action_build(&a, &c, &body, &len);
    if (rv != SP_OK) die("action", rv);
    batch_add(&rp->b[nd->index], body, len);
    rp->actions++;
}

static uint64_t id_hash(const char *id) {
    uint64_t h = 1469598103934665603ull;
    for (; *id; id++) h = (h ^ (uint8_t)*id) * 1099511628211ull;
    return h;
}

/* One complaint nd holds or took in: the next step its officers (or reporter) take. */
static void plan_step(sim *s, round_plan *rp, simnode *nd, const sp_complaint_state *st) {
    const char *self = nd->t->id;
    uint64_t h = id_hash(st->id);
    if (st->status == SP_ST_FILED && strcmp(st->responsible, self) == 0) {
        const sp_topo_node *agency = NULL;
        const char *rule = NULL;
        if (sp_topology_route(s->topo, st->category, st->region, &agency, &rule) != SP_OK)
            agency = nd->t;
        plan_action(rp, nd, st, SP_ACT_VERIFY, NULL, NULL, SP_ROLE_ADMIN_KOORDINATOR);
        plan_action(rp, nd, st, SP_ACT_DISPOSITION, agency, rule, SP_ROLE_ADMIN_KOORDINATOR);
    } else if (st->status == SP_ST_REROUTED && strcmp(st->responsible, self) == 0) {
        plan_action(rp, nd, st, SP_ACT_DISPOSITION, nd->t, NULL, SP_ROLE_ADMIN_KOORDINATOR);
    } else if (st->status == SP_ST_DISPOSITIONED && strcmp(st->agency, self) == 0) {
        if (strcmp(st->agency, st->responsible) != 0 && st->reroutes == 0 && h % 8 == 0) {
            plan_action(rp, nd, st, SP_ACT_REROUTE, NULL, NULL, SP_ROLE_ADMIN_PENGHUBUNG);
        } else {
            plan_action(rp, nd, st, SP_ACT_FOLLOW_UP, NULL, NULL, SP_ROLE_ADMIN_PENGHUBUNG);
            plan_action(rp, nd, st, SP_ACT_COMPLETE, NULL, NULL, SP_ROLE_ADMIN_PENGHUBUNG);
        }
    } else if (st->status == SP_ST_COMPLETED && strcmp(st->intake, self) == 0) {
        plan_action(rp, nd, st, SP_ACT_FEEDBACK, NULL, NULL, SP_ROLE_REPORTER);
        rp->resolved++;
    }
}

/* Visit the complaints of nd matching f, page by page. */
static void plan_list(sim *s, round_plan *rp, simnode *nd, const sp_complaint_filter *f) {
    char cursor[SP_CURSOR_MAX] = "";
    do {
        sp_complaint_page page;
        sp_err rv = sp_complaints_list(nd->complaints, f, cursor, LIST_PAGE, &page);
        if (rv != SP_OK) die("list", rv);
        for (size_t i = 0; i < page.n; i++) plan_step(s, rp, nd, &page.v[i]);
        snprintf(cursor, sizeof cursor, "%s", page.next);
        sp_complaint_page_free(&page);
    } while (cursor[0]);
}

/* Everything nd's officers can do now, from nd's own state. */
static void plan_node(sim *s, round_plan *rp, simnode *nd) {
    sp_complaint_filter held = {.agency = nd->t->id,
                                .status_mask = 1u << SP_ST_FILED | 1u << SP_ST_REROUTED |
                                               1u << SP_ST_DISPOSITIONED};
    plan_list(s, rp, nd, &held);
    if (nd->t->code && nd->districts) { /* an intake node: its reporters' feedback */
        sp_complaint_filter completed = {.region = nd->t->code, .status_mask = 1u << SP_ST_COMPLETED};
        plan_list(s, rp, nd, &completed);
    }
}

static simnode *pick_site(sim *s) {
    uint64_t x = rnd(&s->rng) % s->site_cum[s->n_sites - 1];
    size_t lo = 0, hi = s->n_sites - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->site_cum[mid] > x) hi = mid;
        else lo = mid + 1;
    }
    return s->sites[lo];
}

static const char *pick_category(sim *s, uint64_t r) {
    size_t routes = sp_topology_route_count(s->topo);
    if (r % 10 < 6 || routes == 0) return SP_CATEGORY_GENERAL; /* handled in the region */
    return sp_topology_route_at(s->topo, (r >> 8) % routes)->category;
}

static void plan_filing(sim *s, round_plan *rp) {
    static const uint32_t channels[] = {1, 1, 1, 1, 2, 2, 3, 3, 4, 5, 6, 7}; /* web..open311 */
    simnode *nd = pick_site(s);
    uint64_t r = rnd(&s->rng);
    char title[] = "Jalan berlubang", text[] = "Jalan di depan pasar berlubang besar dan "
                                               "membahayakan pengendara sejak dua minggu.";
    char name[] = "Warga Pelapor", phone[] = "081234567890";
    sp_intake_req req = {.type = 1 + (uint32_t)(r % 3),
                         .channel = channels[(r >> 4) % 12],
                         .privacy = (r >> 12) % 5 == 0 ? 1u : 0u, /* a fifth anonymous */
                         .title = title,
                         .text = text};
    snprintf(req.category, sizeof req.category, "%s", pick_category(s, r >> 16));
    snprintf(req.region, sizeof req.region, "%s", nd->t->code);
    if (req.privacy == 0) {
        req.name = name;
        req.phone = phone;
    }
    sp_intake_error err;
    sp_err rv = sp_intake_check(&req, s->topo, &err);
    uint8_t *body;
    size_t len;
    if (rv == SP_OK)
        rv = sp_intake_build(&req, s->topo, nd->t, ++nd->next_number, &body, &len, NULL);
    if (rv != SP_OK) die("filing", rv);
    batch_add(&rp->b[nd->index], body, len);
    rp->filings++;
    s->filed++;
    s->filed_prov[atoi(nd->t->code) % 100]++;
}

/* A round: every action due, then filings up to `events` in all (at least `min_filings`). */
static void plan_round(sim *s, round_plan *rp, size_t events, size_t min_filings) {
    memset(rp, 0, sizeof *rp);
    rp->b = calloc(s->n, sizeof *rp->b);
    if (!rp->b) die("plan", SP_ERR_NOMEM);
    for (size_t i = 0; i < s->n; i++)
        if (s->nodes[i].running) plan_node(s, rp, &s->nodes[i]);
    size_t filings = rp->actions < events ? events - rp->actions : 0;
    if (filings < min_filings) filings = min_filings;
    for (size_t i = 0; i < filings; i++) plan_filing(s, rp);
    rp->events = rp->actions + rp->filings;
    s->resolved += rp->resolved;
}

/* One node's batch, authored as one durable write (in chunks of SP_MAX_BATCH_ENVELOPES). */
static void author_node(simnode *nd, const batch *b) {
    uint64_t first = sp_feedlog_head(nd->log, nd->t->id, NULL) + 1;
    for (size_t k = 0; k < b->n; k += SP_MAX_BATCH_ENVELOPES) {
        size_t m = b->n - k < SP_MAX_BATCH_ENVELOPES ? b->n - k : SP_MAX_BATCH_ENVELOPES;
        sp_err rv = sp_feedlog_author(nd->log, (const uint8_t *const *)b->bodies + k, b->lens + k,
                                      m, NULL);
        if (rv != SP_OK) die("author", rv);
    }
    uint64_t at = sp_wall_ms();
    for (uint64_t seq = first; seq < first + b->n && seq < AUTHORED_CAP; seq++)
        atomic_store(&nd->authored_ms[seq], at);
}

typedef struct {
    sim *s;
    round_plan *rp;
    atomic_size_t next;
} author_pool;

static void *author_main(void *arg) {
    author_pool *ap = arg;
    for (size_t i; (i = atomic_fetch_add(&ap->next, 1)) < ap->s->n;)
        if (ap->rp->b[i].n) author_node(&ap->s->nodes[i], &ap->rp->b[i]);
    return NULL;
}

/* Author every node's batch; returns the seconds it took. The nodes' officers act at the same
 * time, as on 600 machines: AUTHOR_THREADS at once, so that one node's fsync does not hold up
 * the others' (authored one after the other, 600 fsyncs on a busy disk took most of the
 * burst). */
#define AUTHOR_THREADS 32
static double author_round(sim *s, round_plan *rp) {
    double t0 = now_s();
    author_pool ap = {.s = s, .rp = rp};
    pthread_t t[AUTHOR_THREADS];
    int started = 0;
    for (; started < AUTHOR_THREADS; started++)
        if (pthread_create(&t[started], NULL, author_main, &ap) != 0) break;
    if (started == 0) author_main(&ap);
    for (int i = 0; i < started; i++) pthread_join(t[i], NULL);
    return now_s() - t0;
}

static void plan_free(sim *s, round_plan *rp) {
    for (size_t i = 0; rp->b && i < s->n; i++) {
        for (size_t k = 0; k < rp->b[i].n; k++) free(rp->b[i].bodies[k]);
        free(rp->b[i].bodies);
        free(rp->b[i].lens);
    }
    free(rp->b);
}

/* ---- convergence ---- */

static int node_converged(const sim *s, const simnode *nd, const uint64_t *heads) {
    for (size_t k = 0; k < nd->n_keeps; k++) {
        const simnode *o = &s->nodes[nd->keeps[k]];
        if (o->cut_off) continue;
        if (sp_feedlog_head(nd->log, o->t->id, NULL) != heads[o->index]) return 0;
    }
    return 1;
}

/* Wait until every running node holds every event it keeps; each node's time (from t0) in
 * converged_at. Returns the time of the last one, or a negative value on timeout. */
static double wait_converged(sim *s, double t0) {
    uint64_t *heads = calloc(s->n, sizeof *heads);
    if (!heads) die("converge", SP_ERR_NOMEM);
    for (size_t i = 0; i < s->n; i++) {
        s->nodes[i].converged_at = -1;
        heads[i] = s->nodes[i].running ? sp_feedlog_head(s->nodes[i].log, s->nodes[i].t->id, NULL) : 0;
    }
    double last = -1;
    size_t left = 0;
    for (size_t i = 0; i < s->n; i++) left += s->nodes[i].running && !s->nodes[i].cut_off;
    while (left > 0 && now_s() - t0 < CONVERGE_LIMIT_S) {
        for (size_t i = 0; i < s->n; i++) {
            simnode *nd = &s->nodes[i];
            if (!nd->running || nd->cut_off || nd->converged_at >= 0 ||
                !node_converged(s, nd, heads))
                continue;
            nd->converged_at = last = now_s() - t0;
            left--;
        }
        if (left) { /* each look takes every node's log lock once per feed it keeps */
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    free(heads);
    return left ? -1 : last;
}

/* ---- replication counters ---- */

typedef struct {
    uint64_t requests, served, received, bytes, stored;
} link_counts;

static void snapshot(sim *s, link_counts *out) {
    for (size_t i = 0; i < s->n; i++) {
        simnode *nd = &s->nodes[i];
        link_counts c = {0};
        sp_peer_stats *ps;
        size_t np;
        sp_server_stats ss;
        if (nd->running && sp_replicator_stats(nd->rep, &ps, &np, &ss) == SP_OK) {
            for (size_t k = 0; k < np; k++) {
                c.requests += ps[k].requests;
                c.received += ps[k].received_events;
                c.bytes += ps[k].sent_bytes + ps[k].received_bytes;
            }
            c.served = ss.requests;
            free(ps);
            c.stored = sp_feedlog_next_offset(nd->log) - 1;
        }
        out[i] = c;
    }
}

static const char *kind_group(const sp_topo_node *t) {
    switch (t->kind) {
    case SP_NODE_NATIONAL: return "national";
    case SP_NODE_MINISTRY:
    case SP_NODE_LEMBAGA: return "ministry/lembaga";
    case SP_NODE_PROVINCE: return "province";
    default: return "kabupaten/kota";
    }
}

/* Copies received, requests (sent + served) and bytes per event stored from others, by kind. */
static void report_links(sim *s, const link_counts *a, const link_counts *b) {
    static const char *groups[] = {"national", "ministry/lembaga", "province", "kabupaten/kota"};
    printf("  per node, per event stored from elsewhere (mean / max over the kind's nodes):\n");
    double worst_copies = 0;
    for (size_t g = 0; g < 4; g++) {
        double sum_c = 0, max_c = 0, sum_m = 0, max_m = 0, sum_b = 0, max_b = 0;
        size_t k = 0;
        uint64_t stored_sum = 0;
        for (size_t i = 0; i < s->n; i++) {
            if (strcmp(kind_group(s->nodes[i].t), groups[g]) != 0 || !s->nodes[i].running) continue;
            uint64_t got = b[i].received - a[i].received;
            uint64_t stored = b[i].stored - a[i].stored;
            uint64_t msgs = (b[i].requests - a[i].requests) + (b[i].served - a[i].served);
            uint64_t bytes = b[i].bytes - a[i].bytes;
            if (got == 0) continue; /* stored only its own events */
            double c = (double)got / (double)(stored ? stored : 1), m = (double)msgs / (double)got,
                   by = (double)bytes / (double)got;
            sum_c += c, sum_m += m, sum_b += by, k++;
            stored_sum += stored;
            if (c > max_c) max_c = c;
            if (m > max_m) max_m = m;
            if (by > max_b) max_b = by;
        }
        if (!k) continue;
        if (max_c > worst_copies) worst_copies = max_c;
        printf("    %-17s %4zu nodes  copies %.2f / %.2f   requests %.3f / %.3f   bytes %.0f / %.0f"
               "   (%.0f events stored per node)\n",
               groups[g], k, sum_c / (double)k, max_c, sum_m / (double)k, max_m,
               sum_b / (double)k, max_b, (double)stored_sum / (double)k);
    }
    printf("  copies of an event received by a node: at most %.2f (target <= 2): %s\n", worst_copies,
           worst_copies <= 2.0 ? "met" : "MISSED");
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report_latency(sim *s) {
    pthread_mutex_lock(&s->lat_lock);
    if (s->n_lat) {
        qsort(s->lat, s->n_lat, sizeof *s->lat, cmp_double);
        printf("  kota -> national latency (acknowledged write to national commit), %zu events: "
               "p50 %.0f ms, p99 %.0f ms, max %.0f ms\n",
               s->n_lat, s->lat[s->n_lat / 2], s->lat[s->n_lat * 99 / 100], s->lat[s->n_lat - 1]);
    }
    s->n_lat = 0;
    pthread_mutex_unlock(&s->lat_lock);
}

static void report_convergence(sim *s, const char *what, double t) {
    double by_kind[4] = {0};
    static const char *groups[] = {"national", "ministry/lembaga", "province", "kabupaten/kota"};
    for (size_t i = 0; i < s->n; i++)
        for (size_t g = 0; g < 4; g++)
            if (strcmp(kind_group(s->nodes[i].t), groups[g]) == 0 && s->nodes[i].converged_at > by_kind[g])
                by_kind[g] = s->nodes[i].converged_at;
    if (t < 0) {
        printf("  %s: NOT converged after %d s\n", what, CONVERGE_LIMIT_S);
        s->failed = 1;
        return;
    }
    printf("  %s: every node holds every event it keeps after %.2f s (last national %.2f, "
           "ministries %.2f, provinces %.2f, kabupaten/kota %.2f)\n",
           what, t, by_kind[0], by_kind[1], by_kind[2], by_kind[3]);
}

/* One round of load: plan, author, wait; prints a line; returns the convergence time. */
static double run_round(sim *s, const char *what, size_t events, size_t min_filings, int quiet) {
    round_plan rp;
    plan_round(s, &rp, events, min_filings);
    double t0 = now_s();
    double authoring = author_round(s, &rp);
    double t = wait_converged(s, t0);
    if (!quiet)
        printf("%s: %zu events (%zu filings, %zu actions), authored in %.2f s, converged in %.2f s\n",
               what, rp.events, rp.filings, rp.actions, authoring, t);
    if (t < 0) s->failed = 1;
    plan_free(s, &rp);
    return t;
}

/* ---- the check: national statistics == what was filed ---- */

static int check_national(sim *s) {
    sp_stats sum, gauges;
    int64_t overdue;
    sp_complaints *c = s->national->complaints;
    int ok = 1;
    if (sp_complaints_stats_sum(c, SP_SCOPE_REGION, "", 19000101, 99991231, &sum) != SP_OK ||
        sp_complaints_stats_now(c, SP_SCOPE_REGION, "", sp_wall_ms(), &gauges, &overdue) != SP_OK) {
        printf("national statistics: unreadable\n");
        return 0;
    }
    ok &= (uint64_t)sum.v[SP_STAT_FILED] == s->filed;
    ok &= (uint64_t)gauges.v[SP_STAT_ST_RESOLVED] == s->resolved;
    printf("national statistics: filed %lld (driver filed %llu), resolved %lld (driver %llu)",
           (long long)sum.v[SP_STAT_FILED], (unsigned long long)s->filed,
           (long long)gauges.v[SP_STAT_ST_RESOLVED], (unsigned long long)s->resolved);
    size_t provinces = 0, wrong = 0;
    for (int p = 0; p < 100; p++) {
        if (!s->filed_prov[p]) continue;
        char code[8];
        snprintf(code, sizeof code, "%02d", p);
        if (sp_complaints_stats_sum(c, SP_SCOPE_REGION, code, 19000101, 99991231, &sum) != SP_OK ||
            (uint64_t)sum.v[SP_STAT_FILED] != s->filed_prov[p])
            wrong++;
        provinces++;
    }
    ok &= wrong == 0;
    printf("; %zu provinces, %zu with a different count: %s\n", provinces, wrong,
           ok ? "equal" : "DIFFERENT");
    return ok;
}

/* ---- failure scenarios ---- */

/* The province with the most nodes in this run (Jawa Timur in the national run). */
static simnode *busiest_province(sim *s, const simnode *not) {
    simnode *best = NULL;
    size_t best_n = 0;
    for (size_t i = 0; i < s->n; i++) {
        simnode *nd = &s->nodes[i];
        if (nd->t->kind != SP_NODE_PROVINCE || nd == not) continue;
        if (!best || nd->n_peers > best_n) best = nd, best_n = nd->n_peers;
    }
    return best;
}

static void scenario_offline(sim *s, size_t events) {
    simnode *p = busiest_province(s, NULL);
    if (!p) return;
    printf("scenario: %s (%s) offline while the federation files and acts, then healed\n",
           p->t->id, p->t->name);
    node_stop(p);
    round_plan rp;
    plan_round(s, &rp, events, events / 3);
    author_round(s, &rp);
    printf("  while offline: %zu events (%zu filings, %zu actions)\n", rp.events, rp.filings,
           rp.actions);
    plan_free(s, &rp);
    /* The rest converges among itself first; the province's kabupaten/kota, whose only peer it
     * is, are cut off meanwhile. Then the time to heal is the catch-up alone. */
    for (size_t i = 0; i < s->n; i++)
        s->nodes[i].cut_off = &s->nodes[i] == p || s->nodes[i].t->parent == p->t;
    report_convergence(s, "the rest, meanwhile", wait_converged(s, now_s()));
    for (size_t i = 0; i < s->n; i++) s->nodes[i].cut_off = 0;
    double t0 = now_s();
    sp_err rv = node_start(s, p);
    if (rv != SP_OK) die("restart", rv);
    report_convergence(s, "healed", wait_converged(s, t0));
}

static void scenario_lossy(sim *s, size_t events) {
    if (!s->lossy_up) return;
    printf("scenario: the link %s <-> %s drops 10 %% of messages each way\n", s->lossy_a, s->lossy_b);
    atomic_store(&s->lossy_up->drop_pct, 10);
    atomic_store(&s->lossy_down->drop_pct, 10);
    double t = run_round(s, "  burst under loss", events, 0, 0);
    report_convergence(s, "  lossy", t);
    printf("  proxy: %llu messages forwarded, %llu dropped\n",
           (unsigned long long)(s->lossy_up->forwarded + s->lossy_down->forwarded),
           (unsigned long long)(s->lossy_up->dropped + s->lossy_down->dropped));
    atomic_store(&s->lossy_up->drop_pct, 0);
    atomic_store(&s->lossy_down->drop_pct, 0);
}

static void scenario_rebuild(sim *s) {
    simnode *nd = s->national;
    uint64_t had = sp_feedlog_next_offset(nd->log) - 1;
    printf("scenario: %s rebuilt from an empty directory (it held %llu events)\n", nd->t->id,
           (unsigned long long)had);
    node_stop(nd);
    sp_test_rmrf(nd->dir);
    double t0 = now_s();
    sp_err rv = node_start(s, nd);
    if (rv != SP_OK) die("rebuild", rv);
    double t = wait_converged(s, t0);
    report_convergence(s, "  caught up", t);
    if (t > 0)
        printf("  %llu events in %.2f s: %.0f events/s (verified, folded, fsynced)\n",
               (unsigned long long)(sp_feedlog_next_offset(nd->log) - 1), t,
               (double)(sp_feedlog_next_offset(nd->log) - 1) / t);
}

/* ---- main ---- */

static void free_key(void *k) {
    sp_key_free(k);
}

static void usage(void) {
    fprintf(stderr, "usage: sim_federation [--smoke] [--burst N] [--warmup R] [--provinces 35,13] "
                    "[--ministries K] [--topology FILE] [--districts FILE] [--dir DIR] [--keep] "
                    "[--seed S] [--sync-ms MS] [--timeout-ms MS] [--no-scenarios]\n");
    exit(2);
}

static void parse(int argc, char **argv, opts *o) {
    *o = (opts){.burst = 10000, .warmup = 3, .scenarios = 1, .seed = 42,
                .topology = SP_SOURCE_DIR "/deploy/topology/national.yaml",
                .districts = SP_SOURCE_DIR "/bench/data/districts.tsv"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--smoke") == 0) {
            o->smoke = 1;
            o->burst = 600;
            o->warmup = 2;
            o->provinces = "35,13";
            o->ministries = 3;
            o->sync_ms = o->timeout_ms = 1000; /* a lost message costs seconds, not tens */
        } else if (strcmp(a, "--burst") == 0 && v) o->burst = strtoull(argv[++i], NULL, 10);
        else if (strcmp(a, "--warmup") == 0 && v) o->warmup = strtoull(argv[++i], NULL, 10);
        else if (strcmp(a, "--provinces") == 0 && v) o->provinces = argv[++i];
        else if (strcmp(a, "--ministries") == 0 && v) o->ministries = strtoull(argv[++i], NULL, 10);
        else if (strcmp(a, "--topology") == 0 && v) o->topology = argv[++i];
        else if (strcmp(a, "--districts") == 0 && v) o->districts = argv[++i];
        else if (strcmp(a, "--dir") == 0 && v) o->dir = argv[++i];
        else if (strcmp(a, "--seed") == 0 && v) o->seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(a, "--sync-ms") == 0 && v) o->sync_ms = (uint32_t)atoi(argv[++i]);
        else if (strcmp(a, "--timeout-ms") == 0 && v) o->timeout_ms = (uint32_t)atoi(argv[++i]);
        else if (strcmp(a, "--keep") == 0) o->keep = 1;
        else if (strcmp(a, "--no-scenarios") == 0) o->scenarios = 0;
        else usage();
    }
    if (o->burst == 0) usage();
}

int main(int argc, char **argv) {
    static sim s;
    parse(argc, argv, &s.o);
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress shows as it happens, also into a file */
    sp_log_set_level(SP_LOG_ERROR); /* peers coming and going are expected here */
    s.rng = s.o.seed ? s.o.seed : 1;
    pthread_mutex_init(&s.lat_lock, NULL);
    if (s.o.dir) snprintf(s.root, sizeof s.root, "%s", s.o.dir);
    else if (!sp_test_tmpdir(s.root, "sim")) die("mkdtemp", SP_ERR_IO);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max; /* 600 RocksDB instances keep a few files open each */
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    double t_setup = now_s();
    long threads0 = proc_status("Threads");
    double rss0 = rss_mib();
    sp_strmap keys = {0};
    sp_err rv = load_context(&s, &keys);
    if (rv != SP_OK) die("topology", rv);
    s.cache = sp_store_cache_new((size_t)512 << 20);
    /* Memtables large enough that a kabupaten's whole run stays in memory: with 2 MiB ones,
     * flushes and L0 compactions of 600 stores took 30 % of the CPU. */
    s.store_opts = (sp_store_options){.cache = s.cache, .memtable_bytes = (size_t)32 << 20,
                                      .max_open_files = 64};
    setup_nodes(&s, &keys);
    simnode *lossy_prov = busiest_province(&s, NULL);
    lossy_prov = busiest_province(&s, lossy_prov); /* not the one taken offline */
    if (s.o.scenarios && lossy_prov) {
        s.lossy_a = s.national->t->id;
        s.lossy_b = lossy_prov->t->id;
        for (size_t i = 0; i < s.n; i++) { /* re-derive the two ends' peer addresses */
            free(s.nodes[i].peers);
            free(s.nodes[i].peer_addr);
            s.nodes[i].n_peers = 0;
            link_peers(&s, &s.nodes[i]);
        }
    }
    for (size_t i = 0; i < s.n; i++)
        if ((rv = node_start(&s, &s.nodes[i])) != SP_OK) die(s.nodes[i].t->id, rv);
    if (s.lossy_a) {
        s.lossy_up = lossy_start(s.lossy_a, s.lossy_b, s.o.seed);
        s.lossy_down = lossy_start(s.lossy_b, s.lossy_a, s.o.seed + 1);
    }
    size_t links = 0;
    for (size_t i = 0; i < s.n; i++) links += s.nodes[i].n_peers;
    long threads = proc_status("Threads");
    printf("sim_federation: %zu nodes (%zu filing sites), %zu peer links, started in %.1f s; "
           "%ld threads (%.1f per node), RSS %.0f MiB (%.2f MiB per node)\n",
           s.n, s.n_sites, links / 2, now_s() - t_setup, threads, (double)(threads - threads0) / (double)s.n,
           rss_mib(), (rss_mib() - rss0) / (double)s.n);

    /* Steady load: a complaint makes about six events over four rounds, so F = burst / 6
     * filings a round bring the fourth round near the burst's size; the burst then adds
     * filings to every action due until it has exactly --burst events. */
    size_t filings = s.o.burst / 6;
    for (size_t r = 0; r < s.o.warmup; r++) {
        char what[64];
        snprintf(what, sizeof what, "warm-up round %zu", r + 1);
        run_round(&s, what, 0, filings, 0);
    }

    link_counts *before = calloc(s.n, sizeof *before), *after = calloc(s.n, sizeof *after);
    if (!before || !after) die("counts", SP_ERR_NOMEM);
    snapshot(&s, before);
    atomic_store(&s.lat_on, 1);
    double t = run_round(&s, "burst", s.o.burst, 0, 0);
    atomic_store(&s.lat_on, 0);
    report_convergence(&s, "burst", t);
    printf("  target: every node converges <= 30 s after the burst: %s\n",
           t >= 0 && t <= 30 ? "met" : "MISSED");
    report_latency(&s);
    snapshot(&s, after);
    report_links(&s, before, after);
    printf("  process: RSS %.0f MiB (%.2f MiB per node), %ld threads, shared block cache %.0f MiB, "
           "national memtables %.1f MiB\n",
           rss_mib(), rss_mib() / (double)s.n, proc_status("Threads"),
           (double)sp_store_cache_usage(s.cache) / 1048576.0,
           (double)sp_store_memtable_bytes(s.national->store) / 1048576.0);

    if (s.o.scenarios) {
        scenario_offline(&s, s.o.burst / 2);
        scenario_lossy(&s, s.o.burst / 2);
        scenario_rebuild(&s);
    }
    int ok = check_national(&s) && !s.failed;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS %.0f MiB; %s\n", (double)ru.ru_maxrss / 1024.0, ok ? "ok" : "FAILED");

    lossy_stop(s.lossy_up);
    lossy_stop(s.lossy_down);
    for (size_t i = 0; i < s.n; i++) node_stop(&s.nodes[i]);
    sp_store_cache_free(s.cache);
    for (size_t i = 0; i < s.n; i++) {
        free(s.nodes[i].peers);
        free(s.nodes[i].peer_addr);
        free(s.nodes[i].keeps);
        free((void *)s.nodes[i].authored_ms);
    }
    sp_strmap_free(&keys, free_key);
    sp_strmap_free(&s.by_id, NULL);
    free(before);
    free(after);
    free(s.nodes);
    free(s.sites);
    free(s.site_cum);
    free(s.lat);
    sp_topology_free(s.topo);
    sp_calendar_free(s.cal);
    if (!s.o.keep) sp_test_rmrf(s.root);
    else printf("kept %s\n", s.root);
    return ok ? 0 : 1;
}
