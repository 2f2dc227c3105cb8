#!/bin/bash
# The TLS cases in one place, in the namespace lab (run as root):
#   tests/e2e/tls.sh BUILD_DIR [TEST...]
# Certificates from another CA, expired, revoked or not matching their key,
# and CRLs that cannot be read, seen from each side: the client (nutcpc),
# nuauth, and nufw.  Each refusal says why, naming the file where a file is
# at fault.  Ends with "N passed, N failed".
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"
lab_init "${1:-.}" "${@:2}"
P=$LAB_DIR/pki		# the lab's CA and certificates
O=$LAB_DIR/pki-other	# another CA's, with the same names

# lab_cert NAME FROM UNTIL LINE...: NAME-cert.pem and NAME-key.pem, signed
# by the lab's CA, valid from FROM until UNTIL ("YYYY-MM-DD"), with the
# certtool template LINEs.
lab_cert() {
	local name=$1 from=$2 until=$3; shift 3
	printf '%s\n' "$@" "activation_date = \"$from 00:00:00\"" \
		"expiration_date = \"$until 00:00:00\"" signing_key > "$P/$name.tmpl"
	certtool --generate-privkey --key-type=ecdsa --outfile "$P/$name-key.pem" 2>/dev/null
	certtool --generate-certificate --load-privkey "$P/$name-key.pem" \
		--load-ca-certificate "$P/cacert.pem" --load-ca-privkey "$P/ca-key.pem" \
		--template "$P/$name.tmpl" --outfile "$P/$name-cert.pem" 2>/dev/null
	chmod 600 "$P/$name-key.pem"
}

# refused UID OPTION...: a client that must fail to log in; prints its
# output and its status.
refused() {
	local uid=$1 out st start=$(date +%s%N); shift
	out=$(lab_as "$NS_C" "$uid" timeout 20 "$NUTCPC" -H 10.201.0.1 -p 4129 -d "$@" 2>&1)
	st=$?
	echo "status $st: $out (after $(( ($(date +%s%N) - start) / 1000000 )) ms)"
}

# refused_says NAME TEXT UID OPTION...: the client stops (not 0, not
# timeout's 124) and says TEXT.
refused_says() {
	local name=$1 text=$2 out; shift 2
	out=$(refused "$@")
	if [[ $out =~ ^status\ ([0-9]+): ]] && [ "${BASH_REMATCH[1]}" != 0 ] &&
	   [ "${BASH_REMATCH[1]}" != 124 ] && grep -qF -- "$text" <<<"$out"; then
		pass "$name"
	else
		fail "$name" "wanted \`$text' in:" "$out"
	fi
}

# --- the client's side ----------------------------------------------------

# NuFW testClientInvalidCA: nutcpc trusting another CA refuses the lab's
# nuauth, and says it is the certificate.
test_client_foreign_ca() {
	refused_says "nutcpc trusting another CA refuses nuauth's certificate, and says why" \
		"TLS with 10.201.0.1 failed: certificate verification failed: The certificate is NOT trusted. The certificate issuer is unknown." \
		$PROBE_UID -U alice -P alicepw -A "$O/cacert.pem"
}

# NuFW testClientInvalidCert, testClientExpired, testClientRevoked: a user
# certificate from another CA, an expired one and a revoked one are refused
# at the handshake; nuauth logs why, and the client says it was refused.
test_client_certificates() {
	local c n
	local -A alert=([foreign]="CA is unknown" [expired]="Certificate is expired"
		[revoked]="Certificate was revoked")
	n=$(grep -c "client .*TLS handshake failed: certificate verification failed" "$LAB_DIR/nuauth.log")
	for c in foreign expired revoked; do
		n=$((n + 1))
		refused_says "a user certificate that is $c is refused: the client says so (${alert[$c]})" \
			"nuauth refused the TLS connection: ${alert[$c]}" \
			$ALICE_UID -U alice -C "$P/alice-$c-cert.pem" -K "$P/alice-$c-key.pem" -A "$P/cacert.pem"
		check_log "a user certificate that is $c is refused: nuauth logs the failed verification" \
			nuauth "client .*TLS handshake failed: certificate verification failed" 5 $n
	done
	lab_start_as alice-good "$NS_C" $ALICE_UID "$NUTCPC" -H 10.201.0.1 -p 4129 -d \
		-U alice -C "$P/alice-good-cert.pem" -K "$P/alice-good-key.pem" -A "$P/cacert.pem"
	check_log "a valid user certificate logs alice in (the same CA, CRL and options)" \
		alice-good "logged in" 15
	lab_stop "$LAB_PID"
}

# NuFW testClientInvalidCRL: nutcpc -R with a CRL it cannot read, or cannot
# parse, stops at once naming the file.
test_client_bad_crl() {
	refused_says "nutcpc -R with a missing CRL stops, naming the file" "$LAB_DIR/no-such-crl.pem: cannot load CRL" \
		$PROBE_UID -U alice -P alicepw -A "$P/cacert.pem" -R "$LAB_DIR/no-such-crl.pem"
	refused_says "nutcpc -R with a CRL that does not parse stops, naming the file" "$LAB_DIR/garbage-crl.pem: cannot load CRL" \
		$PROBE_UID -U alice -P alicepw -A "$P/cacert.pem" -R "$LAB_DIR/garbage-crl.pem"
}

# NuFW testNuauthRevoked: nutcpc -R with a CRL that revokes nuauth's
# certificate refuses nuauth.  The CRL comes from a copy of the lab's CA
# (the same key), so nuauth and the gateways go on as before.
test_client_crl_revokes_nuauth() {
	local r=$LAB_DIR/pki-revoked
	cp -a "$P" "$r"
	"$NUAUTHCTL" pki revoke "$r" nuauth >/dev/null 2>&1
	chmod 644 "$r/crl.pem"
	refused_says "nutcpc -R with a CRL that revokes nuauth's certificate refuses nuauth" \
		"certificate verification failed: The certificate is NOT trusted. The certificate chain is revoked." \
		$PROBE_UID -U alice -P alicepw -A "$P/cacert.pem" -R "$r/crl.pem"
}

# The client checks nuauth's name (NuFW testClientFQDNCheck,
# testClientIgnoreFQDNCheck; moved here from run.sh).
test_server_name_check() {
	local out
	# 10.202.0.1 is the gateway too, but nuauth's certificate does not name it.
	out=$(lab_as "$NS_C" $NOBODY_UID \
		timeout 15 "$NUTCPC" -H 10.202.0.1 -U alice -P alicepw -A "$LAB_DIR/pki/cacert.pem" -d 2>&1)
	if [ $? -eq 1 ] && grep -q "certificate" <<<"$out"; then
		pass "the client refuses a nuauth whose certificate does not name it"
	else
		fail "the client refuses a nuauth whose certificate does not name it" "$out"
	fi
	lab_start_as name-check "$NS_C" $NOBODY_UID "$NUTCPC" -H 10.202.0.1 -U alice -P alicepw \
		-A "$LAB_DIR/pki/cacert.pem" -N -d
	local pid=$LAB_PID
	check_log "-N turns the client's name check off" name-check "logged in" 10
	lab_stop "$pid"
}

# --- nuauth's side --------------------------------------------------------

# NuFW testNuauthExpired, testNuauthInvalidCRL: nuauth does not start with
# an expired certificate, a key that is not the certificate's, or a CRL that
# does not parse, and names the file.
test_nuauth_start() {
	sed "s|^nuauth_tls_cert=.*|nuauth_tls_cert=\"$P/nuauth-expired-cert.pem\"|; s|^nuauth_tls_key=.*|nuauth_tls_key=\"$P/nuauth-expired-key.pem\"|" \
		"$LAB_DIR/nuauth.conf" > "$LAB_DIR/bad.conf"
	conf_error_case "nuauth does not start with an expired certificate, and names it" \
		"$P/nuauth-expired-cert.pem: the certificate expired on 2021-01-01 00:00 UTC"
	sed "s|^nuauth_tls_key=.*|nuauth_tls_key=\"$P/nufw-key.pem\"|" \
		"$LAB_DIR/nuauth.conf" > "$LAB_DIR/bad.conf"
	conf_error_case "nuauth does not start with a key that is not its certificate's, and names them" \
		"$P/nuauth-cert.pem, $P/nufw-key.pem: cannot load certificate and key: The certificate and the given key do not match."
	sed "s|^nuauth_tls_crl=.*|nuauth_tls_crl=\"$LAB_DIR/garbage-crl.pem\"|" \
		"$LAB_DIR/nuauth.conf" > "$LAB_DIR/bad.conf"
	conf_error_case "nuauth does not start with a CRL that does not parse, and names it" \
		"$LAB_DIR/garbage-crl.pem: cannot load CRL"
}

# Gateway certificates (moved here from faults.sh): revoked (NuFW
# testNuauthRevoked's case on the gateway port) or expired, refused at the
# handshake; one from the CA but not in nufw_gw_names; one revoked while
# connected, cut off by the next reload.
test_bad_gateway_certificates() {
	local p=$P pid n=0 c
	lab_cert expired 2020-01-01 2021-01-01 'cn = "expired-gw"' tls_www_client
	"$NUAUTHCTL" pki issue "$p" nufw revoked-gw --out revoked --days 30 >/dev/null
	"$NUAUTHCTL" pki issue "$p" nufw late-gw --out late --days 30 >/dev/null
	"$NUAUTHCTL" pki issue "$p" nufw stranger-gw --out stranger --days 30 >/dev/null
	if "$NUAUTHCTL" pki revoke "$p" revoked > "$LAB_DIR/revoke.out" 2>&1 &&
	   grep -q "[0-9] revoked, next update" "$LAB_DIR/revoke.out"; then
		pass "nuauthctl pki revoke makes the CA's CRL"
	else
		fail "nuauthctl pki revoke makes the CA's CRL" "$(cat "$LAB_DIR/revoke.out")"
	fi
	cp "$LAB_DIR/nuauth.conf" "$LAB_DIR/crl.conf"
	echo 'nufw_gw_names="nufw-gateway, late-gw"' >> "$LAB_DIR/crl.conf"
	# The lab's nuauth holds the lab's control socket.
	echo "nuauth_control_socket=\"$LAB_DIR/control-crl\"" >> "$LAB_DIR/crl.conf"
	sed -i 's/^nuauth_gw_packet_port=.*/nuauth_gw_packet_port=4138/' "$LAB_DIR/crl.conf"
	sed -i 's/^nuauth_user_packet_port=.*/nuauth_user_packet_port=4139/' "$LAB_DIR/crl.conf"
	lab_start nuauth-crl "$NS_G" "$NUAUTH" -c "$LAB_DIR/crl.conf" -v
	pid=$LAB_PID
	lab_wait_log nuauth-crl ready
	n=$((n + 1))
	lab_start nufw-revoked "$NS_G" "$NUFW" -d 127.0.0.1 -p 4138 -q 6 -k "$p/revoked-key.pem" \
		-c "$p/revoked-cert.pem" -a "$p/cacert.pem"
	if lab_wait_log nuauth-crl "gateway .*TLS handshake failed: certificate verification failed" 10 $n &&
	   ! grep -q "connected to nuauth" "$LAB_DIR/nufw-revoked.log"; then
		pass "a gateway certificate that is revoked is refused"
	else
		fail "a gateway certificate that is revoked is refused" "$(tail -3 "$LAB_DIR/nuauth-crl.log")"
	fi
	lab_stop "$LAB_PID"
	# nufw itself does not start with an expired certificate (it checks
	# its own at start); a gateway that shows one anyway is refused.
	local out
	out=$(ip netns exec "$NS_G" timeout 10 "$NUFW" -d 127.0.0.1 -p 4138 -q 6 \
		-k "$p/expired-key.pem" -c "$p/expired-cert.pem" -a "$p/cacert.pem" 2>&1)
	check "nufw does not start with an expired certificate, and names it with the date" \
		status_says $? error "$p/expired-cert.pem: the certificate expired on 2021-01-01" "$out"
	n=$((n + 1))
	out=$(ip netns exec "$NS_G" env NUAUTH=127.0.0.1 CA="$p/cacert.pem" CERT="$p/expired-cert.pem" \
		KEY="$p/expired-key.pem" timeout 30 python3 "$here/abuse.py" gwcert 4138 2>&1)
	if lab_wait_log nuauth-crl "gateway .*TLS handshake failed: certificate verification failed" 10 $n; then
		pass "a gateway certificate that is expired is refused"
	else
		fail "a gateway certificate that is expired is refused" "$out" "$(tail -3 "$LAB_DIR/nuauth-crl.log")"
	fi
	# From our CA, but not one of nufw_gw_names.
	lab_start nufw-stranger "$NS_G" "$NUFW" -d 127.0.0.1 -p 4138 -q 6 -k "$p/stranger-key.pem" \
		-c "$p/stranger-cert.pem" -a "$p/cacert.pem"
	if lab_wait_log nuauth-crl "gateway .*(stranger-gw) refused: its certificate name is not in nufw_gw_names" 10; then
		pass "a gateway certificate whose name is not in nufw_gw_names is refused"
	else
		fail "a gateway certificate whose name is not in nufw_gw_names is refused" \
			"$(tail -3 "$LAB_DIR/nuauth-crl.log")"
	fi
	lab_stop "$LAB_PID"
	lab_start nufw-late "$NS_G" "$NUFW" -d 127.0.0.1 -p 4138 -q 6 -k "$p/late-key.pem" \
		-c "$p/late-cert.pem" -a "$p/cacert.pem"
	lab_wait_log nufw-late "connected to nuauth" 10
	"$NUAUTHCTL" pki revoke "$p" late >/dev/null
	kill -HUP "$pid"
	if lab_wait_log nuauth-crl "SIGHUP: the certificate of gateway .*(late-gw) is no longer trusted" 10 &&
	   lab_wait_log nuauth-crl "gateway .*TLS handshake failed: certificate verification failed" 10 3; then
		pass "a gateway revoked while connected is cut off at the reload, and stays out"
	else
		fail "a gateway revoked while connected is cut off at the reload, and stays out" \
			"$(tail -3 "$LAB_DIR/nuauth-crl.log")"
	fi
	lab_stop "$LAB_PID"
	lab_stop "$pid"
}

# A gateway certificate from another CA (moved here from run.sh).
test_foreign_gateway_certificate() {
	local pid
	lab_start nufw-foreign "$NS_G" "$NUFW" -d 127.0.0.1 -q 1 -m -k "$O/nufw-key.pem" \
		-c "$O/nufw-cert.pem" -a "$P/cacert.pem"
	pid=$LAB_PID
	if lab_wait_log nufw-foreign "cannot reach nuauth" 10 &&
	   lab_wait_log nuauth "gateway .*TLS handshake failed" 5 &&
	   ! grep -q "connected to nuauth" "$LAB_DIR/nufw-foreign.log"; then
		pass "nuauth refuses a gateway whose certificate is from another CA"
	else
		fail "nuauth refuses a gateway whose certificate is from another CA"
	fi
	lab_stop "$pid"
}

# --- nufw's side ----------------------------------------------------------

# NuFW testNufwInvalidCA: nufw -a naming another CA refuses nuauth, says
# why, and keeps trying without flooding its log: over 10 s, no more
# lines than its back-off allows.
test_nufw_foreign_ca() {
	local pid start n tries
	tries=$(grep -c "gateway .*TLS handshake failed" "$LAB_DIR/nuauth.log")
	lab_start nufw-other-ca "$NS_G" "$NUFW" -d 127.0.0.1 -q 7 -m -k "$P/nufw-key.pem" \
		-c "$P/nufw-cert.pem" -a "$O/cacert.pem"
	pid=$LAB_PID
	start=$SECONDS
	check_log "nufw trusting another CA refuses nuauth, and says it is nuauth's certificate" \
		nufw-other-ca "cannot reach nuauth at 127.0.0.1 port 4128: .*certificate" 10
	# The span over which the lines are counted: 10 s from nufw's start.
	[ $((SECONDS - start)) -lt 10 ] && sleep $((10 - (SECONDS - start)))
	n=$(wc -l < "$LAB_DIR/nufw-other-ca.log")
	tries=$(( $(grep -c "gateway .*TLS handshake failed" "$LAB_DIR/nuauth.log") - tries ))
	if [ "$n" -le 8 ] && [ "$tries" -ge 2 ] && ! grep -q "connected to nuauth" "$LAB_DIR/nufw-other-ca.log" && kill -0 "$pid"; then
		pass "nufw keeps retrying ($tries tries) without flooding its log ($n lines in 10 s)"
	else
		fail "nufw keeps retrying without flooding its log" "$n lines and $tries tries in 10 s:" \
			"$(head -20 "$LAB_DIR/nufw-other-ca.log")"
	fi
	lab_stop "$pid"
}

# --- the suite --------------------------------------------------------------
lab_netns
lab_pki
bash "$here/pki.sh" "$O" nuauth.lab 10.201.0.1 >/dev/null
# alice's certificates: a good one, a revoked one, an expired one (from the
# lab's CA), and one from the other CA; an expired server certificate.
"$NUAUTHCTL" pki issue "$P" user alice --out alice-good --days 30 >/dev/null
"$NUAUTHCTL" pki issue "$P" user alice --out alice-revoked --days 30 >/dev/null
"$NUAUTHCTL" pki issue "$O" user alice --out alice-foreign --days 30 >/dev/null
cp "$O/alice-foreign-cert.pem" "$O/alice-foreign-key.pem" "$P/"
"$NUAUTHCTL" pki revoke "$P" alice-revoked >/dev/null
lab_cert alice-expired 2020-01-01 2021-01-01 'cn = "alice"' tls_www_client
lab_cert nuauth-expired 2020-01-01 2021-01-01 'cn = "nuauth.lab"' 'dns_name = "nuauth.lab"' \
	'ip_address = "10.201.0.1"' 'ip_address = "127.0.0.1"' tls_www_server
chown $ALICE_UID "$P"/alice-*-key.pem
printf 'this is no CRL\n' > "$LAB_DIR/garbage-crl.pem"
lab_nuauth_conf
cat >> "$LAB_DIR/nuauth.conf" <<CONF
nuauth_tls_crl="$P/crl.pem"
nuauth_tls_request_cert=1
nuauth_tls_auth_by_cert=1
CONF
lab_tests test_nuauth_start
lab_rules
lab_start_gateway
lab_tests test_client_foreign_ca test_client_certificates test_client_bad_crl test_client_crl_revokes_nuauth \
	test_server_name_check test_foreign_gateway_certificate test_bad_gateway_certificates \
	test_nufw_foreign_ca
lab_finish
