/*
 * One error type for all of Simpul. Every function that can fail returns an sp_err; the table
 * below gives each code its name and its message, so the enum and sp_strerror() never drift.
 */
#ifndef SP_ERR_H
#define SP_ERR_H

#define SP_ERR_MAP(XX)                                                                            \
    XX(OK, "success")                                                                             \
    XX(NOMEM, "out of memory")                                                                    \
    XX(INVAL, "invalid argument")                                                                 \
    XX(IO, "input/output error")                                                                  \
    XX(NOT_FOUND, "not found")                                                                    \
    XX(EXISTS, "already exists")                                                                  \
    XX(DECODE, "malformed input")                                                                 \
    XX(TOO_BIG, "exceeds size limit")                                                             \
    XX(BAD_SIG, "signature does not verify")                                                      \
    XX(BAD_CHAIN, "prev_hash does not match the stored predecessor")                              \
    XX(GAP, "predecessor missing")                                                                \
    XX(FORK, "different envelope already stored for this origin and seq")                         \
    XX(UNKNOWN_ORIGIN, "no public key known for origin")                                          \
    XX(CRYPTO, "cryptographic operation failed")                                                  \
    XX(STORE, "storage error")                                                                    \
    XX(LOCKED, "data directory is locked by another process")                                     \
    XX(CORRUPT, "stored data is corrupt")                                                         \
    XX(CONFIG, "invalid configuration")                                                           \
    XX(NET, "network error")                                                                      \
    XX(TIMEOUT, "timed out")                                                                      \
    XX(CLOSED, "closed")                                                                          \
    XX(AUTH, "authentication required")                                                           \
    XX(FORBIDDEN, "not allowed")                                                                  \
    XX(REJECTED, "rejected by rule")                                                              \
    XX(UNSEALED, "not authenticated yet: the seal that signs it did not come with it")

typedef enum {
#define XX(name, msg) SP_ERR_##name,
    SP_ERR_MAP(XX)
#undef XX
        SP_ERR__COUNT
} sp_err;

#define SP_OK SP_ERR_OK

/* Message for an error code; never NULL, static storage. Thread-safe. */
const char *sp_strerror(sp_err e);
/* Short symbolic name ("BAD_SIG"); never NULL, static storage. Thread-safe. */
const char *sp_errname(sp_err e);

#endif
