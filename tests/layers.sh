#!/bin/sh
# No include or call circle between the files of src/ (doc/architecture.md,
# "The floors").  For each program's folder the call graph is read from the
# objects the build made: file A calls file B when an object of A leaves a
# symbol undefined that the object of B defines (nm).  A loop in that graph,
# or between headers that include each other, fails the test; so does a call
# in src/nuauth from a floor to a higher one (the floors are listed below and
# in the document, and must agree with the code).
# usage: layers.sh [BUILD_DIR]   (make check: the build tree around tests/)
srcdir=${srcdir:-.}
top_src=$srcdir/..
build=${1:-${top_builddir:-..}}
status=0
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL: $*"
	status=1
}

# nuauth's floors: a file calls files of its own floor or lower ones only.
FLOORS='
peers 1
hooks 1
stats 1
peer_log 1
config 1
login_guard 1
workers 1
listener 1
ipsession 1
username 1
cluster 1
cluster_etcd 1
cluster_ask 1
cluster_throttle 1
etcd_json 1
modules 2
decide 2
cert_login 2
connections 3
client_needs 3
answer 4
ipauth 5
correlate 6
gw_session 7
client_session 7
sasl_server 7
control 8
metrics 8
portal 8
reload 8
main 9
'

# The objects of one folder, as "file object" lines (the file named by the
# source it was built from: nuauth-correlate.o is correlate).
objects() {
	for o in "$build/src/$1"/*.o "$build/src/$1"/.libs/*.o; do
		[ -f "$o" ] || continue
		n=$(basename "$o" .o)
		echo "${n#*-} $o"
	done
}

# "caller callee" edges between the files of a folder.
call_edges() {
	objects "$1" > "$tmp/objs"
	: > "$tmp/defs"
	: > "$tmp/uses"
	while read -r f o; do
		nm "$o" | awk -v f="$f" 'NF == 3 && $2 ~ /^[TDBRGSVW]$/ { print $3, f }' >> "$tmp/defs"
		nm "$o" | awk -v f="$f" '$1 == "U" { print $2, f }' >> "$tmp/uses"
	done < "$tmp/objs"
	sort -u "$tmp/defs" > "$tmp/defs.s"
	sort -u "$tmp/uses" > "$tmp/uses.s"
	# symbol caller + symbol callee -> caller callee
	join "$tmp/uses.s" "$tmp/defs.s" | awk '$2 != $3 { print $2, $3 }' | sort -u
}

checked=0
for dir in lib nuauth nufw libnuclient nutcpc nuauthctl nufwqos; do
	[ -d "$build/src/$dir" ] || continue
	call_edges "$dir" > "$tmp/edges.$dir"
	[ -s "$tmp/objs" ] || continue
	checked=$((checked + 1))
	if ! tsort "$tmp/edges.$dir" > /dev/null 2> "$tmp/loop"; then
		fail "src/$dir: files call each other in a circle:"
		sed 's/^/    /' "$tmp/loop"
	fi
done
if [ "$checked" -eq 0 ]; then
	echo "SKIP: no objects under $build/src (build first)"
	exit 77
fi

# nuauth: every call goes to the caller's floor or below.
echo "$FLOORS" | awk 'NF == 2' | sort > "$tmp/floors"
objects nuauth | awk '{ print $1 }' | sort > "$tmp/nuauth_files"
join -v 1 "$tmp/nuauth_files" "$tmp/floors" | while read -r f; do
	echo "FAIL: src/nuauth/$f.c has no floor in tests/layers.sh (and doc/architecture.md)"
done > "$tmp/nofloor"
if [ -s "$tmp/nofloor" ]; then
	cat "$tmp/nofloor"
	status=1
fi
sort "$tmp/edges.nuauth" | join - "$tmp/floors" | sort -k2 | join -1 2 -2 1 - "$tmp/floors" |
	awk '$4 > $3 { print "FAIL: src/nuauth: " $2 ".c (floor " $3 ") calls " $1 ".c (floor " $4 ")" }' \
	> "$tmp/up"
if [ -s "$tmp/up" ]; then
	cat "$tmp/up"
	status=1
fi

# Headers that include each other, anywhere in src/.
find "$top_src/src" -name '*.h' | while read -r h; do
	grep -o '^#include "[^"]*\.h"' "$h" | sed 's/^#include "\(.*\)"$/\1/' |
		while read -r inc; do echo "$(basename "$h") $(basename "$inc")"; done
done > "$tmp/includes"
if ! tsort "$tmp/includes" > /dev/null 2> "$tmp/loop"; then
	fail "headers include each other in a circle:"
	sed 's/^/    /' "$tmp/loop"
fi

[ "$status" -eq 0 ] && echo "PASS: no call or include circle in $checked folders of src/; nuauth's floors hold"
exit $status
