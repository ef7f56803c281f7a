#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "validate.h"
#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Long strings as literals, so the tables stay tables. */
#define A1 "a"
#define A2 A1 A1
#define A4 A2 A2
#define A8 A4 A4
#define A16 A8 A8
#define A32 A16 A16
#define A64 A32 A32
#define A128 A64 A64
#define A15 A8 A4 A2 A1
#define A255 A128 A64 A32 A16 A8 A4 A2 A1
#define A106 A64 A32 A8 A2

#define UUID "3f2504e0-4f89-11d3-9a0c-0305e82c3301"

/* Distinct from every reason validate.c can give. */
static const char why_unset[] = "why was not set";

/* Every table holds at least this many good and bad cases. */
#define MIN_GOOD 10
#define MIN_BAD 20

static const char *
esc(const char *s, char *buf, size_t bufsz)
{
	return validate_escape(s, 80, buf, bufsz);
}

/* A reason: static, non-empty, lower case, one line, no trailing period. */
static void
check_why(const char *in, const char *why)
{
	char e[400];
	size_t len;

	if (why == why_unset || why == NULL) {
		fail_msg("'%s': why not set", esc(in, e, sizeof(e)));
		return; /* cmocka's fail_msg is not marked noreturn */
	}
	len = strlen(why);
	if (len == 0 || (why[0] >= 'A' && why[0] <= 'Z') ||
	    why[len - 1] == '.' || strchr(why, '\n') != NULL)
		fail_msg("'%s': bad reason '%s'", esc(in, e, sizeof(e)), why);
}

static void
count_cases(size_t good, size_t bad)
{
	assert_true(good >= MIN_GOOD);
	assert_true(bad >= MIN_BAD);
}

static void
check_rc(const char *in, int rc, int want)
{
	char e[400];

	if (rc != want)
		fail_msg("'%s': got %d (%s), want %d (%s)",
		    esc(in, e, sizeof(e)), rc, strerror(-rc), want,
		    strerror(-want));
}

/* Validators without an output: validate_uuid() and friends. */
struct pred_case {
	const char *in;
	int rc;
};

static void
run_pred(
    int (*fn)(const char *, const char **), const struct pred_case *t, size_t n)
{
	size_t i, good = 0, bad = 0;

	for (i = 0; i < n; i++) {
		const char *why = why_unset;
		int rc;

		rc = fn(t[i].in, &why);
		check_rc(t[i].in, rc, t[i].rc);
		if (rc == 0) {
			assert_ptr_equal(why, why_unset);
			good++;
		} else {
			check_why(t[i].in, why);
			bad++;
		}
		/* why may be NULL. */
		check_rc(t[i].in, fn(t[i].in, NULL), t[i].rc);
	}
	count_cases(good, bad);
}

static const struct pred_case uuid_cases[] = {
    {"00000000-0000-0000-0000-000000000000", 0},
    {"ffffffff-ffff-ffff-ffff-ffffffffffff", 0},
    {"12345678-9abc-def0-1234-56789abcdef0", 0},
    {UUID, 0},
    {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 0},
    {"6ba7b810-9dad-11d1-80b4-00c04fd430c8", 0},
    {"c0ffee00-dead-beef-cafe-0123456789ab", 0},
    {"01234567-89ab-cdef-0123-456789abcdef", 0},
    {"e3a7d5b2-1f4c-4a6b-9d8e-7f6a5b4c3d2e", 0},
    {"5d6e7f80-91a2-b3c4-d5e6-f708192a3b4c", 0},
    {"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", 0},

    {"", -EINVAL},
    {"3F2504E0-4F89-11D3-9A0C-0305E82C3301", -EINVAL},
    {"3f2504e0-4f89-11d3-9a0c-0305E82c3301", -EINVAL},
    {"3f2504e04f8911d39a0c0305e82c3301", -EINVAL},
    {"{" UUID "}", -EINVAL},
    {"urn:uuid:" UUID, -EINVAL},
    {UUID "\n", -EINVAL},
    {" " UUID, -EINVAL},
    {UUID " ", -EINVAL},
    {"3f2504e0 4f89-11d3-9a0c-0305e82c3301", -EINVAL},
    {"3f2504e0-4f89-11d3-9a0c-0305e82c330", -EINVAL},   /* 35 */
    {"3f2504e0-4f89-11d3-9a0c-0305e82c33011", -EINVAL}, /* 37 */
    {"3f2504e04-f89-11d3-9a0c-0305e82c3301", -EINVAL},
    {"3f2504e0-4f89-11d3-9a0c-0305e82c330g", -EINVAL},
    {"3f2504e0-4f89-11d3-9a0c-0305e82c330#", -EINVAL},
    {"3f2504e0-4f89-11d3-9a0c-0305e82c330'", -EINVAL},
    {"3f2504e0-4f89-11d3-9a0c-0305e82c330\"", -EINVAL},
    {"3f2504e0-4f89-11d3-9a0c-0305e82c330\\", -EINVAL},
    {"3f2504e0-4f89-11d3-9a0c-0305e82c330$", -EINVAL},
    {"3f2504e0-4f89-11d3-9a0c-0305e82c33\xc3\xa9", -EINVAL},
    {"3f2504e0-4f89-11d3-9a0c-0305e82c3301/..", -EINVAL},
    {"..", -EINVAL},
    {"../../../../../../../../../etc/passwd", -EINVAL},
    {"3f2504e0_4f89_11d3_9a0c_0305e82c3301", -EINVAL},
    {"------------------------------------", -EINVAL},
    {"3f2504e0-4f89-11d3-9a0c-0305e82c\t301", -EINVAL},
    {"-3f2504e0-4f89-11d3-9a0c-0305e82c330", -EINVAL},
    {"3f2504e0-4f89-11d3-9a0c--305e82c3301", -EINVAL},
};

static void
test_uuid(void **state)
{
	(void)state;
	run_pred(validate_uuid, uuid_cases, NELEM(uuid_cases));
	assert_int_equal(validate_uuid(NULL, NULL), -EINVAL);
}

static const struct pred_case ifname_cases[] = {
    {"eth0", 0},
    {"lo", 0},
    {"ens3", 0},
    {"br-int", 0},
    {"tap1234abcd-12", 0},
    {"qr-12345678-9a", 0},
    {"a", 0},
    {A15, 0},
    {"vlan.100", 0},
    {"eth0.100", 0},
    {"veth_a", 0},
    {"A-Z_0.9x", 0},
    {"...", 0},
    {"tap0123abcd-ef", 0},
    {"a-", 0},
    {"0", 0},

    {"", -EINVAL},
    {A16, -ENAMETOOLONG},
    {"abcdefghijklmnopqrstuvwxyz", -ENAMETOOLONG},
    {" eth0", -EINVAL},
    {"eth0 ", -EINVAL},
    {"et h0", -EINVAL},
    {"eth0\n", -EINVAL},
    {"eth#0", -EINVAL},
    {"eth'0", -EINVAL},
    {"eth\"0", -EINVAL},
    {"eth\\0", -EINVAL},
    {"eth$0", -EINVAL},
    {"\xc3\xa9th0", -EINVAL},
    {"eth/0", -EINVAL},
    {".", -EINVAL},
    {"..", -EINVAL},
    {"../eth0", -EINVAL},
    {"eth0;", -EINVAL},
    {"eth0@1", -EINVAL},
    {"eth\t0", -EINVAL},
    {"eth0,1", -EINVAL},
    {"eth%0", -EINVAL},
    {"eth*", -EINVAL},
    {"~", -EINVAL},
    /* Linux refuses ':' in a name; a leading '-' reads as an option. */
    {"eth0:1", -EINVAL},
    {"tap:1", -EINVAL},
    {":", -EINVAL},
    {"eth0:", -EINVAL},
    {"-tap", -EINVAL},
    {"-", -EINVAL},
    {"--", -EINVAL},
    {"-h", -EINVAL},
    {"-" A8 A4 A2, -EINVAL},
    {"-" A15, -EINVAL},
};

static void
test_ifname(void **state)
{
	(void)state;
	run_pred(validate_ifname, ifname_cases, NELEM(ifname_cases));
	assert_int_equal(validate_ifname(NULL, NULL), -EINVAL);
}

/* The reasons the command line shows for the two refusals of ':' and '-'. */
static void
test_ifname_reasons(void **state)
{
	static const char *const colon[] = {"tap:1", "eth0:0", ":", "a:"};
	static const char *const dash[] = {"-tap", "-", "-:", "--help"};
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(colon); i++) {
		why = why_unset;
		assert_int_equal(validate_ifname(colon[i], &why), -EINVAL);
		assert_string_equal(
		    why, "contains a character outside [A-Za-z0-9_.-]");
	}
	for (i = 0; i < NELEM(dash); i++) {
		why = why_unset;
		assert_int_equal(validate_ifname(dash[i], &why), -EINVAL);
		assert_string_equal(why, "starts with '-'");
	}
	/* A '-' inside or at the end is fine, as in neutron's tap names. */
	assert_int_equal(validate_ifname("tap0123abcd-ef", NULL), 0);
	assert_int_equal(validate_ifname("a-", NULL), 0);
}

static const struct pred_case netns_cases[] = {
    {"qrouter-" UUID, 0},
    {"qdhcp-" UUID, 0},
    {"ovnmeta-" UUID, 0},
    {"a", 0},
    {"ns_1", 0},
    {"...", 0},
    {".a", 0},
    {"a.", 0},
    {"A-Z", 0},
    {A255, 0},
    {"-leading", 0},
    {"_", 0},

    {"", -EINVAL},
    {A255 "a", -ENAMETOOLONG},
    {A255 A255, -ENAMETOOLONG},
    {".", -EINVAL},
    {"..", -EINVAL},
    {" ns", -EINVAL},
    {"ns ", -EINVAL},
    {"n s", -EINVAL},
    {"ns\n", -EINVAL},
    {"n#", -EINVAL},
    {"n'", -EINVAL},
    {"n\"", -EINVAL},
    {"n\\", -EINVAL},
    {"n$", -EINVAL},
    {"\xc3\xa9", -EINVAL},
    {"a/b", -EINVAL},
    {"../x", -EINVAL},
    {"ns:1", -EINVAL},
    {"ns@1", -EINVAL},
    {"ns;", -EINVAL},
    {"ns*", -EINVAL},
    {"ns%1", -EINVAL},
    {"\t", -EINVAL},
    {"/run/netns/x", -EINVAL},
};

static void
test_netns(void **state)
{
	(void)state;
	run_pred(validate_netns, netns_cases, NELEM(netns_cases));
	assert_int_equal(validate_netns(NULL, NULL), -EINVAL);
}

static const struct pred_case component_cases[] = {
    {"a", 0},
    {"x.conf", 0},
    {".x.conf.tmp", 0},
    {UUID ".conf", 0},
    {"...", 0},
    {"a..b", 0},
    {"-a", 0},
    {"a+b@c:d=e,f%g", 0},
    {A255, 0},
    {"Z9", 0},
    {"_", 0},
    {".a", 0},

    {"", -EINVAL},
    {A255 "a", -ENAMETOOLONG},
    {".", -EINVAL},
    {"..", -EINVAL},
    {"a/b", -EINVAL},
    {"/", -EINVAL},
    {"/a", -EINVAL},
    {"a/", -EINVAL},
    {"../a", -EINVAL},
    {" a", -EINVAL},
    {"a ", -EINVAL},
    {"a b", -EINVAL},
    {"a\n", -EINVAL},
    {"a#", -EINVAL},
    {"a'", -EINVAL},
    {"a\"", -EINVAL},
    {"a\\", -EINVAL},
    {"a$", -EINVAL},
    {"caf\xc3\xa9", -EINVAL},
    {"a*", -EINVAL},
    {"a?", -EINVAL},
    {"~", -EINVAL},
    {"a;b", -EINVAL},
    {"a\tb", -EINVAL},
    {"a|b", -EINVAL},
    {"a`b", -EINVAL},
    {"\x7f", -EINVAL},
};

static void
test_component(void **state)
{
	(void)state;
	run_pred(validate_component, component_cases, NELEM(component_cases));
	assert_int_equal(validate_component(NULL, NULL), -EINVAL);
}

static const struct pred_case account_cases[] = {
    {"0", 0},
    {"1000", 0},
    {"4294967294", 0},
    {"10", 0},
    {"root", 0},
    {"neutron", 0},
    {"_apt", 0},
    {"systemd-network", 0},
    {"a", 0},
    {"a.b", 0},
    {"nobody", 0},
    {"Debian-exim", 0},
    {A32, 0},
    {"1a", 0},
    {"a-", 0},

    {"", -EINVAL},
    {"4294967295", -ERANGE},
    {"99999999999999999999", -ERANGE},
    /* Decimal ids have no leading zero: "00" is not root, "010" not 8. */
    {"00", -EINVAL},
    {"000", -EINVAL},
    {"01", -EINVAL},
    {"010", -EINVAL},
    {"0001000", -EINVAL},
    {"04294967294", -EINVAL},
    {"00000000000000000000000000000001", -EINVAL},
    {"000000000000000000000000000000001", -ENAMETOOLONG},
    {A32 "a", -ENAMETOOLONG},
    {"-1", -EINVAL},
    {"-root", -EINVAL},
    {"+1", -EINVAL},
    {" root", -EINVAL},
    {"root ", -EINVAL},
    {"ro ot", -EINVAL},
    {"root\n", -EINVAL},
    {"ro#ot", -EINVAL},
    {"ro'ot", -EINVAL},
    {"ro\"ot", -EINVAL},
    {"ro\\ot", -EINVAL},
    {"$root", -EINVAL},
    {"r\xc3\xa9", -EINVAL},
    {"ro/ot", -EINVAL},
    {"root:root", -EINVAL},
    {"root@host", -EINVAL},
    {"0x10", 0}, /* a name, in the allowed alphabet */
    {"a\tb", -EINVAL},
    {"1 ", -EINVAL},
    {" 1", -EINVAL},
    {"../root", -EINVAL},
};

static void
test_account(void **state)
{
	(void)state;
	run_pred(validate_account, account_cases, NELEM(account_cases));
	assert_int_equal(validate_account(NULL, NULL), -EINVAL);
}

static const struct pred_case account_name_cases[] = {
    {"root", 0},
    {"neutron", 0},
    {"_apt", 0},
    {"systemd-network", 0},
    {"a", 0},
    {"a.b", 0},
    {"nobody", 0},
    {"Debian-exim", 0},
    {A32, 0},
    {"1000", 0},
    {"4294967295", 0}, /* a name that NSS returned: no range */
    {"user_1", 0},
    {"x.y-z", 0},

    {"", -EINVAL},
    {A32 "a", -ENAMETOOLONG},
    {"-x", -EINVAL},
    {"-1", -EINVAL},
    {" root", -EINVAL},
    {"root ", -EINVAL},
    {"ro ot", -EINVAL},
    {"root\n", -EINVAL},
    {"ro#ot", -EINVAL},
    {"ro'ot", -EINVAL},
    {"ro\"ot", -EINVAL},
    {"ro\\ot", -EINVAL},
    {"ro$ot", -EINVAL},
    {"machine$", -EINVAL},
    {"r\xc3\xa9", -EINVAL},
    {"ro/ot", -EINVAL},
    {"../x", -EINVAL},
    {"root:x", -EINVAL},
    {"a@b", -EINVAL},
    {"DOMAIN\\user", -EINVAL},
    {"a\tb", -EINVAL},
    {"+x", -EINVAL},
};

static void
test_account_name(void **state)
{
	(void)state;
	run_pred(validate_account_name, account_name_cases,
	    NELEM(account_name_cases));
	assert_int_equal(validate_account_name(NULL, NULL), -EINVAL);
}

static const struct pred_case facility_cases[] = {
    {"auth", 0},
    {"authpriv", 0},
    {"cron", 0},
    {"daemon", 0},
    {"ftp", 0},
    {"kern", 0},
    {"lpr", 0},
    {"mail", 0},
    {"news", 0},
    {"syslog", 0},
    {"user", 0},
    {"uucp", 0},
    {"local0", 0},
    {"local1", 0},
    {"local2", 0},
    {"local3", 0},
    {"local4", 0},
    {"local5", 0},
    {"local6", 0},
    {"local7", 0},
    {"LOG_USER", 0},
    {"LOG_LOCAL0", 0},
    {"LOG_LOCAL7", 0},
    {"LOG_AUTHPRIV", 0},
    {"LOG_DAEMON", 0},

    {"", -EINVAL},
    {"USER", -EINVAL},
    {"User", -EINVAL},
    {"log_user", -EINVAL},
    {"LOG_user", -EINVAL},
    {"LOG_User", -EINVAL},
    {"LOG_", -EINVAL},
    {"LOG_LOCAL8", -EINVAL},
    {"local8", -EINVAL},
    {"local", -EINVAL},
    {"local00", -EINVAL},
    {" user", -EINVAL},
    {"user ", -EINVAL},
    {"us er", -EINVAL},
    {"user\n", -EINVAL},
    {"#", -EINVAL},
    {"'user'", -EINVAL},
    {"\"user\"", -EINVAL},
    {"\\user", -EINVAL},
    {"$user", -EINVAL},
    {"us\xc3\xa9r", -EINVAL},
    {"..", -EINVAL},
    {"security", -EINVAL},
    {"mark", -EINVAL},
    {"LOG_USERX", -EINVAL},
    {"userx", -EINVAL},
    {"use", -EINVAL},
    {"LOG_LOG_USER", -EINVAL},
    {"local-0", -EINVAL},
    {"0", -EINVAL},
};

static void
test_facility(void **state)
{
	(void)state;
	run_pred(validate_facility, facility_cases, NELEM(facility_cases));
	assert_int_equal(validate_facility(NULL, NULL), -EINVAL);
}

/* Numbers: validate_ulong(), validate_port(), validate_timeout(). */
struct num_case {
	const char *in;
	unsigned long min, max;
	int rc;
	unsigned long out;
};

#define SENTINEL 0x5a5a5a5aUL

static const struct num_case ulong_cases[] = {
    {"0", 0, 10, 0, 0},
    {"10", 0, 10, 0, 10},
    {"1", 1, 1, 0, 1},
    {"100", 0, 100, 0, 100},
    {"101", 0, 1000, 0, 101},
    {"4294967294", 0, 4294967294UL, 0, 4294967294UL},
    {"4294967295", 0, UINT32_MAX, 0, UINT32_MAX},
    {"123456789", 0, ULONG_MAX, 0, 123456789},
#if ULONG_MAX == 18446744073709551615UL
    {"18446744073709551615", 0, ULONG_MAX, 0, ULONG_MAX},
#endif
    {"42", 0, 100, 0, 42},
    {"5", 5, 5, 0, 5},
    {"9", 0, 9, 0, 9},

    {"", 0, 10, -EINVAL, 0},
    {" 1", 0, 10, -EINVAL, 0},
    {"1 ", 0, 10, -EINVAL, 0},
    {"1 1", 0, 100, -EINVAL, 0},
    {"-1", 0, 10, -EINVAL, 0},
    {"-0", 0, 10, -EINVAL, 0},
    {"+1", 0, 10, -EINVAL, 0},
    {"0x10", 0, 100, -EINVAL, 0},
    {"1a", 0, 100, -EINVAL, 0},
    {"a1", 0, 100, -EINVAL, 0},
    {"1.0", 0, 10, -EINVAL, 0},
    {"1e3", 0, 10000, -EINVAL, 0},
    {"\n1", 0, 10, -EINVAL, 0},
    {"1\n", 0, 10, -EINVAL, 0},
    {"\t1", 0, 10, -EINVAL, 0},
    {"11", 0, 10, -ERANGE, 0},
    {"0", 1, 10, -ERANGE, 0},
    {"4294967295", 0, 4294967294UL, -ERANGE, 0},
    {"99999999999999999999999", 0, ULONG_MAX, -ERANGE, 0},
    {"1,000", 0, 10000, -EINVAL, 0},
    {"\xef\xbc\x91", 0, 10, -EINVAL, 0}, /* fullwidth 1 */
    {"#1", 0, 10, -EINVAL, 0},
    {"'1'", 0, 10, -EINVAL, 0},
    {"\\1", 0, 10, -EINVAL, 0},
    {"$1", 0, 10, -EINVAL, 0},
    {"..", 0, 10, -EINVAL, 0},
    {"1\xc3\xa9", 0, 10, -EINVAL, 0},
    {"4", 5, 3, -ERANGE, 0}, /* empty range */
    /* No leading zero: refused even where the value is in range. */
    {"080", 0, 100, -EINVAL, 0},
    {"00", 0, 10, -EINVAL, 0},
    {"01", 0, 10, -EINVAL, 0},
    {"010", 0, 100, -EINVAL, 0},
    {"000000000000000000000000000042", 0, 100, -EINVAL, 0},
    {"00", 1, 10, -EINVAL, 0},
    {"09", 0, 10, -EINVAL, 0},
    {"099999999999999999999999", 0, ULONG_MAX, -EINVAL, 0},
};

static void
test_ulong(void **state)
{
	size_t i, good = 0, bad = 0;

	(void)state;
	for (i = 0; i < NELEM(ulong_cases); i++) {
		const struct num_case *t = &ulong_cases[i];
		const char *why = why_unset;
		unsigned long v = SENTINEL;
		int rc;

		rc = validate_ulong(t->in, t->min, t->max, &v, &why);
		check_rc(t->in, rc, t->rc);
		if (rc == 0) {
			assert_int_equal(v, t->out);
			assert_ptr_equal(why, why_unset);
			good++;
		} else {
			assert_int_equal(v, SENTINEL);
			check_why(t->in, why);
			bad++;
		}
		v = SENTINEL;
		rc = validate_ulong(t->in, t->min, t->max, &v, NULL);
		check_rc(t->in, rc, t->rc);
	}
	count_cases(good, bad);
	assert_int_equal(
	    validate_ulong(NULL, 0, 1, &(unsigned long){0}, NULL), -EINVAL);
}

/*
 * Every decimal grammar refuses a leading zero with the same reason, so the
 * command line says why "080" is not 80 (nor "00" root, nor "010" 8).
 */
static void
test_leading_zero_reasons(void **state)
{
	static const char *const zeros[] = {"00", "01", "080", "010", "0001",
	    "065535", "0000000000000000000000000000000"};
	unsigned long v;
	unsigned int port;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(zeros); i++) {
		why = why_unset;
		v = SENTINEL;
		assert_int_equal(
		    validate_ulong(zeros[i], 0, ULONG_MAX, &v, &why), -EINVAL);
		assert_string_equal(why, "has a leading zero");
		assert_int_equal(v, SENTINEL);
		why = why_unset;
		port = 7;
		assert_int_equal(validate_port(zeros[i], &port, &why), -EINVAL);
		assert_string_equal(why, "has a leading zero");
		assert_int_equal(port, 7);
		why = why_unset;
		assert_int_equal(validate_timeout(zeros[i], &v, &why), -EINVAL);
		assert_string_equal(why, "has a leading zero");
		assert_int_equal(v, SENTINEL);
		why = why_unset;
		assert_int_equal(validate_account(zeros[i], &why), -EINVAL);
		assert_string_equal(why, "has a leading zero");
	}
	/* With a unit too. */
	why = why_unset;
	assert_int_equal(validate_timeout("010s", &v, &why), -EINVAL);
	assert_string_equal(why, "has a leading zero");
	/* "0" alone is zero where zero is in range, out of range elsewhere. */
	assert_int_equal(validate_ulong("0", 0, 3600, &v, NULL), 0);
	assert_int_equal(v, 0);
	assert_int_equal(validate_account("0", NULL), 0);
	assert_int_equal(validate_port("0", &port, NULL), -ERANGE);
	assert_int_equal(validate_timeout("0", &v, NULL), -ERANGE);
	/* Junk after a zero is junk, not a leading zero. */
	why = why_unset;
	assert_int_equal(validate_ulong("0x10", 0, 100, &v, &why), -EINVAL);
	assert_string_equal(why, "not a decimal number");
	/* A name that starts with a zero but is not all digits stays a name. */
	assert_int_equal(validate_account("0day", NULL), 0);
}

static const struct num_case port_cases[] = {
    {"1", 0, 0, 0, 1},
    {"80", 0, 0, 0, 80},
    {"443", 0, 0, 0, 443},
    {"9697", 0, 0, 0, 9697},
    {"65535", 0, 0, 0, 65535},
    {"65534", 0, 0, 0, 65534},
    {"8080", 0, 0, 0, 8080},
    {"1024", 0, 0, 0, 1024},
    {"10", 0, 0, 0, 10},
    {"100", 0, 0, 0, 100},

    {"0", 0, 0, -ERANGE, 0},
    {"00000", 0, 0, -EINVAL, 0},
    {"080", 0, 0, -EINVAL, 0},
    {"00001", 0, 0, -EINVAL, 0},
    {"0000065535", 0, 0, -EINVAL, 0},
    {"065536", 0, 0, -EINVAL, 0},
    {"65536", 0, 0, -ERANGE, 0},
    {"100000", 0, 0, -ERANGE, 0},
    {"99999999999999999999", 0, 0, -ERANGE, 0},
    {"4294967376", 0, 0, -ERANGE, 0}, /* 80 + 2^32 */
    {"-1", 0, 0, -EINVAL, 0},
    {" 80", 0, 0, -EINVAL, 0},
    {"80 ", 0, 0, -EINVAL, 0},
    {"8 0", 0, 0, -EINVAL, 0},
    {"0x50", 0, 0, -EINVAL, 0},
    {"+80", 0, 0, -EINVAL, 0},
    {"", 0, 0, -EINVAL, 0},
    {"80\n", 0, 0, -EINVAL, 0},
    {"#80", 0, 0, -EINVAL, 0},
    {"\"80\"", 0, 0, -EINVAL, 0},
    {"\\80", 0, 0, -EINVAL, 0},
    {"$80", 0, 0, -EINVAL, 0},
    {"\xc3\xa9", 0, 0, -EINVAL, 0},
    {"..", 0, 0, -EINVAL, 0},
    {"80.0", 0, 0, -EINVAL, 0},
    {"1e2", 0, 0, -EINVAL, 0},
    {"http", 0, 0, -EINVAL, 0},
    {":80", 0, 0, -EINVAL, 0},
};

static void
test_port(void **state)
{
	size_t i, good = 0, bad = 0;

	(void)state;
	for (i = 0; i < NELEM(port_cases); i++) {
		const struct num_case *t = &port_cases[i];
		const char *why = why_unset;
		unsigned int v = 0x5a5a;
		int rc;

		rc = validate_port(t->in, &v, &why);
		check_rc(t->in, rc, t->rc);
		if (rc == 0) {
			assert_int_equal(v, t->out);
			assert_ptr_equal(why, why_unset);
			good++;
		} else {
			assert_int_equal(v, 0x5a5a);
			check_why(t->in, why);
			bad++;
		}
		check_rc(t->in, validate_port(t->in, &v, NULL), t->rc);
	}
	count_cases(good, bad);
}

static const struct num_case timeout_cases[] = {
    {"1", 0, 0, 0, 1},
    {"1ms", 0, 0, 0, 1},
    {"1us", 0, 0, 0, 1},
    {"999us", 0, 0, 0, 1},
    {"1000us", 0, 0, 0, 1},
    {"1001us", 0, 0, 0, 2},
    {"10", 0, 0, 0, 10},
    {"30s", 0, 0, 0, 30000},
    {"10s", 0, 0, 0, 10000},
    {"5m", 0, 0, 0, 300000},
    {"1h", 0, 0, 0, 3600000},
    {"24d", 0, 0, 0, 2073600000},
    {"2147483647", 0, 0, 0, 2147483647},
    {"2147483647ms", 0, 0, 0, 2147483647},
    {"2147483s", 0, 0, 0, 2147483000},
    {"35791m", 0, 0, 0, 2147460000},
    {"596h", 0, 0, 0, 2145600000},
    {"2147483647000us", 0, 0, 0, 2147483647},
    {"2147483646001us", 0, 0, 0, 2147483647},

    {"", 0, 0, -EINVAL, 0},
    {"0", 0, 0, -ERANGE, 0},
    {"0ms", 0, 0, -ERANGE, 0},
    {"0us", 0, 0, -ERANGE, 0},
    {"0s", 0, 0, -ERANGE, 0},
    {"0d", 0, 0, -ERANGE, 0},
    {"2147483648", 0, 0, -ERANGE, 0},
    {"2147484s", 0, 0, -ERANGE, 0},
    {"35792m", 0, 0, -ERANGE, 0},
    {"597h", 0, 0, -ERANGE, 0},
    {"25d", 0, 0, -ERANGE, 0},
    {"2147483647001us", 0, 0, -ERANGE, 0},
    {"99999999999999999999999", 0, 0, -ERANGE, 0},
    {"99999999999999999999999s", 0, 0, -ERANGE, 0},
    {"99999999999999999999999us", 0, 0, -ERANGE, 0},
    {"-1", 0, 0, -EINVAL, 0},
    {"+1", 0, 0, -EINVAL, 0},
    {" 1", 0, 0, -EINVAL, 0},
    {"1 ", 0, 0, -EINVAL, 0},
    {"1 s", 0, 0, -EINVAL, 0},
    {"1S", 0, 0, -EINVAL, 0},
    {"1Ms", 0, 0, -EINVAL, 0},
    {"1sec", 0, 0, -EINVAL, 0},
    {"1ms ", 0, 0, -EINVAL, 0},
    {"s", 0, 0, -EINVAL, 0},
    {"ms", 0, 0, -EINVAL, 0},
    {"1.5s", 0, 0, -EINVAL, 0},
    {"0x10", 0, 0, -EINVAL, 0},
    {"1\n", 0, 0, -EINVAL, 0},
    {"1#", 0, 0, -EINVAL, 0},
    {"'1'", 0, 0, -EINVAL, 0},
    {"\\1", 0, 0, -EINVAL, 0},
    {"$1", 0, 0, -EINVAL, 0},
    {"1\xc3\xa9", 0, 0, -EINVAL, 0},
    {"..", 0, 0, -EINVAL, 0},
    {"1m1s", 0, 0, -EINVAL, 0},
    {"1ss", 0, 0, -EINVAL, 0},
    /* No leading zero, whatever the unit. */
    {"0001", 0, 0, -EINVAL, 0},
    {"010s", 0, 0, -EINVAL, 0},
    {"00", 0, 0, -EINVAL, 0},
    {"00s", 0, 0, -EINVAL, 0},
    {"030000", 0, 0, -EINVAL, 0},
    {"01ms", 0, 0, -EINVAL, 0},
    {"01000us", 0, 0, -EINVAL, 0},
    {"05m", 0, 0, -EINVAL, 0},
    {"01h", 0, 0, -EINVAL, 0},
    {"01d", 0, 0, -EINVAL, 0},
};

static void
test_timeout(void **state)
{
	size_t i, good = 0, bad = 0;

	(void)state;
	for (i = 0; i < NELEM(timeout_cases); i++) {
		const struct num_case *t = &timeout_cases[i];
		const char *why = why_unset;
		unsigned long v = SENTINEL;
		int rc;

		rc = validate_timeout(t->in, &v, &why);
		check_rc(t->in, rc, t->rc);
		if (rc == 0) {
			assert_int_equal(v, t->out);
			assert_ptr_equal(why, why_unset);
			good++;
		} else {
			assert_int_equal(v, SENTINEL);
			check_why(t->in, why);
			bad++;
		}
		check_rc(t->in, validate_timeout(t->in, &v, NULL), t->rc);
	}
	count_cases(good, bad);
	assert_int_equal(
	    validate_timeout(NULL, &(unsigned long){0}, NULL), -EINVAL);
}

/* validate_address(): out is the canonical text, fam the family found. */
struct addr_case {
	const char *in;
	int family;
	int rc;
	const char *out;
	int fam;
};

static const struct addr_case addr_cases[] = {
    {"0.0.0.0", AF_INET, 0, "0.0.0.0", AF_INET},
    {"127.0.0.1", AF_INET, 0, "127.0.0.1", AF_INET},
    {"255.255.255.255", AF_INET, 0, "255.255.255.255", AF_INET},
    {"169.254.169.254", AF_INET, 0, "169.254.169.254", AF_INET},
    {"169.254.169.254", AF_UNSPEC, 0, "169.254.169.254", AF_INET},
    {"10.0.0.1", AF_UNSPEC, 0, "10.0.0.1", AF_INET},
    {"192.168.1.254", AF_INET, 0, "192.168.1.254", AF_INET},
    {"::", AF_INET6, 0, "::", AF_INET6},
    {"::1", AF_UNSPEC, 0, "::1", AF_INET6},
    {"fe80::a9fe:a9fe", AF_INET6, 0, "fe80::a9fe:a9fe", AF_INET6},
    {"FE80::1", AF_INET6, 0, "fe80::1", AF_INET6},
    {"0:0:0:0:0:0:0:1", AF_INET6, 0, "::1", AF_INET6},
    {"2001:db8:0:0:1:0:0:1", AF_UNSPEC, 0, "2001:db8::1:0:0:1", AF_INET6},
    {"2001:DB8::", AF_INET6, 0, "2001:db8::", AF_INET6},
    {"::ffff:1.2.3.4", AF_INET6, 0, "::ffff:1.2.3.4", AF_INET6},
    {"0000:0000:0000:0000:0000:ffff:0102:0304", AF_INET6, 0, "::ffff:1.2.3.4",
        AF_INET6},
    {"1:2:3:4:5:6:7:8", AF_INET6, 0, "1:2:3:4:5:6:7:8", AF_INET6},
    {"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", AF_INET6, 0,
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AF_INET6},

    {"", AF_INET, -EINVAL, NULL, 0},
    {"", AF_INET6, -EINVAL, NULL, 0},
    {"", AF_UNSPEC, -EINVAL, NULL, 0},
    {"1.2.3", AF_INET, -EINVAL, NULL, 0},
    {"01.2.3.4", AF_INET, -EINVAL, NULL, 0},
    {"01.2.3.4", AF_UNSPEC, -EINVAL, NULL, 0},
    {"1.2.3.04", AF_INET, -EINVAL, NULL, 0},
    {"256.1.1.1", AF_INET, -EINVAL, NULL, 0},
    {"1.2.3.4.5", AF_INET, -EINVAL, NULL, 0},
    {"1..2.3", AF_INET, -EINVAL, NULL, 0},
    {" 1.2.3.4", AF_INET, -EINVAL, NULL, 0},
    {"1.2.3.4 ", AF_INET, -EINVAL, NULL, 0},
    {"1.2. 3.4", AF_UNSPEC, -EINVAL, NULL, 0},
    {"1.2.3.4\n", AF_INET, -EINVAL, NULL, 0},
    {"0x1.2.3.4", AF_INET, -EINVAL, NULL, 0},
    {"0x7f000001", AF_UNSPEC, -EINVAL, NULL, 0},
    {"2130706433", AF_UNSPEC, -EINVAL, NULL, 0},
    {"::1%lo", AF_INET6, -EINVAL, NULL, 0},
    {"fe80::1%eth0", AF_UNSPEC, -EINVAL, NULL, 0},
    {"[::1]", AF_INET6, -EINVAL, NULL, 0},
    {"[::1]:80", AF_UNSPEC, -EINVAL, NULL, 0},
    {"::1/64", AF_INET6, -EINVAL, NULL, 0},
    {"10.0.0.0/8", AF_INET, -EINVAL, NULL, 0},
    {"1.2.3.4:80", AF_UNSPEC, -EINVAL, NULL, 0},
    {"1:2:3:4:5:6:7:8:9", AF_INET6, -EINVAL, NULL, 0},
    {"1::2::3", AF_INET6, -EINVAL, NULL, 0},
    {"00001::", AF_INET6, -EINVAL, NULL, 0},
    {"::ffff:01.2.3.4", AF_INET6, -EINVAL, NULL, 0},
    {"::g", AF_INET6, -EINVAL, NULL, 0},
    {"localhost", AF_UNSPEC, -EINVAL, NULL, 0},
    {"#", AF_UNSPEC, -EINVAL, NULL, 0},
    {"'::1'", AF_UNSPEC, -EINVAL, NULL, 0},
    {"\"::1\"", AF_UNSPEC, -EINVAL, NULL, 0},
    {"\\1.2.3.4", AF_UNSPEC, -EINVAL, NULL, 0},
    {"$ip", AF_UNSPEC, -EINVAL, NULL, 0},
    {"\xc3\xa9", AF_UNSPEC, -EINVAL, NULL, 0},
    {"..", AF_UNSPEC, -EINVAL, NULL, 0},
    {"1.2.3.4", AF_INET6, -EINVAL, NULL, 0},
    {"::1", AF_INET, -EINVAL, NULL, 0},
    {"::ffff:1.2.3.4", AF_INET, -EINVAL, NULL, 0},
    {"1.2.3.4", AF_UNIX, -EINVAL, NULL, 0},
    {"::1", -1, -EINVAL, NULL, 0},
};

static void
test_address(void **state)
{
	size_t i, good = 0, bad = 0;
	char e[400];

	(void)state;
	for (i = 0; i < NELEM(addr_cases); i++) {
		const struct addr_case *t = &addr_cases[i];
		const char *why = why_unset;
		char out[INET6_ADDRSTRLEN + 1];
		int rc, fam = -42;

		memset(out, 'Z', sizeof(out));
		rc = validate_address(
		    t->in, t->family, out, INET6_ADDRSTRLEN, &fam, &why);
		check_rc(t->in, rc, t->rc);
		assert_int_equal(out[INET6_ADDRSTRLEN], 'Z');
		if (rc == 0) {
			if (strcmp(out, t->out) != 0)
				fail_msg("'%s': got '%s', want '%s'",
				    esc(t->in, e, sizeof(e)), out, t->out);
			assert_int_equal(fam, t->fam);
			assert_ptr_equal(why, why_unset);
			good++;
		} else {
			assert_int_equal(out[0], 'Z');
			assert_int_equal(fam, -42);
			check_why(t->in, why);
			bad++;
		}
		/* family_out and why are optional. */
		rc = validate_address(
		    t->in, t->family, out, INET6_ADDRSTRLEN, NULL, NULL);
		check_rc(t->in, rc, t->rc);
	}
	count_cases(good, bad);
}

static void
test_address_outsz(void **state)
{
	char out[INET6_ADDRSTRLEN];
	const char *why = why_unset;
	int fam = -42;

	(void)state;
	memset(out, 'Z', sizeof(out));
	assert_int_equal(validate_address("1.2.3.4", AF_INET, out,
	                     INET6_ADDRSTRLEN - 1, &fam, &why),
	    -EINVAL);
	assert_int_equal(out[0], 'Z');
	assert_int_equal(fam, -42);
	check_why("1.2.3.4", why);
	assert_int_equal(validate_address("1.2.3.4", AF_INET, NULL,
	                     INET6_ADDRSTRLEN, &fam, NULL),
	    -EINVAL);
	assert_int_equal(validate_address(NULL, AF_UNSPEC, out,
	                     INET6_ADDRSTRLEN, &fam, NULL),
	    -EINVAL);
	assert_int_equal(out[0], 'Z');
}

/* validate_path(): out is the normalised path. */
struct path_case {
	const char *in;
	size_t max;
	int rc;
	const char *out;
};

static const struct path_case path_cases[] = {
    {"/", 107, 0, "/"},
    {"/var/lib/neutron", 107, 0, "/var/lib/neutron"},
    {"/var/lib/neutron/", 107, 0, "/var/lib/neutron"},
    {"/var/lib/neutron/metadata_proxy", 107, 0,
        "/var/lib/neutron/metadata_proxy"},
    {"/a", 107, 0, "/a"},
    {"/a/", 107, 0, "/a"},
    {"/...", 107, 0, "/..."},
    {"/.a/..b/a.", 107, 0, "/.a/..b/a."},
    {"/a-b_c+d@e:f=g,h%i", 107, 0, "/a-b_c+d@e:f=g,h%i"},
    {"/run/netns/qrouter-" UUID, 107, 0, "/run/netns/qrouter-" UUID},
    {"/A/Z/0/9", 107, 0, "/A/Z/0/9"},
    {"/usr/sbin/haproxy", 107, 0, "/usr/sbin/haproxy"},
    {"/" A15, 16, 0, "/" A15},
    {"/" A15 "/", 16, 0, "/" A15},
    {"/" A106, 107, 0, "/" A106},
    {"/" A106 "/", 107, 0, "/" A106},
    {"/", 1, 0, "/"},
    {"/a/b/c/d/e/f", 255, 0, "/a/b/c/d/e/f"},

    {"", 107, -EINVAL, NULL},
    {"relative", 107, -EINVAL, NULL},
    {"./a", 107, -EINVAL, NULL},
    {"../a", 107, -EINVAL, NULL},
    {".", 107, -EINVAL, NULL},
    {"..", 107, -EINVAL, NULL},
    {"a/b", 107, -EINVAL, NULL},
    {"~/x", 107, -EINVAL, NULL},
    {" /a", 107, -EINVAL, NULL},
    {"/a ", 107, -EINVAL, NULL},
    {"/a b", 107, -EINVAL, NULL},
    {"/a\n", 107, -EINVAL, NULL},
    {"/a\r", 107, -EINVAL, NULL},
    {"/a#", 107, -EINVAL, NULL},
    {"/a'", 107, -EINVAL, NULL},
    {"/a\"", 107, -EINVAL, NULL},
    {"/a\\b", 107, -EINVAL, NULL},
    {"/a$b", 107, -EINVAL, NULL},
    {"/a${HOME}", 107, -EINVAL, NULL},
    {"/caf\xc3\xa9", 107, -EINVAL, NULL},
    {"/a\x7f", 107, -EINVAL, NULL},
    {"//", 107, -EINVAL, NULL},
    {"//a", 107, -EINVAL, NULL},
    {"/a//b", 107, -EINVAL, NULL},
    {"/a//", 107, -EINVAL, NULL},
    {"/./", 107, -EINVAL, NULL},
    {"/.", 107, -EINVAL, NULL},
    {"/..", 107, -EINVAL, NULL},
    {"/../", 107, -EINVAL, NULL},
    {"/a/.", 107, -EINVAL, NULL},
    {"/a/..", 107, -EINVAL, NULL},
    {"/a/./b", 107, -EINVAL, NULL},
    {"/a/../b", 107, -EINVAL, NULL},
    {"/a/../", 107, -EINVAL, NULL},
    {"/a/*", 107, -EINVAL, NULL},
    {"/a?", 107, -EINVAL, NULL},
    {"/a;b", 107, -EINVAL, NULL},
    {"/a|b", 107, -EINVAL, NULL},
    {"/a`b`", 107, -EINVAL, NULL},
    {"/a\tb", 107, -EINVAL, NULL},
    {"/a{b}", 107, -EINVAL, NULL},
    {"/a(b)", 107, -EINVAL, NULL},
    {"/a[b]", 107, -EINVAL, NULL},
    {"/a!b", 107, -EINVAL, NULL},
    {"/a&b", 107, -EINVAL, NULL},
    {"/a<b>", 107, -EINVAL, NULL},
    {"/a~", 107, -EINVAL, NULL},
    {"/" A16, 16, -ENAMETOOLONG, NULL},
    {"/" A16 "/", 16, -ENAMETOOLONG, NULL},
    {"/" A106 "a", 107, -ENAMETOOLONG, NULL},
    {"/", 0, -ENAMETOOLONG, NULL},
    {"/ab", 2, -ENAMETOOLONG, NULL},
    {"/a/", 1, -ENAMETOOLONG, NULL},
};

static void
test_path(void **state)
{
	size_t i, good = 0, bad = 0;
	char e[400];

	(void)state;
	for (i = 0; i < NELEM(path_cases); i++) {
		const struct path_case *t = &path_cases[i];
		const char *why = why_unset;
		char out[300];
		size_t outsz = t->max + 1;
		int rc;

		assert_true(outsz < sizeof(out));
		memset(out, 'Z', sizeof(out));
		rc = validate_path(t->in, t->max, out, outsz, &why);
		check_rc(t->in, rc, t->rc);
		/* Nothing past outsz is ever written. */
		assert_int_equal(out[outsz], 'Z');
		if (rc == 0) {
			if (strcmp(out, t->out) != 0)
				fail_msg("'%s': got '%s', want '%s'",
				    esc(t->in, e, sizeof(e)), out, t->out);
			assert_true(strlen(out) <= t->max);
			assert_ptr_equal(why, why_unset);
			good++;
		} else {
			assert_int_equal(out[0], 'Z');
			check_why(t->in, why);
			bad++;
		}
		check_rc(t->in, validate_path(t->in, t->max, out, outsz, NULL),
		    t->rc);
	}
	count_cases(good, bad);
}

static void
test_path_outsz(void **state)
{
	const char *why = why_unset;
	char out[32];

	(void)state;
	memset(out, 'Z', sizeof(out));
	/* outsz must be greater than max, whatever the input. */
	assert_int_equal(validate_path("/a", 16, out, 16, &why), -EINVAL);
	check_why("/a", why);
	assert_int_equal(validate_path("/a", 16, out, 0, NULL), -EINVAL);
	assert_int_equal(validate_path("/a", 16, NULL, 17, NULL), -EINVAL);
	assert_int_equal(validate_path(NULL, 16, out, 17, NULL), -EINVAL);
	assert_int_equal(out[0], 'Z');
	/* A larger buffer is fine; the limit is max. */
	assert_int_equal(validate_path("/a/", 16, out, sizeof(out), NULL), 0);
	assert_string_equal(out, "/a");
}

/* validate_escape(). */
struct escape_case {
	const char *in;
	size_t cap;
	size_t outsz;
	const char *out;
};

static const struct escape_case escape_cases[] = {
    {"abc", 64, 64, "abc"},
    {"", 64, 64, ""},
    {"a b", 64, 64, "a b"},
    {"~!@#$%^&*()", 64, 64, "~!@#$%^&*()"},
    {"\n\t\r", 64, 64, "\\x0a\\x09\\x0d"},
    {"\x1b[31mred", 64, 64, "\\x1b[31mred"},
    {"\x01\x7f", 64, 64, "\\x01\\x7f"},
    {"it's", 64, 64, "it\\'s"},
    {"a\\b", 64, 64, "a\\\\b"},
    {"\"q\"", 64, 64, "\"q\""},
    {"caf\xc3\xa9", 64, 64, "caf\\xc3\\xa9"},
    {"\xff\x80", 64, 64, "\\xff\\x80"},
    {"\xAB", 64, 64, "\\xab"},
    /* cap */
    {"abcdef", 3, 64, "abc..."},
    {"abc", 3, 64, "abc"},
    {"abcd", 0, 64, "..."},
    {"", 0, 64, ""},
    {"\n\n\n\n", 2, 64, "\\x0a\\x0a..."},
    {"''''", 2, 64, "\\'\\'..."},
    /* outsz */
    {"abcdef", 64, 1, ""},
    {"abcdef", 64, 2, "."},
    {"abcdef", 64, 3, ".."},
    {"abcdef", 64, 4, "..."},
    {"abcdef", 64, 5, "a..."},
    {"abcdef", 64, 6, "ab..."},
    {"abcdef", 64, 7, "abcdef"},
    {"abcdef", 3, 6, "ab..."},
    {"abcdef", 3, 7, "abc..."},
    {"\n", 64, 4, "..."},
    {"\n", 64, 5, "\\x0a"},
    {"\nab", 64, 6, "..."},
    {"\nab", 64, 7, "\\x0aab"},
    {"\nabcd", 64, 7, "..."},
    {"\nabcd", 64, 8, "\\x0a..."},
    {"\nabcd", 64, 9, "\\x0aabcd"},
    {"a\\", 64, 3, ".."},
    {"a\\", 64, 4, "a\\\\"},
    {"", 64, 1, ""},
    {"x", 64, 1, ""},
    {"x", 64, 2, "x"},
};

static void
test_escape(void **state)
{
	char e[400], e2[400];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(escape_cases); i++) {
		const struct escape_case *t = &escape_cases[i];
		char out[128];
		char *r;

		assert_true(t->outsz < sizeof(out));
		memset(out, 'Z', sizeof(out));
		r = validate_escape(t->in, t->cap, out, t->outsz);
		assert_ptr_equal(r, out);
		assert_int_equal(out[t->outsz], 'Z');
		if (strcmp(out, t->out) != 0)
			fail_msg("'%s' cap %zu outsz %zu: got '%s', want '%s'",
			    esc(t->in, e, sizeof(e)), t->cap, t->outsz,
			    esc(out, e2, sizeof(e2)), t->out);
	}
}

/* Every byte, every small outsz: terminated, in bounds, printable. */
static void
test_escape_bounds(void **state)
{
	static const char *const inputs[] = {
	    "",
	    "a",
	    "\n",
	    "\\",
	    "'",
	    "\xff",
	    "abc\x01\xfe\\'def",
	    "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b",
	    A64,
	};
	char in[256], out[64];
	size_t i, j, cap, sz, len;
	unsigned char c;

	(void)state;
	/* All 255 non-NUL bytes. */
	for (i = 0; i < 255; i++)
		in[i] = (char)(i + 1);
	in[255] = '\0';
	for (sz = 1; sz < sizeof(out); sz++) {
		for (cap = 0; cap < 300; cap += 7) {
			for (i = 0; i <= NELEM(inputs); i++) {
				const char *s =
				    i < NELEM(inputs) ? inputs[i] : in;

				memset(out, 'Z', sizeof(out));
				validate_escape(s, cap, out, sz);
				assert_int_equal(out[sz], 'Z');
				len = strnlen(out, sz);
				assert_true(len < sz);
				for (j = 0; j < len; j++) {
					c = (unsigned char)out[j];
					assert_true(c >= 0x20 && c <= 0x7e);
				}
			}
		}
	}
	/* outsz 0 writes nothing; NULL input is "". */
	memset(out, 'Z', sizeof(out));
	assert_ptr_equal(validate_escape("abc", 10, out, 0), out);
	assert_int_equal(out[0], 'Z');
	assert_ptr_equal(validate_escape(NULL, 10, out, 5), out);
	assert_string_equal(out, "");
	/* The full byte range: 0x21 is '!', 0x27 is '\'', 0x5c is '\\'. */
	{
		char big[1200];

		validate_escape(in, 300, big, sizeof(big));
		assert_memory_equal(big, "\\x01\\x02", 8);
		assert_non_null(strstr(big, "\\x1f !\"#"));
		assert_non_null(strstr(big, "&\\'("));
		assert_non_null(strstr(big, "[\\\\]"));
		assert_non_null(strstr(big, "}~\\x7f\\x80"));
		len = strlen(big);
		assert_true(len >= 4);
		assert_string_equal(big + len - 4, "\\xff");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uuid),
	    cmocka_unit_test(test_ulong),
	    cmocka_unit_test(test_port),
	    cmocka_unit_test(test_leading_zero_reasons),
	    cmocka_unit_test(test_address),
	    cmocka_unit_test(test_address_outsz),
	    cmocka_unit_test(test_ifname),
	    cmocka_unit_test(test_ifname_reasons),
	    cmocka_unit_test(test_netns),
	    cmocka_unit_test(test_path),
	    cmocka_unit_test(test_path_outsz),
	    cmocka_unit_test(test_component),
	    cmocka_unit_test(test_account),
	    cmocka_unit_test(test_account_name),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_facility),
	    cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_escape_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
