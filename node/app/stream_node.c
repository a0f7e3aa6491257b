#include "node/app/stream_node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/strmap.h"
#include "node/intake/intake.h"

_Static_assert(SP_MAX_TOPIC <= SP_ARRIVAL_TAG_MAX, "a topic fits in an arrival tag");

/* ---- the topic of one event ---- */

/* What the topic takes from one event (see stream_node.h for the rule). */
typedef struct {
    sp_ev_kind kind;
    int is_event;                   /* an Event at all (else type "other") */
    char id[SP_TRACKING_ID_MAX];    /* its complaint, "" when none */
    char region[SP_REGION_MAX + 1]; /* a filing the fold accepts: its region */
    uint32_t channel;               /* and its channel (simpul.v1.Channel) */
    char agency[SP_MAX_ORIGIN + 1]; /* "" when none */
} topic_facts;

/* What a topic takes from the complaint's filing. */
typedef struct {
    char region[SP_REGION_MAX + 1]; /* "" when no accepted filing is known */
    uint32_t channel;
} filing_facts;

/* A topic part must not contain the separator, nor be the "unknown" mark. */
static int part_ok(const char *s) {
    return sp_node_id_valid(s) && !strchr(s, '.') && strcmp(s, "_") != 0;
}

/* The agency part: who the event hands the complaint to, or the agency acting on it. */
static const char *agency_of(const sp_fold_event *ev) {
    switch (ev->kind) {
    case SP_EV_DISPOSITIONED:
    case SP_EV_ESCALATED:
        return ev->agency;
    case SP_EV_FOLLOW_UP:
    case SP_EV_COMPLETED:
    case SP_EV_REROUTED:
        return ev->origin;
    default:
        return "";
    }
}

/* The region and channel of a filing, if the fold accepts it: the same rules, applied to a
 * fresh state, so that a filing the fold refuses (unknown region, bad fields) gives no region
 * here either. */
static sp_err filing_of(const sp_fold_ctx *fold, const sp_fold_event *ev, topic_facts *f) {
    sp_complaint_state st;
    sp_verdict v = SP_V_UNKNOWN_KIND;
    sp_state_init(&st, f->id);
    sp_err rv = sp_fold_apply(fold, &st, ev, &v);
    f->region[0] = '\0';
    if (rv == SP_OK && v == SP_V_ACCEPTED) {
        snprintf(f->region, sizeof f->region, "%s", st.region);
        f->channel = st.channel;
    }
    sp_state_clear(&st);
    return rv;
}

static sp_err facts_of(const sp_fold_ctx *fold, const sp_envelope *env, topic_facts *f) {
    sp_fold_event ev;
    sp_fold_body *body = NULL;
    memset(f, 0, sizeof *f);
    sp_err rv = sp_fold_decode(env, &ev, &body, f->id);
    if (rv == SP_ERR_DECODE) return SP_OK; /* not an Event: "other" */
    if (rv != SP_OK && rv != SP_ERR_NOT_FOUND) return rv;
    f->is_event = 1;
    f->kind = ev.kind;
    if (rv == SP_ERR_NOT_FOUND) { /* belongs to no complaint; only kind and origin are left */
        f->id[0] = '\0';
        return SP_OK;
    }
    if (part_ok(agency_of(&ev))) snprintf(f->agency, sizeof f->agency, "%s", agency_of(&ev));
    rv = ev.kind == SP_EV_FILED ? filing_of(fold, &ev, f) : SP_OK;
    sp_fold_body_free(body);
    return rv;
}

/* The region and channel of complaint id's accepted filing as stored here; region "" when
 * there is none. */
static sp_err stored_filing(sp_complaints *c, const char *id, filing_facts *out) {
    sp_complaint_state st;
    sp_err rv = sp_complaints_get(c, id, 0, &st);
    if (rv == SP_ERR_NOT_FOUND) return SP_OK;
    if (rv != SP_OK) return rv;
    snprintf(out->region, sizeof out->region, "%s", st.region);
    out->channel = st.channel;
    sp_state_clear(&st);
    return SP_OK;
}

/* One part of a region code ("35" of "35.77"), or "_" when it is missing or not a plain code. */
static void code_part(const char *s, size_t n, char out[8]) {
    int ok = n > 0 && n < 8;
    for (size_t i = 0; ok && i < n; i++)
        ok = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z') ||
             (s[i] >= 'a' && s[i] <= 'z');
    if (!ok) n = 0;
    memcpy(out, ok ? s : "_", ok ? n : 1);
    out[ok ? n : 1] = '\0';
}

static void format_topic(const topic_facts *f, const filing_facts *filing, char out[SP_MAX_TOPIC]) {
    char prov[8], reg[8];
    const char *region = filing->region;
    const char *dot = strchr(region, '.'), *rest = dot ? dot + 1 : "";
    const char *end = strchr(rest, '.');
    code_part(region, dot ? (size_t)(dot - region) : strlen(region), prov);
    code_part(rest, end ? (size_t)(end - rest) : strlen(rest), reg);
    const char *channel = region[0] && filing->channel ? sp_channel_name(filing->channel) : "_";
    snprintf(out, SP_MAX_TOPIC, "%s.%s.%s.%s.%s", prov, reg, f->agency[0] ? f->agency : "_",
             f->is_event ? sp_ev_kind_name(f->kind) : "other",
             strcmp(channel, "?") == 0 ? "_" : channel);
}

/* The filing for f: its own, a filing in the same batch, or the stored one. */
static sp_err filing_for(const sp_daemon_parts *parts, const topic_facts *f,
                         const sp_strmap *batch_filings, filing_facts *out) {
    const topic_facts *known = NULL;
    memset(out, 0, sizeof *out);
    if (!f->id[0]) return SP_OK;
    if (f->kind == SP_EV_FILED)
        known = f;
    else if (batch_filings)
        known = sp_strmap_get(batch_filings, f->id);
    if (!known) return stored_filing(parts->complaints, f->id, out);
    snprintf(out->region, sizeof out->region, "%s", known->region);
    out->channel = known->channel;
    return SP_OK;
}

sp_err sp_stream_topic(const sp_daemon_parts *parts, const sp_envelope *env,
                       char out[SP_MAX_TOPIC]) {
    topic_facts f;
    filing_facts filing;
    sp_err rv = facts_of(parts->fold, env, &f);
    if (rv == SP_OK) rv = filing_for(parts, &f, NULL, &filing);
    if (rv == SP_OK) format_topic(&f, &filing, out);
    return rv;
}

/* ---- the arrival tagger: topics computed once, when events are stored ---- */

/* Accepted filings of the batch by complaint id: an event stored together with its filing
 * (catch-up ranges) must see it, and the store does not hold the batch yet. */
static sp_err index_filings(const topic_facts *f, size_t n, sp_strmap *m) {
    sp_err rv = SP_OK;
    for (size_t i = 0; rv == SP_OK && i < n; i++)
        if (f[i].kind == SP_EV_FILED && f[i].id[0] && f[i].region[0])
            rv = sp_strmap_put(m, f[i].id, (void *)&f[i], NULL);
    return rv;
}

static sp_err tag_topics(void *arg, const sp_envelope *const *envs, size_t n,
                         char (*tags)[SP_ARRIVAL_TAG_MAX]) {
    const sp_daemon_parts *parts = arg;
    sp_strmap filings = {0};
    topic_facts *f = calloc(n ? n : 1, sizeof *f);
    sp_err rv = f ? SP_OK : SP_ERR_NOMEM;
    for (size_t i = 0; rv == SP_OK && i < n; i++)
        rv = facts_of(parts->fold, envs[i], &f[i]);
    if (rv == SP_OK) rv = index_filings(f, n, &filings);
    for (size_t i = 0; rv == SP_OK && i < n; i++) {
        filing_facts filing;
        rv = filing_for(parts, &f[i], &filings, &filing);
        if (rv == SP_OK) format_topic(&f[i], &filing, tags[i]);
    }
    if (rv != SP_OK) sp_log_error("stream.topic", "error=%s", sp_errname(rv));
    sp_strmap_free(&filings, NULL);
    free(f);
    return rv;
}

/* ---- replay source: the feed log's arrivals with their stored topics ---- */

typedef struct {
    const sp_daemon_parts *parts;
    sp_stream_visit_fn fn;
    void *arg;
    sp_err rv;
} scan_ctx;

/* The stored bytes go out as they are; only an event stored without a topic (an older
 * version, a node without a stream) is decoded, to compute it. */
static int visit_arrival(void *arg, uint64_t offset, const uint8_t *bytes, size_t len,
                         const char *tag) {
    scan_ctx *c = arg;
    char topic[SP_MAX_TOPIC];
    if (tag[0]) return c->fn(c->arg, offset, tag, bytes, len);
    sp_envelope env;
    if ((c->rv = sp_envelope_decode(&env, bytes, len)) != SP_OK) return 1;
    c->rv = sp_stream_topic(c->parts, &env, topic);
    sp_envelope_clear(&env);
    return c->rv != SP_OK || c->fn(c->arg, offset, topic, bytes, len);
}

static sp_err scan(void *ctx, uint64_t from, size_t max, sp_stream_visit_fn fn, void *arg) {
    const sp_daemon_parts *parts = ctx;
    scan_ctx c = {parts, fn, arg, SP_OK};
    sp_err rv = sp_feedlog_scan_stored(parts->log, from, max, visit_arrival, &c);
    return rv != SP_OK ? rv : c.rv;
}

sp_err sp_node_stream_start(sp_stream **out, const sp_daemon_parts *parts) {
    sp_stream_source src = {scan, (void *)parts};
    const sp_node_config *cfg = parts->cfg;
    sp_stream_listen at = {{cfg->listen_stream, cfg->listen_stream_ws},
                           {cfg->listen_replay, cfg->listen_replay_ws},
                           cfg->tls_http_cert};
    sp_err rv = sp_stream_start(out, &at, &src);
    if (rv == SP_OK) sp_feedlog_set_tagger(parts->log, tag_topics, (void *)parts);
    return rv;
}

void sp_node_stream_publish(sp_stream *s, const sp_daemon_parts *parts,
                            const sp_envelope *const *envs, const uint64_t *offsets, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char topic[SP_MAX_TOPIC];
        uint8_t *buf;
        size_t len;
        /* The topic replay will give: the stored one. Without it (a read error) the message is
         * not sent; PUB may drop anyway, and subscribers replay what they missed. */
        sp_err rv = sp_feedlog_arrival_tag(parts->log, offsets[i], topic);
        if (rv == SP_ERR_NOT_FOUND) rv = sp_stream_topic(parts, envs[i], topic);
        if (rv != SP_OK || sp_envelope_encode(envs[i], &buf, &len) != SP_OK) continue;
        sp_stream_publish(s, offsets[i], topic, buf, len);
        free(buf);
    }
}
