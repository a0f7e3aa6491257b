/*
 * Complaint intake: from what a channel sends (web/app JSON, a 1708 SMS, an Open311 form) to a
 * validated sp_intake_req, and from a request to the body of its ComplaintFiled event with
 * every private field sealed (DESIGN §5, node/intake/seal.h).
 *
 * Parsing is pure (no I/O, no clock, no global state) so that it is unit-tested and fuzzed
 * without a server: every input is either a request or an sp_intake_error saying which field is
 * wrong and why, with the HTTP status to answer. Limits are checked before anything is kept.
 *
 * Privacy rules applied by sp_intake_build (the only place a ComplaintFiled is made):
 *  - the reporter's identity is never in an event in clear: it is sealed to the intake node
 *    (Sealed "reporter"), and, unless anonymous, put under the complaint's content key too
 *    (ComplaintFiled.sealed_reporter, field "reporter-ck") so that nodes holding the key
 *    (the responsible node, later the assigned agency) can reach the reporter;
 *  - every complaint gets a fresh random content key, wrapped for the intake node and for the
 *    node responsible for the region (ComplaintFiled.content_keys, field "content-key");
 *  - confidential complaints keep title, text, location and attachment metadata only inside
 *    sealed_content (field "content"); `content` stays empty.
 * Every box is bound to the tracking id, which depends on the filing number the intake node
 * gives the complaint (node/lifecycle/fold.h), not on the event's seq: a body can be sealed before the
 * feed log's lock is taken and stays valid whatever seq it gets.
 *
 * Thread-safety: all functions are reentrant; a request belongs to one thread at a time.
 */
#ifndef SP_INTAKE_H
#define SP_INTAKE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "broker/crypto.h"
#include "node/lifecycle/fold.h"
#include "topology/topology.h"

#define SP_INTAKE_TITLE_MAX 200  /* bytes of UTF-8 */
#define SP_INTAKE_TEXT_MAX 10000 /* bytes of UTF-8 */
#define SP_INTAKE_NAME_MAX 120
#define SP_INTAKE_PHONE_MAX 20
#define SP_INTAKE_EMAIL_MAX 254
#define SP_INTAKE_ADDRESS_MAX 300
#define SP_INTAKE_MEDIA_MAX 127           /* media type, attachment name */
#define SP_INTAKE_ATTACH_MAX 4            /* attachments per complaint */
#define SP_INTAKE_ATTACH_BYTES (2u << 20) /* decoded bytes per attachment */
#define SP_INTAKE_JSON_MAX (12u << 20)    /* request body of POST /api/v1/complaints */
#define SP_SMS_TEXT_MAX 1600              /* a long (concatenated) SMS */
#define SP_SMS_KEYWORD_MAX 64
#define SP_CATEGORY_GENERAL "umum" /* category of complaints that name none (SMS) */

typedef struct {
    char name[SP_INTAKE_MEDIA_MAX + 1];
    char media_type[SP_INTAKE_MEDIA_MAX + 1];
    uint8_t *data; /* decoded bytes, owned; freed (NULL) once stored as a blob */
    size_t len;
    uint8_t sha256[SP_HASH_LEN]; /* set by the caller when stored */
} sp_intake_attachment;

/* A validated complaint as a channel submitted it. Strings are NUL-terminated UTF-8. */
typedef struct {
    uint32_t type;      /* simpul.v1.ComplaintType (1..3) */
    uint32_t channel;   /* simpul.v1.Channel */
    uint32_t privacy;   /* simpul.v1.Privacy (0..2) */
    char *title, *text; /* owned; title may be "" */
    char category[SP_CATEGORY_MAX + 1];
    char region[SP_REGION_MAX + 1];
    int has_location;
    double lat, lon;
    char *address, *address_id; /* where, in the channel's words; owned; NULL when not given */
    char *media_url;            /* a picture the client points to; owned; NULL when none */
    char *name, *phone, *email, *nik; /* reporter identity, owned; NULL when not given */
    char *handle; /* the reporter on a channel without phone or e-mail (X); owned; or NULL */
    sp_intake_attachment att[SP_INTAKE_ATTACH_MAX];
    size_t n_att;
    /* Who files it on the citizen's behalf (the 112 call-taker's token name), the event's
     * actor; "" when the citizen files it through the channel (the actor is the channel). */
    char actor[65];
} sp_intake_req;

/* Why a submission was refused: the HTTP status, a stable code for programs, a message for
 * people (naming the field). */
typedef struct {
    int status;       /* 400, 413, 422 */
    const char *code; /* static: "bad_json", "missing_field", "invalid_field", "too_large",
                         "unknown_category", "unknown_region", "unknown_keyword" */
    char message[256];
} sp_intake_error;

void sp_intake_req_init(sp_intake_req *r);
/* Free everything r owns and re-initialise it. Accepts NULL. */
void sp_intake_req_free(sp_intake_req *r);
/* Whether the request carries any reporter identity. */
int sp_intake_has_identity(const sp_intake_req *r);

/* ---- channels (pure) ---- */

/* Web/app JSON (docs/api.md): {"title","body","category","region","type","channel",
 * "privacy","location":{"lat","lon"},"reporter":{"name","phone","email","nik"},
 * "attachments":[{"name","media_type","data"(base64)}]}. On SP_OK *out is filled (free it);
 * otherwise SP_ERR_DECODE / SP_ERR_INVAL / SP_ERR_TOO_BIG with *err set, and *out is empty.
 * The topology is not consulted: see sp_intake_check. */
sp_err sp_intake_parse_json(sp_intake_req *out, const char *buf, size_t n, sp_intake_error *err);
/* Category and region against the topology: SP_ERR_NOT_FOUND with err "unknown_category" /
 * "unknown_region" (422). */
sp_err sp_intake_check(const sp_intake_req *r, const sp_topology *topo, sp_intake_error *err);
/* Whether complaints of `category` are known to the federation: "umum", a routing rule's
 * category or one of its subcategories (any well-formed category when the topology has no
 * category rules). */
int sp_category_known(const sp_topology *topo, const char *category);
/* Whether s is a well-formed category: [a-z0-9-]+ ('/' [a-z0-9-]+)*, <= SP_CATEGORY_MAX. */
int sp_category_valid(const char *s);

/* Split a 1708 SMS "<KEYWORD> <text>": the keyword (first word, <= SP_SMS_KEYWORD_MAX bytes)
 * into keyword, and (*rest, *rest_len) the text after the blanks that follow it (borrowed from
 * text). SP_ERR_INVAL when there is no keyword or no text. */
sp_err sp_sms_split(const char *text, size_t n, char keyword[SP_SMS_KEYWORD_MAX + 1],
                    const char **rest, size_t *rest_len);
/* A whole SMS from sender `from` to a request: keyword looked up in the topology (ignoring
 * case), region = the keyword's node's region, category "umum", channel SMS, the sender's
 * number as the (sealed) reporter phone. An optional "#anonim" or "#rahasia" right after the
 * keyword sets the privacy. Errors as sp_intake_parse_json; an unknown keyword is
 * SP_ERR_NOT_FOUND with code "unknown_keyword" (then see sp_sms_help). */
sp_err sp_sms_parse(sp_intake_req *out, const sp_topology *topo, const char *from, const char *text,
                    size_t n, sp_intake_error *err);
/* The replies an SMS gateway sends back. Each writes a NUL-terminated text into buf (cap > 0),
 * cut to fit, and returns its length.
 * help: how to write an SMS, with the keywords of the answering node self (or of its children
 * when it has none) and how to check a complaint's status (CEK). */
size_t sp_sms_help(const sp_topology *topo, const sp_topo_node *self, char *buf, size_t cap);
/* The tracking number of a filed complaint and how to check it by SMS. */
size_t sp_sms_filed_reply(const char *id, char *buf, size_t cap);
/* A complaint's status for CEK <tracking>: status words, the agency's name where one holds it,
 * and when it last changed in the region's time zone. Metadata only: no text of the complaint. */
size_t sp_sms_status_reply(const sp_topology *topo, const sp_complaint_state *s, char *buf,
                           size_t cap);
/* The body of POST /api/v1/intake/sms: JSON {"from","text"[,"message_id"]} or a form
 * "from=..&text=..[&message_id=..]" (content_type decides; NULL means JSON). *from and *text
 * are malloc'ed; *message_id too when the gateway sent its message id (a retried delivery
 * carries the same one), else NULL. */
sp_err sp_sms_request_parse(const char *body, size_t n, const char *content_type, char **from,
                            char **text, char **message_id, sp_intake_error *err);

/* application/x-www-form-urlencoded, decoded. */
typedef struct {
    char *key, *val;
} sp_form_pair;
#define SP_FORM_MAX_PAIRS 64
/* Parse buf[0..n): *out is a fresh array of *count pairs (sp_form_free). SP_ERR_DECODE on bad
 * %-escapes or invalid UTF-8, SP_ERR_TOO_BIG over SP_FORM_MAX_PAIRS, SP_ERR_NOMEM. */
sp_err sp_form_parse(const char *buf, size_t n, sp_form_pair **out, size_t *count);
/* The value of the first pair named key, or NULL. */
const char *sp_form_get(const sp_form_pair *p, size_t n, const char *key);
void sp_form_free(sp_form_pair *p, size_t n);

/* Open311 GeoReport v2 POST requests.json (form fields of the spec: service_code, lat, long,
 * address_string, description, first_name, last_name, phone, email, media_url, jurisdiction_id;
 * extensions attribute[privacy], attribute[type], attribute[title], attribute[nik]).
 * jurisdiction_id is the region code; default_region (may be "") is used without one. */
sp_err sp_open311_parse(sp_intake_req *out, const sp_form_pair *p, size_t n,
                        const char *default_region, sp_intake_error *err);
/* The codes of the attributes every service takes (attribute[code]), NULL-terminated. */
extern const char *const sp_open311_attributes[];

/* Names of the enums as the API spells them ("pengaduan", "web", "confidential"...); "?" when
 * out of range. parse: SP_ERR_INVAL when unknown. */
const char *sp_type_name(uint32_t type);
const char *sp_channel_name(uint32_t channel);
const char *sp_privacy_name(uint32_t privacy);
sp_err sp_type_parse(const char *s, uint32_t *out);
sp_err sp_channel_parse(const char *s, uint32_t *out);
sp_err sp_privacy_parse(const char *s, uint32_t *out);
/* Whether p[0..n) is valid UTF-8 without NUL bytes. */
int sp_utf8_valid(const char *p, size_t n);

/* ---- the event (node/intake/intake_build.c) ---- */

/* The encoded Event{ComplaintFiled} of r as node self's filing `number` (>= 1), sealed as
 * described above (boxes to self and to the responsible node of r->region, with their current
 * topology sealing keys). *body is malloc'ed. *id (may be NULL) receives the tracking id.
 * Errors: SP_ERR_CONFIG (self has no sealing key in the topology), SP_ERR_NOT_FOUND (no
 * responsible node), SP_ERR_TOO_BIG, SP_ERR_CRYPTO, SP_ERR_NOMEM. */
sp_err sp_intake_build(const sp_intake_req *r, const sp_topology *topo, const sp_topo_node *self,
                       uint64_t number, uint8_t **body, size_t *len, char id[SP_TRACKING_ID_MAX]);

#endif
