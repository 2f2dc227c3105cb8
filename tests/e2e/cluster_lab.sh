# The pieces of the cluster lab (doc/cluster.md) shared by
# tests/e2e/cluster.sh and bench/cluster_bench.sh, sourced after lab.sh and
# lab_init: three etcd members on the gateway's loopback (data on tmpfs,
# /dev/shm), nuauth nodes on the gateway's client side (10.201.0.11 for
# node a, .12 for b) sharing one certificate, the name nuauth.lab for both,
# and the steady connects that time a failover.

ETCD=$(command -v etcd) || { echo "${0##*/}: etcd is not installed (etcd-server)" >&2; exit 2; }
ENDPOINTS=http://127.0.0.1:23791,http://127.0.0.1:23792,http://127.0.0.1:23793

# cluster_pki: the lab's PKI with one certificate for every node: the name
# the desktops use (nuauth.lab) and each address.
cluster_pki() {
	"$NUAUTHCTL" pki init "$LAB_DIR/pki" --nuauth-name nuauth.lab --nuauth-ip 10.201.0.11 \
		--nuauth-ip 10.201.0.12 --nuauth-ip 127.0.0.1 --days 30 --ca-days 30 >/dev/null &&
		"$NUAUTHCTL" pki issue "$LAB_DIR/pki" nufw nufw-gateway --out nufw --days 30 >/dev/null
}

# cluster_addresses: the nodes' addresses on the gateway's client side, and
# nuauth.lab in the client namespace (node a first).
cluster_addresses() {
	ip -n "$NS_G" addr add 10.201.0.11/24 dev g0
	ip -n "$NS_G" addr add 10.201.0.12/24 dev g0
	lab_hosts "$NS_C" "127.0.0.1 localhost" "10.201.0.11 nuauth.lab" "10.201.0.12 nuauth.lab"
	# No DNS in the lab: a look-up beyond the hosts file (nutcpc asks for
	# nuauth.lab's IPv6 addresses too) is refused at once, not left to time
	# out after 5 s (resolv.conf's default) on the machine's name server.
	echo "nameserver 127.0.0.1" > "/etc/netns/$NS_C/resolv.conf"
}

# start_etcd N: member eN, ports 2379N (clients, on 127.0.0.1 and
# 127.0.1.1) and 2380N (peers).  With the lab's etcd PKI ($LAB_DIR/etcdpki),
# member e3 also serves clients over TLS with client certificates on
# 127.0.0.1:23794.
start_etcd() {
	local n=$1 cluster=e1=http://127.0.0.1:23801,e2=http://127.0.0.1:23802,e3=http://127.0.0.1:23803
	local urls=http://127.0.0.1:2379$n,http://127.0.1.1:2379$n e=$LAB_DIR/etcdpki tls=() data
	[ "$n" = 3 ] && [ -d "$e" ] && urls=$urls,https://127.0.0.1:23794 &&
		tls=(--cert-file "$e/etcd-cert.pem" --key-file "$e/etcd-key.pem"
		     --trusted-ca-file "$e/cacert.pem" --client-cert-auth)
	# Its data on tmpfs (/dev/shm): a member's fsyncs cost nothing, and
	# nothing is left on disk (lab_down removes it).
	data=$(mktemp -d "/dev/shm/nulab-$LAB_ID-etcd$n.XXXXXX") || return 1
	LAB_EXTRA_DIRS+=("$data")
	lab_start "etcd$n" "$NS_G" "$ETCD" --name "e$n" --data-dir "$data" "${tls[@]}" \
		--listen-client-urls "$urls" \
		--advertise-client-urls "http://127.0.0.1:2379$n" \
		--listen-peer-urls "http://127.0.0.1:2380$n" \
		--initial-advertise-peer-urls "http://127.0.0.1:2380$n" \
		--initial-cluster "$cluster" --initial-cluster-token "nulab-$LAB_ID" \
		--initial-cluster-state new --heartbeat-interval 100 --election-timeout 1000
	eval "ETCD${n}_PID=$LAB_PID"
}

# start_etcd_cluster: the three members, each ready to serve.
start_etcd_cluster() {
	local n
	for n in 1 2 3; do start_etcd $n; done
	for n in 1 2 3; do
		lab_wait_log "etcd$n" "ready to serve client requests" 20 || return 1
	done
}

# node_listen_conf NAME ADDRESS: nuauth-NAME.conf, the lab's nuauth.conf
# with its own addresses and control socket (the last assignment wins).
node_listen_conf() {
	cp "$LAB_DIR/nuauth.conf" "$LAB_DIR/nuauth-$1.conf"
	cat >> "$LAB_DIR/nuauth-$1.conf" <<CONF
nuauth_nufw_listen_addr="$2"
nuauth_client_listen_addr="$2"
nuauth_control_socket="$LAB_DIR/control-$1"
CONF
}

# node_conf NAME ADDRESS: the same, a node of the cluster (lease 3 s, the
# lab's throttle secret).
node_conf() {
	node_listen_conf "$1" "$2"
	cat >> "$LAB_DIR/nuauth-$1.conf" <<CONF
nuauth_cluster_etcd_endpoints="$ENDPOINTS"
nuauth_cluster_node_name="$1"
nuauth_cluster_lease_ttl=3
nuauth_cluster_throttle_secret="lab-$LAB_ID"
CONF
}

# cluster_start_node NAME [OPTION...]: nuauth on nuauth-NAME.conf (PID in
# NODE_NAME_PID), ready and, for a node of the cluster, in the directory
# and in sync with etcd (until then it refuses limited logins).
cluster_start_node() {
	local name=$1; shift
	lab_start "nuauth-$name" "$NS_G" "$NUAUTH" -c "$LAB_DIR/nuauth-$name.conf" "$@"
	eval "NODE_${name^^}_PID=$LAB_PID"
	lab_wait_log "nuauth-$name" "ready" || return 1
	grep -q '^nuauth_cluster_node_name=' "$LAB_DIR/nuauth-$name.conf" || return 0
	lab_wait_log "nuauth-$name" "node $name is in the directory" && cluster_wait_synced "$name"
}

# cluster_wait_synced NAME [SECONDS]: node NAME's `users' has no warning
# (it has read the directory and reaches etcd), within SECONDS (10).
cluster_wait_synced() {
	local deadline=$((SECONDS + ${2:-10}))
	while ctl_node "$1" users --json 2>&1 | grep -q '"warning"'; do
		[ $SECONDS -ge $deadline ] && { echo "node $1 is not in sync with etcd" >&2; return 1; }
		sleep 0.02
	done
}

# ctl_node NODE COMMAND ARGS...: nuauthctl on node NODE's control socket.
ctl_node() { "$CTL" "$2" -s "$LAB_DIR/control-$1" "${@:3}"; }

# log_stamp LOG PATTERN [AFTER]: the HH:MM:SS.mmm stamp of LOG's first line
# matching PATTERN (stamped AFTER or later).
log_stamp() {
	grep -- "$2" "$LAB_DIR/$1.log" | awk -v t="${3:-}" '$1 >= t { print $1; exit }'
}

# stamp_gap T1 T2: ms from HH:MM:SS.mmm T1 to T2.
stamp_gap() {
	awk -v a="$1" -v b="$2" 'function ms(t, p) { split(t, p, ":");
		return (p[1] * 3600 + p[2] * 60 + p[3]) * 1000 }
		BEGIN { printf "%d", ms(b) - ms(a) }'
}

# steady UID NAME [PORT [SRC]]: connects to the server's PORT (80) as UID
# every STEADY_GAP (0.1) s until $LAB_DIR/stop exists; each line of
# NAME.steady: START ok MARK END, or START fail END (times of date +%s.%N;
# the mark from conntrack, for a connection from SRC, 10.201.0.2).  One
# connect after the other, each given 1 s; with STEADY_PARALLEL set, a
# connect starts every STEADY_GAP whatever the ones before came to, and
# each is given 3 s (a SYN's retransmission).
steady() {
	local uid=$1 out=$LAB_DIR/$2.steady port=${3:-80} src=${4:-10.201.0.2}
	: > "$out"
	while [ ! -e "$LAB_DIR/stop" ]; do
		if [ -n "${STEADY_PARALLEL:-}" ]; then
			steady_one "$uid" "$out" "$port" "$src" 3000 &
		else
			steady_one "$uid" "$out" "$port" "$src" 1000
		fi
		sleep "${STEADY_GAP:-0.1}"
	done
	wait
}

steady_one() {	# steady_one UID FILE PORT SRC MS: one connect of steady
	local t o sport mark
	t=$(date +%s.%N)
	if o=$(lab_connect "$1" "$3" "$5" 2>&1); then
		sport=${o##*:}
		mark=$(lab_ct_mark "$sport" "$3" "$4")
		echo "$t ok ${mark:-none} $(date +%s.%N)" >> "$2"
	else
		echo "$t fail $(date +%s.%N)" >> "$2"
	fi
}

# first_ok FILE AFTER [SECONDS]: the start time of FILE's first accepted
# connect started after AFTER (date +%s.%N), waiting up to SECONDS (10).
first_ok() {
	local deadline=$((SECONDS + ${3:-10})) t
	while :; do
		t=$(awk -v k="$2" '$1 > k && $2 == "ok" { print $1; exit }' "$1")
		[ -n "$t" ] && { echo "$t"; return 0; }
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.05
	done
}

# first_accept FILE AFTER: the earliest time a connect started after AFTER
# was accepted (its end), once one was; else fails.
first_accept() {
	awk -v k="$2" '$1 > k && $2 == "ok" && (t == "" || $4 < t) { t = $4 }
		END { if (t == "") exit 1; print t }' "$1"
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

# wait_steady: the steady loops end (they check the stop file).
wait_steady() {
	local pid me
	me=$(basename "$0" | cut -c1-15)	# a process's comm: 15 characters
	for pid in "${LAB_PIDS[@]}"; do
		# only this script's subshells: nothing else of the lab ends here
		[ "$(ps -o comm= -p "$pid" 2>/dev/null)" = "$me" ] && wait "$pid" 2>/dev/null
	done
}
