/*
 * The fleet's control protocol (fleet/proto.h): the daemon reads requests
 * from any peer of its control socket, the client reads the daemon's
 * replies. Input: one message, as one datagram brings it. It is read
 * three ways:
 *
 * - as a request (fleet_request_parse): accepted, every value is one the
 *   grammar allows (validate.h, read again here: uuid, canonical
 *   addresses, interface, path, namespace, numbers in range, both or
 *   neither of bind_v6 and interface, no OVN router), what the operation
 *   does not use is left zero, why is untouched; written back
 *   (fleet_request_write) it is one printable line within FLEET_MSG_MAX
 *   that reads back as the identical struct and writes as the same bytes.
 *   Refused: -EINVAL and why is one non-empty printable line; with a
 *   smaller buffer, the same answer and why cut to it, the bytes after it
 *   untouched.
 * - as a reply (fleet_reply_parse): accepted, at most FLEET_LIST_PAGE
 *   networks of at most FLEET_FDS_MAX binds, at most FLEET_HEALTH_AGENTS
 *   agents, every string terminated in its array; written back
 *   (fleet_reply_nets, fleet_reply_health, fleet_reply_metrics or
 *   fleet_reply_error) it reads back the same. Refused: as for a request.
 * - by the server (fleet_server_handle, on an engine serving nothing, no
 *   descriptors): always a reply within FLEET_MSG_MAX that
 *   fleet_reply_parse accepts, ok exactly for a list (an empty page),
 *   metrics (a memfd beside it, of the length it says) and health (ok,
 *   nothing served) and else one printable error line; nothing gets
 *   served.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "defaults.h"
#include "engine/engine.h"
#include "fleet/proto.h"
#include "fleet/server.h"
#include "fuzz.h"
#include "log.h"
#include "strbuf.h"
#include "validate.h"
#include "banned.h"

#define SENTINEL 0x5a

/* s is terminated within its n bytes. */
#define TERMINATED(s) (memchr((s), '\0', sizeof(s)) != NULL)

/* n bytes of printable ASCII, no control character, no newline. */
static bool
printable(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

/* A refusal's reason: one non-empty printable line within its buffer. */
static void
check_why(const char *why, size_t whysz)
{
	size_t n = strnlen(why, whysz);

	FUZZ_CHECK(n > 0 && n < whysz);
	FUZZ_CHECK(printable(why, n));
}

static bool
all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* s is an address of family (AF_UNSPEC: either) in its canonical form. */
static void
check_address(const char *s, int family, int *family_out)
{
	char canon[OPT_ADDR_MAX];
	const char *why = NULL;

	FUZZ_CHECK(validate_address(
	               s, family, canon, sizeof(canon), family_out, &why) == 0);
	FUZZ_CHECK(strcmp(canon, s) == 0);
}

static void
check_network(const struct proxy_conf *p)
{
	char path[PATH_MAX];
	const char *why = NULL;
	size_t n;
	int family = 0;

	FUZZ_CHECK(TERMINATED(p->id) && validate_uuid(p->id, &why) == 0);
	FUZZ_CHECK(p->flavor == FLAVOR_NEUTRON || p->flavor == FLAVOR_OVN);
	FUZZ_CHECK(p->id_kind == ID_NETWORK || p->id_kind == ID_ROUTER);
	FUZZ_CHECK(p->flavor == FLAVOR_NEUTRON || p->id_kind == ID_NETWORK);
	/* the socket: absolute, printable, short enough, a fixed point */
	FUZZ_CHECK(TERMINATED(p->socket_path));
	n = strlen(p->socket_path);
	FUZZ_CHECK(n >= 1 && n <= OPT_SOCKET_MAX && p->socket_path[0] == '/');
	FUZZ_CHECK(printable(p->socket_path, n));
	FUZZ_CHECK(validate_path(p->socket_path, OPT_SOCKET_MAX, path,
	               sizeof(path), &why) == 0);
	FUZZ_CHECK(strcmp(path, p->socket_path) == 0);
	FUZZ_CHECK(TERMINATED(p->bind_address));
	check_address(p->bind_address, AF_UNSPEC, &family);
	FUZZ_CHECK(p->bind_v6 == (family == AF_INET6));
	FUZZ_CHECK(TERMINATED(p->bind_address_v6));
	FUZZ_CHECK(TERMINATED(p->bind_interface));
	FUZZ_CHECK(
	    (p->bind_address_v6[0] == '\0') == (p->bind_interface[0] == '\0'));
	if (p->bind_address_v6[0] != '\0') {
		check_address(p->bind_address_v6, AF_INET6, NULL);
		FUZZ_CHECK(validate_ifname(p->bind_interface, &why) == 0);
	}
	FUZZ_CHECK(p->port >= 1 && p->port <= 65535);
	FUZZ_CHECK(p->max_conns_per_source <= DEF_MAX_CONNS_PER_SOURCE_MAX);
	FUZZ_CHECK(p->max_body_size <= DEF_MAX_BODY_SIZE_MAX);
	FUZZ_CHECK(p->timeouts.http_request >= 1 &&
	           p->timeouts.http_request <= VALIDATE_TIMEOUT_MAX);
	FUZZ_CHECK(p->timeouts.connect >= 1 &&
	           p->timeouts.connect <= VALIDATE_TIMEOUT_MAX);
	FUZZ_CHECK(p->timeouts.client >= 1 &&
	           p->timeouts.client <= VALIDATE_TIMEOUT_MAX);
	FUZZ_CHECK(p->timeouts.server >= 1 &&
	           p->timeouts.server <= VALIDATE_TIMEOUT_MAX);
	FUZZ_CHECK(p->timeouts.http_keep_alive >= 1 &&
	           p->timeouts.http_keep_alive <= VALIDATE_TIMEOUT_MAX);
	FUZZ_CHECK(
	    p->rate_limit.ip_version == 4 || p->rate_limit.ip_version == 6);
	FUZZ_CHECK(p->rate_limit.base_window >= 1 &&
	           p->rate_limit.base_window <= DEF_RATE_WINDOW_MAX);
	FUZZ_CHECK(p->rate_limit.burst_window >= 1 &&
	           p->rate_limit.burst_window <= DEF_RATE_WINDOW_MAX);
	FUZZ_CHECK(p->rate_limit.base_limit >= 1 &&
	           p->rate_limit.base_limit <= DEF_RATE_LIMIT_MAX);
	FUZZ_CHECK(p->rate_limit.burst_limit >= 1 &&
	           p->rate_limit.burst_limit <= DEF_RATE_LIMIT_MAX);
}

static void
check_request(const struct fleet_request *r)
{
	const char *why = NULL;

	FUZZ_CHECK(TERMINATED(r->id) && TERMINATED(r->netns));
	switch (r->op) {
	case FLEET_ADD:
		check_network(&r->net);
		FUZZ_CHECK(r->id[0] == '\0');
		FUZZ_CHECK(
		    r->netns[0] == '\0' || validate_netns(r->netns, &why) == 0);
		break;
	case FLEET_DEL:
	case FLEET_SHOW:
	case FLEET_LIST:
		if (r->op != FLEET_LIST || r->id[0] != '\0')
			FUZZ_CHECK(validate_uuid(r->id, &why) == 0);
		FUZZ_CHECK(all_zero(&r->net, sizeof(r->net)));
		FUZZ_CHECK(r->netns[0] == '\0' && !r->hold);
		break;
	case FLEET_METRICS:
	case FLEET_HEALTH:
		/* nothing but the operation */
		FUZZ_CHECK(r->id[0] == '\0' && r->netns[0] == '\0' && !r->hold);
		FUZZ_CHECK(all_zero(&r->net, sizeof(r->net)));
		break;
	default:
		fuzz_fail("op out of its enum", __FILE__, __LINE__);
	}
}

/* Accepted: written back and read again, the same; the same bytes again. */
static void
request_round_trip(const struct fleet_request *r)
{
	struct fleet_request *back = malloc(sizeof(*back));
	struct strbuf out = STRBUF_INIT, again = STRBUF_INIT;
	char why[FLEET_ERROR_MAX];

	FUZZ_CHECK(back != NULL);
	memset(back, 0, sizeof(*back));
	FUZZ_CHECK(fleet_request_write(r, &out) == 0 && !out.failed);
	FUZZ_CHECK(out.len >= 2 && out.len <= FLEET_MSG_MAX);
	FUZZ_CHECK(printable(out.buf, out.len));
	FUZZ_CHECK(out.buf[0] == '{' && out.buf[out.len - 1] == '}');
	why[0] = '\0';
	if (fleet_request_parse(out.buf, out.len, back, why, sizeof(why)) != 0)
		fuzz_fail(why, __FILE__, __LINE__);
	FUZZ_CHECK(memcmp(back, r, sizeof(*r)) == 0);
	FUZZ_CHECK(fleet_request_write(back, &again) == 0);
	FUZZ_CHECK(
	    again.len == out.len && memcmp(again.buf, out.buf, out.len) == 0);
	strbuf_release(&out);
	strbuf_release(&again);
	free(back);
}

/* Refused: the same answer with a smaller buffer, why cut to it. */
static void
request_small_why(const char *buf, size_t len, const char *why, uint8_t cut)
{
	struct fleet_request *r = malloc(sizeof(*r));
	char small[32];
	size_t whysz = 1 + cut % 16, n;

	FUZZ_CHECK(r != NULL);
	memset(small, SENTINEL, sizeof(small));
	FUZZ_CHECK(fleet_request_parse(buf, len, r, small, whysz) == -EINVAL);
	n = strnlen(small, whysz);
	FUZZ_CHECK(n < whysz);
	FUZZ_CHECK(strncmp(small, why, n) == 0);
	FUZZ_CHECK(n == whysz - 1 || n == strlen(why));
	FUZZ_CHECK(
	    small[whysz] == SENTINEL && small[sizeof(small) - 1] == SENTINEL);
	free(r);
}

static void
read_request(const char *buf, size_t len)
{
	struct fleet_request *r = malloc(sizeof(*r));
	char why[FLEET_ERROR_MAX], unset[FLEET_ERROR_MAX];
	int ret;

	FUZZ_CHECK(r != NULL);
	memset(r, 0, sizeof(*r));
	memset(why, SENTINEL, sizeof(why));
	memset(unset, SENTINEL, sizeof(unset));
	ret = fleet_request_parse(buf, len, r, why, sizeof(why));
	FUZZ_CHECK(ret == 0 || ret == -EINVAL);
	if (ret == 0) {
		FUZZ_CHECK(len >= 2 && len <= FLEET_MSG_MAX);
		FUZZ_CHECK(memcmp(why, unset, sizeof(why)) == 0);
		check_request(r);
		request_round_trip(r);
	} else {
		check_why(why, sizeof(why));
		request_small_why(buf, len, why, len > 0 ? (uint8_t)buf[0] : 0);
	}
	free(r);
}

static void
check_reply(const struct fleet_reply *r)
{
	int i, k;

	FUZZ_CHECK(TERMINATED(r->error));
	FUZZ_CHECK(r->nnets >= 0 && r->nnets <= FLEET_LIST_PAGE);
	FUZZ_CHECK(
	    r->health.nagents >= 0 && r->health.nagents <= FLEET_HEALTH_AGENTS);
	FUZZ_CHECK(TERMINATED(r->health.status));
	for (i = 0; i < FLEET_HEALTH_AGENTS; i++)
		FUZZ_CHECK(TERMINATED(r->health.agents[i].path) &&
		           TERMINATED(r->health.agents[i].error));
	for (i = 0; i < r->nnets; i++) {
		const struct fleet_net_info *n = &r->nets[i];

		FUZZ_CHECK(TERMINATED(n->id) && TERMINATED(n->netns));
		FUZZ_CHECK(TERMINATED(n->last_error));
		FUZZ_CHECK(
		    n->flavor == FLAVOR_NEUTRON || n->flavor == FLAVOR_OVN);
		FUZZ_CHECK(n->id_kind == ID_NETWORK || n->id_kind == ID_ROUTER);
		FUZZ_CHECK(n->nbinds >= 0 && n->nbinds <= FLEET_FDS_MAX);
		for (k = 0; k < FLEET_FDS_MAX; k++)
			FUZZ_CHECK(TERMINATED(n->binds[k]));
		FUZZ_CHECK(n->last_error_at >= 0 && n->since >= 0);
	}
	/* past the networks read: nothing */
	FUZZ_CHECK(all_zero(&r->nets[r->nnets],
	    sizeof(r->nets[0]) * (size_t)(FLEET_LIST_PAGE - r->nnets)));
}

/* Accepted: written back as the daemon writes it, read again the same. */
static void
reply_round_trip(const struct fleet_reply *r)
{
	struct fleet_reply *back = malloc(sizeof(*back));
	struct strbuf out = STRBUF_INIT;
	char why[FLEET_ERROR_MAX];

	FUZZ_CHECK(back != NULL);
	memset(back, 0, sizeof(*back));
	if (r->ok && r->has_health)
		FUZZ_CHECK(fleet_reply_health(&r->health, &out) == 0);
	else if (r->ok && r->has_metrics)
		FUZZ_CHECK(fleet_reply_metrics(r->metrics_bytes, &out) == 0);
	else if (r->ok)
		FUZZ_CHECK(
		    fleet_reply_nets(r->nets, r->nnets, r->more, &out) == 0);
	else
		FUZZ_CHECK(fleet_reply_error(r->error, &out) == 0);
	FUZZ_CHECK(!out.failed && out.len > 0);
	/* Escapes may take six bytes for one; the daemon's own values are
	 * of plain alphabets (the unit test's largest page fits). */
	if (out.len <= FLEET_MSG_MAX) {
		why[0] = '\0';
		if (fleet_reply_parse(
		        out.buf, out.len, back, why, sizeof(why)) != 0)
			fuzz_fail(why, __FILE__, __LINE__);
		FUZZ_CHECK(back->ok == r->ok);
		if (r->ok && r->has_health) {
			FUZZ_CHECK(back->has_health);
			FUZZ_CHECK(memcmp(&back->health, &r->health,
			               sizeof(r->health)) == 0);
		} else if (r->ok && r->has_metrics) {
			FUZZ_CHECK(back->has_metrics &&
			           back->metrics_bytes == r->metrics_bytes);
		} else if (r->ok) {
			FUZZ_CHECK(back->more == r->more);
			FUZZ_CHECK(back->nnets == r->nnets);
			FUZZ_CHECK(
			    memcmp(back->nets, r->nets,
			        sizeof(r->nets[0]) * (size_t)r->nnets) == 0);
		} else {
			FUZZ_CHECK(strcmp(back->error, r->error) == 0);
			FUZZ_CHECK(back->nnets == 0 && !back->more);
		}
	}
	strbuf_release(&out);
	free(back);
}

static void
read_reply(const char *buf, size_t len)
{
	struct fleet_reply *r = malloc(sizeof(*r));
	char why[FLEET_ERROR_MAX], unset[FLEET_ERROR_MAX];
	int ret;

	FUZZ_CHECK(r != NULL);
	memset(r, 0, sizeof(*r));
	memset(why, SENTINEL, sizeof(why));
	memset(unset, SENTINEL, sizeof(unset));
	ret = fleet_reply_parse(buf, len, r, why, sizeof(why));
	FUZZ_CHECK(ret == 0 || ret == -EINVAL);
	if (ret == 0) {
		FUZZ_CHECK(memcmp(why, unset, sizeof(why)) == 0);
		check_reply(r);
		reply_round_trip(r);
	} else {
		check_why(why, sizeof(why));
	}
	free(r);
}

/*
 * One engine and server for the whole run, serving nothing. The engine's
 * loop never runs here: libFuzzer keeps its own SIGINT and SIGTERM
 * handlers, which engine_new replaced with libevent's.
 */
static struct fleet_server *
server(void)
{
	static struct engine *e;
	static struct fleet_server *s;
	struct sigaction old_int, old_term;
	struct daemon_conf d;
	const char *what = "";
	int err = 0;

	if (s != NULL)
		return s;
	log_quiet_stderr();
	defaults_daemon(&d);
	d.engine = ENGINE_BUILTIN;
	d.fleet = true;
	FUZZ_CHECK(sigaction(SIGINT, NULL, &old_int) == 0);
	FUZZ_CHECK(sigaction(SIGTERM, NULL, &old_term) == 0);
	e = engine_new(&d, &err, &what);
	FUZZ_CHECK(e != NULL);
	FUZZ_CHECK(sigaction(SIGINT, &old_int, NULL) == 0);
	FUZZ_CHECK(sigaction(SIGTERM, &old_term, NULL) == 0);
	s = fleet_server_new(e, -1, 0, "/nonexistent", &err);
	FUZZ_CHECK(s != NULL);
	return s;
}

static void
serve(const char *buf, size_t len)
{
	struct fleet_server *s = server();
	struct fleet_request *rq = malloc(sizeof(*rq));
	struct fleet_reply *rp = malloc(sizeof(*rp));
	struct strbuf out = STRBUF_INIT;
	char why[FLEET_ERROR_MAX];
	bool is_list, parsed;
	int fd;

	FUZZ_CHECK(rq != NULL && rp != NULL);
	parsed = fleet_request_parse(buf, len, rq, why, sizeof(why)) == 0;
	is_list = parsed && (rq->op == FLEET_LIST || rq->op == FLEET_METRICS ||
	                        rq->op == FLEET_HEALTH);
	FUZZ_CHECK(fleet_server_handle(s, NULL, buf, len, NULL, 0, &out) == 0);
	fd = fleet_server_take_reply_fd(s);
	FUZZ_CHECK((fd >= 0) == (parsed && rq->op == FLEET_METRICS));
	if (fd >= 0)
		(void)close(fd);
	FUZZ_CHECK(!out.failed && out.len > 0 && out.len <= FLEET_MSG_MAX);
	FUZZ_CHECK(printable(out.buf, out.len));
	why[0] = '\0';
	if (fleet_reply_parse(out.buf, out.len, rp, why, sizeof(why)) != 0)
		fuzz_fail(why, __FILE__, __LINE__);
	FUZZ_CHECK(rp->ok == is_list);
	if (is_list && rq->op == FLEET_METRICS)
		FUZZ_CHECK(rp->has_metrics && rp->metrics_bytes > 0);
	else if (is_list && rq->op == FLEET_HEALTH)
		FUZZ_CHECK(rp->has_health && rp->health.networks == 0 &&
		           strcmp(rp->health.status, "ok") == 0);
	else if (is_list)
		FUZZ_CHECK(rp->nnets == 0 && !rp->more);
	else
		check_why(rp->error, sizeof(rp->error));
	FUZZ_CHECK(fleet_server_count(s) == 0);
	strbuf_release(&out);
	free(rp);
	free(rq);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;

	/* A datagram larger than this is refused unread; a little over it
	 * still goes to the parsers, which must refuse it. */
	if (size > FLEET_MSG_MAX + 16)
		return 0;
	buf = fuzz_memdup(data, size);
	read_request(buf, size);
	read_reply(buf, size);
	serve(buf, size);
	free(buf);
	return 0;
}
