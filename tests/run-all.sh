#!/bin/bash
# Installs what is missing, builds, and runs every test:
#   - the unit tests (make check) in a normal build,
#   - the same unit tests with AddressSanitizer and UBSan,
#   - the end-to-end tests in the namespace lab (as root), also with the
#     sanitizer build, the QoS recipes, composed marks and the client,
#   - each libFuzzer harness for a few seconds,
#   - make distcheck.
# The last line is "N passed, N failed".  Run as root: sudo tests/run-all.sh
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)
passed=0 failed=0

count_unit() {	# count_unit BUILD_DIR: adds make check's results (the unit
	# tests, then the fuzz corpora's replays)
	local log p f
	for log in "$1/tests/test-suite.log" "$1/tests/fuzz/test-suite.log"; do
		p=$(sed -n 's/^# PASS: *//p' "$log" 2>/dev/null | head -1)
		f=$(sed -n 's/^# FAIL: *//p' "$log" 2>/dev/null | head -1)
		passed=$((passed + ${p:-0}))
		failed=$((failed + ${f:-0}))
		if [ -z "$p" ]; then
			echo "FAIL: no test results in $log"
			failed=$((failed + 1))
		fi
	done
}

build() {	# build DIR CONFIGURE_ARGS...: configure and build out of tree
	local dir=$1; shift
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" -q "$@" && make -s -j"$jobs") > "$dir.build.log" 2>&1
}

step() { echo; echo "=== $*"; }

if [ "$(id -u)" = 0 ]; then
	scripts/install-deps.sh
else
	# Counted as a failure below: a run without the lab proves too little
	# to pass.
	echo "run-all: not root: skipping the package installation and the lab" >&2
fi

step "autogen"
./autogen.sh > /dev/null 2>&1 || { echo "autogen failed"; echo "0 passed, 1 failed"; exit 1; }

step "build and unit tests"
if build build; then
	(cd build && make -s check > ../build.check.log 2>&1)
	grep -E '^(PASS|FAIL|ERROR)' build.check.log
	count_unit build
else
	echo "FAIL: build (see build.build.log)"; tail -20 build.build.log
	failed=$((failed + 1))
fi

step "unit tests under AddressSanitizer and UndefinedBehaviorSanitizer"
if build build-asan --enable-sanitizers; then
	(cd build-asan && ASAN_OPTIONS=detect_leaks=1 make -s check > ../build-asan.check.log 2>&1)
	grep -E '^(PASS|FAIL|ERROR)' build-asan.check.log | sed 's/^/asan /'
	count_unit build-asan
else
	echo "FAIL: sanitizer build (see build-asan.build.log)"; tail -20 build-asan.build.log
	failed=$((failed + 1))
fi

# run_counted LOG COMMAND...: runs a script that ends with "N passed, N
# failed" and adds its counts.
run_counted() {
	local log=$1 line; shift
	"$@" 2>&1 | tee "$log"
	line=$(tail -1 "$log")
	if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
	else
		echo "FAIL: $* ended early"
		failed=$((failed + 1))
	fi
}

step "client-only build (configure --disable-gateway)"
run_counted build.client.log tests/client-build-test.sh

if [ "$(id -u)" = 0 ]; then
	step "install into a prefix"
	run_counted build.install.log tests/install-test.sh
	if [ -x build/src/nuauth/nuauth ]; then
		# Each suite: the script under tests/ and what it covers.
		while IFS='|' read -r script title; do
			step "$title"
			run_counted "build.$(basename "$script" .sh).log" "tests/$script" build </dev/null
		done <<'SUITES'
notify-test.sh|systemd: readiness (NOTIFY_SOCKET), watchdog, journald priorities (JOURNAL_STREAM)
deb-test.sh|Debian packages: built, lintian, installed with dpkg -i and run in the lab, removed, purged
e2e/run.sh|end-to-end tests in the namespace lab
e2e/qos.sh|routing and QoS recipes in the namespace lab
e2e/firewall.sh|the shipped firewall (nufw-qos restore, nufw-firewall): both families, FORWARD policy, clean removal
e2e/marks.sh|composed marks (mark_uid and mark_group) in the namespace lab
e2e/bridge.sh|a bridging gateway: physindev=/physoutdev= ACLs, marks on bridged connections
e2e/periods.sh|time periods (periods module, connections ended with them)
e2e/control.sh|the control socket and nuauthctl
e2e/twohost.sh|nuauth and nufw on different hosts: nufw -d by address, name checks both ways
e2e/metrics.sh|Prometheus metrics: promtool passes on a scrape, counters match the traffic, GW_STATS
e2e/radius.sh|identity from RADIUS accounting (FreeRADIUS, radclient): address sessions, origin=, a client's claims first
e2e/portal.sh|the login page (HTTPS, libmicrohttpd): login, throttles, logout, idle timeout, headless Chromium screenshots
e2e/client.sh|the desktop client (libnuclient, nutcpc)
e2e/desktop.sh|the desktop: notifications, org.nufw.Client1 on the session bus, reconnection back-off
e2e/pam.sh|pam_nufw: the session starts the client with the login password (pamtester)
e2e/trust.sh|the client claims only what it can prove: a LAN host forging from a user's address
e2e/auth.sh|logins: SCRAM-SHA-256, PLAIN, client certificates (EXTERNAL, CRL)
e2e/faults.sh|faults and abuse: idle crowds, failed logins, SIGKILL
e2e/packets.sh|the packet path: reject kinds, reject after timeout, logins per address, non-first TCP packets, nufw -C -M
e2e/tls.sh|TLS: certificates from another CA, expired, revoked, bad keys and CRLs, seen by nutcpc, nuauth and nufw
e2e/shared.sh|a shared desktop: claims only for packets that wait, a hostile user's claims
e2e/flood.sh|fairness and bounds: one user floods, another connects; per-address limits
e2e/hooks.sh|session and decision hooks (log_syslog, session_expire, script)
e2e/authtype.sh|session_authtype: logins allowed or refused by group and by how the user logged in
e2e/nufw_cases.sh|NuFW's cases: composed marks and flags, ICMP ACLs, two gateways, syslog
e2e/pair.sh|a gateway pair: keepalived and conntrackd, takeovers keep connections and marks
e2e/cluster.sh|a nuauth cluster: three etcd members, two nodes, kill -9 of one under steady connects
e2e/sessions.sh|session limits, failed-login locks, crypt passwords, nuauth -t
e2e/pgsql.sh|log_pgsql against a PostgreSQL server of the test's own
e2e/ldap.sh|users, groups, passwords and ACLs from LDAP (a slapd of its own)
e2e/valgrind.sh|nuauth and nufw under valgrind memcheck
bench-smoke.sh|benchmarks still run and print figures (short smoke run, no targets)
SUITES
	fi
	if [ -x build-asan/src/nuauth/nuauth ]; then
		step "end-to-end tests with the sanitizer build"
		# Leaks at exit are not checked here (the daemons end on a signal
		# with their state still allocated); memory errors and undefined
		# behaviour are, in every daemon's log.
		ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
			run_counted build-asan.e2e.log tests/e2e/run.sh build-asan
	fi
fi

if [ "$(id -u)" != 0 ]; then
	echo "FAIL: the install test and the namespace lab need root (sudo tests/run-all.sh)"
	failed=$((failed + 1))
fi

step "fuzzing every decoder and parser briefly (libFuzzer, clang)"
run_counted build.fuzz.log tests/fuzz/run.sh build-fuzz "${FUZZ_SECONDS:-10}"

step "compiler warnings"
# Every build is warning-free (-Wall -Wextra and more, configure.ac; the
# fuzz build with clang): a warning in our code is a failure, not noise to
# scroll past.
# The check logs hold the unit tests' and the lab tools' builds.
logs=(build.build.log build.check.log build-asan.build.log build-asan.check.log
	build-fuzz/fuzz-build.log)
if cat "${logs[@]}" 2>/dev/null | grep -E "^[^ ]*\.[ch]:[0-9]+:[0-9]+: warning:" > build.warnings.log; then
	echo "FAIL: the builds have compiler warnings"; head -20 build.warnings.log
	failed=$((failed + 1))
else
	echo "PASS: no compiler warning in the gcc, sanitizer and clang (fuzz) builds"
	passed=$((passed + 1))
fi

step "make distcheck"
if (cd build && make -s distcheck > ../build.distcheck.log 2>&1); then
	echo "PASS: make distcheck"
	passed=$((passed + 1))
else
	echo "FAIL: make distcheck (see build.distcheck.log)"; tail -30 build.distcheck.log
	failed=$((failed + 1))
fi

echo
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
