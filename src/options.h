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
};

struct options {
	enum command command;
	struct proxy_conf proxy;
	struct daemon_conf daemon;
};

#endif
