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
#include "pidfile.h"
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

/* launch_enter_netns(path): the stage and errno of its failure. */
static void
expect_netns_refused(const char *path, int stage, int err)
{
	struct launch_failure f = {-1, 0, 0, false};

	assert_int_equal(launch_enter_netns(path, &f), -err);
	assert_int_equal(f.stage, stage);
	assert_int_equal(f.err, err);
}

/*
 * What sits at the path must be a network namespace, and finding out must
 * not block: a FIFO waits for a writer forever in a blocking open (the
 * alarm turns that hang into a failure).
 */
static void
test_enter_netns_not_netns(void **state)
{
	char fifo[PATH_MAX], file[PATH_MAX];
	struct launch_failure f = {-1, 0, 0, false};
	int r;

	(void)state;
	assert_true(STR_CONCAT(fifo, sizeof(fifo), tmpdir, "/fifo") > 0);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	make_file("plain", 0644, file, sizeof(file));
	assert_true(signal(SIGALRM, SIG_DFL) != SIG_ERR);
	alarm(10);
	expect_netns_refused(fifo, LAUNCH_NETNS_TYPE, EINVAL);
	alarm(0);
	expect_netns_refused(file, LAUNCH_NETNS_TYPE, EINVAL);
	expect_netns_refused(tmpdir, LAUNCH_NETNS_TYPE, EINVAL);
	expect_netns_refused("/dev/null", LAUNCH_NETNS_TYPE, EINVAL);
	/* A namespace, but not a network one: nsfs, the ioctl says so. */
	expect_netns_refused("/proc/self/ns/uts", LAUNCH_NETNS_TYPE, EINVAL);
	expect_netns_refused("/proc/self/ns/mnt", LAUNCH_NETNS_TYPE, EINVAL);
	expect_netns_refused("/nonexistent/netns", LAUNCH_NETNS_OPEN, ENOENT);
	/* Our own network namespace passes the check (setns needs root). */
	r = launch_enter_netns("/proc/self/ns/net", &f);
	if (geteuid() == 0) {
		assert_int_equal(r, 0);
	} else {
		assert_int_equal(r, -EPERM);
		assert_int_equal(f.stage, LAUNCH_NETNS_ENTER);
	}
	assert_string_equal(launch_stage_name(LAUNCH_NETNS_TYPE),
	    "checking the network namespace");
	assert_string_equal(
	    launch_stage_name(LAUNCH_CHDIR), "changing to the root directory");
}

/*
 * Is pid gone: no such process, or one past the point of exiting where its
 * memory is released (an empty command line: a zombie, or just before)?
 */
static bool
process_gone(pid_t pid)
{
	char path[64], buf[64];
	ssize_t n;
	int fd;

	assert_true(
	    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid) > 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	n = read(fd, buf, sizeof(buf));
	(void)close(fd);
	return n <= 0;
}

/*
 * In the daemon: send our pid on pids, report (ready, or failure err),
 * then linger: after a failure 300 ms, after ready until the caller
 * closes the other end of hold (or 5 s).
 */
static void
daemon_side(int report, int pids, int hold, int err)
{
	struct launch_failure f = {LAUNCH_PIDFILE, err, 0, false};
	pid_t me = getpid();
	char c;

	(void)!write(pids, &me, sizeof(me));
	launch_daemon_ready(report, err != 0 ? &f : NULL);
	if (err != 0) {
		(void)usleep(300 * 1000);
		_exit(1);
	}
	alarm(5);
	(void)!read(hold, &c, 1);
	_exit(0);
}

/*
 * A failed daemonized start returns only once the daemon is gone (else a
 * caller that retries at once races the old process); a good one returns
 * as soon as the daemon says it is ready, and the daemon stays.
 */
static void
test_daemon_report(void **state)
{
	static const int errs[] = {EACCES, 0};
	struct launch_failure f = {-1, 0, 0, false};
	int pids[2], hold[2], report = -1, r;
	pid_t daemon_pid = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		assert_int_equal(pipe2(pids, O_CLOEXEC), 0);
		assert_int_equal(pipe2(hold, O_CLOEXEC), 0);
		r = launch_daemon(-1, &report, &f);
		if (r == 0) {
			(void)close(pids[0]);
			(void)close(hold[1]);
			daemon_side(report, pids[1], hold[0], errs[i]);
		}
		(void)close(pids[1]);
		(void)close(hold[0]);
		assert_int_equal(read(pids[0], &daemon_pid, sizeof(daemon_pid)),
		    sizeof(daemon_pid));
		if (errs[i] != 0) {
			assert_int_equal(r, -errs[i]);
			assert_int_equal(f.stage, LAUNCH_PIDFILE);
			assert_true(process_gone(daemon_pid));
		} else {
			assert_int_equal(r, 1);
			assert_false(process_gone(daemon_pid));
		}
		(void)close(hold[1]);
		(void)close(pids[0]);
	}
}

/*
 * A foreground launch_haproxy() becomes haproxy in "/", whatever the
 * caller's working directory: a stand-in records its own.
 */
static void
test_haproxy_cwd(void **state)
{
	char script[PATH_MAX], out[PATH_MAX], pidpath[PATH_MAX];
	char sub[PATH_MAX], text[PATH_MAX + 64], got[64];
	struct launch_failure f = {-1, 0, 0, false};
	struct pidfile pf = PIDFILE_INIT;
	struct launch_spec spec;
	int fd, st;
	ssize_t n;
	pid_t pid;

	(void)state;
	assert_true(STR_CONCAT(out, sizeof(out), tmpdir, "/cwd.out") > 0);
	assert_true(STR_CONCAT(pidpath, sizeof(pidpath), tmpdir, "/p.pid") > 0);
	assert_true(STR_CONCAT(sub, sizeof(sub), tmpdir, "/sub") > 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_true(STR_CONCAT(text, sizeof(text), "#!/bin/sh\npwd -P >", out,
	                "\n") > 0);
	assert_true(STR_CONCAT(script, sizeof(script), tmpdir, "/fake") > 0);
	fd = open(script, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (chdir(sub) < 0 || pidfile_open(pidpath, true, &pf) < 0 ||
		    pidfile_lock(&pf) < 0)
			_exit(2);
		memset(&spec, 0, sizeof(spec));
		spec.haproxy = script;
		spec.config = "/nonexistent.conf";
		spec.pidfile = &pf;
		spec.log_fd = -1;
		(void)launch_haproxy(&spec, &f);
		_exit(3); /* the exec failed */
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	fd = open(out, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, got, sizeof(got) - 1);
	assert_true(n >= 0);
	got[n] = '\0';
	(void)close(fd);
	assert_string_equal(got, "/\n");
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
	    cmocka_unit_test(test_enter_netns_not_netns),
	    cmocka_unit_test(test_daemon_report),
	    cmocka_unit_test(test_haproxy_cwd),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
