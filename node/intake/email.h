/*
 * Inbound e-mail: a message as an MTA hands it to a pipe (RFC 5322 with MIME, RFC 2045-2047),
 * taken apart into what the intake needs, and the reply the MTA sends back to the citizen.
 *
 * Pure functions, like the other channel parsers (node/intake/intake.h): no I/O, no clock, no
 * global state; every input is either a message or an sp_intake_error naming what is wrong.
 *
 * What is understood:
 *  - header fields with folding (RFC 5322 2.2.3), names case-insensitive, the first of each;
 *  - encoded words in Subject and in the display name of From (RFC 2047, B and Q, charsets
 *    UTF-8, US-ASCII, ISO-8859-1 and Windows-1252, which are converted to UTF-8); a word in
 *    another charset is kept as written, as RFC 2047 6.3 says;
 *  - From as "Name <addr>", "addr (comment)" or a bare addr-spec; the first To address's local
 *    part (which says which agency's mailbox it was sent to);
 *  - MIME: nested multipart (mixed, alternative, related...), Content-Transfer-Encoding
 *    7bit, 8bit, binary, base64 and quoted-printable, charset as above. The text is the first
 *    text/plain part that is not an attachment, else the first text/html part with its tags
 *    removed and its entities (&amp; &lt; &gt; &quot; &#39; &nbsp; and numeric) decoded; only
 *    that part's charset and encoding are judged (an unused alternative cannot fail a mail);
 *  - attachments: parts with Content-Disposition attachment, or inline with a file name, or
 *    any non-text leaf part; their name from the disposition's filename or Content-Type's name
 *    (RFC 2047/2231 forms tolerated) without any folder, cut to SP_INTAKE_MEDIA_MAX bytes on a
 *    character boundary, "lampiran-N" when there is none; media type lowercased,
 *    application/octet-stream when there is none.
 *
 * Strings taken from header fields are valid UTF-8 (invalid bytes become U+FFFD) with each run
 * of blanks and control characters, CR and LF among them, made one space.
 *
 * Limits: the whole message at most SP_EMAIL_MAX bytes; at most SP_INTAKE_ATTACH_MAX
 * attachments of at most SP_INTAKE_ATTACH_BYTES decoded bytes each (413 "too_large"
 * otherwise, so that the MTA bounces the mail with a reason the sender can read); MIME nesting
 * at most SP_EMAIL_DEPTH deep.
 */
#ifndef SP_EMAIL_H
#define SP_EMAIL_H

#include <stddef.h>

#include "base/err.h"
#include "node/intake/intake.h"

#define SP_EMAIL_MAX (16u << 20) /* bytes of a whole message */
#define SP_EMAIL_DEPTH 8         /* multipart nesting */
#define SP_EMAIL_SUBJECT_MAX 998 /* RFC 5322's line limit */

typedef struct {
    char *from_name;  /* From's display name (<= SP_INTAKE_NAME_MAX bytes); NULL when none */
    char *from_addr;  /* From's addr-spec, "warga@example.id" (always set on success) */
    char *to_local;   /* local part of the first To address, as written; NULL when no To */
    char *subject;    /* <= SP_EMAIL_SUBJECT_MAX bytes; NULL when none or blank */
    char *message_id; /* Message-ID without its angle brackets; NULL when none, or when it is
                         not printable ASCII (it goes back into the reply's header) */
    char *text;       /* the body as UTF-8 text (see above), line ends LF, leading empty lines and
                         trailing blanks removed; "" when the message has none */
    sp_intake_attachment att[SP_INTAKE_ATTACH_MAX]; /* data owned */
    size_t n_att;
} sp_email;

/* Take message msg[0..n) apart into *out (free it with sp_email_free; it is empty on error).
 * Errors, with *err set: SP_ERR_TOO_BIG (413 too_large: the message or an attachment over its
 * limit, too many attachments), SP_ERR_DECODE (400 invalid_field: no header/body separator,
 * no usable From, a malformed MIME structure, bad base64, an unsupported charset, text that
 * is not valid UTF-8 after conversion), SP_ERR_NOMEM. */
sp_err sp_email_parse(const char *msg, size_t n, sp_email *out, sp_intake_error *err);
void sp_email_free(sp_email *m); /* accepts NULL; leaves *m empty */

/* The reply to in, from address `from`, saying `text` (UTF-8), as an RFC 5322 message ready
 * for an MTA: From, To (in's From), Subject "Re: <in's subject>" (RFC 2047 encoded when not
 * ASCII), In-Reply-To and References (when in has a Message-ID), MIME-Version, Content-Type
 * text/plain; charset=utf-8, Content-Transfer-Encoding 8bit, CRLF line ends. No header takes
 * CR or LF from the input (no header injection). *out is malloc'ed and NUL-terminated.
 * SP_ERR_NOMEM. */
sp_err sp_email_reply(const sp_email *in, const char *from, const char *text, char **out);

#endif
