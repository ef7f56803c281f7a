/*
 * One error policy: what a failure (-errno, or one of our own conditions
 * below) means for the exit code and for the message, given what was being
 * done. Every command asks here; none decides on its own.
 */
#ifndef NMP_ERRORS_H
#define NMP_ERRORS_H

/*
 * Our own conditions, past the errno range; returned negated, as -errno is
 * (strerror() knows none of them).
 */
enum nmp_error {
	NMP_EFIRST = 4096,
	/* A directory or file of unsafe owner, mode or type. */
	NMP_EUNSAFE = NMP_EFIRST,
	/* A pidfile that holds other data than a pid. */
	NMP_ENOTPID,
	NMP_ELAST,
};

/* What was being done: the same errno means another thing in each. */
enum err_op {
	OP_READ,       /* open, read, lock, remove what exists */
	OP_CREATE,     /* create or write a file or directory */
	OP_BIND,       /* bind a listener */
	OP_NETNS,      /* find or open a network namespace */
	OP_NETNS_TYPE, /* it is not a network namespace */
	OP_NETNS_ENTER,
	OP_PRIVILEGES, /* drop to the proxy's user and group */
	OP_FIND_HAPROXY,
	OP_EXEC,  /* exec haproxy */
	OP_USER,  /* resolve --metadata-proxy-user */
	OP_GROUP, /* resolve --metadata-proxy-group */
	OP_OTHER,
};

/* The exit code (sysexits.h, or 126/127 for exec) for err while doing op. */
int error_exit_code(int err, enum err_op op);

/* The words for err while doing op: ours, or strerror(). */
const char *error_describe(int err, enum err_op op);

#endif
