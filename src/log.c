#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "log.h"
#include "banned.h"

static const char *log_ident = "ns-metadata-proxy";
static bool log_debug_on;

void
log_init(const char *ident)
{
	if (ident != NULL && *ident != '\0')
		log_ident = ident;
}

void
log_set_debug(bool on)
{
	log_debug_on = on;
}

static void log_vwrite(const char *level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
log_vwrite(const char *level, const char *fmt, va_list ap)
{
	char line[1024];
	int saved = errno;
	int n;

	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		line[0] = '\0';
	/* One fprintf per line keeps concurrent writers' lines whole. */
	if (level != NULL)
		fprintf(stderr, "%s: %s: %s\n", log_ident, level, line);
	else
		fprintf(stderr, "%s: %s\n", log_ident, line);
	errno = saved;
}

void
log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(NULL, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite("warning", fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite("info", fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_debug_on)
		return;
	va_start(ap, fmt);
	log_vwrite("debug", fmt, ap);
	va_end(ap);
}
