#!/bin/bash
# pam_nufw in the namespace lab (run as root): pamtester drives the PAM
# module in the client namespace, for a desktop user of the test's own.
#   tests/e2e/pam.sh BUILD_DIR [TEST...]
# Prints one PASS/FAIL line per test and ends with "N passed, N failed".
#
# The user: a passwd entry (useradd, uid PAM_UID of lab.sh's table, home in
# the lab's folder) that the module finds with getpwnam, removed at the end;
# nuauth knows them by the same name (a yescrypt hash and a SCRAM verifier
# in its users file, uid 1005, so their connections get the mark 1005).
# The PAM services: /etc/pam.d/nulab-<pid>-*, the test's own, removed at the
# end; their auth stage is pam_permit then pam_nufw, which asks pamtester
# for the password (fed on its stdin) and keeps it for the session stage.
# A pam_exec gate after pam_nufw holds the session open until the test has
# looked (the script tells when open_session reached it).
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"

lab_init "${1:-.}" "${@:2}"

PAM_SO=$BUILD/src/pam_nufw/.libs/pam_nufw.so
PAM_USER=nupam$LAB_ID
PAM_HOME=$LAB_DIR/home-pam
PAM_MARK=1005
PAM_SERVICE=nulab-$LAB_ID
PAM_BOUND=3		# timeout= of the services (seconds)
MARGIN_MS=1500		# on top of a bound: a loaded box
# A password with blanks and shell characters: it must cross as it is.
PAM_PW="Pam nufw \$3cret; 'x' $LAB_ID"
WRONG_PW="not the password $LAB_ID"

pam_cleanup() {
	rm -f /etc/pam.d/"$PAM_SERVICE"-*
	if getent passwd "$PAM_USER" >/dev/null; then
		userdel "$PAM_USER" 2>/dev/null ||
			echo "pam.sh: could not remove the user $PAM_USER" >&2
	fi
}
# lab_down first: it ends the user's processes, which userdel waits for.
trap 'lab_down; pam_cleanup' EXIT

[ -f "$PAM_SO" ] || lab_end "pam_nufw is built ($PAM_SO; configure found no libpam: apt-get install libpam0g-dev)"
command -v pamtester >/dev/null || lab_end "pamtester is installed (apt-get install pamtester)"

# --- the user and their PAM services

pam_user() {
	local out
	mkdir -m 700 "$PAM_HOME" || return 1
	# useradd's warning about a system uid above SYS_UID_MAX only on failure.
	out=$(useradd --system --no-create-home --no-user-group --gid users --non-unique \
		--uid "$PAM_UID" --home-dir "$PAM_HOME" --shell /usr/sbin/nologin "$PAM_USER" 2>&1) ||
		{ echo "$out" >&2; return 1; }
	chown "$PAM_UID:users" "$PAM_HOME"
}

# pam_service NAME GATE OPTIONS...: /etc/pam.d/$PAM_SERVICE-NAME, pam_nufw
# with OPTIONS (and the lab's CA and nutcpc) in auth and session; GATE yes:
# the session stage then waits at the gate (pam_gate_open, pam_gate_release).
pam_service() {
	local name=$1 gate=$2; shift 2
	local opts="ca=$LAB_DIR/pki/cacert.pem nutcpc=$NUTCPC $*"
	{
		echo "# pam.sh's service (tests/e2e/pam.sh, lab $LAB_ID); removed at its end"
		echo "auth     required pam_permit.so"
		echo "auth     optional $PAM_SO $opts"
		echo "account  required pam_permit.so"
		echo "session  optional $PAM_SO $opts"
		[ "$gate" = yes ] && echo "session  optional pam_exec.so $LAB_DIR/pam-gate.sh $LAB_DIR"
	} > "/etc/pam.d/$PAM_SERVICE-$name"
}

pam_gate_script() {
	cat > "$LAB_DIR/pam-gate.sh" <<'GATE'
#!/bin/sh
# pam_exec after pam_nufw: at open_session, says so and waits (at most a
# minute) until the test writes a line to the gate.
[ "$PAM_TYPE" = open_session ] || exit 0
echo "open_session reached the gate" >> "$1/gate.log"
timeout 60 sh -c 'read -r line < "$1"' gate "$1/gate"
exit 0
GATE
	chmod 755 "$LAB_DIR/pam-gate.sh"
}

# pam_start SERVICE PASSWORD: pamtester authenticate, open_session and
# close_session for the user, in the client namespace, PASSWORD on its
# stdin (a pipe: no file, no argument); without a controlling terminal, as
# a display manager.  PAM_PID, and START_MS when it started.
pam_start() {
	rm -f "$LAB_DIR/gate" "$LAB_DIR/gate.log"
	mkfifo -m 600 "$LAB_DIR/gate"
	START_MS=$(date +%s%3N)
	# Not lab_start: a job in the background reads /dev/null unless its
	# own command says otherwise.  setsid execs (no fork): $! is pamtester.
	ip netns exec "$NS_C" setsid pamtester -v "$PAM_SERVICE-$1" "$PAM_USER" \
		authenticate open_session close_session \
		< <(printf '%s\n' "$2") > "$LAB_DIR/pamtester.log" 2>&1 &
	PAM_PID=$!
	LAB_PIDS+=("$PAM_PID")
}

# pam_gate_open: waits until open_session reached the gate; OPEN_MS is the
# time pam_nufw's open_session took, at most.
pam_gate_open() {
	lab_wait_file "$LAB_DIR/gate.log" "reached the gate" 20 || return 1
	OPEN_MS=$(($(date +%s%3N) - START_MS))
}

# running PID: PID runs (exists and is no zombie).
running() {
	local state
	state=$(sed 's/^.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)
	[ -n "$state" ] && [ "$state" != Z ]
}

# pam_finish: lets the session close; pamtester's status (1 when it does not
# end within 10 s), its output in PAM_OUT.  Not in $(...): only this shell
# can wait for pamtester.
pam_finish() {
	local i
	# Read-write: the open does not wait for a reader (the gate may not be
	# reached at all).
	[ -p "$LAB_DIR/gate" ] && echo go 1<>"$LAB_DIR/gate"
	for ((i = 0; i < 500; i++)); do
		running "$PAM_PID" || break
		sleep 0.02
	done
	running "$PAM_PID" && { PAM_OUT="pamtester did not end"; lab_stop "$PAM_PID"; return 1; }
	wait "$PAM_PID"
	i=$?
	PAM_OUT=$(cat "$LAB_DIR/pamtester.log")
	return $i
}

# client_pid: the pid of the user's running client (its lock says), or
# nothing.
client_pid() {
	lab_as "$NS_C" "$PAM_UID" "$NUTCPC" -c 2>/dev/null | sed -n 's/.*running (pid \([0-9]*\)).*/\1/p'
}

no_client() {
	local out
	out=$(lab_as "$NS_C" "$PAM_UID" "$NUTCPC" -c 2>&1) && { echo "$out"; return 1; }
	return 0
}

# within MS BOUND_MS: MS <= BOUND_MS.
within() {
	[ "$1" -le "$2" ] || { echo "took $1 ms, bound $2 ms"; return 1; }
}

# not_in_proc PID: the password is in neither the argv nor the environment
# of PID (and PID exists).
not_in_proc() {
	[ -r "/proc/$1/cmdline" ] || { echo "no process $1"; return 1; }
	if tr '\0' '\n' < "/proc/$1/cmdline" | grep -qF -- "$PAM_PW" ||
	   tr '\0' '\n' < "/proc/$1/environ" | grep -qF -- "$PAM_PW"; then
		echo "the password is in /proc/$1/cmdline or environ"
		return 1
	fi
}

# in_no_file: no file of the lab (the user's home in it), nor of the user's
# runtime folder, holds the password.
in_no_file() {
	local dirs=("$LAB_DIR") found
	[ -d "/run/user/$PAM_UID" ] && dirs+=("/run/user/$PAM_UID")
	if found=$(grep -rlaF -- "$PAM_PW" "${dirs[@]}" 2>/dev/null); then
		echo "in: $found"
		return 1
	fi
}

# locked PID: some of PID's memory is locked (the password's pages).
locked() {
	local kb
	kb=$(sed -n 's/^VmLck:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status")
	[ "${kb:-0}" -gt 0 ] || { echo "VmLck: ${kb:-none} kB"; return 1; }
}

# no_other_pipe PID: PID's only pipe is its output (fds 1 and 2): the one
# the password came over is closed.
no_other_pipe() {
	local out fd link
	out=$(readlink "/proc/$1/fd/1")
	for fd in /proc/"$1"/fd/*; do
		link=$(readlink "$fd") || continue
		if [[ $link == pipe:* && $link != "$out" ]]; then
			echo "fd ${fd##*/} is $link (output: $out)"
			return 1
		fi
	done
}

child_of() {	# child_of PID PARENT
	[ "$(awk '/^PPid:/ {print $2}' "/proc/$1/status" 2>/dev/null)" = "$2" ] ||
		{ echo "pid $1's parent is not $2"; return 1; }
}

owned_by() {	# owned_by PID UID: real and effective uid
	local uids
	uids=$(awk '/^Uid:/ {print $2, $3}' "/proc/$1/status" 2>/dev/null)
	[ "$uids" = "$2 $2" ] || { echo "pid $1 runs as uid ${uids:-?}, wanted $2"; return 1; }
}

# --- the tests

# A correct password: the client runs as the user, logged in, and their
# connection passes with their mark; the password is in no argv,
# environment or file; close_session stops the client and the access ends.
test_correct_password() {
	local pid
	pam_start main "$PAM_PW"
	if ! pam_gate_open; then
		fail "a correct password: open_session returns" "$(cat "$LAB_DIR/pamtester.log")"
		pam_finish
		return
	fi
	check "a correct password: open_session returns within the bound (${PAM_BOUND} s): ${OPEN_MS} ms" \
		within "$OPEN_MS" $((PAM_BOUND * 1000 + MARGIN_MS))
	pid=$(client_pid)
	if [ -z "$pid" ]; then
		fail "a correct password starts the client" "$(lab_as "$NS_C" "$PAM_UID" "$NUTCPC" -c 2>&1)"
		pam_finish
		return
	fi
	local out st
	out=$(lab_as "$NS_C" "$PAM_UID" "$NUTCPC" -c 2>&1)
	st=$?
	check "a correct password starts the client, as the user, logged in" \
		status_says "$st" 0 "logged in" "$out"
	check "the client runs with the user's uid, a child of the PAM application" \
		eval "owned_by $pid $PAM_UID && child_of $pid $PAM_PID"
	check_mark "the user's connection passes with their mark ($PAM_MARK)" "$PAM_UID" 80 "$PAM_MARK"
	check "the password is in no argument and no environment variable of the client" \
		not_in_proc "$pid"
	check "the password is in no file (the lab, the user's home and runtime folder)" in_no_file
	check "the client's password pages are locked in memory (VmLck)" locked "$pid"
	check "the client has closed the pipe it read the password from" no_other_pipe "$pid"
	local t0 ms
	t0=$(date +%s%3N)
	pam_finish	# not under check: in $(...) it could not wait for pamtester
	st=$?
	ms=$(($(date +%s%3N) - t0))
	check "the session closes (pamtester ends with status 0)" status_says "$st" 0 "" "$PAM_OUT"
	check "close_session stops the client (in ${ms} ms)" \
		eval "no_client && ! kill -0 $pid 2>/dev/null && within $ms $((PAM_BOUND * 1000 + MARGIN_MS))"
	check_not "after the session, the user's connection is refused" lab_connect "$PAM_UID" 80 3000
}

# A wrong password: no client stays, no access, and the login goes on
# within the bound.
test_wrong_password() {
	pam_start main "$WRONG_PW"
	if ! pam_gate_open; then
		fail "a wrong password: open_session returns" "$(cat "$LAB_DIR/pamtester.log")"
		pam_finish
		return
	fi
	check "a wrong password: the session opens all the same, within the bound (${PAM_BOUND} s): ${OPEN_MS} ms" \
		within "$OPEN_MS" $((PAM_BOUND * 1000 + MARGIN_MS))
	check "a wrong password: no client runs" no_client
	check_not "a wrong password: the user's connection is refused" lab_connect "$PAM_UID" 80 3000
	local st
	pam_finish
	st=$?
	check "a wrong password: pamtester ends with status 0 (the login goes on)" \
		status_says "$st" 0 "" "$PAM_OUT"
}

# nuauth unreachable (an address nobody answers at: the client's connect
# hangs): the session opens within timeout= (1 s here), and closes, the
# client stopped, within the bound too.
test_unreachable() {
	local ms
	local st
	pam_start unreachable "$PAM_PW"
	pam_finish
	st=$?
	ms=$(($(date +%s%3N) - START_MS))
	check "nuauth unreachable: the session opens and closes (pamtester's status 0)" \
		status_says "$st" 0 "" "$PAM_OUT"
	# open: 1 s; close: SIGTERM (SIGKILL after 1 s).
	check "nuauth unreachable: the login is held at most timeout=1 s (the whole session: ${ms} ms)" \
		within "$ms" $((2000 + MARGIN_MS))
	check "nuauth unreachable: no client is left after the session" no_client
}

# skip_users= and skip_groups=: no client for those users.
test_skipped() {
	local what
	for what in users groups; do
		pam_start "skip-$what" "$PAM_PW"
		if pam_gate_open; then
			check "skip_$what=: no client for a user it names" no_client
		else
			fail "skip_$what=: open_session returns" "$(cat "$LAB_DIR/pamtester.log")"
		fi
		pam_finish
	done
}

# nutcpc --password-fd: a descriptor that is not open, or that gives no
# password, is said so (exit status 2) before any login.
test_password_fd_errors() {
	local out st
	out=$(lab_as "$NS_C" "$PAM_UID" "$NUTCPC" -F -H 10.201.0.1 -d --password-fd 9 2>&1)
	st=$?
	check "nutcpc --password-fd on a closed descriptor says so" \
		status_says "$st" 2 "--password-fd 9: Bad file descriptor" "$out"
	out=$(lab_as "$NS_C" "$PAM_UID" "$NUTCPC" -F -H 10.201.0.1 -d --password-fd 0 2>&1 </dev/null)
	st=$?
	check "nutcpc --password-fd on an empty pipe says there is no password" \
		status_says "$st" 2 "--password-fd 0: no password" "$out"
	out=$(lab_as "$NS_C" "$PAM_UID" "$NUTCPC" -F -H 10.201.0.1 -d --password-fd x 2>&1)
	st=$?
	check "nutcpc --password-fd x: not a file descriptor" \
		status_says "$st" 2 "not a file descriptor" "$out"
}

# The user unit and the autostart entry that make install puts in place;
# systemd-analyze verify on the unit (its ExecStart pointed at the
# installed nutcpc, its man pages at the installed ones).
test_user_unit() {
	local dest=$LAB_DIR/destdir unit desktop out
	if ! out=$(make -s -C "$BUILD" install DESTDIR="$dest" 2>&1); then
		fail "make install (DESTDIR)" "$out"
		return
	fi
	unit=$(find "$dest" -path '*/systemd/user/nutcpc.service')
	desktop=$(find "$dest" -path '*/xdg/autostart/nutcpc.desktop')
	check "make install puts nutcpc.service in systemd/user and nutcpc.desktop in xdg/autostart" \
		test -n "$unit" -a -n "$desktop" -a -n "$(find "$dest" -name pam_nufw.so)"
	if ! command -v systemd-analyze >/dev/null; then
		echo "SKIP: systemd-analyze is not installed"
		return
	fi
	local nutcpc man
	nutcpc=$(find "$dest" -path '*/bin/nutcpc')
	man=$(dirname "$(dirname "$(find "$dest" -name nutcpc.1)")")
	mkdir -p "$LAB_DIR/verify"
	sed "s|^ExecStart=.*/nutcpc|ExecStart=$nutcpc|" "$unit" > "$LAB_DIR/verify/nutcpc.service"
	check "systemd-analyze verify: nutcpc.service" \
		env MANPATH="$man" systemd-analyze verify "$LAB_DIR/verify/nutcpc.service"
	if command -v desktop-file-validate >/dev/null; then
		check "desktop-file-validate: nutcpc.desktop" desktop-file-validate "$desktop"
	fi
}

# --- the lab

hash=$(printf '%s\n' "$PAM_PW" | "$CTL" hash --scram) || lab_end "nuauthctl hash"
lab_netns
lab_pki
lab_nuauth_conf
echo "$PAM_USER:$hash:$PAM_MARK:100" >> "$LAB_DIR/users.nufw"
lab_rules
lab_start_server || lab_end "the server starts"
lab_start_gateway
pam_user || lab_end "a user of the test's own (useradd)"
pam_gate_script
pam_service main yes "server=10.201.0.1 port=4129 timeout=$PAM_BOUND"
pam_service unreachable no "server=10.201.0.99 port=4129 timeout=1"
pam_service skip-users yes "server=10.201.0.1 timeout=$PAM_BOUND skip_users=root,$PAM_USER"
pam_service skip-groups yes "server=10.201.0.1 timeout=$PAM_BOUND skip_groups=wheel,users"

lab_tests test_correct_password test_wrong_password test_unreachable test_skipped \
	test_password_fd_errors test_user_unit
lab_finish
