/*
 * The federation's topology: which Simpul nodes exist, how they link, and which agency handles
 * which complaint category in which region. It is loaded from YAML (see docs/topology.md),
 * validated as a whole, and then read-only: every function taking a const sp_topology * is
 * safe to call from many threads at once.
 *
 * An invalid topology never loads: sp_topology_load() reports every problem it finds as
 * "file:line:col: message" and returns SP_ERR_CONFIG, and the node refuses to start.
 * This module depends on schemas/ only; it never touches the network or the store.
 */
#ifndef SP_TOPOLOGY_H
#define SP_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/diag.h"
#include "base/err.h"

/* Kinds of node. The order is the hierarchy's, top first; SP_NODE__COUNT is not a kind. */
typedef enum {
    SP_NODE_NATIONAL,  /* Kemenpan RB: exactly one, the root */
    SP_NODE_MINISTRY,  /* kementerian; parent national */
    SP_NODE_LEMBAGA,   /* non-ministerial agency; parent national */
    SP_NODE_PROVINCE,  /* code "NN"; parent national */
    SP_NODE_KABUPATEN, /* code "NN.NN"; parent its province */
    SP_NODE_KOTA,      /* code "NN.NN"; parent its province */
    SP_NODE_OPD,       /* a regional government office; parent a province, kabupaten or kota */
    SP_NODE__COUNT
} sp_node_kind;

/* For sp_topology_find_by_code(): the region's government node, whatever its kind. */
#define SP_NODE_REGION SP_NODE__COUNT

/* Indonesian time zones. Each region's comes from its province. */
typedef enum { SP_TZ_WIB, SP_TZ_WITA, SP_TZ_WIT } sp_timezone;

/* One X25519 sealing public key; several per node allow rotation (the highest id is current). */
typedef struct sp_seal_key {
    uint32_t id;
    uint8_t key[32];
} sp_seal_key;

typedef struct sp_topo_node sp_topo_node;

/* A node of the topology. Owned by the topology, read-only, valid until sp_topology_free(). */
struct sp_topo_node {
    const char *id; /* stable id, e.g. "kota-3577" */
    sp_node_kind kind;
    const char *code;           /* Kemendagri code "35" / "35.77"; NULL for national, ministry,
                                   lembaga; an OPD's is its parent's */
    const char *name;           /* display name, e.g. "Kota Madiun" */
    const char *parent_id;      /* NULL only for national */
    const sp_topo_node *parent; /* NULL only for national */
    const char *address;        /* NNG URL: tls+tcp://host:port, tcp://, ipc://, inproc:// */
    uint8_t sign_pub[32];       /* Ed25519 public key, if has_sign_pub */
    bool has_sign_pub;
    const sp_seal_key *seal_keys; /* sorted by id, ascending; n_seal_keys may be 0 */
    size_t n_seal_keys;
    sp_timezone timezone;            /* given, or derived from the province code (national: WIB) */
    const char *const *sms_keywords; /* as written; unique federation-wide, ignoring case */
    size_t n_sms_keywords;
    const sp_topo_node *const *peers; /* default + extra peers: symmetric, no duplicates */
    size_t n_peers;
    const char *file; /* where the node is defined, for messages */
    uint32_t line, col;
};

/* A routing rule: complaints of `category` in `region` go to `agency`. */
typedef struct sp_topo_route {
    const char *category; /* "infrastruktur/pju", "kesehatan" or "*" */
    const char *region;   /* region code, or NULL for a national-level rule */
    const sp_topo_node *agency;
    const char *label; /* "infrastruktur/pju@35.77", "kesehatan@national" */
    const char *file;
    uint32_t line, col;
} sp_topo_route;

typedef struct sp_topology sp_topology;

/* Loads and validates the topology in the file at path and the files it includes (relative
 * paths resolve against the including file's folder). On SP_OK *out is a new topology the
 * caller frees with sp_topology_free(). Errors: SP_ERR_CONFIG (invalid; nothing loaded),
 * SP_ERR_IO (path unreadable), SP_ERR_NOMEM, SP_ERR_INVAL (NULL out or path). Every error and
 * warning found is appended to diags when it is not NULL (the caller clears it); warnings do
 * not prevent loading. Thread-safe (no shared state). */
sp_err sp_topology_load(sp_topology **out, const char *path, sp_diag_list *diags);

/* Same, from buf[0..len), reported as file `name`. `include:` is refused (an error) because a
 * buffer has no folder to resolve against. Borrows buf and name. */
sp_err sp_topology_load_buffer(sp_topology **out, const char *name, const char *buf, size_t len,
                               sp_diag_list *diags);

/* Frees t and everything it owns, including every node and route handed out. Accepts NULL. */
void sp_topology_free(sp_topology *t);

/* A 64-bit fingerprint (FNV-1a) of everything in the topology that decides how a node files,
 * routes, seals and replicates: every node's id, kind, code, parent, address, keys, time zone,
 * keywords and peers, and every route, in load order. Nodes that load the same files agree;
 * peers compare it on sync (broker/replicator.h, agreement). */
uint64_t sp_topology_fingerprint(const sp_topology *t);

/* Number of nodes; nodes are numbered 0..count-1 in definition (load) order. */
size_t sp_topology_count(const sp_topology *t);
/* The i-th node, or NULL when i >= count. */
const sp_topo_node *sp_topology_node_at(const sp_topology *t, size_t i);
/* Number of nodes of one kind. */
size_t sp_topology_count_kind(const sp_topology *t, sp_node_kind kind);
/* The national node (never NULL in a loaded topology). */
const sp_topo_node *sp_topology_national(const sp_topology *t);
/* The node with this id, or NULL. */
const sp_topo_node *sp_topology_find(const sp_topology *t, const char *id);
/* The node with this region code: kind SP_NODE_REGION gives the region's government node
 * (province, kabupaten or kota); another kind gives the first node of that kind with the
 * code (e.g. SP_NODE_OPD), or NULL. */
const sp_topo_node *sp_topology_find_by_code(const sp_topology *t, const char *code,
                                             sp_node_kind kind);
/* Words of the 1708 SMS service that no node may take as its keyword: CEK <tracking> asks a
 * complaint's status, INFO and BANTUAN the help, PUAS / TIDAK PUAS <tracking> give feedback. */
#define SP_SMS_RESERVED_KEYWORDS "CEK", "INFO", "BANTUAN", "PUAS", "TIDAK"
/* Whether s (ignoring ASCII case) is one of them. */
int sp_sms_keyword_reserved(const char *s);
/* The node owning this SMS keyword (compared ignoring ASCII case), or NULL. */
const sp_topo_node *sp_topology_find_by_keyword(const sp_topology *t, const char *keyword);

/* Copies up to cap peers of node `id` into out (which may be NULL when cap is 0) and returns
 * how many it has in all, 0 for an unknown id. Peers are the parent, the children and the
 * extra `peers:` (both directions), each once. Borrowed pointers, valid while t lives. */
size_t sp_topology_peers(const sp_topology *t, const char *id, const sp_topo_node **out,
                         size_t cap);

/* Whether a and b are parent and child (a link of the tree), not an extra `peers:` link. */
int sp_topology_tree_link(const sp_topo_node *a, const sp_topo_node *b);

/* Scoped replication ("keep: region"): whether node self keeps origin's feed. A node keeps
 * its own province's nodes and the national, ministry and lembaga feeds (which disposition
 * into it); a node without a region code (national, ministries, lembaga) keeps every feed.
 * An origin the topology does not know is not kept. */
int sp_topology_keeps_region(const sp_topology *t, const sp_topo_node *self, const char *origin);

/* Finds the agency handling `category` (e.g. "infrastruktur/pju") in `region_code` ("35.77",
 * "35", or NULL/"" for national). Precedence: the most specific region first (regency, then
 * its province, then national-level rules); within one region level the most specific
 * category (infrastruktur/pju, then infrastruktur, then "*"). With no rule, the region's
 * responsible node (sp_topology_responsible()) handles it. On SP_OK *agency_out is set and,
 * when rule_out is not NULL, *rule_out is the matched rule's label or "default" (owned by t).
 * Errors: SP_ERR_INVAL (malformed category or code), SP_ERR_NOT_FOUND (unknown region). */
sp_err sp_topology_route(const sp_topology *t, const char *category, const char *region_code,
                         const sp_topo_node **agency_out, const char **rule_out);

/* The node whose admins verify complaints in a region: the kabupaten/kota for a regency code,
 * the province for a province code (or for a regency code with no node of its own), national
 * for NULL or "". NULL when the code is malformed or its province is unknown. */
const sp_topo_node *sp_topology_responsible(const sp_topology *t, const char *region_code);

/* Number of routing rules and the i-th one (definition order; NULL when out of range). */
size_t sp_topology_route_count(const sp_topology *t);
const sp_topo_route *sp_topology_route_at(const sp_topology *t, size_t i);

/* The current (highest-id) sealing key of a node, or NULL if it has none. */
const sp_seal_key *sp_topo_node_seal_key(const sp_topo_node *n);
/* The sealing key with this id, or NULL. */
const sp_seal_key *sp_topo_node_seal_key_by_id(const sp_topo_node *n, uint32_t id);

/* "national", "ministry", ...; "?" when out of range. Static storage. */
const char *sp_node_kind_name(sp_node_kind kind);
/* Parses a kind name; SP_ERR_INVAL if it is not one. */
sp_err sp_node_kind_parse(const char *name, sp_node_kind *out);
/* "WIB", "WITA", "WIT". Static storage. */
const char *sp_timezone_name(sp_timezone tz);
/* The IANA zone: "Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura". Static storage. */
const char *sp_timezone_iana(sp_timezone tz);
/* Time zone of a province from the first two digits of a region code; SP_ERR_NOT_FOUND for a
 * province code Indonesia does not have, SP_ERR_INVAL for a malformed code. */
sp_err sp_timezone_for_code(const char *code, sp_timezone *out);

/* The `simpul topology` command: argv[0] is "topology", then check|show|dot and their
 * arguments. Writes results to stdout and problems to stderr. Returns the exit status:
 * 0 ok, 1 invalid topology or I/O error, 2 usage error. */
int sp_topology_cli_main(int argc, char **argv);

#endif
