#!/bin/bash
# Verdict path benchmark (issue "Performance", part 1), as root:
#   bench/verdict_path.sh BUILD_DIR [SECONDS]
# A flood of new TCP flows (raw SYNs from the client namespace) crosses the
# lab's gateway, whose FORWARD chain queues them.  Measured in one run, with
# the same queue settings:
#   - the baseline: bench/nfq_accept, a bare NFQUEUE loop accepting at once;
#   - nufw + nuauth deciding every flow (IP authentication: the guest user's
#     ACL, no client involved), with -m;
# each with one queue, then with two (--queue-balance 0:1, two accept loops
# or nufw -q 0:1).  The figure is packets that reached the server per second
# (the server's interface counter), and the ratio to the baseline.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../tests/e2e/lab.sh"
[ "$(id -u)" = 0 ] || { echo "verdict_path: run as root" >&2; exit 2; }
lab_init "${1:-build}"
SECONDS_RUN=${2:-5}
FLOOD=$BUILD/bench/synflood
ACCEPT=$BUILD/bench/nfq_accept
[ -x "$FLOOD" ] && [ -x "$ACCEPT" ] || { echo "verdict_path: build bench/ first (make)" >&2; exit 2; }

lab_netns
for i in 3 4 5 6 7 8 9; do ip -n "$NS_C" addr add 10.201.0.$i/24 dev c0; done
lab_pki >/dev/null
lab_nuauth_conf
cat >> "$LAB_DIR/nuauth.conf" <<CONF
nuauth_do_ip_authentication=1
CONF
cat >> "$LAB_DIR/acls.nufw" <<ACLS

[bench flood]
gid=300
proto=6
DstPort=9
ACLS
ipt="ip netns exec $NS_G iptables"
$ipt -t mangle -A PREROUTING -j CONNMARK --restore-mark
$ipt -t mangle -A POSTROUTING -m mark ! --mark 0 -j CONNMARK --save-mark
# The server answers SYNs to a closed port with RSTs: keep them off the
# gateway's queue and out of the way.
ip netns exec "$NS_S" iptables -A INPUT -p tcp --dport 9 -j DROP

server_rx() { ip netns exec "$NS_S" cat /sys/class/net/s0/statistics/rx_packets; }

# flood NSRC: SYNs for SECONDS_RUN; prints packets/s that reached the server.
flood() {
	local before after
	before=$(server_rx)
	ip netns exec "$NS_C" "$FLOOD" 10.201.0.2 10.202.0.2 9 "$SECONDS_RUN" "$1" >/dev/null
	after=$(server_rx)
	echo $(( (after - before) / SECONDS_RUN ))
}

queue_rule() {	# queue_rule 1|2
	$ipt -F FORWARD
	if [ "$1" = 1 ]; then
		$ipt -A FORWARD -p tcp --syn -j NFQUEUE --queue-num 0
	else
		$ipt -A FORWARD -p tcp --syn -j NFQUEUE --queue-balance 0:1
	fi
}

baseline() {	# baseline NQUEUES
	local pids=() q rate
	queue_rule "$1"
	for ((q = 0; q < $1; q++)); do
		lab_start "accept$q" "$NS_G" "$ACCEPT" "$q" $((SECONDS_RUN + 30))
		pids+=("$LAB_PID")
		lab_wait_log "accept$q" ready 5
	done
	rate=$(flood 8)
	for q in "${pids[@]}"; do lab_stop "$q"; done
	echo "$rate"
}

with_nufw() {	# with_nufw NQUEUES
	local p=$LAB_DIR/pki rate
	queue_rule "$1"
	lab_start "nufw$1" "$NS_G" "$NUFW" -d 127.0.0.1 -q "0:$(($1 - 1))" -m -T 100000 -t 5 \
		-k "$p/nufw-key.pem" -c "$p/nufw-cert.pem" -a "$p/cacert.pem"
	local pid=$LAB_PID
	lab_wait_log "nufw$1" "connected to nuauth" 10 "$1"
	rate=$(flood 8)
	lab_stop "$pid"
	echo "$rate"
}

# nuauth at its default log level: one log line per decision is not what
# is measured.
lab_start nuauth "$NS_G" "$NUAUTH" -c "$LAB_DIR/nuauth.conf"
lab_wait_log nuauth ready
printf '%-34s %12s %8s\n' "" "packets/s" "ratio"
b1=$(baseline 1); n1=$(with_nufw 1)
printf '%-34s %12s %8s\n' "bare NFQUEUE accept loop, 1 queue" "$b1" "1.00"
printf '%-34s %12s %8s\n' "nufw + nuauth, 1 queue" "$n1" "$(awk "BEGIN { printf \"%.2f\", $n1 / $b1 }")"
b2=$(baseline 2); n2=$(with_nufw 2)
printf '%-34s %12s %8s\n' "bare accept loops, 2 queues" "$b2" "1.00"
printf '%-34s %12s %8s\n' "nufw -q 0:1 + nuauth, 2 queues" "$n2" "$(awk "BEGIN { printf \"%.2f\", $n2 / $b2 }")"
grep -h -e "accepted [0-9]*" -e "verdict messages" "$LAB_DIR"/nufw*.log | sed 's/^/  /' >&2
