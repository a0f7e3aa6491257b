/*
 * Working-day arithmetic. Dates are day numbers since 1970-01-01 (Howard Hinnant's civil
 * algorithms), so no libc time zone machinery is involved and results never depend on TZ.
 */
#include "node/sla.h"

#include "node/calendar.h"

/* Far more than any sane span; bounds the loop whatever a configuration says. */
#define MAX_SPAN_DAYS 4000

#define WD(n) {n, SP_SPAN_WORKING}
#define CD(n) {n, SP_SPAN_CALENDAR}
#define DEFAULTS(complete) {WD(3), WD(3), WD(5), WD(10), complete}
const sp_sla_policy sp_sla_default_policy = {{
    DEFAULTS(CD(60)), /* default slot */
    DEFAULTS(CD(60)), /* aspirasi */
    DEFAULTS(CD(60)), /* pengaduan */
    DEFAULTS(WD(10)), /* permintaan informasi */
}};
#undef DEFAULTS
#undef CD
#undef WD

void sp_sla_policy_default(sp_sla_policy *p) {
    *p = sp_sla_default_policy;
}

sp_sla_span sp_sla_policy_get(const sp_sla_policy *p, uint32_t type, sp_sla_kind kind) {
    if (kind >= SP_SLA__COUNT) return (sp_sla_span){0, SP_SPAN_WORKING};
    return p->span[type < SP_SLA_TYPES ? type : 0][kind];
}

const char *sp_sla_kind_name(sp_sla_kind kind) {
    static const char *const names[SP_SLA__COUNT] = {"verify", "dispose", "respond", "autoclose",
                                                     "complete"};
    return kind < SP_SLA__COUNT ? names[kind] : "?";
}

int32_t sp_days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153u * (unsigned)(m + (m > 2 ? -3 : 9)) + 2u) / 5u + (unsigned)d - 1u;
    const unsigned doe = yoe * 365u + yoe / 4u - yoe / 100u + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

void sp_civil_from_days(int32_t z, int *y, int *m, int *d) {
    z += 719468;
    const int32_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460u + doe / 36524u - doe / 146096u) / 365u;
    const unsigned doy = doe - (365u * yoe + yoe / 4u - yoe / 100u);
    const unsigned mp = (5u * doy + 2u) / 153u;
    *d = (int)(doy - (153u * mp + 2u) / 5u + 1u);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)yoe + era * 400 + (*m <= 2);
}

int sp_weekday(int32_t days) {
    int w = (int)((days + 4) % 7); /* 1970-01-01 was a Thursday */
    return w < 0 ? w + 7 : w;
}

uint32_t sp_day_ymd(int32_t days) {
    int y, m, d;
    sp_civil_from_days(days, &y, &m, &d);
    return (uint32_t)(y * 10000 + m * 100 + d);
}

int64_t sp_tz_offset_ms(sp_timezone tz) {
    switch (tz) {
    case SP_TZ_WITA: return 8 * 3600000LL;
    case SP_TZ_WIT: return 9 * 3600000LL;
    default: return 7 * 3600000LL;
    }
}

int32_t sp_local_day(uint64_t utc_ms, sp_timezone tz) {
    return (int32_t)((utc_ms + (uint64_t)sp_tz_offset_ms(tz)) / SP_DAY_MS);
}

uint64_t sp_end_of_local_day(int32_t day, sp_timezone tz) {
    return ((uint64_t)day + 1) * SP_DAY_MS - (uint64_t)sp_tz_offset_ms(tz) - 1;
}

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
