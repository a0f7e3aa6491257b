/*
 * Intake parsing for the channels that are not our own JSON: the 1708 SMS format, HTML forms
 * (x-www-form-urlencoded) and Open311 GeoReport v2. Pure functions (node/intake/intake.h).
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "node/intake/intake.h"
#include "node/intake/intake_int.h"
#include "schemas/simpul.pb-c.h"

#define fail sp__intake_fail
#define INVALID(err, ...) fail(err, 400, "invalid_field", SP_ERR_INVAL, __VA_ARGS__)
#define MISSING(err, field) fail(err, 400, "missing_field", SP_ERR_INVAL, "'%s' is required", field)

static int blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ---- SMS ---- */

sp_err sp_sms_split(const char *text, size_t n, char keyword[SP_SMS_KEYWORD_MAX + 1],
                    const char **rest, size_t *rest_len) {
    size_t i = 0, k = 0;
    while (i < n && blank(text[i]))
        i++;
    while (i < n && !blank(text[i])) {
        if (k == SP_SMS_KEYWORD_MAX) return SP_ERR_INVAL;
        keyword[k++] = text[i++];
    }
    keyword[k] = '\0';
    while (i < n && blank(text[i]))
        i++;
    if (k == 0 || i == n) return SP_ERR_INVAL;
    *rest = text + i;
    *rest_len = n - i;
    return SP_OK;
}

/* "#anonim" / "#rahasia" (any case) as the first word of rest: set the privacy, skip it. */
static void privacy_marker(sp_intake_req *r, const char **rest, size_t *len) {
    static const struct {
        const char *word;
        uint32_t privacy;
    } marks[] = {{"#anonim", 1}, {"#rahasia", 2}};
    for (size_t m = 0; m < sizeof marks / sizeof *marks; m++) {
        size_t w = strlen(marks[m].word);
        if (*len > w && strncasecmp(*rest, marks[m].word, w) == 0 && blank((*rest)[w])) {
            r->privacy = marks[m].privacy;
            *rest += w;
            *len -= w;
            while (*len && blank(**rest))
                (*rest)++, (*len)--;
            return;
        }
    }
}

static sp_err sms_fields(sp_intake_req *r, const sp_topology *topo, const char *from,
                         const char *text, size_t n, sp_intake_error *err) {
    char kw[SP_SMS_KEYWORD_MAX + 1];
    const char *rest;
    size_t len;
    if (sp_sms_split(text, n, kw, &rest, &len) != SP_OK)
        return fail(err, 422, "unknown_keyword", SP_ERR_NOT_FOUND,
                    "an SMS must be '<KEYWORD> <complaint>'");
    const sp_topo_node *node = sp_topology_find_by_keyword(topo, kw);
    if (!node)
        return fail(err, 422, "unknown_keyword", SP_ERR_NOT_FOUND, "unknown SMS keyword '%.64s'",
                    kw);
    privacy_marker(r, &rest, &len);
    char *msg = strndup(rest, len);
    if (!msg) return SP_ERR_NOMEM;
    sp_err rv =
        len ? sp__intake_set_text(r, NULL, msg, err)
            : fail(err, 422, "unknown_keyword", SP_ERR_NOT_FOUND, "the SMS has no complaint text");
    free(msg);
    if (rv == SP_OK) rv = sp__intake_set_identity(r, NULL, from, NULL, NULL, err);
    if (rv != SP_OK) return rv;
    r->channel = SIMPUL__V1__CHANNEL__SMS;
    snprintf(r->category, sizeof r->category, "%s", SP_CATEGORY_GENERAL);
    snprintf(r->region, sizeof r->region, "%s", node->code ? node->code : "");
    return SP_OK;
}

sp_err sp_sms_parse(sp_intake_req *out, const sp_topology *topo, const char *from, const char *text,
                    size_t n, sp_intake_error *err) {
    sp_intake_req_init(out);
    sp_err rv;
    if (!from || !*from)
        rv = MISSING(err, "from");
    else if (n > SP_SMS_TEXT_MAX)
        rv = fail(err, 413, "too_large", SP_ERR_TOO_BIG, "an SMS has at most %u bytes",
                  SP_SMS_TEXT_MAX);
    else if (!sp_utf8_valid(text, n))
        rv = INVALID(err, "'text' is not valid UTF-8");
    else
        rv = sms_fields(out, topo, from, text, n, err);
    if (rv != SP_OK) sp_intake_req_free(out);
    return rv;
}

/* Appends to buf as snprintf does, keeping *n <= cap - 1. */
static void append(char *buf, size_t cap, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t cap, size_t *n, const char *fmt, ...) {
    if (*n + 1 >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *n, cap - *n, fmt, ap);
    va_end(ap);
    if (k > 0) *n = *n + (size_t)k < cap ? *n + (size_t)k : cap - 1;
}

/* Up to 6 keywords: the node's own, else (a node without any, e.g. a province whose kota
 * have them) its children's. */
static size_t help_keywords(const sp_topology *topo, const sp_topo_node *self, const char *out[6]) {
    size_t shown = 0;
    for (size_t k = 0; self && k < self->n_sms_keywords && shown < 6; k++)
        out[shown++] = self->sms_keywords[k];
    for (size_t i = 0; self && !self->n_sms_keywords && i < sp_topology_count(topo); i++) {
        const sp_topo_node *node = sp_topology_node_at(topo, i);
        for (size_t k = 0; node->parent == self && k < node->n_sms_keywords && shown < 6; k++)
            out[shown++] = node->sms_keywords[k];
    }
    return shown;
}

size_t sp_sms_help(const sp_topology *topo, const sp_topo_node *self, char *buf, size_t cap) {
    const char *kw[6];
    size_t n = 0, shown = help_keywords(topo, self, kw);
    buf[0] = '\0';
    append(buf, cap, &n, "Format SMS 1708: <KATA KUNCI> <aduan Anda>");
    for (size_t i = 0; i < shown; i++)
        append(buf, cap, &n, "%s%s", i ? ", " : ". Kata kunci: ", kw[i]);
    if (shown) append(buf, cap, &n, ". Contoh: %s Lampu jalan di Jl. Pahlawan mati", kw[0]);
    append(buf, cap, &n,
           ". Tambahkan #anonim atau #rahasia setelah kata kunci bila perlu. "
           "Cek status: CEK <nomor aduan>.");
    return n;
}

size_t sp_sms_filed_reply(const char *id, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = '\0';
    append(buf, cap, &n,
           "Terima kasih, aduan Anda tercatat dengan nomor %s. Cek status: kirim CEK %s ke 1708.",
           id, id);
    return n;
}

/* What a citizen is told for each status; the agency's name follows where it says "oleh". */
static const char *status_words(sp_status st, int *names_agency) {
    *names_agency = 0;
    switch (st) {
    case SP_ST_FILED:
        return "diterima, menunggu verifikasi";
    case SP_ST_VERIFIED:
        return "terverifikasi, menunggu diteruskan ke instansi";
    case SP_ST_ARCHIVED:
        return "diarsipkan";
    case SP_ST_DISPOSITIONED:
        *names_agency = 1;
        return "diteruskan ke";
    case SP_ST_IN_PROGRESS:
        *names_agency = 1;
        return "sedang ditindaklanjuti oleh";
    case SP_ST_REROUTED:
        return "dialihkan, menunggu diteruskan ke instansi yang berwenang";
    case SP_ST_COMPLETED:
        *names_agency = 1;
        return "selesai ditindaklanjuti oleh";
    case SP_ST_RESOLVED:
        return "selesai";
    case SP_ST_REOPENED:
        return "dibuka kembali";
    default:
        return "tercatat";
    }
}

size_t sp_sms_status_reply(const sp_topology *topo, const sp_complaint_state *s, char *buf,
                           size_t cap) {
    int names_agency;
    const char *words = status_words(s->status, &names_agency);
    const sp_topo_node *agency = s->agency[0] ? sp_topology_find(topo, s->agency) : NULL;
    static const char *const zone[] = {"WIB", "WITA", "WIT"};
    int tz = s->tz <= SP_TZ_WIT ? (int)s->tz : 0;
    time_t t = (time_t)(s->updated_at / 1000) + (time_t)(7 + tz) * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = 0;
    buf[0] = '\0';
    append(buf, cap, &n, "Aduan %s: %s", s->id, words);
    if (names_agency)
        append(buf, cap, &n, " %s", agency ? agency->name : s->agency[0] ? s->agency : "instansi");
    append(buf, cap, &n, " (per %02d-%02d-%04d %02d:%02d %s).", tm.tm_mday, tm.tm_mon + 1,
           tm.tm_year + 1900, tm.tm_hour, tm.tm_min, zone[tz]);
    return n;
}

/* The gateway's optional message id into *id (NULL when absent). */
static sp_err dup_optional(const char *v, char **id) {
    *id = NULL;
    return v && !(*id = strdup(v)) ? SP_ERR_NOMEM : SP_OK;
}

static sp_err sms_form(const char *body, size_t n, char **from, char **text, char **id,
                       sp_intake_error *err) {
    sp_form_pair *p;
    size_t np;
    sp_err rv = sp_form_parse(body, n, &p, &np);
    if (rv == SP_ERR_NOMEM) return rv;
    if (rv != SP_OK) return INVALID(err, "the body is not a valid form (x-www-form-urlencoded)");
    const char *f = sp_form_get(p, np, "from"), *t = sp_form_get(p, np, "text");
    if (!f || !t) rv = MISSING(err, f ? "text" : "from");
    if (rv == SP_OK && (!(*from = strdup(f)) || !(*text = strdup(t)))) rv = SP_ERR_NOMEM;
    if (rv == SP_OK) rv = dup_optional(sp_form_get(p, np, "message_id"), id);
    sp_form_free(p, np);
    return rv;
}

static sp_err sms_json(const char *body, size_t n, char **from, char **text, char **id,
                       sp_intake_error *err) {
    json_error_t jerr;
    json_t *root = json_loadb(body, n, JSON_REJECT_DUPLICATES, &jerr);
    const char *f = json_string_value(json_object_get(root, "from"));
    const char *t = json_string_value(json_object_get(root, "text"));
    sp_err rv = SP_OK;
    if (!json_is_object(root))
        rv = fail(err, 400, "bad_json", SP_ERR_DECODE,
                  "the body must be a JSON object "
                  "{\"from\", \"text\"}%s%s",
                  root ? "" : ": ", root ? "" : jerr.text);
    else if (!f || !t)
        rv = MISSING(err, f ? "text" : "from");
    else if (memchr(t, '\0', json_string_length(json_object_get(root, "text"))))
        rv = INVALID(err, "'text' contains a NUL");
    json_t *mid = json_object_get(root, "message_id");
    if (rv == SP_OK && mid && !json_is_string(mid))
        rv = INVALID(err, "'message_id' must be a string");
    if (rv == SP_OK && (!(*from = strdup(f)) || !(*text = strdup(t)))) rv = SP_ERR_NOMEM;
    if (rv == SP_OK) rv = dup_optional(json_string_value(mid), id);
    json_decref(root);
    return rv;
}

sp_err sp_sms_request_parse(const char *body, size_t n, const char *content_type, char **from,
                            char **text, char **message_id, sp_intake_error *err) {
    *from = *text = *message_id = NULL;
    int form =
        content_type && strncasecmp(content_type, "application/x-www-form-urlencoded", 33) == 0;
    sp_err rv = form ? sms_form(body, n, from, text, message_id, err)
                     : sms_json(body, n, from, text, message_id, err);
    if (rv == SP_ERR_NOMEM) fail(err, 500, "internal", rv, "out of memory");
    if (rv != SP_OK) {
        free(*from);
        free(*text);
        free(*message_id);
        *from = *text = *message_id = NULL;
    }
    return rv;
}

/* ---- forms ---- */

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decode one %-escaped, '+'-for-space component into a fresh string. */
static sp_err form_decode(const char *s, size_t n, char **out) {
    char *d = malloc(n + 1);
    if (!d) return SP_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi = i + 2 < n ? hexval(s[i + 1]) : -1, lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) goto bad;
            d[k++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            d[k++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    d[k] = '\0';
    if (!sp_utf8_valid(d, k)) goto bad; /* also refuses %00 */
    *out = d;
    return SP_OK;
bad:
    free(d);
    return SP_ERR_DECODE;
}

static sp_err form_pair(const char *s, size_t n, sp_form_pair *p) {
    const char *eq = memchr(s, '=', n);
    size_t kn = eq ? (size_t)(eq - s) : n;
    p->key = p->val = NULL;
    sp_err rv = form_decode(s, kn, &p->key);
    if (rv == SP_OK)
        rv = eq                      ? form_decode(eq + 1, n - kn - 1, &p->val)
             : (p->val = strdup("")) ? SP_OK
                                     : SP_ERR_NOMEM;
    if (rv != SP_OK) {
        free(p->key);
        free(p->val);
    }
    return rv;
}

sp_err sp_form_parse(const char *buf, size_t n, sp_form_pair **out, size_t *count) {
    sp_form_pair *v = calloc(SP_FORM_MAX_PAIRS, sizeof *v);
    size_t c = 0;
    sp_err rv = v ? SP_OK : SP_ERR_NOMEM;
    for (size_t i = 0; rv == SP_OK && i < n;) {
        const char *amp = memchr(buf + i, '&', n - i);
        size_t len = amp ? (size_t)(amp - (buf + i)) : n - i;
        if (len && c == SP_FORM_MAX_PAIRS)
            rv = SP_ERR_TOO_BIG;
        else if (len && (rv = form_pair(buf + i, len, &v[c])) == SP_OK)
            c++;
        i += len + 1;
    }
    if (rv != SP_OK) {
        sp_form_free(v, c);
        return rv;
    }
    *out = v;
    *count = c;
    return SP_OK;
}

const char *sp_form_get(const sp_form_pair *p, size_t n, const char *key) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(p[i].key, key) == 0) return p[i].val;
    return NULL;
}

void sp_form_free(sp_form_pair *p, size_t n) {
    if (!p) return;
    for (size_t i = 0; i < n; i++) {
        free(p[i].key);
        free(p[i].val);
    }
    free(p);
}

/* ---- Open311 ---- */

static sp_err coord(const char *s, const char *name, double lo, double hi, double *out,
                    sp_intake_error *err) {
    char *end;
    *out = strtod(s, &end);
    if (end == s || *end || !isfinite(*out) || *out < lo || *out > hi)
        return INVALID(err, "'%s' must be a number between %g and %g", name, lo, hi);
    return SP_OK;
}

static sp_err o311_location(sp_intake_req *r, const sp_form_pair *p, size_t n,
                            sp_intake_error *err) {
    const char *lat = sp_form_get(p, n, "lat"), *lon = sp_form_get(p, n, "long");
    const char *addr = sp_form_get(p, n, "address_string"),
               *addr_id = sp_form_get(p, n, "address_id");
    if ((lat && *lat) != (lon && *lon)) return MISSING(err, lat && *lat ? "long" : "lat");
    if (!(lat && *lat) && !(addr && *addr) && !(addr_id && *addr_id))
        return fail(err, 400, "missing_field", SP_ERR_INVAL,
                    "a location is required: lat and long, or address_string, or address_id");
    if (!(lat && *lat)) return SP_OK;
    sp_err rv = coord(lat, "lat", -90, 90, &r->lat, err);
    if (rv == SP_OK) rv = coord(lon, "long", -180, 180, &r->lon, err);
    r->has_location = rv == SP_OK;
    return rv;
}

/* An optional field of at most SP_INTAKE_ADDRESS_MAX bytes into *out (NULL when absent). */
static sp_err o311_optional(char **out, const sp_form_pair *p, size_t n, const char *name,
                            sp_intake_error *err) {
    const char *v = sp_form_get(p, n, name);
    if (!v || !*v) return SP_OK;
    if (strlen(v) > SP_INTAKE_ADDRESS_MAX)
        return INVALID(err, "'%s' has at most %u bytes", name, SP_INTAKE_ADDRESS_MAX);
    return (*out = strdup(v)) ? SP_OK : SP_ERR_NOMEM;
}

static int is_web_url(const char *u) {
    return strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0;
}

/* The description exactly as sent (a client reads back what it POSTed), the address and the
 * media URL in their own fields. */
static sp_err o311_text(sp_intake_req *r, const sp_form_pair *p, size_t n, sp_intake_error *err) {
    const char *desc = sp_form_get(p, n, "description");
    if (!desc || !*desc) return MISSING(err, "description");
    sp_err rv = sp__intake_set_text(r, sp_form_get(p, n, "attribute[title]"), desc, err);
    if (rv == SP_OK && strcmp(r->text, desc) != 0) { /* set_text trims; keep the bytes */
        free(r->text);
        if (!(r->text = strdup(desc))) rv = SP_ERR_NOMEM;
    }
    if (rv == SP_OK) rv = o311_optional(&r->address, p, n, "address_string", err);
    if (rv == SP_OK) rv = o311_optional(&r->address_id, p, n, "address_id", err);
    if (rv == SP_OK) rv = o311_optional(&r->media_url, p, n, "media_url", err);
    if (rv == SP_OK && r->media_url && !is_web_url(r->media_url))
        rv = INVALID(err, "'media_url' must be an http:// or https:// URL");
    return rv;
}

const char *const sp_open311_attributes[] = {"title", "type", "privacy", "nik", NULL};

/* attribute[code] must be one of the service definition's (GET services/{code}.json). */
static sp_err o311_attributes(const sp_form_pair *p, size_t n, sp_intake_error *err) {
    for (size_t i = 0; i < n; i++) {
        size_t kn = strlen(p[i].key);
        if (strncmp(p[i].key, "attribute[", 10) != 0) continue;
        int known = 0;
        for (size_t a = 0; !known && sp_open311_attributes[a]; a++)
            known = kn == 11 + strlen(sp_open311_attributes[a]) && p[i].key[kn - 1] == ']' &&
                    strncmp(p[i].key + 10, sp_open311_attributes[a], kn - 11) == 0;
        if (!known)
            return INVALID(err,
                           "unknown attribute '%.80s': the service definition has "
                           "attribute[title], attribute[type], attribute[privacy] and "
                           "attribute[nik]",
                           p[i].key);
    }
    return SP_OK;
}

static sp_err o311_reporter(sp_intake_req *r, const sp_form_pair *p, size_t n,
                            sp_intake_error *err) {
    const char *first = sp_form_get(p, n, "first_name"), *last = sp_form_get(p, n, "last_name");
    char name[2 * SP_INTAKE_NAME_MAX + 2];
    if ((first && strlen(first) > SP_INTAKE_NAME_MAX) ||
        (last && strlen(last) > SP_INTAKE_NAME_MAX))
        return INVALID(err, "first_name and last_name have at most %u bytes", SP_INTAKE_NAME_MAX);
    snprintf(name, sizeof name, "%s%s%s", first ? first : "",
             first && *first && last && *last ? " " : "", last ? last : "");
    const char *email = sp_form_get(p, n, "email"), *phone = sp_form_get(p, n, "phone");
    if (email && strlen(email) > SP_INTAKE_EMAIL_MAX) return INVALID(err, "'email' is too long");
    if (phone && strlen(phone) > 64) return INVALID(err, "'phone' is too long");
    return sp__intake_set_identity(r, name[0] ? name : NULL, phone, email,
                                   sp_form_get(p, n, "attribute[nik]"), err);
}

static sp_err o311_enums(sp_intake_req *r, const sp_form_pair *p, size_t n, sp_intake_error *err) {
    const char *privacy = sp_form_get(p, n, "attribute[privacy]"),
               *type = sp_form_get(p, n, "attribute[type]");
    if (privacy && *privacy && sp_privacy_parse(privacy, &r->privacy) != SP_OK)
        return INVALID(err, "attribute[privacy] must be public, anonymous or confidential");
    if (type && *type && sp_type_parse(type, &r->type) != SP_OK)
        return INVALID(err, "attribute[type] must be aspirasi, pengaduan or permintaan-informasi");
    r->channel = 7; /* OPEN311 */
    return SP_OK;
}

sp_err sp_open311_parse(sp_intake_req *out, const sp_form_pair *p, size_t n,
                        const char *default_region, sp_intake_error *err) {
    sp_intake_req_init(out);
    const char *code = sp_form_get(p, n, "service_code"),
               *juris = sp_form_get(p, n, "jurisdiction_id");
    const char *region = juris && *juris ? juris : default_region;
    sp_err rv = code && *code ? SP_OK : MISSING(err, "service_code");
    if (rv == SP_OK && (strlen(code) > SP_CATEGORY_MAX || !sp_category_valid(code)))
        rv = INVALID(err, "'service_code' is not a service code of GET services.json");
    if (rv == SP_OK && region && strlen(region) > SP_REGION_MAX)
        rv = INVALID(err, "'jurisdiction_id' must be a region code like 35.77");
    if (rv == SP_OK) rv = o311_attributes(p, n, err);
    if (rv == SP_OK) rv = sp__intake_set_place(out, code, region, err);
    if (rv == SP_OK) rv = o311_location(out, p, n, err);
    if (rv == SP_OK) rv = o311_text(out, p, n, err);
    if (rv == SP_OK) rv = o311_reporter(out, p, n, err);
    if (rv == SP_OK) rv = o311_enums(out, p, n, err);
    if (rv == SP_ERR_NOMEM) fail(err, 500, "internal", rv, "out of memory");
    if (rv != SP_OK) sp_intake_req_free(out);
    return rv;
}
