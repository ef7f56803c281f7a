/*
 * The fleet's control socket, the system calls of it: a SOCK_SEQPACKET
 * unix socket (one message a datagram, descriptors beside it), who may
 * speak on it (SO_PEERCRED, SO_PEERGROUPS), what a listener handed over is
 * (a listening TCP socket; its namespace via SIOCGSKNS when the kernel
 * lets us ask). What the messages say is fleet/proto.h.
 */
#ifndef NMP_FLEET_CTL_H
#define NMP_FLEET_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/*
 * Listen on path, mode 0660, owned by root (or our uid when not root) and
 * group gid; a socket left there by a dead daemon (nobody answers on it)
 * is replaced, a live one is -EADDRINUSE. Non-blocking, close-on-exec.
 */
int ctl_listen(const char *path, gid_t gid, int *fd_out);

/* Seconds a connect or a send may wait for room (SO_SNDTIMEO). */
#define CTL_CONNECT_TIMEOUT_S 10

/*
 * Connect to the daemon at path; -errno (ENOENT, ECONNREFUSED: none;
 * EAGAIN: its backlog stayed full CTL_CONNECT_TIMEOUT_S).
 */
int ctl_connect(const char *path, int *fd_out);

/* One message, with nfds descriptors (SCM_RIGHTS) when nfds > 0. */
int ctl_send(int fd, const char *buf, size_t len, const int *fds, int nfds);

/*
 * One message into buf (cap bytes), its descriptors into fds (at most
 * maxfds, close-on-exec), their number into *nfds. Returns the length, 0
 * at the end, or -errno: -EMSGSIZE for a message larger than cap, -EPROTO
 * for descriptors cut short or more than maxfds; on an error none of the
 * descriptors that came stays open.
 */
ssize_t ctl_recv(
    int fd, char *buf, size_t cap, int *fds, int maxfds, int *nfds);

/*
 * May the peer of fd command the fleet: root, or gid its group or one of
 * its supplementary groups. 0 or -EACCES (-errno when the kernel will not
 * tell); *cred says who it is either way.
 */
int ctl_peer_allowed(int fd, gid_t gid, struct ucred *cred);

/* A listening socket handed over, as the daemon sees it. */
struct ctl_listener {
	int family; /* AF_INET or AF_INET6 */
	char addr[46];
	unsigned int port;
	unsigned long long netns_inode; /* 0: the kernel would not say */
};

/*
 * fd is a listening TCP socket (SO_ACCEPTCONN, SOCK_STREAM, TCP): what it
 * is bound to. -EINVAL (with *why) when it is not. Nothing of it changes.
 */
int ctl_check_listener(int fd, struct ctl_listener *l, const char **why);

/* O_NONBLOCK on fd (its open file: the sender's copy too). 0 or -errno. */
int ctl_nonblock(int fd);

#endif
