/*
 * What one invocation asked for: the command, the network it names and
 * the process settings. Filled only by cli_parse() (and, for the haproxy
 * front, from a neutron config); the parts go their own ways from here.
 */
#ifndef NMP_OPTIONS_H
#define NMP_OPTIONS_H

#include "daemon_conf.h"
#include "proxy_conf.h"

enum command {
	CMD_RUN,
	CMD_RENDER,
	CMD_CHECK,
	CMD_STATUS,
	CMD_STOP,
	CMD_CLEANUP,
	CMD_FLEET,
	CMD_STATUS_ALL, /* status --all: every proxy of the node */
};

/* The word after "fleet". */
enum fleet_command {
	FLEET_CMD_SERVE,
	FLEET_CMD_ADD,
	FLEET_CMD_DEL,
	FLEET_CMD_LIST,
	FLEET_CMD_SHOW,
	FLEET_CMD_METRICS,
	FLEET_CMD_HEALTH,
};

/* What only the fleet commands take. */
struct fleet_opts {
	enum fleet_command cmd;
	char id[OPT_UUID_LEN + 1]; /* del, show */
	char control_socket[PATH_MAX];
	char control_group[OPT_NAME_MAX + 1]; /* serve; "" = the daemon's */
	char batch[PATH_MAX]; /* add: "" or the file of networks, "-": stdin */
	/* serve --metrics-listen: family 0 when not given */
	int metrics_family;
	char metrics_addr[OPT_ADDR_MAX];
	unsigned int metrics_port;
};

struct options {
	enum command command;
	struct proxy_conf proxy;
	struct daemon_conf daemon;
	struct fleet_opts fleet; /* status --all: its control_socket too */
	bool json;               /* status --all --json */
};

#endif
