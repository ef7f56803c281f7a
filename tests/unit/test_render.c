#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "render.h"
#include "strbuf.h"

/*
 * Each variant is rendered and compared with tests/unit/data/render/NAME.cfg.
 * NMP_UPDATE_GOLDEN=1 rewrites the files instead (review the diff).
 */
#define NET "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
#define RTR "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"

struct variant {
	const char *name;
	const char *user;
	const char *group;
	const char *args[24];
};

static const struct variant variants[] = {
    {"network", "neutron", "neutron", {"--network-id", NET, NULL}},
    {"router", "neutron", "neutron",
        {"--router_id=" RTR, "--state_path=/var/lib/neutron",
            "--metadata_port=9697",
            "--pid_file=/var/lib/neutron/external/pids/" RTR ".pid",
            "--metadata_proxy_socket=/var/lib/neutron/metadata_proxy", NULL}},
    {"ovn", "root", "root",
        {"--flavor", "ovn", "--network-id", NET, "--state-path",
            "/var/lib/ovn-metadata", "--bind-address", "169.254.169.254",
            "--metadata-port", "80", NULL}},
    {"ipv6_bind", "nobody", "nogroup",
        {"--router-id", RTR, "--bind-address", "::", NULL}},
    {"ipv6_extra_bind", "neutron", "neutron",
        {"--network-id", NET, "--bind-address-v6", "fe80::a9fe:a9fe",
            "--bind-interface", "tap0123abcd-ef", NULL}},
    {"rate_limit_v4", "neutron", "neutron",
        {"--network-id", NET, "--rate-limit-enabled", "--base-window-duration",
            "60", "--base-query-rate-limit", "30", "--burst-window-duration",
            "10", "--burst-query-rate-limit", "15", NULL}},
    {"rate_limit_v6", "neutron", "neutron",
        {"--network-id", NET, "--bind-address", "::", "--rate_limit_enabled",
            "--rate-limit-ip-version", "6", NULL}},
    {"timeouts_debug", "neutron", "neutron",
        {"--router-id", RTR, "--debug", "--timeout-http-request", "5s",
            "--timeout-connect", "250ms", "--timeout-client", "2m",
            "--timeout-server", "1h", "--timeout-http-keep-alive", "1500",
            NULL}},
    {"ovn_everything", "neutron", "neutron",
        {"--flavor=ovn", "--network_id", NET, "--bind-address",
            "::", "--bind-address-v6", "fe80::a9fe:a9fe", "--bind-interface",
            "eth0", "--rate-limit-enabled", "--rate-limit-ip-version", "6",
            "--metadata-proxy-socket", "/run/ovn/metadata.sock", "--pid-file",
            "/run/ovn/pids/x.pid", NULL}},
    /* Issue 12's caps off: no table, no tracking, no buffer change. */
    {"caps_off", "neutron", "neutron",
        {"--network-id", NET, "--max-conns-per-source", "0", "--max-body-size",
            "0", NULL}},
    /* A cap haproxy's default buffer holds, a per-source cap of one. */
    {"small_body_cap", "neutron", "neutron",
        {"--router-id", RTR, "--max-body-size", "1000",
            "--max-conns-per-source", "1", "--timeout-http-request", "2500ms",
            NULL}},
    /* Past 1 MiB: the length is checked, the body is not held. */
    {"large_body_cap", "neutron", "neutron",
        {"--network-id", NET, "--max-body-size", "2097152", "--bind-address",
            "::", NULL}},
    /* The largest cap held whole, with both sticky counter users. */
    {"body_cap_1m_rate_limit", "neutron", "neutron",
        {"--network-id", NET, "--max-body-size", "1048576",
            "--rate-limit-enabled", "--max-conns-per-source", "65535", NULL}},
};

static void
render_variant(const struct variant *v, struct strbuf *out)
{
	struct options o;
	struct cli_error err;
	char *argv[26];
	char prog[] = "ns-metadata-proxy";
	int argc = 0;

	argv[argc++] = prog;
	while (v->args[argc - 1] != NULL) {
		argv[argc] = (char *)(uintptr_t)v->args[argc - 1];
		argc++;
	}
	argv[argc] = NULL;
	if (cli_parse(argc, argv, &o, &err) != CLI_OK)
		fail_msg("%s: %s", v->name, err.msg);
	assert_int_equal(
	    render_config(&o.proxy, &o.daemon, v->user, v->group, out), 0);
}

static char *
read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	assert_int_equal(fclose(f), 0);
	*len = (size_t)n;
	return buf;
}

static void
golden_path(const char *name, char *out, size_t outsz)
{
	const char *dir = getenv("NMP_TEST_DATA");

	assert_non_null(dir);
	assert_true(STR_CONCAT(out, outsz, dir, "/render/", name, ".cfg") > 0);
}

static void
test_golden(void **state)
{
	const char *update = getenv("NMP_UPDATE_GOLDEN");
	char path[4096];
	size_t i, len = 0;

	(void)state;
	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		struct strbuf sb = STRBUF_INIT;
		char *want;

		render_variant(&variants[i], &sb);
		golden_path(variants[i].name, path, sizeof(path));
		if (update != NULL && strcmp(update, "1") == 0) {
			FILE *f = fopen(path, "we");

			assert_non_null(f);
			assert_int_equal(fwrite(sb.buf, 1, sb.len, f), sb.len);
			assert_int_equal(fclose(f), 0);
		}
		want = read_all(path, &len);
		if (want == NULL)
			fail_msg(
			    "%s: no golden file %s", variants[i].name, path);
		if (len != sb.len || memcmp(want, sb.buf, len) != 0)
			fail_msg("%s: rendered text differs from %s:\n%s",
			    variants[i].name, path, sb.buf);
		free(want);
		strbuf_release(&sb);
	}
}

static void
test_deterministic_and_clean(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

		render_variant(&variants[i], &a);
		render_variant(&variants[i], &b);
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.buf, b.buf, a.len);
		/* No control character but newline, no tab, ends in one. */
		for (j = 0; j < a.len; j++) {
			unsigned char c = (unsigned char)a.buf[j];

			if (c != '\n' && (c < 0x20 || c > 0x7e))
				fail_msg("%s: byte 0x%02x at %zu",
				    variants[i].name, c, j);
		}
		assert_int_equal(a.buf[a.len - 1], '\n');
		/* The daemon directive is ours to leave out. */
		assert_null(strstr(a.buf, "daemon\n"));
		strbuf_release(&a);
		strbuf_release(&b);
	}
}

static void
test_headers(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	render_variant(&variants[1], &sb); /* router */
	assert_non_null(
	    strstr(sb.buf, "set-header X-Neutron-Router-ID " RTR "\n"));
	assert_null(strstr(sb.buf, "set-header X-Neutron-Network-ID"));
	assert_non_null(strstr(
	    sb.buf, "del-header '(?i)^x[-_](neutron|ovn)[-_]' -m reg\n"));
	assert_non_null(strstr(
	    sb.buf, "del-header '(?i)^x[-_]forwarded[-_]for$' -m reg\n"));
	/* Deletions come before ours are set. */
	assert_true(
	    strstr(sb.buf, "del-header") < strstr(sb.buf, "set-header"));
	strbuf_release(&sb);
	render_variant(&variants[2], &sb); /* ovn */
	assert_non_null(
	    strstr(sb.buf, "set-header X-OVN-Network-ID " NET "\n"));
	assert_null(strstr(sb.buf, "X-Neutron"));
	strbuf_release(&sb);
}

static void
test_rate_table_family(void **state)
{
	static const struct variant dual = {"dual", "neutron", "neutron",
	    {"--network-id", NET, "--rate-limit-enabled", "--bind-address-v6",
	        "fe80::a9fe:a9fe", "--bind-interface", "eth0", NULL}};
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	/* IPv4 only: an ip table. */
	render_variant(&variants[5], &sb);
	assert_non_null(strstr(sb.buf, "stick-table type ip size"));
	strbuf_release(&sb);
	/* Any IPv6 listener: an ipv6 table, or its clients go unlimited. */
	render_variant(&dual, &sb);
	assert_non_null(strstr(sb.buf, "stick-table type ipv6 size"));
	assert_null(strstr(sb.buf, "stick-table type ip size"));
	strbuf_release(&sb);
}

/* Where needle first is in text; it must be there. */
static const char *
line_with(const char *text, const char *needle)
{
	const char *p = strstr(text, needle);

	assert_non_null(p);
	return p;
}

/* A variant by name. */
static const struct variant *
variant(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++)
		if (strcmp(variants[i].name, name) == 0)
			return &variants[i];
	fail_msg("no variant %s", name);
	return NULL;
}

/* Issue 12, default options: every rule there, in an order that works. */
static void
test_hardening_defaults(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	const char *t, *dels, *wait;

	(void)state;
	render_variant(variant("network"), &sb);
	t = sb.buf;
	/* 64 KiB and a byte, a 4 KiB head, its HTX, the 1 KiB reserve. */
	assert_non_null(strstr(t, "\n    tune.bufsize 73728\n"));
	assert_non_null(strstr(t, "\n    tune.http.maxhdr 1024\n"));
	assert_non_null(strstr(t, "\n    tune.h2.max-concurrent-streams 1\n"));
	/* httplog, then the reason only when set. */
	assert_non_null(strstr(t,
	    "    log-format \"%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST "
	    "%B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs "
	    "%{+Q}r%{-M}[var(txn.nmp_reason)]\"\n"));
	assert_non_null(strstr(t,
	    "    stick-table type ip size 100k expire 30s store conn_cur\n"));
	assert_non_null(strstr(t,
	    "    tcp-request connection track-sc2 src table per_source\n"
	    "    tcp-request connection reject if { sc2_conn_cur gt 64 }\n"));
	assert_non_null(
	    strstr(t, "    acl nmp_bigbody req.body_size gt 65536\n"));
	/* Each refusal sets its reason first, on the same condition. */
	assert_non_null(strstr(t,
	    "    http-request set-var-fmt(txn.nmp_reason) \" "
	    "reason=connect-method"
	    "\" if nmp_connect\n"
	    "    http-request deny deny_status 405 if nmp_connect\n"));
	assert_non_null(strstr(t,
	    "    http-request set-var-fmt(txn.nmp_reason) \" reason=too-many-"
	    "header-lines\" if nmp_lines\n"
	    "    http-request return status 431 if nmp_lines\n"));
	assert_non_null(strstr(t,
	    "    http-response set-var-fmt(txn.nmp_reason) \" reason=response-"
	    "head-too-large\" if nmp_bigresp\n"
	    "    http-response deny deny_status 502 if nmp_bigresp\n"));
	/* The length refused before the wait, the body after it. */
	wait = line_with(t, "    http-request wait-for-body time 30000ms "
	                    "at-least 65537\n");
	assert_true(line_with(t, "deny deny_status 413 if nmp_bigbody") < wait);
	assert_non_null(strstr(wait, "deny deny_status 413 if nmp_bigbody\n"));
	/* Head checks before the wait: its room counts on them. */
	assert_true(line_with(t, "return status 431 if nmp_bighead") < wait);
	assert_true(line_with(t, "return status 431 if nmp_lines") < wait);
	/* Every refusal before the deletions, the deletions before ours. */
	dels = line_with(t, "    http-request del-header");
	assert_true(wait < dels);
	assert_null(strstr(dels, "http-request deny"));
	assert_null(strstr(dels, "http-request return"));
	assert_true(dels < line_with(t, "    http-request set-header"));
	assert_non_null(strstr(t,
	    "    http-request del-header '(?i)^(forwarded|x[-_]real[-_]ip|"
	    "x[-_]instance[-_]id([-_]signature)?|x[-_]tenant[-_]id)$' -m "
	    "reg\n"));
	/* Refusals first in the rules: after the binds and the cap. */
	assert_true(
	    line_with(t, "sc2_conn_cur") < line_with(t, "    http-request "));
	strbuf_release(&sb);
}

/* Issue 12's options: off, small, large, with the rate limiter. */
static void
test_hardening_options(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	/* Off: no table, no tracking, no length rule, default buffer. */
	render_variant(variant("caps_off"), &sb);
	assert_null(strstr(sb.buf, "per_source"));
	assert_null(strstr(sb.buf, "track-sc"));
	assert_null(strstr(sb.buf, "nmp_bigbody"));
	assert_null(strstr(sb.buf, "tune.bufsize"));
	/* Bodies stream at once, as the built-in engine's: no wait. */
	assert_null(strstr(sb.buf, "wait-for-body"));
	strbuf_release(&sb);
	/* A small cap: the default buffer holds it. */
	render_variant(variant("small_body_cap"), &sb);
	assert_null(strstr(sb.buf, "tune.bufsize"));
	assert_non_null(strstr(sb.buf, "sc2_conn_cur gt 1 }\n"));
	assert_non_null(strstr(sb.buf,
	    "    http-request wait-for-body time 2500ms at-least 1001\n"));
	strbuf_release(&sb);
	/* Over 1 MiB: the length alone, no held body, an ipv6 table. */
	render_variant(variant("large_body_cap"), &sb);
	assert_null(strstr(sb.buf, "tune.bufsize"));
	assert_non_null(strstr(sb.buf, "req.body_size gt 2097152\n"));
	assert_null(strstr(sb.buf, "at-least"));
	assert_non_null(
	    strstr(sb.buf, "    http-request wait-for-body time 30000ms\n"));
	assert_non_null(strstr(sb.buf,
	    "    stick-table type ipv6 size 100k expire 30s store conn_cur\n"));
	strbuf_release(&sb);
	/* 1 MiB: held; sc0, sc1 for the rates, sc2 for the cap. */
	render_variant(variant("body_cap_1m_rate_limit"), &sb);
	assert_non_null(strstr(sb.buf, "    tune.bufsize 1056768\n"));
	assert_non_null(strstr(sb.buf, "at-least 1048577\n"));
	assert_non_null(
	    strstr(sb.buf, "track-sc0 src table base_rate_limiter"));
	assert_non_null(
	    strstr(sb.buf, "track-sc1 src table burst_rate_limiter"));
	assert_non_null(strstr(sb.buf, "track-sc2 src table per_source"));
	assert_non_null(strstr(sb.buf, "sc2_conn_cur gt 65535 }\n"));
	assert_non_null(strstr(sb.buf,
	    "\" reason=rate-limited\" if nmp_burst_rate\n"
	    "    http-request deny deny_status 429 if nmp_burst_rate\n"));
	strbuf_release(&sb);
}

static void
test_config_names(void **state)
{
	struct options o;
	char name[64];

	(void)state;
	memset(&o, 0, sizeof(o));
	memcpy(o.proxy.id, NET, sizeof(NET));
	assert_int_equal(render_config_name(&o.proxy, name, sizeof(name)), 0);
	assert_string_equal(name, NET ".conf");
	assert_int_equal(render_config_name(&o.proxy, name, 10), -ENAMETOOLONG);
	assert_string_equal(md_config_dir(FLAVOR_NEUTRON), "ns-metadata-proxy");
	assert_string_equal(md_config_dir(FLAVOR_OVN), "ovn-metadata-proxy");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden),
	    cmocka_unit_test(test_deterministic_and_clean),
	    cmocka_unit_test(test_headers),
	    cmocka_unit_test(test_rate_table_family),
	    cmocka_unit_test(test_hardening_defaults),
	    cmocka_unit_test(test_hardening_options),
	    cmocka_unit_test(test_config_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
