/*
 * A fast fake metadata agent for the benchmarks: libevent's evhttp answers
 * every request with 200 and a small fixed JSON body, on a unix socket (what
 * the proxy forwards to) and optionally on 127.0.0.1:PORT (wrk straight at
 * the agent: the ceiling of the machine). Keep-alive is evhttp's. One thread.
 * It counts requests, those with an id header, and accepted connections (on
 * both sockets). SIGUSR1: print the counts so far on stderr, one line
 * "nmp-bench-agent-counts requests=N tagged=N connections=N". SIGTERM or
 * SIGINT: stop, remove the socket, print the counts on stderr, exit 0.
 *
 * usage: nmp-bench-agent --socket PATH [--tcp PORT]
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/util.h>

/* About the size of a metadata reply (an instance id, a hostname). */
static const char BODY[] =
    "{\"instance-id\": \"i-0123456789abcdef0\", "
    "\"hostname\": \"vm-1.example.org\", \"availability-zone\": \"nova\"}\n";

struct agent {
	struct event_base *base;
	struct evbuffer *body;
	unsigned long long requests;
	unsigned long long tagged;      /* carried X-Neutron-* or X-OVN-* id */
	unsigned long long connections; /* accepted, both sockets */
};

static int
parse_port(const char *s, unsigned short *out)
{
	unsigned long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < 1 || v > 65535)
		return -ERANGE;
	*out = (unsigned short)v;
	return 0;
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct agent *a = arg;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);

	a->requests++;
	if (evhttp_find_header(in, "X-Neutron-Network-ID") != NULL ||
	    evhttp_find_header(in, "X-Neutron-Router-ID") != NULL ||
	    evhttp_find_header(in, "X-OVN-Network-ID") != NULL)
		a->tagged++;
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	/* evhttp_send_reply moves the buffer's contents out: refill each time.
	 */
	if (evbuffer_add(a->body, BODY, sizeof(BODY) - 1) != 0) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evhttp_send_reply(req, 200, "OK", a->body);
}

/* evhttp asks for the bufferevent of each connection it accepts: the one
 * it would make itself, counted. */
static struct bufferevent *
on_accept(struct event_base *base, void *arg)
{
	struct agent *a = arg;

	a->connections++;
	return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct agent *a = arg;

	(void)sig;
	(void)what;
	event_base_loopbreak(a->base);
}

static void
on_counts(evutil_socket_t sig, short what, void *arg)
{
	struct agent *a = arg;

	(void)sig;
	(void)what;
	fprintf(stderr,
	    "nmp-bench-agent-counts requests=%llu tagged=%llu "
	    "connections=%llu\n",
	    a->requests, a->tagged, a->connections);
}

/* Bind and listen on a fresh unix socket at path; returns the fd or -errno.
 * A socket left at path by an earlier run is replaced, nothing else is. */
static int
listen_unix(const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	size_t len = strlen(path);
	int fd, err;

	if (len == 0 || len >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if (unlink(path) != 0)
			return -errno;
	} else if (errno != ENOENT) {
		return -errno;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(fd, 4096) != 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static void
usage(void)
{
	fprintf(stderr, "usage: nmp-bench-agent --socket PATH [--tcp PORT]\n");
}

int
main(int argc, char **argv)
{
	struct agent a = {0};
	struct evhttp *http = NULL;
	struct event *sigterm = NULL, *sigint = NULL, *sigusr1 = NULL;
	struct sigaction sa;
	const char *path = NULL;
	unsigned short port = 0;
	bool bound_unix = false;
	int ret = EX_OSERR, fd, i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else if (strcmp(argv[i], "--tcp") == 0 && i + 1 < argc) {
			if (parse_port(argv[++i], &port) != 0) {
				fprintf(stderr,
				    "nmp-bench-agent: invalid --tcp '%s'\n",
				    argv[i]);
				return EX_USAGE;
			}
		} else {
			usage();
			return EX_USAGE;
		}
	}
	if (path == NULL || path[0] != '/') {
		usage();
		return EX_USAGE;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPIPE, &sa, NULL) != 0) {
		perror("nmp-bench-agent: sigaction");
		return EX_OSERR;
	}

	a.base = event_base_new();
	a.body = evbuffer_new();
	if (a.base == NULL || a.body == NULL)
		goto out;
	http = evhttp_new(a.base);
	if (http == NULL)
		goto out;
	evhttp_set_gencb(http, on_request, &a);
	evhttp_set_bevcb(http, on_accept, &a);

	fd = listen_unix(path);
	if (fd < 0) {
		fprintf(stderr, "nmp-bench-agent: cannot listen on '%s': %s\n",
		    path, strerror(-fd));
		goto out;
	}
	bound_unix = true;
	/* On success evhttp owns fd and closes it in evhttp_free. */
	if (evhttp_accept_socket_with_handle(http, fd) == NULL) {
		fprintf(
		    stderr, "nmp-bench-agent: cannot accept on '%s'\n", path);
		close(fd);
		goto out;
	}
	if (port != 0 &&
	    evhttp_bind_socket_with_handle(http, "127.0.0.1", port) == NULL) {
		fprintf(stderr,
		    "nmp-bench-agent: cannot listen on 127.0.0.1:%u\n",
		    (unsigned)port);
		goto out;
	}

	sigterm = evsignal_new(a.base, SIGTERM, on_signal, &a);
	sigint = evsignal_new(a.base, SIGINT, on_signal, &a);
	sigusr1 = evsignal_new(a.base, SIGUSR1, on_counts, &a);
	if (sigterm == NULL || sigint == NULL || sigusr1 == NULL ||
	    evsignal_add(sigterm, NULL) || evsignal_add(sigint, NULL) ||
	    evsignal_add(sigusr1, NULL))
		goto out;

	if (event_base_dispatch(a.base) < 0)
		goto out;
	fprintf(stderr,
	    "nmp-bench-agent: %llu requests, %llu with an id header, "
	    "%llu connections\n",
	    a.requests, a.tagged, a.connections);
	ret = 0;
out:
	if (sigterm != NULL)
		event_free(sigterm);
	if (sigint != NULL)
		event_free(sigint);
	if (sigusr1 != NULL)
		event_free(sigusr1);
	if (http != NULL)
		evhttp_free(http);
	if (bound_unix)
		unlink(path);
	if (a.body != NULL)
		evbuffer_free(a.body);
	if (a.base != NULL)
		event_base_free(a.base);
	return ret;
}
