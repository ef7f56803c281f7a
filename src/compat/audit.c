#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "compat/front.h"
#include "identity.h"
#include "log.h"
#include "strbuf.h"
#include "validate.h"
#include "banned.h"

#define SHOWN 160
#define MAX_ENTRIES 4096

struct audit {
	unsigned long findings;
	unsigned long files;
	bool io_error;
	const char *file; /* the file being parsed, for the callback */
};

static void finding(struct audit *a, const char *path, unsigned int line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* One line on stdout: "PATH:LINE: what" or "PATH: what". */
static void
finding(
    struct audit *a, const char *path, unsigned int line, const char *fmt, ...)
{
	char shown[SHOWN * 4 + 8], what[1024];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(what, sizeof(what), fmt, ap) < 0)
		what[0] = '\0';
	va_end(ap);
	validate_escape(path, SHOWN, shown, sizeof(shown));
	if (line > 0)
		printf("%s:%u: %s\n", shown, line, what);
	else
		printf("%s: %s\n", shown, what);
	a->findings++;
}

static void
on_refusal(void *arg, const struct hcfg_error *e)
{
	struct audit *a = arg;

	finding(a, a->file, e->at.line, "outside the template or invalid: %s",
	    e->msg);
}

/*
 * Owner and mode of a config or its directory: nobody but the owner may
 * write, and the owner is root or whoever owns the directory above (the
 * agent's user, who made it).
 */
static void
check_mode(struct audit *a, const char *path, const struct stat *st,
    uid_t parent_uid, const char *what)
{
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
		finding(a, path, 0,
		    "%s writable by group or others (mode %04o): a local "
		    "user can %s",
		    what, (unsigned int)(st->st_mode & 07777),
		    S_ISDIR(st->st_mode)
		        ? "replace the configs in it"
		        : "rewrite the identity the proxy claims");
	if (st->st_uid != 0 && st->st_uid != parent_uid)
		finding(a, path, 0,
		    "%s owned by uid %u, neither root nor the owner of its "
		    "directory (uid %u)",
		    what, (unsigned int)st->st_uid, (unsigned int)parent_uid);
}

/* "<uuid>.conf": the uuid, else NULL. */
static bool
uuid_name(const char *base, char *uuid)
{
	size_t n = strlen(base);

	if (n != OPT_UUID_LEN + 5 || strcmp(base + OPT_UUID_LEN, ".conf") != 0)
		return false;
	memcpy(uuid, base, OPT_UUID_LEN);
	uuid[OPT_UUID_LEN] = '\0';
	return validate_uuid(uuid, NULL) == 0;
}

static void
check_content(struct audit *a, const char *path, const char *text, size_t len)
{
	struct haproxy_cfg c;
	struct hcfg_error e;
	char name[OPT_NAME_MAX + 1], uuid[OPT_UUID_LEN + 1];
	const char *slash = strrchr(path, '/');
	unsigned int bit;
	uid_t uid;
	gid_t gid;
	int r;

	haproxy_cfg_init(&c);
	haproxy_cfg_on_error(&c, on_refusal, a);
	a->file = path;
	if (haproxy_cfg_parse(&c, path, text, len, &e) < 0)
		return; /* each refusal is a finding already */
	if (haproxy_cfg_finish(&c, &e) < 0)
		return;
	if (c.user[0] != '\0') {
		r = identity_user(c.user, name, sizeof(name), &uid);
		if (r < 0)
			finding(a, path, c.user_at.line, "'user %s': %s",
			    c.user,
			    r == -ENOENT ? "no such user" : strerror(-r));
	}
	if (c.group[0] != '\0') {
		r = identity_group(c.group, name, sizeof(name), &gid);
		if (r < 0)
			finding(a, path, c.group_at.line, "'group %s': %s",
			    c.group,
			    r == -ENOENT ? "no such group" : strerror(-r));
	}
	for (bit = 1; bit <= HCFG_WEAK_ID_SPELLING; bit <<= 1)
		if ((c.weak & bit) != 0)
			finding(a, path, c.id_at.line, "%s",
			    haproxy_cfg_weakness((enum hcfg_weakness)bit));
	if (!uuid_name(slash != NULL ? slash + 1 : path, uuid))
		finding(a, path, 0,
		    "not named <uuid>.conf: neutron's process monitor finds "
		    "the proxy by the uuid in its command line");
	else if (strcmp(uuid, c.id) != 0)
		finding(a, path, c.id_at.line,
		    "the file is named for %s but the proxy claims %s", uuid,
		    c.id);
}

static void
audit_file(struct audit *a, const char *path, uid_t parent_uid)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int r;

	a->files++;
	if (lstat(path, &st) < 0) {
		finding(a, path, 0, "cannot stat: %s", strerror(errno));
		return;
	}
	if (S_ISLNK(st.st_mode)) {
		finding(a, path, 0,
		    "is a symbolic link: whoever controls its target "
		    "controls the proxy");
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		finding(a, path, 0, "not a regular file");
		return;
	}
	check_mode(a, path, &st, parent_uid, "file");
	r = compat_read_config(path, &text, &len, &st);
	if (r < 0) {
		finding(a, path, 0, "cannot read: %s",
		    r == -EFBIG ? "larger than 65536 bytes" : strerror(-r));
		return;
	}
	check_content(a, path, text, len);
	a->file = NULL; /* path is the caller's */
	free(text);
}

static int
by_name(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool
is_config_dir(const char *name)
{
	return strcmp(name, "ns-metadata-proxy") == 0 ||
	       strcmp(name, "ovn-metadata-proxy") == 0;
}

static int
join(char *out, size_t outsz, const char *dir, const char *name)
{
	int n =
	    STR_CONCAT(out, outsz, strcmp(dir, "/") == 0 ? "" : dir, "/", name);

	return n < 0 ? n : 0;
}

/*
 * A config directory, or a state path holding ns-metadata-proxy/ and
 * ovn-metadata-proxy/ (depth 0): every *.conf in it, in name order.
 */
static void
// NOLINTNEXTLINE(misc-no-recursion): one level, state path to config dirs
audit_dir(struct audit *a, const char *path, const struct stat *st,
    uid_t parent_uid, int depth)
{
	char **names = NULL, child[PATH_MAX];
	struct dirent *de;
	struct stat cst;
	size_t n = 0, i;
	DIR *d;

	check_mode(a, path, st, parent_uid, "directory");
	d = opendir(path);
	if (d == NULL) {
		log_err(
		    "cannot open directory '%s': %s", path, strerror(errno));
		a->io_error = true;
		return;
	}
	names = calloc(MAX_ENTRIES, sizeof(*names));
	while (names != NULL && (de = readdir(d)) != NULL && n < MAX_ENTRIES) {
		if (de->d_name[0] == '.')
			continue; /* also our own temporaries */
		if (!ends_with(de->d_name, ".conf") &&
		    !(depth == 0 && is_config_dir(de->d_name)))
			continue;
		names[n] = strdup(de->d_name);
		if (names[n] != NULL)
			n++;
	}
	(void)closedir(d);
	if (names == NULL) {
		log_err("cannot list '%s': %s", path, strerror(ENOMEM));
		a->io_error = true;
		return;
	}
	qsort(names, n, sizeof(*names), by_name);
	for (i = 0; i < n; i++) {
		if (join(child, sizeof(child), path, names[i]) < 0) {
			finding(a, path, 0, "entry name too long");
			continue;
		}
		if (lstat(child, &cst) < 0)
			continue; /* gone meanwhile */
		if (is_config_dir(names[i]) && depth == 0) {
			if (S_ISLNK(cst.st_mode))
				finding(a, child, 0,
				    "is a symbolic link: whoever controls its "
				    "target controls the configs");
			else if (S_ISDIR(cst.st_mode))
				audit_dir(a, child, &cst, st->st_uid, 1);
			continue;
		}
		audit_file(a, child, st->st_uid);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The owner of the directory above path (root when it cannot be told). */
static uid_t
parent_owner(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat st;
	size_t n;

	if (slash == NULL)
		return stat(".", &st) == 0 ? st.st_uid : 0;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= sizeof(dir))
		return 0;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return stat(dir, &st) == 0 ? st.st_uid : 0;
}

int
compat_audit(int argc, char *argv[])
{
	struct audit a = {0, 0, false, NULL};
	struct stat st;
	char shown[SHOWN * 4 + 8];
	int i;

	if (argc < 2) {
		log_err("audit needs a config file or directory: audit "
		        "FILE|DIR ...");
		return EX_USAGE;
	}
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-' || argv[i][0] == '\0') {
			validate_escape(argv[i], SHOWN, shown, sizeof(shown));
			log_err(
			    "unknown audit option '%s' (audit FILE|DIR ...)",
			    shown);
			return EX_USAGE;
		}
	}
	for (i = 1; i < argc; i++) {
		/* What the operator names may be a symlink; below, nothing. */
		if (stat(argv[i], &st) < 0) {
			validate_escape(argv[i], SHOWN, shown, sizeof(shown));
			log_err(
			    "cannot audit '%s': %s", shown, strerror(errno));
			a.io_error = true;
			continue;
		}
		if (S_ISDIR(st.st_mode))
			audit_dir(&a, argv[i], &st, parent_owner(argv[i]), 0);
		else
			audit_file(&a, argv[i], parent_owner(argv[i]));
	}
	if (fflush(stdout) != 0)
		return EX_IOERR;
	log_info("audit: %lu finding%s in %lu config file%s", a.findings,
	    a.findings == 1 ? "" : "s", a.files, a.files == 1 ? "" : "s");
	if (a.io_error)
		return COMPAT_EX_NOINPUT;
	return a.findings > 0 ? 1 : 0;
}
