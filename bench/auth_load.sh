#!/bin/bash
# Authenticated connections (issue "Performance", part 2), as root:
#   bench/auth_load.sh BUILD_DIR [SECONDS] [USERS]
# In the namespace lab (tests/e2e/lab.sh), USERS (50) desktop users, uids
# 21001..., each logged in with its own nutcpc in the client namespace and
# each with its own source address there (policy routing by uid: 50
# desktops behind one gateway).  bench/auth_load opens TCP connects to the
# server as those users (one worker per user, running as that uid):
#   - at the most the path takes (closed loop, INFLIGHT (2) connects in
#     flight per user), with the gateway's queue rule and without it;
#   - open loop at 10, 25, 50, 75 and 90 % of that rate and at 1,000/s,
#     each with the queue rule and then without it: connect latency p50
#     and p99, and what authentication adds.
# Every phase is SECONDS (5) long.  In the queued phases each SYN that
# leaves the gateway is checked against its user's mark (mark_uid: the
# mark is the uid): a chain in mangle POSTROUTING counts SYNs whose mark is
# not the one of their source address's user.  The plot of latency against
# offered rate goes to $BENCH_PLOT (bench/auth_latency.png; empty: none).
# With SOAK_MINUTES set, it runs the soak instead: that many minutes at
# SOAK_RATE (2,000) connects/s, checking every connect's mark and that the
# file descriptors and memory of nuauth, nufw and the clients stay flat.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../tests/e2e/lab.sh"
[ "$(id -u)" = 0 ] || { echo "auth_load.sh: run as root" >&2; exit 2; }
lab_init "${1:-build}"
SECS=${2:-5}
USERS=${3:-50}
INFLIGHT=${INFLIGHT:-2}
PLOT=${BENCH_PLOT-$here/auth_latency.png}
. "$here/auth_lab.sh"
auth_lab_setup

lab_start server "$NS_S" "$LOAD" serve $PORT
lab_wait_log server ready
# The daemons at their default (quiet) level: logging is not measured.
lab_start nuauth "$NS_G" "$NUAUTH" -c "$LAB_DIR/nuauth.conf"
NUAUTH_PID=$LAB_PID
lab_wait_log nuauth ready
p=$LAB_DIR/pki
# -C -M: only the authenticated connections' ends are reported.
lab_start nufw "$NS_G" "$NUFW" -d 127.0.0.1 -p 4128 -q 0 -m -C -M -t 5 -T 20000 \
	-k "$p/nufw-key.pem" -c "$p/nufw-cert.pem" -a "$p/cacert.pem"
NUFW_PID=$LAB_PID
lab_wait_log nufw "connected to nuauth"
CLIENT_PIDS=()
for ((i = 0; i < USERS; i++)); do auth_start_client $i 10.201.0.1; done
auth_wait_clients "logged in" || exit 1

# usage PID...: "FDS RSS_KB" summed over the processes
usage() {
	local pid fds=0 rss=0 n
	for pid in "$@"; do
		n=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
		fds=$((fds + n))
		rss=$((rss + $(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)))
	done
	echo "$fds $rss"
}

# The soak: SOAK_MINUTES minutes at SOAK_RATE connects/s, a line a minute
# with what every connect came to and the file descriptors and memory of
# nuauth, nufw and the clients, which must stay flat.
soak() {
	local m line first_ua first_uw first_uc ua uw uc wrong_total=0 failed_total=0 done_total=0
	local client_pids=() pid
	for pid in "${LAB_PIDS[@]}"; do
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = nutcpc ] && client_pids+=("$pid")
	done
	printf 'soak: %d periods of %d s at %d connects/s, %d users\n' "$SOAK_MINUTES" "$SECS" \
		"$SOAK_RATE" "$USERS"
	printf '%4s %9s %7s %6s %13s %13s %18s\n' n completed failed wrong \
		"nuauth fd/kB" "nufw fd/kB" "clients fd/kB"
	for ((m = 1; m <= SOAK_MINUTES; m++)); do
		line=$(phase queued -r "$SOAK_RATE")
		ua=$(usage "$NUAUTH_PID") uw=$(usage "$NUFW_PID") uc=$(usage "${client_pids[@]}")
		[ $m = 1 ] && first_ua=$ua first_uw=$uw first_uc=$uc
		done_total=$((done_total + $(field "$line" completed)))
		failed_total=$((failed_total + $(field "$line" timeouts) + $(field "$line" failed)))
		wrong_total=$((wrong_total + $(field "$line" wrong_marks)))
		printf '%4d %9s %7s %6s %13s %13s %18s\n' $m "$(field "$line" completed)" \
			$(( $(field "$line" timeouts) + $(field "$line" failed) )) "$(field "$line" wrong_marks)" \
			"${ua/ //}" "${uw/ //}" "${uc/ //}"
	done
	echo "soak: $done_total connects, $failed_total failed or timed out, $wrong_total without their user's mark"
	echo "soak: after period 1 -> after period $SOAK_MINUTES (fds/kB): nuauth ${first_ua/ //} -> ${ua/ //}," \
		"nufw ${first_uw/ //} -> ${uw/ //}, clients ${first_uc/ //} -> ${uc/ //}"
	[ "$wrong_total" = 0 ]
}

if [ -n "${SOAK_MINUTES:-}" ]; then
	SOAK_RATE=${SOAK_RATE:-2000}
	SECS=${SOAK_PERIOD:-60}	# one line per period
	phase queued -c "$INFLIGHT" >/dev/null	# warm
	soak
	exit
fi

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)"
phase queued -c "$INFLIGHT" >/dev/null	# warm: ARP, conntrack, caches
max_direct=$(phase direct -c "$INFLIGHT")
cpu_c0=$(cpu_ticks "${CLIENT_PIDS[@]}") cpu_a0=$(cpu_ticks "$NUAUTH_PID") cpu_f0=$(cpu_ticks "$NUFW_PID")
t0=$(date +%s%N)
max_queued=$(phase queued -c "$INFLIGHT")
t1=$(date +%s%N)
cpu_c1=$(cpu_ticks "${CLIENT_PIDS[@]}") cpu_a1=$(cpu_ticks "$NUAUTH_PID") cpu_f1=$(cpu_ticks "$NUFW_PID")
# pct T0 T1: ticks over the phase's wall time, in % of one core
pct() { awk -v d=$(($2 - $1)) -v hz="$(getconf CLK_TCK)" -v ns=$((t1 - t0)) \
	'BEGIN { printf "%.0f", 100 * d / hz / (ns / 1e9) }'; }
rd=$(field "$max_direct" cps) rq=$(field "$max_queued" cps)
printf '\nauthenticated connections: %d users, %d in flight each, %d s per figure\n' \
	"$USERS" "$INFLIGHT" "$SECS"
printf '%-40s %12s %8s\n' "" "connects/s" "ratio"
printf '%-40s %12s %8s\n' "no queue rule (baseline)" "$rd" "1.00"
printf '%-40s %12s %8s\n' "queue -> nufw -> nuauth -> user's client" "$rq" \
	"$(awk "BEGIN { printf \"%.2f\", $rq / ($rd ? $rd : 1) }")"
printf '  %s\n  %s\n' "queued: $max_queued" "direct: $max_direct"
printf '  CPU in the queued phase, %% of one core: %d clients %s, nuauth %s, nufw %s (nuauth_client_send_app=%s)\n' \
	"$USERS" "$(pct "$cpu_c0" "$cpu_c1")" "$(pct "$cpu_a0" "$cpu_a1")" "$(pct "$cpu_f0" "$cpu_f1")" \
	"${SEND_APP:-auto}"
# The lab's clients and load generator share the gateway's cores, which a
# real gateway does not: what nufw and nuauth spend per connect tells what
# the gateway itself can do.
awk -v t=$((cpu_a1 - cpu_a0 + cpu_f1 - cpu_f0)) -v hz="$(getconf CLK_TCK)" -v n="$(field "$max_queued" completed)" 'BEGIN {
	if (n > 0 && t > 0) printf "gateway (nufw + nuauth) CPU per authenticated connect: %.0f us (one core: %.0f connects/s)\n",
		t / hz * 1e6 / n, n / (t / hz) }'

rates=$(for pct in 10 25 50 75 90; do echo $((rq * pct / 100)); done; echo 1000)
rates=$(sort -n -u <<< "$rates" | awk '$1 > 0')
data=$LAB_DIR/latency.dat
echo "# offered/s auth_p50_us auth_p99_us direct_p50_us direct_p99_us auth_cps direct_cps" > "$data"
printf '\nconnect latency (us) at an offered rate, open loop\n'
printf '%10s %10s %10s %10s %10s %10s %10s %10s\n' offered/s "auth p50" "auth p99" \
	"direct p50" "direct p99" "added p50" "added p99" "auth cps"
for r in $rates; do
	q=$(phase queued -r "$r") d=$(phase direct -r "$r")
	q50=$(field "$q" p50_us) q99=$(field "$q" p99_us)
	d50=$(field "$d" p50_us) d99=$(field "$d" p99_us)
	printf '%10s %10s %10s %10s %10s %10s %10s %10s\n' "$r" "$q50" "$q99" "$d50" "$d99" \
		$((q50 - d50)) $((q99 - d99)) "$(field "$q" cps)"
	echo "$r $q50 $q99 $d50 $d99 $(field "$q" cps) $(field "$d" cps)" >> "$data"
done
# sum KEY: the sum of KEY=N over the queued phases
sum() { awk -v k="$1=" '$1 == "queued" { for (i = 2; i <= NF; i++) if (index($i, k) == 1)
	s += substr($i, length(k) + 1) } END { print s + 0 }' "$LAB_DIR/phases.log"; }
syns_total=$(sum syns) wrong_total=$(sum wrong_marks) completed_total=$(sum completed)
echo
echo "connects established in the queued phases: $completed_total"
echo "marks: $syns_total SYNs left the gateway in the queued phases, $wrong_total without their user's mark"
[ "$syns_total" -ge "$completed_total" ] || echo "marks: fewer SYNs counted than connects established: the check missed some"
echo "timeouts and failures per phase:"
awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^(offered|timeouts|failed|late|skipped)=/) printf " %s", $i;
	print "  (" $1 ")" }' "$LAB_DIR/phases.log" | sed 's/^/ /'
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)"
echo "nuauth: $(grep -E '^VmRSS' /proc/$NUAUTH_PID/status | tr -s ' \t' ' ')"

if [ -n "$PLOT" ]; then
	if command -v gnuplot >/dev/null; then
		gnuplot <<GP
set terminal pngcairo size 800,500 font ",10"
set output "$PLOT"
set title "Connect latency through the gateway, $USERS users ($(date +%Y-%m-%d), $(nproc) cores)"
set xlabel "offered connects per second"
set ylabel "connect latency (us)"
set logscale y
set key below
set grid
plot "$data" using 1:2 with linespoints title "authenticated p50", \
     "$data" using 1:3 with linespoints title "authenticated p99", \
     "$data" using 1:4 with linespoints title "no queue rule p50", \
     "$data" using 1:5 with linespoints title "no queue rule p99"
GP
		echo "plot: $PLOT"
	else
		echo "plot: gnuplot is not installed; none made"
	fi
fi
[ "$wrong_total" = 0 ]
