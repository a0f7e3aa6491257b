/*
 * The channel adapters' routes (docs/channels.md): the WhatsApp Business Cloud API and X
 * Account Activity webhooks with their handshakes, the 112 call-taker's filing, and the MTA
 * pipe of inbound e-mail. Each checks the channel's credential, parses with
 * node/intake/channels.h, and files every complaint through sp__http_submit with the channel's
 * message id as the idempotency key (platforms deliver again when unsure; a retry is answered
 * with the first filing, never filed twice). One delivery may carry several messages: the
 * request is answered once the last of them is durable, with the replies in the channel's own
 * format, for the node's outbound sender to send.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "base/log.h"
#include "node/app/media_fetch.h"
#include "node/http/http_int.h"
#include "node/intake/channels.h"
#include "node/intake/email.h"

typedef enum { CH_WHATSAPP, CH_X, CH_CALL, CH_EMAIL } channel;

typedef struct delivery delivery;

typedef struct {
    delivery *d;
    size_t i;
} slot;

/* One webhook delivery: its messages and, as they are filed, their outcomes. */
struct delivery {
    sp_http_req *r;
    channel ch;
    sp_channel_batch batch;
    sp_email mail;   /* CH_EMAIL: the message, for the reply */
    int want_rfc822; /* CH_EMAIL: the MTA asked for the reply message itself */
    slot slots[SP_CHANNEL_MSGS_MAX];
    char ids[SP_CHANNEL_MSGS_MAX][SP_TRACKING_ID_MAX];
    sp_err rv[SP_CHANNEL_MSGS_MAX];
    int replayed[SP_CHANNEL_MSGS_MAX];
    atomic_size_t pending;
};

static const char *const scopes[] = {
    [CH_WHATSAPP] = "whatsapp", [CH_X] = "x", [CH_CALL] = "112", [CH_EMAIL] = "email"};

static void delivery_free(delivery *d) {
    sp_channel_batch_free(&d->batch);
    sp_email_free(&d->mail);
    free(d);
}

/* A closed channel: its secret is not in this node's configuration. */
static int closed(sp_http_req *r, const char *secret, const char *what, const char *key) {
    if (secret && *secret) return 0;
    sp_http_error(r, 404, "not_found", "the %s channel is not configured on this node (%s)", what,
                  key);
    return 1;
}

/* ---- answers ---- */

/* What the citizen reads back: the tracking number, or how to write a complaint. */
static void citizen_text(const delivery *d, size_t i, char *buf, size_t cap) {
    if (!d->batch.v[i].refused) {
        sp_sms_filed_reply(d->ids[i], buf, cap);
        return;
    }
    char help[400];
    sp_sms_help(d->r->srv->p->topo, d->r->srv->p->self, help, sizeof help);
    snprintf(buf, cap, "Maaf, pesan Anda belum tercatat sebagai aduan. %s", help);
}

static json_t *chat_reply(const delivery *d, size_t i) {
    char text[600];
    citizen_text(d, i, text, sizeof text);
    char *msg = d->ch == CH_WHATSAPP ? sp_whatsapp_reply(&d->batch.v[i], text)
                                     : sp_x_reply(&d->batch.v[i], text);
    json_t *j = msg ? json_loads(msg, 0, NULL) : NULL;
    free(msg);
    return j;
}

/* WhatsApp and X: 200 with the filed ids and one reply per message, in the platform's format. */
static void answer_chat(delivery *d) {
    json_t *filed = json_array(), *replies = json_array(), *refused = json_array();
    for (size_t i = 0; filed && replies && refused && i < d->batch.n; i++) {
        const sp_channel_msg *m = &d->batch.v[i];
        if (m->refused)
            json_array_append_new(refused,
                                  json_pack("{s:s, s:s, s:s}", "message_id", m->msg_id, "error",
                                            m->why.code, "message", m->why.message));
        else
            json_array_append_new(filed, json_pack("{s:s, s:s, s:b}", "message_id", m->msg_id,
                                                   "tracking_number", d->ids[i], "replayed",
                                                   d->replayed[i]));
        json_t *rep = chat_reply(d, i);
        if (rep) json_array_append_new(replies, rep);
    }
    sp_http_reply_json(d->r, 200,
                       json_pack("{s:o, s:o, s:I, s:o}", "filed", filed, "refused", refused,
                                 "ignored", (json_int_t)d->batch.ignored, "replies", replies));
}

static void answer_call(delivery *d) {
    char base[256], url[400], script[300];
    sp_http_base_url(d->r, base, sizeof base);
    snprintf(url, sizeof url, "%s/api/v1/complaints/%s", base, d->ids[0]);
    snprintf(script, sizeof script,
             "Aduan Anda sudah tercatat dengan nomor %s. Cek statusnya dengan SMS CEK %s ke 1708.",
             d->ids[0], d->ids[0]);
    json_t *out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "id", d->ids[0], "tracking_number",
                            d->ids[0], "url", url, "channel", "call-center", "script", script,
                            "replayed", d->replayed[0]);
    sp__http_reply_json_hdr(d->r, d->replayed[0] ? 200 : 201, out,
                            d->replayed[0] ? "Idempotent-Replayed" : NULL,
                            d->replayed[0] ? "true" : NULL);
}

/* E-mail: 201 (filed) or 422 (refused, the reply says how to write), with the reply to send
 * back to the citizen as a message (Accept: message/rfc822) or inside JSON. */
static void answer_email(delivery *d) {
    const char *from = d->r->srv->p->cfg->email_address;
    char text[600], *reply = NULL;
    int refused = d->batch.v[0].refused, status = refused ? 422 : d->replayed[0] ? 200 : 201;
    citizen_text(d, 0, text, sizeof text);
    if (!refused) strncat(text, "\n\nBalasan otomatis SP4N-LAPOR!", sizeof text - strlen(text) - 1);
    if (sp_email_reply(&d->mail, from ? from : "lapor@localhost", text, &reply) != SP_OK) {
        sp_http_internal_error(d->r, SP_ERR_NOMEM, "reply");
        return;
    }
    if (d->want_rfc822) {
        sp_http_reply(d->r, status, "message/rfc822", reply, strlen(reply));
    } else {
        json_t *o = json_pack("{s:s?, s:s?, s:s}", "tracking_number", refused ? NULL : d->ids[0],
                              "error", refused ? d->batch.v[0].why.code : NULL, "reply", reply);
        sp_http_reply_json(d->r, status, o);
    }
    free(reply);
}

/* Every message's outcome is in: answer. A failure to store one (not a refusal) asks the
 * platform to deliver again: what was filed is answered from its key then. */
static void answer(delivery *d) {
    for (size_t i = 0; i < d->batch.n; i++) {
        if (d->batch.v[i].refused || d->rv[i] == SP_OK) continue;
        if (d->rv[i] == SP_ERR_LOCKED) /* the same message is being filed by another delivery */
            sp__http_error_hdr(d->r, 409, "conflict", "Retry-After", "1",
                               "message %s is being filed: deliver it again shortly",
                               d->batch.v[i].msg_id);
        else
            sp_http_internal_error(d->r, d->rv[i], "filing");
        delivery_free(d);
        return;
    }
    switch (d->ch) {
    case CH_WHATSAPP:
    case CH_X:
        answer_chat(d);
        break;
    case CH_CALL:
        answer_call(d);
        break;
    case CH_EMAIL:
        answer_email(d);
        break;
    }
    delivery_free(d);
}

static void filed(void *arg, sp_http_req *r, sp_err rv, const char *id, int replayed) {
    slot *s = arg;
    delivery *d = s->d;
    (void)r;
    d->rv[s->i] = rv;
    d->replayed[s->i] = replayed;
    if (id) snprintf(d->ids[s->i], SP_TRACKING_ID_MAX, "%s", id);
    if (atomic_fetch_sub(&d->pending, 1) == 1) answer(d);
}

/* File every message that is not refused; answer when the last is durable (or now). */
static void file_all(delivery *d) {
    size_t todo = 0;
    for (size_t i = 0; i < d->batch.n; i++)
        todo += !d->batch.v[i].refused;
    atomic_store(&d->pending, todo + 1); /* + 1: ours, so nobody answers while we submit */
    for (size_t i = 0; i < d->batch.n; i++) {
        sp_channel_msg *m = &d->batch.v[i];
        if (m->refused) continue;
        d->slots[i] = (slot){d, i};
        sp_intake_replier rep = {filed, &d->slots[i], scopes[d->ch]};
        sp_intake_error err;
        if (sp_intake_check(&m->req, d->r->srv->p->topo, &err) != SP_OK) {
            sp_intake_req_free(&m->req);
            m->refused = 1;
            m->why = err;
            atomic_fetch_sub(&d->pending, 1);
            continue;
        }
        sp__http_submit(d->r, &m->req, SP_REPLY_CHANNEL, m->msg_id, &rep);
    }
    if (atomic_fetch_sub(&d->pending, 1) == 1) answer(d);
}

static delivery *delivery_new(sp_http_req *r, channel ch) {
    delivery *d = calloc(1, sizeof *d);
    if (!d) {
        sp_http_internal_error(r, SP_ERR_NOMEM, "delivery");
        return NULL;
    }
    d->r = r;
    d->ch = ch;
    return d;
}

/* The parse result of a webhook: file it, or answer its error. */
static void take(sp_http_req *r, delivery *d, sp_err rv, const sp_intake_error *err) {
    if (rv == SP_OK) {
        file_all(d);
        return;
    }
    delivery_free(d);
    if (rv == SP_ERR_NOMEM)
        sp_http_internal_error(r, rv, "delivery");
    else
        sp_http_intake_error(r, err);
}

/* ---- WhatsApp ---- */

#define GRAPH_URL "https://graph.facebook.com/v19.0"
#define MEDIA_TIMEOUT_MS 5000

/* The photo of m as its attachment, fetched from Meta; on failure the complaint keeps the
 * media reference (media_url) and is filed all the same: the text is the complaint. */
static void fetch_photo(const sp_media_source *src, sp_channel_msg *m) {
    sp_intake_attachment *a = &m->req.att[0];
    sp_err rv = sp_media_fetch(src, m->media_id, m->media_sha256, &a->data, &a->len, a->media_type);
    if (rv != SP_OK) {
        sp_log_warn("whatsapp.media", "media=%s error=%s detail=\"filed with the reference\"",
                    m->media_id, sp_errname(rv));
        return;
    }
    const char *slash = strchr(a->media_type, '/');
    snprintf(a->name, sizeof a->name, "whatsapp-%.64s.%.16s", m->media_id,
             slash && slash[1] ? slash + 1 : "bin");
    m->req.n_att = 1;
    free(m->req.media_url); /* the photo itself replaces the reference */
    m->req.media_url = NULL;
}

static void *fetch_then_file(void *arg) {
    delivery *d = arg;
    const sp_node_config *cfg = d->r->srv->p->cfg;
    sp_media_source src = {cfg->whatsapp_graph_url ? cfg->whatsapp_graph_url : GRAPH_URL,
                           cfg->whatsapp_token, MEDIA_TIMEOUT_MS, SP_INTAKE_ATTACH_BYTES};
    for (size_t i = 0; i < d->batch.n; i++)
        if (!d->batch.v[i].refused && d->batch.v[i].media_id[0]) fetch_photo(&src, &d->batch.v[i]);
    file_all(d);
    return NULL;
}

/* Photos are fetched on a thread of their own (two Graph API requests each): the HTTP
 * server's threads are not held up; the delivery is answered once its complaints are filed. */
static void file_whatsapp(delivery *d) {
    int photos = 0;
    for (size_t i = 0; i < d->batch.n; i++)
        photos |= !d->batch.v[i].refused && d->batch.v[i].media_id[0];
    pthread_t t;
    pthread_attr_t attr;
    if (!photos || !d->r->srv->p->cfg->whatsapp_token || pthread_attr_init(&attr) != 0) {
        file_all(d);
        return;
    }
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, fetch_then_file, d) != 0) file_all(d);
    pthread_attr_destroy(&attr);
}

/* Meta's subscription check: echo hub.challenge when hub.verify_token is ours. */
void sp__http_whatsapp_verify(sp_http_req *r) {
    const char *want = r->srv->p->cfg->whatsapp_verify_token;
    if (closed(r, want, "WhatsApp", "channels.whatsapp_verify_token")) return;
    char mode[32], token[256], challenge[256];
    if (sp_http_query(r, "hub.mode", mode, sizeof mode) != 1 ||
        sp_http_query(r, "hub.verify_token", token, sizeof token) != 1 ||
        sp_http_query(r, "hub.challenge", challenge, sizeof challenge) != 1 ||
        strcmp(mode, "subscribe") != 0) {
        sp_http_error(r, 400, "invalid_field",
                      "expected hub.mode=subscribe, hub.verify_token "
                      "and hub.challenge");
        return;
    }
    if (strlen(token) != strlen(want) || CRYPTO_memcmp(token, want, strlen(want)) != 0) {
        sp_http_error(r, 403, "forbidden", "hub.verify_token does not match");
        return;
    }
    sp_http_reply(r, 200, "text/plain; charset=utf-8", challenge, strlen(challenge));
}

static int signed_ok(sp_http_req *r, const char *header, const char *secret, int b64) {
    if (sp_channel_signature_ok(sp_http_header(r, header), secret, r->body, r->body_len, b64))
        return 1;
    sp_http_error(r, 401, "unauthorized", "%s is missing or is not the body's signature", header);
    return 0;
}

typedef sp_err (*webhook_parse)(sp_channel_batch *, const sp_topology *, const sp_topo_node *,
                                const char *, size_t, sp_intake_error *);

/* A chat platform's delivery: signed with the channel's secret, parsed, filed. */
typedef struct {
    channel ch;
    const char *name, *key, *sig_header;
    int b64; /* the signature in base64 (X), else hex (Meta) */
    webhook_parse parse;
    void (*file)(delivery *d);
} webhook;

static void take_webhook(sp_http_req *r, const webhook *w, const char *secret) {
    if (closed(r, secret, w->name, w->key) || !signed_ok(r, w->sig_header, secret, w->b64)) return;
    delivery *d = delivery_new(r, w->ch);
    sp_intake_error err = {0};
    if (!d) return;
    sp_err rv = w->parse(&d->batch, r->srv->p->topo, r->srv->p->self, (const char *)r->body,
                         r->body_len, &err);
    if (rv == SP_OK) {
        w->file(d);
        return;
    }
    take(r, d, rv, &err);
}

void sp__http_whatsapp(sp_http_req *r) {
    static const webhook w = {CH_WHATSAPP,           "WhatsApp", "channels.whatsapp_app_secret",
                              "X-Hub-Signature-256", 0,          sp_whatsapp_parse,
                              file_whatsapp};
    take_webhook(r, &w, r->srv->p->cfg->whatsapp_app_secret);
}

/* ---- X ---- */

/* The challenge-response check X makes when the webhook is registered, and hourly after. */
void sp__http_x_crc(sp_http_req *r) {
    const char *secret = r->srv->p->cfg->x_consumer_secret;
    if (closed(r, secret, "X", "channels.x_consumer_secret")) return;
    char token[256], digest[64], answer_token[80];
    if (sp_http_query(r, "crc_token", token, sizeof token) != 1 || !token[0]) {
        sp_http_error(r, 400, "invalid_field", "expected crc_token");
        return;
    }
    sp_channel_hmac_b64(secret, token, digest);
    snprintf(answer_token, sizeof answer_token, "sha256=%s", digest);
    sp_http_reply_json(r, 200, json_pack("{s:s}", "response_token", answer_token));
}

void sp__http_x(sp_http_req *r) {
    static const webhook w = {
        CH_X,       "X",     "channels.x_consumer_secret", "X-Twitter-Webhooks-Signature", 1,
        sp_x_parse, file_all};
    take_webhook(r, &w, r->srv->p->cfg->x_consumer_secret);
}

/* ---- 112 ---- */

/* A delivery of exactly one message (batch.v[0]), for the routes that carry one; NULL after
 * answering when memory runs out. */
static delivery *single_delivery(sp_http_req *r, channel ch) {
    delivery *d = delivery_new(r, ch);
    if (d && !(d->batch.v = calloc(1, sizeof *d->batch.v))) {
        delivery_free(d);
        sp_http_internal_error(r, SP_ERR_NOMEM, "delivery");
        return NULL;
    }
    if (d) d->batch.n = 1;
    return d;
}

/* The call-taker files on behalf of the caller, with an officer token of this node: the token
 * name is the event's actor, the caller's identity is sealed as any reporter's. */
void sp__http_call(sp_http_req *r) {
    if (sp_http_authenticate(r, 1) != 0) return;
    delivery *d = single_delivery(r, CH_CALL);
    if (!d) return;
    sp_channel_msg *m = d->batch.v;
    sp_intake_error err = {0};
    sp_err rv = sp_call_parse(m, (const char *)r->body, r->body_len, &err);
    if (rv == SP_OK) snprintf(m->req.actor, sizeof m->req.actor, "%s", r->token.name);
    take(r, d, rv, &err);
}

/* ---- e-mail ---- */

static int email_token_ok(sp_http_req *r, const char *want) {
    const char *auth = sp_http_header(r, "Authorization");
    const char *got = auth && strncasecmp(auth, "Bearer ", 7) == 0 ? auth + 7 : "";
    if (strlen(got) == strlen(want) && CRYPTO_memcmp(got, want, strlen(want)) == 0) return 1;
    sp__http_error_hdr(r, 401, "unauthorized", "WWW-Authenticate", "Bearer realm=\"simpul\"",
                       "the MTA pipe must send Authorization: Bearer <channels.email_token>");
    return 0;
}

static int accepts(const sp_http_req *r, const char *type) {
    const char *a = sp_http_header(r, "Accept");
    return a && strstr(a, type);
}

/* The MTA pipe posts the message as it arrived (message/rfc822). */
void sp__http_email(sp_http_req *r) {
    const char *token = r->srv->p->cfg->email_token;
    if (closed(r, token, "e-mail", "channels.email_token") || !email_token_ok(r, token)) return;
    const char *ct = sp_http_header(r, "Content-Type");
    if (ct && strncasecmp(ct, "message/rfc822", 14) != 0) {
        sp_http_error(r, 415, "unsupported_media_type", "send the message as message/rfc822");
        return;
    }
    delivery *d = single_delivery(r, CH_EMAIL);
    if (!d) return;
    sp_channel_msg *m = d->batch.v;
    sp_intake_error err = {0};
    d->want_rfc822 = accepts(r, "message/rfc822");
    sp_err rv = sp_email_parse((const char *)r->body, r->body_len, &d->mail, &err);
    if (rv == SP_OK) rv = sp_email_complaint(m, r->srv->p->topo, r->srv->p->self, &d->mail, &err);
    if (rv == SP_ERR_NOT_FOUND) { /* nowhere to file it: the reply says how to write */
        m->refused = 1;
        m->why = err;
        rv = SP_OK;
    }
    take(r, d, rv, &err);
}
