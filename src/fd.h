/*
 * Descriptors: closing one without losing errno, closing ranges and all
 * but a few (async-signal-safe: the launcher calls these between fork and
 * exec); writing and reading whole.
 */
#ifndef NMP_FD_H
#define NMP_FD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Close fd when it is one (>= 0), errno kept; returns -1, so that
 * "fd = safe_close(fd);" leaves nothing to close twice.
 */
int safe_close(int fd);

/* Close every descriptor from lo to hi, both included. */
void fd_close_range(unsigned int lo, unsigned int hi);

/*
 * Close every descriptor above 2 but the n in keep (the built-in engine
 * does not exec, so nothing else it inherited may stay open).
 */
void fd_close_all_except(const int *keep, size_t n);

/* Write all len bytes, through short writes and EINTR; 0 or -errno. */
int fd_write_all(int fd, const void *buf, size_t len);

/* FD_CLOEXEC on fd set (on) or cleared; -1 does nothing. 0 or -errno. */
int fd_cloexec(int fd, bool on);

/*
 * Read /proc/PID/<what> whole (up to bufsz - 1 bytes, NUL-terminated):
 * its length, or -errno. buf is all zeros past what was read, and on
 * failure too.
 */
ssize_t fd_read_proc(pid_t pid, const char *what, char *buf, size_t bufsz);

#endif
