#!/bin/bash
# A bridging (transparent) gateway in the namespace lab (run as root):
#   tests/e2e/bridge.sh BUILD_DIR [TEST...]
#
#   client 10.203.0.2 c0 --- port-c [br0 10.203.0.1] port-s --- s0 10.203.0.3 server
#
# Client and server share one subnet; the gateway bridges them and has an
# address on br0 only so that nutcpc can reach nuauth.  br_netfilter
# (net.bridge.bridge-nf-call-iptables=1) passes the bridged packets through
# iptables, where FORWARD queues new bridged TCP connections to nufw; the
# queued packets carry their bridge ports, and ACLs name them with
# physindev=/physoutdev=.  Prints one PASS/FAIL line per check and ends
# with "N passed, N failed".
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"

lab_init "${1:-.}" "${@:2}"

SERVER=10.203.0.3
BRNF=net/bridge/bridge-nf-call-iptables

# Where the kernel keeps bridge-nf-call-iptables for the whole machine (old
# kernels), the value found is put back on exit.
HOST_BRNF=
bridge_down() {
	if [ -n "$HOST_BRNF" ] && [ -e /proc/sys/$BRNF ] &&
	   [ "$(cat /proc/sys/$BRNF)" != "$HOST_BRNF" ]; then
		echo "bridge.sh: restoring the machine's bridge-nf-call-iptables=$HOST_BRNF" >&2
		echo "$HOST_BRNF" > /proc/sys/$BRNF
	fi
	lab_down
}
trap bridge_down EXIT

bridge_netns() {
	local ns
	for ns in "$NS_C" "$NS_G" "$NS_S"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	ip link add c0 netns "$NS_C" type veth peer name port-c netns "$NS_G"
	ip link add s0 netns "$NS_S" type veth peer name port-s netns "$NS_G"
	ip -n "$NS_G" link add br0 type bridge
	ip -n "$NS_G" link set port-c master br0
	ip -n "$NS_G" link set port-s master br0
	ip -n "$NS_C" addr add 10.203.0.2/24 dev c0
	ip -n "$NS_G" addr add 10.203.0.1/24 dev br0
	ip -n "$NS_S" addr add $SERVER/24 dev s0
	ip -n "$NS_C" link set c0 up
	ip -n "$NS_S" link set s0 up
	ip -n "$NS_G" link set port-c up
	ip -n "$NS_G" link set port-s up
	ip -n "$NS_G" link set br0 up
}

# The gateway's rules, as lab_rules but for bridged packets.  The physdev
# match comes first: on a machine with modprobe it loads br_netfilter,
# which brings /proc/sys/net/bridge.  The two rules without a target count
# the packets of alice's connections to port 80 after the SYN (which the
# verdict accepts before them) that carry her mark: restored from the
# connection, both ways.
bridge_rules() {
	local ipt="ip netns exec $NS_G iptables"
	$ipt -A FORWARD -m physdev --physdev-is-bridged -p tcp --syn -j NFQUEUE --queue-num 0 &&
	$ipt -A FORWARD -m physdev --physdev-is-bridged -p tcp --dport 80 -m mark --mark 1001 &&
	$ipt -A FORWARD -m physdev --physdev-is-bridged -p tcp --sport 80 -m mark --mark 1001 &&
	$ipt -t mangle -A PREROUTING -j CONNMARK --restore-mark &&
	$ipt -t mangle -A POSTROUTING -m mark ! --mark 0 -j CONNMARK --save-mark
}

# marked_packets tcp-option: the counter of the rule above for --dport 80
# or --sport 80.
marked_packets() {
	ip netns exec "$NS_G" iptables -L FORWARD -v -x -n |
		awk -v want="$1:80" '$0 ~ "mark match 0x3e9" && index($0, want) { print $1 }'
}

# Bridged packets reach iptables only with bridge-nf-call-iptables=1 in
# the gateway's namespace.  On kernels where the setting is per namespace
# (5.3 and later), the machine's own value is left alone.
bridge_netfilter() {
	local v
	if ! ip netns exec "$NS_G" test -e /proc/sys/$BRNF; then
		fail "br_netfilter is available" \
			"no /proc/sys/$BRNF: the kernel needs br_netfilter (modprobe br_netfilter)"
		return 1
	fi
	HOST_BRNF=$(cat /proc/sys/$BRNF)
	ip netns exec "$NS_G" sysctl -qw net.bridge.bridge-nf-call-iptables=1
	v=$(ip netns exec "$NS_G" cat /proc/sys/$BRNF)
	if [ "$v" = 1 ]; then
		pass "bridge-nf-call-iptables=1 in the gateway's namespace"
	else
		fail "bridge-nf-call-iptables=1 in the gateway's namespace" "reads $v"
		return 1
	fi
	# Per namespace or global?  The client's namespace has no bridge: its
	# value is changed and the machine's is looked at.
	ip netns exec "$NS_C" sysctl -qw net.bridge.bridge-nf-call-iptables=$((1 - HOST_BRNF))
	if [ "$(cat /proc/sys/$BRNF)" = "$HOST_BRNF" ]; then
		echo "note: bridge-nf-call-iptables is per network namespace here; the machine's ($HOST_BRNF) is untouched"
		ip netns exec "$NS_C" sysctl -qw net.bridge.bridge-nf-call-iptables="$HOST_BRNF"
	else
		echo "note: bridge-nf-call-iptables is global on this kernel: set to 1, $HOST_BRNF restored on exit"
		echo 1 > /proc/sys/$BRNF
	fi
}

bridge_conf() {
	lab_nuauth_conf
	cat > "$LAB_DIR/acls.nufw" <<ACLS
# The ports of the gateway's bridge br0: port-c toward the client, port-s
# toward the server.
[alice from the client port]
uid=1001
proto=6
indev=br0
physindev=port-c
physoutdev=port-s
DstPort=80
decision=1

[alice from the server port]
uid=1001
proto=6
physindev=port-s
DstPort=8080
decision=1

[refused at once from the client port]
uid=1001
proto=6
physindev=port-c
DstPort=7070
decision=3
ACLS
}

# probe PORT MS: alice's connection to the server; prints nuprobe's line.
probe() {
	lab_as "$NS_C" $ALICE_UID "$NUPROBE" connect $SERVER "$1" "$2"
}

# bridge_ct_mark SPORT DPORT: the connection's mark in the gateway's
# conntrack table.
bridge_ct_mark() {
	ip netns exec "$NS_G" conntrack -L -p tcp --orig-src 10.203.0.2 --sport "$1" \
		--dport "$2" 2>/dev/null | grep -o 'mark=[0-9]*' | head -1 | cut -d= -f2
}

test_allowed_by_client_port() {
	local out port mark
	if out=$(probe 80 5000); then
		pass "alice connects through the bridge (ACL physindev=port-c physoutdev=port-s indev=br0)"
	else
		fail "alice connects through the bridge (ACL physindev=port-c physoutdev=port-s indev=br0)" \
			"$out" "$(tail -5 "$LAB_DIR/nuauth.log")"
		return
	fi
	port=${out##*:}
	mark=$(bridge_ct_mark "$port" 80)
	if [ "${mark:-}" = 1001 ]; then
		pass "the bridged connection carries alice's uid (mark 1001) in conntrack"
	else
		fail "the bridged connection carries alice's uid (mark 1001) in conntrack" \
			"mark=${mark:-none}" "$(ip netns exec "$NS_G" conntrack -L 2>&1 | head)"
	fi
	local fwd back
	fwd=$(marked_packets dpt) back=$(marked_packets spt)
	if [ "${fwd:-0}" -gt 0 ] && [ "${back:-0}" -gt 0 ]; then
		pass "the later packets carry the mark both ways (CONNMARK on the bridge: $fwd out, $back back)"
	else
		fail "the later packets carry the mark both ways (CONNMARK on the bridge)" \
			"$(ip netns exec "$NS_G" iptables -L FORWARD -v -x -n)"
	fi
	check_log "nuauth's decision log names alice and the physindev ACL" \
		nuauth "user alice: .*:$port -> .*:80 accepted (acl alice from the client port), mark 0x3e9" 0
}

test_refused_by_other_port() {
	local out
	if out=$(probe 8080 3000); then
		fail "alice is refused when the ACL names the server's port (physindev=port-s)" "$out"
	elif grep -q "user alice: .*:8080 dropped (no acl matched)" "$LAB_DIR/nuauth.log"; then
		pass "alice is refused when the ACL names the server's port (physindev=port-s)"
	else
		fail "alice is refused when the ACL names the server's port (physindev=port-s)" \
			"$out" "$(grep "user alice" "$LAB_DIR/nuauth.log" | tail -3)"
	fi
}

# decision=3: nufw answers with a TCP reset, sent from the gateway's own
# stack onto the bridge.
test_reject_on_bridge() {
	local out start ms
	start=$(date +%s%N)
	out=$(probe 7070 4000)
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	if grep -q "failed: Connection refused" <<<"$out" && [ $ms -lt 2500 ]; then
		pass "decision=3 on the bridge refuses at once (${ms} ms)"
	else
		fail "decision=3 on the bridge refuses at once" "$out after ${ms} ms"
	fi
}

# Queued before the bridge has chosen the way out (mangle PREROUTING, where
# nufw-qos queues on a router), a packet has its in-port but no out-port
# yet: physindev= ACLs still work, physoutdev= ones cannot match.
test_queue_at_prerouting() {
	local ipt="ip netns exec $NS_G iptables" out before
	$ipt -D FORWARD -m physdev --physdev-is-bridged -p tcp --syn -j NFQUEUE --queue-num 0
	$ipt -t mangle -I PREROUTING 2 -m physdev --physdev-is-in -p tcp --syn \
		-m addrtype ! --dst-type LOCAL -j NFQUEUE --queue-num 0
	before=$(grep -c "refused at once from the client port" "$LAB_DIR/nuauth.log")
	out=$(probe 7070 4000)
	if grep -q "failed: Connection refused" <<<"$out" &&
	   [ "$(grep -c "refused at once from the client port" "$LAB_DIR/nuauth.log")" -gt "$before" ]; then
		pass "queued in PREROUTING, the packet still has its in-port (physindev= matches)"
	else
		fail "queued in PREROUTING, the packet still has its in-port (physindev= matches)" "$out"
	fi
	out=$(probe 80 1500)
	if [ $? -ne 0 ] && grep -q "user alice: .*:80 dropped (no acl matched)" "$LAB_DIR/nuauth.log"; then
		pass "queued in PREROUTING, the packet has no out-port yet (physoutdev= cannot match)"
	else
		fail "queued in PREROUTING, the packet has no out-port yet (physoutdev= cannot match)" "$out"
	fi
}

bridge_netns
if ! bridge_rules; then
	fail "the gateway's physdev and CONNMARK rules load"
	lab_finish
	exit 1
fi
bridge_netfilter || { lab_finish; exit 1; }
bash "$here/pki.sh" "$LAB_DIR/pki" nuauth.lab 10.203.0.1
bridge_conf
lab_start nuauth "$NS_G" "$NUAUTH" -c "$LAB_DIR/nuauth.conf" -vv
lab_wait_log nuauth "ready" || { fail "nuauth starts"; lab_finish; exit 1; }
lab_start_nufw || { fail "nufw connects to nuauth"; lab_finish; exit 1; }
lab_start server "$NS_S" "$NUPROBE" serve 80 8080 7070
lab_wait_log server "ready" || { fail "the server starts"; lab_finish; exit 1; }

lab_start_as alice "$NS_C" $ALICE_UID "$NUTCPC" -H 10.203.0.1 -p 4129 -U alice -P alicepw \
	-A "$LAB_DIR/pki/cacert.pem" -d -v
if lab_wait_log alice "logged in" 10; then
	pass "alice logs in to nuauth on br0's address"
	lab_tests \
		test_allowed_by_client_port \
		test_refused_by_other_port \
		test_reject_on_bridge \
		test_queue_at_prerouting
else
	fail "alice logs in to nuauth on br0's address"
fi

lab_finish
