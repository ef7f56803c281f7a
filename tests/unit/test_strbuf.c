#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "strbuf.h"

static void
test_append(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	int i;

	(void)state;
	assert_string_equal(strbuf_str(&sb), "");
	assert_int_equal(strbuf_append(&sb, "abc"), 0);
	assert_int_equal(strbuf_appendf(&sb, "-%d-%s", 42, "x"), 0);
	assert_string_equal(strbuf_str(&sb), "abc-42-x");
	assert_int_equal(sb.len, 8);
	/* Growth past the first allocation keeps the content. */
	for (i = 0; i < 1000; i++)
		assert_int_equal(strbuf_append(&sb, "0123456789"), 0);
	assert_int_equal(sb.len, 10008);
	assert_memory_equal(sb.buf, "abc-42-x0123456789", 18);
	assert_int_equal(sb.buf[sb.len], '\0');
	strbuf_release(&sb);
	assert_null(sb.buf);
	assert_int_equal(sb.len, 0);
	strbuf_release(NULL);
}

static void
test_failed_sticks(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	sb.failed = true;
	assert_int_equal(strbuf_append(&sb, "x"), -ENOMEM);
	assert_int_equal(strbuf_appendf(&sb, "%s", "x"), -ENOMEM);
	assert_string_equal(strbuf_str(&sb), "");
	strbuf_release(&sb);
}

static void
test_concat(void **state)
{
	char out[8];

	(void)state;
	memset(out, 'Z', sizeof(out));
	assert_int_equal(STR_CONCAT(out, sizeof(out), "ab", "/", "cd"), 5);
	assert_string_equal(out, "ab/cd");
	/* Exactly full: 7 bytes and the terminator. */
	assert_int_equal(STR_CONCAT(out, sizeof(out), "abcd", "efg"), 7);
	assert_string_equal(out, "abcdefg");
	/* One too many: refused, out untouched. */
	memcpy(out, "keep", 5);
	assert_int_equal(
	    STR_CONCAT(out, sizeof(out), "abcd", "efgh"), -ENAMETOOLONG);
	assert_string_equal(out, "keep");
	assert_int_equal(STR_CONCAT(out, 0, ""), -ENAMETOOLONG);
	assert_int_equal(STR_CONCAT(out, sizeof(out), ""), 0);
	assert_string_equal(out, "");
}

static void
test_appendn_and_clear(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	/* Embedded NULs count; the buffer stays terminated after them. */
	assert_int_equal(strbuf_appendn(&sb, "a\0b", 3), 0);
	assert_int_equal(strbuf_appendn(&sb, "cd", 1), 0);
	assert_int_equal(sb.len, 4);
	assert_memory_equal(sb.buf, "a\0bc", 5);
	assert_int_equal(strbuf_appendn(&sb, "", 0), 0);
	assert_int_equal(sb.len, 4);
	strbuf_clear(&sb);
	assert_int_equal(sb.len, 0);
	assert_string_equal(strbuf_str(&sb), "");
	/* A failure is forgotten by clear, and the allocation kept. */
	sb.failed = true;
	assert_int_equal(strbuf_append(&sb, "x"), -ENOMEM);
	strbuf_clear(&sb);
	assert_int_equal(strbuf_append(&sb, "xy"), 0);
	assert_string_equal(sb.buf, "xy");
	strbuf_release(&sb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_append),
	    cmocka_unit_test(test_failed_sticks),
	    cmocka_unit_test(test_concat),
	    cmocka_unit_test(test_appendn_and_clear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
