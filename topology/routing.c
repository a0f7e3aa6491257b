/*
 * Routing rules: which agency handles a complaint category in a region. Rules are stored under
 * their label "category@region" (region "national" for rules without one), so a lookup is a
 * handful of hash probes: for each region level from the most specific (regency, province,
 * national) and, within it, each category level from the most specific (a/b, a, "*"), the
 * first rule found wins. With none, the region's responsible node handles the complaint.
 */
#include <stdio.h>
#include <string.h>

#include "topology/topology_int.h"

#define MAX_CATEGORY_LEN 128
#define NATIONAL_REGION "national"

/* "*" or lower-case segments [a-z0-9][a-z0-9_-]* joined by '/'. */
static int category_ok(const char *c) {
    size_t n = strlen(c);
    if (strcmp(c, "*") == 0) return 1;
    if (n == 0 || n > MAX_CATEGORY_LEN) return 0;
    int start = 1;
    for (; *c; c++) {
        unsigned char ch = (unsigned char)*c;
        int alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        if (ch == '/') {
            if (start) return 0;
            start = 1;
            continue;
        }
        if (!(alnum || (!start && (ch == '-' || ch == '_')))) return 0;
        start = 0;
    }
    return !start;
}

static void make_label(char *buf, size_t cap, const char *category, const char *region) {
    snprintf(buf, cap, "%s@%s", category, region ? region : NATIONAL_REGION);
}

static int check_rule(sp_topology *t, const sp__rawroute *r, sp__diags *d) {
    int ok = 1;
    size_t i = 0;
    if (!category_ok(r->category->str)) {
        sp__report(d, 0, r->category,
                   "bad category '%s': use \"*\" or lower-case words joined "
                   "by '/', like \"infrastruktur/pju\"",
                   r->category->str);
        ok = 0;
    }
    if (r->region && !sp__code_level(r->region->str)) {
        sp__report(d, 0, r->region, "bad region '%s': expected \"NN\" or \"NN.NN\"",
                   r->region->str);
        ok = 0;
    } else if (r->region && !sp_idmap_get(&t->by_region, r->region->str, &i)) {
        sp__report(d, 0, r->region,
                   "routing rule names unknown region '%s' (no province, "
                   "kabupaten or kota has this code)",
                   r->region->str);
        ok = 0;
    }
    if (!sp_idmap_get(&t->by_id, r->agency->str, &i)) {
        sp__report(d, 0, r->agency, "routing rule names unknown agency '%s'", r->agency->str);
        ok = 0;
    }
    return ok;
}

static sp_err add_rule(sp_topology *t, const sp__rawroute *r, sp__diags *d) {
    char label[MAX_CATEGORY_LEN + 32];
    size_t agency = 0, first = 0;
    sp_idmap_get(&t->by_id, r->agency->str, &agency);
    make_label(label, sizeof label, r->category->str, r->region ? r->region->str : NULL);
    sp_topo_route *rt = &t->routes[t->n_routes];
    rt->label = sp__arena_strdup(&t->arena, label);
    rt->category = sp__arena_strdup(&t->arena, r->category->str);
    rt->region = r->region ? sp__arena_strdup(&t->arena, r->region->str) : NULL;
    if (!rt->label || !rt->category || (r->region && !rt->region)) return SP_ERR_NOMEM;
    rt->agency = &t->nodes[agency];
    rt->file = r->at->src->name; /* load.c gives sources names in t's arena */
    rt->line = r->at->line;
    rt->col = r->at->col;
    sp_err rv = sp_idmap_put(&t->by_rule, rt->label, t->n_routes, &first);
    if (rv == SP_ERR_EXISTS) {
        const sp_topo_route *f = &t->routes[first];
        sp__report(d, 0, r->at, "duplicate routing rule for '%s' in %s (first at %s:%u:%u)",
                   rt->category, rt->region ? rt->region : NATIONAL_REGION, f->file,
                   (unsigned)f->line, (unsigned)f->col);
        return SP_OK;
    }
    if (rv != SP_OK) return rv;
    t->n_routes++;
    return SP_OK;
}

sp_err sp__routes_build(sp_topology *t, const sp__rawroute *routes, size_t n, sp__diags *d) {
    t->routes = sp__arena_alloc(&t->arena, (n ? n : 1) * sizeof *t->routes);
    if (!t->routes) return SP_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!check_rule(t, &routes[i], d)) continue;
        sp_err rv = add_rule(t, &routes[i], d);
        if (rv != SP_OK) return rv;
    }
    return SP_OK;
}

/* ---- queries ---- */

const sp_topo_node *sp_topology_responsible(const sp_topology *t, const char *region_code) {
    size_t i = 0;
    char province[3];
    if (!region_code || !*region_code) return t->national;
    int level = sp__code_level(region_code);
    if (!level) return NULL;
    if (sp_idmap_get(&t->by_region, region_code, &i)) return &t->nodes[i];
    if (level == 1) return NULL;
    memcpy(province, region_code, 2);
    province[2] = '\0';
    return sp_idmap_get(&t->by_region, province, &i) ? &t->nodes[i] : NULL;
}

/* Tries category, its parents and "*" in one region; returns the rule or NULL. */
static const sp_topo_route *match_in_region(const sp_topology *t, const char *category,
                                            const char *region) {
    char cat[MAX_CATEGORY_LEN + 1], label[MAX_CATEGORY_LEN + 32];
    size_t i = 0;
    snprintf(cat, sizeof cat, "%s", category);
    for (;;) {
        make_label(label, sizeof label, cat, region);
        if (sp_idmap_get(&t->by_rule, label, &i)) return &t->routes[i];
        if (strcmp(cat, "*") == 0) return NULL;
        char *slash = strrchr(cat, '/');
        if (slash)
            *slash = '\0';
        else
            strcpy(cat, "*");
    }
}

sp_err sp_topology_route(const sp_topology *t, const char *category, const char *region_code,
                         const sp_topo_node **agency_out, const char **rule_out) {
    if (!t || !category || !agency_out || !category_ok(category)) return SP_ERR_INVAL;
    int level = region_code && *region_code ? sp__code_level(region_code) : 0;
    if (region_code && *region_code && !level) return SP_ERR_INVAL;
    const sp_topo_node *home = sp_topology_responsible(t, region_code);
    if (!home) return SP_ERR_NOT_FOUND;
    char province[3] = {0};
    if (level) memcpy(province, region_code, 2);
    const char *regions[3] = {NULL, NULL, NULL}; /* most specific first; NULL = national */
    size_t n = 0;
    if (level == 2) regions[n++] = region_code;
    if (level) regions[n++] = province;
    regions[n++] = NULL;
    for (size_t k = 0; k < n; k++) {
        const sp_topo_route *r = match_in_region(t, category, regions[k]);
        if (!r) continue;
        *agency_out = r->agency;
        if (rule_out) *rule_out = r->label;
        return SP_OK;
    }
    *agency_out = home;
    if (rule_out) *rule_out = "default";
    return SP_OK;
}

size_t sp_topology_route_count(const sp_topology *t) {
    return t->n_routes;
}

const sp_topo_route *sp_topology_route_at(const sp_topology *t, size_t i) {
    return i < t->n_routes ? &t->routes[i] : NULL;
}
