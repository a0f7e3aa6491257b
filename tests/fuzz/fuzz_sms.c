/*
 * Fuzz target for the text channels: the body of POST /api/v1/intake/sms (JSON or form), the
 * 1708 SMS format itself, HTML forms and Open311's POST requests.json. Any bytes must give a
 * request or an error, never a crash, a leak or undefined behaviour.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/intake/idempotency.h"
#include "node/intake/intake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char topo_yaml[] =
    "nodes:\n"
    "  - {id: national, kind: national, name: N, address: tcp://h:1}\n"
    "  - {id: prov-33, kind: province, code: \"33\", name: T, parent: national, address: "
    "tcp://h:2, sms_keywords: [JawaTengah]}\n"
    "  - {id: kota-3375, kind: kota, code: \"33.75\", name: K, parent: prov-33, address: "
    "tcp://h:3, sms_keywords: [KotaPekalongan, PekalonganKota]}\n";

static sp_topology *topo(void) {
    static sp_topology *t;
    if (!t) sp_topology_load_buffer(&t, "fuzz.yaml", topo_yaml, sizeof topo_yaml - 1, NULL);
    return t;
}

static void sms(const char *from, const char *text, size_t n) {
    sp_intake_req r;
    sp_intake_error e;
    if (topo() && sp_sms_parse(&r, topo(), from, text, n, &e) == SP_OK) {
        sp_intake_check(&r, topo(), &e);
        sp_intake_req_free(&r);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *p = (const char *)data;
    char *from, *text, *mid;
    sp_intake_error e;
    /* the raw bytes as an SMS text */
    sms("+6281234567890", p, size);
    /* as the route's body, both ways */
    static const char *const types[] = {NULL, "application/x-www-form-urlencoded"};
    for (int t = 0; t < 2; t++) {
        if (sp_sms_request_parse(p, size, types[t], &from, &text, &mid, &e) != SP_OK) continue;
        sms(from, text, strlen(text));
        uint8_t k[SP_HASH_LEN];
        if (mid) (void)sp_idem_key("sms", mid, k);
        free(from);
        free(text);
        free(mid);
    }
    /* as an Open311 form */
    sp_form_pair *pairs;
    size_t n;
    if (sp_form_parse(p, size, &pairs, &n) == SP_OK) {
        sp_intake_req r;
        if (sp_open311_parse(&r, pairs, n, "33.75", &e) == SP_OK) sp_intake_req_free(&r);
        sp_form_free(pairs, n);
    }
    char kw[SP_SMS_KEYWORD_MAX + 1];
    const char *rest;
    size_t rest_len;
    sp_sms_split(p, size, kw, &rest, &rest_len);
    return 0;
}
