#!/bin/bash
# Every benchmark of bench/, one after the other, as root, from the top of
# the tree after a build:
#   bench/run-all.sh [BUILD_DIR] [SECONDS]
# Each figure stands beside its baseline, measured in the same run (see
# bench/README.md).  SECONDS (5) is the length of each timed phase.  Run it
# on a quiet machine: every part of the lab shares its cores.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "${1:-build}" && pwd) || exit 2
secs=${2:-5}
[ "$(id -u)" = 0 ] || { echo "bench/run-all.sh: run as root" >&2; exit 2; }
failed=()

step() {	# step TITLE COMMAND...
	local title=$1; shift
	printf '\n=== %s\n' "$title"
	"$@" || failed+=("$title")
}

echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)," \
	"$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), load: $(cut -d' ' -f1-3 /proc/loadavg)"
step "verdict path (nufw + nuauth vs a bare NFQUEUE loop)" "$here/verdict_path.sh" "$build" "$secs"
step "connect latency of one user (push)" "$here/client_latency.sh" "$build" 200
step "decision engine (indexed vs linear ACL match)" "$build/bench/acl_bench" 3
step "authenticated connections (50 users)" "$here/auth_load.sh" "$build" "$secs" 50
step "a nuauth cluster: one node vs two, failover over 10 kills" "$here/cluster_bench.sh" "$build" "$secs" 50 10
step "login storm, PLAIN" "$here/login_storm.sh" "$build" 10000 PLAIN
step "login storm, SCRAM-SHA-256" "$here/login_storm.sh" "$build" 10000 SCRAM-SHA-256
echo
if [ ${#failed[@]} -eq 0 ]; then
	echo "every benchmark ran"
else
	printf 'did not run through: %s\n' "${failed[@]}"
	exit 1
fi
