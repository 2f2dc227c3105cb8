# The authenticated-connections lab of bench/auth_load.sh and
# bench/cluster_bench.sh, sourced after tests/e2e/lab.sh and lab_init:
# USERS desktop users (uids 21001...), each with its own source address in
# the client namespace (policy routing by uid), the mark check of every
# SYN, and the phases of the load generator bench/auth_load.
#
# Set before calling auth_lab_setup: USERS, SECS, and optionally AUTH_ADDR0
# (10: user i leaves from 10.201.0.(AUTH_ADDR0 + i)).

LOAD=$BUILD/bench/auth_load
UID0=21001
PORT=5001
SERVER=10.202.0.2
AUTH_ADDR0=${AUTH_ADDR0:-10}
ipt="ip netns exec $NS_G iptables"

user_addr() { echo "10.201.0.$((AUTH_ADDR0 + $1))"; }	# user_addr INDEX (0-based)
user_name() { printf 'user%02d' $(($1 + 1)); }		# user_name INDEX

# auth_lab_setup: the namespaces, the PKI unless one is there, nuauth.conf
# with the users and their ACL (the server's port PORT and 80), the users'
# addresses, the gateway's rules and the mark check.
auth_lab_setup() {
	local i a table
	UIDN=$((UID0 + USERS - 1))
	[ -x "$LOAD" ] || { echo "${0##*/}: build bench/ first (make)" >&2; exit 2; }
	[ "$USERS" -ge 1 ] && [ $((AUTH_ADDR0 + USERS)) -le 210 ] ||
		{ echo "${0##*/}: 1 to $((210 - AUTH_ADDR0)) users" >&2; exit 2; }
	lab_netns
	[ -e "$LAB_DIR/pki/cacert.pem" ] || lab_pki >/dev/null
	lab_nuauth_conf
	sed -i 's/^nuauth_packet_timeout=.*/nuauth_packet_timeout=5/' "$LAB_DIR/nuauth.conf"
	# SEND_APP=always: the clients look for every connection's program, as
	# they did before nuauth told them what it needs (the ACL reads none).
	echo "nuauth_client_send_app=${SEND_APP:-auto}" >> "$LAB_DIR/nuauth.conf"
	{
		echo "# the benchmark's desktop users: name:password:uid:groups"
		for ((i = 0; i < USERS; i++)); do
			printf '%s:pw%02d:%d:500\n' "$(user_name $i)" $((i + 1)) $((UID0 + i))
		done
	} > "$LAB_DIR/users.nufw"
	cat > "$LAB_DIR/acls.nufw" <<ACLS
[benchmark users to the server]
decision=1
gid=500
proto=6
DstIP=$SERVER
DstPort=$PORT,80
ACLS

	# Each user's programs and client leave from the user's own address.
	ip netns exec "$NS_C" sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
	ip netns exec "$NS_S" sysctl -qw net.core.somaxconn=65535
	for ((i = 0; i < USERS; i++)); do
		a=$(user_addr $i) table=$((100 + i))
		ip -n "$NS_C" addr add "$a/24" dev c0
		ip -n "$NS_C" route add 10.201.0.0/24 dev c0 src "$a" table $table
		ip -n "$NS_C" route add default via 10.201.0.1 src "$a" table $table
		ip -n "$NS_C" rule add uidrange $((UID0 + i))-$((UID0 + i)) table $table
	done

	lab_rules
	# The mark check: every SYN to the server that leaves the gateway goes
	# through markcheck; those with their user's mark return early, the
	# others reach the last rule, whose counter is the number of wrong marks.
	$ipt -t mangle -N markcheck
	for ((i = 0; i < USERS; i++)); do
		$ipt -t mangle -A markcheck -s "$(user_addr $i)" -m mark --mark $((UID0 + i)) -j RETURN
	done
	$ipt -t mangle -A markcheck -j RETURN
	$ipt -t mangle -A POSTROUTING -d $SERVER -p tcp --syn -j markcheck
}

queue_on() { $ipt -C FORWARD -p tcp --syn -j NFQUEUE --queue-num 0 2>/dev/null ||
		$ipt -A FORWARD -p tcp --syn -j NFQUEUE --queue-num 0; }
queue_off() { $ipt -D FORWARD -p tcp --syn -j NFQUEUE --queue-num 0 2>/dev/null || true; }
# marks_counted: "SYNS WRONG" since the last zeroing ($ipt -t mangle -Z)
marks_counted() {
	local syns wrong
	syns=$($ipt -t mangle -L POSTROUTING -nvx | awk '/markcheck/ { print $1 }')
	wrong=$($ipt -t mangle -L markcheck -nvx | awk '$3 == "RETURN" { last = $1 } END { print last }')
	echo "${syns:-0} ${wrong:-0}"
}

# auth_start_client INDEX HOST: user INDEX's nutcpc, logged in to HOST
# (quiet: its logging is not measured); its PID in CLIENT_PIDS[INDEX].
auth_start_client() {
	local n
	n=$(printf '%02d' $(($1 + 1)))
	lab_start_as "client$n" "$NS_C" $((UID0 + $1)) "$NUTCPC" -H "$2" -U "user$n" \
		-P "pw$n" -A "$LAB_DIR/pki/cacert.pem" -d
	CLIENT_PIDS[$1]=$LAB_PID
}

# auth_wait_clients PATTERN [COUNT] [INDEX...]: each client (every one when
# no INDEX) logged PATTERN COUNT (1) times, within 30 s each.
auth_wait_clients() {
	local pattern=$1 count=${2:-1} i
	shift; [ $# -gt 0 ] && shift
	[ $# -gt 0 ] || set -- $(seq 0 $((USERS - 1)))
	for i in "$@"; do
		lab_wait_log "client$(printf '%02d' $((i + 1)))" "$pattern" 30 "$count" || return 1
	done
}

field() { sed -n "s/.*\\b$2=\\([0-9.]*\\).*/\\1/p" <<< "$1"; }	# field LINE KEY

# phase queued|direct ARGS...: one run of the load for SECS; prints its
# line (and logs it), with the mark check's counts for a queued run.
phase() {
	local mode=$1 line syns wrong; shift
	if [ "$mode" = queued ]; then queue_on; else queue_off; fi
	# The connections of the phase before sit in TIME_WAIT in the gateway's
	# conntrack table: a full table drops SYNs (a second's retransmission
	# each), which would be measured as the next phase's latency.
	ip netns exec "$NS_G" conntrack -F >/dev/null 2>&1
	$ipt -t mangle -Z
	line=$(ip netns exec "$NS_C" "$LOAD" connect -t "$SECS" "$@" $SERVER $PORT $UID0 $UIDN)
	read -r syns wrong <<< "$(marks_counted)"
	[ "$mode" = queued ] && line="$line syns=$syns wrong_marks=$wrong"
	[ -n "$line" ] || line="error: no figures"	# auth_load said why
	echo "$mode $line" >> "$LAB_DIR/phases.log"
	echo "$line"
}

# cpu_ticks PID...: user + system time of those processes, in clock ticks
cpu_ticks() {
	local pid t=0 f
	for pid in "$@"; do
		f=$(cut -d' ' -f14,15 "/proc/$pid/stat" 2>/dev/null) || continue
		t=$((t + ${f% *} + ${f#* }))
	done
	echo $t
}
