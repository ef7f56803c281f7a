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
#include "listener.h"
#include "notify.h"
#include "pidfile.h"
#include "log.h"
#include "render.h"
#include "safefile.h"
#include "strbuf.h"
#include "validate.h"
#include "banned.h"

#define CHECK_DIR_TEMPLATE "/tmp/ns-metadata-proxy-check.XXXXXX"
/* A path in a message: more would not fit log.c's line anyway. */
#define SHOWN_PATH_MAX 512

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
	case PIDFILE_ENOTPID:
		return EX_CONFIG;
	case EIO:
		return EX_IOERR;
	case ENOENT:
	case ENOSPC:
	case EDQUOT:
	case EFBIG: /* RLIMIT_FSIZE: SIGXFSZ is ignored */
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
	if (-err == PIDFILE_ENOTPID)
		return "not a pidfile: it holds other data";
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
	/* fclose reports what a file system kept back until the close. */
	if (fwrite(text.buf, 1, text.len, stdout) != text.len ||
	    fflush(stdout) != 0 || fclose(stdout) != 0) {
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
	char path[PATH_MAX], shown[SHOWN_PATH_MAX * 4 + 8];
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
		if (r == -SAFEFILE_EUNSAFE) {
			/* The pidfile directory's rule: name what set it. */
			bool file_set = o->log_file[0] == '/';

			validate_escape(file_set ? o->log_file : o->log_dir,
			    SHOWN_PATH_MAX, shown, sizeof(shown));
			log_err("cannot use --%s '%s': %swritable by group or "
			        "others without the sticky bit",
			    file_set ? "log-file" : "log-dir", shown,
			    file_set ? "its directory is " : "");
			return EX_CONFIG;
		}
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
	case LAUNCH_NETNS_TYPE:
		return EX_DATAERR; /* --netns names something else */
	case LAUNCH_EXEC:
		return f->err == ENOENT ? 127 : 126;
	case LAUNCH_PIDFILE:
		/* No room for the pid (full disk, RLIMIT_FSIZE): as a write. */
		return commands_exit_for(-f->err, true);
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
		return commands_exit_for(r, true);
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

/* The listen() backlog: haproxy's maxconn, which it also uses. */
static int
backlog_of(const struct options *o)
{
	return o->maxconn > 0 && o->maxconn <= 65535 ? (int)o->maxconn : 1024;
}

/*
 * Bind the listeners of o in the current network namespace, for either
 * engine: fds[0] on --bind-address, fds[1] on --bind-address-v6 when set.
 * On failure nothing stays open and *f names the listener.
 */
static int
open_listeners(
    const struct options *o, int *fds, int *n, struct launch_failure *f)
{
	int r;

	*n = 0;
	r = listener_open(
	    o->bind_address, o->port, NULL, backlog_of(o), &fds[0]);
	if (r < 0)
		goto fail;
	*n = 1;
	if (o->bind_address_v6[0] == '\0')
		return 0;
	r = listener_open(o->bind_address_v6, o->port, o->bind_interface,
	    backlog_of(o), &fds[1]);
	if (r < 0) {
		(void)close(fds[0]);
		fds[0] = -1;
		goto fail;
	}
	*n = 2;
	return 0;
fail:
	f->stage = LAUNCH_BIND;
	f->err = -r;
	f->which = *n;
	*n = 0;
	return r;
}

/*
 * The words after a failed step, naming its object: " 127.0.0.1 port
 * 9697" for a listener, " /run/netns/NAME" for a namespace, else "".
 */
static const char *
failure_object(const struct options *o, const char *netns,
    const struct launch_failure *f, char *buf, size_t len)
{
	int n = 0;

	if (f->stage == LAUNCH_BIND && f->which == 0)
		n = snprintf(buf, len, " on %s%s%s port %u",
		    o->bind_v6 ? "[" : "", o->bind_address,
		    o->bind_v6 ? "]" : "", o->port);
	else if (f->stage == LAUNCH_BIND)
		n = snprintf(buf, len, " on [%s]%%%s port %u",
		    o->bind_address_v6, o->bind_interface, o->port);
	else if (f->stage == LAUNCH_NETNS_OPEN ||
	         f->stage == LAUNCH_NETNS_ENTER)
		n = snprintf(buf, len, " %s", netns);
	else
		buf[0] = '\0';
	if (n < 0 || (size_t)n >= len)
		buf[0] = '\0';
	return buf;
}

static void
log_start_failure(const struct options *o, const char *engine,
    const char *netns, const struct launch_failure *f, const char *what)
{
	char obj[PATH_MAX + 64];

	if (f->stage == LAUNCH_NETNS_TYPE) {
		log_err(
		    "cannot use --netns '%s': '%s': not a network namespace",
		    o->netns, netns);
		return;
	}
	/* The pidfile's own errors (PIDFILE_ENOTPID) have no strerror(). */
	log_err("cannot start %s for %s: %s%s%s%s: %s", engine, o->id,
	    launch_stage_name(f->stage),
	    failure_object(o, netns, f, obj, sizeof(obj)),
	    what[0] != '\0' ? ": " : "", what,
	    f->stage == LAUNCH_PIDFILE ? describe(-f->err) : strerror(f->err));
}

/*
 * The steps of the built-in engine's process, in the daemon when
 * daemonized: namespace, bind, drop privileges, pid, serve. A clean stop
 * removes the pidfile (when the dropped account may: else empties it).
 */
static int
serve_builtin(const struct options *o, const struct names *nm,
    const char *netns, struct pidfile *pf, int report)
{
	struct launch_failure f = {0, 0, 0, false};
	const char *what = "";
	struct engine_ctx *e = NULL;
	int fds[LAUNCH_LISTEN_MAX] = {-1, -1};
	int nfds = 0, r;

	int keep[4] = {pf->fd, pf->dirfd, report, log_file_fd()};

	/*
	 * No exec here: what the caller left open must not stay with us. The
	 * syslog socket is libc's: it is closed and connected again around
	 * this, never closed behind libc's back.
	 */
	log_syslog_suspend();
	launch_close_fds_except(keep, 4);
	log_syslog_resume();
	if (netns[0] != '\0' && launch_enter_netns(netns, &f) < 0)
		goto fail;
	if (open_listeners(o, fds, &nfds, &f) < 0)
		goto fail;
	/* Listening from here: connections wait in the backlog. */
	e = engine_new(o, fds, nfds, &r, &what);
	if (e == NULL) {
		f.stage = LAUNCH_ENGINE;
		f.err = -r;
		goto fail;
	}
	what = ""; /* engine_new's steps all passed: not theirs to name */
	/*
	 * Everything is open: the caller's working directory stays free (a
	 * daemon is in "/" already).
	 */
	if (chdir("/") < 0) {
		f.stage = LAUNCH_CHDIR;
		f.err = errno;
		goto fail;
	}
	r = engine_drop_privileges(nm->uid, nm->gid);
	if (r < 0) {
		f.stage = LAUNCH_PRIVILEGES;
		f.err = -r;
		goto fail;
	}
	if (pf->fd >= 0) {
		r = pidfile_write(pf, getpid());
		if (r < 0) {
			f.stage = LAUNCH_PIDFILE;
			f.err = -r;
			goto fail;
		}
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
	if (report < 0)
		notify_ready("serving");
	r = engine_run(e);
	engine_free(e);
	/*
	 * Stopped: status says "not running", not "dead". An account that
	 * may not write the pidfile's directory empties the file instead,
	 * which status reads the same way.
	 */
	if (pf->fd >= 0 && pidfile_unlink(pf) < 0)
		(void)pidfile_clear(pf);
	return r < 0 ? EX_OSERR : 0;
fail:
	engine_free(e);
	if (report >= 0) {
		launch_daemon_ready(report, &f);
		return exit_for_engine(&f);
	}
	log_start_failure(o, "the built-in engine", netns, &f, what);
	return exit_for_engine(&f);
}

static int
run_builtin(const struct options *o)
{
	struct pidfile pf = PIDFILE_INIT;
	struct launch_failure f = {0, 0, 0, false};
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
	/* After the drop the proxy's account must be able to reopen it. */
	r = log_file_chown(nm.uid, nm.gid);
	if (r < 0)
		log_warn("cannot give the log file to user %s: %s; it cannot "
		         "be reopened on SIGHUP after dropping privileges",
		    nm.user,
		    r == -EPERM ? "not a regular file of ours with one link"
		                : strerror(-r));
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
			log_start_failure(
			    o, "the built-in engine", netns, &f, "");
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
	struct launch_failure f = {0, 0, 0, false};
	struct launch_spec spec;
	char path[PATH_MAX], haproxy[PATH_MAX], netns[PATH_MAX] = "";
	int dfd = -1, code, r, i;
	bool locked = false, made_dir = false;

	if (o->engine == ENGINE_BUILTIN)
		return run_builtin(o);
	memset(&spec, 0, sizeof(spec));
	code = setup_logging(o);
	if (code != 0)
		return code;
	/*
	 * Everything that can be checked without writing is checked first;
	 * then the lock, before anything is written: a second start must
	 * not touch the running one.
	 */
	code = find_haproxy(o, haproxy, sizeof(haproxy));
	if (code != 0)
		goto out;
	if (o->netns[0] != '\0') {
		code = netns_path(o, netns, sizeof(netns));
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
	/*
	 * haproxy serves the listeners we bind (bind fd@N): in the namespace,
	 * before the config is written, so a busy address changes nothing.
	 */
	if ((netns[0] != '\0' && launch_enter_netns(netns, &f) < 0) ||
	    open_listeners(o, spec.listen_fds, &spec.nlisten, &f) < 0) {
		log_start_failure(o, "haproxy", netns, &f, "");
		code = exit_for_engine(&f);
		goto out;
	}
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
	 * The listeners queue clients from here on, and haproxy takes our pid
	 * in the foreground: READY=1 is true now (haproxy's own failure ends
	 * the process, and a service with it).
	 */
	if (!o->daemonize)
		notify_ready("starting haproxy");
	/* haproxy gets no descriptor of ours but the listeners and the lock. */
	log_syslog_suspend();
	r = launch_haproxy(&spec, &f);
	log_syslog_resume();
	if (r == 0)
		goto out; /* the daemon is haproxy now */
	if (!o->daemonize && f.moved) {
		/* Rearranged for haproxy: only these are ours now. */
		pf.fd = LAUNCH_LOCK_FD;
		pf.dirfd = pf.dirfd >= 0 ? LAUNCH_CARRY_DIR_FD : -1;
		if (spec.log_fd >= 0)
			log_file_renumber(LAUNCH_CARRY_LOG_FD);
		dfd = -1;
		for (i = 0; i < spec.nlisten; i++)
			spec.listen_fds[i] = LAUNCH_LISTEN_FD + i;
	}
	log_start_failure(o, "haproxy", netns, &f, "");
	code = exit_for_engine(&f);
	/* Not started: the config of a proxy that does not run goes. */
	(void)remove_config(o, false);
out:
	for (i = 0; i < spec.nlisten; i++)
		(void)close(spec.listen_fds[i]);
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
	int fds[LAUNCH_LISTEN_MAX], nfds = 0;
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
	/* The config names its listeners as bind fd@N: give it stand-ins. */
	r = listener_placeholder(o->bind_address, &fds[0]);
	if (r >= 0)
		nfds = 1;
	if (r >= 0 && o->bind_address_v6[0] != '\0') {
		r = listener_placeholder(o->bind_address_v6, &fds[1]);
		if (r >= 0)
			nfds = 2;
	}
	if (r >= 0)
		r = launch_run_wait(argv, fds, nfds, &status);
	if (r < 0) {
		log_err("cannot run '%s': %s", haproxy, strerror(-r));
		code = EX_OSERR;
		goto out;
	}
	code = verdict(o, haproxy, status);
out:
	while (nfds > 0)
		(void)close(fds[--nfds]);
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
	int code, r;

	r = lifecycle_stop(o->pid_file, o->id, o->stop_timeout, &res);
	if (r == -EINPROGRESS) {
		log_err("not stopping: the proxy of pidfile '%s' is still "
		        "starting; try again",
		    o->pid_file);
		return EX_TEMPFAIL;
	}
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
	code = remove_config(o, true);
	/*
	 * Success for LSB, but say it: a wrong --pid-file shows here. (A
	 * failure says only what failed: one line.)
	 */
	if (code == 0 && res.absent)
		log_warn("not running: no pidfile at '%s'", o->pid_file);
	return code;
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
