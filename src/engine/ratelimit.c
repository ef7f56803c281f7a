#include <stdlib.h>
#include <string.h>

#include "engine/addrkey.h"
#include "engine/ratelimit.h"
#include "banned.h"

/* How far a lookup probes: past it the table counts as full. */
#define RATELIMIT_PROBE 64

struct rate_slot {
	unsigned char addr[ADDRKEY_LEN];
	bool used;
	time_t base_start;
	time_t burst_start;
	unsigned long base_count;
	unsigned long burst_count;
};

void
ratelimit_init(struct ratelimit *r, const struct rate_limit *conf)
{
	r->conf = *conf;
	r->slots = NULL;
}

void
ratelimit_release(struct ratelimit *r)
{
	free(r->slots);
	r->slots = NULL;
}

/* The slot of key, or a free or stale one to take; NULL: none near. */
static struct rate_slot *
find(struct ratelimit *r, const unsigned char *key, time_t now)
{
	const struct rate_limit *rl = &r->conf;
	unsigned long horizon = rl->base_window > rl->burst_window
	                            ? rl->base_window
	                            : rl->burst_window;
	struct rate_slot *s = NULL;
	size_t i, h = addrkey_hash(key) % RATELIMIT_SLOTS;

	for (i = 0; i < RATELIMIT_PROBE; i++) {
		struct rate_slot *t = &r->slots[(h + i) % RATELIMIT_SLOTS];
		bool stale = t->used &&
		             now - t->base_start >= (time_t)horizon &&
		             now - t->burst_start >= (time_t)horizon;

		if (t->used && memcmp(t->addr, key, ADDRKEY_LEN) == 0)
			return t;
		if (s == NULL && (!t->used || stale))
			s = t;
	}
	return s;
}

bool
ratelimit_over(struct ratelimit *r, const unsigned char *key, time_t now)
{
	const struct rate_limit *rl = &r->conf;
	struct rate_slot *s;

	if (r->slots == NULL) {
		r->slots = calloc(RATELIMIT_SLOTS, sizeof(*r->slots));
		if (r->slots == NULL)
			return false;
	}
	s = find(r, key, now);
	if (s == NULL)
		return false; /* full neighbourhood: like a full table */
	if (!s->used || memcmp(s->addr, key, ADDRKEY_LEN) != 0) {
		memset(s, 0, sizeof(*s));
		memcpy(s->addr, key, ADDRKEY_LEN);
		s->used = true;
		s->base_start = now;
		s->burst_start = now;
	}
	if (now - s->base_start >= (time_t)rl->base_window) {
		s->base_start = now;
		s->base_count = 0;
	}
	if (now - s->burst_start >= (time_t)rl->burst_window) {
		s->burst_start = now;
		s->burst_count = 0;
	}
	s->base_count++;
	s->burst_count++;
	return s->base_count > rl->base_limit ||
	       s->burst_count > rl->burst_limit;
}
