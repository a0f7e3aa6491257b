/*
 * A node's configuration file (YAML, see docs/operations.md): which node this is, where its
 * topology, data and keys are, what it listens on. Errors are reported like the topology's,
 * as "file:line:col: message", all of them in one run. Relative paths are resolved against the
 * configuration file's folder.
 */
#ifndef SP_CONFIG_H
#define SP_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "base/err.h"

/* Defaults of limits.*: an officer's tool or a proxied citizen gets 20 requests a second (40 at
 * once); everyone else shares 500 a second. */
#define SP_RATE_PER_SECOND 20
#define SP_RATE_BURST 40
#define SP_ANONYMOUS_PER_SECOND 500
#define SP_ANONYMOUS_BURST 1000

typedef struct {
    const char *path;            /* the configuration file itself */
    const char *node;            /* this node's id in the topology (required) */
    const char *topology;        /* topology file (required) */
    const char *data;            /* data directory (required) */
    const char *keys;            /* folder with node.key and seal.key (required) */
    const char *calendar;        /* holiday calendar (optional) */
    const char *listen_peer;     /* NNG URL for peers (required) */
    const char *listen_stream;   /* NNG URL of the integrator PUB stream (optional) */
    const char *listen_replay;   /* NNG URL of the replay REP endpoint (optional) */
    const char *listen_stream_ws; /* the stream again over ws:// or wss:// (optional) */
    const char *listen_replay_ws; /* the replay endpoint over ws:// or wss:// (optional) */
    const char *listen_http;     /* https://host:port, or http:// (optional) */
    int http_plain;              /* listen.http_plain: plain http:// on a non-loopback address */
    const char *tls_http_cert;   /* PEM: the HTTPS server's certificate chain and key */
    const char *tls_cert;        /* PEM: this node's certificate and key (tls+tcp) */
    const char *tls_ca;          /* PEM: certificates trusted for peers (tls+tcp) */
    int keep_all;                /* replication.keep: all (1) or region (0) */
    uint32_t sync_interval_ms;   /* replication.sync_interval_ms */
    uint32_t request_timeout_ms; /* replication.request_timeout_ms */
    uint32_t push_batch;         /* replication.push_batch */
    uint32_t queue_limit;        /* replication.queue_limit */
    const char *log_level;       /* debug | info | warn | error */
    /* limits.*: HTTP requests per client (officer token, or the address in client_header) and
     * shared by clients without either; 0 per second turns a limit off */
    uint32_t rate_per_second, rate_burst;
    uint32_t anonymous_per_second, anonymous_burst;
    const char *client_header; /* set by a trusted proxy in front, e.g. X-Forwarded-For */
    /* channels.*: the secrets of the channel adapters (docs/channels.md); a channel whose
     * secret is not set is closed (404) */
    const char *open311_api_keys;      /* "k1,k2": POST requests needs one; unset: open */
    const char *whatsapp_app_secret;   /* Meta app secret: X-Hub-Signature-256 */
    const char *whatsapp_verify_token; /* the webhook verification's hub.verify_token */
    const char *whatsapp_token;        /* access token: photos are fetched (else referenced) */
    const char *whatsapp_graph_url;    /* default https://graph.facebook.com/v19.0 */
    const char *x_consumer_secret;     /* X app's consumer secret: CRC and signatures */
    const char *email_token;           /* bearer token of the MTA pipe */
    const char *email_address;         /* From of the replies, "lapor@madiunkota.go.id" */
} sp_node_config;

/* Load path. On SP_OK *out is a new configuration (sp_node_config_free). SP_ERR_CONFIG with
 * every problem in diags, SP_ERR_IO when unreadable, SP_ERR_NOMEM. */
sp_err sp_node_config_load(sp_node_config **out, const char *path, sp_diag_list *diags);
/* Same from a buffer reported as `name`; relative paths stay relative. */
sp_err sp_node_config_load_buffer(sp_node_config **out, const char *name, const char *buf,
                                  size_t len, sp_diag_list *diags);
void sp_node_config_free(sp_node_config *c);

#endif
