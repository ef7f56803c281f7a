/*
 * The command line: getopt_long over every option of DESIGN.md in its dash
 * and neutron's underscore spelling, each value checked with validate.h.
 * No I/O: errors and help text come back to the caller, which prints them.
 */
#ifndef NMP_CLI_H
#define NMP_CLI_H

#include "options.h"
#include "strbuf.h"

enum cli_result {
	CLI_OK,      /* opts is filled and consistent */
	CLI_HELP,    /* --help was given */
	CLI_VERSION, /* --version was given */
	CLI_ERROR,   /* err is filled */
};

struct cli_error {
	int exit_code; /* EX_USAGE or EX_DATAERR */
	char msg[640]; /* one line, untrusted values escaped */
};

/*
 * Parse argv. progname is the name the binary was started under (argv[0]);
 * under "neutron-ns-metadata-proxy" the defaults follow neutron's. On
 * CLI_OK opts is filled; on CLI_ERROR err is filled and opts is unspecified.
 * getopt's global state is reset, so this may be called more than once.
 */
enum cli_result cli_parse(
    int argc, char *argv[], struct options *opts, struct cli_error *err);

/* The --help text: every command and option with its default. */
int cli_help(const char *progname, struct strbuf *out);

#endif
