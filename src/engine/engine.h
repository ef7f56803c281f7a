/*
 * The built-in engine: the metadata proxy itself, on libevent, with the
 * HTTP framing of engine/http.h. It listens where the haproxy config would
 * bind, forwards each request over a fresh unix-socket connection to the
 * agent and relays the answer, with the limits and timeouts of the options.
 */
#ifndef NMP_ENGINE_H
#define NMP_ENGINE_H

#include <stdbool.h>
#include <sys/types.h>

#include "options.h"

struct engine_ctx;

/*
 * An engine serving the nfds (at most 2) listening sockets in fds, bound
 * by the caller (listener.h) where the options say; it owns them from
 * now on, also when it fails. Nothing is served until engine_run().
 * Returns NULL with *err set (-errno) and *what naming the step that
 * failed.
 */
struct engine_ctx *engine_new(const struct options *o, const int *fds, int nfds,
    int *err, const char **what);

/*
 * Drop privileges to uid/gid when running as root (setgroups, setgid,
 * setuid, then make sure root cannot be had back). Returns 0 or -errno.
 */
int engine_drop_privileges(uid_t uid, gid_t gid);

/*
 * Serve until SIGTERM or SIGINT: then stop accepting, let requests in flight
 * finish within the client timeout, and return 0. SIGHUP reopens the log
 * file. Returns -errno if the loop cannot run.
 */
int engine_run(struct engine_ctx *e);

void engine_free(struct engine_ctx *e);

#endif
