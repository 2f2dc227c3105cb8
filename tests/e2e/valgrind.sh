#!/bin/bash
# nuauth and nufw under valgrind memcheck in the namespace lab (as root):
#   tests/e2e/valgrind.sh BUILD_DIR
# Logins (one refused), accepted, refused and rejected connections, a
# connection's end reported with -C, a reload and a logout; then both
# daemons stop and memcheck must report no invalid access and no memory
# definitely or indirectly lost.  Ends with "N passed, N failed".
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed" >&2; exit 2; }
lab_init "${1:-.}"
VG=(valgrind --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --num-callers=30)

lab_netns
lab_pki >/dev/null
lab_nuauth_conf
lab_rules
lab_start_server
lab_start stream "$NS_S" "$NUPROBE" stream 5050
lab_wait_log stream ready
p=$LAB_DIR/pki
lab_start nuauth "$NS_G" "${VG[@]}" "$NUAUTH" -c "$LAB_DIR/nuauth.conf" -v
NUAUTH_PID=$LAB_PID
lab_wait_log nuauth "ready" 60
lab_start nufw "$NS_G" "${VG[@]}" "$NUFW" -d 127.0.0.1 -q 0 -m -C -k "$p/nufw-key.pem" \
	-c "$p/nufw-cert.pem" -a "$p/cacert.pem" -t 10
NUFW_PID=$LAB_PID
lab_wait_log nufw "connected to nuauth" 60

lab_as "$NS_C" $NOBODY_UID \
	timeout 30 "$NUTCPC" -H 10.201.0.1 -U alice -P wrong -A "$p/cacert.pem" -d >/dev/null 2>&1
lab_login alice-client $ALICE_UID alice alicepw 30
ALICE_CLIENT_PID=$LAB_PID
ok=0
for i in 1 2 3; do lab_connect $ALICE_UID 80 5000 >/dev/null && ok=$((ok + 1)); done
lab_connect $ALICE_UID 9090 1500 >/dev/null || ok=$((ok + 1))	# no ACL: refused
lab_connect $ALICE_UID 7070 5000 >/dev/null || ok=$((ok + 1))	# rejected
out=$(lab_as "$NS_C" $ALICE_UID \
	"$NUPROBE" hold 10.202.0.2 5050 1)
port=$(sed -n 's/^connected from .*://p' <<<"$out")
ip netns exec "$NS_G" conntrack -D -p tcp --orig-port-src "$port" --orig-port-dst 5050 >/dev/null 2>&1
lab_wait_log nuauth "user alice: .*:$port -> 10.202.0.2:5050 ended" 20 && ok=$((ok + 1))
kill -HUP "$NUAUTH_PID"
lab_wait_log nuauth "configuration, users and ACLs reloaded" 30 && ok=$((ok + 1))
lab_stop "$ALICE_CLIENT_PID"
lab_wait_log nuauth "logs out" 20 && ok=$((ok + 1))
if [ $ok = 8 ]; then
	pass "the scenario runs under valgrind"
else
	fail "the scenario runs under valgrind" "$ok of 8 steps"
fi

lab_stop "$NUFW_PID"
lab_stop "$NUAUTH_PID"
for d in nuauth nufw; do
	log=$LAB_DIR/$d.log
	if grep -q "ERROR SUMMARY: 0 errors" "$log" && grep -q "definitely lost: 0 bytes" "$log" &&
	   grep -q "indirectly lost: 0 bytes" "$log"; then
		pass "$d: no invalid access and no memory lost under valgrind memcheck"
	elif grep -q "ERROR SUMMARY: 0 errors" "$log" && grep -q "All heap blocks were freed" "$log"; then
		pass "$d: no invalid access and no memory lost under valgrind memcheck"
	else
		fail "$d: no invalid access and no memory lost under valgrind memcheck" \
			"$(grep -A25 -E "Invalid|uninitialised|definitely lost in|indirectly lost in|Syscall param" "$log" | head -60)" \
			"$(grep -E "ERROR SUMMARY|definitely lost:|indirectly lost:" "$log")"
	fi
done
lab_finish
