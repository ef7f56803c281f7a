/*
 * Every validator of validate.h on fuzzed strings. The first byte picks the
 * validator, the next two its parameters (bounds, family, buffer sizes),
 * the rest is the string. Each answer is compared with a second,
 * independent reading of the grammar of DESIGN.md written here: a value is
 * accepted exactly when the grammar says so, the output is what the
 * grammar says it is, and on refusal the outputs are untouched and a
 * reason is given.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "validate.h"
#include "banned.h"

#define SENTINEL 0x5a

static bool
in_class(unsigned char c, const char *extra)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;
	return c != '\0' && strchr(extra, c) != NULL;
}

/* 1..max bytes of [A-Za-z0-9] and extra, and not "." or "..". */
static bool
ref_name(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > max)
		return false;
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!in_class((unsigned char)s[i], extra))
			return false;
	return true;
}

static bool
ref_uuid(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash != (s[i] == '-'))
			return false;
		if (!dash && strchr("0123456789abcdef", s[i]) == NULL)
			return false;
	}
	return true;
}

/*
 * Decimal digits only, at least one, and no leading zero ("0" alone is
 * zero); *v, or *overflow past ULONG_MAX.
 */
static bool
ref_decimal(const char *s, size_t n, unsigned long *v, bool *overflow)
{
	size_t i;

	*v = 0;
	*overflow = false;
	if (n == 0 || (n > 1 && s[0] == '0'))
		return false;
	for (i = 0; i < n; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return false;
		d = (unsigned)(s[i] - '0');
		if (*v > (ULONG_MAX - d) / 10)
			*overflow = true;
		else
			*v = *v * 10 + d;
	}
	return true;
}

static void
check_ulong(const char *s, uint8_t p)
{
	static const unsigned long bounds[][2] = {{0, ULONG_MAX}, {1, 65535},
	    {1, 86400}, {0, 3600}, {1, 1000000}, {0, 4294967294UL}, {4, 6}};
	unsigned long min = bounds[p % 7][0], max = bounds[p % 7][1];
	unsigned long out = 12345, v;
	const char *why = NULL;
	bool ovf, ok;
	int r;

	ok =
	    ref_decimal(s, strlen(s), &v, &ovf) && !ovf && v >= min && v <= max;
	r = validate_ulong(s, min, max, &out, &why);
	FUZZ_CHECK((r == 0) == ok);
	if (ok)
		FUZZ_CHECK(out == v);
	else
		FUZZ_CHECK(out == 12345 && why != NULL &&
		           (r == -EINVAL || r == -ERANGE));
}

static void
check_port(const char *s)
{
	unsigned int out = 7;
	unsigned long v;
	const char *why = NULL;
	bool ovf, ok;
	int r;

	ok =
	    ref_decimal(s, strlen(s), &v, &ovf) && !ovf && v >= 1 && v <= 65535;
	r = validate_port(s, &out, &why);
	FUZZ_CHECK((r == 0) == ok);
	FUZZ_CHECK(ok ? out == v : (out == 7 && why != NULL));
}

static void
check_address(const char *s, uint8_t p)
{
	static const int families[] = {AF_UNSPEC, AF_INET, AF_INET6};
	int family = families[p % 3], found = -1, found2 = -1;
	char *out = fuzz_memdup(NULL, INET6_ADDRSTRLEN);
	char again[INET6_ADDRSTRLEN], canon[INET6_ADDRSTRLEN];
	unsigned char buf[sizeof(struct in6_addr)];
	const char *why = NULL;
	int want = AF_UNSPEC, r;
	size_t i;

	memset(out, SENTINEL, INET6_ADDRSTRLEN);
	if (family != AF_INET6 && inet_pton(AF_INET, s, buf) == 1)
		want = AF_INET;
	else if (family != AF_INET && inet_pton(AF_INET6, s, buf) == 1)
		want = AF_INET6;
	r = validate_address(s, family, out, INET6_ADDRSTRLEN, &found, &why);
	FUZZ_CHECK((r == 0) == (want != AF_UNSPEC));
	if (r < 0) {
		FUZZ_CHECK(why != NULL && found == -1);
		for (i = 0; i < INET6_ADDRSTRLEN; i++)
			FUZZ_CHECK((unsigned char)out[i] == SENTINEL);
		free(out);
		return;
	}
	FUZZ_CHECK(found == want);
	FUZZ_CHECK(memchr(out, '\0', INET6_ADDRSTRLEN) != NULL);
	FUZZ_CHECK(inet_ntop(want, buf, canon, sizeof(canon)) != NULL);
	FUZZ_CHECK(strcmp(out, canon) == 0);
	/* No zone, prefix, brackets or blanks: only what a literal holds. */
	for (i = 0; out[i] != '\0'; i++)
		FUZZ_CHECK(strchr("0123456789abcdef:.", out[i]) != NULL);
	FUZZ_CHECK(want == AF_INET6 || strchr(out, ':') == NULL);
	/* The canonical form is a fixed point. */
	r = validate_address(out, family, again, sizeof(again), &found2, NULL);
	FUZZ_CHECK(r == 0 && found2 == want && strcmp(again, out) == 0);
	free(out);
}

/*
 * The path grammar read another way: split on '/', every component
 * non-empty and not "." or "..", one trailing slash dropped.
 */
static bool
ref_path(const char *s, size_t max, size_t *len)
{
	size_t n = strlen(s), i, start;

	if (n == 0 || s[0] != '/')
		return false;
	for (i = 0; i < n; i++)
		if (!in_class((unsigned char)s[i], "/._+@:=,%-"))
			return false;
	if (n > 1 && s[n - 1] == '/') {
		n--;
		if (n == 1)
			return false; /* "//": an empty component */
	}
	if (n == 1) {
		*len = 1;
		return max >= 1;
	}
	for (start = 1; start <= n; start = i + 1) {
		for (i = start; i < n && s[i] != '/'; i++)
			;
		if (i == start)
			return false;
		if ((i - start == 1 && s[start] == '.') ||
		    (i - start == 2 && s[start] == '.' && s[start + 1] == '.'))
			return false;
	}
	*len = n;
	return n <= max;
}

static void
check_path(const char *s, uint8_t p)
{
	static const size_t maxes[] = {
	    1, 2, 8, 97, 107, 255, PATH_MAX - 128, PATH_MAX - 1};
	size_t max = maxes[p % 8], outsz = max + 1, len = 0, i;
	char *out = fuzz_memdup(NULL, outsz);
	const char *why = NULL;
	bool ok;
	int r;

	memset(out, SENTINEL, outsz);
	ok = ref_path(s, max, &len);
	r = validate_path(s, max, out, outsz, &why);
	FUZZ_CHECK((r == 0) == ok);
	if (!ok) {
		FUZZ_CHECK(why != NULL);
		for (i = 0; i < outsz; i++)
			FUZZ_CHECK((unsigned char)out[i] == SENTINEL);
		free(out);
		return;
	}
	FUZZ_CHECK(strlen(out) == len && memcmp(out, s, len) == 0);
	FUZZ_CHECK(strstr(out, "//") == NULL && strstr(out, "/./") == NULL &&
	           strstr(out, "/../") == NULL);
	FUZZ_CHECK(len == 1 || out[len - 1] != '/');
	FUZZ_CHECK(strpbrk(out, " #'\"\\$\t\n\r") == NULL);
	/* Too small an output buffer is refused, not overrun. */
	r = validate_path(s, max, out, max, &why);
	FUZZ_CHECK(r == -EINVAL);
	free(out);
}

static void
check_account(const char *s)
{
	unsigned long v;
	bool ovf, name, digits, decimal;
	const char *why = NULL;
	int r;

	name = s[0] != '-' && ref_name(s, 32, "._-");
	/* "." and ".." are names here: only a leading '-' is refused. */
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		name = true;
	r = validate_account_name(s, &why);
	FUZZ_CHECK((r == 0) == name);
	FUZZ_CHECK(r == 0 || why != NULL);
	/* All digits: an id, and then decimal without a leading zero. */
	digits = s[0] != '\0' && strspn(s, "0123456789") == strlen(s);
	decimal = ref_decimal(s, strlen(s), &v, &ovf);
	why = NULL;
	r = validate_account(s, &why);
	FUZZ_CHECK(
	    (r == 0) ==
	    (name && (!digits || (decimal && !ovf && v <= 4294967294UL))));
	FUZZ_CHECK(r == 0 || why != NULL);
}

static void
check_timeout(const char *s)
{
	static const struct {
		const char *unit;
		unsigned long ms; /* 0: microseconds */
	} units[] = {{"", 1}, {"us", 0}, {"ms", 1}, {"s", 1000}, {"m", 60000},
	    {"h", 3600000}, {"d", 86400000}};
	const unsigned long max = 2147483647;
	unsigned long v, ms = 0, out = 99;
	size_t n = strspn(s, "0123456789"), i;
	const char *why = NULL;
	bool ovf, ok = false;
	int r;

	if (ref_decimal(s, n, &v, &ovf) && !ovf) {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			if (strcmp(s + n, units[i].unit) != 0)
				continue;
			if (units[i].ms == 0) {
				ms = v / 1000 + (v % 1000 != 0 ? 1 : 0);
				ok = ms >= 1 && ms <= max;
			} else if (v <= max / units[i].ms) {
				ms = v * units[i].ms;
				ok = ms >= 1;
			}
			break;
		}
	}
	r = validate_timeout(s, &out, &why);
	FUZZ_CHECK((r == 0) == ok);
	FUZZ_CHECK(ok ? out == ms : (out == 99 && why != NULL));
}

static void
check_facility(const char *s)
{
	static const char *const names[] = {"auth", "authpriv", "cron",
	    "daemon", "ftp", "kern", "lpr", "mail", "news", "syslog", "user",
	    "uucp", "local0", "local1", "local2", "local3", "local4", "local5",
	    "local6", "local7"};
	bool ok = false;
	size_t i, j;

	for (i = 0; i < sizeof(names) / sizeof(names[0]) && !ok; i++) {
		if (strcmp(s, names[i]) == 0)
			ok = true;
		if (strncmp(s, "LOG_", 4) != 0 ||
		    strlen(s + 4) != strlen(names[i]))
			continue;
		for (j = 0; names[i][j] != '\0'; j++) {
			char c = names[i][j];

			if (c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			if (s[4 + j] != c)
				break;
		}
		if (names[i][j] == '\0')
			ok = true;
	}
	FUZZ_CHECK((validate_facility(s, NULL) == 0) == ok);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Undo the escaping of out[0..n) into dec; false when out holds anything
 * but whole escapes of the documented form.
 */
static bool
unescape(const char *out, size_t n, char *dec, size_t *declen)
{
	size_t i = 0, k = 0;

	while (i < n) {
		unsigned char c = (unsigned char)out[i];

		if (c < 0x20 || c > 0x7e || c == '\'')
			return false;
		if (c != '\\') {
			dec[k++] = (char)c;
			i++;
			continue;
		}
		if (i + 1 < n && (out[i + 1] == '\\' || out[i + 1] == '\'')) {
			dec[k++] = out[i + 1];
			i += 2;
		} else if (i + 3 < n && out[i + 1] == 'x' &&
		           hexval(out[i + 2]) >= 0 && hexval(out[i + 3]) >= 0) {
			int b = hexval(out[i + 2]) * 16 + hexval(out[i + 3]);

			/* \xNN only for what cannot be shown as is. */
			if (b >= 0x20 && b <= 0x7e)
				return false;
			dec[k++] = (char)b;
			i += 4;
		} else {
			return false;
		}
	}
	*declen = k;
	return true;
}

static void
check_escape(const char *s, uint8_t p1, uint8_t p2)
{
	size_t outsz = (size_t)p1 + 1, cap = p2 == 255 ? (size_t)-1 : p2;
	size_t slen = strlen(s), shown = slen < cap ? slen : cap;
	size_t olen, declen, k;
	char *out = fuzz_memdup(NULL, outsz), *dec = fuzz_memdup(NULL, outsz);
	bool any = false;

	FUZZ_CHECK(validate_escape(s, cap, out, outsz) == out);
	olen = strnlen(out, outsz);
	FUZZ_CHECK(olen < outsz);
	/*
	 * Whatever was cut, out is whole escapes of a prefix of what was
	 * shown, then at most "...".
	 */
	for (k = 0; k <= 3 && k <= olen; k++) {
		if (k > 0 && out[olen - k] != '.')
			break;
		if (unescape(out, olen - k, dec, &declen) && declen <= shown &&
		    memcmp(dec, s, declen) == 0) {
			any = true;
			/* Uncut: the whole of it, and nothing after. */
			if (k == 0 && declen == slen)
				break;
		}
	}
	FUZZ_CHECK(any);
	/* Short enough to show whole: it is shown whole. */
	if (slen <= cap && 4 * slen < outsz) {
		FUZZ_CHECK(unescape(out, olen, dec, &declen));
		FUZZ_CHECK(declen == slen && memcmp(dec, s, slen) == 0);
	}
	free(out);
	free(dec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	uint8_t sel, p1, p2;
	char *s;
	int r;

	if (size < 3)
		return 0;
	sel = data[0];
	p1 = data[1];
	p2 = data[2];
	s = fuzz_strndup(data + 3, size - 3);
	switch (sel % 12) {
	case 0:
		r = validate_uuid(s, &why);
		FUZZ_CHECK((r == 0) == ref_uuid(s));
		break;
	case 1:
		check_ulong(s, p1);
		break;
	case 2:
		check_port(s);
		break;
	case 3:
		check_address(s, p1);
		break;
	case 4:
		/* No ':' (Linux refuses it), no leading '-' (an option). */
		r = validate_ifname(s, &why);
		FUZZ_CHECK((r == 0) == (s[0] != '-' && ref_name(s, 15, "_.-")));
		FUZZ_CHECK(r == 0 || why != NULL);
		break;
	case 5:
		r = validate_netns(s, &why);
		FUZZ_CHECK((r == 0) == ref_name(s, 255, "_.-"));
		break;
	case 6:
		check_path(s, p1);
		break;
	case 7:
		r = validate_component(s, &why);
		FUZZ_CHECK((r == 0) == ref_name(s, 255, "._+@:=,%-"));
		break;
	case 8:
		check_account(s);
		break;
	case 9:
		check_timeout(s);
		break;
	case 10:
		check_facility(s);
		break;
	default:
		check_escape(s, p1, p2);
		break;
	}
	free(s);
	return 0;
}
