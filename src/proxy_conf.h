/*
 * One network or router served: what a proxy for it needs to know, and
 * nothing of the process that serves it (daemon_conf.h) or of the command
 * line that named it (options.h). Every string in here has passed its
 * grammar in validate.h, so the renderer, the engine and the file code may
 * use them as they are. Plain data: copy it freely.
 */
#ifndef NMP_PROXY_CONF_H
#define NMP_PROXY_CONF_H

#include <limits.h>
#include <stdbool.h>

#define OPT_UUID_LEN 36
#define OPT_ADDR_MAX 46           /* INET6_ADDRSTRLEN */
#define OPT_IFNAME_MAX 15         /* IFNAMSIZ - 1 */
#define OPT_SOCKET_MAX 107        /* sizeof(sun_path) - 1 */
#define OPT_HAPROXY_SOCKET_MAX 97 /* what haproxy 2.6 accepts */

/* Whose headers the agent expects: neutron's agent or OVN's. */
enum flavor {
	FLAVOR_NEUTRON,
	FLAVOR_OVN,
};

enum id_kind {
	ID_NETWORK,
	ID_ROUTER,
};

/* haproxy's five timeouts, in milliseconds. */
struct timeouts {
	unsigned long http_request;
	unsigned long connect;
	unsigned long client;
	unsigned long server;
	unsigned long http_keep_alive;
};

/* neutron's [metadata_rate_limiting]; windows in seconds. */
struct rate_limit {
	bool enabled;
	int ip_version; /* 4 or 6 */
	unsigned long base_window;
	unsigned long base_limit;
	unsigned long burst_window;
	unsigned long burst_limit;
};

struct proxy_conf {
	enum flavor flavor;
	enum id_kind id_kind;
	char id[OPT_UUID_LEN + 1];
	char socket_path[PATH_MAX]; /* the agent's unix socket */
	char bind_address[OPT_ADDR_MAX];
	bool bind_v6; /* bind_address is an IPv6 literal */
	char bind_address_v6[OPT_ADDR_MAX]; /* "" when unset */
	char bind_interface[OPT_IFNAME_MAX + 1];
	unsigned int port;
	unsigned long max_conns_per_source; /* per client address; 0: no cap */
	unsigned long max_body_size;        /* request body bytes; 0: no cap */
	struct timeouts timeouts;
	struct rate_limit rate_limit;
};

#endif
