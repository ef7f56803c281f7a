/*
 * A network held by a connection: the `haproxy` front and its stub hand
 * their listeners to the fleet with an `add` that holds (`"hold": true`),
 * and the network is served while that connection stays open.
 */
#ifndef NMP_FLEET_HOLD_H
#define NMP_FLEET_HOLD_H

#include <stddef.h>

/* Seconds to wait for the fleet's reply to an add. */
#define HOLD_REPLY_TIMEOUT_S 10

/*
 * Send the add request req (its wire text, which holds) with its listeners
 * to the fleet at path, and read the reply. 0: served, *conn is the
 * connection that holds it; 1: the fleet refused, why has its error line;
 * -errno: no fleet there or no answer, why says what failed.
 */
int hold_register(const char *path, const char *req, size_t len, const int *fds,
    int nfds, int *conn, char *why, size_t whysz);

#endif
