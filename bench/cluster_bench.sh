#!/bin/bash
# A nuauth cluster against one nuauth (issue 17's benchmark), as root:
#   bench/cluster_bench.sh BUILD_DIR [SECONDS] [USERS] [KILLS]
# One lab, the users of bench/auth_load.sh (USERS (50), uids 21001...,
# each with its own nutcpc and source address, 10.201.0.100 and up), in
# three steps:
#   1. one nuauth (no cluster keys) on 10.201.0.11, nufw -d 10.201.0.11;
#   2. three etcd members, and in its place node a of a cluster (same
#      address, same clients, which log in again): what etcd costs;
#   3. node b on 10.201.0.12, nufw -d 10.201.0.11,10.201.0.12, half of the
#      users logged in on node b.
# Each step measures, each phase SECONDS (4) long: connects/s at the most
# the path takes (INFLIGHT (2) connects in flight per user) and connect
# latency p50/p99 at LAT_RATE (1,000) connects/s, each with the gateway's
# queue rule and without it (the baseline, measured again in each step);
# every SYN's mark is checked (0 wrong marks expected); and the CPU that
# nufw, nuauth and etcd spend per authenticated connect.
#
# Then the failover: KILLS (10) rounds of kill -9 of the node that holds
# user01's session (user01's nutcpc uses -H nuauth.lab, which names both
# nodes), while user01, user02 (node b) and user03 (node a) connect every
# STEADY_GAP (0.05) s.  The failover time is from the kill to user01's
# first accepted connect (with user01's mark); the killed node is started
# again (its clients log in again) and the next round kills the other one.
# Prints every value and min/median/p90/max; the surviving node's user
# must lose no connect; no connect may leave with a wrong mark.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../tests/e2e/lab.sh"
[ "$(id -u)" = 0 ] || { echo "cluster_bench.sh: run as root" >&2; exit 2; }
lab_init "${1:-build}"
SECS=${2:-4}
USERS=${3:-50}
KILLS=${4:-10}
INFLIGHT=${INFLIGHT:-2}
LAT_RATE=${LAT_RATE:-1000}
STEADY_GAP=${STEADY_GAP:-0.05}
STEADY_PARALLEL=1	# a connect every STEADY_GAP, whatever the others came to
AUTH_ADDR0=100	# 10.201.0.11 and .12 are the nodes'
. "$here/../tests/e2e/cluster_lab.sh"
. "$here/auth_lab.sh"
[ "$USERS" -ge 3 ] || { echo "cluster_bench.sh: 3 users at least" >&2; exit 2; }
[ "$KILLS" -ge 1 ] || { echo "cluster_bench.sh: 1 kill at least" >&2; exit 2; }

cluster_pki || { echo "cluster_bench.sh: the lab's PKI" >&2; exit 1; }
auth_lab_setup
cluster_addresses
lab_start load-server "$NS_S" "$LOAD" serve $PORT
lab_wait_log load-server ready || exit 1
lab_start_server || exit 1	# port 80, for the steady connects
node_listen_conf solo 10.201.0.11
node_conf a 10.201.0.11
node_conf b 10.201.0.12
# A node that has just started refuses a limited login (the address limit,
# 256 by default) until it has read the directory, "for now": the clients
# that log in again while a node starts (step 2, and the killed node's
# users in each round) try again on their back-off.
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min), $(nproc) cores"

# start_nufw NODE[,NODE]: nufw asking those nodes, connected to each.
start_nufw() {
	local p=$LAB_DIR/pki node
	lab_start nufw "$NS_G" "$NUFW" -d "$1" -p 4128 -q 0 -m -C -M -t 5 -T 20000 \
		-k "$p/nufw-key.pem" -c "$p/nufw-cert.pem" -a "$p/cacert.pem"
	NUFW_PID=$LAB_PID
	for node in ${1//,/ }; do
		lab_wait_log nufw "connected to nuauth at $node" || return 1
	done
}

# measure NAME LABEL PID...: one step's figures; PIDs: the nuauth nodes
# (their CPU, with nufw's and etcd's, per authenticated connect).
STEPS=()
measure() {
	local name=$1 label=$2 d q ql dl t0 t1 ca0 ca1 cf0 cf1 ce0 ce1 hz n; shift 2
	local etcd=(${ETCD1_PID:-} ${ETCD2_PID:-} ${ETCD3_PID:-})
	SECS=1 phase queued -c "$INFLIGHT" >/dev/null	# warm: ARP, conntrack, caches
	d=$(phase direct -c "$INFLIGHT")
	ca0=$(cpu_ticks "$@") cf0=$(cpu_ticks "$NUFW_PID") ce0=$(cpu_ticks "${etcd[@]}")
	t0=$(date +%s%N)
	q=$(phase queued -c "$INFLIGHT")
	t1=$(date +%s%N)
	ca1=$(cpu_ticks "$@") cf1=$(cpu_ticks "$NUFW_PID") ce1=$(cpu_ticks "${etcd[@]}")
	ql=$(phase queued -r "$LAT_RATE")
	dl=$(phase direct -r "$LAT_RATE")
	hz=$(getconf CLK_TCK) n=$(field "$q" completed)
	printf '\n%s\n  max queued: %s\n  max direct: %s\n  %d/s queued: %s\n  %d/s direct: %s\n' \
		"$label" "$q" "$d" "$LAT_RATE" "$ql" "$LAT_RATE" "$dl"
	# us per connect: nuauth, nufw, etcd (over the max queued phase)
	local cpu
	cpu=$(awk -v a=$((ca1 - ca0)) -v f=$((cf1 - cf0)) -v e=$((ce1 - ce0)) -v hz="$hz" -v n="${n:-0}" \
		'BEGIN { if (n > 0) printf "%.0f %.0f %.0f", a / hz * 1e6 / n, f / hz * 1e6 / n, e / hz * 1e6 / n;
			else print "- - -" }')
	echo "  CPU per authenticated connect (us): nuauth, nufw, etcd: $cpu" \
		"($(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f", ns / 1e9 }') s)"
	STEPS+=("$name|$(field "$q" cps)|$(field "$d" cps)|$(field "$ql" p50_us)|$(field "$ql" p99_us)|$(field "$dl" p50_us)|$(field "$dl" p99_us)|$(( $(field "$q" syns) + $(field "$ql" syns) ))|$(( $(field "$q" wrong_marks) + $(field "$ql" wrong_marks) ))|$cpu")
}

# 1. one nuauth
idx_a=() idx_b=()	# the users of node a and of node b in step 3
for ((i = 0; i < USERS; i++)); do
	if [ $i = 0 ] || [ $((i % 2)) = 0 ]; then idx_a+=($i); else idx_b+=($i); fi
done
cluster_start_node solo || exit 1
start_nufw 10.201.0.11 || exit 1
CLIENT_PIDS=()
auth_start_client 0 nuauth.lab	# user01, the failover's user: both nodes
for ((i = 1; i < USERS; i++)); do auth_start_client $i 10.201.0.11; done
auth_wait_clients "logged in" || exit 1
measure "one nuauth" "one nuauth (no cluster), nufw -d 10.201.0.11" "$NODE_SOLO_PID"

# 2. the same, node a of a cluster: etcd is what changes
start_etcd_cluster || exit 1
lab_stop "$NODE_SOLO_PID"
cluster_start_node a || exit 1
lab_wait_log nufw "connected to nuauth at 10.201.0.11" 30 2 || exit 1
auth_wait_clients "logged in again" || exit 1
measure "one node + etcd" "one node of a cluster (3 etcd members), nufw -d 10.201.0.11" "$NODE_A_PID"

# 3. two nodes, half of the users on each
cluster_start_node b || exit 1
lab_stop "$NUFW_PID"
start_nufw 10.201.0.11,10.201.0.12 || exit 1
for i in "${idx_b[@]}"; do
	lab_stop "${CLIENT_PIDS[$i]}"
	auth_start_client "$i" 10.201.0.12
done
auth_wait_clients "logged in" 1 "${idx_b[@]}" || exit 1
on_a=$(ctl_node a users | grep -c "^a ") on_b=$(ctl_node b users | grep -c "^b ")
measure "two nodes" "two nodes of a cluster ($on_a sessions on a, $on_b on b), nufw -d 10.201.0.11,10.201.0.12" \
	"$NODE_A_PID" "$NODE_B_PID"

printf '\nauthenticated connections, %d users, %d s per figure; max: %d in flight per user; latency at %d/s\n' \
	"$USERS" "$SECS" "$INFLIGHT" "$LAT_RATE"
printf '%-16s %8s %9s %6s %14s %14s %14s %16s %16s\n' "" "conn/s" "baseline" ratio "p50/p99 us" \
	"baseline" "added" "wrong marks" "CPU us/conn"
for s in "${STEPS[@]}"; do
	IFS='|' read -r label rq rd q50 q99 d50 d99 syns wrong cpu <<< "$s"
	printf '%-16s %8s %9s %6s %14s %14s %14s %16s %16s\n' "$label" "$rq" "$rd" \
		"$(awk "BEGIN { printf \"%.2f\", $rq / ($rd ? $rd : 1) }")" "$q50/$q99" "$d50/$d99" \
		"$((q50 - d50))/$((q99 - d99))" "$wrong of $syns" "${cpu// /+}"
	echo "$wrong" >> "$LAB_DIR/wrong"
done

# The failover, KILLS rounds.
queue_on
ip netns exec "$NS_G" conntrack -F >/dev/null 2>&1
$ipt -t mangle -Z
rm -f "$LAB_DIR/stop"
steady $UID0 victim 80 "$(user_addr 0)" & LAB_PIDS+=($!)
steady $((UID0 + 1)) witness-b 80 "$(user_addr 1)" & LAB_PIDS+=($!)
steady $((UID0 + 2)) witness-a 80 "$(user_addr 2)" & LAB_PIDS+=($!)
for f in victim witness-a witness-b; do
	lab_wait_file "$LAB_DIR/$f.steady" ' ok' 10 3 || { echo "steady connects of $f do not start" >&2; exit 1; }
done

# again_counts INDEX...: how many times each client logged in again
again_counts() {
	local i
	for i in "$@"; do grep -c "logged in again" "$LAB_DIR/client$(printf '%02d' $((i + 1))).log"; done
}

holder=a
fo_ms=() fo_login=() lost=0 rounds_failed=0
printf '\nfailover: %d kills -9 of the node holding user01, connects every %s s\n' "$KILLS" "$STEADY_GAP"
for ((r = 1; r <= KILLS; r++)); do
	if [ $holder = a ]; then other=b idx=("${idx_a[@]:1}"); else other=a idx=("${idx_b[@]}"); fi
	pid_var=NODE_${holder^^}_PID
	before=($(again_counts "${idx[@]}"))
	n_login=$(again_counts 0)
	kill_t=$(date +%s.%N)
	kill -9 "${!pid_var}"
	wait "${!pid_var}" 2>/dev/null
	LAB_PIDS=($(printf '%s\n' "${LAB_PIDS[@]}" | grep -vx "${!pid_var}"))
	if first_ok "$LAB_DIR/victim.steady" "$kill_t" 15 >/dev/null &&
	   back_t=$(first_accept "$LAB_DIR/victim.steady" "$kill_t"); then
		ms=$(awk -v a="$back_t" -v k="$kill_t" 'BEGIN { printf "%d", (a - k) * 1000 }')
		fo_ms+=("$ms")
	else
		ms="none in 15 s"
		rounds_failed=$((rounds_failed + 1))
	fi
	# user01's login on the other node (its nutcpc's stamp)
	if lab_wait_log client01 "logged in again" 5 $((n_login + 1)); then
		login_ms=$(stamp_gap "$(date -d "@$kill_t" +%H:%M:%S.%3N)" \
			"$(grep "logged in again" "$LAB_DIR/client01.log" | sed -n "$((n_login + 1))p" | cut -d' ' -f1)")
		login_ms+=" ms"
		fo_login+=("${login_ms% ms}")
	else
		login_ms="-"
	fi
	cluster_start_node $holder || exit 1
	back=0
	for k in "${!idx[@]}"; do
		lab_wait_log "client$(printf '%02d' $((idx[k] + 1)))" "logged in again" 30 \
			$((before[k] + 1)) || back=1
	done
	up_t=$(date +%s.%N)
	# the surviving node's user, from the kill until the killed node's users are back
	n=$(awk -v a="$kill_t" -v b="$up_t" '$1 >= a && $1 <= b && $2 == "fail"' \
		"$LAB_DIR/witness-$other.steady" | wc -l)
	lost=$((lost + n))
	printf '  round %2d: node %s killed: user01 logged in on node %s after %s, connects again after %s ms;' \
		$r $holder $other "$login_ms" "$ms"
	printf ' node %s back, its %d users in %.1f s; node %s'"'"'s user lost %d connects\n' $holder \
		${#idx[@]} "$(awk -v a="$kill_t" -v b="$up_t" 'BEGIN { print b - a }')" $other "$n"
	[ $back = 0 ] || echo "    some of node $holder's users did not log in again"
	holder=$other
done
touch "$LAB_DIR/stop"
wait_steady
read -r syns wrong <<< "$(marks_counted)"

sorted=$(printf '%s\n' "${fo_ms[@]}" | sort -n)
# pct P: the P-th percentile of the failover times (nearest rank)
pct() { awk -v p="$1" '{ v[NR] = $1 } END { i = int(p / 100 * NR + 0.999999); if (i < 1) i = 1; print v[i] }' <<< "$sorted"; }
echo
if [ ${#fo_ms[@]} -gt 0 ]; then
	echo "failover time (ms), $((${#fo_ms[@]})) of $KILLS kills: min $(pct 0) median $(pct 50) p90 $(pct 90) max $(pct 100)"
	echo "  every value, in order: ${fo_ms[*]}"
	echo "  sorted: $(echo $sorted)"
	sorted=$(printf '%s\n' "${fo_login[@]}" | sort -n)
	echo "user01's login on the other node (ms after the kill): min $(pct 0) median $(pct 50) p90 $(pct 90) max $(pct 100)"
	echo "  every value, in order: ${fo_login[*]}"
fi
echo "failover: $rounds_failed rounds without a connect of user01 within 15 s"
echo "failover: the surviving node's user lost $lost connects"
ok=1
for f in "victim $UID0" "witness-b $((UID0 + 1))" "witness-a $((UID0 + 2))"; do
	set -- $f
	if ! out=$(marks_all "$LAB_DIR/$1.steady" "$2"); then
		echo "failover: $1 accepted with another mark: $out"; ok=0
	fi
done
echo "failover: $(grep -c ' ok' "$LAB_DIR/victim.steady") connects of user01 accepted, each checked with its mark in conntrack"
echo "marks: $syns SYNs left the gateway during the kills, $wrong without their user's mark"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)"
[ "$(awk '{ s += $1 } END { print s + 0 }' "$LAB_DIR/wrong")" = 0 ] && [ "$wrong" = 0 ] && [ $ok = 1 ] &&
	[ $rounds_failed = 0 ] && [ $lost = 0 ]
