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
	assert_int_equal(pidfile_open(p2, true, &pf), -NMP_EUNSAFE);
	assert_int_equal(chmod(dir, 01777), 0);
	assert_int_equal(pidfile_open(p2, true, &pf), 0);
	pidfile_close(&pf);
	/* A group-writable pidfile is not trusted. */
	assert_int_equal(chmod(p2, 0664), 0);
	assert_int_equal(pidfile_open(p2, false, &pf), -NMP_EUNSAFE);
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

/* Write text as the whole content of p (made 0644 if missing). */
static void
put(const char *p, const char *text)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void
assert_content(const char *p, const char *want)
{
	char buf[64];
	ssize_t n;
	int fd = open(p, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

/* The leading digits of text as a pid (the table's own, known good). */
static pid_t
pid_of_text(const char *text)
{
	long v = 0;

	for (; *text >= '0' && *text <= '9'; text++)
		v = v * 10 + (*text - '0');
	return (pid_t)v;
}

/*
 * The probe by directory descriptor: the same states as by path; a name
 * that is not one component, a symlink, a directory are refused, a
 * missing one is absent; the descriptor given stays the caller's.
 */
static void
test_probe_at(void **state)
{
	char dir[PATH_MAX], link[PATH_MAX];
	struct pidfile pf = PIDFILE_INIT;
	enum proxy_state st;
	pid_t pid, seen = 0;
	int dfd, status;

	(void)state;
	assert_true(STR_CONCAT(dir, sizeof(dir), tmp, "/run/pids") > 0);
	assert_true(STR_CONCAT(link, sizeof(link), dir, "/l.pid") > 0);
	pid = spawn_holder("proxy-" ID, false);
	usleep(200000);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	assert_int_equal(lifecycle_probe_at(dfd, ID ".pid", ID, &st, &seen), 0);
	assert_int_equal(st, PROXY_RUNNING);
	assert_int_equal(seen, pid);
	assert_int_equal(
	    lifecycle_probe_at(dfd, "missing.pid", ID, &st, &seen), 0);
	assert_int_equal(st, PROXY_ABSENT);
	assert_int_equal(seen, 0);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(
	    lifecycle_probe_at(dfd, "l.pid", ID, &st, &seen), -ELOOP);
	assert_int_equal(lifecycle_probe_at(dfd, ".", ID, &st, &seen), -EINVAL);
	assert_int_equal(
	    lifecycle_probe_at(dfd, "a/b", ID, &st, &seen), -EINVAL);
	assert_int_equal(mkdirat(dfd, "d.pid", 0700), 0);
	assert_int_equal(
	    lifecycle_probe_at(dfd, "d.pid", ID, &st, &seen), -EISDIR);
	assert_int_equal(pidfile_open_at(dfd, "missing.pid", &pf), -ENOENT);
	assert_int_equal(pf.dirfd, -1);
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	put(path, "999999999\n");
	assert_int_equal(lifecycle_probe_at(dfd, ID ".pid", ID, &st, &seen), 0);
	assert_int_equal(st, PROXY_STALE);
	assert_int_equal(seen, 999999999);
	assert_int_equal(fcntl(dfd, F_GETFD), FD_CLOEXEC);
	assert_int_equal(unlinkat(dfd, "d.pid", AT_REMOVEDIR), 0);
	close(dfd);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(unlink(path), 0);
}

/* A start never truncates nor a stop removes what is not a pidfile. */
static void
test_not_a_pidfile(void **state)
{
	static const struct {
		const char *text;
		bool pid;
	} cases[] = {
	    {"", true},
	    {"123\n", true},
	    {"123", true}, /* neutron's own daemon writes no newline */
	    {"1\n", true},
	    {"2147483647\n", true},
	    {"2147483648\n", false},
	    {"99999999999\n", false},
	    {"0\n", false},
	    {"-1\n", false},
	    {" 12\n", false},
	    {"12 \n", false},
	    {"12\n\n", false},
	    {"\n", false},
	    {"12\nab", false},
	    {"root:x:0:0:root:/root:/bin/bash\n", false},
	    /* No writer puts a leading zero: data, not pid 123 (nor 83). */
	    {"0123\n", false},
	    {"0123", false},
	    {"00\n", false},
	    {"01\n", false},
	    {"0000000001\n", false},
	    {"1000000000\n", true},
	    {"10\n", true},
	};
	struct pidfile pf = PIDFILE_INIT;
	const char *why = NULL;
	struct stop_result res;
	size_t i;

	(void)state;
	assert_int_equal(pidfile_open(path, true, &pf), 0);
	pidfile_close(&pf);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pid_t pid = 99;

		put(path, cases[i].text);
		assert_int_equal(pidfile_check(path, (uid_t)-1, &why),
		    cases[i].pid ? 0 : -NMP_ENOTPID);
		/* What a start may overwrite is what status reads as a pid. */
		assert_int_equal(pidfile_open(path, false, &pf), 0);
		if (cases[i].pid && cases[i].text[0] != '\0') {
			assert_int_equal(pidfile_read(&pf, &pid), 0);
			assert_int_equal(pid, pid_of_text(cases[i].text));
		} else {
			assert_int_equal(pidfile_read(&pf, &pid), -ENODATA);
			assert_int_equal(pid, 99);
		}
		pidfile_close(&pf);
		assert_int_equal(pidfile_open(path, true, &pf),
		    cases[i].pid ? 0 : -NMP_ENOTPID);
		pidfile_close(&pf);
		if (cases[i].pid)
			continue;
		assert_string_equal(why, "not a pidfile: it holds other data");
		assert_content(path, cases[i].text);
		/* Looking is fine; locking it to write or remove is not. */
		assert_int_equal(pidfile_open(path, false, &pf), 0);
		assert_int_equal(pidfile_write(&pf, 4242), -NMP_ENOTPID);
		assert_int_equal(pidfile_lock(&pf), -NMP_ENOTPID);
		pidfile_close(&pf);
		assert_int_equal(
		    lifecycle_stop(path, ID, 1, &res), -NMP_ENOTPID);
		assert_content(path, cases[i].text);
	}
	/* A stale pidfile is taken over. */
	put(path, "123\n");
	assert_int_equal(pidfile_open(path, true, &pf), 0);
	assert_int_equal(pidfile_lock(&pf), 0);
	assert_int_equal(pidfile_write(&pf, 4242), 0);
	pidfile_close(&pf);
	assert_content(path, "4242\n");
}

/* pidfile_check() without an owner: only the file there. */
static void
test_check(void **state)
{
	const char *why = NULL;
	char p2[PATH_MAX], fifo[PATH_MAX];

	(void)state;
	assert_int_equal(
	    pidfile_check("relative.pid", (uid_t)-1, &why), -EINVAL);
	/* Nothing there: it will be made. */
	(void)unlink(path);
	assert_int_equal(pidfile_check(path, (uid_t)-1, &why), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_true(STR_CONCAT(p2, sizeof(p2), tmp, "/no/such/x.pid") > 0);
	assert_int_equal(pidfile_check(p2, (uid_t)-1, &why), 0);
	/* A FIFO is refused without opening it (which would block). */
	assert_true(STR_CONCAT(fifo, sizeof(fifo), tmp, "/fifo") > 0);
	assert_int_equal(mkfifo(fifo, 0644), 0);
	assert_int_equal(pidfile_check(fifo, (uid_t)-1, &why), -EINVAL);
	assert_string_equal(why, "not a regular file");
	{
		struct pidfile pf = PIDFILE_INIT;

		assert_int_equal(pidfile_open(fifo, true, &pf), -EINVAL);
	}
	assert_true(STR_CONCAT(p2, sizeof(p2), tmp, "/link.pid") > 0);
	assert_int_equal(symlink(fifo, p2), 0);
	assert_int_equal(pidfile_check(p2, (uid_t)-1, &why), -ELOOP);
	assert_string_equal(why, "is a symbolic link");
}

static char *
at(const char *rel)
{
	static char buf[4][PATH_MAX];
	static int next;
	char *b = buf[next++ % 4];

	assert_true(STR_CONCAT(b, PATH_MAX, tmp, rel) > 0);
	return b;
}

/*
 * A pidfile named by a config of another user: that user's directory,
 * or root's inside one of the user's; no symlink; nothing others write.
 * Run last: pidfile_confine() holds for the rest of the process.
 */
static void
test_confined(void **state)
{
	struct pidfile pf = PIDFILE_INIT;
	const char *why = NULL;
	bool root = geteuid() == 0;
	uid_t owner = root ? 65534 : geteuid();

	(void)state;
	/* tmp is ours (root's when root): not the owner's. */
	assert_int_equal(mkdir(at("/o"), 0755), 0);
	assert_int_equal(mkdir(at("/o/pids"), 0755), 0);
	assert_int_equal(mkdir(at("/o/open"), 01777), 0);
	assert_int_equal(chmod(at("/o/open"), 01777), 0);
	assert_int_equal(mkdir(at("/o/rootpids"), 0755), 0);
	assert_int_equal(mkdir(at("/r"), 0755), 0);
	assert_int_equal(symlink(at("/r"), at("/o/ln")), 0);
	assert_int_equal(symlink(at("/o/pids"), at("/o/ln2")), 0);
	if (root) {
		assert_int_equal(chown(at("/o"), owner, (gid_t)-1), 0);
		assert_int_equal(chown(at("/o/pids"), owner, (gid_t)-1), 0);
		assert_int_equal(chown(at("/o/open"), owner, (gid_t)-1), 0);
		assert_int_equal(lchown(at("/o/ln"), owner, (gid_t)-1), 0);
		assert_int_equal(lchown(at("/o/ln2"), owner, (gid_t)-1), 0);
	}
	assert_int_equal(pidfile_check(at("/o/pids/x.pid"), owner, &why), 0);
	put(at("/o/pids/stale.pid"), "123\n");
	assert_int_equal(
	    pidfile_check(at("/o/pids/stale.pid"), owner, &why), 0);
	put(at("/o/pids/data"), "secret\n");
	assert_int_equal(
	    pidfile_check(at("/o/pids/data"), owner, &why), -NMP_ENOTPID);
	assert_int_equal(pidfile_check(at("/o/ln/x.pid"), owner, &why), -ELOOP);
	assert_string_equal(why, "its path goes through a symbolic link");
	assert_int_equal(
	    pidfile_check(at("/o/ln2/x.pid"), owner, &why), -ELOOP);
	assert_int_equal(
	    pidfile_check(at("/o/open/x.pid"), owner, &why), -NMP_EUNSAFE);
	assert_string_equal(
	    why, "its directory is writable by group or others");
	assert_int_equal(
	    pidfile_check(at("/o/none/x.pid"), owner, &why), -ENOENT);
	assert_string_equal(why, "its directory does not exist");
	assert_int_equal(pidfile_check("/x.pid", owner, &why), -NMP_EUNSAFE);
	if (root) {
		/* root's, not below the owner's: never */
		assert_int_equal(
		    pidfile_check(at("/r/x.pid"), owner, &why), -NMP_EUNSAFE);
		/* root's inside the owner's: the owner could replace it */
		assert_int_equal(
		    pidfile_check(at("/o/rootpids/x.pid"), owner, &why), 0);
		/* a second link of a file elsewhere */
		put(at("/r/other.pid"), "4242\n");
		assert_int_equal(
		    link(at("/r/other.pid"), at("/o/pids/l.pid")), 0);
		assert_int_equal(
		    pidfile_check(at("/o/pids/l.pid"), owner, &why),
		    -NMP_EUNSAFE);
		assert_string_equal(why, "it has more than one hard link");
	}
	/* Confined, pidfile_open() keeps to the same rules. */
	pidfile_confine(owner);
	assert_int_equal(pidfile_open(at("/o/ln/x.pid"), true, &pf), -ELOOP);
	assert_int_equal(
	    pidfile_open(at("/o/open/x.pid"), true, &pf), -NMP_EUNSAFE);
	assert_int_equal(pidfile_open(at("/o/none/x.pid"), true, &pf), -ENOENT);
	assert_int_equal(access(at("/o/none"), F_OK), -1);
	if (root) {
		assert_int_equal(
		    pidfile_open(at("/r/x.pid"), true, &pf), -NMP_EUNSAFE);
		assert_int_equal(access(at("/r/x.pid"), F_OK), -1);
		assert_int_equal(
		    pidfile_open(at("/o/pids/l.pid"), true, &pf), -NMP_EUNSAFE);
		assert_content(at("/r/other.pid"), "4242\n");
	}
	assert_int_equal(pidfile_open(at("/o/pids/x.pid"), true, &pf), 0);
	assert_int_equal(pidfile_lock(&pf), 0);
	assert_int_equal(pidfile_write(&pf, 7), 0);
	pidfile_close(&pf);
	assert_content(at("/o/pids/x.pid"), "7\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_creates), cmocka_unit_test(test_refuses),
	    cmocka_unit_test(test_lock_between_descriptions),
	    cmocka_unit_test(test_probe_and_stop),
	    cmocka_unit_test(test_never_signals_a_stranger),
	    cmocka_unit_test(test_stop_escalates),
	    cmocka_unit_test(test_not_a_pidfile), cmocka_unit_test(test_check),
	    cmocka_unit_test(test_probe_at),
	    cmocka_unit_test(test_confined), /* last: it confines */
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
