/*
 * The facts of the product that more than one module must agree on: the
 * headers the agent reads, what a client may not send, how much of a head
 * the agent reads, where neutron keeps our files, where haproxy is found.
 * The renderer, the built-in engine, the haproxy front and the command
 * line read them from here; nothing here does I/O.
 */
#ifndef NMP_METADATA_H
#define NMP_METADATA_H

#include "proxy_conf.h"

/*
 * The agent reads the request head in one recv of this size; a client head
 * that could not fit it together with the headers we add is refused (431).
 */
#define MD_AGENT_READ 4096

/* A single built-in engine's control socket: its pidfile's path and this. */
#define MD_CONTROL_SUFFIX ".ctl"

/* The most an agent's response head may take; past it: 502. */
#define MD_RESPONSE_HEAD_MAX (16 * 1024)

/* More request header lines than this: 431. */
#define MD_MAX_HEADER_LINES 100

#define MD_HEADER_XFF "X-Forwarded-For"
#define MD_HEADER_NEUTRON_NETWORK "X-Neutron-Network-ID"
#define MD_HEADER_NEUTRON_ROUTER "X-Neutron-Router-ID"
#define MD_HEADER_OVN_NETWORK "X-OVN-Network-ID"
#define MD_HEADER_OVN_ROUTER "X-OVN-Router-ID"

/* The header naming who asks: X-Neutron-Network-ID, ... */
const char *md_id_header(enum flavor flavor, enum id_kind kind);

/*
 * The header families that are ours to set: a client's X-Neutron-*, X-OVN-*
 * and X-Forwarded-For never reach the agent. As the agent reads names
 * (WSGI): any case, '-' and '_' alike.
 */
extern const char *const md_own_prefixes[]; /* "X-Neutron-", "X-OVN-" */
/*
 * What nova and proxies read as a client's identity: removed from every
 * request, under any spelling the agent folds. NULL-terminated.
 */
extern const char *const md_identity_headers[];

/*
 * The same three rules as haproxy regular expressions (PCRE, -m reg), as
 * the renderer writes them and the front recognises them.
 */
#define MD_RE_OWN "(?i)^x[-_](neutron|ovn)[-_]"
#define MD_RE_XFF "(?i)^x[-_]forwarded[-_]for$"
#define MD_RE_IDENTITY                                                         \
	"(?i)^(forwarded|x[-_]real[-_]ip|"                                     \
	"x[-_]instance[-_]id([-_]signature)?|x[-_]tenant[-_]id)$"

/*
 * Where neutron keeps our files under its state path: the config directory
 * of each flavour, and the pidfiles.
 */
#define MD_CONFIG_DIR_NEUTRON "ns-metadata-proxy"
#define MD_CONFIG_DIR_OVN "ovn-metadata-proxy"
#define MD_PID_DIR "external/pids"

/* "ns-metadata-proxy" or "ovn-metadata-proxy". */
const char *md_config_dir(enum flavor flavor);

/*
 * Where haproxy is looked for when --haproxy-path is not given, in order;
 * NULL-terminated. MD_HAPROXY_DIRS_TEXT says the same for messages.
 */
extern const char *const md_haproxy_dirs[];
#define MD_HAPROXY_DIRS_TEXT                                                   \
	"/usr/sbin, /usr/local/sbin, /usr/bin, /usr/local/bin, /sbin"

#endif
