#include "base/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int current_level = -1;
static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

int sp_log_parse_level(const char *s) {
    for (int i = 0; i <= SP_LOG_OFF; i++)
        if (s && strcmp(s, level_names[i]) == 0) return i;
    return -1;
}

void sp_log_set_level(sp_log_level lvl) {
    atomic_store(&current_level, (int)lvl);
}

static int effective_level(void) {
    int lvl = atomic_load(&current_level);
    if (lvl >= 0) return lvl;
    lvl = sp_log_parse_level(getenv("SIMPUL_LOG_LEVEL"));
    if (lvl < 0) lvl = SP_LOG_INFO;
    atomic_store(&current_level, lvl);
    return lvl;
}

void sp_log(sp_log_level lvl, const char *msg, const char *fmt, ...) {
    if ((int)lvl < effective_level() || lvl >= SP_LOG_OFF) return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s msg=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, level_names[lvl], msg);
    if (fmt && n > 0 && (size_t)n < sizeof line - 2) {
        line[n++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
        va_end(ap);
        if (m > 0) n += m;
    }
    if (n < 0) return;
    if ((size_t)n >= sizeof line - 1) n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w; /* nothing sensible to do when stderr is gone */
}
