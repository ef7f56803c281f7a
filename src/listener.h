/*
 * The proxy's TCP listeners, bound by us in the current network namespace
 * for either engine: the built-in engine serves them, haproxy inherits
 * them (bind fd@N). So a busy address is our error, with its exit code,
 * and a client is queued in the backlog from the moment the start command
 * returns. No SO_REUSEPORT: a second proxy on the same address and port
 * must fail, not split the first one's connections.
 */
#ifndef NMP_LISTENER_H
#define NMP_LISTENER_H

#include "proxy_conf.h"

/*
 * A listening TCP socket on addr (an IPv4 or IPv6 literal) and port, bound
 * to the interface ifname when not NULL; non-blocking, close-on-exec,
 * SO_REUSEADDR (a restart is not refused for connections in TIME_WAIT).
 * The caller owns *fd_out. -EINVAL for an address that is not a literal,
 * else -errno of the step that failed.
 */
int listener_open(const char *addr, unsigned int port, const char *ifname,
    int backlog, int *fd_out);

/*
 * A socket of the family of addr that is neither bound nor listening: what
 * `haproxy -c` needs at a descriptor named by bind fd@N to check a config.
 */
int listener_placeholder(const char *addr, int *fd_out);

/*
 * The listeners of network p in the current network namespace, for either
 * engine: fds[0] on its bind address, fds[1] on its IPv6 address (bound to
 * its interface) when it has one; *n says how many. On failure nothing
 * stays open, *n is 0 and *which names the listener that failed (0, 1).
 * Returns 0 or -errno.
 */
int listener_open_proxy(
    const struct proxy_conf *p, int backlog, int *fds, int *n, int *which);

#endif
