/*
 * The commands of DESIGN.md for one network (p) served by one process
 * (d). Each logs its own failure once and returns the process exit code.
 */
#ifndef NMP_CMD_H
#define NMP_CMD_H

#include "daemon_conf.h"
#include "options.h"
#include "proxy_conf.h"

/* run: the engine of d, in the foreground or as a daemon. */
int cmd_run(const struct proxy_conf *p, const struct daemon_conf *d);

/*
 * The haproxy front's hand-off: where the fleet is asked to serve the
 * network (the front's config, front.conf), and what its stub keeps.
 */
struct handoff {
	const char *control_socket;
	unsigned int reconnect_timeout; /* s a stub waits for a new fleet */
	char *const *argv; /* the front's command line: the stub's too */
};

/*
 * run with the built-in engine: the haproxy front starts here too, with
 * what it read from a neutron config, and h when it may hand the network
 * to the fleet (else NULL).
 */
int cmd_run_builtin(const struct proxy_conf *p, const struct daemon_conf *d,
    const struct handoff *h);

/* render: the haproxy config on standard output. */
int cmd_render(const struct proxy_conf *p, const struct daemon_conf *d);

/* check: haproxy -c on the rendered config. */
int cmd_check(const struct proxy_conf *p, const struct daemon_conf *d);

/* status: LSB's 0, 1, 3, 4. */
int cmd_status(const struct proxy_conf *p, const struct daemon_conf *d);

int cmd_stop(const struct proxy_conf *p, const struct daemon_conf *d);

/* cleanup: the config of this id removed. */
int cmd_cleanup(const struct proxy_conf *p, const struct daemon_conf *d);

/* fleet serve, add, del, list, show (o->fleet.cmd). */
int cmd_fleet(const struct options *o);

/* status --all: every proxy of the node, one line each (or JSON). */
int cmd_status_all(const struct options *o);

#endif
