/*
 * One place that writes messages. Lines go to stderr and, once configured,
 * also to a log file or to syslog, one write each. Once log_set_id() is
 * called:
 *   stderr  "<ident>[<id>]: <level>: <message>" (errors: no level word)
 *   file    "2026-12-06 00:16:15.123 4242 INFO ns_metadata_proxy [-] [<id>]
 *           <message>" on one line: oslo.log's default shape (local time
 *           with milliseconds, the writing process's pid, DEBUG, INFO,
 *           WARNING or ERROR, the logger, no request context)
 *   syslog  "[<id>] <message>" (syslog adds "<ident>[<pid>]: ")
 * Without an id, the "[<id>]" parts are left out. A message is cut at
 * 1023 bytes. Logging preserves errno. Messages follow STYLE.md: action,
 * object in quotes, reason; values from outside go through
 * validate_escape() first.
 */
#ifndef NMP_LOG_H
#define NMP_LOG_H

#include <stdbool.h>
#include <sys/types.h>

void log_init(const char *ident);
void log_set_debug(bool on);
/* The network or router id every line carries. */
void log_set_id(const char *id);

/*
 * Also write to the file at path (appended, created 0640, never through a
 * symlink). Its directory must pass safefile_check_shared_dir(), as a
 * pidfile's does: not writable by group or others unless sticky
 * (-NMP_EUNSAFE, nothing created). Returns 0 or -errno. The
 * descriptor is close-on-exec; log_file_fd() gives it to a daemon that
 * wants its stdio there. log_reopen() applies the same rule.
 */
int log_to_file(const char *path);
int log_file_fd(void);

/*
 * Give the log file to the account a root process is about to drop to
 * (owner uid:gid, mode 0640 at most), so that it can still open the file
 * again on SIGHUP after the drop. Only a file this process created (a
 * regular file with one link): else -EPERM, unless uid owns it already.
 * 0 when nothing is to do.
 */
int log_file_chown(uid_t uid, gid_t gid);

/* The log file's descriptor was moved to fd (the old number is gone). */
void log_file_renumber(int fd);

/* Log to fd, the file at path (reopened there on log_reopen()), as a
 * process that did not create it: the stub the haproxy front becomes. */
void log_file_adopt(int fd, const char *path);
/* The log file's path ("" when none) and the syslog ident in use. */
const char *log_file_path(void);
const char *log_get_ident(void);

/* Open the log file again (after rotation: SIGHUP). 0 or -errno. */
int log_reopen(void);

/* Also write to syslog with this facility name (validate_facility()). */
void log_to_syslog(const char *facility);

/*
 * The syslog socket belongs to libc: close it before closing descriptors
 * wholesale (closelog()), and connect it again after. No-ops without
 * syslog.
 */
void log_syslog_suspend(void);
void log_syslog_resume(void);

/* Stop writing to stderr (a daemon's stderr is /dev/null). */
void log_quiet_stderr(void);

void log_close(void);

void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * One access-log line, formatted by the caller (haproxy's httplog text, a
 * JSON object), at info. The line names its network itself, so no "[<id>]"
 * is added: in the file "... INFO ns_metadata_proxy.access [-] <line>",
 * to syslog the bare line, to stderr (only with debug on)
 * "<ident>[<id>]: info: <line>". It is cut at 1023 bytes or at its first
 * CR or LF, never split. Nothing is done when no destination takes it (no
 * file, no syslog, no debug): cheap enough to call for every request.
 */
void log_access(const char *line);
/* Would log_access() write anywhere now? The caller may skip the line. */
bool log_access_wanted(void);

/*
 * Gather access lines for the log file and write them in one go: wake(arg)
 * is called when the first line of a batch comes, and the caller then
 * calls log_flush() (at the end of its loop's turn). Any other line, a
 * reopen and log_close() flush first. wake NULL: one write a line again.
 */
void log_access_batch(void (*wake)(void *), void *arg);
void log_flush(void);

#endif
