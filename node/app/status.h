/*
 * A running node's health as JSON: its log (origins, heads, offsets, forks, clock) and every
 * peer link (sent, received, lag, last contact, rejects by reason). Served on the control socket
 * (`simpul status`) and over HTTP.
 */
#ifndef SP_STATUS_H
#define SP_STATUS_H

#include <jansson.h>

#include "node/app/app.h"

/* A new JSON object (caller owns the reference), or NULL on error. Thread-safe. */
json_t *sp_status_json(const sp_daemon_parts *p);

#endif
