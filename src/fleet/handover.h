/*
 * What the haproxy front hands its stub at exec: one line of key=value
 * for each field, on the stub's standard input (a memfd). Written and read
 * by this project only, between one process and the program it becomes;
 * read strictly all the same. Pure: no I/O.
 */
#ifndef NMP_FLEET_HANDOVER_H
#define NMP_FLEET_HANDOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "daemon_conf.h"
#include "fleet/proto.h"
#include "proxy_conf.h"
#include "strbuf.h"

#define HANDOVER_MAX (FLEET_MSG_MAX + 8192)

struct handover {
	char id[OPT_UUID_LEN + 1];
	char control_socket[OPT_SOCKET_MAX + 1];
	unsigned int reconnect_timeout; /* seconds */
	int conn;                       /* the control connection */
	int listen[FLEET_FDS_MAX];
	int nlisten;
	int pidfile_fd; /* -1: no pidfile */
	int pidfile_dir;
	char pidfile_name[256];
	int log_fd; /* -1: no log file */
	char log_path[PATH_MAX];
	char syslog_facility[OPT_FACILITY_MAX + 1]; /* "": no syslog */
	char ident[128]; /* the config's log-tag: 64 bytes at most */
	bool debug;
	uid_t uid; /* the account the stub runs as */
	gid_t gid;
	gid_t ctl_gid; /* kept beside gid: the control socket's group */
	char *request; /* the add, as sent; malloc'd by handover_parse */
	size_t request_len;
};

/* The text the stub reads; -ENOMEM, -EINVAL (a field that cannot be). */
int handover_write(const struct handover *h, struct strbuf *out);

/* Read it back; 0, or -EINVAL with why filled. */
int handover_parse(
    const char *buf, size_t len, struct handover *h, char *why, size_t whysz);

void handover_release(struct handover *h);

#endif
