#!/bin/bash
# Attack: directive injection through the command line. Every value option
# ends up in the haproxy config (ids, addresses, interface, port, paths,
# user and group, timeouts, rate limits), in a path the launcher opens, or
# in the exec of haproxy (--haproxy-path, --netns, the config path). A value
# carrying a newline, CR, '#', a blank, a quote, '$VAR', '${VAR}', a
# backslash, an escape sequence, a control or non-ASCII byte, or haproxy's
# '%[...]' sample syntax must be refused before anything happens:
#   - exit 65 (invalid value), one stderr line naming the option as it was
#     spelled (dash or neutron's underscore), the value escaped;
#   - nothing on stdout, the state tree (a previous config and pidfile
#     directory included) unchanged, haproxy never exec'd, no process left.
# Both `--opt=v` and `--opt v`, dash and underscore spellings, `render` and
# `run`. Then '%' where the grammar accepts it (paths) is shown to reach a
# real haproxy literally.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/fs_lib.sh"

W=$T/w
S=$W/state
mkdir -p -m 0755 "$W" "$S"
cd "$W" || exit 2
mkdir -m 0700 "$S/ns-metadata-proxy"
printf 'previous config\n' >"$S/ns-metadata-proxy/$ID.conf"
chmod 0600 "$S/ns-metadata-proxy/$ID.conf"
mkdir -p -m 0755 "$S/external/pids" "$W/log"

# The payloads: name and the bytes appended to a valid value.
PNAMES=(newline-directive cr crlf hash space tab squote dquote dollar-var
	dollar-brace backslash ansi-escape ctrl-01 del high-byte utf8-nbsp
	percent-sample percent-newline-encoded-in-id)
PVALS=($'\n    server evil 127.0.0.1:1' $'\r' $'\r\nglobal' '#x' ' x' $'\tx' "'x" '"x'
	'$HOME' '${HOME}' '\nx' $'\e[31m' $'\x01' $'\x7f' $'\xff' $'\xc2\xa0'
	'%[env(HOME)]' '')

# Value options: name, whether neutron's underscore spelling exists, a valid
# value the payload is appended to, and options it needs beside it.
# Options that are part of the base command line replace their base value.
OPTS=(
	"network-id|u|$ID|"
	"router-id|u|$ID|"
	"metadata-proxy-socket|u|$W/agent.sock|"
	"bind-address|u|127.0.0.1|"
	"bind-address-v6|u|::1|--bind-interface lo"
	"bind-interface|u|lo|--bind-address-v6 ::1"
	"metadata-port|u|9697|"
	"metadata-proxy-user|u|$NMP_USER|"
	"metadata-proxy-group|u|$NMP_GROUP|"
	"state-path|u|$S|"
	"pid-file|u|$S/external/pids/$ID.pid|"
	"netns|-|nmpns|"
	"engine|-|haproxy|"
	"haproxy-path|u|$FAKE|"
	"flavor|-|neutron|"
	"timeout-http-request|u|30s|"
	"timeout-connect|u|30s|"
	"timeout-client|u|32s|"
	"timeout-server|u|32s|"
	"timeout-http-keep-alive|u|30s|"
	"rate-limit-ip-version|u|4|--rate-limit-enabled"
	"base-window-duration|u|10|--rate-limit-enabled"
	"base-query-rate-limit|u|10|--rate-limit-enabled"
	"burst-window-duration|u|10|--rate-limit-enabled"
	"burst-query-rate-limit|u|10|--rate-limit-enabled"
	"stop-timeout|u|5|"
	"log-file|u|proxy.log|--log-dir $W/log"
	"log-dir|u|$W/log|--log-file proxy.log"
	"syslog-log-facility|u|LOG_USER|"
)
BASE_NAMES=(network-id state-path metadata-proxy-user metadata-proxy-group
	haproxy-path metadata-proxy-socket bind-address)
BASE_VALS=("$ID" "$S" "$NMP_USER" "$NMP_GROUP" "$FAKE" "$W/agent.sock" 127.0.0.1)

# build OPT SPELLING FORM VALUE EXTRA: the command line in ARGV, the option
# under test spelled SPELLING (dash or underscore), as --o=v (FORM eq) or
# --o v (FORM sp).
build() {
	local opt=$1 spelled=$2 form=$3 val=$4 extra=$5 i
	ARGV=()
	for i in "${!BASE_NAMES[@]}"; do
		[ "${BASE_NAMES[$i]}" = "$opt" ] && continue
		[ "$opt" = router-id ] && [ "${BASE_NAMES[$i]}" = network-id ] && continue
		ARGV+=("--${BASE_NAMES[$i]}" "${BASE_VALS[$i]}")
	done
	# shellcheck disable=SC2206 # extra is a few plain words
	[ -n "$extra" ] && ARGV+=($extra)
	if [ "$form" = eq ]; then
		ARGV+=("--$spelled=$val")
	else
		ARGV+=("--$spelled" "$val")
	fi
}

# The state tree and the directory the stand-in writes into.
BEFORE=$(snapshot "$W")
N=0
# attack CMD OPT SPELLED FORM PAYLOAD-INDEX BASE EXTRA
attack() {
	local cmd=$1 opt=$2 spelled=$3 form=$4 p=$5 base=$6 extra=$7 val name
	val=$base${PVALS[$p]}
	[ "${PNAMES[$p]}" = percent-newline-encoded-in-id ] && val=$base%0a
	build "$opt" "$spelled" "$form" "$val" "$extra"
	name="$cmd --$spelled$([ "$form" = eq ] && echo = || echo ' ')<${PNAMES[$p]}>"
	# runf without timeout(1): a refused line never waits for anything,
	# and this runs hundreds of times (ctest's timeout still bounds it).
	rm -f "$FAKE_REC"
	LAST_CMD="$cmd --$spelled ..."
	"$BIN" "$cmd" "${ARGV[@]}" </dev/null >"$T/out" 2>"$T/err"
	RC=$?
	refused "$name" 65 "--$spelled" "invalid value"
	not_run "$name"
	N=$((N + 1))
}

for oi in "${!OPTS[@]}"; do
	IFS='|' read -r opt under base extra <<<"${OPTS[$oi]}"
	spellings=("$opt")
	[ "$under" = u ] && spellings+=("${opt//-/_}")
	ns=${#spellings[@]}
	for p in "${!PNAMES[@]}"; do
		name=${PNAMES[$p]}
		# '%' is in the path alphabet: "%0a" in a path is three literal
		# bytes (checked below with haproxy); in anything else refused.
		if [ "$name" = percent-newline-encoded-in-id ]; then
			case $opt in *-path | *-socket | pid-file | state-path | log-dir | log-file) continue ;; esac
		fi
		if [ "$name" = newline-directive ]; then
			# The headline attack: every spelling, both forms, both commands.
			# (The sanitizer build: one command each, alternating.)
			alt=0
			for sp in "${spellings[@]}"; do
				for form in eq sp; do
					alt=$((1 - alt))
					if [ "$SANITIZED" != 1 ] || [ "$alt" -eq 1 ]; then
						attack render "$opt" "$sp" "$form" "$p" "$base" "$extra"
					fi
					if [ "$SANITIZED" != 1 ] || [ "$alt" -eq 0 ]; then
						attack run "$opt" "$sp" "$form" "$p" "$base" "$extra"
					fi
				done
			done
			continue
		fi
		# The rest: one command line per payload, spelling, form and
		# command rotating over the payloads. The sanitizer build (a
		# tenfold startup cost) takes every other one: each payload
		# still meets half the options, each option half the payloads.
		if [ "$SANITIZED" = 1 ] && [ $(((p + oi) % 2)) -eq 1 ]; then
			continue
		fi
		k=$(((p + oi) % (ns * 4)))
		sp=${spellings[$((k / 4))]}
		form=$([ $((k % 2)) -eq 0 ] && echo eq || echo sp)
		cmd=$([ $((k / 2 % 2)) -eq 0 ] && echo run || echo render)
		attack "$cmd" "$opt" "$sp" "$form" "$p" "$base" "$extra"
	done
	same_snapshot "--$opt: state tree unchanged after every payload" "$BEFORE" "$W"
done
no_process_with "all payloads" "$T"
echo "$N injected command lines refused"

# A newline in the id is the original bug: check once more that no line of
# the attacker's survives anywhere under the state tree.
if grep -rqF 'server evil' "$W" 2>/dev/null; then
	fail "no injected directive on disk" "$(grep -rlF 'server evil' "$W" | tr '\n' ' ')"
else
	ok "no injected directive on disk"
fi

# --- control: the same base line renders and runs ------------------------
build network-id network-id eq "$ID" ""
runf render "${ARGV[@]}"
expect_code "control: render" 0 "$RC"
cp "$T/out" "$T/render.ok"
runf run "${ARGV[@]}"
expect_code "control: run" 0 "$RC"
if [ "$(cat "$FAKE_REC" 2>/dev/null)" = "$(printf '%s\n' -f "$S/ns-metadata-proxy/$ID.conf")" ]; then
	ok "control: run execs haproxy -f <config>"
else
	fail "control: run execs haproxy -f <config>" "argv: $(escape_file "$FAKE_REC" 2>/dev/null)$(stderr_note)"
fi
assert "control: written config equals render" "differs" cmp -s "$T/render.ok" "$S/ns-metadata-proxy/$ID.conf"

# --- '%' where it is accepted reaches haproxy as a literal byte ----------
# The path alphabet has '%' (neutron's paths may carry it); haproxy gives it
# no meaning in the two directives paths land in (pidfile, server), so a
# percent sequence there must stay three literal bytes: the real haproxy
# connects to the socket of that literal name and writes its pid to the
# pidfile of that literal name.
HAPROXY=/usr/sbin/haproxy
if [ ! -x "$HAPROXY" ]; then
	skip "percent in paths" "no haproxy at $HAPROXY"
elif ! command -v curl >/dev/null || ! command -v python3 >/dev/null; then
	skip "percent in paths" "needs curl and python3"
else
	P=$W/pct
	mkdir -m 0755 "$P"
	SOCK="$P/a%0ab%25c%H.sock"
	PIDF="$P/p%0a%d.pid"
	python3 "$AGENT" --socket "$SOCK" --record "$P/rec" </dev/null >"$P/agent.out" 2>"$P/agent.err" &
	AG=$!
	wait_until 50 said_ready "$P/agent.out"
	pick_port
	PA=(--network-id "$ID2" --state-path "$P" --metadata-proxy-socket "$SOCK" --pid-file "$PIDF"
		--bind-address 127.0.0.1 --metadata-port "$PORT" --metadata-proxy-user "$NMP_USER"
		--metadata-proxy-group "$NMP_GROUP" --haproxy-path "$HAPROXY")
	runb run "${PA[@]}" --daemonize
	expect_code "percent in paths: run --daemonize" 0 "$RC"
	wait_until 50 listens "$PORT"
	code=$(curl -sS --noproxy '*' -o /dev/null -w '%{http_code}' --max-time 5 \
		"http://127.0.0.1:$PORT/latest/meta-data/" 2>/dev/null)
	code=${code:-000}
	assert "percent in paths: request reaches the agent at the literal socket name" \
		"HTTP status '$code'" [ "$code" = 200 ]
	assert "percent in paths: the agent saw our id header" "record: $(head -c 300 "$P/rec" 2>/dev/null)" \
		grep -qiF "$ID2" "$P/rec"
	hp=$(cat "$PIDF" 2>/dev/null)
	assert "percent in paths: pidfile at the literal name holds haproxy's pid" \
		"pidfile '$hp'; in $P: $(ls "$P" | tr '\n' ' ')" \
		eval '[ -n "$hp" ] && [ "$(readlink "/proc/$hp/exe" 2>/dev/null)" = "$HAPROXY" ]'
	assert "percent in paths: no file named by a decoded or expanded '%'" \
		"in $P: $(ls "$P" | tr '\n' ' ')" \
		eval '[ "$(find "$P" -mindepth 1 -maxdepth 1 -name "p*" | wc -l)" -eq 1 ]'
	runb stop --network-id "$ID2" --state-path "$P" --pid-file "$PIDF"
	expect_code "percent in paths: stop" 0 "$RC"
	if [ -n "$hp" ]; then
		wait_until 50 not alive "$hp"
	fi
	kill "$AG" 2>/dev/null
	reap "$AG"
	no_process_with "percent in paths" "$P"
fi

finish
