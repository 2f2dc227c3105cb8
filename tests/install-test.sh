#!/bin/bash
# make install into a fresh prefix gives a working nuauth: it finds its
# modules in $libdir/nuauth/modules with no setting, and the shipped example
# configuration loads without a warning.  Runs nuauth in a private network
# namespace (unshare -n) so that its ports touch nothing else.
#   tests/install-test.sh
# Prints PASS/FAIL lines and "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d /tmp/nuinstall.XXXXXX)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
passed=0 failed=0
pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1"; shift; [ $# -gt 0 ] && printf '    %s\n' "$@"; failed=$((failed + 1)); }

mkdir -p "$work/build"
if (cd "$work/build" && "$top/configure" -q --prefix="$prefix" --with-systemdunitdir="$prefix/lib/systemd/system" && make -s -j"$(nproc)" && make -s install) \
	> "$work/build.log" 2>&1; then
	pass "configure --prefix and make install"
else
	fail "configure --prefix and make install" "$(tail -20 "$work/build.log")"
	echo "$passed passed, $failed failed"
	exit 1
fi

conf=$prefix/etc/nufw
missing=
for f in "$prefix/sbin/nuauth" "$prefix/sbin/nufw" "$prefix/bin/nutcpc" "$prefix/sbin/nuauthctl" \
	 "$prefix/bin/nufw-qos" "$prefix/share/man/man1/nufw-qos.1" \
	 "$prefix/share/man/man8/nuauth.8" "$prefix/share/man/man5/nuauth.conf.5" \
	 "$prefix/lib/systemd/system/nuauth.service" \
	 "$prefix/lib/nuauth/modules/plaintext.so" "$prefix/lib/nuauth/modules/mark_uid.so" \
	 "$conf/nuauth.conf" "$conf/users.nufw" "$conf/acls.nufw" \
	 "$prefix/share/doc/nufw/examples/users.nufw"; do
	[ -e "$f" ] || missing="$missing $f"
done
if [ -z "$missing" ]; then
	pass "programs, modules and example configuration are installed"
else
	fail "programs, modules and example configuration are installed" "missing:$missing"
fi

# The live users file starts with no user (the demonstration accounts are
# only among the examples); alice is added the way its comments say.
if ! grep -q '^[^#]' "$conf/users.nufw" && grep -q '^alice:alice-demo:' "$prefix/share/doc/nufw/examples/users.nufw"; then
	pass "the installed users file has no user; the demo accounts are examples"
else
	fail "the installed users file has no user; the demo accounts are examples" "$(grep -v '^#' "$conf/users.nufw")"
fi
echo "alice:$(printf 'alice-pw\n' | "$prefix/sbin/nuauthctl" hash --scram):1001:100" >> "$conf/users.nufw"

# The shipped nuauth.conf, with only the site's files pointed elsewhere,
# and without nuauth_user_check_module and nuauth_acl_check_module: the
# installed system runs on their defaults (plaintext), which no other test
# does.  The installed nuauthctl makes the certificates.
NUAUTHCTL=$prefix/sbin/nuauthctl bash "$top/tests/e2e/pki.sh" "$work/pki" nuauth.lab 127.0.0.1 >/dev/null
grep -v '^nuauth_\(user\|acl\)_check_module' "$conf/nuauth.conf" > "$work/defaults.conf"
cat > "$work/site.conf" <<CONF
include "$work/defaults.conf"
nuauth_tls_key="$work/pki/nuauth-key.pem"
nuauth_tls_cert="$work/pki/nuauth-cert.pem"
nuauth_tls_cacert="$work/pki/cacert.pem"
plaintext_userfile="$conf/users.nufw"
plaintext_aclfile="$conf/acls.nufw"
nuauth_control_socket="$work/control"
CONF
# In a network namespace of its own: the installed nuauth, and alice's
# login (the password given to nuauthctl hash above) through the installed
# nutcpc, which the default user check module has to accept.
session() {
	local pid i
	ip link set lo up
	: > "$work/nuauth.log"	# there before the loop below reads it
	"$prefix/sbin/nuauth" -c "$work/site.conf" -v > "$work/nuauth.log" 2>&1 &
	pid=$!
	for ((i = 0; i < 200; i++)); do
		grep -q " ready" "$work/nuauth.log" && break
		sleep 0.05
	done
	HOME=$work XDG_RUNTIME_DIR=$work timeout 10 "$prefix/bin/nutcpc" -H 127.0.0.1 -U alice \
		-P alice-pw -A "$work/pki/cacert.pem" </dev/null > "$work/nutcpc.log" 2>&1 &&
		HOME=$work XDG_RUNTIME_DIR=$work "$prefix/bin/nutcpc" -k >> "$work/nutcpc.log" 2>&1
	kill "$pid"
	wait "$pid"
}
export prefix work
export -f session
unshare -n bash -c session
out=$(cat "$work/nuauth.log")
if grep -q "module plaintext loaded from $prefix/lib/nuauth/modules/plaintext.so" <<<"$out" &&
   grep -q "ready" <<<"$out" && ! grep -q '^[^#]*_check_module' "$work/defaults.conf" "$work/site.conf"; then
	pass "installed nuauth finds its modules in \$libdir/nuauth/modules"
else
	fail "installed nuauth finds its modules in \$libdir/nuauth/modules" "$out"
fi
if grep -q "logged in" "$work/nutcpc.log" && grep -q "user alice (uid 1001) logged in from 127.0.0.1" <<<"$out"; then
	pass "with the default user check module the installed nutcpc logs in"
else
	fail "with the default user check module the installed nutcpc logs in" "$(cat "$work/nutcpc.log")" "$out"
fi
if ! grep -qE "warning|error" <<<"$out"; then
	pass "the example configuration loads without a warning"
else
	fail "the example configuration loads without a warning" "$out"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
