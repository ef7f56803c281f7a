#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "cmd/handoff.h"
#include "defaults.h"
#include "engine/engine.h"
#include "errors.h"
#include "fd.h"
#include "fleet/ctl.h"
#include "fleet/server.h"
#include "launch.h"
#include "listener.h"
#include "log.h"
#include "metadata.h"
#include "notify.h"
#include "pidfile.h"
#include "safefile.h"
#include "strbuf.h"
#include "banned.h"

/*
 * Open the config directory under the state path, making it when missing
 * (*made says so); the caller owns *dfd. The state path must exist and the
 * directory be safe (DESIGN.md, "Files on disk").
 */
static int
open_config_dir(const struct proxy_conf *p, const struct daemon_conf *d,
    int *dfd, bool *made)
{
	char dirpath[PATH_MAX], name[CONFIG_NAME_MAX], path[PATH_MAX];
	struct stat st;
	int base = -1, code = 0, r;

	if (config_paths(p, d, dirpath, name, path) < 0) {
		log_err("cannot write config under '%s': %s", d->state_path,
		    strerror(ENAMETOOLONG));
		return EX_DATAERR;
	}
	r = safefile_open_base(d->state_path, &base);
	if (r < 0) {
		log_err("cannot open --state-path '%s': %s", d->state_path,
		    error_describe(r, OP_READ));
		return error_exit_code(r, OP_CREATE);
	}
	*made = fstatat(base, md_config_dir(p->flavor), &st,
	            AT_SYMLINK_NOFOLLOW) < 0 &&
	        errno == ENOENT;
	r = safefile_open_dir(base, md_config_dir(p->flavor), true, dfd);
	if (r < 0) {
		log_err("cannot use config directory '%s': %s", dirpath,
		    error_describe(r, OP_READ));
		code = error_exit_code(r, OP_CREATE);
	}
	(void)close(base);
	return code;
}

/* Write the config into the open config directory; its path goes to path. */
static int
write_config(const struct proxy_conf *p, const struct daemon_conf *d, int dfd,
    const struct strbuf *text, char *path)
{
	char dirpath[PATH_MAX], name[CONFIG_NAME_MAX];
	int r;

	if (config_paths(p, d, dirpath, name, path) < 0)
		return EX_DATAERR;
	r = safefile_replace(dfd, name, text->buf, text->len);
	if (r < 0) {
		log_err("cannot write config '%s': %s", path,
		    error_describe(r, OP_CREATE));
		return error_exit_code(r, OP_CREATE);
	}
	/*
	 * Temporaries of this config that a run killed mid-write left: the
	 * pidfile lock is ours, so no other run of this id is writing one.
	 * Best effort: the config is in place either way.
	 */
	(void)safefile_remove_temps(dfd, name);
	return 0;
}

/* The haproxy front's bind while its address is the fleet's: 2 s. */
#define BIND_RETRIES 40
#define BIND_RETRY_NS 50000000L

/*
 * An engine serving the network's listeners fds (its from here, also on
 * failure); NULL with *f (and *what, for the engine's own steps) set.
 */
static struct engine *
open_engine(const struct proxy_conf *p, const struct daemon_conf *d, int *fds,
    int nfds, struct launch_failure *f, const char **what)
{
	struct engine *e;
	int r, i;

	e = engine_new(d, &r, what);
	if (e == NULL) {
		for (i = 0; i < nfds; i++)
			fds[i] = safe_close(fds[i]);
	} else if (engine_add_frontend(e, p, fds, nfds, &r, what) == NULL) {
		engine_free(e);
		e = NULL;
	}
	if (e == NULL) {
		f->stage = LAUNCH_ENGINE;
		f->err = -r;
	}
	return e;
}

/*
 * The control socket next to the pidfile (<pidfile>.ctl): the fleet's
 * protocol, for this one network (list, show, metrics, health), to root
 * and the proxy's group. Made as the caller is, before privileges drop; a
 * failure is said once and the proxy serves without it.
 */
static struct fleet_server *
single_control(const struct proxy_conf *p, const struct daemon_conf *d,
    const struct names *nm, struct engine *e, char *path, size_t pathsz)
{
	struct fleet_server *s = NULL;
	struct frontend *f = engine_find_frontend(e, p->id);
	int fd = -1, n, r;

	path[0] = '\0';
	if (d->pid_file[0] == '\0' || f == NULL)
		return NULL;
	n = STR_CONCAT(path, pathsz, d->pid_file, MD_CONTROL_SUFFIX);
	if (n < 0 ||
	    (size_t)n >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
		log_warn("no control socket: '%s%s' is too long for a unix "
		         "socket",
		    d->pid_file, MD_CONTROL_SUFFIX);
		path[0] = '\0';
		return NULL;
	}
	r = ctl_listen(path, nm->gid, &fd);
	if (r < 0) {
		log_warn("no control socket at '%s': %s", path,
		    r == -EADDRINUSE ? "a process answers there"
		                     : strerror(-r));
		path[0] = '\0';
		return NULL;
	}
	s = fleet_server_new(e, fd, nm->gid, "/run/netns", &r);
	if (s != NULL && (r = fleet_server_adopt(s, f, p)) < 0) {
		fleet_server_free(s);
		s = NULL;
	}
	if (s == NULL) {
		/* Ours: made a moment ago. */
		log_warn("no control socket at '%s': %s", path, strerror(-r));
		(void)unlink(path);
		path[0] = '\0';
	}
	return s;
}

/*
 * The steps of the built-in engine's process, in the daemon when
 * daemonized: namespace, bind, drop privileges, pid, serve. A clean stop
 * removes the pidfile (when the dropped account may: else empties it).
 */
static int
serve_builtin(const struct proxy_conf *p, const struct daemon_conf *d,
    const struct handoff *h, const struct names *nm, const char *netns,
    struct pidfile *pf, int report)
{
	struct launch_failure f = {0, 0, 0, false};
	int fds[LAUNCH_LISTEN_MAX] = {-1, -1};
	const char *what = "";
	struct engine *e = NULL;
	struct fleet_server *ctl = NULL;
	char ctl_path[PATH_MAX];
	const struct timespec retry = {0, BIND_RETRY_NS};
	int nfds = 0, bind_tries = 0, r;

	int keep[4] = {pf->fd, pf->dirfd, report, log_file_fd()};

	/*
	 * No exec here: what the caller left open must not stay with us. The
	 * syslog socket is libc's: it is closed and connected again around
	 * this, never closed behind libc's back.
	 */
	log_syslog_suspend();
	fd_close_all_except(keep, 4);
	log_syslog_resume();
	while (listen_in(p, d, netns, fds, &nfds, &f) < 0) {
		/*
		 * A stub killed a moment ago: the fleet holds its listener
		 * until it reads the hang-up. neutron's monitor may start us
		 * again before that; wait for it, a while.
		 */
		if (h == NULL || f.stage != LAUNCH_BIND ||
		    f.err != EADDRINUSE || ++bind_tries > BIND_RETRIES)
			goto fail;
		(void)nanosleep(&retry, NULL);
		f = (struct launch_failure){0, 0, 0, false};
	}
	/* Listening from here: connections wait in the backlog. */
	if (h != NULL)
		handoff_try(h, p, d, nm, pf, &report, fds, nfds);
	e = open_engine(p, d, fds, nfds, &f, &what);
	if (e == NULL)
		goto fail;
	what = ""; /* the engine's steps all passed: not theirs to name */
	ctl = single_control(p, d, nm, e, ctl_path, sizeof(ctl_path));
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
	    p->id_kind == ID_NETWORK ? "network" : "router", p->id,
	    p->bind_address, p->port,
	    p->bind_address_v6[0] != '\0' ? " and " : "", p->bind_address_v6,
	    p->socket_path);
	if (report < 0)
		notify_ready("serving");
	r = engine_run(e);
	fleet_server_free(ctl);
	if (ctl_path[0] != '\0')
		(void)unlink(ctl_path);
	engine_free(e);
	/*
	 * Stopped: status says "not running", not "dead". An account that
	 * may not write the pidfile's directory empties the file instead,
	 * which status reads the same way; the haproxy front leaves it.
	 */
	if (pf->fd >= 0 && pidfile_unlink(pf) < 0 && !d->keep_pid_at_stop)
		(void)pidfile_clear(pf);
	return r < 0 ? EX_OSERR : 0;
fail:
	fleet_server_free(ctl);
	if (ctl != NULL)
		(void)unlink(ctl_path);
	engine_free(e);
	if (report >= 0) {
		launch_daemon_ready(report, &f);
		return launch_exit_code(&f);
	}
	log_start_failure(p, d, "the built-in engine", netns, &f, what);
	return launch_exit_code(&f);
}

int
cmd_run_builtin(const struct proxy_conf *p, const struct daemon_conf *d,
    const struct handoff *h)
{
	struct start_state s = START_STATE_INIT;
	struct launch_failure f = {0, 0, 0, false};
	char netns[PATH_MAX] = "";
	struct names nm;
	int code, report = -1, r;

	code = setup_logging(p, d);
	if (code != 0)
		return code;
	if (d->netns[0] != '\0') {
		code = netns_path(d, netns, sizeof(netns));
		if (code != 0)
			goto out;
	}
	code = resolve_names(d, &nm);
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
	if (d->pid_file[0] != '\0') {
		code = lock_pidfile(d, &s.pf);
		if (code != 0)
			goto out;
		s.locked = true;
	}
	if (d->daemonize) {
		r = launch_daemon(log_file_fd(), &report, &f);
		if (r == 1) {
			s.locked = false; /* the daemon's now */
			goto out;
		}
		/* In the daemon: a failure is the waiting caller's to undo. */
		if (report >= 0)
			s.locked = false;
		if (r < 0) {
			log_start_failure(
			    p, d, "the built-in engine", netns, &f, "");
			code = launch_exit_code(&f);
			goto out;
		}
	}
	code = serve_builtin(p, d, h, &nm, netns, &s.pf, report);
out:
	return start_finish(p, d, &s, code);
}

/*
 * haproxy on the written config, with the listeners and the lock: in place
 * (returns only on failure) or as a daemon (0 once it runs). On failure
 * the config goes; the descriptors haproxy was to take are where *spec,
 * *s and *dfd say.
 */
static int
exec_haproxy(const struct proxy_conf *p, const struct daemon_conf *d,
    struct start_state *s, struct launch_spec *spec, const char *netns,
    int *dfd)
{
	struct launch_failure f = {0, 0, 0, false};
	int i, r;

	log_info("starting %s -f %s%s%s%s", spec->haproxy, spec->config,
	    d->netns[0] != '\0' ? " in network namespace " : "", d->netns,
	    d->daemonize ? " as a daemon" : "");
	/*
	 * The listeners queue clients from here on, and haproxy takes our pid
	 * in the foreground: READY=1 is true now (haproxy's own failure ends
	 * the process, and a service with it).
	 */
	if (!d->daemonize)
		notify_ready("starting haproxy");
	/* haproxy gets no descriptor of ours but the listeners and the lock. */
	log_syslog_suspend();
	r = launch_haproxy(spec, &f);
	log_syslog_resume();
	if (r == 0)
		return 0; /* the daemon is haproxy now */
	if (!d->daemonize && f.moved) {
		/* Rearranged for haproxy: only these are ours now. */
		s->pf.fd = LAUNCH_LOCK_FD;
		s->pf.dirfd = s->pf.dirfd >= 0 ? LAUNCH_CARRY_DIR_FD : -1;
		if (spec->log_fd >= 0)
			log_file_renumber(LAUNCH_CARRY_LOG_FD);
		*dfd = -1;
		for (i = 0; i < spec->nlisten; i++)
			spec->listen_fds[i] = LAUNCH_LISTEN_FD + i;
	}
	log_start_failure(p, d, "haproxy", netns, &f, "");
	/* Not started: the config of a proxy that does not run goes. */
	(void)remove_config(p, d, false);
	return launch_exit_code(&f);
}

int
cmd_run(const struct proxy_conf *p, const struct daemon_conf *d)
{
	struct start_state s = START_STATE_INIT;
	struct strbuf text = STRBUF_INIT;
	struct launch_failure f = {0, 0, 0, false};
	struct launch_spec spec;
	char path[PATH_MAX], haproxy[PATH_MAX], netns[PATH_MAX] = "";
	int dfd = -1, code, i;

	if (d->engine == ENGINE_BUILTIN)
		return cmd_run_builtin(p, d, NULL);
	memset(&spec, 0, sizeof(spec));
	code = setup_logging(p, d);
	if (code != 0)
		return code;
	/*
	 * Everything that can be checked without writing is checked first;
	 * then the lock, before anything is written: a second start must
	 * not touch the running one.
	 */
	code = find_haproxy(d, haproxy, sizeof(haproxy));
	if (code != 0)
		goto out;
	if (d->netns[0] != '\0') {
		code = netns_path(d, netns, sizeof(netns));
		if (code != 0)
			goto out;
	}
	code = render_text(p, d, &text);
	if (code != 0)
		goto out;
	/* A missing state path or an unsafe config directory: nothing made. */
	code = open_config_dir(p, d, &dfd, &s.made_dir);
	if (code != 0)
		goto out;
	code = lock_pidfile(d, &s.pf);
	if (code != 0)
		goto out;
	s.locked = true;
	/*
	 * haproxy serves the listeners we bind (bind fd@N): in the namespace,
	 * before the config is written, so a busy address changes nothing.
	 */
	if (listen_in(p, d, netns, spec.listen_fds, &spec.nlisten, &f) < 0) {
		log_start_failure(p, d, "haproxy", netns, &f, "");
		code = launch_exit_code(&f);
		goto out;
	}
	code = write_config(p, d, dfd, &text, path);
	if (code != 0)
		goto out;
	spec.haproxy = haproxy;
	spec.config = path;
	spec.pidfile = &s.pf;
	spec.daemonize = d->daemonize;
	spec.log_fd = log_file_fd();
	code = exec_haproxy(p, d, &s, &spec, netns, &dfd);
out:
	for (i = 0; i < spec.nlisten; i++)
		(void)close(spec.listen_fds[i]);
	dfd = safe_close(dfd);
	strbuf_release(&text);
	return start_finish(p, d, &s, code);
}
