#!/bin/bash
# The client claims only what it can prove (run as root):
#   tests/e2e/trust.sh BUILD_DIR [TEST...]
# Prints one PASS/FAIL line per test and ends with "N passed, N failed".
#
# alice is logged in from the client namespace and runs, as her uid, a TCP
# listener on port 8000 and a UDP socket bound to port 5353 (not
# connected).  The LAN attacker is root in the client namespace: it shares
# her address and forges raw packets from it, to destinations her ACLs
# allow on the server: a SYN from 8000, a datagram from 5353, a SYN from a
# port nothing holds; over IPv4 and IPv6.  nuauth pushes each flow to her
# client, which finds no socket that proves it, so none may pass as hers.
# With --udp-unconnected, the forged datagram is claimed: the option works,
# and its risk is real.
#
#   client 10.201.0.2   fd00:201::2 --- gateway fd00:201::1 / fd00:202::1
#                                        --- server 10.202.0.2 fd00:202::2
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"

lab_init "${1:-.}" "${@:2}"

ALICE_MARK=1001		# mark_uid: her uid in the users file
V4_C=10.201.0.2 V4_S=10.202.0.2
FORGE=$here/forge.py
# alice runs forge.py hold-udp as her uid: a python3 she can execute (not a
# shim under root's home).
PY_USER=python3
[ -x /usr/bin/python3 ] && PY_USER=/usr/bin/python3
# The tuples the attacker forges: FAMILY PROTO SPORT DPORT.
FORGED_TUPLES=("4 tcp 8000 80" "4 udp 5353 5353" "4 tcp 8001 80"
	       "6 tcp 8000 80" "6 udp 5353 5353" "6 tcp 8001 80")

# New UDP flows are queued too (IPv4 and IPv6), and new IPv6 TCP ones; the
# server counts what arrives from each forged tuple.
trust_rules() {
	local t fam proto sport dport
	lab_ipv6_udp_rules
	for t in "${FORGED_TUPLES[@]}"; do
		read -r fam proto sport dport <<<"$t"
		if [ "$fam" = 4 ]; then
			ip netns exec "$NS_S" iptables -A INPUT -p "$proto" -s $V4_C --sport "$sport" \
				--dport "$dport" -m comment --comment "forged-$fam-$proto-$sport"
		else
			ip netns exec "$NS_S" ip6tables -A INPUT -p "$proto" -s $V6_C --sport "$sport" \
				--dport "$dport" -m comment --comment "forged-$fam-$proto-$sport"
		fi
	done
}

trust_conf() {
	lab_ipv6_udp_acls
	cat >> "$LAB_DIR/nuauth.conf" <<CONF
nuauth_client_listen_addr="::"
nuauth_packet_timeout=1
CONF
}

# arrived FAMILY PROTO SPORT: packets the server received from that forged
# tuple (its INPUT counter).
arrived() {
	local ipt=iptables
	[ "$1" = 6 ] && ipt=ip6tables
	ip netns exec "$NS_S" $ipt -nvx -L INPUT | awk -v c="forged-$1-$2-$3" '$0 ~ c { print $1 }'
}

# ct_marks FAMILY PROTO SPORT DPORT: the marks of the gateway's conntrack
# entries of that tuple, one a line (nothing when there is none).
ct_marks() {
	local fam=ipv4
	[ "$1" = 6 ] && fam=ipv6
	ip netns exec "$NS_G" conntrack -L -f $fam -p "$2" --sport "$3" --dport "$4" 2>/dev/null |
		grep -o 'mark=[0-9]*' | cut -d= -f2
}

# flow_text FAMILY PROTO SPORT DPORT: the flow as nuauth and the client log it.
flow_text() {
	if [ "$1" = 4 ]; then
		echo "$2 $V4_C:$3 -> $V4_S:$4"
	else
		echo "$2 [$V6_C]:$3 -> [$V6_S]:$4"
	fi
}

# A fixed string as a grep pattern (lab_wait_log takes patterns).
literal() {
	sed 's/[][\.*^$]/\\&/g' <<<"$1"
}

# forge FAMILY PROTO SPORT DPORT: the attacker sends one packet.
forge() {
	local kind=syn src=$V4_C dst=$V4_S
	[ "$2" = udp ] && kind=udp
	[ "$1" = 6 ] && src=$V6_C dst=$V6_S
	ip netns exec "$NS_C" python3 "$FORGE" $kind $src "$3" $dst "$4"
}

# forged_refused NAME FAMILY PROTO SPORT DPORT [WHY]: one forged packet; nuauth
# must drop it after the packet timeout (no user claimed it), nothing of it
# reaches the server, no conntrack entry carries alice's mark, and (WHY)
# alice's client says why her socket does not prove it.
forged_refused() {
	local name=$1 flow decided n marks got why=${6:-}
	shift
	flow=$(flow_text "$@")
	# nuauth's decision on it: a time-out, or (the failure) an acceptance
	decided="$(literal "$flow")\(: no user claimed it\| accepted\)"
	n=$(grep -c "$decided" "$LAB_DIR/nuauth.log")
	forge "$@"
	if ! lab_wait_log nuauth "$decided" 10 $((n + 1)) 2>/dev/null; then
		fail "$name" "nuauth did not decide on it:" "$(grep -F "$flow" "$LAB_DIR/nuauth.log")"
		return
	fi
	marks=$(ct_marks "$@")
	got=$(arrived "$1" "$2" "$3")
	if grep -F "$flow " "$LAB_DIR/nuauth.log" | grep -q "accepted"; then
		fail "$name" "nuauth accepted it:" "$(grep -F "$flow " "$LAB_DIR/nuauth.log")" \
			"at the server: ${got:-?} packet(s); conntrack marks: $(echo $marks)"
	elif ! grep -qF "$flow: no user claimed it" "$LAB_DIR/nuauth.log"; then
		fail "$name" "nuauth did not time it out:" "$(grep -F "$flow" "$LAB_DIR/nuauth.log")"
	elif [ "${got:-x}" != 0 ]; then
		fail "$name" "the server received ${got:-?} packet(s) of it"
	elif grep -qx "$ALICE_MARK" <<<"$marks"; then
		fail "$name" "a conntrack entry has alice's mark: $marks"
	elif [ -n "$why" ] && ! grep -qF "not claimed: $flow: the kernel's socket for it is $why" \
			"$LAB_DIR/$CLIENT.log"; then
		fail "$name" "alice's client did not say why (wanted: $why):" \
			"$(grep -F "$flow" "$LAB_DIR/$CLIENT.log")"
	else
		pass "$name"
	fi
}

# her_traffic WHEN: alice's own TCP connection and connected UDP, IPv4 and
# IPv6, pass with her mark.
her_traffic() {
	local out sport
	if out=$(lab_as "$NS_C" $ALICE_UID "$NUPROBE" connect6 $V4_S 80 3000) &&
	   sport=${out##*:} && [ "$(ct_marks 4 tcp "$sport" 80)" = $ALICE_MARK ] &&
	   out=$(lab_as "$NS_C" $ALICE_UID "$NUPROBE" udp $V4_S 5353 3000) &&
	   sport=${out##*:} && [ "$(ct_marks 4 udp "$sport" 5353)" = $ALICE_MARK ]; then
		pass "$1: alice's TCP connection and connected UDP over IPv4 pass with her mark"
	else
		fail "$1: alice's TCP connection and connected UDP over IPv4 pass with her mark" "$out"
	fi
	if out=$(lab_as "$NS_C" $ALICE_UID "$NUPROBE" connect6 $V6_S 80 3000) &&
	   sport=${out##*:} && [ "$(ct_marks 6 tcp "$sport" 80)" = $ALICE_MARK ] &&
	   out=$(lab_as "$NS_C" $ALICE_UID "$NUPROBE" udp $V6_S 5353 3000) &&
	   sport=${out##*:} && [ "$(ct_marks 6 udp "$sport" 5353)" = $ALICE_MARK ]; then
		pass "$1: alice's TCP connection and connected UDP over IPv6 pass with her mark"
	else
		fail "$1: alice's TCP connection and connected UDP over IPv6 pass with her mark" "$out"
	fi
	# an IPv6 socket speaking IPv4 (v4-mapped addresses), as dual-stack
	# programs do
	if out=$(lab_as "$NS_C" $ALICE_UID "$NUPROBE" connect6 "::ffff:$V4_S" 80 3000) &&
	   sport=${out##*:} && [ "$(ct_marks 4 tcp "$sport" 80)" = $ALICE_MARK ] &&
	   out=$(lab_as "$NS_C" $ALICE_UID "$NUPROBE" udp "::ffff:$V4_S" 5353 3000) &&
	   sport=${out##*:} && [ "$(ct_marks 4 udp "$sport" 5353)" = $ALICE_MARK ]; then
		pass "$1: the same from dual-stack IPv6 sockets to an IPv4 address"
	else
		fail "$1: the same from dual-stack IPv6 sockets to an IPv4 address" "$out"
	fi
}

# alice_login NAME [OPTION...]: her client on both families, as her uid,
# with her home (and its ~/.nufw/nuclient.conf when there is one); its log
# is $LAB_DIR/$CLIENT.log.
alice_login() {
	local name=$1; shift
	CLIENT=$name
	lab_start_as "$name" "$NS_C" $ALICE_UID env HOME="$ALICE_HOME" "$NUTCPC" \
		-H "10.201.0.1,$V6_GW" -U alice -P alicepw -A "$LAB_DIR/pki/cacert.pem" -N -d -vv "$@"
	ALICE_PID=$LAB_PID
	lab_wait_log "$name" "logged in: .*(IPv4) up, .*(IPv6) up"
}

test_forged() {
	her_traffic "before the attacks"
	forged_refused "a SYN forged from alice's listening port 8000 (IPv4) is not hers: dropped after the timeout, never at the server, no conntrack entry with her mark" \
		4 tcp 8000 80 "LISTEN, uid $ALICE_UID"
	forged_refused "a datagram forged from alice's bound, unconnected UDP port 5353 (IPv4) is not hers" \
		4 udp 5353 5353 "unconnected, uid $ALICE_UID"
	forged_refused "a SYN forged from a port no socket holds (IPv4) is not hers" 4 tcp 8001 80
	forged_refused "a SYN forged from alice's listening port 8000 (IPv6) is not hers" \
		6 tcp 8000 80 "LISTEN, uid $ALICE_UID"
	forged_refused "a datagram forged from alice's unconnected UDP port 5353 (IPv6) is not hers" \
		6 udp 5353 5353 "unconnected, uid $ALICE_UID"
	forged_refused "a SYN forged from a port no socket holds (IPv6) is not hers" 6 tcp 8001 80
	her_traffic "after the attacks"
}

# forged_claimed NAME FAMILY: with --udp-unconnected the forged datagram
# from 5353 is alice's: accepted with her mark, and it reaches the server.
forged_claimed() {
	local name=$1 flow n marks got
	flow=$(flow_text "$2" udp 5353 5353)
	n=$(grep -cF "user alice: $flow accepted" "$LAB_DIR/nuauth.log")
	forge "$2" udp 5353 5353
	if lab_wait_log nuauth "user alice: $(literal "$flow") accepted" 10 $((n + 1)) 2>/dev/null &&
	   marks=$(ct_marks "$2" udp 5353 5353) && grep -qx "$ALICE_MARK" <<<"$marks" &&
	   got=$(arrived "$2" udp 5353) && [ "${got:-0}" -ge 1 ]; then
		pass "$name"
	else
		fail "$name" "marks: ${marks:-none}, at the server: ${got:-?}" \
			"$(grep -F "$flow" "$LAB_DIR/nuauth.log")"
	fi
}

WARNING="udp_unconnected is on: an unconnected UDP socket of yours claims"

test_udp_unconnected() {
	if grep -q "$WARNING" "$LAB_DIR/$CLIENT.log"; then
		pass "--udp-unconnected: the client warns that forged datagrams from a bound port are claimed"
	else
		fail "--udp-unconnected: the client warns that forged datagrams from a bound port are claimed"
	fi
	forged_claimed "--udp-unconnected: the datagram forged from alice's bound port 5353 (IPv4) is claimed as hers (the risk the option takes)" 4
	forged_claimed "--udp-unconnected: the same over IPv6" 6
	forged_refused "--udp-unconnected: a SYN forged from her listening port 8000 is still not hers" \
		4 tcp 8000 80 "LISTEN, uid $ALICE_UID"
	her_traffic "with --udp-unconnected"
}

# The nuclient.conf key: a bad value names file:line; yes turns it on.
test_udp_unconnected_conf() {
	local conf=$ALICE_HOME/.nufw/nuclient.conf out status
	mkdir -p "$ALICE_HOME/.nufw"
	printf '# alice\nudp_unconnected=maybe\n' > "$conf"
	chown -R $ALICE_UID:$ALICE_UID "$ALICE_HOME/.nufw"
	out=$(lab_as "$NS_C" $ALICE_UID env HOME="$ALICE_HOME" timeout 15 "$NUTCPC" \
		-H 10.201.0.1 -U alice -P alicepw -A "$LAB_DIR/pki/cacert.pem" -N -d 2>&1)
	status=$?
	if [ $status -eq 2 ] && grep -qF "$conf:2: udp_unconnected: \`maybe' is not yes or no" <<<"$out"; then
		pass "udp_unconnected=maybe in nuclient.conf stops the client with file:line"
	else
		fail "udp_unconnected=maybe in nuclient.conf stops the client with file:line" \
			"status $status: $out"
	fi
	printf '# alice\nudp_unconnected=yes\n' > "$conf"
	if alice_login alice-conf && grep -q "$WARNING" "$LAB_DIR/alice-conf.log"; then
		pass "udp_unconnected=yes in nuclient.conf turns the option on (the client warns)"
		forged_claimed "udp_unconnected=yes: the datagram forged from 5353 (IPv6) is claimed as hers" 6
	else
		fail "udp_unconnected=yes in nuclient.conf turns the option on (the client warns)"
	fi
	lab_stop "$ALICE_PID"
}

lab_netns
lab_ipv6
lab_pki
lab_nuauth_conf
trust_conf
lab_rules
trust_rules
lab_start server "$NS_S" "$NUPROBE" serve6 80
lab_wait_log server "ready"
lab_start userver "$NS_S" "$NUPROBE" userve 5353
lab_wait_log userver "ready"
lab_start_nuauth || { fail "nuauth starts"; lab_finish; exit 1; }
lab_start_nufw || { fail "nufw connects to nuauth"; lab_finish; exit 1; }
# alice's programs: a TCP listener on 8000, a UDP socket bound to 5353 that
# answers nothing (both dual-stack, on ::).
lab_start_as listener "$NS_C" $ALICE_UID "$NUPROBE" serve6 8000
lab_wait_log listener "ready" || { fail "alice's TCP listener starts"; lab_finish; exit 1; }
lab_start_as bound "$NS_C" $ALICE_UID "$PY_USER" "$FORGE" hold-udp 5353
lab_wait_log bound "ready" || { fail "alice's bound UDP socket starts"; lab_finish; exit 1; }

ALICE_HOME=$LAB_DIR/home-alice
mkdir -m 700 "$ALICE_HOME" && chown $ALICE_UID:$ALICE_UID "$ALICE_HOME"
if alice_login alice; then
	pass "alice logs in over IPv4 and IPv6"
	lab_tests test_forged
	lab_stop "$ALICE_PID"
	if alice_login alice-udp --udp-unconnected; then
		lab_tests test_udp_unconnected
	else
		fail "alice logs in again with --udp-unconnected"
	fi
	lab_stop "$ALICE_PID"
	lab_tests test_udp_unconnected_conf
else
	fail "alice logs in over IPv4 and IPv6"
fi

lab_finish
