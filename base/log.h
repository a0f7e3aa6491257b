/*
 * Structured logging: one line per event, "ts=... level=... msg=... key=value ...".
 * Lines go to stderr (systemd's journal picks them up). Thread-safe: a line is written with
 * one write(2), so lines from different threads never interleave.
 */
#ifndef SP_LOG_H
#define SP_LOG_H

typedef enum { SP_LOG_DEBUG, SP_LOG_INFO, SP_LOG_WARN, SP_LOG_ERROR, SP_LOG_OFF } sp_log_level;

/* Set the lowest level that is written (default INFO, or $SIMPUL_LOG_LEVEL). */
void sp_log_set_level(sp_log_level lvl);
/* Parse "debug|info|warn|error|off"; returns -1 when unknown. */
int sp_log_parse_level(const char *s);

/* Write one line: msg is a short event name, fmt adds key=value pairs (may be NULL). */
void sp_log(sp_log_level lvl, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define sp_log_debug(msg, ...) sp_log(SP_LOG_DEBUG, msg, __VA_ARGS__)
#define sp_log_info(msg, ...) sp_log(SP_LOG_INFO, msg, __VA_ARGS__)
#define sp_log_warn(msg, ...) sp_log(SP_LOG_WARN, msg, __VA_ARGS__)
#define sp_log_error(msg, ...) sp_log(SP_LOG_ERROR, msg, __VA_ARGS__)

#endif
