#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "compat/haproxy_cfg.h"
#include "defaults.h"
#include "metadata.h"
#include "strbuf.h"
#include "validate.h"
#include "banned.h"

#define MAX_TOKENS 24
#define SHOWN_MAX 96

enum section {
	SEC_NONE,
	SEC_GLOBAL,
	SEC_DEFAULTS,
	SEC_BASE,  /* backend base_rate_limiter */
	SEC_BURST, /* backend burst_rate_limiter */
	SEC_LISTEN,
};

/* Directives that may be given once: a bit each in p.seen. */
enum once {
	D_LOG,
	D_LOGTAG,
	D_USER,
	D_GROUP,
	D_MAXCONN,
	D_NBTHREAD,
	D_PIDFILE,
	D_DAEMON,
	D_DLOG,
	D_MODE,
	D_OPT_HTTPLOG,
	D_OPT_DONTLOGNULL,
	D_OPT_SERVERCLOSE,
	D_OPT_FORWARDFOR,
	D_RETRIES,
	D_T_REQUEST,
	D_T_CONNECT,
	D_T_CLIENT,
	D_T_SERVER,
	D_T_KEEPALIVE,
	D_TABLE_BASE,
	D_TABLE_BURST,
	D_TRACK_BASE,
	D_TRACK_BURST,
	D_DENY_BASE,
	D_DENY_BURST,
	D_SERVER,
	D_ID,
};

#define RL_ALL                                                                 \
	((1u << D_TABLE_BASE) | (1u << D_TABLE_BURST) | (1u << D_TRACK_BASE) | \
	    (1u << D_TRACK_BURST) | (1u << D_DENY_BASE) |                      \
	    (1u << D_DENY_BURST))

/* The headers a rule may name, as the agent reads them. */
enum header {
	H_NONE = -1,
	H_XFF,
	H_NEUTRON_NETWORK,
	H_NEUTRON_ROUTER,
	H_OVN_NETWORK,
	H_OVN_ROUTER,
};

static const char *const header_names[] = {
    MD_HEADER_XFF,
    MD_HEADER_NEUTRON_NETWORK,
    MD_HEADER_NEUTRON_ROUTER,
    MD_HEADER_OVN_NETWORK,
    MD_HEADER_OVN_ROUTER,
};

/* The two whole-family deletions our own render writes (-m reg). */
static const char re_identity[] = MD_RE_OWN;
static const char re_xff[] = MD_RE_XFF;

/* One line, split into tokens. */
struct line {
	const char *file;
	unsigned int no;
	char text[HCFG_LINE_MAX + 1]; /* the line as written, for messages */
	char buf[HCFG_LINE_MAX + 1];  /* tokens, NUL-separated */
	char *tok[MAX_TOKENS];
	int n;
};

static struct hcfg_loc
loc(const struct line *l)
{
	struct hcfg_loc at = {l->file, l->no};

	return at;
}

static int refuse(struct haproxy_cfg *c, const struct line *l,
    struct hcfg_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * One refusal: "'the line': reason". Reported to the callback when there
 * is one; the first of a call goes to err.
 */
static int
refuse(struct haproxy_cfg *c, const struct line *l, struct hcfg_error *err,
    const char *fmt, ...)
{
	struct hcfg_error e;
	char shown[SHOWN_MAX * 4 + 8], why[256];
	const char *t = l->text;
	va_list ap;

	while (*t == ' ' || *t == '\t')
		t++;
	va_start(ap, fmt);
	if (vsnprintf(why, sizeof(why), fmt, ap) < 0)
		why[0] = '\0';
	va_end(ap);
	validate_escape(t, SHOWN_MAX, shown, sizeof(shown));
	e.at = loc(l);
	if (snprintf(e.msg, sizeof(e.msg), "'%s': %s", shown, why) < 0)
		e.msg[0] = '\0';
	if (err->msg[0] == '\0')
		*err = e;
	c->p.errors++;
	if (c->p.on_error != NULL)
		c->p.on_error(c->p.on_error_arg, &e);
	return -EINVAL;
}

static int refuse_whole(struct haproxy_cfg *c, struct hcfg_loc at,
    struct hcfg_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A refusal of the config as a whole, pointing at a directive or a file. */
static int
refuse_whole(struct haproxy_cfg *c, struct hcfg_loc at, struct hcfg_error *err,
    const char *fmt, ...)
{
	struct hcfg_error e;
	va_list ap;

	e.at = at;
	va_start(ap, fmt);
	if (vsnprintf(e.msg, sizeof(e.msg), fmt, ap) < 0)
		e.msg[0] = '\0';
	va_end(ap);
	if (err->msg[0] == '\0')
		*err = e;
	c->p.errors++;
	if (c->p.on_error != NULL)
		c->p.on_error(c->p.on_error_arg, &e);
	return -EINVAL;
}

static bool
eq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/* Case-insensitive, '-' and '_' alike: how the agent reads a name. */
static enum header
header_of(const char *name, bool *canonical)
{
	size_t i, k;

	for (i = 0; i < sizeof(header_names) / sizeof(header_names[0]); i++) {
		const char *h = header_names[i];
		bool exact = true;

		for (k = 0; h[k] != '\0' && name[k] != '\0'; k++) {
			char a = name[k], b = h[k];

			if (a >= 'A' && a <= 'Z')
				a = (char)(a - 'A' + 'a');
			if (b >= 'A' && b <= 'Z')
				b = (char)(b - 'A' + 'a');
			if (a == '_' && b == '-') {
				exact = false;
				continue;
			}
			if (a != b)
				break;
		}
		if (h[k] == '\0' && name[k] == '\0') {
			*canonical = exact;
			return (enum header)i;
		}
	}
	return H_NONE;
}

/*
 * Split a line: blanks separate tokens, '#' starts a comment, a token may
 * be single-quoted (no escapes inside). Double quotes, backslashes, '$'
 * (haproxy's escapes and environment variables), control characters and
 * bytes outside ASCII are refused.
 */
static int
tokenize(struct haproxy_cfg *c, struct line *l, const char *s, size_t len,
    struct hcfg_error *err)
{
	size_t i, o = 0;
	bool in_tok = false, quoted = false;

	memcpy(l->text, s, len);
	l->text[len] = '\0';
	l->n = 0;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch != '\t' && (ch < 0x20 || ch > 0x7e)) {
			l->text[i] = '?';
			return refuse(c, l, err,
			    "control character or byte outside ASCII at "
			    "column %zu",
			    i + 1);
		}
		if (quoted) {
			if (ch == '\'') {
				quoted = false;
				continue;
			}
			if (ch == '\t')
				return refuse(
				    c, l, err, "tab inside a quoted word");
			l->buf[o++] = (char)ch;
			continue;
		}
		if (ch == ' ' || ch == '\t' || ch == '#') {
			if (in_tok) {
				l->buf[o++] = '\0';
				in_tok = false;
			}
			if (ch == '#')
				break;
			continue;
		}
		if (ch == '"' || ch == '\\' || ch == '$')
			return refuse(c, l, err,
			    "'%c' (haproxy quoting, escapes and variables) is "
			    "not accepted",
			    ch);
		if (!in_tok) {
			if (l->n == MAX_TOKENS)
				return refuse(c, l, err, "too many words");
			l->tok[l->n++] = &l->buf[o];
			in_tok = true;
		}
		if (ch == '\'') {
			quoted = true;
			continue;
		}
		l->buf[o++] = (char)ch;
	}
	if (quoted)
		return refuse(c, l, err, "unterminated quote");
	l->buf[o] = '\0';
	return 0;
}

static int
once(struct haproxy_cfg *c, const struct line *l, struct hcfg_error *err,
    enum once d)
{
	if ((c->p.seen & (1u << d)) != 0)
		return refuse(c, l, err, "given more than once");
	c->p.seen |= 1u << d;
	return 0;
}

static int
nargs(struct haproxy_cfg *c, const struct line *l, struct hcfg_error *err,
    int want)
{
	if (l->n != want)
		return refuse(c, l, err, "takes %d value%s", want - 1,
		    want == 2 ? "" : "s");
	return 0;
}

static int
copy(char *dst, size_t dstsz, const char *src)
{
	int n = STR_CONCAT(dst, dstsz, src);

	return n < 0 ? n : 0;
}

static int
ulong_value(struct haproxy_cfg *c, const struct line *l, struct hcfg_error *err,
    const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	const char *why = NULL;

	if (validate_ulong(s, min, max, out, &why) < 0)
		return refuse(c, l, err, "%s (%lu to %lu)", why, min, max);
	return 0;
}

/* ---- global ---------------------------------------------------------- */

static const char *const log_levels[] = {"info", "debug", NULL};

static int
global_log(struct haproxy_cfg *c, const struct line *l, struct hcfg_error *err)
{
	const char *why = NULL;
	size_t i;

	if (l->n != 3 && l->n != 4)
		return refuse(
		    c, l, err, "takes a target, a facility and a level");
	if (!eq(l->tok[1], "/dev/log"))
		return refuse(c, l, err,
		    "only the local syslog socket /dev/log is supported");
	if (strncmp(l->tok[2], "LOG_", 4) == 0 ||
	    validate_facility(l->tok[2], &why) < 0)
		return refuse(c, l, err, "not a syslog facility");
	if (l->n == 4) {
		for (i = 0; log_levels[i] != NULL; i++)
			if (eq(l->tok[3], log_levels[i]))
				break;
		if (log_levels[i] == NULL)
			return refuse(c, l, err, "level must be info or debug");
		c->log_debug = eq(l->tok[3], "debug");
	}
	c->log_syslog = true;
	return copy(c->log_facility, sizeof(c->log_facility), l->tok[2]);
}

static bool
tag_ok(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++) {
		char ch = *s;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		        (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		        ch == '.'))
			return false;
	}
	return n >= 1 && n <= HCFG_TAG_MAX;
}

static int
account(struct haproxy_cfg *c, const struct line *l, struct hcfg_error *err,
    char *dst, size_t dstsz, struct hcfg_loc *at)
{
	const char *why = NULL;

	if (validate_account(l->tok[1], &why) < 0)
		return refuse(c, l, err, "%s", why);
	*at = loc(l);
	return copy(dst, dstsz, l->tok[1]);
}

static int
in_global(struct haproxy_cfg *c, const struct line *l, struct hcfg_error *err)
{
	const char *k = l->tok[0], *why = NULL;
	int r;

	if (eq(k, "log")) {
		if ((r = once(c, l, err, D_LOG)) < 0)
			return r;
		return global_log(c, l, err);
	}
	if (eq(k, "log-tag")) {
		if ((r = once(c, l, err, D_LOGTAG)) < 0 ||
		    (r = nargs(c, l, err, 2)) < 0)
			return r;
		if (!tag_ok(l->tok[1]))
			return refuse(c, l, err,
			    "not 1-%d bytes of [A-Za-z0-9._-]", HCFG_TAG_MAX);
		return copy(c->log_tag, sizeof(c->log_tag), l->tok[1]);
	}
	if (eq(k, "user") || eq(k, "group")) {
		bool user = eq(k, "user");

		if ((r = once(c, l, err, user ? D_USER : D_GROUP)) < 0 ||
		    (r = nargs(c, l, err, 2)) < 0)
			return r;
		return user ? account(c, l, err, c->user, sizeof(c->user),
		                  &c->user_at)
		            : account(c, l, err, c->group, sizeof(c->group),
		                  &c->group_at);
	}
	if (eq(k, "maxconn")) {
		if ((r = once(c, l, err, D_MAXCONN)) < 0 ||
		    (r = nargs(c, l, err, 2)) < 0)
			return r;
		return ulong_value(
		    c, l, err, l->tok[1], 1, HCFG_MAXCONN_MAX, &c->maxconn);
	}
	if (eq(k, "nbthread")) {
		if ((r = once(c, l, err, D_NBTHREAD)) < 0 ||
		    (r = nargs(c, l, err, 2)) < 0)
			return r;
		c->nbthread_at = loc(l);
		return ulong_value(
		    c, l, err, l->tok[1], 1, HCFG_NBTHREAD_MAX, &c->nbthread);
	}
	if (eq(k, "pidfile")) {
		if ((r = once(c, l, err, D_PIDFILE)) < 0 ||
		    (r = nargs(c, l, err, 2)) < 0)
			return r;
		if (validate_path(l->tok[1], PATH_MAX - 1, c->pidfile,
		        sizeof(c->pidfile), &why) < 0)
			return refuse(c, l, err, "%s", why);
		c->pidfile_at = loc(l);
		return 0;
	}
	if (eq(k, "daemon")) {
		if ((r = once(c, l, err, D_DAEMON)) < 0 ||
		    (r = nargs(c, l, err, 1)) < 0)
			return r;
		c->daemon = true;
		return 0;
	}
	return refuse(c, l, err,
	    "not a directive of the neutron metadata proxy's global section");
}

/* ---- defaults -------------------------------------------------------- */

static const struct {
	const char *name;
	enum once d;
} timeout_names[] = {
    {"http-request", D_T_REQUEST},
    {"connect", D_T_CONNECT},
    {"client", D_T_CLIENT},
    {"server", D_T_SERVER},
    {"http-keep-alive", D_T_KEEPALIVE},
};

static unsigned long *
timeout_slot(struct timeouts *t, enum once d)
{
	switch (d) {
	case D_T_REQUEST:
		return &t->http_request;
	case D_T_CONNECT:
		return &t->connect;
	case D_T_CLIENT:
		return &t->client;
	case D_T_SERVER:
		return &t->server;
	default:
		return &t->http_keep_alive;
	}
}

static int
defaults_timeout(
    struct haproxy_cfg *c, const struct line *l, struct hcfg_error *err)
{
	const char *why = NULL;
	unsigned long ms;
	size_t i;
	int r;

	if ((r = nargs(c, l, err, 3)) < 0)
		return r;
	for (i = 0; i < sizeof(timeout_names) / sizeof(timeout_names[0]); i++)
		if (eq(l->tok[1], timeout_names[i].name))
			break;
	if (i == sizeof(timeout_names) / sizeof(timeout_names[0]))
		return refuse(c, l, err,
		    "not one of the timeouts http-request, connect, client, "
		    "server, http-keep-alive");
	if ((r = once(c, l, err, timeout_names[i].d)) < 0)
		return r;
	if (validate_timeout(l->tok[2], &ms, &why) < 0)
		return refuse(c, l, err, "%s", why);
	*timeout_slot(&c->timeouts, timeout_names[i].d) = ms;
	return 0;
}

static const struct {
	const char *name;
	enum once d;
} option_names[] = {
    {"httplog", D_OPT_HTTPLOG},
    {"dontlognull", D_OPT_DONTLOGNULL},
    {"http-server-close", D_OPT_SERVERCLOSE},
    {"forwardfor", D_OPT_FORWARDFOR},
};

static int
in_defaults(struct haproxy_cfg *c, const struct line *l, struct hcfg_error *err)
{
	const char *k = l->tok[0];
	size_t i;
	int r;

	if (eq(k, "log")) {
		if ((r = once(c, l, err, D_DLOG)) < 0 ||
		    (r = nargs(c, l, err, 2)) < 0)
			return r;
		if (!eq(l->tok[1], "global"))
			return refuse(
			    c, l, err, "only 'log global' is accepted");
		return 0;
	}
	if (eq(k, "mode")) {
		if ((r = once(c, l, err, D_MODE)) < 0 ||
		    (r = nargs(c, l, err, 2)) < 0)
			return r;
		if (!eq(l->tok[1], "http"))
			return refuse(
			    c, l, err, "only 'mode http' is accepted");
		c->mode_http = true;
		return 0;
	}
	if (eq(k, "option")) {
		if ((r = nargs(c, l, err, 2)) < 0)
			return r;
		for (i = 0; i < sizeof(option_names) / sizeof(option_names[0]);
		     i++)
			if (eq(l->tok[1], option_names[i].name))
				break;
		if (i == sizeof(option_names) / sizeof(option_names[0]))
			return refuse(c, l, err,
			    "not an option neutron sets (httplog, dontlognull, "
			    "http-server-close, forwardfor)");
		if ((r = once(c, l, err, option_names[i].d)) < 0)
			return r;
		if (option_names[i].d == D_OPT_FORWARDFOR)
			c->forwardfor = true;
		return 0;
	}
	if (eq(k, "retries")) {
		if ((r = once(c, l, err, D_RETRIES)) < 0 ||
		    (r = nargs(c, l, err, 2)) < 0)
			return r;
		return ulong_value(c, l, err, l->tok[1], 0, 100, &c->retries);
	}
	if (eq(k, "timeout"))
		return defaults_timeout(c, l, err);
	return refuse(c, l, err,
	    "not a directive of the neutron metadata proxy's defaults "
	    "section");
}

/* ---- rate limiting --------------------------------------------------- */

/* "10s" -> 10: a window in whole seconds, 1 s to a day. */
static int
window(const char *s, unsigned long *out)
{
	unsigned long ms;

	if (validate_timeout(s, &ms, NULL) < 0 || ms % 1000 != 0 ||
	    ms / 1000 > 86400)
		return -EINVAL;
	*out = ms / 1000;
	return 0;
}

/* "http_req_rate(10s)" -> "10s" in buf. */
static int
inner(const char *s, const char *fn, char *buf, size_t bufsz)
{
	size_t n = strlen(fn), len = strlen(s);

	if (strncmp(s, fn, n) != 0 || s[n] != '(' || len < n + 3 ||
	    s[len - 1] != ')' || len - n - 2 >= bufsz)
		return -EINVAL;
	memcpy(buf, s + n + 1, len - n - 2);
	buf[len - n - 2] = '\0';
	return 0;
}

static int
in_backend(struct haproxy_cfg *c, const struct line *l, struct hcfg_error *err)
{
	int which = c->p.section == SEC_BASE ? 0 : 1;
	unsigned long size = 0, expire = 0, win = 0;
	char arg[32];
	size_t len;
	int r;

	if (!eq(l->tok[0], "stick-table"))
		return refuse(c, l, err,
		    "a rate-limiting backend holds only its stick-table");
	if ((r = once(c, l, err, which == 0 ? D_TABLE_BASE : D_TABLE_BURST)) <
	    0)
		return r;
	if (l->n != 9 || !eq(l->tok[1], "type") || !eq(l->tok[3], "size") ||
	    !eq(l->tok[5], "expire") || !eq(l->tok[7], "store"))
		return refuse(c, l, err,
		    "not 'stick-table type ip|ipv6 size N expire TIME store "
		    "http_req_rate(TIME)'");
	if (eq(l->tok[2], "ip"))
		c->p.table_family[which] = AF_INET;
	else if (eq(l->tok[2], "ipv6"))
		c->p.table_family[which] = AF_INET6;
	else
		return refuse(c, l, err, "table type must be ip or ipv6");
	len = strlen(l->tok[4]);
	if (len == 0 || len >= sizeof(arg))
		return refuse(c, l, err, "bad table size");
	memcpy(arg, l->tok[4], len + 1);
	if (arg[len - 1] == 'k')
		arg[len - 1] = '\0';
	if (validate_ulong(arg, 1, HCFG_TABLE_MAX, &size, NULL) < 0 ||
	    (l->tok[4][len - 1] == 'k' && size > HCFG_TABLE_MAX / 1024))
		return refuse(c, l, err,
		    "table size must be 1 to %d entries (or 1k to %dk)",
		    HCFG_TABLE_MAX, HCFG_TABLE_MAX / 1024);
	if (validate_timeout(l->tok[6], &expire, NULL) < 0)
		return refuse(c, l, err, "bad expire time");
	if (inner(l->tok[8], "http_req_rate", arg, sizeof(arg)) < 0 ||
	    window(arg, &win) < 0)
		return refuse(c, l, err,
		    "store must be http_req_rate(N s), 1 s to 86400 s");
	if (expire < win * 1000)
		return refuse(
		    c, l, err, "expire is shorter than the rate window");
	c->p.table_window[which] = win;
	if (which == 0)
		c->rate_limit.base_window = win;
	else
		c->rate_limit.burst_window = win;
	if (c->p.first_rl.line == 0)
		c->p.first_rl = loc(l);
	return 0;
}

static int
listen_track(struct haproxy_cfg *c, const struct line *l,
    struct hcfg_error *err, int which)
{
	static const char *const want[] = {
	    "base_rate_limiter", "burst_rate_limiter"};
	int r;

	if ((r = once(c, l, err, which == 0 ? D_TRACK_BASE : D_TRACK_BURST)) <
	    0)
		return r;
	if (l->n != 5 || !eq(l->tok[2], "src") || !eq(l->tok[3], "table") ||
	    !eq(l->tok[4], want[which]))
		return refuse(c, l, err, "not 'http-request %s src table %s'",
		    which == 0 ? "track-sc0" : "track-sc1", want[which]);
	if (c->p.first_rl.line == 0)
		c->p.first_rl = loc(l);
	return 0;
}

static int
listen_deny(struct haproxy_cfg *c, const struct line *l, struct hcfg_error *err)
{
	char table[32];
	unsigned long limit = 0;
	int which, r;

	if (l->n != 10 || !eq(l->tok[2], "deny_status") ||
	    !eq(l->tok[3], "429") || !eq(l->tok[4], "if") ||
	    !eq(l->tok[5], "{") || !eq(l->tok[7], "gt") ||
	    !eq(l->tok[9], "}") ||
	    inner(l->tok[6], "src_http_req_rate", table, sizeof(table)) < 0)
		return refuse(c, l, err,
		    "not 'http-request deny deny_status 429 if { "
		    "src_http_req_rate(TABLE) gt N }'");
	if (eq(table, "base_rate_limiter"))
		which = 0;
	else if (eq(table, "burst_rate_limiter"))
		which = 1;
	else
		return refuse(c, l, err,
		    "the table must be base_rate_limiter or "
		    "burst_rate_limiter");
	if ((r = once(c, l, err, which == 0 ? D_DENY_BASE : D_DENY_BURST)) < 0)
		return r;
	if ((r = ulong_value(c, l, err, l->tok[8], 1, 1000000, &limit)) < 0)
		return r;
	if (which == 0)
		c->rate_limit.base_limit = limit;
	else
		c->rate_limit.burst_limit = limit;
	if (c->p.first_rl.line == 0)
		c->p.first_rl = loc(l);
	return 0;
}

/* ---- listen ---------------------------------------------------------- */

/* "ADDR:PORT" (split at the last colon) or "[ADDR]:PORT". */
static int
listen_bind(struct haproxy_cfg *c, const struct line *l, struct hcfg_error *err)
{
	char addr[OPT_ADDR_MAX + 2], canon[OPT_ADDR_MAX];
	const char *s = l->tok[1], *colon, *why = NULL;
	unsigned int port = 0;
	size_t alen;
	int family = 0;
	bool iface = false;

	if (l->n < 2)
		return refuse(c, l, err, "needs ADDRESS:PORT");
	if (l->n >= 3 && !eq(l->tok[2], "interface"))
		return refuse(c, l, err,
		    "unknown bind keyword '%s' (only 'interface' is accepted)",
		    l->tok[2]);
	if (l->n >= 3 && l->n != 4)
		return refuse(c, l, err, "'interface' takes one name");
	iface = l->n == 4;
	colon = strrchr(s, ':');
	if (colon == NULL)
		return refuse(c, l, err, "needs ADDRESS:PORT");
	alen = (size_t)(colon - s);
	if (alen >= 2 && s[0] == '[' && s[alen - 1] == ']') {
		s++;
		alen -= 2;
	}
	if (alen == 0 || alen >= sizeof(addr))
		return refuse(
		    c, l, err, "the address must be an IPv4 or IPv6 literal");
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (validate_address(
	        addr, AF_UNSPEC, canon, sizeof(canon), &family, &why) < 0)
		return refuse(c, l, err, "address: %s", why);
	if (validate_port(colon + 1, &port, &why) < 0)
		return refuse(c, l, err, "port: %s", why);
	if (c->p.bind_port != 0 && port != c->p.bind_port)
		return refuse(c, l, err,
		    "port %u differs from the other bind's %u: one port only",
		    port, c->p.bind_port);
	if (iface) {
		if (c->p.bind_iface)
			return refuse(
			    c, l, err, "a second bind with an interface");
		if (family != AF_INET6)
			return refuse(
			    c, l, err, "a bind with an interface must be IPv6");
		if (validate_ifname(l->tok[3], &why) < 0)
			return refuse(c, l, err, "interface: %s", why);
		c->p.bind_iface = true;
		(void)copy(
		    c->bind_address_v6, sizeof(c->bind_address_v6), canon);
		(void)copy(
		    c->bind_interface, sizeof(c->bind_interface), l->tok[3]);
	} else {
		if (c->p.bind_plain)
			return refuse(
			    c, l, err, "a second bind without an interface");
		c->p.bind_plain = true;
		c->bind_v6 = family == AF_INET6;
		(void)copy(c->bind_address, sizeof(c->bind_address), canon);
	}
	if (c->p.bind_at.line == 0)
		c->p.bind_at = loc(l);
	c->p.bind_port = port;
	c->port = port;
	return 0;
}

static int
listen_server(
    struct haproxy_cfg *c, const struct line *l, struct hcfg_error *err)
{
	char path[PATH_MAX];
	const char *why = NULL;

	if ((c->p.seen & (1u << D_SERVER)) != 0)
		return refuse(c, l, err,
		    "a second server: the proxy has one "
		    "agent");
	c->p.seen |= 1u << D_SERVER;
	if (l->n > 3)
		return refuse(c, l, err,
		    "server keywords are not accepted ('%s')", l->tok[3]);
	if (l->n != 3)
		return refuse(c, l, err, "needs a name and a unix socket path");
	if (l->tok[2][0] != '/')
		return refuse(c, l, err,
		    "the agent must be a unix socket path, not a network "
		    "address");
	if (validate_path(l->tok[2], OPT_SOCKET_MAX, path, sizeof(path), &why) <
	    0)
		return refuse(c, l, err, "%s", why);
	c->p.server_at = loc(l);
	return copy(c->socket_path, sizeof(c->socket_path), path);
}

/* Which id header a set-/add-header names: the flavour and kind. */
static int
id_rule(struct haproxy_cfg *c, const struct line *l, struct hcfg_error *err,
    bool add)
{
	const char *why = NULL;
	bool canonical = false;
	enum header h = header_of(l->tok[2], &canonical);
	int r;

	if (h == H_NONE || h == H_XFF || h == H_OVN_ROUTER)
		return refuse(c, l, err,
		    "only X-Neutron-Network-ID, X-Neutron-Router-ID or "
		    "X-OVN-Network-ID may be set");
	if (!canonical)
		return refuse(c, l, err,
		    "write the header name with '-', as neutron does");
	if (l->n != 4)
		return refuse(c, l, err, "takes a header name and a uuid");
	if ((r = once(c, l, err, D_ID)) < 0)
		return r;
	if (validate_uuid(l->tok[3], &why) < 0)
		return refuse(c, l, err, "%s", why);
	c->flavor = h == H_OVN_NETWORK ? FLAVOR_OVN : FLAVOR_NEUTRON;
	c->id_kind = h == H_NEUTRON_ROUTER ? ID_ROUTER : ID_NETWORK;
	(void)copy(c->id, sizeof(c->id), l->tok[3]);
	c->id_at = loc(l);
	c->p.add_header = add;
	if ((c->p.deleted_before & (1u << h)) != 0)
		c->p.del_own_before_add = true;
	return 0;
}

/* The id header of a finished rule, to compare deletions with. */
static enum header
own_header(const struct haproxy_cfg *c)
{
	if (c->id[0] == '\0')
		return H_NONE;
	if (c->flavor == FLAVOR_OVN)
		return H_OVN_NETWORK;
	return c->id_kind == ID_ROUTER ? H_NEUTRON_ROUTER : H_NEUTRON_NETWORK;
}

static int
listen_del(struct haproxy_cfg *c, const struct line *l, struct hcfg_error *err)
{
	bool canonical = false;
	enum header h;

	if (l->n == 5 && eq(l->tok[3], "-m") && eq(l->tok[4], "reg")) {
		if (eq(l->tok[2], re_xff)) {
			c->p.del_xff_all = true;
			return 0;
		}
		if (!eq(l->tok[2], re_identity))
			return refuse(c, l, err,
			    "only the two regular expressions "
			    "ns-metadata-proxy "
			    "renders are accepted");
		if (c->id[0] != '\0')
			return refuse(c, l, err,
			    "removes the identity header set on line %u",
			    c->id_at.line);
		c->p.del_id_all = true;
		c->p.del_own_before_add = true;
		return 0;
	}
	if (l->n != 3)
		return refuse(c, l, err, "takes a header name only");
	h = header_of(l->tok[2], &canonical);
	if (h == H_NONE)
		return refuse(c, l, err,
		    "a header rule on a header other than the identity "
		    "headers and X-Forwarded-For");
	if (h == H_XFF) {
		c->p.del_xff_exact = true;
		return 0;
	}
	if (h == own_header(c))
		return refuse(c, l, err,
		    "removes the identity header set on line %u",
		    c->id_at.line);
	/* Removing a client's copy before ours is added: only as spelled. */
	if (canonical && c->id[0] == '\0')
		c->p.deleted_before |= 1u << h;
	return 0;
}

static int
listen_http_request(
    struct haproxy_cfg *c, const struct line *l, struct hcfg_error *err)
{
	const char *a;

	if (l->n < 2)
		return refuse(c, l, err, "needs an action");
	a = l->tok[1];
	if (eq(a, "del-header"))
		return listen_del(c, l, err);
	if (eq(a, "set-header") || eq(a, "add-header")) {
		if (l->n < 3)
			return refuse(
			    c, l, err, "takes a header name and a uuid");
		return id_rule(c, l, err, eq(a, "add-header"));
	}
	if (eq(a, "track-sc0"))
		return listen_track(c, l, err, 0);
	if (eq(a, "track-sc1"))
		return listen_track(c, l, err, 1);
	if (eq(a, "deny"))
		return listen_deny(c, l, err);
	return refuse(c, l, err,
	    "not an http-request rule of the neutron metadata proxy");
}

static int
in_listen(struct haproxy_cfg *c, const struct line *l, struct hcfg_error *err)
{
	const char *k = l->tok[0];

	if (eq(k, "bind"))
		return listen_bind(c, l, err);
	if (eq(k, "server"))
		return listen_server(c, l, err);
	if (eq(k, "http-request"))
		return listen_http_request(c, l, err);
	return refuse(c, l, err,
	    "not a directive of the neutron metadata proxy's listen section");
}

/* ---- sections -------------------------------------------------------- */

static bool
name_ok(const char *s)
{
	return tag_ok(s) && strlen(s) <= 32;
}

static int
section(struct haproxy_cfg *c, const struct line *l, struct hcfg_error *err)
{
	const char *k = l->tok[0];

	if (eq(k, "global") || eq(k, "defaults")) {
		bool *seen =
		    eq(k, "global") ? &c->p.seen_global : &c->p.seen_defaults;

		if (l->n != 1)
			return refuse(c, l, err, "takes no name");
		if (*seen)
			return refuse(c, l, err, "a second '%s' section", k);
		*seen = true;
		c->p.section = eq(k, "global") ? SEC_GLOBAL : SEC_DEFAULTS;
		return 0;
	}
	if (eq(k, "backend")) {
		if (l->n != 2)
			return refuse(c, l, err, "takes a name only");
		if (eq(l->tok[1], "base_rate_limiter"))
			c->p.section = SEC_BASE;
		else if (eq(l->tok[1], "burst_rate_limiter"))
			c->p.section = SEC_BURST;
		else
			return refuse(c, l, err,
			    "only the backends base_rate_limiter and "
			    "burst_rate_limiter are accepted");
		return 0;
	}
	if (eq(k, "listen")) {
		if (l->n != 2)
			return refuse(c, l, err, "takes a name only");
		if (!name_ok(l->tok[1]))
			return refuse(c, l, err,
			    "name is not 1-32 bytes of [A-Za-z0-9._-]");
		if (c->p.seen_listen)
			return refuse(c, l, err, "a second listen section");
		c->p.seen_listen = true;
		c->listen_at = loc(l);
		c->p.section = SEC_LISTEN;
		return 0;
	}
	return 1; /* not a section keyword */
}

static const char *const other_sections[] = {"frontend", "peers", "resolvers",
    "userlist", "program", "cache", "ring", "http-errors", "mailers",
    "crt-store", "traces", NULL};

static int
directive(struct haproxy_cfg *c, const struct line *l, struct hcfg_error *err)
{
	size_t i;
	int r;

	r = section(c, l, err);
	if (r <= 0)
		return r;
	for (i = 0; other_sections[i] != NULL; i++)
		if (eq(l->tok[0], other_sections[i]))
			return refuse(c, l, err,
			    "a '%s' section is not part of the neutron "
			    "metadata "
			    "proxy's config",
			    l->tok[0]);
	switch (c->p.section) {
	case SEC_GLOBAL:
		return in_global(c, l, err);
	case SEC_DEFAULTS:
		return in_defaults(c, l, err);
	case SEC_BASE:
	case SEC_BURST:
		return in_backend(c, l, err);
	case SEC_LISTEN:
		return in_listen(c, l, err);
	default:
		return refuse(c, l, err, "outside of any section");
	}
}

/* ---- the API --------------------------------------------------------- */

void
haproxy_cfg_init(struct haproxy_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->flavor = FLAVOR_NEUTRON;
	c->id_kind = ID_NETWORK;
	/* neutron's values; haproxy would wait forever without them */
	defaults_timeouts(&c->timeouts);
	c->rate_limit.ip_version = DEF_RATE_IP_VERSION;
	c->p.section = SEC_NONE;
}

void
haproxy_cfg_on_error(struct haproxy_cfg *c, hcfg_error_fn fn, void *arg)
{
	c->p.on_error = fn;
	c->p.on_error_arg = arg;
}

int
haproxy_cfg_parse(struct haproxy_cfg *c, const char *file, const char *text,
    size_t len, struct hcfg_error *err)
{
	struct line l;
	size_t pos = 0, end, n;
	unsigned int before = c->p.errors;
	int r;

	memset(err, 0, sizeof(*err));
	l.file = file;
	l.no = 0;
	c->p.last_file = file;
	/* Each file starts outside any section, as in haproxy. */
	c->p.section = SEC_NONE;
	if (len > HCFG_TEXT_MAX) {
		struct hcfg_loc at = {file, 0};

		return refuse_whole(c, at, err,
		    "larger than %d bytes: not a neutron metadata proxy "
		    "config",
		    HCFG_TEXT_MAX);
	}
	while (pos < len) {
		l.no++;
		for (end = pos; end < len && text[end] != '\n'; end++)
			;
		n = end - pos;
		if (n > HCFG_LINE_MAX) {
			l.text[0] = '\0';
			r = refuse(
			    c, &l, err, "longer than %d bytes", HCFG_LINE_MAX);
		} else {
			r = tokenize(c, &l, text + pos, n, err);
			if (r == 0 && l.n > 0)
				r = directive(c, &l, err);
		}
		if (r < 0 && c->p.on_error == NULL)
			return r;
		pos = end + 1;
	}
	return c->p.errors > before ? -EINVAL : 0;
}

int
haproxy_cfg_finish(struct haproxy_cfg *c, struct hcfg_error *err)
{
	unsigned int rl = c->p.seen & RL_ALL;
	struct hcfg_loc at = c->listen_at;

	memset(err, 0, sizeof(*err));
	if (at.line == 0)
		at.file = c->p.last_file;
	if (!c->p.seen_listen)
		return refuse_whole(
		    c, at, err, "no 'listen' section: nothing to serve");
	if (!c->mode_http)
		return refuse_whole(c, at, err,
		    "no 'mode http' in the defaults section: the proxy must "
		    "speak HTTP to add its headers");
	if (!c->p.bind_plain)
		return refuse_whole(c, at, err,
		    "'listen': no 'bind ADDRESS:PORT' without an interface");
	if (c->socket_path[0] == '\0')
		return refuse_whole(c, at, err,
		    "'listen': no 'server NAME /path/to/agent.sock'");
	if (c->id[0] == '\0')
		return refuse_whole(c, at, err,
		    "'listen': no set-header or add-header of "
		    "X-Neutron-Network-ID, X-Neutron-Router-ID or "
		    "X-OVN-Network-ID: the agent could not tell who asks");
	if (rl != 0 && rl != RL_ALL)
		return refuse_whole(c, c->p.first_rl, err,
		    "rate limiting needs both backends (base_rate_limiter, "
		    "burst_rate_limiter), both track-sc rules and both deny "
		    "rules");
	if (rl != 0) {
		if (c->p.table_family[0] != c->p.table_family[1])
			return refuse_whole(c, c->p.first_rl, err,
			    "the two rate tables are of different types "
			    "(ip and ipv6)");
		c->rate_limit.enabled = true;
		c->rate_limit.ip_version =
		    c->p.table_family[0] == AF_INET6 ? 6 : 4;
	}
	c->weak = 0;
	if (!c->p.del_xff_all)
		c->weak |=
		    c->p.del_xff_exact ? HCFG_WEAK_XFF_SPELLING : HCFG_WEAK_XFF;
	if (c->p.add_header && !c->p.del_own_before_add)
		c->weak |= HCFG_WEAK_ADD_KEEPS;
	if (!c->p.del_id_all)
		c->weak |= HCFG_WEAK_ID_SPELLING;
	return 0;
}

int
haproxy_cfg_conf(
    const struct haproxy_cfg *c, struct proxy_conf *p, struct daemon_conf *d)
{
	defaults_proxy(p);
	defaults_daemon(d);
	d->engine = ENGINE_BUILTIN;
	p->flavor = c->flavor;
	p->id_kind = c->id_kind;
	if (copy(p->id, sizeof(p->id), c->id) < 0 ||
	    copy(p->socket_path, sizeof(p->socket_path), c->socket_path) < 0 ||
	    copy(p->bind_address, sizeof(p->bind_address), c->bind_address) <
	        0 ||
	    copy(p->bind_address_v6, sizeof(p->bind_address_v6),
	        c->bind_address_v6) < 0 ||
	    copy(p->bind_interface, sizeof(p->bind_interface),
	        c->bind_interface) < 0 ||
	    copy(d->user, sizeof(d->user), c->user) < 0 ||
	    copy(d->group, sizeof(d->group), c->group) < 0 ||
	    copy(d->pid_file, sizeof(d->pid_file), c->pidfile) < 0 ||
	    copy(d->syslog_facility, sizeof(d->syslog_facility),
	        c->log_syslog ? c->log_facility : DEF_SYSLOG_FACILITY) < 0)
		return -ENAMETOOLONG;
	p->bind_v6 = c->bind_v6;
	p->port = c->port;
	d->use_syslog = c->log_syslog;
	d->debug = c->log_debug;
	d->daemonize = c->daemon;
	if (c->maxconn != 0)
		d->maxconn = c->maxconn;
	p->timeouts = c->timeouts;
	/* Disabled, the command line's defaults stand, unused. */
	if (c->rate_limit.enabled)
		p->rate_limit = c->rate_limit;
	return 0;
}

const char *
haproxy_cfg_weakness(enum hcfg_weakness w)
{
	switch (w) {
	case HCFG_WEAK_XFF:
		return "no removal of a client-sent X-Forwarded-For: the agent "
		       "may take the VM's word for its address";
	case HCFG_WEAK_XFF_SPELLING:
		return "X-Forwarded-For is removed only as spelled: a "
		       "client's X_Forwarded_For reaches the agent";
	case HCFG_WEAK_ADD_KEEPS:
		return "spoofable identity header: add-header keeps a "
		       "client-sent copy next to ours";
	case HCFG_WEAK_ID_SPELLING:
		return "spoofable identity headers: a client-sent identity "
		       "header spelled with '_' (X_Neutron_Network_ID) or of "
		       "the other kind or flavour is not removed";
	}
	return "weaker than the built-in engine";
}
