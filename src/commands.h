/*
 * The command line's command, dispatched to its module (cmd/cmd.h). Each
 * logs its own failure once and returns the process exit code.
 */
#ifndef NMP_COMMANDS_H
#define NMP_COMMANDS_H

#include "options.h"

int commands_run(const struct options *o);

#endif
