#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listener.h"
#include "banned.h"

static int
to_sockaddr(const char *addr, unsigned int port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*len = sizeof(*in4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		return AF_INET6;
	}
	return -EINVAL;
}

int
listener_open(const char *addr, unsigned int port, const char *ifname,
    int backlog, int *fd_out)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	int family, fd, one = 1, err;

	family = to_sockaddr(addr, port, &ss, &len);
	if (family < 0)
		return family;
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (ifname != NULL && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE,
	                           ifname, (socklen_t)strlen(ifname)) < 0) ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(fd, backlog) < 0) {
		err = errno;
		(void)close(fd);
		return -err;
	}
	*fd_out = fd;
	return 0;
}

int
listener_placeholder(const char *addr, int *fd_out)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	int family, fd;

	family = to_sockaddr(addr, 0, &ss, &len);
	if (family < 0)
		return family;
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	*fd_out = fd;
	return 0;
}

int
listener_open_proxy(
    const struct proxy_conf *p, int backlog, int *fds, int *n, int *which)
{
	int r;

	*n = 0;
	*which = 0;
	r = listener_open(p->bind_address, p->port, NULL, backlog, &fds[0]);
	if (r < 0)
		return r;
	if (p->bind_address_v6[0] == '\0') {
		*n = 1;
		return 0;
	}
	r = listener_open(
	    p->bind_address_v6, p->port, p->bind_interface, backlog, &fds[1]);
	if (r < 0) {
		(void)close(fds[0]);
		fds[0] = -1;
		*which = 1;
		return r;
	}
	*n = 2;
	return 0;
}
