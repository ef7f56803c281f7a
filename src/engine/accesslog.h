/*
 * One access-log record as text: haproxy's default HTTP log line (option
 * httplog), so that what parses neutron's haproxy logs parses ours, or the
 * same fields as one JSON object. Pure: no I/O, no logging; the engine
 * fills the record and writes the line.
 *
 * Every text field is printed with haproxy's log escaping: a byte that is
 * a control byte, a blank, non-ASCII, '"', '#' or '\' becomes '#' and two
 * upper-case hex digits. Both formats carry the escaped text, so that a
 * line never holds a raw blank or quote from a client and the JSON is
 * always ASCII (valid UTF-8 whatever bytes came in).
 */
#ifndef NMP_ENGINE_ACCESSLOG_H
#define NMP_ENGINE_ACCESSLOG_H

#include <sys/time.h>

#include "strbuf.h"

enum accesslog_format { ACCESSLOG_HTTPLOG, ACCESSLOG_JSON };

/* One request as an access line tells it: haproxy's httplog fields. */
struct accesslog_rec {
	const char *client_ip; /* as accepted: IPv4 or IPv6, no brackets */
	unsigned int client_port;
	struct timeval accept_date; /* wall clock the request began */
	const char *frontend;       /* the network or router id */
	const char *backend;        /* "metadata" */
	const char *server; /* "agent"; NULL: no agent was tried (<NOSRV>) */
	long t_request;     /* TR: ms to receive the request head; -1: never */
	long t_queue;       /* Tw: ms waiting for an agent connection; -1 */
	long t_connect;     /* Tc: ms to connect to the agent; -1 */
	long t_response;    /* Tr: ms the agent took to answer its head; -1 */
	long t_active;      /* Ta: ms from the request's start to its end */
	int status;         /* -1: none */
	unsigned long long bytes_read; /* bytes sent to the client */
	/*
	 * Termination state: cause, state (haproxy's two first chars, e.g.
	 * "--", "PR", "cR", "SC", "sQ", "sH", "CD"); the cookie chars are
	 * always "--". A char outside haproxy's sets is printed as '-'.
	 */
	char term[3];
	unsigned int actconn, feconn, beconn, srv_conn, retries;
	unsigned int srv_queue, backend_queue;
	const char *method;  /* NULL or "": no request line (<BADREQ>) */
	const char *path;    /* as the HTTP parser cut it; escaped again */
	const char *version; /* "HTTP/1.1", "HTTP/1.0"; NULL: left out */
	const char *reason;  /* our refusal, a token: "rate-limited"; NULL */
};

/*
 * The line for r in format fmt, appended to out (no newline). A missing
 * name (NULL or "" client_ip, frontend, backend) prints as "-"; a timer
 * below -1 as -1.
 *
 * Returns 0, -EINVAL (fmt unknown, or an accept_date with tv_usec outside
 * 0..999999 or a local year outside 0..9999; out untouched) or
 * -ENOMEM (out->len and its text unchanged, out marked failed as any
 * failed strbuf append leaves it; also when out had failed before).
 */
int accesslog_format(const struct accesslog_rec *r, enum accesslog_format fmt,
    struct strbuf *out);

#endif
