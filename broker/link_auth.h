/*
 * Links bound to node identities (docs/replication.md, "Who is on the other end"): when a peer
 * link opens, each side signs a transcript of both ends' ids and two fresh nonces with its
 * node's Ed25519 key, and checks the other's signature against the key the topology lists. A
 * federation certificate (TLS) says a machine belongs to the federation; the proof says which
 * node it is, so a node holding another's certificate, or none, can neither pull nor push.
 *
 * Transcript: "SPL1" | role ('S' the answering node, 'C' the dialing one) | u8 len | client id |
 * u8 len | server id | client nonce[32] | server nonce[32]. The role byte keeps a signature of
 * one side from being replayed as the other's.
 *
 * The server remembers which connections (NNG pipes) proved which peer in a table of fixed
 * size indexed by pipe id: a colliding pipe takes the slot, and the pipe it displaced is asked
 * to prove itself again on its next request (its client does so at once).
 */
#ifndef SP_LINK_AUTH_H
#define SP_LINK_AUTH_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "broker/crypto.h"

#define SP_LINK_NONCE 32
#define SP_LINK_SLOTS 1024 /* connections followed at once by a node's peer server */
#define SP_LINK_UNAUTHENTICATED "unauthenticated" /* the server's error text */

/* Sign / verify this side's proof. SP_ERR_BAD_SIG when it does not verify; SP_ERR_INVAL for
 * ids longer than 255 bytes. */
sp_err sp_link_sign(const sp_key *key, char role, const char *client, const char *server,
                    const uint8_t client_nonce[SP_LINK_NONCE], const uint8_t server_nonce[SP_LINK_NONCE],
                    uint8_t sig[SP_SIG_LEN]);
sp_err sp_link_verify(const uint8_t pub[SP_PUBKEY_LEN], char role, const char *client,
                      const char *server, const uint8_t client_nonce[SP_LINK_NONCE],
                      const uint8_t server_nonce[SP_LINK_NONCE], const uint8_t sig[SP_SIG_LEN]);

/* The server's table of connections. */
typedef struct {
    uint32_t pipe; /* 0: free */
    int peer;      /* index of the peer that said hello (or proved itself) on it */
    int proved;
    uint8_t client_nonce[SP_LINK_NONCE], server_nonce[SP_LINK_NONCE];
} sp_link_slot;

typedef struct {
    pthread_mutex_t lock;
    sp_link_slot slot[SP_LINK_SLOTS];
} sp_link_table;

void sp_link_table_init(sp_link_table *t);
void sp_link_table_fini(sp_link_table *t);
/* A hello from peer index `peer` on `pipe`: remember both nonces (server_nonce is filled with
 * fresh random bytes). */
sp_err sp_link_hello(sp_link_table *t, uint32_t pipe, int peer, const uint8_t client_nonce[SP_LINK_NONCE],
                     uint8_t server_nonce[SP_LINK_NONCE]);
/* The hello pending on pipe for peer (copies its nonces): SP_ERR_NOT_FOUND when none. */
sp_err sp_link_pending(sp_link_table *t, uint32_t pipe, int peer, uint8_t client_nonce[SP_LINK_NONCE],
                       uint8_t server_nonce[SP_LINK_NONCE]);
/* Mark pipe as proved by peer. */
void sp_link_prove(sp_link_table *t, uint32_t pipe, int peer);
/* Whether pipe has proved to be peer. (A closed pipe's slot is not cleared: NNG does not reuse
 * pipe ids soon, and the next pipe hashed there takes it.) */
int sp_link_proved(sp_link_table *t, uint32_t pipe, int peer);

#endif
