/*
 * hold_register (fleet/hold.h): the front's and the stub's one exchange
 * with the fleet, against a stand-in daemon in a child process that
 * answers as told and reports what it received.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fleet/ctl.h"
#include "fleet/hold.h"

#define REQ "{\"v\":1,\"op\":\"add\",\"hold\":true}"

struct fake {
	char dir[64];
	char path[96];
	int lfd;
	pid_t pid;
};

/*
 * A daemon that takes one connection, checks it got REQ and one
 * descriptor, sends reply (NULL: closes unanswered), then waits for the
 * end of the connection. Its exit code: 0 all as expected, 1 the request
 * or the descriptor not, 2 the connection did not end.
 */
static void
fake_start(struct fake *f, const char *reply)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char buf[512];
	int fd, fds[2], nfds = 0, code = 0;
	ssize_t n;

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/nmp-hold.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	(void)snprintf(f->path, sizeof(f->path), "%s/fleet.sock", f->dir);
	(void)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	f->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid > 0)
		return;
	fd = accept(f->lfd, NULL, NULL);
	n = ctl_recv(fd, buf, sizeof(buf) - 1, fds, 2, &nfds);
	if (n != (ssize_t)strlen(REQ) || memcmp(buf, REQ, strlen(REQ)) != 0 ||
	    nfds != 1)
		code = 1;
	if (reply != NULL)
		(void)ctl_send(fd, reply, strlen(reply), NULL, 0);
	else
		_exit(code);
	/* The holder's end: its close is what the fleet acts on. */
	n = ctl_recv(fd, buf, sizeof(buf), fds, 2, &nfds);
	_exit(code != 0 ? code : n == 0 ? 0 : 2);
}

static int
fake_end(struct fake *f)
{
	int st = 0;

	assert_int_equal(waitpid(f->pid, &st, 0), f->pid);
	(void)close(f->lfd);
	(void)unlink(f->path);
	(void)rmdir(f->dir);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

static int
ask(struct fake *f, int *conn, char *why, size_t whysz)
{
	int p[2], r;

	assert_int_equal(pipe(p), 0);
	r = hold_register(
	    f->path, REQ, strlen(REQ), &p[0], 1, conn, why, whysz);
	(void)close(p[0]);
	(void)close(p[1]);
	return r;
}

static void
test_held(void **state)
{
	struct fake f;
	char why[256] = "";
	int conn = -1;

	(void)state;
	fake_start(&f, "{\"v\":1,\"ok\":true}");
	assert_int_equal(ask(&f, &conn, why, sizeof(why)), 0);
	assert_true(conn >= 0);
	/* Still held: closing it is the goodbye. */
	assert_int_equal(close(conn), 0);
	assert_int_equal(fake_end(&f), 0);
}

static void
test_refused(void **state)
{
	struct fake f;
	char why[256] = "";
	int conn = -1;

	(void)state;
	fake_start(&f, "{\"v\":1,\"ok\":false,\"error\":\"network "
	               "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f is served "
	               "already\"}");
	assert_int_equal(ask(&f, &conn, why, sizeof(why)), 1);
	assert_int_equal(conn, -1);
	assert_non_null(strstr(why, "is served already"));
	assert_int_equal(fake_end(&f), 0);
}

static void
test_unreadable_reply(void **state)
{
	struct fake f;
	char why[256] = "";
	int conn = -1;

	(void)state;
	fake_start(&f, "{\"v\":1,\"ok\":true,\"surprise\":1}");
	assert_int_equal(ask(&f, &conn, why, sizeof(why)), -EPROTO);
	assert_int_equal(conn, -1);
	assert_true(why[0] != '\0');
	assert_int_equal(fake_end(&f), 0);
}

static void
test_no_answer(void **state)
{
	struct fake f;
	char why[256] = "";
	int conn = -1;

	(void)state;
	fake_start(&f, NULL);
	assert_int_equal(ask(&f, &conn, why, sizeof(why)), -ECONNRESET);
	assert_int_equal(conn, -1);
	assert_non_null(strstr(why, "no answer"));
	assert_int_equal(fake_end(&f), 0);
}

static void
test_no_fleet(void **state)
{
	char why[256] = "";
	int conn = -1, p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(hold_register("/nonexistent-nmp/fleet.sock", REQ,
	                     strlen(REQ), &p[0], 1, &conn, why, sizeof(why)),
	    -ENOENT);
	assert_int_equal(conn, -1);
	assert_non_null(strstr(why, "cannot connect"));
	(void)close(p[0]);
	(void)close(p[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_held),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_unreadable_reply),
	    cmocka_unit_test(test_no_answer),
	    cmocka_unit_test(test_no_fleet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
