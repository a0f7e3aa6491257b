/*
 * Fuzz target for the channel adapters' parsers (node/intake/channels.h): the first byte picks
 * WhatsApp, X or 112, the rest is the webhook body; every input is also checked as a
 * signature header. Any bytes must give messages or an error, never a crash, a leak or
 * undefined behaviour; a message must be fileable (sp_intake_check) or refused with a reason.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/intake/channels.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char topo_yaml[] =
    "nodes:\n"
    "  - {id: national, kind: national, name: N, address: tcp://h:1}\n"
    "  - {id: prov-35, kind: province, code: \"35\", name: J, parent: national, address: "
    "tcp://h:2, sms_keywords: [JawaTimur]}\n"
    "  - {id: kota-3577, kind: kota, code: \"35.77\", name: M, parent: prov-35, address: "
    "tcp://h:3, sms_keywords: [KotaMadiun, Madiun]}\n";

static sp_topology *topo(void) {
    static sp_topology *t;
    if (!t) sp_topology_load_buffer(&t, "fuzz.yaml", topo_yaml, sizeof topo_yaml - 1, NULL);
    return t;
}

static void check_batch(sp_channel_batch *b, char *(*reply)(const sp_channel_msg *, const char *)) {
    for (size_t i = 0; i < b->n; i++) {
        sp_intake_error e;
        if (b->v[i].refused) {
            if (!b->v[i].why.code) abort(); /* a refusal always says why */
            continue;
        }
        (void)sp_intake_check(&b->v[i].req, topo(), &e);
        free(reply(&b->v[i], "ok"));
    }
    sp_channel_batch_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!size || !topo()) return 0;
    const char *body = (const char *)data + 1;
    size_t n = size - 1;
    const sp_topo_node *self = sp_topology_find(topo(), data[0] & 0x80 ? "national" : "kota-3577");
    sp_intake_error e;
    sp_channel_batch b;
    sp_channel_msg m;
    switch (data[0] % 3) {
    case 0:
        if (sp_whatsapp_parse(&b, topo(), self, body, n, &e) == SP_OK)
            check_batch(&b, sp_whatsapp_reply);
        break;
    case 1:
        if (sp_x_parse(&b, topo(), self, body, n, &e) == SP_OK) check_batch(&b, sp_x_reply);
        break;
    default:
        if (sp_call_parse(&m, body, n, &e) == SP_OK) sp_intake_req_free(&m.req);
    }
    char *header = strndup((const char *)data, size);
    if (header) {
        (void)sp_channel_signature_ok(header, "secret", data, size, data[0] & 1);
        free(header);
    }
    return 0;
}
