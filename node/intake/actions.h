/*
 * Officer and reporter actions on a complaint (POST /api/v1/complaints/{id}/actions): parsing
 * the request, which roles may ask for which action, and the body of the event that records
 * it. The fold (node/lifecycle/fold.h) stays the judge of validity; this module only refuses what can be
 * refused without the complaint's state (malformed fields, a role that may never do it).
 *
 * Privacy: for a confidential complaint, free texts (follow-up, completion summary, comment)
 * go only under the complaint's content key (field "text"); a disposition wraps the content
 * key for the new agency (Dispositioned.content_keys), so that it can read what it must handle.
 *
 * Thread-safety: reentrant.
 */
#ifndef SP_ACTIONS_H
#define SP_ACTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "node/intake/intake.h"
#include "node/intake/seal.h"
#include "node/lifecycle/fold.h"

#define SP_ACTION_TEXT_MAX 10000

#define SP_ACTION_MAP(XX)                                                                          \
    XX(VERIFY, "verify", SP_EV_VERIFIED)                                                           \
    XX(ARCHIVE, "archive", SP_EV_ARCHIVED)                                                         \
    XX(DISPOSITION, "disposition", SP_EV_DISPOSITIONED)                                            \
    XX(REROUTE, "reroute", SP_EV_REROUTED)                                                         \
    XX(FOLLOW_UP, "follow-up", SP_EV_FOLLOW_UP)                                                    \
    XX(COMPLETE, "complete", SP_EV_COMPLETED)                                                      \
    XX(COMMENT, "comment", SP_EV_COMMENTED)                                                        \
    XX(REOPEN, "reopen", SP_EV_REOPENED)                                                           \
    XX(FEEDBACK, "feedback", SP_EV_FEEDBACK)                                                       \
    XX(RAISE_PRIVACY, "raise-privacy", SP_EV_PRIVACY_RAISED)

typedef enum {
#define XX(name, text, ev) SP_ACT_##name,
    SP_ACTION_MAP(XX)
#undef XX
        SP_ACT__COUNT
} sp_action_kind;

typedef struct {
    sp_action_kind kind;
    char *text; /* note, text, summary or feedback text; owned, NULL when absent */
    char reason[SP_REASON_MAX + 1];
    char agency[SP_MAX_ORIGIN + 1]; /* disposition target / reroute suggestion */
    int by_rule;                    /* disposition: let the routing rules choose */
    uint32_t privacy;               /* raise-privacy */
    int satisfied;                  /* feedback */
    uint32_t rating;                /* feedback, 0 or 1..5 */
} sp_action;

const char *sp_action_name(sp_action_kind k); /* "follow-up"; "?" */
sp_ev_kind sp_action_event(sp_action_kind k);
/* Whether a token of this role may ever ask for this action (admins triage, agencies handle,
 * reporters give feedback and appeal; anyone comments). */
int sp_action_role_allowed(sp_action_kind k, sp_role role);

/* Parse {"action": NAME, ...fields} (docs/api.md). On SP_OK *out is filled (sp_action_free);
 * otherwise *err says why (400). */
sp_err sp_action_parse(sp_action *out, const char *buf, size_t n, sp_intake_error *err);
void sp_action_free(sp_action *a); /* accepts NULL */

/* What building an action's event needs besides the action. */
typedef struct {
    const char *complaint_id;
    const char *actor; /* token name */
    sp_role role;
    int confidential;           /* the complaint's current privacy is confidential */
    const uint8_t *content_key; /* NULL when this node holds none */
    const sp_topo_node *agency; /* disposition: the resolved agency */
    const char *rule;           /* disposition: the routing rule's label, or NULL */
} sp_action_ctx;

/* The encoded Event for a (malloc'ed *body). SP_ERR_FORBIDDEN: a confidential complaint's text
 * must be sealed and this node holds no content key. SP_ERR_CRYPTO, SP_ERR_NOMEM. */
sp_err sp_action_build(const sp_action *a, const sp_action_ctx *c, uint8_t **body, size_t *len);

/* The fold's view of the action (strings borrowed from a and c) for a pre-check. */
void sp_action_fold_event(const sp_action *a, const sp_action_ctx *c, const char *origin,
                          sp_fold_event *ev);

#endif
