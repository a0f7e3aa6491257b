/*
 * The SLA timer: the fold is a pure function of events, so deadlines passing change nothing by
 * themselves. Every SP_SLA_TIMER_MS this thread asks the fold which system events are due
 * (sp_fold_due_actions: escalation to the parent agency on a breached deadline, auto-completion
 * 10 working days after a follow-up with no reply) and authors those this node is the author
 * of. Once authored, the fold's state moves on and the action is no longer due, so it is
 * written once — on every node's replica the same.
 */
#ifndef SP_SLA_TIMER_H
#define SP_SLA_TIMER_H

#include "node/app/app.h"

#define SP_SLA_TIMER_MS 30000

typedef struct sp_sla_timer sp_sla_timer;

sp_err sp_sla_timer_start(sp_sla_timer **out, const sp_daemon_parts *parts);
void sp_sla_timer_stop(sp_sla_timer *t);
/* One pass now (the control socket's "sla-check"); *authored counts the events written. */
sp_err sp_sla_check(const sp_daemon_parts *parts, uint64_t now_ms, size_t *authored);

#endif
