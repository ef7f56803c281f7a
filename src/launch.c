#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/nsfs.h>

#include "fd.h"
#include "launch.h"
#include "metadata.h"
#include "pidfile.h"
#include "strbuf.h"
#include "banned.h"

static char env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";

char *const launch_clean_env[] = {
    env_path,
    NULL,
};

int
launch_trusted_binary(const struct stat *st)
{
	if (!S_ISREG(st->st_mode) || (st->st_mode & S_IXUSR) == 0)
		return -EACCES;
	if ((st->st_uid != 0 && st->st_uid != geteuid()) ||
	    (st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return -EPERM;
	return 0;
}

static int
check_binary(const char *path)
{
	struct stat st;

	/* The binary may be reached through a symlink; the target counts. */
	if (stat(path, &st) < 0)
		return -errno;
	return launch_trusted_binary(&st);
}

int
launch_find_haproxy(const char *explicit_path, char *out, size_t outsz)
{
	char path[4096];
	size_t i;
	int n, r;

	if (explicit_path != NULL && explicit_path[0] != '\0') {
		if (explicit_path[0] != '/')
			return -EINVAL;
		r = check_binary(explicit_path);
		if (r < 0)
			return r;
		n = STR_CONCAT(out, outsz, explicit_path);
		return n < 0 ? n : 0;
	}
	for (i = 0; md_haproxy_dirs[i] != NULL; i++) {
		n = STR_CONCAT(
		    path, sizeof(path), md_haproxy_dirs[i], "/haproxy");
		if (n < 0)
			return n;
		r = check_binary(path);
		if (r == -ENOENT || r == -ENOTDIR)
			continue;
		if (r < 0)
			return r;
		n = STR_CONCAT(out, outsz, path);
		return n < 0 ? n : 0;
	}
	return -ENOENT;
}

static void
reset_signals(void)
{
	struct sigaction sa;
	sigset_t empty;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&empty);
	(void)sigprocmask(SIG_SETMASK, &empty, NULL);
}

static int place_fds(
    const int *src, const int *dst, const bool *cloexec, size_t n, bool *moved);

/* Between fork and exec: async-signal-safe calls only. */
static void
child_exec(char *const argv[], const int *fds, int nfds)
{
	int dst[LAUNCH_LISTEN_MAX];
	bool cloexec[LAUNCH_LISTEN_MAX] = {false}, moved;
	int i;

	reset_signals();
	if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0 || nfds > LAUNCH_LISTEN_MAX)
		_exit(126);
	for (i = 0; i < nfds; i++)
		dst[i] = LAUNCH_LISTEN_FD + i;
	if (place_fds(fds, dst, cloexec, (size_t)nfds, &moved) < 0)
		_exit(126);
	execve(argv[0], argv, launch_clean_env);
	_exit(errno == ENOENT ? 127 : 126);
}

int
launch_run_wait(char *const argv[], const int *fds, int nfds, int *status_out)
{
	pid_t pid, w;
	int status = 0;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		child_exec(argv, fds, nfds);
	do {
		w = waitpid(pid, &status, 0);
	} while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	*status_out = status;
	return 0;
}

int
launch_hold_signals(sigset_t *old)
{
	sigset_t hold;

	sigemptyset(&hold);
	sigaddset(&hold, SIGINT);
	sigaddset(&hold, SIGTERM);
	sigaddset(&hold, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &hold, old) < 0)
		return -errno;
	return 0;
}

void
launch_release_signals(const sigset_t *old)
{
	(void)sigprocmask(SIG_SETMASK, old, NULL);
}

/* A daemon's report pipe, closed by the exec: EOF means haproxy runs. */
#define REPORT_FD 4

const char *
launch_stage_name(int stage)
{
	switch (stage) {
	case LAUNCH_FORK:
		return "forking the daemon";
	case LAUNCH_SETSID:
		return "starting a session";
	case LAUNCH_STDIO:
		return "redirecting standard descriptors";
	case LAUNCH_NETNS_OPEN:
		return "opening the network namespace";
	case LAUNCH_NETNS_ENTER:
		return "entering the network namespace";
	case LAUNCH_PIDFILE:
		return "writing the pidfile";
	case LAUNCH_EXEC:
		return "executing haproxy";
	case LAUNCH_BIND:
		return "binding the listeners";
	case LAUNCH_PRIVILEGES:
		return "dropping privileges";
	case LAUNCH_ENGINE:
		return "setting up the engine";
	case LAUNCH_NETNS_TYPE:
		return "checking the network namespace";
	case LAUNCH_CHDIR:
		return "changing to the root directory";
	default:
		return "starting haproxy";
	}
}

static int
failed(struct launch_failure *f, int stage, int err)
{
	f->stage = stage;
	f->err = err;
	return -err;
}

/*
 * execve's argv is char *const[] for history's sake and never written
 * through: hand it our const strings by way of a union (C11 6.5.2.3), with
 * no cast that -Wcast-qual would have to be told about.
 */
static char *
exec_arg(const char *s)
{
	union {
		const char *c;
		char *m;
	} u;

	u.c = s;
	return u.m;
}

/*
 * Put src[i] at dst[i] (close-on-exec where cloexec[i]) and close every
 * other descriptor above 2. Through numbers above every target first, so
 * that no move overwrites a descriptor still to be moved. *moved says
 * whether any descriptor was moved or closed (a failure to park the
 * copies changes nothing). Async-signal-safe.
 */
static int
place_fds(
    const int *src, const int *dst, const bool *cloexec, size_t n, bool *moved)
{
	int parked[LAUNCH_LISTEN_MAX + 4];
	int hi = 2, fd, err;
	size_t i, j;
	bool wanted;

	*moved = false;
	if (n > sizeof(parked) / sizeof(parked[0]))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (dst[i] > hi)
			hi = dst[i];
	for (i = 0; i < n; i++) {
		parked[i] = fcntl(src[i], F_DUPFD_CLOEXEC, hi + 1);
		if (parked[i] < 0) {
			err = errno;
			for (j = 0; j < i; j++)
				(void)close(parked[j]);
			return -err;
		}
	}
	*moved = true;
	for (i = 0; i < n; i++)
		if (dup3(parked[i], dst[i], cloexec[i] ? O_CLOEXEC : 0) < 0)
			return -errno;
	for (fd = 3; fd < hi; fd++) {
		wanted = false;
		for (i = 0; i < n; i++)
			wanted = wanted || dst[i] == fd;
		if (!wanted)
			(void)close(fd);
	}
	fd_close_range((unsigned int)hi + 1, ~0U);
	return 0;
}

/*
 * The last steps before haproxy, in the process that becomes it; report is
 * the daemon's report pipe, -1 in the foreground. Only async-signal-safe
 * calls: in the daemon this runs after fork. On failure *report_out is
 * where the report pipe is now, and f->moved says whether the descriptors
 * were rearranged (launch.h).
 */
static int
final_steps(const struct launch_spec *s, int report, int *report_out,
    struct launch_failure *f)
{
	static char arg_f[] = "-f";
	struct pidfile pf = *s->pidfile;
	int src[LAUNCH_LISTEN_MAX + 4], dst[LAUNCH_LISTEN_MAX + 4];
	bool cloexec[LAUNCH_LISTEN_MAX + 4], moved = false;
	char *argv[4];
	size_t n = 0;
	int err, i, r;

	*report_out = report;
	/*
	 * haproxy resolves relative paths (an error file, a chroot) against
	 * its working directory: never the caller's.
	 */
	if (chdir("/") < 0)
		return failed(f, LAUNCH_CHDIR, errno);
	r = pidfile_write(&pf, getpid());
	if (r < 0)
		return failed(f, LAUNCH_PIDFILE, -r);
	/* The lock must outlive us: it is what status and stop look at. */
	src[n] = s->pidfile->fd;
	dst[n] = LAUNCH_LOCK_FD;
	cloexec[n++] = false;
	if (report >= 0) {
		src[n] = report;
		dst[n] = REPORT_FD;
		cloexec[n++] = true;
	}
	for (i = 0; i < s->nlisten && i < LAUNCH_LISTEN_MAX; i++) {
		src[n] = s->listen_fds[i];
		dst[n] = LAUNCH_LISTEN_FD + i;
		cloexec[n++] = false;
	}
	/*
	 * In the foreground a failed exec returns to the caller, which still
	 * logs and removes what it made: its log file and the pidfile's
	 * directory come along, closed by the exec.
	 */
	if (report < 0 && s->log_fd >= 0) {
		src[n] = s->log_fd;
		dst[n] = LAUNCH_CARRY_LOG_FD;
		cloexec[n++] = true;
	}
	if (report < 0 && s->pidfile->dirfd >= 0) {
		src[n] = s->pidfile->dirfd;
		dst[n] = LAUNCH_CARRY_DIR_FD;
		cloexec[n++] = true;
	}
	reset_signals();
	err = place_fds(src, dst, cloexec, n, &moved);
	if (err < 0) {
		f->moved = moved;
		pf.fd = moved ? LAUNCH_LOCK_FD : s->pidfile->fd;
		(void)pidfile_clear(&pf);
		return failed(f, LAUNCH_STDIO, -err);
	}
	if (report >= 0)
		*report_out = REPORT_FD;
	argv[0] = exec_arg(s->haproxy);
	argv[1] = arg_f;
	argv[2] = exec_arg(s->config);
	argv[3] = NULL;
	execve(s->haproxy, argv, launch_clean_env);
	err = errno;
	/* Not running after all: a pid in the file would be a lie. */
	pf.fd = LAUNCH_LOCK_FD;
	(void)pidfile_clear(&pf);
	f->moved = true;
	return failed(f, LAUNCH_EXEC, err);
}

static int
daemon_stdio(int log_fd)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null < 0)
		return -1;
	if (dup2(null, STDIN_FILENO) < 0 ||
	    dup2(log_fd >= 0 ? log_fd : null, STDOUT_FILENO) < 0 ||
	    dup2(log_fd >= 0 ? log_fd : null, STDERR_FILENO) < 0) {
		(void)close(null);
		return -1;
	}
	if (null > STDERR_FILENO)
		(void)close(null);
	return 0;
}

/*
 * Is fd a network namespace? 0 yes, -EINVAL no, or -errno. The file system
 * first, so that no device behind a planted node gets our ioctl; kernels
 * before 4.11 lack NS_GET_NSTYPE: there any nsfs inode passes and setns
 * judges.
 */
static int
netns_check(int fd)
{
	struct statfs sfs;
	int type;

	if (fstatfs(fd, &sfs) < 0)
		return -errno;
	if (sfs.f_type != NSFS_MAGIC)
		return -EINVAL;
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type >= 0)
		return type == CLONE_NEWNET ? 0 : -EINVAL;
	return errno == ENOTTY ? 0 : -errno;
}

int
launch_enter_netns(const char *path, struct launch_failure *f)
{
	int fd, err;

	/*
	 * Whatever sits at path, the open must not wait: a FIFO would block
	 * until a writer came, a terminal could become ours.
	 */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return failed(f, LAUNCH_NETNS_OPEN, errno);
	err = netns_check(fd);
	if (err < 0) {
		(void)close(fd);
		return failed(f,
		    err == -EINVAL ? LAUNCH_NETNS_TYPE : LAUNCH_NETNS_OPEN,
		    -err);
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		err = errno;
		(void)close(fd);
		return failed(f, LAUNCH_NETNS_ENTER, err);
	}
	(void)close(fd);
	return 0;
}

/*
 * How long the caller waits, after a failure report, for the daemon to be
 * gone (its end of the pipe closed as it exits). Exiting takes
 * microseconds; a leak check at exit under a sanitizer, a little longer.
 */
#define DAEMON_GONE_WAIT_MS 10000

/*
 * After a failure report: wait until the daemon's end of the pipe closes,
 * so that a failed start leaves no process behind once the caller exits.
 * The kernel closes it after the daemon's memory is gone.
 */
static void
await_daemon_gone(int rfd)
{
	struct pollfd pfd = {.fd = rfd, .events = POLLIN, .revents = 0};
	char sink[64];
	ssize_t n;
	int r;

	for (;;) {
		r = poll(&pfd, 1, DAEMON_GONE_WAIT_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return; /* not gone in time: the caller exits anyway */
		n = read(rfd, sink, sizeof(sink));
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return;
	}
}

/* The caller's side: wait for the middle child, then for the report. */
static int
await_report(pid_t pid, int rfd, bool eof_is_ready, struct launch_failure *f)
{
	struct launch_failure got;
	int status, err;
	ssize_t n;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	do {
		n = read(rfd, &got, sizeof(got));
	} while (n < 0 && errno == EINTR);
	err = n < 0 ? errno : EIO; /* a short report: EIO */
	if (n > 0 && (n != (ssize_t)sizeof(got) || got.err != 0))
		await_daemon_gone(rfd);
	(void)close(rfd);
	if (n == 0 && eof_is_ready)
		return 0;
	if (n != (ssize_t)sizeof(got))
		return failed(f, LAUNCH_FORK, err);
	if (got.err == 0)
		return 0;
	*f = got;
	return -got.err;
}

/*
 * Double fork, setsid, chdir("/"), stdio to log_fd or /dev/null: in the
 * daemon returns 0 with *report set; in the caller 1 once the daemon said
 * it is ready (or, eof_is_ready, closed the report pipe: an exec), or
 * -errno with *f what the daemon reported.
 */
static int
daemonize(int log_fd, bool eof_is_ready, int *report, struct launch_failure *f)
{
	struct launch_failure fail = {LAUNCH_FORK, 0, 0, false};
	int p[2], r;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return failed(f, LAUNCH_FORK, errno);
	pid = fork();
	if (pid < 0) {
		r = errno;
		(void)close(p[0]);
		(void)close(p[1]);
		return failed(f, LAUNCH_FORK, r);
	}
	if (pid > 0) {
		(void)close(p[1]);
		r = await_report(pid, p[0], eof_is_ready, f);
		return r < 0 ? r : 1;
	}
	(void)close(p[0]);
	if (setsid() < 0) {
		failed(&fail, LAUNCH_SETSID, errno);
		goto report;
	}
	pid = fork();
	if (pid < 0) {
		failed(&fail, LAUNCH_FORK, errno);
		goto report;
	}
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0) {
		failed(&fail, LAUNCH_CHDIR, errno);
		goto report;
	}
	if (daemon_stdio(log_fd) < 0) {
		failed(&fail, LAUNCH_STDIO, errno);
		goto report;
	}
	*report = p[1];
	return 0;
report:
	(void)!write(p[1], &fail, sizeof(fail));
	_exit(1);
}

int
launch_daemon(int log_fd, int *report, struct launch_failure *f)
{
	return daemonize(log_fd, false, report, f);
}

void
launch_daemon_ready(int report, const struct launch_failure *f)
{
	struct launch_failure ok = {LAUNCH_FORK, 0, 0, false};

	(void)!write(report, f != NULL ? f : &ok, sizeof(ok));
	/*
	 * A failure keeps the pipe open: it closes as the daemon exits, which
	 * the caller waits for, so that no process outlives a failed start.
	 */
	if (f == NULL || f->err == 0)
		(void)close(report);
}

int
launch_haproxy(const struct launch_spec *s, struct launch_failure *f)
{
	struct launch_failure fail = {LAUNCH_FORK, 0, 0, false};
	int report = -1, r;

	if (!s->daemonize)
		return final_steps(s, -1, &report, f);
	/* EOF: the exec closed the pipe. A report: the daemon failed. */
	r = daemonize(s->log_fd, true, &report, f);
	if (r != 0)
		return r == 1 ? 0 : r;
	(void)final_steps(s, report, &report, &fail);
	(void)!write(report, &fail, sizeof(fail));
	_exit(1);
}
