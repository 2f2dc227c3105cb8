#!/bin/sh
# The manual pages in doc/: each renders with man's warnings on and without
# one, and every option a program's usage text (-h, --help) names appears in
# its page, so that a new option cannot go undocumented.
# Skipped (77) when man is not installed; the option check runs anyway.
srcdir=${srcdir:-.}
doc=$srcdir/../doc
build=${top_builddir:-..}
status=0

fail() {
	echo "FAIL: $*"
	status=1
}

# The options in a usage text: -x letters and --long names, each preceded by
# a blank, `[', `(', `|' or `,' (so that "non-zero" or "FIRST:LAST" are not
# taken for options).
options_of() {
	grep -oE '(^|[[:space:][(|,])--?[A-Za-z0-9][A-Za-z0-9-]*' | sed 's/^[^-]*//' | sort -u
}

# The text of a page's source, with \- and font changes undone.
page_text() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(dq/"/g' "$1"
}

# check_options PAGE PROGRAM ARGS...: the options of PROGRAM ARGS's output.
check_options() {
	page=$1; shift
	if [ ! -x "$1" ]; then
		fail "$1 is not built"
		return
	fi
	usage=$("$@" 2>&1) || { fail "$* exits with an error"; return; }
	opts=$(printf '%s\n' "$usage" | options_of)
	[ -n "$opts" ] || { fail "no option found in the output of $*"; return; }
	text=$(page_text "$doc/$page")
	missing=
	for o in $opts; do
		printf '%s\n' "$text" | grep -Eq -- "(^|[^A-Za-z0-9-])$o([^A-Za-z0-9-]|$)" ||
			missing="$missing $o"
	done
	if [ -n "$missing" ]; then
		fail "$page does not document$missing (from $*)"
	else
		echo "ok: $page documents every option of $* ($(echo $opts | wc -w))"
	fi
}

check_options nufw.8 "$build/src/nufw/nufw" -h
check_options nuauth.8 "$build/src/nuauth/nuauth" -h
check_options nutcpc.1 "$build/src/nutcpc/nutcpc" -h
check_options nuauthctl.8 "$build/src/nuauthctl/nuauthctl" --help
check_options nuauthctl.8 "$build/src/nuauthctl/nuauthctl" pki --help
check_options nufw-qos.1 "$build/src/nufwqos/nufw-qos" --help

if ! command -v man >/dev/null 2>&1; then
	echo "SKIP: man is not installed: pages not rendered"
	[ $status -eq 0 ] && exit 77
	exit $status
fi
for page in nufw.8 nuauth.8 nutcpc.1 nufw-qos.1 nufw-firewall.8 nuauthctl.8 nuauth.conf.5 acls.nufw.5 pam_nufw.8; do
	[ -f "$doc/$page" ] || { fail "$doc/$page is missing"; continue; }
	warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
		man --warnings -E UTF-8 -l -Tutf8 -Z "$doc/$page" 2>&1 >/dev/null)
	if [ -n "$warnings" ]; then
		fail "$page renders with warnings:"
		printf '%s\n' "$warnings" | sed 's/^/    /'
	else
		echo "ok: $page renders without a warning"
	fi
done
exit $status
