/*
 * The haproxy config for one network or router: a pure function of the
 * validated options and the resolved user and group names. No I/O.
 */
#ifndef NMP_RENDER_H
#define NMP_RENDER_H

#include <stddef.h>

#include "options.h"
#include "strbuf.h"

/*
 * The agent reads the request head in one recv of this size; a client head
 * that could not fit it together with the headers we add is refused (431).
 */
#define RENDER_AGENT_READ 4096
/*
 * What haproxy adds to the client's head: X-Forwarded-For with the longest
 * address (64), the id header (60), "connection: close" (19), the request
 * line's spaces, version and CRLF (12), rounded up for margin.
 */
#define RENDER_HEAD_RESERVE 196
#define RENDER_HEAD_MAX (RENDER_AGENT_READ - RENDER_HEAD_RESERVE)
/* The most an agent's response head may take; past it: 502. */
#define RENDER_RESPONSE_HEAD_MAX (16 * 1024)
/* More request header lines than this: 431 (engine/http.h's limit). */
#define RENDER_MAX_HEADER_LINES 100
/*
 * haproxy's tune.http.maxhdr: its parser refuses a head of this many lines
 * (400) before any rule sees it. A head of more lines could not fit the
 * agent's read (each line takes 4 bytes or more there).
 */
#define RENDER_MAXHDR 1024

/* Append the config text to out. user and group are resolved names. */
int render_config(const struct options *o, const char *user, const char *group,
    struct strbuf *out);

/* "ns-metadata-proxy" or "ovn-metadata-proxy". */
const char *render_config_dir(enum flavor flavor);

/* "<uuid>.conf" into out. */
int render_config_name(const struct options *o, char *out, size_t outsz);

/* The header name of the flavour and id kind, e.g. "X-Neutron-Router-ID". */
const char *render_id_header(const struct options *o);

#endif
