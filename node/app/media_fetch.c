/* WhatsApp media from the Graph API (node/app/media_fetch.h). */
#include "node/app/media_fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/tls/tls.h>
#include <openssl/evp.h>

#include "base/log.h"
#include "broker/crypto.h"

#define CA_FILE "/etc/ssl/certs/ca-certificates.crt"

static int set_tls(nng_http_client *cli, const nng_url *url) {
    if (strcmp(url->u_scheme, "https") != 0) return 0;
    nng_tls_config *tls;
    int rv = nng_tls_config_alloc(&tls, NNG_TLS_MODE_CLIENT);
    if (rv != 0) return rv;
    if ((rv = nng_tls_config_ca_file(tls, CA_FILE)) == 0 &&
        (rv = nng_tls_config_server_name(tls, url->u_hostname)) == 0 &&
        (rv = nng_tls_config_auth_mode(tls, NNG_TLS_AUTH_MODE_REQUIRED)) == 0)
        rv = nng_http_client_set_tls(cli, tls);
    nng_tls_config_free(tls); /* the client holds its own reference */
    return rv;
}

/* One GET of url with the bearer token; the body (copied) into *body. */
static sp_err get(const sp_media_source *src, const char *where, uint8_t **body, size_t *n) {
    nng_url *url = NULL;
    nng_http_client *cli = NULL;
    nng_http_req *req = NULL;
    nng_http_res *res = NULL;
    nng_aio *aio = NULL;
    char auth[1024];
    snprintf(auth, sizeof auth, "Bearer %s", src->token);
    int rv = nng_url_parse(&url, where);
    if (rv == 0) rv = nng_http_client_alloc(&cli, url);
    if (rv == 0) rv = set_tls(cli, url);
    if (rv == 0) rv = nng_http_req_alloc(&req, url);
    if (rv == 0) rv = nng_http_req_set_header(req, "Authorization", auth);
    if (rv == 0) rv = nng_http_res_alloc(&res);
    if (rv == 0) rv = nng_aio_alloc(&aio, NULL, NULL);
    if (rv == 0) {
        nng_aio_set_timeout(aio, (nng_duration)src->timeout_ms);
        nng_http_client_transact(cli, req, res, aio);
        nng_aio_wait(aio);
        rv = nng_aio_result(aio);
    }
    sp_err out = rv == 0 ? SP_OK : rv == NNG_ENOMEM ? SP_ERR_NOMEM : SP_ERR_NET;
    if (rv != 0) sp_log_warn("media.fetch", "url=%s error=\"%s\"", where, nng_strerror(rv));
    if (out == SP_OK && nng_http_res_get_status(res) != 200) {
        sp_log_warn("media.fetch", "url=%s status=%u", where, nng_http_res_get_status(res));
        out = SP_ERR_NET;
    }
    void *data = NULL;
    size_t len = 0;
    if (out == SP_OK) nng_http_res_get_data(res, &data, &len);
    if (out == SP_OK && len > src->max_bytes) out = SP_ERR_TOO_BIG;
    if (out == SP_OK && !(*body = malloc(len ? len : 1))) out = SP_ERR_NOMEM;
    if (out == SP_OK) {
        memcpy(*body, data, len);
        *n = len;
    }
    nng_aio_free(aio);
    nng_http_res_free(res);
    nng_http_req_free(req);
    nng_http_client_free(cli);
    nng_url_free(url);
    return out;
}

/* The Graph API's description of the media: {"url", "mime_type", "sha256", "file_size"}. */
static sp_err describe(const sp_media_source *src, const char *media_id, char **url,
                       char media_type[SP_MEDIA_TYPE_MAX + 1]) {
    char where[1024];
    uint8_t *body;
    size_t n;
    if (strspn(media_id, "0123456789") != strlen(media_id) || !*media_id) return SP_ERR_DECODE;
    snprintf(where, sizeof where, "%s/%s", src->graph_url, media_id);
    sp_err rv = get(src, where, &body, &n);
    if (rv != SP_OK) return rv;
    json_t *root = json_loadb((const char *)body, n, 0, NULL);
    free(body);
    const char *u = json_string_value(json_object_get(root, "url"));
    const char *t = json_string_value(json_object_get(root, "mime_type"));
    rv = u && (strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0) ? SP_OK
                                                                                : SP_ERR_DECODE;
    if (rv == SP_OK && !(*url = strdup(u))) rv = SP_ERR_NOMEM;
    snprintf(media_type, SP_MEDIA_TYPE_MAX + 1, "%s",
             t && strlen(t) <= SP_MEDIA_TYPE_MAX ? t : "application/octet-stream");
    json_decref(root);
    return rv;
}

/* Meta writes the digest in base64 in webhooks; hex is accepted too. */
static int digest_matches(const uint8_t *data, size_t n, const char *want) {
    uint8_t h[SP_HASH_LEN];
    char hex[2 * SP_HASH_LEN + 1], b64[48];
    sp_sha256(data, n, NULL, 0, h);
    sp_hex(h, SP_HASH_LEN, hex);
    EVP_EncodeBlock((unsigned char *)b64, h, SP_HASH_LEN);
    return strcasecmp(hex, want) == 0 || strcmp(b64, want) == 0;
}

sp_err sp_media_fetch(const sp_media_source *src, const char *media_id, const char *sha256_hex,
                      uint8_t **data, size_t *len, char media_type[SP_MEDIA_TYPE_MAX + 1]) {
    char *url = NULL;
    *data = NULL;
    *len = 0;
    sp_err rv = describe(src, media_id, &url, media_type);
    if (rv == SP_OK) rv = get(src, url, data, len);
    free(url);
    if (rv == SP_OK && sha256_hex && *sha256_hex && !digest_matches(*data, *len, sha256_hex))
        rv = SP_ERR_CORRUPT;
    if (rv != SP_OK) {
        free(*data);
        *data = NULL;
        *len = 0;
    }
    return rv;
}
