/*
 * What a reader may see of a complaint (DESIGN §5), in one place, so that every read route
 * (our JSON, Open311) applies the same rules:
 *
 *  - without a token: public and anonymous complaints show their content (title, text,
 *    location, attachment metadata) and timeline texts, never the reporter's identity;
 *    confidential complaints show metadata only (category, region, type, status, times);
 *  - with an officer token of this node: the node shows what it can open. Content when the
 *    complaint is not confidential, or when this node holds a wrap of the complaint's content
 *    key (it is the intake node, the responsible node at filing, or an agency a disposition
 *    wrapped the key for). The identity only when the complaint is not anonymous and the node
 *    holds the content key (sealed_reporter), or when this node is the intake node (its own
 *    sealed box, whatever the privacy).
 * The privacy that counts is the complaint's current one (the fold applies raises), so a raise
 * hides from then on what was visible before.
 *
 * Thread-safety: reentrant; the results belong to the caller.
 */
#ifndef SP_VIEW_H
#define SP_VIEW_H

#include <jansson.h>

#include "node/app/app.h"
#include "node/intake/seal.h"
#include "schemas/simpul.pb-c.h"

typedef struct {
    int officer;      /* a valid token of this node was presented */
    const char *name; /* its name (for audit in the log), NULL without */
    int blobs_here;   /* this node hands out the attachments (sp_blob_served_here): links */
} sp_viewer;

/* The history of a complaint (sp_complaints_history) and its stored events, decoded: ev[i] is
 * the event of hist[i] (NULL when it is not stored here or does not decode). */
typedef struct {
    sp_history_entry *hist;
    Simpul__V1__Event **ev;
    size_t n;
} sp_complaint_events;

/* Load s's history and decode its events. SP_ERR_NOMEM, SP_ERR_STORE, SP_ERR_CORRUPT. */
sp_err sp_view_load(const sp_daemon_parts *p, const sp_complaint_state *s,
                    sp_complaint_events *out);
void sp_view_events_free(sp_complaint_events *e); /* accepts NULL, and an emptied struct */

/* The ComplaintFiled of the complaint, or NULL (borrowed from e). */
const Simpul__V1__ComplaintFiled *sp_view_filed(const sp_complaint_events *e);

/* The complaint's content key, when this node holds a wrap of it (in the filing, a
 * disposition or a privacy raise). SP_ERR_NOT_FOUND when it holds none it can open. */
sp_err sp_view_content_key(const sp_daemon_parts *p, const sp_complaint_state *s,
                           const sp_complaint_events *e, uint8_t key[SP_CONTENT_KEY_LEN]);

/* The content the viewer may see: *out is a fresh ComplaintContent (free with
 * simpul__v1__complaint_content__free_unpacked(*out, NULL)). SP_ERR_FORBIDDEN when the viewer
 * may not see it, SP_ERR_NOT_FOUND when the filing is not stored here, SP_ERR_BAD_SIG /
 * SP_ERR_DECODE when a sealed box does not open (logged), SP_ERR_NOMEM. */
sp_err sp_view_content(const sp_daemon_parts *p, const sp_complaint_state *s,
                       const sp_complaint_events *e, const sp_viewer *v,
                       Simpul__V1__ComplaintContent **out);
/* The reporter identity the viewer may see, under the same rules; *out as above
 * (simpul__v1__reporter_identity__free_unpacked). */
sp_err sp_view_identity(const sp_daemon_parts *p, const sp_complaint_state *s,
                        const sp_complaint_events *e, const sp_viewer *v,
                        Simpul__V1__ReporterIdentity **out);

/* The whole complaint as GET /api/v1/complaints/{id} answers it (docs/api.md). base_url is
 * "http://host:port" for links. NULL when out of memory. */
json_t *sp_view_complaint(const sp_daemon_parts *p, const sp_complaint_state *s,
                          const sp_complaint_events *e, const sp_viewer *v, const char *base_url,
                          uint64_t now_ms);
/* One line of a work list: metadata, deadlines, and the title when the viewer may see it. */
json_t *sp_view_summary(const sp_daemon_parts *p, const sp_complaint_state *s, const sp_viewer *v,
                        uint64_t now_ms);

/* Whether this node is the complaint's intake node. */
int sp_view_is_intake(const sp_daemon_parts *p, const sp_complaint_state *s);

#endif
