/*
 * status --all: what the node runs, from three places.
 *
 *  - The pidfile directory <state-path>/external/pids: ours (<uuid>.pid)
 *    and neutron's (<uuid>.pid.haproxy) side by side, each probed as
 *    status probes one (lifecycle_probe_at: the lock, then /proc), the
 *    engine by /proc/PID/exe. neutron's haproxy holds no lock on its
 *    pidfile: for that form an unlocked pid is running when its command
 *    line names the id, neutron's own test.
 *  - The config directories <state-path>/ns-metadata-proxy and
 *    ovn-metadata-proxy: the kind of a network, and a config nobody
 *    serves.
 *  - The fleet's list, on its control socket; a built-in proxy's own, on
 *    the socket <pidfile>.ctl beside its pidfile, when it has one.
 *
 * Nothing is written, locked or signalled; no link is followed below the
 * state path.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "cmd/ctlclient.h"
#include "cmd/status_all.h"
#include "errors.h"
#include "fd.h"
#include "fleet/ctl.h"
#include "fleet/proto.h"
#include "fleet/server.h"
#include "lifecycle.h"
#include "log.h"
#include "metadata.h"
#include "safefile.h"
#include "validate.h"
#include "banned.h"

#define PIDFILE_SUFFIX ".pid"
#define NEUTRON_SUFFIX ".pid.haproxy"
#define CONFIG_SUFFIX ".conf"
#define STUB_NAME "ns-metadata-proxy-stub"
#define DELETED_SUFFIX " (deleted)"
/* The most of a config read for its kind: haproxy_cfg's own limit. */
#define CONFIG_READ_MAX 65536
/* Pages of the fleet's list: its most networks, and one more. */
#define LIST_PAGES_MAX (FLEET_NETWORKS_MAX / FLEET_LIST_PAGE + 2)
#define SHOWN_MAX 256

/* ---- the pure part (status_all.h) ---- */

/* name is <uuid><suffix>: 1 with id, 0 another suffix, -EINVAL a bad id. */
static int
id_before(const char *name, const char *suffix, char *id)
{
	size_t n = strlen(name), s = strlen(suffix);

	if (n <= s || strcmp(name + n - s, suffix) != 0)
		return 0;
	if (n - s != OPT_UUID_LEN)
		return -EINVAL;
	memcpy(id, name, OPT_UUID_LEN);
	id[OPT_UUID_LEN] = '\0';
	return validate_uuid(id, NULL) < 0 ? -EINVAL : 1;
}

int
status_all_pidfile_id(const char *name, char *id, bool *neutron)
{
	char got[OPT_UUID_LEN + 1];
	int r;

	/* A name starting with '.' is nothing of ours (".", "..", temps). */
	if (name[0] == '.')
		return 0;
	r = id_before(name, PIDFILE_SUFFIX, got);
	if (r == 0) {
		r = id_before(name, NEUTRON_SUFFIX, got);
		if (r != 0 && neutron != NULL)
			*neutron = true;
	} else if (neutron != NULL) {
		*neutron = false;
	}
	if (r == 1)
		memcpy(id, got, sizeof(got));
	return r;
}

int
status_all_config_id(const char *name, char *id)
{
	char got[OPT_UUID_LEN + 1];
	int r;

	if (name[0] == '.')
		return 0; /* the temporaries of a replace, "." and ".." */
	r = id_before(name, CONFIG_SUFFIX, got);
	if (r == 1)
		memcpy(id, got, sizeof(got));
	return r;
}

enum status_engine
status_all_exe_engine(const char *target)
{
	size_t n = strlen(target), d = strlen(DELETED_SUFFIX);
	const char *base = target, *p;

	/* An upgraded binary still runs as the file it was. */
	if (n > d && strcmp(target + n - d, DELETED_SUFFIX) == 0)
		n -= d;
	for (p = target; p < target + n; p++)
		if (*p == '/')
			base = p + 1;
	n -= (size_t)(base - target);
#define IS(name) (n == strlen(name) && strncmp(base, name, n) == 0)
	if (IS(STUB_NAME))
		return STATUS_ENGINE_FLEET;
	if (IS("ns-metadata-proxy") || IS("neutron-ns-metadata-proxy"))
		return STATUS_ENGINE_BUILTIN;
	if (IS("haproxy"))
		return STATUS_ENGINE_HAPROXY;
#undef IS
	return STATUS_ENGINE_NONE;
}

/* Digits only, up to end: a value; else -EINVAL. */
static int
parse_ull(const char *s, const char *end, unsigned long long *out)
{
	unsigned long long v = 0;

	if (s >= end)
		return -EINVAL;
	for (; s < end; s++) {
		unsigned long long d = (unsigned long long)(*s - '0');

		if (*s < '0' || *s > '9' || v > (ULLONG_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int
status_all_starttime(const char *stat, size_t len, unsigned long long *ticks)
{
	const char *p = NULL, *end = stat + len, *w;
	size_t i;
	int field;

	/* The command in parentheses may hold anything: after the last ')'. */
	for (i = 0; i < len; i++)
		if (stat[i] == ')')
			p = stat + i + 1;
	if (p == NULL)
		return -EINVAL;
	/* Field 3 (state) comes first; starttime is field 22. */
	for (field = 2; field < 22; field++) {
		if (p >= end || *p != ' ')
			return -EINVAL;
		p++;
		w = p;
		while (p < end && *p != ' ' && *p != '\n')
			p++;
		if (p == w)
			return -EINVAL;
		if (field == 21)
			return parse_ull(w, p, ticks);
	}
	return -EINVAL;
}

int
status_all_uptime(const char *text, size_t len, unsigned long long *sec)
{
	const char *end = memchr(text, '.', len);

	return parse_ull(text, end != NULL ? end : text + len, sec);
}

/* a is s, or s followed by '=' (a value given in the same word). */
static bool
is_opt(const char *a, const char *s)
{
	size_t n = strlen(s);

	return strncmp(a, s, n) == 0 && (a[n] == '\0' || a[n] == '=');
}

enum status_kind
status_all_cmdline_kind(const char *cmd, size_t len)
{
	const char *a = cmd, *end = cmd + len;

	/* Each argument ends with a NUL; the last one may not, in a cut. */
	while (a < end) {
		const char *nul = memchr(a, '\0', (size_t)(end - a));

		if (nul == NULL)
			break;
		if (is_opt(a, "--network-id") || is_opt(a, "--network_id"))
			return STATUS_KIND_NETWORK;
		if (is_opt(a, "--router-id") || is_opt(a, "--router_id"))
			return STATUS_KIND_ROUTER;
		a = nul + 1;
	}
	return STATUS_KIND_NONE;
}

/* The next blank-separated word of [*p, end) on its line; its length. */
static size_t
word(const char **p, const char *end)
{
	const char *w;

	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
	w = *p;
	while (*p < end && **p != ' ' && **p != '\t' && **p != '\n')
		(*p)++;
	return (size_t)(*p - w);
}

static bool
word_is(const char *w, size_t n, const char *s)
{
	return n == strlen(s) && strncasecmp(w, s, n) == 0;
}

enum status_kind
status_all_config_kind(const char *text, size_t len)
{
	const char *p = text, *end = text + len, *w;
	size_t n;

	while (p < end) {
		n = word(&p, end);
		if (word_is(p - n, n, "http-request")) {
			n = word(&p, end);
			w = p - n;
			if (word_is(w, n, "set-header") ||
			    word_is(w, n, "add-header")) {
				n = word(&p, end);
				w = p - n;
				if (word_is(w, n, MD_HEADER_NEUTRON_ROUTER))
					return STATUS_KIND_ROUTER;
				if (word_is(w, n, MD_HEADER_NEUTRON_NETWORK) ||
				    word_is(w, n, MD_HEADER_OVN_NETWORK))
					return STATUS_KIND_NETWORK;
			}
		}
		p = memchr(p, '\n', (size_t)(end - p));
		if (p == NULL)
			break;
		p++;
	}
	return STATUS_KIND_NONE;
}

static int
line_cmp(const void *a, const void *b)
{
	const struct status_line *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (c != 0)
		return c;
	if (x->state != y->state)
		return x->state < y->state ? -1 : 1;
	if (x->engine != y->engine)
		return x->engine < y->engine ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return strcmp(x->pidfile, y->pidfile);
}

static bool
live(enum status_state s)
{
	return s == STATUS_RUNNING || s == STATUS_WAITING ||
	       s == STATUS_UNKNOWN;
}

/* A stub's line: running, of the fleet's engine, from a pidfile. */
static bool
is_stub(const struct status_line *l)
{
	return l->engine == STATUS_ENGINE_FLEET && !l->fleet &&
	       l->pidfile[0] != '\0' && l->state == STATUS_RUNNING;
}

/* A line of the fleet's list, not merged with a stub's. */
static bool
is_listed(const struct status_line *l)
{
	return l->fleet && l->pidfile[0] == '\0';
}

/* The lines [a, b) of one id, merged in place; drop[i] for those gone. */
static void
merge_id(
    struct status_line *l, size_t a, size_t b, bool fleet_known, bool *drop)
{
	enum status_kind kind = STATUS_KIND_NONE;
	bool any_live = false, kept = false;
	size_t i, k;

	for (i = a; i < b; i++) {
		if (!is_stub(&l[i]))
			continue;
		for (k = a; k < b; k++)
			if (is_listed(&l[k]) && !drop[k])
				break;
		if (k == b) {
			l[i].state =
			    fleet_known ? STATUS_WAITING : STATUS_UNKNOWN;
			continue;
		}
		/* One line: the stub's pid, what the fleet counts. */
		l[i].fleet = true;
		if (l[k].kind != STATUS_KIND_NONE)
			l[i].kind = l[k].kind;
		l[i].uptime = l[k].uptime;
		l[i].requests = l[k].requests;
		l[i].error_known = l[k].error_known;
		memcpy(
		    l[i].last_error, l[k].last_error, sizeof(l[i].last_error));
		drop[k] = true;
	}
	for (i = a; i < b; i++) {
		if (drop[i])
			continue;
		if (kind == STATUS_KIND_NONE)
			kind = l[i].kind;
		any_live = any_live || live(l[i].state);
	}
	/* Sorted by state: the first not dropped is the most telling. */
	for (i = a; i < b; i++) {
		if (drop[i])
			continue;
		if (l[i].kind == STATUS_KIND_NONE)
			l[i].kind = kind;
		if (!live(l[i].state) && (any_live || kept))
			drop[i] = true;
		else if (!live(l[i].state))
			kept = true;
	}
}

size_t
status_all_merge(struct status_line *l, size_t n, bool fleet_known)
{
	bool *drop;
	size_t a, b, i, m;

	if (n == 0)
		return 0;
	qsort(l, n, sizeof(*l), line_cmp);
	drop = calloc(n, sizeof(*drop));
	if (drop == NULL)
		return n; /* unmerged, but every line true */
	for (a = 0; a < n; a = b) {
		for (b = a + 1; b < n && strcmp(l[a].id, l[b].id) == 0; b++)
			;
		merge_id(l, a, b, fleet_known, drop);
	}
	for (i = 0, m = 0; i < n; i++)
		if (!drop[i]) {
			if (m != i)
				l[m] = l[i];
			m++;
		}
	free(drop);
	qsort(l, m, sizeof(*l), line_cmp);
	return m;
}

static const char *
kind_name(enum status_kind k)
{
	switch (k) {
	case STATUS_KIND_NETWORK:
		return "network";
	case STATUS_KIND_ROUTER:
		return "router";
	case STATUS_KIND_NONE:
	default:
		return NULL;
	}
}

static const char *
engine_name(enum status_engine e)
{
	switch (e) {
	case STATUS_ENGINE_BUILTIN:
		return "builtin";
	case STATUS_ENGINE_HAPROXY:
		return "haproxy";
	case STATUS_ENGINE_FLEET:
		return "fleet";
	case STATUS_ENGINE_NONE:
	default:
		return NULL;
	}
}

static const char *
state_name(enum status_state s)
{
	switch (s) {
	case STATUS_RUNNING:
		return "running";
	case STATUS_WAITING:
		return "waiting";
	case STATUS_DEAD:
		return "dead";
	case STATUS_STOPPED:
		return "stopped";
	case STATUS_UNKNOWN:
	default:
		return "unknown";
	}
}

static const char *
or_dash(const char *s)
{
	return s != NULL ? s : "-";
}

void
status_all_text(const struct status_line *l, size_t n, struct strbuf *out)
{
	char pid[24], up[24], req[24], err[sizeof(l->last_error)], *p;
	size_t i;

	(void)strbuf_append(
	    out, "# id kind engine pid state uptime requests last-error\n");
	for (i = 0; i < n; i++) {
		(void)snprintf(pid, sizeof(pid), "%d", (int)l[i].pid);
		(void)snprintf(up, sizeof(up), "%lld", l[i].uptime);
		(void)snprintf(req, sizeof(req), "%lld", l[i].requests);
		/* One word, as fleet list has it: body-too-large. */
		(void)snprintf(err, sizeof(err), "%s",
		    l[i].error_known && l[i].last_error[0] != '\0'
		        ? l[i].last_error
		        : "-");
		for (p = err; *p != '\0'; p++)
			if (*p < 0x21 || *p > 0x7e) /* blanks too */
				*p = '-';
		(void)STRBUF_APPEND(out, l[i].id, " ",
		    or_dash(kind_name(l[i].kind)), " ",
		    or_dash(engine_name(l[i].engine)), " ",
		    l[i].pid > 0 ? pid : "-", " ", state_name(l[i].state), " ",
		    l[i].uptime >= 0 ? up : "-", " ",
		    l[i].requests >= 0 ? req : "-", " ", err, "\n");
	}
}

/* key: s, or null when s is NULL. false when it could not be added. */
static bool
add_str(json_object *o, const char *key, const char *s)
{
	json_object *v = NULL;

	if (s != NULL && (v = json_object_new_string(s)) == NULL)
		return false;
	if (json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return false;
	}
	return true;
}

/* key: n, or null when n is below 0. */
static bool
add_num(json_object *o, const char *key, long long n)
{
	json_object *v = NULL;

	if (n >= 0 && (v = json_object_new_int64((int64_t)n)) == NULL)
		return false;
	if (json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return false;
	}
	return true;
}

static json_object *
line_object(const struct status_line *l, const char *piddir)
{
	json_object *o = json_object_new_object();
	char path[PATH_MAX];
	bool ok;

	if (o == NULL)
		return NULL;
	ok = add_str(o, "id", l->id) &&
	     add_str(o, "kind", kind_name(l->kind)) &&
	     add_str(o, "engine", engine_name(l->engine)) &&
	     add_num(o, "pid", l->pid > 0 ? (long long)l->pid : -1) &&
	     add_str(o, "state", state_name(l->state)) &&
	     add_num(o, "uptime", l->uptime) &&
	     add_num(o, "requests", l->requests) &&
	     add_str(o, "last_error", l->error_known ? l->last_error : NULL) &&
	     add_str(o, "pidfile",
	         l->pidfile[0] != '\0' &&
	                 join(path, sizeof(path), piddir, l->pidfile) == 0
	             ? path
	             : NULL);
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

int
status_all_json(const struct status_line *l, size_t n, const char *piddir,
    size_t skipped, struct strbuf *out)
{
	json_object *top = json_object_new_object();
	json_object *arr = json_object_new_array();
	json_object *o;
	const char *s;
	size_t i;
	int r = -ENOMEM;

	if (top == NULL || arr == NULL) {
		json_object_put(arr);
		goto out;
	}
	if (json_object_object_add(top, "proxies", arr) < 0) {
		json_object_put(arr);
		goto out;
	}
	for (i = 0; i < n; i++) {
		o = line_object(&l[i], piddir);
		if (o == NULL || json_object_array_add(arr, o) < 0) {
			json_object_put(o);
			goto out;
		}
	}
	if (!add_num(top, "skipped", (long long)skipped))
		goto out;
	s = json_object_to_json_string_ext(
	    top, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s != NULL && STRBUF_APPEND(out, s, "\n") == 0)
		r = 0;
out:
	json_object_put(top);
	return r;
}

/* ---- what the node has ---- */

struct scan {
	struct status_line *l;
	size_t n, cap;
	size_t skipped;
	bool nomem;
	bool fleet_known; /* the fleet answered, or there is none */
	pid_t fleet_pid;
	const char *state; /* --state-path */
	char piddir[PATH_MAX];
	unsigned long long boot_s; /* /proc/uptime: seconds since boot */
	long hz;
	struct stat self; /* our binary */
	bool self_ok;
	struct fleet_reply *rp;
};

static struct status_line *
new_line(struct scan *sc, const char *id)
{
	struct status_line *l;

	if (sc->n == sc->cap) {
		size_t cap = sc->cap != 0 ? sc->cap * 2 : 64;

		l = reallocarray(sc->l, cap, sizeof(*l));
		if (l == NULL) {
			sc->nomem = true;
			return NULL;
		}
		sc->l = l;
		sc->cap = cap;
	}
	l = &sc->l[sc->n++];
	memset(l, 0, sizeof(*l));
	memcpy(l->id, id, sizeof(l->id));
	l->uptime = -1;
	l->requests = -1;
	l->state = STATUS_UNKNOWN;
	return l;
}

/* Does pid's command line name id (neutron's test of its pidfiles)? */
static bool
cmdline_names(pid_t pid, const char *id, enum status_kind *kind)
{
	char cmd[8192];
	ssize_t n, i;

	n = fd_read_proc(pid, "cmdline", cmd, sizeof(cmd));
	if (n <= 0)
		return false;
	*kind = status_all_cmdline_kind(cmd, (size_t)n);
	for (i = 0; i < n; i++)
		if (cmd[i] == '\0')
			cmd[i] = ' ';
	return strstr(cmd, id) != NULL;
}

static enum status_engine
engine_of(const struct scan *sc, pid_t pid)
{
	char path[64], target[PATH_MAX];
	struct stat st;
	ssize_t n;

	(void)snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	/* This very binary, wherever it is installed or built. */
	if (sc->self_ok && stat(path, &st) == 0 &&
	    st.st_dev == sc->self.st_dev && st.st_ino == sc->self.st_ino)
		return STATUS_ENGINE_BUILTIN;
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return STATUS_ENGINE_NONE;
	target[n] = '\0';
	return status_all_exe_engine(target);
}

/* Seconds pid has run: from its start in /proc/PID/stat; -1 unknown. */
static long long
age_of(const struct scan *sc, pid_t pid)
{
	char stat[1024];
	unsigned long long start;
	ssize_t n;

	if (sc->hz <= 0 || sc->boot_s == 0)
		return -1;
	n = fd_read_proc(pid, "stat", stat, sizeof(stat));
	if (n <= 0 || status_all_starttime(stat, (size_t)n, &start) < 0)
		return -1;
	start /= (unsigned long long)sc->hz;
	return sc->boot_s > start ? (long long)(sc->boot_s - start) : 0;
}

/* A network of a list reply into a line's counters. */
static void
take_counts(struct status_line *l, const struct fleet_net_info *f)
{
	time_t now = time(NULL);

	l->kind =
	    f->id_kind == ID_ROUTER ? STATUS_KIND_ROUTER : STATUS_KIND_NETWORK;
	l->requests = (long long)f->requests;
	l->error_known = true;
	memcpy(l->last_error, f->last_error, sizeof(l->last_error));
	l->uptime = f->since > 0 && (int64_t)now > f->since
	                ? (long long)((int64_t)now - f->since)
	                : 0;
}

/*
 * A built-in proxy that answers list on <pidfile>.ctl: its counters.
 * Quiet when there is no such socket, or nobody listens on it.
 */
static void
ask_own(struct scan *sc, int dfd, struct status_line *l)
{
	struct fleet_request rq;
	char name[sizeof(l->pidfile) + sizeof(MD_CONTROL_SUFFIX)],
	    path[PATH_MAX];
	char why[FLEET_ERROR_MAX];
	struct stat st;
	int fd = -1, code, i, r;
	long long age = l->uptime;

	if (STR_CONCAT(name, sizeof(name), l->pidfile, MD_CONTROL_SUFFIX) < 0 ||
	    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISSOCK(st.st_mode) ||
	    join(path, sizeof(path), sc->piddir, name) < 0)
		return;
	r = ctl_connect(path, &fd);
	if (r < 0) {
		if (r != -ENOENT && r != -ECONNREFUSED)
			log_warn("cannot ask '%s': %s", path, strerror(-r));
		return;
	}
	memset(&rq, 0, sizeof(rq));
	rq.op = FLEET_LIST;
	code = ctlclient_exchange(
	    fd, &rq, NULL, 0, sc->rp, NULL, why, sizeof(why));
	if (code == 0 && !sc->rp->ok)
		(void)snprintf(why, sizeof(why), "%s", sc->rp->error);
	if (code != 0 || !sc->rp->ok)
		log_warn("'%s' did not tell its counters: %s", path, why);
	for (i = 0; code == 0 && sc->rp->ok && i < sc->rp->nnets; i++)
		if (strcmp(sc->rp->nets[i].id, l->id) == 0) {
			take_counts(l, &sc->rp->nets[i]);
			l->uptime = age; /* the process's, as for the others */
		}
	(void)safe_close(fd);
}

/* One pidfile of the directory dfd. */
static void
probe_pidfile(
    struct scan *sc, int dfd, const char *name, const char *id, bool neutron)
{
	enum status_kind kind = STATUS_KIND_NONE;
	enum proxy_state st = PROXY_UNKNOWN;
	struct status_line *l;
	pid_t pid = 0;
	int r;

	r = lifecycle_probe_at(dfd, name, id, &st, &pid);
	l = new_line(sc, id);
	if (l == NULL)
		return;
	(void)STR_CONCAT(l->pidfile, sizeof(l->pidfile), name);
	if (r < 0) {
		log_warn("cannot read pidfile '%s/%s': %s", sc->piddir, name,
		    error_describe(r, OP_READ));
		return;
	}
	l->pid = pid;
	switch (st) {
	case PROXY_RUNNING:
		(void)cmdline_names(pid, id, &kind);
		break;
	case PROXY_STALE:
		/* neutron's haproxy writes its pidfile and locks nothing. */
		if (neutron && cmdline_names(pid, id, &kind))
			break; /* running */
		l->state = STATUS_DEAD;
		return;
	case PROXY_ABSENT:
		l->state = STATUS_STOPPED;
		return;
	case PROXY_UNKNOWN:
	default:
		return; /* the pid is not this id's proxy: nothing of it */
	}
	l->state = STATUS_RUNNING;
	l->kind = kind;
	l->engine = engine_of(sc, pid);
	l->uptime = age_of(sc, pid);
	if (l->engine == STATUS_ENGINE_BUILTIN)
		ask_own(sc, dfd, l);
}

/* Open the directory path below base, one component at a time. */
static int
open_below(int base, const char *rel, int *fd_out)
{
	char buf[PATH_MAX], *save = NULL, *c;
	int fd = base, next;

	if (STR_CONCAT(buf, sizeof(buf), rel) < 0)
		return -ENAMETOOLONG;
	for (c = strtok_r(buf, "/", &save); c != NULL;
	     c = strtok_r(NULL, "/", &save)) {
		next = openat(
		    fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd != base)
			(void)close(fd);
		if (next < 0)
			return -errno;
		fd = next;
	}
	if (fd == base)
		return -EINVAL;
	*fd_out = fd;
	return 0;
}

/*
 * The names in the directory dfd (a copy of the descriptor is read), to
 * visit, in no order; 0 or -errno.
 */
static int
each_name(
    int dfd, int (*visit)(struct scan *, int, const char *), struct scan *sc)
{
	struct dirent *de;
	DIR *d;
	int fd, r = 0;

	fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (d == NULL) {
		r = -errno;
		(void)close(fd);
		return r;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			r = -errno;
			break;
		}
		if (visit(sc, dfd, de->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
	}
	(void)closedir(d);
	return r;
}

static void
skip(struct scan *sc, const char *dir, const char *name, const char *why)
{
	char shown[SHOWN_MAX * 4 + 8];

	sc->skipped++;
	validate_escape(name, SHOWN_MAX, shown, sizeof(shown));
	log_debug("skipped '%s' in '%s': %s", shown, dir, why);
}

static int
visit_pidfile(struct scan *sc, int dfd, const char *name)
{
	char id[OPT_UUID_LEN + 1];
	bool neutron = false;
	struct stat st;
	int r;

	r = status_all_pidfile_id(name, id, &neutron);
	if (r == 0)
		return 0;
	if (r < 0) {
		skip(sc, sc->piddir, name, "not a canonical uuid");
		return 0;
	}
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0; /* gone meanwhile */
	if (!S_ISREG(st.st_mode)) {
		skip(sc, sc->piddir, name, "not a regular file");
		return 0;
	}
	probe_pidfile(sc, dfd, name, id, neutron);
	return sc->nomem ? -ENOMEM : 0;
}

static int
visit_config(struct scan *sc, int dfd, const char *name)
{
	char id[OPT_UUID_LEN + 1], *text;
	struct status_line *l;
	struct stat st;
	ssize_t n;
	int fd, r;

	r = status_all_config_id(name, id);
	if (r == 0)
		return 0;
	if (r < 0) {
		skip(sc, "config directory", name, "not a canonical uuid");
		return 0;
	}
	fd = openat(dfd, name,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && (errno == ELOOP || errno == ENXIO)) {
		skip(sc, "config directory", name, "not a regular file");
		return 0;
	}
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		(void)close(fd);
		skip(sc, "config directory", name, "not a regular file");
		return 0;
	}
	l = new_line(sc, id);
	if (l == NULL) {
		(void)safe_close(fd);
		return -ENOMEM;
	}
	l->state = STATUS_STOPPED;
	text = fd >= 0 ? malloc(CONFIG_READ_MAX) : NULL;
	if (text != NULL) {
		n = pread(fd, text, CONFIG_READ_MAX, 0);
		if (n > 0)
			l->kind = status_all_config_kind(text, (size_t)n);
	}
	free(text);
	(void)safe_close(fd);
	return 0;
}

/* A directory below the state path: its names visited. */
static void
scan_dir(struct scan *sc, int base, const char *rel, bool pids,
    int (*visit)(struct scan *, int, const char *))
{
	char path[PATH_MAX];
	int dfd = -1, r;

	if (join(path, sizeof(path), sc->state, rel) < 0)
		path[0] = '\0';
	r = open_below(base, rel, &dfd);
	if (r == -ENOENT) {
		log_debug("no directory '%s'", path);
		return;
	}
	/* A pidfile directory others may write: its files prove nothing. */
	if (r == 0 && pids)
		r = safefile_check_shared_dir(dfd);
	if (r == 0)
		r = each_name(dfd, visit, sc);
	if (r == -ENOMEM)
		sc->nomem = true;
	else if (r < 0)
		log_warn("cannot read directory '%s': %s", path,
		    r == -NMP_EUNSAFE ? "writable by group or others without "
		                        "the sticky bit"
		                      : error_describe(r, OP_READ));
	(void)safe_close(dfd);
}

/* The fleet's networks, every page of its list. */
static void
scan_fleet(struct scan *sc, const char *path)
{
	struct fleet_request rq;
	struct status_line *l;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char why[FLEET_ERROR_MAX];
	int fd = -1, code, page, i, r;

	r = ctl_connect(path, &fd);
	if (r == -ENOENT || r == -ECONNREFUSED) {
		log_debug("no fleet at --control-socket '%s': %s", path,
		    strerror(-r));
		sc->fleet_known = true;
		return;
	}
	if (r < 0) {
		log_warn("cannot reach the fleet at --control-socket '%s': %s",
		    path, strerror(-r));
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		sc->fleet_pid = cred.pid;
	memset(&rq, 0, sizeof(rq));
	rq.op = FLEET_LIST;
	for (page = 0; page < LIST_PAGES_MAX; page++) {
		code = ctlclient_exchange(
		    fd, &rq, NULL, 0, sc->rp, NULL, why, sizeof(why));
		if (code == 0 && !sc->rp->ok) {
			(void)snprintf(why, sizeof(why), "%s", sc->rp->error);
			code = EX_UNAVAILABLE;
		}
		if (code != 0) {
			log_warn("the fleet at --control-socket '%s' did not "
			         "list its networks: %s",
			    path, why);
			break;
		}
		for (i = 0; i < sc->rp->nnets; i++) {
			const struct fleet_net_info *f = &sc->rp->nets[i];

			/* Pages in the order of the ids, each after the last.
			 */
			if (rq.id[0] != '\0' && strcmp(f->id, rq.id) <= 0)
				continue;
			l = new_line(sc, f->id);
			if (l == NULL)
				goto out;
			l->fleet = true;
			l->engine = STATUS_ENGINE_FLEET;
			l->state = STATUS_RUNNING;
			l->pid = sc->fleet_pid;
			take_counts(l, f);
		}
		if (!sc->rp->more || sc->rp->nnets == 0 ||
		    strcmp(sc->rp->nets[sc->rp->nnets - 1].id, rq.id) <= 0) {
			sc->fleet_known = true;
			break;
		}
		memcpy(
		    rq.id, sc->rp->nets[sc->rp->nnets - 1].id, sizeof(rq.id));
	}
out:
	(void)safe_close(fd);
}

/* Seconds since boot, the clock's rate, our own binary. */
static void
scan_init(struct scan *sc)
{
	char up[64];
	int fd;
	ssize_t n;

	sc->hz = sysconf(_SC_CLK_TCK);
	sc->self_ok = stat("/proc/self/exe", &sc->self) == 0;
	fd = open("/proc/uptime", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, up, sizeof(up) - 1);
	(void)close(fd);
	if (n > 0 && status_all_uptime(up, (size_t)n, &sc->boot_s) < 0)
		sc->boot_s = 0;
}

int
cmd_status_all(const struct options *o)
{
	const char *state = o->daemon.state_path;
	struct scan sc;
	struct strbuf out = STRBUF_INIT;
	int base = -1, code = 0, r;
	size_t n;

	memset(&sc, 0, sizeof(sc));
	sc.state = state;
	sc.rp = malloc(sizeof(*sc.rp));
	if (sc.rp == NULL ||
	    join(sc.piddir, sizeof(sc.piddir), state, MD_PID_DIR) < 0) {
		code = EX_OSERR;
		goto out;
	}
	scan_init(&sc);
	r = safefile_open_base(state, &base);
	if (r < 0) {
		log_warn("cannot open --state-path '%s': %s", state,
		    error_describe(r, OP_READ));
	} else {
		scan_dir(&sc, base, MD_PID_DIR, true, visit_pidfile);
		scan_dir(&sc, base, MD_CONFIG_DIR_NEUTRON, false, visit_config);
		scan_dir(&sc, base, MD_CONFIG_DIR_OVN, false, visit_config);
	}
	scan_fleet(&sc, o->fleet.control_socket);
	if (sc.nomem) {
		log_err("cannot list the proxies: %s", strerror(ENOMEM));
		code = EX_OSERR;
		goto out;
	}
	if (sc.skipped > 0)
		log_warn(
		    "%zu names under '%s' skipped: a pidfile's or config's "
		    "name without a canonical uuid, or not a regular file",
		    sc.skipped, state);
	n = status_all_merge(sc.l, sc.n, sc.fleet_known);
	if (o->json)
		r = status_all_json(sc.l, n, sc.piddir, sc.skipped, &out);
	else
		status_all_text(sc.l, n, &out);
	if ((o->json && r < 0) || out.failed) {
		log_err("cannot list the proxies: %s", strerror(ENOMEM));
		code = EX_OSERR;
		goto out;
	}
	if (fwrite(strbuf_str(&out), 1, out.len, stdout) != out.len ||
	    fflush(stdout) != 0) {
		log_err("cannot write to standard output: %s", strerror(errno));
		code = EX_IOERR;
	}
out:
	strbuf_release(&out);
	(void)safe_close(base);
	free(sc.rp);
	free(sc.l);
	return code;
}
