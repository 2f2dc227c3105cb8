#!/bin/bash
# The shipped firewall (nufw-qos restore, loaded by nufw-firewall, the
# program nufw-firewall.service runs) in the namespace lab, both families
# (run as root):
#   tests/e2e/firewall.sh BUILD_DIR
# The gateway loads the generated ruleset instead of lab_rules, with
# OPTIONS="--queue 0 --lan g0 --wan g1": a logged-in user's TCP and UDP
# flows need her client's claim and an ACL (accepted with her mark), ICMP
# echo is queued (decided by an ACL for a host without a client under IP
# authentication, dropped from a host whose client cannot claim it), what
# nobody claims is dropped, what the queue rules do not match (another
# protocol, a flow from the WAN side) is dropped by NUFW-FORWARD's policy;
# `nufw-firewall stop' leaves iptables-save and ip6tables-save as they were.
# A QoS class composes with it; a LAN port forward (DNAT) is judged, not
# passed.  Then the same with --queue-at forward on iptables-legacy.
# Prints one PASS/FAIL line per test and ends with "N passed, N failed".
#
#   client 10.201.0.2   fd00:201::2 --g0-- gateway --g1-- server 10.202.0.2 fd00:202::2
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"

[ "$(id -u)" = 0 ] || { echo "firewall.sh: the lab needs root" >&2; exit 2; }
lab_init "${1:-.}"
QOS=$BUILD/src/nufwqos/nufw-qos
FIREWALL=$BUILD/conf/nufw-firewall
for f in "$QOS" "$FIREWALL"; do
	[ -x "$f" ] || { echo "firewall.sh: $f is not built" >&2; exit 2; }
done

ALICE_UID=2001
NOBODY_UID=2099		# a desktop account with no client logged in
V6_SERVER=fd00:202::2

fw_lab_ipv6() {
	ip -n "$NS_C" addr add fd00:201::2/64 dev c0 nodad
	ip -n "$NS_G" addr add fd00:201::1/64 dev g0 nodad
	ip -n "$NS_G" addr add fd00:202::1/64 dev g1 nodad
	ip -n "$NS_S" addr add $V6_SERVER/64 dev s0 nodad
	ip -n "$NS_C" -6 route add default via fd00:201::1
	ip -n "$NS_S" -6 route add default via fd00:202::1
	ip netns exec "$NS_G" sysctl -qw net.ipv6.conf.all.forwarding=1
}

# The administrator's own rules, there before the firewall is loaded: it
# must add to them and its removal leave them (counting rules, no target).
fw_admin_rules() {
	local t
	for t in iptables ip6tables; do
		ip netns exec "$NS_G" $t -A FORWARD -m comment --comment admin-own
		ip netns exec "$NS_G" $t -t mangle -A PREROUTING -m comment --comment admin-own
		ip netns exec "$NS_G" $t -t mangle -A POSTROUTING -m comment --comment admin-own
	done
	# a port forward: the gateway's 10.201.0.1:8081 is the server's port 80
	ip netns exec "$NS_G" iptables -t nat -A PREROUTING -i g0 -d 10.201.0.1 -p tcp --dport 8081 \
		-j DNAT --to-destination 10.202.0.2:80
}

# fw_tables: the gateway's iptables-save and ip6tables-save, counters and
# comment lines left out.
fw_tables() {
	{ ip netns exec "$NS_G" iptables-save; ip netns exec "$NS_G" ip6tables-save; } 2>/dev/null |
		grep -v '^#' | sed 's/ \[[0-9]*:[0-9]*\]$//'
}

# fw_run start|stop: nufw-firewall, as the unit runs it, in the gateway.
fw_run() {
	ip netns exec "$NS_G" env NUFW_FIREWALL_CONF="$LAB_DIR/firewall.conf" \
		NUFW_FIREWALL_RUNDIR="$LAB_DIR/fwrun" NUFW_QOS="$QOS" "$FIREWALL" "$1"
}

# fw_count TOOL CHAIN TEXT: the packet count of the rule of CHAIN (in
# whichever of mangle and filter holds it) whose iptables -S line holds TEXT.
fw_count() {
	local t=mangle
	[ "$2" = NUFW-FORWARD ] && t=filter
	ip netns exec "$NS_G" "$1" -t $t -L "$2" -v -x -n 2>/dev/null |
		grep -F -- "$3" | awk '{ s += $1 } END { print s + 0 }'
}

# raw_probe FAMILY: an IP packet of protocol 253 (experimental use: no
# queue rule matches it) from the client to the server; prints "arrived" or
# "lost" as the server's raw socket saw it.
raw_probe() {
	local fam=$1 dst=10.202.0.2 af=AF_INET
	[ "$fam" = 6 ] && dst=$V6_SERVER af=AF_INET6
	ip netns exec "$NS_S" python3 -c "
import socket, sys
s = socket.socket(socket.$af, socket.SOCK_RAW, 253)
s.settimeout(2)
print('listening', flush=True)
try:
    while True:
        data = s.recv(2048)
        if b'nufw-fw-probe' in data:
            print('arrived'); break
except socket.timeout:
    print('lost')
" > "$LAB_DIR/raw.out" 2>&1 &
	local pid=$!
	LAB_PIDS+=("$pid")
	local deadline=$((SECONDS + 5))
	until grep -q listening "$LAB_DIR/raw.out" 2>/dev/null || [ $SECONDS -ge $deadline ]; do sleep 0.02; done
	ip netns exec "$NS_C" python3 -c "
import socket, time
s = socket.socket(socket.$af, socket.SOCK_RAW, 253)
for i in range(8):	# spread over 0.8 s: a neighbour resolution on the way may drop the first
    s.sendto(b'nufw-fw-probe', ('$dst', 0))
    time.sleep(0.1)
"
	wait "$pid" 2>/dev/null
	tail -1 "$LAB_DIR/raw.out"
}

# tcp_from_server FAMILY: a TCP connection from the server (the WAN side,
# not a --lan interface) to the client; prints nuprobe's result.
tcp_from_server() {
	local dst=10.201.0.2
	[ "$1" = 6 ] && dst=fd00:201::2
	ip netns exec "$NS_S" "$NUPROBE" connect6 "$dst" 80 1500 2>&1
}

lab_netns
fw_lab_ipv6
lab_pki
lab_nuauth_conf
lab_ipv6_udp_acls
cat >> "$LAB_DIR/acls.nufw" <<ACLS

[staff may ping]
decision=1
gid=100
proto=1
type=8

[staff may ping over IPv6]
decision=1
gid=100
proto=58
type=128

[guests may ping the server over IPv6]
decision=1
gid=300
proto=58
type=128
DstIP=fd00:202::2
ACLS
echo 'nuauth_do_ip_authentication=1' >> "$LAB_DIR/nuauth.conf"
echo 'nuauth_client_listen_addr="::"' >> "$LAB_DIR/nuauth.conf"
cat > "$LAB_DIR/firewall.conf" <<CONF
OPTIONS="--queue 0 --lan g0 --wan g1 --shape g1 --class uid:1001=11:4mbit"
FAMILIES="ipv4 ipv6"
CONF

# --- loading
fw_admin_rules
before=$(fw_tables)
if out=$(fw_run start 2>&1) && ip netns exec "$NS_G" iptables -S FORWARD | grep -qx -- "-A FORWARD -j NUFW-FORWARD" &&
   ip netns exec "$NS_G" ip6tables -S FORWARD 2>/dev/null | grep -qx -- "-A FORWARD -j NUFW-FORWARD" &&
   ip netns exec "$NS_G" iptables -S FORWARD | grep -qF admin-own; then
	pass "nufw-firewall start loads both families next to the administrator's rules"
else
	fail "nufw-firewall start loads both families next to the administrator's rules" "$out" \
		"$(ip netns exec "$NS_G" iptables-save)"
fi
if out=$(fw_run start 2>&1); then
	fail "a second start is refused (already loaded)" "$out"
else
	pass "a second start is refused (already loaded)"
fi

lab_start userver "$NS_S" "$NUPROBE" userve 5353
lab_wait_log userver "ready"
lab_start_server
lab_start client-server "$NS_C" "$NUPROBE" serve 80
lab_wait_log client-server "ready"

# --- what the gateway itself receives is not queued: a broadcast (a DHCP
# request's kind) and an IPv6 link-local multicast reach its socket while
# no nufw is bound to the queue
ip netns exec "$NS_G" python3 -c "
import socket, select
s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s4.bind(('0.0.0.0', 6767))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1); s6.bind(('::', 6767))
print('ready', flush=True)
got = set()
while len(got) < 2:
    r, _, _ = select.select([s4, s6], [], [], 5)
    if not r: break
    for s in r:
        s.recv(100); got.add(s.family)
print('got', len(got), flush=True)
" > "$LAB_DIR/gwlisten.log" 2>&1 &
gw_pid=$!
LAB_PIDS+=("$gw_pid")
lab_wait_log gwlisten ready
ip netns exec "$NS_C" python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.sendto(b'x', ('10.201.0.255', 6767))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6.sendto(b'x', ('ff02::1%c0', 6767))
"
wait "$gw_pid" 2>/dev/null
if grep -q "got 2" "$LAB_DIR/gwlisten.log"; then
	pass "a broadcast and an IPv6 multicast to the gateway itself are not queued (they arrive)"
else
	fail "a broadcast and an IPv6 multicast to the gateway itself are not queued" \
		"$(cat "$LAB_DIR/gwlisten.log")"
fi

# --- fail closed: rules loaded, no nufw bound to the queue
if out=$(lab_connect $ALICE_UID 80 1500); then
	fail "with no nufw the queued SYN is dropped (no --queue-bypass)" "$out"
else
	pass "with no nufw the queued SYN is dropped (no --queue-bypass)"
fi

lab_start_nuauth
lab_start_nufw

# --- before any login: IP authentication (the guest) decides ICMP by ACL
if ip netns exec "$NS_C" ping -n -c 1 -W 3 10.202.0.2 >/dev/null 2>&1 &&
   ip netns exec "$NS_C" ping -n -c 1 -W 3 $V6_SERVER >/dev/null 2>&1; then
	pass "a host with no client: ICMP and ICMPv6 echo decided by the guest's ACLs (allowed)"
else
	fail "a host with no client: ICMP and ICMPv6 echo decided by the guest's ACLs (allowed)"
fi
if out=$(lab_connect $NOBODY_UID 80 2000); then
	fail "a host with no client: the guest is refused TCP its ACLs do not allow" "$out"
else
	pass "a host with no client: the guest is refused TCP its ACLs do not allow"
fi

# alice's client logs in over both families (a session per address of
# the desktop: nuauth asks the client at the packet's source address).
lab_start_as alice-client "$NS_C" $ALICE_UID "$NUTCPC" -H "10.201.0.1,fd00:201::1" -p 4129 \
	-U alice -P alicepw -A "$LAB_DIR/pki/cacert.pem" -N -d -v
lab_wait_log alice-client "logged in" 10 || fail "alice logs in"
lab_wait_log nuauth "alice.*fd00:201::2\|fd00:201::2.*alice" 10 ||
	echo "firewall.sh: no IPv6 session line for alice in nuauth's log" >&2

# check_flow NAME FAMILY PROTO DPORT WANT_MARK COMMAND...
check_flow() {
	local name=$1 fam=$2 proto=$3 dport=$4 want=$5 out port mark
	shift 5
	if out=$("$@" 2>&1); then
		port=${out##*:}
		mark=$(ip netns exec "$NS_G" conntrack -L -f "$fam" -p "$proto" --sport "$port" \
			--dport "$dport" 2>/dev/null | grep -o 'mark=[0-9]*' | head -1 | cut -d= -f2)
		if [ "$mark" = "$want" ]; then pass "$name"; else fail "$name" "$out" "mark=${mark:-none}"; fi
	else
		fail "$name" "$out"
	fi
}
n0=$(fw_count iptables NUFW-PRE "NFQUEUE") m0=$(fw_count ip6tables NUFW-PRE "NFQUEUE")
check_flow "alice's TCP over IPv4 is judged and accepted with her mark" ipv4 tcp 80 1001 \
	lab_as "$NS_C" $ALICE_UID "$NUPROBE" connect6 10.202.0.2 80 3000
check_flow "alice's TCP over IPv6 is judged and accepted with her mark" ipv6 tcp 80 1001 \
	lab_as "$NS_C" $ALICE_UID "$NUPROBE" connect6 $V6_SERVER 80 3000
check_flow "alice's UDP over IPv4 is judged and accepted with her mark" ipv4 udp 5353 1001 \
	lab_as "$NS_C" $ALICE_UID "$NUPROBE" udp 10.202.0.2 5353 3000
check_flow "alice's UDP over IPv6 is judged and accepted with her mark" ipv6 udp 5353 1001 \
	lab_as "$NS_C" $ALICE_UID "$NUPROBE" udp $V6_SERVER 5353 3000
n1=$(fw_count iptables NUFW-PRE "NFQUEUE") m1=$(fw_count ip6tables NUFW-PRE "NFQUEUE")
if [ $((n1 - n0)) -ge 2 ] && [ $((m1 - m0)) -ge 2 ]; then
	pass "those flows went through the queue rules (IPv4 +$((n1 - n0)), IPv6 +$((m1 - m0)) packets)"
else
	fail "those flows went through the queue rules" "IPv4 +$((n1 - n0)), IPv6 +$((m1 - m0))"
fi

# The QoS options compose with the firewall: alice's packets leaving by g1
# go through her HTB class.
sent=$(ip netns exec "$NS_G" tc -s class show dev g1 classid 1:11 | awk '/Sent/ { print $2; exit }')
if [ "${sent:-0}" -gt 0 ]; then
	pass "the QoS options compose: alice's packets went through class 1:11 on g1 ($sent bytes)"
else
	fail "the QoS options compose: alice's packets went through class 1:11 on g1" \
		"$(ip netns exec "$NS_G" tc -s class show dev g1)"
fi

# A flow whose destination is the gateway's own in mangle PREROUTING (not
# queued there) and which DNAT sends on is judged in FORWARD, not let
# through by the rule for flows judged in PREROUTING.
k0=$(fw_count iptables NUFW-FORWARD "NFQUEUE")
out=$(lab_as "$NS_C" $ALICE_UID "$NUPROBE" connect6 10.201.0.1 8081 3000 2>&1)
status=$?
k1=$(fw_count iptables NUFW-FORWARD "NFQUEUE")
# Her client sees its socket's destination (the gateway's 8081), nufw the
# packet's after DNAT (the server's 80): nobody can claim it, and it is
# dropped at nuauth_packet_timeout (README: port forwards from the LAN).
if [ "$k1" -gt "$k0" ] && [ $status -ne 0 ]; then
	pass "a port-forwarded (DNAT) flow is queued in FORWARD ($((k1 - k0)) packets) and, unclaimable, dropped"
else
	fail "a port-forwarded (DNAT) flow is queued in FORWARD and, unclaimable, dropped" \
		"status $status: $out" "DNAT queue rule: $k0 -> $k1"
fi

# A rule of the administrator's before NUFW-PRE's jump that ends mangle
# PREROUTING (ACCEPT) keeps the flow from NUFW-PRE: without its label the
# flow is queued in NUFW-FORWARD instead of passing unjudged.
ip netns exec "$NS_G" iptables -t mangle -I PREROUTING 1 -p udp --dport 5353 -j ACCEPT
k0=$(fw_count iptables NUFW-FORWARD "NFQUEUE")
if out=$(lab_as "$NS_C" $NOBODY_UID "$NUPROBE" udp 10.202.0.2 5353 2000 2>&1); then
	fail "a flow let by NUFW-PRE (a rule before its jump) is judged in FORWARD: unclaimed, dropped" "$out"
else
	pass "a flow let by NUFW-PRE (a rule before its jump) is judged in FORWARD: unclaimed, dropped"
fi
check_flow "... and alice's, judged in FORWARD, is accepted with her mark" ipv4 udp 5353 1001 \
	lab_as "$NS_C" $ALICE_UID "$NUPROBE" udp 10.202.0.2 5353 3000
k1=$(fw_count iptables NUFW-FORWARD "NFQUEUE")
if [ $((k1 - k0)) -ge 2 ]; then
	pass "... both queued by NUFW-FORWARD (+$((k1 - k0)) packets)"
else
	fail "... both queued by NUFW-FORWARD" "$k0 -> $k1"
fi
ip netns exec "$NS_G" iptables -t mangle -D PREROUTING -p udp --dport 5353 -j ACCEPT

for fam in 4 6; do
	dst=10.202.0.2
	[ $fam = 6 ] && dst=$V6_SERVER
	if out=$(lab_as "$NS_C" $NOBODY_UID "$NUPROBE" connect6 $dst 80 2000 2>&1); then
		fail "IPv$fam: TCP nobody claims is dropped" "$out"
	else
		pass "IPv$fam: TCP nobody claims is dropped"
	fi
	if out=$(lab_as "$NS_C" $NOBODY_UID "$NUPROBE" udp $dst 5353 2000 2>&1); then
		fail "IPv$fam: UDP nobody claims is dropped" "$out"
	else
		pass "IPv$fam: UDP nobody claims is dropped"
	fi
	if out=$(lab_as "$NS_C" $ALICE_UID "$NUPROBE" connect6 $dst 8080 2000 2>&1); then
		fail "IPv$fam: alice's TCP no ACL allows is dropped" "$out"
	else
		pass "IPv$fam: alice's TCP no ACL allows is dropped"
	fi
done

# ICMP from a desktop whose client is logged in: queued, pushed to the
# client, which cannot name a socket for it (NOT_MINE): dropped, although
# an ACL allows the group to ping.
i0=$(fw_count iptables NUFW-PRE "icmptype 8") j0=$(fw_count ip6tables NUFW-PRE "ipv6-icmptype 128")
if ip netns exec "$NS_C" ping -n -c 1 -W 3 10.202.0.2 >/dev/null 2>&1; then
	fail "ICMP echo from a desktop with a client is judged and dropped (no socket to claim)"
else
	pass "ICMP echo from a desktop with a client is judged and dropped (no socket to claim)"
fi
if ip netns exec "$NS_C" ping -n -c 1 -W 3 $V6_SERVER >/dev/null 2>&1; then
	fail "ICMPv6 echo from a desktop with a client is judged and dropped"
else
	pass "ICMPv6 echo from a desktop with a client is judged and dropped"
fi
i1=$(fw_count iptables NUFW-PRE "icmptype 8") j1=$(fw_count ip6tables NUFW-PRE "ipv6-icmptype 128")
if [ "$i1" -gt "$i0" ] && [ "$j1" -gt "$j0" ]; then
	pass "the echo requests were queued to nufw, not dropped unjudged"
else
	fail "the echo requests were queued to nufw, not dropped unjudged" "IPv4 $i0 -> $i1, IPv6 $j0 -> $j1"
fi

# What no queue rule matches is dropped by NUFW-FORWARD's policy.
for fam in 4 6; do
	tool=iptables
	[ $fam = 6 ] && tool=ip6tables
	d0=$(fw_count $tool NUFW-FORWARD "DROP")
	got=$(raw_probe $fam)
	d1=$(fw_count $tool NUFW-FORWARD "DROP")
	if [ "$got" = lost ] && [ "$d1" -gt "$d0" ]; then
		pass "IPv$fam: a packet of another protocol (253) is dropped by the FORWARD policy"
	else
		fail "IPv$fam: a packet of another protocol (253) is dropped by the FORWARD policy" \
			"server: $got; DROP rule $d0 -> $d1"
	fi
	q0=$(fw_count $tool NUFW-PRE "NFQUEUE") d0=$(fw_count $tool NUFW-FORWARD "DROP")
	out=$(tcp_from_server $fam)
	status=$?
	q1=$(fw_count $tool NUFW-PRE "NFQUEUE") d1=$(fw_count $tool NUFW-FORWARD "DROP")
	if [ $status -ne 0 ] && [ "$q1" = "$q0" ] && [ "$d1" -gt "$d0" ]; then
		pass "IPv$fam: TCP from the WAN side (not --lan) is not queued, dropped by the policy"
	else
		fail "IPv$fam: TCP from the WAN side (not --lan) is not queued, dropped by the policy" \
			"$out" "queued $q0 -> $q1, dropped $d0 -> $d1"
	fi
done

# --- reload: the new rules replace the old in place; refused options
# leave the old ones
cp "$LAB_DIR/firewall.conf" "$LAB_DIR/firewall.conf.first"
sed -i 's/^OPTIONS="/OPTIONS="--icmp drop /' "$LAB_DIR/firewall.conf"
if out=$(fw_run reload 2>&1) &&
   [ "$(ip netns exec "$NS_G" iptables -t mangle -S PREROUTING 2>/dev/null | grep -c NUFW-PRE)" = 1 ] &&
   [ "$(ip netns exec "$NS_G" ip6tables -S FORWARD 2>/dev/null | grep -c NUFW-FORWARD)" = 1 ] &&
   ! ip netns exec "$NS_G" iptables -t mangle -S NUFW-PRE 2>/dev/null | grep -q icmp &&
   ! ip netns exec "$NS_G" ip6tables -t mangle -S NUFW-PRE 2>/dev/null | grep -q icmp; then
	pass "reload replaces the rules in place (--icmp drop: no ICMP queue rule, one jump each)"
else
	fail "reload replaces the rules in place" "$out" "$(ip netns exec "$NS_G" iptables-save 2>/dev/null)"
fi
check_flow "after the reload alice's TCP is still judged and accepted with her mark" ipv4 tcp 80 1001 \
	lab_as "$NS_C" $ALICE_UID "$NUPROBE" connect6 10.202.0.2 80 3000
echo 'OPTIONS="--queue 0 --wan -bad"' > "$LAB_DIR/firewall.conf"
rules=$(fw_tables)
if out=$(fw_run reload 2>&1); then
	fail "a reload with refused options fails and keeps the loaded rules" "$out"
elif [ "$(fw_tables)" = "$rules" ]; then
	pass "a reload with refused options fails and keeps the loaded rules"
else
	fail "a reload with refused options fails and keeps the loaded rules" "$out"
fi
cp "$LAB_DIR/firewall.conf.first" "$LAB_DIR/firewall.conf"

# --- removal
lab_stop "$NUFW_PID"
if out=$(fw_run stop 2>&1) && after=$(fw_tables) && [ "$before" = "$after" ] &&
   ! ip netns exec "$NS_G" tc qdisc show dev g1 | grep -q htb; then
	pass "nufw-firewall stop leaves iptables-save and ip6tables-save as they were, no HTB on g1"
else
	fail "nufw-firewall stop leaves iptables-save and ip6tables-save as they were, no HTB on g1" \
		"$out" "$(ip netns exec "$NS_G" tc qdisc show dev g1)" "$(diff <(printf '%s\n' "$before") <(printf '%s\n' "$after"))"
fi
got4=$(raw_probe 4) got6=$(raw_probe 6)
if [ "$got4" = arrived ] && [ "$got6" = arrived ]; then
	pass "without the firewall the same protocol-253 packets arrive (the policy dropped them)"
else
	fail "without the firewall the same protocol-253 packets arrive" "IPv4 $got4, IPv6 $got6"
fi
if out=$(fw_run stop 2>&1); then
	pass "a second stop does nothing and succeeds"
else
	fail "a second stop does nothing and succeeds" "$out"
fi

# --- the same with --queue-at forward, on iptables' legacy backend
fw_tables_legacy() {
	{ ip netns exec "$NS_G" iptables-legacy-save; ip netns exec "$NS_G" ip6tables-legacy-save; } 2>/dev/null |
		grep -v '^#' | sed 's/ \[[0-9]*:[0-9]*\]$//'
}
for t in iptables-legacy ip6tables-legacy; do
	ip netns exec "$NS_G" $t -w -A FORWARD -m comment --comment admin-own
	ip netns exec "$NS_G" $t -w -t mangle -A PREROUTING -m comment --comment admin-own
	ip netns exec "$NS_G" $t -w -t mangle -A POSTROUTING -m comment --comment admin-own
done
cat > "$LAB_DIR/firewall.conf" <<CONF
OPTIONS="--queue 0 --queue-at forward --lan g0 --wan g1"
FAMILIES="ipv4 ipv6"
BACKEND="iptables-legacy"
CONF
before_legacy=$(fw_tables_legacy) before=$(fw_tables)
if out=$(fw_run start 2>&1) &&
   ip netns exec "$NS_G" iptables-legacy -w -S NUFW-FORWARD | grep -q -- "-p tcp .*-j NFQUEUE" &&
   ip netns exec "$NS_G" ip6tables-legacy -w -S NUFW-FORWARD | grep -q -- "-j DROP"; then
	pass "legacy backend, --queue-at forward: both families loaded (queue rules in NUFW-FORWARD)"
else
	fail "legacy backend, --queue-at forward: both families loaded" "$out"
fi
lab_start_nufw
check_flow "forward queue: alice's TCP over IPv4 is accepted with her mark" ipv4 tcp 80 1001 \
	lab_as "$NS_C" $ALICE_UID "$NUPROBE" connect6 10.202.0.2 80 3000
check_flow "forward queue: alice's UDP over IPv6 is accepted with her mark" ipv6 udp 5353 1001 \
	lab_as "$NS_C" $ALICE_UID "$NUPROBE" udp $V6_SERVER 5353 3000
if out=$(lab_as "$NS_C" $NOBODY_UID "$NUPROBE" connect6 10.202.0.2 80 2000 2>&1); then
	fail "forward queue: TCP nobody claims is dropped" "$out"
else
	pass "forward queue: TCP nobody claims is dropped"
fi
got4=$(raw_probe 4) got6=$(raw_probe 6)
if [ "$got4" = lost ] && [ "$got6" = lost ]; then
	pass "forward queue: protocol-253 packets are dropped by the policy, both families"
else
	fail "forward queue: protocol-253 packets are dropped by the policy" "IPv4 $got4, IPv6 $got6"
fi
lab_stop "$NUFW_PID"
if out=$(fw_run stop 2>&1) && [ "$(fw_tables_legacy)" = "$before_legacy" ] &&
   [ "$(fw_tables)" = "$before" ]; then
	pass "legacy backend: stop leaves both backends' tables as they were"
else
	fail "legacy backend: stop leaves both backends' tables as they were" "$out" \
		"$(diff <(printf '%s\n' "$before_legacy") <(fw_tables_legacy))"
fi
for t in iptables-legacy ip6tables-legacy; do
	ip netns exec "$NS_G" $t -w -D FORWARD -m comment --comment admin-own
	ip netns exec "$NS_G" $t -w -t mangle -D PREROUTING -m comment --comment admin-own
	ip netns exec "$NS_G" $t -w -t mangle -D POSTROUTING -m comment --comment admin-own
done

# --- a refused configuration loads nothing
echo 'OPTIONS="--queue 0 --lan -bad"' > "$LAB_DIR/firewall.conf"
before=$(fw_tables)
if out=$(fw_run start 2>&1); then
	fail "bad options: start fails and loads nothing" "$out"
elif [ "$(fw_tables)" = "$before" ] && grep -q "not an interface name" <<<"$out"; then
	pass "bad options: start fails, says why, loads nothing"
else
	fail "bad options: start fails, says why, loads nothing" "$out"
fi

# --- a start whose ip commands fail half-way removes what it loaded
echo 'OPTIONS="--queue 0 --route uid:1001=100:10.202.0.9:nosuchdev"' > "$LAB_DIR/firewall.conf"
before=$(fw_tables) rules_before=$(ip -n "$NS_G" rule show)
if out=$(fw_run start 2>&1); then
	fail "a start whose route fails removes the rules and ip rules it added" "$out"
elif grep -q "routing and shaping commands failed" <<<"$out" && [ "$(fw_tables)" = "$before" ] &&
     [ "$(ip -n "$NS_G" rule show)" = "$rules_before" ] &&
     { out2=$(fw_run start 2>&1); ! grep -q "already loaded" <<<"$out2"; }; then
	pass "a start whose route fails removes the rules and ip rules it added (and may be retried)"
else
	fail "a start whose route fails removes the rules and ip rules it added" "$out" \
		"$(ip -n "$NS_G" rule show)" "${out2:-}"
fi

lab_finish
