/*
 * The parser of neutron's metadata-proxy haproxy configs: the shapes
 * neutron renders are accepted and mapped, everything else is refused
 * with its line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "compat/haproxy_cfg.h"
#include "options.h"
#include "banned.h"

#define NET "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
#define RTR "0b9e8d7c-6f5a-4e3d-9c2b-1a0f9e8d7c6b"

/* The global and defaults sections of neutron's template (Zed). */
#define HEAD                                                                   \
	"\n"                                                                   \
	"global\n"                                                             \
	"    log         /dev/log local0 info\n"                               \
	"    log-tag     haproxy-metadata-proxy-" NET "\n"                     \
	"    user        root\n"                                               \
	"    group       root\n"                                               \
	"    maxconn     1024\n"                                               \
	"    pidfile     /var/lib/neutron/external/pids/" NET ".pid\n"         \
	"    daemon\n"                                                         \
	"\n"                                                                   \
	"defaults\n"                                                           \
	"    log global\n"                                                     \
	"    mode http\n"                                                      \
	"    option httplog\n"                                                 \
	"    option dontlognull\n"                                             \
	"    option http-server-close\n"                                       \
	"    option forwardfor\n"                                              \
	"    retries                 3\n"                                      \
	"    timeout http-request    30s\n"                                    \
	"    timeout connect         30s\n"                                    \
	"    timeout client          32s\n"                                    \
	"    timeout server          32s\n"                                    \
	"    timeout http-keep-alive 30s\n"                                    \
	"\n"
/* HEAD has 24 lines; the listen section starts on line 25. */
#define LISTEN_LINE 25

#define NETWORK_LISTEN                                                         \
	"listen listener\n"                                                    \
	"    bind 169.254.169.254:80\n"                                        \
	"    \n"                                                               \
	"    server metadata /var/lib/neutron/metadata_proxy\n"                \
	"    http-request del-header X-Neutron-Router-ID\n"                    \
	"    http-request set-header X-Neutron-Network-ID " NET "\n"

struct parsed {
	struct haproxy_cfg c;
	struct hcfg_error e;
	int r;
};

static int
parse_all(struct parsed *p, const char *text)
{
	haproxy_cfg_init(&p->c);
	p->r = haproxy_cfg_parse(&p->c, "/t/a.conf", text, strlen(text), &p->e);
	if (p->r == 0)
		p->r = haproxy_cfg_finish(&p->c, &p->e);
	return p->r;
}

static void
neutron_network(void **state)
{
	struct parsed p;
	struct options o;

	(void)state;
	assert_int_equal(parse_all(&p, HEAD NETWORK_LISTEN), 0);
	assert_int_equal(p.c.flavor, FLAVOR_NEUTRON);
	assert_int_equal(p.c.id_kind, ID_NETWORK);
	assert_string_equal(p.c.id, NET);
	assert_string_equal(p.c.bind_address, "169.254.169.254");
	assert_false(p.c.bind_v6);
	assert_int_equal(p.c.port, 80);
	assert_string_equal(p.c.socket_path, "/var/lib/neutron/metadata_proxy");
	assert_string_equal(p.c.user, "root");
	assert_int_equal(p.c.user_at.line, 5);
	assert_string_equal(
	    p.c.pidfile, "/var/lib/neutron/external/pids/" NET ".pid");
	/* The front judges the pidfile by the owner of the file it is in. */
	assert_string_equal(p.c.pidfile_at.file, "/t/a.conf");
	assert_int_equal(p.c.pidfile_at.line, 8);
	assert_true(p.c.daemon);
	assert_true(p.c.log_syslog);
	assert_string_equal(p.c.log_facility, "local0");
	assert_false(p.c.log_debug);
	assert_string_equal(p.c.log_tag, "haproxy-metadata-proxy-" NET);
	assert_int_equal(p.c.maxconn, 1024);
	assert_int_equal(p.c.retries, 3);
	assert_int_equal(p.c.timeouts.client, 32000);
	assert_int_equal(p.c.timeouts.http_keep_alive, 30000);
	assert_false(p.c.rate_limit.enabled);
	assert_int_equal(p.c.id_at.line, LISTEN_LINE + 5);
	/* neutron removes neither a client's X-Forwarded-For nor other
	 * spellings of the identity headers */
	assert_int_equal(p.c.weak, HCFG_WEAK_XFF | HCFG_WEAK_ID_SPELLING);

	assert_int_equal(haproxy_cfg_conf(&p.c, &o.proxy, &o.daemon), 0);
	assert_int_equal(o.daemon.engine, ENGINE_BUILTIN);
	assert_string_equal(o.proxy.id, NET);
	assert_string_equal(
	    o.proxy.socket_path, "/var/lib/neutron/metadata_proxy");
	assert_string_equal(o.proxy.bind_address, "169.254.169.254");
	assert_string_equal(o.proxy.bind_address_v6, "");
	assert_int_equal(o.proxy.port, 80);
	assert_string_equal(o.daemon.pid_file, p.c.pidfile);
	assert_true(o.daemon.daemonize);
	assert_true(o.daemon.use_syslog);
	assert_string_equal(o.daemon.syslog_facility, "local0");
	assert_int_equal(o.daemon.maxconn, 1024);
	assert_int_equal(o.proxy.timeouts.server, 32000);
}

static void
neutron_router_v6(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(
	    parse_all(&p, HEAD
	        "listen listener\n"
	        "    bind :::9697\n"
	        "    bind fe80::a9fe:a9fe:9697 interface "
	        "qr-0123456789a\n"
	        "    server metadata /run/n/metadata_proxy\n"
	        "    http-request del-header X-Neutron-Network-ID\n"
	        "    http-request set-header X-Neutron-Router-ID " RTR "\n"),
	    0);
	assert_int_equal(p.c.id_kind, ID_ROUTER);
	assert_string_equal(p.c.id, RTR);
	assert_string_equal(p.c.bind_address, "::");
	assert_true(p.c.bind_v6);
	assert_string_equal(p.c.bind_address_v6, "fe80::a9fe:a9fe");
	assert_string_equal(p.c.bind_interface, "qr-0123456789a");
	assert_int_equal(p.c.port, 9697);
}

static void
ovn_add_header(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(
	    parse_all(&p,
	        HEAD "listen listener\n"
	             "    bind 169.254.169.254:80\n"
	             "    server metadata /var/lib/neutron/metadata_proxy\n"
	             "    http-request add-header X-OVN-Network-ID " NET "\n"),
	    0);
	assert_int_equal(p.c.flavor, FLAVOR_OVN);
	assert_int_equal(p.c.id_kind, ID_NETWORK);
	assert_int_equal(p.c.weak,
	    HCFG_WEAK_XFF | HCFG_WEAK_ADD_KEEPS | HCFG_WEAK_ID_SPELLING);
}

/* Today's template: nbthread, rate limiting, blank lines in listen. */
static void
upstream_rate_limited(void **state)
{
	struct parsed p;
	struct options o;
	const char *text =
	    "global\n"
	    "    log         /dev/log local0 debug\n"
	    "    user        nobody\n"
	    "    group       nogroup\n"
	    "    maxconn     2048\n"
	    "    nbthread    2\n"
	    "    daemon\n"
	    "defaults\n"
	    "    mode http\n"
	    "    timeout client          1m\n"
	    "    timeout server          250ms\n"
	    "\n"
	    "backend base_rate_limiter\n"
	    "    stick-table type ipv6 size 10k expire 60s store "
	    "http_req_rate(60s)\n"
	    "\n"
	    "backend burst_rate_limiter\n"
	    "    stick-table type ipv6 size 10k expire 60s store "
	    "http_req_rate(5s)\n"
	    "\n"
	    "listen listener\n"
	    "    bind 0.0.0.0:80\n"
	    "    \n"
	    "\n"
	    "    http-request track-sc0 src table base_rate_limiter\n"
	    "    http-request track-sc1 src table burst_rate_limiter\n"
	    "    http-request deny deny_status 429 if { "
	    "src_http_req_rate(base_rate_limiter) gt 30 }\n"
	    "    http-request deny deny_status 429 if { "
	    "src_http_req_rate(burst_rate_limiter) gt 7 }\n"
	    "\n"
	    "    server metadata /var/lib/neutron/metadata_proxy\n"
	    "\n"
	    "    http-request add-header X-OVN-Network-ID " NET "\n";

	(void)state;
	assert_int_equal(parse_all(&p, text), 0);
	assert_true(p.c.rate_limit.enabled);
	assert_int_equal(p.c.rate_limit.ip_version, 6);
	assert_int_equal(p.c.rate_limit.base_window, 60);
	assert_int_equal(p.c.rate_limit.burst_window, 5);
	assert_int_equal(p.c.rate_limit.base_limit, 30);
	assert_int_equal(p.c.rate_limit.burst_limit, 7);
	assert_int_equal(p.c.nbthread, 2);
	assert_int_equal(p.c.nbthread_at.line, 6);
	assert_true(p.c.log_debug);
	assert_string_equal(p.c.pidfile, "");
	assert_int_equal(p.c.pidfile_at.line, 0);
	assert_int_equal(p.c.timeouts.client, 60000);
	assert_int_equal(p.c.timeouts.server, 250);
	assert_int_equal(p.c.timeouts.connect, 30000); /* neutron's default */
	assert_int_equal(haproxy_cfg_conf(&p.c, &o.proxy, &o.daemon), 0);
	assert_true(o.proxy.rate_limit.enabled);
	assert_int_equal(o.proxy.rate_limit.burst_limit, 7);
	assert_int_equal(o.daemon.maxconn, 2048);
	assert_true(o.daemon.debug);
	assert_string_equal(o.daemon.pid_file, "");
}

/* Our own rules: every spelling removed first; nothing weak. */
static void
clean_config(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(
	    parse_all(&p, HEAD
	        "listen listener\n"
	        "    bind 127.0.0.1:80\n"
	        "    server metadata /var/lib/neutron/metadata_proxy\n"
	        "    http-request del-header '(?i)^x[-_](neutron|ovn)[-_]' -m "
	        "reg\n"
	        "    http-request del-header '(?i)^x[-_]forwarded[-_]for$' -m "
	        "reg\n"
	        "    http-request add-header X-OVN-Network-ID " NET "\n"),
	    0);
	assert_int_equal(p.c.weak, 0);
	/* exact deletions: better, still weak */
	assert_int_equal(
	    parse_all(&p,
	        HEAD "listen listener\n"
	             "    bind 127.0.0.1:80\n"
	             "    server metadata /var/lib/neutron/metadata_proxy\n"
	             "    http-request del-header X-Forwarded-For\n"
	             "    http-request del-header X-OVN-Network-ID\n"
	             "    http-request add-header X-OVN-Network-ID " NET "\n"),
	    0);
	assert_int_equal(
	    p.c.weak, HCFG_WEAK_XFF_SPELLING | HCFG_WEAK_ID_SPELLING);
}

struct refusal {
	const char *listen; /* replaces NETWORK_LISTEN, or NULL */
	const char *head;   /* replaces HEAD, or NULL */
	unsigned int line;
	const char *msg;
};

#define L(x) "listen listener\n" x
#define OKSRV "    server metadata /var/lib/neutron/metadata_proxy\n"
#define OKID "    http-request set-header X-Neutron-Network-ID " NET "\n"
#define OKBIND "    bind 127.0.0.1:80\n"

static const struct refusal refusals[] = {
    {L("    lua-load /tmp/x.lua\n" OKBIND OKSRV OKID), NULL, LISTEN_LINE + 1,
        "not a directive"},
    {L(OKBIND OKSRV OKID "    external-check command /bin/sh\n"), NULL,
        LISTEN_LINE + 4, "not a directive"},
    {L(OKBIND OKSRV "    server evil /tmp/other.sock\n" OKID), NULL,
        LISTEN_LINE + 3, "a second server"},
    {L("    bind 127.0.0.1:80 ssl crt /x.pem\n" OKSRV OKID), NULL,
        LISTEN_LINE + 1, "unknown bind keyword 'ssl'"},
    {L("    bind 127.0.0.1:80 transparent\n" OKSRV OKID), NULL, LISTEN_LINE + 1,
        "unknown bind keyword"},
    {L(OKBIND "    server metadata 127.0.0.1:8775\n" OKID), NULL,
        LISTEN_LINE + 2, "not a network address"},
    {L(OKBIND "    server metadata /x.sock check\n" OKID), NULL,
        LISTEN_LINE + 2, "server keywords"},
    {L(OKBIND OKSRV OKID "    http-request set-header X-Foo bar\n"), NULL,
        LISTEN_LINE + 4, "only X-Neutron-Network-ID"},
    {L(OKBIND OKSRV "    http-request del-header Cookie\n" OKID), NULL,
        LISTEN_LINE + 3, "other than the identity headers"},
    {L(OKBIND OKSRV OKID "    http-request del-header X-Neutron-Network-ID\n"),
        NULL, LISTEN_LINE + 4, "removes the identity header set on line"},
    {L(OKBIND OKSRV "    http-request set-header X-Neutron-Network-ID nope\n"),
        NULL, LISTEN_LINE + 3, "not a canonical lower-case UUID"},
    {L(OKBIND OKSRV OKID "    http-request redirect location /x\n"), NULL,
        LISTEN_LINE + 4, "not an http-request rule"},
    {L("    bind 999.1.1.1:80\n" OKSRV OKID), NULL, LISTEN_LINE + 1, "address"},
    {L("    bind 127.0.0.1:0\n" OKSRV OKID), NULL, LISTEN_LINE + 1, "port"},
    {L(OKBIND "    bind 127.0.0.2:80\n" OKSRV OKID), NULL, LISTEN_LINE + 2,
        "a second bind without an interface"},
    {L(OKBIND "    bind ::1:81 interface lo\n" OKSRV OKID), NULL,
        LISTEN_LINE + 2, "differs"},
    {L(OKBIND "    bind 127.0.0.2:80 interface lo\n" OKSRV OKID), NULL,
        LISTEN_LINE + 2, "must be IPv6"},
    {L(OKBIND "    server metadata /a/../b\n" OKID), NULL, LISTEN_LINE + 2,
        "'..'"},
    {L(OKBIND OKSRV "    http-request set-header \"X-Neutron-Network-ID\" " NET
                    "\n"),
        NULL, LISTEN_LINE + 3, "quoting"},
    {L(OKBIND OKSRV OKID "    timeout client 5s\n"), NULL, LISTEN_LINE + 4,
        "not a directive"},
    {"frontend f\n", NULL, LISTEN_LINE, "'frontend' section"},
    {NULL, "global\n    stats socket /run/x.sock\n", 2, "global section"},
    {NULL, "global\n    log 127.0.0.1:514 local0\n", 2, "/dev/log"},
    {NULL, "global\n    user bad$user\n", 2, "quoting"},
    {NULL, "global\n    user -x\n", 2, "starts with '-'"},
    {NULL, "global\n    maxconn 0\n", 2, "out of range"},
    {NULL, "global\n    nbthread 65\n", 2, "out of range"},
    {NULL, "global\n    daemon\n    daemon\n", 3, "more than once"},
    {NULL, "global\n    pidfile relative.pid\n", 2, "absolute"},
    {NULL, "global\n    uid 0\n", 2, "global section"},
    {NULL, "defaults\n    mode tcp\n", 2, "only 'mode http'"},
    {NULL, "defaults\n    option http-use-proxy-header\n", 2,
        "not an option neutron sets"},
    {NULL, "defaults\n    timeout tunnel 1h\n", 2, "not one of the timeouts"},
    {NULL, "defaults\n    timeout client -1s\n", 2, "not a decimal number"},
    {NULL, "backend other\n", 1, "only the backends"},
    {NULL,
        "backend base_rate_limiter\n    stick-table type string size 10k "
        "expire 10s store http_req_rate(10s)\n",
        2, "ip or ipv6"},
    {NULL, "log-tag x\n", 1, "outside of any section"},
    {NULL, "global\n\tlog\t/dev/log\tlocal0\x01\n", 2, "control character"},
};

static void
refused_with_line(void **state)
{
	char text[4096];
	struct parsed p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *t = &refusals[i];
		int n = snprintf(text, sizeof(text), "%s%s",
		    t->head != NULL ? t->head : HEAD,
		    t->listen != NULL ? t->listen : "");

		assert_true(n > 0 && (size_t)n < sizeof(text));
		if (parse_all(&p, text) == 0)
			fail_msg("case %zu accepted", i);
		if (p.e.at.line != t->line || strstr(p.e.msg, t->msg) == NULL)
			fail_msg("case %zu: line %u '%s', want line %u '%s'", i,
			    p.e.at.line, p.e.msg, t->line, t->msg);
		assert_string_equal(p.e.at.file, "/t/a.conf");
	}
	assert_true(sizeof(refusals) / sizeof(refusals[0]) >= 20);
}

/* What the config lacks is refused at finish, pointing at its section. */
static void
incomplete(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(parse_all(&p, HEAD), -EINVAL);
	assert_non_null(strstr(p.e.msg, "no 'listen' section"));
	assert_int_equal(parse_all(&p, HEAD L(OKBIND OKID)), -EINVAL);
	assert_int_equal(p.e.at.line, LISTEN_LINE);
	assert_non_null(strstr(p.e.msg, "no 'server"));
	assert_int_equal(parse_all(&p, HEAD L(OKBIND OKSRV)), -EINVAL);
	assert_non_null(strstr(p.e.msg, "could not tell who asks"));
	assert_int_equal(parse_all(&p, HEAD L(OKSRV OKID)), -EINVAL);
	assert_non_null(strstr(p.e.msg, "no 'bind"));
	assert_int_equal(
	    parse_all(&p, "global\n" L(OKBIND OKSRV OKID)), -EINVAL);
	assert_non_null(strstr(p.e.msg, "mode http"));
	assert_int_equal(
	    parse_all(&p,
	        HEAD L(OKBIND OKSRV OKID "    http-request track-sc0 src table "
	                                 "base_rate_limiter\n")),
	    -EINVAL);
	assert_int_equal(p.e.at.line, LISTEN_LINE + 4);
	assert_non_null(strstr(p.e.msg, "rate limiting needs"));
}

/* A NUL in the text, a line over haproxy's limit, a huge file. */
static void
bytes(void **state)
{
	static char big[HCFG_TEXT_MAX + 2];
	static const char nul[] = "global\n    daemon\0x\n";
	struct haproxy_cfg c;
	struct hcfg_error e;

	(void)state;
	haproxy_cfg_init(&c);
	assert_int_equal(
	    haproxy_cfg_parse(&c, "/f", nul, sizeof(nul) - 1, &e), -EINVAL);
	assert_int_equal(e.at.line, 2);
	haproxy_cfg_init(&c);
	memset(big, '#', HCFG_LINE_MAX + 1);
	assert_int_equal(
	    haproxy_cfg_parse(&c, "/f", big, HCFG_LINE_MAX + 1, &e), -EINVAL);
	assert_int_equal(e.at.line, 1);
	assert_non_null(strstr(e.msg, "longer than"));
	haproxy_cfg_init(&c);
	memset(big, '\n', sizeof(big));
	assert_int_equal(
	    haproxy_cfg_parse(&c, "/f", big, HCFG_TEXT_MAX + 1, &e), -EINVAL);
	assert_int_equal(e.at.line, 0);
	/* exactly the limit, all blank lines: fine so far */
	haproxy_cfg_init(&c);
	assert_int_equal(
	    haproxy_cfg_parse(&c, "/f", big, HCFG_TEXT_MAX, &e), 0);
}

/* Comments, tabs and single quotes as haproxy reads them. */
static void
words(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(
	    parse_all(&p, "# a comment\n" HEAD "listen\tlistener # the one\n"
	                  "\tbind\t127.0.0.1:80#no blank before\n"
	                  "    server metadata '/var/lib/neutron/m p'\n" OKID),
	    -EINVAL); /* a blank inside the quoted path: not a path we take */
	assert_non_null(strstr(p.e.msg, "outside"));
	assert_int_equal(p.e.at.line, LISTEN_LINE + 3);
	assert_int_equal(
	    parse_all(&p, "# a comment\n" HEAD "listen\tlistener # the one\n"
	                  "\tbind\t127.0.0.1:80#no blank before\n"
	                  "    server metadata '/var/lib/neutron/mp'\n" OKID),
	    0);
	assert_string_equal(p.c.socket_path, "/var/lib/neutron/mp");
	assert_int_equal(
	    parse_all(&p, HEAD L("    bind '127.0.0.1:80\n")), -EINVAL);
	assert_non_null(strstr(p.e.msg, "unterminated quote"));
	assert_int_equal(
	    parse_all(&p, HEAD L("    bind 127.0.0.1:80\r\n")), -EINVAL);
	assert_non_null(strstr(p.e.msg, "control character"));
	/* the shown line is escaped */
	assert_null(strchr(p.e.msg, '\r'));
}

struct collected {
	unsigned int lines[8];
	int n;
};

static void
collect(void *arg, const struct hcfg_error *e)
{
	struct collected *col = arg;

	if (col->n < 8)
		col->lines[col->n] = e->at.line;
	col->n++;
}

/* With a callback every refusal is reported and parsing goes on. */
static void
every_refusal(void **state)
{
	struct collected col;
	struct haproxy_cfg c;
	struct hcfg_error e;
	const char *text = "global\n"
	                   "    lua-load /x\n"
	                   "    daemon\n"
	                   "    stats socket /y\n"
	                   "    maxconn 10\n";

	(void)state;
	memset(&col, 0, sizeof(col));
	haproxy_cfg_init(&c);
	haproxy_cfg_on_error(&c, collect, &col);
	assert_int_equal(
	    haproxy_cfg_parse(&c, "/f", text, strlen(text), &e), -EINVAL);
	assert_int_equal(col.n, 2);
	assert_int_equal(col.lines[0], 2);
	assert_int_equal(col.lines[1], 4);
	assert_int_equal(e.at.line, 2); /* the first */
	assert_true(c.daemon);
	assert_int_equal(c.maxconn, 10);
}

/* Several -f files: in order, each from line 1, outside any section. */
static void
several_files(void **state)
{
	struct haproxy_cfg c;
	struct hcfg_error e;
	const char *one = HEAD;
	const char *two = L(OKBIND OKSRV OKID);
	const char *bad = "    daemon\n";

	(void)state;
	haproxy_cfg_init(&c);
	assert_int_equal(
	    haproxy_cfg_parse(&c, "/one", one, strlen(one), &e), 0);
	assert_int_equal(
	    haproxy_cfg_parse(&c, "/two", two, strlen(two), &e), 0);
	assert_int_equal(haproxy_cfg_finish(&c, &e), 0);
	assert_string_equal(c.id_at.file, "/two");
	assert_int_equal(c.id_at.line, 4);
	assert_string_equal(c.user_at.file, "/one");
	haproxy_cfg_init(&c);
	assert_int_equal(
	    haproxy_cfg_parse(&c, "/one", one, strlen(one), &e), 0);
	assert_int_equal(
	    haproxy_cfg_parse(&c, "/bad", bad, strlen(bad), &e), -EINVAL);
	assert_string_equal(e.at.file, "/bad");
	assert_int_equal(e.at.line, 1);
	assert_non_null(strstr(e.msg, "outside of any section"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(neutron_network),
	    cmocka_unit_test(neutron_router_v6),
	    cmocka_unit_test(ovn_add_header),
	    cmocka_unit_test(upstream_rate_limited),
	    cmocka_unit_test(clean_config),
	    cmocka_unit_test(refused_with_line),
	    cmocka_unit_test(incomplete),
	    cmocka_unit_test(bytes),
	    cmocka_unit_test(words),
	    cmocka_unit_test(every_refusal),
	    cmocka_unit_test(several_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
