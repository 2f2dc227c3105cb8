#!/bin/sh
# fuzz-all.sh SECONDS SEED_DIR HARNESS...: runs each libFuzzer harness (in
# the current folder) for SECONDS over SEED_DIR/NAME (NAME is the harness
# without its fuzz_ prefix).  New inputs go to fuzz-work/NAME/corpus, crash
# inputs to fuzz-work/NAME/crashes, the output to fuzz-work/NAME.log.
# Prints one line per harness, then "N passed, N failed"; exit status 1 when
# any harness failed.
set -u
seconds=$1 seeds=$2
shift 2
passed=0 failed=0

for h in "$@"; do
	name=${h#fuzz_}
	work=fuzz-work/$name
	log=$work.log
	mkdir -p "$work/corpus" "$work/crashes"
	# (the for list was expanded already: reusing "$@" for the options is safe)
	set -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$work/crashes/"
	[ -f "$seeds/$name.dict" ] && set -- "$@" -dict="$seeds/$name.dict"
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		"./$h" "$@" "$work/corpus" "$seeds/$name" > "$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	[ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
	[ -n "$execs" ] || execs=0
	rate=$(sed -n 's/.*exec\/s: *\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
	if [ "$rc" -eq 0 ]; then
		echo "PASS: $h: $execs executions (${rate:-?}/s), no crash"
		passed=$((passed + 1))
	else
		crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
		echo "FAIL: $h: crashed after $execs executions (exit $rc; input ${crash:-none}; log $log)"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*fuzz check failed|.*runtime error)' "$log" | head -n 3 | sed 's/^/    /'
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
