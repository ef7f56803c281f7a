#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "defaults.h"
#include "launch.h"
#include "metadata.h"
#include "render.h"
#include "banned.h"

int
render_config_name(const struct proxy_conf *p, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "%s.conf", p->id);

	if (n < 0 || (size_t)n >= outsz)
		return -ENAMETOOLONG;
	return 0;
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
 * so that a chunked one can be measured. It stops waiting when its buffer
 * is full, and a request may fill tune.bufsize less tune.maxrewrite (1024)
 * of it, in HTX form: the buffer must take the cap plus one byte, a head
 * and that reserve. A head has passed the head-size and line-count rules
 * before the wait (at most RENDER_HEAD_MAX bytes, 100 lines, 8 bytes of HTX
 * each): 8 KiB of slack holds head, reserve and HTX. Past 1 MiB, buffers
 * that large per connection would cost more than the cap is worth: the
 * buffer keeps its default and only Content-Length is checked
 * (docs/security.md).
 */
#define BODY_BUFFER_MAX (1024UL * 1024)
#define BODY_BUFFER_SLACK 8192UL
#define HAPROXY_BUFSIZE 16384UL

static bool
buffers_body(const struct proxy_conf *p)
{
	return p->max_body_size > 0 && p->max_body_size <= BODY_BUFFER_MAX;
}

/* The tune.bufsize the body cap needs; 0: haproxy's default does. */
static unsigned long
bufsize(const struct proxy_conf *p)
{
	unsigned long n;

	if (!buffers_body(p))
		return 0;
	n = (p->max_body_size + BODY_BUFFER_SLACK + 4095) / 4096 * 4096;
	return n > HAPROXY_BUFSIZE ? n : 0;
}

/*
 * A refusal of ours: the reason for the log line (a leading blank: the
 * log-format adds the field only when it is set), then the answer. haproxy
 * has built-in answers for some codes only (deny); return makes the others.
 */
static void
refuse(struct strbuf *sb, const char *dir, int status, const char *reason,
    const char *cond)
{
	bool builtin = status != 431 && status != 505;

	strbuf_appendf(sb,
	    "    http-%s set-var-fmt(txn.nmp_reason) \" reason=%s\" if %s\n"
	    "    http-%s %s %d if %s\n",
	    dir, reason, cond, dir,
	    builtin ? "deny deny_status" : "return status", status, cond);
}

/*
 * A control byte in a header (HTAB aside; CR and LF only as line ends):
 * haproxy 2.6 relays all but CR in values, NUL included. PCRE2 is given
 * the length, so it sees a NUL as a byte.
 */
#define CTL_RE "'[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]'"

/*
 * The rate limiter (sc0, sc1 of its two tables; the per-source cap has
 * sc2: haproxy 2.6 has three sticky counters).
 */
static void
render_rate_rules(const struct proxy_conf *p, struct strbuf *sb)
{
	strbuf_appendf(sb,
	    "    acl nmp_base_rate src_http_req_rate(base_rate_limiter) gt "
	    "%lu\n"
	    "    acl nmp_burst_rate src_http_req_rate(burst_rate_limiter) gt "
	    "%lu\n"
	    "    http-request track-sc0 src table base_rate_limiter\n"
	    "    http-request track-sc1 src table burst_rate_limiter\n",
	    p->rate_limit.base_limit, p->rate_limit.burst_limit);
	refuse(sb, "request", 429, "rate-limited", "nmp_base_rate");
	refuse(sb, "request", 429, "rate-limited", "nmp_burst_rate");
}

/*
 * What a hostile VM gets refused before anything reaches the agent, as the
 * built-in engine refuses it (engine/http.h); the reasons are its words.
 * Cheap checks of the head first, then the rate limiter, the head's size,
 * the body; the deletions and our header after all of them.
 */
static void
render_refusals(const struct proxy_conf *p, struct strbuf *sb)
{
	strbuf_appendf(sb,
	    /* HTTP/2 is framed apart: no version, :authority in the URL. */
	    "    acl nmp_h2 fc_http_major 2\n"
	    "    acl nmp_version req.ver 1.0 1.1\n"
	    "    acl nmp_v10 req.ver 1.0\n"
	    "    acl nmp_connect method CONNECT\n"
	    "    acl nmp_origin url_beg /\n"
	    "    acl nmp_path path_beg /\n"
	    "    acl nmp_host req.fhdr_cnt(host) gt 0\n"
	    "    acl nmp_ctl req.hdrs -m reg " CTL_RE "\n"
	    "    acl nmp_lines req.fhdr_cnt gt %d\n"
	    /* 10^18 and up: past what the agent could ever be sent. */
	    "    acl nmp_hugelen req.hdr(content-length) -m reg "
	    "^0*[1-9][0-9]{18}\n"
	    "    acl nmp_bighead var(txn.nmp_head) -m int gt %d\n",
	    MD_MAX_HEADER_LINES, RENDER_HEAD_MAX);
	/*
	 * The advertised length at once, or the chunk data so far (req.hdr_val
	 * would read the length as a 32-bit int).
	 */
	if (p->max_body_size > 0)
		strbuf_appendf(sb, "    acl nmp_bigbody req.body_size gt %lu\n",
		    p->max_body_size);
	refuse(sb, "request", 505, "unsupported-http-version",
	    "!nmp_h2 !nmp_version");
	refuse(sb, "request", 405, "connect-method", "nmp_connect");
	refuse(sb, "request", 400, "target-not-in-origin-form",
	    "!nmp_h2 !nmp_origin");
	refuse(sb, "request", 400, "target-not-in-origin-form",
	    "nmp_h2 !nmp_path");
	refuse(
	    sb, "request", 400, "missing-host", "!nmp_h2 !nmp_v10 !nmp_host");
	refuse(sb, "request", 400, "bad-header-value", "nmp_ctl");
	refuse(sb, "request", 431, "too-many-header-lines", "nmp_lines");
	refuse(sb, "request", 400, "content-length-too-large", "nmp_hugelen");
	if (p->rate_limit.enabled)
		render_rate_rules(p, sb);
	/*
	 * The agent reads the head in one 4 KiB recv: measure method, URL and
	 * headers as the client sent them and refuse what would not fit
	 * once our headers are in.
	 */
	strbuf_append(sb,
	    "    http-request set-var(txn.nmp_head) req.hdrs,length\n"
	    "    http-request set-var(txn.nmp_head) url,length,"
	    "add(txn.nmp_head)\n"
	    "    http-request set-var(txn.nmp_head) method,length,"
	    "add(txn.nmp_head)\n");
	refuse(sb, "request", 431, "request-head-too-large-for-the-agent",
	    "nmp_bighead");
	if (p->max_body_size > 0)
		refuse(sb, "request", 413, "body-too-large", "nmp_bigbody");
	/*
	 * The body within the request timeout once the head is in: 408 past
	 * it. With a cap haproxy can hold, until one byte past the cap has
	 * come; with a larger one, until the buffer is full, and a body
	 * larger than that is streamed with only the idle timeouts on it.
	 * Without a cap (0) bodies stream at once, as the built-in engine's.
	 */
	if (buffers_body(p)) {
		strbuf_appendf(sb,
		    "    http-request wait-for-body time %lums at-least %lu\n",
		    p->timeouts.http_request, p->max_body_size + 1);
		refuse(sb, "request", 413, "body-too-large", "nmp_bigbody");
	} else if (p->max_body_size > 0) {
		strbuf_appendf(sb,
		    "    http-request wait-for-body time %lums\n",
		    p->timeouts.http_request);
	}
}

/* The agent's side: a head of at most 16 KiB, no control byte in it. */
static void
render_response_checks(struct strbuf *sb)
{
	strbuf_appendf(sb,
	    "    acl nmp_bigresp res.hdrs,length gt %d\n"
	    "    acl nmp_respctl res.hdrs -m reg " CTL_RE "\n",
	    MD_RESPONSE_HEAD_MAX);
	refuse(sb, "response", 502, "response-head-too-large", "nmp_bigresp");
	refuse(sb, "response", 502, "bad-header-value", "nmp_respctl");
}

static void
render_global(const struct proxy_conf *p, const struct daemon_conf *d,
    const char *user, const char *group, struct strbuf *sb)
{
	strbuf_appendf(sb,
	    "# haproxy config for the metadata proxy of %s %s,\n"
	    "# written by ns-metadata-proxy: changes here are overwritten\n"
	    "global\n"
	    "    log         /dev/log local0 %s\n"
	    "    log-tag     haproxy-metadata-proxy-%s\n"
	    "    user        %s\n"
	    "    group       %s\n"
	    "    maxconn     %d\n"
	    "    pidfile     %s\n"
	    /*
	     * haproxy 2.6 loads the system CA store at start for its built-in
	     * HTTP client, which this config never uses: ~22 ms and ~1.4 MB RSS
	     * per instance (docs/benchmarks.md). With verify none it is not
	     * loaded; nothing here makes a TLS connection either way.
	     */
	    "    httpclient.ssl.verify none\n"
	    /*
	     * haproxy's parser answers 400 to a head of maxhdr lines or
	     * more, before any rule: room enough that the rule on 100 lines
	     * answers 431 (as the built-in engine does) to any head that
	     * fits the agent's read.
	     */
	    "    tune.http.maxhdr %d\n"
	    /*
	     * One request at a time on an HTTP/2 connection, as on an
	     * HTTP/1 one: else one connection would hold a hundred agent
	     * connections, past the per-source cap and maxconn.
	     */
	    "    tune.h2.max-concurrent-streams 1\n",
	    p->id_kind == ID_NETWORK ? "network" : "router", p->id,
	    d->debug ? "debug" : "info", p->id, user, group, DEF_MAXCONN,
	    d->pid_file, RENDER_MAXHDR);
	if (bufsize(p) > 0)
		strbuf_appendf(sb, "    tune.bufsize %lu\n", bufsize(p));
	strbuf_appendf(sb,
	    "\n"
	    "defaults\n"
	    "    log global\n"
	    "    mode http\n"
	    /*
	     * haproxy 2.6's httplog format, exactly, and " reason=..." after
	     * it when a refusal of ours set one: -M prints nothing, not "-",
	     * when the variable is unset.
	     */
	    "    log-format \"%%ci:%%cp [%%tr] %%ft %%b/%%s "
	    "%%TR/%%Tw/%%Tc/%%Tr/%%Ta %%ST %%B %%CC %%CS %%tsc "
	    "%%ac/%%fc/%%bc/%%sc/%%rc %%sq/%%bq %%hr %%hs %%{+Q}r"
	    "%%{-M}[var(txn.nmp_reason)]\"\n"
	    "    option dontlognull\n"
	    "    option http-server-close\n"
	    "    option forwardfor\n"
	    "    retries                 3\n");
	timeout_line(sb, "http-request", p->timeouts.http_request);
	timeout_line(sb, "connect", p->timeouts.connect);
	timeout_line(sb, "client", p->timeouts.client);
	timeout_line(sb, "server", p->timeouts.server);
	timeout_line(sb, "http-keep-alive", p->timeouts.http_keep_alive);
}

/* neutron's [metadata_rate_limiting]: one table per window, keyed by src. */
/*
 * An "ip" table cannot hold an IPv6 source, so with an IPv6 listener those
 * clients would never be limited; an "ipv6" table holds both.
 */
static const char *
table_type(const struct proxy_conf *p)
{
	return p->rate_limit.ip_version == 6 || p->bind_v6 ||
	               p->bind_address_v6[0] != '\0'
	           ? "ipv6"
	           : "ip";
}

/* --max-conns-per-source: current connections per client address. */
static void
render_source_table(const struct proxy_conf *p, struct strbuf *sb)
{
	strbuf_appendf(sb,
	    "\n"
	    "backend per_source\n"
	    "    stick-table type %s size 100k expire 30s store conn_cur\n",
	    table_type(p));
}

static void
render_rate_tables(const struct proxy_conf *p, struct strbuf *sb)
{
	const struct rate_limit *rl = &p->rate_limit;
	const char *type = table_type(p);
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
render_listen(const struct proxy_conf *p, struct strbuf *sb)
{
	/*
	 * We bind (listener.h) and haproxy inherits the sockets: a busy
	 * address fails the start with our message, and clients queue from
	 * the moment the start returns. The name says where each one is.
	 */
	strbuf_append(sb, "\nlisten listener\n");
	if (p->bind_v6)
		strbuf_appendf(sb, "    bind fd@%d name [%s]:%u\n",
		    LAUNCH_LISTEN_FD, p->bind_address, p->port);
	else
		strbuf_appendf(sb, "    bind fd@%d name %s:%u\n",
		    LAUNCH_LISTEN_FD, p->bind_address, p->port);
	if (p->bind_address_v6[0] != '\0')
		strbuf_appendf(sb, "    bind fd@%d name [%s]:%u%%%s\n",
		    LAUNCH_LISTEN_FD + 1, p->bind_address_v6, p->port,
		    p->bind_interface);
	/*
	 * Over the cap: closed at once, unanswered and, as haproxy does with
	 * every tcp-request connection refusal, not logged (sc0, sc1: the
	 * rate limiter).
	 */
	if (p->max_conns_per_source > 0)
		strbuf_appendf(sb,
		    "    tcp-request connection track-sc2 src table "
		    "per_source\n"
		    "    tcp-request connection reject if { sc2_conn_cur gt "
		    "%lu }\n",
		    p->max_conns_per_source);
	render_refusals(p, sb);
	/*
	 * The agent sees header names as WSGI does: any case, '-' and '_'
	 * alike. Delete every client-sent X-Neutron-*, X-OVN-* and
	 * X-Forwarded-For under any such spelling; ours are set after.
	 */
	strbuf_appendf(sb,
	    "    http-request del-header '" MD_RE_OWN "' -m reg\n"
	    "    http-request del-header '" MD_RE_XFF "' -m reg\n"
	    /* What nova and proxies read as the client's identity. */
	    "    http-request del-header '" MD_RE_IDENTITY "' -m reg\n"
	    "    http-request set-header %s %s\n",
	    md_id_header(p->flavor, p->id_kind), p->id);
	render_response_checks(sb);
	strbuf_appendf(sb, "    server metadata %s\n", p->socket_path);
}

int
render_config(const struct proxy_conf *p, const struct daemon_conf *d,
    const char *user, const char *group, struct strbuf *out)
{
	render_global(p, d, user, group, out);
	if (p->max_conns_per_source > 0)
		render_source_table(p, out);
	if (p->rate_limit.enabled)
		render_rate_tables(p, out);
	render_listen(p, out);
	return out->failed ? -ENOMEM : 0;
}
