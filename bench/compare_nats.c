/*
 * compare_nats: the same workload on NATS JetStream and on two Simpul nodes, in one run (issue 12).
 *
 *   compare_nats [--events N] [--size B] [--batch B] [--window W] [--dir DIR] [--smoke]
 *                [--phases raw,simpul,simpul1,sync,async]
 *
 * Defaults: 100,000 events of 160 bytes (bench_log's body size), Simpul batches of 100 events
 * per fsync, JetStream async window 1000, every phase. --smoke: 2,000 events, for CTest; exits 0
 * only when every message reached both copies on both systems. --phases runs a subset (to
 * attach `perf record -p` to one side); ratios are printed for the pairs that ran.
 *
 * JetStream: the bench starts two nats-server processes on loopback ports chosen at run time,
 * each with JetStream file storage in its own temporary directory: "hub" (JetStream domain hub)
 * holds the stream (file storage, 1 replica); "leaf" (domain leaf) is a leaf node of the hub and
 * holds a mirror of it, so the second copy is another process with another store behind a TCP
 * link, as with the two Simpul nodes. One producer connection publishes with the NATS C client
 * (libnats, cnats):
 *   sync:  js_Publish, wait for the PubAck, next;
 *   async: js_PublishAsync with at most W acks outstanding, then js_PublishAsyncComplete;
 * each on a fresh stream + mirror pair; timed until the last ack, and until the mirror holds all.
 * The bench asks the server (`nats-server -t`) whether it accepts `sync_interval: always`
 * (2.10 and later). If so, both servers run with it and their acks follow an fsync; if not
 * (2.9.x: the file store syncs every 2 minutes and has no option to do otherwise), the rows say
 * that their acks came before any fsync.
 *
 * Simpul: two nodes in this process, each with its own RocksDB store, feed log and the real
 * broker/replicator.c over NNG tcp on loopback, wired as bench_replica does (the commit hook
 * offers what was stored to the replicator). Node A authors N signed, hash-chained events with
 * sp_feedlog_author, B events per call; a call returns after its batch is fsynced, so every
 * event counted was durable when acknowledged. Run with B = --batch and with B = 1 (one fsync
 * per event: what JetStream's sync publish would cost if it fsynced). Timed until the last call
 * returns, and until node B has stored (verified, fsynced) all N.
 * RocksDB's raw synced WriteBatch rate (bench_util.h) is printed as the limit under both.
 *
 * The exit status is non-zero only when the bench itself failed (a server did not start,
 * a message is missing); a missed target is reported, not failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <nats/nats.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "bench/bench_util.h"
#include "broker/replica_store.h"
#include "tests/unit/testutil.h"

#define STALL_S 60.0     /* a wait that sees no progress for this long is a failure */
#define READY_S 15.0     /* a nats-server must accept connections within this */
#define RAW_SINGLE 10000 /* puts in the raw one-put-per-fsync row (fsync rate, not a workload) */
#define ENVELOPE_OVERHEAD 140 /* bytes an envelope adds to a body (ids, hashes, signature) */

typedef struct {
    size_t events, size, batch, window;
    const char *base;
    const char *phases; /* which of raw, simpul (batched), simpul1, sync, async to run */
    int smoke;
} options;

static int wanted(const options *o, const char *phase) {
    size_t n = strlen(phase);
    for (const char *p = o->phases; (p = strstr(p, phase)) != NULL; p += n)
        if ((p == o->phases || p[-1] == ',') && (p[n] == ',' || p[n] == 0)) return 1;
    return 0;
}

/* ---- failing ---- */

__attribute__((format(printf, 1, 2), noreturn)) static void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "compare_nats: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1); /* atexit stops the servers */
}

static void check(sp_err rv, const char *what) {
    if (rv != SP_OK) {
        fprintf(stderr, "compare_nats: %s: %s\n", what, sp_strerror(rv));
        exit(1);
    }
}

static void nats_check(natsStatus s, jsErrCode jerr, const char *what) {
    if (s == NATS_OK) return;
    fprintf(stderr, "compare_nats: %s: %s (JetStream error %d; %s)\n", what, natsStatus_GetText(s),
            (int)jerr, nats_GetLastError(NULL));
    exit(1);
}

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size);
    if (!p) check(SP_ERR_NOMEM, "calloc");
    return p;
}

/* The three load averages, for the record beside the figures (the machine is shared). */
static void loadavg(char *out, size_t cap) {
    FILE *f = fopen("/proc/loadavg", "r");
    double a = 0, b = 0, c = 0;
    if (!f || fscanf(f, "%lf %lf %lf", &a, &b, &c) != 3) a = b = c = -1;
    if (f) fclose(f);
    snprintf(out, cap, "%.2f %.2f %.2f", a, b, c);
}

/* ---- the workload ---- */

/* N pseudo-random bodies of `size` bytes (so LZ4 in RocksDB and S2-less NATS see no easy data),
 * shared by both systems. */
typedef struct {
    uint8_t *bytes;
    const uint8_t **bodies;
    size_t *lens;
} workload;

static workload workload_new(size_t n, size_t size) {
    workload w = {xcalloc(n, size), xcalloc(n, sizeof *w.bodies), xcalloc(n, sizeof *w.lens)};
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < n * size; i++)
        w.bytes[i] = (uint8_t)((x = x * 6364136223846793005ULL + 1) >> 56);
    for (size_t i = 0; i < n; i++)
        w.bodies[i] = w.bytes + i * size, w.lens[i] = size;
    return w;
}

static void workload_free(workload *w) {
    free(w->bytes);
    free(w->bodies);
    free(w->lens);
}

/* One measured run: acknowledged rate and when the second copy was complete. */
typedef struct {
    double publish_s; /* first publish to last acknowledgement */
    double copy_s;    /* first publish to the second copy holding every event */
} run_result;

/* ---- nats-server processes ---- */

typedef struct {
    const char *name; /* "hub" or "leaf": server_name and JetStream domain */
    char dir[400], conf[480], log[480];
    int port, leaf_port; /* client port; the hub's leafnode listen port */
    pid_t pid;           /* 0: not running */
} js_server;

static js_server servers[2] = {{.name = "hub"}, {.name = "leaf"}};

/* stderr gets the end of a server's log when it failed to start or stopped early. */
static void show_log(const js_server *s) {
    char cmd[600];
    fprintf(stderr, "compare_nats: last lines of %s:\n", s->log);
    snprintf(cmd, sizeof cmd, "tail -n 15 '%s' >&2", s->log);
    if (system(cmd) != 0) fprintf(stderr, "(could not read it)\n");
}

/* Each server runs in its own process group (the pid), so that a wrapper (NATS_SERVER=a script
 * running it under strace, say) is stopped with everything it started. */
static void stop_server(js_server *s) {
    if (s->pid <= 0) return;
    kill(-s->pid, SIGTERM);
    for (int i = 0; i < 500; i++) { /* 5 s, then SIGKILL */
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            s->pid = 0;
            return;
        }
        sp_test_sleep_ms(10);
    }
    kill(-s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

static void stop_servers(void) {
    stop_server(&servers[1]);
    stop_server(&servers[0]);
}

static char own_tmp[256]; /* the temporary directory this run made ("" with --dir) */

/* On every exit, failures included: no server outlives the bench, no data is left in $TMPDIR. */
static void at_exit(void) {
    stop_servers();
    if (own_tmp[0]) sp_test_rmrf(own_tmp);
}

/* The watchdog (alarm): a hung run dies, and takes its servers with it. Async-signal-safe. */
static void on_alarm(int sig) {
    static const char msg[] = "compare_nats: the run did not finish in time (hung?), stopping\n";
    ssize_t ignored = write(2, msg, sizeof msg - 1); /* nothing to do if stderr is gone */
    (void)ignored;
    for (int i = 0; i < 2; i++)
        if (servers[i].pid > 0) kill(-servers[i].pid, SIGKILL);
    _exit(1);
}

/* The nats-server binary: $NATS_SERVER, else PATH, else /usr/sbin (Debian installs it there,
 * outside an ordinary user's PATH). NULL when there is none. */
static const char *find_server(void) {
    static char path[512];
    const char *env = getenv("NATS_SERVER"), *p = getenv("PATH");
    if (env) return access(env, X_OK) == 0 ? env : NULL;
    char dirs[4096];
    snprintf(dirs, sizeof dirs, "%s:/usr/sbin:/usr/local/sbin", p ? p : "/usr/bin");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(path, sizeof path, "%s/nats-server", d);
        if (access(path, X_OK) == 0) return path;
    }
    return NULL;
}

/* Start `bin args...` with stdout and stderr to log_path; the child dies with us. */
static pid_t spawn(const char *bin, const char *const argv[], const char *log_path) {
    pid_t pid = fork();
    if (pid != 0) return pid; /* -1 on error */
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) dup2(fd, 1), dup2(fd, 2);
    execv(bin, (char *const *)argv); /* execv does not write to them */
    _exit(127);
}

/* Exit status of `bin args...` (output to log_path), -1 if it could not be run. */
static int run_status(const char *bin, const char *const argv[], const char *log_path) {
    int st;
    pid_t pid = spawn(bin, argv, log_path);
    if (pid < 0 || waitpid(pid, &st, 0) != pid) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_conf(js_server *s, int sync_always) {
    FILE *f = fopen(s->conf, "w");
    if (!f) fail("cannot write %s", s->conf);
    fprintf(f, "server_name: %s\nlisten: 127.0.0.1:%d\n", s->name, s->port);
    fprintf(f, "jetstream {\n  store_dir: \"%s/js\"\n  domain: %s\n%s}\n", s->dir, s->name,
            sync_always ? "  sync_interval: always\n" : "");
    if (s == &servers[0])
        fprintf(f, "leafnodes { listen: 127.0.0.1:%d }\n", s->leaf_port);
    else
        fprintf(f, "leafnodes { remotes: [ { url: \"nats://127.0.0.1:%d\" } ] }\n",
                servers[0].leaf_port);
    if (fclose(f) != 0) fail("cannot write %s", s->conf);
}

/* Whether this nats-server accepts `sync_interval: always` (asked with -t, which only checks
 * the configuration); 2.9.x refuses the field. */
static int server_syncs_always(const char *bin, const char *base) {
    js_server probe = {.name = "hub", .port = 4222, .leaf_port = 7422};
    snprintf(probe.dir, sizeof probe.dir, "%s/probe", base);
    snprintf(probe.conf, sizeof probe.conf, "%s/probe.conf", base);
    snprintf(probe.log, sizeof probe.log, "%s/probe.log", base);
    write_conf(&probe, 1);
    const char *argv[] = {"nats-server", "-t", "-c", probe.conf, NULL};
    return run_status(bin, argv, probe.log) == 0;
}

/* The server's version line, e.g. "v2.9.10". */
static void server_version(const char *bin, const char *base, char *out, size_t cap) {
    char log[480], line[256] = "";
    snprintf(log, sizeof log, "%s/version.log", base);
    const char *argv[] = {"nats-server", "--version", NULL};
    FILE *f = run_status(bin, argv, log) == 0 ? fopen(log, "r") : NULL;
    if (f && fgets(line, sizeof line, f)) line[strcspn(line, "\n")] = 0;
    if (f) fclose(f);
    const char *v = strrchr(line, ' ');
    snprintf(out, cap, "%s", v ? v + 1 : (line[0] ? line : "unknown version"));
}

/* Connect to s, retrying until it is up; fails if it exits or is not up within READY_S. */
static natsConnection *connect_when_ready(js_server *s) {
    char url[64];
    snprintf(url, sizeof url, "nats://127.0.0.1:%d", s->port);
    for (double t0 = sp_bench_now_s(); sp_bench_now_s() - t0 < READY_S; sp_test_sleep_ms(20)) {
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            show_log(s);
            fail("nats-server %s exited at start (see its log above)", s->name);
        }
        natsConnection *nc = NULL;
        if (natsConnection_ConnectTo(&nc, url) == NATS_OK) return nc;
    }
    show_log(s);
    fail("nats-server %s did not accept connections in time", s->name);
}

static natsConnection *start_server(js_server *s, const char *bin, const char *base,
                                    int sync_always) {
    snprintf(s->dir, sizeof s->dir, "%s/nats-%s", base, s->name);
    snprintf(s->conf, sizeof s->conf, "%s.conf", s->dir);
    snprintf(s->log, sizeof s->log, "%s.log", s->dir);
    if (mkdir(s->dir, 0700) != 0 && errno != EEXIST) fail("cannot create %s", s->dir);
    s->port = sp_test_free_port();
    if (s == &servers[0]) s->leaf_port = sp_test_free_port();
    if (s->port < 0 || s->leaf_port < 0) fail("%s", "no free loopback port");
    write_conf(s, sync_always);
    const char *argv[] = {"nats-server", "-c", s->conf, NULL};
    if ((s->pid = spawn(bin, argv, s->log)) < 0) fail("cannot start %s", bin);
    return connect_when_ready(s);
}

/* ---- JetStream runs ---- */

typedef struct {
    natsConnection *hub_nc, *leaf_nc;
    jsCtx *hub, *leaf; /* JetStream contexts on each server, default API prefix */
} js_pair;

static jsCtx *js_context(natsConnection *nc, jsOptions *o) {
    jsCtx *js = NULL;
    nats_check(natsConnection_JetStream(&js, nc, o), 0, "JetStream context");
    return js;
}

/* A stream `name` on the hub (file storage, 1 replica, subject subj) and its mirror `mirror` on
 * the leaf, which reaches the hub's JetStream API across the leafnode link through the hub's
 * domain prefix. */
static void create_streams(js_pair *p, const char *name, const char *subj, const char *mirror) {
    jsStreamConfig sc, mc;
    jsStreamSource src;
    jsExternalStream ext;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    const char *subjects[] = {subj};
    jsStreamConfig_Init(&sc);
    sc.Name = name;
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    sc.Replicas = 1;
    nats_check(js_AddStream(&si, p->hub, &sc, NULL, &jerr), jerr, "create stream at the hub");
    jsStreamInfo_Destroy(si);
    jsStreamSource_Init(&src);
    jsExternalStream_Init(&ext);
    src.Name = name;
    ext.APIPrefix = "$JS.hub.API";
    ext.DeliverPrefix = ""; /* libnats 3.4 sends it unconditionally (NULL crashes); "" is none */
    src.External = &ext;
    jsStreamConfig_Init(&mc);
    mc.Name = mirror;
    mc.Storage = js_FileStorage;
    mc.Replicas = 1;
    mc.Mirror = &src;
    si = NULL;
    nats_check(js_AddStream(&si, p->leaf, &mc, NULL, &jerr), jerr, "create mirror at the leaf");
    jsStreamInfo_Destroy(si);
}

/* Messages held by stream `name`; *active (if not NULL) says whether its mirror link has been
 * heard from (Active >= 0). */
static uint64_t stream_msgs(jsCtx *js, const char *name, int *active) {
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    nats_check(js_GetStreamInfo(&si, js, name, NULL, &jerr), jerr, name);
    uint64_t n = si->State.Msgs;
    if (active) *active = si->Mirror && si->Mirror->Active >= 0;
    jsStreamInfo_Destroy(si);
    return n;
}

/* Wait until the mirror's consumer at the hub has been heard from, so that the timed run does not
 * include setting up the leafnode link. */
static void wait_mirror_active(js_pair *p, const char *mirror) {
    int active = 0;
    for (double t0 = sp_bench_now_s(); !active; sp_test_sleep_ms(20)) {
        stream_msgs(p->leaf, mirror, &active);
        if (sp_bench_now_s() - t0 > STALL_S) fail("mirror %s never became active", mirror);
    }
}

/* Wait until stream `name` holds `target` messages; fails if nothing moves for STALL_S. */
static void wait_msgs(jsCtx *js, const char *name, uint64_t target) {
    uint64_t last = 0;
    for (double moved = sp_bench_now_s();; sp_test_sleep_ms(2)) {
        uint64_t have = stream_msgs(js, name, NULL);
        if (have >= target) return;
        if (have != last) last = have, moved = sp_bench_now_s();
        if (sp_bench_now_s() - moved > STALL_S) {
            fprintf(stderr, "compare_nats: %s holds %llu of %llu messages, no progress\n", name,
                    (unsigned long long)have, (unsigned long long)target);
            exit(1);
        }
    }
}

static void check_msgs(js_pair *p, const char *name, const char *mirror, size_t n) {
    uint64_t at_hub = stream_msgs(p->hub, name, NULL), at_leaf = stream_msgs(p->leaf, mirror, NULL);
    if (at_hub != n || at_leaf != n) {
        fprintf(stderr, "compare_nats: %s holds %llu, %s %llu, expected %zu\n", name,
                (unsigned long long)at_hub, mirror, (unsigned long long)at_leaf, n);
        exit(1);
    }
}

static run_result js_sync_run(js_pair *p, const workload *w, size_t n) {
    create_streams(p, "EV_SYNC", "ev.sync", "M_SYNC");
    wait_mirror_active(p, "M_SYNC");
    double t0 = sp_bench_now_s();
    for (size_t i = 0; i < n; i++) {
        jsPubAck *pa = NULL;
        jsErrCode jerr = 0;
        nats_check(js_Publish(&pa, p->hub, "ev.sync", w->bodies[i], (int)w->lens[i], NULL, &jerr),
                   jerr, "js_Publish");
        if (pa->Sequence != i + 1) fail("%s", "js_Publish: acknowledged out of sequence");
        jsPubAck_Destroy(pa);
    }
    double t1 = sp_bench_now_s();
    wait_msgs(p->leaf, "M_SYNC", n);
    run_result r = {t1 - t0, sp_bench_now_s() - t0};
    check_msgs(p, "EV_SYNC", "M_SYNC", n);
    return r;
}

typedef struct {
    atomic_size_t acked, failed;
} ack_count;

static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure) {
    ack_count *c = closure;
    if (pa)
        atomic_fetch_add(&c->acked, 1);
    else
        atomic_fetch_add(&c->failed, 1);
    natsMsg_Destroy(msg);
}

static run_result js_async_run(js_pair *p, const workload *w, size_t n, size_t window) {
    create_streams(p, "EV_ASYNC", "ev.async", "M_ASYNC");
    wait_mirror_active(p, "M_ASYNC");
    ack_count c = {0, 0};
    jsOptions o;
    jsOptions_Init(&o);
    o.PublishAsync.MaxPending = (int64_t)window;
    o.PublishAsync.AckHandler = on_ack;
    o.PublishAsync.AckHandlerClosure = &c;
    jsCtx *js = js_context(p->hub_nc, &o);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = (int64_t)(STALL_S * 1000);
    double t0 = sp_bench_now_s();
    for (size_t i = 0; i < n; i++)
        nats_check(js_PublishAsync(js, "ev.async", w->bodies[i], (int)w->lens[i], NULL), 0,
                   "js_PublishAsync");
    nats_check(js_PublishAsyncComplete(js, &po), 0, "js_PublishAsyncComplete");
    double t1 = sp_bench_now_s();
    wait_msgs(p->leaf, "M_ASYNC", n);
    run_result r = {t1 - t0, sp_bench_now_s() - t0};
    for (int i = 0; i < 500 && atomic_load(&c.acked) + atomic_load(&c.failed) < n; i++)
        sp_test_sleep_ms(10); /* the last ack callbacks may still be running */
    if (atomic_load(&c.acked) != n) {
        fprintf(stderr, "compare_nats: async publish: %zu acked, %zu failed, of %zu\n",
                atomic_load(&c.acked), atomic_load(&c.failed), n);
        exit(1);
    }
    check_msgs(p, "EV_ASYNC", "M_ASYNC", n);
    jsCtx_Destroy(js);
    return r;
}

/* ---- Simpul nodes ---- */

typedef struct {
    char id[SP_MAX_ORIGIN + 1], dir[400], url[64];
    sp_key *key; /* the node's own signing key */
    sp_store *st;
    sp_feedlog *log;
    sp_replica_adapter adapter;
    sp_replica_store ops;
    _Atomic(sp_replicator *) rep; /* set after start; the hook may run on replicator threads */
    sp_peer_config peer;
    atomic_size_t stored; /* envelopes committed by this node's log */
} snode;

/* Runs under the log's write lock, right after the batch is on disk: this is "stored". */
static void on_committed(void *arg, const sp_envelope *const *envs, const uint64_t *offsets,
                         size_t n) {
    snode *b = arg;
    atomic_fetch_add(&b->stored, n);
    sp_replicator *rep = atomic_load(&b->rep);
    if (rep) sp_replicator_offer(rep, envs, n); /* as the daemon does */
}

static void node_open(snode *b, const char *base, const char *id, size_t batch) {
    memset(b, 0, sizeof *b);
    snprintf(b->id, sizeof b->id, "%s", id);
    snprintf(b->dir, sizeof b->dir, "%s/simpul-%zu-%s", base, batch, id);
    int port = sp_test_free_port();
    if (port < 0) fail("%s", "no free loopback port");
    snprintf(b->url, sizeof b->url, "tcp://127.0.0.1:%d", port);
    check(sp_key_generate(&b->key, SP_KEY_ED25519), "node key");
    check(sp_store_open(&b->st, b->dir, NULL), b->dir);
    check(sp_feedlog_open(&b->log, b->st, b->id, b->key), "feedlog open");
    sp_feedlog_hooks hooks = {NULL, on_committed, b};
    sp_feedlog_set_hooks(b->log, &hooks);
    b->adapter = (sp_replica_adapter){b->log, NULL, NULL};
    sp_replica_store_init(&b->ops, &b->adapter);
}

/* Peers both ways, each trusting the other's own feed, as the topology would set up. */
static void node_link(snode *a, snode *b) {
    uint8_t pub[SP_PUBKEY_LEN];
    a->peer = (sp_peer_config){.id = b->id, .address = b->url};
    b->peer = (sp_peer_config){.id = a->id, .address = a->url};
    check(sp_key_raw_public(b->key, pub), "public key");
    check(sp_feedlog_add_origin_key(a->log, b->id, pub), b->id);
    check(sp_key_raw_public(a->key, pub), "public key");
    check(sp_feedlog_add_origin_key(b->log, a->id, pub), a->id);
}

/* The replicator with the daemon's defaults (push batch, queue, sync interval, timeouts). */
static void node_start(snode *b) {
    sp_replicator_config cfg = {.self = b->id, .listen = b->url, .peers = &b->peer, .n_peers = 1};
    sp_replicator *rep;
    check(sp_replicator_start(&rep, &cfg, &b->ops), "replicator start");
    atomic_store(&b->rep, rep);
}

static void node_close(snode *b) {
    sp_replicator_stop(atomic_exchange(&b->rep, NULL));
    sp_feedlog_close(b->log);
    sp_store_close(b->st);
    sp_key_free(b->key);
    sp_test_rmrf(b->dir);
}

static void wait_connected(snode *b) {
    for (double t0 = sp_bench_now_s();; sp_test_sleep_ms(1)) {
        sp_peer_stats *ps = NULL;
        size_t n = 0;
        check(sp_replicator_stats(atomic_load(&b->rep), &ps, &n, NULL), "replicator stats");
        int up = n == 1 && ps[0].connected;
        free(ps);
        if (up) return;
        if (sp_bench_now_s() - t0 > STALL_S) fail("%s never connected to its peer", b->id);
    }
}

static void wait_stored(snode *b, size_t target) {
    size_t last = 0;
    for (double moved = sp_bench_now_s(); atomic_load(&b->stored) < target; sp_test_sleep_ms(1)) {
        size_t have = atomic_load(&b->stored);
        if (have != last) last = have, moved = sp_bench_now_s();
        if (sp_bench_now_s() - moved > STALL_S) {
            fprintf(stderr, "compare_nats: %s holds %zu of %zu events, no progress\n", b->id, have,
                    target);
            exit(1);
        }
    }
}

/* Node A authors n events, `batch` per durable call; node B replicates them. */
static run_result simpul_run(const options *o, const workload *w, size_t n, size_t batch) {
    snode *a = xcalloc(2, sizeof *a), *b = a + 1;
    node_open(a, o->base, "kota-3577", batch);
    node_open(b, o->base, "prov-35", batch);
    node_link(a, b);
    node_start(b);
    node_start(a);
    wait_connected(a);
    wait_connected(b);
    double t0 = sp_bench_now_s();
    for (size_t done = 0; done < n; done += batch) {
        size_t k = n - done < batch ? n - done : batch;
        check(sp_feedlog_author(a->log, w->bodies + done, w->lens + done, k, NULL), "author");
    }
    double t1 = sp_bench_now_s();
    wait_stored(b, n);
    run_result r = {t1 - t0, sp_bench_now_s() - t0};
    if (sp_feedlog_head(b->log, a->id, NULL) != n) fail("%s", "node B's copy of the feed is short");
    node_close(a);
    node_close(b);
    free(a);
    return r;
}

/* ---- report ---- */

static double rate(size_t n, double s) {
    return s > 0 ? (double)n / s : 0;
}

static void row(const char *what, size_t n, const run_result *r, const char *note) {
    if (r->publish_s <= 0) return; /* not run */
    printf("  %-46s %9.0f /s   %7.2f s (%7.0f /s)  %s\n", what, rate(n, r->publish_s), r->copy_s,
           rate(n, r->copy_s), note);
}

/* num / den against target (0: none); nothing when a side did not run. */
static void ratio(const char *what, double num, double den, double target) {
    if (num <= 0 || den <= 0) return;
    double x = num / den;
    printf("  %-58s %7.2fx", what, x);
    if (target > 0) {
        if (x >= target)
            printf("   target >= %gx: met\n", target);
        else
            printf("   target >= %gx: missed by %.0f %%\n", target, 100 * (1 - x / target));
    } else {
        printf("\n");
    }
}

typedef struct {
    double raw_batch, raw_single;
    run_result sp_batch, sp_single, js_sync, js_async;
    char version[64], load_start[64], load_end[64];
    int sync_always;
} results;

static void report(const options *o, const results *r) {
    size_t n = o->events;
    char what[96], note[160];
    snprintf(note, sizeof note, "(acked %s)",
             r->sync_always ? "after fsync: sync_interval: always"
                            : "before fsync: sync_interval 2 min, not settable in this version");
    printf("compare_nats: %zu events of %zu bytes, one producer each, loopback; nats-server %s\n",
           n, o->size, r->version);
    printf("  load average %s at start, %s at end\n", r->load_start, r->load_end);
    printf("  %-46s %12s   %s\n", "", "acked", "second copy complete (from first publish)");
    snprintf(what, sizeof what, "RocksDB WriteBatch of %zu + fsync (raw limit)", o->batch);
    if (r->raw_batch > 0) printf("  %-46s %9.0f /s\n", what, r->raw_batch);
    if (r->raw_single > 0)
        printf("  %-46s %9.0f /s\n", "RocksDB one put + fsync (raw limit)", r->raw_single);
    snprintf(what, sizeof what, "Simpul durable publish, %zu per fsync", o->batch);
    row(what, n, &r->sp_batch, "(acked after fsync; signed, chained)");
    row("Simpul durable publish, 1 per fsync", n, &r->sp_single, "(acked after fsync)");
    row("JetStream sync publish (PubAck each)", n, &r->js_sync, note);
    snprintf(what, sizeof what, "JetStream async publish, window %zu", o->window);
    row(what, n, &r->js_async, note);
    printf("ratios, Simpul / JetStream (acknowledged events/s)\n");
    double sp = rate(n, r->sp_batch.publish_s), sp1 = rate(n, r->sp_single.publish_s);
    double jss = rate(n, r->js_sync.publish_s), jsa = rate(n, r->js_async.publish_s);
    ratio("durable publish (batched) / JetStream sync-acked", sp, jss, 10);
    ratio("durable publish (batched) / JetStream async", sp, jsa, 1);
    ratio("durable publish, 1 per fsync / JetStream sync-acked", sp1, jss, 0);
    ratio("second copy complete: Simpul (batched) / JetStream (async)", rate(n, r->sp_batch.copy_s),
          rate(n, r->js_async.copy_s), 0);
}

/* ---- main ---- */

static options parse(int argc, char **argv) {
    options o = {100000, 160, 100, 1000, NULL, "raw,simpul,simpul1,sync,async", 0};
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(k, "--smoke") == 0) {
            o.smoke = 1, o.events = 2000;
            continue;
        }
        if (!v) fail("option %s needs a value", k);
        i++;
        if (strcmp(k, "--events") == 0)
            o.events = strtoul(v, NULL, 10);
        else if (strcmp(k, "--size") == 0)
            o.size = strtoul(v, NULL, 10);
        else if (strcmp(k, "--batch") == 0)
            o.batch = strtoul(v, NULL, 10);
        else if (strcmp(k, "--window") == 0)
            o.window = strtoul(v, NULL, 10);
        else if (strcmp(k, "--dir") == 0)
            o.base = v;
        else if (strcmp(k, "--phases") == 0)
            o.phases = v;
        else
            fail("unknown option %s", k);
    }
    if (o.events == 0 || o.size == 0 || o.size > SP_MAX_BODY || o.batch == 0 ||
        o.batch > SP_MAX_BATCH_ENVELOPES || o.window == 0)
        fail("%s", "--events, --size, --batch and --window must be positive "
                   "(size <= SP_MAX_BODY, batch <= SP_MAX_BATCH_ENVELOPES)");
    return o;
}

static void measure_raw(const options *o, results *r) {
    char dir[400];
    size_t raw1 = o->events < RAW_SINGLE ? o->events : RAW_SINGLE;
    snprintf(dir, sizeof dir, "%s/raw-batch", o->base);
    r->raw_batch = sp_bench_raw_synced(dir, o->events - o->events % o->batch, o->batch,
                                       o->size + ENVELOPE_OVERHEAD);
    snprintf(dir, sizeof dir, "%s/raw-single", o->base);
    r->raw_single = sp_bench_raw_synced(dir, raw1, 1, o->size + ENVELOPE_OVERHEAD);
    if (r->raw_batch < 0 || r->raw_single < 0) exit(1);
}

static void measure_nats(const options *o, const char *bin, const workload *w, results *r) {
    fprintf(stderr, "nats-server %s (hub and leaf)...\n", bin);
    js_pair p = {0};
    p.hub_nc = start_server(&servers[0], bin, o->base, r->sync_always);
    p.leaf_nc = start_server(&servers[1], bin, o->base, r->sync_always);
    p.hub = js_context(p.hub_nc, NULL);
    p.leaf = js_context(p.leaf_nc, NULL);
    if (wanted(o, "sync")) {
        fprintf(stderr, "JetStream sync publish...\n");
        r->js_sync = js_sync_run(&p, w, o->events);
    }
    if (wanted(o, "async")) {
        fprintf(stderr, "JetStream async publish...\n");
        r->js_async = js_async_run(&p, w, o->events, o->window);
    }
    jsCtx_Destroy(p.hub);
    jsCtx_Destroy(p.leaf);
    natsConnection_Destroy(p.hub_nc);
    natsConnection_Destroy(p.leaf_nc);
    stop_servers();
}

static void measure(const options *o, const char *bin, results *r) {
    workload w = workload_new(o->events, o->size);
    if (wanted(o, "raw")) measure_raw(o, r);
    if (wanted(o, "simpul")) {
        fprintf(stderr, "Simpul, %zu per fsync...\n", o->batch);
        r->sp_batch = simpul_run(o, &w, o->events, o->batch);
    }
    if (wanted(o, "simpul1")) {
        fprintf(stderr, "Simpul, 1 per fsync...\n");
        r->sp_single = simpul_run(o, &w, o->events, 1);
    }
    if (wanted(o, "sync") || wanted(o, "async")) measure_nats(o, bin, &w, r);
    workload_free(&w);
}

int main(int argc, char **argv) {
    options o = parse(argc, argv);
    sp_log_set_level(SP_LOG_ERROR);
    const char *bin = find_server();
    if (!bin && (wanted(&o, "sync") || wanted(&o, "async")))
        fail("%s", "nats-server not found ($NATS_SERVER, PATH, /usr/sbin): install it with "
                   "deploy/install-deps.sh (Debian package nats-server)");
    if (!o.base && !(o.base = sp_test_tmpdir(own_tmp, "compare-nats"))) fail("%s", "no temp dir");
    if (mkdir(o.base, 0700) != 0 && errno != EEXIST) fail("cannot create %s", o.base);
    atexit(at_exit);
    signal(SIGALRM, on_alarm);
    alarm((unsigned)(600 + o.events / 100));
    results r = {0};
    snprintf(r.version, sizeof r.version, "(not run)");
    if (bin) server_version(bin, o.base, r.version, sizeof r.version);
    r.sync_always = bin && server_syncs_always(bin, o.base);
    loadavg(r.load_start, sizeof r.load_start);
    nats_check(nats_Open(-1), 0, "nats_Open");
    measure(&o, bin, &r);
    loadavg(r.load_end, sizeof r.load_end);
    report(&o, &r);
    nats_Close();
    return 0;
}
