#!/bin/bash
# The built-in engine under valgrind's memcheck: `run --engine builtin` in
# the foreground with tests/support/fake_agent.py as the metadata agent,
# a short bounded wrk load (keep-alive, then Connection: close), a POST with
# a body, the refusals (503 with the agent absent, 431, 400), then SIGTERM.
# Asserts: no memcheck error, nothing definitely, indirectly or possibly
# lost at exit, the engine exits 0, and wrk got real 200 responses.
#
#   bash tests/security/memcheck.sh /path/to/ns-metadata-proxy
#
# Valgrind and AddressSanitizer do not mix: with the sanitized binary
# (NMP_SANITIZED true, or ASan linked in) this skips with the reason.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

LOAD_SECONDS=${NMP_MEMCHECK_SECONDS:-5}
CONNS=16
VG_ERROR=99 # valgrind's exit status when it found an error
WAIT_MAX=300 # polls of 0.1 s: valgrind starts and stops slowly

case ${NMP_SANITIZED:-0} in
1 | ON | on | TRUE | true | YES | yes)
	skip "memcheck" "the binary is the sanitized build (NMP_SANITIZED=$NMP_SANITIZED): valgrind and ASan do not mix"
	finish
	;;
esac
if grep -qa __asan_init "$BIN"; then
	skip "memcheck" "$BIN is built with AddressSanitizer: valgrind and ASan do not mix"
	finish
fi
for need in valgrind wrk curl python3; do
	if ! command -v "$need" >/dev/null 2>&1; then
		skip "memcheck" "$need is not installed (scripts/setup installs it)"
		finish
	fi
done
for need in "$AGENT" "$CLIENT"; do
	if [ ! -f "$need" ]; then
		fail "prerequisites" "$need is missing"
		finish
	fi
done

# One case (lib.sh): D, PORT, URL, SOCK; the engine in PROXY_PID and the
# agent, stopped at exit by pid.
case_begin "memcheck" || finish

# expect_status NAME WANT CURLARGS...: one request to URL/memcheck, status
# WANT (a longer time-out than lib.sh's http: valgrind is slow).
expect_status() {
	local name=$1 want=$2 code
	shift 2
	code=$(curl -sS -g --noproxy '*' --max-time 20 -o "$D/body" \
		-w '%{http_code}' "$@" "$URL/memcheck" 2>"$D/curl.err")
	if [ "$code" = "$want" ]; then
		ok "$name"
	else
		fail "$name" "status '${code:-none}', want $want: $(escape_file "$D/curl.err" 200)"
	fi
}

# wrk counts statuses only: this script also counts, over all threads, the
# responses that are a 200 with the agent's JSON body for /load, and the
# others.
cat >"$T/count.lua" <<'LUA'
local threads = {}
function setup(thread)
	table.insert(threads, thread)
end
function init(args)
	agent200 = 0
	other = 0
end
function response(status, headers, body)
	if status == 200 and body ~= nil and
	    body:find('"path": "/load"', 1, true) then
		agent200 = agent200 + 1
	else
		other = other + 1
	end
end
function done(summary, latency, requests)
	local a, o = 0, 0
	for _, t in ipairs(threads) do
		a = a + t:get("agent200")
		o = o + t:get("other")
	end
	io.write(string.format("counted: %d agent200 %d other\n", a, o))
end
LUA

# wrk_run NAME ARGS...: a bounded wrk run against URL/load; its report in
# $D/wrk-NAME.txt; asserts every response was a 200 from the agent.
wrk_run() {
	local name=$1 out=$D/wrk-$1.txt reqs non2xx sockerr rps a200 other
	shift
	timeout $((LOAD_SECONDS + 30)) wrk -t 2 -c "$CONNS" -d "${LOAD_SECONDS}s" \
		--timeout 10s -s "$T/count.lua" "$@" "$URL/load" >"$out" 2>&1
	reqs=$(sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p' "$out")
	rps=$(sed -n 's/^Requests\/sec: *//p' "$out")
	non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *//p' "$out")
	sockerr=$(sed -n 's/^ *Socket errors: *//p' "$out")
	a200=$(sed -n 's/^counted: \([0-9]*\) agent200 .*/\1/p' "$out")
	other=$(sed -n 's/^counted: [0-9]* agent200 \([0-9]*\) other$/\1/p' "$out")
	echo "wrk $name: ${reqs:-?} requests in ${LOAD_SECONDS} s (${rps:-?} req/s) over $CONNS connections; ${a200:-?} were 200 with the agent's body, ${other:-?} other; non-2xx ${non2xx:-0}; socket errors ${sockerr:-none}"
	if [ "${reqs:-0}" -ge 1 ] 2>/dev/null && [ "$a200" = "$reqs" ] &&
		[ "$other" = 0 ] && [ -z "$non2xx" ]; then
		ok "wrk $name: $reqs responses, each a 200 from the agent"
	else
		fail "wrk $name: every response a 200 from the agent" "requests '${reqs:-?}', agent 200s '${a200:-?}', other '${other:-?}', non-2xx '${non2xx:-0}': $(tr '\n' ' ' <"$out" | head -c 400)"
	fi
	if [ -n "$sockerr" ]; then
		fail "wrk $name: no socket errors" "$sockerr"
	else
		ok "wrk $name: no socket errors"
	fi
}

# --- the engine under memcheck, the agent absent at first -------------------

(
	ulimit -n 4096 2>/dev/null
	exec valgrind --tool=memcheck --leak-check=full --show-leak-kinds=all \
		--errors-for-leak-kinds=definite,indirect,possible \
		--error-exitcode="$VG_ERROR" --num-callers=30 \
		--log-file="$D/valgrind.log" \
		"$BIN" run --engine builtin --network-id "$ID" --state-path "$D" \
		--metadata-proxy-socket "$SOCK" --bind-address 127.0.0.1 \
		--metadata-port "$PORT" --metadata-proxy-user "$NMP_USER" \
		--metadata-proxy-group "$NMP_GROUP" --pid-file "$D/p.pid"
) </dev/null >"$D/engine.out" 2>"$D/engine.err" &
PROXY_PID=$!
if ! wait_until -p "$PROXY_PID" "$WAIT_MAX" proxy_up; then
	fail "engine starts under valgrind" "not listening on port $PORT: $(escape_file "$D/engine.err" 300) $(escape_file "$D/valgrind.log" 600)"
	finish
fi
ok "engine starts under valgrind"

expect_status "agent absent: 503" 503

if ! agent_start normal; then
	finish
fi
expect_status "agent present: 200" 200
if [ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("path"))' "$D/body" 2>/dev/null)" = /memcheck ]; then
	ok "the agent's body came through"
else
	fail "the agent's body came through" "$(escape_file "$D/body" 200)"
fi

# --- refusals -----------------------------------------------------------------

expect_status "a 20 KB header: 431" 431 -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)"
printf 'POST /memcheck HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n' >"$D/ambiguous"
timeout 60 python3 "$CLIENT" send 127.0.0.1 "$PORT" "$D/ambiguous" --timeout 20 \
	>"$D/c.json" 2>"$D/c.err"
st=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("status"))' "$D/c.json" 2>/dev/null)
if [ "$st" = 400 ]; then
	ok "Content-Length with Transfer-Encoding: 400"
else
	fail "Content-Length with Transfer-Encoding: 400" "status '$st': $(escape_file "$D/c.err" 200)"
fi
head -c 65536 /dev/zero | tr '\0' b >"$D/post"
expect_status "a POST with a 64 KiB body: 200" 200 --data-binary "@$D/post"

# --- load ---------------------------------------------------------------------

wrk_run keep-alive
wrk_run close -H "Connection: close"
expect_status "served after the load: 200" 200

# --- SIGTERM, then what memcheck saw ------------------------------------------

kill -TERM "$PROXY_PID"
reap "$PROXY_PID"
PROXY_PID=
if [ "$REAPED" -eq 0 ]; then
	ok "engine exits 0 on SIGTERM under valgrind"
elif [ "$REAPED" -eq "$VG_ERROR" ]; then
	fail "engine exits 0 on SIGTERM under valgrind" "valgrind found errors (exit $VG_ERROR)"
else
	fail "engine exits 0 on SIGTERM under valgrind" "exit $REAPED: $(escape_file "$D/engine.err" 300)"
fi

log=$D/valgrind.log
summary=$(grep -E 'ERROR SUMMARY:|definitely lost:|indirectly lost:|possibly lost:|still reachable:|All heap blocks were freed|in use at exit:' "$log" | sed 's/^==[0-9]*== *//')
echo "valgrind summary:"
printf '%s\n' "$summary" | sed 's/^/  /'
if grep -qE '^==[0-9]+== ERROR SUMMARY: 0 errors' "$log"; then
	ok "memcheck: ERROR SUMMARY: 0 errors"
else
	fail "memcheck: no error" "$(grep -m1 'ERROR SUMMARY' "$log"); first: $(grep -m1 -A8 -E '^==[0-9]+== (Invalid|Conditional|Syscall param|Use of uninit|Mismatched|[0-9,]+ bytes in)' "$log" | sed 's/^==[0-9]*== *//' | tr '\n' ' ' | head -c 600)"
fi
for kind in definitely indirectly possibly; do
	if grep -q 'All heap blocks were freed -- no leaks are possible' "$log" ||
		grep -qE "^==[0-9]+== +$kind lost: 0 bytes in 0 blocks" "$log"; then
		ok "memcheck: $kind lost: 0"
	else
		fail "memcheck: $kind lost: 0" "$(grep -E "$kind lost:" "$log" | sed 's/^==[0-9]*== *//')"
	fi
done
# The summary must be there at all: valgrind really ran the engine to its end.
if grep -qE '^==[0-9]+== HEAP SUMMARY:' "$log"; then
	ok "memcheck: heap summary written at exit"
else
	fail "memcheck: heap summary written at exit" "$(escape_file "$log" 400)"
fi

finish
