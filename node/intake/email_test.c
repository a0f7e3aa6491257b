/*
 * Inbound e-mail: messages as Gmail, Outlook and Thunderbird send them (and the examples of
 * RFC 2047 section 8) taken apart, the limits and malformed input refused with the right
 * status, and the reply checked line by line, including what an injection attempt becomes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/crypto.h"
#include "node/intake/email.h"

/* ---- helpers ---- */

/* lf with every "\n" made "\r\n", as mail is on the wire; malloc'ed. */
static char *crlf(const char *lf) {
    size_t n = strlen(lf), k = 0;
    char *s = malloc(2 * n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++) {
        if (lf[i] == '\n') s[k++] = '\r';
        s[k++] = lf[i];
    }
    s[k] = '\0';
    return s;
}

static sp_err parse_crlf(const char *lf, sp_email *m, sp_intake_error *e) {
    char *s = crlf(lf);
    sp_err rv = sp_email_parse(s, strlen(s), m, e);
    free(s);
    return rv;
}

static void parse_ok(const char *lf, sp_email *m) {
    sp_intake_error e = {0};
    sp_err rv = parse_crlf(lf, m, &e);
    if (rv != SP_OK) fail_msg("parse failed: %s (%s)", e.message, sp_errname(rv));
}

/* The message is refused with rv, HTTP status and code, and *m is left empty. */
static void expect_refused(const char *msg, size_t n, sp_err rv, int status, const char *code) {
    sp_email m;
    sp_intake_error e = {0};
    assert_int_equal(sp_email_parse(msg, n, &m, &e), rv);
    assert_int_equal(e.status, status);
    assert_string_equal(e.code, code);
    assert_true(strlen(e.message) > 0);
    assert_null(m.from_addr);
    assert_null(m.text);
    assert_int_equal(m.n_att, 0);
}

static void expect_refused_crlf(const char *lf, sp_err rv, int status, const char *code) {
    char *s = crlf(lf);
    expect_refused(s, strlen(s), rv, status, code);
    free(s);
}

#define HDR "From: Budi Santoso <budi@example.id>\nTo: pengaduan@lapor.example.id\n"

/* ---- what a message says ---- */

static void test_thunderbird_plain_text(void **state) {
    sp_email m;
    parse_ok("From: Budi Santoso <budi.santoso@example.id>\n"
             "To: Pengaduan PUPR <pupr@lapor.madiunkota.go.id>\n"
             "Subject: Lampu jalan mati di Jl. Pahlawan\n"
             "Message-ID: <3f9a2c1e-7b1d-4e0a-9c55-1a2b3c4d5e6f@example.id>\n"
             "Date: Tue, 4 Mar 2025 08:15:00 +0700\n"
             "MIME-Version: 1.0\n"
             "User-Agent: Mozilla Thunderbird\n"
             "Content-Language: id\n"
             "Content-Type: text/plain; charset=UTF-8; format=flowed\n"
             "Content-Transfer-Encoding: 7bit\n"
             "\n"
             "Selamat pagi,\n"
             "\n"
             "Lampu jalan di depan rumah nomor 12 mati sejak Senin.\n"
             "\n"
             "Terima kasih,\n"
             "Budi\n"
             "\n"
             "\n",
             &m);
    assert_string_equal(m.from_name, "Budi Santoso");
    assert_string_equal(m.from_addr, "budi.santoso@example.id");
    assert_string_equal(m.to_local, "pupr");
    assert_string_equal(m.subject, "Lampu jalan mati di Jl. Pahlawan");
    assert_string_equal(m.message_id, "3f9a2c1e-7b1d-4e0a-9c55-1a2b3c4d5e6f@example.id");
    assert_string_equal(m.text, "Selamat pagi,\n\nLampu jalan di depan rumah nomor 12 mati sejak "
                                "Senin.\n\nTerima kasih,\nBudi");
    assert_int_equal(m.n_att, 0);
    sp_email_free(&m);
    assert_null(m.from_addr);
    assert_null(m.text);
    sp_email_free(&m); /* twice, and NULL, are no-ops */
    sp_email_free(NULL);
}

#define GMAIL_ALTERNATIVE                                                                          \
    "MIME-Version: 1.0\n"                                                                          \
    "From: Siti Aminah <siti.aminah@gmail.com>\n"                                                  \
    "Date: Wed, 5 Mar 2025 10:02:11 +0700\n"                                                       \
    "Message-ID: <CAFx7d2Zk1p9=Qm4uYw-8bN0s3T+abc@mail.gmail.com>\n"                               \
    "Subject: Jalan berlubang\n"                                                                   \
    "To: pengaduan@lapor.example.id\n"                                                             \
    "Content-Type: multipart/alternative; boundary=\"000000000000c1d2e305f0a1b2c3\"\n"             \
    "\n"                                                                                           \
    "--000000000000c1d2e305f0a1b2c3\n"                                                             \
    "Content-Type: text/plain; charset=\"UTF-8\"\n"                                                \
    "\n"                                                                                           \
    "Jalan di Jl. Merdeka berlubang besar.\n"                                                      \
    "Sudah ada 2 motor jatuh.\n"                                                                   \
    "\n"                                                                                           \
    "--000000000000c1d2e305f0a1b2c3\n"                                                             \
    "Content-Type: text/html; charset=\"UTF-8\"\n"                                                 \
    "\n"                                                                                           \
    "<div dir=\"ltr\">HTML version<div>second line</div></div>\n"                                  \
    "\n"                                                                                           \
    "--000000000000c1d2e305f0a1b2c3--\n"

static void test_gmail_alternative_prefers_plain(void **state) {
    sp_email m;
    parse_ok(GMAIL_ALTERNATIVE, &m);
    assert_string_equal(m.from_name, "Siti Aminah");
    assert_string_equal(m.from_addr, "siti.aminah@gmail.com");
    assert_string_equal(m.to_local, "pengaduan");
    assert_string_equal(m.message_id, "CAFx7d2Zk1p9=Qm4uYw-8bN0s3T+abc@mail.gmail.com");
    assert_string_equal(m.text, "Jalan di Jl. Merdeka berlubang besar.\nSudah ada 2 motor jatuh.");
    assert_int_equal(m.n_att, 0);
    sp_email_free(&m);
}

static void test_lf_only_message(void **state) {
    sp_email m;
    sp_intake_error e;
    const char *msg = GMAIL_ALTERNATIVE; /* as an MTA's pipe hands it over: LF only */
    assert_int_equal(sp_email_parse(msg, strlen(msg), &m, &e), SP_OK);
    assert_null(strchr(msg, '\r'));
    assert_string_equal(m.subject, "Jalan berlubang");
    assert_string_equal(m.text, "Jalan di Jl. Merdeka berlubang besar.\nSudah ada 2 motor jatuh.");
    sp_email_free(&m);
}

static const uint8_t jpeg[] = {
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x01, 0x00,
    0x48, 0x00, 0x48, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
    0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14,
    0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23,
    0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32,
    0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0xff,
    0xc0, 0x00, 0x0b, 0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11, 0x00, 0xff, 0xda, 0x00,
    0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00, 0xd2, 0xcf, 0x20, 0xff, 0xd9};
#define JPEG_B64                                                                                   \
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\n"               \
    "ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0D/wAALCAABAAEBAREA/9oACAEBAAA/ANLP\n"               \
    "IP/Z\n"

static const char pdf[] = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R "
                          ">>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
#define PDF_B64                                                                                    \
    "JVBERi0xLjQKJeLjz9MKMSAwIG9iago8PCAvVHlwZSAvQ2F0YWxvZyAvUGFnZXMgMiAwIFIgPj4K\n"               \
    "ZW5kb2JqCnRyYWlsZXIKPDwgL1Jvb3QgMSAwIFIgPj4KJSVFT0YK\n"

#define OUTLOOK_B4 "_004_SG2PR06MB5328A1B2C3D4E5F6SG2PR06MB5328apcp_"
#define OUTLOOK_B0 "_000_SG2PR06MB5328A1B2C3D4E5F6SG2PR06MB5328apcp_"

static void test_outlook_mixed_with_jpeg_and_pdf(void **state) {
    sp_email m;
    parse_ok("From: \"Rahmat Hidayat\" <rahmat@outlook.co.id>\n"
             "To: \"Dinas PUPR\" <pupr@lapor.example.id>\n"
             "Subject: Foto saluran tersumbat\n"
             "Thread-Topic: Foto saluran tersumbat\n"
             "Message-ID: <SG2PR06MB5328A1B2C3D4E5F6@SG2PR06MB5328.apcprd06.prod.outlook.com>\n"
             "Content-Language: id-ID\n"
             "Content-Type: multipart/mixed;\n"
             "\tboundary=\"" OUTLOOK_B4 "\"\n"
             "MIME-Version: 1.0\n"
             "\n"
             "--" OUTLOOK_B4 "\n"
             "Content-Type: multipart/alternative;\n"
             "\tboundary=\"" OUTLOOK_B0 "\"\n"
             "\n"
             "--" OUTLOOK_B0 "\n"
             "Content-Type: text/plain; charset=\"iso-8859-1\"\n"
             "Content-Transfer-Encoding: quoted-printable\n"
             "\n"
             "Saluran air di Gang Mawar tersumbat. Foto dan surat terlampir.\n"
             "\n"
             "--" OUTLOOK_B0 "\n"
             "Content-Type: text/html; charset=\"iso-8859-1\"\n"
             "Content-Transfer-Encoding: quoted-printable\n"
             "\n"
             "<html><body><p>Saluran air (html)</p></body></html>\n"
             "\n"
             "--" OUTLOOK_B0 "--\n"
             "\n"
             "--" OUTLOOK_B4 "\n"
             "Content-Type: image/jpeg; name=\"saluran.jpg\"\n"
             "Content-Description: saluran.jpg\n"
             "Content-Disposition: attachment; filename=\"saluran.jpg\"; size=117;\n"
             "\tcreation-date=\"Thu, 06 Mar 2025 01:20:00 GMT\"\n"
             "Content-Transfer-Encoding: base64\n"
             "\n" JPEG_B64 "\n"
             "--" OUTLOOK_B4 "\n"
             "Content-Type: application/pdf; name=\"surat.pdf\"\n"
             "Content-Disposition: attachment; filename=\"surat.pdf\"\n"
             "Content-Transfer-Encoding: base64\n"
             "\n" PDF_B64 "\n"
             "--" OUTLOOK_B4 "--\n",
             &m);
    assert_string_equal(m.from_name, "Rahmat Hidayat");
    assert_string_equal(m.to_local, "pupr");
    assert_string_equal(m.text, "Saluran air di Gang Mawar tersumbat. Foto dan surat terlampir.");
    assert_int_equal(m.n_att, 2);
    assert_string_equal(m.att[0].name, "saluran.jpg");
    assert_string_equal(m.att[0].media_type, "image/jpeg");
    assert_int_equal(m.att[0].len, sizeof jpeg);
    assert_memory_equal(m.att[0].data, jpeg, sizeof jpeg);
    assert_string_equal(m.att[1].name, "surat.pdf");
    assert_string_equal(m.att[1].media_type, "application/pdf");
    assert_int_equal(m.att[1].len, sizeof pdf - 1);
    assert_memory_equal(m.att[1].data, pdf, sizeof pdf - 1);
    sp_email_free(&m);
}

static void test_quoted_printable_soft_breaks(void **state) {
    sp_email m;
    parse_ok(HDR "Content-Type: text/plain; charset=utf-8\n"
                 "Content-Transfer-Encoding: quoted-printable\n"
                 "\n"
                 "Caf=C3=A9 di pojok jalan membuang sampah ke sungai setiap malam, sudah say=\n"
                 "a laporkan ke RT tapi tidak ada tindakan. Rumus: a=3Db, b=3db. =  \n"
                 "Baris baru.=\n",
             &m);
    assert_string_equal(m.text, "Caf\xc3\xa9 di pojok jalan membuang sampah ke sungai setiap "
                                "malam, sudah saya laporkan ke RT tapi tidak ada tindakan. Rumus: "
                                "a=b, b=b. Baris baru.");
    sp_email_free(&m);
}

static void test_latin1_and_windows1252_bodies_become_utf8(void **state) {
    sp_email m;
    parse_ok(HDR "Content-Type: text/plain; charset=ISO-8859-1\n"
                 "Content-Transfer-Encoding: 8bit\n"
                 "\n"
                 "Jalan rusak di depan caf\xe9 Bu J\xfcrgen, \xbd meter.\n",
             &m);
    assert_string_equal(m.text,
                        "Jalan rusak di depan caf\xc3\xa9 Bu J\xc3\xbcrgen, \xc2\xbd meter.");
    sp_email_free(&m);
    /* Windows-1252's own characters, here quoted-printable, and in an ISO-8859-1 label too
     * (what Outlook's "iso-8859-1" mail really holds) */
    parse_ok(HDR "Content-Type: text/plain; charset=windows-1252\n"
                 "Content-Transfer-Encoding: quoted-printable\n"
                 "\n"
                 "Tarif =80 5 =93naik=94 =96 lagi\n",
             &m);
    assert_string_equal(m.text,
                        "Tarif \xe2\x82\xac 5 \xe2\x80\x9cnaik\xe2\x80\x9d \xe2\x80\x93 lagi");
    sp_email_free(&m);
    parse_ok(HDR "Content-Type: text/plain; charset=iso-8859-1\n"
                 "Content-Transfer-Encoding: quoted-printable\n"
                 "\n"
                 "=93kutip=94\n",
             &m);
    assert_string_equal(m.text, "\xe2\x80\x9ckutip\xe2\x80\x9d");
    sp_email_free(&m);
}

/* Subject s (one header line, may be folded) as the parser reads it. */
static void expect_subject(const char *s, const char *want) {
    char msg[1024];
    sp_email m;
    snprintf(msg, sizeof msg, HDR "Subject: %s\n\nIsi.\n", s);
    parse_ok(msg, &m);
    if (!want)
        assert_null(m.subject);
    else
        assert_string_equal(m.subject, want);
    sp_email_free(&m);
}

static void test_encoded_words(void **state) {
    /* Gmail: B, split in two words on a folded line; the blanks between them go */
    expect_subject("=?UTF-8?B?TGFtcHUgamFsYW4gbWF0aSBkaSBKbC4g?=\n"
                   " =?UTF-8?B?UGFobGF3YW4g4oCUIHN1ZGFoIDMgbWluZ2d1?=",
                   "Lampu jalan mati di Jl. Pahlawan \xe2\x80\x94 sudah 3 minggu");
    /* Outlook: Q in ISO-8859-1 */
    expect_subject("=?iso-8859-1?Q?Jalan_rusak_di_depan_caf=E9?=",
                   "Jalan rusak di depan caf\xc3\xa9");
    /* RFC 2047 section 8 */
    expect_subject("(=?ISO-8859-1?Q?a?=)", "(a)");
    expect_subject("(=?ISO-8859-1?Q?a?= b)", "(a b)");
    expect_subject("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)");
    expect_subject("(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)");
    expect_subject("(=?ISO-8859-1?Q?a?=\n    =?ISO-8859-1?Q?b?=)", "(ab)");
    expect_subject("(=?ISO-8859-1?Q?a_b?=)", "(a b)");
    expect_subject("(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a =?ISO-8859-2?Q?_b?=)");
    expect_subject("=?US-ASCII?Q?Keith_Moore?= dan =?UTF-8?q?Andr=c3=a9?=",
                   "Keith Moore dan Andr\xc3\xa9");
    /* not decodable: kept as written */
    expect_subject("=?koi8-r?B?8NLJ18XU?= dunia", "=?koi8-r?B?8NLJ18XU?= dunia");
    expect_subject("=?UTF-8?B?###?=", "=?UTF-8?B?###?=");
    /* a CR LF inside an encoded word does not reach the subject */
    expect_subject("=?UTF-8?Q?Halo=0D=0ABcc:_x@evil.example?=", "Halo Bcc: x@evil.example");
    expect_subject("   ", NULL);

    sp_email m;
    parse_ok("From: =?UTF-8?Q?Andr=C3=A9_Wijaya?= <andre@example.id>\nTo: a@lapor.example.id\n"
             "\nIsi.\n",
             &m);
    assert_string_equal(m.from_name, "Andr\xc3\xa9 Wijaya");
    assert_string_equal(m.from_addr, "andre@example.id");
    sp_email_free(&m);
}

static void test_folded_headers_first_of_each(void **state) {
    sp_email m;
    parse_ok("subject: Sampah menumpuk\n"
             "\tdi pasar\n"
             "  Kliwon\n"
             "From: \"Dewi\n"
             " Lestari\" <dewi@example.id>\n"
             "To:\n"
             " pengaduan-dlh@lapor.example.id\n"
             "Subject: Kedua\n"
             "From: other@example.id\n"
             "Content-Type: text/plain;\n"
             " charset=\"utf-8\"\n"
             "\n"
             "Sudah seminggu.\n",
             &m);
    assert_string_equal(m.subject, "Sampah menumpuk di pasar Kliwon");
    assert_string_equal(m.from_name, "Dewi Lestari");
    assert_string_equal(m.from_addr, "dewi@example.id");
    assert_string_equal(m.to_local, "pengaduan-dlh");
    assert_null(m.message_id);
    assert_string_equal(m.text, "Sudah seminggu.");
    sp_email_free(&m);
}

static void test_from_forms(void **state) {
    static const struct {
        const char *from, *addr, *name;
    } cases[] = {
        {"budi@example.id (Budi Santoso)", "budi@example.id", "Budi Santoso"},
        {"budi@example.id", "budi@example.id", NULL},
        {"<budi@example.id>", "budi@example.id", NULL},
        {"\"Santoso, Budi \\\"Bubu\\\"\" <budi@example.id>", "budi@example.id",
         "Santoso, Budi \"Bubu\""},
        {"Budi <budi@example.id>, Ani <ani@example.id>", "budi@example.id", "Budi"},
        {"Budi (warga RT 3) <budi@example.id>", "budi@example.id", "Budi"},
        {"Warga: budi@example.id;", "budi@example.id", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char msg[512];
        sp_email m;
        snprintf(msg, sizeof msg, "From: %s\nTo: x@lapor.example.id\n\nIsi.\n", cases[i].from);
        parse_ok(msg, &m);
        assert_string_equal(m.from_addr, cases[i].addr);
        if (cases[i].name)
            assert_string_equal(m.from_name, cases[i].name);
        else
            assert_null(m.from_name);
        sp_email_free(&m);
    }
}

static void test_html_only_is_made_plain(void **state) {
    sp_email m;
    parse_ok(HDR "Content-Type: text/html; charset=utf-8\n"
                 "\n"
                 "<!DOCTYPE html><html><head><style>p {color: red;}</style>\n"
                 "<script type=\"text/javascript\">if (a < b) alert(\"x\");</script></head>\n"
                 "<body><p>Air PDAM   keruh &amp; berbau</p><P class=\"x\">Sudah&#160;3&nbsp;hari."
                 "<br>Harga &lt;Rp 5.000&gt; &quot;naik&quot; &#39;lagi&#39;</p>\n"
                 "<div>Caf&#233; &#x20AC;5 <a href=\"https://x.example/?a>b\">tautan</a></div>"
                 "<!-- komentar <p>tersembunyi</p> --><div>Terima kasih</div></body></html>\n",
             &m);
    assert_string_equal(m.text, "Air PDAM keruh & berbau\nSudah 3 hari.\nHarga <Rp 5.000> "
                                "\"naik\" 'lagi'\nCaf\xc3\xa9 \xe2\x82\xac"
                                "5 tautan\nTerima kasih");
    sp_email_free(&m);
    /* Gmail's html: a <div> per line, <div><br></div> for an empty one */
    parse_ok(HDR
             "Content-Type: text/html; charset=\"UTF-8\"\n"
             "Content-Transfer-Encoding: quoted-printable\n"
             "\n"
             "<div dir=3D\"ltr\">Selamat pagi,<div><br></div><div>Jembatan retak.</div></div>=\n",
             &m);
    assert_string_equal(m.text, "Selamat pagi,\n\nJembatan retak.");
    sp_email_free(&m);
}

/* Each boundary starts with its parent's: only a whole delimiter line ends a part. */
#define NB1 "=_nb"
#define NB2 "=_nb-2"
#define NB3 "=_nb-2-3"

static void test_nested_mixed_alternative_related(void **state) {
    sp_email m;
    parse_ok(HDR "Subject: Pohon tumbang\n"
                 "Content-Type: multipart/mixed; boundary=\"" NB1 "\"\n"
                 "\n"
                 "This is a multi-part message in MIME format.\n" /* preamble */
                 "--" NB1 " \t\n"                                 /* transport padding */
                 "Content-Type: multipart/alternative; boundary=\"" NB2 "\"\n"
                 "\n"
                 "--" NB2 "\n"
                 "Content-Type: text/plain; charset=utf-8; format=flowed\n"
                 "\n"
                 "Pohon tumbang menutup jalan.\n"
                 "\n"
                 "--" NB2 "\n"
                 "Content-Type: multipart/related; boundary=\"" NB3 "\"\n"
                 "\n"
                 "--" NB3 "\n"
                 "Content-Type: text/html; charset=utf-8\n"
                 "\n"
                 "<p>Pohon <img src=\"cid:part1\"></p>\n"
                 "--" NB3 "\n"
                 "Content-Type: image/png; name=\"peta.png\"\n"
                 "Content-ID: <part1>\n"
                 "Content-Transfer-Encoding: base64\n"
                 "\n"
                 "iVBORw0KGgo=\n"
                 "--" NB3 "--\n"
                 "\n"
                 "--" NB2 "--\n"
                 "\n"
                 "--" NB1 "\n"
                 "Content-Type: application/pdf; name=surat.pdf\n"
                 "Content-Disposition: attachment; filename=surat.pdf\n"
                 "Content-Transfer-Encoding: base64\n"
                 "\n" PDF_B64 "--" NB1 "\n"
                 "Content-Type: text/plain\n" /* a second text part: not the text */
                 "\n"
                 "Dikirim dari iPhone saya\n"
                 "--" NB1 "--\n"
                 "epilogue, ignored\n",
             &m);
    assert_string_equal(m.text, "Pohon tumbang menutup jalan.");
    assert_int_equal(m.n_att, 2);
    assert_string_equal(m.att[0].name, "peta.png");
    assert_string_equal(m.att[0].media_type, "image/png");
    assert_int_equal(m.att[0].len, 8);
    assert_memory_equal(m.att[0].data, "\x89PNG\r\n\x1a\n", 8);
    assert_string_equal(m.att[1].name, "surat.pdf");
    assert_int_equal(m.att[1].len, sizeof pdf - 1);
    assert_memory_equal(m.att[1].data, pdf, sizeof pdf - 1);
    sp_email_free(&m);
}

/* A message with one leaf part whose header is part_hdr and body is "QUJD" ("ABC"). */
static void one_part(const char *part_hdr, sp_email *m) {
    char msg[2048];
    snprintf(msg, sizeof msg,
             HDR "Content-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: text/plain\n\n"
                 "Isi.\n--zz\n%s\n\nQUJD\n--zz--\n",
             part_hdr);
    parse_ok(msg, m);
    assert_int_equal(m->n_att, 1);
    assert_int_equal(m->att[0].len, 3);
    assert_memory_equal(m->att[0].data, "ABC", 3);
}

static void expect_attachment(const char *part_hdr, const char *name, const char *type) {
    sp_email m;
    one_part(part_hdr, &m);
    assert_string_equal(m.att[0].name, name);
    assert_string_equal(m.att[0].media_type, type);
    assert_string_equal(m.text, "Isi.");
    sp_email_free(&m);
}

static void test_attachment_names_and_types(void **state) {
    const char *b64 = "\nContent-Transfer-Encoding: base64";
    char h[1024];
    /* RFC 2231, as Thunderbird writes it, whole and continued */
    snprintf(h, sizeof h,
             "Content-Type: image/jpeg\nContent-Disposition: attachment;\n filename*=UTF-8''Foto"
             "%%20jalan%%20%%E2%%80%%93%%20Pekalongan.jpg%s",
             b64);
    expect_attachment(h, "Foto jalan \xe2\x80\x93 Pekalongan.jpg", "image/jpeg");
    snprintf(h, sizeof h,
             "Content-Type: image/jpeg\nContent-Disposition: attachment;\n"
             " filename*0*=UTF-8''Laporan%%20kerusakan%%20jembatan%%20;\n"
             " filename*1*=%%E2%%80%%93%%20foto;\n filename*2=\".jpg\"%s",
             b64);
    expect_attachment(h, "Laporan kerusakan jembatan \xe2\x80\x93 foto.jpg", "image/jpeg");
    /* Gmail: RFC 2047 inside the quoted file name */
    snprintf(h, sizeof h,
             "Content-Type: image/jpeg; \n name=\"=?UTF-8?B?Rm90byBqYWxhbiBiZXJsdWJhbmcg4oCTIFBla2F"
             "sb25nYW4uanBn?=\"\nContent-Disposition: attachment; \n filename=\"=?UTF-8?B?Rm90byBq"
             "YWxhbiBiZXJsdWJhbmcg4oCTIFBla2Fsb25nYW4uanBn?=\"%s",
             b64);
    expect_attachment(h, "Foto jalan berlubang \xe2\x80\x93 Pekalongan.jpg", "image/jpeg");
    /* Content-Type's name only, a Windows path, the type lowercased */
    snprintf(h, sizeof h, "Content-Type: Image/JPEG; name=\"C:\\x\\y.jpg\"%s", b64);
    expect_attachment(h, "y.jpg", "image/jpeg");
    snprintf(h, sizeof h, "Content-Type: image/gif; name=\"../../etc/passwd\"%s", b64);
    expect_attachment(h, "passwd", "image/gif");
    /* no name, no type: the defaults */
    snprintf(h, sizeof h, "Content-Disposition: attachment%s", b64);
    expect_attachment(h, "lampiran-1", "application/octet-stream");
    snprintf(h, sizeof h, "Content-Type: application/octet-stream; name=\"C:\\dir\\\\\"%s", b64);
    expect_attachment(h, "lampiran-1", "application/octet-stream");
    /* a text part inline with a file name is an attachment */
    expect_attachment("Content-Type: text/plain; charset=utf-8\nContent-Disposition: inline; "
                      "filename=catatan.txt\nContent-Transfer-Encoding: base64",
                      "catatan.txt", "text/plain");
    /* a long name is cut to SP_INTAKE_MEDIA_MAX bytes, never inside a character */
    char name[200];
    memset(name, 'a', 126);
    snprintf(name + 126, sizeof name - 126, "\xc3\xa9-panjang.jpg");
    snprintf(h, sizeof h,
             "Content-Type: image/jpeg\nContent-Disposition: attachment; "
             "filename=\"%s\"%s",
             name, b64);
    sp_email m;
    one_part(h, &m);
    assert_int_equal(strlen(m.att[0].name), 126);
    assert_int_equal(strspn(m.att[0].name, "a"), 126);
    sp_email_free(&m);
    /* one byte shorter: the cut now falls right after the character */
    memmove(name + 125, name + 126, strlen(name + 126) + 1);
    snprintf(h, sizeof h,
             "Content-Type: image/jpeg\nContent-Disposition: attachment; "
             "filename=\"%s\"%s",
             name, b64);
    one_part(h, &m);
    assert_int_equal(strlen(m.att[0].name), 127);
    assert_memory_equal(m.att[0].name + 125, "\xc3\xa9", 2);
    sp_email_free(&m);
}

/* ---- what is refused ---- */

static void test_malformed_messages_are_400(void **state) {
    expect_refused_crlf("From: budi@example.id\nSubject: tanpa badan\n", SP_ERR_DECODE, 400,
                        "invalid_field");
    expect_refused_crlf("To: x@lapor.example.id\nSubject: tanpa pengirim\n\nIsi.\n", SP_ERR_DECODE,
                        400, "invalid_field");
    static const char *const unusable[] = {"<>",
                                           "MAILER-DAEMON",
                                           "Budi",
                                           "budi@",
                                           "@example.id",
                                           "budi@localhost",
                                           "Budi Santoso budi@example.id",
                                           "\"\" <a@b@example.id>",
                                           "bud\xff@example.id"};
    for (size_t i = 0; i < sizeof unusable / sizeof *unusable; i++) {
        char msg[256];
        snprintf(msg, sizeof msg, "From: %s\nTo: x@lapor.example.id\n\nIsi.\n", unusable[i]);
        expect_refused_crlf(msg, SP_ERR_DECODE, 400, "invalid_field");
    }
    expect_refused_crlf(HDR "Content-Type: multipart/mixed\n\n--x\n\nIsi\n--x--\n", SP_ERR_DECODE,
                        400, "invalid_field");
    expect_refused_crlf(HDR "Content-Type: multipart/mixed; boundary=x\n\nno delimiter\n",
                        SP_ERR_DECODE, 400, "invalid_field");
    expect_refused_crlf(HDR "Content-Transfer-Encoding: x-uuencode\n\nbegin 644 a\n", SP_ERR_DECODE,
                        400, "invalid_field");
}

static void test_bad_base64_is_400(void **state) {
    expect_refused_crlf(HDR "Content-Type: multipart/mixed; boundary=zz\n\n--zz\n\nIsi.\n--zz\n"
                            "Content-Type: image/jpeg\nContent-Transfer-Encoding: base64\n\n"
                            "/9j/4AAQ*SkZJRg==\n--zz--\n",
                        SP_ERR_DECODE, 400, "invalid_field");
    expect_refused_crlf(HDR "Content-Transfer-Encoding: base64\n\nSXNp\nLg==QUJD\n", SP_ERR_DECODE,
                        400, "invalid_field");
    expect_refused_crlf(HDR "Content-Transfer-Encoding: base64\n\nSXNpL\n", SP_ERR_DECODE, 400,
                        "invalid_field");
    sp_email m; /* the same, well formed, with blanks and without padding */
    parse_ok(HDR "Content-Transfer-Encoding: BASE64\n\nSXNp \n\tLg\n", &m);
    assert_string_equal(m.text, "Isi.");
    sp_email_free(&m);
}

static void test_charsets_that_cannot_be_read_are_400(void **state) {
    sp_email m;
    sp_intake_error e;
    assert_int_equal(
        parse_crlf(HDR "Content-Type: text/plain; charset=koi8-r\n\n\xf0\xd2\xc9\n", &m, &e),
        SP_ERR_DECODE);
    assert_int_equal(e.status, 400);
    assert_string_equal(e.code, "invalid_field");
    assert_non_null(strstr(e.message, "koi8-r"));
    expect_refused_crlf(HDR "Content-Type: text/plain; charset=utf-8\n\nRusak \xc3\x28 di sini\n",
                        SP_ERR_DECODE, 400, "invalid_field");
    expect_refused_crlf(HDR "\nTanpa charset \xe9\n", SP_ERR_DECODE, 400, "invalid_field");
    /* the charset of an alternative that is not used does not matter */
    parse_ok(HDR "Content-Type: multipart/alternative; boundary=zz\n\n--zz\n"
                 "Content-Type: text/plain; charset=utf-8\n\nBisa dibaca.\n--zz\n"
                 "Content-Type: text/html; charset=koi8-r\n\n<p>\xf0\xd2</p>\n--zz--\n",
             &m);
    assert_string_equal(m.text, "Bisa dibaca.");
    sp_email_free(&m);
}

/* A multipart/mixed message with k attachments of "ABC". */
static char *with_attachments(int k) {
    size_t cap = 1024 + (size_t)k * 128;
    char *msg = malloc(cap);
    assert_non_null(msg);
    size_t n = (size_t)snprintf(msg, cap,
                                HDR "Content-Type: multipart/mixed; boundary=zz\n\n--zz\n\nIsi.\n");
    for (int i = 0; i < k; i++)
        n += (size_t)snprintf(msg + n, cap - n,
                              "--zz\nContent-Type: image/jpeg; name=f%d.jpg\n"
                              "Content-Transfer-Encoding: base64\n\nQUJD\n",
                              i);
    snprintf(msg + n, cap - n, "--zz--\n");
    return msg;
}

static void test_too_many_attachments_is_413(void **state) {
    sp_email m;
    char *msg = with_attachments(SP_INTAKE_ATTACH_MAX);
    parse_ok(msg, &m);
    assert_int_equal(m.n_att, SP_INTAKE_ATTACH_MAX);
    assert_string_equal(m.att[SP_INTAKE_ATTACH_MAX - 1].name, "f3.jpg");
    sp_email_free(&m);
    free(msg);
    msg = with_attachments(SP_INTAKE_ATTACH_MAX + 1);
    expect_refused_crlf(msg, SP_ERR_TOO_BIG, 413, "too_large");
    free(msg);
}

/* A message with one attachment of n decoded bytes, base64 in lines of 76. */
static char *with_attachment_of(size_t n) {
    size_t lines = n / 57 + 1, cap = 512 + lines * 78;
    char *msg = malloc(cap);
    uint8_t chunk[57];
    assert_non_null(msg);
    memset(chunk, 0xa5, sizeof chunk);
    size_t k = (size_t)snprintf(msg, cap,
                                "From: a@example.id\r\nContent-Type: multipart/mixed; boundary=zz"
                                "\r\n\r\n--zz\r\nContent-Type: video/mp4\r\n"
                                "Content-Transfer-Encoding: base64\r\n\r\n");
    for (size_t done = 0; done < n; done += 57) {
        size_t c = n - done < 57 ? n - done : 57;
        sp_base64_encode(chunk, c, msg + k);
        k += strlen(msg + k);
        memcpy(msg + k, "\r\n", 2);
        k += 2;
    }
    snprintf(msg + k, cap - k, "--zz--\r\n");
    return msg;
}

static void test_attachment_limits_are_413(void **state) {
    sp_email m;
    sp_intake_error e;
    char *msg = with_attachment_of(SP_INTAKE_ATTACH_BYTES);
    assert_int_equal(sp_email_parse(msg, strlen(msg), &m, &e), SP_OK);
    assert_int_equal(m.att[0].len, SP_INTAKE_ATTACH_BYTES);
    assert_int_equal(m.att[0].data[SP_INTAKE_ATTACH_BYTES - 1], 0xa5);
    assert_string_equal(m.att[0].name, "lampiran-1");
    assert_string_equal(m.att[0].media_type, "video/mp4");
    sp_email_free(&m);
    free(msg);
    msg = with_attachment_of(SP_INTAKE_ATTACH_BYTES + 1);
    expect_refused(msg, strlen(msg), SP_ERR_TOO_BIG, 413, "too_large");
    free(msg);
    /* the whole message: refused before anything is read */
    msg = malloc(SP_EMAIL_MAX + 1);
    assert_non_null(msg);
    memset(msg, 'a', SP_EMAIL_MAX + 1);
    expect_refused(msg, SP_EMAIL_MAX + 1, SP_ERR_TOO_BIG, 413, "too_large");
    free(msg);
}

/* A message whose multipart parts nest `levels` deep, the text in the innermost. */
static char *nested(int levels) {
    char *msg = malloc(4096), *p = msg;
    assert_non_null(msg);
    p += sprintf(p, HDR);
    for (int i = 0; i < levels; i++)
        p += sprintf(p, "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n", i, i);
    p += sprintf(p, "Content-Type: text/plain\n\nDalam.\n");
    for (int i = levels - 1; i >= 0; i--)
        p += sprintf(p, "--b%d--\n", i);
    return msg;
}

static void test_nesting_deeper_than_the_limit_is_400(void **state) {
    sp_email m;
    char *msg = nested(SP_EMAIL_DEPTH);
    parse_ok(msg, &m);
    assert_string_equal(m.text, "Dalam.");
    sp_email_free(&m);
    free(msg);
    msg = nested(SP_EMAIL_DEPTH + 1);
    expect_refused_crlf(msg, SP_ERR_DECODE, 400, "invalid_field");
    free(msg);
}

/* ---- the reply ---- */

static void test_reply_headers(void **state) {
    sp_email m;
    char *r;
    parse_ok("From: Budi Santoso <budi.santoso@example.id>\nTo: pupr@lapor.example.id\n"
             "Subject: Lampu jalan mati\nMessage-ID: <abc.123@example.id>\n\nIsi.\n",
             &m);
    assert_int_equal(sp_email_reply(&m, "pupr@lapor.example.id",
                                    "Terima kasih.\nAduan Anda tercatat: 35.77-0001.", &r),
                     SP_OK);
    assert_string_equal(r, "From: pupr@lapor.example.id\r\n"
                           "To: budi.santoso@example.id\r\n"
                           "Subject: Re: Lampu jalan mati\r\n"
                           "In-Reply-To: <abc.123@example.id>\r\n"
                           "References: <abc.123@example.id>\r\n"
                           "MIME-Version: 1.0\r\n"
                           "Content-Type: text/plain; charset=utf-8\r\n"
                           "Content-Transfer-Encoding: 8bit\r\n"
                           "\r\n"
                           "Terima kasih.\r\n"
                           "Aduan Anda tercatat: 35.77-0001.\r\n");
    free(r);
    sp_email_free(&m);
    /* "Re:" is not doubled, whatever its case; no Message-ID, no In-Reply-To */
    parse_ok("From: a@example.id\nSubject: RE: Lampu jalan mati\n\nIsi.\n", &m);
    assert_int_equal(sp_email_reply(&m, "pupr@lapor.example.id", "Ok", &r), SP_OK);
    assert_string_equal(r, "From: pupr@lapor.example.id\r\n"
                           "To: a@example.id\r\n"
                           "Subject: RE: Lampu jalan mati\r\n"
                           "MIME-Version: 1.0\r\n"
                           "Content-Type: text/plain; charset=utf-8\r\n"
                           "Content-Transfer-Encoding: 8bit\r\n"
                           "\r\n"
                           "Ok\r\n");
    free(r);
    sp_email_free(&m);
}

static void test_reply_neutralises_header_injection(void **state) {
    char from[] = "budi@example.id\r\nBcc: spy@evil.example",
         subject[] = "Halo\r\nBcc: x@evil.example", mid[] = "a@b\nX-Evil: 1";
    sp_email in = {.from_addr = from, .subject = subject, .message_id = mid};
    char *r;
    assert_int_equal(sp_email_reply(&in, "pupr@lapor.example.id\r\nBcc: z@evil.example", "Isi", &r),
                     SP_OK);
    assert_null(strstr(r, "\nBcc"));
    assert_null(strstr(r, "\rBcc"));
    assert_null(strstr(r, "\nX-Evil"));
    assert_non_null(strstr(r, "\r\nSubject: Re: Halo  Bcc: x@evil.example\r\n"));
    assert_non_null(strstr(r, "\r\nTo: budi@example.id  Bcc: spy@evil.example\r\n"));
    assert_non_null(strstr(r, "\r\nIn-Reply-To: <a@b X-Evil: 1>\r\n"));
    free(r);
}

/* The Subject field of reply r: encoded words of at most 75 characters (RFC 2047 2), folded
 * lines of at most 78, no line over 998 (RFC 5322 2.1.1); and r read back gives subject want. */
static void expect_reply_subject(const char *r, const char *want) {
    const char *s = strstr(r, "\r\nSubject: "), *end = s ? strstr(s + 2, "\r\nIn-Reply-To") : NULL;
    assert_non_null(end);
    for (const char *w = strstr(s, "=?UTF-8?B?"); w && w < end; w = strstr(w, "=?UTF-8?B?")) {
        const char *e = strstr(w + 10, "?=");
        assert_non_null(e);
        assert_true(e + 2 - w <= 75);
        w = e + 2;
    }
    for (const char *l = s + 2; l < end; l = strstr(l, "\r\n") + 2) {
        size_t len = (size_t)(strstr(l, "\r\n") - l);
        assert_true(len <= 998);
        if (*l == ' ') assert_true(len <= 78);
    }
    sp_email m;
    sp_intake_error e;
    assert_int_equal(sp_email_parse(r, strlen(r), &m, &e), SP_OK);
    assert_string_equal(m.subject, want);
    assert_string_equal(m.from_addr, "pupr@lapor.example.id");
    assert_string_equal(m.text, "Baik.");
    sp_email_free(&m);
}

static void test_reply_encodes_non_ascii_subject(void **state) {
    char subject[] = "Lampu jalan mati di Jl. Pahlawan \xe2\x80\x94 sudah 3 minggu, warga "
                     "khawatir \xf0\x9f\x98\x9f ada kecelakaan di malam hari caf\xc3\xa9",
         mid[] = "x@example.id", from[] = "budi@example.id";
    sp_email in = {.from_addr = from, .subject = subject, .message_id = mid};
    char *r;
    assert_int_equal(sp_email_reply(&in, "pupr@lapor.example.id", "Baik.", &r), SP_OK);
    assert_non_null(strstr(r, "\r\nSubject: Re: =?UTF-8?B?"));
    assert_non_null(strstr(r, "?=\r\n =?UTF-8?B?")); /* long: more than one word */
    char want[300];
    snprintf(want, sizeof want, "Re: %s", subject);
    expect_reply_subject(r, want);
    free(r);
    /* a long ASCII subject is folded, not encoded */
    char ascii[] = "Jalan rusak parah di Jl. Diponegoro sampai Jl. Sudirman, banyak lubang besar "
                   "yang membahayakan pengendara motor terutama malam hari";
    in.subject = ascii;
    assert_int_equal(sp_email_reply(&in, "pupr@lapor.example.id", "Baik.", &r), SP_OK);
    assert_null(strstr(r, "=?"));
    assert_non_null(strstr(r, "\r\n "));
    snprintf(want, sizeof want, "Re: %s", ascii);
    expect_reply_subject(r, want);
    free(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thunderbird_plain_text),
        cmocka_unit_test(test_gmail_alternative_prefers_plain),
        cmocka_unit_test(test_lf_only_message),
        cmocka_unit_test(test_outlook_mixed_with_jpeg_and_pdf),
        cmocka_unit_test(test_quoted_printable_soft_breaks),
        cmocka_unit_test(test_latin1_and_windows1252_bodies_become_utf8),
        cmocka_unit_test(test_encoded_words),
        cmocka_unit_test(test_folded_headers_first_of_each),
        cmocka_unit_test(test_from_forms),
        cmocka_unit_test(test_html_only_is_made_plain),
        cmocka_unit_test(test_nested_mixed_alternative_related),
        cmocka_unit_test(test_attachment_names_and_types),
        cmocka_unit_test(test_malformed_messages_are_400),
        cmocka_unit_test(test_bad_base64_is_400),
        cmocka_unit_test(test_charsets_that_cannot_be_read_are_400),
        cmocka_unit_test(test_too_many_attachments_is_413),
        cmocka_unit_test(test_attachment_limits_are_413),
        cmocka_unit_test(test_nesting_deeper_than_the_limit_is_400),
        cmocka_unit_test(test_reply_headers),
        cmocka_unit_test(test_reply_neutralises_header_injection),
        cmocka_unit_test(test_reply_encodes_non_ascii_subject),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
