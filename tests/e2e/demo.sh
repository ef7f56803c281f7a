#!/usr/bin/env bash
# README's first command, scripts/demo, with each engine: it exits 0, says
# nothing on standard error, shows what the agent saw (our id and address,
# not the spoofed header), and stops what it started. And with something
# wrong (a proxy that cannot start), it fails with one line saying so.
#
#   bash tests/e2e/demo.sh /path/to/ns-metadata-proxy
#
# The demo builds build/release of the source tree itself (a no-op when it
# is up to date, as in scripts/test).

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

DEMO=$SRC/scripts/demo

for engine in haproxy builtin; do
	C="demo $engine"
	timeout 300 "$DEMO" "$engine" </dev/null >"$T/out" 2>"$T/err"
	RC=$?
	expect_code "$C: exit" 0 "$RC"
	assert "$C: nothing on stderr" "$(escape_file "$T/err" 400)" [ ! -s "$T/err" ]
	assert "$C: the agent saw our id" "$(escape_file "$T/out" 600)" \
		grep -qiE "^  x-neutron-network-id: $ID\$" "$T/out"
	assert "$C: the agent saw the client's address" "$(escape_file "$T/out" 600)" \
		grep -qiE '^  x-forwarded-for: 127\.0\.0\.1$' "$T/out"
	assert "$C: not the spoofed header" "$(escape_file "$T/out" 600)" \
		not grep -qi 'spoofed$' "$T/out"
	assert "$C: stopped at the end" "$(escape_file "$T/out" 600)" \
		grep -qx 'not running' "$T/out"
	state=$(sed -n 's/^== a demo metadata agent on \(.*\)\/metadata_proxy$/\1/p' "$T/out")
	assert "$C: its state directory is gone" "'$state'" \
		eval '[ -n "$state" ] && [ ! -e "$state" ]'
	assert "$C: no proxy left for the demo's id" "$(pgrep -af -- "$state" | head -n 3)" \
		eval '[ -n "$state" ] && ! pgrep -f -- "$state" >/dev/null'
done

# Something wrong: an engine it does not know is a usage error (64) with
# one line.
C="demo bad engine"
timeout 60 "$DEMO" nginx </dev/null >"$T/out" 2>"$T/err"
expect_code "$C: exit" 64 $?
assert "$C: one line on stderr" "$(escape_file "$T/err" 300)" one_line "$T/err"

# A port another program holds: the proxy cannot start, and the demo ends
# with one line that says so, naming the address.
C="demo busy port"
python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
time.sleep(120)
' >"$T/holder.out" &
HOLDER=$!
at_exit "kill $HOLDER"
if wait_until -p "$HOLDER" 50 test -s "$T/holder.out"; then
	busy=$(cat "$T/holder.out")
	timeout 120 "$DEMO" builtin "$busy" </dev/null >"$T/out" 2>"$T/err"
	expect_code "$C: exit" 1 $?
	assert "$C: one line on stderr" "$(escape_file "$T/err" 300)" one_line "$T/err"
	assert "$C: it names the address in use" "$(escape_file "$T/err" 300)" \
		grep -qF "127.0.0.1 port $busy: Address already in use" "$T/err"
else
	fail "$C: port holder" "did not start"
fi
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null

finish
