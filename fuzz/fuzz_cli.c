/*
 * cli_parse on argument vectors made of the input, split on NUL bytes (the
 * first piece is argv[0], each piece its own allocation so ASan sees a read
 * past any of them). When it accepts, every field of the options must be
 * what its grammar allows: strings terminated within their arrays and
 * accepted again by their validators, numbers in range, the option
 * combinations DESIGN.md requires. When it refuses, the message is one
 * line of printable text. The same vector parsed twice gives the same
 * result (getopt's state is reset).
 */
#include <sys/socket.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "fuzz.h"
#include "validate.h"
#include "banned.h"

#define MAX_ARGS 64

#define TERMINATED(field) (memchr((field), '\0', sizeof(field)) != NULL)

static void
check_path(const char *p, size_t max, bool may_be_empty)
{
	char again[PATH_MAX];

	if (may_be_empty && p[0] == '\0')
		return;
	FUZZ_CHECK(validate_path(p, max, again, sizeof(again), NULL) == 0);
	FUZZ_CHECK(strcmp(again, p) == 0);
}

static void
check_options(const struct options *o)
{
	char addr[OPT_ADDR_MAX];
	int family = 0;
	size_t max;

	FUZZ_CHECK(
	    TERMINATED(o->proxy.id) && TERMINATED(o->proxy.socket_path) &&
	    TERMINATED(o->proxy.bind_address) &&
	    TERMINATED(o->proxy.bind_address_v6) &&
	    TERMINATED(o->proxy.bind_interface) && TERMINATED(o->daemon.user) &&
	    TERMINATED(o->daemon.group) && TERMINATED(o->daemon.state_path) &&
	    TERMINATED(o->daemon.pid_file) && TERMINATED(o->daemon.netns) &&
	    TERMINATED(o->daemon.haproxy_path) &&
	    TERMINATED(o->daemon.log_file) && TERMINATED(o->daemon.log_dir) &&
	    TERMINATED(o->daemon.syslog_facility));
	FUZZ_CHECK(o->command >= CMD_RUN && o->command <= CMD_CLEANUP);
	FUZZ_CHECK(
	    o->proxy.flavor == FLAVOR_NEUTRON || o->proxy.flavor == FLAVOR_OVN);
	FUZZ_CHECK(o->daemon.engine == ENGINE_HAPROXY ||
	           o->daemon.engine == ENGINE_BUILTIN);
	FUZZ_CHECK(
	    o->proxy.id_kind == ID_NETWORK || o->proxy.id_kind == ID_ROUTER);
	FUZZ_CHECK(validate_uuid(o->proxy.id, NULL) == 0);
	FUZZ_CHECK(
	    o->proxy.flavor != FLAVOR_OVN || o->proxy.id_kind == ID_NETWORK);

	FUZZ_CHECK(validate_address(o->proxy.bind_address, AF_UNSPEC, addr,
	               sizeof(addr), &family, NULL) == 0);
	FUZZ_CHECK(strcmp(addr, o->proxy.bind_address) == 0);
	FUZZ_CHECK(o->proxy.bind_v6 == (family == AF_INET6));
	FUZZ_CHECK((o->proxy.bind_address_v6[0] == '\0') ==
	           (o->proxy.bind_interface[0] == '\0'));
	if (o->proxy.bind_address_v6[0] != '\0') {
		FUZZ_CHECK(validate_address(o->proxy.bind_address_v6, AF_INET6,
		               addr, sizeof(addr), NULL, NULL) == 0);
		FUZZ_CHECK(strcmp(addr, o->proxy.bind_address_v6) == 0);
		FUZZ_CHECK(validate_ifname(o->proxy.bind_interface, NULL) == 0);
	}
	FUZZ_CHECK(o->proxy.port >= 1 && o->proxy.port <= 65535);
	FUZZ_CHECK(o->daemon.user[0] == '\0' ||
	           validate_account(o->daemon.user, NULL) == 0);
	FUZZ_CHECK(o->daemon.group[0] == '\0' ||
	           validate_account(o->daemon.group, NULL) == 0);
	FUZZ_CHECK(o->daemon.netns[0] == '\0' ||
	           validate_netns(o->daemon.netns, NULL) == 0);
	FUZZ_CHECK(validate_facility(o->daemon.syslog_facility, NULL) == 0);

	check_path(o->daemon.state_path, PATH_MAX - 128, false);
	max = o->daemon.engine == ENGINE_HAPROXY ? OPT_HAPROXY_SOCKET_MAX
	                                         : OPT_SOCKET_MAX;
	check_path(o->proxy.socket_path, max, false);
	check_path(o->daemon.pid_file, PATH_MAX - 1, false);
	check_path(o->daemon.haproxy_path, PATH_MAX - 1, true);
	check_path(o->daemon.log_dir, PATH_MAX - 1, true);
	if (o->daemon.log_file[0] == '/') {
		check_path(o->daemon.log_file, PATH_MAX - 1, false);
	} else if (o->daemon.log_file[0] != '\0') {
		FUZZ_CHECK(validate_component(o->daemon.log_file, NULL) == 0);
		FUZZ_CHECK(o->daemon.log_dir[0] != '\0');
	}

	FUZZ_CHECK(o->daemon.stop_timeout <= 3600);
	FUZZ_CHECK(o->proxy.timeouts.http_request >= 1 &&
	           o->proxy.timeouts.http_request <= 2147483647);
	FUZZ_CHECK(o->proxy.timeouts.connect >= 1 &&
	           o->proxy.timeouts.connect <= 2147483647);
	FUZZ_CHECK(o->proxy.timeouts.client >= 1 &&
	           o->proxy.timeouts.client <= 2147483647);
	FUZZ_CHECK(o->proxy.timeouts.server >= 1 &&
	           o->proxy.timeouts.server <= 2147483647);
	FUZZ_CHECK(o->proxy.timeouts.http_keep_alive >= 1 &&
	           o->proxy.timeouts.http_keep_alive <= 2147483647);
	FUZZ_CHECK(o->proxy.rate_limit.ip_version == 4 ||
	           o->proxy.rate_limit.ip_version == 6);
	FUZZ_CHECK(o->proxy.rate_limit.base_window >= 1 &&
	           o->proxy.rate_limit.base_window <= 86400);
	FUZZ_CHECK(o->proxy.rate_limit.burst_window >= 1 &&
	           o->proxy.rate_limit.burst_window <= 86400);
	FUZZ_CHECK(o->proxy.rate_limit.base_limit >= 1 &&
	           o->proxy.rate_limit.base_limit <= 1000000);
	FUZZ_CHECK(o->proxy.rate_limit.burst_limit >= 1 &&
	           o->proxy.rate_limit.burst_limit <= 1000000);
}

static void
check_error(const struct cli_error *err)
{
	size_t i, n;

	FUZZ_CHECK(err->exit_code == EX_USAGE || err->exit_code == EX_DATAERR);
	n = strnlen(err->msg, sizeof(err->msg));
	FUZZ_CHECK(n > 0 && n < sizeof(err->msg));
	/* One line, untrusted bytes escaped. */
	for (i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)err->msg[i] >= 0x20 &&
		           (unsigned char)err->msg[i] < 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *args[MAX_ARGS + 1], *argv[MAX_ARGS + 1];
	struct options *o1 = malloc(sizeof(*o1)), *o2 = malloc(sizeof(*o2));
	struct cli_error e1, e2;
	enum cli_result r1, r2;
	size_t start = 0, i;
	int argc = 0;

	FUZZ_CHECK(o1 != NULL && o2 != NULL);
	for (i = 0; i <= size && argc < MAX_ARGS; i++) {
		if (i == size || data[i] == '\0') {
			args[argc++] = fuzz_strndup(data + start, i - start);
			start = i + 1;
		}
	}
	args[argc] = NULL;

	memcpy(argv, args, sizeof(argv));
	r1 = cli_parse(argc, argv, o1, &e1);
	/* Again, on a fresh copy of the vector: the same answer. */
	memcpy(argv, args, sizeof(argv));
	r2 = cli_parse(argc, argv, o2, &e2);
	FUZZ_CHECK(r1 == r2);
	if (r1 == CLI_OK) {
		check_options(o1);
		FUZZ_CHECK(memcmp(o1, o2, sizeof(*o1)) == 0);
	} else if (r1 == CLI_ERROR) {
		check_error(&e1);
		FUZZ_CHECK(e1.exit_code == e2.exit_code &&
		           strcmp(e1.msg, e2.msg) == 0);
	}
	for (i = 0; i < (size_t)argc; i++)
		free(args[i]);
	free(o1);
	free(o2);
	return 0;
}
