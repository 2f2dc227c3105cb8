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
LOAD=$BUILD/bench/auth_load
UID0=21001
UIDN=$((UID0 + USERS - 1))
PORT=5001
SERVER=10.202.0.2
[ -x "$LOAD" ] || { echo "auth_load.sh: build bench/ first (make)" >&2; exit 2; }
[ "$USERS" -ge 1 ] && [ "$USERS" -le 200 ] || { echo "auth_load.sh: 1 to 200 users" >&2; exit 2; }

user_addr() { echo "10.201.0.$((10 + $1))"; }	# user_addr INDEX (0-based)

lab_netns
lab_pki >/dev/null
lab_nuauth_conf
sed -i 's/^nuauth_packet_timeout=.*/nuauth_packet_timeout=5/' "$LAB_DIR/nuauth.conf"
# SEND_APP=always: the clients look for every connection's program, as they
# did before nuauth told them what it needs (the ACL below reads none).
echo "nuauth_client_send_app=${SEND_APP:-auto}" >> "$LAB_DIR/nuauth.conf"
{
	echo "# the benchmark's desktop users: name:password:uid:groups"
	for ((i = 0; i < USERS; i++)); do
		printf 'user%02d:pw%02d:%d:500\n' $((i + 1)) $((i + 1)) $((UID0 + i))
	done
} > "$LAB_DIR/users.nufw"
cat > "$LAB_DIR/acls.nufw" <<ACLS
[benchmark users to the server]
decision=1
gid=500
proto=6
DstIP=$SERVER
DstPort=$PORT
ACLS

# Each user's programs and client leave from the user's own address.
ip netns exec "$NS_C" sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
ip netns exec "$NS_S" sysctl -qw net.core.somaxconn=65535
for ((i = 0; i < USERS; i++)); do
	a=$(user_addr $i) table=$((100 + i))
	ip -n "$NS_C" addr add "$a/24" dev c0
	ip -n "$NS_C" route add 10.201.0.0/24 dev c0 src "$a" table $table
	ip -n "$NS_C" route add default via 10.201.0.1 src "$a" table $table
	ip -n "$NS_C" rule add uidrange $((UID0 + i))-$((UID0 + i)) table $table
done

lab_rules
# The mark check: every SYN to the server that leaves the gateway goes
# through markcheck; those with their user's mark return early, the others
# reach the last rule, whose counter is the number of wrong marks.
ipt="ip netns exec $NS_G iptables"
$ipt -t mangle -N markcheck
for ((i = 0; i < USERS; i++)); do
	$ipt -t mangle -A markcheck -s "$(user_addr $i)" -m mark --mark $((UID0 + i)) -j RETURN
done
$ipt -t mangle -A markcheck -j RETURN
$ipt -t mangle -A POSTROUTING -d $SERVER -p tcp --dport $PORT --syn -j markcheck

queue_on() { $ipt -C FORWARD -p tcp --syn -j NFQUEUE --queue-num 0 2>/dev/null ||
		$ipt -A FORWARD -p tcp --syn -j NFQUEUE --queue-num 0; }
queue_off() { $ipt -D FORWARD -p tcp --syn -j NFQUEUE --queue-num 0 2>/dev/null || true; }
# marks_counted: "SYNS WRONG" since the last zeroing
marks_counted() {
	local syns wrong
	syns=$($ipt -t mangle -L POSTROUTING -nvx | awk '/markcheck/ { print $1 }')
	wrong=$($ipt -t mangle -L markcheck -nvx | awk '$3 == "RETURN" { last = $1 } END { print last }')
	echo "${syns:-0} ${wrong:-0}"
}

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
for ((i = 0; i < USERS; i++)); do
	n=$(printf '%02d' $((i + 1)))
	lab_start_as "client$n" "$NS_C" $((UID0 + i)) "$NUTCPC" -H 10.201.0.1 -U "user$n" \
		-P "pw$n" -A "$p/cacert.pem" -d
	CLIENT_PIDS+=("$LAB_PID")
done
for ((i = 0; i < USERS; i++)); do
	lab_wait_log "client$(printf '%02d' $((i + 1)))" "logged in" 30 || exit 1
done

field() { sed -n "s/.*\\b$2=\\([0-9.]*\\).*/\\1/p" <<< "$1"; }	# field LINE KEY

# phase queued|direct ARGS...: one run of the load; prints its line (and
# logs it), with the mark check's counts for a queued run.
phase() {
	local mode=$1 line syns wrong; shift
	if [ "$mode" = queued ]; then queue_on; else queue_off; fi
	# The connections of the phase before sit in TIME_WAIT in the gateway's
	# conntrack table: a full table drops SYNs (a second's retransmission
	# each), which would be measured as the next phase's latency.
	ip netns exec "$NS_G" conntrack -F >/dev/null 2>&1
	$ipt -t mangle -Z
	line=$(ip netns exec "$NS_C" "$LOAD" connect -t "$SECS" "$@" $SERVER $PORT $UID0 $UIDN)
	read -r syns wrong <<< "$(marks_counted)"
	[ "$mode" = queued ] && line="$line syns=$syns wrong_marks=$wrong"
	[ -n "$line" ] || line="error: no figures"	# auth_load said why
	echo "$mode $line" >> "$LAB_DIR/phases.log"
	echo "$line"
}

# cpu_ticks PID...: user + system time of those processes, in clock ticks
cpu_ticks() {
	local pid t=0 f
	for pid in "$@"; do
		f=$(cut -d' ' -f14,15 "/proc/$pid/stat" 2>/dev/null) || continue
		t=$((t + ${f% *} + ${f#* }))
	done
	echo $t
}

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
