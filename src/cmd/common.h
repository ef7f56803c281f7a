/*
 * What the commands share: the accounts, the config's place on disk, the
 * log, the pidfile lock, the namespace, and the words and exit code of a
 * failed start. Each logs its own failure once and returns an exit code
 * (0: done), by the policy of errors.h.
 */
#ifndef NMP_CMD_COMMON_H
#define NMP_CMD_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "daemon_conf.h"
#include "launch.h"
#include "pidfile.h"
#include "proxy_conf.h"
#include "strbuf.h"

#define CONFIG_NAME_MAX 64

/* The proxy's account, resolved. */
struct names {
	char user[OPT_NAME_MAX + 1];
	char group[OPT_NAME_MAX + 1];
	uid_t uid;
	gid_t gid;
};

/* "<base>/<name>" without a double slash when base is "/". */
int join(char *out, size_t outsz, const char *base, const char *name);

/* The config directory, file name and path of this id (PATH_MAX each). */
int config_paths(const struct proxy_conf *p, const struct daemon_conf *d,
    char *dirpath, char *name, char *path);

int resolve_names(const struct daemon_conf *d, struct names *nm);

/* Resolve the accounts and render; on success the caller owns *text. */
int render_text(const struct proxy_conf *p, const struct daemon_conf *d,
    struct strbuf *text);

/* haproxy at --haproxy-path or in the system directories, into out. */
int find_haproxy(const struct daemon_conf *d, char *out, size_t outsz);

/* --log-file/--log-dir, --use-syslog; a daemon without a file: syslog. */
int setup_logging(const struct proxy_conf *p, const struct daemon_conf *d);

/* Open and lock the pidfile: a second start of this id fails here. */
int lock_pidfile(const struct daemon_conf *d, struct pidfile *pf);

/* Remove the config of this id; quiet (loud false): log nothing. */
int remove_config(
    const struct proxy_conf *p, const struct daemon_conf *d, bool loud);

/* "/run/netns/NAME", which must exist: a missing namespace is bad input. */
int netns_path(const struct daemon_conf *d, char *out, size_t outsz);

/*
 * Enter the namespace netns (a path; "" stays here) and bind the network's
 * listeners there: 0, or -1 with *f set.
 */
int listen_in(const struct proxy_conf *p, const struct daemon_conf *d,
    const char *netns, int *fds, int *nfds, struct launch_failure *f);

/* The exit code of a failed launch step. */
int launch_exit_code(const struct launch_failure *f);

/* One line for a failed start of engine ("haproxy", ...) for p. */
void log_start_failure(const struct proxy_conf *p, const struct daemon_conf *d,
    const char *engine, const char *netns, const struct launch_failure *f,
    const char *what);

/*
 * What a start made so far. A failed start undoes it in one place,
 * start_finish(); a start that succeeded only closes what it holds.
 */
struct start_state {
	struct pidfile pf;
	bool locked;   /* the lock is ours, and so a pidfile we made */
	bool made_dir; /* the config directory is ours */
};

#define START_STATE_INIT                                                       \
	{                                                                      \
		PIDFILE_INIT, false, false                                     \
	}

/* Undo what a failed start (code != 0) made; close. Returns code. */
int start_finish(const struct proxy_conf *p, const struct daemon_conf *d,
    struct start_state *s, int code);

/* Remove the config directory a failed run made, if it is still empty. */
void unmake_config_dir(const struct daemon_conf *d, enum flavor flavor);

#endif
