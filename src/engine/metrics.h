/*
 * What the engine counts, and the Prometheus text exposition of it
 * (format 0.0.4): per network (labels id and flavor) and per agent socket
 * and process. The counters are plain fields the engine adds to; the
 * rendering is pure: values in, text out.
 */
#ifndef NMP_ENGINE_METRICS_H
#define NMP_ENGINE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* Distinct status codes and refusal reasons a network keeps apart. */
#define METRICS_CODES 8
#define METRICS_REASONS 8
/* The latency histogram's upper bounds, in milliseconds. */
#define METRICS_BUCKETS 11
#define METRICS_BUCKET_BOUNDS_MS                                               \
	{                                                                      \
		5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000          \
	}

struct metrics_code {
	unsigned int code; /* 0: free */
	uint64_t n;
};

struct metrics_reason {
	const char *reason; /* static; NULL: free */
	uint64_t n;
};

/* One network's counters, from when it was added. */
struct metrics_net {
	struct metrics_code codes[METRICS_CODES];
	uint64_t codes_other[6]; /* a code past the table: by class, 0..5xx */
	struct metrics_reason refused[METRICS_REASONS];
	uint64_t refused_other;
	uint64_t aborted;   /* the client went before any answer */
	uint64_t accepted;  /* client connections */
	uint64_t bytes_in;  /* from clients */
	uint64_t bytes_out; /* to clients */
	uint64_t spoofed_removed;
	uint64_t hop_removed;
	uint64_t rate_limited;
	uint64_t agent_connect_errors;
	uint64_t agent_timeouts;
	uint64_t agent_reused; /* requests sent on a kept agent connection */
	uint64_t buckets[METRICS_BUCKETS]; /* not cumulative */
	uint64_t latency_count;
	uint64_t latency_us; /* the sum */
};

/* An answer with status (100..599) was sent, after us microseconds. */
void metrics_count_answer(struct metrics_net *m, int status, uint64_t us);
/* We refused, for reason (a static string of the engine or parser). */
void metrics_count_refusal(struct metrics_net *m, const char *reason);

/* A network as the exposition shows it. */
struct metrics_net_view {
	const char *id;
	const char *flavor;
	const struct metrics_net *m;
	unsigned int conns; /* client connections open now */
};

/* An agent socket's connection pool. */
struct metrics_pool_view {
	const char *agent;                      /* its path */
	unsigned long open, idle, waiting, max; /* max 0: no cap */
};

/* The process. Fields of /proc that could not be read are negative. */
struct metrics_process {
	const char *version;
	double start_time; /* since the epoch */
	double uptime;     /* seconds */
	double cpu_seconds;
	long long open_fds, max_fds;
	long long rss_bytes, vsize_bytes;
	unsigned long networks;
	unsigned int conns, maxconn;
};

/*
 * The exposition of process, pools and nets into out (appended). 0, or
 * -ENOMEM.
 */
int metrics_render(const struct metrics_process *proc,
    const struct metrics_pool_view *pools, size_t npools,
    const struct metrics_net_view *nets, size_t nnets, struct strbuf *out);

/* The Content-Type of the exposition. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
