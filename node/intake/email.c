/*
 * Inbound e-mail (node/intake/email.h): header fields (RFC 5322), MIME structure and transfer
 * encodings (RFC 2045/2046), encoded words (RFC 2047) and parameter values (RFC 2231).
 *
 * Invariants: the message is only read, never past its n bytes (it need not end in a NUL and
 * may hold NULs); parts are borrowed spans of it until the one text part that is kept and the
 * attachments are decoded, so a part that is not used costs nothing and cannot fail the mail
 * (an html alternative in an unknown charset, say). Every string handed out is valid UTF-8;
 * those that come from header fields hold no control characters, since the reply puts some of
 * them back into a header. No state outlives a call.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "broker/crypto.h"
#include "node/intake/email.h"
#include "node/intake/intake_int.h"

#define fail sp__intake_fail
#define BAD(err, ...) fail(err, 400, "invalid_field", SP_ERR_DECODE, __VA_ARGS__)
#define TOO_BIG(err, ...) fail(err, 413, "too_large", SP_ERR_TOO_BIG, __VA_ARGS__)

#define PARAM_SECTIONS 32 /* RFC 2231 continuations read; enough for any real file name */
#define BOUNDARY_MAX 200  /* RFC 2046 says 70; generators that exceed it a little still work */
#define MSGID_MAX 250

/* ---- bytes ---- */

typedef struct {
    const char *p;
    size_t n;
} span; /* borrowed bytes of the message */

/* A growing buffer. A failed allocation is sticky (oom) so that appends chain without a check
 * each; whoever takes the result checks it once (sb_take). Room for a NUL is always kept. */
typedef struct {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const void *p, size_t n) {
    if (b->oom || n == 0) return;
    if (b->cap - b->n <= n) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap - b->n <= n) {
            if (cap > SIZE_MAX / 2) {
                b->oom = 1;
                return;
            }
            cap *= 2;
        }
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void sb_ch(sbuf *b, char c) {
    sb_add(b, &c, 1);
}

static void sb_str(sbuf *b, const char *s) {
    sb_add(b, s, strlen(s));
}

static void sb_utf8(sbuf *b, uint32_t cp) {
    char u[4];
    if (cp < 0x80) {
        sb_ch(b, (char)cp);
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3f));
        sb_add(b, u, 2);
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | cp >> 12), u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        sb_add(b, u, 3);
    } else {
        u[0] = (char)(0xf0 | cp >> 18), u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), u[3] = (char)(0x80 | (cp & 0x3f));
        sb_add(b, u, 4);
    }
}

/* The buffer's bytes as a NUL-terminated string (never NULL on SP_OK), b emptied. */
static sp_err sb_take(sbuf *b, char **out) {
    sb_add(b, "", 1);
    sp_err rv = b->oom ? SP_ERR_NOMEM : SP_OK;
    *out = rv == SP_OK ? b->p : NULL;
    if (rv != SP_OK) free(b->p);
    *b = (sbuf){0};
    return rv;
}

static int is_wsp(char c) {
    return c == ' ' || c == '\t';
}

static int is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char lower(char c) {
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static span trim(span s) {
    while (s.n && is_space(s.p[0]))
        s.p++, s.n--;
    while (s.n && is_space(s.p[s.n - 1]))
        s.n--;
    return s;
}

/* The line at *pos of s, [*ls, *le) without its line end (CRLF or a bare LF); *pos moves past
 * it. 0 at the end of s. */
static int next_line(span s, size_t *pos, size_t *ls, size_t *le) {
    if (*pos >= s.n) return 0;
    const char *nl = memchr(s.p + *pos, '\n', s.n - *pos);
    *ls = *pos;
    *le = nl ? (size_t)(nl - s.p) : s.n;
    *pos = nl ? *le + 1 : s.n;
    if (*le > *ls && s.p[*le - 1] == '\r') (*le)--;
    return 1;
}

/* Header block and body of an entity, split at its first empty line; 0 when it has none (then
 * all of s is the header). */
static int split_entity(span s, span *hdr, span *body) {
    size_t pos = 0, ls, le;
    while (next_line(s, &pos, &ls, &le)) {
        if (le == ls) {
            *hdr = (span){s.p, ls};
            *body = (span){s.p + pos, s.n - pos};
            return 1;
        }
    }
    *hdr = s;
    *body = (span){s.p + s.n, 0};
    return 0;
}

/* ---- header fields ---- */

/* Whether line l[0..n) starts field `name` (any case, blanks before the colon tolerated as
 * RFC 5322 4.5 asks); *val receives the offset of its value. */
static int field_is(const char *l, size_t n, const char *name, size_t *val) {
    size_t k = strlen(name), i = k;
    if (n <= k || strncasecmp(l, name, k) != 0) return 0;
    while (i < n && is_wsp(l[i]))
        i++;
    if (i == n || l[i] != ':') return 0;
    *val = i + 1;
    return 1;
}

/* The first field `name` of header h, unfolded (RFC 5322 2.2.3) and trimmed, malloc'ed into
 * *out; NULL when h has none. */
static sp_err header_get(span h, const char *name, char **out) {
    size_t pos = 0, ls, le, v;
    *out = NULL;
    while (next_line(h, &pos, &ls, &le)) {
        if (!field_is(h.p + ls, le - ls, name, &v)) continue;
        sbuf b = {0};
        sb_add(&b, h.p + ls + v, le - ls - v);
        while (next_line(h, &pos, &ls, &le) && le > ls && is_wsp(h.p[ls]))
            sb_add(&b, h.p + ls, le - ls);
        span t = trim((span){b.p, b.n});
        if (t.n) memmove(b.p, t.p, t.n);
        b.n = t.n;
        return sb_take(&b, out);
    }
    return SP_OK;
}

/* ---- charsets ---- */

enum { CS_UNKNOWN, CS_UTF8, CS_1252 };

/* Which conversion a charset name needs (an RFC 2231 "*language" suffix is ignored). US-ASCII
 * is read as UTF-8: MUAs that forget to declare UTF-8 are common, and bytes that are not
 * UTF-8 either are refused by the final check. ISO-8859-1 is read as Windows-1252, its
 * superset, as browsers do (WHATWG Encoding): 0x80-0x9F are C1 controls in the one and the
 * curly quotes and euro sign that such mails mean in the other. */
static int charset_of(const char *s, size_t n) {
    static const struct {
        const char *name;
        int cs;
    } names[] = {{"utf-8", CS_UTF8},        {"utf8", CS_UTF8},       {"us-ascii", CS_UTF8},
                 {"ascii", CS_UTF8},        {"iso-8859-1", CS_1252}, {"iso8859-1", CS_1252},
                 {"iso_8859-1", CS_1252},   {"latin1", CS_1252},     {"latin-1", CS_1252},
                 {"windows-1252", CS_1252}, {"cp1252", CS_1252},     {"x-cp1252", CS_1252}};
    const char *star = memchr(s, '*', n);
    if (star) n = (size_t)(star - s);
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strlen(names[i].name) == n && strncasecmp(s, names[i].name, n) == 0) return names[i].cs;
    return CS_UNKNOWN;
}

/* Windows-1252's 0x80-0x9F; its five unassigned bytes map to the C1 code points (WHATWG). */
static const uint16_t cp1252_80[32] = {
    0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008d, 0x017d, 0x008f, 0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178};

/* p[0..n) in charset cs (not CS_UNKNOWN) appended to out as UTF-8. */
static void convert(sbuf *out, int cs, const char *p, size_t n) {
    if (cs == CS_UTF8) {
        sb_add(out, p, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        sb_utf8(out, c >= 0x80 && c < 0xa0 ? cp1252_80[c - 0x80] : c);
    }
}

/* ---- transfer encodings ---- */

static int b64val(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* base64 (RFC 2045 6.8) appended to out. Line breaks and blanks are skipped and padding may be
 * missing; any other byte, data after the padding or a lone last character is an error. */
static sp_err b64_decode(span in, sbuf *out) {
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    for (size_t i = 0; i < in.n; i++) {
        unsigned char c = (unsigned char)in.p[i];
        int v = b64val(c);
        if (is_space((char)c)) continue;
        if (c == '=') {
            pad = 1;
            continue;
        }
        if (v < 0 || pad) return SP_ERR_DECODE;
        acc = ((acc << 6) | (uint32_t)v) & 0xffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            sb_ch(out, (char)(acc >> bits));
        }
    }
    return bits == 6 ? SP_ERR_DECODE : SP_OK;
}

/* quoted-printable (RFC 2045 6.7) appended to out: =XX (either case), soft line breaks ("=" at
 * the end of a line, blanks after it tolerated); a '=' that starts neither is kept as it is,
 * as 6.7 (1) suggests. q: RFC 2047's Q encoding, where '_' is a space. */
static void qp_decode(span in, sbuf *out, int q) {
    for (size_t i = 0; i < in.n; i++) {
        char c = in.p[i];
        if (c == '_' && q) {
            sb_ch(out, ' ');
            continue;
        }
        if (c != '=') {
            sb_ch(out, c);
            continue;
        }
        if (i + 2 < in.n && hexval(in.p[i + 1]) >= 0 && hexval(in.p[i + 2]) >= 0) {
            sb_ch(out, (char)(hexval(in.p[i + 1]) << 4 | hexval(in.p[i + 2])));
            i += 2;
            continue;
        }
        size_t j = i + 1;
        while (j < in.n && is_wsp(in.p[j]))
            j++;
        if (j + 1 < in.n && in.p[j] == '\r' && in.p[j + 1] == '\n') j++;
        if (j >= in.n || in.p[j] == '\n')
            i = j; /* soft line break */
        else
            sb_ch(out, '=');
    }
}

/* The bytes of body b under Content-Transfer-Encoding cte (lowercase, "" when none) appended to
 * out; `what` names the part in an error. */
static sp_err decode_body(span b, const char *cte, sbuf *out, sp_intake_error *err,
                          const char *what) {
    if (!*cte || !strcmp(cte, "7bit") || !strcmp(cte, "8bit") || !strcmp(cte, "binary")) {
        sb_add(out, b.p, b.n);
    } else if (!strcmp(cte, "quoted-printable")) {
        qp_decode(b, out, 0);
    } else if (!strcmp(cte, "base64")) {
        if (b64_decode(b, out) != SP_OK) return BAD(err, "%s is not valid base64", what);
    } else {
        return BAD(err, "%s has an unknown Content-Transfer-Encoding '%.40s'", what, cte);
    }
    return out->oom ? SP_ERR_NOMEM : SP_OK;
}

/* ---- encoded words (RFC 2047) ---- */

/* The encoded word "=?charset?B|Q?text?=" at s[0..n) decoded and appended to out; returns its
 * length, or 0 (out untouched) when s does not start with one we can decode. */
static size_t encoded_word(const char *s, size_t n, sbuf *out) {
    if (n < 8 || s[0] != '=' || s[1] != '?') return 0;
    const char *cs = s + 2, *end = s + n;
    const char *q1 = memchr(cs, '?', n - 2);
    if (!q1 || end - q1 < 5 || q1[2] != '?') return 0;
    const char *text = q1 + 3, *q3 = memchr(text, '?', (size_t)(end - text));
    char enc = lower(q1[1]);
    int charset = charset_of(cs, (size_t)(q1 - cs));
    if (!q3 || q3 + 1 == end || q3[1] != '=' || charset == CS_UNKNOWN) return 0;
    if (enc != 'b' && enc != 'q') return 0;
    sbuf raw = {0};
    span t = {text, (size_t)(q3 - text)};
    sp_err rv = SP_OK;
    if (enc == 'b')
        rv = b64_decode(t, &raw);
    else
        qp_decode(t, &raw, 1);
    if (rv == SP_OK) convert(out, charset, raw.p, raw.n);
    if (raw.oom) out->oom = 1;
    free(raw.p);
    return rv == SP_OK ? (size_t)(q3 + 2 - s) : 0;
}

/* s[0..n) with its encoded words decoded, appended to out. Blanks between two encoded words
 * are dropped (RFC 2047 6.2: that is how a long text is split), all other text is kept. Words
 * in an unknown charset stay as they are, which is what 6.3 says to do. */
static void decode_words(const char *s, size_t n, sbuf *out) {
    size_t i = 0;
    int after_word = 0;
    while (i < n) {
        if (after_word) {
            size_t j = i, k = 0;
            while (j < n && is_space(s[j]))
                j++;
            if (j > i) k = encoded_word(s + j, n - j, out);
            if (k) {
                i = j + k;
                continue;
            }
            after_word = 0;
        }
        size_t k = s[i] == '=' ? encoded_word(s + i, n - i, out) : 0;
        if (k) {
            i += k;
            after_word = 1;
        } else {
            sb_ch(out, s[i++]);
        }
    }
}

/* s[0..n) made fit to hand out as header-derived text, at most max bytes, into *out: invalid
 * UTF-8 becomes U+FFFD, a run of blanks and control characters (CR and LF among them) one
 * space, blanks trimmed, and a cut never falls inside a character. */
static sp_err clean_text(const char *s, size_t n, size_t max, char **out) {
    sbuf b = {0};
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        if (c < 0x80 && (c <= 0x20 || c == 0x7f)) {
            if (b.n && b.p[b.n - 1] != ' ') sb_ch(&b, ' '); /* one space for any run */
        } else if (c < 0x80)
            sb_ch(&b, (char)c);
        else if (k <= n - i && sp_utf8_valid(s + i, k))
            sb_add(&b, s + i, k);
        else
            sb_str(&b, "\xef\xbf\xbd"), k = 1;
        i += k;
    }
    span t = trim((span){b.p, b.n});
    if (t.n > max) {
        t.n = max;
        while (t.n && ((unsigned char)t.p[t.n] & 0xc0) == 0x80)
            t.n--;
        t = trim(t);
    }
    if (t.n) memmove(b.p, t.p, t.n);
    b.n = t.n;
    return sb_take(&b, out);
}

/* Header-derived text (clean_text) of s[0..n) after decoding its encoded words; NULL when
 * nothing is left. */
static sp_err header_text(const char *s, size_t n, size_t max, char **out) {
    sbuf d = {0};
    decode_words(s, n, &d);
    sp_err rv = d.oom ? SP_ERR_NOMEM : clean_text(d.p ? d.p : "", d.n, max, out);
    free(d.p);
    if (rv == SP_OK && !**out) {
        free(*out);
        *out = NULL;
    }
    return rv;
}

/* ---- addresses ---- */

static int all_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!is_space(s[i])) return 0;
    return 1;
}

/* The first mailbox of an address list: up to the first ',' outside quotes, comments and angle
 * brackets, and past a group's "name:" (RFC 5322 3.4). */
static span first_mailbox(const char *s) {
    size_t n = strlen(s), start = 0, i;
    int depth = 0, quote = 0, angle = 0;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\' && (quote || depth) && i + 1 < n)
            i++;
        else if (quote)
            quote = c != '"';
        else if (c == '(')
            depth++;
        else if (depth)
            depth -= c == ')';
        else if (c == '"')
            quote = 1;
        else if (c == '<' || c == '>')
            angle = c == '<';
        else if (!angle && c == ':')
            start = i + 1;
        else if (!angle && (c == ',' || c == ';') && !all_blank(s + start, i - start))
            break;
        else if (!angle && (c == ',' || c == ';'))
            start = i + 1;
    }
    return (span){s + start, i - start};
}

/* A mailbox taken apart: the display phrase (quoted strings unquoted), the text of its
 * comments, what is inside <...>, and the addr-spec as written when there are no brackets. */
typedef struct {
    sbuf phrase, comment, angle, bare;
    int has_angle;
} mbox;

/* Skips the comment opening at m.p[*i] (nested, with \-escapes), its text appended to cm;
 * *i ends on its ')'. */
static void skip_comment(span m, size_t *i, sbuf *cm) {
    int depth = 0;
    if (cm->n) sb_ch(cm, ' ');
    for (; *i < m.n; (*i)++) {
        char c = m.p[*i];
        if (c == '\\' && *i + 1 < m.n) {
            sb_ch(cm, m.p[++*i]);
            continue;
        }
        depth += c == '(' ? 1 : c == ')' ? -1 : 0;
        if (depth == 0) return;
        if (depth > 1 || c != '(') sb_ch(cm, c);
    }
}

/* The quoted string opening at m.p[*i]: its text to phrase, unescaped, and as written to bare;
 * *i ends on its closing quote. */
static void skip_quoted(span m, size_t *i, sbuf *phrase, sbuf *bare) {
    sb_ch(bare, '"');
    for ((*i)++; *i < m.n && m.p[*i] != '"'; (*i)++) {
        if (m.p[*i] == '\\' && *i + 1 < m.n) sb_ch(bare, m.p[(*i)++]);
        sb_ch(phrase, m.p[*i]);
        sb_ch(bare, m.p[*i]);
    }
    sb_ch(bare, '"');
}

static void scan_mailbox(span m, mbox *x) {
    int in_angle = 0;
    for (size_t i = 0; i < m.n; i++) {
        char c = m.p[i];
        if (c == '(')
            skip_comment(m, &i, &x->comment);
        else if (c == '"' && !in_angle)
            skip_quoted(m, &i, &x->phrase, &x->bare);
        else if (c == '<' && !x->has_angle)
            in_angle = x->has_angle = 1;
        else if (c == '>' && in_angle)
            in_angle = 0;
        else if (in_angle)
            sb_ch(&x->angle, c);
        else
            sb_ch(&x->phrase, c), sb_ch(&x->bare, c);
    }
}

/* The first mailbox of address list v: *addr its address as written (NULL when empty) and,
 * when name is not NULL, its display name decoded (the comment of "addr (Name)"; NULL when
 * none). */
static sp_err mailbox_parse(const char *v, char **addr, char **name) {
    mbox x = {0};
    scan_mailbox(first_mailbox(v), &x);
    span a = trim(x.has_angle ? (span){x.angle.p, x.angle.n} : (span){x.bare.p, x.bare.n});
    span nm = trim(x.has_angle ? (span){x.phrase.p, x.phrase.n} : (span){x.comment.p, x.comment.n});
    sp_err rv = x.phrase.oom || x.comment.oom || x.angle.oom || x.bare.oom ? SP_ERR_NOMEM : SP_OK;
    *addr = NULL;
    if (rv == SP_OK && a.n && !(*addr = strndup(a.p, a.n))) rv = SP_ERR_NOMEM;
    if (rv == SP_OK && name) rv = header_text(nm.p ? nm.p : "", nm.n, SP_INTAKE_NAME_MAX, name);
    free(x.phrase.p);
    free(x.comment.p);
    free(x.angle.p);
    free(x.bare.p);
    return rv;
}

/* Whether a is an addr-spec a reply can go to: one '@' between a local part and a domain with a
 * dot, nothing a header could not carry, valid UTF-8 (RFC 6531 addresses), at most
 * SP_INTAKE_EMAIL_MAX bytes; the same rule as the web form's e-mail field. */
static int addr_ok(const char *a) {
    const char *at = strchr(a, '@');
    size_t n = strlen(a);
    if (!at || at == a || strchr(at + 1, '@') || !strchr(at + 1, '.') || n > SP_INTAKE_EMAIL_MAX)
        return 0;
    if (at[1] == '.' || a[n - 1] == '.') return 0;
    for (const char *p = a; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f || strchr("<>()[],;:\\", *p)) return 0;
    return sp_utf8_valid(a, n);
}

/* From (required: the reply goes there; a bounce, From "<>" or MAILER-DAEMON, has none usable,
 * which also keeps us out of loops with other robots). */
static sp_err parse_from(sp_email *m, span hdr, sp_intake_error *err) {
    char *v, *addr = NULL;
    sp_err rv = header_get(hdr, "From", &v);
    if (rv == SP_OK && !v) rv = BAD(err, "the message has no From field");
    if (rv == SP_OK) rv = mailbox_parse(v, &addr, &m->from_name);
    if (rv == SP_OK && (!addr || !addr_ok(addr)))
        rv = BAD(err, "From has no address a reply could go to");
    if (rv == SP_OK)
        m->from_addr = addr;
    else
        free(addr);
    free(v);
    return rv;
}

/* The local part of To's first address: before its last '@' (all of it without one); NULL
 * when there is none or it holds blanks or controls. */
static sp_err parse_to(sp_email *m, span hdr) {
    char *v, *addr = NULL;
    sp_err rv = header_get(hdr, "To", &v);
    if (rv == SP_OK && v) rv = mailbox_parse(v, &addr, NULL);
    if (rv == SP_OK && addr) {
        char *at = strrchr(addr, '@');
        size_t n = at ? (size_t)(at - addr) : strlen(addr);
        int ok = n > 0 && n <= SP_INTAKE_EMAIL_MAX && sp_utf8_valid(addr, n);
        for (size_t i = 0; ok && i < n; i++)
            ok = (unsigned char)addr[i] > 0x20 && addr[i] != 0x7f;
        if (ok && !(m->to_local = strndup(addr, n))) rv = SP_ERR_NOMEM;
    }
    free(addr);
    free(v);
    return rv;
}

/* Message-ID without its brackets; NULL unless it is printable ASCII without blanks (it goes
 * back into the reply's header), at most MSGID_MAX bytes. */
static sp_err parse_message_id(sp_email *m, span hdr) {
    char *v;
    sp_err rv = header_get(hdr, "Message-ID", &v);
    if (rv != SP_OK || !v) return rv;
    const char *lt = strchr(v, '<'), *s = lt ? lt + 1 : v;
    size_t n = lt ? strcspn(s, ">") : strlen(s);
    int ok = n > 0 && n <= MSGID_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = s[i] > 0x20 && s[i] < 0x7f && s[i] != '<';
    if (ok && !(m->message_id = strndup(s, n))) rv = SP_ERR_NOMEM;
    free(v);
    return rv;
}

static sp_err parse_fields(sp_email *m, span hdr, sp_intake_error *err) {
    char *subject;
    sp_err rv = parse_from(m, hdr, err);
    if (rv == SP_OK) rv = parse_to(m, hdr);
    if (rv == SP_OK) rv = parse_message_id(m, hdr);
    if (rv == SP_OK) rv = header_get(hdr, "Subject", &subject);
    if (rv == SP_OK && subject) {
        rv = header_text(subject, strlen(subject), SP_EMAIL_SUBJECT_MAX, &m->subject);
        free(subject);
    }
    return rv;
}

/* ---- Content-Type and Content-Disposition ---- */

/* The value's first token (up to ';'), trimmed and lowercased, into out; "" when it does not
 * fit or, with media set, is not type/subtype. Media types are held to RFC 6838's names
 * (letters, digits, !#$&-^_.+), the rule the web channel's attachments follow. v may be NULL. */
static void first_token(const char *v, int media, char *out, size_t cap) {
    span t = trim((span){v, v ? strcspn(v, ";") : 0});
    const char *slash = media && t.n ? memchr(t.p, '/', t.n) : NULL;
    int ok = t.n > 0 && t.n < cap && (!media || (slash && slash > t.p && slash < t.p + t.n - 1));
    for (size_t i = 0; ok && i < t.n; i++) {
        char c = lower(t.p[i]);
        ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("!#$&-^_.+", c) ||
             (c == '/' && t.p + i == slash);
        out[i] = c;
    }
    out[ok ? t.n : 0] = '\0';
}

/* The next parameter of a header value at *s: its attribute lowercased into attr ("" when
 * longer than attr holds), its value (a quoted string unquoted) into val. 0 when none left.
 * In a quoted string '\' escapes only '"' and '\': senders write Windows paths unescaped
 * (filename="C:\Users\..."), and nothing else needs escaping. */
static int param_next(const char **s, char attr[64], sbuf *val) {
    const char *p = *s;
    size_t k = 0;
    while (*p == ';' || is_space(*p))
        p++;
    if (!*p) return 0;
    for (; *p && *p != '=' && *p != ';'; p++)
        if (!is_space(*p) && k < 63) attr[k++] = lower(*p);
    attr[k < 63 ? k : 0] = '\0';
    val->n = 0;
    if (*p == '=') {
        for (p++; is_space(*p); p++)
            ;
        if (*p == '"') {
            for (p++; *p && *p != '"'; p++)
                sb_ch(val, *p == '\\' && (p[1] == '"' || p[1] == '\\') ? *++p : *p);
            p += *p == '"';
        } else {
            const char *e = p + strcspn(p, ";");
            span t = trim((span){p, (size_t)(e - p)});
            sb_add(val, t.p, t.n);
            p = e;
        }
    }
    *s = p;
    return 1;
}

/* Whether header value v (its parameters, past the first ';') has parameter attr (lowercase);
 * its value into val. */
static int find_param(const char *v, const char *attr, sbuf *val) {
    const char *s = v ? strchr(v, ';') : NULL;
    char a[64];
    while (s && param_next(&s, a, val))
        if (strcmp(a, attr) == 0) return 1;
    return 0;
}

/* %XX escapes of an RFC 2231 value decoded and appended to out. */
static void pct_decode(const char *s, size_t n, sbuf *out) {
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            sb_ch(out, (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2])));
            i += 2;
        } else {
            sb_ch(out, s[i]);
        }
    }
}

/* An RFC 2231 extended section appended to raw; the first one says "charset'language'text"
 * and sets *cs (UTF-8 when unknown: the final clean-up replaces what is not). */
static void ext_section(const sbuf *val, int first, int *cs, sbuf *raw) {
    const char *p = val->p ? val->p : "";
    size_t n = val->n;
    const char *q1 = first ? memchr(p, '\'', n) : NULL;
    const char *q2 = q1 ? memchr(q1 + 1, '\'', n - (size_t)(q1 + 1 - p)) : NULL;
    if (q2) {
        *cs = charset_of(p, (size_t)(q1 - p));
        if (*cs == CS_UNKNOWN) *cs = CS_UTF8;
        n -= (size_t)(q2 + 1 - p);
        p = q2 + 1;
    }
    pct_decode(p, n, raw);
}

/* The RFC 2231 forms of parameter name, name*= or the sections name*0[*]=, name*1[*]=...:
 * their bytes appended to raw and their charset into *cs. 0 when v has neither. */
static int param_2231(const char *v, const char *name, sbuf *val, sbuf *raw, int *cs) {
    char attr[72];
    int k;
    snprintf(attr, sizeof attr, "%s*", name);
    if (find_param(v, attr, val)) {
        ext_section(val, 1, cs, raw);
        return 1;
    }
    for (k = 0; k < PARAM_SECTIONS; k++) {
        snprintf(attr, sizeof attr, "%s*%d*", name, k);
        if (find_param(v, attr, val)) {
            ext_section(val, k == 0, cs, raw);
            continue;
        }
        snprintf(attr, sizeof attr, "%s*%d", name, k);
        if (!find_param(v, attr, val)) break;
        sb_add(raw, val->p, val->n);
    }
    return k > 0;
}

/* Parameter `name` of header value v into *out (NULL when absent), as UTF-8 bytes still to be
 * cleaned. The RFC 2231 forms are preferred to name=, whose encoded words are decoded when
 * words is set (RFC 2047 forbids them there, but Gmail and Outlook put file names so). */
static sp_err param_value(const char *v, const char *name, int words, char **out) {
    sbuf val = {0}, raw = {0}, res = {0};
    int cs = CS_UTF8, found = 1;
    if (param_2231(v, name, &val, &raw, &cs))
        convert(&res, cs, raw.p, raw.n);
    else if ((found = find_param(v, name, &val)) && words)
        decode_words(val.p ? val.p : "", val.n, &res);
    else if (found)
        sb_add(&res, val.p, val.n);
    *out = NULL;
    sp_err rv = val.oom || raw.oom ? SP_ERR_NOMEM : SP_OK;
    if (rv == SP_OK && found) rv = sb_take(&res, out);
    free(val.p);
    free(raw.p);
    free(res.p);
    return rv;
}

/* ---- MIME structure ---- */

/* The text part kept so far of one kind (text/plain or text/html), still encoded. */
typedef struct {
    span body;
    char cte[24];     /* lowercase, "" when none */
    char charset[40]; /* as declared (printable ASCII only), for an error message */
    int cs;           /* CS_* */
    int found;
} text_part;

typedef struct {
    sp_email *m;
    sp_intake_error *err;
    text_part plain, html;
} walk;

/* Content-Transfer-Encoding of header h, lowercased, into cte: "" when none, "?" when it is no
 * token we could know. */
static sp_err get_cte(span h, char cte[24]) {
    char *v;
    sp_err rv = header_get(h, "Content-Transfer-Encoding", &v);
    if (rv != SP_OK) return rv;
    first_token(v, 0, cte, 24);
    if (v && *v && !*cte) strcpy(cte, "?");
    free(v);
    return SP_OK;
}

/* Keeps body as the message's text/plain or text/html when it is the first of its kind; its
 * charset is only judged if it ends up being the text. */
static sp_err note_text(walk *w, const char *type, const char *ct, const char *cte, span body) {
    text_part *t = strcmp(type, "text/html") == 0 ? &w->html : &w->plain;
    char *cs;
    if (t->found) return SP_OK;
    sp_err rv = param_value(ct, "charset", 0, &cs);
    if (rv != SP_OK) return rv;
    const char *name = cs && *cs ? cs : "us-ascii";
    size_t k;
    for (k = 0; name[k] && k < sizeof t->charset - 1; k++)
        t->charset[k] = name[k] > 0x20 && name[k] < 0x7f ? name[k] : '?';
    t->charset[k] = '\0';
    t->cs = charset_of(name, strlen(name));
    t->found = 1;
    t->body = body;
    snprintf(t->cte, sizeof t->cte, "%s", cte);
    free(cs);
    return SP_OK;
}

/* An attachment's file name: raw (filename, else Content-Type's name) without any folder (a
 * name is never a path here), cleaned and cut to fit; "lampiran-N" when nothing is left. */
static sp_err attachment_name(const char *raw, size_t index, char name[SP_INTAKE_MEDIA_MAX + 1]) {
    const char *base = raw ? raw : "";
    char *clean;
    for (const char *p = base; *p; p++)
        if (*p == '/' || *p == '\\') base = p + 1;
    sp_err rv = clean_text(base, strlen(base), SP_INTAKE_MEDIA_MAX, &clean);
    if (rv != SP_OK) return rv;
    if (!*clean || strcmp(clean, ".") == 0 || strcmp(clean, "..") == 0)
        snprintf(name, SP_INTAKE_MEDIA_MAX + 1, "lampiran-%zu", index);
    else
        memcpy(name, clean, strlen(clean) + 1); /* clean_text kept it within the size */
    free(clean);
    return SP_OK;
}

static sp_err add_attachment(walk *w, span body, const char *type, const char *cte,
                             const char *fname, const char *ct) {
    sp_email *m = w->m;
    if (m->n_att == SP_INTAKE_ATTACH_MAX)
        return TOO_BIG(w->err, "the message has more than %u attachments", SP_INTAKE_ATTACH_MAX);
    sp_intake_attachment *a = &m->att[m->n_att];
    char *cname = NULL, *data = NULL;
    sbuf b = {0};
    sp_err rv = fname ? SP_OK : param_value(ct, "name", 1, &cname);
    if (rv == SP_OK) rv = attachment_name(fname ? fname : cname, m->n_att + 1, a->name);
    if (rv == SP_OK) rv = decode_body(body, cte, &b, w->err, "an attachment");
    if (rv == SP_OK && b.n > SP_INTAKE_ATTACH_BYTES)
        rv = TOO_BIG(w->err, "attachment '%s' is larger than %u bytes", a->name,
                     SP_INTAKE_ATTACH_BYTES);
    a->len = b.n;
    if (rv == SP_OK) rv = sb_take(&b, &data);
    if (rv == SP_OK) {
        a->data = (uint8_t *)data;
        snprintf(a->media_type, sizeof a->media_type, "%s",
                 *type ? type : "application/octet-stream");
        m->n_att++;
    }
    free(b.p);
    free(cname);
    return rv;
}

/* A part that is not multipart: the text, or an attachment (a disposition other than inline,
 * a file name, or a type that is not text/plain or text/html). Content-Type ct (may be NULL)
 * says type ("" when absent or malformed, which RFC 2045 5.2 reads as text/plain). */
static sp_err leaf(walk *w, span hdr, span body, const char *ct, const char *type) {
    char *cd = NULL, *fname = NULL, disp[16], cte[24];
    sp_err rv = header_get(hdr, "Content-Disposition", &cd);
    if (rv == SP_OK) rv = get_cte(hdr, cte);
    if (rv == SP_OK && cd) rv = param_value(cd, "filename", 1, &fname);
    if (rv == SP_OK) {
        const char *t = *type ? type : "text/plain";
        int text = strcmp(t, "text/plain") == 0 || strcmp(t, "text/html") == 0;
        first_token(cd, 0, disp, sizeof disp);
        if ((*disp && strcmp(disp, "inline") != 0) || fname || !text)
            rv = add_attachment(w, body, type, cte, fname, ct);
        else
            rv = note_text(w, t, ct, cte, body);
    }
    free(cd);
    free(fname);
    return rv;
}

/* Whether line l[0..n) is a delimiter of boundary b: "--b" or, closing (*close), "--b--",
 * then only blanks (RFC 2046 5.1.1's transport padding). */
static int is_delimiter(const char *l, size_t n, const char *b, size_t bl, int *close) {
    if (n < bl + 2 || l[0] != '-' || l[1] != '-' || memcmp(l + 2, b, bl) != 0) return 0;
    size_t i = bl + 2;
    *close = n - i >= 2 && l[i] == '-' && l[i + 1] == '-';
    for (i += *close ? 2 : 0; i < n; i++)
        if (!is_wsp(l[i])) return 0;
    return 1;
}

static sp_err entity(walk *w, span hdr, span body, int depth);

/* The part of multipart body from start to the delimiter line at end (the line end before
 * the delimiter belongs to it, RFC 2046 5.1.1). */
static sp_err sub_part(walk *w, span body, size_t start, size_t end, int depth) {
    span hdr, part;
    if (end > start && body.p[end - 1] == '\n') end--;
    if (end > start && body.p[end - 1] == '\r') end--;
    split_entity((span){body.p + start, end - start}, &hdr, &part);
    return entity(w, hdr, part, depth + 1);
}

/* The parts of a multipart body; its preamble and epilogue are ignored. A missing closing
 * delimiter is tolerated (the last part runs to the end): truncated mails happen. */
static sp_err parts(walk *w, span body, const char *boundary, int depth) {
    size_t pos = 0, ls, le, start = 0, bl = strlen(boundary);
    int open = 0, close;
    sp_err rv = SP_OK;
    while (rv == SP_OK && next_line(body, &pos, &ls, &le)) {
        if (!is_delimiter(body.p + ls, le - ls, boundary, bl, &close)) continue;
        if (open) rv = sub_part(w, body, start, ls, depth);
        if (close) return rv;
        open = 1;
        start = pos;
    }
    if (rv == SP_OK && !open) return BAD(w->err, "a multipart body has no delimiter line");
    if (rv == SP_OK && start < body.n) rv = sub_part(w, body, start, body.n, depth);
    return rv;
}

/* A multipart entity whose Content-Type is ct. */
static sp_err multipart(walk *w, const char *ct, span body, int depth) {
    char *boundary;
    sp_err rv = param_value(ct, "boundary", 0, &boundary);
    if (rv == SP_OK && (!boundary || !*boundary || strlen(boundary) > BOUNDARY_MAX))
        rv = BAD(w->err, "a multipart part has no usable boundary");
    else if (rv == SP_OK)
        rv = parts(w, body, boundary, depth);
    free(boundary);
    return rv;
}

/* One entity (the message, or a part at multipart depth `depth`) with header hdr. */
static sp_err entity(walk *w, span hdr, span body, int depth) {
    char *ct, type[SP_INTAKE_MEDIA_MAX + 1];
    sp_err rv = header_get(hdr, "Content-Type", &ct);
    if (rv != SP_OK) return rv;
    first_token(ct, 1, type, sizeof type);
    if (strncmp(type, "multipart/", 10) != 0)
        rv = leaf(w, hdr, body, ct, type);
    else if (depth >= SP_EMAIL_DEPTH)
        rv = BAD(w->err, "multipart parts are nested more than %d deep", SP_EMAIL_DEPTH);
    else
        rv = multipart(w, ct, body, depth);
    free(ct);
    return rv;
}

/* ---- html ---- */

/* A line break in the text: blanks before it dropped, at most one empty line in a row. A block
 * element's edge (hard == 0) breaks only a line that has something on it; <br> always does. */
static void html_break(sbuf *out, int hard) {
    while (out->n && out->p[out->n - 1] == ' ')
        out->n--;
    if (out->n == 0 || (!hard && out->p[out->n - 1] == '\n')) return;
    if (out->n >= 2 && out->p[out->n - 1] == '\n' && out->p[out->n - 2] == '\n') return;
    sb_ch(out, '\n');
}

/* White space in html is one space wherever it is (and none at a line's start). */
static void html_space(sbuf *out) {
    if (out->n && out->p[out->n - 1] != ' ' && out->p[out->n - 1] != '\n') sb_ch(out, ' ');
}

static int is_alnum(char c) {
    c = lower(c);
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Where pattern pat (lowercase) first is in p[from..n), any case; n when nowhere. */
static size_t find_ci(const char *p, size_t n, size_t from, const char *pat) {
    size_t k = strlen(pat);
    for (size_t i = from; i + k <= n; i++)
        if (strncasecmp(p + i, pat, k) == 0) return i;
    return n;
}

/* The index after the '>' that ends the tag whose attributes start at p[j] (quotes only count
 * after '=', as in attribute values); n when it never ends. */
static size_t tag_end(const char *p, size_t n, size_t j) {
    char q = 0, prev = 0;
    for (; j < n; j++) {
        if (q) {
            q = p[j] == q ? 0 : q;
        } else if ((p[j] == '"' || p[j] == '\'') && prev == '=') {
            q = p[j];
        } else if (p[j] == '>') {
            return j + 1;
        }
        if (!is_space(p[j])) prev = p[j];
    }
    return n;
}

/* The tag or comment opening at p[i] == '<': its effect on the text, appended to out; returns
 * the index after it. <script> and <style> go with their content. */
static size_t html_tag(const char *p, size_t n, size_t i, sbuf *out) {
    static const char *const blocks[] = {"p",  "div",   "li",  "tr",        "h1", "h2",
                                         "h3", "h4",    "h5",  "h6",        "ul", "ol",
                                         "hr", "table", "pre", "blockquote"};
    char name[16];
    size_t j = i + 1, k = 0;
    if (n - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
        size_t e = find_ci(p, n, i + 4, "-->");
        return e < n ? e + 3 : n;
    }
    int closing = p[j] == '/';
    for (j += (size_t)closing; j < n && k < sizeof name - 1 && is_alnum(p[j]); j++)
        name[k++] = lower(p[j]);
    name[k] = '\0';
    size_t end = tag_end(p, n, j);
    if (!closing && (strcmp(name, "script") == 0 || strcmp(name, "style") == 0)) {
        size_t e = find_ci(p, n, end, name[1] == 'c' ? "</script" : "</style");
        return e < n ? tag_end(p, n, e + 2) : n;
    }
    if (strcmp(name, "br") == 0) html_break(out, 1);
    for (size_t b = 0; b < sizeof blocks / sizeof *blocks; b++)
        if (strcmp(name, blocks[b]) == 0) html_break(out, 0);
    return end;
}

/* &#NNN; or &#xHHH; at p[i]: its character appended to out, the index after it returned; a
 * lone '&' when it is not one. Code points that cannot be are U+FFFD. */
static size_t html_numeric(const char *p, size_t n, size_t i, sbuf *out) {
    size_t j = i + 2, digits = 0;
    int hex = j < n && (p[j] == 'x' || p[j] == 'X');
    uint32_t cp = 0;
    for (j += (size_t)hex; j < n && digits < 8; j++, digits++) {
        int v = hex ? hexval(p[j]) : p[j] >= '0' && p[j] <= '9' ? p[j] - '0' : -1;
        if (v < 0) break;
        cp = cp * (hex ? 16 : 10) + (uint32_t)v;
    }
    if (!digits || j >= n || p[j] != ';') {
        sb_ch(out, '&');
        return i + 1;
    }
    if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) cp = 0xfffd;
    if (cp == 0xa0)
        html_space(out);
    else
        sb_utf8(out, cp);
    return j + 1;
}

/* The entity at p[i] == '&'. &nbsp; is a plain space: the text is read, not laid out. */
static size_t html_entity(const char *p, size_t n, size_t i, sbuf *out) {
    static const struct {
        const char *name, *text;
    } named[] = {{"amp;", "&"},   {"lt;", "<"},   {"gt;", ">"},
                 {"quot;", "\""}, {"apos;", "'"}, {"nbsp;", " "}};
    for (size_t e = 0; e < sizeof named / sizeof *named; e++) {
        size_t k = strlen(named[e].name);
        if (n - i - 1 < k || memcmp(p + i + 1, named[e].name, k) != 0) continue;
        if (*named[e].text == ' ')
            html_space(out);
        else
            sb_str(out, named[e].text);
        return i + 1 + k;
    }
    if (i + 1 < n && p[i + 1] == '#') return html_numeric(p, n, i, out);
    sb_ch(out, '&');
    return i + 1;
}

/* html (UTF-8) as plain text: tags removed, line breaks where blocks and <br> are, entities
 * decoded, white space collapsed. */
static void strip_html(const char *p, size_t n, sbuf *out) {
    for (size_t i = 0; i < n;) {
        char c = p[i], d = i + 1 < n ? p[i + 1] : 0;
        if (c == '<' && (is_alnum(d) || d == '/' || d == '!' || d == '?'))
            i = html_tag(p, n, i, out);
        else if (c == '&')
            i = html_entity(p, n, i, out);
        else if (is_space(c))
            html_space(out), i++;
        else
            sb_ch(out, c), i++;
    }
}

/* ---- the text ---- */

/* CRLF and lone CR become LF; leading empty lines and trailing blanks go. In place. */
static void normalise(sbuf *b) {
    size_t j = 0, start = 0, i;
    for (i = 0; i < b->n; i++) {
        char c = b->p[i];
        if (c == '\r' && i + 1 < b->n && b->p[i + 1] == '\n') i++;
        b->p[j++] = c == '\r' ? '\n' : b->p[i];
    }
    b->n = j;
    while (b->n && is_space(b->p[b->n - 1]))
        b->n--;
    for (i = 0; i < b->n && is_space(b->p[i]); i++)
        if (b->p[i] == '\n') start = i + 1;
    if (start) memmove(b->p, b->p + start, b->n - start);
    b->n -= start;
}

/* The message's text: the first text/plain part, else the first text/html one made plain;
 * "" when there is neither. */
static sp_err finish_text(walk *w) {
    text_part *t = w->plain.found ? &w->plain : w->html.found ? &w->html : NULL;
    sbuf raw = {0}, utf = {0}, html = {0};
    sp_err rv = SP_OK;
    if (t && t->cs == CS_UNKNOWN)
        rv = BAD(w->err,
                 "the text's charset '%s' is not supported (UTF-8, US-ASCII, ISO-8859-1 and "
                 "Windows-1252 are)",
                 t->charset);
    if (t && rv == SP_OK) rv = decode_body(t->body, t->cte, &raw, w->err, "the text");
    if (t && rv == SP_OK) {
        convert(&utf, t->cs, raw.p, raw.n);
        if (t == &w->html) {
            strip_html(utf.p, utf.n, &html);
            sbuf plain = html;
            html = utf;
            utf = plain;
        }
        normalise(&utf);
        if (utf.oom || html.oom)
            rv = SP_ERR_NOMEM;
        else if (!sp_utf8_valid(utf.p ? utf.p : "", utf.n))
            rv = BAD(w->err, "the text is not valid %s (or holds a NUL)", t->charset);
    }
    if (rv == SP_OK) rv = sb_take(&utf, &w->m->text);
    free(raw.p);
    free(utf.p);
    free(html.p);
    return rv;
}

/* ---- the message ---- */

/* A first line "From sender date" (mbox, as procmail and some MTAs' pipes deliver) is no
 * header field: skipped. */
static span skip_mbox_line(span s) {
    size_t pos = 0, ls, le, v;
    if (s.n < 5 || memcmp(s.p, "From ", 5) != 0 || !next_line(s, &pos, &ls, &le) ||
        field_is(s.p, le, "From", &v))
        return s;
    return (span){s.p + pos, s.n - pos};
}

sp_err sp_email_parse(const char *msg, size_t n, sp_email *out, sp_intake_error *err) {
    sp_intake_error spare;
    span hdr, body;
    sp_err rv;
    if (!err) err = &spare;
    memset(out, 0, sizeof *out);
    if (n > SP_EMAIL_MAX) return TOO_BIG(err, "the message is larger than %u bytes", SP_EMAIL_MAX);
    if (!split_entity(skip_mbox_line((span){msg, n}), &hdr, &body))
        rv = BAD(err, "the message has no empty line between its header and its body");
    else
        rv = parse_fields(out, hdr, err);
    if (rv == SP_OK) {
        walk w = {.m = out, .err = err};
        rv = entity(&w, hdr, body, 0);
        if (rv == SP_OK) rv = finish_text(&w);
    }
    if (rv == SP_ERR_NOMEM) fail(err, 500, "internal", rv, "out of memory");
    if (rv != SP_OK) sp_email_free(out);
    return rv;
}

void sp_email_free(sp_email *m) {
    if (!m) return;
    free(m->from_name);
    free(m->from_addr);
    free(m->to_local);
    free(m->subject);
    free(m->message_id);
    free(m->text);
    for (size_t i = 0; i < m->n_att; i++)
        free(m->att[i].data);
    memset(m, 0, sizeof *m);
}

/* ---- the reply ---- */

/* s appended with every control character a space: a CR or LF would end the header line and
 * start another ("\r\nBcc: ..."), which is all header injection is. */
static void sb_header_value(sbuf *b, const char *s) {
    for (; s && *s; s++)
        sb_ch(b, (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
}

/* Whether s can go into the header as it is: printable ASCII, no word too long to fold into a
 * line of RFC 5322's 998 bytes. */
static int plain_ascii(const char *s) {
    size_t word = 0;
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) return 0;
        word = *s == ' ' ? 0 : word + 1;
        if (word > 900) return 0;
    }
    return 1;
}

/* ASCII s folded before a word that would take the line past 78 columns (RFC 5322 2.1.1). */
static void fold_ascii(sbuf *b, const char *s, size_t col) {
    while (*s) {
        size_t w = strcspn(s + 1, " ") + 1; /* a word with the blank before it */
        if (*s == ' ' && col + w > 78) {
            sb_str(b, "\r\n");
            col = 0;
        }
        sb_add(b, s, w);
        col += w;
        s += w;
    }
}

/* s as RFC 2047 B encoded words of whole characters, each at most 75 characters (10 + 60 + 2:
 * 45 bytes of UTF-8 each), on lines of their own. */
static void encode_b(sbuf *b, const char *s) {
    size_t n = strlen(s);
    for (size_t i = 0, k; i < n; i += k) {
        char enc[64];
        k = n - i < 45 ? n - i : 45;
        while (k < n - i && k > 1 && ((unsigned char)s[i + k] & 0xc0) == 0x80)
            k--;
        sp_base64_encode((const uint8_t *)s + i, k, enc);
        sb_str(b, i ? "\r\n =?UTF-8?B?" : "=?UTF-8?B?");
        sb_str(b, enc);
        sb_str(b, "?=");
    }
}

/* "Subject: Re: <subject>", "Re: " not doubled. */
static void subject_line(sbuf *b, const char *subject) {
    sbuf s = {0};
    sb_header_value(&s, subject);
    sb_ch(&s, '\0');
    if (s.oom) {
        b->oom = 1;
        return;
    }
    span v = trim((span){s.p, s.n - 1});
    size_t start = b->n;
    s.p[(size_t)(v.p - s.p) + v.n] = '\0';
    sb_str(b, "Subject: ");
    if (strncasecmp(v.p, "re:", 3) != 0) sb_str(b, v.n ? "Re: " : "Re:");
    if (plain_ascii(v.p))
        fold_ascii(b, v.p, b->n - start);
    else
        encode_b(b, v.p);
    sb_str(b, "\r\n");
    free(s.p);
}

/* text with every line end CRLF, ending in one. */
static void body_crlf(sbuf *b, const char *text) {
    for (const char *p = text ? text : ""; *p; p++) {
        if (*p == '\r' && p[1] == '\n') continue;
        if (*p == '\r' || *p == '\n')
            sb_str(b, "\r\n");
        else
            sb_ch(b, *p);
    }
    if (b->n < 2 || b->p[b->n - 1] != '\n' || b->p[b->n - 2] != '\r') sb_str(b, "\r\n");
}

sp_err sp_email_reply(const sp_email *in, const char *from, const char *text, char **out) {
    sbuf b = {0};
    sb_str(&b, "From: ");
    sb_header_value(&b, from);
    sb_str(&b, "\r\nTo: ");
    sb_header_value(&b, in->from_addr);
    sb_str(&b, "\r\n");
    subject_line(&b, in->subject);
    if (in->message_id) {
        sb_str(&b, "In-Reply-To: <");
        sb_header_value(&b, in->message_id);
        sb_str(&b, ">\r\nReferences: <");
        sb_header_value(&b, in->message_id);
        sb_str(&b, ">\r\n");
    }
    sb_str(&b, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
               "Content-Transfer-Encoding: 8bit\r\n\r\n");
    body_crlf(&b, text);
    return sb_take(&b, out);
}
