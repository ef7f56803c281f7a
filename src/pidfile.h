/*
 * The pidfile: its lock tells a live proxy from a stale file. The lock is
 * an open-file-description lock (F_OFD_SETLK) on the whole file: like flock
 * it belongs to the open file description, survives fork and exec and goes
 * away with the last descriptor, and unlike flock it can be queried
 * (F_OFD_GETLK) without being taken, so status and stop never make a
 * concurrent start fail. Every function returns >= 0 or -errno, never logs.
 */
#ifndef NMP_PIDFILE_H
#define NMP_PIDFILE_H

#include <stdbool.h>
#include <sys/types.h>

#include "errors.h"

/*
 * An existing file that is neither empty nor a pidfile (a decimal pid
 * 1..INT_MAX without a leading zero, optionally followed by one newline:
 * neutron's own daemon writes none) is never truncated nor removed:
 * -NMP_ENOTPID (errors.h).
 */

struct pidfile {
	int dirfd;    /* the pidfile's directory */
	int fd;       /* the pidfile, O_RDWR */
	bool created; /* pidfile_open() made the file */
	char name[256];
};

#define PIDFILE_INIT                                                           \
	{                                                                      \
		-1, -1, false,                                                 \
		{                                                              \
			0                                                      \
		}                                                              \
	}

/*
 * Open the pidfile at the absolute path. With create, missing parent
 * directories are made (0755: pidfiles are public) and the file with 0644,
 * and an existing file must be empty or a pidfile (-NMP_ENOTPID).
 * The file is opened O_NOFOLLOW: a symlink there is -ELOOP. Its directory
 * must pass safefile_check_shared_dir(): not writable by group or others
 * unless sticky (-NMP_EUNSAFE). Once pidfile_confine() was called,
 * see there.
 */
int pidfile_open(const char *path, bool create, struct pidfile *pf);

/*
 * Open the existing pidfile name (one component) in the directory dirfd,
 * which is not taken (the pidfile keeps a duplicate): the checks of
 * pidfile_open() without create, none of pidfile_confine()'s.
 */
int pidfile_open_at(int dirfd, const char *name, struct pidfile *pf);

/*
 * For a pidfile named by a config file of owner (a user, not root), which
 * root must not write where owner could not. The rules, checked on
 * descriptors:
 *  - no component of the path is a symbolic link (-ELOOP);
 *  - the file's directory exists (-ENOENT: it is not made), is not
 *    writable by group or others, sticky or not, and is owned by owner,
 *    or by root below a directory owned by owner (owner could replace
 *    that subtree) (-NMP_EUNSAFE);
 *  - an existing file there is a regular file with one link
 *    (-NMP_EUNSAFE), empty or a pidfile (-NMP_ENOTPID).
 * pidfile_check() tells whether path passes, with *why (static text) on
 * failure; with owner (uid_t)-1 only the existing file is checked
 * (symlink, regular, -NMP_ENOTPID). pidfile_confine() makes every later
 * pidfile_open() of this process enforce the rules for owner.
 */
int pidfile_check(const char *path, uid_t owner, const char **why);
void pidfile_confine(uid_t owner);

/*
 * Take the lock without waiting: -EAGAIN when another description holds
 * it. On success the name still refers to the locked file (a concurrent
 * stop may have unlinked the one we opened: then it is opened again), and
 * that file is empty or a pidfile (-NMP_ENOTPID; the lock is then
 * held until pidfile_close).
 */
int pidfile_lock(struct pidfile *pf);

/* 1 if another open file description holds the lock, 0 if none does. */
int pidfile_locked(const struct pidfile *pf);

/*
 * The pid in the file: -ENODATA when empty or not a pidfile, by the rule
 * of NMP_ENOTPID ("0123" is no pid: a start would not overwrite it).
 */
int pidfile_read(const struct pidfile *pf, pid_t *pid);

/*
 * Truncate and write "<pid>\n"; async-signal-safe (no stdio). A file that
 * holds other data is left alone: -NMP_ENOTPID.
 */
int pidfile_write(const struct pidfile *pf, pid_t pid);

/* Truncate to empty; async-signal-safe. */
int pidfile_clear(const struct pidfile *pf);

/* Remove the pidfile by name, if it is still the file we have open. */
int pidfile_unlink(const struct pidfile *pf);

/*
 * Is pid the proxy for id: its /proc/PID/cmdline has id in it, and it has
 * our pidfile open (checked when /proc lets us see its descriptors).
 * 1 yes, 0 no, -errno when it could not be told.
 */
int pidfile_holder(const struct pidfile *pf, pid_t pid, const char *id);

void pidfile_close(struct pidfile *pf);

#endif
