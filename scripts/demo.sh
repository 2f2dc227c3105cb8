#!/bin/bash
# The demonstration: installs what is missing, builds, starts the lab of
# tests/e2e/lab.sh (client, gateway and server namespaces, a generated PKI,
# the plaintext users and ACLs), logs alice in with nutcpc and shows her
# connection crossing the gateway with her mark.  Run as root:
#   sudo scripts/demo.sh
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
[ "$(id -u)" = 0 ] || { echo "demo: run as root (it creates network namespaces)" >&2; exit 1; }

scripts/install-deps.sh
# Built, or brought up to date when an earlier build is there.
echo "building..."
[ -x configure ] || ./autogen.sh >/dev/null 2>&1
mkdir -p build
if ! (cd build && { [ -f Makefile ] || "$top/configure" -q; } &&
      make -s -j"$(nproc)" && make -s -C tests e2e/nuprobe) > build/demo-build.log 2>&1; then
	echo "demo: the build failed; see build/demo-build.log" >&2
	tail -20 build/demo-build.log >&2
	exit 1
fi

. tests/e2e/lab.sh
lab_init build
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }

say "1. Lab: client 10.201.0.2 -- 10.201.0.1 gateway 10.202.0.1 -- 10.202.0.2 server"
lab_netns
lab_pki >/dev/null
lab_nuauth_conf
lab_rules
ip netns exec "$NS_G" iptables -S FORWARD | sed 's/^/   gateway: /'
ip netns exec "$NS_G" iptables -t mangle -S | grep CONNMARK | sed 's/^/   gateway: /'
lab_start_server

say "2. nuauth and nufw start on the gateway"
lab_start_nuauth
lab_start_nufw
grep -h "ready\|connected to nuauth" "$LAB_DIR/nuauth.log" "$LAB_DIR/nufw.log" | sed 's/^/   /'

say "3. Before login, the desktop user's connection to the server's port 80 fails"
lab_connect 2001 80 3500 | sed 's/^/   /' || true

say "4. alice logs in with nutcpc (desktop uid 2001; uid 1001 in nuauth's users file)"
lab_login alice 2001 alice alicepw
sed 's/^/   /' "$LAB_DIR/alice.log" | grep "logged in"

say "5. Now her connection is accepted..."
out=$(lab_connect 2001 80)
echo "   $out"
port=${out##*:}
grep "user alice: .*:$port -> .*accepted" "$LAB_DIR/nuauth.log" | sed 's/^/   nuauth: /'

say "6. ...and the gateway's conntrack entry carries her mark"
ip netns exec "$NS_G" conntrack -L -p tcp --sport "$port" --dport 80 2>/dev/null | sed 's/^/   /'

say "7. A port no ACL allows stays closed to her"
lab_connect 2001 9090 2500 | sed 's/^/   /' || true

if [ -t 0 ]; then
	say "The lab runs on (namespaces $NS_C, $NS_G, $NS_S). Press Enter to tear it down."
	read -r _
fi
