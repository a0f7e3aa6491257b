#include "broker/link_auth.h"

#include <stdlib.h>
#include <string.h>

#define TRANSCRIPT_MAX (4 + 1 + 1 + 255 + 1 + 255 + 2 * SP_LINK_NONCE)

static size_t transcript(uint8_t *buf, char role, const char *client, const char *server,
                         const uint8_t *cn, const uint8_t *sn) {
    size_t cl = strlen(client), sl = strlen(server), n = 0;
    memcpy(buf, "SPL1", 4);
    n = 4;
    buf[n++] = (uint8_t)role;
    buf[n++] = (uint8_t)cl;
    memcpy(buf + n, client, cl);
    n += cl;
    buf[n++] = (uint8_t)sl;
    memcpy(buf + n, server, sl);
    n += sl;
    memcpy(buf + n, cn, SP_LINK_NONCE);
    memcpy(buf + n + SP_LINK_NONCE, sn, SP_LINK_NONCE);
    return n + 2 * SP_LINK_NONCE;
}

sp_err sp_link_sign(const sp_key *key, char role, const char *client, const char *server,
                    const uint8_t client_nonce[SP_LINK_NONCE], const uint8_t server_nonce[SP_LINK_NONCE],
                    uint8_t sig[SP_SIG_LEN]) {
    uint8_t buf[TRANSCRIPT_MAX];
    if (strlen(client) > 255 || strlen(server) > 255) return SP_ERR_INVAL;
    size_t n = transcript(buf, role, client, server, client_nonce, server_nonce);
    return sp_sign(key, buf, n, sig);
}

sp_err sp_link_verify(const uint8_t pub[SP_PUBKEY_LEN], char role, const char *client,
                      const char *server, const uint8_t client_nonce[SP_LINK_NONCE],
                      const uint8_t server_nonce[SP_LINK_NONCE], const uint8_t sig[SP_SIG_LEN]) {
    uint8_t buf[TRANSCRIPT_MAX];
    if (strlen(client) > 255 || strlen(server) > 255) return SP_ERR_INVAL;
    size_t n = transcript(buf, role, client, server, client_nonce, server_nonce);
    sp_key *k;
    sp_err rv = sp_key_from_raw_public(&k, SP_KEY_ED25519, pub);
    if (rv != SP_OK) return rv;
    rv = sp_verify(k, buf, n, sig);
    sp_key_free(k);
    return rv;
}

void sp_link_table_init(sp_link_table *t) {
    memset(t->slot, 0, sizeof t->slot);
    pthread_mutex_init(&t->lock, NULL);
}

void sp_link_table_fini(sp_link_table *t) {
    pthread_mutex_destroy(&t->lock);
}

static sp_link_slot *slot_of(sp_link_table *t, uint32_t pipe) {
    return &t->slot[pipe % SP_LINK_SLOTS];
}

sp_err sp_link_hello(sp_link_table *t, uint32_t pipe, int peer, const uint8_t client_nonce[SP_LINK_NONCE],
                     uint8_t server_nonce[SP_LINK_NONCE]) {
    sp_err rv = sp_random(server_nonce, SP_LINK_NONCE);
    if (rv != SP_OK) return rv;
    pthread_mutex_lock(&t->lock);
    sp_link_slot *s = slot_of(t, pipe);
    *s = (sp_link_slot){.pipe = pipe, .peer = peer, .proved = 0};
    memcpy(s->client_nonce, client_nonce, SP_LINK_NONCE);
    memcpy(s->server_nonce, server_nonce, SP_LINK_NONCE);
    pthread_mutex_unlock(&t->lock);
    return SP_OK;
}

sp_err sp_link_pending(sp_link_table *t, uint32_t pipe, int peer, uint8_t client_nonce[SP_LINK_NONCE],
                       uint8_t server_nonce[SP_LINK_NONCE]) {
    pthread_mutex_lock(&t->lock);
    sp_link_slot *s = slot_of(t, pipe);
    int found = s->pipe == pipe && pipe != 0 && s->peer == peer && !s->proved;
    if (found) {
        memcpy(client_nonce, s->client_nonce, SP_LINK_NONCE);
        memcpy(server_nonce, s->server_nonce, SP_LINK_NONCE);
    }
    pthread_mutex_unlock(&t->lock);
    return found ? SP_OK : SP_ERR_NOT_FOUND;
}

void sp_link_prove(sp_link_table *t, uint32_t pipe, int peer) {
    pthread_mutex_lock(&t->lock);
    sp_link_slot *s = slot_of(t, pipe);
    if (s->pipe == pipe && s->peer == peer) s->proved = 1;
    pthread_mutex_unlock(&t->lock);
}

int sp_link_proved(sp_link_table *t, uint32_t pipe, int peer) {
    pthread_mutex_lock(&t->lock);
    sp_link_slot *s = slot_of(t, pipe);
    int ok = pipe != 0 && s->pipe == pipe && s->peer == peer && s->proved;
    pthread_mutex_unlock(&t->lock);
    return ok;
}
