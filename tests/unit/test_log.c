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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_file_lines_carry_the_id),
	    cmocka_unit_test(test_refuses_symlink),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
