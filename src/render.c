#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "launch.h"
#include "render.h"
#include "banned.h"

const char *
render_config_dir(enum flavor flavor)
{
	return flavor == FLAVOR_OVN ? "ovn-metadata-proxy"
	                            : "ns-metadata-proxy";
}

int
render_config_name(const struct options *o, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "%s.conf", o->id);

	if (n < 0 || (size_t)n >= outsz)
		return -ENAMETOOLONG;
	return 0;
}

const char *
render_id_header(const struct options *o)
{
	if (o->flavor == FLAVOR_OVN)
		return "X-OVN-Network-ID";
	return o->id_kind == ID_NETWORK ? "X-Neutron-Network-ID"
	                                : "X-Neutron-Router-ID";
}

/* haproxy time: whole seconds as "Ns", anything else in milliseconds. */
static void
timeout_line(struct strbuf *sb, const char *name, unsigned long ms)
{
	if (ms % 1000 == 0)
		strbuf_appendf(sb, "    timeout %-15s %lus\n", name, ms / 1000);
	else
		strbuf_appendf(sb, "    timeout %-15s %lums\n", name, ms);
}

/*
 * With a body cap, haproxy holds the body until it is whole (wait-for-body)
 * so that a chunked one can be measured: its buffer must then take the cap,
 * a head and haproxy's rewrite reserve. Past 1 MiB, per-connection buffers
 * that large would cost more than the cap is worth: the buffer stays at its
 * default and only Content-Length is checked (docs/security.md).
 */
#define BODY_BUFFER_MAX (1024UL * 1024)
#define BODY_BUFFER_SLACK (16384UL + 2048UL)

static bool
buffers_body(const struct options *o)
{
	return o->max_body_size > 0 && o->max_body_size <= BODY_BUFFER_MAX;
}

static unsigned long
bufsize(const struct options *o)
{
	unsigned long n = o->max_body_size + BODY_BUFFER_SLACK;

	return (n + 4095) / 4096 * 4096;
}

/* A refusal: the reason for the log line, then the answer. */
static void
deny(struct strbuf *sb, const char *dir, int status, const char *reason,
    const char *cond)
{
	strbuf_appendf(sb,
	    "    http-%s set-var(txn.nmp_reason) str(reason=%s) if %s\n"
	    "    http-%s deny deny_status %d if %s\n",
	    dir, reason, cond, dir, status, cond);
}

/*
 * What a hostile VM gets refused before anything reaches the agent, as the
 * built-in engine refuses it (engine/http.h); the reasons are its words.
 */
static void
render_refusals(const struct options *o, struct strbuf *sb)
{
	strbuf_append(sb,
	    "    acl nmp_connect method CONNECT\n"
	    /* HTTP/2 keeps its :authority in the URL: its path is checked. */
	    "    acl nmp_origin url_beg /\n"
	    "    acl nmp_h1 req.ver 1.0 1.1\n"
	    "    acl nmp_v11 req.ver 1.1\n"
	    "    acl nmp_nohost req.hdr_cnt(host) eq 0\n"
	    /* A NUL anywhere in the head: 00 at a byte boundary of its hex. */
	    "    acl nmp_nul req.hdrs,hex -m reg ^([0-9A-F][0-9A-F])*00\n"
	    "    acl nmp_hugelen req.hdr(content-length) -m reg "
	    "^0*[1-9][0-9]{18}\n");
	deny(sb, "request", 405, "connect-method", "nmp_connect");
	deny(sb, "request", 400, "target-not-in-origin-form",
	    "nmp_h1 !nmp_origin");
	deny(sb, "request", 400, "missing-host", "nmp_v11 nmp_nohost");
	deny(sb, "request", 400, "bad-header-value", "nmp_nul");
	deny(sb, "request", 400, "content-length-too-large", "nmp_hugelen");
	if (o->max_body_size == 0)
		return;
	strbuf_appendf(sb,
	    "    acl nmp_biglen req.hdr_val(content-length) gt %lu\n",
	    o->max_body_size);
	deny(sb, "request", 413, "body-too-large", "nmp_biglen");
	if (!buffers_body(o))
		return;
	strbuf_appendf(sb,
	    "    http-request wait-for-body time %lums at-least %lu\n"
	    "    acl nmp_bigbody req.body_size gt %lu\n",
	    o->timeouts.http_request, o->max_body_size + 1, o->max_body_size);
	deny(sb, "request", 413, "body-too-large", "nmp_bigbody");
}

/* The agent's side: a head of at most 16 KiB, no NUL in it. */
static void
render_response_checks(struct strbuf *sb)
{
	strbuf_appendf(sb,
	    "    acl nmp_bigresp res.hdrs,length gt %d\n"
	    "    acl nmp_respnul res.hdrs,hex -m reg ^([0-9A-F][0-9A-F])*00\n",
	    RENDER_RESPONSE_HEAD_MAX);
	deny(sb, "response", 502, "response-head-too-large", "nmp_bigresp");
	deny(sb, "response", 502, "bad-response-header", "nmp_respnul");
}

static void
render_global(const struct options *o, const char *user, const char *group,
    struct strbuf *sb)
{
	strbuf_appendf(sb,
	    "# haproxy config for the metadata proxy of %s %s,\n"
	    "# written by ns-metadata-proxy: changes here are overwritten\n"
	    "global\n"
	    "    log         /dev/log local0 %s\n"
	    "    log-tag     haproxy-metadata-proxy-%s\n"
	    "    user        %s\n"
	    "    group       %s\n"
	    "    maxconn     1024\n"
	    "    pidfile     %s\n"
	    /*
	     * haproxy 2.6 loads the system CA store at start for its built-in
	     * HTTP client, which this config never uses: ~22 ms and ~1.4 MB RSS
	     * per instance (docs/benchmarks.md). With verify none it is not
	     * loaded; nothing here makes a TLS connection either way.
	     */
	    "    httpclient.ssl.verify none\n"
	    /* A request of more header lines: 400 (the built-in: 431). */
	    "    tune.http.maxhdr 100\n",
	    o->id_kind == ID_NETWORK ? "network" : "router", o->id,
	    o->debug ? "debug" : "info", o->id, user, group, o->pid_file);
	if (buffers_body(o))
		strbuf_appendf(sb, "    tune.bufsize %lu\n", bufsize(o));
	strbuf_appendf(sb,
	    "\n"
	    "defaults\n"
	    "    log global\n"
	    "    mode http\n"
	    /* haproxy's httplog, and the reason of a refusal of ours. */
	    "    log-format \"%%ci:%%cp [%%tr] %%ft %%b/%%s "
	    "%%TR/%%Tw/%%Tc/%%Tr/%%Ta %%ST %%B %%CC %%CS %%tsc "
	    "%%ac/%%fc/%%bc/%%sc/%%rc %%sq/%%bq %%hr %%hs %%{+Q}r "
	    "%%[var(txn.nmp_reason)]\"\n"
	    "    option dontlognull\n"
	    "    option http-server-close\n"
	    "    option forwardfor\n"
	    "    retries                 3\n");
	timeout_line(sb, "http-request", o->timeouts.http_request);
	timeout_line(sb, "connect", o->timeouts.connect);
	timeout_line(sb, "client", o->timeouts.client);
	timeout_line(sb, "server", o->timeouts.server);
	timeout_line(sb, "http-keep-alive", o->timeouts.http_keep_alive);
}

/* neutron's [metadata_rate_limiting]: one table per window, keyed by src. */
/*
 * An "ip" table cannot hold an IPv6 source, so with an IPv6 listener those
 * clients would never be limited; an "ipv6" table holds both.
 */
static const char *
table_type(const struct options *o)
{
	return o->rate_limit.ip_version == 6 || o->bind_v6 ||
	               o->bind_address_v6[0] != '\0'
	           ? "ipv6"
	           : "ip";
}

/* --max-conns-per-source: current connections per client address. */
static void
render_source_table(const struct options *o, struct strbuf *sb)
{
	strbuf_appendf(sb,
	    "\n"
	    "backend per_source\n"
	    "    stick-table type %s size 100k expire 30s store conn_cur\n",
	    table_type(o));
}

static void
render_rate_tables(const struct options *o, struct strbuf *sb)
{
	const struct rate_limit *rl = &o->rate_limit;
	const char *type = table_type(o);
	unsigned long expire = rl->base_window > rl->burst_window
	                           ? rl->base_window
	                           : rl->burst_window;

	strbuf_appendf(sb,
	    "\n"
	    "backend base_rate_limiter\n"
	    "    stick-table type %s size 10k expire %lus store "
	    "http_req_rate(%lus)\n"
	    "\n"
	    "backend burst_rate_limiter\n"
	    "    stick-table type %s size 10k expire %lus store "
	    "http_req_rate(%lus)\n",
	    type, expire, rl->base_window, type, expire, rl->burst_window);
}

static void
render_rate_rules(const struct options *o, struct strbuf *sb)
{
	strbuf_appendf(sb,
	    "    http-request track-sc0 src table base_rate_limiter\n"
	    "    http-request track-sc1 src table burst_rate_limiter\n"
	    "    http-request deny deny_status 429 if "
	    "{ src_http_req_rate(base_rate_limiter) gt %lu }\n"
	    "    http-request deny deny_status 429 if "
	    "{ src_http_req_rate(burst_rate_limiter) gt %lu }\n",
	    o->rate_limit.base_limit, o->rate_limit.burst_limit);
}

static void
render_listen(const struct options *o, struct strbuf *sb)
{
	/*
	 * We bind (listener.h) and haproxy inherits the sockets: a busy
	 * address fails the start with our message, and clients queue from
	 * the moment the start returns. The name says where each one is.
	 */
	strbuf_append(sb, "\nlisten listener\n");
	if (o->bind_v6)
		strbuf_appendf(sb, "    bind fd@%d name [%s]:%u\n",
		    LAUNCH_LISTEN_FD, o->bind_address, o->port);
	else
		strbuf_appendf(sb, "    bind fd@%d name %s:%u\n",
		    LAUNCH_LISTEN_FD, o->bind_address, o->port);
	if (o->bind_address_v6[0] != '\0')
		strbuf_appendf(sb, "    bind fd@%d name [%s]:%u%%%s\n",
		    LAUNCH_LISTEN_FD + 1, o->bind_address_v6, o->port,
		    o->bind_interface);
	/* Over the cap: closed at once, unanswered (sc0, sc1: rate tables). */
	if (o->max_conns_per_source > 0)
		strbuf_appendf(sb,
		    "    tcp-request connection track-sc2 src table "
		    "per_source\n"
		    "    tcp-request connection reject if { sc2_conn_cur gt "
		    "%lu }\n",
		    o->max_conns_per_source);
	render_refusals(o, sb);
	if (o->rate_limit.enabled)
		render_rate_rules(o, sb);
	/*
	 * The agent reads the head in one 4 KiB recv: measure method, URL and
	 * headers as the client sent them and refuse what would not fit
	 * once our headers are in.
	 */
	strbuf_appendf(sb,
	    "    http-request set-var(txn.nmp_head) req.hdrs,length\n"
	    "    http-request set-var(txn.nmp_head) url,length,"
	    "add(txn.nmp_head)\n"
	    "    http-request set-var(txn.nmp_head) method,length,"
	    "add(txn.nmp_head)\n"
	    "    http-request return status 431 if "
	    "{ var(txn.nmp_head) -m int gt %d }\n",
	    RENDER_HEAD_MAX);
	/*
	 * The agent sees header names as WSGI does: any case, '-' and '_'
	 * alike. Delete every client-sent X-Neutron-*, X-OVN-* and
	 * X-Forwarded-For under any such spelling; ours are set after.
	 */
	strbuf_appendf(sb,
	    "    http-request del-header '(?i)^x[-_](neutron|ovn)[-_]' -m reg\n"
	    "    http-request del-header '(?i)^x[-_]forwarded[-_]for$' -m reg\n"
	    /* What nova and proxies read as the client's identity. */
	    "    http-request del-header '(?i)^(forwarded|x[-_]real[-_]ip|"
	    "x[-_]instance[-_]id([-_]signature)?|x[-_]tenant[-_]id)$' -m reg\n"
	    "    http-request set-header %s %s\n",
	    render_id_header(o), o->id);
	render_response_checks(sb);
	strbuf_appendf(sb, "    server metadata %s\n", o->socket_path);
}

int
render_config(const struct options *o, const char *user, const char *group,
    struct strbuf *out)
{
	render_global(o, user, group, out);
	if (o->max_conns_per_source > 0)
		render_source_table(o, out);
	if (o->rate_limit.enabled)
		render_rate_tables(o, out);
	render_listen(o, out);
	return out->failed ? -ENOMEM : 0;
}
