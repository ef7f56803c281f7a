/*
 * status --all, its pure part (cmd/status_all.h): the names of pidfiles and
 * configs, what /proc and a config say, the merge of what was found into
 * one line per proxy, and both output forms.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cmd/status_all.h"
#include "strbuf.h"
#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define U1 "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
#define U2 "0b9e8d7c-6f5a-4e3d-9c2b-1a0f9e8d7c6b"
#define UNTOUCHED "untouched"

static void
test_pidfile_names(void **state)
{
	static const struct {
		const char *name;
		int want;
		bool neutron;
	} cases[] = {
	    {U1 ".pid", 1, false},
	    {U1 ".pid.haproxy", 1, true},
	    /* the socket beside a pidfile, other services' pidfiles */
	    {U1 ".pid.ctl", 0, false},
	    {U1 ".pid.haproxy.ctl", 0, false},
	    {U1 ".pid.radvd", 0, false},
	    {U1 ".monitor.pid.neutron-keepalived-state-change-monitor", 0,
	        false},
	    {U1 ".pid.haproxy.bak", 0, false},
	    {"", 0, false},
	    {".", 0, false},
	    {"..", 0, false},
	    {".pid", 0, false},
	    {"." U1 ".pid", 0, false},
	    {"pid", 0, false},
	    {"haproxy", 0, false},
	    /* a pidfile's name whose id is no canonical uuid */
	    {"x.pid", -EINVAL, false},
	    {"not-a-uuid.pid.haproxy", -EINVAL, false},
	    {"3F1C2D4E-5A6B-4C7D-8E9F-0A1B2C3D4E5F.pid", -EINVAL, false},
	    {U1 "0.pid", -EINVAL, false},
	    {"3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5.pid", -EINVAL, false},
	    {"3f1c2d4e_5a6b-4c7d-8e9f-0a1b2c3d4e5f.pid", -EINVAL, false},
	    {" " U1 ".pid", -EINVAL, false},
	    {"3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5\n.pid", -EINVAL, false},
	};
	char id[64];
	bool neutron;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		memcpy(id, UNTOUCHED, sizeof(UNTOUCHED));
		neutron = !cases[i].neutron;
		r = status_all_pidfile_id(cases[i].name, id, &neutron);
		if (r != cases[i].want)
			fail_msg("'%s': %d, want %d", cases[i].name, r,
			    cases[i].want);
		if (r == 1) {
			assert_string_equal(id, U1);
			assert_int_equal(neutron, cases[i].neutron);
		} else {
			assert_string_equal(id, UNTOUCHED);
		}
	}
	assert_int_equal(status_all_pidfile_id(U2 ".pid", id, NULL), 1);
	assert_string_equal(id, U2);
}

static void
test_config_names(void **state)
{
	static const struct {
		const char *name;
		int want;
	} cases[] = {
	    {U1 ".conf", 1},
	    {"." U1 ".conf.tmp-Ab12Cd", 0},
	    {U1 ".conf.tmp-Ab12Cd", 0},
	    {U1 ".conf.bak", 0},
	    {U1 ".pid", 0},
	    {"", 0},
	    {".conf", 0},
	    {"haproxy.conf", -EINVAL},
	    {"3F1C2D4E-5A6B-4C7D-8E9F-0A1B2C3D4E5F.conf", -EINVAL},
	};
	char id[64];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		memcpy(id, UNTOUCHED, sizeof(UNTOUCHED));
		r = status_all_config_id(cases[i].name, id);
		if (r != cases[i].want)
			fail_msg("'%s': %d, want %d", cases[i].name, r,
			    cases[i].want);
		assert_string_equal(id, r == 1 ? U1 : UNTOUCHED);
	}
}

static void
test_exe_engine(void **state)
{
	static const struct {
		const char *target;
		enum status_engine want;
	} cases[] = {
	    {"/usr/sbin/haproxy", STATUS_ENGINE_HAPROXY},
	    {"/usr/sbin/haproxy (deleted)", STATUS_ENGINE_HAPROXY},
	    {"haproxy", STATUS_ENGINE_HAPROXY},
	    {"/usr/local/sbin/ns-metadata-proxy", STATUS_ENGINE_BUILTIN},
	    {"/usr/sbin/neutron-ns-metadata-proxy", STATUS_ENGINE_BUILTIN},
	    {"/usr/libexec/ns-metadata-proxy/ns-metadata-proxy-stub",
	        STATUS_ENGINE_FLEET},
	    {"/usr/libexec/ns-metadata-proxy/ns-metadata-proxy-stub (deleted)",
	        STATUS_ENGINE_FLEET},
	    {"/usr/bin/sleep", STATUS_ENGINE_NONE},
	    {"/usr/sbin/haproxyx", STATUS_ENGINE_NONE},
	    {"/usr/sbin/xhaproxy", STATUS_ENGINE_NONE},
	    {"/haproxy/sleep", STATUS_ENGINE_NONE},
	    {"/usr/sbin/", STATUS_ENGINE_NONE},
	    {" (deleted)", STATUS_ENGINE_NONE},
	    {"", STATUS_ENGINE_NONE},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		if (status_all_exe_engine(cases[i].target) != cases[i].want)
			fail_msg("'%s': %d, want %d", cases[i].target,
			    status_all_exe_engine(cases[i].target),
			    cases[i].want);
}

static void
test_proc_texts(void **state)
{
	/* Fields 3 to 21, then starttime (22), then the rest. */
	static const char fields[] =
	    " S 1 2 3 0 -1 4194560 5 6 7 8 9 10 11 12 20 0 1 0 ";
	static const struct {
		const char *comm;
		const char *start;
		int want;
		unsigned long long ticks;
	} cases[] = {
	    {"(haproxy)", "987654", 0, 987654},
	    {"(a) b) (c)", "42", 0, 42},
	    {"( )", "0", 0, 0},
	    {"(x)", "18446744073709551615", 0, 18446744073709551615ULL},
	    {"(x)", "18446744073709551616", -EINVAL, 0},
	    {"(x)", "-1", -EINVAL, 0},
	    {"(x)", "1x", -EINVAL, 0},
	    {"no parenthesis", "1", -EINVAL, 0},
	};
	char stat[512];
	unsigned long long ticks, sec;
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		n = STR_CONCAT(stat, sizeof(stat), "1234 ", cases[i].comm,
		    fields, cases[i].start, " 1234 56\n");
		assert_true(n > 0);
		ticks = 7;
		assert_int_equal(status_all_starttime(stat, (size_t)n, &ticks),
		    cases[i].want);
		assert_true(ticks == (cases[i].want == 0 ? cases[i].ticks : 7));
	}
	/* Cut short before starttime, or blanks doubled. */
	assert_int_equal(
	    status_all_starttime("1 (x) S 1 2 3", 13, &ticks), -EINVAL);
	assert_int_equal(status_all_starttime("1 (x)", 5, &ticks), -EINVAL);
	assert_int_equal(
	    status_all_starttime("1 (x)  S 1", 10, &ticks), -EINVAL);

	assert_int_equal(status_all_uptime("12345.67 54321.00\n", 18, &sec), 0);
	assert_true(sec == 12345);
	assert_int_equal(status_all_uptime("12", 2, &sec), 0);
	assert_true(sec == 12);
	sec = 9;
	assert_int_equal(status_all_uptime("", 0, &sec), -EINVAL);
	assert_int_equal(status_all_uptime(".5", 2, &sec), -EINVAL);
	assert_int_equal(status_all_uptime("1 2", 3, &sec), -EINVAL);
	assert_true(sec == 9);
}

static void
test_kinds(void **state)
{
	static const char router[] =
	    "ns-metadata-proxy\0run\0--router-id\0" U1 "\0";
	static const char net_eq[] = "x\0--network_id=" U1 "\0";
	static const char near[] = "x\0--router-idx\0--network\0";
	static const char cut[] = "x\0--router-id";
	static const char haproxy[] = "haproxy\0-f\0/x/" U1 ".conf\0";
	static const char ours[] =
	    "listen listener\n"
	    "    http-request del-header X-Neutron-Router-ID\n"
	    "    http-request set-header X-Neutron-Network-ID " U1 "\n";
	static const char neutron_router[] =
	    "listen listener\n"
	    "    http-request add-header X-Neutron-Router-ID " U1 "\n";
	static const char ovn[] =
	    "\thttp-request\tadd-header\tx-ovn-network-id " U1;
	static const char only_del[] =
	    "    http-request del-header X-Neutron-Router-ID\n"
	    "    # http-request set-header X-Neutron-Router-ID " U1 "\n"
	    "    set-header X-Neutron-Router-ID " U1 "\n";

	(void)state;
	assert_int_equal(status_all_cmdline_kind(router, sizeof(router) - 1),
	    STATUS_KIND_ROUTER);
	assert_int_equal(status_all_cmdline_kind(net_eq, sizeof(net_eq) - 1),
	    STATUS_KIND_NETWORK);
	assert_int_equal(
	    status_all_cmdline_kind(near, sizeof(near) - 1), STATUS_KIND_NONE);
	assert_int_equal(
	    status_all_cmdline_kind(cut, sizeof(cut) - 1), STATUS_KIND_NONE);
	assert_int_equal(status_all_cmdline_kind(haproxy, sizeof(haproxy) - 1),
	    STATUS_KIND_NONE);
	assert_int_equal(status_all_cmdline_kind("", 0), STATUS_KIND_NONE);
	assert_int_equal(status_all_config_kind(ours, sizeof(ours) - 1),
	    STATUS_KIND_NETWORK);
	assert_int_equal(
	    status_all_config_kind(neutron_router, sizeof(neutron_router) - 1),
	    STATUS_KIND_ROUTER);
	assert_int_equal(
	    status_all_config_kind(ovn, sizeof(ovn) - 1), STATUS_KIND_NETWORK);
	assert_int_equal(status_all_config_kind(only_del, sizeof(only_del) - 1),
	    STATUS_KIND_NONE);
	assert_int_equal(status_all_config_kind("", 0), STATUS_KIND_NONE);
}

static struct status_line
line(const char *id, enum status_state st, enum status_engine e, pid_t pid,
    const char *pidfile)
{
	struct status_line l;

	memset(&l, 0, sizeof(l));
	(void)snprintf(l.id, sizeof(l.id), "%s", id);
	l.state = st;
	l.engine = e;
	l.pid = pid;
	l.uptime = -1;
	l.requests = -1;
	(void)snprintf(l.pidfile, sizeof(l.pidfile), "%s", pidfile);
	return l;
}

static struct status_line
listed(
    const char *id, enum status_kind kind, long long requests, const char *err)
{
	struct status_line l =
	    line(id, STATUS_RUNNING, STATUS_ENGINE_FLEET, 100, "");

	l.fleet = true;
	l.kind = kind;
	l.requests = requests;
	l.uptime = 60;
	l.error_known = true;
	(void)snprintf(l.last_error, sizeof(l.last_error), "%s", err);
	return l;
}

static void
test_merge(void **state)
{
	struct status_line l[8];
	size_t n;

	(void)state;
	/* A stub and the fleet's line of its id: one line, the stub's pid. */
	l[0] = listed(U1, STATUS_KIND_ROUTER, 7, "body too large");
	l[1] = line(
	    U1, STATUS_RUNNING, STATUS_ENGINE_FLEET, 200, U1 ".pid.haproxy");
	l[1].uptime = 5;
	n = status_all_merge(l, 2, true);
	assert_int_equal(n, 1);
	assert_int_equal(l[0].pid, 200);
	assert_int_equal(l[0].engine, STATUS_ENGINE_FLEET);
	assert_int_equal(l[0].state, STATUS_RUNNING);
	assert_int_equal(l[0].kind, STATUS_KIND_ROUTER);
	assert_true(l[0].requests == 7 && l[0].uptime == 60);
	assert_true(l[0].error_known);
	assert_string_equal(l[0].last_error, "body too large");
	assert_string_equal(l[0].pidfile, U1 ".pid.haproxy");

	/* A stub the fleet does not list waits; unknown when not asked. */
	l[0] = line(U1, STATUS_RUNNING, STATUS_ENGINE_FLEET, 200, U1 ".pid");
	l[1] = listed(U2, STATUS_KIND_NETWORK, 0, "");
	n = status_all_merge(l, 2, true);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].id, U2); /* in the order of the ids */
	assert_int_equal(l[1].state, STATUS_WAITING);
	assert_true(l[1].requests == -1);
	l[0] = line(U1, STATUS_RUNNING, STATUS_ENGINE_FLEET, 200, U1 ".pid");
	assert_int_equal(status_all_merge(l, 1, false), 1);
	assert_int_equal(l[0].state, STATUS_UNKNOWN);

	/* A config and the proxy serving it: one line, the config's kind. */
	l[0] = line(U1, STATUS_STOPPED, STATUS_ENGINE_NONE, 0, "");
	l[0].kind = STATUS_KIND_ROUTER;
	l[1] = line(U1, STATUS_RUNNING, STATUS_ENGINE_HAPROXY, 300, U1 ".pid");
	n = status_all_merge(l, 2, true);
	assert_int_equal(n, 1);
	assert_int_equal(l[0].state, STATUS_RUNNING);
	assert_int_equal(l[0].kind, STATUS_KIND_ROUTER);
	assert_int_equal(l[0].pid, 300);

	/* Nothing runs: the dead pidfile before the config and the empty one.
	 */
	l[0] = line(U1, STATUS_STOPPED, STATUS_ENGINE_NONE, 0, "");
	l[0].kind = STATUS_KIND_NETWORK;
	l[1] = line(U1, STATUS_STOPPED, STATUS_ENGINE_NONE, 0, U1 ".pid");
	l[2] =
	    line(U1, STATUS_DEAD, STATUS_ENGINE_NONE, 400, U1 ".pid.haproxy");
	n = status_all_merge(l, 3, true);
	assert_int_equal(n, 1);
	assert_int_equal(l[0].state, STATUS_DEAD);
	assert_int_equal(l[0].pid, 400);
	assert_int_equal(l[0].kind, STATUS_KIND_NETWORK);
	l[0] = line(U1, STATUS_STOPPED, STATUS_ENGINE_NONE, 0, "");
	l[1] = line(U1, STATUS_STOPPED, STATUS_ENGINE_NONE, 0, U1 ".pid");
	assert_int_equal(status_all_merge(l, 2, true), 1);

	/* The fleet serves what a dead pidfile names: the fleet's line. */
	l[0] = line(U1, STATUS_DEAD, STATUS_ENGINE_NONE, 400, U1 ".pid");
	l[1] = listed(U1, STATUS_KIND_NETWORK, 3, "");
	n = status_all_merge(l, 2, true);
	assert_int_equal(n, 1);
	assert_true(l[0].fleet && l[0].pid == 100 && l[0].requests == 3);

	/* Two that serve one id (a proxy and the fleet): both, told apart. */
	l[0] = listed(U1, STATUS_KIND_NETWORK, 3, "");
	l[1] = line(U1, STATUS_RUNNING, STATUS_ENGINE_BUILTIN, 500, U1 ".pid");
	l[2] = line(
	    U1, STATUS_UNKNOWN, STATUS_ENGINE_NONE, 600, U1 ".pid.haproxy");
	n = status_all_merge(l, 3, true);
	assert_int_equal(n, 3);
	assert_int_equal(l[0].engine, STATUS_ENGINE_BUILTIN);
	assert_int_equal(l[0].kind, STATUS_KIND_NETWORK);
	assert_int_equal(l[1].engine, STATUS_ENGINE_FLEET);
	assert_int_equal(l[2].state, STATUS_UNKNOWN);

	assert_int_equal(status_all_merge(l, 0, true), 0);
}

static void
test_text(void **state)
{
	struct strbuf out = STRBUF_INIT;
	struct status_line l[3];

	(void)state;
	l[0] = listed(U2, STATUS_KIND_ROUTER, 12, "body too large");
	l[1] = line(U1, STATUS_DEAD, STATUS_ENGINE_NONE, 4321, U1 ".pid");
	l[2] = line(U1, STATUS_RUNNING, STATUS_ENGINE_HAPROXY, 77, U1 ".pid");
	l[2].kind = STATUS_KIND_NETWORK;
	l[2].uptime = 0;
	l[2].error_known = true;
	(void)snprintf(l[2].last_error, sizeof(l[2].last_error), "a\tb\x7f");
	status_all_text(l, 3, &out);
	assert_false(out.failed);
	assert_string_equal(strbuf_str(&out),
	    "# id kind engine pid state uptime requests last-error\n" U2
	    " router fleet 100 running 60 12 body-too-large\n" U1
	    " - - 4321 dead - - -\n" U1
	    " network haproxy 77 running 0 - a-b-\n");
	strbuf_release(&out);
	status_all_text(l, 0, &out);
	assert_string_equal(strbuf_str(&out),
	    "# id kind engine pid state uptime requests last-error\n");
	strbuf_release(&out);
}

static const char *
str_of(json_object *o, const char *key)
{
	json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, key, &v));
	return v == NULL ? NULL : json_object_get_string(v);
}

static void
test_json(void **state)
{
	struct strbuf out = STRBUF_INIT;
	struct status_line l[2];
	json_object *top, *arr, *o, *v;

	(void)state;
	l[0] = listed(U2, STATUS_KIND_ROUTER, 12, "body \"too\" large");
	l[1] = line(U1, STATUS_DEAD, STATUS_ENGINE_NONE, 4321, U1 ".pid");
	assert_int_equal(status_all_json(l, 2, "/s/external/pids", 3, &out), 0);
	assert_true(out.len > 0 && out.buf[out.len - 1] == '\n');
	top = json_tokener_parse(strbuf_str(&out));
	assert_non_null(top);
	assert_true(json_object_object_get_ex(top, "skipped", &v));
	assert_int_equal(json_object_get_int64(v), 3);
	assert_true(json_object_object_get_ex(top, "proxies", &arr));
	assert_int_equal(json_object_array_length(arr), 2);
	o = json_object_array_get_idx(arr, 0);
	assert_string_equal(str_of(o, "id"), U2);
	assert_string_equal(str_of(o, "kind"), "router");
	assert_string_equal(str_of(o, "engine"), "fleet");
	assert_string_equal(str_of(o, "state"), "running");
	assert_string_equal(str_of(o, "pid"), "100");
	assert_string_equal(str_of(o, "uptime"), "60");
	assert_string_equal(str_of(o, "requests"), "12");
	assert_string_equal(str_of(o, "last_error"), "body \"too\" large");
	assert_null(str_of(o, "pidfile"));
	o = json_object_array_get_idx(arr, 1);
	assert_null(str_of(o, "kind"));
	assert_null(str_of(o, "engine"));
	assert_string_equal(str_of(o, "pid"), "4321");
	assert_string_equal(str_of(o, "state"), "dead");
	assert_null(str_of(o, "uptime"));
	assert_null(str_of(o, "requests"));
	assert_null(str_of(o, "last_error"));
	assert_string_equal(
	    str_of(o, "pidfile"), "/s/external/pids/" U1 ".pid");
	json_object_put(top);
	strbuf_release(&out);
	assert_int_equal(status_all_json(l, 0, "/", 0, &out), 0);
	assert_string_equal(
	    strbuf_str(&out), "{\"proxies\":[],\"skipped\":0}\n");
	strbuf_release(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pidfile_names),
	    cmocka_unit_test(test_config_names),
	    cmocka_unit_test(test_exe_engine),
	    cmocka_unit_test(test_proc_texts),
	    cmocka_unit_test(test_kinds),
	    cmocka_unit_test(test_merge),
	    cmocka_unit_test(test_text),
	    cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
