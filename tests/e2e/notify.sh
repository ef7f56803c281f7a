#!/bin/bash
# sd_notify: what the proxy tells a service manager. A stand-in for
# systemd's notification socket (tests/support/notify_listener.py) is given
# to the proxy in $NOTIFY_SOCKET, as systemd gives it to a Type=notify
# service, and records every message with the sender's pid.
#
#   NMP_SD_NOTIFY=1|0 bash tests/e2e/notify.sh /path/to/ns-metadata-proxy
#
# With a build that has sd_notify (NMP_SD_NOTIFY=1): the built-in engine
# sends READY=1 from the pid that serves, once its port accepts, and
# STOPPING=1 on SIGTERM before it exits 0; the haproxy engine sends
# READY=1 from the pid that then becomes haproxy, and haproxy does not
# inherit $NOTIFY_SOCKET. Either way a refused start and a daemonized
# proxy send nothing. Without sd_notify (NMP_SD_NOTIFY=0) nothing is ever
# sent while the proxy serves and stops as usual.
set -u

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LISTENER=$SRC/tests/support/notify_listener.py

SD=${NMP_SD_NOTIFY:-}
at_exit bg_stop # what start_bg started

if [ "$SD" != 1 ] && [ "$SD" != 0 ]; then
	skip notify "NMP_SD_NOTIFY is not 1 or 0: the build did not say whether it has sd_notify"
	finish
fi
if [ "$(id -u)" -ne 0 ] || ! command -v curl >/dev/null || ! command -v python3 >/dev/null; then
	skip notify "needs root, curl and python3"
	finish
fi

NSOCK=$T/notify.sock
REC=$T/notify.rec
ASOCK=$T/agent.sock

start_bg() { # OUTFILE COMMAND...: in the background, its pid in BG
	local out=$1
	shift
	"$@" </dev/null >"$out" 2>&1 &
	BG=$!
	BG_PIDS+=("$BG")
}

# start_listener [PROBE_PORT]: a fresh notification socket and record.
start_listener() {
	[ -n "${LISTENER_PID:-}" ] && kill -TERM "$LISTENER_PID" 2>/dev/null && bg_reap "$LISTENER_PID"
	rm -f "$NSOCK" "$REC" "$T/listener.out"
	: >"$REC"
	start_bg "$T/listener.out" python3 "$LISTENER" --socket "$NSOCK" --record "$REC" ${1:+--probe-port "$1"}
	LISTENER_PID=$BG
	wait_until 50 said_ready "$T/listener.out"
}

# message KEY: the first recorded message with KEY=1, as "pid port_open
# status" (port_open: True, False or None); empty when there is none.
message() {
	python3 - "$REC" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    m = json.loads(line)
    if m["fields"].get(sys.argv[2]) == "1":
        print(m["pid"], m.get("port_open"), m["fields"].get("STATUS", "-"))
        break
PY
}
has_message() { [ -n "$(message "$1")" ]; }
served() {
	[ "$(curl -sS --noproxy '*' -o /dev/null -w '%{http_code}' --max-time 2 \
		"http://127.0.0.1:$PORT/latest/meta-data/" 2>/dev/null)" = 200 ]
}

start_bg "$T/agent.out" python3 "$AGENT" --socket "$ASOCK" --record "$T/agent.rec"
wait_until 50 said_ready "$T/agent.out" || {
	fail agent "the fake agent did not get ready"
	finish
}

# run_args DIR: the options of one proxy with its own state path and port.
run_args() {
	mkdir -p "$1"
	pick_port || exit 2
	RA=(--network-id "$ID" --state-path "$1" --metadata-proxy-socket "$ASOCK"
		--bind-address 127.0.0.1 --metadata-port "$PORT")
}

# --- built-in engine, foreground --------------------------------------------
run_args "$T/s-builtin"
start_listener "$PORT"
NOTIFY_SOCKET=$NSOCK start_bg "$T/builtin.out" "$BIN" run --engine builtin "${RA[@]}"
FG=$BG
if [ "$SD" = 1 ]; then
	if wait_until 50 has_message READY; then
		read -r pid open status <<<"$(message READY)"
		assert builtin-ready-pid "READY=1 came from pid $pid, not the proxy $FG" [ "$pid" = "$FG" ]
		assert builtin-ready-listening "the port did not accept when READY=1 arrived" [ "$open" = True ]
		assert builtin-ready-status "STATUS is '$status', not 'serving'" [ "$status" = serving ]
	else
		fail builtin-ready "no READY=1 within 5 s: $(head -c 300 "$T/builtin.out")"
	fi
	assert builtin-serves "no 200 through the proxy" served
	kill -TERM "$FG"
	if wait_until 50 has_message STOPPING; then
		read -r pid _ <<<"$(message STOPPING)"
		assert builtin-stopping-pid "STOPPING=1 came from pid $pid, not $FG" [ "$pid" = "$FG" ]
	else
		fail builtin-stopping "no STOPPING=1 within 5 s of SIGTERM"
	fi
else
	assert builtin-serves "no 200 through the proxy" wait_until 50 served
	kill -TERM "$FG"
fi
bg_reap "$FG"
expect_code builtin-sigterm-exit 0 "$REAPED"
if [ "$SD" = 0 ]; then
	assert builtin-no-notify "a build without sd_notify sent: $(head -c 300 "$REC")" [ ! -s "$REC" ]
fi

# --- the watchdog: WATCHDOG=1 from the loop, for run and fleet serve ---------
# watchdogs PID: how many WATCHDOG=1 came from PID.
watchdogs() {
	python3 - "$REC" "$1" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    m = json.loads(line)
    n += m["fields"].get("WATCHDOG") == "1" and str(m["pid"]) == sys.argv[2]
print(n)
PY
}
three_watchdogs() { [ "$(watchdogs "$1")" -ge 3 ]; }
run_args "$T/s-watchdog"
for what in run fleet; do
	start_listener
	if [ "$what" = run ]; then
		WATCHDOG_USEC=200000 NOTIFY_SOCKET=$NSOCK start_bg "$T/wd.out" "$BIN" run --engine builtin "${RA[@]}"
	else
		WATCHDOG_USEC=200000 NOTIFY_SOCKET=$NSOCK start_bg "$T/wd.out" "$BIN" fleet serve \
			--control-socket "$T/wd.sock" --state-path "$T/s-watchdog"
	fi
	FG=$BG
	if [ "$SD" = 1 ]; then
		assert "watchdog-$what" "fewer than 3 WATCHDOG=1 from pid $FG in 3 s (WATCHDOG_USEC 200 ms): $(watchdogs "$FG")" \
			wait_until 30 three_watchdogs "$FG"
	else
		sleep 0.5
		assert "watchdog-$what-none" "a build without sd_notify sent: $(head -c 300 "$REC")" [ ! -s "$REC" ]
	fi
	kill -TERM "$FG"
	bg_reap "$FG"
	expect_code "watchdog-$what-exit" 0 "$REAPED"
done

# --- haproxy engine, foreground ---------------------------------------------
haproxy_is() { [ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$(readlink -f /usr/sbin/haproxy)" ]; }
if [ ! -x /usr/sbin/haproxy ]; then
	skip haproxy-ready "no /usr/sbin/haproxy"
else
	run_args "$T/s-haproxy"
	start_listener
	NOTIFY_SOCKET=$NSOCK start_bg "$T/haproxy.out" "$BIN" run --engine haproxy "${RA[@]}"
	FG=$BG
	if [ "$SD" = 1 ]; then
		if wait_until 50 has_message READY; then
			read -r pid _ status <<<"$(message READY)"
			assert haproxy-ready-pid "READY=1 came from pid $pid, not $FG" [ "$pid" = "$FG" ]
			assert haproxy-ready-status "STATUS is '$status'" [ "$status" = "starting haproxy" ]
		else
			fail haproxy-ready "no READY=1 within 5 s: $(head -c 300 "$T/haproxy.out")"
		fi
	fi
	assert haproxy-same-pid "pid $FG did not become haproxy" wait_until 50 haproxy_is "$FG"
	assert haproxy-serves "no 200 through haproxy" wait_until 50 served
	assert haproxy-no-notify-socket "haproxy inherited NOTIFY_SOCKET" \
		bash -c "! tr '\0' '\n' </proc/$FG/environ | grep -q '^NOTIFY_SOCKET='"
	if [ "$SD" = 0 ]; then
		assert haproxy-no-notify "a build without sd_notify sent: $(head -c 300 "$REC")" [ ! -s "$REC" ]
	fi
	kill -TERM "$FG"
	bg_reap "$FG"
fi

# --- a refused start sends nothing --------------------------------------------
start_listener
run_args "$T/s-refused"
NOTIFY_SOCKET=$NSOCK timeout 20 "$BIN" run --engine builtin "${RA[@]}" \
	--metadata-proxy-user nmp-no-such-user </dev/null >"$T/refused.out" 2>&1
expect_code refused-exit 67 $?
sleep 0.2
assert refused-no-notify "a refused start sent: $(head -c 300 "$REC")" [ ! -s "$REC" ]

# --- a daemon sends nothing: it is not the process the manager started -------
run_args "$T/s-daemon"
start_listener
NOTIFY_SOCKET=$NSOCK timeout 20 "$BIN" run --engine builtin --daemonize "${RA[@]}" </dev/null >"$T/daemon.out" 2>&1
expect_code daemon-start 0 $?
assert daemon-serves "no 200 through the daemon" wait_until 50 served
sleep 0.2
assert daemon-no-notify "a daemonized proxy sent: $(head -c 300 "$REC")" [ ! -s "$REC" ]
timeout 20 "$BIN" stop --network-id "$ID" --state-path "$T/s-daemon" >/dev/null 2>&1
expect_code daemon-stop 0 $?

finish
