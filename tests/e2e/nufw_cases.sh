#!/bin/bash
# Cases of NuFW's own test suite that had no test here (issue 16), in the
# namespace lab (run as root):   tests/e2e/nufw_cases.sh BUILD_DIR [TEST...]
#   test_composed_mark   mark_uid, mark_field and mark_flag compose one mark
#                        in the gateway's conntrack entry; a mangle rule
#                        drops on the flag bit (NuFW's test_mark_flag.py)
#   test_icmp            ICMP and ICMPv6 echo ACLs by type: a user's ping
#                        (a ping socket, claimed by the echo's identifier)
#                        allowed for alice, refused for dave; an echo from
#                        a raw socket nobody's; a host without client's
#                        decided by the guest's ACLs
#   test_log_prefix      an ACL's log_prefix in nuauth's decision line
#                        (NuFW's MysqlLogPacket.testFilter, oob_prefix)
#   test_two_gateways    two nufw with different certificates at once, each
#                        with its own decisions and its own gateway= ACLs
#   test_syslog          nuauth -D through a syslog socket of the test's own
#                        at /dev/log: the login and logout lines as an
#                        administrator reads them (NuFW's test_syslog.py)
# Prints one PASS/FAIL line per check and ends with "N passed, N failed".
#
#   client 10.201.0.2 (alice), 10.201.0.50 (no client)
#          fd00:201::2,         fd00:201::50
#     --- gateway (nufw-gateway on queue 0, branch-gw on queue 6)
#     --- server 10.202.0.2 fd00:202::2 (and 10.202.0.3 fd00:202::3)
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"

lab_init "${1:-.}" "${@:2}"

HOST_V4=10.201.0.50 HOST_V6=fd00:201::50	# a host without client

cases_conf() {
	lab_nuauth_conf
	echo 'dave:davepw:1004:500' >> "$LAB_DIR/users.nufw"
	cat > "$LAB_DIR/mark_field.conf" <<FIELDS
# mark:pattern (the program's full path)
5:*/nuprobe
FIELDS
	cat >> "$LAB_DIR/acls.nufw" <<ACLS

[flagged 7301]
decision=1
gid=100
proto=6
DstPort=7301
flags=0x100
log_prefix=FLAGGED 7301:

[guests may ping the server over IPv6]
decision=1
gid=300
proto=58
type=128
DstIP=fd00:202::2

[guests send timestamps only to the second address]
decision=1
gid=300
proto=1
type=13
DstIP=10.202.0.3

[staff may ping the server]
decision=1
gid=100
proto=1
type=8
DstIP=10.202.0.2

[staff may ping the server over IPv6]
decision=1
gid=100
proto=58
type=128
DstIP=fd00:202::2

[through branch-gw to 7202]
decision=1
gid=100
proto=6
DstPort=7202
gateway=branch-gw

[through nufw-gateway to 7203]
decision=1
gid=100
proto=6
DstPort=7203
gateway=nufw-gateway
ACLS
	cat >> "$LAB_DIR/nuauth.conf" <<CONF
nuauth_client_listen_addr="::"
nuauth_control_socket="$LAB_DIR/control"
nuauth_do_ip_authentication=1
nuauth_finalize_packet_module="mark_uid mark_field mark_flag"
mark_field_file="$LAB_DIR/mark_field.conf"
mark_field_nbits=4
mark_field_shift=16
mark_flag_flag_shift=8
mark_flag_nbits=4
mark_flag_mark_shift=24
CONF
}

# The lab's rules, IPv6 TCP too, and ICMP echo requests of both families
# queued.
cases_rules() {
	lab_rules
	lab_ipv6_udp_rules
	ip netns exec "$NS_G" iptables -A FORWARD -p icmp --icmp-type echo-request \
		-j NFQUEUE --queue-num 0
	ip netns exec "$NS_G" ip6tables -A FORWARD -p icmpv6 --icmpv6-type echo-request \
		-j NFQUEUE --queue-num 0
	ip -n "$NS_C" addr add $HOST_V4/24 dev c0
	# Deprecated (preferred_lft 0): never the source the kernel picks, so
	# the clients leave from fd00:201::2; ping -I still sends from it.
	ip -n "$NS_C" addr add $HOST_V6/64 dev c0 nodad preferred_lft 0
	ip -n "$NS_S" addr add 10.202.0.3/24 dev s0
	ip -n "$NS_S" addr add fd00:202::3/64 dev s0 nodad
}

# --- mark_uid | mark_field | mark_flag
# alice (uid 1001 = 0x3e9) runs nuprobe (mark_field: 5 in bits 16..19) to
# port 7301, whose ACL has flags=0x100 (mark_flag: flag bit 8 to mark bit
# 24): 0x10503e9.  To port 80 (flags 0): 0x503e9.
test_composed_mark() {
	local ipt="ip netns exec $NS_G iptables -t mangle" rule
	rule=(POSTROUTING -m mark --mark 0x1000000/0x1000000 -j DROP)
	check_mark "composed mark: uid 0x3e9, program field 0x5<<16, ACL flag bit 24: 0x10503e9 in conntrack" \
		$ALICE_UID 7301 0x10503e9
	check_mark "the same program through an ACL without flags: 0x503e9" $ALICE_UID 80 0x503e9
	$ipt -I "${rule[@]}"
	check_not "a mangle rule dropping on the flag bit stops the flagged connection" \
		lab_connect $ALICE_UID 7301 2000
	check "the same rule lets the unflagged connection through" lab_connect $ALICE_UID 80 3000
	$ipt -D "${rule[@]}"
}

# --- log_prefix: the deciding ACL's prefix is written with the decision,
# quoted; a decision by an ACL without one has none.
test_log_prefix() {
	check "alice connects to port 7301 (its ACL has log_prefix)" lab_connect $ALICE_UID 7301
	check_log "nuauth's decision line carries the ACL's log_prefix" nuauth \
		"accepted (acl flagged 7301, log_prefix \"FLAGGED 7301:\"), mark 0x10503e9" 5
	check "alice connects to port 80 (its ACL has none)" lab_connect $ALICE_UID 80
	check_log "a decision by an ACL without log_prefix has none in its line" nuauth \
		":80 accepted (acl web for staff), mark 0x503e9" 5
}

# ping_from FAMILY SOURCE DESTINATION [SECONDS]: one echo request, as root
# in the client namespace: iputils' ping has CAP_NET_RAW there and sends
# from a raw socket, which no client can name.
ping_from() {
	ip netns exec "$NS_C" ping -"$1" -n -c 1 -W "${4:-2}" -I "$2" "$3"
}

# ping_as LOCAL_UID FAMILY DESTINATION [SECONDS]: one echo request from a
# desktop user's ping, which sends from a ping socket (the client
# namespace's net.ipv4.ping_group_range lets every group open one).
ping_as() {
	lab_as "$NS_C" "$1" ping -"$2" -n -c 1 -W "${4:-2}" "$3"
}

# icmp_marked FAMILY SOURCE DESTINATION MARK: the echo's conntrack entry in
# the gateway has MARK.
icmp_marked() {
	local proto=icmp mark
	[ "$1" = 6 ] && proto=icmpv6
	mark=$(ip netns exec "$NS_G" conntrack -L -f "ipv$1" -p $proto --orig-src "$2" \
		--orig-dst "$3" 2>/dev/null | grep -o 'mark=[0-9]*' | head -1 | cut -d= -f2)
	same "${mark:-none}" "$(($4))"
}

# --- ICMP and ICMPv6
# Echo requests (ICMP type 8, ICMPv6 type 128) of both families, decided
# by ACLs on their type:
# - alice, logged in, pings the server: her ping socket's identifier is the
#   echo's, her client claims it, her ACL (staff may ping) accepts it with
#   her mark;
# - dave, logged in on the same desktop, pings it: his client claims it
#   and no ACL of his allows an echo;
# - root on that desktop pings from a raw socket (as a LAN host forging
#   from alice's address would): no client can prove it, nobody's;
# - the host without client is guest's (IP authentication): echo to the
#   server allowed, not to the second address (only type 13 there).
test_icmp() {
	ip netns exec "$NS_C" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
	check "ICMP: alice's ping (a ping socket of hers) is accepted by her ACL (type=8)" \
		ping_as $ALICE_UID 4 10.202.0.2 3
	check "ICMP: the echo's conntrack entry carries her mark (0x3e9)" \
		icmp_marked 4 10.201.0.2 10.202.0.2 0x3e9
	check_log "nuauth logs alice's echo as claimed by her ping" nuauth \
		"user alice: icmp 10.201.0.2 -> 10.202.0.2 accepted (acl staff may ping the server), mark 0x3e9, app /usr/bin/ping" 5
	check "ICMPv6: alice's ping is accepted by her ACL (type=128)" \
		ping_as $ALICE2_UID 6 fd00:202::2 3
	check "ICMPv6: the echo's conntrack entry carries her mark (0x3e9)" \
		icmp_marked 6 $V6_C fd00:202::2 0x3e9
	ip netns exec "$NS_G" conntrack -D -p icmp >/dev/null 2>&1
	check_not "ICMP: dave's ping is refused: no ACL of his allows an echo" \
		ping_as $DAVE_UID 4 10.202.0.2
	check_log "nuauth logs dave's echo as his, dropped" nuauth \
		"user dave: icmp 10.201.0.2 -> 10.202.0.2 dropped (no acl matched)" 5
	check_not "ICMP: an echo from a raw socket on alice's desktop is refused, her ACL notwithstanding" \
		ping_from 4 10.201.0.2 10.202.0.2
	check_not "ICMPv6: an echo from a raw socket on her desktop is refused the same" \
		ping_from 6 $V6_C fd00:202::2
	check_log "nuauth says that no user claimed the raw socket's ICMP echo" nuauth \
		"icmp 10.201.0.2 -> 10.202.0.2: no user claimed it" 5
	check_log "nuauth says that no user claimed the raw socket's ICMPv6 echo" nuauth \
		"icmpv6 fd00:201::2 -> fd00:202::2: no user claimed it" 5
	check "ICMP: echo allowed by type (type=8) for the guest host's user passes" \
		ping_from 4 $HOST_V4 10.202.0.2 3
	check "ICMPv6: echo allowed by type (type=128) for the guest host's user passes" \
		ping_from 6 $HOST_V6 fd00:202::2 3
	check_not "ICMP: an ACL for another type (13) does not allow an echo" \
		ping_from 4 $HOST_V4 10.202.0.3
	check_not "ICMPv6: echo with no ACL for that destination is dropped" \
		ping_from 6 $HOST_V6 fd00:202::3
}

# --- two gateways
# firewall_decisions CN: the decisions nuauthctl firewalls counts for the
# gateway of that certificate name.
firewall_decisions() {
	ctl firewalls | awk -v cn="$1" '$2 == cn { print $NF }'
}

# branch-gw, a second nufw with a certificate of its own, takes new
# connections to 7202 and 7203 (queue 6); nufw-gateway, the lab's, the
# rest.  Each ACL names one gateway.
test_two_gateways() {
	local p=$LAB_DIR/pki pid main0 branch0 main1 branch1 out
	"$NUAUTHCTL" pki issue "$p" nufw branch-gw --out branch --days 29 >/dev/null
	lab_start nufw-branch "$NS_G" "$NUFW" -d 127.0.0.1 -p 4128 -q 6 -m -k "$p/branch-key.pem" \
		-c "$p/branch-cert.pem" -a "$p/cacert.pem" -t 5 -v
	pid=$LAB_PID
	if ! lab_wait_log nufw-branch "connected to nuauth"; then
		fail "a second gateway, branch-gw, connects with its own certificate"
		lab_stop "$pid"
		return
	fi
	out=$(ctl firewalls)
	if grep -q ' nufw-gateway ' <<<"$out" && grep -q ' branch-gw ' <<<"$out"; then
		pass "nuauthctl firewalls lists both gateways at once, by certificate name"
	else
		fail "nuauthctl firewalls lists both gateways at once, by certificate name" "$out"
	fi
	lab_start server-72 "$NS_S" "$NUPROBE" serve 7202 7203
	lab_wait_log server-72 "ready"
	ip netns exec "$NS_G" iptables -I FORWARD 1 -p tcp --syn -m multiport --dports 7202,7203 \
		-j NFQUEUE --queue-num 6
	main0=$(firewall_decisions nufw-gateway) branch0=$(firewall_decisions branch-gw)
	check_mark "branch-gw: the ACL naming it (gateway=branch-gw) accepts alice's connection" \
		$ALICE_UID 7202 0x503e9
	check_not "branch-gw: the ACL naming nufw-gateway does not apply to it" \
		lab_connect $ALICE_UID 7203 1500
	main1=$(firewall_decisions nufw-gateway) branch1=$(firewall_decisions branch-gw)
	if [ "$main1" = "$main0" ] && [ "$branch1" -ge $((branch0 + 2)) ]; then
		pass "the decisions went to branch-gw only (nufw-gateway $main0 -> $main1, branch-gw $branch0 -> $branch1)"
	else
		fail "the decisions went to branch-gw only" \
			"nufw-gateway $main0 -> $main1, branch-gw $branch0 -> $branch1"
	fi
	ip netns exec "$NS_G" iptables -D FORWARD -p tcp --syn -m multiport --dports 7202,7203 \
		-j NFQUEUE --queue-num 6
	# The same ports through the lab's gateway: the other way round.
	check_not "nufw-gateway: the ACL naming branch-gw does not apply to it" \
		lab_connect $ALICE_UID 7202 1500
	check_mark "nufw-gateway: the ACL naming it accepts alice's connection" \
		$ALICE_UID 7203 0x503e9
	branch0=$(firewall_decisions branch-gw)
	check "branch-gw saw none of those decisions" same "$branch0" "$branch1"
	lab_stop "$pid"
}

# --- syslog
# A second nuauth (ports 4138/4139), with -D: in the background, logging
# to syslog.  It runs in a mount namespace of its own whose /dev is a
# directory of the test: null and urandom bound from the real /dev, and
# log, the socket where syslogd.py, the test's syslog daemon, writes each
# message as an administrator's file shows it.
test_syslog() {
	local dev=$LAB_DIR/dev pid=
	mkdir -p "$dev"
	: > "$dev/null"
	: > "$dev/urandom"
	: > "$dev/random"
	sed -e 's/^nuauth_gw_packet_port=.*/nuauth_gw_packet_port=4138/' \
		-e 's/^nuauth_user_packet_port=.*/nuauth_user_packet_port=4139/' \
		-e '/^nuauth_control_socket=/d' "$LAB_DIR/nuauth.conf" > "$LAB_DIR/nuauth-syslog.conf"
	echo 'nuauth_log_users=1' >> "$LAB_DIR/nuauth-syslog.conf"
	# No control socket: the default would make the machine's /run/nuauth.
	echo 'nuauth_control_socket=""' >> "$LAB_DIR/nuauth-syslog.conf"
	: > "$LAB_DIR/syslog.log"
	lab_start syslogd "$NS_G" python3 "$here/syslogd.py" "$dev/log" "$LAB_DIR/syslog.out"
	lab_wait_log syslogd "ready" || { fail "the test's syslog daemon starts"; return; }
	lab_start nuauth-syslog "$NS_G" unshare -m --propagation private sh -c '
		for f in null urandom random; do mount --bind "/dev/$f" "$1/$f" || exit 1; done
		mount --rbind "$1" /dev || exit 1
		shift; exec "$@"' sh "$dev" "$NUAUTH" -c "$LAB_DIR/nuauth-syslog.conf" -D
	if lab_wait_file "$LAB_DIR/syslog.out" "nuauth\[[0-9]*\]: nuauth .* ready" 10; then
		pid=$(sed -n 's/.*nuauth\[\([0-9]*\)\]: nuauth .* ready.*/\1/p' "$LAB_DIR/syslog.out" | head -1)
		LAB_PIDS+=("$pid")
		pass "nuauth -D says it is ready through syslog (daemon facility, with its PID)"
	else
		fail "nuauth -D says it is ready through syslog" "$(cat "$LAB_DIR/nuauth-syslog.log")" \
			"$(cat "$LAB_DIR/syslog.out")"
		return
	fi
	lab_start_as syslog-client "$NS_C" $CAROL_UID "$NUTCPC" -H 10.201.0.1 -p 4139 -U alice \
		-P alicepw -A "$LAB_DIR/pki/cacert.pem" -d
	local client=$LAB_PID
	if lab_wait_file "$LAB_DIR/syslog.out" \
		"^daemon\.notice nuauth\[$pid\]: userlog: user alice logged in from 10.201.0.2 (uid 1001, groups 100)$" 10; then
		pass "syslog: the login line, at daemon.notice"
	else
		fail "syslog: the login line, at daemon.notice" "$(cat "$LAB_DIR/syslog.out")"
	fi
	lab_stop "$client"
	if lab_wait_file "$LAB_DIR/syslog.out" \
		"^daemon\.notice nuauth\[$pid\]: userlog: user alice logged out from 10.201.0.2 after [0-9]* s: " 10; then
		pass "syslog: the logout line, with its reason, at daemon.notice"
	else
		fail "syslog: the logout line, with its reason, at daemon.notice" "$(cat "$LAB_DIR/syslog.out")"
	fi
	if grep -q userlog "$LAB_DIR/nuauth-syslog.log"; then
		fail "nothing of it on nuauth's stderr" "$(cat "$LAB_DIR/nuauth-syslog.log")"
	else
		pass "nothing of it on nuauth's stderr"
	fi
	lab_stop "$pid"
}

# alice logs in from the desktop at 10.201.0.2, and (from her second
# account) at fd00:201::2, whose echo requests her clients are then asked
# about; nuauth's certificate does not name fd00:201::1: -N.  dave logs in
# on the same desktop.
alice_login() {
	lab_login alice-client $ALICE_UID alice alicepw || lab_end "alice logs in"
	lab_start_as alice6-client "$NS_C" $ALICE2_UID "$NUTCPC" -H $V6_GW -p 4129 -U alice \
		-P alicepw -A "$LAB_DIR/pki/cacert.pem" -N -d -v
	lab_wait_log alice6-client "logged in" || lab_end "alice logs in over IPv6"
	lab_login dave-client $DAVE_UID dave davepw || lab_end "dave logs in"
}

lab_netns
lab_ipv6
lab_pki
cases_conf
cases_rules
lab_start server "$NS_S" "$NUPROBE" serve 80 7301
lab_wait_log server "ready"
lab_start_gateway
alice_login
lab_tests test_composed_mark test_log_prefix test_icmp test_two_gateways test_syslog
lab_finish
