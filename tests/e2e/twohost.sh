#!/bin/bash
# nuauth and nufw on different hosts: nuauth runs on a host of its own
# (lab_auth_host, 10.203.0.2), nufw on the gateway connects to it over that
# link by address (-d 10.203.0.2), the client logs in to it through the
# gateway.  Both certificate name checks are made across the hosts: nufw's
# of nuauth's certificate (the address, or a DNS name it carries) and
# nuauth's of the gateway's (nufw_gw_names, nufw_gw_addr).  As root:
#   tests/e2e/twohost.sh BUILD_DIR [TEST...]
# Prints one PASS/FAIL line per check and ends with "N passed, N failed".
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"

lab_init "${1:-.}" "${@:2}"

AUTH=10.203.0.2
LAB_NUAUTH_ADDR=$AUTH		# lab_login's nuauth

# nufw_on NAME QUEUE HOST [ARGS...]: a nufw on the gateway reading QUEUE,
# to the nuauth at HOST, with the lab's gateway certificate unless ARGS
# give another.
nufw_on() {
	local name=$1 queue=$2 host=$3 p=$LAB_DIR/pki; shift 3
	lab_start "$name" "$NS_G" "$NUFW" -d "$host" -p 4128 -q "$queue" -m \
		-k "$p/nufw-key.pem" -c "$p/nufw-cert.pem" -a "$p/cacert.pem" -t 5 -C -v "$@"
}

test_gateway_link() {
	local out
	out=$(ctl firewalls --json)
	if python3 -c 'import json, sys
d = json.loads(sys.argv[1])
f = d["firewalls"]
sys.exit(0 if d["ok"] and len(f) == 1 and f[0]["address"] == "10.203.0.1" and f[0]["cn"] == "nufw-gateway" else 1)' "$out"; then
		pass "nuauth on 10.203.0.2 has the gateway's link from 10.203.0.1, CN nufw-gateway"
	else
		fail "nuauth on 10.203.0.2 has the gateway's link from 10.203.0.1, CN nufw-gateway" "$out"
	fi
	check_log "nufw checked nuauth's certificate against the address it was given" nufw \
		"connected to nuauth.*10.203.0.2"
}

test_alice() {
	check_mark "alice's connection through the gateway is accepted with her mark (1001)" \
		$ALICE_UID 80 1001
	check_mark "bob's too, with his (1002)" $BOB_UID 80 1002
	check_not "a desktop user with no client is refused" lab_connect $NOBODY_UID 80 3500
}

# nufw's check of nuauth's certificate: a name the certificate carries
# (nuauth.lab) passes, another name of the same address does not.
test_nufw_checks_name() {
	local pid
	nufw_on nufw-byname 1 nuauth.lab
	pid=$LAB_PID
	check "nufw -d nuauth.lab (the certificate's DNS name) connects" \
		lab_wait_log nufw-byname "connected to nuauth"
	lab_stop "$pid"
	nufw_on nufw-wrongname 2 wrong.lab
	pid=$LAB_PID
	if lab_wait_log nufw-wrongname \
		"cannot reach nuauth at wrong.lab .*name in the certificate does not match" 10 &&
	   ! grep -q "connected to nuauth" "$LAB_DIR/nufw-wrongname.log"; then
		pass "nufw -d wrong.lab (same address, a name nuauth's certificate lacks) is refused"
	else
		fail "nufw -d wrong.lab (same address, a name nuauth's certificate lacks) is refused" \
			"$(cat "$LAB_DIR/nufw-wrongname.log")"
	fi
	lab_stop "$pid"
	if ! grep -q "connected to nuauth" "$LAB_DIR/nufw-wrongname.log"; then
		pass "... and never connects"
	else
		fail "... and never connects" "$(cat "$LAB_DIR/nufw-wrongname.log")"
	fi
}

# nuauth's check of the gateway's certificate: CN other-gateway is not in
# nufw_gw_names, and the link is refused though it comes from 10.203.0.1.
test_nuauth_checks_gateway_name() {
	local pid p=$LAB_DIR/pki
	nufw_on nufw-other 3 "$AUTH" -k "$p/other-key.pem" -c "$p/other-cert.pem"
	pid=$LAB_PID
	if lab_wait_log nuauth "other-gateway.*not in nufw_gw_names" 10; then
		pass "nuauth refuses a gateway whose certificate (CN other-gateway) is not in nufw_gw_names"
	else
		fail "nuauth refuses a gateway whose certificate (CN other-gateway) is not in nufw_gw_names"
	fi
	lab_stop "$pid"
	if ! grep -q "connected to nuauth" "$LAB_DIR/nufw-other.log" &&
	   [ "$(python3 -c 'import json, sys; print(len(json.loads(sys.argv[1])["firewalls"]))' \
		"$(ctl firewalls --json)")" = 1 ]; then
		pass "... it never connects, and the gateway's own link stays the only one"
	else
		fail "... it never connects, and the gateway's own link stays the only one" \
			"$(cat "$LAB_DIR/nufw-other.log")"
	fi
}

lab_netns
lab_auth_host
lab_hosts "$NS_G" "$AUTH nuauth.lab" "$AUTH wrong.lab"
bash "$LAB_HERE/pki.sh" "$LAB_DIR/pki" nuauth.lab "$AUTH"
"$NUAUTHCTL" pki issue "$LAB_DIR/pki" nufw other-gateway --out other --days 30 >/dev/null
lab_nuauth_conf
cat >> "$LAB_DIR/nuauth.conf" <<CONF
nuauth_nufw_listen_addr="$AUTH"
nuauth_client_listen_addr="$AUTH"
nufw_gw_addr="10.203.0.1"
nufw_gw_names="nufw-gateway"
CONF
lab_rules
# The clients' logins cross the gateway to nuauth: not for nufw to judge.
ip netns exec "$NS_G" iptables -I FORWARD -p tcp -d "$AUTH" --dport 4129 -j ACCEPT
lab_start_server || lab_end "the server starts"
lab_start nuauth "$NS_A" "$NUAUTH" -c "$LAB_DIR/nuauth.conf" -vv
NUAUTH_PID=$LAB_PID
lab_wait_log nuauth "ready" || lab_end "nuauth starts on its own host"
nufw_on nufw 0 "$AUTH"
NUFW_PID=$LAB_PID
if lab_wait_log nufw "connected to nuauth"; then
	pass "nufw on the gateway connects to nuauth on 10.203.0.2 (-d by address)"
else
	lab_end "nufw on the gateway connects to nuauth on 10.203.0.2 (-d by address)"
fi

lab_tests test_gateway_link
if lab_login alice-client $ALICE_UID alice alicepw && lab_login bob-client $BOB_UID bob bobpw; then
	pass "alice and bob log in to nuauth on 10.203.0.2 through the gateway"
	lab_tests test_alice
else
	fail "alice and bob log in to nuauth on 10.203.0.2 through the gateway"
fi
lab_tests test_nufw_checks_name test_nuauth_checks_gateway_name

lab_finish
