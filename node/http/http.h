/*
 * The node's HTTP API (docs/api.md), on NNG's HTTP server: intake (web/app JSON, 1708 SMS,
 * Open311 GeoReport v2), officer actions with bearer tokens, reads that respect the privacy
 * rules of DESIGN §5, statistics, Prometheus metrics and a health check.
 *
 * Every request that writes (intake, actions) goes through one batcher (node/http/batcher.h): many
 * requests share one fsync, and each is answered only once its event is durable. Every error
 * is JSON {"error": CODE, "message": TEXT} with the right status (Open311 routes use the
 * spec's [{"code", "description"}]); request bodies are size-limited per route (413).
 *
 * Thread-safety: sp_http_start/stop are called once each, by the daemon; requests are served
 * on NNG's threads.
 */
#ifndef SP_HTTP_H
#define SP_HTTP_H

#include "node/app/app.h"

typedef struct sp_http sp_http;

/* Serve parts->cfg->listen_http ("http://host:port") for the daemon's parts (borrowed; they
 * must outlive the server). The caller owns *out. SP_ERR_CONFIG (bad URL), SP_ERR_NET (cannot
 * listen), SP_ERR_NOMEM. */
sp_err sp_http_start(sp_http **out, const sp_daemon_parts *parts);
/* Stop accepting, answer or fail every request in flight (queued writes are still authored
 * and answered), free. Accepts NULL. */
void sp_http_stop(sp_http *h);

#endif
