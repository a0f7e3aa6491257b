/*
 * The local control socket, ipc://DATA/control.sock: only processes that can open the data
 * directory can use it. Requests and replies are JSON objects:
 *   {"cmd":"status"}                             -> the node's status (node/app/status.h)
 *   {"cmd":"append","count":N,"text":"..."}      -> author N test events (Commented), durably
 *   {"cmd":"backup","dir":"/new/folder"}         -> a consistent backup (node/app/backup.h)
 * `simpul status` and `simpul node append` are its clients.
 */
#ifndef SP_CONTROL_H
#define SP_CONTROL_H

#include "node/app/app.h"

typedef struct sp_control sp_control;

/* Serve the control socket for the daemon's parts (borrowed). The caller owns *out. */
sp_err sp_control_start(sp_control **out, const sp_daemon_parts *parts);
void sp_control_stop(sp_control *c);

/* The body of a test event (Commented, complaint "TEST-<self>-<n>"), as `simpul log append`
 * and the control socket's append author them. *out is malloc'ed. */
sp_err sp_test_event_body(const char *self, uint64_t n, const char *text, const char *actor,
                          uint8_t **out, size_t *len);

/* Client: send request (JSON text) to the node whose data directory is data_dir; *reply is a
 * malloc'ed JSON text. SP_ERR_NET when no node runs there. */
sp_err sp_control_call(const char *data_dir, const char *request, char **reply);

/* The control socket of a data directory (ipc://DATA/control.sock) into buf. */
void sp_control_url(const char *data_dir, char *buf, size_t cap);

#endif
