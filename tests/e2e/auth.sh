#!/bin/bash
# End-to-end tests of user authentication in the namespace lab (run as root):
# SCRAM-SHA-256 with verifiers from the users file, PLAIN, and certificate
# login (SASL EXTERNAL) with the CA and a CRL.
#   tests/e2e/auth.sh BUILD_DIR
# Prints one PASS/FAIL line per test and ends with "N passed, N failed".
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"

lab_init "${1:-.}"
P=$LAB_DIR/pki

lab_netns
lab_pki
lab_nuauth_conf

# --- users: alice has a password hash and a SCRAM verifier, bob an {SSHA}
# digest only, carol a verifier only, dave a hash and a certificate that
# gets revoked; mallory has a certificate but is not a user.
alice_pw=$(echo alicepw | "$CTL" hash --scheme ssha --scram)
bob_pw=$(echo bobpw | "$CTL" hash --scheme ssha)
carol_pw=$(echo carolpw | "$CTL" hash --scheme scram --iterations 8192)
dave_pw=$(echo davepw | "$CTL" hash --scheme sha512)
cat > "$LAB_DIR/users.nufw" <<USERS
alice:$alice_pw:1001:100
bob:$bob_pw:1002:100
carol:$carol_pw:1003:100
dave:$dave_pw:1004:100
erin:$dave_pw:1005:100
USERS
chmod 600 "$LAB_DIR/users.nufw"
for u in alice dave mallory; do
	"$CTL" pki issue "$P" user $u --days 30 >/dev/null
done
# A gateway's certificate whose CN is a user's name.
"$CTL" pki issue "$P" nufw erin --out erin-gw --days 30 >/dev/null
# Each desktop user owns the keys it uses (mode 0600 stays).
chown $ALICE_UID "$P/alice-key.pem"
chown $BOB_UID "$P/dave-key.pem" "$P/mallory-key.pem" "$P/erin-gw-key.pem"
"$CTL" pki revoke "$P" dave >/dev/null
# Port 8080 only for logins stronger than a password sent (authquality=3:
# SCRAM, or 4: a certificate).
cat >> "$LAB_DIR/acls.nufw" <<ACLS

[strong logins to 8080]
decision=1
gid=100
proto=6
DstPort=8080
authquality=3
ACLS
cat >> "$LAB_DIR/nuauth.conf" <<CONF
nuauth_tls_crl="$P/crl.pem"
nuauth_tls_request_cert=1
nuauth_tls_auth_by_cert=1
nuauth_control_socket="$LAB_DIR/control"
nuauth_login_failure_limit=0
CONF

lab_rules
lab_start_server
lab_start_nuauth
lab_start_nufw

# nutcpc NAME UID OPTION...: a foreground client logging in; waits for it.
nutcpc_bg() {
	local name=$1 uid=$2; shift 2
	lab_start_as "$name" "$NS_C" "$uid" "$NUTCPC" -H 10.201.0.1 -p 4129 \
		-A "$P/cacert.pem" -d -v "$@"
}
# refused UID OPTION...: a client that must fail to log in; prints its output.
refused() {
	local uid=$1; shift
	lab_as "$NS_C" "$uid" timeout 20 "$NUTCPC" -H 10.201.0.1 -p 4129 \
		-A "$P/cacert.pem" -d "$@" 2>&1
}
# login_line USER MECH: did nuauth log USER's login with MECH?
login_line() {
	grep -q "user $1 (uid [0-9]*) logged in from 10.201.0.2 with $2\$" "$LAB_DIR/nuauth.log"
}
# check_login NAME CLIENT USER MECHANISM: the client CLIENT (nutcpc_bg)
# logs in, and nuauth logs USER's login with MECHANISM.
check_login() {
	if lab_wait_log "$2" "logged in" 15 && login_line "$3" "$4"; then
		pass "$1"
	else
		fail "$1" "$(tail -5 "$LAB_DIR/$2.log")"
	fi
}

# --- SCRAM-SHA-256: the client prefers it, nuauth says it was used.
nutcpc_bg alice $ALICE_UID -U alice -P alicepw
if lab_wait_log alice "logged in" 15 && login_line alice SCRAM-SHA-256; then
	pass "alice logs in with SCRAM-SHA-256 (the client's first choice)"
else
	fail "alice logs in with SCRAM-SHA-256 (the client's first choice)" \
		"$(grep -i "alice\|sasl" "$LAB_DIR/nuauth.log" | tail -5)"
fi
json=$("$CTL" users -s "$LAB_DIR/control" --json 2>&1)
if python3 -c 'import json,sys; d=json.loads(sys.argv[1]); u=[x for x in d["users"] if x["user"]=="alice"]; sys.exit(0 if u and u[0]["mechanism"]=="SCRAM-SHA-256" else 1)' "$json"; then
	pass "nuauthctl users --json shows alice's mechanism SCRAM-SHA-256"
else
	fail "nuauthctl users --json shows alice's mechanism SCRAM-SHA-256" "$json"
fi
check_mark "alice's connection after a SCRAM login passes with her mark" $ALICE_UID 80 1001
check "authquality=3: alice's SCRAM login reaches port 8080" lab_connect $ALICE_UID 8080
lab_stop "$LAB_PID"

# --- a wrong password with SCRAM is refused.
out=$(refused $ALICE_UID -U alice -P wrongpw -M SCRAM-SHA-256)
if grep -q "login refused: bad user name or password" <<<"$out" &&
   lab_wait_log nuauth "client 10.201.0.2: login refused: bad user name or password" 10 2>/dev/null; then
	pass "a wrong password with SCRAM-SHA-256 is refused"
else
	fail "a wrong password with SCRAM-SHA-256 is refused" "$out"
fi

# --- a name nuauth does not know: SCRAM goes on as for a known user (a
# salt and a count, the same salt for the same name each time) and fails
# at the proof as a wrong password does, so a first step tells no one
# which names exist.
scram_first() { abuse 10.201.0.2 scramfirst "$1"; }	# USER: abuse.py's first SCRAM step
known=$(scram_first alice) ghost1=$(scram_first ghost) ghost2=$(scram_first ghost)
other=$(scram_first phantom)
if [[ $known == "step i="* && $ghost1 == "step i=4096 s="* ]] && [ "$ghost1" = "$ghost2" ] &&
   [ "$ghost1" != "$other" ] && [[ $other == "step i=4096 s="* ]]; then
	pass "an unknown name's SCRAM login goes on as a known one's (same salt for the same name)"
else
	fail "an unknown name's SCRAM login goes on as a known one's (same salt for the same name)" \
		"alice: $known" "ghost: $ghost1 / $ghost2" "phantom: $other"
fi
out=$(refused $ALICE_UID -U ghost -P wrongpw -M SCRAM-SHA-256)
check "an unknown name's SCRAM login is refused as a wrong password is" \
	matches "$out" "login refused: bad user name or password"

# --- bob has only an {SSHA} digest: no SCRAM, PLAIN works.
out=$(refused $BOB_UID -U bob -P bobpw -M SCRAM-SHA-256)
check "bob ({SSHA} only) cannot log in with SCRAM and is told why" \
	matches "$out" "login refused: no SCRAM-SHA-256 verifier is stored for this user"
nutcpc_bg bob $BOB_UID -U bob -P bobpw -M PLAIN
check_login "bob ({SSHA} only) logs in with PLAIN" bob bob PLAIN
check_not "authquality=3: bob's PLAIN login does not reach port 8080" lab_connect $BOB_UID 8080 2000
lab_stop "$LAB_PID"
# Without -M the client tries SCRAM, is told to use another mechanism, and
# logs in again with PLAIN; that is not a failed login.
nutcpc_bg bob2 $BOB_UID -U bob -P bobpw
if lab_wait_log bob2 "logged in" 15 && [ "$(grep -c "user bob (uid 1002) logged in .* with PLAIN" \
	"$LAB_DIR/nuauth.log")" = 2 ]; then
	pass "bob's default client falls back from SCRAM to PLAIN by itself"
else
	fail "bob's default client falls back from SCRAM to PLAIN by itself" "$(tail -5 "$LAB_DIR/bob2.log")"
fi
lab_stop "$LAB_PID"

# --- carol has only a verifier: SCRAM works, and PLAIN is checked against it.
nutcpc_bg carol $BOB_UID -U carol -P carolpw
check_login "carol (verifier only, 8192 iterations) logs in with SCRAM-SHA-256" \
	carol carol SCRAM-SHA-256
lab_stop "$LAB_PID"
nutcpc_bg carol2 $BOB_UID -U carol -P carolpw -M PLAIN
check_login "carol (verifier only) logs in with PLAIN, checked against the verifier" \
	carol2 carol PLAIN
lab_stop "$LAB_PID"

# --- certificate login: no password; the user comes from the certificate.
nutcpc_bg alice-cert $ALICE_UID -U alice -C "$P/alice-cert.pem" -K "$P/alice-key.pem"
check_login "alice logs in with her certificate (EXTERNAL), without a password" \
	alice-cert alice EXTERNAL
check_mark "after a certificate login alice's connection passes with her mark (groups from the store)" \
	$ALICE_UID 80 1001
check "authquality=3: alice's certificate login reaches port 8080" lab_connect $ALICE_UID 8080
lab_stop "$LAB_PID"

out=$(refused $BOB_UID -U mallory -C "$P/mallory-cert.pem" -K "$P/mallory-key.pem")
check "a certificate for a user not in the store is refused" \
	matches "$out" "login refused: certificate user mallory is not known here"

out=$(refused $BOB_UID -U dave -C "$P/dave-cert.pem" -K "$P/dave-key.pem")
if [ -n "$out" ] && ! grep -q "logged in" <<<"$out" &&
   grep -qi "revoked" "$LAB_DIR/nuauth.log"; then
	pass "a revoked certificate (CRL) is refused"
else
	fail "a revoked certificate (CRL) is refused" "$out" \
		"$(grep -i "revoked\|dave" "$LAB_DIR/nuauth.log" | tail -3)"
fi

# --- certificates keep to their role: a gateway's does not log a user in,
# a user's does not make a gateway.
out=$(refused $BOB_UID -U erin -C "$P/erin-gw-cert.pem" -K "$P/erin-gw-key.pem")
if ! grep -q "logged in" <<<"$out" &&
   lab_wait_log nuauth "a gateway's certificate (OU=nufw) cannot log a user in" 10 2>/dev/null; then
	pass "a gateway's certificate cannot log its CN in as a user"
else
	fail "a gateway's certificate cannot log its CN in as a user" "$out"
fi
lab_start nufw-as-alice "$NS_G" "$NUFW" -d 127.0.0.1 -q 7 -k "$P/alice-key.pem" \
	-c "$P/alice-cert.pem" -a "$P/cacert.pem"
check_log "a user's certificate is refused on the gateway port" \
	nuauth "gateway .*(alice) refused: its certificate is no gateway's" 10
lab_stop "$LAB_PID"

# --- certificates keep to their role (extended key usage): nuauth's must
# be a TLS server's, a gateway's or a user's a TLS client's.
# ca_cert NAME TEMPLATE_LINE...: NAME-cert.pem, NAME-key.pem from the lab CA.
ca_cert() {
	local name=$1; shift
	printf '%s\n' "$@" 'signing_key' 'expiration_days = 30' > "$P/$name.tmpl"
	certtool --generate-privkey --key-type=ecdsa --outfile "$P/$name-key.pem" 2>/dev/null
	certtool --generate-certificate --load-privkey "$P/$name-key.pem" \
		--load-ca-certificate "$P/cacert.pem" --load-ca-privkey "$P/ca-key.pem" \
		--template "$P/$name.tmpl" --outfile "$P/$name-cert.pem" 2>/dev/null
	chmod 600 "$P/$name-key.pem"
}
# purposes FILE: the key purposes certtool reads in a certificate, one a line.
purposes() {
	certtool -i --infile "$1" 2>/dev/null |
		awk '/Key Purpose/ { on = 1; next } on && /^\t\t\t/ { print $0; next } { on = 0 }' |
		sed 's/^[[:space:]]*//; s/\.$//'
}
if [ "$(purposes "$P/nuauth-cert.pem")" = "TLS WWW Server" ] &&
   [ "$(purposes "$P/nufw-cert.pem")" = "TLS WWW Client" ] &&
   [ "$(purposes "$P/alice-cert.pem")" = "TLS WWW Client" ]; then
	pass "nuauthctl pki issues nuauth's certificate for serverAuth, a gateway's and a user's for clientAuth"
else
	fail "nuauthctl pki issues nuauth's certificate for serverAuth, a gateway's and a user's for clientAuth" \
		"nuauth: $(purposes "$P/nuauth-cert.pem")" "nufw: $(purposes "$P/nufw-cert.pem")" \
		"alice: $(purposes "$P/alice-cert.pem")"
fi
# A rogue nuauth: a client certificate from the same CA with nuauth's names.
ca_cert rogue 'cn = "nuauth.lab"' 'dns_name = "nuauth.lab"' 'ip_address = "10.201.0.1"' \
	'ip_address = "127.0.0.1"' 'tls_www_client'
lab_start rogue-for-nutcpc "$NS_G" python3 "$here/fake_nuauth.py" "$P" 4229 \
	"$P/rogue-cert.pem" "$P/rogue-key.pem" 10.201.0.1
lab_wait_log rogue-for-nutcpc ready 10
out=$(lab_as "$NS_C" $ALICE_UID timeout 20 "$NUTCPC" -H 10.201.0.1 -p 4229 \
	-A "$P/cacert.pem" -d -U alice -P alicepw 2>&1)
if ! grep -q "logged in" <<<"$out" &&
   grep -q "certificate of nuauth.lab is issued for another role: its extended key usage lacks TLS Web Server Authentication" <<<"$out"; then
	pass "nutcpc refuses a client certificate with nuauth's name as nuauth, and says why"
else
	fail "nutcpc refuses a client certificate with nuauth's name as nuauth, and says why" "$out"
fi
lab_stop "$LAB_PID"
lab_start rogue-for-nufw "$NS_G" python3 "$here/fake_nuauth.py" "$P" 4230 \
	"$P/rogue-cert.pem" "$P/rogue-key.pem" 127.0.0.1
rogue=$LAB_PID
lab_wait_log rogue-for-nufw ready 10
lab_start nufw-rogue "$NS_G" "$NUFW" -d 127.0.0.1 -p 4230 -q 8 -k "$P/nufw-key.pem" \
	-c "$P/nufw-cert.pem" -a "$P/cacert.pem"
if lab_wait_log nufw-rogue "certificate of nuauth.lab is issued for another role: its extended key usage lacks TLS Web Server Authentication" 10 &&
   ! grep -q "connected to nuauth" "$LAB_DIR/nufw-rogue.log"; then
	pass "nufw refuses a client certificate with nuauth's name as nuauth, with a log line"
else
	fail "nufw refuses a client certificate with nuauth's name as nuauth, with a log line" \
		"$(tail -3 "$LAB_DIR/nufw-rogue.log")"
fi
lab_stop "$LAB_PID"
lab_stop "$rogue"
# Each daemon checks its own certificate's role at start.
sed "s|^nuauth_tls_cert=.*|nuauth_tls_cert=\"$P/rogue-cert.pem\"|; s|^nuauth_tls_key=.*|nuauth_tls_key=\"$P/rogue-key.pem\"|" \
	"$LAB_DIR/nuauth.conf" > "$LAB_DIR/rogue.conf"
out=$("$NUAUTH" -t -c "$LAB_DIR/rogue.conf" 2>&1)
if [ $? -ne 0 ] && grep -q "$P/rogue-cert.pem: the certificate is issued for another role: its extended key usage lacks TLS Web Server Authentication" <<<"$out"; then
	pass "nuauth refuses to start with a client certificate as its own"
else
	fail "nuauth refuses to start with a client certificate as its own" "$out"
fi
out=$(ip netns exec "$NS_G" timeout 10 "$NUFW" -d 127.0.0.1 -p 4231 -q 9 -k "$P/nuauth-key.pem" \
	-c "$P/nuauth-cert.pem" -a "$P/cacert.pem" 2>&1)
check "nufw refuses to start with nuauth's (server) certificate as its own" \
	status_says $? error "$P/nuauth-cert.pem: the certificate is issued for another role: its extended key usage lacks TLS Web Client Authentication" "$out"
# A certificate without extended key usage is good for no role here.
ca_cert noeku 'cn = "alice"'
chown $ALICE_UID "$P/noeku-key.pem"
out=$(refused $ALICE_UID -U alice -C "$P/noeku-cert.pem" -K "$P/noeku-key.pem")
if ! grep -q "logged in" <<<"$out" &&
   lab_wait_log nuauth "client .*certificate of alice has no extended key usage" 10 2>/dev/null; then
	pass "a user certificate without extended key usage is refused, with a log line"
else
	fail "a user certificate without extended key usage is refused, with a log line" "$out" \
		"$(grep -i "extended key usage" "$LAB_DIR/nuauth.log" | tail -2)"
fi
# A gateway's certificate (clientAuth too) still cannot stand for nuauth
# on the user port: nuauth's own (serverAuth) is what the lab uses above.

# --- a certificate revoked while its user is logged in: the next reload
# logs the user out.
nutcpc_bg alice-revoked $ALICE_UID -U alice -C "$P/alice-cert.pem" -K "$P/alice-key.pem"
lab_wait_log alice-revoked "logged in" 15
"$CTL" pki revoke "$P" alice >/dev/null
kill -HUP "$NUAUTH_PID"
if lab_wait_log nuauth "SIGHUP: the certificate user alice logged in with from .* is no longer trusted" 10 &&
   lab_wait_log nuauth "user alice disconnected from .*your certificate is no longer trusted" 5; then
	pass "revoking a logged-in user's certificate logs her out at the reload"
else
	fail "revoking a logged-in user's certificate logs her out at the reload" \
		"$(tail -3 "$LAB_DIR/nuauth.log")"
fi
lab_stop "$LAB_PID"

# --- nuauth_tls_auth_by_cert=2: certificates only.
lab_stop "$NUAUTH_PID"
sed -i 's/^nuauth_tls_auth_by_cert=1/nuauth_tls_auth_by_cert=2/' "$LAB_DIR/nuauth.conf"
: > "$LAB_DIR/nuauth.log"
lab_start_nuauth
out=$(refused $ALICE_UID -U alice -P alicepw)
check "with nuauth_tls_auth_by_cert=2 a password login is refused" \
	matches "$out" "log in with a client certificate"
"$CTL" pki issue "$P" user alice --out alice2 --days 30 >/dev/null 2>&1
chown $ALICE_UID "$P/alice2-key.pem"
nutcpc_bg alice-cert2 $ALICE_UID -U alice -C "$P/alice2-cert.pem" -K "$P/alice2-key.pem"
check_login "with nuauth_tls_auth_by_cert=2 the certificate login works" alice-cert2 alice EXTERNAL
lab_stop "$LAB_PID"

# --- nuauth_tls_cert_user_field=UID: the user comes from the UID, and a
# gateway's certificate listed in nufw_gw_names (by its CN, no OU=nufw)
# logs no one in, whatever its UID says.
lab_stop "$NUAUTH_PID"
cat >> "$LAB_DIR/nuauth.conf" <<CONF
nuauth_tls_cert_user_field=UID
nufw_gw_names="nufw-gateway, gw-uid"
CONF
: > "$LAB_DIR/nuauth.log"
lab_start_nuauth
ca_cert gw-uid 'cn = "gw-uid"' 'uid = "alice"' 'tls_www_client'
ca_cert desk-uid 'cn = "alice-desktop"' 'uid = "alice"' 'tls_www_client'
chown $ALICE_UID "$P/gw-uid-key.pem" "$P/desk-uid-key.pem"
out=$(refused $ALICE_UID -U alice -C "$P/gw-uid-cert.pem" -K "$P/gw-uid-key.pem")
if ! grep -q "logged in" <<<"$out" &&
   grep -q "certificate CN=gw-uid, one of nufw_gw_names: a gateway's certificate cannot log a user in" \
	"$LAB_DIR/nuauth.log"; then
	pass "a gateway certificate in nufw_gw_names with UID=alice cannot log alice in"
else
	fail "a gateway certificate in nufw_gw_names with UID=alice cannot log alice in" "$out" \
		"$(tail -3 "$LAB_DIR/nuauth.log")"
fi
nutcpc_bg alice-uid $ALICE_UID -U alice -C "$P/desk-uid-cert.pem" -K "$P/desk-uid-key.pem"
check_login "a user certificate with UID=alice (CN alice-desktop) logs alice in" \
	alice-uid alice EXTERNAL
lab_stop "$LAB_PID"

# --- a wrong PLAIN password costs the same for a name the store does not
# know as for one it knows: with every password a sha512-crypt hash, an
# unknown name is checked against one of them.  Mean and median of 50
# logins each (the AUTH message to its result), as doc/security.md shows.
lab_stop "$NUAUTH_PID"
cat > "$LAB_DIR/users-timing.nufw" <<USERS
dave:$dave_pw:1004:100
erin:$dave_pw:1005:100
frank:$dave_pw:1006:100
USERS
chmod 600 "$LAB_DIR/users-timing.nufw"
sed -e "s|^plaintext_userfile=.*|plaintext_userfile=\"$LAB_DIR/users-timing.nufw\"|" \
	-e 's/^nuauth_tls_auth_by_cert=2/nuauth_tls_auth_by_cert=0/' \
	"$LAB_DIR/nuauth.conf" > "$LAB_DIR/timing.conf"
lab_start nuauth-timing "$NS_G" "$NUAUTH" -c "$LAB_DIR/timing.conf" -v
lab_wait_log nuauth-timing "ready"
abuse 10.201.0.2 plaintime 10 dave >/dev/null	# warm up
# 50 wrong PLAIN passwords each, the two names taking turns.
times=$(abuse 10.201.0.2 plaintime 50 dave ghost)
known=$(sed -n 1p <<<"$times") unknown=$(sed -n 2p <<<"$times")
echo "    wrong PLAIN password, crypt store: known name: $known"
echo "    wrong PLAIN password, crypt store: unknown name: $unknown"
km=$(awk '{print $4}' <<<"$known") um=$(awk '{print $4}' <<<"$unknown")
if [[ $known == *"refused 50 of 50: bad user name or password" ]] &&
   [[ $unknown == *"refused 50 of 50: bad user name or password" ]] &&
   awk -v k="$km" -v u="$um" 'BEGIN { exit !(u >= 0.7 * k) }'; then
	pass "a wrong password costs an unknown name what it costs a known one (median ${um} vs ${km} ms)"
else
	fail "a wrong password costs an unknown name what it costs a known one" "$known" "$unknown"
fi
lab_stop "$LAB_PID"

# --- configuration errors name the key.
printf 'nuauth_sasl_mechanisms="SCRAM-SHA-256 DIGEST-MD5"\n' >> "$LAB_DIR/nuauth.conf"
out=$("$NUAUTH" -t -c "$LAB_DIR/nuauth.conf" 2>&1)
check "nuauth -t: an unknown SASL mechanism is an error with file:line" \
	matches "$out" "nuauth.conf:[0-9]*: nuauth_sasl_mechanisms: unknown mechanism \`DIGEST-MD5'"

lab_finish
