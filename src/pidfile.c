#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd.h"
#include "pidfile.h"
#include "safefile.h"
#include "strbuf.h"
#include "validate.h"
#include "banned.h"

#define PID_TEXT_MAX 24
#define LOCK_RETRIES 10

/* pidfile_confine(): a config file of this user named the pidfile. */
static bool confined;
static uid_t confined_owner;

/*
 * The n bytes of buf are a pidfile's content: a pid 1..INT_MAX in decimal
 * without a leading zero, as haproxy, neutron and we write it ("0123" is
 * data, as validate_ulong() says too), and at most one newline (neutron's
 * own daemon writes none). Async-signal-safe: pidfile_write() runs between
 * fork and exec.
 */
static int
parse_pid(const char *buf, size_t n, pid_t *pid)
{
	unsigned long v = 0;
	size_t i, end;

	end = n > 0 && buf[n - 1] == '\n' ? n - 1 : n;
	if (end == 0 || end > 10 || buf[0] == '0')
		return -NMP_ENOTPID;
	for (i = 0; i < end; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -NMP_ENOTPID;
		v = v * 10 + (unsigned long)(buf[i] - '0');
	}
	if (v > INT_MAX)
		return -NMP_ENOTPID;
	*pid = (pid_t)v;
	return 0;
}

/*
 * Up to PID_TEXT_MAX + 1 bytes of the file into buf: more than a pidfile
 * holds, so that a longer file never reads as one.
 */
static ssize_t
read_head(int fd, char *buf)
{
	ssize_t n = pread(fd, buf, PID_TEXT_MAX + 1, 0);

	return n < 0 ? -errno : n;
}

/* Empty, or a pidfile (parse_pid()). Async-signal-safe. */
static int
check_content(int fd)
{
	char buf[PID_TEXT_MAX + 1];
	pid_t pid;
	ssize_t n;

	n = read_head(fd, buf);
	if (n <= 0)
		return (int)n;
	return parse_pid(buf, (size_t)n, &pid);
}

/*
 * Open dir (absolute), making it and its missing parents with 0755. Each
 * level of the recursion strips one component, and depth stops it at 64.
 */
static int
/* NOLINTNEXTLINE(misc-no-recursion): depth bounds it, at 64 levels */
open_dir_p(char *dir, bool create, int depth)
{
	char *slash;
	int fd, r;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (errno != ENOENT || !create || depth > 64)
		return -errno;
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return -ENOENT;
	*slash = '\0';
	r = open_dir_p(dir, create, depth + 1);
	*slash = '/';
	if (r < 0)
		return r;
	(void)close(r);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	/* mkdir's mode passes through the umask: set it explicitly. */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	(void)fchmod(fd, 0755);
	return fd;
}

/*
 * Open dir (absolute) for a pidfile named by owner, following no symbolic
 * link on the way (see pidfile_confine()). Returns the directory's
 * descriptor or -errno with *why.
 */
static int
open_dir_confined(const char *dir, uid_t owner, const char **why)
{
	char buf[PATH_MAX];
	struct stat st, ls;
	char *p = buf, *end;
	bool below_owner = false;
	int fd, nfd, r;

	if (STR_CONCAT(buf, sizeof(buf), dir) < 0) {
		*why = "path too long";
		return -ENAMETOOLONG;
	}
	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		*why = "cannot open '/'";
		return -errno;
	}
	for (;;) {
		if (fstat(fd, &st) < 0) {
			r = -errno;
			*why = "cannot stat its directory";
			goto fail;
		}
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		/* Its owner could replace whatever is below it. */
		if (st.st_uid == owner)
			below_owner = true;
		end = strchr(p, '/');
		if (end != NULL)
			*end = '\0';
		nfd = openat(
		    fd, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0) {
			r = -errno;
			if (fstatat(fd, p, &ls, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(ls.st_mode)) {
				r = -ELOOP;
				*why = "its path goes through a symbolic link";
			} else if (r == -ENOENT) {
				*why = "its directory does not exist";
			} else if (r == -ENOTDIR) {
				*why = "its directory is not a directory";
			} else {
				*why = "cannot open its directory";
			}
			goto fail;
		}
		(void)close(fd);
		fd = nfd;
		p = end != NULL ? end + 1 : p + strlen(p);
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		r = -NMP_EUNSAFE;
		*why = "its directory is writable by group or others";
		goto fail;
	}
	if (st.st_uid != owner && !(st.st_uid == 0 && below_owner)) {
		r = -NMP_EUNSAFE;
		*why = "its directory is owned neither by the config's owner "
		       "nor by root inside a directory of the owner's";
		goto fail;
	}
	/* The walk's descriptors are O_PATH: the pidfile needs a real one. */
	nfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (nfd < 0) {
		r = -errno;
		*why = "cannot open its directory";
		goto fail;
	}
	(void)close(fd);
	return nfd;
fail:
	(void)close(fd);
	return r;
}

static int
open_file(struct pidfile *pf, bool create)
{
	struct stat st;
	int fd, r;
	bool made = false;

	/* Never open a device or FIFO there, even to refuse it. */
	if (fstatat(pf->dirfd, pf->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode))
			return -ELOOP;
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		if (!S_ISREG(st.st_mode))
			return -EINVAL;
	}
	fd = -1;
	if (create) {
		fd = openat(pf->dirfd, pf->name,
		    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0)
			made = true;
		else if (errno != EEXIST)
			return -errno;
	}
	if (fd < 0) {
		fd = openat(pf->dirfd, pf->name,
		    O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			return -errno;
	}
	if (made && fchmod(fd, 0644) < 0) {
		r = -errno;
		goto fail;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto fail;
	}
	if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 ||
	    (confined && st.st_nlink != 1)) {
		r = -NMP_EUNSAFE;
		goto fail;
	}
	/* A start never truncates what is not a pidfile. */
	if (create && !made && (r = check_content(fd)) < 0)
		goto fail;
	/* O_NONBLOCK only kept a FIFO planted there from blocking the open. */
	if (fcntl(fd, F_SETFL, 0) < 0) {
		r = -errno;
		goto fail;
	}
	pf->fd = fd;
	pf->created = made;
	return 0;
fail:
	(void)close(fd);
	return r;
}

int
pidfile_open(const char *path, bool create, struct pidfile *pf)
{
	char dir[PATH_MAX];
	const char *slash;
	int r;

	if (path[0] != '/' || STR_CONCAT(dir, sizeof(dir), path) < 0)
		return -EINVAL;
	slash = strrchr(path, '/');
	if (validate_component(slash + 1, NULL) < 0 ||
	    STR_CONCAT(pf->name, sizeof(pf->name), slash + 1) < 0)
		return -EINVAL;
	dir[slash == path ? 1 : slash - path] = '\0';
	if (confined) {
		const char *why = NULL;

		r = open_dir_confined(dir, confined_owner, &why);
	} else {
		r = open_dir_p(dir, create, 0);
	}
	if (r < 0)
		return r;
	pf->dirfd = r;
	/* Others writing it without the sticky bit could swap the file. */
	r = safefile_check_shared_dir(pf->dirfd);
	if (r < 0)
		goto fail;
	r = open_file(pf, create);
	if (r < 0)
		goto fail;
	return 0;
fail:
	(void)close(pf->dirfd);
	pf->dirfd = -1;
	return r;
}

int
pidfile_open_at(int dirfd, const char *name, struct pidfile *pf)
{
	int r;

	if (validate_component(name, NULL) < 0 ||
	    STR_CONCAT(pf->name, sizeof(pf->name), name) < 0)
		return -EINVAL;
	pf->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (pf->dirfd < 0)
		return -errno;
	r = safefile_check_shared_dir(pf->dirfd);
	if (r == 0)
		r = open_file(pf, false);
	if (r < 0) {
		(void)close(pf->dirfd);
		pf->dirfd = -1;
	}
	return r;
}

int
pidfile_check(const char *path, uid_t owner, const char **why)
{
	char dir[PATH_MAX], name[256];
	const char *slash;
	struct stat st, st2;
	int dfd = -1, fd = -1, r = 0;

	*why = "not an absolute path to a file";
	if (path[0] != '/' || STR_CONCAT(dir, sizeof(dir), path) < 0)
		return -EINVAL;
	slash = strrchr(path, '/');
	if (validate_component(slash + 1, NULL) < 0 ||
	    STR_CONCAT(name, sizeof(name), slash + 1) < 0)
		return -EINVAL;
	dir[slash == path ? 1 : slash - path] = '\0';
	if (owner != (uid_t)-1) {
		dfd = open_dir_confined(dir, owner, why);
		if (dfd < 0)
			return dfd;
	} else {
		/* No directory: pidfile_open() makes it, or says why not. */
		dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return 0;
	}
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = errno == ENOENT ? 0 : -errno;
		*why = "cannot stat it";
		goto out;
	}
	r = -ELOOP;
	*why = "is a symbolic link";
	if (S_ISLNK(st.st_mode))
		goto out;
	r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	*why = S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file";
	if (!S_ISREG(st.st_mode))
		goto out;
	fd = openat(dfd, name,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		*why = r == -ELOOP ? "is a symbolic link" : "cannot open it";
		goto out;
	}
	if (fstat(fd, &st2) < 0 || !S_ISREG(st2.st_mode) ||
	    st2.st_ino != st.st_ino || st2.st_dev != st.st_dev) {
		r = -EAGAIN;
		*why = "it changed while it was checked";
		goto out;
	}
	r = -NMP_EUNSAFE;
	*why = "it has more than one hard link";
	if (owner != (uid_t)-1 && st2.st_nlink != 1)
		goto out;
	r = check_content(fd);
	*why =
	    r == -NMP_ENOTPID ? error_describe(r, OP_READ) : "cannot read it";
out:
	(void)safe_close(fd);
	(void)close(dfd);
	return r;
}

void
pidfile_confine(uid_t owner)
{
	confined = true;
	confined_owner = owner;
}

static struct flock
whole_file(short type)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = 0;
	fl.l_len = 0;
	return fl;
}

/* Does the name still refer to the file we have open? */
static int
same_file(const struct pidfile *pf)
{
	struct stat a, b;

	if (fstat(pf->fd, &a) < 0)
		return -errno;
	if (fstatat(pf->dirfd, pf->name, &b, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int
pidfile_lock(struct pidfile *pf)
{
	struct flock fl;
	int i, r;

	for (i = 0; i < LOCK_RETRIES; i++) {
		fl = whole_file(F_WRLCK);
		if (fcntl(pf->fd, F_OFD_SETLK, &fl) < 0)
			return errno == EACCES ? -EAGAIN : -errno;
		r = same_file(pf);
		if (r < 0)
			return r;
		/* Ours now: nothing writes it if it holds other data. */
		if (r > 0)
			return check_content(pf->fd);
		/* Unlinked under us by a stop: lock the file now there. */
		(void)close(pf->fd);
		pf->fd = -1;
		r = open_file(pf, true);
		if (r < 0)
			return r;
	}
	return -EAGAIN;
}

int
pidfile_locked(const struct pidfile *pf)
{
	struct flock fl = whole_file(F_WRLCK);

	if (fcntl(pf->fd, F_OFD_GETLK, &fl) < 0)
		return -errno;
	return fl.l_type != F_UNLCK;
}

int
pidfile_read(const struct pidfile *pf, pid_t *pid)
{
	char buf[PID_TEXT_MAX + 1];
	ssize_t n;

	/* What a start may overwrite and a stop remove, and nothing else. */
	n = read_head(pf->fd, buf);
	if (n < 0)
		return (int)n;
	if (parse_pid(buf, (size_t)n, pid) < 0)
		return -ENODATA;
	return 0;
}

int
pidfile_write(const struct pidfile *pf, pid_t pid)
{
	char buf[PID_TEXT_MAX];
	size_t i = sizeof(buf);
	unsigned long v = (unsigned long)pid;
	ssize_t n;
	int r;

	buf[--i] = '\n';
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && i > 0);
	r = check_content(pf->fd);
	if (r < 0)
		return r;
	if (ftruncate(pf->fd, 0) < 0)
		return -errno;
	n = pwrite(pf->fd, buf + i, sizeof(buf) - i, 0);
	if (n < 0)
		return -errno; /* EFBIG under RLIMIT_FSIZE, ENOSPC, ... */
	if (n != (ssize_t)(sizeof(buf) - i))
		return -EIO;
	return 0;
}

int
pidfile_clear(const struct pidfile *pf)
{
	return ftruncate(pf->fd, 0) < 0 ? -errno : 0;
}

int
pidfile_unlink(const struct pidfile *pf)
{
	int r = same_file(pf);

	if (r <= 0)
		return r;
	return unlinkat(pf->dirfd, pf->name, 0) < 0 ? -errno : 0;
}

static int
has_our_fd(const struct pidfile *pf, pid_t pid)
{
	struct stat want, st;
	struct dirent *de;
	char path[64];
	DIR *d;
	int found = 0;

	if (fstat(pf->fd, &want) < 0)
		return -errno;
	if (snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid) < 0)
		return -EINVAL;
	d = opendir(path);
	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		/* Following the fd's magic link reaches the open file. */
		if (fstatat(dirfd(d), de->d_name, &st, 0) == 0 &&
		    st.st_dev == want.st_dev && st.st_ino == want.st_ino) {
			found = 1;
			break;
		}
	}
	(void)closedir(d);
	return found;
}

int
pidfile_holder(const struct pidfile *pf, pid_t pid, const char *id)
{
	char cmd[8192];
	ssize_t n, i;
	int r;

	n = fd_read_proc(pid, "cmdline", cmd, sizeof(cmd));
	if (n == -ENOENT || n == -ESRCH)
		return 0;
	if (n < 0)
		return (int)n;
	for (i = 0; i < n; i++)
		if (cmd[i] == '\0')
			cmd[i] = ' ';
	if (strstr(cmd, id) == NULL)
		return 0;
	r = has_our_fd(pf, pid);
	if (r == -EACCES || r == -EPERM)
		return 1; /* not ours to look at: the command line decides */
	if (r == -ENOENT)
		return 0;
	return r;
}

void
pidfile_close(struct pidfile *pf)
{
	if (pf == NULL)
		return;
	pf->fd = safe_close(pf->fd);
	pf->dirfd = safe_close(pf->dirfd);
	pf->fd = -1;
	pf->dirfd = -1;
}
