#!/bin/bash
# The desktop end to end in the namespace lab (run as root):
#   tests/e2e/desktop.sh BUILD_DIR [TEST...]
# Alice's desktop session is a session bus of her own (dbus-run-session, as
# her uid in the client namespace) with a notification server of the
# test's (tests/e2e/notify_sink, which prints every Notify call), and
# nutcpc on that bus.  Checks that a burst of 20 refused connections makes
# ONE notification naming the program, the destination and the rule; that
# org.nufw.Client1 answers with the state, server, user and last refusals
# (and nutcpc -c still works); that a disconnect by the administrator is
# notified; that 200 clients (bench/login_storm -r) cut off by a nuauth
# restart come back spread over the back-off window, all within the cap;
# that a client started while nuauth is down keeps trying, says so in the
# desktop, and logs in once nuauth starts; that desktop_notify=no and
# --no-notify turn notifications off; that a client without a session bus
# works as before; that a refused login still ends the client; that the
# user unit's keyring recipe logs in with the password GNOME's keyring holds.
# Prints one PASS/FAIL line per check and ends with "N passed, N failed".
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"

lab_init "${1:-.}" "${@:2}"

SINK=$BUILD/tests/e2e/notify_sink
STORM=$BUILD/bench/login_storm
STORM_N=200
CAP_S=30		# the back-off's largest window (RECONNECT_MAX_MS)
BUS=

for f in "$SINK" "$STORM"; do
	[ -x "$f" ] || { echo "desktop.sh: $f is not built (make check)" >&2; exit 2; }
done
for c in dbus-run-session gdbus gnome-keyring-daemon secret-tool; do
	command -v $c >/dev/null ||
		{ echo "desktop.sh: needs $c (scripts/install-deps.sh)" >&2; exit 2; }
done

desktop_conf() {
	lab_nuauth_conf
	{
		echo "# login_storm's users: name:password:uid:groups"
		for ((k = 1; k <= STORM_N; k++)); do
			echo "s$k:pw$k:$((30000 + k)):600"
		done
	} >> "$LAB_DIR/users.nufw"
	cat >> "$LAB_DIR/nuauth.conf" <<CONF
nuauth_client_send_app=always
nuauth_single_ip_client_limit=0
nuauth_single_ip_prelogin_limit=0
nuauth_control_socket="$LAB_DIR/control"
CONF
}

# as_alice COMMAND...: COMMAND as alice on her session bus, in the client
# namespace.
as_alice() {
	lab_as "$NS_C" $ALICE_UID env DBUS_SESSION_BUS_ADDRESS="$BUS" "$@"
}

# alice_client NAME [NUTCPC ARGS...]: alice's nutcpc on her session bus.
alice_client() {
	lab_start_as "$1" "$NS_C" $ALICE_UID env DBUS_SESSION_BUS_ADDRESS="$BUS" \
		"$NUTCPC" -H 10.201.0.1 -p 4129 -U alice -P alicepw \
		-A "$LAB_DIR/pki/cacert.pem" -d -vv "${@:2}"
	ALICE_PID=$LAB_PID
}

notifies() { grep -c '^Notify' "$LAB_DIR/session.log"; }

test_notify_burst() {
	local before pids=() i line n
	before=$(notifies)
	for ((i = 0; i < 20; i++)); do
		lab_connect $ALICE_UID 7070 2000 >/dev/null 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	# nutcpc -d says each refusal on stderr: all 20 have come ...
	lab_wait_log alice "rejected by nuauth: acl port 7070 is refused at once" 15 20 ||
		{ fail "20 refusals reach the client"; return; }
	# ... and the desktop gets them once they stop (1 s quiet).
	lab_wait_log session "^Notify.*refused" 10 $((before + 1)) ||
		{ fail "a burst of 20 refusals is notified"; return; }
	line=$(grep '^Notify' "$LAB_DIR/session.log" | tail -n +$((before + 1)))
	n=$(grep -c . <<<"$line")
	check "a burst of 20 refused connections makes one notification" same "$n" 1
	check "the notification names the program, count, destination and rule" matches "$line" \
		"body=nuprobe: 20 connections to 10.202.0.2:7070 refused (acl port 7070 is refused at once)"
	check "the notification is nutcpc's" matches "$line" "app=nutcpc "
}

test_status() {
	local out
	out=$(as_alice gdbus call --session --dest org.nufw.Client1 --object-path /org/nufw/Client1 \
		--method org.freedesktop.DBus.Properties.GetAll org.nufw.Client1 2>&1)
	check "org.nufw.Client1 says the state" matches "$out" "'State': <'logged in'>"
	check "org.nufw.Client1 says the user" matches "$out" "'User': <'alice'>"
	check "org.nufw.Client1 says the server" matches "$out" "'Server': <'10.201.0.1'>"
	out=$(as_alice gdbus call --session --dest org.nufw.Client1 --object-path /org/nufw/Client1 \
		--method org.nufw.Client1.LastRefusals 2>&1)
	check "LastRefusals lists the refused connections" matches "$out" \
		"'10.202.0.2', uint16 7070, 'tcp', 'rejected', 'acl port 7070 is refused at once'"
	out=$(as_alice busctl --user get-property org.nufw.Client1 /org/nufw/Client1 \
		org.nufw.Client1 State 2>&1)
	check "busctl --user reads the State property" matches "$out" 's "logged in"'
	out=$(as_alice "$NUTCPC" -c 2>&1)
	check "nutcpc -c still tells the state" matches "$out" "running (pid $ALICE_PID): logged in"
}

test_admin_logout() {
	local before n
	before=$(notifies)
	n=$(grep -c "logged in again" "$LAB_DIR/alice.log")
	ctl disconnect alice >/dev/null
	check_log "a disconnect by the administrator is notified" session \
		"^Notify.*body=logged out by the administrator" 10 1
	# nutcpc logs in again after its back-off (first window 1 s).
	check_log "the client logs in again after the back-off" alice "logged in again" 10 $((n + 1))
}

# The login times (s since midnight, ms) of the storm's users in nuauth's
# log.
storm_login_times() {
	grep -E '^[0-9:.]+ .*user s[0-9]+ \(uid [0-9]+\) logged in' "$LAB_DIR/nuauth.log" |
		awk '{ split($1, t, ":"); printf "%.3f\n", t[1] * 3600 + t[2] * 60 + t[3] }'
}

test_reconnect_storm() {
	local times n first last span max_per_s start_s
	lab_start storm "$NS_C" "$STORM" -r -n $STORM_N -w 8 -M PLAIN -H 10.201.0.1 \
		-A "$LAB_DIR/pki/cacert.pem"
	STORM_PID=$LAB_PID
	lab_wait_log storm holding 60 || { fail "$STORM_N clients log in"; return; }
	check "$STORM_N clients log in" matches "$(cat "$LAB_DIR/storm.log")" \
		"logged in $STORM_N of $STORM_N"
	# nuauth restarts (down for 2 s: the restart being simulated, no wait
	# for anything); every client's link drops at the same moment.
	lab_stop "$NUAUTH_PID"
	sleep 2
	start_s=$(date +%s)
	lab_start_nuauth || { fail "nuauth starts again"; return; }
	if lab_wait_log nuauth 'user s[0-9]* (uid [0-9]*) logged in' $((CAP_S + 20)) $STORM_N; then
		pass "all $STORM_N clients are logged in again within the cap ($CAP_S s) after the restart"
	else
		fail "all $STORM_N clients are logged in again within the cap ($CAP_S s) after the restart" \
			"$(grep -c 'user s[0-9]* (uid' "$LAB_DIR/nuauth.log") of $STORM_N"
	fi
	times=$(storm_login_times)
	n=$(grep -c . <<<"$times")
	first=$(sort -n <<<"$times" | head -1)
	last=$(sort -n <<<"$times" | tail -1)
	span=$(awk -v a="$first" -v b="$last" 'BEGIN { printf "%.1f", b - a }')
	max_per_s=$(awk '{ print int($1) }' <<<"$times" | sort | uniq -c | sort -rn | head -1 |
		awk '{ print $1 }')
	echo "    $n logins again over ${span} s after nuauth's restart; per second:" \
		"$(awk '{ print int($1) }' <<<"$times" | sort | uniq -c | awk '{ printf "%s ", $1 }')"
	check "the reconnections spread: no second holds half of them" \
		test "${max_per_s:-$STORM_N}" -lt $((STORM_N / 2))
	check "the reconnections spread over more than 2 s" \
		awk -v s="$span" 'BEGIN { exit !(s > 2) }'
	echo "    (nuauth up again at $(date -d @"$start_s" +%T))"
	lab_stop "$STORM_PID"
}

test_started_while_down() {
	local before
	lab_stop "$ALICE_PID"
	lab_stop "$NUAUTH_PID"
	before=$(notifies)
	alice_client alice2
	check_log "a client started while nuauth is down keeps trying" alice2 \
		"; trying again" 15
	check_log "its back-off is jittered and growing" alice2 \
		"next attempt to reach nuauth at 10.201.0.1 (IPv4) in [0-9]* ms (attempt 3)" 20
	if kill -0 "$ALICE_PID" 2>/dev/null; then
		pass "it does not exit"
	else
		fail "it does not exit" "$(tail -5 "$LAB_DIR/alice2.log")"
	fi
	check_log "the desktop is told: cannot reach nuauth since HH:MM" session \
		"^Notify.*body=cannot reach nuauth since [0-9][0-9]:[0-9][0-9]" 25
	lab_start_nuauth || { fail "nuauth starts again"; return; }
	check_log "it logs in once nuauth starts (within the cap)" alice2 \
		"logged in again to 10.201.0.1 (IPv4) as alice" $((CAP_S + 10))
	check_log "nuauth logs alice in" nuauth "user alice (uid 1001) logged in" 5
	check_log "the desktop is told it is logged in again" session \
		"^Notify.*body=logged in to nuauth again" 5
}

test_notify_off() {
	local home before out
	home=$(lab_user_dir $ALICE_UID)
	lab_stop "$ALICE_PID"
	mkdir -p "$home/.nufw"
	printf '# alice: no desktop notifications\ndesktop_notify=no\n' > "$home/.nufw/nuclient.conf"
	chown -R $ALICE_UID:$ALICE_UID "$home/.nufw"
	alice_client alice3
	lab_wait_log alice3 "logged in" 10 || { fail "alice logs in with desktop_notify=no"; return; }
	out=$(as_alice gdbus call --session --dest org.nufw.Client1 --object-path /org/nufw/Client1 \
		--method org.freedesktop.DBus.Properties.Get org.nufw.Client1 Notifications 2>&1)
	check "desktop_notify=no in nuclient.conf turns notifications off" matches "$out" "<false>"
	before=$(notifies)
	lab_connect $ALICE_UID 7070 2000 >/dev/null 2>&1
	lab_wait_log alice3 "rejected by nuauth: acl port 7070 is refused at once" 10
	# No notification comes: one would have come 1 s after the refusal.
	sleep 2
	check "with notifications off a refusal makes none" same "$(notifies)" "$before"
	rm -f "$home/.nufw/nuclient.conf"
	lab_stop "$ALICE_PID"
	alice_client alice4 --no-notify
	lab_wait_log alice4 "logged in" 10 || { fail "alice logs in with --no-notify"; return; }
	out=$(as_alice gdbus call --session --dest org.nufw.Client1 --object-path /org/nufw/Client1 \
		--method org.freedesktop.DBus.Properties.Get org.nufw.Client1 Notifications 2>&1)
	check "--no-notify turns notifications off" matches "$out" "<false>"
}

test_no_bus() {
	local out
	# bob has no session bus: nutcpc logs in and works all the same.
	lab_start_as bob "$NS_C" $BOB_UID env -u DBUS_SESSION_BUS_ADDRESS "$NUTCPC" \
		-H 10.201.0.1 -p 4129 -U bob -P bobpw -A "$LAB_DIR/pki/cacert.pem" -d -vv
	check_log "without a session bus the client logs in" bob "logged in" 10
	check_log "... and says so at debug level only" bob "no session bus" 5
	check "... and bob's connections pass" lab_connect $BOB_UID 80
}

test_refused_login_ends() {
	local out
	out=$(lab_as "$NS_C" $BOB_UID timeout 20 "$NUTCPC" -H 10.201.0.1 -p 4129 -U bob \
		-P wrong -A "$LAB_DIR/pki/cacert.pem" -d 2>&1)
	check "a refused login still ends the client" status_says $? 1 "nutcpc:" "$out"
}

# The user unit's keyring recipe (conf/systemd/user/nutcpc.service.in),
# as shipped: carol's desktop account (its login name alice, as at a site
# where desktop and NuFW names agree) has a session of its own with GNOME's
# keyring as the Secret Service (gnome-keyring-daemon, unlocked as at a
# graphical login); the password is stored once with secret-tool; the
# unit's ExecStart line, taken from the unit, with its server and CA in
# ~/.nufw/nuclient.conf, logs her in with it, and it is in no argument,
# environment or file of hers in clear.
test_keyring() {
	local home line out pid gk
	home=$(lab_user_dir $CAROL_UID)
	line=$(sed -n 's/^#[[:space:]]*ExecStart=\(.*secret-tool.*\)$/\1/p' \
		"$here/../../conf/systemd/user/nutcpc.service.in")
	if [ -z "$line" ]; then
		fail "the user unit shows the keyring recipe (ExecStart with secret-tool)"
		return
	fi
	line=${line//@bindir@\/nutcpc/$NUTCPC}
	mkdir -p "$home/.nufw"
	printf 'nuauth_ip="10.201.0.1"\nnuauth_port=4129\nnuauth_tls_ca="%s"\n' \
		"$LAB_DIR/pki/cacert.pem" > "$home/.nufw/nuclient.conf"
	cat > "$LAB_DIR/keyring-session.sh" <<EOS
#!/bin/sh
# carol's session: the keyring daemon (its pid in keyring.pid), the
# password stored once, then the unit's ExecStart.
export HOME=$home
printf 'unlock-secret' | gnome-keyring-daemon --foreground --unlock --components=secrets \
	> "\$HOME/keyring.log" 2>&1 &
echo \$! > "\$HOME/keyring.pid"
gdbus wait --session --timeout 10 org.freedesktop.secrets || { echo "no Secret Service"; exit 1; }
printf alicepw | secret-tool store --label=NuFW service nufw || exit 1
echo "password stored"
exec $line
EOS
	chown -R $CAROL_UID:$CAROL_UID "$home"
	lab_start_as keyring "$NS_C" $CAROL_UID env HOME="$home" dbus-run-session -- sh "$LAB_DIR/keyring-session.sh"
	if lab_wait_log keyring "password stored" 15 && lab_wait_log keyring "logged in" 10; then
		pass "the user unit's keyring recipe logs in with the password the session keyring holds"
	else
		fail "the user unit's keyring recipe logs in with the password the session keyring holds" \
			"$(tail -5 "$LAB_DIR/keyring.log")" "$(cat "$home/keyring.log" 2>/dev/null)"
	fi
	gk=$(cat "$home/keyring.pid" 2>/dev/null)
	out=$(lab_connect $CAROL_UID 80) && port=${out##*:}
	check "... and that desktop's connection is alice's (mark 1001)" \
		same "$(lab_ct_mark "${port:-0}" 80)" 1001
	pid=$(pgrep -u $CAROL_UID "nutcpc$" | head -1)
	if [ -n "$pid" ] && ! tr '\0' '\n' < "/proc/$pid/cmdline" | grep -q alicepw &&
	   ! tr '\0' '\n' < "/proc/$pid/environ" | grep -q alicepw &&
	   ! grep -rqa alicepw "$home"; then
		pass "... and the password is in no argument, environment or file of hers in clear"
	else
		fail "... and the password is in no argument, environment or file of hers in clear" \
			"nutcpc pid ${pid:-none}" "$(grep -rla alicepw "$home")"
	fi
	[ -n "$gk" ] && kill "$gk" 2>/dev/null
}

# dbus-daemon wants the user in the password database: the client
# namespace's programs see /etc/passwd and /etc/group with alice's desktop
# account added (ip netns exec mounts /etc/netns/NS/FILE over /etc/FILE;
# lab_down removes them), her home the lab's folder of hers.
desktop_account() {
	local home
	home=$(lab_user_dir $ALICE_UID)
	mkdir -p "/etc/netns/$NS_C"
	{
		cat /etc/passwd
		echo "alicedesk:x:$ALICE_UID:$ALICE_UID::$home:/bin/sh"
		echo "alice:x:$CAROL_UID:$CAROL_UID::$(lab_user_dir $CAROL_UID):/bin/sh"
	} > "/etc/netns/$NS_C/passwd"
	{ cat /etc/group; echo "alicedesk:x:$ALICE_UID:"; echo "alice:x:$CAROL_UID:"; } \
		> "/etc/netns/$NS_C/group"
}

lab_netns
lab_pki >/dev/null
desktop_account
desktop_conf
lab_rules
lab_start_server
lab_start_gateway
# Her session bus listens in her runtime folder (as a user manager's does):
# nothing is left in /tmp when the lab goes.
cat > "$LAB_DIR/session.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$(lab_user_dir $ALICE_UID)/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
lab_start_as session "$NS_C" $ALICE_UID dbus-run-session --config-file="$LAB_DIR/session.conf" \
	-- "$SINK"
lab_wait_log session "^ready" 10 || lab_end "alice's session bus and notification server start"
BUS=$(sed -n 's/^bus=//p' "$LAB_DIR/session.log" | head -1)
alice_client alice
lab_wait_log alice "logged in" 10 || lab_end "alice logs in, on her session bus"

lab_tests test_notify_burst test_status test_admin_logout test_reconnect_storm \
	test_started_while_down test_notify_off test_no_bus test_refused_login_ends test_keyring
lab_finish
