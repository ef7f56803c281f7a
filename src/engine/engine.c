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

#include "engine/addrkey.h"
#include "engine/engine.h"
#include "engine/http.h"
#include "engine/ratelimit.h"
#include "engine/srccount.h"
#include "defaults.h"
#include "log.h"
#include "metadata.h"
#include "notify.h"
#include "strbuf.h"
#include "banned.h"

/* Past this much queued for the slower side, stop reading the faster. */
#define BACKLOG_BYTES (64 * 1024UL)
#define CLIENT_HEAD_MAX (16 * 1024UL)
/* Refusal lines: at most this many a second per client address, and all. */
#define LOGCAP_PER_SOURCE 10
#define LOGCAP_TOTAL 100
#define LOGCAP_SLOTS 256

/* Refusal lines logged for an address this second, and the ones dropped. */
struct logcap_slot {
	unsigned char addr[ADDRKEY_LEN];
	time_t sec;
	unsigned int n;
	unsigned long dropped;
};

/* The process: the loop, signals, the global limit, accept backoff. */
struct engine {
	struct event_base *base;
	struct frontend *frontends; /* a list, newest first */
	bool debug;
	bool paused;         /* listeners disabled: maxconn or backoff */
	bool accept_backoff; /* accept() failed a moment ago */
	bool draining;
	unsigned int conns;
	unsigned int maxconn;
	struct timeval t_drain; /* the longest client timeout of any network */
	struct event *sig_term, *sig_int, *sig_hup, *drain_timer;
	struct event *backoff_timer;
	struct event *trim_timer; /* gives freed memory back once idle */
	/* the rate of refusal lines, over all networks */
	struct logcap_slot *logcap;
	time_t logcap_sec;
	unsigned int logcap_total;
	struct event *logcap_timer; /* reports the lines dropped */
};

/*
 * One network or router: its listeners, who it is to the agent, where the
 * agent is, its timeouts and limits, its per-address tables. What it keeps
 * of its proxy_conf is copied in.
 */
struct frontend {
	struct engine *e;
	struct frontend *next;
	struct evconnlistener *ls[ENGINE_LISTENERS_MAX];
	int nls;
	char id[OPT_UUID_LEN + 1];
	struct http_config hcfg; /* points into this frontend */
	struct sockaddr_un agent;
	socklen_t agent_len;
	struct timeval t_request, t_connect, t_client, t_server, t_keepalive;
	struct ratelimit rate; /* its conf says whether it is on */
	struct srccount src;   /* per client address; cap 0: none */
};

struct conn {
	struct engine *e;
	struct frontend *f;
	struct bufferevent *client;
	struct bufferevent *agent;
	struct http_request *req;
	struct http_response *resp;
	struct event *timer; /* http-request and keep-alive timeouts */
	/* the whole request, held until it is complete (body cap set) */
	struct evbuffer *pending;
	char peer[OPT_ADDR_MAX];
	unsigned char peer_key[ADDRKEY_LEN];
	bool src_counted; /* counted in f->src */
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

/* ---- refusal lines: a hostile client must not flood the log ---- */

static void
logcap_report(struct logcap_slot *s)
{
	char addr[OPT_ADDR_MAX];

	if (s->dropped == 0)
		return;
	addrkey_text(s->addr, addr, sizeof(addr));
	log_info("%s: %lu more refusals not logged (at most %d lines a "
	         "second per address, %d in all)",
	    addr, s->dropped, LOGCAP_PER_SOURCE, LOGCAP_TOTAL);
	s->dropped = 0;
}

static void
logcap_flush(evutil_socket_t fd, short what, void *arg)
{
	struct engine *e = arg;
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
logcap_allow(struct engine *e, const unsigned char *key)
{
	struct timeval later = {1, 0};
	struct logcap_slot *s;
	time_t now = time(NULL);

	if (e->logcap == NULL) {
		e->logcap = calloc(LOGCAP_SLOTS, sizeof(*e->logcap));
		if (e->logcap == NULL)
			return true;
	}
	s = &e->logcap[addrkey_hash(key) % LOGCAP_SLOTS];
	if (memcmp(s->addr, key, ADDRKEY_LEN) != 0) {
		logcap_report(s); /* another address had the slot */
		memcpy(s->addr, key, ADDRKEY_LEN);
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

/* Accept on every listener of every network again, or stop. */
static void
set_accepting(struct engine *e, bool on)
{
	struct frontend *f;
	int i;

	for (f = e->frontends; f != NULL; f = f->next)
		for (i = 0; i < f->nls; i++)
			if (on)
				evconnlistener_enable(f->ls[i]);
			else
				evconnlistener_disable(f->ls[i]);
	e->paused = !on;
}

static void
maybe_resume(struct engine *e)
{
	if (e->paused && !e->draining && !e->accept_backoff &&
	    e->conns < e->maxconn)
		set_accepting(e, true);
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
	struct engine *e = c->e;

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
		srccount_put(&c->f->src, c->peer_key);
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
	struct frontend *f = c->f;

	drop_agent(c);
	access_log(c);
	c->forwarding = false;
	c->req_done = false;
	c->resp_head = false;
	c->in_request = false;
	if (!c->keep_alive || f->e->draining) {
		conn_close(c);
		return;
	}
	/* Keep-alive: wait for the next request, maybe already buffered. */
	bufferevent_set_timeouts(c->client, &f->t_client, &f->t_client);
	arm_timer(c, &f->t_keepalive);
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
	struct frontend *f = c->f;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		bufferevent_set_timeouts(c->agent, &f->t_server, &f->t_server);
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
		    c->agent, &c->f->t_server, &c->f->t_server);
}

static int
open_agent(struct conn *c)
{
	struct frontend *f = c->f;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	c->agent =
	    bufferevent_socket_new(c->e->base, fd, BEV_OPT_CLOSE_ON_FREE);
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
	bufferevent_set_timeouts(c->agent, &f->t_server, &f->t_connect);
	bufferevent_setwatermark(c->agent, EV_WRITE, BACKLOG_BYTES / 2, 0);
	bufferevent_enable(c->agent, EV_READ | EV_WRITE);
	errno = 0;
	if (bufferevent_socket_connect(
	        c->agent, (struct sockaddr *)&f->agent, (int)f->agent_len) < 0)
		return errno != 0 ? -errno : -ECONNREFUSED;
	return 0;
}

/* Client-sent identity headers removed: at debug, rate capped. */
static void
log_removed(struct conn *c, const struct http_out *out)
{
	const char *name;
	size_t i;

	if (!c->e->debug)
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
	int r = open_agent(c);

	if (r < 0) {
		log_debug("%s: cannot reach the agent at %s: %s", c->peer,
		    c->f->agent.sun_path, strerror(-r));
		conn_fail(c, 503, "agent unavailable");
		return -1;
	}
	c->forwarding = true;
	/*
	 * While the agent answers, the client owes us nothing: only a client
	 * that stops reading what we send is cut (timeout client, as write).
	 */
	bufferevent_set_timeouts(c->client, NULL, &c->f->t_client);
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
	struct frontend *f = c->f;

	gettimeofday(&c->start, NULL);
	memcpy(c->method, out->method, sizeof(c->method));
	memcpy(c->path, out->path, sizeof(c->path));
	c->status = 0;
	c->bytes = 0;
	c->keep_alive = out->keep_alive;
	c->head_request = strcmp(out->method, "HEAD") == 0;
	log_removed(c, out);
	if (f->rate.conf.enabled &&
	    ratelimit_over(&f->rate, c->peer_key, time(NULL))) {
		conn_fail(c, 429, "rate limited");
		return;
	}
	if (f->hcfg.max_body == 0) {
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
			arm_timer(c, &c->f->t_request);
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

/*
 * An address over --max-conns-per-source: closed at once, unanswered, as
 * haproxy's tcp-request connection reject does.
 */
static void
refuse_conn(struct frontend *f, evutil_socket_t fd, const unsigned char *key)
{
	char addr[OPT_ADDR_MAX];

	(void)close(fd);
	if (!logcap_allow(f->e, key))
		return;
	addrkey_text(key, addr, sizeof(addr));
	log_info("%s \"- -\" - 0 0ms reason=too-many-connections (%lu "
	         "open from this address)",
	    addr, f->src.cap);
}

static void
accept_conn(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct frontend *f = arg;
	struct engine *e = f->e;
	struct conn *c;

	unsigned char key[ADDRKEY_LEN];
	bool counted = false;

	(void)l;
	(void)salen;
	addrkey_of(sa, key);
	if (f->src.cap > 0) {
		counted = srccount_take(&f->src, key);
		if (!counted) {
			refuse_conn(f, fd, key);
			return;
		}
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		if (counted)
			srccount_put(&f->src, key);
		(void)close(fd);
		return;
	}
	c->e = e;
	c->f = f;
	e->conns++;
	memcpy(c->peer_key, key, sizeof(key));
	c->src_counted = counted;
	addrkey_text(key, c->peer, sizeof(c->peer));
	c->req = http_request_new(&f->hcfg, c->peer);
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
	bufferevent_set_timeouts(c->client, &f->t_client, &f->t_client);
	bufferevent_setwatermark(c->client, EV_WRITE, BACKLOG_BYTES / 2, 0);
	bufferevent_enable(c->client, EV_READ | EV_WRITE);
	arm_timer(c, &f->t_request);
	/* Further connections wait in the kernel's backlog. */
	if (e->conns >= e->maxconn)
		set_accepting(e, false);
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
	struct engine *e = arg;

	(void)fd;
	(void)what;
	if (e->conns == 0)
		(void)malloc_trim(0);
}

static void
resume_accepting(evutil_socket_t fd, short what, void *arg)
{
	struct engine *e = arg;

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
	struct engine *e = ((struct frontend *)arg)->e;
	struct timeval pause = {0, 100000};
	int err = EVUTIL_SOCKET_ERROR();

	(void)l;
	if (!e->accept_backoff)
		log_warn(
		    "cannot accept: %s; pausing for 100 ms", strerror(err));
	e->accept_backoff = true;
	set_accepting(e, false);
	event_add(e->backoff_timer, &pause);
}

/* Serve a listening socket the caller bound; ours from now on. */
static int
adopt_listener(struct frontend *f, int fd)
{
	struct evconnlistener *l;

	/* backlog 0: libevent leaves the caller's listen() as it is. */
	l = evconnlistener_new(f->e->base, accept_conn, f,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (l == NULL) {
		(void)close(fd);
		return -ENOMEM;
	}
	evconnlistener_set_error_cb(l, accept_error);
	if (f->e->paused)
		evconnlistener_disable(l);
	f->ls[f->nls++] = l;
	return 0;
}

static void
close_listeners(struct frontend *f)
{
	int i;

	for (i = 0; i < f->nls; i++)
		evconnlistener_free(f->ls[i]);
	f->nls = 0;
}

static void
on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct engine *e = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(e->base);
}

static void
on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct engine *e = arg;
	struct frontend *f;

	(void)what;
	if (e->draining)
		return;
	log_info(
	    "signal %d: no new connections, finishing %u", (int)sig, e->conns);
	notify_stopping();
	e->draining = true;
	for (f = e->frontends; f != NULL; f = f->next)
		close_listeners(f);
	if (e->conns == 0) {
		event_base_loopbreak(e->base);
		return;
	}
	event_add(e->drain_timer, &e->t_drain);
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

struct engine *
engine_new(const struct daemon_conf *d, int *err, const char **what)
{
	struct engine *e;

	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		*err = -ENOMEM;
		*what = "allocating the engine";
		return NULL;
	}
	/* haproxy's maxconn, 1024 unless the options say otherwise. */
	e->maxconn = defaults_maxconn(d->maxconn);
	e->debug = d->debug;
	event_set_log_callback(event_log);
	*what = "creating the event loop";
	e->base = event_base_new();
	if (e->base == NULL)
		goto fail;
	raise_fd_limit(e->maxconn);
	e->backoff_timer = evtimer_new(e->base, resume_accepting, e);
	e->trim_timer = evtimer_new(e->base, trim_memory, e);
	e->logcap_timer = evtimer_new(e->base, logcap_flush, e);
	if (e->backoff_timer == NULL || e->trim_timer == NULL ||
	    e->logcap_timer == NULL)
		goto fail;
	*what = "setting up signals";
	e->sig_term = evsignal_new(e->base, SIGTERM, on_stop, e);
	e->sig_int = evsignal_new(e->base, SIGINT, on_stop, e);
	e->sig_hup = evsignal_new(e->base, SIGHUP, on_hup, e);
	e->drain_timer = evtimer_new(e->base, on_drain_timeout, e);
	if (e->sig_term == NULL || e->sig_int == NULL || e->sig_hup == NULL ||
	    e->drain_timer == NULL || event_add(e->sig_term, NULL) < 0 ||
	    event_add(e->sig_int, NULL) < 0 || event_add(e->sig_hup, NULL) < 0)
		goto fail;
	return e;
fail:
	*err = -ENOMEM;
	engine_free(e);
	return NULL;
}

/* Who the frontend is to the agent, and where the agent is. */
static int
frontend_setup(struct frontend *f, const struct proxy_conf *p)
{
	size_t n = strlen(p->socket_path);

	memcpy(f->id, p->id, sizeof(f->id));
	f->hcfg.id_header = md_id_header(p->flavor, p->id_kind);
	f->hcfg.id = f->id;
	f->hcfg.client_head_max = CLIENT_HEAD_MAX;
	f->hcfg.agent_head_max = MD_AGENT_READ;
	f->hcfg.max_body = p->max_body_size;
	ms_to_tv(p->timeouts.http_request, &f->t_request);
	ms_to_tv(p->timeouts.connect, &f->t_connect);
	ms_to_tv(p->timeouts.client, &f->t_client);
	ms_to_tv(p->timeouts.server, &f->t_server);
	ms_to_tv(p->timeouts.http_keep_alive, &f->t_keepalive);
	f->agent.sun_family = AF_UNIX;
	if (n >= sizeof(f->agent.sun_path))
		return -ENAMETOOLONG;
	memcpy(f->agent.sun_path, p->socket_path, n + 1);
	f->agent_len =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	ratelimit_init(&f->rate, &p->rate_limit);
	srccount_init(&f->src, p->max_conns_per_source, f->e->maxconn);
	return 0;
}

static void
frontend_free(struct frontend *f)
{
	close_listeners(f);
	ratelimit_release(&f->rate);
	srccount_release(&f->src);
	free(f);
}

struct frontend *
engine_add_frontend(struct engine *e, const struct proxy_conf *p,
    const int *fds, int nfds, int *err, const char **what)
{
	struct frontend *f;
	int i = 0, r;

	f = calloc(1, sizeof(*f));
	if (f == NULL || nfds > ENGINE_LISTENERS_MAX) {
		r = f == NULL ? -ENOMEM : -EINVAL;
		*what = "allocating the network";
		goto fail;
	}
	f->e = e;
	r = frontend_setup(f, p);
	if (r < 0) {
		*what = "the agent socket path";
		goto fail;
	}
	*what = "serving the listeners";
	for (; i < nfds; i++) {
		r = adopt_listener(f, fds[i]);
		if (r < 0) {
			i++; /* that one is closed already */
			goto fail;
		}
	}
	/* Draining waits as long as the slowest network's clients may. */
	if (f->t_client.tv_sec > e->t_drain.tv_sec ||
	    (f->t_client.tv_sec == e->t_drain.tv_sec &&
	        f->t_client.tv_usec > e->t_drain.tv_usec))
		e->t_drain = f->t_client;
	f->next = e->frontends;
	e->frontends = f;
	return f;
fail:
	/* The listeners not handed to libevent yet are still ours to close. */
	for (; i < nfds; i++)
		(void)close(fds[i]);
	*err = r;
	if (f != NULL)
		frontend_free(f);
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
engine_run(struct engine *e)
{
	(void)signal(SIGPIPE, SIG_IGN);
	errno = 0;
	if (event_base_dispatch(e->base) < 0)
		return errno != 0 ? -errno : -EIO;
	return 0;
}

void
engine_free(struct engine *e)
{
	struct frontend *f;

	if (e == NULL)
		return;
	while (e->frontends != NULL) {
		f = e->frontends;
		e->frontends = f->next;
		frontend_free(f);
	}
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
	free(e->logcap);
	free(e);
}
