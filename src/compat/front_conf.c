#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "compat/front_conf.h"
#include "defaults.h"
#include "strbuf.h"
#include "validate.h"
#include "banned.h"

#define LINE_MAX_LEN 512

void
front_conf_defaults(struct front_conf *fc)
{
	memset(fc, 0, sizeof(*fc));
	fc->fleet = true;
	(void)STR_CONCAT(
	    fc->control_socket, sizeof(fc->control_socket), DEF_CONTROL_SOCKET);
	fc->reconnect_timeout = FRONT_CONF_RECONNECT_S;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* One "key = value"; NULL, or why it cannot be. */
static const char *
setting(char *l, struct front_conf *fc, unsigned int *seen)
{
	const char *why = NULL;
	unsigned long n;
	char *eq = strchr(l, '='), *k, *v;
	unsigned int bit;

	if (eq == NULL)
		return "not 'key = value'";
	*eq = '\0';
	k = trim(l);
	v = trim(eq + 1);
	if (strcmp(k, "fleet") == 0) {
		bit = 1;
		if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
			return "fleet: not 'on' or 'off'";
		fc->fleet = v[1] == 'n';
	} else if (strcmp(k, "control_socket") == 0) {
		bit = 2;
		if (validate_path(v, OPT_SOCKET_MAX, fc->control_socket,
		        sizeof(fc->control_socket), &why) < 0)
			return why;
	} else if (strcmp(k, "reconnect_timeout") == 0) {
		bit = 4;
		if (validate_ulong(v, 1, 86400, &n, &why) < 0)
			return why;
		fc->reconnect_timeout = (unsigned int)n;
	} else {
		return "unknown setting (fleet, control_socket, "
		       "reconnect_timeout)";
	}
	if ((*seen & bit) != 0)
		return "given twice";
	*seen |= bit;
	return NULL;
}

int
front_conf_parse(const char *text, size_t len, struct front_conf *fc,
    unsigned int *line, char *why, size_t whysz)
{
	struct front_conf out = *fc;
	char buf[LINE_MAX_LEN + 1], *l, *hash;
	const char *p = text, *end = text + len, *nl, *bad = NULL;
	unsigned int seen = 0;
	size_t n;

	*line = 0;
	while (p < end) {
		(*line)++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > LINE_MAX_LEN) {
			bad = "longer than 512 bytes";
			break;
		}
		memcpy(buf, p, n);
		buf[n] = '\0';
		if (memchr(buf, '\0', n) != NULL) {
			bad = "holds a NUL byte";
			break;
		}
		hash = strchr(buf, '#');
		if (hash != NULL)
			*hash = '\0';
		l = trim(buf);
		if (*l != '\0' && (bad = setting(l, &out, &seen)) != NULL)
			break;
		p = nl != NULL ? nl + 1 : end;
	}
	if (bad != NULL) {
		(void)snprintf(why, whysz, "%s", bad);
		return -EINVAL;
	}
	*fc = out;
	return 0;
}
