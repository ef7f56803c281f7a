#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "compat/front.h"
#include "log.h"
#include "options.h"
#include "strbuf.h"
#include "banned.h"

/* A closed 0-2 would let the next open() become stdout or stderr. */
static int
ensure_std_fds(void)
{
	int fd;

	for (;;) {
		fd = open("/dev/null", O_RDWR);
		if (fd < 0)
			return -1;
		if (fd > STDERR_FILENO) {
			(void)close(fd);
			return 0;
		}
	}
}

int
main(int argc, char *argv[])
{
	struct options opts;
	struct cli_error err;
	struct strbuf help = STRBUF_INIT;
	const char *prog = argc > 0 ? argv[0] : "ns-metadata-proxy";
	const char *base = strrchr(prog, '/');
	int code;
	/*
	 * What goes to a closed stdout is lost although every write to the
	 * /dev/null standing in for it succeeds: remember it for the output
	 * that matters (render, --help, --version).
	 */
	bool stdout_closed =
	    fcntl(STDOUT_FILENO, F_GETFD) < 0 && errno == EBADF;

	if (ensure_std_fds() < 0)
		return EX_OSERR;
	umask(077);
	(void)signal(SIGPIPE, SIG_IGN);
	/*
	 * A file size limit (RLIMIT_FSIZE) below the config's size must fail
	 * the write (EFBIG: reported, the temporary removed), not kill us
	 * halfway. The exec of haproxy restores the default.
	 */
	(void)signal(SIGXFSZ, SIG_IGN);
	/*
	 * SIGHUP asks a serving proxy to reopen its log (logrotate sends it
	 * to every process of this name): it must not end a status, a stop or
	 * a start in progress. The engine handles it; an exec resets it.
	 */
	(void)signal(SIGHUP, SIG_IGN);
	log_init(base != NULL ? base + 1 : prog);

	/* Started as haproxy (a symlink), or the haproxy and audit commands. */
	if (strcmp(base != NULL ? base + 1 : prog, "haproxy") == 0)
		return compat_haproxy(argc, argv);
	if (argc > 1 && strcmp(argv[1], "haproxy") == 0)
		return compat_haproxy(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "audit") == 0)
		return compat_audit(argc - 1, argv + 1);
	switch (cli_parse(argc, argv, &opts, &err)) {
	case CLI_HELP:
		if (stdout_closed) {
			log_err("cannot write help to standard output: %s",
			    strerror(EBADF));
			return EX_IOERR;
		}
		code = cli_help(base != NULL ? base + 1 : prog, &help);
		if (code == 0 && fputs(strbuf_str(&help), stdout) == EOF)
			code = EX_IOERR;
		strbuf_release(&help);
		return code == 0 && fflush(stdout) == 0 ? 0 : EX_IOERR;
	case CLI_VERSION:
		if (stdout_closed) {
			log_err("cannot write version to standard output: %s",
			    strerror(EBADF));
			return EX_IOERR;
		}
		printf("ns-metadata-proxy %s\n", NMP_VERSION);
		return fflush(stdout) == 0 ? 0 : EX_IOERR;
	case CLI_ERROR:
		log_err("%s", err.msg);
		return err.exit_code;
	case CLI_OK:
		break;
	}
	log_set_debug(opts.daemon.debug);
	log_set_id(opts.proxy.id);
	if (stdout_closed && opts.command == CMD_RENDER) {
		log_err("cannot write config to standard output: %s",
		    strerror(EBADF));
		return EX_IOERR;
	}
	code = commands_run(&opts);
	log_close();
	return code;
}
