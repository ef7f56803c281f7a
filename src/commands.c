#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "commands.h"
#include "engine/engine.h"
#include "identity.h"
#include "launch.h"
#include "lifecycle.h"
#include "notify.h"
#include "pidfile.h"
#include "log.h"
#include "render.h"
#include "safefile.h"
#include "strbuf.h"
#include "banned.h"

#define CHECK_DIR_TEMPLATE "/tmp/ns-metadata-proxy-check.XXXXXX"

struct names {
	char user[OPT_NAME_MAX + 1];
	char group[OPT_NAME_MAX + 1];
	uid_t uid;
	gid_t gid;
};

int
commands_exit_for(int err, bool creating)
{
	switch (-err) {
	case EACCES:
	case EPERM:
		return EX_NOPERM;
	case ELOOP:
	case ENOTDIR:
	case EISDIR:
	case SAFEFILE_EUNSAFE:
		return EX_CONFIG;
	case EIO:
		return EX_IOERR;
	case ENOENT:
	case ENOSPC:
	case EDQUOT:
	case EROFS:
	case EEXIST:
	case EMLINK:
	case ENAMETOOLONG:
	case EBUSY:
		return creating ? EX_CANTCREAT : EX_IOERR;
	default:
		return EX_OSERR;
	}
}

static const char *
describe(int err)
{
	if (-err == SAFEFILE_EUNSAFE)
		return "unsafe: must be a directory owned by us or root and "
		       "not writable by group or others";
	if (-err == ELOOP)
		return "is a symbolic link";
	return strerror(-err);
}

/* "<base>/<name>" without a double slash when base is "/". */
static int
join(char *out, size_t outsz, const char *base, const char *name)
{
	int n = STR_CONCAT(
	    out, outsz, strcmp(base, "/") == 0 ? "" : base, "/", name);

	return n < 0 ? n : 0;
}

#define CONFIG_NAME_MAX 64

/* The config directory, file name and path of this id (PATH_MAX each). */
static int
config_paths(const struct options *o, char *dirpath, char *name, char *path)
{
	if (join(dirpath, PATH_MAX, o->state_path,
	        render_config_dir(o->flavor)) < 0 ||
	    render_config_name(o, name, CONFIG_NAME_MAX) < 0 ||
	    join(path, PATH_MAX, dirpath, name) < 0)
		return -ENAMETOOLONG;
	return 0;
}

static int
resolve_names(const struct options *o, struct names *nm)
{
	int r;

	r = identity_user(o->user, nm->user, sizeof(nm->user), &nm->uid);
	if (r < 0) {
		log_err("cannot use --metadata-proxy-user '%s': %s",
		    o->user[0] != '\0' ? o->user : "(effective uid)",
		    r == -ENOENT   ? "no such user"
		    : r == -EINVAL ? "resolved name is not a safe user name"
		                   : strerror(-r));
		return r == -ENOENT   ? EX_NOUSER
		       : r == -EINVAL ? EX_DATAERR
		                      : EX_OSERR;
	}
	r = identity_group(o->group, nm->group, sizeof(nm->group), &nm->gid);
	if (r < 0) {
		log_err("cannot use --metadata-proxy-group '%s': %s",
		    o->group[0] != '\0' ? o->group : "(effective gid)",
		    r == -ENOENT   ? "no such group"
		    : r == -EINVAL ? "resolved name is not a safe group name"
		                   : strerror(-r));
		return r == -ENOENT   ? EX_NOUSER
		       : r == -EINVAL ? EX_DATAERR
		                      : EX_OSERR;
	}
	return 0;
}

/* Resolve the accounts and render; on success the caller owns *text. */
static int
render_text(const struct options *o, struct strbuf *text)
{
	struct names nm;
	int code, r;

	code = resolve_names(o, &nm);
	if (code != 0)
		return code;
	r = render_config(o, nm.user, nm.group, text);
	if (r < 0) {
		log_err("cannot render config: %s", strerror(-r));
		strbuf_release(text);
		return EX_OSERR;
	}
	return 0;
}

static int
cmd_render(const struct options *o)
{
	struct strbuf text = STRBUF_INIT;
	int code;

	code = render_text(o, &text);
	if (code != 0)
		return code;
	if (fwrite(text.buf, 1, text.len, stdout) != text.len ||
	    fflush(stdout) != 0) {
		log_err("cannot write config to standard output: %s",
		    strerror(errno));
		code = EX_IOERR;
	}
	strbuf_release(&text);
	return code;
}

/*
 * Open the config directory under the state path, making it when missing
 * (*made says so); the caller owns *dfd. The state path must exist and the
 * directory be safe (DESIGN.md, "Files on disk").
 */
static int
open_config_dir(const struct options *o, int *dfd, bool *made)
{
	char dirpath[PATH_MAX], name[CONFIG_NAME_MAX], path[PATH_MAX];
	struct stat st;
	int base = -1, code = 0, r;

	if (config_paths(o, dirpath, name, path) < 0) {
		log_err("cannot write config under '%s': %s", o->state_path,
		    strerror(ENAMETOOLONG));
		return EX_DATAERR;
	}
	r = safefile_open_base(o->state_path, &base);
	if (r < 0) {
		log_err("cannot open --state-path '%s': %s", o->state_path,
		    describe(r));
		return commands_exit_for(r, true);
	}
	*made = fstatat(base, render_config_dir(o->flavor), &st,
	            AT_SYMLINK_NOFOLLOW) < 0 &&
	        errno == ENOENT;
	r = safefile_open_dir(base, render_config_dir(o->flavor), true, dfd);
	if (r < 0) {
		log_err("cannot use config directory '%s': %s", dirpath,
		    describe(r));
		code = commands_exit_for(r, true);
	}
	(void)close(base);
	return code;
}

/* Remove the config directory a failed run made, if it is still empty. */
static void
unmake_config_dir(const struct options *o)
{
	int base = -1;

	if (safefile_open_base(o->state_path, &base) < 0)
		return;
	(void)unlinkat(base, render_config_dir(o->flavor), AT_REMOVEDIR);
	(void)close(base);
}

/* Write the config into the open config directory; its path goes to path. */
static int
write_config(
    const struct options *o, int dfd, const struct strbuf *text, char *path)
{
	char dirpath[PATH_MAX], name[CONFIG_NAME_MAX];
	int r;

	if (config_paths(o, dirpath, name, path) < 0)
		return EX_DATAERR;
	r = safefile_replace(dfd, name, text->buf, text->len);
	if (r < 0) {
		log_err("cannot write config '%s': %s", path, describe(r));
		return commands_exit_for(r, true);
	}
	/*
	 * Temporaries of this config that a run killed mid-write left: the
	 * pidfile lock is ours, so no other run of this id is writing one.
	 * Best effort: the config is in place either way.
	 */
	(void)safefile_remove_temps(dfd, name);
	return 0;
}

static int
find_haproxy(const struct options *o, char *out, size_t outsz)
{
	int r = launch_find_haproxy(o->haproxy_path, out, outsz);

	if (r == 0)
		return 0;
	if (o->haproxy_path[0] != '\0')
		log_err("cannot use --haproxy-path '%s': %s", o->haproxy_path,
		    r == -EACCES  ? "not a regular executable file"
		    : r == -EPERM ? "unsafe: writable by group or others, or "
		                    "not owned by root or us"
		                  : strerror(-r));
	else
		log_err("cannot find haproxy in /usr/sbin, /usr/local/sbin, "
		        "/usr/bin, /usr/local/bin, /sbin: %s",
		    r == -ENOENT   ? "not installed"
		    : r == -EACCES ? "not a regular executable file"
		    : r == -EPERM  ? "unsafe: writable by group or others, or "
		                     "not owned by root or us"
		                   : strerror(-r));
	return r == -EPERM ? EX_CONFIG : EX_UNAVAILABLE;
}

static int
verdict(const struct options *o, const char *haproxy, int status)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		printf("config for %s %s is valid (%s -c)\n",
		    o->id_kind == ID_NETWORK ? "network" : "router", o->id,
		    haproxy);
		return fflush(stdout) != 0 ? EX_IOERR : 0;
	}
	if (WIFEXITED(status) &&
	    (WEXITSTATUS(status) == 126 || WEXITSTATUS(status) == 127)) {
		log_err("cannot execute '%s'", haproxy);
		return WEXITSTATUS(status);
	}
	if (WIFEXITED(status))
		log_err("haproxy rejected the config for %s: exit status %d",
		    o->id, WEXITSTATUS(status));
	else
		log_err("haproxy checking the config for %s died of signal %d",
		    o->id, WTERMSIG(status));
	return EX_DATAERR;
}

/* --log-file/--log-dir, --use-syslog; a daemon without a file: syslog. */
static int
setup_logging(const struct options *o)
{
	char path[PATH_MAX];
	int r;

	if (o->log_file[0] == '/')
		r = STR_CONCAT(path, sizeof(path), o->log_file);
	else if (o->log_file[0] != '\0')
		r = join(path, sizeof(path), o->log_dir, o->log_file);
	else if (o->log_dir[0] != '\0')
		r = STR_CONCAT(path, sizeof(path), o->log_dir,
		    strcmp(o->log_dir, "/") == 0 ? "" : "/",
		    "ns-metadata-proxy-", o->id, ".log");
	else
		r = 1; /* no file */
	if (r < 0) {
		log_err("cannot open log file under '%s': %s", o->log_dir,
		    strerror(-r));
		return EX_CANTCREAT;
	}
	if (r != 1) {
		r = log_to_file(path);
		if (r < 0) {
			log_err(
			    "cannot open log file '%s': %s", path, describe(r));
			return commands_exit_for(r, true);
		}
	}
	if (o->use_syslog || (o->daemonize && log_file_fd() < 0))
		log_to_syslog(o->syslog_facility);
	return 0;
}

static int
exit_for_launch(const struct launch_failure *f)
{
	switch (f->stage) {
	case LAUNCH_NETNS_OPEN:
		if (f->err == ENOENT)
			return EX_DATAERR;
		return f->err == EACCES || f->err == EPERM ? EX_NOPERM
		                                           : EX_OSERR;
	case LAUNCH_NETNS_ENTER:
		return f->err == EPERM ? EX_NOPERM : EX_OSERR;
	case LAUNCH_EXEC:
		return f->err == ENOENT ? 127 : 126;
	default:
		return EX_OSERR;
	}
}

static int
lock_pidfile(const struct options *o, struct pidfile *pf)
{
	pid_t pid = 0;
	int r;

	r = pidfile_open(o->pid_file, true, pf);
	if (r < 0) {
		log_err(
		    "cannot open pidfile '%s': %s", o->pid_file, describe(r));
		return commands_exit_for(r, true);
	}
	r = pidfile_lock(pf);
	if (r == -EINPROGRESS) {
		log_err("not stopping: the proxy of pidfile '%s' is still "
		        "starting; try again",
		    o->pid_file);
		return EX_TEMPFAIL;
	}
	if (r == -EAGAIN) {
		(void)pidfile_read(pf, &pid);
		if (pid != 0)
			log_err("cannot start: already running as pid %d "
			        "(pidfile '%s')",
			    (int)pid, o->pid_file);
		else
			log_err("cannot start: pidfile '%s' is locked by a "
			        "starting proxy",
			    o->pid_file);
		return EX_TEMPFAIL;
	}
	if (r < 0) {
		log_err(
		    "cannot lock pidfile '%s': %s", o->pid_file, describe(r));
		return EX_OSERR;
	}
	return 0;
}

/* Remove the config of this id; quiet: log nothing (a start failed). */
static int
remove_config(const struct options *o, bool loud)
{
	const char *dir = render_config_dir(o->flavor);
	char dirpath[PATH_MAX], name[CONFIG_NAME_MAX], path[PATH_MAX];
	int base = -1, dfd = -1, code = 0, r;

	if (config_paths(o, dirpath, name, path) < 0)
		return EX_DATAERR;
	r = safefile_open_base(o->state_path, &base);
	if (r == -ENOENT)
		goto out; /* nothing was ever written: already clean */
	if (r < 0) {
		if (loud)
			log_err("cannot open --state-path '%s': %s",
			    o->state_path, describe(r));
		code = commands_exit_for(r, false);
		goto out;
	}
	r = safefile_open_dir(base, dir, false, &dfd);
	if (r == -ENOENT)
		goto out;
	if (r < 0) {
		if (loud)
			log_err("cannot use config directory '%s': %s", dirpath,
			    describe(r));
		code = commands_exit_for(r, false);
		goto out;
	}
	r = safefile_remove(dfd, name);
	if (r < 0) {
		if (loud)
			log_err(
			    "cannot remove config '%s': %s", path, describe(r));
		code = commands_exit_for(r, false);
		goto out;
	}
	log_debug("%s '%s'", r == 1 ? "removed" : "already gone:", path);
out:
	if (dfd >= 0)
		(void)close(dfd);
	if (base >= 0)
		(void)close(base);
	return code;
}

/* "/run/netns/NAME", which must exist: a missing namespace is bad input. */
static int
netns_path(const struct options *o, char *out, size_t outsz)
{
	if (STR_CONCAT(out, outsz, "/run/netns/", o->netns) < 0)
		return EX_DATAERR;
	if (access(out, F_OK) < 0) {
		log_err("cannot use --netns '%s': '%s': %s", o->netns, out,
		    errno == ENOENT ? "no such network namespace"
		                    : strerror(errno));
		return errno == ENOENT   ? EX_DATAERR
		       : errno == EACCES ? EX_NOPERM
		                         : EX_OSERR;
	}
	return 0;
}

static int
exit_for_engine(const struct launch_failure *f)
{
	if (f->stage == LAUNCH_BIND)
		return f->err == EACCES || f->err == EPERM ? EX_NOPERM
		       : f->err == EADDRINUSE || f->err == EADDRNOTAVAIL
		           ? EX_UNAVAILABLE
		           : EX_OSERR;
	if (f->stage == LAUNCH_PRIVILEGES)
		return EX_NOPERM;
	return exit_for_launch(f);
}

/*
 * The steps of the built-in engine's process, in the daemon when
 * daemonized: namespace, bind, drop privileges, pid, serve.
 */
static int
serve_builtin(const struct options *o, const struct names *nm,
    const char *netns, struct pidfile *pf, int report)
{
	struct launch_failure f = {0, 0};
	const char *what = "";
	struct engine_ctx *e = NULL;
	int r;

	int keep[4] = {pf->fd, pf->dirfd, report, log_file_fd()};

	/* No exec here: what the caller left open must not stay with us. */
	launch_close_fds_except(keep, 4);
	if (netns[0] != '\0' && launch_enter_netns(netns, &f) < 0)
		goto fail;
	e = engine_new(o, &r, &what);
	if (e == NULL) {
		f.stage = LAUNCH_BIND;
		f.err = -r;
		goto fail;
	}
	what = ""; /* engine_new's steps all passed: not theirs to name */
	r = engine_drop_privileges(nm->uid, nm->gid);
	if (r < 0) {
		f.stage = LAUNCH_PRIVILEGES;
		f.err = -r;
		goto fail;
	}
	if (pf->fd >= 0 && pidfile_write(pf, getpid()) < 0) {
		f.stage = LAUNCH_PIDFILE;
		f.err = EIO;
		goto fail;
	}
	if (report >= 0) {
		launch_daemon_ready(report, NULL);
		log_quiet_stderr(); /* stderr is the log file or /dev/null */
	}
	log_info("serving %s %s on %s port %u%s%s for %s",
	    o->id_kind == ID_NETWORK ? "network" : "router", o->id,
	    o->bind_address, o->port,
	    o->bind_address_v6[0] != '\0' ? " and " : "", o->bind_address_v6,
	    o->socket_path);
	/* Listening since engine_new(): connections wait in the backlog. */
	if (report < 0)
		notify_ready("serving");
	r = engine_run(e);
	engine_free(e);
	if (pf->fd >= 0)
		(void)pidfile_clear(pf);
	return r < 0 ? EX_OSERR : 0;
fail:
	engine_free(e);
	if (report >= 0) {
		launch_daemon_ready(report, &f);
		return exit_for_engine(&f);
	}
	log_err("cannot start the built-in engine for %s: %s%s%s: %s", o->id,
	    launch_stage_name(f.stage), what[0] != '\0' ? ": " : "", what,
	    strerror(f.err));
	return exit_for_engine(&f);
}

static int
run_builtin(const struct options *o)
{
	struct pidfile pf = PIDFILE_INIT;
	struct launch_failure f = {0, 0};
	char netns[PATH_MAX] = "";
	struct names nm;
	int code, report = -1, r;
	bool locked = false;

	code = setup_logging(o);
	if (code != 0)
		return code;
	if (o->netns[0] != '\0') {
		code = netns_path(o, netns, sizeof(netns));
		if (code != 0)
			goto out;
	}
	code = resolve_names(o, &nm);
	if (code != 0)
		goto out;
	/* A haproxy config may name no pidfile (the haproxy command). */
	if (o->pid_file[0] != '\0') {
		code = lock_pidfile(o, &pf);
		if (code != 0)
			goto out;
		locked = true;
	}
	if (o->daemonize) {
		r = launch_daemon(log_file_fd(), &report, &f);
		if (r == 1) {
			locked = false; /* the daemon's now */
			goto out;
		}
		if (r < 0) {
			log_err(
			    "cannot start the built-in engine for %s: %s: %s",
			    o->id, launch_stage_name(f.stage), strerror(f.err));
			code = exit_for_engine(&f);
			goto out;
		}
	}
	code = serve_builtin(o, &nm, netns, &pf, report);
out:
	if (code != 0 && locked && pf.created && pf.dirfd >= 0 && report < 0)
		(void)pidfile_unlink(&pf);
	pidfile_close(&pf);
	return code;
}

static int
cmd_run(const struct options *o)
{
	struct pidfile pf = PIDFILE_INIT;
	struct strbuf text = STRBUF_INIT;
	struct launch_failure f = {0, 0};
	struct launch_spec spec;
	char path[PATH_MAX], haproxy[PATH_MAX];
	int dfd = -1, code, r;
	bool locked = false, made_dir = false;

	if (o->engine == ENGINE_BUILTIN)
		return run_builtin(o);
	code = setup_logging(o);
	if (code != 0)
		return code;
	/*
	 * Everything that can be checked without writing is checked first;
	 * then the lock, before anything is written: a second start must
	 * not touch the running one.
	 */
	memset(&spec, 0, sizeof(spec));
	code = find_haproxy(o, haproxy, sizeof(haproxy));
	if (code != 0)
		goto out;
	if (o->netns[0] != '\0') {
		code = netns_path(o, spec.netns_path, sizeof(spec.netns_path));
		if (code != 0)
			goto out;
	}
	code = render_text(o, &text);
	if (code != 0)
		goto out;
	/* A missing state path or an unsafe config directory: nothing made. */
	code = open_config_dir(o, &dfd, &made_dir);
	if (code != 0)
		goto out;
	code = lock_pidfile(o, &pf);
	if (code != 0)
		goto out;
	locked = true;
	code = write_config(o, dfd, &text, path);
	if (code != 0)
		goto out;
	spec.haproxy = haproxy;
	spec.config = path;
	spec.pidfile = &pf;
	spec.daemonize = o->daemonize;
	spec.log_fd = log_file_fd();
	log_info("starting %s -f %s%s%s%s", haproxy, path,
	    o->netns[0] != '\0' ? " in network namespace " : "", o->netns,
	    o->daemonize ? " as a daemon" : "");
	/*
	 * In the foreground haproxy takes our pid, but not our environment,
	 * and says nothing itself: everything we can check has passed, which
	 * is all READY=1 can mean here (haproxy's own failure to bind ends
	 * the process, and a service with it).
	 */
	if (!o->daemonize)
		notify_ready("starting haproxy");
	r = launch_haproxy(&spec, &f);
	if (r == 0)
		goto out; /* the daemon is haproxy now */
	log_err("cannot start haproxy for %s: %s%s%s: %s", o->id,
	    launch_stage_name(f.stage), f.stage == LAUNCH_NETNS_OPEN ? " " : "",
	    f.stage == LAUNCH_NETNS_OPEN ? spec.netns_path : "",
	    strerror(f.err));
	code = exit_for_launch(&f);
	/* Not started: the config of a proxy that does not run goes. */
	(void)remove_config(o, false);
out:
	/* A pidfile this start made and locked goes with it. */
	if (code != 0 && locked && pf.created && pf.dirfd >= 0)
		(void)pidfile_unlink(&pf);
	if (dfd >= 0)
		(void)close(dfd);
	/* A refused start leaves no config directory it made behind. */
	if (code != 0 && made_dir)
		unmake_config_dir(o);
	strbuf_release(&text);
	pidfile_close(&pf);
	return code;
}

static int
cmd_check(const struct options *o)
{
	static char arg_check[] = "-c", arg_quiet[] = "-q", arg_file[] = "-f";
	struct strbuf text = STRBUF_INIT;
	char haproxy[PATH_MAX], dir[] = CHECK_DIR_TEMPLATE;
	char name[CONFIG_NAME_MAX], path[PATH_MAX];
	char *argv[6];
	sigset_t old;
	int dfd = -1, code, status = 0, r;
	bool made = false;

	code = find_haproxy(o, haproxy, sizeof(haproxy));
	if (code != 0)
		return code;
	code = render_text(o, &text);
	if (code != 0)
		return code;
	if (render_config_name(o, name, sizeof(name)) < 0 ||
	    launch_hold_signals(&old) < 0) {
		strbuf_release(&text);
		return EX_OSERR;
	}
	if (mkdtemp(dir) == NULL) {
		log_err("cannot create temporary directory '%s': %s", dir,
		    strerror(errno));
		code = commands_exit_for(-errno, true);
		goto out;
	}
	made = true;
	r = safefile_open_base(dir, &dfd);
	if (r >= 0)
		r = safefile_replace(dfd, name, text.buf, text.len);
	if (r >= 0)
		r = join(path, sizeof(path), dir, name);
	if (r < 0) {
		log_err("cannot write temporary config in '%s': %s", dir,
		    describe(r));
		code = commands_exit_for(r, true);
		goto out;
	}
	argv[0] = haproxy;
	argv[1] = arg_check;
	argv[2] = arg_quiet;
	argv[3] = arg_file;
	argv[4] = path;
	argv[5] = NULL;
	r = launch_run_wait(argv, &status);
	if (r < 0) {
		log_err("cannot run '%s': %s", haproxy, strerror(-r));
		code = EX_OSERR;
		goto out;
	}
	code = verdict(o, haproxy, status);
out:
	if (dfd >= 0) {
		(void)safefile_remove(dfd, name);
		(void)close(dfd);
	}
	if (made && rmdir(dir) < 0)
		log_warn("cannot remove temporary directory '%s': %s", dir,
		    strerror(errno));
	strbuf_release(&text);
	launch_release_signals(&old);
	return code;
}

static int
cmd_status(const struct options *o)
{
	enum proxy_state state;
	pid_t pid = 0;
	int r;

	r = lifecycle_probe(o->pid_file, o->id, &state, &pid);
	if (r < 0) {
		log_err(
		    "cannot read pidfile '%s': %s", o->pid_file, describe(r));
		return 4; /* LSB: status unknown */
	}
	switch (state) {
	case PROXY_RUNNING:
		printf("running: pid %d\n", (int)pid);
		r = 0;
		break;
	case PROXY_STALE:
		printf("dead: stale pidfile '%s'\n", o->pid_file);
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
		    o->pid_file, (int)pid, o->id);
		r = 4;
		break;
	}
	return fflush(stdout) != 0 ? 4 : r;
}

static int
cmd_stop(const struct options *o)
{
	struct stop_result res;
	int r;

	r = lifecycle_stop(o->pid_file, o->id, o->stop_timeout, &res);
	if (r == -ESTALE) {
		log_err("not stopping: pidfile '%s' is locked, but the pid in "
		        "it is not the proxy for %s; nothing was signalled",
		    o->pid_file, o->id);
		return EX_CONFIG;
	}
	if (r == -EAGAIN) {
		log_err("not removing pidfile '%s': a new proxy took it",
		    o->pid_file);
		return EX_TEMPFAIL;
	}
	if (r < 0) {
		log_err("cannot stop the proxy of pidfile '%s': %s",
		    o->pid_file,
		    r == -ETIMEDOUT ? "still running after SIGKILL"
		                    : describe(r));
		/* A symlink or unsafe pidfile: 78 as for run; a timeout: 71. */
		return commands_exit_for(r, false);
	}
	if (res.pid != 0)
		log_info("stopped pid %d%s", (int)res.pid,
		    res.killed ? " with SIGKILL" : "");
	return remove_config(o, true);
}

int
commands_run(const struct options *o)
{
	switch (o->command) {
	case CMD_RENDER:
		return cmd_render(o);
	case CMD_RUN:
		return cmd_run(o);
	case CMD_CHECK:
		return cmd_check(o);
	case CMD_CLEANUP:
		return remove_config(o, true);
	case CMD_STATUS:
		return cmd_status(o);
	case CMD_STOP:
		return cmd_stop(o);
	}
	return EX_SOFTWARE;
}
