/*
 * The fleet daemon's control side: the control socket on the engine's
 * loop, its peers checked, each request (fleet/proto.h) carried out on the
 * engine: an add checks the listeners it brings and makes a frontend of
 * them, a del removes one, list and show tell what is served. A network
 * added for a namespace by name goes when that name leaves /run/netns; one
 * added with "hold" goes when its sender's connection closes.
 */
#ifndef NMP_FLEET_SERVER_H
#define NMP_FLEET_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#include "engine/engine.h"
#include "strbuf.h"

/* Networks one daemon serves at most; also its control connections. */
#define FLEET_NETWORKS_MAX 16384

struct fleet_server;
struct fleet_client;

/*
 * Serve the control socket ctl_fd (fleet/ctl.h: listening; ours from now
 * on, also on failure) for peers that are root or in group; netns_dir is
 * where named namespaces live ("/run/netns"). NULL with *err on failure.
 */
struct fleet_server *fleet_server_new(
    struct engine *e, int ctl_fd, gid_t group, const char *netns_dir, int *err);

/*
 * Carry out one request from client (NULL: none, as the fuzzer and the
 * tests call it) with the nfds descriptors that came with it, which are
 * the server's from now on; the reply goes into out. 0, or -ENOMEM.
 */
int fleet_server_handle(struct fleet_server *s, struct fleet_client *client,
    const char *msg, size_t len, int *fds, int nfds, struct strbuf *out);

/*
 * After a restart: the networks of the state journal (text: one request a
 * line, later lines win, a del removes) that still have their listeners
 * among the nfds descriptors passed (named "<id>.<k>" by the service
 * manager's store) and their namespace. Every descriptor is the server's
 * or closed afterwards.
 */
void fleet_server_restore(struct fleet_server *s, const char *text, size_t len,
    int *fds, char **names, int nfds);

/* The journal of what is served now, one add a line (compacted). */
int fleet_server_dump(const struct fleet_server *s, struct strbuf *out);

/* Append each add and del to fd from now on (ours: closed with s). */
void fleet_server_set_journal(struct fleet_server *s, int fd);

/*
 * The reply's descriptor of the last request handled (metrics: a memfd),
 * now the caller's; -1 when none.
 */
int fleet_server_take_reply_fd(struct fleet_server *s);

/*
 * One network's engine (run): the control socket shows f, served for p,
 * as the fleet shows its networks, and refuses add and del. f stays the
 * engine's. 0, -EEXIST (one is there) or -ENOMEM.
 */
int fleet_server_adopt(
    struct fleet_server *s, struct frontend *f, const struct proxy_conf *p);

/* Networks served now. */
size_t fleet_server_count(const struct fleet_server *s);

/* Close the control socket and its connections; the networks stay. */
void fleet_server_free(struct fleet_server *s);

#endif
