#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "fd.h"
#include "log.h"
#include "safefile.h"
#include "banned.h"

static const char *log_ident = "ns-metadata-proxy";
static char log_id[40];
static bool log_debug_on;
static bool log_stderr = true;
static bool log_syslog;
static int log_facility = LOG_USER;
static int log_fd = -1;
static bool log_created; /* log_fd is a file this process created */
static char log_path[4096];

/*
 * Access lines to the file, gathered: one write for all the lines of a
 * turn of the caller's loop, whose flusher (log_access_batch) is woken
 * when the first comes, instead of one write each. Any other line, a
 * reopen and a close write them out first, so the file keeps the order.
 */
#define LOG_BATCH_MAX 16384
static char log_batch[LOG_BATCH_MAX];
static size_t log_batch_len;
static void (*log_batch_wake)(void *);
static void *log_batch_arg;

void
log_flush(void)
{
	if (log_batch_len > 0 && log_fd >= 0)
		(void)!write(log_fd, log_batch, log_batch_len);
	log_batch_len = 0;
}

void
log_access_batch(void (*wake)(void *), void *arg)
{
	log_flush();
	log_batch_wake = wake;
	log_batch_arg = arg;
}

static const struct {
	const char *name;
	int facility;
} facilities[] = {
    {"auth", LOG_AUTH},
    {"authpriv", LOG_AUTHPRIV},
    {"cron", LOG_CRON},
    {"daemon", LOG_DAEMON},
    {"ftp", LOG_FTP},
    {"kern", LOG_KERN},
    {"lpr", LOG_LPR},
    {"mail", LOG_MAIL},
    {"news", LOG_NEWS},
    {"syslog", LOG_SYSLOG},
    {"user", LOG_USER},
    {"uucp", LOG_UUCP},
    {"local0", LOG_LOCAL0},
    {"local1", LOG_LOCAL1},
    {"local2", LOG_LOCAL2},
    {"local3", LOG_LOCAL3},
    {"local4", LOG_LOCAL4},
    {"local5", LOG_LOCAL5},
    {"local6", LOG_LOCAL6},
    {"local7", LOG_LOCAL7},
};

void
log_init(const char *ident)
{
	if (ident != NULL && *ident != '\0')
		log_ident = ident;
}

void
log_set_debug(bool on)
{
	log_debug_on = on;
}

void
log_set_id(const char *id)
{
	if (snprintf(log_id, sizeof(log_id), "%s", id) < 0)
		log_id[0] = '\0';
}

/*
 * The directory of path, opened, and the file's name in it: refused
 * (-NMP_EUNSAFE) by the rule of a pidfile's directory,
 * safefile_check_shared_dir(): whoever else may write it could put a file
 * or a link there in our place.
 */
static int
open_log_dir(const char *path, const char **base)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;
	int fd, r;

	if (slash == NULL) {
		*base = path;
		return AT_FDCWD;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, n);
	dir[n] = '\0';
	*base = slash + 1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = safefile_check_shared_dir(fd);
	if (r < 0) {
		(void)close(fd);
		return r;
	}
	return fd;
}

int
log_to_file(const char *path)
{
	bool created = true;
	const char *base;
	int fd, dirfd;

	dirfd = open_log_dir(path, &base);
	if (dirfd < 0 && dirfd != AT_FDCWD)
		return dirfd;
	/* Made here, or there before: only a file we made is ours to give. */
	fd = openat(dirfd, base,
	    O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0640);
	if (fd < 0 && errno == EEXIST) {
		created = false;
		fd = openat(
		    dirfd, base, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		fd = -errno;
	(void)safe_close(dirfd);
	if (fd < 0)
		return fd;
	log_fd = safe_close(log_fd);
	log_fd = fd;
	log_created = created;
	if (snprintf(log_path, sizeof(log_path), "%s", path) < 0)
		log_path[0] = '\0';
	return 0;
}

int
log_file_chown(uid_t uid, gid_t gid)
{
	struct stat st;

	if (log_fd < 0 || geteuid() != 0 || uid == 0)
		return 0;
	if (fstat(log_fd, &st) < 0)
		return -errno;
	/* uid's already (logrotate's "create" keeps the owner): its mode. */
	if (st.st_uid == uid)
		return fchmod(log_fd, st.st_mode & 0640) < 0 ? -errno : 0;
	/*
	 * Only a file this process created (O_EXCL: a new inode, not one a
	 * link planted in the log directory leads to) is given away.
	 */
	if (!log_created || !S_ISREG(st.st_mode) || st.st_nlink != 1)
		return -EPERM;
	if (fchown(log_fd, uid, gid) < 0 ||
	    fchmod(log_fd, st.st_mode & 0640) < 0)
		return -errno;
	return 0;
}

void
log_file_renumber(int fd)
{
	log_fd = fd;
}

void
log_file_adopt(int fd, const char *path)
{
	size_t n = strlen(path);

	log_fd = fd;
	log_created = false;
	if (n < sizeof(log_path))
		memcpy(log_path, path, n + 1);
}

const char *
log_file_path(void)
{
	return log_fd >= 0 ? log_path : "";
}

const char *
log_get_ident(void)
{
	return log_ident;
}

int
log_reopen(void)
{
	char path[sizeof(log_path)];
	struct stat old, out;
	bool stdio;
	int r;

	log_flush(); /* into the file they were written for */
	if (log_fd < 0 || log_path[0] == '\0')
		return 0;
	/* A daemon's stdout and stderr are the log file: they follow it. */
	stdio = fstat(log_fd, &old) == 0 && fstat(STDERR_FILENO, &out) == 0 &&
	        old.st_dev == out.st_dev && old.st_ino == out.st_ino;
	memcpy(path, log_path, sizeof(path));
	r = log_to_file(path);
	if (r == 0 && stdio) {
		(void)dup2(log_fd, STDOUT_FILENO);
		(void)dup2(log_fd, STDERR_FILENO);
	}
	return r;
}

int
log_file_fd(void)
{
	return log_fd;
}

/* "LOG_LOCAL0" (oslo.log's spelling) and "local0" name the same one. */
void
log_to_syslog(const char *facility)
{
	const char *name = facility;
	int fac = LOG_USER;
	size_t i;

	if (strncmp(name, "LOG_", 4) == 0)
		name += 4;
	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcasecmp(name, facilities[i].name) == 0)
			fac = facilities[i].facility;
	log_facility = fac;
	log_syslog = true;
	log_syslog_resume();
}

/*
 * libc owns the syslog socket, and closing its descriptor behind its back
 * is what kills a daemon on a node where /dev/log listens: the number is
 * reused (by the event loop, a listener), and libc's next failed send
 * closes that instead. So whoever closes descriptors suspends syslog
 * first and resumes after. LOG_NDELAY connects now, while /dev/log can
 * still be reached (before a privilege drop or a namespace change).
 */
void
log_syslog_suspend(void)
{
	if (log_syslog)
		closelog();
}

void
log_syslog_resume(void)
{
	if (log_syslog)
		openlog(log_ident, LOG_PID | LOG_NDELAY, log_facility);
}

void
log_quiet_stderr(void)
{
	log_stderr = false;
}

void
log_close(void)
{
	log_flush();
	log_batch_wake = NULL;
	log_fd = safe_close(log_fd);
	log_fd = -1;
	if (log_syslog)
		closelog();
	log_syslog = false;
}

/* A message's bytes at most, and a whole line's (with what precedes it). */
#define LOG_MSG_MAX 1024
#define LOG_LINE_MAX 1200

/* oslo.log's logger names: ours, and the access log's. */
#define LOG_LOGGER "ns_metadata_proxy"
#define LOG_LOGGER_ACCESS LOG_LOGGER ".access"

/*
 * Whether any destination takes a line at prio, asked before any work:
 * the engine logs every request. stderr takes warnings and errors, the
 * rest only with --debug.
 */
static bool
log_stderr_takes(int prio)
{
	return log_stderr && (prio <= LOG_WARNING || log_debug_on);
}

static bool
log_wanted(int prio)
{
	return log_stderr_takes(prio) || log_fd >= 0 || log_syslog;
}

/* oslo.log's (Python's) level names. */
static const char *
log_level_name(int prio)
{
	switch (prio) {
	case LOG_ERR:
		return "ERROR";
	case LOG_WARNING:
		return "WARNING";
	case LOG_INFO:
		return "INFO";
	default:
		return "DEBUG";
	}
}

/*
 * n bytes were formatted into line (n may exceed its size: cut), and a
 * newline ends it. One write per line keeps concurrent writers' lines
 * whole; a line too long is cut, never split.
 */
static void
log_put(int fd, char *line, size_t size, int n)
{
	size_t len;

	if (n < 0)
		return;
	len = (size_t)n < size - 1 ? (size_t)n : size - 2;
	line[len++] = '\n';
	(void)!write(fd, line, len);
}

/* "<ident>[<id>]: <word>: <msg>" (errors have no word). */
static void
log_stderr_line(const char *word, const char *msg)
{
	char line[LOG_LINE_MAX];
	int n;

	n = snprintf(line, sizeof(line) - 1, "%s%s%s%s: %s%s%s", log_ident,
	    log_id[0] != '\0' ? "[" : "", log_id, log_id[0] != '\0' ? "]" : "",
	    word != NULL ? word : "", word != NULL ? ": " : "", msg);
	log_put(STDERR_FILENO, line, sizeof(line), n);
}

/*
 * The pid lines name: asked once, and again in a child after fork (a
 * daemon forks after its log is open). getpid() is a system call, and
 * the engine writes a line for every request.
 */
static pid_t log_pid_cached;

static void
log_forked(void)
{
	log_pid_cached = 0;
}

static long
log_pid(void)
{
	static bool hooked;

	if (!hooked)
		hooked = pthread_atfork(NULL, NULL, log_forked) == 0;
	if (log_pid_cached == 0 || !hooked)
		log_pid_cached = getpid();
	return (long)log_pid_cached;
}

/* "2026-12-06 00:16:15": made again only when the second changes. */
static const char *
log_stamp(time_t sec)
{
	static time_t at = (time_t)-1;
	static char stamp[24];
	struct tm tm;

	if (sec != at) {
		if (localtime_r(&sec, &tm) == NULL ||
		    strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm) ==
		        0)
			memcpy(stamp, "1970-01-01 00:00:00", 20);
		at = sec;
	}
	return stamp;
}

/* A whole line (newline included) to the file, gathered or at once. */
static void
log_file_put(const char *line, size_t len, bool access)
{
	if (!access || log_batch_wake == NULL) {
		log_flush();
		(void)!write(log_fd, line, len);
		return;
	}
	if (log_batch_len + len > sizeof(log_batch))
		log_flush();
	if (len > sizeof(log_batch)) {
		(void)!write(log_fd, line, len);
		return;
	}
	memcpy(log_batch + log_batch_len, line, len);
	if (log_batch_len == 0)
		log_batch_wake(log_batch_arg);
	log_batch_len += len;
}

/*
 * oslo.log's default line (logging_default_format_string), so that what
 * reads neutron's logs reads ours: local time with milliseconds, the
 * writer's pid (log_pid: daemons fork), level, logger, "[-]" for
 * a request context there is none of, then "[<id>] " in the place of
 * oslo's instance, and the message:
 * "2026-12-06 00:16:15.123 4242 INFO ns_metadata_proxy [-] [<id>] msg".
 */
static void
log_file_line(int prio, const char *logger, bool with_id, const char *msg)
{
	char line[LOG_LINE_MAX];
	bool id = with_id && log_id[0] != '\0';
	bool access = !with_id;
	struct timespec ts;
	size_t len;
	int n;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0) {
		ts.tv_sec = time(NULL);
		ts.tv_nsec = 0;
	}
	n = snprintf(line, sizeof(line) - 1, "%s.%03d %ld %s %s [-] %s%s%s%s",
	    log_stamp(ts.tv_sec), (int)(ts.tv_nsec / 1000000) % 1000, log_pid(),
	    log_level_name(prio), logger, id ? "[" : "", id ? log_id : "",
	    id ? "] " : "", msg);
	if (n < 0)
		return;
	/* Cut, never split: the newline always ends it. */
	len = (size_t)n < sizeof(line) - 1 ? (size_t)n : sizeof(line) - 2;
	line[len++] = '\n';
	log_file_put(line, len, access);
}

/* One line to every destination that takes it. */
static void
log_emit(int prio, const char *word, bool access, const char *msg)
{
	if (log_stderr_takes(prio))
		log_stderr_line(word, msg);
	if (log_fd >= 0)
		log_file_line(prio, access ? LOG_LOGGER_ACCESS : LOG_LOGGER,
		    !access, msg);
	if (log_syslog && access)
		syslog(prio, "%s", msg);
	else if (log_syslog)
		syslog(prio, "%s%s%s%s", log_id[0] != '\0' ? "[" : "", log_id,
		    log_id[0] != '\0' ? "] " : "", msg);
}

static void log_vwrite(int prio, const char *word, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void
log_vwrite(int prio, const char *word, const char *fmt, va_list ap)
{
	char msg[LOG_MSG_MAX];
	int saved = errno;

	if (!log_wanted(prio))
		return;
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	log_emit(prio, word, false, msg);
	errno = saved;
}

bool
log_access_wanted(void)
{
	return log_wanted(LOG_INFO);
}

void
log_access(const char *line)
{
	char msg[LOG_MSG_MAX];
	int saved = errno;
	size_t n;

	/* Nowhere to go (no file, no syslog, no --debug): no work. */
	if (line == NULL || !log_wanted(LOG_INFO))
		return;
	/* One line: cut at the cap or at a line break, whichever is first. */
	for (n = 0; n < sizeof(msg) - 1 && line[n] != '\0' && line[n] != '\n' &&
	            line[n] != '\r';
	     n++)
		msg[n] = line[n];
	msg[n] = '\0';
	log_emit(LOG_INFO, "info", true, msg);
	errno = saved;
}

void
log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, NULL, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, "warning", fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, "info", fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_debug_on)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, "debug", fmt, ap);
	va_end(ap);
}
