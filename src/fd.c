#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fd.h"
#include "banned.h"

/* Where close_range(2) is missing, the loop stops here. */
#define FD_LOOP_MAX 4096U

int
safe_close(int fd)
{
	int saved = errno;

	if (fd >= 0)
		(void)close(fd);
	errno = saved;
	return -1;
}

void
fd_close_range(unsigned int lo, unsigned int hi)
{
	unsigned int fd;

	if (lo > hi)
		return;
	if (syscall(SYS_close_range, lo, hi, 0U) == 0)
		return;
	for (fd = lo; fd <= hi && fd < FD_LOOP_MAX; fd++)
		(void)close((int)fd);
}

void
fd_close_all_except(const int *keep, size_t n)
{
	unsigned int lo = 3, k;
	size_t i, j;
	int best;

	/* Walk the kept descriptors upwards, closing the gaps between. */
	for (i = 0; i < n; i++) {
		best = -1;
		for (j = 0; j < n; j++)
			if (keep[j] >= (int)lo && (best < 0 || keep[j] < best))
				best = keep[j];
		if (best < 0)
			break;
		k = (unsigned int)best;
		if (k > lo)
			fd_close_range(lo, k - 1);
		lo = k + 1;
	}
	fd_close_range(lo, ~0U);
}

int
fd_write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len > SSIZE_MAX ? (size_t)SSIZE_MAX : len);
		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			return -e;
		}
		/* A regular file never accepts 0 bytes of a non-empty write. */
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
fd_cloexec(int fd, bool on)
{
	int fl;

	if (fd < 0)
		return 0;
	fl = fcntl(fd, F_GETFD);
	if (fl < 0 ||
	    fcntl(fd, F_SETFD, on ? fl | FD_CLOEXEC : fl & ~FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

/*
 * Read /proc/PID/<what> whole (up to bufsz - 1 bytes). buf is all zeros
 * past what was read, and on failure too.
 */
ssize_t
fd_read_proc(pid_t pid, const char *what, char *buf, size_t bufsz)
{
	char path[64];
	ssize_t n, total = 0;
	int fd, len;

	if (bufsz == 0)
		return -EINVAL;
	memset(buf, 0, bufsz);
	len = snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	if (len < 0 || (size_t)len >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((size_t)total < bufsz - 1) {
		n = read(fd, buf + total, bufsz - 1 - (size_t)total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += n;
	}
	(void)close(fd);
	buf[total] = '\0';
	return total;
}
