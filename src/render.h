/*
 * The haproxy config for one network or router: a pure function of its
 * proxy_conf, the process settings and the resolved user and group names.
 * No I/O.
 */
#ifndef NMP_RENDER_H
#define NMP_RENDER_H

#include <stddef.h>

#include "daemon_conf.h"
#include "metadata.h"
#include "proxy_conf.h"
#include "strbuf.h"

/*
 * What haproxy adds to the client's head: X-Forwarded-For with the longest
 * address (64), the id header (60), "connection: close" (19), the request
 * line's spaces, version and CRLF (12), rounded up for margin.
 */
#define RENDER_HEAD_RESERVE 196
#define RENDER_HEAD_MAX (MD_AGENT_READ - RENDER_HEAD_RESERVE)
/*
 * haproxy's tune.http.maxhdr: its parser refuses a head of this many lines
 * (400) before any rule sees it. A head of more lines could not fit the
 * agent's read (each line takes 4 bytes or more there).
 */
#define RENDER_MAXHDR 1024

/*
 * Append the config text for network p served by process d to out. user
 * and group are resolved names.
 */
int render_config(const struct proxy_conf *p, const struct daemon_conf *d,
    const char *user, const char *group, struct strbuf *out);

/* "<uuid>.conf" into out. */
int render_config_name(const struct proxy_conf *p, char *out, size_t outsz);

#endif
