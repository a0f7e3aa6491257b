/*
 * The topology's fingerprint (topology.h): its own unit, since it reads both the nodes
 * (topology.c) and the routes (routing.c).
 */
#include <string.h>

#include "topology/topology.h"


typedef struct {
    uint64_t h;
} fnv;

static void fnv_bytes(fnv *f, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) f->h = (f->h ^ b[i]) * 1099511628211ull;
}

/* A string and its terminator (NULL as a lone 0xff), so that fields cannot run into each other. */
static void fnv_str(fnv *f, const char *s) {
    static const uint8_t none = 0xff;
    if (s)
        fnv_bytes(f, s, strlen(s) + 1);
    else
        fnv_bytes(f, &none, 1);
}

static void fnv_u32(fnv *f, uint32_t v) {
    fnv_bytes(f, &(uint8_t[4]){(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)}, 4);
}

static void fingerprint_node(fnv *f, const sp_topo_node *n) {
    fnv_str(f, n->id);
    fnv_u32(f, (uint32_t)n->kind);
    fnv_str(f, n->code);
    fnv_str(f, n->parent_id);
    fnv_str(f, n->address);
    fnv_u32(f, n->has_sign_pub);
    if (n->has_sign_pub) fnv_bytes(f, n->sign_pub, sizeof n->sign_pub);
    fnv_u32(f, (uint32_t)n->n_seal_keys);
    for (size_t k = 0; k < n->n_seal_keys; k++) {
        fnv_u32(f, n->seal_keys[k].id);
        fnv_bytes(f, n->seal_keys[k].key, sizeof n->seal_keys[k].key);
    }
    fnv_u32(f, (uint32_t)n->timezone);
    fnv_u32(f, (uint32_t)n->n_sms_keywords);
    for (size_t k = 0; k < n->n_sms_keywords; k++) fnv_str(f, n->sms_keywords[k]);
    fnv_u32(f, (uint32_t)n->n_peers);
    for (size_t k = 0; k < n->n_peers; k++) fnv_str(f, n->peers[k]->id);
}

uint64_t sp_topology_fingerprint(const sp_topology *t) {
    fnv f = {1469598103934665603ull};
    size_t nodes = sp_topology_count(t), routes = sp_topology_route_count(t);
    fnv_u32(&f, (uint32_t)nodes);
    for (size_t i = 0; i < nodes; i++) fingerprint_node(&f, sp_topology_node_at(t, i));
    fnv_u32(&f, (uint32_t)routes);
    for (size_t i = 0; i < routes; i++) {
        const sp_topo_route *r = sp_topology_route_at(t, i);
        fnv_str(&f, r->category);
        fnv_str(&f, r->region);
        fnv_str(&f, r->agency ? r->agency->id : NULL);
    }
    return f.h;
}
