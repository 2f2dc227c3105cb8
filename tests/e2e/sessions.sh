#!/bin/bash
# Session limits, failed-login locks, crypt(3) passwords, nuauth -t and a
# reload that keeps the sessions, in the namespace lab (run as root):
#   tests/e2e/sessions.sh BUILD_DIR
# Prints one PASS/FAIL line per check and ends with "N passed, N failed".
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"

lab_init "${1:-.}"

lab_netns
ip -n "$NS_C" addr add 10.201.0.50/24 dev c0	# the address that fails
ip -n "$NS_C" addr add 10.201.0.60/24 dev c0	# another user's address
ip -n "$NS_C" addr add 10.201.0.3/24 dev c0	# someone else's, who guesses alice's password
lab_pki >/dev/null
lab_nuauth_conf
# carol's password is a sha512-crypt hash.
carol_hash=$(printf 'carolpw\n' | "$NUAUTHCTL" hash --scheme sha512)
echo "carol:$carol_hash:1003:100" >> "$LAB_DIR/users.nufw"
echo "erin:erinpw:1005:100" >> "$LAB_DIR/users.nufw"	# not logged in before the name lock test
cat >> "$LAB_DIR/nuauth.conf" <<CONF
nuauth_single_user_client_limit=1
nuauth_login_failure_limit=5
nuauth_login_failure_window=60
nuauth_login_lock_time=30
nuauth_login_user_failure_limit=6
CONF

# nuauth -t: a good configuration, then bad ones (a key, a users file line).
if out=$("$NUAUTH" -t -c "$LAB_DIR/nuauth.conf" 2>&1) && grep -q "configuration OK" <<<"$out"; then
	pass "nuauth -t: a good configuration is OK"
else
	fail "nuauth -t: a good configuration is OK" "$out"
fi
# NuFW's nuauth_acl_cache is known, and said to be needless.
{ cat "$LAB_DIR/nuauth.conf"; echo "nuauth_acl_cache=1"; } > "$LAB_DIR/acl-cache.conf"
if out=$("$NUAUTH" -t -c "$LAB_DIR/acl-cache.conf" 2>&1) && grep -q "configuration OK" <<<"$out" &&
   grep -q "nuauth_acl_cache: ACLs are indexed and need no cache: ignored" <<<"$out"; then
	pass "nuauth -t: NuFW's nuauth_acl_cache=1 is accepted, with a note"
else
	fail "nuauth -t: NuFW's nuauth_acl_cache=1 is accepted, with a note" "$out"
fi
sed 's/^nuauth_single_user_client_limit=1$/nuauth_single_user_client_limit=many/' \
	"$LAB_DIR/nuauth.conf" > "$LAB_DIR/bad-key.conf"
line=$(grep -n '^nuauth_single_user_client_limit=' "$LAB_DIR/bad-key.conf" | cut -d: -f1)
out=$("$NUAUTH" -t -c "$LAB_DIR/bad-key.conf" 2>&1); status=$?
if [ $status = 1 ] && grep -q "bad-key.conf:$line:" <<<"$out"; then
	pass "nuauth -t: a bad value fails with its file and line"
else
	fail "nuauth -t: a bad value fails with its file and line" "status $status: $out"
fi
{ cat "$LAB_DIR/users.nufw"; echo "dave:\$y\$bad:1004:100"; } > "$LAB_DIR/bad-users.nufw"
chmod 600 "$LAB_DIR/bad-users.nufw"
line=$(wc -l < "$LAB_DIR/bad-users.nufw")
sed "s|^plaintext_userfile=.*|plaintext_userfile=\"$LAB_DIR/bad-users.nufw\"|" \
	"$LAB_DIR/nuauth.conf" > "$LAB_DIR/bad-users.conf"
out=$("$NUAUTH" -t -c "$LAB_DIR/bad-users.conf" 2>&1); status=$?
if [ $status = 1 ] && grep -q "bad-users.nufw:$line: user \`dave'" <<<"$out" &&
   ! grep -q "configuration OK" <<<"$out"; then
	pass "nuauth -t: a bad users file fails with its file and line"
else
	fail "nuauth -t: a bad users file fails with its file and line" "status $status: $out"
fi

lab_rules
lab_start_server
lab_start_nuauth
lab_start_nufw

# nuauth_single_user_client_limit=1: alice's second client is refused.
lab_login alice-client $ALICE_UID alice alicepw
ALICE_CLIENT_PID=$LAB_PID
out=$(lab_as "$NS_C" $ALICE2_UID \
	timeout 15 "$NUTCPC" -H 10.201.0.1 -U alice -P alicepw -A "$LAB_DIR/pki/cacert.pem" -d 2>&1)
check "a second session of alice is refused and nutcpc says why" \
	status_says $? error "login refused: too many sessions for user alice" "$out"
check "alice's first session still works" lab_connect $ALICE_UID 80

# A user whose password is a crypt(3) hash.
if lab_login carol-client $CAROL_UID carol carolpw && out=$(lab_connect $CAROL_UID 80); then
	pass "carol logs in with a \$6\$ password and gets through"
else
	fail "carol logs in with a \$6\$ password and gets through" "${out:-}" \
		"$(tail -3 "$LAB_DIR/carol-client.log")"
fi

# Six wrong passwords from 10.201.0.50 (each for another name, so that only
# the address counts) lock it: then even bob's right password is refused,
# at once, while 10.201.0.60 logs in.
for i in 1 2 3 4 5 6; do
	abuse 10.201.0.50 login "nosuch$i" wrong >> "$LAB_DIR/wrong.out" 2>&1
done
out=$(abuse 10.201.0.50 login bob bobpw 2>&1)
ms=$(sed -n 's/^refused \([0-9]*\):.*/\1/p' <<<"$out")
if grep -q "too many failed logins" <<<"$out" && [ -n "$ms" ] && [ "$ms" -lt 1000 ]; then
	pass "after 6 wrong passwords the address is locked: the right one is refused in ${ms} ms"
else
	fail "after 6 wrong passwords the address is locked" "$out" "$(cat "$LAB_DIR/wrong.out")"
fi
n=$(grep -c "logins from 10.201.0.50 locked for 30 s" "$LAB_DIR/nuauth.log")
if [ "$n" = 1 ]; then
	pass "the lock is logged once"
else
	fail "the lock is logged once" "logged $n times" "$(grep 10.201.0.50 "$LAB_DIR/nuauth.log" | tail -5)"
fi
out=$(abuse 10.201.0.60 login bob bobpw 2>&1)
check "a login from another address still works" matches "$out" "^ok"

# SIGHUP: the configuration is read again; alice's session stays.
kill -HUP "$NUAUTH_PID"
if lab_wait_log nuauth "SIGHUP: configuration, users and ACLs reloaded" 10 &&
   out=$(lab_connect $ALICE_UID 80) &&
   [ "$(grep -c "logged in" "$LAB_DIR/alice-client.log")" = 1 ] &&
   [ "$(grep -c "user alice (uid 1001) logged in" "$LAB_DIR/nuauth.log")" = 1 ]; then
	pass "after SIGHUP alice's connection works without a new login"
else
	fail "after SIGHUP alice's connection works without a new login" "${out:-}" \
		"$(tail -5 "$LAB_DIR/nuauth.log")"
fi
# The lock survives the reload.
out=$(abuse 10.201.0.50 login bob bobpw 2>&1)
check "the address stays locked after a reload" matches "$out" "too many failed logins"

# 100 wrong passwords for alice from 10.201.0.3: that address is locked,
# alice is not: she logs in from her desktop (10.201.0.2) at once.
lab_stop "$ALICE_CLIENT_PID"
lab_wait_log nuauth "user alice logged out from 10.201.0.2" 10
out=$(abuse 10.201.0.3 badlogins 100 alice 2>&1)
locked=$(abuse 10.201.0.3 login alice alicepw 2>&1)
start=$(date +%s%N)
desk=$(abuse 10.201.0.2 login alice alicepw 2>&1)
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "$out" = "refused 100 of 100" ] && grep -q "too many failed logins" <<<"$locked" &&
   grep -q "^ok" <<<"$desk" && [ "$ms" -lt 2000 ]; then
	pass "after 100 wrong passwords for alice from another address, she logs in from her desktop at once (${desk#ok } ms, ${ms} ms with the client's start)"
else
	fail "after 100 wrong passwords for alice from another address, she logs in from her desktop at once" \
		"guesser: $out" "guesser's right password: $locked" "desktop: $desk in $ms ms" \
		"$(grep -i "alice\|10.201.0.3" "$LAB_DIR/nuauth.log" | tail -5)"
fi
if grep -q "logins from 10.201.0.3 locked for 30 s" "$LAB_DIR/nuauth.log" &&
   ! grep -q 'logins of user "alice" locked' "$LAB_DIR/nuauth.log"; then
	pass "the guesser's address is locked and logged; alice's name is not"
else
	fail "the guesser's address is locked and logged; alice's name is not" \
		"$(grep "locked for" "$LAB_DIR/nuauth.log")"
fi

# Six wrong passwords for bob, each from another address
# (nuauth_login_user_failure_limit=6): his name is locked for the addresses
# he has not logged in from, so his right password is refused from a fresh
# address, while he logs in from 10.201.0.60 (where he did before) and
# erin logs in from the fresh address.
for i in 1 2 3 4 5 6; do
	ip -n "$NS_C" addr add "10.201.0.7$i/24" dev c0
	abuse "10.201.0.7$i" login bob wrong >> "$LAB_DIR/wrong-bob.out" 2>&1
done
ip -n "$NS_C" addr add 10.201.0.80/24 dev c0
out=$(abuse 10.201.0.80 login bob bobpw 2>&1)
if grep -q "too many failed logins" <<<"$out" &&
   grep -q 'logins of user "bob" locked for 30 s after 6 failed logins, except from the addresses it logged in from lately' \
	"$LAB_DIR/nuauth.log"; then
	pass "after 6 wrong passwords from 6 addresses bob's name is locked for new addresses"
else
	fail "after 6 wrong passwords from 6 addresses bob's name is locked for new addresses" "$out" \
		"$(cat "$LAB_DIR/wrong-bob.out")"
fi
out=$(abuse 10.201.0.60 login bob bobpw 2>&1)
ms=$(sed -n 's/^ok \([0-9]*\)$/\1/p' <<<"$out")
if [ -n "$ms" ] && [ "$ms" -lt 1000 ]; then
	pass "meanwhile bob logs in at once from the address he logged in from before (${ms} ms)"
else
	fail "meanwhile bob logs in at once from the address he logged in from before" "$out"
fi
out=$(abuse 10.201.0.80 login erin erinpw 2>&1)
check "another user logs in from that address meanwhile" matches "$out" "^ok"

lab_finish
