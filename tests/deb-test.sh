#!/bin/bash
# The Debian packages (debian/): built from the tree, checked by lintian,
# installed on this machine with dpkg -i, run from the installed paths in the
# namespace lab (tests/e2e/lab.sh), removed, purged.
#   tests/deb-test.sh BUILD_DIR
# BUILD_DIR gives the lab's own tools (tests/e2e/nuprobe); every program
# under test is the installed one.  The packages are built in a scratch copy
# of the tree (git's files, committed or not), so the tree stays clean.  Run
# as root on Debian 12.  Refuses to start when one of the packages is already
# installed; removes them at the end, also when a check fails.  Prints
# PASS/FAIL lines and "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$1
PKGS=(nuauth nufw nutcpc libnuclient0 libnuclient-dev nuauth-ldap nuauth-pgsql)
# What purge must leave behind: nothing of these.
LEFTOVERS=(/etc/nufw /etc/default/nufw /run/nuauth /usr/lib/*/nuauth /usr/share/nufw
	/usr/lib/sysusers.d/nuauth.conf /usr/lib/tmpfiles.d/nuauth.conf
	/lib/systemd/system/nuauth.service /lib/systemd/system/nufw.service
	/usr/share/doc/nuauth /usr/sbin/nuauth /usr/sbin/nufw /usr/bin/nutcpc)

installed() {	# the packages of PKGS that dpkg knows (installed or config-files)
	dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PKGS[@]}" 2>/dev/null |
		awk '$2 != "un" { print $1 }'
}
if [ -n "$(installed)" ]; then
	echo "deb-test: already on this machine: $(installed | tr '\n' ' ')(left alone)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
for tool in dpkg-buildpackage dh lintian; do
	command -v "$tool" >/dev/null || { echo "deb-test: $tool is missing (scripts/install-deps.sh)" >&2
		echo "0 passed, 1 failed"; exit 1; }
done

. "$top/tests/e2e/lab.sh"
lab_init "$build"
work=$LAB_DIR
# The machine as it was: the packages purged, whatever failed.
# The lab goes first: purge cannot delete the user nuauth while a nuauth
# runs as it.
restore() {
	local left
	lab_down
	left=$(installed)
	# shellcheck disable=SC2086
	[ -n "$left" ] && dpkg -P $left >/dev/null 2>&1
}
trap restore EXIT

# 1. Build, in a copy of the tree's files.
src=$work/src/nufw
mkdir -p "$src"
if [ -d "$top/.git" ] || git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z -c -o --exclude-standard | tar -c --null -T - -f -) | tar -x -C "$src"
else
	tar -C "$top" -c --exclude='./build*' --exclude=./debian/tmp -f - . | tar -x -C "$src"
fi
before=$(cd "$top" && git status --porcelain 2>/dev/null)
start=$SECONDS
if (cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b) \
	> "$work/build.log" 2>&1; then
	pass "dpkg-buildpackage -us -uc -b builds the packages ($((SECONDS - start)) s)"
else
	fail "dpkg-buildpackage -us -uc -b builds the packages" "$(tail -30 "$work/build.log")"
	lab_finish
	exit
fi
# The packages' build has its own flags (dpkg-buildflags: -O2, fortify,
# hardening=+all): no warning there either.
if ! grep -E "^[^ ]*\.[ch]:[0-9]+:[0-9]+: warning:" "$work/build.log"; then
	pass "the package build prints no compiler warning (dpkg-buildflags, hardening=+all)"
else
	fail "the package build prints no compiler warning (dpkg-buildflags, hardening=+all)"
fi
debs=()
for p in "${PKGS[@]}"; do
	debs+=("$(ls "$work/src/${p}_"*.deb)")
done
if [ "$before" = "$(cd "$top" && git status --porcelain 2>/dev/null)" ]; then
	pass "the build leaves the source tree as it was"
else
	fail "the build leaves the source tree as it was" "$(cd "$top" && git status --porcelain)"
fi

# 2. lintian: no error (its warnings are printed).
lintian --tag-display-limit 0 "$work"/src/nufw_*.changes > "$work/lintian.log" 2>&1
if ! grep -q '^E:' "$work/lintian.log"; then
	pass "lintian reports no error ($(grep -c '^W:' "$work/lintian.log") warnings)"
	grep '^W:' "$work/lintian.log" | sed 's/^/    /'
else
	fail "lintian reports no error" "$(grep -E '^(E|W):' "$work/lintian.log")"
fi

# 3. Install.
if dpkg -i "${debs[@]}" > "$work/dpkg-i.log" 2>&1; then
	pass "dpkg -i installs the seven packages"
else
	fail "dpkg -i installs the seven packages" "$(cat "$work/dpkg-i.log")"
	lab_finish
	exit
fi
# What a fresh install holds: the system user, its runtime directory, the
# secrets' files readable by its group only, a users file with no user, the
# demonstration accounts among the examples, the units and the manuals.
uid=$(id -u nuauth 2>/dev/null)
problems=()
[ -n "$uid" ] && [ "$uid" -lt 1000 ] && [ "$(getent passwd nuauth | cut -d: -f7)" = /usr/sbin/nologin ] ||
	problems+=("no system user nuauth: $(getent passwd nuauth)")
[ "$(stat -c '%U:%G %a' /run/nuauth 2>&1)" = "nuauth:nuauth 750" ] ||
	problems+=("/run/nuauth: $(stat -c '%U:%G %a' /run/nuauth 2>&1)")
for f in /etc/nufw/users.nufw /etc/nufw/nuauth.conf; do
	[ "$(stat -c '%U:%G %a' "$f" 2>&1)" = "root:nuauth 640" ] ||
		problems+=("$f: $(stat -c '%U:%G %a' "$f" 2>&1)")
done
grep -q '^[^#]' /etc/nufw/users.nufw && problems+=("users.nufw has users: $(grep '^[^#]' /etc/nufw/users.nufw)")
grep -q '^alice:alice-demo:' /usr/share/doc/nuauth/examples/users.nufw ||
	problems+=("no example accounts in /usr/share/doc/nuauth/examples/users.nufw")
for page in nuauth.8 nuauthctl.8 nuauth.conf.5 acls.nufw.5 nufw.8 nufw-qos.1 nutcpc.1 libnuclient.3; do
	[ -f "/usr/share/man/man${page##*.}/$page.gz" ] || problems+=("no manual $page")
done
for f in /lib/systemd/system/nuauth.service /lib/systemd/system/nufw.service \
	/usr/lib/x86_64-linux-gnu/pkgconfig/libnuclient.pc /usr/include/nuclient.h; do
	[ -e "$f" ] || [ -e "${f/x86_64-linux-gnu/$(dpkg-architecture -qDEB_HOST_MULTIARCH)}" ] ||
		problems+=("no $f")
done
conff=$(dpkg-query -W -f='${Conffiles}\n' nuauth nufw | awk 'NF { print $1 }' | sort | tr '\n' ' ')
[[ $conff == *"/etc/nufw/users.nufw"* && $conff == *"/etc/nufw/nuauth.conf"* && $conff == *"/etc/default/nufw"* ]] ||
	problems+=("conffiles: $conff")
if [ ${#problems[@]} -eq 0 ]; then
	pass "installed: user nuauth, /run/nuauth, secrets 0640 root:nuauth, no user in users.nufw, examples, units, manuals, conffiles"
else
	fail "installed: user nuauth, /run/nuauth, secrets 0640 root:nuauth, no user in users.nufw, examples, units, manuals, conffiles" \
		"${problems[@]}"
fi
# The module packages bring their libraries; nuauth itself needs neither.
deps=$(dpkg-query -W -f='${Package}: ${Depends}\n' nuauth nuauth-ldap nuauth-pgsql)
if grep -q '^nuauth-ldap: .*libldap' <<<"$deps" && grep -q '^nuauth-pgsql: .*libpq' <<<"$deps" &&
   ! grep -qE '^nuauth: .*(libldap|libpq)' <<<"$deps"; then
	pass "nuauth-ldap and nuauth-pgsql depend on their libraries, nuauth on neither"
else
	fail "nuauth-ldap and nuauth-pgsql depend on their libraries, nuauth on neither" "$deps"
fi

# 4. The installed programs in the lab: nuauth as its system user on the
# installed configuration (its modules from the installed path), the lab's
# certificates (made by the installed nuauthctl) and a control socket of
# this lab's own; the installed nufw and nutcpc.
# shellcheck disable=SC2034	# lab.sh's functions use them
NUAUTH=/usr/sbin/nuauth NUFW=/usr/sbin/nufw NUTCPC=/usr/bin/nutcpc
export NUAUTHCTL=/usr/sbin/nuauthctl
lab_netns
lab_pki >/dev/null
chgrp nuauth "$LAB_DIR/pki/nuauth-key.pem"
chmod 0640 "$LAB_DIR/pki/nuauth-key.pem"
install -d -o nuauth -g nuauth -m 0750 "$LAB_DIR/run"
ctl=$LAB_DIR/run/control
cat > "$LAB_DIR/site.conf" <<CONF
include "/etc/nufw/nuauth.conf"
nuauth_tls_key="$LAB_DIR/pki/nuauth-key.pem"
nuauth_tls_cert="$LAB_DIR/pki/nuauth-cert.pem"
nuauth_tls_cacert="$LAB_DIR/pki/cacert.pem"
nuauth_packet_timeout=3
nuauth_control_socket="$ctl"
CONF
chmod 0644 "$LAB_DIR/site.conf"
lab_rules
lab_start_server
lab_start nuauth "$NS_G" setpriv --reuid=nuauth --regid=nuauth --init-groups -- \
	"$NUAUTH" -c "$LAB_DIR/site.conf" -v
if lab_wait_log nuauth "ready" && lab_start_nufw; then
	mods=$(grep -o "module plaintext loaded from [^ ]*" "$LAB_DIR/nuauth.log")
	if [[ $mods == *"/usr/lib/"*"/nuauth/modules/plaintext.so" ]] && ! grep -qE "warning|error" "$LAB_DIR/nuauth.log"; then
		pass "the installed nuauth (as user nuauth) and nufw start on the installed configuration"
	else
		fail "the installed nuauth (as user nuauth) and nufw start on the installed configuration" \
			"$(cat "$LAB_DIR/nuauth.log")"
	fi
else
	fail "the installed nuauth (as user nuauth) and nufw start on the installed configuration" \
		"$(cat "$LAB_DIR/nuauth.log" "$LAB_DIR/nufw.log" 2>/dev/null)"
	lab_finish
	exit
fi

# A fresh install: nobody logs in, not even with the README's demo password.
out=$(lab_as "$NS_C" 2001 timeout 15 "$NUTCPC" -H 10.201.0.1 -p 4129 -U alice -P alice-demo \
	-A "$LAB_DIR/pki/cacert.pem" -d 2>&1)
status=$?
failed_logins=$("$NUAUTHCTL" stats -s "$ctl" --json 2>&1 | grep -o '"logins_failed": *[0-9]*' | grep -o '[0-9]*$')
if [ $status -ne 0 ] && [ $status -ne 124 ] && ! grep -q "logged in" <<<"$out" && [ "${failed_logins:-0}" -ge 1 ]; then
	pass "a fresh install has no user who can log in (alice's demo password is refused)"
else
	fail "a fresh install has no user who can log in (alice's demo password is refused)" "status $status" "$out" \
		"logins_failed: ${failed_logins:-none}"
fi

# The documented way (users.nufw's comments, README.Debian): nuauthctl user
# add, then a reload.  The file keeps its owner, group and mode.
if printf 'alice-pw\n' | "$NUAUTHCTL" user add alice 1001 100 > "$work/reload.log" 2>&1 &&
   "$NUAUTHCTL" reload -s "$ctl" >> "$work/reload.log" 2>&1 &&
   [ "$(stat -c '%U:%G %a' /etc/nufw/users.nufw)" = "root:nuauth 640" ]; then
	pass "alice added with nuauthctl user add (users.nufw still 0640 root:nuauth); nuauthctl reload"
else
	fail "alice added with nuauthctl user add (users.nufw still 0640 root:nuauth); nuauthctl reload" \
		"$(cat "$work/reload.log")" "$(ls -l /etc/nufw/users.nufw)"
fi
if lab_login alice 2001 alice alice-pw; then
	out=$(lab_connect 2001 80)
	port=${out##*:}
	mark=$(lab_ct_mark "$port" 80)
	if [[ $out == connected* ]] && [ "$mark" = 1001 ] &&
	   "$NUAUTHCTL" users -s "$ctl" 2>&1 | grep -q alice; then
		pass "alice logs in with the installed nutcpc; her connection is accepted with her mark (1001)"
	else
		fail "alice logs in with the installed nutcpc; her connection is accepted with her mark (1001)" \
			"$out, mark ${mark:-none}" "$(tail -20 "$LAB_DIR/nuauth.log")"
	fi
else
	fail "alice logs in with the installed nutcpc; her connection is accepted with her mark (1001)"
fi
lab_stop_all

# 5. Remove: programs gone, conffiles (with alice) kept.
if dpkg -r "${PKGS[@]}" > "$work/dpkg-r.log" 2>&1 && [ ! -e /usr/sbin/nuauth ] && [ ! -e /usr/sbin/nufw ] &&
   grep -q '^alice:' /etc/nufw/users.nufw && [ -f /etc/nufw/nuauth.conf ] && [ -f /etc/default/nufw ] &&
   [ "$(dpkg-query -W -f='${db:Status-Abbrev}' nuauth)" = "rc " ]; then
	pass "dpkg -r removes the programs and keeps the conffiles (alice still in users.nufw)"
else
	fail "dpkg -r removes the programs and keeps the conffiles (alice still in users.nufw)" \
		"$(cat "$work/dpkg-r.log")" "$(ls -la /etc/nufw 2>&1)"
fi

# 6. Purge: nothing left.
dpkg -P "${PKGS[@]}" > "$work/dpkg-p.log" 2>&1
status=$?
left=()
for f in "${LEFTOVERS[@]}"; do
	[ -e "$f" ] && left+=("$f")
done
getent passwd nuauth >/dev/null && left+=("user nuauth")
getent group nuauth >/dev/null && left+=("group nuauth")
[ -n "$(installed)" ] && left+=("dpkg knows: $(installed | tr '\n' ' ')")
[ -n "$(find /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked \
	\( -name '*nuauth*' -o -name '*nufw*' \) 2>/dev/null)" ] && left+=("deb-systemd-helper state")
if [ $status -eq 0 ] && [ ${#left[@]} -eq 0 ]; then
	pass "dpkg -P leaves nothing: no /etc/nufw, no user or group nuauth, no /run/nuauth, no files"
else
	fail "dpkg -P leaves nothing: no /etc/nufw, no user or group nuauth, no /run/nuauth, no files" \
		"status $status" "${left[@]}" "$(cat "$work/dpkg-p.log")"
fi

lab_finish
