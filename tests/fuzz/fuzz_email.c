/*
 * Fuzz target for inbound e-mail (node/intake/email.h): any bytes must give a message or an
 * error, never a crash, a leak or undefined behaviour; a message that parses must give a reply
 * whose header holds no line the input put there (each header line is one of ours).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/intake/email.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether every line of the reply's header starts with a field we write or is a folded
 * continuation: input that smuggled in a CR or LF would show up as another field. */
static int header_is_ours(const char *r) {
    static const char *const fields[] = {"From: ",
                                         "To: ",
                                         "Subject: ",
                                         "In-Reply-To: <",
                                         "References: <",
                                         "MIME-Version: ",
                                         "Content-Type: ",
                                         "Content-Transfer-Encoding: ",
                                         " "};
    for (const char *l = r; *l && strncmp(l, "\r\n", 2) != 0;) {
        const char *e = strstr(l, "\r\n");
        int ok = 0;
        for (size_t i = 0; !ok && i < sizeof fields / sizeof *fields; i++)
            ok = strncmp(l, fields[i], strlen(fields[i])) == 0;
        if (!ok || !e || memchr(l, '\n', (size_t)(e - l)) || memchr(l, '\r', (size_t)(e - l)))
            return 0;
        l = e + 2;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sp_email m;
    sp_intake_error e;
    char *reply = NULL;
    if (sp_email_parse((const char *)data, size, &m, &e) != SP_OK) return 0;
    if (!m.from_addr || !m.text || !sp_utf8_valid(m.text, strlen(m.text))) abort();
    if (m.subject && (strlen(m.subject) > SP_EMAIL_SUBJECT_MAX || strpbrk(m.subject, "\r\n")))
        abort();
    if (m.from_name && !sp_utf8_valid(m.from_name, strlen(m.from_name))) abort();
    for (size_t i = 0; i < m.n_att; i++)
        if (!m.att[i].data || !m.att[i].media_type[0] ||
            !sp_utf8_valid(m.att[i].name, strlen(m.att[i].name)) || strchr(m.att[i].name, '/'))
            abort();
    if (sp_email_reply(&m, "pengaduan@kota.example.id", m.text, &reply) == SP_OK &&
        !header_is_ours(reply))
        abort();
    free(reply);
    sp_email_free(&m);
    return 0;
}
