/*
 * Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2): discovery, service list,
 * service definitions, POST and GET requests, every one in .json and .xml. The answers are
 * built as JSON values in the order the specification lists the fields, and written as XML
 * shaped as its examples when the path ends in ".xml": a list is a root element whose
 * children are named after it (services/service, service_requests/request, errors/error,
 * attributes/attribute, values/value), a field an element, an absent value an empty element.
 * Every answer on these paths, errors included, is in the spec's formats: the XML writer is in
 * http_reply.c (sp__http_o311_reply), which answers errors too.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "broker/hlc.h"
#include "node/app/blob_fetch.h"
#include "node/app/view.h"
#include "node/http/http_int.h"
#include "node/intake/blobs.h"
#include "schemas/simpul.pb-c.h"

#define O311_MAX 1000   /* requests in one GET requests answer (the spec's default) */
#define O311_IDS_MAX 50 /* ids in one service_request_id list */
#define O311_CODES_MAX 16
#define CHANGESET "2026-12-04T00:00:00+07:00" /* when this API last changed (discovery) */

/* ---- discovery and services ---- */

void sp__http_o311_discovery(sp_http_req *r) {
    char base[256], url[300], contact[300];
    sp_http_base_url(r, base, sizeof base);
    snprintf(url, sizeof url, "%s/open311/v2", base);
    snprintf(contact, sizeof contact, "%s (SP4N-LAPOR!, node %s)", r->srv->p->self->name,
             r->srv->p->self->id);
    const char *keys = r->srv->p->cfg->open311_api_keys;
    json_t *out = json_pack(
        "{s:s, s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:[s, s]}]}", "changeset", CHANGESET, "contact",
        contact, "key_service",
        keys ? "POST requests needs an api_key: ask this node's operators for one"
             : "POST requests needs no api_key on this node",
        "endpoints", "specification", "http://wiki.open311.org/GeoReport_v2", "url", url,
        "changeset", CHANGESET, "type", "production", "formats", "application/json", "text/xml");
    sp__http_o311_reply(r, 200, out, "discovery", NULL, NULL);
}

/* The category of routing rule i, or "umum" past the last; NULL for the catch-all. */
static const char *service_at(const sp_topology *t, size_t i) {
    const char *cat =
        i < sp_topology_route_count(t) ? sp_topology_route_at(t, i)->category : SP_CATEGORY_GENERAL;
    return strcmp(cat, "*") == 0 ? NULL : cat;
}

static int service_known(const sp_topology *t, const char *code) {
    for (size_t i = 0; i <= sp_topology_route_count(t); i++) {
        const char *cat = service_at(t, i);
        if (cat && strcmp(cat, code) == 0) return 1;
    }
    return 0;
}

static json_t *service_json(const char *cat) {
    char group[SP_CATEGORY_MAX + 1], desc[SP_CATEGORY_MAX + 32], words[SP_CATEGORY_MAX + 1];
    snprintf(group, sizeof group, "%.*s", (int)strcspn(cat, "/"), cat);
    snprintf(desc, sizeof desc, "Aduan kategori %s", cat);
    snprintf(words, sizeof words, "%s", cat);
    for (char *p = words; *p; p++)
        if (*p == '/' || *p == '-') *p = ',';
    return json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:s}", "service_code", cat, "service_name",
                     cat, "description", desc, "metadata", 1, "type", "realtime", "keywords", words,
                     "group", group);
}

/* The distinct categories of the routing rules (and "umum"): Open311's services. */
void sp__http_o311_services(sp_http_req *r) {
    const sp_topology *t = r->srv->p->topo;
    json_t *arr = json_array(), *seen = json_object();
    for (size_t i = 0; arr && seen && i <= sp_topology_route_count(t); i++) {
        const char *cat = service_at(t, i);
        if (!cat || json_object_get(seen, cat)) continue;
        json_object_set_new(seen, cat, json_true());
        json_array_append_new(arr, service_json(cat));
    }
    json_decref(seen);
    sp__http_o311_reply(r, 200, arr, "services", NULL, NULL);
}

static json_t *value_list(const char *const *keys, const char *const *names) {
    json_t *arr = json_array();
    for (size_t i = 0; arr && keys[i]; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s}", "key", keys[i], "name", names[i]));
    return arr;
}

static json_t *attribute(const char *code, const char *datatype, int order, const char *desc,
                         json_t *values) {
    json_t *a = json_pack("{s:b, s:s, s:s, s:b, s:n, s:i, s:s}", "variable", 1, "code", code,
                          "datatype", datatype, "required", 0, "datatype_description", "order",
                          order, "description", desc);
    if (a) json_object_set_new(a, "values", values ? values : json_array());
    return a;
}

/* The attributes every service takes (intake_channels.c: sp_open311_attributes). */
static json_t *attributes(void) {
    static const char *const types[] = {"pengaduan", "aspirasi", "permintaan-informasi", NULL};
    static const char *const type_names[] = {"Pengaduan", "Aspirasi", "Permintaan informasi"};
    static const char *const privacy[] = {"public", "anonymous", "confidential", NULL};
    static const char *const privacy_names[] = {
        "Publik", "Anonim (identitas tidak dibuka ke instansi)",
        "Rahasia (isi hanya untuk instansi yang berwenang)"};
    json_t *arr = json_array();
    if (!arr) return NULL;
    json_array_append_new(arr, attribute("title", "string", 1, "Judul singkat aduan", NULL));
    json_array_append_new(arr, attribute("type", "singlevaluelist", 2, "Jenis laporan",
                                         value_list(types, type_names)));
    json_array_append_new(arr, attribute("privacy", "singlevaluelist", 3, "Kerahasiaan",
                                         value_list(privacy, privacy_names)));
    json_array_append_new(arr,
                          attribute("nik", "string", 4,
                                    "NIK pelapor (16 angka; disegel, tidak pernah terbuka)", NULL));
    return arr;
}

void sp__http_o311_service(sp_http_req *r) {
    const char *code = r->params[0];
    if (!service_known(r->srv->p->topo, code)) {
        sp_http_error(r, 404, "not_found", "service_code '%s' was not found", code);
        return;
    }
    json_t *out = json_pack("{s:s, s:o}", "service_code", code, "attributes", attributes());
    sp__http_o311_reply(r, 200, out, "service_definition", NULL, NULL);
}

/* ---- POST requests ---- */

/* api_key in keys ("k1,k2"), compared without an early exit on the first differing byte. */
static int api_key_ok(const char *keys, const char *given) {
    int ok = 0;
    size_t gn = given ? strlen(given) : 0;
    for (const char *k = keys; gn && *k;) {
        size_t kn = strcspn(k, ",");
        unsigned diff = kn != gn;
        for (size_t i = 0; i < kn; i++)
            diff |= (unsigned char)k[i] ^ (unsigned char)given[i % gn];
        ok |= !diff;
        k += kn + (k[kn] == ',');
    }
    return ok;
}

/* The spec has no 422: a refused field is its 400. */
static void o311_intake_error(sp_http_req *r, sp_intake_error *err) {
    if (err->status == 422) err->status = 400;
    sp_http_intake_error(r, err);
}

static sp_err parse_form(sp_http_req *r, sp_form_pair **pairs, size_t *n, sp_intake_error *err) {
    sp_err rv = sp_form_parse((const char *)r->body, r->body_len, pairs, n);
    if (rv == SP_OK || rv == SP_ERR_NOMEM) return rv;
    snprintf(err->message, sizeof err->message,
             "the body is not a valid form (x-www-form-urlencoded)");
    err->status = 400;
    err->code = "invalid_field";
    return rv;
}

void sp__http_o311_create(sp_http_req *r) {
    const char *ct = sp_http_header(r, "Content-Type");
    if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
        sp_http_error(r, 415, "unsupported_media_type",
                      "send the request as application/x-www-form-urlencoded");
        return;
    }
    sp_form_pair *pairs = NULL;
    size_t n = 0;
    sp_intake_req req;
    sp_intake_error err = {0};
    sp_intake_req_init(&req);
    sp_err rv = parse_form(r, &pairs, &n, &err);
    const char *keys = r->srv->p->cfg->open311_api_keys;
    if (rv == SP_OK && keys && !api_key_ok(keys, sp_form_get(pairs, n, "api_key"))) {
        sp_form_free(pairs, n);
        sp_http_error(r, 403, "forbidden",
                      "Invalid api_key received -- can't proceed with create_request.");
        return;
    }
    const char *self_region = r->srv->p->self->code ? r->srv->p->self->code : "";
    if (rv == SP_OK) rv = sp_open311_parse(&req, pairs, n, self_region, &err);
    if (rv == SP_OK) rv = sp_intake_check(&req, r->srv->p->topo, &err);
    sp_form_free(pairs, n);
    if (rv == SP_OK) {
        sp__http_submit(r, &req, SP_REPLY_OPEN311, NULL, NULL);
        return;
    }
    sp_intake_req_free(&req);
    if (rv == SP_ERR_NOMEM)
        sp_http_internal_error(r, rv, "request");
    else
        o311_intake_error(r, &err);
}

/* ---- GET requests ---- */

static int o311_closed(sp_status st) {
    return st == SP_ST_ARCHIVED || st == SP_ST_COMPLETED || st == SP_ST_RESOLVED;
}

/* W3C date-time in the region's zone ("2026-12-04T09:30:00+07:00"); null for 0. */
static json_t *o311_time(uint64_t ms, uint32_t tz) {
    if (!ms) return json_null();
    int hours = 7 + (int)(tz <= SP_TZ_WIT ? tz : 0);
    time_t t = (time_t)(ms / 1000) + hours * 3600;
    struct tm tm;
    char buf[40];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "+%02d:00", hours);
    return json_string(buf);
}

static void set_text(json_t *o, const char *key, const char *v) {
    json_object_set_new(o, key, v && *v ? json_string(v) : json_null());
}

static void attachment_url(char *url, size_t cap, const char *base, const sp_complaint_state *s,
                           const Simpul__V1__Attachment *a) {
    char hex[2 * SP_HASH_LEN + 1];
    sp_hex(a->sha256.data, a->sha256.len == SP_HASH_LEN ? SP_HASH_LEN : 0, hex);
    snprintf(url, cap, "%s/api/v1/complaints/%s/attachments/%s", base, s->id, hex);
}

/* What the reader may see of the content: description, address, position, media. */
static void o311_content(json_t *o, sp_http_req *r, const sp_complaint_state *s, const char *base) {
    sp_complaint_events e = {0};
    Simpul__V1__ComplaintContent *c = NULL;
    sp_viewer v = sp__http_viewer(r);
    char url[512] = "";
    if (sp_view_load(r->srv->p, s, &e) == SP_OK &&
        sp_view_content(r->srv->p, s, &e, &v, &c) == SP_OK) {
        set_text(o, "description", c->text);
        set_text(o, "address", c->address);
        set_text(o, "address_id", c->address_id);
        if (c->has_location) {
            json_object_set_new(o, "lat", json_real(c->lat));
            json_object_set_new(o, "long", json_real(c->lon));
        }
        if (c->n_attachments && sp_blob_served_here(r->srv->p, s, &e))
            attachment_url(url, sizeof url, base, s, c->attachments[0]); /* fetched if need be */
        else if (c->media_url && *c->media_url)
            snprintf(url, sizeof url, "%s", c->media_url);
        set_text(o, "media_url", url);
    }
    if (c) simpul__v1__complaint_content__free_unpacked(c, NULL);
    sp_view_events_free(&e);
}

static const char *agency_name(const sp_topology *t, const char *id) {
    const sp_topo_node *n = id[0] ? sp_topology_find(t, id) : NULL;
    return n && n->name ? n->name : id;
}

/* One request with every field of the spec, in its order (absent ones null). */
static json_t *o311_request(sp_http_req *r, const sp_complaint_state *s, const char *base) {
    json_t *o = json_object();
    if (!o) return NULL;
    set_text(o, "service_request_id", s->id);
    set_text(o, "status", o311_closed(s->status) ? "closed" : "open");
    set_text(o, "status_notes",
             s->archive_reason[0] ? s->archive_reason : sp_status_name(s->status));
    set_text(o, "service_name", s->category);
    set_text(o, "service_code", s->category);
    set_text(o, "description", NULL); /* the content may be confidential: filled below */
    set_text(o, "agency_responsible", agency_name(r->srv->p->topo, sp_fold_holder(s)));
    set_text(o, "service_notice", NULL);
    json_object_set_new(o, "requested_datetime", o311_time(s->filed_at, s->tz));
    json_object_set_new(o, "updated_datetime", o311_time(s->updated_at, s->tz));
    json_object_set_new(o, "expected_datetime", o311_time(sp_fold_active_deadline(s), s->tz));
    static const char *const later[] = {"address", "address_id", "zipcode",
                                        "lat",     "long",       "media_url"};
    for (size_t i = 0; i < sizeof later / sizeof *later; i++)
        set_text(o, later[i], NULL);
    set_text(o, "jurisdiction_id", s->region);
    o311_content(o, r, s, base);
    return o;
}

void sp__http_o311_get(sp_http_req *r) {
    if (sp_http_authenticate(r, 0) != 0) return;
    sp_complaint_state s;
    if (sp__http_load_state(r, r->params[0], &s) != 0) return;
    char base[256];
    sp_http_base_url(r, base, sizeof base);
    json_t *one = o311_request(r, &s, base);
    sp_state_clear(&s);
    sp__http_o311_reply(r, 200, one ? json_pack("[o]", one) : NULL, "service_requests", NULL, NULL);
}

/* service_request_id=a,b,c: each one that exists (the spec: other parameters are ignored). */
static void o311_by_ids(sp_http_req *r, const char *ids, const char *base) {
    json_t *arr = json_array();
    char buf[O311_IDS_MAX * SP_TRACKING_ID_MAX];
    snprintf(buf, sizeof buf, "%s", ids);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); arr && t;
         t = strtok_r(NULL, ",", &save)) {
        sp_complaint_state s;
        char id[SP_TRACKING_ID_MAX];
        sp_state_init(&s, "");
        if (sp_tracking_normalize(t, id) == SP_OK &&
            sp_complaints_get(r->srv->p->complaints, id, 0, &s) == SP_OK)
            json_array_append_new(arr, o311_request(r, &s, base));
        sp_state_clear(&s);
    }
    sp__http_o311_reply(r, 200, arr, "service_requests", NULL, NULL);
}

static int two_digits(const char *s, int *out) {
    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1])) return -1;
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    return 0;
}

/* The zone of a W3C date-time after its seconds: "", "Z", "+07:00", "-0800". Minutes east. */
static int zone_minutes(const char *z, int *east) {
    int h, m;
    *east = 0;
    if (!*z || strcmp(z, "Z") == 0) return 0;
    if ((z[0] != '+' && z[0] != '-') || two_digits(z + 1, &h)) return -1;
    const char *mm = z[3] == ':' ? z + 4 : z + 3;
    if (two_digits(mm, &m) || mm[2] || h > 14 || m > 59) return -1;
    *east = (z[0] == '-' ? -1 : 1) * (h * 60 + m);
    return 0;
}

/* Open311 dates: W3C "YYYY-MM-DD" or "YYYY-MM-DDThh:mm[:ss][.fff](Z|±hh:mm)"; no zone is
 * UTC. Unix ms into *out; 0 when absent. */
static int o311_date(const char *s, uint64_t *out) {
    int y, mo, d, h = 0, mi = 0, se = 0, used = 0, east;
    *out = 0;
    if (!*s) return 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3 || used != 10) return -1;
    const char *rest = s + 10;
    if (*rest == 'T') {
        if (sscanf(rest, "T%2d:%2d%n", &h, &mi, &used) != 2 || used != 6) return -1;
        rest += used;
        if (*rest == ':') {
            if (two_digits(rest + 1, &se)) return -1;
            rest += 3;
        }
        if (*rest == '.')
            for (rest++; isdigit((unsigned char)*rest);)
                rest++;
    }
    if (zone_minutes(rest, &east) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        se > 60)
        return -1;
    int64_t secs = (int64_t)sp_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se -
                   (int64_t)east * 60;
    if (secs < 0) return -1;
    *out = (uint64_t)secs * 1000;
    return 0;
}

static const char *const o311_names[] = {"jurisdiction_id",
                                         "service_request_id",
                                         "service_code",
                                         "status",
                                         "start_date",
                                         "end_date",
                                         NULL};

typedef struct {
    char ids[O311_IDS_MAX * SP_TRACKING_ID_MAX], codes[O311_CODES_MAX * (SP_CATEGORY_MAX + 1)],
        status[32], start[40], end[40], region[SP_REGION_MAX + 1];
    uint64_t from, to;
    uint32_t status_mask; /* 0: open and closed */
} o311_params;

static int o311_read(sp_http_req *r, o311_params *q) {
    return sp_http_query_only(r, o311_names) != 0 ||
                   sp__http_read_param(r, "jurisdiction_id", q->region, sizeof q->region) ||
                   sp__http_read_param(r, "service_request_id", q->ids, sizeof q->ids) ||
                   sp__http_read_param(r, "service_code", q->codes, sizeof q->codes) ||
                   sp__http_read_param(r, "status", q->status, sizeof q->status) ||
                   sp__http_read_param(r, "start_date", q->start, sizeof q->start) ||
                   sp__http_read_param(r, "end_date", q->end, sizeof q->end)
               ? -1
               : 0;
}

/* "open", "closed" or "open,closed" into the mask of our statuses. */
static int status_list(const char *list, uint32_t *mask) {
    char buf[32];
    *mask = 0;
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int closed = strcmp(t, "closed") == 0;
        if (!closed && strcmp(t, "open") != 0) return -1;
        for (int st = SP_ST_FILED; st < SP_ST__COUNT; st++)
            if (o311_closed((sp_status)st) == closed) *mask |= 1u << st;
    }
    return 0;
}

static int codes_ok(const char *list) {
    char buf[sizeof((o311_params *)0)->codes];
    size_t n = 0;
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (!sp__http_category_ok(t) || ++n > O311_CODES_MAX) return 0;
    return 1;
}

static int o311_query(sp_http_req *r, o311_params *q) {
    memset(q, 0, sizeof *q);
    if (o311_read(r, q) != 0) return -1;
    if (strchr(q->region, '/')) return sp__http_bad_param(r, "jurisdiction_id", "a region code");
    if (q->codes[0] && !codes_ok(q->codes))
        return sp__http_bad_param(r, "service_code", "service codes, comma-separated");
    if (status_list(q->status, &q->status_mask))
        return sp__http_bad_param(r, "status", "open, closed or open,closed");
    if (o311_date(q->start, &q->from))
        return sp__http_bad_param(r, "start_date", "a W3C date-time, 2026-11-20T00:00:00+07:00");
    if (o311_date(q->end, &q->to))
        return sp__http_bad_param(r, "end_date", "a W3C date-time, 2026-11-27T00:00:00+07:00");
    if (!q->from) /* the spec's default window: the 90 days before the end (or now) */
        q->from = (q->to ? q->to : sp_wall_ms()) - 90ull * 86400000;
    return 0;
}

/* The requests of one service code (NULL: any) matching q, appended to arr up to O311_MAX. */
static sp_err list_code(sp_http_req *r, const o311_params *q, const char *code, json_t *arr,
                        const char *base) {
    sp_complaint_filter f = {.now_ms = sp_wall_ms(), .filed_from = q->from, .filed_to = q->to};
    f.region = q->region[0] ? q->region : NULL;
    f.category = code;
    f.status_mask = q->status_mask;
    size_t room = O311_MAX - json_array_size(arr);
    if (!room) return SP_OK;
    sp_complaint_page pg;
    sp_err rv = sp_complaints_list(r->srv->p->complaints, &f, NULL, room, &pg);
    if (rv != SP_OK) return rv;
    for (size_t i = 0; i < pg.n; i++)
        json_array_append_new(arr, o311_request(r, &pg.v[i], base));
    sp_complaint_page_free(&pg);
    return SP_OK;
}

void sp__http_o311_list(sp_http_req *r) {
    o311_params q;
    char base[256];
    if (sp_http_authenticate(r, 0) != 0 || o311_query(r, &q) != 0) return;
    sp_http_base_url(r, base, sizeof base);
    if (q.ids[0]) {
        o311_by_ids(r, q.ids, base);
        return;
    }
    json_t *arr = json_array();
    sp_err rv = arr ? SP_OK : SP_ERR_NOMEM;
    if (rv == SP_OK && !q.codes[0]) rv = list_code(r, &q, NULL, arr, base);
    for (char *save = NULL, *t = strtok_r(q.codes, ",", &save); rv == SP_OK && t;
         t = strtok_r(NULL, ",", &save))
        rv = list_code(r, &q, t, arr, base);
    if (rv != SP_OK) {
        json_decref(arr);
        sp_http_internal_error(r, rv, "complaint list");
        return;
    }
    sp__http_o311_reply(r, 200, arr, "service_requests", NULL, NULL);
}
