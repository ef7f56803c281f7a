#include <stdlib.h>
#include <string.h>

#include "engine/addrkey.h"
#include "engine/srccount.h"
#include "banned.h"

struct src_slot {
	unsigned char addr[ADDRKEY_LEN];
	unsigned int conns; /* 0: the slot is free */
};

void
srccount_init(struct srccount *t, unsigned long cap, unsigned int maxconn)
{
	t->cap = cap;
	t->maxconn = maxconn;
	t->slots = NULL;
	t->mask = 0;
}

void
srccount_release(struct srccount *t)
{
	free(t->slots);
	t->slots = NULL;
}

static int
alloc_slots(struct srccount *t)
{
	size_t n = 16;

	while (n < 2 * (size_t)t->maxconn)
		n *= 2;
	t->slots = calloc(n, sizeof(*t->slots));
	if (t->slots == NULL)
		return -1;
	t->mask = n - 1;
	return 0;
}

static size_t
find(const struct srccount *t, const unsigned char *key)
{
	size_t i = addrkey_hash(key) & t->mask;

	while (t->slots[i].conns > 0 &&
	       memcmp(t->slots[i].addr, key, ADDRKEY_LEN) != 0)
		i = (i + 1) & t->mask;
	return i;
}

bool
srccount_take(struct srccount *t, const unsigned char *key)
{
	size_t i;

	if (t->slots == NULL && alloc_slots(t) < 0)
		return false;
	i = find(t, key);
	if (t->slots[i].conns >= t->cap)
		return false;
	if (t->slots[i].conns == 0)
		memcpy(t->slots[i].addr, key, ADDRKEY_LEN);
	t->slots[i].conns++;
	return true;
}

unsigned int
srccount_of(const struct srccount *t, const unsigned char *key)
{
	return t->slots == NULL ? 0 : t->slots[find(t, key)].conns;
}

void
srccount_put(struct srccount *t, const unsigned char *key)
{
	size_t i, j, home;

	if (t->slots == NULL)
		return;
	i = find(t, key);
	if (t->slots[i].conns == 0 || --t->slots[i].conns > 0)
		return;
	/* Close the gap: move back each entry the hole cuts from its home. */
	for (j = i;;) {
		j = (j + 1) & t->mask;
		if (t->slots[j].conns == 0)
			break;
		home = addrkey_hash(t->slots[j].addr) & t->mask;
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		t->slots[i] = t->slots[j];
		t->slots[j].conns = 0;
		i = j;
	}
}
