/*
 * Fuzz target for the topology loader: any bytes, read as a topology file from memory, must
 * give either a topology or diagnostics, never a crash, a leak or undefined behaviour. When a
 * topology loads, the read side (peers, routing) is exercised on it too.
 */
#include <stddef.h>
#include <stdint.h>

#include "topology/topology.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const sp_topology *t) {
    const sp_topo_node *peers[8];
    for (size_t i = 0; i < sp_topology_count(t); i++) {
        const sp_topo_node *n = sp_topology_node_at(t, i);
        sp_topology_peers(t, n->id, peers, 8);
        const sp_topo_node *agency = NULL;
        sp_topology_route(t, "infrastruktur/pju", n->code, &agency, NULL);
        sp_topology_responsible(t, n->code);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sp_topology *t = NULL;
    sp_diag_list diags;
    sp_diag_list_init(&diags);
    if (sp_topology_load_buffer(&t, "fuzz.yaml", (const char *)data, size, &diags) == SP_OK)
        exercise(t);
    sp_topology_free(t);
    sp_diag_list_clear(&diags);
    return 0;
}
