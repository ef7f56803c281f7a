#include <sysexits.h>

#include "cmd/cmd.h"
#include "commands.h"
#include "banned.h"

int
commands_run(const struct options *o)
{
	const struct proxy_conf *p = &o->proxy;
	const struct daemon_conf *d = &o->daemon;

	switch (o->command) {
	case CMD_RENDER:
		return cmd_render(p, d);
	case CMD_RUN:
		return cmd_run(p, d);
	case CMD_CHECK:
		return cmd_check(p, d);
	case CMD_CLEANUP:
		return cmd_cleanup(p, d);
	case CMD_STATUS:
		return cmd_status(p, d);
	case CMD_STOP:
		return cmd_stop(p, d);
	case CMD_FLEET:
		return cmd_fleet(o);
	case CMD_STATUS_ALL:
		return cmd_status_all(o);
	}
	return EX_SOFTWARE;
}
