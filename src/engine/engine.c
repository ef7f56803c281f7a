#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <malloc.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "engine/engine.h"
#include "engine/http.h"
#include "log.h"
#include "notify.h"
#include "render.h"
#include "strbuf.h"
#include "banned.h"

#define MAXCONN_DEFAULT 1024
#define MAX_LISTENERS 2
/* Past this much queued for the slower side, stop reading the faster. */
#define BACKLOG_BYTES (64 * 1024UL)
#define CLIENT_HEAD_MAX (16 * 1024UL)
#define RATE_SLOTS 16384 /* haproxy's table: size 10k */
/* Refusal lines: at most this many a second per client address, and all. */
#define LOGCAP_PER_SOURCE 10
#define LOGCAP_TOTAL 100
#define LOGCAP_SLOTS 256

/* The connections one client address holds (0: the slot is free). */
struct src_slot {
	unsigned char addr[16];
	unsigned int conns;
};

/* Refusal lines logged for an address this second, and the ones dropped. */
struct logcap_slot {
	unsigned char addr[16];
	time_t sec;
	unsigned int n;
	unsigned long dropped;
};

struct rate_slot {
	unsigned char addr[16];
	bool used;
	time_t base_start;
	time_t burst_start;
	unsigned long base_count;
	unsigned long burst_count;
};

struct engine_ctx {
	const struct options *o;
	struct event_base *base;
	struct evconnlistener *ls[MAX_LISTENERS];
	int nls;
	bool paused;         /* listeners disabled: maxconn or backoff */
	bool accept_backoff; /* accept() failed a moment ago */
	bool draining;
	unsigned int conns;
	unsigned int maxconn;
	struct event *sig_term, *sig_int, *sig_hup, *drain_timer;
	struct event *backoff_timer;
	struct event *trim_timer; /* gives freed memory back once idle */
	struct http_config hcfg;
	struct sockaddr_un agent;
	socklen_t agent_len;
	struct timeval t_request, t_connect, t_client, t_server, t_keepalive;
	struct rate_slot *rate;
	/* per client address: open connections, open addressing */
	struct src_slot *src;
	size_t src_mask;
	/* the rate of refusal lines */
	struct logcap_slot *logcap;
	time_t logcap_sec;
	unsigned int logcap_total;
	struct event *logcap_timer; /* reports the lines dropped */
};

struct conn {
	struct engine_ctx *e;
	struct bufferevent *client;
	struct bufferevent *agent;
	struct http_request *req;
	struct http_response *resp;
	struct event *timer; /* http-request and keep-alive timeouts */
	/* the whole request, held until it is complete (body cap set) */
	struct evbuffer *pending;
	char peer[OPT_ADDR_MAX];
	unsigned char peer_key[16];
	bool src_counted; /* counted in e->src */
	bool in_request;  /* bytes of a request head have arrived */
	bool forwarding;  /* a request went to the agent, its answer pending */
	bool req_done;    /* the whole request went to the agent */
	bool resp_head;   /* the response head went to the client */
	bool keep_alive;
	bool head_request;
	bool closing; /* flush, then free */
	/* the access log line */
	char method[16];
	char path[128];
	int status;
	const char *reason; /* why we answered status ourselves; static */
	size_t bytes;
	struct timeval start;
};

static void conn_free(struct conn *c);
static void client_read(struct bufferevent *bev, void *arg);
static void finish_response(struct conn *c);

static void
ms_to_tv(unsigned long ms, struct timeval *tv)
{
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)((ms % 1000) * 1000);
}

/* ---- rate limiting: neutron's base and burst windows per address ---- */

static uint32_t
addr_hash(const unsigned char *key)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

static size_t
rate_hash(const unsigned char *key)
{
	return addr_hash(key) % RATE_SLOTS;
}

/* Count this request; true when it is over a limit (then 429). */
static bool
rate_over(struct engine_ctx *e, const unsigned char *key)
{
	const struct rate_limit *rl = &e->o->rate_limit;
	time_t now = time(NULL);
	unsigned long horizon = rl->base_window > rl->burst_window
	                            ? rl->base_window
	                            : rl->burst_window;
	struct rate_slot *s = NULL;
	size_t i, h = rate_hash(key);

	for (i = 0; i < 64; i++) {
		struct rate_slot *t = &e->rate[(h + i) % RATE_SLOTS];
		bool stale = t->used &&
		             now - t->base_start >= (time_t)horizon &&
		             now - t->burst_start >= (time_t)horizon;

		if (t->used && memcmp(t->addr, key, 16) == 0) {
			s = t;
			break;
		}
		if (s == NULL && (!t->used || stale))
			s = t;
	}
	if (s == NULL)
		return false; /* full neighbourhood: like a full table */
	if (!s->used || memcmp(s->addr, key, 16) != 0) {
		memset(s, 0, sizeof(*s));
		memcpy(s->addr, key, 16);
		s->used = true;
		s->base_start = now;
		s->burst_start = now;
	}
	if (now - s->base_start >= (time_t)rl->base_window) {
		s->base_start = now;
		s->base_count = 0;
	}
	if (now - s->burst_start >= (time_t)rl->burst_window) {
		s->burst_start = now;
		s->burst_count = 0;
	}
	s->base_count++;
	s->burst_count++;
	return s->base_count > rl->base_limit ||
	       s->burst_count > rl->burst_limit;
}

/* ---- connections per client address ---- */

/*
 * Open addressing with linear probing over at least twice maxconn slots
 * (each address in the table holds a connection, so it is at most half
 * full); allocated on the first connection. Freed slots are closed up by
 * shifting back, so a lookup stops at the first free slot.
 */
static int
src_alloc(struct engine_ctx *e)
{
	size_t n = 16;

	while (n < 2 * (size_t)e->maxconn)
		n *= 2;
	e->src = calloc(n, sizeof(*e->src));
	if (e->src == NULL)
		return -ENOMEM;
	e->src_mask = n - 1;
	return 0;
}

static size_t
src_find(const struct engine_ctx *e, const unsigned char *key)
{
	size_t i = addr_hash(key) & e->src_mask;

	while (e->src[i].conns > 0 && memcmp(e->src[i].addr, key, 16) != 0)
		i = (i + 1) & e->src_mask;
	return i;
}

/*
 * Count a connection of the address; false (not counted) when it holds
 * the most it may already, or when the table cannot be had.
 */
static bool
src_take(struct engine_ctx *e, const unsigned char *key)
{
	size_t i;

	if (e->src == NULL && src_alloc(e) < 0)
		return false;
	i = src_find(e, key);
	if (e->src[i].conns >= e->o->max_conns_per_source)
		return false;
	if (e->src[i].conns == 0)
		memcpy(e->src[i].addr, key, 16);
	e->src[i].conns++;
	return true;
}

static void
src_put(struct engine_ctx *e, const unsigned char *key)
{
	size_t i = src_find(e, key), j = i, home;

	if (e->src[i].conns == 0 || --e->src[i].conns > 0)
		return;
	/* Close the gap: move back each entry the hole cuts from its home. */
	for (;;) {
		j = (j + 1) & e->src_mask;
		if (e->src[j].conns == 0)
			break;
		home = addr_hash(e->src[j].addr) & e->src_mask;
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		e->src[i] = e->src[j];
		e->src[j].conns = 0;
		i = j;
	}
}

/* ---- refusal lines: a hostile client must not flood the log ---- */

static void
key_text(const unsigned char *key, char *out, size_t outsz)
{
	static const unsigned char mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const char *r;

	if (memcmp(key, mapped, sizeof(mapped)) == 0)
		r = inet_ntop(AF_INET, key + 12, out, (socklen_t)outsz);
	else
		r = inet_ntop(AF_INET6, key, out, (socklen_t)outsz);
	if (r == NULL && outsz > 0)
		out[0] = '\0';
}

static void
logcap_report(struct logcap_slot *s)
{
	char addr[OPT_ADDR_MAX];

	if (s->dropped == 0)
		return;
	key_text(s->addr, addr, sizeof(addr));
	log_info("%s: %lu more refusals not logged (at most %d lines a "
	         "second per address, %d in all)",
	    addr, s->dropped, LOGCAP_PER_SOURCE, LOGCAP_TOTAL);
	s->dropped = 0;
}

static void
logcap_flush(evutil_socket_t fd, short what, void *arg)
{
	struct engine_ctx *e = arg;
	size_t i;

	(void)fd;
	(void)what;
	for (i = 0; e->logcap != NULL && i < LOGCAP_SLOTS; i++)
		logcap_report(&e->logcap[i]);
}

/*
 * Whether a refusal line for this address may be logged now; if not, it
 * is counted and the count reported a second later.
 */
static bool
logcap_allow(struct engine_ctx *e, const unsigned char *key)
{
	struct timeval later = {1, 0};
	struct logcap_slot *s;
	time_t now = time(NULL);

	if (e->logcap == NULL) {
		e->logcap = calloc(LOGCAP_SLOTS, sizeof(*e->logcap));
		if (e->logcap == NULL)
			return true;
	}
	s = &e->logcap[addr_hash(key) % LOGCAP_SLOTS];
	if (memcmp(s->addr, key, 16) != 0) {
		logcap_report(s); /* another address had the slot */
		memcpy(s->addr, key, 16);
		s->n = 0;
		s->sec = now;
	}
	if (s->sec != now) {
		s->sec = now;
		s->n = 0;
	}
	if (e->logcap_sec != now) {
		e->logcap_sec = now;
		e->logcap_total = 0;
	}
	if (s->n < LOGCAP_PER_SOURCE && e->logcap_total < LOGCAP_TOTAL) {
		s->n++;
		e->logcap_total++;
		return true;
	}
	s->dropped++;
	if (!evtimer_pending(e->logcap_timer, NULL))
		evtimer_add(e->logcap_timer, &later);
	return false;
}

/* A reason of http.h ("body too large") as a log token (body-too-large). */
static void
reason_token(const char *reason, char *out, size_t outsz)
{
	char *p;

	if (snprintf(out, outsz, "%s", reason) < 0)
		out[0] = '\0';
	for (p = strchr(out, ' '); p != NULL; p = strchr(p, ' '))
		*p = '-';
}

/* ---- connections ---- */

static void
maybe_resume(struct engine_ctx *e)
{
	int i;

	if (e->paused && !e->draining && !e->accept_backoff &&
	    e->conns < e->maxconn) {
		for (i = 0; i < e->nls; i++)
			evconnlistener_enable(e->ls[i]);
		e->paused = false;
	}
}

/*
 * One line per request: client, request line, status, bytes sent, time;
 * an answer of ours adds reason=, and such lines are rate capped.
 */
static void
access_log(struct conn *c)
{
	struct timeval now, d;
	char reason[64];
	long ms;

	if (c->method[0] == '\0' && c->reason == NULL)
		return;
	gettimeofday(&now, NULL);
	if (c->start.tv_sec == 0)
		c->start = now;
	timersub(&now, &c->start, &d);
	ms = (long)(d.tv_sec * 1000 + d.tv_usec / 1000);
	if (c->reason == NULL) {
		log_info("%s \"%s %s\" %d %zu %ldms", c->peer, c->method,
		    c->path, c->status, c->bytes, ms);
	} else if (logcap_allow(c->e, c->peer_key)) {
		reason_token(c->reason, reason, sizeof(reason));
		log_info("%s \"%s %s\" %d %zu %ldms reason=%s", c->peer,
		    c->method[0] != '\0' ? c->method : "-",
		    c->path[0] != '\0' ? c->path : "-", c->status, c->bytes, ms,
		    reason);
	}
	c->method[0] = '\0';
	c->reason = NULL;
}

static void
drop_agent(struct conn *c)
{
	if (c->agent != NULL)
		bufferevent_free(c->agent);
	c->agent = NULL;
	http_response_free(c->resp);
	c->resp = NULL;
}

static void
conn_free(struct conn *c)
{
	struct engine_ctx *e = c->e;

	access_log(c);
	drop_agent(c);
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->client != NULL)
		bufferevent_free(c->client);
	http_request_free(c->req);
	if (c->pending != NULL)
		evbuffer_free(c->pending);
	if (c->src_counted)
		src_put(e, c->peer_key);
	free(c);
	e->conns--;
	maybe_resume(e);
	if (e->conns == 0 && !evtimer_pending(e->trim_timer, NULL)) {
		struct timeval later = {1, 0};

		evtimer_add(e->trim_timer, &later);
	}
	if (e->draining && e->conns == 0)
		event_base_loopbreak(e->base);
}

static void
client_flushed(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_free(c);
}

/* Send what is queued, then close. */
static void
conn_close(struct conn *c)
{
	c->closing = true;
	drop_agent(c);
	if (c->timer != NULL)
		event_del(c->timer);
	bufferevent_disable(c->client, EV_READ);
	bufferevent_setcb(c->client, NULL, client_flushed, NULL, c);
	client_flushed(c->client, c);
}

/* Answer with an error of ours and close; reason goes to the log. */
static void
conn_fail(struct conn *c, int status, const char *reason)
{
	struct strbuf sb = STRBUF_INIT;

	c->reason = reason;
	if (c->resp_head) {
		/* The client has a head already: only closing is honest. */
		conn_free(c);
		return;
	}
	c->status = status;
	if (http_error_response(status, true, &sb) == 0) {
		c->bytes += sb.len;
		bufferevent_write(c->client, sb.buf, sb.len);
	}
	strbuf_release(&sb);
	conn_close(c);
}

static void
agent_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct http_out out;
	enum http_event ev;
	size_t len, used;
	const char *data;

	while ((len = evbuffer_get_length(in)) > 0 && c->resp != NULL) {
		data = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
		memset(&out, 0, sizeof(out));
		used = 0;
		ev = http_response_feed(c->resp, data, len, &used, &out);
		switch (ev) {
		case HTTP_HEADERS:
			c->resp_head = true;
			c->status = out.status;
			c->keep_alive = c->keep_alive && out.keep_alive;
			c->bytes += out.head.len;
			bufferevent_write(
			    c->client, out.head.buf, out.head.len);
			break;
		case HTTP_BODY:
		case HTTP_DONE:
			c->bytes += out.len;
			bufferevent_write(c->client, out.data, out.len);
			break;
		case HTTP_ERROR:
			evbuffer_drain(in, used);
			conn_fail(c, 502, out.reason);
			return;
		case HTTP_NEED_MORE:
			break;
		}
		evbuffer_drain(in, used);
		if (ev == HTTP_DONE) {
			finish_response(c);
			return;
		}
		if (ev == HTTP_NEED_MORE)
			break;
	}
	/* Back-pressure: a slow client slows the agent, not our memory. */
	if (c->agent != NULL && evbuffer_get_length(bufferevent_get_output(
	                            c->client)) > BACKLOG_BYTES)
		bufferevent_disable(c->agent, EV_READ);
}

/* Arm the connection timer: http-request while a head is awaited. */
static void
arm_timer(struct conn *c, const struct timeval *tv)
{
	event_del(c->timer);
	event_add(c->timer, tv);
}

static void
finish_response(struct conn *c)
{
	struct engine_ctx *e = c->e;

	drop_agent(c);
	access_log(c);
	c->forwarding = false;
	c->req_done = false;
	c->resp_head = false;
	c->in_request = false;
	if (!c->keep_alive || e->draining) {
		conn_close(c);
		return;
	}
	/* Keep-alive: wait for the next request, maybe already buffered. */
	bufferevent_set_timeouts(c->client, &e->t_client, &e->t_client);
	arm_timer(c, &e->t_keepalive);
	bufferevent_enable(c->client, EV_READ);
	client_read(c->client, c);
}

static void
agent_written(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	/* The agent took what was queued: read the client again. */
	if (!c->closing && !c->req_done)
		bufferevent_enable(c->client, EV_READ);
}

static void
agent_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	struct http_out out;
	struct engine_ctx *e = c->e;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		bufferevent_set_timeouts(c->agent, &e->t_server, &e->t_server);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		memset(&out, 0, sizeof(out));
		if (c->resp != NULL &&
		    http_response_eof(c->resp, &out) == HTTP_DONE) {
			finish_response(c);
			return;
		}
		conn_fail(c, 502,
		    out.reason != NULL ? out.reason : "agent closed early");
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		conn_fail(c, 504, "agent timeout");
		return;
	}
	/* Refused, missing socket, reset: the agent is not there. */
	if (c->resp_head)
		conn_fail(c, 502, "agent connection lost");
	else
		conn_fail(c, 503, "agent unavailable");
}

/*
 * Request bytes the agent takes are activity on its side: timeout server is
 * the agent's inactivity in either direction, as in haproxy, so an agent
 * still reading a long body is not cut for not having answered yet.
 */
static void
agent_drained(
    struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;

	(void)buf;
	if (info->n_deleted > 0 && c->agent != NULL)
		bufferevent_set_timeouts(
		    c->agent, &c->e->t_server, &c->e->t_server);
}

static int
open_agent(struct conn *c)
{
	struct engine_ctx *e = c->e;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	c->agent = bufferevent_socket_new(e->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->agent == NULL) {
		(void)close(fd);
		return -ENOMEM;
	}
	c->resp = http_response_new(c->head_request, c->keep_alive);
	if (c->resp == NULL)
		return -ENOMEM;
	bufferevent_setcb(c->agent, agent_read, agent_written, agent_event, c);
	if (evbuffer_add_cb(
	        bufferevent_get_output(c->agent), agent_drained, c) == NULL)
		return -ENOMEM;
	bufferevent_set_timeouts(c->agent, &e->t_server, &e->t_connect);
	bufferevent_setwatermark(c->agent, EV_WRITE, BACKLOG_BYTES / 2, 0);
	bufferevent_enable(c->agent, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(
	        c->agent, (struct sockaddr *)&e->agent, (int)e->agent_len) < 0)
		return -ECONNREFUSED;
	return 0;
}

/* Client-sent identity headers removed: at debug, rate capped. */
static void
log_removed(struct conn *c, const struct http_out *out)
{
	const char *name;
	size_t i;

	if (!c->e->o->debug)
		return;
	for (i = 0; i < out->removed_len; i += strlen(name) + 1) {
		name = out->removed + i;
		if (!logcap_allow(c->e, c->peer_key))
			return;
		log_debug("%s \"%s %s\" reason=spoofed-header-removed:%.64s",
		    c->peer, c->method, c->path, name);
	}
}

/* Open the agent connection and send the request so far on. */
static int
forward(struct conn *c, const char *data, size_t len)
{
	struct engine_ctx *e = c->e;

	if (open_agent(c) < 0) {
		conn_fail(c, 503, "agent unavailable");
		return -1;
	}
	c->forwarding = true;
	/*
	 * While the agent answers, the client owes us nothing: only a client
	 * that stops reading what we send is cut (timeout client, as write).
	 */
	bufferevent_set_timeouts(c->client, NULL, &e->t_client);
	if (c->pending != NULL) {
		bufferevent_write_buffer(c->agent, c->pending);
		evbuffer_free(c->pending);
		c->pending = NULL;
	} else {
		bufferevent_write(c->agent, data, len);
	}
	return 0;
}

/*
 * A head arrived. With a body cap the request is held until it is whole
 * (the cap bounds it), so a client that sends slowly never holds an agent
 * connection; without one it streams on at once.
 */
static void
start_request(struct conn *c, struct http_out *out)
{
	struct engine_ctx *e = c->e;

	gettimeofday(&c->start, NULL);
	memcpy(c->method, out->method, sizeof(c->method));
	memcpy(c->path, out->path, sizeof(c->path));
	c->status = 0;
	c->bytes = 0;
	c->keep_alive = out->keep_alive;
	c->head_request = strcmp(out->method, "HEAD") == 0;
	log_removed(c, out);
	if (e->o->rate_limit.enabled && rate_over(e, c->peer_key)) {
		conn_fail(c, 429, "rate limited");
		return;
	}
	if (e->o->max_body_size == 0) {
		(void)forward(c, out->head.buf, out->head.len);
		return;
	}
	c->pending = evbuffer_new();
	if (c->pending == NULL ||
	    evbuffer_add(c->pending, out->head.buf, out->head.len) < 0)
		conn_fail(c, 503, "out of memory");
}

/* Body bytes, and the end of the request: on to the agent, or held. */
static void
request_bytes(struct conn *c, const struct http_out *out, bool done)
{
	if (out->len > 0) {
		if (c->agent != NULL)
			bufferevent_write(c->agent, out->data, out->len);
		else if (c->pending != NULL &&
		         evbuffer_add(c->pending, out->data, out->len) < 0) {
			conn_fail(c, 503, "out of memory");
			return;
		}
	}
	if (!done)
		return;
	/* The whole request is in: the http-request deadline is met. */
	c->req_done = true;
	event_del(c->timer);
	if (c->pending != NULL)
		(void)forward(c, NULL, 0);
}

static void
client_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct http_out out;
	enum http_event ev;
	size_t len, used;
	const char *data;

	while (!c->closing && (len = evbuffer_get_length(in)) > 0) {
		if (c->req_done) {
			/* Pipelined: the next request waits for this answer. */
			bufferevent_disable(bev, EV_READ);
			return;
		}
		if (!c->in_request && !c->forwarding) {
			c->in_request = true;
			arm_timer(c, &c->e->t_request);
		}
		data = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
		memset(&out, 0, sizeof(out));
		used = 0;
		ev = http_request_feed(c->req, data, len, &used, &out);
		switch (ev) {
		case HTTP_HEADERS:
			start_request(c, &out);
			break;
		case HTTP_BODY:
		case HTTP_DONE:
			request_bytes(c, &out, ev == HTTP_DONE);
			break;
		case HTTP_ERROR:
			evbuffer_drain(in, used);
			if (!c->forwarding && out.method[0] != '\0') {
				/* The log line names what was refused. */
				memcpy(
				    c->method, out.method, sizeof(c->method));
				memcpy(c->path, out.path, sizeof(c->path));
			}
			conn_fail(c, out.status, out.reason);
			return;
		case HTTP_NEED_MORE:
			break;
		}
		evbuffer_drain(in, used);
		if (c->closing || ev == HTTP_NEED_MORE)
			return;
		if (c->agent != NULL &&
		    evbuffer_get_length(bufferevent_get_output(c->agent)) >
		        BACKLOG_BYTES) {
			bufferevent_disable(bev, EV_READ);
			return;
		}
	}
}

static void
client_written(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	/* The client took what was queued: read the agent again. */
	if (c->agent != NULL)
		bufferevent_enable(c->agent, EV_READ);
}

static void
client_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if ((what & BEV_EVENT_EOF) && c->forwarding && c->req_done) {
		/* Half-closed after a whole request: the answer still goes. */
		c->keep_alive = false;
		bufferevent_disable(c->client, EV_READ);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && c->in_request && !c->forwarding) {
		conn_fail(c, 408, "client idle");
		return;
	}
	conn_free(c);
}

/*
 * http-request (the request, head and body, not in yet: 408) or keep-alive
 * (idle: close).
 */
static void
conn_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (c->closing)
		return;
	if (c->in_request && !c->req_done) {
		conn_fail(c, 408, "request timeout");
		return;
	}
	if (c->forwarding)
		return;
	conn_free(c);
}

/* The client's address as a key (IPv4 as its mapped IPv6 address). */
static void
peer_key(const struct sockaddr *sa, unsigned char *key)
{
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

	memset(key, 0, 16);
	if (sa->sa_family == AF_INET6) {
		memcpy(key, &in6->sin6_addr, 16);
		return;
	}
	key[10] = 0xff;
	key[11] = 0xff;
	memcpy(key + 12, &in4->sin_addr, 4);
}

/*
 * An address over --max-conns-per-source: closed at once, unanswered, as
 * haproxy's tcp-request connection reject does.
 */
static void
refuse_conn(struct engine_ctx *e, evutil_socket_t fd, const unsigned char *key)
{
	char addr[OPT_ADDR_MAX];

	(void)close(fd);
	if (!logcap_allow(e, key))
		return;
	key_text(key, addr, sizeof(addr));
	log_info("%s \"- -\" - 0 0ms reason=too-many-connections (%lu "
	         "open from this address)",
	    addr, e->o->max_conns_per_source);
}

static void
accept_conn(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct engine_ctx *e = arg;
	struct conn *c;
	int i;

	unsigned char key[16];
	bool counted = false;

	(void)l;
	(void)salen;
	peer_key(sa, key);
	if (e->o->max_conns_per_source > 0) {
		counted = src_take(e, key);
		if (!counted) {
			refuse_conn(e, fd, key);
			return;
		}
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		if (counted)
			src_put(e, key);
		(void)close(fd);
		return;
	}
	c->e = e;
	e->conns++;
	memcpy(c->peer_key, key, sizeof(key));
	c->src_counted = counted;
	key_text(key, c->peer, sizeof(c->peer));
	c->req = http_request_new(&e->hcfg, c->peer);
	c->client = bufferevent_socket_new(e->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(e->base, conn_timer, c);
	if (c->req == NULL || c->client == NULL || c->timer == NULL) {
		if (c->client == NULL)
			(void)close(fd);
		conn_free(c);
		return;
	}
	bufferevent_setcb(
	    c->client, client_read, client_written, client_event, c);
	bufferevent_set_timeouts(c->client, &e->t_client, &e->t_client);
	bufferevent_setwatermark(c->client, EV_WRITE, BACKLOG_BYTES / 2, 0);
	bufferevent_enable(c->client, EV_READ | EV_WRITE);
	arm_timer(c, &e->t_request);
	if (e->conns >= e->maxconn) {
		/* Further connections wait in the kernel's backlog. */
		for (i = 0; i < e->nls; i++)
			evconnlistener_disable(e->ls[i]);
		e->paused = true;
	}
}

/* ---- listeners, signals, the loop ---- */

/*
 * Each connection takes two descriptors (client and agent): make room for
 * maxconn of them, as haproxy does, up to the hard limit.
 */
static void
raise_fd_limit(unsigned int maxconn)
{
	struct rlimit rl;
	rlim_t want = 2 * (rlim_t)maxconn + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want
	                  ? want
	                  : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < want)
		log_warn("only %lu descriptors: fewer than %u connections "
		         "can be served at once",
		    (unsigned long)rl.rlim_cur, maxconn);
}

/*
 * A second after the last connection went: the heap a load left behind
 * goes back to the system, so an idle proxy stays small.
 */
static void
trim_memory(evutil_socket_t fd, short what, void *arg)
{
	struct engine_ctx *e = arg;

	(void)fd;
	(void)what;
	if (e->conns == 0)
		(void)malloc_trim(0);
}

static void
resume_accepting(evutil_socket_t fd, short what, void *arg)
{
	struct engine_ctx *e = arg;

	(void)fd;
	(void)what;
	e->accept_backoff = false;
	maybe_resume(e);
}

/*
 * accept() failed (out of descriptors, most likely): stop accepting for a
 * moment instead of spinning; the connections wait in the backlog.
 */
static void
accept_error(struct evconnlistener *l, void *arg)
{
	struct engine_ctx *e = arg;
	struct timeval pause = {0, 100000};
	int err = EVUTIL_SOCKET_ERROR(), i;

	(void)l;
	if (!e->accept_backoff)
		log_warn(
		    "cannot accept: %s; pausing for 100 ms", strerror(err));
	e->accept_backoff = true;
	for (i = 0; i < e->nls; i++)
		evconnlistener_disable(e->ls[i]);
	e->paused = true;
	event_add(e->backoff_timer, &pause);
}

/* Serve a listening socket the caller bound; ours from now on. */
static int
adopt_listener(struct engine_ctx *e, int fd)
{
	/* backlog 0: libevent leaves the caller's listen() as it is. */
	e->ls[e->nls] = evconnlistener_new(e->base, accept_conn, e,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (e->ls[e->nls] == NULL) {
		(void)close(fd);
		return -ENOMEM;
	}
	evconnlistener_set_error_cb(e->ls[e->nls], accept_error);
	e->nls++;
	return 0;
}

static void
on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct engine_ctx *e = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(e->base);
}

static void
on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct engine_ctx *e = arg;
	int i;

	(void)what;
	if (e->draining)
		return;
	log_info(
	    "signal %d: no new connections, finishing %u", (int)sig, e->conns);
	notify_stopping();
	e->draining = true;
	for (i = 0; i < e->nls; i++) {
		evconnlistener_free(e->ls[i]);
		e->ls[i] = NULL;
	}
	e->nls = 0;
	if (e->conns == 0) {
		event_base_loopbreak(e->base);
		return;
	}
	event_add(e->drain_timer, &e->t_client);
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	if (log_reopen() < 0)
		log_warn("cannot reopen the log file: %s", strerror(errno));
}

/* libevent's own messages go through our log, at debug. */
static void
event_log(int severity, const char *msg)
{
	(void)severity;
	log_debug("libevent: %s", msg);
}

struct engine_ctx *
engine_new(const struct options *o, const int *fds, int nfds, int *err,
    const char **what)
{
	struct engine_ctx *e;
	int i = 0, r;

	e = calloc(1, sizeof(*e));
	if (e == NULL || nfds > MAX_LISTENERS) {
		*err = e == NULL ? -ENOMEM : -EINVAL;
		*what = "allocating the engine";
		free(e);
		for (; i < nfds; i++)
			(void)close(fds[i]);
		return NULL;
	}
	e->o = o;
	/* haproxy's maxconn, 1024 unless the options say otherwise. */
	e->maxconn = o->maxconn > 0 && o->maxconn <= 65535
	                 ? (unsigned int)o->maxconn
	                 : MAXCONN_DEFAULT;
	e->hcfg.id_header = render_id_header(o);
	e->hcfg.id = o->id;
	e->hcfg.client_head_max = CLIENT_HEAD_MAX;
	e->hcfg.agent_head_max = RENDER_AGENT_READ;
	e->hcfg.max_body = o->max_body_size;
	ms_to_tv(o->timeouts.http_request, &e->t_request);
	ms_to_tv(o->timeouts.connect, &e->t_connect);
	ms_to_tv(o->timeouts.client, &e->t_client);
	ms_to_tv(o->timeouts.server, &e->t_server);
	ms_to_tv(o->timeouts.http_keep_alive, &e->t_keepalive);
	e->agent.sun_family = AF_UNIX;
	if (strlen(o->socket_path) >= sizeof(e->agent.sun_path)) {
		r = -ENAMETOOLONG;
		*what = "the agent socket path";
		goto fail;
	}
	memcpy(e->agent.sun_path, o->socket_path, strlen(o->socket_path) + 1);
	e->agent_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	                           strlen(o->socket_path) + 1);
	if (o->rate_limit.enabled) {
		e->rate = calloc(RATE_SLOTS, sizeof(*e->rate));
		if (e->rate == NULL) {
			r = -ENOMEM;
			*what = "allocating the rate table";
			goto fail;
		}
	}
	event_set_log_callback(event_log);
	e->base = event_base_new();
	if (e->base == NULL) {
		r = -ENOMEM;
		*what = "creating the event loop";
		goto fail;
	}
	raise_fd_limit(e->maxconn);
	e->backoff_timer = evtimer_new(e->base, resume_accepting, e);
	e->trim_timer = evtimer_new(e->base, trim_memory, e);
	e->logcap_timer = evtimer_new(e->base, logcap_flush, e);
	if (e->backoff_timer == NULL || e->trim_timer == NULL ||
	    e->logcap_timer == NULL) {
		r = -ENOMEM;
		*what = "creating the event loop";
		goto fail;
	}
	*what = "serving the listeners";
	for (; i < nfds; i++) {
		r = adopt_listener(e, fds[i]);
		if (r < 0) {
			i++; /* that one is closed already */
			goto fail;
		}
	}
	*what = "setting up signals";
	e->sig_term = evsignal_new(e->base, SIGTERM, on_stop, e);
	e->sig_int = evsignal_new(e->base, SIGINT, on_stop, e);
	e->sig_hup = evsignal_new(e->base, SIGHUP, on_hup, e);
	e->drain_timer = evtimer_new(e->base, on_drain_timeout, e);
	if (e->sig_term == NULL || e->sig_int == NULL || e->sig_hup == NULL ||
	    e->drain_timer == NULL || event_add(e->sig_term, NULL) < 0 ||
	    event_add(e->sig_int, NULL) < 0 ||
	    event_add(e->sig_hup, NULL) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	return e;
fail:
	/* The listeners not handed to libevent yet are still ours to close. */
	for (; i < nfds; i++)
		(void)close(fds[i]);
	*err = r;
	engine_free(e);
	return NULL;
}

int
engine_drop_privileges(uid_t uid, gid_t gid)
{
	if (geteuid() != 0)
		return 0;
	if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
		return -errno;
	/* Make sure it took: root must not come back. */
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		return -EPERM;
	return 0;
}

int
engine_run(struct engine_ctx *e)
{
	(void)signal(SIGPIPE, SIG_IGN);
	if (event_base_dispatch(e->base) < 0)
		return -EIO;
	return 0;
}

void
engine_free(struct engine_ctx *e)
{
	int i;

	if (e == NULL)
		return;
	for (i = 0; i < e->nls; i++)
		if (e->ls[i] != NULL)
			evconnlistener_free(e->ls[i]);
	if (e->sig_term != NULL)
		event_free(e->sig_term);
	if (e->sig_int != NULL)
		event_free(e->sig_int);
	if (e->sig_hup != NULL)
		event_free(e->sig_hup);
	if (e->drain_timer != NULL)
		event_free(e->drain_timer);
	if (e->backoff_timer != NULL)
		event_free(e->backoff_timer);
	if (e->trim_timer != NULL)
		event_free(e->trim_timer);
	if (e->logcap_timer != NULL)
		event_free(e->logcap_timer);
	if (e->base != NULL)
		event_base_free(e->base);
	free(e->rate);
	free(e->src);
	free(e->logcap);
	free(e);
}
