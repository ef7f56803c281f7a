/*
 * front.conf (compat/front_conf.h): the haproxy front's only settings of
 * its own, read by root. Each line is taken or the whole file refused,
 * naming the line; a refused file changes nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "compat/front_conf.h"
#include "defaults.h"

static int
parse(const char *text, struct front_conf *fc, unsigned int *line, char *why,
    size_t whysz)
{
	front_conf_defaults(fc);
	return front_conf_parse(text, strlen(text), fc, line, why, whysz);
}

static void
test_defaults(void **state)
{
	struct front_conf fc;
	unsigned int line = 99;
	char why[128];

	(void)state;
	assert_int_equal(parse("", &fc, &line, why, sizeof(why)), 0);
	assert_true(fc.fleet);
	assert_string_equal(fc.control_socket, DEF_CONTROL_SOCKET);
	assert_int_equal(fc.reconnect_timeout, FRONT_CONF_RECONNECT_S);
	assert_int_equal(line, 0);
}

static void
test_settings(void **state)
{
	struct front_conf fc;
	unsigned int line = 0;
	char why[128];

	(void)state;
	assert_int_equal(parse("# the fleet of this node\n"
	                       "\n"
	                       "  fleet = off   # rolled back\n"
	                       "control_socket=/run/nmp/f.sock\r\n"
	                       "\treconnect_timeout =\t5",
	                     &fc, &line, why, sizeof(why)),
	    0);
	assert_false(fc.fleet);
	assert_string_equal(fc.control_socket, "/run/nmp/f.sock");
	assert_int_equal(fc.reconnect_timeout, 5);
	assert_int_equal(parse("fleet = on\ncontrol_socket = /a/b/\n", &fc,
	                     &line, why, sizeof(why)),
	    0);
	assert_true(fc.fleet);
	assert_string_equal(fc.control_socket, "/a/b"); /* normalised */
}

/* text is refused at line, with a reason holding word; fc unchanged. */
static void
refused(const char *text, unsigned int at, const char *word)
{
	struct front_conf fc;
	unsigned int line = 0;
	char why[128] = "";

	assert_int_equal(parse(text, &fc, &line, why, sizeof(why)), -EINVAL);
	assert_int_equal(line, at);
	if (strstr(why, word) == NULL)
		fail_msg("'%s': reason '%s' lacks '%s'", text, why, word);
	assert_true(fc.fleet);
	assert_string_equal(fc.control_socket, DEF_CONTROL_SOCKET);
	assert_int_equal(fc.reconnect_timeout, FRONT_CONF_RECONNECT_S);
}

static void
test_refused(void **state)
{
	char longline[700];

	(void)state;
	refused("fleet = yes\n", 1, "on");
	refused("# ok\nfleet\n", 2, "key = value");
	refused("control_socket = relative.sock\n", 1, "absolute");
	refused("control_socket = /a/../b\n", 1, "");
	refused("control_socket = /run/a b\n", 1, "");
	/* 108 bytes: longer than a unix socket's path. */
	refused(
	    "control_socket = /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aa\n",
	    1, "");
	refused("reconnect_timeout = 0\n", 1, "");
	refused("reconnect_timeout = 86401\n", 1, "");
	refused("reconnect_timeout = -1\n", 1, "");
	refused("reconnect_timeout = 1e3\n", 1, "");
	refused("fleet = on\nfleet = off\n", 2, "twice");
	refused("fleet = on\ncontrol = /x\n", 2, "unknown");
	refused("FLEET = on\n", 1, "unknown");
	memset(longline, 'a', sizeof(longline));
	memcpy(longline, "# ", 2);
	longline[sizeof(longline) - 1] = '\0';
	refused(longline, 1, "512");
}

static void
test_nul(void **state)
{
	static const char text[] = "fleet = on\0\ncontrol_socket = /x\n";
	struct front_conf fc;
	unsigned int line = 0;
	char why[128] = "";

	(void)state;
	front_conf_defaults(&fc);
	assert_int_equal(front_conf_parse(text, sizeof(text) - 1, &fc, &line,
	                     why, sizeof(why)),
	    -EINVAL);
	assert_int_equal(line, 1);
	assert_non_null(strstr(why, "NUL"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_settings),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_nul),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
