/*
 * Day numbers and local dates (node/lifecycle/days.h).
 */
#include "node/lifecycle/days.h"

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
