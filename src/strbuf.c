#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "banned.h"

static int
grow(struct strbuf *sb, size_t need)
{
	size_t cap;
	char *p;

	if (sb->failed)
		return -ENOMEM;
	if (need < sb->len || need == (size_t)-1) {
		sb->failed = true;
		return -ENOMEM;
	}
	if (need + 1 <= sb->cap)
		return 0;
	cap = sb->cap ? sb->cap : 256;
	while (cap < need + 1) {
		if (cap > ((size_t)-1) / 2) {
			sb->failed = true;
			return -ENOMEM;
		}
		cap *= 2;
	}
	p = realloc(sb->buf, cap);
	if (p == NULL) {
		sb->failed = true;
		return -ENOMEM;
	}
	sb->buf = p;
	sb->cap = cap;
	return 0;
}

int
strbuf_appendn(struct strbuf *sb, const char *s, size_t n)
{
	int r;

	if (n > ((size_t)-1) / 2 - sb->len)
		return -ENOMEM;
	r = grow(sb, sb->len + n);
	if (r < 0)
		return r;
	if (n > 0)
		memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
	return 0;
}

int
strbuf_append(struct strbuf *sb, const char *s)
{
	return strbuf_appendn(sb, s, strlen(s));
}

int
strbuf_appendf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb->failed = true;
		return -EINVAL;
	}
	r = grow(sb, sb->len + (size_t)n);
	if (r < 0)
		return r;
	va_start(ap, fmt);
	n = vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb->failed = true;
		return -EINVAL;
	}
	sb->len += (size_t)n;
	return 0;
}

int
strbuf_append_all(struct strbuf *sb, const char *const parts[])
{
	size_t i;
	int r = 0;

	for (i = 0; parts[i] != NULL && r == 0; i++)
		r = strbuf_append(sb, parts[i]);
	return r;
}

const char *
strbuf_str(const struct strbuf *sb)
{
	return sb->buf != NULL ? sb->buf : "";
}

void
strbuf_clear(struct strbuf *sb)
{
	sb->len = 0;
	sb->failed = false;
	if (sb->buf != NULL)
		sb->buf[0] = '\0';
}

void
strbuf_release(struct strbuf *sb)
{
	if (sb == NULL)
		return;
	free(sb->buf);
	sb->buf = NULL;
	sb->len = 0;
	sb->cap = 0;
	sb->failed = false;
}

int
str_concat(char *out, size_t outsz, const char *const parts[])
{
	size_t len = 0, n, i;

	for (i = 0; parts[i] != NULL; i++) {
		n = strlen(parts[i]);
		if (n >= outsz - len || outsz == 0)
			return -ENAMETOOLONG;
		len += n;
	}
	if (len > INT_MAX)
		return -ENAMETOOLONG;
	len = 0;
	for (i = 0; parts[i] != NULL; i++) {
		n = strlen(parts[i]);
		memcpy(out + len, parts[i], n);
		len += n;
	}
	out[len] = '\0';
	return (int)len;
}
