/*
 * Working-day arithmetic. Dates are day numbers since 1970-01-01 (Howard Hinnant's civil
 * algorithms), so no libc time zone machinery is involved and results never depend on TZ.
 */
#include "node/lifecycle/sla.h"

#include "node/lifecycle/calendar.h"

/* Far more than any sane span; bounds the loop whatever a configuration says. */
#define MAX_SPAN_DAYS 4000

int sp_is_working_day(const sp_calendar *cal, int32_t day) {
    int w = sp_weekday(day);
    if (w == 0 || w == 6) return 0;
    return !(cal && sp_calendar_is_holiday(cal, day));
}

uint64_t sp_sla_deadline(const sp_calendar *cal, sp_timezone tz, uint64_t from_ms,
                         sp_sla_span span) {
    if (span.n == 0) return 0;
    int32_t day = sp_local_day(from_ms, tz);
    if (span.unit == SP_SPAN_CALENDAR) return sp_end_of_local_day(day + span.n, tz);
    unsigned counted = 0;
    for (int guard = 0; counted < span.n && guard < MAX_SPAN_DAYS; guard++)
        if (sp_is_working_day(cal, ++day)) counted++;
    return sp_end_of_local_day(day, tz);
}

uint32_t sp_working_days_between(const sp_calendar *cal, sp_timezone tz, uint64_t from_ms,
                                 uint64_t to_ms) {
    int32_t day = sp_local_day(from_ms, tz), last = sp_local_day(to_ms, tz);
    uint32_t n = 0;
    for (int guard = 0; day < last && guard < 100 * MAX_SPAN_DAYS; guard++)
        n += (uint32_t)sp_is_working_day(cal, ++day);
    return n;
}
