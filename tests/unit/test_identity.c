#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <pwd.h>
#include <grp.h>
#include <string.h>
#include <unistd.h>

#include "identity.h"
#include "options.h"

#define SENTINEL "untouched"

static void
test_user_by_number_and_name(void **state)
{
	char name[OPT_NAME_MAX + 1];
	uid_t uid = 12345;

	(void)state;
	assert_int_equal(identity_user("0", name, sizeof(name), &uid), 0);
	assert_string_equal(name, "root");
	assert_int_equal(uid, 0);
	uid = 12345;
	assert_int_equal(identity_user("root", name, sizeof(name), &uid), 0);
	assert_string_equal(name, "root");
	assert_int_equal(uid, 0);
}

/*
 * A number with a leading zero is neither an id ("00" is not root, "010"
 * not 8) nor a name (all digits): refused before any lookup, nothing
 * written.
 */
static void
test_leading_zero_refused(void **state)
{
	static const char *const zeros[] = {
	    "00", "000", "01", "010", "0001000", "04294967294"};
	char name[OPT_NAME_MAX + 1];
	uid_t uid;
	gid_t gid;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(zeros) / sizeof(zeros[0]); i++) {
		memcpy(name, SENTINEL, sizeof(SENTINEL));
		uid = 777;
		gid = 777;
		assert_int_equal(
		    identity_user(zeros[i], name, sizeof(name), &uid), -EINVAL);
		assert_int_equal(
		    identity_group(zeros[i], name, sizeof(name), &gid),
		    -EINVAL);
		assert_string_equal(name, SENTINEL);
		assert_int_equal(uid, 777);
		assert_int_equal(gid, 777);
	}
	/* "0" alone is root's id. */
	assert_int_equal(identity_user("0", name, sizeof(name), &uid), 0);
	assert_int_equal(uid, 0);
	assert_int_equal(identity_group("0", name, sizeof(name), &gid), 0);
	assert_int_equal(gid, 0);
}

static void
test_user_default_is_euid(void **state)
{
	char name[OPT_NAME_MAX + 1];
	struct passwd *pw = getpwuid(geteuid());
	uid_t uid = 12345;

	(void)state;
	assert_non_null(pw);
	assert_int_equal(identity_user("", name, sizeof(name), &uid), 0);
	assert_string_equal(name, pw->pw_name);
	assert_int_equal(uid, geteuid());
}

static void
test_group(void **state)
{
	char name[OPT_NAME_MAX + 1];
	struct group *gr = getgrgid(getegid());
	gid_t gid = 12345;

	(void)state;
	assert_int_equal(identity_group("0", name, sizeof(name), &gid), 0);
	assert_string_equal(name, "root");
	assert_int_equal(gid, 0);
	assert_int_equal(identity_group("root", name, sizeof(name), &gid), 0);
	assert_int_equal(gid, 0);
	assert_non_null(gr);
	assert_int_equal(identity_group("", name, sizeof(name), &gid), 0);
	assert_string_equal(name, gr->gr_name);
}

static void
test_unknown_and_bad_untouched(void **state)
{
	static const char *const bad_user[] = {"nosuchuser_nmp", "4294967294"};
	static const char *const invalid[] = {"ro ot", "-root", "root\n", "a$",
	    "4294967295", "r#", "\xc3\xa9",
	    "123456789012345678901234567890123"};
	char name[OPT_NAME_MAX + 1];
	uid_t uid;
	gid_t gid;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_user) / sizeof(bad_user[0]); i++) {
		memcpy(name, SENTINEL, sizeof(SENTINEL));
		uid = 777;
		gid = 777;
		assert_int_equal(
		    identity_user(bad_user[i], name, sizeof(name), &uid),
		    -ENOENT);
		assert_int_equal(
		    identity_group(bad_user[i], name, sizeof(name), &gid),
		    -ENOENT);
		assert_string_equal(name, SENTINEL);
		assert_int_equal(uid, 777);
		assert_int_equal(gid, 777);
	}
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		memcpy(name, SENTINEL, sizeof(SENTINEL));
		uid = 777;
		assert_int_equal(
		    identity_user(invalid[i], name, sizeof(name), &uid),
		    -EINVAL);
		assert_int_equal(
		    identity_group(invalid[i], name, sizeof(name), &gid),
		    -EINVAL);
		assert_string_equal(name, SENTINEL);
		assert_int_equal(uid, 777);
	}
}

static void
test_small_output(void **state)
{
	char name[3];
	uid_t uid = 777;

	(void)state;
	memcpy(name, "ok", 3);
	/* "root" does not fit in 3 bytes: refused, nothing written. */
	assert_int_equal(
	    identity_user("0", name, sizeof(name), &uid), -ENAMETOOLONG);
	assert_string_equal(name, "ok");
	assert_int_equal(uid, 777);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_user_by_number_and_name),
	    cmocka_unit_test(test_leading_zero_refused),
	    cmocka_unit_test(test_user_default_is_euid),
	    cmocka_unit_test(test_group),
	    cmocka_unit_test(test_unknown_and_bad_untouched),
	    cmocka_unit_test(test_small_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
