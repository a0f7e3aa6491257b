/*
 * Fetching a WhatsApp message's media from Meta's Graph API, so that a photo a citizen sends
 * becomes an attachment of the complaint like a web form's: GET <graph>/<media id> with the
 * agency's access token gives the media's short-lived URL, type and size; GET of that URL with
 * the same token gives the bytes, which must hash to the SHA-256 the webhook announced.
 *
 * Blocking (bounded by timeout_ms per request): call it off the HTTP server's threads.
 * https:// URLs are checked against the system's CA certificates.
 */
#ifndef SP_MEDIA_FETCH_H
#define SP_MEDIA_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define SP_MEDIA_TYPE_MAX 127

typedef struct {
    const char *graph_url; /* "https://graph.facebook.com/v19.0" */
    const char *token;     /* the agency's access token */
    unsigned timeout_ms;   /* per request */
    size_t max_bytes;      /* larger media are refused (SP_ERR_TOO_BIG) */
} sp_media_source;

/* The bytes of media_id into *data (malloc'ed, *len bytes) and its type into media_type.
 * sha256_hex (may be NULL or "") is the digest the webhook announced, in base64 as Meta
 * sends it or in hex: a mismatch is
 * SP_ERR_CORRUPT. Errors: SP_ERR_NET (unreachable, timeout, a non-200 answer),
 * SP_ERR_DECODE (the Graph answer is not what Meta documents), SP_ERR_TOO_BIG, SP_ERR_NOMEM. */
sp_err sp_media_fetch(const sp_media_source *src, const char *media_id, const char *sha256_hex,
                      uint8_t **data, size_t *len, char media_type[SP_MEDIA_TYPE_MAX + 1]);

#endif
