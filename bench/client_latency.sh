#!/bin/bash
# Connect latency with the client in push mode (run as root):
#   bench/client_latency.sh BUILD_DIR [N]
# In the namespace lab (tests/e2e/lab.sh), alice's desktop program opens N
# (200) TCP connections one after the other, each timed from connect() to
# the server's greeting, first with the gateway's NFQUEUE rule (SYN -> nufw
# -> nuauth -> PUSH -> client's exact sock_diag look-up -> ANNOUNCE ->
# DECISION -> verdict), then without it.  Prints p50/p99 of both and the
# difference: what authenticating a connection costs.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../tests/e2e/lab.sh"

[ "$(id -u)" = 0 ] || { echo "client_latency.sh: the lab needs root" >&2; exit 2; }
lab_init "${1:-.}"
N=${2:-200}
ALICE_UID=2001

# pct FILE P: the P-th percentile of the numbers in FILE (nearest rank).
pct() {
	sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END {
		i = int((p / 100) * NR + 0.999999); if (i < 1) i = 1; print v[i] }'
}

measure() {	# measure FILE: N timed connects into FILE (microseconds)
	lab_as "$NS_C" $ALICE_UID \
		"$NUPROBE" connects 10.202.0.2 80 "$N" > "$1"
}

lab_netns
lab_pki
lab_nuauth_conf
sed -i 's/^nuauth_packet_timeout=.*/nuauth_packet_timeout=5/' "$LAB_DIR/nuauth.conf"
lab_rules
lab_start_server
lab_start_nuauth
lab_start_nufw
# The lab's client, quiet: debug logging would be measured too.
lab_start_as alice-client "$NS_C" $ALICE_UID "$NUTCPC" -H 10.201.0.1 -U alice -P alicepw \
	-A "$LAB_DIR/pki/cacert.pem" -d
lab_wait_log alice-client "logged in"
# nuauth and nufw at their quiet level too
lab_stop "$NUAUTH_PID"
lab_start nuauth "$NS_G" "$NUAUTH" -c "$LAB_DIR/nuauth.conf"
NUAUTH_PID=$LAB_PID
sleep 1
lab_wait_log alice-client "logged in again" 20

measure "$LAB_DIR/warm.us"		# warm caches, ARP, conntrack
measure "$LAB_DIR/queued.us"
ip netns exec "$NS_G" iptables -D FORWARD -p tcp --syn -j NFQUEUE --queue-num 0
measure "$LAB_DIR/direct.us"

q50=$(pct "$LAB_DIR/queued.us" 50) q99=$(pct "$LAB_DIR/queued.us" 99)
d50=$(pct "$LAB_DIR/direct.us" 50) d99=$(pct "$LAB_DIR/direct.us" 99)
echo "connects: $(wc -l < "$LAB_DIR/queued.us") authenticated, $(wc -l < "$LAB_DIR/direct.us") direct (of $N each)"
echo "authenticated (SYN -> nufw -> nuauth -> push -> client -> verdict): p50 ${q50} us, p99 ${q99} us"
echo "direct (no queue rule):                                           p50 ${d50} us, p99 ${d99} us"
echo "added by authentication:                                          p50 $((q50 - d50)) us, p99 $((q99 - d99)) us"
