/*
 * Deadlines in working days (SLA), computed in a region's time zone and stored in UTC.
 *
 * A working day is Monday to Friday and not a holiday of the calendar (node/lifecycle/calendar.h:
 * national holidays and cuti bersama). Indonesia's three zones have no daylight saving:
 * WIB = UTC+7, WITA = UTC+8, WIT = UTC+9 (node/lifecycle/days.h).
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

#include "node/lifecycle/calendar.h"
#include "node/lifecycle/days.h"
#include "node/lifecycle/sla_policy.h"
#include "topology/topology.h"

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
