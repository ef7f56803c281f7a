#!/bin/bash
# The bash completion, driven as bash drives it (COMP_WORDS, COMP_CWORD,
# COMP_LINE, COMP_POINT set, the function called, COMPREPLY read), in a
# non-interactive bash that loaded bash-completion:
#
#   bash tests/docs/completion.sh /path/to/ns-metadata-proxy
#
# - bash-completion's loader finds bash-completion/ns-metadata-proxy under
#   either program name, as installed (neutron-ns-metadata-proxy a symlink);
# - every option --help lists is offered where --help says it belongs
#   ("fleet serve: ...", "fleet: ...", "stop: ..."), after `run` when it
#   names no command: an option added to --help but not to the completion
#   fails here; so does a command or a fleet command --help names; each
#   option with a value in --help takes the next word, each flag none (the
#   command after them is still found);
# - the command words, fleet's (with metrics and health), the values of
#   --engine, --flavor, --log-format, --syslog-log-facility and
#   --rate-limit-ip-version, also as --opt=value; files for a path option,
#   directories only for a directory option; the options coming (fleet
#   serve --metrics-listen, --log-format, status --all --json);
# - fleet del and show: the ids `fleet list` prints, asked on the
#   --control-socket of the line; nothing, quietly and at once, when no
#   fleet answers; status, stop and cleanup: the ids of the pidfiles under
#   --state-path;
# - a value option is offered once, and neither id once one is given.
# Exits 77 (skipped) when bash-completion is not installed.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=${NMP_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
. "$SRC/tests/e2e/lib.sh"

COMPLETION=$SRC/bash-completion/ns-metadata-proxy
MAIN=""
for f in "${NMP_BASH_COMPLETION:-}" \
	"$(pkg-config --variable=datadir bash-completion 2>/dev/null)/bash-completion/bash_completion" \
	/usr/share/bash-completion/bash_completion /usr/local/share/bash-completion/bash_completion; do
	if [ -n "$f" ] && [ -f "$f" ]; then
		MAIN=$f
		break
	fi
done
if [ -z "$MAIN" ]; then
	skip bash-completion "bash-completion is not installed (Debian package bash-completion): nothing to load the completion with"
	printf '%d passed, %d failed, %d skipped\n' "$PASSED" "$FAILED" "$SKIPPED"
	exit 77
fi

# Installed as the package installs it: the loader looks in the user's
# directory first.
export BASH_COMPLETION_USER_DIR=$T/bc
mkdir -p "$BASH_COMPLETION_USER_DIR/completions"
ln -s "$COMPLETION" "$BASH_COMPLETION_USER_DIR/completions/ns-metadata-proxy"
ln -s ns-metadata-proxy "$BASH_COMPLETION_USER_DIR/completions/neutron-ns-metadata-proxy"

# driver.sh WORD...: the completion of the last word; COMPREPLY on stdout,
# a line each. A word of "=" and ":" only is joined to its neighbours in
# COMP_LINE: bash splits --opt=value, ADDR:PORT and fe80::1 into three
# words each.
cat >"$T/driver.sh" <<'EOF'
. "$1"
shift
name=${1##*/}
if declare -F __load_completion >/dev/null; then
	__load_completion "$name" || { echo "the loader found no completion for $name" >&2; exit 3; }
else
	_comp_load "$name" || { echo "the loader found no completion for $name" >&2; exit 3; }
fi
spec=$(complete -p -- "$name" 2>/dev/null)
func=$(sed -n 's/.* -F \([^ ]*\) .*/\1/p' <<<"$spec")
[ -n "$func" ] || { echo "no completion function for $name: '$spec'" >&2; exit 3; }
set -u
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
COMP_LINE=""
prev=""
for w in "$@"; do
	if [ -n "$COMP_LINE" ] && ! [[ $w =~ ^[=:]+$ || $prev =~ ^[=:]+$ ]]; then
		COMP_LINE+=" "
	fi
	COMP_LINE+=$w
	prev=$w
done
COMP_POINT=${#COMP_LINE}
COMP_TYPE=9
COMP_KEY=9
COMPREPLY=()
"$func" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
printf '%s\n' "${COMPREPLY[@]}"
EOF

# comp WORD...: runs the driver; the reply in $T/reply, sorted, its stderr
# in $T/reply.err; a line of stderr, a failed driver or a word offered
# twice is a failure.
comp() {
	: >"$T/reply"
	bash --norc --noprofile "$T/driver.sh" "$MAIN" "$@" >"$T/reply.raw" 2>"$T/reply.err"
	local rc=$?
	grep -v '^$' "$T/reply.raw" | sort >"$T/reply"
	if [ "$rc" -ne 0 ] || [ -s "$T/reply.err" ]; then
		fail "driver" "completing '$*': exit $rc: $(escape_file "$T/reply.err" 300)"
	fi
	if [ -n "$(uniq -d "$T/reply")" ]; then
		fail "twice" "completing '$*' offers twice: $(uniq -d "$T/reply" | tr '\n' ' ')"
	fi
}

# reply_has NAME WORD...: each WORD is in the last reply.
reply_has() {
	local name=$1 w missing=""
	shift
	for w in "$@"; do
		grep -qxF -- "$w" "$T/reply" || missing+="$w "
	done
	assert "$name" "not offered: $missing(offered: $(tr '\n' ' ' <"$T/reply" | head -c 300))" [ -z "$missing" ]
}

# reply_is NAME WORD...: the last reply is exactly these words.
reply_is() {
	local name=$1
	shift
	local want
	want=$(printf '%s\n' "$@" | grep -v '^$' | sort)
	assert "$name" "offered '$(tr '\n' ' ' <"$T/reply")', want '$(tr '\n' ' ' <<<"$want")'" \
		[ "$(cat "$T/reply")" = "$want" ]
}

P=ns-metadata-proxy
FLEET_WORDS=(serve add del list show metrics health)

# --- what --help lists ----------------------------------------------------------
"$BIN" --help >"$T/help" 2>&1
expect_code help 0 $?

# Each option of --help under the words of the command it belongs to: its
# help text begins "fleet serve:", "fleet:" (every fleet command; "fleet,
# status --all:" also status), "status --all:", "stop:"
# ...; without such a word, run.
declare -A WHERE=()
ARGS=() # every option of --help, a value after each that takes one
n=0
while IFS= read -r line; do
	[[ $line =~ ^\ \ --(\[no\])?([a-z0-9-]+)(\ [^\ ]+)?\ +(.*)$ ]] || continue
	n=$((n + 1))
	names=("--${BASH_REMATCH[2]}")
	[ -n "${BASH_REMATCH[1]}" ] && names+=("--no${BASH_REMATCH[2]}")
	text=${BASH_REMATCH[4]}
	if [ -n "${BASH_REMATCH[3]}" ]; then
		ARGS+=("${names[0]}" v)
	else
		ARGS+=("${names[@]}")
	fi
	ctx=(run)
	if [[ $text =~ ^fleet(,\ status\ --all)?:\  ]]; then
		ctx=()
		[ -n "${BASH_REMATCH[1]}" ] && ctx+=(status)
		for w in "${FLEET_WORDS[@]}"; do ctx+=("fleet $w"); done
	elif [[ $text =~ ^status\ --all:\  ]]; then
		ctx=(status)
	elif [[ $text =~ ^(fleet\ [a-z]+|run|render|check|status|stop|cleanup):\  ]]; then
		ctx=("${BASH_REMATCH[1]}")
	fi
	for c in "${ctx[@]}"; do
		for o in "${names[@]}"; do
			WHERE[$c]+="$o "
		done
	done
done <"$T/help"
assert help-options "only $n options found in --help" [ "$n" -ge 40 ]

for c in "${!WHERE[@]}"; do
	read -ra words <<<"$c"
	comp "$P" "${words[@]}" --
	# shellcheck disable=SC2086 # the options, a word each
	reply_has "help-options: $c --" ${WHERE[$c]}
done

# Each option that takes a value skips it, each flag nothing: after all of
# them, the word is still the command. (On failure, each alone names the
# culprit.)
comp "$P" "${ARGS[@]}" st
if [ "$(tr '\n' ' ' <"$T/reply")" = "status stop " ]; then
	ok help-values
else
	for ((i = 0; i < ${#ARGS[@]}; i++)); do
		a=("${ARGS[i]}")
		[ "${ARGS[i + 1]-}" = v ] && a+=(v) && i=$((i + 1))
		comp "$P" "${a[@]}" st
		reply_is "help-values: ${a[*]}" status stop
	done
fi

# The commands --help names: "  run      ...", "  haproxy -f FILE ...".
cmds=$(sed -n '/^commands:/,/^$/s/^  \([a-z]\{1,\}\)\( .*\)\{0,1\}$/\1/p' "$T/help")
comp "$P" ""
# shellcheck disable=SC2086
reply_has help-commands $cmds
reply_is commands run render check status stop cleanup haproxy audit fleet
assert help-commands-found "only $(wc -w <<<"$cmds") commands found in --help" [ "$(wc -w <<<"$cmds")" -ge 9 ]
comp "$P" re
reply_is commands-prefix render
comp "$P" --network-id "$ID" --engine builtin st
reply_is commands-after-options status stop
comp "$P" --bind-address-v6 fe80 :: 1 --bind-interface tap0 st
reply_is commands-after-address status stop

# fleet's commands, those --help names and the two coming.
fwords=$(sed -n 's/^  fleet \(.*\)$/\1/p' "$T/help" | tr -s ' |' '\n' | grep -x '[a-z]\{1,\}')
comp "$P" fleet ""
# shellcheck disable=SC2086
reply_has help-fleet-commands $fwords
reply_is fleet-commands "${FLEET_WORDS[@]}"
comp "$P" --debug fleet m
reply_is fleet-commands-prefix metrics

# --- the values of an option ----------------------------------------------------
comp "$P" run --engine ""
reply_is engine builtin haproxy
comp "$P" run --engine = b
reply_is engine-split builtin
comp "$P" render --flavor ""
reply_is flavor neutron ovn
comp "$P" run --log-format ""
reply_is log-format httplog json
comp "$P" fleet serve --log-format ""
reply_is log-format-fleet httplog json
comp "$P" --rate-limit-ip-version ""
reply_is ip-version 4 6
comp "$P" run --syslog-log-facility loc
reply_is facility local0 local1 local2 local3 local4 local5 local6 local7
comp "$P" run --syslog_log_facility LOG_D
reply_is facility-oslo LOG_DAEMON
comp "$P" run --metadata-port ""
reply_is number-no-options
comp "$P" run --network-id ""
reply_is run-id-nothing

# --- paths ------------------------------------------------------------------------
D=$T/tree
mkdir -p "$D/sub" "$D/other dir"
: >"$D/a.pid"
: >"$D/b.log"
comp "$P" run --pid-file "$D/"
reply_is pid-file "$D/a.pid" "$D/b.log" "$D/sub" "$D/other dir"
comp "$P" run --log-file = "$D/b"
reply_is log-file-split "$D/b.log"
comp "$P" run --state-path "$D/"
reply_is state-path-dirs "$D/sub" "$D/other dir"
comp "$P" fleet list --control-socket "$D/a"
reply_is control-socket "$D/a.pid"
comp "$P" fleet add --batch ""
reply_has batch-stdin -
comp "$P" audit "$D/s"
reply_is audit "$D/sub"
comp "$P" haproxy -f "$D/b"
reply_is haproxy-f "$D/b.log"
comp "$P" haproxy -f /x.cfg -d
reply_is haproxy-options -db

# --- the options coming, and each option where it belongs --------------------
comp "$P" fleet serve --
reply_has fleet-serve --metrics-listen --log-format --control-group --maxconn --metadata-proxy-user --state-path
comp "$P" fleet serve --metrics-listen 127.0.0.1 : 9100 --max
reply_is fleet-serve-after-port --max-agent-conns --max-conns-per-network --max-idle-agent-conns --maxconn
assert fleet-serve-no-network "fleet serve offers a network's option" not grep -qx -- --network-id "$T/reply"
comp "$P" status --
reply_has status --all --json --state-path --network-id --router-id --pid-file
comp "$P" run --
reply_has run-log-format --log-format
assert run-no-fleet "run offers a fleet option" not grep -qxE -- '--(control-socket|maxconn|batch|metrics-listen|all)' "$T/reply"
comp "$P" fleet add --
reply_has fleet-add --network-id --flavor --netns --batch --control-socket --rate-limit-enabled
assert fleet-add-no-serve "fleet add offers a daemon's option" not grep -qxE -- '--(maxconn|metadata-proxy-user|engine|pid-file)' "$T/reply"
for w in del list show metrics health; do
	comp "$P" fleet "$w" --
	reply_is "fleet-$w" --control-socket --debug --help --nodebug
done
comp "$P" --
reply_has no-command-is-run --network-id --engine --help --version
comp "$P" run --state_p
reply_is underscore --state_path

# Once each; one id of the two.
comp "$P" run --network-id "$ID" --state-path = /x --
assert run-once "offered again: $(grep -xE -- '--(network-id|router-id|state-path)' "$T/reply" | tr '\n' ' ')" \
	not grep -qxE -- '--(network-id|router-id|state-path)' "$T/reply"
reply_has run-others --pid-file --flavor --help

# --- the neutron name ---------------------------------------------------------------
comp neutron-ns-metadata-proxy --metadata_proxy_u
reply_is neutron-name --metadata_proxy_user
comp neutron-ns-metadata-proxy ""
reply_is neutron-name-commands run render check status stop cleanup haproxy audit fleet

# --- ids ----------------------------------------------------------------------------
# fleet del and show: the ids a fleet lists, from the program of the line.
mkdir -p "$T/fake"
cat >"$T/fake/ns-metadata-proxy" <<FAKE
#!/bin/bash
printf '%s\n' "\$*" >>"$T/fake/args"
[ "\$1 \$2" = "fleet list" ] || exit 64
printf '# id flavor kind namespace binds requests refused since\n'
printf '%s neutron network qdhcp-1 0.0.0.0:80 0 - -\n' $ID $ID2
FAKE
chmod +x "$T/fake/ns-metadata-proxy"
comp "$T/fake/ns-metadata-proxy" fleet del ""
reply_is fleet-del-ids "$ID" "$ID2"
comp "$T/fake/ns-metadata-proxy" fleet show --control-socket "$T/f.sock" 3
reply_is fleet-show-ids "$ID"
assert fleet-ids-socket "fleet list was run as: $(tr '\n' ';' <"$T/fake/args")" \
	grep -qxF "fleet list --control-socket $T/f.sock" "$T/fake/args"
comp "$T/fake/ns-metadata-proxy" fleet show "$ID" ""
reply_is fleet-show-one-id --control-socket --debug --help --nodebug
# No fleet: nothing, at once, and nothing on the terminal (comp fails on
# stderr).
t0=$(date +%s)
comp "$BIN" fleet del --control-socket "$T/none.sock" ""
reply_is fleet-none
assert fleet-none-quick "$(($(date +%s) - t0)) s to complete without a fleet" [ $(($(date +%s) - t0)) -le 3 ]

# status, stop, cleanup: the ids with a pidfile under --state-path.
mkdir -p "$T/state/external/pids"
: >"$T/state/external/pids/$ID.pid"
: >"$T/state/external/pids/$ID2.pid.haproxy"
: >"$T/state/external/pids/not-an-id.pid"
for c in status stop cleanup; do
	comp "$P" "$c" --state-path "$T/state" --network-id ""
	reply_is "$c-ids" "$ID"
done

finish
