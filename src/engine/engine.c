#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "engine/accesslog.h"
#include "engine/addrkey.h"
#include "engine/engine.h"
#include "engine/http.h"
#include "engine/metrics.h"
#include "engine/ratelimit.h"
#include "engine/srccount.h"
#include "defaults.h"
#include "fd.h"
#include "log.h"
#include "metadata.h"
#include "notify.h"
#include "strbuf.h"
#include "banned.h"

/* Past this much queued for the slower side, stop reading the faster. */
#define BACKLOG_BYTES (64 * 1024UL)
#define CLIENT_HEAD_MAX (16 * 1024UL)
/* One read takes at most this much; the engine reads into one buffer. */
#define ENGINE_READ_MAX (16 * 1024UL)
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
	LIST_HEAD(frontend_list, frontend) frontends; /* newest first */
	bool debug;
	/* many networks: idle ones give back their address tables */
	bool fleet;
	enum accesslog_format log_format;
	struct strbuf line; /* each access line, built here */
	/* no accepting: maxconn or backoff; a listener that has a
	 * connection meanwhile goes off, into stalled, until it ends */
	bool paused;
	bool accept_backoff; /* accept() failed a moment ago */
	bool draining;
	unsigned int conns;
	unsigned int maxconn;
	struct timeval t_drain; /* the longest client timeout of any network */
	struct timeval started; /* wall clock */
	struct event *sig_term, *sig_int, *sig_hup, *drain_timer;
	struct event *backoff_timer;
	struct event *trim_timer; /* gives freed memory back once idle */
	struct event *watchdog;   /* WATCHDOG=1 while the loop turns */
	struct event *log_flush;  /* the access lines of this turn, written */
	/* the rate of refusal lines, over all networks */
	struct logcap_slot *logcap;
	time_t logcap_sec;
	unsigned int logcap_total;
	struct event *logcap_timer; /* reports the lines dropped */
	char *scratch; /* ENGINE_READ_MAX bytes: each read, until processed */
	struct pool *pools;     /* idle agent connections, per agent socket */
	unsigned long idle_max; /* per pool; 0: no reuse */
	/* per pool: open to it, in use or idle; 0: no cap */
	unsigned long agent_max;
	struct timeval t_idle;
	unsigned int net_maxconn; /* per network; 0: only the engine's */
	TAILQ_HEAD(stalled_list, listener) stalled;
	/* every client connection: a stop closes those idle between requests */
	LIST_HEAD(conn_list, conn) all;
};

/*
 * A listening socket of a network, with our accept loop on a libevent
 * event: at the engine's limit only the listeners that have a connection
 * waiting are turned off (one system call each), not every listener of
 * every network, and turned on again when it is lifted.
 */
struct listener {
	struct frontend *f;
	struct event *ev;
	int fd;
	bool on;      /* its event is added */
	bool stalled; /* in e->stalled */
	TAILQ_ENTRY(listener) stall_link;
};

/*
 * One network or router: its listeners, who it is to the agent, where the
 * agent is, its timeouts and limits, its per-address tables. What it keeps
 * of its proxy_conf is copied in.
 */
struct frontend {
	struct engine *e;
	LIST_ENTRY(frontend) link;
	struct listener ls[ENGINE_LISTENERS_MAX];
	int nls;
	unsigned int conns;   /* open client connections */
	unsigned int maxconn; /* 0: none of its own */
	bool paused;          /* at its own limit */
	bool removed;         /* out of the engine; freed with its last conn */
	struct frontend_stats stats;
	struct metrics_net m;
	enum flavor flavor;
	char id[OPT_UUID_LEN + 1];
	struct http_config hcfg; /* points into this frontend */
	struct sockaddr_un agent;
	socklen_t agent_len;
	struct pool *pool; /* of its agent socket: the engine's */
	/* its requests waiting for a connection to the agent, oldest first;
	 * while there are some, it has a turn in its pool's ring */
	TAILQ_HEAD(conn_waitq, conn) waiting;
	TAILQ_ENTRY(frontend) turn;
	bool in_turn;
	struct timeval t_request, t_connect, t_client, t_server, t_keepalive;
	struct ratelimit rate; /* its conf says whether it is on */
	struct srccount src;   /* per client address; cap 0: none */
};

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

/*
 * One socket of a connection: a persistent read event, added while we
 * read; and what a short send left, with a write event added only while
 * that queue holds bytes. rx and tx: when it last sent us bytes and when
 * it last took ours (or began to owe us that).
 */
struct side {
	int fd;
	struct event *rev;
	struct event *wev; /* made at the first short send */
	struct evbuffer *outq;
	bool reading;
	struct timeval rx, tx;
};

/* What a connection timer found due. */
enum due {
	DUE_NONE,
	DUE_CLOSE,       /* idle, or a client not taking our bytes: close */
	DUE_408_REQUEST, /* http-request: the request is not in */
	DUE_408_IDLE,    /* timeout client while the request comes */
	DUE_504,         /* timeout server: the agent went quiet */
	DUE_503_QUEUE,   /* timeout connect: no agent connection came free */
};

/*
 * A connection to an agent. Its events carry it, not the client's
 * connection: it outlives its owner when it goes idle into the pool of its
 * agent socket, and serves the owner of the next request from there.
 */
struct agent_conn {
	struct side s;
	struct conn *owner; /* NULL while idle */
	struct pool *pool;
	TAILQ_ENTRY(agent_conn) link; /* in pool->idle while idle */
	struct timeval idle_since;
	bool reused; /* it carried a request before this one */
};

TAILQ_HEAD(agent_idle, agent_conn);

/*
 * The connections to one agent socket, shared by every network naming it:
 * at most e->agent_max open (the agent's green threads), in use or idle;
 * the idle ones most recently used first. Past the cap a request waits,
 * its network in a ring with the others that have requests waiting, so
 * that a busy network does not starve a quiet one.
 */
struct pool {
	struct pool *next;
	struct engine *e;
	struct sockaddr_un addr;
	socklen_t addr_len;
	struct agent_idle idle;
	unsigned long n;     /* idle */
	unsigned long open;  /* in use and idle */
	struct event *timer; /* the oldest one's idle timeout */
	TAILQ_HEAD(pool_turns, frontend) turns;
	unsigned long waiting; /* requests in the turns' queues */
	unsigned long users;   /* networks naming it, not removed */
	struct event *wake;    /* a connection freed up while requests wait */
	time_t busy_logged;
};

struct conn {
	struct engine *e;
	struct frontend *f;
	struct side cl;        /* the client */
	struct agent_conn *ag; /* NULL when none */
	struct http_request *req;
	struct http_response *resp; /* kept, reset for each request */
	struct event *timer;        /* every timeout of the connection */
	/* the whole request, held until it is complete (body cap set) */
	struct evbuffer *pending;
	/* client bytes read but not taken yet: a pipelined request, or a
	 * body the agent is slow to take */
	char *held;
	size_t held_len;
	struct timeval since; /* the request began, or the idle wait did */
	/* a request sent on a reused agent connection, for the one retry */
	struct strbuf resend;
	TAILQ_ENTRY(conn) wait_link; /* in f->waiting while waiting */
	LIST_ENTRY(conn) all_link;   /* in e->all */
	struct timeval wait_since;
	char peer[OPT_ADDR_MAX];
	unsigned char peer_key[ADDRKEY_LEN];
	bool src_counted; /* counted in f->src */
	bool fresh;       /* no request yet on this connection */
	bool in_request;  /* bytes of a request head have arrived */
	bool forwarding;  /* a request went to the agent, its answer pending */
	bool req_done;    /* the whole request went to the agent */
	bool resp_head;   /* the response head went to the client */
	bool keep_alive;
	bool head_request;
	bool closing;     /* flush, then free */
	bool half_close;  /* the client shut its side after a whole request */
	bool agent_reuse; /* sent in the form that keeps the agent connection */
	bool resp_started; /* a byte of the answer came */
	bool retried;      /* sent once more after a reused one failed */
	bool waiting;      /* for a connection to the agent (its cap) */
	/* the access log line */
	char method[16];
	char path[128];
	char version[16];
	int status;
	const char *reason; /* why we answered status ourselves; static */
	size_t bytes;
	unsigned int peer_port;
	/* the request's timers (monotonic; 0: not reached) and its start on
	 * the wall clock */
	struct timeval t_begin, t_head, t_sent, t_resp;
	struct timeval begin_wall;
	bool waited;    /* for a connection to the agent */
	bool resp_done; /* the agent's answer went whole */
};

/* At most this many pieces gathered for one writev to the client. */
#define CONN_IOV 8

static void conn_free(struct conn *c);
static void frontend_put(struct frontend *f);
static int client_process(struct conn *c, const char *data, size_t len);
static int finish_response(struct conn *c, bool reuse);
static void conn_arm(struct conn *c);

static void
listener_set(struct listener *l, bool on)
{
	if (l->on == on)
		return;
	if ((on ? event_add(l->ev, NULL) : event_del(l->ev)) == 0)
		l->on = on;
}

/*
 * A network at its own limit stops accepting, alone: its clients wait in
 * its backlog while the other networks are served (fleet isolation). A
 * stalled listener waits for the engine to resume instead.
 */
static void
frontend_pause(struct frontend *f, bool on)
{
	int i;

	if (f->paused == on)
		return;
	f->paused = on;
	for (i = 0; i < f->nls; i++)
		if (on || !f->ls[i].stalled)
			listener_set(&f->ls[i], !on);
}

/* Under the limit again: the listeners that stalled accept again. */
static void
maybe_resume(struct engine *e)
{
	struct listener *l;

	if (!e->paused || e->draining || e->accept_backoff ||
	    e->conns >= e->maxconn)
		return;
	e->paused = false;
	while ((l = TAILQ_FIRST(&e->stalled)) != NULL) {
		TAILQ_REMOVE(&e->stalled, l, stall_link);
		l->stalled = false;
		if (!l->f->paused)
			listener_set(l, true);
	}
}

static void now_mono(struct timeval *tv);

/* ms from a to b, or -1 when either was not reached. */
static long
span_ms(const struct timeval *a, const struct timeval *b)
{
	struct timeval d;

	if (a->tv_sec == 0 || b->tv_sec == 0)
		return -1;
	if (b->tv_sec < a->tv_sec ||
	    (b->tv_sec == a->tv_sec && b->tv_usec < a->tv_usec))
		return 0;
	timersub(b, a, &d);
	return (long)(d.tv_sec * 1000 + d.tv_usec / 1000);
}

/*
 * haproxy's termination state, its first two characters: who ended it
 * (C client, S agent, P us, R a resource, c/s a timeout of either, - a
 * normal end) and in which phase (R request, Q queue, C connect, H
 * headers, D data).
 */
static void
term_state(const struct conn *c, char term[3])
{
	const char *r = c->reason;
	char phase = 'R';

	if (c->resp_head)
		phase = 'D';
	else if (c->t_sent.tv_sec != 0)
		phase = 'H';
	else if (c->waiting)
		phase = 'Q';
	term[2] = '\0';
	if (r == NULL) {
		/* No answer of ours: a whole one, or the client went. */
		if (c->status > 0 && c->resp_done) {
			term[0] = '-';
			term[1] = '-';
		} else {
			term[0] = 'C';
			term[1] = phase;
		}
		return;
	}
	term[1] = phase;
	if (c->status == 408)
		term[0] = 'c';
	else if (c->status == 504 || strcmp(r, "agent busy") == 0)
		term[0] = 's';
	else if (strcmp(r, "agent unavailable") == 0 ||
	         strcmp(r, "agent connection lost") == 0)
		term[0] = 'S';
	else if (strcmp(r, "out of memory") == 0)
		term[0] = 'R';
	else
		term[0] = 'P';
	if (c->status == 504)
		term[1] = 'H';
	else if (strcmp(r, "agent busy") == 0)
		term[1] = 'Q';
	else if (strcmp(r, "agent unavailable") == 0 && !c->resp_head)
		term[1] = 'C';
}

/*
 * One line per request, in haproxy's httplog shape (or JSON): client,
 * its network, timers, status, bytes, termination state, request line;
 * an answer of ours adds reason=, and such lines are rate capped.
 */
static void
access_log(struct conn *c)
{
	struct engine *e = c->e;
	struct frontend *f = c->f;
	struct accesslog_rec rec;
	struct timeval now, d;
	struct frontend_stats *st;
	char reason[64];

	if (c->method[0] == '\0' && c->reason == NULL)
		return;
	now_mono(&now);
	if (c->t_begin.tv_sec == 0)
		c->t_begin = now;
	timersub(&now, &c->t_begin, &d);
	st = &f->stats;
	st->requests++;
	metrics_count_answer(&f->m, c->status,
	    (uint64_t)d.tv_sec * 1000000U + (uint64_t)d.tv_usec);
	f->m.bytes_out += c->bytes;
	if (c->reason != NULL) {
		metrics_count_refusal(&f->m, c->reason);
		st->refused++;
		st->last_error = c->reason;
		st->last_error_at = time(NULL);
		if (!logcap_allow(e, c->peer_key))
			goto out;
	}
	/* Nowhere to write it (no file, no syslog): not even built. */
	if (!log_access_wanted())
		goto out;
	memset(&rec, 0, sizeof(rec));
	rec.client_ip = c->peer;
	rec.client_port = c->peer_port;
	rec.accept_date = c->begin_wall;
	rec.frontend = f->id;
	rec.backend = "metadata";
	rec.server = c->t_sent.tv_sec != 0 ? "agent" : NULL;
	rec.t_request = span_ms(&c->t_begin, &c->t_head);
	rec.t_queue = c->t_sent.tv_sec == 0 ? -1
	              : c->waited ? span_ms(&c->wait_since, &c->t_sent)
	                          : 0;
	rec.t_connect = c->t_sent.tv_sec != 0 ? 0 : -1;
	rec.t_response = span_ms(&c->t_sent, &c->t_resp);
	rec.t_active = (long)(d.tv_sec * 1000 + d.tv_usec / 1000);
	rec.status = c->status > 0 ? c->status : -1;
	rec.bytes_read = c->bytes;
	term_state(c, rec.term);
	rec.actconn = e->conns;
	rec.feconn = f->conns;
	rec.beconn = (unsigned int)f->pool->open;
	rec.srv_conn = (unsigned int)(f->pool->open - f->pool->n);
	rec.retries = c->retried ? 1 : 0;
	rec.backend_queue = (unsigned int)f->pool->waiting;
	rec.method = c->method;
	rec.path = c->path;
	rec.version = c->version[0] != '\0' ? c->version : NULL;
	if (c->reason != NULL) {
		reason_token(c->reason, reason, sizeof(reason));
		rec.reason = reason;
	}
	strbuf_clear(&e->line);
	if (accesslog_format(&rec, e->log_format, &e->line) == 0)
		log_access(strbuf_str(&e->line));
out:
	c->method[0] = '\0';
	c->version[0] = '\0';
	c->reason = NULL;
}

static void
now_mono(struct timeval *tv)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = (suseconds_t)(ts.tv_nsec / 1000);
}

/* The earlier of *when and at + d, with what falls due then. */
/* a < b */
static bool
tv_less(const struct timeval *a, const struct timeval *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_usec < b->tv_usec);
}

/* Arm timer for the monotonic time when (now, if that has passed). */
static void
add_at(struct event *timer, const struct timeval *when)
{
	struct timeval now, in;

	now_mono(&now);
	timerclear(&in);
	if (tv_less(&now, when))
		timersub(when, &now, &in);
	(void)event_add(timer, &in);
}

/*
 * An iovec of bytes we only read: writev takes them as const, the struct
 * cannot say so.
 */
static void
iov_set(struct iovec *v, const void *p, size_t n)
{
	memcpy(&v->iov_base, &p, sizeof(p));
	v->iov_len = n;
}

static size_t
side_pending(const struct side *s)
{
	return s->outq != NULL ? evbuffer_get_length(s->outq) : 0;
}

static void
side_reading(struct side *s, bool on)
{
	if (s->rev == NULL || s->reading == on)
		return;
	if (on)
		(void)event_add(s->rev, NULL);
	else
		(void)event_del(s->rev);
	s->reading = on;
}

static int
side_open(
    struct engine *e, struct side *s, int fd, event_callback_fn rcb, void *arg)
{
	s->fd = fd;
	s->rev = event_new(e->base, fd, EV_READ | EV_PERSIST, rcb, arg);
	if (s->rev == NULL)
		return -ENOMEM;
	s->reading = false;
	side_reading(s, true);
	now_mono(&s->rx);
	s->tx = s->rx;
	return 0;
}

static void
side_close(struct side *s)
{
	if (s->rev != NULL)
		event_free(s->rev);
	if (s->wev != NULL)
		event_free(s->wev);
	if (s->outq != NULL)
		evbuffer_free(s->outq);
	s->rev = NULL;
	s->wev = NULL;
	s->outq = NULL;
	s->reading = false;
	s->fd = safe_close(s->fd);
}

/* The write event, made at the first send that has to wait. */
static int
side_wev(struct engine *e, struct side *s, event_callback_fn wcb, void *arg)
{
	if (s->wev == NULL)
		s->wev =
		    event_new(e->base, s->fd, EV_WRITE | EV_PERSIST, wcb, arg);
	return s->wev == NULL ? -ENOMEM : 0;
}

/* Queue bytes behind what waits already, and wait for room. */
static int
side_queue(struct engine *e, struct side *s, const char *data, size_t len,
    event_callback_fn wcb, void *arg)
{
	if (len == 0)
		return 0;
	if (s->outq == NULL) {
		s->outq = evbuffer_new();
		if (s->outq == NULL)
			return -ENOMEM;
	}
	if (side_wev(e, s, wcb, arg) < 0)
		return -ENOMEM;
	if (evbuffer_get_length(s->outq) == 0)
		now_mono(&s->tx); /* a stall is counted from here */
	if (evbuffer_add(s->outq, data, len) < 0)
		return -ENOMEM;
	if (!event_pending(s->wev, EV_WRITE, NULL))
		(void)event_add(s->wev, NULL);
	return 0;
}

/*
 * Send iov at once with one writev; what the socket does not take is
 * queued and sent when it has room. 0, or -errno (the peer is gone).
 */
static int
side_send(struct engine *e, struct side *s, const struct iovec *iov, int n,
    event_callback_fn wcb, void *arg)
{
	ssize_t w = 0;
	size_t done;
	int i, r;

	if (side_pending(s) == 0) {
		do {
			w = writev(s->fd, iov, n);
		} while (w < 0 && errno == EINTR);
		if (w < 0 && errno != EAGAIN)
			return -errno;
		if (w > 0)
			now_mono(&s->tx);
		if (w < 0)
			w = 0;
	}
	done = (size_t)w;
	for (i = 0; i < n; i++) {
		if (done >= iov[i].iov_len) {
			done -= iov[i].iov_len;
			continue;
		}
		r = side_queue(e, s, (const char *)iov[i].iov_base + done,
		    iov[i].iov_len - done, wcb, arg);
		if (r < 0)
			return r;
		done = 0;
	}
	return 0;
}

/* Send what is queued; 1 when the queue is empty, 0 if not, or -errno. */
static int
side_flush(struct side *s)
{
	int n;

	n = evbuffer_write(s->outq, s->fd);
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		return -errno;
	if (n > 0)
		now_mono(&s->tx);
	if (evbuffer_get_length(s->outq) > 0)
		return 0;
	(void)event_del(s->wev);
	return 1;
}

/* Send q (which becomes the side's) behind what waits already. */
static int
side_adopt(struct engine *e, struct side *s, struct evbuffer *q,
    event_callback_fn wcb, void *arg)
{
	int r;

	if (s->outq != NULL) {
		r = evbuffer_add_buffer(s->outq, q);
		evbuffer_free(q);
		if (r < 0)
			return -ENOMEM;
	} else {
		s->outq = q;
	}
	if (side_wev(e, s, wcb, arg) < 0)
		return -ENOMEM;
	now_mono(&s->tx);
	r = side_flush(s);
	if (r == 0)
		(void)event_add(s->wev, NULL);
	return r < 0 ? r : 0;
}

/* Send what is queued, then close. */
static void conn_close(struct conn *c);

/* A connection to the agent may be had now: under the cap, or an idle one. */
static bool
pool_has_room(const struct pool *p)
{
	return p->e->agent_max == 0 || p->open < p->e->agent_max || p->n > 0;
}

/* A connection came free: the next waiting request, once this returns. */
static void
pool_kick(struct pool *p)
{
	if (!TAILQ_EMPTY(&p->turns) && pool_has_room(p))
		event_active(p->wake, EV_TIMEOUT, 1);
}

static void
agent_conn_free(struct agent_conn *ac)
{
	if (ac == NULL)
		return;
	side_close(&ac->s);
	ac->pool->open--;
	pool_kick(ac->pool);
	free(ac);
}

static void
drop_agent(struct conn *c)
{
	agent_conn_free(c->ag);
	c->ag = NULL;
}

/* Request bytes not taken by the agent yet, or held while waiting for it. */
static size_t
agent_pending(const struct conn *c)
{
	if (c->waiting)
		return evbuffer_get_length(c->pending);
	return c->ag != NULL ? side_pending(&c->ag->s) : 0;
}

/* Out of its pool, and closed. */
static void
pool_drop(struct agent_conn *ac)
{
	struct pool *p = ac->pool;

	TAILQ_REMOVE(&p->idle, ac, link);
	p->n--;
	agent_conn_free(ac);
}

/* The timer, for the oldest idle connection's timeout. */
static void
pool_arm(struct pool *p)
{
	struct agent_conn *old = TAILQ_LAST(&p->idle, agent_idle);
	struct timeval when;

	if (old == NULL) {
		(void)event_del(p->timer);
		return;
	}
	if (event_pending(p->timer, EV_TIMEOUT, NULL))
		return; /* due earlier: it arms again when it fires */
	timeradd(&old->idle_since, &p->e->t_idle, &when);
	add_at(p->timer, &when);
}

static void
pool_expire(evutil_socket_t fd, short what, void *arg)
{
	struct pool *p = arg;
	struct agent_conn *old;
	struct timeval now, when;

	(void)fd;
	(void)what;
	now_mono(&now);
	while ((old = TAILQ_LAST(&p->idle, agent_idle)) != NULL) {
		/* The analyzer loses TAILQ_REMOVE's tqh_last: old is live. */
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
		timeradd(&old->idle_since, &p->e->t_idle, &when);
		if (tv_less(&now, &when))
			break;
		pool_drop(old);
	}
	pool_arm(p);
}

/* The most recently idle connection to this agent socket, or NULL. */
static struct agent_conn *
pool_take(struct pool *p)
{
	struct agent_conn *ac = TAILQ_FIRST(&p->idle);

	if (ac == NULL)
		return NULL;
	TAILQ_REMOVE(&p->idle, ac, link);
	p->n--;
	ac->reused = true;
	return ac;
}

/* Its answer is whole: kept for the next request, or closed. */
static void
pool_put(struct agent_conn *ac)
{
	struct pool *p = ac->pool;

	ac->owner = NULL;
	if (p->e->draining || p->n >= p->e->idle_max ||
	    side_pending(&ac->s) > 0) {
		agent_conn_free(ac);
		return;
	}
	/* Idle, it reads only to see the agent close it. */
	side_reading(&ac->s, true);
	now_mono(&ac->idle_since);
	TAILQ_INSERT_HEAD(&p->idle, ac, link);
	p->n++;
	pool_arm(p);
	pool_kick(p);
}

/* No longer waiting for an agent connection (served, or gone). */
static void
wait_cancel(struct conn *c)
{
	struct frontend *f = c->f;

	if (!c->waiting)
		return;
	c->waiting = false;
	f->pool->waiting--;
	TAILQ_REMOVE(&f->waiting, c, wait_link);
	if (TAILQ_EMPTY(&f->waiting) && f->in_turn) {
		TAILQ_REMOVE(&f->pool->turns, f, turn);
		f->in_turn = false;
	}
}

static int send_request(struct conn *c, const struct iovec *iov, int n);
static int client_resume(struct conn *c);

/*
 * Connections came free: the waiting requests go, one network's oldest at
 * a time, round the ring, while there is room.
 */
static void
pool_wake(evutil_socket_t fd, short what, void *arg)
{
	struct pool *p = arg;
	struct frontend *f;
	struct conn *c;

	(void)fd;
	(void)what;
	while ((f = TAILQ_FIRST(&p->turns)) != NULL && pool_has_room(p)) {
		c = TAILQ_FIRST(&f->waiting);
		wait_cancel(c);
		if (f->in_turn) {
			/* The next network's turn. */
			TAILQ_REMOVE(&p->turns, f, turn);
			TAILQ_INSERT_TAIL(&p->turns, f, turn);
		}
		/* Streamed while it waited: more, as the agent takes it. */
		if (send_request(c, NULL, 0) == 0 && !c->req_done)
			(void)client_resume(c);
	}
}

/* Once a minute at most: the agent's connections are all in use. */
static void
pool_log_busy(struct pool *p)
{
	time_t now = time(NULL);

	if (p->busy_logged != 0 && now - p->busy_logged < 60)
		return;
	p->busy_logged = now;
	log_info("agent %s: all %lu connections in use; requests wait for "
	         "one (--max-agent-conns)",
	    p->addr.sun_path, p->e->agent_max);
}

static void
pool_close_all(struct pool *p)
{
	/* As in pool_expire, the analyzer loses the list's update. */
	while (!TAILQ_EMPTY(&p->idle)) {
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
		pool_drop(TAILQ_FIRST(&p->idle));
	}
	(void)event_del(p->timer);
}

static void
conn_free(struct conn *c)
{
	struct engine *e = c->e;

	wait_cancel(c);
	access_log(c);
	drop_agent(c);
	if (c->timer != NULL)
		event_free(c->timer);
	side_close(&c->cl);
	http_request_free(c->req);
	http_response_free(c->resp);
	if (c->pending != NULL)
		evbuffer_free(c->pending);
	free(c->held);
	strbuf_release(&c->resend);
	if (c->src_counted)
		srccount_put(&c->f->src, c->peer_key);
	frontend_put(c->f);
	LIST_REMOVE(c, all_link);
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

/* Keep the client bytes not taken yet; stop reading until they are. */
static int
hold_rest(struct conn *c, const char *data, size_t len)
{
	char *copy = malloc(len);

	if (copy == NULL)
		return -ENOMEM;
	memcpy(copy, data, len);
	free(c->held);
	c->held = copy;
	c->held_len = len;
	side_reading(&c->cl, false);
	return 0;
}

/*
 * Take the held client bytes, then read the client again if nothing is
 * held any more. -1: c is gone.
 */
static int
client_resume(struct conn *c)
{
	char *data = c->held;
	size_t len = c->held_len;
	int r;

	c->held = NULL;
	c->held_len = 0;
	if (data != NULL) {
		r = client_process(c, data, len);
		free(data);
		if (r < 0)
			return -1;
	}
	if (c->held == NULL && !c->closing && !c->half_close && !c->req_done &&
	    agent_pending(c) <= BACKLOG_BYTES)
		side_reading(&c->cl, true);
	return 0;
}

static void
client_writable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int r;

	(void)fd;
	(void)what;
	r = side_flush(&c->cl);
	if (r < 0) {
		conn_free(c);
		return;
	}
	if (c->closing) {
		if (r == 1)
			conn_free(c);
		return;
	}
	/* The client took what was queued: read the agent again. */
	if (c->ag != NULL && side_pending(&c->cl) <= BACKLOG_BYTES / 2)
		side_reading(&c->ag->s, true);
}

static int
client_send(struct conn *c, const struct iovec *iov, int n)
{
	return side_send(c->e, &c->cl, iov, n, client_writable, c);
}

static void
conn_close(struct conn *c)
{
	c->closing = true;
	wait_cancel(c);
	drop_agent(c);
	side_reading(&c->cl, false);
	if (side_pending(&c->cl) == 0) {
		conn_free(c);
		return;
	}
	conn_arm(c);
}

/* Answer with an error of ours and close; reason goes to the log. */
static void
conn_fail(struct conn *c, int status, const char *reason)
{
	struct strbuf sb = STRBUF_INIT;
	struct iovec iov;

	c->reason = reason;
	if (c->resp_head) {
		/* The client has a head already: only closing is honest. */
		conn_free(c);
		return;
	}
	c->status = status;
	if (http_error_response(status, true, &sb) == 0) {
		c->bytes += sb.len;
		iov_set(&iov, sb.buf, sb.len);
		if (client_send(c, &iov, 1) < 0) {
			strbuf_release(&sb);
			conn_free(c);
			return;
		}
	}
	strbuf_release(&sb);
	conn_close(c);
}

static int agent_retry(struct conn *c);

/*
 * The agent is gone or failed before the answer was whole: the request
 * once more on a new connection (agent_retry), or our answer. 0: sent
 * again, c goes on; -1: c is gone (or closing).
 */
static int
agent_lost(struct conn *c)
{
	int r = agent_retry(c);

	if (r <= 0)
		return r;
	if (c->resp_head)
		conn_fail(c, 502, "agent connection lost");
	else
		conn_fail(c, 503, "agent unavailable");
	return -1;
}

/*
 * Feed agent bytes; relay the answer with one writev. -1: c is gone (or
 * closing).
 */
static int
agent_process(struct conn *c, const char *data, size_t len)
{
	struct iovec iov[CONN_IOV];
	struct http_out out;
	enum http_event ev;
	size_t used;
	int n = 0;

	while (len > 0) {
		memset(&out, 0, sizeof(out));
		used = 0;
		ev = http_response_feed(c->resp, data, len, &used, &out);
		if (ev == HTTP_ERROR) {
			conn_fail(c, 502, out.reason);
			return -1;
		}
		if (ev == HTTP_HEADERS) {
			c->resp_head = true;
			now_mono(&c->t_resp);
			c->status = out.status;
			c->keep_alive = c->keep_alive && out.keep_alive;
			iov_set(&iov[n++], out.head.buf, out.head.len);
		} else if (out.len > 0) {
			iov_set(&iov[n++], out.data, out.len);
		}
		c->bytes += ev == HTTP_HEADERS ? out.head.len : out.len;
		data += used;
		len -= used;
		if (ev == HTTP_DONE || ev == HTTP_NEED_MORE || n == CONN_IOV) {
			if (n > 0 && client_send(c, iov, n) < 0) {
				conn_free(c);
				return -1;
			}
			n = 0;
		}
		if (ev == HTTP_DONE)
			/* Kept only if nothing came after the answer. */
			return finish_response(
			           c, c->agent_reuse && len == 0 &&
			                  http_response_reusable(c->resp)) < 0
			           ? -1
			           : 0;
		if (ev == HTTP_NEED_MORE)
			break;
	}
	if (n > 0 && client_send(c, iov, n) < 0) {
		conn_free(c);
		return -1;
	}
	/* Back-pressure: a slow client slows the agent, not our memory. */
	if (side_pending(&c->cl) > BACKLOG_BYTES)
		side_reading(&c->ag->s, false);
	return 0;
}

static void
agent_eof(struct conn *c)
{
	struct http_out out;

	if (!c->resp_started && agent_retry(c) <= 0)
		return;
	memset(&out, 0, sizeof(out));
	if (http_response_eof(c->resp, &out) == HTTP_DONE) {
		(void)finish_response(c, false);
		return;
	}
	conn_fail(
	    c, 502, out.reason != NULL ? out.reason : "agent closed early");
}

static void
agent_readable(evutil_socket_t fd, short what, void *arg)
{
	struct agent_conn *ac = arg;
	struct conn *c = ac->owner;
	ssize_t n;

	(void)what;
	if (c == NULL) {
		/* Idle: the agent closed it, or sent what nobody asked for. */
		pool_drop(ac);
		return;
	}
	do {
		n = read(fd, c->e->scratch, ENGINE_READ_MAX);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno != EAGAIN)
			(void)agent_lost(c);
		return;
	}
	if (n == 0) {
		agent_eof(c);
		return;
	}
	c->resp_started = true;
	now_mono(&ac->s.rx);
	(void)agent_process(c, c->e->scratch, (size_t)n);
}

static void
agent_writable(evutil_socket_t fd, short what, void *arg)
{
	struct agent_conn *ac = arg;
	struct conn *c = ac->owner;
	int r;

	(void)fd;
	(void)what;
	r = side_flush(&ac->s);
	if (c == NULL) {
		/* Never pooled with bytes queued; should it be: close it. */
		if (r != 1)
			pool_drop(ac);
		return;
	}
	if (r < 0) {
		(void)agent_lost(c);
		return;
	}
	/* The agent took what was queued: take more of the client's. */
	if (side_pending(&ac->s) <= BACKLOG_BYTES / 2 && !c->req_done)
		(void)client_resume(c);
}

static int
agent_send(struct conn *c, const struct iovec *iov, int n)
{
	return side_send(c->e, &c->ag->s, iov, n, agent_writable, c->ag);
}

static void
consider(struct timeval *when, enum due *due, const struct timeval *at,
    const struct timeval *d, enum due what)
{
	struct timeval t;

	timeradd(at, d, &t);
	if (*due == DUE_NONE || tv_less(&t, when)) {
		*when = t;
		*due = what;
	}
}

/* The connection's next deadline (monotonic) and what falls due then. */
static enum due
conn_deadline(const struct conn *c, struct timeval *when)
{
	const struct frontend *f = c->f;
	const struct timeval *last;
	enum due due = DUE_NONE;

	if (side_pending(&c->cl) > 0)
		consider(when, &due, &c->cl.tx, &f->t_client, DUE_CLOSE);
	if (c->closing)
		return due;
	if (c->ag != NULL) {
		last = tv_less(&c->ag->s.tx, &c->ag->s.rx) ? &c->ag->s.rx
		                                           : &c->ag->s.tx;
		consider(when, &due, last, &f->t_server, DUE_504);
	}
	/* haproxy's timeout queue: its timeout connect unless set */
	if (c->waiting)
		consider(
		    when, &due, &c->wait_since, &f->t_connect, DUE_503_QUEUE);
	if (c->in_request && !c->req_done) {
		consider(when, &due, &c->since, &f->t_request, DUE_408_REQUEST);
		if (!c->forwarding)
			consider(
			    when, &due, &c->cl.rx, &f->t_client, DUE_408_IDLE);
	} else if (!c->forwarding) {
		consider(when, &due, &c->since,
		    c->fresh ? &f->t_request : &f->t_keepalive, DUE_CLOSE);
		consider(when, &due, &c->cl.rx, &f->t_client, DUE_CLOSE);
	}
	return due;
}

/* Arm the one timer of the connection for its next deadline. */
static void
conn_arm(struct conn *c)
{
	struct timeval when;

	if (conn_deadline(c, &when) == DUE_NONE) {
		(void)event_del(c->timer);
		return;
	}
	add_at(c->timer, &when);
}

/*
 * Activity moves deadlines later without touching the timer: when it
 * fires, what is due is acted on, else it is armed again.
 */
static void
conn_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct timeval when, now;
	enum due due;

	(void)fd;
	(void)what;
	due = conn_deadline(c, &when);
	now_mono(&now);
	if (due != DUE_NONE && !tv_less(&now, &when)) {
		switch (due) {
		case DUE_408_REQUEST:
			conn_fail(c, 408, "request timeout");
			return;
		case DUE_408_IDLE:
			conn_fail(c, 408, "client idle");
			return;
		case DUE_504:
			c->f->m.agent_timeouts++;
			conn_fail(c, 504, "agent timeout");
			return;
		case DUE_503_QUEUE:
			conn_fail(c, 503, "agent busy");
			return;
		case DUE_CLOSE:
		case DUE_NONE:
			conn_free(c);
			return;
		}
	}
	conn_arm(c);
}

/*
 * The answer is whole: the agent connection goes back to its pool (reuse)
 * or is closed; then the next request, or the close.
 */
static int
finish_response(struct conn *c, bool reuse)
{
	struct agent_conn *ac = c->ag;

	c->ag = NULL;
	if (ac != NULL && reuse)
		pool_put(ac);
	else
		agent_conn_free(ac);
	c->resp_done = true;
	access_log(c);
	c->forwarding = false;
	c->req_done = false;
	c->resp_head = false;
	c->in_request = false;
	c->fresh = false;
	if (!c->keep_alive || c->e->draining) {
		conn_close(c);
		return -1;
	}
	/* Keep-alive: wait for the next request, maybe held already. */
	now_mono(&c->since);
	c->cl.rx = c->since;
	conn_arm(c);
	return client_resume(c);
}

/* A connection to the frontend's agent: an idle one when allowed, else new. */
static int
open_agent(struct conn *c)
{
	struct frontend *f = c->f;
	struct agent_conn *ac = NULL;
	int fd, r;

	if (c->agent_reuse && !c->retried)
		ac = pool_take(f->pool);
	if (ac == NULL && c->e->agent_max > 0 &&
	    f->pool->open >= c->e->agent_max) {
		/* At the cap: an idle one makes room, else there is none. */
		if (f->pool->n == 0)
			return -EBUSY;
		pool_drop(TAILQ_LAST(&f->pool->idle, agent_idle));
	}
	if (ac == NULL) {
		fd = socket(
		    AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		/*
		 * A unix socket connects at once or fails (a full backlog:
		 * EAGAIN). Should it ever pend, the first send queues and
		 * waits for room.
		 */
		if (connect(fd, (const struct sockaddr *)&f->agent,
		        f->agent_len) < 0 &&
		    errno != EINPROGRESS) {
			r = -errno;
			(void)close(fd);
			return r;
		}
		ac = calloc(1, sizeof(*ac));
		if (ac == NULL) {
			(void)close(fd);
			return -ENOMEM;
		}
		ac->pool = f->pool;
		f->pool->open++;
		r = side_open(c->e, &ac->s, fd, agent_readable, ac);
		if (r < 0) {
			agent_conn_free(ac);
			return r;
		}
	}
	ac->owner = c;
	c->ag = ac;
	if (ac->reused)
		f->m.agent_reused++;
	now_mono(&ac->s.rx);
	ac->s.tx = ac->s.rx;
	if (c->resp != NULL)
		http_response_reset(c->resp, c->head_request, c->keep_alive);
	else
		c->resp = http_response_new(c->head_request, c->keep_alive);
	return c->resp == NULL ? -ENOMEM : 0;
}

/*
 * A reused connection failed before any byte of the answer (the agent
 * closed it as the request went: its own idle timeout). The request, whole
 * in c->resend, goes once more on a new connection. 1: not a case for it;
 * 0: sent again; -1: c is gone.
 */
static int
agent_retry(struct conn *c)
{
	struct iovec iov;

	if (c->ag == NULL || !c->ag->reused || c->resp_started || c->retried)
		return 1;
	c->retried = true;
	drop_agent(c);
	log_debug("%s \"%s %s\": a reused agent connection closed; sending "
	          "again on a new one",
	    c->peer, c->method, c->path);
	iov_set(&iov, c->resend.buf, c->resend.len);
	if (open_agent(c) < 0 || agent_send(c, &iov, 1) < 0) {
		c->f->m.agent_connect_errors++;
		conn_fail(c, 503, "agent unavailable");
		return -1;
	}
	conn_arm(c);
	return 0;
}

/* Client-sent identity headers removed: at debug, rate capped. */
static void
log_removed(struct conn *c, const struct http_out *out)
{
	const char *name;
	bool logging = c->e->debug;
	size_t i;

	/* Counted: the metrics; named: at debug, rate capped. */
	c->f->m.hop_removed += out->hop_removed;
	for (i = 0; i < out->removed_len; i += strlen(name) + 1) {
		name = out->removed + i;
		c->f->m.spoofed_removed++;
		if (logging && !logcap_allow(c->e, c->peer_key))
			logging = false;
		if (logging)
			log_debug("%s \"%s %s\" "
			          "reason=spoofed-header-removed:%.64s",
			    c->peer, c->method, c->path, name);
	}
}

/*
 * Open the agent connection and send the request so far on: iov, or what
 * was held. -1: c is gone (or closing).
 */
static int
send_request(struct conn *c, const struct iovec *iov, int n)
{
	int r = open_agent(c);

	if (r < 0) {
		if (r != -ENOMEM)
			c->f->m.agent_connect_errors++;
		log_debug("%s: cannot reach the agent at %s: %s", c->peer,
		    c->f->agent.sun_path, strerror(-r));
		conn_fail(c, 503, "agent unavailable");
		return -1;
	}
	c->forwarding = true;
	now_mono(&c->t_sent);
	/*
	 * While the agent answers, the client owes us nothing: only a client
	 * that stops reading what we send is cut (timeout client).
	 */
	if (c->pending != NULL) {
		/* The held request becomes the agent's queue as it is. */
		r = side_adopt(
		    c->e, &c->ag->s, c->pending, agent_writable, c->ag);
		c->pending = NULL;
	} else {
		r = agent_send(c, iov, n);
	}
	if (r < 0)
		return agent_lost(c);
	conn_arm(c);
	return 0;
}

/*
 * The agent's connections are all in use (or others wait already): the
 * request so far is held, and waits for its network's turn. -1: c is gone.
 */
static int
wait_agent(struct conn *c, const struct iovec *iov, int n)
{
	struct frontend *f = c->f;
	int i;

	if (c->pending == NULL) {
		c->pending = evbuffer_new();
		for (i = 0; c->pending != NULL && i < n; i++)
			if (evbuffer_add(c->pending, iov[i].iov_base,
			        iov[i].iov_len) < 0)
				break;
		if (c->pending == NULL || i < n) {
			conn_fail(c, 503, "out of memory");
			return -1;
		}
	}
	log_debug("%s \"%s %s\": waiting for a connection to the agent",
	    c->peer, c->method, c->path);
	c->waiting = true;
	c->waited = true;
	c->forwarding = true;
	f->pool->waiting++;
	now_mono(&c->wait_since);
	TAILQ_INSERT_TAIL(&f->waiting, c, wait_link);
	if (!f->in_turn) {
		TAILQ_INSERT_TAIL(&f->pool->turns, f, turn);
		f->in_turn = true;
	}
	pool_log_busy(f->pool);
	conn_arm(c);
	return 0;
}

/* The request goes to the agent now, or waits for a connection to it. */
static int
forward(struct conn *c, const struct iovec *iov, int n)
{
	struct pool *p = c->f->pool;

	if (!TAILQ_EMPTY(&p->turns) || !pool_has_room(p))
		return wait_agent(c, iov, n);
	return send_request(c, iov, n);
}

/*
 * A head arrived. With a body cap the request is held until it is whole
 * (the cap bounds it), so a client that sends slowly never holds an agent
 * connection; without one it streams on at once. A request that may keep
 * the agent connection (bodiless; pipelined: nothing behind it yet) goes at
 * once, in the form that keeps it. -1: c is gone.
 */
static int
start_request(struct conn *c, struct http_out *out, bool pipelined)
{
	struct frontend *f = c->f;
	struct iovec iov[2];
	int n, i;

	now_mono(&c->t_head);
	memcpy(c->method, out->method, sizeof(c->method));
	memcpy(c->path, out->path, sizeof(c->path));
	memcpy(c->version, out->version, sizeof(c->version));
	c->status = 0;
	c->bytes = 0;
	c->keep_alive = out->keep_alive;
	c->head_request = strcmp(out->method, "HEAD") == 0;
	c->agent_reuse = c->e->idle_max > 0 && out->reusable && !pipelined;
	c->resp_started = false;
	c->retried = false;
	log_removed(c, out);
	if (f->rate.conf.enabled &&
	    ratelimit_over(&f->rate, c->peer_key, time(NULL))) {
		f->m.rate_limited++;
		conn_fail(c, 429, "rate limited");
		return -1;
	}
	n = http_agent_head(out, c->agent_reuse, iov);
	if (c->agent_reuse) {
		strbuf_clear(&c->resend);
		for (i = 0; i < n; i++)
			(void)strbuf_appendn(
			    &c->resend, iov[i].iov_base, iov[i].iov_len);
		if (c->resend.failed) {
			conn_fail(c, 503, "out of memory");
			return -1;
		}
	}
	if (f->hcfg.max_body == 0 || c->agent_reuse)
		return forward(c, iov, n);
	c->pending = evbuffer_new();
	if (c->pending == NULL ||
	    evbuffer_add(c->pending, out->head.buf, out->head.len) < 0) {
		conn_fail(c, 503, "out of memory");
		return -1;
	}
	return 0;
}

/* Body bytes, and the end of the request: on to the agent, or held. */
static int
request_bytes(struct conn *c, const struct http_out *out, bool done)
{
	struct iovec iov;

	if (out->len > 0) {
		iov_set(&iov, out->data, out->len);
		if (c->ag != NULL) {
			if (agent_send(c, &iov, 1) < 0 && agent_lost(c) < 0)
				return -1;
		} else if (c->pending != NULL &&
		           evbuffer_add(c->pending, out->data, out->len) < 0) {
			conn_fail(c, 503, "out of memory");
			return -1;
		}
	}
	if (!done)
		return 0;
	/* The whole request is in: the http-request deadline is met. */
	c->req_done = true;
	if (c->pending != NULL && !c->waiting)
		return forward(c, NULL, 0);
	conn_arm(c);
	return 0;
}

/* A request's first byte came: its timers start. */
static void
request_begins(struct conn *c)
{
	c->t_begin = c->since;
	gettimeofday(&c->begin_wall, NULL);
	timerclear(&c->t_head);
	timerclear(&c->t_sent);
	timerclear(&c->t_resp);
	c->waited = false;
	c->resp_done = false;
}

/*
 * Feed client bytes to the request parser; what cannot be taken now (a
 * pipelined request, or more than the agent has room for) is held and
 * reading stops. -1: c is gone (or closing).
 */
static int
client_process(struct conn *c, const char *data, size_t len)
{
	struct http_out out;
	enum http_event ev;
	size_t used;
	int r = 0;

	while (len > 0 && r == 0) {
		if (c->req_done || agent_pending(c) > BACKLOG_BYTES)
			break; /* the next request waits for this answer */
		if (!c->in_request && !c->forwarding) {
			c->in_request = true;
			now_mono(&c->since);
			request_begins(c);
			conn_arm(c);
		}
		memset(&out, 0, sizeof(out));
		used = 0;
		ev = http_request_feed(c->req, data, len, &used, &out);
		switch (ev) {
		case HTTP_HEADERS:
			/* Past the head's last byte (fed again): the next. */
			r = start_request(c, &out, len - used > 1);
			break;
		case HTTP_BODY:
		case HTTP_DONE:
			r = request_bytes(c, &out, ev == HTTP_DONE);
			break;
		case HTTP_ERROR:
			if (!c->forwarding && out.method[0] != '\0') {
				/* The log line names what was refused. */
				memcpy(
				    c->method, out.method, sizeof(c->method));
				memcpy(c->path, out.path, sizeof(c->path));
				memcpy(c->version, out.version,
				    sizeof(c->version));
			}
			conn_fail(c, out.status, out.reason);
			return -1;
		case HTTP_NEED_MORE:
			break;
		}
		data += used;
		len -= used;
		if (ev == HTTP_NEED_MORE)
			break;
	}
	if (r < 0)
		return -1;
	if (len > 0 && hold_rest(c, data, len) < 0) {
		conn_fail(c, 503, "out of memory");
		return -1;
	}
	return 0;
}

static void
client_eof(struct conn *c)
{
	if (c->waiting) {
		/*
		 * Gone while its request waited for the agent: nothing of it
		 * was sent, so nothing is (haproxy's abortonclose, for the
		 * queue). A client that only shut its side loses its answer.
		 */
		conn_free(c);
		return;
	}
	if (c->forwarding && c->req_done) {
		/* Half-closed after a whole request: the answer still goes. */
		c->keep_alive = false;
		c->half_close = true;
		side_reading(&c->cl, false);
		return;
	}
	conn_free(c);
}

static void
client_readable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	char *buf = c->e->scratch;
	ssize_t n;

	(void)what;
	do {
		n = read(fd, buf, ENGINE_READ_MAX);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno != EAGAIN)
			conn_free(c);
		return;
	}
	if (n == 0) {
		client_eof(c);
		return;
	}
	now_mono(&c->cl.rx);
	c->f->m.bytes_in += (uint64_t)n;
	(void)client_process(c, buf, (size_t)n);
}

static unsigned int
sa_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET6)
		return ntohs(
		    ((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	if (sa->sa_family == AF_INET)
		return ntohs(
		    ((const struct sockaddr_in *)(const void *)sa)->sin_port);
	return 0;
}

/*
 * An address over --max-conns-per-source: closed at once, unanswered, as
 * haproxy's tcp-request connection reject does; its line has no request.
 */
static void
refuse_conn(struct frontend *f, evutil_socket_t fd, const unsigned char *key,
    const struct sockaddr *sa)
{
	struct engine *e = f->e;
	struct accesslog_rec rec;
	char addr[OPT_ADDR_MAX];

	(void)close(fd);
	f->stats.refused++;
	f->stats.last_error = "too many connections";
	f->stats.last_error_at = time(NULL);
	metrics_count_refusal(&f->m, f->stats.last_error);
	if (!log_access_wanted() || !logcap_allow(e, key))
		return;
	addrkey_text(key, addr, sizeof(addr));
	memset(&rec, 0, sizeof(rec));
	rec.client_ip = addr;
	rec.client_port = sa_port(sa);
	gettimeofday(&rec.accept_date, NULL);
	rec.frontend = f->id;
	rec.backend = "metadata";
	rec.t_request = rec.t_queue = rec.t_connect = rec.t_response = -1;
	rec.status = -1;
	memcpy(rec.term, "PR", 3);
	rec.actconn = e->conns;
	rec.feconn = f->conns;
	rec.beconn = (unsigned int)f->pool->open;
	rec.srv_conn = (unsigned int)(f->pool->open - f->pool->n);
	rec.backend_queue = (unsigned int)f->pool->waiting;
	rec.reason = "too-many-connections";
	strbuf_clear(&e->line);
	if (accesslog_format(&rec, e->log_format, &e->line) == 0)
		log_access(strbuf_str(&e->line));
}

static void
accept_conn(struct frontend *f, int fd, const struct sockaddr *sa)
{
	struct engine *e = f->e;
	struct conn *c;
	unsigned char key[ADDRKEY_LEN];
	bool counted = false;

	addrkey_of(sa, key);
	if (f->src.cap > 0) {
		counted = srccount_take(&f->src, key);
		if (!counted) {
			refuse_conn(f, fd, key, sa);
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
	c->cl.fd = -1;
	c->fresh = true;
	LIST_INSERT_HEAD(&e->all, c, all_link);
	e->conns++;
	f->conns++;
	f->m.accepted++;
	if (f->maxconn > 0 && f->conns >= f->maxconn)
		frontend_pause(f, true);
	memcpy(c->peer_key, key, sizeof(key));
	c->src_counted = counted;
	addrkey_text(key, c->peer, sizeof(c->peer));
	c->peer_port = sa_port(sa);
	c->req = http_request_new(&f->hcfg, c->peer);
	c->timer = evtimer_new(e->base, conn_timer, c);
	if (c->req == NULL || c->timer == NULL ||
	    side_open(e, &c->cl, fd, client_readable, c) < 0) {
		if (c->cl.fd < 0)
			(void)close(fd);
		conn_free(c);
		return;
	}
	c->since = c->cl.rx;
	c->t_begin = c->since;
	gettimeofday(&c->begin_wall, NULL);
	conn_arm(c);
	/* Further connections wait in the kernel's backlog. */
	if (e->conns >= e->maxconn)
		e->paused = true;
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
accept_failed(struct engine *e, int err)
{
	struct timeval pause = {0, 100000};

	if (!e->accept_backoff)
		log_warn(
		    "cannot accept: %s; pausing for 100 ms", strerror(err));
	e->accept_backoff = true;
	e->paused = true;
	event_add(e->backoff_timer, &pause);
}

/*
 * Errors of accept() that are the connection's, not ours: the next one
 * may be taken (accept(2): the network errors are to be retried).
 */
static bool
accept_retriable(int err)
{
	switch (err) {
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
	case EPERM: /* a firewall said no */
		return true;
	default:
		return false;
	}
}

/* At most this many connections taken from one listener per loop turn. */
#define ACCEPT_BATCH 16

static void
listener_readable(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;
	struct frontend *f = l->f;
	struct engine *e = f->e;
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int i, cfd;

	(void)what;
	for (i = 0; i < ACCEPT_BATCH; i++) {
		if (e->paused) {
			/* Off until the engine resumes. */
			listener_set(l, false);
			if (!l->stalled) {
				TAILQ_INSERT_TAIL(&e->stalled, l, stall_link);
				l->stalled = true;
			}
			return;
		}
		if (f->paused)
			return; /* it turned its listeners off */
		len = sizeof(ss);
		cfd = accept4(fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EAGAIN) /* EWOULDBLOCK on Linux */
				return;
			if (!accept_retriable(errno)) {
				accept_failed(e, errno);
				return;
			}
			continue;
		}
		accept_conn(f, cfd, (const struct sockaddr *)&ss);
	}
}

/* Serve a listening socket the caller bound; ours from now on. */
static int
adopt_listener(struct frontend *f, int fd)
{
	struct listener *l = &f->ls[f->nls];

	int r;

	l->f = f;
	l->fd = fd;
	if (evutil_make_socket_nonblocking(fd) < 0 ||
	    evutil_make_socket_closeonexec(fd) < 0) {
		r = -errno;
		(void)close(fd);
		return r;
	}
	l->ev = event_new(
	    f->e->base, fd, EV_READ | EV_PERSIST, listener_readable, l);
	if (l->ev == NULL) {
		(void)close(fd);
		return -ENOMEM;
	}
	f->nls++;
	/* Paused, it goes off as soon as it has a connection. */
	listener_set(l, true);
	return l->on ? 0 : -ENOMEM;
}

static void
close_listeners(struct frontend *f)
{
	struct listener *l;
	int i;

	for (i = 0; i < f->nls; i++) {
		l = &f->ls[i];
		if (l->stalled)
			TAILQ_REMOVE(&f->e->stalled, l, stall_link);
		event_free(l->ev);
		(void)close(l->fd);
	}
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
	struct conn *c, *next;
	struct pool *p;

	(void)what;
	if (e->draining)
		return;
	log_info(
	    "signal %d: no new connections, finishing %u", (int)sig, e->conns);
	notify_stopping();
	e->draining = true;
	for (f = LIST_FIRST(&e->frontends); f != NULL; f = LIST_NEXT(f, link))
		close_listeners(f);
	for (p = e->pools; p != NULL; p = p->next)
		pool_close_all(p);
	/*
	 * A keep-alive connection between requests would hold the stop for
	 * its whole timeout (a fleet restart, its clients waiting in the
	 * backlog meanwhile): closed now, as haproxy does; its client opens
	 * another for its next request. One with a request begun finishes.
	 */
	for (c = LIST_FIRST(&e->all); c != NULL; c = next) {
		next = LIST_NEXT(c, all_link);
		if (!c->fresh && !c->in_request && !c->forwarding &&
		    !c->waiting && !c->closing && c->held == NULL)
			conn_close(c);
	}
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
/*
 * The access lines of a turn of the loop go to the log file in one write:
 * the first wakes this event, which runs after the turn's other events.
 */
static void
flush_log(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	log_flush();
}

static void
wake_log_flush(void *arg)
{
	struct engine *e = arg;

	event_active(e->log_flush, EV_TIMEOUT, 0);
}

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
	e->idle_max = d->agent_idle_max;
	e->agent_max = d->agent_max;
	e->net_maxconn = (unsigned int)d->network_maxconn;
	e->fleet = d->fleet;
	e->log_format = d->log_json ? ACCESSLOG_JSON : ACCESSLOG_HTTPLOG;
	gettimeofday(&e->started, NULL);
	LIST_INIT(&e->frontends);
	TAILQ_INIT(&e->stalled);
	LIST_INIT(&e->all);
	ms_to_tv(d->agent_idle_timeout, &e->t_idle);
	event_set_log_callback(event_log);
	*what = "creating the event loop";
	e->base = event_base_new();
	if (e->base == NULL)
		goto fail;
	raise_fd_limit(e->maxconn);
	e->scratch = malloc(ENGINE_READ_MAX);
	if (e->scratch == NULL)
		goto fail;
	e->backoff_timer = evtimer_new(e->base, resume_accepting, e);
	e->trim_timer = evtimer_new(e->base, trim_memory, e);
	e->logcap_timer = evtimer_new(e->base, logcap_flush, e);
	e->log_flush = event_new(e->base, -1, 0, flush_log, e);
	if (e->backoff_timer == NULL || e->trim_timer == NULL ||
	    e->logcap_timer == NULL || e->log_flush == NULL)
		goto fail;
	log_access_batch(wake_log_flush, e);
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

/* The pool of idle connections to this agent socket, made when first met. */
static struct pool *
pool_for(struct engine *e, const struct sockaddr_un *addr, socklen_t len)
{
	struct pool *p;

	for (p = e->pools; p != NULL; p = p->next)
		if (p->addr_len == len && memcmp(&p->addr, addr, len) == 0)
			return p;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->e = e;
	memcpy(&p->addr, addr, len);
	p->addr_len = len;
	TAILQ_INIT(&p->idle);
	TAILQ_INIT(&p->turns);
	p->timer = evtimer_new(e->base, pool_expire, p);
	p->wake = event_new(e->base, -1, 0, pool_wake, p);
	if (p->timer == NULL || p->wake == NULL) {
		if (p->timer != NULL)
			event_free(p->timer);
		free(p);
		return NULL;
	}
	p->next = e->pools;
	e->pools = p;
	return p;
}

static void
pool_free(struct pool *p)
{
	pool_close_all(p);
	event_free(p->timer);
	event_free(p->wake);
	free(p);
}

/* Who the frontend is to the agent, and where the agent is. */
static int
frontend_setup(struct frontend *f, const struct proxy_conf *p)
{
	size_t n = strlen(p->socket_path);

	memcpy(f->id, p->id, sizeof(f->id));
	f->flavor = p->flavor;
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
	f->pool = pool_for(f->e, &f->agent, f->agent_len);
	if (f->pool == NULL)
		return -ENOMEM;
	f->pool->users++;
	ratelimit_init(&f->rate, &p->rate_limit);
	f->maxconn = f->e->net_maxconn;
	srccount_init(&f->src, p->max_conns_per_source,
	    f->maxconn > 0 && f->maxconn < f->e->maxconn ? f->maxconn
	                                                 : f->e->maxconn);
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

/* A connection of f ended: a removed network goes with its last one. */
static void
frontend_put(struct frontend *f)
{
	f->conns--;
	if (f->removed) {
		if (f->conns == 0)
			frontend_free(f);
		return;
	}
	if (f->conns == 0 && f->e->fleet)
		srccount_release(&f->src);
	if (f->paused && f->conns < f->maxconn)
		frontend_pause(f, false);
}

struct frontend *
engine_find_frontend(struct engine *e, const char *id)
{
	struct frontend *f;

	for (f = LIST_FIRST(&e->frontends); f != NULL; f = LIST_NEXT(f, link))
		if (strcmp(f->id, id) == 0)
			return f;
	return NULL;
}

void
engine_remove_frontend(struct frontend *f)
{
	LIST_REMOVE(f, link);
	f->pool->users--;
	close_listeners(f);
	f->removed = true;
	if (f->conns == 0)
		frontend_free(f);
}

const char *
engine_frontend_id(const struct frontend *f)
{
	return f->id;
}

void
engine_frontend_stats(const struct frontend *f, struct frontend_stats *st)
{
	*st = f->stats;
	st->conns = f->conns;
}

int
engine_frontend_fds(const struct frontend *f, int *fds)
{
	int i;

	for (i = 0; i < f->nls; i++)
		fds[i] = f->ls[i].fd;
	return f->nls;
}

struct event_base *
engine_base(struct engine *e)
{
	return e->base;
}

bool
engine_draining(const struct engine *e)
{
	return e->draining;
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
	TAILQ_INIT(&f->waiting);
	r = frontend_setup(f, p);
	if (r < 0) {
		*what = r == -ENOMEM ? "allocating the agent connection pool"
		                     : "the agent socket path";
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
	f->stats.since = time(NULL);
	LIST_INSERT_HEAD(&e->frontends, f, link);
	return f;
fail:
	/* The listeners not handed to libevent yet are still ours to close. */
	for (; i < nfds; i++)
		(void)close(fds[i]);
	*err = r;
	if (f != NULL && f->pool != NULL)
		f->pool->users--;
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

static void
watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	notify_watchdog();
}

/*
 * WATCHDOG=1 at half the interval the service manager asks for: sent from
 * the loop, it says the loop turns.
 */
static void
start_watchdog(struct engine *e)
{
	unsigned long long usec;
	struct timeval tv;

	if (e->watchdog != NULL || !notify_watchdog_enabled(&usec) || usec == 0)
		return;
	tv.tv_sec = (time_t)(usec / 2 / 1000000);
	tv.tv_usec = (suseconds_t)(usec / 2 % 1000000);
	e->watchdog = event_new(e->base, -1, EV_PERSIST, watchdog, NULL);
	if (e->watchdog == NULL || event_add(e->watchdog, &tv) < 0)
		log_warn("cannot keep the watchdog: %s", strerror(ENOMEM));
}

int
engine_run(struct engine *e)
{
	(void)signal(SIGPIPE, SIG_IGN);
	start_watchdog(e);
	errno = 0;
	if (event_base_dispatch(e->base) < 0)
		return errno != 0 ? -errno : -EIO;
	return 0;
}

void
engine_free(struct engine *e)
{
	struct frontend *f;
	struct pool *p;

	if (e == NULL)
		return;
	while (!LIST_EMPTY(&e->frontends)) {
		f = LIST_FIRST(&e->frontends);
		LIST_REMOVE(f, link);
		frontend_free(f);
	}
	while (e->pools != NULL) {
		p = e->pools;
		e->pools = p->next;
		pool_free(p);
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
	if (e->watchdog != NULL)
		event_free(e->watchdog);
	if (e->log_flush != NULL) {
		log_access_batch(NULL, NULL); /* what this turn left, written */
		event_free(e->log_flush);
	}
	strbuf_release(&e->line);
	if (e->logcap_timer != NULL)
		event_free(e->logcap_timer);
	if (e->base != NULL)
		event_base_free(e->base);
	free(e->logcap);
	free(e->scratch);
	free(e);
}

/* ---- what the engine tells: metrics, health ---- */

static int
view_cmp(const void *a, const void *b)
{
	const struct metrics_net_view *x = a, *y = b;

	return strcmp(x->id, y->id);
}

/* Field k (3: state) of /proc/self/stat's text after the name, or -1. */
static long long
stat_field(const char *after_name, int k)
{
	const char *p = after_name;
	unsigned long long v;
	char *end;
	int i;

	for (i = 3; i < k && p != NULL; i++) {
		p = strchr(p + 1, ' ');
	}
	if (p == NULL || p[1] < '0' || p[1] > '9')
		return -1;
	errno = 0;
	v = strtoull(p + 1, &end, 10);
	if (errno != 0 || (*end != ' ' && *end != '\n' && *end != '\0') ||
	    v > (unsigned long long)LLONG_MAX)
		return -1;
	return (long long)v;
}

/* What /proc says of this process; fields it will not say stay -1. */
static void
process_sample(struct metrics_process *mp)
{
	char buf[1024];
	const char *p = NULL;
	long long utime, stime, vsize, rss;
	long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	struct rlimit rl;
	struct dirent *de;
	DIR *d;
	ssize_t n;
	long long fds = 0;

	mp->cpu_seconds = -1;
	mp->open_fds = mp->max_fds = mp->rss_bytes = mp->vsize_bytes = -1;
	n = fd_read_proc(getpid(), "stat", buf, sizeof(buf));
	if (n > 0) {
		/* The name may hold blanks and parentheses: after the last. */
		p = strrchr(buf, ')');
	}
	if (p != NULL && tick > 0 && page > 0) {
		/* p + 1 is the blank before field 3. */
		utime = stat_field(p + 1, 14);
		stime = stat_field(p + 1, 15);
		vsize = stat_field(p + 1, 23);
		rss = stat_field(p + 1, 24);
		if (utime >= 0 && stime >= 0)
			mp->cpu_seconds =
			    (double)(utime + stime) / (double)tick;
		mp->vsize_bytes = vsize;
		if (rss >= 0)
			mp->rss_bytes = rss * page;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		mp->max_fds = (long long)rl.rlim_cur;
	d = opendir("/proc/self/fd");
	if (d != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				fds++;
		(void)closedir(d);
		mp->open_fds = fds - 1; /* not the one reading it */
	}
}

int
engine_metrics(struct engine *e, struct strbuf *out)
{
	struct metrics_net_view *nets = NULL;
	struct metrics_pool_view *pools = NULL;
	struct metrics_process mp;
	struct frontend *f;
	struct pool *p;
	struct timeval now;
	size_t n = 0, np = 0, i;
	int r = -ENOMEM;

	for (f = LIST_FIRST(&e->frontends); f != NULL; f = LIST_NEXT(f, link))
		n++;
	for (p = e->pools; p != NULL; p = p->next)
		np += p->users > 0;
	nets = calloc(n + 1, sizeof(*nets));
	pools = calloc(np + 1, sizeof(*pools));
	if (nets == NULL || pools == NULL)
		goto out;
	i = 0;
	for (f = LIST_FIRST(&e->frontends); f != NULL; f = LIST_NEXT(f, link)) {
		nets[i].id = f->id;
		nets[i].flavor = f->flavor == FLAVOR_OVN ? "ovn" : "neutron";
		nets[i].m = &f->m;
		nets[i++].conns = f->conns;
	}
	qsort(nets, n, sizeof(*nets), view_cmp);
	i = 0;
	for (p = e->pools; p != NULL; p = p->next) {
		if (p->users == 0)
			continue; /* no network names it now */
		pools[i].agent = p->addr.sun_path;
		pools[i].open = p->open;
		pools[i].idle = p->n;
		pools[i].max = e->agent_max;
		pools[i++].waiting = p->waiting;
	}
	memset(&mp, 0, sizeof(mp));
	process_sample(&mp);
	gettimeofday(&now, NULL);
	mp.version = NMP_VERSION;
	mp.start_time =
	    (double)e->started.tv_sec + (double)e->started.tv_usec / 1e6;
	mp.uptime = (double)(now.tv_sec - e->started.tv_sec) +
	            (double)(now.tv_usec - e->started.tv_usec) / 1e6;
	mp.networks = (unsigned long)n;
	mp.conns = e->conns;
	mp.maxconn = e->maxconn;
	r = metrics_render(&mp, pools, np, nets, n, out);
out:
	free(nets);
	free(pools);
	return r;
}

/* Does the agent take a connection now? 0 or -errno. */
static int
agent_probe(const struct pool *p)
{
	int fd, r = 0;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&p->addr, p->addr_len) < 0 &&
	    errno != EINPROGRESS)
		r = -errno;
	(void)close(fd);
	return r;
}

void
engine_health(struct engine *e, struct engine_health *h)
{
	struct frontend *f;
	struct pool *p;
	int i, on;
	socklen_t len;

	memset(h, 0, sizeof(*h));
	h->draining = e->draining;
	for (f = LIST_FIRST(&e->frontends); f != NULL; f = LIST_NEXT(f, link)) {
		h->networks++;
		for (i = 0; i < f->nls; i++) {
			h->listeners++;
			on = 0;
			len = sizeof(on);
			if (getsockopt(f->ls[i].fd, SOL_SOCKET, SO_ACCEPTCONN,
			        &on, &len) == 0 &&
			    on != 0)
				h->listening++;
		}
		if (f->nls == 0)
			h->unbound++;
	}
	for (p = e->pools; p != NULL; p = p->next) {
		if (p->users == 0)
			continue;
		if (h->nagents == ENGINE_HEALTH_AGENTS) {
			h->agents_more = true;
			break;
		}
		(void)snprintf(h->agents[h->nagents].path,
		    sizeof(h->agents[0].path), "%s", p->addr.sun_path);
		h->agents[h->nagents++].err = agent_probe(p);
	}
}
