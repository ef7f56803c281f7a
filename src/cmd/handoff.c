#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/handoff.h"
#include "fd.h"
#include "fleet/handover.h"
#include "fleet/hold.h"
#include "fleet/proto.h"
#include "launch.h"
#include "log.h"
#include "notify.h"
#include "banned.h"

#define STUB_NAME "ns-metadata-proxy-stub"
/* The environment the stub keeps: neutron's tag of its process. */
#define PROCESS_TAG "PROCESS_TAG="
#define PROCESS_TAG_MAX 128

#ifndef NMP_STUB_PATH
#define NMP_STUB_PATH "/usr/libexec/ns-metadata-proxy/" STUB_NAME
#endif

/* The program at path, if root may run it (launch_trusted_binary). */
static int
open_trusted(const char *path)
{
	struct stat st;
	int fd = open(path, O_PATH | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || launch_trusted_binary(&st) < 0) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

/*
 * The stub: beside this binary (a build tree, or an installation that
 * keeps them together), else where the package puts it. Opened now, run
 * later from another mount namespace.
 */
static int
open_stub(char *path, size_t pathsz)
{
	char self[PATH_MAX];
	char *slash;
	ssize_t n;
	int fd;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL &&
		    (size_t)(slash - self) + sizeof(STUB_NAME) + 1 < pathsz) {
			slash[1] = '\0';
			(void)STR_CONCAT(path, pathsz, self, STUB_NAME);
			fd = open_trusted(path);
			if (fd >= 0)
				return fd;
		}
	}
	(void)STR_CONCAT(path, pathsz, NMP_STUB_PATH);
	return open_trusted(path);
}

/*
 * `ip netns exec` gave us a mount namespace of our own, a copy of the
 * whole mount table (each namespace's /run/netns mount among it): join
 * PID 1's, which the stub needs no more than it.
 */
static void
leave_mount_ns(void)
{
	struct stat ours, init;
	int fd = open("/proc/1/ns/mnt", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &init) < 0 ||
	    stat("/proc/self/ns/mnt", &ours) < 0) {
		log_warn("cannot see PID 1's mount namespace: %s; the stub "
		         "keeps its own",
		    strerror(errno));
	} else if (ours.st_ino != init.st_ino || ours.st_dev != init.st_dev) {
		if (setns(fd, CLONE_NEWNS) < 0)
			log_warn("cannot join PID 1's mount namespace: %s; "
			         "the stub keeps its own",
			    strerror(errno));
	}
	if (fd >= 0)
		(void)close(fd);
	if (chdir("/") < 0)
		log_debug("chdir /: %s", strerror(errno));
}

/* What the stub reads on its standard input. */
static int
handover_fd(const struct handoff *h, const struct proxy_conf *p,
    const struct daemon_conf *d, const struct names *nm,
    const struct pidfile *pf, int conn, const int *fds, int nfds,
    const struct strbuf *req)
{
	struct handover ho;
	struct strbuf text = STRBUF_INIT;
	struct stat st;
	int fd = -1, i;

	memset(&ho, 0, sizeof(ho));
	memcpy(ho.id, p->id, sizeof(ho.id));
	(void)STR_CONCAT(
	    ho.control_socket, sizeof(ho.control_socket), h->control_socket);
	ho.reconnect_timeout = h->reconnect_timeout;
	ho.conn = conn;
	for (i = 0; i < nfds; i++)
		ho.listen[i] = fds[i];
	ho.nlisten = nfds;
	ho.pidfile_fd = pf->fd;
	ho.pidfile_dir = pf->fd >= 0 ? pf->dirfd : -1;
	(void)STR_CONCAT(ho.pidfile_name, sizeof(ho.pidfile_name), pf->name);
	ho.log_fd = log_file_fd();
	(void)STR_CONCAT(ho.log_path, sizeof(ho.log_path), log_file_path());
	if (d->use_syslog)
		(void)STR_CONCAT(ho.syslog_facility, sizeof(ho.syslog_facility),
		    d->syslog_facility);
	(void)STR_CONCAT(ho.ident, sizeof(ho.ident), log_get_ident());
	ho.debug = d->debug;
	ho.uid = nm->uid;
	ho.gid = nm->gid;
	/*
	 * To register again after the fleet restarts, as the account: the
	 * socket's own group, never that of a file a link there names.
	 */
	ho.ctl_gid = lstat(h->control_socket, &st) == 0 && S_ISSOCK(st.st_mode)
	                 ? st.st_gid
	                 : nm->gid;
	ho.request = req->buf;
	ho.request_len = req->len;
	if (handover_write(&ho, &text) < 0)
		goto out;
	fd = memfd_create("ns-metadata-proxy-handover", MFD_CLOEXEC);
	if (fd >= 0 && (fd_write_all(fd, text.buf, text.len) < 0 ||
	                   lseek(fd, 0, SEEK_SET) < 0))
		fd = safe_close(fd);
out:
	strbuf_release(&text);
	return fd;
}

static void
stub_env(char **env, char *tag, size_t tagsz)
{
	const char *t = getenv("PROCESS_TAG");
	size_t i;

	env[0] = NULL;
	if (t == NULL || strlen(t) > PROCESS_TAG_MAX)
		return;
	for (i = 0; t[i] != '\0'; i++)
		if (t[i] < 0x21 || t[i] > 0x7e)
			return;
	if (STR_CONCAT(tag, tagsz, PROCESS_TAG, t) < 0)
		return;
	env[0] = tag;
	env[1] = NULL;
}

void
handoff_try(const struct handoff *h, const struct proxy_conf *p,
    const struct daemon_conf *d, const struct names *nm, struct pidfile *pf,
    int *report, const int *fds, int nfds)
{
	struct fleet_request *rq = NULL;
	struct strbuf req = STRBUF_INIT;
	char why[FLEET_ERROR_MAX + 64], stub_path[PATH_MAX];
	char tag[sizeof(PROCESS_TAG) + PROCESS_TAG_MAX], *env[2];
	const char *what = p->id_kind == ID_ROUTER ? "router" : "network";
	int conn = -1, stub = -1, mfd = -1, r, i;

	rq = calloc(1, sizeof(*rq));
	if (rq == NULL) {
		log_warn("cannot ask the fleet: %s; serving %s %s itself",
		    strerror(ENOMEM), what, p->id);
		return;
	}
	rq->op = FLEET_ADD;
	rq->net = *p;
	rq->hold = true;
	if (fleet_request_write(rq, &req) < 0 || req.failed) {
		log_warn("cannot ask the fleet: %s; serving %s %s itself",
		    strerror(ENOMEM), what, p->id);
		goto out;
	}
	stub = open_stub(stub_path, sizeof(stub_path));
	if (stub < 0) {
		log_warn("no stub program at %s: serving %s %s itself "
		         "without asking the fleet",
		    stub_path, what, p->id);
		goto out;
	}
	r = hold_register(h->control_socket, req.buf, req.len, fds, nfds, &conn,
	    why, sizeof(why));
	if (r == -ENOENT || r == -ECONNREFUSED) {
		log_info("no fleet at %s (%s): serving %s %s itself",
		    h->control_socket, why, what, p->id);
		goto out;
	}
	if (r != 0) {
		log_warn("the fleet at %s %s %s %s: %s; serving it itself",
		    h->control_socket, r == 1 ? "refused" : "did not take",
		    what, p->id, why);
		goto out;
	}
	mfd = handover_fd(h, p, d, nm, pf, conn, fds, nfds, &req);
	if (mfd < 0) {
		log_warn("cannot write the stub's handover: %s; serving %s %s "
		         "itself",
		    strerror(errno), what, p->id);
		goto out;
	}
	leave_mount_ns();
	if (pf->fd >= 0) {
		r = pidfile_write(pf, getpid());
		if (r < 0) {
			log_warn("cannot write the pidfile: %s; serving %s %s "
			         "itself",
			    strerror(-r), what, p->id);
			goto out;
		}
	}
	if (*report >= 0) {
		launch_daemon_ready(*report, NULL);
		*report = -1;
		log_quiet_stderr();
	} else {
		notify_ready("handed to the fleet");
	}
	log_info("%s %s on %s port %u served by the fleet at %s; pid %d "
	         "holds it",
	    what, p->id, p->bind_address, p->port, h->control_socket,
	    (int)getpid());
	r = fd_cloexec(conn, false);
	for (i = 0; i < nfds && r == 0; i++)
		r = fd_cloexec(fds[i], false);
	if (r == 0)
		r = fd_cloexec(pf->fd, false) |
		    fd_cloexec(pf->fd >= 0 ? pf->dirfd : -1, false) |
		    fd_cloexec(log_file_fd(), false);
	/*
	 * SIGPIPE, SIGXFSZ and SIGHUP stay ignored across the exec (main.c):
	 * a SIGHUP that logrotate sends before the stub takes its signals
	 * must not end it.
	 */
	if (r == 0 && dup2(mfd, STDIN_FILENO) == STDIN_FILENO) {
		stub_env(env, tag, sizeof(tag));
		log_syslog_suspend();
		(void)fexecve(stub, h->argv, env);
		log_syslog_resume();
	}
	log_err("cannot run the stub %s: %s; serving %s %s itself", stub_path,
	    strerror(errno), what, p->id);
	i = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (i >= 0 && i != STDIN_FILENO) {
		(void)dup2(i, STDIN_FILENO);
		(void)close(i);
	}
out:
	/* The fleet lets the network go when this closes. */
	(void)safe_close(conn);
	(void)safe_close(mfd);
	(void)safe_close(stub);
	strbuf_release(&req);
	free(rq);
}
