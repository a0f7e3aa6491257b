/*
 * The event index of the complaints column family: one record per complaint event,
 * e/<id>/<hlc 16 hex>/<origin>/<seq 16 hex> -> the event as the fold reads it
 * (sp_fold_event_pack). It is what a late event re-folds from, what the history is computed
 * from, and what rebuild folds complaint by complaint, so none of them holds more than one
 * complaint's events or decodes envelopes a second time. Written in the same batch as the
 * event (incremental) or by rebuild's first pass, with the same function: byte-identical.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "node/lifecycle/complaints_int.h"

static size_t put_hex16(char *p, uint64_t v) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--, v >>= 4)
        p[i] = digits[v & 15];
    return 16;
}

static int get_hex16(const uint8_t *p, uint64_t *v) {
    uint64_t x = 0;
    for (int i = 0; i < 16; i++) {
        uint8_t c = p[i];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                                            : 16u;
        if (d > 15) return 0;
        x = x << 4 | d;
    }
    *v = x;
    return 1;
}

size_t sp__event_prefix(char *key, const char *id) {
    size_t n = strlen(id);
    if (n >= SP_TRACKING_ID_MAX) return 0;
    key[0] = 'e';
    key[1] = '/';
    memcpy(key + 2, id, n);
    key[2 + n] = '/';
    key[3 + n] = '\0';
    return n + 3;
}

size_t sp__event_key(char *key, const char *id, const sp_fold_event *ev) {
    size_t n = sp__event_prefix(key, id), on = strlen(ev->origin);
    if (!n || on > SP_MAX_ORIGIN) return 0;
    n += put_hex16(key + n, ev->hlc);
    key[n++] = '/';
    memcpy(key + n, ev->origin, on);
    n += on;
    key[n++] = '/';
    n += put_hex16(key + n, ev->seq);
    key[n] = '\0';
    return n;
}

sp_err sp__put_event(sp_wbatch *b, const char *id, const sp_fold_event *ev) {
    char key[SP__EKEY_MAX];
    size_t klen = sp__event_key(key, id, ev), vn;
    uint8_t *v;
    if (!klen) return SP_ERR_INVAL;
    sp_err rv = sp_fold_event_pack(ev, id, &v, &vn);
    if (rv != SP_OK) return rv;
    sp_wbatch_put(b, SP_CF_COMPLAINTS, key, klen, v, vn);
    free(v);
    return SP_OK;
}

int sp__event_key_id(const uint8_t *k, size_t kn, char *id) {
    if (kn < 2 + 1 + 1 + 16 + 1 + 1 + 1 + 16 || k[0] != 'e' || k[1] != '/') return 0;
    const uint8_t *slash = memchr(k + 2, '/', kn - 2);
    size_t n = slash ? (size_t)(slash - k) - 2 : 0;
    if (!n || n >= SP_TRACKING_ID_MAX) return 0;
    memcpy(id, k + 2, n);
    id[n] = '\0';
    return 1;
}

/* Grow e's arrays to hold one more. */
static sp_err reserve(sp__events *e) {
    if (e->n < e->cap) return SP_OK;
    size_t cap = e->cap ? 2 * e->cap : 16;
    sp_fold_event *ev = realloc(e->ev, cap * sizeof *ev);
    if (!ev) return SP_ERR_NOMEM;
    e->ev = ev;
    void **mem = realloc(e->mem, cap * sizeof *mem);
    if (!mem) return SP_ERR_NOMEM;
    e->mem = mem;
    e->cap = cap;
    return SP_OK;
}

sp_err sp__events_add(sp__events *e, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn) {
    size_t idn = strlen(e->id), on;
    uint64_t hlc, seq;
    /* e/ id / hlc16 / origin / seq16 */
    if (kn < 2 + idn + 1 + 16 + 1 + 1 + 1 + 16 || k[0] != 'e' || k[1] != '/' ||
        memcmp(k + 2, e->id, idn) != 0 || k[2 + idn] != '/' || k[3 + idn + 16] != '/' ||
        k[kn - 17] != '/' || !get_hex16(k + 3 + idn, &hlc) || !get_hex16(k + kn - 16, &seq) ||
        (on = kn - 17 - (4 + idn + 16)) > SP_MAX_ORIGIN)
        return SP_ERR_CORRUPT;
    sp_err rv = reserve(e);
    if (rv != SP_OK) return rv;
    uint8_t *mem = malloc(on + 1 + (vn ? vn : 1)); /* origin, NUL, packed event */
    if (!mem) return SP_ERR_NOMEM;
    memcpy(mem, k + 4 + idn + 16, on);
    mem[on] = 0;
    memcpy(mem + on + 1, v, vn);
    rv = sp_fold_event_unpack(&e->ev[e->n], (const char *)mem, seq, hlc, e->id, mem + on + 1, vn);
    if (rv != SP_OK) {
        free(mem);
        return rv;
    }
    e->mem[e->n++] = mem;
    return SP_OK;
}

sp_err sp__events_push(sp__events *e, const sp_fold_event *ev) {
    sp_err rv = reserve(e);
    if (rv != SP_OK) return rv;
    e->ev[e->n] = *ev;
    e->mem[e->n++] = NULL;
    return SP_OK;
}

void sp__events_reset(sp__events *e) {
    for (size_t i = 0; i < e->n; i++)
        free(e->mem[i]);
    e->n = 0;
}

void sp__events_free(sp__events *e) {
    if (!e) return;
    sp__events_reset(e);
    free(e->ev);
    free(e->mem);
    memset(e, 0, sizeof *e);
}

sp_err sp__read_events(sp_store *st, const char *id, sp__events *e) {
    char prefix[SP__EKEY_MAX];
    size_t pn = sp__event_prefix(prefix, id);
    sp__events_reset(e);
    if (!pn) return SP_ERR_INVAL;
    memcpy(e->id, id, strlen(id) + 1);
    sp_iter *it = sp_iter_new(st, SP_CF_COMPLAINTS);
    if (!it) return SP_ERR_NOMEM;
    sp_err rv = SP_OK;
    for (sp_iter_seek(it, prefix, pn); rv == SP_OK && sp_iter_valid(it); sp_iter_next(it)) {
        size_t kn, vn;
        const uint8_t *k = sp_iter_key(it, &kn), *v = sp_iter_value(it, &vn);
        if (kn < pn || memcmp(k, prefix, pn) != 0) break;
        rv = sp__events_add(e, k, kn, v, vn);
        if (rv == SP_ERR_CORRUPT)
            sp_log_error("complaints.bad_event_record", "id=%s key=%.*s", id, (int)kn,
                         (const char *)k);
    }
    if (rv == SP_OK) rv = sp_iter_status(it);
    sp_iter_free(it);
    return rv;
}
