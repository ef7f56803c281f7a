/*
 * The built-in engine's HTTP pipeline, without sockets: bytes from the
 * client in, the request for the agent out; bytes from the agent in, the
 * response for the client out. Framing is Debian's libhttp-parser's; no
 * HTTP is parsed by hand here. This is the seam the fuzzers drive.
 *
 * Both directions are streaming state machines fed with whatever arrived:
 * each call consumes a prefix of the input and reports one event. Body
 * bytes are forwarded raw, exactly as received (chunk framing included),
 * so the agent sees the framing the client sent. Nothing here logs.
 */
#ifndef NMP_ENGINE_HTTP_H
#define NMP_ENGINE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#include "metadata.h"
#include "strbuf.h"

struct http_config {
	const char *id_header; /* "X-Neutron-Network-ID", ... */
	const char *id;        /* the canonical uuid */
	/*
	 * The most a client's request head may take as received (request
	 * line and headers, CRLFs included); past it: 431.
	 */
	size_t client_head_max;
	/*
	 * The most the head sent to the agent may take, ours included (the
	 * agent reads 4096 bytes at once); past it: 431.
	 */
	size_t agent_head_max;
	/*
	 * The most body bytes a request may carry (Content-Length, or chunk
	 * data summed); past it: 413. 0: no cap.
	 */
	unsigned long long max_body;
};

/* More header lines than this in a request: 431. */
#define HTTP_MAX_HEADER_LINES MD_MAX_HEADER_LINES
/* A chunk line (size and extensions) longer than this: 400. */
#define HTTP_CHUNK_LINE_MAX 1024
/* An agent's response head longer than this: 502. */
#define HTTP_RESPONSE_HEAD_MAX ((unsigned long)MD_RESPONSE_HEAD_MAX)
/* A Content-Length this large or larger: 400, whatever the body cap. */
#define HTTP_CONTENT_LENGTH_LIMIT 1000000000000000000ULL

enum http_event {
	HTTP_NEED_MORE, /* all input consumed, nothing to report yet */
	HTTP_HEADERS,   /* a complete head: out->head is what to send on */
	HTTP_BODY,      /* out->data/out->len: raw body bytes to send on */
	HTTP_DONE,      /* the message ended (out->data/len: its last bytes) */
	HTTP_ERROR,     /* out->status to answer, then close */
};

struct http_out {
	/* HTTP_HEADERS */
	struct strbuf head; /* owned by the parser, valid until next feed */
	bool keep_alive; /* the client connection may carry another request */
	bool has_body;   /* body bytes follow (HTTP_BODY/HTTP_DONE) */
	/*
	 * HTTP_HEADERS of a request: the agent connection may carry another
	 * request after this one (see http_agent_head()).
	 */
	bool reusable;
	/* request heads, for the access log */
	char method[16];
	char path[128];   /* escaped and cut */
	char version[16]; /* "HTTP/1.1" */
	/*
	 * HTTP_HEADERS of a request: the names of the client-sent headers
	 * removed as spoofable (not hop-by-hop ones), each followed by a
	 * NUL; valid until the next feed.
	 */
	const char *removed;
	size_t removed_len;
	/* HTTP_HEADERS: how many hop-by-hop headers were dropped */
	unsigned int hop_removed;
	/* HTTP_BODY and HTTP_DONE: into the fed input */
	const char *data;
	size_t len;
	/* HTTP_ERROR */
	int status; /* 400, 405, 413, 431, 501, 505 (request); 502 (response) */
	const char *reason; /* static, lower case, for the log */
};

struct http_request;

/*
 * One per client connection; peer is the client address as text (it
 * becomes X-Forwarded-For). NULL when out of memory.
 */
struct http_request *http_request_new(
    const struct http_config *cfg, const char *peer);
void http_request_free(struct http_request *r);

/*
 * Feed client bytes. *used gets how many were consumed (the rest must be
 * fed again). After HTTP_HEADERS the caller sends out->head on and keeps
 * feeding; body bytes come as HTTP_BODY, the end as HTTP_DONE. After
 * HTTP_DONE the parser is ready for the next (pipelined) request. The head
 * for the agent puts X-Forwarded-For and the id header first, drops every
 * hop-by-hop header and every client-sent header that a WSGI agent would
 * read as X-Forwarded-For, X-Neutron-*, X-OVN-*, Forwarded, X-Real-IP,
 * X-Instance-ID, X-Instance-ID-Signature or X-Tenant-ID (any case, '-' and
 * '_' alike), and asks the agent to close after answering. Refused: both
 * Content-Length and Transfer-Encoding, several or invalid lengths, a
 * Transfer-Encoding other than chunked alone, bad chunks, NUL/CR/LF in
 * values, obs-fold, HTTP versions other than 1.0 and 1.1, a target not in
 * origin-form (400), CONNECT (405), HTTP/1.1 without Host (400), more than
 * HTTP_MAX_HEADER_LINES header lines (431), a Content-Length of
 * HTTP_CONTENT_LENGTH_LIMIT or more (400), a body over max_body (413), a
 * chunk line over HTTP_CHUNK_LINE_MAX (400).
 */
enum http_event http_request_feed(struct http_request *r, const char *data,
    size_t len, size_t *used, struct http_out *out);

/*
 * The client closed its side: HTTP_DONE if that ends a message cleanly
 * (nothing pending), else HTTP_ERROR (a request cut short).
 */
enum http_event http_request_eof(struct http_request *r, struct http_out *out);

/* The last line of every request head built for the agent. */
#define HTTP_AGENT_CLOSE "Connection: close\r\n\r\n"

/*
 * The head to send the agent for a request whose HTTP_HEADERS gave out:
 * out->head as built, which asks the agent to close after answering; or,
 * when reuse is asked and out->reusable, the same head without its
 * Connection line, so that an HTTP/1.1 agent keeps the connection. Only a
 * bodiless HTTP/1.1 GET or HEAD carrying no header a WSGI agent could read
 * as Content-Length, Transfer-Encoding or Expect (any case, '-' and '_'
 * alike) is reusable. Fills iov[0] and maybe iov[1]; returns how many.
 */
int http_agent_head(
    const struct http_out *out, bool reuse, struct iovec iov[2]);

struct http_response;

/*
 * One per agent response. head_request: the request was HEAD (no body
 * follows whatever the headers say). keep_alive: the client connection
 * stays open if the response allows it.
 */
struct http_response *http_response_new(bool head_request, bool keep_alive);
/* Ready for the next response, as if new, keeping its allocations. */
void http_response_reset(
    struct http_response *r, bool head_request, bool keep_alive);
void http_response_free(struct http_response *r);

/*
 * Feed agent bytes. HTTP_HEADERS: out->head is the response head for the
 * client, hop-by-hop headers dropped and Connection set to what
 * out->keep_alive says (false when the response is delimited by the
 * agent closing, or the client asked to close). Then HTTP_BODY ... and
 * HTTP_DONE. HTTP_ERROR (502) on a malformed response or a head over
 * HTTP_RESPONSE_HEAD_MAX.
 */
enum http_event http_response_feed(struct http_response *r, const char *data,
    size_t len, size_t *used, struct http_out *out);

/*
 * After HTTP_DONE: whether the agent connection may carry the next request.
 * Only when the response was HTTP/1.1, framed by a Content-Length alone
 * (not chunked, not read to the close, not 204 or 304) and the agent did
 * not ask to close. The caller must also have seen no byte after it.
 */
bool http_response_reusable(const struct http_response *r);

/* The agent closed: HTTP_DONE if that ends the response, else HTTP_ERROR. */
enum http_event http_response_eof(
    struct http_response *r, struct http_out *out);

/*
 * A complete response of our own (status 400, 408, 429, 431, 503, 504,
 * ...) with a short text body and "Connection: close" when close is set.
 */
int http_error_response(int status, bool close, struct strbuf *out);

#endif
