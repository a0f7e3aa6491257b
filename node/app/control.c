#include "node/app/control.h"


#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "base/log.h"
#include "broker/hlc.h"
#include "node/app/backup.h"
#include "node/app/sla_timer.h"
#include "node/app/status.h"
#include "schemas/simpul.pb-c.h"

#define CONTROL_MAX_REQUEST 65536
#define APPEND_MAX 100000

struct sp_control {
    const sp_daemon_parts *parts;
    nng_socket sock;
    pthread_t thread;
};

void sp_control_url(const char *data_dir, char *buf, size_t cap) {
    snprintf(buf, cap, "ipc://%s/control.sock", data_dir);
}

static json_t *error_json(const char *msg) {
    return json_pack("{s:s}", "error", msg);
}

sp_err sp_test_event_body(const char *self, uint64_t n, const char *text, const char *actor,
                          uint8_t **out, size_t *len) {
    char id[96];
    snprintf(id, sizeof id, "TEST-%s-%llu", self, (unsigned long long)n);
    Simpul__V1__Event ev = SIMPUL__V1__EVENT__INIT;
    Simpul__V1__Commented cm = SIMPUL__V1__COMMENTED__INIT;
    cm.text = (char *)text;
    ev.complaint_id = id;
    ev.actor = (char *)actor;
    ev.body_case = SIMPUL__V1__EVENT__BODY_COMMENTED;
    ev.commented = &cm;
    *len = simpul__v1__event__get_packed_size(&ev);
    if (!(*out = malloc(*len ? *len : 1))) return SP_ERR_NOMEM;
    simpul__v1__event__pack(&ev, *out);
    return SP_OK;
}

/* Author count test events in batches of up to 1000, each batch durable before the next. */
static json_t *do_append(const sp_daemon_parts *p, json_int_t count, const char *text) {
    if (count < 1 || count > APPEND_MAX) return error_json("count must be 1..100000");
    uint64_t first = sp_feedlog_head(p->log, p->self->id, NULL) + 1;
    sp_err rv = SP_OK;
    for (json_int_t done = 0; rv == SP_OK && done < count;) {
        size_t n = count - done < 1000 ? (size_t)(count - done) : 1000;
        uint8_t *bodies[1000] = {0};
        size_t lens[1000];
        for (size_t i = 0; rv == SP_OK && i < n; i++)
            rv = sp_test_event_body(p->self->id, first + (uint64_t)done + i, text, "simpul-control",
                                    &bodies[i], &lens[i]);
        if (rv == SP_OK) rv = sp_feedlog_author(p->log, (const uint8_t *const *)bodies, lens, n, NULL);
        for (size_t i = 0; i < n; i++) free(bodies[i]);
        done += (json_int_t)n;
    }
    if (rv != SP_OK) return error_json(sp_strerror(rv));
    return json_pack("{s:I, s:I, s:I}", "appended", count, "first", (json_int_t)first, "last",
                     (json_int_t)(first + (uint64_t)count - 1));
}

/* A backup of the running node into dir (node/app/backup.h). */
static json_t *do_backup(const sp_daemon_parts *p, const char *dir) {
    if (!dir || !*dir) return error_json("backup needs \"dir\"");
    sp_backup_stats st;
    sp_err rv = sp_backup_create(p->store, p->cfg->data, dir, &st);
    if (rv == SP_ERR_EXISTS) return error_json("the backup folder exists: give a new one");
    if (rv != SP_OK) return error_json(sp_strerror(rv));
    sp_log_info("control.backup", "dir=%s files=%llu bytes=%llu", dir,
                (unsigned long long)st.files, (unsigned long long)st.bytes);
    return json_pack("{s:s, s:I, s:I}", "backup", dir, "files", (json_int_t)st.files, "bytes",
                     (json_int_t)st.bytes);
}

static json_t *handle(const sp_daemon_parts *p, const char *req, size_t len) {
    json_error_t err;
    json_t *in = json_loadb(req, len, 0, &err);
    const char *cmd = in ? json_string_value(json_object_get(in, "cmd")) : NULL;
    json_t *out;
    if (!cmd)
        out = error_json("request must be a JSON object with \"cmd\"");
    else if (strcmp(cmd, "status") == 0)
        out = sp_status_json(p);
    else if (strcmp(cmd, "append") == 0) {
        const char *text = json_string_value(json_object_get(in, "text"));
        out = do_append(p, json_integer_value(json_object_get(in, "count")), text ? text : "test event");
    } else if (strcmp(cmd, "backup") == 0) {
        out = do_backup(p, json_string_value(json_object_get(in, "dir")));
    } else if (strcmp(cmd, "sla-check") == 0) {
        size_t n = 0;
        sp_err rv = sp_sla_check(p, sp_wall_ms(), &n);
        out = rv == SP_OK ? json_pack("{s:I}", "authored", (json_int_t)n) : error_json(sp_strerror(rv));
    } else
        out = error_json("unknown cmd");
    json_decref(in);
    return out;
}

static void *control_main(void *arg) {
    sp_control *c = arg;
    for (;;) {
        char *req = NULL;
        size_t len = 0;
        if (nng_recv(c->sock, &req, &len, NNG_FLAG_ALLOC) != 0) break; /* closed */
        json_t *out = handle(c->parts, req, len);
        nng_free(req, len);
        char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
        json_decref(out);
        const char *reply = text ? text : "{\"error\":\"out of memory\"}";
        nng_send(c->sock, (void *)reply, strlen(reply), 0);
        free(text);
    }
    return NULL;
}

sp_err sp_control_start(sp_control **out, const sp_daemon_parts *parts) {
    char url[4200];
    sp_control *c = calloc(1, sizeof *c);
    if (!c) return SP_ERR_NOMEM;
    c->parts = parts;
    sp_control_url(parts->cfg->data, url, sizeof url);
    int rv = nng_rep0_open(&c->sock);
    if (rv == 0) nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, CONTROL_MAX_REQUEST);
    if (rv == 0) rv = nng_listen(c->sock, url, NULL, 0);
    if (rv != 0 || pthread_create(&c->thread, NULL, control_main, c) != 0) {
        sp_log_error("control.listen", "url=%s error=\"%s\"", url, nng_strerror(rv));
        nng_close(c->sock);
        free(c);
        return SP_ERR_NET;
    }
    *out = c;
    return SP_OK;
}

void sp_control_stop(sp_control *c) {
    if (!c) return;
    nng_close(c->sock);
    pthread_join(c->thread, NULL);
    free(c);
}

sp_err sp_control_call(const char *data_dir, const char *request, char **reply) {
    char url[4200];
    nng_socket s;
    sp_control_url(data_dir, url, sizeof url);
    if (nng_req0_open(&s) != 0) return SP_ERR_NET;
    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 120000);
    char *buf = NULL;
    size_t len = 0;
    int rv = nng_dial(s, url, NULL, 0);
    if (rv == 0) rv = nng_send(s, (void *)request, strlen(request), 0);
    if (rv == 0) rv = nng_recv(s, &buf, &len, NNG_FLAG_ALLOC);
    nng_close(s);
    if (rv != 0) return SP_ERR_NET;
    *reply = malloc(len + 1);
    if (*reply) {
        memcpy(*reply, buf, len);
        (*reply)[len] = '\0';
    }
    nng_free(buf, len);
    return *reply ? SP_OK : SP_ERR_NOMEM;
}
