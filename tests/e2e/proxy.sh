#!/bin/bash
# What reaches the agent, end to end: the real haproxy exec'd by `run` in the
# foreground, real curl as the VM, tests/support/fake_agent.py as the
# metadata agent on a unix socket. Each case has its own state directory,
# port, agent and proxy, and stops exactly the processes it started.
#
# The agent's records are read as WSGI reads headers (upper case, '-' as
# '_'), so a spoofed header under any spelling counts against us.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HAPROXY=/usr/sbin/haproxy
# Which engine serves: haproxy (exec'd in place) or builtin (the proxy itself).
ENGINE=${NMP_ENGINE:-haproxy}
EVIL=deadbeef-dead-4bad-8bad-deadbeefdead # what a VM claims to be
EVIL_IP=10.9.8.7

for need in "$HAPROXY" "$AGENT"; do
	if [ ! -f "$need" ]; then
		fail "prerequisites" "$need is missing"
		finish
	fi
done
need_commands curl python3

# One case: case_begin NAME (a fresh directory D, a free PORT, the agent's
# SOCK and REC), agent_start MODE, case_end, and the proxy in PROXY_PID
# with its stop command in PROXY_STOP come from lib.sh; they stop only the
# processes the case started, by pid.

# Ports: port_busy, listeners and pick_port come from lib.sh.

HAVE_V6=0
if command -v ip >/dev/null 2>&1; then
	ip -6 addr show lo 2>/dev/null | grep -q 'inet6 ::1/128' && HAVE_V6=1
elif grep -qE '^0{31}1 .* lo$' /proc/net/if_inet6 2>/dev/null; then
	HAVE_V6=1
fi

# --- one case: proxy -------------------------------------------------------

# proxy_start LISTENERS ARGS...: `run` in the foreground with the id
# options in IDA and ARGS; waits until LISTENERS sockets listen on PORT.
proxy_start() {
	local want=$1
	shift
	PROXY_STOP=("$BIN" stop "${IDA[@]}" --state-path "$D" --pid-file "$D/p.pid")
	"$BIN" run "${IDA[@]}" --state-path "$D" --metadata-proxy-socket "$SOCK" \
		--metadata-port "$PORT" --metadata-proxy-user "$NMP_USER" \
		--metadata-proxy-group "$NMP_GROUP" --pid-file "$D/p.pid" \
		--engine "$ENGINE" "$@" \
		</dev/null >"$D/proxy.out" 2>"$D/proxy.err" &
	PROXY_PID=$!
	wait_until -p "$PROXY_PID" "$WAIT_MAX" listens "$PORT" "$want"
	if ! alive "$PROXY_PID" || ! listens "$PORT" "$want"; then
		fail "$CASE: proxy starts" "not listening on port $PORT ($want sockets) within 5 s: $(escape_file "$D/proxy.err" 400)"
		return 1
	fi
	# Foreground: the pid we started serves (haproxy exec'd in place, or
	# ourselves), and it is in the pidfile.
	local serving="^$HAPROXY -f "
	[ "$ENGINE" = builtin ] && serving="^$BIN run "
	if [ "$(cat "$D/p.pid" 2>/dev/null)" = "$PROXY_PID" ] &&
		tr '\0' ' ' <"/proc/$PROXY_PID/cmdline" | grep -q "$serving"; then
		ok "$CASE: proxy starts"
	else
		fail "$CASE: proxy starts" "pid $PROXY_PID, pidfile '$(cat "$D/p.pid" 2>/dev/null)', cmdline '$(tr '\0' ' ' <"/proc/$PROXY_PID/cmdline")'"
	fi
	return 0
}

# proxy_stop (lib.sh): `stop` succeeds and our proxy process is gone.

# --- requests and records --------------------------------------------------

# http URL CURLARGS... (CODE) and nrec come from lib.sh.

cat >"$T/inspect.py" <<'EOF'
import json
import sys

WSGI = [("xff", "HTTP_X_FORWARDED_FOR"), ("net", "HTTP_X_NEUTRON_NETWORK_ID"),
        ("router", "HTTP_X_NEUTRON_ROUTER_ID"), ("ovn", "HTTP_X_OVN_NETWORK_ID")]


def load(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def wsgi(name):
    return "HTTP_" + name.upper().replace("-", "_")


def ids(r):
    env = {}
    for name, value in r["headers"]:
        env.setdefault(wsgi(name), []).append(value)
    out = []
    for short, key in WSGI:
        vals = env.get(key, [])
        out.append("%s=%d%s" % (short, len(vals),
                                ":" + "|".join(vals) if vals else ""))
    known = {k for _, k in WSGI}
    other = [k for k in env if k not in known and
             (k.startswith("HTTP_X_NEUTRON_") or k.startswith("HTTP_X_OVN_"))]
    out.append("other=%d" % len(other))
    out.append("truncated=%s" % ("true" if r["truncated"] else "false"))
    return " ".join(out)


cmd, path = sys.argv[1], sys.argv[2]
recs = load(path)
if cmd == "count":
    print(len(recs))
    sys.exit(0)
i = int(sys.argv[3])
if i >= len(recs):
    print("(no record %d: %d recorded)" % (i, len(recs)))
elif cmd == "ids":
    print(ids(recs[i]))
else:
    print(recs[i][cmd])
EOF

# nrec: how many requests the agent recorded.
# (One JSON object a line: counting lines is enough, and cheap.)
# rec FIELD INDEX: a field of record INDEX (0-based), or its "ids" summary.
rec() {
	python3 "$T/inspect.py" "$1" "$REC" "$2"
}

# want_ids KIND ID XFF: the summary a correct proxy yields.
want_ids() {
	local net=net=0 router=router=0 ovn=ovn=0
	case $1 in
	net) net="net=1:$2" ;;
	router) router="router=1:$2" ;;
	ovn) ovn="ovn=1:$2" ;;
	esac
	printf 'xff=1:%s %s %s %s other=0 truncated=false' "$3" "$net" "$router" "$ovn"
}

# check_ids NAME INDEX KIND ID XFF: record INDEX has exactly our headers.
check_ids() {
	local name=$1 got want
	got=$(rec ids "$2")
	want=$(want_ids "$3" "$4" "$5")
	if [ "$got" = "$want" ]; then
		ok "$name"
	else
		fail "$name" "agent saw [$got], want [$want]"
	fi
}

# through NAME URL KIND ID XFF CURLARGS...: 200, one new record with
# exactly our identity headers.
through() {
	local name=$1 url=$2 kind=$3 id=$4 xff=$5 before after
	shift 5
	before=$(nrec)
	http "$url" "$@"
	after=$(nrec)
	if [ "$CODE" = 200 ] && [ "$after" -eq $((before + 1)) ]; then
		ok "$name: 200, one request reaches the agent"
		check_ids "$name: identity headers" "$before" "$kind" "$id" "$xff"
	else
		fail "$name" "status $CODE, agent records $before -> $after: $(escape_file "$D/curl.err" 200)"
	fi
}

# hargs "H1|H2|...": the -H arguments in HA.
hargs() {
	local h hs
	HA=()
	[ -n "$1" ] || return 0
	IFS='|' read -r -a hs <<<"$1"
	for h in "${hs[@]}"; do
		HA+=(-H "$h")
	done
}

SPOOFS=(
	""
	"X-Neutron-Network-ID: $EVIL"
	"x-neutron_network-id: $EVIL"
	"X_NEUTRON_NETWORK_ID: $EVIL"
	"X-Neutron-Router-ID: $EVIL"
	"X_Neutron_Router_ID: $EVIL"
	"x-NEUTRON-router_id: $EVIL"
	"X-OVN-Network-ID: $EVIL"
	"x_ovn_network_id: $EVIL"
	"X-Forwarded-For: $EVIL_IP"
	"X-FORWARDED_FOR: $EVIL_IP"
	"x_forwarded_for: $EVIL_IP, 10.9.8.6"
	"X-Neutron-Instance-ID: $EVIL|X_OVN_Chassis: evil"
)
ALL=$(printf '%s|' "${SPOOFS[@]:1}")
ALL=${ALL%|}
SPOOFS+=("$ALL|$ALL")

# spoofs URL KIND ID XFF: every spelling of every spoof, alone and all at
# once (twice each), and again on a kept-alive connection.
spoofs() {
	local url=$1 kind=$2 id=$3 xff=$4 s i before after w label
	for ((i = 0; i < ${#SPOOFS[@]}; i++)); do
		s=${SPOOFS[i]}
		hargs "$s"
		label=${s:0:40}
		[ ${#s} -gt 40 ] && label+=...
		through "$CASE: spoof ${label:-none}" "$url" "$kind" "$id" "$xff" "${HA[@]}"
	done
	# The second request on one client connection gets the same treatment.
	hargs "$ALL"
	before=$(nrec)
	w=$(curl -sS -g --noproxy '*' --max-time 10 -o /dev/null -o /dev/null \
		-w '%{http_code} %{num_connects};' "${HA[@]}" "$url/a" "$url/b" 2>"$D/curl.err")
	after=$(nrec)
	if [ "$w" = "200 1;200 0;" ] && [ "$after" -eq $((before + 2)) ]; then
		ok "$CASE: keep-alive: two requests, one connection"
		check_ids "$CASE: keep-alive: first request" "$before" "$kind" "$id" "$xff"
		check_ids "$CASE: keep-alive: second request" "$((before + 1))" "$kind" "$id" "$xff"
	else
		fail "$CASE: keep-alive" "curl: '$w' (want '200 1;200 0;'), agent records $before -> $after"
	fi
}

HAVE_H2=0
curl -V 2>/dev/null | grep -qi '^features:.* HTTP2' && HAVE_H2=1

# h2c URL KIND ID XFF: HTTP/2 with prior knowledge (haproxy speaks it on a
# clear-text bind): lower-case spoofs are removed the same way.
h2c() {
	if [ "$ENGINE" = builtin ]; then
		skip "$CASE: h2c" "the built-in engine speaks HTTP/1.x only"
		return 0
	fi
	if [ "$HAVE_H2" -ne 1 ]; then
		skip "$CASE: h2c" "curl has no HTTP/2"
		return 0
	fi
	through "$CASE: h2c spoof" "$1" "$2" "$3" "$4" --http2-prior-knowledge \
		-H "x_neutron_router_id: $EVIL" -H "x-neutron_network_id: $EVIL" \
		-H "x-ovn-network-id: $EVIL" -H "x-forwarded_for: $EVIL_IP" \
		-H "x_forwarded_for: $EVIL_IP"
}

# --- 1-3: the identity headers of each mode and flavour --------------------

identity_case() { # NAME KIND ID IDARGS...
	local name=$1 kind=$2 id=$3
	shift 3
	case_begin "$name" || return
	IDA=("$@")
	if agent_start normal && proxy_start 1 --bind-address 127.0.0.1; then
		spoofs "http://127.0.0.1:$PORT/latest/meta-data" "$kind" "$id" 127.0.0.1
		h2c "http://127.0.0.1:$PORT/h2" "$kind" "$id" 127.0.0.1
		proxy_stop
	fi
	case_end
}

identity_case network net "$ID" --network-id "$ID"
identity_case router router "$ID2" --router-id "$ID2"
identity_case ovn ovn "$ID" --network-id "$ID" --flavor ovn

# --- 4: the agent's single 4 KiB read --------------------------------------

ACCEPTED=0
REFUSED431=0

# fits NAME HEAD_BYTES CURLARGS...: either refused (431; 400 only for a
# head beyond haproxy's buffer) with nothing reaching the agent, or 200
# with our headers inside the agent's one read.
fits() {
	local name=$1 size=$2 before after
	shift 2
	before=$(nrec)
	http "http://127.0.0.1:$PORT/latest" "$@"
	after=$(nrec)
	if { [ "$CODE" = 431 ] || { [ "$CODE" = 400 ] && [ "$size" -gt 15000 ]; }; } &&
		[ "$after" -eq "$before" ]; then
		[ "$CODE" = 431 ] && REFUSED431=$((REFUSED431 + 1))
		ok "$name: refused ($CODE), agent untouched"
	elif [ "$CODE" = 200 ] && [ "$after" -eq $((before + 1)) ]; then
		ACCEPTED=$((ACCEPTED + 1))
		ok "$name: 200"
		check_ids "$name: whole head in one read" "$before" net "$ID" 127.0.0.1
	else
		fail "$name" "status $CODE, agent records $before -> $after (head ~$size bytes)"
	fi
}

# big N: a header of N value bytes.
big() {
	head -c "$1" /dev/zero | tr '\0' a
}

case_begin "neutron read" && {
	IDA=(--network-id "$ID")
	if agent_start neutron && proxy_start 1 --bind-address 127.0.0.1; then
		for n in 1000 3000 3700 3800 3850 3900 4000 6000 20000; do
			fits "$CASE: $n-byte header" "$n" -H "X-Big: $(big "$n")"
		done
		# A big header that is also a spoof is refused or removed.
		fits "$CASE: 3700-byte spoof" 3700 -H "X_Neutron_Router_ID: $(big 3700)"
		for n in 3500 3900; do
			before=$(nrec)
			http "http://127.0.0.1:$PORT/latest?q=$(big "$n")"
			if [ "$CODE" = 200 ] && [ "$(nrec)" -eq $((before + 1)) ]; then
				ACCEPTED=$((ACCEPTED + 1))
				ok "$CASE: $n-byte query: 200"
				check_ids "$CASE: $n-byte query: whole head in one read" "$before" net "$ID" 127.0.0.1
				p=$(rec path "$before")
				if [ ${#p} -eq $((n + 10)) ]; then
					ok "$CASE: $n-byte query: URL intact"
				else
					fail "$CASE: $n-byte query: URL intact" "agent got a ${#p}-byte path, want $((n + 10))"
				fi
			elif [ "$CODE" = 431 ] && [ "$(nrec)" -eq "$before" ]; then
				REFUSED431=$((REFUSED431 + 1))
				ok "$CASE: $n-byte query: refused (431), agent untouched"
			else
				fail "$CASE: $n-byte query" "status $CODE, agent records $before -> $(nrec)"
			fi
		done
		# Many small headers: 62 bytes each on the wire.
		for k in 40 61 62 70; do
			HA=()
			for ((j = 0; j < k; j++)); do
				HA+=(-H "$(printf 'X-Small-%02d: %050d' "$j" 0)")
			done
			fits "$CASE: $k small headers" $((k * 62)) "${HA[@]}"
		done
		# The exact limit, by bisection: the largest accepted header fits the
		# read with ours in it, one byte more is refused with 431.
		lo=1000 hi=6000
		for ((i = 0; i < 14 && hi - lo > 1; i++)); do
			mid=$(((lo + hi) / 2))
			http "http://127.0.0.1:$PORT/latest" -H "X-Big: $(big "$mid")"
			if [ "$CODE" = 200 ]; then lo=$mid; else hi=$mid; fi
		done
		if [ $((hi - lo)) -eq 1 ]; then
			ok "$CASE: limit found ($lo accepted)"
			fits "$CASE: largest accepted header ($lo)" "$lo" -H "X-Big: $(big "$lo")"
			hb=$(rec head_bytes $(($(nrec) - 1)))
			if [ "$CODE" = 200 ] && [ "$hb" -le 4096 ]; then
				ok "$CASE: largest head is $hb <= 4096 bytes"
			else
				fail "$CASE: largest head" "status $CODE, head $hb bytes"
			fi
			http "http://127.0.0.1:$PORT/latest" -H "X-Big: $(big "$hi")"
			if [ "$CODE" = 431 ]; then
				ok "$CASE: one byte more ($hi) is 431"
			else
				fail "$CASE: one byte more ($hi)" "status $CODE, want 431"
			fi
		else
			fail "$CASE: limit found" "bisection ended at $lo..$hi"
		fi
		if [ "$ACCEPTED" -ge 1 ] && [ "$REFUSED431" -ge 1 ]; then
			ok "$CASE: the limit exists ($ACCEPTED accepted, $REFUSED431 refused with 431)"
		else
			fail "$CASE: the limit exists" "$ACCEPTED accepted, $REFUSED431 refused with 431"
		fi
		proxy_stop
	fi
}
case_end

# --- 5: IPv6 ---------------------------------------------------------------

if [ "$HAVE_V6" -ne 1 ]; then
	skip "ipv6" "IPv6 is disabled on lo (no ::1)"
else
	if [ "$IS_ROOT" -ne 1 ]; then
		skip "ipv6 dual" "--bind-interface needs root (SO_BINDTODEVICE)"
	else
		case_begin "ipv6 dual" && {
			IDA=(--network-id "$ID")
			if agent_start normal && proxy_start 2 --bind-address 127.0.0.1 \
				--bind-address-v6 ::1 --bind-interface lo; then
				through "$CASE: v6 client" "http://[::1]:$PORT/v6" net "$ID" ::1
				through "$CASE: v6 client, spoofed" "http://[::1]:$PORT/v6" net "$ID" ::1 \
					-H "X_Forwarded_For: $EVIL_IP" -H "x-neutron-network_id: $EVIL"
				through "$CASE: v4 client" "http://127.0.0.1:$PORT/v4" net "$ID" 127.0.0.1
				proxy_stop
			fi
		}
		case_end
	fi
	case_begin "ipv6 main" && {
		IDA=(--router-id "$ID2")
		if agent_start normal && proxy_start 1 --bind-address ::1; then
			through "$CASE: v6 client" "http://[::1]:$PORT/v6" router "$ID2" ::1
			through "$CASE: v6 client, spoofed" "http://[::1]:$PORT/v6" router "$ID2" ::1 \
				-H "X-FORWARDED_FOR: $EVIL_IP" -H "X_Neutron_Router_ID: $EVIL"
			http "http://127.0.0.1:$PORT/v4"
			if [ "$CODE" = 000 ]; then
				ok "$CASE: nothing on 127.0.0.1"
			else
				fail "$CASE: nothing on 127.0.0.1" "status $CODE"
			fi
			proxy_stop
		fi
	}
	case_end
fi

# --- 6: rate limiting ------------------------------------------------------

RL=(--rate-limit-enabled --base-query-rate-limit 3 --burst-query-rate-limit 100
	--base-window-duration 60 --burst-window-duration 10)

# burst NAME URL: six quick requests from one address: three answered,
# then 429, and only the three reach the agent.
burst() {
	local name=$1 codes="" i want="200 200 200 429 429 429" before
	before=$(nrec)
	for ((i = 0; i < 6; i++)); do
		http "$2"
		codes+="$CODE "
	done
	codes=${codes% }
	if [ "$codes" = "$want" ]; then
		ok "$name: 3 answered, then 429"
	else
		fail "$name: 3 answered, then 429" "statuses '$codes', want '$want'"
	fi
	if [ "$(nrec)" -eq $((before + 3)) ]; then
		ok "$name: agent saw 3 requests"
	else
		fail "$name: agent saw 3 requests" "it saw $(($(nrec) - before))"
	fi
}

case_begin "rate limit" && {
	IDA=(--network-id "$ID")
	if agent_start normal && proxy_start 1 --bind-address 127.0.0.1 "${RL[@]}"; then
		burst "$CASE" "http://127.0.0.1:$PORT/rl"
		check_ids "$CASE: identity headers" 2 net "$ID" 127.0.0.1
		proxy_stop
	fi
}
case_end

if [ "$HAVE_V6" -ne 1 ]; then
	skip "rate limit v6" "IPv6 is disabled on lo (no ::1)"
else
	case_begin "rate limit v6" && {
		IDA=(--network-id "$ID")
		if agent_start normal && proxy_start 1 --bind-address ::1 "${RL[@]}" \
			--rate-limit-ip-version 6; then
			burst "$CASE" "http://[::1]:$PORT/rl"
			check_ids "$CASE: identity headers" 2 net "$ID" ::1
			proxy_stop
		fi
	}
	case_end
	# Both families on one proxy with the ipv6 table: each client address
	# is limited on its own (IPv4 ones as ::ffff:a.b.c.d).
	if [ "$IS_ROOT" -ne 1 ]; then
		skip "rate limit dual" "--bind-interface needs root (SO_BINDTODEVICE)"
	else
		case_begin "rate limit dual" && {
			IDA=(--network-id "$ID")
			if agent_start normal && proxy_start 2 --bind-address 127.0.0.1 \
				--bind-address-v6 ::1 --bind-interface lo "${RL[@]}" \
				--rate-limit-ip-version 6; then
				burst "$CASE: v6 client" "http://[::1]:$PORT/rl"
				burst "$CASE: v4 client" "http://127.0.0.1:$PORT/rl"
				proxy_stop
			fi
		}
		case_end
	fi
fi

# --- 7: a request body -----------------------------------------------------

case_begin "body" && {
	IDA=(--network-id "$ID")
	if agent_start normal && proxy_start 1 --bind-address 127.0.0.1; then
		head -c 10240 /dev/urandom >"$D/payload"
		through "$CASE: 10 KiB POST" "http://127.0.0.1:$PORT/openstack" net "$ID" 127.0.0.1 \
			-H 'Content-Type: application/octet-stream' --data-binary "@$D/payload"
		got="$(rec method 0) $(rec body_bytes 0)"
		if [ "$got" = "POST 10240" ]; then
			ok "$CASE: agent got the whole body"
		else
			fail "$CASE: agent got the whole body" "method and body bytes '$got', want 'POST 10240'"
		fi
		proxy_stop
	fi
}
case_end

# --- 8: no agent -----------------------------------------------------------

case_begin "no agent" && {
	IDA=(--network-id "$ID")
	SOCK=$D/nobody.sock # nothing listens here
	if proxy_start 1 --bind-address 127.0.0.1; then
		for i in 1 2; do
			http "http://127.0.0.1:$PORT/latest"
			if [ "$CODE" = 503 ]; then
				ok "$CASE: request $i: 503"
			else
				fail "$CASE: request $i: 503" "status $CODE"
			fi
		done
		if alive "$PROXY_PID"; then
			ok "$CASE: proxy still running"
		else
			fail "$CASE: proxy still running" "pid $PROXY_PID is gone: $(escape_file "$D/proxy.err" 300)"
		fi
		proxy_stop
		if [ ! -e "$D/ns-metadata-proxy/$ID.conf" ] && [ ! -e "$D/p.pid" ]; then
			ok "$CASE: stop removed config and pidfile"
		else
			fail "$CASE: stop removed config and pidfile" "$(ls -A "$D" "$D/ns-metadata-proxy" 2>&1 | tr '\n' ' ')"
		fi
	fi
}
case_end

finish
