#include <stdio.h>

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
