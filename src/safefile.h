/*
 * Files on disk, worked through directory file descriptors: never a path
 * walk below the base, never a symlink followed, modes set explicitly so the
 * process umask does not matter. Every function returns 0 (or a documented
 * positive value) on success and a negative errno on failure; none logs.
 * A directory that exists but is unsafe (foreign owner, group- or
 * world-writable) is -NMP_EUNSAFE; a symlink where a directory or file
 * should be is -ELOOP or -ENOTDIR, as the kernel reports it.
 */
#ifndef NMP_SAFEFILE_H
#define NMP_SAFEFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "errors.h"

/*
 * Open an existing absolute directory path as the base for the calls below:
 * O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC (its last component must not be a
 * symlink). The caller owns *fd_out and closes it.
 */
int safefile_open_base(const char *path, int *fd_out);

/*
 * Open directory `name` (one component) in basefd. If missing and create is
 * true it is made with mode 0700 (fchmod'ed, so the umask does not matter).
 * The directory must be a real directory (not a symlink: -ELOOP or
 * -ENOTDIR), owned by the effective uid or by root, and not writable by group
 * or others: else -NMP_EUNSAFE. The caller owns *fd_out.
 */
int safefile_open_dir(int basefd, const char *name, bool create, int *fd_out);

/*
 * The rule for a directory that holds a file of ours by name without being
 * ours (a pidfile's, a log file's directory): group or others may not
 * write it, unless it is sticky, as /tmp is, where they cannot remove or
 * rename what is not theirs. 0 when dirfd passes, -NMP_EUNSAFE when it
 * does not, -errno when it cannot be told (fstat).
 */
int safefile_check_shared_dir(int dirfd);

/*
 * Atomically replace `name` in dirfd with len bytes of data, mode 0600: a
 * fresh temporary ".<name>.tmp-XXXXXX" made with O_CREAT|O_EXCL|O_NOFOLLOW,
 * written whole, fsync'ed, renameat onto name, then the directory fsync'ed.
 * On any failure before the rename the previous file is untouched and the
 * temporary is gone; if only the final directory fsync fails, the new file
 * is in place and that error is returned. A file size limit below len is
 * -EFBIG like any write error, when SIGXFSZ is ignored (else it kills).
 */
int safefile_replace(int dirfd, const char *name, const void *data, size_t len);

/*
 * Remove every temporary of `name` (".<name>.tmp-*") from dirfd: what a
 * replace killed between its create and its rename leaves. The caller must
 * know that no replace of name is under way. 0, or -errno (the first
 * failure).
 */
int safefile_remove_temps(int dirfd, const char *name);

/*
 * Remove `name` from dirfd and any temporary of it (".<name>.tmp-*").
 * Returns 1 if name was removed, 0 if it was already gone, or -errno (the
 * first failure; a directory at name is -EISDIR).
 */
int safefile_remove(int dirfd, const char *name);

#endif
