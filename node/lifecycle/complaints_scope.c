/*
 * Which complaints a node folds (sp_fold_ctx.self): those taken in by an intake node whose
 * feed it keeps. The intake node is found from the tracking id's tag.
 */
#include <string.h>

#include "node/lifecycle/complaints_int.h"

sp_err sp__scope_init(sp__scope *sc, const sp_fold_ctx *ctx) {
    memset(sc, 0, sizeof *sc);
    sc->topo = ctx->topo;
    sc->self = ctx->self;
    if (!ctx->self) return SP_OK;
    for (size_t i = 0; i < sp_topology_count(ctx->topo); i++) {
        const sp_topo_node *n = sp_topology_node_at(ctx->topo, i);
        char tag[SP_TRACKING_TAG_MAX];
        if (sp_tracking_tag(tag, n->id) != SP_OK) continue;
        if (sp_strmap_put(&sc->by_tag, tag, (void *)n, NULL) != SP_OK) {
            sp__scope_free(sc);
            return SP_ERR_NOMEM;
        }
    }
    return SP_OK;
}

int sp__scope_foreign(const sp__scope *sc, const char *id) {
    if (!sc->self) return 0;
    const char *dash = strrchr(id, '-');
    char tag[SP_TRACKING_TAG_MAX];
    size_t n = dash ? (size_t)(dash - id) : 0;
    if (n == 0 || n >= sizeof tag) return 0;
    memcpy(tag, id, n);
    tag[n] = '\0';
    const sp_topo_node *intake = sp_strmap_get(&sc->by_tag, tag);
    /* A legacy tag ("OPD-3577-PUPR") or an unknown one: fold, as before scopes existed. */
    return intake && !sp_topology_keeps_region(sc->topo, sc->self, intake->id);
}

void sp__scope_free(sp__scope *sc) {
    sp_strmap_free(&sc->by_tag, NULL);
}
