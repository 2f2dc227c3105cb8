#!/bin/sh
# nuauthctl hash --scram: RFC 7677's example (password "pencil", its salt and
# count) gives the verifier that test_scram proves against the RFC's proof
# and signature; bad options are refused; a random salt differs each time.
CTL=${NUAUTHCTL:-../src/nuauthctl/nuauthctl}
[ -x "$CTL" ] || { echo "test_hash_scram: $CTL is not built" >&2; exit 99; }
checks=0 failures=0
ok() { checks=$((checks + 1)); }
bad() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL: $*"; }
want='{SCRAM-SHA-256}4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU='

got=$(echo pencil | "$CTL" hash --scheme scram --salt W22ZaJ0SNY7soEsUEjb6gQ== --iterations 4096)
[ "$got" = "$want" ] && ok || bad "hash --scheme scram: got $got"

# --scram after another scheme: "HASH {SCRAM-SHA-256}...", one field.
got=$(echo pencil | "$CTL" hash --scheme ssha --scram --salt W22ZaJ0SNY7soEsUEjb6gQ==)
case $got in
"{SSHA}"*" $want") ok ;;
*) bad "hash --scheme ssha --scram: got $got" ;;
esac

a=$(echo pencil | "$CTL" hash --scram --scheme scram)
b=$(echo pencil | "$CTL" hash --scram --scheme scram)
[ -n "$a" ] && [ "$a" != "$b" ] && ok || bad "random salts: $a / $b"

# error TEXT ARGS...: exits 2 and says TEXT
error() {
	text=$1; shift
	out=$(echo pencil | "$CTL" hash "$@" 2>&1 >/dev/null)
	status=$?
	if [ $status -eq 2 ] && printf '%s' "$out" | grep -qF -- "$text"; then ok; else
		bad "hash $*: status $status, wanted \`$text' in: $out"; fi
}
error "--iterations: expected 4096" --scram --iterations 100
error "--iterations: expected 4096" --scram --iterations 4096x
error "--salt: expected base64" --scram --salt 'QUJD'
error "--salt: expected base64" --scram --salt 'not base64!'

echo "test_hash_scram: $checks checks, $failures failed"
[ $failures -eq 0 ]
