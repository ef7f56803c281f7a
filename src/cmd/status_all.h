/*
 * status --all: every proxy of the node, one line each. The command is
 * cmd_status_all() (cmd/cmd.h); this header is its pure part, the names,
 * texts and the merge of what was found, for the unit test. None of these
 * does I/O or logs.
 */
#ifndef NMP_CMD_STATUS_ALL_H
#define NMP_CMD_STATUS_ALL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "proxy_conf.h"
#include "strbuf.h"

enum status_kind {
	STATUS_KIND_NONE, /* not known: "-" */
	STATUS_KIND_NETWORK,
	STATUS_KIND_ROUTER,
};

enum status_engine {
	STATUS_ENGINE_NONE, /* not known: "-" */
	STATUS_ENGINE_BUILTIN,
	STATUS_ENGINE_HAPROXY,
	STATUS_ENGINE_FLEET,
};

/* In the order the merge prefers them for one id. */
enum status_state {
	STATUS_RUNNING, /* serving: the pidfile's proxy, or the fleet */
	STATUS_WAITING, /* a stub whose network the fleet does not serve */
	STATUS_UNKNOWN, /* a pidfile that cannot be read, or locked by a
	                   process that is not the proxy of its id */
	STATUS_DEAD,    /* a pid in a pidfile nobody holds */
	STATUS_STOPPED, /* a config, or an empty pidfile: no process */
};

/* One line. */
struct status_line {
	char id[OPT_UUID_LEN + 1];
	enum status_kind kind;
	enum status_engine engine;
	enum status_state state;
	pid_t pid;          /* 0: none */
	long long uptime;   /* seconds; -1: not known */
	long long requests; /* -1: not known */
	bool error_known;   /* last_error is known ("": none) */
	char last_error[64];
	bool fleet;        /* a network of the fleet's list */
	char pidfile[256]; /* its name in the pidfile directory; "": none */
};

/*
 * The id of a name in the pidfile directory: <uuid>.pid (ours) or
 * <uuid>.pid.haproxy (neutron's). 1 and id filled (OPT_UUID_LEN + 1
 * bytes); 0 a name of another kind (another service's pidfile, the
 * ".ctl" socket beside a pidfile); -EINVAL a pidfile's name whose id is
 * no canonical uuid. *neutron, when not NULL, tells the .haproxy form.
 */
int status_all_pidfile_id(const char *name, char *id, bool *neutron);

/* The same for a config directory: <uuid>.conf. */
int status_all_config_id(const char *name, char *id);

/*
 * The engine of a process by the target of its /proc/PID/exe (a
 * " (deleted)" suffix ignored): ns-metadata-proxy-stub the fleet's, our
 * binary builtin, haproxy haproxy; else none.
 */
enum status_engine status_all_exe_engine(const char *target);

/*
 * The start time of a process, in clock ticks after boot, from the text
 * of its /proc/PID/stat (len bytes): 0 or -EINVAL.
 */
int status_all_starttime(
    const char *stat, size_t len, unsigned long long *ticks);

/* The whole seconds of /proc/uptime's text: 0 or -EINVAL. */
int status_all_uptime(const char *text, size_t len, unsigned long long *sec);

/* The kind a command line (NUL-separated, len bytes) names, by its
 * --network-id or --router-id (either spelling). */
enum status_kind status_all_cmdline_kind(const char *cmd, size_t len);

/* The kind a haproxy config names, by its set-header or add-header of
 * an id header. */
enum status_kind status_all_config_kind(const char *text, size_t len);

/*
 * One line per proxy, in the order of their ids. For each id: a running
 * stub takes the fleet's line of its id (requests, last error, since),
 * and is waiting without one (unknown when fleet_known is false: the
 * fleet could not be asked); a line without a kind takes another's; when
 * something of the id runs, its dead or stopped lines go, else only the
 * most telling one stays (dead before stopped). Returns the new count.
 */
size_t status_all_merge(struct status_line *l, size_t n, bool fleet_known);

/* The text form: a header line, then a line each. */
void status_all_text(const struct status_line *l, size_t n, struct strbuf *out);

/*
 * The JSON form: {"proxies":[...],"skipped":N}, each pidfile under piddir.
 * 0 or -ENOMEM.
 */
int status_all_json(const struct status_line *l, size_t n, const char *piddir,
    size_t skipped, struct strbuf *out);

#endif
