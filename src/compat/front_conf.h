/*
 * /etc/ns-metadata-proxy/front.conf: where the `haproxy` front finds the
 * fleet. Never the environment, which a root helper scrubs. Pure: the
 * text in, the settings out.
 *
 *   # a comment; blank lines are skipped
 *   fleet = on                  (off: every front serves its network)
 *   control_socket = /run/ns-metadata-proxy/fleet.sock
 *   reconnect_timeout = 60      (seconds, 1-86400)
 */
#ifndef NMP_COMPAT_FRONT_CONF_H
#define NMP_COMPAT_FRONT_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "proxy_conf.h"

#ifndef NMP_FRONT_CONF
#define NMP_FRONT_CONF "/etc/ns-metadata-proxy/front.conf"
#endif
#define FRONT_CONF_RECONNECT_S 60

struct front_conf {
	bool fleet;
	char control_socket[OPT_SOCKET_MAX + 1];
	unsigned int reconnect_timeout; /* seconds */
};

/* The built-in settings: the fleet on, at its default socket. */
void front_conf_defaults(struct front_conf *fc);

/*
 * Read text over fc's settings. 0, or -EINVAL with *line (1-based) and
 * why filled; fc is unchanged then.
 */
int front_conf_parse(const char *text, size_t len, struct front_conf *fc,
    unsigned int *line, char *why, size_t whysz);

#endif
