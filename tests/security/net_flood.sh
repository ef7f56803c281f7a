#!/bin/bash
# Floods and faults, with each engine: connections beyond maxconn held idle,
# slowloris heads, huge heads (64 KiB, 1 MiB), huge uploads to an agent that
# reads slowly, an agent that never answers, bodies announced and never
# sent, an agent that resets mid-response. In every case a separate, normal client (raw_client.py
# probe: a GET on a fresh connection every 0.1 s) must keep getting 200s
# while the attack runs, within a stated time; the proxy must stay alive;
# and its memory must stay bounded: the peak RSS (VmHWM of the proxy
# process; haproxy's own pid, exec'd in place) is reported for every case
# and bounded for the built-in engine.
#
# Each case runs its own agent and proxy, with short timeouts so that the
# whole script stays within about 90 s. Under ASan (NMP_SANITIZED=1) the
# counts and sizes are lower and the memory bound looser, and it says so.
# The table goes to $NMP_BUILD_DIR/security/net_flood.{tsv,md}.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/net_lib.sh"
net_prereqs
T0=$(ms)

if [ "$SANITIZED" -eq 1 ]; then
	IDLE_N=1500      # beyond maxconn whatever the build
	LORIS_N=150
	HANG_N=100
	UPLOAD=$((20 * 1024 * 1024))
	MEM_BOUND_KIB=$((48 * 1024))
	E_ASAN_OPTIONS=$NO_QUARANTINE
	echo "ASan build: slowloris $LORIS_N, hung requests $HANG_N, uploads of 20 MiB; built-in peak RSS bound 48 MiB, not 64 (ASan's shadow memory and allocator inflate RSS by ~6 MiB at idle; its quarantine is off so freed memory is reused)"
else
	IDLE_N=1500
	LORIS_N=300
	HANG_N=200
	UPLOAD=$((50 * 1024 * 1024))
	MEM_BOUND_KIB=$((64 * 1024))
	E_ASAN_OPTIONS=
fi
export E_ASAN_OPTIONS
IDA=(--network-id "$ID")
TSV=$OUT_DIR/net_flood.tsv
printf 'case\tengine\tattacker saw\tnormal client\tidle RSS (KiB)\tpeak RSS (KiB)\n' >"$TSV"

# The normal client must be this prompt, except where the attack holds
# every connection slot (then it waits for the request timeout to free one).
PROMPT_MS=1000
[ "$SANITIZED" -eq 1 ] && PROMPT_MS=1500

# flood_begin NAME ENGINE PROXY_ARGS...: a proxy of its own on a fresh
# port, for the agent of this engine's cases; notes its idle RSS.
flood_begin() {
	local name=$1 engine=$2
	shift 2
	CASE_T0=$(ms)
	CASE="$name ($engine)"
	pick_port || {
		fail "$CASE" "no free port in 20000-29999"
		return 1
	}
	# Every client here, the normal one too, is 127.0.0.1: no per-source
	# cap (net_hardening.sh has it).
	if ! proxy_start "$engine" --max-conns-per-source 0 "$@"; then
		proxy_kill
		return 1
	fi
	sleep 0.2
	IDLE_KIB=$(kib "$PROXY_PID" VmRSS)
	return 0
}

# hold_probe SETTLE SECONDS MAX_MS N ARGS...: raw_client.py hold N ARGS
# against PORT in the background (its JSON in $D/hold.json); SETTLE s
# later the normal client for SECONDS; both reaped, then probe_check MAX_MS.
hold_probe() {
	local settle=$1 secs=$2 max=$3 hpid
	shift 3
	timeout 60 python3 "$CLIENT" hold 127.0.0.1 "$PORT" "$@" \
		>"$D/hold.json" 2>"$D/hold.err" &
	hpid=$!
	BG_PIDS+=("$hpid")
	sleep "$settle"
	probe_start "$secs"
	bg_reap "$hpid"
	probe_check "$max"
}

# blast_probe FILE: 4 senders of the request in FILE for 1.5 s (their JSON
# in $D/c.json), the normal client meanwhile; then probe_check PROMPT_MS.
blast_probe() {
	probe_start 1.5
	client blast "$1" --conns 4 --duration 1.5
	probe_check "$PROMPT_MS"
}

# probe_start SECONDS: the normal client in the background.
probe_start() {
	timeout 60 python3 "$CLIENT" probe 127.0.0.1 "$PORT" /probe --gap 0.1 \
		--duration "$1" --timeout 10 >"$D/probe.json" 2>"$D/probe.err" &
	PROBE_PID=$!
	BG_PIDS+=("$PROBE_PID")
}

# probe_check MAX_MS: every answer 200, at least 5 of them, none slower
# than MAX_MS.
probe_check() {
	local max=$1 st n slow cs
	bg_reap "$PROBE_PID"
	jv "$D/probe.json" st='d.get("statuses")' n='d.get("n")' \
		slow='d.get("slowest_ms")' cs="$(counts statuses)"
	PROBE_SUMMARY="$n requests, $cs, slowest $slow ms"
	if [ "$st" = "{\"200\": $n}" ] && [ "$n" -ge 5 ] 2>/dev/null; then
		ok "$CASE: normal client: all 200 ($n requests)"
	else
		fail "$CASE: normal client: all 200" "$PROBE_SUMMARY $(escape_file "$D/probe.err" 200)"
	fi
	if [ "$slow" -le "$max" ] 2>/dev/null; then
		ok "$CASE: normal client: slowest answer $slow ms <= $max ms"
	else
		fail "$CASE: normal client: slowest answer <= $max ms" "$PROBE_SUMMARY"
	fi
}

# flood_end ATTACKER_SUMMARY: alive, memory, table row, stop.
flood_end() {
	local peak
	proxy_alive "$CASE: proxy alive" "$D/proxy.err"
	peak=$(kib "$PROXY_PID" VmHWM)
	if [ "$ENGINE" = builtin ]; then
		if [ -n "$peak" ] && [ "$peak" -lt "$MEM_BOUND_KIB" ]; then
			ok "$CASE: peak RSS $peak KiB < $MEM_BOUND_KIB KiB"
		else
			fail "$CASE: peak RSS < $MEM_BOUND_KIB KiB" "VmHWM ${peak:-?} KiB"
		fi
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "${CASE% (*}" "$ENGINE" "$1" \
		"$PROBE_SUMMARY" "${IDLE_KIB:-?}" "${peak:-?}" >>"$TSV"
	proxy_stop "$D/proxy.err"
	echo "$CASE: $(($(ms) - CASE_T0)) ms"
}

# counts KEY: an expression for jv: "k xN, ..." of the object d[KEY].
counts() {
	printf '", ".join("%%s x%%d" %% kv for kv in sorted(d.get("%s", {}).items())) or "none"' "$1"
}

for engine in "${ENGINES[@]}"; do
	# One agent serves all the cases of an engine: it answers at once but
	# for /hang (never, within --delay 10 s) and /rst (a reset), reads
	# /slowbody bodies at --rate (each upload takes it ~2 s) and waits
	# --idle 10 s for bytes that do not come, longer than any timeout here,
	# so that it is never what cuts a request.
	case_begin "$engine" || continue
	if ! attack_agent_start --idle 10 --delay 10 --rate $((UPLOAD / 2)); then
		case_end
		continue
	fi

	# --- 1: idle connections beyond maxconn (1024) -------------------------
	# Every slot is taken: the normal client waits in the backlog until the
	# request timeout (1 s) cuts the idle ones, so its bound is that plus
	# slack, not PROMPT_MS.
	if flood_begin "$IDLE_N idle connections (maxconn 1024)" "$engine" \
		--timeout-http-request 1s; then
		hold_probe 0.5 2 3000 "$IDLE_N" --duration 3
		jv "$D/hold.json" conn='d.get("connected")' closed='d.get("closed")' \
			last='d.get("last_close")' open='d.get("open_at_end")' cs="$(counts statuses)"
		got="$conn connected, $closed closed by the proxy (last after $last s): $cs"
		check "$CASE: all $IDLE_N connected, all closed by the request timeout" \
			"$conn $open" "$IDLE_N 0"
		flood_end "$got"
	fi

	# --- 2: slowloris ------------------------------------------------------
	if flood_begin "slowloris: $LORIS_N heads, 1 byte / 0.5 s" "$engine" \
		--timeout-http-request 1s; then
		hold_probe 0.3 1.5 "$PROMPT_MS" "$LORIS_N" --drip --gap 0.5 --duration 3
		jv "$D/hold.json" closed='d.get("closed")' last='d.get("last_close")' \
			open='d.get("open_at_end")' cs="$(counts statuses)"
		got="$closed of $LORIS_N cut (last after $last s): $cs"
		if [ "$open" = 0 ] && awk -v s="$last" 'BEGIN { exit !(s != "None" && s <= 2.8) }'; then
			ok "$CASE: every slow head cut by the request timeout ($got)"
		else
			fail "$CASE: every slow head cut by the request timeout" "$got; $open still open"
		fi
		flood_end "$got"
	fi

	# --- 3: huge heads -----------------------------------------------------
	for size in 65536 1048576; do
		if flood_begin "$((size / 1024)) KiB of headers, 4 senders for 1.5 s" "$engine"; then
			python3 - "$D/head" "$size" <<'EOF'
import sys
n = int(sys.argv[2])
line = b"X-Pad: " + b"a" * 1000 + b"\r\n"
open(sys.argv[1], "wb").write(b"GET /huge HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                              line * (n // len(line)) + b"\r\n")
EOF
			blast_probe "$D/head"
			jv "$D/c.json" rounds='d.get("rounds")' cs="$(counts statuses)" \
				any200='any(k.startswith("200") for k in d.get("statuses", {}))'
			got="$rounds requests: $cs"
			# Refused in any way (431, 400, or the connection cut while
			# sending), never 200, never at the agent.
			if [ "$any200" = false ] && [ "$rounds" -gt 0 ] 2>/dev/null &&
				! grep -q '/huge' "$REC" 2>/dev/null; then
				ok "$CASE: refused, never reaches the agent ($got)"
			else
				fail "$CASE: refused, never reaches the agent" "$got; agent: $(grep -c /huge "$REC" 2>/dev/null)"
			fi
			flood_end "$got"
		fi
	done

	# --- 4: huge uploads to an agent that reads slowly ----------------------
	# Each upload takes the agent ~2 s, twice timeout server: an agent that
	# is taking a body is active, not silent (haproxy's timeout server).
	if flood_begin "2 uploads of $((UPLOAD / 1048576)) MiB, agent reads $((UPLOAD / 2 / 1048576)) MiB/s (timeout server 1 s)" \
		"$engine" --timeout-server 1s --max-body-size 0; then
		probe_start 2
		ups=()
		for k in 1 2; do
			timeout 60 python3 "$CLIENT" upload 127.0.0.1 "$PORT" "/slowbody/$k" \
				--size "$UPLOAD" --timeout 30 >"$D/up$k.json" 2>"$D/up$k.err" &
			ups+=($!)
			BG_PIDS+=($!)
		done
		for p in "${ups[@]}"; do
			bg_reap "$p"
		done
		probe_check "$PROMPT_MS"
		agent_settle
		jv "$D/up1.json" st1='d.get("status")' s1='d.get("seconds")'
		jv "$D/up2.json" st2='d.get("status")' s2='d.get("seconds")'
		got="$st1 $st2 after $s1 s / $s2 s"
		check "$CASE: both uploads answered 200" "$st1 $st2" "200 200"
		python3 - "$REC" >"$D/agent.sum" <<'EOF'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(sorted((x["path"], x["body_bytes"]) for x in r if "/slowbody" in x.get("path", "")))
EOF
		check "$CASE: the agent got both bodies whole" "$(cat "$D/agent.sum")" \
			"[('/slowbody/1', $UPLOAD), ('/slowbody/2', $UPLOAD)]"
		flood_end "$got"
	fi

	# --- 5: an agent that never answers ------------------------------------
	if flood_begin "$HANG_N requests the agent never answers (timeout server 1 s)" "$engine" \
		--timeout-server 1s; then
		hold_probe 0.3 1.5 "$PROMPT_MS" "$HANG_N" --request /hang --duration 3
		jv "$D/hold.json" st='d.get("statuses")' last='d.get("last_close")' cs="$(counts statuses)"
		got="$cs (last after $last s)"
		check "$CASE: every hung request answered 504" "$st" "{\"504\": $HANG_N}"
		flood_end "$got"
	fi

	# --- 6: bodies announced and never sent -------------------------------
	# A POST of 1 MiB stops after 1 KiB: with no body cap (with one it is
	# 413 at once, net_hardening.sh) the body streams to the agent, nothing
	# moves on its side, so timeout server (1 s) ends it with 504, as
	# haproxy does.
	if flood_begin "$HANG_N bodies stalled after 1 KiB (timeout server 1 s, no body cap)" "$engine" \
		--timeout-server 1s --max-body-size 0; then
		hold_probe 0.3 1.5 "$PROMPT_MS" "$HANG_N" --request /stall --post --duration 3
		jv "$D/hold.json" st='d.get("statuses")' last='d.get("last_close")' cs="$(counts statuses)"
		got="$cs (last after $last s)"
		if [ "$st" = "{\"504\": $HANG_N}" ] && awk -v s="$last" 'BEGIN { exit !(s != "None" && s <= 2.8) }'; then
			ok "$CASE: every stalled request cut with 504 by timeout server ($got)"
		else
			fail "$CASE: every stalled request cut with 504 by timeout server" "$got"
		fi
		flood_end "$got"
	fi

	# --- 7: an agent that resets mid-response -------------------------------
	if flood_begin "agent resets mid-response (RST), 4 senders for 1.5 s" "$engine"; then
		printf 'GET /rst HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >"$D/rst"
		blast_probe "$D/rst"
		jv "$D/c.json" rounds='d.get("rounds")' cs="$(counts statuses)" \
			whole='"200" in d.get("statuses", {})'
		got="$rounds requests: $cs"
		# The client sees the cut (a short body, a reset or an error status),
		# never a complete 200.
		if [ "$whole" = false ] && [ "$rounds" -gt 0 ] 2>/dev/null; then
			ok "$CASE: no client takes a cut response for a whole one ($got)"
		else
			fail "$CASE: no client takes a cut response for a whole one" "$got"
		fi
		flood_end "$got"
	fi
	case_end
done

MD=$OUT_DIR/net_flood.md
python3 - "$TSV" "$SANITIZED" >"$MD" <<'EOF'
import sys

rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]


def mib(k):
    try:
        return "%.1f" % (int(k) / 1024.0)
    except ValueError:
        return k


print("| case | engine | attacker saw | normal client meanwhile | idle RSS MiB | peak RSS MiB |")
print("|---|---|---|---|---:|---:|")
for r in rows:
    print("| %s | %s | %s | %s | %s | %s |" % (r[0], r[1], r[2], r[3],
                                              mib(r[4]), mib(r[5])))
if sys.argv[2] == "1":
    print("\nASan build: RSS includes ASan's shadow memory; lower counts.")
EOF
echo "== floods and faults: what the attacker saw, the normal client meanwhile, memory (VmRSS at idle, VmHWM at the end)"
cat "$MD"
echo "(every case: $TSV; $(($(ms) - T0)) ms)"
finish
