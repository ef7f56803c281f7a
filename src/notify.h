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

/*
 * Systemd's file-descriptor store: keep fd under name across our restart
 * (FDSTORE=1), or drop what is kept under name (FDSTOREREMOVE=1). Nothing
 * without a service manager.
 */
void notify_fdstore(const char *name, int fd);
void notify_fdstore_remove(const char *name);

/*
 * The descriptors the service manager passed (LISTEN_FDS), from
 * NOTIFY_LISTEN_FDS_START on, with their names; the environment is unset.
 * 0 without any; *names is NULL or an array the caller frees with
 * notify_names_free().
 */
int notify_listen_fds(char ***names);
void notify_names_free(char **names);
#define NOTIFY_LISTEN_FDS_START 3

/* WATCHDOG=1 is wanted every *usec / 2: 1, or 0 without a watchdog. */
int notify_watchdog_enabled(unsigned long long *usec);
void notify_watchdog(void);

#endif
