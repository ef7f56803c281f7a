/*
 * The fleet: its control protocol (fleet/proto.h) both ways, the server
 * (fleet/server.h) carrying out requests on a real engine with real
 * listeners, and the control socket's system calls (fleet/ctl.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "defaults.h"
#include "engine/engine.h"
#include "fleet/ctl.h"
#include "fleet/proto.h"
#include "fleet/server.h"
#include "log.h"
#include "strbuf.h"
#include "validate.h"
#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define UUID "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
#define UUID2 "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
/* Networks of the paging test: more than two pages of FLEET_LIST_PAGE. */
#define MANY 150

/* A request's head and a network's fields, to build messages from. */
#define ADD_HEAD "{\"v\":1,\"op\":\"add\",\"network\":"
#define NET_ID "\"id\":\"" UUID "\""
#define NET_BASE                                                               \
	NET_ID ",\"kind\":\"network\",\"flavor\":\"neutron\","                 \
	       "\"socket\":\"/run/agent.sock\",\"bind\":\"127.0.0.1\""
#define NET_OK NET_BASE ",\"port\":80"
#define ADD(net) ADD_HEAD "{" net "}}"

/* A long path component, for lengths at and past the socket limit. */
#define A8 "aaaaaaaa"
#define A64 A8 A8 A8 A8 A8 A8 A8 A8
#define A106 A64 A8 A8 A8 A8 A8 "aa"

/* ---- helpers ---- */

/* One non-empty line of printable ASCII: what a refusal says. */
static void
assert_one_line(const char *why, size_t whysz)
{
	size_t i, n = strnlen(why, whysz);

	assert_true(n > 0 && n < whysz);
	for (i = 0; i < n; i++)
		if (why[i] < 0x20 || why[i] > 0x7e)
			fail_msg("byte %zu of '%s' is 0x%02x", i, why,
			    (unsigned char)why[i]);
}

static int
parse_n(const char *msg, size_t len, struct fleet_request *r, char *why,
    size_t whysz)
{
	return fleet_request_parse(msg, len, r, why, whysz);
}

static int
parse(const char *msg, struct fleet_request *r, char *why, size_t whysz)
{
	return parse_n(msg, strlen(msg), r, why, whysz);
}

/* r written and read again: the same bytes, struct for struct. */
static void
assert_round_trip(const struct fleet_request *r)
{
	struct fleet_request *back = malloc(sizeof(*back));
	struct strbuf out = STRBUF_INIT;
	char why[FLEET_ERROR_MAX] = "";

	assert_non_null(back);
	assert_int_equal(fleet_request_write(r, &out), 0);
	assert_false(out.failed);
	assert_true(out.len > 0 && out.len <= FLEET_MSG_MAX);
	assert_int_equal(parse_n(out.buf, out.len, back, why, sizeof(why)), 0);
	assert_memory_equal(back, r, sizeof(*r));
	strbuf_release(&out);
	free(back);
}

/* A network unlike the defaults in every field. */
static void
full_conf(struct proxy_conf *p)
{
	memset(p, 0, sizeof(*p));
	p->flavor = FLAVOR_NEUTRON;
	p->id_kind = ID_ROUTER;
	(void)snprintf(p->id, sizeof(p->id), "%s", UUID);
	(void)snprintf(p->socket_path, sizeof(p->socket_path), "%s",
	    "/var/lib/neutron/metadata_proxy");
	(void)snprintf(p->bind_address, sizeof(p->bind_address), "fd00::a9fe");
	p->bind_v6 = true;
	(void)snprintf(
	    p->bind_address_v6, sizeof(p->bind_address_v6), "fe80::a9fe:a9fe");
	(void)snprintf(
	    p->bind_interface, sizeof(p->bind_interface), "qr-1a2b3c4d-5e");
	p->port = 8775;
	p->max_conns_per_source = 7;
	p->max_body_size = 0;
	p->timeouts.http_request = 1;
	p->timeouts.connect = 2;
	p->timeouts.client = 3;
	p->timeouts.server = VALIDATE_TIMEOUT_MAX;
	p->timeouts.http_keep_alive = 5;
	p->rate_limit.enabled = true;
	p->rate_limit.ip_version = 6;
	p->rate_limit.base_window = DEF_RATE_WINDOW_MAX;
	p->rate_limit.base_limit = DEF_RATE_LIMIT_MAX;
	p->rate_limit.burst_window = 1;
	p->rate_limit.burst_limit = 2;
}

/* ---- 1. round trips ---- */

static void
test_round_trip_add(void **state)
{
	struct fleet_request *r = malloc(sizeof(*r));
	struct fleet_request *back = malloc(sizeof(*back));
	struct strbuf out = STRBUF_INIT;
	char why[FLEET_ERROR_MAX];

	(void)state;
	assert_non_null(r);
	assert_non_null(back);
	memset(r, 0, sizeof(*r));
	r->op = FLEET_ADD;
	full_conf(&r->net);
	(void)snprintf(r->netns, sizeof(r->netns), "qrouter-%s", UUID);
	r->hold = true;
	assert_int_equal(fleet_request_write(r, &out), 0);
	/* What goes on the wire: one line, every value in it. */
	assert_null(memchr(out.buf, '\n', out.len));
	assert_non_null(strstr(out.buf, "\"op\":\"add\""));
	assert_non_null(strstr(out.buf, "\"socket\":\"/var/lib/neutron/"
	                                "metadata_proxy\""));
	assert_non_null(strstr(out.buf, "\"interface\":\"qr-1a2b3c4d-5e\""));
	assert_non_null(strstr(out.buf, "\"hold\":true"));
	memset(why, 'x', sizeof(why));
	assert_int_equal(parse_n(out.buf, out.len, back, why, sizeof(why)), 0);
	/* Field by field, then every byte. */
	assert_int_equal(back->op, FLEET_ADD);
	assert_int_equal(back->net.id_kind, ID_ROUTER);
	assert_int_equal(back->net.flavor, FLAVOR_NEUTRON);
	assert_string_equal(back->net.id, UUID);
	assert_string_equal(
	    back->net.socket_path, "/var/lib/neutron/metadata_proxy");
	assert_string_equal(back->net.bind_address, "fd00::a9fe");
	assert_true(back->net.bind_v6);
	assert_string_equal(back->net.bind_address_v6, "fe80::a9fe:a9fe");
	assert_string_equal(back->net.bind_interface, "qr-1a2b3c4d-5e");
	assert_int_equal(back->net.port, 8775);
	assert_int_equal(back->net.max_conns_per_source, 7);
	assert_int_equal(back->net.max_body_size, 0);
	assert_int_equal(back->net.timeouts.http_request, 1);
	assert_int_equal(back->net.timeouts.connect, 2);
	assert_int_equal(back->net.timeouts.client, 3);
	assert_int_equal(back->net.timeouts.server, VALIDATE_TIMEOUT_MAX);
	assert_int_equal(back->net.timeouts.http_keep_alive, 5);
	assert_true(back->net.rate_limit.enabled);
	assert_int_equal(back->net.rate_limit.ip_version, 6);
	assert_int_equal(back->net.rate_limit.base_window, DEF_RATE_WINDOW_MAX);
	assert_int_equal(back->net.rate_limit.base_limit, DEF_RATE_LIMIT_MAX);
	assert_int_equal(back->net.rate_limit.burst_window, 1);
	assert_int_equal(back->net.rate_limit.burst_limit, 2);
	assert_string_equal(back->netns, "qrouter-" UUID);
	assert_true(back->hold);
	assert_string_equal(back->id, "");
	assert_memory_equal(back, r, sizeof(*r));
	/* Accepted: why is left alone. */
	assert_int_equal(why[0], 'x');
	assert_int_equal(why[sizeof(why) - 1], 'x');

	/* The other shape: IPv4, OVN, no IPv6 bind, no name, not held. */
	memset(r, 0, sizeof(*r));
	r->op = FLEET_ADD;
	full_conf(&r->net);
	r->net.flavor = FLAVOR_OVN;
	r->net.id_kind = ID_NETWORK;
	(void)snprintf(r->net.bind_address, sizeof(r->net.bind_address),
	    "169.254.169.254");
	r->net.bind_v6 = false;
	memset(r->net.bind_address_v6, 0, sizeof(r->net.bind_address_v6));
	memset(r->net.bind_interface, 0, sizeof(r->net.bind_interface));
	r->net.port = 65535;
	r->net.max_conns_per_source = DEF_MAX_CONNS_PER_SOURCE_MAX;
	r->net.max_body_size = DEF_MAX_BODY_SIZE_MAX;
	r->net.rate_limit.enabled = false;
	r->net.rate_limit.ip_version = 4;
	strbuf_clear(&out);
	assert_int_equal(fleet_request_write(r, &out), 0);
	assert_null(strstr(out.buf, "bind_v6"));
	assert_null(strstr(out.buf, "interface"));
	assert_null(strstr(out.buf, "netns"));
	assert_null(strstr(out.buf, "hold"));
	assert_round_trip(r);
	strbuf_release(&out);
	free(back);
	free(r);
}

static void
test_round_trip_others(void **state)
{
	struct fleet_request *r = malloc(sizeof(*r));
	struct strbuf out = STRBUF_INIT;
	static const enum fleet_op id_ops[] = {FLEET_DEL, FLEET_SHOW};
	size_t i;

	(void)state;
	assert_non_null(r);
	for (i = 0; i < NELEM(id_ops); i++) {
		memset(r, 0, sizeof(*r));
		r->op = id_ops[i];
		(void)snprintf(r->id, sizeof(r->id), "%s", UUID);
		assert_round_trip(r);
	}
	/* list, from the first and after an id */
	memset(r, 0, sizeof(*r));
	r->op = FLEET_LIST;
	assert_int_equal(fleet_request_write(r, &out), 0);
	assert_null(strstr(out.buf, "after"));
	assert_round_trip(r);
	(void)snprintf(r->id, sizeof(r->id), "%s", UUID2);
	assert_round_trip(r);
	strbuf_release(&out);
	free(r);
}

/* What a request does not say is the default; what it says, canonical. */
static void
test_parse_defaults_and_canonical(void **state)
{
	struct fleet_request *r = malloc(sizeof(*r));
	struct proxy_conf def;
	char why[FLEET_ERROR_MAX];

	(void)state;
	assert_non_null(r);
	assert_int_equal(parse(ADD(NET_OK), r, why, sizeof(why)), 0);
	defaults_proxy(&def);
	assert_memory_equal(
	    &r->net.timeouts, &def.timeouts, sizeof(def.timeouts));
	assert_memory_equal(
	    &r->net.rate_limit, &def.rate_limit, sizeof(def.rate_limit));
	assert_int_equal(r->net.max_conns_per_source, DEF_MAX_CONNS_PER_SOURCE);
	assert_int_equal(r->net.max_body_size, DEF_MAX_BODY_SIZE);
	assert_int_equal(r->net.port, 80);
	assert_false(r->net.bind_v6);
	assert_string_equal(r->netns, "");
	assert_false(r->hold);

	/* Upper case and a zero run in addresses, a trailing slash, blanks
	 * around the tokens: read as their canonical forms. */
	assert_int_equal(parse(" { \"v\" : 1 , \"op\":\"add\",\"hold\":false,"
	                       "\"network\":{" NET_ID ",\"kind\":\"router\","
	                       "\"flavor\":\"neutron\",\"socket\":\"/run/a/\","
	                       "\"bind\":\"FD00:0:0::A9FE\","
	                       "\"bind_v6\":\"FE80:0::1\",\"interface\":\"lo\","
	                       "\"port\":9697,\"timeouts\":{},"
	                       "\"rate_limit\":{\"enabled\":true}}}\n",
	                     r, why, sizeof(why)),
	    0);
	assert_string_equal(r->net.socket_path, "/run/a");
	assert_string_equal(r->net.bind_address, "fd00::a9fe");
	assert_true(r->net.bind_v6);
	assert_string_equal(r->net.bind_address_v6, "fe80::1");
	assert_string_equal(r->net.bind_interface, "lo");
	assert_true(r->net.rate_limit.enabled);
	assert_int_equal(r->net.rate_limit.base_limit, DEF_RATE_LIMIT);
	assert_round_trip(r);

	/* The largest message: FLEET_MSG_MAX bytes, blanks after it. */
	{
		char *big = malloc(FLEET_MSG_MAX + 1);
		static const char list[] = "{\"v\":1,\"op\":\"list\"}";

		assert_non_null(big);
		memset(big, ' ', FLEET_MSG_MAX + 1);
		memcpy(big, list, sizeof(list) - 1);
		assert_int_equal(
		    parse_n(big, FLEET_MSG_MAX, r, why, sizeof(why)), 0);
		assert_int_equal(r->op, FLEET_LIST);
		assert_int_equal(
		    parse_n(big, FLEET_MSG_MAX + 1, r, why, sizeof(why)),
		    -EINVAL);
		assert_non_null(strstr(why, "65537 bytes"));
		assert_one_line(why, sizeof(why));
		free(big);
	}
	free(r);
}

/* ---- 2. refusals ---- */

struct bad_case {
	const char *name;
	const char *msg;
	size_t len; /* 0: strlen(msg) */
	const char *word;
};

static const struct bad_case bad_cases[] = {
    {"empty", "", 0, "0 bytes"},
    {"wrong version", "{\"v\":2,\"op\":\"list\"}", 0, "version 2"},
    {"version 0", "{\"v\":0,\"op\":\"list\"}", 0, "version 0"},
    {"version missing", "{\"op\":\"list\"}", 0, "'v' is missing"},
    {"version a string", "{\"v\":\"1\",\"op\":\"list\"}", 0,
        "'v' is not an integer"},
    {"version a double", "{\"v\":1.0,\"op\":\"list\"}", 0,
        "'v' is not an integer"},
    {"version negative", "{\"v\":-1,\"op\":\"list\"}", 0, "out of range"},
    {"version huge", "{\"v\":99999999999999999999,\"op\":\"list\"}", 0,
        "out of range"},
    {"unknown op", "{\"v\":1,\"op\":\"frob\"}", 0, "invalid 'op': 'frob'"},
    {"op upper case", "{\"v\":1,\"op\":\"LIST\"}", 0, "invalid 'op'"},
    {"op missing", "{\"v\":1}", 0, "'op' is missing"},
    {"op not a string", "{\"v\":1,\"op\":1}", 0, "'op' is not a string"},
    {"op with a NUL", "{\"v\":1,\"op\":\"list\\u0000\"}", 0,
        "'op' holds a NUL byte"},
    {"unknown field", "{\"v\":1,\"op\":\"list\",\"x\":1}", 0,
        "list: unknown field 'x'"},
    {"field of another op", "{\"v\":1,\"op\":\"list\",\"id\":\"" UUID "\"}", 0,
        "unknown field 'id'"},
    {"unknown field escaped", "{\"v\":1,\"op\":\"del\",\"a\\nb\":1}", 0,
        "unknown field 'a\\x0ab'"},
    {"unknown network field", ADD(NET_OK ",\"color\":1"), 0,
        "network: unknown field 'color'"},
    {"unknown timeouts field", ADD(NET_OK ",\"timeouts\":{\"queue\":1}"), 0,
        "timeouts: unknown field 'queue'"},
    {"unknown rate field", ADD(NET_OK ",\"rate_limit\":{\"x\":true}"), 0,
        "rate_limit: unknown field 'x'"},
    {"del without id", "{\"v\":1,\"op\":\"del\"}", 0, "'id' is missing"},
    {"show without id", "{\"v\":1,\"op\":\"show\"}", 0, "'id' is missing"},
    {"id upper case",
        "{\"v\":1,\"op\":\"show\",\"id\":\"6F1B2C3D-4E5F-4A6B-"
        "8C7D-9E0F1A2B3C4D\"}",
        0, "invalid 'id'"},
    {"id short", "{\"v\":1,\"op\":\"del\",\"id\":\"6f1b2c3d\"}", 0,
        "invalid 'id': '6f1b2c3d'"},
    {"id null", "{\"v\":1,\"op\":\"del\",\"id\":null}", 0, "'id'"},
    {"after not a uuid", "{\"v\":1,\"op\":\"list\",\"after\":\"x\"}", 0,
        "invalid 'after'"},
    {"after empty", "{\"v\":1,\"op\":\"list\",\"after\":\"\"}", 0,
        "invalid 'after'"},
    {"network missing", "{\"v\":1,\"op\":\"add\"}", 0, "'network' is missing"},
    {"network not an object", ADD_HEAD "[]}", 0, "'network' is not an object"},
    {"network id missing",
        ADD("\"kind\":\"network\",\"flavor\":\"neutron\",\"socket\":\"/a\","
            "\"bind\":\"127.0.0.1\",\"port\":80"),
        0, "'id' is missing"},
    {"network id invalid",
        ADD("\"id\":\"" UUID "x\",\"kind\":\"network\",\"flavor\":\"neutron\","
            "\"socket\":\"/a\",\"bind\":\"127.0.0.1\",\"port\":80"),
        0, "invalid 'id'"},
    {"kind unknown",
        ADD(NET_ID ",\"kind\":\"subnet\",\"flavor\":\"neutron\","
                   "\"socket\":\"/a\",\"bind\":\"127.0.0.1\",\"port\":80"),
        0, "invalid 'kind'"},
    {"flavor unknown",
        ADD(NET_ID ",\"kind\":\"network\",\"flavor\":\"ovs\","
                   "\"socket\":\"/a\",\"bind\":\"127.0.0.1\",\"port\":80"),
        0, "invalid 'flavor'"},
    {"ovn router",
        ADD(NET_ID ",\"kind\":\"router\",\"flavor\":\"ovn\","
                   "\"socket\":\"/a\",\"bind\":\"127.0.0.1\",\"port\":80"),
        0, "router is not allowed with flavor ovn"},
    {"socket relative",
        ADD(NET_ID ",\"kind\":\"network\",\"flavor\":\"neutron\","
                   "\"socket\":\"run/a.sock\",\"bind\":\"127.0.0.1\","
                   "\"port\":80"),
        0, "invalid 'socket'"},
    {"socket dot-dot",
        ADD(NET_ID ",\"kind\":\"network\",\"flavor\":\"neutron\","
                   "\"socket\":\"/run/../etc/a\",\"bind\":\"127.0.0.1\","
                   "\"port\":80"),
        0, "invalid 'socket'"},
    {"socket too long",
        ADD(NET_ID ",\"kind\":\"network\",\"flavor\":\"neutron\","
                   "\"socket\":\"/" A106 "b\",\"bind\":\"127.0.0.1\","
                   "\"port\":80"),
        0, "too long"},
    {"socket with a NUL",
        ADD(NET_ID ",\"kind\":\"network\",\"flavor\":\"neutron\","
                   "\"socket\":\"/run/a\\u0000b\",\"bind\":\"127.0.0.1\","
                   "\"port\":80"),
        0, "'socket' holds a NUL byte"},
    {"socket with a newline",
        ADD(NET_ID ",\"kind\":\"network\",\"flavor\":\"neutron\","
                   "\"socket\":\"/run/a\\nserver x\",\"bind\":\"127.0.0.1\","
                   "\"port\":80"),
        0, "invalid 'socket': '/run/a\\x0aserver x'"},
    {"bind a name",
        ADD(NET_ID ",\"kind\":\"network\",\"flavor\":\"neutron\","
                   "\"socket\":\"/a\",\"bind\":\"localhost\","
                   "\"port\":80"),
        0, "invalid 'bind'"},
    {"bind with a zone",
        ADD(NET_ID ",\"kind\":\"network\",\"flavor\":\"neutron\","
                   "\"socket\":\"/a\",\"bind\":\"fe80::1%lo\",\"port\":80"),
        0, "invalid 'bind'"},
    {"bind missing",
        ADD(NET_ID ",\"kind\":\"network\",\"flavor\":\"neutron\","
                   "\"socket\":\"/a\",\"port\":80"),
        0, "'bind' is missing"},
    {"bind_v6 without interface", ADD(NET_OK ",\"bind_v6\":\"fe80::1\""), 0,
        "go together"},
    {"interface without bind_v6", ADD(NET_OK ",\"interface\":\"eth0\""), 0,
        "go together"},
    {"bind_v6 an IPv4 address",
        ADD(NET_OK ",\"bind_v6\":\"10.0.0.1\",\"interface\":\"eth0\""), 0,
        "invalid 'bind_v6'"},
    {"interface with a colon",
        ADD(NET_OK ",\"bind_v6\":\"fe80::1\",\"interface\":\"eth0:1\""), 0,
        "invalid 'interface'"},
    {"port 0", ADD(NET_BASE ",\"port\":0"), 0, "'port' is out of range"},
    {"port 65536", ADD(NET_BASE ",\"port\":65536"), 0,
        "'port' is out of range"},
    {"port negative", ADD(NET_BASE ",\"port\":-80"), 0, "out of range"},
    {"port a string", ADD(NET_BASE ",\"port\":\"80\""), 0,
        "'port' is not an integer"},
    {"port a double", ADD(NET_BASE ",\"port\":80.5"), 0,
        "'port' is not an integer"},
    {"port an exponent", ADD(NET_BASE ",\"port\":8e1"), 0,
        "'port' is not an integer"},
    {"port true", ADD(NET_BASE ",\"port\":true"), 0,
        "'port' is not an integer"},
    {"port missing", ADD(NET_BASE), 0, "'port' is missing"},
    {"timeout 0", ADD(NET_OK ",\"timeouts\":{\"connect\":0}"), 0,
        "'connect' is out of range"},
    {"timeout past haproxy's",
        ADD(NET_OK ",\"timeouts\":{\"client\":2147483648}"), 0,
        "'client' is out of range"},
    {"timeout a string", ADD(NET_OK ",\"timeouts\":{\"server\":\"30s\"}"), 0,
        "'server' is not an integer"},
    {"timeouts not an object", ADD(NET_OK ",\"timeouts\":5"), 0,
        "'timeouts' is not an object"},
    {"max_body_size negative", ADD(NET_OK ",\"max_body_size\":-1"), 0,
        "'max_body_size' is out of range"},
    {"max_conns_per_source over", ADD(NET_OK ",\"max_conns_per_source\":65536"),
        0, "'max_conns_per_source' is out of range"},
    {"rate ip_version 5", ADD(NET_OK ",\"rate_limit\":{\"ip_version\":5}"), 0,
        "not 4 or 6"},
    {"rate enabled 1", ADD(NET_OK ",\"rate_limit\":{\"enabled\":1}"), 0,
        "'enabled' is not true or false"},
    {"rate limit 0", ADD(NET_OK ",\"rate_limit\":{\"base_limit\":0}"), 0,
        "'base_limit' is out of range"},
    {"netns dot-dot", ADD_HEAD "{" NET_OK "},\"netns\":\"..\"}", 0,
        "invalid 'netns'"},
    {"netns with a slash", ADD_HEAD "{" NET_OK "},\"netns\":\"a/b\"}", 0,
        "invalid 'netns'"},
    {"hold a string", ADD_HEAD "{" NET_OK "},\"hold\":\"yes\"}", 0,
        "'hold' is not true or false"},
    {"bytes after the object", "{\"v\":1,\"op\":\"list\"} x", 0,
        "not one JSON object"},
    {"two objects", "{\"v\":1,\"op\":\"list\"}{\"v\":1,\"op\":\"list\"}", 0,
        "not one JSON object"},
    {"a NUL after the object", "{\"v\":1,\"op\":\"list\"}\0", 20,
        "not one JSON object"},
    {"a NUL inside", "{\"v\":1,\0\"op\":\"list\"}", 20, "not one JSON object"},
    {"cut short", "{\"v\":1,\"op\":\"list\"", 0, "not one JSON object"},
    {"single quotes", "{'v':1,'op':'list'}", 0, "not one JSON object"},
    {"a comment", "{\"v\":1,/* x */\"op\":\"list\"}", 0, "not one JSON object"},
    {"an array", "[{\"v\":1,\"op\":\"list\"}]", 0, "not a JSON object"},
    {"a string", "\"list\"", 0, "not a JSON object"},
    {"a number", "1", 0, "not"},
    {"null", "null", 0, "not"},
    {"depth bomb", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        0, "not one JSON object"},
    {"object depth bomb",
        ADD(NET_OK ",\"timeouts\":{\"a\":{\"b\":{\"c\":{"
                   "\"d\":{\"e\":{}}}}}}"),
        0, "not one JSON object"},
};

static void
test_refusals(void **state)
{
	struct fleet_request *r = malloc(sizeof(*r));
	char why[FLEET_ERROR_MAX];
	size_t i, len;
	int ret;

	(void)state;
	assert_non_null(r);
	for (i = 0; i < NELEM(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		/* exactly its bytes, so that a read past them is seen */
		char *copy;

		len = c->len != 0 ? c->len : strlen(c->msg);
		copy = malloc(len > 0 ? len : 1);
		assert_non_null(copy);
		if (len > 0)
			memcpy(copy, c->msg, len);
		why[0] = '\0';
		ret = parse_n(copy, len, r, why, sizeof(why));
		if (ret != -EINVAL || strstr(why, c->word) == NULL)
			fail_msg("%s: got %d '%s', want -EINVAL and '%s'",
			    c->name, ret, why, c->word);
		assert_one_line(why, sizeof(why));
		free(copy);
	}
	free(r);
}

/* The reason is cut to its buffer and stays a string. */
static void
test_refusal_small_buffer(void **state)
{
	struct fleet_request *r = malloc(sizeof(*r));
	char why[12];

	(void)state;
	assert_non_null(r);
	memset(why, 'x', sizeof(why));
	assert_int_equal(
	    parse("{\"v\":1,\"op\":\"frob\"}", r, why, 8), -EINVAL);
	assert_int_equal(strlen(why), 7);
	assert_memory_equal(why + 8, "xxxx", 4);
	/* An escaped value is capped: a long key does not fill the line. */
	{
		char msg[600], big[FLEET_ERROR_MAX];

		(void)snprintf(msg, sizeof(msg),
		    "{\"v\":1,\"op\":\"list\",\"%s%s%s%s\":1}", A64, A64, A64,
		    A64);
		assert_int_equal(parse(msg, r, big, sizeof(big)), -EINVAL);
		assert_non_null(strstr(big, "...'"));
		assert_one_line(big, sizeof(big));
	}
	free(r);
}

/* ---- replies ---- */

static void
test_replies(void **state)
{
	struct fleet_reply *rp = malloc(sizeof(*rp));
	struct fleet_net_info *in = calloc(FLEET_LIST_PAGE, sizeof(*in));
	struct strbuf out = STRBUF_INIT;
	char why[FLEET_ERROR_MAX];
	int i;

	(void)state;
	assert_non_null(rp);
	assert_non_null(in);
	assert_int_equal(fleet_reply_ok(&out), 0);
	assert_int_equal(
	    fleet_reply_parse(out.buf, out.len, rp, why, sizeof(why)), 0);
	assert_true(rp->ok);
	assert_int_equal(rp->nnets, 0);
	assert_false(rp->more);

	strbuf_clear(&out);
	assert_int_equal(fleet_reply_error("network x is not served", &out), 0);
	assert_int_equal(
	    fleet_reply_parse(out.buf, out.len, rp, why, sizeof(why)), 0);
	assert_false(rp->ok);
	assert_string_equal(rp->error, "network x is not served");

	/* A full page, every field set, round trip. */
	for (i = 0; i < FLEET_LIST_PAGE; i++) {
		(void)snprintf(in[i].id, sizeof(in[i].id),
		    "%08x-4e5f-4a6b-8c7d-9e0f1a2b3c4d", (unsigned int)i);
		in[i].flavor = i % 2 == 0 ? FLAVOR_OVN : FLAVOR_NEUTRON;
		in[i].id_kind = i % 3 == 0 ? ID_ROUTER : ID_NETWORK;
		(void)snprintf(in[i].netns, sizeof(in[i].netns), "ns%d", i);
		in[i].netns_inode = 4026531840ULL + (unsigned long long)i;
		(void)snprintf(in[i].binds[0], sizeof(in[i].binds[0]),
		    "127.0.0.1:%d", 1000 + i);
		(void)snprintf(in[i].binds[1], sizeof(in[i].binds[1]),
		    "[fe80::a9fe:a9fe]:%d", 1000 + i);
		in[i].nbinds = i % 3;
		in[i].requests = (unsigned long)i * 1000;
		in[i].refused = (unsigned long)i;
		in[i].conns = 3;
		(void)snprintf(in[i].last_error, sizeof(in[i].last_error), "%s",
		    i % 2 == 0 ? "" : "agent refused");
		in[i].last_error_at = 1700000000 + i;
		in[i].since = 1600000000;
		in[i].held = i % 5 == 0;
		/* what is not written reads back as nothing */
		if (in[i].nbinds < 2)
			memset(in[i].binds[1], 0, sizeof(in[i].binds[1]));
		if (in[i].nbinds < 1)
			memset(in[i].binds[0], 0, sizeof(in[i].binds[0]));
	}
	strbuf_clear(&out);
	assert_int_equal(fleet_reply_nets(in, FLEET_LIST_PAGE, true, &out), 0);
	assert_true(out.len <= FLEET_MSG_MAX);
	assert_int_equal(
	    fleet_reply_parse(out.buf, out.len, rp, why, sizeof(why)), 0);
	assert_true(rp->ok);
	assert_true(rp->more);
	assert_int_equal(rp->nnets, FLEET_LIST_PAGE);
	assert_memory_equal(rp->nets, in, sizeof(*in) * FLEET_LIST_PAGE);

	/* The largest page the daemon writes still fits in one message:
	 * every string at its longest, every number at its widest. */
	for (i = 0; i < FLEET_LIST_PAGE; i++) {
		memset(in[i].netns, 'n', sizeof(in[i].netns) - 1);
		(void)snprintf(in[i].binds[0], sizeof(in[i].binds[0]),
		    "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535");
		assert_int_equal(
		    strlen(in[i].binds[0]), sizeof(in[i].binds[0]) - 1);
		memcpy(in[i].binds[1], in[i].binds[0], sizeof(in[i].binds[1]));
		in[i].nbinds = FLEET_FDS_MAX;
		memset(in[i].last_error, 'e', sizeof(in[i].last_error) - 1);
		in[i].netns_inode = INT64_MAX;
		in[i].requests = INT64_MAX;
		in[i].refused = INT64_MAX;
		in[i].conns = INT64_MAX;
		in[i].last_error_at = INT64_MAX;
		in[i].since = INT64_MAX;
		in[i].held = true;
		in[i].id_kind = ID_NETWORK;
		in[i].flavor = FLAVOR_NEUTRON;
	}
	strbuf_clear(&out);
	assert_int_equal(fleet_reply_nets(in, FLEET_LIST_PAGE, true, &out), 0);
	assert_true(out.len <= FLEET_MSG_MAX);
	assert_int_equal(
	    fleet_reply_parse(out.buf, out.len, rp, why, sizeof(why)), 0);
	assert_memory_equal(rp->nets, in, sizeof(*in) * FLEET_LIST_PAGE);

	/* Refused: not ok without an error, too many networks, junk. */
	{
		static const struct {
			const char *msg, *word;
		} bad[] = {
		    {"{\"v\":1,\"ok\":false}", "'error' is missing"},
		    {"{\"v\":1}", "'error' is missing"},
		    {"{\"v\":2,\"ok\":true}", "version 2"},
		    {"{\"v\":1,\"ok\":true,\"x\":1}", "unknown field 'x'"},
		    {"{\"v\":1,\"ok\":\"yes\"}", "'ok' is not true or false"},
		    {"{\"v\":1,\"ok\":true,\"networks\":{}}",
		        "'networks' is not an array"},
		    {"{\"v\":1,\"ok\":true,\"networks\":[1]}",
		        "a network is not an object"},
		    {"{\"v\":1,\"ok\":true,\"networks\":[{}]}",
		        "'id' is missing"},
		    {"{\"v\":1,\"ok\":true,\"networks\":[{\"id\":\"a\","
		     "\"kind\":\"network\",\"flavor\":\"ovn\","
		     "\"binds\":[\"a\",\"b\",\"c\"]}]}",
		        "'binds' is not an array of at most 2"},
		    {"{\"v\":1,\"ok\":true,\"networks\":[{\"id\":\"" UUID "a\","
		     "\"kind\":\"network\",\"flavor\":\"ovn\"}]}",
		        "'id' is too long"},
		    {"{\"v\":1,\"ok\":false,\"error\":\"a\\u0000b\"}",
		        "'error' holds a NUL byte"},
		    {"{\"v\":1,\"ok\":true} 1", "not one JSON object"},
		};
		size_t k;

		for (k = 0; k < NELEM(bad); k++) {
			why[0] = '\0';
			if (fleet_reply_parse(bad[k].msg, strlen(bad[k].msg),
			        rp, why, sizeof(why)) != -EINVAL ||
			    strstr(why, bad[k].word) == NULL)
				fail_msg("reply '%s': '%s', want '%s'",
				    bad[k].msg, why, bad[k].word);
			assert_one_line(why, sizeof(why));
		}
	}
	/* 65 networks: one more than a page. */
	strbuf_clear(&out);
	assert_int_equal(strbuf_append(&out, "{\"v\":1,\"ok\":true,"
	                                     "\"networks\":["),
	    0);
	for (i = 0; i <= FLEET_LIST_PAGE; i++)
		assert_int_equal(strbuf_appendf(&out,
		                     "%s{\"id\":\"%s\",\"kind\":\"network\","
		                     "\"flavor\":\"ovn\"}",
		                     i > 0 ? "," : "", UUID),
		    0);
	assert_int_equal(strbuf_append(&out, "]}"), 0);
	assert_int_equal(
	    fleet_reply_parse(out.buf, out.len, rp, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "more than 64 networks"));
	strbuf_release(&out);
	free(in);
	free(rp);
}

/* ---- 3. the server, on a real engine ---- */

struct world {
	char dir[64];
	struct engine *e;
	struct fleet_server *s;
	struct fleet_reply *rp;
};

static int
server_setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct daemon_conf d;
	const char *what = "";
	int err = 0;

	assert_non_null(w);
	(void)snprintf(w->dir, sizeof(w->dir), "/tmp/nmp-fleet-XXXXXX");
	assert_non_null(mkdtemp(w->dir));
	defaults_daemon(&d);
	d.engine = ENGINE_BUILTIN;
	d.fleet = true;
	d.network_maxconn = DEF_NETWORK_MAXCONN;
	d.maxconn = DEF_FLEET_MAXCONN;
	w->e = engine_new(&d, &err, &what);
	assert_non_null(w->e);
	w->s = fleet_server_new(w->e, -1, getgid(), w->dir, &err);
	assert_non_null(w->s);
	assert_int_equal(err, 0);
	assert_int_equal(fleet_server_count(w->s), 0);
	w->rp = malloc(sizeof(*w->rp));
	assert_non_null(w->rp);
	*state = w;
	return 0;
}

static int
server_teardown(void **state)
{
	struct world *w = *state;
	DIR *dir;
	struct dirent *de;

	fleet_server_free(w->s);
	engine_free(w->e);
	dir = opendir(w->dir);
	if (dir != NULL) {
		while ((de = readdir(dir)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			(void)unlinkat(dirfd(dir), de->d_name, 0);
		}
		(void)closedir(dir);
	}
	(void)rmdir(w->dir);
	free(w->rp);
	free(w);
	return 0;
}

static bool
is_closed(int fd)
{
	return fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

static unsigned int
port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/*
 * A socket of type on addr (IPv4 or IPv6 literal) and port (0: any),
 * listening when listening; its port into *port. -1 when the address
 * cannot be bound.
 */
static int
sock_on(const char *addr, unsigned int port, int type, bool listening,
    unsigned int *port_out)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	bool v6 = strchr(addr, ':') != NULL;
	int fd, r;

	fd = socket(v6 ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (v6) {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET6, addr, &sin6.sin6_addr), 1);
		r = bind(fd, (struct sockaddr *)&sin6, sizeof(sin6));
	} else {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
		r = bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	}
	if (r < 0) {
		(void)close(fd);
		return -1;
	}
	if (listening)
		assert_int_equal(listen(fd, 16), 0);
	*port_out = port_of(fd);
	return fd;
}

static int
tcp_listener(unsigned int *port)
{
	int fd = sock_on("127.0.0.1", 0, SOCK_STREAM, true, port);

	assert_true(fd >= 0);
	return fd;
}

/* An add of id on 127.0.0.1 port, as the client writes it; held or not. */
static void
add_request_held(
    const char *id, unsigned int port, bool hold, struct strbuf *out)
{
	struct fleet_request *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->op = FLEET_ADD;
	r->hold = hold;
	defaults_proxy(&r->net);
	(void)snprintf(r->net.id, sizeof(r->net.id), "%s", id);
	(void)snprintf(r->net.socket_path, sizeof(r->net.socket_path),
	    "/run/nmp-test/agent.sock");
	(void)snprintf(
	    r->net.bind_address, sizeof(r->net.bind_address), "127.0.0.1");
	r->net.port = port;
	strbuf_clear(out);
	assert_int_equal(fleet_request_write(r, out), 0);
	free(r);
}

static void
add_request(const char *id, unsigned int port, struct strbuf *out)
{
	add_request_held(id, port, false, out);
}

/* Carry out msg with its fds; the reply, parsed, into w->rp. */
static void
handle(struct world *w, const char *msg, int *fds, int nfds)
{
	struct strbuf out = STRBUF_INIT;
	char why[FLEET_ERROR_MAX] = "";

	assert_int_equal(
	    fleet_server_handle(w->s, NULL, msg, strlen(msg), fds, nfds, &out),
	    0);
	assert_false(out.failed);
	assert_true(out.len > 0 && out.len <= FLEET_MSG_MAX);
	if (fleet_reply_parse(out.buf, out.len, w->rp, why, sizeof(why)) < 0)
		fail_msg("reply '%s': %s", out.buf, why);
	if (!w->rp->ok)
		assert_one_line(w->rp->error, sizeof(w->rp->error));
	strbuf_release(&out);
}

static void
assert_refused(struct world *w, const char *word)
{
	assert_false(w->rp->ok);
	if (strstr(w->rp->error, word) == NULL)
		fail_msg("error '%s' does not say '%s'", w->rp->error, word);
}

/* Add id with one listener of its own; its fd. */
static int
add_net(struct world *w, const char *id)
{
	struct strbuf msg = STRBUF_INIT;
	unsigned int port = 0;
	int fd = tcp_listener(&port), fds[1];

	fds[0] = fd;
	add_request(id, port, &msg);
	handle(w, msg.buf, fds, 1);
	if (!w->rp->ok)
		fail_msg("add %s: %s", id, w->rp->error);
	strbuf_release(&msg);
	return fd;
}

static void
show(struct world *w, const char *id)
{
	char msg[128];

	(void)snprintf(
	    msg, sizeof(msg), "{\"v\":1,\"op\":\"show\",\"id\":\"%s\"}", id);
	handle(w, msg, NULL, 0);
}

static void
test_server_add_show_del(void **state)
{
	struct world *w = *state;
	struct strbuf msg = STRBUF_INIT;
	struct sockaddr_in sin;
	char bind[32];
	unsigned int port = 0, port2 = 0;
	int fd, fd2, fds[1], c;

	fd = tcp_listener(&port);
	fds[0] = fd;
	add_request(UUID, port, &msg);
	handle(w, msg.buf, fds, 1);
	assert_true(w->rp->ok);
	assert_int_equal(fleet_server_count(w->s), 1);
	/* The engine has it now: open, and ours no more. */
	assert_false(is_closed(fd));
	assert_int_equal(fds[0], -1);

	/* The same id again, on another listener: refused, that one closed. */
	fd2 = tcp_listener(&port2);
	fds[0] = fd2;
	add_request(UUID, port2, &msg);
	handle(w, msg.buf, fds, 1);
	assert_refused(w, "already");
	assert_true(is_closed(fd2));
	assert_int_equal(fleet_server_count(w->s), 1);

	/* show: what is served, and where */
	show(w, UUID);
	assert_true(w->rp->ok);
	assert_int_equal(w->rp->nnets, 1);
	assert_false(w->rp->more);
	assert_string_equal(w->rp->nets[0].id, UUID);
	assert_int_equal(w->rp->nets[0].flavor, FLAVOR_NEUTRON);
	assert_int_equal(w->rp->nets[0].id_kind, ID_NETWORK);
	assert_int_equal(w->rp->nets[0].nbinds, 1);
	(void)snprintf(bind, sizeof(bind), "127.0.0.1:%u", port);
	assert_string_equal(w->rp->nets[0].binds[0], bind);
	assert_string_equal(w->rp->nets[0].netns, "");
	assert_false(w->rp->nets[0].held);
	assert_int_equal(w->rp->nets[0].requests, 0);
	assert_true(w->rp->nets[0].since > 0);
	show(w, UUID2);
	assert_refused(w, "not served");

	/* del: gone, and its listener closed */
	handle(w, "{\"v\":1,\"op\":\"del\",\"id\":\"" UUID "\"}", NULL, 0);
	assert_true(w->rp->ok);
	assert_int_equal(fleet_server_count(w->s), 0);
	assert_true(is_closed(fd));
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(c, (struct sockaddr *)&sin, sizeof(sin)), -1);
	assert_int_equal(errno, ECONNREFUSED);
	(void)close(c);
	show(w, UUID);
	assert_refused(w, "not served");
	handle(w, "{\"v\":1,\"op\":\"del\",\"id\":\"" UUID "\"}", NULL, 0);
	assert_refused(w, "not served");

	/* And it may come back. */
	(void)add_net(w, UUID);
	assert_int_equal(fleet_server_count(w->s), 1);
	strbuf_release(&msg);
}

/* Listeners that are not what the network says: refused and closed. */
static void
test_server_refuses_listeners(void **state)
{
	struct world *w = *state;
	struct strbuf msg = STRBUF_INIT;
	struct sockaddr_un sun;
	unsigned int port = 0, port2 = 0, other = 0;
	int fd, fd2, fds[2];

	/* The JSON says another port than the socket's. */
	fd = tcp_listener(&port);
	fds[0] = fd;
	add_request(UUID, port == 65535 ? 1 : port + 1, &msg);
	handle(w, msg.buf, fds, 1);
	assert_refused(w, "port");
	assert_true(is_closed(fd));

	/* Bound, not listening. */
	fd = sock_on("127.0.0.1", 0, SOCK_STREAM, false, &port);
	assert_true(fd >= 0);
	fds[0] = fd;
	add_request(UUID, port, &msg);
	handle(w, msg.buf, fds, 1);
	assert_refused(w, "not listening");
	assert_true(is_closed(fd));

	/* UDP. */
	fd = sock_on("127.0.0.1", 0, SOCK_DGRAM, false, &port);
	assert_true(fd >= 0);
	fds[0] = fd;
	add_request(UUID, port, &msg);
	handle(w, msg.buf, fds, 1);
	assert_refused(w, "not a stream socket");
	assert_true(is_closed(fd));

	/* A listening unix stream socket: not TCP. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	(void)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/l.sock", w->dir);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fd, 1), 0);
	fds[0] = fd;
	add_request(UUID, 80, &msg);
	handle(w, msg.buf, fds, 1);
	assert_refused(w, "not a TCP socket");
	assert_true(is_closed(fd));

	/* Not even a socket. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	fds[0] = fd;
	handle(w, msg.buf, fds, 1);
	assert_refused(w, "descriptor 1");
	assert_true(is_closed(fd));

	/* Another address than the network's (the port is right). */
	fd = sock_on("127.0.0.2", 0, SOCK_STREAM, true, &port);
	if (fd >= 0) {
		fds[0] = fd;
		add_request(UUID, port, &msg);
		handle(w, msg.buf, fds, 1);
		assert_refused(w, "127.0.0.2");
		assert_true(is_closed(fd));
	}

	/* Two listeners for a network of one bind: both closed. */
	fd = tcp_listener(&port);
	fd2 = tcp_listener(&port2);
	fds[0] = fd;
	fds[1] = fd2;
	add_request(UUID, port, &msg);
	handle(w, msg.buf, fds, 2);
	assert_refused(w, "2 listening sockets came, the network has 1");
	assert_true(is_closed(fd));
	assert_true(is_closed(fd2));

	/* None. */
	handle(w, msg.buf, NULL, 0);
	assert_refused(w, "0 listening sockets came");

	/* A bad request with a listener: closed too. */
	fd = tcp_listener(&other);
	fds[0] = fd;
	handle(w, "{\"v\":1,\"op\":\"add\"}", fds, 1);
	assert_refused(w, "bad request: 'network' is missing");
	assert_true(is_closed(fd));

	/* Descriptors with a request that takes none. */
	fd = tcp_listener(&other);
	fds[0] = fd;
	handle(w, "{\"v\":1,\"op\":\"list\"}", fds, 1);
	assert_refused(w, "descriptors came with a request that takes none");
	assert_true(is_closed(fd));
	assert_int_equal(fds[0], -1);
	fd = tcp_listener(&other);
	fds[0] = fd;
	handle(w, "{\"v\":1,\"op\":\"del\",\"id\":\"" UUID "\"}", fds, 1);
	assert_refused(w, "takes none");
	assert_true(is_closed(fd));

	assert_int_equal(fleet_server_count(w->s), 0);
	strbuf_release(&msg);
}

/*
 * Listeners on 127.0.0.1 and ::1 on one port, as a network with an IPv6
 * bind has them; false when there is no IPv6 loopback.
 */
static bool
dual_listeners(int *fd4, int *fd6, unsigned int *port)
{
	int i;

	for (i = 0; i < 20; i++) {
		*fd6 = sock_on("::1", 0, SOCK_STREAM, true, port);
		if (*fd6 < 0)
			return false;
		*fd4 = sock_on("127.0.0.1", *port, SOCK_STREAM, true, port);
		if (*fd4 >= 0)
			return true;
		(void)close(*fd6); /* that port is busy on IPv4: another */
	}
	return false;
}

/* A network with an IPv6 bind: two listeners, in that order. */
static void
test_server_two_listeners(void **state)
{
	struct world *w = *state;
	struct fleet_request *r = calloc(1, sizeof(*r));
	struct strbuf msg = STRBUF_INIT;
	unsigned int port = 0, port6 = 0;
	char want[64];
	int fd = -1, fd6 = -1, fds[2];

	assert_non_null(r);
	if (!dual_listeners(&fd, &fd6, &port)) {
		free(r);
		print_message("skipped: no IPv6 loopback\n");
		skip();
		return;
	}
	r->op = FLEET_ADD;
	defaults_proxy(&r->net);
	(void)snprintf(r->net.id, sizeof(r->net.id), "%s", UUID);
	(void)snprintf(r->net.socket_path, sizeof(r->net.socket_path), "/a");
	(void)snprintf(
	    r->net.bind_address, sizeof(r->net.bind_address), "127.0.0.1");
	(void)snprintf(
	    r->net.bind_address_v6, sizeof(r->net.bind_address_v6), "::1");
	(void)snprintf(
	    r->net.bind_interface, sizeof(r->net.bind_interface), "lo");
	r->net.port = port;
	assert_int_equal(fleet_request_write(r, &msg), 0);

	/* The wrong order: refused, both closed. */
	fds[0] = fd6;
	fds[1] = fd;
	handle(w, msg.buf, fds, 2);
	assert_refused(w, "descriptor 1 is bound to ::1");
	assert_true(is_closed(fd));
	assert_true(is_closed(fd6));

	/* Only the IPv4 one: refused. */
	fd = tcp_listener(&port);
	r->net.port = port;
	strbuf_clear(&msg);
	assert_int_equal(fleet_request_write(r, &msg), 0);
	fds[0] = fd;
	handle(w, msg.buf, fds, 1);
	assert_refused(w, "1 listening sockets came, the network has 2");
	assert_true(is_closed(fd));

	/* Two, the IPv6 one on another port: the second is refused. */
	fd = tcp_listener(&port);
	fd6 = sock_on("::1", 0, SOCK_STREAM, true, &port6);
	assert_true(fd6 >= 0);
	assert_true(port != port6);
	r->net.port = port;
	strbuf_clear(&msg);
	assert_int_equal(fleet_request_write(r, &msg), 0);
	fds[0] = fd;
	fds[1] = fd6;
	handle(w, msg.buf, fds, 2);
	assert_refused(w, "descriptor 2 is bound to ::1");
	assert_true(is_closed(fd));
	assert_true(is_closed(fd6));
	assert_int_equal(fleet_server_count(w->s), 0);

	/* Both, right: served, and show names both. */
	assert_true(dual_listeners(&fd, &fd6, &port));
	r->net.port = port;
	strbuf_clear(&msg);
	assert_int_equal(fleet_request_write(r, &msg), 0);
	fds[0] = fd;
	fds[1] = fd6;
	handle(w, msg.buf, fds, 2);
	assert_true(w->rp->ok);
	assert_int_equal(fleet_server_count(w->s), 1);
	show(w, UUID);
	assert_int_equal(w->rp->nets[0].nbinds, 2);
	(void)snprintf(want, sizeof(want), "127.0.0.1:%u", port);
	assert_string_equal(w->rp->nets[0].binds[0], want);
	(void)snprintf(want, sizeof(want), "[::1]:%u", port);
	assert_string_equal(w->rp->nets[0].binds[1], want);
	strbuf_release(&msg);
	free(r);
}

/* The i-th id of the paging test; not added in sorted order. */
static void
many_id(unsigned int i, char *out, size_t outsz)
{
	(void)snprintf(out, outsz, "%08x-0000-4000-8000-%012x",
	    (unsigned int)(i * 2654435761u), i);
}

static int
by_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/*
 * Every page after the one before, until "more" is false: the ids of
 * expect (n, sorted) each once, in order; the number of pages.
 */
static int
page_all(struct world *w, char (*expect)[OPT_UUID_LEN + 1], size_t n)
{
	char msg[128], after[OPT_UUID_LEN + 1] = "";
	size_t seen = 0;
	int pages = 0, i;

	for (;;) {
		if (after[0] == '\0')
			(void)snprintf(
			    msg, sizeof(msg), "{\"v\":1,\"op\":\"list\"}");
		else
			(void)snprintf(msg, sizeof(msg),
			    "{\"v\":1,\"op\":\"list\",\"after\":\"%s\"}",
			    after);
		handle(w, msg, NULL, 0);
		assert_true(w->rp->ok);
		pages++;
		assert_true(pages <= (int)(n / FLEET_LIST_PAGE) + 1);
		assert_true(w->rp->nnets <= FLEET_LIST_PAGE);
		for (i = 0; i < w->rp->nnets; i++) {
			assert_true(seen < n);
			assert_string_equal(w->rp->nets[i].id, expect[seen]);
			assert_int_equal(w->rp->nets[i].nbinds, 1);
			seen++;
		}
		if (!w->rp->more)
			break;
		/* a page that says more is full */
		assert_int_equal(w->rp->nnets, FLEET_LIST_PAGE);
		(void)snprintf(after, sizeof(after), "%s",
		    w->rp->nets[w->rp->nnets - 1].id);
	}
	assert_int_equal(seen, n);
	return pages;
}

static void
test_server_list_pages(void **state)
{
	struct world *w = *state;
	char(*ids)[OPT_UUID_LEN + 1] = calloc(MANY, OPT_UUID_LEN + 1);
	char msg[160], between[OPT_UUID_LEN + 1];
	unsigned int i;
	size_t n;

	assert_non_null(ids);
	/* Nothing served: one empty page. */
	handle(w, "{\"v\":1,\"op\":\"list\"}", NULL, 0);
	assert_true(w->rp->ok);
	assert_int_equal(w->rp->nnets, 0);
	assert_false(w->rp->more);

	for (i = 0; i < MANY; i++) {
		many_id(i, ids[i], sizeof(ids[i]));
		(void)add_net(w, ids[i]);
	}
	assert_int_equal(fleet_server_count(w->s), MANY);
	qsort(ids, MANY, sizeof(ids[0]), by_str);
	for (i = 1; i < MANY; i++)
		assert_true(strcmp(ids[i - 1], ids[i]) < 0);
	/* 150: 64, 64, 22 */
	assert_int_equal(page_all(w, ids, MANY), 3);

	/* After an id that is not served: from the next one up. */
	/* ids[49] with its last part zero: between ids[48] and ids[49]
	 * (their first parts differ), or ids[49] itself. */
	(void)snprintf(between, sizeof(between), "%.24s000000000000", ids[49]);
	(void)snprintf(msg, sizeof(msg),
	    "{\"v\":1,\"op\":\"list\",\"after\":\"%s\"}", between);
	handle(w, msg, NULL, 0);
	assert_true(w->rp->ok);
	assert_int_equal(w->rp->nnets, FLEET_LIST_PAGE);
	assert_true(w->rp->more);
	assert_string_equal(w->rp->nets[0].id,
	    strcmp(between, ids[49]) == 0 ? ids[50] : ids[49]);
	/* After the last: nothing more. */
	(void)snprintf(msg, sizeof(msg),
	    "{\"v\":1,\"op\":\"list\",\"after\":\"%s\"}", ids[MANY - 1]);
	handle(w, msg, NULL, 0);
	assert_true(w->rp->ok);
	assert_int_equal(w->rp->nnets, 0);
	assert_false(w->rp->more);
	(void)snprintf(msg, sizeof(msg),
	    "{\"v\":1,\"op\":\"list\",\"after\":\"%s\"}",
	    "ffffffff-ffff-4fff-8fff-ffffffffffff");
	handle(w, msg, NULL, 0);
	assert_int_equal(w->rp->nnets, 0);

	/* Down to two full pages, some from the middle: exactly 2 pages, the
	 * second without more. */
	n = MANY;
	while (n > (size_t)2 * FLEET_LIST_PAGE) {
		size_t at = n / 2;

		(void)snprintf(msg, sizeof(msg),
		    "{\"v\":1,\"op\":\"del\",\"id\":\"%s\"}", ids[at]);
		handle(w, msg, NULL, 0);
		assert_true(w->rp->ok);
		memmove(ids[at], ids[at + 1], (n - at - 1) * sizeof(ids[0]));
		n--;
	}
	assert_int_equal(fleet_server_count(w->s), n);
	assert_int_equal(page_all(w, ids, n), 2);
	free(ids);
}

/* A network added with a namespace's name goes when the name goes. */
static void
test_server_netns_gone(void **state)
{
	struct world *w = *state;
	struct fleet_request *r = calloc(1, sizeof(*r));
	struct strbuf msg = STRBUF_INIT;
	char path[128];
	unsigned int port = 0;
	int fd, fds[1], i;

	assert_non_null(r);
	(void)snprintf(path, sizeof(path), "%s/qdhcp-a", w->dir);
	/* The name of our own namespace, where the listener is. */
	assert_int_equal(symlink("/proc/self/ns/net", path), 0);
	fd = tcp_listener(&port);
	r->op = FLEET_ADD;
	defaults_proxy(&r->net);
	(void)snprintf(r->net.id, sizeof(r->net.id), "%s", UUID);
	(void)snprintf(r->net.socket_path, sizeof(r->net.socket_path), "/a");
	(void)snprintf(
	    r->net.bind_address, sizeof(r->net.bind_address), "127.0.0.1");
	r->net.port = port;
	(void)snprintf(r->netns, sizeof(r->netns), "qdhcp-a");
	assert_int_equal(fleet_request_write(r, &msg), 0);
	fds[0] = fd;
	handle(w, msg.buf, fds, 1);
	assert_true(w->rp->ok);
	(void)add_net(w, UUID2); /* no name: stays */
	show(w, UUID);
	assert_string_equal(w->rp->nets[0].netns, "qdhcp-a");
	assert_int_equal(fleet_server_count(w->s), 2);

	assert_int_equal(unlink(path), 0);
	for (i = 0; i < 50 && fleet_server_count(w->s) != 1; i++) {
		(void)event_base_loop(engine_base(w->e), EVLOOP_NONBLOCK);
		if (fleet_server_count(w->s) != 1)
			(void)usleep(2000);
	}
	assert_int_equal(fleet_server_count(w->s), 1);
	show(w, UUID);
	assert_refused(w, "not served");
	show(w, UUID2);
	assert_true(w->rp->ok);
	assert_true(is_closed(fd));
	strbuf_release(&msg);
	free(r);
}

/* ---- 4. the control socket ---- */

/* Open descriptors of this process; of the inode of ref, when ref >= 0. */
static int
count_fds(int ref)
{
	struct stat want, st;
	struct dirent *de;
	unsigned long v;
	DIR *dir;
	int n = 0, fd;

	if (ref >= 0)
		assert_int_equal(fstat(ref, &want), 0);
	dir = opendir("/proc/self/fd");
	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		assert_int_equal(
		    validate_ulong(de->d_name, 0, INT_MAX, &v, NULL), 0);
		fd = (int)v;
		if (fd == dirfd(dir))
			continue;
		if (ref < 0) {
			n++;
			continue;
		}
		if (fstat(fd, &st) == 0 && st.st_ino == want.st_ino &&
		    st.st_dev == want.st_dev)
			n++;
	}
	(void)closedir(dir);
	return n;
}

static void
seqpacket_pair(int sv[2])
{
	assert_int_equal(
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

/* A file of our own, to pass around and find again by its inode. */
static int
scratch_file(void)
{
	char path[] = "/tmp/nmp-fleet-fd-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(unlink(path), 0);
	return fd;
}

static void
test_ctl_passes_fds(void **state)
{
	struct stat a, b;
	char buf[64];
	int sv[2], mine[2], got[FLEET_FDS_MAX] = {-1, -1}, n = -1, i;

	(void)state;
	seqpacket_pair(sv);
	mine[0] = scratch_file();
	mine[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(mine[1] >= 0);
	assert_int_equal(ctl_send(sv[0], "hello", 5, mine, 2), 0);
	assert_int_equal(ctl_recv(sv[1], buf, sizeof(buf), got, 2, &n), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(n, 2);
	for (i = 0; i < 2; i++) {
		assert_true(got[i] >= 0 && got[i] != mine[i]);
		assert_int_equal(fstat(mine[i], &a), 0);
		assert_int_equal(fstat(got[i], &b), 0);
		assert_int_equal(a.st_ino, b.st_ino);
		assert_int_equal(a.st_dev, b.st_dev);
		assert_true((fcntl(got[i], F_GETFD) & FD_CLOEXEC) != 0);
		(void)close(got[i]);
		(void)close(mine[i]);
	}
	/* A message alone; the exact size of the buffer is room enough. */
	assert_int_equal(ctl_send(sv[0], "0123456789", 10, NULL, 0), 0);
	n = -1;
	assert_int_equal(ctl_recv(sv[1], buf, 10, got, 2, &n), 10);
	assert_int_equal(n, 0);
	/* The end: 0. */
	(void)close(sv[0]);
	assert_int_equal(ctl_recv(sv[1], buf, sizeof(buf), got, 2, &n), 0);
	assert_int_equal(n, 0);
	(void)close(sv[1]);
	/* More than a message may carry is not sent. */
	assert_int_equal(ctl_send(-1, "x", 1, mine, -1), -EINVAL);
	assert_int_equal(ctl_send(-1, "x", 1, mine, 9), -EINVAL);
}

static void
test_ctl_too_many_fds(void **state)
{
	struct msghdr mh;
	struct iovec iov;
	union {
		char buf[CMSG_SPACE(sizeof(int) * 9)];
		struct cmsghdr align;
	} u;
	struct cmsghdr *cm;
	char buf[64];
	int sv[2], f, three[3], nine[9], got[FLEET_FDS_MAX], n = -1, before,
	                                                     all, i;

	(void)state;
	seqpacket_pair(sv);
	f = scratch_file();
	for (i = 0; i < 3; i++)
		three[i] = f;
	before = count_fds(-1);
	assert_int_equal(count_fds(f), 1);
	assert_int_equal(ctl_send(sv[0], "add", 3, three, 3), 0);
	assert_int_equal(
	    ctl_recv(sv[1], buf, sizeof(buf), got, 2, &n), -EPROTO);
	assert_int_equal(n, 0);
	assert_int_equal(count_fds(f), 1);
	assert_int_equal(count_fds(-1), before);

	/* Nine: more than the room for them, cut short by the kernel. */
	for (i = 0; i < 9; i++)
		nine[i] = f;
	memset(&mh, 0, sizeof(mh));
	memset(&u, 0, sizeof(u));
	iov.iov_base = buf;
	iov.iov_len = 1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(nine));
	memcpy(CMSG_DATA(cm), nine, sizeof(nine));
	assert_int_equal(sendmsg(sv[0], &mh, 0), 1);
	assert_int_equal(
	    ctl_recv(sv[1], buf, sizeof(buf), got, 2, &n), -EPROTO);
	assert_int_equal(n, 0);
	assert_int_equal(count_fds(f), 1);
	assert_int_equal(count_fds(-1), before);

	/* Two when two may come: kept. */
	assert_int_equal(ctl_send(sv[0], "add", 3, three, 2), 0);
	assert_int_equal(ctl_recv(sv[1], buf, sizeof(buf), got, 2, &n), 3);
	assert_int_equal(n, 2);
	assert_int_equal(count_fds(f), 3);
	all = count_fds(-1);
	assert_int_equal(all, before + 2);
	(void)close(got[0]);
	(void)close(got[1]);
	(void)close(f);
	(void)close(sv[0]);
	(void)close(sv[1]);
}

static void
test_ctl_message_too_big(void **state)
{
	char big[100], buf[10];
	int sv[2], f, got[FLEET_FDS_MAX], n = -1;

	(void)state;
	memset(big, 'a', sizeof(big));
	seqpacket_pair(sv);
	f = scratch_file();
	assert_int_equal(ctl_send(sv[0], big, sizeof(big), NULL, 0), 0);
	assert_int_equal(
	    ctl_recv(sv[1], buf, sizeof(buf), got, 2, &n), -EMSGSIZE);
	assert_int_equal(n, 0);
	/* With a descriptor: that is closed too. */
	assert_int_equal(ctl_send(sv[0], big, 11, &f, 1), 0);
	assert_int_equal(
	    ctl_recv(sv[1], buf, sizeof(buf), got, 2, &n), -EMSGSIZE);
	assert_int_equal(n, 0);
	assert_int_equal(count_fds(f), 1);
	/* The next message is whole: the big one is gone. */
	assert_int_equal(ctl_send(sv[0], "ok", 2, NULL, 0), 0);
	assert_int_equal(ctl_recv(sv[1], buf, sizeof(buf), got, 2, &n), 2);
	(void)close(f);
	(void)close(sv[0]);
	(void)close(sv[1]);
}

static void
test_ctl_peer(void **state)
{
	struct ucred cred;
	gid_t *groups, other;
	int sv[2], ng, i;
	bool ours;

	(void)state;
	seqpacket_pair(sv);
	memset(&cred, 0xff, sizeof(cred));
	assert_int_equal(ctl_peer_allowed(sv[1], getegid(), &cred), 0);
	assert_int_equal(cred.pid, getpid());
	assert_int_equal(cred.uid, geteuid());
	assert_int_equal(cred.gid, getegid());
	/* A group that is none of ours. */
	ng = getgroups(0, NULL);
	assert_true(ng >= 0);
	groups = calloc((size_t)ng + 1, sizeof(*groups));
	assert_non_null(groups);
	ng = getgroups(ng, groups);
	assert_true(ng >= 0);
	for (other = 54321;; other++) {
		ours = other == getegid();
		for (i = 0; i < ng; i++)
			ours = ours || groups[i] == other;
		if (!ours)
			break;
	}
	if (geteuid() == 0) {
		assert_int_equal(ctl_peer_allowed(sv[1], other, &cred), 0);
	} else {
		assert_int_equal(
		    ctl_peer_allowed(sv[1], other, &cred), -EACCES);
		/* told who it is all the same */
		assert_int_equal(cred.pid, getpid());
		for (i = 0; i < ng; i++)
			assert_int_equal(
			    ctl_peer_allowed(sv[1], groups[i], &cred), 0);
	}
	free(groups);
	(void)close(sv[0]);
	(void)close(sv[1]);
	/* Not a socket: the kernel will not tell. */
	assert_true(ctl_peer_allowed(-1, 0, &cred) < 0);
}

/* Run the engine's loop until fd is readable (or closed); false if never. */
static bool
loop_until_readable(struct world *w, int fd)
{
	struct pollfd pfd;
	int i;

	for (i = 0; i < 200; i++) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) == 1)
			return true;
		(void)event_base_loop(engine_base(w->e), EVLOOP_NONBLOCK);
		(void)usleep(1000);
	}
	return false;
}

/* The control socket, end to end: a request in, its reply out. */
static void
test_ctl_socket(void **state)
{
	struct world *w = *state;
	struct fleet_server *s;
	char path[128], buf[4096], why[FLEET_ERROR_MAX];
	int lfd = -1, c = -1, err = 0, fds[FLEET_FDS_MAX], n = 0;
	ssize_t len;

	(void)snprintf(path, sizeof(path), "%s/ctl.sock", w->dir);
	assert_int_equal(ctl_listen(path, getegid(), &lfd), 0);
	/* A second daemon on it: refused. */
	{
		int again = -1;

		assert_int_equal(
		    ctl_listen(path, getegid(), &again), -EADDRINUSE);
		assert_int_equal(again, -1);
	}
	s = fleet_server_new(w->e, lfd, getegid(), w->dir, &err);
	assert_non_null(s);
	assert_int_equal(ctl_connect(path, &c), 0);
	assert_int_equal(
	    ctl_send(c, "{\"v\":1,\"op\":\"list\"}", 19, NULL, 0), 0);
	assert_true(loop_until_readable(w, c));
	len = ctl_recv(c, buf, sizeof(buf), fds, FLEET_FDS_MAX, &n);
	assert_true(len > 0);
	assert_int_equal(n, 0);
	assert_int_equal(
	    fleet_reply_parse(buf, (size_t)len, w->rp, why, sizeof(why)), 0);
	assert_true(w->rp->ok);
	assert_int_equal(w->rp->nnets, 0);
	/* Junk: an error, and the connection stays. */
	assert_int_equal(ctl_send(c, "{", 1, NULL, 0), 0);
	assert_true(loop_until_readable(w, c));
	len = ctl_recv(c, buf, sizeof(buf), fds, FLEET_FDS_MAX, &n);
	assert_true(len > 0);
	assert_int_equal(
	    fleet_reply_parse(buf, (size_t)len, w->rp, why, sizeof(why)), 0);
	assert_refused(w, "bad request");
	(void)close(c);
	fleet_server_free(s);
	(void)unlink(path);
}

#define ID_HELD "11111111-1111-4111-8111-111111111111"
#define ID_ALIVE "22222222-2222-4222-8222-222222222222"

/* A held add of id on a listener of its own, sent on c; ok or not. */
static bool
add_held(struct world *w, int c, const char *id)
{
	struct strbuf msg = STRBUF_INIT;
	char buf[4096], why[FLEET_ERROR_MAX];
	unsigned int port = 0;
	int fd = tcp_listener(&port), fds[FLEET_FDS_MAX], n = 0;
	ssize_t len;

	add_request_held(id, port, true, &msg);
	assert_int_equal(ctl_send(c, msg.buf, msg.len, &fd, 1), 0);
	(void)close(fd); /* the server's copy serves */
	assert_true(loop_until_readable(w, c));
	len = ctl_recv(c, buf, sizeof(buf), fds, FLEET_FDS_MAX, &n);
	assert_true(len > 0);
	assert_int_equal(
	    fleet_reply_parse(buf, (size_t)len, w->rp, why, sizeof(why)), 0);
	strbuf_release(&msg);
	return w->rp->ok;
}

/*
 * neutron's monitor starts the front again as soon as it finds its stub
 * dead: the new add may come before the daemon has read the end of the
 * old holder's connection. A holder whose end is closed holds nothing;
 * one alive still does.
 */
static void
test_ctl_holder_gone(void **state)
{
	struct world *w = *state;
	struct fleet_server *s;
	char path[128];
	int lfd = -1, c1 = -1, c2 = -1, err = 0, fd;

	(void)snprintf(path, sizeof(path), "%s/ctl.sock", w->dir);
	assert_int_equal(ctl_listen(path, getegid(), &lfd), 0);
	s = fleet_server_new(w->e, lfd, getegid(), w->dir, &err);
	assert_non_null(s);
	fleet_server_free(w->s); /* the setup's, without a socket */
	w->s = s;
	assert_int_equal(ctl_connect(path, &c1), 0);
	assert_int_equal(ctl_connect(path, &c2), 0);
	assert_true(add_held(w, c1, ID_HELD));
	assert_true(add_held(w, c2, ID_ALIVE));
	show(w, ID_HELD);
	assert_true(w->rp->ok);
	assert_true(w->rp->nets[0].held);
	/* Killed; the loop does not run before the next add. */
	(void)close(c1);
	fd = add_net(w, ID_HELD);
	show(w, ID_HELD);
	assert_true(w->rp->ok);
	assert_false(w->rp->nets[0].held);
	/* A live holder keeps its network. */
	{
		struct strbuf msg = STRBUF_INIT;
		unsigned int port = 0;
		int fds[1];

		fds[0] = tcp_listener(&port);
		add_request(ID_ALIVE, port, &msg);
		handle(w, msg.buf, fds, 1);
		assert_refused(w, "is served already");
		(void)close(fds[0]);
		strbuf_release(&msg);
	}
	(void)close(c2);
	(void)close(fd);
	(void)unlink(path);
}

/*
 * An empty message with a descriptor: the server closes the connection
 * and keeps nothing of what came with it.
 */
static void
test_ctl_empty_message_with_fd(void **state)
{
	struct world *w = *state;
	struct fleet_server *s;
	char path[128], buf[64];
	int lfd = -1, c = -1, err = 0, f, fds[FLEET_FDS_MAX], n = 0, copies;

	(void)snprintf(path, sizeof(path), "%s/ctl.sock", w->dir);
	assert_int_equal(ctl_listen(path, getegid(), &lfd), 0);
	s = fleet_server_new(w->e, lfd, getegid(), w->dir, &err);
	assert_non_null(s);
	f = scratch_file();
	assert_int_equal(ctl_connect(path, &c), 0);
	assert_int_equal(ctl_send(c, "", 0, &f, 1), 0);
	/* the server reads it, then closes: c reads the end */
	assert_true(loop_until_readable(w, c));
	assert_int_equal(ctl_recv(c, buf, sizeof(buf), fds, 2, &n), 0);
	copies = count_fds(f);
	(void)close(c);
	(void)close(f);
	fleet_server_free(s);
	(void)unlink(path);
	/* ours, and no copy left with the server */
	assert_int_equal(copies, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_add),
	    cmocka_unit_test(test_round_trip_others),
	    cmocka_unit_test(test_parse_defaults_and_canonical),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_refusal_small_buffer),
	    cmocka_unit_test(test_replies),
	    cmocka_unit_test_setup_teardown(
	        test_server_add_show_del, server_setup, server_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_server_refuses_listeners, server_setup, server_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_server_two_listeners, server_setup, server_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_server_list_pages, server_setup, server_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_server_netns_gone, server_setup, server_teardown),
	    cmocka_unit_test(test_ctl_passes_fds),
	    cmocka_unit_test(test_ctl_too_many_fds),
	    cmocka_unit_test(test_ctl_message_too_big),
	    cmocka_unit_test(test_ctl_peer),
	    cmocka_unit_test_setup_teardown(
	        test_ctl_socket, server_setup, server_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_ctl_empty_message_with_fd, server_setup, server_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_ctl_holder_gone, server_setup, server_teardown),
	};

	/* Each refusal is checked in its reply; the log would repeat it. */
	log_quiet_stderr();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
