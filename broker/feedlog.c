#include "broker/feedlog.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/strmap.h"
#include "broker/hlc.h"

/* One origin as the log knows it: trusted key and the head of its stored chain. */
typedef struct {
    char name[SP_MAX_ORIGIN + 1];
    sp_key *key;  /* owned; NULL when the origin is not trusted (yet) */
    uint64_t seq; /* committed head */
    uint8_t hash[SP_HASH_LEN];
    int staged; /* the transaction under way has moved this head: */
    uint64_t staged_seq;
    uint8_t staged_hash[SP_HASH_LEN];
} origin_state;

struct sp_feedlog {
    pthread_mutex_t lock;
    sp_store *st;
    char self[SP_MAX_ORIGIN + 1];
    const sp_key *sign_key;
    sp_strmap origins; /* origin id -> origin_state */
    sp_hlc clock;
    uint64_t next_offset;
    uint64_t forks;
    sp_feedlog_hooks hooks;
    sp_feedlog_tag_fn tag;
    void *tag_arg;
};

static const char META_SELF[] = "self";
static const char META_HLC[] = "hlc";
static const char META_NEXT[] = "arrival_next";
static const char HEAD_PREFIX[] = "head/";
/* The key each origin's chain was verified with, recorded with its first envelope, so that
 * `simpul log verify` can check a data directory on its own. */
static const char KEY_PREFIX[] = "key/";

size_t sp_feed_key(uint8_t *key, const char *origin, uint64_t seq) {
    size_t n = strlen(origin);
    key[0] = (uint8_t)n;
    memcpy(key + 1, origin, n);
    sp_put_be64(key + 1 + n, seq);
    return 1 + n + 8;
}

static void free_origin(void *p) {
    origin_state *o = p;
    if (o) sp_key_free(o->key);
    free(o);
}

/* The state of origin, created (untrusted, empty) if absent. NULL when out of memory. */
static origin_state *origin_get(sp_feedlog *log, const char *origin, int create) {
    origin_state *o = sp_strmap_get(&log->origins, origin);
    if (o || !create) return o;
    if (!(o = calloc(1, sizeof *o))) return NULL;
    strcpy(o->name, origin); /* callers pass validated ids */
    if (sp_strmap_put(&log->origins, origin, o, NULL) != SP_OK) {
        free(o);
        return NULL;
    }
    return o;
}

/* ---- opening: load heads, clock and offsets from meta ---- */

static sp_err meta_get_u64(sp_store *st, const char *key, uint64_t *v) {
    uint8_t *val;
    size_t n;
    sp_err rv = sp_store_get(st, SP_CF_META, key, strlen(key), &val, &n);
    if (rv == SP_ERR_NOT_FOUND) {
        *v = 0;
        return SP_OK;
    }
    if (rv != SP_OK) return rv;
    rv = n == 8 ? SP_OK : SP_ERR_CORRUPT;
    if (rv == SP_OK) *v = sp_get_be64(val);
    free(val);
    return rv;
}

/* Visit every meta record under prefix with the origin id that follows the prefix. */
static sp_err scan_meta(sp_feedlog *log, const char *prefix,
                        sp_err (*fn)(sp_feedlog *, origin_state *, const uint8_t *, size_t)) {
    sp_iter *it = sp_iter_new(log->st, SP_CF_META);
    if (!it) return SP_ERR_NOMEM;
    sp_err rv = SP_OK;
    size_t plen = strlen(prefix);
    for (sp_iter_seek(it, prefix, plen); rv == SP_OK && sp_iter_valid(it); sp_iter_next(it)) {
        size_t kn, vn;
        const uint8_t *k = sp_iter_key(it, &kn), *v = sp_iter_value(it, &vn);
        if (kn < plen || memcmp(k, prefix, plen) != 0) break;
        char origin[SP_MAX_ORIGIN + 1];
        if (kn - plen > SP_MAX_ORIGIN) {
            rv = SP_ERR_CORRUPT;
            break;
        }
        memcpy(origin, k + plen, kn - plen);
        origin[kn - plen] = '\0';
        origin_state *o = sp_node_id_valid(origin) ? origin_get(log, origin, 1) : NULL;
        rv = o ? fn(log, o, v, vn) : SP_ERR_CORRUPT;
    }
    if (rv == SP_OK) rv = sp_iter_status(it);
    sp_iter_free(it);
    return rv;
}

static sp_err load_head(sp_feedlog *log, origin_state *o, const uint8_t *v, size_t n) {
    if (n != 8 + SP_HASH_LEN) return SP_ERR_CORRUPT;
    o->seq = sp_get_be64(v);
    memcpy(o->hash, v + 8, SP_HASH_LEN);
    return SP_OK;
}

static sp_err load_key(sp_feedlog *log, origin_state *o, const uint8_t *v, size_t n) {
    if (n != SP_PUBKEY_LEN) return SP_ERR_CORRUPT;
    sp_key_free(o->key);
    o->key = NULL;
    return sp_key_from_raw_public(&o->key, SP_KEY_ED25519, v);
}

static sp_err count_forks(sp_feedlog *log) {
    sp_iter *it = sp_iter_new(log->st, SP_CF_FORKS);
    if (!it) return SP_ERR_NOMEM;
    for (sp_iter_seek_first(it); sp_iter_valid(it); sp_iter_next(it))
        log->forks++;
    sp_err rv = sp_iter_status(it);
    sp_iter_free(it);
    return rv;
}

/* The store remembers which node it belongs to: opening it as another node is a mistake. */
static sp_err check_self(sp_feedlog *log) {
    uint8_t *val;
    size_t n;
    sp_err rv = sp_store_get(log->st, SP_CF_META, META_SELF, strlen(META_SELF), &val, &n);
    if (rv == SP_ERR_NOT_FOUND && !log->self[0]) return SP_ERR_NOT_FOUND;
    if (rv == SP_ERR_NOT_FOUND) {
        sp_wbatch *b = sp_wbatch_new(log->st);
        if (!b) return SP_ERR_NOMEM;
        sp_wbatch_put(b, SP_CF_META, META_SELF, strlen(META_SELF), log->self, strlen(log->self));
        rv = sp_store_write(log->st, b, 1);
        sp_wbatch_free(b);
        return rv;
    }
    if (rv != SP_OK) return rv;
    if (!log->self[0] && n <= SP_MAX_ORIGIN) { /* a tool opening whatever node this is */
        memcpy(log->self, val, n);
        log->self[n] = '\0';
    } else if (n != strlen(log->self) || memcmp(val, log->self, n) != 0) {
        sp_log_error("feedlog.self_mismatch", "expected=%s stored=%.*s", log->self, (int)n,
                     (const char *)val);
        rv = SP_ERR_CONFIG;
    }
    free(val);
    return rv;
}

static sp_err trust_self(sp_feedlog *log) {
    if (!log->sign_key) return SP_OK;
    uint8_t pub[SP_PUBKEY_LEN];
    sp_err rv = sp_key_raw_public(log->sign_key, pub);
    if (rv != SP_OK) return rv;
    rv = sp_feedlog_add_origin_key(log, log->self, pub);
    if (rv == SP_ERR_EXISTS) {
        sp_log_error("feedlog.wrong_key",
                     "node=%s detail=\"the signing key is not the one this "
                     "data directory's feed was written with\"",
                     log->self);
        rv = SP_ERR_CONFIG;
    }
    return rv;
}

sp_err sp_feedlog_open(sp_feedlog **out, sp_store *st, const char *self_id,
                       const sp_key *sign_key) {
    if (self_id && !sp_node_id_valid(self_id)) return SP_ERR_INVAL;
    sp_feedlog *log = calloc(1, sizeof *log);
    if (!log) return SP_ERR_NOMEM;
    pthread_mutex_init(&log->lock, NULL);
    log->st = st;
    log->sign_key = sign_key;
    if (self_id) strcpy(log->self, self_id);
    sp_err rv;
    if ((rv = check_self(log)) != SP_OK) goto fail;
    if ((rv = meta_get_u64(st, META_HLC, &log->clock.last)) != SP_OK) goto fail;
    if ((rv = meta_get_u64(st, META_NEXT, &log->next_offset)) != SP_OK) goto fail;
    if (log->next_offset == 0) log->next_offset = 1;
    if ((rv = scan_meta(log, HEAD_PREFIX, load_head)) != SP_OK) goto fail;
    if ((rv = scan_meta(log, KEY_PREFIX, load_key)) != SP_OK) goto fail;
    if ((rv = count_forks(log)) != SP_OK) goto fail;
    if ((rv = trust_self(log)) != SP_OK) goto fail;
    *out = log;
    return SP_OK;
fail:
    sp_feedlog_close(log);
    return rv;
}

void sp_feedlog_close(sp_feedlog *log) {
    if (!log) return;
    sp_strmap_free(&log->origins, free_origin);
    pthread_mutex_destroy(&log->lock);
    free(log);
}

void sp_feedlog_set_hooks(sp_feedlog *log, const sp_feedlog_hooks *hooks) {
    pthread_mutex_lock(&log->lock);
    log->hooks = *hooks;
    pthread_mutex_unlock(&log->lock);
}

void sp_feedlog_set_tagger(sp_feedlog *log, sp_feedlog_tag_fn fn, void *arg) {
    pthread_mutex_lock(&log->lock);
    log->tag = fn;
    log->tag_arg = arg;
    pthread_mutex_unlock(&log->lock);
}

sp_err sp_feedlog_add_origin_key(sp_feedlog *log, const char *origin,
                                 const uint8_t pub[SP_PUBKEY_LEN]) {
    if (!sp_node_id_valid(origin)) return SP_ERR_INVAL;
    sp_key *k;
    sp_err rv = sp_key_from_raw_public(&k, SP_KEY_ED25519, pub);
    if (rv != SP_OK) return rv;
    pthread_mutex_lock(&log->lock);
    origin_state *o = origin_get(log, origin, 1);
    if (!o) {
        rv = SP_ERR_NOMEM;
    } else if (o->key) {
        uint8_t have[SP_PUBKEY_LEN];
        rv = sp_key_raw_public(o->key, have);
        if (rv == SP_OK && memcmp(have, pub, SP_PUBKEY_LEN) != 0) rv = SP_ERR_EXISTS;
    } else {
        o->key = k;
        k = NULL;
    }
    pthread_mutex_unlock(&log->lock);
    sp_key_free(k);
    return rv;
}

int sp_feedlog_knows_origin(sp_feedlog *log, const char *origin) {
    pthread_mutex_lock(&log->lock);
    origin_state *o = origin_get(log, origin, 0);
    int known = o && o->key;
    pthread_mutex_unlock(&log->lock);
    return known;
}

/* ---- transactions: one WriteBatch, one fsync, then heads move in memory ---- */

typedef struct {
    sp_wbatch *b;
    const sp_envelope **stored; /* borrowed from the caller of author/ingest */
    uint8_t (*hashes)[SP_HASH_LEN];
    uint64_t *offsets;
    size_t n, cap;
    origin_state **touched;
    size_t ntouched, cap_touched;
    uint64_t next_offset;
    uint64_t forks;
} txn;

static sp_err txn_init(txn *t, sp_feedlog *log, size_t cap) {
    memset(t, 0, sizeof *t);
    t->cap = cap ? cap : 1;
    t->b = sp_wbatch_new(log->st);
    t->stored = calloc(t->cap, sizeof *t->stored);
    t->hashes = calloc(t->cap, sizeof *t->hashes);
    t->offsets = calloc(t->cap, sizeof *t->offsets);
    t->touched = calloc(t->cap, sizeof *t->touched);
    t->cap_touched = t->cap;
    t->next_offset = log->next_offset;
    if (!t->b || !t->stored || !t->hashes || !t->offsets || !t->touched) return SP_ERR_NOMEM;
    return SP_OK;
}

/* Drop the transaction; heads it staged fall back to their committed values. */
static void txn_free(txn *t) {
    for (size_t i = 0; i < t->ntouched; i++)
        t->touched[i]->staged = 0;
    sp_wbatch_free(t->b);
    free(t->stored);
    free(t->hashes);
    free(t->offsets);
    free(t->touched);
}

static uint64_t head_seq(const origin_state *o) {
    return o->staged ? o->staged_seq : o->seq;
}

static const uint8_t *head_hash(const origin_state *o) {
    return o->staged ? o->staged_hash : o->hash;
}

/* The arrival records are written at commit (put_arrivals), once their tags are known. */
static sp_err txn_add(txn *t, origin_state *o, const sp_envelope *env,
                      const uint8_t hash[SP_HASH_LEN]) {
    uint8_t key[SP_FEED_KEY_MAX], *buf;
    size_t klen = sp_feed_key(key, env->origin, env->seq), len;
    sp_err rv = sp_envelope_encode(env, &buf, &len);
    if (rv != SP_OK) return rv;
    sp_wbatch_put(t->b, SP_CF_FEEDS, key, klen, buf, len);
    free(buf);
    t->stored[t->n] = env;
    memcpy(t->hashes[t->n], hash, SP_HASH_LEN);
    t->offsets[t->n++] = t->next_offset++;
    if (!o->staged) t->touched[t->ntouched++] = o;
    o->staged = 1;
    o->staged_seq = env->seq;
    memcpy(o->staged_hash, hash, SP_HASH_LEN);
    return SP_OK;
}

static void put_meta_u64(sp_wbatch *b, const char *key, uint64_t v) {
    uint8_t val[8];
    sp_put_be64(val, v);
    sp_wbatch_put(b, SP_CF_META, key, strlen(key), val, 8);
}

static void put_head(sp_wbatch *b, const origin_state *o) {
    char key[sizeof HEAD_PREFIX + SP_MAX_ORIGIN];
    uint8_t val[8 + SP_HASH_LEN];
    int klen = snprintf(key, sizeof key, "%s%s", HEAD_PREFIX, o->name);
    sp_put_be64(val, o->staged_seq);
    memcpy(val + 8, o->staged_hash, SP_HASH_LEN);
    sp_wbatch_put(b, SP_CF_META, key, (size_t)klen, val, sizeof val);
    uint8_t pub[SP_PUBKEY_LEN];
    if (o->seq == 0 && sp_key_raw_public(o->key, pub) == SP_OK) {
        klen = snprintf(key, sizeof key, "%s%s", KEY_PREFIX, o->name);
        sp_wbatch_put(b, SP_CF_META, key, (size_t)klen, pub, SP_PUBKEY_LEN);
    }
}

/* offset -> feeds key | tag, for every envelope of the transaction. The tagger sees the whole
 * transaction at once (an event's tag may depend on another event of the same batch). */
static sp_err put_arrivals(sp_feedlog *log, txn *t) {
    char(*tags)[SP_ARRIVAL_TAG_MAX] = NULL;
    sp_err rv = SP_OK;
    if (log->tag && t->n) {
        if (!(tags = calloc(t->n, sizeof *tags))) return SP_ERR_NOMEM;
        rv = log->tag(log->tag_arg, t->stored, t->n, tags);
    }
    for (size_t i = 0; rv == SP_OK && i < t->n; i++) {
        uint8_t val[SP_FEED_KEY_MAX + SP_ARRIVAL_TAG_MAX], off[8];
        size_t klen = sp_feed_key(val, t->stored[i]->origin, t->stored[i]->seq), tlen = 0;
        if (tags) {
            tlen = strnlen(tags[i], SP_ARRIVAL_TAG_MAX - 1);
            memcpy(val + klen, tags[i], tlen);
        }
        sp_put_be64(off, t->offsets[i]);
        sp_wbatch_put(t->b, SP_CF_ARRIVALS, off, 8, val, klen + tlen);
    }
    free(tags);
    return rv;
}

/* Write the batch durably and move the heads. Called with the lock held. */
static sp_err txn_commit(sp_feedlog *log, txn *t) {
    if (t->n == 0 && t->forks == 0) return SP_OK;
    for (size_t i = 0; i < t->ntouched; i++)
        put_head(t->b, t->touched[i]);
    put_meta_u64(t->b, META_HLC, log->clock.last);
    put_meta_u64(t->b, META_NEXT, t->next_offset);
    sp_err rv = put_arrivals(log, t);
    if (rv == SP_OK && log->hooks.stage && t->n)
        rv = log->hooks.stage(log->hooks.arg, t->b, t->stored, t->offsets, t->n);
    if (rv == SP_OK) rv = sp_store_write(log->st, t->b, 1);
    if (rv != SP_OK) return rv;
    for (size_t i = 0; i < t->ntouched; i++) {
        origin_state *o = t->touched[i];
        o->seq = o->staged_seq;
        memcpy(o->hash, o->staged_hash, SP_HASH_LEN);
        o->staged = 0;
    }
    t->ntouched = 0;
    log->next_offset = t->next_offset;
    log->forks += t->forks;
    if (log->hooks.committed && t->n)
        log->hooks.committed(log->hooks.arg, t->stored, t->offsets, t->n);
    return SP_OK;
}

/* ---- authoring our own feed ---- */

/* What an authoring batch has left unsealed so far. */
typedef struct {
    size_t envelopes, bytes;
} unsealed;

/* Whether the envelope being authored, of len body bytes, must be a seal: the batch's last one
 * (whatever is stored ends sealed), or one that would leave too much waiting for a seal. */
static int must_seal(unsealed *u, int last, size_t len) {
    if (last || u->envelopes + 1 >= SP_SEAL_MAX_ENVELOPES || u->bytes + len >= SP_SEAL_MAX_BYTES) {
        *u = (unsealed){0, 0};
        return 1;
    }
    u->envelopes++;
    u->bytes += len;
    return 0;
}

static sp_err author_one(sp_feedlog *log, txn *t, origin_state *self, sp_envelope *env, size_t i,
                         int last, unsealed *u, sp_body_builder build, void *arg) {
    uint8_t hash[SP_HASH_LEN], *body = NULL;
    size_t len = 0;
    uint64_t seq = head_seq(self) + 1;
    sp_err rv = build(arg, i, seq, t->b, &body, &len);
    if (rv == SP_OK) rv = sp_envelope_init(env, log->self, body, len);
    free(body);
    if (rv != SP_OK) return rv;
    env->seq = seq;
    env->hlc = sp_hlc_now(&log->clock, sp_wall_ms());
    memcpy(env->prev_hash, head_hash(self), SP_HASH_LEN);
    if (must_seal(u, last, len) && (rv = sp_envelope_sign(env, log->sign_key)) != SP_OK) return rv;
    if ((rv = sp_envelope_hash(env, hash)) != SP_OK) return rv;
    return txn_add(t, self, env, hash);
}

sp_err sp_feedlog_author_built(sp_feedlog *log, size_t n, sp_body_builder build, void *arg,
                               sp_envelope *out) {
    if (!log->sign_key) return SP_ERR_INVAL;
    if (n > SP_MAX_BATCH_ENVELOPES) return SP_ERR_TOO_BIG;
    sp_envelope *envs = calloc(n ? n : 1, sizeof *envs);
    if (!envs) return SP_ERR_NOMEM;
    txn t;
    pthread_mutex_lock(&log->lock);
    sp_err rv = txn_init(&t, log, n);
    origin_state *self = origin_get(log, log->self, 1);
    if (rv == SP_OK && !self) rv = SP_ERR_NOMEM;
    unsealed u = {0, 0};
    for (size_t i = 0; rv == SP_OK && i < n; i++)
        rv = author_one(log, &t, self, &envs[i], i, i == n - 1, &u, build, arg);
    if (rv == SP_OK) rv = txn_commit(log, &t);
    txn_free(&t);
    pthread_mutex_unlock(&log->lock);
    for (size_t i = 0; i < n; i++) {
        if (rv == SP_OK && out)
            out[i] = envs[i]; /* hand the body over */
        else
            sp_envelope_clear(&envs[i]);
    }
    free(envs);
    return rv;
}

typedef struct {
    const uint8_t *const *bodies;
    const size_t *lens;
} fixed_bodies;

static sp_err copy_body(void *arg, size_t i, uint64_t seq, sp_wbatch *with, uint8_t **body,
                        size_t *len) {
    (void)with;
    const fixed_bodies *f = arg;
    if (f->lens[i] > SP_MAX_BODY) return SP_ERR_TOO_BIG;
    if (!(*body = malloc(f->lens[i] ? f->lens[i] : 1))) return SP_ERR_NOMEM;
    if (f->lens[i]) memcpy(*body, f->bodies[i], f->lens[i]);
    *len = f->lens[i];
    return SP_OK;
}

sp_err sp_feedlog_author(sp_feedlog *log, const uint8_t *const *bodies, const size_t *lens,
                         size_t n, sp_envelope *out) {
    fixed_bodies f = {bodies, lens};
    return sp_feedlog_author_built(log, n, copy_body, &f, out);
}

/* ---- ingesting envelopes from elsewhere ---- */

static void count(sp_ingest_stats *stats, sp_err *status, size_t i, sp_err outcome) {
    if (status) status[i] = outcome;
    if (!stats) return;
    if (outcome == SP_OK)
        stats->accepted++;
    else if (outcome == SP_ERR_EXISTS)
        stats->duplicates++;
    else if (outcome == SP_ERR_FORK)
        stats->forks++;
    else {
        stats->rejected++;
        if ((unsigned)outcome < SP_ERR__COUNT) stats->by_reason[outcome]++;
    }
}

/* Hash of the envelope already stored (or staged in t) at env's origin and seq. */
static sp_err existing_hash(sp_feedlog *log, txn *t, const origin_state *o, const sp_envelope *env,
                            uint8_t out[SP_HASH_LEN]) {
    if (env->seq == head_seq(o)) {
        memcpy(out, head_hash(o), SP_HASH_LEN);
        return SP_OK;
    }
    if (env->seq > o->seq) { /* staged by this very batch */
        for (size_t i = t->n; i-- > 0;)
            if (t->stored[i]->seq == env->seq && strcmp(t->stored[i]->origin, env->origin) == 0) {
                memcpy(out, t->hashes[i], SP_HASH_LEN);
                return SP_OK;
            }
        return SP_ERR_NOT_FOUND;
    }
    sp_envelope stored;
    sp_err rv = sp_feedlog_get(log, env->origin, env->seq, &stored);
    if (rv != SP_OK) return rv;
    rv = sp_envelope_hash(&stored, out);
    sp_envelope_clear(&stored);
    return rv;
}

/* env claims a seq we already hold: a duplicate, a fork (kept as evidence), or a forgery. */
static sp_err classify_existing(sp_feedlog *log, txn *t, const origin_state *o,
                                const sp_envelope *env, sp_err *outcome) {
    uint8_t have[SP_HASH_LEN], got[SP_HASH_LEN];
    sp_err rv = existing_hash(log, t, o, env, have);
    if (rv == SP_OK) rv = sp_envelope_hash(env, got);
    if (rv != SP_OK) return rv;
    if (memcmp(have, got, SP_HASH_LEN) == 0) {
        *outcome = SP_ERR_EXISTS;
        return SP_OK;
    }
    if ((rv = sp_envelope_verify(env, o->key)) != SP_OK) { /* forged, or unprovable alone */
        *outcome = rv == SP_ERR_UNSEALED ? rv : SP_ERR_BAD_SIG;
        return SP_OK;
    }
    uint8_t key[SP_FEED_KEY_MAX + SP_HASH_LEN], *buf;
    size_t klen = sp_feed_key(key, env->origin, env->seq), len;
    memcpy(key + klen, got, SP_HASH_LEN);
    if ((rv = sp_envelope_encode(env, &buf, &len)) != SP_OK) return rv;
    sp_wbatch_put(t->b, SP_CF_FORKS, key, klen + SP_HASH_LEN, buf, len);
    free(buf);
    t->forks++;
    sp_log_warn("feedlog.fork", "origin=%s seq=%llu", env->origin, (unsigned long long)env->seq);
    *outcome = SP_ERR_FORK;
    return SP_OK;
}

static size_t reject_first(const sp_envelope *run, sp_ingest_stats *stats, sp_err *status,
                           sp_err why) {
    sp_log_warn("feedlog.reject", "origin=%s seq=%llu reason=%s", run[0].origin,
                (unsigned long long)run[0].seq, sp_errname(why));
    count(stats, status, 0, why);
    return 1;
}

/* A run none of which a seal authenticates: the sender cut it before its seal. Not stored; the
 * sender's next push or our next sync brings it again with the seal. */
static size_t reject_unsealed(const sp_envelope *run, size_t len, sp_ingest_stats *stats,
                              sp_err *status) {
    sp_log_warn("feedlog.reject", "origin=%s seq=%llu count=%zu reason=UNSEALED", run[0].origin,
                (unsigned long long)run[0].seq, len);
    for (size_t k = 0; k < len; k++)
        count(stats, status, k, SP_ERR_UNSEALED);
    return len;
}

/* Verify the longest authentic prefix of a run of len envelopes that continue o's chain (it
 * ends with a seal) and stage it. Returns how many envelopes were consumed (stored, or
 * rejected). */
static size_t ingest_run(sp_feedlog *log, txn *t, origin_state *o, const sp_envelope *run,
                         size_t len, uint8_t (*hashes)[SP_HASH_LEN], sp_ingest_stats *stats,
                         sp_err *status, sp_err *fatal) {
    size_t whole = len, bad = 0;
    if ((len = sp_envelope_sealed_prefix(run, len)) == 0)
        return reject_unsealed(run, whole, stats, status);
    sp_err rv;
    while ((rv = sp_envelope_verify_run(run, len, o->key, head_hash(o), &bad, hashes)) != SP_OK) {
        if (rv == SP_ERR_NOMEM) {
            *fatal = rv;
            return len;
        }
        /* retry the sealed prefix before the fault: one signature check per seal at most */
        size_t shorter = sp_envelope_sealed_prefix(run, rv == SP_ERR_BAD_SIG ? len - 1 : bad);
        if (shorter == 0) return reject_first(run, stats, status, rv);
        len = shorter;
    }
    for (size_t k = 0; k < len; k++) {
        if ((*fatal = txn_add(t, o, &run[k], hashes[k])) != SP_OK) return len;
        if (sp_hlc_observe(&log->clock, run[k].hlc, sp_wall_ms()) != 0)
            sp_log_warn("feedlog.clock_ahead", "origin=%s seq=%llu", run[k].origin,
                        (unsigned long long)run[k].seq);
        count(stats, status, k, SP_OK);
    }
    return len;
}

/* Length of the run of envs[0..n) with env[0]'s origin and consecutive seqs. */
static size_t run_length(const sp_envelope *envs, size_t n) {
    size_t len = 1;
    while (len < n && envs[len].seq == envs[len - 1].seq + 1 &&
           strcmp(envs[len].origin, envs[0].origin) == 0)
        len++;
    return len;
}

/* One step of ingest at envs[0]: returns how many envelopes it consumed. */
static size_t ingest_step(sp_feedlog *log, txn *t, const sp_envelope *envs, size_t n,
                          uint8_t (*hashes)[SP_HASH_LEN], sp_ingest_stats *stats, sp_err *status,
                          sp_err *fatal) {
    const sp_envelope *env = &envs[0];
    origin_state *o = sp_node_id_valid(env->origin) ? origin_get(log, env->origin, 0) : NULL;
    sp_err outcome;
    if (!sp_node_id_valid(env->origin) || env->seq == 0)
        outcome = SP_ERR_INVAL;
    else if (!o || !o->key)
        outcome = SP_ERR_UNKNOWN_ORIGIN;
    else if (env->seq > head_seq(o) + 1)
        outcome = SP_ERR_GAP;
    else if (env->seq == head_seq(o) + 1)
        return ingest_run(log, t, o, envs, run_length(envs, n), hashes, stats, status, fatal);
    else if ((*fatal = classify_existing(log, t, o, env, &outcome)) != SP_OK)
        return n;
    if (outcome != SP_ERR_EXISTS && outcome != SP_ERR_FORK)
        sp_log_warn("feedlog.reject", "origin=%.64s seq=%llu reason=%s", env->origin,
                    (unsigned long long)env->seq, sp_errname(outcome));
    count(stats, status, 0, outcome);
    return 1;
}

sp_err sp_feedlog_ingest(sp_feedlog *log, const sp_envelope *envs, size_t n, sp_ingest_stats *stats,
                         sp_err *status) {
    if (n > SP_MAX_BATCH_ENVELOPES) return SP_ERR_TOO_BIG;
    uint8_t(*hashes)[SP_HASH_LEN] = calloc(n ? n : 1, SP_HASH_LEN);
    if (!hashes) return SP_ERR_NOMEM;
    sp_ingest_stats local = {0};
    txn t;
    pthread_mutex_lock(&log->lock);
    sp_err rv = txn_init(&t, log, n);
    for (size_t i = 0; rv == SP_OK && i < n;)
        i += ingest_step(log, &t, envs + i, n - i, hashes, &local, status ? status + i : NULL, &rv);
    if (rv == SP_OK) rv = txn_commit(log, &t);
    txn_free(&t);
    pthread_mutex_unlock(&log->lock);
    free(hashes);
    if (rv == SP_OK && stats) {
        stats->accepted += local.accepted;
        stats->duplicates += local.duplicates;
        stats->forks += local.forks;
        stats->rejected += local.rejected;
        for (int r = 0; r < SP_ERR__COUNT; r++)
            stats->by_reason[r] += local.by_reason[r];
    }
    return rv;
}

/* ---- reads ---- */

sp_err sp_feedlog_get(sp_feedlog *log, const char *origin, uint64_t seq, sp_envelope *out) {
    if (!sp_node_id_valid(origin)) return SP_ERR_INVAL;
    uint8_t key[SP_FEED_KEY_MAX], *val;
    size_t klen = sp_feed_key(key, origin, seq), n;
    sp_err rv = sp_store_get(log->st, SP_CF_FEEDS, key, klen, &val, &n);
    if (rv != SP_OK) return rv;
    rv = sp_envelope_decode(out, val, n);
    free(val);
    return rv == SP_OK ? SP_OK : SP_ERR_CORRUPT;
}

uint64_t sp_feedlog_head(sp_feedlog *log, const char *origin, uint8_t hash[SP_HASH_LEN]) {
    pthread_mutex_lock(&log->lock);
    origin_state *o = origin_get(log, origin, 0);
    uint64_t seq = o ? o->seq : 0;
    if (hash) {
        if (o)
            memcpy(hash, o->hash, SP_HASH_LEN);
        else
            memset(hash, 0, SP_HASH_LEN);
    }
    pthread_mutex_unlock(&log->lock);
    return seq;
}

sp_err sp_feedlog_version_vector(sp_feedlog *log, sp_vv_entry **out, size_t *n) {
    pthread_mutex_lock(&log->lock);
    sp_vv_entry *vv = calloc(log->origins.len ? log->origins.len : 1, sizeof *vv);
    size_t k = 0;
    for (size_t i = 0; vv && i < log->origins.cap; i++) {
        const origin_state *o = log->origins.slots[i].value;
        if (!log->origins.slots[i].key || o->seq == 0) continue;
        strcpy(vv[k].origin, o->name);
        vv[k++].seq = o->seq;
    }
    pthread_mutex_unlock(&log->lock);
    if (!vv) return SP_ERR_NOMEM;
    *out = vv;
    *n = k;
    return SP_OK;
}

sp_err sp_feedlog_range(sp_feedlog *log, const char *origin, uint64_t from, size_t max,
                        size_t max_bytes, sp_envelope **out, size_t *n) {
    if (!sp_node_id_valid(origin)) return SP_ERR_INVAL;
    if (max > SP_MAX_BATCH_ENVELOPES - SP_SEAL_MAX_ENVELOPES)
        max = SP_MAX_BATCH_ENVELOPES - SP_SEAL_MAX_ENVELOPES;
    size_t cap = max + SP_SEAL_MAX_ENVELOPES; /* room to go on to the next seal */
    sp_envelope *envs = calloc(cap, sizeof *envs);
    sp_iter *it = sp_iter_new(log->st, SP_CF_FEEDS);
    uint8_t key[SP_FEED_KEY_MAX];
    size_t klen = sp_feed_key(key, origin, from), k = 0, bytes = 0;
    sp_err rv = envs && it ? SP_OK : SP_ERR_NOMEM;
    for (sp_iter_seek(it, key, klen); rv == SP_OK && k < cap && sp_iter_valid(it);
         sp_iter_next(it)) {
        size_t kn, vn;
        const uint8_t *kp = sp_iter_key(it, &kn), *vp = sp_iter_value(it, &vn);
        if (kn != klen || memcmp(kp, key, klen - 8) != 0) break; /* next origin */
        int full = k >= max || bytes + vn > max_bytes;
        if (k > 0 && full && sp_envelope_sealed(&envs[k - 1])) break;
        if (sp_envelope_decode(&envs[k], vp, vn) != SP_OK)
            rv = SP_ERR_CORRUPT;
        else
            bytes += vn, k++;
    }
    if (rv == SP_OK && it) rv = sp_iter_status(it);
    sp_iter_free(it);
    if (rv != SP_OK) {
        sp_envelopes_free(envs, k);
        return rv;
    }
    *out = envs;
    *n = k;
    return SP_OK;
}

uint64_t sp_feedlog_next_offset(sp_feedlog *log) {
    pthread_mutex_lock(&log->lock);
    uint64_t v = log->next_offset;
    pthread_mutex_unlock(&log->lock);
    return v;
}

uint64_t sp_feedlog_fork_count(sp_feedlog *log) {
    pthread_mutex_lock(&log->lock);
    uint64_t v = log->forks;
    pthread_mutex_unlock(&log->lock);
    return v;
}

uint64_t sp_feedlog_clock(sp_feedlog *log) {
    pthread_mutex_lock(&log->lock);
    uint64_t v = log->clock.last;
    pthread_mutex_unlock(&log->lock);
    return v;
}

const char *sp_feedlog_self(const sp_feedlog *log) {
    return log->self;
}

/* Split an arrival record into its feeds key and its tag (NUL-terminated into tag). */
static sp_err parse_arrival(const uint8_t *v, size_t vn, size_t *klen,
                            char tag[SP_ARRIVAL_TAG_MAX]) {
    if (vn < 1 + 1 + 8 || v[0] == 0 || v[0] > SP_MAX_ORIGIN || (size_t)v[0] + 9 > vn)
        return SP_ERR_CORRUPT;
    *klen = (size_t)v[0] + 9;
    size_t tlen = vn - *klen;
    if (tlen >= SP_ARRIVAL_TAG_MAX) return SP_ERR_CORRUPT;
    memcpy(tag, v + *klen, tlen);
    tag[tlen] = '\0';
    return SP_OK;
}

/* The feeds record of one arrival. Arrivals come in runs of one origin's consecutive seqs (a
 * batch, a pushed range), whose feeds records are neighbours: the iterator steps to the next
 * record and only seeks when the run breaks, which costs much less than a Get per arrival. The
 * value stays valid until the iterator moves. */
static sp_err feed_record(sp_iter *feeds, int *positioned, const uint8_t *key, size_t klen,
                          const uint8_t **val, size_t *n) {
    size_t kn;
    const uint8_t *k = NULL;
    if (*positioned && sp_iter_valid(feeds)) {
        sp_iter_next(feeds);
        k = sp_iter_valid(feeds) ? sp_iter_key(feeds, &kn) : NULL;
    }
    if (!k || kn != klen || memcmp(k, key, klen) != 0) {
        sp_iter_seek(feeds, key, klen);
        k = sp_iter_valid(feeds) ? sp_iter_key(feeds, &kn) : NULL;
    }
    *positioned = 1;
    if (!k || kn != klen || memcmp(k, key, klen) != 0)
        return sp_iter_status(feeds) != SP_OK ? SP_ERR_STORE : SP_ERR_CORRUPT;
    *val = sp_iter_value(feeds, n);
    return SP_OK;
}

sp_err sp_feedlog_scan_stored(sp_feedlog *log, uint64_t from, size_t max, sp_feedlog_stored_fn fn,
                              void *arg) {
    /* arrivals first: the feeds iterator, made after, sees every record they name (an event's
     * arrival and feeds records are written in one batch) */
    sp_iter *it = sp_iter_new(log->st, SP_CF_ARRIVALS),
            *feeds = it ? sp_iter_new(log->st, SP_CF_FEEDS) : NULL;
    if (!feeds) {
        sp_iter_free(it);
        return SP_ERR_NOMEM;
    }
    uint8_t start[8];
    sp_put_be64(start, from);
    sp_err rv = SP_OK;
    size_t seen = 0;
    int stop = 0, positioned = 0;
    for (sp_iter_seek(it, start, 8); !stop && sp_iter_valid(it) && (max == 0 || seen < max);
         sp_iter_next(it), seen++) {
        char tag[SP_ARRIVAL_TAG_MAX];
        size_t kn, vn, klen, n;
        const uint8_t *k = sp_iter_key(it, &kn), *v = sp_iter_value(it, &vn), *env;
        rv = kn == 8 ? parse_arrival(v, vn, &klen, tag) : SP_ERR_CORRUPT;
        if (rv == SP_OK) rv = feed_record(feeds, &positioned, v, klen, &env, &n);
        if (rv != SP_OK) break;
        stop = fn(arg, sp_get_be64(k), env, n, tag);
    }
    if (rv == SP_OK) rv = sp_iter_status(it);
    sp_iter_free(feeds);
    sp_iter_free(it);
    return rv;
}

typedef struct {
    sp_feedlog_tagged_fn fn;
    void *arg;
    int corrupt;
} decoding;

static int decode_stored(void *arg, uint64_t offset, const uint8_t *bytes, size_t n,
                         const char *tag) {
    decoding *d = arg;
    sp_envelope env;
    if (sp_envelope_decode(&env, bytes, n) != SP_OK) {
        d->corrupt = 1;
        return 1;
    }
    int stop = d->fn(d->arg, offset, &env, tag);
    sp_envelope_clear(&env);
    return stop;
}

sp_err sp_feedlog_scan_tagged(sp_feedlog *log, uint64_t from, size_t max, sp_feedlog_tagged_fn fn,
                              void *arg) {
    decoding d = {fn, arg, 0};
    sp_err rv = sp_feedlog_scan_stored(log, from, max, decode_stored, &d);
    return rv == SP_OK && d.corrupt ? SP_ERR_CORRUPT : rv;
}

typedef struct {
    sp_feedlog_visit_fn fn;
    void *arg;
} untagged;

static int drop_tag(void *arg, uint64_t offset, const sp_envelope *env, const char *tag) {
    const untagged *u = arg;
    return u->fn(u->arg, offset, env);
}

sp_err sp_feedlog_scan_arrivals(sp_feedlog *log, uint64_t from, size_t max, sp_feedlog_visit_fn fn,
                                void *arg) {
    untagged u = {fn, arg};
    return sp_feedlog_scan_tagged(log, from, max, drop_tag, &u);
}

sp_err sp_feedlog_arrival_tag(sp_feedlog *log, uint64_t offset, char tag[SP_ARRIVAL_TAG_MAX]) {
    uint8_t key[8], *val;
    size_t n, klen;
    sp_put_be64(key, offset);
    sp_err rv = sp_store_get(log->st, SP_CF_ARRIVALS, key, 8, &val, &n);
    if (rv != SP_OK) return rv;
    rv = parse_arrival(val, n, &klen, tag);
    free(val);
    if (rv == SP_OK && !tag[0]) rv = SP_ERR_NOT_FOUND;
    return rv;
}

/* ---- re-verification of everything stored ---- */

#define VERIFY_RUN 1024

typedef struct {
    sp_feedlog *log;
    sp_feedlog_report_fn report;
    void *arg;
    char origin[SP_MAX_ORIGIN + 1];
    const origin_state *o;
    int broken;
    uint64_t expect;
    uint8_t prev[SP_HASH_LEN];
    sp_envelope run[VERIFY_RUN];
    uint8_t hashes[VERIFY_RUN][SP_HASH_LEN];
    size_t n;
    size_t chains, envelopes, problems;
} verifier;

static void problem(verifier *v, uint64_t seq, sp_err why) {
    v->problems++;
    v->broken = 1;
    if (v->report) v->report(v->arg, v->origin, seq, why);
}

/* Verify the run up to its last seal and keep the unsealed rest for the next one; `last` (the
 * feed's end, or a full run without any seal) verifies everything, so an unsealed end is
 * reported. */
static void flush_run(verifier *v, int last) {
    size_t bad = 0, len = sp_envelope_sealed_prefix(v->run, v->n);
    if (last || (len == 0 && v->n == VERIFY_RUN)) len = v->n;
    if (v->broken)
        len = v->n;
    else if (len) {
        sp_err rv = v->o && v->o->key ? SP_OK : SP_ERR_UNKNOWN_ORIGIN;
        if (rv == SP_OK)
            rv = sp_envelope_verify_run(v->run, len, v->o->key, v->prev, &bad, v->hashes);
        if (rv != SP_OK)
            problem(v, v->run[bad].seq, rv);
        else
            memcpy(v->prev, v->hashes[len - 1], SP_HASH_LEN);
    }
    for (size_t i = 0; i < len; i++)
        sp_envelope_clear(&v->run[i]);
    memmove(v->run, v->run + len, (v->n - len) * sizeof v->run[0]);
    v->n -= len;
}

static void finish_origin(verifier *v) {
    if (!v->origin[0]) return;
    flush_run(v, 1);
    uint64_t head = v->o ? v->o->seq : 0;
    if (!v->broken && v->expect - 1 != head) problem(v, head, SP_ERR_CORRUPT);
    v->chains++;
}

static void start_origin(verifier *v, const char *origin) {
    finish_origin(v);
    strcpy(v->origin, origin);
    v->o = origin_get(v->log, origin, 0);
    v->broken = 0;
    v->expect = 1;
    memset(v->prev, 0, SP_HASH_LEN);
}

static void verify_one(verifier *v, sp_envelope *env) {
    v->envelopes++;
    if (strcmp(env->origin, v->origin) != 0) start_origin(v, env->origin);
    if (v->broken) {
        sp_envelope_clear(env);
        return;
    }
    if (env->seq != v->expect) {
        problem(v, v->expect, SP_ERR_GAP);
        sp_envelope_clear(env);
        return;
    }
    v->run[v->n++] = *env;
    v->expect++;
    if (v->n == VERIFY_RUN) flush_run(v, 0);
}

sp_err sp_feedlog_verify_all(sp_feedlog *log, sp_feedlog_report_fn report, void *arg,
                             size_t *chains, size_t *envelopes, size_t *problems) {
    verifier *v = calloc(1, sizeof *v);
    sp_iter *it = sp_iter_new(log->st, SP_CF_FEEDS);
    sp_err rv = v && it ? SP_OK : SP_ERR_NOMEM;
    if (v) *v = (verifier){.log = log, .report = report, .arg = arg};
    pthread_mutex_lock(&log->lock); /* a consistent view of heads while we compare */
    for (sp_iter_seek_first(it); rv == SP_OK && sp_iter_valid(it); sp_iter_next(it)) {
        size_t vn;
        const uint8_t *vp = sp_iter_value(it, &vn);
        sp_envelope env;
        if (sp_envelope_decode(&env, vp, vn) != SP_OK) {
            v->problems++;
            if (report) report(arg, "?", 0, SP_ERR_CORRUPT);
            continue;
        }
        verify_one(v, &env);
    }
    if (rv == SP_OK) {
        rv = sp_iter_status(it);
        finish_origin(v);
        *chains = v->chains;
        *envelopes = v->envelopes;
        *problems = v->problems;
    }
    pthread_mutex_unlock(&log->lock);
    sp_iter_free(it);
    free(v);
    return rv;
}
