#!/bin/bash
# The ldap module end to end in the namespace lab (run as root):
#   tests/e2e/ldap.sh BUILD_DIR [TEST...]
# Starts its own slapd (Debian's slapd package) in the gateway namespace,
# on 127.0.0.1:3389 there (the namespace is the test's own, so no system
# slapd can collide with it), with an mdb database in the lab's folder,
# loads users and groups with ldapadd, and runs nuauth with
# nuauth_user_check_module="ldap" and the lab's plaintext ACLs.  Checks
# logins with nutcpc (bind and compare), the uid mark and group ACLs, the
# refusal of wrong passwords and of names with filter metacharacters, the
# directory's spelling of a name (ALICE logs in as alice), what a wrong
# password costs a name the directory lacks and a known one, a
# stopped slapd (clean refusals, nuauth keeps running) and a restarted one
# (the pool reconnects), a hung slapd (SIGSTOP: only the logins that ask it
# wait; other logins and every decision go on, as logins run on nuauth's
# worker pool), reloads while logins run.  Then the ACLs from LDAP (the
# shipped schema, nuauth_acl_check_module="ldap"): accepts, drops and a
# reject decided by entries, entries by user, program, OS and outgoing
# interface (as NuFW's test_ldap_acl.py), a change applied at SIGHUP,
# malformed entries refused with their DN, 2000 entries (LDAP_BULK_ACLS)
# read in pages, and changes picked up without SIGHUP with
# ldap_acls_refresh.  Prints one PASS/FAIL line per check and ends with
# "N passed, N failed".  The tests are the test_* functions, in the order
# of the lists at the bottom; with TEST names, only those run (after the
# lab's set-up).
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"

for prog in /usr/sbin/slapd ldapadd slappasswd; do
	command -v "$prog" >/dev/null ||
		{ echo "ldap.sh: $prog missing: apt-get install slapd ldap-utils" >&2; exit 2; }
done
lab_init "${1:-.}" "${@:2}"
[ -f "$MODULES/ldap.so" ] ||
	{ echo "ldap.sh: $MODULES/ldap.so is not built (configure --disable-ldap?)" >&2; exit 2; }

CLIENT_PIDS=()

SUFFIX="dc=lab,dc=nufw"
LDAP_URI="ldap://127.0.0.1:3389"
ADMIN_DN="cn=admin,$SUFFIX"
ADMIN_PW=adminpw
SERVICE_DN="cn=nuauth,$SUFFIX"
SERVICE_PW=servicepw
SLAPD_DIR=$LAB_DIR/slapd
BULK=${LDAP_BULK_ACLS:-2000}	# ACL entries added for the paging check
ACL_SCHEMA=$(cd "$here/../../conf/ldap" && pwd)/nufw-acl.schema
ACLS_DN="ou=acls,$SUFFIX"
BAD_DN="cn=bad port,$ACLS_DN"	# a malformed ACL entry

# The directory: nis schema, one mdb database; nuauth's service account may
# read userPassword (for ldap_password_check=compare), everyone else may
# only bind with it.
slapd_conf() {
	mkdir -p "$SLAPD_DIR/db"
	cat > "$SLAPD_DIR/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
include $ACL_SCHEMA
pidfile $SLAPD_DIR/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 10485760
suffix "$SUFFIX"
rootdn "$ADMIN_DN"
rootpw $ADMIN_PW
directory $SLAPD_DIR/db
# slapd answers a search with 500 entries at most: the service account may
# read any number through the paged results control (the ACLs).
limits dn.exact="$SERVICE_DN" size.prtotal=unlimited
access to attrs=userPassword by dn.exact="$SERVICE_DN" read by anonymous auth by * none
access to * by * read
CONF
}

# slapd_start NAME: slapd in the gateway namespace, in the foreground (-d),
# its log in NAME.log; waits for its readiness line.
slapd_start() {
	lab_start "$1" "$NS_G" /usr/sbin/slapd -f "$SLAPD_DIR/slapd.conf" -h "$LDAP_URI/" -d stats
	SLAPD_PID=$LAB_PID
	lab_wait_log "$1" "slapd starting"
}

# The people: alice (primary group 100, and 200 through a posixGroup's
# memberUid), bob (primary group 400 without ACL, and 200 through a
# groupOfNames' member), carol (only groups 400 and 450, no ACL for
# either), and guest (gid 300: the user of IP authentication, looked up
# with get_user_groups).  Their uids differ from the plaintext file's, and so do their
# passwords, so that a login that works came through LDAP.
slapd_load() {
	local alice_pw bob_pw carol_pw service_pw
	alice_pw=$(slappasswd -s alice-ldap-pw)
	bob_pw=$(slappasswd -h '{CRYPT}' -c '$6$%.16s' -s bob-ldap-pw)
	carol_pw=$(slappasswd -s carol-ldap-pw)
	service_pw=$(slappasswd -s $SERVICE_PW)
	cat > "$SLAPD_DIR/data.ldif" <<LDIF
dn: $SUFFIX
objectClass: dcObject
objectClass: organization
o: nufw lab
dc: lab

dn: $SERVICE_DN
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: nuauth
userPassword: $service_pw

dn: ou=people,$SUFFIX
objectClass: organizationalUnit
ou: people

dn: ou=groups,$SUFFIX
objectClass: organizationalUnit
ou: groups

dn: uid=alice,ou=people,$SUFFIX
objectClass: inetOrgPerson
objectClass: posixAccount
uid: alice
cn: Alice
sn: Lab
uidNumber: 1101
gidNumber: 100
homeDirectory: /home/alice
userPassword: $alice_pw

dn: uid=bob,ou=people,$SUFFIX
objectClass: inetOrgPerson
objectClass: posixAccount
uid: bob
cn: Bob
sn: Lab
uidNumber: 1102
gidNumber: 400
homeDirectory: /home/bob
userPassword: $bob_pw

dn: uid=carol,ou=people,$SUFFIX
objectClass: inetOrgPerson
objectClass: posixAccount
uid: carol
cn: Carol
sn: Lab
uidNumber: 1103
gidNumber: 400
homeDirectory: /home/carol
userPassword: $carol_pw

dn: uid=guest,ou=people,$SUFFIX
objectClass: account
objectClass: posixAccount
uid: guest
cn: guest
uidNumber: 3100
gidNumber: 300
homeDirectory: /nonexistent

dn: cn=dev,ou=groups,$SUFFIX
objectClass: posixGroup
cn: dev
gidNumber: 200
memberUid: alice

dn: cn=ops,ou=groups,$SUFFIX
objectClass: groupOfNames
objectClass: extensibleObject
cn: ops
gidNumber: 200
member: uid=bob,ou=people,$SUFFIX

dn: cn=nothing,ou=groups,$SUFFIX
objectClass: posixGroup
cn: nothing
gidNumber: 450
memberUid: carol
LDIF
	ip netns exec "$NS_G" ldapadd -x -H "$LDAP_URI" -D "$ADMIN_DN" -w "$ADMIN_PW" \
		-f "$SLAPD_DIR/data.ldif" > "$LAB_DIR/ldapadd.log" 2>&1
}

ldap_nuauth_conf() {	# ldap_nuauth_conf PASSWORD_CHECK
	lab_nuauth_conf
	cat >> "$LAB_DIR/nuauth.conf" <<CONF
nuauth_user_check_module="ldap"
nuauth_get_user_groups_module="ldap"
nuauth_login_failure_limit=0
nuauth_do_ip_authentication=1
nuauth_control_socket="$LAB_DIR/control"
ldap_uri="$LDAP_URI"
ldap_bind_dn="$SERVICE_DN"
ldap_bind_password="$SERVICE_PW"
ldap_users_base_dn="ou=people,$SUFFIX"
ldap_groups_base_dn="ou=groups,$SUFFIX"
ldap_password_check=$1
ldap_request_timeout=2
ldap_network_timeout=1
ldap_pool_size=2
CONF
}

# ldap_timing MODE: 50 wrong PLAIN passwords for bob ({CRYPT} sha512) and
# for a name the directory lacks (each checked as a known one's is, for
# the time), mean and median (doc/security.md shows them).  With "check",
# the unknown name's median must be at least 0.7 times bob's.
ldap_timing() {
	local times known unknown km um
	abuse 10.201.0.2 plaintime 10 bob >/dev/null	# warm up
	times=$(abuse 10.201.0.2 plaintime 50 bob ghost)	# taking turns
	known=$(sed -n 1p <<<"$times") unknown=$(sed -n 2p <<<"$times")
	echo "    wrong PLAIN password, LDAP ($1): known name: $known"
	echo "    wrong PLAIN password, LDAP ($1): unknown name: $unknown"
	km=$(awk '{print $4}' <<<"$known") um=$(awk '{print $4}' <<<"$unknown")
	[ "${2:-}" = check ] || return 0
	if [[ $known == *"refused 50 of 50: bad user name or password" ]] &&
	   [[ $unknown == *"refused 50 of 50: bad user name or password" ]] &&
	   awk -v k="$km" -v u="$um" 'BEGIN { exit !(u >= 0.7 * k) }'; then
		pass "$1: a wrong password costs an unknown name what it costs a known one (median ${um} vs ${km} ms)"
	else
		fail "$1: a wrong password costs an unknown name what it costs a known one" "$known" "$unknown"
	fi
}

# login_ok NAME LOCAL_UID USER PASSWORD: nutcpc logs in (and stays).
login_ok() {
	if lab_login "$2-$1" "$2" "$3" "$4" 15; then
		CLIENT_PIDS+=("$LAB_PID")
		pass "$1"
		return 0
	fi
	fail "$1" "$(tail -5 "$LAB_DIR/$2-$1.log")" "$(tail -5 "$LAB_DIR/nuauth.log")"
	return 1
}

# ldap_admin TOOL [ARGS...]: ldapadd, ldapmodify or ldapdelete as the
# directory's admin, the LDIF on standard input.
ldap_admin() {
	local tool=$1; shift
	ip netns exec "$NS_G" "$tool" -x -H "$LDAP_URI" -D "$ADMIN_DN" -w "$ADMIN_PW" "$@"
}

# login_refused NAME USER PASSWORD TEXT: nutcpc's login fails, saying TEXT.
login_refused() {
	local out
	out=$(lab_as "$NS_C" $PROBE_UID timeout 20 "$NUTCPC" -H 10.201.0.1 -p 4129 -U "$2" -P "$3" \
		-A "$LAB_DIR/pki/cacert.pem" -d 2>&1)
	check "$1" status_says $? error "$4" "$out"
}

# connect_case NAME LOCAL_UID PORT ok|refused [MARK [MS]]: MS bounds the
# connect (2000 ms).
connect_case() {
	local out port src mark
	if out=$(lab_connect "$2" "$3" "${6:-2000}"); then
		if [ "$4" = refused ]; then
			fail "$1" "connected: $out"
			return
		fi
		if [ -n "${5:-}" ]; then
			port=${out##*:}
			src=${out##* }
			src=${src%:*}
			mark=$(ip netns exec "$NS_G" conntrack -L -p tcp --orig-src "$src" \
				--sport "$port" --dport "$3" 2>/dev/null |
				grep -o 'mark=[0-9]*' | head -1 | cut -d= -f2)
			if [ "${mark:-none}" != "$(($5))" ]; then
				fail "$1" "$out" "mark=${mark:-none}, wanted $(($5))"
				return
			fi
		fi
		pass "$1"
	elif [ "$4" = refused ]; then
		pass "$1"
	else
		fail "$1" "$out" "$(tail -5 "$LAB_DIR/nuauth.log")"
	fi
}

# add_bad_entry LOG: adds the malformed ACL entry $BAD_DN (DstPort abc),
# ldapadd's output in LOG.
add_bad_entry() {
	ldap_admin ldapadd > "$LAB_DIR/$1" 2>&1 <<LDIF
dn: $BAD_DN
objectClass: nufwAcl
cn: bad port
nufwAclGid: 100
nufwAclDstPort: abc
LDIF
}

# median_login_ms USER PASSWORD N: the median time of N logins (TLS and
# SASL, through abuse.py), or nothing when one failed.
median_login_ms() {
	local out
	out=$(for _ in $(seq "$3"); do abuse 10.201.0.2 login "$1" "$2"; done)
	if grep -qv '^ok ' <<<"$out"; then
		echo "$out" | grep -v '^ok ' | head -1 >&2
		return 1
	fi
	awk '{print $2}' <<<"$out" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

# login_jobs: how many logins went to the worker pool so far.
login_jobs() { grep -c "first login step goes to the worker pool" "$LAB_DIR/nuauth.log"; }

# Logins (users file and directory) while SIGHUP reloads again and again.
login_loop() {	# login_loop USER PASSWORD N: prints how many were ok
	local ok=0 out
	for _ in $(seq "$3"); do
		out=$(abuse 10.201.0.2 login "$1" "$2")
		[ "${out%% *}" = ok ] && ok=$((ok + 1))
	done
	echo "$ok"
}

# reject_case NAME LOCAL_UID PORT: connect fails at once with ECONNREFUSED.
reject_case() {
	local out start elapsed
	start=$(date +%s%N)
	out=$(lab_connect "$2" "$3" 5000)
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	if grep -q "Connection refused" <<<"$out" && [ "$elapsed" -lt 1500 ]; then
		pass "$1 (${elapsed} ms)"
	else
		fail "$1" "$out after ${elapsed} ms"
	fi
}

# Bad ldap keys stop nuauth -t with file:line.
test_bad_keys() {
	local case line out status
	for case in 'ldap_user_filter="(uid=%x)"|unknown placeholder `%x'"'" \
		    'ldap_password_check=guess|`guess'"'"': expected bind or compare' \
		    'ldap_uri="http://127.0.0.1/"|is not a list of ldap://' \
		    'ldap_request_timeout=0|ldap_request_timeout'; do
		{ cat "$LAB_DIR/nuauth.conf"; echo "${case%%|*}"; } > "$LAB_DIR/bad.conf"
		line=$(wc -l < "$LAB_DIR/bad.conf")
		out=$("$NUAUTH" -t -c "$LAB_DIR/bad.conf" 2>&1); status=$?
		if [ $status -ne 0 ] && grep -qF "bad.conf:$line:" <<<"$out" && grep -qF -- "${case#*|}" <<<"$out"; then
			pass "a bad key stops nuauth -t with file:line: ${case%%|*}"
		else
			fail "a bad key stops nuauth -t with file:line: ${case%%|*}" "status $status: $out"
		fi
	done
}

test_module_loaded() {
	if grep -q "ldap: users under ou=people,$SUFFIX on $LDAP_URI (password check: bind" "$LAB_DIR/nuauth.log" &&
	   ! grep -q "not reachable" "$LAB_DIR/nuauth.log"; then
		pass "nuauth loads the ldap module and reaches slapd"
	else
		fail "nuauth loads the ldap module and reaches slapd" "$(cat "$LAB_DIR/nuauth.log")"
	fi
}

# Before any client logs in: IP authentication names guest, whose uid and
# groups come from LDAP (get_user_groups).
test_guest_from_ldap() {
	connect_case "a host without client is the guest, uid 3100 and group 300 from LDAP (port 9090)" \
		$PROBE_UID 9090 ok 3100
}

# Logins through LDAP (bind as the user), and what the ACLs make of them.
test_logins() {
	if login_ok "alice logs in with nutcpc and her LDAP password" $ALICE_UID alice alice-ldap-pw; then
		connect_case "alice (LDAP uid 1101, gid 100) gets port 80 with mark 1101" \
			$ALICE_UID 80 ok 1101
		connect_case "alice gets port 8080 through group 200 (posixGroup memberUid)" \
			$ALICE_UID 8080 ok
	fi
	if login_ok "bob logs in (a {CRYPT} sha512 userPassword)" $BOB_UID bob bob-ldap-pw; then
		connect_case "bob gets port 8080 through group 200 (groupOfNames member)" $BOB_UID 8080 ok 1102
		connect_case "bob (primary group 400) is dropped on port 80 (group 100 only)" \
			$BOB_UID 80 refused
	fi
	if login_ok "carol logs in" $CAROL_UID carol carol-ldap-pw; then
		connect_case "carol, only in groups without an ACL, is dropped" $CAROL_UID 80 refused
	fi
}

test_refused_logins() {
	local out name
	login_refused "a wrong password is refused" alice wrong-pw "bad user name or password"
	login_refused "the plaintext file's password does not log alice in" alice alicepw \
		"bad user name or password"
	out=$(abuse 10.201.0.2 login alice "")
	if [[ $out == refused* ]]; then
		pass "an empty password is refused (no anonymous bind)"
	else
		fail "an empty password is refused (no anonymous bind)" "$out"
	fi
	for name in 'al*' '*' 'alice)(uid=*' 'alice)(|(uid=*' '\2a'; do
		login_refused "the name \`$name' with alice's password is refused" "$name" alice-ldap-pw \
			"bad user name or password"
	done
}

# names with filter metacharacters reach slapd escaped
test_names_escaped() {
	if grep -qF 'filter (&(objectClass=posixAccount)(uid=al*))' "$LAB_DIR/slapd.log"; then
		fail "names are escaped in filters" "$(grep -F 'al*' "$LAB_DIR/slapd.log")"
	elif grep -qF '(uid=al\2A)' "$LAB_DIR/slapd.log" || grep -qF '(uid=al\2a)' "$LAB_DIR/slapd.log"; then
		pass "names are escaped in filters (slapd saw uid=al\\2a)"
	else
		fail "names are escaped in filters" "$(grep -F 'filter=' "$LAB_DIR/slapd.log" | tail -5)"
	fi
}

# The login latency through LDAP (TLS + SASL PLAIN + search, groups, bind).
test_login_latency() {
	local ms
	if ms=$(median_login_ms alice alice-ldap-pw 15); then
		echo "    login through LDAP (bind): median ${ms} ms of 15"
		if [ "$ms" -lt 1000 ]; then
			pass "a login through LDAP takes ${ms} ms (median)"
		else
			fail "a login through LDAP takes under 1 s" "median ${ms} ms"
		fi
	else
		fail "logins for the latency measurement work"
	fi
}

test_bind_timing() {
	ldap_timing bind
	# With bind, the unknown name's password goes to a DN that does not exist
	# (slapd hashes nothing there: what remains of the difference).
	check_log "bind: an unknown name's password is tried on a DN that does not exist, for the time" \
		slapd 'BIND dn="cn=nuauth-no-such-user,ou=people,dc=lab,dc=nufw"' 0
}

# One spelling per user: the directory matches uid without regard to case,
# so ALICE logs in; the session, the log and nuauthctl say alice (the
# entry's uid), and `nuauthctl disconnect alice' ends it with her other one.
test_one_spelling() {
	local logins upper_pid out
	logins=$(grep -c "user alice (uid 1101) logged in from" "$LAB_DIR/nuauth.log")
	if login_ok "ALICE logs in with alice's LDAP password" $UPPER_UID ALICE alice-ldap-pw; then
		upper_pid=$LAB_PID
		out=$(ctl users --json)
		if [ "$(grep -c "user alice (uid 1101) logged in from" "$LAB_DIR/nuauth.log")" = $((logins + 1)) ] &&
		   ! grep -q "user ALICE" "$LAB_DIR/nuauth.log" &&
		   python3 -c 'import json, sys; u = [x["user"] for x in json.loads(sys.argv[1])["users"]]
sys.exit(not (u.count("alice") == 2 and "ALICE" not in u))' "$out"; then
			pass "ALICE's session is alice's: in the log and in nuauthctl users"
		else
			fail "ALICE's session is alice's: in the log and in nuauthctl users" "$out" \
				"$(grep -i "alice" "$LAB_DIR/nuauth.log" | tail -3)"
		fi
		# That client would log in again by itself: hold it still.
		kill -STOP "$upper_pid"
		out=$(ctl disconnect alice --json)
		if python3 -c 'import json, sys; d = json.loads(sys.argv[1])
sys.exit(not (d["ok"] and d["sessions"] == 2))' "$out" &&
		   lab_wait_log nuauth "user alice disconnected from 10.201.0.2 (disconnected by the administrator)" 5 2; then
			pass "nuauthctl disconnect alice ends the session ALICE opened (and her other one)"
		else
			fail "nuauthctl disconnect alice ends the session ALICE opened (and her other one)" "$out"
		fi
		kill -TERM "$upper_pid"; kill -CONT "$upper_pid"; lab_stop "$upper_pid"
		# alice's first client logs in again by itself, as alice.
		lab_wait_log nuauth "user alice (uid 1101) logged in from" 15 $((logins + 2)) ||
			fail "alice's client logs in again after the disconnect"
	fi
}

# slapd stops: logins fail cleanly with a logged error; nuauth runs on and
# alice's session still works.
test_slapd_stopped() {
	local t0 t1
	lab_stop "$SLAPD_PID"
	t0=$(date +%s%N)
	login_refused "with slapd stopped, a login is refused" alice alice-ldap-pw \
		"login refused: the user database is unavailable"
	t1=$(date +%s%N)
	echo "    refused in $(( (t1 - t0) / 1000000 )) ms with slapd down (nutcpc start to exit)"
	check_log "nuauth logs that it cannot reach slapd" \
		nuauth "ldap: cannot connect to $LDAP_URI as $SERVICE_DN: Can't contact LDAP server" 0
	if kill -0 "$NUAUTH_PID" 2>/dev/null; then
		connect_case "nuauth keeps running: alice's session still gets port 80" $ALICE_UID 80 ok
	else
		fail "nuauth keeps running with slapd stopped" "$(tail -8 "$LAB_DIR/nuauth.log")"
	fi
}

# slapd is back: the pool's dead connections are replaced.
test_slapd_restarted() {
	local deadline out
	slapd_start slapd-again || fail "slapd restarts"
	# The hold-off after a failed connect is one second.
	deadline=$((SECONDS + 15))
	until out=$(abuse 10.201.0.2 login carol carol-ldap-pw) && [ "${out%% *}" = ok ] ||
	      [ $SECONDS -ge $deadline ]; do
		sleep 0.2
	done
	login_ok "with slapd restarted, alice logs in again" $PROBE_UID alice alice-ldap-pw
	check_log "nuauth logs that slapd answers again" nuauth "ldap: $LDAP_URI answers again" 0
}

test_chain_plaintext_ldap() {
	login_ok "chain plaintext ldap: alice logs in from the users file" $ALICE_UID alice alicepw
	connect_case "a host without client (10.201.0.50) is the guest, groups from LDAP" \
		$GUEST_UID 9090 ok 3100
}

test_hung_directory() {
	local n hung1 hung2 out ms t0
	kill -STOP "$SLAPD_PID"
	n=$(login_jobs)
	abuse 10.201.0.2 login carol carol-ldap-pw > "$LAB_DIR/hung1.out" 2>&1 &
	hung1=$!
	abuse 10.201.0.2 login carol carol-ldap-pw > "$LAB_DIR/hung2.out" 2>&1 &
	hung2=$!
	lab_wait_log nuauth "first login step goes to the worker pool" 10 $((n + 2)) ||
		fail "two logins of carol wait for the hung directory"
	out=$(abuse 10.201.0.2 login bob bobpw)
	ms=${out#ok }
	if [ "${out%% *}" = ok ] && [ "$ms" -lt 1000 ]; then
		pass "while carol's logins wait for the hung directory, bob (users file) logs in in ${ms} ms"
	else
		fail "while the directory hangs, bob (users file) logs in within 1 s" "$out"
	fi
	t0=$(date +%s%N)
	connect_case "while the directory hangs, alice's connection is decided within 500 ms" \
		$ALICE_UID 80 ok 1001 500
	echo "    alice's connect took $(( ($(date +%s%N) - t0) / 1000000 )) ms (nuprobe, with conntrack check)"
	connect_case "while the directory hangs, the guest's connection is decided within 500 ms (cached groups)" \
		$GUEST_UID 9090 ok 3100 500
	if kill -0 $hung1 2>/dev/null && kill -0 $hung2 2>/dev/null; then
		pass "carol's logins were still waiting for the directory meanwhile"
	else
		fail "carol's logins were still waiting for the directory meanwhile" \
			"$(cat "$LAB_DIR/hung1.out" "$LAB_DIR/hung2.out")"
	fi
	wait $hung1 $hung2
	if grep -q "the user database is unavailable" "$LAB_DIR/hung1.out" &&
	   grep -q "the user database is unavailable" "$LAB_DIR/hung2.out"; then
		pass "carol's logins are refused once ldap_request_timeout has passed"
	else
		fail "carol's logins are refused once ldap_request_timeout has passed" \
			"$(cat "$LAB_DIR/hung1.out" "$LAB_DIR/hung2.out")"
	fi
}

# A reload while a login job uses the ldap module: the job keeps the set
# of modules it started with, which is unloaded only when the job ends.
# (The timed-out requests above closed the pool's connections: a login
# with slapd running opens one again, then slapd hangs once more.)
test_reload_while_login_waits() {
	local deadline out n hung3 r u reload_line unload_line
	kill -CONT "$SLAPD_PID"
	deadline=$((SECONDS + 15))
	until out=$(abuse 10.201.0.2 login carol carol-ldap-pw) && [ "${out%% *}" = ok ] ||
	      [ $SECONDS -ge $deadline ]; do
		sleep 0.2
	done
	kill -STOP "$SLAPD_PID"
	n=$(login_jobs)
	abuse 10.201.0.2 login carol carol-ldap-pw > "$LAB_DIR/hung3.out" 2>&1 &
	hung3=$!
	lab_wait_log nuauth "first login step goes to the worker pool" 10 $((n + 1))
	r=$(grep -c "SIGHUP: configuration, users and ACLs reloaded" "$LAB_DIR/nuauth.log")
	u=$(grep -c "no longer used: unloading it" "$LAB_DIR/nuauth.log")
	kill -HUP "$NUAUTH_PID"
	lab_wait_log nuauth "SIGHUP: configuration, users and ACLs reloaded" 15 $((r + 1))
	lab_wait_log nuauth "no longer used: unloading it" 10 $((u + 1))
	wait $hung3
	kill -CONT "$SLAPD_PID"
	reload_line=$(grep -n "SIGHUP: configuration, users and ACLs reloaded" "$LAB_DIR/nuauth.log" | tail -1 | cut -d: -f1)
	unload_line=$(grep -n "no longer used: unloading it" "$LAB_DIR/nuauth.log" | tail -1 | cut -d: -f1)
	if kill -0 "$NUAUTH_PID" 2>/dev/null && grep -q "the user database is unavailable" "$LAB_DIR/hung3.out" &&
	   [ "${unload_line:-0}" -gt "${reload_line:-0}" ]; then
		pass "a reload while a login waits in the ldap module: the old modules are unloaded after the login ends"
	else
		fail "a reload while a login waits in the ldap module" "$(cat "$LAB_DIR/hung3.out")" \
			"reloaded at line ${reload_line:-none}, old set unloaded at line ${unload_line:-none}" \
			"$(tail -8 "$LAB_DIR/nuauth.log")"
	fi
}

test_logins_during_reloads() {
	local r storm1 storm2 hups reloads
	r=$(grep -c "SIGHUP: configuration, users and ACLs reloaded" "$LAB_DIR/nuauth.log")
	login_loop bob bobpw 40 > "$LAB_DIR/storm-bob.out" &
	storm1=$!
	login_loop carol carol-ldap-pw 40 > "$LAB_DIR/storm-carol.out" &
	storm2=$!
	hups=0
	while kill -0 $storm1 2>/dev/null || kill -0 $storm2 2>/dev/null; do
		kill -HUP "$NUAUTH_PID"
		hups=$((hups + 1))
		sleep 0.1
	done
	wait $storm1 $storm2
	reloads=$(( $(grep -c "SIGHUP: configuration, users and ACLs reloaded" "$LAB_DIR/nuauth.log") - r ))
	if kill -0 "$NUAUTH_PID" 2>/dev/null && [ "$(cat "$LAB_DIR/storm-bob.out")" = 40 ] &&
	   [ "$(cat "$LAB_DIR/storm-carol.out")" = 40 ] && [ "$reloads" -ge 5 ]; then
		pass "80 logins (users file and LDAP) all work during $reloads reloads"
	else
		fail "logins during reloads" "bob ok: $(cat "$LAB_DIR/storm-bob.out"), carol ok: $(cat "$LAB_DIR/storm-carol.out"), reloads: $reloads of $hups SIGHUPs" \
			"$(tail -5 "$LAB_DIR/nuauth.log")"
	fi
	connect_case "after the reloads alice's session still gets port 80" $ALICE_UID 80 ok 1001
}

test_compare() {
	local out out2 ms
	if out=$(abuse 10.201.0.2 login alice alice-ldap-pw) && [ "${out%% *}" = ok ] &&
	   out2=$(abuse 10.201.0.2 login bob bob-ldap-pw) && [ "${out2%% *}" = ok ]; then
		pass "compare: alice ({SSHA}) and bob ({CRYPT}) log in"
	else
		fail "compare: alice ({SSHA}) and bob ({CRYPT}) log in" "$out" "${out2:-}"
	fi
	out=$(abuse 10.201.0.2 login alice wrong-pw)
	if [[ $out == refused*"bad user name or password" ]]; then
		pass "compare: a wrong password is refused"
	else
		fail "compare: a wrong password is refused" "$out"
	fi
	if ms=$(median_login_ms alice alice-ldap-pw 15); then
		echo "    login through LDAP (compare): median ${ms} ms of 15"
	fi
	ldap_timing compare check
}

# ---- ACLs from LDAP ----

# The schema's cn=config form loads into a cn=config database as well as
# its slapd.conf form did into the lab's slapd.
test_schema_cnconfig() {
	local out
	mkdir -p "$SLAPD_DIR/cnconfig"
	{ printf 'dn: cn=config\nobjectClass: olcGlobal\ncn: config\n\n'
	  printf 'dn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: schema\n\n'
	  cat /etc/ldap/schema/core.ldif; echo
	  cat "${ACL_SCHEMA%.schema}.ldif"; } > "$SLAPD_DIR/cnconfig.ldif"
	if out=$(slapadd -n0 -F "$SLAPD_DIR/cnconfig" -l "$SLAPD_DIR/cnconfig.ldif" 2>&1) &&
	   [ -f "$SLAPD_DIR/cnconfig/cn=config/cn=schema/cn={1}nufw-acl.ldif" ]; then
		pass "the schema's cn=config form (nufw-acl.ldif) loads with slapadd -n0"
	else
		fail "the schema's cn=config form (nufw-acl.ldif) loads with slapadd -n0" "$out"
	fi
}

# The ACLs, group 100 being alice's: port 80 (but not 8080, which the
# plaintext file gives group 200), 7070 rejected within the server's /24,
# and 9090 only to a network the server is not in.
test_acl_entries() {
	if ldap_admin ldapadd > "$LAB_DIR/ldapadd-acls.log" 2>&1 <<LDIF
dn: $ACLS_DN
objectClass: organizationalUnit
ou: acls

dn: cn=web from ldap,$ACLS_DN
objectClass: nufwAcl
cn: web from ldap
nufwAclGid: 100
nufwAclProto: tcp
nufwAclDstPort: 80
nufwAclDecision: 1
nufwAclLogPrefix: ldap-web
nufwAclOrder: 10

dn: cn=reject 7070,$ACLS_DN
objectClass: nufwAcl
cn: reject 7070
nufwAclGid: 100
nufwAclDstIP: 10.202.0.0/24
nufwAclDstPort: 7070
nufwAclDecision: 3
nufwAclOrder: 20

dn: cn=elsewhere,$ACLS_DN
objectClass: nufwAcl
cn: elsewhere
nufwAclGid: 100
nufwAclDstIP: 10.203.0.0/16
nufwAclDstPort: 9090
nufwAclDecision: 1
LDIF
	then
		pass "slapd takes ACL entries of the shipped schema (nufw-acl.schema)"
	else
		fail "slapd takes ACL entries of the shipped schema" "$(cat "$LAB_DIR/ldapadd-acls.log")"
	fi
}

# acl_check by ldap: ldap_acls_base_dn is needed
test_acls_need_base_dn() {
	local out status
	out=$(ip netns exec "$NS_G" "$NUAUTH" -t -c "$LAB_DIR/nuauth.conf" 2>&1); status=$?
	if [ $status -ne 0 ] && grep -qF "ldap_acls_base_dn is not set" <<<"$out"; then
		pass "acl_check by ldap without ldap_acls_base_dn stops nuauth -t"
	else
		fail "acl_check by ldap without ldap_acls_base_dn stops nuauth -t" "status $status: $out"
	fi
}

# nuauth reads the ACL entries at start
test_acls_at_start() {
	check_log "nuauth reads the 3 ACL entries at start" nuauth "ldap: 3 ACLs under $ACLS_DN" 0
}

test_ldap_acls() {
	if login_ok "alice logs in, her ACLs coming from LDAP" $ACL_UID alice alice-ldap-pw; then
		connect_case "an LDAP ACL gives alice port 80 (mark 1101)" $ACL_UID 80 ok 1101
		check_log "nuauth's decision line carries the LDAP ACL's log_prefix (nufwAclLogPrefix)" \
			nuauth "accepted (acl web from ldap, log_prefix \"ldap-web\")" 5
		connect_case "alice is dropped on 8080: no LDAP ACL (the plaintext file is not read)" \
			$ACL_UID 8080 refused
		reject_case "an LDAP ACL with DstIP=10.202.0.0/24 and decision=3 rejects 7070 at once" \
			$ACL_UID 7070
		connect_case "an LDAP ACL whose DstIP (10.203.0.0/16) leaves out the server drops 9090" \
			$ACL_UID 9090 refused
	fi
}

# The cases of the plaintext file (run.sh, client.sh), from LDAP, as NuFW's
# test_ldap_acl.py ran its test_acl.py on LDAP: by user (uid), by
# application (the program's path), by OS and by outgoing interface, each
# matching and not matching.  The entries go at the end, as they came.
ACL_KINDS=("by uid 1101:7401:nufwAclUid: 1101" "by uid 1102:7402:nufwAclUid: 1102"
	   "app nuprobe:7403:nufwAclGid: 100:nufwAclApp: $NUPROBE"
	   "app other:7404:nufwAclGid: 100:nufwAclApp: ${NUPROBE}xxx"
	   "os linux:7405:nufwAclGid: 100:nufwAclOS: Linux"
	   "os other:7406:nufwAclGid: 100:nufwAclOS: Linuxxxx"
	   "out by g1:7407:nufwAclGid: 100:nufwAclOutDev: g1"
	   "out by bad0:7408:nufwAclGid: 100:nufwAclOutDev: bad0")
test_acl_kinds() {
	local k name port attrs client="$ACL_UID-alice logs in, her ACLs coming from LDAP" pid
	for k in "${ACL_KINDS[@]}"; do
		name=${k%%:*} k=${k#*:} port=${k%%:*} attrs=${k#*:}
		printf 'dn: cn=%s,%s\nobjectClass: nufwAcl\ncn: %s\nnufwAclProto: tcp\n' \
			"$name" "$ACLS_DN" "$name"
		printf 'nufwAclDstPort: %s\nnufwAclDecision: 1\n' "$port"
		sed 's/:nufwAcl/\nnufwAcl/' <<<"$attrs"
		echo
	done > "$SLAPD_DIR/kinds.ldif"
	if ! ldap_admin ldapadd -f "$SLAPD_DIR/kinds.ldif" > "$LAB_DIR/ldapadd-kinds.log" 2>&1; then
		fail "ldapadd of the ACLs by user, program, OS and interface" \
			"$(cat "$LAB_DIR/ldapadd-kinds.log")"
		return
	fi
	lab_start server-74 "$NS_S" "$NUPROBE" serve 7401 7402 7403 7404 7405 7406 7407 7408
	pid=$LAB_PID
	if lab_reload_nuauth &&
	   lab_wait_log "$client" "needs with each connection: the program$" 5 &&
	   lab_wait_log server-74 "ready"; then
		connect_case "LDAP ACL by user: uid 1101 (alice) gets 7401 (mark 1101)" $ACL_UID 7401 ok 1101
		connect_case "LDAP ACL by user: uid 1102's port 7402 is dropped for alice" $ACL_UID 7402 refused
		connect_case "LDAP ACL by application: nufwAclApp naming the program gets 7403" \
			$ACL_UID 7403 ok 1101
		connect_case "LDAP ACL by application: another program's path drops 7404" \
			$ACL_UID 7404 refused
		connect_case "LDAP ACL by OS: nufwAclOS Linux gets 7405" $ACL_UID 7405 ok 1101
		connect_case "LDAP ACL by OS: another OS's name drops 7406" $ACL_UID 7406 refused
		connect_case "LDAP ACL by outgoing interface: nufwAclOutDev g1 (the server's side) gets 7407" \
			$ACL_UID 7407 ok 1101
		connect_case "LDAP ACL by outgoing interface: bad0 drops 7408" $ACL_UID 7408 refused
	else
		fail "nuauth reloads the ACLs by user, program, OS and interface, and asks the client for the program"
	fi
	# Gone again: the tests after count the entries.
	for k in "${ACL_KINDS[@]}"; do
		ldap_admin ldapdelete "cn=${k%%:*},$ACLS_DN" >/dev/null 2>&1 ||
			fail "ldapdelete cn=${k%%:*}"
	done
	lab_reload_nuauth || fail "nuauth reloads without them"
	lab_stop "$pid"
}

# A change in the directory applies at SIGHUP: port 80 becomes 8080.
test_acl_change_at_sighup() {
	if ldap_admin ldapmodify > "$LAB_DIR/ldapmodify.log" 2>&1 <<LDIF
dn: cn=web from ldap,$ACLS_DN
changetype: modify
replace: nufwAclDstPort
nufwAclDstPort: 8080
LDIF
	then
		if lab_reload_nuauth; then
			connect_case "after ldapmodify and SIGHUP, the changed LDAP ACL gives 8080" \
				$ACL_UID 8080 ok 1101
			connect_case "after ldapmodify and SIGHUP, port 80 is dropped" $ACL_UID 80 refused
		else
			fail "nuauth reloads at SIGHUP"
		fi
	else
		fail "ldapmodify changes the ACL" "$(cat "$LAB_DIR/ldapmodify.log")"
	fi
}

# A malformed entry: nuauth -t names its DN and attribute; a reload keeps
# the ACLs read before.
test_malformed_acl_entry() {
	local out status want
	add_bad_entry ldapadd-bad.log
	out=$(ip netns exec "$NS_G" "$NUAUTH" -t -c "$LAB_DIR/nuauth.conf" 2>&1); status=$?
	want="ldap:///$BAD_DN: nufwAclDstPort: expected a comma list of ports (n or a-b, 0 to 65535), got \`abc'"
	if [ $status -ne 0 ] && grep -qF -- "$want" <<<"$out"; then
		pass "a malformed ACL entry (DstPort abc) stops nuauth -t naming its DN and attribute"
	else
		fail "a malformed ACL entry stops nuauth -t naming its DN and attribute" \
			"status $status, wanted $want in:" "$out"
	fi
	kill -HUP "$NUAUTH_PID"
	if lab_wait_log nuauth "SIGHUP: .*keeping the running configuration"; then
		grep -F "keeping the running configuration" "$LAB_DIR/nuauth.log" | tail -1 | sed 's/^/    /'
		connect_case "with a malformed entry, a reload keeps the LDAP ACLs read before (8080)" \
			$ACL_UID 8080 ok
	else
		fail "a reload with a malformed entry is refused"
	fi
	ldap_admin ldapdelete "$BAD_DN" > /dev/null 2>&1 || fail "ldapdelete of the bad entry"
}

# $BULK more entries (LDAP_BULK_ACLS, 2000): past slapd's size limit of 500
# for one search, so they are read in pages.
test_bulk_acls() {
	local i t0 line
	for i in $(seq 1 "$BULK"); do
		printf 'dn: cn=bulk %d,%s\nobjectClass: nufwAcl\ncn: bulk %d\nnufwAclUid: %d\n' \
			"$i" "$ACLS_DN" "$i" $((50000 + i))
		printf 'nufwAclDstIP: 10.%d.%d.0/24\nnufwAclDstPort: %d\nnufwAclOrder: 30\n\n' \
			$((i / 256)) $((i % 256)) $((1024 + i))
	done > "$SLAPD_DIR/bulk.ldif"
	t0=$(date +%s%N)
	if ldap_admin ldapadd -f "$SLAPD_DIR/bulk.ldif" > "$LAB_DIR/ldapadd-bulk.log" 2>&1; then
		echo "    ldapadd of $BULK ACL entries: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
		if lab_reload_nuauth 30 &&
		   line=$(grep "ldap: $((BULK + 3)) ACLs under $ACLS_DN" "$LAB_DIR/nuauth.log"); then
			pass "all $((BULK + 3)) ACL entries are read at reload, past slapd's size limit of 500"
			echo "    ${line##*ldap: }"
			connect_case "with $((BULK + 3)) LDAP ACLs, alice still gets 8080" $ACL_UID 8080 ok
		else
			fail "all $((BULK + 3)) ACL entries are read at reload" \
				"$(grep -i 'acl\|SIGHUP' "$LAB_DIR/nuauth.log" | tail -5)"
		fi
	else
		fail "ldapadd of $BULK ACL entries" "$(tail -5 "$LAB_DIR/ldapadd-bulk.log")"
	fi
}

test_acls_refresh() {
	if login_ok "alice logs in to the nuauth that refreshes its ACLs" $REFRESH_UID alice alice-ldap-pw
	then
		connect_case "before the change, the LDAP ACL gives 8080" $REFRESH_UID 8080 ok
		ldap_admin ldapmodify > "$LAB_DIR/ldapmodify-2.log" 2>&1 <<LDIF
dn: cn=web from ldap,$ACLS_DN
changetype: modify
replace: nufwAclDstPort
nufwAclDstPort: 80
LDIF
		if lab_wait_log nuauth "ldap: the ACLs under $ACLS_DN changed: $((BULK + 3)) ACLs now" 10; then
			pass "ldap_acls_refresh: nuauth sees the change in the directory without SIGHUP"
			connect_case "after the refresh, the LDAP ACL gives 80" $REFRESH_UID 80 ok 1101
			connect_case "after the refresh, 8080 is dropped" $REFRESH_UID 8080 refused
		else
			fail "ldap_acls_refresh: nuauth sees the change in the directory without SIGHUP"
		fi
		add_bad_entry ldapadd-bad2.log
		if lab_wait_log nuauth "ldap: refreshing the ACLs: ldap:///$BAD_DN: nufwAclDstPort: .*keeping the $((BULK + 3))" 10
		then
			pass "a refresh meeting a malformed entry logs its DN and keeps the running ACLs"
			connect_case "with the malformed entry in the directory, 80 still works" \
				$REFRESH_UID 80 ok
		else
			fail "a refresh meeting a malformed entry logs its DN and keeps the running ACLs"
		fi
		ldap_admin ldapdelete "$BAD_DN" > /dev/null 2>&1
		if lab_wait_log nuauth "ldap: refreshing the ACLs works again" 10; then
			check_count "the failing refreshes were logged once, and the recovery too" \
				nuauth "ldap: refreshing the ACLs: " 1
		else
			fail "nuauth logs that refreshing works again"
		fi
	fi
}

# A refresh that would need the client's program (App=) is refused: the
# clients were not asked for it.  SIGHUP applies it, and asks them.
test_refresh_app() {
	if [ -n "${NUAUTH_PID:-}" ] && grep -q "refreshing the ACLs works again" "$LAB_DIR/nuauth.log"; then
		ldap_admin ldapadd > "$LAB_DIR/ldapadd-app.log" 2>&1 <<LDIF
dn: cn=by program,$ACLS_DN
objectClass: nufwAcl
cn: by program
nufwAclGid: 100
nufwAclDstPort: 9090
nufwAclApp: */nuprobe
LDIF
		if lab_wait_log nuauth "ldap: refreshing the ACLs: the new ACLs read the client's program (nufwAclApp)" 10
		then
			pass "a refresh whose ACLs would need the client's program (App=) is refused"
			connect_case "meanwhile the App= ACL does not apply (9090 dropped)" $REFRESH_UID 9090 refused
			kill -HUP "$NUAUTH_PID"
			if lab_wait_log nuauth "SIGHUP: configuration, users and ACLs reloaded"; then
				connect_case "after SIGHUP, the LDAP ACL with App=*/nuprobe gives 9090" \
					$REFRESH_UID 9090 ok
			else
				fail "nuauth reloads at SIGHUP (App= ACL)"
			fi
		else
			fail "a refresh whose ACLs would need the client's program (App=) is refused" \
				"$(grep 'ldap: ' "$LAB_DIR/nuauth.log" | tail -3)"
		fi
	fi
}

# nuauth_stop SAVED_LOG: stops nuauth; its log is kept as SAVED_LOG.
nuauth_stop() {
	lab_stop "$NUAUTH_PID"
	mv "$LAB_DIR/nuauth.log" "$LAB_DIR/$1"
}

# nuauth_start_or_end WHAT: starts nuauth again; the suite cannot go on
# without it ("nuauth starts WHAT" fails and the suite ends).
nuauth_start_or_end() {
	lab_start_nuauth || { fail "nuauth starts $1"; lab_finish; exit 1; }
}

# ---- A hung directory blocks only the logins that ask it ----
# slapd stopped with SIGSTOP: its connections stay open and nothing
# answers, so a request waits its whole ldap_request_timeout (2 s here).
# The chain is "plaintext ldap": alice and bob are in the users file,
# carol only in the directory.  The guest (IP authentication) gets its
# groups from the directory, cached for nuauth_user_groups_cache_ttl.
# chain_plaintext_ldap: the clients stopped, nuauth again with that chain,
# and the guest's desktop user leaving from 10.201.0.50.
chain_plaintext_ldap() {
	local pid
	for pid in "${CLIENT_PIDS[@]}"; do
		lab_stop "$pid"
	done
	CLIENT_PIDS=()
	nuauth_stop nuauth-bind.log
	ldap_nuauth_conf bind
	cat >> "$LAB_DIR/nuauth.conf" <<CONF
nuauth_user_check_module="plaintext ldap"
nuauth_number_authcheckers=4
nuauth_user_groups_cache_ttl=120
CONF
	ip -n "$NS_C" addr add 10.201.0.50/24 dev c0
	ip -n "$NS_C" route add 10.202.0.0/24 via 10.201.0.1 src 10.201.0.50 table 75
	ip -n "$NS_C" rule add uidrange $GUEST_UID-$GUEST_UID table 75
	nuauth_start_or_end "with the chain plaintext ldap"
}

# --- the suite: set-up, then the tests in order
lab_netns
lab_pki >/dev/null
slapd_conf
slapd_start slapd || { fail "slapd starts"; lab_finish; exit 1; }
if slapd_load; then
	pass "slapd runs in the lab and takes the users and groups"
else
	fail "slapd runs in the lab and takes the users and groups" "$(cat "$LAB_DIR/ldapadd.log")"
	lab_finish; exit 1
fi
ldap_nuauth_conf bind
lab_tests test_bad_keys
lab_rules
lab_start_server
lab_start_nuauth || { fail "nuauth starts with the ldap module"; lab_finish; exit 1; }
lab_tests test_module_loaded
lab_start_nufw || { fail "nufw connects to nuauth"; lab_finish; exit 1; }

# The users module: logins through LDAP (bind), and a directory that stops.
lab_tests \
	test_guest_from_ldap \
	test_logins \
	test_refused_logins \
	test_names_escaped \
	test_login_latency \
	test_bind_timing \
	test_one_spelling \
	test_slapd_stopped \
	test_slapd_restarted
chain_plaintext_ldap
lab_tests \
	test_chain_plaintext_ldap \
	test_hung_directory \
	test_reload_while_login_waits \
	test_logins_during_reloads

# ldap_password_check=compare: userPassword read as the service account
# and checked in nuauth ({SSHA} for alice, {CRYPT} for bob).
nuauth_stop nuauth-hung.log
ldap_nuauth_conf compare
nuauth_start_or_end "with ldap_password_check=compare"
lab_tests test_compare

# The ACLs module (nuauth_acl_check_module="ldap").
lab_tests test_schema_cnconfig test_acl_entries
nuauth_stop nuauth-compare.log
ldap_nuauth_conf bind
echo 'nuauth_acl_check_module="ldap"' >> "$LAB_DIR/nuauth.conf"
lab_tests test_acls_need_base_dn
echo "ldap_acls_base_dn=\"$ACLS_DN\"" >> "$LAB_DIR/nuauth.conf"
nuauth_start_or_end "with ACLs from LDAP"
lab_tests \
	test_acls_at_start \
	test_ldap_acls \
	test_acl_kinds \
	test_acl_change_at_sighup \
	test_malformed_acl_entry \
	test_bulk_acls

# ldap_acls_refresh: changes apply without SIGHUP; a malformed entry is
# logged once and the running ACLs stay.
nuauth_stop nuauth-acls.log
echo 'ldap_acls_refresh=1' >> "$LAB_DIR/nuauth.conf"
nuauth_start_or_end "with ldap_acls_refresh"
lab_tests test_acls_refresh test_refresh_app

lab_finish
