/*
 * The haproxy front's network handed to the fleet: bound here, served
 * there, and this process a stub that holds it (src/stub).
 */
#ifndef NMP_CMD_HANDOFF_H
#define NMP_CMD_HANDOFF_H

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "pidfile.h"

/*
 * Ask the fleet of h to serve p on the listeners fds; when it does, write
 * the pidfile, report the start (on *report, then -1, or to systemd),
 * leave the mount namespace for PID 1's and become the stub: never
 * returns. Returns when the network is not handed off, having logged once
 * why; fds are still the caller's, to serve the network itself.
 */
void handoff_try(const struct handoff *h, const struct proxy_conf *p,
    const struct daemon_conf *d, const struct names *nm, struct pidfile *pf,
    int *report, const int *fds, int nfds);

#endif
