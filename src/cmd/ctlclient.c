#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sysexits.h>

#include "cmd/ctlclient.h"
#include "fd.h"
#include "fleet/ctl.h"
#include "log.h"
#include "strbuf.h"
#include "banned.h"

/* How long a client waits for the daemon's answer. */
#define FLEET_REPLY_TIMEOUT_S 10

int
ctlclient_exchange(int fd, const struct fleet_request *rq, const int *fds,
    int nfds, struct fleet_reply *rp, int *rfd, char *why, size_t whysz)
{
	struct strbuf msg = STRBUF_INIT;
	struct timeval tv = {FLEET_REPLY_TIMEOUT_S, 0};
	char *buf = NULL;
	int code = 0, got[FLEET_FDS_MAX], ngot = 0, r;
	ssize_t n = 0;

	buf = malloc(FLEET_MSG_MAX);
	if (buf == NULL || fleet_request_write(rq, &msg) < 0 || msg.failed) {
		(void)snprintf(why, whysz, "%s", strerror(ENOMEM));
		code = EX_OSERR;
		goto out;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	r = ctl_send(fd, msg.buf, msg.len, fds, nfds);
	if (r == 0) {
		n = ctl_recv(
		    fd, buf, FLEET_MSG_MAX, got, rfd != NULL ? 1 : 0, &ngot);
		r = n > 0 ? 0 : n == 0 ? -ECONNRESET : (int)n;
	}
	if (r < 0) {
		(void)snprintf(why, whysz, "%s", strerror(-r));
		code = EX_UNAVAILABLE;
		goto out;
	}
	if (fleet_reply_parse(buf, (size_t)n, rp, why, whysz) < 0) {
		code = EX_PROTOCOL;
		goto out;
	}
	if (rfd != NULL && ngot == 1) {
		*rfd = got[0];
		ngot = 0;
	}
out:
	while (ngot > 0)
		(void)safe_close(got[--ngot]);
	free(buf);
	strbuf_release(&msg);
	return code;
}

int
ctlclient_ask(const char *path, const struct fleet_request *rq, const int *fds,
    int nfds, struct fleet_reply *rp, int *rfd)
{
	char why[FLEET_ERROR_MAX];
	int fd = -1, code, r;

	r = ctl_connect(path, &fd);
	if (r < 0) {
		log_err("cannot reach the fleet at --control-socket '%s': %s",
		    path, strerror(-r));
		return r == -EACCES ? EX_NOPERM : EX_UNAVAILABLE;
	}
	code = ctlclient_exchange(fd, rq, fds, nfds, rp, rfd, why, sizeof(why));
	if (code == EX_OSERR)
		log_err("cannot write the request: %s", why);
	else if (code == EX_UNAVAILABLE)
		log_err("the fleet at '%s' did not answer: %s", path, why);
	else if (code != 0)
		log_err("the fleet's answer cannot be read: %s", why);
	(void)safe_close(fd);
	return code;
}
