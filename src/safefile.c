#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "fd.h"
#include "safefile.h"
#include "banned.h"

/* ".<name>.tmp-XXXXXX": the name plus a dot, ".tmp-" and the random part. */
#define TMP_SUFFIX ".tmp-"
#define TMP_RANDOM 6
#define TMP_OVERHEAD (1 + (sizeof(TMP_SUFFIX) - 1) + TMP_RANDOM)
/* O_EXCL collisions with 62^6 names are rare; give up after this many. */
#define TMP_TRIES 100

/* One path component: not empty, no '/', not "." or "..". */
static bool
valid_component(const char *name)
{
	if (name == NULL || name[0] == '\0')
		return false;
	if (strchr(name, '/') != NULL)
		return false;
	return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/*
 * Fill out[0..len) with characters from [A-Za-z0-9]. The modulo bias does
 * not matter: the name only has to be unlikely to collide, O_EXCL is what
 * makes it safe.
 */
static int
random_chars(char *out, size_t len)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                               "abcdefghijklmnopqrstuvwxyz"
	                               "0123456789";
	unsigned char buf[TMP_RANDOM];
	size_t got = 0, i;
	ssize_t n;

	if (len > sizeof(buf))
		return -EINVAL;
	while (got < len) {
		n = getrandom(buf + got, len - got, 0);
		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			return -e;
		}
		got += (size_t)n;
	}
	for (i = 0; i < len; i++)
		out[i] = alphabet[buf[i] % (sizeof(alphabet) - 1)];
	return 0;
}

/* Is entry a temporary of name: ".<name>.tmp-" followed by anything? */
static bool
is_temp_of(const char *entry, const char *name, size_t nlen)
{
	if (entry[0] != '.')
		return false;
	/* strncmp stops at the end of entry, so entry+1+nlen stays in it. */
	if (strncmp(entry + 1, name, nlen) != 0)
		return false;
	entry += 1 + nlen;
	return strncmp(entry, TMP_SUFFIX, sizeof(TMP_SUFFIX) - 1) == 0;
}

int
safefile_open_base(const char *path, int *fd_out)
{
	struct stat st;
	int fd, r;

	if (path == NULL || path[0] != '/' || fd_out == NULL)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		/* Linux says ENOTDIR for a symlink here: report what it is. */
		if (r == -ENOTDIR && lstat(path, &st) == 0 &&
		    S_ISLNK(st.st_mode))
			r = -ELOOP;
		return r;
	}
	*fd_out = fd;
	return 0;
}

int
safefile_open_dir(int basefd, const char *name, bool create, int *fd_out)
{
	struct stat st;
	bool created = false;
	int fd = -1, r;

	if (!valid_component(name) || fd_out == NULL)
		return -EINVAL;
	if (create) {
		if (mkdirat(basefd, name, 0700) == 0) {
			created = true;
		} else {
			r = -errno;
			if (r != -EEXIST)
				goto out;
		}
	}
	/* A symlink at name fails here (ELOOP, or ENOTDIR: see below). */
	fd = openat(
	    basefd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		/* Linux says ENOTDIR for a symlink here: report what it is. */
		if (r == -ENOTDIR &&
		    fstatat(basefd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			r = -ELOOP;
		if (r != -EACCES || !created)
			goto out;
		/*
		 * A umask with 0400 in it left the directory we just made
		 * unreadable to an unprivileged owner, so there is no fd to
		 * fchmod. Fix the mode by name, never through a symlink, and
		 * open again; the checks below still apply.
		 */
		if (fchmodat(basefd, name, 0700, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			goto out;
		}
		fd = openat(basefd, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			goto out;
		}
	}
	/* mkdirat's mode went through the umask; set the one we mean. */
	if (created && fchmod(fd, 0700) < 0) {
		r = -errno;
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISDIR(st.st_mode) ||
	    (st.st_uid != geteuid() && st.st_uid != 0) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		r = -NMP_EUNSAFE;
		goto out;
	}
	*fd_out = fd;
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

int
safefile_check_shared_dir(int dirfd)
{
	struct stat st;

	if (fstat(dirfd, &st) < 0)
		return -errno;
	/* Anyone who may write it could put a file or a link there first. */
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    (st.st_mode & S_ISVTX) == 0)
		return -NMP_EUNSAFE;
	return 0;
}

int
safefile_replace(int dirfd, const char *name, const void *data, size_t len)
{
	char tmp[NAME_MAX + 1];
	bool have_tmp = false;
	int fd = -1, n, r, i;

	if (!valid_component(name) || (data == NULL && len > 0))
		return -EINVAL;
	if (strlen(name) > NAME_MAX - TMP_OVERHEAD)
		return -ENAMETOOLONG;
	n = snprintf(tmp, sizeof(tmp), ".%s" TMP_SUFFIX "XXXXXX", name);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;

	for (i = 0;; i++) {
		if (i == TMP_TRIES) {
			r = -EEXIST;
			goto out;
		}
		r = random_chars(tmp + n - TMP_RANDOM, TMP_RANDOM);
		if (r < 0)
			goto out;
		/* O_EXCL: never an existing file, never through a symlink. */
		fd = openat(dirfd, tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			break;
		r = -errno;
		if (r != -EEXIST)
			goto out;
	}
	have_tmp = true;

	/* The create mode went through the umask; set the one we mean. */
	if (fchmod(fd, 0600) < 0) {
		r = -errno;
		goto out;
	}
	r = fd_write_all(fd, data, len);
	if (r < 0)
		goto out;
	if (fsync(fd) < 0) {
		r = -errno;
		goto out;
	}
	/* close can report a delayed write error (NFS); never retry it. */
	r = close(fd) < 0 ? -errno : 0;
	fd = -1;
	if (r < 0)
		goto out;
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		r = -errno;
		goto out;
	}
	have_tmp = false;
	/*
	 * The new file is in place from here on; a failed directory fsync
	 * means the rename may not survive a crash. Report it: the caller
	 * sees an error although a reader of name already gets the new data.
	 */
	r = fsync(dirfd) < 0 ? -errno : 0;
out:
	if (fd >= 0)
		close(fd);
	/* The first error is the one reported; the unlink is best effort. */
	if (have_tmp)
		unlinkat(dirfd, tmp, 0);
	return r;
}

int
safefile_remove_temps(int dirfd, const char *name)
{
	struct dirent *de;
	DIR *d = NULL;
	size_t nlen;
	int fd = -1, ret = 0, e;

	if (!valid_component(name))
		return -EINVAL;
	nlen = strlen(name);
	/* fdopendir takes ownership of its fd: give it a fresh one. */
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (d == NULL) {
		ret = -errno;
		goto out;
	}
	fd = -1;
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			e = errno;
			if (e != 0 && ret >= 0)
				ret = -e;
			break;
		}
		if (!is_temp_of(de->d_name, name, nlen))
			continue;
		/* Flag 0: a symlink is removed itself, a directory refused. */
		if (unlinkat(dirfd, de->d_name, 0) < 0) {
			e = errno;
			if (e != ENOENT && ret >= 0)
				ret = -e;
		}
	}
out:
	if (d != NULL) {
		closedir(d);
		d = NULL;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

int
safefile_remove(int dirfd, const char *name)
{
	struct stat st;
	int ret, r, e;

	if (!valid_component(name))
		return -EINVAL;

	if (unlinkat(dirfd, name, 0) == 0) {
		ret = 1;
	} else {
		e = errno;
		ret = e == ENOENT ? 0 : -e;
		/* POSIX allows EPERM for a directory; Linux says EISDIR. */
		if (e == EPERM &&
		    fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode))
			ret = -EISDIR;
	}
	/* Stray temporaries of a failed or killed replace. */
	r = safefile_remove_temps(dirfd, name);
	if (r < 0 && ret >= 0)
		ret = r;
	return ret;
}
