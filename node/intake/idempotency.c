/* Idempotency records of intake (see idempotency.h). */
#include "node/intake/idempotency.h"

#include <stdlib.h>
#include <string.h>

#include "node/lifecycle/complaints.h"

#define RECORD_PREFIX 'k'

sp_err sp_idem_key(const char *route, const char *key, uint8_t out[SP_HASH_LEN]) {
    size_t n = strlen(key);
    if (n == 0 || n > SP_IDEM_KEY_MAX) return SP_ERR_INVAL;
    for (size_t i = 0; i < n; i++)
        if (key[i] < 0x20 || key[i] > 0x7e) return SP_ERR_INVAL;
    /* route NUL key: no (route, key) pair hashes like another */
    sp_sha256((const uint8_t *)route, strlen(route) + 1, (const uint8_t *)key, n, out);
    return SP_OK;
}

static void record_key(uint8_t rk[1 + SP_HASH_LEN], const uint8_t k[SP_HASH_LEN]) {
    rk[0] = RECORD_PREFIX;
    memcpy(rk + 1, k, SP_HASH_LEN);
}

sp_err sp_idem_lookup(sp_store *st, const uint8_t k[SP_HASH_LEN], char id[SP_TRACKING_ID_MAX]) {
    uint8_t rk[1 + SP_HASH_LEN], *val;
    size_t n;
    record_key(rk, k);
    sp_err rv = sp_store_get(st, SP_CF_INTAKE, rk, sizeof rk, &val, &n);
    if (rv != SP_OK) return rv;
    if (n == 0 || n >= SP_TRACKING_ID_MAX || memchr(val, '\0', n)) rv = SP_ERR_CORRUPT;
    if (rv == SP_OK) {
        memcpy(id, val, n);
        id[n] = '\0';
    }
    free(val);
    return rv;
}

void sp_idem_put(sp_wbatch *b, const uint8_t k[SP_HASH_LEN], const char *id) {
    uint8_t rk[1 + SP_HASH_LEN];
    record_key(rk, k);
    sp_wbatch_put(b, SP_CF_INTAKE, rk, sizeof rk, id, strlen(id));
}
