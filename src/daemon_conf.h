/*
 * The process that serves: where its files go, whom it runs as, how it
 * logs, which namespace it enters, which engine it runs. Nothing of the
 * network it serves (proxy_conf.h). Strings have passed validate.h.
 */
#ifndef NMP_DAEMON_CONF_H
#define NMP_DAEMON_CONF_H

#include <limits.h>
#include <stdbool.h>

#define OPT_NETNS_MAX 255
#define OPT_NAME_MAX 32 /* user and group names */
#define OPT_FACILITY_MAX 16

enum engine_kind {
	ENGINE_HAPROXY,
	ENGINE_BUILTIN,
};

struct daemon_conf {
	enum engine_kind engine;
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
	bool watch_log; /* accepted for neutron; has no effect */
	bool log_json;  /* built-in: access lines as JSON, not httplog */
	unsigned long stop_timeout; /* seconds */
	unsigned long maxconn;      /* the built-in engine's connection limit */
	/* built-in engine: idle agent connections per agent socket (0: none) */
	unsigned long agent_idle_max;
	unsigned long agent_idle_timeout; /* ms an idle one is kept */
	/* built-in engine: connections open per agent socket, in use or
	 * idle, 0: no cap; past it requests wait (for timeout connect) */
	unsigned long agent_max;
	/* built-in engine: connections one network may hold (0: no cap of
	 * its own); the fleet's isolation between networks */
	unsigned long network_maxconn;
	bool fleet; /* one engine, many networks (fleet serve) */
	/* the haproxy front: a stop that may not remove the pidfile leaves
	 * the pid in it, as haproxy does (neutron reads it while it waits
	 * for the end, and calls an empty one an error) */
	bool keep_pid_at_stop;
};

#endif
