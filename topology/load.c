/*
 * Loader: files, includes and the per-record schema. It reads the root file and, depth-first,
 * every file named in an `include:` list (relative to the including file), parses each into a
 * YAML tree and checks each node and route mapping on its own: known keys, right types,
 * required keys present. Cross-record rules are build.c's job. Files get their index in this
 * load order; diagnostics are sorted by it.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topology/topology_int.h"

#define MAX_FILE_SIZE (64u * 1024u * 1024u)
#define MAX_INCLUDE_DEPTH 16

typedef enum { FT_STR, FT_SEQ_STR, FT_SEQ_MAP } field_type;

typedef struct field {
    const char *key;
    field_type type;
    int required;
} field;

static const field node_fields[SP__NF_COUNT] = {
    [SP__NF_ID] = {"id", FT_STR, 1},
    [SP__NF_KIND] = {"kind", FT_STR, 1},
    [SP__NF_CODE] = {"code", FT_STR, 0},
    [SP__NF_NAME] = {"name", FT_STR, 1},
    [SP__NF_PARENT] = {"parent", FT_STR, 0},
    [SP__NF_ADDRESS] = {"address", FT_STR, 1},
    [SP__NF_SIGN_KEY] = {"sign_key", FT_STR, 0},
    [SP__NF_SEAL_KEY] = {"seal_key", FT_STR, 0},
    [SP__NF_SEAL_KEYS] = {"seal_keys", FT_SEQ_MAP, 0},
    [SP__NF_PEERS] = {"peers", FT_SEQ_STR, 0},
    [SP__NF_TIMEZONE] = {"timezone", FT_STR, 0},
    [SP__NF_SMS_KEYWORDS] = {"sms_keywords", FT_SEQ_STR, 0},
};

enum { RF_CATEGORY, RF_REGION, RF_AGENCY, RF_COUNT };
static const field route_fields[RF_COUNT] = {
    [RF_CATEGORY] = {"category", FT_STR, 1},
    [RF_REGION] = {"region", FT_STR, 0},
    [RF_AGENCY] = {"agency", FT_STR, 1},
};

enum { SF_ID, SF_KEY, SF_COUNT };
static const field seal_fields[SF_COUNT] = {
    [SF_ID] = {"id", FT_STR, 1},
    [SF_KEY] = {"key", FT_STR, 1},
};

enum { TF_VERSION, TF_INCLUDE, TF_NODES, TF_ROUTES, TF_COUNT };
static const field top_fields[TF_COUNT] = {
    [TF_VERSION] = {"version", FT_STR, 0},
    [TF_INCLUDE] = {"include", FT_SEQ_STR, 0},
    [TF_NODES] = {"nodes", FT_SEQ_MAP, 0},
    [TF_ROUTES] = {"routes", FT_SEQ_MAP, 0},
};

typedef struct file {
    sp__src src;
    char *real; /* canonical path, NULL for a buffer */
    char *buf;
} file;

typedef struct loadctx {
    sp__arena parse; /* trees, file records */
    sp__diags *d;
    file **files;
    size_t n_files;
    size_t stack[MAX_INCLUDE_DEPTH + 1]; /* files being read, root first */
    size_t depth;
    sp__rawnode *nodes;
    size_t n_nodes, cap_nodes;
    sp__rawroute *routes;
    size_t n_routes, cap_routes;
    int incomplete; /* a file could not be read or parsed */
} loadctx;

/* ---- schema of one mapping ---- */

static size_t edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b), row[33];
    if (la > 32 || lb > 32) return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

static void report_unknown_key(loadctx *c, const sp__ynode *k, const char *what, const field *fs,
                               size_t n) {
    size_t best = SIZE_MAX, at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t dist = edit_distance(k->str, fs[i].key);
        if (dist < best) {
            best = dist;
            at = i;
        }
    }
    if (best <= 2) {
        sp__report(c->d, 0, k, "unknown key '%s' in %s (did you mean '%s'?)", k->str, what,
                   fs[at].key);
        return;
    }
    char list[512] = "";
    for (size_t i = 0; i < n; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, fs[i].key, sizeof list - strlen(list) - 1);
    }
    sp__report(c->d, 0, k, "unknown key '%s' in %s (expected %s)", k->str, what, list);
}

static int scalar_ok(loadctx *c, const sp__ynode *v, const char *key) {
    if (v->type != SP__Y_SCALAR) {
        sp__report(c->d, 0, v, "'%s' must be a string, not %s", key, sp__ytype_name(v));
        return 0;
    }
    if (v->len == 0) {
        sp__report(c->d, 0, v, "'%s' must not be empty", key);
        return 0;
    }
    if (strlen(v->str) != v->len) {
        sp__report(c->d, 0, v, "'%s' must not contain a NUL character", key);
        return 0;
    }
    return 1;
}

static int seq_ok(loadctx *c, const sp__ynode *v, const char *key, field_type type) {
    if (v->type != SP__Y_SEQ) {
        sp__report(c->d, 0, v, "'%s' must be a sequence, not %s", key, sp__ytype_name(v));
        return 0;
    }
    int ok = 1;
    for (size_t i = 0; i < v->n; i++) {
        const sp__ynode *item = v->kids[i];
        if (type == FT_SEQ_STR) {
            ok &= scalar_ok(c, item, key);
        } else if (item->type != SP__Y_MAP) {
            sp__report(c->d, 0, item, "each item of '%s' must be a mapping, not %s", key,
                       sp__ytype_name(item));
            ok = 0;
        }
    }
    return ok;
}

/* Fills vals[i] with the value of fs[i].key when present and well-typed. Reports unknown keys,
 * wrong types and missing required keys (as "<what> is missing required key"). */
static void check_mapping(loadctx *c, const sp__ynode *map, const char *what, const char *label,
                          const field *fs, size_t n, const sp__ynode **vals) {
    unsigned char present[16] = {0};
    for (size_t p = 0; p < map->n; p++) {
        const sp__ynode *k = map->kids[2 * p], *v = map->kids[2 * p + 1];
        size_t i = 0;
        while (i < n && !(strcmp(k->str, fs[i].key) == 0 && strlen(k->str) == k->len))
            i++;
        if (i == n) {
            report_unknown_key(c, k, what, fs, n);
            continue;
        }
        present[i] = 1;
        int ok =
            fs[i].type == FT_STR ? scalar_ok(c, v, fs[i].key) : seq_ok(c, v, fs[i].key, fs[i].type);
        vals[i] = ok ? v : NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!fs[i].required || present[i]) continue;
        if (label)
            sp__report(c->d, 0, map, "%s '%s' is missing required key '%s'", what, label,
                       fs[i].key);
        else
            sp__report(c->d, 0, map, "%s is missing required key '%s'", what, fs[i].key);
    }
}

/* The value of key `id` in map when it is a usable string, for naming the node in messages. */
static const char *id_label(const sp__ynode *map) {
    for (size_t p = 0; p < map->n; p++) {
        const sp__ynode *k = map->kids[2 * p], *v = map->kids[2 * p + 1];
        if (strcmp(k->str, "id") == 0 && v->type == SP__Y_SCALAR && v->len)
            return strlen(v->str) == v->len && v->len <= 64 ? v->str : NULL;
    }
    return NULL;
}

static sp_err add_node(loadctx *c, const sp__ynode *map) {
    if (c->n_nodes == c->cap_nodes) {
        size_t cap = c->cap_nodes ? c->cap_nodes * 2 : 64;
        sp__rawnode *v = realloc(c->nodes, cap * sizeof *v);
        if (!v) return SP_ERR_NOMEM;
        c->nodes = v;
        c->cap_nodes = cap;
    }
    sp__rawnode *r = &c->nodes[c->n_nodes++];
    memset(r, 0, sizeof *r);
    r->at = map;
    check_mapping(c, map, "node", id_label(map), node_fields, SP__NF_COUNT, r->f);
    const sp__ynode *keys = r->f[SP__NF_SEAL_KEYS];
    for (size_t i = 0; keys && i < keys->n; i++) {
        const sp__ynode *v[SF_COUNT] = {0};
        check_mapping(c, keys->kids[i], "seal key", NULL, seal_fields, SF_COUNT, v);
        if (!v[SF_ID] || !v[SF_KEY]) r->f[SP__NF_SEAL_KEYS] = NULL; /* reported */
    }
    return SP_OK;
}

static sp_err add_route(loadctx *c, const sp__ynode *map) {
    if (c->n_routes == c->cap_routes) {
        size_t cap = c->cap_routes ? c->cap_routes * 2 : 16;
        sp__rawroute *v = realloc(c->routes, cap * sizeof *v);
        if (!v) return SP_ERR_NOMEM;
        c->routes = v;
        c->cap_routes = cap;
    }
    const sp__ynode *v[RF_COUNT] = {0};
    check_mapping(c, map, "routing rule", NULL, route_fields, RF_COUNT, v);
    if (!v[RF_CATEGORY] || !v[RF_AGENCY]) return SP_OK; /* reported; nothing to route */
    c->routes[c->n_routes++] = (sp__rawroute){map, v[RF_CATEGORY], v[RF_REGION], v[RF_AGENCY]};
    return SP_OK;
}

/* ---- files and includes ---- */

static sp_err load_file(loadctx *c, const char *name, const sp__ynode *site);
static sp_err walk_top(loadctx *c, const sp__ynode *root, const file *f);

/* Reads a whole file into a new NUL-terminated buffer. Returns 0 or an errno value. */
static int read_all(const char *path, char **out, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return errno;
    errno = 0;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int err = 0;
    for (;;) {
        if (cap - n < 4096) {
            cap = cap ? cap * 2 : 65536;
            char *nb = cap > MAX_FILE_SIZE ? NULL : realloc(buf, cap + 1);
            if (!nb) {
                err = cap > MAX_FILE_SIZE ? EFBIG : ENOMEM;
                break;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0) {
            if (ferror(fp)) err = errno ? errno : EIO; /* e.g. EISDIR for a folder */
            break;
        }
    }
    fclose(fp);
    if (err) {
        free(buf);
        return err;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

static sp_err add_file(loadctx *c, const char *name, char *real, char *buf, file **out) {
    file **v = realloc(c->files, (c->n_files + 1) * sizeof *v);
    if (!v) return SP_ERR_NOMEM;
    c->files = v;
    file *f = sp__arena_alloc(&c->parse, sizeof *f);
    char *copy = f ? sp__arena_strdup(&c->parse, name) : NULL;
    if (!copy) return SP_ERR_NOMEM;
    f->src = (sp__src){copy, (uint32_t)c->n_files};
    f->real = real;
    f->buf = buf;
    c->files[c->n_files++] = f;
    *out = f;
    return SP_OK;
}

/* Resolves an include entry against the including file's folder: "a/b.yaml" + "c.yaml" gives
 * "a/c.yaml"; absolute entries stay as they are. */
static char *include_path(const char *including, const char *entry) {
    const char *slash = strrchr(including, '/');
    size_t dir = entry[0] == '/' || !slash ? 0 : (size_t)(slash - including) + 1;
    char *p = malloc(dir + strlen(entry) + 1);
    if (!p) return NULL;
    memcpy(p, including, dir);
    strcpy(p + dir, entry);
    return p;
}

static void report_cycle(loadctx *c, const sp__ynode *site, const char *name) {
    char chain[1024] = "";
    size_t from = 0;
    while (from < c->depth && strcmp(c->files[c->stack[from]]->src.name, name) != 0)
        from++;
    for (size_t i = from; i < c->depth; i++) {
        strncat(chain, c->files[c->stack[i]]->src.name, sizeof chain - strlen(chain) - 1);
        strncat(chain, " -> ", sizeof chain - strlen(chain) - 1);
    }
    strncat(chain, name, sizeof chain - strlen(chain) - 1);
    sp__report(c->d, 0, site, "include cycle: %s", chain);
}

/* 1 when real is already loaded (reporting why, at site), 0 otherwise. */
static int already_loaded(loadctx *c, const char *real, const char *name, const sp__ynode *site) {
    for (size_t i = 0; i < c->depth; i++) {
        const char *open = c->files[c->stack[i]]->real;
        if (open && strcmp(open, real) == 0) {
            report_cycle(c, site, c->files[c->stack[i]]->src.name);
            return 1;
        }
    }
    for (size_t i = 0; i < c->n_files; i++) {
        if (c->files[i]->real && strcmp(c->files[i]->real, real) == 0) {
            sp__report(c->d, 0, site, "'%s' is already included (as %s)", name,
                       c->files[i]->src.name);
            return 1;
        }
    }
    return 0;
}

static sp_err report_unreadable(loadctx *c, const char *name, const sp__ynode *site, int err) {
    if (site) {
        sp__report(c->d, 0, site, "cannot read included file '%s': %s", name, strerror(err));
        c->incomplete = 1;
        return SP_OK; /* an error in the topology; the rest is still checked */
    }
    sp__diag_add(c->d, 0, name, 0, 0, 0, "cannot read: %s", strerror(err));
    return SP_ERR_IO;
}

static sp_err parse_and_walk(loadctx *c, const file *f, const char *buf, size_t len) {
    const sp__ynode *root = NULL;
    sp_err rv = sp__yaml_parse(&root, &f->src, buf ? buf : "", len, &c->parse, c->d);
    if (rv == SP_ERR_CONFIG) {
        c->incomplete = 1;
        return SP_OK; /* reported; other files are still checked */
    }
    if (rv != SP_OK) return rv;
    c->stack[c->depth++] = f->src.idx;
    rv = walk_top(c, root, f);
    c->depth--;
    return rv;
}

/* Loads file `name` (as the user wrote it), included at site (NULL for the root). */
static sp_err load_file(loadctx *c, const char *name, const sp__ynode *site) {
    char *real = NULL, *buf = NULL;
    size_t len = 0;
    file *f = NULL;
    sp_err rv = SP_OK;
    if (c->depth > MAX_INCLUDE_DEPTH) {
        sp__report(c->d, 0, site, "includes are nested more than %d deep", MAX_INCLUDE_DEPTH);
        return SP_OK;
    }
    if (!(real = realpath(name, NULL))) return report_unreadable(c, name, site, errno);
    if (already_loaded(c, real, name, site)) goto out;
    int err = read_all(real, &buf, &len);
    if (err == ENOMEM) rv = SP_ERR_NOMEM;
    if (err) {
        if (!rv) rv = report_unreadable(c, name, site, err);
        goto out;
    }
    if ((rv = add_file(c, name, real, buf, &f)) != SP_OK) goto out;
    real = buf = NULL; /* owned by f now */
    rv = parse_and_walk(c, f, f->buf, len);
out:
    free(real);
    free(buf);
    return rv;
}

static sp_err walk_includes(loadctx *c, const sp__ynode *list, const file *f) {
    for (size_t i = 0; i < list->n; i++) {
        const sp__ynode *entry = list->kids[i];
        if (!f->real) {
            sp__report(c->d, 0, entry, "include is not supported in a topology read from memory");
            continue;
        }
        char *path = include_path(f->src.name, entry->str);
        if (!path) return SP_ERR_NOMEM;
        sp_err rv = load_file(c, path, entry);
        free(path);
        if (rv != SP_OK) return rv;
    }
    return SP_OK;
}

static sp_err walk_top(loadctx *c, const sp__ynode *root, const file *f) {
    if (!root) {
        sp__diag_add(c->d, 1, f->src.name, f->src.idx, 1, 1, "the file is empty");
        return SP_OK;
    }
    if (root->type != SP__Y_MAP) {
        sp__report(c->d, 0, root,
                   "the top level must be a mapping with keys include, nodes "
                   "and routes, not %s",
                   sp__ytype_name(root));
        c->incomplete = 1; /* nothing of this file was read */
        return SP_OK;
    }
    const sp__ynode *v[TF_COUNT] = {0};
    sp_err rv = SP_OK;
    check_mapping(c, root, "the top level", NULL, top_fields, TF_COUNT, v);
    if (v[TF_VERSION] && strcmp(v[TF_VERSION]->str, "1") != 0)
        sp__report(c->d, 0, v[TF_VERSION], "unsupported version '%s' (this Simpul reads 1)",
                   v[TF_VERSION]->str);
    for (size_t i = 0; v[TF_NODES] && i < v[TF_NODES]->n && rv == SP_OK; i++)
        rv = add_node(c, v[TF_NODES]->kids[i]);
    for (size_t i = 0; v[TF_ROUTES] && i < v[TF_ROUTES]->n && rv == SP_OK; i++)
        rv = add_route(c, v[TF_ROUTES]->kids[i]);
    if (v[TF_INCLUDE] && rv == SP_OK) rv = walk_includes(c, v[TF_INCLUDE], f);
    return rv;
}

/* ---- entry points ---- */

static sp_err finish(loadctx *c, sp_err rv, sp_topology **out, sp_diag_list *diags) {
    sp_topology *t = NULL;
    if (rv == SP_OK) {
        t = calloc(1, sizeof *t);
        if (!t) rv = SP_ERR_NOMEM;
    }
    for (size_t i = 0; rv == SP_OK && i < c->n_files; i++) {
        /* Nodes and routes keep their file's name: move the names into the topology. */
        const char *name = sp__arena_strdup(&t->arena, c->files[i]->src.name);
        if (!name)
            rv = SP_ERR_NOMEM;
        else
            c->files[i]->src.name = name;
    }
    if (rv == SP_OK && c->n_files) {
        t->n_files = c->n_files;
        rv = sp__topology_build(t, c->nodes, c->n_nodes, c->routes, c->n_routes, &c->files[0]->src,
                                !c->incomplete, c->d);
    }
    if (rv == SP_OK && c->d->n_errors) rv = SP_ERR_CONFIG;
    sp_err drv = sp__diags_flush(c->d, diags);
    if (rv == SP_OK && drv != SP_OK) rv = drv;
    if (rv != SP_OK) {
        sp_topology_free(t);
        t = NULL;
    }
    *out = t;
    for (size_t i = 0; i < c->n_files; i++) {
        free(c->files[i]->real);
        free(c->files[i]->buf);
    }
    free(c->files);
    free(c->nodes);
    free(c->routes);
    sp__arena_free(&c->parse);
    return rv;
}

sp_err sp_topology_load(sp_topology **out, const char *path, sp_diag_list *diags) {
    if (!out || !path) return SP_ERR_INVAL;
    sp__diags d = {0};
    loadctx c = {.d = &d};
    sp_err rv = load_file(&c, path, NULL);
    rv = finish(&c, rv, out, diags);
    sp__diags_free(&d);
    return rv;
}

sp_err sp_topology_load_buffer(sp_topology **out, const char *name, const char *buf, size_t len,
                               sp_diag_list *diags) {
    if (!out || !name || (!buf && len)) return SP_ERR_INVAL;
    sp__diags d = {0};
    loadctx c = {.d = &d};
    file *f = NULL;
    sp_err rv = add_file(&c, name, NULL, NULL, &f);
    if (rv == SP_OK) rv = parse_and_walk(&c, f, buf, len);
    rv = finish(&c, rv, out, diags);
    sp__diags_free(&d);
    return rv;
}
