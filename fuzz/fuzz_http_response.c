/*
 * The built-in engine's response pipeline (engine/http.h): what the agent
 * answers, turned into what the client gets. Input: byte 0 bit 0 the
 * request was HEAD, bit 1 the client asked for keep-alive, bits 2 and 3 the
 * same for the second response (below), bit 4: stop feeding at HTTP_DONE,
 * as the engine does, instead of feeding the rest (dropped) and the close;
 * byte 1 how the agent's bytes arrive (fuzz_split); the rest is the agent's
 * answer. Each feed is an exact-size heap copy; when the bytes run out the
 * agent closes. Then the same parser, http_response_reset(), takes what
 * follows the first response (after HTTP_DONE; after an error, what was
 * not consumed) as a second response, and so does a new parser.
 *
 * Checked, besides ASan/UBSan/LeakSanitizer:
 * - progress and event order as for requests; errors are 502;
 * - the client's bytes, re-parsed by a fresh http_parser, are one response
 *   with the status, reason, Content-Length, Transfer-Encoding and
 *   (de-chunked) body of the agent's final response (1xx dropped), whole
 *   when the seam said done, a prefix of it otherwise;
 * - its head holds no hop-by-hop header and nothing the agent's Connection
 *   named, but exactly one Connection of our own: keep-alive only when the
 *   client asked for it and the response ends without the agent closing
 *   (the client's parse completes it with no end of stream), close
 *   otherwise; no control character;
 * - no body for HEAD, 204 and 304;
 * - a response that ended by HTTP_DONE ended where a fresh http_parser ends
 *   it (the bytes up to there are one whole response, one byte less is
 *   not);
 * - http_response_reusable() after HTTP_DONE only when the agent's bytes
 *   show an HTTP/1.1 final response (not 1xx, 204 or 304) with exactly one
 *   Content-Length, its body that long (but for HEAD), no
 *   Transfer-Encoding, no "close" in Connection; never after the agent's
 *   close ended the response, never after an error;
 * - the reset parser gives the second response exactly the events (kind,
 *   bytes used, status, keep-alive, head or body bytes), outcome and
 *   reusability a new parser gives it, and all the checks above hold for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/http.h"
#include "fuzz.h"
#include "banned.h"

static bool
is_hop_by_hop(const char *name)
{
	static const char *const hop[] = {
	    "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Upgrade"};
	size_t i;

	for (i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (strcasecmp(name, hop[i]) == 0)
			return true;
	return false;
}

/* Whether a Connection header of m named this header. */
static bool
named_by_connection(const struct ref_msg *m, const char *name)
{
	if (strcasecmp(name, "Content-Length") == 0 ||
	    strcasecmp(name, "Transfer-Encoding") == 0 ||
	    strcasecmp(name, "Host") == 0 ||
	    strcasecmp(name, "Connection") == 0)
		return false;
	return ref_connection_names(m, name);
}

/* The client's head: ours Connection, nothing hop-by-hop of the agent's. */
static void
check_head(const struct ref_msg *f, const struct ref_msg *g, bool keep_alive)
{
	const char *s = strbuf_str(&f->hdrs), *name, *value;
	size_t i = 0, nconn = 0;

	while (i < f->hdrs.len) {
		name = s + i;
		value = name + strlen(name) + 1;
		i = (size_t)(value - s) + strlen(value) + 1;
		FUZZ_CHECK(fuzz_is_token(name, strlen(name)));
		for (const char *p = value; *p != '\0'; p++)
			FUZZ_CHECK(
			    *p == '\t' || ((unsigned char)*p >= 0x20 &&
			                      (unsigned char)*p != 0x7f));
		FUZZ_CHECK(!is_hop_by_hop(name));
		FUZZ_CHECK(!named_by_connection(g, name));
		if (strcasecmp(name, "Connection") == 0) {
			nconn++;
			FUZZ_CHECK(strcmp(value, keep_alive ? "keep-alive"
			                                    : "close") == 0);
		}
	}
	FUZZ_CHECK(nconn == 1);
	FUZZ_CHECK(ref_same_header(f, g, "Content-Length"));
	FUZZ_CHECK(ref_same_header(f, g, "Transfer-Encoding"));
	FUZZ_CHECK(f->status == g->status && f->chunked == g->chunked);
	FUZZ_CHECK(f->url.len == g->url.len &&
	           (f->url.len == 0 ||
	               memcmp(f->url.buf, g->url.buf, f->url.len) == 0));
}

/* What went to the client, and how it ended. */
struct result {
	struct strbuf sent;
	struct strbuf trace; /* every event, for the reset check */
	bool headers, done, keep_alive;
	bool fed_done; /* HTTP_DONE from a feed, not from the close */
	bool reusable; /* http_response_reusable() at HTTP_DONE */
	size_t end;    /* bytes used when it ended or failed */
	int status;    /* the error, or 0 */
};

/* The value of a Content-Length as a fresh http_parser takes it. */
static unsigned long long
content_length(const char *v)
{
	unsigned long long n = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v >= '0' && *v <= '9'; v++)
		n = n * 10 + (unsigned long long)(*v - '0');
	return n;
}

/*
 * The agent's response that the seam ended at res->end: data[0..end) is
 * one whole final response to a fresh parser, data[0..end - 1) is not. A
 * reusable one is framed by one Content-Length alone and keeps the agent
 * connection: nothing of it decides where the next response begins but
 * that length.
 */
static void
check_end(const struct result *res, bool head_request, const char *data)
{
	struct ref_parse *rp = malloc(sizeof(*rp));
	const struct ref_msg *g;

	FUZZ_CHECK(rp != NULL && res->end > 0);
	ref_parse(rp, HTTP_RESPONSE, head_request, data, res->end, false);
	FUZZ_CHECK(rp->err == HPE_OK && rp->used == res->end);
	FUZZ_CHECK(rp->nmsgs == 1 && rp->msgs[0].complete);
	g = &rp->msgs[0];
	if (res->reusable) {
		FUZZ_CHECK(g->major == 1 && g->minor == 1);
		FUZZ_CHECK(
		    g->status >= 200 && g->status != 204 && g->status != 304);
		FUZZ_CHECK(ref_count_header(g, "Content-Length") == 1);
		FUZZ_CHECK(
		    ref_header(g, "Transfer-Encoding") == NULL && !g->chunked);
		FUZZ_CHECK(!ref_connection_names(g, "close") && g->keep_alive);
		FUZZ_CHECK(head_request ||
		           g->body.len ==
		               content_length(ref_header(g, "Content-Length")));
	}
	ref_free(rp);
	ref_parse(rp, HTTP_RESPONSE, head_request, data, res->end - 1, false);
	FUZZ_CHECK(rp->nmsgs == 0 || !rp->msgs[0].complete);
	ref_free(rp);
	free(rp);
}

static void
check_sent(const struct strbuf *sent, bool done, bool keep_alive,
    bool head_request, const char *data, size_t size)
{
	struct ref_parse *aref = malloc(sizeof(*aref));
	struct ref_parse *fref = malloc(sizeof(*fref));
	const struct ref_msg *g = NULL, *f;
	size_t i;

	FUZZ_CHECK(aref != NULL && fref != NULL);
	/* The agent's answer: its first final response. */
	ref_parse(aref, HTTP_RESPONSE, head_request, data, size, true);
	for (i = 0; i < aref->nmsgs && g == NULL; i++)
		if (aref->msgs[i].status >= 200)
			g = &aref->msgs[i];
	FUZZ_CHECK(g != NULL);
	/* Without the end of the stream: keep-alive needs no close. */
	ref_parse(
	    fref, HTTP_RESPONSE, head_request, sent->buf, sent->len, false);
	FUZZ_CHECK(fref->err == HPE_OK && fref->used == sent->len);
	FUZZ_CHECK(fref->nmsgs == 1);
	f = &fref->msgs[0];
	check_head(f, g, keep_alive);
	/*
	 * A response cut short still fails (the client connection closes);
	 * one that ended must have ended without the agent's close.
	 */
	if (keep_alive && done)
		FUZZ_CHECK(f->complete);
	ref_free(fref);
	ref_parse(
	    fref, HTTP_RESPONSE, head_request, sent->buf, sent->len, true);
	f = &fref->msgs[0];
	FUZZ_CHECK(fref->nmsgs == 1);
	if (done) {
		FUZZ_CHECK(fref->err == HPE_OK && f->complete && g->complete);
		FUZZ_CHECK(f->body.len == g->body.len &&
		           (f->body.len == 0 || memcmp(f->body.buf, g->body.buf,
		                                    f->body.len) == 0));
	} else {
		FUZZ_CHECK(f->body.len <= g->body.len &&
		           (f->body.len == 0 || memcmp(f->body.buf, g->body.buf,
		                                    f->body.len) == 0));
	}
	if (head_request || g->status == 204 || g->status == 304)
		FUZZ_CHECK(f->body.len == 0);
	ref_free(fref);
	ref_free(aref);
	free(aref);
	free(fref);
}

/* One event of the seam, as it can be compared between two parsers. */
static void
trace(struct strbuf *t, enum http_event ev, size_t used,
    const struct http_out *out)
{
	(void)strbuf_appendf(t, "%d %zu %d %d %d %zu:", (int)ev, used,
	    out->status, (int)out->keep_alive, (int)out->has_body,
	    ev == HTTP_HEADERS ? out->head.len : out->len);
	if (ev == HTTP_HEADERS)
		(void)strbuf_appendn(t, out->head.buf, out->head.len);
	else if (out->len > 0)
		(void)strbuf_appendn(t, out->data, out->len);
	(void)strbuf_appendn(t, "\n", 1);
}

/*
 * Feed in[0..n) to r as engine.c does, the reads sized by split; what went
 * to the client into res. stop: at HTTP_DONE, as the engine does, else
 * feed the rest and the agent's close.
 */
static void
drive(struct http_response *r, const char *in, size_t n, uint8_t seed,
    bool want, bool stop, struct result *res)
{
	struct fuzz_split split;
	struct http_out out;
	size_t c = 0, a = 0, used, stall = 0;
	enum http_event ev = HTTP_NEED_MORE;
	bool has_body = false;

	memset(res, 0, sizeof(*res));
	res->sent = (struct strbuf)STRBUF_INIT;
	res->trace = (struct strbuf)STRBUF_INIT;
	fuzz_split_init(&split, seed);
	while (res->status == 0 && !(stop && res->done)) {
		char *buf;

		if (!fuzz_next_window(&split, n, c, &a, ev == HTTP_NEED_MORE))
			break;
		buf = fuzz_memdup(in + c, a - c);
		memset(&out, 0, sizeof(out));
		used = (size_t)-1;
		ev = http_response_feed(r, buf, a - c, &used, &out);
		if (getenv("FUZZ_DEBUG") != NULL)
			fprintf(stderr,
			    "feed %zu: event %d used %zu status %d len %zu "
			    "'%.*s'\n",
			    a - c, (int)ev, used, out.status, out.len,
			    (int)out.len, out.data != NULL ? out.data : "");
		fuzz_check_feed(&out, ev, buf, a - c, used);
		trace(&res->trace, ev, used, &out);
		switch (ev) {
		case HTTP_HEADERS:
			FUZZ_CHECK(!res->headers && !res->done);
			FUZZ_CHECK(out.head.len > 0 &&
			           strlen(out.head.buf) == out.head.len);
			FUZZ_CHECK(out.status >= 200 && out.status <= 999);
			FUZZ_CHECK(want || !out.keep_alive);
			(void)strbuf_appendn(
			    &res->sent, out.head.buf, out.head.len);
			res->keep_alive = out.keep_alive;
			has_body = out.has_body;
			res->headers = true;
			break;
		case HTTP_BODY:
		case HTTP_DONE:
			FUZZ_CHECK(res->headers && !res->done);
			FUZZ_CHECK(out.len == 0 || has_body);
			(void)strbuf_appendn(&res->sent, out.data, out.len);
			res->done = ev == HTTP_DONE;
			if (res->done) {
				res->fed_done = true;
				res->end = c + used;
				res->reusable = http_response_reusable(r);
				if (getenv("FUZZ_DEBUG") != NULL)
					fprintf(stderr,
					    "done: end %zu reusable %d\n",
					    res->end, (int)res->reusable);
			}
			break;
		case HTTP_ERROR:
			FUZZ_CHECK(out.status == 502 && !res->done);
			res->status = out.status;
			res->end = c;
			break;
		case HTTP_NEED_MORE:
			FUZZ_CHECK(used == a - c);
			break;
		}
		free(buf);
		c += used;
		stall = used == 0 && ev != HTTP_NEED_MORE ? stall + 1 : 0;
		FUZZ_CHECK(stall < 3);
	}
	if (res->status == 0 && !(stop && res->done)) {
		/* The agent closes. */
		memset(&out, 0, sizeof(out));
		ev = http_response_eof(r, &out);
		trace(&res->trace, ev, 0, &out);
		if (!res->done)
			res->end = c;
		if (ev == HTTP_ERROR) {
			FUZZ_CHECK(out.status == 502 && !res->done);
			res->status = out.status;
		} else {
			FUZZ_CHECK(ev == HTTP_DONE && res->headers);
			/* Only a body delimited by the close ends here. */
			FUZZ_CHECK(res->done || !res->keep_alive);
			res->done = true;
		}
	}
	/* Neither a response read to the close nor a failed one is kept. */
	FUZZ_CHECK(http_response_reusable(r) == res->reusable);
	FUZZ_CHECK(!res->reusable || (res->fed_done && res->status == 0));
	FUZZ_CHECK(!res->sent.failed && !res->trace.failed);
}

static void
result_free(struct result *res)
{
	strbuf_release(&res->sent);
	strbuf_release(&res->trace);
}

static bool
same(const struct strbuf *a, const struct strbuf *b)
{
	return a->len == b->len &&
	       (a->len == 0 || memcmp(a->buf, b->buf, a->len) == 0);
}

/* Every check of a response driven from in[0..n). */
static void
check_result(
    const struct result *res, bool head_request, const char *in, size_t n)
{
	if (res->headers)
		check_sent(&res->sent, res->done, res->keep_alive, head_request,
		    in, n);
	if (res->fed_done)
		check_end(res, head_request, in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result res, whole, again, fresh;
	struct http_response *r, *r2;
	bool head_request, want, head2, want2, stop;
	const char *in;
	size_t n;

	if (size < 2)
		return 0;
	head_request = (data[0] & 1) != 0;
	want = (data[0] & 2) != 0;
	head2 = (data[0] & 4) != 0;
	want2 = (data[0] & 8) != 0;
	stop = (data[0] & 16) != 0;
	in = (const char *)data + 2;
	n = size - 2;

	r = http_response_new(head_request, want);
	FUZZ_CHECK(r != NULL);
	drive(r, in, n, data[1], want, stop, &res);
	check_result(&res, head_request, in, n);
	/* The outcome does not depend on how the bytes were split. */
	if (data[1] != 0) {
		r2 = http_response_new(head_request, want);
		FUZZ_CHECK(r2 != NULL);
		drive(r2, in, n, 0, want, stop, &whole);
		http_response_free(r2);
		FUZZ_CHECK(res.headers == whole.headers &&
		           res.done == whole.done &&
		           res.keep_alive == whole.keep_alive &&
		           res.status == whole.status &&
		           res.fed_done == whole.fed_done &&
		           res.reusable == whole.reusable);
		if (res.done)
			FUZZ_CHECK(same(&res.sent, &whole.sent));
		if (res.fed_done)
			FUZZ_CHECK(res.end == whole.end);
		result_free(&whole);
	}
	/*
	 * What follows, to the same parser reset and to a new one: the same
	 * events, byte for byte, and the same outcome.
	 */
	FUZZ_CHECK(res.end <= n);
	http_response_reset(r, head2, want2);
	drive(r, in + res.end, n - res.end, data[1], want2, stop, &again);
	r2 = http_response_new(head2, want2);
	FUZZ_CHECK(r2 != NULL);
	drive(r2, in + res.end, n - res.end, data[1], want2, stop, &fresh);
	http_response_free(r2);
	FUZZ_CHECK(same(&again.trace, &fresh.trace));
	FUZZ_CHECK(same(&again.sent, &fresh.sent));
	FUZZ_CHECK(again.headers == fresh.headers && again.done == fresh.done &&
	           again.keep_alive == fresh.keep_alive &&
	           again.fed_done == fresh.fed_done &&
	           again.reusable == fresh.reusable && again.end == fresh.end &&
	           again.status == fresh.status);
	check_result(&again, head2, in + res.end, n - res.end);
	http_response_free(r);
	result_free(&fresh);
	result_free(&again);
	result_free(&res);
	return 0;
}
