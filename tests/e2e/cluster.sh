#!/bin/bash
# A nuauth cluster (doc/cluster.md): three etcd members, two nuauth nodes,
# one gateway asking both, desktops logged in on each node.
#
#   client 10.201.0.2 ---- gateway: 10.201.0.1 (nufw -d 10.201.0.11,10.201.0.12)
#     alice -H nuauth.lab        10.201.0.11 nuauth node a
#       (nuauth.lab: .11, .12)   10.201.0.12 nuauth node b
#     bob   -H 10.201.0.12       etcd e1 e2 e3 on the gateway's loopback
#   desktop 10.203.0.2 (a second login of alice or bob)
#                                (127.0.0.1:2379x, data in the lab's directory)
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

ETCD=$(command -v etcd) || { echo "cluster.sh: etcd is not installed (etcd-server)" >&2; exit 2; }
ENDPOINTS=http://127.0.0.1:23791,http://127.0.0.1:23792,http://127.0.0.1:23793
# Node a reaches the same members by 127.0.1.1, so that a rule can cut it
# (and only it) off from etcd.
ENDPOINTS_A=http://127.0.1.1:23791,http://127.0.1.1:23792,http://127.0.1.1:23793

lab_netns
lab_rules
# A second desktop, 10.203.0.2 (the lab's fourth host), for a second login
# of a user from another address.
lab_auth_host
ip -n "$NS_G" addr add 10.201.0.11/24 dev g0
ip -n "$NS_G" addr add 10.201.0.12/24 dev g0
# One certificate for both nodes: the name the desktops use and each address.
"$NUAUTHCTL" pki init "$LAB_DIR/pki" --nuauth-name nuauth.lab --nuauth-ip 10.201.0.11 \
	--nuauth-ip 10.201.0.12 --nuauth-ip 127.0.0.1 --days 30 --ca-days 30 >/dev/null &&
	"$NUAUTHCTL" pki issue "$LAB_DIR/pki" nufw nufw-gateway --out nufw --days 30 >/dev/null ||
	lab_end "the lab's PKI"
# alice's nutcpc finds both nodes under one name, node a first.
lab_hosts "$NS_C" "127.0.0.1 localhost" "10.201.0.11 nuauth.lab" "10.201.0.12 nuauth.lab"
# No DNS in the lab: a look-up beyond the hosts file (nutcpc asks for
# nuauth.lab's IPv6 addresses too) is refused at once, not left to time out
# after 5 s (resolv.conf's default) on the machine's name server.
echo "nameserver 127.0.0.1" > "/etc/netns/$NS_C/resolv.conf"

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

start_etcd() {	# start_etcd N: member eN, ports 2379N (clients) and 2380N (peers)
	local n=$1 cluster=e1=http://127.0.0.1:23801,e2=http://127.0.0.1:23802,e3=http://127.0.0.1:23803
	local urls=http://127.0.0.1:2379$n,http://127.0.1.1:2379$n e=$LAB_DIR/etcdpki tls=()
	[ "$n" = 3 ] && urls=$urls,https://127.0.0.1:23794 &&
		tls=(--cert-file "$e/etcd-cert.pem" --key-file "$e/etcd-key.pem"
		     --trusted-ca-file "$e/cacert.pem" --client-cert-auth)
	mkdir -m 700 "$LAB_DIR/etcd$n"
	lab_start "etcd$n" "$NS_G" "$ETCD" --name "e$n" --data-dir "$LAB_DIR/etcd$n" "${tls[@]}" \
		--listen-client-urls "$urls" \
		--advertise-client-urls "http://127.0.0.1:2379$n" \
		--listen-peer-urls "http://127.0.0.1:2380$n" \
		--initial-advertise-peer-urls "http://127.0.0.1:2380$n" \
		--initial-cluster "$cluster" --initial-cluster-token "nulab-$LAB_ID" \
		--initial-cluster-state new --heartbeat-interval 100 --election-timeout 1000
	eval "ETCD${n}_PID=$LAB_PID"
}

# node_conf NAME ADDRESS: nuauth-NAME.conf, the lab's with its own
# addresses, control socket and cluster keys (the last assignment wins).
node_conf() {
	cp "$LAB_DIR/nuauth.conf" "$LAB_DIR/nuauth-$1.conf"
	cat >> "$LAB_DIR/nuauth-$1.conf" <<CONF
nuauth_nufw_listen_addr="$2"
nuauth_client_listen_addr="$2"
nuauth_control_socket="$LAB_DIR/control-$1"
nuauth_cluster_etcd_endpoints="$ENDPOINTS"
nuauth_cluster_node_name="$1"
nuauth_cluster_lease_ttl=3
nuauth_single_user_client_limit=1
CONF
}

start_node() {	# start_node NAME: nuauth node NAME, ready and in the directory
	lab_start "nuauth-$1" "$NS_G" "$NUAUTH" -c "$LAB_DIR/nuauth-$1.conf" -vv
	eval "NODE_${1^^}_PID=$LAB_PID"
	lab_wait_log "nuauth-$1" "ready" && lab_wait_log "nuauth-$1" "node $1 is in the directory"
}

for n in 1 2 3; do start_etcd $n; done
for n in 1 2 3; do
	lab_wait_log "etcd$n" "ready to serve client requests" 20 || lab_end "etcd member e$n starts"
done
lab_nuauth_conf
node_conf a 10.201.0.11
echo "nuauth_cluster_etcd_endpoints=\"$ENDPOINTS_A\"" >> "$LAB_DIR/nuauth-a.conf"
node_conf b 10.201.0.12
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
# what doc/cluster.md says: it keeps deciding for the client it holds; its
# lease ends and node b forgets its sessions; once etcd answers again it gets
# a new lease and writes its sessions again.
test_partition() {
	local nft="ip netns exec $NS_G nft"
	$nft add table ip nulab_cut
	$nft add chain ip nulab_cut out '{ type filter hook output priority 0; }'
	$nft add rule ip nulab_cut out ip daddr 127.0.1.1 tcp dport 23791-23793 drop
	check_log "node a cannot reach etcd (a keep-alive fails)" nuauth-a \
		"etcd lease keep-alive: .*127.0.1.1" 10
	check_log "node b forgets node a's sessions when node a's lease ends" nuauth-b \
		"/nufw/sessions/a/.* left the directory" 10
	check_mark "alice, on node a, still connects with her mark (node a decides)" \
		"$ALICE_UID" 80 1001
	check_mark "bob, on node b, still connects with his mark" "$BOB_UID" 80 1002
	check_not "nobody is still refused" lab_connect "$NOBODY_UID" 80 3000
	$nft delete table ip nulab_cut
	check_log "etcd back, node a gets a new lease" nuauth-a "node a is in the directory" 15 2
	check_log "and writes its sessions again: node b learns alice's again" nuauth-b \
		"cluster: user alice at 10.201.0.2 on node a" 10 2
}

# steady UID NAME: connects every 0.1 s until $LAB_DIR/stop exists; each
# line of NAME.steady: TIME ok MARK, or TIME fail.
steady() {
	local uid=$1 out=$LAB_DIR/$2.steady t o port mark
	: > "$out"
	while [ ! -e "$LAB_DIR/stop" ]; do
		t=$(date +%s.%N)
		if o=$(lab_connect "$uid" 80 1000 2>&1); then
			port=${o##*:}
			mark=$(lab_ct_mark "$port" 80)
			echo "$t ok ${mark:-none}" >> "$out"
		else
			echo "$t fail" >> "$out"
		fi
		sleep 0.1
	done
}

# marks_all FILE MARK: every accepted connection in FILE has MARK.
marks_all() {
	local bad
	bad=$(awk -v m="$2" '$2 == "ok" && $3 != m' "$1")
	[ -z "$bad" ] && return 0
	echo "accepted with another mark:"; echo "$bad"
	return 1
}

# no_failure FILE: no connect failed, and there were some.
no_failure() {
	local n f
	n=$(grep -c . "$1"); f=$(grep -c ' fail' "$1")
	[ "$n" -gt 0 ] && [ "$f" -eq 0 ] && return 0
	echo "$f of $n connects failed"
	return 1
}

test_failover() {
	local kill_t back_t ms ready
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
	# alice's download, accepted by node a, runs across the kill
	lab_start_as stream-alice "$NS_C" "$ALICE_UID" "$NUPROBE" hold 10.202.0.2 5050 6
	lab_wait_log stream-alice "connected from" ||
		fail "alice's stream (accepted by node a) starts"
	kill_t=$(date +%s.%N)
	kill -9 "$NODE_A_PID"
	wait "$NODE_A_PID" 2>/dev/null
	check_log "alice's nutcpc logs in again, to node b, without a password asked" alice \
		"logged in again to nuauth.lab" 15
	check_log "node b holds alice's session" nuauth-b "user alice (uid 1001) logged in from 10.201.0.2" 5
	# alice's first good connect after the kill
	ready=0
	for _ in $(seq 100); do
		back_t=$(awk -v k="$kill_t" '$1 > k && $2 == "ok" { print $1; exit }' "$LAB_DIR/alice.steady")
		[ -n "$back_t" ] && { ready=1; break; }
		sleep 0.1
	done
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
	check_log "alice's stream accepted by node a runs on across its death, no second stalled" \
		stream-alice "held [0-9]* bytes" 10
	check_log "node b forgets node a's sessions when its lease ends" nuauth-b \
		"/nufw/sessions/a/.* left the directory" 10
	check_not "nobody is still refused after the failover" lab_connect "$NOBODY_UID" 80 3000
	check_mark "alice connects with her mark on node b" "$ALICE_UID" 80 1001
}

# The steady loops of test_failover end (they check the stop file).
wait_steady() {
	local pid
	for pid in "${LAB_PIDS[@]}"; do
		# only the subshells of this file: nothing else of the lab ends here
		[ "$(ps -o comm= -p "$pid" 2>/dev/null)" = cluster.sh ] && wait "$pid" 2>/dev/null
	done
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

# No packet was left to nufw's failure policy (-t) while a node died: the
# surviving node, or the "not mine" answers, settled each one (nufw -vv
# logs each packet its time-out answers; those still waiting now are not).
test_totals() {
	check_count "no packet waited for nufw's own time-out" nufw "no decision in" 0
}

lab_tests test_config test_directory test_each_node_decides test_single_login test_etcd_tls \
	test_partition test_failover test_totals
lab_finish
