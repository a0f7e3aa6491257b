/*
 * Working-day deadlines across real Indonesian holidays (Idul Fitri weeks, year ends, Nyepi),
 * weekends and the three time zones; the calendar file format and its errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/lifecycle/calendar.h"
#include "node/lifecycle/sla.h"

#define H 3600000ull

static sp_calendar *cal;
static sp_sla_policy policy;

static int setup(void **state) {
    sp_sla_policy_default(&policy);
    if (sp_calendar_new(&cal) != SP_OK) return -1;
    return sp_calendar_load_builtin(cal, &policy) == SP_OK ? 0 : -1;
}

static int teardown(void **state) {
    sp_calendar_free(cal);
    return 0;
}

static int32_t day(int y, int m, int d) {
    return sp_days_from_civil(y, m, d);
}

/* Local wall time in a zone, as UTC ms. */
static uint64_t at(int y, int m, int d, int hh, sp_timezone tz) {
    return (uint64_t)day(y, m, d) * SP_DAY_MS + (uint64_t)hh * H - (uint64_t)sp_tz_offset_ms(tz);
}

/* End of a local date: the instant deadlines fall on. */
static uint64_t eod(int y, int m, int d, sp_timezone tz) {
    return sp_end_of_local_day(day(y, m, d), tz);
}

static const sp_sla_span WD3 = {3, SP_SPAN_WORKING}, WD5 = {5, SP_SPAN_WORKING},
                          WD10 = {10, SP_SPAN_WORKING};

static void test_civil_dates(void **state) {
    assert_int_equal(day(1970, 1, 1), 0);
    assert_int_equal(day(2000, 3, 1), 11017);
    assert_int_equal(sp_weekday(day(2025, 3, 31)), 1); /* Monday */
    assert_int_equal(sp_weekday(day(2026, 3, 21)), 6); /* Saturday */
    assert_int_equal(sp_day_ymd(day(2024, 2, 29)), 20240229);
    for (int32_t z = day(1999, 12, 1); z < day(2031, 1, 1); z++) {
        int y, m, d;
        sp_civil_from_days(z, &y, &m, &d);
        assert_int_equal(day(y, m, d), z);
    }
}

static void test_builtin_calendar(void **state) {
    /* 2025: 17 libur + 11 cuti bersama (incl. 18 August); 2026: 17 + 8; 2027: 17 libur. */
    int per_year[3] = {0, 0, 0};
    for (int32_t z = day(2025, 1, 1); z < day(2028, 1, 1); z++) {
        int y, m, d;
        sp_civil_from_days(z, &y, &m, &d);
        per_year[y - 2025] += sp_calendar_is_holiday(cal, z);
    }
    assert_int_equal(per_year[0], 28);
    assert_int_equal(per_year[1], 25);
    assert_int_equal(per_year[2], 17);
    assert_int_equal(sp_calendar_count(cal), 70);
    assert_int_equal(sp_calendar_year(cal, 2025), SP_YEAR_FINAL);
    assert_int_equal(sp_calendar_year(cal, 2027), SP_YEAR_PROVISIONAL);
    assert_int_equal(sp_calendar_year(cal, 2028), SP_YEAR_UNCOVERED);
    sp_holiday_kind kind;
    const char *name = sp_calendar_holiday(cal, day(2025, 3, 31), &kind);
    assert_non_null(name);
    assert_non_null(strstr(name, "Idul Fitri"));
    assert_int_equal(kind, SP_HOLIDAY_LIBUR);
    assert_non_null(sp_calendar_holiday(cal, day(2025, 8, 18), &kind));
    assert_int_equal(kind, SP_HOLIDAY_CUTI_BERSAMA);
    assert_null(sp_calendar_holiday(cal, day(2025, 4, 8), NULL));
    assert_false(sp_is_working_day(cal, day(2025, 4, 7)));  /* cuti bersama Idul Fitri */
    assert_true(sp_is_working_day(cal, day(2025, 4, 8)));
    assert_false(sp_is_working_day(cal, day(2025, 4, 5)));  /* Saturday */
    assert_true(sp_is_working_day(NULL, day(2025, 4, 7)));  /* no calendar: weekends only */
}

static void test_idul_fitri_2025(void **state) {
    /* Filed Thursday 27 March 2025: Fri 28 (cuti Nyepi), 31 Mar-1 Apr (Idul Fitri), 2-4 and 7
     * April (cuti bersama) are off, so 3 working days end on Thursday 10 April. */
    assert_int_equal(sp_sla_deadline(cal, SP_TZ_WIB, at(2025, 3, 27, 10, SP_TZ_WIB), WD3),
                     eod(2025, 4, 10, SP_TZ_WIB));
    /* A first response dispositioned that day: 5 working days -> Monday 14 April. */
    assert_int_equal(sp_sla_deadline(cal, SP_TZ_WIB, at(2025, 3, 27, 10, SP_TZ_WIB), WD5),
                     eod(2025, 4, 14, SP_TZ_WIB));
    /* Without the calendar it would have been Tuesday 1 April. */
    assert_int_equal(sp_sla_deadline(NULL, SP_TZ_WIB, at(2025, 3, 27, 10, SP_TZ_WIB), WD3),
                     eod(2025, 4, 1, SP_TZ_WIB));
}

static void test_idul_fitri_and_nyepi_2026(void **state) {
    /* Filed Tuesday 17 March 2026: 18 (cuti Nyepi), 19 (Nyepi), 20, 23, 24 (cuti Idul Fitri)
     * are off: 25, 26, 27 March. */
    assert_int_equal(sp_sla_deadline(cal, SP_TZ_WIB, at(2026, 3, 17, 15, SP_TZ_WIB), WD3),
                     eod(2026, 3, 27, SP_TZ_WIB));
    /* In Bali (WITA) the same local filing gives the same local date. */
    assert_int_equal(sp_sla_deadline(cal, SP_TZ_WITA, at(2026, 3, 17, 15, SP_TZ_WITA), WD3),
                     eod(2026, 3, 27, SP_TZ_WITA));
    assert_int_equal(sp_working_days_between(cal, SP_TZ_WIB, at(2026, 3, 17, 9, SP_TZ_WIB),
                                             at(2026, 3, 27, 9, SP_TZ_WIB)),
                     3);
}

static void test_year_ends(void **state) {
    /* 23 Dec 2025 + 5: 24, (25 Natal, 26 cuti), 29, 30, 31, (1 Jan 2026), 2 Jan. */
    assert_int_equal(sp_sla_deadline(cal, SP_TZ_WIB, at(2025, 12, 23, 9, SP_TZ_WIB), WD5),
                     eod(2026, 1, 2, SP_TZ_WIB));
    /* 22 Dec 2026 + 3: 23, (24 cuti, 25 Natal), 28, 29. */
    assert_int_equal(sp_sla_deadline(cal, SP_TZ_WIT, at(2026, 12, 22, 9, SP_TZ_WIT), WD3),
                     eod(2026, 12, 29, SP_TZ_WIT));
    /* 10 working days over the 2026/2027 turn: 28-31 Dec (4), (1 Jan), 4-8 Jan (but 5 Jan is
     * the provisional Isra Mikraj), 11 Jan. */
    assert_int_equal(sp_sla_deadline(cal, SP_TZ_WIB, at(2026, 12, 24, 9, SP_TZ_WIB), WD10),
                     eod(2027, 1, 12, SP_TZ_WIB));
}

static void test_weekends_and_day_boundaries(void **state) {
    uint64_t fri_eve = at(2025, 5, 16, 22, SP_TZ_WIB), sat = at(2025, 5, 17, 10, SP_TZ_WIB),
             sun_late = at(2025, 5, 18, 23, SP_TZ_WIB), mon = at(2025, 5, 19, 0, SP_TZ_WIB);
    uint64_t want = eod(2025, 5, 21, SP_TZ_WIB);
    assert_int_equal(sp_sla_deadline(cal, SP_TZ_WIB, fri_eve, WD3), want);
    assert_int_equal(sp_sla_deadline(cal, SP_TZ_WIB, sat, WD3), want);
    assert_int_equal(sp_sla_deadline(cal, SP_TZ_WIB, sun_late, WD3), want);
    assert_int_equal(sp_sla_deadline(cal, SP_TZ_WIB, mon, WD3), eod(2025, 5, 22, SP_TZ_WIB));
    /* The deadline is the last millisecond of the local day. */
    assert_int_equal(want % SP_DAY_MS, SP_DAY_MS - 7 * H - 1);
    assert_int_equal(sp_sla_deadline(cal, SP_TZ_WIB, mon, (sp_sla_span){0, SP_SPAN_WORKING}), 0);
}

static void test_time_zones(void **state) {
    /* 23:30 WIB Monday 3 March 2025 = Tuesday 00:30 WITA = Tuesday 01:30 WIT. */
    uint64_t t = at(2025, 3, 3, 23, SP_TZ_WIB) + H / 2;
    assert_int_equal(sp_local_day(t, SP_TZ_WIB), day(2025, 3, 3));
    assert_int_equal(sp_local_day(t, SP_TZ_WITA), day(2025, 3, 4));
    assert_int_equal(sp_local_day(t, SP_TZ_WIT), day(2025, 3, 4));
    assert_int_equal(sp_sla_deadline(cal, SP_TZ_WIB, t, WD3), eod(2025, 3, 6, SP_TZ_WIB));
    assert_int_equal(sp_sla_deadline(cal, SP_TZ_WITA, t, WD3), eod(2025, 3, 7, SP_TZ_WITA));
    assert_int_equal(sp_sla_deadline(cal, SP_TZ_WIT, t, WD3), eod(2025, 3, 7, SP_TZ_WIT));
    /* The same local date ends earlier in UTC the further east. */
    assert_int_equal(eod(2025, 3, 7, SP_TZ_WITA) - eod(2025, 3, 7, SP_TZ_WIT), H);
    assert_int_equal(eod(2025, 3, 7, SP_TZ_WIB) - eod(2025, 3, 7, SP_TZ_WITA), H);
}

static void test_calendar_days_and_policy(void **state) {
    sp_sla_span c = sp_sla_policy_get(&policy, 2, SP_SLA_COMPLETE);
    assert_int_equal(c.unit, SP_SPAN_CALENDAR);
    assert_int_equal(c.n, 60);
    /* 60 calendar days ignore holidays: 27 March 2025 -> 26 May 2025. */
    assert_int_equal(sp_sla_deadline(cal, SP_TZ_WIB, at(2025, 3, 27, 9, SP_TZ_WIB), c),
                     eod(2025, 5, 26, SP_TZ_WIB));
    sp_sla_span info = sp_sla_policy_get(&policy, 3, SP_SLA_COMPLETE);
    assert_int_equal(info.unit, SP_SPAN_WORKING);
    assert_int_equal(info.n, 10);
    assert_int_equal(sp_sla_policy_get(&policy, 77, SP_SLA_VERIFY).n, 3); /* default slot */
    assert_string_equal(sp_sla_kind_name(SP_SLA_AUTOCLOSE), "autoclose");
}

static sp_err load(sp_calendar *c, sp_sla_policy *p, const char *yaml, sp_diag_list *d) {
    return sp_calendar_load_buffer(c, p, "override.yaml", yaml, strlen(yaml), d);
}

static void test_override_file(void **state) {
    sp_calendar *c;
    sp_sla_policy p;
    sp_sla_policy_default(&p);
    assert_int_equal(sp_calendar_new(&c), SP_OK);
    assert_int_equal(sp_calendar_load_builtin(c, &p), SP_OK);
    uint64_t fp = sp_calendar_fingerprint(c);
    const char *yaml = "version: 1\n"
                       "years:\n  2027: {status: final, source: SKB 2026}\n"
                       "remove: [2027-01-05]\n"
                       "holidays:\n  - {date: 2027-03-09, kind: cuti-bersama, name: Cuti bersama}\n"
                       "sla:\n  default: {respond: 7}\n  pengaduan: {complete: 30d}\n"
                       "  aspirasi: {complete: 0}\n";
    sp_diag_list d;
    sp_diag_list_init(&d);
    assert_int_equal(load(c, &p, yaml, &d), SP_OK);
    assert_int_equal(d.n_errors, 0);
    assert_false(sp_calendar_is_holiday(c, day(2027, 1, 5)));
    assert_true(sp_calendar_is_holiday(c, day(2027, 3, 9)));
    assert_int_equal(sp_calendar_year(c, 2027), SP_YEAR_FINAL);
    assert_int_not_equal(sp_calendar_fingerprint(c), fp);
    assert_int_equal(sp_sla_policy_get(&p, 3, SP_SLA_RESPOND).n, 7);
    assert_int_equal(sp_sla_policy_get(&p, 2, SP_SLA_COMPLETE).n, 30);
    assert_int_equal(sp_sla_policy_get(&p, 2, SP_SLA_COMPLETE).unit, SP_SPAN_CALENDAR);
    assert_int_equal(sp_sla_policy_get(&p, 1, SP_SLA_COMPLETE).n, 0);
    assert_int_equal(sp_sla_policy_get(&p, 3, SP_SLA_COMPLETE).n, 10); /* untouched */
    sp_diag_list_clear(&d);
    sp_calendar_free(c);
}

static void test_bad_files_change_nothing_and_say_where(void **state) {
    struct {
        const char *yaml, *want;
    } t[] = {
        {"holidays:\n  - {date: 2025-02-30, name: x}\n",
         "override.yaml:2:12: '2025-02-30' is not a date"},
        {"holidays:\n  - {date: 2025-05-01, kind: libur-panjang}\n",
         "override.yaml:2:30: kind must be"},
        {"holidays:\n  - {name: x}\n", "override.yaml:2:5: holiday without a date"},
        {"holiday: []\n", "override.yaml:1:1: unknown key 'holiday'"},
        {"version: 2\n", "override.yaml:1:10: unsupported calendar version"},
        {"sla:\n  pengaduan: {respond: 5x}\n", "override.yaml:2:24: '5x' is not a span"},
        {"sla:\n  keluhan: {respond: 5}\n", "override.yaml:2:3: unknown complaint type 'keluhan'"},
        {"years:\n  2025: {status: maybe}\n", "override.yaml:2:18: year 2025 needs status"},
        {"remove: [yesterday]\n", "override.yaml:1:10: 'yesterday' is not a date"},
        {"holidays: [\n", "override.yaml:2:1: YAML syntax error"},
        {"- a\n- b\n", "override.yaml:1:1: a calendar must be a mapping"},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        sp_calendar *c;
        sp_sla_policy p, before;
        sp_sla_policy_default(&p);
        before = p;
        assert_int_equal(sp_calendar_new(&c), SP_OK);
        sp_diag_list d;
        sp_diag_list_init(&d);
        assert_int_equal(load(c, &p, t[i].yaml, &d), SP_ERR_CONFIG);
        assert_true(d.n_errors >= 1);
        if (strncmp(d.errors[0], t[i].want, strlen(t[i].want)) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s...\"", i, d.errors[0], t[i].want);
        assert_int_equal(sp_calendar_count(c), 0);
        assert_memory_equal(&p, &before, sizeof p);
        sp_diag_list_clear(&d);
        sp_calendar_free(c);
    }
}

static void test_load_file_errors(void **state) {
    sp_calendar *c;
    assert_int_equal(sp_calendar_new(&c), SP_OK);
    assert_int_equal(sp_calendar_load_file(c, NULL, "/nonexistent/holidays.yaml", NULL), SP_ERR_IO);
    const char *src = getenv("SP_SOURCE_DIR");
    if (src) {
        char path[1024];
        snprintf(path, sizeof path, "%s/deploy/calendar/holidays.yaml", src);
        assert_int_equal(sp_calendar_load_file(c, NULL, path, NULL), SP_OK);
        assert_int_equal(sp_calendar_count(c), 70);
    }
    assert_int_equal(sp_calendar_add(c, -5, SP_HOLIDAY_LIBUR, "x"), SP_ERR_INVAL);
    sp_calendar_free(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_civil_dates),
        cmocka_unit_test(test_builtin_calendar),
        cmocka_unit_test(test_idul_fitri_2025),
        cmocka_unit_test(test_idul_fitri_and_nyepi_2026),
        cmocka_unit_test(test_year_ends),
        cmocka_unit_test(test_weekends_and_day_boundaries),
        cmocka_unit_test(test_time_zones),
        cmocka_unit_test(test_calendar_days_and_policy),
        cmocka_unit_test(test_override_file),
        cmocka_unit_test(test_bad_files_change_nothing_and_say_where),
        cmocka_unit_test(test_load_file_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
