/*
 * The validated options of one invocation. Filled only by cli_parse(); every
 * string in here has passed its grammar in validate.h, so render.c and the
 * file code may use them as they are.
 */
#ifndef NMP_OPTIONS_H
#define NMP_OPTIONS_H

#include <limits.h>
#include <stdbool.h>

#define OPT_UUID_LEN 36
#define OPT_ADDR_MAX 46   /* INET6_ADDRSTRLEN */
#define OPT_IFNAME_MAX 15 /* IFNAMSIZ - 1 */
#define OPT_NETNS_MAX 255
#define OPT_NAME_MAX 32           /* user and group names */
#define OPT_SOCKET_MAX 107        /* sizeof(sun_path) - 1 */
#define OPT_HAPROXY_SOCKET_MAX 97 /* what haproxy 2.6 accepts */
#define OPT_FACILITY_MAX 16

enum command {
	CMD_RUN,
	CMD_RENDER,
	CMD_CHECK,
	CMD_STATUS,
	CMD_STOP,
	CMD_CLEANUP,
};

enum flavor {
	FLAVOR_NEUTRON,
	FLAVOR_OVN,
};

enum engine {
	ENGINE_HAPROXY,
	ENGINE_BUILTIN,
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

struct options {
	enum command command;
	enum flavor flavor;
	enum engine engine;
	enum id_kind id_kind;
	char id[OPT_UUID_LEN + 1];
	char socket_path[PATH_MAX];
	char bind_address[OPT_ADDR_MAX];
	bool bind_v6; /* bind_address is an IPv6 literal */
	char bind_address_v6[OPT_ADDR_MAX]; /* "" when unset */
	char bind_interface[OPT_IFNAME_MAX + 1];
	unsigned int port;
	char user[OPT_NAME_MAX + 1];  /* as given: name or number; "" = euid */
	char group[OPT_NAME_MAX + 1]; /* as given: name or number; "" = egid */
	char state_path[PATH_MAX];
	char pid_file[PATH_MAX]; /* "" = <state-path>/external/pids/<id>.pid */
	char netns[OPT_NETNS_MAX + 1];
	char haproxy_path[PATH_MAX]; /* "" = search the system directories */
	char log_file[PATH_MAX];
	char log_dir[PATH_MAX];
	char syslog_facility[OPT_FACILITY_MAX + 1];
	bool daemonize;
	bool debug;
	bool use_syslog;
	bool watch_log;             /* accepted for neutron; has no effect */
	unsigned long stop_timeout; /* seconds */
	unsigned long maxconn;      /* the built-in engine's connection limit */
	unsigned long max_conns_per_source; /* per client address; 0: no cap */
	unsigned long max_body_size;        /* request body bytes; 0: no cap */
	struct timeouts timeouts;
	struct rate_limit rate_limit;
};

#endif
