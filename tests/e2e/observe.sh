#!/bin/bash
# What an operator sees: metrics, health and access lines, after a known
# sequence of requests. A fleet (as nobody:nogroup) serves three networks,
# each in a namespace this script makes (nmo<PID>-a, -b, -c):
#   a: a neutron network: 4 answered GETs (3 spoofing X-Neutron-Network-ID
#      and X-Forwarded-For, 1 with a hop-by-hop header it names), a
#      CONNECT (405) and a request without Host (400);
#   b: a router, rate limited to 2 requests: 2 answered, 1 refused (429);
#   c: an OVN network whose agent socket is missing: 503.
# Then:
#   1. `fleet metrics`: the exposition passes a strict check and
#      prometheus_client's parser (tests/support/prom_check.py), and every
#      counter is what the sequence makes it;
#   2. --metrics-listen: the same on GET /metrics of a host address, which
#      a tenant namespace cannot reach; /health and `fleet health` say
#      degraded (c's agent) until c goes, then ok;
#   3. the access lines (log file, oslo.log's shape; syslog, bare) match
#      haproxy's httplog field layout, with the status, termination state,
#      server and reason each request must have; haproxy itself (the
#      haproxy engine) logs the same requests in the same layout;
#   4. a single built-in engine answers list, metrics and health on
#      <pidfile>.ctl (0660 root:its group), refuses add, removes it at stop;
#      with --log-format json its access lines are JSON with the same fields;
#   5. a bad --metrics-listen or --log-format: one line, exit 65 (64 where
#      the option is not one of the command), nothing made.
# Every process started here is stopped by pid; only its namespaces go.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROM=$SRC/tests/support/prom_check.py
PY=/usr/bin/python3 # Debian's, with python3-prometheus-client
EVIL=deadbeef-dead-4bad-8bad-deadbeefdead
NA=1a1a1a1a-0000-4000-8000-00000000000a
NB=2b2b2b2b-0000-4000-8000-00000000000b
NC=3c3c3c3c-0000-4000-8000-00000000000c

if [ "$IS_ROOT" != 1 ]; then
	skip "observe" "fleet add enters network namespaces: only root may"
	finish
fi
need_commands curl python3 ip
if ! "$PY" -c 'import prometheus_client' 2>/dev/null; then
	fail "observe" "python3-prometheus-client is not installed (scripts/setup installs it)"
	finish
fi
proxy_account

MADE_NS=()
FLEET_PID=
observe_cleanup() {
	local n
	if [ -n "$FLEET_PID" ]; then
		alive "$FLEET_PID" && kill -TERM "$FLEET_PID" 2>/dev/null
		reap "$FLEET_PID"
	fi
	case_end
	for n in "${MADE_NS[@]}"; do
		ip netns delete "$n" 2>/dev/null
	done
	MADE_NS=()
}
at_exit observe_cleanup

case_begin "observe" || finish
chmod 0711 "$D"
CTL=$D/c.sock
LOG=$D/fleet.log
MPORT=$PORT
agent_start normal || finish
chmod 0666 "$SOCK"
for x in a b c; do
	if ! ip netns add "nmo$$-$x" 2>"$T/ns.err"; then
		skip "observe" "the kernel refuses a network namespace: $(escape_file "$T/ns.err" 300)"
		finish
	fi
	MADE_NS+=("nmo$$-$x")
	ip -n "nmo$$-$x" link set lo up
done
fleet() {
	"$BIN" fleet "$@" --control-socket "$CTL"
}
# inns X CMD...: CMD in namespace x.
inns() {
	local x=$1
	shift
	ip netns exec "nmo$$-$x" "$@"
}
get() { # NS [CURL ARGS...]: the status code of one request
	local x=$1
	shift
	inns "$x" curl -sS --noproxy '*' --max-time 10 -o /dev/null -w '%{http_code}' "$@" 2>>"$D/curl.err"
}
# nohost NS: HTTP/1.1 without Host, from a raw socket; the status line's code.
nohost() {
	inns "$1" python3 -c '
import socket
s = socket.create_connection(("127.0.0.1", 80), timeout=10)
s.sendall(b"GET /nohost HTTP/1.1\r\n\r\n")
print(s.recv(100).split(b" ")[1].decode())'
}

# --- the fleet and its three networks ---------------------------------------
"$BIN" fleet serve --control-socket "$CTL" --log-file "$LOG" --use-syslog \
	--metadata-proxy-user "$PU" --metadata-proxy-group "$PG" \
	--metrics-listen "127.0.0.1:$MPORT" \
	</dev/null >"$D/serve.out" 2>"$D/serve.err" &
FLEET_PID=$!
if ! wait_until -p "$FLEET_PID" "$WAIT_MAX" test -S "$CTL"; then
	fail "serve" "no control socket: $(escape_file "$D/serve.err" 400)"
	finish
fi
fleet add --netns "nmo$$-a" --network-id "$NA" --bind-address 127.0.0.1 --metadata-port 80 \
	--metadata-proxy-socket "$SOCK" 2>>"$D/add.err" &&
	fleet add --netns "nmo$$-b" --router-id "$NB" --bind-address 127.0.0.1 --metadata-port 80 \
		--metadata-proxy-socket "$SOCK" --rate-limit-enabled --base-window-duration 60 \
		--base-query-rate-limit 2 --burst-window-duration 60 --burst-query-rate-limit 2 2>>"$D/add.err" &&
	fleet add --netns "nmo$$-c" --flavor ovn --network-id "$NC" --bind-address 127.0.0.1 \
		--metadata-port 80 --metadata-proxy-socket "$D/no-agent.sock" 2>>"$D/add.err"
expect_code "fleet: three networks added" 0 $?

# --- the known sequence ---------------------------------------------------------
codes=""
for i in 1 2 3; do
	codes+="$(get a -H "X-Neutron-Network-ID: $EVIL" -H "X-Forwarded-For: 10.9.8.7" http://127.0.0.1/a$i) "
done
codes+="$(get a -H 'Connection: keep-alive, X-Hop' -H 'X-Hop: 1' http://127.0.0.1/hop) "
codes+="$(get a -X CONNECT --request-target 127.0.0.1:80 http://127.0.0.1/) "
codes+="$(nohost a) "
for i in 1 2 3; do
	codes+="$(get b http://127.0.0.1/b$i) "
done
codes+="$(get c http://127.0.0.1/c)"
check "sequence: the answers" "$codes" "200 200 200 200 405 400 200 200 429 503"

# --- 1. fleet metrics ------------------------------------------------------------
fleet metrics >"$D/m.txt" 2>"$D/m.err"
expect_code "metrics: fleet metrics" 0 $?
"$PY" "$PROM" <"$D/m.txt" >"$D/m.json" 2>"$D/prom.err"
assert "metrics: the exposition passes the strict check and prometheus_client's parser" \
	"$(escape_file "$D/prom.err" 300)" [ $? -eq 0 ]
# want FILE.json: each "sample value" line of stdin, as prom_check read it.
want() {
	"$PY" - "$1" <<'PY'
import json, sys
got = json.load(open(sys.argv[1]))
bad = []
for line in sys.stdin:
    if not line.strip():
        continue
    key, value = line.rsplit(" ", 1)
    if got.get(key) != float(value):
        bad.append("%s is %r, not %s" % (key, got.get(key), value))
print("; ".join(bad))
PY
}
net() { # ID FLAVOR [LABELS]: the labels of a network's sample
	printf '{id="%s",flavor="%s"%s}' "$1" "$2" "${3:+,$3}"
}
P=ns_metadata_proxy_
bad=$(want "$D/m.json" <<EOF
${P}requests_total$(net "$NA" neutron 'code="200",class="2xx"') 4
${P}requests_total$(net "$NA" neutron 'code="405",class="4xx"') 1
${P}requests_total$(net "$NA" neutron 'code="400",class="4xx"') 1
${P}refusals_total$(net "$NA" neutron 'reason="connect-method"') 1
${P}refusals_total$(net "$NA" neutron 'reason="missing-host"') 1
${P}headers_removed_total$(net "$NA" neutron 'type="spoofed"') 6
${P}headers_removed_total$(net "$NA" neutron 'type="hop-by-hop"') 2
${P}client_connections_accepted_total$(net "$NA" neutron) 6
${P}client_connections$(net "$NA" neutron) 0
${P}request_duration_seconds_count$(net "$NA" neutron) 6
${P}rate_limited_total$(net "$NA" neutron) 0
${P}requests_total$(net "$NB" neutron 'code="200",class="2xx"') 2
${P}requests_total$(net "$NB" neutron 'code="429",class="4xx"') 1
${P}rate_limited_total$(net "$NB" neutron) 1
${P}refusals_total$(net "$NB" neutron 'reason="rate-limited"') 1
${P}requests_total$(net "$NC" ovn 'code="503",class="5xx"') 1
${P}refusals_total$(net "$NC" ovn 'reason="agent-unavailable"') 1
${P}agent_connect_errors_total$(net "$NC" ovn) 1
${P}agent_connect_errors_total$(net "$NA" neutron) 0
${P}networks 3
EOF
)
assert "metrics: each counter as the sequence makes it" "$bad" [ -z "$bad" ]
bytes=$("$PY" -c 'import json,sys; print(int(json.load(open(sys.argv[1]))[sys.argv[2]]))' \
	"$D/m.json" "${P}received_bytes_total$(net "$NA" neutron)")
assert "metrics: bytes in counted" "received_bytes_total $bytes" [ "$bytes" -gt 300 ]
fds=$("$PY" -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["process_open_fds"]))' "$D/m.json")
real=$(find "/proc/$FLEET_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
assert "metrics: process_open_fds is the daemon's ($real)" "it says $fds" [ "$((fds - real))" -le 1 ] && [ "$((real - fds))" -le 1 ]

# --- 2. over HTTP on a host address, health ------------------------------------
curl -sS --noproxy '*' --max-time 10 -D "$D/h.txt" -o "$D/mh.txt" "http://127.0.0.1:$MPORT/metrics" 2>"$D/curl.err"
expect_code "http: GET /metrics" 0 $?
assert "http: Content-Type of the text format 0.0.4" "$(grep -i '^content-type' "$D/h.txt")" \
	grep -qi '^content-type: text/plain; version=0.0.4' "$D/h.txt"
"$PY" "$PROM" <"$D/mh.txt" >"$D/mh.json" 2>"$D/prom.err"
assert "http: the exposition passes the checks" "$(escape_file "$D/prom.err" 300)" [ $? -eq 0 ]
bad=$(want "$D/mh.json" <<EOF
${P}requests_total$(net "$NA" neutron 'code="200",class="2xx"') 4
${P}rate_limited_total$(net "$NB" neutron) 1
EOF
)
assert "http: the same counters" "$bad" [ -z "$bad" ]
code=$(inns a curl -s --noproxy '*' --max-time 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/metrics")
assert "http: a tenant namespace cannot reach the metrics" "it got $code" [ "$code" = 000 ]
code=$(curl -s --noproxy '*' --max-time 10 -o "$D/health.txt" -w '%{http_code}' "http://127.0.0.1:$MPORT/health")
check "health: 503 while an agent socket is missing" "$code" 503
assert "health: ... which it names" "$(escape_file "$D/health.txt" 300)" \
	grep -q "^agent: $D/no-agent.sock unreachable: No such file or directory$" "$D/health.txt"
fleet health >"$D/fh.txt" 2>&1
expect_code "health: fleet health says degraded (69)" 69 $?
assert "health: ... with the same lines" "$(escape_file "$D/fh.txt" 300)" grep -qx 'status: degraded' "$D/fh.txt"
fleet del "$NC" 2>/dev/null
code=$(curl -s --noproxy '*' --max-time 10 -o "$D/health.txt" -w '%{http_code}' "http://127.0.0.1:$MPORT/health")
check "health: 200 once that network is gone" "$code" 200
fleet health >"$D/fh.txt" 2>&1
expect_code "health: fleet health says ok (0)" 0 $?
assert "health: two listeners, both listening, one agent reachable" "$(escape_file "$D/fh.txt" 300)" \
	"$PY" -c 'import sys; t = open(sys.argv[1]).read(); sys.exit(not ("status: ok\nnetworks: 2\nlisteners: 2\nlistening: 2\nagent: " + sys.argv[2] + " reachable\n") == t)' "$D/fh.txt" "$SOCK"
code=$(curl -s --noproxy '*' --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/other")
check "http: any other path is 404" "$code" 404

# --- 3. access lines -------------------------------------------------------------
# lines FILE KIND: the access lines of FILE as JSON, one a line, each field
# of haproxy's httplog layout by name. KIND: file (oslo.log's shape, logger
# ns_metadata_proxy.access), syslog (after "tag[pid]: "), haproxy (the
# haproxy engine's syslog lines).
HTTPLOG='(?P<ip>[0-9a-f.:]+):(?P<port>[0-9]+) \[(?P<date>[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3})\] (?P<fe>\S+) (?P<be>\S+)/(?P<srv>\S+) (?P<TR>-?[0-9]+)/(?P<Tw>-?[0-9]+)/(?P<Tc>-?[0-9]+)/(?P<Tr>-?[0-9]+)/(?P<Ta>[0-9]+) (?P<status>-?[0-9]+) (?P<bytes>[0-9]+) - - (?P<term>[-A-Za-z]{4}) (?P<ac>[0-9]+)/(?P<fc>[0-9]+)/(?P<bc>[0-9]+)/(?P<sc>[0-9]+)/(?P<rc>[0-9]+) (?P<sq>[0-9]+)/(?P<bq>[0-9]+) "(?P<req>[^"]*)"(?: reason=(?P<reason>\S+))?'
lines() {
	"$PY" - "$1" "$2" "$HTTPLOG" <<'PY'
import json, re, sys
path, kind, httplog = sys.argv[1:]
pre = {
    "file": r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}\.[0-9]{3} [0-9]+ INFO ns_metadata_proxy\.access \[-\] ",
    "syslog": r"^<[0-9]+>.*?ns-metadata-proxy\[[0-9]+\]: ",
    "haproxy": r"^<[0-9]+>.*?haproxy-metadata-proxy-[0-9a-f-]+\[[0-9]+\]: ",
}[kind]
for line in open(path, errors="replace"):
    line = line.rstrip("\n")
    if not re.match(pre, line):
        continue
    m = re.match(pre + httplog + "$", line)
    if m is None:
        if re.match(pre + r"[0-9a-f.:]+:[0-9]+ \[", line):
            print(json.dumps({"unparsed": line}))
        continue
    print(json.dumps(m.groupdict()))
PY
}
# field FILE.jsonl REQUEST FIELD: FIELD of the line whose request is REQUEST.
field() {
	"$PY" - "$@" <<'PY'
import json, sys
path, req, key = sys.argv[1:]
for line in open(path):
    d = json.loads(line)
    if d.get("req") == req:
        print(d[key] if d[key] is not None else "-")
        break
else:
    print("(no line)")
PY
}
lines "$LOG" file >"$D/acc.jsonl"
assert "access: every access line of the file parses as httplog" "$(grep unparsed "$D/acc.jsonl" | head -c 300)" \
	not grep -q unparsed "$D/acc.jsonl"
n=$(wc -l <"$D/acc.jsonl")
check "access: one line per request (10)" "$n" 10
# expect REQUEST "STATUS TERM SERVER REASON FRONTEND"
expect() {
	local got
	got="$(field "$D/acc.jsonl" "$1" status) $(field "$D/acc.jsonl" "$1" term) $(field "$D/acc.jsonl" "$1" srv) $(field "$D/acc.jsonl" "$1" reason) $(field "$D/acc.jsonl" "$1" fe)"
	check "access: \"$1\"" "$got" "$2"
}
expect "GET /a1 HTTP/1.1" "200 ---- agent - $NA"
expect "GET /hop HTTP/1.1" "200 ---- agent - $NA"
expect "CONNECT 127.0.0.1:80 HTTP/1.1" "405 PR-- <NOSRV> connect-method $NA"
expect "GET /nohost HTTP/1.1" "400 PR-- <NOSRV> missing-host $NA"
expect "GET /b3 HTTP/1.1" "429 PR-- <NOSRV> rate-limited $NB"
expect "GET /c HTTP/1.1" "503 SC-- <NOSRV> agent-unavailable $NC"
ta=$(field "$D/acc.jsonl" "GET /a1 HTTP/1.1" Ta)
tr=$(field "$D/acc.jsonl" "GET /a1 HTTP/1.1" Tr)
assert "access: timers of an answered request: Tr <= Ta" "Tr $tr Ta $ta" [ "$tr" -ge 0 ] && [ "$tr" -le "$ta" ]
if [ -n "${NMP_SYSLOG_OUT:-}" ] && [ -f "$NMP_SYSLOG_OUT" ]; then
	lines "$NMP_SYSLOG_OUT" syslog >"$D/sys.jsonl"
	check "access: syslog has the same 10 lines, bare" "$(grep -c "\"fe\": \"\($NA\|$NB\|$NC\)\"" "$D/sys.jsonl")" 10
else
	skip "access: syslog" "NMP_SYSLOG_OUT is unset (no listening /dev/log)"
fi

# haproxy, the engine neutron ran, logs the same requests in the same layout.
if [ -n "${NMP_SYSLOG_OUT:-}" ] && [ -f "$NMP_SYSLOG_OUT" ] && [ -x /usr/sbin/haproxy ]; then
	pick_port || finish
	HA=(--network-id "$ID" --state-path "$D" --metadata-proxy-socket "$SOCK"
		--bind-address 127.0.0.1 --metadata-port "$PORT" --pid-file "$D/ha.pid")
	"$BIN" run --engine haproxy --daemonize "${HA[@]}" </dev/null >/dev/null 2>"$D/ha.err"
	expect_code "haproxy: the haproxy engine starts" 0 $?
	wait_until "$WAIT_MAX" listens "$PORT"
	c1=$(curl -sS --noproxy '*' --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/ha1")
	c2=$(curl -sS --noproxy '*' --max-time 10 -o /dev/null -w '%{http_code}' -X CONNECT \
		--request-target "127.0.0.1:$PORT" "http://127.0.0.1:$PORT/")
	check "haproxy: the answers" "$c1 $c2" "200 405"
	sleep 0.5
	"$BIN" stop "${HA[@]}" >/dev/null 2>&1
	lines "$NMP_SYSLOG_OUT" haproxy >"$D/ha.jsonl"
	got="$(field "$D/ha.jsonl" "GET /ha1 HTTP/1.1" status) $(field "$D/ha.jsonl" "GET /ha1 HTTP/1.1" term)"
	check "haproxy: its line for a GET parses as ours do" "$got" "200 ----"
	cn="CONNECT 127.0.0.1:$PORT HTTP/1.1"
	got="$(field "$D/ha.jsonl" "$cn" status) $(field "$D/ha.jsonl" "$cn" term) $(field "$D/ha.jsonl" "$cn" srv) $(field "$D/ha.jsonl" "$cn" reason)"
	check "haproxy: ... and for a CONNECT says what ours says" "$got" "405 PR-- <NOSRV> connect-method"
else
	skip "haproxy: same layout" "no listening /dev/log or no /usr/sbin/haproxy"
fi

# --- 4. a single engine's control socket, JSON lines -------------------------------
pick_port || finish
ONE=(--network-id "$ID" --state-path "$D" --metadata-proxy-socket "$SOCK"
	--bind-address 127.0.0.1 --metadata-port "$PORT" --pid-file "$D/one.pid"
	--metadata-proxy-user "$PU" --metadata-proxy-group "$PG")
"$BIN" run --engine builtin --daemonize --log-format json --log-file "$D/one.log" "${ONE[@]}" \
	</dev/null >/dev/null 2>"$D/one.err"
expect_code "single: starts" 0 $?
mode=$(stat -c '%F %a %U %G' "$D/one.pid.ctl" 2>&1)
check "single: a control socket next to its pidfile, 0660 root:$PG" "$mode" "socket 660 root $PG"
for i in 1 2; do
	curl -sS --noproxy '*' --max-time 10 -o /dev/null -H "X-Neutron-Network-ID: $EVIL" "http://127.0.0.1:$PORT/one$i"
done
"$BIN" fleet metrics --control-socket "$D/one.pid.ctl" >"$D/one.txt" 2>"$D/one.merr"
expect_code "single: fleet metrics on it" 0 $?
"$PY" "$PROM" <"$D/one.txt" >"$D/one.json" 2>"$D/prom.err"
assert "single: the exposition passes the checks" "$(escape_file "$D/prom.err" 300)" [ $? -eq 0 ]
bad=$(want "$D/one.json" <<EOF
${P}requests_total$(net "$ID" neutron 'code="200",class="2xx"') 2
${P}headers_removed_total$(net "$ID" neutron 'type="spoofed"') 2
${P}networks 1
EOF
)
assert "single: its counters" "$bad" [ -z "$bad" ]
"$BIN" fleet list --control-socket "$D/one.pid.ctl" >"$D/one.list" 2>&1
assert "single: list shows its network, 2 requests" "$(escape_file "$D/one.list" 300)" \
	grep -q "^$ID neutron network - 127.0.0.1:$PORT 2 " "$D/one.list"
"$BIN" fleet health --control-socket "$D/one.pid.ctl" >/dev/null 2>&1
expect_code "single: health ok" 0 $?
"$BIN" fleet add --control-socket "$D/one.pid.ctl" --network-id "$NA" --bind-address 127.0.0.2 \
	--metadata-port "$PORT" --metadata-proxy-socket "$SOCK" >/dev/null 2>"$D/one.add"
rc=$?
assert "single: add is refused" "exit $rc: $(escape_file "$D/one.add" 200)" \
	[ "$rc" -ne 0 ] && grep -q 'serves one network' "$D/one.add"
"$PY" - "$D/one.log" <<'PY' >"$D/json.out" 2>&1
import json, re, sys
n = 0
for line in open(sys.argv[1]):
    m = re.match(r"^\S+ \S+ [0-9]+ INFO ns_metadata_proxy\.access \[-\] (.*)$", line.rstrip("\n"))
    if not m:
        continue
    d = json.loads(m.group(1))
    assert d["status_code"] == 200 and d["termination_state"] == "----", d
    assert d["server_name"] == "agent" and d["http_request"].startswith("GET /one"), d
    assert isinstance(d["time_active"], int) and d["reason"] is None, d
    n += 1
print(n)
PY
check "single: --log-format json: its access lines parse, with haproxy's fields" "$(cat "$D/json.out")" 2
"$BIN" stop "${ONE[@]}" >/dev/null 2>&1
expect_code "single: stops" 0 $?
assert "single: its control socket goes with it" "it is still there" [ ! -e "$D/one.pid.ctl" ]

# --- 5. bad values ---------------------------------------------------------------
badopt() { # NAME CODE ARGS...: one stderr line, the exit code, nothing made
	local name=$1 want=$2
	shift 2
	rm -rf "$D/bad" && mkdir "$D/bad"
	"$BIN" "$@" </dev/null >/dev/null 2>"$D/bad.err"
	expect_code "$name" "$want" $?
	assert "$name: one line on stderr" "$(escape_file "$D/bad.err" 300)" one_line "$D/bad.err"
	assert "$name: nothing made" "$(ls -A "$D/bad")" [ -z "$(ls -A "$D/bad")" ]
}
badopt "bad: --metrics-listen without a port" 65 fleet serve --control-socket "$D/bad/c.sock" --metrics-listen 127.0.0.1
badopt "bad: --metrics-listen IPv6 without brackets" 65 fleet serve --control-socket "$D/bad/c.sock" --metrics-listen ::1:9100
badopt "bad: --metrics-listen port 0" 65 fleet serve --control-socket "$D/bad/c.sock" --metrics-listen 127.0.0.1:0
badopt "bad: --metrics-listen on fleet add" 64 fleet add --control-socket "$D/bad/c.sock" --metrics-listen 127.0.0.1:1 \
	--network-id "$NA" --metadata-proxy-socket "$SOCK"
badopt "bad: --log-format xml" 65 run --engine builtin --log-format xml --network-id "$ID" --state-path "$D/bad"
badopt "bad: --log-format json with the haproxy engine" 64 run --engine haproxy --log-format json --network-id "$ID" --state-path "$D/bad"
badopt "bad: --metrics-listen on a busy port" 69 fleet serve --control-socket "$D/bad/c.sock" --metrics-listen "127.0.0.1:$MPORT"

finish
