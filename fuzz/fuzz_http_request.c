/*
 * The built-in engine's request pipeline (engine/http.h), driven as
 * engine.c drives it but without sockets. Input: byte 0 picks the
 * configuration (id header, peer family, head limits), byte 1 how the
 * client's bytes arrive (fuzz_split), the rest is what the client sends.
 * Unconsumed bytes are fed again with the next read, each feed from an
 * exact-size heap copy so ASan sees any read past it.
 *
 * Checked, besides ASan/UBSan/LeakSanitizer:
 * - the seam makes progress and reports events in order (a head, body, the
 *   end), its body bytes lie in what was fed;
 * - every request forwarded whole, re-parsed by a fresh http_parser, is one
 *   complete message with the method, target, version, Content-Length,
 *   Transfer-Encoding and (de-chunked) body that a parse of the client's
 *   bytes gives, message for message;
 * - its head starts with our X-Forwarded-For and id header, ends with our
 *   "Connection: close", holds no other header a WSGI agent would read as
 *   X-Forwarded-For, X-Neutron-*, X-OVN-*, Forwarded, X-Real-IP,
 *   X-Instance-ID(-Signature) or X-Tenant-ID (any case, '-' or '_'), no
 *   hop-by-hop header, nothing the client's Connection named, no control
 *   character, and fits the agent's read; an HTTP/1.1 request has one
 *   Host, the target is a path, a whole body is within the body cap;
 * - a request cut off by an error reached the agent as a prefix of itself;
 * - agent connection reuse: http_agent_head(out, false) is out->head, which
 *   ends in "Connection: close"; http_agent_head(out, true) is the same or,
 *   when out->reusable, the same without that line; out->reusable only for
 *   what the client's bytes (reference parse) show to be a bodiless
 *   HTTP/1.1 GET or HEAD with no header a WSGI agent reads as
 *   Content-Length, Transfer-Encoding or Expect;
 * - the agent streams as the engine writes them with reuse on (each head
 *   from http_agent_head(out, true), body bytes after it; a request joins
 *   the previous one's stream when that one was reusable and, at its
 *   HTTP_HEADERS, at most one byte of what was fed was left unconsumed, as
 *   engine.c's client_process decides "pipelined"; else a new stream),
 *   each re-parsed whole by a fresh http_parser as the agent would: as many
 *   messages as requests went on it, each the client's request of that
 *   place (method, target, version, framing, body, the head checks above,
 *   its Connection line only when not reusable, keep-alive exactly when
 *   reusable, no WSGI-read framing header when reusable), no byte left over.
 *   (engine.c sends a reusable request that has a pipelined one behind it
 *   in the closing form; here it goes in the reusing form, which ends its
 *   stream all the same, so that the bytes of every request do not depend
 *   on how the input was split.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/http.h"
#include "fuzz.h"
#include "banned.h"

#define UUID "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

static const char *const id_headers[] = {"X-Neutron-Network-ID",
    "X-Neutron-Router-ID", "X-OVN-Network-ID", "X-Neutron-Network-ID"};

/* What went to the agent, request by request. */
struct sent {
	/* out->head and the body: the request alone, closing form */
	struct strbuf bytes[REF_MAX_MSGS];
	/* http_agent_head(out, true) and the body: as sent with reuse on */
	struct strbuf wire[REF_MAX_MSGS];
	bool keep_alive[REF_MAX_MSGS]; /* as HTTP_HEADERS said */
	bool reusable[REF_MAX_MSGS];   /* as HTTP_HEADERS said */
	size_t stream[REF_MAX_MSGS];   /* the agent stream it went on */
	size_t n;                      /* requests begun */
	size_t whole;                  /* of them, requests sent whole */
	bool has_body;  /* of the current one, as HTTP_HEADERS said */
	bool pipelined; /* of the current one: bytes behind its head */
	int status;     /* the error answered, or 0 */
};

static bool
is_spoofable(const char *name)
{
	char w[128];

	fuzz_wsgi_name(name, w, sizeof(w));
	return strcmp(w, "X_FORWARDED_FOR") == 0 ||
	       strcmp(w, "FORWARDED") == 0 || strcmp(w, "X_REAL_IP") == 0 ||
	       strcmp(w, "X_INSTANCE_ID") == 0 ||
	       strcmp(w, "X_INSTANCE_ID_SIGNATURE") == 0 ||
	       strcmp(w, "X_TENANT_ID") == 0 ||
	       strncmp(w, "X_NEUTRON_", 10) == 0 ||
	       strncmp(w, "X_OVN_", 6) == 0;
}

static bool
is_hop_by_hop(const char *name)
{
	static const char *const hop[] = {"Connection", "Keep-Alive",
	    "Proxy-Connection", "TE", "Trailer", "Upgrade"};
	size_t i;

	for (i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (strcasecmp(name, hop[i]) == 0)
			return true;
	return false;
}

/* Whether the client's Connection header(s) named this header. */
static bool
named_by_connection(const struct ref_msg *c, const char *name)
{
	if (strcasecmp(name, "Content-Length") == 0 ||
	    strcasecmp(name, "Transfer-Encoding") == 0 ||
	    strcasecmp(name, "Host") == 0)
		return false;
	return ref_connection_names(c, name);
}

/*
 * A header a WSGI agent reads as framing (Content-Length,
 * Transfer-Encoding) or as an expectation, however it is spelt.
 */
static bool
is_wsgi_framing(const char *name)
{
	return fuzz_wsgi_is(name, "CONTENT_LENGTH") ||
	       fuzz_wsgi_is(name, "TRANSFER_ENCODING") ||
	       fuzz_wsgi_is(name, "EXPECT");
}

/*
 * Whether the client's request (its reference parse) may leave the agent
 * connection open: a bodiless HTTP/1.1 GET or HEAD with no header a WSGI
 * agent reads as framing.
 */
static bool
ref_reusable(const struct ref_msg *c)
{
	const char *s = strbuf_str(&c->hdrs), *name, *value;
	size_t i = 0;

	if (c->major != 1 || c->minor != 1 || c->chunked || c->body.len > 0 ||
	    (c->method != HTTP_GET && c->method != HTTP_HEAD))
		return false;
	while (i < c->hdrs.len) {
		name = s + i;
		value = name + strlen(name) + 1;
		i = (size_t)(value - s) + strlen(value) + 1;
		if (is_wsgi_framing(name))
			return false;
	}
	return true;
}

static bool
same(const struct strbuf *a, const struct strbuf *b)
{
	return a->len == b->len &&
	       (a->len == 0 || memcmp(a->buf, b->buf, a->len) == 0);
}

/*
 * The head the agent got: ours first, and last our "Connection: close"
 * unless it went in the reusing form (then no Connection at all and no
 * header the agent reads as framing); nothing spoofed.
 */
static void
check_head(const struct ref_msg *f, const struct ref_msg *c,
    const struct http_config *cfg, const char *peer, bool reuse)
{
	const char *s = strbuf_str(&f->hdrs), *name, *value;
	size_t i = 0, k = 0, nhost = 0;

	FUZZ_CHECK(f->nhdrs >= (reuse ? 2u : 3u));
	while (i < f->hdrs.len) {
		name = s + i;
		value = name + strlen(name) + 1;
		i = (size_t)(value - s) + strlen(value) + 1;
		FUZZ_CHECK(fuzz_is_token(name, strlen(name)));
		for (const char *p = value; *p != '\0'; p++)
			FUZZ_CHECK(
			    *p == '\t' || ((unsigned char)*p >= 0x20 &&
			                      (unsigned char)*p != 0x7f));
		if (k == 0) {
			FUZZ_CHECK(strcmp(name, "X-Forwarded-For") == 0);
			FUZZ_CHECK(strcmp(value, peer) == 0);
		} else if (k == 1) {
			FUZZ_CHECK(strcmp(name, cfg->id_header) == 0);
			FUZZ_CHECK(strcmp(value, cfg->id) == 0);
		} else if (k == f->nhdrs - 1 && !reuse) {
			FUZZ_CHECK(strcmp(name, "Connection") == 0);
			FUZZ_CHECK(strcmp(value, "close") == 0);
		} else {
			FUZZ_CHECK(!is_spoofable(name));
			FUZZ_CHECK(!is_hop_by_hop(name));
			FUZZ_CHECK(!named_by_connection(c, name));
			FUZZ_CHECK(!reuse || !is_wsgi_framing(name));
		}
		if (strcasecmp(name, "Host") == 0)
			nhost++;
		k++;
	}
	FUZZ_CHECK(k == f->nhdrs);
	FUZZ_CHECK(nhost <= 1);
	/* HTTP/1.1 names its host; the target is a path (origin-form). */
	FUZZ_CHECK(nhost == 1 || c->minor == 0);
	FUZZ_CHECK(c->url.len > 0 && c->url.buf[0] == '/');
	FUZZ_CHECK(ref_header(f, "Content-Length") == NULL ||
	           ref_header(f, "Transfer-Encoding") == NULL);
	/* The framing headers are the client's own. */
	FUZZ_CHECK(ref_same_header(f, c, "Content-Length"));
	FUZZ_CHECK(ref_same_header(f, c, "Transfer-Encoding"));
	FUZZ_CHECK(f->method == c->method && f->major == c->major &&
	           f->minor == c->minor && f->chunked == c->chunked);
	FUZZ_CHECK(same(&f->url, &c->url));
}

/*
 * The agent streams with reuse on, each parsed whole as the agent would:
 * the requests that went on it, in order, and nothing else.
 */
/* What reached the agent of a request cut off: a prefix of its body. */
static bool
body_prefix(const struct ref_msg *f, const struct ref_msg *c)
{
	return f->body.len <= c->body.len &&
	       (f->body.len == 0 ||
	           memcmp(f->body.buf, c->body.buf, f->body.len) == 0);
}

static void
check_streams(const struct sent *st, const struct ref_parse *cref,
    const struct http_config *cfg, const char *peer)
{
	struct ref_parse *fref = malloc(sizeof(*fref));
	struct strbuf w = STRBUF_INIT;
	const struct ref_msg *c, *f;
	size_t i, j, first, k;

	FUZZ_CHECK(fref != NULL);
	for (first = 0; first < st->n; first += k) {
		/* The requests first..first+k-1 share a stream. */
		strbuf_clear(&w);
		for (k = 0; first + k < st->n &&
		            st->stream[first + k] == st->stream[first];
		     k++)
			(void)strbuf_appendn(&w, st->wire[first + k].buf,
			    st->wire[first + k].len);
		FUZZ_CHECK(!w.failed);
		/* A stream goes on only after a reusable request. */
		for (j = 0; j + 1 < k; j++)
			FUZZ_CHECK(st->reusable[first + j]);
		ref_parse(fref, HTTP_REQUEST, false, w.buf, w.len, false);
		/* No byte left over, no message the client did not send. */
		FUZZ_CHECK(fref->err == HPE_OK && fref->used == w.len);
		FUZZ_CHECK(fref->nmsgs == k);
		for (j = 0; j < k; j++) {
			i = first + j;
			c = &cref->msgs[i];
			f = &fref->msgs[j];
			check_head(f, c, cfg, peer, st->reusable[i]);
			/* Reusing form: the agent keeps the connection. */
			FUZZ_CHECK(f->keep_alive == st->reusable[i]);
			if (i < st->whole) {
				FUZZ_CHECK(f->complete && c->complete);
				FUZZ_CHECK(same(&f->body, &c->body));
			} else {
				/* Cut off by an error: the last, a prefix. */
				FUZZ_CHECK(j + 1 == k && i + 1 == st->n);
				FUZZ_CHECK(!f->complete);
				FUZZ_CHECK(body_prefix(f, c));
			}
		}
		ref_free(fref);
	}
	strbuf_release(&w);
	free(fref);
}

static void
check_sent(const struct sent *st, const char *data, size_t size,
    const struct http_config *cfg, const char *peer)
{
	struct ref_parse *cref = malloc(sizeof(*cref));
	struct ref_parse *fref = malloc(sizeof(*fref));
	const struct ref_msg *c, *f;
	size_t i, end;

	FUZZ_CHECK(cref != NULL && fref != NULL);
	ref_parse(cref, HTTP_REQUEST, false, data, size, false);
	FUZZ_CHECK(cref->nmsgs >= st->n);
	for (i = 0; i < st->n; i++) {
		const struct strbuf *b = &st->bytes[i];

		c = &cref->msgs[i];
		ref_parse(fref, HTTP_REQUEST, false, b->buf, b->len, false);
		FUZZ_CHECK(fref->err == HPE_OK && fref->used == b->len);
		FUZZ_CHECK(fref->nmsgs == 1);
		f = &fref->msgs[0];
		/* The head went whole: where it ends, as the parser saw it. */
		end = (size_t)(strstr(strbuf_str(b), "\r\n\r\n") -
		               strbuf_str(b)) +
		      4;
		FUZZ_CHECK(end <= cfg->agent_head_max);
		check_head(f, c, cfg, peer, false);
		FUZZ_CHECK(st->keep_alive[i] == c->keep_alive);
		/* Reusable: what the client sent says so, not the seam. */
		FUZZ_CHECK(!st->reusable[i] || ref_reusable(c));
		if (i < st->whole) {
			FUZZ_CHECK(c->complete && f->complete);
			FUZZ_CHECK(same(&f->body, &c->body));
			/* A body the cap allows, whatever its framing. */
			FUZZ_CHECK(
			    cfg->max_body == 0 || f->body.len <= cfg->max_body);
		} else {
			/* Cut off by an error: a prefix of the request. */
			FUZZ_CHECK(!f->complete);
			FUZZ_CHECK(body_prefix(f, c));
		}
		ref_free(fref);
	}
	check_streams(st, cref, cfg, peer);
	ref_free(cref);
	free(cref);
	free(fref);
}

/* The head http_agent_head() gives, its pieces joined, onto sb. */
static void
agent_head(const struct http_out *out, bool reuse, struct strbuf *sb)
{
	struct iovec iov[2];
	int k, i;

	memset(iov, 0, sizeof(iov));
	k = http_agent_head(out, reuse, iov);
	FUZZ_CHECK(k == 1 || k == 2);
	for (i = 0; i < k; i++) {
		FUZZ_CHECK(iov[i].iov_len == 0 || iov[i].iov_base != NULL);
		(void)strbuf_appendn(
		    sb, (const char *)iov[i].iov_base, iov[i].iov_len);
	}
}

/*
 * The two forms of the head for the agent: without reuse out->head, which
 * ends in our Connection line; with reuse the same, or, for a reusable
 * request only, the same without that line.
 */
static void
check_agent_heads(const struct http_out *out, struct strbuf *wire)
{
	static const char close_line[] = "Connection: close\r\n\r\n";
	const size_t cl = sizeof(close_line) - 1;
	struct strbuf h = STRBUF_INIT;

	agent_head(out, false, &h);
	FUZZ_CHECK(!h.failed && same(&h, &out->head));
	FUZZ_CHECK(
	    out->head.len > cl &&
	    memcmp(out->head.buf + out->head.len - cl, close_line, cl) == 0);
	strbuf_clear(&h);
	agent_head(out, true, &h);
	FUZZ_CHECK(!h.failed);
	if (out->reusable)
		FUZZ_CHECK(h.len == out->head.len - cl + 2 &&
		           memcmp(h.buf, out->head.buf, h.len - 2) == 0 &&
		           memcmp(h.buf + h.len - 2, "\r\n", 2) == 0);
	else
		FUZZ_CHECK(same(&h, &out->head));
	(void)strbuf_appendn(wire, h.buf, h.len);
	strbuf_release(&h);
}

/*
 * Feed in[0..n) as engine.c does, the reads sized by split; what went to
 * the agent into st.
 */
static void
drive(const char *in, size_t n, uint8_t seed, const struct http_config *cfg,
    const char *peer, struct sent *st)
{
	struct fuzz_split split;
	struct http_request *r;
	struct http_out out;
	size_t c = 0, a = 0, used, i, stall = 0;
	enum http_event ev = HTTP_NEED_MORE;
	bool in_msg = false, stop = false;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < REF_MAX_MSGS; i++) {
		st->bytes[i] = (struct strbuf)STRBUF_INIT;
		st->wire[i] = (struct strbuf)STRBUF_INIT;
	}
	fuzz_split_init(&split, seed);
	r = http_request_new(cfg, peer);
	FUZZ_CHECK(r != NULL);
	while (!stop) {
		char *buf;

		if (!fuzz_next_window(&split, n, c, &a, ev == HTTP_NEED_MORE))
			break;
		buf = fuzz_memdup(in + c, a - c);
		memset(&out, 0, sizeof(out));
		used = (size_t)-1;
		ev = http_request_feed(r, buf, a - c, &used, &out);
		if (getenv("FUZZ_DEBUG") != NULL)
			fprintf(stderr,
			    "feed %zu: event %d used %zu status %d\n", a - c,
			    (int)ev, used, out.status);
		fuzz_check_feed(&out, ev, buf, a - c, used);
		switch (ev) {
		case HTTP_HEADERS:
			FUZZ_CHECK(!in_msg && st->n < REF_MAX_MSGS);
			FUZZ_CHECK(out.head.len > 0 &&
			           strlen(out.head.buf) == out.head.len);
			FUZZ_CHECK(!out.reusable || !out.has_body);
			(void)strbuf_appendn(
			    &st->bytes[st->n], out.head.buf, out.head.len);
			check_agent_heads(&out, &st->wire[st->n]);
			/*
			 * engine.c: the agent connection carries the next
			 * request if this one was reusable and no more than
			 * the head's last byte (fed again) was left.
			 */
			if (st->n > 0)
				st->stream[st->n] =
				    st->stream[st->n - 1] +
				    (st->reusable[st->n - 1] && !st->pipelined
				            ? 0
				            : 1);
			st->pipelined = a - c - used > 1;
			st->has_body = out.has_body;
			st->keep_alive[st->n] = out.keep_alive;
			st->reusable[st->n] = out.reusable;
			if (getenv("FUZZ_DEBUG") != NULL)
				fprintf(stderr,
				    "request %zu: stream %zu reusable %d "
				    "pipelined %d\n",
				    st->n, st->stream[st->n], (int)out.reusable,
				    (int)st->pipelined);
			st->n++;
			in_msg = true;
			break;
		case HTTP_BODY:
		case HTTP_DONE:
			FUZZ_CHECK(in_msg);
			FUZZ_CHECK(out.len == 0 || st->has_body);
			(void)strbuf_appendn(
			    &st->bytes[st->n - 1], out.data, out.len);
			(void)strbuf_appendn(
			    &st->wire[st->n - 1], out.data, out.len);
			if (ev == HTTP_BODY)
				break;
			in_msg = false;
			st->whole++;
			/*
			 * The engine answers, then closes unless the request
			 * allows another; stop before the list is full.
			 */
			if (!st->keep_alive[st->n - 1] ||
			    st->n == REF_MAX_MSGS - 1)
				stop = true;
			break;
		case HTTP_ERROR:
			FUZZ_CHECK(out.status == 400 || out.status == 405 ||
			           out.status == 413 || out.status == 431 ||
			           out.status == 501 || out.status == 505);
			st->status = out.status;
			stop = true;
			break;
		case HTTP_NEED_MORE:
			/* Whatever is not used now would never be fed again. */
			FUZZ_CHECK(used == a - c);
			break;
		}
		free(buf);
		c += used;
		/* Something must move: the engine loops while bytes remain. */
		stall =
		    used == 0 && ev != HTTP_NEED_MORE && !stop ? stall + 1 : 0;
		FUZZ_CHECK(stall < 3);
	}
	if (!stop) {
		/* The client closes. */
		memset(&out, 0, sizeof(out));
		ev = http_request_eof(r, &out);
		FUZZ_CHECK(ev == HTTP_DONE || ev == HTTP_ERROR);
		FUZZ_CHECK(!in_msg || ev == HTTP_ERROR);
		if (ev == HTTP_ERROR)
			st->status = out.status;
	}
	http_request_free(r);
	for (i = 0; i < st->n; i++)
		FUZZ_CHECK(!st->bytes[i].failed && !st->wire[i].failed);
}

static void
sent_free(struct sent *st)
{
	size_t i;

	for (i = 0; i < REF_MAX_MSGS; i++) {
		strbuf_release(&st->bytes[i]);
		strbuf_release(&st->wire[i]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t client_max[] = {16384, 1024, 256, 64};
	struct sent *st = malloc(sizeof(*st)), *whole = malloc(sizeof(*whole));
	struct http_config cfg;
	const char *peer, *in;
	size_t n, i;

	FUZZ_CHECK(st != NULL && whole != NULL);
	if (size < 2)
		goto out;
	cfg.id_header = id_headers[data[0] & 3];
	cfg.id = UUID;
	peer = (data[0] & 4) ? "fd00::a:5" : "10.0.0.5";
	cfg.client_head_max = client_max[(data[0] >> 3) & 3];
	cfg.agent_head_max = (data[0] & 32) ? 512 : 4096;
	cfg.max_body = (data[0] & 64) ? 100 : 0;
	in = (const char *)data + 2;
	n = size - 2;

	drive(in, n, data[1], &cfg, peer, st);
	check_sent(st, in, n, &cfg, peer);
	/* The outcome does not depend on how the bytes were split. */
	if (data[1] != 0) {
		drive(in, n, 0, &cfg, peer, whole);
		FUZZ_CHECK(st->n == whole->n && st->whole == whole->whole);
		FUZZ_CHECK(st->status == whole->status);
		/*
		 * Requests sent whole are the same bytes; of one cut off by an
		 * error, the agent may have got more of it in small reads.
		 */
		for (i = 0; i < st->whole; i++) {
			FUZZ_CHECK(same(&st->bytes[i], &whole->bytes[i]));
			FUZZ_CHECK(same(&st->wire[i], &whole->wire[i]));
			FUZZ_CHECK(st->reusable[i] == whole->reusable[i]);
		}
		sent_free(whole);
	}
	sent_free(st);
out:
	free(st);
	free(whole);
	return 0;
}
