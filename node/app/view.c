/*
 * The privacy rules of reads (node/app/view.h): loading a complaint's events, opening what this
 * node may open, rendering the complaint and its timeline as JSON.
 */
#include "node/app/view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "broker/hlc.h"
#include "node/app/pbjson.h"
#include "node/intake/intake.h"

/* ---- events ---- */

sp_err sp_view_load(const sp_daemon_parts *p, const sp_complaint_state *s,
                    sp_complaint_events *out) {
    sp_envelope *envs = NULL;
    memset(out, 0, sizeof *out);
    sp_err rv = sp_complaints_history(p->complaints, s->id, &out->hist, &out->n, &envs);
    if (rv == SP_ERR_NOT_FOUND) return SP_OK; /* no event stored (yet): an empty timeline */
    if (rv != SP_OK) return rv;
    if (!(out->ev = calloc(out->n ? out->n : 1, sizeof *out->ev))) rv = SP_ERR_NOMEM;
    for (size_t i = 0; rv == SP_OK && i < out->n; i++)
        if (envs[i].seq) /* stored here */
            out->ev[i] = simpul__v1__event__unpack(NULL, envs[i].body_len, envs[i].body);
    sp_envelopes_free(envs, out->n);
    if (rv != SP_OK) sp_view_events_free(out);
    return rv;
}

void sp_view_events_free(sp_complaint_events *e) {
    if (!e) return;
    for (size_t i = 0; e->ev && i < e->n; i++)
        if (e->ev[i]) simpul__v1__event__free_unpacked(e->ev[i], NULL);
    free(e->ev);
    free(e->hist);
    e->ev = NULL;
    e->hist = NULL;
    e->n = 0;
}

const Simpul__V1__ComplaintFiled *sp_view_filed(const sp_complaint_events *e) {
    for (size_t i = 0; i < e->n; i++)
        if (e->ev[i] && e->ev[i]->body_case == SIMPUL__V1__EVENT__BODY_FILED)
            return e->ev[i]->filed;
    return NULL;
}

int sp_view_is_intake(const sp_daemon_parts *p, const sp_complaint_state *s) {
    return strcmp(s->intake, p->self->id) == 0;
}

/* ---- opening sealed fields ---- */

/* Try the boxes addressed to us among keys[0..n). */
static sp_err unwrap_from(const sp_daemon_parts *p, const char *id, Simpul__V1__Sealed **keys,
                          size_t n, uint8_t key[SP_CONTENT_KEY_LEN]) {
    for (size_t i = 0; i < n; i++) {
        if (!keys[i]->recipient || strcmp(keys[i]->recipient, p->self->id) != 0) continue;
        uint8_t *pt = NULL;
        size_t len = 0;
        sp_err rv = sp_seal_open_ring(keys[i], p->seal, id, SP_FIELD_CONTENT_KEY, &pt, &len);
        if (rv == SP_OK && len == SP_CONTENT_KEY_LEN) memcpy(key, pt, len);
        if (pt) memset(pt, 0, len);
        free(pt);
        if (rv == SP_OK && len == SP_CONTENT_KEY_LEN) return SP_OK;
        sp_log_warn("view.unwrap", "complaint=%s error=\"%s\"", id, sp_strerror(rv));
    }
    return SP_ERR_NOT_FOUND;
}

sp_err sp_view_content_key(const sp_daemon_parts *p, const sp_complaint_state *s,
                           const sp_complaint_events *e, uint8_t key[SP_CONTENT_KEY_LEN]) {
    for (size_t i = 0; i < e->n; i++) {
        const Simpul__V1__Event *ev = e->ev[i];
        if (!ev) continue;
        sp_err rv = SP_ERR_NOT_FOUND;
        if (ev->body_case == SIMPUL__V1__EVENT__BODY_FILED)
            rv = unwrap_from(p, s->id, ev->filed->content_keys, ev->filed->n_content_keys, key);
        else if (ev->body_case == SIMPUL__V1__EVENT__BODY_DISPOSITIONED)
            rv = unwrap_from(p, s->id, ev->dispositioned->content_keys,
                             ev->dispositioned->n_content_keys, key);
        else if (ev->body_case == SIMPUL__V1__EVENT__BODY_PRIVACY_RAISED)
            rv = unwrap_from(p, s->id, ev->privacy_raised->content_keys,
                             ev->privacy_raised->n_content_keys, key);
        if (rv == SP_OK) return SP_OK;
    }
    return SP_ERR_NOT_FOUND;
}

/* Open a content box into a fresh message of type desc. */
static sp_err open_box(const uint8_t key[SP_CONTENT_KEY_LEN], const char *id, const char *field,
                       const ProtobufCBinaryData *box, const ProtobufCMessageDescriptor *desc,
                       ProtobufCMessage **out) {
    uint8_t *pt = NULL;
    size_t n = 0;
    sp_err rv = sp_content_open(key, id, field, box->data, box->len, &pt, &n);
    if (rv == SP_OK && !(*out = protobuf_c_message_unpack(desc, NULL, n, pt))) rv = SP_ERR_DECODE;
    if (pt) memset(pt, 0, n);
    free(pt);
    if (rv != SP_OK)
        sp_log_warn("view.open", "complaint=%s field=%s error=\"%s\"", id, field, sp_strerror(rv));
    return rv;
}

/* A copy of a clear message (pack + unpack keeps ownership rules simple). */
static sp_err copy_msg(const ProtobufCMessage *m, ProtobufCMessage **out) {
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return SP_ERR_NOMEM;
    protobuf_c_message_pack(m, buf);
    *out = protobuf_c_message_unpack(m->descriptor, NULL, n, buf);
    free(buf);
    return *out ? SP_OK : SP_ERR_NOMEM;
}

sp_err sp_view_content(const sp_daemon_parts *p, const sp_complaint_state *s,
                       const sp_complaint_events *e, const sp_viewer *v,
                       Simpul__V1__ComplaintContent **out) {
    const Simpul__V1__ComplaintFiled *f = sp_view_filed(e);
    *out = NULL;
    if (!f) return SP_ERR_NOT_FOUND;
    int confidential = s->privacy == SIMPUL__V1__PRIVACY__CONFIDENTIAL;
    if (confidential && !v->officer) return SP_ERR_FORBIDDEN;
    if (f->content) return copy_msg(&f->content->base, (ProtobufCMessage **)out);
    if (!f->sealed_content.len) return SP_ERR_NOT_FOUND;
    uint8_t key[SP_CONTENT_KEY_LEN];
    sp_err rv = sp_view_content_key(p, s, e, key);
    if (rv == SP_ERR_NOT_FOUND) return SP_ERR_FORBIDDEN; /* this node was never given the key */
    if (rv == SP_OK)
        rv = open_box(key, s->id, SP_FIELD_CONTENT, &f->sealed_content,
                      &simpul__v1__complaint_content__descriptor, (ProtobufCMessage **)out);
    memset(key, 0, sizeof key);
    return rv;
}

sp_err sp_view_identity(const sp_daemon_parts *p, const sp_complaint_state *s,
                        const sp_complaint_events *e, const sp_viewer *v,
                        Simpul__V1__ReporterIdentity **out) {
    const Simpul__V1__ComplaintFiled *f = sp_view_filed(e);
    const ProtobufCMessageDescriptor *d = &simpul__v1__reporter_identity__descriptor;
    *out = NULL;
    if (!v->officer) return SP_ERR_FORBIDDEN;
    if (!f || !f->reporter) return SP_ERR_NOT_FOUND;
    if (sp_view_is_intake(p, s)) {
        uint8_t *pt = NULL;
        size_t n = 0;
        sp_err rv = sp_seal_open_ring(f->reporter, p->seal, s->id, SP_FIELD_REPORTER, &pt, &n);
        if (rv == SP_OK && !(*out = simpul__v1__reporter_identity__unpack(NULL, n, pt)))
            rv = SP_ERR_DECODE;
        if (pt) memset(pt, 0, n);
        free(pt);
        return rv;
    }
    if (s->privacy == SIMPUL__V1__PRIVACY__ANONYMOUS || !f->sealed_reporter.len)
        return SP_ERR_FORBIDDEN;
    uint8_t key[SP_CONTENT_KEY_LEN];
    sp_err rv = sp_view_content_key(p, s, e, key);
    if (rv == SP_ERR_NOT_FOUND) return SP_ERR_FORBIDDEN;
    if (rv == SP_OK)
        rv = open_box(key, s->id, SP_FIELD_REPORTER_CK, &f->sealed_reporter, d,
                      (ProtobufCMessage **)out);
    memset(key, 0, sizeof key);
    return rv;
}

/* ---- JSON ---- */

static void set(json_t *o, const char *k, json_t *v) {
    json_object_set_new(o, k, v ? v : json_null());
}

static void set_str(json_t *o, const char *k, const char *s) {
    if (s && *s) set(o, k, json_string(s));
}

static json_t *content_json(const sp_complaint_state *s, const Simpul__V1__ComplaintContent *c,
                            int blobs_here, const char *base_url) {
    json_t *o =
        json_pack("{s:s, s:s}", "title", c->title ? c->title : "", "body", c->text ? c->text : "");
    if (!o) return NULL;
    if (c->has_location) set(o, "location", json_pack("{s:f, s:f}", "lat", c->lat, "lon", c->lon));
    set_str(o, "address", c->address);
    set_str(o, "address_id", c->address_id);
    set_str(o, "media_url", c->media_url);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < c->n_attachments; i++) {
        const Simpul__V1__Attachment *a = c->attachments[i];
        char hex[2 * SP_HASH_LEN + 1] = "", url[512] = "";
        if (a->sha256.len == SP_HASH_LEN) sp_hex(a->sha256.data, SP_HASH_LEN, hex);
        json_t *j = json_pack("{s:s, s:I, s:s, s:s}", "sha256", hex, "size", (json_int_t)a->size,
                              "media_type", a->media_type ? a->media_type : "", "name",
                              a->name ? a->name : "");
        if (j && blobs_here) { /* the intake node, or one entitled to fetch from it */
            snprintf(url, sizeof url, "%s/api/v1/complaints/%s/attachments/%s", base_url, s->id,
                     hex);
            set_str(j, "url", url);
        }
        if (j) json_array_append_new(arr, j);
    }
    set(o, "attachments", arr);
    return o;
}

static json_t *identity_json(const Simpul__V1__ReporterIdentity *w) {
    json_t *o = json_object();
    if (!o) return NULL;
    set_str(o, "name", w->name);
    set_str(o, "phone", w->phone);
    set_str(o, "email", w->email);
    set_str(o, "nik", w->nik);
    set_str(o, "handle", w->handle);
    return o;
}

static json_t *deadlines_json(const sp_complaint_state *s, uint64_t now) {
    json_t *o = json_object();
    if (!o) return NULL;
    set(o, "verify", sp_json_time(s->verify_due));
    set(o, "dispose", sp_json_time(s->dispose_due));
    set(o, "respond", sp_json_time(s->respond_due));
    set(o, "complete", sp_json_time(s->complete_due));
    set(o, "autoclose", sp_json_time(s->autoclose_at));
    set(o, "active", sp_json_time(sp_fold_active_deadline(s)));
    set(o, "overdue", json_boolean(sp_fold_overdue(s, now)));
    return o;
}

static json_t *times_json(const sp_complaint_state *s) {
    static const char *const names[] = {
        "filed",     "verified", "archived", "dispositioned", "first_response", "last_follow_up",
        "completed", "resolved", "reopened", "escalated",     "rerouted",       "updated"};
    const uint64_t v[] = {s->filed_at,         s->verified_at,       s->archived_at,
                          s->dispositioned_at, s->first_response_at, s->last_follow_up_at,
                          s->completed_at,     s->resolved_at,       s->reopened_at,
                          s->escalated_at,     s->rerouted_at,       s->updated_at};
    json_t *o = json_object();
    for (size_t i = 0; o && i < sizeof v / sizeof *v; i++)
        if (v[i]) set(o, names[i], sp_json_time(v[i]));
    return o;
}

/* Metadata every reader may see. */
static json_t *meta_json(const sp_complaint_state *s, uint64_t now) {
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", s->id, "status",
                  sp_status_name(s->status), "type", sp_type_name(s->type), "category", s->category,
                  "region", s->region, "channel", sp_channel_name(s->channel), "privacy",
                  sp_privacy_name(s->privacy), "intake", s->intake, "responsible", s->responsible);
    if (!o) return NULL;
    set_str(o, "agency", s->agency);
    set_str(o, "archive_reason", s->archive_reason);
    set(o, "timezone", json_string(sp_timezone_name(s->tz)));
    set(o, "times", times_json(s));
    set(o, "deadlines", deadlines_json(s, now));
    if (s->has_feedback)
        set(o, "feedback",
            json_pack("{s:b, s:i}", "satisfied", s->satisfied, "rating", (int)s->rating));
    return o;
}

/* ---- timeline ---- */

/* A text field that may be sealed under the content key: clear when visible, opened when we
 * hold the key, else left out. */
static void text_field(json_t *o, const char *name, const char *clear,
                       const ProtobufCBinaryData *sealed, const char *id, const uint8_t *key,
                       int visible) {
    if (!visible) return;
    if (clear && *clear) {
        set_str(o, name, clear);
        return;
    }
    if (!sealed || !sealed->len || !key) return;
    uint8_t *pt = NULL;
    size_t n = 0;
    if (sp_content_open(key, id, SP_FIELD_TEXT, sealed->data, sealed->len, &pt, &n) == SP_OK &&
        sp_utf8_valid((const char *)pt, n))
        set(o, name, json_stringn((const char *)pt, n));
    free(pt);
}

static void event_details(json_t *o, const Simpul__V1__Event *ev, const char *id,
                          const uint8_t *key, int visible) {
    switch (ev->body_case) {
    case SIMPUL__V1__EVENT__BODY_VERIFIED:
        text_field(o, "note", ev->verified->note, NULL, id, key, visible);
        break;
    case SIMPUL__V1__EVENT__BODY_ARCHIVED:
        set_str(o, "reason", ev->archived->reason);
        text_field(o, "note", ev->archived->note, NULL, id, key, visible);
        break;
    case SIMPUL__V1__EVENT__BODY_DISPOSITIONED:
        set_str(o, "agency", ev->dispositioned->agency);
        set_str(o, "rule", ev->dispositioned->rule);
        text_field(o, "note", ev->dispositioned->note, NULL, id, key, visible);
        break;
    case SIMPUL__V1__EVENT__BODY_FOLLOW_UP:
        text_field(o, "text", ev->follow_up->text, &ev->follow_up->sealed_text, id, key, visible);
        break;
    case SIMPUL__V1__EVENT__BODY_COMPLETED:
        text_field(o, "summary", ev->completed->summary, &ev->completed->sealed_summary, id, key,
                   visible);
        break;
    case SIMPUL__V1__EVENT__BODY_FEEDBACK:
        set(o, "satisfied", json_boolean(ev->feedback->satisfied));
        if (ev->feedback->rating) set(o, "rating", json_integer(ev->feedback->rating));
        text_field(o, "text", ev->feedback->text, NULL, id, key, visible);
        break;
    case SIMPUL__V1__EVENT__BODY_REOPENED:
        set_str(o, "reason", ev->reopened->reason);
        break;
    case SIMPUL__V1__EVENT__BODY_ESCALATED:
        set_str(o, "agency", ev->escalated->to_agency);
        set_str(o, "reason", ev->escalated->reason);
        break;
    case SIMPUL__V1__EVENT__BODY_REROUTED:
        set_str(o, "reason", ev->rerouted->reason);
        set_str(o, "suggested_agency", ev->rerouted->suggested_agency);
        break;
    case SIMPUL__V1__EVENT__BODY_COMMENTED:
        text_field(o, "text", ev->commented->text, &ev->commented->sealed_text, id, key, visible);
        break;
    case SIMPUL__V1__EVENT__BODY_PRIVACY_RAISED:
        set(o, "privacy", json_string(sp_privacy_name((uint32_t)ev->privacy_raised->privacy)));
        break;
    default:
        break;
    }
}

static json_t *timeline_json(const sp_complaint_state *s, const sp_complaint_events *e,
                             const sp_viewer *v, const uint8_t *key, int visible) {
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < e->n; i++) {
        const sp_history_entry *h = &e->hist[i];
        json_t *o = json_pack(
            "{s:o, s:s, s:s, s:s, s:s}", "at", sp_json_time(sp_hlc_ms(h->hlc)), "event",
            sp_ev_kind_name((sp_ev_kind)h->kind), "node", h->origin, "role",
            sp_role_name((sp_role)h->role), "status", sp_status_name((sp_status)h->status_after));
        if (!o) continue;
        if (h->verdict != SP_V_ACCEPTED)
            set(o, "refused",
                json_pack("{s:s, s:s}", "verdict", sp_verdict_name((sp_verdict)h->verdict),
                          "message", sp_verdict_message((sp_verdict)h->verdict)));
        const Simpul__V1__Event *ev = e->ev ? e->ev[i] : NULL;
        if (ev && v->officer) set_str(o, "actor", ev->actor);
        if (ev) event_details(o, ev, s->id, key, visible);
        json_array_append_new(arr, o);
    }
    return arr;
}

/* Content, identity and the key for the timeline's sealed texts, as far as the viewer may. */
static void private_parts(json_t *o, const sp_daemon_parts *p, const sp_complaint_state *s,
                          const sp_complaint_events *e, const sp_viewer *v, const char *base_url) {
    Simpul__V1__ComplaintContent *c = NULL;
    Simpul__V1__ReporterIdentity *w = NULL;
    sp_err rv = sp_view_content(p, s, e, v, &c);
    set(o, "content_visible", json_boolean(rv == SP_OK));
    if (rv == SP_OK) set(o, "content", content_json(s, c, v->blobs_here, base_url));
    if (c) simpul__v1__complaint_content__free_unpacked(c, NULL);
    if (sp_view_identity(p, s, e, v, &w) == SP_OK) set(o, "reporter", identity_json(w));
    if (w) simpul__v1__reporter_identity__free_unpacked(w, NULL);
    uint8_t key[SP_CONTENT_KEY_LEN];
    int has_key = v->officer && sp_view_content_key(p, s, e, key) == SP_OK;
    int visible = rv == SP_OK || (s->privacy != SIMPUL__V1__PRIVACY__CONFIDENTIAL);
    set(o, "timeline", timeline_json(s, e, v, has_key ? key : NULL, visible));
    memset(key, 0, sizeof key);
}

json_t *sp_view_complaint(const sp_daemon_parts *p, const sp_complaint_state *s,
                          const sp_complaint_events *e, const sp_viewer *v, const char *base_url,
                          uint64_t now_ms) {
    json_t *o = meta_json(s, now_ms);
    if (!o) return NULL;
    char url[512];
    snprintf(url, sizeof url, "%s/api/v1/complaints/%s", base_url, s->id);
    set(o, "url", json_string(url));
    set(o, "holder", json_string(sp_fold_holder(s)));
    set(o, "counts",
        json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "follow_ups", (int)s->follow_ups, "reroutes",
                  (int)s->reroutes, "escalations", (int)s->escalations, "reopens", (int)s->reopens,
                  "comments", (int)s->comments, "refused", (int)s->rejected));
    private_parts(o, p, s, e, v, base_url);
    return o;
}

/* The title from the filing event, if the viewer may see it. */
static json_t *title_of(const sp_daemon_parts *p, const sp_complaint_state *s, const sp_viewer *v) {
    if (s->privacy == SIMPUL__V1__PRIVACY__CONFIDENTIAL) return NULL; /* lists never open boxes */
    if (!s->filed_seq) return NULL;
    sp_envelope env;
    if (sp_feedlog_get(p->log, s->intake, s->filed_seq, &env) != SP_OK) return NULL;
    Simpul__V1__Event *ev = simpul__v1__event__unpack(NULL, env.body_len, env.body);
    sp_envelope_clear(&env);
    json_t *t = NULL;
    if (ev && ev->body_case == SIMPUL__V1__EVENT__BODY_FILED && ev->filed->content &&
        ev->filed->content->title)
        t = json_string(ev->filed->content->title);
    if (ev) simpul__v1__event__free_unpacked(ev, NULL);
    return t;
}

json_t *sp_view_summary(const sp_daemon_parts *p, const sp_complaint_state *s, const sp_viewer *v,
                        uint64_t now_ms) {
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:b}", "id", s->id, "status",
        sp_status_name(s->status), "type", sp_type_name(s->type), "category", s->category, "region",
        s->region, "privacy", sp_privacy_name(s->privacy), "holder", sp_fold_holder(s), "filed_at",
        sp_json_time(s->filed_at), "deadline", sp_json_time(sp_fold_active_deadline(s)),
        "overdue", sp_fold_overdue(s, now_ms));
    json_t *title = o ? title_of(p, s, v) : NULL;
    if (title) set(o, "title", title);
    return o;
}
