#!/usr/bin/env bash
# Log files across the privilege drop and rotation, as on a node: the
# built-in engine, started as root, creates its --log-file and drops to
# --metadata-proxy-user; SIGHUP must still open the file again, and the
# package's logrotate snippet (debian/ns-metadata-proxy.logrotate) must
# rotate it: rename, a new file with the same owner, SIGHUP, the next line
# in the new file, owned by the proxy's user, mode 0640 or stricter.
#
#   bash tests/e2e/logrotate.sh /path/to/ns-metadata-proxy
#
# Needs root (the drop) and a private PID namespace for the logrotate case
# (its postrotate signals every process of the proxy's name: in the
# namespace, those are only the ones this test started).

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

SNIPPET=$SRC/debian/ns-metadata-proxy.logrotate
USER_=nobody
GROUP_=nogroup
getent group "$GROUP_" >/dev/null || GROUP_=nobody

if [ "$IS_ROOT" != 1 ]; then
	skip "logrotate" "needs root: the proxy drops from root to $USER_"
	finish
fi

# start_proxy LOGFILE: the built-in engine, daemonized, logging to LOGFILE;
# PROXY_PID from its pidfile.
start_proxy() {
	"$BIN" run --engine builtin --daemonize --network-id "$ID" \
		--state-path "$D" --pid-file "$D/p.pid" \
		--metadata-proxy-socket "$SOCK" \
		--bind-address 127.0.0.1 --metadata-port "$PORT" \
		--metadata-proxy-user "$USER_" --metadata-proxy-group "$GROUP_" \
		--log-file "$1" </dev/null >"$D/run.out" 2>"$D/run.err"
	RC=$?
	PROXY_PID=$(cat "$D/p.pid" 2>/dev/null)
	PROXY_STOP=("$BIN" stop --network-id "$ID" --state-path "$D" --pid-file "$D/p.pid")
	[ "$RC" -eq 0 ] && [ -n "$PROXY_PID" ]
}

# logged FILE PATH: FILE has the access line of a request for PATH.
logged() {
	grep -qF "\"GET $2 HTTP/1.1\"" "$1" 2>/dev/null
}

# owned_and_private NAME FILE: FILE belongs to the proxy's user and group,
# and gives nothing to others and no write to the group (0640 at most).
owned_and_private() {
	local st
	st=$(stat -c '%U:%G %a' "$2" 2>/dev/null)
	assert "$1: owned by $USER_:$GROUP_" "$2 is $st" \
		[ "${st% *}" = "$USER_:$GROUP_" ]
	assert "$1: mode 0640 or stricter" "$2 is $st" \
		[ $((8#${st#* } & 8#137)) -eq 0 ]
}

# daemon_stop NAME: `stop` succeeds and the daemon (not our child: no
# reaping; a zombie until init collects it) is gone.
daemon_stop() {
	timeout 20 "${PROXY_STOP[@]}" </dev/null >"$D/stop.out" 2>"$D/stop.err"
	expect_code "$1: stop" 0 $?
	assert "$1: gone" "pid $PROXY_PID still alive" wait_until 50 not alive "$PROXY_PID"
	PROXY_PID=
}

# request NAME PATH: 200 through the proxy.
request() {
	http "$URL$2"
	expect_code "$1: GET $2" 200 "$CODE"
}

# --- 1. SIGHUP without rotation: the file it has, opened again ------------
# The log directory is root's (as /var/log/ns-metadata-proxy): the proxy's
# user cannot create a file there, only open its own.
case_begin hup-same-file
chmod 0755 "$D"
mkdir -m 0755 "$D/log"
agent_start normal
if start_proxy "$D/log/proxy.log"; then
	ok "$CASE: started"
	owned_and_private "$CASE: log file" "$D/log/proxy.log"
	request "$CASE" /before
	wait_until 30 logged "$D/log/proxy.log" /before
	assert "$CASE: request logged" "$(escape_file "$D/log/proxy.log" 300)" \
		logged "$D/log/proxy.log" /before
	kill -HUP "$PROXY_PID"
	request "$CASE" /after-hup
	wait_until 30 logged "$D/log/proxy.log" /after-hup
	assert "$CASE: the next line in the same file" "$(escape_file "$D/log/proxy.log" 400)" \
		logged "$D/log/proxy.log" /after-hup
	assert "$CASE: no reopen failure" "$(escape_file "$D/log/proxy.log" 400)" \
		not grep -q 'cannot reopen' "$D/log/proxy.log"
	proxy_alive "$CASE: still serving after SIGHUP" "$D/log/proxy.log"
	daemon_stop "$CASE"
else
	fail "$CASE: started" "exit $RC: $(escape_file "$D/run.err" 300)"
fi
case_end

# --- 2. rename, SIGHUP: a new file the proxy's user creates ----------------
# The log directory belongs to the proxy's user, as /var/log/neutron belongs
# to neutron's.
case_begin rename-hup
chmod 0755 "$D"
mkdir -m 0750 "$D/log"
chown "$USER_:$GROUP_" "$D/log"
agent_start normal
if start_proxy "$D/log/proxy.log"; then
	request "$CASE" /before
	wait_until 30 logged "$D/log/proxy.log" /before
	mv "$D/log/proxy.log" "$D/log/proxy.log.1"
	kill -HUP "$PROXY_PID"
	wait_until 30 test -e "$D/log/proxy.log"
	request "$CASE" /after-rotation
	wait_until 30 logged "$D/log/proxy.log" /after-rotation
	assert "$CASE: the next line in the new file" "$(escape_file "$D/log/proxy.log" 300)" \
		logged "$D/log/proxy.log" /after-rotation
	assert "$CASE: not in the rotated one" "$(escape_file "$D/log/proxy.log.1" 300)" \
		not logged "$D/log/proxy.log.1" /after-rotation
	owned_and_private "$CASE: new file" "$D/log/proxy.log"
	daemon_stop "$CASE"
else
	fail "$CASE: started" "exit $RC: $(escape_file "$D/run.err" 300)"
fi
case_end

# --- 3. the package's logrotate snippet ------------------------------------
# Run as shipped but for the path, by logrotate itself, in a PID namespace
# of its own with the proxy, so that its pkill reaches this proxy only.
case_begin logrotate
chmod 0755 "$D"
mkdir -m 0755 "$D/log"
if ! command -v logrotate >/dev/null; then
	fail "$CASE" "logrotate is not installed (scripts/setup installs it)"
elif ! unshare --pid --fork --mount-proc true 2>"$D/unshare.err"; then
	skip "$CASE" "no private PID namespace: $(head -c 200 "$D/unshare.err")"
else
	sed "s|^/var/log/ns-metadata-proxy/\*\.log|$D/log/*.log|" "$SNIPPET" >"$D/rotate.conf"
	assert "$CASE: the snippet names the package's log directory" \
		"$(escape_file "$SNIPPET" 200)" grep -qF "$D/log/*.log {" "$D/rotate.conf"
	chmod 0644 "$D/rotate.conf"
	agent_start normal
	# One script in the namespace: start, a request, rotate, a request,
	# stop; it reports what it saw as "key value" lines.
	unshare --pid --fork --mount-proc bash -c '
		BIN=$1 D=$2 ID=$3 PORT=$4 SOCK=$5 U=$6 G=$7
		"$BIN" run --engine builtin --daemonize --network-id "$ID" \
			--state-path "$D" --pid-file "$D/p.pid" \
			--metadata-proxy-socket "$SOCK" \
			--bind-address 127.0.0.1 --metadata-port "$PORT" \
			--metadata-proxy-user "$U" --metadata-proxy-group "$G" \
			--log-file "$D/log/proxy.log" 2>"$D/run.err" || { echo "start $?"; exit 0; }
		echo "start 0"
		curl -sS -o /dev/null -w "before %{http_code}\n" --max-time 10 "http://127.0.0.1:$PORT/before"
		for _ in $(seq 30); do grep -qF "\"GET /before\"" "$D/log/proxy.log" && break; sleep 0.1; done
		logrotate --force --state "$D/rotate.state" "$D/rotate.conf" >"$D/rotate.out" 2>&1
		echo "logrotate $?"
		for _ in $(seq 30); do
			[ "$(stat -L -c %i "/proc/$(cat "$D/p.pid")/fd/2" 2>/dev/null)" = \
				"$(stat -c %i "$D/log/proxy.log" 2>/dev/null)" ] && break
			sleep 0.1
		done
		curl -sS -o /dev/null -w "after %{http_code}\n" --max-time 10 "http://127.0.0.1:$PORT/after-rotation"
		for _ in $(seq 30); do grep -qF "\"GET /after-rotation\"" "$D/log/proxy.log" && break; sleep 0.1; done
		"$BIN" stop --network-id "$ID" --state-path "$D" --pid-file "$D/p.pid" >/dev/null 2>&1
		echo "stop $?"
	' rotate "$BIN" "$D" "$ID" "$PORT" "$SOCK" "$USER_" "$GROUP_" >"$D/ns.out" 2>"$D/ns.err"
	said() {
		grep -qx "$1" "$D/ns.out"
	}
	assert "$CASE: started" "$(escape_file "$D/ns.out" 200) $(escape_file "$D/run.err" 200)" said "start 0"
	assert "$CASE: served before" "$(escape_file "$D/ns.out" 200)" said "before 200"
	assert "$CASE: logrotate succeeded" "$(escape_file "$D/rotate.out" 300)" said "logrotate 0"
	assert "$CASE: served after" "$(escape_file "$D/ns.out" 200)" said "after 200"
	assert "$CASE: rotated file kept" "$(ls -l "$D/log" | tr '\n' ' ')" test -f "$D/log/proxy.log.1"
	assert "$CASE: the line before in the rotated file" "$(escape_file "$D/log/proxy.log.1" 300)" \
		logged "$D/log/proxy.log.1" /before
	assert "$CASE: the next line in the new file" "$(escape_file "$D/log/proxy.log" 300)" \
		logged "$D/log/proxy.log" /after-rotation
	assert "$CASE: no reopen failure" "$(escape_file "$D/log/proxy.log" 300)" \
		not grep -q 'cannot reopen' "$D/log/proxy.log" "$D/log/proxy.log.1"
	owned_and_private "$CASE: new file" "$D/log/proxy.log"
	assert "$CASE: stopped" "$(escape_file "$D/ns.out" 200)" said "stop 0"
fi
case_end

finish
