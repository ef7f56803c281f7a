/*
 * safefile: real files in a mkdtemp() directory per test, planted symlinks,
 * and syscall failures injected through GNU ld --wrap (the build links this
 * test with --wrap=write,fsync,renameat,unlinkat,mkdirat,openat).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "safefile.h"
#include "banned.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fault injection ---------------------------------------------------- */

enum fault_fn {
	FAULT_NONE,
	FAULT_WRITE,
	FAULT_FSYNC,
	FAULT_RENAMEAT,
	FAULT_UNLINKAT,
	FAULT_MKDIRAT,
	FAULT_OPENAT_CREAT, /* only openat calls with O_CREAT */
};

/*
 * One armed failure: after `skip` calls of fn went through, the next one
 * fails with errno err and the fault disarms itself. hits counts injected
 * failures, so a test can tell the fault was reached at all (a missing
 * --wrap or a renamed symbol would otherwise pass silently).
 */
static struct {
	enum fault_fn fn;
	int err;
	unsigned int skip;
	unsigned int hits;
} fault;

/* Cap on the bytes one write() accepts (0: none), pending EINTRs, calls. */
static size_t write_max;
static unsigned int write_eintr;
static unsigned int write_calls;

ssize_t __real_write(int fd, const void *buf, size_t count);
int __real_fsync(int fd);
int __real_renameat(
    int olddirfd, const char *oldpath, int newdirfd, const char *newpath);
int __real_unlinkat(int dirfd, const char *path, int flags);
int __real_mkdirat(int dirfd, const char *path, mode_t mode);
int __real_openat(int dirfd, const char *path, int flags, ...);

ssize_t __wrap_write(int fd, const void *buf, size_t count);
int __wrap_fsync(int fd);
int __wrap_renameat(
    int olddirfd, const char *oldpath, int newdirfd, const char *newpath);
int __wrap_unlinkat(int dirfd, const char *path, int flags);
int __wrap_mkdirat(int dirfd, const char *path, mode_t mode);
int __wrap_openat(int dirfd, const char *path, int flags, ...);

static void
fault_reset(void)
{
	fault.fn = FAULT_NONE;
	fault.err = 0;
	fault.skip = 0;
	fault.hits = 0;
	write_max = 0;
	write_eintr = 0;
	write_calls = 0;
}

static void
fault_arm(enum fault_fn fn, int err, unsigned int skip)
{
	fault_reset();
	fault.fn = fn;
	fault.err = err;
	fault.skip = skip;
}

static bool
fault_fire(enum fault_fn fn)
{
	if (fault.fn != fn)
		return false;
	if (fault.skip > 0) {
		fault.skip--;
		return false;
	}
	fault.fn = FAULT_NONE;
	fault.hits++;
	errno = fault.err;
	return true;
}

ssize_t
__wrap_write(int fd, const void *buf, size_t count)
{
	write_calls++;
	if (fault_fire(FAULT_WRITE))
		return -1;
	if (write_eintr > 0) {
		write_eintr--;
		errno = EINTR;
		return -1;
	}
	if (write_max > 0 && count > write_max)
		count = write_max;
	return __real_write(fd, buf, count);
}

int
__wrap_fsync(int fd)
{
	if (fault_fire(FAULT_FSYNC))
		return -1;
	return __real_fsync(fd);
}

int
__wrap_renameat(
    int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	if (fault_fire(FAULT_RENAMEAT))
		return -1;
	return __real_renameat(olddirfd, oldpath, newdirfd, newpath);
}

int
__wrap_unlinkat(int dirfd, const char *path, int flags)
{
	if (fault_fire(FAULT_UNLINKAT))
		return -1;
	return __real_unlinkat(dirfd, path, flags);
}

int
__wrap_mkdirat(int dirfd, const char *path, mode_t mode)
{
	if (fault_fire(FAULT_MKDIRAT))
		return -1;
	return __real_mkdirat(dirfd, path, mode);
}

int
__wrap_openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;
	va_list ap;

	if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
		va_start(ap, flags);
		/* mode_t is promoted to unsigned int through the ... */
		mode = (mode_t)va_arg(ap, unsigned int);
		va_end(ap);
		if ((flags & O_CREAT) != 0 && fault_fire(FAULT_OPENAT_CREAT))
			return -1;
		return __real_openat(dirfd, path, flags, mode);
	}
	return __real_openat(dirfd, path, flags);
}

/* ---- fixture and helpers ------------------------------------------------ */

struct fx {
	char dir[64]; /* the mkdtemp() directory */
	int base;     /* safefile_open_base() of dir */
};

static mode_t saved_umask;

static int
rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

/* So that a failed test's unreadable directory can still be removed. */
static int
chmod_dir(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type != FTW_SL && S_ISDIR(sb->st_mode))
		chmod(path, 0700);
	return 0;
}

static int
setup(void **state)
{
	struct fx *fx;
	int n;

	fault_reset();
	saved_umask = umask(077);
	umask(saved_umask);
	fx = calloc(1, sizeof(*fx));
	if (fx == NULL)
		return -1;
	fx->base = -1;
	n = snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_safefile.XXXXXX");
	if (n < 0 || (size_t)n >= sizeof(fx->dir) || mkdtemp(fx->dir) == NULL ||
	    safefile_open_base(fx->dir, &fx->base) != 0) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	int r;

	fault_reset();
	umask(saved_umask);
	/* A test that failed while running under another euid. */
	if (getuid() == 0 && geteuid() != 0 && seteuid(0) != 0)
		return -1;
	if (fx->base >= 0) {
		close(fx->base);
		fx->base = -1;
	}
	nftw(fx->dir, chmod_dir, 16, FTW_PHYS);
	r = nftw(fx->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return r == 0 ? 0 : -1;
}

/* fx->dir + "/" + rel; rel may be empty. */
static const char *
path_in(const struct fx *fx, const char *rel, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s", fx->dir, rel);

	assert_true(n > 0 && (size_t)n < size);
	return buf;
}

static void
put_file(const struct fx *fx, const char *rel, const char *content)
{
	char p[PATH_MAX];
	size_t len = strlen(content);
	int fd;

	fd = open(path_in(fx, rel, p, sizeof(p)),
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	/* Whatever the umask, so tests can tell our mode from this one. */
	assert_int_equal(fchmod(fd, 0644), 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* The whole content of rel, NUL-terminated, in buf. */
static size_t
get_file(const struct fx *fx, const char *rel, char *buf, size_t size)
{
	char p[PATH_MAX];
	size_t got = 0;
	ssize_t n;
	int fd;

	fd = open(path_in(fx, rel, p, sizeof(p)), O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	for (;;) {
		assert_true(got < size - 1);
		n = read(fd, buf + got, size - 1 - got);
		assert_true(n >= 0);
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	assert_int_equal(close(fd), 0);
	return got;
}

static void
assert_file(const struct fx *fx, const char *rel, const char *want)
{
	char buf[8192];
	size_t len = get_file(fx, rel, buf, sizeof(buf));

	assert_int_equal(len, strlen(want));
	assert_memory_equal(buf, want, len);
}

/* lstat of rel: -errno, or 0 with *st filled. */
static int
lstat_in(const struct fx *fx, const char *rel, struct stat *st)
{
	char p[PATH_MAX];

	if (lstat(path_in(fx, rel, p, sizeof(p)), st) != 0)
		return -errno;
	return 0;
}

static bool
exists_in(const struct fx *fx, const char *rel)
{
	struct stat st;

	return lstat_in(fx, rel, &st) == 0;
}

static mode_t
mode_of(const struct fx *fx, const char *rel)
{
	struct stat st;

	assert_int_equal(lstat_in(fx, rel, &st), 0);
	return st.st_mode;
}

static void
mkdir_in(const struct fx *fx, const char *rel, mode_t mode)
{
	char p[PATH_MAX];

	path_in(fx, rel, p, sizeof(p));
	assert_int_equal(mkdir(p, mode), 0);
	assert_int_equal(chmod(p, mode), 0);
}

static void
symlink_in(const struct fx *fx, const char *target, const char *rel)
{
	char p[PATH_MAX];

	assert_int_equal(symlink(target, path_in(fx, rel, p, sizeof(p))), 0);
}

/* Entries of directory rel whose names start with ".<name>.tmp-". */
static unsigned int
count_temps(const struct fx *fx, const char *rel, const char *name)
{
	char p[PATH_MAX], prefix[NAME_MAX + 1];
	unsigned int count = 0;
	struct dirent *de;
	DIR *d;
	int n;

	n = snprintf(prefix, sizeof(prefix), ".%s.tmp-", name);
	assert_true(n > 0 && (size_t)n < sizeof(prefix));
	d = opendir(path_in(fx, rel, p, sizeof(p)));
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, (size_t)n) == 0)
			count++;
	}
	closedir(d);
	return count;
}

/* Entries of directory rel other than "." and "..". */
static unsigned int
count_entries(const struct fx *fx, const char *rel)
{
	char p[PATH_MAX];
	unsigned int count = 0;
	struct dirent *de;
	DIR *d;

	d = opendir(path_in(fx, rel, p, sizeof(p)));
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			count++;
	}
	closedir(d);
	return count;
}

static const int fault_errnos[] = {ENOSPC, EIO, EACCES, EROFS, EFBIG};

static const char *const bad_names[] = {
    "", ".", "..", "a/b", "/abs", "a/", "/"};

/* What the launcher does: make or check the directory, replace the file. */
static int
write_config(int base, const char *dir, const char *name, const char *data)
{
	int dfd = -1, r;

	r = safefile_open_dir(base, dir, true, &dfd);
	if (r < 0)
		return r;
	r = safefile_replace(dfd, name, data, strlen(data));
	close(dfd);
	return r;
}

/* ---- safefile_open_base ------------------------------------------------- */

static void
test_open_base(void **state)
{
	struct fx *fx = *state;
	char p[PATH_MAX];
	struct stat st;
	int fd = -42;

	assert_int_equal(safefile_open_base(fx->dir, &fd), 0);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_true((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	close(fd);

	fd = -42;
	assert_int_equal(safefile_open_base("tmp", &fd), -EINVAL);
	assert_int_equal(safefile_open_base("", &fd), -EINVAL);
	assert_int_equal(safefile_open_base(NULL, &fd), -EINVAL);
	assert_int_equal(safefile_open_base("/", NULL), -EINVAL);

	mkdir_in(fx, "real", 0700);
	symlink_in(fx, "real", "link");
	assert_int_equal(
	    safefile_open_base(path_in(fx, "link", p, sizeof(p)), &fd), -ELOOP);
	put_file(fx, "file", "x");
	assert_int_equal(
	    safefile_open_base(path_in(fx, "file", p, sizeof(p)), &fd),
	    -ENOTDIR);
	assert_int_equal(
	    safefile_open_base(path_in(fx, "missing", p, sizeof(p)), &fd),
	    -ENOENT);
	assert_int_equal(fd, -42);
}

/* ---- safefile_open_dir -------------------------------------------------- */

static void
check_open_dir_creates_0700(struct fx *fx, mode_t mask)
{
	struct stat st;
	int fd = -1;

	umask(mask);
	assert_int_equal(safefile_open_dir(fx->base, "cfg", true, &fd), 0);
	assert_true(fd >= 0);
	assert_true((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(mode_of(fx, "cfg") & 07777, 0700);
	close(fd);

	/* Again: it exists now, and is accepted as it is. */
	fd = -1;
	assert_int_equal(safefile_open_dir(fx->base, "cfg", true, &fd), 0);
	assert_true(fd >= 0);
	close(fd);
}

static void
test_open_dir_create_umask0(void **state)
{
	check_open_dir_creates_0700(*state, 0);
}

static void
test_open_dir_create_umask777(void **state)
{
	check_open_dir_creates_0700(*state, 0777);
}

/*
 * An unprivileged owner cannot open a directory made under umask 0777
 * (mode 0000) at all; root can, so as root run this part as nobody.
 */
static void
test_open_dir_create_umask777_nonroot(void **state)
{
	struct fx *fx = *state;

	if (geteuid() == 0) {
		assert_int_equal(chown(fx->dir, 65534, 65534), 0);
		assert_int_equal(seteuid(65534), 0);
	}
	check_open_dir_creates_0700(fx, 0777);
	/* A file created under that umask is still ours to write: 0600. */
	assert_int_equal(write_config(fx->base, "cfg", "conf", "data"), 0);
	assert_int_equal(mode_of(fx, "cfg/conf") & 07777, 0600);
	assert_int_equal(mode_of(fx, "cfg") & 07777, 0700);
	assert_file(fx, "cfg/conf", "data");
	if (getuid() == 0)
		assert_int_equal(seteuid(0), 0);
}

static void
test_open_dir_missing_no_create(void **state)
{
	struct fx *fx = *state;
	int fd = -42;

	assert_int_equal(
	    safefile_open_dir(fx->base, "cfg", false, &fd), -ENOENT);
	assert_int_equal(fd, -42);
	assert_false(exists_in(fx, "cfg"));
}

static void
test_open_dir_modes(void **state)
{
	static const struct {
		mode_t mode;
		int want;
	} cases[] = {
	    {0700, 0},
	    {0755, 0},
	    {0750, 0},
	    {0705, 0},
	    {0500, 0},
	    {01755, 0},
	    {0777, -NMP_EUNSAFE},
	    {0770, -NMP_EUNSAFE},
	    {0720, -NMP_EUNSAFE},
	    {0702, -NMP_EUNSAFE},
	    {0722, -NMP_EUNSAFE},
	    {01777, -NMP_EUNSAFE},
	};
	struct fx *fx = *state;
	char name[32];
	size_t i;
	int n, fd, r;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		n = snprintf(name, sizeof(name), "d%zu", i);
		assert_true(n > 0 && (size_t)n < sizeof(name));
		mkdir_in(fx, name, cases[i].mode);
		fd = -42;
		r = safefile_open_dir(fx->base, name, true, &fd);
		if (r != cases[i].want)
			print_error("mode %04o: got %d, want %d\n",
			    (unsigned int)cases[i].mode, r, cases[i].want);
		assert_int_equal(r, cases[i].want);
		if (r == 0) {
			assert_true(fd >= 0);
			close(fd);
		} else {
			assert_int_equal(fd, -42);
		}
		/* An existing directory's mode is never changed. */
		assert_int_equal(mode_of(fx, name) & 07777, cases[i].mode);
	}
}

static void
test_open_dir_symlink(void **state)
{
	struct fx *fx = *state;
	int fd = -42;

	mkdir_in(fx, "target", 0755);
	symlink_in(fx, "target", "cfg");
	assert_int_equal(safefile_open_dir(fx->base, "cfg", true, &fd), -ELOOP);
	assert_int_equal(
	    safefile_open_dir(fx->base, "cfg", false, &fd), -ELOOP);
	assert_int_equal(fd, -42);
	assert_true(S_ISLNK(mode_of(fx, "cfg")));
	assert_int_equal(mode_of(fx, "target") & 07777, 0755);
	assert_int_equal(count_entries(fx, "target"), 0);

	/* A dangling one as well: nothing is created at its target. */
	symlink_in(fx, "nowhere", "cfg2");
	assert_int_equal(
	    safefile_open_dir(fx->base, "cfg2", true, &fd), -ELOOP);
	assert_false(exists_in(fx, "nowhere"));
}

static void
test_open_dir_regular_file(void **state)
{
	struct fx *fx = *state;
	int fd = -42;

	put_file(fx, "cfg", "not a directory");
	assert_int_equal(
	    safefile_open_dir(fx->base, "cfg", true, &fd), -ENOTDIR);
	assert_int_equal(
	    safefile_open_dir(fx->base, "cfg", false, &fd), -ENOTDIR);
	assert_int_equal(fd, -42);
	assert_file(fx, "cfg", "not a directory");
}

static void
test_open_dir_foreign_owner(void **state)
{
	struct fx *fx = *state;
	char p[PATH_MAX];
	int fd = -42;

	if (geteuid() != 0) {
		print_message("skipped: chown to another uid needs root\n");
		skip();
	}
	mkdir_in(fx, "cfg", 0700);
	assert_int_equal(chown(path_in(fx, "cfg", p, sizeof(p)), 65534, 0), 0);
	assert_int_equal(
	    safefile_open_dir(fx->base, "cfg", true, &fd), -NMP_EUNSAFE);
	assert_int_equal(fd, -42);
}

/* As an unprivileged euid: our own and root's directories pass, no other. */
static void
test_open_dir_owner_nonroot(void **state)
{
	struct fx *fx = *state;
	char p[PATH_MAX];
	int fd = -1;

	if (geteuid() != 0) {
		print_message("skipped: switching euid needs root\n");
		skip();
	}
	assert_int_equal(chmod(fx->dir, 0755), 0);
	mkdir_in(fx, "rootdir", 0755);
	mkdir_in(fx, "mine", 0700);
	assert_int_equal(chown(path_in(fx, "mine", p, sizeof(p)), 65534, 0), 0);
	mkdir_in(fx, "other", 0755);
	assert_int_equal(
	    chown(path_in(fx, "other", p, sizeof(p)), 65533, 0), 0);

	assert_int_equal(seteuid(65534), 0);
	assert_int_equal(safefile_open_dir(fx->base, "rootdir", false, &fd), 0);
	close(fd);
	assert_int_equal(safefile_open_dir(fx->base, "mine", false, &fd), 0);
	close(fd);
	assert_int_equal(
	    safefile_open_dir(fx->base, "other", false, &fd), -NMP_EUNSAFE);
	assert_int_equal(seteuid(0), 0);
}

static void
test_open_dir_bad_names(void **state)
{
	struct fx *fx = *state;
	size_t i;
	int fd = -42;

	for (i = 0; i < ARRAY_SIZE(bad_names); i++) {
		assert_int_equal(
		    safefile_open_dir(fx->base, bad_names[i], true, &fd),
		    -EINVAL);
		assert_int_equal(
		    safefile_open_dir(fx->base, bad_names[i], false, &fd),
		    -EINVAL);
	}
	assert_int_equal(safefile_open_dir(fx->base, NULL, true, &fd), -EINVAL);
	assert_int_equal(fd, -42);
	assert_int_equal(count_entries(fx, ""), 0);
}

static void
test_open_dir_mkdirat_faults(void **state)
{
	struct fx *fx = *state;
	size_t i;
	int fd = -42;

	for (i = 0; i < ARRAY_SIZE(fault_errnos); i++) {
		fault_arm(FAULT_MKDIRAT, fault_errnos[i], 0);
		assert_int_equal(safefile_open_dir(fx->base, "cfg", true, &fd),
		    -fault_errnos[i]);
		assert_int_equal(fault.hits, 1);
		assert_int_equal(fd, -42);
		assert_false(exists_in(fx, "cfg"));
	}
}

/* ---- safefile_replace --------------------------------------------------- */

static void
check_replace_new(struct fx *fx, mode_t mask)
{
	static const char data[] = "server 127.0.0.1:8775\n";
	struct stat st;

	umask(mask);
	assert_int_equal(
	    safefile_replace(fx->base, "conf", data, sizeof(data) - 1), 0);
	assert_int_equal(lstat_in(fx, "conf", &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_file(fx, "conf", data);
	assert_int_equal(count_temps(fx, "", "conf"), 0);
	assert_int_equal(count_entries(fx, ""), 1);
}

static void
test_replace_new_umask0(void **state)
{
	check_replace_new(*state, 0);
}

static void
test_replace_new_umask777(void **state)
{
	check_replace_new(*state, 0777);
}

static void
test_replace_existing(void **state)
{
	struct fx *fx = *state;

	put_file(fx, "conf", "a longer old content\n");
	assert_int_equal(mode_of(fx, "conf") & 07777, 0644);
	assert_int_equal(safefile_replace(fx->base, "conf", "new\n", 4), 0);
	assert_file(fx, "conf", "new\n");
	assert_int_equal(mode_of(fx, "conf") & 07777, 0600);
	assert_int_equal(safefile_replace(fx->base, "conf", "newer\n", 6), 0);
	assert_file(fx, "conf", "newer\n");
	assert_int_equal(count_temps(fx, "", "conf"), 0);
	assert_int_equal(count_entries(fx, ""), 1);
}

static void
test_replace_empty(void **state)
{
	struct fx *fx = *state;

	put_file(fx, "conf", "old");
	assert_int_equal(safefile_replace(fx->base, "conf", NULL, 0), 0);
	assert_file(fx, "conf", "");
	assert_int_equal(count_temps(fx, "", "conf"), 0);
}

static void
test_replace_symlink_target(void **state)
{
	struct fx *fx = *state;
	char victim[PATH_MAX];
	struct stat st;

	mkdir_in(fx, "elsewhere", 0700);
	put_file(fx, "elsewhere/victim", "victim\n");
	symlink_in(fx, path_in(fx, "elsewhere/victim", victim, sizeof(victim)),
	    "conf");
	assert_int_equal(safefile_replace(fx->base, "conf", "new\n", 4), 0);
	assert_int_equal(lstat_in(fx, "conf", &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_file(fx, "conf", "new\n");
	assert_file(fx, "elsewhere/victim", "victim\n");
	assert_int_equal(mode_of(fx, "elsewhere/victim") & 07777, 0644);
	assert_int_equal(count_temps(fx, "", "conf"), 0);

	/* A dangling symlink: replaced too, nothing made at its target. */
	symlink_in(fx, "elsewhere/ghost", "conf2");
	assert_int_equal(safefile_replace(fx->base, "conf2", "x", 1), 0);
	assert_true(S_ISREG(mode_of(fx, "conf2")));
	assert_false(exists_in(fx, "elsewhere/ghost"));
}

static void
test_replace_directory_target(void **state)
{
	struct fx *fx = *state;
	int r;

	mkdir_in(fx, "conf", 0700);
	r = safefile_replace(fx->base, "conf", "x", 1);
	/* rename(2) of a file onto a directory. */
	assert_int_equal(r, -EISDIR);
	assert_true(S_ISDIR(mode_of(fx, "conf")));
	assert_int_equal(count_temps(fx, "", "conf"), 0);
}

static void
test_replace_bad_args(void **state)
{
	struct fx *fx = *state;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad_names); i++)
		assert_int_equal(
		    safefile_replace(fx->base, bad_names[i], "x", 1), -EINVAL);
	assert_int_equal(safefile_replace(fx->base, NULL, "x", 1), -EINVAL);
	assert_int_equal(safefile_replace(fx->base, "conf", NULL, 1), -EINVAL);
	assert_int_equal(count_entries(fx, ""), 0);
}

/* ".<name>.tmp-XXXXXX" must fit NAME_MAX: 243 characters do, 244 not. */
static void
test_replace_name_length(void **state)
{
	struct fx *fx = *state;
	char name[NAME_MAX + 1];

	memset(name, 'n', 244);
	name[244] = '\0';
	assert_int_equal(
	    safefile_replace(fx->base, name, "x", 1), -ENAMETOOLONG);
	assert_int_equal(count_entries(fx, ""), 0);

	name[243] = '\0';
	assert_int_equal(safefile_replace(fx->base, name, "x", 1), 0);
	assert_file(fx, name, "x");
	assert_int_equal(count_entries(fx, ""), 1);
	assert_int_equal(safefile_remove(fx->base, name), 1);
}

static const struct {
	enum fault_fn fn;
	const char *what;
} replace_faults[] = {
    {FAULT_OPENAT_CREAT, "openat"},
    {FAULT_WRITE, "write"},
    {FAULT_FSYNC, "fsync"}, /* the file's, the first one */
    {FAULT_RENAMEAT, "renameat"},
};

static void
test_replace_faults(void **state)
{
	struct fx *fx = *state;
	size_t f, e;
	int r;

	put_file(fx, "conf", "old");
	for (f = 0; f < ARRAY_SIZE(replace_faults); f++) {
		for (e = 0; e < ARRAY_SIZE(fault_errnos); e++) {
			fault_arm(replace_faults[f].fn, fault_errnos[e], 0);
			r = safefile_replace(fx->base, "conf", "new", 3);
			if (r != -fault_errnos[e] || fault.hits != 1)
				print_error("%s %s: got %d, hits %u\n",
				    replace_faults[f].what,
				    strerror(fault_errnos[e]), r, fault.hits);
			assert_int_equal(r, -fault_errnos[e]);
			assert_int_equal(fault.hits, 1);
			assert_file(fx, "conf", "old");
			assert_int_equal(count_temps(fx, "", "conf"), 0);
			assert_int_equal(count_entries(fx, ""), 1);
		}
	}
}

static void
test_config_flow_faults(void **state)
{
	static const enum fault_fn fns[] = {FAULT_MKDIRAT, FAULT_OPENAT_CREAT,
	    FAULT_WRITE, FAULT_FSYNC, FAULT_RENAMEAT};
	struct fx *fx = *state;
	size_t f, e;

	assert_int_equal(write_config(fx->base, "cfg", "conf", "old"), 0);
	assert_file(fx, "cfg/conf", "old");
	for (f = 0; f < ARRAY_SIZE(fns); f++) {
		for (e = 0; e < ARRAY_SIZE(fault_errnos); e++) {
			fault_arm(fns[f], fault_errnos[e], 0);
			assert_int_equal(
			    write_config(fx->base, "cfg", "conf", "new"),
			    -fault_errnos[e]);
			assert_int_equal(fault.hits, 1);
			assert_file(fx, "cfg/conf", "old");
			assert_int_equal(count_temps(fx, "cfg", "conf"), 0);
			assert_int_equal(count_entries(fx, "cfg"), 1);
		}
	}
	fault_reset();
	assert_int_equal(write_config(fx->base, "cfg", "conf", "new"), 0);
	assert_file(fx, "cfg/conf", "new");
}

/* The directory fsync fails after the rename: reported, new file in place. */
static void
test_replace_dir_fsync_fault(void **state)
{
	struct fx *fx = *state;
	size_t e;

	put_file(fx, "conf", "old");
	for (e = 0; e < ARRAY_SIZE(fault_errnos); e++) {
		fault_arm(FAULT_FSYNC, fault_errnos[e], 1);
		assert_int_equal(safefile_replace(fx->base, "conf", "new", 3),
		    -fault_errnos[e]);
		assert_int_equal(fault.hits, 1);
		assert_file(fx, "conf", "new");
		assert_int_equal(count_temps(fx, "", "conf"), 0);
		put_file(fx, "conf", "old");
	}
}

/* A write failing after some bytes went out: still no trace left. */
static void
test_replace_write_fault_midway(void **state)
{
	struct fx *fx = *state;

	put_file(fx, "conf", "old");
	fault_arm(FAULT_WRITE, ENOSPC, 3);
	write_max = 2;
	assert_int_equal(
	    safefile_replace(fx->base, "conf", "0123456789", 10), -ENOSPC);
	assert_int_equal(fault.hits, 1);
	assert_file(fx, "conf", "old");
	assert_int_equal(count_temps(fx, "", "conf"), 0);
}

/*
 * A file size limit (RLIMIT_FSIZE) below the data: with SIGXFSZ ignored, as
 * the launcher has it, the kernel takes what fits and then says EFBIG: the
 * write fails like any other, the temporary goes, the old file stays. In
 * a child, so the limit and the disposition stay there.
 */
static void
test_replace_file_size_limit(void **state)
{
	struct fx *fx = *state;
	struct rlimit rl = {4, 4};
	int st, r;
	pid_t pid;

	put_file(fx, "conf", "old");
	fault_reset();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR ||
		    setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(2);
		r = safefile_replace(fx->base, "conf", "0123456789", 10);
		_exit(r == -EFBIG ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_file(fx, "conf", "old");
	assert_int_equal(count_temps(fx, "", "conf"), 0);
	assert_int_equal(count_entries(fx, ""), 1);
}

static void
test_replace_short_writes(void **state)
{
	struct fx *fx = *state;
	char data[1000];
	size_t i;

	for (i = 0; i < sizeof(data) - 1; i++)
		data[i] = (char)('a' + i % 26);
	data[sizeof(data) - 1] = '\0';

	put_file(fx, "conf", "old");
	fault_reset();
	write_max = 1;
	assert_int_equal(
	    safefile_replace(fx->base, "conf", data, sizeof(data) - 1), 0);
	assert_int_equal(write_calls, sizeof(data) - 1);
	assert_file(fx, "conf", data);

	/* Interrupted before anything is written: tried again. */
	fault_reset();
	write_eintr = 3;
	write_max = 7;
	assert_int_equal(
	    safefile_replace(fx->base, "conf", data, sizeof(data) - 1), 0);
	assert_int_equal(write_eintr, 0);
	assert_file(fx, "conf", data);
	assert_int_equal(count_temps(fx, "", "conf"), 0);
}

/* ---- safefile_remove ---------------------------------------------------- */

static void
test_remove_idempotent(void **state)
{
	struct fx *fx = *state;

	put_file(fx, "conf", "x");
	assert_int_equal(safefile_remove(fx->base, "conf"), 1);
	assert_false(exists_in(fx, "conf"));
	assert_int_equal(safefile_remove(fx->base, "conf"), 0);
	assert_int_equal(safefile_remove(fx->base, "conf"), 0);
}

static void
test_remove_strays(void **state)
{
	static const char *const keep[] = {".other.tmp-x", "conf.bak", "xconf",
	    ".conf.tmpx", ".conf.tmp", "conf.tmp-abc123", ".xconf.tmp-abc123",
	    ".con.tmp-abc123", "..conf.tmp-abc123", "xconf.tmp-abc123"};
	struct fx *fx = *state;
	size_t i;

	put_file(fx, "conf", "x");
	put_file(fx, ".conf.tmp-abc123", "stray");
	put_file(fx, ".conf.tmp-Zz9", "stray");
	symlink_in(fx, "conf.bak", ".conf.tmp-link00");
	for (i = 0; i < ARRAY_SIZE(keep); i++)
		put_file(fx, keep[i], "keep");

	assert_int_equal(safefile_remove(fx->base, "conf"), 1);
	assert_false(exists_in(fx, "conf"));
	assert_int_equal(count_temps(fx, "", "conf"), 0);
	for (i = 0; i < ARRAY_SIZE(keep); i++) {
		assert_true(exists_in(fx, keep[i]));
		assert_file(fx, keep[i], "keep");
	}
	assert_int_equal(count_entries(fx, ""), ARRAY_SIZE(keep));

	/* Name already gone: strays still cleaned, 0 returned. */
	put_file(fx, ".conf.tmp-abc123", "stray");
	assert_int_equal(safefile_remove(fx->base, "conf"), 0);
	assert_int_equal(count_temps(fx, "", "conf"), 0);
	assert_int_equal(count_entries(fx, ""), ARRAY_SIZE(keep));
}

/* Only the temporaries go: the config itself and everything else stay. */
static void
test_remove_temps(void **state)
{
	struct fx *fx = *state;

	put_file(fx, "conf", "x");
	put_file(fx, ".conf.tmp-abc123", "stray");
	symlink_in(fx, "conf", ".conf.tmp-link00");
	put_file(fx, ".other.tmp-abc123", "keep");
	assert_int_equal(safefile_remove_temps(fx->base, "conf"), 0);
	assert_int_equal(count_temps(fx, "", "conf"), 0);
	assert_file(fx, "conf", "x");
	assert_file(fx, ".other.tmp-abc123", "keep");
	assert_int_equal(count_entries(fx, ""), 2);
	/* Nothing to remove is success too. */
	assert_int_equal(safefile_remove_temps(fx->base, "conf"), 0);
	assert_int_equal(safefile_remove_temps(fx->base, ".."), -EINVAL);
}

static void
test_remove_directory(void **state)
{
	struct fx *fx = *state;

	mkdir_in(fx, "conf", 0700);
	put_file(fx, "conf/inner", "x");
	assert_int_equal(safefile_remove(fx->base, "conf"), -EISDIR);
	assert_true(S_ISDIR(mode_of(fx, "conf")));
	assert_file(fx, "conf/inner", "x");
}

static void
test_remove_symlink(void **state)
{
	struct fx *fx = *state;
	char target[PATH_MAX];

	put_file(fx, "target", "target\n");
	symlink_in(fx, path_in(fx, "target", target, sizeof(target)), "conf");
	assert_int_equal(safefile_remove(fx->base, "conf"), 1);
	assert_false(exists_in(fx, "conf"));
	assert_file(fx, "target", "target\n");

	/* A dangling one goes as well. */
	symlink_in(fx, "nowhere", "conf");
	assert_int_equal(safefile_remove(fx->base, "conf"), 1);
	assert_false(exists_in(fx, "conf"));
}

static void
test_remove_bad_names(void **state)
{
	struct fx *fx = *state;
	size_t i;

	put_file(fx, "conf", "x");
	for (i = 0; i < ARRAY_SIZE(bad_names); i++)
		assert_int_equal(
		    safefile_remove(fx->base, bad_names[i]), -EINVAL);
	assert_int_equal(safefile_remove(fx->base, NULL), -EINVAL);
	assert_file(fx, "conf", "x");
}

static void
test_remove_unlinkat_faults(void **state)
{
	struct fx *fx = *state;
	size_t e;

	put_file(fx, "conf", "old");
	for (e = 0; e < ARRAY_SIZE(fault_errnos); e++) {
		fault_arm(FAULT_UNLINKAT, fault_errnos[e], 0);
		assert_int_equal(
		    safefile_remove(fx->base, "conf"), -fault_errnos[e]);
		assert_int_equal(fault.hits, 1);
		assert_file(fx, "conf", "old");
	}
	fault_reset();
	assert_int_equal(safefile_remove(fx->base, "conf"), 1);
}

/* A stray that cannot go is reported, and the others are still removed. */
static void
test_remove_stray_fault(void **state)
{
	struct fx *fx = *state;

	put_file(fx, "conf", "x");
	put_file(fx, ".conf.tmp-aaaaaa", "stray");
	put_file(fx, ".conf.tmp-bbbbbb", "stray");
	fault_arm(FAULT_UNLINKAT, EIO, 1);
	assert_int_equal(safefile_remove(fx->base, "conf"), -EIO);
	assert_int_equal(fault.hits, 1);
	assert_false(exists_in(fx, "conf"));
	assert_int_equal(count_temps(fx, "", "conf"), 1);

	fault_reset();
	assert_int_equal(safefile_remove(fx->base, "conf"), 0);
	assert_int_equal(count_temps(fx, "", "conf"), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_open_base),
	    T(test_open_dir_create_umask0),
	    T(test_open_dir_create_umask777),
	    T(test_open_dir_create_umask777_nonroot),
	    T(test_open_dir_missing_no_create),
	    T(test_open_dir_modes),
	    T(test_open_dir_symlink),
	    T(test_open_dir_regular_file),
	    T(test_open_dir_foreign_owner),
	    T(test_open_dir_owner_nonroot),
	    T(test_open_dir_bad_names),
	    T(test_open_dir_mkdirat_faults),
	    T(test_replace_new_umask0),
	    T(test_replace_new_umask777),
	    T(test_replace_existing),
	    T(test_replace_empty),
	    T(test_replace_symlink_target),
	    T(test_replace_directory_target),
	    T(test_replace_bad_args),
	    T(test_replace_name_length),
	    T(test_replace_faults),
	    T(test_config_flow_faults),
	    T(test_replace_dir_fsync_fault),
	    T(test_replace_write_fault_midway),
	    T(test_replace_file_size_limit),
	    T(test_replace_short_writes),
	    T(test_remove_idempotent),
	    T(test_remove_strays),
	    T(test_remove_temps),
	    T(test_remove_directory),
	    T(test_remove_symlink),
	    T(test_remove_bad_names),
	    T(test_remove_unlinkat_faults),
	    T(test_remove_stray_fault),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
