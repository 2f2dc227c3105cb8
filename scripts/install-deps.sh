#!/bin/bash
# Installs, on Debian 12, what building and testing nufw needs and is not
# there yet.  Run as root.
set -euo pipefail
packages=(
	# build
	build-essential autoconf automake libtool pkg-config
	libnetfilter-queue-dev libnfnetlink-dev libmnl-dev libnetfilter-conntrack-dev
	libglib2.0-dev libgnutls28-dev libsasl2-dev libsasl2-modules libcrypt-dev
	libpq-dev	# the log_pgsql module
	libldap2-dev	# the ldap module
	libpam0g-dev	# the pam_nufw module
	libmicrohttpd-dev	# nuauth's metrics (nuauth_metrics_listen)
	libcurl4-gnutls-dev libjson-glib-dev	# nuauth's cluster (etcd's JSON gateway)
	# the lab and the tests
	gnutls-bin iptables nftables conntrack iproute2 kmod util-linux procps python3 iputils-ping
	postgresql	# the server tests/e2e/pgsql.sh starts (its own cluster)
	# tests/e2e/ldap.sh starts its own slapd; the system's (whatever its
	# postinst set up) is left alone
	slapd ldap-utils
	# tests/e2e/desktop.sh: a session bus (dbus-run-session), gdbus, busctl
	dbus-daemon libglib2.0-bin systemd
	# ... and the user unit's keyring recipe: the Secret Service, secret-tool
	gnome-keyring libsecret-tools
	# tests/e2e/pam.sh drives pam_nufw with pamtester
	pamtester
	# tests/e2e/pair.sh: a gateway pair (VRRP, conntrack sync)
	keepalived conntrackd
	# tests/e2e/cluster.sh: three etcd members of its own
	etcd-server etcd-client
	# tests/e2e/metrics.sh: curl scrapes, promtool (Debian's prometheus
	# package: about 30 s to install) checks the scrape
	curl prometheus
	# tests/e2e/radius.sh: FreeRADIUS (started by the suite, its own
	# configuration) and radclient playing the NAS
	freeradius freeradius-utils
	# tests/e2e/portal.sh: a headless browser on the login page, driven
	# over its DevTools WebSocket (python3-websocket), and certutil to make
	# it trust the lab's CA
	chromium libnss3-tools python3-websocket
	# the fuzzers (tests/fuzz), memcheck
	clang valgrind
	# the Debian packages (debian/, tests/deb-test.sh)
	debhelper lintian fakeroot dpkg-dev
	# the benchmarks' plot (bench/auth_load.sh)
	gnuplot-nox
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
