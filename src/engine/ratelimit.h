/*
 * neutron's metadata rate limiting ([metadata_rate_limiting]): per client
 * address, a base window and a burst window, each with its own limit, in a
 * table of haproxy's size. The table is allocated on the first request, so
 * a network that is never asked costs nothing.
 */
#ifndef NMP_ENGINE_RATELIMIT_H
#define NMP_ENGINE_RATELIMIT_H

#include <stdbool.h>
#include <time.h>

#include "proxy_conf.h"

#define RATELIMIT_SLOTS 16384 /* haproxy's table: size 10k */

struct rate_slot;

struct ratelimit {
	struct rate_limit conf;
	struct rate_slot *slots; /* NULL until the first request */
};

/* A limiter with conf's windows and limits; allocates nothing. */
void ratelimit_init(struct ratelimit *r, const struct rate_limit *conf);

/*
 * Count a request of the address key at time now; true when it is over a
 * limit (then 429). A table that cannot be allocated, or a full
 * neighbourhood in it, counts nothing, as a full haproxy table does.
 */
bool ratelimit_over(struct ratelimit *r, const unsigned char *key, time_t now);

void ratelimit_release(struct ratelimit *r);

#endif
