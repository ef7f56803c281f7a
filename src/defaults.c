#include <stdio.h>
#include <string.h>

#include "defaults.h"
#include "banned.h"

void
defaults_timeouts(struct timeouts *t)
{
	t->http_request = DEF_TIMEOUT_HTTP_REQUEST;
	t->connect = DEF_TIMEOUT_CONNECT;
	t->client = DEF_TIMEOUT_CLIENT;
	t->server = DEF_TIMEOUT_SERVER;
	t->http_keep_alive = DEF_TIMEOUT_HTTP_KEEP_ALIVE;
}

void
defaults_rate_limit(struct rate_limit *rl)
{
	memset(rl, 0, sizeof(*rl));
	rl->ip_version = DEF_RATE_IP_VERSION;
	rl->base_window = DEF_RATE_WINDOW;
	rl->base_limit = DEF_RATE_LIMIT;
	rl->burst_window = DEF_RATE_WINDOW;
	rl->burst_limit = DEF_RATE_LIMIT;
}

void
defaults_proxy(struct proxy_conf *p)
{
	memset(p, 0, sizeof(*p));
	p->flavor = FLAVOR_NEUTRON;
	p->id_kind = ID_NETWORK;
	(void)snprintf(
	    p->bind_address, sizeof(p->bind_address), "%s", DEF_BIND_ADDRESS);
	p->port = DEF_PORT;
	p->max_conns_per_source = DEF_MAX_CONNS_PER_SOURCE;
	p->max_body_size = DEF_MAX_BODY_SIZE;
	defaults_timeouts(&p->timeouts);
	defaults_rate_limit(&p->rate_limit);
}

void
defaults_daemon(struct daemon_conf *d)
{
	memset(d, 0, sizeof(*d));
	d->engine = ENGINE_HAPROXY;
	(void)snprintf(
	    d->state_path, sizeof(d->state_path), "%s", DEF_STATE_PATH);
	(void)snprintf(d->syslog_facility, sizeof(d->syslog_facility), "%s",
	    DEF_SYSLOG_FACILITY);
	d->stop_timeout = DEF_STOP_TIMEOUT;
	d->maxconn = DEF_MAXCONN;
	d->agent_idle_max = DEF_AGENT_IDLE_MAX;
	d->agent_max = DEF_AGENT_MAX;
	d->agent_idle_timeout = DEF_TIMEOUT_AGENT_IDLE;
}

unsigned int
defaults_maxconn(unsigned long maxconn)
{
	return maxconn > 0 && maxconn <= DEF_MAXCONN_MAX ? (unsigned int)maxconn
	                                                 : DEF_MAXCONN;
}
