/*
 * Officer tokens: the tokens.json file (atomic rewrite under an flock) and the daemon's
 * checker that re-reads it when it changes. See node/http/tokens.h.
 */
#include "node/http/tokens.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "base/file.h"
#include "base/log.h"
#include "broker/crypto.h"
#include "broker/hlc.h"

#define TOKENS_VERSION 1
#define SECRET_PREFIX "spt_"
#define PATH_CAP 4200

int sp_token_name_valid(const char *name) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > SP_TOKEN_NAME_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static void secret_hash(const char *secret, char hex[65]) {
    uint8_t h[SP_HASH_LEN];
    sp_sha256((const uint8_t *)secret, strlen(secret), NULL, 0, h);
    sp_hex(h, sizeof h, hex);
}

/* ---- reading ---- */

static sp_err token_from_json(json_t *o, sp_token *t) {
    const char *name = json_string_value(json_object_get(o, "name"));
    const char *role = json_string_value(json_object_get(o, "role"));
    const char *hash = json_string_value(json_object_get(o, "sha256"));
    memset(t, 0, sizeof *t);
    if (!sp_token_name_valid(name) || !hash || strlen(hash) != 64) return SP_ERR_CORRUPT;
    if ((t->role = sp_role_parse(role)) == SP_ROLE_UNKNOWN) return SP_ERR_CORRUPT;
    snprintf(t->name, sizeof t->name, "%s", name);
    memcpy(t->hash, hash, 65);
    t->created_ms = (uint64_t)json_integer_value(json_object_get(o, "created_ms"));
    t->revoked_ms = (uint64_t)json_integer_value(json_object_get(o, "revoked_ms"));
    return SP_OK;
}

/* Parse a tokens.json document into a fresh array. */
static sp_err parse_doc(const char *buf, size_t len, sp_token **out, size_t *n) {
    *out = NULL;
    *n = 0;
    json_error_t jerr;
    json_t *doc = json_loadb(buf, len, 0, &jerr);
    json_t *arr = doc ? json_object_get(doc, "tokens") : NULL;
    sp_err rv = json_is_array(arr) ? SP_OK : SP_ERR_CORRUPT;
    size_t cnt = rv == SP_OK ? json_array_size(arr) : 0;
    if (rv == SP_OK && !(*out = calloc(cnt ? cnt : 1, sizeof **out))) rv = SP_ERR_NOMEM;
    for (size_t i = 0; rv == SP_OK && i < cnt; i++)
        rv = token_from_json(json_array_get(arr, i), &(*out)[i]);
    json_decref(doc);
    if (rv != SP_OK) {
        free(*out);
        *out = NULL;
        return rv;
    }
    *n = cnt;
    return SP_OK;
}

/* Read the whole file at path; SP_ERR_NOT_FOUND when it does not exist. */
static sp_err read_file(const char *path, char **buf, size_t *len, struct stat *st) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? SP_ERR_NOT_FOUND : SP_ERR_IO;
    sp_err rv = fstat(fd, st) == 0 && st->st_size < (1 << 24) ? SP_OK : SP_ERR_IO;
    size_t size = rv == SP_OK ? (size_t)st->st_size : 0, got = 0;
    *buf = rv == SP_OK ? malloc(size + 1) : NULL;
    if (rv == SP_OK && !*buf) rv = SP_ERR_NOMEM;
    while (rv == SP_OK && got < size) {
        ssize_t r = read(fd, *buf + got, size - got);
        if (r <= 0)
            rv = SP_ERR_IO;
        else
            got += (size_t)r;
    }
    close(fd);
    if (rv != SP_OK) {
        free(*buf);
        *buf = NULL;
        return rv;
    }
    (*buf)[size] = '\0';
    *len = size;
    return SP_OK;
}

static void file_path(char *out, const char *data_dir, const char *name) {
    snprintf(out, PATH_CAP, "%s/%s", data_dir, name);
}

sp_err sp_tokens_list(const char *data_dir, sp_token **out, size_t *n) {
    char path[PATH_CAP], *buf = NULL;
    size_t len = 0;
    struct stat st;
    file_path(path, data_dir, SP_TOKEN_FILE);
    sp_err rv = read_file(path, &buf, &len, &st);
    if (rv == SP_ERR_NOT_FOUND) {
        *n = 0;
        return (*out = calloc(1, sizeof **out)) ? SP_OK : SP_ERR_NOMEM;
    }
    if (rv == SP_OK) rv = parse_doc(buf, len, out, n);
    free(buf);
    return rv;
}

/* ---- writing ---- */

static json_t *doc_json(const sp_token *v, size_t n) {
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:I}", "name", v[i].name, "role", sp_role_name(v[i].role),
                      "sha256", v[i].hash, "created_ms", (json_int_t)v[i].created_ms);
        if (o && v[i].revoked_ms)
            json_object_set_new(o, "revoked_ms", json_integer((json_int_t)v[i].revoked_ms));
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr ? json_pack("{s:i, s:o}", "version", TOKENS_VERSION, "tokens", arr) : NULL;
}

/* Replace tokens.json atomically with v[0..n), mode 0600. */
static sp_err save(const char *data_dir, const sp_token *v, size_t n) {
    char path[PATH_CAP];
    file_path(path, data_dir, SP_TOKEN_FILE);
    json_t *doc = doc_json(v, n);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    json_decref(doc);
    if (!text) return SP_ERR_NOMEM;
    size_t len = strlen(text);
    text[len] = '\n'; /* json_dumps' NUL: the file ends with a newline instead */
    sp_err rv = sp_file_replace(path, data_dir, text, len + 1, 0600);
    if (rv != SP_OK) sp_log_error("tokens.save", "file=%s error=\"%s\"", path, strerror(errno));
    free(text);
    return rv;
}

/* Exclusive lock on DATA/tokens.lock (creating DATA if needed); returns the fd or -1. */
static int lock_dir(const char *data_dir) {
    char path[PATH_CAP];
    if (mkdir(data_dir, 0700) != 0 && errno != EEXIST) return -1;
    file_path(path, data_dir, "tokens.lock");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0 && flock(fd, LOCK_EX) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static long find(const sp_token *v, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0) return (long)i;
    return -1;
}

static sp_err new_secret(char secret[SP_TOKEN_SECRET_LEN + 1]) {
    uint8_t raw[32];
    sp_err rv = sp_random(raw, sizeof raw);
    if (rv != SP_OK) return rv;
    memcpy(secret, SECRET_PREFIX, 4);
    sp_hex(raw, sizeof raw, secret + 4);
    memset(raw, 0, sizeof raw);
    return SP_OK;
}

sp_err sp_tokens_create(const char *data_dir, const char *name, sp_role role,
                        char secret[SP_TOKEN_SECRET_LEN + 1]) {
    if (!sp_token_name_valid(name) || role <= SP_ROLE_UNKNOWN || role >= SP_ROLE_SYSTEM)
        return SP_ERR_INVAL;
    int lock = lock_dir(data_dir);
    if (lock < 0) return SP_ERR_IO;
    sp_token *v = NULL, *grown;
    size_t n = 0;
    sp_err rv = sp_tokens_list(data_dir, &v, &n);
    if (rv == SP_OK && find(v, n, name) >= 0) rv = SP_ERR_EXISTS;
    if (rv == SP_OK && !(grown = realloc(v, (n + 1) * sizeof *v))) rv = SP_ERR_NOMEM;
    if (rv == SP_OK) {
        v = grown;
        memset(&v[n], 0, sizeof v[n]);
        snprintf(v[n].name, sizeof v[n].name, "%s", name);
        v[n].role = role;
        v[n].created_ms = sp_wall_ms();
        rv = new_secret(secret);
    }
    if (rv == SP_OK) {
        secret_hash(secret, v[n].hash);
        rv = save(data_dir, v, n + 1);
    }
    if (rv != SP_OK && secret) memset(secret, 0, SP_TOKEN_SECRET_LEN + 1);
    free(v);
    close(lock); /* releases the flock */
    return rv;
}

sp_err sp_tokens_revoke(const char *data_dir, const char *name) {
    int lock = lock_dir(data_dir);
    if (lock < 0) return SP_ERR_IO;
    sp_token *v = NULL;
    size_t n = 0;
    sp_err rv = sp_tokens_list(data_dir, &v, &n);
    long i = rv == SP_OK ? find(v, n, name) : -1;
    if (rv == SP_OK && i < 0) rv = SP_ERR_NOT_FOUND;
    if (rv == SP_OK && v[i].revoked_ms) rv = SP_ERR_EXISTS;
    if (rv == SP_OK) {
        v[i].revoked_ms = sp_wall_ms();
        rv = save(data_dir, v, n);
    }
    free(v);
    close(lock);
    return rv;
}

/* ---- the daemon's checker ---- */

struct sp_tokens {
    pthread_mutex_t lock;
    char path[PATH_CAP];
    struct stat seen; /* identity of the file last read; st_ino 0: none yet */
    int loaded, broken;
    sp_token *v;
    size_t n;
};

sp_err sp_tokens_open(sp_tokens **out, const char *data_dir) {
    sp_tokens *t = calloc(1, sizeof *t);
    if (!t) return SP_ERR_NOMEM;
    pthread_mutex_init(&t->lock, NULL);
    file_path(t->path, data_dir, SP_TOKEN_FILE);
    *out = t;
    return SP_OK;
}

void sp_tokens_close(sp_tokens *t) {
    if (!t) return;
    pthread_mutex_destroy(&t->lock);
    free(t->v);
    free(t);
}

static int same_file(const struct stat *a, const struct stat *b) {
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Re-read the file if it changed since the last read. Called with the lock held. */
static void refresh(sp_tokens *t) {
    struct stat st;
    if (stat(t->path, &st) != 0) {
        if (t->n || !t->loaded) sp_log_info("tokens.reload", "file=%s tokens=0", t->path);
        free(t->v);
        t->v = NULL;
        t->n = 0;
        t->loaded = 1;
        t->broken = errno != ENOENT;
        memset(&t->seen, 0, sizeof t->seen);
        return;
    }
    if (t->loaded && same_file(&st, &t->seen)) return;
    char *buf = NULL;
    size_t len = 0;
    sp_token *v = NULL;
    size_t n = 0;
    sp_err rv = read_file(t->path, &buf, &len, &st);
    if (rv == SP_OK) rv = parse_doc(buf, len, &v, &n);
    free(buf);
    t->loaded = 1;
    t->seen = st;
    if (rv != SP_OK) {
        sp_log_error("tokens.reload", "file=%s error=\"%s\" detail=\"every token refused\"",
                     t->path, sp_strerror(rv));
        t->broken = 1;
        return;
    }
    free(t->v);
    t->v = v;
    t->n = n;
    t->broken = 0;
    sp_log_info("tokens.reload", "file=%s tokens=%zu", t->path, n);
}

/* Compare two hex hashes without an early exit. */
static int hash_eq(const char *a, const char *b) {
    unsigned diff = 0;
    for (size_t i = 0; i < 64; i++)
        diff |= (unsigned)(a[i] ^ b[i]);
    return diff == 0;
}

sp_err sp_tokens_check(sp_tokens *t, const char *secret, sp_token *out) {
    if (!secret || strlen(secret) != SP_TOKEN_SECRET_LEN || strncmp(secret, SECRET_PREFIX, 4) != 0)
        return SP_ERR_AUTH;
    char hex[65];
    secret_hash(secret, hex);
    pthread_mutex_lock(&t->lock);
    refresh(t);
    sp_err rv = t->broken ? SP_ERR_CORRUPT : SP_ERR_AUTH;
    for (size_t i = 0; !t->broken && i < t->n; i++) {
        if (!hash_eq(t->v[i].hash, hex)) continue;
        if (!t->v[i].revoked_ms) {
            *out = t->v[i];
            rv = SP_OK;
        }
        break;
    }
    pthread_mutex_unlock(&t->lock);
    return rv;
}
