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
	 "$prefix/sbin/nufw-firewall" "$conf/firewall.conf" \
	 "$prefix/lib/systemd/system/nufw-firewall.service" "$prefix/share/man/man8/nufw-firewall.8" \
	 "$prefix/share/doc/nufw/examples/users.nufw"; do
	[ -e "$f" ] || missing="$missing $f"
done
if [ -z "$missing" ]; then
	pass "programs, modules and example configuration are installed"
else
	fail "programs, modules and example configuration are installed" "missing:$missing"
fi

# A site's module built out of tree against the installed module API
# (tests/module/site_log.c), with nothing but pkg-config's flags, into the
# moduledir it names; and the same source declaring another API version:
# an older minor (11.0's smaller struct), a newer minor, another major.
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
header=$prefix/include/nuauth/module.h
major=$(sed -n 's/^#define NUAUTH_MODULE_API_MAJOR \([0-9]*\)$/\1/p' "$header" 2>/dev/null)
minor=$(sed -n 's/^#define NUAUTH_MODULE_API_MINOR \([0-9]*\)$/\1/p' "$header" 2>/dev/null)
moddir=$(pkg-config --variable=moduledir nuauth-module 2>&1)
build_module() {
	local out=$1
	shift
	# shellcheck disable=SC2046 # pkg-config's flags are words
	${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -shared -fPIC \
		$(pkg-config --cflags nuauth-module) "$@" -o "$moddir/$out.so" \
		"$top/tests/module/site_log.c"
}
if [ -n "$major" ] && [ -n "$minor" ] && [ "$moddir" = "$prefix/lib/nuauth/modules" ] &&
   build_module site_log > "$work/module.log" 2>&1 &&
   build_module site_old -DSITE_MINOR=0 >> "$work/module.log" 2>&1 &&
   build_module site_new -DSITE_MINOR=$((minor + 1)) >> "$work/module.log" 2>&1 &&
   build_module site_major -DSITE_MAJOR=$((major + 1)) >> "$work/module.log" 2>&1; then
	pass "a module builds out of tree with pkg-config --cflags nuauth-module"
else
	fail "a module builds out of tree with pkg-config --cflags nuauth-module" \
		"API ${major:-?}.${minor:-?}, moduledir $moddir" "$(cat "$work/module.log" 2>/dev/null)"
fi
# The installed nufw-firewall finds the installed nufw-qos and firewall.conf:
# `show' prints both families' rulesets (and loads nothing).
if out=$("$prefix/sbin/nufw-firewall" show 2>&1) &&
   [ "$(printf '%s\n' "$out" | grep -c '^-A NUFW-FORWARD -j DROP$')" = 2 ]; then
	pass "the installed nufw-firewall shows the shipped ruleset for both families"
else
	fail "the installed nufw-firewall shows the shipped ruleset for both families" "$out"
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
nuauth_user_session_logs_module="log_syslog site_log site_old:minor0"
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
if grep -q "module site_old:minor0 loaded from $moddir/site_old.so (API $major.0)" <<<"$out" &&
   grep -q "site_log: login 1 of alice (module API $major.$minor)" <<<"$out" &&
   grep -q "minor0: login 1 of alice (module API $major.0)" <<<"$out"; then
	pass "the out-of-tree module, and its build for minor 0, log alice's login"
else
	fail "the out-of-tree module, and its build for minor 0, log alice's login" "$out"
fi
# A newer minor, another major: nuauth refuses them, naming the file.
refused() {
	local name=$1 version=$2 err
	printf 'include "%s"\nnuauth_user_session_logs_module="%s"\n' "$work/site.conf" "$name" \
		> "$work/$name.conf"
	if err=$("$prefix/sbin/nuauth" -c "$work/$name.conf" -t 2>&1); then
		echo "nuauth -t accepted $name: $err"
		return 1
	fi
	grep -qF "module $moddir/$name.so was built for module API $version, which this nuauth (API $major.$minor) cannot load" <<<"$err" ||
		{ echo "$err"; return 1; }
}
if why=$(refused site_new "$major.$((minor + 1))" && refused site_major "$((major + 1)).$minor"); then
	pass "a module of a newer minor or another major is refused with its file named"
else
	fail "a module of a newer minor or another major is refused with its file named" "$why"
fi
if ! grep -qE "warning|error" <<<"$out"; then
	pass "the example configuration loads without a warning"
else
	fail "the example configuration loads without a warning" "$out"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
