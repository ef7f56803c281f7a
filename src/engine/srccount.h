/*
 * Open connections per client address, against --max-conns-per-source:
 * open addressing with linear probing over at least twice the connections
 * the engine may hold (each address in the table holds one, so it is at
 * most half full), allocated on the first connection. Freed slots are
 * closed up by shifting back, so a lookup stops at the first free slot.
 */
#ifndef NMP_ENGINE_SRCCOUNT_H
#define NMP_ENGINE_SRCCOUNT_H

#include <stdbool.h>
#include <stddef.h>

struct src_slot;

struct srccount {
	unsigned long cap;      /* connections an address may hold */
	unsigned int maxconn;   /* the most there can be at once */
	struct src_slot *slots; /* NULL until the first connection */
	size_t mask;
};

void srccount_init(struct srccount *t, unsigned long cap, unsigned int maxconn);

/*
 * Count a connection of the address; false (not counted) when it holds
 * cap already, or when the table cannot be had.
 */
bool srccount_take(struct srccount *t, const unsigned char *key);

/* A counted connection of the address ended. */
void srccount_put(struct srccount *t, const unsigned char *key);

/* The connections the address holds now. */
unsigned int srccount_of(const struct srccount *t, const unsigned char *key);

void srccount_release(struct srccount *t);

#endif
