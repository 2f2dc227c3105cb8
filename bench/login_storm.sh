#!/bin/bash
# Login storm and memory (issue "Performance", part 3), as root:
#   bench/login_storm.sh BUILD_DIR [N] [MECH]
# In the namespace lab (tests/e2e/lab.sh), bench/login_storm logs N (10,000)
# synthetic clients, built on libnuclient, in to nuauth with the SASL
# mechanism MECH (PLAIN), WORKERS (4) logins in flight, each as a user of
# its own (a generated plaintext users file), and keeps them logged in and
# idle.  Reports logins per second (wall clock: the storm and nuauth share
# the machine), nuauth's CPU time per login (what one core of nuauth could
# do alone), and nuauth's resident memory per idle session:
# (VmRSS with N sessions - VmRSS before the storm) / N.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../tests/e2e/lab.sh"
[ "$(id -u)" = 0 ] || { echo "login_storm.sh: run as root" >&2; exit 2; }
lab_init "${1:-build}"
N=${2:-10000}
MECH=${3:-PLAIN}
WORKERS=${WORKERS:-4}
STORM=$BUILD/bench/login_storm
UID0=30001
[ -x "$STORM" ] || { echo "login_storm.sh: build bench/ first (make)" >&2; exit 2; }

lab_netns
lab_pki >/dev/null
lab_nuauth_conf
{
	echo "# the storm's synthetic users: name:password:uid:groups"
	for ((k = 1; k <= N; k++)); do
		echo "s$k:pw$k:$((UID0 + k)):600"
	done
} > "$LAB_DIR/users.nufw"
# All the sessions come from one address: no per-address limits.
printf 'nuauth_single_ip_client_limit=0\nnuauth_single_ip_prelogin_limit=0\n' >> "$LAB_DIR/nuauth.conf"
ip netns exec "$NS_C" sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
ip netns exec "$NS_G" sysctl -qw net.core.somaxconn=65535

# jiffies of CPU (user + system) nuauth has used
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

# nuauth at its default (quiet) level: a log line per login is not measured.
lab_start nuauth "$NS_G" "$NUAUTH" -c "$LAB_DIR/nuauth.conf"
NUAUTH_PID=$LAB_PID
lab_wait_log nuauth ready
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)"
echo "nuauth's open files limit: $(awk '/Max open files/ { print $4 }' "/proc/$NUAUTH_PID/limits")"
rss0=$(rss_kb "$NUAUTH_PID") cpu0=$(cpu_ticks "$NUAUTH_PID")

lab_start storm "$NS_C" "$STORM" -n "$N" -w "$WORKERS" -M "$MECH" -H 10.201.0.1 \
	-A "$LAB_DIR/pki/cacert.pem"
STORM_PID=$LAB_PID
lab_wait_log storm holding $((N / 50 + 60)) || exit 1
cpu1=$(cpu_ticks "$NUAUTH_PID")
# Every login has had its answer; give nuauth a moment to read the clients'
# last messages, then take its size twice, a second apart.
sleep 1
rss1=$(rss_kb "$NUAUTH_PID")
sleep 1
rss2=$(rss_kb "$NUAUTH_PID")
line=$(grep '^logged in' "$LAB_DIR/storm.log")
ok=$(sed -n 's/^logged in \([0-9]*\) of.*/\1/p' <<< "$line")
hz=$(getconf CLK_TCK)

printf '\nlogin storm: %d sessions, %s, %d logins in flight\n' "$N" "$MECH" "$WORKERS"
echo "  $line"
grep 'failed, the first' "$LAB_DIR/storm.log" | sed 's/^/  /'
if [ "${ok:-0}" -gt 0 ]; then
	awk -v t=$((cpu1 - cpu0)) -v hz="$hz" -v ok="$ok" 'BEGIN {
		us = t * 1e6 / hz / ok
		printf "  nuauth CPU per login: %.0f us (one core of nuauth alone: %.0f logins/s)\n",
			us, us ? 1e6 / us : 0 }'
	awk -v a="$rss0" -v b="$rss2" -v n="$ok" 'BEGIN {
		printf "  nuauth VmRSS: %d kB idle, %d kB with %d sessions: %.1f KiB per session\n",
			a, b, n, (b - a) / n }'
	echo "  (VmRSS a second earlier: $rss1 kB)"
fi
lab_stop "$STORM_PID"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)"
[ "${ok:-0}" = "$N" ]
