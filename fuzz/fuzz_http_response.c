/*
 * The built-in engine's response pipeline (engine/http.h): what the agent
 * answers, turned into what the client gets. Input: byte 0 bit 0 the
 * request was HEAD, bit 1 the client asked for keep-alive; byte 1 how the
 * agent's bytes arrive (fuzz_split); the rest is the agent's answer. Each
 * feed is an exact-size heap copy; when the bytes run out the agent closes.
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
 * - no body for HEAD, 204 and 304.
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

/* What went to the client, and how it ended. */
struct result {
	struct strbuf sent;
	bool headers, done, keep_alive;
	int status; /* the error, or 0 */
};

static void
drive(const char *in, size_t n, uint8_t seed, bool head_request, bool want,
    struct result *res)
{
	struct fuzz_split split;
	struct http_response *r;
	struct http_out out;
	size_t c = 0, a = 0, used, stall = 0;
	enum http_event ev = HTTP_NEED_MORE;
	bool has_body = false;

	memset(res, 0, sizeof(*res));
	res->sent = (struct strbuf)STRBUF_INIT;
	fuzz_split_init(&split, seed);
	r = http_response_new(head_request, want);
	FUZZ_CHECK(r != NULL);
	while (res->status == 0) {
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
			break;
		case HTTP_ERROR:
			FUZZ_CHECK(out.status == 502 && !res->done);
			res->status = out.status;
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
	if (res->status == 0) {
		/* The agent closes. */
		memset(&out, 0, sizeof(out));
		ev = http_response_eof(r, &out);
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
	http_response_free(r);
	FUZZ_CHECK(!res->sent.failed);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result res, whole;
	bool head_request, want;
	const char *in;
	size_t n;

	if (size < 2)
		return 0;
	head_request = (data[0] & 1) != 0;
	want = (data[0] & 2) != 0;
	in = (const char *)data + 2;
	n = size - 2;

	drive(in, n, data[1], head_request, want, &res);
	if (res.headers)
		check_sent(
		    &res.sent, res.done, res.keep_alive, head_request, in, n);
	/* The outcome does not depend on how the bytes were split. */
	if (data[1] != 0) {
		drive(in, n, 0, head_request, want, &whole);
		FUZZ_CHECK(res.headers == whole.headers &&
		           res.done == whole.done &&
		           res.keep_alive == whole.keep_alive &&
		           res.status == whole.status);
		if (res.done)
			FUZZ_CHECK(res.sent.len == whole.sent.len &&
			           memcmp(res.sent.buf, whole.sent.buf,
			               res.sent.len) == 0);
		strbuf_release(&whole.sent);
	}
	strbuf_release(&res.sent);
	return 0;
}
