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

#include "daemon_conf.h"
#include "proxy_conf.h"

/* A network's listeners: its IPv4 or IPv6 address and an IPv6 one. */
#define ENGINE_LISTENERS_MAX 2

struct engine;
struct frontend;

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
