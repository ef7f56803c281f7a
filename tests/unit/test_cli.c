#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"

#define UUID "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
#define MAXARGS 64

static struct options opts;
static struct cli_error err;

/* Parse a NULL-terminated list of arguments after argv[0] = prog. */
static enum cli_result
parse_as(const char *prog, const char *const *args)
{
	static char store[MAXARGS][512];
	char *argv[MAXARGS + 1];
	int argc = 0;

	assert_true(strlen(prog) < sizeof(store[0]));
	memcpy(store[0], prog, strlen(prog) + 1);
	argv[argc] = store[argc];
	argc++;
	for (; *args != NULL; args++) {
		assert_true(argc < MAXARGS);
		assert_true(strlen(*args) < sizeof(store[0]));
		memcpy(store[argc], *args, strlen(*args) + 1);
		argv[argc] = store[argc];
		argc++;
	}
	argv[argc] = NULL;
	return cli_parse(argc, argv, &opts, &err);
}

#define PARSE(...)                                                             \
	parse_as("ns-metadata-proxy", (const char *[]){__VA_ARGS__, NULL})

static void
test_neutron_command_line(void **state)
{
	(void)state;
	/* How neutron's agents started neutron-ns-metadata-proxy. */
	assert_int_equal(
	    parse_as("/usr/bin/neutron-ns-metadata-proxy",
	        (const char *[]){
	            "--pid_file=/var/lib/neutron/external/pids/" UUID ".pid",
	            "--metadata_proxy_socket=/var/lib/neutron/metadata_proxy",
	            "--router_id=" UUID, "--state_path=/var/lib/neutron",
	            "--metadata_port=9697", "--metadata_proxy_user=0",
	            "--metadata_proxy_group=0", "--debug",
	            "--log-file=neutron-ns-metadata-proxy-" UUID ".log",
	            "--log-dir=/var/log/neutron",
	            "--nometadata_proxy_watch_log", NULL}),
	    CLI_OK);
	assert_int_equal(opts.command, CMD_RUN);
	assert_int_equal(opts.proxy.id_kind, ID_ROUTER);
	assert_string_equal(opts.proxy.id, UUID);
	assert_string_equal(opts.daemon.pid_file,
	    "/var/lib/neutron/external/pids/" UUID ".pid");
	assert_string_equal(
	    opts.proxy.socket_path, "/var/lib/neutron/metadata_proxy");
	assert_string_equal(opts.daemon.state_path, "/var/lib/neutron");
	assert_int_equal(opts.proxy.port, 9697);
	assert_string_equal(opts.daemon.user, "0");
	assert_string_equal(opts.daemon.group, "0");
	assert_true(opts.daemon.debug);
	assert_string_equal(
	    opts.daemon.log_file, "neutron-ns-metadata-proxy-" UUID ".log");
	assert_string_equal(opts.daemon.log_dir, "/var/log/neutron");
	assert_false(opts.daemon.watch_log);
	/* Started under neutron's name, the proxy daemonizes by default. */
	assert_true(opts.daemon.daemonize);
}

static void
test_defaults(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--network-id", UUID), CLI_OK);
	assert_int_equal(opts.command, CMD_RUN);
	assert_int_equal(opts.proxy.id_kind, ID_NETWORK);
	assert_int_equal(opts.proxy.flavor, FLAVOR_NEUTRON);
	assert_int_equal(opts.daemon.engine, ENGINE_HAPROXY);
	assert_string_equal(opts.proxy.bind_address, "0.0.0.0");
	assert_false(opts.proxy.bind_v6);
	assert_string_equal(opts.proxy.bind_address_v6, "");
	assert_int_equal(opts.proxy.port, 9697);
	assert_string_equal(opts.daemon.state_path, "/var/lib/neutron");
	assert_string_equal(
	    opts.proxy.socket_path, "/var/lib/neutron/metadata_proxy");
	assert_string_equal(opts.daemon.pid_file,
	    "/var/lib/neutron/external/pids/" UUID ".pid");
	assert_string_equal(opts.daemon.user, "");
	assert_string_equal(opts.daemon.group, "");
	assert_false(opts.daemon.daemonize);
	assert_false(opts.daemon.debug);
	assert_int_equal(opts.daemon.stop_timeout, 5);
	assert_int_equal(opts.proxy.timeouts.http_request, 30000);
	assert_int_equal(opts.proxy.timeouts.connect, 30000);
	assert_int_equal(opts.proxy.timeouts.client, 32000);
	assert_int_equal(opts.proxy.timeouts.server, 32000);
	assert_int_equal(opts.proxy.timeouts.http_keep_alive, 30000);
	assert_false(opts.proxy.rate_limit.enabled);
	assert_int_equal(opts.proxy.rate_limit.ip_version, 4);
	assert_int_equal(opts.proxy.rate_limit.base_window, 10);
	assert_int_equal(opts.proxy.rate_limit.burst_limit, 10);
	assert_string_equal(opts.daemon.syslog_facility, "LOG_USER");
}

static void
test_spellings(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--network_id", UUID, "--metadata-port=80",
	                     "--state-path", "/srv/n/", "--bind_address=::"),
	    CLI_OK);
	assert_string_equal(opts.proxy.id, UUID);
	assert_int_equal(opts.proxy.port, 80);
	/* One trailing slash is dropped; defaults follow the state path. */
	assert_string_equal(opts.daemon.state_path, "/srv/n");
	assert_string_equal(opts.proxy.socket_path, "/srv/n/metadata_proxy");
	assert_string_equal(
	    opts.daemon.pid_file, "/srv/n/external/pids/" UUID ".pid");
	assert_true(opts.proxy.bind_v6);
	assert_string_equal(opts.proxy.bind_address, "::");
}

static void
test_commands_anywhere(void **state)
{
	static const char *const names[] = {
	    "run", "render", "check", "status", "stop", "cleanup"};
	static const enum command cmds[] = {
	    CMD_RUN, CMD_RENDER, CMD_CHECK, CMD_STATUS, CMD_STOP, CMD_CLEANUP};
	size_t i;

	(void)state;
	for (i = 0; i < 6; i++) {
		assert_int_equal(PARSE(names[i], "--router-id", UUID), CLI_OK);
		assert_int_equal(opts.command, cmds[i]);
		assert_int_equal(PARSE("--router-id", UUID, names[i]), CLI_OK);
		assert_int_equal(opts.command, cmds[i]);
	}
}

static void
test_flags_last_wins(void **state)
{
	(void)state;
	assert_int_equal(
	    parse_as("neutron-ns-metadata-proxy",
	        (const char *[]){"--network-id", UUID, "--nodaemonize", NULL}),
	    CLI_OK);
	assert_false(opts.daemon.daemonize);
	assert_int_equal(
	    PARSE("--network-id", UUID, "--daemonize", "--debug", "--nodebug",
	        "--use_syslog", "--metadata_proxy_watch_log", "-d"),
	    CLI_OK);
	assert_true(opts.daemon.daemonize);
	assert_true(opts.daemon.debug);
	assert_true(opts.daemon.use_syslog);
	assert_true(opts.daemon.watch_log);
	assert_int_equal(PARSE("--network-id", UUID, "--use-syslog",
	                     "--nouse-syslog", "--no-daemonize"),
	    CLI_OK);
	assert_false(opts.daemon.use_syslog);
	assert_false(opts.daemon.daemonize);
}

static void
test_values(void **state)
{
	(void)state;
	assert_int_equal(
	    PARSE("--network-id", UUID, "--bind-address-v6", "FE80::A9FE:A9FE",
	        "--bind-interface", "tap1234-ab", "--timeout-connect", "5s",
	        "--timeout_client=250ms", "--timeout-server", "2m",
	        "--timeout-http-request", "1h", "--timeout-http-keep-alive",
	        "1500", "--rate-limit-enabled", "--rate-limit-ip-version", "6",
	        "--base-window-duration", "60", "--base_query_rate_limit=20",
	        "--burst-window-duration", "5", "--burst-query-rate-limit", "7",
	        "--flavor", "ovn", "--engine", "builtin", "--netns",
	        "ovnmeta-" UUID, "--stop-timeout", "0", "--syslog-log-facility",
	        "local3"),
	    CLI_OK);
	/* Addresses are rendered in their canonical form. */
	assert_string_equal(opts.proxy.bind_address_v6, "fe80::a9fe:a9fe");
	assert_string_equal(opts.proxy.bind_interface, "tap1234-ab");
	assert_int_equal(opts.proxy.timeouts.connect, 5000);
	assert_int_equal(opts.proxy.timeouts.client, 250);
	assert_int_equal(opts.proxy.timeouts.server, 120000);
	assert_int_equal(opts.proxy.timeouts.http_request, 3600000);
	assert_int_equal(opts.proxy.timeouts.http_keep_alive, 1500);
	assert_true(opts.proxy.rate_limit.enabled);
	assert_int_equal(opts.proxy.rate_limit.ip_version, 6);
	assert_int_equal(opts.proxy.rate_limit.base_window, 60);
	assert_int_equal(opts.proxy.rate_limit.base_limit, 20);
	assert_int_equal(opts.proxy.rate_limit.burst_window, 5);
	assert_int_equal(opts.proxy.rate_limit.burst_limit, 7);
	assert_int_equal(opts.proxy.flavor, FLAVOR_OVN);
	assert_int_equal(opts.daemon.engine, ENGINE_BUILTIN);
	assert_string_equal(opts.daemon.netns, "ovnmeta-" UUID);
	assert_int_equal(opts.daemon.stop_timeout, 0);
	assert_string_equal(opts.daemon.syslog_facility, "local3");
}

/* The boundaries the leading-zero and interface rules must leave alone. */
static void
test_boundaries_accepted(void **state)
{
	(void)state;
	assert_int_equal(
	    PARSE("--network-id", UUID, "--metadata-port", "1",
	        "--metadata-proxy-user", "0", "--metadata-proxy-group", "0",
	        "--stop-timeout", "0", "--bind-address-v6", "fe80::1",
	        "--bind-interface", "tap0123abcd-ef"),
	    CLI_OK);
	assert_int_equal(opts.proxy.port, 1);
	assert_string_equal(opts.daemon.user, "0");
	assert_string_equal(opts.daemon.group, "0");
	assert_int_equal(opts.daemon.stop_timeout, 0);
	assert_string_equal(opts.proxy.bind_interface, "tap0123abcd-ef");
	assert_int_equal(
	    PARSE("--network-id", UUID, "--metadata_port=65535",
	        "--bind_address_v6=::1", "--bind_interface=eth0.100",
	        "--timeout-client", "10s", "--stop-timeout", "10"),
	    CLI_OK);
	assert_int_equal(opts.proxy.port, 65535);
	assert_string_equal(opts.proxy.bind_interface, "eth0.100");
	assert_int_equal(opts.proxy.timeouts.client, 10000);
	assert_int_equal(opts.daemon.stop_timeout, 10);
	assert_int_equal(PARSE("--network-id", UUID, "--bind-address-v6", "::1",
	                     "--bind-interface", "lo"),
	    CLI_OK);
	assert_string_equal(opts.proxy.bind_interface, "lo");
}

static void
test_help_version(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_int_equal(PARSE("--help"), CLI_HELP);
	assert_int_equal(PARSE("-h"), CLI_HELP);
	assert_int_equal(PARSE("--version"), CLI_VERSION);
	assert_int_equal(cli_help("ns-metadata-proxy", &sb), 0);
	/* Every option is listed, with its default. */
	assert_non_null(strstr(sb.buf, "--metadata-proxy-socket PATH"));
	assert_non_null(strstr(sb.buf, "[default: 9697]"));
	assert_non_null(strstr(sb.buf, "--[no]daemonize"));
	assert_non_null(strstr(sb.buf, "--timeout-http-keep-alive"));
	assert_non_null(strstr(sb.buf, "78 unsafe state on disk"));
	assert_non_null(strstr(sb.buf, "76 the fleet's answer unreadable"));
	assert_non_null(strstr(sb.buf, "(fleet: no daemon, or not\nserved)"));
	strbuf_release(&sb);
}

struct bad {
	int code;
	const char *needle; /* must appear in the message */
	const char *args[8];
};

static const struct bad bads[] = {
    {EX_USAGE, "'--bogus'", {"--network-id", UUID, "--bogus", NULL}},
    {EX_USAGE, "'--netw=" UUID "'", {"--netw=" UUID, NULL}},
    {EX_USAGE, "'--state-path'", {"--network-id", UUID, "--state-path", NULL}},
    {EX_USAGE, "'--network_id' given more than once",
        {"--network-id", UUID, "--network_id", UUID, NULL}},
    {EX_USAGE, "mutually exclusive",
        {"--network-id", UUID, "--router-id", UUID, NULL}},
    {EX_USAGE, "--network-id or --router-id", {"render", NULL}},
    /* The fleet: a network's options and flags only on fleet add. */
    {EX_USAGE, "--rate-limit-enabled is not an option of this fleet",
        {"fleet", "list", "--rate-limit-enabled", NULL}},
    {EX_USAGE, "--norate_limit_enabled is not an option of this fleet",
        {"fleet", "del", UUID, "--norate_limit_enabled", NULL}},
    {EX_USAGE, "--network-id is not an option of fleet add --batch",
        {"fleet", "add", "--batch", "/b", "--network-id", UUID, NULL}},
    {EX_USAGE, "--rate-limit-enabled is not an option of fleet add --batch",
        {"fleet", "add", "--batch", "-", "--rate-limit-enabled", NULL}},
    {EX_USAGE, "--batch is not an option of this fleet command",
        {"fleet", "list", "--batch", "/b", NULL}},
    {EX_USAGE, "--batch is not an option of this command",
        {"run", "--network-id", UUID, "--batch", "/b", NULL}},
    {EX_DATAERR, "--batch: 'b': not an absolute path",
        {"fleet", "add", "--batch", "b", NULL}},
    /* status --all: no id, only where to look. */
    {EX_USAGE, "--network-id is not an option of status --all",
        {"status", "--all", "--network-id", UUID, NULL}},
    {EX_USAGE, "--pid_file is not an option of status --all",
        {"status", "--all", "--pid_file", "/p", NULL}},
    {EX_USAGE, "--rate-limit-enabled is not an option of status --all",
        {"status", "--all", "--rate-limit-enabled", NULL}},
    {EX_USAGE, "--json needs --all", {"status", "--json", NULL}},
    {EX_USAGE, "--all is not an option of this command",
        {"run", "--all", "--network-id", UUID, NULL}},
    {EX_USAGE, "--json is not an option of this command",
        {"fleet", "list", "--json", NULL}},
    {EX_USAGE, "'--all=1' takes no value", {"status", "--all=1", NULL}},
    {EX_USAGE, "unexpected argument '" UUID "'",
        {"status", "--all", UUID, NULL}},
    {EX_DATAERR, "--state-path: 'var': not an absolute path",
        {"status", "--all", "--state-path", "var", NULL}},
    {EX_DATAERR, "--control-socket: ''",
        {"status", "--all", "--control-socket=", NULL}},
    {EX_USAGE, "unknown command 'launch'",
        {"launch", "--network-id", UUID, NULL}},
    {EX_USAGE, "unexpected argument 'extra'",
        {"run", "extra", "--network-id", UUID, NULL}},
    {EX_USAGE, "unexpected argument 'x'",
        {"--network-id", UUID, "--", "run", "x", NULL}},
    {EX_USAGE, "'--debug=1' takes no value",
        {"--network-id", UUID, "--debug=1", NULL}},
    {EX_USAGE, "--bind-interface",
        {"--network-id", UUID, "--bind-address-v6", "fe80::1", NULL}},
    {EX_USAGE, "--bind-address-v6",
        {"--network-id", UUID, "--bind-interface", "lo", NULL}},
    {EX_USAGE, "--router-id", {"--router-id", UUID, "--flavor", "ovn", NULL}},
    {EX_USAGE, "--log-dir",
        {"--network-id", UUID, "--log-file", "x.log", NULL}},
    {EX_DATAERR, "--network-id: '3F1C",
        {"--network-id", "3F1C2D4E-5A6B-4C7D-8E9F-0A1B2C3D4E5F", NULL}},
    {EX_DATAERR, "\\x0a", {"--network-id", UUID "\n", NULL}},
    {EX_DATAERR, "--state-path: ''",
        {"--network-id", UUID, "--state-path=", NULL}},
    {EX_DATAERR, "--metadata_port: '0x50'",
        {"--network-id", UUID, "--metadata_port", "0x50", NULL}},
    {EX_DATAERR, "--bind-address-v6: '10.0.0.1'",
        {"--network-id", UUID, "--bind-address-v6", "10.0.0.1",
            "--bind-interface", "lo", NULL}},
    {EX_DATAERR, "--engine", {"--network-id", UUID, "--engine", "nginx", NULL}},
    {EX_DATAERR, "--flavor", {"--network-id", UUID, "--flavor", "OVN", NULL}},
    {EX_DATAERR, "--rate-limit-ip-version: '5'",
        {"--network-id", UUID, "--rate-limit-ip-version", "5", NULL}},
    {EX_DATAERR, "--metadata-proxy-user",
        {"--network-id", UUID, "--metadata-proxy-user", "ro ot", NULL}},
    {EX_DATAERR, "--timeout-client",
        {"--network-id", UUID, "--timeout-client", "0", NULL}},
    {EX_DATAERR, "--metadata-proxy-socket",
        {"--network-id", UUID, "--metadata-proxy-socket",
            "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            NULL}},
    /* Decimal values have no leading zero; "00" is not root. */
    {EX_DATAERR, "--metadata-port: '080': has a leading zero",
        {"--network-id", UUID, "--metadata-port", "080", NULL}},
    {EX_DATAERR, "--metadata_port: '09697': has a leading zero",
        {"--network-id", UUID, "--metadata_port=09697", NULL}},
    {EX_DATAERR, "--metadata-proxy-user: '00': has a leading zero",
        {"--network-id", UUID, "--metadata-proxy-user", "00", NULL}},
    {EX_DATAERR, "--metadata_proxy_group: '010': has a leading zero",
        {"--network-id", UUID, "--metadata_proxy_group", "010", NULL}},
    {EX_DATAERR, "--stop-timeout: '00': has a leading zero",
        {"--network-id", UUID, "--stop-timeout", "00", NULL}},
    {EX_DATAERR, "--timeout-client: '032s': has a leading zero",
        {"--network-id", UUID, "--timeout-client", "032s", NULL}},
    {EX_DATAERR, "--rate-limit-ip-version: '04': has a leading zero",
        {"--network-id", UUID, "--rate-limit-ip-version", "04", NULL}},
    {EX_DATAERR, "--base-window-duration: '010': has a leading zero",
        {"--network-id", UUID, "--base-window-duration", "010", NULL}},
    {EX_DATAERR, "--burst_query_rate_limit: '01': has a leading zero",
        {"--network-id", UUID, "--burst_query_rate_limit=01", NULL}},
    /* Linux refuses ':' in an interface name; '-' first reads as an option. */
    {EX_DATAERR,
        "--bind-interface: 'tap:1': contains a character outside "
        "[A-Za-z0-9_.-]",
        {"--network-id", UUID, "--bind-address-v6", "fe80::1",
            "--bind-interface", "tap:1", NULL}},
    {EX_DATAERR, "--bind_interface: '-tap': starts with '-'",
        {"--network-id", UUID, "--bind-address-v6", "fe80::1",
            "--bind_interface=-tap", NULL}},
    {EX_DATAERR, "(default from --state-path)",
        {"--network-id", UUID, "--state-path",
            "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
            "aaaaaaaaaaaaaaaaa",
            NULL}},
};

static void
test_bad_lines(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		enum cli_result r = PARSE(bads[i].args[0], bads[i].args[1],
		    bads[i].args[2], bads[i].args[3], bads[i].args[4],
		    bads[i].args[5], bads[i].args[6]);

		if (r != CLI_ERROR || err.exit_code != bads[i].code ||
		    strstr(err.msg, bads[i].needle) == NULL ||
		    strchr(err.msg, '\n') != NULL)
			fail_msg("case %zu: result %d code %d msg '%s' (want "
			         "%d, '%s')",
			    i, r, err.exit_code, err.msg, bads[i].code,
			    bads[i].needle);
	}
}

static void
test_status_all(void **state)
{
	(void)state;
	assert_int_equal(PARSE("status", "--all"), CLI_OK);
	assert_int_equal(opts.command, CMD_STATUS_ALL);
	assert_false(opts.json);
	assert_string_equal(opts.daemon.state_path, "/var/lib/neutron");
	assert_string_equal(
	    opts.fleet.control_socket, "/run/ns-metadata-proxy/fleet.sock");
	assert_int_equal(
	    PARSE("--json", "--state_path=/srv/n/", "status",
	        "--control-socket", "/run/f.sock", "--all", "--debug"),
	    CLI_OK);
	assert_int_equal(opts.command, CMD_STATUS_ALL);
	assert_true(opts.json);
	assert_true(opts.daemon.debug);
	assert_string_equal(opts.daemon.state_path, "/srv/n");
	assert_string_equal(opts.fleet.control_socket, "/run/f.sock");
	/* Without --all, status is the one id's, as it always was. */
	assert_int_equal(PARSE("status", "--network-id", UUID), CLI_OK);
	assert_int_equal(opts.command, CMD_STATUS);
	assert_int_equal(PARSE("status"), CLI_ERROR);
	assert_int_equal(err.exit_code, EX_USAGE);
}

static void
test_socket_limits(void **state)
{
	/* 97 bytes: the most haproxy takes; a unix socket takes 107. */
	static const char p97[] =
	    "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	static const char p107[] =
	    "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaa";
	static const char p108[] =
	    "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaa";

	(void)state;
	assert_int_equal(strlen(p97), 97);
	assert_int_equal(strlen(p107), 107);
	assert_int_equal(
	    PARSE("--network-id", UUID, "--metadata-proxy-socket", p97),
	    CLI_OK);
	assert_int_equal(
	    PARSE("--network-id", UUID, "--metadata-proxy-socket", p107),
	    CLI_ERROR);
	assert_int_equal(PARSE("--network-id", UUID, "--engine", "builtin",
	                     "--metadata-proxy-socket", p107),
	    CLI_OK);
	assert_int_equal(PARSE("--network-id", UUID, "--engine", "builtin",
	                     "--metadata-proxy-socket", p108),
	    CLI_ERROR);
	assert_int_equal(err.exit_code, EX_DATAERR);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_neutron_command_line),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_spellings),
	    cmocka_unit_test(test_commands_anywhere),
	    cmocka_unit_test(test_flags_last_wins),
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_boundaries_accepted),
	    cmocka_unit_test(test_help_version),
	    cmocka_unit_test(test_bad_lines),
	    cmocka_unit_test(test_status_all),
	    cmocka_unit_test(test_socket_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
