#!/bin/bash
# The session_authtype module in the namespace lab (run as root): logins
# allowed or refused by the user's groups and by how the user logged in,
# NuFW's eight cases of tests/test_session_authtype.py.
#   tests/e2e/authtype.sh BUILD_DIR [TEST...]
#   test_cert_groups     session_authtype_ssl_groups: a certificate login
#                        (nuauth_tls_auth_by_cert=2) of a member / not
#   test_whitelist       session_authtype_whitelist_groups: a member / not
#   test_blacklist       session_authtype_blacklist_groups: not a member / one
#   test_sasl_groups     session_authtype_sasl_groups: a password login of a
#                        member / not
#   test_bad_group       a group that is no number stops nuauth, file:line
# alice is in group 100 (the lab's users file).  Each case starts nuauth
# with its keys; a refused client must say why, nuauth must log it.
# Prints one PASS/FAIL line per check and ends with "N passed, N failed".
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"

lab_init "${1:-.}" "${@:2}"
P=$LAB_DIR/pki

# nuauth_with NAME KEY=VALUE...: nuauth (re)started with session_authtype
# and these keys added to the lab's configuration.
nuauth_with() {
	local name=$1; shift
	[ -n "${NUAUTH_PID:-}" ] && lab_stop "$NUAUTH_PID"
	NUAUTH_PID=
	{
		cat "$LAB_DIR/base.conf"
		echo 'nuauth_user_session_modify_module="session_authtype"'
		printf '%s\n' "$@"
	} > "$LAB_DIR/nuauth.conf"
	lab_start "nuauth-$name" "$NS_G" "$NUAUTH" -c "$LAB_DIR/nuauth.conf" -vv
	NUAUTH_PID=$LAB_PID
	lab_wait_log "nuauth-$name" "ready"
}

# login_ok NAME OPTION...: alice's client (nutcpc OPTION...) logs in; it is
# ended again.
login_ok() {
	local name=$1; shift
	lab_start_as "$name" "$NS_C" $ALICE_UID "$NUTCPC" -H 10.201.0.1 -p 4129 \
		-A "$P/cacert.pem" -d -v "$@"
	local pid=$LAB_PID ok=1
	lab_wait_log "$name" "logged in" 15 2>/dev/null || ok=0
	lab_stop "$pid"
	[ $ok = 1 ] && return 0
	tail -5 "$LAB_DIR/$name.log"
	return 1
}

# login_refused REASON OPTION...: alice's client fails to log in and says
# REASON.
login_refused() {
	local why=$1 out; shift
	out=$(lab_as "$NS_C" $ALICE_UID timeout 20 "$NUTCPC" -H 10.201.0.1 -p 4129 \
		-A "$P/cacert.pem" -d "$@" 2>&1)
	status_says $? error "$why" "$out"
}

PASSWORD=(-U alice -P alicepw)
CERT=(-U alice -C "$P/alice-cert.pem" -K "$P/alice-key.pem")

test_cert_groups() {
	nuauth_with cert-ok nuauth_tls_request_cert=1 nuauth_tls_auth_by_cert=2 \
		'session_authtype_ssl_groups="100"' || { fail "nuauth starts (ssl_groups 100)"; return; }
	check "testCertAuthGroupOK: a certificate login of a member of ssl_groups is allowed" \
		login_ok cert-ok "${CERT[@]}"
	check_log "nuauth logs the certificate login" nuauth-cert-ok \
		"user alice (uid 1001) logged in from 10.201.0.2 with EXTERNAL" 5
	nuauth_with cert-nok nuauth_tls_request_cert=1 nuauth_tls_auth_by_cert=2 \
		'session_authtype_ssl_groups="200,300"' || { fail "nuauth starts (ssl_groups 200,300)"; return; }
	check "testCertAuthGroupNOK: a certificate login of a non-member of ssl_groups is refused, and nutcpc says why" \
		login_refused "user alice may not log in by certificate (not in session_authtype_ssl_groups)" \
		"${CERT[@]}"
	check_log "nuauth logs the refusal" nuauth-cert-nok \
		"login of user alice (EXTERNAL) refused: user alice may not log in by certificate" 5
	# ssl_groups says nothing of password logins.
	nuauth_with cert-pw 'session_authtype_ssl_groups="200"' ||
		{ fail "nuauth starts (ssl_groups 200, passwords)"; return; }
	check "ssl_groups does not restrict a password login" login_ok cert-pw "${PASSWORD[@]}"
}

test_whitelist() {
	nuauth_with white-ok 'session_authtype_whitelist_groups="300, 100"' ||
		{ fail "nuauth starts (whitelist)"; return; }
	check "testWhitelistAuthOK: a member of the whitelist logs in" \
		login_ok white-ok "${PASSWORD[@]}"
	nuauth_with white-nok 'session_authtype_whitelist_groups="123"' ||
		{ fail "nuauth starts (whitelist 123)"; return; }
	check "testWhitelistAuthNOK: a user in none of the whitelist's groups is refused, and nutcpc says why" \
		login_refused "user alice is in none of session_authtype_whitelist_groups" "${PASSWORD[@]}"
}

test_blacklist() {
	nuauth_with black-ok 'session_authtype_blacklist_groups="123"' ||
		{ fail "nuauth starts (blacklist 123)"; return; }
	check "testBlacklistAuthOK: a user in none of the blacklist's groups logs in" \
		login_ok black-ok "${PASSWORD[@]}"
	nuauth_with black-nok 'session_authtype_blacklist_groups="123,100"' ||
		{ fail "nuauth starts (blacklist 100)"; return; }
	check "testBlacklistAuthNOK: a member of a blacklisted group is refused, and nutcpc says why" \
		login_refused "user alice is in blacklisted group 100" "${PASSWORD[@]}"
	check "the blacklist refuses a certificate login too" \
		login_refused "user alice is in blacklisted group 100" "${CERT[@]}"
	check "a refused login is never logged as a session" \
		matches "$(grep -c "user alice (uid 1001) logged in" "$LAB_DIR/nuauth-black-nok.log")" "^0$"
}

test_sasl_groups() {
	nuauth_with sasl-ok 'session_authtype_sasl_groups="100"' ||
		{ fail "nuauth starts (sasl_groups 100)"; return; }
	check "testSASLAuthOK: a password login of a member of sasl_groups is allowed" \
		login_ok sasl-ok "${PASSWORD[@]}"
	nuauth_with sasl-nok 'session_authtype_sasl_groups="123"' ||
		{ fail "nuauth starts (sasl_groups 123)"; return; }
	check "testSASLAuthNOK: a password login of a non-member of sasl_groups is refused, and nutcpc says why" \
		login_refused "user alice may not log in by password (not in session_authtype_sasl_groups)" \
		"${PASSWORD[@]}"
	check "sasl_groups does not restrict a certificate login" login_ok sasl-cert "${CERT[@]}"
}

test_bad_group() {
	local line
	{
		cat "$LAB_DIR/base.conf"
		echo 'nuauth_user_session_modify_module="session_authtype"'
		echo 'session_authtype_blacklist_groups="100,staff"'
	} > "$LAB_DIR/bad.conf"
	line=$(wc -l < "$LAB_DIR/bad.conf")
	conf_error_case "a group that is no number stops nuauth with file:line" \
		"$LAB_DIR/bad.conf:$line: session_authtype_blacklist_groups: \`staff' is not a numeric group id"
}

lab_netns
lab_pki >/dev/null
lab_nuauth_conf
"$CTL" pki issue "$P" user alice --days 30 >/dev/null
chown $ALICE_UID "$P/alice-key.pem"
# Certificates are asked for (not required) in every case, so that the
# password cases also see that the certificate lists keep to their kind.
{ cat "$LAB_DIR/nuauth.conf"; echo "nuauth_tls_request_cert=1"; echo "nuauth_tls_auth_by_cert=1"; } \
	> "$LAB_DIR/base.conf"
lab_tests test_bad_group test_cert_groups test_whitelist test_blacklist test_sasl_groups
lab_finish
