#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "identity.h"
#include "strbuf.h"
#include "validate.h"
#include "banned.h"

#define NSS_BUF_MIN 1024
#define NSS_BUF_MAX (1024 * 1024UL)

/* ERANGE asks for a bigger buffer; anything else but 0 is a real failure. */
static int
nss_buffer(size_t *size, char **buf)
{
	char *p;

	if (*size >= NSS_BUF_MAX)
		return -ERANGE;
	*size = *size == 0 ? NSS_BUF_MIN : *size * 2;
	p = realloc(*buf, *size);
	if (p == NULL)
		return -ENOMEM;
	*buf = p;
	return 0;
}

/*
 * getpw*_r report "not found" as a NULL result with 0, or with one of these
 * (POSIX lists them as possible for a missing entry).
 */
static int
nss_not_found(int r)
{
	return r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM;
}

static int
copy_name(const char *resolved, char *name, size_t namesz)
{
	int n;

	if (validate_account_name(resolved, NULL) < 0)
		return -EINVAL;
	n = STR_CONCAT(name, namesz, resolved);
	return n < 0 ? n : 0;
}

static int
parse_id(const char *spec, unsigned long *out)
{
	if (spec[0] < '0' || spec[0] > '9')
		return -EINVAL;
	return validate_ulong(spec, 0, UINT32_MAX - 1UL, out, NULL);
}

enum account_kind {
	ACCOUNT_USER,
	ACCOUNT_GROUP,
};

/*
 * One NSS lookup into buf. Returns 0 with *found set (and *rname, *rid when
 * found), or the positive error of the _r call (ERANGE: buffer too small).
 */
static int
lookup(enum account_kind kind, bool by_id, const char *spec, unsigned long num,
    char *buf, size_t size, bool *found, const char **rname, unsigned long *rid)
{
	struct passwd pw, *pwres = NULL;
	struct group gr, *grres = NULL;
	int r;

	if (kind == ACCOUNT_USER) {
		r = by_id ? getpwuid_r((uid_t)num, &pw, buf, size, &pwres)
		          : getpwnam_r(spec, &pw, buf, size, &pwres);
		*found = pwres != NULL;
		if (pwres != NULL) {
			*rname = pw.pw_name;
			*rid = pw.pw_uid;
		}
	} else {
		r = by_id ? getgrgid_r((gid_t)num, &gr, buf, size, &grres)
		          : getgrnam_r(spec, &gr, buf, size, &grres);
		*found = grres != NULL;
		if (grres != NULL) {
			*rname = gr.gr_name;
			*rid = gr.gr_gid;
		}
	}
	return *found ? 0 : r;
}

/*
 * The id (0 to UINT32_MAX) as the return value, or -errno: no output
 * parameter a failure could leave unset for the caller to read.
 */
static int64_t
resolve(enum account_kind kind, const char *spec, char *name, size_t namesz)
{
	const char *rname = NULL;
	unsigned long num = 0, rid = 0;
	size_t size = 0;
	char *buf = NULL;
	bool by_id, found = false;
	int r;

	if (spec[0] == '\0') {
		by_id = true;
		num = kind == ACCOUNT_USER ? geteuid() : getegid();
	} else if (validate_account(spec, NULL) < 0) {
		return -EINVAL;
	} else {
		by_id = parse_id(spec, &num) == 0;
	}
	for (;;) {
		r = nss_buffer(&size, &buf);
		if (r < 0)
			goto out;
		r = lookup(
		    kind, by_id, spec, num, buf, size, &found, &rname, &rid);
		if (r != ERANGE)
			break;
	}
	if (!found) {
		r = nss_not_found(r) ? -ENOENT : -r;
		goto out;
	}
	r = copy_name(rname, name, namesz);
out:
	free(buf);
	return r < 0 ? r : (int64_t)rid;
}

int
identity_user(const char *spec, char *name, size_t namesz, uid_t *id)
{
	int64_t r;

	r = resolve(ACCOUNT_USER, spec, name, namesz);
	if (r < 0)
		return (int)r;
	*id = (uid_t)r;
	return 0;
}

int
identity_group(const char *spec, char *name, size_t namesz, gid_t *id)
{
	int64_t r;

	r = resolve(ACCOUNT_GROUP, spec, name, namesz);
	if (r < 0)
		return (int)r;
	*id = (gid_t)r;
	return 0;
}
