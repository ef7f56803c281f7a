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

#endif
