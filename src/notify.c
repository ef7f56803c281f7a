#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

#ifdef HAVE_SD_NOTIFY
#include <systemd/sd-daemon.h>
#endif

#include "notify.h"
#include "banned.h"

void
notify_ready(const char *status)
{
#ifdef HAVE_SD_NOTIFY
	char msg[512];
	int n;

	n = snprintf(msg, sizeof(msg), "READY=1%s%s",
	    status != NULL ? "\nSTATUS=" : "", status != NULL ? status : "");
	/* A status too long for the buffer is dropped, not cut. */
	if (n < 0 || (size_t)n >= sizeof(msg))
		(void)sd_notify(0, "READY=1");
	else
		(void)sd_notify(0, msg);
#else
	(void)status;
#endif
}

void
notify_stopping(void)
{
#ifdef HAVE_SD_NOTIFY
	(void)sd_notify(0, "STOPPING=1");
#endif
}

void
notify_fdstore(const char *name, int fd)
{
#ifdef HAVE_SD_NOTIFY
	char msg[300];
	int n = snprintf(msg, sizeof(msg), "FDSTORE=1\nFDNAME=%s", name);

	if (n > 0 && (size_t)n < sizeof(msg))
		(void)sd_pid_notify_with_fds(0, 0, msg, &fd, 1);
#else
	(void)name;
	(void)fd;
#endif
}

void
notify_fdstore_remove(const char *name)
{
#ifdef HAVE_SD_NOTIFY
	char msg[300];
	int n = snprintf(msg, sizeof(msg), "FDSTOREREMOVE=1\nFDNAME=%s", name);

	if (n > 0 && (size_t)n < sizeof(msg))
		(void)sd_notify(0, msg);
#else
	(void)name;
#endif
}

int
notify_listen_fds(char ***names)
{
	*names = NULL;
#ifdef HAVE_SD_NOTIFY
	{
		int n = sd_listen_fds_with_names(1, names);

		return n > 0 ? n : 0;
	}
#else
	return 0;
#endif
}

void
notify_names_free(char **names)
{
	char **p;

	if (names == NULL)
		return;
	for (p = names; *p != NULL; p++)
		free(*p);
	free(names);
}

int
notify_watchdog_enabled(unsigned long long *usec)
{
#ifdef HAVE_SD_NOTIFY
	uint64_t u = 0;

	if (sd_watchdog_enabled(0, &u) > 0) {
		*usec = (unsigned long long)u;
		return 1;
	}
#endif
	*usec = 0;
	return 0;
}

void
notify_watchdog(void)
{
#ifdef HAVE_SD_NOTIFY
	(void)sd_notify(0, "WATCHDOG=1");
#endif
}
