#include "node/stream_node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "35.77" -> "35", "77"; "35" -> "35", "_"; "" -> "_", "_". */
static void split_region(const char *region, char prov[8], char reg[8]) {
    strcpy(prov, "_");
    strcpy(reg, "_");
    if (!region || !region[0]) return;
    const char *dot = strchr(region, '.');
    size_t plen = dot ? (size_t)(dot - region) : strlen(region);
    if (plen == 0 || plen > 7) return;
    memcpy(prov, region, plen);
    prov[plen] = '\0';
    if (dot && dot[1] && strlen(dot + 1) < 8) strcpy(reg, dot + 1);
}

void sp_stream_topic(sp_complaints *c, const sp_envelope *env, char out[SP_MAX_TOPIC]) {
    sp_fold_event ev;
    sp_fold_body *body = NULL;
    char id[SP_TRACKING_ID_MAX], prov[8], reg[8];
    const char *type = "other", *agency = "_", *region = NULL;
    sp_complaint_state st;
    int have_state = 0;
    sp_err rv = sp_fold_decode(env, &ev, &body, id);
    if (rv == SP_OK || rv == SP_ERR_NOT_FOUND) type = sp_ev_kind_name(ev.kind);
    if (rv == SP_OK && sp_complaints_get(c, id, 1, &st) == SP_OK) {
        have_state = 1;
        region = st.region[0] ? st.region : ev.region;
        if (st.agency[0]) agency = st.agency;
    }
    split_region(region, prov, reg);
    snprintf(out, SP_MAX_TOPIC, "%s.%s.%s.%s", prov, reg, agency, type);
    if (have_state) sp_state_clear(&st);
    sp_fold_body_free(body);
}

/* ---- replay source: the feed log's arrivals with their topics ---- */

typedef struct {
    const sp_daemon_parts *parts;
    sp_stream_visit_fn fn;
    void *arg;
} scan_ctx;

static int visit_arrival(void *arg, uint64_t offset, const sp_envelope *env) {
    scan_ctx *c = arg;
    char topic[SP_MAX_TOPIC];
    uint8_t *buf;
    size_t len;
    if (sp_envelope_encode(env, &buf, &len) != SP_OK) return 1;
    sp_stream_topic(c->parts->complaints, env, topic);
    int stop = c->fn(c->arg, offset, topic, buf, len);
    free(buf);
    return stop;
}

static sp_err scan(void *ctx, uint64_t from, size_t max, sp_stream_visit_fn fn, void *arg) {
    const sp_daemon_parts *parts = ctx;
    scan_ctx c = {parts, fn, arg};
    return sp_feedlog_scan_arrivals(parts->log, from, max, visit_arrival, &c);
}

sp_err sp_node_stream_start(sp_stream **out, const sp_daemon_parts *parts) {
    sp_stream_source src = {scan, (void *)parts};
    return sp_stream_start(out, parts->cfg->listen_stream, parts->cfg->listen_replay, &src);
}

void sp_node_stream_publish(sp_stream *s, const sp_daemon_parts *parts,
                            const sp_envelope *const *envs, const uint64_t *offsets, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char topic[SP_MAX_TOPIC];
        uint8_t *buf;
        size_t len;
        if (sp_envelope_encode(envs[i], &buf, &len) != SP_OK) continue;
        sp_stream_topic(parts->complaints, envs[i], topic);
        sp_stream_publish(s, offsets[i], topic, buf, len);
        free(buf);
    }
}
