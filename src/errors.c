#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sysexits.h>

#include "errors.h"
#include "banned.h"

#define ANY_ERR 0     /* a rule for every error of its operation */
#define FILE_OPS (-1) /* a rule for OP_READ and OP_CREATE */

/* EX_CANTCREAT when creating, EX_IOERR else. */
#define CREATE_OR_IO (-2)

struct rule {
	int op; /* an enum err_op, or FILE_OPS */
	int err;
	int code;
	const char *words; /* NULL: strerror() */
};

/* First match wins. */
static const struct rule rules[] = {
    /* Files: the state directory, configs, pidfiles, logs. */
    {FILE_OPS, EACCES, EX_NOPERM, NULL},
    {FILE_OPS, EPERM, EX_NOPERM, NULL},
    {FILE_OPS, NMP_EUNSAFE, EX_CONFIG,
        "unsafe: must be a directory owned by us or root and not writable "
        "by group or others"},
    {FILE_OPS, NMP_ENOTPID, EX_CONFIG, "not a pidfile: it holds other data"},
    {FILE_OPS, ELOOP, EX_CONFIG, "is a symbolic link"},
    {FILE_OPS, ENOTDIR, EX_CONFIG, NULL},
    {FILE_OPS, EISDIR, EX_CONFIG, NULL},
    {FILE_OPS, EIO, EX_IOERR, NULL},
    {FILE_OPS, ENOENT, CREATE_OR_IO, NULL},
    {FILE_OPS, ENOSPC, CREATE_OR_IO, NULL},
    {FILE_OPS, EDQUOT, CREATE_OR_IO, NULL},
    {FILE_OPS, EFBIG, CREATE_OR_IO, NULL}, /* RLIMIT_FSIZE */
    {FILE_OPS, EROFS, CREATE_OR_IO, NULL},
    {FILE_OPS, EEXIST, CREATE_OR_IO, NULL},
    {FILE_OPS, EMLINK, CREATE_OR_IO, NULL},
    {FILE_OPS, ENAMETOOLONG, CREATE_OR_IO, NULL},
    {FILE_OPS, EBUSY, CREATE_OR_IO, NULL},
    /* Listeners: a busy address is "unavailable", as haproxy missing. */
    {OP_BIND, EACCES, EX_NOPERM, NULL},
    {OP_BIND, EPERM, EX_NOPERM, NULL},
    {OP_BIND, EADDRINUSE, EX_UNAVAILABLE, NULL},
    {OP_BIND, EADDRNOTAVAIL, EX_UNAVAILABLE, NULL},
    /* --netns: a missing one is bad input. */
    {OP_NETNS, ENOENT, EX_DATAERR, "no such network namespace"},
    {OP_NETNS, EACCES, EX_NOPERM, NULL},
    {OP_NETNS, EPERM, EX_NOPERM, NULL},
    {OP_NETNS_TYPE, ANY_ERR, EX_DATAERR, "not a network namespace"},
    {OP_NETNS_ENTER, EPERM, EX_NOPERM, NULL},
    {OP_PRIVILEGES, ANY_ERR, EX_NOPERM, NULL},
    /* haproxy itself. */
    {OP_FIND_HAPROXY, ENOENT, EX_UNAVAILABLE, "not installed"},
    {OP_FIND_HAPROXY, EACCES, EX_UNAVAILABLE, "not a regular executable file"},
    {OP_FIND_HAPROXY, EPERM, EX_CONFIG,
        "unsafe: writable by group or others, or not owned by root or us"},
    {OP_FIND_HAPROXY, ANY_ERR, EX_UNAVAILABLE, NULL},
    {OP_EXEC, ENOENT, 127, NULL},
    {OP_EXEC, ANY_ERR, 126, NULL},
    /* Accounts: unknown is its own code; a name we would not render. */
    {OP_USER, ENOENT, EX_NOUSER, "no such user"},
    {OP_USER, EINVAL, EX_DATAERR, "resolved name is not a safe user name"},
    {OP_GROUP, ENOENT, EX_NOUSER, "no such group"},
    {OP_GROUP, EINVAL, EX_DATAERR, "resolved name is not a safe group name"},
};

static const struct rule *
find(int err, enum err_op op)
{
	bool file = op == OP_READ || op == OP_CREATE;
	size_t i;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct rule *r = &rules[i];

		if (r->op != (int)op && !(r->op == FILE_OPS && file))
			continue;
		if (r->err == ANY_ERR || r->err == -err)
			return r;
	}
	return NULL;
}

int
error_exit_code(int err, enum err_op op)
{
	const struct rule *r = find(err, op);

	if (r == NULL)
		return EX_OSERR;
	if (r->code == CREATE_OR_IO)
		return op == OP_CREATE ? EX_CANTCREAT : EX_IOERR;
	return r->code;
}

const char *
error_describe(int err, enum err_op op)
{
	const struct rule *r = find(err, op);

	if (r != NULL && r->words != NULL)
		return r->words;
	if (-err >= NMP_EFIRST && -err < NMP_ELAST) {
		/* Ours, outside the file operations: the file words hold. */
		r = find(err, OP_READ);
		if (r != NULL && r->words != NULL)
			return r->words;
	}
	return strerror(-err);
}
