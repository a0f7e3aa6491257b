#include "broker/tls_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "base/log.h"

/* The first verification failure of the peer's chain, as the verify callback saw it. */
typedef struct {
    int err; /* X509_V_OK when none */
    char subject[128];
    char not_before[40], not_after[40];
} verify_note;

static int note_index = -1;
static pthread_once_t note_once = PTHREAD_ONCE_INIT;

static void note_index_init(void) {
    note_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* ---- TCP ---- */

/* host and port of a tls+tcp URL ("[::1]:7500" too). */
static sp_err split_url(const char *url, char host[256], char port[16]) {
    const char *p = strstr(url, "://");
    if (strncmp(url, "tls+tcp", 7) != 0 || !p) return SP_ERR_CONFIG;
    p += 3;
    const char *colon = strrchr(p, ':');
    if (!colon || colon == p || strlen(colon + 1) == 0 || strlen(colon + 1) >= 16)
        return SP_ERR_CONFIG;
    size_t hlen = (size_t)(colon - p);
    if (p[0] == '[' && hlen >= 2 && p[hlen - 1] == ']') p++, hlen -= 2;
    if (hlen == 0 || hlen >= 256) return SP_ERR_CONFIG;
    memcpy(host, p, hlen);
    host[hlen] = '\0';
    strcpy(port, colon + 1);
    return SP_OK;
}

/* A connected socket with send/receive timeouts, or -1 (errno set). */
static int connect_with_timeout(const struct addrinfo *ai, uint32_t timeout_ms) {
    struct timeval tv = {(time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000};
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol), err = 0;
    socklen_t len = sizeof err;
    if (fd < 0) return -1;
    int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) goto fail;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        struct pollfd pfd = {fd, POLLOUT, 0};
        if (errno != EINPROGRESS) goto fail;
        int n = poll(&pfd, 1, (int)timeout_ms);
        if (n == 0) errno = ETIMEDOUT;
        if (n <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) goto fail;
        if (err) {
            errno = err;
            goto fail;
        }
    }
    if (fcntl(fd, F_SETFL, flags) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
        goto fail;
    return fd;
fail:
    err = errno;
    close(fd);
    errno = err;
    return -1;
}

static int dial(const char *host, const char *port, uint32_t timeout_ms, char *why, size_t cap) {
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int rv = getaddrinfo(host, port, &hints, &res), fd = -1;
    if (rv != 0) {
        snprintf(why, cap, "cannot resolve %s: %s", host, gai_strerror(rv));
        return -1;
    }
    errno = 0;
    for (const struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        errno = 0;
        fd = connect_with_timeout(ai, timeout_ms);
    }
    if (fd < 0) snprintf(why, cap, "cannot connect to %s:%s: %s", host, port, strerror(errno));
    freeaddrinfo(res);
    return fd;
}

/* ---- OpenSSL ---- */

static void time_text(const ASN1_TIME *t, char out[40]) {
    BIO *b = BIO_new(BIO_s_mem());
    int n = b && ASN1_TIME_print(b, t) == 1 ? BIO_read(b, out, 39) : 0;
    out[n > 0 ? n : 0] = '\0';
    BIO_free(b);
}

/* Note the first failure and carry on: the rest of the handshake tells whether the peer would
 * also refuse us. This connection is only a diagnosis; nothing is sent over it. */
static int verify_cb(int ok, X509_STORE_CTX *x) {
    SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
    verify_note *note = ssl ? SSL_get_ex_data(ssl, note_index) : NULL;
    if (ok || !note || note->err != X509_V_OK) return 1;
    X509 *cert = X509_STORE_CTX_get_current_cert(x);
    note->err = X509_STORE_CTX_get_error(x);
    if (cert) {
        X509_NAME_oneline(X509_get_subject_name(cert), note->subject, sizeof note->subject);
        time_text(X509_get0_notBefore(cert), note->not_before);
        time_text(X509_get0_notAfter(cert), note->not_after);
    }
    return 1;
}

static SSL_CTX *client_ctx(const char *cert_key_file, const char *ca_file) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) return NULL;
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_key_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, cert_key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
        char err[160];
        ERR_error_string_n(ERR_get_error(), err, sizeof err);
        sp_log_error("tls.probe", "cert=%s ca=%s error=\"%s\"", cert_key_file, ca_file, err);
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
    return ctx;
}

/* Our sentence for the first verification failure of the peer's certificate. */
static void describe_refusal(const verify_note *n, const char *peer, char *out, size_t cap) {
    const char *what;
    char buf[160];
    switch (n->err) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
        what = "not signed by the federation CA";
        break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
        snprintf(buf, sizeof buf, "expired (not after %s)", n->not_after);
        what = buf;
        break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        snprintf(buf, sizeof buf, "not valid yet (not before %s)", n->not_before);
        what = buf;
        break;
    case X509_V_ERR_HOSTNAME_MISMATCH:
        snprintf(buf, sizeof buf, "issued to another name than %s", peer);
        what = buf;
        break;
    default:
        what = "refused";
        break;
    }
    snprintf(out, cap, "%s (subject %s; OpenSSL: %s)", what, n->subject[0] ? n->subject : "-",
             X509_verify_cert_error_string(n->err));
}

/* A TLS alert the peer sent, from OpenSSL's error queue: its code, or -1. */
static int peer_alert(void) {
    unsigned long e;
    int alert = -1;
    while ((e = ERR_get_error()) != 0)
        if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) >= SSL_AD_REASON_OFFSET)
            alert = ERR_GET_REASON(e) - SSL_AD_REASON_OFFSET;
    return alert;
}

static int is_certificate_alert(int alert) {
    switch (alert) {
    case SSL_AD_BAD_CERTIFICATE:
    case SSL_AD_UNSUPPORTED_CERTIFICATE:
    case SSL_AD_CERTIFICATE_REVOKED:
    case SSL_AD_CERTIFICATE_EXPIRED:
    case SSL_AD_CERTIFICATE_UNKNOWN:
    case SSL_AD_UNKNOWN_CA:
    case SSL_AD_ACCESS_DENIED:
    case 116: /* certificate_required (TLS 1.3) */
        return 1;
    default:
        return 0;
    }
}

/* After our side accepted the peer: did the peer accept us? In TLS 1.3 its verdict on our
 * certificate comes after SSL_connect; an NNG peer then sends its 8-byte SP header. */
static void judge_peer_side(SSL *ssl, int connected, sp_tls_probe_result *out) {
    unsigned char hdr[8];
    int alert = connected ? (SSL_read(ssl, hdr, sizeof hdr) > 0 ? -1 : peer_alert()) : peer_alert();
    if (alert >= 0 && is_certificate_alert(alert)) {
        out->verdict = SP_TLS_PROBE_OUR_CERT;
        snprintf(out->reason, sizeof out->reason, "refused our certificate (TLS alert: %s)",
                 SSL_alert_desc_string_long(alert));
    } else if (alert >= 0 || !connected) {
        out->verdict = SP_TLS_PROBE_FAILED;
        snprintf(out->reason, sizeof out->reason, "TLS handshake failed (%s%s)",
                 alert >= 0 ? "TLS alert: " : "no alert, the connection ended",
                 alert >= 0 ? SSL_alert_desc_string_long(alert) : "");
    } else {
        out->verdict = SP_TLS_PROBE_OK;
        snprintf(out->reason, sizeof out->reason,
                 "a TLS handshake with the same certificates succeeds now");
    }
}

static sp_err handshake(SSL_CTX *ctx, int fd, const char *peer, sp_tls_probe_result *out) {
    verify_note note = {X509_V_OK, "", "", ""};
    SSL *ssl = SSL_new(ctx);
    if (!ssl) return SP_ERR_NOMEM;
    SSL_set_ex_data(ssl, note_index, &note);
    X509_VERIFY_PARAM_set1_host(SSL_get0_param(ssl), peer, 0);
    SSL_set_tlsext_host_name(ssl, peer);
    SSL_set_fd(ssl, fd);
    ERR_clear_error();
    int connected = SSL_connect(ssl) == 1;
    if (note.err != X509_V_OK) {
        out->verdict = SP_TLS_PROBE_PEER_CERT;
        describe_refusal(&note, peer, out->reason, sizeof out->reason);
        ERR_clear_error();
    } else {
        judge_peer_side(ssl, connected, out);
    }
    SSL_free(ssl);
    return SP_OK;
}

sp_err sp_tls_probe(const char *url, const char *cert_key_file, const char *ca_file,
                    const char *peer_name, uint32_t timeout_ms, sp_tls_probe_result *out) {
    char host[256], port[16];
    memset(out, 0, sizeof *out);
    if (split_url(url, host, port) != SP_OK || !cert_key_file || !ca_file) return SP_ERR_CONFIG;
    pthread_once(&note_once, note_index_init);
    if (note_index < 0) return SP_ERR_NOMEM;
    SSL_CTX *ctx = client_ctx(cert_key_file, ca_file);
    if (!ctx) return SP_ERR_CONFIG;
    int fd = dial(host, port, timeout_ms, out->reason, sizeof out->reason);
    sp_err rv = SP_OK;
    if (fd < 0)
        out->verdict = SP_TLS_PROBE_UNREACHABLE;
    else
        rv = handshake(ctx, fd, peer_name, out);
    if (fd >= 0) close(fd);
    SSL_CTX_free(ctx);
    return rv;
}
