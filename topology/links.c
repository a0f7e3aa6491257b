/*
 * The peer graph. A node's peers are its parent, its children (so ministries and lembaga,
 * whose parent is national, peer with national) and the extra `peers:` it or others list.
 * Links are undirected: the graph is built from a list of edges, deduplicated, then laid out
 * as one array of pointers per node in the topology's arena.
 */
#include <stdlib.h>
#include <string.h>

#include "topology/topology_int.h"

typedef struct edge {
    size_t a, b; /* a < b */
    int extra;   /* comes from a `peers:` entry */
} edge;

typedef struct edges {
    edge *v;
    size_t n, cap;
} edges;

static sp_err add_edge(edges *e, size_t x, size_t y, int extra) {
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 256;
        edge *v = realloc(e->v, cap * sizeof *v);
        if (!v) return SP_ERR_NOMEM;
        e->v = v;
        e->cap = cap;
    }
    e->v[e->n++] = (edge){x < y ? x : y, x < y ? y : x, extra};
    return SP_OK;
}

static int cmp_edge(const void *pa, const void *pb) {
    const edge *a = pa, *b = pb;
    if (a->a != b->a) return a->a < b->a ? -1 : 1;
    if (a->b != b->b) return a->b < b->b ? -1 : 1;
    return a->extra - b->extra; /* a default link sorts before an extra one */
}

static sp_err collect_edges(sp_topology *t, const sp__rawnode *const *raw_of, sp__diags *d,
                            edges *e) {
    sp_err rv = SP_OK;
    for (size_t i = 0; i < t->n_nodes && rv == SP_OK; i++) {
        const sp_topo_node *n = &t->nodes[i];
        if (n->parent) rv = add_edge(e, i, (size_t)(n->parent - t->nodes), 0);
        const sp__ynode *list = raw_of[i]->f[SP__NF_PEERS];
        for (size_t k = 0; list && k < list->n && rv == SP_OK; k++) {
            const sp__ynode *v = list->kids[k];
            size_t p = 0;
            if (!sp_idmap_get(&t->by_id, v->str, &p))
                sp__report(d, 0, v, "unknown peer '%s' of node '%s'", v->str, n->id);
            else if (p == i)
                sp__report(d, 0, v, "node '%s' lists itself as a peer", n->id);
            else
                rv = add_edge(e, i, p, 1);
        }
    }
    return rv;
}

/* Keeps one edge per pair (the default one when both kinds exist); counts links. */
static void dedup_edges(sp_topology *t, edges *e) {
    size_t out = 0;
    if (e->n) qsort(e->v, e->n, sizeof *e->v, cmp_edge);
    for (size_t i = 0; i < e->n; i++) {
        if (out && e->v[out - 1].a == e->v[i].a && e->v[out - 1].b == e->v[i].b) continue;
        e->v[out++] = e->v[i];
    }
    e->n = out;
    t->n_links = out;
    t->n_extra_links = 0;
    for (size_t i = 0; i < out; i++)
        t->n_extra_links += e->v[i].extra != 0;
}

static sp_err lay_out(sp_topology *t, const edges *e) {
    size_t *at = calloc(t->n_nodes ? t->n_nodes : 1, sizeof *at); /* next free slot per node */
    const sp_topo_node **all = sp__arena_alloc(&t->arena, (2 * e->n + 1) * sizeof *all);
    if (!at || !all) {
        free(at);
        return SP_ERR_NOMEM;
    }
    for (size_t i = 0; i < e->n; i++) {
        t->nodes[e->v[i].a].n_peers++;
        t->nodes[e->v[i].b].n_peers++;
    }
    for (size_t i = 0, off = 0; i < t->n_nodes; i++) {
        t->nodes[i].peers = all + off;
        at[i] = off;
        off += t->nodes[i].n_peers;
    }
    /* Edges are sorted by (a, b): filling the lower-numbered peers first, then the higher,
     * leaves each node's peers in definition order. */
    for (size_t i = 0; i < e->n; i++)
        all[at[e->v[i].b]++] = &t->nodes[e->v[i].a];
    for (size_t i = 0; i < e->n; i++)
        all[at[e->v[i].a]++] = &t->nodes[e->v[i].b];
    free(at);
    return SP_OK;
}

sp_err sp__links_build(sp_topology *t, const sp__rawnode *const *raw_of, sp__diags *d) {
    edges e = {0};
    sp_err rv = collect_edges(t, raw_of, d, &e);
    if (rv == SP_OK) {
        dedup_edges(t, &e);
        rv = lay_out(t, &e);
    }
    free(e.v);
    return rv;
}
