/*
 * Channel adapters (node/intake/channels.h): WhatsApp Business Cloud API and X Account Activity
 * webhooks, the 112 operator's filing, and an inbound e-mail, each to sp_intake_req.
 */
#include "node/intake/channels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "node/intake/intake_int.h"
#include "schemas/simpul.pb-c.h"

#define fail sp__intake_fail
#define INVALID(err, ...) fail(err, 400, "invalid_field", SP_ERR_INVAL, __VA_ARGS__)
#define NOT_OURS(err, what) fail(err, 400, "bad_json", SP_ERR_DECODE, "not %s", what)

void sp_channel_batch_free(sp_channel_batch *b) {
    if (!b) return;
    for (size_t i = 0; i < b->n; i++)
        sp_intake_req_free(&b->v[i].req);
    free(b->v);
    memset(b, 0, sizeof *b);
}

/* ---- signatures ---- */

static void hmac_sha256(const char *secret, const void *msg, size_t n, uint8_t out[32]) {
    unsigned len = 32;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), msg, n, out, &len);
}

static int hexval(char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* The digest a header carries, hex (Meta) or base64 (X). */
static int header_digest(const char *v, int b64, uint8_t out[32]) {
    if (b64) {
        uint8_t buf[48];
        size_t n = strlen(v);
        if (n != 44) return -1;
        if (EVP_DecodeBlock(buf, (const unsigned char *)v, (int)n) != 33) return -1;
        memcpy(out, buf, 32);
        return 0;
    }
    if (strlen(v) != 64) return -1;
    for (int i = 0; i < 32; i++) {
        int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (uint8_t)(hi * 16 + lo);
    }
    return 0;
}

int sp_channel_signature_ok(const char *header, const char *secret, const void *body, size_t n,
                            int b64) {
    uint8_t want[32], got[32];
    if (!header || !secret || !*secret || strncmp(header, "sha256=", 7) != 0) return 0;
    if (header_digest(header + 7, b64, got) != 0) return 0;
    hmac_sha256(secret, body, n, want);
    return CRYPTO_memcmp(want, got, sizeof want) == 0;
}

void sp_channel_hmac_b64(const char *secret, const char *msg, char out[64]) {
    uint8_t d[32];
    hmac_sha256(secret, msg, strlen(msg), d);
    EVP_EncodeBlock((unsigned char *)out, d, sizeof d);
}

/* ---- chat text ---- */

static int blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* "#anonim" / "#rahasia" (any case) opening text: the privacy, and the text after it. */
static const char *privacy_marker(const char *text, uint32_t *privacy) {
    static const struct {
        const char *word;
        uint32_t privacy;
    } marks[] = {{"#anonim", SIMPUL__V1__PRIVACY__ANONYMOUS},
                 {"#rahasia", SIMPUL__V1__PRIVACY__CONFIDENTIAL}};
    for (size_t m = 0; m < sizeof marks / sizeof *marks; m++) {
        size_t w = strlen(marks[m].word);
        if (strncasecmp(text, marks[m].word, w) == 0 && (blank(text[w]) || !text[w])) {
            *privacy = marks[m].privacy;
            for (text += w; blank(*text);)
                text++;
            return text;
        }
    }
    return text;
}

/* The node a first word names as its SMS keyword, and the text after it; else NULL. */
static const sp_topo_node *keyword_node(const sp_topology *topo, const char *text,
                                        const char **rest) {
    char kw[SP_SMS_KEYWORD_MAX + 1];
    const char *after;
    size_t len;
    if (sp_sms_split(text, strlen(text), kw, &after, &len) != SP_OK) return NULL;
    const sp_topo_node *node = sp_topology_find_by_keyword(topo, kw);
    if (node && node->code) *rest = after;
    return node && node->code ? node : NULL;
}

/* At most SP_INTAKE_TEXT_MAX bytes, cut on a character boundary: a long chat or mail is
 * kept in part rather than refused, since the citizen cannot be asked to send it again. */
static char *dup_capped(const char *s, size_t n) {
    if (n > SP_INTAKE_TEXT_MAX) {
        n = SP_INTAKE_TEXT_MAX;
        while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    return strndup(s, n);
}

sp_err sp_channel_chat_text(sp_intake_req *r, const sp_topology *topo, const sp_topo_node *self,
                            const char *text, size_t n, sp_intake_error *err) {
    char *copy = dup_capped(text, n);
    if (!copy) return SP_ERR_NOMEM;
    const char *rest = copy;
    const sp_topo_node *to = keyword_node(topo, copy, &rest);
    if (!to && self && self->code) to = self;
    sp_err rv = SP_OK;
    if (!to)
        rv = fail(err, 422, "unknown_keyword", SP_ERR_NOT_FOUND,
                  "start the message with the keyword of your kota or kabupaten");
    if (rv == SP_OK) {
        rest = privacy_marker(rest, &r->privacy);
        while (blank(*rest))
            rest++;
        rv = *rest ? sp__intake_set_text(r, NULL, rest, err)
                   : fail(err, 422, "unknown_keyword", SP_ERR_NOT_FOUND,
                          "the message has no complaint text");
    }
    if (rv == SP_OK) {
        snprintf(r->category, sizeof r->category, "%s", SP_CATEGORY_GENERAL);
        snprintf(r->region, sizeof r->region, "%s", to->code);
    }
    free(copy);
    return rv;
}

/* ---- batches ---- */

static sp_channel_msg *batch_add(sp_channel_batch *b) {
    if (b->n == SP_CHANNEL_MSGS_MAX) return NULL;
    sp_channel_msg *v = realloc(b->v, (b->n + 1) * sizeof *v);
    if (!v) return NULL;
    b->v = v;
    sp_channel_msg *m = &v[b->n++];
    memset(m, 0, sizeof *m);
    sp_intake_req_init(&m->req);
    return m;
}

/* A refused message keeps its reason (for the reply) and files nothing. */
static void refuse(sp_channel_msg *m, const sp_intake_error *why) {
    sp_intake_req_free(&m->req);
    m->refused = 1;
    m->why = *why;
}

static const char *str_at(json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static void copy_id(char dst[SP_CHANNEL_ID_MAX + 1], const char *s) {
    snprintf(dst, SP_CHANNEL_ID_MAX + 1, "%s", s);
}

static sp_err load_max(json_t **root, const char *body, size_t n, size_t max,
                       sp_intake_error *err) {
    json_error_t jerr;
    if (n > max)
        return fail(err, 413, "too_large", SP_ERR_TOO_BIG, "the body is larger than %zu bytes",
                    max);
    *root = json_loadb(body, n, JSON_REJECT_DUPLICATES, &jerr);
    if (!*root)
        return fail(err, 400, "bad_json", SP_ERR_DECODE, "not valid JSON: %s (line %d)", jerr.text,
                    jerr.line);
    return SP_OK;
}

static sp_err load(json_t **root, const char *body, size_t n, sp_intake_error *err) {
    return load_max(root, body, n, SP_CHANNEL_BODY_MAX, err);
}

/* Per-message outcome: SP_OK filed, a refusal kept; only NOMEM aborts the batch. */
static sp_err settle(sp_channel_msg *m, sp_err rv, const sp_intake_error *err) {
    if (rv == SP_ERR_NOMEM) return rv;
    if (rv != SP_OK) refuse(m, err);
    return SP_OK;
}

/* The end of a webhook's parse: on failure nothing of it is kept. */
static sp_err batch_done(sp_channel_batch *b, sp_err rv, sp_intake_error *err) {
    if (rv == SP_ERR_TOO_BIG)
        fail(err, 413, "too_large", rv, "more than %d messages in one delivery",
             SP_CHANNEL_MSGS_MAX);
    if (rv != SP_OK) sp_channel_batch_free(b);
    return rv;
}

/* ---- WhatsApp ---- */

static const char *wa_name(json_t *contacts, const char *wa_id) {
    size_t i;
    json_t *c;
    json_array_foreach(contacts, i, c) {
        if (strcmp(str_at(c, "wa_id"), wa_id) == 0)
            return json_string_value(json_object_get(json_object_get(c, "profile"), "name"));
    }
    return NULL;
}

/* The text of a location message: its name and address, which the citizen picked. */
static sp_err wa_location(sp_channel_msg *m, json_t *loc, const sp_topology *topo,
                          const sp_topo_node *self, sp_intake_error *err) {
    json_t *lat = json_object_get(loc, "latitude"), *lon = json_object_get(loc, "longitude");
    if (!json_is_number(lat) || !json_is_number(lon))
        return INVALID(err, "a location message without coordinates");
    m->req.has_location = 1;
    m->req.lat = json_number_value(lat);
    m->req.lon = json_number_value(lon);
    const char *name = str_at(loc, "name"), *addr = str_at(loc, "address");
    if (*addr && !(m->req.address = strndup(addr, SP_INTAKE_ADDRESS_MAX))) return SP_ERR_NOMEM;
    char text[2 * SP_INTAKE_ADDRESS_MAX + 32];
    snprintf(text, sizeof text, "Lokasi: %.300s%s%.300s", *name ? name : "(tanpa nama)",
             *addr ? ", " : "", addr);
    return sp_channel_chat_text(&m->req, topo, self, text, strlen(text), err);
}

static sp_err wa_content(sp_channel_msg *m, json_t *msg, const sp_topology *topo,
                         const sp_topo_node *self, sp_intake_error *err) {
    const char *type = str_at(msg, "type");
    if (strcmp(type, "text") == 0) {
        const char *t = str_at(json_object_get(msg, "text"), "body");
        return sp_channel_chat_text(&m->req, topo, self, t, strlen(t), err);
    }
    if (strcmp(type, "location") == 0)
        return wa_location(m, json_object_get(msg, "location"), topo, self, err);
    if (strcmp(type, "image") == 0) {
        json_t *img = json_object_get(msg, "image");
        const char *caption = str_at(img, "caption"), *id = str_at(img, "id");
        if (!*caption)
            return fail(err, 422, "unknown_keyword", SP_ERR_NOT_FOUND,
                        "a photo needs a caption that describes the complaint");
        char url[SP_CHANNEL_ID_MAX + 32];
        snprintf(url, sizeof url, "whatsapp-media:%.128s", id);
        copy_id(m->media_id, id);
        snprintf(m->media_sha256, sizeof m->media_sha256, "%s", str_at(img, "sha256"));
        if (*id && !(m->req.media_url = strdup(url))) return SP_ERR_NOMEM;
        return sp_channel_chat_text(&m->req, topo, self, caption, strlen(caption), err);
    }
    return fail(err, 422, "unknown_keyword", SP_ERR_NOT_FOUND,
                "messages of type '%.32s' are not complaints: send text, a location or a photo "
                "with a caption",
                type);
}

static sp_err wa_message(sp_channel_batch *b, json_t *msg, json_t *contacts,
                         const sp_topology *topo, const sp_topo_node *self) {
    sp_channel_msg *m = batch_add(b);
    if (!m) return SP_ERR_TOO_BIG;
    sp_intake_error err = {0};
    const char *from = str_at(msg, "from");
    copy_id(m->msg_id, str_at(msg, "id"));
    copy_id(m->reply_to, from);
    m->req.channel = SIMPUL__V1__CHANNEL__WHATSAPP;
    sp_err rv = *from && *m->msg_id ? wa_content(m, msg, topo, self, &err)
                                    : INVALID(&err, "a message without 'from' or 'id'");
    if (rv == SP_OK) {
        char phone[SP_CHANNEL_ID_MAX + 2];
        snprintf(phone, sizeof phone, "+%s", from);
        rv = sp__intake_set_identity(&m->req, wa_name(contacts, from), phone, NULL, NULL, &err);
    }
    return settle(m, rv, &err);
}

static sp_err wa_change(sp_channel_batch *b, json_t *change, const sp_topology *topo,
                        const sp_topo_node *self) {
    json_t *value = json_object_get(change, "value");
    json_t *msgs = json_object_get(value, "messages"),
           *contacts = json_object_get(value, "contacts");
    b->ignored += json_array_size(json_object_get(value, "statuses"));
    if (strcmp(str_at(change, "field"), "messages") != 0) {
        b->ignored++;
        return SP_OK;
    }
    sp_err rv = SP_OK;
    size_t i;
    json_t *msg;
    json_array_foreach(msgs, i, msg) {
        if (rv == SP_OK) rv = wa_message(b, msg, contacts, topo, self);
    }
    return rv;
}

sp_err sp_whatsapp_parse(sp_channel_batch *out, const sp_topology *topo, const sp_topo_node *self,
                         const char *body, size_t n, sp_intake_error *err) {
    json_t *root = NULL;
    memset(out, 0, sizeof *out);
    sp_err rv = load(&root, body, n, err);
    if (rv == SP_OK && strcmp(str_at(root, "object"), "whatsapp_business_account") != 0)
        rv = NOT_OURS(err, "a WhatsApp Business notification (object whatsapp_business_account)");
    size_t i, j;
    json_t *entry, *change;
    json_array_foreach(json_object_get(root, "entry"), i, entry) {
        json_array_foreach(json_object_get(entry, "changes"), j, change) {
            if (rv == SP_OK) rv = wa_change(out, change, topo, self);
        }
    }
    json_decref(root);
    return batch_done(out, rv, err);
}

static char *dump(json_t *o) {
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

char *sp_whatsapp_reply(const sp_channel_msg *m, const char *text) {
    return dump(json_pack("{s:s, s:s, s:s, s:s, s:{s:s}}", "messaging_product", "whatsapp",
                          "recipient_type", "individual", "to", m->reply_to, "type", "text", "text",
                          "body", text));
}

/* ---- X ---- */

/* The text after the leading @mentions ("@LAPOR1708 @pemkot jalan rusak"). */
static const char *after_mentions(const char *t) {
    for (;;) {
        while (blank(*t))
            t++;
        if (*t != '@') return t;
        while (*t && !blank(*t))
            t++;
    }
}

static sp_err x_sender(sp_channel_msg *m, json_t *user, sp_intake_error *err) {
    const char *id = str_at(user, "id_str");
    if (!*id) id = str_at(user, "id");
    if (!*id) return INVALID(err, "a sender without an id");
    char handle[2 * SP_CHANNEL_ID_MAX + 8];
    snprintf(handle, sizeof handle, "x:%.64s:@%.64s", id, str_at(user, "screen_name"));
    if (!(m->req.handle = strdup(handle))) return SP_ERR_NOMEM;
    const char *name = str_at(user, "name");
    return sp__intake_set_identity(&m->req, *name ? name : NULL, NULL, NULL, NULL, err);
}

static sp_err x_text(sp_channel_msg *m, const char *text, const sp_topology *topo,
                     const sp_topo_node *self, sp_intake_error *err) {
    m->req.channel = SIMPUL__V1__CHANNEL__SOCIAL;
    const char *t = after_mentions(text);
    return sp_channel_chat_text(&m->req, topo, self, t, strlen(t), err);
}

static void x_point(sp_channel_msg *m, json_t *tweet) {
    json_t *c = json_object_get(json_object_get(tweet, "coordinates"), "coordinates");
    json_t *lon = json_array_get(c, 0), *lat = json_array_get(c, 1);
    if (!json_is_number(lat) || !json_is_number(lon)) return;
    m->req.has_location = 1;
    m->req.lat = json_number_value(lat);
    m->req.lon = json_number_value(lon);
}

static sp_err x_tweet(sp_channel_batch *b, json_t *tw, const char *me, const sp_topology *topo,
                      const sp_topo_node *self) {
    json_t *user = json_object_get(tw, "user");
    if (json_object_get(tw, "retweeted_status") || strcmp(str_at(user, "id_str"), me) == 0) {
        b->ignored++; /* a retweet, or the account's own tweet */
        return SP_OK;
    }
    sp_channel_msg *m = batch_add(b);
    if (!m) return SP_ERR_TOO_BIG;
    sp_intake_error err = {0};
    copy_id(m->msg_id, str_at(tw, "id_str"));
    copy_id(m->reply_to, m->msg_id);
    const char *full = str_at(json_object_get(tw, "extended_tweet"), "full_text");
    sp_err rv = *m->msg_id ? x_text(m, *full ? full : str_at(tw, "text"), topo, self, &err)
                           : INVALID(&err, "a tweet without id_str");
    if (rv == SP_OK) rv = x_sender(m, user, &err);
    if (rv == SP_OK) x_point(m, tw);
    return settle(m, rv, &err);
}

static sp_err x_dm(sp_channel_batch *b, json_t *ev, json_t *users, const char *me,
                   const sp_topology *topo, const sp_topo_node *self) {
    json_t *mc = json_object_get(ev, "message_create");
    const char *sender = str_at(mc, "sender_id");
    if (strcmp(str_at(ev, "type"), "message_create") != 0 || strcmp(sender, me) == 0) {
        b->ignored++; /* not a message, or one the account sent */
        return SP_OK;
    }
    sp_channel_msg *m = batch_add(b);
    if (!m) return SP_ERR_TOO_BIG;
    sp_intake_error err = {0};
    copy_id(m->msg_id, str_at(ev, "id"));
    copy_id(m->reply_to, sender);
    m->direct = 1;
    json_t *user = json_object_get(users, sender);
    json_t *fallback = user ? NULL : json_pack("{s:s}", "id", sender);
    const char *text = str_at(json_object_get(mc, "message_data"), "text");
    sp_err rv = *m->msg_id && *sender ? x_text(m, text, topo, self, &err)
                                      : INVALID(&err, "a direct message without id or sender");
    if (rv == SP_OK) rv = x_sender(m, user ? user : fallback, &err);
    json_decref(fallback);
    return settle(m, rv, &err);
}

/* Every *_events array but the two we file: counted as ignored. */
static void x_count_others(sp_channel_batch *b, json_t *root) {
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v) {
        size_t n = strlen(k);
        if (n > 7 && strcmp(k + n - 7, "_events") == 0 && strcmp(k, "tweet_create_events") &&
            strcmp(k, "direct_message_events"))
            b->ignored += json_is_array(v) ? json_array_size(v) : 1;
    }
}

sp_err sp_x_parse(sp_channel_batch *out, const sp_topology *topo, const sp_topo_node *self,
                  const char *body, size_t n, sp_intake_error *err) {
    json_t *root = NULL;
    memset(out, 0, sizeof *out);
    sp_err rv = load(&root, body, n, err);
    const char *me = rv == SP_OK ? str_at(root, "for_user_id") : "";
    if (rv == SP_OK && !*me) rv = NOT_OURS(err, "an Account Activity event (for_user_id)");
    size_t i;
    json_t *ev, *users = json_object_get(root, "users");
    json_array_foreach(json_object_get(root, "tweet_create_events"), i, ev) {
        if (rv == SP_OK) rv = x_tweet(out, ev, me, topo, self);
    }
    json_array_foreach(json_object_get(root, "direct_message_events"), i, ev) {
        if (rv == SP_OK) rv = x_dm(out, ev, users, me, topo, self);
    }
    if (rv == SP_OK) x_count_others(out, root);
    json_decref(root);
    return batch_done(out, rv, err);
}

char *sp_x_reply(const sp_channel_msg *m, const char *text) {
    if (m->direct)
        return dump(json_pack("{s:{s:s, s:{s:{s:s}, s:{s:s}}}}", "event", "type", "message_create",
                              "message_create", "target", "recipient_id", m->reply_to,
                              "message_data", "text", text));
    return dump(
        json_pack("{s:s, s:{s:s}}", "text", text, "reply", "in_reply_to_tweet_id", m->reply_to));
}

/* ---- 112 ---- */

static int printable_id(const char *s) {
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e) return 0;
    return n > 0 && n <= SP_CHANNEL_ID_MAX;
}

/* The web JSON the call-taker's form sends, with "caller" as the reporter: checked by the web
 * parser itself, so that a 112 filing is validated exactly as any other. */
static sp_err call_as_web(json_t *root, char **web, sp_intake_error *err) {
    if (json_object_get(root, "reporter") || json_object_get(root, "channel"))
        return INVALID(err, "a 112 filing names the caller in 'caller'; its channel is 112");
    json_t *copy = json_copy(root);
    if (!copy) return SP_ERR_NOMEM;
    json_t *caller = json_object_get(copy, "caller");
    if (caller) json_object_set(copy, "reporter", caller);
    json_object_del(copy, "caller");
    json_object_del(copy, "call_id");
    *web = dump(copy);
    return *web ? SP_OK : SP_ERR_NOMEM;
}

sp_err sp_call_parse(sp_channel_msg *out, const char *body, size_t n, sp_intake_error *err) {
    json_t *root = NULL;
    char *web = NULL;
    memset(out, 0, sizeof *out);
    sp_intake_req_init(&out->req);
    sp_err rv = load_max(&root, body, n, SP_INTAKE_JSON_MAX, err);
    const char *call = json_string_value(json_object_get(root, "call_id"));
    if (rv == SP_OK && !json_is_object(root))
        rv = fail(err, 400, "bad_json", SP_ERR_DECODE, "the body must be a JSON object");
    else if (rv == SP_OK && (!call || !printable_id(call)))
        rv = fail(err, 400, "missing_field", SP_ERR_INVAL,
                  "'call_id' (the call centre's id of the call, 1-%d printable characters) is "
                  "required",
                  SP_CHANNEL_ID_MAX);
    if (rv == SP_OK) rv = call_as_web(root, &web, err);
    if (rv == SP_OK) rv = sp_intake_parse_json(&out->req, web, strlen(web), err);
    if (rv == SP_OK) {
        out->req.channel = SIMPUL__V1__CHANNEL__CALL_CENTER;
        copy_id(out->msg_id, call);
    }
    free(web);
    json_decref(root);
    if (rv != SP_OK) sp_intake_req_free(&out->req);
    return rv;
}

/* ---- e-mail ---- */

/* Subject as a title: at most SP_INTAKE_TITLE_MAX bytes, on a character boundary. */
static char *title_of(const char *subject) {
    size_t n = strlen(subject);
    if (n > SP_INTAKE_TITLE_MAX) {
        n = SP_INTAKE_TITLE_MAX;
        while (n && ((unsigned char)subject[n] & 0xc0) == 0x80)
            n--;
    }
    return strndup(subject, n);
}

/* The region's node: the mailbox (lapor-madiun@... or madiun@...), else the subject's first
 * word, else the receiving node. */
static const sp_topo_node *mail_node(const sp_topology *topo, const sp_topo_node *self,
                                     const sp_email *e, const char **subject) {
    const char *rest = NULL;
    if (e->to_local) {
        const char *local =
            strncasecmp(e->to_local, "lapor-", 6) == 0 ? e->to_local + 6 : e->to_local;
        const sp_topo_node *n = sp_topology_find_by_keyword(topo, local);
        if (n && n->code) return n;
    }
    const sp_topo_node *n = e->subject ? keyword_node(topo, e->subject, &rest) : NULL;
    if (n) {
        *subject = rest;
        return n;
    }
    return self && self->code ? self : NULL;
}

static sp_err mail_text(sp_intake_req *r, const char *subject, const char *text,
                        sp_intake_error *err) {
    char *title = title_of(subject), *body = dup_capped(text, strlen(text));
    sp_err rv = title && body ? SP_OK : SP_ERR_NOMEM;
    if (rv == SP_OK) {
        const char *t = privacy_marker(body, &r->privacy);
        if (!*t) t = title; /* an empty body: the subject says it all */
        rv = *t ? sp__intake_set_text(r, *title ? title : NULL, t, err)
                : fail(err, 422, "unknown_keyword", SP_ERR_NOT_FOUND,
                       "the message has neither a subject nor a text");
    }
    free(title);
    free(body);
    return rv;
}

sp_err sp_email_complaint(sp_channel_msg *out, const sp_topology *topo, const sp_topo_node *self,
                          sp_email *e, sp_intake_error *err) {
    memset(out, 0, sizeof *out);
    sp_intake_req_init(&out->req);
    const char *subject = e->subject ? e->subject : "";
    const sp_topo_node *to = mail_node(topo, self, e, &subject);
    sp_err rv = to ? SP_OK
                   : fail(err, 422, "unknown_keyword", SP_ERR_NOT_FOUND,
                          "write to the mailbox of your kota or kabupaten, or start the subject "
                          "with its keyword");
    if (rv == SP_OK) rv = mail_text(&out->req, subject, e->text ? e->text : "", err);
    if (rv == SP_OK)
        rv = sp__intake_set_identity(&out->req, e->from_name, NULL, e->from_addr, NULL, err);
    if (rv != SP_OK) {
        sp_intake_req_free(&out->req);
        return rv;
    }
    out->req.channel = SIMPUL__V1__CHANNEL__EMAIL;
    snprintf(out->req.category, sizeof out->req.category, "%s", SP_CATEGORY_GENERAL);
    snprintf(out->req.region, sizeof out->req.region, "%s", to->code);
    copy_id(out->msg_id, e->message_id ? e->message_id : "");
    copy_id(out->reply_to, e->from_addr);
    memcpy(out->req.att, e->att, sizeof e->att); /* moved */
    out->req.n_att = e->n_att;
    memset(e->att, 0, sizeof e->att);
    e->n_att = 0;
    return SP_OK;
}
