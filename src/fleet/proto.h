/*
 * The fleet's control protocol (docs/fleet-protocol.md): one JSON object a
 * message, each way, over a SOCK_SEQPACKET unix socket; a request names
 * its version and operation, a reply says ok or gives one error line. The
 * listeners of an add travel beside the message (SCM_RIGHTS, fleet/ctl.h).
 * Pure: bytes in, values out, and back. Every value read passes the same
 * grammar as on the command line (validate.h).
 */
#ifndef NMP_FLEET_PROTO_H
#define NMP_FLEET_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "daemon_conf.h"
#include "proxy_conf.h"
#include "strbuf.h"

#define FLEET_PROTO_VERSION 1
/* The largest message either way; a larger one is refused unread. */
#define FLEET_MSG_MAX 65536
/* Listeners an add carries: the bind address, and the IPv6 one. */
#define FLEET_FDS_MAX 2
/* Networks a list reply holds; the next page starts after the last. */
#define FLEET_LIST_PAGE 64
/* One error line, at most. */
#define FLEET_ERROR_MAX 256

enum fleet_op {
	FLEET_ADD,
	FLEET_DEL,
	FLEET_LIST,
	FLEET_SHOW,
	FLEET_METRICS, /* the reply's text comes in a memfd beside it */
	FLEET_HEALTH,
};

struct fleet_request {
	enum fleet_op op;
	/* del, show: the network; list: the last one of the page before
	 * ("": from the first) */
	char id[OPT_UUID_LEN + 1];
	struct proxy_conf net;         /* add */
	char netns[OPT_NETNS_MAX + 1]; /* add: the namespace's name, or "" */
	bool hold; /* add: removed when the sender's connection closes */
};

/* A network as list and show tell it. */
struct fleet_net_info {
	char id[OPT_UUID_LEN + 1];
	enum flavor flavor;
	enum id_kind id_kind;
	char netns[OPT_NETNS_MAX + 1];  /* "" when added without a name */
	unsigned long long netns_inode; /* 0: not known */
	char binds[FLEET_FDS_MAX][OPT_ADDR_MAX + 8]; /* "addr:port" */
	int nbinds;
	unsigned long requests;
	unsigned long refused;
	unsigned long conns;
	char last_error[64]; /* "" when none */
	int64_t last_error_at;
	int64_t since;
	bool held;
};

/* Agent sockets a health reply names at most. */
#define FLEET_HEALTH_AGENTS 8

/* How the daemon is, as health tells it. */
struct fleet_health {
	char status[16]; /* "ok", "degraded" or "stopping" */
	unsigned long networks;
	unsigned long listeners; /* held */
	unsigned long listening; /* of them, listening */
	struct {
		char path[108];
		bool reachable;
		char error[64]; /* "" when reachable */
	} agents[FLEET_HEALTH_AGENTS];
	int nagents;
};

struct fleet_reply {
	bool ok;
	char error[FLEET_ERROR_MAX]; /* when !ok */
	struct fleet_net_info nets[FLEET_LIST_PAGE];
	int nnets;
	bool more; /* list: another page after nets[nnets - 1] */
	bool has_health;
	struct fleet_health health;
	/* metrics: the length of the text in the descriptor beside it */
	bool has_metrics;
	uint64_t metrics_bytes;
};

/*
 * Read a request. 0, or -EINVAL with why (one line, untrusted bytes
 * escaped) filled; r is then unspecified.
 */
int fleet_request_parse(const char *buf, size_t len, struct fleet_request *r,
    char *why, size_t whysz);

/* A request as it goes on the wire; -ENOMEM. */
int fleet_request_write(const struct fleet_request *r, struct strbuf *out);

/* Replies: an error, a plain ok, a page of networks (list and show). */
int fleet_reply_error(const char *msg, struct strbuf *out);
int fleet_reply_ok(struct strbuf *out);
int fleet_reply_nets(
    const struct fleet_net_info *nets, int n, bool more, struct strbuf *out);
int fleet_reply_health(const struct fleet_health *h, struct strbuf *out);
int fleet_reply_metrics(uint64_t bytes, struct strbuf *out);

/* Read a reply; 0, or -EINVAL with why filled. */
int fleet_reply_parse(const char *buf, size_t len, struct fleet_reply *r,
    char *why, size_t whysz);

#endif
