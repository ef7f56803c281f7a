#!/bin/bash
# What a hostile VM still got through before "Hardening, round two", against
# every way of serving: the haproxy engine (`run --engine haproxy`), the
# built-in engine (`run --engine builtin`) and the `haproxy` front
# (`ns-metadata-proxy haproxy -f CONF`, the built-in engine behind neutron's
# command line). For each:
#   - a slow-body flood (about 1,100 connections from 127.0.0.1, each a POST
#     head and then a body byte every 1.2 s) while a normal client from
#     127.0.0.2 asks 10 times: at least 9 answers 200; once with a length
#     over the body cap (413 at once), once under it with a 2 s request
#     deadline (the slow bodies are cut);
#   - the per-source connection cap (64 held, the rest closed; 0: no cap);
#   - the body cap (1 MiB POST and chunked bodies over 64 KiB: 413, nothing at
#     the agent; 64 KiB exactly: 200, whole);
#   - identity headers nova and proxies read (Forwarded, X-Real-IP,
#     X-Instance-ID, X-Instance-ID-Signature, X-Tenant-ID) never reach it;
#   - absolute-form and asterisk targets 400, CONNECT 405, a Content-Length
#     past 10^18 400, a NUL in a header 400, HTTP/1.1 without Host 400,
#     101 header lines refused (431), a 2 KiB chunk extension
#     (400; haproxy drops it), a 70 KB, NUL or bare-LF agent response head;
#   - refusal lines with their reason, rate capped per address.
# The flood numbers go to $NMP_BUILD_DIR/security/net_hardening.{tsv,md}.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/net_lib.sh"
net_prereqs
T0=$(ms)
FLOOD=$SRC/tests/support/slow_body_flood.py
ID2=0b9e8d7c-6f5a-4e3d-9c2b-1a0f9e8d7c6b

FLOOD_S=10
FLOOD_N=1100
if [ "$SANITIZED" -eq 1 ]; then
	FLOOD_S=5
	E_ASAN_OPTIONS=$NO_QUARANTINE
	echo "ASan build: floods of $FLOOD_S s, not 10"
else
	E_ASAN_OPTIONS=
fi
export E_ASAN_OPTIONS
IDA=(--network-id "$ID")
TSV=$OUT_DIR/net_hardening.tsv
printf 'serving\tflood\tnormal client (of 10)\tattacker connections ended\tattacker saw\n' >"$TSV"

if ! ip addr show lo 2>/dev/null | grep -q 'inet 127.0.0.1/8'; then
	skip "all" "loopback has no 127.0.0.1/8: no second client address"
	finish
fi

# front_start EXTRA_LINES: the front in the foreground on PORT, serving a
# config as neutron writes it (root-owned, in a ns-metadata-proxy dir).
front_start() {
	mkdir -m 0755 -p "$D/ns-metadata-proxy"
	cat >"$D/ns-metadata-proxy/$ID.conf" <<EOF
global
    user $NMP_USER
    group $NMP_GROUP
    log /dev/log local0 debug
defaults
    mode http
    timeout http-request 2s
listen listener
    bind 127.0.0.1:$PORT
    server metadata $SOCK
    http-request del-header X-Neutron-Router-ID
    http-request set-header X-Neutron-Network-ID $ID
EOF
	chmod 0644 "$D/ns-metadata-proxy/$ID.conf"
	ENGINE=front
	PROXY_STOP=(kill -TERM)
	(
		[ -n "${E_ASAN_OPTIONS:-}" ] && export ASAN_OPTIONS=$E_ASAN_OPTIONS
		exec "$BIN" haproxy -db -f "$D/ns-metadata-proxy/$ID.conf"
	) </dev/null >"$D/proxy.out" 2>"$D/proxy.err" &
	PROXY_PID=$!
	PROXY_STOP=(kill -TERM "$PROXY_PID")
	wait_until -p "$PROXY_PID" "$WAIT_MAX" listens "$PORT" && return 0
	fail "$CASE: front starts" "not listening on $PORT: $(escape_file "$D/proxy.err" 400)"
	return 1
}

# serve WAY ARGS...: WAY (haproxy, builtin, front) on PORT with ARGS (run
# options; the front has a fixed 2 s request deadline and the defaults).
serve() {
	local way=$1
	shift
	if [ "$way" = front ]; then
		front_start
	else
		proxy_start "$way" --timeout-http-request 2s "$@"
	fi
}

# log_mark, then log_text: what the proxy logged since the mark (its
# stderr, and the syslog lines that came after).
log_mark() {
	LOG0=0
	[ -n "${NMP_SYSLOG_OUT:-}" ] && LOG0=$(stat -c %s "$NMP_SYSLOG_OUT" 2>/dev/null || echo 0)
}
# The built-in engine in the foreground logs to stderr; haproxy, and the
# front as its config says, to syslog (the front also copies to stderr).
log_text() {
	if [ "$ENGINE" = builtin ] || [ -z "${NMP_SYSLOG_OUT:-}" ]; then
		cat "$D/proxy.err" 2>/dev/null
	else
		tail -c +$((LOG0 + 1)) "$NMP_SYSLOG_OUT" 2>/dev/null
	fi
}

# flood WAY NAME LENGTH: the slow-body flood; the normal client must get
# at least 9 of 10 answers 200.
flood() {
	local way=$1 name=$2 len=$3 n200 cut saw
	timeout $((FLOOD_S + 70)) python3 "$FLOOD" "$PORT" --conns "$FLOOD_N" \
		--length "$len" --seconds "$FLOOD_S" >"$D/flood.json" 2>"$D/flood.err"
	jv "$D/flood.json" n200='d["normal"].get("200", 0)' normal='d["normal"]' \
		cut='d["attack_cut"]' saw='d["attack_saw"]'
	printf '%s\t%s\t%s\t%s\t%s\n' "$way" "$name" "$n200 ($normal)" "$cut" "$saw" >>"$TSV"
	if [ "$n200" -ge 9 ] 2>/dev/null; then
		ok "$CASE: $name: normal client got $n200 of 10 answers 200"
	else
		fail "$CASE: $name: normal client got at least 9 of 10 answers 200" "$normal; attackers: $cut ended, saw $saw $(escape_file "$D/flood.err" 200)"
	fi
	# The slow connections do not stay: cut at once (413) or at the deadline.
	if [ "$cut" -ge 500 ] 2>/dev/null; then
		ok "$CASE: $name: the proxy ended $cut slow connections"
	else
		fail "$CASE: $name: the proxy ended the slow connections" "only $cut ended"
	fi
}

# The request cases, each on its own connection, all at once.
python3 - "$T/cases.json" <<'EOF'
import json, sys
H = "Host: 169.254.169.254\r\n"
C = "Connection: close\r\n"
chunks = ("1000\r\n" + "x" * 4096 + "\r\n") * 32 + "0\r\n\r\n"
cases = {
    "ok": "GET /ok HTTP/1.1\r\n" + H + C + "\r\n",
    "identity headers": "GET /ident HTTP/1.1\r\n" + H +
    "Forwarded: for=6.6.6.6\r\nforwarded: for=6.6.6.7\r\nX-Real-IP: 6.6.6.6\r\n"
    "x_real_ip: 6.6.6.6\r\nX-Instance-ID: i-evil\r\nx-instance_id: i-evil\r\n"
    "X-Instance-ID-Signature: evil\r\nX_INSTANCE_ID_SIGNATURE: evil\r\n"
    "X-Tenant-ID: evil\r\nx_tenant_id: evil\r\nX-TENANT_ID: evil\r\n" + C + "\r\n",
    "absolute-form": "GET http://evil.example/abs1 HTTP/1.1\r\n" + H + "\r\n",
    "absolute-form with userinfo":
    "GET http://169.254.169.254@evil.example:80/abs2 HTTP/1.1\r\n" + H + "\r\n",
    "asterisk": "OPTIONS * HTTP/1.1\r\n" + H + "\r\n",
    "connect": "CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n",
    "content-length 2^63+9": "POST /hugecl HTTP/1.1\r\n" + H +
    "Content-Length: 9223372036854775817\r\n\r\n",
    "1 MiB POST": "POST /bigcl HTTP/1.1\r\n" + H + "Content-Length: 1048576\r\n\r\n" + "z" * 4096,
    "chunked 128 KiB": "POST /chunk128k HTTP/1.1\r\n" + H +
    "Transfer-Encoding: chunked\r\n\r\n" + chunks,
    "64 KiB POST": "POST /post64k HTTP/1.1\r\n" + H + "Content-Length: 65536\r\n" + C +
    "\r\n" + "y" * 65536,
    "NUL in a header": "GET /reqnul HTTP/1.1\r\n" + H + "X-A: b\x00c\r\n\r\n",
    "HTTP/1.1 without Host": "GET /nohost HTTP/1.1\r\n\r\n",
    "HTTP/1.0 without Host": "GET /nohost10 HTTP/1.0\r\n\r\n",
    "100 header lines": "GET /h100 HTTP/1.1\r\n" + H + "X-A: b\r\n" * 98 + C + "\r\n",
    "101 header lines": "GET /h101 HTTP/1.1\r\n" + H + "X-A: b\r\n" * 100 + "\r\n",
    "chunk extension 100 B": "POST /ext100 HTTP/1.1\r\n" + H +
    "Transfer-Encoding: chunked\r\n" + C + "\r\n5;" + "a" * 100 + "\r\nhello\r\n0\r\n\r\n",
    "chunk extension 2 KiB": "POST /ext2k HTTP/1.1\r\n" + H +
    "Transfer-Encoding: chunked\r\n\r\n5;" + "a" * 2048 + "\r\nhello\r\n0\r\n\r\n",
    "agent: 70 KB head": "GET /resp/bighead HTTP/1.1\r\n" + H + C + "\r\n",
    "agent: NUL in a header": "GET /resp/nul HTTP/1.1\r\n" + H + C + "\r\n",
    "agent: bare LF": "GET /resp/lf HTTP/1.1\r\n" + H + C + "\r\n",
}
json.dump([{"name": k, "data": v} for k, v in cases.items()], open(sys.argv[1], "w"))
EOF

python3 - "$T/logged.json" <<'EOF'
import json, sys
H = "Host: 169.254.169.254\r\n"
json.dump([
    {"name": "413", "data": "POST /l1 HTTP/1.1\r\n" + H + "Content-Length: 70000\r\n\r\n"},
    {"name": "abs", "data": "GET http://evil.example/l2 HTTP/1.1\r\n" + H + "\r\n"},
    {"name": "nohost", "data": "GET /l3 HTTP/1.1\r\n\r\n"},
    {"name": "tenant", "data": "GET /l4 HTTP/1.1\r\n" + H +
     "X-Tenant-ID: evil\r\nConnection: close\r\n\r\n"},
], open(sys.argv[1], "w"))
EOF

# The checker: "want" is the status every way must answer, or a dict of
# the answer per way; "agent" whether the request may reach the agent.
cat >"$T/check.py" <<'EOF'
import json, sys
from netcheck import load
way = sys.argv[4]
cases, res, recs = load(*sys.argv[1:4])
paths = [r.get("path", "") for r in recs if r.get("kind") == "request"]
want = {
    "ok": ("200", True),
    "identity headers": ("200", True),
    "absolute-form": ("400", False),
    "absolute-form with userinfo": ("400", False),
    "asterisk": ("400", False),
    "connect": ("405", False),
    "content-length 2^63+9": ("400", False),
    "1 MiB POST": ("413", False),
    "chunked 128 KiB": ("413", False),
    "64 KiB POST": ("200", True),
    "NUL in a header": ("400", False),
    "HTTP/1.1 without Host": ("400", False),
    "HTTP/1.0 without Host": ("200", True),
    "100 header lines": ("200", True),
    "101 header lines": ("431", False),
    "chunk extension 100 B": ("200", True),
    "chunk extension 2 KiB": ({"haproxy": "200"}.get(way, "400"), way == "haproxy"),
    "agent: 70 KB head": ("502", True),
    "agent: NUL in a header": ("502", True),
    "agent: bare LF": ({"haproxy": "200"}.get(way, "502"), True),
}
key = {"absolute-form": "/abs1", "absolute-form with userinfo": "/abs2",
       "content-length 2^63+9": "/hugecl", "1 MiB POST": "/bigcl",
       "chunked 128 KiB": "/chunk128k", "NUL in a header": "/reqnul",
       "HTTP/1.1 without Host": "/nohost", "101 header lines": "/h101",
       "chunk extension 2 KiB": "/ext2k", "connect": "evil.example:443",
       "asterisk": "*"}
for c in cases:
    name = c["name"]
    st, may_reach = want[name]
    got = res.get(name, {}).get("statuses", [])
    reached = [p for p in paths if name in key and
               (p == key[name] or p.endswith("/" + key[name].lstrip("/")))]
    verdict = "ok" if [str(x) for x in got[:1]] == [st] and (may_reach or not reached) else "FAIL"
    print("%s\t%s: %s\t%s" % (verdict, name, st if may_reach else st + ", nothing at the agent",
                             "got %s, agent saw %d" % (got, len(reached))))
for r in recs:
    if r.get("path") == "/ident":
        bad = [h for h, v in r["headers"] if h.lower().replace("_", "-") in
               ("forwarded", "x-real-ip", "x-instance-id", "x-instance-id-signature", "x-tenant-id")]
        print("%s\tidentity headers never reach the agent\t%s" % ("FAIL" if bad else "ok", bad))
    if r.get("path") == "/post64k":
        print("%s\tthe 64 KiB body reached the agent whole\t%s bytes" %
              ("ok" if r.get("body_bytes") == 65536 else "FAIL", r.get("body_bytes")))
# What the client got for the bare-LF answer: never a bare LF.
raw = res.get("agent: bare LF", {}).get("raw", "")
head = raw.split("\r\n\r\n")[0]
print("%s\tagent: bare LF: the client never gets a bare LF\t%r" %
      ("FAIL" if "\n" in head.replace("\r\n", "") else "ok", head[:120]))
EOF

for way in haproxy builtin front; do
	case_begin "$way" || continue
	if ! attack_agent_start --idle 3; then
		case_end
		continue
	fi
	log_mark
	if serve "$way" --debug; then
		client cases "$T/cases.json" --idle 2 --timeout 20
		agent_settle
		(cd "$T" && python3 "$T/check.py" "$T/cases.json" "$D/c.json" "$REC" "$way") \
			>"$D/verdicts" 2>"$D/check.err"
		[ -s "$D/check.err" ] && fail "$CASE: checker" "$(escape_file "$D/check.err" 300)"
		sed -i "s/^\(ok\|FAIL\)\t/\1\t$way: /" "$D/verdicts"
		verdicts "$D/verdicts"

		# Refusals logged with their reason (haproxy: in its own log line),
		# one each, a second after the cases (refusal lines are capped at
		# 10 a second per address).
		sleep 1.1
		client cases "$T/logged.json" --idle 1 --timeout 10
		sleep 0.5
		for r in body-too-large target-not-in-origin-form missing-host; do
			if log_text | grep -q "reason=$r"; then
				ok "$CASE: a refusal logged with reason=$r"
			else
				fail "$CASE: a refusal logged with reason=$r" "no such line"
			fi
		done
		if [ "$way" != haproxy ]; then
			if log_text | grep -qi "reason=spoofed-header-removed:X-Tenant-ID"; then
				ok "$CASE: a removed X-Tenant-ID logged at debug"
			else
				fail "$CASE: a removed X-Tenant-ID logged at debug" "no such line"
			fi
		fi

		# Per-source cap: 70 idle connections from one address.
		timeout 30 python3 "$CLIENT" hold 127.0.0.1 "$PORT" 70 --duration 1.5 \
			>"$D/hold.json" 2>"$D/hold.err"
		jv "$D/hold.json" closed='d.get("closed")' open='d.get("open_at_end")'
		if [ "$open" = 64 ] && [ "$closed" = 6 ]; then
			ok "$CASE: 70 connections from one address: 64 held, 6 closed"
		else
			fail "$CASE: 70 connections from one address: 64 held, 6 closed" "$open held, $closed closed"
		fi

		if [ "$way" != haproxy ]; then
			# The rate cap of refusal lines: 200 refusals in about a second.
			before=$(log_text | grep -c 'reason=target-not-in-origin-form')
			printf 'GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n' >"$D/abs"
			client blast "$D/abs" --conns 4 --duration 1
			sleep 1.5
			after=$(log_text | grep -c 'reason=target-not-in-origin-form')
			rounds=$(j "$D/c.json" 'd.get("rounds")')
			lines=$((after - before))
			if [ "$rounds" -ge 100 ] 2>/dev/null && [ "$lines" -le 30 ]; then
				ok "$CASE: $rounds refusals in 1 s, $lines lines logged"
			else
				fail "$CASE: refusal lines rate capped" "$rounds refusals, $lines lines"
			fi
			if log_text | grep -q "more refusals not logged"; then
				ok "$CASE: the lines not logged are counted"
			else
				fail "$CASE: the lines not logged are counted" "no such line"
			fi
		fi
		proxy_alive "$CASE: alive after the cases" "$D/proxy.err"
		proxy_stop "$D/proxy.err"
	fi
	case_end

	# The floods, each against a proxy of its own.
	case_begin "$way flood" || continue
	if attack_agent_start --idle 10 && serve "$way"; then
		flood "$way" "Content-Length 100000, over the cap" 100000
		proxy_alive "$CASE: alive" "$D/proxy.err"
		proxy_stop "$D/proxy.err"
	fi
	case_end
	case_begin "$way flood under the cap" || continue
	if attack_agent_start --idle 10 && serve "$way"; then
		flood "$way" "Content-Length 60000, deadline 2 s" 60000
		proxy_alive "$CASE: alive" "$D/proxy.err"
		proxy_stop "$D/proxy.err"
	fi
	case_end
done

# No cap: 70 connections from one address are all held.
case_begin "no per-source cap" && {
	if attack_agent_start && proxy_start builtin --max-conns-per-source 0; then
		timeout 30 python3 "$CLIENT" hold 127.0.0.1 "$PORT" 70 --duration 1.5 \
			>"$D/hold.json" 2>"$D/hold.err"
		check "$CASE: 70 connections held" "$(j "$D/hold.json" 'd.get("open_at_end")')" 70
		proxy_stop "$D/proxy.err"
	fi
}
case_end

MD=$OUT_DIR/net_hardening.md
python3 - "$TSV" >"$MD" <<'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
print("| " + " | ".join(rows[0]) + " |")
print("|" + "---|" * len(rows[0]))
for r in rows[1:]:
    print("| " + " | ".join(r) + " |")
EOF
echo "== slow-body floods: $FLOOD_N connections, ${FLOOD_S} s, a normal client from 127.0.0.2"
cat "$MD"
echo "($(($(ms) - T0)) ms)"
finish
