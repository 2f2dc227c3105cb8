#!/bin/sh
# nuauthctl user add: appends NAME:FIELD:UID:GIDS to the users file, FIELD
# as nuauthctl hash --scram makes it; the file keeps its mode; a name
# already there (in any case), a bad name or id, a missing file are refused
# and leave the file as it was.
CTL=${NUAUTHCTL:-../src/nuauthctl/nuauthctl}
[ -x "$CTL" ] || { echo "test_user_add: $CTL is not built" >&2; exit 99; }
checks=0 failures=0
ok() { checks=$((checks + 1)); }
bad() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL: $*"; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
f=$dir/users.nufw
printf '# no newline at the end\nalice:x:1001:100' > "$f"
chmod 0640 "$f"

out=$(echo s3cret | "$CTL" user add bob 1002 100,200 -f "$f")
[ $? -eq 0 ] && grep -q "user bob added" <<EOT && ok || bad "user add bob: $out"
$out
EOT
line=$(grep '^bob:' "$f")
case $line in
'bob:$y$'*' {SCRAM-SHA-256}4096:'*':1002:100,200') ok ;;
*) bad "bob's line: $line" ;;
esac
[ "$(grep -c '^alice:x:1001:100$' "$f")" = 1 ] && ok || bad "alice's line lost its end: $(cat "$f")"
[ "$(stat -c %a "$f")" = 640 ] && ok || bad "mode $(stat -c %a "$f")"

# refused STATUS TEXT ARGS...: exits STATUS, says TEXT, the file unchanged
refused() {
	status=$1 text=$2; shift 2
	before=$(cat "$f")
	out=$(echo s3cret | "$CTL" user add "$@" 2>&1 >/dev/null)
	got=$?
	if [ $got -eq "$status" ] && [ "$before" = "$(cat "$f")" ] && echo "$out" | grep -qF -- "$text"; then
		ok
	else
		bad "user add $*: status $got, wanted $status and \`$text' in: $out"
	fi
}
refused 1 "already has a user \`ALICE'" ALICE 1 1 -f "$f"
refused 2 "cannot be a user name" 'a:b' 1 1 -f "$f"
refused 2 "cannot be a user name" 'a b' 1 1 -f "$f"
refused 2 "expected a uid" carol x 1 -f "$f"
refused 2 "expected a uid" carol 1 1,,2 -f "$f"
refused 1 "no-such-file" carol 1 1 -f "$dir/no-such-file"
refused 2 "usage" carol 1 -f "$f"
out=$(printf '' | "$CTL" user add carol 1003 100 -f "$f" 2>&1)
[ $? -eq 1 ] && ! grep -q '^carol:' "$f" && ok || bad "no password: $out"

echo "test_user_add: $checks checks, $failures failed"
[ $failures -eq 0 ]
