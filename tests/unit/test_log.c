#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	(void)state;
	log_close();
	unlink(path);
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

static void
test_file_lines_carry_the_id(void **state)
{
	char buf[4096];
	struct stat st;

	(void)state;
	log_init("ns-metadata-proxy");
	log_set_id(ID);
	log_quiet_stderr();
	umask(022);
	assert_int_equal(log_to_file(path), 0);
	assert_true(log_file_fd() > 2);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	errno = ENOSPC;
	log_err("cannot write config '%s': %s", "/x", "No space left");
	/* Logging preserves errno. */
	assert_int_equal(errno, ENOSPC);
	log_info("starting");
	log_set_debug(false);
	log_debug("hidden");
	log_set_debug(true);
	log_debug("shown");
	slurp(buf, sizeof(buf));
	assert_non_null(
	    strstr(buf, "ns-metadata-proxy[" ID
	                "]: cannot write config '/x': No space left\n"));
	assert_non_null(
	    strstr(buf, "ns-metadata-proxy[" ID "]: info: starting\n"));
	assert_non_null(strstr(buf, "debug: shown\n"));
	assert_null(strstr(buf, "hidden"));
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
	char rotated[160], buf[256];
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
	slurp(buf, sizeof(buf));
	assert_non_null(strstr(buf, "warning: after rotation"));
	unlink(rotated);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_file_lines_carry_the_id),
	    cmocka_unit_test(test_refuses_symlink),
	    cmocka_unit_test(test_dir_rule),
	    cmocka_unit_test(test_chown_to_the_dropped_account),
	    cmocka_unit_test(test_reopen_moves_stdio),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
