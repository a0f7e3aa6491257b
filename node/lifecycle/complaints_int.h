/*
 * Internals shared by node/lifecycle/complaints.c (incremental), complaints_read.c (queries) and
 * complaints_rebuild.c: the key layout of the complaints column family and the writers both
 * maintenance paths use, so that they cannot drift apart.
 */
#ifndef SP_COMPLAINTS_INT_H
#define SP_COMPLAINTS_INT_H

#include "base/strmap.h"
#include "node/lifecycle/complaints.h"

#define SP__CKEY_MAX 200 /* "i/A/" + holder + '/' + id, with room to spare */
#define SP__INDEX_KEYS 5

/* ---- the stage's cache of what it read and wrote (complaints_cache.c) ---- */

typedef struct {
    sp_strmap committed; /* key -> value known to be on disk */
    sp_strmap pending;   /* key -> value the last stage wrote, not yet known committed */
    uint64_t pending_end; /* last arrival offset of that stage; 0 none */
    size_t cap;           /* committed values kept at most (then it starts afresh) */
} sp__cache;

/* At the start of a stage with offsets[0..n): believe the previous stage's values if its
 * batch was committed, else drop them. */
void sp__cache_begin(sp__cache *c, const uint64_t *offsets, size_t n);
/* At the end of a stage: keep what it wrote as pending (rv SP_OK), or drop it. */
void sp__cache_end(sp__cache *c, const uint64_t *offsets, size_t n, sp_err rv);
/* Copy the committed value of key (exactly len bytes) into out: 1, or 0 when not cached. */
int sp__cache_get(const sp__cache *c, const char *key, void *out, size_t len);
/* What this stage writes for key (best effort: nothing happens when out of memory). */
void sp__cache_put(sp__cache *c, const char *key, const void *p, size_t len);
void sp__cache_free(sp__cache *c);

/* ---- which complaints this node folds (complaints_scope.c) ---- */

typedef struct {
    const sp_topology *topo;
    const sp_topo_node *self; /* NULL: every complaint */
    sp_strmap by_tag;         /* tracking tag -> intake node */
} sp__scope;

sp_err sp__scope_init(sp__scope *sc, const sp_fold_ctx *ctx); /* SP_ERR_NOMEM */
/* Whether complaint id was taken in at a node whose feed self does not keep: its filing never
 * reaches self, so its other events are stored (and relayed) but not folded. */
int sp__scope_foreign(const sp__scope *sc, const char *id);
void sp__scope_free(sp__scope *sc);

/* The store a handle works on, and its fold context. */
sp_store *sp__complaints_store(sp_complaints *c);
const sp_fold_ctx *sp__complaints_ctx(sp_complaints *c);

/* "s/<id>" into key[SP__CKEY_MAX]; returns the length (0 if id is too long). */
size_t sp__state_key(char *key, const char *id);

/* The index keys of a state (none for status NONE). Returns how many were written. */
size_t sp__index_keys(const sp_complaint_state *s, char keys[SP__INDEX_KEYS][SP__CKEY_MAX]);

/* Put the encoded state into b and bring its index keys from old[0..n_old) (the keys of the
 * state it replaces; none for a new one) to the state's: only keys that changed are written.
 * SP_ERR_NOMEM, SP_ERR_INVAL (id too long). */
sp_err sp__put_state(sp_wbatch *b, const sp_complaint_state *s,
                     char old[SP__INDEX_KEYS][SP__CKEY_MAX], size_t n_old);

/* Read and decode the stored state of id; SP_ERR_NOT_FOUND when absent. */
sp_err sp__load_state(sp_store *st, const char *id, sp_complaint_state *out);

/* Write acc's rows into b: added to what the stats column family holds unless fresh (rebuild),
 * deleting rows that become zero. cache (may be NULL) is read before the store and told what
 * is written. *rows (may be NULL) receives how many rows were written. */
sp_err sp__stats_flush(sp_store *st, sp_wbatch *b, const sp_stats_acc *acc, int fresh,
                       sp__cache *cache, uint64_t *rows);

/* ---- the event index: e/<id>/<hlc 16 hex>/<origin>/<seq 16 hex> -> sp_fold_event_pack ---- */

#define SP__EKEY_MAX (2 + SP_TRACKING_ID_MAX + 1 + 16 + 1 + SP_MAX_ORIGIN + 1 + 16 + 1)

/* The index key of ev in complaint id into key[SP__EKEY_MAX]; returns its length. */
size_t sp__event_key(char *key, const char *id, const sp_fold_event *ev);
/* "e/<id>/" into key[SP__EKEY_MAX] (the prefix of id's events); returns its length. */
size_t sp__event_prefix(char *key, const char *id);

/* Put ev's index record (key and packed event) into b. SP_ERR_NOMEM. */
sp_err sp__put_event(sp_wbatch *b, const char *id, const sp_fold_event *ev);

/* Events read back from the index: ev[i]'s strings borrow from mem[i] and id. */
typedef struct {
    char id[SP_TRACKING_ID_MAX];
    sp_fold_event *ev;
    void **mem;
    size_t n, cap;
} sp__events;

/* Add the index record (k, v) of complaint e->id to e. SP_ERR_CORRUPT when k is no event key
 * of it or v does not unpack; SP_ERR_NOMEM. */
sp_err sp__events_add(sp__events *e, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn);
/* Add ev, borrowed (its strings must outlive e's use). SP_ERR_NOMEM. */
sp_err sp__events_push(sp__events *e, const sp_fold_event *ev);
/* Forget the events (keep the arrays), or free everything. */
void sp__events_reset(sp__events *e);
void sp__events_free(sp__events *e);
/* The id of an event key k[0..kn) into id[SP_TRACKING_ID_MAX]; 0 when k is no event key. */
int sp__event_key_id(const uint8_t *k, size_t kn, char *id);

/* Read every indexed event of complaint id into e (reset first; e->id set). SP_ERR_STORE,
 * SP_ERR_CORRUPT (logged), SP_ERR_NOMEM. */
sp_err sp__read_events(sp_store *st, const char *id, sp__events *e);

/* Record SP_COMPLAINTS_FORMAT in the complaints column family (synced). */
sp_err sp__write_format(sp_store *st);

#endif
