#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "engine/metrics.h"
#include "banned.h"

#define P "ns_metadata_proxy_"

static const unsigned long bucket_ms[METRICS_BUCKETS] =
    METRICS_BUCKET_BOUNDS_MS;

void
metrics_count_answer(struct metrics_net *m, int status, uint64_t us)
{
	size_t i;

	if (status < 100 || status > 599) {
		m->aborted++;
		return;
	}
	for (i = 0; i < METRICS_CODES; i++) {
		if (m->codes[i].code == (unsigned int)status ||
		    m->codes[i].code == 0) {
			m->codes[i].code = (unsigned int)status;
			m->codes[i].n++;
			break;
		}
	}
	if (i == METRICS_CODES)
		m->codes_other[status / 100]++;
	for (i = 0; i < METRICS_BUCKETS; i++)
		if (us <= (uint64_t)bucket_ms[i] * 1000U)
			break;
	if (i < METRICS_BUCKETS)
		m->buckets[i]++;
	m->latency_count++;
	m->latency_us += us;
}

void
metrics_count_refusal(struct metrics_net *m, const char *reason)
{
	size_t i;

	for (i = 0; i < METRICS_REASONS; i++) {
		/* The same words may be two strings: compare the text. */
		if (m->refused[i].reason == NULL ||
		    m->refused[i].reason == reason ||
		    strcmp(m->refused[i].reason, reason) == 0) {
			m->refused[i].reason = reason;
			m->refused[i].n++;
			return;
		}
	}
	m->refused_other++;
}

/* ---- the exposition ---- */

/* A label value as the format wants it: \, " and newline escaped. */
static void
put_value(struct strbuf *out, const char *v)
{
	const char *p;

	for (p = v; *p != '\0'; p++) {
		if (*p == '\\')
			(void)strbuf_append(out, "\\\\");
		else if (*p == '"')
			(void)strbuf_append(out, "\\\"");
		else if (*p == '\n')
			(void)strbuf_append(out, "\\n");
		else
			(void)strbuf_appendn(out, p, 1);
	}
}

/* A reason ("body too large") as a label value: body-too-large. */
static void
put_reason(struct strbuf *out, const char *reason)
{
	char word[64];
	char *p;

	(void)snprintf(word, sizeof(word), "%s", reason);
	for (p = word; *p != '\0'; p++)
		if (*p == ' ')
			*p = '-';
	put_value(out, word);
}

static void
family(struct strbuf *out, const char *name, const char *type, const char *help)
{
	(void)strbuf_appendf(
	    out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{id="..",flavor=".." and the extra labels, unclosed */
static void
net_labels(
    struct strbuf *out, const char *name, const struct metrics_net_view *v)
{
	(void)strbuf_append(out, name);
	(void)strbuf_append(out, "{id=\"");
	put_value(out, v->id);
	(void)strbuf_append(out, "\",flavor=\"");
	put_value(out, v->flavor);
	(void)strbuf_append(out, "\"");
}

static void
net_sample(struct strbuf *out, const char *name,
    const struct metrics_net_view *v, uint64_t n)
{
	net_labels(out, name, v);
	(void)strbuf_appendf(out, "} %" PRIu64 "\n", n);
}

/* One counter or gauge of every network: a field of the view. */
typedef uint64_t (*net_field)(const struct metrics_net_view *v);

static void
net_family(struct strbuf *out, const char *name, const char *type,
    const char *help, const struct metrics_net_view *nets, size_t n,
    net_field get)
{
	size_t i;

	family(out, name, type, help);
	for (i = 0; i < n; i++)
		net_sample(out, name, &nets[i], get(&nets[i]));
}

#define FIELD(fn, expr)                                                        \
	static uint64_t fn(const struct metrics_net_view *v)                   \
	{                                                                      \
		return (expr);                                                 \
	}

FIELD(f_aborted, v->m->aborted)
FIELD(f_accepted, v->m->accepted)
FIELD(f_conns, v->conns)
FIELD(f_bytes_in, v->m->bytes_in)
FIELD(f_bytes_out, v->m->bytes_out)
FIELD(f_rate_limited, v->m->rate_limited)
FIELD(f_connect_errors, v->m->agent_connect_errors)
FIELD(f_timeouts, v->m->agent_timeouts)
FIELD(f_reused, v->m->agent_reused)

static void
requests(struct strbuf *out, const struct metrics_net_view *nets, size_t n)
{
	const char *name = P "requests_total";
	const struct metrics_net *m;
	size_t i, k;

	family(out, name, "counter",
	    "Requests answered, by the agent or by the proxy, by status code "
	    "and class.");
	for (i = 0; i < n; i++) {
		m = nets[i].m;
		for (k = 0; k < METRICS_CODES && m->codes[k].code != 0; k++) {
			net_labels(out, name, &nets[i]);
			(void)strbuf_appendf(out,
			    ",code=\"%u\",class=\"%uxx\"} %" PRIu64 "\n",
			    m->codes[k].code, m->codes[k].code / 100,
			    m->codes[k].n);
		}
		for (k = 1; k < 6; k++) {
			if (m->codes_other[k] == 0)
				continue;
			net_labels(out, name, &nets[i]);
			(void)strbuf_appendf(out,
			    ",code=\"other\",class=\"%zuxx\"} %" PRIu64 "\n", k,
			    m->codes_other[k]);
		}
	}
}

static void
refusals(struct strbuf *out, const struct metrics_net_view *nets, size_t n)
{
	const char *name = P "refusals_total";
	const struct metrics_net *m;
	size_t i, k;

	family(out, name, "counter",
	    "Requests and connections the proxy refused itself, by reason.");
	for (i = 0; i < n; i++) {
		m = nets[i].m;
		for (k = 0; k < METRICS_REASONS && m->refused[k].reason != NULL;
		     k++) {
			net_labels(out, name, &nets[i]);
			(void)strbuf_append(out, ",reason=\"");
			put_reason(out, m->refused[k].reason);
			(void)strbuf_appendf(
			    out, "\"} %" PRIu64 "\n", m->refused[k].n);
		}
		if (m->refused_other > 0) {
			net_labels(out, name, &nets[i]);
			(void)strbuf_appendf(out,
			    ",reason=\"other\"} %" PRIu64 "\n",
			    m->refused_other);
		}
	}
}

static void
removed(struct strbuf *out, const struct metrics_net_view *nets, size_t n)
{
	const char *name = P "headers_removed_total";
	size_t i;

	family(out, name, "counter",
	    "Client-sent headers removed: spoofed identity headers, and "
	    "hop-by-hop ones.");
	for (i = 0; i < n; i++) {
		net_labels(out, name, &nets[i]);
		(void)strbuf_appendf(out, ",type=\"spoofed\"} %" PRIu64 "\n",
		    nets[i].m->spoofed_removed);
		net_labels(out, name, &nets[i]);
		(void)strbuf_appendf(out, ",type=\"hop-by-hop\"} %" PRIu64 "\n",
		    nets[i].m->hop_removed);
	}
}

static void
latency(struct strbuf *out, const struct metrics_net_view *nets, size_t n)
{
	const char *name = P "request_duration_seconds";
	const struct metrics_net *m;
	uint64_t cum;
	size_t i, k;

	family(out, name, "histogram",
	    "Time from a request's first byte to the end of its answer.");
	for (i = 0; i < n; i++) {
		m = nets[i].m;
		cum = 0;
		for (k = 0; k < METRICS_BUCKETS; k++) {
			cum += m->buckets[k];
			net_labels(
			    out, P "request_duration_seconds_bucket", &nets[i]);
			(void)strbuf_appendf(out,
			    ",le=\"%lu.%03lu\"} %" PRIu64 "\n",
			    bucket_ms[k] / 1000, bucket_ms[k] % 1000, cum);
		}
		net_labels(out, P "request_duration_seconds_bucket", &nets[i]);
		(void)strbuf_appendf(
		    out, ",le=\"+Inf\"} %" PRIu64 "\n", m->latency_count);
		net_labels(out, P "request_duration_seconds_sum", &nets[i]);
		(void)strbuf_appendf(out, "} %" PRIu64 ".%06" PRIu64 "\n",
		    m->latency_us / 1000000U, m->latency_us % 1000000U);
		net_sample(out, P "request_duration_seconds_count", &nets[i],
		    m->latency_count);
	}
}

static void
pool_labels(struct strbuf *out, const char *name, const char *agent)
{
	(void)strbuf_append(out, name);
	(void)strbuf_append(out, "{agent=\"");
	put_value(out, agent);
	(void)strbuf_append(out, "\"");
}

static void
pools_render(
    struct strbuf *out, const struct metrics_pool_view *pools, size_t n)
{
	size_t i;

	family(out, P "agent_connections", "gauge",
	    "Connections to an agent socket open now, in use or idle.");
	for (i = 0; i < n; i++) {
		pool_labels(out, P "agent_connections", pools[i].agent);
		(void)strbuf_appendf(out, ",state=\"in_use\"} %lu\n",
		    pools[i].open - pools[i].idle);
		pool_labels(out, P "agent_connections", pools[i].agent);
		(void)strbuf_appendf(
		    out, ",state=\"idle\"} %lu\n", pools[i].idle);
	}
	family(out, P "agent_connections_max", "gauge",
	    "The cap on connections to an agent socket; 0: none.");
	for (i = 0; i < n; i++) {
		pool_labels(out, P "agent_connections_max", pools[i].agent);
		(void)strbuf_appendf(out, "} %lu\n", pools[i].max);
	}
	family(out, P "agent_waiting_requests", "gauge",
	    "Requests waiting for a connection to an agent socket.");
	for (i = 0; i < n; i++) {
		pool_labels(out, P "agent_waiting_requests", pools[i].agent);
		(void)strbuf_appendf(out, "} %lu\n", pools[i].waiting);
	}
}

static void
gauge_ll(struct strbuf *out, const char *name, const char *type,
    const char *help, long long v)
{
	if (v < 0)
		return;
	family(out, name, type, help);
	(void)strbuf_appendf(out, "%s %lld\n", name, v);
}

static void
process_render(struct strbuf *out, const struct metrics_process *p)
{
	family(out, P "build_info", "gauge", "The version that runs.");
	(void)strbuf_append(out, P "build_info{version=\"");
	put_value(out, p->version);
	(void)strbuf_append(out, "\"} 1\n");
	family(out, "process_start_time_seconds", "gauge",
	    "Start time of the process since the epoch, in seconds.");
	(void)strbuf_appendf(
	    out, "process_start_time_seconds %.3f\n", p->start_time);
	family(out, P "uptime_seconds", "gauge",
	    "Seconds since the process started.");
	(void)strbuf_appendf(out, P "uptime_seconds %.3f\n", p->uptime);
	if (p->cpu_seconds >= 0) {
		family(out, "process_cpu_seconds_total", "counter",
		    "User and system CPU time spent, in seconds.");
		(void)strbuf_appendf(
		    out, "process_cpu_seconds_total %.2f\n", p->cpu_seconds);
	}
	gauge_ll(out, "process_open_fds", "gauge", "Open file descriptors.",
	    p->open_fds);
	gauge_ll(out, "process_max_fds", "gauge",
	    "The limit on open file descriptors.", p->max_fds);
	gauge_ll(out, "process_resident_memory_bytes", "gauge",
	    "Resident memory, in bytes.", p->rss_bytes);
	gauge_ll(out, "process_virtual_memory_bytes", "gauge",
	    "Virtual memory, in bytes.", p->vsize_bytes);
	gauge_ll(out, P "networks", "gauge", "Networks and routers served.",
	    (long long)p->networks);
	gauge_ll(out, P "process_client_connections", "gauge",
	    "Client connections open now, all networks.", (long long)p->conns);
	gauge_ll(out, P "process_client_connections_max", "gauge",
	    "The process's cap on client connections.", (long long)p->maxconn);
}

int
metrics_render(const struct metrics_process *proc,
    const struct metrics_pool_view *pools, size_t npools,
    const struct metrics_net_view *nets, size_t nnets, struct strbuf *out)
{
	process_render(out, proc);
	pools_render(out, pools, npools);
	requests(out, nets, nnets);
	net_family(out, P "client_aborts_total", "counter",
	    "Requests the client gave up before any answer.", nets, nnets,
	    f_aborted);
	refusals(out, nets, nnets);
	net_family(out, P "rate_limited_total", "counter",
	    "Requests refused by the rate limit (429).", nets, nnets,
	    f_rate_limited);
	removed(out, nets, nnets);
	net_family(out, P "client_connections", "gauge",
	    "Client connections open now.", nets, nnets, f_conns);
	net_family(out, P "client_connections_accepted_total", "counter",
	    "Client connections accepted.", nets, nnets, f_accepted);
	net_family(out, P "received_bytes_total", "counter",
	    "Bytes read from clients.", nets, nnets, f_bytes_in);
	net_family(out, P "sent_bytes_total", "counter",
	    "Bytes sent to clients.", nets, nnets, f_bytes_out);
	net_family(out, P "agent_connect_errors_total", "counter",
	    "Connections to the agent that failed.", nets, nnets,
	    f_connect_errors);
	net_family(out, P "agent_timeouts_total", "counter",
	    "Requests the agent did not answer in time (504).", nets, nnets,
	    f_timeouts);
	net_family(out, P "agent_reused_total", "counter",
	    "Requests sent on a kept agent connection.", nets, nnets, f_reused);
	latency(out, nets, nnets);
	return out->failed ? -ENOMEM : 0;
}
