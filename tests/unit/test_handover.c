/*
 * The handover (fleet/handover.h): what the haproxy front writes for the
 * stub it becomes, read back whole or refused with a reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fleet/handover.h"

#define REQ "{\"v\":1,\"op\":\"add\",\"hold\":true}"

static char req[] = REQ;
static char two_lines[] = "{\n}";

static void
sample(struct handover *h)
{
	memset(h, 0, sizeof(*h));
	(void)snprintf(
	    h->id, sizeof(h->id), "%s", "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f");
	(void)snprintf(h->control_socket, sizeof(h->control_socket), "%s",
	    "/run/ns-metadata-proxy/fleet.sock");
	h->reconnect_timeout = 7;
	h->conn = 3;
	h->listen[0] = 9;
	h->listen[1] = 10;
	h->nlisten = 2;
	h->pidfile_fd = 5;
	h->pidfile_dir = 4;
	(void)snprintf(h->pidfile_name, sizeof(h->pidfile_name), "%s",
	    "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f.pid.haproxy");
	h->log_fd = -1;
	(void)snprintf(
	    h->syslog_facility, sizeof(h->syslog_facility), "%s", "local0");
	(void)snprintf(h->ident, sizeof(h->ident), "%s", "haproxy-metadata");
	h->debug = true;
	h->uid = 65534;
	h->gid = 65534;
	h->ctl_gid = 107;
	h->request = req;
	h->request_len = strlen(REQ);
}

static void
test_round_trip(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct handover h, back;
	char why[160] = "";

	(void)state;
	sample(&h);
	assert_int_equal(handover_write(&h, &sb), 0);
	assert_int_equal(
	    handover_parse(sb.buf, sb.len, &back, why, sizeof(why)), 0);
	assert_string_equal(back.id, h.id);
	assert_string_equal(back.control_socket, h.control_socket);
	assert_int_equal(back.reconnect_timeout, 7);
	assert_int_equal(back.conn, 3);
	assert_int_equal(back.nlisten, 2);
	assert_int_equal(back.listen[0], 9);
	assert_int_equal(back.listen[1], 10);
	assert_int_equal(back.pidfile_fd, 5);
	assert_int_equal(back.pidfile_dir, 4);
	assert_string_equal(back.pidfile_name, h.pidfile_name);
	assert_int_equal(back.log_fd, -1);
	assert_string_equal(back.log_path, "");
	assert_string_equal(back.syslog_facility, "local0");
	assert_string_equal(back.ident, "haproxy-metadata");
	assert_true(back.debug);
	assert_int_equal(back.uid, 65534);
	assert_int_equal(back.gid, 65534);
	assert_int_equal(back.ctl_gid, 107);
	assert_int_equal(back.request_len, strlen(REQ));
	assert_string_equal(back.request, REQ);
	handover_release(&back);
	strbuf_release(&sb);
}

static void
test_write_refuses(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct handover h;

	(void)state;
	sample(&h);
	h.request = two_lines;
	h.request_len = 3;
	assert_int_equal(handover_write(&h, &sb), -EINVAL);
	sample(&h);
	h.nlisten = 0;
	assert_int_equal(handover_write(&h, &sb), -EINVAL);
	strbuf_release(&sb);
}

/* The sample's text with from replaced by to: refused, why holding word. */
static void
refused(const char *from, const char *to, const char *word)
{
	struct strbuf sb = STRBUF_INIT, edited = STRBUF_INIT;
	struct handover h, back;
	char why[160] = "";
	const char *at;

	sample(&h);
	assert_int_equal(handover_write(&h, &sb), 0);
	at = strstr(sb.buf, from);
	assert_non_null(at);
	(void)strbuf_appendn(&edited, sb.buf, (size_t)(at - sb.buf));
	(void)strbuf_append(&edited, to);
	(void)strbuf_append(&edited, at + strlen(from));
	assert_int_equal(
	    handover_parse(edited.buf, edited.len, &back, why, sizeof(why)),
	    -EINVAL);
	if (strstr(why, word) == NULL)
		fail_msg("'%s' -> '%s': reason '%s' lacks '%s'", from, to, why,
		    word);
	assert_null(back.request);
	strbuf_release(&sb);
	strbuf_release(&edited);
}

static void
test_refused(void **state)
{
	(void)state;
	refused("id=3f1c2d4e", "id=3F1C2D4E", "'id'");
	refused("conn=3\n", "", "no 'conn'");
	refused("conn=3\n", "conn=-1\n", "'conn'");
	refused("conn=3\n", "conn=03\n", "'conn'");
	refused("listen=9,10\n", "listen=9,10,11\n", "'listen'");
	refused("listen=9,10\n", "listen=9,\n", "'listen'");
	refused("listen=9,10\n", "listen=\n", "'listen'");
	refused("pidfile_dir=4\n", "pidfile_dir=-1\n", "directory");
	refused("pidfile_name=3f1c", "pidfile_name=../3f1c", "'pidfile_name'");
	refused("control_socket=/run", "control_socket=run", "");
	refused("reconnect_timeout=7", "reconnect_timeout=0", "");
	refused("syslog=local0", "syslog=local9", "'syslog'");
	refused("debug=1", "debug=yes", "'debug'");
	refused("uid=65534\n", "uid=4294967295\n", "'uid'");
	refused("ctl_gid=107\n", "ctl_gid=107\nextra=1\n", "unknown");
	refused("ctl_gid=107\n", "ctl_gid=107\nno equals\n", "'='");
	refused("request=", "request=" REQ "\nrequest=", "twice");
	refused("request=" REQ "\n", "request=\n", "empty");
	refused("request=" REQ "\n", "request=" REQ, "no end");
	refused("request=" REQ "\n", "", "no 'request'");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_write_refuses),
	    cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
