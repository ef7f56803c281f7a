#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fd.h"
#include "fleet/ctl.h"
#include "banned.h"

/* Descriptors a message may bring before we call it cut short. */
#define CTL_FDS_ROOM 8
/* Supplementary groups asked of a peer at first. */
#define CTL_GROUPS_FIRST 64

static int
sun_of(const char *path, struct sockaddr_un *sun, socklen_t *len)
{
	size_t n = strlen(path);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (n == 0 || n >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	memcpy(sun->sun_path, path, n + 1);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return 0;
}

int
ctl_connect(const char *path, int *fd_out)
{
	struct timeval tv = {CTL_CONNECT_TIMEOUT_S, 0};
	struct sockaddr_un sun;
	socklen_t len;
	int fd, r;

	r = sun_of(path, &sun, &len);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A full backlog (a daemon stuck, thousands of stubs at once) would
	 * block connect and send for ever: the same bound as the reply. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, len) < 0) {
		r = -errno;
		(void)close(fd);
		return r;
	}
	*fd_out = fd;
	return 0;
}

int
ctl_listen(const char *path, gid_t gid, int *fd_out)
{
	struct sockaddr_un sun;
	socklen_t len;
	mode_t old;
	int fd, probe = -1, r;

	r = sun_of(path, &sun, &len);
	if (r < 0)
		return r;
	/* A daemon answers there: ours is a second one. */
	r = ctl_connect(path, &probe);
	if (r == 0) {
		(void)close(probe);
		return -EADDRINUSE;
	}
	if (r == -ECONNREFUSED && unlink(path) < 0 && errno != ENOENT)
		return -errno;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Born 0660: never a moment open to others. */
	old = umask(0117);
	r = bind(fd, (struct sockaddr *)&sun, len) < 0 ? -errno : 0;
	(void)umask(old);
	if (r == 0 && lchown(path, geteuid() == 0 ? 0 : (uid_t)-1, gid) < 0)
		r = -errno;
	if (r == 0 && listen(fd, SOMAXCONN) < 0)
		r = -errno;
	if (r < 0) {
		if (r != -EADDRINUSE)
			(void)unlink(path);
		(void)close(fd);
		return r;
	}
	*fd_out = fd;
	return 0;
}

int
ctl_send(int fd, const char *buf, size_t len, const int *fds, int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * CTL_FDS_ROOM)];
		struct cmsghdr align;
	} u;
	struct iovec iov;
	struct msghdr msg;
	struct cmsghdr *cm;
	ssize_t n;

	if (nfds < 0 || nfds > CTL_FDS_ROOM)
		return -EINVAL;
	memset(&msg, 0, sizeof(msg));
	memset(&u, 0, sizeof(u));
	memcpy(
	    &iov.iov_base, &buf, sizeof(buf)); /* const: sendmsg only reads */
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
	}
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

/* Every descriptor of the message's SCM_RIGHTS, in order, into all. */
static int
collect_fds(struct msghdr *msg, int *all, int room)
{
	struct cmsghdr *cm;
	size_t i, k;
	int n = 0;
	int fd;

	for (cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			memcpy(
			    &fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (n < room)
				all[n++] = fd;
			else
				(void)close(fd);
		}
	}
	return n;
}

ssize_t
ctl_recv(int fd, char *buf, size_t cap, int *fds, int maxfds, int *nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * CTL_FDS_ROOM)];
		struct cmsghdr align;
	} u;
	int all[CTL_FDS_ROOM];
	struct iovec iov;
	struct msghdr msg;
	ssize_t n;
	int got, i;

	*nfds = 0;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = cap;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	do
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	got = collect_fds(&msg, all, CTL_FDS_ROOM);
	if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || got > maxfds) {
		for (i = 0; i < got; i++)
			(void)close(all[i]);
		return (msg.msg_flags & MSG_TRUNC) != 0 ? -EMSGSIZE : -EPROTO;
	}
	memcpy(fds, all, sizeof(int) * (size_t)got);
	*nfds = got;
	return n;
}

static bool
in_groups(int fd, gid_t gid)
{
	gid_t first[CTL_GROUPS_FIRST], *g = first;
	socklen_t len = sizeof(first);
	bool found = false;
	size_t i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) < 0) {
		if (errno != ERANGE)
			return false;
		g = malloc(len);
		if (g == NULL ||
		    getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) < 0) {
			free(g);
			return false;
		}
	}
	for (i = 0; i < len / sizeof(gid_t); i++)
		if (g[i] == gid)
			found = true;
	if (g != first)
		free(g);
	return found;
}

int
ctl_peer_allowed(int fd, gid_t gid, struct ucred *cred)
{
	socklen_t len = sizeof(*cred);

	memset(cred, 0, sizeof(*cred));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) < 0)
		return -errno;
	if (cred->uid == 0 || cred->gid == gid || in_groups(fd, gid))
		return 0;
	return -EACCES;
}

static int
sockopt_int(int fd, int name, int *v)
{
	socklen_t len = sizeof(*v);

	*v = 0;
	return getsockopt(fd, SOL_SOCKET, name, v, &len);
}

int
ctl_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

int
ctl_check_listener(int fd, struct ctl_listener *l, const char **why)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct stat st;
	int v = 0, ns;
	const void *a;

	memset(l, 0, sizeof(*l));
	memset(&ss, 0, sizeof(ss));
	if (sockopt_int(fd, SO_TYPE, &v) < 0 || v != SOCK_STREAM) {
		*why = "not a stream socket";
		return -EINVAL;
	}
	if (sockopt_int(fd, SO_PROTOCOL, &v) < 0 || v != IPPROTO_TCP) {
		*why = "not a TCP socket";
		return -EINVAL;
	}
	if (sockopt_int(fd, SO_ACCEPTCONN, &v) < 0 || v != 1) {
		*why = "not listening";
		return -EINVAL;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)) {
		*why = "not an IPv4 or IPv6 socket";
		return -EINVAL;
	}
	l->family = ss.ss_family;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)&ss;

		a = &in->sin_addr;
		l->port = ntohs(in->sin_port);
	} else {
		const struct sockaddr_in6 *in6 = (const void *)&ss;

		a = &in6->sin6_addr;
		l->port = ntohs(in6->sin6_port);
	}
	if (inet_ntop(l->family, a, l->addr, sizeof(l->addr)) == NULL) {
		*why = "its address cannot be read";
		return -EINVAL;
	}
	/* Its namespace: the kernel answers those with CAP_NET_ADMIN. */
	ns = ioctl(fd, SIOCGSKNS);
	if (ns >= 0) {
		if (fstat(ns, &st) == 0)
			l->netns_inode = (unsigned long long)st.st_ino;
		(void)safe_close(ns);
	}
	return 0;
}
