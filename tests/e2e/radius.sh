#!/bin/bash
# Identity from RADIUS accounting in the namespace lab (run as root):
#   tests/e2e/radius.sh BUILD_DIR [TEST...]
# A desktop without a client (10.204.0.2, a namespace of its own behind the
# gateway) is alice's while FreeRADIUS says so: the suite starts FreeRADIUS
# in the gateway on 10.201.0.1:1813 with a configuration of its own in the
# lab's directory, made of the shipped snippets (conf/freeradius), and
# radclient in the client namespace plays the NAS (a Wi-Fi controller).
# Accounting Start for alice at 10.204.0.2 opens an address session on
# nuauth (through nuauthctl on the accounting socket): the desktop's
# connections carry alice's mark in the gateway's conntrack and pass the
# ACLs that require origin=radius; Interim-Update keeps it; Stop closes it,
# and the desktop's next connection is refused.  On the client host
# (10.201.0.2) an administrator's address session for bob does not take
# alice's connections from her client: her claims win, and only the
# connections her client disowns are bob's.  The accounting socket serves
# ip-session only, and only to root, nuauth's uid and its group.
# Prints one PASS/FAIL line per check and ends with "N passed, N failed".
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"

lab_init "${1:-.}" "${@:2}"

for tool in freeradius radclient; do
	command -v $tool >/dev/null ||
		{ echo "radius.sh: $tool is missing (scripts/install-deps.sh)" >&2; exit 2; }
done

SECRET=labsecret
ACCT=$LAB_DIR/acct/socket	# nuauth_accounting_socket
GROUP=nogroup			# nuauth_accounting_socket_group (a group every Debian has)
CONF_SRC=$(cd "$here/../../conf/freeradius" && pwd)

# acct STATUS USER ADDRESS: an Accounting-Request from the NAS (the client
# namespace); radclient's status is 0 when FreeRADIUS answered.
acct() {
	printf 'Acct-Status-Type = %s\nUser-Name = "%s"\nFramed-IP-Address = %s\nAcct-Session-Id = "%s"\nNAS-IP-Address = 10.201.0.2\n' \
		"$1" "$2" "$3" "lab-$2-$3" |
		ip netns exec "$NS_C" timeout 20 radclient -r 1 -t 4 10.201.0.1:1813 acct $SECRET 2>&1
}

# actl ARGS...: nuauthctl on the accounting socket.
actl() { "$CTL" "$1" -s "$ACCT" "${@:2}"; }

# FreeRADIUS' configuration: the lab's own directory, the shipped module
# and policy with this build's nuauthctl and the lab's socket, the always
# instances Debian's configuration has, accounting on 10.201.0.1:1813.
radius_conf() {
	local d=$LAB_DIR/radius
	mkdir -p "$d"
	sed -e "s|/usr/sbin/nuauthctl|$CTL|g" -e "s|/run/nuauth-accounting/socket|$ACCT|g" \
		"$CONF_SRC/nuauth-module" > "$d/nuauth-module"
	cp "$CONF_SRC/nuauth-policy" "$d/nuauth-policy"
	cat > "$d/radiusd.conf" <<CONF
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
logdir = $d
raddbdir = $d
radacctdir = $d
name = freeradius
confdir = $d
modconfdir = $d
run_dir = $d
db_dir = $d
libdir = /usr/lib/freeradius
dictdir = /usr/share/freeradius
pidfile = $d/radiusd.pid
max_request_time = 10
cleanup_delay = 1
max_requests = 256
hostname_lookups = no
log {
	destination = stdout
	colourise = no
	auth = no
}
security {
	allow_core_dumps = no
	max_attributes = 200
	reject_delay = 0
	status_server = no
}
thread pool {
	start_servers = 1
	max_servers = 2
	min_spare_servers = 1
	max_spare_servers = 1
	max_requests_per_server = 0
}
client nas {
	ipaddr = 10.201.0.0/24
	secret = $SECRET
}
modules {
	always ok {
		rcode = ok
	}
	always reject {
		rcode = reject
	}
	\$INCLUDE nuauth-module
}
policy {
	\$INCLUDE nuauth-policy
}
server default {
	listen {
		type = acct
		ipaddr = 10.201.0.1
		port = 1813
	}
	accounting {
		nuauth_accounting
	}
}
CONF
}

test_config_errors() {
	conf_line_error "an unknown accounting group stops nuauth with file:line" \
		'nuauth_accounting_socket_group="no-such-group"' \
		"nuauth_accounting_socket_group: no group \`no-such-group' on this host"
}

lab_netns
lab_desktop
lab_rules
lab_pki
lab_nuauth_conf
mkdir -m 755 "$LAB_DIR/acct"
cat >> "$LAB_DIR/acls.nufw" <<ACLS

[devices of staff to 9090]
decision=1
gid=100
origin=radius
proto=6
DstPort=9090
ACLS
cat >> "$LAB_DIR/nuauth.conf" <<CONF
nuauth_accounting_socket="$ACCT"
nuauth_accounting_socket_group="$GROUP"
CONF
lab_tests test_config_errors
lab_start_server || lab_end "the server listens"
lab_start_gateway
radius_conf
# -X: in the foreground, one thread, every request in its log.
lab_start radius "$NS_G" freeradius -X -d "$LAB_DIR/radius"
lab_wait_log radius "Ready to process requests" || lab_end "FreeRADIUS starts"

test_socket() {
	local out
	check "the accounting socket is mode 0660 and of group $GROUP" \
		same "$(stat -c '%a %G' "$ACCT")" "660 $GROUP"
	out=$(actl users 2>&1)
	check "the accounting socket refuses any command but ip-session" \
		status_says $? 1 "the accounting socket takes ip-session only" "$out"
	out=$(setpriv --reuid=$GUEST_UID --regid=$GUEST_UID --clear-groups -- \
		"$CTL" ip-session stop alice $DESK -s "$ACCT" 2>&1)
	check "a uid outside its group is refused" status_says $? 1 "permission denied" "$out"
	out=$(setpriv --reuid=$GUEST_UID --regid="$(getent group $GROUP | cut -d: -f3)" \
		--clear-groups -- "$CTL" ip-session stop alice $DESK -s "$ACCT" 2>&1)
	check "a member of its group is served (nothing to stop)" \
		status_says $? 1 "no address session of alice there" "$out"
	out=$(ctl ip-session start alice 10.204.0.300 2>&1)
	check "an address that is not one is refused" \
		status_says $? 1 "\`10.204.0.300' is not an address" "$out"
	out=$(ctl ip-session begin alice $DESK 2>&1)
	check "an action that is not one is refused" \
		status_says $? 1 "ip-session needs start|update|stop USER ADDRESS" "$out"
}

test_start() {
	local out
	check_not "before any accounting the desktop is refused" desk_connect 80
	out=$(acct Start alice $DESK)
	check "FreeRADIUS answers alice's accounting Start" matches "$out" "Received Accounting-Response"
	check_log "nuauth opens alice's address session (radius)" nuauth \
		"address session of alice at $DESK (radius): start"
	check "the desktop's connection carries alice's mark (1001)" desk_marked 80 1001
	check "an ACL with origin=radius lets the desktop through (port 9090)" desk_marked 9090 1001
	check_log "nuauth logs the decision for alice (radius)" nuauth \
		"ip-authenticated user alice (radius): tcp $DESK:[0-9]* -> 10.202.0.2:80 accepted"
	out=$(ctl users)
	check "nuauthctl users lists alice at $DESK with origin radius, uid 1001" \
		matches "$out" "^alice  *1001 .*$DESK .* radius"
	out=$(ctl users --json)
	check "nuauthctl users --json says origin radius" \
		matches "$out" "\"user\":\"alice\",\"uid\":1001,\"groups\":\[100\],\"address\":\"$DESK\".*\"origin\":\"radius\""
	out=$(acct Interim-Update alice $DESK)
	check "FreeRADIUS answers an Interim-Update" matches "$out" "Received Accounting-Response"
	check_log "nuauth refreshes the session" nuauth \
		"address session of alice at $DESK (radius): update"
	check "after the update the desktop is still alice's" desk_marked 80 1001
}

# The cost of a record: radclient sends 20 Interim-Updates one after the
# other, each answered once nuauthctl (run by the exec module) has had
# nuauth's reply.
test_update_cost() {
	local t0 t1 i n=0 recs=""
	for i in $(seq 20); do
		recs+="Acct-Status-Type = Interim-Update\nUser-Name = \"alice\"\nFramed-IP-Address = $DESK\nAcct-Session-Id = \"cost-$i\"\n\n"
	done
	t0=$(date +%s%N)
	n=$(printf "$recs" | ip netns exec "$NS_C" timeout 60 radclient -r 1 -t 4 -p 1 \
		10.201.0.1:1813 acct $SECRET 2>&1 | grep -c "Received Accounting-Response")
	t1=$(date +%s%N)
	check "20 Interim-Updates are answered, one at a time ($(( (t1 - t0) / 20000000 )) ms each)" \
		same "$n" 20
}

# A dual-stack record: both addresses get the user's session (the lab has
# no IPv6 path: nuauthctl users shows them).
test_ipv6() {
	local out
	out=$(printf 'Acct-Status-Type = Start\nUser-Name = "bob"\nFramed-IP-Address = 10.204.0.7\nFramed-IPv6-Address = fd00:204::7\nAcct-Session-Id = "v6"\n' |
		ip netns exec "$NS_C" timeout 20 radclient -r 1 -t 4 10.201.0.1:1813 acct $SECRET 2>&1)
	check "FreeRADIUS answers a dual-stack Start" matches "$out" "Received Accounting-Response"
	out=$(ctl users)
	check "bob has sessions at 10.204.0.7 and fd00:204::7 (radius)" \
		bash -c 'grep -q "^bob .*10.204.0.7 .* radius" <<<"$1" && grep -q "^bob .*fd00:204::7 .* radius" <<<"$1" || { echo "$1"; exit 1; }' _ "$out"
	out=$(printf 'Acct-Status-Type = Stop\nUser-Name = "bob"\nFramed-IP-Address = 10.204.0.7\nFramed-IPv6-Address = fd00:204::7\nAcct-Session-Id = "v6"\n' |
		ip netns exec "$NS_C" timeout 20 radclient -r 1 -t 4 10.201.0.1:1813 acct $SECRET 2>&1)
	out=$(ctl users)
	check_not "a dual-stack Stop closes both" matches "$out" "^bob "
}

test_refused_record() {
	local out
	out=$(acct Start 'eve space' 10.204.0.9)
	check_not "a record nuauth cannot take gets no Accounting-Response (the NAS retries)" \
		matches "$out" "Received Accounting-Response"
	out=$(ctl users)
	check_not "and opens no session" matches "$out" "10.204.0.9"
}

test_client_precedence() {
	local out
	local client
	lab_login alice-client $ALICE_UID alice alicepw || { fail "alice's client logs in"; return; }
	client=$LAB_PID
	out=$(ctl ip-session start bob 10.201.0.2)
	check "an administrator opens bob's session at the client host" \
		matches "$out" "address session of bob at 10.201.0.2 (admin): start"
	check "alice's own connection keeps her mark (1001), her claim wins" \
		lab_connect_marked $ALICE_UID 80 1001
	check_not "alice's client connection does not pass the origin=radius ACL (9090)" \
		lab_connect $ALICE_UID 9090
	check "a connection her client disowns is bob's (mark 1002, port 8080)" \
		lab_connect_marked $NOBODY_UID 8080 1002
	out=$(ctl users)
	check "nuauthctl users lists alice's client (origin client) and bob's session (admin)" \
		bash -c 'grep -q "^alice .*10.201.0.2 .* client " <<<"$1" && grep -q "^bob .*10.201.0.2 .* admin " <<<"$1" || { echo "$1"; exit 1; }' _ "$out"
	out=$(ctl ip-session stop bob 10.201.0.2)
	check "the administrator closes bob's session" matches "$out" "(admin): stop"
	check_not "then a connection alice's client disowns is nobody's" \
		lab_connect $NOBODY_UID 8080 2500
	lab_stop "$client"
}

# Another host takes the desktop's address: nufw sends the packet's source
# MAC address (SRC_MAC), and the session, tied to the MAC address of its
# first packet, ends.  An Interim-Update opens it again, for the new one.
test_mac() {
	local out
	check "the desktop is alice's (its MAC address learnt)" desk_marked 80 1001
	ip -n "$NS_D" link set d0 address 02:00:00:20:04:99
	ip -n "$NS_G" neigh flush dev g3
	check_not "from another MAC address at $DESK the connection is refused" desk_connect 80
	check_log "nuauth ends the session: seen with another MAC address" nuauth \
		"address session of alice at $DESK (radius) ended: seen with another MAC address (02:00:00:20:04:99, "
	out=$(acct Interim-Update alice $DESK)
	check "an Interim-Update opens it again for the new host" desk_marked 80 1001
}

test_stop() {
	local out
	out=$(acct Stop alice $DESK)
	check "FreeRADIUS answers alice's accounting Stop" matches "$out" "Received Accounting-Response"
	check_log "nuauth closes the session and ends its connections" nuauth \
		"address session of alice at $DESK (radius): stop, its connections ended"
	check_not "after Stop the desktop's connection is refused" desk_connect 80
	out=$(ctl users)
	check_not "nuauthctl users no longer lists $DESK" matches "$out" "$DESK"
	out=$(acct Stop alice $DESK)
	check "a second Stop is answered all the same" matches "$out" "Received Accounting-Response"
}

# A NAS that restarts (Accounting-On) ends the sessions it opened.
test_nas_restart() {
	local out
	out=$(acct Start bob 10.204.0.8)
	check "bob's session opens (the NAS 10.201.0.2 recorded)" matches "$(ctl users)" "^bob .*10.204.0.8 .* radius"
	out=$(printf 'Acct-Status-Type = Accounting-On\nNAS-IP-Address = 10.201.0.2\nAcct-Session-Id = "on"\n' |
		ip netns exec "$NS_C" timeout 20 radclient -r 1 -t 4 10.201.0.1:1813 acct $SECRET 2>&1)
	check "FreeRADIUS answers the NAS's Accounting-On" matches "$out" "Received Accounting-Response"
	check_log "nuauth ends the NAS's sessions" nuauth "NAS 10.201.0.2 restarted: 1 address session(s) ended"
	check_not "bob's session is gone" matches "$(ctl users)" "^bob "
	out=$(ctl ip-session start bob 10.204.0.8 10.201.0.2 && ctl ip-session accounting-on - 10.201.0.9)
	check "another NAS's restart ends none of them" matches "$out" "NAS 10.201.0.9 restarted: 0 address session(s) ended"
	ctl ip-session stop bob 10.204.0.8 >/dev/null
}

lab_tests test_socket test_start test_update_cost test_ipv6 test_refused_record test_client_precedence \
	test_mac test_stop test_nas_restart
lab_finish
