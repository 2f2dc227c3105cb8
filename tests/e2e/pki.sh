#!/bin/bash
# Makes a throw-away PKI: a CA, nuauth's server certificate (DNS name NAME,
# IP addresses ADDRESS and 127.0.0.1) and one nufw client certificate:
#   pki.sh DIR NAME ADDRESS
# DIR gets cacert.pem, ca-key.pem, nuauth-cert.pem, nuauth-key.pem,
# nufw-cert.pem and nufw-key.pem.  With NUAUTHCTL set (the lab sets it to
# the build's nuauthctl), `nuauthctl pki' makes them; otherwise GnuTLS's
# certtool does.
set -euo pipefail
dir=$1 name=$2 address=$3
mkdir -p "$dir"
cd "$dir"
# Made afresh each time: nuauthctl refuses to overwrite.
rm -f cacert.pem ca-key.pem nuauth-cert.pem nuauth-key.pem nufw-cert.pem nufw-key.pem

if [ -n "${NUAUTHCTL:-}" ]; then
	"$NUAUTHCTL" pki init . --nuauth-name "$name" --nuauth-ip "$address" \
		--nuauth-ip 127.0.0.1 --days 30 --ca-days 30 >/dev/null
	"$NUAUTHCTL" pki issue . nufw nufw-gateway --out nufw --days 30 >/dev/null
	exit 0
fi

template() {	# template FILE LINES...
	local file=$1; shift
	printf '%s\n' "$@" > "$file"
}

certtool --generate-privkey --key-type=ecdsa --outfile ca-key.pem 2>/dev/null
template ca.tmpl 'cn = "nufw test CA"' 'ca' 'cert_signing_key' 'crl_signing_key' 'expiration_days = 30'
certtool --generate-self-signed --load-privkey ca-key.pem --template ca.tmpl \
	--outfile cacert.pem 2>/dev/null

certtool --generate-privkey --key-type=ecdsa --outfile nuauth-key.pem 2>/dev/null
template nuauth.tmpl "cn = \"$name\"" "dns_name = \"$name\"" "ip_address = \"$address\"" \
	'ip_address = "127.0.0.1"' 'tls_www_server' 'signing_key' 'expiration_days = 30'
certtool --generate-certificate --load-privkey nuauth-key.pem --load-ca-certificate cacert.pem \
	--load-ca-privkey ca-key.pem --template nuauth.tmpl --outfile nuauth-cert.pem 2>/dev/null

certtool --generate-privkey --key-type=ecdsa --outfile nufw-key.pem 2>/dev/null
template nufw.tmpl 'cn = "nufw-gateway"' 'unit = "nufw"' 'tls_www_client' 'signing_key' 'expiration_days = 30'
certtool --generate-certificate --load-privkey nufw-key.pem --load-ca-certificate cacert.pem \
	--load-ca-privkey ca-key.pem --template nufw.tmpl --outfile nufw-cert.pem 2>/dev/null

chmod 600 ca-key.pem nuauth-key.pem nufw-key.pem
chmod 644 cacert.pem nuauth-cert.pem nufw-cert.pem
