#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <json-c/json.h>

#include "defaults.h"
#include "fleet/proto.h"
#include "validate.h"
#include "banned.h"

/* Objects in objects: a request is three deep (request, network, timeouts). */
#define JSON_DEPTH 6
#define SHOWN_MAX 64

struct perr {
	char *why;
	size_t whysz;
};

static int bad(struct perr *pe, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
bad(struct perr *pe, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(pe->why, pe->whysz, fmt, ap) < 0 && pe->whysz > 0)
		pe->why[0] = '\0';
	va_end(ap);
	return -EINVAL;
}

/* One JSON object taking all of buf, or NULL with the reason. */
static json_object *
parse_object(const char *buf, size_t len, struct perr *pe)
{
	struct json_tokener *tok;
	json_object *o;
	enum json_tokener_error err;
	size_t end;

	if (len == 0 || len > FLEET_MSG_MAX) {
		(void)bad(
		    pe, "message of %zu bytes (1 to %d)", len, FLEET_MSG_MAX);
		return NULL;
	}
	tok = json_tokener_new_ex(JSON_DEPTH);
	if (tok == NULL) {
		(void)bad(pe, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	err = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (o == NULL || err != json_tokener_success || end != len) {
		(void)bad(pe, "not one JSON object: %s",
		    o == NULL || err != json_tokener_success
		        ? json_tokener_error_desc(err)
		        : "bytes after it");
		json_object_put(o);
		return NULL;
	}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		(void)bad(pe, "not a JSON object");
		return NULL;
	}
	return o;
}

static bool
in_list(const char *key, const char *const *keys)
{
	for (; *keys != NULL; keys++)
		if (strcmp(key, *keys) == 0)
			return true;
	return false;
}

/* Every key of o is one of keys. */
static int
known_keys(
    json_object *o, const char *what, const char *const *keys, struct perr *pe)
{
	char shown[SHOWN_MAX * 4 + 8];

	json_object_object_foreach(o, key, val)
	{
		(void)val;
		if (!in_list(key, keys)) {
			validate_escape(key, SHOWN_MAX, shown, sizeof(shown));
			return bad(pe, "%s: unknown field '%s'", what, shown);
		}
	}
	return 0;
}

/* The string at key (NULL when absent and optional), without a NUL. */
static int
get_str(json_object *o, const char *key, bool required, const char **out,
    struct perr *pe)
{
	json_object *v;
	const char *s;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL) {
		if (required)
			return bad(pe, "'%s' is missing", key);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return bad(pe, "'%s' is not a string", key);
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return bad(pe, "'%s' holds a NUL byte", key);
	*out = s;
	return 0;
}

/* The integer at key in [min, max]; left as it is when absent. */
static int
get_num(json_object *o, const char *key, bool required, int64_t min,
    int64_t max, int64_t *out, struct perr *pe)
{
	json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return required ? bad(pe, "'%s' is missing", key) : 0;
	if (!json_object_is_type(v, json_type_int))
		return bad(pe, "'%s' is not an integer", key);
	errno = 0;
	n = json_object_get_int64(v);
	if (errno != 0 || n < min || n > max)
		return bad(pe, "'%s' is out of range (%lld to %lld)", key,
		    (long long)min, (long long)max);
	*out = n;
	return 0;
}

static int
get_ulong(json_object *o, const char *key, unsigned long min, unsigned long max,
    unsigned long *out, struct perr *pe)
{
	int64_t n = (int64_t)*out;
	int r = get_num(o, key, false, (int64_t)min, (int64_t)max, &n, pe);

	if (r == 0)
		*out = (unsigned long)n;
	return r;
}

static int
get_bool(json_object *o, const char *key, bool *out, struct perr *pe)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return bad(pe, "'%s' is not true or false", key);
	*out = json_object_get_boolean(v) != 0;
	return 0;
}

/* A value that failed its grammar: the field, the value escaped, why. */
static int
invalid(struct perr *pe, const char *key, const char *val, const char *why)
{
	char shown[SHOWN_MAX * 4 + 8];

	validate_escape(val, SHOWN_MAX, shown, sizeof(shown));
	return bad(pe, "invalid '%s': '%s': %s", key, shown, why);
}

/* A sub-object at key, or NULL when absent. */
static int
get_obj(json_object *o, const char *key, json_object **out, struct perr *pe)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_object))
		return bad(pe, "'%s' is not an object", key);
	*out = v;
	return 0;
}

#define TRY(expr)                                                              \
	do {                                                                   \
		int r_ = (expr);                                               \
		if (r_ < 0)                                                    \
			return r_;                                             \
	} while (0)

static const char *const timeout_keys[] = {
    "http_request", "connect", "client", "server", "http_keep_alive", NULL};
static const char *const rate_keys[] = {"enabled", "ip_version", "base_window",
    "base_limit", "burst_window", "burst_limit", NULL};
static const char *const net_keys[] = {"id", "kind", "flavor", "socket", "bind",
    "bind_v6", "interface", "port", "max_conns_per_source", "max_body_size",
    "timeouts", "rate_limit", NULL};

static int
parse_timeouts(json_object *o, struct timeouts *t, struct perr *pe)
{
	TRY(known_keys(o, "timeouts", timeout_keys, pe));
	TRY(get_ulong(
	    o, "http_request", 1, VALIDATE_TIMEOUT_MAX, &t->http_request, pe));
	TRY(get_ulong(o, "connect", 1, VALIDATE_TIMEOUT_MAX, &t->connect, pe));
	TRY(get_ulong(o, "client", 1, VALIDATE_TIMEOUT_MAX, &t->client, pe));
	TRY(get_ulong(o, "server", 1, VALIDATE_TIMEOUT_MAX, &t->server, pe));
	return get_ulong(o, "http_keep_alive", 1, VALIDATE_TIMEOUT_MAX,
	    &t->http_keep_alive, pe);
}

static int
parse_rate(json_object *o, struct rate_limit *rl, struct perr *pe)
{
	unsigned long ipv = (unsigned long)rl->ip_version;

	TRY(known_keys(o, "rate_limit", rate_keys, pe));
	TRY(get_bool(o, "enabled", &rl->enabled, pe));
	TRY(get_ulong(o, "ip_version", 4, 6, &ipv, pe));
	if (ipv == 5)
		return bad(pe, "'ip_version' is not 4 or 6");
	rl->ip_version = (int)ipv;
	TRY(get_ulong(
	    o, "base_window", 1, DEF_RATE_WINDOW_MAX, &rl->base_window, pe));
	TRY(get_ulong(
	    o, "base_limit", 1, DEF_RATE_LIMIT_MAX, &rl->base_limit, pe));
	TRY(get_ulong(
	    o, "burst_window", 1, DEF_RATE_WINDOW_MAX, &rl->burst_window, pe));
	return get_ulong(
	    o, "burst_limit", 1, DEF_RATE_LIMIT_MAX, &rl->burst_limit, pe);
}

static int
parse_identity(json_object *o, struct proxy_conf *p, struct perr *pe)
{
	const char *s, *why = NULL;

	TRY(get_str(o, "id", true, &s, pe));
	if (validate_uuid(s, &why) < 0)
		return invalid(pe, "id", s, why);
	(void)snprintf(p->id, sizeof(p->id), "%s", s);
	TRY(get_str(o, "kind", true, &s, pe));
	if (s == NULL)
		return -EINVAL;
	if (strcmp(s, "network") == 0)
		p->id_kind = ID_NETWORK;
	else if (strcmp(s, "router") == 0)
		p->id_kind = ID_ROUTER;
	else
		return invalid(pe, "kind", s, "not 'network' or 'router'");
	TRY(get_str(o, "flavor", true, &s, pe));
	if (s == NULL)
		return -EINVAL;
	if (strcmp(s, "neutron") == 0)
		p->flavor = FLAVOR_NEUTRON;
	else if (strcmp(s, "ovn") == 0)
		p->flavor = FLAVOR_OVN;
	else
		return invalid(pe, "flavor", s, "not 'neutron' or 'ovn'");
	if (p->flavor == FLAVOR_OVN && p->id_kind == ID_ROUTER)
		return bad(pe, "'kind' router is not allowed with flavor ovn");
	TRY(get_str(o, "socket", true, &s, pe));
	if (validate_path(s, OPT_SOCKET_MAX, p->socket_path,
	        sizeof(p->socket_path), &why) < 0)
		return invalid(pe, "socket", s, why);
	return 0;
}

static int
parse_binds(json_object *o, struct proxy_conf *p, struct perr *pe)
{
	const char *s, *ifname, *why = NULL;
	int64_t port = 0;
	int family = 0;

	TRY(get_str(o, "bind", true, &s, pe));
	if (validate_address(s, AF_UNSPEC, p->bind_address,
	        sizeof(p->bind_address), &family, &why) < 0)
		return invalid(pe, "bind", s, why);
	p->bind_v6 = family == AF_INET6;
	TRY(get_str(o, "bind_v6", false, &s, pe));
	TRY(get_str(o, "interface", false, &ifname, pe));
	if ((s == NULL) != (ifname == NULL))
		return bad(pe, "'bind_v6' and 'interface' go together");
	if (s != NULL) {
		if (validate_address(s, AF_INET6, p->bind_address_v6,
		        sizeof(p->bind_address_v6), NULL, &why) < 0)
			return invalid(pe, "bind_v6", s, why);
		if (validate_ifname(ifname, &why) < 0)
			return invalid(pe, "interface", ifname, why);
		(void)snprintf(
		    p->bind_interface, sizeof(p->bind_interface), "%s", ifname);
	}
	TRY(get_num(o, "port", true, 1, 65535, &port, pe));
	p->port = (unsigned int)port;
	return 0;
}

static int
parse_network(json_object *o, struct proxy_conf *p, struct perr *pe)
{
	json_object *sub;

	defaults_proxy(p);
	TRY(known_keys(o, "network", net_keys, pe));
	TRY(parse_identity(o, p, pe));
	TRY(parse_binds(o, p, pe));
	TRY(get_ulong(o, "max_conns_per_source", 0,
	    DEF_MAX_CONNS_PER_SOURCE_MAX, &p->max_conns_per_source, pe));
	TRY(get_ulong(o, "max_body_size", 0, DEF_MAX_BODY_SIZE_MAX,
	    &p->max_body_size, pe));
	TRY(get_obj(o, "timeouts", &sub, pe));
	if (sub != NULL)
		TRY(parse_timeouts(sub, &p->timeouts, pe));
	TRY(get_obj(o, "rate_limit", &sub, pe));
	if (sub != NULL)
		TRY(parse_rate(sub, &p->rate_limit, pe));
	return 0;
}

static const struct {
	const char *name;
	enum fleet_op op;
	const char *const keys[6];
} ops[] = {
    {"add", FLEET_ADD, {"v", "op", "network", "netns", "hold", NULL}},
    {"del", FLEET_DEL, {"v", "op", "id", NULL}},
    {"list", FLEET_LIST, {"v", "op", "after", NULL}},
    {"show", FLEET_SHOW, {"v", "op", "id", NULL}},
    {"metrics", FLEET_METRICS, {"v", "op", NULL}},
    {"health", FLEET_HEALTH, {"v", "op", NULL}},
};

static int
parse_id(
    json_object *o, const char *key, bool required, char *out, struct perr *pe)
{
	const char *s, *why = NULL;

	out[0] = '\0';
	TRY(get_str(o, key, required, &s, pe));
	if (s == NULL)
		return 0;
	if (validate_uuid(s, &why) < 0)
		return invalid(pe, key, s, why);
	(void)snprintf(out, OPT_UUID_LEN + 1, "%s", s);
	return 0;
}

static int
parse_request(json_object *o, struct fleet_request *r, struct perr *pe)
{
	json_object *net;
	const char *s, *why = NULL;
	int64_t v = 0;
	size_t i;

	TRY(get_num(o, "v", true, 0, INT32_MAX, &v, pe));
	if (v != FLEET_PROTO_VERSION)
		return bad(pe, "protocol version %lld: this daemon speaks %d",
		    (long long)v, FLEET_PROTO_VERSION);
	TRY(get_str(o, "op", true, &s, pe));
	if (s == NULL)
		return -EINVAL;
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(s, ops[i].name) == 0)
			break;
	if (i == sizeof(ops) / sizeof(ops[0]))
		return invalid(
		    pe, "op", s, "not add, del, list, show, metrics or health");
	r->op = ops[i].op;
	TRY(known_keys(o, ops[i].name, ops[i].keys, pe));
	switch (r->op) {
	case FLEET_ADD:
		TRY(get_obj(o, "network", &net, pe));
		if (net == NULL)
			return bad(pe, "'network' is missing");
		TRY(parse_network(net, &r->net, pe));
		TRY(get_str(o, "netns", false, &s, pe));
		if (s != NULL) {
			if (validate_netns(s, &why) < 0)
				return invalid(pe, "netns", s, why);
			(void)snprintf(r->netns, sizeof(r->netns), "%s", s);
		}
		return get_bool(o, "hold", &r->hold, pe);
	case FLEET_DEL:
	case FLEET_SHOW:
		return parse_id(o, "id", true, r->id, pe);
	case FLEET_LIST:
		return parse_id(o, "after", false, r->id, pe);
	case FLEET_METRICS:
	case FLEET_HEALTH:
		return 0;
	}
	return bad(pe, "unknown op");
}

/* The end of a parse: o released; on a refusal, why ended (one line,
 * however long). */
static int
parse_done(json_object *o, int ret, char *why, size_t whysz)
{
	json_object_put(o);
	if (ret < 0 && whysz > 0)
		why[whysz - 1] = '\0';
	return ret;
}

/* why is written only on a refusal: left alone when accepted. */
int
fleet_request_parse(const char *buf, size_t len, struct fleet_request *r,
    char *why, size_t whysz)
{
	struct perr pe = {why, whysz};
	json_object *o;

	memset(r, 0, sizeof(*r));
	o = parse_object(buf, len, &pe);
	if (o == NULL)
		return -EINVAL;
	return parse_done(o, parse_request(o, r, &pe), why, whysz);
}

/* ---- writing ---- */

/* Each add succeeds or marks the object failed (json-c returns -1). */
struct jw {
	json_object *o;
	bool failed;
};

static void
put(struct jw *w, const char *key, json_object *v)
{
	if (v == NULL || json_object_object_add(w->o, key, v) < 0) {
		json_object_put(v);
		w->failed = true;
	}
}

static void
put_str(struct jw *w, const char *key, const char *s)
{
	put(w, key, json_object_new_string(s));
}

static void
put_num(struct jw *w, const char *key, int64_t n)
{
	put(w, key, json_object_new_int64(n));
}

static int
finish(struct jw *w, struct strbuf *out)
{
	const char *s;
	int r = -ENOMEM;

	if (w->o != NULL && !w->failed) {
		s = json_object_to_json_string_ext(w->o,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		if (s != NULL && strbuf_append(out, s) == 0)
			r = 0;
	}
	json_object_put(w->o);
	return r;
}

static json_object *
network_object(const struct proxy_conf *p)
{
	struct jw w = {json_object_new_object(), false};
	struct jw t = {json_object_new_object(), false};
	struct jw rl = {json_object_new_object(), false};
	const struct timeouts *to = &p->timeouts;
	const struct rate_limit *r = &p->rate_limit;

	if (w.o == NULL || t.o == NULL || rl.o == NULL) {
		json_object_put(w.o);
		json_object_put(t.o);
		json_object_put(rl.o);
		return NULL;
	}
	put_str(&w, "id", p->id);
	put_str(&w, "kind", p->id_kind == ID_ROUTER ? "router" : "network");
	put_str(&w, "flavor", p->flavor == FLAVOR_OVN ? "ovn" : "neutron");
	put_str(&w, "socket", p->socket_path);
	put_str(&w, "bind", p->bind_address);
	if (p->bind_address_v6[0] != '\0') {
		put_str(&w, "bind_v6", p->bind_address_v6);
		put_str(&w, "interface", p->bind_interface);
	}
	put_num(&w, "port", p->port);
	put_num(&w, "max_conns_per_source", (int64_t)p->max_conns_per_source);
	put_num(&w, "max_body_size", (int64_t)p->max_body_size);
	put_num(&t, "http_request", (int64_t)to->http_request);
	put_num(&t, "connect", (int64_t)to->connect);
	put_num(&t, "client", (int64_t)to->client);
	put_num(&t, "server", (int64_t)to->server);
	put_num(&t, "http_keep_alive", (int64_t)to->http_keep_alive);
	put(&w, "timeouts", t.failed ? NULL : t.o);
	if (t.failed)
		json_object_put(t.o);
	put(&rl, "enabled", json_object_new_boolean(r->enabled));
	put_num(&rl, "ip_version", r->ip_version);
	put_num(&rl, "base_window", (int64_t)r->base_window);
	put_num(&rl, "base_limit", (int64_t)r->base_limit);
	put_num(&rl, "burst_window", (int64_t)r->burst_window);
	put_num(&rl, "burst_limit", (int64_t)r->burst_limit);
	put(&w, "rate_limit", rl.failed ? NULL : rl.o);
	if (rl.failed)
		json_object_put(rl.o);
	if (w.failed) {
		json_object_put(w.o);
		return NULL;
	}
	return w.o;
}

int
fleet_request_write(const struct fleet_request *r, struct strbuf *out)
{
	struct jw w = {json_object_new_object(), false};
	size_t i;

	if (w.o == NULL)
		return -ENOMEM;
	put_num(&w, "v", FLEET_PROTO_VERSION);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (ops[i].op == r->op)
			put_str(&w, "op", ops[i].name);
	switch (r->op) {
	case FLEET_ADD:
		put(&w, "network", network_object(&r->net));
		if (r->netns[0] != '\0')
			put_str(&w, "netns", r->netns);
		if (r->hold)
			put(&w, "hold", json_object_new_boolean(1));
		break;
	case FLEET_DEL:
	case FLEET_SHOW:
		put_str(&w, "id", r->id);
		break;
	case FLEET_LIST:
		if (r->id[0] != '\0')
			put_str(&w, "after", r->id);
		break;
	case FLEET_METRICS:
	case FLEET_HEALTH:
		break;
	}
	return finish(&w, out);
}

int
fleet_reply_error(const char *msg, struct strbuf *out)
{
	struct jw w = {json_object_new_object(), false};

	if (w.o == NULL)
		return -ENOMEM;
	put_num(&w, "v", FLEET_PROTO_VERSION);
	put(&w, "ok", json_object_new_boolean(0));
	put_str(&w, "error", msg);
	return finish(&w, out);
}

int
fleet_reply_ok(struct strbuf *out)
{
	return fleet_reply_nets(NULL, 0, false, out);
}

static json_object *
net_info_object(const struct fleet_net_info *n)
{
	struct jw w = {json_object_new_object(), false};
	json_object *binds = json_object_new_array();
	int i;

	if (w.o == NULL || binds == NULL) {
		json_object_put(w.o);
		json_object_put(binds);
		return NULL;
	}
	put_str(&w, "id", n->id);
	put_str(&w, "kind", n->id_kind == ID_ROUTER ? "router" : "network");
	put_str(&w, "flavor", n->flavor == FLAVOR_OVN ? "ovn" : "neutron");
	put_str(&w, "netns", n->netns);
	put_num(&w, "netns_inode", (int64_t)n->netns_inode);
	for (i = 0; i < n->nbinds && i < FLEET_FDS_MAX; i++)
		if (json_object_array_add(
		        binds, json_object_new_string(n->binds[i])) < 0)
			w.failed = true;
	put(&w, "binds", binds);
	put_num(&w, "requests", (int64_t)n->requests);
	put_num(&w, "refused", (int64_t)n->refused);
	put_num(&w, "conns", (int64_t)n->conns);
	put_str(&w, "last_error", n->last_error);
	put_num(&w, "last_error_at", n->last_error_at);
	put_num(&w, "since", n->since);
	put(&w, "held", json_object_new_boolean(n->held));
	if (w.failed) {
		json_object_put(w.o);
		return NULL;
	}
	return w.o;
}

int
fleet_reply_nets(
    const struct fleet_net_info *nets, int n, bool more, struct strbuf *out)
{
	struct jw w = {json_object_new_object(), false};
	json_object *arr;
	int i;

	if (w.o == NULL)
		return -ENOMEM;
	put_num(&w, "v", FLEET_PROTO_VERSION);
	put(&w, "ok", json_object_new_boolean(1));
	if (nets != NULL) {
		arr = json_object_new_array();
		for (i = 0; arr != NULL && i < n; i++) {
			json_object *one = net_info_object(&nets[i]);

			if (one == NULL ||
			    json_object_array_add(arr, one) < 0) {
				json_object_put(one);
				w.failed = true;
			}
		}
		put(&w, "networks", arr);
		if (more)
			put(&w, "more", json_object_new_boolean(1));
	}
	return finish(&w, out);
}

int
fleet_reply_health(const struct fleet_health *h, struct strbuf *out)
{
	struct jw w = {json_object_new_object(), false};
	struct jw hw = {json_object_new_object(), false};
	json_object *agents = json_object_new_array();
	int i;

	if (w.o == NULL || hw.o == NULL || agents == NULL) {
		json_object_put(w.o);
		json_object_put(hw.o);
		json_object_put(agents);
		return -ENOMEM;
	}
	put_num(&w, "v", FLEET_PROTO_VERSION);
	put(&w, "ok", json_object_new_boolean(1));
	put_str(&hw, "status", h->status);
	put_num(&hw, "networks", (int64_t)h->networks);
	put_num(&hw, "listeners", (int64_t)h->listeners);
	put_num(&hw, "listening", (int64_t)h->listening);
	for (i = 0; i < h->nagents && i < FLEET_HEALTH_AGENTS; i++) {
		struct jw a = {json_object_new_object(), false};

		if (a.o == NULL) {
			hw.failed = true;
			continue;
		}
		put_str(&a, "path", h->agents[i].path);
		put(&a, "reachable",
		    json_object_new_boolean(h->agents[i].reachable));
		if (h->agents[i].error[0] != '\0')
			put_str(&a, "error", h->agents[i].error);
		if (a.failed || json_object_array_add(agents, a.o) < 0) {
			json_object_put(a.o);
			hw.failed = true;
		}
	}
	put(&hw, "agents", agents);
	if (hw.failed)
		w.failed = true;
	put(&w, "health", hw.o);
	return finish(&w, out);
}

int
fleet_reply_metrics(uint64_t bytes, struct strbuf *out)
{
	struct jw w = {json_object_new_object(), false};

	if (w.o == NULL)
		return -ENOMEM;
	put_num(&w, "v", FLEET_PROTO_VERSION);
	put(&w, "ok", json_object_new_boolean(1));
	put_num(&w, "metrics_bytes", (int64_t)bytes);
	return finish(&w, out);
}

/* ---- reading a reply ---- */

static const char *const reply_keys[] = {
    "v", "ok", "error", "networks", "more", "health", "metrics_bytes", NULL};
static const char *const health_keys[] = {
    "status", "networks", "listeners", "listening", "agents", NULL};
static const char *const agent_keys[] = {"path", "reachable", "error", NULL};
static const char *const info_keys[] = {"id", "kind", "flavor", "netns",
    "netns_inode", "binds", "requests", "refused", "conns", "last_error",
    "last_error_at", "since", "held", NULL};

/* A string at key copied whole into out, or an error. */
static int
copy_str(json_object *o, const char *key, bool required, char *out,
    size_t outsz, struct perr *pe)
{
	const char *s;

	out[0] = '\0';
	TRY(get_str(o, key, required, &s, pe));
	if (s == NULL)
		return 0;
	if (strlen(s) >= outsz)
		return bad(pe, "'%s' is too long", key);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static int
parse_info(json_object *o, struct fleet_net_info *n, struct perr *pe)
{
	char word[16];
	json_object *binds, *b;
	int64_t v;
	size_t i;

	if (!json_object_is_type(o, json_type_object))
		return bad(pe, "a network is not an object");
	TRY(known_keys(o, "network", info_keys, pe));
	TRY(copy_str(o, "id", true, n->id, sizeof(n->id), pe));
	TRY(copy_str(o, "kind", true, word, sizeof(word), pe));
	n->id_kind = strcmp(word, "router") == 0 ? ID_ROUTER : ID_NETWORK;
	TRY(copy_str(o, "flavor", true, word, sizeof(word), pe));
	n->flavor = strcmp(word, "ovn") == 0 ? FLAVOR_OVN : FLAVOR_NEUTRON;
	TRY(copy_str(o, "netns", false, n->netns, sizeof(n->netns), pe));
	TRY(copy_str(
	    o, "last_error", false, n->last_error, sizeof(n->last_error), pe));
	v = 0;
	TRY(get_num(o, "netns_inode", false, 0, INT64_MAX, &v, pe));
	n->netns_inode = (unsigned long long)v;
	v = 0;
	TRY(get_num(o, "requests", false, 0, INT64_MAX, &v, pe));
	n->requests = (unsigned long)v;
	v = 0;
	TRY(get_num(o, "refused", false, 0, INT64_MAX, &v, pe));
	n->refused = (unsigned long)v;
	v = 0;
	TRY(get_num(o, "conns", false, 0, INT64_MAX, &v, pe));
	n->conns = (unsigned long)v;
	TRY(get_num(
	    o, "last_error_at", false, 0, INT64_MAX, &n->last_error_at, pe));
	TRY(get_num(o, "since", false, 0, INT64_MAX, &n->since, pe));
	TRY(get_bool(o, "held", &n->held, pe));
	if (!json_object_object_get_ex(o, "binds", &binds) || binds == NULL)
		return 0;
	if (!json_object_is_type(binds, json_type_array) ||
	    json_object_array_length(binds) > FLEET_FDS_MAX)
		return bad(
		    pe, "'binds' is not an array of at most %d", FLEET_FDS_MAX);
	for (i = 0; i < json_object_array_length(binds); i++) {
		b = json_object_array_get_idx(binds, i);
		if (!json_object_is_type(b, json_type_string) ||
		    (size_t)json_object_get_string_len(b) >=
		        sizeof(n->binds[0]) ||
		    strlen(json_object_get_string(b)) !=
		        (size_t)json_object_get_string_len(b))
			return bad(pe, "a bind is not a short string");
		memcpy(n->binds[i], json_object_get_string(b),
		    (size_t)json_object_get_string_len(b) + 1);
		n->nbinds++;
	}
	return 0;
}

static int
parse_health(json_object *o, struct fleet_health *h, struct perr *pe)
{
	json_object *arr, *a;
	int64_t v = 0;
	size_t i, n;

	if (!json_object_is_type(o, json_type_object))
		return bad(pe, "'health' is not an object");
	TRY(known_keys(o, "health", health_keys, pe));
	TRY(copy_str(o, "status", true, h->status, sizeof(h->status), pe));
	TRY(get_num(o, "networks", true, 0, INT64_MAX, &v, pe));
	h->networks = (unsigned long)v;
	TRY(get_num(o, "listeners", true, 0, INT64_MAX, &v, pe));
	h->listeners = (unsigned long)v;
	TRY(get_num(o, "listening", true, 0, INT64_MAX, &v, pe));
	h->listening = (unsigned long)v;
	if (!json_object_object_get_ex(o, "agents", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return bad(pe, "'agents' is not an array");
	n = json_object_array_length(arr);
	if (n > FLEET_HEALTH_AGENTS)
		return bad(pe, "more than %d agents", FLEET_HEALTH_AGENTS);
	for (i = 0; i < n; i++) {
		a = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(a, json_type_object))
			return bad(pe, "an agent is not an object");
		TRY(known_keys(a, "agent", agent_keys, pe));
		TRY(copy_str(a, "path", true, h->agents[i].path,
		    sizeof(h->agents[i].path), pe));
		TRY(get_bool(a, "reachable", &h->agents[i].reachable, pe));
		TRY(copy_str(a, "error", false, h->agents[i].error,
		    sizeof(h->agents[i].error), pe));
		h->nagents++;
	}
	return 0;
}

static int
parse_reply(json_object *o, struct fleet_reply *r, struct perr *pe)
{
	json_object *h;
	json_object *arr;
	int64_t v = 0;
	size_t i, n;

	TRY(known_keys(o, "reply", reply_keys, pe));
	TRY(get_num(o, "v", true, 0, INT32_MAX, &v, pe));
	if (v != FLEET_PROTO_VERSION)
		return bad(pe, "protocol version %lld: this client speaks %d",
		    (long long)v, FLEET_PROTO_VERSION);
	r->ok = false;
	TRY(get_bool(o, "ok", &r->ok, pe));
	TRY(get_bool(o, "more", &r->more, pe));
	TRY(copy_str(o, "error", !r->ok, r->error, sizeof(r->error), pe));
	if (json_object_object_get_ex(o, "metrics_bytes", NULL)) {
		TRY(get_num(o, "metrics_bytes", true, 0, INT64_MAX, &v, pe));
		r->metrics_bytes = (uint64_t)v;
		r->has_metrics = true;
	}
	if (json_object_object_get_ex(o, "health", &h)) {
		TRY(parse_health(h, &r->health, pe));
		r->has_health = true;
	}
	if (!json_object_object_get_ex(o, "networks", &arr) || arr == NULL)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return bad(pe, "'networks' is not an array");
	n = json_object_array_length(arr);
	if (n > FLEET_LIST_PAGE)
		return bad(
		    pe, "more than %d networks in a reply", FLEET_LIST_PAGE);
	for (i = 0; i < n; i++) {
		TRY(parse_info(
		    json_object_array_get_idx(arr, i), &r->nets[i], pe));
		r->nnets++;
	}
	return 0;
}

int
fleet_reply_parse(
    const char *buf, size_t len, struct fleet_reply *r, char *why, size_t whysz)
{
	struct perr pe = {why, whysz};
	json_object *o;

	memset(r, 0, sizeof(*r));
	o = parse_object(buf, len, &pe);
	if (o == NULL)
		return -EINVAL;
	return parse_done(o, parse_reply(o, r, &pe), why, whysz);
}
