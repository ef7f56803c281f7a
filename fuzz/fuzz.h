/*
 * What the fuzz targets share: the libFuzzer entry point, an invariant
 * check that aborts (so the fuzzer keeps the input), exact-size copies of
 * the input (so ASan sees any read past it), the chunking of a byte
 * stream, and a reference HTTP parse to compare the seam's output with.
 */
#ifndef NMP_FUZZ_H
#define NMP_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>

#include "engine/http.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

void fuzz_fail(const char *what, const char *file, int line)
    __attribute__((noreturn));

#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond))                                                   \
			fuzz_fail(#cond, __FILE__, __LINE__);                  \
	} while (0)

/* A heap copy of data[0..n) with a NUL after it; aborts when out of memory. */
char *fuzz_strndup(const void *data, size_t n);
/* A heap copy of exactly n bytes (at least 1 allocated); data may be NULL. */
char *fuzz_memdup(const void *data, size_t n);

/*
 * How a stream arrives: sizes of the successive reads, from one byte of
 * the input. 0 means all at once; otherwise the low three bits pick the
 * largest read and the rest seeds a generator for each size.
 */
struct fuzz_split {
	size_t max;
	uint32_t state;
};

void fuzz_split_init(struct fuzz_split *s, uint8_t seed);
size_t fuzz_split_next(struct fuzz_split *s);

/*
 * The next window in[c..*a) of a stream of n bytes being fed: when the last
 * feed took all of its window (c == *a) or asked for more, the window grows
 * by the next read size. Returns false once the whole stream is fed.
 */
bool fuzz_next_window(
    struct fuzz_split *s, size_t n, size_t c, size_t *a, bool need_more);
/* What a feed of buf[0..len) reported: used within len, data within buf. */
void fuzz_check_feed(const struct http_out *out, enum http_event ev,
    const char *buf, size_t len, size_t used);

/* True when every byte of s[0..n) is a header-name token character. */
bool fuzz_is_token(const char *s, size_t n);
/* The name a WSGI agent sees: upper case, '-' as '_'. */
void fuzz_wsgi_name(const char *name, char *out, size_t outsz);
/* Whether a WSGI agent sees name as wsgi (upper case, '_' for '-'). */
bool fuzz_wsgi_is(const char *name, const char *wsgi);

/* One message as a fresh http_parser saw it. */
struct ref_msg {
	unsigned method;
	unsigned status;
	unsigned major, minor;
	bool chunked;
	bool complete;
	bool keep_alive;    /* http_should_keep_alive() at the head's end */
	struct strbuf url;  /* request target or reason phrase */
	struct strbuf hdrs; /* "name\0value\0" per header */
	struct strbuf body; /* de-chunked */
	size_t nhdrs;
};

#define REF_MAX_MSGS 64

struct ref_parse {
	http_parser p;
	bool head_response; /* responses: the request was HEAD */
	struct ref_msg msgs[REF_MAX_MSGS];
	size_t nmsgs;
	size_t used;         /* bytes http_parser consumed */
	enum http_errno err; /* HPE_OK, or why it stopped */
	int last;      /* the previous header callback: 0, 1 field, 2 value */
	bool trailers; /* past the head: fields are trailers, not kept */
	struct strbuf name, value;
};

/*
 * Parse data[0..n) as a whole with a fresh parser (type HTTP_REQUEST or
 * HTTP_RESPONSE); eof: then signal the end of the stream. Complete interim
 * (1xx) responses are not kept.
 */
void ref_parse(struct ref_parse *rp, enum http_parser_type type,
    bool head_response, const char *data, size_t n, bool eof);
void ref_free(struct ref_parse *rp);

/* The value of the first header called name (any case), or NULL. */
const char *ref_header(const struct ref_msg *m, const char *name);
/* How many headers of m are called name (any case). */
size_t ref_count_header(const struct ref_msg *m, const char *name);
/* Whether a and b have the same first value of header h, or both none. */
bool ref_same_header(
    const struct ref_msg *a, const struct ref_msg *b, const char *h);
/* Whether a Connection header of m lists name among its options. */
bool ref_connection_names(const struct ref_msg *m, const char *name);

#endif
