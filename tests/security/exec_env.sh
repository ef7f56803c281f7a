#!/bin/bash
# Attack: whatever the caller's environment and open descriptors hold must
# not reach haproxy (the process that runs for weeks as the proxy, started
# as root). The launcher is started by a wrapper that sets up:
#   - LD_PRELOAD pointing at a real library (built here with cc) whose
#     constructor appends the name of the process it loads into to a marker
#     file; LD_LIBRARY_PATH pointing at a directory with a library named
#     like one haproxy needs (liblua5.3.so.0), same constructor;
#   - haproxy-affecting and other variables: HAPROXY_* (among them what
#     haproxy's master-worker mode reads back), HAPROXYRC, MALLOC_*,
#     GCONV_PATH, LOCPATH, a secret;
#   - PATH with a fake haproxy first that leaves a marker;
#   - descriptors 3..12 open, half of them without close-on-exec, plus a
#     listening TCP socket (inheritable) and a unix socket;
# then `run` with the haproxy engine and the fake agent, in the foreground
# and daemonized. In the running haproxy: /proc/PID/exe is the system
# haproxy, /proc/PID/environ is exactly the clean PATH, /proc/PID/maps
# holds nothing of the planted libraries, /proc/PID/fd holds 0-2, the
# pidfile lock at 3 and only descriptors haproxy made itself (none of the
# marker files, not the inherited sockets), the inherited listening port
# has no listener left, the fake haproxy never ran, no marker names
# haproxy, and a request through the proxy reaches the agent. The marker
# from the launcher itself (which the caller did start with LD_PRELOAD)
# shows the library works.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/fs_lib.sh"

HAPROXY=/usr/sbin/haproxy
CLEAN_ENV='PATH=/usr/sbin:/usr/bin:/sbin:/bin'
for need in cc python3 curl; do
	if ! command -v "$need" >/dev/null; then
		skip "exec environment" "$need is not installed"
		finish
	fi
done
if [ ! -x "$HAPROXY" ]; then
	skip "exec environment" "no haproxy at $HAPROXY"
	finish
fi

EVIL=$T/evil
mkdir -m 0755 "$EVIL" "$EVIL/lib" "$EVIL/bin"
MARK=$T/marker.preload
cat >"$EVIL/mark.c" <<EOF
#include <fcntl.h>
#include <unistd.h>

__attribute__((constructor)) static void
mark(void)
{
	char exe[512];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int fd;

	if (n < 0)
		n = 0;
	exe[n] = '\n';
	fd = open("$MARK", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		(void)!write(fd, exe, (size_t)n + 1);
		close(fd);
	}
}
EOF
if ! cc -shared -fPIC -o "$EVIL/libmark.so" "$EVIL/mark.c" 2>"$T/cc.err" ||
	! cc -shared -fPIC -Wl,-soname,liblua5.3.so.0 -o "$EVIL/lib/liblua5.3.so.0" "$EVIL/mark.c" 2>>"$T/cc.err"; then
	fail "build the marker library" "$(escape_file "$T/cc.err" 400)"
	finish
fi
# The fake haproxy on the hostile PATH.
printf '#!/bin/sh\necho "$0" >>%s\nexec sleep 60\n' "$T/marker.path" >"$EVIL/bin/haproxy"
chmod 0755 "$EVIL/bin/haproxy"

# Under ASan the runtime must come first in the library list; it lets the
# preload through with verify_asan_link_order=0, which is one more variable
# that must not reach haproxy. If even that fails, the preload cases skip.
PRELOAD_ENV=(LD_PRELOAD="$EVIL/libmark.so")
if [ "$SANITIZED" = 1 ]; then
	PRELOAD_ENV+=(ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
	if ! env "${PRELOAD_ENV[@]}" "$BIN" --version >/dev/null 2>"$T/asan.err"; then
		echo "SKIP note: LD_PRELOAD under ASan: $(escape_file "$T/asan.err" 200)"
		skip "LD_PRELOAD under the sanitizer" "the ASan runtime refuses a preloaded library"
		PRELOAD_ENV=()
	fi
fi

# The wrapper: open the descriptors, then exec the launcher with the
# hostile environment. It records what it left open (fd -> target, and the
# listening socket's inode and port) in $T/inherited.
cat >"$T/wrap.py" <<'EOF'
import json, os, socket, sys
rec, marks = sys.argv[1], sys.argv[2]
argv = sys.argv[3:]
opened = {}
for n in range(3, 13):
    fd = os.open("%s.%d" % (marks, n), os.O_RDWR | os.O_CREAT, 0o644)
    if fd != n:
        os.dup2(fd, n)
        os.close(fd)
    os.set_inheritable(n, n % 2 == 1)   # odd ones without close-on-exec
lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lsock.bind(("127.0.0.1", 0))
lsock.listen(8)
lsock.set_inheritable(True)
usock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
usock.set_inheritable(True)
for fd in os.listdir("/proc/self/fd"):
    try:
        opened[fd] = os.readlink("/proc/self/fd/" + fd)
    except OSError:
        pass
json.dump({"fds": opened, "listen_port": lsock.getsockname()[1],
           "listen_inode": os.fstat(lsock.fileno()).st_ino,
           "unix_inode": os.fstat(usock.fileno()).st_ino}, open(rec, "w"))
os.execv(argv[0], argv)
EOF

HOSTILE=(
	"${PRELOAD_ENV[@]}"
	LD_LIBRARY_PATH="$EVIL/lib"
	PATH="$EVIL/bin:$PATH"
	HAPROXY_MWORKER_REEXEC=1 HAPROXY_LOCALPEER=evil HAPROXY_CFGFILES=/etc/passwd
	HAPROXY_STARTUPLOGS_FD=7 HAPROXYRC="$EVIL/rc" HAPROXY_SERVER_NAME=evil
	MALLOC_CHECK_=3 MALLOC_PERTURB_=165 GCONV_PATH="$EVIL" LOCPATH="$EVIL" TZ=":$EVIL/tz"
	NMP_SECRET=s3cret
)

STARTED=()
cleanup_started() {
	local p
	for p in "${STARTED[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
}
at_exit cleanup_started

# newcase NAME: state D, port PORT, agent on SOCK, option vector RA.
newcase() {
	CASE=$1
	D=$T/$1
	mkdir -m 0755 "$D"
	pick_port
	SOCK=$D/agent.sock
	PIDF=$D/external/pids/$ID.pid
	RA=(--engine haproxy --network-id "$ID" --state-path "$D" --metadata-proxy-socket "$SOCK"
		--bind-address 127.0.0.1 --metadata-port "$PORT" --haproxy-path "$HAPROXY"
		--metadata-proxy-user "$NMP_USER" --metadata-proxy-group "$NMP_GROUP")
	rm -f "$MARK" "$T/marker.path"
	python3 "$AGENT" --socket "$SOCK" --record "$D/rec" </dev/null >"$D/agent.out" 2>"$D/agent.err" &
	AG=$!
	STARTED+=("$AG")
	wait_until 50 said_ready "$D/agent.out" && return 0
	fail "$CASE: agent" "not ready: $(escape_file "$D/agent.err" 300)"
	return 1
}

wait_listen() { # PORT PID
	local give_up=()
	[ -n "${2:-}" ] && give_up=(-p "$2")
	wait_until "${give_up[@]}" 50 listens "$1"
}

# inspect NAME PID: the checks on a running haproxy.
inspect() {
	local name=$1 pid=$2 f n tgt bad="" foreign="" lport linode uinode maps code
	assert "$name: the system haproxy runs" "exe '$(readlink "/proc/$pid/exe")'" \
		[ "$(readlink "/proc/$pid/exe")" = "$HAPROXY" ]
	assert "$name: environ is exactly the clean PATH" \
		"environ: $(tr '\0' ' ' <"/proc/$pid/environ" 2>/dev/null | head -c 400)" \
		cmp -s "/proc/$pid/environ" <(printf '%s\0' "$CLEAN_ENV")
	maps=$(grep -F "$EVIL" "/proc/$pid/maps" 2>/dev/null | awk '{print $6}' | sort -u | tr '\n' ' ')
	assert "$name: no planted library mapped" "mapped: $maps" [ -z "$maps" ]
	lport=$(sed -E 's/.*"listen_port": ([0-9]+).*/\1/' "$D/inherited")
	linode=$(sed -E 's/.*"listen_inode": ([0-9]+).*/\1/' "$D/inherited")
	uinode=$(sed -E 's/.*"unix_inode": ([0-9]+).*/\1/' "$D/inherited")
	assert "$name: fd 3 is the pidfile" "fd 3 -> '$(readlink "/proc/$pid/fd/3")'" \
		[ "$(readlink "/proc/$pid/fd/3")" = "$PIDF" ]
	for f in /proc/"$pid"/fd/*; do
		n=${f##*/}
		tgt=$(readlink "$f") || continue
		case $tgt in "$T/mk"* | *"$EVIL"*) bad+="$n->$tgt " ;; esac
		case $tgt in "socket:[$linode]" | "socket:[$uinode]") bad+="$n->$tgt(inherited) " ;; esac
		if [ "$n" -gt 3 ]; then
			case $tgt in socket:* | pipe:* | anon_inode:*) ;; *) foreign+="$n->$tgt " ;; esac
		fi
	done
	assert "$name: no inherited descriptor (files 3..12, sockets)" "$bad" [ -z "$bad" ]
	assert "$name: fds above 3 are haproxy's own" "$foreign" [ -z "$foreign" ]
	assert "$name: the inherited listening port ($lport) has no listener left" \
		"$(listeners "$lport") listening" [ "$(listeners "$lport")" -eq 0 ]
	code=$(curl -sS --noproxy '*' -o /dev/null -w '%{http_code}' --max-time 5 \
		"http://127.0.0.1:$PORT/latest/meta-data/" 2>/dev/null)
	assert "$name: a request through the proxy answers 200" "HTTP '${code:-000}'" [ "${code:-}" = 200 ]
	assert "$name: the agent saw the id" "record: $(head -c 200 "$D/rec" 2>/dev/null)" \
		grep -qiF "$ID" "$D/rec"
	assert "$name: the fake haproxy on PATH never ran" "$(cat "$T/marker.path" 2>/dev/null)" \
		[ ! -e "$T/marker.path" ]
	assert "$name: no marker from haproxy" "$(tr '\n' ' ' <"$MARK" 2>/dev/null)" \
		eval '! grep -q haproxy "$MARK" 2>/dev/null'
	if [ ${#PRELOAD_ENV[@]} -gt 0 ]; then
		assert "$name: control: the preloaded library did mark the launcher" \
			"marker: $(tr '\n' ' ' <"$MARK" 2>/dev/null)" grep -qF "$(readlink -f "$BIN")" "$MARK"
	fi
}

# end NAME PID: stop it through the launcher; nothing of ours left.
end() {
	runb stop --network-id "$ID" --state-path "$D"
	expect_code "$1: stop" 0 "$RC"
	wait_until 50 not alive "$2"
	kill "$AG" 2>/dev/null
	reap "$AG"
	no_process_with "$1" "$D"
}

# --- foreground: the launcher's pid becomes haproxy -----------------------
if newcase foreground; then
	env "${HOSTILE[@]}" python3 "$T/wrap.py" "$D/inherited" "$T/mk" "$BIN" run "${RA[@]}" \
		</dev/null >"$D/run.out" 2>"$D/run.err" &
	FG=$!
	STARTED+=("$FG")
	if wait_listen "$PORT" "$FG"; then
		inspect "foreground" "$FG"
	else
		fail "foreground: started" "port $PORT never listened: $(escape_file "$D/run.err" 400)"
	fi
	end "foreground" "$FG"
	wait "$FG" 2>/dev/null
fi

# --- daemonized: haproxy is a grandchild; the launcher returns 0 ----------
if newcase daemon; then
	env "${HOSTILE[@]}" python3 "$T/wrap.py" "$D/inherited" "$T/mk" "$BIN" run "${RA[@]}" --daemonize \
		</dev/null >"$D/run.out" 2>"$D/run.err" &
	RP=$!
	reap "$RP"
	expect_code "daemon: run --daemonize" 0 "$REAPED"
	HP=$(cat "$PIDF" 2>/dev/null)
	if [ -n "$HP" ] && wait_listen "$PORT" "$HP"; then
		STARTED+=("$HP")
		inspect "daemon" "$HP"
		end "daemon" "$HP"
	else
		fail "daemon: started" "pidfile '$HP', port $PORT: $(escape_file "$D/run.err" 400)"
		end "daemon" 0
	fi
fi

finish
