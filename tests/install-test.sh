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
	 "$conf/nuauth.conf" "$conf/users.nufw" "$conf/acls.nufw"; do
	[ -e "$f" ] || missing="$missing $f"
done
if [ -z "$missing" ]; then
	pass "programs, modules and example configuration are installed"
else
	fail "programs, modules and example configuration are installed" "missing:$missing"
fi

# The shipped nuauth.conf, with only the site's files pointed elsewhere.
# The installed nuauthctl makes the certificates.
NUAUTHCTL=$prefix/sbin/nuauthctl bash "$top/tests/e2e/pki.sh" "$work/pki" nuauth.lab 127.0.0.1 >/dev/null
cat > "$work/site.conf" <<CONF
include "$conf/nuauth.conf"
nuauth_tls_key="$work/pki/nuauth-key.pem"
nuauth_tls_cert="$work/pki/nuauth-cert.pem"
nuauth_tls_cacert="$work/pki/cacert.pem"
plaintext_userfile="$conf/users.nufw"
plaintext_aclfile="$conf/acls.nufw"
nuauth_control_socket="$work/control"
CONF
out=$(unshare -n sh -c "ip link set lo up && timeout 3 '$prefix/sbin/nuauth' -c '$work/site.conf' -v" 2>&1)
if grep -q "module plaintext loaded from $prefix/lib/nuauth/modules/plaintext.so" <<<"$out" &&
   grep -q "ready" <<<"$out"; then
	pass "installed nuauth finds its modules in \$libdir/nuauth/modules"
else
	fail "installed nuauth finds its modules in \$libdir/nuauth/modules" "$out"
fi
if ! grep -qE "warning|error" <<<"$out"; then
	pass "the example configuration loads without a warning"
else
	fail "the example configuration loads without a warning" "$out"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
