#!/bin/sh
# nufw-qos without root: its errors name the bad input, selectors follow the
# mark layout, and `down' undoes every command `up' prints.
QOS=${NUFW_QOS:-../src/nufwqos/nufw-qos}
[ -x "$QOS" ] || { echo "test_nufwqos: $QOS is not built" >&2; exit 99; }
checks=0 failures=0
ok() { checks=$((checks + 1)); }
bad() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL: $*"; }

# The exact output of a few recipes (unit/nufwqos.golden), so that a change
# to the printed commands is a deliberate one and not a refactor's side
# effect: golden_out prints the file as this nufw-qos would write it.
golden=$(dirname "$0")/nufwqos.golden
golden_out() {
	sed -n '/^=== /q; p' "$golden"
	grep '^=== ' "$golden" | while IFS= read -r line; do
		printf '%s\n' "$line"
		# shellcheck disable=SC2086 # one word per option
		"$QOS" ${line#=== } 2>&1
	done
}
if [ "${1-}" = --write-golden ]; then
	golden_out > "$golden.new" && mv "$golden.new" "$golden" && echo "wrote $golden"
	exit
fi

# error TEXT ARGS...: nufw-qos ARGS exits 2 and says TEXT
error() {
	text=$1
	shift
	out=$("$QOS" "$@" 2>&1 >/dev/null)
	status=$?
	if [ $status -eq 2 ] && printf '%s' "$out" | grep -qF -- "$text"; then ok; else
		bad "nufw-qos $*: status $status, wanted \`$text' in: $out"; fi
}
error "fits in 16 bits" --route uid:70000=100:10.0.0.1:eth1
error "needs --group-bits" --route group:3=100:10.0.0.1:eth1
error "bad table \`254'" --route uid:1001=254:10.0.0.1:eth1
error "\`10.0.0.300' is not an IPv4 address" --route uid:1001=100:10.0.0.300:eth1
error "want TABLE:VIA:DEV" --route uid:1001=100:10.0.0.1
error "0 means no mark" --route uid:0=100:10.0.0.1:eth1
error "bits outside the mask" --route 0x10/0x0f=100:10.0.0.1:eth1
error "bad selector \`alice'" --route alice=100:10.0.0.1:eth1
error "bad rate \`4mbt'" --shape eth1 --class uid:1001=11:4mbt
error "bad class minor \`10'" --shape eth1 --class uid:1001=10:4mbit
error "class 1:11 is defined twice" --shape eth1 --class uid:1001=11:4mbit --class uid:1002=11:4mbit
error "--class needs --shape DEV" --class uid:1001=11:4mbit
error "is not an interface name" --shape "eth1,this-name-is-too-long"
error "bad DSCP \`64'" --dscp uid:1001=64
error "DSCP 0 is every untagged packet" --dscp-route 0=10:10.0.0.1:eth1
error "the mark fields overlap" --group-bits 8:16 --keep
error "not a bit range inside 32 bits" --uid-bits 20:16 --keep
error "\`pf' is not iptables, iptables-legacy or nft" --backend pf --keep
error "not a queue number" --queue 70000
error "unknown option \`--no-such-option'" --no-such-option
error "needs a value" --route
error "unexpected argument \`sideways'" sideways --keep
error "nothing to do"
# numbers are decimal or 0x hex: 0100 is neither 100 nor octal 64
error "\`uid:0100': the value must be a decimal or 0x hex number" --route uid:0100=100:10.0.0.1:eth1
error "bad selector \`0x0x5'" --route 0x0x5=100:10.0.0.1:eth1
# an interface name that ip or tc would take for an option
error "\`-eth1' is not an interface name" --shape eth0,-eth1
error "\`-x' is not an interface name" --dscp uid:1001=ef:-x
# the unknown letter inside a bundle, not the word before it
error "unknown option \`-x'" --keep -xh
error "--keep=1 takes no value" --keep=1
error "--help=x takes no value" --help=x

# The firewall ruleset (restore, unrestore) and its options.
error "restore: the firewall ruleset needs --queue NUM" restore --lan eth0
error "nft's queue statement needs CONFIG_NFT_QUEUE" restore --backend nft --queue 0
error "--lan, --wan, --family, --icmp, --portal-redirect and --forward-policy shape the firewall ruleset" --queue 0 --lan eth0
error "--portal-redirect needs --queue-at prerouting" restore --queue 0 --queue-at forward --portal-redirect 0x77:8080
error "the mark is a decimal or 0x hex number, not 0" restore --queue 0 --portal-redirect 0:8080
error "the port is 1-65535" restore --queue 0 --portal-redirect 0x77:70000
error "is not MARK:PORT" restore --queue 0 --portal-redirect 8080
error "--no-netfilter is for up and down" restore --queue 0 --no-netfilter
error "\`3:1' is not a queue number (0-65535) or range FIRST:LAST" --queue 3:1
error "\`ping' is not queue, accept or drop" restore --queue 0 --icmp ping
error "\`ipv5' is not ipv4 or ipv6" restore --queue 0 --family ipv5
error "--ct-label: \`128' is not a conntrack label (0-127)" restore --queue 0 --ct-label 128
error "\`-eth0' is not an interface name" restore --queue 0 --lan eth1,-eth0
error "--wan: \`eth1' is given twice" restore --queue 0 --wan eth1,eth1
# A raw selector may use only the bits the CONNMARK rules keep (the layout's
# fields): bit 16 would be the SYN's alone, splitting the connection.
error "\`0x10000/0x10000' uses mark bits 0x10000 that the connection does not keep (the kept mask, the layout's fields, is 0xffff)" \
	--route 0x10000/0x10000=100:10.0.0.1:eth1
error "\`0x2a/0xffffffff' uses mark bits 0xffff0000" --shape eth1 --class 0x2a/0xffffffff=11:1mbit
error "kept mask, the layout's fields, is 0xff00ffff" --flag-bits 24:8 --dscp 0x10000=ef

# --dscp-route's local mark may not share bits with the marks a gateway keeps
# on the same command line (uid 10 would take DSCP 10's route); a table is
# used once across --route and --dscp-route (a second `ip route add' into it
# would fail half-way).
error "its local mark (bits 0-5) overlaps the uid field (bits 0-15)" \
	--route uid:1001=100:10.0.0.1:eth1 --dscp-route 10=10:10.0.0.9:eth4
error "e.g. --dscp-mark-bits 24:6" --group-bits 16:8 --dscp-mark-bits 20:6 --keep \
	--dscp-route 10=10:10.0.0.9:eth4
error "--dscp-route: table 100 is used twice" \
	--route uid:1001=100:10.0.0.1:eth1 --dscp-route 10=100:10.0.0.9:eth4
error "--route: table 100 is used twice" \
	--route uid:1001=100:10.0.0.1:eth1 --route uid:1002=100:10.0.0.2:eth2
error "a DSCP needs 6 bits" --dscp-mark-bits 8:5 --dscp-route 10=10:10.0.0.9:eth4
error "--dscp-route: DSCP 10 is given twice" \
	--dscp-route 10=10:10.0.0.9:eth4 --dscp-route af11=11:10.0.0.8:eth5

# A write error on stdout (a full disk) is an error, not a short script.
if [ -w /dev/full ]; then
	for args in "--keep" "--help"; do
		out=$("$QOS" $args 2>&1 >/dev/full)
		status=$?
		if [ $status -eq 1 ] && printf '%s' "$out" | grep -qF "writing the output"; then ok; else
			bad "nufw-qos $args >/dev/full: status $status, message: $out"; fi
	done
else
	echo "SKIP: /dev/full is missing: write errors not checked"
fi

if "$QOS" --help | grep -q -- "--route SEL=TABLE:VIA:DEV"; then ok; else bad "--help"; fi

# has LINE ARGS...: the output of nufw-qos ARGS holds LINE
has() {
	line=$1
	shift
	if "$QOS" "$@" 2>&1 | grep -qxF -- "$line"; then ok; else
		bad "nufw-qos $*: no line \`$line'"; fi
}
has "iptables -t mangle -A POSTROUTING -o eth1 -m mark --mark 0x20000/0xff0000 -j CLASSIFY --set-class 1:12" \
	--group-bits 16:8 --shape eth1 --class group:2=12:8mbit:20mbit
has "tc class add dev eth1 parent 1:1 classid 1:12 htb rate 8mbit ceil 20mbit" \
	--group-bits 16:8 --shape eth1 --class group:2=12:8mbit:20mbit
has "ip rule add priority 1001 fwmark 0x3e900/0xffff00 lookup 100" \
	--uid-bits 8:16 --route uid:1001=100:10.0.0.1:eth1
has "iptables -t mangle -A PREROUTING -j CONNMARK --restore-mark --nfmask 0xff00ffff --ctmask 0xff00ffff" \
	--flag-bits 24:8 --keep
has "iptables -A FORWARD -p tcp --syn -j NFQUEUE --queue-num 3" --queue 3 --queue-at forward
has "		oifname \"eth1\" meta mark & 0xffff == 0x2a meta priority set 1:11" \
	--backend nft --shape eth1 --class 0x2a=11:1mbit
has "ip rule add priority 1001 fwmark 0x10000/0x10000 lookup 100" \
	--flag-bits 16:1 --route 0x10000/0x10000=100:10.0.0.1:eth1
has "ip rule add priority 1001 fwmark 0x2a/0xffffffff lookup 100" \
	--uid-bits 0:32 --route 0x2a=100:10.0.0.1:eth1
has "iptables -t mangle -A POSTROUTING -m mark --mark 0x3e9/0xffff -j DSCP --set-dscp 46" \
	--dscp uid:1001=ef
has "tc filter add dev eth1 parent 1: protocol ip handle 0x3e9/0xffff fw classid 1:11" \
	--shape eth1 --classifier fw --class uid:1001=11:1mbit
has "iptables-legacy -w -t mangle -A PREROUTING -m dscp --dscp 34 -j MARK --set-xmark 0x22/0x3f" \
	--backend iptables-legacy --dscp-route af41=10:10.0.0.9:eth4

has "iptables -t mangle -A PREROUTING -m dscp --dscp 10 -j MARK --set-xmark 0xa0000/0x3f0000" \
	--dscp-mark-bits 16:6 --route uid:1001=100:10.0.0.1:eth1 --dscp-route 10=10:10.0.0.9:eth4
has "ip rule add priority 1002 fwmark 0xa0000/0x3f0000 lookup 10" \
	--dscp-mark-bits 16:6 --route uid:1001=100:10.0.0.1:eth1 --dscp-route 10=10:10.0.0.9:eth4
has "		ip dscp 10 meta mark set meta mark & 0xffc0ffff | 0xa0000" --backend nft \
	--dscp-mark-bits 16:6 --keep --dscp-route 10=10:10.0.0.9:eth4
# an upstream router alone: no gateway layout to check the default against
has "ip rule add priority 1001 fwmark 0xa/0x3f lookup 10" --dscp-route 10=10:10.0.0.9:eth4

has "-A NUFW-PRE -p tcp --syn -m conntrack --ctstate NEW -m addrtype --dst-type UNICAST -m addrtype ! --dst-type LOCAL -m connlabel --label 127 --set -j NFQUEUE --queue-num 0" \
	restore --queue 0
has "-A NUFW-PRE -p ipv6-icmp --icmpv6-type echo-request -m conntrack --ctstate NEW -m addrtype --dst-type UNICAST -m addrtype ! --dst-type LOCAL -m connlabel --label 5 --set -j NFQUEUE --queue-balance 0:3" \
	restore --family ipv6 --queue 0:3 --ct-label 5
has "-A NUFW-FORWARD -p udp -m conntrack --ctstate NEW -m connlabel --label 127 -j ACCEPT" restore --queue 0
has "-A NUFW-FORWARD -p udp -m conntrack --ctstate NEW -j NFQUEUE --queue-num 0" restore --queue 0
has "-A NUFW-FORWARD -j DROP" restore --queue 0
has "iptables -t mangle -A PREROUTING -p tcp --syn -m addrtype ! --dst-type LOCAL -j NFQUEUE --queue-balance 1:2 --queue-bypass" \
	--queue 1:2 --queue-bypass

# `down' undoes `up': the same commands in reverse order, each iptables -A
# turned into its -D, each add into its del, the nft table deleted last.
undo_of_up() {
	sed -n -e 's/^\(iptables[-a-z]*\( -w\)\?\( -t [a-z]*\)\?\) -A /\1 -D /p' \
		-e '/^\(ip rule\|ip route\|ip link\|tc qdisc\) add /{
			s/ add / del /; s/ type ifb$//; s/ handle 1: htb default 10$//; p; }' \
		-e "s/^nft -f - <<'EOF'$/nft delete table ip nufw_qos/p" | tac
}
for backend in iptables iptables-legacy nft; do
	set -- --backend $backend --queue 0 --flag-bits 24:8 --route uid:1001=100:10.0.0.1:eth2 \
		--shape eth1,eth2 --ifb ifb7 --class uid:1001=11:4mbit --dscp flag:1=af41:eth3 \
		--dscp-mark-bits 16:6 --dscp-route 34=10:10.0.0.9:eth4
	up=$("$QOS" up "$@") && down=$("$QOS" down "$@") || { bad "$backend: up/down failed"; continue; }
	want=$(printf '%s\n' "$up" | undo_of_up)
	got=$(printf '%s\n' "$down" | grep -E '^(iptables|ip |tc |nft )')
	if [ -n "$want" ] && [ "$want" = "$got" ]; then ok; else
		bad "$backend: down is not up's commands undone in reverse order"
		printf 'wanted:\n%s\ngot:\n%s\n' "$want" "$got" | sed 's/^/    /'
	fi
done

# The nft backend's ruleset passes `nft -c' (parsed and checked by the
# kernel, nothing loaded) in a network namespace of its own: as root a plain
# one (unshare -n), else one in a user namespace (unshare -Urn), where this
# kernel refuses the payload statements (`ip dscp set') with EPERM whatever
# the syntax: such a refusal is skipped there, not failed.
PATH=$PATH:/usr/sbin:/sbin
if unshare -n true 2>/dev/null; then
	netns="unshare -n"
elif unshare -Urn true 2>/dev/null; then
	netns="unshare -Urn"
else
	netns=
fi
if ! command -v nft >/dev/null 2>&1; then
	echo "SKIP: nft is not installed: the nft output is not syntax-checked"
elif [ -z "$netns" ]; then
	echo "SKIP: neither unshare -n nor unshare -Urn works here: the nft output is not syntax-checked"
else
	for args in "--queue 0 --flag-bits 24:8 --route uid:1001=100:10.0.0.1:eth2 --shape eth1
		--class uid:1001=11:4mbit --dscp flag:1=af41:eth3 --dscp-mark-bits 16:6
		--dscp-route 34=10:10.0.0.9:eth4" "--uid-bits 0:32 --keep" "--dscp-route af41=10:10.0.0.9:eth4"; do
		# shellcheck disable=SC2086 # one word per option
		ruleset=$("$QOS" --backend nft $args | sed -n "/^nft -f - <<'EOF'$/,/^EOF$/{//!p; }")
		if [ -z "$ruleset" ]; then
			bad "nufw-qos --backend nft $args: no nft ruleset"
		elif out=$(printf '%s\n' "$ruleset" | $netns nft -c -f - 2>&1); then
			ok
		elif [ "$netns" = "unshare -Urn" ] && printf '%s' "$out" | grep -q "Operation not permitted"; then
			echo "SKIP: nft -c in a user namespace refuses a payload statement: $out"
		else
			bad "nufw-qos --backend nft $args: nft -c refuses the ruleset" "$out"
		fi
	done
fi

# restore then unrestore, loaded with --noflush in a network namespace of
# their own: the first adds the three chains and their jumps, the second
# leaves the tables with no rule and no NUFW chain.
if [ -n "$netns" ] && command -v iptables-restore >/dev/null 2>&1; then
	for fam in ipv4 ipv6; do
		restore=iptables-restore save=iptables-save
		[ $fam = ipv6 ] && restore=ip6tables-restore save=ip6tables-save
		set -- --family $fam --queue 0:1 --lan eth0 --wan eth1 --flag-bits 24:8 \
			--shape eth1 --class uid:1001=11:4mbit --dscp uid:1001=ef
		dir=$(mktemp -d) || exit 99
		"$QOS" restore "$@" > "$dir/restore" && "$QOS" unrestore "$@" > "$dir/unrestore" ||
			bad "$fam: restore/unrestore failed"
		# shellcheck disable=SC2016 # $1..$3 are the inner shell's
		out=$(XTABLES_LOCKFILE=$dir/lock $netns sh -c '
			$1 --noflush < "$3/restore" || exit 3
			n=$($2 | grep -c -e "-j NUFW-" -e "^:NUFW-")
			$1 --noflush < "$3/unrestore" || exit 4
			echo "loaded=$n"; $2 | grep -e "^-A" -e "^:NUFW"' sh "$restore" "$save" "$dir" 2>&1 |
			grep -v "connlabel.conf: No such file")	# the label by number, named nowhere
		if [ "$(printf '%s\n' "$out" | head -1)" = "loaded=6" ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ]; then
			ok
		elif printf '%s' "$out" | grep -q "Operation not permitted\|Permission denied"; then
			echo "SKIP: $restore refused here: $out"
		else
			bad "$fam: restore then unrestore in a namespace: $out"
		fi
		rm -rf "$dir"
	done
fi

out=$(mktemp) || exit 99
if golden_out > "$out" && cmp -s "$out" "$golden"; then ok; else
	bad "the output differs from $golden (a deliberate change: rewrite it with $0 --write-golden):"
	diff -u "$golden" "$out" | sed 's/^/    /'
fi
rm -f "$out"

echo "$checks checks, $failures failures"
[ $failures -eq 0 ]
