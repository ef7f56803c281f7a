/*
 * The defaults, once: the command line starts from them, the haproxy front
 * fills what a neutron config does not say from them, --help prints them,
 * the renderer and the engine fall back on them.
 */
#ifndef NMP_DEFAULTS_H
#define NMP_DEFAULTS_H

#include "daemon_conf.h"
#include "proxy_conf.h"

#define DEF_BIND_ADDRESS "0.0.0.0"
#define DEF_PORT 9697
#define DEF_STATE_PATH "/var/lib/neutron"
#define DEF_SYSLOG_FACILITY "LOG_USER"
#define DEF_STOP_TIMEOUT 5 /* seconds */
/* haproxy's maxconn, and the built-in engine's connection limit. */
#define DEF_MAXCONN 1024
#define DEF_MAXCONN_MAX 65535
#define DEF_MAX_CONNS_PER_SOURCE 64
#define DEF_MAX_CONNS_PER_SOURCE_MAX 65535
#define DEF_MAX_BODY_SIZE 65536
#define DEF_MAX_BODY_SIZE_MAX (1024UL * 1024 * 1024)
/* The fleet: connections one network may hold, and all of them. */
#define DEF_NETWORK_MAXCONN 256
#define DEF_FLEET_MAXCONN 8192
#define DEF_CONTROL_SOCKET "/run/ns-metadata-proxy/fleet.sock"
/*
 * Idle agent connections kept per agent socket, and for how long: each
 * holds one of the agent's green threads (neutron: 100 per worker, shared
 * by every proxy of the host), so few, and briefly.
 */
#define DEF_AGENT_IDLE_MAX 32
#define DEF_AGENT_IDLE_MAX_MAX 1024
/*
 * Connections open per agent socket, in use or idle, for every network
 * that names it. run: none (0), as haproxy on neutron's config; the fleet,
 * where every network of the node shares it: one worker's green threads
 * (oslo.service's wsgi_default_pool_size). Past it a request waits.
 */
#define DEF_AGENT_MAX 0
#define DEF_FLEET_AGENT_MAX 100
#define DEF_AGENT_MAX_MAX 65535
#define DEF_TIMEOUT_AGENT_IDLE 2000
/* neutron's values; haproxy would wait forever without them. In ms. */
#define DEF_TIMEOUT_HTTP_REQUEST 30000
#define DEF_TIMEOUT_CONNECT 30000
#define DEF_TIMEOUT_CLIENT 32000
#define DEF_TIMEOUT_SERVER 32000
#define DEF_TIMEOUT_HTTP_KEEP_ALIVE 30000
/* neutron's [metadata_rate_limiting]: off, IPv4, 10 a 10 s window. */
#define DEF_RATE_IP_VERSION 4
#define DEF_RATE_WINDOW 10
#define DEF_RATE_LIMIT 10
#define DEF_RATE_WINDOW_MAX 86400 /* a day */
#define DEF_RATE_LIMIT_MAX 1000000

/* A network with every default: neutron flavour, no id, no socket. */
void defaults_proxy(struct proxy_conf *p);

/* The haproxy timeouts of neutron's config. */
void defaults_timeouts(struct timeouts *t);

/* The rate limiter's windows and limits, disabled. */
void defaults_rate_limit(struct rate_limit *rl);

/* A process with every default: haproxy engine, in the foreground. */
void defaults_daemon(struct daemon_conf *d);

/* The connection limit maxconn asks for: DEF_MAXCONN when 0 or too many. */
unsigned int defaults_maxconn(unsigned long maxconn);

#endif
