#!/bin/bash
# Attack: path traversal through the id. The id names the config file
# (<state>/ns-metadata-proxy/<id>.conf) and the default pidfile
# (<state>/external/pids/<id>.pid), so an id such as "../x", "..", an
# absolute path, a percent-encoded or backslashed "..", an overlong id or a
# uuid with "/.." after it would reach files outside the config directory
# if it were used as it came. `run`, `cleanup`, `stop` and `status` must
# refuse every such id with exit 65 and one escaped stderr line naming the
# option, before they open anything: sentinel files planted where each id
# would lead (and beside them) keep their bytes, inode, mtime and ctime,
# the whole tree lists as it did, no haproxy runs, and a process whose pid
# sits in a planted pidfile is never signalled.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/fs_lib.sh"

R=$T/root
S=$R/state
CWD=$R/cwd
mkdir -p -m 0755 "$R" "$S" "$CWD" "$S/external/pids"
mkdir -m 0700 "$S/ns-metadata-proxy"
chmod 0700 "$S/ns-metadata-proxy"
cd "$CWD" || exit 2

# Where the ids below would lead: the config "<id>.conf" under
# ns-metadata-proxy/ and the pidfile "<id>.pid" under external/pids/, and a
# few more around them; plus a real config of ours.
plant_sentinels "$R" \
	outside/victim outside/victim.conf outside/victim.pid \
	x.conf x.pid state/x.conf state/x.pid state/external/x.pid state/external/x.conf \
	state/..conf state/..pid state/ns-metadata-proxy/..conf state/ns-metadata-proxy/x.conf \
	state/external/pids/..pid state/external/pids/x.pid "state/ns-metadata-proxy/$ID.conf" \
	state/ns-metadata-proxy/.x.conf.tmp-AAAAAA cwd/x.conf cwd/x.pid cwd/x \
	etc/passwd etc/passwd.conf etc/passwd.pid
chmod 0600 "$S/ns-metadata-proxy/$ID.conf"
SENTINELS_BEFORE=$(sentinels_now)

# A process whose pid a planted pidfile names: a stop that followed a
# traversal id would signal it.
sleep 120 &
VICTIM=$!
at_exit "kill $VICTIM"
for f in state/external/x.pid state/x.pid x.pid outside/victim.pid etc/passwd.pid; do
	printf '%d\n' "$VICTIM" >"$R/$f"
done
SENTINELS_BEFORE=$(sentinels_now)
BEFORE=$(snapshot "$R")

NL=$'\n'
LONG_A=$(printf 'a%.0s' $(seq 5000))
LONG_UP=$(printf '../%.0s' $(seq 1400))x
LONG_ID=$(printf "$ID%.0s" $(seq 120))
IDS=(
	"../x" ".." "." "../../x" "../../../outside/victim" "$R/outside/victim" "/etc/passwd"
	"$ID/.." "$ID/../x" "$ID/../../x" "../ns-metadata-proxy/$ID" "./$ID" "$ID/"
	"%2e%2e%2fx" "..%2fx" "%2e%2e" "..\\x" "....//x" "..;x" "$ID%00/../x"
	$'\xef\xbc\x8e\xef\xbc\x8e/x' $'\xc0\xae\xc0\xae/x' "$ID$NL../x" "x"
	"$LONG_A" "$LONG_UP" "$LONG_ID" "$ID/$LONG_A" ""
)
SPELL=(network-id router-id network_id router_id)
CMDS=(run cleanup stop status)

N=0
for i in "${!IDS[@]}"; do
	id=${IDS[$i]}
	for j in "${!CMDS[@]}"; do
		cmd=${CMDS[$j]}
		sp=${SPELL[$(((i + j) % 4))]}
		shown=$(printf '%q' "$id" | cut -c1-40)
		name="$cmd --$sp $shown"
		if [ $(((i + j) % 2)) -eq 0 ]; then
			form=("--$sp=$id")
		else
			form=("--$sp" "$id")
		fi
		runf "$cmd" "${form[@]}" --state-path "$S" --metadata-proxy-user "$NMP_USER" \
			--metadata-proxy-group "$NMP_GROUP" --haproxy-path "$FAKE"
		refused "$name" 65 "--$sp" "invalid value"
		not_run "$name"
		N=$((N + 1))
	done
done
echo "$N traversal command lines refused"
sentinels_intact "traversal ids"
same_snapshot "traversal ids: nothing under the tree created, removed or rewritten" "$BEFORE" "$R"
assert "traversal ids: the process named in planted pidfiles was not signalled" \
	"pid $VICTIM is gone" alive "$VICTIM"
no_process_with "traversal ids" "$R"

# Control: the same commands with a valid id do their work, and only
# their own files move (cleanup removes our config; status and stop find
# nothing running).
runf status --network-id "$ID" --state-path "$S"
expect_code "control: status of a valid id (not running)" 3 "$RC"
runf stop --network-id "$ID" --state-path "$S"
expect_code "control: stop of a valid id" 0 "$RC"
assert "control: stop removed our config" "still there" [ ! -e "$S/ns-metadata-proxy/$ID.conf" ]
assert "control: stop removed our stray temporary only" "the other id's temporary went too" \
	[ -e "$S/ns-metadata-proxy/.x.conf.tmp-AAAAAA" ]
assert "control: stop left the process named in planted pidfiles alone" \
	"pid $VICTIM is gone" alive "$VICTIM"
runf run --network-id "$ID" --state-path "$S" --metadata-proxy-user "$NMP_USER" \
	--metadata-proxy-group "$NMP_GROUP" --haproxy-path "$FAKE"
expect_code "control: run with a valid id" 0 "$RC"
assert "control: run wrote the config in the config directory" "no config" \
	[ -f "$S/ns-metadata-proxy/$ID.conf" ]
# Every sentinel but our own config (rewritten by run) is as it was.
SENTINELS=("${SENTINELS[@]/#"$S/ns-metadata-proxy/$ID.conf"/}")
SENTINELS_BEFORE=$(echo "$SENTINELS_BEFORE" | grep -vF "$S/ns-metadata-proxy/$ID.conf ")
SENTINELS=(${SENTINELS[@]})
sentinels_intact "control: valid id"

kill "$VICTIM" 2>/dev/null
reap "$VICTIM"
finish
