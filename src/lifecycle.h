/*
 * status and stop: what the pidfile's lock and /proc say of the proxy of
 * one id. Never signals a pid that is not the lock holder's proxy for this
 * id (a recycled or planted pid). No logging; -errno on failure.
 */
#ifndef NMP_LIFECYCLE_H
#define NMP_LIFECYCLE_H

#include <stdbool.h>
#include <sys/types.h>

enum proxy_state {
	PROXY_RUNNING, /* the lock is held by the proxy for this id */
	PROXY_STALE,   /* a pidfile nobody holds */
	PROXY_ABSENT,  /* no pidfile */
	PROXY_UNKNOWN, /* the lock is held, but not by a process we can name */
};

/*
 * *pid is the pid in the file, or 0 when there is none to tell. A pidfile
 * nobody holds with no pid in it is PROXY_ABSENT: a proxy that stopped
 * cleanly but could not remove it (its account may not write the
 * directory) leaves it so.
 */
int lifecycle_probe(
    const char *pid_file, const char *id, enum proxy_state *state, pid_t *pid);

/* The same for the pidfile name in the directory dirfd (pidfile_open_at). */
int lifecycle_probe_at(int dirfd, const char *name, const char *id,
    enum proxy_state *state, pid_t *pid);

struct stop_result {
	pid_t pid;   /* the process stopped, 0 when none was running */
	bool killed; /* SIGTERM was not enough */
	bool absent; /* there was no pidfile */
};

/*
 * SIGTERM the proxy, wait up to timeout_s for its lock to go, then SIGKILL
 * and wait up to 5 s more; remove the pidfile. Not running is success.
 * -ESTALE: the lock holder is not the proxy for id (nothing signalled);
 * -ETIMEDOUT: it survived SIGKILL; -EAGAIN: a new proxy took the lock
 * meanwhile; -EINPROGRESS: the lock is held but no pid came within 1 s (a
 * proxy still starting).
 */
int lifecycle_stop(const char *pid_file, const char *id,
    unsigned long timeout_s, struct stop_result *res);

#endif
