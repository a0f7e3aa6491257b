#include "broker/replica_store.h"

typedef sp_replica_adapter adapter;

static sp_err ingest(void *ctx, const sp_envelope *envs, size_t n, sp_err *status) {
    return sp_feedlog_ingest(((adapter *)ctx)->log, envs, n, NULL, status);
}

static sp_err heads(void *ctx, sp_vv_entry **out, size_t *n) {
    return sp_feedlog_version_vector(((adapter *)ctx)->log, out, n);
}

static uint64_t head(void *ctx, const char *origin) {
    return sp_feedlog_head(((adapter *)ctx)->log, origin, NULL);
}

static sp_err range(void *ctx, const char *origin, uint64_t from, size_t max, size_t max_bytes,
                    sp_envelope **out, size_t *n) {
    return sp_feedlog_range(((adapter *)ctx)->log, origin, from, max, max_bytes, out, n);
}

static int keeps(void *ctx, const char *origin) {
    adapter *a = ctx;
    return a->keeps(a->keeps_arg, origin);
}

void sp_replica_store_init(sp_replica_store *ops, sp_replica_adapter *a) {
    *ops = (sp_replica_store){ingest, heads, head, range, a->keeps ? keeps : NULL, a};
}
