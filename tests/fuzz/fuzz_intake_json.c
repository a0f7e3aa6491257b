/*
 * Fuzz target for the JSON bodies the HTTP API parses: POST /api/v1/complaints (intake) and
 * POST /api/v1/complaints/{id}/actions. Any bytes must give a request or an error naming the
 * field, never a crash, a leak or undefined behaviour. Parsed intake requests are also checked
 * against a small topology (categories, regions).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "node/intake/actions.h"
#include "node/intake/intake.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sp_topology *topo(void) {
    return sp_fuzz_topology(SP_FUZZ_INTAKE_TOPOLOGY);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sp_intake_req r;
    sp_intake_error e;
    if (sp_intake_parse_json(&r, (const char *)data, size, &e) == SP_OK) {
        if (topo()) sp_intake_check(&r, topo(), &e);
        sp_intake_req_free(&r);
    } else if (!e.code || !e.message[0] || e.status < 400) {
        __builtin_trap(); /* every refusal says why */
    }
    sp_action a;
    if (sp_action_parse(&a, (const char *)data, size, &e) == SP_OK) sp_action_free(&a);
    return 0;
}
