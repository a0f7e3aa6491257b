/*
 * Fuzz the decoders of everything a peer can send: one Envelope and a Batch of them. Whatever
 * the bytes, decoding either fails cleanly or yields envelopes whose sizes respect the limits
 * and that re-encode.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const sp_envelope *e) {
    if (e->body_len > SP_MAX_BODY || strlen(e->origin) > SP_MAX_ORIGIN || e->seq == 0) abort();
    uint8_t *buf;
    size_t n;
    if (sp_envelope_encode(e, &buf, &n) == SP_OK) free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sp_envelope e;
    if (sp_envelope_decode(&e, data, size) == SP_OK) {
        check(&e);
        sp_envelope_clear(&e);
    }
    sp_envelope *envs;
    size_t n;
    if (sp_batch_decode(&envs, &n, data, size) == SP_OK) {
        for (size_t i = 0; i < n; i++) check(&envs[i]);
        sp_envelopes_free(envs, n);
    }
    return 0;
}
