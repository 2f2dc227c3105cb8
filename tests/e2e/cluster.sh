#!/bin/bash
# A nuauth cluster (doc/cluster.md): three etcd members, two nuauth nodes,
# one gateway asking both, desktops logged in on each node.
#
#   client 10.201.0.2 ---- gateway: 10.201.0.1 (nufw -d 10.201.0.11,10.201.0.12)
#     alice -H nuauth.lab        10.201.0.11 nuauth node a
#       (nuauth.lab: .11, .12)   10.201.0.12 nuauth node b
#     bob   -H 10.201.0.12       etcd e1 e2 e3 on the gateway's loopback
#   desktop 10.203.0.2 (a second login of alice or bob)
#                                (127.0.0.1:2379x, data on tmpfs: /dev/shm)
#
# nuauth_single_user_client_limit=1 on both nodes: a second login of a
# user on the other node is refused.  Node a reaches etcd by 127.0.1.1
# (the members listen there too), which test_partition cuts.
#
# Both desktops share the client's address: a node holds a client there
# either way, so "not mine" must come from the directory, not from an
# empty address.  tests/e2e/cluster.sh BUILD_DIR [TEST...]
set -uo pipefail
. "$(dirname "$0")/lab.sh"
lab_init "$@"
. "$(dirname "$0")/cluster_lab.sh"

# Node a reaches the same members by 127.0.1.1, so that a rule can cut it
# (and only it) off from etcd.
ENDPOINTS_A=http://127.0.1.1:23791,http://127.0.1.1:23792,http://127.0.1.1:23793

lab_netns
lab_rules
# A second desktop, 10.203.0.2 (the lab's fourth host), for a second login
# of a user from another address.
lab_auth_host
cluster_addresses
cluster_pki || lab_end "the lab's PKI"

# etcd's own PKI: a CA, etcd's certificate (127.0.0.1) and a client
# certificate for nuauth; member e3 also serves clients over TLS with
# client certificates on 127.0.0.1:23794.  etcd's certificate is for both
# ends (its JSON gateway speaks to its own gRPC server with it), so certtool
# makes it.
"$NUAUTHCTL" pki init "$LAB_DIR/etcdpki" --nuauth-name etcd.lab --nuauth-ip 127.0.0.1 \
	--days 30 --ca-days 30 >/dev/null &&
	"$NUAUTHCTL" pki issue "$LAB_DIR/etcdpki" nufw nuauth-node --out client --days 30 >/dev/null &&
	printf '%s\n' 'cn = "etcd.lab"' 'ip_address = "127.0.0.1"' tls_www_server tls_www_client \
		signing_key encryption_key 'expiration_days = 30' > "$LAB_DIR/etcdpki/etcd.tmpl" &&
	certtool --generate-privkey --key-type=ecdsa --outfile "$LAB_DIR/etcdpki/etcd-key.pem" \
		2>/dev/null &&
	certtool --generate-certificate --load-privkey "$LAB_DIR/etcdpki/etcd-key.pem" \
		--load-ca-certificate "$LAB_DIR/etcdpki/cacert.pem" \
		--load-ca-privkey "$LAB_DIR/etcdpki/ca-key.pem" --template "$LAB_DIR/etcdpki/etcd.tmpl" \
		--outfile "$LAB_DIR/etcdpki/etcd-cert.pem" 2>/dev/null ||
	lab_end "etcd's PKI"

# start_node NAME: nuauth node NAME (debug level), ready, in the directory
# and in sync with etcd.
start_node() {
	cluster_start_node "$1" -vv && lab_wait_log "nuauth-$1" "node $1 is in sync with etcd"
}

start_etcd_cluster || lab_end "the etcd members start"
lab_nuauth_conf
# carol: logs in from the second desktop (test_partition)
echo "carol:carolpw:1003:100" >> "$LAB_DIR/users.nufw"
# erin: the name guessed at over both nodes (test_throttle)
echo "erin:erinpw:1005:100" >> "$LAB_DIR/users.nufw"
node_conf a 10.201.0.11
node_conf b 10.201.0.12
for n in a b; do
	cat >> "$LAB_DIR/nuauth-$n.conf" <<CONF
nuauth_single_user_client_limit=1
nuauth_login_user_failure_limit=6
CONF
done
echo "nuauth_cluster_etcd_endpoints=\"$ENDPOINTS_A\"" >> "$LAB_DIR/nuauth-a.conf"
start_node a || lab_end "nuauth node a starts and joins the directory"
start_node b || lab_end "nuauth node b starts and joins the directory"
p=$LAB_DIR/pki
lab_start nufw "$NS_G" "$NUFW" -d 10.201.0.11,10.201.0.12 -p 4128 -q 0 -m \
	-k "$p/nufw-key.pem" -c "$p/nufw-cert.pem" -a "$p/cacert.pem" -t 5 -C -v -v
NUFW_PID=$LAB_PID
lab_wait_log nufw "connected to nuauth at 10.201.0.11" && lab_wait_log nufw "connected to nuauth at 10.201.0.12" ||
	lab_end "nufw connects to both nodes"
lab_start_server || lab_end "the server starts"
lab_start stream "$NS_S" "$NUPROBE" stream 5050

# alice's nutcpc at debug level: its reconnection attempts are in its log.
lab_start_as alice "$NS_C" "$ALICE_UID" "$NUTCPC" -H nuauth.lab -p 4129 -U alice -P alicepw \
	-A "$LAB_DIR/pki/cacert.pem" -d -v -v
ALICE_PID=$LAB_PID
lab_wait_log alice "logged in" || lab_end "alice logs in"
LAB_NUAUTH_ADDR=10.201.0.12 lab_login bob "$BOB_UID" bob bobpw || lab_end "bob logs in"

test_directory() {
	check_log "alice's session is on node a" nuauth-a "user alice (uid 1001) logged in from 10.201.0.2" 5
	check_log "bob's session is on node b" nuauth-b "user bob (uid 1002) logged in from 10.201.0.2" 5
	check_log "node b learns alice's session on node a from etcd" nuauth-b \
		"cluster: user alice at 10.201.0.2 on node a"
	check_log "node a learns bob's session on node b from etcd" nuauth-a \
		"cluster: user bob at 10.201.0.2 on node b"
}

test_each_node_decides() {
	check_mark "alice (node a) connects with her mark" "$ALICE_UID" 80 1001
	check_mark "bob (node b) connects with his mark" "$BOB_UID" 80 1002
	check_mark "alice again" "$ALICE_UID" 80 1001
	check_mark "bob again" "$BOB_UID" 80 1002
	# Nobody's connection from the same address: both nodes say "not
	# mine", so nufw drops it; no node decides for a user it does not hold.
	check_not "a desktop user without a client is refused by both nodes" \
		lab_connect "$NOBODY_UID" 80 3000
}

# Two logins of carol at once, on node a from the second desktop and on
# node b from the first, under nuauth_single_user_client_limit=1: the limit
# is a slot taken in etcd by transaction, so exactly one wins (the
# directory alone lets both through when they come within the watch's
# delay).  Five rounds; the winner logs out before the next.
test_concurrent_login() {
	local round won refused pa pb
	for round in 1 2 3 4 5; do
		lab_start_as "race-a$round" "$NS_A" "$ALICE2_UID" "$NUTCPC" -H 10.201.0.11 -p 4129 \
			-U carol -P carolpw -A "$LAB_DIR/pki/cacert.pem" -d -v
		pa=$LAB_PID
		lab_start_as "race-b$round" "$NS_C" "$CAROL_UID" "$NUTCPC" -H 10.201.0.12 -p 4129 \
			-U carol -P carolpw -A "$LAB_DIR/pki/cacert.pem" -d -v
		pb=$LAB_PID
		lab_wait_file "$LAB_DIR/race-a$round.log" "logged in\|login refused" 15
		lab_wait_file "$LAB_DIR/race-b$round.log" "logged in\|login refused" 15
		won=$(grep -l "logged in" "$LAB_DIR/race-a$round.log" "$LAB_DIR/race-b$round.log" | wc -l)
		refused=$(grep -l "too many sessions for user carol" "$LAB_DIR/race-a$round.log" \
			"$LAB_DIR/race-b$round.log" | wc -l)
		check "round $round: two logins of carol at once on two nodes, exactly one wins" \
			same "$won won, $refused refused" "1 won, 1 refused"
		lab_stop "$pa"
		lab_stop "$pb"
		check "round $round: the winner's logout frees the slot, both nodes forget her" \
			gone_everywhere carol
	done
	check "carol holds no slot once logged out" etcd_empty /nufw/limits/user/carol/
	echo "    races: $(cat "$LAB_DIR"/nuauth-[ab].log | grep -c \
		"carol refused: too many sessions for user carol (at most 1, across the cluster)") of 5 settled by the transaction, the others by the directory"
}

# gone_everywhere USER: no node lists a session of USER and no slot of
# USER is left in etcd (waits up to 10 s).
gone_everywhere() {
	local i
	for i in $(seq 100); do
		! ctl_node a users --json | grep -q "\"user\":\"$1\"" &&
			! ctl_node b users --json | grep -q "\"user\":\"$1\"" &&
			etcd_empty "/nufw/limits/user/$1/" >/dev/null && return 0
		sleep 0.1
	done
	echo "$1 is still listed or holds a slot"
	return 1
}

# Cluster-wide administration: node b lists every node's sessions, and its
# disconnect of alice (held by node a) reaches node a through etcd, which
# ends her session and her open transfer through the gateway.
test_cluster_admin() {
	local ipt="ip netns exec $NS_G iptables" out port n hpid
	out=$(ctl_node b users --json)
	check "users on node b lists alice's session on node a (--json)" \
		matches "$out" '"user":"alice"[^}]*"node":"a"'
	check "... and bob's own, with node b" matches "$out" '"user":"bob"[^}]*"node":"b"'
	out=$(ctl_node b users)
	check "users on node b: a NODE column, alice on a (no uid known there)" \
		matches "$out" "^a  *alice  *- "
	check "... bob on b, with his uid" matches "$out" "^b  *bob  *1002 "
	out=$(ctl_node a users)
	check "users on node a lists bob's session on node b" matches "$out" "^b  *bob "
	out=$(ctl_node b disconnect nosuchuser 2>&1)
	check "disconnect of a user nobody holds is still an error" \
		matches "$out" "user \`nosuchuser' has no session"
	# What conntrack sees as new but is no SYN cannot open a connection.
	$ipt -I FORWARD 1 -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
	n=$(grep -c "logged in again" "$LAB_DIR/alice.log")
	lab_start_as held-dc "$NS_C" "$ALICE_UID" "$NUPROBE" hold 10.202.0.2 5050 20
	hpid=$LAB_PID
	if lab_wait_log held-dc "connected from" 5; then
		port=$(sed -n 's/^connected from .*://p' "$LAB_DIR/held-dc.log")
		check "alice's transfer (accepted by node a) is in conntrack with her mark" \
			same "$(lab_ct_mark "$port" 5050)" 1001
		out=$(ctl_node b connections)
		check "connections on node b lists alice's transfer, held by node a" \
			matches "$out" "^a  *alice  .*tcp 10.201.0.2:$port -> 10.202.0.2:5050"
		out=$(ctl_node b connections --json)
		check "... every node answered (node b itself, node a through etcd)" \
			matches "$out" '"nodes":\[{"node":"b","answered":true},{"node":"a","answered":true}\]'
		check_log "node a answered node b's question" nuauth-a \
			"cluster: node b asks for the connections: answered" 0
		echo "    connections: node b's question to node a's answer: $(log_gap nuauth-b \
			"cluster: question .* (connections)" nuauth-a \
			"cluster: node b asks for the connections: answered") ms"
		out=$(ctl_node b disconnect alice)
		check "disconnect alice on node b asks node a" \
			matches "$out" "alice: node a asked to close its session"
		check_log "node a runs node b's command" nuauth-a \
			"cluster: node b asks to disconnect user alice: 1 session(s) closed, [1-9][0-9]* connection(s) ended" 5
		echo "    command: node b's request to node a's run: $(log_gap nuauth-b \
			"cluster: asks node a to disconnect user alice" nuauth-a \
			"cluster: node b asks to disconnect user alice") ms"
		check_log "node a closes alice's session" nuauth-a \
			"user alice disconnected from 10.201.0.2 (disconnected by the administrator (from node b))" 0
		check_log "nufw ends alice's transfer at node a's request" nufw \
			"ended tcp 10.201.0.2:$port .* at nuauth's request" 5
		check "alice's transfer stops (the desktop sees it stall)" \
			lab_wait_file "$LAB_DIR/held-dc.log" "stalled after\|closed after" 10
		check "its conntrack entry is gone" same "$(lab_ct_mark "$port" 5050)" ""
	else
		fail "alice's transfer through node a starts" "$(cat "$LAB_DIR/held-dc.log")"
	fi
	lab_stop "$hpid"
	$ipt -D FORWARD -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
	check "node a deleted the command key" etcd_empty /nufw/commands/
	check_log "alice's nutcpc logs in again (to node a)" alice "logged in again" 15 $((n + 1))
	check_mark "alice connects again with her mark" "$ALICE_UID" 80 1001
	check_mark "bob is untouched" "$BOB_UID" 80 1002
}

# log_gap LOG1 PATTERN1 LOG2 PATTERN2: ms from the first line of LOG1
# matching PATTERN1 to the first of LOG2 matching PATTERN2.
log_gap() { stamp_gap "$(log_stamp "$1" "$2")" "$(log_stamp "$3" "$4")"; }

# etcd_empty PREFIX: no key under PREFIX in etcd (member e2); else says
# what is there.
etcd_empty() {
	local out
	out=$(ip netns exec "$NS_G" env ETCDCTL_API=3 etcdctl --endpoints=127.0.0.1:23792 \
		get --prefix "$1" 2>&1)
	[ -z "$out" ] && return 0
	echo "$out"
	return 1
}

# guess NODE SRC USER PASSWORD: one login on node NODE (a or b) from SRC
# (an address of the first desktop): abuse.py's "ok MS" or "refused MS: TEXT".
guess() {
	local n=11
	[ "$1" = b ] && n=12
	ip netns exec "$NS_C" env NUAUTH=10.201.0.$n CA="$LAB_DIR/pki/cacert.pem" SRC="$2" \
		python3 "$LAB_HERE/abuse.py" login "$3" "$4" 2>&1
}

# wrong NODE SRC USER: a wrong password for USER on node NODE from SRC; then
# waits until the other node has read the three records it changed (the
# address's, the pair's and the name's failures).
wrong() {
	local other=b n
	[ "$1" = b ] && other=a
	n=$(grep -c "node $1's failed-login record [0-9a-f]*:" "$LAB_DIR/nuauth-$other.log")
	guess "$1" "$2" "$3" wrong >> "$LAB_DIR/wrong.out"
	lab_wait_file "$LAB_DIR/nuauth-$other.log" "node $1's failed-login record [0-9a-f]*:" 5 \
		$((n + 3)) || echo "node $other did not learn node $1's failure from $2" >> "$LAB_DIR/wrong.out"
}

# no_lock PATTERN: neither node logged a lock matching PATTERN.
no_lock() {
	! grep -h -- "$1" "$LAB_DIR/nuauth-a.log" "$LAB_DIR/nuauth-b.log"
}

# locked_everywhere WHAT SRC USER PASSWORD: both nodes refuse USER's right
# PASSWORD from SRC, locked.
locked_everywhere() {
	local node out
	for node in b a; do
		out=$(guess "$node" "$2" "$3" "$4")
		check "node $node refuses $1, even with the right password" \
			matches "$out" "^refused.*too many failed logins"
	done
}

# lock_delay WHAT PATTERN: how long node a's lock (its log line PATTERN)
# took to reach node b's memory.
lock_delay() {
	local t
	t=$(log_stamp nuauth-a "$2")
	echo "    throttle: node a's lock of $1 reached node b in $(stamp_gap "$t" \
		"$(log_stamp nuauth-b "node a's failed-login record [0-9a-f]*: 0 failure(s), lock until [1-9]" \
		"$t")") ms"
}

# The failed-login throttles count across the cluster (doc/cluster.md,
# "Failed logins across the cluster"): wrong passwords spread over both
# nodes lock an address at nuauth_login_failure_limit (5) in all and a name
# at nuauth_login_user_failure_limit (6) in all, the lock holds on the node
# that did not start it, and the address a user logged in from on node a
# is exempt from her name's lock on node b too.  Addresses 10.201.0.50-58
# of the first desktop are the guesser's.
test_throttle() {
	local i out n node
	: > "$LAB_DIR/wrong.out"
	for i in 50 51 52 53 54 55 56 57 58; do ip -n "$NS_C" addr add "10.201.0.$i/24" dev c0; done
	n=$(grep -c "node a's known-address record" "$LAB_DIR/nuauth-b.log")
	out=$(guess a 10.201.0.51 erin erinpw)
	check "erin logs in on node a from 10.201.0.51" matches "$out" "^ok"
	check_log "node b learns that erin logged in from there (a known address, by its hash)" \
		nuauth-b "node a's known-address record [0-9a-f]*$" 5 $((n + 1))
	check "etcd holds no name or address of it in clear" not_in_etcd erin 10.201.0.51

	# The address: five wrong passwords from 10.201.0.50, each for another
	# name, on a, b, a, b, a.
	for i in 1 2 3 4; do
		node=b; [ $((i % 2)) = 1 ] && node=a
		wrong "$node" 10.201.0.50 "nosuch$i"
	done
	check "four wrong passwords over both nodes lock nothing (the limit is 5 in all)" \
		no_lock "logins from 10.201.0.50 locked"
	wrong a 10.201.0.50 nosuch5
	check_log "the fifth, on node a, locks the address: 5 across the cluster" nuauth-a \
		"logins from 10.201.0.50 locked for 30 s after 5 failed logins" 0
	locked_everywhere "the address node a locked" 10.201.0.50 erin erinpw
	check_count "node b started no lock of its own" nuauth-b "logins from 10.201.0.50 locked" 0
	lock_delay 10.201.0.50 "logins from 10.201.0.50 locked"

	# The name: six wrong passwords for erin, each from another address,
	# on b, a, b, a, b, a.
	for i in 2 3 4 5 6; do
		node=a; [ $((i % 2)) = 0 ] && node=b
		wrong "$node" "10.201.0.5$i" erin
	done
	check "five wrong passwords for erin over both nodes lock nothing (the limit is 6 in all)" \
		no_lock 'logins of user "erin" locked'
	wrong a 10.201.0.57 erin
	check_log "the sixth, on node a, locks her name: 6 across the cluster" nuauth-a \
		'logins of user "erin" locked for 30 s after 6 failed logins' 0
	locked_everywhere "erin from a new address" 10.201.0.58 erin erinpw
	out=$(guess b 10.201.0.51 erin erinpw)
	check "node b lets erin in from the address she logged in from on node a" matches "$out" "^ok"
	out=$(guess b 10.201.0.58 carol carolpw)
	check "another user logs in from the new address meanwhile" matches "$out" "^ok"
	check "no failure was left unlearned" same "$(grep -c "did not learn" "$LAB_DIR/wrong.out")" 0
	lock_delay "erin's name" 'logins of user "erin" locked'
}

# not_in_etcd TEXT...: no key or value under /nufw/fails/ or /nufw/known/
# holds any TEXT.
not_in_etcd() {
	local out t
	out=$(ip netns exec "$NS_G" env ETCDCTL_API=3 etcdctl --endpoints=127.0.0.1:23792 \
		get --prefix /nufw/fails/ 2>&1; ip netns exec "$NS_G" env ETCDCTL_API=3 etcdctl \
		--endpoints=127.0.0.1:23792 get --prefix /nufw/known/ 2>&1)
	[ -n "$out" ] || { echo "nothing under /nufw/fails/ or /nufw/known/"; return 1; }
	for t in "$@"; do
		grep -qF -- "$t" <<<"$out" && { echo "$t in: $out"; return 1; }
	done
	return 0
}

# Bad cluster keys stop nuauth with file:line and what is wrong.
test_config() {
	bad_conf() {	# bad_conf LINE...: node a's configuration, then LINEs
		cp "$LAB_DIR/nuauth-a.conf" "$LAB_DIR/bad.conf"
		printf '%s\n' "$@" >> "$LAB_DIR/bad.conf"
	}
	bad_conf 'nuauth_cluster_etcd_endpoints="127.0.0.1:2379"'
	conf_error_case "an endpoint that is not a URL is refused" \
		"bad.conf:$(wc -l < "$LAB_DIR/bad.conf"): nuauth_cluster_etcd_endpoints: \`127.0.0.1:2379' is not http(s)://HOST:PORT"
	bad_conf 'nuauth_cluster_node_name="a/b"'
	conf_error_case "a node name with / is refused" "nuauth_cluster_node_name: \`a/b' must be"
	bad_conf "nuauth_cluster_etcd_cert=\"$LAB_DIR/pki/nuauth-cert.pem\""
	conf_error_case "an etcd client certificate without its key is refused" \
		"nuauth_cluster_etcd_cert and nuauth_cluster_etcd_key go together"
	bad_conf 'nuauth_cluster_etcd_ca="/nonexistent/ca.pem"'
	conf_error_case "a missing etcd CA file is refused" "no file \`/nonexistent/ca.pem'"
	bad_conf 'nuauth_cluster_partition_logins=maybe'
	conf_error_case "an unknown partition setting is refused" \
		"bad.conf:$(wc -l < "$LAB_DIR/bad.conf"): nuauth_cluster_partition_logins: \`maybe' is not refuse, limited or allow"
	bad_conf 'nuauth_cluster_lease_ttl=1'
	conf_error_case "a lease shorter than 2 s is refused" "nuauth_cluster_lease_ttl"
}

# nuauth_single_user_client_limit=1 on both nodes counts the other node's
# sessions (by the directory): a second login from the second desktop.
test_single_login() {
	local out
	out=$(lab_as "$NS_A" "$ALICE2_UID" timeout 15 "$NUTCPC" -H 10.201.0.11 -p 4129 -U bob \
		-P bobpw -A "$LAB_DIR/pki/cacert.pem" -d 2>&1)
	check "a second login of bob (logged in on node b) is refused on node a" \
		status_says $? error "login refused: too many sessions for user bob" "$out"
	out=$(lab_as "$NS_A" "$ALICE2_UID" timeout 15 "$NUTCPC" -H 10.201.0.12 -p 4129 -U alice \
		-P alicepw -A "$LAB_DIR/pki/cacert.pem" -d 2>&1)
	check "a second login of alice (logged in on node a) is refused on node b" \
		status_says $? error "login refused: too many sessions for user alice" "$out"
	check_mark "bob's session on node b still works" "$BOB_UID" 80 1002
}

# Node a cut off from etcd (a rule drops its packets to the members) does
# what doc/cluster.md ("Partitions") says.  It notices within two keep-alive
# periods (before its lease ends and node b forgets its sessions) and logs
# it once; it keeps deciding for alice, whose link it holds; under
# nuauth_single_user_client_limit (the default
# nuauth_cluster_partition_logins=limited) it refuses a new login, with the
# reason given to nutcpc; carol, who logs in on node b meanwhile from the
# second desktop, gets her connections from node b only.  When etcd answers
# again node a reads the directory again (it learns carol), writes its
# sessions again, counts carol's session for the limit and takes logins.
test_partition() {
	local nft="ip netns exec $NS_G nft" cut out gap left
	left=$(grep -c "/nufw/sessions/a/.* left the directory" "$LAB_DIR/nuauth-b.log")
	cut=$(date +%H:%M:%S.%3N)
	$nft add table ip nulab_cut
	$nft add chain ip nulab_cut out '{ type filter hook output priority 0; }'
	$nft add rule ip nulab_cut out ip daddr 127.0.1.1 tcp dport 23791-23793 drop
	check_log "node a sees it is cut off from etcd" nuauth-a \
		"cluster: node a is cut off from etcd (no answer for [0-9]* ms).*new logins under a cluster-wide limit are refused" 10
	gap=$(stamp_gap "$cut" "$(log_stamp nuauth-a "node a is cut off from etcd")")
	echo "    partition: node a saw it was cut off ${gap} ms after the rule (lease 3 s)"
	check "... within 3 s of the cut (the lease's time)" test "$gap" -lt 3000
	# Refused for now (RESULT error): nutcpc says why and keeps trying,
	# as when nuauth is unreachable, instead of giving up.
	out=$(lab_as "$NS_A" "$ALICE2_UID" timeout 4 "$NUTCPC" -H 10.201.0.11 -p 4129 -U carol \
		-P carolpw -A "$LAB_DIR/pki/cacert.pem" -d 2>&1)
	check "a new login on node a, cut off, is refused for now with the reason; nutcpc keeps trying" \
		status_says $? 124 \
		"login refused for now: node a is cut off from the cluster (etcd): it takes no new limited login until it is back; another node may; trying again" "$out"
	check_log "node b forgets node a's sessions when node a's lease ends" nuauth-b \
		"/nufw/sessions/a/.* left the directory" 10 $((left + 1))
	gap=$(stamp_gap "$(log_stamp nuauth-a "node a is cut off from etcd")" \
		"$(log_stamp nuauth-b "/nufw/sessions/a/.* left the directory" "$cut")")
	echo "    partition: node a knew ${gap} ms before node b forgot its sessions"
	check "node a knew it was cut off before node b forgot its sessions" test "$gap" -gt 0
	check_mark "alice, on node a, still connects with her mark (node a decides)" \
		"$ALICE_UID" 80 1001
	check_mark "bob, on node b, still connects with his mark" "$BOB_UID" 80 1002
	check_not "nobody is still refused" lab_connect "$NOBODY_UID" 80 3000
	# carol logs in on node b from the second desktop: node a cannot know
	lab_start_as carol "$NS_A" "$ALICE2_UID" "$NUTCPC" -H 10.201.0.12 -p 4129 -U carol \
		-P carolpw -A "$LAB_DIR/pki/cacert.pem" -d -v
	CAROL_PID=$LAB_PID
	check_log "carol logs in on node b meanwhile" carol "logged in" 10
	check "carol's connection carries her mark (node b decides; node a, which does not know her, does not)" \
		desk_connect_marked "$ALICE2_UID" 80 1003
	check_count "node a logged the loss once" nuauth-a "node a is cut off from etcd" 1
	out=$(ctl_node a connections 2>&1)
	check "connections on node a, cut off, says node b did not answer (in 2 s)" \
		matches "$out" "nuauthctl: some nodes did not answer: their connections are not listed"
	check "... and lists node a's own" matches "$out" "^a  *alice  "
	$nft delete table ip nulab_cut
	check_log "etcd back, node a says so once it read the directory again" nuauth-a \
		"node a reaches etcd again after [0-9]* ms, its directory read again: new logins are taken" 15
	check_log "node a learns carol's session on node b" nuauth-a \
		"cluster: user carol at 10.203.0.2 on node b" 0
	check_log "node a writes its sessions again: node b learns alice's again" nuauth-b \
		"cluster: user alice at 10.201.0.2 on node a" 10 2
	# (from the first desktop: carol's own session at the same address is
	# a failover, which no limit refuses)
	out=$(lab_as "$NS_C" "$CAROL_UID" timeout 15 "$NUTCPC" -H 10.201.0.11 -p 4129 -U carol \
		-P carolpw -A "$LAB_DIR/pki/cacert.pem" -d 2>&1)
	check "node a counts carol's session on node b again: a second login refused" \
		status_says $? error "login refused: too many sessions for user carol" "$out"
	left=$(grep -c "/nufw/sessions/b/.* left the directory" "$LAB_DIR/nuauth-a.log")
	lab_stop "$CAROL_PID"
	check_log "carol's logout on node b reaches node a" nuauth-a \
		"/nufw/sessions/b/.* left the directory" 10 $((left + 1))
	lab_start_as carol-a "$NS_A" "$ALICE2_UID" "$NUTCPC" -H 10.201.0.11 -p 4129 -U carol \
		-P carolpw -A "$LAB_DIR/pki/cacert.pem" -d -v
	check_log "a new login on node a works again" carol-a "logged in" 10
	check "carol's connection through node a now carries her mark" \
		desk_connect_marked "$ALICE2_UID" 80 1003
	lab_stop "$LAB_PID"
}

# desk_connect_marked LOCAL_UID PORT MARK: from the second desktop
# (10.203.0.2), accepted with MARK; else says what was seen.
desk_connect_marked() {
	local out port mark
	out=$(lab_as "$NS_A" "$1" "$NUPROBE" connect 10.202.0.2 "$2" 3000) && port=${out##*:} &&
		mark=$(ip netns exec "$NS_G" conntrack -L -p tcp --orig-src 10.203.0.2 --sport "$port" \
			--dport "$2" 2>/dev/null | grep -o 'mark=[0-9]*' | head -1 | cut -d= -f2) &&
		[ "$mark" = "$3" ] && return 0
	echo "connect: $out; mark=${mark:-none}, wanted $3"
	return 1
}

test_failover() {
	local kill_t back_t ms ready left again
	left=$(grep -c "/nufw/sessions/a/.* left the directory" "$LAB_DIR/nuauth-b.log")
	again=$(grep -c "logged in again to nuauth.lab" "$LAB_DIR/alice.log")
	rm -f "$LAB_DIR/stop"
	steady "$ALICE_UID" alice & LAB_PIDS+=($!)
	steady "$BOB_UID" bob & LAB_PIDS+=($!)
	# a few good connects of each before the kill
	lab_wait_file "$LAB_DIR/alice.steady" ' ok' 10 3 && lab_wait_file "$LAB_DIR/bob.steady" ' ok' 10 3 ||
		fail "steady connects start" "$(tail -3 "$LAB_DIR/alice.steady" "$LAB_DIR/bob.steady")"
	# etcd member e1, every node's first endpoint, dies first: the nodes'
	# requests and watches move to the other members.
	kill -9 "$ETCD1_PID"
	wait "$ETCD1_PID" 2>/dev/null
	check_log "etcd member e1 killed: node b's watch moves to another member" nuauth-b \
		"etcd answers again (http://127.0.0.1:2379[23])" 10
	# alice's download, accepted by node a, runs across the kill (until
	# her logout, below)
	lab_start_as stream-alice "$NS_C" "$ALICE_UID" "$NUPROBE" hold 10.202.0.2 5050 120
	STREAM_PID=$LAB_PID
	lab_wait_log stream-alice "connected from" ||
		fail "alice's stream (accepted by node a) starts"
	kill_t=$(date +%s.%N)
	kill -9 "$NODE_A_PID"
	wait "$NODE_A_PID" 2>/dev/null
	check_log "alice's nutcpc logs in again, to node b, without a password asked" alice \
		"logged in again to nuauth.lab" 15 $((again + 1))
	check_log "node b holds alice's session" nuauth-b "user alice (uid 1001) logged in from 10.201.0.2" 5
	# alice's first good connect after the kill
	ready=0
	back_t=$(first_ok "$LAB_DIR/alice.steady" "$kill_t") && ready=1
	# a few more connects of both after it, then stop
	sleep 2
	touch "$LAB_DIR/stop"
	wait_steady
	if [ $ready = 1 ]; then
		ms=$(awk -v a="$back_t" -v k="$kill_t" 'BEGIN { printf "%d", (a - k) * 1000 }')
		echo "    failover: alice connects again ${ms} ms after node a's kill -9"
		echo "$ms" > "$LAB_DIR/failover_ms"
		check "alice (node a's user) connects again within 5 s of its kill -9 (${ms} ms)" \
			test "$ms" -lt 5000
	else
		fail "alice connects again after node a's kill -9" "$(tail -5 "$LAB_DIR/alice.steady")"
	fi
	check "bob (node b's user) loses no connect while node a dies" no_failure "$LAB_DIR/bob.steady"
	check "every connect of alice accepted carries alice's mark" marks_all "$LAB_DIR/alice.steady" 1001
	check "every connect of bob accepted carries bob's mark" marks_all "$LAB_DIR/bob.steady" 1002
	check_log "node b forgets node a's sessions when its lease ends" nuauth-b \
		"/nufw/sessions/a/.* left the directory" 10 $((left + 1))
	check_not "nobody is still refused after the failover" lab_connect "$NOBODY_UID" 80 3000
	check_mark "alice connects with her mark on node b" "$ALICE_UID" 80 1001
	logout_after_failover
}

# alice's stream, accepted by node a before it died, runs on until she
# logs out on node b: then the gateway ends it (SESSION_END with her
# resumed session's tag; node b never saw the stream).
logout_after_failover() {
	local port ipt="ip netns exec $NS_G iptables"
	port=$(grep -o 'connected from [0-9.]*:[0-9]*' "$LAB_DIR/stream-alice.log" | cut -d: -f2)
	check_log "node b resumed alice's session (the token nutcpc kept)" nuauth-b \
		"user alice (uid 1001) logged in from 10.201.0.2 with .*, resuming its session" 0
	check "alice's stream accepted by node a runs on across its death, no second stalled" \
		not_stalled "$LAB_DIR/stream-alice.log"
	# What conntrack sees as new but is no SYN cannot open a connection.
	$ipt -I FORWARD 1 -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
	kill "$ALICE_PID"
	check_log "alice logs out (on node b)" nuauth-b "user alice logs out from 10.201.0.2" 5
	check_log "her stream, accepted by node a, ends at her logout on node b" stream-alice \
		"stalled after\|closed after" 10
	check_log "the gateway ended it for her session's end" nufw \
		"ended tcp 10.201.0.2:$port -> .*at the end of its user's session" 5
	check "no entry of it is left in the gateway's conntrack" \
		same "$(lab_ct_mark "$port" 5050)" ""
	$ipt -D FORWARD -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
}

# not_stalled LOG: nuprobe hold is still reading, byte after byte.
not_stalled() {
	! grep -q "stalled after\|closed after\|held " "$1" && kill -0 "$STREAM_PID" 2>/dev/null &&
		return 0
	tail -2 "$1"
	return 1
}

# A third node speaks to etcd over TLS only, with a client certificate: it
# joins the directory and learns the others' sessions; stopped, it revokes
# its lease.
test_etcd_tls() {
	local e=$LAB_DIR/etcdpki
	ip -n "$NS_G" addr add 10.201.0.13/24 dev g0
	node_conf c 10.201.0.13
	cat >> "$LAB_DIR/nuauth-c.conf" <<CONF
nuauth_cluster_etcd_endpoints="https://127.0.0.1:23794"
nuauth_cluster_etcd_ca="$e/cacert.pem"
nuauth_cluster_etcd_cert="$e/client-cert.pem"
nuauth_cluster_etcd_key="$e/client-key.pem"
CONF
	start_node c
	check_log "node c joins the directory over TLS with a client certificate" nuauth-c \
		"node c is in the directory" 0
	check_log "node c learns bob's session on node b" nuauth-c \
		"cluster: user bob at 10.201.0.2 on node b"
	lab_stop "$NODE_C_PID"
	check_log "node c, stopped, revokes its lease" nuauth-c "etcd lease [0-9a-f]* revoked" 0
}

# One name of -d that does not resolve keeps only its own link waiting:
# nufw, started again with a name nobody knows between the two nodes
# (node a is dead by now), reaches node b at once and decides bob's
# connections.  The gateway's resolver refuses at once (no DNS in the lab).
test_unresolved_node() {
	local p=$LAB_DIR/pki
	mkdir -p "/etc/netns/$NS_G" && echo "nameserver 127.0.0.1" > "/etc/netns/$NS_G/resolv.conf"
	lab_stop "$NUFW_PID"
	lab_start nufw-unresolved "$NS_G" "$NUFW" -d 10.201.0.11,nonode.lab,10.201.0.12 -p 4128 \
		-q 0 -m -k "$p/nufw-key.pem" -c "$p/nufw-cert.pem" -a "$p/cacert.pem" -t 5 -C -v
	NUFW_PID=$LAB_PID
	check_log "nufw says which name does not resolve" nufw-unresolved \
		"cannot resolve nuauth's name nonode.lab: .*(retrying)" 10
	check_log "... and reaches node b meanwhile" nufw-unresolved \
		"connected to nuauth at 10.201.0.12 port 4128" 10
	check_mark "bob connects with his mark through it (node b decides)" "$BOB_UID" 80 1002
}

# etcd's own users (nuauth_cluster_etcd_user/password): with auth on in
# etcd, a node with its user and password joins the directory, its keys
# are there for etcd's root and for nobody anonymous; a node with a wrong
# password says why and stays out.  (Last: the other nodes have no etcd
# user, and lose etcd from now on.)
test_etcd_auth() {
	local ctl=(ip netns exec "$NS_G" etcdctl --endpoints=http://127.0.0.1:23792) out
	"${ctl[@]}" user add root:rootpw >/dev/null &&
		"${ctl[@]}" role add nuauth >/dev/null &&
		"${ctl[@]}" role grant-permission nuauth --prefix=true readwrite /nufw/ >/dev/null &&
		"${ctl[@]}" user add nuauth-d:dpw >/dev/null &&
		"${ctl[@]}" user grant-role nuauth-d nuauth >/dev/null &&
		"${ctl[@]}" auth enable >/dev/null ||
		{ fail "etcd's users and auth set up"; return; }
	ip -n "$NS_G" addr add 10.201.0.14/24 dev g0
	node_conf d 10.201.0.14
	printf '%s\n' 'nuauth_cluster_etcd_user="nuauth-d"' 'nuauth_cluster_etcd_password="dpw"' \
		>> "$LAB_DIR/nuauth-d.conf"
	start_node d
	check_log "node d joins the directory with etcd's user and password" nuauth-d \
		"node d is in the directory" 0
	out=$("${ctl[@]}" --user root:rootpw get /nufw/nodes/d --print-value-only 2>&1)
	check "its presence key is in etcd" same "$out" d
	check_not "nobody reads it without a user" "${ctl[@]}" get /nufw/nodes/d
	lab_stop "$NODE_D_PID"
	sed -i 's/^nuauth_cluster_etcd_password=.*/nuauth_cluster_etcd_password="wrong"/' \
		"$LAB_DIR/nuauth-d.conf"
	mv "$LAB_DIR/nuauth-d.log" "$LAB_DIR/nuauth-d-first.log"
	lab_start nuauth-d "$NS_G" "$NUAUTH" -c "$LAB_DIR/nuauth-d.conf" -vv
	NODE_D_PID=$LAB_PID
	check_log "with a wrong password, node d says etcd refused it" nuauth-d \
		"authentication failed, invalid user ID or password" 10
	check_count "... and never joins" nuauth-d "node d is in the directory" 0
	lab_stop "$NODE_D_PID"
}

# No packet was left to nufw's failure policy (-t) while a node died: the
# surviving node, or the "not mine" answers, settled each one (nufw -vv
# logs each packet its time-out answers; those still waiting now are not).
test_totals() {
	check_count "no packet waited for nufw's own time-out" nufw "no decision in" 0
}

lab_tests test_config test_directory test_each_node_decides test_single_login test_concurrent_login \
	test_cluster_admin test_throttle \
	test_etcd_tls \
	test_partition test_failover test_totals test_unresolved_node test_etcd_auth
lab_finish
