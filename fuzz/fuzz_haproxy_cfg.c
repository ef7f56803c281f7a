/*
 * The parser of neutron's haproxy configs (compat/haproxy_cfg.h), which
 * reads files a compromised or careless host may have written. The first
 * byte splits the rest into one or two files (-f A -f B) at a point it
 * picks; the files are parsed three ways and the answers compared:
 *
 * - strictly, twice on fresh state: the same answer, the same message, the
 *   same fields (the parser keeps no hidden state between configs);
 * - reporting every refusal (the audit's way): no refusal when the strict
 *   parse accepted, and the strict parse's refusal first when it did not;
 * - every message is one line of printable ASCII naming a line of a file;
 * - an accepted, finished config holds only values the grammar allows
 *   (validate.h), its proxy_conf and daemon_conf carry them unchanged, and
 *   the renderer takes them.
 */
#include <errno.h>
#include <sys/socket.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "compat/haproxy_cfg.h"
#include "fuzz.h"
#include "render.h"
#include "strbuf.h"
#include "validate.h"
#include "banned.h"

#define MAX_SEEN 64

struct seen {
	unsigned int n;
	struct hcfg_error first;
};

static void
collect(void *arg, const struct hcfg_error *e)
{
	struct seen *s = arg;

	if (s->n++ == 0)
		s->first = *e;
}

/* One line of printable ASCII, at a line of one of the two files. */
static void
check_error(const struct hcfg_error *e, const char *f1, const char *f2)
{
	size_t i, n = strnlen(e->msg, sizeof(e->msg));

	FUZZ_CHECK(n > 0 && n < sizeof(e->msg));
	for (i = 0; i < n; i++)
		FUZZ_CHECK(e->msg[i] >= 0x20 && e->msg[i] < 0x7f);
	if (e->at.file != NULL)
		FUZZ_CHECK(e->at.file == f1 || e->at.file == f2);
}

/* Parse the files into c, strictly or reporting to s; the answer. */
static int
parse(struct haproxy_cfg *c, const char *const *text, const size_t *len,
    int nfiles, struct seen *s, struct hcfg_error *err, bool *finished)
{
	static const char *const names[2] = {"a.conf", "b.conf"};
	int i, r = 0;

	haproxy_cfg_init(c);
	if (s != NULL)
		haproxy_cfg_on_error(c, collect, s);
	*finished = false;
	for (i = 0; i < nfiles && r == 0; i++)
		r = haproxy_cfg_parse(c, names[i], text[i], len[i], err);
	if (r == 0) {
		r = haproxy_cfg_finish(c, err);
		*finished = r == 0;
	}
	return r;
}

/* The public fields of two parses: equal. */
static void
same_fields(const struct haproxy_cfg *a, const struct haproxy_cfg *b)
{
	FUZZ_CHECK(memcmp(a, b, offsetof(struct haproxy_cfg, log_tag)) == 0);
	FUZZ_CHECK(strcmp(a->log_tag, b->log_tag) == 0);
	FUZZ_CHECK(strcmp(a->user, b->user) == 0);
	FUZZ_CHECK(strcmp(a->group, b->group) == 0);
	FUZZ_CHECK(a->maxconn == b->maxconn && a->nbthread == b->nbthread);
	FUZZ_CHECK(strcmp(a->pidfile, b->pidfile) == 0);
	FUZZ_CHECK(a->daemon == b->daemon && a->mode_http == b->mode_http);
	FUZZ_CHECK(
	    memcmp(&a->timeouts, &b->timeouts, sizeof(a->timeouts)) == 0);
	FUZZ_CHECK(
	    memcmp(&a->rate_limit, &b->rate_limit, sizeof(a->rate_limit)) == 0);
	FUZZ_CHECK(strcmp(a->bind_address, b->bind_address) == 0);
	FUZZ_CHECK(strcmp(a->bind_address_v6, b->bind_address_v6) == 0);
	FUZZ_CHECK(strcmp(a->bind_interface, b->bind_interface) == 0);
	FUZZ_CHECK(a->port == b->port && a->bind_v6 == b->bind_v6);
	FUZZ_CHECK(strcmp(a->socket_path, b->socket_path) == 0);
	FUZZ_CHECK(a->flavor == b->flavor && a->id_kind == b->id_kind);
	FUZZ_CHECK(strcmp(a->id, b->id) == 0 && a->weak == b->weak);
}

/* What a finished config may hold, and what the engine and renderer get. */
static void
check_accepted(const struct haproxy_cfg *c)
{
	struct proxy_conf p;
	struct daemon_conf d;
	struct strbuf text = STRBUF_INIT;
	const char *why = NULL;
	char addr[OPT_ADDR_MAX], path[PATH_MAX];
	int fam = 0;

	FUZZ_CHECK(validate_uuid(c->id, &why) == 0);
	FUZZ_CHECK(c->port >= 1 && c->port <= 65535);
	FUZZ_CHECK(c->socket_path[0] == '/');
	FUZZ_CHECK(validate_path(c->socket_path, OPT_SOCKET_MAX, path,
	               sizeof(path), &why) == 0);
	FUZZ_CHECK(validate_address(c->bind_address, AF_UNSPEC, addr,
	               sizeof(addr), &fam, &why) == 0);
	FUZZ_CHECK(c->bind_v6 == (fam == AF_INET6));
	if (c->bind_address_v6[0] != '\0') {
		FUZZ_CHECK(validate_address(c->bind_address_v6, AF_INET6, addr,
		               sizeof(addr), NULL, &why) == 0);
		FUZZ_CHECK(validate_ifname(c->bind_interface, &why) == 0);
	}
	FUZZ_CHECK(c->maxconn <= HCFG_MAXCONN_MAX);
	FUZZ_CHECK(c->nbthread <= HCFG_NBTHREAD_MAX);
	FUZZ_CHECK(c->mode_http);
	FUZZ_CHECK(c->flavor == FLAVOR_NEUTRON || c->id_kind == ID_NETWORK);
	if (c->pidfile[0] != '\0')
		FUZZ_CHECK(validate_path(c->pidfile, PATH_MAX - 1, path,
		               sizeof(path), &why) == 0);
	FUZZ_CHECK(haproxy_cfg_conf(c, &p, &d) == 0);
	FUZZ_CHECK(strcmp(p.id, c->id) == 0 && p.port == c->port);
	FUZZ_CHECK(strcmp(p.socket_path, c->socket_path) == 0);
	FUZZ_CHECK(strcmp(p.bind_address, c->bind_address) == 0);
	FUZZ_CHECK(p.flavor == c->flavor && p.id_kind == c->id_kind);
	FUZZ_CHECK(memcmp(&p.timeouts, &c->timeouts, sizeof(p.timeouts)) == 0);
	FUZZ_CHECK(p.rate_limit.enabled == c->rate_limit.enabled);
	FUZZ_CHECK(d.engine == ENGINE_BUILTIN);
	FUZZ_CHECK(strcmp(d.pid_file, c->pidfile) == 0);
	FUZZ_CHECK(render_config(&p, &d, "root", "root", &text) == 0);
	FUZZ_CHECK(strstr(text.buf, c->id) != NULL);
	strbuf_release(&text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct haproxy_cfg *c1, *c2, *c3;
	struct hcfg_error e1, e2, e3;
	struct seen s = {0, {{NULL, 0}, ""}};
	const char *text[2];
	size_t len[2], cut;
	char *f1, *f2;
	bool done1, done2, done3;
	int nfiles, r1, r2, r3;

	if (size < 1 || size > HCFG_TEXT_MAX + 1)
		return 0;
	/* Byte 0: 0 one file; else two, cut at a point it scales. */
	cut = data[0] == 0 ? size - 1 : (size - 1) * data[0] / 256;
	nfiles = data[0] == 0 ? 1 : 2;
	f1 = fuzz_memdup(data + 1, cut);
	f2 = fuzz_memdup(data + 1 + cut, size - 1 - cut);
	text[0] = f1;
	len[0] = cut;
	text[1] = f2;
	len[1] = size - 1 - cut;
	c1 = calloc(1, sizeof(*c1));
	c2 = calloc(1, sizeof(*c2));
	c3 = calloc(1, sizeof(*c3));
	FUZZ_CHECK(c1 != NULL && c2 != NULL && c3 != NULL);
	memset(&e1, 0, sizeof(e1));
	memset(&e2, 0, sizeof(e2));
	memset(&e3, 0, sizeof(e3));

	r1 = parse(c1, text, len, nfiles, NULL, &e1, &done1);
	r2 = parse(c2, text, len, nfiles, NULL, &e2, &done2);
	FUZZ_CHECK(r1 == 0 || r1 == -EINVAL);
	FUZZ_CHECK(r1 == r2 && done1 == done2);
	if (r1 == 0)
		same_fields(c1, c2);
	else {
		FUZZ_CHECK(strcmp(e1.msg, e2.msg) == 0);
		FUZZ_CHECK(e1.at.line == e2.at.line);
		check_error(&e1, "a.conf", "b.conf");
	}

	/* Every refusal reported: none, or the strict one first. */
	r3 = parse(c3, text, len, nfiles, &s, &e3, &done3);
	if (r1 == 0) {
		FUZZ_CHECK(s.n == 0 && r3 == 0 && done3);
		same_fields(c1, c3);
		check_accepted(c1);
	} else if (s.n > 0) {
		check_error(&s.first, "a.conf", "b.conf");
		if (!done1 && e1.at.line != 0 && s.first.at.line != 0 &&
		    strcmp(e1.at.file, s.first.at.file) == 0)
			FUZZ_CHECK(strcmp(e1.msg, s.first.msg) == 0);
	}
	free(c1);
	free(c2);
	free(c3);
	free(f1);
	free(f2);
	return 0;
}
