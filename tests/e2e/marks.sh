#!/bin/bash
# The mark modules end to end in the namespace lab (run as root):
#   tests/e2e/marks.sh BUILD_DIR
# nuauth runs mark_uid then mark_group, the group file mapping gid 200 to
# 0x20 in bits 16..23: alice (uid 1001, group 100) gets mark 0x3e9 and bob
# (uid 1002, groups 100,200) 0x2003ea in the gateway's conntrack.  Also
# checks that a bad group file or field stops nuauth with file:line, and
# that users whose uid mark_uid's 16 bits cannot hold (65536, which would
# be mark 0; 66537, which would be alice's 1001) or whose uid is 0 are
# refused with a log line, never accepted with a truncated or zero mark.
# Prints one PASS/FAIL line per check and ends with "N passed, N failed".
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/lab.sh"

lab_init "${1:-.}"

# The lab's nuauth.conf with the mark modules (lab.sh).
marks_conf() {
	lab_nuauth_conf
	lab_mark_group_conf
	cat >> "$LAB_DIR/users.nufw" <<USERS
big:bigpw:65536:100
twin:twinpw:66537:100
zero:zeropw:0:100
USERS
}

test_config_errors() {
	local next=$(( $(wc -l < "$LAB_DIR/nuauth.conf") + 1 ))	# the line each case adds
	printf '200:0x20\n\n100;0x10\n' > "$LAB_DIR/bad-groups.conf"
	{ cat "$LAB_DIR/nuauth.conf"; echo "mark_group_group_file=\"$LAB_DIR/bad-groups.conf\""; } \
		> "$LAB_DIR/bad.conf"
	conf_error_case "a bad group file line stops nuauth with file:line" \
		"$LAB_DIR/bad-groups.conf:3: expected \`gid[,gid...]:mark', got \`100;0x10'"
	{ cat "$LAB_DIR/nuauth.conf"; echo 'mark_group_shift=25'; } > "$LAB_DIR/bad.conf"
	conf_error_case "a field past bit 31 stops nuauth naming the keys" \
		"$LAB_DIR/bad.conf:$next: mark_group_shift=25 with mark_group_nbits=8"
	{ cat "$LAB_DIR/nuauth.conf"; echo 'mark_group_nbits=4'; } > "$LAB_DIR/bad.conf"
	conf_error_case "a group mark wider than the field stops nuauth with file:line" \
		"$LAB_DIR/mark_group.conf:2: mark \`0x30' does not fit in the 4 bits"
	{ cat "$LAB_DIR/nuauth.conf"; echo 'mark_uid_max_uid=70000'; } > "$LAB_DIR/bad.conf"
	conf_error_case "a largest uid wider than mark_uid's field stops nuauth with file:line" \
		"$LAB_DIR/bad.conf:$next: mark_uid_max_uid=0x11170 does not fit in the 16 bits of mark_uid_nbits"
}

# check_refused NAME LOCAL_UID USER UID: USER, logged in, cannot connect
# (no connection to port 80 in conntrack with any mark) and nuauth says why.
check_refused() {
	local out port
	if out=$(lab_connect "$2" 80 1500); then
		port=${out##*:}
		fail "$1" "connected: $out, mark=$(lab_ct_mark "$port" 80)"
	elif lab_wait_log nuauth "mark_uid: user $3 has uid $4, .*: connection dropped" 5; then
		pass "$1"
	else
		fail "$1" "$out"
	fi
}

lab_netns
lab_pki
marks_conf
test_config_errors
lab_rules
lab_start_server
lab_start_nuauth || lab_end "nuauth starts"
check_log "nuauth loads mark_group and its group file" \
	nuauth "mark_group: 2 lines from $LAB_DIR/mark_group.conf" 0
lab_start_nufw || lab_end "nufw connects to nuauth"

if lab_login alice-client $ALICE_UID alice alicepw && lab_login bob-client $BOB_UID bob bobpw; then
	pass "alice and bob log in"
	check_mark "alice (group 100 only) gets mark_uid's 1001 (0x3e9), group bits 0" \
		$ALICE_UID 80 0x3e9
	check_mark "bob (groups 100,200) gets 0x2003ea: uid 1002 and 0x20 in bits 16..23" \
		$BOB_UID 80 0x2003ea
else
	fail "alice and bob log in"
fi

if lab_login big-client $BIG_UID big bigpw && lab_login twin-client $TWIN_UID twin twinpw &&
   lab_login zero-client $ZERO_UID zero zeropw; then
	check_refused "uid 65536 (mark 0 in 16 bits) is dropped with a log line, not accepted unmarked" \
		$BIG_UID big 65536
	check_refused "uid 66537 (alice's 1001 in 16 bits) is dropped with a log line" \
		$TWIN_UID twin 66537
	check_refused "uid 0 (a zero uid field) is dropped with a log line" $ZERO_UID zero 0
	check_mark "alice keeps her own mark 0x3e9 meanwhile" $ALICE_UID 80 0x3e9
else
	fail "big, twin and zero log in"
fi

lab_finish
