#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "fd.h"
#include "fleet/ctl.h"
#include "fleet/hold.h"
#include "fleet/proto.h"
#include "banned.h"

int
hold_register(const char *path, const char *req, size_t len, const int *fds,
    int nfds, int *conn, char *why, size_t whysz)
{
	struct timeval tv = {HOLD_REPLY_TIMEOUT_S, 0}, none = {0, 0};
	struct fleet_reply *rp = NULL;
	char *buf = NULL;
	int fd = -1, got[FLEET_FDS_MAX], ngot = 0, r;
	ssize_t n = 0;

	*conn = -1;
	r = ctl_connect(path, &fd);
	if (r < 0) {
		(void)snprintf(why, whysz, "cannot connect: %s", strerror(-r));
		return r;
	}
	buf = malloc(FLEET_MSG_MAX);
	rp = malloc(sizeof(*rp));
	if (buf == NULL || rp == NULL) {
		r = -ENOMEM;
		(void)snprintf(why, whysz, "%s", strerror(ENOMEM));
		goto out;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	r = ctl_send(fd, req, len, fds, nfds);
	if (r == 0) {
		n = ctl_recv(fd, buf, FLEET_MSG_MAX, got, 0, &ngot);
		r = n > 0 ? 0 : n == 0 ? -ECONNRESET : (int)n;
	}
	if (r < 0) {
		(void)snprintf(why, whysz, "no answer: %s",
		    r == -EAGAIN ? "timed out" : strerror(-r));
		goto out;
	}
	if (fleet_reply_parse(buf, (size_t)n, rp, why, whysz) < 0) {
		r = -EPROTO;
		goto out;
	}
	if (!rp->ok) {
		(void)snprintf(why, whysz, "%s", rp->error);
		r = 1;
		goto out;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
	*conn = fd;
	fd = -1;
out:
	free(rp);
	free(buf);
	(void)safe_close(fd);
	return r;
}
