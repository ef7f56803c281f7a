#include <errno.h>
#include <fcntl.h>
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
	log_fd = safe_close(log_fd);
	log_fd = -1;
	if (log_syslog)
		closelog();
	log_syslog = false;
}

static void log_vwrite(int prio, const char *level, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void
log_vwrite(int prio, const char *level, const char *fmt, va_list ap)
{
	char msg[1024], line[1200], stamp[32];
	struct tm tm;
	time_t now;
	int saved = errno;
	int n;

	/* Nowhere to go (the access log, without a file or syslog): no work. */
	if (!(log_stderr && (prio <= LOG_WARNING || log_debug_on)) &&
	    log_fd < 0 && !log_syslog)
		return;
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	n = snprintf(line, sizeof(line), "%s%s%s%s: %s%s%s\n", log_ident,
	    log_id[0] != '\0' ? "[" : "", log_id, log_id[0] != '\0' ? "]" : "",
	    level != NULL ? level : "", level != NULL ? ": " : "", msg);
	if (n < 0)
		goto out;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	/* One write per line keeps concurrent writers' lines whole. On a
	 * terminal, info and debug only with --debug. */
	if (log_stderr && (prio <= LOG_WARNING || log_debug_on))
		(void)!write(STDERR_FILENO, line, (size_t)n);
	if (log_fd >= 0) {
		now = time(NULL);
		if (localtime_r(&now, &tm) == NULL ||
		    strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S ", &tm) ==
		        0)
			stamp[0] = '\0';
		dprintf(log_fd, "%s%s", stamp, line);
	}
	if (log_syslog)
		syslog(prio, "%s%s%s%s", log_id[0] != '\0' ? "[" : "", log_id,
		    log_id[0] != '\0' ? "] " : "", msg);
out:
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
