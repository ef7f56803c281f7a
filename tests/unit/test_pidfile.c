#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lifecycle.h"
#include "pidfile.h"
#include "safefile.h"
#include "strbuf.h"

#define ID "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"

static char tmp[64];
static char path[PATH_MAX];

static int
setup(void **state)
{
	(void)state;
	memcpy(tmp, "/tmp/nmp-pidfile.XXXXXX", 24);
	if (mkdtemp(tmp) == NULL)
		return -1;
	return STR_CONCAT(path, sizeof(path), tmp, "/run/pids/" ID ".pid") < 0
	           ? -1
	           : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	if (STR_CONCAT(cmd, sizeof(cmd), "rm -rf ", tmp) < 0)
		return -1;
	return system(cmd) == 0 ? 0 : -1;
}

static mode_t
mode_of(const char *p)
{
	struct stat st;

	assert_int_equal(lstat(p, &st), 0);
	return st.st_mode & 07777;
}

static void
test_open_creates(void **state)
{
	struct pidfile pf = PIDFILE_INIT;
	char dir[PATH_MAX];
	pid_t pid = 0;

	(void)state;
	umask(0);
	assert_int_equal(pidfile_open(path, false, &pf), -ENOENT);
	assert_int_equal(pidfile_open(path, true, &pf), 0);
	assert_int_equal(mode_of(path), 0644);
	assert_true(STR_CONCAT(dir, sizeof(dir), tmp, "/run/pids") > 0);
	assert_int_equal(mode_of(dir), 0755);
	assert_int_equal(pidfile_read(&pf, &pid), -ENODATA);
	assert_int_equal(pidfile_write(&pf, 4242), 0);
	assert_int_equal(pidfile_read(&pf, &pid), 0);
	assert_int_equal(pid, 4242);
	assert_int_equal(pidfile_write(&pf, 7), 0);
	assert_int_equal(pidfile_read(&pf, &pid), 0);
	assert_int_equal(pid, 7);
	assert_int_equal(pidfile_clear(&pf), 0);
	assert_int_equal(pidfile_read(&pf, &pid), -ENODATA);
	pidfile_close(&pf);
	pidfile_close(&pf);
	umask(077);
}

static void
test_refuses(void **state)
{
	struct pidfile pf = PIDFILE_INIT;
	char target[PATH_MAX], dir[PATH_MAX], p2[PATH_MAX];
	int fd;

	(void)state;
	assert_int_equal(pidfile_open("relative.pid", true, &pf), -EINVAL);
	/* A symlink at the pidfile is never followed. */
	assert_true(STR_CONCAT(target, sizeof(target), tmp, "/target") > 0);
	fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_true(STR_CONCAT(dir, sizeof(dir), tmp, "/ln") > 0);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_true(STR_CONCAT(p2, sizeof(p2), dir, "/x.pid") > 0);
	assert_int_equal(symlink(target, p2), 0);
	assert_int_equal(pidfile_open(p2, true, &pf), -ELOOP);
	assert_int_equal(pf.fd, -1);
	/* A world-writable directory without the sticky bit is refused. */
	assert_int_equal(unlink(p2), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(pidfile_open(p2, true, &pf), -SAFEFILE_EUNSAFE);
	assert_int_equal(chmod(dir, 01777), 0);
	assert_int_equal(pidfile_open(p2, true, &pf), 0);
	pidfile_close(&pf);
	/* A group-writable pidfile is not trusted. */
	assert_int_equal(chmod(p2, 0664), 0);
	assert_int_equal(pidfile_open(p2, false, &pf), -SAFEFILE_EUNSAFE);
	/* Junk in the file is no pid. */
	assert_int_equal(chmod(p2, 0644), 0);
	fd = open(p2, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "12ab\n", 5), 5);
	close(fd);
	assert_int_equal(pidfile_open(p2, false, &pf), 0);
	{
		pid_t pid = 99;

		assert_int_equal(pidfile_read(&pf, &pid), -ENODATA);
		assert_int_equal(pid, 99);
	}
	pidfile_close(&pf);
}

static void
test_lock_between_descriptions(void **state)
{
	struct pidfile a = PIDFILE_INIT, b = PIDFILE_INIT;

	(void)state;
	assert_int_equal(pidfile_open(path, true, &a), 0);
	assert_int_equal(pidfile_open(path, true, &b), 0);
	assert_int_equal(pidfile_locked(&b), 0);
	assert_int_equal(pidfile_lock(&a), 0);
	/* Seen from another open file description, not taken by looking. */
	assert_int_equal(pidfile_locked(&b), 1);
	assert_int_equal(pidfile_locked(&b), 1);
	assert_int_equal(pidfile_lock(&b), -EAGAIN);
	pidfile_close(&a);
	assert_int_equal(pidfile_locked(&b), 0);
	assert_int_equal(pidfile_lock(&b), 0);
	assert_int_equal(pidfile_unlink(&b), 0);
	assert_int_equal(access(path, F_OK), -1);
	pidfile_close(&b);
}

/*
 * A child that writes its pid, holds the lock through an inherited
 * descriptor and runs sleep under the name argv0, so its command line
 * carries argv0; deaf: it ignores SIGTERM.
 */
static pid_t
spawn_holder(const char *argv0, bool deaf)
{
	struct pidfile pf = PIDFILE_INIT;
	pid_t pid;

	assert_int_equal(pidfile_open(path, true, &pf), 0);
	assert_int_equal(pidfile_lock(&pf), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		(void)pidfile_write(&pf, getpid());
		(void)fcntl(pf.fd, F_SETFD, 0);
		if (deaf)
			(void)signal(SIGTERM, SIG_IGN);
		execl("/bin/sleep", argv0, "30", (char *)NULL);
		_exit(127);
	}
	pidfile_close(&pf);
	return pid;
}

static void
test_probe_and_stop(void **state)
{
	struct stop_result res;
	enum proxy_state st;
	pid_t pid, seen = 0;
	int status;

	(void)state;
	assert_int_equal(lifecycle_probe(path, ID, &st, &seen), 0);
	assert_int_equal(st, PROXY_ABSENT);
	pid = spawn_holder("proxy-" ID, false);
	usleep(200000);
	assert_int_equal(lifecycle_probe(path, ID, &st, &seen), 0);
	assert_int_equal(st, PROXY_RUNNING);
	assert_int_equal(seen, pid);
	assert_int_equal(lifecycle_stop(path, ID, 5, &res), 0);
	assert_int_equal(res.pid, pid);
	assert_false(res.killed);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(lifecycle_probe(path, ID, &st, &seen), 0);
	assert_int_equal(st, PROXY_ABSENT);
	/* Stopping what is not running succeeds. */
	assert_int_equal(lifecycle_stop(path, ID, 5, &res), 0);
	assert_int_equal(res.pid, 0);
}

static void
test_never_signals_a_stranger(void **state)
{
	struct pidfile pf = PIDFILE_INIT;
	struct stop_result res;
	enum proxy_state st;
	pid_t pid, seen = 0;
	int status;

	(void)state;
	/* The lock holder's command line lacks the id: not ours to kill. */
	pid = spawn_holder("someone-else", false);
	usleep(200000);
	assert_int_equal(lifecycle_probe(path, ID, &st, &seen), 0);
	assert_int_equal(st, PROXY_UNKNOWN);
	assert_int_equal(lifecycle_stop(path, ID, 1, &res), -ESTALE);
	assert_int_equal(waitpid(pid, &status, WNOHANG), 0); /* alive */
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);

	/* A stale file naming a live process: nothing is signalled. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl("/bin/sleep", "x-" ID, "30", (char *)NULL);
		_exit(127);
	}
	assert_int_equal(pidfile_open(path, true, &pf), 0);
	assert_int_equal(pidfile_write(&pf, pid), 0);
	pidfile_close(&pf);
	assert_int_equal(lifecycle_probe(path, ID, &st, &seen), 0);
	assert_int_equal(st, PROXY_STALE);
	assert_int_equal(seen, pid);
	assert_int_equal(lifecycle_stop(path, ID, 1, &res), 0);
	assert_int_equal(res.pid, 0);
	assert_int_equal(waitpid(pid, &status, WNOHANG), 0); /* alive */
	assert_int_equal(access(path, F_OK), -1);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

static void
test_stop_escalates(void **state)
{
	struct stop_result res;
	pid_t pid;
	int status;

	(void)state;
	pid = spawn_holder("proxy-" ID, true);
	usleep(200000);
	assert_int_equal(lifecycle_stop(path, ID, 1, &res), 0);
	assert_true(res.killed);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_creates),
	    cmocka_unit_test(test_refuses),
	    cmocka_unit_test(test_lock_between_descriptions),
	    cmocka_unit_test(test_probe_and_stop),
	    cmocka_unit_test(test_never_signals_a_stranger),
	    cmocka_unit_test(test_stop_escalates),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
