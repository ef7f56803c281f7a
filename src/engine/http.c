/*
 * The HTTP pipeline of the built-in engine: libhttp-parser frames, we
 * rewrite heads and pass body bytes through untouched.
 *
 * Pausing: on_headers_complete pauses the parser on the last byte of the
 * head, which http_parser leaves unconsumed (it re-reads it when resumed),
 * so after HTTP_HEADERS that one byte is still the caller's to feed again;
 * the next feed consumes it as head, not body (head_tail). on_message_complete
 * pauses after the last byte of the message, so bytes of a pipelined next
 * request are never taken as part of this one.
 *
 * Debian builds http_parser lenient (HTTP_PARSER_STRICT=0): it accepts bare
 * LF and bare CR line ends, obs-fold (the continuation reaches us as one more
 * value piece, or not at all after an empty value), any byte in place of the
 * CRLF after chunk data, and blanks in header names. The framing bytes of
 * each message (everything but body data) therefore go through scan(): CR
 * must be followed by LF, LF preceded by CR, no LF followed by blank, and
 * chunk data followed by CRLF. That is a check on line ends, not a parser:
 * the structure is still http_parser's.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include "engine/http.h"
#include "banned.h"

enum last_cb { CB_NONE, CB_FIELD, CB_VALUE };
enum hevent { EV_NONE, EV_HEAD, EV_DONE };

/* What requests and responses share: one parser, one message at a time. */
struct hmsg {
	http_parser p;
	int bad; /* the status for malformed input: 400 or 502 */

	/* this message */
	bool in_message;   /* a message began and has not ended */
	bool headers_done; /* past the head: body or trailers */
	bool head_tail;    /* the head's last byte is to be fed again */
	bool te_seen;
	enum hevent ev;
	enum last_cb last;
	struct strbuf line; /* request target or reason phrase */
	struct strbuf name;
	struct strbuf value;
	struct strbuf hdrs; /* "name\0value\0" per header, in order */
	struct strbuf conn; /* Connection values, comma separated */
	struct strbuf te;   /* Transfer-Encoding values, comma separated */
	unsigned nhost;
	unsigned head_lines;         /* line ends of a request head so far */
	unsigned long long max_body; /* 0: no cap (responses: always 0) */
	unsigned long long body_bytes;
	struct strbuf removed; /* spoofable names removed, NUL after each */
	unsigned hop_removed;  /* hop-by-hop headers dropped */
	struct strbuf head;

	/* line-end check over the framing bytes, see scan() */
	const char *scan_pos;
	unsigned char prev;
	bool chunked;
	bool need_cr;
	bool chunk_lines; /* the framing scanned is chunk lines: count them */
	bool head_lines_run; /* the framing scanned is a request head */
	size_t line_len;

	int status; /* set once: the message failed */
	const char *reason;
};

struct http_request {
	struct hmsg m;
	const char *id_header;
	const char *id;
	const char *peer;
	size_t client_head_max;
	size_t agent_head_max;
	size_t head_bytes; /* of the current head, as received */
	bool keep_alive;
	bool has_body;
	bool reusable; /* the agent connection may carry the next request */
};

struct http_response {
	struct hmsg m;
	size_t head_bytes; /* of the response head, as received */
	bool head_request;
	bool want_keep_alive;
	bool interim; /* a 1xx being skipped */
	bool keep_alive;
	bool has_body;
	bool done;
	bool reusable; /* framed by Content-Length, the agent keeps it open */
};

#define CONTAINER_OF(ptr, type, member)                                        \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* Record the first failure of a message; callbacks return this. */
static int
fail(struct hmsg *m, int status, const char *reason)
{
	if (m->status == 0) {
		m->status = status;
		m->reason = reason;
	}
	return -1;
}

/*
 * A line-end failure found in bytes at or before the point where the
 * parser or a callback failed: it wins, so the answer does not depend on
 * how the input was split.
 */
static int
fail_scan(struct hmsg *m, const char *reason)
{
	m->status = m->bad;
	m->reason = reason;
	return -1;
}

static int
scan(struct hmsg *m, const char *s, const char *end)
{
	unsigned char c;

	for (; s < end; s++) {
		c = (unsigned char)*s;
		if (m->need_cr) {
			if (c != '\r')
				return fail_scan(
				    m, "chunk data not followed by crlf");
			m->need_cr = false;
		}
		if (m->prev == '\r' && c != '\n')
			return fail_scan(m, "bare cr");
		if (c == '\n' && m->prev != '\r')
			return fail_scan(m, "bare lf");
		if (m->prev == '\n' && (c == ' ' || c == '\t'))
			return fail_scan(m, "obs-fold");
		/*
		 * Header lines are counted here, byte by byte, not in the
		 * callbacks: http_parser calls those lazily, so a count there
		 * would race its own errors differently for each split. The
		 * request line and the empty line end the head: 2 more.
		 */
		if (c == '\n' && m->head_lines_run &&
		    ++m->head_lines > HTTP_MAX_HEADER_LINES + 2) {
			m->status = 431;
			m->reason = "too many header lines";
			return -1;
		}
		if (m->chunk_lines) {
			if (c == '\n')
				m->line_len = 0;
			else if (++m->line_len > HTTP_CHUNK_LINE_MAX)
				return fail_scan(m, "chunk line too long");
		}
		m->prev = c;
	}
	return 0;
}

static bool
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool
valid_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!is_tchar((unsigned char)s[i]))
			return false;
	return true;
}

/* Field content: HTAB, SP, VCHAR, obs-text; never CR, LF, NUL or CTL. */
static bool
valid_value(const char *s, size_t n)
{
	unsigned char c;
	size_t i;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c != '\t' && (c < 0x20 || c == 0x7f))
			return false;
	}
	return true;
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Whether the comma-separated list holds tok (case-insensitive, blanks
 * around elements ignored).
 */
static bool
list_has(const struct strbuf *list, const char *tok)
{
	const char *s = strbuf_str(list), *e;
	size_t n = strlen(tok), k;

	while (*s != '\0') {
		while (is_ows(*s) || *s == ',')
			s++;
		e = s;
		while (*e != '\0' && *e != ',')
			e++;
		k = (size_t)(e - s);
		while (k > 0 && is_ows(s[k - 1]))
			k--;
		if (k == n && n > 0 && strncasecmp(s, tok, n) == 0)
			return true;
		s = e;
	}
	return false;
}

/* How a WSGI agent sees a header name: upper case, '-' as '_'. */
static char
wsgi_char(char c)
{
	if (c >= 'a' && c <= 'z')
		return (char)(c - 'a' + 'A');
	if (c == '-')
		return '_';
	return c;
}

static bool
wsgi_match(const char *name, const char *pat, bool prefix)
{
	size_t i;

	for (i = 0; pat[i] != '\0'; i++)
		if (name[i] == '\0' || wsgi_char(name[i]) != wsgi_char(pat[i]))
			return false;
	return prefix || name[i] == '\0';
}

static bool
is_hop_by_hop(const char *name, const struct strbuf *conn)
{
	static const char *const hop[] = {"Connection", "Keep-Alive",
	    "Proxy-Connection", "TE", "Trailer", "Upgrade", NULL};
	size_t i;

	for (i = 0; hop[i] != NULL; i++)
		if (strcasecmp(name, hop[i]) == 0)
			return true;
	/* Framing stays whatever Connection names: the body goes on raw. */
	if (strcasecmp(name, "Content-Length") == 0 ||
	    strcasecmp(name, "Transfer-Encoding") == 0 ||
	    strcasecmp(name, "Host") == 0)
		return false;
	return list_has(conn, name);
}

/*
 * The client-sent copies of headers that are ours to set, and of those that
 * nova and proxies read as a client's identity.
 */
static bool
is_spoofable(const char *name, const char *id_header)
{
	size_t i;

	for (i = 0; md_identity_headers[i] != NULL; i++)
		if (wsgi_match(name, md_identity_headers[i], false))
			return true;
	for (i = 0; md_own_prefixes[i] != NULL; i++)
		if (wsgi_match(name, md_own_prefixes[i], true))
			return true;
	return wsgi_match(name, MD_HEADER_XFF, false) ||
	       wsgi_match(name, id_header, false);
}

static struct hmsg *
msg_of(http_parser *p)
{
	return p->data;
}

static void
msg_reset(struct hmsg *m)
{
	m->in_message = false;
	m->headers_done = false;
	m->head_tail = false;
	m->te_seen = false;
	m->ev = EV_NONE;
	m->last = CB_NONE;
	strbuf_clear(&m->line);
	strbuf_clear(&m->name);
	strbuf_clear(&m->value);
	strbuf_clear(&m->hdrs);
	strbuf_clear(&m->conn);
	strbuf_clear(&m->te);
	m->nhost = 0;
	m->head_lines = 0;
	m->body_bytes = 0;
	strbuf_clear(&m->removed);
	m->hop_removed = 0;
	strbuf_clear(&m->head); /* the allocation serves the next message */
	/* The line-end check runs on across messages: not reset. */
	m->chunked = false;
	m->chunk_lines = false;
	m->line_len = 0;
}

static void
msg_init(struct hmsg *m, enum http_parser_type type, int bad)
{
	memset(m, 0, sizeof(*m));
	http_parser_init(&m->p, type);
	m->p.data = m;
	m->bad = bad;
	m->head = (struct strbuf)STRBUF_INIT;
}

static void
msg_free(struct hmsg *m)
{
	strbuf_release(&m->line);
	strbuf_release(&m->name);
	strbuf_release(&m->value);
	strbuf_release(&m->hdrs);
	strbuf_release(&m->conn);
	strbuf_release(&m->te);
	strbuf_release(&m->removed);
	strbuf_release(&m->head);
}

/* The header whose pieces came in is complete: check and store it. */
static int
finish_header(struct hmsg *m)
{
	const char *name = strbuf_str(&m->name), *value = strbuf_str(&m->value);
	size_t n = m->value.len;

	if (m->last == CB_NONE)
		return 0;
	m->last = CB_NONE;
	while (n > 0 && is_ows(value[n - 1]))
		n--;
	if (!valid_name(name, m->name.len))
		return fail(m, m->bad, "bad header name");
	if (!valid_value(value, n))
		return fail(m, m->bad, "bad header value");
	if (strbuf_appendn(&m->hdrs, name, m->name.len + 1) < 0 ||
	    strbuf_appendn(&m->hdrs, value, n) < 0 ||
	    strbuf_appendn(&m->hdrs, "", 1) < 0)
		return fail(m, 500, "out of memory");
	if (strcasecmp(name, "Connection") == 0) {
		if (strbuf_appendn(&m->conn, ",", 1) < 0 ||
		    strbuf_appendn(&m->conn, value, n) < 0)
			return fail(m, 500, "out of memory");
	} else if (strcasecmp(name, "Transfer-Encoding") == 0) {
		if ((m->te_seen && strbuf_appendn(&m->te, ",", 1) < 0) ||
		    strbuf_appendn(&m->te, value, n) < 0)
			return fail(m, 500, "out of memory");
		m->te_seen = true;
	} else if (strcasecmp(name, "Host") == 0) {
		m->nhost++;
	}
	strbuf_clear(&m->name);
	strbuf_clear(&m->value);
	return 0;
}

static int
on_message_begin(http_parser *p)
{
	msg_of(p)->in_message = true;
	return 0;
}

static int
on_line(http_parser *p, const char *at, size_t n)
{
	struct hmsg *m = msg_of(p);

	if (strbuf_appendn(&m->line, at, n) < 0)
		return fail(m, 500, "out of memory");
	return 0;
}

static int
on_header_field(http_parser *p, const char *at, size_t n)
{
	struct hmsg *m = msg_of(p);

	if (m->headers_done) {
		/* Trailers: refused in requests, passed on raw in responses. */
		if (m->bad == 400)
			return fail(m, 400, "trailer fields");
		return 0;
	}
	if (m->last == CB_VALUE && finish_header(m) < 0)
		return -1;
	if (strbuf_appendn(&m->name, at, n) < 0)
		return fail(m, 500, "out of memory");
	m->last = CB_FIELD;
	return 0;
}

static int
on_header_value(http_parser *p, const char *at, size_t n)
{
	struct hmsg *m = msg_of(p);

	if (m->headers_done)
		return 0;
	if (strbuf_appendn(&m->value, at, n) < 0)
		return fail(m, 500, "out of memory");
	m->last = CB_VALUE;
	return 0;
}

static int
on_body(http_parser *p, const char *at, size_t n)
{
	struct hmsg *m = msg_of(p);

	/* Body data is not framing: check what came before it, skip it. */
	if (m->scan_pos < at && scan(m, m->scan_pos, at) < 0)
		return -1;
	m->scan_pos = at + n;
	m->prev = 0;
	if (m->chunked && p->content_length == 0)
		m->need_cr = true;
	m->body_bytes += n;
	if (m->max_body > 0 && m->body_bytes > m->max_body) {
		/* Nothing after these bytes was looked at: scan no further. */
		m->scan_pos = NULL;
		return fail(m, 413, "body too large");
	}
	return 0;
}

/*
 * Transfer-Encoding in a request: "chunked" alone, or refused. A coding
 * after chunked, chunked twice or not at all: 400 (RFC 9112 6.3); other
 * codings before chunked: 501, we do not implement them.
 */
static int
check_te(struct hmsg *m)
{
	const char *s = strbuf_str(&m->te), *e;
	bool last_chunked = false;
	size_t ntok = 0, k;

	if (!m->te_seen && !m->p.uses_transfer_encoding)
		return 0;
	for (;;) {
		while (is_ows(*s))
			s++;
		e = s;
		while (*e != '\0' && *e != ',')
			e++;
		k = (size_t)(e - s);
		while (k > 0 && is_ows(s[k - 1]))
			k--;
		if (k == 0 || last_chunked)
			return fail(m, 400, "bad transfer-encoding");
		last_chunked = k == 7 && strncasecmp(s, "chunked", 7) == 0;
		ntok++;
		if (*e == '\0')
			break;
		s = e + 1;
	}
	if (!last_chunked)
		return fail(m, 400, "bad transfer-encoding");
	if (ntok > 1)
		return fail(m, 501, "unsupported transfer-encoding");
	return 0;
}

/*
 * Append the message's headers to its head but hop-by-hop ones and, for a
 * request (id_header set), every one the agent would take for ours.
 */
static void
append_headers(struct hmsg *m, const char *id_header)
{
	const char *s = strbuf_str(&m->hdrs), *name, *value;
	size_t i;

	for (i = 0; i < m->hdrs.len; i += strlen(value) + 1) {
		name = s + i;
		value = name + strlen(name) + 1;
		i += strlen(name) + 1;
		if (is_hop_by_hop(name, &m->conn)) {
			m->hop_removed++;
			continue;
		}
		if (id_header != NULL && is_spoofable(name, id_header)) {
			(void)strbuf_appendn(
			    &m->removed, name, strlen(name) + 1);
			continue;
		}
		(void)STRBUF_APPEND(&m->head, name, ": ", value, "\r\n");
	}
}

static int
build_request_head(struct http_request *r)
{
	struct hmsg *m = &r->m;
	struct strbuf *h = &m->head;

	(void)STRBUF_APPEND(h, http_method_str((enum http_method)m->p.method),
	    " ", strbuf_str(&m->line),
	    m->p.http_minor == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n",
	    MD_HEADER_XFF, ": ", r->peer, "\r\n", r->id_header, ": ", r->id,
	    "\r\n");
	append_headers(m, r->id_header);
	if (strbuf_append(h, HTTP_AGENT_CLOSE) < 0)
		return fail(m, 500, "out of memory");
	if (h->len > r->agent_head_max)
		return fail(m, 431, "request head too large for the agent");
	return 0;
}

/*
 * Whether the agent connection may carry another request after this one:
 * only a bodiless HTTP/1.1 GET or HEAD that carries no header a WSGI agent
 * could read as a length, a transfer coding or an expectation, under any
 * spelling it folds together. Anything else asks the agent to close.
 */
static bool
request_reusable(const struct http_request *r)
{
	static const char *const framing[] = {
	    "Content-Length", "Transfer-Encoding", "Expect", NULL};
	const struct hmsg *m = &r->m;
	const char *s = strbuf_str(&m->hdrs), *name;
	size_t i, k;

	if (m->p.http_major != 1 || m->p.http_minor != 1 || r->has_body ||
	    m->te_seen || (m->p.method != HTTP_GET && m->p.method != HTTP_HEAD))
		return false;
	for (i = 0; i < m->hdrs.len;) {
		name = s + i;
		for (k = 0; framing[k] != NULL; k++)
			if (wsgi_match(name, framing[k], false))
				return false;
		i += strlen(name) + 1;
		i += strlen(s + i) + 1; /* the value */
	}
	return true;
}

static int
req_headers_complete(http_parser *p)
{
	struct hmsg *m = msg_of(p);
	struct http_request *r = CONTAINER_OF(m, struct http_request, m);
	const char *line = strbuf_str(&m->line);
	size_t i;

	if (finish_header(m) < 0)
		return -1;
	m->headers_done = true;
	if (p->http_major != 1 || p->http_minor > 1)
		return fail(m, 505, "unsupported http version");
	if (p->method == HTTP_CONNECT)
		return fail(m, 405, "connect method");
	/* Lenient http_parser lets HTAB and FF into the target. */
	for (i = 0; i < m->line.len; i++)
		if ((unsigned char)line[i] <= 0x20 ||
		    (unsigned char)line[i] == 0x7f)
			return fail(m, 400, "bad request target");
	/*
	 * Absolute-form ("http://host/path") names a host of the client's
	 * choosing and asterisk-form is OPTIONS to us: neither is for the
	 * agent (RFC 9112 3.2).
	 */
	if (line[0] != '/')
		return fail(m, 400, "target not in origin-form");
	if (m->nhost > 1)
		return fail(m, 400, "several host headers");
	if (check_te(m) < 0)
		return -1;
	m->chunked = (p->flags & F_CHUNKED) != 0;
	if (m->te_seen != m->chunked)
		return fail(m, 400, "bad transfer-encoding");
	if (!m->chunked && p->content_length != ULLONG_MAX) {
		if (p->content_length >= HTTP_CONTENT_LENGTH_LIMIT)
			return fail(m, 400, "content-length too large");
		if (m->max_body > 0 && p->content_length > m->max_body)
			return fail(m, 413, "body too large");
	}
	if (m->nhost == 0 && p->http_minor == 1)
		return fail(m, 400, "missing host");
	if (build_request_head(r) < 0)
		return -1;
	r->keep_alive = http_should_keep_alive(p) != 0;
	r->has_body = m->chunked || (p->content_length > 0 &&
	                                p->content_length != ULLONG_MAX);
	r->reusable = request_reusable(r);
	m->ev = EV_HEAD;
	http_parser_pause(p, 1);
	return 0;
}

static int
req_message_complete(http_parser *p)
{
	struct hmsg *m = msg_of(p);

	m->ev = EV_DONE;
	http_parser_pause(p, 1);
	return 0;
}

static int
build_response_head(struct http_response *r)
{
	struct hmsg *m = &r->m;
	struct strbuf *h = &m->head;
	char code[4];

	/* http_parser takes three digits only: 100-999. */
	code[0] = (char)('0' + m->p.status_code / 100 % 10);
	code[1] = (char)('0' + m->p.status_code / 10 % 10);
	code[2] = (char)('0' + m->p.status_code % 10);
	code[3] = '\0';
	(void)STRBUF_APPEND(
	    h, "HTTP/1.1 ", code, " ", strbuf_str(&m->line), "\r\n");
	append_headers(m, NULL);
	if (strbuf_append(h, r->keep_alive ? "Connection: keep-alive\r\n\r\n"
	                                   : "Connection: close\r\n\r\n") < 0)
		return fail(m, 500, "out of memory");
	return 0;
}

/*
 * Whether the last coding of the Transfer-Encoding list, as we pass it on
 * (values trimmed of blanks), is chunked. http_parser reads a blank other
 * than SP after "chunked" as the start of another coding, so its framing
 * and the header the client gets could disagree: such a response is
 * refused.
 */
static bool
te_ends_chunked(const struct strbuf *te)
{
	const char *s = strbuf_str(te), *last = strrchr(s, ',');
	size_t k;

	last = last != NULL ? last + 1 : s;
	while (is_ows(*last))
		last++;
	k = strlen(last);
	while (k > 0 && is_ows(last[k - 1]))
		k--;
	return k == 7 && strncasecmp(last, "chunked", 7) == 0;
}

/*
 * Whether the body runs to the agent's close: http_message_needs_eof()'s
 * rule (RFC 9112 6.3), which libhttp-parser 2.9 exports but does not
 * declare. The caller has ruled out bodiless statuses and HEAD.
 */
static bool
needs_eof_body(const http_parser *p)
{
	if (p->flags & F_CHUNKED)
		return false;
	if (p->uses_transfer_encoding)
		return true;
	return p->content_length == ULLONG_MAX;
}

static int
resp_headers_complete(http_parser *p)
{
	struct hmsg *m = msg_of(p);
	struct http_response *r = CONTAINER_OF(m, struct http_response, m);
	unsigned code = p->status_code;
	bool skip, needs_eof;

	if (finish_header(m) < 0)
		return -1;
	if (p->http_major != 1 || p->http_minor > 1)
		return fail(m, 502, "bad response version");
	if (!valid_value(strbuf_str(&m->line), m->line.len))
		return fail(m, 502, "bad reason phrase");
	if (code == 101 || code < 100)
		return fail(m, 502, "bad response status");
	if (m->te_seen &&
	    te_ends_chunked(&m->te) != ((p->flags & F_CHUNKED) != 0))
		return fail(m, 502, "bad transfer-encoding");
	if (code < 200) {
		/*
		 * 100 Continue and other interim answers are dropped: the
		 * client gets the final response only (skip the body, if any).
		 */
		r->interim = true;
		return 1;
	}
	m->headers_done = true;
	skip = r->head_request || code == 204 || code == 304;
	needs_eof = !skip && needs_eof_body(p);
	m->chunked = !skip && (p->flags & F_CHUNKED) != 0;
	r->keep_alive = r->want_keep_alive && !needs_eof;
	r->has_body =
	    !skip &&
	    (m->chunked || needs_eof ||
	        (p->content_length > 0 && p->content_length != ULLONG_MAX));
	/*
	 * One framing only: a Content-Length, read to its end; and no
	 * "close" among the Connection tokens, as we read the list
	 * (http_parser misses it behind an empty element: "a,, close").
	 */
	r->reusable = p->http_minor == 1 && code != 204 && code != 304 &&
	              !m->te_seen && (p->flags & F_CHUNKED) == 0 &&
	              p->content_length != ULLONG_MAX && !needs_eof &&
	              http_should_keep_alive(p) != 0 &&
	              !list_has(&m->conn, "close");
	if (build_response_head(r) < 0)
		return -1;
	m->ev = EV_HEAD;
	http_parser_pause(p, 1);
	return skip ? 1 : 0;
}

static int
resp_message_complete(http_parser *p)
{
	struct hmsg *m = msg_of(p);
	struct http_response *r = CONTAINER_OF(m, struct http_response, m);

	if (r->interim) {
		r->interim = false;
		msg_reset(m);
		return 0;
	}
	m->ev = EV_DONE;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings req_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_line,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = req_headers_complete,
    .on_body = on_body,
    .on_message_complete = req_message_complete,
};

static const http_parser_settings resp_settings = {
    .on_message_begin = on_message_begin,
    .on_status = on_line,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = resp_headers_complete,
    .on_body = on_body,
    .on_message_complete = resp_message_complete,
};

static const char *
parser_reason(enum http_errno err, bool request)
{
	switch (err) {
	case HPE_INVALID_CONTENT_LENGTH:
	case HPE_UNEXPECTED_CONTENT_LENGTH:
		return "bad content-length";
	case HPE_INVALID_TRANSFER_ENCODING:
		return "bad transfer-encoding";
	case HPE_INVALID_CHUNK_SIZE:
		return "bad chunk size";
	case HPE_INVALID_HEADER_TOKEN:
		return "bad header";
	case HPE_INVALID_METHOD:
		return "bad method";
	case HPE_INVALID_URL:
		return "bad request target";
	case HPE_INVALID_VERSION:
		return "bad version";
	case HPE_INVALID_STATUS:
		return "bad status";
	case HPE_HEADER_OVERFLOW:
		return request ? "request head too large"
		               : "response head too large";
	default:
		return request ? "malformed request" : "malformed response";
	}
}

/*
 * Run the parser over data[0..len): the bytes it consumed. m->ev says
 * whether it stopped at a head or at the end of a message, m->status
 * whether the message failed.
 */
static size_t
msg_run(struct hmsg *m, const http_parser_settings *settings, const char *data,
    size_t len)
{
	enum http_errno err;
	size_t n, stop;
	bool request = m->bad == 400;

	if (HTTP_PARSER_ERRNO(&m->p) == HPE_PAUSED)
		http_parser_pause(&m->p, 0);
	m->ev = EV_NONE;
	/*
	 * Past the head, the framing bytes of a chunked body are chunk lines
	 * (the parser pauses at the end of a head, so a run never holds both).
	 */
	m->chunk_lines = m->headers_done && m->chunked;
	m->head_lines_run = !m->headers_done && m->bad == 400;
	m->scan_pos = data + (m->head_tail ? 1 : 0);
	n = http_parser_execute(&m->p, settings, data, len);
	err = HTTP_PARSER_ERRNO(&m->p);
	/* The byte it stopped on at a head or an error was looked at too. */
	stop = n;
	if ((m->ev == EV_HEAD || (err != HPE_OK && err != HPE_PAUSED)) &&
	    n < len)
		stop = n + 1;
	if (m->scan_pos != NULL && m->scan_pos < data + stop)
		(void)scan(m, m->scan_pos, data + stop);
	if (n > 0)
		m->head_tail = false;
	if (m->status == 0 && err != HPE_OK && err != HPE_PAUSED) {
		if (err == HPE_HEADER_OVERFLOW && request)
			(void)fail(m, 431, parser_reason(err, request));
		else
			(void)fail(m, m->bad, parser_reason(err, request));
	}
	return n;
}

static void
escape_path(const char *s, size_t n, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c > 0x20 && c < 0x7f && c != '\\' && c != '"') {
			if (o + 1 >= outsz)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 4 >= outsz)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0xf];
		}
	}
	out[o] = '\0';
}

/* Method and path for the access log, once the request line was read. */
static void
fill_request_line(const struct hmsg *m, struct http_out *out)
{
	int n;

	out->method[0] = '\0';
	out->path[0] = '\0';
	out->version[0] = '\0';
	if (m->line.len == 0)
		return;
	(void)snprintf(out->version, sizeof(out->version), "HTTP/%u.%u",
	    m->p.http_major % 10U, m->p.http_minor % 10U);
	n = snprintf(out->method, sizeof(out->method), "%s",
	    http_method_str((enum http_method)m->p.method));
	if (n < 0 || (size_t)n >= sizeof(out->method))
		out->method[0] = '\0';
	escape_path(
	    strbuf_str(&m->line), m->line.len, out->path, sizeof(out->path));
}

static enum http_event
req_error(struct http_request *r, struct http_out *out)
{
	out->status = r->m.status;
	out->reason = r->m.reason;
	out->keep_alive = false;
	out->has_body = false;
	out->data = NULL;
	out->len = 0;
	fill_request_line(&r->m, out);
	return HTTP_ERROR;
}

static bool
safe_text(const char *s)
{
	return s != NULL && *s != '\0' && valid_value(s, strlen(s));
}

struct http_request *
http_request_new(const struct http_config *cfg, const char *peer)
{
	struct http_request *r;
	size_t a, b, c;
	char *s;

	if (cfg == NULL || !safe_text(peer) || !safe_text(cfg->id) ||
	    cfg->id_header == NULL ||
	    !valid_name(cfg->id_header, strlen(cfg->id_header))) {
		errno = EINVAL;
		return NULL;
	}
	a = strlen(cfg->id_header) + 1;
	b = strlen(cfg->id) + 1;
	c = strlen(peer) + 1;
	r = calloc(1, sizeof(*r) + a + b + c);
	if (r == NULL)
		return NULL;
	msg_init(&r->m, HTTP_REQUEST, 400);
	s = (char *)(r + 1);
	memcpy(s, cfg->id_header, a);
	r->id_header = s;
	memcpy(s + a, cfg->id, b);
	r->id = s + a;
	memcpy(s + a + b, peer, c);
	r->peer = s + a + b;
	r->client_head_max = cfg->client_head_max;
	r->agent_head_max = cfg->agent_head_max;
	r->m.max_body = cfg->max_body;
	return r;
}

void
http_request_free(struct http_request *r)
{
	if (r == NULL)
		return;
	msg_free(&r->m);
	free(r);
}

enum http_event
http_request_feed(struct http_request *r, const char *data, size_t len,
    size_t *used, struct http_out *out)
{
	struct hmsg *m = &r->m;
	size_t n, skip, feed = len, room;
	bool cut = false;

	*used = 0;
	if (m->status != 0)
		return req_error(r, out);
	if (len == 0)
		return HTTP_NEED_MORE; /* http_parser reads len 0 as EOF */
	if (!m->headers_done) {
		room = r->client_head_max > r->head_bytes
		           ? r->client_head_max - r->head_bytes
		           : 0;
		if (feed > room) {
			feed = room;
			cut = true;
		}
		if (feed == 0) {
			(void)fail(m, 431, "request head too large");
			return req_error(r, out);
		}
	}
	skip = m->head_tail ? 1 : 0;
	n = msg_run(m, &req_settings, data, feed);
	if (m->status != 0)
		return req_error(r, out);
	if (m->ev == EV_HEAD) {
		m->head_tail = true;
		r->head_bytes = 0;
		*used = n;
		out->head = m->head;
		out->keep_alive = r->keep_alive;
		out->has_body = r->has_body;
		out->reusable = r->reusable;
		out->removed = strbuf_str(&m->removed);
		out->removed_len = m->removed.len;
		out->hop_removed = m->hop_removed;
		fill_request_line(m, out);
		out->data = NULL;
		out->len = 0;
		return HTTP_HEADERS;
	}
	if (m->ev == EV_DONE) {
		*used = n;
		out->data = data + skip;
		out->len = n - skip;
		msg_reset(m);
		return HTTP_DONE;
	}
	if (!m->headers_done) {
		r->head_bytes += n;
		if (cut) {
			(void)fail(m, 431, "request head too large");
			return req_error(r, out);
		}
		*used = n;
		return HTTP_NEED_MORE;
	}
	*used = n;
	if (n <= skip)
		return HTTP_NEED_MORE;
	out->data = data + skip;
	out->len = n - skip;
	return HTTP_BODY;
}

enum http_event
http_request_eof(struct http_request *r, struct http_out *out)
{
	struct hmsg *m = &r->m;

	if (m->status == 0 && m->in_message)
		(void)fail(m, 400, "request cut short");
	if (m->status != 0)
		return req_error(r, out);
	out->data = NULL;
	out->len = 0;
	return HTTP_DONE;
}

struct http_response *
http_response_new(bool head_request, bool keep_alive)
{
	struct http_response *r;

	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	msg_init(&r->m, HTTP_RESPONSE, 502);
	r->head_request = head_request;
	r->want_keep_alive = keep_alive;
	return r;
}

void
http_response_reset(struct http_response *r, bool head_request, bool keep_alive)
{
	struct hmsg *m = &r->m;

	msg_reset(m);
	http_parser_init(&m->p, HTTP_RESPONSE);
	m->p.data = m;
	m->status = 0;
	m->reason = NULL;
	m->scan_pos = NULL;
	m->prev = 0;
	m->need_cr = false;
	m->head_lines_run = false;
	r->head_bytes = 0;
	r->head_request = head_request;
	r->want_keep_alive = keep_alive;
	r->interim = false;
	r->keep_alive = false;
	r->has_body = false;
	r->done = false;
	r->reusable = false;
}

bool
http_response_reusable(const struct http_response *r)
{
	return r->done && r->reusable && r->m.status == 0;
}

int
http_agent_head(const struct http_out *out, bool reuse, struct iovec iov[2])
{
	static const char crlf[] = "\r\n";
	size_t close_len = strlen(HTTP_AGENT_CLOSE);
	const void *end = crlf;

	iov[0].iov_base = out->head.buf;
	iov[0].iov_len = out->head.len;
	if (!reuse || !out->reusable || out->head.len < close_len ||
	    memcmp(out->head.buf + out->head.len - close_len, HTTP_AGENT_CLOSE,
	        close_len) != 0)
		return 1;
	/* The same head, its last line ("Connection: close") left out. */
	iov[0].iov_len = out->head.len - close_len;
	memcpy(&iov[1].iov_base, &end, sizeof(end)); /* writev takes it const */
	iov[1].iov_len = 2;
	return 2;
}

void
http_response_free(struct http_response *r)
{
	if (r == NULL)
		return;
	msg_free(&r->m);
	free(r);
}

static enum http_event
resp_error(struct http_response *r, struct http_out *out)
{
	out->status = r->m.status;
	out->reason = r->m.reason;
	out->keep_alive = false;
	out->has_body = false;
	out->data = NULL;
	out->len = 0;
	return HTTP_ERROR;
}

enum http_event
http_response_feed(struct http_response *r, const char *data, size_t len,
    size_t *used, struct http_out *out)
{
	struct hmsg *m = &r->m;
	size_t n, skip, feed = len, room;
	bool cut = false;

	*used = 0;
	if (m->status != 0)
		return resp_error(r, out);
	if (r->done) {
		/* The agent was asked to close: whatever follows is dropped. */
		*used = len;
		return HTTP_NEED_MORE;
	}
	if (len == 0)
		return HTTP_NEED_MORE;
	if (!m->headers_done) {
		room = HTTP_RESPONSE_HEAD_MAX > r->head_bytes
		           ? HTTP_RESPONSE_HEAD_MAX - r->head_bytes
		           : 0;
		if (feed > room) {
			feed = room;
			cut = true;
		}
		if (feed == 0) {
			(void)fail(m, 502, "response head too large");
			return resp_error(r, out);
		}
	}
	skip = m->head_tail ? 1 : 0;
	n = msg_run(m, &resp_settings, data, feed);
	if (m->status != 0)
		return resp_error(r, out);
	if (!m->headers_done && m->ev != EV_HEAD) {
		r->head_bytes += n;
		if (cut) {
			(void)fail(m, 502, "response head too large");
			return resp_error(r, out);
		}
	}
	*used = n;
	if (m->ev == EV_HEAD) {
		m->head_tail = true;
		out->head = m->head;
		out->keep_alive = r->keep_alive;
		out->has_body = r->has_body;
		out->status = (int)m->p.status_code;
		out->reason = NULL;
		out->method[0] = '\0';
		out->path[0] = '\0';
		out->data = NULL;
		out->len = 0;
		return HTTP_HEADERS;
	}
	if (m->ev == EV_DONE) {
		r->done = true;
		out->data = data + skip;
		out->len = n - skip;
		return HTTP_DONE;
	}
	if (!m->headers_done || n <= skip)
		return HTTP_NEED_MORE;
	out->data = data + skip;
	out->len = n - skip;
	return HTTP_BODY;
}

enum http_event
http_response_eof(struct http_response *r, struct http_out *out)
{
	struct hmsg *m = &r->m;

	if (m->status == 0 && !r->done) {
		/*
		 * Only a body delimited by the close ends here; http_parser
		 * says so by completing the message on a zero-length feed.
		 */
		if (m->headers_done && !m->head_tail) {
			if (HTTP_PARSER_ERRNO(&m->p) == HPE_PAUSED)
				http_parser_pause(&m->p, 0);
			m->ev = EV_NONE;
			(void)http_parser_execute(&m->p, &resp_settings, "", 0);
		}
		if (m->ev == EV_DONE)
			r->done = true;
		else
			(void)fail(m, 502, "response cut short");
	}
	if (m->status != 0)
		return resp_error(r, out);
	out->data = NULL;
	out->len = 0;
	return HTTP_DONE;
}

static const char *
status_text(int status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 413:
		return "Payload Too Large";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return NULL;
	}
}

int
http_error_response(int status, bool close, struct strbuf *out)
{
	struct strbuf sb = STRBUF_INIT;
	const char *text = status_text(status);
	int ret;

	if (text == NULL)
		return -EINVAL;
	(void)strbuf_appendf(&sb,
	    "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
	    "Content-Length: %zu\r\n%s\r\n%s\n",
	    status, text, strlen(text) + 1,
	    close ? "Connection: close\r\n" : "", text);
	ret = sb.failed ? -ENOMEM : strbuf_append(out, strbuf_str(&sb));
	strbuf_release(&sb);
	return ret < 0 ? ret : 0;
}
