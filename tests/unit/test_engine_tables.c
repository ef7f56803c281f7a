/* The engine's per-address tables: the rate limiter and the source counts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "engine/addrkey.h"
#include "engine/ratelimit.h"
#include "engine/srccount.h"

static void
key_of(unsigned int n, unsigned char *key)
{
	memset(key, 0, ADDRKEY_LEN);
	key[10] = 0xff;
	key[11] = 0xff;
	key[12] = 10;
	key[13] = (unsigned char)(n >> 16);
	key[14] = (unsigned char)(n >> 8);
	key[15] = (unsigned char)n;
}

static void
test_addrkey_text(void **state)
{
	unsigned char key[ADDRKEY_LEN];
	char text[64];

	(void)state;
	key_of(0x000105, key);
	addrkey_text(key, text, sizeof(text));
	assert_string_equal(text, "10.0.1.5");
	memset(key, 0, sizeof(key));
	key[0] = 0xfe;
	key[1] = 0x80;
	key[15] = 1;
	addrkey_text(key, text, sizeof(text));
	assert_string_equal(text, "fe80::1");
	addrkey_text(key, text, 4); /* does not fit: empty */
	assert_string_equal(text, "");
}

/* Nothing is allocated until the first request. */
static void
test_rate_table_is_lazy(void **state)
{
	struct rate_limit rl = {true, 4, 60, 100, 10, 5};
	struct ratelimit r;
	unsigned char key[ADDRKEY_LEN];

	(void)state;
	ratelimit_init(&r, &rl);
	assert_null(r.slots);
	key_of(1, key);
	assert_false(ratelimit_over(&r, key, 1000));
	assert_non_null(r.slots);
	ratelimit_release(&r);
	assert_null(r.slots);
}

/* The burst limit within its window, then a new window; per address. */
static void
test_rate_windows(void **state)
{
	struct rate_limit rl = {true, 4, 60, 8, 10, 3};
	struct ratelimit r;
	unsigned char a[ADDRKEY_LEN], b[ADDRKEY_LEN];
	int i;

	(void)state;
	ratelimit_init(&r, &rl);
	key_of(1, a);
	key_of(2, b);
	for (i = 0; i < 3; i++)
		assert_false(ratelimit_over(&r, a, 1000));
	assert_true(ratelimit_over(&r, a, 1005));  /* 4th in 10 s */
	assert_false(ratelimit_over(&r, b, 1005)); /* another address */
	/* A new burst window; the base window counts on: 5, 6, 7, then 8. */
	for (i = 0; i < 3; i++)
		assert_false(ratelimit_over(&r, a, 1010));
	assert_false(ratelimit_over(&r, a, 1030));
	assert_true(ratelimit_over(&r, a, 1031)); /* 9th in 60 s */
	/* Both windows over: counted afresh. */
	assert_false(ratelimit_over(&r, a, 1060));
	ratelimit_release(&r);
}

static void
test_srccount_cap(void **state)
{
	struct srccount t;
	unsigned char a[ADDRKEY_LEN], b[ADDRKEY_LEN];

	(void)state;
	srccount_init(&t, 2, 64);
	assert_null(t.slots);
	key_of(1, a);
	key_of(2, b);
	assert_int_equal(srccount_of(&t, a), 0);
	assert_true(srccount_take(&t, a));
	assert_true(srccount_take(&t, a));
	assert_false(srccount_take(&t, a));
	assert_true(srccount_take(&t, b));
	assert_int_equal(srccount_of(&t, a), 2);
	srccount_put(&t, a);
	assert_true(srccount_take(&t, a));
	srccount_put(&t, a);
	srccount_put(&t, a);
	assert_int_equal(srccount_of(&t, a), 0);
	assert_int_equal(srccount_of(&t, b), 1);
	srccount_release(&t);
}

/*
 * Many addresses in a small table, freed in another order: every count
 * stays right (the backward shift never loses an entry).
 */
static void
test_srccount_many(void **state)
{
	struct srccount t;
	unsigned char k[ADDRKEY_LEN];
	unsigned int i;

	(void)state;
	srccount_init(&t, 1, 200);
	for (i = 0; i < 200; i++) {
		key_of(i * 7919, k);
		assert_true(srccount_take(&t, k));
	}
	for (i = 0; i < 200; i += 2) {
		key_of(i * 7919, k);
		srccount_put(&t, k);
	}
	for (i = 0; i < 200; i++) {
		key_of(i * 7919, k);
		assert_int_equal(srccount_of(&t, k), i % 2);
		assert_true(srccount_take(&t, k) == (i % 2 == 0));
	}
	srccount_release(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addrkey_text),
	    cmocka_unit_test(test_rate_table_is_lazy),
	    cmocka_unit_test(test_rate_windows),
	    cmocka_unit_test(test_srccount_cap),
	    cmocka_unit_test(test_srccount_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
