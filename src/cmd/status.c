#include <errno.h>
#include <stdio.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sysexits.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "errors.h"
#include "lifecycle.h"
#include "log.h"
#include "metadata.h"
#include "strbuf.h"
#include "banned.h"

int
cmd_status(const struct proxy_conf *p, const struct daemon_conf *d)
{
	enum proxy_state state;
	pid_t pid = 0;
	int r;

	r = lifecycle_probe(d->pid_file, p->id, &state, &pid);
	if (r < 0) {
		log_err("cannot read pidfile '%s': %s", d->pid_file,
		    error_describe(r, OP_READ));
		return 4; /* LSB: status unknown */
	}
	switch (state) {
	case PROXY_RUNNING:
		printf("running: pid %d\n", (int)pid);
		r = 0;
		break;
	case PROXY_STALE:
		printf("dead: stale pidfile '%s'\n", d->pid_file);
		r = 1;
		break;
	case PROXY_ABSENT:
		printf("not running\n");
		r = 3;
		break;
	case PROXY_UNKNOWN:
	default:
		printf("unknown: pidfile '%s' is locked, but pid %d is not "
		       "the proxy for %s\n",
		    d->pid_file, (int)pid, p->id);
		r = 4;
		break;
	}
	return fflush(stdout) != 0 ? 4 : r;
}

/*
 * The stopped engine's control socket (<pidfile>.ctl), which its account
 * may not have been allowed to remove: only a socket, never through a link.
 */
static void
remove_control_socket(const struct daemon_conf *d)
{
	char path[PATH_MAX];
	struct stat st;

	if (d->pid_file[0] == '\0' ||
	    STR_CONCAT(path, sizeof(path), d->pid_file, MD_CONTROL_SUFFIX) <
	        0 ||
	    lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return;
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("cannot remove the control socket '%s': %s", path,
		    strerror(errno));
}

int
cmd_stop(const struct proxy_conf *p, const struct daemon_conf *d)
{
	struct stop_result res;
	int code, r;

	r = lifecycle_stop(d->pid_file, p->id, d->stop_timeout, &res);
	if (r == -EINPROGRESS) {
		log_err("not stopping: the proxy of pidfile '%s' is still "
		        "starting; try again",
		    d->pid_file);
		return EX_TEMPFAIL;
	}
	if (r == -ESTALE) {
		log_err("not stopping: pidfile '%s' is locked, but the pid in "
		        "it is not the proxy for %s; nothing was signalled",
		    d->pid_file, p->id);
		return EX_CONFIG;
	}
	if (r == -EAGAIN) {
		log_err("not removing pidfile '%s': a new proxy took it",
		    d->pid_file);
		return EX_TEMPFAIL;
	}
	if (r < 0) {
		log_err("cannot stop the proxy of pidfile '%s': %s",
		    d->pid_file,
		    r == -ETIMEDOUT ? "still running after SIGKILL"
		                    : error_describe(r, OP_READ));
		/* A symlink or unsafe pidfile: 78 as for run; a timeout: 71. */
		return error_exit_code(r, OP_READ);
	}
	if (res.pid != 0)
		log_info("stopped pid %d%s", (int)res.pid,
		    res.killed ? " with SIGKILL" : "");
	remove_control_socket(d);
	code = remove_config(p, d, true);
	/*
	 * Success for LSB, but say it: a wrong --pid-file shows here. (A
	 * failure says only what failed: one line.)
	 */
	if (code == 0 && res.absent)
		log_warn("not running: no pidfile at '%s'", d->pid_file);
	return code;
}

int
cmd_cleanup(const struct proxy_conf *p, const struct daemon_conf *d)
{
	return remove_config(p, d, true);
}
