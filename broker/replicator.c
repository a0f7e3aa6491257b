#include "broker/replicator.h"
#include "broker/replicator_int.h"
#include "broker/link_auth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>

#include "base/log.h"
#include "base/strmap.h"
#include "base/varint.h"
#include "broker/hlc.h"
#include "broker/tls_probe.h"
#include "schemas/simpul.pb-c.h"

#define SERVER_WORKERS 2
#define SERVER_POLL_MS 200 /* a server worker's longest wait before it looks at `stopping` */
#define PULL_MAX_BYTES (1024 * 1024)
#define PUSH_MAX_BYTES (4 * 1024 * 1024) /* + one seal interval: well under SP_MAX_BATCH_BYTES */
#define OPEN_MAX 64 /* feeds a push may leave waiting for their seal while it looks for a cut */
/* NNG drops anything larger outright (protecting memory); between SP_MAX_BATCH_BYTES and this we
 * still receive the message, so that it can be counted and answered. */
#define RECV_MAX (2 * SP_MAX_BATCH_BYTES)
#define KNOWN_ALL UINT64_MAX /* the peer does not keep this origin: never send it */
#define ASK_WORKERS 2        /* threads sending sp_replicator_ask requests */
#define TLS_RELOG_MS (10 * 60 * 1000) /* a TLS refusal that goes on is logged again this often */
#define TLS_PROBE_MAX_MS 3000        /* the diagnosis must not hold a peer thread (or stop) long */

/* One envelope, encoded once, shared by every peer queue it sits in. */
typedef struct {
    atomic_int refs;
    char origin[SP_MAX_ORIGIN + 1];
    uint64_t seq;
    int sealed; /* carries its feed's signature (see envelope.h): a push may end here */
    size_t len;
    uint8_t bytes[];
} qitem;

typedef struct peer {
    struct sp_replicator *r;
    sp_peer_config cfg;
    pthread_t thread;
    int started;
    nng_socket sock;
    nng_dialer dialer;
    nng_tls_config *tls;
    uint64_t auth_seen; /* NNG's count of failed handshakes at the last look (peer thread) */
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t wake;
    qitem **queue; /* ring of queue_limit items */
    size_t qhead, qlen;
    int needs_sync;
    uint64_t next_sync_ms;
    sp_strmap known; /* origin -> uint64_t *: the peer holds that origin up to this seq */
    sp_strmap pulling; /* origin -> uint64_t *: when the peer last pulled it from us (ms) */
    int repair;        /* the next sync repairs everything (connect, failure, dropped queue) */
    /* What the last sync saw, peer thread only: origin -> uint64_t * heads the peer announced
     * and heads we held. A periodic sync only repairs what was there a round earlier: newer
     * envelopes are usually in an eager push on its way, and pulling them too delivered them
     * twice (the national simulation's copies per event). */
    sp_strmap seen_theirs, seen_mine;
    uint64_t tls_logged_ms; /* when this failure streak's TLS refusal was logged, 0: not yet */
    int proved;          /* peer thread: this link proved both ends (sign_key set) */
    int told_unauth;     /* peer thread: the last answer was "unauthenticated" */
    sp_peer_stats stats;
} peer;

/* One sp_replicator_ask waiting for a thread. */
typedef struct ask_job {
    struct ask_job *next;
    char to[SP_MAX_ORIGIN + 1];
    char *address;
    uint8_t *req;
    size_t n;
    sp_ask_done done;
    void *arg;
} ask_job;

/* An ask thread and the socket of the request it is sending (busy), which stop closes. */
typedef struct {
    struct sp_replicator *r;
    pthread_t thread;
    nng_socket sock;
    int busy;
} asker;

struct sp_replicator {
    sp_replicator_config cfg;
    sp_replica_store store;
    peer *peers;
    size_t n_peers;
    sp_strmap by_id; /* peer id -> peer * */
    nng_socket rep;
    int rep_open;
    nng_listener listener;
    int listen_tls;
    _Atomic uint64_t listen_checked_ms;
    uint64_t listen_auth_seen, listen_logged_ms; /* under slock */
    nng_tls_config *tls_server;
    pthread_t workers[SERVER_WORKERS];
    int n_workers;
    atomic_int stopping;
    pthread_mutex_t slock;
    sp_server_stats sstats;
    sp_link_table links; /* which connections proved which peer (sign_key set) */
    asker askers[ASK_WORKERS];
    int n_askers;
    pthread_mutex_t alock; /* guards the ask queue and askers[].sock/busy */
    pthread_cond_t awake;
    ask_job *ahead, *atail;
    size_t alen;
};

/* ---- queue items and peer knowledge ---- */

static qitem *qitem_new(const sp_envelope *env) {
    uint8_t *buf;
    size_t len;
    if (sp_envelope_encode(env, &buf, &len) != SP_OK) return NULL;
    qitem *q = malloc(sizeof *q + len);
    if (q) {
        atomic_init(&q->refs, 1);
        strcpy(q->origin, env->origin);
        q->seq = env->seq;
        q->sealed = sp_envelope_sealed(env);
        q->len = len;
        memcpy(q->bytes, buf, len);
    }
    free(buf);
    return q;
}

static void qitem_release(qitem *q) {
    if (q && atomic_fetch_sub(&q->refs, 1) == 1) free(q);
}

/* Highest seq of origin the peer is known to hold. Call with p->lock held. */
static uint64_t known_get(const peer *p, const char *origin) {
    const uint64_t *v = sp_strmap_get(&p->known, origin);
    return v ? *v : 0;
}

/* Raise (or, with exact, set) what the peer is known to hold. Call with p->lock held. */
static void known_update(peer *p, const char *origin, uint64_t seq, int exact) {
    uint64_t *v = sp_strmap_get(&p->known, origin);
    if (v) {
        if (seq > *v || exact) *v = seq;
        return;
    }
    if (!(v = malloc(sizeof *v))) return; /* knowledge is an optimisation; losing it is safe */
    *v = seq;
    if (sp_strmap_put(&p->known, origin, v, NULL) != SP_OK) free(v);
}

static void known_raise(peer *p, const char *origin, uint64_t seq) {
    known_update(p, origin, seq, 0);
}

static void known_raise_locked(peer *p, const char *origin, uint64_t seq) {
    pthread_mutex_lock(&p->lock);
    known_raise(p, origin, seq);
    pthread_mutex_unlock(&p->lock);
}

/* Drop the whole queue; anti-entropy will repair the peer from the store. Lock held. */
static void queue_drop(peer *p) {
    size_t cap = p->r->cfg.queue_limit;
    for (size_t i = 0; i < p->qlen; i++) qitem_release(p->queue[(p->qhead + i) % cap]);
    p->stats.queue_dropped += p->qlen;
    p->qhead = p->qlen = 0;
    p->needs_sync = 1;
    p->repair = 1;
}

static void queue_push(peer *p, qitem *q) {
    size_t cap = p->r->cfg.queue_limit;
    if (known_get(p, q->origin) >= q->seq) return;
    if (p->qlen == cap) {
        sp_log_warn("replica.queue_full", "peer=%s dropped=%zu", p->cfg.id, p->qlen);
        queue_drop(p);
    }
    atomic_fetch_add(&q->refs, 1);
    p->queue[(p->qhead + p->qlen++) % cap] = q;
}

void sp_replicator_offer(sp_replicator *r, const sp_envelope *const *envs, size_t n) {
    qitem **items = calloc(n ? n : 1, sizeof *items);
    if (!items) return;
    for (size_t i = 0; i < n; i++) items[i] = qitem_new(envs[i]);
    for (size_t k = 0; k < r->n_peers; k++) {
        peer *p = &r->peers[k];
        if (p->cfg.lazy) continue;
        pthread_mutex_lock(&p->lock);
        for (size_t i = 0; i < n; i++)
            if (items[i]) queue_push(p, items[i]);
        pthread_cond_signal(&p->wake);
        pthread_mutex_unlock(&p->lock);
    }
    for (size_t i = 0; i < n; i++) qitem_release(items[i]);
    free(items);
}

void sp_replicator_sync_now(sp_replicator *r) {
    for (size_t k = 0; k < r->n_peers; k++) {
        peer *p = &r->peers[k];
        pthread_mutex_lock(&p->lock);
        p->needs_sync = 1;
        p->repair = 1;
        pthread_cond_signal(&p->wake);
        pthread_mutex_unlock(&p->lock);
    }
}

/* ---- wire helpers ---- */

/* An encoded Batch from pre-encoded envelopes: a Batch is field 1 repeated, so it is just each
 * envelope prefixed by its tag and length. Saves re-encoding what every queue shares. */
static sp_err batch_from_items(qitem *const *items, size_t n, uint8_t **out, size_t *len) {
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += 1 + 10 + items[i]->len;
    uint8_t *buf = malloc(total ? total : 1), *p = buf;
    if (!buf) return SP_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        *p++ = 0x0a; /* field 1, length-delimited */
        p += sp_varint_put(p, items[i]->len);
        memcpy(p, items[i]->bytes, items[i]->len);
        p += items[i]->len;
    }
    *out = buf;
    *len = (size_t)(p - buf);
    return SP_OK;
}

static nng_msg *pack_reply(const Simpul__V1__PeerReply *rep) {
    nng_msg *m;
    size_t len = simpul__v1__peer_reply__get_packed_size(rep);
    if (nng_msg_alloc(&m, len) != 0) return NULL;
    simpul__v1__peer_reply__pack(rep, nng_msg_body(m));
    return m;
}

static sp_err take_reply(peer *p, const uint8_t *bytes, size_t len, Simpul__V1__PeerReply **reply);

/* One request and its reply on the peer's socket (caller frees the reply). SP_ERR_NET/TIMEOUT
 * when the peer is unreachable, SP_ERR_REJECTED when it answered with an error. */
static sp_err exchange(peer *p, Simpul__V1__PeerRequest *req, Simpul__V1__PeerReply **reply) {
    nng_msg *m;
    req->from = (char *)p->r->cfg.self;
    size_t len = simpul__v1__peer_request__get_packed_size(req);
    if (nng_msg_alloc(&m, len) != 0) return SP_ERR_NOMEM;
    simpul__v1__peer_request__pack(req, nng_msg_body(m));
    /* Not blocking: with no connection up REQ would wait for one, and NNG 1.5.2 sometimes
     * waits there for ever despite the send timeout (then nng_close deadlocks, see halt_peer).
     * No connection now is a failure like any other: backoff, then try again. */
    int rv = nng_sendmsg(p->sock, m, NNG_FLAG_NONBLOCK);
    for (int tries = 0; rv == NNG_EAGAIN && tries < 50 && !atomic_load(&p->r->stopping); tries++) {
        nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL); /* a dial in progress: wait ≤0.5 s */
        rv = nng_sendmsg(p->sock, m, NNG_FLAG_NONBLOCK);
    }
    if (rv != 0) {
        nng_msg_free(m);
        return rv == NNG_ETIMEDOUT ? SP_ERR_TIMEOUT : SP_ERR_NET;
    }
    pthread_mutex_lock(&p->lock);
    p->stats.requests++;
    p->stats.sent_bytes += len;
    pthread_mutex_unlock(&p->lock);
    if ((rv = nng_recvmsg(p->sock, &m, 0)) != 0) return rv == NNG_ETIMEDOUT ? SP_ERR_TIMEOUT : SP_ERR_NET;
    sp_err err = take_reply(p, nng_msg_body(m), nng_msg_len(m), reply);
    nng_msg_free(m);
    return err;
}

/* ---- link proofs (broker/link_auth.h) ---- */

static void count_impostor(peer *p, const char *why) {
    pthread_mutex_lock(&p->lock);
    p->stats.impostor++;
    pthread_mutex_unlock(&p->lock);
    sp_log_warn("replica.impostor", "peer=%s reason=\"%s\"", p->cfg.id, why);
}

/* Open the link: hello with our nonce, check the peer's proof against its topology key, send
 * ours. SP_ERR_BAD_SIG when the peer is not who it should be. */
static sp_err prove_link(peer *p) {
    sp_replicator *r = p->r;
    uint8_t cn[SP_LINK_NONCE], sn[SP_LINK_NONCE], sig[SP_SIG_LEN];
    Simpul__V1__PeerRequest req;
    simpul__v1__peer_request__init(&req);
    Simpul__V1__PeerReply *rep;
    sp_err rv = sp_random(cn, sizeof cn);
    if (rv != SP_OK) return rv;
    req.kind_case = SIMPUL__V1__PEER_REQUEST__KIND_HELLO;
    req.hello = (ProtobufCBinaryData){sizeof cn, cn};
    if ((rv = exchange(p, &req, &rep)) != SP_OK) return rv;
    const Simpul__V1__LinkProof *proof = rep->proof;
    if (!proof || proof->nonce.len != SP_LINK_NONCE || proof->sig.len != SP_SIG_LEN || !rep->from ||
        strcmp(rep->from, p->cfg.id) != 0)
        rv = SP_ERR_DECODE;
    else
        rv = sp_link_verify(p->cfg.sign_pub, 'S', r->cfg.self, p->cfg.id, cn, proof->nonce.data,
                            proof->sig.data);
    if (rv == SP_OK) memcpy(sn, proof->nonce.data, SP_LINK_NONCE);
    simpul__v1__peer_reply__free_unpacked(rep, NULL);
    if (rv != SP_OK) {
        count_impostor(p, rv == SP_ERR_BAD_SIG ? "its proof does not verify with the topology's key"
                                               : "no valid proof in its answer");
        return SP_ERR_BAD_SIG;
    }
    if ((rv = sp_link_sign(r->cfg.sign_key, 'C', r->cfg.self, p->cfg.id, cn, sn, sig)) != SP_OK)
        return rv;
    Simpul__V1__LinkProof mine = SIMPUL__V1__LINK_PROOF__INIT;
    mine.nonce = (ProtobufCBinaryData){SP_LINK_NONCE, sn};
    mine.sig = (ProtobufCBinaryData){SP_SIG_LEN, sig};
    simpul__v1__peer_request__init(&req);
    req.kind_case = SIMPUL__V1__PEER_REQUEST__KIND_PROVE;
    req.prove = &mine;
    if ((rv = exchange(p, &req, &rep)) != SP_OK) return rv;
    simpul__v1__peer_reply__free_unpacked(rep, NULL);
    p->proved = 1;
    return SP_OK;
}

/* Send req to the peer and wait for its reply (caller frees it), proving the link first when
 * links are authenticated (and again when the peer's server no longer knows the connection). */
static sp_err request(peer *p, Simpul__V1__PeerRequest *req, Simpul__V1__PeerReply **reply) {
    *reply = NULL;
    if (!p->r->cfg.sign_key) return exchange(p, req, reply);
    sp_err rv = p->proved ? SP_OK : prove_link(p);
    if (rv == SP_OK) rv = exchange(p, req, reply);
    if (rv == SP_ERR_REJECTED && p->told_unauth) {
        p->proved = 0;
        if ((rv = prove_link(p)) == SP_OK) rv = exchange(p, req, reply);
    }
    if (rv != SP_OK) p->proved = 0; /* after any failure the connection may be a new one */
    return rv;
}

/* Decode the peer's answer: SP_ERR_DECODE for bytes that are not a PeerReply, SP_ERR_REJECTED
 * (logged) for its error answer; on SP_OK *reply is the caller's. */
static sp_err take_reply(peer *p, const uint8_t *bytes, size_t len, Simpul__V1__PeerReply **reply) {
    *reply = simpul__v1__peer_reply__unpack(NULL, len, bytes);
    if (!*reply) return SP_ERR_DECODE;
    p->told_unauth = (*reply)->error && strcmp((*reply)->error, SP_LINK_UNAUTHENTICATED) == 0;
    if (p->told_unauth || ((*reply)->error && (*reply)->error[0])) {
        if (!p->told_unauth) /* unauthenticated: the connection changed, prove the link again */
            sp_log_warn("replica.refused", "peer=%s error=\"%s\"", p->cfg.id, (*reply)->error);
        simpul__v1__peer_reply__free_unpacked(*reply, NULL);
        *reply = NULL; /* callers free what they hold: never a freed reply */
        return SP_ERR_REJECTED;
    }
    pthread_mutex_lock(&p->lock);
    p->stats.last_contact_ms = sp_wall_ms();
    p->stats.connected = 1;
    p->tls_logged_ms = 0;
    pthread_mutex_unlock(&p->lock);
    return SP_OK;
}

/* What a push or sync reply tells about the peer: its heads and the origins it does not keep.
 * A sync reply is the whole truth (exact): a peer restored from an old backup holds less than
 * we thought, and must be sent what it lost. */
/* The value of part `name` in an agreement string, as a length (0 and NULL when absent). */
static const char *agreement_part(const char *a, const char *name, size_t *len) {
    size_t nlen = strlen(name);
    for (const char *s = a; s && *s;) {
        const char *end = strchr(s, ';');
        size_t plen = end ? (size_t)(end - s) : strlen(s);
        if (plen > nlen && s[nlen] == '=' && strncmp(s, name, nlen) == 0) {
            *len = plen - nlen - 1;
            return s + nlen + 1;
        }
        s = end ? end + 1 : NULL;
    }
    *len = 0;
    return NULL;
}

/* The names of our agreement's parts that `theirs` has otherwise, comma separated. */
static void agreement_diff(const char *ours, const char *theirs, char *out, size_t cap) {
    size_t used = 0;
    out[0] = '\0';
    for (const char *s = ours; s && *s;) {
        const char *end = strchr(s, ';'), *eq = strchr(s, '=');
        size_t plen = end ? (size_t)(end - s) : strlen(s), mine, other;
        if (eq && eq < s + plen) {
            char name[32];
            snprintf(name, sizeof name, "%.*s", (int)(eq - s), s);
            const char *a = agreement_part(ours, name, &mine), *b = agreement_part(theirs, name, &other);
            if ((!b || mine != other || memcmp(a, b, mine) != 0) && used + strlen(name) + 2 < cap)
                used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? "," : "", name);
        }
        s = end ? end + 1 : NULL;
    }
}

/* The peer told its agreement (a sync request or reply): remember what differs, log changes. */
static void note_agreement(peer *p, const char *theirs) {
    const char *ours = p->r->cfg.agreement;
    if (!ours || !theirs || !theirs[0]) return; /* nothing to compare, or a peer that sends none */
    char differs[sizeof p->stats.disagrees];
    agreement_diff(ours, theirs, differs, sizeof differs);
    pthread_mutex_lock(&p->lock);
    int changed = !p->stats.agreement_known || strcmp(differs, p->stats.disagrees) != 0;
    p->stats.agreement_known = 1;
    memcpy(p->stats.disagrees, differs, sizeof differs);
    pthread_mutex_unlock(&p->lock);
    if (changed && differs[0])
        sp_log_warn("replica.disagreement", "peer=%s differs=%s ours=\"%s\" theirs=\"%.200s\"",
                    p->cfg.id, differs, ours, theirs);
    else if (changed)
        sp_log_info("replica.agreement", "peer=%s", p->cfg.id);
}

static void learn_from_reply(peer *p, const Simpul__V1__PeerReply *rep, int exact) {
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < rep->n_heads; i++)
        if (sp_node_id_valid(rep->heads[i]->origin))
            known_update(p, rep->heads[i]->origin, rep->heads[i]->seq, exact);
    for (size_t i = 0; i < rep->n_not_kept; i++)
        if (sp_node_id_valid(rep->not_kept[i])) known_raise(p, rep->not_kept[i], KNOWN_ALL);
    pthread_mutex_unlock(&p->lock);
}

/* Push an encoded batch of n envelopes; learn what the peer now holds. `repair` marks a batch
 * anti-entropy sends (the peer was seen lacking it), as opposed to an eager push of new events. */
static sp_err push_batch(peer *p, uint8_t *batch, size_t len, size_t n, int repair) {
    Simpul__V1__PeerRequest req;
    simpul__v1__peer_request__init(&req);
    Simpul__V1__PeerReply *rep;
    req.kind_case = SIMPUL__V1__PEER_REQUEST__KIND_PUSH;
    req.push.data = batch;
    req.push.len = len;
    sp_err rv = request(p, &req, &rep);
    if (rv != SP_OK) return rv;
    learn_from_reply(p, rep, 0);
    pthread_mutex_lock(&p->lock);
    p->stats.sent_events += n;
    if (repair) p->stats.repaired_events += n;
    pthread_mutex_unlock(&p->lock);
    simpul__v1__peer_reply__free_unpacked(rep, NULL);
    return SP_OK;
}

/* ---- anti-entropy ---- */

static void count_ingest(peer *p, const sp_err *status, size_t n, size_t bytes) {
    pthread_mutex_lock(&p->lock);
    p->stats.received_events += n;
    p->stats.received_bytes += bytes;
    for (size_t i = 0; i < n; i++)
        if (status[i] != SP_OK && status[i] != SP_ERR_EXISTS && (unsigned)status[i] < SP_ERR__COUNT)
            p->stats.rejects[status[i]]++;
    pthread_mutex_unlock(&p->lock);
}

/* Store envelopes that came from peer p. p obviously holds them: say so first, so that the
 * store's commit (which offers them to every peer) does not send them straight back. */
static sp_err ingest_from(peer *p, const sp_envelope *envs, size_t n, size_t bytes) {
    sp_replicator *r = p->r;
    sp_err *status = calloc(n ? n : 1, sizeof *status);
    if (!status) return SP_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) known_raise_locked(p, envs[i].origin, envs[i].seq);
    sp_err rv = r->store.ingest(r->store.ctx, envs, n, status);
    if (rv == SP_OK) count_ingest(p, status, n, bytes);
    free(status);
    return rv;
}

/* Store the batch of a pull reply; *n is how many envelopes it carried. */
static sp_err ingest_pulled(peer *p, const Simpul__V1__PeerReply *rep, size_t *n) {
    sp_envelope *envs = NULL;
    *n = 0;
    sp_err rv = sp_batch_decode(&envs, n, rep->batch.data, rep->batch.len);
    if (rv == SP_OK && *n > 0) rv = ingest_from(p, envs, *n, rep->batch.len);
    sp_envelopes_free(envs, *n);
    return rv;
}

/* Pull origin's feed from the peer until we hold `target` or it stops giving. */
static sp_err pull_origin(peer *p, const char *origin, uint64_t target) {
    sp_replicator *r = p->r;
    uint64_t have;
    while ((have = r->store.head(r->store.ctx, origin)) < target && !atomic_load(&r->stopping)) {
        Simpul__V1__PeerRequest req;
    simpul__v1__peer_request__init(&req);
        Simpul__V1__PullRequest pull = SIMPUL__V1__PULL_REQUEST__INIT;
        Simpul__V1__PeerReply *rep;
        pull.origin = (char *)origin;
        pull.from_seq = have + 1;
        pull.max = (uint32_t)r->cfg.push_batch;
        req.kind_case = SIMPUL__V1__PEER_REQUEST__KIND_PULL;
        req.pull = &pull;
        sp_err rv = request(p, &req, &rep);
        if (rv != SP_OK) return rv;
        size_t n = 0;
        rv = ingest_pulled(p, rep, &n);
        simpul__v1__peer_reply__free_unpacked(rep, NULL);
        if (rv != SP_OK) return rv;
        if (n == 0 || r->store.head(r->store.ctx, origin) == have) break; /* no progress */
    }
    return SP_OK;
}

/* Whether the peer pulled origin from us within the last request timeout: it is fetching the
 * feed itself (anti-entropy runs on both sides at once), and pushing the same ranges would only
 * make it receive everything twice. Lock held. */
static int peer_is_pulling(const peer *p, const char *origin) {
    const uint64_t *at = sp_strmap_get(&p->pulling, origin);
    return at && sp_wall_ms() < *at + p->r->cfg.request_timeout_ms;
}

static void note_pull(peer *p, const char *origin) {
    pthread_mutex_lock(&p->lock);
    uint64_t *at = sp_strmap_get(&p->pulling, origin);
    if (!at && (at = malloc(sizeof *at)) && sp_strmap_put(&p->pulling, origin, at, NULL) != SP_OK) {
        free(at);
        at = NULL;
    }
    if (at) *at = sp_wall_ms();
    pthread_mutex_unlock(&p->lock);
}

/* Push origin's feed to the peer from the seq after what it holds up to `mine`. */
static sp_err push_origin(peer *p, const char *origin, uint64_t mine) {
    sp_replicator *r = p->r;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        uint64_t theirs = known_get(p, origin);
        int pulling = peer_is_pulling(p, origin);
        pthread_mutex_unlock(&p->lock);
        if (theirs >= mine || pulling || atomic_load(&r->stopping)) return SP_OK;
        sp_envelope *envs;
        size_t n;
        sp_err rv = r->store.range(r->store.ctx, origin, theirs + 1, r->cfg.push_batch,
                                   PULL_MAX_BYTES, &envs, &n);
        if (rv != SP_OK || n == 0) return rv;
        uint8_t *batch;
        size_t len;
        rv = sp_batch_encode(envs, n, &batch, &len);
        sp_envelopes_free(envs, n);
        if (rv == SP_OK) rv = push_batch(p, batch, len, n, 1);
        free(batch);
        if (rv != SP_OK) return rv;
        pthread_mutex_lock(&p->lock);
        int progress = known_get(p, origin) > theirs;
        pthread_mutex_unlock(&p->lock);
        if (!progress) { /* the peer refuses what we hold: say so, do not loop */
            sp_log_warn("replica.no_progress", "peer=%s origin=%s seq=%llu", p->cfg.id, origin,
                        (unsigned long long)theirs + 1);
            return SP_ERR_REJECTED;
        }
    }
}

static Simpul__V1__Head **heads_to_pb(const sp_vv_entry *vv, size_t n, Simpul__V1__Head *storage) {
    Simpul__V1__Head **ptrs = calloc(n ? n : 1, sizeof *ptrs);
    for (size_t i = 0; ptrs && i < n; i++) {
        simpul__v1__head__init(&storage[i]);
        storage[i].origin = (char *)vv[i].origin;
        storage[i].seq = vv[i].seq;
        ptrs[i] = &storage[i];
    }
    return ptrs;
}

/* One round of anti-entropy with the peer: swap heads, pull what we lack, push what it lacks. */
/* Remember seq for origin in m (best effort: without memory the next sync repairs fully). */
static void seen_put(sp_strmap *m, const char *origin, uint64_t seq) {
    uint64_t *v = sp_strmap_get(m, origin);
    if (!v && (v = malloc(sizeof *v)) && sp_strmap_put(m, origin, v, NULL) != SP_OK) {
        free(v);
        v = NULL;
    }
    if (v) *v = seq;
}

/* How far a sync goes for origin: all of now when repairing, else only what the last sync saw
 * already (0 when it saw nothing). Records now for the next round either way. */
static uint64_t sync_target(sp_strmap *seen, const char *origin, uint64_t now, int repair) {
    const uint64_t *before = sp_strmap_get(seen, origin);
    uint64_t target = repair ? now : before ? (*before < now ? *before : now) : 0;
    seen_put(seen, origin, now);
    return target;
}

static sp_err peer_sync(peer *p) {
    sp_replicator *r = p->r;
    sp_vv_entry *mine;
    size_t n;
    pthread_mutex_lock(&p->lock);
    int repair = p->repair;
    p->repair = 0;
    pthread_mutex_unlock(&p->lock);
    sp_err rv = r->store.heads(r->store.ctx, &mine, &n);
    if (rv != SP_OK) return rv;
    Simpul__V1__Head *storage = calloc(n ? n : 1, sizeof *storage);
    Simpul__V1__Head **ptrs = storage ? heads_to_pb(mine, n, storage) : NULL;
    Simpul__V1__Heads heads = SIMPUL__V1__HEADS__INIT;
    Simpul__V1__PeerRequest req;
    simpul__v1__peer_request__init(&req);
    Simpul__V1__PeerReply *rep = NULL;
    rv = ptrs ? SP_OK : SP_ERR_NOMEM;
    heads.n_heads = n;
    heads.heads = ptrs;
    req.kind_case = SIMPUL__V1__PEER_REQUEST__KIND_SYNC;
    req.sync = &heads;
    req.agreement = (char *)(r->cfg.agreement ? r->cfg.agreement : "");
    if (rv == SP_OK) rv = request(p, &req, &rep);
    if (rv == SP_OK) learn_from_reply(p, rep, 1);
    if (rv == SP_OK) note_agreement(p, rep->agreement);
    for (size_t i = 0; rv == SP_OK && i < rep->n_heads; i++) {
        const char *origin = rep->heads[i]->origin;
        if (!sp_node_id_valid(origin) || (r->store.keeps && !r->store.keeps(r->store.ctx, origin)))
            continue;
        uint64_t target = sync_target(&p->seen_theirs, origin, rep->heads[i]->seq, repair);
        if (target > r->store.head(r->store.ctx, origin)) rv = pull_origin(p, origin, target);
    }
    for (size_t i = 0; rv == SP_OK && i < n; i++)
        rv = push_origin(p, mine[i].origin,
                         sync_target(&p->seen_mine, mine[i].origin, mine[i].seq, repair));
    if (rv != SP_OK) { /* what this round did not finish, the next one repairs */
        pthread_mutex_lock(&p->lock);
        p->repair = 1;
        pthread_mutex_unlock(&p->lock);
    }
    if (rep) simpul__v1__peer_reply__free_unpacked(rep, NULL);
    pthread_mutex_lock(&p->lock);
    p->stats.sync_rounds++;
    pthread_mutex_unlock(&p->lock);
    free(ptrs);
    free(storage);
    free(mine);
    return rv;
}

/* ---- the peer's thread ---- */

/* The feeds whose last envelope looked at is not a seal. */
typedef struct {
    const char *origin[OPEN_MAX];
    size_t n;
} open_feeds;

/* Note q; 0 when too many feeds are open at once to follow. */
static int track_open(open_feeds *o, const qitem *q) {
    size_t i = 0;
    while (i < o->n && strcmp(o->origin[i], q->origin) != 0) i++;
    if (q->sealed && i < o->n) o->origin[i] = o->origin[--o->n];
    else if (!q->sealed && i == o->n) {
        if (o->n == OPEN_MAX) return 0;
        o->origin[o->n++] = q->origin;
    }
    return 1;
}

/* How many queued items the next push takes: about push_batch items or PUSH_MAX_BYTES, cut
 * where every feed in it ends with a seal (a cut before a seal would leave the peer envelopes it
 * cannot authenticate yet). Commits queue whole sealed runs, so such a cut comes within one
 * seal interval; if none does (the queue was dropped mid-run), take push_batch and let the peer
 * refuse the unsealed rest, which anti-entropy repairs. Lock held. */
static size_t push_cut(const peer *p) {
    size_t cap = p->r->cfg.queue_limit, limit = p->r->cfg.push_batch, cut = 0, bytes = 0;
    open_feeds open = {.n = 0};
    for (size_t i = 0; i < p->qlen && i < limit + SP_SEAL_MAX_ENVELOPES; i++) {
        const qitem *q = p->queue[(p->qhead + i) % cap];
        if ((i >= limit || bytes >= PUSH_MAX_BYTES) && open.n == 0) break;
        if (!track_open(&open, q)) break;
        bytes += q->len;
        if (open.n == 0) cut = i + 1;
    }
    return cut ? cut : p->qlen < limit ? p->qlen : limit;
}

/* Wait for work; take the queued items of the next push (the caller releases them). */
static size_t take_work(peer *p, qitem **items, int *sync_due) {
    sp_replicator *r = p->r;
    size_t cap = r->cfg.queue_limit, n = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        uint64_t now = sp_wall_ms();
        *sync_due = p->needs_sync || now >= p->next_sync_ms;
        if (atomic_load(&r->stopping) || p->qlen > 0 || *sync_due) break;
        uint64_t until = p->next_sync_ms;
        struct timespec ts = {(time_t)(until / 1000), (long)(until % 1000) * 1000000L};
        pthread_cond_timedwait(&p->wake, &p->lock, &ts);
    }
    if (*sync_due) {
        p->needs_sync = 0;
        p->next_sync_ms = sp_wall_ms() + r->cfg.sync_interval_ms;
    }
    for (size_t take = push_cut(p); take > 0; take--) {
        qitem *q = p->queue[p->qhead];
        p->qhead = (p->qhead + 1) % cap;
        p->qlen--;
        if (known_get(p, q->origin) >= q->seq)
            qitem_release(q); /* the peer got it meanwhile (sync or its own push) */
        else
            items[n++] = q;
    }
    p->stats.queued = p->qlen;
    pthread_mutex_unlock(&p->lock);
    return n;
}

static sp_err push_items(peer *p, qitem **items, size_t n) {
    uint8_t *batch;
    size_t len;
    sp_err rv = batch_from_items(items, n, &batch, &len);
    if (rv != SP_OK) return rv;
    rv = push_batch(p, batch, len, n, 0);
    free(batch);
    return rv;
}

/* ---- TLS refusals ---- */

static int is_tls(const char *url);

/* The statistics scope of dialer or listener `id` (kind "dialer" or "listener") in a snapshot.
 * Our own walk: NNG 1.5's nng_stat_find_dialer/_listener return the first endpoint of the
 * process whatever its id. */
static nng_stat *find_endpoint(nng_stat *s, const char *kind, int id) {
    for (; s; s = nng_stat_next(s)) {
        if (nng_stat_type(s) != NNG_STAT_SCOPE) continue;
        nng_stat *c = nng_stat_child(s), *found = NULL;
        if (strcmp(nng_stat_name(s), kind) == 0) {
            while (c && (nng_stat_type(c) != NNG_STAT_ID || strcmp(nng_stat_name(c), "id") != 0))
                c = nng_stat_next(c);
            if (c && nng_stat_value(c) == (uint64_t)id) return s;
        } else if ((found = find_endpoint(c, kind, id))) {
            return found;
        }
    }
    return NULL;
}

/* NNG's count of failed TLS handshakes of one dialer or listener: its statistic "auth"
 * (NNG_ECRYPTO or NNG_EPEERAUTH, which is what every refused certificate gives). NNG calls
 * nobody when a handshake fails, so this counter is the only trace it leaves. 0 when NNG keeps
 * no statistics. */
static uint64_t auth_errors(const char *kind, int id) {
    nng_stat *root;
    if (id <= 0 || nng_stats_get(&root) != 0) return 0;
    nng_stat *ep = find_endpoint(root, kind, id);
    nng_stat *s = ep ? nng_stat_find(ep, "auth") : NULL;
    uint64_t v = s ? nng_stat_value(s) : 0;
    nng_stats_free(root);
    return v;
}

/* Why handshakes with p fail, in one sentence: NNG cannot say, so ask broker/tls_probe.h. */
/* Why handshakes with p fail, as the probe finds it; 1 when it found which certificate was
 * refused, 0 when it could not tell (it timed out on a busy machine, say). */
static int tls_reason(peer *p, char *out, size_t cap) {
    sp_replicator *r = p->r;
    sp_tls_probe_result res;
    uint32_t t = r->cfg.request_timeout_ms < TLS_PROBE_MAX_MS ? r->cfg.request_timeout_ms : TLS_PROBE_MAX_MS;
    sp_err rv = sp_tls_probe(p->cfg.address, r->cfg.tls_cert_key_file, r->cfg.tls_ca_file, p->cfg.id,
                             t, &res);
    if (rv != SP_OK)
        snprintf(out, cap, "TLS handshake failed (NNG: crypto or peer authentication error); no "
                 "diagnosis: %s", sp_strerror(rv));
    else if (res.verdict == SP_TLS_PROBE_PEER_CERT)
        snprintf(out, cap, "the certificate of %s was refused: %s", p->cfg.id, res.reason);
    else if (res.verdict == SP_TLS_PROBE_OUR_CERT)
        snprintf(out, cap, "%s %s", p->cfg.id, res.reason);
    else
        snprintf(out, cap, "TLS handshake failed (NNG: crypto or peer authentication error); %s",
                 res.reason);
    return rv == SP_OK && (res.verdict == SP_TLS_PROBE_PEER_CERT || res.verdict == SP_TLS_PROBE_OUR_CERT);
}

/* After a failed request: did TLS handshakes with p fail meanwhile? Count them, and say why at
 * the start of a failure streak and every TLS_RELOG_MS while it lasts. Returns how many failed
 * since the last look. Peer thread only. */
static uint64_t check_tls_refusals(peer *p) {
    if (!is_tls(p->cfg.address)) return 0;
    uint64_t seen = auth_errors("dialer", nng_dialer_id(p->dialer));
    uint64_t n = seen > p->auth_seen ? seen - p->auth_seen : 0;
    p->auth_seen = seen;
    if (n == 0) return 0;
    uint64_t now = sp_wall_ms();
    pthread_mutex_lock(&p->lock);
    p->stats.tls_refused += n;
    uint64_t total = p->stats.tls_refused;
    int quiet = p->tls_logged_ms && now < p->tls_logged_ms + TLS_RELOG_MS;
    if (!quiet) p->tls_logged_ms = now;
    pthread_mutex_unlock(&p->lock);
    if (quiet || atomic_load(&p->r->stopping)) return n;
    char reason[512];
    if (!tls_reason(p, reason, sizeof reason)) { /* no diagnosis: try again at the next refusal */
        pthread_mutex_lock(&p->lock);
        p->tls_logged_ms = 0;
        pthread_mutex_unlock(&p->lock);
    }
    sp_log_warn("replica.tls_refused", "peer=%s address=%s handshakes=%llu reason=\"%s\"", p->cfg.id,
                p->cfg.address, (unsigned long long)total, reason);
    return n;
}

/* The serving side: handshakes of dialing nodes that failed. NNG does not say which node, nor
 * whose certificate was refused, so the line says so; the dialing node logs the reason. At most
 * one look per second, whichever thread asks. */
static void check_listener_tls(sp_replicator *r) {
    uint64_t now = sp_wall_ms(), last = atomic_load(&r->listen_checked_ms);
    if (!r->listen_tls || now < last + 1000 ||
        !atomic_compare_exchange_strong(&r->listen_checked_ms, &last, now))
        return;
    uint64_t seen = auth_errors("listener", nng_listener_id(r->listener));
    pthread_mutex_lock(&r->slock);
    uint64_t n = seen > r->listen_auth_seen ? seen - r->listen_auth_seen : 0;
    r->listen_auth_seen = seen;
    r->sstats.tls_refused += n;
    uint64_t total = r->sstats.tls_refused;
    int log = n && (!r->listen_logged_ms || now >= r->listen_logged_ms + TLS_RELOG_MS);
    if (log) r->listen_logged_ms = now;
    pthread_mutex_unlock(&r->slock);
    if (log)
        sp_log_warn("replica.tls_refused", "listen=%s handshakes=%llu reason=\"TLS handshakes of "
                    "dialing nodes failed (NNG: crypto or peer authentication error): their "
                    "certificate was refused here, or they refused ours; NNG does not say which "
                    "node, the dialing node's log says why\"", r->cfg.listen, (unsigned long long)total);
}

/* After a failure: forget the queue (the store has it all), sync when back, back off. */
static void peer_failed(peer *p, sp_err why, unsigned *backoff_ms) {
    uint64_t refused = check_tls_refusals(p);
    pthread_mutex_lock(&p->lock);
    if (p->stats.connected || p->stats.failures == 0)
        sp_log_warn("replica.peer_down", "peer=%s address=%s error=%s", p->cfg.id, p->cfg.address,
                    refused ? "TLS_REFUSED" : sp_errname(why));
    p->stats.connected = 0;
    p->stats.failures++;
    queue_drop(p);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += *backoff_ms / 1000;
    ts.tv_nsec += (long)(*backoff_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    if (!atomic_load(&p->r->stopping)) pthread_cond_timedwait(&p->wake, &p->lock, &ts);
    pthread_mutex_unlock(&p->lock);
    *backoff_ms = *backoff_ms * 2 > 5000 ? 5000 : *backoff_ms * 2;
}

static void *peer_main(void *arg) {
    peer *p = arg;
    sp_replicator *r = p->r;
    qitem **items = calloc(r->cfg.push_batch + SP_SEAL_MAX_ENVELOPES, sizeof *items);
    unsigned backoff_ms = 100;
    while (items && !atomic_load(&r->stopping)) {
        int sync_due;
        size_t n = take_work(p, items, &sync_due);
        check_listener_tls(r);
        sp_err rv = SP_OK;
        if (sync_due && !atomic_load(&r->stopping)) rv = peer_sync(p);
        if (rv == SP_OK && n > 0) rv = push_items(p, items, n);
        for (size_t i = 0; i < n; i++) qitem_release(items[i]);
        if (rv == SP_OK) {
            backoff_ms = 100;
        } else if (!atomic_load(&r->stopping)) {
            peer_failed(p, rv, &backoff_ms);
        }
    }
    free(items);
    return NULL;
}

/* ---- serving peers ---- */

static nng_msg *error_reply(sp_replicator *r, const char *text) {
    Simpul__V1__PeerReply rep = SIMPUL__V1__PEER_REPLY__INIT;
    rep.from = (char *)r->cfg.self;
    rep.error = (char *)text;
    return pack_reply(&rep);
}

static void count_server(sp_replicator *r, uint64_t *counter) {
    pthread_mutex_lock(&r->slock);
    (*counter)++;
    pthread_mutex_unlock(&r->slock);
}

/* Heads of the distinct origins of envs, for the push reply. */
static size_t batch_heads(sp_replicator *r, const sp_envelope *envs, size_t n, sp_vv_entry *out) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(envs[i].origin, envs[i - 1].origin) == 0) continue;
        size_t j = 0;
        while (j < k && strcmp(out[j].origin, envs[i].origin) != 0) j++;
        if (j < k) continue;
        strcpy(out[k].origin, envs[i].origin);
        out[k++].seq = r->store.head(r->store.ctx, envs[i].origin);
    }
    return k;
}

static nng_msg *reply_with_heads(sp_replicator *r, const sp_vv_entry *vv, size_t n,
                                 char **not_kept, size_t n_not_kept) {
    Simpul__V1__PeerReply rep = SIMPUL__V1__PEER_REPLY__INIT;
    Simpul__V1__Head *storage = calloc(n ? n : 1, sizeof *storage);
    Simpul__V1__Head **ptrs = storage ? heads_to_pb(vv, n, storage) : NULL;
    nng_msg *m = NULL;
    if (ptrs) {
        rep.from = (char *)r->cfg.self;
        rep.n_heads = n;
        rep.heads = ptrs;
        rep.n_not_kept = n_not_kept;
        rep.not_kept = not_kept;
        rep.agreement = (char *)(r->cfg.agreement ? r->cfg.agreement : ""); /* read on sync */
        m = pack_reply(&rep);
    }
    free(ptrs);
    free(storage);
    return m;
}

/* Keep only the envelopes of origins this node keeps; the others are named in not_kept. */
static size_t filter_kept(sp_replicator *r, sp_envelope *envs, size_t n, char **not_kept,
                          size_t *n_not_kept) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!r->store.keeps || r->store.keeps(r->store.ctx, envs[i].origin)) {
            envs[k++] = envs[i];
            continue;
        }
        size_t j = 0;
        while (j < *n_not_kept && strcmp(not_kept[j], envs[i].origin) != 0) j++;
        if (j == *n_not_kept) not_kept[(*n_not_kept)++] = strdup(envs[i].origin);
        sp_envelope_clear(&envs[i]);
    }
    return k;
}

static nng_msg *serve_push(sp_replicator *r, peer *p, const ProtobufCBinaryData *batch) {
    sp_envelope *envs = NULL;
    size_t n = 0, n_not_kept = 0;
    sp_err rv = sp_batch_decode(&envs, &n, batch->data, batch->len);
    if (rv != SP_OK) {
        pthread_mutex_lock(&p->lock);
        p->stats.rejects[rv]++;
        pthread_mutex_unlock(&p->lock);
        sp_log_warn("replica.bad_batch", "peer=%s error=%s bytes=%zu", p->cfg.id, sp_errname(rv),
                    batch->len);
        return error_reply(r, rv == SP_ERR_TOO_BIG ? "batch too large" : "malformed batch");
    }
    char **not_kept = calloc(n ? n : 1, sizeof *not_kept);
    sp_vv_entry *heads = calloc(n ? n : 1, sizeof *heads);
    nng_msg *m = NULL;
    if (not_kept && heads) {
        size_t kept = filter_kept(r, envs, n, not_kept, &n_not_kept);
        rv = kept ? ingest_from(p, envs, kept, batch->len) : SP_OK;
        m = rv == SP_OK ? reply_with_heads(r, heads, batch_heads(r, envs, kept, heads), not_kept,
                                           n_not_kept)
                        : error_reply(r, "storage error");
        sp_envelopes_free(envs, kept);
        envs = NULL;
    }
    for (size_t i = 0; i < n_not_kept; i++) free(not_kept[i]);
    free(not_kept);
    free(heads);
    sp_envelopes_free(envs, n);
    return m;
}

static nng_msg *serve_sync(sp_replicator *r, peer *p, const Simpul__V1__Heads *theirs) {
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; theirs && i < theirs->n_heads; i++)
        if (sp_node_id_valid(theirs->heads[i]->origin))
            known_update(p, theirs->heads[i]->origin, theirs->heads[i]->seq, 1);
    p->stats.last_contact_ms = sp_wall_ms();
    pthread_mutex_unlock(&p->lock);
    sp_vv_entry *vv;
    size_t n;
    if (r->store.heads(r->store.ctx, &vv, &n) != SP_OK) return error_reply(r, "storage error");
    nng_msg *m = reply_with_heads(r, vv, n, NULL, 0);
    free(vv);
    return m;
}

static nng_msg *serve_pull(sp_replicator *r, peer *p, const Simpul__V1__PullRequest *pull) {
    if (!pull || !sp_node_id_valid(pull->origin)) return error_reply(r, "malformed pull");
    note_pull(p, pull->origin);
    size_t max = pull->max && pull->max < r->cfg.push_batch ? pull->max : r->cfg.push_batch;
    sp_envelope *envs;
    size_t n;
    uint8_t *batch = NULL;
    size_t len = 0;
    sp_err rv = r->store.range(r->store.ctx, pull->origin, pull->from_seq, max, PULL_MAX_BYTES, &envs, &n);
    if (rv != SP_OK) return error_reply(r, "storage error");
    rv = sp_batch_encode(envs, n, &batch, &len);
    sp_envelopes_free(envs, n);
    if (rv != SP_OK) return error_reply(r, "encoding error");
    Simpul__V1__PeerReply rep = SIMPUL__V1__PEER_REPLY__INIT;
    rep.from = (char *)r->cfg.self;
    rep.batch.data = batch;
    rep.batch.len = len;
    nng_msg *m = pack_reply(&rep);
    free(batch);
    return m;
}

/* A blob request may come from any node of the federation, not only a peer: the hook checks
 * who signed it. The broker only carries the bytes and counts what the hook says. */
static nng_msg *serve_blob(sp_replicator *r, const char *from, const ProtobufCBinaryData *b) {
    if (!r->cfg.blob_serve) {
        count_server(r, &r->sstats.malformed);
        return error_reply(r, "unknown request");
    }
    uint8_t *out = NULL;
    size_t n = 0;
    sp_err rv = r->cfg.blob_serve(r->cfg.blob_ctx, from ? from : "", b->data, b->len, &out, &n);
    if (rv == SP_ERR_UNKNOWN_ORIGIN) count_server(r, &r->sstats.unknown_peer);
    if (rv == SP_ERR_DECODE) count_server(r, &r->sstats.malformed);
    if (!out) return error_reply(r, "out of memory");
    Simpul__V1__PeerReply rep = SIMPUL__V1__PEER_REPLY__INIT;
    rep.from = (char *)r->cfg.self;
    rep.blob.data = out;
    rep.blob.len = n;
    nng_msg *m = pack_reply(&rep);
    free(out);
    return m;
}

/* hello: answer with our nonce and our proof; remember the connection's pending hello. */
static nng_msg *serve_hello(sp_replicator *r, peer *p, uint32_t pipe, const ProtobufCBinaryData *cn) {
    uint8_t sn[SP_LINK_NONCE], sig[SP_SIG_LEN];
    if (!r->cfg.sign_key) return error_reply(r, "links are not authenticated here");
    if (cn->len != SP_LINK_NONCE) {
        count_server(r, &r->sstats.malformed);
        return error_reply(r, "malformed hello");
    }
    if (sp_link_hello(&r->links, pipe, (int)(p - r->peers), cn->data, sn) != SP_OK ||
        sp_link_sign(r->cfg.sign_key, 'S', p->cfg.id, r->cfg.self, cn->data, sn, sig) != SP_OK)
        return error_reply(r, "cannot sign");
    Simpul__V1__LinkProof proof = SIMPUL__V1__LINK_PROOF__INIT;
    proof.nonce = (ProtobufCBinaryData){SP_LINK_NONCE, sn};
    proof.sig = (ProtobufCBinaryData){SP_SIG_LEN, sig};
    Simpul__V1__PeerReply rep = SIMPUL__V1__PEER_REPLY__INIT;
    rep.from = (char *)r->cfg.self;
    rep.proof = &proof;
    return pack_reply(&rep);
}

/* prove: the client's signature over the pending hello, with the key the topology lists. */
static nng_msg *serve_prove(sp_replicator *r, peer *p, uint32_t pipe, const Simpul__V1__LinkProof *pr) {
    uint8_t cn[SP_LINK_NONCE], sn[SP_LINK_NONCE];
    int index = (int)(p - r->peers);
    sp_err rv = pr && pr->nonce.len == SP_LINK_NONCE && pr->sig.len == SP_SIG_LEN
                    ? sp_link_pending(&r->links, pipe, index, cn, sn) : SP_ERR_DECODE;
    if (rv == SP_OK && memcmp(sn, pr->nonce.data, SP_LINK_NONCE) != 0) rv = SP_ERR_BAD_SIG;
    if (rv == SP_OK) rv = sp_link_verify(p->cfg.sign_pub, 'C', p->cfg.id, r->cfg.self, cn, sn, pr->sig.data);
    if (rv != SP_OK) {
        count_server(r, &r->sstats.bad_proof);
        sp_log_warn("replica.bad_proof", "peer=%s reason=%s", p->cfg.id, sp_errname(rv));
        return error_reply(r, "the proof does not verify");
    }
    sp_link_prove(&r->links, pipe, index);
    Simpul__V1__PeerReply rep = SIMPUL__V1__PEER_REPLY__INIT;
    rep.from = (char *)r->cfg.self;
    return pack_reply(&rep);
}

/* Links are authenticated and this connection has not proved it is p. */
static int unproved(sp_replicator *r, peer *p, uint32_t pipe) {
    return r->cfg.sign_key && !sp_link_proved(&r->links, pipe, (int)(p - r->peers));
}

static nng_msg *serve(sp_replicator *r, const nng_msg *in) {
    size_t len = nng_msg_len(in);
    count_server(r, &r->sstats.requests);
    if (len > SP_MAX_BATCH_BYTES + 4096) {
        count_server(r, &r->sstats.oversized);
        sp_log_warn("replica.oversized", "bytes=%zu", len);
        return error_reply(r, "message too large");
    }
    Simpul__V1__PeerRequest *req = simpul__v1__peer_request__unpack(NULL, len, nng_msg_body((nng_msg *)in));
    if (!req) {
        count_server(r, &r->sstats.malformed);
        sp_log_warn("replica.malformed", "bytes=%zu", len);
        return error_reply(r, "malformed request");
    }
    peer *p = req->from ? sp_strmap_get(&r->by_id, req->from) : NULL;
    uint32_t pipe = nng_pipe_id(nng_msg_get_pipe(in));
    nng_msg *m;
    if (req->kind_case == SIMPUL__V1__PEER_REQUEST__KIND_BLOB) {
        m = serve_blob(r, req->from, &req->blob);
    } else if (!p) {
        count_server(r, &r->sstats.unknown_peer);
        sp_log_warn("replica.unknown_peer", "from=%.64s", req->from ? req->from : "-");
        m = error_reply(r, "unknown peer");
    } else if (req->kind_case == SIMPUL__V1__PEER_REQUEST__KIND_HELLO) {
        m = serve_hello(r, p, pipe, &req->hello);
    } else if (req->kind_case == SIMPUL__V1__PEER_REQUEST__KIND_PROVE) {
        m = serve_prove(r, p, pipe, req->prove);
    } else if (unproved(r, p, pipe)) {
        count_server(r, &r->sstats.unauthenticated);
        m = error_reply(r, SP_LINK_UNAUTHENTICATED);
    } else if (req->kind_case == SIMPUL__V1__PEER_REQUEST__KIND_PUSH) {
        m = serve_push(r, p, &req->push);
    } else if (req->kind_case == SIMPUL__V1__PEER_REQUEST__KIND_SYNC) {
        note_agreement(p, req->agreement);
        m = serve_sync(r, p, req->sync);
    } else if (req->kind_case == SIMPUL__V1__PEER_REQUEST__KIND_PULL) {
        m = serve_pull(r, p, req->pull);
    } else {
        count_server(r, &r->sstats.malformed);
        m = error_reply(r, "unknown request");
    }
    simpul__v1__peer_request__free_unpacked(req, NULL);
    return m;
}

/* ---- entry points for fuzz targets (broker/replicator_int.h) ---- */

sp_err sp__replicator_serve(sp_replicator *r, const uint8_t *req, size_t n, uint8_t **reply,
                            size_t *reply_len) {
    nng_msg *in, *out;
    if (nng_msg_alloc(&in, n) != 0) return SP_ERR_NOMEM;
    if (n) memcpy(nng_msg_body(in), req, n);
    out = serve(r, in);
    nng_msg_free(in);
    if (!out) return SP_ERR_NOMEM;
    *reply_len = nng_msg_len(out);
    *reply = malloc(*reply_len ? *reply_len : 1);
    if (*reply && *reply_len) memcpy(*reply, nng_msg_body(out), *reply_len);
    nng_msg_free(out);
    return *reply ? SP_OK : SP_ERR_NOMEM;
}

sp_err sp__replicator_take_reply(sp_replicator *r, const char *peer_id, sp__reply_kind kind,
                                 const uint8_t *bytes, size_t n) {
    peer *p = sp_strmap_get(&r->by_id, peer_id);
    Simpul__V1__PeerReply *rep;
    if (!p) return SP_ERR_INVAL;
    sp_err rv = take_reply(p, bytes, n, &rep);
    if (rv != SP_OK) return rv;
    size_t got;
    if (kind == SP__REPLY_PULL) rv = ingest_pulled(p, rep, &got);
    else learn_from_reply(p, rep, kind == SP__REPLY_SYNC);
    simpul__v1__peer_reply__free_unpacked(rep, NULL);
    return rv;
}

static void *server_main(void *arg) {
    sp_replicator *r = arg;
    nng_ctx ctx;
    nng_aio *aio;
    if (nng_ctx_open(&ctx, r->rep) != 0) return NULL;
    if (nng_aio_alloc(&aio, NULL, NULL) != 0) {
        nng_ctx_close(ctx);
        return NULL;
    }
    while (!atomic_load(&r->stopping)) {
        /* bounded waits, so that a worker also sees `stopping` by itself */
        nng_aio_set_timeout(aio, SERVER_POLL_MS);
        nng_ctx_recv(ctx, aio);
        nng_aio_wait(aio);
        int rv = nng_aio_result(aio);
        if (rv == NNG_ECLOSED) break;
        if (rv != 0) continue; /* NNG_ETIMEDOUT: look at stopping again */
        nng_msg *in = nng_aio_get_msg(aio);
        nng_msg *out = serve(r, in);
        nng_msg_free(in);
        if (!out) continue; /* out of memory: the requester times out and retries */
        nng_aio_set_msg(aio, out);
        nng_aio_set_timeout(aio, (nng_duration)r->cfg.request_timeout_ms);
        nng_ctx_send(ctx, aio);
        nng_aio_wait(aio);
        if (nng_aio_result(aio) != 0) nng_msg_free(out);
    }
    nng_aio_free(aio);
    nng_ctx_close(ctx);
    return NULL;
}

/* ---- start, stop, stats ---- */

static int is_tls(const char *url) {
    return strncmp(url, "tls+", 4) == 0;
}

/* A TLS configuration: our certificate, the trusted certificates, peers must present one.
 * server_name (client side) is the peer id its certificate must be issued to. */
static sp_err tls_config(nng_tls_config **out, nng_tls_mode mode, const sp_replicator_config *cfg,
                         const char *server_name) {
    if (!cfg->tls_cert_key_file || !cfg->tls_ca_file) {
        sp_log_error("replica.tls", "detail=\"tls+tcp needs a certificate and a CA file\"");
        return SP_ERR_CONFIG;
    }
    nng_tls_config *t;
    if (nng_tls_config_alloc(&t, mode) != 0) return SP_ERR_NOMEM;
    int rv = nng_tls_config_cert_key_file(t, cfg->tls_cert_key_file, NULL);
    if (rv == 0) rv = nng_tls_config_ca_file(t, cfg->tls_ca_file);
    if (rv == 0) rv = nng_tls_config_auth_mode(t, NNG_TLS_AUTH_MODE_REQUIRED);
    if (rv == 0 && server_name) rv = nng_tls_config_server_name(t, server_name);
    if (rv != 0) {
        sp_log_error("replica.tls", "cert=%s ca=%s error=\"%s\"", cfg->tls_cert_key_file,
                     cfg->tls_ca_file, nng_strerror(rv));
        nng_tls_config_free(t);
        return SP_ERR_CONFIG;
    }
    *out = t;
    return SP_OK;
}

static sp_err start_listener(sp_replicator *r) {
    nng_listener l = NNG_LISTENER_INITIALIZER;
    int rv = nng_rep0_open(&r->rep);
    if (rv != 0) return SP_ERR_NET;
    r->rep_open = 1;
    nng_socket_set_size(r->rep, NNG_OPT_RECVMAXSZ, RECV_MAX);
    if ((rv = nng_listener_create(&l, r->rep, r->cfg.listen)) != 0) {
        sp_log_error("replica.listen", "url=%s error=\"%s\"", r->cfg.listen, nng_strerror(rv));
        return rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP ? SP_ERR_CONFIG : SP_ERR_NET;
    }
    r->listener = l;
    if (is_tls(r->cfg.listen)) {
        sp_err e = tls_config(&r->tls_server, NNG_TLS_MODE_SERVER, &r->cfg, NULL);
        if (e != SP_OK) return e;
        nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, r->tls_server);
        r->listen_tls = 1;
    }
    if ((rv = nng_listener_start(l, 0)) != 0) {
        sp_log_error("replica.listen", "url=%s error=\"%s\"", r->cfg.listen, nng_strerror(rv));
        return SP_ERR_NET;
    }
    for (; r->n_workers < SERVER_WORKERS; r->n_workers++)
        if (pthread_create(&r->workers[r->n_workers], NULL, server_main, r) != 0) return SP_ERR_NOMEM;
    return SP_OK;
}

/* Everything the server workers use of a peer (they serve its pushes as soon as the listener
 * runs, before its own thread and socket exist). */
static sp_err init_peer(sp_replicator *r, peer *p) {
    p->r = r;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    p->needs_sync = 1;
    p->repair = 1; /* the first sync after start repairs everything */
    snprintf(p->stats.id, sizeof p->stats.id, "%s", p->cfg.id);
    snprintf(p->stats.address, sizeof p->stats.address, "%s", p->cfg.address);
    return (p->queue = calloc(r->cfg.queue_limit, sizeof *p->queue)) ? SP_OK : SP_ERR_NOMEM;
}

/* The peer's socket, dialer and thread. */
static sp_err start_peer(sp_replicator *r, peer *p) {
    nng_dialer d = NNG_DIALER_INITIALIZER;
    if (nng_req0_open(&p->sock) != 0) return SP_ERR_NET;
    nng_socket_set_ms(p->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    nng_socket_set_ms(p->sock, NNG_OPT_SENDTIMEO, (nng_duration)r->cfg.request_timeout_ms);
    nng_socket_set_ms(p->sock, NNG_OPT_RECVTIMEO, (nng_duration)r->cfg.request_timeout_ms);
    nng_socket_set_ms(p->sock, NNG_OPT_RECONNMINT, 100);
    nng_socket_set_ms(p->sock, NNG_OPT_RECONNMAXT, 5000);
    nng_socket_set_size(p->sock, NNG_OPT_RECVMAXSZ, RECV_MAX);
    int rv = nng_dialer_create(&d, p->sock, p->cfg.address);
    p->dialer = d;
    if (rv == 0 && is_tls(p->cfg.address)) {
        sp_err e = tls_config(&p->tls, NNG_TLS_MODE_CLIENT, &r->cfg, p->cfg.id);
        if (e != SP_OK) return e;
        nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, p->tls);
    }
    if (rv == 0) rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK);
    if (rv != 0) {
        sp_log_error("replica.dial", "peer=%s url=%s error=\"%s\"", p->cfg.id, p->cfg.address,
                     nng_strerror(rv));
        return SP_ERR_CONFIG;
    }
    if (pthread_create(&p->thread, NULL, peer_main, p) != 0) return SP_ERR_NOMEM;
    p->started = 1;
    return SP_OK;
}

/* ---- asking any node (sp_replicator_ask) ---- */

/* A REQ socket dialing j->address for one request; published in a->sock so that stop can
 * close it under a request in flight. */
static sp_err ask_open(asker *a, const ask_job *j, nng_tls_config **tls) {
    sp_replicator *r = a->r;
    nng_socket sock;
    nng_dialer d;
    if (nng_req0_open(&sock) != 0) return SP_ERR_NET;
    nng_socket_set_ms(sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    nng_socket_set_ms(sock, NNG_OPT_SENDTIMEO, (nng_duration)r->cfg.request_timeout_ms);
    nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, (nng_duration)r->cfg.request_timeout_ms);
    nng_socket_set_size(sock, NNG_OPT_RECVMAXSZ, RECV_MAX);
    sp_err e = SP_OK;
    int rv = nng_dialer_create(&d, sock, j->address);
    if (rv == 0 && is_tls(j->address) &&
        (e = tls_config(tls, NNG_TLS_MODE_CLIENT, &r->cfg, j->to)) == SP_OK)
        rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, *tls);
    if (rv == 0 && e == SP_OK) rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK);
    if (rv != 0 || e != SP_OK) {
        sp_log_warn("replica.ask_dial", "to=%s url=%s error=\"%s\"", j->to, j->address,
                    rv ? nng_strerror(rv) : sp_strerror(e));
        nng_close(sock);
        return SP_ERR_CONFIG;
    }
    pthread_mutex_lock(&r->alock);
    int stopping = atomic_load(&r->stopping);
    if (!stopping) {
        a->sock = sock;
        a->busy = 1;
    }
    pthread_mutex_unlock(&r->alock);
    if (stopping) nng_close(sock);
    return stopping ? SP_ERR_CLOSED : SP_OK;
}

/* Close the request's socket unless stop already did. */
static void ask_close(asker *a) {
    pthread_mutex_lock(&a->r->alock);
    int busy = a->busy;
    a->busy = 0;
    pthread_mutex_unlock(&a->r->alock);
    if (busy) nng_close(a->sock);
}

/* Send PeerRequest{blob} and give done the reply's blob bytes (or why there are none). */
static void ask_exchange(asker *a, const ask_job *j) {
    sp_replicator *r = a->r;
    Simpul__V1__PeerRequest req;
    simpul__v1__peer_request__init(&req);
    req.from = (char *)r->cfg.self;
    req.kind_case = SIMPUL__V1__PEER_REQUEST__KIND_BLOB;
    req.blob.data = j->req;
    req.blob.len = j->n;
    nng_msg *m;
    size_t len = simpul__v1__peer_request__get_packed_size(&req);
    if (nng_msg_alloc(&m, len) != 0) {
        j->done(j->arg, SP_ERR_NOMEM, NULL, 0);
        return;
    }
    simpul__v1__peer_request__pack(&req, nng_msg_body(m));
    int rv = nng_sendmsg(a->sock, m, 0);
    if (rv != 0) nng_msg_free(m);
    if (rv == 0) rv = nng_recvmsg(a->sock, &m, 0);
    if (rv != 0) {
        sp_err e = rv == NNG_ETIMEDOUT ? SP_ERR_TIMEOUT : rv == NNG_ECLOSED ? SP_ERR_CLOSED : SP_ERR_NET;
        j->done(j->arg, e, NULL, 0);
        return;
    }
    Simpul__V1__PeerReply *rep =
        simpul__v1__peer_reply__unpack(NULL, nng_msg_len(m), nng_msg_body(m));
    nng_msg_free(m);
    if (!rep)
        j->done(j->arg, SP_ERR_DECODE, NULL, 0);
    else if (rep->error && rep->error[0])
        j->done(j->arg, SP_ERR_REJECTED, (const uint8_t *)rep->error, strlen(rep->error));
    else
        j->done(j->arg, SP_OK, rep->blob.data, rep->blob.len);
    if (rep) simpul__v1__peer_reply__free_unpacked(rep, NULL);
}

static void ask_job_free(ask_job *j) {
    if (!j) return;
    free(j->address);
    free(j->req);
    free(j);
}

static ask_job *ask_take(sp_replicator *r) {
    pthread_mutex_lock(&r->alock);
    while (!r->ahead && !atomic_load(&r->stopping)) pthread_cond_wait(&r->awake, &r->alock);
    ask_job *j = atomic_load(&r->stopping) ? NULL : r->ahead;
    if (j) {
        r->ahead = j->next;
        if (!r->ahead) r->atail = NULL;
        r->alen--;
    }
    pthread_mutex_unlock(&r->alock);
    return j;
}

static void *ask_main(void *arg) {
    asker *a = arg;
    ask_job *j;
    while ((j = ask_take(a->r))) {
        nng_tls_config *tls = NULL;
        sp_err rv = ask_open(a, j, &tls);
        if (rv == SP_OK) {
            ask_exchange(a, j);
            ask_close(a);
        } else {
            j->done(j->arg, rv, NULL, 0);
        }
        if (tls) nng_tls_config_free(tls);
        ask_job_free(j);
    }
    return NULL;
}

static sp_err start_askers(sp_replicator *r);

sp_err sp_replicator_ask(sp_replicator *r, const char *to, const char *address, const uint8_t *req,
                         size_t n, sp_ask_done done, void *arg) {
    if (!r || !sp_node_id_valid(to) || !address || !done || n > SP_MAX_BATCH_BYTES)
        return SP_ERR_INVAL;
    ask_job *j = calloc(1, sizeof *j);
    if (j) {
        snprintf(j->to, sizeof j->to, "%s", to);
        j->address = strdup(address);
        j->req = malloc(n ? n : 1);
    }
    if (!j || !j->address || !j->req) {
        ask_job_free(j);
        return SP_ERR_NOMEM;
    }
    memcpy(j->req, req, n);
    j->n = n;
    j->done = done;
    j->arg = arg;
    pthread_mutex_lock(&r->alock);
    sp_err rv = atomic_load(&r->stopping) ? SP_ERR_CLOSED
                : r->alen >= SP_ASK_QUEUE ? SP_ERR_TOO_BIG
                                          : SP_OK;
    /* The ask threads start with the first request: most nodes never ask anyone. */
    if (rv == SP_OK && r->n_askers == 0 && start_askers(r) != SP_OK && r->n_askers == 0)
        rv = SP_ERR_NOMEM;
    if (rv == SP_OK) {
        if (r->atail)
            r->atail->next = j;
        else
            r->ahead = j;
        r->atail = j;
        r->alen++;
        pthread_cond_signal(&r->awake);
    }
    pthread_mutex_unlock(&r->alock);
    if (rv != SP_OK) ask_job_free(j);
    return rv;
}

static sp_err start_askers(sp_replicator *r) {
    for (; r->n_askers < ASK_WORKERS; r->n_askers++) {
        asker *a = &r->askers[r->n_askers];
        a->r = r;
        if (pthread_create(&a->thread, NULL, ask_main, a) != 0) return SP_ERR_NOMEM;
    }
    return SP_OK;
}

/* Wake the ask threads, abort the requests in flight, answer the queued ones with CLOSED. */
/* An asker busy with a request finishes it (bounded by request_timeout_ms) and closes its own
 * socket: closing it under the thread could deadlock NNG 1.5.2 (see halt_peer). */
static void stop_askers(sp_replicator *r) {
    pthread_mutex_lock(&r->alock);
    pthread_cond_broadcast(&r->awake);
    ask_job *q = r->ahead;
    r->ahead = r->atail = NULL;
    r->alen = 0;
    pthread_mutex_unlock(&r->alock);
    for (int i = 0; i < r->n_askers; i++) pthread_join(r->askers[i].thread, NULL);
    while (q) {
        ask_job *next = q->next;
        q->done(q->arg, SP_ERR_CLOSED, NULL, 0);
        ask_job_free(q);
        q = next;
    }
}

static void apply_defaults(sp_replicator_config *c) {
    if (!c->sync_interval_ms) c->sync_interval_ms = 10000;
    if (!c->request_timeout_ms) c->request_timeout_ms = 5000;
    if (!c->push_batch || c->push_batch > SP_MAX_BATCH_ENVELOPES - SP_SEAL_MAX_ENVELOPES)
        c->push_batch = 1000;
    if (!c->queue_limit) c->queue_limit = 100000;
}

sp_err sp_replicator_start(sp_replicator **out, const sp_replicator_config *cfg,
                           const sp_replica_store *store) {
    sp_replicator *r = calloc(1, sizeof *r);
    if (!r) return SP_ERR_NOMEM;
    r->cfg = *cfg;
    apply_defaults(&r->cfg);
    r->store = *store;
    pthread_mutex_init(&r->slock, NULL);
    sp_link_table_init(&r->links);
    pthread_mutex_init(&r->alock, NULL);
    pthread_cond_init(&r->awake, NULL);
    sp_err rv = (r->peers = calloc(cfg->n_peers ? cfg->n_peers : 1, sizeof *r->peers)) ? SP_OK : SP_ERR_NOMEM;
    for (size_t i = 0; rv == SP_OK && i < cfg->n_peers; i++) {
        r->peers[i].cfg = cfg->peers[i];
        rv = sp_strmap_put(&r->by_id, cfg->peers[i].id, &r->peers[i], NULL);
        r->n_peers++;
        if (rv == SP_OK && cfg->sign_key && !cfg->peers[i].sign_pub) {
            sp_log_error("replica.config", "peer=%s error=\"no public key to check its proof\"",
                         cfg->peers[i].id);
            rv = SP_ERR_CONFIG;
        }
    }
    /* Peers first: a restarted node's listener is served pushes at once (a peer that was
     * retrying), and the workers look the sender up among them. */
    for (size_t i = 0; rv == SP_OK && i < r->n_peers; i++) rv = init_peer(r, &r->peers[i]);
    if (rv == SP_OK && cfg->listen) rv = start_listener(r);
    for (size_t i = 0; rv == SP_OK && i < r->n_peers; i++) rv = start_peer(r, &r->peers[i]);
    if (rv != SP_OK) {
        sp_replicator_stop(r);
        return rv;
    }
    *out = r;
    return SP_OK;
}

/* Wake the peer's thread and close its socket (which unblocks a request in flight). */
/* Wake the peer's thread, which sees `stopping` and ends once its request in flight, if any,
 * finishes or times out (request_timeout_ms). Its socket is closed only after that: NNG 1.5.2
 * can deadlock in nng_close while another thread is in nng_sendmsg/nng_recvmsg on the socket
 * (nanomsg/nng#1543, reworked after 1.5.2), which replicator_test's stop under load hit. */
static void halt_peer(peer *p) {
    if (!p->r) return; /* start failed before this peer was set up */
    pthread_mutex_lock(&p->lock);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
}

static void free_peer(peer *p) {
    if (!p->r) return;
    nng_close(p->sock); /* its thread has ended */
    queue_drop(p);
    if (p->tls) nng_tls_config_free(p->tls);
    free(p->queue);
    p->queue = NULL;
    sp_strmap_free(&p->known, free);
    sp_strmap_free(&p->pulling, free);
    sp_strmap_free(&p->seen_theirs, free);
    sp_strmap_free(&p->seen_mine, free);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
}

/* ---- closing the server socket, bounded ---- */

#define CLOSE_WAIT_MS 3000
#define ABANDONED_MAX 64

typedef struct {
    nng_socket sock;
    nng_listener listener;
    pthread_mutex_t lock;
    pthread_cond_t cv;
    int done;
} closing;

static closing *abandoned[ABANDONED_MAX]; /* closes still stuck: kept reachable, never freed */
static atomic_int n_abandoned;

static void *close_main(void *arg) {
    closing *c = arg;
    nng_listener_close(c->listener); /* closed already by stop; ECLOSED then */
    nng_close(c->sock);
    pthread_mutex_lock(&c->lock);
    c->done = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* Close the server socket, waiting at most CLOSE_WAIT_MS: NNG 1.5.2 sometimes never returns
 * from closing a REP socket while peers reconnect to it (nanomsg/nng#1543, reworked after
 * 1.5.2; replicator_test's rapid restarts under ASan). A stuck close is left on its own
 * thread and logged: it costs a thread, not the node's shutdown. */
static void close_server(sp_replicator *r) {
    closing *c = calloc(1, sizeof *c);
    pthread_t t;
    if (!c) {
        nng_close(r->rep);
        return;
    }
    *c = (closing){.sock = r->rep, .listener = r->listener};
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&t, NULL, close_main, c) != 0) {
        nng_close(r->rep);
        free(c);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += CLOSE_WAIT_MS / 1000;
    pthread_mutex_lock(&c->lock);
    while (!c->done && pthread_cond_timedwait(&c->cv, &c->lock, &ts) == 0) {}
    int done = c->done;
    pthread_mutex_unlock(&c->lock);
    if (done) {
        pthread_join(t, NULL);
        free(c);
        return;
    }
    pthread_detach(t);
    int k = atomic_fetch_add(&n_abandoned, 1);
    if (k < ABANDONED_MAX) abandoned[k] = c;
    sp_log_warn("replica.close_stuck", "listen=%s wait_ms=%d", r->cfg.listen, CLOSE_WAIT_MS);
}

/* Every thread stops before anything is freed: a server worker or a peer thread that is still
 * storing envelopes offers them (through the log's commit hook) to every peer's queue. */
void sp_replicator_stop(sp_replicator *r) {
    if (!r) return;
    atomic_store(&r->stopping, 1);
    /* No new connections, then the workers end (each within SERVER_POLL_MS, or its reply's
     * send timeout) and close their contexts, and only then the socket: closing it while a
     * worker was inside it could leave nng_close waiting for ever with NNG's socket lock held,
     * and every later nng_close of the process behind it (a replicator_test hang under load). */
    if (r->rep_open) nng_listener_close(r->listener);
    for (int i = 0; i < r->n_workers; i++) pthread_join(r->workers[i], NULL);
    if (r->rep_open) close_server(r);
    stop_askers(r);
    for (size_t i = 0; i < r->n_peers; i++) halt_peer(&r->peers[i]);
    for (size_t i = 0; i < r->n_peers; i++)
        if (r->peers[i].started) pthread_join(r->peers[i].thread, NULL);
    for (size_t i = 0; i < r->n_peers; i++) free_peer(&r->peers[i]);
    if (r->tls_server) nng_tls_config_free(r->tls_server);
    sp_strmap_free(&r->by_id, NULL);
    free(r->peers);
    pthread_cond_destroy(&r->awake);
    pthread_mutex_destroy(&r->alock);
    pthread_mutex_destroy(&r->slock);
    sp_link_table_fini(&r->links);
    free(r);
}

sp_err sp_replicator_stats(sp_replicator *r, sp_peer_stats **peers, size_t *n,
                           sp_server_stats *server) {
    check_listener_tls(r);
    sp_vv_entry *vv;
    size_t nvv;
    sp_err rv = r->store.heads(r->store.ctx, &vv, &nvv);
    if (rv != SP_OK) return rv;
    sp_peer_stats *out = calloc(r->n_peers ? r->n_peers : 1, sizeof *out);
    if (!out) {
        free(vv);
        return SP_ERR_NOMEM;
    }
    for (size_t i = 0; i < r->n_peers; i++) {
        peer *p = &r->peers[i];
        pthread_mutex_lock(&p->lock);
        out[i] = p->stats;
        out[i].queued = p->qlen;
        for (size_t k = 0; k < nvv; k++) {
            uint64_t theirs = known_get(p, vv[k].origin);
            if (theirs < vv[k].seq) out[i].lag += vv[k].seq - theirs;
        }
        pthread_mutex_unlock(&p->lock);
    }
    free(vv);
    pthread_mutex_lock(&r->slock);
    if (server) *server = r->sstats;
    pthread_mutex_unlock(&r->slock);
    *peers = out;
    *n = r->n_peers;
    return SP_OK;
}
