/*
 * Validation and construction of the model from the raw records of load.c. Each check reports
 * every violation it finds and carries on with what is still meaningful: a node with a bad kind
 * is still registered under its id (so references to it do not cascade into more errors), a
 * node in a parent cycle is exempt from the kind checks, and so on. The caller frees the
 * topology when any error was reported.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "topology/topology_int.h"

#define MAX_ID_LEN 64
#define MAX_KEYWORD_LEN 32

enum { KIND_OK = 1, IN_CYCLE = 2 };

typedef struct build {
    sp_topology *t;
    sp__diags *d;
    const sp__rawnode **raw_of; /* per node: its raw record */
    unsigned char *flags;       /* per node: KIND_OK, IN_CYCLE */
} build;

static const char *article(sp_node_kind k) {
    return k == SP_NODE_OPD ? "an" : "a";
}

static int is_region_kind(sp_node_kind k) {
    return k == SP_NODE_PROVINCE || k == SP_NODE_KABUPATEN || k == SP_NODE_KOTA;
}

/* The value of key in map; the last one when the key repeats (the loader, which reported the
 * repetition, kept the last one too). */
static const sp__ynode *map_get(const sp__ynode *map, const char *key) {
    const sp__ynode *v = NULL;
    size_t len = strlen(key);
    for (size_t i = 0; i < map->n; i++) {
        const sp__ynode *k = map->kids[2 * i];
        if (k->len == len && memcmp(k->str, key, len) == 0) v = map->kids[2 * i + 1];
    }
    return v;
}

static const char *copy_field(build *b, const sp__rawnode *r, sp__node_field f) {
    return r->f[f] ? sp__arena_strdup(&b->t->arena, r->f[f]->str) : NULL;
}

static int id_ok(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > MAX_ID_LEN || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
        return 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (!(islower(ch) || isdigit(ch) || ch == '-' || ch == '_' || ch == '.')) return 0;
    }
    return 1;
}

/* ---- per-node fields ---- */

/* NULL when u is a well-formed NNG URL of a scheme Simpul links over, else what is wrong. */
static const char *url_problem(const char *u) {
    static const char *const schemes[] = {"tls+tcp://", "tcp://", "ipc://", "inproc://"};
    size_t i = 0, n = 0;
    for (; i < 4; i++) {
        n = strlen(schemes[i]);
        if (strncmp(u, schemes[i], n) == 0) break;
    }
    if (i == 4) return "the scheme must be tls+tcp://, tcp://, ipc:// or inproc://";
    const char *rest = u + n;
    if (i >= 2) return *rest ? NULL : "a name must follow the scheme";
    const char *colon = strrchr(rest, ':');
    const char *host_end = colon;
    if (rest[0] == '[') {
        const char *close = strchr(rest, ']');
        if (!close || close[1] != ':') return "expected [ipv6-address]:port";
        colon = close + 1;
        host_end = close + 1;
    }
    if (!colon || host_end == rest) return "expected host:port after the scheme";
    for (const char *h = rest; h < host_end && rest[0] != '['; h++)
        if (!(isalnum((unsigned char)*h) || *h == '.' || *h == '-' || *h == '_'))
            return "the host may hold only letters, digits, '.', '-' and '_'";
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (!isdigit((unsigned char)colon[1]) || *end || port < 1 || port > 65535)
        return "the port must be a number from 1 to 65535";
    return NULL;
}

static void fill_address(build *b, sp_topo_node *n, const sp__rawnode *r) {
    const sp__ynode *v = r->f[SP__NF_ADDRESS];
    if (!v) return;
    const char *problem = url_problem(v->str);
    if (problem) sp__report(b->d, 0, v, "bad address '%s': %s", v->str, problem);
    n->address = sp__arena_strdup(&b->t->arena, v->str);
}

static void fill_kind(build *b, size_t i, const sp__rawnode *r) {
    const sp__ynode *v = r->f[SP__NF_KIND];
    if (!v) return;
    if (sp_node_kind_parse(v->str, &b->t->nodes[i].kind) == SP_OK) {
        b->flags[i] |= KIND_OK;
        return;
    }
    sp__report(b->d, 0, v,
               "unknown kind '%s' (expected national, ministry, lembaga, province, "
               "kabupaten, kota or opd)",
               v->str);
}

static void fill_sign_key(build *b, sp_topo_node *n, const sp__rawnode *r) {
    const sp__ynode *v = r->f[SP__NF_SIGN_KEY];
    if (!v) return;
    if (sp__base64_decode32(v->str, v->len, n->sign_pub) == 0) {
        n->has_sign_pub = true;
        return;
    }
    sp__report(b->d, 0, v,
               "bad sign_key: expected the standard base64 of 32 bytes "
               "(44 characters ending in '=')");
}

static int cmp_seal(const void *pa, const void *pb) {
    const sp_seal_key *a = pa, *b = pb;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Parses one seal key (id given as text, NULL for a lone seal_key: id 1) into k. */
static int parse_seal(build *b, const sp__ynode *id, const sp__ynode *key, sp_seal_key *k) {
    int ok = 1;
    k->id = 1;
    if (id) {
        char *end = NULL;
        unsigned long long v = strtoull(id->str, &end, 10);
        if (!isdigit((unsigned char)id->str[0]) || *end || v < 1 || v > UINT32_MAX) {
            sp__report(b->d, 0, id,
                       "bad seal key id '%s': expected a number from 1 to "
                       "4294967295",
                       id->str);
            ok = 0;
        }
        k->id = (uint32_t)v;
    }
    if (sp__base64_decode32(key->str, key->len, k->key) != 0) {
        sp__report(b->d, 0, key,
                   "bad seal key: expected the standard base64 of 32 bytes "
                   "(44 characters ending in '=')");
        ok = 0;
    }
    return ok;
}

static sp_err fill_seal_keys(build *b, sp_topo_node *n, const sp__rawnode *r) {
    const sp__ynode *one = r->f[SP__NF_SEAL_KEY], *list = r->f[SP__NF_SEAL_KEYS];
    if (one && list) {
        sp__report(b->d, 0, list, "use either seal_key or seal_keys, not both");
        return SP_OK;
    }
    size_t cnt = one ? 1 : list ? list->n : 0;
    if (!cnt) return SP_OK;
    sp_seal_key *keys = sp__arena_alloc(&b->t->arena, cnt * sizeof *keys);
    if (!keys) return SP_ERR_NOMEM;
    for (size_t i = 0; i < cnt; i++) {
        const sp__ynode *id = list ? map_get(list->kids[i], "id") : NULL;
        const sp__ynode *key = list ? map_get(list->kids[i], "key") : one;
        if (!parse_seal(b, id, key, &keys[i])) return SP_OK;
        for (size_t j = 0; j < i; j++)
            if (keys[j].id == keys[i].id)
                sp__report(b->d, 0, id, "duplicate seal key id %u", (unsigned)keys[i].id);
    }
    qsort(keys, cnt, sizeof *keys, cmp_seal);
    n->seal_keys = keys;
    n->n_seal_keys = cnt;
    return SP_OK;
}

static int keyword_ok(const char *s) {
    size_t n = strlen(s);
    if (n < 2 || n > MAX_KEYWORD_LEN) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s)) return 0;
    return 1;
}

int sp_sms_keyword_reserved(const char *s) {
    static const char *const reserved[] = {SP_SMS_RESERVED_KEYWORDS};
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (strcasecmp(s, reserved[i]) == 0) return 1;
    return 0;
}

static sp_err fill_keywords(build *b, sp_topo_node *n, const sp__rawnode *r) {
    const sp__ynode *list = r->f[SP__NF_SMS_KEYWORDS];
    if (!list || !list->n) return SP_OK;
    const char **kw = sp__arena_alloc(&b->t->arena, list->n * sizeof *kw);
    if (!kw) return SP_ERR_NOMEM;
    for (size_t i = 0; i < list->n; i++) {
        const sp__ynode *v = list->kids[i];
        if (!keyword_ok(v->str))
            sp__report(b->d, 0, v, "bad SMS keyword '%s': use 2 to %d letters or digits", v->str,
                       MAX_KEYWORD_LEN);
        else if (sp_sms_keyword_reserved(v->str))
            sp__report(b->d, 0, v,
                       "SMS keyword '%s' is reserved for the 1708 replies (CEK, INFO, BANTUAN, "
                       "PUAS, TIDAK): choose another",
                       v->str);
        if (!(kw[i] = sp__arena_strdup(&b->t->arena, v->str))) return SP_ERR_NOMEM;
    }
    n->sms_keywords = kw;
    n->n_sms_keywords = list->n;
    return SP_OK;
}

static int parse_timezone(const char *s, sp_timezone *tz) {
    for (int z = SP_TZ_WIB; z <= SP_TZ_WIT; z++) {
        if (strcasecmp(s, sp_timezone_name((sp_timezone)z)) == 0) {
            *tz = (sp_timezone)z;
            return 1;
        }
    }
    return 0;
}

static sp_err fill_node(build *b, size_t i, const sp__rawnode *r) {
    sp_topo_node *n = &b->t->nodes[i];
    n->kind = SP_NODE__COUNT;
    n->file = r->at->src->name;
    n->line = r->at->line;
    n->col = r->at->col;
    fill_kind(b, i, r);
    n->name = copy_field(b, r, r->f[SP__NF_NAME] ? SP__NF_NAME : SP__NF_ID);
    if (!n->name) return SP_ERR_NOMEM;
    if (r->f[SP__NF_CODE] && !(n->code = copy_field(b, r, SP__NF_CODE))) return SP_ERR_NOMEM;
    fill_address(b, n, r);
    fill_sign_key(b, n, r);
    const sp__ynode *tz = r->f[SP__NF_TIMEZONE];
    if (tz && !parse_timezone(tz->str, &n->timezone))
        sp__report(b->d, 0, tz, "bad timezone '%s' (expected WIB, WITA or WIT)", tz->str);
    sp_err rv = fill_seal_keys(b, n, r);
    if (rv == SP_OK) rv = fill_keywords(b, n, r);
    return rv;
}

/* Gives every raw node with a usable, unique id a place in t->nodes. */
static sp_err register_nodes(build *b, const sp__rawnode *raw, size_t n_raw) {
    sp_topology *t = b->t;
    for (size_t k = 0; k < n_raw; k++) {
        const sp__ynode *idv = raw[k].f[SP__NF_ID];
        if (!idv) continue; /* reported by the loader */
        if (!id_ok(idv->str)) {
            sp__report(b->d, 0, idv,
                       "bad id '%s': use 1 to %d lower-case letters, digits, "
                       "'-', '_' or '.', starting with a letter or digit",
                       idv->str, MAX_ID_LEN);
            continue;
        }
        size_t i = t->n_nodes, first = 0;
        char *id = sp__arena_strdup(&t->arena, idv->str);
        if (!id) return SP_ERR_NOMEM;
        sp_err rv = sp_idmap_put(&t->by_id, id, i, &first);
        if (rv == SP_ERR_EXISTS) {
            const sp_topo_node *f = &t->nodes[first];
            sp__report(b->d, 0, idv, "duplicate node id '%s' (first defined at %s:%u:%u)", id,
                       f->file, (unsigned)f->line, (unsigned)f->col);
            continue;
        }
        if (rv != SP_OK) return rv;
        t->nodes[i].id = id;
        b->raw_of[i] = &raw[k];
        t->n_nodes++;
        if ((rv = fill_node(b, i, &raw[k])) != SP_OK) return rv;
    }
    return SP_OK;
}

/* ---- the hierarchy ---- */

static void find_national(build *b, const sp__src *root, int complete) {
    sp_topology *t = b->t;
    for (size_t i = 0; i < t->n_nodes; i++) {
        sp_topo_node *n = &t->nodes[i];
        if (!(b->flags[i] & KIND_OK)) continue;
        t->kind_count[n->kind]++;
        if (n->kind != SP_NODE_NATIONAL) continue;
        if (!t->national) {
            t->national = n;
            continue;
        }
        sp__report(b->d, 0, b->raw_of[i]->f[SP__NF_KIND],
                   "a second national node '%s' (there must be exactly one; '%s' is at "
                   "%s:%u:%u)",
                   n->id, t->national->id, t->national->file, (unsigned)t->national->line,
                   (unsigned)t->national->col);
    }
    if (!t->national && complete)
        sp__diag_add(b->d, 0, root->name, root->idx, 1, 1,
                     "no national node: exactly one node must have kind national");
}

static void resolve_parent(build *b, size_t i) {
    sp_topology *t = b->t;
    sp_topo_node *n = &t->nodes[i];
    const sp__rawnode *r = b->raw_of[i];
    const sp__ynode *pv = r->f[SP__NF_PARENT];
    int kind_ok = b->flags[i] & KIND_OK;
    if (kind_ok && n->kind == SP_NODE_NATIONAL) {
        if (pv) sp__report(b->d, 0, pv, "the national node has no parent");
        return;
    }
    if (!pv) {
        if (kind_ok && (n->kind == SP_NODE_MINISTRY || n->kind == SP_NODE_LEMBAGA ||
                        n->kind == SP_NODE_PROVINCE)) {
            n->parent = t->national; /* the default; NULL when there is no national node */
            n->parent_id = t->national ? t->national->id : NULL;
        } else if (kind_ok) {
            sp__report(b->d, 0, r->at, "node '%s' is missing required key 'parent'", n->id);
        }
        return;
    }
    size_t p = 0;
    if (!sp_idmap_get(&t->by_id, pv->str, &p)) {
        sp__report(b->d, 0, pv, "unknown parent '%s' of node '%s'", pv->str, n->id);
        return;
    }
    n->parent = &t->nodes[p];
    n->parent_id = t->nodes[p].id;
}

static void report_cycle(build *b, size_t start) {
    char chain[1024] = "";
    const sp_topo_node *first = &b->t->nodes[start], *v = first;
    do {
        b->flags[v - b->t->nodes] |= IN_CYCLE;
        strncat(chain, v->id, sizeof chain - strlen(chain) - 1);
        strncat(chain, " -> ", sizeof chain - strlen(chain) - 1);
        v = v->parent;
    } while (v != first);
    strncat(chain, first->id, sizeof chain - strlen(chain) - 1);
    sp__report(b->d, 0, b->raw_of[start]->f[SP__NF_PARENT], "parent cycle: %s", chain);
}

/* Walks each parent chain once; a chain that meets its own walk has a cycle, reported at the
 * earliest-defined node on it. mark[i]: 0 unvisited, else the walk (1-based) that saw i. */
static sp_err find_cycles(build *b) {
    sp_topology *t = b->t;
    size_t *mark = calloc(t->n_nodes ? t->n_nodes : 1, sizeof *mark);
    if (!mark) return SP_ERR_NOMEM;
    for (size_t s = 0; s < t->n_nodes; s++) {
        if (mark[s]) continue;
        const sp_topo_node *v = &t->nodes[s];
        while (v && !mark[v - t->nodes]) {
            mark[v - t->nodes] = s + 1;
            v = v->parent;
        }
        if (!v || mark[v - t->nodes] != s + 1) continue; /* ends at the root or an old walk */
        size_t lowest = (size_t)(v - t->nodes);
        for (const sp_topo_node *w = v->parent; w != v; w = w->parent)
            if ((size_t)(w - t->nodes) < lowest) lowest = (size_t)(w - t->nodes);
        report_cycle(b, lowest);
    }
    free(mark);
    return SP_OK;
}

/* Whether a parent of kind pk suits a child of kind k. */
static int parent_kind_ok(sp_node_kind k, sp_node_kind pk) {
    switch (k) {
    case SP_NODE_MINISTRY:
    case SP_NODE_LEMBAGA:
    case SP_NODE_PROVINCE:
        return pk == SP_NODE_NATIONAL;
    case SP_NODE_KABUPATEN:
    case SP_NODE_KOTA:
        return pk == SP_NODE_PROVINCE;
    case SP_NODE_OPD:
        return is_region_kind(pk);
    default:
        return 0;
    }
}

static const char *parent_kinds_text(sp_node_kind k) {
    if (k == SP_NODE_KABUPATEN || k == SP_NODE_KOTA) return "a province";
    if (k == SP_NODE_OPD) return "a province, kabupaten or kota";
    return "the national node";
}

static void check_parent_kind(build *b, size_t i) {
    const sp_topo_node *n = &b->t->nodes[i], *p = n->parent;
    if (!p || (b->flags[i] & IN_CYCLE) || !(b->flags[i] & KIND_OK)) return;
    if (!(b->flags[p - b->t->nodes] & KIND_OK)) return; /* the parent's kind is reported */
    if (parent_kind_ok(n->kind, p->kind)) return;
    const sp__ynode *at = b->raw_of[i]->f[SP__NF_PARENT];
    char what[32];
    if (p->kind == SP_NODE_NATIONAL)
        snprintf(what, sizeof what, "the national node");
    else
        snprintf(what, sizeof what, "%s %s", article(p->kind), sp_node_kind_name(p->kind));
    sp__report(b->d, 0, at ? at : b->raw_of[i]->at, "%s %s's parent must be %s, but '%s' is %s",
               article(n->kind), sp_node_kind_name(n->kind), parent_kinds_text(n->kind), p->id,
               what);
}

/* ---- region codes and time zones ---- */

static void check_regency_code(build *b, size_t i, const sp__ynode *cv) {
    const sp_topo_node *n = &b->t->nodes[i], *p = n->parent;
    const char *kind = sp_node_kind_name(n->kind);
    if (sp__code_level(n->code) != 2) {
        sp__report(b->d, 0, cv, "bad code '%s' for a %s: expected \"NN.NN\" like \"35.77\"",
                   n->code, kind);
        return;
    }
    int city_range = n->code[3] >= '7';
    if (city_range != (n->kind == SP_NODE_KOTA))
        sp__report(b->d, 1, cv, "code '%s' is in the %s range (kabupaten .01-.69, kota .71-.99)",
                   n->code, city_range ? "kota" : "kabupaten");
    if (p && p->kind == SP_NODE_PROVINCE && (b->flags[i] & IN_CYCLE) == 0 && p->code &&
        strncmp(p->code, n->code, 2) != 0)
        sp__report(b->d, 0, cv, "%s code '%s' is not in province '%s' (code '%s')", kind, n->code,
                   p->id, p->code);
}

static void check_opd_code(build *b, size_t i, const sp__ynode *cv) {
    sp_topo_node *n = &b->t->nodes[i];
    const sp_topo_node *p = n->parent;
    if (!p || !is_region_kind(p->kind) || !p->code) return; /* parent problem: reported */
    if (cv && strcmp(cv->str, p->code) != 0)
        sp__report(b->d, 0, cv, "an opd's code is its parent's ('%s'), not '%s'", p->code, cv->str);
    n->code = p->code;
}

static void check_code(build *b, size_t i) {
    sp_topo_node *n = &b->t->nodes[i];
    const sp__rawnode *r = b->raw_of[i];
    const sp__ynode *cv = r->f[SP__NF_CODE];
    if (!(b->flags[i] & KIND_OK)) return;
    const char *kind = sp_node_kind_name(n->kind);
    if (n->kind == SP_NODE_OPD) {
        check_opd_code(b, i, cv);
    } else if (!is_region_kind(n->kind)) {
        if (cv) sp__report(b->d, 0, cv, "%s %s has no region code", article(n->kind), kind);
        n->code = NULL;
    } else if (!cv) {
        sp__report(b->d, 0, r->at, "node '%s' is missing required key 'code'", n->id);
    } else if (n->kind != SP_NODE_PROVINCE) {
        check_regency_code(b, i, cv);
    } else if (sp__code_level(n->code) != 1) {
        sp__report(b->d, 0, cv, "bad code '%s' for a province: expected \"NN\" like \"35\"",
                   n->code);
    }
}

/* Registers each province/kabupaten/kota under its code; a code may have only one. */
static sp_err register_regions(build *b) {
    sp_topology *t = b->t;
    for (size_t i = 0; i < t->n_nodes; i++) {
        const sp_topo_node *n = &t->nodes[i];
        if (!(b->flags[i] & KIND_OK) || !is_region_kind(n->kind) || !n->code) continue;
        if (sp__code_level(n->code) != (n->kind == SP_NODE_PROVINCE ? 1 : 2)) continue;
        size_t first = 0;
        sp_err rv = sp_idmap_put(&t->by_region, n->code, i, &first);
        if (rv == SP_ERR_EXISTS) {
            const sp_topo_node *f = &t->nodes[first];
            sp__report(b->d, 0, b->raw_of[i]->f[SP__NF_CODE],
                       "region code '%s' is already used by '%s' (%s:%u:%u)", n->code, f->id,
                       f->file, (unsigned)f->line, (unsigned)f->col);
        } else if (rv != SP_OK) {
            return rv;
        }
    }
    return SP_OK;
}

/* Kinds in the order their time zones are settled: each from its parent's when needed. */
static const sp_node_kind tz_order[][3] = {
    {SP_NODE_NATIONAL, SP_NODE_MINISTRY, SP_NODE_LEMBAGA},
    {SP_NODE_PROVINCE, SP_NODE_PROVINCE, SP_NODE_PROVINCE},
    {SP_NODE_KABUPATEN, SP_NODE_KOTA, SP_NODE_KOTA},
    {SP_NODE_OPD, SP_NODE_OPD, SP_NODE_OPD},
};

static void settle_timezone(build *b, size_t i) {
    sp_topo_node *n = &b->t->nodes[i];
    const sp__ynode *given = b->raw_of[i]->f[SP__NF_TIMEZONE];
    sp_timezone derived = SP_TZ_WIB;
    int known = 1;
    if (n->kind == SP_NODE_OPD && n->parent)
        derived = n->parent->timezone;
    else if (n->code && sp__code_level(n->code))
        known = sp_timezone_for_code(n->code, &derived) == SP_OK;
    if (!known && n->parent && n->parent->kind == SP_NODE_PROVINCE) {
        derived = n->parent->timezone; /* a province Simpul does not know, with its own zone */
        known = 1;
    }
    if (given && known && n->timezone != derived && n->code)
        sp__report(b->d, 1, given, "timezone %s differs from %s, the zone of region '%s'",
                   sp_timezone_name(n->timezone), sp_timezone_name(derived), n->code);
    else if (!given && !known)
        sp__report(b->d, 0, b->raw_of[i]->f[SP__NF_CODE],
                   "unknown province code '%.2s': add 'timezone' (WIB, WITA or WIT)", n->code);
    if (!given) n->timezone = derived;
}

static void settle_timezones(build *b) {
    for (size_t pass = 0; pass < sizeof tz_order / sizeof tz_order[0]; pass++) {
        for (size_t i = 0; i < b->t->n_nodes; i++) {
            sp_node_kind k = b->t->nodes[i].kind;
            if (!(b->flags[i] & KIND_OK)) continue;
            if (k == tz_order[pass][0] || k == tz_order[pass][1] || k == tz_order[pass][2])
                settle_timezone(b, i);
        }
    }
}

/* ---- federation-wide uniqueness and warnings ---- */

static sp_err register_keywords(build *b) {
    sp_topology *t = b->t;
    for (size_t i = 0; i < t->n_nodes; i++) {
        const sp_topo_node *n = &t->nodes[i];
        for (size_t k = 0; k < n->n_sms_keywords; k++) {
            char *lower = sp__arena_strdup(&t->arena, n->sms_keywords[k]);
            if (!lower) return SP_ERR_NOMEM;
            for (char *c = lower; *c; c++)
                *c = (char)tolower((unsigned char)*c);
            size_t first = 0;
            sp_err rv = sp_idmap_put(&t->by_keyword, lower, i, &first);
            const sp__ynode *at = b->raw_of[i]->f[SP__NF_SMS_KEYWORDS]->kids[k];
            if (rv == SP_ERR_EXISTS && first == i) {
                sp__report(b->d, 0, at, "SMS keyword '%s' is listed twice", n->sms_keywords[k]);
            } else if (rv == SP_ERR_EXISTS) {
                const sp_topo_node *f = &t->nodes[first];
                sp__report(b->d, 0, at, "SMS keyword '%s' is already used by '%s' (%s:%u:%u)",
                           n->sms_keywords[k], f->id, f->file, (unsigned)f->line, (unsigned)f->col);
            } else if (rv != SP_OK) {
                return rv;
            }
        }
    }
    return SP_OK;
}

static sp_err warn_addresses_and_keys(build *b) {
    sp_topology *t = b->t;
    sp_idmap seen = SP_IDMAP_INIT;
    sp_err rv = SP_OK;
    for (size_t i = 0; i < t->n_nodes; i++) {
        const sp_topo_node *n = &t->nodes[i];
        size_t first = 0;
        if (!n->has_sign_pub || !n->n_seal_keys)
            sp__report(b->d, 1, b->raw_of[i]->at, "node '%s' has no %s yet: %s", n->id,
                       !n->has_sign_pub && !n->n_seal_keys ? "sign_key and no seal key"
                       : !n->has_sign_pub                  ? "sign_key"
                                                           : "seal key",
                       !n->has_sign_pub ? "its peers will refuse its events"
                                        : "nothing can be sealed to it");
        if (!n->address) continue;
        rv = sp_idmap_put(&seen, n->address, i, &first);
        if (rv == SP_ERR_EXISTS)
            sp__report(b->d, 1, b->raw_of[i]->f[SP__NF_ADDRESS],
                       "address '%s' is also used by "
                       "'%s'",
                       n->address, t->nodes[first].id);
        else if (rv != SP_OK)
            goto out;
        rv = SP_OK;
    }
out:
    sp_idmap_free(&seen);
    return rv;
}

static sp_err check_nodes(build *b, const sp__src *root, int complete) {
    sp_err rv = SP_OK;
    find_national(b, root, complete);
    for (size_t i = 0; i < b->t->n_nodes; i++)
        resolve_parent(b, i);
    if ((rv = find_cycles(b)) != SP_OK) return rv;
    for (size_t i = 0; i < b->t->n_nodes; i++) {
        check_parent_kind(b, i);
        check_code(b, i);
    }
    if ((rv = register_regions(b)) != SP_OK) return rv;
    settle_timezones(b);
    if ((rv = register_keywords(b)) != SP_OK) return rv;
    return warn_addresses_and_keys(b);
}

sp_err sp__topology_build(sp_topology *t, const sp__rawnode *raw, size_t n_raw,
                          const sp__rawroute *routes, size_t n_routes, const sp__src *root,
                          int complete, sp__diags *d) {
    sp_err rv = SP_OK;
    build b = {.t = t, .d = d};
    size_t cap = n_raw ? n_raw : 1;
    b.raw_of = calloc(cap, sizeof *b.raw_of);
    b.flags = calloc(cap, 1);
    t->nodes = sp__arena_alloc(&t->arena, cap * sizeof *t->nodes);
    if (!b.raw_of || !b.flags || !t->nodes) {
        rv = SP_ERR_NOMEM;
        goto out;
    }
    if ((rv = register_nodes(&b, raw, n_raw)) != SP_OK) goto out;
    if ((rv = check_nodes(&b, root, complete)) != SP_OK) goto out;
    if ((rv = sp__links_build(t, b.raw_of, d)) != SP_OK) goto out;
    rv = sp__routes_build(t, routes, n_routes, d);
out:
    free(b.raw_of);
    free(b.flags);
    return rv;
}
