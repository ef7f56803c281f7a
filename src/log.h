/*
 * One place that writes messages: stderr until log_to_syslog() or
 * log_to_file() is called. Every line is "<ident>: <message>" on stderr.
 * Logging preserves errno. Messages follow STYLE.md: action, object in
 * quotes, reason; values from outside go through validate_escape() first.
 */
#ifndef NMP_LOG_H
#define NMP_LOG_H

#include <stdbool.h>

void log_init(const char *ident);
void log_set_debug(bool on);

void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
