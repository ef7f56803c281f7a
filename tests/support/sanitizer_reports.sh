#!/bin/bash
# The sanitizer builds' catch-all for reports that no test would see: every
# test runs with ASAN_OPTIONS log_path=DIR/<test>, so the ASan or LSan
# report of any process it starts - a daemon, a background job, a child
# whose stderr goes to /dev/null - lands in DIR/<test>.<pid>.
#
#   sanitizer_reports.sh reset DIR   empty DIR (1777: a proxy that dropped
#                                    its privileges writes there too)
#   sanitizer_reports.sh check DIR   fail, showing each, if DIR holds any
#                                    (and keep them); else remove DIR
set -u
mode=${1:-} dir=${2:-}
case $dir in
/*) ;;
*)
	echo "usage: $0 reset|check /absolute/dir" >&2
	exit 2
	;;
esac
case $mode in
reset)
	rm -rf -- "$dir" && mkdir -m 1777 -- "$dir" && chmod 1777 -- "$dir"
	;;
check)
	if [ ! -d "$dir" ]; then
		echo "FAIL: $dir is missing: the reset fixture did not run" >&2
		exit 1
	fi
	n=0
	for f in "$dir"/*; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		echo "FAIL sanitizer report $(basename "$f") (test.pid):"
		head -c 4000 "$f"
		echo
	done
	if [ "$n" -gt 0 ]; then
		echo "$n sanitizer report(s) in $dir"
		exit 1
	fi
	echo "no sanitizer report in $dir"
	rmdir -- "$dir"
	;;
*)
	echo "usage: $0 reset|check /absolute/dir" >&2
	exit 2
	;;
esac
