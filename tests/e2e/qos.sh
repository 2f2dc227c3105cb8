#!/bin/bash
# The routing and QoS recipes of README.mark, end to end in the namespace lab
# (run as root):
#   tests/e2e/qos.sh BUILD_DIR [TEST...]
# Each recipe is set up by piping nufw-qos's output into a shell on the
# machine, measured (route taken, class counters, throughput, DSCP seen
# upstream), and removed with `nufw-qos down`; then the machine must hold
# nothing of it.  Prints one PASS/FAIL line per check and ends with
# "N passed, N failed".
#
# The lab of lab.sh, grown by a second uplink and an upstream router:
#
#   client --c0/g0-- gateway --g1/s0-- 10.202.0.0/24 -- server (main uplink)
#   10.201.0.2          |  \---g2/s1-- 10.203.0.0/24 --/       (second uplink)
#                       g3 10.204.0.1                   |
#                       r0 10.204.0.2                   |
#                    upstream router --r1/s2-- 10.205.0.0/24 (its main path)
#                                    \-r2/s3-- 10.206.0.0/24 (its DSCP path)
#
# The server's far addresses sit on its loopback: the gateway reaches
# 10.209.0.2 by its default route (g1) and 10.210.0.2 through the upstream
# router, whose default route is r1.  The server answers by g1 always.
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"

lab_init "${1:-.}" "${@:2}"
QOS=$BUILD/src/nufwqos/nufw-qos
[ -x "$QOS" ] || { echo "qos.sh: $QOS is not built" >&2; exit 2; }

NS_R=nulab-r-$LAB_ID
qos_lab_down() {
	local pid
	for pid in $(ip netns pids "$NS_R" 2>/dev/null); do
		kill -9 "$pid" 2>/dev/null || true
	done
	ip netns del "$NS_R" 2>/dev/null || true
	lab_down
}
trap qos_lab_down EXIT

RATE=4		# Mbit/s: the class of a limited user
SECS=3		# seconds of each measured transfer
LIMIT=$((RATE * 1300000))	# a limited user stays below 1.3 x the class rate
LOW=$((RATE * 500000))		# and gets more than half of it (not starved)
FREE=$((RATE * 3000000))	# a free user goes beyond 3 x the class rate

qos_netns() {
	lab_netns
	ip netns add "$NS_R"
	ip link add g2 netns "$NS_G" type veth peer name s1 netns "$NS_S"
	ip link add g3 netns "$NS_G" type veth peer name r0 netns "$NS_R"
	ip link add r1 netns "$NS_R" type veth peer name s2 netns "$NS_S"
	ip link add r2 netns "$NS_R" type veth peer name s3 netns "$NS_S"
	ip -n "$NS_G" addr add 10.203.0.1/24 dev g2
	ip -n "$NS_S" addr add 10.203.0.2/24 dev s1
	ip -n "$NS_G" addr add 10.204.0.1/24 dev g3
	ip -n "$NS_R" addr add 10.204.0.2/24 dev r0
	ip -n "$NS_R" addr add 10.205.0.1/24 dev r1
	ip -n "$NS_S" addr add 10.205.0.2/24 dev s2
	ip -n "$NS_R" addr add 10.206.0.1/24 dev r2
	ip -n "$NS_S" addr add 10.206.0.2/24 dev s3
	ip -n "$NS_S" addr add 10.209.0.2/32 dev lo
	ip -n "$NS_S" addr add 10.210.0.2/32 dev lo
	ip -n "$NS_R" link set lo up
	for l in "$NS_G g2" "$NS_G g3" "$NS_S s1" "$NS_S s2" "$NS_S s3" "$NS_R r0" "$NS_R r1" "$NS_R r2"; do
		set -- $l
		ip -n "$1" link set "$2" up
	done
	ip -n "$NS_G" route add default via 10.202.0.2
	ip -n "$NS_G" route add 10.210.0.0/24 via 10.204.0.2
	ip -n "$NS_R" route add default via 10.205.0.2
	ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1
}

# qos_up NS NAME ARGS...: `nufw-qos ARGS` run by a shell in NS that stops at
# the first error; the script and its output stay in $LAB_DIR/NAME-up.*.
qos_up() {
	local ns=$1 name=$2; shift 2
	"$QOS" "$@" > "$LAB_DIR/$name-up.sh" 2>&1 &&
		ip netns exec "$ns" bash -e "$LAB_DIR/$name-up.sh" > "$LAB_DIR/$name-up.log" 2>&1 ||
		{ cat "$LAB_DIR/$name-up.sh" "$LAB_DIR/$name-up.log" 2>/dev/null; return 1; }
}

qos_down() {	# NS NAME ARGS...: `nufw-qos down ARGS` in NS
	local ns=$1 name=$2; shift 2
	"$QOS" down "$@" > "$LAB_DIR/$name-down.sh" &&
		ip netns exec "$ns" bash "$LAB_DIR/$name-down.sh" > "$LAB_DIR/$name-down.log" 2>&1
}

# leftovers NS: what rules, routes, qdiscs and devices a recipe left behind
# in NS (nothing is printed when the namespace is back as it was).
leftovers() {
	local ns=$1 left=()
	ip netns exec "$ns" iptables-save 2>/dev/null | grep -q '^-A' && left+=("iptables rules")
	ip netns exec "$ns" iptables-legacy-save 2>/dev/null | grep -q '^-A' && left+=("iptables-legacy rules")
	ip netns exec "$ns" nft list table ip nufw_qos >/dev/null 2>&1 && left+=("nft table nufw_qos")
	[ "$(ip -n "$ns" rule show | wc -l)" -eq 3 ] || left+=("ip rules")
	ip -n "$ns" route show table all | grep -qE 'table [0-9]+' && left+=("routes in numbered tables")
	ip netns exec "$ns" tc qdisc show | grep -qE 'htb|clsact' && left+=("qdiscs")
	[ -z "$(ip -n "$ns" link show type ifb)" ] || left+=("ifb devices")
	echo "${left[*]}"
}

# qos_failed WHAT NS NAME OUT ARGS...: `nufw-qos ARGS' stopped at an error
# (OUT) in NS: report it, remove what it added, and check that nothing is left
# for the next recipe.
qos_failed() {
	local what=$1 ns=$2 name=$3 out=$4
	shift 4
	fail "$what: the generated rules apply" "$out"
	qos_down "$ns" "$name" "$@"
	check_clean "$what" "$ns"
}

check_clean() {	# WHAT NS...: the recipe WHAT is gone from every NS
	local what=$1 ns left all=""
	shift
	for ns in "$@"; do
		left=$(leftovers "$ns")
		[ -z "$left" ] || all+="$ns: $left; "
	done
	if [ -z "$all" ]; then
		pass "$what: nufw-qos down leaves nothing behind"
	else
		fail "$what: nufw-qos down leaves nothing behind" "$all"
	fi
}

tx_bytes() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/tx_bytes"; }
alice_by() {	# -A|-D: rules of no target counting alice's bytes out g1 and g2
	local dev
	for dev in g1 g2; do
		ip netns exec "$NS_G" iptables -t mangle "$1" POSTROUTING -o $dev \
			-m mark --mark 0x3e9/0xffff -m comment --comment "alice by $dev"
	done
}
class_bytes() {	# NS DEV CLASSID: bytes sent by that HTB class
	ip netns exec "$1" tc -s class show dev "$2" classid "$3" | awk '/Sent/ { print $2; exit }'
}
# ipt_packets NS IPTABLES PATTERN: packets counted by the rules whose
# IPTABLES-save line contains PATTERN; ipt_bytes, their bytes
ipt_packets() { ipt_count 1 "$@"; }
ipt_bytes() { ipt_count 2 "$@"; }
ipt_count() {	# FIELD NS IPTABLES PATTERN
	ip netns exec "$2" "$3-save" -c 2>/dev/null | grep -F -- "$4" |
		sed -n 's/^\[\([0-9]*\):\([0-9]*\)\].*/\'"$1"'/p' | awk '{ s += $1 } END { print s + 0 }'
}
field() { sed -n "s/.*\<$2=\([0-9]*\).*/\1/p" <<<"$1"; }	# LINE KEY
mbit() { awk -v b="$1" 'BEGIN { printf "%.2f Mbit/s", b / 1e6 }'; }

# --- Recipe 1: keeping the mark, and the bit layout --------------------------
# An administrator's flag in bit 24 (connections to port 8080), set before
# nufw judges the SYN, survives next to the uid that mark_uid writes; each
# consumer masks its own bits.
test_keep_mark() {	# BACKEND
	local b=$1 ipt=iptables args=(--backend "$1" --queue 0 --keep --flag-bits 24:8)
	local out port mark_a mark_b replies flagged
	[ "$b" = iptables-legacy ] && ipt="iptables-legacy -w"
	if ! out=$(qos_up "$NS_G" "keep-$b" "${args[@]}"); then
		qos_failed "keep ($b)" "$NS_G" "keep-$b" "$out" "${args[@]}"
		return
	fi
	local g="ip netns exec $NS_G"
	# The two iptables runs cover both of its backends.
	if [ "$b" != nft ]; then
		local want=nf_tables
		[ "$b" = iptables-legacy ] && want=legacy
		out=$($g "$b" -V 2>&1)
		if grep -qF "($want)" <<<"$out"; then
			pass "keep ($b): \`$b -V' reports the $want backend ($out)"
		else
			fail "keep ($b): \`$b -V' reports the $want backend" "$out"
		fi
	fi
	if [ "$b" = nft ]; then
		$g nft add rule ip nufw_qos pre tcp dport 8080 meta mark set meta mark or 0x1000000
		$g nft add chain ip nufw_qos count '{ type filter hook forward priority 0; policy accept; }'
		$g nft add rule ip nufw_qos count ip saddr 10.202.0.2 meta mark and 0xffff == 0x3e9 counter
		$g nft add rule ip nufw_qos count ip saddr 10.202.0.2 meta mark and 0xff000000 == 0x1000000 counter
	else
		$g $ipt -t mangle -I PREROUTING 2 -p tcp --dport 8080 -j MARK --set-xmark 0x1000000/0x1000000
		$g $ipt -t mangle -A FORWARD -s 10.202.0.2 -m mark --mark 0x3e9/0xffff
		$g $ipt -t mangle -A FORWARD -s 10.202.0.2 -m mark --mark 0x1000000/0xff000000
	fi
	out=$(lab_connect $ALICE_UID 80) && port=${out##*:} && mark_a=$(lab_ct_mark "$port" 80)
	out=$(lab_connect $BOB_UID 8080) && port=${out##*:} && mark_b=$(lab_ct_mark "$port" 8080)
	if [ "${mark_a:-}" = 1001 ] && [ "${mark_b:-}" = $((0x010003ea)) ]; then
		pass "keep ($b): conntrack keeps alice's mark 0x3e9 and bob's 0x10003ea (flag bit 24 + uid)"
	else
		fail "keep ($b): conntrack keeps alice's mark 0x3e9 and bob's 0x10003ea (flag bit 24 + uid)" \
			"alice ${mark_a:-none}, bob ${mark_b:-none} ($out)"
	fi
	if [ "$b" = nft ]; then
		local counts
		counts=($($g nft list chain ip nufw_qos count | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'))
		replies=${counts[0]:-0} flagged=${counts[1]:-0}
		$g nft delete chain ip nufw_qos count
	else
		replies=$(ipt_packets "$NS_G" "${ipt%% *}" "-s 10.202.0.2/32 -m mark --mark 0x3e9/0xffff")
		flagged=$(ipt_packets "$NS_G" "${ipt%% *}" "-s 10.202.0.2/32 -m mark --mark 0x1000000/0xff000000")
		$g $ipt -t mangle -D PREROUTING -p tcp --dport 8080 -j MARK --set-xmark 0x1000000/0x1000000
		$g $ipt -t mangle -D FORWARD -s 10.202.0.2 -m mark --mark 0x3e9/0xffff
		$g $ipt -t mangle -D FORWARD -s 10.202.0.2 -m mark --mark 0x1000000/0xff000000
	fi
	# The server's packets never meet nufw: only the restore gives them the mark.
	if [ "$replies" -ge 2 ] && [ "$flagged" -ge 2 ]; then
		pass "keep ($b): the server's replies carry the restored mark (uid match: $replies packets, flag match: $flagged)"
	else
		fail "keep ($b): the server's replies carry the restored mark" \
			"uid 0x3e9/0xffff matched $replies packets, flag 0x1000000/0xff000000 matched $flagged"
	fi
	qos_down "$NS_G" "keep-$b" "${args[@]}"
	check_clean "keep ($b)" "$NS_G"
}

# --- Recipe 2: routing per user ----------------------------------------------
# route_case NAME UID WANT_DEV OTHER_DEV WANT_SYN_IF OTHER_SYN_IF: one upload
# to 10.209.0.2; the bulk must leave the gateway by WANT_DEV, and the server
# must see the SYN arrive on WANT_SYN_IF.
route_case() {
	local what=$1 uid=$2 want=$3 other=$4 syn_in=$5 syn_other=$6 out
	local w0 o0 s0 t0 w1 o1 s1 t1
	w0=$(tx_bytes "$NS_G" "$want") o0=$(tx_bytes "$NS_G" "$other")
	s0=$(ipt_packets "$NS_S" iptables "-i $syn_in ") t0=$(ipt_packets "$NS_S" iptables "-i $syn_other ")
	out=$(lab_send "$uid" 10.209.0.2 5001 1)
	w1=$(tx_bytes "$NS_G" "$want") o1=$(tx_bytes "$NS_G" "$other")
	s1=$(ipt_packets "$NS_S" iptables "-i $syn_in ") t1=$(ipt_packets "$NS_S" iptables "-i $syn_other ")
	local dw=$((w1 - w0)) do=$((o1 - o0)) ds=$((s1 - s0)) dt=$((t1 - t0))
	if [ -n "$(field "$out" received)" ] && [ $dw -gt 1000000 ] && [ $do -lt 100000 ] &&
	   [ $ds -ge 1 ] && [ $dt = 0 ]; then
		pass "route: $what (gateway tx $want +$dw B, $other +$do B; SYN seen on server's $syn_in)"
	else
		fail "route: $what" "$out" "tx $want +$dw B, $other +$do B; SYNs on $syn_in +$ds, on $syn_other +$dt"
	fi
}

test_route() {
	local args=(--queue 0 --route uid:1001=100:10.203.0.2:g2) out
	local s="ip netns exec $NS_S iptables"
	$s -A INPUT -i s0 -p tcp --syn --dport 5001	# the server counts SYNs per link
	$s -A INPUT -i s1 -p tcp --syn --dport 5001
	if out=$(qos_up "$NS_G" route "${args[@]}"); then
		route_case "alice's upload and its SYN leave by the second uplink g2" $ALICE_UID g2 g1 s1 s0
		route_case "bob's upload and its SYN leave by the main uplink g1" $BOB_UID g1 g2 s0 s1
	else
		fail "route: the generated rules apply" "$out"
	fi
	qos_down "$NS_G" route "${args[@]}"
	# For contrast: queued in FORWARD, the SYN is routed before nufw marks it.
	args+=(--queue-at forward)
	if out=$(qos_up "$NS_G" route-fwd "${args[@]}"); then
		route_case "queued in FORWARD, alice's bulk takes g2 but her SYN went by g1" $ALICE_UID g2 g1 s0 s1
	else
		fail "route: the generated FORWARD variant applies" "$out"
	fi
	qos_down "$NS_G" route-fwd "${args[@]}"
	$s -D INPUT -i s0 -p tcp --syn --dport 5001
	$s -D INPUT -i s1 -p tcp --syn --dport 5001
	check_clean "route" "$NS_G" "$NS_S"
}

# --- Recipe 3: shaping per user or group ---------------------------------------
# class_case LABEL DEV XFER SLOW=CLASS FAST=CLASS ARGS...: two users (alice,
# bob) transfer at the same time, XFER `send' (upload to the server, out by
# g1) or `fetch' (download from it, out by g0), with the HTB tree on DEV of
# `nufw-qos ARGS'.  SLOW's transfer must get between LOW and LIMIT in class
# CLASS (of RATE), FAST's more than FREE in the other, and each class must
# have sent its user's bytes.
class_case() {
	local label=$1 dev=$2 xfer=$3 slow=${4%%=*} sc=${4#*=} fast=${5%%=*} fc=${5#*=}
	local name=${label// (/-} port=5001 slack=100000 out_s out_f
	name=${name%)}
	shift 5
	# A download's class also sends what the source still had in flight
	# when the desktop closed: its send buffer (128 KB, 256 KB as the
	# kernel counts it) at most.
	[ "$xfer" = fetch ] && port=5002 slack=512000
	if ! out_s=$(qos_up "$NS_G" "$name" "$@"); then
		qos_failed "$label" "$NS_G" "$name" "$out_s" "$@"
		return
	fi
	local s0 f0 s1 f1
	s0=$(class_bytes "$NS_G" "$dev" "$sc") f0=$(class_bytes "$NS_G" "$dev" "$fc")
	"lab_$xfer" "$(desktop_uid "$slow")" 10.209.0.2 $port $SECS > "$LAB_DIR/$name-$slow.out" &
	local ps=$!
	"lab_$xfer" "$(desktop_uid "$fast")" 10.209.0.2 $port $SECS > "$LAB_DIR/$name-$fast.out"
	wait $ps
	s1=$(class_bytes "$NS_G" "$dev" "$sc") f1=$(class_bytes "$NS_G" "$dev" "$fc")
	out_s=$(cat "$LAB_DIR/$name-$slow.out") out_f=$(cat "$LAB_DIR/$name-$fast.out")
	local rs rf bs bf
	rs=$(field "$out_s" bps) rf=$(field "$out_f" bps)
	bs=$(field "$out_s" received) bf=$(field "$out_f" received)
	if [ -n "$rs" ] && [ -n "$rf" ] && [ "$rs" -gt $LOW ] && [ "$rs" -lt $LIMIT ] &&
	   [ "$rf" -gt $FREE ]; then
		pass "$label: $slow $(mbit "$rs") in the ${RATE} Mbit/s class $sc of $dev, $fast $(mbit "$rf") at once"
	else
		fail "$label: $slow in the ${RATE} Mbit/s class $sc of $dev ($(mbit $LOW) to $(mbit $LIMIT)), $fast free (> $(mbit $FREE))" \
			"$slow: $out_s" "$fast: $out_f"
	fi
	local ds=$((s1 - s0)) df=$((f1 - f0))
	if [ -n "$bs" ] && [ -n "$bf" ] && [ $ds -ge "$bs" ] && [ $ds -lt $((bs + bs / 5 + slack)) ] &&
	   [ $df -ge "$bf" ]; then
		pass "$label: class $sc sent $slow's bytes (+$ds B for $bs received), $fc $fast's (+$df B for $bf)"
	else
		fail "$label: class $sc of $dev counts $slow's bytes, $fc $fast's" \
			"$sc +$ds B, $fc +$df B; received $slow ${bs:-?} B, $fast ${bf:-?} B"
	fi
	qos_down "$NS_G" "$name" "$@"
	check_clean "$label" "$NS_G"
}

desktop_uid() {	# alice|bob: the local uid each logs in from
	case $1 in
	alice) echo $ALICE_UID ;;
	bob) echo $BOB_UID ;;
	esac
}

# alice (class 1:11, RATE) and bob (class 1:12, 50mbit, may borrow up to
# the link), once per backend; then by group: nuauth's mark_group writes bob's
# group 200 as 0x20 in bits 16-23, which picks class 1:20 (RATE), and alice
# (no such group) falls into the default class 1:10.
test_shape() {
	local b
	for b in iptables nft; do
		class_case "shape ($b)" g1 send alice=1:11 bob=1:12 --backend "$b" --queue 0 --shape g1 \
			--class "uid:1001=11:${RATE}mbit" --class uid:1002=12:50mbit:1gbit
	done
	class_case "shape (group)" g1 send bob=1:20 alice=1:10 --queue 0 --group-bits 16:8 --shape g1 \
		--class "group:0x20=20:${RATE}mbit"
}

# --- Recipe 4: the user's class across hops, in DSCP --------------------------
# The gateway writes DSCP 10 (AF11) into alice's packets leaving by g3; the
# upstream router, which knows no marks, routes DSCP 10 by its r2 path.
dscp_case() {	# WHAT UID WANT_DEV OTHER_DEV TAGGED(0/1)
	local what=$1 uid=$2 want=$3 other=$4 tagged=$5 out
	local n0 z0 w0 o0 n1 z1 w1 o1
	n0=$(ipt_packets "$NS_R" iptables "--dscp 0x0a -j MARK") z0=$(ipt_packets "$NS_R" iptables "--dscp 0x00")
	w0=$(tx_bytes "$NS_R" "$want") o0=$(tx_bytes "$NS_R" "$other")
	out=$(lab_send "$uid" 10.210.0.2 5001 1)
	n1=$(ipt_packets "$NS_R" iptables "--dscp 0x0a -j MARK") z1=$(ipt_packets "$NS_R" iptables "--dscp 0x00")
	w1=$(tx_bytes "$NS_R" "$want") o1=$(tx_bytes "$NS_R" "$other")
	local dn=$((n1 - n0)) dz=$((z1 - z0)) dw=$((w1 - w0)) do=$((o1 - o0)) ok=1
	[ -n "$(field "$out" received)" ] && [ $dw -gt 1000000 ] && [ $do -lt 100000 ] || ok=0
	if [ "$tagged" = 1 ]; then
		[ $dn -ge 10 ] && [ $dz = 0 ] || ok=0
	else
		[ $dn = 0 ] && [ $dz -ge 10 ] || ok=0
	fi
	if [ $ok = 1 ]; then
		pass "dscp: $what (upstream saw $dn packets with DSCP 10, $dz with 0; tx $want +$dw B, $other +$do B)"
	else
		fail "dscp: $what" "$out" "DSCP 10: +$dn packets, DSCP 0: +$dz; tx $want +$dw B, $other +$do B"
	fi
}

test_dscp() {
	local gw=(--queue 0 --dscp uid:1001=af11:g3) up=(--dscp-route 10=10:10.206.0.2:r2) out
	local r="ip netns exec $NS_R iptables"
	$r -t mangle -A PREROUTING -s 10.201.0.2 -m dscp --dscp 0	# counts untagged client packets
	if out=$(qos_up "$NS_R" dscp-upstream "${up[@]}") && out=$(qos_up "$NS_G" dscp-gw "${gw[@]}"); then
		dscp_case "alice's packets arrive upstream with DSCP 10 and take its r2 path" $ALICE_UID r2 r1 1
		dscp_case "bob's packets arrive with DSCP 0 and take its main path r1" $BOB_UID r1 r2 0
	else
		fail "dscp: the generated rules apply" "$out"
	fi
	qos_down "$NS_G" dscp-gw "${gw[@]}"
	qos_down "$NS_R" dscp-upstream "${up[@]}"
	$r -t mangle -D PREROUTING -s 10.201.0.2 -m dscp --dscp 0
	check_clean "dscp" "$NS_G" "$NS_R"
}

# --- Recipe 5: one limit across two interfaces (IFB) ---------------------------
# alice uploads through g1 (to 10.209.0.2) and g2 (to 10.203.0.2) at once;
# both interfaces' egress is redirected into ifbq, whose class 1:11 holds
# her to RATE in total.  bob uploads at the same time, unlimited.  Rules of
# the test's own (no target, a comment to find them) count alice's bytes
# leaving by each interface: the interfaces' own counters carry bob's too.
test_ifb() {
	local args=(--queue 0 --shape g1,g2 --ifb ifbq --class "uid:1001=11:${RATE}mbit") out
	if ! out=$(qos_up "$NS_G" ifb "${args[@]}"); then
		qos_failed "ifb" "$NS_G" ifb "$out" "${args[@]}"
		return
	fi
	alice_by -A
	local c0 c1
	c0=$(class_bytes "$NS_G" ifbq 1:11)
	lab_send $ALICE_UID 10.209.0.2 5001 $SECS > "$LAB_DIR/ifb-alice1.out" &
	local p1=$!
	lab_send $ALICE_UID 10.203.0.2 5001 $SECS > "$LAB_DIR/ifb-alice2.out" &
	local p2=$!
	lab_send $BOB_UID 10.209.0.2 5001 $SECS > "$LAB_DIR/ifb-bob.out"
	wait $p1 $p2
	c1=$(class_bytes "$NS_G" ifbq 1:11)
	local o1 o2 ob r1 r2 rb x1 x2 m1 m2 total
	o1=$(cat "$LAB_DIR/ifb-alice1.out") o2=$(cat "$LAB_DIR/ifb-alice2.out") ob=$(cat "$LAB_DIR/ifb-bob.out")
	r1=$(field "$o1" bps) r2=$(field "$o2" bps) rb=$(field "$ob" bps)
	x1=$(field "$o1" received) x2=$(field "$o2" received)
	m1=$(field "$o1" ms) m2=$(field "$o2" ms)
	# alice's total: both flows' bytes over the longer of their two windows
	[ -n "$m1" ] && [ -n "$m2" ] && total=$(((x1 + x2) * 8000 / (m1 > m2 ? m1 : m2)))
	if [ -n "${total:-}" ] && [ -n "$rb" ] && [ "$total" -lt $LIMIT ] &&
	   [ "$x1" -gt 100000 ] && [ "$x2" -gt 100000 ] && [ "$rb" -gt $FREE ]; then
		pass "ifb: alice's two uploads total $(mbit "$total") ($(mbit "$r1") by g1, $(mbit "$r2") by g2) for her ${RATE} Mbit/s class; bob $(mbit "$rb")"
	else
		fail "ifb: alice's two uploads stay under ${RATE} Mbit/s together (< $(mbit $LIMIT)), bob free (> $(mbit $FREE))" \
			"alice by g1: $o1" "alice by g2: $o2" "bob: $ob"
	fi
	local dc=$((c1 - c0)) a1 a2
	a1=$(ipt_bytes "$NS_G" iptables "alice by g1") a2=$(ipt_bytes "$NS_G" iptables "alice by g2")
	alice_by -D
	if [ -n "$x1" ] && [ -n "$x2" ] && [ $dc -ge $((x1 + x2)) ] && [ $dc -lt $(((x1 + x2) * 6 / 5 + 100000)) ]; then
		pass "ifb: class 1:11 of ifbq sent both of alice's flows (+$dc B for $x1 + $x2 B received)"
	else
		fail "ifb: class 1:11 of ifbq sent both of alice's flows" \
			"1:11 +$dc B for ${x1:-?} + ${x2:-?} B received"
	fi
	# Each flow's bytes left by its own interface, and the rules count
	# nothing but alice's (bob's upload by g1 is a hundred times hers).
	if [ -n "$x1" ] && [ -n "$x2" ] && [ "$a1" -ge "$x1" ] && [ "$a2" -ge "$x2" ] &&
	   [ $((a1 + a2)) -lt $((2 * (x1 + x2) + 1000000)) ]; then
		pass "ifb: alice's marked bytes left by g1 (+$a1 B for $x1 received) and by g2 (+$a2 B for $x2)"
	else
		fail "ifb: alice's marked bytes left by g1 and by g2" \
			"mark 0x3e9/0xffff out g1 $a1 B, out g2 $a2 B; received by g1 ${x1:-?} B, by g2 ${x2:-?} B"
	fi
	qos_down "$NS_G" ifb "${args[@]}"
	check_clean "ifb" "$NS_G"
}

# --- Recipe 5, what can be done: shaping what arrives --------------------------
# alice and bob download from the server at once.  The server's packets get
# their connection's mark back in PREROUTING and leave again by g0, the
# gateway's LAN side, where class 1:11 holds alice's download to RATE; bob's
# goes by the default class 1:10.
test_download() {
	class_case download g0 fetch alice=1:11 bob=1:10 --queue 0 --shape g0 \
		--class "uid:1001=11:${RATE}mbit"
}

qos_netns
lab_pki
lab_nuauth_conf
lab_mark_group_conf	# bob's group 200 as 0x20 in bits 16-23 (recipe 3)
cat >> "$LAB_DIR/acls.nufw" <<ACLS

[bulk transfers for staff]
decision=1
gid=100
proto=6
DstPort=5001,5002
ACLS
: > "$LAB_DIR/server.log"	# so that lab_wait_log cannot look before it exists
lab_start_server
lab_start_sink 5001
lab_start_bulk source 5002
lab_start_gateway

if lab_login alice-client $ALICE_UID alice alicepw && lab_login bob-client $BOB_UID bob bobpw; then
	for backend in iptables iptables-legacy nft; do
		test_keep_mark $backend
	done
	lab_tests test_route test_shape test_dscp test_ifb test_download
else
	fail "alice and bob log in"
fi

lab_finish
