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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char topo_yaml[] =
    "nodes:\n"
    "  - {id: national, kind: national, name: N, address: tcp://h:1}\n"
    "  - {id: prov-35, kind: province, code: \"35\", name: J, parent: national, address: "
    "tcp://h:2}\n"
    "  - {id: kota-3577, kind: kota, code: \"35.77\", name: M, parent: prov-35, address: "
    "tcp://h:3}\n"
    "  - {id: opd-3577-pupr, kind: opd, name: P, parent: kota-3577, address: tcp://h:4}\n"
    "routes:\n"
    "  - {category: infrastruktur/pju, region: \"35.77\", agency: opd-3577-pupr}\n";

static sp_topology *topo(void) {
    static sp_topology *t;
    if (!t) sp_topology_load_buffer(&t, "fuzz.yaml", topo_yaml, sizeof topo_yaml - 1, NULL);
    return t;
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
