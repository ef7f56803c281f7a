/*
 * The built-in engine: the metadata proxy itself, on libevent, with the
 * HTTP framing of engine/http.h. An engine is the process part (the event
 * loop, signals, the global connection limit, accept backoff, timers); it
 * serves any number of frontends, one per network or router, each on the
 * listening sockets its caller bound, forwarding each request over a fresh
 * unix-socket connection to its agent and relaying the answer, with the
 * limits and timeouts of its proxy_conf. Neither keeps a pointer to the
 * configuration it was given.
 */
#ifndef NMP_ENGINE_H
#define NMP_ENGINE_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "daemon_conf.h"
#include "proxy_conf.h"
#include "strbuf.h"

/* A network's listeners: its IPv4 or IPv6 address and an IPv6 one. */
#define ENGINE_LISTENERS_MAX 2

struct engine;
struct frontend;
struct event_base;

/* What a network did since it was added. */
struct frontend_stats {
	unsigned long requests; /* answered, by the agent or by us */
	unsigned long refused;  /* answered or closed by us, with a reason */
	unsigned int conns;     /* client connections open now */
	const char *last_error; /* the reason of the last refusal; static */
	time_t last_error_at;
	time_t since; /* added */
};

/*
 * An engine with the process settings of d (maxconn, debug) and no
 * network yet. Returns NULL with *err set (-errno) and *what naming the
 * step that failed.
 */
struct engine *engine_new(
    const struct daemon_conf *d, int *err, const char **what);

/*
 * Serve the network p on the nfds (at most ENGINE_LISTENERS_MAX) listening
 * sockets in fds, bound by the caller (listener.h) where p says; they are
 * the engine's from now on, also when this fails. Nothing is served until
 * engine_run(). The frontend belongs to the engine (engine_free frees it).
 * Returns NULL with *err and *what set.
 */
struct frontend *engine_add_frontend(struct engine *e,
    const struct proxy_conf *p, const int *fds, int nfds, int *err,
    const char **what);

/* The network of this id, or NULL. */
struct frontend *engine_find_frontend(struct engine *e, const char *id);

/*
 * Stop serving f: its listeners are closed now, its requests in flight
 * finish, and it is freed with its last connection. f is not to be used
 * by the caller after this.
 */
void engine_remove_frontend(struct frontend *f);

const char *engine_frontend_id(const struct frontend *f);

void engine_frontend_stats(const struct frontend *f, struct frontend_stats *st);

/* f's listening sockets (still f's) into fds; returns how many. */
int engine_frontend_fds(const struct frontend *f, int *fds);

/*
 * The Prometheus exposition of every network, agent socket and the
 * process (engine/metrics.h) into out. 0 or -ENOMEM.
 */
int engine_metrics(struct engine *e, struct strbuf *out);

/* Agent sockets a health report names at most. */
#define ENGINE_HEALTH_AGENTS 8

/* How the engine is: its listeners, and whether its agents answer. */
struct engine_health {
	unsigned long networks;
	unsigned long listeners; /* held */
	unsigned long listening; /* of them, listening (SO_ACCEPTCONN) */
	unsigned long unbound;   /* networks without a listener */
	bool draining;
	struct {
		char path[108];
		int err; /* 0: it took a connection now; else -errno */
	} agents[ENGINE_HEALTH_AGENTS];
	size_t nagents;
	bool agents_more; /* more agent sockets than fit */
};

/* Look now: each agent socket is connected to once, then closed. */
void engine_health(struct engine *e, struct engine_health *h);

/* The loop, for the events of a caller that serves beside the engine. */
struct event_base *engine_base(struct engine *e);

/* SIGTERM came: no new connections, nor networks. */
bool engine_draining(const struct engine *e);

/*
 * Drop privileges to uid/gid when running as root (setgroups, setgid,
 * setuid, then make sure root cannot be had back). Returns 0 or -errno.
 */
int engine_drop_privileges(uid_t uid, gid_t gid);

/*
 * Serve until SIGTERM or SIGINT: then stop accepting, let requests in flight
 * finish within the longest client timeout, and return 0. SIGHUP reopens the
 * log file. Returns -errno if the loop cannot run.
 */
int engine_run(struct engine *e);

void engine_free(struct engine *e);

#endif
