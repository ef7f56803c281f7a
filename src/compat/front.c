#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "compat/front.h"
#include "compat/front_conf.h"
#include "identity.h"
#include "log.h"
#include "pidfile.h"
#include "strbuf.h"
#include "validate.h"
#include "banned.h"

#define MAX_FILES 8
#define SHOWN 128
/* The account a non-root config may run the proxy as besides its owner. */
#define NOBODY_ID 65534

static char shown_buf[SHOWN * 4 + 8];

/* An untrusted value, escaped for one message line (one at a time). */
static const char *
esc(const char *s)
{
	return validate_escape(s, SHOWN, shown_buf, sizeof(shown_buf));
}

int
compat_read_config(
    const char *path, char **text, size_t *len, struct stat *st_out)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, r = 0;

	fd = open(
	    path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	if (st.st_size > HCFG_TEXT_MAX) {
		r = -EFBIG;
		goto out;
	}
	/* One byte more than allowed: a file that grew is seen as too big. */
	buf = malloc(HCFG_TEXT_MAX + 2);
	if (buf == NULL) {
		r = -ENOMEM;
		goto out;
	}
	while (got <= HCFG_TEXT_MAX) {
		n = read(fd, buf + got, HCFG_TEXT_MAX + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > HCFG_TEXT_MAX) {
		r = -EFBIG;
		goto out;
	}
	buf[got] = '\0';
	*text = buf;
	*len = got;
	*st_out = st;
	buf = NULL;
out:
	free(buf);
	(void)close(fd);
	return r;
}

/*
 * Whoever can write the config or replace it in its directory chooses the
 * identity the proxy claims: both must be closed to group and others (the
 * file may belong to the agent's user, which wrote it).
 */
static int
check_safe(const char *path, const struct stat *st, const char **why)
{
	char dir[PATH_MAX];
	struct stat dst;
	const char *slash = strrchr(path, '/');
	size_t n;

	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		*why = "writable by group or others";
		return -1;
	}
	if (slash == NULL) {
		*why = "no directory";
		return -1;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= sizeof(dir)) {
		*why = "no directory";
		return -1;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	if (lstat(dir, &dst) < 0) {
		*why = "cannot stat its directory";
		return -1;
	}
	if (!S_ISDIR(dst.st_mode)) {
		*why = "its directory is a symbolic link";
		return -1;
	}
	if ((dst.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		*why = "its directory is writable by group or others";
		return -1;
	}
	return 0;
}

struct front_args {
	const char *files[MAX_FILES];
	uid_t owner[MAX_FILES]; /* each file's owner and group, once read */
	gid_t gid[MAX_FILES];
	int nfiles;
	char pidfile[PATH_MAX];
	bool daemon_flag; /* -D */
	bool foreground;  /* -db */
	bool check;       /* -c */
	bool quiet;       /* -q */
};

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	char msg[640];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	log_err("%s", msg);
	return EX_USAGE;
}

static int
parse_args(int argc, char *argv[], struct front_args *a)
{
	const char *why = NULL;
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (strcmp(s, "-f") == 0 || strcmp(s, "-p") == 0) {
			if (i + 1 >= argc)
				return usage_error(
				    "haproxy option '%s' needs a value", s);
			i++;
			if (s[1] == 'p') {
				if (a->pidfile[0] != '\0')
					return usage_error(
					    "haproxy option '%s' "
					    "given more than once",
					    s);
				if (validate_path(argv[i], PATH_MAX - 1,
				        a->pidfile, sizeof(a->pidfile),
				        &why) < 0) {
					log_err("invalid value for haproxy "
					        "option -p: '%s': %s",
					    esc(argv[i]), why);
					return EX_DATAERR;
				}
				continue;
			}
			if (a->nfiles == MAX_FILES)
				return usage_error(
				    "too many config files (at most 8): '%s'",
				    esc(argv[i]));
			if (argv[i][0] != '/') {
				log_err("invalid value for haproxy option -f: "
				        "'%s': not an absolute path",
				    esc(argv[i]));
				return EX_DATAERR;
			}
			a->files[a->nfiles++] = argv[i];
		} else if (strcmp(s, "-D") == 0) {
			a->daemon_flag = true;
		} else if (strcmp(s, "-db") == 0) {
			a->foreground = true;
		} else if (strcmp(s, "-c") == 0) {
			a->check = true;
		} else if (strcmp(s, "-q") == 0) {
			a->quiet = true;
		} else {
			return usage_error(
			    "unknown haproxy option '%s' (accepted: -f FILE, "
			    "-D, -db, -p PIDFILE, -c, -q)",
			    esc(s));
		}
	}
	if (a->nfiles == 0) {
		log_err("no config file: haproxy -f FILE");
		return EX_USAGE;
	}
	return 0;
}

static int
read_error(const char *path, int r)
{
	log_err("cannot read config '%s': %s", esc(path),
	    r == -ELOOP    ? "is a symbolic link"
	    : r == -EINVAL ? "not a regular file"
	    : r == -EFBIG  ? "larger than 65536 bytes"
	                   : strerror(-r));
	if (r == -ELOOP || r == -EINVAL)
		return EX_CONFIG;
	if (r == -EACCES || r == -EPERM)
		return EX_NOPERM;
	if (r == -EFBIG)
		return EX_DATAERR;
	return COMPAT_EX_NOINPUT;
}

static void
refused(const struct hcfg_error *e)
{
	if (e->at.line > 0)
		log_err("cannot use config '%s' line %u: %s",
		    esc(e->at.file != NULL ? e->at.file : "?"), e->at.line,
		    e->msg);
	else
		log_err("cannot use config '%s': %s",
		    esc(e->at.file != NULL ? e->at.file : "?"), e->msg);
}

/* Parse every file in order; the texts are freed here. */
static int
load(struct front_args *a, struct haproxy_cfg *c)
{
	struct hcfg_error e;
	struct stat st = {0};
	const char *why = NULL;
	char *text = NULL;
	size_t len = 0;
	int i, r;

	haproxy_cfg_init(c);
	for (i = 0; i < a->nfiles; i++) {
		r = compat_read_config(a->files[i], &text, &len, &st);
		if (r < 0)
			return read_error(a->files[i], r);
		if (check_safe(a->files[i], &st, &why) < 0) {
			log_err("cannot use config '%s': unsafe: %s (see "
			        "'ns-metadata-proxy audit')",
			    esc(a->files[i]), why);
			free(text);
			return EX_CONFIG;
		}
		a->owner[i] = st.st_uid;
		a->gid[i] = st.st_gid;
		r = haproxy_cfg_parse(c, a->files[i], text, len, &e);
		free(text);
		text = NULL;
		if (r < 0) {
			refused(&e);
			return EX_DATAERR;
		}
	}
	if (haproxy_cfg_finish(c, &e) < 0) {
		refused(&e);
		return EX_DATAERR;
	}
	return 0;
}

/* user and group must exist now: refused with their line, like haproxy. */
static int
resolve(const struct haproxy_cfg *c, uid_t *uid, gid_t *gid)
{
	char name[OPT_NAME_MAX + 1];
	int r;

	r = identity_user(c->user, name, sizeof(name), uid);
	if (r < 0) {
		log_err("cannot use config '%s' line %u: 'user %s': %s",
		    c->user_at.file != NULL ? esc(c->user_at.file) : "?",
		    c->user_at.line, c->user,
		    r == -ENOENT ? "no such user" : strerror(-r));
		return r == -ENOENT ? EX_NOUSER : EX_OSERR;
	}
	r = identity_group(c->group, name, sizeof(name), gid);
	if (r < 0) {
		log_err("cannot use config '%s' line %u: 'group %s': %s",
		    c->group_at.file != NULL ? esc(c->group_at.file) : "?",
		    c->group_at.line, c->group,
		    r == -ENOENT ? "no such group" : strerror(-r));
		return r == -ENOENT ? EX_NOUSER : EX_OSERR;
	}
	return 0;
}

/* Which of the files is file (a location's pointer is one of them)? */
static int
file_index(const struct front_args *a, const char *file)
{
	int i;

	for (i = 0; i < a->nfiles; i++)
		if (a->files[i] == file)
			return i;
	return -1;
}

/*
 * neutron runs this front as root on configs its agent wrote as another
 * user: such a config may not have root do what its owner could not. It
 * must name the user and group (else root's would be kept); the user must
 * be its owner or nobody (uid 65534), never uid 0; the group the file's
 * own group or nogroup (gid 65534), never gid 0 (and its pidfile: see
 * check_pidfile()). A directive is judged by the owner of the file it is in; a
 * missing one by the first file not owned by root.
 */
static int
trust(const struct front_args *a, const struct haproxy_cfg *c, uid_t uid,
    gid_t gid)
{
	int i, first = -1;

	for (i = 0; i < a->nfiles && first < 0; i++)
		if (a->owner[i] != 0)
			first = i;
	if (first < 0)
		return 0;
	if (c->user[0] == '\0' || c->group[0] == '\0') {
		log_err("cannot use config '%s': owned by uid %u, it must name "
		        "its 'user' and 'group' (else the proxy keeps root's)",
		    esc(a->files[first]), (unsigned)a->owner[first]);
		return EX_CONFIG;
	}
	i = file_index(a, c->user_at.file);
	if (i >= 0 && a->owner[i] != 0 &&
	    (uid == 0 || (uid != a->owner[i] && uid != NOBODY_ID))) {
		log_err("cannot use config '%s' line %u: 'user %s': a config "
		        "owned by uid %u may run the proxy only as its owner "
		        "or nobody (uid %u)%s",
		    esc(a->files[i]), c->user_at.line, c->user,
		    (unsigned)a->owner[i], NOBODY_ID,
		    uid == 0 ? ", never as root" : "");
		return EX_CONFIG;
	}
	i = file_index(a, c->group_at.file);
	if (i >= 0 && a->owner[i] != 0 &&
	    (gid == 0 || (gid != a->gid[i] && gid != NOBODY_ID))) {
		log_err("cannot use config '%s' line %u: 'group %s': a config "
		        "owned by uid %u may run the proxy only with its own "
		        "group (gid %u) or nogroup (gid %u)%s",
		    esc(a->files[i]), c->group_at.line, c->group,
		    (unsigned)a->owner[i], (unsigned)a->gid[i], NOBODY_ID,
		    gid == 0 ? ", never gid 0" : "");
		return EX_CONFIG;
	}
	return 0;
}

/*
 * The pidfile in use: -p, the caller's own choice, or the config's. An
 * existing file must be empty or a pidfile whoever names it; one named by
 * a config of another user than root must pass pidfile_check() for that
 * user, and later opens are confined to the same rules. With -c only the
 * latter (nothing is written).
 */
static int
check_pidfile(const struct front_args *a, const struct haproxy_cfg *c)
{
	const char *why = NULL;
	uid_t owner = (uid_t)-1;
	int i;

	if (a->pidfile[0] != '\0') {
		if (!a->check && pidfile_check(a->pidfile, owner, &why) < 0) {
			log_err("cannot use pidfile '%s' (haproxy option -p): "
			        "%s",
			    a->pidfile, why);
			return EX_CONFIG;
		}
		return 0;
	}
	if (c->pidfile[0] == '\0')
		return 0;
	i = file_index(a, c->pidfile_at.file);
	if (i >= 0 && a->owner[i] != 0)
		owner = a->owner[i];
	else if (a->check)
		return 0;
	if (pidfile_check(c->pidfile, owner, &why) < 0) {
		log_err("cannot use config '%s' line %u: 'pidfile %s': %s",
		    esc(i >= 0 ? a->files[i] : "?"), c->pidfile_at.line,
		    c->pidfile, why);
		return EX_CONFIG;
	}
	/* And so again when it is opened, on the descriptors used. */
	if (owner != (uid_t)-1)
		pidfile_confine(owner);
	return 0;
}

/* Once, before serving: where we do more or less than the config says. */
static void
notes(const struct haproxy_cfg *c)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned int bit;

	if (c->nbthread > 1)
		log_warn("config '%s' line %u: nbthread %lu: the built-in "
		         "engine serves with one thread",
		    esc(c->nbthread_at.file), c->nbthread_at.line, c->nbthread);
	for (bit = 1; bit <= HCFG_WEAK_ID_SPELLING; bit <<= 1) {
		if ((c->weak & bit) == 0)
			continue;
		strbuf_appendf(&sb, "%s%s", sb.len > 0 ? "; " : "",
		    haproxy_cfg_weakness((enum hcfg_weakness)bit));
	}
	if (sb.len > 0 && !sb.failed)
		log_warn("config for %s is weaker than the built-in engine, "
		         "which removes every client-sent identity and "
		         "X-Forwarded-For header under any spelling and sends "
		         "one of each of its own: %s",
		    c->id, strbuf_str(&sb));
	strbuf_release(&sb);
}

/*
 * Whether to ask the fleet, and where: front.conf over the built-in
 * settings. A file that cannot be trusted or read leaves the fleet out,
 * said once: the front serves its network itself, as without a fleet.
 */
static bool
fleet_settings(struct front_conf *fc)
{
	struct stat st;
	const char *why = NULL;
	char *text = NULL, msg[160];
	unsigned int line = 0;
	size_t len = 0;
	int r;

	front_conf_defaults(fc);
	r = compat_read_config(NMP_FRONT_CONF, &text, &len, &st);
	if (r == -ENOENT)
		return fc->fleet;
	if (r < 0) {
		log_warn("cannot read %s: %s; not asking the fleet",
		    NMP_FRONT_CONF,
		    r == -ELOOP    ? "is a symbolic link"
		    : r == -EINVAL ? "not a regular file"
		    : r == -EFBIG  ? "larger than 65536 bytes"
		                   : strerror(-r));
		return false;
	}
	if (st.st_uid != 0)
		why = "not owned by root";
	if (why != NULL || check_safe(NMP_FRONT_CONF, &st, &why) < 0) {
		log_warn("cannot use %s: unsafe: %s; not asking the fleet",
		    NMP_FRONT_CONF, why);
		free(text);
		return false;
	}
	r = front_conf_parse(text, len, fc, &line, msg, sizeof(msg));
	free(text);
	if (r < 0) {
		log_warn("cannot use %s line %u: %s; not asking the fleet",
		    NMP_FRONT_CONF, line, msg);
		return false;
	}
	return fc->fleet;
}

int
compat_haproxy(int argc, char *argv[])
{
	static char tag[HCFG_TAG_MAX + 1];
	static struct front_conf fc;
	struct handoff h;
	struct front_args a;
	struct haproxy_cfg c;
	struct proxy_conf p;
	struct daemon_conf d;
	uid_t uid = 0;
	gid_t gid = 0;
	int code;

	code = parse_args(argc, argv, &a);
	if (code != 0)
		return code;
	code = load(&a, &c);
	if (code != 0)
		return code;
	log_set_id(c.id);
	code = resolve(&c, &uid, &gid);
	if (code != 0)
		return code;
	code = trust(&a, &c, uid, gid);
	if (code == 0)
		code = check_pidfile(&a, &c);
	if (code != 0)
		return code;
	if (haproxy_cfg_conf(&c, &p, &d) < 0) {
		log_err("cannot use config '%s': a value is too long",
		    esc(a.files[0]));
		return EX_DATAERR;
	}
	if (a.check) {
		if (!a.quiet)
			printf("Configuration file is valid\n");
		return fflush(stdout) == 0 ? 0 : EX_IOERR;
	}
	/* haproxy: -p wins over the config's pidfile, -db over daemon/-D. */
	if (a.pidfile[0] != '\0' &&
	    STR_CONCAT(d.pid_file, sizeof(d.pid_file), a.pidfile) < 0)
		return EX_DATAERR;
	d.daemonize = (c.daemon || a.daemon_flag) && !a.foreground;
	d.keep_pid_at_stop = true;
	if (c.log_tag[0] != '\0' &&
	    STR_CONCAT(tag, sizeof(tag), c.log_tag) >= 0)
		log_init(tag);
	log_set_debug(d.debug);
	/* The notes go where haproxy's own log would, too. */
	if (d.use_syslog)
		log_to_syslog(d.syslog_facility);
	notes(&c);
	if (!fleet_settings(&fc))
		return cmd_run_builtin(&p, &d, NULL);
	h.control_socket = fc.control_socket;
	h.reconnect_timeout = fc.reconnect_timeout;
	h.argv = argv;
	return cmd_run_builtin(&p, &d, &h);
}
