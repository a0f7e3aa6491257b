/*
 * Fuzz target for Open311 GeoReport v2 POST requests.json as a civic app sends it: an
 * application/x-www-form-urlencoded body (sp_form_parse) whose fields become an intake request
 * (sp_open311_parse), checked against a small topology (sp_intake_check). Any bytes must give a
 * request or an error naming the field: never a crash, a leak or undefined behaviour.
 *
 * The first input byte picks the default region (none, a province, a kota), since a request
 * without jurisdiction_id falls back to it.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "node/intake/intake.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sp_topology *topo(void) {
    return sp_fuzz_topology(SP_FUZZ_INTAKE_TOPOLOGY);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const regions[] = {"", "35", "35.77"};
    if (size == 0) return 0;
    const char *region = regions[data[0] % 3];
    sp_form_pair *pairs;
    size_t n;
    if (sp_form_parse((const char *)data + 1, size - 1, &pairs, &n) != SP_OK) return 0;
    for (size_t i = 0; i < n; i++) /* a pair's name and value are NUL-terminated text */
        if (!pairs[i].key || !pairs[i].val) __builtin_trap();
    sp_intake_req r;
    sp_intake_error e;
    if (sp_open311_parse(&r, pairs, n, region, &e) == SP_OK) {
        if (topo()) sp_intake_check(&r, topo(), &e);
        sp_intake_req_free(&r);
    } else if (!e.code || !e.message[0] || e.status < 400) {
        __builtin_trap(); /* every refusal says why */
    }
    sp_form_free(pairs, n);
    return 0;
}
