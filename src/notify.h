/*
 * Telling a service manager how the proxy is doing (sd_notify(3)): READY=1
 * once it serves, STOPPING=1 when it begins to stop. Compiled in only when
 * the build found libsystemd (HAVE_SD_NOTIFY); otherwise, or when the
 * process was not started with $NOTIFY_SOCKET, these do nothing. They never
 * log and never fail the caller: the proxy serves the same either way.
 */
#ifndef NMP_NOTIFY_H
#define NMP_NOTIFY_H

/* READY=1, with status (one line, shown by systemctl status) if not NULL. */
void notify_ready(const char *status);

/* STOPPING=1. */
void notify_stopping(void);

#endif
