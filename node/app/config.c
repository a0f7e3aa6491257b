#include "node/app/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/yaml.h"

/* The configuration and the arena its strings live in, in one allocation. */
typedef struct {
    sp_node_config cfg;
    sp__arena arena;
    char *dir; /* folder of the file, for relative paths; "" for buffers */
} config_box;

typedef enum { K_STR, K_PATH, K_URL, K_UINT, K_KEEP, K_LEVEL, K_BOOL } kind;

typedef struct {
    const char *section; /* NULL: top level */
    const char *key;
    kind kind;
    size_t offset;
    int required;
} key_spec;

#define OFF(f) offsetof(sp_node_config, f)
static const key_spec keys[] = {
    {NULL, "node", K_STR, OFF(node), 1},
    {NULL, "topology", K_PATH, OFF(topology), 1},
    {NULL, "data", K_PATH, OFF(data), 1},
    {NULL, "keys", K_PATH, OFF(keys), 1},
    {NULL, "calendar", K_PATH, OFF(calendar), 0},
    {NULL, "log_level", K_LEVEL, OFF(log_level), 0},
    {"listen", "peer", K_URL, OFF(listen_peer), 1},
    {"listen", "stream", K_URL, OFF(listen_stream), 0},
    {"listen", "replay", K_URL, OFF(listen_replay), 0},
    {"listen", "stream_ws", K_URL, OFF(listen_stream_ws), 0},
    {"listen", "replay_ws", K_URL, OFF(listen_replay_ws), 0},
    {"listen", "http", K_URL, OFF(listen_http), 0},
    {"listen", "http_plain", K_BOOL, OFF(http_plain), 0},
    {"tls", "cert", K_PATH, OFF(tls_cert), 0},
    {"tls", "http_cert", K_PATH, OFF(tls_http_cert), 0},
    {"tls", "ca", K_PATH, OFF(tls_ca), 0},
    {"replication", "keep", K_KEEP, OFF(keep_all), 0},
    {"replication", "sync_interval_ms", K_UINT, OFF(sync_interval_ms), 0},
    {"replication", "request_timeout_ms", K_UINT, OFF(request_timeout_ms), 0},
    {"replication", "push_batch", K_UINT, OFF(push_batch), 0},
    {"replication", "queue_limit", K_UINT, OFF(queue_limit), 0},
    {"limits", "rate_per_second", K_UINT, OFF(rate_per_second), 0},
    {"limits", "burst", K_UINT, OFF(rate_burst), 0},
    {"limits", "anonymous_per_second", K_UINT, OFF(anonymous_per_second), 0},
    {"limits", "anonymous_burst", K_UINT, OFF(anonymous_burst), 0},
    {"limits", "client_header", K_STR, OFF(client_header), 0},
    {"channels", "open311_api_keys", K_STR, OFF(open311_api_keys), 0},
    {"channels", "whatsapp_app_secret", K_STR, OFF(whatsapp_app_secret), 0},
    {"channels", "whatsapp_verify_token", K_STR, OFF(whatsapp_verify_token), 0},
    {"channels", "whatsapp_token", K_STR, OFF(whatsapp_token), 0},
    {"channels", "whatsapp_graph_url", K_URL, OFF(whatsapp_graph_url), 0},
    {"channels", "x_consumer_secret", K_STR, OFF(x_consumer_secret), 0},
    {"channels", "email_token", K_STR, OFF(email_token), 0},
    {"channels", "email_address", K_STR, OFF(email_address), 0},
};
#define N_KEYS (sizeof keys / sizeof *keys)
static const char *const sections[] = {"listen", "tls", "replication", "limits", "channels"};

typedef struct {
    config_box *box;
    sp__diags *d;
    int seen[N_KEYS];
} walk;

static const char *resolve(walk *w, const char *p) {
    if (p[0] == '/' || !w->box->dir[0]) return p;
    size_t n = strlen(w->box->dir) + strlen(p) + 2;
    char *out = sp__arena_alloc(&w->box->arena, n);
    if (out) snprintf(out, n, "%s/%s", w->box->dir, p);
    return out;
}

static int url_ok(const char *u) {
    static const char *const schemes[] = {"tcp://", "tls+tcp://", "ipc://",  "inproc://",
                                          "ws://",  "wss://",     "http://", "https://"};
    for (size_t i = 0; i < sizeof schemes / sizeof *schemes; i++)
        if (strncmp(u, schemes[i], strlen(schemes[i])) == 0 && u[strlen(schemes[i])]) return 1;
    return 0;
}

static void set_value(walk *w, const key_spec *k, const sp__ynode *v) {
    char *base = (char *)&w->box->cfg;
    if (v->type != SP__Y_SCALAR) {
        sp__report(w->d, 0, v, "'%s' must be a string, not %s", k->key, sp__ytype_name(v));
        return;
    }
    const char *s = v->str;
    char *end;
    switch (k->kind) {
    case K_UINT: {
        unsigned long n = strtoul(s, &end, 10);
        if (!*s || *end || n > UINT32_MAX || s[0] == '-')
            sp__report(w->d, 0, v, "'%s' must be a whole number, got '%s'", k->key, s);
        else
            *(uint32_t *)(base + k->offset) = (uint32_t)n;
        return;
    }
    case K_BOOL:
        if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0)
            sp__report(w->d, 0, v, "'%s' must be true or false, got '%s'", k->key, s);
        *(int *)(base + k->offset) = strcmp(s, "true") == 0;
        return;
    case K_KEEP:
        if (strcmp(s, "all") != 0 && strcmp(s, "region") != 0)
            sp__report(w->d, 0, v, "'keep' must be 'all' or 'region', got '%s'", s);
        *(int *)(base + k->offset) = strcmp(s, "region") != 0;
        return;
    case K_LEVEL:
        if (strcmp(s, "debug") && strcmp(s, "info") && strcmp(s, "warn") && strcmp(s, "error"))
            sp__report(w->d, 0, v, "'log_level' must be debug, info, warn or error, got '%s'", s);
        break;
    case K_URL:
        if (!url_ok(s)) sp__report(w->d, 0, v, "'%s' is not a valid address: '%s'", k->key, s);
        break;
    case K_PATH: s = resolve(w, s); break;
    case K_STR: break;
    }
    *(const char **)(base + k->offset) = s;
}

static void walk_map(walk *w, const sp__ynode *map, const char *section) {
    for (size_t i = 0; i < map->n; i++) {
        const sp__ynode *k = map->kids[2 * i], *v = map->kids[2 * i + 1];
        size_t j = 0;
        while (j < N_KEYS && !((keys[j].section == section ||
                                (section && keys[j].section && !strcmp(keys[j].section, section))) &&
                               !strcmp(keys[j].key, k->str)))
            j++;
        if (j < N_KEYS) {
            w->seen[j] = 1;
            set_value(w, &keys[j], v);
            continue;
        }
        size_t s = 0;
        while (!section && s < sizeof sections / sizeof *sections && strcmp(sections[s], k->str)) s++;
        if (section || s == sizeof sections / sizeof *sections)
            sp__report(w->d, 0, k, "unknown key '%s'%s%s", k->str, section ? " in " : "", section ? section : "");
        else if (v->type != SP__Y_MAP)
            sp__report(w->d, 0, v, "'%s' must be a mapping, not %s", k->str, sp__ytype_name(v));
        else
            walk_map(w, v, sections[s]);
    }
}

/* Whether an http(s):// URL's host is the loopback interface. */
static int loopback(const char *url) {
    const char *host = strstr(url, "://") + 3;
    static const char *const names[] = {"127.", "localhost:", "localhost/", "[::1]"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strncmp(host, names[i], strlen(names[i])) == 0) return 1;
    return strcmp(host, "localhost") == 0;
}

/* HTTPS needs its certificate; plain HTTP beyond loopback must be asked for (behind a TLS
 * proxy), since the API carries officers' tokens and citizens' identities. */
static void check_http(walk *w, const sp__ynode *root) {
    const sp_node_config *c = &w->box->cfg;
    const char *u = c->listen_http;
    if (!u) return;
    if (strncmp(u, "https://", 8) == 0 && !c->tls_http_cert)
        sp__report(w->d, 0, root, "'%s' serves HTTPS: 'tls.http_cert' (certificate chain and key, PEM) is required", u);
    else if (strncmp(u, "http://", 7) == 0 && !loopback(u) && !c->http_plain)
        sp__report(w->d, 0, root,
                   "'%s' would serve plain HTTP beyond this machine: use https:// with 'tls.http_cert', "
                   "or set 'listen.http_plain: true' when a TLS proxy in front terminates HTTPS", u);
    else if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
        sp__report(w->d, 0, root, "'listen.http' must be an http:// or https:// address, got '%s'", u);
}

static void check_required(walk *w, const sp__ynode *root) {
    for (size_t j = 0; j < N_KEYS; j++)
        if (keys[j].required && !w->seen[j])
            sp__report(w->d, 0, root, "missing required key '%s%s%s'", keys[j].section ? keys[j].section : "",
                   keys[j].section ? "." : "", keys[j].key);
    const sp_node_config *c = &w->box->cfg;
    const char *urls[] = {c->listen_peer, c->listen_stream, c->listen_replay};
    for (size_t i = 0; i < 3; i++)
        if (urls[i] && !strncmp(urls[i], "tls+", 4) && (!c->tls_cert || !c->tls_ca))
            sp__report(w->d, 0, root, "'%s' uses TLS: 'tls.cert' and 'tls.ca' are required", urls[i]);
    const char *ws[] = {c->listen_stream_ws, c->listen_replay_ws};
    for (size_t i = 0; i < 2; i++) {
        if (ws[i] && strncmp(ws[i], "ws://", 5) && strncmp(ws[i], "wss://", 6))
            sp__report(w->d, 0, root, "'%s' must be a ws:// or wss:// address", ws[i]);
        else if (ws[i] && !strncmp(ws[i], "wss://", 6) && !c->tls_http_cert)
            sp__report(w->d, 0, root, "'%s' uses TLS: 'tls.http_cert' is required", ws[i]);
    }
    if ((c->listen_stream_ws || c->listen_replay_ws) && !c->listen_stream)
        sp__report(w->d, 0, root, "'listen.stream_ws' and 'listen.replay_ws' need 'listen.stream'");
    check_http(w, root);
}

static sp_err parse(config_box *box, const char *name, const char *buf, size_t len,
                    sp_diag_list *diags) {
    sp__diags d = {0};
    sp__src src = {name, 0};
    const sp__ynode *root = NULL;
    walk w = {box, &d, {0}};
    sp_err rv = sp__yaml_parse(&root, &src, buf, len, &box->arena, &d);
    if (rv == SP_OK && (!root || root->type != SP__Y_MAP)) {
        sp__diag_add(&d, 0, name, 0, root ? root->line : 1, root ? root->col : 1,
                     "a node configuration must be a mapping of keys");
    } else if (rv == SP_OK) {
        box->cfg.keep_all = 1;
        box->cfg.rate_per_second = SP_RATE_PER_SECOND;
        box->cfg.rate_burst = SP_RATE_BURST;
        box->cfg.anonymous_per_second = SP_ANONYMOUS_PER_SECOND;
        box->cfg.anonymous_burst = SP_ANONYMOUS_BURST;
        walk_map(&w, root, NULL);
        check_required(&w, root);
    }
    int errors = d.n_errors > 0; /* read before the flush hands the diagnostics over */
    sp_err frv = sp__diags_flush(&d, diags);
    sp__diags_free(&d);
    if (rv == SP_OK && frv != SP_OK) rv = frv;
    return rv == SP_OK && errors ? SP_ERR_CONFIG : rv;
}

static sp_err load(sp_node_config **out, const char *name, const char *dir, const char *buf,
                   size_t len, sp_diag_list *diags) {
    config_box *box = calloc(1, sizeof *box);
    if (!box) return SP_ERR_NOMEM;
    box->dir = sp__arena_strdup(&box->arena, dir);
    box->cfg.path = sp__arena_strdup(&box->arena, name);
    sp_err rv = box->dir && box->cfg.path ? parse(box, box->cfg.path, buf, len, diags) : SP_ERR_NOMEM;
    if (rv != SP_OK) {
        sp_node_config_free(&box->cfg);
        return rv;
    }
    *out = &box->cfg;
    return SP_OK;
}

sp_err sp_node_config_load_buffer(sp_node_config **out, const char *name, const char *buf,
                                  size_t len, sp_diag_list *diags) {
    return load(out, name, "", buf, len, diags);
}

sp_err sp_node_config_load(sp_node_config **out, const char *path, sp_diag_list *diags) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
        return SP_ERR_IO;
    }
    char *buf = malloc(1 << 20);
    size_t len = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (!buf) return SP_ERR_NOMEM;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else strcpy(dir, ".");
    sp_err rv = load(out, path, dir, buf, len, diags);
    free(buf);
    return rv;
}

void sp_node_config_free(sp_node_config *c) {
    if (!c) return;
    config_box *box = (config_box *)c; /* cfg is the box's first member */
    sp__arena_free(&box->arena);
    free(box);
}
