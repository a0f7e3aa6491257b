/*
 * Calendar arithmetic on day numbers (days since 1970-01-01, proleptic Gregorian: Howard
 * Hinnant's civil algorithms) and Indonesia's three time zones, which have no daylight saving:
 * WIB = UTC+7, WITA = UTC+8, WIT = UTC+9, so local dates are plain arithmetic. No libc time zone
 * machinery is involved and results never depend on TZ. Pure functions; thread-safe.
 */
#ifndef SP_DAYS_H
#define SP_DAYS_H

#include <stdint.h>

#include "topology/topology.h"

#define SP_DAY_MS 86400000ull

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

#endif
