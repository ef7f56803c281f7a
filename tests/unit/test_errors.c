/*
 * The error policy (errors.h) and the product facts (metadata.h): one
 * table each, checked here row by row against what DESIGN.md and the
 * README promise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "errors.h"
#include "metadata.h"

static void
test_file_errors(void **state)
{
	(void)state;
	assert_int_equal(error_exit_code(-EACCES, OP_READ), EX_NOPERM);
	assert_int_equal(error_exit_code(-EPERM, OP_CREATE), EX_NOPERM);
	/* Unsafe state on disk, whatever was being done. */
	assert_int_equal(error_exit_code(-NMP_EUNSAFE, OP_READ), EX_CONFIG);
	assert_int_equal(error_exit_code(-NMP_ENOTPID, OP_CREATE), EX_CONFIG);
	assert_int_equal(error_exit_code(-ELOOP, OP_CREATE), EX_CONFIG);
	/* No room: cannot create when creating, an I/O error else. */
	assert_int_equal(error_exit_code(-ENOSPC, OP_CREATE), EX_CANTCREAT);
	assert_int_equal(error_exit_code(-ENOSPC, OP_READ), EX_IOERR);
	assert_int_equal(error_exit_code(-EFBIG, OP_CREATE), EX_CANTCREAT);
	assert_int_equal(error_exit_code(-EROFS, OP_READ), EX_IOERR);
	assert_int_equal(error_exit_code(-EIO, OP_CREATE), EX_IOERR);
	/* Anything else: an OS error. */
	assert_int_equal(error_exit_code(-ENOMEM, OP_READ), EX_OSERR);
	assert_int_equal(error_exit_code(-EINTR, OP_OTHER), EX_OSERR);
}

static void
test_start_errors(void **state)
{
	(void)state;
	assert_int_equal(error_exit_code(-EADDRINUSE, OP_BIND), EX_UNAVAILABLE);
	assert_int_equal(
	    error_exit_code(-EADDRNOTAVAIL, OP_BIND), EX_UNAVAILABLE);
	assert_int_equal(error_exit_code(-EACCES, OP_BIND), EX_NOPERM);
	assert_int_equal(error_exit_code(-ENODEV, OP_BIND), EX_OSERR);
	assert_int_equal(error_exit_code(-ENOENT, OP_NETNS), EX_DATAERR);
	assert_int_equal(error_exit_code(-EACCES, OP_NETNS), EX_NOPERM);
	assert_int_equal(error_exit_code(-EINVAL, OP_NETNS_TYPE), EX_DATAERR);
	assert_int_equal(error_exit_code(-EPERM, OP_NETNS_ENTER), EX_NOPERM);
	assert_int_equal(error_exit_code(-EINVAL, OP_NETNS_ENTER), EX_OSERR);
	assert_int_equal(error_exit_code(-EINVAL, OP_PRIVILEGES), EX_NOPERM);
	assert_int_equal(error_exit_code(-ENOENT, OP_EXEC), 127);
	assert_int_equal(error_exit_code(-EACCES, OP_EXEC), 126);
	assert_int_equal(
	    error_exit_code(-ENOENT, OP_FIND_HAPROXY), EX_UNAVAILABLE);
	assert_int_equal(error_exit_code(-EPERM, OP_FIND_HAPROXY), EX_CONFIG);
	assert_int_equal(error_exit_code(-ENOENT, OP_USER), EX_NOUSER);
	assert_int_equal(error_exit_code(-EINVAL, OP_GROUP), EX_DATAERR);
	assert_int_equal(error_exit_code(-EIO, OP_USER), EX_OSERR);
}

static void
test_words(void **state)
{
	(void)state;
	assert_string_equal(
	    error_describe(-ELOOP, OP_READ), "is a symbolic link");
	assert_string_equal(error_describe(-NMP_ENOTPID, OP_CREATE),
	    "not a pidfile: it holds other data");
	assert_non_null(
	    strstr(error_describe(-NMP_EUNSAFE, OP_READ), "unsafe: "));
	/* Ours keep their words outside the file operations too. */
	assert_string_equal(error_describe(-NMP_ENOTPID, OP_OTHER),
	    "not a pidfile: it holds other data");
	assert_string_equal(
	    error_describe(-ENOENT, OP_NETNS), "no such network namespace");
	assert_string_equal(
	    error_describe(-ENOENT, OP_FIND_HAPROXY), "not installed");
	assert_string_equal(error_describe(-ENOENT, OP_USER), "no such user");
	assert_string_equal(error_describe(-ENOENT, OP_GROUP), "no such group");
	/* The rest: the system's words. */
	assert_string_equal(
	    error_describe(-ENOSPC, OP_CREATE), strerror(ENOSPC));
	assert_string_equal(
	    error_describe(-EADDRINUSE, OP_BIND), strerror(EADDRINUSE));
}

/* Our conditions are outside every errno the C library knows. */
static void
test_own_range(void **state)
{
	char unknown[64];
	int e;

	(void)state;
	for (e = NMP_EFIRST; e < NMP_ELAST; e++) {
		(void)snprintf(unknown, sizeof(unknown), "Unknown error %d", e);
		assert_string_equal(strerror(e), unknown);
	}
}

/* Does the haproxy regex (without "(?i)") match name, as haproxy would? */
static bool
re_matches(const char *pcre, const char *name)
{
	regex_t re;
	bool m;

	assert_int_equal(strncmp(pcre, "(?i)", 4), 0);
	assert_int_equal(
	    regcomp(&re, pcre + 4, REG_EXTENDED | REG_ICASE | REG_NOSUB), 0);
	m = regexec(&re, name, 0, NULL, 0) == 0;
	regfree(&re);
	return m;
}

/*
 * The renderer's deletions (haproxy regexes) and the built-in engine's
 * (the lists) remove the same headers, in every spelling the agent folds.
 */
static void
test_removal_rules_agree(void **state)
{
	static const char *const keep[] = {"Host", "X-Forwarded-Host",
	    "X-Instance", "X-Tenant-Name", "Forwarded-For", "X-Real-IPs",
	    "Accept", NULL};
	char name[64], *c;
	size_t i;

	(void)state;
	for (i = 0; md_identity_headers[i] != NULL; i++) {
		(void)snprintf(
		    name, sizeof(name), "%s", md_identity_headers[i]);
		assert_true(re_matches(MD_RE_IDENTITY, name));
		/* As WSGI folds them the other way: lower case, '_'. */
		for (c = name; *c != '\0'; c++) {
			if (*c == '-')
				*c = '_';
			else if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c + ('a' - 'A'));
		}
		assert_true(re_matches(MD_RE_IDENTITY, name));
	}
	for (i = 0; md_own_prefixes[i] != NULL; i++) {
		(void)snprintf(
		    name, sizeof(name), "%sAnything", md_own_prefixes[i]);
		assert_true(re_matches(MD_RE_OWN, name));
	}
	assert_true(re_matches(MD_RE_OWN, MD_HEADER_NEUTRON_NETWORK));
	assert_true(re_matches(MD_RE_OWN, MD_HEADER_OVN_ROUTER));
	assert_true(re_matches(MD_RE_XFF, "x_forwarded_for"));
	assert_true(re_matches(MD_RE_XFF, MD_HEADER_XFF));
	for (i = 0; keep[i] != NULL; i++) {
		assert_false(re_matches(MD_RE_IDENTITY, keep[i]));
		assert_false(re_matches(MD_RE_OWN, keep[i]));
		assert_false(re_matches(MD_RE_XFF, keep[i]));
	}
}

static void
test_id_headers(void **state)
{
	(void)state;
	assert_string_equal(
	    md_id_header(FLAVOR_NEUTRON, ID_NETWORK), "X-Neutron-Network-ID");
	assert_string_equal(
	    md_id_header(FLAVOR_NEUTRON, ID_ROUTER), "X-Neutron-Router-ID");
	assert_string_equal(
	    md_id_header(FLAVOR_OVN, ID_NETWORK), "X-OVN-Network-ID");
	assert_string_equal(md_config_dir(FLAVOR_OVN), "ovn-metadata-proxy");
	assert_string_equal(md_config_dir(FLAVOR_NEUTRON), "ns-metadata-proxy");
}

/* The message text of the search path names exactly the directories. */
static void
test_haproxy_dirs_text(void **state)
{
	char text[256] = "";
	size_t i, len = 0;
	int n;

	(void)state;
	for (i = 0; md_haproxy_dirs[i] != NULL; i++) {
		n = snprintf(text + len, sizeof(text) - len, "%s%s",
		    i > 0 ? ", " : "", md_haproxy_dirs[i]);
		assert_true(n > 0 && (size_t)n < sizeof(text) - len);
		len += (size_t)n;
	}
	assert_string_equal(text, MD_HAPROXY_DIRS_TEXT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_file_errors),
	    cmocka_unit_test(test_start_errors),
	    cmocka_unit_test(test_words),
	    cmocka_unit_test(test_own_range),
	    cmocka_unit_test(test_removal_rules_agree),
	    cmocka_unit_test(test_id_headers),
	    cmocka_unit_test(test_haproxy_dirs_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
