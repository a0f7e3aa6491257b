/*
 * The ComplaintFiled event of an intake request, with every private field sealed
 * (node/intake/intake.h). Plaintext copies of identity and content are wiped before they are freed.
 */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "node/intake/intake.h"
#include "node/intake/seal.h"
#include "schemas/simpul.pb-c.h"

/* Everything one ComplaintFiled points to while it is assembled. */
typedef struct {
    char id[SP_TRACKING_ID_MAX];
    uint8_t ck[SP_CONTENT_KEY_LEN];
    Simpul__V1__Event ev;
    Simpul__V1__ComplaintFiled filed;
    Simpul__V1__ComplaintContent content;
    Simpul__V1__Attachment att[SP_INTAKE_ATTACH_MAX];
    Simpul__V1__Attachment *attp[SP_INTAKE_ATTACH_MAX];
    Simpul__V1__Sealed reporter;
    Simpul__V1__Sealed keys[2];
    Simpul__V1__Sealed *keyp[2];
    size_t n_keys;
    sp_sealer sealer; /* one ephemeral key for the complaint's boxes (node/intake/seal.h) */
} filed_parts;

#define RW(s) ((char *)(s))

static void fill_content(filed_parts *f, const sp_intake_req *r) {
    simpul__v1__complaint_content__init(&f->content);
    f->content.title = RW(r->title ? r->title : "");
    f->content.text = RW(r->text ? r->text : "");
    f->content.has_location = r->has_location;
    f->content.lat = r->lat;
    f->content.lon = r->lon;
    f->content.address = RW(r->address ? r->address : "");
    f->content.address_id = RW(r->address_id ? r->address_id : "");
    f->content.media_url = RW(r->media_url ? r->media_url : "");
    for (size_t i = 0; i < r->n_att; i++) {
        simpul__v1__attachment__init(&f->att[i]);
        f->att[i].sha256.data = (uint8_t *)r->att[i].sha256;
        f->att[i].sha256.len = SP_HASH_LEN;
        f->att[i].size = r->att[i].len;
        f->att[i].media_type = RW(r->att[i].media_type);
        f->att[i].name = RW(r->att[i].name);
        f->attp[i] = &f->att[i];
    }
    f->content.n_attachments = r->n_att;
    f->content.attachments = r->n_att ? f->attp : NULL;
}

/* Pack a message into a fresh buffer. */
static sp_err pack(const ProtobufCMessage *m, uint8_t **out, size_t *n) {
    *n = protobuf_c_message_get_packed_size(m);
    if (!(*out = malloc(*n ? *n : 1))) return SP_ERR_NOMEM;
    protobuf_c_message_pack(m, *out);
    return SP_OK;
}

static void wipe_free(uint8_t *p, size_t n) {
    if (p) memset(p, 0, n);
    free(p);
}

/* Confidential: the content only as a content box; otherwise in clear. */
static sp_err seal_content(filed_parts *f, const sp_intake_req *r) {
    fill_content(f, r);
    if (r->privacy != SIMPUL__V1__PRIVACY__CONFIDENTIAL) {
        f->filed.content = &f->content;
        return SP_OK;
    }
    uint8_t *pt;
    size_t n;
    sp_err rv = pack(&f->content.base, &pt, &n);
    if (rv == SP_OK)
        rv = sp_content_seal(f->ck, f->id, SP_FIELD_CONTENT, pt, n, &f->filed.sealed_content.data,
                             &f->filed.sealed_content.len);
    wipe_free(pt, n);
    return rv;
}

/* The identity: sealed to the intake node, and under the content key unless anonymous. */
static sp_err seal_identity(filed_parts *f, const sp_intake_req *r, const sp_topo_node *self,
                            const sp_seal_key *key) {
    if (!sp_intake_has_identity(r)) return SP_OK;
    Simpul__V1__ReporterIdentity who = SIMPUL__V1__REPORTER_IDENTITY__INIT;
    who.name = RW(r->name ? r->name : "");
    who.phone = RW(r->phone ? r->phone : "");
    who.email = RW(r->email ? r->email : "");
    who.nik = RW(r->nik ? r->nik : "");
    who.handle = RW(r->handle ? r->handle : "");
    uint8_t *pt;
    size_t n;
    sp_err rv = pack(&who.base, &pt, &n);
    if (rv != SP_OK) return rv;
    rv = sp_sealer_seal(&f->sealer, &f->reporter, self->id, key->id, key->key, f->id,
                        SP_FIELD_REPORTER, pt, n);
    if (rv == SP_OK) f->filed.reporter = &f->reporter;
    if (rv == SP_OK && r->privacy != SIMPUL__V1__PRIVACY__ANONYMOUS)
        rv = sp_content_seal(f->ck, f->id, SP_FIELD_REPORTER_CK, pt, n,
                             &f->filed.sealed_reporter.data, &f->filed.sealed_reporter.len);
    wipe_free(pt, n);
    return rv;
}

static sp_err wrap_key(filed_parts *f, const sp_topo_node *to) {
    const sp_seal_key *k = sp_topo_node_seal_key(to);
    if (!k) {
        sp_log_warn("intake.wrap",
                    "complaint=%s node=%s detail=\"no sealing key in the topology: "
                    "it cannot open this complaint's sealed fields\"",
                    f->id, to->id);
        return SP_OK;
    }
    sp_err rv = sp_sealer_seal(&f->sealer, &f->keys[f->n_keys], to->id, k->id, k->key, f->id,
                               SP_FIELD_CONTENT_KEY, f->ck, SP_CONTENT_KEY_LEN);
    if (rv == SP_OK) {
        f->keyp[f->n_keys] = &f->keys[f->n_keys];
        f->n_keys++;
    }
    return rv;
}

static void parts_clear(filed_parts *f) {
    if (f->filed.reporter)
        sp_sealed_clear(&f->reporter); /* an init'ed Sealed holds static strings */
    for (size_t i = 0; i < f->n_keys; i++)
        sp_sealed_clear(&f->keys[i]);
    free(f->filed.sealed_content.data);
    free(f->filed.sealed_reporter.data);
    memset(f->ck, 0, sizeof f->ck);
    sp_sealer_clear(&f->sealer);
}

static void init_parts(filed_parts *f, const sp_intake_req *r) {
    memset(f, 0, sizeof *f);
    simpul__v1__event__init(&f->ev);
    simpul__v1__complaint_filed__init(&f->filed);
    f->filed.type = (Simpul__V1__ComplaintType)r->type;
    f->filed.category = RW(r->category);
    f->filed.region = RW(r->region);
    f->filed.channel = (Simpul__V1__Channel)r->channel;
    f->filed.privacy = (Simpul__V1__Privacy)r->privacy;
    f->ev.complaint_id = f->id;
    f->ev.actor = RW(r->actor[0] ? r->actor : sp_channel_name(r->channel));
    f->ev.actor_role = RW("reporter");
    f->ev.body_case = SIMPUL__V1__EVENT__BODY_FILED;
    f->ev.filed = &f->filed;
}

sp_err sp_intake_build(const sp_intake_req *r, const sp_topology *topo, const sp_topo_node *self,
                       uint64_t number, uint8_t **body, size_t *len, char id[SP_TRACKING_ID_MAX]) {
    filed_parts *f = malloc(sizeof *f);
    if (!f) return SP_ERR_NOMEM;
    init_parts(f, r);
    const sp_seal_key *key = sp_topo_node_seal_key(self);
    const sp_topo_node *resp = sp_topology_responsible(topo, r->region);
    sp_err rv = key ? SP_OK : SP_ERR_CONFIG;
    if (rv == SP_OK && !resp) rv = SP_ERR_NOT_FOUND;
    if (rv == SP_OK) rv = sp_tracking_number(f->id, self->id, number);
    f->filed.number = number;
    if (rv == SP_OK) rv = sp_content_key_new(f->ck);
    if (rv == SP_OK) rv = sp_sealer_init(&f->sealer);
    if (rv == SP_OK) rv = seal_content(f, r);
    if (rv == SP_OK) rv = seal_identity(f, r, self, key);
    if (rv == SP_OK) rv = wrap_key(f, self);
    if (rv == SP_OK && resp != self) rv = wrap_key(f, resp);
    if (rv == SP_OK) {
        f->filed.n_content_keys = f->n_keys;
        f->filed.content_keys = f->keyp;
        rv = pack(&f->ev.base, body, len);
    }
    if (rv == SP_OK && id) memcpy(id, f->id, SP_TRACKING_ID_MAX);
    parts_clear(f);
    free(f);
    return rv;
}
