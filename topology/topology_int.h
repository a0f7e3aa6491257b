/*
 * Internals shared by the topology's files: the loaded model (struct sp_topology) and the raw
 * records the loader hands to validation. A load goes through three stages:
 *   load.c     reads files and includes, parses YAML (yaml.c) and checks the schema of each
 *              node and route on its own (keys, types, required keys) into raw records;
 *   build.c    checks nodes against each other (ids, parents, kinds, codes, keys, keywords)
 *              and builds the model, links.c computes the peer graph;
 *   routing.c  checks the routing rules and answers routing queries.
 * Every stage reports all it finds; a topology with any error is freed, never returned.
 */
#ifndef SP_TOPOLOGY_INT_H
#define SP_TOPOLOGY_INT_H

#include "base/arena.h"
#include "base/diag.h"
#include "base/idmap.h"
#include "base/yaml.h"
#include "topology/topology.h"

/* Fields of a node mapping, in the order the docs list them. */
typedef enum {
    SP__NF_ID,
    SP__NF_KIND,
    SP__NF_CODE,
    SP__NF_NAME,
    SP__NF_PARENT,
    SP__NF_ADDRESS,
    SP__NF_SIGN_KEY,
    SP__NF_SEAL_KEY,
    SP__NF_SEAL_KEYS,
    SP__NF_PEERS,
    SP__NF_TIMEZONE,
    SP__NF_SMS_KEYWORDS,
    SP__NF_COUNT
} sp__node_field;

/* A node mapping that passed the schema check: each present field's value node, of the right
 * YAML type (scalars are non-empty strings, lists are sequences of what they should hold). */
typedef struct sp__rawnode {
    const sp__ynode *at; /* the mapping itself */
    const sp__ynode *f[SP__NF_COUNT];
} sp__rawnode;

typedef struct sp__rawroute {
    const sp__ynode *at;
    const sp__ynode *category, *region, *agency; /* region may be NULL */
} sp__rawroute;

struct sp_topology {
    sp__arena arena;
    sp_topo_node *nodes;
    size_t n_nodes;
    sp_topo_route *routes;
    size_t n_routes;
    sp_idmap by_id;      /* id -> node index */
    sp_idmap by_region;  /* code -> index of the province/kabupaten/kota node */
    sp_idmap by_keyword; /* lower-cased SMS keyword -> node index */
    sp_idmap by_rule;    /* route label -> route index */
    size_t kind_count[SP_NODE__COUNT];
    const sp_topo_node *national;
    size_t n_links;       /* distinct peer links */
    size_t n_extra_links; /* of which only an extra `peers:` entry makes */
    size_t n_files;
};

/* Validates raw nodes and routes (borrowed) and fills the empty topology t (its arena owns
 * everything it keeps). root locates whole-topology errors; complete is 0 when some file could
 * not be parsed (then a missing national node is not worth a message). Errors go to d; returns
 * SP_ERR_NOMEM or SP_OK (the caller looks at d->n_errors). */
sp_err sp__topology_build(sp_topology *t, const sp__rawnode *raw, size_t n_raw,
                          const sp__rawroute *routes, size_t n_routes, const sp__src *root,
                          int complete, sp__diags *d);
/* Computes every node's peers (links.c). Reports unknown or self extra peers. */
sp_err sp__links_build(sp_topology *t, const sp__rawnode *const *raw_of, sp__diags *d);
/* Validates routes and fills t->routes and t->by_rule (routing.c). */
sp_err sp__routes_build(sp_topology *t, const sp__rawroute *routes, size_t n, sp__diags *d);

/* Checks a region code's shape: 1 for "NN" (province), 2 for "NN.NN" (regency), 0 otherwise. */
int sp__code_level(const char *code);
/* Decodes standard base64 of exactly 32 bytes (44 characters, one '=' pad). 0 on success. */
int sp__base64_decode32(const char *s, size_t len, uint8_t out[32]);

#endif
