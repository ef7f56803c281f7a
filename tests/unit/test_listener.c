#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listener.h"

static unsigned int
port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static int
sockopt(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	assert_int_equal(getsockopt(fd, level, name, &v, &len), 0);
	return v;
}

/* Listening, non-blocking, close-on-exec; no SO_REUSEPORT. */
static void
test_listens(void **state)
{
	int fd = -1, c;
	struct sockaddr_in sin;

	(void)state;
	assert_int_equal(listener_open("127.0.0.1", 0, NULL, 16, &fd), 0);
	assert_true(fd > 2);
	assert_int_equal(sockopt(fd, SOL_SOCKET, SO_ACCEPTCONN), 1);
	assert_int_equal(sockopt(fd, SOL_SOCKET, SO_REUSEPORT), 0);
	assert_int_equal(sockopt(fd, SOL_SOCKET, SO_REUSEADDR), 1);
	assert_true((fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
	assert_true((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	/* A client is queued at once: no accept() has run yet. */
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port_of(fd));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
	close(c);
	close(fd);
}

/* A second proxy on the same address and port fails: nothing is shared. */
static void
test_busy_address(void **state)
{
	int a = -1, b = -1;

	(void)state;
	assert_int_equal(listener_open("127.0.0.1", 0, NULL, 16, &a), 0);
	assert_int_equal(
	    listener_open("127.0.0.1", port_of(a), NULL, 16, &b), -EADDRINUSE);
	assert_int_equal(b, -1); /* untouched on failure */
	/* The wildcard overlaps it too. */
	assert_int_equal(
	    listener_open("0.0.0.0", port_of(a), NULL, 16, &b), -EADDRINUSE);
	close(a);
}

static void
test_ipv6_and_bad_input(void **state)
{
	int fd = -1;

	(void)state;
	if (listener_open("::1", 0, NULL, 16, &fd) == 0) {
		assert_int_equal(sockopt(fd, SOL_SOCKET, SO_ACCEPTCONN), 1);
		close(fd);
	}
	fd = -1;
	assert_int_equal(
	    listener_open("localhost", 80, NULL, 16, &fd), -EINVAL);
	assert_int_equal(listener_open("", 80, NULL, 16, &fd), -EINVAL);
	assert_int_equal(
	    listener_open("127.0.0.1", 0, "nmp-no-such0", 16, &fd), -ENODEV);
	assert_int_equal(fd, -1);
}

/* What haproxy -c gets at bind fd@N: a socket of the family, not bound. */
static void
test_placeholder(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = -1;

	(void)state;
	memset(&ss, 0, sizeof(ss));
	assert_int_equal(listener_placeholder("fe80::a9fe:a9fe", &fd), 0);
	assert_int_equal(sockopt(fd, SOL_SOCKET, SO_ACCEPTCONN), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(((struct sockaddr_in6 *)&ss)->sin6_port, 0);
	close(fd);
	fd = -1;
	assert_int_equal(listener_placeholder("10.0.0.x", &fd), -EINVAL);
	assert_int_equal(fd, -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_listens),
	    cmocka_unit_test(test_busy_address),
	    cmocka_unit_test(test_ipv6_and_bad_input),
	    cmocka_unit_test(test_placeholder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
