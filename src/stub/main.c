/*
 * ns-metadata-proxy-stub: what the `haproxy` front becomes once the fleet
 * serves its network. Same pid, same command line (neutron's process
 * monitor finds the uuid there), the front's pidfile lock, the network's
 * listeners and the control connection that holds the network in the
 * fleet: closing it (our exit, SIGTERM or SIGKILL) removes exactly this
 * network. When the fleet goes (a restart), it registers the network
 * again on the same listeners, whose clients wait in the backlog; one
 * that cannot within the handover's reconnect_timeout exits, so that
 * neutron starts the front anew, which then serves the network itself.
 *
 * Small on purpose (libc and json-c only: docs/benchmarks.md measures
 * it): it reads its handover (fleet/handover.h) on standard input, drops
 * to the proxy's account keeping the control socket's group, and waits.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "fd.h"
#include "fleet/handover.h"
#include "fleet/hold.h"
#include "log.h"
#include "pidfile.h"
#include "banned.h"

/* First wait before registering again; doubled up to the most. */
#define RETRY_FIRST_MS 100
#define RETRY_MOST_MS 1000

static struct handover ho;
static struct pidfile pf = PIDFILE_INIT;

static int
read_handover(void)
{
	char why[160];
	char *buf = malloc(HANDOVER_MAX + 1);
	size_t got = 0;
	ssize_t n;
	int fd, r;

	if (buf == NULL)
		return -ENOMEM;
	while (got <= HANDOVER_MAX) {
		n = read(STDIN_FILENO, buf + got, HANDOVER_MAX + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	r = handover_parse(buf, got, &ho, why, sizeof(why));
	free(buf);
	if (r < 0) {
		log_err("cannot read the handover on standard input: %s", why);
		return r;
	}
	/* Standard input was the handover: /dev/null from now on. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && fd != STDIN_FILENO) {
		(void)dup2(fd, STDIN_FILENO);
		(void)close(fd);
	}
	return 0;
}

/* The descriptors the handover names are ours; none goes to a child. */
static int
take_fds(void)
{
	int i, r = fd_cloexec(ho.conn, true);

	for (i = 0; i < ho.nlisten && r == 0; i++)
		r = fd_cloexec(ho.listen[i], true);
	if (r == 0)
		r = fd_cloexec(ho.pidfile_fd, true);
	if (r == 0 && ho.pidfile_fd >= 0)
		r = fd_cloexec(ho.pidfile_dir, true);
	if (r == 0)
		r = fd_cloexec(ho.log_fd, true);
	if (r < 0) {
		log_err("a descriptor of the handover is not open: %s",
		    strerror(EBADF));
		return r;
	}
	pf.fd = ho.pidfile_fd;
	pf.dirfd = ho.pidfile_dir;
	memcpy(pf.name, ho.pidfile_name, sizeof(pf.name));
	return 0;
}

static void
setup_log(void)
{
	log_init(ho.ident);
	log_set_id(ho.id);
	log_set_debug(ho.debug);
	if (ho.log_fd >= 0)
		log_file_adopt(ho.log_fd, ho.log_path);
	if (ho.syslog_facility[0] != '\0')
		log_to_syslog(ho.syslog_facility);
}

/* The proxy's account, and the control socket's group to come back. */
static int
drop(void)
{
	gid_t groups[2] = {ho.gid, ho.ctl_gid};

	if (geteuid() != 0)
		return 0;
	if (setgroups(ho.ctl_gid == ho.gid ? 1 : 2, groups) < 0 ||
	    setgid(ho.gid) < 0 || setuid(ho.uid) < 0) {
		log_err("cannot run as uid %u gid %u: %s", (unsigned)ho.uid,
		    (unsigned)ho.gid, strerror(errno));
		return -1;
	}
	if (ho.uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		log_err("root came back after the drop to uid %u",
		    (unsigned)ho.uid);
		return -1;
	}
	return 0;
}

static int
signals(void)
{
	sigset_t set;

	(void)sigemptyset(&set);
	(void)sigaddset(&set, SIGTERM);
	(void)sigaddset(&set, SIGINT);
	(void)sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	/*
	 * The front left SIGHUP ignored across the exec: blocked first, so
	 * that none kills us in between, then back to its default, so that
	 * one comes through the signalfd.
	 */
	(void)signal(SIGHUP, SIG_DFL);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* SIGTERM, SIGINT: 1 to end; SIGHUP: the log file again. */
static int
on_signal(int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			if (log_reopen() < 0)
				log_warn("cannot reopen the log file");
			continue;
		}
		log_info(
		    "signal %u: the fleet lets the network go", si.ssi_signo);
		return 1;
	}
	return 0;
}

static long long
now_ms(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * The fleet closed our connection: register again until it takes the
 * network. 0 held again, 1 a signal to end, -1 given up.
 */
static int
register_again(int sfd)
{
	long long deadline = now_ms() + (long long)ho.reconnect_timeout * 1000;
	struct pollfd p = {sfd, POLLIN, 0};
	char why[FLEET_ERROR_MAX + 64] = "";
	int wait = RETRY_FIRST_MS, r, tries = 0;

	ho.conn = safe_close(ho.conn);
	log_warn("the fleet at %s closed the connection that holds the "
	         "network: registering it again",
	    ho.control_socket);
	for (;;) {
		tries++;
		r = hold_register(ho.control_socket, ho.request, ho.request_len,
		    ho.listen, ho.nlisten, &ho.conn, why, sizeof(why));
		if (r == 0) {
			log_info("registered again with the fleet at %s (try "
			         "%d)",
			    ho.control_socket, tries);
			/* What the reply took goes back to the system. */
			(void)malloc_trim(0);
			return 0;
		}
		/* A fleet still finishing its connections: the next one. */
		if (r == 1 && strstr(why, "the daemon is stopping") != NULL)
			r = -EAGAIN;
		if (r == 1) {
			log_err("the fleet at %s refused the network: %s; "
			        "exiting, for the agent to start its proxy "
			        "anew",
			    ho.control_socket, why);
			return -1;
		}
		if (now_ms() + wait > deadline) {
			log_err("no fleet at %s for %u s (%s): exiting, for "
			        "the agent to start its proxy anew",
			    ho.control_socket, ho.reconnect_timeout, why);
			return -1;
		}
		if (poll(&p, 1, wait) > 0 && on_signal(sfd) == 1)
			return 1;
		wait = wait * 2 > RETRY_MOST_MS ? RETRY_MOST_MS : wait * 2;
	}
}

/* A message or the end on the connection: 1 when the fleet is gone. */
static int
fleet_gone(void)
{
	char b[256];
	ssize_t n = recv(ho.conn, b, sizeof(b), MSG_DONTWAIT);

	if (n > 0)
		return 0; /* nothing is sent to a holder; ignored */
	return n == 0 || (errno != EAGAIN && errno != EINTR);
}

static void
stop(void)
{
	/*
	 * Removed when the account may; else the pid stays, as haproxy's
	 * does: neutron reads the file while it waits for the end, and calls
	 * an empty one an error.
	 */
	if (pf.fd >= 0)
		(void)pidfile_unlink(&pf);
}

/*
 * Run by descriptor, the kernel names us after it ("5"): take the name of
 * the command line, as `ps` and `pgrep haproxy` knew the front.
 */
static void
name_self(const char *argv0)
{
	const char *base;

	if (argv0 == NULL)
		return;
	base = strrchr(argv0, '/');
	base = base != NULL ? base + 1 : argv0;
	if (*base != '\0')
		(void)prctl(PR_SET_NAME, base, 0, 0, 0);
}

int
main(int argc, char *argv[])
{
	struct pollfd p[2];
	int sfd, r;

	name_self(argc > 0 ? argv[0] : NULL);
	log_init("ns-metadata-proxy-stub");
	if (read_handover() < 0 || take_fds() < 0)
		return EX_SOFTWARE;
	setup_log();
	if (drop() < 0)
		return EX_NOPERM;
	sfd = signals();
	if (sfd < 0) {
		log_err("cannot take signals: %s", strerror(errno));
		return EX_OSERR;
	}
	(void)malloc_trim(0);
	log_debug("holding the network in the fleet at %s", ho.control_socket);
	for (;;) {
		p[0] = (struct pollfd){ho.conn, POLLIN | POLLRDHUP, 0};
		p[1] = (struct pollfd){sfd, POLLIN, 0};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll: %s", strerror(errno));
			return EX_OSERR;
		}
		if ((p[1].revents & POLLIN) != 0 && on_signal(sfd) == 1) {
			stop();
			return 0;
		}
		/* Hung up, or an end to read: the fleet went. */
		if (p[0].revents == 0 ||
		    ((p[0].revents & (POLLHUP | POLLRDHUP | POLLERR)) == 0 &&
		        !fleet_gone()))
			continue;
		r = register_again(sfd);
		if (r == 1) {
			stop();
			return 0;
		}
		if (r < 0)
			return EX_UNAVAILABLE;
	}
}
