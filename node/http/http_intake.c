/*
 * Intake routes: POST /api/v1/complaints (web and app), POST /api/v1/intake/sms (1708), and
 * the filing every other intake route uses (sp__http_submit: Open311, the channel adapters).
 * Each parses with node/intake/, stores attachments as blobs, and hands an intake job to the
 * batcher; the job seals and authors the ComplaintFiled (node/intake/intake_build.c) and
 * answers once the event is durable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "broker/hlc.h"
#include "node/http/http_int.h"
#include "node/intake/blobs.h"
#include "node/intake/idempotency.h"

typedef struct {
    sp_batch_job job; /* first: the batcher hands us this pointer */
    sp_http_req *r;
    sp_intake_req req;
    sp_reply_kind kind;
    sp_intake_replier replier; /* SP_REPLY_CHANNEL: who answers */
    uint64_t number;           /* the filing number, given at admission */
    uint8_t *body;             /* sealed for number, whatever seq it gets */
    size_t len;
    char id[SP_TRACKING_ID_MAX]; /* the filing's, or the first filing's on a replay */
    int keyed;                   /* the request had an idempotency key: idem is its record key */
    uint8_t idem[SP_HASH_LEN];
} intake_job;

/* admit's verdicts on a keyed retry (never errors of the store or the log) */
#define JOB_REPLAY SP_ERR_EXISTS /* filed before: answer with that filing */
#define JOB_BUSY SP_ERR_LOCKED   /* the same key is in this very batch */

/* ---- filing numbers ---- */

/* Where numbering resumes: the highest number among this node's durable filings. Numbers are
 * given at admission on the batcher thread (one at a time, in queue order); after a batch in
 * which a filing failed the count is read back from the store, so numbers that were not
 * committed are given again. */
static sp_err read_last_number(sp_http *h) {
    sp_err rv = sp_complaints_last_number(h->p->complaints, h->p->self->id, &h->intake_number);
    if (rv != SP_OK) sp_log_error("intake.numbering", "error=%s", sp_errname(rv));
    return rv;
}

sp_err sp__http_intake_init(sp_http *h) {
    return read_last_number(h);
}

void sp__http_intake_batch_done(sp_http *h) {
    h->n_keyed = 0;
    if (!h->renumber) return;
    h->renumber = 0;
    (void)read_last_number(h); /* on failure numbering continues from memory */
}

/* ---- the job ---- */

/* A keyed job: was its key filed by an earlier batch (durable, so in the store), or admitted in
 * this one (not durable yet)? Batches are admitted one after the other on the batcher thread,
 * so nothing can be filed under the key between this look and the batch's commit. */
static sp_err admit_keyed(sp_http *h, intake_job *ij) {
    for (size_t i = 0; i < h->n_keyed; i++)
        if (memcmp(h->keyed[i], ij->idem, SP_HASH_LEN) == 0) return JOB_BUSY;
    if (h->n_keyed == SP_HTTP_KEYED_PER_BATCH) return JOB_BUSY; /* the next batch takes it */
    sp_err rv = sp_idem_lookup(h->p->store, ij->idem, ij->id);
    if (rv == SP_OK) return JOB_REPLAY;
    if (rv != SP_ERR_NOT_FOUND) return rv;
    memcpy(h->keyed[h->n_keyed++], ij->idem, SP_HASH_LEN);
    return SP_OK;
}

static sp_err job_admit(sp_batch_job *j, void *arg) {
    intake_job *ij = (intake_job *)j;
    sp_http *h = arg;
    if (ij->keyed) {
        sp_err rv = admit_keyed(h, ij);
        if (rv != SP_OK) return rv;
    }
    ij->number = ++h->intake_number;
    return SP_OK;
}

static sp_err job_prepare(sp_batch_job *j, uint64_t seq) {
    intake_job *ij = (intake_job *)j;
    const sp_daemon_parts *p = ij->r->srv->p;
    (void)seq; /* the body does not depend on it */
    free(ij->body);
    ij->body = NULL;
    return sp_intake_build(&ij->req, p->topo, p->self, ij->number, &ij->body, &ij->len, ij->id);
}

static sp_err job_build(sp_batch_job *j, uint64_t seq, sp_wbatch *with, uint8_t **body,
                        size_t *len) {
    intake_job *ij = (intake_job *)j;
    if (!ij->body) { /* prepare did not run */
        sp_err rv = job_prepare(j, seq);
        if (rv != SP_OK) return rv;
    }
    if (ij->keyed) sp_idem_put(with, ij->idem, ij->id); /* stored with the filing, or not at all */
    *body = ij->body;
    *len = ij->len;
    ij->body = NULL; /* handed over to the log */
    return SP_OK;
}

/* The answer to a filing: 201 with its tracking number (Open311: 200 and its list). A replay
 * gives the first filing's answer again, marked by the Idempotent-Replayed header. */
static void reply_filed(intake_job *ij, uint64_t filed_ms, uint32_t privacy, int replayed) {
    sp_http_req *r = ij->r;
    const char *hname = replayed ? "Idempotent-Replayed" : NULL, *hval = replayed ? "true" : NULL;
    char base[256], url[400], notice[600];
    sp_http_base_url(r, base, sizeof base);
    snprintf(url, sizeof url, "%s/api/v1/complaints/%s", base, ij->id);
    if (ij->kind == SP_REPLY_CHANNEL) {
        ij->replier.done(ij->replier.arg, r, SP_OK, ij->id, replayed);
        return;
    }
    if (ij->kind == SP_REPLY_OPEN311) {
        snprintf(notice, sizeof notice, "Aduan tercatat dengan nomor %s. Pantau di %s", ij->id,
                 url);
        sp__http_o311_reply(r, 200,
                            json_pack("[{s:s, s:s, s:n}]", "service_request_id", ij->id,
                                      "service_notice", notice, "account_id"),
                            "service_requests", hname, hval);
        return;
    }
    json_t *out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "id", ij->id, "tracking_number",
                            ij->id, "url", url, "status", "filed", "privacy",
                            sp_privacy_name(privacy), "filed_at", sp_json_time(filed_ms));
    if (out && ij->kind == SP_REPLY_SMS) { /* a text for a phone: no link to our JSON API */
        sp_sms_filed_reply(ij->id, notice, sizeof notice);
        json_object_set_new(out, "reply", json_string(notice));
    }
    sp__http_reply_json_hdr(r, 201, out, hname, hval);
}

/* A retry of a filing made before: its answer, from the complaint's state. */
static void reply_replayed(intake_job *ij) {
    sp_http *h = ij->r->srv;
    sp_complaint_state s;
    sp_err rv = sp_complaints_get(h->p->complaints, ij->id, 1, &s);
    if (rv == SP_OK) {
        atomic_fetch_add(&h->m.intake_replayed, 1);
        reply_filed(ij, s.filed_at, s.privacy, 1);
    } else if (ij->kind == SP_REPLY_CHANNEL) {
        ij->replier.done(ij->replier.arg, ij->r, rv, ij->id, 1);
    } else {
        sp_http_internal_error(ij->r, rv, "the complaint filed under this Idempotency-Key");
    }
    sp_state_clear(&s);
}

static void job_finish(sp_batch_job *j, sp_err rv, const sp_envelope *env) {
    intake_job *ij = (intake_job *)j;
    if (rv != SP_OK && ij->number) ij->r->srv->renumber = 1; /* its number was not used */
    if (rv == SP_OK) {
        size_t ch = ij->req.channel; /* parsed, so one of simpul.v1.Channel */
        atomic_fetch_add(&ij->r->srv->m.intake[ch < SP_HTTP_CHANNELS ? ch : 0], 1);
        reply_filed(ij, sp_hlc_ms(env->hlc), ij->req.privacy, 0);
    } else if (rv == JOB_REPLAY) {
        reply_replayed(ij);
    } else if (ij->kind == SP_REPLY_CHANNEL) {
        ij->replier.done(ij->replier.arg, ij->r, rv, NULL, 0);
    } else if (rv == JOB_BUSY) {
        sp__http_error_hdr(ij->r, 409, "conflict", "Retry-After", "1",
                           "a request with this Idempotency-Key is being filed: retry shortly");
    } else if (rv == SP_ERR_CONFIG) {
        sp_http_error(ij->r, 503, "unavailable",
                      "this node has no sealing key in the topology: "
                      "it cannot take complaints");
    } else {
        sp_http_internal_error(ij->r, rv, "filing");
    }
    free(ij->body);
    sp_intake_req_free(&ij->req);
    free(ij);
}

static const sp_batch_job_ops intake_ops = {job_admit, job_prepare, job_build, job_finish};

static const char *const route_names[] = {
    [SP_REPLY_WEB] = "web", [SP_REPLY_SMS] = "sms", [SP_REPLY_OPEN311] = "open311"};

/* The key of a channel's message id: its own when it is a valid key, else its hash (an
 * e-mail's Message-ID may be longer than a client's key may be, or hold other bytes). */
static void channel_key(const char *scope, const char *id, uint8_t out[SP_HASH_LEN]) {
    if (sp_idem_key(scope, id, out) == SP_OK) return;
    uint8_t h[SP_HASH_LEN];
    char hex[2 * SP_HASH_LEN + 1];
    sp_sha256((const uint8_t *)id, strlen(id), NULL, 0, h);
    sp_hex(h, SP_HASH_LEN, hex);
    (void)sp_idem_key(scope, hex, out);
}

/* The request's Idempotency-Key into ij, else the gateway's message id (SMS, channels; NULL
 * for the other routes). 0 when there is none or a valid one; -1 when it is malformed
 * (answered). */
static int take_key(sp_http_req *r, intake_job *ij, const char *gateway_id) {
    if (ij->kind == SP_REPLY_CHANNEL) { /* one request may carry several messages */
        if (gateway_id && *gateway_id) channel_key(ij->replier.scope, gateway_id, ij->idem);
        ij->keyed = gateway_id && *gateway_id;
        return 0;
    }
    const char *key = sp_http_header(r, "Idempotency-Key");
    const char *what = key ? "Idempotency-Key" : "message_id";
    if (!key) key = gateway_id;
    if (!key) return 0;
    if (sp_idem_key(route_names[ij->kind], key, ij->idem) == SP_OK) {
        ij->keyed = 1;
        return 0;
    }
    sp_http_error(r, 400, "invalid_field", "%s must be 1 to %d printable ASCII characters", what,
                  SP_IDEM_KEY_MAX);
    return -1;
}

static void submit_failed(sp_http_req *r, const sp_intake_replier *replier, sp_err rv) {
    if (replier) {
        replier->done(replier->arg, r, rv, NULL, 0);
        return;
    }
    sp_http_internal_error(r, rv,
                           rv == SP_ERR_TOO_BIG || rv == SP_ERR_CLOSED ? "queue" : "attachments");
}

/* Store the attachments (durably, before the event that names them), then queue the job. */
void sp__http_submit(sp_http_req *r, sp_intake_req *req, sp_reply_kind kind, const char *gateway_id,
                     const sp_intake_replier *replier) {
    sp_http *h = r->srv;
    intake_job *ij = calloc(1, sizeof *ij);
    if (ij) {
        ij->kind = kind;
        if (replier) ij->replier = *replier;
    }
    if (ij && take_key(r, ij, gateway_id) != 0) {
        free(ij);
        sp_intake_req_free(req);
        return;
    }
    sp_err rv = ij ? SP_OK : SP_ERR_NOMEM;
    for (size_t i = 0; rv == SP_OK && i < req->n_att; i++) {
        rv = sp_blob_put(h->p->cfg->data, req->att[i].data, req->att[i].len, req->att[i].sha256);
        atomic_fetch_add(&h->m.attachments, 1);
        atomic_fetch_add(&h->m.attachment_bytes, req->att[i].len);
        free(req->att[i].data);
        req->att[i].data = NULL;
    }
    if (rv == SP_OK) {
        ij->job.ops = &intake_ops;
        ij->r = r;
        ij->req = *req; /* moved */
        sp_intake_req_init(req);
        rv = sp_batcher_submit(h->batcher, &ij->job);
    }
    if (rv == SP_OK) return;
    if (ij) sp_intake_req_free(&ij->req);
    free(ij);
    sp_intake_req_free(req);
    submit_failed(r, replier, rv);
}

static int is_json(const sp_http_req *r) {
    const char *ct = sp_http_header(r, "Content-Type");
    return !ct || strncasecmp(ct, "application/json", 16) == 0;
}

void sp__http_complaint_create(sp_http_req *r) {
    sp_intake_req req;
    sp_intake_error err;
    if (!is_json(r)) {
        sp_http_error(r, 415, "unsupported_media_type", "send the complaint as application/json");
        return;
    }
    sp_err rv = sp_intake_parse_json(&req, (const char *)r->body, r->body_len, &err);
    if (rv == SP_OK) rv = sp_intake_check(&req, r->srv->p->topo, &err);
    if (rv != SP_OK) {
        sp_intake_req_free(&req);
        sp_http_intake_error(r, &err);
        return;
    }
    sp__http_submit(r, &req, SP_REPLY_WEB, NULL, NULL);
}

/* ---- SMS ---- */

static void sms_unknown(sp_http_req *r, const sp_intake_error *err) {
    char help[480];
    sp_sms_help(r->srv->p->topo, r->srv->p->self, help, sizeof help);
    sp_http_count_reject(r->srv, err->code);
    sp_http_reply_json(
        r, 422,
        json_pack("{s:s, s:s, s:s}", "error", err->code, "message", err->message, "reply", help));
}

static void sms_reply(sp_http_req *r, int status, const char *code, const char *text) {
    json_t *o = json_pack("{s:s}", "reply", text);
    if (o && code) json_object_set_new(o, "error", json_string(code));
    if (code) sp_http_count_reject(r->srv, code);
    sp_http_reply_json(r, status, o);
}

/* CEK <tracking>: the complaint's status as a text, from the state this node holds. */
static void sms_check(sp_http_req *r, const char *rest, size_t len) {
    char typed[SP_TRACKING_ID_MAX + 1], id[SP_TRACKING_ID_MAX], text[480];
    snprintf(typed, sizeof typed, "%.*s",
             (int)(len < SP_TRACKING_ID_MAX ? len : SP_TRACKING_ID_MAX), rest);
    sp_err rv = sp_tracking_normalize(typed, id);
    if (rv != SP_OK) {
        snprintf(text, sizeof text,
                 "Nomor aduan \"%s\" tidak valid: periksa kembali angka dan huruf terakhirnya. "
                 "Format: CEK <nomor aduan>, contoh CEK 3577-12E.",
                 typed);
        sms_reply(r, 422, "invalid_field", text);
        return;
    }
    sp_complaint_state s;
    rv = sp_complaints_get(r->srv->p->complaints, id, 0, &s);
    if (rv == SP_OK) {
        sp_sms_status_reply(r->srv->p->topo, &s, text, sizeof text);
        json_t *o = json_pack("{s:s, s:s, s:s}", "reply", text, "tracking_number", s.id, "status",
                              sp_status_name(s.status));
        sp_state_clear(&s);
        sp_http_reply_json(r, 200, o);
        return;
    }
    sp_state_clear(&s);
    if (rv != SP_ERR_NOT_FOUND) {
        sp_http_internal_error(r, rv, "complaint state");
        return;
    }
    snprintf(text, sizeof text, "Aduan %s tidak ditemukan. Periksa kembali nomornya.", id);
    sms_reply(r, 404, "not_found", text);
}

/* Texts that file nothing: "CEK <tracking>", and "INFO" or "BANTUAN" for the help. Returns 1
 * when text was one of them (and answered). */
static int sms_command(sp_http_req *r, const char *text) {
    char kw[SP_SMS_KEYWORD_MAX + 1], help[480];
    const char *rest = "";
    size_t len = 0;
    if (sp_sms_split(text, strlen(text), kw, &rest, &len) != SP_OK) {
        snprintf(kw, sizeof kw, "%.*s", SP_SMS_KEYWORD_MAX, text + strspn(text, " \t\r\n"));
        kw[strcspn(kw, " \t\r\n")] = '\0';
        len = 0;
    }
    if (strcasecmp(kw, "CEK") == 0 && len) {
        sms_check(r, rest, len);
        return 1;
    }
    if (strcasecmp(kw, "CEK") == 0 || strcasecmp(kw, "INFO") == 0 ||
        strcasecmp(kw, "BANTUAN") == 0) {
        sp_sms_help(r->srv->p->topo, r->srv->p->self, help, sizeof help);
        sms_reply(r, 200, NULL, help);
        return 1;
    }
    return 0;
}

void sp__http_intake_sms(sp_http_req *r) {
    char *from = NULL, *text = NULL, *message_id = NULL;
    sp_intake_req req;
    sp_intake_error err;
    sp_intake_req_init(&req);
    sp_err rv =
        sp_sms_request_parse((const char *)r->body, r->body_len, sp_http_header(r, "Content-Type"),
                             &from, &text, &message_id, &err);
    if (rv == SP_OK && sms_command(r, text)) {
        free(from);
        free(text);
        free(message_id);
        return;
    }
    if (rv == SP_OK) rv = sp_sms_parse(&req, r->srv->p->topo, from, text, strlen(text), &err);
    if (rv == SP_OK) rv = sp_intake_check(&req, r->srv->p->topo, &err);
    free(from);
    free(text);
    if (rv == SP_OK)
        sp__http_submit(r, &req, SP_REPLY_SMS, message_id, NULL);
    else if (strcmp(err.code, "unknown_keyword") == 0)
        sms_unknown(r, &err);
    else
        sp_http_intake_error(r, &err);
    if (rv != SP_OK) sp_intake_req_free(&req);
    free(message_id);
}
