#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>

#include "cli.h"
#include "defaults.h"
#include "metadata.h"
#include "validate.h"
#include "banned.h"

#define PROGNAME_NEUTRON "neutron-ns-metadata-proxy"
#define SHOWN_VALUE_MAX 64
#define NUM_TEXT_(x) #x
#define NUM_TEXT(x) NUM_TEXT_(x)
#define FLEET_MAXCONN_TEXT NUM_TEXT(DEF_FLEET_MAXCONN)
#define FLEET_NET_MAXCONN_TEXT NUM_TEXT(DEF_NETWORK_MAXCONN)
#define AGENT_MAX_TEXT "none; fleet serve: " NUM_TEXT(DEF_FLEET_AGENT_MAX)

enum opt_id {
	O_FIRST = 256,
	O_NETWORK_ID = O_FIRST,
	O_ROUTER_ID,
	O_SOCKET,
	O_BIND,
	O_BIND6,
	O_IFACE,
	O_PORT,
	O_USER,
	O_GROUP,
	O_STATE,
	O_PIDFILE,
	O_NETNS,
	O_ENGINE,
	O_HAPROXY,
	O_FLAVOR,
	O_T_REQUEST,
	O_T_CONNECT,
	O_T_CLIENT,
	O_T_SERVER,
	O_T_KEEPALIVE,
	O_RL_IPVER,
	O_RL_BASE_WIN,
	O_RL_BASE_LIM,
	O_RL_BURST_WIN,
	O_RL_BURST_LIM,
	O_STOP_TIMEOUT,
	O_MAX_SRC,
	O_MAX_BODY,
	O_AGENT_IDLE_MAX,
	O_AGENT_MAX,
	O_T_AGENT_IDLE,
	O_LOG_FILE,
	O_LOG_DIR,
	O_FACILITY,
	O_CONTROL_SOCKET,
	O_CONTROL_GROUP,
	O_MAXCONN,
	O_NET_MAXCONN,
	O_BATCH,
	O_METRICS_LISTEN,
	O_LOG_FORMAT,
	O_LAST_VALUE = O_LOG_FORMAT,
	/* Flags: no value, last one given wins. */
	O_DAEMONIZE,
	O_NODAEMONIZE,
	O_DEBUG,
	O_NODEBUG,
	O_SYSLOG,
	O_NOSYSLOG,
	O_WATCH,
	O_NOWATCH,
	O_RL_ON,
	O_RL_OFF,
	O_ALL,
	O_JSON,
};

#define NVALUES (O_LAST_VALUE - O_FIRST + 1)

/* Each option in its dash and its underscore spelling. */
#define VAL2(dash, under, id)                                                  \
	{dash, required_argument, NULL, id},                                   \
	{                                                                      \
		under, required_argument, NULL, id                             \
	}
#define FLAG(name, id)                                                         \
	{                                                                      \
		name, no_argument, NULL, id                                    \
	}

static const struct option longopts[] = {
    VAL2("network-id", "network_id", O_NETWORK_ID),
    VAL2("router-id", "router_id", O_ROUTER_ID),
    VAL2("metadata-proxy-socket", "metadata_proxy_socket", O_SOCKET),
    VAL2("bind-address", "bind_address", O_BIND),
    VAL2("bind-address-v6", "bind_address_v6", O_BIND6),
    VAL2("bind-interface", "bind_interface", O_IFACE),
    VAL2("metadata-port", "metadata_port", O_PORT),
    VAL2("metadata-proxy-user", "metadata_proxy_user", O_USER),
    VAL2("metadata-proxy-group", "metadata_proxy_group", O_GROUP),
    VAL2("state-path", "state_path", O_STATE),
    VAL2("pid-file", "pid_file", O_PIDFILE),
    {"netns", required_argument, NULL, O_NETNS},
    {"engine", required_argument, NULL, O_ENGINE},
    VAL2("haproxy-path", "haproxy_path", O_HAPROXY),
    {"flavor", required_argument, NULL, O_FLAVOR},
    VAL2("timeout-http-request", "timeout_http_request", O_T_REQUEST),
    VAL2("timeout-connect", "timeout_connect", O_T_CONNECT),
    VAL2("timeout-client", "timeout_client", O_T_CLIENT),
    VAL2("timeout-server", "timeout_server", O_T_SERVER),
    VAL2("timeout-http-keep-alive", "timeout_http_keep_alive", O_T_KEEPALIVE),
    VAL2("rate-limit-ip-version", "rate_limit_ip_version", O_RL_IPVER),
    VAL2("base-window-duration", "base_window_duration", O_RL_BASE_WIN),
    VAL2("base-query-rate-limit", "base_query_rate_limit", O_RL_BASE_LIM),
    VAL2("burst-window-duration", "burst_window_duration", O_RL_BURST_WIN),
    VAL2("burst-query-rate-limit", "burst_query_rate_limit", O_RL_BURST_LIM),
    VAL2("stop-timeout", "stop_timeout", O_STOP_TIMEOUT),
    VAL2("max-conns-per-source", "max_conns_per_source", O_MAX_SRC),
    VAL2("max-body-size", "max_body_size", O_MAX_BODY),
    VAL2("max-idle-agent-conns", "max_idle_agent_conns", O_AGENT_IDLE_MAX),
    VAL2("max-agent-conns", "max_agent_conns", O_AGENT_MAX),
    VAL2("timeout-agent-idle", "timeout_agent_idle", O_T_AGENT_IDLE),
    VAL2("log-file", "log_file", O_LOG_FILE),
    VAL2("log-dir", "log_dir", O_LOG_DIR),
    VAL2("syslog-log-facility", "syslog_log_facility", O_FACILITY),
    VAL2("control-socket", "control_socket", O_CONTROL_SOCKET),
    {"batch", required_argument, NULL, O_BATCH},
    VAL2("metrics-listen", "metrics_listen", O_METRICS_LISTEN),
    VAL2("log-format", "log_format", O_LOG_FORMAT),
    VAL2("control-group", "control_group", O_CONTROL_GROUP),
    {"maxconn", required_argument, NULL, O_MAXCONN},
    VAL2("max-conns-per-network", "max_conns_per_network", O_NET_MAXCONN),
    FLAG("daemonize", O_DAEMONIZE),
    FLAG("nodaemonize", O_NODAEMONIZE),
    FLAG("no-daemonize", O_NODAEMONIZE),
    FLAG("debug", O_DEBUG),
    FLAG("nodebug", O_NODEBUG),
    FLAG("no-debug", O_NODEBUG),
    FLAG("use-syslog", O_SYSLOG),
    FLAG("use_syslog", O_SYSLOG),
    FLAG("nouse-syslog", O_NOSYSLOG),
    FLAG("nouse_syslog", O_NOSYSLOG),
    FLAG("no-use-syslog", O_NOSYSLOG),
    FLAG("metadata-proxy-watch-log", O_WATCH),
    FLAG("metadata_proxy_watch_log", O_WATCH),
    FLAG("nometadata-proxy-watch-log", O_NOWATCH),
    FLAG("nometadata_proxy_watch_log", O_NOWATCH),
    FLAG("no-metadata-proxy-watch-log", O_NOWATCH),
    FLAG("rate-limit-enabled", O_RL_ON),
    FLAG("rate_limit_enabled", O_RL_ON),
    FLAG("norate-limit-enabled", O_RL_OFF),
    FLAG("norate_limit_enabled", O_RL_OFF),
    FLAG("no-rate-limit-enabled", O_RL_OFF),
    FLAG("all", O_ALL),
    FLAG("json", O_JSON),
    FLAG("help", 'h'),
    FLAG("version", 'V'),
    {NULL, 0, NULL, 0},
};

/*
 * What --help says of each option, in the order it lists them. A default
 * that is a value of the options is read from set_defaults(), at its
 * offset: the text cannot drift from what the parser does.
 */
enum doc_def {
	DOC_TEXT,  /* def as written (or none) */
	DOC_STR,   /* a string of the defaults */
	DOC_UINT,  /* an unsigned int */
	DOC_INT,   /* an int */
	DOC_ULONG, /* an unsigned long */
	DOC_MS,    /* a time in ms, shown as haproxy writes it */
};

struct opt_doc {
	const char *name;
	const char *meta;
	const char *def;
	const char *help;
	enum doc_def kind;
	size_t off; /* in struct options, for every kind but DOC_TEXT */
};

#define AT(kind, field) kind, offsetof(struct options, field)
#define TEXT DOC_TEXT, 0

static const struct opt_doc docs[] = {
    {"network-id", "UUID", NULL,
        "network served (exactly one of this and --router-id)", TEXT},
    {"router-id", "UUID", NULL, "router served (neutron flavour only)", TEXT},
    {"metadata-proxy-socket", "PATH", "<state-path>/metadata_proxy",
        "unix socket of the metadata agent", TEXT},
    {"bind-address", "ADDR", NULL, "IPv4 or IPv6 address to listen on",
        AT(DOC_STR, proxy.bind_address)},
    {"bind-address-v6", "ADDR", "none",
        "extra IPv6 address to listen on (needs --bind-interface)", TEXT},
    {"bind-interface", "IF", "none", "interface of --bind-address-v6", TEXT},
    {"metadata-port", "PORT", NULL, "TCP port to listen on",
        AT(DOC_UINT, proxy.port)},
    {"metadata-proxy-user", "USER", "effective uid",
        "user the proxy runs as (name or number)", TEXT},
    {"metadata-proxy-group", "GROUP", "effective gid",
        "group the proxy runs as (name or number)", TEXT},
    {"state-path", "DIR", NULL,
        "base directory; configs go to <state-path>/" MD_CONFIG_DIR_NEUTRON
        " (ovn: " MD_CONFIG_DIR_OVN ")",
        AT(DOC_STR, daemon.state_path)},
    {"pid-file", "PATH", "<state-path>/" MD_PID_DIR "/<uuid>.pid",
        "pidfile of the proxy", TEXT},
    {"netns", "NAME", "none", "network namespace to serve in", TEXT},
    {"engine", "haproxy|builtin", "haproxy", "what serves the requests", TEXT},
    {"haproxy-path", "PATH", "the first haproxy in " MD_HAPROXY_DIRS_TEXT,
        "haproxy binary (never looked up in PATH)", TEXT},
    {"flavor", "neutron|ovn", "neutron",
        "header set: X-Neutron-*-ID or " MD_HEADER_OVN_NETWORK, TEXT},
    {"timeout-http-request", "TIME", NULL, "haproxy timeout http-request",
        AT(DOC_MS, proxy.timeouts.http_request)},
    {"timeout-connect", "TIME", NULL, "haproxy timeout connect",
        AT(DOC_MS, proxy.timeouts.connect)},
    {"timeout-client", "TIME", NULL, "haproxy timeout client",
        AT(DOC_MS, proxy.timeouts.client)},
    {"timeout-server", "TIME", NULL, "haproxy timeout server",
        AT(DOC_MS, proxy.timeouts.server)},
    {"timeout-http-keep-alive", "TIME", NULL, "haproxy timeout http-keep-alive",
        AT(DOC_MS, proxy.timeouts.http_keep_alive)},
    {"[no]rate-limit-enabled", NULL, "off",
        "limit the request rate per client address (answer 429)", TEXT},
    {"rate-limit-ip-version", "4|6", NULL, "address family rate limited",
        AT(DOC_INT, proxy.rate_limit.ip_version)},
    {"base-window-duration", "SECONDS", NULL, "base rate window",
        AT(DOC_ULONG, proxy.rate_limit.base_window)},
    {"base-query-rate-limit", "N", NULL, "requests allowed per base window",
        AT(DOC_ULONG, proxy.rate_limit.base_limit)},
    {"burst-window-duration", "SECONDS", NULL, "burst rate window",
        AT(DOC_ULONG, proxy.rate_limit.burst_window)},
    {"burst-query-rate-limit", "N", NULL, "requests allowed per burst window",
        AT(DOC_ULONG, proxy.rate_limit.burst_limit)},
    {"max-conns-per-source", "N", NULL,
        "connections one client address may hold at once (0: no cap)",
        AT(DOC_ULONG, proxy.max_conns_per_source)},
    {"max-body-size", "BYTES", NULL,
        "largest request body (413 past it; 0: no cap)",
        AT(DOC_ULONG, proxy.max_body_size)},
    {"max-idle-agent-conns", "N", NULL,
        "built-in: idle agent connections kept per agent socket (0: none)",
        AT(DOC_ULONG, daemon.agent_idle_max)},
    {"max-agent-conns", "N", AGENT_MAX_TEXT,
        "built-in: connections open per agent socket, in use or idle; "
        "past it requests wait (0: none)",
        TEXT},
    {"timeout-agent-idle", "TIME", NULL,
        "built-in: close an idle agent connection after this",
        AT(DOC_MS, daemon.agent_idle_timeout)},
    {"stop-timeout", "SECONDS", NULL, "stop: wait before SIGKILL",
        AT(DOC_ULONG, daemon.stop_timeout)},
    {"[no]daemonize", NULL, "off; on as neutron-ns-metadata-proxy",
        "run in the background", TEXT},
    {"[no]debug", NULL, "off", "log at debug level", TEXT},
    {"log-file", "FILE", "none", "log file (relative: under --log-dir)", TEXT},
    {"log-dir", "DIR", "none", "directory of --log-file", TEXT},
    {"log-format", "httplog|json", "httplog",
        "built-in: access lines as haproxy's httplog, or JSON", TEXT},
    {"[no]use-syslog", NULL, "off", "log to syslog", TEXT},
    {"syslog-log-facility", "FACILITY", NULL, "syslog facility",
        AT(DOC_STR, daemon.syslog_facility)},
    {"[no]metadata-proxy-watch-log", NULL, "off",
        "accepted for neutron; no effect", TEXT},
    {"control-socket", "PATH", DEF_CONTROL_SOCKET,
        "fleet, status --all: the fleet's control socket", TEXT},
    {"control-group", "GROUP", "--metadata-proxy-group",
        "fleet serve: group that may use the control socket (and root)", TEXT},
    {"maxconn", "N", FLEET_MAXCONN_TEXT,
        "fleet serve: connections at once, all networks", TEXT},
    {"max-conns-per-network", "N", FLEET_NET_MAXCONN_TEXT,
        "fleet serve: connections one network may hold at once", TEXT},
    {"metrics-listen", "ADDR:PORT", "none",
        "fleet serve: also serve /metrics and /health over HTTP there "
        "(IPv6: [ADDR]:PORT)",
        TEXT},
    {"batch", "FILE", "none",
        "fleet add: the networks of FILE (- for standard input), a line "
        "of options each",
        TEXT},
    {"all", NULL, NULL,
        "status: every proxy of the node, one line each (pidfiles and "
        "configs under --state-path, the fleet at --control-socket)",
        TEXT},
    {"json", NULL, NULL, "status --all: the same as one JSON object", TEXT},
    {"help", NULL, NULL, "this text", TEXT},
    {"version", NULL, NULL, "the version", TEXT},
};

#undef AT
#undef TEXT

struct parse_state {
	const char *val[NVALUES];
	const char *spelled[NVALUES]; /* the spelling the user typed */
	const char *command;
	const char *words[2]; /* after "fleet": its command and an id */
	int nwords;
	const char *rate_flag; /* the spelling of --[no]rate-limit-enabled */
	bool all, json;        /* status --all [--json] */
};

static enum cli_result fail(struct cli_error *err, int code, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static enum cli_result
fail(struct cli_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(err->msg, sizeof(err->msg), fmt, ap) < 0)
		err->msg[0] = '\0';
	va_end(ap);
	err->exit_code = code;
	return CLI_ERROR;
}

static enum cli_result
invalid(struct cli_error *err, const struct parse_state *ps, int id,
    const char *value, const char *why)
{
	char shown[SHOWN_VALUE_MAX * 4 + 8];

	validate_escape(value, SHOWN_VALUE_MAX, shown, sizeof(shown));
	return fail(err, EX_DATAERR, "invalid value for --%s: '%s': %s",
	    ps->spelled[id - O_FIRST], shown, why);
}

static int
copy(char *dst, size_t dstsz, const char *src)
{
	int n = snprintf(dst, dstsz, "%s", src);

	if (n < 0 || (size_t)n >= dstsz)
		return -ENAMETOOLONG;
	return 0;
}

static void
set_defaults(struct options *o, bool neutron_name)
{
	memset(o, 0, sizeof(*o));
	o->command = CMD_RUN;
	defaults_proxy(&o->proxy);
	defaults_daemon(&o->daemon);
	o->daemon.daemonize = neutron_name;
}

static const char *
basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/*
 * getopt_long takes unique prefixes of long options; we do not, so that a
 * typo never turns into another option. elem is the argv element.
 */
static bool
spelled_in_full(const char *elem, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(elem, "--", 2) != 0)
		return true; /* a short option */
	elem += 2;
	return strncmp(elem, name, n) == 0 &&
	       (elem[n] == '\0' || elem[n] == '=');
}

/* Each step returns early on the first error it finds. */
#define TRY(expr)                                                              \
	do {                                                                   \
		enum cli_result r_ = (expr);                                   \
		if (r_ != CLI_OK)                                              \
			return r_;                                             \
	} while (0)

/* The first word is the command; there is no second. */
static enum cli_result
positional(const char *word, struct parse_state *ps, struct cli_error *err)
{
	char shown[SHOWN_VALUE_MAX * 4 + 8];

	if (ps->command != NULL &&
	    (strcmp(ps->command, "fleet") != 0 || ps->nwords == 2)) {
		validate_escape(word, SHOWN_VALUE_MAX, shown, sizeof(shown));
		return fail(err, EX_USAGE, "unexpected argument '%s'", shown);
	}
	if (ps->command == NULL)
		ps->command = word;
	else
		ps->words[ps->nwords++] = word;
	return CLI_OK;
}

static enum cli_result
scan(int argc, char *argv[], struct options *o, struct parse_state *ps,
    struct cli_error *err)
{
	char shown[SHOWN_VALUE_MAX * 4 + 8];
	const char *elem;
	int c, li;

	/* optind = 0 makes glibc reinitialise getopt's internal state. */
	optind = 0;
	opterr = 0;
	for (;;) {
		li = -1;
		/* "-": positionals come back in order as option 1, whatever
		 * POSIXLY_CORRECT says; ":": report a missing value as ':'. */
		c = getopt_long(argc, argv, "-:hVd", longopts, &li);
		if (c == -1)
			break;
		elem = argv[optind - 1];
		if (li >= 0 && longopts[li].has_arg == required_argument &&
		    optarg == argv[optind - 1] && optind >= 2)
			elem = argv[optind - 2];
		if (li >= 0 && !spelled_in_full(elem, longopts[li].name)) {
			validate_escape(
			    elem, SHOWN_VALUE_MAX, shown, sizeof(shown));
			return fail(err, EX_USAGE,
			    "unknown option '%s' (options are not "
			    "abbreviated)",
			    shown);
		}
		switch (c) {
		case 1:
			TRY(positional(optarg, ps, err));
			break;
		case '?':
			validate_escape(
			    elem, SHOWN_VALUE_MAX, shown, sizeof(shown));
			if (optopt != 0 && strncmp(elem, "--", 2) == 0)
				return fail(err, EX_USAGE,
				    "option '%s' takes no value", shown);
			return fail(
			    err, EX_USAGE, "unknown option '%s'", shown);
		case ':':
			validate_escape(
			    elem, SHOWN_VALUE_MAX, shown, sizeof(shown));
			return fail(
			    err, EX_USAGE, "option '%s' needs a value", shown);
		case 'h':
			return CLI_HELP;
		case 'V':
			return CLI_VERSION;
		case 'd':
		case O_DEBUG:
			o->daemon.debug = true;
			break;
		case O_NODEBUG:
			o->daemon.debug = false;
			break;
		case O_DAEMONIZE:
			o->daemon.daemonize = true;
			break;
		case O_NODAEMONIZE:
			o->daemon.daemonize = false;
			break;
		case O_SYSLOG:
			o->daemon.use_syslog = true;
			break;
		case O_NOSYSLOG:
			o->daemon.use_syslog = false;
			break;
		case O_WATCH:
			o->daemon.watch_log = true;
			break;
		case O_NOWATCH:
			o->daemon.watch_log = false;
			break;
		case O_ALL:
			ps->all = true;
			break;
		case O_JSON:
			ps->json = true;
			break;
		case O_RL_ON:
		case O_RL_OFF:
			o->proxy.rate_limit.enabled = c == O_RL_ON;
			ps->rate_flag = longopts[li].name;
			break;
		default:
			if (c < O_FIRST || c > O_LAST_VALUE || li < 0)
				return fail(err, EX_USAGE, "unknown option");
			if (ps->val[c - O_FIRST] != NULL)
				return fail(err, EX_USAGE,
				    "option '--%s' given more than once",
				    longopts[li].name);
			if (optarg[0] == '\0')
				return fail(err, EX_DATAERR,
				    "invalid value for --%s: '': empty",
				    longopts[li].name);
			ps->val[c - O_FIRST] = optarg;
			ps->spelled[c - O_FIRST] = longopts[li].name;
			break;
		}
	}
	/* Only "--" leaves arguments behind: positionals all. */
	for (; optind < argc; optind++)
		TRY(positional(argv[optind], ps, err));
	return CLI_OK;
}

static const struct {
	const char *name;
	enum command cmd;
} commands[] = {
    {"run", CMD_RUN},
    {"render", CMD_RENDER},
    {"check", CMD_CHECK},
    {"status", CMD_STATUS},
    {"stop", CMD_STOP},
    {"cleanup", CMD_CLEANUP},
    {"fleet", CMD_FLEET},
};

static enum cli_result
parse_command(const char *word, struct options *o, struct cli_error *err)
{
	char shown[SHOWN_VALUE_MAX * 4 + 8];
	size_t i;

	if (word == NULL)
		return CLI_OK;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(word, commands[i].name) == 0) {
			o->command = commands[i].cmd;
			return CLI_OK;
		}
	}
	validate_escape(word, SHOWN_VALUE_MAX, shown, sizeof(shown));
	return fail(err, EX_USAGE,
	    "unknown command '%s' (run, render, check, status, stop, cleanup, "
	    "fleet)",
	    shown);
}

#define VAL(id) (ps->val[(id)-O_FIRST])

/* A path option: validated into dst, at most max bytes. */
static enum cli_result
path_opt(struct cli_error *err, const struct parse_state *ps, int id,
    size_t max, char *dst, size_t dstsz)
{
	const char *why = NULL;

	if (VAL(id) == NULL)
		return CLI_OK;
	if (validate_path(VAL(id), max, dst, dstsz, &why) < 0)
		return invalid(err, ps, id, VAL(id), why);
	return CLI_OK;
}

static enum cli_result
timeout_opt(struct cli_error *err, const struct parse_state *ps, int id,
    unsigned long *dst)
{
	const char *why = NULL;

	if (VAL(id) == NULL)
		return CLI_OK;
	if (validate_timeout(VAL(id), dst, &why) < 0)
		return invalid(err, ps, id, VAL(id), why);
	return CLI_OK;
}

static enum cli_result
ulong_opt(struct cli_error *err, const struct parse_state *ps, int id,
    unsigned long min, unsigned long max, unsigned long *dst)
{
	const char *why = NULL;

	if (VAL(id) == NULL)
		return CLI_OK;
	if (validate_ulong(VAL(id), min, max, dst, &why) < 0)
		return invalid(err, ps, id, VAL(id), why);
	return CLI_OK;
}

static enum cli_result
apply_identity(
    struct options *o, const struct parse_state *ps, struct cli_error *err)
{
	const char *why = NULL;

	if (VAL(O_NETWORK_ID) != NULL && VAL(O_ROUTER_ID) != NULL)
		return fail(err, EX_USAGE,
		    "--%s and --%s are mutually exclusive",
		    ps->spelled[O_NETWORK_ID - O_FIRST],
		    ps->spelled[O_ROUTER_ID - O_FIRST]);
	if (VAL(O_NETWORK_ID) == NULL && VAL(O_ROUTER_ID) == NULL)
		return fail(err, EX_USAGE,
		    "one of --network-id or --router-id is required");
	o->proxy.id_kind = VAL(O_NETWORK_ID) != NULL ? ID_NETWORK : ID_ROUTER;
	{
		int id =
		    o->proxy.id_kind == ID_NETWORK ? O_NETWORK_ID : O_ROUTER_ID;

		if (validate_uuid(VAL(id), &why) < 0)
			return invalid(err, ps, id, VAL(id), why);
		(void)copy(o->proxy.id, sizeof(o->proxy.id), VAL(id));
	}
	if (VAL(O_FLAVOR) != NULL) {
		if (strcmp(VAL(O_FLAVOR), "neutron") == 0)
			o->proxy.flavor = FLAVOR_NEUTRON;
		else if (strcmp(VAL(O_FLAVOR), "ovn") == 0)
			o->proxy.flavor = FLAVOR_OVN;
		else
			return invalid(err, ps, O_FLAVOR, VAL(O_FLAVOR),
			    "not 'neutron' or 'ovn'");
	}
	if (o->proxy.flavor == FLAVOR_OVN && o->proxy.id_kind == ID_ROUTER)
		return fail(err, EX_USAGE,
		    "--%s is not allowed with --flavor ovn (networks only)",
		    ps->spelled[O_ROUTER_ID - O_FIRST]);
	return CLI_OK;
}

static enum cli_result
apply_network(
    struct options *o, const struct parse_state *ps, struct cli_error *err)
{
	const char *why = NULL;
	unsigned long ul;
	int family = 0;

	if (VAL(O_BIND) != NULL) {
		if (validate_address(VAL(O_BIND), AF_UNSPEC,
		        o->proxy.bind_address, sizeof(o->proxy.bind_address),
		        &family, &why) < 0)
			return invalid(err, ps, O_BIND, VAL(O_BIND), why);
		o->proxy.bind_v6 = family == AF_INET6;
	}
	if ((VAL(O_BIND6) == NULL) != (VAL(O_IFACE) == NULL))
		return fail(err, EX_USAGE,
		    "--%s and --%s go together: give both or neither",
		    VAL(O_BIND6) != NULL ? ps->spelled[O_BIND6 - O_FIRST]
		                         : "bind-address-v6",
		    VAL(O_IFACE) != NULL ? ps->spelled[O_IFACE - O_FIRST]
		                         : "bind-interface");
	if (VAL(O_BIND6) != NULL) {
		if (validate_address(VAL(O_BIND6), AF_INET6,
		        o->proxy.bind_address_v6,
		        sizeof(o->proxy.bind_address_v6), NULL, &why) < 0)
			return invalid(err, ps, O_BIND6, VAL(O_BIND6), why);
		if (validate_ifname(VAL(O_IFACE), &why) < 0)
			return invalid(err, ps, O_IFACE, VAL(O_IFACE), why);
		(void)copy(o->proxy.bind_interface,
		    sizeof(o->proxy.bind_interface), VAL(O_IFACE));
	}
	if (VAL(O_PORT) != NULL &&
	    validate_port(VAL(O_PORT), &o->proxy.port, &why) < 0)
		return invalid(err, ps, O_PORT, VAL(O_PORT), why);
	if (VAL(O_NETNS) != NULL) {
		if (validate_netns(VAL(O_NETNS), &why) < 0)
			return invalid(err, ps, O_NETNS, VAL(O_NETNS), why);
		(void)copy(
		    o->daemon.netns, sizeof(o->daemon.netns), VAL(O_NETNS));
	}
	TRY(ulong_opt(err, ps, O_RL_IPVER, 4, 6, &ul));
	if (VAL(O_RL_IPVER) != NULL) {
		if (ul == 5)
			return invalid(
			    err, ps, O_RL_IPVER, VAL(O_RL_IPVER), "not 4 or 6");
		o->proxy.rate_limit.ip_version = (int)ul;
	}
	TRY(ulong_opt(err, ps, O_RL_BASE_WIN, 1, DEF_RATE_WINDOW_MAX,
	    &o->proxy.rate_limit.base_window));
	TRY(ulong_opt(err, ps, O_RL_BASE_LIM, 1, DEF_RATE_LIMIT_MAX,
	    &o->proxy.rate_limit.base_limit));
	TRY(ulong_opt(err, ps, O_RL_BURST_WIN, 1, DEF_RATE_WINDOW_MAX,
	    &o->proxy.rate_limit.burst_window));
	TRY(ulong_opt(err, ps, O_RL_BURST_LIM, 1, DEF_RATE_LIMIT_MAX,
	    &o->proxy.rate_limit.burst_limit));
	TRY(timeout_opt(err, ps, O_T_REQUEST, &o->proxy.timeouts.http_request));
	TRY(timeout_opt(err, ps, O_T_CONNECT, &o->proxy.timeouts.connect));
	TRY(timeout_opt(err, ps, O_T_CLIENT, &o->proxy.timeouts.client));
	TRY(timeout_opt(err, ps, O_T_SERVER, &o->proxy.timeouts.server));
	TRY(timeout_opt(
	    err, ps, O_T_KEEPALIVE, &o->proxy.timeouts.http_keep_alive));
	TRY(ulong_opt(err, ps, O_MAX_SRC, 0, DEF_MAX_CONNS_PER_SOURCE_MAX,
	    &o->proxy.max_conns_per_source));
	TRY(ulong_opt(err, ps, O_MAX_BODY, 0, DEF_MAX_BODY_SIZE_MAX,
	    &o->proxy.max_body_size));
	return CLI_OK;
}

static enum cli_result
apply_process(
    struct options *o, const struct parse_state *ps, struct cli_error *err)
{
	const char *why = NULL;

	if (VAL(O_ENGINE) != NULL) {
		if (strcmp(VAL(O_ENGINE), "haproxy") == 0)
			o->daemon.engine = ENGINE_HAPROXY;
		else if (strcmp(VAL(O_ENGINE), "builtin") == 0)
			o->daemon.engine = ENGINE_BUILTIN;
		else
			return invalid(err, ps, O_ENGINE, VAL(O_ENGINE),
			    "not 'haproxy' or 'builtin'");
	}
	if (VAL(O_USER) != NULL) {
		if (validate_account(VAL(O_USER), &why) < 0)
			return invalid(err, ps, O_USER, VAL(O_USER), why);
		(void)copy(o->daemon.user, sizeof(o->daemon.user), VAL(O_USER));
	}
	if (VAL(O_GROUP) != NULL) {
		if (validate_account(VAL(O_GROUP), &why) < 0)
			return invalid(err, ps, O_GROUP, VAL(O_GROUP), why);
		(void)copy(
		    o->daemon.group, sizeof(o->daemon.group), VAL(O_GROUP));
	}
	TRY(ulong_opt(
	    err, ps, O_STOP_TIMEOUT, 0, 3600, &o->daemon.stop_timeout));
	TRY(ulong_opt(err, ps, O_AGENT_IDLE_MAX, 0, DEF_AGENT_IDLE_MAX_MAX,
	    &o->daemon.agent_idle_max));
	TRY(ulong_opt(
	    err, ps, O_AGENT_MAX, 0, DEF_AGENT_MAX_MAX, &o->daemon.agent_max));
	TRY(timeout_opt(
	    err, ps, O_T_AGENT_IDLE, &o->daemon.agent_idle_timeout));
	if (VAL(O_FACILITY) != NULL) {
		if (validate_facility(VAL(O_FACILITY), &why) < 0)
			return invalid(
			    err, ps, O_FACILITY, VAL(O_FACILITY), why);
		(void)copy(o->daemon.syslog_facility,
		    sizeof(o->daemon.syslog_facility), VAL(O_FACILITY));
	}
	if (VAL(O_LOG_FORMAT) != NULL) {
		if (strcmp(VAL(O_LOG_FORMAT), "json") == 0)
			o->daemon.log_json = true;
		else if (strcmp(VAL(O_LOG_FORMAT), "httplog") != 0)
			return invalid(err, ps, O_LOG_FORMAT, VAL(O_LOG_FORMAT),
			    "not httplog or json");
	}
	TRY(path_opt(err, ps, O_HAPROXY, PATH_MAX - 1, o->daemon.haproxy_path,
	    sizeof(o->daemon.haproxy_path)));
	TRY(path_opt(err, ps, O_LOG_DIR, PATH_MAX - 1, o->daemon.log_dir,
	    sizeof(o->daemon.log_dir)));
	if (VAL(O_LOG_FILE) != NULL) {
		/* neutron passes a bare file name together with --log-dir. */
		if (VAL(O_LOG_FILE)[0] == '/') {
			TRY(path_opt(err, ps, O_LOG_FILE, PATH_MAX - 1,
			    o->daemon.log_file, sizeof(o->daemon.log_file)));
		} else if (validate_component(VAL(O_LOG_FILE), &why) < 0) {
			return invalid(
			    err, ps, O_LOG_FILE, VAL(O_LOG_FILE), why);
		} else if (VAL(O_LOG_DIR) == NULL) {
			return fail(err, EX_USAGE,
			    "--%s '%s' is relative: it needs --log-dir",
			    ps->spelled[O_LOG_FILE - O_FIRST], VAL(O_LOG_FILE));
		} else {
			(void)copy(o->daemon.log_file,
			    sizeof(o->daemon.log_file), VAL(O_LOG_FILE));
		}
	}
	return CLI_OK;
}

static enum cli_result
apply_files(
    struct options *o, const struct parse_state *ps, struct cli_error *err)
{
	size_t max = o->daemon.engine == ENGINE_HAPROXY ? OPT_HAPROXY_SOCKET_MAX
	                                                : OPT_SOCKET_MAX;
	char derived[PATH_MAX];
	int n;

	/* Room for "/ns-metadata-proxy/.<uuid>.conf.tmp-XXXXXX" below it. */
	TRY(path_opt(err, ps, O_STATE, PATH_MAX - 128, o->daemon.state_path,
	    sizeof(o->daemon.state_path)));
	TRY(path_opt(err, ps, O_SOCKET, max, o->proxy.socket_path,
	    sizeof(o->proxy.socket_path)));
	if (VAL(O_SOCKET) == NULL) {
		n = STR_CONCAT(derived, sizeof(derived),
		    strcmp(o->daemon.state_path, "/") == 0
		        ? ""
		        : o->daemon.state_path,
		    "/metadata_proxy");
		if (n < 0 || (size_t)n > max)
			return fail(err, EX_DATAERR,
			    "invalid value for --metadata-proxy-socket "
			    "(default from --state-path): longer than %zu "
			    "bytes, the most %s accepts",
			    max,
			    o->daemon.engine == ENGINE_HAPROXY
			        ? "haproxy"
			        : "a unix socket");
		(void)copy(o->proxy.socket_path, sizeof(o->proxy.socket_path),
		    derived);
	}
	if (VAL(O_SOCKET) != NULL && strlen(o->proxy.socket_path) > max)
		return invalid(err, ps, O_SOCKET, VAL(O_SOCKET), "too long");
	TRY(path_opt(err, ps, O_PIDFILE, PATH_MAX - 1, o->daemon.pid_file,
	    sizeof(o->daemon.pid_file)));
	if (VAL(O_PIDFILE) == NULL) {
		n = STR_CONCAT(o->daemon.pid_file, sizeof(o->daemon.pid_file),
		    strcmp(o->daemon.state_path, "/") == 0
		        ? ""
		        : o->daemon.state_path,
		    "/external/pids/", o->proxy.id, ".pid");
		if (n < 0)
			return fail(err, EX_DATAERR,
			    "invalid value for --pid-file (default from "
			    "--state-path): too long");
	}
	return CLI_OK;
}

/* The options of one network: fleet add takes them, no other fleet word. */
static const int network_opts[] = {O_NETWORK_ID, O_ROUTER_ID, O_SOCKET, O_BIND,
    O_BIND6, O_IFACE, O_PORT, O_NETNS, O_FLAVOR, O_T_REQUEST, O_T_CONNECT,
    O_T_CLIENT, O_T_SERVER, O_T_KEEPALIVE, O_RL_IPVER, O_RL_BASE_WIN,
    O_RL_BASE_LIM, O_RL_BURST_WIN, O_RL_BURST_LIM, O_MAX_SRC, O_MAX_BODY};
/* The daemon's: fleet serve takes them. */
static const int serve_opts[] = {O_CONTROL_GROUP, O_MAXCONN, O_NET_MAXCONN,
    O_USER, O_GROUP, O_AGENT_IDLE_MAX, O_AGENT_MAX, O_T_AGENT_IDLE, O_LOG_FILE,
    O_LOG_DIR, O_FACILITY, O_METRICS_LISTEN, O_LOG_FORMAT};
/* Neither takes these. */
static const int no_fleet_opts[] = {
    O_ENGINE, O_HAPROXY, O_PIDFILE, O_STOP_TIMEOUT};

static enum cli_result
not_here(const struct parse_state *ps, const int *ids, size_t n,
    const char *where, struct cli_error *err)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (VAL(ids[i]) != NULL)
			return fail(err, EX_USAGE,
			    "--%s is not an option of %s",
			    ps->spelled[ids[i] - O_FIRST], where);
	return CLI_OK;
}

/* The fleet's own options, on a command that is not fleet. */
static enum cli_result
fleet_only(const struct parse_state *ps, struct cli_error *err)
{
	static const int ids[] = {O_CONTROL_SOCKET, O_CONTROL_GROUP, O_MAXCONN,
	    O_NET_MAXCONN, O_BATCH, O_METRICS_LISTEN};

	return not_here(
	    ps, ids, sizeof(ids) / sizeof(ids[0]), "this command", err);
}

static const struct {
	const char *name;
	enum fleet_command cmd;
} fleet_words[] = {
    {"serve", FLEET_CMD_SERVE},
    {"add", FLEET_CMD_ADD},
    {"del", FLEET_CMD_DEL},
    {"list", FLEET_CMD_LIST},
    {"show", FLEET_CMD_SHOW},
    {"metrics", FLEET_CMD_METRICS},
    {"health", FLEET_CMD_HEALTH},
};

static enum cli_result
fleet_word(
    struct options *o, const struct parse_state *ps, struct cli_error *err)
{
	char shown[SHOWN_VALUE_MAX * 4 + 8];
	const char *why = NULL;
	size_t i;
	bool takes_id;

	if (ps->nwords == 0)
		return fail(err, EX_USAGE,
		    "fleet needs a command: serve, add, del, list, show, "
		    "metrics or health");
	for (i = 0; i < sizeof(fleet_words) / sizeof(fleet_words[0]); i++)
		if (strcmp(ps->words[0], fleet_words[i].name) == 0)
			break;
	if (i == sizeof(fleet_words) / sizeof(fleet_words[0])) {
		validate_escape(
		    ps->words[0], SHOWN_VALUE_MAX, shown, sizeof(shown));
		return fail(err, EX_USAGE,
		    "unknown fleet command '%s' (serve, add, del, list, show, "
		    "metrics, health)",
		    shown);
	}
	o->fleet.cmd = fleet_words[i].cmd;
	takes_id =
	    o->fleet.cmd == FLEET_CMD_DEL || o->fleet.cmd == FLEET_CMD_SHOW;
	if (takes_id && ps->nwords < 2)
		return fail(err, EX_USAGE, "fleet %s needs the network's id",
		    ps->words[0]);
	if (!takes_id && ps->nwords > 1) {
		validate_escape(
		    ps->words[1], SHOWN_VALUE_MAX, shown, sizeof(shown));
		return fail(err, EX_USAGE, "unexpected argument '%s'", shown);
	}
	if (takes_id) {
		if (validate_uuid(ps->words[1], &why) < 0) {
			validate_escape(ps->words[1], SHOWN_VALUE_MAX, shown,
			    sizeof(shown));
			return fail(err, EX_DATAERR,
			    "invalid network id '%s': %s", shown, why);
		}
		(void)copy(o->fleet.id, sizeof(o->fleet.id), ps->words[1]);
	}
	return CLI_OK;
}

static enum cli_result
fleet_no_batch(const struct parse_state *ps, struct cli_error *err)
{
	static const int ids[] = {O_BATCH};

	return not_here(
	    ps, ids, 1, "this fleet command (fleet add takes it)", err);
}

/* A network's flag where no network is given: refused, as its options. */
static enum cli_result
no_rate_flag(
    const struct parse_state *ps, const char *where, struct cli_error *err)
{
	if (ps->rate_flag == NULL)
		return CLI_OK;
	return fail(
	    err, EX_USAGE, "--%s is not an option of %s", ps->rate_flag, where);
}

/* fleet add --batch FILE: the networks are FILE's, one a line. */
static enum cli_result
fleet_batch(
    struct options *o, const struct parse_state *ps, struct cli_error *err)
{
	TRY(not_here(ps, network_opts,
	    sizeof(network_opts) / sizeof(network_opts[0]),
	    "fleet add --batch (each line of the file has them)", err));
	TRY(no_rate_flag(
	    ps, "fleet add --batch (each line of the file has them)", err));
	if (strcmp(VAL(O_BATCH), "-") == 0) {
		(void)copy(o->fleet.batch, sizeof(o->fleet.batch), "-");
		return CLI_OK;
	}
	return path_opt(err, ps, O_BATCH, PATH_MAX - 1, o->fleet.batch,
	    sizeof(o->fleet.batch));
}

/* --metrics-listen ADDR:PORT, [ADDR6]:PORT: a host address to serve on. */
static enum cli_result
metrics_listen(
    struct options *o, const struct parse_state *ps, struct cli_error *err)
{
	const char *v = VAL(O_METRICS_LISTEN), *colon, *why = NULL;
	char addr[OPT_ADDR_MAX + 1];
	size_t alen;
	int family;

	if (v == NULL)
		return CLI_OK;
	colon = strrchr(v, ':');
	if (colon == NULL)
		return invalid(err, ps, O_METRICS_LISTEN, v, "not ADDR:PORT");
	alen = (size_t)(colon - v);
	if (v[0] == '[') {
		if (alen < 2 || v[alen - 1] != ']')
			return invalid(
			    err, ps, O_METRICS_LISTEN, v, "not [ADDR]:PORT");
		v++;
		alen -= 2;
	}
	if (alen == 0 || alen >= sizeof(addr))
		return invalid(err, ps, O_METRICS_LISTEN, VAL(O_METRICS_LISTEN),
		    "no address before the port");
	memcpy(addr, v, alen);
	addr[alen] = '\0';
	if (validate_address(addr, AF_UNSPEC, o->fleet.metrics_addr,
	        sizeof(o->fleet.metrics_addr), &family, &why) < 0 ||
	    validate_port(colon + 1, &o->fleet.metrics_port, &why) < 0)
		return invalid(
		    err, ps, O_METRICS_LISTEN, VAL(O_METRICS_LISTEN), why);
	if (family == AF_INET6 && VAL(O_METRICS_LISTEN)[0] != '[')
		return invalid(err, ps, O_METRICS_LISTEN, VAL(O_METRICS_LISTEN),
		    "an IPv6 address goes in brackets");
	o->fleet.metrics_family = family;
	return CLI_OK;
}

static enum cli_result
parse_fleet(
    struct options *o, const struct parse_state *ps, struct cli_error *err)
{
	const char *why = NULL;
	bool add, serve;

	TRY(fleet_word(o, ps, err));
	add = o->fleet.cmd == FLEET_CMD_ADD;
	serve = o->fleet.cmd == FLEET_CMD_SERVE;
	TRY(not_here(ps, no_fleet_opts,
	    sizeof(no_fleet_opts) / sizeof(no_fleet_opts[0]), "fleet", err));
	if (!add) {
		TRY(not_here(ps, network_opts,
		    sizeof(network_opts) / sizeof(network_opts[0]),
		    "this fleet command (fleet add takes it)", err));
		TRY(no_rate_flag(
		    ps, "this fleet command (fleet add takes it)", err));
	}
	if (!serve)
		TRY(not_here(ps, serve_opts,
		    sizeof(serve_opts) / sizeof(serve_opts[0]),
		    "this fleet command (fleet serve takes it)", err));
	if (o->daemon.daemonize)
		return fail(err, EX_USAGE,
		    "fleet runs in the foreground (under systemd, or with &)");
	(void)copy(o->fleet.control_socket, sizeof(o->fleet.control_socket),
	    DEF_CONTROL_SOCKET);
	TRY(path_opt(err, ps, O_CONTROL_SOCKET, OPT_SOCKET_MAX,
	    o->fleet.control_socket, sizeof(o->fleet.control_socket)));
	if (VAL(O_CONTROL_GROUP) != NULL) {
		if (validate_account(VAL(O_CONTROL_GROUP), &why) < 0)
			return invalid(err, ps, O_CONTROL_GROUP,
			    VAL(O_CONTROL_GROUP), why);
		(void)copy(o->fleet.control_group,
		    sizeof(o->fleet.control_group), VAL(O_CONTROL_GROUP));
	}
	TRY(path_opt(err, ps, O_STATE, PATH_MAX - 128, o->daemon.state_path,
	    sizeof(o->daemon.state_path)));
	TRY(metrics_listen(o, ps, err));
	o->daemon.maxconn = DEF_FLEET_MAXCONN;
	o->daemon.network_maxconn = DEF_NETWORK_MAXCONN;
	o->daemon.agent_max = DEF_FLEET_AGENT_MAX;
	o->daemon.fleet = true;
	TRY(ulong_opt(
	    err, ps, O_MAXCONN, 1, DEF_MAXCONN_MAX, &o->daemon.maxconn));
	TRY(ulong_opt(err, ps, O_NET_MAXCONN, 0, DEF_MAXCONN_MAX,
	    &o->daemon.network_maxconn));
	TRY(apply_process(o, ps, err));
	if (!add)
		return fleet_no_batch(ps, err);
	if (VAL(O_BATCH) != NULL)
		return fleet_batch(o, ps, err);
	TRY(apply_identity(o, ps, err));
	TRY(apply_network(o, ps, err));
	o->daemon.engine = ENGINE_BUILTIN;
	return apply_files(o, ps, err);
}

/*
 * status --all [--json]: no id; of the values only where to look
 * (--state-path, --control-socket).
 */
static enum cli_result
parse_status_all(
    struct options *o, const struct parse_state *ps, struct cli_error *err)
{
	int id;

	if (o->command != CMD_STATUS)
		return fail(err, EX_USAGE,
		    "--%s is not an option of this command (status --all "
		    "takes it)",
		    ps->all ? "all" : "json");
	if (!ps->all)
		return fail(err, EX_USAGE, "--json needs --all");
	for (id = O_FIRST; id <= O_LAST_VALUE; id++)
		if (VAL(id) != NULL && id != O_STATE && id != O_CONTROL_SOCKET)
			return fail(err, EX_USAGE,
			    "--%s is not an option of status --all",
			    ps->spelled[id - O_FIRST]);
	TRY(no_rate_flag(ps, "status --all", err));
	o->command = CMD_STATUS_ALL;
	o->json = ps->json;
	(void)copy(o->fleet.control_socket, sizeof(o->fleet.control_socket),
	    DEF_CONTROL_SOCKET);
	TRY(path_opt(err, ps, O_CONTROL_SOCKET, OPT_SOCKET_MAX,
	    o->fleet.control_socket, sizeof(o->fleet.control_socket)));
	return path_opt(err, ps, O_STATE, PATH_MAX - 128, o->daemon.state_path,
	    sizeof(o->daemon.state_path));
}

enum cli_result
cli_parse(int argc, char *argv[], struct options *opts, struct cli_error *err)
{
	struct parse_state ps;
	const char *prog = argc > 0 && argv[0] != NULL ? argv[0] : "";

	memset(&ps, 0, sizeof(ps));
	err->exit_code = 0;
	err->msg[0] = '\0';
	set_defaults(opts, strcmp(basename_of(prog), PROGNAME_NEUTRON) == 0);
	TRY(scan(argc, argv, opts, &ps, err));
	TRY(parse_command(ps.command, opts, err));
	if (ps.all || ps.json)
		return parse_status_all(opts, &ps, err);
	if (opts->command == CMD_FLEET)
		return parse_fleet(opts, &ps, err);
	TRY(fleet_only(&ps, err));
	TRY(apply_identity(opts, &ps, err));
	TRY(apply_network(opts, &ps, err));
	TRY(apply_process(opts, &ps, err));
	TRY(apply_files(opts, &ps, err));
	if (opts->daemon.log_json && opts->daemon.engine == ENGINE_HAPROXY)
		return fail(err, EX_USAGE,
		    "--%s json needs --engine builtin (haproxy writes its own "
		    "httplog lines)",
		    ps.spelled[O_LOG_FORMAT - O_FIRST]);
	return CLI_OK;
}

/* " [default: ...]" for an option, from the defaults d where it can. */
static void
doc_default(
    const struct opt_doc *doc, const struct options *d, struct strbuf *out)
{
	const char *at = (const char *)d + doc->off;
	unsigned long ms;

	switch (doc->kind) {
	case DOC_TEXT:
		if (doc->def != NULL)
			strbuf_appendf(out, " [default: %s]", doc->def);
		return;
	case DOC_STR:
		strbuf_appendf(out, " [default: %s]", at);
		return;
	case DOC_UINT:
		strbuf_appendf(out, " [default: %u]",
		    *(const unsigned int *)(const void *)at);
		return;
	case DOC_INT:
		strbuf_appendf(
		    out, " [default: %d]", *(const int *)(const void *)at);
		return;
	case DOC_ULONG:
		strbuf_appendf(out, " [default: %lu]",
		    *(const unsigned long *)(const void *)at);
		return;
	case DOC_MS:
		ms = *(const unsigned long *)(const void *)at;
		if (ms % 1000 == 0)
			strbuf_appendf(out, " [default: %lus]", ms / 1000);
		else
			strbuf_appendf(out, " [default: %lums]", ms);
		return;
	}
}

int
cli_help(const char *progname, struct strbuf *out)
{
	struct options d;
	size_t i;

	set_defaults(&d, false);
	strbuf_appendf(out,
	    "usage: %s [COMMAND] --network-id UUID | --router-id UUID "
	    "[OPTIONS]\n\n"
	    "commands:\n"
	    "  run      validate, write the config, start the proxy (default)\n"
	    "  render   print the config run would write; writes nothing\n"
	    "  check    have haproxy validate the rendered config\n"
	    "  status   is the proxy for this id running? (LSB: 0, 1, 3)\n"
	    "  status --all [--json]\n"
	    "           every proxy of the node, one line each\n"
	    "  stop     stop the proxy for this id, remove its files\n"
	    "  cleanup  remove the config file for this id\n"
	    "  haproxy -f FILE [-D] [-db] [-p PIDFILE] [-c] [-q]\n"
	    "           serve a neutron-rendered haproxy config (built-in "
	    "engine)\n"
	    "  audit FILE|DIR ...\n"
	    "           report what is unsafe in configs neutron wrote\n"
	    "  fleet serve | add | del ID | list | show ID\n"
	    "           one daemon serving many networks: serve runs it, add\n"
	    "           binds a network's listeners and hands them over\n\n"
	    "options (each also in neutron's underscore spelling, as\n"
	    "--opt=value or --opt value):\n",
	    progname);
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		char left[64];
		int n;

		n = snprintf(left, sizeof(left), "--%s%s%s", docs[i].name,
		    docs[i].meta != NULL ? " " : "",
		    docs[i].meta != NULL ? docs[i].meta : "");
		if (n < 0)
			return -EINVAL;
		strbuf_appendf(out, "  %-36s %s", left, docs[i].help);
		doc_default(&docs[i], &d, out);
		strbuf_append(out, "\n");
	}
	strbuf_append(out,
	    "\nexit codes: 0 ok, 64 usage, 65 invalid value, 66 cannot open "
	    "input,\n67 unknown user or group, 69 haproxy unavailable (fleet: "
	    "no daemon, or not\nserved), 71 OS error, 73 cannot create, 74 "
	    "I/O error, 75 already running,\n76 the fleet's answer unreadable, "
	    "77 permission denied,\n78 unsafe state on disk, 126/127 exec "
	    "failed; status: 0 running, 1 dead\nwith a stale pidfile, 3 not "
	    "running; audit: 1 findings\n");
	return out->failed ? -ENOMEM : 0;
}
