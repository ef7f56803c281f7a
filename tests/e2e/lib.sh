# Shared helpers of the black-box tests; sourced, never run.
#
#   bash tests/e2e/NAME.sh /path/to/ns-metadata-proxy
#
# Gives: BIN (absolute), T (a private temporary directory, removed at exit),
# ID (a valid network uuid), NMP_USER/NMP_GROUP (what the proxy may run as),
# ok/fail/skip/assert/expect_code, runb (run the binary, capture into $T/out, $T/err
# and RC), one_line_stderr, no_control_chars, snapshot and finish, which
# prints the closing "N passed, N failed[, N skipped]" line CI parses.

if [ $# -lt 1 ] || [ -z "$1" ]; then
	echo "usage: bash $0 /path/to/ns-metadata-proxy" >&2
	exit 2
fi
BIN=$1
case $BIN in
/*) ;;
*) BIN=$PWD/$BIN ;;
esac
if [ ! -f "$BIN" ] || [ ! -x "$BIN" ]; then
	echo "not an executable file: $BIN" >&2
	exit 2
fi

export LC_ALL=C
umask 022

PASSED=0
FAILED=0
SKIPPED=0

ID=3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f
ID2=0b9e8d7c-6f5a-4e3d-9c2b-1a0f9e8d7c6b

if [ "$(id -u)" -eq 0 ]; then
	IS_ROOT=1
	NMP_USER=root
	NMP_GROUP=root
else
	IS_ROOT=0
	NMP_USER=$(id -u)
	NMP_GROUP=$(id -g)
fi

# Commands run at exit before $T goes (e.g. "chattr -i DIR").
AT_EXIT=()
at_exit() {
	AT_EXIT+=("$1")
}

_lib_exit() {
	local c
	for c in "${AT_EXIT[@]}"; do
		eval "$c" >/dev/null 2>&1
	done
	if [ -n "${T:-}" ] && [ -d "$T" ]; then
		chmod -R u+rwx "$T" 2>/dev/null
		rm -rf "$T"
	fi
}

T=$(mktemp -d "${TMPDIR:-/tmp}/nmp-e2e.XXXXXXXX") || {
	echo "cannot create a temporary directory" >&2
	exit 2
}
trap _lib_exit EXIT
trap 'exit 130' INT TERM HUP

ok() {
	PASSED=$((PASSED + 1))
}

# fail NAME REASON...: one line per failing check.
fail() {
	local name=$1
	shift
	FAILED=$((FAILED + 1))
	printf 'FAIL %s: %s\n' "$name" "$*"
}

# skip NAME REASON...
skip() {
	local name=$1
	shift
	SKIPPED=$((SKIPPED + 1))
	printf 'SKIP %s: %s\n' "$name" "$*"
}

# assert NAME REASON COMMAND...: ok if the command succeeds, else fail.
assert() {
	local name=$1 reason=$2
	shift 2
	if "$@"; then
		ok "$name"
	else
		fail "$name" "$reason"
	fi
}

expect_code() {
	local name=$1 want=$2 got=$3
	if [ "$got" = "$want" ]; then
		ok "$name"
	else
		fail "$name" "exit code $got, want $want${LAST_CMD:+ (cmd: $LAST_CMD)}$(stderr_note)"
	fi
}

# The command line as one shell-quoted string, for failure messages.
quote_cmd() {
	local out="" a
	for a in "$@"; do
		out+="$(printf '%q' "$a") "
	done
	printf '%s' "${out% }"
}

# escape_file FILE [MAX]: the first MAX bytes of FILE on one line, as sed's
# "l" shows them (\n ends a line as $, other bytes as \ooo).
escape_file() {
	head -c "${2:-600}" "$1" | sed -n 'l 0' | tr '\n' ' '
}

# The captured stderr, escaped onto one line, for failure messages.
stderr_note() {
	[ -s "$T/err" ] || return 0
	printf '; stderr: %s' "$(escape_file "$T/err" 600)"
}

# runb ARGS...: run the binary (20 s at most) with stdin from /dev/null.
runb() {
	LAST_CMD="$(quote_cmd "$BIN" "$@")"
	timeout 20 "$BIN" "$@" </dev/null >"$T/out" 2>"$T/err"
	RC=$?
	return 0
}

# one_line FILE: exactly one line, ending in a newline.
one_line() {
	local n last
	n=$(wc -l <"$1")
	last=$(tail -c 1 "$1" | od -An -tx1 | tr -d ' \n')
	[ "$n" -eq 1 ] && [ "$last" = 0a ]
}

# no_control_chars FILE: no control character but the newline, no DEL,
# nothing outside ASCII (messages escape those as \xNN).
no_control_chars() {
	! grep -qaP '[\x00-\x09\x0b-\x1f\x7f-\xff]' "$1"
}

# snapshot DIR: a canonical listing of the tree under DIR - relative path,
# type, mode, owner, size, inode, mtime, sha256 of a file's content, a
# symlink's target - so equal listings mean nothing was created, removed,
# replaced or rewritten.
snapshot() {
	local dir=$1 p f
	if [ ! -e "$dir" ] && [ ! -L "$dir" ]; then
		echo "(absent)"
		return 0
	fi
	while IFS= read -r -d '' p; do
		f=$dir/$p
		[ "$p" = . ] && f=$dir
		printf '%q %s' "$p" "$(stat -c '%F mode=%a uid=%u gid=%g size=%s ino=%i mtime=%.9Y' -- "$f")"
		if [ -L "$f" ]; then
			printf ' -> %q' "$(readlink -- "$f")"
		elif [ -f "$f" ]; then
			printf ' sha256=%s' "$(sha256sum <"$f" | cut -d' ' -f1)"
		fi
		printf '\n'
	done < <(cd "$dir" && find . -print0 | sort -z)
}

# snapshot_content DIR: snapshot without directory mtimes, for operations
# that may create and remove a temporary (a directory's mtime then moves)
# but must leave every entry as it was.
snapshot_content() {
	snapshot "$1" | sed -E '/ directory mode=/s/ mtime=[0-9.]+//'
}

# same_snapshot NAME BEFORE_TEXT DIR [SNAPSHOT_FUNCTION]: DIR lists as it
# did (compared with snapshot, or the function given).
same_snapshot() {
	local name=$1 before=$2 dir=$3 after
	after=$("${4:-snapshot}" "$dir")
	if [ "$before" = "$after" ]; then
		ok "$name"
	else
		fail "$name" "tree under $dir changed${LAST_CMD:+ by $LAST_CMD}: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -n 6 | tr '\n' ' ')"
	fi
}

finish() {
	if [ "$SKIPPED" -gt 0 ]; then
		printf '%d passed, %d failed, %d skipped\n' "$PASSED" "$FAILED" "$SKIPPED"
	else
		printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
	fi
	[ "$FAILED" -eq 0 ] && exit 0
	exit 1
}

# --- ports ------------------------------------------------------------------

USED_PORTS=" "

# port_busy PORT: any TCP socket, v4 or v6, any state, on PORT.
port_busy() {
	local hex
	hex=$(printf '%04X' "$1")
	grep -qE "^ *[0-9]+: [0-9A-F]+:$hex " /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# listeners PORT: how many sockets listen on PORT.
listeners() {
	local hex
	hex=$(printf '%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		grep -cE "^ *[0-9]+: [0-9A-F]+:$hex [0-9A-F]+:0000 0A "
}

# pick_port: a free port of 20000-29999 not used before by this script, in PORT.
pick_port() {
	local i p
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM + $$) % 10000))
		case $USED_PORTS in *" $p "*) continue ;; esac
		port_busy "$p" && continue
		USED_PORTS+="$p "
		PORT=$p
		return 0
	done
	return 1
}

# --- processes ----------------------------------------------------------------

# alive PID: running (a zombie we have not reaped yet is not).
alive() {
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$st" ] && [ "$st" != Z ]
}

# reap PID: wait (at most REAP_POLLS x 0.1 s, default 5 s) for our child PID
# to end, SIGKILL it if it does not, and collect it; its status in REAPED.
reap() {
	local pid=$1 i
	for ((i = 0; i < ${REAP_POLLS:-50}; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		sleep 0.1
	fi
	wait "$pid" 2>/dev/null
	REAPED=$?
}
