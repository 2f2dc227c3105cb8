#!/bin/bash
# A short smoke run of the benchmarks of bench/ that need the lab: they
# still run and still print their figures.  No performance target is
# asserted here (the machine running it may be anything).  As root:
#   tests/bench-smoke.sh BUILD_DIR
# Ends with "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-build}
passed=0 failed=0
pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1"; shift; [ $# -gt 0 ] && printf '    %s\n' "$@"; failed=$((failed + 1)); }
out=$(mktemp -d /tmp/bench-smoke.XXXXXX)
trap 'rm -rf "$out"' EXIT

# 3 users, 1 s phases; the plot goes to the scratch directory.
BENCH_PLOT=$out/plot.png INFLIGHT=1 "$top/bench/auth_load.sh" "$build" 1 3 > "$out/auth.log" 2>&1
st=$?
if [ $st -eq 0 ] && grep -Eq '^no queue rule \(baseline\) +[1-9][0-9]* +1\.00$' "$out/auth.log" &&
   grep -Eq "^queue -> nufw -> nuauth -> user's client +[1-9][0-9]* +[0-9.]+$" "$out/auth.log"; then
	pass "auth_load.sh: connects per second with and without the queue"
else
	fail "auth_load.sh: connects per second with and without the queue (status $st)" \
		"$(tail -30 "$out/auth.log")"
fi
if grep -Eq '^ +1000 +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +-?[0-9]+ +-?[0-9]+ +[0-9]+$' "$out/auth.log"; then
	pass "auth_load.sh: latency figures at 1,000 connects/s"
else
	fail "auth_load.sh: latency figures at 1,000 connects/s" "$(grep -A8 '^connect latency' "$out/auth.log")"
fi
if grep -Eq "^marks: [1-9][0-9]* SYNs left the gateway in the queued phases, 0 without" "$out/auth.log"; then
	pass "auth_load.sh: every SYN carried its user's mark"
else
	fail "auth_load.sh: every SYN carried its user's mark" "$(grep '^marks' "$out/auth.log")"
fi
if ! command -v gnuplot >/dev/null || [ -s "$out/plot.png" ]; then
	pass "auth_load.sh: the plot (or gnuplot is absent)"
else
	fail "auth_load.sh: the plot" "$(grep '^plot' "$out/auth.log")"
fi

WORKERS=2 "$top/bench/login_storm.sh" "$build" 50 PLAIN > "$out/storm.log" 2>&1
st=$?
if [ $st -eq 0 ] && grep -Eq '^  logged in 50 of 50 in [0-9.]+ s: [0-9]+ logins/s' "$out/storm.log" &&
   grep -Eq 'KiB per session$' "$out/storm.log" && grep -q 'nuauth CPU per login' "$out/storm.log"; then
	pass "login_storm.sh: 50 logins, their rate and nuauth's memory per session"
else
	fail "login_storm.sh: 50 logins, their rate and nuauth's memory per session (status $st)" \
		"$(tail -20 "$out/storm.log")"
fi
# The cluster benchmark: 4 users, 1 s phases, 2 kills (about 40 s).
if command -v etcd >/dev/null; then
	"$top/bench/cluster_bench.sh" "$build" 1 4 2 > "$out/cluster.log" 2>&1
	st=$?
	if [ $st -eq 0 ] && [ "$(grep -Ec '^(one nuauth|one node \+ etcd|two nodes) +[1-9][0-9]* +[1-9][0-9]* +[0-9.]+ .* 0 of [1-9][0-9]* ' \
		"$out/cluster.log")" = 3 ]; then
		pass "cluster_bench.sh: one nuauth, one node with etcd, two nodes: connects/s, latency, no wrong mark"
	else
		fail "cluster_bench.sh: one nuauth, one node with etcd, two nodes (status $st)" \
			"$(tail -30 "$out/cluster.log")"
	fi
	if grep -Eq '^failover time \(ms\), 2 of 2 kills: min [0-9]+ median [0-9]+ p90 [0-9]+ max [0-9]+$' \
		"$out/cluster.log" && grep -q "^marks: [1-9][0-9]* SYNs left the gateway during the kills, 0 without" \
		"$out/cluster.log"; then
		pass "cluster_bench.sh: the failover times of 2 kills, no wrong mark"
	else
		fail "cluster_bench.sh: the failover times of 2 kills, no wrong mark" "$(grep -A3 '^failover' "$out/cluster.log")"
	fi
else
	echo "SKIP: cluster_bench.sh (etcd is not installed)"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
