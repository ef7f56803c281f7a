/*
 * A client address as a 16-byte key (IPv4 as its mapped IPv6 address), for
 * the engine's per-address tables: rate limits, connection counts, log caps.
 */
#ifndef NMP_ENGINE_ADDRKEY_H
#define NMP_ENGINE_ADDRKEY_H

#include <stddef.h>
#include <stdint.h>

#define ADDRKEY_LEN 16

struct sockaddr;

/* The key of an AF_INET or AF_INET6 address. */
void addrkey_of(const struct sockaddr *sa, unsigned char *key);

/* The address as text ("10.0.0.5", "fe80::1"); "" if it does not fit. */
void addrkey_text(const unsigned char *key, char *out, size_t outsz);

/* FNV-1a over the key. */
uint32_t addrkey_hash(const unsigned char *key);

#endif
