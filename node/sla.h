/*
 * Deadlines in working days (SLA), computed in a region's time zone and stored in UTC.
 *
 * A working day is Monday to Friday and not a holiday of the calendar (node/calendar.h:
 * national holidays and cuti bersama). Indonesia's three zones have no daylight saving:
 * WIB = UTC+7, WITA = UTC+8, WIT = UTC+9, so local dates are plain arithmetic.
 *
 * A deadline "N working days after t" is the END (23:59:59.999 local) of the N-th working day
 * after t's local date: the day of the event itself never counts, so filing on Friday evening
 * or on Saturday gives the same deadline. "N calendar days" is the end of the local date N days
 * later. Span n == 0 means "no deadline" (0 is returned). Because deadlines fall at the end of
 * a local day, "overdue" only changes at local midnight, which is what officers expect, and
 * the statistics can bucket deadlines by day exactly.
 *
 * Everything here is a pure function of its arguments: no clock, no global state; thread-safe.
 */
#ifndef SP_SLA_H
#define SP_SLA_H

#include <stdint.h>

#include "topology/topology.h"

typedef struct sp_calendar sp_calendar;

#define SP_DAY_MS 86400000ull

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
/* "verify", "dispose", "respond", "autoclose", "complete"; "?" when out of range. */
const char *sp_sla_kind_name(sp_sla_kind kind);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int32_t sp_days_from_civil(int y, int m, int d);
void sp_civil_from_days(int32_t days, int *y, int *m, int *d);
/* 0 = Sunday ... 6 = Saturday. */
int sp_weekday(int32_t days);
/* YYYYMMDD of a day number (e.g. 20250331), for keys and humans. */
uint32_t sp_day_ymd(int32_t days);

/* Offset of a zone from UTC in ms (WIB 7 h, WITA 8 h, WIT 9 h; anything else: WIB). */
int64_t sp_tz_offset_ms(sp_timezone tz);
/* The local date (day number) of a UTC instant in a zone. */
int32_t sp_local_day(uint64_t utc_ms, sp_timezone tz);
/* The UTC instant of 23:59:59.999 local on a day. */
uint64_t sp_end_of_local_day(int32_t day, sp_timezone tz);

/* Whether a day is a working day under cal (NULL cal: only weekends are off). */
int sp_is_working_day(const sp_calendar *cal, int32_t day);
/* The deadline span after from_ms, as described above; 0 when span.n == 0. */
uint64_t sp_sla_deadline(const sp_calendar *cal, sp_timezone tz, uint64_t from_ms,
                         sp_sla_span span);
/* Working days strictly after from's local date up to and including to's local date
 * (0 when to is on or before from's date): "how many working days did this take". */
uint32_t sp_working_days_between(const sp_calendar *cal, sp_timezone tz, uint64_t from_ms,
                                 uint64_t to_ms);

#endif
