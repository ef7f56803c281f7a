#!/bin/bash
# The haproxy-compatible front: configs rendered by neutron's own code
# (Debian's python3-neutron, run with /usr/bin/python3) and the shapes of
# today's template (written here from its documentation) served by
# `haproxy -f FILE` as neutron's agents run it; refusals with their line;
# -D/-p/-db/-c; neutron's ProcessManager sequence by hand, in a network
# namespace when one can be made. Real curl, the fake agent on a unix
# socket; only processes this script started are stopped, by pid.
#
# neutron's old `neutron-ns-metadata-proxy` command line (daemonized, pid
# alive with the uuid in its command line) is covered by tests/e2e/
# lifecycle.sh, case "neutron", with either engine.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RENDER=$SRC/tests/support/neutron_render.py
PY=/usr/bin/python3 # Debian's, where python3-neutron is
EVIL=deadbeef-dead-4bad-8bad-deadbeefdead
RID=0b9e8d7c-6f5a-4e3d-9c2b-1a0f9e8d7c6b

# The front under the name neutron runs: a symlink of our own.
mkdir -m 0755 "$T/bin"
ln -s "$BIN" "$T/bin/haproxy"
HAP=$T/bin/haproxy

HAVE_NEUTRON=0
if "$PY" -c 'import neutron.agent.metadata.driver, neutron.agent.ovn.metadata.driver' 2>/dev/null; then
	HAVE_NEUTRON=1
fi
HAVE_V6=0
grep -qE '^0{31}1 .* lo$' /proc/net/if_inet6 2>/dev/null && HAVE_V6=1
PROXY_USER=nobody
PROXY_GROUP=nogroup
if ! getent passwd nobody >/dev/null || ! getent group nogroup >/dev/null || [ "$IS_ROOT" = 0 ]; then
	PROXY_USER=$NMP_USER
	PROXY_GROUP=$NMP_GROUP
fi

AGENT_PID=
SERVING=() # pids of proxies we started, stopped at exit
NS=

stop_all() {
	local p
	for p in "${SERVING[@]}"; do
		if alive "$p"; then
			kill -TERM "$p" 2>/dev/null
			wait_until 50 not alive "$p"
			alive "$p" && kill -KILL "$p" 2>/dev/null
		fi
	done
	SERVING=()
	if [ -n "$AGENT_PID" ]; then
		kill -TERM "$AGENT_PID" 2>/dev/null
		reap "$AGENT_PID"
		AGENT_PID=
	fi
}
at_exit stop_all
at_exit '[ -n "$NS" ] && ip netns delete "$NS"'

# A state directory as neutron's agents keep it, reachable by the proxy's
# user.
chmod 0711 "$T"
D=$T/state
mkdir -m 0755 "$D" "$D/external" "$D/external/pids"
SOCK=$D/metadata_proxy
REC=$D/rec.jsonl

start_agent() {
	python3 "$AGENT" --socket "$SOCK" --record "$REC" --mode neutron \
		</dev/null >"$T/agent.out" 2>"$T/agent.err" &
	AGENT_PID=$!
	wait_until 50 said_ready "$T/agent.out" || return 1
	# neutron's metadata_proxy_socket_mode: the proxy drops to the
	# config's user and must still reach the agent
	chmod 0666 "$SOCK"
}
if ! start_agent; then
	fail "agent" "the fake agent did not start: $(escape_file "$T/agent.err")"
	finish
fi

# saw KIND-HEADER ID XFF: the agent's last request carries, read as WSGI
# reads names, exactly one identity header (this one, with ID) and exactly
# one X-Forwarded-For (XFF), and nothing the client claimed.
saw() {
	python3 - "$REC" "$1" "$2" "$3" "$EVIL" <<'EOF'
import json, sys
rec, want, wid, xff, evil = sys.argv[1:]
last = [json.loads(l) for l in open(rec)][-1]
norm = lambda n: n.upper().replace("-", "_")
idh = [v for n, v in last["headers"] if norm(n).startswith(("X_NEUTRON_", "X_OVN_"))]
mine = [v for n, v in last["headers"] if norm(n) == norm(want)]
fwd = [v for n, v in last["headers"] if norm(n) == "X_FORWARDED_FOR"]
ok = idh == [wid] and mine == [wid] and fwd == [xff] and evil not in json.dumps(last) and "10.9.8.7" not in json.dumps(last)
if not ok:
    print(json.dumps(last["headers"]))
sys.exit(0 if ok else 1)
EOF
}

# spoof URL: a request claiming another identity and address, every spelling.
spoof() {
	CODE=$(curl -sS -g -m 5 -o /dev/null -w '%{http_code}' \
		-H "X-Neutron-Network-ID: $EVIL" -H "X_Neutron_Network_ID: $EVIL" \
		-H "X-Neutron-Router-ID: $EVIL" -H "X-OVN-Network-ID: $EVIL" \
		-H "x_ovn_network_id: $EVIL" -H "X-Forwarded-For: 10.9.8.7" \
		-H "X_Forwarded_For: 10.9.8.7" "$1" 2>"$T/curl.err")
}

# wait_listen PORT: something listens on PORT within 5 s.
wait_listen() {
	wait_until 50 listens "$1"
}

# serving_from PIDFILE UUID: the pid in PIDFILE is alive and carries UUID
# in its command line (neutron's ProcessManager.active); in PID.
serving_from() {
	PID=$(cat "$1" 2>/dev/null)
	[ -n "$PID" ] && alive "$PID" &&
		tr '\0' ' ' <"/proc/$PID/cmdline" | grep -qF -- "$2"
}

# stop_pid NAME PID: SIGTERM ends it within 5 s.
stop_pid() {
	kill -TERM "$2" 2>/dev/null
	wait_until 50 not alive "$2"
	if alive "$2"; then
		fail "$1: SIGTERM stops it" "pid $2 still alive after 5 s"
		kill -KILL "$2" 2>/dev/null
	else
		ok "$1: SIGTERM stops it"
	fi
}

# run_case NAME CONF UUID HEADER PORT [URL...]: start as neutron does
# (`haproxy -f CONF`, daemon and pidfile in the config), check the
# pidfile, then each URL: spoofed requests reach the agent with our
# headers only. Leaves PID serving.
run_case() {
	local name=$1 conf=$2 uuid=$3 header=$4 port=$5 url xff
	shift 5
	local pf
	pf=$(sed -n 's/^ *pidfile *//p' "$conf")
	timeout 10 "$HAP" -f "$conf" </dev/null >"$T/out" 2>"$T/err"
	RC=$?
	expect_code "$name: haproxy -f returns after daemonizing" 0 "$RC"
	if ! serving_from "$pf" "$uuid"; then
		fail "$name: pidfile names the serving proxy" "pidfile '$(cat "$pf" 2>/dev/null)'; $(stderr_note)"
		return 1
	fi
	ok "$name: pidfile names the serving proxy"
	SERVING+=("$PID")
	wait_listen "$port" || fail "$name: listens" "nothing on port $port"
	for url in "$@"; do
		xff=127.0.0.1
		case $url in *'[::1]'*) xff=::1 ;; esac
		spoof "$url"
		if [ "$CODE" = 200 ] && saw "$header" "$uuid" "$xff" >"$T/saw"; then
			ok "$name: $url reaches the agent with our headers only"
		else
			fail "$name: $url" "HTTP $CODE $(escape_file "$T/curl.err" 200); agent saw $(cat "$T/saw")"
		fi
	done
	return 0
}

uid_of() { awk '/^Uid:/ {print $2}' "/proc/$1/status" 2>/dev/null; }

# --- 1. configs rendered by neutron's code (Zed) -----------------------------
# All rendered at once (importing neutron is slow), each in a state
# directory of its own: network with the IPv6 line (on lo) as the DHCP agent
# writes it, router as the L3 agent (on :: when IPv6 is on), OVN network,
# and the router of the ProcessManager sequence (section 5).
BIND=127.0.0.1
RURL=http://127.0.0.1
V6=()
if [ "$HAVE_V6" = 1 ]; then
	BIND=:: # the L3 agent's choice when IPv6 is on
	RURL=http://[::1]
	V6=(--bind-v6 ::1 --interface lo)
fi
pick_port; P1=$PORT
pick_port; P2=$PORT
pick_port; P3=$PORT
pick_port; P4=$PORT
PIDS_DIR=$D/external/pids
CONFS=()
if [ "$HAVE_NEUTRON" = 1 ]; then
	common=(--socket "$SOCK" --user "$PROXY_USER" --group "$PROXY_GROUP")
	mapfile -t CONFS < <("$PY" "$RENDER" \
		--driver neutron --state-path "$T/r1" "${common[@]}" --network-id "$ID" \
		--bind 127.0.0.1 --port "$P1" --pidfile "$PIDS_DIR/$ID.pid" "${V6[@]}" --and \
		--driver neutron --state-path "$T/r2" "${common[@]}" --router-id "$RID" \
		--bind "$BIND" --port "$P2" --pidfile "$PIDS_DIR/$RID.pid" --and \
		--driver ovn --state-path "$T/r3" "${common[@]}" --network-id "$ID" \
		--bind 127.0.0.1 --port "$P3" --pidfile "$PIDS_DIR/ovn-$ID.pid" --debug --and \
		--driver neutron --state-path "$T/r4" "${common[@]}" --router-id "$RID" \
		--bind 127.0.0.1 --port "$P4" --pidfile "$PIDS_DIR/pm-$RID.pid" \
		2>"$T/render.err")
	if [ "${#CONFS[@]}" != 4 ]; then
		fail "render" "neutron wrote ${#CONFS[@]} of 4 configs: $(escape_file "$T/render.err" 400)"
		HAVE_NEUTRON=0
	fi
fi
if [ "$HAVE_NEUTRON" = 0 ]; then
	skip "neutron-rendered configs" "python3-neutron is not importable by $PY (scripts/setup installs it)"
else
	CONF=${CONFS[0]}
	PF=$PIDS_DIR/$ID.pid
	URLS=("http://127.0.0.1:$P1/latest/meta-data/")
	[ "$HAVE_V6" = 1 ] && URLS+=("http://[::1]:$P1/openstack")
	grep -q '^    daemon$' "$CONF" && grep -q "interface lo" "$CONF" &&
		ok "neutron's network config: daemon, IPv6 line" ||
		fail "neutron's network config" "$(escape_file "$CONF" 900)"
	if run_case "network" "$CONF" "$ID" X-Neutron-Network-ID "$P1" "${URLS[@]}"; then
		[ "$HAVE_V6" = 1 ] || skip "network: IPv6 line" "no ::1 on lo"
		check_uid=$(id -u "$PROXY_USER")
		[ "$(uid_of "$PID")" = "$check_uid" ] && ok "network: runs as the config's user" ||
			fail "network: runs as the config's user" "uid $(uid_of "$PID"), want $check_uid"
		grep -q "weaker than the built-in engine.*X-Forwarded-For" "$T/err" &&
			ok "network: says it is stricter than the config" ||
			fail "network: says it is stricter" "$(stderr_note)"
		[ "$(grep -c 'weaker than' "$T/err")" = 1 ] && ok "network: says it once" ||
			fail "network: says it once" "$(stderr_note)"
		stop_pid "network" "$PID"
		# Its user may not remove the pidfile: the pid stays, as haproxy's
		# does (neutron reads it while it waits, and logs an empty one as
		# an error).
		[ "$(cat "$PF")" = "$PID" ] && ok "network: pid left in the pidfile at exit" ||
			fail "network: pid left in the pidfile" "'$(cat "$PF")', want $PID"
	fi

	CONF=${CONFS[1]}
	grep -q "interface" "$CONF" && fail "neutron's router config: no IPv6 line" "$(escape_file "$CONF" 900)" ||
		ok "neutron's router config: no IPv6 line"
	if run_case "router" "$CONF" "$RID" X-Neutron-Router-ID "$P2" "$RURL:$P2/"; then
		stop_pid "router" "$PID"
	fi

	CONF=${CONFS[2]}
	if run_case "ovn" "$CONF" "$ID" X-OVN-Network-ID "$P3" "http://127.0.0.1:$P3/"; then
		grep -q "add-header keeps a client-sent copy" "$T/err" &&
			ok "ovn: says add-header is weaker" || fail "ovn: says add-header is weaker" "$(stderr_note)"
		stop_pid "ovn" "$PID"
	fi
fi

# --- 2. today's template: rate limiting, nbthread, timeouts ------------------
# Written from the documented template: the global section gains
# "nbthread 2"; with [metadata_rate_limiting] enabled two backends carry
# the stick tables and the listen section tracks and denies with 429.
upstream() { # FILE PORT PIDFILE HEADER-RULES
	cat >"$1" <<EOF

global
    log         /dev/log local0 info
    log-tag     haproxy-metadata-proxy-$ID
    user        $PROXY_USER
    group       $PROXY_GROUP
    maxconn     1024
    nbthread    2
    pidfile     $3
    daemon

defaults
    log global
    mode http
    option httplog
    option dontlognull
    option http-server-close
    option forwardfor
    retries                 3
    timeout http-request    10s
    timeout connect         5s
    timeout client          20s
    timeout server          20s
    timeout http-keep-alive 10s

backend base_rate_limiter
    stick-table type ip size 10k expire 60s store http_req_rate(60s)

backend burst_rate_limiter
    stick-table type ip size 10k expire 60s store http_req_rate(10s)

listen listener
    bind 127.0.0.1:$2
    

    http-request track-sc0 src table base_rate_limiter
    http-request track-sc1 src table burst_rate_limiter
    http-request deny deny_status 429 if { src_http_req_rate(base_rate_limiter) gt 100 }
    http-request deny deny_status 429 if { src_http_req_rate(burst_rate_limiter) gt 3 }

    server metadata $SOCK
$4
EOF
	chmod 0644 "$1"
}

mkdir -m 0755 "$D/ns-metadata-proxy" "$D/ovn-metadata-proxy" 2>/dev/null
pick_port
P=$PORT
PF=$D/external/pids/up-$ID.pid
CONF=$D/ns-metadata-proxy/$ID.conf
upstream "$CONF" "$P" "$PF" "    http-request del-header X-Neutron-Router-ID
    http-request set-header X-Neutron-Network-ID $ID"
if run_case "upstream" "$CONF" "$ID" X-Neutron-Network-ID "$P" "http://127.0.0.1:$P/a"; then
	grep -q "line 8: nbthread 2: the built-in engine serves with one thread" "$T/err" &&
		ok "upstream: says nbthread is one thread" || fail "upstream: nbthread note" "$(stderr_note)"
	codes=""
	for n in 2 3 4 5; do
		codes+="$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/$n") "
	done
	[ "$codes" = "200 200 429 429 " ] && ok "upstream: burst limit 3 per 10 s answers 429" ||
		fail "upstream: rate limit" "codes $codes, want 200 200 429 429"
	stop_pid "upstream" "$PID"
fi

pick_port
P=$PORT
PF=$D/external/pids/up-ovn-$ID.pid
CONF=$D/ovn-metadata-proxy/$ID.conf
upstream "$CONF" "$P" "$PF" "    http-request add-header X-OVN-Network-ID $ID"
if run_case "upstream ovn" "$CONF" "$ID" X-OVN-Network-ID "$P" "http://127.0.0.1:$P/"; then
	stop_pid "upstream ovn" "$PID"
fi

# --- 3. -D, -p, -db, -c -------------------------------------------------------
# A config without daemon and pidfile: the command line says it all.
plain() { # FILE PORT
	cat >"$1" <<EOF
global
    user $PROXY_USER
    group $PROXY_GROUP
defaults
    mode http
listen listener
    bind 127.0.0.1:$2
    server metadata $SOCK
    http-request set-header X-Neutron-Router-ID $RID
EOF
	chmod 0644 "$1"
}
pick_port
P=$PORT
CONF=$D/ns-metadata-proxy/$RID.conf
PF=$T/run/haproxy.pid
plain "$CONF" "$P"
t0=$(date +%s%N)
timeout 10 "$HAP" -D -p "$PF" -f "$CONF" </dev/null >"$T/out" 2>"$T/err" &
CALLER=$!
wait "$CALLER"
RC=$?
ms=$((($(date +%s%N) - t0) / 1000000))
expect_code "-D: returns after daemonizing" 0 "$RC"
[ "$ms" -lt 3000 ] && ok "-D: returns promptly" || fail "-D: returns promptly" "${ms} ms"
if serving_from "$PF" "$RID"; then
	ok "-D -p: the pidfile holds the serving pid"
	SERVING+=("$PID")
	[ "$PID" != "$CALLER" ] && ok "-D: the serving pid is not the caller's" ||
		fail "-D: a daemon" "pid $PID is the command we ran"
	pp=$(awk '{print $4}' "/proc/$PID/stat")
	[ "$pp" != $$ ] && ok "-D: detached from the caller" || fail "-D: detached" "ppid $pp is this script"
	wait_listen "$P" && curl -s -m 5 -o /dev/null "http://127.0.0.1:$P/" &&
		saw X-Neutron-Router-ID "$RID" 127.0.0.1 >/dev/null && ok "-D: serves" ||
		fail "-D: serves" "no answer on $P"
	stop_pid "-D" "$PID"
else
	fail "-D -p: the pidfile holds the serving pid" "pidfile '$(cat "$PF" 2>/dev/null)'; $(stderr_note)"
fi

# -db wins over the config's daemon and over -D: the pid we start serves.
pick_port
P=$PORT
PF=$D/external/pids/db-$ID.pid
CONF=$D/ns-metadata-proxy/$ID.conf
upstream "$CONF" "$P" "$PF" "    http-request set-header X-Neutron-Network-ID $ID"
"$HAP" -D -db -f "$CONF" </dev/null >"$T/out" 2>"$T/err" &
FG=$!
SERVING+=("$FG")
if wait_listen "$P" && [ "$(cat "$PF" 2>/dev/null)" = "$FG" ]; then
	ok "-db: stays in the foreground, pidfile holds its pid"
else
	fail "-db: foreground" "pidfile '$(cat "$PF" 2>/dev/null)', started $FG; $(stderr_note)"
fi
kill -TERM "$FG" 2>/dev/null
reap "$FG"
expect_code "-db: SIGTERM ends it with 0" 0 "$REAPED"

# -c: checks only
pick_port
plain "$CONF" "$PORT"
rm -f "$T/run/c.pid"
runb haproxy -c -p "$T/run/c.pid" -f "$CONF"
expect_code "-c: a valid config" 0 "$RC"
grep -qx "Configuration file is valid" "$T/out" && ok "-c: says so" || fail "-c: says so" "$(escape_file "$T/out")"
[ ! -e "$T/run/c.pid" ] && [ "$(listeners "$PORT")" = 0 ] && ok "-c: starts nothing" ||
	fail "-c: starts nothing" "pidfile or listener on $PORT"
echo "    lua-load /etc/x.lua" >>"$CONF"
runb haproxy -c -f "$CONF"
expect_code "-c: an invalid config" 65 "$RC"
grep -q "line 10: 'lua-load /etc/x.lua'" "$T/err" && ok "-c: names the line" || fail "-c: names the line" "$(stderr_note)"

# command-line refusals
runb haproxy -f "$CONF" -sf 123
expect_code "haproxy: unknown option" 64 "$RC"
runb haproxy -D
expect_code "haproxy: no -f" 64 "$RC"
runb haproxy -f relative.conf
expect_code "haproxy: relative -f" 65 "$RC"
runb haproxy -f "$T/missing.conf"
expect_code "haproxy: missing file" 66 "$RC"

# --- 4. configs outside the subset: refused with their line, nothing starts --
# Each: a valid config with one line replaced or added; the line number the
# message must name; the exit code.
base_lines() { # PORT PIDFILE -> the valid config, one directive a line
	cat <<EOF
global
    log /dev/log local0 info
    user $PROXY_USER
    group $PROXY_GROUP
    maxconn 1024
    pidfile $2
    daemon
defaults
    log global
    mode http
    option forwardfor
    timeout client 32s
listen listener
    bind 127.0.0.1:$1
    server metadata $SOCK
    http-request del-header X-Neutron-Router-ID
    http-request set-header X-Neutron-Network-ID $ID
EOF
}
# "LINE|ACTION|TEXT|CODE": ACTION r replaces line LINE, a adds after it.
REFUSALS=(
	"2|a|    lua-load /etc/haproxy/x.lua|65"
	"15|a|    external-check command /bin/true|65"
	"15|a|    server second $T/other.sock|65"
	"14|r|    bind 127.0.0.1:PORT ssl crt /etc/x.pem|65"
	"14|r|    bind 127.0.0.1:PORT accept-proxy|65"
	"15|r|    server metadata 127.0.0.1:8775|65"
	"15|r|    server metadata $SOCK check inter 2s|65"
	"3|r|    user nmp-no-such-user-$$|67"
	"4|r|    group nmp-no-such-group-$$|67"
	"16|r|    http-request del-header Authorization|65"
	"17|a|    http-request set-header X-Roles admin|65"
	"17|a|    http-request add-header X-Neutron-Router-ID $EVIL|65"
	"13|a|    timeout server 1s|65"
	"10|r|    mode tcp|65"
	"11|r|    option http-use-proxy-header|65"
	"1|a|    stats socket /run/x.sock mode 600 level admin|65"
	"1|a|    setenv X y|65"
	"7|a|    chroot /var/empty|65"
	"12|a|    timeout tunnel 1h|65"
	"13|r|frontend listener|65"
	"8|r|userlist admins|65"
	"17|r|    http-request set-header X-Neutron-Network-ID not-a-uuid|65"
	"14|r|    bind 127.0.0.1:99999|65"
	"15|r|    server metadata /var/lib/../metadata_proxy|65"
	"2|r|    log 192.0.2.1:514 local0|65"
	"17|a|    http-request redirect location http://192.0.2.1/|65"
	"16|r|    http-request del-header X-Neutron-Router-ID -m beg|65"
	"6|r|    pidfile \"/tmp/x.pid\"|65"
)
n=0
for t in "${REFUSALS[@]}"; do
	IFS='|' read -r line action text code <<<"$t"
	n=$((n + 1))
	pick_port
	PF=$T/run/refused-$n.pid
	CONF=$D/ns-metadata-proxy/$ID.conf
	text=${text//PORT/$PORT}
	want=$line
	[ "$action" = a ] && want=$((line + 1))
	base_lines "$PORT" "$PF" | awk -v l="$line" -v a="$action" -v t="$text" \
		'NR == l && a == "r" { print t; next } { print } NR == l && a == "a" { print t }' >"$CONF"
	runb haproxy -f "$CONF"
	name="refused $n ($(printf '%s' "$text" | sed 's/^ *//' | cut -c1-40))"
	if [ "$RC" = "$code" ] && grep -qF "'$CONF' line $want:" "$T/err" && one_line "$T/err"; then
		ok "$name"
	else
		fail "$name" "exit $RC (want $code), want line $want; $(stderr_note)"
	fi
	if [ -e "$PF" ] || [ "$(listeners "$PORT")" != 0 ]; then
		fail "$name: starts nothing" "pidfile $PF or a listener on $PORT"
	else
		ok "$name: starts nothing"
	fi
done
((n >= 20)) && ok "at least 20 refusals" || fail "at least 20 refusals" "$n"

# Unsafe files: a config others may write, or a symlink, is not served.
pick_port
base_lines "$PORT" "$T/run/unsafe.pid" >"$CONF"
chmod 0666 "$CONF"
runb haproxy -f "$CONF"
expect_code "a world-writable config is refused" 78 "$RC"
chmod 0644 "$CONF"
ln -sf "$CONF" "$D/ns-metadata-proxy/link.conf"
runb haproxy -f "$D/ns-metadata-proxy/link.conf"
expect_code "a symlinked config is refused" 78 "$RC"
rm -f "$D/ns-metadata-proxy/link.conf"
[ ! -e "$T/run/unsafe.pid" ] && ok "unsafe configs start nothing" || fail "unsafe configs start nothing" "pidfile made"

# --- 5. neutron's ProcessManager, by hand --------------------------------------
# What neutron's agents do: delete the pidfile, write the config, run
# `ip netns exec NS haproxy -f CONF`, wait until the pid in the pidfile is
# alive with the uuid in its command line; to disable, SIGTERM, wait, and
# SIGKILL if still there.
PM_NS=()
if [ "$IS_ROOT" = 1 ] && ip netns add "nmp-compat-$$" 2>/dev/null; then
	NS=nmp-compat-$$
	ip -n "$NS" link set lo up
	PM_NS=(ip netns exec "$NS")
else
	skip "ProcessManager: in a namespace" "cannot create a network namespace; run in the current one"
fi
P=$P4
PF=$PIDS_DIR/pm-$RID.pid
CONF=$D/ns-metadata-proxy/$RID.conf
rm -f "$PF"
if [ "$HAVE_NEUTRON" = 1 ]; then
	install -m 0644 "${CONFS[3]}" "$CONF" # the text neutron's code wrote
else
	base_lines "$P" "$PF" | sed "s/X-Neutron-Network-ID $ID/X-Neutron-Router-ID $RID/; s/del-header X-Neutron-Router-ID/del-header X-Neutron-Network-ID/" >"$CONF"
fi
timeout 10 "${PM_NS[@]}" "$HAP" -f "$CONF" </dev/null >"$T/out" 2>"$T/err"
RC=$?
expect_code "ProcessManager: the start command returns" 0 "$RC"
if wait_until 50 serving_from "$PF" "$RID"; then
	ok "ProcessManager: active (pid alive, uuid in /proc/PID/cmdline)"
	SERVING+=("$PID")
	if [ -n "$NS" ]; then
		[ "$(readlink "/proc/$PID/ns/net")" = "$(ip netns exec "$NS" readlink /proc/self/ns/net)" ] &&
			ok "ProcessManager: serves inside the namespace" ||
			fail "ProcessManager: in the namespace" "net ns $(readlink "/proc/$PID/ns/net")"
	fi
	CODE=$("${PM_NS[@]}" curl -sS -m 5 -o /dev/null -w '%{http_code}' -H "X-Neutron-Router-ID: $EVIL" "http://127.0.0.1:$P/" 2>"$T/curl.err")
	[ "$CODE" = 200 ] && saw X-Neutron-Router-ID "$RID" 127.0.0.1 >"$T/saw" &&
		ok "ProcessManager: a VM's request reaches the agent" ||
		fail "ProcessManager: request" "HTTP $CODE; $(cat "$T/saw" 2>/dev/null)"
	kill -TERM "$PID"
	killed=0
	if ! wait_until 50 not alive "$PID"; then
		kill -KILL "$PID"
		killed=1
	fi
	wait_until 20 not alive "$PID"
	! alive "$PID" && [ "$killed" = 0 ] && ok "ProcessManager: SIGTERM is enough" ||
		fail "ProcessManager: SIGTERM is enough" "needed SIGKILL ($killed) or still alive"
	# active is false now: the pidfile names no live proxy
	serving_from "$PF" "$RID" && fail "ProcessManager: inactive after stop" "pid $(cat "$PF") alive" ||
		ok "ProcessManager: inactive after stop"
	# and it starts again, as the process monitor respawns it
	rm -f "$PF"
	timeout 10 "${PM_NS[@]}" "$HAP" -f "$CONF" </dev/null >"$T/out" 2>"$T/err"
	if serving_from "$PF" "$RID"; then
		ok "ProcessManager: respawn"
		SERVING+=("$PID")
		stop_pid "ProcessManager respawn" "$PID"
	else
		fail "ProcessManager: respawn" "$(stderr_note)"
	fi
else
	fail "ProcessManager: active" "pidfile '$(cat "$PF" 2>/dev/null)'; $(stderr_note)"
fi

finish
