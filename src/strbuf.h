/*
 * A growable, always NUL-terminated string. The owner calls
 * strbuf_release(); appends after an allocation failure keep failing with
 * -ENOMEM, so a caller may check once at the end.
 */
#ifndef NMP_STRBUF_H
#define NMP_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf; /* NULL until the first append */
	size_t len;
	size_t cap;
	bool failed;
};

#define STRBUF_INIT                                                            \
	{                                                                      \
		NULL, 0, 0, false                                              \
	}

int strbuf_append(struct strbuf *sb, const char *s);
/* n bytes of s, which may hold NULs (the buffer stays NUL-terminated). */
int strbuf_appendn(struct strbuf *sb, const char *s, size_t n);
int strbuf_appendf(struct strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/*
 * Append the NULL-terminated parts, in order: the head builders' way of
 * joining known pieces without a format string.
 */
int strbuf_append_all(struct strbuf *sb, const char *const parts[]);
#define STRBUF_APPEND(sb, ...)                                                 \
	strbuf_append_all((sb), (const char *const[]){__VA_ARGS__, NULL})
/* The text so far ("" when empty); valid until the next append. */
const char *strbuf_str(const struct strbuf *sb);
/* Empty again, keeping the allocation; a past failure is forgotten. */
void strbuf_clear(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);

/*
 * Concatenate the NULL-terminated parts into out (outsz bytes, always
 * terminated). Returns the length or -ENAMETOOLONG, out untouched then.
 * For paths built from validated pieces, where snprintf's truncation
 * warnings cannot see the check.
 */
int str_concat(char *out, size_t outsz, const char *const parts[]);
#define STR_CONCAT(out, outsz, ...)                                            \
	str_concat((out), (outsz), (const char *const[]){__VA_ARGS__, NULL})

#endif
