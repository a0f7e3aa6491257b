/*
 * Channel adapters: what WhatsApp, X, the 112 call centre and e-mail deliver, turned into the
 * same sp_intake_req the web form gives (node/intake/intake.h), so that every channel is
 * validated, sealed and filed the same way. docs/channels.md says how an agency connects each.
 *
 * Pure functions like the other parsers: no I/O, no clock, no global state. Checking a
 * webhook's signature is here too (HMAC-SHA256 over the raw body, compared in constant time)
 * so that it is tested and fuzzed with the parsers.
 *
 * Where a chat message goes: a first word that is a node's SMS keyword (as in a 1708 SMS)
 * sends it to that node's region and is dropped from the text; otherwise it goes to the
 * region of the node that received it. "#anonim" / "#rahasia" after it set the privacy. The
 * category is "umum": the verifier sets the real one. The sender's number or account is the
 * reporter identity, which sp_intake_build seals: it is never in an event in clear.
 */
#ifndef SP_CHANNELS_H
#define SP_CHANNELS_H

#include <stddef.h>
#include <stdint.h>

#include "node/intake/email.h"
#include "node/intake/intake.h"

#define SP_CHANNEL_ID_MAX 255          /* a channel's message id, a sender's id */
#define SP_CHANNEL_MSGS_MAX 32         /* messages filed from one webhook delivery */
#define SP_CHANNEL_BODY_MAX (1u << 20) /* a webhook's JSON body */

/* One complaint a channel delivered. */
typedef struct {
    sp_intake_req req;                    /* the complaint, identity inside (sealed later) */
    char msg_id[SP_CHANNEL_ID_MAX + 1];   /* the channel's id of the message: idempotency key */
    char reply_to[SP_CHANNEL_ID_MAX + 1]; /* WhatsApp: wa_id; X: user id (DM) or tweet id */
    int direct;                           /* X: a direct message, not a public mention */
    /* WhatsApp image: Meta's media id and the SHA-256 it announced (base64), for the node to
     * fetch the photo (node/app/media_fetch.h); "" otherwise */
    char media_id[SP_CHANNEL_ID_MAX + 1];
    char media_sha256[96];
    /* A message that files nothing (unknown keyword, no text): the reason, for the reply */
    int refused;
    sp_intake_error why;
} sp_channel_msg;

typedef struct {
    sp_channel_msg *v; /* n messages, owned */
    size_t n;
    size_t ignored; /* notifications that carry no message (statuses, own tweets, typing...) */
} sp_channel_batch;

void sp_channel_batch_free(sp_channel_batch *b); /* accepts NULL; leaves it empty */

/* Whether `header` ("sha256=<hex>" or, with b64 set, "sha256=<base64>") is the HMAC-SHA256 of
 * body under secret. Constant time in the digest. */
int sp_channel_signature_ok(const char *header, const char *secret, const void *body, size_t n,
                            int b64);
/* base64(HMAC-SHA256(secret, msg)) into out (NUL-terminated). X's CRC response token. */
void sp_channel_hmac_b64(const char *secret, const char *msg, char out[64]);

/* Chat text (WhatsApp, X) to r's text, region and privacy by the rule above. SP_ERR_NOT_FOUND
 * (422 unknown_keyword) when there is no keyword and self has no region, or no text. */
sp_err sp_channel_chat_text(sp_intake_req *r, const sp_topology *topo, const sp_topo_node *self,
                            const char *text, size_t n, sp_intake_error *err);

/* A WhatsApp Business Cloud API webhook body (object "whatsapp_business_account", entry[]
 * .changes[] .value .messages[] with .contacts[]): text messages, locations (name and address
 * as the text when there is no other, coordinates as the location) and images (the caption
 * as the text, the media id in media_id and as media_url "whatsapp-media:<id>" until the
 * photo itself is fetched). Statuses and other
 * notifications are counted in ignored. Errors: SP_ERR_DECODE (400 bad_json: not a WhatsApp
 * notification), SP_ERR_TOO_BIG (413), SP_ERR_NOMEM. Per-message refusals are in the batch. */
sp_err sp_whatsapp_parse(sp_channel_batch *out, const sp_topology *topo, const sp_topo_node *self,
                         const char *body, size_t n, sp_intake_error *err);
/* The Cloud API message that answers m ({"messaging_product":"whatsapp", "to", "type":"text",
 * "text":{"body"}}) as JSON text into a fresh string. */
char *sp_whatsapp_reply(const sp_channel_msg *m, const char *text);

/* An X Account Activity API webhook body: tweet_create_events (mentions of the account
 * for_user_id; its own tweets and retweets are ignored) and direct_message_events of type
 * message_create sent to it. Leading @mentions are dropped from the text; a tweet's point
 * coordinates are its location. The sender is the reporter ("x:<id>:@<screen name>" as the
 * sealed handle, the display name as name). Errors as sp_whatsapp_parse. */
sp_err sp_x_parse(sp_channel_batch *out, const sp_topology *topo, const sp_topo_node *self,
                  const char *body, size_t n, sp_intake_error *err);
/* The X API v2 request that answers m: a reply tweet {"text", "reply":{"in_reply_to_tweet_id"}}
 * for a mention, a direct message {"event":{"type":"message_create", "message_create":
 * {"target":{"recipient_id"}, "message_data":{"text"}}}} for a DM. A fresh string. */
char *sp_x_reply(const sp_channel_msg *m, const char *text);

/* The 112 operator's filing: the web JSON (docs/api.md) with "caller" for "reporter" and a
 * required "call_id" (the call centre's id of the call: the idempotency key), channel
 * call-center. Errors as sp_intake_parse_json. */
sp_err sp_call_parse(sp_channel_msg *out, const char *body, size_t n, sp_intake_error *err);

/* An inbound e-mail (node/intake/email.h) to a complaint: subject as the title, the text as
 * the complaint (the subject when the body is empty), attachments kept, From as the reporter
 * (name and e-mail). Region: the To address's local part when it is a node's SMS keyword,
 * else a keyword opening the subject, else the receiving node's. msg_id is the Message-ID.
 * Errors as sp_email_parse, and SP_ERR_NOT_FOUND (422 unknown_keyword) as
 * sp_channel_chat_text. On success the e-mail's attachments are moved into out->req. */
sp_err sp_email_complaint(sp_channel_msg *out, const sp_topology *topo, const sp_topo_node *self,
                          sp_email *email, sp_intake_error *err);

#endif
