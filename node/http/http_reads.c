/*
 * Read routes: one complaint (state, deadlines, timeline), work lists with cursors, attachments,
 * statistics. Every read goes through node/app/view.h for what the
 * reader may see; these functions only parse parameters and shape answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/hlc.h"
#include "node/app/blob_fetch.h"
#include "node/app/view.h"
#include "node/http/http_int.h"
#include "node/intake/blobs.h"

#define LIST_DEFAULT 50
#define LIST_MAX 200

sp_viewer sp__http_viewer(const sp_http_req *r) {
    sp_viewer v = {r->has_token, r->has_token ? r->token.name : NULL, 0};
    return v;
}

/* Load the state of complaint raw (as the client typed it: any case); answers 404 (400 for a
 * check letter that does not match) or 500 and returns -1 when it cannot. */
int sp__http_load_state(sp_http_req *r, const char *raw, sp_complaint_state *s) {
    char id[SP_TRACKING_ID_MAX];
    sp_state_init(s, ""); /* cleared below on every failure, including an invalid id */
    sp_err rv = sp_tracking_normalize(raw, id);
    if (rv == SP_ERR_REJECTED) {
        sp_http_error(r, 400, "invalid_field",
                      "%s: the check letter does not match; a character was probably misheard "
                      "or mistyped",
                      id);
        return -1;
    }
    rv = rv == SP_OK ? sp_complaints_get(r->srv->p->complaints, id, 0, s) : SP_ERR_NOT_FOUND;
    if (rv == SP_OK) return 0;
    sp_state_clear(s);
    if (rv == SP_ERR_NOT_FOUND)
        sp_http_error(r, 404, "not_found", "no complaint %s at this node", id[0] ? id : raw);
    else
        sp_http_internal_error(r, rv, "complaint state");
    return -1;
}

void sp__http_complaint_get(sp_http_req *r) {
    if (sp_http_authenticate(r, 0) != 0) return;
    sp_complaint_state s;
    if (sp__http_load_state(r, r->params[0], &s) != 0) return;
    sp_complaint_events e = {0};
    sp_err rv = sp_view_load(r->srv->p, &s, &e);
    if (rv != SP_OK) {
        sp_state_clear(&s);
        sp_http_internal_error(r, rv, "complaint events");
        return;
    }
    char base[256];
    sp_http_base_url(r, base, sizeof base);
    sp_viewer v = sp__http_viewer(r);
    v.blobs_here = sp_blob_served_here(r->srv->p, &s, &e);
    json_t *out = sp_view_complaint(r->srv->p, &s, &e, &v, base, sp_wall_ms());
    sp_view_events_free(&e);
    sp_state_clear(&s);
    sp_http_reply_json(r, 200, out);
}

/* ---- lists ---- */

/* Answer 400 naming a parameter and what it takes; returns -1 for the caller to pass on. */
int sp__http_bad_param(sp_http_req *r, const char *name, const char *rule) {
    sp_http_error(r, 400, "invalid_field", "bad parameter '%s': %s", name, rule);
    return -1;
}

/* Read parameter name into buf[cap] ("" when absent); answers 400 when it is too long. */
int sp__http_read_param(sp_http_req *r, const char *name, char *buf, size_t cap) {
    buf[0] = '\0';
    return sp_http_query(r, name, buf, cap) < 0
               ? sp__http_bad_param(r, name, "too long or malformed")
               : 0;
}

/* "filed,verified" -> mask; -1 on an unknown name. */
static long status_mask(const char *list) {
    long mask = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        sp_status st;
        if (sp_status_parse(t, &st) != SP_OK || st == SP_ST_NONE) return -1;
        mask |= 1L << st;
    }
    return mask;
}

/* "sms,web" -> mask of simpul.v1.Channel bits; -1 on an unknown name. */
static long channel_mask(const char *list) {
    long mask = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        uint32_t ch;
        if (sp_channel_parse(t, &ch) != SP_OK) return -1;
        mask |= 1L << ch;
    }
    return mask;
}

#define CHANNELS "web, app, sms, whatsapp, social, call-center, open311, email"

/* A category as intake spells them: a-z 0-9 - segments joined by '/'. */
int sp__http_category_ok(const char *c) {
    size_t n = strlen(c);
    if (!n || c[0] == '/' || c[n - 1] == '/' || strstr(c, "//")) return 0;
    return strspn(c, "abcdefghijklmnopqrstuvwxyz0123456789-/") == n;
}

/* A whole decimal number in [lo, hi], else -1. */
static long number_in(const char *s, long lo, long hi) {
    char *end;
    long v = strtol(s, &end, 10);
    return *s && !*end && v >= lo && v <= hi ? v : -1;
}

static const char *const list_names[] = {"status",  "region", "agency", "category", "channel",
                                         "overdue", "limit",  "cursor", NULL};

typedef struct {
    char status[256], region[SP_REGION_MAX + 1], agency[SP_MAX_ORIGIN + 1],
        category[SP_CATEGORY_MAX + 1], channel[128], overdue[8], limit[8], cursor[SP_CURSOR_MAX];
} list_params;

static int list_read(sp_http_req *r, list_params *q) {
    if (sp_http_query_only(r, list_names) != 0) return -1;
    return sp__http_read_param(r, "status", q->status, sizeof q->status) ||
                   sp__http_read_param(r, "region", q->region, sizeof q->region) ||
                   sp__http_read_param(r, "agency", q->agency, sizeof q->agency) ||
                   sp__http_read_param(r, "category", q->category, sizeof q->category) ||
                   sp__http_read_param(r, "channel", q->channel, sizeof q->channel) ||
                   sp__http_read_param(r, "overdue", q->overdue, sizeof q->overdue) ||
                   sp__http_read_param(r, "limit", q->limit, sizeof q->limit) ||
                   sp__http_read_param(r, "cursor", q->cursor, sizeof q->cursor)
               ? -1
               : 0;
}

/* Parse the list parameters into f; answers 400 naming the first bad one and returns -1. */
static int list_filter(sp_http_req *r, list_params *q, sp_complaint_filter *f, size_t *limit) {
    memset(f, 0, sizeof *f);
    if (list_read(r, q) != 0) return -1;
    long status = q->status[0] ? status_mask(q->status) : 0;
    long channel = q->channel[0] ? channel_mask(q->channel) : 0;
    long lim = q->limit[0] ? number_in(q->limit, 1, LIST_MAX) : LIST_DEFAULT;
    if (status < 0)
        return sp__http_bad_param(r, "status",
                                  "comma-separated statuses: filed, verified, archived, "
                                  "dispositioned, in-progress, rerouted, completed, resolved, "
                                  "reopened");
    if (strchr(q->region, '/'))
        return sp__http_bad_param(r, "region", "a region code (35 or 35.77)");
    if (strchr(q->agency, '/')) return sp__http_bad_param(r, "agency", "a node id");
    if (q->category[0] && !sp__http_category_ok(q->category))
        return sp__http_bad_param(r, "category", "a category (a-z 0-9 - segments joined by /)");
    if (channel < 0) return sp__http_bad_param(r, "channel", "comma-separated channels: " CHANNELS);
    if (q->overdue[0] && strcmp(q->overdue, "true") && strcmp(q->overdue, "1") &&
        strcmp(q->overdue, "false") && strcmp(q->overdue, "0"))
        return sp__http_bad_param(r, "overdue", "true or false");
    if (lim < 0) {
        char rule[32];
        snprintf(rule, sizeof rule, "a number from 1 to %d", LIST_MAX);
        return sp__http_bad_param(r, "limit", rule);
    }
    f->status_mask = (uint32_t)status;
    f->region = q->region[0] ? q->region : NULL;
    f->agency = q->agency[0] ? q->agency : NULL;
    f->category = q->category[0] ? q->category : NULL;
    f->channel_mask = (uint32_t)channel;
    f->overdue_only = strcmp(q->overdue, "true") == 0 || strcmp(q->overdue, "1") == 0;
    f->now_ms = sp_wall_ms();
    *limit = (size_t)lim;
    return 0;
}

void sp__http_complaint_list(sp_http_req *r) {
    if (sp_http_authenticate(r, 0) != 0) return;
    list_params q = {0};
    sp_complaint_filter f;
    size_t limit = 0; /* set by list_filter; gcc -fPIC cannot see it */
    if (list_filter(r, &q, &f, &limit) != 0) return;
    sp_complaint_page pg;
    sp_err rv = sp_complaints_list(r->srv->p->complaints, &f, q.cursor, limit, &pg);
    if (rv == SP_ERR_INVAL) {
        sp_http_error(r, 400, "invalid_field", "the cursor does not belong to this list");
        return;
    }
    if (rv != SP_OK) {
        sp_http_internal_error(r, rv, "complaint list");
        return;
    }
    sp_viewer v = sp__http_viewer(r);
    json_t *items = json_array();
    for (size_t i = 0; items && i < pg.n; i++)
        json_array_append_new(items, sp_view_summary(r->srv->p, &pg.v[i], &v, f.now_ms));
    json_t *out = json_pack("{s:o, s:i, s:s?}", "items", items, "count", (int)pg.n, "next_cursor",
                            pg.next[0] ? pg.next : NULL);
    sp_complaint_page_free(&pg);
    sp_http_reply_json(r, 200, out);
}

/* ---- attachments ---- */

static int hex_sha(const char *hex, uint8_t out[SP_HASH_LEN]) {
    if (strlen(hex) != 2 * SP_HASH_LEN) return -1;
    for (size_t i = 0; i < SP_HASH_LEN; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1 || !strchr("0123456789abcdef", hex[2 * i]) ||
            !strchr("0123456789abcdef", hex[2 * i + 1]))
            return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

/* The attachment of c with this hash, or NULL. */
static const Simpul__V1__Attachment *find_attachment(const Simpul__V1__ComplaintContent *c,
                                                     const uint8_t sha[SP_HASH_LEN]) {
    for (size_t i = 0; i < c->n_attachments; i++)
        if (c->attachments[i]->sha256.len == SP_HASH_LEN &&
            memcmp(c->attachments[i]->sha256.data, sha, SP_HASH_LEN) == 0)
            return c->attachments[i];
    return NULL;
}

/* A read waiting for the intake node (node/app/blob_fetch.h): answered on a replicator thread. */
typedef struct {
    sp_http_req *r;
    char media_type[SP_INTAKE_MEDIA_MAX + 1];
    char intake[SP_MAX_ORIGIN + 1];
} blob_wait;

static const char *media_type(const Simpul__V1__Attachment *a) {
    return a->media_type && *a->media_type ? a->media_type : "application/octet-stream";
}

static void on_fetched(void *arg, sp_err rv, const uint8_t *blob, size_t n, const char *why) {
    blob_wait *w = arg;
    if (rv == SP_OK)
        sp_http_reply(w->r, 200, w->media_type, blob, n);
    else if (rv == SP_ERR_FORBIDDEN)
        sp_http_error(w->r, 403, "forbidden", "the intake node %s refused: %s", w->intake, why);
    else if (rv == SP_ERR_NOT_FOUND)
        sp_http_error(w->r, 404, "not_found", "the intake node %s: %s", w->intake, why);
    else /* not reached, or an answer that failed our checks (logged): try again later */
        sp_http_error(w->r, 503, "unavailable", "the attachment could not be fetched from %s: %s",
                      w->intake, why);
    free(w);
}

/* Not stored here: fetch it from the intake node when this node may. On success the request
 * belongs to the fetch (answered by on_fetched, perhaps before this returns). */
static void fetch_blob(sp_http_req *r, const sp_complaint_state *s, const sp_complaint_events *e,
                       const Simpul__V1__Attachment *a, const uint8_t sha[SP_HASH_LEN]) {
    blob_wait *w = calloc(1, sizeof *w);
    if (!w) {
        sp_http_internal_error(r, SP_ERR_NOMEM, "attachment");
        return;
    }
    w->r = r;
    snprintf(w->media_type, sizeof w->media_type, "%s", media_type(a));
    snprintf(w->intake, sizeof w->intake, "%s", s->intake);
    sp_err rv = sp_blob_fetch(r->srv->p, s, e, sha, on_fetched, w);
    if (rv == SP_OK) return;
    free(w);
    if (rv == SP_ERR_FORBIDDEN && sp_view_is_intake(r->srv->p, s))
        sp_http_error(r, 404, "not_found", "the attachment is not stored at this node");
    else if (rv == SP_ERR_FORBIDDEN)
        sp_http_error(r, 404, "not_found",
                      "attachments of %s are kept by its intake node %s, which gives them only "
                      "to the nodes handling the complaint",
                      s->id, s->intake);
    else if (rv == SP_ERR_TOO_BIG)
        sp_http_error(r, 503, "overloaded", "too many attachment fetches waiting; retry shortly");
    else
        sp_http_internal_error(r, rv, "attachment fetch");
}

static void send_blob(sp_http_req *r, const sp_complaint_state *s, const sp_complaint_events *e,
                      const Simpul__V1__Attachment *a, const uint8_t sha[SP_HASH_LEN]) {
    uint8_t *data = NULL;
    size_t n = 0;
    sp_err rv = sp_blob_get(r->srv->p->cfg->data, sha, SP_INTAKE_ATTACH_BYTES, &data, &n);
    if (rv == SP_ERR_NOT_FOUND)
        fetch_blob(r, s, e, a, sha);
    else if (rv != SP_OK)
        sp_http_internal_error(r, rv, "attachment");
    else
        sp_http_reply(r, 200, media_type(a), data, n);
    free(data);
}

void sp__http_attachment_get(sp_http_req *r) {
    uint8_t sha[SP_HASH_LEN];
    if (sp_http_authenticate(r, 0) != 0) return;
    if (hex_sha(r->params[1], sha) != 0) {
        sp_http_error(r, 404, "not_found",
                      "an attachment is named by the hex SHA-256 of its bytes");
        return;
    }
    sp_complaint_state s;
    if (sp__http_load_state(r, r->params[0], &s) != 0) return;
    sp_complaint_events e = {0};
    Simpul__V1__ComplaintContent *c = NULL;
    sp_viewer v = sp__http_viewer(r);
    sp_err rv = sp_view_load(r->srv->p, &s, &e);
    if (rv == SP_OK) rv = sp_view_content(r->srv->p, &s, &e, &v, &c);
    const Simpul__V1__Attachment *a = rv == SP_OK ? find_attachment(c, sha) : NULL;
    if (rv == SP_ERR_FORBIDDEN)
        sp_http_error(r, v.officer ? 403 : 401, v.officer ? "forbidden" : "unauthorized",
                      "this complaint's content is confidential");
    else if (rv != SP_OK && rv != SP_ERR_NOT_FOUND)
        sp_http_internal_error(r, rv, "attachment");
    else if (!a)
        sp_http_error(r, 404, "not_found", "complaint %s has no such attachment", s.id);
    else
        send_blob(r, &s, &e, a, sha); /* r may be answered and gone from here on */
    if (c) simpul__v1__complaint_content__free_unpacked(c, NULL);
    sp_view_events_free(&e);
    sp_state_clear(&s);
}

/* ---- statistics ---- */

static json_t *stats_json(const sp_stats *st, int gauges) {
    json_t *o = json_object();
    for (int i = 0; o && i < SP_STAT__COUNT; i++) {
        const char *name = sp_stat_name((sp_stat)i);
        int is_gauge = strncmp(name, "status_", 7) == 0, is_due = strncmp(name, "due_", 4) == 0;
        if (is_due || is_gauge != gauges) continue;
        json_object_set_new(o, gauges ? name + 7 : name, json_integer((json_int_t)st->v[i]));
    }
    return o;
}

static const char *const stats_names[] = {"region", "agency", "channel", NULL};

typedef struct {
    char region[SP_REGION_MAX + 1], agency[SP_MAX_ORIGIN + 1], channel[16];
    char scope[SP_STATS_SCOPE_MAX + 1]; /* the stats scope: the region or agency, sliced */
} stats_params;

/* region=, agency=, channel=; answers 400 naming the bad one and returns -1. */
static int stats_query(sp_http_req *r, stats_params *q) {
    uint32_t ch = 0;
    if (sp_http_query_only(r, stats_names) != 0 ||
        sp__http_read_param(r, "region", q->region, sizeof q->region) ||
        sp__http_read_param(r, "agency", q->agency, sizeof q->agency) ||
        sp__http_read_param(r, "channel", q->channel, sizeof q->channel))
        return -1;
    if (q->region[0] && q->agency[0])
        return sp__http_bad_param(r, "agency",
                                  "give at most one of region=<code> or agency=<node id>");
    if (q->channel[0] && sp_channel_parse(q->channel, &ch) != SP_OK)
        return sp__http_bad_param(r, "channel", "one channel: " CHANNELS);
    if (sp_stats_scope(q->scope, q->agency[0] ? q->agency : q->region, ch) != SP_OK)
        return sp__http_bad_param(r, q->agency[0] ? "agency" : "region",
                                  "a node id or a region code");
    return 0;
}

void sp__http_stats(sp_http_req *r) {
    stats_params q;
    if (stats_query(r, &q) != 0) return;
    sp_scope_kind kind = q.agency[0] ? SP_SCOPE_AGENCY : SP_SCOPE_REGION;
    sp_stats_current now;
    sp_stats total;
    uint64_t t = sp_wall_ms();
    sp_err rv = sp_complaints_stats_current(r->srv->p->complaints, kind, q.scope, t, &now);
    if (rv == SP_OK)
        rv = sp_complaints_stats_sum(r->srv->p->complaints, kind, q.scope, 1, 99991231, &total);
    if (rv != SP_OK) {
        sp_http_internal_error(r, rv, "statistics");
        return;
    }
    json_t *out = json_pack(
        "{s:s, s:s, s:s, s:s?, s:o, s:o, s:I, s:I, s:o}", "node", r->srv->p->self->id, "scope",
        q.agency[0] ? "agency" : "region", "code", q.agency[0] ? q.agency : q.region, "channel",
        q.channel[0] ? q.channel : NULL, "at", sp_json_time(t), "status",
        stats_json(&now.gauges, 1), "overdue", (json_int_t)now.overdue, "unanswered_overdue",
        (json_int_t)now.unanswered_overdue, "totals", stats_json(&total, 0));
    sp_http_reply_json(r, 200, out);
}
