/*
 * The haproxy configuration neutron renders for its metadata proxy, and
 * nothing else: a pure parser from file text to a structure that keeps the
 * line of every directive, and the mapping of that structure to the options
 * of the built-in engine. No I/O, no logging, no allocation.
 *
 * The subset, every neutron release from Zed to today (DHCP and L3 agents,
 * the OVN metadata agent):
 *
 *   global    log /dev/log FACILITY [info|debug], log-tag TAG, user U,
 *             group G, maxconn N, nbthread N, pidfile PATH, daemon
 *   defaults  log global, mode http, option httplog|dontlognull|
 *             http-server-close|forwardfor, retries N, timeout
 *             http-request|connect|client|server|http-keep-alive TIME
 *   backend base_rate_limiter, backend burst_rate_limiter
 *             stick-table type ip|ipv6 size N expire TIME
 *             store http_req_rate(TIME)
 *   listen NAME
 *             bind ADDR:PORT [interface IF]   (at most one of each form)
 *             server NAME /unix/socket/path   (exactly one)
 *             http-request del-header HEADER  (identity headers and
 *                                              X-Forwarded-For only)
 *             http-request set-header|add-header ID-HEADER UUID
 *             http-request track-sc0|track-sc1 src table BACKEND
 *             http-request deny deny_status 429 if
 *                 { src_http_req_rate(BACKEND) gt N }
 *
 * Every value goes through validate.h. Anything else is refused with the
 * file, the line and the directive.
 */
#ifndef NMP_COMPAT_HAPROXY_CFG_H
#define NMP_COMPAT_HAPROXY_CFG_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon_conf.h"
#include "proxy_conf.h"

#define HCFG_LINE_MAX 2048     /* haproxy's own line limit */
#define HCFG_TEXT_MAX 65536    /* a config file larger than this: refused */
#define HCFG_TAG_MAX 64        /* log-tag */
#define HCFG_MAXCONN_MAX 65535 /* what the engine will hold */
#define HCFG_NBTHREAD_MAX 64   /* haproxy 2.6's MAX_THREADS */
#define HCFG_TABLE_MAX 16384   /* the engine's rate table */
#define HCFG_MSG_MAX 1024

/* Where a directive was: the file name is the caller's, not copied. */
struct hcfg_loc {
	const char *file;
	unsigned int line; /* 0: not seen */
};

struct hcfg_error {
	struct hcfg_loc at;
	char msg[HCFG_MSG_MAX]; /* "'DIRECTIVE': reason", values escaped */
};

/*
 * Where the config is weaker than the built-in engine, which removes every
 * client-sent identity and X-Forwarded-For header under any spelling
 * whatever the config says. Each is also a finding of the audit.
 */
enum hcfg_weakness {
	/* no del-header of X-Forwarded-For at all */
	HCFG_WEAK_XFF = 1 << 0,
	/* X-Forwarded-For removed only as spelled, not as X_Forwarded_For */
	HCFG_WEAK_XFF_SPELLING = 1 << 1,
	/* add-header keeps a client-sent copy of the identity header */
	HCFG_WEAK_ADD_KEEPS = 1 << 2,
	/* identity headers removed only as spelled (or not at all): a
	 * client's X_Neutron_Network_ID or X-OVN-Network-ID reaches the
	 * agent */
	HCFG_WEAK_ID_SPELLING = 1 << 3,
};

/*
 * Called for every refused line when set (the audit lists them all);
 * parsing then goes on with the next line. Without it, parsing stops at the
 * first refusal.
 */
typedef void (*hcfg_error_fn)(void *arg, const struct hcfg_error *e);

struct haproxy_cfg {
	/* global */
	bool log_syslog;
	char log_facility[OPT_FACILITY_MAX + 1];
	bool log_debug;
	char log_tag[HCFG_TAG_MAX + 1];
	char user[OPT_NAME_MAX + 1]; /* as written: name or number */
	struct hcfg_loc user_at;
	char group[OPT_NAME_MAX + 1];
	struct hcfg_loc group_at;
	unsigned long maxconn;  /* 0: not given */
	unsigned long nbthread; /* 0: not given */
	struct hcfg_loc nbthread_at;
	char pidfile[PATH_MAX]; /* "" = none */
	struct hcfg_loc pidfile_at;
	bool daemon;
	/* defaults */
	bool mode_http;
	bool forwardfor;
	unsigned long retries;
	struct timeouts timeouts;
	/* the rate-limiting backends and rules */
	struct rate_limit rate_limit;
	/* listen */
	struct hcfg_loc listen_at;
	char bind_address[OPT_ADDR_MAX];
	bool bind_v6;
	char bind_address_v6[OPT_ADDR_MAX];
	char bind_interface[OPT_IFNAME_MAX + 1];
	unsigned int port;
	char socket_path[OPT_SOCKET_MAX + 1];
	enum flavor flavor;
	enum id_kind id_kind;
	char id[OPT_UUID_LEN + 1]; /* "" until a set-/add-header */
	struct hcfg_loc id_at;
	unsigned int weak; /* enum hcfg_weakness bits, after finish */

	/* parser state: private */
	struct {
		int section;
		bool seen_global, seen_defaults, seen_listen;
		unsigned int seen; /* directives given once: bits */
		bool bind_plain, bind_iface;
		unsigned int bind_port;
		struct hcfg_loc bind_at, server_at, first_rl;
		bool add_header;
		bool del_own_before_add;
		unsigned int deleted_before; /* bits: enum header */
		bool del_xff_exact, del_xff_all, del_id_all;
		unsigned int rl_parts; /* bits: tables, tracks, denies */
		int table_family[2];
		unsigned long table_window[2];
		const char *last_file;
		hcfg_error_fn on_error;
		void *on_error_arg;
		unsigned int errors;
	} p;
};

/* Defaults as haproxy's: no timeouts given yet, flavour neutron. */
void haproxy_cfg_init(struct haproxy_cfg *c);

/* Report every refusal to fn and go on (see hcfg_error_fn). */
void haproxy_cfg_on_error(struct haproxy_cfg *c, hcfg_error_fn fn, void *arg);

/*
 * Parse one file's text (len bytes; NUL bytes are refused). Called once per
 * -f FILE, in order, like haproxy. file names the file in errors and
 * locations and must outlive c. Returns 0, or -EINVAL with *err (the first
 * refusal of this call) filled.
 */
int haproxy_cfg_parse(struct haproxy_cfg *c, const char *file, const char *text,
    size_t len, struct hcfg_error *err);

/*
 * After the last file: is the config whole (mode http, a listen section
 * with a bind, a server and the identity header, all or none of the rate
 * limiting pieces)? Sets c->weak. 0 or -EINVAL with *err.
 */
int haproxy_cfg_finish(struct haproxy_cfg *c, struct hcfg_error *err);

/*
 * The network and process of a finished config, for the built-in engine:
 * everything from the config or the defaults (defaults.h). user and group
 * stay as written (resolve them with identity.h). pidfile and daemon are
 * the caller's (the command line may override them). Returns 0 or
 * -ENAMETOOLONG.
 */
int haproxy_cfg_conf(
    const struct haproxy_cfg *c, struct proxy_conf *p, struct daemon_conf *d);

/* A one-line description of one weakness bit, for logs and the audit. */
const char *haproxy_cfg_weakness(enum hcfg_weakness w);

#endif
