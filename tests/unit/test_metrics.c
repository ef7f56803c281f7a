#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/metrics.h"
#include "strbuf.h"

/* The value of the sample whose whole text before the value is head. */
static long long
sample(const char *text, const char *head)
{
	const char *p = text;
	size_t n = strlen(head);
	long long v;
	char *end;

	while ((p = strstr(p, head)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ') {
			v = strtoll(p + n + 1, &end, 10);
			assert_true(*end == '\n' || *end == '.');
			return v;
		}
		p += n;
	}
	return -1;
}

static void
test_answers_by_code(void **state)
{
	struct metrics_net m;
	unsigned int i;

	(void)state;
	memset(&m, 0, sizeof(m));
	metrics_count_answer(&m, 200, 10);
	metrics_count_answer(&m, 200, 10);
	metrics_count_answer(&m, 404, 10);
	assert_int_equal(m.codes[0].code, 200);
	assert_int_equal(m.codes[0].n, 2);
	assert_int_equal(m.codes[1].code, 404);
	assert_int_equal(m.codes[1].n, 1);
	/* No status: the client gave up; not a request answered. */
	metrics_count_answer(&m, 0, 10);
	metrics_count_answer(&m, -1, 10);
	metrics_count_answer(&m, 600, 10);
	assert_int_equal(m.aborted, 3);
	assert_int_equal(m.latency_count, 3);
	/* Past the table, a code counts by its class. */
	for (i = 0; i < METRICS_CODES + 3; i++)
		metrics_count_answer(&m, (int)(500 + i), 1);
	assert_int_equal(
	    m.codes[METRICS_CODES - 1].code, 500 + METRICS_CODES - 3);
	assert_int_equal(m.codes_other[5], 5);
}

static void
test_buckets(void **state)
{
	struct metrics_net m;

	(void)state;
	memset(&m, 0, sizeof(m));
	metrics_count_answer(&m, 200, 0);        /* le 0.005 */
	metrics_count_answer(&m, 200, 5000);     /* le 0.005: bounds hold */
	metrics_count_answer(&m, 200, 5001);     /* le 0.010 */
	metrics_count_answer(&m, 200, 10000000); /* le 10 */
	metrics_count_answer(&m, 200, 10000001); /* +Inf only */
	assert_int_equal(m.buckets[0], 2);
	assert_int_equal(m.buckets[1], 1);
	assert_int_equal(m.buckets[METRICS_BUCKETS - 1], 1);
	assert_int_equal(m.latency_count, 5);
	assert_int_equal(m.latency_us, 0 + 5000 + 5001 + 10000000 + 10000001);
}

static void
test_refusals(void **state)
{
	struct metrics_net m;
	char words[METRICS_REASONS + 2][16];
	unsigned int i;
	char same[] = "rate limited";

	(void)state;
	memset(&m, 0, sizeof(m));
	metrics_count_refusal(&m, "rate limited");
	/* The same words at another address are the same reason. */
	metrics_count_refusal(&m, same);
	assert_int_equal(m.refused[0].n, 2);
	for (i = 0; i < METRICS_REASONS + 2; i++) {
		(void)snprintf(words[i], sizeof(words[i]), "r%u", i);
		metrics_count_refusal(&m, words[i]);
	}
	assert_int_equal(m.refused_other, 3);
}

static void
test_render(void **state)
{
	struct metrics_net a, b;
	struct metrics_net_view nets[2] = {
	    {"11111111-1111-1111-1111-111111111111", "neutron", &a, 2},
	    {"22222222-2222-2222-2222-222222222222", "ovn", &b, 0},
	};
	struct metrics_pool_view pool = {"/run/a \"b\"\\c\nd", 5, 3, 1, 100};
	struct metrics_process proc = {
	    "1.2.3", 1000.5, 2.25, 0.5, 12, 1024, 4096, 8192, 2, 2, 1024};
	struct strbuf out = STRBUF_INIT;
	const char *t;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	metrics_count_answer(&a, 200, 3000);
	metrics_count_answer(&a, 200, 30000);
	metrics_count_answer(&a, 429, 100);
	metrics_count_refusal(&a, "rate limited");
	a.rate_limited = 1;
	a.spoofed_removed = 4;
	a.hop_removed = 1;
	a.bytes_in = 77;
	assert_int_equal(metrics_render(&proc, &pool, 1, nets, 2, &out), 0);
	t = strbuf_str(&out);
	assert_int_equal(sample(t, "ns_metadata_proxy_requests_total{id=\""
	                           "11111111-1111-1111-1111-111111111111\","
	                           "flavor=\"neutron\",code=\"200\","
	                           "class=\"2xx\"}"),
	    2);
	assert_int_equal(sample(t, "ns_metadata_proxy_refusals_total{id=\""
	                           "11111111-1111-1111-1111-111111111111\","
	                           "flavor=\"neutron\",reason=\"rate-"
	                           "limited\"}"),
	    1);
	assert_int_equal(
	    sample(t, "ns_metadata_proxy_headers_removed_total{id=\""
	              "11111111-1111-1111-1111-111111111111\",flavor=\""
	              "neutron\",type=\"spoofed\"}"),
	    4);
	assert_int_equal(sample(t, "ns_metadata_proxy_client_connections{id=\""
	                           "11111111-1111-1111-1111-111111111111\","
	                           "flavor=\"neutron\"}"),
	    2);
	/* Cumulative buckets: 3 ms, 0.1 ms in 0.005; 30 ms from 0.050. */
	assert_int_equal(
	    sample(t, "ns_metadata_proxy_request_duration_seconds_bucket{id="
	              "\"11111111-1111-1111-1111-111111111111\",flavor=\""
	              "neutron\",le=\"0.005\"}"),
	    2);
	assert_int_equal(
	    sample(t, "ns_metadata_proxy_request_duration_seconds_bucket{id="
	              "\"11111111-1111-1111-1111-111111111111\",flavor=\""
	              "neutron\",le=\"0.050\"}"),
	    3);
	assert_non_null(strstr(t, "ns_metadata_proxy_request_duration_"
	                          "seconds_sum{id=\"11111111-1111-1111-1111-"
	                          "111111111111\",flavor=\"neutron\"} "
	                          "0.033100\n"));
	/* The other network: its counters at 0, its flavour. */
	assert_int_equal(sample(t, "ns_metadata_proxy_received_bytes_total{id="
	                           "\"22222222-2222-2222-2222-222222222222\","
	                           "flavor=\"ovn\"}"),
	    0);
	/* A label value is escaped as the format says. */
	assert_int_equal(
	    sample(t, "ns_metadata_proxy_agent_connections{agent=\"/run/a "
	              "\\\"b\\\"\\\\c\\nd\",state=\"in_use\"}"),
	    2);
	assert_int_equal(sample(t, "process_open_fds"), 12);
	assert_int_equal(sample(t, "ns_metadata_proxy_networks"), 2);
	/* Each family once, with its type before its samples. */
	assert_non_null(
	    strstr(t, "# TYPE ns_metadata_proxy_requests_total counter\n"));
	assert_null(
	    strstr(strstr(t, "# TYPE ns_metadata_proxy_requests_total") + 1,
	        "# TYPE ns_metadata_proxy_requests_total"));
	strbuf_release(&out);
}

static void
test_render_unknown_process_fields(void **state)
{
	struct metrics_process proc = {"1", 1, 1, -1, -1, -1, -1, -1, 0, 0, 1};
	struct strbuf out = STRBUF_INIT;

	(void)state;
	assert_int_equal(metrics_render(&proc, NULL, 0, NULL, 0, &out), 0);
	/* What /proc would not say is left out, not shown as -1. */
	assert_null(strstr(strbuf_str(&out), "process_open_fds"));
	assert_null(strstr(strbuf_str(&out), "process_cpu_seconds_total"));
	assert_null(strstr(strbuf_str(&out), " -1\n"));
	assert_non_null(
	    strstr(strbuf_str(&out), "ns_metadata_proxy_networks 0\n"));
	strbuf_release(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_answers_by_code),
	    cmocka_unit_test(test_buckets),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_render),
	    cmocka_unit_test(test_render_unknown_process_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
