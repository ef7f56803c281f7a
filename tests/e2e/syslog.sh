#!/bin/bash
# Logging to syslog on a node where /dev/log listens, as journald or
# rsyslog make it on every real network node: the lines arrive with the
# right tag and severity, and logging never costs the process its life.
#
#   bash tests/support/devlog.sh bash tests/e2e/syslog.sh /path/to/ns-metadata-proxy
#
# Needs NMP_SYSLOG_OUT, the file where a listener on /dev/log writes every
# line it receives (tests/support/devlog.sh provides both); without it every
# case is skipped with the reason. A daemon that logs through syslog(3)
# holds libc's socket to /dev/log; closing descriptors behind libc's back,
# reusing that descriptor number or dropping privileges can break it, and
# only a listening /dev/log shows it: with none, syslog(3) sends nothing.
# So each case checks not only that its lines arrive but that the process
# is still alive and serving (the pidfile holds its live pid, a request
# through it gets 200 and the agent's answer) 3 s after its first line.
#
# Cases: the haproxy-compatible front on a config rendered by neutron's own
# code, daemonized (-D -p) and in the foreground (-db); the built-in engine
# as a daemon, without a log file, with --use-syslog, and dropping to
# nobody:nogroup, through SIGHUP and SIGTERM; the haproxy engine (the
# launcher's line and haproxy's own access log); a start that fails on a
# port in use (the error in syslog and on stderr); and /dev/log reached
# from inside a network namespace. Every case has its own directory, uuid,
# port and agent; only processes this script started are stopped, by pid.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RENDER=$SRC/tests/support/neutron_render.py
PY=/usr/bin/python3 # Debian's, where python3-neutron is
SYSLOG=${NMP_SYSLOG_OUT:-}
NAME=ns-metadata-proxy # the tag of the tested binary: syslog's ident is argv[0]'s name
SETTLE=3 # seconds a process must live on after its first log line
NS=

# The severities syslog lines carry (PRI mod 8).
SEV_ERR=3
SEV_WARNING=4
SEV_INFO=6

HAVE_NEUTRON=0
if "$PY" -c 'import neutron.agent.metadata.driver' 2>/dev/null; then
	HAVE_NEUTRON=1
fi
HAPROXY=
for h in /usr/sbin/haproxy /usr/local/sbin/haproxy; do
	if [ -x "$h" ]; then
		HAPROXY=$h
		break
	fi
done
# The user a proxy drops to: nobody:nogroup where root can, as on a node.
DROP=0
PROXY_USER=$NMP_USER
PROXY_GROUP=$NMP_GROUP
if [ "$IS_ROOT" = 1 ] && getent passwd nobody >/dev/null && getent group nogroup >/dev/null; then
	DROP=1
	PROXY_USER=nobody
	PROXY_GROUP=nogroup
fi

# Every case's uuid: at exit, a serving process (the tested binary or
# haproxy) carrying one in its command line is ours, left by a case that went
# wrong (a daemon whose pidfile lost its pid), and is killed.
UUIDS=()
BIN_EXE=$(readlink -f -- "$BIN")
uuid() {
	U=$(cat /proc/sys/kernel/random/uuid)
	UUIDS+=("$U")
}

# shellcheck disable=SC2317 # run at exit
kill_strays() {
	local u p exe
	for u in "${UUIDS[@]}"; do
		for p in $(pgrep -f -- "$u"); do
			[ "$p" = $$ ] && continue
			exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue
			if [ "$exe" = "$BIN_EXE" ] || [ "${exe##*/}" = haproxy ]; then
				kill -KILL "$p" 2>/dev/null
			fi
		done
	done
}
at_exit kill_strays

# --- reading the syslog file ----------------------------------------------------
# Each case reads only the lines that arrived since its mark.

mark() {
	MARK=$(wc -l <"$SYSLOG")
}

since_mark() {
	tail -n +"$((MARK + 1))" "$SYSLOG"
}

# tagged TAG: the lines since the mark sent by TAG (tags here are letters,
# digits and dashes), as "SEVERITY PID MESSAGE": a syslog(3) line is
# "<PRI>Mon DD HH:MM:SS TAG[PID]: MESSAGE", its severity PRI mod 8.
# shellcheck disable=SC2317 # run through wait_until
tagged() {
	local pri pid msg
	since_mark |
		sed -nE "s/^<([0-9]{1,3})>[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} $1\[([0-9]+)\]: (.*)\$/\1 \2 \3/p" |
		while read -r pri pid msg; do
			printf '%s %s %s\n' "$((pri % 8))" "$pid" "$msg"
		done
}

# logged TAG SEVERITY ERE: a line since the mark from TAG at SEVERITY
# (a digit or a bracket expression) whose message matches ERE.
# shellcheck disable=SC2317 # run through wait_until
logged() {
	tagged "$1" | grep -qE -- "^$2 [0-9]+ .*$3"
}

# logged_exactly TAG SEVERITY MESSAGE: a line since the mark from TAG at
# SEVERITY with exactly MESSAGE.
# shellcheck disable=SC2317 # run through wait_until
logged_exactly() {
	tagged "$1" | cut -d' ' -f1,3- | grep -qxF -- "$2 $3"
}

# syslog_note: the lines since the mark, escaped onto one line, for failures.
syslog_note() {
	local f=$T/since
	since_mark >"$f"
	if [ -s "$f" ]; then
		printf '; syslog since the case began: %s' "$(escape_file "$f" 900)"
	else
		printf '; nothing arrived in syslog since the case began'
	fi
}

# expect_log NAME TAG SEVERITY ERE: the line arrives within WAIT_MAX polls.
expect_log() {
	if wait_until "$WAIT_MAX" logged "$2" "$3" "$4"; then
		ok "$1"
		return 0
	fi
	fail "$1" "no line tagged $2 at severity $3 matching /$4/$(syslog_note)"
	return 1
}

# --- serving -----------------------------------------------------------------

# pid_of_case PIDFILE UUID: the pid in PIDFILE, alive and with UUID in its
# command line (so it is ours, never someone else's reused pid); in PID.
pid_of_case() {
	PID=$(cat "$1" 2>/dev/null)
	[ -n "$PID" ] && alive "$PID" && tr '\0' ' ' <"/proc/$PID/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# answered NAME PATH UUID: a request for PATH through the proxy gets 200
# and the agent's answer: its record of this very request, which carries
# the proxy's identity header for UUID.
answered() {
	local name=$1 path=$2 id=$3 got
	http "$URL$path"
	got=$(j "$D/body" '[d.get("path"), [v for n, v in d.get("headers", []) if n.lower() == "x-neutron-network-id"]]')
	if [ "$CODE" = 200 ] && [ "$got" = "[\"$path\", [\"$id\"]]" ]; then
		ok "$name"
		return 0
	fi
	fail "$name" "HTTP $CODE (curl exit $CURL_RC: $(escape_file "$D/curl.err" 200)); answer $got"
	return 1
}

# settled NAME PIDFILE UUID [WANT_PID]: SETTLE s after the first log line,
# the pidfile holds a live pid of ours (WANT_PID when given) and a request
# through it is answered. PROXY_PID becomes that pid, for case_end.
settled() {
	local name=$1 pf=$2 id=$3 want=${4:-}
	sleep "$SETTLE"
	if pid_of_case "$pf" "$id" && { [ -z "$want" ] || [ "$PID" = "$want" ]; }; then
		ok "$name: alive ${SETTLE} s after its first log line, pidfile holds its pid"
		PROXY_PID=$PID
	else
		local why
		why="pidfile '$(cat "$pf" 2>/dev/null)'"
		if [ -n "$want" ] && ! alive "$want"; then
			# our own child: how it ended says what happened
			reap "$want"
			why+=", pid $want exited with status $REAPED"
			PROXY_PID=
		fi
		fail "$name: alive ${SETTLE} s after its first log line, pidfile holds its pid" \
			"$why; stderr: $(escape_file "$D/run.err" 300)$(syslog_note)"
	fi
	answered "$name: serves ${SETTLE} s after its first log line" "/$CASE_TAG/settled" "$id"
}

# stopped NAME TAG: SIGTERM to PROXY_PID, its stop line arrives under TAG
# and it ends by itself within WAIT_MAX polls (else it is killed, for
# cleanup, and the check fails); REAPED is its status when our child.
stopped() {
	local name=$1 tag=$2 pid=$PROXY_PID ended=1
	if [ -z "$pid" ] || ! alive "$pid"; then
		fail "$name: SIGTERM" "no live process to stop (pid '${pid}')"
		return 1
	fi
	kill -TERM "$pid"
	expect_log "$name: its stop line arrives" "$tag" "$SEV_INFO" "signal 15: no new connections"
	wait_until "$WAIT_MAX" not alive "$pid" || ended=0
	# (bash's "Killed" notice for a child reap had to kill is noise here)
	{ reap "$pid"; } 2>/dev/null
	PROXY_PID=
	if [ "$ended" = 0 ]; then
		fail "$name: SIGTERM ends it" "pid $pid still alive $((WAIT_MAX / 10)) s after SIGTERM (then killed)"
		return 1
	fi
	ok "$name: SIGTERM ends it"
	return 0
}

# render_front PORT PIDFILE: neutron's own code writes the config of a
# network for the front (as the DHCP agent does): CONF, and its log-tag in
# TAG.
render_front() {
	CONF=$("$PY" "$RENDER" --driver neutron --state-path "$D/state" \
		--socket "$SOCK" --user "$PROXY_USER" --group "$PROXY_GROUP" \
		--network-id "$U" --bind 127.0.0.1 --port "$1" --pidfile "$2" \
		2>"$D/render.err")
	if [ -z "$CONF" ] || [ ! -f "$CONF" ]; then
		fail "$CASE: neutron renders the config" "$(escape_file "$D/render.err" 400)"
		return 1
	fi
	TAG=$(sed -nE 's/^ *log-tag +//p' "$CONF")
	if [ "$TAG" = "haproxy-metadata-proxy-$U" ]; then
		ok "$CASE: the config's log-tag is haproxy-metadata-proxy-<id>"
	else
		fail "$CASE: the config's log-tag" "got '$TAG', want 'haproxy-metadata-proxy-$U'"
		return 1
	fi
	return 0
}

# start_case NAME: case_begin, a directory others may enter (a proxy that
# dropped to nobody must reach the agent's socket, 0666), the agent, a
# fresh uuid U, the mark. CASE_TAG is NAME as a path segment.
start_case() {
	case_begin "$1" || return 1
	CASE_TAG=$(printf '%s' "$1" | tr -c 'A-Za-z0-9' '-')
	chmod 0755 "$D"
	uuid
	agent_start normal || return 1
	mark
	return 0
}

# Everything below needs the listener.
if [ -z "$SYSLOG" ]; then
	skip "syslog" "NMP_SYSLOG_OUT is unset: no listening /dev/log (run under tests/support/devlog.sh, as root)"
	finish
fi
if [ ! -S /dev/log ] || [ ! -f "$SYSLOG" ]; then
	skip "syslog" "NMP_SYSLOG_OUT is '$SYSLOG' but /dev/log is no socket or the file is missing"
	finish
fi

# --- 0. the listener itself --------------------------------------------------
# A line sent the ordinary way arrives: else nothing below can mean much.
mark
probe=nmp-syslog-probe-$$
if logger -i -t "$probe" "probe line" 2>"$T/err" && wait_until "$WAIT_MAX" logged "$probe" '[0-7]' "probe line"; then
	ok "/dev/log listens: logger's line arrives"
else
	fail "/dev/log listens" "logger's line did not arrive$(stderr_note)$(syslog_note)"
	finish
fi

# `ip netns exec` gives a command its own mount namespace, a copy of ours:
# /dev/log there is the same socket, so a proxy serving inside a network
# namespace logs to the node's syslog too.
if [ "$IS_ROOT" = 1 ] && ip netns add "nmp-syslog-$$" 2>/dev/null; then
	NS=nmp-syslog-$$
	at_exit "ip netns delete $NS"
	mark
	if ip netns exec "$NS" logger -i -t "$probe" "from a network namespace" 2>"$T/err" &&
		wait_until "$WAIT_MAX" logged "$probe" '[0-7]' "from a network namespace"; then
		ok "/dev/log listens inside a network namespace"
	else
		fail "/dev/log inside a network namespace" "logger's line did not arrive$(stderr_note)$(syslog_note)"
	fi
else
	skip "/dev/log inside a network namespace" "cannot create a network namespace"
fi

# --- a. the front, daemonized: haproxy -f CONF -D -p PIDFILE -----------------
# neutron's agents run `haproxy -f CONF`; the config says daemon, log to
# /dev/log with the log-tag. The front warns (once, at start) that the
# config is weaker than the built-in engine, then daemonizes and serves.
if [ "$HAVE_NEUTRON" = 0 ]; then
	skip "front -D" "python3-neutron is not importable by $PY"
elif start_case "front -D"; then
	PF=$D/p.pid
	mkdir -m 0755 "$D/pids"
	if render_front "$PORT" "$D/pids/$U.pid"; then
		LAST_CMD=$(quote_cmd "$BIN" haproxy -f "$CONF" -D -p "$PF")
		timeout 20 "$BIN" haproxy -f "$CONF" -D -p "$PF" </dev/null >"$D/run.out" 2>"$D/run.err"
		RC=$?
		cp "$D/run.err" "$T/err"
		expect_code "$CASE: returns 0 after daemonizing" 0 "$RC"
		expect_log "$CASE: the weaker-config warning arrives under the log-tag" \
			"$TAG" "$SEV_WARNING" "config for $U is weaker than the built-in engine"
		expect_log "$CASE: the serving line arrives under the log-tag" \
			"$TAG" "$SEV_INFO" "serving network $U on 127\\.0\\.0\\.1 port $PORT"
		settled "$CASE" "$PF" "$U"
		expect_log "$CASE: the request's line arrives" "$TAG" "$SEV_INFO" " 200 [0-9]+ - - ---- .*\"GET /$CASE_TAG/settled HTTP/1\\.1\""
		[ -n "$PROXY_PID" ] && stopped "$CASE" "$TAG"
	fi
fi
case_end

# --- b. the front in the foreground: haproxy -f CONF -db, in the background --
# -db wins over the config's daemon: the pid we started serves, and the
# config's pidfile holds it.
if [ "$HAVE_NEUTRON" = 0 ]; then
	skip "front -db" "python3-neutron is not importable by $PY"
elif start_case "front -db"; then
	mkdir -m 0755 "$D/pids"
	PF=$D/pids/$U.pid
	if render_front "$PORT" "$PF"; then
		LAST_CMD=$(quote_cmd "$BIN" haproxy -f "$CONF" -db)
		"$BIN" haproxy -f "$CONF" -db </dev/null >"$D/run.out" 2>"$D/run.err" &
		FG=$!
		PROXY_PID=$FG
		expect_log "$CASE: the weaker-config warning arrives under the log-tag" \
			"$TAG" "$SEV_WARNING" "config for $U is weaker than the built-in engine"
		settled "$CASE" "$PF" "$U" "$FG"
		expect_log "$CASE: the request's line arrives" "$TAG" "$SEV_INFO" " 200 [0-9]+ - - ---- .*\"GET /$CASE_TAG/settled HTTP/1\\.1\""
		if [ -n "$PROXY_PID" ] && stopped "$CASE" "$TAG"; then
			cp "$D/run.err" "$T/err"
			expect_code "$CASE: SIGTERM ends it with 0" 0 "$REAPED"
		fi
	fi
fi
case_end

# --- c. the built-in engine as a daemon -----------------------------------------
# builtin_case NAME [OPTIONS...]: run --engine builtin --daemonize with
# OPTIONS; its lines arrive under the binary's name; SETTLE s on it serves;
# after SIGHUP (log rotation's signal) it still serves and logs; SIGTERM
# ends it with its stop line.
builtin_case() {
	local name=$1
	shift
	start_case "$name" || return 0
	PF=$D/p.pid
	PROXY_STOP=("$BIN" stop --network-id "$U" --state-path "$D" --pid-file "$PF")
	runb run --engine builtin --daemonize --network-id "$U" --state-path "$D" \
		--metadata-proxy-socket "$SOCK" --bind-address 127.0.0.1 --metadata-port "$PORT" \
		--pid-file "$PF" "$@"
	cp "$T/err" "$D/run.err"
	expect_code "$CASE: returns 0 after daemonizing" 0 "$RC"
	expect_log "$CASE: the serving line arrives under $NAME" \
		"$NAME" "$SEV_INFO" "\\[$U\\] serving network $U on 127\\.0\\.0\\.1 port $PORT"
	settled "$CASE" "$PF" "$U"
	[ -n "$PROXY_PID" ] || return 0
	if [ "$DROP" = 1 ] && [ "$PROXY_USER" = nobody ] && [[ " $* " == *" nobody "* ]]; then
		check "$CASE: runs as nobody" "$(awk '/^Uid:/ {print $3}' "/proc/$PROXY_PID/status")" "$(id -u nobody)"
	fi
	# logged after the start (and after a privilege drop)
	expect_log "$CASE: the request's line arrives" "$NAME" "$SEV_INFO" "\\] $U metadata/agent [-0-9/]+ 200 .*\"GET /$CASE_TAG/settled HTTP/1\\.1\""
	kill -HUP "$PROXY_PID"
	sleep 1
	proxy_alive "$CASE: alive after SIGHUP" "$D/run.err"
	answered "$CASE: serves after SIGHUP" "/$CASE_TAG/after-hup" "$U"
	expect_log "$CASE: logs after SIGHUP" "$NAME" "$SEV_INFO" "\\] $U metadata/agent [-0-9/]+ 200 .*\"GET /$CASE_TAG/after-hup HTTP/1\\.1\""
	stopped "$CASE" "$NAME"
}

# A daemon without a log file logs to syslog.
builtin_case "builtin daemon"
case_end
builtin_case "builtin --use-syslog" --use-syslog
case_end
if [ "$DROP" = 1 ]; then
	builtin_case "builtin --use-syslog as nobody" --use-syslog \
		--metadata-proxy-user nobody --metadata-proxy-group nogroup
	case_end
else
	skip "builtin --use-syslog as nobody" "needs root, user nobody and group nogroup"
fi

# --- d. the haproxy engine ---------------------------------------------------------
# The launcher logs its "starting haproxy" line, then execs haproxy, which
# logs through /dev/log itself (the rendered config's log line and log-tag):
# its access log arrives under haproxy-metadata-proxy-<id>.
if [ -z "$HAPROXY" ]; then
	skip "haproxy engine" "no haproxy in /usr/sbin or /usr/local/sbin"
elif start_case "haproxy engine"; then
	PF=$D/p.pid
	PROXY_STOP=("$BIN" stop --network-id "$U" --state-path "$D" --pid-file "$PF")
	runb run --daemonize --use-syslog --network-id "$U" --state-path "$D" \
		--metadata-proxy-socket "$SOCK" --bind-address 127.0.0.1 --metadata-port "$PORT" \
		--pid-file "$PF"
	cp "$T/err" "$D/run.err"
	expect_code "$CASE: returns 0 after daemonizing" 0 "$RC"
	expect_log "$CASE: the launcher's line arrives under $NAME" \
		"$NAME" "$SEV_INFO" "\\[$U\\] starting [^ ]*haproxy -f [^ ]*/$U\\.conf as a daemon"
	settled "$CASE" "$PF" "$U"
	if [ -n "$PROXY_PID" ]; then
		check "$CASE: haproxy serves" "$(basename "$(readlink "/proc/$PROXY_PID/exe")")" haproxy
		expect_log "$CASE: haproxy's access log arrives under its log-tag" \
			"haproxy-metadata-proxy-$U" "$SEV_INFO" "\"GET /$CASE_TAG/settled HTTP/1\\.1\""
		runb stop --network-id "$U" --state-path "$D" --pid-file "$PF"
		expect_code "$CASE: stop" 0 "$RC"
		pid=$PROXY_PID
		reap "$pid"
		PROXY_PID=
		if alive "$pid"; then
			fail "$CASE: stopped" "pid $pid still alive"
		else
			ok "$CASE: stopped"
		fi
	fi
fi
case_end

# --- e. a start that fails: the error in syslog and on stderr --------------------
# The agent's socket is fine, the port is taken by a listener of ours: the
# built-in engine cannot bind. The failure is one line on stderr and the
# same message at error severity in syslog, in the foreground and when
# daemonizing (the daemon's failure reaches the caller).
# holder_start: a listener of ours on PORT.
holder_start() {
	python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
print("ready", flush=True)
time.sleep(600)
' "$PORT" </dev/null >"$D/holder.out" 2>"$D/holder.err" &
	BG_PIDS+=("$!")
	wait_until -p "$!" "$WAIT_MAX" said_ready "$D/holder.out" && return 0
	fail "$CASE: a listener holds the port" "$(escape_file "$D/holder.err" 300)"
	return 1
}

# failed_start NAME [OPTIONS...]
failed_start() {
	local name=$1 msg want
	shift
	mark
	runb run --engine builtin --use-syslog --network-id "$U" --state-path "$D" \
		--metadata-proxy-socket "$SOCK" --bind-address 127.0.0.1 --metadata-port "$PORT" \
		--pid-file "$D/p.pid" "$@"
	expect_code "$name: exits 69" 69 "$RC"
	if one_line "$T/err" && grep -q 'Address already in use' "$T/err"; then
		ok "$name: one line on stderr says the address is in use"
	else
		fail "$name: one line on stderr says the address is in use" "$(stderr_note)"
	fi
	# stderr "NAME[ID]: MESSAGE" is syslog's "[ID] MESSAGE"
	msg=$(sed -n "s/^$NAME\\[$U\\]: //p" "$T/err" | head -n 1)
	want="[$U] $msg"
	if [ -n "$msg" ] && wait_until "$WAIT_MAX" logged_exactly "$NAME" "$SEV_ERR" "$want"; then
		ok "$name: the same message arrives in syslog at error severity"
	else
		fail "$name: the same message arrives in syslog at error severity" \
			"want '$want' from $NAME at severity $SEV_ERR$(syslog_note)"
	fi
	if [ -s "$D/p.pid" ]; then
		fail "$name: leaves no pidfile" "'$(cat "$D/p.pid")'"
	else
		ok "$name: leaves no pidfile"
	fi
}

if start_case "failing start" && holder_start; then
	failed_start "$CASE, foreground"
	failed_start "$CASE, daemonizing" --daemonize
fi
case_end

finish
