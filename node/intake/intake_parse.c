/*
 * Intake parsing: web/app JSON, categories and regions, enum names, UTF-8. Pure functions
 * (node/intake/intake.h). SMS, forms and Open311 are in intake_channels.c.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "node/intake/intake.h"
#include "node/intake/intake_int.h"
#include "schemas/simpul.pb-c.h"

/* ---- names ---- */

static const char *const type_names[] = {"", "aspirasi", "pengaduan", "permintaan-informasi"};
static const char *const channel_names[] = {"",         "web",    "app",         "sms",
                                            "whatsapp", "social", "call-center", "open311",
                                            "email"};
static const char *const privacy_names[] = {"public", "anonymous", "confidential"};

#define COUNT(a) (sizeof(a) / sizeof *(a))

static sp_err parse_name(const char *const *names, size_t n, size_t first, const char *s,
                         uint32_t *out) {
    for (size_t i = first; s && i < n; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (uint32_t)i;
            return SP_OK;
        }
    }
    return SP_ERR_INVAL;
}

const char *sp_type_name(uint32_t t) {
    return t > 0 && t < COUNT(type_names) ? type_names[t] : "?";
}
const char *sp_channel_name(uint32_t c) {
    return c > 0 && c < COUNT(channel_names) ? channel_names[c] : "?";
}
const char *sp_privacy_name(uint32_t p) {
    return p < COUNT(privacy_names) ? privacy_names[p] : "?";
}
sp_err sp_type_parse(const char *s, uint32_t *out) {
    return parse_name(type_names, COUNT(type_names), 1, s, out);
}
sp_err sp_channel_parse(const char *s, uint32_t *out) {
    return parse_name(channel_names, COUNT(channel_names), 1, s, out);
}
sp_err sp_privacy_parse(const char *s, uint32_t *out) {
    return parse_name(privacy_names, COUNT(privacy_names), 0, s, out);
}

/* ---- requests ---- */

void sp_intake_req_init(sp_intake_req *r) {
    memset(r, 0, sizeof *r);
    r->type = 2; /* pengaduan */
    r->channel = 1;
}

void sp_intake_req_free(sp_intake_req *r) {
    if (!r) return;
    free(r->title);
    free(r->text);
    free(r->name);
    free(r->phone);
    free(r->email);
    free(r->nik);
    free(r->handle);
    free(r->address);
    free(r->address_id);
    free(r->media_url);
    for (size_t i = 0; i < r->n_att; i++)
        free(r->att[i].data);
    sp_intake_req_init(r);
}

int sp_intake_has_identity(const sp_intake_req *r) {
    return r->name || r->phone || r->email || r->nik || r->handle;
}

sp_err sp__intake_fail(sp_intake_error *err, int status, const char *code, sp_err rv,
                       const char *fmt, ...) {
    va_list ap;
    err->status = status;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return rv;
}

#define fail sp__intake_fail
#define INVALID(err, ...) fail(err, 400, "invalid_field", SP_ERR_INVAL, __VA_ARGS__)
#define MISSING(err, field) fail(err, 400, "missing_field", SP_ERR_INVAL, "'%s' is required", field)

/* ---- UTF-8 ---- */

int sp_utf8_valid(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t k;
        uint32_t cp;
        if (c == 0) return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0)
            k = 1, cp = c & 0x1f;
        else if ((c & 0xf0) == 0xe0)
            k = 2, cp = c & 0x0f;
        else if ((c & 0xf8) == 0xf0)
            k = 3, cp = c & 0x07;
        else
            return 0;
        if (n - i <= k) return 0; /* truncated */
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (p[i + j] & 0x3f);
        }
        /* overlong forms, surrogates, beyond U+10FFFF */
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return 0;
        i += k + 1;
    }
    return 1;
}

/* ---- categories and regions ---- */

int sp_category_valid(const char *s) {
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > SP_CATEGORY_MAX || s[0] == '/' || s[n - 1] == '/') return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '/' && s[i + 1] == '/') return 0;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '/')) return 0;
    }
    return 1;
}

int sp_category_known(const sp_topology *topo, const char *category) {
    if (!sp_category_valid(category)) return 0;
    if (strcmp(category, SP_CATEGORY_GENERAL) == 0) return 1;
    int rules = 0;
    for (size_t i = 0; i < sp_topology_route_count(topo); i++) {
        const char *rc = sp_topology_route_at(topo, i)->category;
        if (strcmp(rc, "*") == 0) continue;
        rules = 1;
        size_t n = strlen(rc);
        if (strncmp(category, rc, n) == 0 && (category[n] == '\0' || category[n] == '/')) return 1;
    }
    return !rules;
}

/* "NN" or "NN.NN" (Kemendagri province or regency code). */
static int region_syntax_ok(const char *s) {
    size_t n = strlen(s);
    if (n != 2 && n != 5) return 0;
    for (size_t i = 0; i < n; i++)
        if (i == 2 ? s[i] != '.' : (s[i] < '0' || s[i] > '9')) return 0;
    return 1;
}

sp_err sp_intake_check(const sp_intake_req *r, const sp_topology *topo, sp_intake_error *err) {
    if (!sp_category_known(topo, r->category))
        return fail(err, 422, "unknown_category", SP_ERR_NOT_FOUND,
                    "category '%s' is not one of this federation's (GET /open311/v2/services.json "
                    "lists them)",
                    r->category);
    if (!sp_topology_responsible(topo, r->region))
        return fail(err, 422, "unknown_region", SP_ERR_NOT_FOUND,
                    "region '%s' is not a region of this federation", r->region);
    return SP_OK;
}

/* ---- JSON fields ---- */

/* A string field: NULL (and SP_OK) when absent or null; SP_ERR_INVAL when not a string or
 * longer than max. */
static sp_err get_str(json_t *obj, const char *key, const char *label, size_t max, const char **out,
                      sp_intake_error *err) {
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) return SP_OK;
    if (!json_is_string(v)) return INVALID(err, "'%s' must be a string", label);
    size_t n = json_string_length(v);
    if (n > max) return INVALID(err, "'%s' is longer than %zu bytes", label, max);
    if (memchr(json_string_value(v), '\0', n)) return INVALID(err, "'%s' contains a NUL", label);
    *out = json_string_value(v);
    return SP_OK;
}

static sp_err dup_str(char **dst, const char *s) {
    if (!s) return SP_OK;
    return (*dst = strdup(s)) ? SP_OK : SP_ERR_NOMEM;
}

/* Trimmed length of s (leading and trailing ASCII blanks ignored); *start receives the start. */
static size_t trimmed(const char *s, const char **start) {
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    *start = s;
    return n;
}

static sp_err dup_trimmed(char **dst, const char *s) {
    const char *st;
    size_t n = trimmed(s, &st);
    if (!(*dst = malloc(n + 1))) return SP_ERR_NOMEM;
    memcpy(*dst, st, n);
    (*dst)[n] = '\0';
    return SP_OK;
}

/* The text, and a title (given, or the text's first line cut at 80 bytes on a UTF-8 boundary). */
sp_err sp__intake_set_text(sp_intake_req *r, const char *title, const char *text,
                           sp_intake_error *err) {
    const char *st;
    if (!text || trimmed(text, &st) == 0) return MISSING(err, "body");
    if (strlen(text) > SP_INTAKE_TEXT_MAX)
        return INVALID(err, "'body' is longer than %u bytes", SP_INTAKE_TEXT_MAX);
    if (title && strlen(title) > SP_INTAKE_TITLE_MAX)
        return INVALID(err, "'title' is longer than %u bytes", SP_INTAKE_TITLE_MAX);
    sp_err rv = dup_trimmed(&r->text, text);
    if (rv == SP_OK && title && trimmed(title, &st)) return dup_trimmed(&r->title, title);
    if (rv != SP_OK) return rv;
    size_t n = strcspn(r->text, "\r\n");
    if (n > 80) n = 80;
    while (n && ((unsigned char)r->text[n] & 0xc0) == 0x80)
        n--; /* not inside a character */
    if (!(r->title = malloc(n + 1))) return SP_ERR_NOMEM;
    memcpy(r->title, r->text, n);
    r->title[n] = '\0';
    return SP_OK;
}

static int digits_only(const char *s) {
    for (; *s; s++)
        if (*s < '0' || *s > '9') return 0;
    return 1;
}

/* Phone: optional '+', then 6-15 digits; blanks, dashes, dots and parentheses are dropped. */
static sp_err norm_phone(const char *in, char **out, sp_intake_error *err) {
    char buf[SP_INTAKE_PHONE_MAX + 1];
    size_t n = 0;
    for (const char *p = in; *p; p++) {
        if (strchr(" -.()", *p)) continue;
        if (!((*p >= '0' && *p <= '9') || (*p == '+' && n == 0)) || n == SP_INTAKE_PHONE_MAX)
            return INVALID(err, "'phone' must be a telephone number, e.g. +6281234567890");
        buf[n++] = *p;
    }
    buf[n] = '\0';
    size_t digits = n - (buf[0] == '+');
    if (digits < 6 || digits > 15) return INVALID(err, "'phone' must have 6 to 15 digits");
    return (*out = strdup(buf)) ? SP_OK : SP_ERR_NOMEM;
}

static sp_err check_email(const char *e, sp_intake_error *err) {
    const char *at = strchr(e, '@');
    if (!at || at == e || strchr(at + 1, '@') || !strchr(at + 1, '.') || strpbrk(e, " \t\r\n<>"))
        return INVALID(err, "'email' is not an e-mail address");
    return SP_OK;
}

/* The reporter identity fields (all optional) from obj into r. */
sp_err sp__intake_set_identity(sp_intake_req *r, const char *name, const char *phone,
                               const char *email, const char *nik, sp_intake_error *err) {
    const char *st;
    if (name && strlen(name) > SP_INTAKE_NAME_MAX)
        return INVALID(err, "'name' is longer than %u bytes", SP_INTAKE_NAME_MAX);
    if (nik && *nik && (strlen(nik) != 16 || !digits_only(nik)))
        return INVALID(err, "'nik' must be the 16 digits of the NIK");
    if (email && *email && strlen(email) > SP_INTAKE_EMAIL_MAX)
        return INVALID(err, "'email' is longer than %u bytes", SP_INTAKE_EMAIL_MAX);
    sp_err rv = email && *email ? check_email(email, err) : SP_OK;
    if (rv == SP_OK && phone && *phone) rv = norm_phone(phone, &r->phone, err);
    if (rv == SP_OK && name && trimmed(name, &st)) rv = dup_trimmed(&r->name, name);
    if (rv == SP_OK && email && *email) rv = dup_str(&r->email, email);
    if (rv == SP_OK && nik && *nik) rv = dup_str(&r->nik, nik);
    return rv;
}

static sp_err parse_reporter(sp_intake_req *r, json_t *root, sp_intake_error *err) {
    json_t *rep = json_object_get(root, "reporter");
    if (!rep || json_is_null(rep)) return SP_OK;
    if (!json_is_object(rep)) return INVALID(err, "'reporter' must be an object");
    const char *name, *phone, *email, *nik;
    sp_err rv = get_str(rep, "name", "reporter.name", SP_INTAKE_NAME_MAX, &name, err);
    if (rv == SP_OK) rv = get_str(rep, "phone", "reporter.phone", 64, &phone, err);
    if (rv == SP_OK) rv = get_str(rep, "email", "reporter.email", SP_INTAKE_EMAIL_MAX, &email, err);
    if (rv == SP_OK) rv = get_str(rep, "nik", "reporter.nik", 32, &nik, err);
    if (rv == SP_OK) rv = sp__intake_set_identity(r, name, phone, email, nik, err);
    return rv;
}

static sp_err get_coord(json_t *loc, const char *key, double lo, double hi, double *out,
                        sp_intake_error *err) {
    json_t *v = json_object_get(loc, key);
    if (!json_is_number(v)) return INVALID(err, "'location.%s' must be a number", key);
    *out = json_number_value(v);
    if (!isfinite(*out) || *out < lo || *out > hi)
        return INVALID(err, "'location.%s' must be between %g and %g", key, lo, hi);
    return SP_OK;
}

static sp_err parse_location(sp_intake_req *r, json_t *root, sp_intake_error *err) {
    json_t *loc = json_object_get(root, "location");
    if (!loc || json_is_null(loc)) return SP_OK;
    if (!json_is_object(loc))
        return INVALID(err, "'location' must be an object {\"lat\", \"lon\"}");
    sp_err rv = get_coord(loc, "lat", -90, 90, &r->lat, err);
    if (rv == SP_OK) rv = get_coord(loc, "lon", -180, 180, &r->lon, err);
    r->has_location = rv == SP_OK;
    return rv;
}

/* media type: token '/' token, lowercase letters, digits and !#$&-^_.+ */
static int media_type_ok(const char *s) {
    const char *slash = strchr(s, '/');
    if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/')) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || strchr("/!#$&-^_.+", *s)))
            return 0;
    return 1;
}

static sp_err parse_attachment(sp_intake_attachment *a, json_t *o, size_t i, sp_intake_error *err) {
    const char *name, *type, *data;
    if (!json_is_object(o)) return INVALID(err, "attachments[%zu] must be an object", i);
    sp_err rv = get_str(o, "name", "attachments[].name", SP_INTAKE_MEDIA_MAX, &name, err);
    if (rv == SP_OK)
        rv = get_str(o, "media_type", "attachments[].media_type", SP_INTAKE_MEDIA_MAX, &type, err);
    if (rv == SP_OK)
        rv = get_str(o, "data", "attachments[].data", SP_INTAKE_ATTACH_BYTES / 3 * 4 + 4, &data,
                     err);
    if (rv == SP_ERR_INVAL && strstr(err->message, "longer"))
        return fail(err, 413, "too_large", SP_ERR_TOO_BIG,
                    "attachments[%zu] is larger than %u bytes", i, SP_INTAKE_ATTACH_BYTES);
    if (rv != SP_OK) return rv;
    if (!type || !media_type_ok(type))
        return INVALID(err, "attachments[%zu].media_type must be a media type like image/jpeg", i);
    if (!data) return MISSING(err, "attachments[].data");
    snprintf(a->name, sizeof a->name, "%s", name ? name : "");
    snprintf(a->media_type, sizeof a->media_type, "%s", type);
    size_t cap = strlen(data) / 4 * 3 + 3;
    if (!(a->data = malloc(cap))) return SP_ERR_NOMEM;
    if (sp_base64_decode(data, a->data, cap, &a->len) != SP_OK)
        return INVALID(err, "attachments[%zu].data is not base64", i);
    if (a->len > SP_INTAKE_ATTACH_BYTES)
        return fail(err, 413, "too_large", SP_ERR_TOO_BIG,
                    "attachments[%zu] is larger than %u bytes", i, SP_INTAKE_ATTACH_BYTES);
    return SP_OK;
}

static sp_err parse_attachments(sp_intake_req *r, json_t *root, sp_intake_error *err) {
    json_t *arr = json_object_get(root, "attachments");
    if (!arr || json_is_null(arr)) return SP_OK;
    if (!json_is_array(arr)) return INVALID(err, "'attachments' must be an array");
    if (json_array_size(arr) > SP_INTAKE_ATTACH_MAX)
        return fail(err, 413, "too_large", SP_ERR_TOO_BIG, "at most %u attachments",
                    SP_INTAKE_ATTACH_MAX);
    sp_err rv = SP_OK;
    for (size_t i = 0; rv == SP_OK && i < json_array_size(arr); i++) {
        rv = parse_attachment(&r->att[i], json_array_get(arr, i), i, err);
        r->n_att = i + 1; /* so that free releases what was decoded */
    }
    return rv;
}

static sp_err parse_enums(sp_intake_req *r, json_t *root, sp_intake_error *err) {
    const char *type, *channel, *privacy;
    sp_err rv = get_str(root, "type", "type", 32, &type, err);
    if (rv == SP_OK) rv = get_str(root, "channel", "channel", 32, &channel, err);
    if (rv == SP_OK) rv = get_str(root, "privacy", "privacy", 32, &privacy, err);
    if (rv != SP_OK) return rv;
    if (type && sp_type_parse(type, &r->type) != SP_OK)
        return INVALID(err, "'type' must be aspirasi, pengaduan or permintaan-informasi");
    if (privacy && sp_privacy_parse(privacy, &r->privacy) != SP_OK)
        return INVALID(err, "'privacy' must be public, anonymous or confidential");
    uint32_t ch = 1;
    /* SMS and Open311 have their own routes: a JSON body cannot claim them */
    if (channel && (sp_channel_parse(channel, &ch) != SP_OK || ch == SIMPUL__V1__CHANNEL__SMS ||
                    ch == SIMPUL__V1__CHANNEL__OPEN311 || ch == SIMPUL__V1__CHANNEL__EMAIL))
        return INVALID(err, "'channel' must be web, app, whatsapp, social or call-center");
    r->channel = ch;
    return SP_OK;
}

sp_err sp__intake_set_place(sp_intake_req *r, const char *category, const char *region,
                            sp_intake_error *err) {
    if (!category || !*category) return MISSING(err, "category");
    if (!sp_category_valid(category))
        return INVALID(err, "'category' must look like infrastruktur/pju (a-z, 0-9, '-', '/')");
    if (!region || !*region) return MISSING(err, "region");
    if (!region_syntax_ok(region))
        return INVALID(err, "'region' must be a Kemendagri code like 35 or 35.77");
    snprintf(r->category, sizeof r->category, "%s", category);
    snprintf(r->region, sizeof r->region, "%s", region);
    return SP_OK;
}

static sp_err parse_fields(sp_intake_req *r, json_t *root, sp_intake_error *err) {
    const char *title, *body, *category, *region;
    sp_err rv = get_str(root, "title", "title", SP_INTAKE_TITLE_MAX, &title, err);
    if (rv == SP_OK) rv = get_str(root, "body", "body", SP_INTAKE_TEXT_MAX, &body, err);
    if (rv == SP_OK) rv = get_str(root, "category", "category", SP_CATEGORY_MAX, &category, err);
    if (rv == SP_OK) rv = get_str(root, "region", "region", SP_REGION_MAX, &region, err);
    if (rv == SP_OK) rv = sp__intake_set_text(r, title, body, err);
    if (rv == SP_OK) rv = sp__intake_set_place(r, category, region, err);
    if (rv == SP_OK) rv = parse_enums(r, root, err);
    if (rv == SP_OK) rv = parse_location(r, root, err);
    if (rv == SP_OK) rv = parse_reporter(r, root, err);
    if (rv == SP_OK) rv = parse_attachments(r, root, err);
    return rv;
}

sp_err sp_intake_parse_json(sp_intake_req *out, const char *buf, size_t n, sp_intake_error *err) {
    sp_intake_req_init(out);
    if (n > SP_INTAKE_JSON_MAX)
        return fail(err, 413, "too_large", SP_ERR_TOO_BIG, "request body is larger than %u bytes",
                    SP_INTAKE_JSON_MAX);
    json_error_t jerr;
    json_t *root = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &jerr);
    sp_err rv = SP_OK;
    if (!root)
        rv = fail(err, 400, "bad_json", SP_ERR_DECODE, "not valid JSON: %s (line %d, column %d)",
                  jerr.text, jerr.line, jerr.column);
    else if (!json_is_object(root))
        rv = fail(err, 400, "bad_json", SP_ERR_DECODE, "the body must be a JSON object");
    else
        rv = parse_fields(out, root, err);
    if (rv == SP_ERR_NOMEM) fail(err, 500, "internal", rv, "out of memory");
    json_decref(root);
    if (rv != SP_OK) sp_intake_req_free(out);
    return rv;
}
