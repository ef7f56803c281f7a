#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "cli.h"
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "cmd/ctlclient.h"
#include "engine/engine.h"
#include "engine/expose.h"
#include "errors.h"
#include "fd.h"
#include "fleet/ctl.h"
#include "fleet/proto.h"
#include "fleet/server.h"
#include "identity.h"
#include "launch.h"
#include "listener.h"
#include "log.h"
#include "notify.h"
#include "safefile.h"
#include "strbuf.h"
#include "validate.h"
#include "banned.h"

#define NETNS_DIR "/run/netns"
/* The state journal, in --state-path, and the most of it read. */
#define STATE_NAME "ns-metadata-proxy-fleet.state"
#define STATE_MAX (64UL * 1024 * 1024)
#define CONTROL_NAME "control"
/* fleet add --batch: the most read, and the most words on a line. */
#define BATCH_MAX (16UL * 1024 * 1024)
#define BATCH_WORDS 64

/* What fleet serve holds while it starts. */
struct serve {
	char **names; /* of the descriptors passed, NULL: none */
	int npassed;
	int ctl;          /* the control socket */
	bool made_socket; /* its path is ours to remove if the start fails */
	int state_dir;
	char *state;
	size_t state_len;
};

/* The journal of the last run, when there is one. */
static void
read_state(struct serve *sv, const struct daemon_conf *d)
{
	struct stat st;
	ssize_t got;
	int fd, r;

	r = safefile_open_base(d->state_path, &sv->state_dir);
	if (r < 0) {
		log_warn("no state journal in --state-path '%s': %s; the "
		         "networks will not survive a restart",
		    d->state_path, error_describe(r, OP_READ));
		sv->state_dir = -1;
		return;
	}
	fd = openat(
	    sv->state_dir, STATE_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return; /* the first run */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > STATE_MAX ||
	    (sv->state = malloc((size_t)st.st_size + 1)) == NULL) {
		log_warn("state journal %s/%s skipped: not a regular file of "
		         "at most %lu bytes",
		    d->state_path, STATE_NAME, STATE_MAX);
	} else {
		got = read(fd, sv->state, (size_t)st.st_size);
		sv->state_len = got > 0 ? (size_t)got : 0;
	}
	(void)safe_close(fd);
}

/* The journal compacted to what is served, then appended to. */
static void
write_state(struct serve *sv, struct fleet_server *s, const char *dir)
{
	struct strbuf now = STRBUF_INIT;
	int fd, r;

	if (sv->state_dir < 0)
		return;
	r = fleet_server_dump(s, &now);
	if (r == 0)
		r = safefile_replace(sv->state_dir, STATE_NAME,
		    now.buf != NULL ? now.buf : "", now.len);
	strbuf_release(&now);
	fd = r == 0 ? openat(sv->state_dir, STATE_NAME,
	                  O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC)
	            : -1;
	if (fd < 0) {
		log_warn("cannot write the state journal in '%s': %s; the "
		         "networks will not survive a restart",
		    dir,
		    r < 0 ? error_describe(r, OP_CREATE) : strerror(errno));
		return;
	}
	fleet_server_set_journal(s, fd);
}

/* No control socket came from the service manager. */
static bool
passed_none(const struct serve *sv)
{
	int i;

	for (i = 0; i < sv->npassed; i++)
		if (sv->names[i][0] == '\0')
			return false; /* passed_control() took it */
	return true;
}

/* The control socket the service manager kept for us, if it did. */
static int
passed_control(struct serve *sv)
{
	int i, fd;

	for (i = 0; i < sv->npassed; i++)
		if (strcmp(sv->names[i], CONTROL_NAME) == 0) {
			fd = NOTIFY_LISTEN_FDS_START + i;
			sv->names[i][0] = '\0'; /* taken: no network's */
			return fd;
		}
	return -1;
}

/*
 * Ten thousand networks are ten thousand listeners, and as many control
 * connections of the haproxy front: take every descriptor the hard limit
 * allows.
 */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < 2 * (rlim_t)FLEET_NETWORKS_MAX)
		log_warn("only %lu descriptors: fewer than %d networks can be "
		         "served (raise LimitNOFILE)",
		    (unsigned long)rl.rlim_cur, FLEET_NETWORKS_MAX);
}

/*
 * --metrics-listen: a host address, bound first (fleet serve enters no
 * tenant's namespace), served once the engine is. An exit code.
 */
static int
metrics_bind(const struct options *o, int *fd)
{
	int r;

	r = listener_open(
	    o->fleet.metrics_addr, o->fleet.metrics_port, NULL, 64, fd);
	if (r < 0) {
		log_err(o->fleet.metrics_family == AF_INET6
		            ? "cannot listen on --metrics-listen '[%s]:%u': %s"
		            : "cannot listen on --metrics-listen '%s:%u': %s",
		    o->fleet.metrics_addr, o->fleet.metrics_port,
		    error_describe(r, OP_BIND));
		return error_exit_code(r, OP_BIND);
	}
	return 0;
}

static int
fleet_serve(const struct options *o)
{
	const struct daemon_conf *d = &o->daemon;
	struct serve sv = {NULL, 0, -1, false, -1, NULL, 0};
	int passed[FLEET_NETWORKS_MAX * FLEET_FDS_MAX / 8];
	struct proxy_conf named;
	struct fleet_server *s = NULL;
	struct engine *e = NULL;
	struct expose *x = NULL;
	int metrics_fd = -1;
	const char *what = "";
	struct names nm;
	gid_t group;
	char gname[OPT_NAME_MAX + 1];
	int code, r, i, *fds = NULL;

	/* First: what a restart under systemd handed back (LISTEN_FDS). */
	sv.npassed = notify_listen_fds(&sv.names);
	memset(&named, 0, sizeof(named));
	(void)snprintf(named.id, sizeof(named.id), "fleet");
	code = setup_logging(&named, d);
	if (code != 0)
		goto out;
	code = resolve_names(d, &nm);
	if (code != 0)
		goto out;
	group = nm.gid;
	if (o->fleet.control_group[0] != '\0') {
		r = identity_group(
		    o->fleet.control_group, gname, sizeof(gname), &group);
		if (r < 0) {
			log_err("cannot use --control-group '%s': %s",
			    o->fleet.control_group,
			    error_describe(r, OP_GROUP));
			code = error_exit_code(r, OP_GROUP);
			goto out;
		}
	}
	sv.ctl = passed_control(&sv);
	r = sv.ctl >= 0 ? 0
	                : ctl_listen(o->fleet.control_socket, group, &sv.ctl);
	sv.made_socket = r == 0 && passed_none(&sv);
	if (r < 0) {
		log_err("cannot listen on --control-socket '%s': %s",
		    o->fleet.control_socket,
		    r == -EADDRINUSE ? "a fleet daemon answers there"
		                     : error_describe(r, OP_CREATE));
		code = r == -EADDRINUSE ? EX_TEMPFAIL
		                        : error_exit_code(r, OP_CREATE);
		goto out;
	}
	if (o->fleet.metrics_family != 0) {
		code = metrics_bind(o, &metrics_fd);
		if (code != 0)
			goto out;
	}
	raise_nofile();
	read_state(&sv, d);
	e = engine_new(d, &r, &what);
	if (e != NULL) {
		/* Kept by the service manager: clients wait in its backlog. */
		notify_fdstore(CONTROL_NAME, sv.ctl);
		s = fleet_server_new(e, sv.ctl, group, NETNS_DIR, &r);
		sv.ctl = -1;
	}
	if (s == NULL) {
		log_err("cannot start the fleet: %s%s%s", what,
		    what[0] != '\0' ? ": " : "", strerror(-r));
		code = EX_OSERR;
		goto out;
	}
	if (metrics_fd >= 0) {
		x = expose_new(e, metrics_fd, &r);
		metrics_fd = -1;
		if (x == NULL) {
			log_err(
			    "cannot serve --metrics-listen: %s", strerror(-r));
			code = EX_OSERR;
			goto out;
		}
	}
	fds = sv.npassed <= (int)(sizeof(passed) / sizeof(passed[0]))
	          ? passed
	          : calloc((size_t)sv.npassed, sizeof(int));
	for (i = 0; fds != NULL && i < sv.npassed; i++)
		fds[i] =
		    sv.names[i][0] != '\0' ? NOTIFY_LISTEN_FDS_START + i : -1;
	fleet_server_restore(s, sv.state != NULL ? sv.state : "", sv.state_len,
	    fds, sv.names, fds != NULL ? sv.npassed : 0);
	write_state(&sv, s, d->state_path);
	r = engine_drop_privileges(nm.uid, nm.gid);
	if (r < 0 || chdir("/") < 0) {
		log_err("cannot become %s:%s: %s", nm.user, nm.group,
		    error_describe(r < 0 ? r : -errno, OP_PRIVILEGES));
		code = error_exit_code(r < 0 ? r : -errno, OP_PRIVILEGES);
		goto out;
	}
	log_info("fleet serving on %s (group %u), as %s:%s, at most %lu "
	         "connections, %lu per network, %zu networks restored",
	    o->fleet.control_socket, (unsigned int)group, nm.user, nm.group,
	    d->maxconn, d->network_maxconn, fleet_server_count(s));
	sv.made_socket = false; /* served: it stays for the next start */
	notify_ready("serving the fleet");
	r = engine_run(e);
	code = r < 0 ? EX_OSERR : 0;
	log_info("fleet stopped with %zu networks", fleet_server_count(s));
out:
	/* A start that failed leaves no socket of its making behind. */
	if (code != 0 && sv.made_socket)
		(void)unlink(o->fleet.control_socket);
	fleet_server_free(s);
	expose_free(x);
	(void)safe_close(metrics_fd);
	engine_free(e);
	if (fds != passed)
		free(fds);
	(void)safe_close(sv.ctl);
	(void)safe_close(sv.state_dir);
	free(sv.state);
	notify_names_free(sv.names);
	return code;
}

/* A refusal of the daemon's: its line, and an exit code for it. */
static int
refused(const struct fleet_reply *rp)
{
	log_err("%s", rp->error);
	if (strncmp(rp->error, "permission denied", 17) == 0)
		return EX_NOPERM;
	if (strstr(rp->error, "is not served") != NULL)
		return EX_UNAVAILABLE;
	if (strstr(rp->error, "is served already") != NULL)
		return EX_CANTCREAT;
	return EX_DATAERR;
}

static int
fleet_add_one(const struct options *o)
{
	const struct proxy_conf *p = &o->proxy;
	struct launch_failure f = {0, 0, 0, false};
	struct fleet_request *rq = NULL;
	struct fleet_reply *rp = NULL;
	char netns[PATH_MAX] = "";
	int fds[FLEET_FDS_MAX] = {-1, -1};
	int nfds = 0, code, i;

	if (o->daemon.netns[0] != '\0') {
		code = netns_path(&o->daemon, netns, sizeof(netns));
		if (code != 0)
			return code;
	}
	rq = calloc(1, sizeof(*rq));
	rp = calloc(1, sizeof(*rp));
	if (rq == NULL || rp == NULL) {
		code = EX_OSERR;
		goto out;
	}
	rq->op = FLEET_ADD;
	rq->net = *p;
	(void)snprintf(rq->netns, sizeof(rq->netns), "%s", o->daemon.netns);
	/* Bound in the namespace: the socket stays there, wherever we go. */
	if (listen_in(p, &o->daemon, netns, fds, &nfds, &f) < 0) {
		log_start_failure(p, &o->daemon, "fleet add", netns, &f, "");
		code = launch_exit_code(&f);
		goto out;
	}
	code = ctlclient_ask(o->fleet.control_socket, rq, fds, nfds, rp, NULL);
	if (code == 0 && !rp->ok)
		code = refused(rp);
	else if (code == 0)
		log_info("network %s added to the fleet", p->id);
out:
	for (i = 0; i < nfds; i++)
		fds[i] = safe_close(fds[i]);
	free(rq);
	free(rp);
	return code;
}

static void
print_net(const struct fleet_net_info *n, bool whole)
{
	char when[32] = "-", since[32] = "-", reason[sizeof(n->last_error)];
	struct tm tm;
	time_t t;
	char *p;

	t = (time_t)n->since;
	if (gmtime_r(&t, &tm) != NULL)
		(void)strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!whole) {
		/* One word, as in the access log's reason=: body-too-large. */
		(void)snprintf(reason, sizeof(reason), "%s",
		    n->last_error[0] != '\0' ? n->last_error : "-");
		for (p = strchr(reason, ' '); p != NULL; p = strchr(p, ' '))
			*p = '-';
		printf("%s %s %s %s %s%s%s %lu %s %s\n", n->id,
		    n->flavor == FLAVOR_OVN ? "ovn" : "neutron",
		    n->id_kind == ID_ROUTER ? "router" : "network",
		    n->netns[0] != '\0' ? n->netns : "-",
		    n->nbinds > 0 ? n->binds[0] : "-", n->nbinds > 1 ? "," : "",
		    n->nbinds > 1 ? n->binds[1] : "", n->requests, reason,
		    since);
		return;
	}
	t = (time_t)n->last_error_at;
	if (n->last_error_at > 0 && gmtime_r(&t, &tm) != NULL)
		(void)strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("id: %s\nflavor: %s\nkind: %s\nnamespace: %s\n"
	       "namespace inode: %llu\nbinds: %s%s%s\nrequests: %lu\n"
	       "refused: %lu\nconnections: %lu\nlast error: %s\n"
	       "last error at: %s\nsince: %s\nheld: %s\n",
	    n->id, n->flavor == FLAVOR_OVN ? "ovn" : "neutron",
	    n->id_kind == ID_ROUTER ? "router" : "network",
	    n->netns[0] != '\0' ? n->netns : "-", n->netns_inode,
	    n->nbinds > 0 ? n->binds[0] : "-", n->nbinds > 1 ? " " : "",
	    n->nbinds > 1 ? n->binds[1] : "", n->requests, n->refused, n->conns,
	    n->last_error[0] != '\0' ? n->last_error : "-", when, since,
	    n->held ? "yes" : "no");
}

static int
fleet_query(const struct options *o)
{
	struct fleet_request *rq = calloc(1, sizeof(*rq));
	struct fleet_reply *rp = calloc(1, sizeof(*rp));
	int code = 0, i;

	if (rq == NULL || rp == NULL) {
		code = EX_OSERR;
		goto out;
	}
	switch (o->fleet.cmd) {
	case FLEET_CMD_DEL:
		rq->op = FLEET_DEL;
		break;
	case FLEET_CMD_SHOW:
		rq->op = FLEET_SHOW;
		break;
	default:
		rq->op = FLEET_LIST;
		break;
	}
	if (rq->op != FLEET_LIST)
		memcpy(rq->id, o->fleet.id, sizeof(rq->id));
	for (;;) {
		code = ctlclient_ask(
		    o->fleet.control_socket, rq, NULL, 0, rp, NULL);
		if (code != 0)
			break;
		if (!rp->ok) {
			code = refused(rp);
			break;
		}
		/* The header once the daemon answered: nothing on a failure. */
		if (rq->op == FLEET_LIST && rq->id[0] == '\0')
			printf("# id flavor kind namespace binds requests "
			       "last-error since\n");
		for (i = 0; i < rp->nnets; i++)
			print_net(&rp->nets[i], rq->op == FLEET_SHOW);
		if (rq->op != FLEET_LIST || !rp->more || rp->nnets == 0)
			break;
		memcpy(rq->id, rp->nets[rp->nnets - 1].id, sizeof(rq->id));
	}
	if (code == 0 && rq->op == FLEET_DEL)
		log_info("network %s removed from the fleet", o->fleet.id);
	if (code == 0 && fflush(stdout) != 0)
		code = EX_IOERR;
out:
	free(rq);
	free(rp);
	return code;
}

/* The whole of the batch (file or standard input), NUL-terminated. */
static int
batch_read(const char *path, struct strbuf *all)
{
	char buf[8192];
	FILE *in = stdin;
	size_t n;
	int code = 0;

	if (strcmp(path, "-") != 0) {
		in = fopen(path, "re");
		if (in == NULL) {
			log_err("cannot open --batch '%s': %s", path,
			    strerror(errno));
			return errno == ENOENT ? EX_NOINPUT : EX_IOERR;
		}
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0 && !all->failed)
		if (all->len + n > BATCH_MAX) {
			log_err("--batch '%s': more than %lu bytes", path,
			    BATCH_MAX);
			code = EX_DATAERR;
			break;
		} else {
			(void)strbuf_appendn(all, buf, n);
		}
	if (code == 0 && (ferror(in) || all->failed)) {
		log_err("cannot read --batch '%s'", path);
		code = EX_IOERR;
	}
	if (in != stdin)
		(void)fclose(in);
	return code;
}

/*
 * One line of the batch as the options of `fleet add` (words split at
 * blanks; no quoting: no value of a network has a blank). 0: not a
 * network (blank, or a # comment); 1: *o is one; else an exit code, the
 * line refused.
 */
static int
batch_line(
    const struct options *top, char *line, size_t lineno, struct options *o)
{
	char *argv[BATCH_WORDS + 4], *save = NULL, *w;
	char shown[128];
	struct cli_error err;
	int argc = 3;
	static char prog[] = "ns-metadata-proxy", fleet[] = "fleet",
	            add[] = "add";

	argv[0] = prog;
	argv[1] = fleet;
	argv[2] = add;
	for (w = strtok_r(line, " \t\r", &save); w != NULL;
	     w = strtok_r(NULL, " \t\r", &save)) {
		if (argc == 3 && w[0] == '#')
			return 0;
		if (argc == BATCH_WORDS + 3) {
			log_err("--batch line %zu: more than %d words", lineno,
			    BATCH_WORDS);
			return EX_DATAERR;
		}
		if (strncmp(w, "--batch", 7) == 0 ||
		    strncmp(w, "--control-socket", 16) == 0 ||
		    strncmp(w, "--control_socket", 16) == 0) {
			(void)validate_escape(w, 32, shown, sizeof(shown));
			log_err("--batch line %zu: '%s' is not an option of a "
			        "line",
			    lineno, shown);
			return EX_USAGE;
		}
		argv[argc++] = w;
	}
	if (argc == 3)
		return 0;
	argv[argc] = NULL;
	if (cli_parse(argc, argv, o, &err) != CLI_OK) {
		log_err("--batch line %zu: %s", lineno,
		    err.msg[0] != '\0' ? err.msg
		                       : "not the options of a network");
		return err.exit_code != 0 ? err.exit_code : EX_USAGE;
	}
	memcpy(o->fleet.control_socket, top->fleet.control_socket,
	    sizeof(o->fleet.control_socket));
	return 1;
}

/*
 * Every line, once to check them all (one refused: nothing is added), once
 * to add each. 0, or the exit code of the first network not added.
 */
static int
fleet_add_batch(const struct options *top)
{
	struct strbuf all = STRBUF_INIT;
	struct options *o = malloc(sizeof(*o));
	char *copy = NULL, *line, *next;
	size_t lineno, total = 0, added = 0;
	int pass, code, first = 0, r;

	code = o == NULL ? EX_OSERR : batch_read(top->fleet.batch, &all);
	if (code == 0 && (strbuf_appendn(&all, "", 1) < 0 ||
	                     (copy = malloc(all.len)) == NULL))
		code = EX_OSERR;
	for (pass = 0; code == 0 && pass < 2; pass++) {
		memcpy(copy, all.buf, all.len); /* strtok_r cuts it */
		for (line = copy, lineno = 1; line != NULL && code == 0;
		     line = next, lineno++) {
			next = strchr(line, '\n');
			if (next != NULL)
				*next++ = '\0';
			r = batch_line(top, line, lineno, o);
			if (r > 1)
				code = r;
			if (r != 1)
				continue;
			if (pass == 0) {
				total++;
				continue;
			}
			r = fleet_add_one(o);
			if (r == 0)
				added++;
			else if (first == 0)
				first = r;
		}
		if (code == 0 && pass == 0 && total > FLEET_NETWORKS_MAX) {
			log_err("--batch: %zu networks, more than a fleet "
			        "serves (%d)",
			    total, FLEET_NETWORKS_MAX);
			code = EX_DATAERR;
		}
	}
	if (code == 0)
		log_info("%zu of %zu networks added", added, total);
	free(copy);
	free(o);
	strbuf_release(&all);
	return code != 0 ? code : first;
}

/*
 * The exposition comes in a memfd beside the reply: a regular file, of
 * the length the reply says; copied to standard output.
 */
static int
fleet_metrics(const char *path)
{
	struct fleet_request rq;
	struct fleet_reply *rp = calloc(1, sizeof(*rp));
	struct stat st;
	char buf[65536];
	uint64_t left;
	ssize_t n;
	int fd = -1, code;

	memset(&rq, 0, sizeof(rq));
	rq.op = FLEET_METRICS;
	if (rp == NULL)
		return EX_OSERR;
	code = ctlclient_ask(path, &rq, NULL, 0, rp, &fd);
	if (code == 0 && !rp->ok)
		code = refused(rp);
	if (code != 0)
		goto out;
	if (!rp->has_metrics || fd < 0 || fstat(fd, &st) < 0 ||
	    !S_ISREG(st.st_mode) || (uint64_t)st.st_size != rp->metrics_bytes) {
		log_err("the fleet at '%s' answered metrics without their "
		        "text",
		    path);
		code = EX_PROTOCOL;
		goto out;
	}
	for (left = rp->metrics_bytes; left > 0; left -= (uint64_t)n) {
		n = read(
		    fd, buf, left < sizeof(buf) ? (size_t)left : sizeof(buf));
		if (n <= 0 || fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
			log_err("cannot copy the metrics: %s",
			    n < 0 ? strerror(errno) : "cut short");
			code = EX_IOERR;
			goto out;
		}
	}
	if (fflush(stdout) != 0)
		code = EX_IOERR;
out:
	(void)safe_close(fd);
	free(rp);
	return code;
}

/* Health: text lines; 0 when ok, 69 when degraded or stopping. */
static int
fleet_health(const char *path)
{
	struct fleet_request rq;
	struct fleet_reply *rp = calloc(1, sizeof(*rp));
	const struct fleet_health *h;
	int code, i;

	memset(&rq, 0, sizeof(rq));
	rq.op = FLEET_HEALTH;
	if (rp == NULL)
		return EX_OSERR;
	code = ctlclient_ask(path, &rq, NULL, 0, rp, NULL);
	if (code == 0 && !rp->ok)
		code = refused(rp);
	if (code == 0 && !rp->has_health) {
		log_err("the fleet at '%s' answered without its health", path);
		code = EX_PROTOCOL;
	}
	if (code != 0)
		goto out;
	h = &rp->health;
	printf("status: %s\nnetworks: %lu\nlisteners: %lu\nlistening: %lu\n",
	    h->status, h->networks, h->listeners, h->listening);
	for (i = 0; i < h->nagents; i++)
		printf("agent: %s %s%s%s\n", h->agents[i].path,
		    h->agents[i].reachable ? "reachable" : "unreachable",
		    h->agents[i].reachable ? "" : ": ", h->agents[i].error);
	if (fflush(stdout) != 0)
		code = EX_IOERR;
	else if (strcmp(h->status, "ok") != 0)
		code = EX_UNAVAILABLE;
out:
	free(rp);
	return code;
}

static int
fleet_add(const struct options *o)
{
	if (o->fleet.batch[0] != '\0')
		return fleet_add_batch(o);
	return fleet_add_one(o);
}

int
cmd_fleet(const struct options *o)
{
	switch (o->fleet.cmd) {
	case FLEET_CMD_SERVE:
		return fleet_serve(o);
	case FLEET_CMD_ADD:
		return fleet_add(o);
	case FLEET_CMD_DEL:
	case FLEET_CMD_LIST:
	case FLEET_CMD_SHOW:
		return fleet_query(o);
	case FLEET_CMD_METRICS:
		return fleet_metrics(o->fleet.control_socket);
	case FLEET_CMD_HEALTH:
		return fleet_health(o->fleet.control_socket);
	}
	return EX_SOFTWARE;
}
