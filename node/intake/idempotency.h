/*
 * Safe retries of intake: a client that sends the same Idempotency-Key again (or an SMS gateway
 * that delivers the same message id twice) gets the first answer instead of a second complaint.
 *
 * A record "k" + SHA-256(route, key) -> tracking id is written in the same durable batch as the
 * ComplaintFiled it answers (sp_body_builder's `with`), so it exists exactly when the filing
 * does, survives kill -9 and restarts, and is never written for a filing that failed. The key
 * is stored hashed: a client's key may be anything it chose, and nothing of it is needed later.
 * Keys are scoped by route ("web", "sms", "open311"): the same key on two routes is two keys.
 * Records stay for as long as the store does (one short record per keyed filing).
 *
 * Thread-safety: pure functions plus point reads of the store; the caller serialises a lookup
 * with the in-flight check (node/http/http_intake.c).
 */
#ifndef SP_IDEMPOTENCY_H
#define SP_IDEMPOTENCY_H

#include <stddef.h>
#include <stdint.h>

#include "broker/crypto.h"
#include "broker/store.h"
#include "node/lifecycle/fold.h"

#define SP_IDEM_KEY_MAX 255 /* the longest key a client may send */

/* The record key of (route, key) into out. SP_ERR_INVAL when key is empty, longer than
 * SP_IDEM_KEY_MAX or has a byte outside printable ASCII (as Stripe and the IETF draft allow). */
sp_err sp_idem_key(const char *route, const char *key, uint8_t out[SP_HASH_LEN]);
/* The tracking id filed under k: SP_OK, SP_ERR_NOT_FOUND, SP_ERR_CORRUPT, or a store error. */
sp_err sp_idem_lookup(sp_store *st, const uint8_t k[SP_HASH_LEN], char id[SP_TRACKING_ID_MAX]);
/* Stage the record k -> id in b (the filing's batch). */
void sp_idem_put(sp_wbatch *b, const uint8_t k[SP_HASH_LEN], const char *id);

#endif
