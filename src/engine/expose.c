#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "engine/expose.h"
#include "engine/metrics.h"
#include "log.h"
#include "strbuf.h"
#include "banned.h"

/* A scrape is a few requests a minute: slow or idle peers go soon. */
#define EXPOSE_TIMEOUT_S 10
#define EXPOSE_HEADERS_MAX 8192

struct expose {
	struct engine *e;
	struct evhttp *http;
};

static void
reply(struct evhttp_request *req, int code, const char *reason,
    const char *type, const char *body, size_t len)
{
	struct evbuffer *b = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	if (b == NULL || evbuffer_add(b, body, len) < 0) {
		if (b != NULL)
			evbuffer_free(b);
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	(void)evhttp_add_header(h, "Content-Type", type);
	(void)evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

static void
health(struct expose *x, struct evhttp_request *req)
{
	struct engine_health h;
	struct strbuf out = STRBUF_INIT;
	bool ok;
	size_t i;

	engine_health(x->e, &h);
	ok = !h.draining && h.listening == h.listeners && h.unbound == 0;
	for (i = 0; i < h.nagents; i++)
		if (h.agents[i].err != 0)
			ok = false;
	(void)strbuf_appendf(&out,
	    "status: %s\nnetworks: %lu\nlisteners: %lu\nlistening: %lu\n",
	    h.draining ? "stopping"
	    : ok       ? "ok"
	               : "degraded",
	    h.networks, h.listeners, h.listening);
	for (i = 0; i < h.nagents; i++)
		(void)strbuf_appendf(&out, "agent: %s %s%s%s\n",
		    h.agents[i].path,
		    h.agents[i].err == 0 ? "reachable" : "unreachable",
		    h.agents[i].err == 0 ? "" : ": ",
		    h.agents[i].err == 0 ? "" : strerror(-h.agents[i].err));
	if (out.failed)
		evhttp_send_error(req, 500, "out of memory");
	else
		reply(req, ok ? 200 : 503, ok ? "OK" : "Service Unavailable",
		    "text/plain; charset=utf-8", out.buf, out.len);
	strbuf_release(&out);
}

static void
metrics(struct expose *x, struct evhttp_request *req)
{
	struct strbuf out = STRBUF_INIT;

	if (engine_metrics(x->e, &out) < 0 || out.failed)
		evhttp_send_error(req, 500, "out of memory");
	else
		reply(req, 200, "OK", METRICS_CONTENT_TYPE, out.buf, out.len);
	strbuf_release(&out);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct expose *x = arg;
	const char *uri = evhttp_request_get_uri(req);
	const char *q;
	size_t n;

	/* The path alone: a scraper may add a query string. */
	q = uri != NULL ? strchr(uri, '?') : NULL;
	n = uri == NULL ? 0 : q != NULL ? (size_t)(q - uri) : strlen(uri);
	if (n == strlen("/metrics") && strncmp(uri, "/metrics", n) == 0)
		metrics(x, req);
	else if (n == strlen("/health") && strncmp(uri, "/health", n) == 0)
		health(x, req);
	else
		evhttp_send_error(req, 404, "only /metrics and /health");
}

struct expose *
expose_new(struct engine *e, int fd, int *err)
{
	struct expose *x = calloc(1, sizeof(*x));

	*err = -ENOMEM;
	if (x == NULL) {
		(void)close(fd);
		return NULL;
	}
	x->e = e;
	x->http = evhttp_new(engine_base(e));
	if (x->http == NULL) {
		(void)close(fd);
		free(x);
		return NULL;
	}
	evhttp_set_allowed_methods(x->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(x->http, EXPOSE_TIMEOUT_S);
	evhttp_set_max_headers_size(x->http, EXPOSE_HEADERS_MAX);
	evhttp_set_max_body_size(x->http, 0);
	evhttp_set_gencb(x->http, on_request, x);
	if (evhttp_accept_socket_with_handle(x->http, fd) == NULL) {
		*err = errno != 0 ? -errno : -EINVAL;
		(void)close(fd);
		expose_free(x);
		return NULL;
	}
	*err = 0;
	return x;
}

void
expose_free(struct expose *x)
{
	if (x == NULL)
		return;
	if (x->http != NULL)
		evhttp_free(x->http);
	free(x);
}
