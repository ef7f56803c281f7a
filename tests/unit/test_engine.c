/*
 * The engine with several networks in one process: each frontend answers
 * with its own identity, to its own agent, under its own per-address cap,
 * and one stop ends them all. The engine runs in a child (it serves until
 * SIGTERM); this process is the client and the agents.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/engine.h"
#include "listener.h"

#define NET 3
#define WAIT_MS 5000

static const char *const ids[NET] = {
    "11111111-1111-4111-8111-111111111111",
    "22222222-2222-4222-8222-222222222222",
    "33333333-3333-4333-8333-333333333333",
};

struct net {
	struct proxy_conf p;
	int listen_fd;
	unsigned int port;
	int agent_fd; /* the agent's listening unix socket, ours */
};

struct world {
	char dir[64];
	struct net n[NET];
	pid_t child;
	unsigned long agent_max; /* connections per agent socket */
};

/*
 * The next setup's cap on agent connections (0: a roomy 64), and its
 * timeout connect (0: 5 s): how long a request waits for one.
 */
static unsigned long next_agent_max;
static unsigned long next_connect_ms;

static unsigned int
port_of(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	memset(&sin, 0, sizeof(sin));
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	return ntohs(sin.sin_port);
}

static void
conf_of(struct proxy_conf *p, const char *id, const char *sock)
{
	memset(p, 0, sizeof(*p));
	p->flavor = FLAVOR_NEUTRON;
	p->id_kind = ID_NETWORK;
	(void)snprintf(p->id, sizeof(p->id), "%s", id);
	(void)snprintf(p->socket_path, sizeof(p->socket_path), "%s", sock);
	(void)snprintf(p->bind_address, sizeof(p->bind_address), "127.0.0.1");
	p->timeouts.http_request = 5000;
	p->timeouts.connect = 5000;
	p->timeouts.client = 5000;
	p->timeouts.server = 5000;
	p->timeouts.http_keep_alive = 5000;
	p->max_conns_per_source = 64;
	p->max_body_size = 65536;
}

static int
agent_listen(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(sun.sun_path));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fd, 16), 0);
	return fd;
}

/* The engine, in the child: every network of w, until SIGTERM. */
static void
serve(struct world *w)
{
	struct daemon_conf d;
	struct engine *e;
	const char *what = "";
	int err = 0, i;

	memset(&d, 0, sizeof(d));
	d.maxconn = 64;
	d.agent_idle_max = 8;
	d.agent_idle_timeout = 5000;
	d.agent_max = w->agent_max;
	e = engine_new(&d, &err, &what);
	if (e == NULL)
		_exit(2);
	for (i = 0; i < NET; i++) {
		(void)close(w->n[i].agent_fd);
		if (engine_add_frontend(e, &w->n[i].p, &w->n[i].listen_fd, 1,
		        &err, &what) == NULL)
			_exit(3);
	}
	err = engine_run(e);
	engine_free(e);
	_exit(err == 0 ? 0 : 4);
}

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	char sock[128];
	int i;

	assert_non_null(w);
	(void)snprintf(w->dir, sizeof(w->dir), "/tmp/nmp-engine-XXXXXX");
	assert_non_null(mkdtemp(w->dir));
	for (i = 0; i < NET; i++) {
		/* Networks 0 and 1 share an agent; 2 has its own. */
		(void)snprintf(sock, sizeof(sock), "%s/agent%d.sock", w->dir,
		    i == 2 ? 2 : 0);
		conf_of(&w->n[i].p, ids[i], sock);
		w->n[i].agent_fd =
		    i == 1 ? w->n[0].agent_fd : agent_listen(sock);
		assert_int_equal(
		    listener_open("127.0.0.1", 0, NULL, 16, &w->n[i].listen_fd),
		    0);
		w->n[i].port = port_of(w->n[i].listen_fd);
	}
	w->n[1].p.id_kind = ID_ROUTER;
	w->n[2].p.flavor = FLAVOR_OVN;
	w->n[2].p.max_conns_per_source = 1;
	w->agent_max = next_agent_max > 0 ? next_agent_max : 64;
	if (next_agent_max > 0) {
		/* Network 2 streams bodies; its agent is its own. */
		w->n[2].p.max_conns_per_source = 64;
		w->n[2].p.max_body_size = 0;
	}
	for (i = 0; i < NET && next_connect_ms > 0; i++)
		w->n[i].p.timeouts.connect = next_connect_ms;
	w->child = fork();
	assert_true(w->child >= 0);
	if (w->child == 0)
		serve(w);
	for (i = 0; i < NET; i++)
		(void)close(w->n[i].listen_fd);
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;
	char path[128];
	int i, status = 0;

	if (w->child > 0) {
		(void)kill(w->child, SIGKILL);
		(void)waitpid(w->child, &status, 0);
	}
	for (i = 0; i < NET; i++) {
		if (i != 1)
			(void)close(w->n[i].agent_fd);
		(void)snprintf(
		    path, sizeof(path), "%s/agent%d.sock", w->dir, i);
		(void)unlink(path);
	}
	(void)rmdir(w->dir);
	free(w);
	return 0;
}

static int
client_to(unsigned int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

static bool
readable(int fd)
{
	struct pollfd pfd = {fd, POLLIN, 0};

	return poll(&pfd, 1, WAIT_MS) == 1;
}

/* Read until the peer closes or a blank line ends a head (want_head). */
static size_t
read_some(int fd, char *buf, size_t size, bool want_head)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < size && readable(fd)) {
		n = read(fd, buf + len, size - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (want_head && strstr(buf, "\r\n\r\n") != NULL)
			break;
	}
	buf[len] = '\0';
	return len;
}

/* Read until want has come (or nothing more does, within WAIT_MS). */
static void
read_until(int fd, char *buf, size_t size, const char *want)
{
	size_t len = 0;
	ssize_t n;

	buf[0] = '\0';
	while (strstr(buf, want) == NULL && len + 1 < size && readable(fd)) {
		n = read(fd, buf + len, size - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
	}
	assert_non_null(strstr(buf, want));
}

/* A request to network i, answered by its agent; what the agent read. */
static void
ask(struct world *w, int i, const char *want_header)
{
	static const char req[] =
	    "GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n"
	    "X-Neutron-Network-ID: spoofed\r\nConnection: close\r\n\r\n";
	static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	                             "Connection: close\r\n\r\nok";
	char head[4096], resp[4096], line[128];
	int c = client_to(w->n[i].port), a;

	assert_int_equal(
	    write(c, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
	assert_true(readable(w->n[i].agent_fd));
	a = accept(w->n[i].agent_fd, NULL, NULL);
	assert_true(a >= 0);
	assert_true(read_some(a, head, sizeof(head), true) > 0);
	(void)snprintf(
	    line, sizeof(line), "\r\n%s: %s\r\n", want_header, ids[i]);
	assert_non_null(strstr(head, line));
	assert_null(strstr(head, "spoofed"));
	assert_non_null(strstr(head, "\r\nX-Forwarded-For: 127.0.0.1\r\n"));
	assert_int_equal(
	    write(a, answer, sizeof(answer) - 1), (ssize_t)sizeof(answer) - 1);
	(void)close(a);
	assert_true(read_some(c, resp, sizeof(resp), false) > 0);
	assert_int_equal(strncmp(resp, "HTTP/1.1 200 ", 13), 0);
	assert_non_null(strstr(resp, "\r\n\r\nok"));
	(void)close(c);
}

static void
test_each_network_its_identity(void **state)
{
	struct world *w = *state;

	/* Twice round, in another order: no frontend answers for another. */
	ask(w, 2, "X-OVN-Network-ID");
	ask(w, 0, "X-Neutron-Network-ID");
	ask(w, 1, "X-Neutron-Router-ID");
	ask(w, 1, "X-Neutron-Router-ID");
	ask(w, 0, "X-Neutron-Network-ID");
	ask(w, 2, "X-OVN-Network-ID");
}

/*
 * Network 2 lets an address hold one connection: the second is closed
 * unanswered, while network 0 still serves the same address.
 */
static void
test_caps_are_per_network(void **state)
{
	struct world *w = *state;
	char buf[256];
	int held = client_to(w->n[2].port), over, i;

	/* The held one is accepted (its request is answered 408 later). */
	over = client_to(w->n[2].port);
	assert_true(readable(over));
	assert_int_equal(read(over, buf, sizeof(buf)), 0);
	(void)close(over);
	for (i = 0; i < 3; i++)
		ask(w, 0, "X-Neutron-Network-ID");
	(void)close(held);
}

/* A GET to network i from a new client; the client's socket. */
static int
get(struct world *w, int i)
{
	static const char req[] = "GET /r HTTP/1.1\r\nHost: 169.254.169.254\r\n"
	                          "Connection: close\r\n\r\n";
	int c = client_to(w->n[i].port);

	assert_int_equal(
	    write(c, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
	return c;
}

/*
 * The agent reads a head on a: network i's identity, and not asked to
 * close (a GET: the connection may be reused).
 */
static void
agent_head(int a, int i, const char *id_header)
{
	char head[4096], line[128];

	assert_true(read_some(a, head, sizeof(head), true) > 0);
	(void)snprintf(line, sizeof(line), "\r\n%s: %s\r\n", id_header, ids[i]);
	assert_non_null(strstr(head, line));
	assert_non_null(strstr(head, "\r\nX-Forwarded-For: 127.0.0.1\r\n"));
	assert_null(strstr(head, "Connection: close"));
}

static void
say(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* The client got a 200 whose body starts with body; then closed. */
static void
client_ok(int c, const char *body)
{
	char want[64];

	char resp[4096];

	assert_true(read_some(c, resp, sizeof(resp), false) > 0);
	assert_int_equal(strncmp(resp, "HTTP/1.1 200 ", 13), 0);
	(void)snprintf(want, sizeof(want), "\r\n\r\n%s", body);
	assert_non_null(strstr(resp, want));
	(void)close(c);
}

/* An answer the agent may keep its connection after. */
static const char AGENT_OK[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/* The agent answers on a; the client c gets it. */
static void
agent_answers(int a, int c)
{
	say(a, AGENT_OK);
	client_ok(c, "ok");
}

/* A keep-alive GET on the client connection c. */
static void
keep_get(int c)
{
	say(c, "GET /k HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n");
}

/* A whole 200 with body "ok" on the client connection c, which stays. */
static void
keep_ok(int c)
{
	char resp[4096];
	size_t len = 0;
	ssize_t n;

	resp[0] = '\0';
	while (strstr(resp, "\r\n\r\nok") == NULL && len + 1 < sizeof(resp) &&
	       readable(c)) {
		n = read(c, resp + len, sizeof(resp) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		resp[len] = '\0';
	}
	assert_int_equal(strncmp(resp, "HTTP/1.1 200 ", 13), 0);
	assert_non_null(strstr(resp, "\r\n\r\nok"));
}

/* The engine closed the agent connection a (EOF within WAIT_MS). */
static void
agent_closed(int a)
{
	char buf[64];

	assert_true(readable(a));
	assert_int_equal(read(a, buf, sizeof(buf)), 0);
	(void)close(a);
}

static int
agent_accept(struct world *w, int i)
{
	int a;

	assert_true(readable(w->n[i].agent_fd));
	a = accept(w->n[i].agent_fd, NULL, NULL);
	assert_true(a >= 0);
	return a;
}

/*
 * Agent connections are reused per agent socket, across the networks that
 * share it, each request with its own network's identity; a reused one
 * the agent closes before answering is retried once on a new one; an
 * answer framed otherwise than by Content-Length, or with bytes after it,
 * closes the connection.
 */
static void
test_agent_reuse(void **state)
{
	struct world *w = *state;
	int c, a1, a2, a3, a4, a5;
	struct pollfd pfd;

	c = get(w, 0);
	a1 = agent_accept(w, 0);
	agent_head(a1, 0, "X-Neutron-Network-ID");
	agent_answers(a1, c);
	/* Network 1 shares the socket: the same connection, its identity. */
	c = get(w, 1);
	agent_head(a1, 1, "X-Neutron-Router-ID");
	pfd.fd = w->n[0].agent_fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	assert_int_equal(poll(&pfd, 1, 0), 0); /* no new connection */
	agent_answers(a1, c);
	/* The agent closes the reused one unanswered: sent again, anew. */
	c = get(w, 0);
	agent_head(a1, 0, "X-Neutron-Network-ID");
	(void)close(a1);
	a2 = agent_accept(w, 0);
	agent_head(a2, 0, "X-Neutron-Network-ID");
	agent_answers(a2, c);
	/* A chunked answer: relayed, and the connection closed. */
	c = get(w, 0);
	agent_head(a2, 0, "X-Neutron-Network-ID");
	say(a2, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	        "2\r\nok\r\n0\r\n\r\n");
	agent_closed(a2);
	client_ok(c, "2\r\nok\r\n0\r\n");
	/* Bytes after the answer: the connection is closed, not kept. */
	c = get(w, 0);
	a3 = agent_accept(w, 0);
	agent_head(a3, 0, "X-Neutron-Network-ID");
	say(a3, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200");
	agent_closed(a3);
	client_ok(c, "ok");
	/*
	 * The agent stops reading a kept connection (no event reaches us):
	 * the send fails, the request goes anew, and the client's connection
	 * reads its next request whole.
	 */
	c = client_to(w->n[0].port);
	keep_get(c);
	a4 = agent_accept(w, 0);
	agent_head(a4, 0, "X-Neutron-Network-ID");
	say(a4, AGENT_OK);
	keep_ok(c);
	assert_int_equal(shutdown(a4, SHUT_RD), 0);
	keep_get(c);
	a5 = agent_accept(w, 0);
	agent_head(a5, 0, "X-Neutron-Network-ID");
	say(a5, AGENT_OK);
	keep_ok(c);
	keep_get(c);
	agent_head(a5, 0, "X-Neutron-Network-ID");
	say(a5, AGENT_OK);
	keep_ok(c);
	(void)close(c);
	(void)close(a4);
	(void)close(a5);
}

/* Agent connections capped at 2 per agent socket. */
static int
setup_capped(void **state)
{
	next_agent_max = 2;
	next_connect_ms = 0;
	return setup(state);
}

/* The same, and a request waits 400 ms at most. */
static int
setup_capped_short(void **state)
{
	next_agent_max = 2;
	next_connect_ms = 400;
	return setup(state);
}

static int
teardown_capped(void **state)
{
	next_agent_max = 0;
	next_connect_ms = 0;
	return teardown(state);
}

/* No new connection reaches agent socket i's listener for a while. */
static void
no_new_agent_conn(struct world *w, int i)
{
	struct pollfd pfd = {w->n[i].agent_fd, POLLIN, 0};

	assert_int_equal(poll(&pfd, 1, 300), 0);
}

/*
 * At the cap, requests wait; as connections come free they go, one
 * network's at a time in turn: network 1's request goes before network
 * 0's second waiting one, though it came later. A request that cannot
 * reuse the free connection closes it and opens its own.
 */
static void
test_agent_cap_waits_in_turn(void **state)
{
	static const char post[] =
	    "POST /p HTTP/1.1\r\nHost: 169.254.169.254\r\n"
	    "Content-Length: 5\r\nConnection: close\r\n\r\nhello";
	struct world *w = *state;
	char head[4096], line[128];
	int c1, c2, c3, c4, c5, a1, a2, a3, a4;

	c1 = get(w, 0);
	a1 = agent_accept(w, 0);
	agent_head(a1, 0, "X-Neutron-Network-ID");
	c2 = get(w, 0);
	a2 = agent_accept(w, 0);
	agent_head(a2, 0, "X-Neutron-Network-ID");
	/* Two open: the next ones wait, network 0's first. */
	c3 = get(w, 0);
	(void)usleep(100000);
	c4 = get(w, 0);
	(void)usleep(100000);
	c5 = client_to(w->n[1].port);
	say(c5, post);
	no_new_agent_conn(w, 0);
	/* a1 comes free: network 0's oldest takes it. */
	agent_answers(a1, c1);
	agent_head(a1, 0, "X-Neutron-Network-ID");
	/* Free again: network 1's turn; its POST closes a1, opens anew. */
	agent_answers(a1, c3);
	agent_closed(a1);
	a3 = agent_accept(w, 1);
	read_until(a3, head, sizeof(head), "\r\n\r\nhello");
	(void)snprintf(
	    line, sizeof(line), "\r\nX-Neutron-Router-ID: %s\r\n", ids[1]);
	assert_non_null(strstr(head, line));
	assert_non_null(strstr(head, "\r\n\r\nhello"));
	agent_answers(a3, c5);
	(void)close(a3);
	/* Then network 0's last. */
	a4 = agent_accept(w, 0);
	agent_head(a4, 0, "X-Neutron-Network-ID");
	agent_answers(a4, c4);
	agent_answers(a2, c2);
	(void)close(a2);
	(void)close(a4);
}

/*
 * A request that waits past its timeout connect is answered 503, without
 * an agent connection; one whose client goes while it waits is never
 * sent; a body that streams (no body cap) while its request waits is held
 * up to a bound, then sent whole.
 */
static void
test_agent_cap_timeout_and_stream(void **state)
{
	struct world *w = *state;
	static char body[200000];
	char resp[4096], head[1024], *p;
	struct pollfd pfd;
	int c1, c2, c3, c4, a1, a2, a3;
	size_t got = 0, off;
	ssize_t n;

	c1 = get(w, 0);
	a1 = agent_accept(w, 0);
	agent_head(a1, 0, "X-Neutron-Network-ID");
	c2 = get(w, 1);
	a2 = agent_accept(w, 0);
	agent_head(a2, 1, "X-Neutron-Router-ID");
	/* A client gone while its request waits: never sent. */
	c4 = get(w, 0);
	(void)usleep(100000);
	(void)close(c4);
	(void)usleep(100000);
	agent_answers(a1, c1);
	pfd.fd = a1;
	pfd.events = POLLIN;
	pfd.revents = 0;
	assert_int_equal(poll(&pfd, 1, 200), 0);
	/* a1 taken again; the next one waits past 400 ms: 503. */
	c1 = get(w, 0);
	agent_head(a1, 0, "X-Neutron-Network-ID");
	c3 = get(w, 0);
	assert_true(read_some(c3, resp, sizeof(resp), false) > 0);
	assert_int_equal(strncmp(resp, "HTTP/1.1 503 ", 13), 0);
	(void)close(c3);
	no_new_agent_conn(w, 0);
	agent_answers(a1, c1);
	agent_answers(a2, c2);
	(void)close(a1);
	(void)close(a2);

	/* Network 2 streams: its two connections held, a large POST waits. */
	c1 = get(w, 2);
	a1 = agent_accept(w, 2);
	agent_head(a1, 2, "X-OVN-Network-ID");
	c2 = get(w, 2);
	a2 = agent_accept(w, 2);
	agent_head(a2, 2, "X-OVN-Network-ID");
	memset(body, 'b', sizeof(body));
	c3 = client_to(w->n[2].port);
	(void)snprintf(head, sizeof(head),
	    "POST /s HTTP/1.1\r\nHost: 169.254.169.254\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	    sizeof(body));
	say(c3, head);
	for (off = 0; off < sizeof(body); off += (size_t)n) {
		n = write(c3, body + off, sizeof(body) - off);
		assert_true(n > 0);
	}
	(void)usleep(100000);
	agent_answers(a1, c1);
	agent_closed(a1);
	a3 = agent_accept(w, 2);
	/* The whole body, once, after the head. */
	p = malloc(sizeof(body) + 4096);
	assert_non_null(p);
	while (readable(a3)) {
		n = read(a3, p + got, sizeof(body) + 4095 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		p[got] = '\0';
		if (strstr(p, "\r\n\r\n") != NULL &&
		    (size_t)(p + got - strstr(p, "\r\n\r\n") - 4) >=
		        sizeof(body))
			break;
	}
	p[got] = '\0';
	assert_non_null(strstr(p, "\r\nX-OVN-Network-ID: "));
	assert_int_equal(
	    (size_t)(p + got - strstr(p, "\r\n\r\n") - 4), sizeof(body));
	free(p);
	agent_answers(a3, c3);
	agent_answers(a2, c2);
	(void)close(a2);
	(void)close(a3);
}

/*
 * A stop closes a keep-alive connection idle between requests at once
 * (else it would hold the stop for its keep-alive timeout, 5 s here),
 * and the engine exits 0.
 */
static void
test_stop_closes_idle(void **state)
{
	struct world *w = *state;
	struct timespec t0, t1;
	char buf[64];
	int c = client_to(w->n[0].port), a, status = -1, i;
	long ms;

	keep_get(c);
	a = agent_accept(w, 0);
	assert_true(read_some(a, buf, sizeof(buf), false) > 0);
	say(a, AGENT_OK);
	keep_ok(c);
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(kill(w->child, SIGTERM), 0);
	for (i = 0; i < WAIT_MS / 10; i++) {
		if (waitpid(w->child, &status, WNOHANG) == w->child)
			break;
		(void)usleep(10000);
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	     (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	w->child = 0;
	if (ms >= 2500)
		fail_msg("the stop waited %ld ms for an idle connection", ms);
	assert_true(readable(c));
	assert_int_equal(read(c, buf, sizeof(buf)), 0);
	(void)close(c);
	(void)close(a);
}

/* One SIGTERM stops every network, and the engine exits 0. */
static void
test_one_stop(void **state)
{
	struct world *w = *state;
	int status = -1, i;

	ask(w, 1, "X-Neutron-Router-ID");
	assert_int_equal(kill(w->child, SIGTERM), 0);
	for (i = 0; i < WAIT_MS / 10; i++) {
		if (waitpid(w->child, &status, WNOHANG) == w->child)
			break;
		(void)usleep(10000);
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	w->child = 0;
	/* No listener of any network is left. */
	for (i = 0; i < NET; i++) {
		struct sockaddr_in sin;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)w->n[i].port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(
		    connect(fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
		assert_int_equal(errno, ECONNREFUSED);
		(void)close(fd);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_each_network_its_identity, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_stop_closes_idle, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_caps_are_per_network, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_agent_reuse, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_agent_cap_waits_in_turn, setup_capped, teardown_capped),
	    cmocka_unit_test_setup_teardown(test_agent_cap_timeout_and_stream,
	        setup_capped_short, teardown_capped),
	    cmocka_unit_test_setup_teardown(test_one_stop, setup, teardown),
	};

	(void)signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
