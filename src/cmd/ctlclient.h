/*
 * A client of the fleet's control protocol (docs/fleet-protocol.md): one
 * request, one reply, for the fleet commands and for status --all.
 */
#ifndef NMP_CMD_CTLCLIENT_H
#define NMP_CMD_CTLCLIENT_H

#include <stddef.h>

#include "fleet/proto.h"

/*
 * One request on fd, a connection of ctl_connect(), with nfds descriptors
 * beside it, and its reply into *rp; rfd (NULL: none taken) gets the
 * descriptor that came beside the reply, or stays as it was when none
 * came (metrics). 0, or an exit code with why (one
 * line, nothing logged) filled: EX_OSERR the request could not be
 * written, EX_UNAVAILABLE no answer, EX_PROTOCOL an answer that cannot be
 * read.
 */
int ctlclient_exchange(int fd, const struct fleet_request *rq, const int *fds,
    int nfds, struct fleet_reply *rp, int *rfd, char *why, size_t whysz);

/*
 * The same on a connection of its own to the daemon at path; its failure
 * logged once. An exit code.
 */
int ctlclient_ask(const char *path, const struct fleet_request *rq,
    const int *fds, int nfds, struct fleet_reply *rp, int *rfd);

#endif
