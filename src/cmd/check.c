#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "errors.h"
#include "launch.h"
#include "listener.h"
#include "log.h"
#include "render.h"
#include "safefile.h"
#include "strbuf.h"
#include "banned.h"

#define CHECK_DIR_TEMPLATE "/tmp/ns-metadata-proxy-check.XXXXXX"

int
cmd_render(const struct proxy_conf *p, const struct daemon_conf *d)
{
	struct strbuf text = STRBUF_INIT;
	int code;

	code = render_text(p, d, &text);
	if (code != 0)
		return code;
	/* fclose reports what a file system kept back until the close. */
	if (fwrite(text.buf, 1, text.len, stdout) != text.len ||
	    fflush(stdout) != 0 || fclose(stdout) != 0) {
		log_err("cannot write config to standard output: %s",
		    strerror(errno));
		code = EX_IOERR;
	}
	strbuf_release(&text);
	return code;
}

static int
verdict(const struct proxy_conf *p, const char *haproxy, int status)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		printf("config for %s %s is valid (%s -c)\n",
		    p->id_kind == ID_NETWORK ? "network" : "router", p->id,
		    haproxy);
		return fflush(stdout) != 0 ? EX_IOERR : 0;
	}
	if (WIFEXITED(status) &&
	    (WEXITSTATUS(status) == 126 || WEXITSTATUS(status) == 127)) {
		log_err("cannot execute '%s'", haproxy);
		return WEXITSTATUS(status);
	}
	if (WIFEXITED(status))
		log_err("haproxy rejected the config for %s: exit status %d",
		    p->id, WEXITSTATUS(status));
	else
		log_err("haproxy checking the config for %s died of signal %d",
		    p->id, WTERMSIG(status));
	return EX_DATAERR;
}

int
cmd_check(const struct proxy_conf *p, const struct daemon_conf *d)
{
	static char arg_check[] = "-c", arg_quiet[] = "-q", arg_file[] = "-f";
	struct strbuf text = STRBUF_INIT;
	char haproxy[PATH_MAX], dir[] = CHECK_DIR_TEMPLATE;
	char name[CONFIG_NAME_MAX], path[PATH_MAX];
	char *argv[6];
	sigset_t old;
	int fds[LAUNCH_LISTEN_MAX], nfds = 0;
	int dfd = -1, code, status = 0, r;
	bool made = false;

	code = find_haproxy(d, haproxy, sizeof(haproxy));
	if (code != 0)
		return code;
	code = render_text(p, d, &text);
	if (code != 0)
		return code;
	if (render_config_name(p, name, sizeof(name)) < 0 ||
	    launch_hold_signals(&old) < 0) {
		strbuf_release(&text);
		return EX_OSERR;
	}
	if (mkdtemp(dir) == NULL) {
		log_err("cannot create temporary directory '%s': %s", dir,
		    strerror(errno));
		code = error_exit_code(-errno, OP_CREATE);
		goto out;
	}
	made = true;
	r = safefile_open_base(dir, &dfd);
	if (r >= 0)
		r = safefile_replace(dfd, name, text.buf, text.len);
	if (r >= 0)
		r = join(path, sizeof(path), dir, name);
	if (r < 0) {
		log_err("cannot write temporary config in '%s': %s", dir,
		    error_describe(r, OP_CREATE));
		code = error_exit_code(r, OP_CREATE);
		goto out;
	}
	argv[0] = haproxy;
	argv[1] = arg_check;
	argv[2] = arg_quiet;
	argv[3] = arg_file;
	argv[4] = path;
	argv[5] = NULL;
	/* The config names its listeners as bind fd@N: give it stand-ins. */
	r = listener_placeholder(p->bind_address, &fds[0]);
	if (r >= 0)
		nfds = 1;
	if (r >= 0 && p->bind_address_v6[0] != '\0') {
		r = listener_placeholder(p->bind_address_v6, &fds[1]);
		if (r >= 0)
			nfds = 2;
	}
	if (r >= 0)
		r = launch_run_wait(argv, fds, nfds, &status);
	if (r < 0) {
		log_err("cannot run '%s': %s", haproxy, strerror(-r));
		code = EX_OSERR;
		goto out;
	}
	code = verdict(p, haproxy, status);
out:
	while (nfds > 0)
		(void)close(fds[--nfds]);
	if (dfd >= 0) {
		(void)safefile_remove(dfd, name);
		(void)close(dfd);
	}
	if (made && rmdir(dir) < 0)
		log_warn("cannot remove temporary directory '%s': %s", dir,
		    strerror(errno));
	strbuf_release(&text);
	launch_release_signals(&old);
	return code;
}
