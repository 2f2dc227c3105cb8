#!/bin/bash
# Readiness notification (systemd Type=notify, the sd_notify datagram
# protocol): with $NOTIFY_SOCKET set, nuauth sends READY=1 once it listens
# and nufw once its queue is bound, and both send STOPPING=1 when they exit.
# Both a socket path and an abstract name (@name) are tried.  With
# $WATCHDOG_USEC (WatchdogSec=) both send WATCHDOG=1 every half interval.
# With $JOURNAL_STREAM naming stderr (systemd's stream to journald) the log
# lines start with their priority ("<4>") and carry no timestamp.  Runs in a
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
nuauth_control_socket="$work/control"
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
        if msg == "WATCHDOG=1":
            f.write("at %.3f\n" % time.monotonic())
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

# watchdog_case LABEL SOCKET COMMAND...: runs COMMAND with NOTIFY_SOCKET,
# WATCHDOG_USEC=600000 and WATCHDOG_PID set to its own PID (exec keeps it);
# expects WATCHDOG=1 at least 4 times, about every 300 ms.
watchdog_case() {
	local label=$1 sock=$2 out=$work/wd.$RANDOM pid lpid n gaps; shift 2
	if ! listen "$sock" "$out" 0; then
		fail "$label" "the test's listener did not start"; return
	fi
	lpid=${pids[-1]}
	NOTIFY_SOCKET=$sock WATCHDOG_USEC=600000 bash -c 'WATCHDOG_PID=$$ exec "$@"' sh "$@" \
		> "$out.log" 2>&1 &
	pid=$!
	pids+=($pid)
	for _ in $(seq 100); do
		[ "$(grep -c '^WATCHDOG=1$' "$out" 2>/dev/null)" -ge 5 ] && break; sleep 0.1
	done
	n=$(grep -c '^WATCHDOG=1$' "$out")
	# The gaps between pings (the first is sent at READY=1), in ms.
	gaps=$(awk '/^at /{ if (t) printf "%d ", ($2 - t) * 1000; t = $2 }' "$out")
	if [ "$n" -ge 5 ] && awk -v g="$gaps" 'BEGIN { n = split(g, a, " ");
		for (i = 2; i <= n; i++) if (a[i] < 150 || a[i] > 1200) exit 1 }'; then
		pass "$label: WATCHDOG=1 repeatedly, every ~300 ms (gaps: $gaps)"
	else
		fail "$label: WATCHDOG=1 repeatedly, every ~300 ms" "$n received, gaps: $gaps" \
			"$(tail -5 "$out.log")"
	fi
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	wait "$lpid" 2>/dev/null
}

watchdog_case "nuauth, watchdog" "$work/wd1.sock" "$build/src/nuauth/nuauth" -c "$work/nuauth.conf"
watchdog_case "nufw, watchdog" "$work/wd2.sock" \
	"$build/src/nufw/nufw" -q 8 -k "$p/nufw-key.pem" -c "$p/nufw-cert.pem" -a "$p/cacert.pem"

# WATCHDOG_PID of another process: the watchdog is not nuauth's.
out=$work/wd3
if listen "$work/wd3.sock" "$out" 0; then
	lpid=${pids[-1]}
	NOTIFY_SOCKET=$work/wd3.sock WATCHDOG_USEC=200000 WATCHDOG_PID=1 \
		"$build/src/nuauth/nuauth" -c "$work/nuauth.conf" > "$out.log" 2>&1 &
	pid=$!
	pids+=($pid)
	for _ in $(seq 100); do grep -q '^READY=1$' "$out" 2>/dev/null && break; sleep 0.1; done
	# Time for three pings at 100 ms had the watchdog been taken.
	sleep 0.5
	kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; wait "$lpid" 2>/dev/null
	if grep -q '^READY=1$' "$out" && ! grep -q '^WATCHDOG=1$' "$out"; then
		pass "WATCHDOG_PID of another process: no WATCHDOG=1"
	else
		fail "WATCHDOG_PID of another process: no WATCHDOG=1" "$(cat "$out")"
	fi
fi

# journald: stderr to a file, JOURNAL_STREAM set to that file's device and
# inode, as systemd sets it for a stream to the journal.  An unknown key
# gives a warning: "<4>warning: ...", the ready line is a notice ("<5>"),
# and no line has a timestamp of its own.
cp "$work/nuauth.conf" "$work/nuauth-warn.conf"
echo "nuauth_no_such_key=1" >> "$work/nuauth-warn.conf"
jlog=$work/journal.log
: > "$jlog"
JOURNAL_STREAM=$(stat -c %d:%i "$jlog") timeout -s TERM 2 \
	"$build/src/nuauth/nuauth" -c "$work/nuauth-warn.conf" 2>> "$jlog"
if grep -q "^<4>warning: .*nuauth-warn.conf:[0-9]*: unknown key .nuauth_no_such_key' ignored$" "$jlog" &&
   grep -q '^<5>notice: nuauth .* ready' "$jlog" &&
   ! grep -qv '^<[0-7]>' "$jlog" && ! grep -q '[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]' "$jlog"; then
	pass "JOURNAL_STREAM on stderr: <4> on a warning, <5> on a notice, no timestamp"
else
	fail "JOURNAL_STREAM on stderr: <4> on a warning, <5> on a notice, no timestamp" \
		"$(cat "$jlog")"
fi
# Another file's dev:ino (stderr is not the journal): the usual lines.
: > "$jlog"
JOURNAL_STREAM=$(stat -c %d:%i "$work/nuauth.conf") timeout -s TERM 2 \
	"$build/src/nuauth/nuauth" -c "$work/nuauth-warn.conf" 2>> "$jlog"
if grep -q '^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]* nuauth\[[0-9]*\] warning: .*unknown key' "$jlog" &&
   ! grep -q '^<[0-7]>' "$jlog"; then
	pass "JOURNAL_STREAM naming another file: lines unchanged (timestamp, no <N>)"
else
	fail "JOURNAL_STREAM naming another file: lines unchanged (timestamp, no <N>)" \
		"$(cat "$jlog")"
fi
# nufw too (its start-up notice).
: > "$jlog"
JOURNAL_STREAM=$(stat -c %d:%i "$jlog") timeout -s TERM 2 \
	"$build/src/nufw/nufw" -q 9 -k "$p/nufw-key.pem" -c "$p/nufw-cert.pem" -a "$p/cacert.pem" \
	2>> "$jlog"
if grep -q '^<5>notice: ' "$jlog" && ! grep -qv '^<[0-7]>' "$jlog"; then
	pass "nufw with JOURNAL_STREAM on stderr: <N> prefixes"
else
	fail "nufw with JOURNAL_STREAM on stderr: <N> prefixes" "$(cat "$jlog")"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
