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

#include "launch.h"
#include "strbuf.h"

static char tmpdir[64];

static int
setup(void **state)
{
	(void)state;
	memcpy(tmpdir, "/tmp/nmp-launch.XXXXXX", 23);
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	if (STR_CONCAT(cmd, sizeof(cmd), "rm -rf ", tmpdir) < 0)
		return -1;
	return system(cmd) == 0 ? 0 : -1;
}

static void
make_file(const char *name, mode_t mode, char *path, size_t pathsz)
{
	int fd;

	assert_true(STR_CONCAT(path, pathsz, tmpdir, "/", name) > 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	assert_int_equal(close(fd), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void
test_find_system(void **state)
{
	char out[PATH_MAX];

	(void)state;
	/* The setup installs Debian's haproxy in /usr/sbin. */
	assert_int_equal(launch_find_haproxy("", out, sizeof(out)), 0);
	assert_string_equal(out, "/usr/sbin/haproxy");
}

static void
test_find_explicit(void **state)
{
	char out[PATH_MAX], path[PATH_MAX];

	(void)state;
	memcpy(out, "untouched", 10);
	assert_int_equal(
	    launch_find_haproxy("haproxy", out, sizeof(out)), -EINVAL);
	assert_int_equal(
	    launch_find_haproxy("/nonexistent/haproxy", out, sizeof(out)),
	    -ENOENT);
	assert_int_equal(
	    launch_find_haproxy(tmpdir, out, sizeof(out)), -EACCES);
	make_file("noexec", 0644, path, sizeof(path));
	assert_int_equal(launch_find_haproxy(path, out, sizeof(out)), -EACCES);
	make_file("gw", 0775, path, sizeof(path));
	assert_int_equal(launch_find_haproxy(path, out, sizeof(out)), -EPERM);
	make_file("ww", 0757, path, sizeof(path));
	assert_int_equal(launch_find_haproxy(path, out, sizeof(out)), -EPERM);
	assert_string_equal(out, "untouched");
	make_file("good", 0755, path, sizeof(path));
	assert_int_equal(launch_find_haproxy(path, out, sizeof(out)), 0);
	assert_string_equal(out, path);
}

static int
run_sh(const char *script)
{
	char sh[] = "/bin/sh", dash_c[] = "-c";
	char *argv[4];
	char buf[512];
	int status = -1;

	assert_true(STR_CONCAT(buf, sizeof(buf), script) > 0);
	argv[0] = sh;
	argv[1] = dash_c;
	argv[2] = buf;
	argv[3] = NULL;
	assert_int_equal(launch_run_wait(argv, NULL, 0, &status), 0);
	return status;
}

static void
test_run_status(void **state)
{
	int st;

	(void)state;
	st = run_sh("exit 0");
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = run_sh("exit 3");
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 3);
}

static void
test_run_clean_env_and_fds(void **state)
{
	int fd, st;

	(void)state;
	assert_int_equal(setenv("NMP_SECRET", "s3cr3t", 1), 0);
	assert_int_equal(setenv("LD_LIBRARY_PATH", "/tmp/evil", 1), 0);
	st = run_sh("[ -z \"${NMP_SECRET+x}\" ] && "
	            "[ -z \"${LD_LIBRARY_PATH+x}\" ] && "
	            "[ \"$PATH\" = /usr/sbin:/usr/bin:/sbin:/bin ]");
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	unsetenv("NMP_SECRET");
	unsetenv("LD_LIBRARY_PATH");

	/* A descriptor without FD_CLOEXEC still does not reach the child. */
	fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);
	assert_true(dup2(fd, 57) == 57);
	st = run_sh("[ ! -e /proc/self/fd/57 ] && [ -e /proc/self/fd/2 ]");
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(57);
	close(fd);
}

static void
test_run_default_signals(void **state)
{
	sigset_t block, old;
	int st;

	(void)state;
	/* Ignored and blocked here, yet the child dies of SIGTERM. */
	assert_true(signal(SIGTERM, SIG_IGN) != SIG_ERR);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	assert_int_equal(sigprocmask(SIG_BLOCK, &block, &old), 0);
	st = run_sh("kill -TERM $$; exit 0");
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	st = run_sh("kill -USR1 $$; exit 0");
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGUSR1);
	assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
	assert_true(signal(SIGTERM, SIG_DFL) != SIG_ERR);
}

static void
test_hold_signals(void **state)
{
	sigset_t old, now;

	(void)state;
	assert_int_equal(launch_hold_signals(&old), 0);
	sigprocmask(SIG_SETMASK, NULL, &now);
	assert_true(sigismember(&now, SIGINT));
	assert_true(sigismember(&now, SIGTERM));
	assert_true(sigismember(&now, SIGHUP));
	launch_release_signals(&old);
	sigprocmask(SIG_SETMASK, NULL, &now);
	assert_false(sigismember(&now, SIGTERM));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_find_system),
	    cmocka_unit_test(test_find_explicit),
	    cmocka_unit_test(test_run_status),
	    cmocka_unit_test(test_run_clean_env_and_fds),
	    cmocka_unit_test(test_run_default_signals),
	    cmocka_unit_test(test_hold_signals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
