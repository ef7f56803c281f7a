/*
 * render_config on options that cli_parse accepted. The input picks the id
 * kind and flavour (first byte), then is split on NUL bytes into options:
 * each piece's first byte picks an option of the table below, the rest is
 * its value ("--name=value"); a first byte past the table passes the rest
 * on as a raw argument. Only options cli_parse accepts reach render.
 *
 * The config must be lines of the template render.c writes and nothing
 * else: every line matches one of the shapes below, in the template's
 * order, each at most once; no control character but '\n'; '#' only in
 * the two comment lines at the top. The values in it are the options'
 * own (pidfile, socket, id header, bind, levels), so no option can smuggle
 * in a directive, a section or a comment.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fuzz.h"
#include "render.h"
#include "validate.h"
#include "banned.h"

#define UUID "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
#define MAX_ARGS 48

static const char *const opts_table[] = {"metadata-proxy-socket",
    "bind-address", "bind-address-v6", "bind-interface", "metadata-port",
    "metadata-proxy-user", "metadata-proxy-group", "state-path", "pid-file",
    "netns", "engine", "haproxy-path", "timeout-http-request",
    "timeout-connect", "timeout-client", "timeout-server",
    "timeout-http-keep-alive", "rate-limit-ip-version", "base-window-duration",
    "base-query-rate-limit", "burst-window-duration", "burst-query-rate-limit",
    "stop-timeout", "log-file", "log-dir", "syslog-log-facility",
    "max-conns-per-source", "max-body-size", "debug", "nodebug",
    "rate-limit-enabled", "norate-limit-enabled", "daemonize"};
#define NOPTS (sizeof(opts_table) / sizeof(opts_table[0]))
#define FIRST_FLAG 28

/* Placeholders in the shapes: one or more bytes of a class. */
#define U "\001"  /* uuid */
#define P "\002"  /* absolute path, the path alphabet */
#define A "\003"  /* account name or id */
#define N "\004"  /* decimal number */
#define T "\005"  /* haproxy time: number and "s" or "ms", ends the line */
#define V4 "\006" /* IPv4 literal */
#define V6 "\007" /* IPv6 literal */
#define I "\010"  /* interface name */
#define W "\011"  /* lower-case word */

struct shape {
	const char *pat;
	bool required;
};

/* The lines the checks below look up (shape_at). */
#define L_BUFSIZE "    tune.bufsize " N
#define L_SOURCE_TABLE "backend per_source"
#define L_RATE_TABLE "backend base_rate_limiter"
#define L_BIND4 "    bind fd@5 name " V4 ":" N
#define L_SOURCE_TRACK                                                         \
	"    tcp-request connection track-sc2 src table per_source"
#define L_BODY_ACL "    acl nmp_bigbody req.body_size gt " N
#define L_BODY_SET                                                             \
	"    http-request set-var-fmt(txn.nmp_reason) \" "                     \
	"reason=body-too-large\" "                                             \
	"if nmp_bigbody"
#define L_BODY_DENY "    http-request deny deny_status 413 if nmp_bigbody"
#define L_RATE_ACL                                                             \
	"    acl nmp_base_rate src_http_req_rate(base_rate_limiter) gt " N
#define L_WAIT_LEAST "    http-request wait-for-body time " N "ms at-least " N
#define L_WAIT "    http-request wait-for-body time " N "ms"
/* A refusal: its reason set, then its answer, on one condition. */
#define REFUSAL_SET(dir, reason, cond)                                         \
	"    http-" dir " set-var-fmt(txn.nmp_reason) \" reason=" reason       \
	"\" if " cond
#define REFUSAL_DO(dir, action, cond) "    http-" dir " " action " if " cond
#define REFUSAL(dir, reason, action, cond)                                     \
	{REFUSAL_SET(dir, reason, cond), true},                                \
	{                                                                      \
		REFUSAL_DO(dir, action, cond), true                            \
	}

/* render.c's template, in order. */
static const struct shape shapes[] = {
    {"# haproxy config for the metadata proxy of " W " " U ",", true},
    {"# written by ns-metadata-proxy: changes here are overwritten", true},
    {"global", true},
    {"    log         /dev/log local0 " W, true},
    {"    log-tag     haproxy-metadata-proxy-" U, true},
    {"    user        " A, true},
    {"    group       " A, true},
    {"    maxconn     1024", true},
    {"    pidfile     " P, true},
    {"    httpclient.ssl.verify none", true},
    {"    tune.http.maxhdr 1024", true},
    {"    tune.h2.max-concurrent-streams 1", true},
    {L_BUFSIZE, false},
    {"", true},
    {"defaults", true},
    {"    log global", true},
    {"    mode http", true},
    {"    log-format \"%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B "
     "%CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r"
     "%{-M}[var(txn.nmp_reason)]\"",
        true},
    {"    option dontlognull", true},
    {"    option http-server-close", true},
    {"    option forwardfor", true},
    {"    retries                 3", true},
    {"    timeout http-request    " T, true},
    {"    timeout connect         " T, true},
    {"    timeout client          " T, true},
    {"    timeout server          " T, true},
    {"    timeout http-keep-alive " T, true},
    {"", true},
    /* The per-source table: 3 lines. */
    {L_SOURCE_TABLE, false},
    {"    stick-table type " W " size 100k expire 30s store conn_cur", false},
    {"", false},
    /* The rate tables: 6 lines. */
    {L_RATE_TABLE, false},
    {"    stick-table type " W " size 10k expire " N "s store http_req_rate(" N
     "s)",
        false},
    {"", false},
    {"backend burst_rate_limiter", false},
    {"    stick-table type " W " size 10k expire " N "s store http_req_rate(" N
     "s)",
        false},
    {"", false},
    {"listen listener", true},
    /* One of the first two; the third: the extra IPv6 bind. */
    {L_BIND4, false},
    {"    bind fd@5 name [" V6 "]:" N, false},
    {"    bind fd@6 name [" V6 "]:" N "%" I, false},
    /* The per-source cap: 2 lines. */
    {L_SOURCE_TRACK, false},
    {"    tcp-request connection reject if { sc2_conn_cur gt " N " }", false},
    {"    acl nmp_h2 fc_http_major 2", true},
    {"    acl nmp_version req.ver 1.0 1.1", true},
    {"    acl nmp_v10 req.ver 1.0", true},
    {"    acl nmp_connect method CONNECT", true},
    {"    acl nmp_origin url_beg /", true},
    {"    acl nmp_path path_beg /", true},
    {"    acl nmp_host req.fhdr_cnt(host) gt 0", true},
    {"    acl nmp_ctl req.hdrs -m reg "
     "'[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]'",
        true},
    {"    acl nmp_lines req.fhdr_cnt gt 100", true},
    {"    acl nmp_hugelen req.hdr(content-length) -m reg ^0*[1-9][0-9]{18}",
        true},
    {"    acl nmp_bighead var(txn.nmp_head) -m int gt 3900", true},
    {L_BODY_ACL, false},
    REFUSAL("request", "unsupported-http-version", "return status 505",
        "!nmp_h2 !nmp_version"),
    REFUSAL("request", "connect-method", "deny deny_status 405", "nmp_connect"),
    REFUSAL("request", "target-not-in-origin-form", "deny deny_status 400",
        "!nmp_h2 !nmp_origin"),
    REFUSAL("request", "target-not-in-origin-form", "deny deny_status 400",
        "nmp_h2 !nmp_path"),
    REFUSAL("request", "missing-host", "deny deny_status 400",
        "!nmp_h2 !nmp_v10 !nmp_host"),
    REFUSAL("request", "bad-header-value", "deny deny_status 400", "nmp_ctl"),
    REFUSAL(
        "request", "too-many-header-lines", "return status 431", "nmp_lines"),
    REFUSAL("request", "content-length-too-large", "deny deny_status 400",
        "nmp_hugelen"),
    /* The rate limiter: 8 lines. */
    {L_RATE_ACL, false},
    {"    acl nmp_burst_rate src_http_req_rate(burst_rate_limiter) gt " N,
        false},
    {"    http-request track-sc0 src table base_rate_limiter", false},
    {"    http-request track-sc1 src table burst_rate_limiter", false},
    {"    http-request set-var-fmt(txn.nmp_reason) \" reason=rate-limited\" "
     "if nmp_base_rate",
        false},
    {"    http-request deny deny_status 429 if nmp_base_rate", false},
    {"    http-request set-var-fmt(txn.nmp_reason) \" reason=rate-limited\" "
     "if nmp_burst_rate",
        false},
    {"    http-request deny deny_status 429 if nmp_burst_rate", false},
    {"    http-request set-var(txn.nmp_head) req.hdrs,length", true},
    {"    http-request set-var(txn.nmp_head) url,length,add(txn.nmp_head)",
        true},
    {"    http-request set-var(txn.nmp_head) "
     "method,length,add(txn.nmp_head)",
        true},
    REFUSAL("request", "request-head-too-large-for-the-agent",
        "return status 431", "nmp_bighead"),
    /* The length at once (any cap), the body held (a cap up to 1 MiB). */
    {L_BODY_SET, false},
    {L_BODY_DENY, false},
    {L_WAIT_LEAST, false},
    {L_BODY_SET, false},
    {L_BODY_DENY, false},
    {L_WAIT, false},
    {"    http-request del-header '(?i)^x[-_](neutron|ovn)[-_]' -m reg", true},
    {"    http-request del-header '(?i)^x[-_]forwarded[-_]for$' -m reg", true},
    {"    http-request del-header '(?i)^(forwarded|x[-_]real[-_]ip|"
     "x[-_]instance[-_]id([-_]signature)?|x[-_]tenant[-_]id)$' -m reg",
        true},
    {"    http-request set-header " A " " U, true},
    {"    acl nmp_bigresp res.hdrs,length gt 16384", true},
    {"    acl nmp_respctl res.hdrs -m reg "
     "'[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]'",
        true},
    REFUSAL("response", "response-head-too-large", "deny deny_status 502",
        "nmp_bigresp"),
    REFUSAL(
        "response", "bad-header-value", "deny deny_status 502", "nmp_respctl"),
    {"    server metadata " P, true},
};
#define NSHAPES (sizeof(shapes) / sizeof(shapes[0]))

/* The index of the first shape whose pattern is pat, from index from. */
static size_t
shape_at(const char *pat, size_t from)
{
	size_t i;

	for (i = from; i < NSHAPES; i++)
		if (strcmp(shapes[i].pat, pat) == 0)
			return i;
	FUZZ_CHECK(i < NSHAPES);
	return i;
}

static bool
in_class(char k, unsigned char c)
{
	bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	             (c >= 'A' && c <= 'Z');

	switch (k) {
	case 1: /* U */
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		       c == '-';
	case 2: /* P */
		return alnum || (c != '\0' && strchr("/._+@:=,%-", c) != NULL);
	case 3: /* A */
		return alnum || c == '.' || c == '_' || c == '-';
	case 4: /* N */
	case 5: /* T */
		return c >= '0' && c <= '9';
	case 6: /* V4 */
		return (c >= '0' && c <= '9') || c == '.';
	case 7: /* V6 */
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		       c == ':' || c == '.';
	case 8: /* I */
		return alnum || (c != '\0' && strchr("_.:-", c) != NULL);
	case 9: /* W */
		return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
	default:
		return false;
	}
}

/* Whether s[0..n) matches pat whole; placeholders backtrack. */
static bool
match(const char *pat, const char *s, size_t n)
{
	size_t k;

	if (*pat == '\0')
		return n == 0;
	if ((unsigned char)*pat > 0x09) {
		return n > 0 && *pat == *s && match(pat + 1, s + 1, n - 1);
	}
	if (*pat == T[0]) {
		for (k = 0; k < n && in_class(*pat, (unsigned char)s[k]); k++)
			;
		return k > 0 && pat[1] == '\0' &&
		       ((n - k == 1 && s[k] == 's') ||
		           (n - k == 2 && s[k] == 'm' && s[k + 1] == 's'));
	}
	if (*pat == P[0] && (n == 0 || s[0] != '/'))
		return false;
	for (k = 0; k < n && in_class(*pat, (unsigned char)s[k]); k++) {
		if (match(pat + 1, s + k + 1, n - k - 1))
			return true;
	}
	return false;
}

/* Whether the text holds this exact line. */
static bool
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
		p++;
	}
	return false;
}

static void
check_config(const struct options *o, const char *user, const char *group,
    const char *text, size_t len)
{
	size_t i, next = 0, seen_shape[NSHAPES] = {0};
	const char *line = text, *nl;
	char want[PATH_MAX + 64];
	const size_t bufsize = shape_at(L_BUFSIZE, 0),
	             source_table = shape_at(L_SOURCE_TABLE, 0),
	             rate_tables = shape_at(L_RATE_TABLE, 0),
	             bind = shape_at(L_BIND4, 0),
	             source_rules = shape_at(L_SOURCE_TRACK, 0),
	             body_acl = shape_at(L_BODY_ACL, 0),
	             rate_rules = shape_at(L_RATE_ACL, 0),
	             body_length = shape_at(L_BODY_SET, 0);
	unsigned long buf;
	bool held;

	FUZZ_CHECK(strlen(text) == len && len > 0 && text[len - 1] == '\n');
	for (i = 0; i < len; i++)
		FUZZ_CHECK(
		    text[i] == '\n' || ((unsigned char)text[i] >= 0x20 &&
		                           (unsigned char)text[i] < 0x7f));
	/* Line by line, each the next shape of the template or a later one. */
	for (; *line != '\0'; line = nl + 1) {
		size_t k;

		nl = strchr(line, '\n');
		FUZZ_CHECK(nl != NULL);
		if (line != text && line != strchr(text, '\n') + 1)
			FUZZ_CHECK(
			    memchr(line, '#', (size_t)(nl - line)) == NULL);
		for (k = next; k < NSHAPES; k++)
			if (match(shapes[k].pat, line, (size_t)(nl - line)))
				break;
		if (k == NSHAPES) {
			fprintf(stderr, "line not in the template: '%.*s'\n",
			    (int)(nl - line), line);
			FUZZ_CHECK(k < NSHAPES);
		}
		/* A required line may not be skipped. */
		for (i = next; i < k; i++)
			FUZZ_CHECK(!shapes[i].required);
		seen_shape[k]++;
		next = k + 1;
	}
	for (i = next; i < NSHAPES; i++)
		FUZZ_CHECK(!shapes[i].required);

		/* The values are the options', whole. */
#define WANT(...)                                                              \
	do {                                                                   \
		int n_ = snprintf(want, sizeof(want), __VA_ARGS__);            \
		FUZZ_CHECK(n_ > 0 && (size_t)n_ < sizeof(want));               \
		FUZZ_CHECK(has_line(text, want));                              \
	} while (0)
	WANT("    pidfile     %s", o->daemon.pid_file);
	WANT("    server metadata %s", o->proxy.socket_path);
	WANT("    user        %s", user);
	WANT("    group       %s", group);
	WANT("    http-request set-header %s %s",
	    md_id_header(o->proxy.flavor, o->proxy.id_kind), o->proxy.id);
	WANT("    log         /dev/log local0 %s",
	    o->daemon.debug ? "debug" : "info");
	if (o->proxy.bind_v6)
		WANT("    bind fd@5 name [%s]:%u", o->proxy.bind_address,
		    o->proxy.port);
	else
		WANT("    bind fd@5 name %s:%u", o->proxy.bind_address,
		    o->proxy.port);
	if (o->proxy.bind_address_v6[0] != '\0')
		WANT("    bind fd@6 name [%s]:%u%%%s", o->proxy.bind_address_v6,
		    o->proxy.port, o->proxy.bind_interface);
	else
		FUZZ_CHECK(seen_shape[bind + 2] == 0);
	FUZZ_CHECK(seen_shape[bind] + seen_shape[bind + 1] == 1);
	/* The rate-limit block and rules: all of them or none. */
	for (i = rate_tables; i <= rate_tables + 5; i++)
		FUZZ_CHECK(
		    seen_shape[i] == (o->proxy.rate_limit.enabled ? 1u : 0u));
	for (i = rate_rules; i <= rate_rules + 7; i++)
		FUZZ_CHECK(
		    seen_shape[i] == (o->proxy.rate_limit.enabled ? 1u : 0u));
	/* The per-source cap: table and rules, with its number. */
	for (i = source_table; i <= source_table + 2; i++)
		FUZZ_CHECK(seen_shape[i] ==
		           (o->proxy.max_conns_per_source > 0 ? 1u : 0u));
	for (i = source_rules; i <= source_rules + 1; i++)
		FUZZ_CHECK(seen_shape[i] ==
		           (o->proxy.max_conns_per_source > 0 ? 1u : 0u));
	if (o->proxy.max_conns_per_source > 0)
		WANT("    tcp-request connection reject if { sc2_conn_cur gt "
		     "%lu }",
		    o->proxy.max_conns_per_source);
	/*
	 * The body cap: the length at once whatever the cap; the body held,
	 * with a buffer for it past haproxy's 16 KiB, up to 1 MiB; past it a
	 * wait for the body without a size; without a cap, no wait.
	 */
	held = o->proxy.max_body_size > 0 && o->proxy.max_body_size <= 1048576;
	buf = (o->proxy.max_body_size + 8192 + 4095) / 4096 * 4096;
	FUZZ_CHECK(
	    seen_shape[body_acl] == (o->proxy.max_body_size > 0 ? 1u : 0u));
	for (i = body_length; i <= body_length + 1; i++)
		FUZZ_CHECK(
		    seen_shape[i] == (o->proxy.max_body_size > 0 ? 1u : 0u));
	for (i = body_length + 2; i <= body_length + 4; i++)
		FUZZ_CHECK(seen_shape[i] == (held ? 1u : 0u));
	FUZZ_CHECK(seen_shape[body_length + 5] ==
	           (!held && o->proxy.max_body_size > 0 ? 1u : 0u));
	FUZZ_CHECK(seen_shape[bufsize] == (held && buf > 16384 ? 1u : 0u));
	if (o->proxy.max_body_size > 0)
		WANT("    acl nmp_bigbody req.body_size gt %lu",
		    o->proxy.max_body_size);
	if (held)
		WANT("    http-request wait-for-body time %lums at-least %lu",
		    o->proxy.timeouts.http_request, o->proxy.max_body_size + 1);
	else if (o->proxy.max_body_size > 0)
		WANT("    http-request wait-for-body time %lums",
		    o->proxy.timeouts.http_request);
	if (seen_shape[bufsize] > 0)
		WANT("    tune.bufsize %lu", buf);
#undef WANT
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *args[MAX_ARGS + 1], *argv[MAX_ARGS + 1];
	struct strbuf text = STRBUF_INIT;
	struct options *o = malloc(sizeof(*o));
	struct cli_error err;
	const char *user, *group;
	size_t start = 1, i;
	int argc = 0;

	FUZZ_CHECK(o != NULL);
	if (size < 1)
		goto out;
	args[argc++] = fuzz_strndup("ns-metadata-proxy", 17);
	args[argc++] = fuzz_strndup("render", 6);
	switch (data[0] & 3) {
	case 0:
		args[argc++] = fuzz_strndup("--network-id=" UUID, 13 + 36);
		break;
	case 1:
		args[argc++] = fuzz_strndup("--router_id=" UUID, 12 + 36);
		break;
	case 2:
		args[argc++] = fuzz_strndup("--network_id=" UUID, 13 + 36);
		args[argc++] = fuzz_strndup("--flavor=ovn", 12);
		break;
	default:
		args[argc++] = fuzz_strndup("--router-id", 11);
		args[argc++] = fuzz_strndup(UUID, 36);
		args[argc++] = fuzz_strndup("--flavor=neutron", 16);
		break;
	}
	for (i = 1; i <= size && argc < MAX_ARGS; i++) {
		const uint8_t *p = data + start;
		size_t n = i - start;
		char buf[64];
		struct strbuf a = STRBUF_INIT;

		if (i < size && data[i] != '\0')
			continue;
		start = i + 1;
		if (n == 0)
			continue;
		if (p[0] >= NOPTS) {
			args[argc++] = fuzz_strndup(p + 1, n - 1);
			continue;
		}
		(void)snprintf(buf, sizeof(buf), "--%s", opts_table[p[0]]);
		(void)strbuf_append(&a, buf);
		if (p[0] < FIRST_FLAG) {
			(void)strbuf_append(&a, "=");
			(void)strbuf_appendn(&a, (const char *)p + 1, n - 1);
		}
		FUZZ_CHECK(!a.failed);
		args[argc++] = fuzz_strndup(a.buf, a.len);
		strbuf_release(&a);
	}
	args[argc] = NULL;
	memcpy(argv, args, sizeof(argv));
	if (cli_parse(argc, argv, o, &err) == CLI_OK) {
		FUZZ_CHECK(o->command == CMD_RENDER);
		/* As run and render do, after resolving: a name. */
		user = o->daemon.user[0] != '\0' ? o->daemon.user : "root";
		group = o->daemon.group[0] != '\0' ? o->daemon.group : "root";
		FUZZ_CHECK(render_config(
		               &o->proxy, &o->daemon, user, group, &text) == 0);
		check_config(o, user, group, text.buf, text.len);
	}
	for (i = 0; i < (size_t)argc; i++)
		free(args[i]);
out:
	strbuf_release(&text);
	free(o);
	return 0;
}
