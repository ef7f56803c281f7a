/*
 * The haproxy front's two small readers: front.conf (root's settings:
 * compat/front_conf.h) and the handover it writes for its stub
 * (fleet/handover.h). The first byte picks the reader, the rest is the
 * text. front.conf: a refusal names a line within the text and changes
 * nothing; what is taken passes the command line's grammar. Handover: a
 * refusal keeps nothing; what is taken writes back and reads again to the
 * same fields (the stub gets exactly what the front meant).
 */
#include <stdlib.h>
#include <string.h>

#include "compat/front_conf.h"
#include "fleet/handover.h"
#include "fuzz.h"
#include "validate.h"
#include "banned.h"

static void
front_conf(const char *text, size_t n)
{
	struct front_conf fc, before;
	char why[160] = "", canon[OPT_SOCKET_MAX + 1];
	const char *reason = NULL;
	unsigned int line = 0;
	size_t lines = 1, i;

	front_conf_defaults(&fc);
	before = fc;
	for (i = 0; i < n; i++)
		lines += text[i] == '\n';
	if (front_conf_parse(text, n, &fc, &line, why, sizeof(why)) < 0) {
		FUZZ_CHECK(memcmp(&fc, &before, sizeof(fc)) == 0);
		FUZZ_CHECK(line >= 1 && line <= lines);
		FUZZ_CHECK(why[0] != '\0');
		return;
	}
	FUZZ_CHECK(validate_path(fc.control_socket, OPT_SOCKET_MAX, canon,
	               sizeof(canon), &reason) == 0);
	FUZZ_CHECK(strcmp(canon, fc.control_socket) == 0);
	FUZZ_CHECK(fc.reconnect_timeout >= 1 && fc.reconnect_timeout <= 86400);
}

static void
handover(const char *text, size_t n)
{
	struct handover h, again;
	struct strbuf sb = STRBUF_INIT;
	char why[160] = "";

	if (handover_parse(text, n, &h, why, sizeof(why)) < 0) {
		FUZZ_CHECK(h.request == NULL);
		FUZZ_CHECK(why[0] != '\0');
		return;
	}
	FUZZ_CHECK(h.request != NULL && h.request_len > 0);
	FUZZ_CHECK(h.nlisten >= 1 && h.nlisten <= FLEET_FDS_MAX);
	FUZZ_CHECK(handover_write(&h, &sb) == 0);
	FUZZ_CHECK(
	    handover_parse(sb.buf, sb.len, &again, why, sizeof(why)) == 0);
	FUZZ_CHECK(strcmp(h.id, again.id) == 0);
	FUZZ_CHECK(strcmp(h.control_socket, again.control_socket) == 0);
	FUZZ_CHECK(h.conn == again.conn && h.nlisten == again.nlisten);
	FUZZ_CHECK(memcmp(h.listen, again.listen,
	               sizeof(int) * (size_t)h.nlisten) == 0);
	FUZZ_CHECK(h.pidfile_fd == again.pidfile_fd &&
	           h.pidfile_dir == again.pidfile_dir &&
	           h.log_fd == again.log_fd);
	FUZZ_CHECK(strcmp(h.pidfile_name, again.pidfile_name) == 0);
	FUZZ_CHECK(strcmp(h.log_path, again.log_path) == 0);
	FUZZ_CHECK(strcmp(h.syslog_facility, again.syslog_facility) == 0);
	FUZZ_CHECK(strcmp(h.ident, again.ident) == 0);
	FUZZ_CHECK(h.uid == again.uid && h.gid == again.gid &&
	           h.ctl_gid == again.ctl_gid && h.debug == again.debug &&
	           h.reconnect_timeout == again.reconnect_timeout);
	FUZZ_CHECK(h.request_len == again.request_len &&
	           memcmp(h.request, again.request, h.request_len) == 0);
	handover_release(&again);
	handover_release(&h);
	strbuf_release(&sb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size < 1)
		return 0;
	text = fuzz_memdup(data + 1, size - 1);
	if ((data[0] & 1) == 0)
		front_conf(text, size - 1);
	else
		handover(text, size - 1);
	free(text);
	return 0;
}
