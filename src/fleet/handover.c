#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/handover.h"
#include "validate.h"
#include "banned.h"

int
handover_write(const struct handover *h, struct strbuf *out)
{
	int i;

	if (h->nlisten < 1 || h->nlisten > FLEET_FDS_MAX ||
	    h->request == NULL || memchr(h->request, '\n', h->request_len))
		return -EINVAL;
	(void)strbuf_appendf(out,
	    "id=%s\ncontrol_socket=%s\nreconnect_timeout=%u\nconn=%d\n", h->id,
	    h->control_socket, h->reconnect_timeout, h->conn);
	(void)strbuf_append(out, "listen=");
	for (i = 0; i < h->nlisten; i++)
		(void)strbuf_appendf(
		    out, "%s%d", i > 0 ? "," : "", h->listen[i]);
	(void)strbuf_appendf(out,
	    "\npidfile_fd=%d\npidfile_dir=%d\npidfile_name=%s\nlog_fd=%d\n"
	    "log_path=%s\nsyslog=%s\nident=%s\ndebug=%d\nuid=%u\ngid=%u\n"
	    "ctl_gid=%u\nrequest=",
	    h->pidfile_fd, h->pidfile_dir, h->pidfile_name, h->log_fd,
	    h->log_path, h->syslog_facility, h->ident, h->debug ? 1 : 0,
	    (unsigned int)h->uid, (unsigned int)h->gid,
	    (unsigned int)h->ctl_gid);
	(void)strbuf_appendn(out, h->request, h->request_len);
	(void)strbuf_append(out, "\n");
	return out->failed ? -ENOMEM : 0;
}

static int bad(char *why, size_t whysz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
bad(char *why, size_t whysz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(why, whysz, fmt, ap) < 0 && whysz > 0)
		why[0] = '\0';
	va_end(ap);
	return -EINVAL;
}

/* A descriptor number: -1 (none) when may_none, else 0..INT_MAX. */
static int
num_fd(const char *v, bool may_none, int *out)
{
	unsigned long n;
	const char *why = NULL;

	if (may_none && strcmp(v, "-1") == 0) {
		*out = -1;
		return 0;
	}
	if (validate_ulong(v, 0, INT_MAX, &n, &why) < 0)
		return -1;
	*out = (int)n;
	return 0;
}

static int
num_id(const char *v, unsigned int *out)
{
	unsigned long n;
	const char *why = NULL;

	if (validate_ulong(v, 0, UINT_MAX - 1, &n, &why) < 0)
		return -1;
	*out = (unsigned int)n;
	return 0;
}

static int
copy(char *dst, size_t dstsz, const char *v)
{
	size_t n = strlen(v);

	if (n >= dstsz)
		return -1;
	memcpy(dst, v, n + 1);
	return 0;
}

static int
listen_fds(const char *v, struct handover *h)
{
	char one[16];
	const char *comma;
	size_t n;

	h->nlisten = 0;
	while (h->nlisten < FLEET_FDS_MAX) {
		comma = strchr(v, ',');
		n = comma != NULL ? (size_t)(comma - v) : strlen(v);
		if (n == 0 || n >= sizeof(one))
			return -1;
		memcpy(one, v, n);
		one[n] = '\0';
		if (num_fd(one, false, &h->listen[h->nlisten]) < 0)
			return -1;
		h->nlisten++;
		if (comma == NULL)
			return 0;
		v = comma + 1;
	}
	return -1;
}

/* One key=value; -1 when the key is unknown or its value cannot be. */
static int
field(const char *k, const char *v, struct handover *h, const char **why)
{
	unsigned int u = 0;
	unsigned long t;

	*why = "invalid value";
	if (strcmp(k, "id") == 0)
		return validate_uuid(v, why) < 0
		           ? -1
		           : copy(h->id, sizeof(h->id), v);
	if (strcmp(k, "control_socket") == 0)
		return validate_path(v, OPT_SOCKET_MAX, h->control_socket,
		    sizeof(h->control_socket), why);
	if (strcmp(k, "reconnect_timeout") == 0) {
		if (validate_ulong(v, 1, 86400, &t, why) < 0)
			return -1;
		h->reconnect_timeout = (unsigned int)t;
		return 0;
	}
	if (strcmp(k, "conn") == 0)
		return num_fd(v, false, &h->conn);
	if (strcmp(k, "listen") == 0)
		return listen_fds(v, h);
	if (strcmp(k, "pidfile_fd") == 0)
		return num_fd(v, true, &h->pidfile_fd);
	if (strcmp(k, "pidfile_dir") == 0)
		return num_fd(v, true, &h->pidfile_dir);
	if (strcmp(k, "pidfile_name") == 0)
		return (v[0] != '\0' && validate_component(v, why) < 0)
		           ? -1
		           : copy(h->pidfile_name, sizeof(h->pidfile_name), v);
	if (strcmp(k, "log_fd") == 0)
		return num_fd(v, true, &h->log_fd);
	if (strcmp(k, "log_path") == 0)
		return (v[0] != '\0' && v[0] != '/')
		           ? -1
		           : copy(h->log_path, sizeof(h->log_path), v);
	if (strcmp(k, "syslog") == 0)
		return (v[0] != '\0' && validate_facility(v, why) < 0)
		           ? -1
		           : copy(h->syslog_facility,
		                 sizeof(h->syslog_facility), v);
	if (strcmp(k, "ident") == 0)
		return copy(h->ident, sizeof(h->ident), v);
	if (strcmp(k, "debug") == 0) {
		if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
			return -1;
		h->debug = v[0] == '1';
		return 0;
	}
	if (strcmp(k, "uid") == 0 || strcmp(k, "gid") == 0 ||
	    strcmp(k, "ctl_gid") == 0) {
		if (num_id(v, &u) < 0)
			return -1;
		if (k[0] == 'u')
			h->uid = (uid_t)u;
		else if (k[0] == 'g')
			h->gid = (gid_t)u;
		else
			h->ctl_gid = (gid_t)u;
		return 0;
	}
	*why = "unknown field";
	return -1;
}

int
handover_parse(
    const char *buf, size_t len, struct handover *h, char *why, size_t whysz)
{
	static const char *const need[] = {"id=", "control_socket=", "conn=",
	    "listen=", "uid=", "gid=", "ctl_gid=", "request="};
	char line[PATH_MAX + 64];
	const char *p = buf, *end = buf + len, *nl, *eq, *what = NULL;
	size_t n, i;
	unsigned int seen = 0;

	memset(h, 0, sizeof(*h));
	h->pidfile_fd = h->pidfile_dir = h->log_fd = -1;
	h->reconnect_timeout = 60;
	if (len > HANDOVER_MAX || memchr(buf, '\0', len) != NULL)
		return bad(why, whysz, "larger than %d bytes or holds a NUL",
		    HANDOVER_MAX);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL) {
			what = "the last line has no end";
			goto fail;
		}
		n = (size_t)(nl - p);
		if (n >= 8 && memcmp(p, "request=", 8) == 0) {
			if (h->request != NULL || n == 8) {
				what = "request given twice or empty";
				goto fail;
			}
			h->request = malloc(n - 8 + 1);
			if (h->request == NULL) {
				what = "out of memory";
				goto fail;
			}
			memcpy(h->request, p + 8, n - 8);
			h->request[n - 8] = '\0';
			h->request_len = n - 8;
		} else {
			if (n >= sizeof(line)) {
				what = "a line is too long";
				goto fail;
			}
			memcpy(line, p, n);
			line[n] = '\0';
			eq = strchr(line, '=');
			if (eq == NULL) {
				what = "a line without '='";
				goto fail;
			}
			line[eq - line] = '\0';
			if (field(line, eq + 1, h, &what) < 0) {
				handover_release(h);
				return bad(why, whysz, "'%s': %s", line, what);
			}
		}
		for (i = 0; i < sizeof(need) / sizeof(need[0]); i++)
			if (strncmp(p, need[i], strlen(need[i])) == 0)
				seen |= 1U << i;
		p = nl + 1;
	}
	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if ((seen & (1U << i)) == 0) {
			handover_release(h);
			return bad(why, whysz, "no '%.*s'",
			    (int)strlen(need[i]) - 1, need[i]);
		}
	if (h->pidfile_fd >= 0 &&
	    (h->pidfile_dir < 0 || h->pidfile_name[0] == '\0')) {
		what = "a pidfile without its directory or name";
		goto fail;
	}
	return 0;
fail:
	handover_release(h);
	return bad(why, whysz, "%s", what);
}

void
handover_release(struct handover *h)
{
	free(h->request);
	h->request = NULL;
	h->request_len = 0;
}
