#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd/common.h"
#include "defaults.h"
#include "errors.h"
#include "fd.h"
#include "identity.h"
#include "listener.h"
#include "log.h"
#include "metadata.h"
#include "render.h"
#include "safefile.h"
#include "validate.h"
#include "banned.h"

/* A path in a message: more would not fit log.c's line anyway. */
#define SHOWN_PATH_MAX 512

int
join(char *out, size_t outsz, const char *base, const char *name)
{
	int n = STR_CONCAT(
	    out, outsz, strcmp(base, "/") == 0 ? "" : base, "/", name);

	return n < 0 ? n : 0;
}

int
config_paths(const struct proxy_conf *p, const struct daemon_conf *d,
    char *dirpath, char *name, char *path)
{
	if (join(dirpath, PATH_MAX, d->state_path, md_config_dir(p->flavor)) <
	        0 ||
	    render_config_name(p, name, CONFIG_NAME_MAX) < 0 ||
	    join(path, PATH_MAX, dirpath, name) < 0)
		return -ENAMETOOLONG;
	return 0;
}

int
resolve_names(const struct daemon_conf *d, struct names *nm)
{
	int r;

	r = identity_user(d->user, nm->user, sizeof(nm->user), &nm->uid);
	if (r < 0) {
		log_err("cannot use --metadata-proxy-user '%s': %s",
		    d->user[0] != '\0' ? d->user : "(effective uid)",
		    error_describe(r, OP_USER));
		return error_exit_code(r, OP_USER);
	}
	r = identity_group(d->group, nm->group, sizeof(nm->group), &nm->gid);
	if (r < 0) {
		log_err("cannot use --metadata-proxy-group '%s': %s",
		    d->group[0] != '\0' ? d->group : "(effective gid)",
		    error_describe(r, OP_GROUP));
		return error_exit_code(r, OP_GROUP);
	}
	return 0;
}

int
render_text(const struct proxy_conf *p, const struct daemon_conf *d,
    struct strbuf *text)
{
	struct names nm;
	int code, r;

	code = resolve_names(d, &nm);
	if (code != 0)
		return code;
	r = render_config(p, d, nm.user, nm.group, text);
	if (r < 0) {
		log_err("cannot render config: %s", strerror(-r));
		strbuf_release(text);
		return EX_OSERR;
	}
	return 0;
}

void
unmake_config_dir(const struct daemon_conf *d, enum flavor flavor)
{
	int base = -1;

	if (safefile_open_base(d->state_path, &base) < 0)
		return;
	(void)unlinkat(base, md_config_dir(flavor), AT_REMOVEDIR);
	(void)close(base);
}

int
find_haproxy(const struct daemon_conf *d, char *out, size_t outsz)
{
	int r = launch_find_haproxy(d->haproxy_path, out, outsz);

	if (r == 0)
		return 0;
	/* A path given that does not exist: the system's words for it. */
	if (d->haproxy_path[0] != '\0')
		log_err("cannot use --haproxy-path '%s': %s", d->haproxy_path,
		    r == -ENOENT ? strerror(ENOENT)
		                 : error_describe(r, OP_FIND_HAPROXY));
	else
		log_err("cannot find haproxy in " MD_HAPROXY_DIRS_TEXT ": %s",
		    error_describe(r, OP_FIND_HAPROXY));
	return error_exit_code(r, OP_FIND_HAPROXY);
}

int
setup_logging(const struct proxy_conf *p, const struct daemon_conf *d)
{
	char path[PATH_MAX], shown[SHOWN_PATH_MAX * 4 + 8];
	int r;

	if (d->log_file[0] == '/')
		r = STR_CONCAT(path, sizeof(path), d->log_file);
	else if (d->log_file[0] != '\0')
		r = join(path, sizeof(path), d->log_dir, d->log_file);
	else if (d->log_dir[0] != '\0')
		r = STR_CONCAT(path, sizeof(path), d->log_dir,
		    strcmp(d->log_dir, "/") == 0 ? "" : "/",
		    "ns-metadata-proxy-", p->id, ".log");
	else
		r = 1; /* no file */
	if (r < 0) {
		log_err("cannot open log file under '%s': %s", d->log_dir,
		    strerror(-r));
		return EX_CANTCREAT;
	}
	if (r != 1) {
		r = log_to_file(path);
		if (r == -NMP_EUNSAFE) {
			/* The pidfile directory's rule: name what set it. */
			bool file_set = d->log_file[0] == '/';

			validate_escape(file_set ? d->log_file : d->log_dir,
			    SHOWN_PATH_MAX, shown, sizeof(shown));
			log_err("cannot use --%s '%s': %swritable by group or "
			        "others without the sticky bit",
			    file_set ? "log-file" : "log-dir", shown,
			    file_set ? "its directory is " : "");
			return EX_CONFIG;
		}
		if (r < 0) {
			log_err("cannot open log file '%s': %s", path,
			    error_describe(r, OP_READ));
			return error_exit_code(r, OP_CREATE);
		}
	}
	if (d->use_syslog || (d->daemonize && log_file_fd() < 0))
		log_to_syslog(d->syslog_facility);
	return 0;
}

int
lock_pidfile(const struct daemon_conf *d, struct pidfile *pf)
{
	pid_t pid = 0;
	int r;

	r = pidfile_open(d->pid_file, true, pf);
	if (r < 0) {
		log_err("cannot open pidfile '%s': %s", d->pid_file,
		    error_describe(r, OP_READ));
		return error_exit_code(r, OP_CREATE);
	}
	r = pidfile_lock(pf);
	if (r == -EAGAIN) {
		(void)pidfile_read(pf, &pid);
		if (pid != 0)
			log_err("cannot start: already running as pid %d "
			        "(pidfile '%s')",
			    (int)pid, d->pid_file);
		else
			log_err("cannot start: pidfile '%s' is locked by a "
			        "starting proxy",
			    d->pid_file);
		return EX_TEMPFAIL;
	}
	if (r < 0) {
		log_err("cannot lock pidfile '%s': %s", d->pid_file,
		    error_describe(r, OP_READ));
		return error_exit_code(r, OP_CREATE);
	}
	return 0;
}

int
remove_config(
    const struct proxy_conf *p, const struct daemon_conf *d, bool loud)
{
	const char *dir = md_config_dir(p->flavor);
	char dirpath[PATH_MAX], name[CONFIG_NAME_MAX], path[PATH_MAX];
	int base = -1, dfd = -1, code = 0, r;

	if (config_paths(p, d, dirpath, name, path) < 0)
		return EX_DATAERR;
	r = safefile_open_base(d->state_path, &base);
	if (r == -ENOENT)
		goto out; /* nothing was ever written: already clean */
	if (r < 0) {
		if (loud)
			log_err("cannot open --state-path '%s': %s",
			    d->state_path, error_describe(r, OP_READ));
		code = error_exit_code(r, OP_READ);
		goto out;
	}
	r = safefile_open_dir(base, dir, false, &dfd);
	if (r == -ENOENT)
		goto out;
	if (r < 0) {
		if (loud)
			log_err("cannot use config directory '%s': %s", dirpath,
			    error_describe(r, OP_READ));
		code = error_exit_code(r, OP_READ);
		goto out;
	}
	r = safefile_remove(dfd, name);
	if (r < 0) {
		if (loud)
			log_err("cannot remove config '%s': %s", path,
			    error_describe(r, OP_READ));
		code = error_exit_code(r, OP_READ);
		goto out;
	}
	log_debug("%s '%s'", r == 1 ? "removed" : "already gone:", path);
out:
	dfd = safe_close(dfd);
	base = safe_close(base);
	return code;
}

int
netns_path(const struct daemon_conf *d, char *out, size_t outsz)
{
	int err;

	if (STR_CONCAT(out, outsz, "/run/netns/", d->netns) < 0)
		return EX_DATAERR;
	if (access(out, F_OK) < 0) {
		err = -errno;
		log_err("cannot use --netns '%s': '%s': %s", d->netns, out,
		    error_describe(err, OP_NETNS));
		return error_exit_code(err, OP_NETNS);
	}
	return 0;
}

/* What a launch step was doing, for the error policy. */
static enum err_op
stage_op(int stage)
{
	switch (stage) {
	case LAUNCH_NETNS_OPEN:
		return OP_NETNS;
	case LAUNCH_NETNS_ENTER:
		return OP_NETNS_ENTER;
	case LAUNCH_NETNS_TYPE:
		return OP_NETNS_TYPE;
	case LAUNCH_EXEC:
		return OP_EXEC;
	case LAUNCH_PIDFILE:
		return OP_CREATE; /* no room for the pid: as a write */
	case LAUNCH_BIND:
		return OP_BIND;
	case LAUNCH_PRIVILEGES:
		return OP_PRIVILEGES;
	default:
		return OP_OTHER;
	}
}

int
launch_exit_code(const struct launch_failure *f)
{
	return error_exit_code(-f->err, stage_op(f->stage));
}

/*
 * The words after a failed step, naming its object: " 127.0.0.1 port
 * 9697" for a listener, " /run/netns/NAME" for a namespace, else "".
 */
static const char *
failure_object(const struct proxy_conf *p, const char *netns,
    const struct launch_failure *f, char *buf, size_t len)
{
	int n = 0;

	if (f->stage == LAUNCH_BIND && f->which == 0)
		n = snprintf(buf, len, " on %s%s%s port %u",
		    p->bind_v6 ? "[" : "", p->bind_address,
		    p->bind_v6 ? "]" : "", p->port);
	else if (f->stage == LAUNCH_BIND)
		n = snprintf(buf, len, " on [%s]%%%s port %u",
		    p->bind_address_v6, p->bind_interface, p->port);
	else if (f->stage == LAUNCH_NETNS_OPEN ||
	         f->stage == LAUNCH_NETNS_ENTER)
		n = snprintf(buf, len, " %s", netns);
	else
		buf[0] = '\0';
	if (n < 0 || (size_t)n >= len)
		buf[0] = '\0';
	return buf;
}

void
log_start_failure(const struct proxy_conf *p, const struct daemon_conf *d,
    const char *engine, const char *netns, const struct launch_failure *f,
    const char *what)
{
	char obj[PATH_MAX + 64];

	if (f->stage == LAUNCH_NETNS_TYPE) {
		log_err("cannot use --netns '%s': '%s': %s", d->netns, netns,
		    error_describe(-f->err, OP_NETNS_TYPE));
		return;
	}
	/* The pidfile's own errors (NMP_ENOTPID) have no strerror(). */
	log_err("cannot start %s for %s: %s%s%s%s: %s", engine, p->id,
	    launch_stage_name(f->stage),
	    failure_object(p, netns, f, obj, sizeof(obj)),
	    what[0] != '\0' ? ": " : "", what,
	    f->stage == LAUNCH_PIDFILE ? error_describe(-f->err, OP_CREATE)
	                               : strerror(f->err));
}

int
start_finish(const struct proxy_conf *p, const struct daemon_conf *d,
    struct start_state *s, int code)
{
	/* A pidfile this start made and locked goes with it. */
	if (code != 0 && s->locked && s->pf.created && s->pf.dirfd >= 0)
		(void)pidfile_unlink(&s->pf);
	/* A refused start leaves no config directory it made behind. */
	if (code != 0 && s->made_dir)
		unmake_config_dir(d, p->flavor);
	pidfile_close(&s->pf);
	s->locked = false;
	s->made_dir = false;
	return code;
}

/* The listen() backlog: haproxy's maxconn, which it also uses. */
static int
backlog(const struct daemon_conf *d)
{
	return (int)defaults_maxconn(d->maxconn);
}

/*
 * Enter the namespace (when there is one) and bind the network's
 * listeners there: 0, or -1 with *f set.
 */
int
listen_in(const struct proxy_conf *p, const struct daemon_conf *d,
    const char *netns, int *fds, int *nfds, struct launch_failure *f)
{
	int r;

	if (netns[0] != '\0' && launch_enter_netns(netns, f) < 0)
		return -1;
	r = listener_open_proxy(p, backlog(d), fds, nfds, &f->which);
	if (r < 0) {
		f->stage = LAUNCH_BIND;
		f->err = -r;
		return -1;
	}
	return 0;
}
