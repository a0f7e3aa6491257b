/*
 * sp_fixture: set up and start a real node in this process (node_fixture.h). Requests to it
 * are in node_fixture_http.c.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "tests/integration/node_fixture.h"

#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker/crypto.h"

#define SELF "kota-3577"

/* ---- files ---- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void rm_tree(const char *dir) {
    if (dir[0]) nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* /dev/shm when there is one: fsync there costs nothing, and the fuzz target commits often. */
static sp_err make_dir(sp_fixture *f) {
    const char *base = getenv("SP_FIXTURE_TMP");
    struct stat st;
    if (!base) base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : NULL;
    if (!base) base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(f->dir, sizeof f->dir, "%s/simpul-fixture-XXXXXX", base);
    if (!mkdtemp(f->dir)) {
        fprintf(stderr, "fixture: mkdtemp %s: %s\n", f->dir, strerror(errno));
        f->dir[0] = '\0';
        return SP_ERR_IO;
    }
    char keys[300];
    snprintf(keys, sizeof keys, "%s/keys", f->dir);
    return mkdir(keys, 0700) == 0 ? SP_OK : SP_ERR_IO;
}

static sp_err write_file(const sp_fixture *f, const char *name, const char *text) {
    char path[300];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    FILE *fp = fopen(path, "w");
    if (!fp) return SP_ERR_IO;
    int ok = fputs(text, fp) >= 0;
    ok = fclose(fp) == 0 && ok;
    return ok ? SP_OK : SP_ERR_IO;
}

/* ---- keys and topology ---- */

/* A fresh key pair; its base64 public key into b64; the private key saved as keys/NAME.key
 * (and NAME.pub) when name is not NULL. */
static sp_err new_key(const sp_fixture *f, sp_key_type type, const char *name, char b64[64]) {
    sp_key *k = NULL;
    uint8_t raw[SP_PUBKEY_LEN];
    char priv[300], pub[300];
    sp_err rv = sp_key_generate(&k, type);
    if (rv == SP_OK && name) {
        snprintf(priv, sizeof priv, "%s/keys/%s.key", f->dir, name);
        snprintf(pub, sizeof pub, "%s/keys/%s.pub", f->dir, name);
        rv = sp_key_save_private_pem(k, priv);
        if (rv == SP_OK) rv = sp_key_save_public_pem(k, pub);
    }
    if (rv == SP_OK) rv = sp_key_raw_public(k, raw);
    if (rv == SP_OK) sp_base64_encode(raw, SP_PUBKEY_LEN, b64);
    sp_key_free(k);
    return rv;
}

static const struct {
    const char *id, *rest; /* rest: the node's other YAML lines */
} nodes[] = {
    {"national", "    kind: national\n    name: Kementerian PANRB\n"},
    {"kemenkes", "    kind: ministry\n    name: Kementerian Kesehatan\n    parent: national\n"},
    {"prov-35", "    kind: province\n    code: \"35\"\n    name: Jawa Timur\n"
                "    parent: national\n    sms_keywords: [JawaTimur]\n"},
    {SELF, "    kind: kota\n    code: \"35.77\"\n    name: Kota Madiun\n    parent: prov-35\n"
           "    sms_keywords: [KotaMadiun]\n"},
    {"opd-3577-pupr", "    kind: opd\n    name: Dinas PUPR Kota Madiun\n    parent: " SELF "\n"},
};

static const char routes[] =
    "routes:\n"
    "  - {category: infrastruktur/pju, region: \"35.77\", agency: opd-3577-pupr}\n"
    "  - {category: infrastruktur, region: \"35.77\", agency: opd-3577-pupr}\n"
    "  - {category: kesehatan, agency: kemenkes}\n";

/* The topology, with fresh keys for every node; this node's private keys go to keys/. */
static sp_err write_topology(const sp_fixture *f) {
    char text[8192];
    size_t k = (size_t)snprintf(text, sizeof text, "version: 1\nnodes:\n");
    sp_err rv = SP_OK;
    for (size_t i = 0; rv == SP_OK && i < sizeof nodes / sizeof *nodes; i++) {
        int self = strcmp(nodes[i].id, SELF) == 0;
        char sign[64], seal[64];
        rv = new_key(f, SP_KEY_ED25519, self ? "node" : NULL, sign);
        if (rv == SP_OK) rv = new_key(f, SP_KEY_X25519, self ? "seal" : NULL, seal);
        k += (size_t)snprintf(text + k, sizeof text - k,
                              "  - id: %s\n%s    address: tcp://127.0.0.1:%zu\n"
                              "    sign_key: %s\n    seal_key: %s\n",
                              nodes[i].id, nodes[i].rest, i + 1, sign, seal);
    }
    snprintf(text + k, sizeof text - k, "%s", routes);
    return rv == SP_OK ? write_file(f, "topology.yaml", text) : rv;
}

/* The peers' addresses in the topology are ports 1-5 of loopback, where nobody listens: a
 * short request timeout lets the start-up's wait for the peers' copy of our feed end at once,
 * and a long interval keeps the peer threads quiet. No rate limits: the fuzzer and the HTTP
 * bench are one client sending as fast as they can (ratelimit_test covers the limits). */
static sp_err write_config(const sp_fixture *f, const char *log_level) {
    char text[640];
    snprintf(text, sizeof text,
             "node: " SELF "\ntopology: topology.yaml\ndata: data\nkeys: keys\n"
             "listen:\n  peer: tcp://127.0.0.1:0\nreplication:\n  request_timeout_ms: 100\n"
             "  sync_interval_ms: 600000\nlimits:\n  rate_per_second: 0\n  anonymous_per_second: 0\n"
             "log_level: %s\n",
             log_level ? log_level : "warn");
    return write_file(f, "node.yaml", text);
}

static sp_err make_tokens(sp_fixture *f) {
    char data[300];
    snprintf(data, sizeof data, "%s/data", f->dir);
    sp_err rv = sp_tokens_create(data, "fixture-admin", SP_ROLE_ADMIN_KOORDINATOR, f->admin);
    if (rv == SP_OK) rv = sp_tokens_create(data, "fixture-app", SP_ROLE_REPORTER, f->reporter);
    if (rv == SP_OK)
        rv = sp_tokens_create(data, "fixture-gone", SP_ROLE_ADMIN_KOORDINATOR, f->revoked);
    if (rv == SP_OK) rv = sp_tokens_revoke(data, "fixture-gone");
    return rv;
}

/* ---- the node ---- */

/* HTTP on a free port chosen at random below the ephemeral range (like free_base.py), so
 * that tests running in parallel do not collide; a port taken meanwhile is retried. */
static sp_err start_http(sp_fixture *f) {
    f->cfg = *sp_daemon_get_parts(f->daemon)->cfg;
    f->parts = *sp_daemon_get_parts(f->daemon);
    f->parts.cfg = &f->cfg;
    unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    sp_err rv = SP_ERR_NET;
    for (int i = 0; i < 40 && rv == SP_ERR_NET; i++) {
        f->port = 20000 + (int)(rand_r(&seed) % 12000);
        snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d", f->port);
        f->cfg.listen_http = f->url;
        rv = sp_http_start(&f->http, &f->parts);
    }
    return rv;
}

sp_err sp__fixture_seed(sp_fixture *f); /* node_fixture_http.c */

sp_err sp_fixture_start(sp_fixture *f, const char *log_level) {
    memset(f, 0, sizeof *f);
    char config[300];
    sp_err rv = make_dir(f);
    if (rv == SP_OK) rv = write_topology(f);
    if (rv == SP_OK) rv = write_config(f, log_level);
    if (rv == SP_OK) rv = make_tokens(f);
    snprintf(config, sizeof config, "%s/node.yaml", f->dir);
    if (rv == SP_OK) rv = sp_daemon_start(&f->daemon, config);
    if (rv == SP_OK) rv = start_http(f);
    if (rv == SP_OK) rv = sp__fixture_seed(f);
    if (rv != SP_OK) {
        fprintf(stderr, "fixture: cannot start a node in %s: %s\n", f->dir, sp_strerror(rv));
        sp_fixture_stop(f);
    }
    return rv;
}

void sp_fixture_stop(sp_fixture *f) {
    sp_http_stop(f->http);
    f->http = NULL;
    sp_daemon_stop(f->daemon);
    f->daemon = NULL;
    rm_tree(f->dir);
    f->dir[0] = '\0';
}

void sp_fixture_res_free(sp_fixture_res *r) {
    if (!r) return;
    free(r->body);
    r->body = NULL;
    r->len = 0;
}
