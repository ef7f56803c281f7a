/*
 * The access line: haproxy's httplog read back with a regex built from the
 * field table of haproxy's configuration.txt (8.2.3), one group a field;
 * the JSON read back with json-c, every key and type.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "engine/accesslog.h"

/* ld --wrap=realloc: strbuf's allocations fail on demand. */
void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);

static int realloc_countdown = -1; /* -1: never fail; n: fail the n+1th */

void *
__wrap_realloc(void *p, size_t n)
{
	if (realloc_countdown == 0) {
		errno = ENOMEM;
		return NULL;
	}
	if (realloc_countdown > 0)
		realloc_countdown--;
	return __real_realloc(p, n);
}

/*
 * The groups of the httplog regex, in haproxy's order: field 2 (client),
 * 3 (date), 4, 5, 6 (five timers), 7, 8, 9, 10, 11, 12 (five counts),
 * 13 (two queues), 16 (the request; 14 and 15, the captures, are absent),
 * then our reason=.
 */
enum {
	F_IP = 1,
	F_PORT,
	F_DATE,
	F_FE,
	F_BE,
	F_SRV,
	F_TR,
	F_TW,
	F_TC,
	F_TRS,
	F_TA,
	F_ST,
	F_B,
	F_CC,
	F_CS,
	F_TSC,
	F_AC,
	F_FC,
	F_BC,
	F_SC,
	F_RC,
	F_SQ,
	F_BQ,
	F_REQ,
	F_REASON_ALL,
	F_REASON,
	NF
};

#define NUM "(-1|[0-9]+)"
static const char httplog_re[] =
    "^(-|[0-9A-Fa-f.:]+):([0-9]+) "
    "\\[([0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2}\\."
    "[0-9]{3})\\] "
    "([^ ]+) "
    "([^ /]+)/([^ ]+) " NUM "/" NUM "/" NUM "/" NUM "/" NUM " " NUM " "
    "([0-9]+) "
    "(-) (-) "
    "([A-Za-z-]{2}--) "
    "([0-9]+)/([0-9]+)/([0-9]+)/([0-9]+)/([0-9]+) "
    "([0-9]+)/([0-9]+) "
    "\"([^\"]*)\""
    "( reason=([^ \"]+))?$";

static regex_t re;

/* The JSON keys, in their order. */
static const char *const json_keys[] = {"client_ip", "client_port",
    "accept_date", "frontend_name", "backend_name", "server_name",
    "time_request", "time_queue", "time_connect", "time_response",
    "time_active", "status_code", "bytes_read", "termination_state", "actconn",
    "feconn", "beconn", "srv_conn", "retries", "srv_queue", "backend_queue",
    "http_request", "method", "path", "http_version", "reason"};
#define NKEYS (sizeof(json_keys) / sizeof(json_keys[0]))

struct tcase {
	const char *name;
	const char *tz;
	struct accesslog_rec rec;
	const char *want[NF]; /* httplog fields; NULL: group not matched */
	const char *iso;      /* JSON accept_date */
	const char *method, *path, *version; /* JSON; NULL: null */
	const char *line;                    /* the whole httplog line */
};

#define ID "8f2c6a1e-0b1d-4c55-9d0e-3f4a5b6c7d8e"
#define DEC6 1796516175 /* 2026-12-06T00:16:15Z */
#define PATH128                                                                \
	"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"     \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaz"

static const struct tcase cases[] = {
    {
        .name = "normal request",
        .tz = "UTC0",
        .rec = {"10.0.0.5", 45678, {DEC6, 123456}, ID, "metadata", "agent", 0,
            0, 1, 12, 13, 200, 345, "--", 1, 1, 1, 1, 0, 0, 0, "GET",
            "/latest/meta-data/", "HTTP/1.1", NULL},
        .want = {[F_IP] = "10.0.0.5",
            [F_PORT] = "45678",
            [F_DATE] = "06/Dec/2026:00:16:15.123",
            [F_FE] = ID,
            [F_BE] = "metadata",
            [F_SRV] = "agent",
            [F_TR] = "0",
            [F_TW] = "0",
            [F_TC] = "1",
            [F_TRS] = "12",
            [F_TA] = "13",
            [F_ST] = "200",
            [F_B] = "345",
            [F_CC] = "-",
            [F_CS] = "-",
            [F_TSC] = "----",
            [F_AC] = "1",
            [F_FC] = "1",
            [F_BC] = "1",
            [F_SC] = "1",
            [F_RC] = "0",
            [F_SQ] = "0",
            [F_BQ] = "0",
            [F_REQ] = "GET /latest/meta-data/ HTTP/1.1"},
        .iso = "2026-12-06T00:16:15.123+00:00",
        .method = "GET",
        .path = "/latest/meta-data/",
        .version = "HTTP/1.1",
        .line = "10.0.0.5:45678 [06/Dec/2026:00:16:15.123] " ID
                " metadata/agent 0/0/1/12/13 200 345 - - ---- 1/1/1/1/0 0/0 "
                "\"GET /latest/meta-data/ HTTP/1.1\"",
    },
    {
        .name = "refusal without a request line",
        .tz = "UTC0",
        .rec = {"10.0.0.7", 40000, {DEC6, 999999}, ID, "metadata", NULL, -1, -1,
            -1, -1, 3, 400, 187, "PR", 2, 2, 0, 0, 0, 0, 0, NULL, NULL, NULL,
            "bad-request"},
        .want = {[F_IP] = "10.0.0.7",
            [F_PORT] = "40000",
            [F_DATE] = "06/Dec/2026:00:16:15.999",
            [F_FE] = ID,
            [F_BE] = "metadata",
            [F_SRV] = "<NOSRV>",
            [F_TR] = "-1",
            [F_TW] = "-1",
            [F_TC] = "-1",
            [F_TRS] = "-1",
            [F_TA] = "3",
            [F_ST] = "400",
            [F_B] = "187",
            [F_CC] = "-",
            [F_CS] = "-",
            [F_TSC] = "PR--",
            [F_AC] = "2",
            [F_FC] = "2",
            [F_BC] = "0",
            [F_SC] = "0",
            [F_RC] = "0",
            [F_SQ] = "0",
            [F_BQ] = "0",
            [F_REQ] = "<BADREQ>",
            [F_REASON_ALL] = " reason=bad-request",
            [F_REASON] = "bad-request"},
        .iso = "2026-12-06T00:16:15.999+00:00",
        .line = "10.0.0.7:40000 [06/Dec/2026:00:16:15.999] " ID
                " metadata/<NOSRV> -1/-1/-1/-1/3 400 187 - - PR-- 2/2/0/0/0 "
                "0/0 \"<BADREQ>\" reason=bad-request",
    },
    {
        .name = "refusal after the head",
        .tz = "UTC0",
        .rec = {"10.0.0.8", 41000, {DEC6, 0}, ID, "metadata", NULL, 1, -1, -1,
            -1, 1, 429, 120, "PR", 3, 3, 1, 0, 0, 0, 0, "GET",
            "/openstack/latest/meta_data.json", "HTTP/1.1", "rate-limited"},
        .want = {[F_IP] = "10.0.0.8",
            [F_PORT] = "41000",
            [F_DATE] = "06/Dec/2026:00:16:15.000",
            [F_FE] = ID,
            [F_BE] = "metadata",
            [F_SRV] = "<NOSRV>",
            [F_TR] = "1",
            [F_TW] = "-1",
            [F_TC] = "-1",
            [F_TRS] = "-1",
            [F_TA] = "1",
            [F_ST] = "429",
            [F_B] = "120",
            [F_CC] = "-",
            [F_CS] = "-",
            [F_TSC] = "PR--",
            [F_AC] = "3",
            [F_FC] = "3",
            [F_BC] = "1",
            [F_SC] = "0",
            [F_RC] = "0",
            [F_SQ] = "0",
            [F_BQ] = "0",
            [F_REQ] = "GET /openstack/latest/meta_data.json HTTP/1.1",
            [F_REASON_ALL] = " reason=rate-limited",
            [F_REASON] = "rate-limited"},
        .iso = "2026-12-06T00:16:15.000+00:00",
        .method = "GET",
        .path = "/openstack/latest/meta_data.json",
        .version = "HTTP/1.1",
        .line = "10.0.0.8:41000 [06/Dec/2026:00:16:15.000] " ID
                " metadata/<NOSRV> 1/-1/-1/-1/1 429 120 - - PR-- 3/3/1/0/0 "
                "0/0 \"GET /openstack/latest/meta_data.json HTTP/1.1\" "
                "reason=rate-limited",
    },
    {
        /* haproxy's %ci:%cp: the address as inet_ntop gives it, no [] */
        .name = "IPv6 client",
        .tz = "UTC0",
        .rec = {"2001:db8::5", 4567, {DEC6, 5000}, ID, "metadata", "agent", 0,
            0, 0, 2, 2, 404, 0, "--", 1, 1, 1, 1, 0, 0, 0, "GET",
            "/latest/user-data", "HTTP/1.0", NULL},
        .want = {[F_IP] = "2001:db8::5",
            [F_PORT] = "4567",
            [F_DATE] = "06/Dec/2026:00:16:15.005",
            [F_FE] = ID,
            [F_BE] = "metadata",
            [F_SRV] = "agent",
            [F_TR] = "0",
            [F_TW] = "0",
            [F_TC] = "0",
            [F_TRS] = "2",
            [F_TA] = "2",
            [F_ST] = "404",
            [F_B] = "0",
            [F_CC] = "-",
            [F_CS] = "-",
            [F_TSC] = "----",
            [F_AC] = "1",
            [F_FC] = "1",
            [F_BC] = "1",
            [F_SC] = "1",
            [F_RC] = "0",
            [F_SQ] = "0",
            [F_BQ] = "0",
            [F_REQ] = "GET /latest/user-data HTTP/1.0"},
        .iso = "2026-12-06T00:16:15.005+00:00",
        .method = "GET",
        .path = "/latest/user-data",
        .version = "HTTP/1.0",
        .line = "2001:db8::5:4567 [06/Dec/2026:00:16:15.005] " ID
                " metadata/agent 0/0/0/2/2 404 0 - - ---- 1/1/1/1/0 0/0 "
                "\"GET /latest/user-data HTTP/1.0\"",
    },
    {
        .name = "hostile path",
        .tz = "UTC0",
        .rec = {"10.0.0.9", 1234, {DEC6, 1000}, ID, "metadata", "agent", -1, -1,
            -1, -1, -1, -1, 0, "CR", 1, 1, 0, 0, 0, 0, 0, "GET",
            "/a b\"c%d\\e\x01"
            "f\xff#g",
            "HTTP/1.1", NULL},
        .want = {[F_IP] = "10.0.0.9",
            [F_PORT] = "1234",
            [F_DATE] = "06/Dec/2026:00:16:15.001",
            [F_FE] = ID,
            [F_BE] = "metadata",
            [F_SRV] = "agent",
            [F_TR] = "-1",
            [F_TW] = "-1",
            [F_TC] = "-1",
            [F_TRS] = "-1",
            [F_TA] = "-1",
            [F_ST] = "-1",
            [F_B] = "0",
            [F_CC] = "-",
            [F_CS] = "-",
            [F_TSC] = "CR--",
            [F_AC] = "1",
            [F_FC] = "1",
            [F_BC] = "0",
            [F_SC] = "0",
            [F_RC] = "0",
            [F_SQ] = "0",
            [F_BQ] = "0",
            [F_REQ] = "GET /a#20b#22c%d#5Ce#01f#FF#23g HTTP/1.1"},
        .iso = "2026-12-06T00:16:15.001+00:00",
        .method = "GET",
        .path = "/a#20b#22c%d#5Ce#01f#FF#23g",
        .version = "HTTP/1.1",
    },
    {
        /* What the caller guarantees, not trusted either. */
        .name = "hostile method, version, names and reason",
        .tz = "UTC0",
        .rec = {"10.0.0.10", 1, {DEC6, 0}, "net 1\"", "meta data", "ag\tent", 0,
            0, 0, 0, 0, 200, 1, "--", 0, 0, 0, 0, 0, 0, 0, "G T", "/",
            "HTTP/1.1\r\n\"", "a b\"c"},
        .want = {[F_IP] = "10.0.0.10",
            [F_PORT] = "1",
            [F_DATE] = "06/Dec/2026:00:16:15.000",
            [F_FE] = "net#201#22",
            [F_BE] = "meta#20data",
            [F_SRV] = "ag#09ent",
            [F_TR] = "0",
            [F_TW] = "0",
            [F_TC] = "0",
            [F_TRS] = "0",
            [F_TA] = "0",
            [F_ST] = "200",
            [F_B] = "1",
            [F_CC] = "-",
            [F_CS] = "-",
            [F_TSC] = "----",
            [F_AC] = "0",
            [F_FC] = "0",
            [F_BC] = "0",
            [F_SC] = "0",
            [F_RC] = "0",
            [F_SQ] = "0",
            [F_BQ] = "0",
            [F_REQ] = "G#20T / HTTP/1.1#0D#0A#22",
            [F_REASON_ALL] = " reason=a#20b#22c",
            [F_REASON] = "a#20b#22c"},
        .iso = "2026-12-06T00:16:15.000+00:00",
        .method = "G#20T",
        .path = "/",
        .version = "HTTP/1.1#0D#0A#22",
    },
    {
        /* West of Greenwich: local time, a negative offset. */
        .name = "128-byte path, port 0, status -1, ULLONG_MAX bytes",
        .tz = "EST5",
        .rec = {"192.168.255.255", 0, {DEC6, 123999}, ID, "metadata", "agent",
            0, 0, 0, 0, 0, -1, ULLONG_MAX, "cD", 0, 0, 0, 0, 0, 0, 0, "GET",
            PATH128, "HTTP/1.1", NULL},
        .want = {[F_IP] = "192.168.255.255",
            [F_PORT] = "0",
            [F_DATE] = "05/Dec/2026:19:16:15.123",
            [F_FE] = ID,
            [F_BE] = "metadata",
            [F_SRV] = "agent",
            [F_TR] = "0",
            [F_TW] = "0",
            [F_TC] = "0",
            [F_TRS] = "0",
            [F_TA] = "0",
            [F_ST] = "-1",
            [F_B] = "18446744073709551615",
            [F_CC] = "-",
            [F_CS] = "-",
            [F_TSC] = "cD--",
            [F_AC] = "0",
            [F_FC] = "0",
            [F_BC] = "0",
            [F_SC] = "0",
            [F_RC] = "0",
            [F_SQ] = "0",
            [F_BQ] = "0",
            [F_REQ] = "GET " PATH128 " HTTP/1.1"},
        .iso = "2026-12-05T19:16:15.123-05:00",
        .method = "GET",
        .path = PATH128,
        .version = "HTTP/1.1",
    },
    {
        /* East, with half an hour; the epoch; the counters' maximum. */
        .name = "port 65535, IPv6 loopback, UINT_MAX counters",
        .tz = "IST-5:30",
        .rec = {"::1", 65535, {0, 0}, ID, "metadata", "agent", 0, 0, 0, 0,
            LONG_MAX, 503, 0, "sQ", UINT_MAX, UINT_MAX, UINT_MAX, UINT_MAX,
            UINT_MAX, UINT_MAX, UINT_MAX, "GET", "/", "HTTP/1.1", NULL},
        .want = {[F_IP] = "::1",
            [F_PORT] = "65535",
            [F_DATE] = "01/Jan/1970:05:30:00.000",
            [F_FE] = ID,
            [F_BE] = "metadata",
            [F_SRV] = "agent",
            [F_TR] = "0",
            [F_TW] = "0",
            [F_TC] = "0",
            [F_TRS] = "0",
            [F_TA] = "9223372036854775807",
            [F_ST] = "503",
            [F_B] = "0",
            [F_CC] = "-",
            [F_CS] = "-",
            [F_TSC] = "sQ--",
            [F_AC] = "4294967295",
            [F_FC] = "4294967295",
            [F_BC] = "4294967295",
            [F_SC] = "4294967295",
            [F_RC] = "4294967295",
            [F_SQ] = "4294967295",
            [F_BQ] = "4294967295",
            [F_REQ] = "GET / HTTP/1.1"},
        .iso = "1970-01-01T05:30:00.000+05:30",
        .method = "GET",
        .path = "/",
        .version = "HTTP/1.1",
        .line = "::1:65535 [01/Jan/1970:05:30:00.000] " ID
                " metadata/agent 0/0/0/0/9223372036854775807 503 0 - - sQ-- "
                "4294967295/4294967295/4294967295/4294967295/4294967295 "
                "4294967295/4294967295 \"GET / HTTP/1.1\"",
    },
    {
        /* Missing names print "-", timers below -1 as -1, junk state. */
        .name = "missing fields",
        .tz = "UTC0",
        .rec = {NULL, 80, {DEC6, 0}, "", NULL, "", -7, LONG_MIN, -2, -1, -3,
            200, 0, "x ", 0, 0, 0, 0, 0, 0, 0, "GET", NULL, NULL, ""},
        .want = {[F_IP] = "-",
            [F_PORT] = "80",
            [F_DATE] = "06/Dec/2026:00:16:15.000",
            [F_FE] = "-",
            [F_BE] = "-",
            [F_SRV] = "<NOSRV>",
            [F_TR] = "-1",
            [F_TW] = "-1",
            [F_TC] = "-1",
            [F_TRS] = "-1",
            [F_TA] = "-1",
            [F_ST] = "200",
            [F_B] = "0",
            [F_CC] = "-",
            [F_CS] = "-",
            [F_TSC] = "----",
            [F_AC] = "0",
            [F_FC] = "0",
            [F_BC] = "0",
            [F_SC] = "0",
            [F_RC] = "0",
            [F_SQ] = "0",
            [F_BQ] = "0",
            [F_REQ] = "GET -"},
        .iso = "2026-12-06T00:16:15.000+00:00",
        .method = "GET",
        .path = "-",
    },
};

static void
set_tz(const char *tz)
{
	assert_int_equal(setenv("TZ", tz, 1), 0);
	tzset();
}

static int
group_setup(void **state)
{
	(void)state;
	return regcomp(&re, httplog_re, REG_EXTENDED) == 0 ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	regfree(&re);
	return 0;
}

/* One line, only printable ASCII: no newline, no raw byte of a client. */
static void
assert_one_ascii_line(const char *s)
{
	for (; *s != '\0'; s++)
		assert_true(*s >= 0x20 && *s <= 0x7e);
}

static void
check_httplog(const char *line, const char *const want[NF])
{
	regmatch_t m[NF];
	char field[512];
	size_t n;
	int i;

	assert_one_ascii_line(line);
	if (regexec(&re, line, NF, m, 0) != 0)
		fail_msg("httplog does not match: %s", line);
	for (i = 1; i < NF; i++) {
		if (want[i] == NULL) {
			if (m[i].rm_so != -1)
				fail_msg("field %d: unexpected in %s", i, line);
			continue;
		}
		assert_true(m[i].rm_so >= 0);
		n = (size_t)(m[i].rm_eo - m[i].rm_so);
		assert_true(n < sizeof(field));
		memcpy(field, line + m[i].rm_so, n);
		field[n] = '\0';
		if (strcmp(field, want[i]) != 0)
			fail_msg(
			    "field %d: '%s', want '%s'", i, field, want[i]);
	}
}

static json_object *
parse_json(const char *text)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *o;

	assert_non_null(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, text, (int)strlen(text));
	assert_int_equal(json_tokener_get_error(tok), json_tokener_success);
	assert_int_equal(json_tokener_get_parse_end(tok), strlen(text));
	json_tokener_free(tok);
	assert_non_null(o);
	assert_true(json_object_is_type(o, json_type_object));
	return o;
}

static void
expect_str(json_object *o, const char *key, const char *want)
{
	json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	if (want == NULL) {
		if (v != NULL)
			fail_msg("%s: want null", key);
		return;
	}
	if (!json_object_is_type(v, json_type_string))
		fail_msg("%s: not a string", key);
	if (strcmp(json_object_get_string(v), want) != 0) {
		fail_msg("%s: '%s', want '%s'", key, json_object_get_string(v),
		    want);
	}
}

/* A number, compared with the httplog's text for the same field. */
static void
expect_num(json_object *o, const char *key, const char *want)
{
	json_object *v;
	char text[32];

	assert_true(json_object_object_get_ex(o, key, &v));
	if (!json_object_is_type(v, json_type_int))
		fail_msg("%s: not an integer", key);
	if (strcmp(key, "bytes_read") == 0) {
		(void)snprintf(text, sizeof(text), "%llu",
		    (unsigned long long)json_object_get_uint64(v));
	} else {
		(void)snprintf(text, sizeof(text), "%lld",
		    (long long)json_object_get_int64(v));
	}
	if (strcmp(text, want) != 0)
		fail_msg("%s: %s, want %s", key, text, want);
}

static void
check_json(const char *text, const struct tcase *c)
{
	static const struct {
		const char *key;
		int field;
	} nums[] = {{"client_port", F_PORT}, {"time_request", F_TR},
	    {"time_queue", F_TW}, {"time_connect", F_TC},
	    {"time_response", F_TRS}, {"time_active", F_TA},
	    {"status_code", F_ST}, {"bytes_read", F_B}, {"actconn", F_AC},
	    {"feconn", F_FC}, {"beconn", F_BC}, {"srv_conn", F_SC},
	    {"retries", F_RC}, {"srv_queue", F_SQ}, {"backend_queue", F_BQ}};
	json_object *o = parse_json(text);
	size_t i, k = 0;

	assert_one_ascii_line(text);
	assert_int_equal(json_object_object_length(o), NKEYS);
	json_object_object_foreach(o, key, val)
	{
		(void)val;
		assert_true(k < NKEYS);
		assert_string_equal(key, json_keys[k]);
		k++;
	}
	assert_int_equal(k, NKEYS);
	expect_str(o, "client_ip", c->want[F_IP]);
	expect_str(o, "accept_date", c->iso);
	expect_str(o, "frontend_name", c->want[F_FE]);
	expect_str(o, "backend_name", c->want[F_BE]);
	expect_str(o, "server_name", c->want[F_SRV]);
	expect_str(o, "termination_state", c->want[F_TSC]);
	expect_str(o, "http_request", c->want[F_REQ]);
	expect_str(o, "method", c->method);
	expect_str(o, "path", c->path);
	expect_str(o, "http_version", c->version);
	expect_str(o, "reason", c->want[F_REASON]);
	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		expect_num(o, nums[i].key, c->want[nums[i].field]);
	/* Compact: what json-c writes back from it, byte for byte. */
	assert_string_equal(
	    text, json_object_to_json_string_ext(o,
	              JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void
test_cases(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];
		struct strbuf sb = STRBUF_INIT;

		print_message("case: %s\n", c->name);
		set_tz(c->tz);
		assert_int_equal(
		    accesslog_format(&c->rec, ACCESSLOG_HTTPLOG, &sb), 0);
		check_httplog(strbuf_str(&sb), c->want);
		if (c->line != NULL)
			assert_string_equal(strbuf_str(&sb), c->line);
		strbuf_clear(&sb);
		assert_int_equal(
		    accesslog_format(&c->rec, ACCESSLOG_JSON, &sb), 0);
		check_json(strbuf_str(&sb), c);
		strbuf_release(&sb);
	}
	set_tz("UTC0");
}

/* Appended after what out holds, no newline, in both formats. */
static void
test_appends(void **state)
{
	const struct tcase *c = &cases[0];
	struct strbuf sb = STRBUF_INIT;
	size_t n;

	(void)state;
	set_tz(c->tz);
	assert_int_equal(strbuf_append(&sb, "<30>proxy: "), 0);
	assert_int_equal(accesslog_format(&c->rec, ACCESSLOG_HTTPLOG, &sb), 0);
	n = strlen("<30>proxy: ");
	assert_memory_equal(strbuf_str(&sb), "<30>proxy: ", n);
	assert_string_equal(strbuf_str(&sb) + n, c->line);
	assert_int_equal(strbuf_append(&sb, "|"), 0);
	n = sb.len;
	assert_int_equal(accesslog_format(&c->rec, ACCESSLOG_JSON, &sb), 0);
	assert_string_equal(strbuf_str(&sb) + n - 1,
	    "|{\"client_ip\":\"10.0.0.5\","
	    "\"client_port\":45678,\"accept_date\":\"2026-12-06T00:16:15.123+"
	    "00:00\","
	    "\"frontend_name\":\"" ID "\",\"backend_name\":\"metadata\","
	    "\"server_name\":\"agent\",\"time_request\":0,\"time_queue\":0,"
	    "\"time_connect\":1,\"time_response\":12,\"time_active\":13,"
	    "\"status_code\":200,\"bytes_read\":345,\"termination_state\":\"---"
	    "-\","
	    "\"actconn\":1,\"feconn\":1,\"beconn\":1,\"srv_conn\":1,"
	    "\"retries\":0,"
	    "\"srv_queue\":0,\"backend_queue\":0,"
	    "\"http_request\":\"GET /latest/meta-data/ "
	    "HTTP/1.1\",\"method\":\"GET\","
	    "\"path\":\"/latest/meta-data/\",\"http_version\":\"HTTP/1.1\","
	    "\"reason\":null}");
	strbuf_release(&sb);
}

/* haproxy's escaping, written independently: what a byte must become. */
static void
escaped_byte(unsigned char b, char *out, size_t outsz)
{
	if (b > 0x20 && b < 0x7f && b != '"' && b != '#' && b != '\\')
		(void)snprintf(out, outsz, "%c", b);
	else
		(void)snprintf(out, outsz, "#%02X", (unsigned int)b);
}

/* Every byte value a C string can hold, alone in the path. */
static void
test_every_byte(void **state)
{
	struct accesslog_rec r = cases[0].rec;
	const char *want[NF];
	char path[8], esc[8], wpath[16], wreq[64];
	json_object *o, *v;
	unsigned int b;

	(void)state;
	set_tz("UTC0");
	memcpy(want, cases[0].want, sizeof(want));
	for (b = 1; b < 256; b++) {
		struct strbuf sb = STRBUF_INIT;

		path[0] = '/';
		path[1] = 'x';
		path[2] = (char)b;
		path[3] = 'y';
		path[4] = '\0';
		r.path = path;
		escaped_byte((unsigned char)b, esc, sizeof(esc));
		(void)snprintf(wpath, sizeof(wpath), "/x%sy", esc);
		(void)snprintf(wreq, sizeof(wreq), "GET %s HTTP/1.1", wpath);
		want[F_REQ] = wreq;
		assert_int_equal(
		    accesslog_format(&r, ACCESSLOG_HTTPLOG, &sb), 0);
		check_httplog(strbuf_str(&sb), want);
		strbuf_clear(&sb);
		assert_int_equal(accesslog_format(&r, ACCESSLOG_JSON, &sb), 0);
		assert_one_ascii_line(strbuf_str(&sb));
		o = parse_json(strbuf_str(&sb));
		assert_true(json_object_object_get_ex(o, "path", &v));
		assert_string_equal(json_object_get_string(v), wpath);
		assert_true(json_object_object_get_ex(o, "http_request", &v));
		assert_string_equal(json_object_get_string(v), wreq);
		json_object_put(o);
		strbuf_release(&sb);
	}
}

/* All of them at once, and the escaped text decodes back to them. */
static void
test_every_byte_decodes(void **state)
{
	struct accesslog_rec r = cases[0].rec;
	struct strbuf sb = STRBUF_INIT;
	char path[256], back[256], hexd[3];
	regmatch_t m[NF];
	const char *p, *end;
	size_t n = 0;
	unsigned int b;

	(void)state;
	set_tz("UTC0");
	for (b = 1; b < 256; b++)
		path[b - 1] = (char)b;
	path[255] = '\0';
	r.path = path;
	assert_int_equal(accesslog_format(&r, ACCESSLOG_HTTPLOG, &sb), 0);
	assert_one_ascii_line(strbuf_str(&sb));
	assert_int_equal(regexec(&re, strbuf_str(&sb), NF, m, 0), 0);
	p = strbuf_str(&sb) + m[F_REQ].rm_so + strlen("GET ");
	end = strbuf_str(&sb) + m[F_REQ].rm_eo - strlen(" HTTP/1.1");
	assert_memory_equal(end, " HTTP/1.1", strlen(" HTTP/1.1"));
	while (p < end) {
		assert_true(n < sizeof(back) - 1);
		assert_true(*p != ' ' && *p != '"' && *p != '\\');
		if (*p == '#') {
			assert_true(end - p >= 3);
			hexd[0] = p[1];
			hexd[1] = p[2];
			hexd[2] = '\0';
			assert_non_null(strchr("0123456789ABCDEF", hexd[0]));
			assert_non_null(strchr("0123456789ABCDEF", hexd[1]));
			back[n++] = (char)strtoul(hexd, NULL, 16);
			p += 3;
		} else {
			back[n++] = *p++;
		}
	}
	back[n] = '\0';
	assert_string_equal(back, path);
	strbuf_release(&sb);
}

/* Failures: out untouched on -EINVAL, not a byte longer on -ENOMEM. */
static void
test_invalid(void **state)
{
	static const struct timeval bad[] = {
	    {DEC6, 1000000}, {DEC6, -1}, {253402300800, 0} /* year 10000 */
	};
	struct accesslog_rec r = cases[0].rec;
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	(void)state;
	set_tz("UTC0");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r.accept_date = bad[i];
		assert_int_equal(
		    accesslog_format(&r, ACCESSLOG_HTTPLOG, &sb), -EINVAL);
		assert_int_equal(
		    accesslog_format(&r, ACCESSLOG_JSON, &sb), -EINVAL);
		assert_null(sb.buf);
		assert_false(sb.failed);
	}
	/* the last second of year 9999 is still one */
	r.accept_date.tv_sec = 253402300799;
	r.accept_date.tv_usec = 999999;
	assert_int_equal(accesslog_format(&r, ACCESSLOG_HTTPLOG, &sb), 0);
	assert_non_null(
	    strstr(strbuf_str(&sb), " [31/Dec/9999:23:59:59.999] "));
	strbuf_clear(&sb);
	r.accept_date = cases[0].rec.accept_date;
	assert_int_equal(
	    accesslog_format(&r, (enum accesslog_format)2, &sb), -EINVAL);
	assert_int_equal(sb.len, 0);
	/* a buffer that failed before: nothing more */
	sb.failed = true;
	assert_int_equal(accesslog_format(&r, ACCESSLOG_HTTPLOG, &sb), -ENOMEM);
	assert_int_equal(accesslog_format(&r, ACCESSLOG_JSON, &sb), -ENOMEM);
	assert_int_equal(sb.len, 0);
	strbuf_release(&sb);
}

/*
 * Each allocation in turn fails, after prefixes of every length up to
 * twice strbuf's first size, so that the line outgrows the buffer at each
 * of its appends: out keeps its text and is marked failed.
 */
static void
check_enomem(enum accesslog_format fmt)
{
	const struct tcase *c = &cases[4]; /* escapes: many appends */
	char prefix[513];
	const char *want;
	size_t plen;
	int n, ret, failures = 0;

	set_tz(c->tz);
	want = fmt == ACCESSLOG_JSON ? "{\"client_ip\":\"10.0.0.9\","
	                             : "10.0.0.9:";
	for (plen = 0; plen < sizeof(prefix); plen++) {
		memset(prefix, 'p', plen);
		prefix[plen] = '\0';
		for (n = 0;; n++) {
			struct strbuf sb = STRBUF_INIT;

			assert_int_equal(strbuf_append(&sb, prefix), 0);
			realloc_countdown = n;
			ret = accesslog_format(&c->rec, fmt, &sb);
			realloc_countdown = -1;
			if (ret == 0) {
				assert_false(sb.failed);
				assert_memory_equal(
				    sb.buf + plen, want, strlen(want));
				strbuf_release(&sb);
				break;
			}
			assert_int_equal(ret, -ENOMEM);
			assert_true(sb.failed);
			assert_int_equal(sb.len, plen);
			assert_string_equal(strbuf_str(&sb), prefix);
			strbuf_release(&sb);
			failures++;
			assert_true(n < 100);
		}
	}
	assert_true(failures > 0);
}

static void
test_enomem(void **state)
{
	(void)state;
	check_enomem(ACCESSLOG_HTTPLOG);
	check_enomem(ACCESSLOG_JSON);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),
	    cmocka_unit_test(test_appends),
	    cmocka_unit_test(test_every_byte),
	    cmocka_unit_test(test_every_byte_decodes),
	    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_enomem),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
