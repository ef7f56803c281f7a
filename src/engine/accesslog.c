#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "engine/accesslog.h"
#include "banned.h"

/* haproxy's hextab: its log escaping writes upper-case digits. */
static const char hex[] = "0123456789ABCDEF";

/* English whatever the locale: strftime's %b would follow LC_TIME. */
static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* haproxy's termination state letters (configuration.txt, 8.5). */
#define TERM_CAUSES "CSPLRIDUKcs-"
#define TERM_STATES "RQCHDLT-"

/* The accept date, broken down once for either format. */
struct date {
	struct tm tm;
	long ms;
};

/*
 * haproxy's url_encode_map (control bytes, DEL and above, '"', '#'), and
 * also the blank, which haproxy leaves because its request line cannot
 * hold one, and '\', which some log readers take for an escape of the
 * closing quote.
 */
static bool
must_escape(unsigned char c)
{
	return c <= ' ' || c >= 0x7f || c == '"' || c == '#' || c == '\\';
}

static bool
present(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/*
 * s with haproxy's log escaping ('#' and two hex digits), "-" when absent.
 * A failed append marks sb failed; the caller checks once.
 */
static void
add_escaped(struct strbuf *sb, const char *s)
{
	const char *run;
	char esc[3];
	unsigned char c;

	if (!present(s)) {
		(void)strbuf_append(sb, "-");
		return;
	}
	for (run = s; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (!must_escape(c))
			continue;
		(void)strbuf_appendn(sb, run, (size_t)(s - run));
		esc[0] = '#';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 0xf];
		(void)strbuf_appendn(sb, esc, sizeof(esc));
		run = s + 1;
	}
	(void)strbuf_appendn(sb, run, (size_t)(s - run));
}

/* haproxy's %r: the request line as it came, "<BADREQ>" without one. */
static void
add_request(struct strbuf *sb, const struct accesslog_rec *r)
{
	if (!present(r->method)) {
		(void)strbuf_append(sb, "<BADREQ>");
		return;
	}
	add_escaped(sb, r->method);
	(void)strbuf_append(sb, " ");
	add_escaped(sb, r->path);
	if (present(r->version)) {
		(void)strbuf_append(sb, " ");
		add_escaped(sb, r->version);
	}
}

static char
term_char(char c, const char *set)
{
	if (c == '\0' || strchr(set, c) == NULL)
		return '-';
	return c;
}

/* haproxy prints -1 for a timer never reached; nothing lower. */
static long
timer(long t)
{
	return t < -1 ? -1 : t;
}

static int
date_of(const struct timeval *tv, struct date *d)
{
	time_t t = tv->tv_sec;

	if (tv->tv_usec < 0 || tv->tv_usec > 999999)
		return -EINVAL;
	if (localtime_r(&t, &d->tm) == NULL)
		return -EINVAL;
	/* Both formats print four digits of year. */
	if (d->tm.tm_year < -1900 || d->tm.tm_year > 9999 - 1900 ||
	    d->tm.tm_mon < 0 || d->tm.tm_mon > 11)
		return -EINVAL;
	d->ms = (long)(tv->tv_usec / 1000);
	return 0;
}

/*
 * haproxy's default HTTP log format, without header captures:
 * %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc
 * %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r
 * (empty %hr and %hs print nothing and one blank stays between their
 * neighbours), then our refusal's reason=.
 */
static void
httplog(const struct accesslog_rec *r, const struct date *d, struct strbuf *sb)
{
	const struct tm *tm = &d->tm;

	add_escaped(sb, r->client_ip);
	(void)strbuf_appendf(sb, ":%u [%02d/%s/%04d:%02d:%02d:%02d.%03ld] ",
	    r->client_port, tm->tm_mday, months[tm->tm_mon], tm->tm_year + 1900,
	    tm->tm_hour, tm->tm_min, tm->tm_sec, d->ms);
	add_escaped(sb, r->frontend);
	(void)strbuf_append(sb, " ");
	add_escaped(sb, r->backend);
	(void)strbuf_append(sb, "/");
	if (present(r->server))
		add_escaped(sb, r->server);
	else
		(void)strbuf_append(sb, "<NOSRV>");
	(void)strbuf_appendf(sb,
	    " %ld/%ld/%ld/%ld/%ld %d %llu - - %c%c-- %u/%u/%u/%u/%u %u/%u \"",
	    timer(r->t_request), timer(r->t_queue), timer(r->t_connect),
	    timer(r->t_response), timer(r->t_active), r->status, r->bytes_read,
	    term_char(r->term[0], TERM_CAUSES),
	    term_char(r->term[1], TERM_STATES), r->actconn, r->feconn,
	    r->beconn, r->srv_conn, r->retries, r->srv_queue, r->backend_queue);
	add_request(sb, r);
	(void)strbuf_append(sb, "\"");
	if (present(r->reason)) {
		(void)strbuf_append(sb, " reason=");
		add_escaped(sb, r->reason);
	}
}

/* A JSON object being filled: each add succeeds or marks it failed. */
struct jw {
	json_object *o;
	struct strbuf *tmp; /* scratch for escaped text */
	bool failed;
};

static void
put(struct jw *w, const char *key, json_object *v)
{
	if (v == NULL || json_object_object_add(w->o, key, v) < 0) {
		json_object_put(v);
		w->failed = true;
	}
}

static void
put_null(struct jw *w, const char *key)
{
	if (json_object_object_add(w->o, key, NULL) < 0)
		w->failed = true;
}

static void
put_num(struct jw *w, const char *key, int64_t n)
{
	put(w, key, json_object_new_int64(n));
}

/* The text in w->tmp (filled by the caller after strbuf_clear). */
static void
put_tmp(struct jw *w, const char *key)
{
	if (w->tmp->failed) {
		w->failed = true;
		return;
	}
	put(w, key,
	    json_object_new_string_len(strbuf_str(w->tmp), (int)w->tmp->len));
}

static void
put_escaped(struct jw *w, const char *key, const char *s)
{
	strbuf_clear(w->tmp);
	add_escaped(w->tmp, s);
	put_tmp(w, key);
}

/* Escaped text, or null when absent. */
static void
put_opt(struct jw *w, const char *key, const char *s)
{
	if (present(s))
		put_escaped(w, key, s);
	else
		put_null(w, key);
}

static void
json_fields(const struct accesslog_rec *r, const struct date *d, struct jw *w)
{
	const struct tm *tm = &d->tm;
	long off = tm->tm_gmtoff / 60;
	/* sized for any int, so that gcc sees no truncation */
	char date[160], term[5];
	int n;

	put_escaped(w, "client_ip", r->client_ip);
	put_num(w, "client_port", r->client_port);
	n = snprintf(date, sizeof(date),
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ld%c%02ld:%02ld",
	    tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday, tm->tm_hour,
	    tm->tm_min, tm->tm_sec, d->ms, off < 0 ? '-' : '+',
	    (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
	if (n < 0 || (size_t)n >= sizeof(date))
		w->failed = true;
	else
		put(w, "accept_date", json_object_new_string(date));
	put_escaped(w, "frontend_name", r->frontend);
	put_escaped(w, "backend_name", r->backend);
	if (present(r->server))
		put_escaped(w, "server_name", r->server);
	else
		put(w, "server_name", json_object_new_string("<NOSRV>"));
	put_num(w, "time_request", timer(r->t_request));
	put_num(w, "time_queue", timer(r->t_queue));
	put_num(w, "time_connect", timer(r->t_connect));
	put_num(w, "time_response", timer(r->t_response));
	put_num(w, "time_active", timer(r->t_active));
	put_num(w, "status_code", r->status);
	put(w, "bytes_read", json_object_new_uint64(r->bytes_read));
	term[0] = term_char(r->term[0], TERM_CAUSES);
	term[1] = term_char(r->term[1], TERM_STATES);
	term[2] = '-';
	term[3] = '-';
	term[4] = '\0';
	put(w, "termination_state", json_object_new_string(term));
	put_num(w, "actconn", r->actconn);
	put_num(w, "feconn", r->feconn);
	put_num(w, "beconn", r->beconn);
	put_num(w, "srv_conn", r->srv_conn);
	put_num(w, "retries", r->retries);
	put_num(w, "srv_queue", r->srv_queue);
	put_num(w, "backend_queue", r->backend_queue);
	strbuf_clear(w->tmp);
	add_request(w->tmp, r);
	put_tmp(w, "http_request");
	if (present(r->method)) {
		put_escaped(w, "method", r->method);
		put_escaped(w, "path", r->path);
		put_opt(w, "http_version", r->version);
	} else {
		put_null(w, "method");
		put_null(w, "path");
		put_null(w, "http_version");
	}
	put_opt(w, "reason", r->reason);
}

static int
json_line(
    const struct accesslog_rec *r, const struct date *d, struct strbuf *out)
{
	struct strbuf tmp = STRBUF_INIT;
	struct jw w = {json_object_new_object(), &tmp, false};
	const char *s;
	int ret = -ENOMEM;

	if (w.o == NULL)
		goto out;
	json_fields(r, d, &w);
	if (w.failed)
		goto out;
	/* Compact, one line; '/' left as it is (paths are full of them). */
	s = json_object_to_json_string_ext(
	    w.o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	/* One append: it adds the whole line or nothing. */
	if (s != NULL && strbuf_append(out, s) == 0)
		ret = 0;
out:
	json_object_put(w.o);
	strbuf_release(&tmp);
	if (ret < 0)
		out->failed = true;
	return ret;
}

int
accesslog_format(const struct accesslog_rec *r, enum accesslog_format fmt,
    struct strbuf *out)
{
	struct date d;
	size_t len = out->len;
	int ret;

	if (fmt != ACCESSLOG_HTTPLOG && fmt != ACCESSLOG_JSON)
		return -EINVAL;
	ret = date_of(&r->accept_date, &d);
	if (ret < 0)
		return ret;
	if (out->failed)
		return -ENOMEM;
	if (fmt == ACCESSLOG_JSON)
		return json_line(r, &d, out);
	/*
	 * Appended in place, with no buffer of its own to allocate per
	 * request; a failure cuts out back to its length (strbuf has no call
	 * for that, and its fields are its documented API).
	 */
	httplog(r, &d, out);
	if (out->failed) {
		out->len = len;
		if (out->buf != NULL)
			out->buf[len] = '\0';
		return -ENOMEM;
	}
	return 0;
}
