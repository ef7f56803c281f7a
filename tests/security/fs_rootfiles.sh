#!/bin/bash
# Attack: neutron runs `haproxy -f CONF` as root on a config its agent wrote
# as another user; whoever can write that config must not reach root's
# files through it. With the config (and its directory) owned by nobody:
#   - `user root`, `user 0`, another user, `group root`: refused;
#   - a pidfile naming a root file in a root directory, a file that is not
#     a pidfile in the owner's directory, a hard link of a root pidfile, a
#     directory others may write (sticky or not), a path through a
#     symbolic link: refused;
# and whoever names it (the config, -p, run --pid-file, stop --pid-file),
# an existing file that is neither empty nor a pidfile (a pid with a
# leading zero, "0123", is not one) is never truncated nor removed. Each refusal: exit 78, one stderr line, the sentinels'
# bytes, inode and times unchanged, no process left. Controls: a
# neutron-style config owned by nobody serves with its pidfile in a
# nobody-owned 0755 directory, and an existing "123\n" is reused.
# Sentinels are copies in a temporary directory, never system files.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/fs_lib.sh"

if ! need_root "a config owned by another user" ||
	! getent passwd nobody >/dev/null || ! getent group nogroup >/dev/null; then
	[ "$IS_ROOT" -eq 1 ] && skip "a config owned by nobody" "no user nobody or group nogroup"
	finish
fi

# A short root: the agent's socket path is limited.
R=$(mktemp -d /tmp/nmp-rf.XXXXXX) || exit 1
at_exit "rm -rf '$R'"
chmod 0711 "$R"
mkdir -m 0755 "$R/etc" "$R/home" "$R/home/pids" "$R/home/open" "$R/conf"
ln -s "$R/etc" "$R/home/link"
ln -s "$R/home/pids" "$R/home/pidlink"
chmod 1777 "$R/home/open"
chown -h nobody:nogroup "$R/home" "$R/home/pids" "$R/home/open" "$R/conf" \
	"$R/home/link" "$R/home/pidlink"
CONF=$R/conf/$ID.conf
SOCK=$R/a.sock
REC=$R/rec.jsonl

# The sentinels: "root's files" in a root directory, and a file holding
# data in the owner's directory (root's, as root would have made it).
plant_sentinels "$R" etc/shadow etc/other.pid home/pids/data
printf '4242\n' >"$R/etc/other.pid"
ln "$R/etc/other.pid" "$R/home/pids/linked.pid"
SENTINELS+=("$R/home/pids/linked.pid")
SENTINELS_BEFORE=$(sentinels_now)

# config USER GROUP PIDFILE PORT: a neutron-style config, owned by nobody.
config() {
	cat >"$CONF" <<EOF
global
    log /dev/log local0 info
    log-tag haproxy-metadata-proxy-$ID
    user $1
    group $2
    maxconn 1024
    pidfile $3
defaults
    log global
    mode http
    option http-server-close
    option forwardfor
    retries 3
    timeout http-request 30s
    timeout connect 30s
    timeout client 32s
    timeout server 32s
    timeout http-keep-alive 30s
listen listener
    bind 127.0.0.1:$4
    server metadata $SOCK
    http-request del-header X-Neutron-Router-ID
    http-request set-header X-Neutron-Network-ID $ID
EOF
	chmod 0644 "$CONF"
	chown nobody:nogroup "$CONF"
}

# front NAME CODE NEEDLE ARGS...: `haproxy ARGS -f CONF` (5 s at most: a
# binary that takes the config serves in the foreground) is refused with
# CODE and one line holding NEEDLE; the sentinels are as they were, no
# process carries the config's path.
front() {
	local name=$1 code=$2 needle=$3
	shift 3
	LAST_CMD="$(quote_cmd "$BIN" haproxy "$@" -f "$CONF")"
	timeout -k 2 5 "$BIN" haproxy "$@" -f "$CONF" </dev/null >"$T/out" 2>"$T/err"
	RC=$?
	refused "$name" "$code" "$needle"
	sentinels_intact "$name"
	no_process_with "$name" "$CONF"
}

pick_port
P=$PORT

# --- the account --------------------------------------------------------
config root nogroup "$R/home/pids/a.pid" "$P"
front "user root" 78 "line 4: 'user root'"
config 0 nogroup "$R/home/pids/a.pid" "$P"
front "user 0" 78 "line 4: 'user 0'"
OTHER=daemon
getent passwd "$OTHER" >/dev/null || OTHER=bin
config "$OTHER" nogroup "$R/home/pids/a.pid" "$P"
front "user $OTHER" 78 "line 4: 'user $OTHER'"
config nobody root "$R/home/pids/a.pid" "$P"
front "group root" 78 "line 5: 'group root'"
[ ! -e "$R/home/pids/a.pid" ] && ok "account refusals: no pidfile made" ||
	fail "account refusals: no pidfile made" "$R/home/pids/a.pid exists"

# --- the config's pidfile -----------------------------------------------
config nobody nogroup "$R/etc/shadow" "$P"
front "pidfile in a root directory" 78 "line 7: 'pidfile $R/etc/shadow': its directory is owned neither"
config nobody nogroup "$R/etc/new.pid" "$P"
front "new pidfile in a root directory" 78 "line 7: 'pidfile $R/etc/new.pid'"
[ ! -e "$R/etc/new.pid" ] && ok "root directory: nothing made" ||
	fail "root directory: nothing made" "$R/etc/new.pid exists"
config nobody nogroup "$R/home/pids/data" "$P"
front "pidfile holding data" 78 "not a pidfile: it holds other data"
config nobody nogroup "$R/home/pids/linked.pid" "$P"
front "pidfile with another link" 78 "more than one hard link"
config nobody nogroup "$R/home/link/shadow" "$P"
front "pidfile through a symlinked directory" 78 "through a symbolic link"
config nobody nogroup "$R/home/pidlink/x.pid" "$P"
front "pidfile through a symlink to the owner's directory" 78 "through a symbolic link"
config nobody nogroup "$R/home/open/x.pid" "$P"
front "pidfile in a sticky world-writable directory" 78 "writable by group or others"
chmod 0775 "$R/home/pids"
front "pidfile in a group-writable directory" 78 "writable by group or others"
chmod 0755 "$R/home/pids"
[ -z "$(ls -A "$R/home/open")" ] && ok "open directory: nothing made" ||
	fail "open directory: nothing made" "$(ls -A "$R/home/open")"

# --- -p: the caller's choice, still never a file of other data ----------
config nobody nogroup "$R/home/pids/a.pid" "$P"
front "-p naming a file of data" 78 "not a pidfile: it holds other data" -p "$R/etc/shadow"

# --- run and stop --pid-file ----------------------------------------------
fs_state "$R/state"
mkdir -m 0755 "$S"
runf run "${O[@]}" --pid-file "$R/etc/shadow"
refused "run --pid-file naming a file of data" 78 "not a pidfile: it holds other data"
not_run "run --pid-file naming a file of data"
sentinels_intact "run --pid-file naming a file of data"
runb stop "${O[@]}" --pid-file "$R/etc/shadow"
refused "stop --pid-file naming a file of data" 78 "not a pidfile: it holds other data"
sentinels_intact "stop --pid-file naming a file of data"
# "0123\n": no writer of pidfiles puts a leading zero (nor does the grammar
# of numbers take one): data, never pid 123 (or octal 83) to take over.
printf '0123\n' >"$R/home/zero.pid"
chmod 0644 "$R/home/zero.pid"
ZERO_BEFORE=$(fingerprint "$R/home/zero.pid")
runf run "${O[@]}" --pid-file "$R/home/zero.pid"
refused "run --pid-file naming '0123'" 78 "cannot open pidfile '$R/home/zero.pid': not a pidfile: it holds other data"
not_run "run --pid-file naming '0123'"
runb stop "${O[@]}" --pid-file "$R/home/zero.pid"
refused "stop --pid-file naming '0123'" 78 "not a pidfile: it holds other data"
check "'0123' untouched by run and stop" "$(fingerprint "$R/home/zero.pid")" "$ZERO_BEFORE"

# --- controls -------------------------------------------------------------
# A pidfile of "123\n" is a stale pidfile: run takes it over.
printf '123\n' >"$R/home/stale.pid"
runf run "${O[@]}" --pid-file "$R/home/stale.pid"
expect_code "run: a stale pidfile is reused" 0 "$RC"
[ -e "$FAKE_REC" ] && ok "run: haproxy ran" || fail "run: haproxy ran" "$(stderr_note)"

# neutron's way: a config owned by nobody, user nobody, the pidfile in a
# nobody-owned 0755 directory, "123\n" already there (root's, as the
# previous proxy left it).
python3 "$AGENT" --socket "$SOCK" --record "$REC" --mode neutron \
	</dev/null >"$R/agent.out" 2>"$R/agent.err" &
AGENT_PID=$!
at_exit 'kill -TERM "$AGENT_PID" 2>/dev/null; reap "$AGENT_PID"'
PF=$R/home/pids/$ID.pid
printf '123\n' >"$PF"
config nobody nogroup "$PF" "$P"
if wait_until -p "$AGENT_PID" "$WAIT_MAX" said_ready "$R/agent.out"; then
	chmod 0666 "$SOCK"
	"$BIN" haproxy -f "$CONF" </dev/null >"$T/out" 2>"$T/err" &
	PROXY_PID=$!
	if wait_until -p "$PROXY_PID" "$WAIT_MAX" listens "$P" &&
		wait_until "$WAIT_MAX" test "$(cat "$PF" 2>/dev/null)" = "$PROXY_PID"; then
		ok "nobody's config: serves, its pidfile holds the pid"
		CODE=$(curl -sS -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/" 2>/dev/null)
		check "nobody's config: answers" "$CODE" 200
		check "nobody's config: runs as nobody" \
			"$(awk '/^Uid:/ {print $2}' "/proc/$PROXY_PID/status")" "$(id -u nobody)"
	else
		fail "nobody's config: serves" "pidfile '$(cat "$PF" 2>/dev/null)'$(stderr_note)"
	fi
	kill -TERM "$PROXY_PID" 2>/dev/null
	reap "$PROXY_PID"
	PROXY_PID=
else
	fail "agent" "the fake agent did not start: $(escape_file "$R/agent.err")"
fi
sentinels_intact "at the end"
no_process_with "at the end" "$CONF"

finish
