#!/bin/bash
# The login page in the namespace lab (run as root):
#   tests/e2e/portal.sh BUILD_DIR [TEST...]
# nuauth serves it over HTTPS with its certificate on 10.204.0.1:8443
# (nuauth_portal_listen), the gateway's address on the side of a desktop
# that runs no client (10.204.0.2).  From the desktop: the page asks for a
# login; a wrong password is refused and counted by the login throttles
# (five lock the address); alice's login opens an address session of
# origin portal, after which the desktop's connections through the gateway
# carry alice's mark; the page then says who is logged in; logging out
# ends the session and the connections; the idle timeout ends it too.
# A headless Chromium (Debian's chromium) in the desktop's namespace,
# driven over DevTools (browse.py), types into the form and logs in;
# screenshots of the pages go to $PORTAL_SHOTS (BUILD_DIR/portal-shots when
# unset, kept after the run).  A form posted from another site (login
# CSRF) is refused.
# Prints one PASS/FAIL line per check and ends with "N passed, N failed".
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"

lab_init "${1:-.}" "${@:2}"
command -v curl >/dev/null || { echo "portal.sh: curl is missing (scripts/install-deps.sh)" >&2; exit 2; }

PORTAL=https://nuauth.lab:8443
SHOTS=${PORTAL_SHOTS:-$BUILD/portal-shots}
IDLE=4		# nuauth_ip_session_idle_timeout, s
PORTAL_MARK=119	# nuauth_portal_mark (0x77): web traffic of hosts with no user

# The shipped firewall for the desktop's side (nufw-qos restore, as
# nufw-firewall loads it): new flows entering by g3 are judged in
# PREROUTING, before NAT, so that the portal's mark sends HTTP to the
# redirect (NUFW-PORTAL in nat); the gateway's own addresses (the login
# page) are not queued; what does not come from g3 goes on to the lab's
# rules (--forward-policy return).
portal_rules() {
	"$BUILD/src/nufwqos/nufw-qos" restore --queue 0 --lan g3 --forward-policy return \
		--portal-redirect $PORTAL_MARK:8080 > "$LAB_DIR/firewall.rules" &&
		ip netns exec "$NS_G" iptables-restore --noflush "$LAB_DIR/firewall.rules"
}

# web ARGS...: curl from the desktop to the login page, trusting the lab's
# CA for nuauth's certificate (name nuauth.lab, at 10.204.0.1); prints the
# body, then "HTTP NNN".
web() {
	ip netns exec "$NS_D" curl -sS --max-time 10 --cacert "$LAB_DIR/pki/cacert.pem" \
		--resolve nuauth.lab:8443:10.204.0.1 -w '\nHTTP %{http_code}\n' "$@"
}

# browser NAME URL [USER PASSWORD]: headless Chromium in the desktop's
# namespace, driven over DevTools (browse.py), opens URL; with USER and
# PASSWORD, types them into the page's form and submits it, as a person
# would.  Saves a screenshot as $SHOTS/NAME.png and the page's DOM as
# $LAB_DIR/NAME.html; its messages in $LAB_DIR/NAME.chromium.log.
browser() {
	local args=(--headless --no-sandbox --disable-gpu --no-first-run
		--user-data-dir="$LAB_DIR/chromium"
		--host-resolver-rules="MAP nuauth.lab 10.204.0.1" --window-size=800,600)
	HOME=$BROWSER_HOME ip netns exec "$NS_D" timeout 90 /usr/bin/python3 "$here/browse.py" \
		"$SHOTS/$1.png" "$LAB_DIR/$1.html" "$2" "${@:3}" -- "${args[@]}" \
		> "$LAB_DIR/$1.chromium.log" 2>&1
}

# The desktop's browser trusts the site's CA, as a managed desktop would
# (Chromium on Linux reads ~/.pki/nssdb): it then checks nuauth's
# certificate and name like any site's, with no exception.
browser_trusts_ca() {
	BROWSER_HOME=$LAB_DIR/browser-home
	mkdir -p "$BROWSER_HOME/.pki/nssdb"
	certutil -N -d "sql:$BROWSER_HOME/.pki/nssdb" --empty-password &&
		certutil -A -d "sql:$BROWSER_HOME/.pki/nssdb" -n "NuFW lab CA" -t "C,," \
			-i "$LAB_DIR/pki/cacert.pem"
}

lab_netns
lab_desktop
lab_rules
portal_rules || lab_end "the shipped firewall with --portal-redirect loads"
lab_pki
lab_nuauth_conf
cat >> "$LAB_DIR/nuauth.conf" <<CONF
nuauth_portal_listen="10.204.0.1:8443"
nuauth_portal_url="https://nuauth.lab:8443/"
nuauth_portal_redirect_listen="10.204.0.1:8080"
nuauth_portal_mark=$PORTAL_MARK
nuauth_ip_session_idle_timeout=$IDLE
nuauth_login_failure_limit=5
nuauth_login_failure_window=60
nuauth_login_lock_time=30
CONF
mkdir -p "$SHOTS"

test_config_errors() {
	conf_line_error "a host name stops nuauth with file:line" \
		'nuauth_portal_listen="portal.lab:443"' \
		"nuauth_portal_listen: \`portal.lab:443' is not ADDRESS:PORT"
}

lab_tests test_config_errors
lab_start_server || lab_end "the server listens"
lab_start server5050 "$NS_S" "$NUPROBE" serve 5050
lab_wait_log server5050 "ready" || lab_end "the server listens on 5050"
lab_start_gateway
lab_wait_log nuauth "login page on https://10.204.0.1:8443/" 0 || lab_end "nuauth serves the login page"
lab_wait_log nuauth "redirect to https://nuauth.lab:8443/ on http://10.204.0.1:8080/" 0 ||
	lab_end "nuauth serves the redirect"

test_page() {
	local out
	check_not "before logging in the desktop is refused" desk_connect 5050
	out=$(web "$PORTAL/")
	check "the page (HTTPS, nuauth's certificate) asks for a login" \
		bash -c 'grep -q "is not logged in" <<<"$1" && grep -q "HTTP 200" <<<"$1" || { echo "$1"; exit 1; }' _ "$out"
	out=$(ip netns exec "$NS_D" curl -sS --max-time 5 http://10.204.0.1:8443/ 2>&1)
	check "plain HTTP on its port gets no page" status_says $? error "" "$out"
	out=$(web -X DELETE "$PORTAL/")
	check "other methods are refused (405)" matches "$out" "HTTP 405"
}

test_redirect() {
	local out t0 status ms
	out=$(ip netns exec "$NS_D" curl -sS --max-time 10 -o /dev/null \
		-w '%{http_code} %{redirect_url}' http://10.202.0.2/some/page 2>&1)
	check "an HTTP request to the server goes to the login page (302)" \
		same "$out" "302 https://nuauth.lab:8443/"
	check_log "nuauth logs it" nuauth "10.204.0.2:[0-9]* -> 10.202.0.2:80: no user at the address: sent to the login page"
	t0=$(date +%s%N)
	out=$(ip netns exec "$NS_D" curl -sS --max-time 10 https://10.202.0.2/ 2>&1)
	status=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	check "HTTPS to the server is refused at once (a reset in $ms ms), no certificate error" \
		status_says $status 7 "Couldn't connect to server" "$out"
}

test_wrong_password() {
	local out before
	before=$(ctl stats --json | grep -o '"logins_failed":[0-9]*' | cut -d: -f2)
	out=$(web --data-urlencode user=alice --data-urlencode password=nope "$PORTAL/login")
	check "a wrong password is refused (403)" \
		bash -c 'grep -q "Wrong user name or password" <<<"$1" && grep -q "HTTP 403" <<<"$1" || { echo "$1"; exit 1; }' _ "$out"
	check_log "nuauth logs the refusal" nuauth "portal: login of \`alice' from $DESK refused: wrong user name or password"
	check "it counts as a failed login (nuauthctl stats)" same \
		"$(ctl stats --json | grep -o '"logins_failed":[0-9]*' | cut -d: -f2)" $((before + 1))
	check_not "the desktop is still refused" desk_connect 5050
}

test_throttle() {
	local i out=""
	# Failures from the desktop so far (above) count too: at most five
	# more lock it.
	for i in 1 2 3 4 5 6; do
		out=$(web --data-urlencode user=bob --data-urlencode password="bad$i" "$PORTAL/login")
		grep -q "HTTP 429" <<<"$out" && break
	done
	check "failed logins lock the address (429 after $((i - 1)) more)" matches "$out" "HTTP 429"
	out=$(web --data-urlencode user=bob --data-urlencode password=bobpw "$PORTAL/login")
	check "then even the right password is refused while locked (429)" \
		bash -c 'grep -q "Too many failed logins: try again in" <<<"$1" && grep -q "HTTP 429" <<<"$1" || { echo "$1"; exit 1; }' _ "$out"
	out=$(ctl users)
	check_not "and no session is opened for bob" matches "$out" "^bob "
}

test_login() {
	local out t0 ms
	t0=$(date +%s%N)
	out=$(web --data-urlencode user=alice --data-urlencode password=alicepw "$PORTAL/login")
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	check "alice logs in (the page says so; $ms ms with the TLS handshake)" \
		bash -c 'grep -q "is <b>alice</b>.s, since .* (portal)" <<<"$1" && grep -q "HTTP 200" <<<"$1" || { echo "$1"; exit 1; }' _ "$out"
	check_log "nuauth opens alice's address session (portal)" nuauth \
		"address session of alice at $DESK (portal): start"
	check "the desktop's connection carries alice's mark (1001)" desk_marked 5050 1001
	check "its HTTP reaches the server now, with her mark" desk_marked 80 1001
	out=$(ctl users)
	check "nuauthctl users lists alice at $DESK with origin portal" \
		matches "$out" "^alice  *1001 .*$DESK .* portal"
	out=$(web "$PORTAL/")
	check "the page now says who is logged in here" matches "$out" "is <b>alice</b>'s"
	out=$(web -X POST "$PORTAL/logout")
	check "logging out shows the login page" matches "$out" "You are logged out"
	check_log "nuauth ends the session and its connections" nuauth \
		"address session of alice at $DESK (portal): stop (logout), [1-9][0-9]* connection(s) ended"
	check_not "after logging out the desktop is refused" desk_connect 5050
}

# Login CSRF: a page elsewhere posting the form (the browser says so with
# Origin and Sec-Fetch-Site) must not log the desktop in under the
# attacker's name, nor log it out; the page's own origin is accepted.
test_cross_site() {
	local out
	out=$(web -H "Origin: https://evil.example" --data-urlencode user=bob \
		--data-urlencode password=bobpw "$PORTAL/login")
	check "a login posted from another site's page (Origin) is refused (403)" \
		matches "$out" "HTTP 403"
	out=$(web -H "Sec-Fetch-Site: cross-site" --data-urlencode user=bob \
		--data-urlencode password=bobpw "$PORTAL/login")
	check "a login posted cross-site (Sec-Fetch-Site) is refused (403)" matches "$out" "HTTP 403"
	out=$(web -H "Origin: null" --data-urlencode user=bob --data-urlencode password=bobpw \
		"$PORTAL/login")
	check "a login posted from an opaque origin (Origin: null) is refused (403)" \
		matches "$out" "HTTP 403"
	out=$(ctl users)
	check_not "no session was opened for bob by them" matches "$out" "^bob "
	out=$(web -H "Origin: https://nuauth.lab:8443" -H "Sec-Fetch-Site: same-origin" \
		--data-urlencode user=alice --data-urlencode password=alicepw "$PORTAL/login")
	check "the page's own form (same origin) logs alice in" matches "$out" "HTTP 200"
	out=$(web -X POST -H "Origin: https://evil.example" "$PORTAL/logout")
	check "a logout posted from another site is refused (403)" matches "$out" "HTTP 403"
	check "alice's session is still there" desk_marked 5050 1001
	out=$(web -X POST -H "Origin: https://nuauth.lab:8443" "$PORTAL/logout")
	check "her own logout works" matches "$out" "You are logged out"
}

# An address an administrator (or RADIUS) gave to a user is not taken over
# through the page.
test_pinned() {
	local out
	out=$(ctl ip-session start bob "$DESK")
	check "an administrator gives the desktop's address to bob" matches "$out" "(admin): start"
	out=$(web --data-urlencode user=alice --data-urlencode password=alicepw "$PORTAL/login")
	check "alice's login through the page does not take it over (409)" matches "$out" "HTTP 409"
	check "the desktop's connection is still bob's (1002)" desk_marked 5050 1002
	out=$(web -X POST "$PORTAL/logout")
	check "the page's logout does not end it either" desk_marked 5050 1002
	out=$(ctl ip-session stop bob "$DESK")
	check "the administrator ends it" matches "$out" "(admin): stop"
}

test_idle() {
	local out
	out=$(web --data-urlencode user=alice --data-urlencode password=alicepw "$PORTAL/login")
	check "alice logs in again" matches "$out" "HTTP 200"
	check "the desktop is alice's" desk_marked 5050 1001
	# The idle timeout runs from the last packet: nothing may pass for
	# IDLE seconds (no readiness signal exists for an absence).
	sleep $((IDLE + 1))
	check_not "after ${IDLE} s idle the desktop's next connection is refused" desk_connect 5050
	check_log "nuauth logs the idle timeout" nuauth \
		"address session of alice at $DESK (portal) ended: idle timeout"
	out=$(web "$PORTAL/")
	check "and the page asks for a login again" matches "$out" "is not logged in"
	out=$(ip netns exec "$NS_D" curl -sS --max-time 10 -o /dev/null \
		-w '%{http_code} %{redirect_url}' http://10.202.0.2/ 2>&1)
	check "and the desktop's next web connection goes to the login page again (302)" \
		same "$out" "302 https://nuauth.lab:8443/"
}

test_chromium() {
	local out
	command -v chromium >/dev/null && command -v certutil >/dev/null ||
		{ fail "chromium and certutil are installed (scripts/install-deps.sh)"; return; }
	browser_trusts_ca || { fail "the browser's NSS database trusts the lab's CA"; return; }
	browser login "http://10.202.0.2/"
	check "Chromium opening http://10.202.0.2/ lands on the login page (login.png)" \
		bash -c 'grep -q "id=\"password\"" "$1" && [ -s "$2" ] || { cat "$3"; exit 1; }' _ \
		"$LAB_DIR/login.html" "$SHOTS/login.png" "$LAB_DIR/login.chromium.log"
	browser wrong "$PORTAL/" carol nope
	check "Chromium: a wrong password gets the message (wrong.png)" \
		bash -c 'grep -q "Wrong user name or password" "$1" && [ -s "$2" ] || { cat "$1" "$3"; exit 1; }' _ \
		"$LAB_DIR/wrong.html" "$SHOTS/wrong.png" "$LAB_DIR/wrong.chromium.log"
	browser welcome "$PORTAL/" alice alicepw
	check "Chromium: alice's login shows who is here (welcome.png)" \
		bash -c 'grep -q "alice</b>.s, since" "$1" && [ -s "$2" ] || { cat "$1" "$3"; exit 1; }' _ \
		"$LAB_DIR/welcome.html" "$SHOTS/welcome.png" "$LAB_DIR/welcome.chromium.log"
	check "then the desktop's connection carries alice's mark (1001)" desk_marked 5050 1001
	browser who "$PORTAL/"
	check "Chromium: the page says who is logged in (who.png)" \
		bash -c 'grep -q "id=\"logout\"" "$1" && [ -s "$2" ]' _ "$LAB_DIR/who.html" "$SHOTS/who.png"
	echo "screenshots: $SHOTS"
}

lab_tests test_page test_redirect test_wrong_password test_login test_cross_site test_pinned test_idle \
	test_chromium test_throttle
lab_finish
