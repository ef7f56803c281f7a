#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "safefile.h"
#include "strbuf.h"

#define ID "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"

static char dir[64], path[128];

static int
setup(void **state)
{
	(void)state;
	memcpy(dir, "/tmp/nmp-log.XXXXXX", 20);
	if (mkdtemp(dir) == NULL)
		return -1;
	return STR_CONCAT(path, sizeof(path), dir, "/proxy.log") < 0 ? -1 : 0;
}

static int
teardown(void **state)
{
	char err[160];

	(void)state;
	log_close();
	unlink(path);
	if (STR_CONCAT(err, sizeof(err), dir, "/stderr") > 0)
		unlink(err);
	return rmdir(dir);
}

static size_t
slurp(char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, size - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return (size_t)n;
}

/*
 * syslog(3) recorded: the build links this test with
 * --wrap=syslog,__syslog_chk (_FORTIFY_SOURCE turns syslog() into the
 * latter).
 */
static struct {
	int prio;
	char msg[1200];
} syslogged[8];
static size_t nsyslogged;

void __wrap_syslog(int prio, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void __wrap___syslog_chk(int prio, int flag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
record_syslog(int prio, const char *msg)
{
	if (nsyslogged >= sizeof(syslogged) / sizeof(syslogged[0]))
		return;
	syslogged[nsyslogged].prio = prio;
	assert_true(STR_CONCAT(syslogged[nsyslogged].msg,
	                sizeof(syslogged[nsyslogged].msg), msg) >= 0);
	nsyslogged++;
}

void
__wrap_syslog(int prio, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	record_syslog(prio, n < 0 ? "" : msg);
}

void
__wrap___syslog_chk(int prio, int flag, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	int n;

	(void)flag;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	record_syslog(prio, n < 0 ? "" : msg);
}

/* One file line, parsed: oslo.log's default shape or the test fails. */
struct fline {
	time_t when;
	long pid;
	char level[8];
	char logger[32];
	char rest[1200]; /* after "[-] " */
};

static struct fline lines[32];

/*
 * "2026-12-06 00:16:15.123 4242 INFO ns_metadata_proxy [-] [<id>] msg":
 * local time with milliseconds, pid, level, logger, no request context.
 */
static const char oslo_re[] =
    "^([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2})\\.[0-9]{3} "
    "([1-9][0-9]*) (DEBUG|INFO|WARNING|ERROR) "
    "(ns_metadata_proxy|ns_metadata_proxy\\.access) \\[-\\] (.*)$";

static void
copy_match(char *out, size_t size, const char *line, const regmatch_t *m)
{
	size_t n = (size_t)(m->rm_eo - m->rm_so);

	assert_true(m->rm_so >= 0 && n < size);
	memcpy(out, line + m->rm_so, n);
	out[n] = '\0';
}

/* The log file's lines into lines[]; every one must be whole and match. */
static size_t
read_lines(void)
{
	static char buf[32768];
	char stamp[32], pid[24], *line, *nl;
	regmatch_t m[6];
	struct tm tm;
	regex_t re;
	size_t n = 0, len;
	char *end;

	assert_int_equal(regcomp(&re, oslo_re, REG_EXTENDED), 0);
	len = slurp(buf, sizeof(buf));
	assert_true(len < sizeof(buf) - 1);
	/* Every line ends with its newline: none was cut off it. */
	assert_true(len == 0 || buf[len - 1] == '\n');
	for (line = buf; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		assert_non_null(nl);
		*nl = '\0';
		assert_true(n < sizeof(lines) / sizeof(lines[0]));
		if (regexec(&re, line, 6, m, 0) != 0)
			fail_msg("not in oslo.log's shape: '%s'", line);
		copy_match(stamp, sizeof(stamp), line, &m[1]);
		copy_match(pid, sizeof(pid), line, &m[2]);
		copy_match(lines[n].level, sizeof(lines[n].level), line, &m[3]);
		copy_match(
		    lines[n].logger, sizeof(lines[n].logger), line, &m[4]);
		copy_match(lines[n].rest, sizeof(lines[n].rest), line, &m[5]);
		memset(&tm, 0, sizeof(tm));
		end = strptime(stamp, "%Y-%m-%d %H:%M:%S", &tm);
		assert_true(end != NULL && *end == '\0');
		tm.tm_isdst = -1;
		lines[n].when = mktime(&tm);
		errno = 0;
		lines[n].pid = strtol(pid, &end, 10);
		assert_true(errno == 0 && *end == '\0');
		n++;
	}
	regfree(&re);
	return n;
}

static void
assert_line(size_t i, const char *level, const char *logger, const char *rest)
{
	assert_string_equal(lines[i].level, level);
	assert_string_equal(lines[i].logger, logger);
	assert_string_equal(lines[i].rest, rest);
}

/* A log file of its own for a test, nothing in it yet. */
static void
fresh_file(void)
{
	log_close();
	(void)unlink(path);
	assert_int_equal(log_to_file(path), 0);
}

/*
 * stderr and syslog keep their shapes; an access line goes to syslog bare,
 * to stderr only with debug, and nowhere at all when nothing takes it.
 * First of the tests: the others quiet stderr for good.
 */
static void
test_stderr_and_syslog_lines(void **state)
{
	static const char want[] =
	    "ns-metadata-proxy[" ID "]: warning: careful\n"
	    "ns-metadata-proxy[" ID "]: no space\n"
	    "ns-metadata-proxy[" ID "]: info: 10.0.0.5 \"GET /b\" 200 3 1ms\n"
	    "ns-metadata-proxy[" ID "]: info: starting\n"
	    "ns-metadata-proxy[" ID "]: info: {\"status\":200}\n";
	char err[160], buf[1024];
	int saved, fd;
	ssize_t n;

	(void)state;
	assert_true(STR_CONCAT(err, sizeof(err), dir, "/stderr") > 0);
	fd = open(err, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	close(fd);

	log_init("ns-metadata-proxy");
	log_set_id(ID);
	log_set_debug(false);
	nsyslogged = 0;
	/* No file, no syslog, no debug: an access line goes nowhere. */
	errno = EAGAIN;
	log_access("10.0.0.5 \"GET /a\" 200 3 1ms");
	assert_int_equal(errno, EAGAIN);
	log_warn("careful");
	log_err("no space");
	log_set_debug(true);
	log_access("10.0.0.5 \"GET /b\" 200 3 1ms");
	log_to_syslog("local0");
	log_info("starting");
	log_access("{\"status\":200}");
	log_set_debug(false);
	/* Syslog only: it still takes the access line, stderr does not. */
	log_access("10.0.0.5 \"GET /c\" 200 3 1ms");
	log_close();

	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	fd = open(err, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	unlink(err);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
	/* "[<id>] msg" for the others; the access line bare (haproxy's). */
	assert_int_equal(nsyslogged, 3);
	assert_int_equal(syslogged[0].prio, LOG_INFO);
	assert_string_equal(syslogged[0].msg, "[" ID "] starting");
	assert_int_equal(syslogged[1].prio, LOG_INFO);
	assert_string_equal(syslogged[1].msg, "{\"status\":200}");
	assert_int_equal(syslogged[2].prio, LOG_INFO);
	assert_string_equal(syslogged[2].msg, "10.0.0.5 \"GET /c\" 200 3 1ms");
}

/*
 * File lines in oslo.log's default shape, in local time (a zone 5:30
 * east of UTC here, so UTC would be found out), with this process's pid;
 * "[<id>] " only once there is an id, and never on access lines.
 */
static void
test_file_lines_in_oslo_shape(void **state)
{
	const char *tz = getenv("TZ");
	char saved_tz[64] = "";
	struct stat st;
	time_t t0, t1;
	size_t i;

	(void)state;
	if (tz != NULL)
		assert_true(STR_CONCAT(saved_tz, sizeof(saved_tz), tz) >= 0);
	assert_int_equal(setenv("TZ", "NMP-05:30", 1), 0);
	tzset();
	log_init("ns-metadata-proxy");
	log_quiet_stderr();
	log_set_id("");
	umask(022);
	(void)unlink(path);
	assert_int_equal(log_to_file(path), 0);
	assert_true(log_file_fd() > 2);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	umask(077);

	t0 = time(NULL);
	log_info("before the id");
	log_access("10.0.0.4 \"GET /\" 200 1 0ms");
	log_set_id(ID);
	errno = ENOSPC;
	log_err("cannot write config '%s': %s", "/x", "No space left");
	/* Logging preserves errno. */
	assert_int_equal(errno, ENOSPC);
	log_warn("careful");
	log_info("starting");
	log_set_debug(false);
	log_debug("hidden");
	log_set_debug(true);
	log_debug("shown");
	log_set_debug(false);
	log_access("10.0.0.5 \"GET /latest/meta-data/\" 200 347 1ms");
	errno = EINTR;
	log_access("{\"network_id\":\"" ID "\",\"status\":200}");
	assert_int_equal(errno, EINTR);
	t1 = time(NULL);

	assert_int_equal(read_lines(), 8);
	assert_line(0, "INFO", "ns_metadata_proxy", "before the id");
	assert_line(1, "INFO", "ns_metadata_proxy.access",
	    "10.0.0.4 \"GET /\" 200 1 0ms");
	assert_line(2, "ERROR", "ns_metadata_proxy",
	    "[" ID "] cannot write config '/x': No space left");
	assert_line(3, "WARNING", "ns_metadata_proxy", "[" ID "] careful");
	assert_line(4, "INFO", "ns_metadata_proxy", "[" ID "] starting");
	assert_line(5, "DEBUG", "ns_metadata_proxy", "[" ID "] shown");
	assert_line(6, "INFO", "ns_metadata_proxy.access",
	    "10.0.0.5 \"GET /latest/meta-data/\" 200 347 1ms");
	assert_line(7, "INFO", "ns_metadata_proxy.access",
	    "{\"network_id\":\"" ID "\",\"status\":200}");
	for (i = 0; i < 8; i++) {
		assert_int_equal(lines[i].pid, (long)getpid());
		assert_true(lines[i].when >= t0 - 1 && lines[i].when <= t1 + 1);
	}

	if (saved_tz[0] != '\0')
		assert_int_equal(setenv("TZ", saved_tz, 1), 0);
	else
		assert_int_equal(unsetenv("TZ"), 0);
	tzset();
}

/* Daemons fork: a line carries the pid of the process that wrote it. */
static void
test_file_pid_is_the_writers(void **state)
{
	pid_t child;
	int status;

	(void)state;
	fresh_file();
	log_set_id(ID);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		log_info("in the child");
		_exit(0);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	log_info("in the parent");
	assert_int_equal(read_lines(), 2);
	assert_line(0, "INFO", "ns_metadata_proxy", "[" ID "] in the child");
	assert_int_equal(lines[0].pid, (long)child);
	assert_line(1, "INFO", "ns_metadata_proxy", "[" ID "] in the parent");
	assert_int_equal(lines[1].pid, (long)getpid());
}

static int wakes;

static void
wake(void *arg)
{
	assert_ptr_equal(arg, &wakes);
	wakes++;
}

/*
 * Access lines gathered for one write: the caller is woken at the first
 * of a batch; any other line, and log_flush(), write them out first, in
 * their order; without a waker each line is written at once.
 */
static void
test_access_batch(void **state)
{
	char buf[256];

	(void)state;
	fresh_file();
	log_set_id(ID);
	wakes = 0;
	log_access_batch(wake, &wakes);
	log_access("one");
	log_access("two");
	assert_int_equal(wakes, 1);
	assert_int_equal(slurp(buf, sizeof(buf)), 0);
	log_info("between");
	assert_int_equal(read_lines(), 3);
	assert_line(0, "INFO", "ns_metadata_proxy.access", "one");
	assert_line(1, "INFO", "ns_metadata_proxy.access", "two");
	assert_line(2, "INFO", "ns_metadata_proxy", "[" ID "] between");
	log_access("three");
	assert_int_equal(wakes, 2);
	assert_int_equal(read_lines(), 3);
	log_flush();
	assert_int_equal(read_lines(), 4);
	assert_line(3, "INFO", "ns_metadata_proxy.access", "three");
	log_access("four");
	log_access_batch(NULL, NULL); /* writes what it holds */
	assert_int_equal(read_lines(), 5);
	log_access("five");
	assert_int_equal(wakes, 3);
	assert_int_equal(read_lines(), 6);
	assert_line(5, "INFO", "ns_metadata_proxy.access", "five");
}

/* A line too long is cut at 1023 bytes, an access line at a line break
 * too: one line each, newline kept. */
static void
test_long_lines_are_cut(void **state)
{
	static char big[2001], want[1100];

	(void)state;
	fresh_file();
	log_set_id(ID);
	memset(big, 'a', sizeof(big) - 1);
	log_warn("%s", big);
	memset(big, 'b', sizeof(big) - 1);
	log_access(big);
	log_access("one\ntwo");
	log_access("three\r\nfour");
	log_access("");
	assert_int_equal(read_lines(), 5);
	memcpy(want, "[" ID "] ", sizeof(ID) + 2);
	memset(want + sizeof(ID) + 2, 'a', 1023);
	want[sizeof(ID) + 2 + 1023] = '\0';
	assert_line(0, "WARNING", "ns_metadata_proxy", want);
	memset(want, 'b', 1023);
	want[1023] = '\0';
	assert_line(1, "INFO", "ns_metadata_proxy.access", want);
	assert_line(2, "INFO", "ns_metadata_proxy.access", "one");
	assert_line(3, "INFO", "ns_metadata_proxy.access", "three");
	assert_line(4, "INFO", "ns_metadata_proxy.access", "");
}

static void
test_refuses_symlink(void **state)
{
	char link[160];

	(void)state;
	assert_true(STR_CONCAT(link, sizeof(link), dir, "/link.log") > 0);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(log_to_file(link), -ELOOP);
	unlink(link);
}

/*
 * The log file's directory follows the rule of a pidfile's: writable by
 * group or others without the sticky bit, it is refused and nothing is
 * made there; sticky (as /tmp) or not writable by others, it is fine. A
 * reopen (SIGHUP) checks again and keeps the file it had.
 */
static void
test_dir_rule(void **state)
{
	static const struct {
		mode_t mode;
		int want;
	} cases[] = {
	    {0777, -NMP_EUNSAFE},
	    {0775, -NMP_EUNSAFE},
	    {0757, -NMP_EUNSAFE},
	    {0730, -NMP_EUNSAFE},
	    {0702, -NMP_EUNSAFE},
	    {0755, 0},
	    {0750, 0},
	    {0700, 0},
	    {01777, 0},
	    {01770, 0},
	};
	char sub[160], file[192];
	struct stat st;
	size_t i;
	int fd;

	(void)state;
	assert_true(STR_CONCAT(sub, sizeof(sub), dir, "/logs") > 0);
	assert_true(STR_CONCAT(file, sizeof(file), sub, "/proxy.log") > 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(chmod(sub, cases[i].mode), 0);
		(void)unlink(file);
		assert_int_equal(log_to_file(file), cases[i].want);
		if (cases[i].want < 0) {
			assert_int_equal(lstat(file, &st), -1);
			assert_int_equal(errno, ENOENT);
		} else {
			assert_int_equal(lstat(file, &st), 0);
			assert_true(S_ISREG(st.st_mode));
		}
	}
	/* An existing file there is refused as well: it is the directory. */
	assert_int_equal(chmod(sub, 0777), 0);
	assert_int_equal(log_to_file(file), -NMP_EUNSAFE);
	/* Rotated, then the directory opened to others: the reopen refuses. */
	assert_int_equal(chmod(sub, 0755), 0);
	assert_int_equal(log_to_file(file), 0);
	fd = log_file_fd();
	assert_int_equal(unlink(file), 0);
	assert_int_equal(chmod(sub, 0777), 0);
	assert_int_equal(log_reopen(), -NMP_EUNSAFE);
	assert_int_equal(lstat(file, &st), -1);
	assert_int_equal(log_file_fd(), fd);
	log_close();
	assert_int_equal(rmdir(sub), 0);
}

/*
 * As root, the file goes to the account the process drops to, 0640 at most;
 * a hard link (another file's name planted in the log directory) never.
 */
static void
test_chown_to_the_dropped_account(void **state)
{
	char hard[160];
	struct stat st;

	(void)state;
	if (geteuid() != 0) {
		assert_int_equal(log_to_file(path), 0);
		assert_int_equal(log_file_chown(65534, 65534), 0);
		skip();
	}
	umask(0);
	/* An existing root file is not ours to give: only one we create. */
	assert_int_equal(log_to_file(path), 0);
	assert_int_equal(log_file_chown(65534, 65533), -EPERM);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(log_to_file(path), 0);
	assert_int_equal(fchmod(log_file_fd(), 0664), 0);
	assert_int_equal(log_file_chown(65534, 65533), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_gid, 65533);
	assert_int_equal(st.st_mode & 0777, 0640);
	/* Ours already: again is fine. No drop (uid 0): nothing to do. */
	assert_int_equal(log_file_chown(65534, 65533), 0);
	assert_int_equal(log_file_chown(0, 0), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, 65534);

	assert_true(STR_CONCAT(hard, sizeof(hard), dir, "/hard.log") > 0);
	assert_int_equal(chown(path, 0, 0), 0);
	assert_int_equal(link(path, hard), 0);
	assert_int_equal(log_to_file(hard), 0);
	assert_int_equal(log_file_chown(65534, 65533), -EPERM);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, 0);
	unlink(hard);

	/* Another account's file is not ours to give away. */
	assert_int_equal(chown(path, 1234, 1234), 0);
	assert_int_equal(log_to_file(path), 0);
	assert_int_equal(log_file_chown(65534, 65533), -EPERM);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, 1234);
	umask(077);
}

/* A reopened file takes stdout and stderr along when they were the log. */
static void
test_reopen_moves_stdio(void **state)
{
	char rotated[160];
	int saved_out, saved_err;
	struct stat a, b;

	(void)state;
	saved_out = dup(STDOUT_FILENO);
	saved_err = dup(STDERR_FILENO);
	assert_true(saved_out >= 0 && saved_err >= 0);
	assert_int_equal(log_to_file(path), 0);
	assert_true(dup2(log_file_fd(), STDOUT_FILENO) >= 0);
	assert_true(dup2(log_file_fd(), STDERR_FILENO) >= 0);
	assert_true(
	    STR_CONCAT(rotated, sizeof(rotated), dir, "/proxy.log.1") > 0);
	assert_int_equal(rename(path, rotated), 0);
	assert_int_equal(log_reopen(), 0);
	assert_int_equal(fstat(STDERR_FILENO, &a), 0);
	assert_int_equal(stat(path, &b), 0);
	assert_true(a.st_ino == b.st_ino);
	assert_int_equal(fstat(STDOUT_FILENO, &a), 0);
	assert_true(a.st_ino == b.st_ino);
	log_warn("after rotation");
	assert_true(dup2(saved_out, STDOUT_FILENO) >= 0);
	assert_true(dup2(saved_err, STDERR_FILENO) >= 0);
	close(saved_out);
	close(saved_err);
	/* The rotated file kept its lines; the new one has this one only. */
	assert_int_equal(read_lines(), 1);
	assert_line(
	    0, "WARNING", "ns_metadata_proxy", "[" ID "] after rotation");
	unlink(rotated);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    /* First: the others quiet stderr for good. */
	    cmocka_unit_test(test_stderr_and_syslog_lines),
	    cmocka_unit_test(test_file_lines_in_oslo_shape),
	    cmocka_unit_test(test_file_pid_is_the_writers),
	    cmocka_unit_test(test_access_batch),
	    cmocka_unit_test(test_long_lines_are_cut),
	    cmocka_unit_test(test_refuses_symlink),
	    cmocka_unit_test(test_dir_rule),
	    cmocka_unit_test(test_chown_to_the_dropped_account),
	    cmocka_unit_test(test_reopen_moves_stdio),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
