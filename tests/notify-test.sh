#!/bin/bash
# Readiness notification (systemd Type=notify, the sd_notify datagram
# protocol): with $NOTIFY_SOCKET set, nuauth sends READY=1 once it listens
# and nufw once its queue is bound, and both send STOPPING=1 when they exit.
# Both a socket path and an abstract name (@name) are tried.  Runs in a
# private network namespace (unshare -n), as root.
#   tests/notify-test.sh BUILD_DIR
# Prints PASS/FAIL lines and "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)

if [ -z "${NOTIFY_TEST_IN_NS:-}" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "notify-test: needs root (unshare -n)"; echo "0 passed, 1 failed"; exit 1
	fi
	NOTIFY_TEST_IN_NS=1 exec unshare -n bash "${BASH_SOURCE[0]}" "$build"
fi
ip link set lo up

work=$(mktemp -d /tmp/nunotify.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
passed=0 failed=0
pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1"; shift; [ $# -gt 0 ] && printf '    %s\n' "$@"; failed=$((failed + 1)); }

NUAUTHCTL=$build/src/nuauthctl/nuauthctl bash "$top/tests/e2e/pki.sh" "$work/pki" nuauth.lab 127.0.0.1 \
	>/dev/null
cat > "$work/nuauth.conf" <<CONF
nuauth_tls_key="$work/pki/nuauth-key.pem"
nuauth_tls_cert="$work/pki/nuauth-cert.pem"
nuauth_tls_cacert="$work/pki/cacert.pem"
nuauth_module_path="$build/modules/.libs"
plaintext_userfile="$work/users.nufw"
plaintext_aclfile="$top/conf/acls.nufw"
CONF
install -m 600 "$top/conf/users.nufw" "$work/users.nufw"

# listen SOCKET OUT PORT: receives datagrams on SOCKET (a path or @name),
# one line each in OUT; after READY=1 it notes whether 127.0.0.1:PORT
# accepts connections (PORT 0: no check).  Ends after STOPPING=1 or 20 s.
listen() {
	python3 - "$@" <<'PY' &
import socket, sys, time
name, out, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + name[1:] if name.startswith("@") else name)
open(out + ".bound", "w").close()
s.settimeout(20)
with open(out, "w") as f:
    end = time.time() + 20
    while time.time() < end:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            break
        f.write(msg + "\n")
        if msg == "READY=1" and port:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                f.write("port open\n")
            except OSError as e:
                f.write("port closed: %s\n" % e)
        f.flush()
        if msg == "STOPPING=1":
            break
PY
	pids+=($!)
	for _ in $(seq 50); do [ -e "$2.bound" ] && return 0; sleep 0.1; done
	return 1
}

# run_case LABEL SOCKET PORT COMMAND...: runs COMMAND with NOTIFY_SOCKET,
# waits for READY=1, stops it with SIGTERM and expects STOPPING=1.
run_case() {
	local label=$1 sock=$2 port=$3 out=$work/got.$RANDOM pid lpid; shift 3
	if ! listen "$sock" "$out" "$port"; then
		fail "$label" "the test's listener did not start"; return
	fi
	lpid=${pids[-1]}
	NOTIFY_SOCKET=$sock "$@" > "$out.log" 2>&1 &
	pid=$!
	pids+=($pid)
	for _ in $(seq 100); do grep -q '^READY=1$' "$out" 2>/dev/null && break; sleep 0.1; done
	if ! grep -q '^READY=1$' "$out"; then
		fail "$label: READY=1" "received: $(cat "$out")" "$(tail -5 "$out.log")"
	elif [ "$port" != 0 ] && ! grep -q '^port open$' "$out"; then
		fail "$label: READY=1 once listening" "$(cat "$out")"
	else
		pass "$label: READY=1$([ "$port" = 0 ] || echo " once listening")"
	fi
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	wait "$lpid" 2>/dev/null
	if grep -q '^STOPPING=1$' "$out"; then
		pass "$label: STOPPING=1 on exit"
	else
		fail "$label: STOPPING=1 on exit" "received: $(cat "$out")" "$(tail -5 "$out.log")"
	fi
}

run_case "nuauth, socket path" "$work/notify.sock" 4128 \
	"$build/src/nuauth/nuauth" -c "$work/nuauth.conf"
run_case "nuauth, abstract socket" "@nufw-notify-test-$$" 4129 \
	"$build/src/nuauth/nuauth" -c "$work/nuauth.conf"
p=$work/pki
run_case "nufw, socket path" "$work/notify2.sock" 0 \
	"$build/src/nufw/nufw" -q 7 -k "$p/nufw-key.pem" -c "$p/nufw-cert.pem" -a "$p/cacert.pem"

# Without NOTIFY_SOCKET nothing changes; a bad value is reported, not fatal.
out=$(NOTIFY_SOCKET=relative/path timeout -s TERM 2 "$build/src/nuauth/nuauth" -c "$work/nuauth.conf" 2>&1)
if grep -q "NOTIFY_SOCKET: .relative/path' is not" <<<"$out" && grep -q "ready" <<<"$out"; then
	pass "a bad NOTIFY_SOCKET is logged and nuauth runs on"
else
	fail "a bad NOTIFY_SOCKET is logged and nuauth runs on" "$out"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
