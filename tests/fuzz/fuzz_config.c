/* Fuzz the node configuration loader: any bytes load or fail with diagnostics, never crash. */
#include <stdint.h>
#include <stdlib.h>

#include "node/app/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sp_diag_list diags;
    sp_diag_list_init(&diags);
    sp_node_config *cfg = NULL;
    if (sp_node_config_load_buffer(&cfg, "fuzz.yaml", (const char *)data, size, &diags) == SP_OK) {
        if (!cfg->node || !cfg->data || !cfg->listen_peer) abort(); /* required keys */
        sp_node_config_free(cfg);
    }
    sp_diag_list_clear(&diags);
    return 0;
}
