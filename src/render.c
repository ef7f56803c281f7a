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
	    "\n"
	    "defaults\n"
	    "    log global\n"
	    "    mode http\n"
	    "    option httplog\n"
	    "    option dontlognull\n"
	    "    option http-server-close\n"
	    "    option forwardfor\n"
	    "    retries                 3\n",
	    o->id_kind == ID_NETWORK ? "network" : "router", o->id,
	    o->debug ? "debug" : "info", o->id, user, group, o->pid_file);
	timeout_line(sb, "http-request", o->timeouts.http_request);
	timeout_line(sb, "connect", o->timeouts.connect);
	timeout_line(sb, "client", o->timeouts.client);
	timeout_line(sb, "server", o->timeouts.server);
	timeout_line(sb, "http-keep-alive", o->timeouts.http_keep_alive);
}

/* neutron's [metadata_rate_limiting]: one table per window, keyed by src. */
static void
render_rate_tables(const struct options *o, struct strbuf *sb)
{
	const struct rate_limit *rl = &o->rate_limit;
	/*
	 * An "ip" table cannot hold an IPv6 source, so with an IPv6 listener
	 * those clients would never be limited; an "ipv6" table holds both.
	 */
	bool v6 =
	    rl->ip_version == 6 || o->bind_v6 || o->bind_address_v6[0] != '\0';
	const char *type = v6 ? "ipv6" : "ip";
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
	    "    http-request set-header %s %s\n"
	    "    server metadata %s\n",
	    render_id_header(o), o->id, o->socket_path);
}

int
render_config(const struct options *o, const char *user, const char *group,
    struct strbuf *out)
{
	render_global(o, user, group, out);
	if (o->rate_limit.enabled)
		render_rate_tables(o, out);
	render_listen(o, out);
	return out->failed ? -ENOMEM : 0;
}
