/*
 * The SLA policy: how long each step of a complaint's lifecycle may take, per complaint type
 * (docs/lifecycle.md, "Deadlines"). The calendar file may override it (node/lifecycle/calendar.h); the
 * deadlines themselves are computed in node/lifecycle/sla.h. Pure data and functions; thread-safe.
 */
#ifndef SP_SLA_POLICY_H
#define SP_SLA_POLICY_H

#include <stdint.h>

typedef enum { SP_SPAN_WORKING = 0, SP_SPAN_CALENDAR = 1 } sp_span_unit;

/* A deadline length: n working or calendar days; n == 0: no deadline. */
typedef struct {
    uint16_t n;
    uint8_t unit; /* sp_span_unit */
} sp_sla_span;

/* The deadlines of the lifecycle (docs/lifecycle.md, "Deadlines"). */
typedef enum {
    SP_SLA_VERIFY,    /* filed -> verified or archived (3 working days) */
    SP_SLA_DISPOSE,   /* verified or rerouted -> dispositioned (3 working days) */
    SP_SLA_RESPOND,   /* dispositioned or reopened -> first follow-up (5 working days) */
    SP_SLA_AUTOCLOSE, /* follow-up without reporter reply -> auto-completed (10 working days) */
    SP_SLA_COMPLETE,  /* verified -> completed (60 calendar days) */
    SP_SLA__COUNT
} sp_sla_kind;

/* Complaint types index the policy like simpul.v1.ComplaintType: 1 aspirasi, 2 pengaduan,
 * 3 permintaan informasi; slot 0 is the default for anything else. */
#define SP_SLA_TYPES 4

typedef struct {
    sp_sla_span span[SP_SLA_TYPES][SP_SLA__COUNT];
} sp_sla_policy;

/* The regulation's defaults: verify 3 wd, dispose 3 wd, respond 5 wd, auto-close 10 wd,
 * complete 60 calendar days (UU 25/2009 art. 50); permintaan informasi completes in 10 working
 * days (UU 14/2008 art. 22). */
void sp_sla_policy_default(sp_sla_policy *p);
extern const sp_sla_policy sp_sla_default_policy;
/* The span of one deadline for a complaint type (out-of-range types use slot 0). */
sp_sla_span sp_sla_policy_get(const sp_sla_policy *p, uint32_t type, sp_sla_kind kind);
/* A 64-bit fingerprint (FNV-1a) of every span: peers compare it on sync. */
uint64_t sp_sla_policy_fingerprint(const sp_sla_policy *p);
/* "verify", "dispose", "respond", "autoclose", "complete"; "?" when out of range. */
const char *sp_sla_kind_name(sp_sla_kind kind);

#endif
