#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "banned.h"

void
fuzz_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "invariant failed: %s (%s:%d)\n", what, file, line);
	abort();
}

char *
fuzz_memdup(const void *data, size_t n)
{
	char *p = malloc(n > 0 ? n : 1);

	FUZZ_CHECK(p != NULL);
	if (data != NULL && n > 0)
		memcpy(p, data, n);
	return p;
}

char *
fuzz_strndup(const void *data, size_t n)
{
	char *p = malloc(n + 1);

	FUZZ_CHECK(p != NULL);
	if (n > 0)
		memcpy(p, data, n);
	p[n] = '\0';
	return p;
}

void
fuzz_split_init(struct fuzz_split *s, uint8_t seed)
{
	static const size_t max[8] = {1, 2, 3, 5, 8, 64, 512, 4096};

	s->max = seed == 0 ? (size_t)-1 : max[seed & 7];
	s->state = 0x9e3779b9u ^ ((uint32_t)seed * 2654435761u);
}

size_t
fuzz_split_next(struct fuzz_split *s)
{
	if (s->max == (size_t)-1)
		return s->max;
	/* xorshift32 */
	s->state ^= s->state << 13;
	s->state ^= s->state >> 17;
	s->state ^= s->state << 5;
	return 1 + s->state % s->max;
}

bool
fuzz_next_window(
    struct fuzz_split *s, size_t n, size_t c, size_t *a, bool need_more)
{
	if (c == *a || need_more) {
		if (*a == n)
			return false;
		*a += n - *a < s->max ? n - *a : fuzz_split_next(s);
		if (*a > n)
			*a = n;
	}
	return true;
}

void
fuzz_check_feed(const struct http_out *out, enum http_event ev, const char *buf,
    size_t len, size_t used)
{
	FUZZ_CHECK(used <= len);
	if (ev == HTTP_BODY || ev == HTTP_DONE)
		FUZZ_CHECK(
		    out->len == 0 ||
		    (out->data >= buf && out->data + out->len <= buf + used));
}

bool
fuzz_is_token(const char *s, size_t n)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";
	unsigned char c;
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (c == '\0' || memchr(extra, c, sizeof(extra) - 1) == NULL)
			return false;
	}
	return true;
}

void
fuzz_wsgi_name(const char *name, char *out, size_t outsz)
{
	size_t i;

	for (i = 0; name[i] != '\0' && i + 1 < outsz; i++) {
		char c = name[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (c == '-')
			c = '_';
		out[i] = c;
	}
	out[i] = '\0';
}

bool
fuzz_wsgi_is(const char *name, const char *wsgi)
{
	char w[128];

	/* A longer name cannot fold to one of the short names compared. */
	if (strlen(name) >= sizeof(w))
		return false;
	fuzz_wsgi_name(name, w, sizeof(w));
	return strcmp(w, wsgi) == 0;
}

static struct ref_parse *
ref_of(http_parser *p)
{
	return p->data;
}

static struct ref_msg *
cur(struct ref_parse *rp)
{
	return &rp->msgs[rp->nmsgs - 1];
}

static void
flush_header(struct ref_parse *rp)
{
	struct ref_msg *m = cur(rp);

	if (rp->last == 0)
		return;
	/* http_parser leaves trailing blanks in; they are not the value. */
	while (
	    rp->value.len > 0 && (rp->value.buf[rp->value.len - 1] == ' ' ||
	                             rp->value.buf[rp->value.len - 1] == '\t'))
		rp->value.len--;
	(void)strbuf_appendn(&m->hdrs, rp->name.buf, rp->name.len);
	(void)strbuf_appendn(&m->hdrs, "", 1);
	(void)strbuf_appendn(&m->hdrs, rp->value.buf, rp->value.len);
	(void)strbuf_appendn(&m->hdrs, "", 1);
	m->nhdrs++;
	strbuf_clear(&rp->name);
	strbuf_clear(&rp->value);
	rp->last = 0;
}

static int
ref_begin(http_parser *p)
{
	struct ref_parse *rp = ref_of(p);

	if (rp->nmsgs == REF_MAX_MSGS)
		return -1;
	rp->nmsgs++;
	rp->last = 0;
	rp->trailers = false;
	strbuf_clear(&rp->name);
	strbuf_clear(&rp->value);
	return 0;
}

static int
ref_line(http_parser *p, const char *at, size_t n)
{
	(void)strbuf_appendn(&cur(ref_of(p))->url, at, n);
	return 0;
}

static int
ref_field(http_parser *p, const char *at, size_t n)
{
	struct ref_parse *rp = ref_of(p);

	if (rp->trailers)
		return 0;
	if (rp->last == 2)
		flush_header(rp);
	(void)strbuf_appendn(&rp->name, at, n);
	rp->last = 1;
	return 0;
}

static int
ref_value(http_parser *p, const char *at, size_t n)
{
	struct ref_parse *rp = ref_of(p);

	if (rp->trailers)
		return 0;
	(void)strbuf_appendn(&rp->value, at, n);
	rp->last = 2;
	return 0;
}

static int
ref_headers_complete(http_parser *p)
{
	struct ref_parse *rp = ref_of(p);
	struct ref_msg *m = cur(rp);

	flush_header(rp);
	rp->trailers = true;
	m->method = p->method;
	m->status = p->status_code;
	m->major = p->http_major;
	m->minor = p->http_minor;
	m->chunked = (p->flags & F_CHUNKED) != 0;
	m->keep_alive = http_should_keep_alive(p) != 0;
	/* No body, whatever the headers say (RFC 9112 6.3). */
	if (p->type == HTTP_RESPONSE &&
	    (rp->head_response || m->status < 200 || m->status == 204 ||
	        m->status == 304))
		return 1;
	return 0;
}

static int
ref_body(http_parser *p, const char *at, size_t n)
{
	(void)strbuf_appendn(&cur(ref_of(p))->body, at, n);
	return 0;
}

static int
ref_complete(http_parser *p)
{
	struct ref_parse *rp = ref_of(p);
	struct ref_msg *m = cur(rp);

	m->complete = true;
	/*
	 * An interim response is dropped, as the seam drops it, so that any
	 * number of them leaves room for the final one.
	 */
	if (p->type == HTTP_RESPONSE && m->status < 200) {
		strbuf_clear(&m->url);
		strbuf_clear(&m->hdrs);
		strbuf_clear(&m->body);
		m->nhdrs = 0;
		m->complete = false;
		rp->nmsgs--;
	}
	return 0;
}

static const http_parser_settings ref_settings = {
    .on_message_begin = ref_begin,
    .on_url = ref_line,
    .on_status = ref_line,
    .on_header_field = ref_field,
    .on_header_value = ref_value,
    .on_headers_complete = ref_headers_complete,
    .on_body = ref_body,
    .on_message_complete = ref_complete,
};

void
ref_parse(struct ref_parse *rp, enum http_parser_type type, bool head_response,
    const char *data, size_t n, bool eof)
{
	size_t i;

	memset(rp, 0, sizeof(*rp));
	for (i = 0; i < REF_MAX_MSGS; i++) {
		rp->msgs[i].url = (struct strbuf)STRBUF_INIT;
		rp->msgs[i].hdrs = (struct strbuf)STRBUF_INIT;
		rp->msgs[i].body = (struct strbuf)STRBUF_INIT;
	}
	rp->name = (struct strbuf)STRBUF_INIT;
	rp->value = (struct strbuf)STRBUF_INIT;
	http_parser_init(&rp->p, type);
	rp->p.data = rp;
	rp->head_response = head_response;
	rp->used =
	    n > 0 ? http_parser_execute(&rp->p, &ref_settings, data, n) : 0;
	rp->err = HTTP_PARSER_ERRNO(&rp->p);
	if (eof && rp->err == HPE_OK) {
		(void)http_parser_execute(&rp->p, &ref_settings, data, 0);
		rp->err = HTTP_PARSER_ERRNO(&rp->p);
	}
	for (i = 0; i < rp->nmsgs; i++)
		FUZZ_CHECK(!rp->msgs[i].url.failed &&
		           !rp->msgs[i].hdrs.failed &&
		           !rp->msgs[i].body.failed);
}

void
ref_free(struct ref_parse *rp)
{
	size_t i;

	for (i = 0; i < REF_MAX_MSGS; i++) {
		strbuf_release(&rp->msgs[i].url);
		strbuf_release(&rp->msgs[i].hdrs);
		strbuf_release(&rp->msgs[i].body);
	}
	strbuf_release(&rp->name);
	strbuf_release(&rp->value);
}

const char *
ref_header(const struct ref_msg *m, const char *name)
{
	const char *s = strbuf_str(&m->hdrs), *v;
	size_t i = 0;

	while (i < m->hdrs.len) {
		v = s + i + strlen(s + i) + 1;
		if (strcasecmp(s + i, name) == 0)
			return v;
		i = (size_t)(v - s) + strlen(v) + 1;
	}
	return NULL;
}

size_t
ref_count_header(const struct ref_msg *m, const char *name)
{
	const char *s = strbuf_str(&m->hdrs), *v;
	size_t i = 0, k = 0;

	while (i < m->hdrs.len) {
		v = s + i + strlen(s + i) + 1;
		if (strcasecmp(s + i, name) == 0)
			k++;
		i = (size_t)(v - s) + strlen(v) + 1;
	}
	return k;
}

bool
ref_same_header(const struct ref_msg *a, const struct ref_msg *b, const char *h)
{
	const char *x = ref_header(a, h), *y = ref_header(b, h);

	return (x == NULL && y == NULL) ||
	       (x != NULL && y != NULL && strcmp(x, y) == 0);
}

bool
ref_connection_names(const struct ref_msg *m, const char *name)
{
	const char *s = strbuf_str(&m->hdrs), *v, *t;
	size_t i = 0, n = strlen(name), k;

	while (i < m->hdrs.len) {
		v = s + i + strlen(s + i) + 1;
		if (strcasecmp(s + i, "Connection") == 0) {
			for (t = v; *t != '\0'; t += k) {
				t += strspn(t, " \t,");
				k = strcspn(t, ",");
				while (k > 0 &&
				       (t[k - 1] == ' ' || t[k - 1] == '\t'))
					k--;
				if (k == n && strncasecmp(t, name, n) == 0)
					return true;
				k += strcspn(t + k, ",");
			}
		}
		i = (size_t)(v - s) + strlen(v) + 1;
	}
	return false;
}
