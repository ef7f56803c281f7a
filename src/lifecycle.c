#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "lifecycle.h"
#include "pidfile.h"
#include "banned.h"

#define POLL_MS 20
#define KILL_WAIT_S 5UL
#define START_WAIT_MS 1000

/* What the lock and /proc say of the pidfile pf, open; closes it. */
static int
probe(struct pidfile *pf, const char *id, enum proxy_state *state, pid_t *pid)
{
	pid_t p = 0;
	int r;

	r = pidfile_locked(pf);
	if (r < 0)
		goto out;
	(void)pidfile_read(pf, &p);
	if (r == 0) {
		*state = p != 0 ? PROXY_STALE : PROXY_ABSENT;
	} else {
		r = p != 0 ? pidfile_holder(pf, p, id) : 0;
		if (r < 0)
			goto out;
		*state = r == 1 ? PROXY_RUNNING : PROXY_UNKNOWN;
	}
	*pid = p;
	r = 0;
out:
	pidfile_close(pf);
	return r;
}

int
lifecycle_probe(
    const char *pid_file, const char *id, enum proxy_state *state, pid_t *pid)
{
	struct pidfile pf = PIDFILE_INIT;
	int r;

	r = pidfile_open(pid_file, false, &pf);
	if (r == -ENOENT) {
		*state = PROXY_ABSENT;
		*pid = 0;
		return 0;
	}
	if (r < 0)
		return r;
	return probe(&pf, id, state, pid);
}

int
lifecycle_probe_at(int dirfd, const char *name, const char *id,
    enum proxy_state *state, pid_t *pid)
{
	struct pidfile pf = PIDFILE_INIT;
	int r;

	r = pidfile_open_at(dirfd, name, &pf);
	if (r == -ENOENT) {
		*state = PROXY_ABSENT;
		*pid = 0;
		return 0;
	}
	if (r < 0)
		return r;
	return probe(&pf, id, state, pid);
}

static void
nap(void)
{
	struct timespec ts = {0, POLL_MS * 1000000L};

	(void)nanosleep(&ts, NULL);
}

/* Wait up to ms for the lock to be free: 1 freed, 0 still held. */
static int
wait_unlocked(const struct pidfile *pf, unsigned long ms)
{
	unsigned long waited = 0;
	int r;

	for (;;) {
		r = pidfile_locked(pf);
		if (r <= 0)
			return r < 0 ? r : 1;
		if (waited >= ms)
			return 0;
		nap();
		waited += POLL_MS;
	}
}

/* A starting proxy holds the lock before it writes its pid: wait a bit. */
static int
read_pid_soon(const struct pidfile *pf, pid_t *pid)
{
	unsigned long waited = 0;

	while (pidfile_read(pf, pid) < 0) {
		if (pidfile_locked(pf) != 1)
			return -EAGAIN;
		if (waited >= START_WAIT_MS)
			return -EINPROGRESS;
		nap();
		waited += POLL_MS;
	}
	return 0;
}

static int
signal_holder(const struct pidfile *pf, pid_t pid, const char *id, int sig)
{
	int r = pidfile_holder(pf, pid, id);

	if (r < 0)
		return r;
	if (r == 0)
		return -ESTALE;
	if (kill(pid, sig) < 0 && errno != ESRCH)
		return -errno;
	return 0;
}

int
lifecycle_stop(const char *pid_file, const char *id, unsigned long timeout_s,
    struct stop_result *res)
{
	struct pidfile pf = PIDFILE_INIT;
	struct stat st;
	pid_t pid = 0;
	int r;

	memset(res, 0, sizeof(*res));
	r = pidfile_open(pid_file, false, &pf);
	if (r == -ENOENT) {
		res->absent = true;
		return 0;
	}
	if (r < 0)
		return r;
	r = pidfile_locked(&pf);
	if (r < 0)
		goto out;
	if (r == 1) {
		r = read_pid_soon(&pf, &pid);
		if (r < 0)
			goto out;
		r = signal_holder(&pf, pid, id, SIGTERM);
		if (r < 0)
			goto out;
		res->pid = pid;
		r = wait_unlocked(&pf, timeout_s * 1000);
		if (r == 0) {
			r = signal_holder(&pf, pid, id, SIGKILL);
			if (r < 0 && r != -ESTALE)
				goto out;
			res->killed = true;
			r = wait_unlocked(&pf, KILL_WAIT_S * 1000);
			if (r == 0)
				r = -ETIMEDOUT;
		}
		if (r < 0)
			goto out;
	}
	/*
	 * The built-in engine removes its own pidfile when it stops: then
	 * there is nothing left to lock or remove (locking would make the
	 * file again, and a start racing with us would see it locked).
	 */
	if (res->pid != 0 &&
	    fstatat(pf.dirfd, pf.name, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
	    errno == ENOENT) {
		r = 0;
		goto out;
	}
	/* Ours now: a start racing with us sees a held lock, not a hole. */
	r = pidfile_lock(&pf);
	if (r < 0)
		goto out;
	r = pidfile_unlink(&pf);
out:
	pidfile_close(&pf);
	return r;
}
