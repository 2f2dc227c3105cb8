#!/bin/bash
# The client-only build: ./configure --disable-gateway, in a scratch
# directory, with a pkg-config that knows none of the gateway's libraries
# (netfilter, libpq, libldap), builds and installs libnuclient, nutcpc,
# nuauthctl (and pam_nufw where libpam is) and nothing of the gateway, and nutcpc links no netfilter
# library.
#   tests/client-build-test.sh [BUILD_DIR]   (BUILD_DIR is not used)
# Prints PASS/FAIL lines and "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d /tmp/nuclientbuild.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1"; shift; [ $# -gt 0 ] && printf '    %s\n' "$@"; failed=$((failed + 1)); }

# pkg-config as on a desktop without the gateway's development packages.
cat > "$work/pkg-config" <<'EOF'
#!/bin/sh
for a in "$@"; do
	case $a in
	libnetfilter_queue*|libnetfilter_conntrack*|libmnl*|libnfnetlink*|libpq*|ldap*) exit 1 ;;
	esac
done
exec /usr/bin/pkg-config "$@"
EOF
chmod +x "$work/pkg-config"

mkdir "$work/build"
if (cd "$work/build" && PKG_CONFIG="$work/pkg-config" "$top/configure" -q --disable-gateway \
	--prefix=/usr && make -j"$(nproc)" && make install DESTDIR="$work/root") > "$work/build.log" 2>&1; then
	pass "configure --disable-gateway and make install, without the netfilter, libpq and libldap packages"
else
	fail "configure --disable-gateway and make install, without the netfilter, libpq and libldap packages" \
		"$(tail -20 "$work/build.log")"
	echo "$passed passed, $failed failed"
	exit 1
fi
if ! grep -E "^[^ ]*\.[ch]:[0-9]+:[0-9]+: warning:" "$work/build.log"; then
	pass "the client-only build prints no compiler warning"
else
	fail "the client-only build prints no compiler warning"
fi

installed=$(cd "$work/root" && find . -type f -o -type l | sed 's|^\./||' | sort)
want=(usr/bin/nutcpc usr/sbin/nuauthctl usr/include/nuclient.h usr/lib/libnuclient.so.0
	usr/lib/pkgconfig/libnuclient.pc usr/share/man/man1/nutcpc.1 usr/share/man/man3/libnuclient.3)
missing=() extra=()
for f in "${want[@]}"; do
	grep -qx "$f" <<<"$installed" || missing+=("$f")
done
while read -r f; do
	case $f in
	usr/bin/nutcpc|usr/sbin/nuauthctl|usr/include/nuclient.h|usr/lib/libnuclient.*|\
	usr/lib/pkgconfig/libnuclient.pc|usr/share/man/man1/nutcpc.1|usr/share/man/man3/libnuclient.3|\
	usr/share/man/man8/nuauthctl.8) ;;
	# pam_nufw is the desktop's too (built where libpam0g-dev is).
	usr/lib/security/pam_nufw.so|usr/share/man/man8/pam_nufw.8) ;;
	*) extra+=("$f") ;;
	esac
done <<<"$installed"
if [ ${#missing[@]} -eq 0 ] && [ ${#extra[@]} -eq 0 ]; then
	pass "it installs libnuclient, nutcpc, nuauthctl and their manuals, nothing of the gateway"
else
	fail "it installs libnuclient, nutcpc, nuauthctl and their manuals, nothing of the gateway" \
		"missing: ${missing[*]}" "extra: ${extra[*]}"
fi

# What the installed nutcpc loads, libnuclient's libraries included.
libs=$(LD_LIBRARY_PATH=$work/root/usr/lib ldd "$work/root/usr/bin/nutcpc" 2>&1)
needed=$(readelf -d "$work/root/usr/bin/nutcpc" "$work/root/usr/lib/libnuclient.so.0" | grep NEEDED)
if grep -q "libnuclient.so.0 => $work/root/usr/lib/" <<<"$libs" && grep -q libgnutls <<<"$libs" &&
   grep -q libsasl2 <<<"$libs" && ! grep -qE "netfilter|libmnl|nfnetlink|libpq|libldap" <<<"$libs$needed"; then
	pass "nutcpc and libnuclient link GLib, GnuTLS and SASL and no netfilter library (ldd, readelf -d)"
else
	fail "nutcpc and libnuclient link GLib, GnuTLS and SASL and no netfilter library (ldd, readelf -d)" \
		"$libs" "$needed"
fi
if LD_LIBRARY_PATH=$work/root/usr/lib "$work/root/usr/bin/nutcpc" -h 2>&1 | grep -qi usage; then
	pass "the client-only nutcpc runs"
else
	fail "the client-only nutcpc runs" "$(LD_LIBRARY_PATH=$work/root/usr/lib "$work/root/usr/bin/nutcpc" -h 2>&1 | head -5)"
fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
