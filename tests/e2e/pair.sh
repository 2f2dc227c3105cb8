#!/bin/bash
# A gateway pair (issue 18, doc/gateway-pair.md), run as root:
#   tests/e2e/pair.sh BUILD_DIR [TEST...]
# Prints one PASS/FAIL line per check and ends with "N passed, N failed".
#
#   desktop 10.211.0.2 --+                      +-- server 10.212.0.2
#   nuauth  10.211.0.5 --+- LAN bridge    WAN bridge
#             (clients)  |  VIP 10.211.0.1  VIP 10.212.0.1
#                        +- .11 gwA .11 ------------+
#                        |      | sync 10.213.0.1/.2
#                        +- .12 gwB .12 ------------+
#   nuauth 10.214.0.1 on a management bridge with gwA .11 and gwB .12
#
# The bridges are in a switch namespace of their own.  Each gateway runs
# keepalived (one sync group: the LAN and WAN instances move together; gwA
# has the higher priority), conntrackd in FTFW mode over the sync link, and
# nufw with its own certificate (gw-a, gw-b), linked to nuauth.  The notify
# script is the shipped conf/ha/nufw-ha-notify.  A connection is opened by a
# SYN that nufw asks nuauth about; a packet that conntrack sees as new but is
# no SYN is dropped, so a connection survives a takeover only if conntrackd
# brought its entry.  Every address lives only inside these namespaces.
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"

lab_init "${1:-.}" "${@:2}"

# lab.sh's helpers use NS_C (the desktop), NS_G (gwA) and NS_S (the server).
NS_B=nulab-gb-$LAB_ID		# gwB
NS_SW=nulab-sw-$LAB_ID		# the bridges
NS_N=nulab-n-$LAB_ID		# nuauth
NS_A=$NS_G
CONF_HA=$(cd "$here/../../conf/ha" && pwd)	# the shipped examples
HA_NOTIFY=$CONF_HA/nufw-ha-notify
SERVER=10.212.0.2
PORT=5050
PERIOD_PORT=5053	# a stream under the period `a while'
PERIOD_S=${PAIR_PERIOD_S:-10}	# its duration=
TAKEOVERS=${PAIR_TAKEOVERS:-5}

for prog in keepalived conntrackd conntrack; do
	command -v $prog >/dev/null || { echo "pair.sh: $prog is not installed (scripts/install-deps.sh)" >&2; exit 2; }
done
[ -n "${NUAUTHCTL:-}" ] || { echo "pair.sh: nuauthctl is not built" >&2; exit 2; }

pair_down() {
	local ns pid
	lab_stop_all
	for ns in "$NS_B" "$NS_SW" "$NS_N"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null || true
		done
		ip netns del "$ns" 2>/dev/null || true
	done
	lab_down
}
trap pair_down EXIT

# veth NS_A IF_A NS_B IF_B
veth() { ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"; }

pair_netns() {
	local ns g
	for ns in "$NS_C" "$NS_A" "$NS_B" "$NS_S" "$NS_SW" "$NS_N"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	for br in br-lan br-wan br-mgmt; do
		ip -n "$NS_SW" link add $br type bridge
		ip -n "$NS_SW" link set $br up
	done
	veth "$NS_C" d0 "$NS_SW" pd;	ip -n "$NS_SW" link set pd master br-lan
	veth "$NS_N" lan "$NS_SW" pln;	ip -n "$NS_SW" link set pln master br-lan
	veth "$NS_N" mgmt "$NS_SW" pmn;	ip -n "$NS_SW" link set pmn master br-mgmt
	veth "$NS_S" s0 "$NS_SW" ps;	ip -n "$NS_SW" link set ps master br-wan
	veth "$NS_A" sync "$NS_B" sync
	for g in a b; do
		ns=$NS_A; [ $g = b ] && ns=$NS_B
		veth "$ns" lan "$NS_SW" pl$g;	ip -n "$NS_SW" link set pl$g master br-lan
		veth "$ns" wan "$NS_SW" pw$g;	ip -n "$NS_SW" link set pw$g master br-wan
		veth "$ns" mgmt "$NS_SW" pm$g;	ip -n "$NS_SW" link set pm$g master br-mgmt
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
	done
	for l in pd pln pmn ps pla plb pwa pwb pma pmb; do
		ip -n "$NS_SW" link set $l up
	done
	ip -n "$NS_C" addr add 10.211.0.2/24 dev d0
	ip -n "$NS_N" addr add 10.211.0.5/24 dev lan
	ip -n "$NS_N" addr add 10.214.0.1/24 dev mgmt
	ip -n "$NS_S" addr add $SERVER/24 dev s0
	ip -n "$NS_A" addr add 10.211.0.11/24 dev lan
	ip -n "$NS_A" addr add 10.212.0.11/24 dev wan
	ip -n "$NS_A" addr add 10.214.0.11/24 dev mgmt
	ip -n "$NS_A" addr add 10.213.0.1/30 dev sync
	ip -n "$NS_B" addr add 10.211.0.12/24 dev lan
	ip -n "$NS_B" addr add 10.212.0.12/24 dev wan
	ip -n "$NS_B" addr add 10.214.0.12/24 dev mgmt
	ip -n "$NS_B" addr add 10.213.0.2/30 dev sync
	for ns in "$NS_C" "$NS_N" "$NS_S" "$NS_A" "$NS_B"; do
		for l in d0 lan wan mgmt sync s0; do
			ip -n "$ns" link set $l up 2>/dev/null || true
		done
	done
	ip -n "$NS_C" route add default via 10.211.0.1
	ip -n "$NS_S" route add default via 10.212.0.1
}

# The gateways' rules: lab_rules', with the queue for connections from the
# LAN to the WAN only, and what conntrack sees as new but is no SYN dropped
# (a connection whose entry did not come with conntrackd does not survive).
pair_rules() {
	local ns ipt
	for ns in "$NS_A" "$NS_B"; do
		ipt="ip netns exec $ns iptables"
		$ipt -t mangle -A PREROUTING -j CONNMARK --restore-mark
		$ipt -A FORWARD -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
		$ipt -A FORWARD -i lan -o wan -p tcp --syn -j NFQUEUE --queue-num 0
		$ipt -t mangle -A POSTROUTING -m mark ! --mark 0 -j CONNMARK --save-mark
	done
}

pair_pki() {
	local p=$LAB_DIR/pki
	mkdir -p "$p"
	"$NUAUTHCTL" pki init "$p" --nuauth-name nuauth.lab --nuauth-ip 10.211.0.5 \
		--nuauth-ip 10.214.0.1 --days 30 --ca-days 30 >/dev/null &&
	"$NUAUTHCTL" pki issue "$p" nufw gw-a --out gwa --days 29 >/dev/null &&
	"$NUAUTHCTL" pki issue "$p" nufw gw-b --out gwb --days 29 >/dev/null
}

pair_nuauth_conf() {
	lab_nuauth_conf
	cat >> "$LAB_DIR/acls.nufw" <<ACLS

[the pair's server]
decision=1
gid=100
proto=6
DstIP=10.212.0.0/24
DstPort=$PORT,80

[the pair's server for a while]
decision=1
gid=100
proto=6
DstIP=10.212.0.0/24
DstPort=$PERIOD_PORT
period=a while
ACLS
	printf '[a while]\nduration=%s\n' "$PERIOD_S" > "$LAB_DIR/periods.conf"
	cat >> "$LAB_DIR/nuauth.conf" <<CONF
nuauth_periods_module="periods"
periods_file="$LAB_DIR/periods.conf"
nuauth_nufw_listen_addr="10.214.0.1"
nuauth_control_socket="$LAB_DIR/control"
CONF
}

# conntrackd's configuration for gateway G (a or b): the shipped example,
# with its socket, lock and log in the lab (and gwB's addresses swapped).
conntrackd_conf() {
	local g=$1 me=10.213.0.1 peer=10.213.0.2
	[ "$g" = b ] && me=10.213.0.2 peer=10.213.0.1
	sed -e "s|^\(\s*IPv4_address\) 10.213.0.1\$|\1 $me|" \
	    -e "s|^\(\s*IPv4_Destination_Address\) 10.213.0.2\$|\1 $peer|" \
	    -e "s|^\(\s*\)Syslog on\$|\1Syslog off\n\1LogFile $LAB_DIR/conntrackd-$g.file.log|" \
	    -e "s|^\(\s*LockFile\) .*|\1 $LAB_DIR/conntrackd-$g.lock|" \
	    -e "s|^\(\s*Path\) /var/run/conntrackd.ctl\$|\1 $LAB_DIR/conntrackd-$g.ctl|" \
	    "$CONF_HA/conntrackd.conf" > "$LAB_DIR/conntrackd-$g.conf"
}

# keepalived's configuration for gateway G: the shipped example's, with
# the lab's priorities, the notify script given conntrackd's configuration
# and a log, and a check of this lab's nufw by its PID (track_process
# would count the nufw of other labs on the machine too).
keepalived_conf() {
	local g=$1 prio
	if [ "$g" = a ]; then prio=150; else prio=100; fi
	printf '#!/bin/sh\nkill -0 "$(cat %s)" 2>/dev/null\n' "$LAB_DIR/nufw-$g.pid" > "$LAB_DIR/check-nufw-$g"
	chmod 755 "$LAB_DIR/check-nufw-$g"
	local notify="$HA_NOTIFY %s $LAB_DIR/conntrackd-$g.conf $LAB_DIR/notify-$g.log $LAB_DIR/nufw-$g.pid"
	cat > "$LAB_DIR/keepalived-$g.conf" <<CONF
global_defs {
	router_id gw-$g
	script_user root
	vrrp_garp_master_delay 1
	vrrp_garp_master_repeat 3
}
vrrp_script chk_nufw {
	script "$LAB_DIR/check-nufw-$g"
	interval 1
	fall 1
	rise 1
}
vrrp_sync_group GW {
	group {
		LAN
		WAN
	}
	notify_master "$(printf "$notify" master)"
	notify_backup "$(printf "$notify" backup)"
	notify_fault "$(printf "$notify" fault)"
}
vrrp_instance LAN {
	state BACKUP
	interface lan
	virtual_router_id 51
	priority $prio
	advert_int 1
	virtual_ipaddress {
		10.211.0.1/24 dev lan
	}
	track_script {
		chk_nufw
	}
}
vrrp_instance WAN {
	state BACKUP
	interface wan
	virtual_router_id 52
	priority $prio
	advert_int 1
	virtual_ipaddress {
		10.212.0.1/24 dev wan
	}
	track_script {
		chk_nufw
	}
}
CONF
}

ns_of() { if [ "$1" = a ]; then echo "$NS_A"; else echo "$NS_B"; fi; }

start_conntrackd() {	# start_conntrackd G
	lab_start conntrackd-$1 "$(ns_of "$1")" conntrackd -C "$LAB_DIR/conntrackd-$1.conf"
	eval "CTD_$1=\$LAB_PID"
	lab_wait_file "$LAB_DIR/conntrackd-$1.file.log" "initialization completed" 10
}

start_keepalived() {	# start_keepalived G
	: > "$LAB_DIR/keepalived-$1.log"
	lab_start keepalived-$1 "$(ns_of "$1")" keepalived -n -l -P -f "$LAB_DIR/keepalived-$1.conf" \
		-p "$LAB_DIR/keepalived-$1.pid" -r "$LAB_DIR/keepalived-$1-vrrp.pid"
	eval "KA_$1=\$LAB_PID"
}

start_nufw() {		# start_nufw G
	local p=$LAB_DIR/pki n
	n=$(grep -c "connected to nuauth" "$LAB_DIR/nufw-$1.log" 2>/dev/null)
	[ -f "$LAB_DIR/nufw-$1.log" ] && cat "$LAB_DIR/nufw-$1.log" >> "$LAB_DIR/nufw-$1.old.log"
	lab_start nufw-$1 "$(ns_of "$1")" "$NUFW" -d 10.214.0.1 -p 4128 -q 0 -m \
		-k "$p/gw$1-key.pem" -c "$p/gw$1-cert.pem" -a "$p/cacert.pem" -t 5 -C -v
	eval "NUFW_$1=\$LAB_PID"
	echo "$LAB_PID" > "$LAB_DIR/nufw-$1.pid"
	lab_wait_log nufw-$1 "connected to nuauth"
}

# has_vips G: gateway G holds both virtual addresses.
has_vips() {
	local ns
	ns=$(ns_of "$1")
	ip -n "$ns" -4 addr show dev lan | grep -q "10.211.0.1/" &&
		ip -n "$ns" -4 addr show dev wan | grep -q "10.212.0.1/"
}

# wait_master G [SECONDS]: G holds both addresses and its notify script
# committed conntrackd's cache (COUNT-th time, default: one more than now).
wait_master() {
	local deadline=$((SECONDS + ${2:-15}))
	until has_vips "$1"; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.05
	done
}

# master_notified G N: G's notify script logged its N-th commit.
master_notified() {
	lab_wait_file "$LAB_DIR/notify-$1.log" "master: external cache committed" 15 "$2"
}
commits() {
	local n
	n=$(grep -c "master: external cache committed" "$LAB_DIR/notify-$1.log" 2>/dev/null)
	echo "${n:-0}"
}

login() {	# login NAME UID USER PASSWORD
	lab_start_as "$1" "$NS_C" "$2" "$NUTCPC" -H 10.211.0.5 -p 4129 -U "$3" -P "$4" \
		-A "$LAB_DIR/pki/cacert.pem" -d -v
	LOGIN_PID=$LAB_PID
	lab_wait_log "$1" "logged in" 10
}

# drip NAME [STALL_MS [PORT]]: a desktop program reading the server's
# stream (on PORT, $PORT) for a long time (alice's; it gives up after
# STALL_MS, 9 s, of silence); its PID in DRIP_PID, its source port in
# DRIP_PORT.
drip() {
	lab_start_as "$1" "$NS_C" $ALICE_UID "$NUPROBE" drip $SERVER "${3:-$PORT}" 170 "${2:-9000}"
	DRIP_PID=$LAB_PID
	lab_wait_log "$1" "connected from" 5 || return 1
	DRIP_PORT=$(grep -o "connected from .*" "$LAB_DIR/$1.log" | head -1)
	DRIP_PORT=${DRIP_PORT##*:}
}

# ct_mark G SPORT: the mark of the desktop's connection from SPORT to the
# server in G's conntrack table.
ct_mark() {
	ip netns exec "$(ns_of "$1")" conntrack -L -p tcp --orig-src 10.211.0.2 --sport "$2" \
		--dport $PORT 2>/dev/null | grep -o 'mark=[0-9]*' | head -1 | cut -d= -f2
}

# decisions CN: nuauthctl firewalls' decision count for that gateway.
decisions() { ctl firewalls | awk -v cn="$1" '$2 == cn { print $NF }' | head -1; }

# bytes NAME: the last byte count NAME's drip printed.
bytes() { grep -o "^bytes [0-9]*" "$LAB_DIR/$1.log" | tail -1 | cut -d' ' -f2; }

# flowing NAME [SECONDS]: NAME's byte count grows past its value now
# within SECONDS (10).
flowing() {
	local before now deadline=$((SECONDS + ${2:-10}))
	before=$(bytes "$1")
	while now=$(bytes "$1"); [ "${now:-0}" -le "${before:-0}" ]; do
		if [ $SECONDS -ge $deadline ] || ! kill -0 "$DRIP_PID" 2>/dev/null; then
			echo "no byte after ${before:-0}; $1's log ends with:"
			tail -3 "$LAB_DIR/$1.log"
			return 1
		fi
		sleep 0.1
	done
}

# ---------------------------------------------------------------------------

test_pair_up() {
	check "gwA holds both virtual addresses, gwB none" \
		bash -c "ip -n $NS_A -4 addr show dev lan | grep -q 10.211.0.1/ && ! ip -n $NS_B -4 addr show | grep -q '10.21[12].0.1/'"
	check "nuauth sees both gateways, each by its certificate" \
		bash -c "out=\$($CTL firewalls -s $LAB_DIR/control); grep -q ' gw-a ' <<<\"\$out\" && grep -q ' gw-b ' <<<\"\$out\" || { echo \"\$out\"; false; }"
}

# --- the shipped examples: the lab's conntrackd runs on conf/ha's (above);
# keepalived's configuration test accepts conf/ha's keepalived.conf
test_shipped_keepalived_conf() {
	local out
	out=$(ip netns exec "$NS_A" keepalived -t -f "$CONF_HA/keepalived.conf" 2>&1)
	check "keepalived -t accepts conf/ha/keepalived.conf on a gateway" status_says $? 0 "" "$out"
}

# --- a long transfer across a takeover (gwA's keepalived stops)
test_takeover_keeps_transfer() {
	local mark n
	drip held || { fail "alice's transfer starts through gwA" "$(cat "$LAB_DIR/held.log")"; return; }
	mark=$(ct_mark a "$DRIP_PORT")
	check "alice's transfer starts through gwA with her mark (1001)" same "${mark:-none}" 1001
	n=$(commits b)
	lab_stop "$KA_a"
	if wait_master b 15 && master_notified b $((n + 1)); then
		pass "gwA's keepalived stops: gwB takes both addresses and commits conntrackd's cache"
	else
		fail "gwA's keepalived stops: gwB takes both addresses and commits conntrackd's cache" \
			"$(tail -5 "$LAB_DIR/keepalived-b.log")" "$(cat "$LAB_DIR/notify-b.log" 2>/dev/null)"
	fi
	check "alice's transfer keeps running through gwB (bytes keep arriving)" flowing held 15
	mark=$(ct_mark b "$DRIP_PORT")
	check "its conntrack entry on gwB carries alice's mark (1001)" same "${mark:-none}" 1001
	check "gwB's nufw was not asked about it (no SYN crossed gwB)" \
		bash -c "! grep -q ':$DRIP_PORT ' '$LAB_DIR/nufw-b.log'"
}

# --- a new connection after the takeover: decided and marked on gwB
test_new_connection_on_backup() {
	local out mark b0 b1
	b0=$(decisions gw-b)
	if out=$(lab_as "$NS_C" $ALICE_UID "$NUPROBE" connect $SERVER 80 5000) &&
	   mark=$(ip netns exec "$NS_B" conntrack -L -p tcp --orig-src 10.211.0.2 --sport "${out##*:}" \
		--dport 80 2>/dev/null | grep -o 'mark=[0-9]*' | cut -d= -f2) && [ "$mark" = 1001 ]; then
		pass "a new connection after the takeover is decided and marked on gwB (mark 1001)"
	else
		fail "a new connection after the takeover is decided and marked on gwB (mark 1001)" \
			"$out" "mark=${mark:-none}" "$(tail -3 "$LAB_DIR/nufw-b.log")"
	fi
	b1=$(decisions gw-b)
	check "nuauth counts that decision for gw-b ($b0 -> $b1)" test "${b1:-0}" -gt "${b0:-0}"
}

# --- the old master comes back: it takes the addresses again, with
# conntrackd's copy of gwB's table; the transfer goes on
test_old_master_back() {
	local n
	n=$(commits a)
	start_keepalived a
	if wait_master a 20 && master_notified a $((n + 1)); then
		pass "gwA's keepalived is back: gwA takes both addresses again (preemption) and commits the cache"
	else
		fail "gwA's keepalived is back: gwA takes both addresses again" \
			"$(tail -5 "$LAB_DIR/keepalived-a.log")"
	fi
	check "alice's transfer still runs after gwA is back" flowing held 15
	mark=$(ct_mark a "$DRIP_PORT")
	check "its entry on gwA still carries alice's mark (1001)" same "${mark:-none}" 1001
	# gwA's commit replaced its own old entry (a deletion in conntrack's
	# events): nufw, told by the notify script, reported no end.
	check_count "nuauth still follows it: no end reported by the commits" \
		nuauth "tcp 10.211.0.2:$DRIP_PORT -> .* ended after" 0
}

# --- killing nufw on the master fails the pair over
test_nufw_dies() {
	local n
	n=$(commits b)
	kill -9 "$NUFW_a" 2>/dev/null
	wait "$NUFW_a" 2>/dev/null
	if wait_master b 15 && master_notified b $((n + 1)); then
		pass "nufw killed on gwA: keepalived's check fails gwA over to gwB"
	else
		fail "nufw killed on gwA: keepalived's check fails gwA over to gwB" \
			"$(tail -5 "$LAB_DIR/keepalived-a.log")"
	fi
	check "alice's transfer keeps running through gwB" flowing held 15
	start_nufw a || fail "nufw on gwA starts again"
	if wait_master a 20; then
		pass "nufw back on gwA: gwA is master again"
	else
		fail "nufw back on gwA: gwA is master again" "$(tail -5 "$LAB_DIR/keepalived-a.log")"
	fi
	check "alice's transfer still runs" flowing held 15
}

# --- a period's end after a takeover: alice's transfer under the period
# `a while' (duration=PERIOD_S) was accepted through gwA; gwB takes over
# (gwA's keepalived stops, a fast takeover); nuauth's timer still ends it
# PERIOD_S s after its acceptance, on gwB, and its end is counted once.
test_period_after_takeover() {
	local held_pid=$DRIP_PID held_port=$DRIP_PORT accepted late n port
	wait_master a 20 || { fail "gwA is master before the transfer under a period"; return; }
	if ! drip while 2000 $PERIOD_PORT; then
		fail "alice's transfer under a period starts through gwA" "$(cat "$LAB_DIR/while.log")"
		DRIP_PID=$held_pid DRIP_PORT=$held_port
		return
	fi
	accepted=$(date +%s.%N)
	port=$DRIP_PORT
	check_log "nuauth accepts it by the ACL with the period" nuauth \
		":$PERIOD_PORT accepted (acl the pair's server for a while)" 5
	n=$(commits b)
	lab_stop "$KA_a"
	if wait_master b 15 && master_notified b $((n + 1)) && flowing while 15 >/dev/null; then
		pass "gwB takes over; the transfer under a period runs on through gwB"
	else
		fail "gwB takes over; the transfer under a period runs on through gwB" \
			"$(tail -3 "$LAB_DIR/while.log")"
	fi
	if lab_wait_log nufw-b "ended tcp 10.211.0.2:$port .* at nuauth's request" $((PERIOD_S + 10)); then
		late=$(awk -v s="$(date +%s.%N)" -v a="$accepted" -v d="$PERIOD_S" \
			'BEGIN { printf "%.1f", s - a - d }')
		if awk -v l="$late" 'BEGIN { exit !(l >= -1 && l <= 2.5) }'; then
			pass "the period ends it on gwB $PERIOD_S s after its acceptance through gwA (${late} s late)"
		else
			fail "the period ends it on gwB $PERIOD_S s after its acceptance through gwA" "${late} s late"
		fi
	else
		fail "the period ends it on gwB $PERIOD_S s after its acceptance through gwA" \
			"$(tail -3 "$LAB_DIR/nufw-b.log")" "$(grep ":$port " "$LAB_DIR/nuauth.log" | tail -3)"
	fi
	check "... and the transfer stops (the desktop sees it stall)" \
		lab_wait_file "$LAB_DIR/while.log" "stalled after\|closed after" 10
	if lab_wait_log nuauth "alice: tcp 10.211.0.2:$port -> .* ended after" 10 >/dev/null 2>&1; then
		check_count "nuauth logs its end once" nuauth "tcp 10.211.0.2:$port -> .* ended after" 1
	else
		fail "nuauth logs its end once" "$(grep ":$port " "$LAB_DIR/nuauth.log" | tail -3)"
	fi
	DRIP_PID=$held_pid DRIP_PORT=$held_port
	start_keepalived a
	wait_master a 20 && flowing held 15 >/dev/null ||
		fail "gwA is master again, alice's first transfer goes on" "$(tail -3 "$LAB_DIR/held.log")"
}

# --- takeover times: gwA's LAN link goes down (its sync group goes to
# FAULT); time from then to the first byte through gwB, as the desktop saw
# the silence in its stream (a chunk every 20 ms)
test_takeover_time() {
	local i gaps=() t0 gap n line
	for ((i = 1; i <= TAKEOVERS; i++)); do
		wait_master a 20 || { fail "takeover $i: gwA is master to begin with"; return; }
		n=$(grep -c "^gap " "$LAB_DIR/held.log")
		ip -n "$NS_A" link set lan down
		if ! lab_wait_file "$LAB_DIR/held.log" "^gap " 20 $((n + 1)); then
			fail "takeover $i: the transfer resumes through gwB" "$(tail -3 "$LAB_DIR/held.log")"
			ip -n "$NS_A" link set lan up
			return
		fi
		line=$(grep "^gap " "$LAB_DIR/held.log" | sed -n "$((n + 1))p")
		gap=${line#gap }; gap=${gap% ms}
		gaps+=("$gap")
		has_vips b || { fail "takeover $i: gwB holds the addresses"; }
		ip -n "$NS_A" link set lan up
		# gwA takes them back; the stream goes on through it.
		wait_master a 20 && flowing held 15 >/dev/null ||
			{ fail "takeover $i: gwA back, the transfer goes on"; return; }
	done
	read -r TAKEOVER_MIN TAKEOVER_MED TAKEOVER_MAX < <(printf '%s\n' "${gaps[@]}" | sort -n |
		awk '{ v[NR] = $1 } END { print v[1], v[int((NR + 1) / 2)], v[NR] }')
	pass "takeover time over $TAKEOVERS takeovers (LAN link down, first byte through gwB): min ${TAKEOVER_MIN} ms, median ${TAKEOVER_MED} ms, max ${TAKEOVER_MAX} ms (${gaps[*]})"
}

# --- a logout after the takeover ends the transfer on gwB, which did not
# accept it (nuauth sends CONN_DESTROY to every gateway)
test_logout_after_takeover() {
	local n out
	n=$(commits b)
	lab_stop "$KA_a"
	wait_master b 15 && master_notified b $((n + 1)) || { fail "gwB takes over before the logout"; return; }
	flowing held 15 >/dev/null || { fail "the transfer runs through gwB before the logout"; return; }
	kill "$LOGIN_PID"
	lab_wait_log alice "logged out" 5 >/dev/null 2>&1
	if lab_wait_file "$LAB_DIR/held.log" "stalled after\|closed after" 20; then
		pass "alice logs out after the takeover: her transfer through gwB ends ($(grep -o 'stalled after.*\|closed after.*' "$LAB_DIR/held.log"))"
	else
		fail "alice logs out after the takeover: her transfer through gwB ends" \
			"$(tail -3 "$LAB_DIR/held.log")" "$(tail -3 "$LAB_DIR/nufw-b.log")"
	fi
	check_log "gwB's nufw ended it at nuauth's request" nufw-b "ended tcp 10.211.0.2:$DRIP_PORT .* at nuauth's request" 5
	out=$(ct_mark b "$DRIP_PORT")
	check "no entry of it is left on gwB" same "${out:-none}" none
	# Its owner, gwA, reports the end; gwB's report does not count.
	if lab_wait_log nuauth "alice: tcp 10.211.0.2:$DRIP_PORT -> .* ended after" 10 >/dev/null 2>&1; then
		check_count "nuauth logs the transfer's end once" nuauth "tcp 10.211.0.2:$DRIP_PORT -> .* ended after" 1
	else
		fail "nuauth logs the transfer's end once" "$(tail -5 "$LAB_DIR/nuauth.log")"
	fi
}

# ---------------------------------------------------------------------------

pair_netns
pair_rules
pair_pki || lab_end "the lab's certificates are made"
pair_nuauth_conf
lab_start nuauth "$NS_N" "$NUAUTH" -c "$LAB_DIR/nuauth.conf" -vv
NUAUTH_PID=$LAB_PID
lab_wait_log nuauth "ready" || lab_end "nuauth starts"
start_nufw a || lab_end "nufw on gwA connects to nuauth"
start_nufw b || lab_end "nufw on gwB connects to nuauth"
for g in a b; do
	conntrackd_conf $g
	keepalived_conf $g
	start_conntrackd $g || lab_end "conntrackd starts on gw$g"
done
start_keepalived a
start_keepalived b
wait_master a 20 || lab_end "gwA becomes master" "$(cat "$LAB_DIR/keepalived-a.log")"
lab_start stream "$NS_S" "$NUPROBE" stream $PORT
lab_wait_log stream "ready" || lab_end "the server's stream starts"
lab_start stream-while "$NS_S" "$NUPROBE" stream $PERIOD_PORT
lab_wait_log stream-while "ready" || lab_end "the server's second stream starts"
lab_start server "$NS_S" "$NUPROBE" serve 80
lab_wait_log server "ready" || lab_end "the server starts"
login alice $ALICE_UID alice alicepw || lab_end "alice logs in"

lab_tests test_shipped_keepalived_conf test_pair_up test_takeover_keeps_transfer test_new_connection_on_backup \
	test_old_master_back test_nufw_dies test_period_after_takeover test_takeover_time \
	test_logout_after_takeover
lab_finish
