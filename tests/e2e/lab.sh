# The three-namespace lab, sourced by the end-to-end tests.
#
#   client 10.201.0.2 --- 10.201.0.1 gateway 10.202.0.1 --- 10.202.0.2 server
#
# The gateway runs nuauth and nufw; its FORWARD chain queues new TCP
# connections to nufw, and CONNMARK keeps the verdict's mark on the whole
# connection.  Every address lives only inside these namespaces.  lab_down
# ends every process the lab started and removes the namespaces, and runs on
# any exit once lab_init has been called.

LAB_HERE=$(dirname "${BASH_SOURCE[0]}")	# tests/e2e, for abuse.py and pki.sh
LAB_ID=$$
NS_C=nulab-c-$LAB_ID
NS_G=nulab-g-$LAB_ID
NS_S=nulab-s-$LAB_ID
NS_A=nulab-a-$LAB_ID	# lab_auth_host's, when a suite makes it
LAB_EXTRA_NS=()		# a suite's own namespaces, removed with the lab's
LAB_EXTRA_DIRS=()	# a suite's own directories outside LAB_DIR (tmpfs), the same
LAB_PIDS=()
LAB_ONLY=()

# Test bookkeeping shared by the runners: PASS/FAIL lines, and lab_finish
# for the tally that closes each run.
passed=0 failed=0
pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1"; shift; [ $# -gt 0 ] && printf '    %s\n' "$@"; failed=$((failed + 1)); }

# The lab's desktop users: local uids on the client machine, with no
# account there.  None is a uid of nuauth's users file (1001, 1002, 3000)
# nor of the lab's directory (1101-1103, 3100), so a mark tells which side
# it came from.  Labs running side by side may share them: each lab gives
# each uid its own XDG_RUNTIME_DIR (lab_user_dir), where nutcpc keeps its
# lock.  Every suite takes its desktop uids from this table.
ALICE_UID=2001		# logs in as alice
BOB_UID=2002		# logs in as bob
NOBODY_UID=2003		# never logs in: its connections are nobody's
CAROL_UID=2004		# a third account (carol, or alice once more)
ALICE2_UID=2005		# alice's second desktop account
BIG_UID=2006		# marks.sh: users whose uid does not fit the mark, ...
TWIN_UID=2007		# ... shares another's mark ...
ZERO_UID=2008		# ... or is 0
PROBE_UID=2009		# short-lived clients that check a login and leave
ACL_UID=2010		# ldap.sh: alice under the ACLs from LDAP
REFRESH_UID=2011	# ldap.sh: alice under ldap_acls_refresh
GUEST_UID=2012		# leaves from a host without client (10.201.0.50)
UPPER_UID=2013		# alice typing her name as ALICE
DAVE_UID=2014		# nufw_cases.sh: dave, whom no ACL lets ping
PAM_UID=2099		# pam.sh: the user pam_nufw logs in; a passwd entry of the test's own
			# for this uid sends every nutcpc of it to that home, so no other
			# suite may use it (far from the table's next numbers)

# Checks: each prints one PASS or FAIL line under NAME, with what went
# wrong as the FAIL's detail lines.
#
# check NAME COMMAND...: passes when COMMAND succeeds; else fails with its
# output.
check() {
	local name=$1 out; shift
	if out=$("$@" 2>&1); then
		pass "$name"
	else
		fail "$name" "$out"
	fi
}

# check_not NAME COMMAND...: passes when COMMAND fails (a refused
# connection); else fails with its output.
check_not() {
	local name=$1 out; shift
	if out=$("$@" 2>&1); then
		fail "$name" "$out"
	else
		pass "$name"
	fi
}

# same GOT WANT: GOT is the text WANT; else says what it is.
same() {
	[ "$1" = "$2" ] && return 0
	echo "got \`$1', wanted \`$2'"
	return 1
}

# status_says STATUS WANT TEXT OUTPUT: a program ended with STATUS, which is
# WANT (a number, or "error": neither 0 nor timeout's 124), and its OUTPUT
# holds TEXT; else says what it was.
status_says() {
	local ok=0
	if [ "$2" = error ]; then
		[ "$1" -ne 0 ] && [ "$1" -ne 124 ] && ok=1
	else
		[ "$1" -eq "$2" ] && ok=1
	fi
	[ $ok = 1 ] && grep -qF -- "$3" <<<"$4" && return 0
	printf 'status %s (wanted %s), wanted `%s'"'"' in:\n%s\n' "$1" "$2" "$3" "$4"
	return 1
}

# matches TEXT PATTERN: TEXT has a line matching PATTERN (grep's); else
# prints TEXT.
matches() {
	grep -q -- "$2" <<<"$1" && return 0
	echo "$1"
	return 1
}

# check_log NAME LOGNAME PATTERN [SECONDS [COUNT]]: passes when LOGNAME's
# log shows PATTERN COUNT times (1), waiting up to SECONDS (10, as
# lab_wait_log; 0: as the log is now); else fails with the log's last lines.
check_log() {
	if lab_wait_log "$2" "$3" "${4:-10}" "${5:-1}" 2>/dev/null; then
		pass "$1"
	else
		fail "$1" "no \`$3' (x${5:-1}) in $2.log:" "$(tail -8 "$LAB_DIR/$2.log" 2>/dev/null)"
	fi
}

# check_count NAME LOGNAME PATTERN N: passes when LOGNAME's log has N lines
# matching PATTERN now (a line logged once, not once per retry); else fails
# with how many it has.
check_count() {
	local n
	n=$(grep -c -- "$3" "$LAB_DIR/$2.log" 2>/dev/null)
	if [ "${n:-0}" = "$4" ]; then
		pass "$1"
	else
		fail "$1" "${n:-0} lines of \`$3' in $2.log, wanted $4"
	fi
}

# lab_connect_marked LOCAL_UID PORT MARK [MS]: the connection is accepted
# and carries MARK (a number, 0x... too) in the gateway's conntrack; else
# prints what was seen.
lab_connect_marked() {
	local out port mark
	out=$(lab_connect "$1" "$2" "${4:-3000}") && port=${out##*:} &&
		mark=$(lab_ct_mark "$port" "$2") && [ -n "$mark" ] && [ "$mark" -eq "$(($3))" ] &&
		return 0
	echo "connect: $out; mark=${mark:-none}, wanted $(($3))"
	return 1
}

# check_mark NAME LOCAL_UID PORT MARK [MS]: lab_connect_marked as a check.
check_mark() {
	local name=$1; shift
	check "$name" lab_connect_marked "$@"
}

# abuse SRC ARGS...: tests/e2e/abuse.py in the client namespace, to the
# lab's nuauth (10.201.0.1) from the address SRC (0.0.0.0: any), trusting
# the lab's CA.
abuse() {
	local src=$1; shift
	ip netns exec "$NS_C" env NUAUTH=10.201.0.1 CA="$LAB_DIR/pki/cacert.pem" SRC="$src" \
		python3 "$LAB_HERE/abuse.py" "$@"
}

# abuse_start NAME SRC ARGS...: the same in the background (lab_start).
abuse_start() {
	local name=$1 src=$2; shift 2
	lab_start "$name" "$NS_C" env NUAUTH=10.201.0.1 CA="$LAB_DIR/pki/cacert.pem" SRC="$src" \
		python3 "$LAB_HERE/abuse.py" "$@"
}

# lab_tests TEST...: runs the test functions TEST in this order; when the
# suite was given test names after BUILD_DIR (lab_init), only those of
# them (the lab's set-up around them runs all the same).
lab_tests() {
	local t
	for t in "$@"; do
		if [ ${#LAB_ONLY[@]} -eq 0 ] || [[ " ${LAB_ONLY[*]} " == *" $t "* ]]; then
			"$t"
		fi
	done
}

# lab_finish: ends every process (so that sanitizer builds write their
# reports), checks every log for such a report, prints "N passed, N
# failed"; its status is the run's.
lab_finish() {
	lab_stop_all
	local t
	for t in "${LAB_ONLY[@]}"; do
		declare -F "$t" >/dev/null || fail "$t: no such test in this suite"
	done
	if grep -lE "ERROR: AddressSanitizer|runtime error:" "$LAB_DIR"/*.log >/dev/null 2>&1; then
		fail "no sanitizer report from any program" \
			"$(grep -hE -A20 "ERROR: AddressSanitizer|runtime error:" "$LAB_DIR"/*.log | head -60)"
	else
		pass "no sanitizer report from any program"
	fi
	echo "$passed passed, $failed failed"
	[ $failed -eq 0 ]
}

# conf_error_case NAME EXPECTED_TEXT: nuauth on $LAB_DIR/bad.conf, in the
# gateway (so that one that starts anyway binds nothing outside), must stop
# with EXPECTED_TEXT in what it prints.
conf_error_case() {
	local out
	out=$(ip netns exec "$NS_G" timeout 10 "$NUAUTH" -c "$LAB_DIR/bad.conf" 2>&1)
	check "$1" status_says $? error "$2" "$out"
}

# conf_line_error NAME LINE [TEXT]: nuauth.conf with LINE added at its end
# (as $LAB_DIR/bad.conf) must stop nuauth naming that file and line, and
# saying TEXT.
conf_line_error() {
	local next=$(( $(wc -l < "$LAB_DIR/nuauth.conf") + 1 ))
	{ cat "$LAB_DIR/nuauth.conf"; echo "$2"; } > "$LAB_DIR/bad.conf"
	conf_error_case "$1" "$LAB_DIR/bad.conf:$next${3:+: $3}"
}

lab_init() {	# lab_init BUILD_DIR [TEST...]: TESTs for lab_tests
	[ "$(id -u)" = 0 ] || { echo "${0##*/}: the lab needs root" >&2; exit 2; }
	BUILD=$(cd "$1" && pwd)
	LAB_ONLY=("${@:2}")
	NUAUTH=$BUILD/src/nuauth/nuauth
	NUFW=$BUILD/src/nufw/nufw
	NUTCPC=$BUILD/src/nutcpc/nutcpc
	NUPROBE=$BUILD/tests/e2e/nuprobe
	MODULES=$BUILD/modules/.libs
	CTL=$BUILD/src/nuauthctl/nuauthctl	# for ctl
	# tests/e2e/pki.sh makes the lab's certificates with it (certtool if unset).
	if [ -x "$BUILD/src/nuauthctl/nuauthctl" ]; then
		export NUAUTHCTL=$BUILD/src/nuauthctl/nuauthctl
	fi
	for f in "$NUAUTH" "$NUFW" "$NUTCPC" "$NUPROBE"; do
		[ -x "$f" ] || { echo "lab: $f is not built (run make check first)" >&2; exit 2; }
	done
	LAB_DIR=$(mktemp -d /tmp/nulab.XXXXXX)
	chmod 755 "$LAB_DIR"
	trap lab_down EXIT
	trap 'echo "lab: interrupted (SIGINT)" >&2; exit 130' INT
	trap 'echo "lab: interrupted (SIGTERM)" >&2; exit 143' TERM
}

# ctl COMMAND [ARGS...]: nuauthctl COMMAND on the lab's control socket
# (nuauth_control_socket="$LAB_DIR/control").
ctl() { "$CTL" "$1" -s "$LAB_DIR/control" "${@:2}"; }

lab_netns() {
	ip netns add "$NS_C"
	ip netns add "$NS_G"
	ip netns add "$NS_S"
	ip link add c0 netns "$NS_C" type veth peer name g0 netns "$NS_G"
	ip link add s0 netns "$NS_S" type veth peer name g1 netns "$NS_G"
	ip -n "$NS_C" addr add 10.201.0.2/24 dev c0
	ip -n "$NS_G" addr add 10.201.0.1/24 dev g0
	ip -n "$NS_G" addr add 10.202.0.1/24 dev g1
	ip -n "$NS_S" addr add 10.202.0.2/24 dev s0
	for ns in "$NS_C" "$NS_G" "$NS_S"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$NS_C" link set c0 up
	ip -n "$NS_G" link set g0 up
	ip -n "$NS_G" link set g1 up
	ip -n "$NS_S" link set s0 up
	ip -n "$NS_C" route add default via 10.201.0.1
	ip -n "$NS_S" route add default via 10.202.0.1
	ip netns exec "$NS_G" sysctl -qw net.ipv4.ip_forward=1
}

# lab_auth_host: a fourth host, NS_A, for a nuauth of its own (10.203.0.2),
# reached from the gateway (10.203.0.1) over a link of its own; its default
# route is the gateway, so the client (10.201.0.2) reaches it through it.
#   client --- gateway --- server
#                 |
#            10.203.0.1 --- 10.203.0.2 auth
lab_auth_host() {
	lab_leaf_host "$NS_A" a0 g2 203
}

# lab_leaf_host NS DEV GW_DEV NET: namespace NS (made here) at 10.NET.0.2 on
# DEV, linked to the gateway's GW_DEV at 10.NET.0.1, its default route.
lab_leaf_host() {
	ip netns add "$1"
	ip link add "$2" netns "$1" type veth peer name "$3" netns "$NS_G"
	ip -n "$1" addr add "10.$4.0.2/24" dev "$2"
	ip -n "$NS_G" addr add "10.$4.0.1/24" dev "$3"
	ip -n "$1" link set lo up
	ip -n "$1" link set "$2" up
	ip -n "$NS_G" link set "$3" up
	ip -n "$1" route add default via "10.$4.0.1"
}

# The gateway's rules: queue every new TCP connection crossing it, keep the
# verdict's mark in the connection, and put it back on every later packet.
lab_rules() {
	local ipt="ip netns exec $NS_G iptables"
	$ipt -t mangle -A PREROUTING -j CONNMARK --restore-mark
	$ipt -A FORWARD -p tcp --syn -j NFQUEUE --queue-num 0
	$ipt -t mangle -A POSTROUTING -m mark ! --mark 0 -j CONNMARK --save-mark
}

lab_pki() {
	bash "$LAB_HERE/pki.sh" "$LAB_DIR/pki" nuauth.lab 10.201.0.1
}

# lab_start NAME NAMESPACE COMMAND...: runs COMMAND in NAMESPACE in the
# background, output to $LAB_DIR/NAME.log; its PID is in LAB_PID.
# ip netns exec and setpriv both exec, so $! is the program itself.
lab_start() {
	local name=$1 ns=$2; shift 2
	ip netns exec "$ns" "$@" > "$LAB_DIR/$name.log" 2>&1 &
	LAB_PID=$!
	LAB_PIDS+=("$LAB_PID")
}

# lab_user_dir UID: the XDG_RUNTIME_DIR of that desktop user in this lab.
# nutcpc keeps its per-user lock there when the user has no home, so each
# lab's clients have locks of their own and two labs can run side by side.
lab_user_dir() {
	local dir=$LAB_DIR/run-$1
	if [ ! -d "$dir" ]; then
		mkdir -m 700 "$dir" && chown "$1:$1" "$dir"
	fi
	echo "$dir"
}

# lab_start_as NAME NAMESPACE UID COMMAND...: the same, as a desktop user.
lab_start_as() {
	local name=$1 ns=$2 uid=$3; shift 3
	XDG_RUNTIME_DIR=$(lab_user_dir "$uid") \
		lab_start "$name" "$ns" setpriv --reuid="$uid" --regid="$uid" --clear-groups -- "$@"
}

# lab_as NAMESPACE UID COMMAND...: COMMAND in NAMESPACE as a desktop user,
# in the foreground.
lab_as() {
	local ns=$1 uid=$2; shift 2
	XDG_RUNTIME_DIR=$(lab_user_dir "$uid") \
		ip netns exec "$ns" setpriv --reuid="$uid" --regid="$uid" --clear-groups -- "$@"
}

# lab_wait_file FILE PATTERN [SECONDS [COUNT]]: waits until FILE has COUNT
# (1) lines matching PATTERN; fails when SECONDS (10) are up.
lab_wait_file() {
	local deadline=$((SECONDS + ${3:-10})) n
	while n=$(grep -c -- "$2" "$1" 2>/dev/null); [ "${n:-0}" -lt "${4:-1}" ]; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.02
	done
}

# lab_wait_log NAME PATTERN [SECONDS [COUNT]]: waits until the log of NAME
# shows PATTERN (the program's own readiness line) COUNT times (1); fails
# when the time is up, printing the log.
lab_wait_log() {
	local seconds=${3:-10} count=${4:-1}
	lab_wait_file "$LAB_DIR/$1.log" "$2" "$seconds" "$count" && return 0
	echo "lab: no \`$2' (x$count) from $1 in ${seconds}s; its log:" >&2
	sed 's/^/    /' "$LAB_DIR/$1.log" >&2
	return 1
}

# lab_hosts NS LINE...: the /etc/hosts that programs run with ip netns exec
# in NS see (iproute2 mounts /etc/netns/NS/hosts over it); lab_down removes
# it.  Names that resolve as the test needs, whatever the machine's file.
lab_hosts() {
	local ns=$1; shift
	mkdir -p "/etc/netns/$ns"
	printf '%s\n' "$@" > "/etc/netns/$ns/hosts"
}

lab_stop() {	# lab_stop PID: ends a process the lab started and reaps it
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

lab_stop_all() {	# ends every process the lab started, and reaps them
	local pid
	for pid in "${LAB_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${LAB_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	LAB_PIDS=()
}

lab_down() {
	local pid ns dir
	lab_stop_all
	# Anything still inside our namespaces was started by this lab.
	for ns in "$NS_C" "$NS_G" "$NS_S" "$NS_A" "${LAB_EXTRA_NS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null || true
		done
		ip netns del "$ns" 2>/dev/null || true
		# lab_hosts' file (ip netns exec mounts it over /etc/hosts).
		[ -d "/etc/netns/$ns" ] && rm -rf "/etc/netns/$ns"
	done
	if [ -n "${LAB_KEEP:-}" ]; then
		echo "lab: logs kept in $LAB_DIR" >&2
	else
		rm -rf "$LAB_DIR"
	fi
	for dir in "${LAB_EXTRA_DIRS[@]}"; do
		rm -rf "$dir"
	done
}

# nuauth.conf for the lab: the plaintext users and ACLs below, modules from
# the build tree, a short packet timeout so that refusals show fast, the
# control socket in the lab's directory (never the machine's /run/nuauth,
# which nuauth would otherwise make).
lab_nuauth_conf() {
	cat > "$LAB_DIR/users.nufw" <<USERS
# name:password:uid:groups
alice:alicepw:1001:100
bob:bobpw:1002:100,200
# the user of IP authentication (no password login)
guest:*:3000:300
USERS
	chmod 600 "$LAB_DIR/users.nufw"	# it holds passwords: nuauth checks
	cat > "$LAB_DIR/acls.nufw" <<ACLS
[web for staff]
decision=1
gid=100
proto=6
DstIP=10.202.0.0/24
DstPort=80,5050

[alt port for group 200]
decision=1
gid=200
proto=6
DstPort=8080

[guests to 9090]
decision=1
gid=300
proto=6
DstPort=9090

[guests may ping the server]
decision=1
gid=300
proto=1
type=8
DstIP=10.202.0.2

[port 7070 is refused at once]
decision=3
gid=100
proto=6
DstPort=7070
ACLS
	cat > "$LAB_DIR/nuauth.conf" <<CONF
nuauth_nufw_listen_addr="127.0.0.1"
nuauth_gw_packet_port=4128
nuauth_client_listen_addr="0.0.0.0"
nuauth_user_packet_port=4129
nuauth_tls_key="$LAB_DIR/pki/nuauth-key.pem"
nuauth_tls_cert="$LAB_DIR/pki/nuauth-cert.pem"
nuauth_tls_cacert="$LAB_DIR/pki/cacert.pem"
nuauth_packet_timeout=2
nuauth_module_path="$MODULES"
nuauth_user_check_module="plaintext"
nuauth_acl_check_module="plaintext"
nuauth_finalize_packet_module="mark_uid"
plaintext_userfile="$LAB_DIR/users.nufw"
plaintext_aclfile="$LAB_DIR/acls.nufw"
nuauth_control_socket="$LAB_DIR/control"
CONF
}

# lab_mark_group_conf: nuauth.conf gets mark_group after mark_uid, its group
# file mapping gid 200 to 0x20 in bits 16..23 (bob, in groups 100 and 200,
# gets 0x2003ea; alice, in 100 only, 0x3e9).  The last assignment of a key
# wins, so appending overrides lab_nuauth_conf's choices.
lab_mark_group_conf() {
	cat > "$LAB_DIR/mark_group.conf" <<GROUPS
# gid[,gid...]:mark
300:0x30
200:0x20
GROUPS
	cat >> "$LAB_DIR/nuauth.conf" <<CONF
nuauth_finalize_packet_module="mark_uid mark_group"
mark_group_group_file="$LAB_DIR/mark_group.conf"
mark_group_nbits=8
mark_group_shift=16
CONF
}

# lab_reload_nuauth [SECONDS]: SIGHUP to nuauth, then waits up to SECONDS
# (10) for this reload's line in its log.
lab_reload_nuauth() {
	local line="configuration, users and ACLs reloaded" n
	n=$(grep -c "$line" "$LAB_DIR/nuauth.log")
	kill -HUP "$NUAUTH_PID"
	lab_wait_log nuauth "$line" "${1:-10}" $((n + 1))
}

lab_start_nuauth() {
	lab_start nuauth "$NS_G" "$NUAUTH" -c "$LAB_DIR/nuauth.conf" -vv
	NUAUTH_PID=$LAB_PID
	lab_wait_log nuauth "ready"
}

# lab_end NAME: a FAIL under NAME, the tally, and the suite ends (when
# what the rest needs did not start).
lab_end() {
	fail "$1"
	echo "$passed passed, $failed failed"
	exit 1
}

# lab_start_gateway: nuauth, then nufw connected to it; the suite ends when
# either does not come up.
lab_start_gateway() {
	lab_start_nuauth || lab_end "nuauth starts"
	lab_start_nufw || lab_end "nufw connects to nuauth"
}

lab_start_nufw() {
	local p=$LAB_DIR/pki
	lab_start nufw "$NS_G" "$NUFW" -d 127.0.0.1 -p 4128 -q 0 -m \
		-k "$p/nufw-key.pem" -c "$p/nufw-cert.pem" -a "$p/cacert.pem" -t 5 -C -v
	NUFW_PID=$LAB_PID
	lab_wait_log nufw "connected to nuauth"
}

lab_start_server() {
	lab_start server "$NS_S" "$NUPROBE" serve 80 8080 9090
	lab_wait_log server "ready"
}

# lab_login NAME LOCAL_UID USER PASSWORD [SECONDS]: a client logged in as USER,
# running as LOCAL_UID on the client machine, to the nuauth at
# $LAB_NUAUTH_ADDR (10.201.0.1, the gateway, when unset).
lab_login() {
	lab_start_as "$1" "$NS_C" "$2" "$NUTCPC" -H "${LAB_NUAUTH_ADDR:-10.201.0.1}" -p 4129 -U "$3" -P "$4" \
		-A "$LAB_DIR/pki/cacert.pem" -d -v
	lab_wait_log "$1" "logged in" "${5:-10}"
}

# lab_connect LOCAL_UID PORT [MS]: a desktop program's connection to the
# server; prints nuprobe's line, returns its status.
lab_connect() {
	lab_as "$NS_C" "$1" \
		"$NUPROBE" connect 10.202.0.2 "$2" "${3:-3000}"
}

# lab_ct_mark SPORT DPORT [SRC]: the mark of that connection from SRC
# (10.201.0.2, the client) in the gateway's conntrack table.
lab_ct_mark() {
	ip netns exec "$NS_G" conntrack -L -p tcp --orig-src "${3:-10.201.0.2}" --sport "$1" \
		--dport "$2" 2>/dev/null | grep -o 'mark=[0-9]*' | head -1 | cut -d= -f2
}

# ---------------------------------------------------------------------------
# A desktop without a client (tests/e2e/radius.sh, portal.sh): a namespace
# of its own behind the gateway, whose user nuauth learns from the network.
#
#   desktop 10.204.0.2 --- 10.204.0.1 gateway

NS_D=nulab-d-$LAB_ID
DESK=10.204.0.2

lab_desktop() {
	LAB_EXTRA_NS+=("$NS_D")
	lab_leaf_host "$NS_D" d0 g3 204	# $DESK
}

# desk_connect PORT: a connection from the desktop to the server; prints
# nuprobe's line ("connected from ADDR:PORT").
desk_connect() {
	ip netns exec "$NS_D" "$NUPROBE" connect 10.202.0.2 "$1" 3000
}

# desk_marked PORT MARK: the desktop's connection is accepted and carries
# MARK in the gateway's conntrack.
desk_marked() {
	local out sport mark
	out=$(desk_connect "$1") && sport=${out##*:} && mark=$(lab_ct_mark "$sport" "$1" $DESK) &&
		[ "$mark" = "$(($2))" ] && return 0
	echo "connect: $out; mark=${mark:-none}, wanted $(($2))"
	return 1
}

# ---------------------------------------------------------------------------
# Bulk transfers (tests/e2e/qos.sh).  Nothing above depends on this section.

# lab_start_bulk MODE PORT...: nuprobe MODE on the server, `sink' (counts
# what each connection sends) or `source' (sends to each connection until it
# closes).  The log exists before the program starts, so the wait cannot
# miss it.
lab_start_bulk() {
	local mode=$1; shift
	: > "$LAB_DIR/$mode.log"
	lab_start "$mode" "$NS_S" "$NUPROBE" "$mode" "$@"
	lab_wait_log "$mode" "ready"
}

lab_start_sink() { lab_start_bulk sink "$@"; }	# PORT...

# lab_send LOCAL_UID HOST PORT SECONDS: a desktop program's bulk upload;
# prints nuprobe's line (from=ADDR:PORT sent=N received=N ms=M bps=R, as
# measured by the sink), returns its status.
lab_send() {
	lab_as "$NS_C" "$1" \
		"$NUPROBE" send "$2" "$3" "$4"
}

# lab_fetch LOCAL_UID HOST PORT SECONDS: a desktop program's bulk download
# from a source; prints nuprobe's line (from=ADDR:PORT received=N ms=M
# bps=R, as measured by the desktop), returns its status.
lab_fetch() {
	lab_as "$NS_C" "$1" \
		"$NUPROBE" fetch "$2" "$3" "$4"
}

# ---------------------------------------------------------------------------
# The lab's IPv6 half and UDP (tests/e2e/client.sh, trust.sh).
#
#   client fd00:201::2 --- fd00:201::1 gateway fd00:202::1 --- fd00:202::2 server

V6_C=fd00:201::2 V6_GW=fd00:201::1 V6_S=fd00:202::2

lab_ipv6() {	# the IPv6 addresses and routes, forwarding in the gateway
	ip -n "$NS_C" addr add $V6_C/64 dev c0 nodad
	ip -n "$NS_G" addr add $V6_GW/64 dev g0 nodad
	ip -n "$NS_G" addr add fd00:202::1/64 dev g1 nodad
	ip -n "$NS_S" addr add $V6_S/64 dev s0 nodad
	ip -n "$NS_C" -6 route add default via $V6_GW
	ip -n "$NS_S" -6 route add default via fd00:202::1
	ip netns exec "$NS_G" sysctl -qw net.ipv6.conf.all.forwarding=1
}

# lab_ipv6_udp_rules: lab_rules' queue and marks for IPv6 TCP, and new UDP
# flows of both families queued too.
lab_ipv6_udp_rules() {
	local ipt="ip netns exec $NS_G iptables" ip6t="ip netns exec $NS_G ip6tables"
	$ipt -A FORWARD -p udp -m conntrack --ctstate NEW -j NFQUEUE --queue-num 0
	$ip6t -t mangle -A PREROUTING -j CONNMARK --restore-mark
	$ip6t -A FORWARD -p tcp --syn -j NFQUEUE --queue-num 0
	$ip6t -A FORWARD -p udp -m conntrack --ctstate NEW -j NFQUEUE --queue-num 0
	$ip6t -t mangle -A POSTROUTING -m mark ! --mark 0 -j CONNMARK --save-mark
}

# lab_ipv6_udp_acls: staff may reach the server's port 80 over IPv6 and
# UDP port 5353.
lab_ipv6_udp_acls() {
	cat >> "$LAB_DIR/acls.nufw" <<ACLS

[web over IPv6]
decision=1
gid=100
proto=6
DstIP=fd00:202::/64
DstPort=80

[udp echo]
decision=1
gid=100
proto=17
DstPort=5353
ACLS
}
