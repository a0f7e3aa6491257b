/*
 * Why a TLS link to a peer fails. NNG 1.5 with mbedTLS turns every refused certificate —
 * another CA, expired, another name, on either side — into NNG_ECRYPTO, and only counts it
 * (statistic "auth" of the dialer or listener): nothing says which check failed or whose
 * certificate it was. When the replicator sees handshakes to a peer fail, it asks this module,
 * which connects once more with OpenSSL, presenting the same certificate, trusting the same CA
 * and expecting the same name, and reports what is wrong.
 *
 * This file owns every SSL_* and X509_* call. It never changes what is trusted: it only
 * diagnoses; the link itself stays NNG's.
 */
#ifndef SP_TLS_PROBE_H
#define SP_TLS_PROBE_H

#include <stdint.h>

#include "base/err.h"

typedef enum {
    SP_TLS_PROBE_OK,          /* the handshake succeeds (now): the failure was transient */
    SP_TLS_PROBE_UNREACHABLE, /* no TCP connection could be made */
    SP_TLS_PROBE_PEER_CERT,   /* the peer's certificate is refused here */
    SP_TLS_PROBE_OUR_CERT,    /* the peer refuses our certificate (its TLS alert says so) */
    SP_TLS_PROBE_FAILED,      /* the handshake fails for another reason */
} sp_tls_verdict;

typedef struct {
    sp_tls_verdict verdict;
    /* For the log. PEER_CERT: what is wrong with the certificate, "not signed by the
     * federation CA (subject /CN=kota-3578; OpenSSL: unable to get local issuer certificate)",
     * "expired (not after ...)", "issued to another name than kota-3579 (...)"; OUR_CERT:
     * "refused our certificate (TLS alert: unknown CA)"; otherwise a sentence. */
    char reason[320];
} sp_tls_probe_result;

/* Connect to url (tls+tcp://host:port, tls+tcp4://, tls+tcp6://) with the certificate and key
 * in cert_key_file, trusting ca_file, expecting a certificate for peer_name; waits at most
 * timeout_ms for each step. SP_OK when *out holds a verdict; SP_ERR_CONFIG for a URL that is no
 * TLS URL or files OpenSSL cannot load (logged); SP_ERR_NOMEM. Blocking; thread-safe. */
sp_err sp_tls_probe(const char *url, const char *cert_key_file, const char *ca_file,
                    const char *peer_name, uint32_t timeout_ms, sp_tls_probe_result *out);

#endif
