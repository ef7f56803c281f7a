/*
 * The commands of DESIGN.md, put together from the modules. Each logs its
 * own failure once and returns the process exit code.
 */
#ifndef NMP_COMMANDS_H
#define NMP_COMMANDS_H

#include <stdbool.h>

#include "options.h"

int commands_run(const struct options *o);

/* The exit code of DESIGN.md for a failed file operation (-errno). */
int commands_exit_for(int err, bool creating);

#endif
