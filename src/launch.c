#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch.h"
#include "strbuf.h"
#include "banned.h"

const char *const launch_haproxy_dirs[] = {
    "/usr/sbin",
    "/usr/local/sbin",
    "/usr/bin",
    "/usr/local/bin",
    "/sbin",
    NULL,
};

static char env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";

char *const launch_clean_env[] = {
    env_path,
    NULL,
};

static int
check_binary(const char *path)
{
	struct stat st;

	/* The binary may be reached through a symlink; the target counts. */
	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || (st.st_mode & S_IXUSR) == 0)
		return -EACCES;
	if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return -EPERM;
	return 0;
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
	for (i = 0; launch_haproxy_dirs[i] != NULL; i++) {
		n = STR_CONCAT(
		    path, sizeof(path), launch_haproxy_dirs[i], "/haproxy");
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

/* Between fork and exec: async-signal-safe calls only. */
static void
child_exec(char *const argv[], const sigset_t *mask)
{
	struct sigaction sa;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	(void)sigprocmask(SIG_SETMASK, mask, NULL);
	if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
		_exit(126);
	/* Every descriptor above stderr is closed; most are CLOEXEC anyway. */
	if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0) {
		int fd;

		for (fd = 3; fd < 1024; fd++)
			(void)close(fd);
	}
	execve(argv[0], argv, launch_clean_env);
	_exit(errno == ENOENT ? 127 : 126);
}

int
launch_run_wait(char *const argv[], int *status_out)
{
	sigset_t empty;
	pid_t pid, w;
	int status = 0;

	sigemptyset(&empty);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		child_exec(argv, &empty);
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
