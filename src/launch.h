/*
 * Finding and starting haproxy safely: by absolute, trusted path, with an
 * argument vector, a minimal environment, default signal handling and no
 * inherited descriptor but 0-2.
 */
#ifndef NMP_LAUNCH_H
#define NMP_LAUNCH_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/*
 * Locate haproxy: explicit (an absolute path, or "" to search
 * md_haproxy_dirs of metadata.h, never PATH). The file must be a regular file,
 * executable, owned by root or the effective uid, and not writable by group
 * or others. Errors: -ENOENT nothing found, -EACCES not a regular
 * executable file, -EPERM unsafe owner or mode. The path goes to out.
 */
int launch_find_haproxy(const char *explicit_path, char *out, size_t outsz);

/*
 * A program root may run: a regular executable file of root or ours that
 * neither group nor others may write. 0, -EACCES or -EPERM.
 */
int launch_trusted_binary(const struct stat *st);

/*
 * The descriptors haproxy starts with: 0-2, the pidfile lock, and the
 * listeners we bound, which its config names as bind fd@N from
 * LAUNCH_LISTEN_FD on. Nothing else crosses the exec.
 */
#define LAUNCH_LOCK_FD 3
#define LAUNCH_LISTEN_FD 5
#define LAUNCH_LISTEN_MAX 2
/* Where a foreground start carries its log file and pidfile directory. */
#define LAUNCH_CARRY_LOG_FD 7
#define LAUNCH_CARRY_DIR_FD 8

/* The environment every exec gets. */
extern char *const launch_clean_env[];

/*
 * Run argv[0] (an absolute path) with argv and launch_clean_env, stdout
 * sent to our stderr, every signal at its default and unblocked, the nfds
 * descriptors of fds at LAUNCH_LISTEN_FD on and no other above 2, and wait
 * for it. *status_out gets the raw wait status. Returns 0 or -errno.
 */
int launch_run_wait(
    char *const argv[], const int *fds, int nfds, int *status_out);

/*
 * Hold SIGINT, SIGTERM and SIGHUP back while temporary files exist; a held
 * signal acts when launch_release_signals() restores the old mask.
 */
int launch_hold_signals(sigset_t *old);
void launch_release_signals(const sigset_t *old);

struct pidfile;

/* Where a start failed, for the message of the caller. */
enum launch_stage {
	LAUNCH_FORK,
	LAUNCH_SETSID,
	LAUNCH_STDIO,
	LAUNCH_NETNS_OPEN,
	LAUNCH_NETNS_ENTER,
	LAUNCH_PIDFILE,
	LAUNCH_EXEC,
	LAUNCH_BIND,       /* the built-in engine's listeners */
	LAUNCH_PRIVILEGES, /* dropping to the proxy user and group */
	LAUNCH_ENGINE,     /* setting up the built-in engine */
	LAUNCH_NETNS_TYPE, /* the namespace path is no network namespace */
	LAUNCH_CHDIR,      /* changing to the root directory */
};

struct launch_failure {
	int stage;  /* enum launch_stage */
	int err;    /* positive errno */
	int which;  /* LAUNCH_BIND: the listener, 0 first, 1 the IPv6 one */
	bool moved; /* launch_haproxy() in the foreground: see there */
};

struct launch_spec {
	const char *haproxy;     /* absolute path, from launch_find_haproxy() */
	const char *config;      /* absolute path of the config */
	struct pidfile *pidfile; /* locked; its fd crosses the exec */
	int listen_fds[LAUNCH_LISTEN_MAX]; /* bound and listening */
	int nlisten;
	bool daemonize;
	int log_fd; /* a daemon's stdout and stderr; -1: /dev/null */
};

/*
 * Start haproxy -f config in the current network namespace, in "/" (haproxy
 * resolves relative paths against its working directory): write our pid
 * to the pidfile, reset signals, put the pidfile lock at LAUNCH_LOCK_FD
 * and the listeners from LAUNCH_LISTEN_FD on (without FD_CLOEXEC), close
 * every other descriptor but 0-2, exec with launch_clean_env. In the
 * foreground this process becomes haproxy and the call returns only on
 * failure. With daemonize it double-forks, and returns 0 in the caller
 * once the daemon has exec'd, or the daemon's failure: the listeners
 * accept (into their backlog) from before the call, so a client may
 * connect as soon as it returns. Failures: -errno with *f saying where.
 * The caller keeps its copies of the listeners and closes them. A
 * foreground failure with f->moved set has rearranged the descriptors:
 * the pidfile (lock) is at LAUNCH_LOCK_FD, the listeners from
 * LAUNCH_LISTEN_FD, the log file (s->log_fd) at LAUNCH_CARRY_LOG_FD, the
 * pidfile's directory at LAUNCH_CARRY_DIR_FD, and nothing else is open
 * above 2; the pidfile is emptied on any failure after it was written.
 */
int launch_haproxy(const struct launch_spec *s, struct launch_failure *f);

/*
 * Become a daemon that goes on in this program (the built-in engine):
 * double fork, setsid, chdir("/"), stdio to log_fd or /dev/null. In the
 * daemon returns 0 with *report set, to be handed to launch_daemon_ready();
 * in the caller returns 1 once the daemon said it is ready, or -errno with
 * *f set to what the daemon reported.
 */
int launch_daemon(int log_fd, int *report, struct launch_failure *f);

/*
 * Tell the waiting caller: ready (f == NULL; closes report) or failed
 * (report stays open until this process exits, which the caller awaits).
 */
void launch_daemon_ready(int report, const struct launch_failure *f);

/*
 * Enter the network namespace at path (setns); -errno, *f set. The path is
 * opened without blocking (a FIFO planted there must not hang us) and must
 * be a network namespace: anything else fails at LAUNCH_NETNS_TYPE with
 * -EINVAL, before setns.
 */
int launch_enter_netns(const char *path, struct launch_failure *f);

/* "entering network namespace" and so on, for messages. */
const char *launch_stage_name(int stage);

#endif
