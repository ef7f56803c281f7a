#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "commands.h"
#include "identity.h"
#include "launch.h"
#include "log.h"
#include "render.h"
#include "safefile.h"
#include "strbuf.h"
#include "banned.h"

#define CHECK_DIR_TEMPLATE "/tmp/ns-metadata-proxy-check.XXXXXX"

struct names {
	char user[OPT_NAME_MAX + 1];
	char group[OPT_NAME_MAX + 1];
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

static int
resolve_names(const struct options *o, struct names *nm)
{
	uid_t uid;
	gid_t gid;
	int r;

	r = identity_user(o->user, nm->user, sizeof(nm->user), &uid);
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
	r = identity_group(o->group, nm->group, sizeof(nm->group), &gid);
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

/* Write the config under the state path; its path goes to path. */
static int
write_config(const struct options *o, const struct strbuf *text, char *path,
    size_t pathsz)
{
	const char *dir = render_config_dir(o->flavor);
	char dirpath[PATH_MAX], name[64];
	int base = -1, dfd = -1, code = 0, r;

	if (join(dirpath, sizeof(dirpath), o->state_path, dir) < 0 ||
	    render_config_name(o, name, sizeof(name)) < 0 ||
	    join(path, pathsz, dirpath, name) < 0) {
		log_err("cannot write config under '%s': %s", o->state_path,
		    strerror(ENAMETOOLONG));
		return EX_DATAERR;
	}
	r = safefile_open_base(o->state_path, &base);
	if (r < 0) {
		log_err("cannot open --state-path '%s': %s", o->state_path,
		    describe(r));
		code = commands_exit_for(r, true);
		goto out;
	}
	r = safefile_open_dir(base, dir, true, &dfd);
	if (r < 0) {
		log_err("cannot use config directory '%s': %s", dirpath,
		    describe(r));
		code = commands_exit_for(r, true);
		goto out;
	}
	r = safefile_replace(dfd, name, text->buf, text->len);
	if (r < 0) {
		log_err("cannot write config '%s': %s", path, describe(r));
		code = commands_exit_for(r, true);
		goto out;
	}
out:
	if (dfd >= 0)
		(void)close(dfd);
	if (base >= 0)
		(void)close(base);
	return code;
}

static int
cmd_run(const struct options *o)
{
	struct strbuf text = STRBUF_INIT;
	char path[PATH_MAX];
	int code;

	if (o->engine == ENGINE_BUILTIN) {
		log_err("cannot run --engine builtin: the built-in engine is "
		        "not part of this version");
		return EX_UNAVAILABLE;
	}
	code = render_text(o, &text);
	if (code != 0)
		return code;
	code = write_config(o, &text, path, sizeof(path));
	strbuf_release(&text);
	if (code != 0)
		return code;
	printf("%s\n", path);
	if (fflush(stdout) != 0)
		return EX_IOERR;
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

static int
cmd_check(const struct options *o)
{
	static char arg_check[] = "-c", arg_quiet[] = "-q", arg_file[] = "-f";
	struct strbuf text = STRBUF_INIT;
	char haproxy[PATH_MAX], dir[] = CHECK_DIR_TEMPLATE;
	char name[64], path[PATH_MAX];
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
cmd_cleanup(const struct options *o)
{
	const char *dir = render_config_dir(o->flavor);
	char dirpath[PATH_MAX], name[64], path[PATH_MAX];
	int base = -1, dfd = -1, code = 0, r;

	if (join(dirpath, sizeof(dirpath), o->state_path, dir) < 0 ||
	    render_config_name(o, name, sizeof(name)) < 0 ||
	    join(path, sizeof(path), dirpath, name) < 0)
		return EX_DATAERR;
	r = safefile_open_base(o->state_path, &base);
	if (r == -ENOENT)
		goto out; /* nothing was ever written: already clean */
	if (r < 0) {
		log_err("cannot open --state-path '%s': %s", o->state_path,
		    describe(r));
		code = commands_exit_for(r, false);
		goto out;
	}
	r = safefile_open_dir(base, dir, false, &dfd);
	if (r == -ENOENT)
		goto out;
	if (r < 0) {
		log_err("cannot use config directory '%s': %s", dirpath,
		    describe(r));
		code = commands_exit_for(r, false);
		goto out;
	}
	r = safefile_remove(dfd, name);
	if (r < 0) {
		log_err("cannot remove config '%s': %s", path, describe(r));
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
		return cmd_cleanup(o);
	case CMD_STATUS:
	case CMD_STOP:
		break;
	}
	log_err("command not available in this version");
	return EX_UNAVAILABLE;
}
