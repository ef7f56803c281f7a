/*
 * The input grammars of DESIGN.md, in one place. Pure functions: no I/O, no
 * allocation, no logging. Each returns 0 on success or a negative errno
 * (-EINVAL bad syntax, -ERANGE out of range, -ENAMETOOLONG too long); on
 * failure *why, when why is not NULL, points at a static lower-case reason
 * such as "not an absolute path". Output parameters are written only on
 * success.
 */
#ifndef NMP_VALIDATE_H
#define NMP_VALIDATE_H

#include <stddef.h>

/* Canonical lower-case UUID: 8-4-4-4-12 hex digits, nothing else. */
int validate_uuid(const char *s, const char **why);

/*
 * Unsigned decimal in [min, max]: digits only (no sign, blank, "0x" or
 * junk), without a leading zero ("080" and "00" are refused, "0" is zero).
 */
int validate_ulong(const char *s, unsigned long min, unsigned long max,
    unsigned long *out, const char **why);

/* TCP port 1-65535 in decimal, as validate_ulong(). */
int validate_port(const char *s, unsigned int *out, const char **why);

/*
 * An IPv4 or IPv6 literal (inet_pton of its family; no zone, no brackets,
 * no prefix). family is AF_INET, AF_INET6 or AF_UNSPEC (either). The
 * canonical text (inet_ntop) goes to out, outsz >= 46; *family_out, if not
 * NULL, gets the family found.
 */
int validate_address(const char *s, int family, char *out, size_t outsz,
    int *family_out, const char **why);

/*
 * Interface name: 1-15 bytes of [A-Za-z0-9_.-], not starting with '-', not
 * "." or "..". No ':', which Linux refuses in a name.
 */
int validate_ifname(const char *s, const char **why);

/* Network namespace name: 1-255 bytes of [A-Za-z0-9_.-], not "." or "..". */
int validate_netns(const char *s, const char **why);

/*
 * Absolute, normalised path: starts with '/', no empty, "." or ".."
 * component, printable ASCII without space, '#', quotes, '\', '$'; one
 * trailing slash is accepted and dropped ("/" stays "/"). The result,
 * at most max bytes, goes to out (outsz > max).
 */
int validate_path(
    const char *s, size_t max, char *out, size_t outsz, const char **why);

/*
 * A file name relative to a directory: like a path component, 1-255 bytes of
 * the path alphabet without '/', not "." or "..".
 */
int validate_component(const char *s, const char **why);

/*
 * User or group as given on the command line: a decimal id (0 to 2^32-2,
 * as validate_ulong(): "00" and "010" are refused) or a name of 1-32 bytes
 * of [A-Za-z0-9._-] not starting with '-' and not all digits. Resolution is
 * identity.h's job.
 */
int validate_account(const char *s, const char **why);

/* A resolved user or group name, same alphabet and length as above. */
int validate_account_name(const char *s, const char **why);

/*
 * haproxy time: a decimal number (no leading zero, as validate_ulong())
 * with an optional unit us, ms, s, m, h or d (default ms), at least 1 ms
 * and at most 2147483647 ms; result in ms (microseconds round up to the
 * next millisecond).
 */
#define VALIDATE_TIMEOUT_MAX 2147483647UL /* haproxy's limit, in ms */
int validate_timeout(const char *s, unsigned long *ms_out, const char **why);

/* syslog facility name: user, daemon, auth, authpriv, local0..local7, ... */
int validate_facility(const char *s, const char **why);

/*
 * Escape an untrusted string for a one-line message: printable ASCII but
 * '\' and '\'' as is, everything else as \xNN, '\\', '\''; at most cap input
 * bytes are shown, then "...". Always NUL-terminates out (outsz >= 1) and
 * returns out.
 */
char *validate_escape(const char *s, size_t cap, char *out, size_t outsz);

#endif
