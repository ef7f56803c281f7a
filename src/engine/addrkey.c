#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "engine/addrkey.h"
#include "banned.h"

void
addrkey_of(const struct sockaddr *sa, unsigned char *key)
{
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

	memset(key, 0, ADDRKEY_LEN);
	if (sa->sa_family == AF_INET6) {
		memcpy(key, &in6->sin6_addr, ADDRKEY_LEN);
		return;
	}
	key[10] = 0xff;
	key[11] = 0xff;
	memcpy(key + 12, &in4->sin_addr, 4);
}

void
addrkey_text(const unsigned char *key, char *out, size_t outsz)
{
	static const unsigned char mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const char *r;

	if (memcmp(key, mapped, sizeof(mapped)) == 0)
		r = inet_ntop(AF_INET, key + 12, out, (socklen_t)outsz);
	else
		r = inet_ntop(AF_INET6, key, out, (socklen_t)outsz);
	if (r == NULL && outsz > 0)
		out[0] = '\0';
}

uint32_t
addrkey_hash(const unsigned char *key)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < ADDRKEY_LEN; i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}
