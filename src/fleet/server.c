#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "fd.h"
#include "fleet/ctl.h"
#include "fleet/proto.h"
#include "fleet/server.h"
#include "log.h"
#include "notify.h"
#include "validate.h"
#include "banned.h"

/* One network served: its frontend, and what the engine does not keep. */
struct fleet_net {
	struct frontend *f;
	char id[OPT_UUID_LEN + 1];
	enum flavor flavor;
	enum id_kind id_kind;
	char *netns; /* NULL: added without a name */
	unsigned long long netns_inode;
	struct fleet_client *holder; /* its network goes when this closes */
	char *conf; /* its add request, as the state journal keeps it */
	int nfds;
};

struct fleet_client {
	LIST_ENTRY(fleet_client) link;
	struct fleet_server *s;
	int fd;
	struct event *ev;
	struct ucred cred;
	const char *refused; /* why its request gets only an error; static */
};

struct fleet_server {
	struct engine *e;
	int fd;
	struct event *ev;
	gid_t group;
	/* the networks, sorted by id: lookups and pages by binary search */
	struct fleet_net **nets;
	size_t n, cap;
	LIST_HEAD(client_list, fleet_client) clients;
	size_t nclients;
	char *buf; /* FLEET_MSG_MAX: each message read */
	char netns_dir[256];
	int ino; /* inotify on netns_dir, -1 until a network names one */
	struct event *ino_ev;
	int journal;    /* the state journal, appended to; -1: none */
	bool restoring; /* adds of the restore: journalled once, after */
	bool fixed;     /* one network's engine: no add, no del */
	int reply_fd;   /* goes beside the reply (metrics); -1: none */
};

static void
fds_close(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		fds[i] = safe_close(fds[i]);
}

/* The engine has them now: nothing for us to close. */
static void
fds_taken(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		fds[i] = -1;
}

/* The index of id in s->nets, or where it would go (*found false). */
static size_t
find(const struct fleet_server *s, const char *id, bool *found)
{
	size_t lo = 0, hi = s->n, mid;
	int c;

	*found = false;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(s->nets[mid]->id, id);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
net_free(struct fleet_net *n)
{
	free(n->netns);
	free(n->conf);
	free(n);
}

/* "<id>.<k>": listener k of network id in the service manager's store. */
static void
store_name(const char *id, int k, char *out, size_t outsz)
{
	if (snprintf(out, outsz, "%s.%d", id, k) < 0 && outsz > 0)
		out[0] = '\0';
}

/*
 * One line onto the state journal. Not synced: a crash of the node loses
 * the namespaces too; a crash of the daemon loses nothing written.
 */
static void
journal(struct fleet_server *s, const char *line)
{
	size_t len = strlen(line);
	ssize_t w;

	if (s->journal < 0 || s->restoring)
		return;
	w = write(s->journal, line, len);
	if (w < 0 || (size_t)w != len || write(s->journal, "\n", 1) != 1)
		log_warn("cannot write the state journal: %s; a restart may "
		         "lose this change",
		    w < 0 ? strerror(errno) : "short write");
}

/* Stop serving the network at index i; why goes to the log. */
static void
remove_at(struct fleet_server *s, size_t i, const char *why)
{
	struct fleet_net *n = s->nets[i];

	char line[128], name[OPT_UUID_LEN + 16];
	int k;

	log_info("network %s removed: %s", n->id, why);
	if (n->holder == NULL) {
		(void)snprintf(line, sizeof(line),
		    "{\"v\":%d,\"op\":\"del\",\"id\":\"%s\"}",
		    FLEET_PROTO_VERSION, n->id);
		journal(s, line);
		for (k = 0; k < n->nfds; k++) {
			store_name(n->id, k, name, sizeof(name));
			notify_fdstore_remove(name);
		}
	}
	engine_remove_frontend(n->f);
	memmove(&s->nets[i], &s->nets[i + 1],
	    (s->n - i - 1) * sizeof(struct fleet_net *));
	s->n--;
	net_free(n);
}

static int reply_error(struct strbuf *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
reply_error(struct strbuf *out, const char *fmt, ...)
{
	char msg[FLEET_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	log_warn("control: refused: %s", msg);
	return fleet_reply_error(msg, out);
}

/* "addr" in the canonical text of its family, to compare with a socket's. */
static bool
same_address(const char *want, int family, const char *got)
{
	unsigned char bin[16];
	char text[INET6_ADDRSTRLEN];

	if (inet_pton(family, want, bin) != 1 ||
	    inet_ntop(family, bin, text, sizeof(text)) == NULL)
		return false;
	return strcmp(text, got) == 0;
}

/*
 * The listeners are what the network says: a listening TCP socket on its
 * bind address and port, then one on its IPv6 address when it has one.
 */
static int
check_listeners(const struct proxy_conf *p, const int *fds, int nfds,
    unsigned long long *inode, char *why, size_t whysz)
{
	struct ctl_listener l;
	const char *what = NULL;
	int want = p->bind_address_v6[0] != '\0' ? 2 : 1, i;

	if (nfds != want) {
		(void)snprintf(why, whysz,
		    "%d listening sockets came, the network has %d", nfds,
		    want);
		return -EINVAL;
	}
	*inode = 0;
	for (i = 0; i < nfds; i++) {
		const char *addr =
		    i == 0 ? p->bind_address : p->bind_address_v6;
		int family = i == 0 && !p->bind_v6 ? AF_INET : AF_INET6;

		if (ctl_check_listener(fds[i], &l, &what) < 0) {
			(void)snprintf(
			    why, whysz, "descriptor %d: %s", i + 1, what);
			return -EINVAL;
		}
		if (l.family != family || l.port != p->port ||
		    !same_address(addr, family, l.addr)) {
			(void)snprintf(why, whysz,
			    "descriptor %d is bound to %s port %u, the network "
			    "says %s port %u",
			    i + 1, l.addr, l.port, addr, p->port);
			return -EINVAL;
		}
		if (i > 0 && l.netns_inode != *inode) {
			(void)snprintf(
			    why, whysz, "the listeners are in two namespaces");
			return -EINVAL;
		}
		*inode = l.netns_inode;
	}
	for (i = 0; i < nfds; i++)
		if (ctl_nonblock(fds[i]) < 0) {
			(void)snprintf(why, whysz,
			    "descriptor %d cannot be made non-blocking", i + 1);
			return -EINVAL;
		}
	return 0;
}

/*
 * The namespace named is where the listeners are, when the kernel told
 * us theirs; else the name's is taken as theirs (root bound them there).
 */
static int
check_netns(const struct fleet_server *s, const char *name,
    unsigned long long *inode, char *why, size_t whysz)
{
	char path[sizeof(s->netns_dir) + OPT_NETNS_MAX + 2];
	struct stat st;

	if (name[0] == '\0')
		return 0;
	(void)snprintf(path, sizeof(path), "%s/%s", s->netns_dir, name);
	if (stat(path, &st) < 0) {
		(void)snprintf(
		    why, whysz, "namespace %.64s: %s", name, strerror(errno));
		return -EINVAL;
	}
	if (*inode != 0 && *inode != (unsigned long long)st.st_ino) {
		(void)snprintf(why, whysz,
		    "the listeners are not in namespace %.64s", name);
		return -EINVAL;
	}
	*inode = (unsigned long long)st.st_ino;
	return 0;
}

static void watch_netns(struct fleet_server *s);

/*
 * What survives a restart of the daemon: the listeners in the service
 * manager's store, the settings in the journal. A held network is its
 * holder's to add again.
 */
static void
keep(
    struct fleet_server *s, struct fleet_net *n, const struct fleet_request *rq)
{
	struct strbuf line = STRBUF_INIT;
	struct fleet_request plain = *rq;
	char name[OPT_UUID_LEN + 16];
	int fds[ENGINE_LISTENERS_MAX], k, i;

	plain.hold = false;
	if (fleet_request_write(&plain, &line) == 0 && !line.failed) {
		n->conf = strdup(line.buf);
		journal(s, line.buf);
	}
	strbuf_release(&line);
	if (n->conf == NULL)
		log_warn("network %s: out of memory: it will not survive a "
		         "restart",
		    n->id);
	k = engine_frontend_fds(n->f, fds);
	for (i = 0; i < k; i++) {
		store_name(n->id, i, name, sizeof(name));
		notify_fdstore(name, fds[i]);
	}
}

/*
 * The holder of n has closed its end, which our loop has not seen yet: a
 * stub killed and started again by neutron's monitor at once. Its new add
 * must not find the old one there.
 */
static bool
holder_gone(const struct fleet_net *n)
{
	struct pollfd p;

	if (n->holder == NULL)
		return false;
	p.fd = n->holder->fd;
	p.events = POLLRDHUP;
	p.revents = 0;
	return poll(&p, 1, 0) > 0 &&
	       (p.revents & (POLLHUP | POLLRDHUP | POLLERR)) != 0;
}

static int
do_add(struct fleet_server *s, struct fleet_client *client,
    const struct fleet_request *rq, int *fds, int nfds, struct strbuf *out)
{
	const struct proxy_conf *p = &rq->net;
	struct fleet_net *n, **grown;
	char why[FLEET_ERROR_MAX];
	const char *what = NULL;
	unsigned long long inode = 0;
	size_t at;
	bool found;
	int err = 0;

	if (s->fixed)
		return reply_error(out, "this proxy serves one network: it "
		                        "takes no add");
	if (engine_draining(s->e))
		return reply_error(out, "the daemon is stopping");
	at = find(s, p->id, &found);
	if (found && holder_gone(s->nets[at])) {
		remove_at(s, at, "its holder's connection closed");
		at = find(s, p->id, &found);
	}
	if (found)
		return reply_error(out, "network %s is served already", p->id);
	if (s->n >= FLEET_NETWORKS_MAX)
		return reply_error(
		    out, "%d networks are served already", FLEET_NETWORKS_MAX);
	if (check_listeners(p, fds, nfds, &inode, why, sizeof(why)) < 0 ||
	    check_netns(s, rq->netns, &inode, why, sizeof(why)) < 0)
		return reply_error(out, "network %s: %s", p->id, why);
	if (s->n == s->cap) {
		size_t cap = s->cap == 0 ? 64 : s->cap * 2;

		grown = realloc(s->nets, cap * sizeof(struct fleet_net *));
		if (grown == NULL)
			return -ENOMEM;
		s->nets = grown;
		s->cap = cap;
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL ||
	    (rq->netns[0] != '\0' && (n->netns = strdup(rq->netns)) == NULL)) {
		if (n != NULL)
			net_free(n);
		return -ENOMEM;
	}
	/* From here the listeners are the engine's, also on failure. */
	n->f = engine_add_frontend(s->e, p, fds, nfds, &err, &what);
	fds_taken(fds, nfds);
	if (n->f == NULL) {
		net_free(n);
		return reply_error(
		    out, "network %s: %s: %s", p->id, what, strerror(-err));
	}
	memcpy(n->id, p->id, sizeof(n->id));
	n->nfds = nfds;
	n->flavor = p->flavor;
	n->id_kind = p->id_kind;
	n->netns_inode = inode;
	n->holder = rq->hold ? client : NULL;
	memmove(&s->nets[at + 1], &s->nets[at],
	    (s->n - at) * sizeof(struct fleet_net *));
	s->nets[at] = n;
	s->n++;
	if (n->netns != NULL)
		watch_netns(s);
	if (n->holder == NULL)
		keep(s, n, rq);
	log_info("network %s added: %s %s on %s port %u%s%s%s%s, namespace %s "
	         "(pid %d uid %u)",
	    n->id, p->flavor == FLAVOR_OVN ? "ovn" : "neutron",
	    p->id_kind == ID_ROUTER ? "router" : "network", p->bind_address,
	    p->port, p->bind_address_v6[0] != '\0' ? " and " : "",
	    p->bind_address_v6, p->bind_address_v6[0] != '\0' ? "%" : "",
	    p->bind_interface, n->netns != NULL ? n->netns : "unnamed",
	    client != NULL ? (int)client->cred.pid : 0,
	    client != NULL ? (unsigned int)client->cred.uid : 0U);
	return fleet_reply_ok(out);
}

static void
info_of(const struct fleet_net *n, struct fleet_net_info *in)
{
	struct frontend_stats st;
	struct ctl_listener l;
	const char *why = NULL;
	int fds[ENGINE_LISTENERS_MAX], k, i;

	memset(in, 0, sizeof(*in));
	memcpy(in->id, n->id, sizeof(in->id));
	in->flavor = n->flavor;
	in->id_kind = n->id_kind;
	if (n->netns != NULL)
		(void)snprintf(in->netns, sizeof(in->netns), "%s", n->netns);
	in->netns_inode = n->netns_inode;
	k = engine_frontend_fds(n->f, fds);
	for (i = 0; i < k && i < FLEET_FDS_MAX; i++) {
		if (ctl_check_listener(fds[i], &l, &why) < 0)
			continue;
		(void)snprintf(in->binds[in->nbinds++], sizeof(in->binds[0]),
		    l.family == AF_INET6 ? "[%s]:%u" : "%s:%u", l.addr, l.port);
	}
	engine_frontend_stats(n->f, &st);
	in->requests = st.requests;
	in->refused = st.refused;
	in->conns = st.conns;
	if (st.last_error != NULL)
		(void)snprintf(in->last_error, sizeof(in->last_error), "%s",
		    st.last_error);
	in->last_error_at = (int64_t)st.last_error_at;
	in->since = (int64_t)st.since;
	in->held = n->holder != NULL;
}

static int
do_list(struct fleet_server *s, const char *after, struct strbuf *out)
{
	struct fleet_net_info *page;
	size_t i = 0;
	bool found;
	int n = 0, r;

	if (after[0] != '\0') {
		i = find(s, after, &found);
		if (found)
			i++;
	}
	page = calloc(FLEET_LIST_PAGE, sizeof(*page));
	if (page == NULL)
		return -ENOMEM;
	for (; i < s->n && n < FLEET_LIST_PAGE; i++)
		info_of(s->nets[i], &page[n++]);
	r = fleet_reply_nets(page, n, i < s->n, out);
	free(page);
	return r;
}

static int
do_show(struct fleet_server *s, const char *id, struct strbuf *out)
{
	struct fleet_net_info info;
	bool found;
	size_t i = find(s, id, &found);

	if (!found)
		return reply_error(out, "network %s is not served", id);
	info_of(s->nets[i], &info);
	return fleet_reply_nets(&info, 1, false, out);
}

static int
do_del(struct fleet_server *s, const char *id, struct strbuf *out)
{
	bool found;
	size_t i = find(s, id, &found);

	if (!found)
		return reply_error(out, "network %s is not served", id);
	if (s->fixed)
		return reply_error(out, "this proxy serves one network: stop "
		                        "it instead");
	remove_at(s, i, "deleted by request");
	return fleet_reply_ok(out);
}

/* The exposition, in a memfd that goes beside the reply. */
static int
do_metrics(struct fleet_server *s, struct strbuf *out)
{
	struct strbuf text = STRBUF_INIT;
	int fd = -1, r;

	r = engine_metrics(s->e, &text);
	if (r == 0) {
		fd = memfd_create("metrics", MFD_CLOEXEC);
		if (fd < 0 || fd_write_all(fd, text.buf, text.len) < 0 ||
		    lseek(fd, 0, SEEK_SET) != 0) {
			r = reply_error(out, "cannot hand the metrics over: %s",
			    strerror(errno));
			fd = safe_close(fd);
		} else {
			r = fleet_reply_metrics((uint64_t)text.len, out);
		}
	}
	strbuf_release(&text);
	s->reply_fd = fd;
	return r;
}

static int
do_health(struct fleet_server *s, struct strbuf *out)
{
	struct engine_health eh;
	struct fleet_health h;
	size_t i;
	bool ok;

	engine_health(s->e, &eh);
	memset(&h, 0, sizeof(h));
	h.networks = eh.networks;
	h.listeners = eh.listeners;
	h.listening = eh.listening;
	ok = eh.listening == eh.listeners && eh.unbound == 0;
	for (i = 0; i < eh.nagents && i < FLEET_HEALTH_AGENTS; i++) {
		(void)snprintf(h.agents[i].path, sizeof(h.agents[i].path), "%s",
		    eh.agents[i].path);
		h.agents[i].reachable = eh.agents[i].err == 0;
		if (eh.agents[i].err != 0) {
			ok = false;
			(void)snprintf(h.agents[i].error,
			    sizeof(h.agents[i].error), "%s",
			    strerror(-eh.agents[i].err));
		}
		h.nagents++;
	}
	(void)snprintf(h.status, sizeof(h.status), "%s",
	    eh.draining ? "stopping"
	    : ok        ? "ok"
	                : "degraded");
	return fleet_reply_health(&h, out);
}

int
fleet_server_take_reply_fd(struct fleet_server *s)
{
	int fd = s->reply_fd;

	s->reply_fd = -1;
	return fd;
}

int
fleet_server_handle(struct fleet_server *s, struct fleet_client *client,
    const char *msg, size_t len, int *fds, int nfds, struct strbuf *out)
{
	struct fleet_request *rq;
	char why[FLEET_ERROR_MAX];
	int r;

	s->reply_fd = safe_close(s->reply_fd);
	rq = malloc(sizeof(*rq));
	if (rq == NULL) {
		fds_close(fds, nfds);
		return -ENOMEM;
	}
	if (fleet_request_parse(msg, len, rq, why, sizeof(why)) < 0) {
		r = reply_error(out, "bad request: %s", why);
	} else if (rq->op != FLEET_ADD && nfds > 0) {
		r = reply_error(out, "descriptors came with a request that "
		                     "takes none");
	} else {
		switch (rq->op) {
		case FLEET_ADD:
			r = do_add(s, client, rq, fds, nfds, out);
			break;
		case FLEET_DEL:
			r = do_del(s, rq->id, out);
			break;
		case FLEET_SHOW:
			r = do_show(s, rq->id, out);
			break;
		case FLEET_METRICS:
			r = do_metrics(s, out);
			break;
		case FLEET_HEALTH:
			r = do_health(s, out);
			break;
		case FLEET_LIST:
		default:
			r = do_list(s, rq->id, out);
			break;
		}
	}
	fds_close(fds, nfds); /* what an add did not take */
	free(rq);
	return r;
}

int
fleet_server_adopt(
    struct fleet_server *s, struct frontend *f, const struct proxy_conf *p)
{
	struct fleet_net *n;
	int fds[ENGINE_LISTENERS_MAX];

	if (s->n > 0)
		return -EEXIST;
	s->nets = calloc(1, sizeof(struct fleet_net *));
	n = calloc(1, sizeof(*n));
	if (s->nets == NULL || n == NULL) {
		free(n);
		return -ENOMEM;
	}
	s->cap = 1;
	n->f = f;
	memcpy(n->id, p->id, sizeof(n->id));
	n->flavor = p->flavor;
	n->id_kind = p->id_kind;
	n->nfds = engine_frontend_fds(f, fds);
	s->nets[s->n++] = n;
	s->fixed = true;
	return 0;
}

/* ---- state across restarts ---- */

struct jline {
	char id[OPT_UUID_LEN + 1];
	size_t seq;
	bool add;
	const char *text;
	size_t len;
};

static int
jline_cmp(const void *a, const void *b)
{
	const struct jline *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct named_fd {
	const char *name;
	int *fd;
};

static int
named_cmp(const void *a, const void *b)
{
	return strcmp(((const struct named_fd *)a)->name,
	    ((const struct named_fd *)b)->name);
}

/* The journal's lines, each with the id it is about; NULL on no memory. */
static struct jline *
journal_lines(const char *text, size_t len, size_t *count)
{
	struct fleet_request *rq = malloc(sizeof(*rq));
	struct jline *v = NULL, *grown;
	size_t n = 0, cap = 0, at = 0, end;
	char why[FLEET_ERROR_MAX];

	*count = 0;
	if (rq == NULL)
		return NULL;
	while (at < len) {
		const char *nl = memchr(text + at, '\n', len - at);

		end = nl != NULL ? (size_t)(nl - text) : len;
		if (end > at &&
		    fleet_request_parse(
		        text + at, end - at, rq, why, sizeof(why)) == 0 &&
		    (rq->op == FLEET_ADD || rq->op == FLEET_DEL)) {
			if (n == cap) {
				cap = cap == 0 ? 256 : cap * 2;
				grown = realloc(v, cap * sizeof(*v));
				if (grown == NULL)
					break;
				v = grown;
			}
			memcpy(v[n].id,
			    rq->op == FLEET_ADD ? rq->net.id : rq->id,
			    sizeof(v[n].id));
			v[n].seq = n;
			v[n].add = rq->op == FLEET_ADD;
			v[n].text = text + at;
			v[n].len = end - at;
			n++;
		} else if (end > at) {
			log_warn("state journal: a line skipped: %s", why);
		}
		at = end + 1;
	}
	free(rq);
	*count = n;
	return v;
}

/* Network rq again, on the listeners of the store named for it. */
static void
restore_one(struct fleet_server *s, struct fleet_request *rq,
    struct named_fd *byname, size_t nnamed)
{
	struct strbuf out = STRBUF_INIT;
	char name[OPT_UUID_LEN + 16], path[512];
	int fds[FLEET_FDS_MAX], k, want;
	struct named_fd key, *hit;
	size_t before = s->n;

	want = rq->net.bind_address_v6[0] != '\0' ? 2 : 1;
	for (k = 0; k < want; k++) {
		store_name(rq->net.id, k, name, sizeof(name));
		key.name = name;
		key.fd = NULL;
		hit = bsearch(&key, byname, nnamed, sizeof(*byname), named_cmp);
		if (hit == NULL || *hit->fd < 0)
			break;
		fds[k] = *hit->fd;
		*hit->fd = -1;
	}
	if (k < want) {
		fds_close(fds, k);
		log_warn("network %s not restored: its listeners did not "
		         "survive the restart (no service manager kept them); "
		         "add it again",
		    rq->net.id);
		return;
	}
	(void)snprintf(path, sizeof(path), "%s/%s", s->netns_dir, rq->netns);
	if (rq->netns[0] != '\0' && access(path, F_OK) < 0) {
		fds_close(fds, k);
		log_info("network %s not restored: namespace %s is gone",
		    rq->net.id, rq->netns);
		return;
	}
	if (do_add(s, NULL, rq, fds, k, &out) < 0 || s->n == before)
		log_warn("network %s not restored: %s", rq->net.id,
		    out.buf != NULL ? out.buf : "out of memory");
	strbuf_release(&out);
}

void
fleet_server_restore(struct fleet_server *s, const char *text, size_t len,
    int *fds, char **names, int nfds)
{
	struct fleet_request *rq = malloc(sizeof(*rq));
	struct named_fd *byname = calloc((size_t)nfds + 1, sizeof(*byname));
	char why[FLEET_ERROR_MAX];
	struct jline *v;
	size_t n = 0, i, restored;
	int k;

	v = journal_lines(text, len, &n);
	if (rq == NULL || byname == NULL || (v == NULL && n > 0)) {
		log_err("cannot restore the networks: %s", strerror(ENOMEM));
		n = 0;
	}
	for (k = 0; byname != NULL && k < nfds; k++) {
		byname[k].name = names[k];
		byname[k].fd = &fds[k];
	}
	if (byname != NULL)
		qsort(byname, (size_t)nfds, sizeof(*byname), named_cmp);
	if (v != NULL)
		qsort(v, n, sizeof(*v), jline_cmp);
	s->restoring = true;
	/* The last line of each id decides: an add, or a del. */
	for (i = 0; rq != NULL && byname != NULL && i < n; i++) {
		if (i + 1 < n && strcmp(v[i].id, v[i + 1].id) == 0)
			continue;
		if (!v[i].add || fleet_request_parse(v[i].text, v[i].len, rq,
		                     why, sizeof(why)) < 0)
			continue;
		restore_one(s, rq, byname, (size_t)nfds);
	}
	s->restoring = false;
	restored = s->n;
	/* What no network took: closed, and out of the store. */
	for (k = 0; k < nfds; k++) {
		if (fds[k] < 0)
			continue;
		fds[k] = safe_close(fds[k]);
		notify_fdstore_remove(names[k]);
	}
	if (n > 0 || nfds > 0)
		log_info("restored %zu networks (%zu lines of state, %d "
		         "listeners kept)",
		    restored, n, nfds);
	free(v);
	free(byname);
	free(rq);
}

int
fleet_server_dump(const struct fleet_server *s, struct strbuf *out)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->nets[i]->conf != NULL) {
			strbuf_append(out, s->nets[i]->conf);
			strbuf_append(out, "\n");
		}
	return out->failed ? -ENOMEM : 0;
}

void
fleet_server_set_journal(struct fleet_server *s, int fd)
{
	(void)safe_close(s->journal);
	s->journal = fd;
}

size_t
fleet_server_count(const struct fleet_server *s)
{
	return s->n;
}

/* ---- the control connections ---- */

static void
client_free(struct fleet_client *c)
{
	struct fleet_server *s = c->s;
	size_t i = s->n;

	/* The networks it held go with it (the haproxy front's stub). */
	while (i-- > 0)
		if (s->nets[i]->holder == c)
			remove_at(s, i, "its holder's connection closed");
	LIST_REMOVE(c, link);
	s->nclients--;
	if (c->ev != NULL)
		event_free(c->ev);
	(void)safe_close(c->fd);
	free(c);
}

static void
client_readable(evutil_socket_t fd, short what, void *arg)
{
	struct fleet_client *c = arg;
	struct fleet_server *s = c->s;
	struct strbuf out = STRBUF_INIT;
	int fds[FLEET_FDS_MAX];
	int nfds = 0, r, rfd = -1;
	ssize_t n;

	(void)what;
	n = ctl_recv(fd, s->buf, FLEET_MSG_MAX, fds, FLEET_FDS_MAX, &nfds);
	if (n == -EAGAIN)
		return;
	if (n <= 0 && n != -EMSGSIZE && n != -EPROTO) {
		fds_close(fds, nfds); /* an empty message may bring some */
		client_free(c);
		return;
	}
	if (c->refused != NULL) {
		fds_close(fds, nfds);
		r = fleet_reply_error(c->refused, &out);
	} else if (n == -EMSGSIZE) {
		r = reply_error(
		    &out, "bad request: larger than %d bytes", FLEET_MSG_MAX);
	} else if (n == -EPROTO) {
		r = reply_error(&out, "bad request: more than %d descriptors",
		    FLEET_FDS_MAX);
	} else {
		struct timespec t0, t1;

		(void)clock_gettime(CLOCK_MONOTONIC, &t0);
		r = fleet_server_handle(
		    s, c, s->buf, (size_t)n, fds, nfds, &out);
		(void)clock_gettime(CLOCK_MONOTONIC, &t1);
		/* What one request costs the daemon (bench/fleet reads it). */
		log_debug("control: request handled in %ld us",
		    (long)((t1.tv_sec - t0.tv_sec) * 1000000L +
		           (t1.tv_nsec - t0.tv_nsec) / 1000));
	}
	rfd = fleet_server_take_reply_fd(s);
	if (r < 0 || out.failed ||
	    ctl_send(fd, out.buf, out.len, &rfd, rfd >= 0 ? 1 : 0) < 0) {
		log_warn("control: cannot answer pid %d: %s", (int)c->cred.pid,
		    strerror(r < 0 ? -r : ENOMEM));
		client_free(c);
	} else if (c->refused != NULL) {
		client_free(c);
	}
	(void)safe_close(rfd);
	strbuf_release(&out);
}

static void
ctl_acceptable(evutil_socket_t lfd, short what, void *arg)
{
	struct fleet_server *s = arg;
	struct fleet_client *c;
	int fd;

	(void)what;
	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (s->nclients >= FLEET_NETWORKS_MAX) {
		log_warn("control: %d connections already: one more closed",
		    FLEET_NETWORKS_MAX);
		(void)close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		(void)close(fd);
		return;
	}
	c->s = s;
	c->fd = fd;
	/* Refused: its first request is read, answered with why, closed. */
	if (ctl_peer_allowed(fd, s->group, &c->cred) < 0) {
		c->refused = "permission denied: not root nor in the control "
		             "group";
		log_warn("control: refused pid %d uid %u gid %u: %s",
		    (int)c->cred.pid, (unsigned int)c->cred.uid,
		    (unsigned int)c->cred.gid, c->refused);
	}
	LIST_INSERT_HEAD(&s->clients, c, link);
	s->nclients++;
	c->ev = event_new(
	    engine_base(s->e), fd, EV_READ | EV_PERSIST, client_readable, c);
	if (c->ev == NULL || event_add(c->ev, NULL) < 0)
		client_free(c);
}

/* ---- namespaces that go ---- */

static void
netns_gone(struct fleet_server *s, const char *name)
{
	char why[OPT_NETNS_MAX + 32];
	size_t i = s->n;

	(void)snprintf(why, sizeof(why), "namespace %s is gone", name);
	while (i-- > 0)
		if (s->nets[i]->netns != NULL &&
		    strcmp(s->nets[i]->netns, name) == 0)
			remove_at(s, i, why);
}

static void
netns_event(evutil_socket_t fd, short what, void *arg)
{
	struct fleet_server *s = arg;
	union {
		char buf[4096];
		struct inotify_event align;
	} u;
	const struct inotify_event *ev;
	ssize_t n;
	size_t at;

	(void)what;
	for (;;) {
		n = read(fd, u.buf, sizeof(u.buf));
		if (n <= 0)
			return;
		for (at = 0; at + sizeof(*ev) <= (size_t)n;
		     at += sizeof(*ev) + ev->len) {
			ev = (const void *)(u.buf + at);
			if (ev->len > 0 &&
			    at + sizeof(*ev) + ev->len <= (size_t)n)
				netns_gone(s, ev->name);
		}
	}
}

/* Watch the namespace directory, once a network names a namespace. */
static void
watch_netns(struct fleet_server *s)
{
	if (s->ino >= 0)
		return;
	s->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->ino < 0 || inotify_add_watch(s->ino, s->netns_dir,
	                      IN_DELETE | IN_MOVED_FROM) < 0) {
		log_warn("cannot watch %s: %s; a deleted namespace's network "
		         "stays until deleted",
		    s->netns_dir, strerror(errno));
		s->ino = safe_close(s->ino);
		return;
	}
	s->ino_ev = event_new(
	    engine_base(s->e), s->ino, EV_READ | EV_PERSIST, netns_event, s);
	if (s->ino_ev == NULL || event_add(s->ino_ev, NULL) < 0) {
		if (s->ino_ev != NULL)
			event_free(s->ino_ev);
		s->ino_ev = NULL;
		s->ino = safe_close(s->ino);
	}
}

struct fleet_server *
fleet_server_new(
    struct engine *e, int ctl_fd, gid_t group, const char *netns_dir, int *err)
{
	struct fleet_server *s = calloc(1, sizeof(*s));

	*err = -ENOMEM;
	if (s == NULL) {
		(void)safe_close(ctl_fd);
		return NULL;
	}
	s->e = e;
	s->fd = ctl_fd;
	s->group = group;
	s->ino = -1;
	s->journal = -1;
	s->reply_fd = -1;
	LIST_INIT(&s->clients);
	(void)snprintf(s->netns_dir, sizeof(s->netns_dir), "%s", netns_dir);
	s->buf = malloc(FLEET_MSG_MAX);
	if (s->buf == NULL)
		goto fail;
	if (ctl_fd >= 0) {
		s->ev = event_new(engine_base(e), ctl_fd, EV_READ | EV_PERSIST,
		    ctl_acceptable, s);
		if (s->ev == NULL || event_add(s->ev, NULL) < 0)
			goto fail;
	}
	*err = 0;
	return s;
fail:
	fleet_server_free(s);
	return NULL;
}

void
fleet_server_free(struct fleet_server *s)
{
	size_t i;

	if (s == NULL)
		return;
	while (!LIST_EMPTY(&s->clients)) {
		struct fleet_client *c = LIST_FIRST(&s->clients);

		/* Its held networks stay: the engine is going down with us.
		 * The analyzer loses the list's update, as in the engine. */
		for (i = 0; i < s->n; i++)
			if (s->nets[i]->holder == c)
				s->nets[i]->holder = NULL;
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
		client_free(c);
	}
	for (i = 0; i < s->n; i++)
		net_free(s->nets[i]);
	free(s->nets);
	if (s->ev != NULL)
		event_free(s->ev);
	if (s->ino_ev != NULL)
		event_free(s->ino_ev);
	(void)safe_close(s->ino);
	(void)safe_close(s->journal);
	(void)safe_close(s->reply_fd);
	(void)safe_close(s->fd);
	free(s->buf);
	free(s);
}
