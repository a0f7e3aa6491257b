/*
 * The loaded topology's read side: lookups, names of kinds and zones, and the small parsers
 * (region codes, base64 keys) the other files share. Nothing here changes a loaded topology,
 * so every function is safe for concurrent readers.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "topology/topology_int.h"

static const char *const kind_names[SP_NODE__COUNT] = {
    "national", "ministry", "lembaga", "province", "kabupaten", "kota", "opd",
};

const char *sp_node_kind_name(sp_node_kind kind) {
    return (unsigned)kind < SP_NODE__COUNT ? kind_names[kind] : "?";
}

sp_err sp_node_kind_parse(const char *name, sp_node_kind *out) {
    for (int k = 0; k < SP_NODE__COUNT; k++) {
        if (strcmp(name, kind_names[k]) == 0) {
            *out = (sp_node_kind)k;
            return SP_OK;
        }
    }
    return SP_ERR_INVAL;
}

const char *sp_timezone_name(sp_timezone tz) {
    return tz == SP_TZ_WITA ? "WITA" : tz == SP_TZ_WIT ? "WIT" : "WIB";
}

const char *sp_timezone_iana(sp_timezone tz) {
    return tz == SP_TZ_WITA ? "Asia/Makassar" : tz == SP_TZ_WIT ? "Asia/Jayapura" : "Asia/Jakarta";
}

/* Province codes by zone: Sumatera, Jawa and West/Central Kalimantan keep WIB; Bali, Nusa
 * Tenggara, the rest of Kalimantan and Sulawesi are WITA; Maluku and Papua are WIT. */
sp_err sp_timezone_for_code(const char *code, sp_timezone *out) {
    if (!code || !sp__code_level(code)) return SP_ERR_INVAL;
    int p = (code[0] - '0') * 10 + (code[1] - '0');
    if ((p >= 11 && p <= 19) || p == 21 || (p >= 31 && p <= 36) || p == 61 || p == 62)
        *out = SP_TZ_WIB;
    else if ((p >= 51 && p <= 53) || (p >= 63 && p <= 65) || (p >= 71 && p <= 76))
        *out = SP_TZ_WITA;
    else if (p == 81 || p == 82 || (p >= 91 && p <= 97))
        *out = SP_TZ_WIT;
    else
        return SP_ERR_NOT_FOUND;
    return SP_OK;
}

int sp__code_level(const char *c) {
    if (!c || !isdigit((unsigned char)c[0]) || !isdigit((unsigned char)c[1]) || c[0] == '0')
        return 0;
    if (c[2] == '\0') return 1;
    if (c[2] == '.' && isdigit((unsigned char)c[3]) && isdigit((unsigned char)c[4]) &&
        c[5] == '\0' && !(c[3] == '0' && c[4] == '0'))
        return 2;
    return 0;
}

static int b64_value(unsigned char ch) {
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+') return 62;
    if (ch == '/') return 63;
    return -1;
}

/* 32 bytes are 10 full groups of 3 and one of 2: 43 symbols and one '='. The unused low bits
 * of the last symbol must be zero, so each key has exactly one spelling. */
int sp__base64_decode32(const char *s, size_t len, uint8_t out[32]) {
    if (len != 44 || s[43] != '=') return -1;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < 43; i++) {
        int v = b64_value((unsigned char)s[i]);
        if (v < 0) return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return o == 32 && (acc & ((1u << bits) - 1)) == 0 ? 0 : -1;
}

/* ---- lookups ---- */

size_t sp_topology_count(const sp_topology *t) {
    return t->n_nodes;
}

const sp_topo_node *sp_topology_node_at(const sp_topology *t, size_t i) {
    return i < t->n_nodes ? &t->nodes[i] : NULL;
}

size_t sp_topology_count_kind(const sp_topology *t, sp_node_kind kind) {
    return (unsigned)kind < SP_NODE__COUNT ? t->kind_count[kind] : 0;
}

const sp_topo_node *sp_topology_national(const sp_topology *t) {
    return t->national;
}

const sp_topo_node *sp_topology_find(const sp_topology *t, const char *id) {
    size_t i = 0;
    return id && sp_idmap_get(&t->by_id, id, &i) ? &t->nodes[i] : NULL;
}

const sp_topo_node *sp_topology_find_by_code(const sp_topology *t, const char *code,
                                             sp_node_kind kind) {
    size_t i = 0;
    if (!code) return NULL;
    if (kind == SP_NODE_REGION)
        return sp_idmap_get(&t->by_region, code, &i) ? &t->nodes[i] : NULL;
    for (i = 0; i < t->n_nodes; i++)
        if (t->nodes[i].kind == kind && t->nodes[i].code && strcmp(t->nodes[i].code, code) == 0)
            return &t->nodes[i];
    return NULL;
}

const sp_topo_node *sp_topology_find_by_keyword(const sp_topology *t, const char *keyword) {
    char lower[64];
    size_t i = 0, n = keyword ? strlen(keyword) : 0;
    if (n == 0 || n >= sizeof lower) return NULL;
    for (size_t k = 0; k <= n; k++)
        lower[k] = (char)tolower((unsigned char)keyword[k]);
    return sp_idmap_get(&t->by_keyword, lower, &i) ? &t->nodes[i] : NULL;
}

size_t sp_topology_peers(const sp_topology *t, const char *id, const sp_topo_node **out,
                         size_t cap) {
    const sp_topo_node *n = sp_topology_find(t, id);
    if (!n) return 0;
    for (size_t i = 0; i < n->n_peers && i < cap; i++)
        out[i] = n->peers[i];
    return n->n_peers;
}

const sp_seal_key *sp_topo_node_seal_key(const sp_topo_node *n) {
    return n->n_seal_keys ? &n->seal_keys[n->n_seal_keys - 1] : NULL;
}

const sp_seal_key *sp_topo_node_seal_key_by_id(const sp_topo_node *n, uint32_t id) {
    for (size_t i = 0; i < n->n_seal_keys; i++)
        if (n->seal_keys[i].id == id) return &n->seal_keys[i];
    return NULL;
}

void sp_topology_free(sp_topology *t) {
    if (!t) return;
    sp_idmap_free(&t->by_id);
    sp_idmap_free(&t->by_region);
    sp_idmap_free(&t->by_keyword);
    sp_idmap_free(&t->by_rule);
    sp__arena_free(&t->arena);
    free(t);
}

int sp_topology_keeps_region(const sp_topology *t, const sp_topo_node *self, const char *origin) {
    const sp_topo_node *o = sp_topology_find(t, origin);
    if (!o) return 0;
    if (o->kind == SP_NODE_NATIONAL || o->kind == SP_NODE_MINISTRY || o->kind == SP_NODE_LEMBAGA)
        return 1;
    if (!o->code || !self->code) return 1;
    return strncmp(o->code, self->code, 2) == 0;
}

int sp_topology_tree_link(const sp_topo_node *a, const sp_topo_node *b) {
    return a->parent == b || b->parent == a;
}
