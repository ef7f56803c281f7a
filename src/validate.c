#include "validate.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

#define UUID_LEN 36
#define IFNAME_MAX 15               /* IFNAMSIZ - 1 */
#define NETNS_MAX 255               /* a file name under /run/netns */
#define COMPONENT_MAX 255           /* NAME_MAX */
#define ACCOUNT_MAX 32              /* user and group names, as useradd(8) */
#define ACCOUNT_ID_MAX 4294967294UL /* (uid_t)-1 is "no change" */

static const char why_empty[] = "empty";
static const char why_too_long[] = "too long";
static const char why_range[] = "out of range";
static const char why_number[] = "not a decimal number";
static const char why_leading_zero[] = "has a leading zero";
static const char why_outsz[] = "output buffer too small";

static void
set_why(const char **why, const char *reason)
{
	if (why != NULL)
		*why = reason;
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alnum(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_lower_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

/*
 * A digit string with a leading zero ("080", "00"): not decimal as
 * DESIGN.md means it, and "010" reads as 8 to anything that takes C's
 * octal prefix. "0" alone is zero.
 */
static bool
has_leading_zero(const char *s)
{
	return s[0] == '0' && is_digit((unsigned char)s[1]);
}

/* True when every byte of s is alphanumeric or one of extra. */
static bool
all_in(const char *s, const char *extra)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (!is_alnum(*p) && strchr(extra, *p) == NULL)
			return false;
	}
	return true;
}

static bool
is_dot_or_dotdot(const char *s, size_t len)
{
	return (len == 1 && s[0] == '.') ||
	       (len == 2 && s[0] == '.' && s[1] == '.');
}

/*
 * The path alphabet. DESIGN.md forbids blanks, '#', quotes, '\' and '$';
 * we go further and allow only these, so no shell, glob or haproxy
 * metacharacter ('*', '?', '{', '(', '~', '!', ';', '&', '|', '<', '>', '`',
 * brackets) can reach a rendered config or a command line. strchr() also
 * matches the terminating NUL, which callers never pass.
 */
#define PATH_EXTRA "._+@:=,%-"
#define PATH_ALPHABET "[A-Za-z0-9._/+@:=,%-]"

int
validate_uuid(const char *s, const char **why)
{
	size_t i;

	if (s == NULL)
		goto bad;
	for (i = 0; i < UUID_LEN; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				goto bad;
		} else if (!is_lower_hex(c)) {
			/* Also stops at the NUL of a short string. */
			goto bad;
		}
	}
	if (s[UUID_LEN] != '\0')
		goto bad;
	return 0;
bad:
	set_why(why, "not a canonical lower-case UUID");
	return -EINVAL;
}

int
validate_ulong(const char *s, unsigned long min, unsigned long max,
    unsigned long *out, const char **why)
{
	unsigned long v;
	char *end;

	if (s == NULL || !is_digit((unsigned char)*s)) {
		set_why(why, s == NULL || *s == '\0' ? why_empty : why_number);
		return -EINVAL;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end != '\0') {
		set_why(why, why_number);
		return -EINVAL;
	}
	if (has_leading_zero(s)) {
		set_why(why, why_leading_zero);
		return -EINVAL;
	}
	if (errno == ERANGE || v < min || v > max) {
		set_why(why, why_range);
		return -ERANGE;
	}
	*out = v;
	return 0;
}

int
validate_port(const char *s, unsigned int *out, const char **why)
{
	unsigned long v;
	int r;

	r = validate_ulong(s, 1, 65535, &v, why);
	if (r < 0)
		return r;
	*out = (unsigned int)v;
	return 0;
}

int
validate_address(const char *s, int family, char *out, size_t outsz,
    int *family_out, const char **why)
{
	struct in6_addr buf;
	const char *reason;
	int found = AF_UNSPEC;

	if (family != AF_INET && family != AF_INET6 && family != AF_UNSPEC) {
		set_why(why, "unsupported address family");
		return -EINVAL;
	}
	if (out == NULL || outsz < INET6_ADDRSTRLEN) {
		set_why(why, why_outsz);
		return -EINVAL;
	}
	if (s == NULL || *s == '\0') {
		set_why(why, why_empty);
		return -EINVAL;
	}
	/*
	 * inet_pton rejects all of these already; looking first gives a
	 * better reason, and does not depend on the libc.
	 */
	if (strchr(s, '%') != NULL) {
		set_why(why, "contains a zone index");
		return -EINVAL;
	}
	if (strpbrk(s, "[]") != NULL) {
		set_why(why, "contains brackets");
		return -EINVAL;
	}
	if (strchr(s, '/') != NULL) {
		set_why(why, "contains a prefix length");
		return -EINVAL;
	}
	if (family != AF_INET6 && inet_pton(AF_INET, s, &buf) == 1)
		found = AF_INET;
	else if (family != AF_INET && inet_pton(AF_INET6, s, &buf) == 1)
		found = AF_INET6;
	if (found == AF_UNSPEC) {
		if (family == AF_INET)
			reason = "not an IPv4 address";
		else if (family == AF_INET6)
			reason = "not an IPv6 address";
		else
			reason = "not an IPv4 or IPv6 address";
		set_why(why, reason);
		return -EINVAL;
	}
	if (inet_ntop(found, &buf, out, (socklen_t)outsz) == NULL) {
		/* Cannot happen with outsz >= INET6_ADDRSTRLEN. */
		set_why(why, why_outsz);
		return -EINVAL;
	}
	if (family_out != NULL)
		*family_out = found;
	return 0;
}

int
validate_ifname(const char *s, const char **why)
{
	size_t len;

	if (s == NULL || *s == '\0') {
		set_why(why, why_empty);
		return -EINVAL;
	}
	/*
	 * No ':': the kernel's dev_valid_name() refuses it (it was the alias
	 * syntax of ifconfig). No leading '-': ip(8), and any tool the
	 * name is handed to, would read it as an option.
	 */
	if (*s == '-') {
		set_why(why, "starts with '-'");
		return -EINVAL;
	}
	if (!all_in(s, "_.-")) {
		set_why(why, "contains a character outside [A-Za-z0-9_.-]");
		return -EINVAL;
	}
	len = strlen(s);
	/* The kernel's dev_valid_name() refuses these two as well. */
	if (is_dot_or_dotdot(s, len)) {
		set_why(why, "is '.' or '..'");
		return -EINVAL;
	}
	if (len > IFNAME_MAX) {
		set_why(why, why_too_long);
		return -ENAMETOOLONG;
	}
	return 0;
}

int
validate_netns(const char *s, const char **why)
{
	size_t len;

	if (s == NULL || *s == '\0') {
		set_why(why, why_empty);
		return -EINVAL;
	}
	if (!all_in(s, "_.-")) {
		set_why(why, "contains a character outside [A-Za-z0-9_.-]");
		return -EINVAL;
	}
	len = strlen(s);
	if (is_dot_or_dotdot(s, len)) {
		set_why(why, "is '.' or '..'");
		return -EINVAL;
	}
	if (len > NETNS_MAX) {
		set_why(why, why_too_long);
		return -ENAMETOOLONG;
	}
	return 0;
}

int
validate_path(
    const char *s, size_t max, char *out, size_t outsz, const char **why)
{
	size_t len, start, end;

	if (out == NULL || outsz <= max) {
		set_why(why, why_outsz);
		return -EINVAL;
	}
	if (s == NULL || *s == '\0') {
		set_why(why, why_empty);
		return -EINVAL;
	}
	if (*s != '/') {
		set_why(why, "not an absolute path");
		return -EINVAL;
	}
	if (!all_in(s, "/" PATH_EXTRA)) {
		set_why(why, "contains a character outside " PATH_ALPHABET);
		return -EINVAL;
	}
	/* "//" anywhere, also the whole of "//", which would become "/". */
	if (strstr(s, "//") != NULL)
		goto bad_component;
	len = strlen(s);
	if (len > 1 && s[len - 1] == '/')
		len--;
	/* s[0, len) is "/" or ("/" component)+; check each component. */
	for (start = 1; start < len; start = end + 1) {
		end = start;
		while (end < len && s[end] != '/')
			end++;
		if (end == start || is_dot_or_dotdot(s + start, end - start))
			goto bad_component;
	}
	if (len > max) {
		set_why(why, why_too_long);
		return -ENAMETOOLONG;
	}
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
bad_component:
	set_why(why, "contains an empty, '.' or '..' component");
	return -EINVAL;
}

int
validate_component(const char *s, const char **why)
{
	size_t len;

	if (s == NULL || *s == '\0') {
		set_why(why, why_empty);
		return -EINVAL;
	}
	if (!all_in(s, PATH_EXTRA)) {
		set_why(
		    why, "contains a character outside [A-Za-z0-9._+@:=,%-]");
		return -EINVAL;
	}
	len = strlen(s);
	if (is_dot_or_dotdot(s, len)) {
		set_why(why, "is '.' or '..'");
		return -EINVAL;
	}
	if (len > COMPONENT_MAX) {
		set_why(why, why_too_long);
		return -ENAMETOOLONG;
	}
	return 0;
}

int
validate_account_name(const char *s, const char **why)
{
	if (s == NULL || *s == '\0') {
		set_why(why, why_empty);
		return -EINVAL;
	}
	if (*s == '-') {
		set_why(why, "starts with '-'");
		return -EINVAL;
	}
	if (!all_in(s, "._-")) {
		set_why(why, "contains a character outside [A-Za-z0-9._-]");
		return -EINVAL;
	}
	if (strlen(s) > ACCOUNT_MAX) {
		set_why(why, why_too_long);
		return -ENAMETOOLONG;
	}
	return 0;
}

int
validate_account(const char *s, const char **why)
{
	unsigned long id;
	const char *p;
	int r;

	r = validate_account_name(s, why);
	if (r < 0)
		return r;
	/* All digits: an id, never a name (useradd(8) refuses those too). */
	for (p = s; is_digit((unsigned char)*p); p++)
		;
	if (*p == '\0')
		return validate_ulong(s, 0, ACCOUNT_ID_MAX, &id, why);
	return 0;
}

struct time_unit {
	const char *name;
	unsigned long ms; /* 0: microseconds */
};

static const struct time_unit time_units[] = {
    {"", 1},
    {"us", 0},
    {"ms", 1},
    {"s", 1000},
    {"m", 60 * 1000UL},
    {"h", 60UL * 60 * 1000},
    {"d", 24UL * 60 * 60 * 1000},
};

int
validate_timeout(const char *s, unsigned long *ms_out, const char **why)
{
	const struct time_unit *u = NULL;
	unsigned long v;
	char *end;
	size_t i;

	if (s == NULL || !is_digit((unsigned char)*s)) {
		set_why(why, s == NULL || *s == '\0' ? why_empty : why_number);
		return -EINVAL;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	for (i = 0; i < sizeof(time_units) / sizeof(time_units[0]); i++) {
		if (strcmp(end, time_units[i].name) == 0) {
			u = &time_units[i];
			break;
		}
	}
	if (u == NULL) {
		set_why(
		    why, "not a number with a unit of us, ms, s, m, h or d");
		return -EINVAL;
	}
	if (has_leading_zero(s)) {
		set_why(why, why_leading_zero);
		return -EINVAL;
	}
	if (errno == ERANGE)
		goto range;
	if (u->ms == 0)
		v = v / 1000 + (v % 1000 != 0);
	else if (v > VALIDATE_TIMEOUT_MAX / u->ms)
		goto range;
	else
		v *= u->ms;
	if (v < 1 || v > VALIDATE_TIMEOUT_MAX)
		goto range;
	*ms_out = v;
	return 0;
range:
	set_why(why, "out of range (1 ms to 2147483647 ms)");
	return -ERANGE;
}

static const char *const facilities[] = {
    "auth",
    "authpriv",
    "cron",
    "daemon",
    "ftp",
    "kern",
    "lpr",
    "mail",
    "news",
    "syslog",
    "user",
    "uucp",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
};

/* a equals b, with b's lower-case letters as upper case. */
static bool
equal_upper(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		char c = *b;

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (*a != c)
			return false;
	}
	return *a == *b;
}

int
validate_facility(const char *s, const char **why)
{
	size_t i;

	if (s == NULL || *s == '\0') {
		set_why(why, why_empty);
		return -EINVAL;
	}
	/*
	 * "user" or oslo.log's "LOG_USER" spelling (neutron's default); oslo
	 * also takes any case, we take these two forms only.
	 */
	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++) {
		if (strcmp(s, facilities[i]) == 0)
			return 0;
		if (strncmp(s, "LOG_", 4) == 0 &&
		    equal_upper(s + 4, facilities[i]))
			return 0;
	}
	set_why(why, "not a syslog facility");
	return -EINVAL;
}

/* The escaped form of c into e (at least 5 bytes); returns its length. */
static size_t
escape_byte(unsigned char c, char e[5])
{
	static const char hex[] = "0123456789abcdef";

	if (c == '\\' || c == '\'') {
		e[0] = '\\';
		e[1] = (char)c;
		return 2;
	}
	if (c >= 0x20 && c <= 0x7e) {
		e[0] = (char)c;
		return 1;
	}
	e[0] = '\\';
	e[1] = 'x';
	e[2] = hex[c >> 4];
	e[3] = hex[c & 0x0f];
	return 4;
}

/*
 * Whole escapes only, never half of one. When the input is cut (more than
 * cap bytes, or out too small for all of it) "..." follows, or as much of
 * it as fits.
 */
char *
validate_escape(const char *s, size_t cap, char *out, size_t outsz)
{
	static const char more[] = "...";
	const unsigned char *p;
	size_t i, n, need, pos = 0, room;
	char e[5];
	bool cut;

	if (out == NULL || outsz == 0)
		return out;
	if (s == NULL)
		s = "";
	/* The length of the whole escaped text, to know if it is cut. */
	p = (const unsigned char *)s;
	for (i = 0, need = 0; i < cap && p[i] != '\0'; i++)
		need += escape_byte(p[i], e);
	cut = p[i] != '\0';
	if (cut)
		need += sizeof(more) - 1;
	if (need >= outsz)
		cut = true;
	/* Room for the escapes: leave "..." and the NUL when cut. */
	room = outsz - 1;
	if (cut)
		room = room > sizeof(more) - 1 ? room - (sizeof(more) - 1) : 0;
	for (i = 0; i < cap && p[i] != '\0'; i++) {
		n = escape_byte(p[i], e);
		if (n > room - pos)
			break;
		memcpy(out + pos, e, n);
		pos += n;
	}
	if (cut) {
		n = outsz - 1 - pos;
		if (n > sizeof(more) - 1)
			n = sizeof(more) - 1;
		memcpy(out + pos, more, n);
		pos += n;
	}
	out[pos] = '\0';
	return out;
}
