#!/bin/sh
# Host-side tests for aqstat against the recorded samples in samples/.
# Prints "ok N name" / "not ok N name" per case, then "N passed, N failed";
# writes "passed failed 0" to $RESULTS/counts/host-aqstat when RESULTS is set.
# Environment: AQSTAT (the binary), OWNER_TEST (tests/owner_test.c's),
# PYTHON, PROMTOOL (default: Debian's, unpacked into the cache by
# tools/prom/fetch, never installed).
cd "$(dirname "$0")" || exit 1
AQ=${AQSTAT:-../aqstat}
PY=${PYTHON:-python3}
if [ -z "$PROMTOOL" ]; then
	promdir=$(../../prom/fetch) && PROMTOOL=$promdir/usr/bin/promtool
fi
S=samples
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
export LC_ALL=C.UTF-8
unset COLUMNS AQSTAT_PROC AQSTAT_DEBUGFS AQSTAT_CONTROL
pass=0 fail=0 n=0

# t NAME SCRIPT: one case, SCRIPT is eval'ed in a subshell; its status decides
t() {
	name=$1
	n=$((n + 1))
	if ( eval "$2" ) >"$T/log" 2>&1; then
		pass=$((pass + 1)); echo "ok $n $name"
	else
		fail=$((fail + 1)); echo "not ok $n $name"
		sed 's/^/#   /' "$T/log" | head -20
	fi
}
# run EXPECTED_RC ARGS...: aqstat's stdout in $T/out, stderr in $T/err
run() {
	want=$1; shift
	"$AQ" "$@" >"$T/out" 2>"$T/err"; rc=$?
	[ "$rc" = "$want" ] || { echo "aqstat $*: exit $rc, want $want"; cat "$T/err"; return 1; }
}
has() { grep -qF -- "$1" "$2" || { echo "missing in $2: $1"; cat "$2"; return 1; }; }
hasnt() { ! grep -qF -- "$1" "$2" || { echo "unexpected in $2: $1"; return 1; }; }
# row ID: the table row of listener ID (first field)
row() { awk -v id="$1" '$1 == id' "$T/out"; }
# jq-like checks: python expression over the JSON object j
json() { "$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); assert eval(sys.argv[2]), sys.argv[2]' "$T/out" "$1"; }
# promtool_ok FILE: the exposition format and Prometheus' naming rules
promtool_ok() {
	command -v "$PROMTOOL" >/dev/null || { echo "no promtool: tools/prom/fetch failed, or set PROMTOOL"; return 1; }
	"$PROMTOOL" check metrics <"$1"
}
# hist_ok FILE: each histogram's buckets never decrease and end with
# le="+Inf" equal to _count, which promtool does not check. A sample's value
# is its last field (label values may hold spaces); le is the last label.
hist_ok() {
	awk '/^#/ { next }
	{ key = substr($0, 1, length($0) - length($NF) - 1) }
	key ~ /_bucket\{/ {
		le = key
		sub(/,?le="[^"]*"}$/, "}", key); sub(/_bucket\{/, "{", key)
		sub(/.*le="/, "", le); sub(/"}$/, "", le)
		if ((key in last) && $NF + 0 < last[key] + 0) { print "buckets decrease: " $0; bad = 1 }
		last[key] = $NF; top[key] = le
		next
	}
	key ~ /_count\{/ { sub(/_count\{/, "{", key); count[key] = $NF }
	END {
		for (k in last)
			if (top[k] != "+Inf" || !(k in count) || count[k] != last[k]) {
				print "no +Inf bucket equal to _count: " k; bad = 1
			}
		exit bad
	}' "$1"
}
prom_ok() { promtool_ok "$T/out" && hist_ok "$T/out"; }
count() { run 0 -j -f $S/many.txt "$@" && "$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["listeners"]))' "$T/out"; }
maxwidth() { "$PY" -c 'import sys; print(max([len(l.rstrip("\n")) for l in open(sys.argv[1], encoding="utf-8")] + [0]))' "$1"; }

# the labels of samples/one-listener.txt's (and live.txt's) listener
L1='{id="1",netns="4026531840",proto="tcp6",address="::",port="5000",comm="smoke"'

# --- command line
t help "run 0 --help && has '--prometheus' $T/out && has 'Exit status' $T/out && has 'ctl' $T/out"
t usage-errors "run 2 --bogus && run 2 -p 70000 && run 2 -w 0 && run 2 -n 0 && run 2 -j --prometheus && run 2 -w 1 --prometheus && run 2 extra"
# ss's habits (-n -l -p -a change nothing), port lists, -c COUNT,
# the old -n COUNT and -p PORTS kept; a usage error is short
t ss-habits "run 0 -tlnp -f $S/basic.txt && [ \$(grep -c '^ *[0-9]' $T/out) = 3 ] && run 0 -tnap -f $S/basic.txt &&
	run 0 -t -n -l -p -f $S/basic.txt && [ \$(grep -c '^ *[0-9]' $T/out) = 3 ] &&
	run 0 --numeric --listening --processes -f $S/basic.txt"
t port-lists "[ \$(count -P 10137,10138) = 2 ] && [ \$(count --port 10137,10138,10141 -p 10140) = 4 ] &&
	[ \$(count -p 10137,10138) = 2 ] && [ \$(count -tp 10137) = 0 ] && [ \$(count -tp 10136) = 1 ] &&
	AQSTAT_EVENTS=$S/events.txt run 0 events --raw --port 8080,1 -6 && [ \$(wc -l < $T/out) = 2 ] &&
	run 2 -P 80, && run 2 -P ,80 && run 2 -P 80,,443 && run 2 -P 80,65536 && has 'bad port' $T/err"
t count-spellings "run 0 -c 2 -w 0.01 -f $S/basic.txt && [ \$(grep -c '^aqstat -w' $T/out) = 2 ] &&
	run 0 -w 0.01 -n 2 -f $S/basic.txt && [ \$(grep -c '^aqstat -w' $T/out) = 2 ] &&
	run 0 --count=3 -w 0.01 -f $S/basic.txt && [ \$(grep -c '^aqstat -w' $T/out) = 3 ] &&
	run 0 -tn 2 -w 0.01 -f $S/basic.txt && [ \$(grep -c '^aqstat -w' $T/out) = 2 ] &&
	AQSTAT_EVENTS=$S/events.txt run 0 events --raw -c 2 && [ \$(wc -l < $T/out) = 2 ] &&
	run 0 -f -n -j 2>/dev/null || has 'cannot read -n' $T/err"
t usage-error-short "for a in --bogus -y '-w 0' '-P x' '-j --prometheus' extra; do run 2 \$a || exit 1;
	[ \$(wc -l < $T/err) -le 2 ] || { echo \"aqstat \$a: \$(wc -l < $T/err) lines\"; cat $T/err; exit 1; }
	has \"Try 'aqstat --help'\" $T/err && [ ! -s $T/out ] || exit 1; done"

# The man page true to the code (options, exit codes, control
# commands, event keys, NAME, labels: tests/mancheck.py); warnings on
# stderr, never in the output; an unreadable file is exit 6, as it says
t man-true-to-code "$PY mancheck.py $AQ"
# What the package ships (debian/rules runs this install): the tool, its
# man page and the JSON schema the page names.
t install-ships-man-and-schema "make -s -C .. install DESTDIR=$T/pkg PREFIX=/usr >/dev/null &&
	[ -x $T/pkg/usr/sbin/aqstat ] && [ -s $T/pkg/usr/share/man/man8/aqstat.8 ] &&
	[ -s $T/pkg/usr/share/aqstat/aqstat.schema.json ] &&
	has /usr/share/aqstat/aqstat.schema.json $T/pkg/usr/share/man/man8/aqstat.8"
t warnings-on-stderr "run 0 -f $S/many.txt && hasnt warning $T/out && has 'warning: over the listener limit: 2 listens and 5 events' $T/err &&
	has 'warning: 1 probe hits were missed' $T/err && run 0 -f $S/truncated.txt && hasnt warning $T/out && has 'warning: 3 malformed lines' $T/err"
if [ "$(id -u)" = 0 ]; then
	t unreadable-file-exit-6 "cp $S/basic.txt $T/unreadable && chmod 000 $T/unreadable && chmod 755 $T &&
		{ setpriv --reuid=65534 --regid=65534 --clear-groups $AQ -f $T/unreadable >$T/out 2>$T/err; [ \$? = 6 ]; } && has 'Permission denied' $T/err &&
		sed -n '/^.SH EXIT STATUS/,/^.SH ENV/p' ../aqstat.8 | grep -A4 '^.B 6\$' | grep -q 'file'"
else
	t unreadable-file-exit-6 "cp $S/basic.txt $T/unreadable && chmod 000 $T/unreadable && run 6 -f $T/unreadable && has 'Permission denied' $T/err &&
		sed -n '/^.SH EXIT STATUS/,/^.SH ENV/p' ../aqstat.8 | grep -A4 '^.B 6\$' | grep -q 'file'"
fi

# --version: from the build (git describe, VERSION, dkms.conf), as the
# module's version, not a number written in the source
t version-from-build "run 0 --version && v=\$(sed -n 's|^aqstat \\([^ ]*\\) (reads /proc/aqueue format 3)\$|\\1|p' $T/out) && echo \"version \$v\" &&
	[ -n \"\$v\" ] && [ \"\$v\" != 0.1 ] && [ \"\$v\" != unknown ] &&
	if [ -e ../../../.git ]; then [ \"\$v\" = \"\$(git -C ../../.. describe --tags --always --dirty)\" ]; fi &&
	make -s -C .. OUTPUT=$T/vb/ CFLAGS=-O0 AQSTAT_VERSION=7.7.7-test >/dev/null && $T/vb/aqstat --version | grep -qx 'aqstat 7.7.7-test (reads /proc/aqueue format 3)'"

# --- the table
t table-one-listener "run 0 -f $S/one-listener.txt &&
	[ \"\$(row 1)\" = ' 1 tcp6  [::]:5000   1/2    3   3   2     4 1.52s 1.52s 1.52s 147 smoke' ]"
t table-sorted-by-saturation "run 0 -f $S/basic.txt &&
	[ \"\$(awk '\$1 ~ /^[0-9]+\$/ {printf \"%s \", \$1}' $T/out)\" = '1 3 2 ' ]"
t table-comm-with-spaces "run 0 -f $S/basic.txt && row 2 | grep -q ' 456 nginx: worker process\$'"
t table-units-utf8 "run 0 -f $S/basic.txt && row 2 | grep -q \" 66µs 525µs 1.83ms \" && [ \"\$(row 1 | awk \"{print \\\$4, \\\$8, \\\$9, \\\$10, \\\$11, \\\$12, \\\$13}\")\" = \"5/4 3 - - - 123 server\" ]"
t table-units-ascii "LC_ALL=C run 0 -f $S/basic.txt && row 3 | grep -q ' 3us   4us    4us '"
t table-no-netns-single-ns "run 0 -f $S/basic.txt && hasnt NETNS $T/out"
t table-netns-many-ns "run 0 -f $S/many.txt && has NETNS $T/out && row 137 | grep -q '^137 4026532840 udp   10.1.0.137:10137 *129  *-/128 '"
# A UDP socket's datagrams and its buffer's bytes in columns of
# their own, in a table of their own; its fullness is bytes over bytes
t table-udp-units "run 0 -f $S/syn-udp.txt && hasnt 4/4608 $T/out && row 2 | grep -q 'udp   127.0.0.1:5353  *4  *3328/4608 ' &&
	row 1 | grep -q ' 0/8 ' && has 'UDP sockets: DGRAMS datagrams queued, RCVBUF receive buffer bytes used/size' $T/out &&
	grep -q '^ID  *PROTO  *LOCAL  *DGRAMS  *RCVBUF ' $T/out && grep -q '^ID  *PROTO  *LOCAL  *QUEUE  *PEAK ' $T/out &&
	[ \"\$(awk '\$1 ~ /^[0-9]+\$/ {printf \"%s \", \$1}' $T/out)\" = '1 2 ' ] &&
	run 0 -w 1 -c 1 -f $S/syn-udp.txt && hasnt 4/4608 $T/out && row 2 | grep -q ' 4  *3328/4608 '"
t table-many-fits-120 "run 0 -f $S/many.txt && [ \$(maxwidth $T/out) -le 120 ] && [ \$(grep -c 'worker ' $T/out) = 200 ]"
t table-fits "run 0 -f $S/basic.txt && [ \$(maxwidth $T/out) -le 100 ] && grep ^ID $T/out > $T/o2 && [ \$(maxwidth $T/o2) -le 80 ]"
t table-columns-clip "COLUMNS=60 run 0 -f $S/many.txt && [ \$(maxwidth $T/out) -le 60 ]"
t table-state-column "run 0 -f $S/live.txt && row 1 | grep -q ' 1/2 stalled+overflow  *3 ' &&
	sed 's/ overflowing 1\$/ overflowing 0/' $S/live.txt >$T/stalled.txt && run 0 -f $T/stalled.txt &&
	row 1 | grep -q ' 1/2 stalled  *3 ' && run 0 -w 1 -n 1 -f $T/stalled.txt && row 1 | grep -q ' 1/2 stalled  *3 ' &&
	run 0 -f $S/basic.txt && hasnt STATE $T/out"
# At 80 columns a long unix path is cut in its middle, COMM at
# its end, and every number stays
sed -e 's#^    3 4026531840 tcp   0.0.0.0:22                 #    3 4026531840 unix  /var/lib/kubelet/pod-resources/kubelet.sock #' $S/basic.txt >"$T/long.txt"
t table-narrow-keeps-numbers "grep -q kubelet.sock $T/long.txt && COLUMNS=80 run 0 -f $T/long.txt && [ \$(maxwidth $T/out) -le 80 ] &&
	grep -q '^ID PROTO LOCAL .* DROPS  *P50  *P99  *MAX  *PID COMM\$' $T/out &&
	row 3 | grep -q ' unix  /var/.*….*\.sock  *2/128  *3  *40  *38  *0  *3µs  *4µs  *4µs 789 sshd\$' &&
	row 2 | grep -q ' 0/4096  *7 18234 18234  *0 66µs 525µs 1.83ms 456 nginx…\$'"
# -w like top: at 80x24 with 200 listeners the frame's header and
# the worst row of the frame (by drops/s) are on screen, nothing wraps or
# scrolls away; a resize is followed
sed -e 's/ 999999 / 1004999 /' -e 's/observed_ns 10000000000 /observed_ns 11000000000 /' $S/many.txt >"$T/many-2.txt"
t watch-fits-height "LINES=24 COLUMNS=80 run 0 -w 0.01 -c 2 -f $S/many.txt -f $T/many-2.txt && sed -n '/frame 2/,\$p' $T/out >$T/f2 &&
	[ \$(wc -l < $T/f2) -le 23 ] && [ \$(maxwidth $T/f2) -le 80 ] && grep -q '^137 udp .* 5000 ' $T/f2 && has 'more listeners' $T/f2 &&
	grep -q '^ ID .*DROPS/s' $T/f2"
# -w at 80 columns with listeners of two netns (a NETNS column):
# PID and COMM stay on screen. NETNS loses the digits its rows share, the
# rates take short titles, and what still does not fit (PEAK, then NETNS)
# is left out and named in the frame's header; with 7-digit pids too
sed -e 's/^\( *[0-9]*\) 4026533840 /\1 4026531840 /' -e 's/^\( *[0-9]*\) 4026534840 /\1 4026532840 /' $S/many.txt >"$T/two-ns.txt"
sed -e 's/ \(1[0-9][0-9][0-9]\) worker / 419\1 worker /' "$T/two-ns.txt" >"$T/two-ns-pid7.txt"
# watch80 FILE: frames 1 and 2 of FILE at 80x24 in $T/f1 and $T/f2, each
# line in 80 columns, each table's header ending in PID COMM, each row in
# its pid and the start of its comm
watch80() {
	LINES=24 COLUMNS=80 run 0 -w 0.01 -c 2 -f "$1" -f "$1" || return 1
	sed -n '/frame 1/,/frame 2/p' "$T/out" | sed '$d' >"$T/f1" && sed -n '/frame 2/,$p' "$T/out" >"$T/f2" || return 1
	for f in "$T/f1" "$T/f2"; do
		cat "$f"; [ "$(maxwidth "$f")" -le 80 ] && [ "$(grep -c '^ ID ' "$f")" -ge 1 ] &&
		[ "$(grep -c '^ ID .* PID COMM$' "$f")" = "$(grep -c '^ ID ' "$f")" ] &&
		grep '^ *[0-9][0-9]* ' "$f" | grep -v 'more listeners' >"$T/rows" && [ "$(wc -l <"$T/rows")" -ge 10 ] &&
		! grep -v ' \(1[0-9][0-9][0-9]\|419[0-9][0-9][0-9][0-9]\) worke' "$T/rows" || return 1
	done
}
t watch-80-two-netns "grep -q ' 4026532840 ' $T/two-ns.txt && ! grep -q ' 402653[34]840 ' $T/two-ns.txt && watch80 $T/two-ns.txt &&
	grep -q '^ ID NETNS PROTO .* ENQ/s ACC/s DROPS/s .* PID COMM\$' $T/f2 && grep -q '^ *[0-9][0-9]* …[12]840 ' $T/f2 && hasnt 'too narrow' $T/f2 &&
	watch80 $T/two-ns-pid7.txt && has 'too narrow for NETNS PEAK' $T/f1 && ! grep -q '^ ID.* \(NETNS\|PEAK\) ' $T/f1 &&
	COLUMNS=80 run 0 -f $T/two-ns.txt && grep -q '^ ID NETNS ' $T/out && grep -q '^ *[0-9][0-9]* …[12]840 ' $T/out"
if command -v tmux >/dev/null; then
	t watch-tmux-80x24 "tmux -L aqstat-test kill-server 2>/dev/null; tmux -L aqstat-test new-session -d -s w -x 80 -y 24 \"$AQ -w 1 -c 3 -f $S/many.txt -f $T/many-2.txt; sleep 5\" &&
		i=0; while ! tmux -L aqstat-test capture-pane -p -t w | grep -q 'frame 2'; do sleep 0.1; i=\$((i + 1)); [ \$i -lt 50 ] || break; done;
		tmux -L aqstat-test capture-pane -p -t w >$T/cap; tmux -L aqstat-test resize-window -t w -x 120 -y 30;
		i=0; while ! tmux -L aqstat-test capture-pane -p -t w | grep -q 'frame 3'; do sleep 0.1; i=\$((i + 1)); [ \$i -lt 50 ] || break; done;
		tmux -L aqstat-test capture-pane -p -t w >$T/cap3; tmux -L aqstat-test kill-server;
		cat $T/cap; head -1 $T/cap | grep -q '^aqstat -w 1 .* frame 2 ' && sed -n 3p $T/cap | grep -q '^ ID .*DROPS/s' &&
		grep -q '^137 udp .* 5000 ' $T/cap && has 'more listeners' $T/cap && [ \$(maxwidth $T/cap) -le 80 ] &&
		head -1 $T/cap3 | grep -q 'frame 3' && grep -q ' PID COMM\$' $T/cap3 && [ \$(grep -c worker $T/cap3) -ge 24 ]"
fi
# The owner of a listener older than the module, looked up in /proc,
# cached (-w reads every frame): tests/owner_test.c on a proc tree of its
# making counts the scans; as a reader that may not list every process's
# descriptors too
if [ "$(id -u)" = 0 ]; then
	t owner-cache "[ -x \"\$OWNER_TEST\" ] && \"\$OWNER_TEST\" && cp \"\$OWNER_TEST\" $T/owner_test && chmod 755 $T $T/owner_test &&
		setpriv --reuid=65534 --regid=65534 --clear-groups $T/owner_test"
else
	t owner-cache "[ -x \"\$OWNER_TEST\" ] && \"\$OWNER_TEST\""
fi
t table-empty "run 0 -f $S/empty-table.txt && has 'no listeners tracked' $T/out"
t table-ipv6 "run 0 -f $S/ipv6.txt && row 3 | grep -qF '[2001:db8:85a3::8a2e:370:7334]:65535' && row 2 | grep -qF 'we\"ird\\name' && [ -z \"\$(row 6)\" ] && has 'not in brackets' $T/err"

# --- histograms
BAR52=@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
t hist-bars "run 0 -H -f $S/one-listener.txt &&
	has '[0]                    1 |@@@@@@@@@@                                          |' $T/out &&
	has '[2, 4)                 5 |$BAR52|' $T/out &&
	has '[1G, 2G)               2 |$BAR52|' $T/out"
t hist-gaps-and-units "run 0 -H -f $S/basic.txt &&
	has '[32K, 64K)         18000 |$BAR52|' $T/out &&
	has '[128K, 256K)           0 |                                                    |' $T/out &&
	has '[256K, 512K)         184 |' $T/out && has '(empty)' $T/out"

# --- malformed input
t unknown-version "run 4 -f $S/unknown-version.txt && has 'is format 99, newer than this aqstat' $T/err && has 'older than the module' $T/err &&
	hasnt modprobe $T/err && [ ! -s $T/out ]"
# A newer module's key (and line kind) is skipped, the line and its
# figures kept; the newer format is told from a module not loaded
sed -e 's/ stalled 1 overflowing 1$/ stalled 1 future_key 7 overflowing 1/' -e '$a listener 1 future_kind 0:1' $S/live.txt >"$T/nk.txt"
t unknown-key-keeps-line "grep -q future_key $T/nk.txt && run 0 -f $T/nk.txt && row 1 | grep -q ' 1/2 stalled+overflow ' &&
	has '2 unknown keys skipped (the first, future_key, on line 7)' $T/err && hasnt 'line ignored' $T/err && hasnt warning $T/out &&
	run 0 --strict -j -f $T/nk.txt && json 'j[\"unknown_keys\"] == 2 and j[\"malformed_lines\"] == 0 and j[\"listeners\"][0][\"stalled\"] == 1 and j[\"listeners\"][0][\"hol_age_ns\"] == 2000000000' &&
	run 0 --prometheus -f $T/nk.txt && prom_ok && has 'aqueue_parse_unknown_keys 2' $T/out && has 'aqueue_parse_malformed_lines 0' $T/out &&
	has 'aqueue_listener_stalled$L1} 1' $T/out"
t unknown-key-not-a-key "sed 's/ stalled 1 / stalled 1 Bad-Key 7 /' $S/live.txt >$T/bk.txt && run 0 -j -f $T/bk.txt &&
	has 'Bad-Key is not a key' $T/err && json 'j[\"malformed_lines\"] >= 1 and j[\"unknown_keys\"] == 0'"
t newer-format-prometheus "run 4 --prometheus -o $T/aq.prom -f $S/unknown-version.txt && cp $T/aq.prom $T/out && prom_ok &&
	has 'aqueue_up 0' $T/out && has 'aqueue_format_newer 1' $T/out && has 'aqueue_format 99' $T/out &&
	AQSTAT_PROC=$T/nonexistent run 0 --prometheus -o $T/aq.prom && cp $T/aq.prom $T/out &&
	has 'aqueue_up 0' $T/out && has 'aqueue_format_newer 0' $T/out &&
	run 0 --prometheus -f $S/live.txt && has 'aqueue_up 1' $T/out && has 'aqueue_format_newer 0' $T/out && has 'aqueue_format 2' $T/out"
t huge-version "run 4 -f $S/huge-version.txt && has 'unknown format version' $T/err"
t not-aqueue "run 4 -f $S/not-aqueue.txt && has 'not aqueue output' $T/err && run 4 -f $S/empty.txt"
t bad-header "run 4 -f $S/bad-header.txt && has 'table header' $T/err"
t huge-numbers "run 0 -f $S/huge-numbers.txt && [ \$(grep -c 'larger than 2^64-1' $T/err) = 4 ] &&
	row 1 | grep -q ' 18446744073709551615 18446744073709551615 ' && [ -z \"\$(row 2)\$(row 3)\" ]"
t syn-udp-json "run 0 -j -f $S/syn-udp.txt && json 'j[\"malformed_lines\"] == 0 and [l[\"proto\"] for l in j[\"listeners\"]] == [\"tcp\", \"udp\"] and j[\"listeners\"][0][\"synq_now\"] == 9 and j[\"listeners\"][0][\"synq_full_drops\"] == 11 and j[\"listeners\"][0][\"synq_hist\"][-1] == {\"low\": 8, \"count\": 12} and j[\"listeners\"][0][\"handshake_ns_hist\"] == [{\"low\": 134217728, \"count\": 1}] and j[\"listeners\"][1][\"drops_rcvbuf\"] == 36 and j[\"listeners\"][1][\"qbytes_hist\"][-1] == {\"low\": 2048, \"count\": 37} and \"synq_now\" not in j[\"listeners\"][1] and \"rmem_now\" not in j[\"listeners\"][0]'"
t syn-udp-hist "run 0 -H -f $S/syn-udp.txt && has 'syn queue: now 9, full: 11 dropped' $T/out && has 'handshake_ns' $T/out && has 'receive buffer: 3328 of 4608 bytes used, 36 datagrams dropped' $T/out && has 'qbytes' $T/out"
t huge-numbers-json "run 0 -j -f $S/huge-numbers.txt && json 'j[\"listeners\"][0][\"enqueued\"] == 2**64-1 and j[\"listeners\"][0][\"qlen_hist\"] == [{\"low\": 0, \"count\": 2**64-1}] and j[\"listeners\"][0][\"wait_ns_hist\"] is None and j[\"state\"] is None and j[\"malformed_lines\"] == 7 and len(j[\"listeners\"]) == 1'"
t truncated "run 0 -f $S/truncated.txt && has 'truncated' $T/err && has '5 of 15 fields' $T/err && row 1 | grep -q ' 5/4 ' && [ -z \"\$(row 2)\" ]"
t truncated-strict "run 8 --strict -f $S/truncated.txt && [ ! -s $T/out ]"
t missing-fields "run 0 -j -f $S/missing-fields.txt && json 'len(j[\"listeners\"]) == 1 and j[\"listeners\"][0][\"comm\"] == \"ok\" and j[\"listeners\"][0][\"observed_ns\"] is None and j[\"malformed_lines\"] == 12' &&
	has 'field resyncs is missing' $T/err && has 'unknown proto sctp' $T/err && has 'appears twice' $T/err && has 'not a bucket boundary' $T/err"

# --- JSON
t json-one-listener "run 0 -j -f $S/one-listener.txt && json 'j[\"format\"] == 1 and j[\"state\"][\"max_listeners\"] == 65536 and j[\"closed\"][\"drops\"] == 0 and len(j[\"listeners\"]) == 1' &&
	json 'j[\"listeners\"][0] == dict(id=1, netns=4026531840, proto=\"tcp6\", local=\"[::]:5000\", address=\"::\", port=5000, backlog=2, qnow=1, qpeak=3, enqueued=3, accepted=2, drops=4, p50_us=2147484, p99_us=2147484, max_us=1524096, pid=147, comm=\"smoke\", local_escaped=\"[::]:5000\", drops_syn_acceptq=4, drops_ack_acceptq=0, drops_other=0, drained=0, untimed=0, resynced=0, observed_ns=1584099000, qlen_area_ns=4312269500, wait_sum_ns=2968185500, waited=0, qlen_hist=[dict(low=0, count=1), dict(low=1, count=1), dict(low=2, count=5)], wait_ns_hist=[dict(low=1073741824, count=2)])'"
t json-dash-is-null "run 0 -j -f $S/basic.txt && json '[l[\"p50_us\"] for l in j[\"listeners\"]] == [None, 66, 3] and j[\"listeners\"][1][\"comm\"] == \"nginx: worker process\"'"
t json-escaping-ipv6 "run 0 -j -f $S/ipv6.txt && json '[l[\"address\"] for l in j[\"listeners\"]] == [\"::1\", \"fe80::1ff:fe23:4567:890a\", \"2001:db8:85a3::8a2e:370:7334\", \"::ffff:127.0.0.1\", \"192.168.1.1\"] and j[\"listeners\"][1][\"comm\"] == \"we\\\"ird\\\\name\" and j[\"listeners\"][2][\"port\"] == 65535'"
t json-empty "run 0 -j -f $S/empty-table.txt && json 'j[\"listeners\"] == [] and j[\"state\"][\"tracked\"] == 0'"
t json-many "run 0 -j -f $S/many.txt && json 'len(j[\"listeners\"]) == 200 and sorted(set(l[\"proto\"] for l in j[\"listeners\"])) == [\"tcp\", \"tcp6\", \"udp\", \"udp6\", \"unix\"] and j[\"listeners\"][3][\"proto\"] == \"unix\" and j[\"listeners\"][3][\"port\"] is None and j[\"listeners\"][3][\"address\"] == \"/run/app4.sock\"'"

# The JSON schema (aqstat.schema.json) holds every document of
# -j (each sample), -w -j (NDJSON, one a frame) and events -j (one an
# event) and nothing it does not name; a schema version apart from the
# /proc format; flags as true/false; names decoded from their \ooo escapes,
# and no name can break a document or its line
SCHEMA=../aqstat.schema.json
# jcheck KIND [ndjson]: $T/out against the schema's $defs/KIND
jcheck() { "$PY" jsoncheck.py "$SCHEMA" "$1" "$T/out" ${2:+"$2"}; }
# py CHECK: python3 CHECK (asserts) over $T/out, opened as f
py() { "$PY" -c "import json, sys
f = open(sys.argv[1], encoding='utf-8')
$1" "$T/out"; }
t json-schema-every-sample "n=0; for s in $S/*.txt; do \"\$AQ\" -j -f \$s >$T/out 2>/dev/null || continue;
	jcheck snapshot || { echo \"in \$s\"; exit 1; }; n=\$((n + 1)); done; [ \$n -ge 13 ] &&
	json 'j[\"schema_version\"] == 1' && ! jcheck frame >/dev/null && ! jcheck event >/dev/null &&
	run 0 -j -f $S/names.txt && json 'j[\"schema_version\"] == 1 and j[\"format\"] == 3'"
t json-booleans "run 0 -j -f $S/live.txt && json 'j[\"state\"][\"enabled\"] is True and j[\"listeners\"][0][\"stalled\"] is True and j[\"listeners\"][0][\"overflowing\"] is True' &&
	run 0 -j -f $S/names.txt && json 'j[\"state\"][\"enabled\"] is False and [(l[\"stalled\"], l[\"overflowing\"]) for l in j[\"listeners\"]] == [(True, False), (False, False), (False, True)]' &&
	! grep -q '\"\\(enabled\\|stalled\\|overflowing\\)\": [01]' $T/out && run 0 --prometheus -f $S/names.txt && prom_ok && has 'aqueue_enabled 0' $T/out"
# samples/names.txt: a unix path with a space, a quote and a backslash; an
# abstract name with a NUL and a byte that is not UTF-8; comms with a
# newline and a quote, UTF-8, an escape sequence
names_decoded() { py 'j = json.load(f)
L = j["listeners"]
assert [l["local"] for l in L] == ["/run/my app\"q\\.sock", "@a\x00b\ufffdc", "127.0.0.1:80"], L
assert [l["address"] for l in L] == ["/run/my app\"q\\.sock", "@a\x00b\ufffdc", "127.0.0.1"]
assert [l["local_escaped"] for l in L] == [r"/run/my\040app\042q\134.sock", r"@a\000b\377c", "127.0.0.1:80"]
assert [l["comm"] for l in L] == ["evil\n\"x\": 1}", "caf\u00e9", "\x1b[31mred"]'; }
t json-names-decoded "run 0 -j -f $S/names.txt && jcheck snapshot && names_decoded &&
	run 0 -f $S/names.txt && has 'evil\\012\"x\": 1}' $T/out && has '\\033[31mred' $T/out && hasnt \"\$(printf '\\033')\" $T/out"
watch_json() { py 'F = [json.loads(l) for l in f]
assert [d["frame"] for d in F] == [1, 2, 3] and F[0]["interval_s"] is None and F[1]["interval_s"] > 0
r = [d["listeners"][0]["rates"] for d in F]
assert [(x["arrivals_per_s"], x["accepts_per_s"], x["drops_per_s"], x["wait_p99_ns"]) for x in r] == [(100, 90, 5, 1900000), (100, 50, 10, 2048), (50, 40, 1, 2048)], r
assert [x["since_start"] for x in r] == [True, False, True] and F[2]["source"].endswith("watch-3.txt")'; }
t json-watch-ndjson "run 0 -w 0.01 -c 3 -j -f $S/watch-1.txt -f $S/watch-2.txt -f $S/watch-3.txt && [ \$(wc -l < $T/out) = 3 ] && jcheck frame ndjson &&
	hasnt \"\$(printf '\\033')\" $T/out && watch_json &&
	run 0 -w 0.01 -c 2 -j -f $S/names.txt && [ \$(wc -l < $T/out) = 2 ] && jcheck frame ndjson &&
	run 0 -j -c 2 -w 0.01 --top 1 -f $S/many.txt && [ \$(wc -l < $T/out) = 2 ] && jcheck frame ndjson"
events_json() { py 'E = [json.loads(l) for l in f]
assert [x["event"] for x in E] == ["open", "overflow", "open", "stall", "lost", "overflow_end", "recover", "close"]
assert E[2]["local"] == "@my app" and E[2]["local_escaped"] == r"@my\040app" and E[2]["port"] is None and E[2]["comm"] == "my app"
assert E[4] == dict(schema_version=1, event="lost", monotonic_ns=1237500000000, time=E[4]["time"], lost=3)
assert E[5]["drops"] == 1834 and E[5]["duration_ns"] == 1200000000 and "stalled_ns" not in E[5]
assert E[6]["address"] == "::1" and E[6]["port"] == 8080 and E[6]["stalled_ns"] == 3600000000
assert all(x["time"].endswith("Z") and x["time"][10] == "T" for x in E)'; }
events_forged() { py 'E = [json.loads(l) for l in f]
assert len(E) == 1 and E[0]["event"] == "open", E
assert E[0]["local"] == "/run/a\nb\"" and E[0]["comm"] == "x\n{\"event\": \"forged\"}", E'; }
printf '%s\n' '1234.500000000 open id 9 netns 4026531840 proto unix local /run/a\012b\042 qnow 0 backlog 4 pid 1 comm x\012{"event": "forged"}' >"$T/ev-names.txt"
t json-events-ndjson "AQSTAT_EVENTS=$S/events.txt run 0 events -j && [ \$(wc -l < $T/out) = 8 ] && jcheck event ndjson && has 'unknown event' $T/err &&
	events_json && AQSTAT_EVENTS=$S/events.txt run 0 events -j -x -c 1 && [ \$(wc -l < $T/out) = 1 ] && has '\"local\": \"@my app\"' $T/out &&
	AQSTAT_EVENTS=$T/ev-names.txt run 0 events -j && [ \$(wc -l < $T/out) = 1 ] && jcheck event ndjson && events_forged"

# --- Prometheus
t prom-one-listener "run 0 --prometheus --metrics all --buckets all -f $S/one-listener.txt && prom_ok && hasnt 'pid=' $T/out &&
	has 'aqueue_listener_drops_total$L1} 4' $T/out &&
	has 'aqueue_listener_queue_length$L1} 1' $T/out &&
	has 'aqueue_listener_wait_seconds_bucket$L1,le=\"1.073741824\"} 0' $T/out &&
	has 'aqueue_listener_wait_seconds_bucket$L1,le=\"2.147483648\"} 2' $T/out &&
	has 'aqueue_listener_wait_seconds_bucket$L1,le=\"+Inf\"} 2' $T/out &&
	has 'aqueue_listener_wait_seconds_sum$L1} 2.9681855' $T/out &&
	has 'aqueue_listener_wait_seconds_count$L1} 2' $T/out &&
	has 'aqueue_listener_queue_length_at_syn_bucket$L1,le=\"3\"} 7' $T/out &&
	has 'aqueue_listener_wait_max_seconds$L1} 1.524096' $T/out &&
	has '# TYPE aqueue_listener_wait_seconds histogram' $T/out"
# What a listener costs by default is bounded: its core series
# (--metrics core) and each histogram's +Inf bucket, _sum and _count
# (--buckets none); the rest on request. A coarse bucket's count is the
# same as with all (cumulative).
nbuckets() { grep -c "^aqueue_listener_$1_bucket{id=\"$2\"," "$T/out"; }
nseries() { grep -c "^aqueue_listener_[a-z0-9_]*{id=\"$1\"," "$T/out"; }
t prom-buckets "run 0 --prometheus -f $S/basic.txt && prom_ok && [ \$(nbuckets wait_seconds 2) = 1 ] && [ \$(nbuckets queue_length_at_syn 2) = 1 ] &&
	has 'aqueue_listener_wait_seconds_bucket{id=\"2\",netns=\"4026531840\",proto=\"tcp6\",address=\"::\",port=\"443\",comm=\"nginx: worker process\",le=\"+Inf\"} 18234' $T/out &&
	has '# TYPE aqueue_listener_wait_seconds histogram' $T/out && [ \$(nseries 2) = 15 ] && cp $T/out $T/default &&
	run 0 --prometheus --buckets none --metrics core -f $S/basic.txt && cmp $T/out $T/default &&
	run 0 --prometheus --buckets coarse -f $S/basic.txt && prom_ok && [ \$(nbuckets wait_seconds 2) = 14 ] && [ \$(nbuckets queue_length_at_syn 2) = 10 ] &&
	grep '_bucket{' $T/out | sort >$T/coarse && [ \$(nseries 2) = 37 ] &&
	run 0 --prometheus --buckets all -f $S/basic.txt && prom_ok && [ \$(nbuckets wait_seconds 2) = 40 ] && [ \$(nbuckets queue_length_at_syn 2) = 32 ] &&
	grep '_bucket{' $T/out | sort | comm -13 - $T/coarse >$T/diff && [ ! -s $T/diff ] &&
	run 0 --prometheus --metrics all --buckets coarse -f $S/basic.txt && prom_ok && [ \$(nseries 2) = 45 ] &&
	run 0 --prometheus --metrics all -f $S/basic.txt && prom_ok && [ \$(nseries 2) = 23 ] && has aqueue_listener_wait_p99_seconds $T/out &&
	run 2 --buckets all && run 2 --prometheus --buckets some && run 2 --metrics all && run 2 -j --metrics all && run 2 --prometheus --metrics some"
# the extra metrics are those of --metrics all only, and each is in it
t prom-metrics-core "run 0 --prometheus -f $S/live.txt && prom_ok && for m in queue_peak drops_total stalled wait_seconds_count; do has aqueue_listener_\$m $T/out || exit 1; done &&
	for m in wait_p50_seconds wait_p99_seconds wait_max_seconds drops_other_total drained_total untimed_total resynced_total observed_seconds_total; do
		hasnt aqueue_listener_\$m $T/out || exit 1; done &&
	run 0 --prometheus --metrics all -f $S/live.txt && prom_ok && for m in wait_p50_seconds wait_max_seconds drops_other_total drained_total untimed_total resynced_total observed_seconds_total; do
		has aqueue_listener_\$m $T/out || exit 1; done"
# the default's series per listener of each kind (format 3) as aqstat(8)
# gives them, and its bytes at scale bounded: 2,500 synthetic listeners
# (mkscale.py: id 8 is TCP, 5 unix, 7 UDP, every line of format 3)
t prom-default-per-listener "\"\$PY\" mkscale.py 2500 $T/s2500.txt && run 0 --prometheus -f $T/s2500.txt && prom_ok &&
	grep -q '{id=\"8\",.*proto=\"tcp\"' $T/out && grep -q '{id=\"5\",.*proto=\"unix\"' $T/out && grep -q '{id=\"7\",.*proto=\"udp\"' $T/out &&
	tcp=\$(nseries 8) && unix=\$(nseries 5) && udp=\$(nseries 7) && echo \"tcp \$tcp unix \$unix udp \$udp\" &&
	sed -n '/^.SH PROMETHEUS/,/^.SS Labels/p' ../aqstat.8 | tr '\\n' ' ' >$T/man &&
	has \"TCP listener is \$tcp series\" $T/man && has \"a UDP socket \$udp\" $T/man && has \"a unix listener \$unix\" $T/man &&
	b=\$(( \$(wc -c < $T/out) / 2500 )) && echo \"\$b bytes a listener\" && [ \$b -le 2700 ] && has \"about \$(( (b + 50) / 100 * 100 )) bytes\" $T/man"
t top-n "run 0 -j --top 3 -f $S/many.txt && json '[l[\"id\"] for l in j[\"listeners\"]] == [174, 181, 195]' &&
	run 0 --prometheus --top 5 -u -f $S/many.txt && prom_ok && [ \$(grep -c '^aqueue_listener_queue_length{' $T/out) = 5 ] && hasnt 'proto=\"tcp' $T/out &&
	run 0 --top 2 -f $S/many.txt && [ \$(grep -c 'worker ' $T/out) = 2 ] && grep 'worker ' $T/out | head -1 | grep -q '^195 ' && run 2 --top 0"
# the module's p50/p99 are bucket edges (2.15s here), the longest wait 1.52s:
# shown at most the longest; JSON keeps the module's figures
t pct-at-most-max "run 0 --prometheus --metrics all -f $S/one-listener.txt &&
	has 'aqueue_listener_wait_p50_seconds$L1} 1.524096' $T/out &&
	has 'aqueue_listener_wait_p99_seconds$L1} 1.524096' $T/out &&
	run 0 --prometheus --metrics all -f $S/basic.txt && grep -q '^aqueue_listener_wait_p99_seconds{id=\"2\",.*} 0.000525\$' $T/out &&
	grep -q '^aqueue_listener_wait_p99_seconds{id=\"3\",.*} 0.000004\$' $T/out &&
	run 0 -j -f $S/one-listener.txt && json 'j[\"listeners\"][0][\"p99_us\"] == 2147484'"
t prom-escaping "run 0 --prometheus -f $S/ipv6.txt && prom_ok && has 'comm=\"we\\\"ird\\\\name\"' $T/out && has 'address=\"2001:db8:85a3::8a2e:370:7334\",port=\"65535\"' $T/out"
t prom-many "run 0 --prometheus -f $S/many.txt && prom_ok && [ \$(grep -c '^aqueue_listener_queue_length{' $T/out) = 200 ]"
# One unit per metric: a UDP socket's buffer is not a backlog, its
# queue not an accept queue; no SYN-only series for it
t prom-udp-units "run 0 --prometheus -f $S/many.txt && prom_ok && [ \$(grep -c '^aqueue_listener_backlog{' $T/out) = 120 ] &&
	! grep -q '^aqueue_listener_backlog{.*proto=\"udp' $T/out && [ \$(grep -c '^aqueue_listener_receive_buffer_bytes{' $T/out) = 80 ] &&
	! grep -q '^aqueue_listener_receive_buffer_bytes{.*proto=\"\(tcp\|unix\)' $T/out &&
	! grep -q '^aqueue_listener_\(drops_syn_acceptq_total\|drops_ack_acceptq_total\|queue_length_at_syn_bucket\){.*proto=\"udp' $T/out &&
	run 0 --prometheus -f $S/syn-udp.txt && prom_ok &&
	grep -q '^aqueue_listener_receive_buffer_bytes{id=\"2\",.*} 4608\$' $T/out &&
	grep -q '^aqueue_listener_receive_buffer_used_bytes{id=\"2\",.*} 3328\$' $T/out &&
	grep -q '^aqueue_listener_drops_receive_buffer_total{id=\"2\",.*} 36\$' $T/out &&
	grep -q '^aqueue_listener_queue_length_at_datagram_count{id=\"2\",.*} 40\$' $T/out &&
	grep -q '^aqueue_listener_queue_length_at_syn_count{id=\"1\",.*} 21\$' $T/out &&
	run 0 -j -f $S/syn-udp.txt && json 'j[\"listeners\"][1][\"backlog\"] == 4608 and \"receive_buffer_bytes\" not in j[\"listeners\"][1]'"
t prom-empty "run 0 --prometheus -f $S/empty-table.txt && prom_ok && has 'aqueue_tracked_listeners 0' $T/out"
t prom-malformed-counted "run 0 --prometheus -f $S/truncated.txt && prom_ok && has 'aqueue_parse_malformed_lines 3' $T/out"
t prom-every-sample "n=0; for s in $S/*.txt; do \"\$AQ\" --prometheus -f \$s >$T/out 2>/dev/null || continue;
	prom_ok || { echo \"in \$s\"; exit 1; }; n=\$((n + 1)); done; [ \$n -ge 12 ]"
# each must fail: FILE's sed expression, then the checker
bad() { sed "$1" "$T/out" >"$T/bad" && ! "$2" "$T/bad" >"$T/why" 2>&1 && cat "$T/why" && [ -s "$T/why" ]; }
t promtool-catches-errors "run 0 --prometheus --metrics all -f $S/one-listener.txt &&
	bad 's/aqueue_listener_drops_total/aqueue_listener_drops/' promtool_ok &&
	bad 's/^\\(aqueue_listener_queue_length{.*}\\) 1\$/\\1 one/' promtool_ok &&
	bad 's/comm=\"smoke\"/comm=\"sm\\\\oke\"/' promtool_ok &&
	bad '/^# HELP aqueue_listener_backlog /d' promtool_ok &&
	bad '\$a# TYPE aqueue_listener_backlog gauge' promtool_ok &&
	bad 's/aqueue_listener_wait_max_seconds/aqueue_listener_wait_max_milliseconds/' promtool_ok"
t hist-check-catches-errors "run 0 --prometheus --buckets all -f $S/one-listener.txt && hist_ok $T/out &&
	bad 's/le=\"+Inf\"} 2/le=\"+Inf\"} 3/' hist_ok &&
	bad 's/le=\"1.073741824\"} 0/le=\"1.073741824\"} 3/' hist_ok &&
	bad '/le=\"+Inf\"/d' hist_ok"

# 65,536 listeners (the module's default max_listeners) all come through,
# in JSON and as a top 10. How long they take is make bench's to measure;
# the timeout only guards against a hang.
t scale-65536 "$PY mkscale.py 65536 $T/big.txt && timeout 120 $AQ -j -f $T/big.txt >$T/out 2>$T/err && [ ! -s $T/err ] &&
	[ \$(grep -c '\"comm\"' $T/out) = 65536 ] && timeout 120 $AQ --prometheus --top 10 -f $T/big.txt >$T/out && prom_ok &&
	[ \$(grep -c '^aqueue_listener_queue_length{' $T/out) = 10 ]"
rm -f "$T/big.txt"

# "drops" are packets (sk_drops, as doc/interface.md defines them)
# in the metrics' help, the man page and the alerts, never "connection
# attempts"
t drops-one-meaning "run 0 --prometheus -f $S/basic.txt && grep -q '^# HELP aqueue_listener_drops_total Packets the listener dropped' $T/out &&
	! grep -qi 'connection attempts' $T/out ../aqstat.8 ../../../contrib/prometheus/aqueue-alerts.yml &&
	grep -q 'packets per second dropped' ../../../contrib/prometheus/aqueue-alerts.yml"
# The alert rules, by promtool's unit tests (an accept-queue
# alert only for accept-queue drops, a UDP one for the receive buffer; no
# AqueueDown for a newer module, AqueueAqstatOlderThanModule instead)
t contrib-alert-rules "command -v \"$PROMTOOL\" >/dev/null && cd ../../../contrib/prometheus &&
	\"$PROMTOOL\" check rules aqueue-alerts.yml && \"$PROMTOOL\" test rules aqueue-alerts.test.yml &&
	grep -q 'alert: AqueueUdpReceiveBufferOverflow' aqueue-alerts.yml && grep -q 'alert: AqueueAqstatOlderThanModule' aqueue-alerts.yml"

# --- the backlog listen() asked for (samples/backlog.txt, format 3 with
# backlog_asked and somaxconn): 1 listen(4096) under somaxconn 128 that
# dropped 3 SYNs, 2 listen(-1), 3 a unix listener whose name holds a
# newline and a forged note, 4 and 7 listening before the module (0 and 0;
# 7 dropped), 5 under somaxconn but dropping past it, 6 a UDP socket, 8
# capped and dropping past what it asked for, 9 listening again with room
# since its drops. After the table, a note a listener it applies to, in
# the table's order; the same figures in JSON and Prometheus.
BL=$S/backlog.txt
# notes: the lines after the tables that are notes, as they are
notes() { grep -E '^[0-9]+ [a-z6-]+ [^ ]+: (listen\(\) asked for|[0-9]+ dropped at a full queue)' "$T/out"; }
# jl ID EXPR: python EXPR over listener ID of the JSON in $T/out, as l
jl() { "$PY" -c 'import json,sys
j = json.load(open(sys.argv[1]))
l = [x for x in j["listeners"] if x["id"] == int(sys.argv[2])][0]
assert eval(sys.argv[3]), (sys.argv[3], l)' "$T/out" "$1" "$2"; }
# labels ID: the Prometheus labels of backlog.txt's listener ID
bl_labels() { awk -v id="$1" '$1 == id { a = $4; p = a; sub(/:[0-9]+$/, "", a); sub(/^.*:/, "", p); gsub(/[][]/, "", a)
	printf "{id=\"%s\",netns=\"%s\",proto=\"%s\",address=\"%s\",port=\"%s\",comm=\"%s\"}", $1, $2, $3, a, p, $15 }' "$BL"; }
t backlog-clamped-dropped "run 0 -f $BL && notes >$T/notes && cat $T/notes &&
	grep -qxF '1 tcp 127.0.0.1:8080: listen() asked for 4096, capped at 128 by net.core.somaxconn; 3 dropped at a full queue: a backlog of 131 would have held its peak (raise net.core.somaxconn)' $T/notes &&
	[ \"\$(cut -d' ' -f1 $T/notes | tr '\n' ' ')\" = '8 5 3 1 7 9 2 ' ] &&
	[ \"\$(awk '/^ID PROTO/ { t++; next } t == 1 && \$1 ~ /^[0-9]+\$/ && \$0 ~ /^ / { printf \"%s \", \$1 }' $T/out)\" = '8 5 3 1 7 9 4 2 ' ] &&
	grep -B1 '^8 tcp ' $T/out | head -1 | grep -qx '' &&
	run 0 -j -f $BL && jcheck snapshot && json 'j[\"unknown_keys\"] == 0 and j[\"malformed_lines\"] == 0' &&
	jl 1 'l[\"backlog_asked\"] == 4096 and l[\"somaxconn\"] == 128 and l[\"backlog_clamped\"] is True and l[\"backlog_needed\"] == 131' &&
	run 0 --prometheus -f $BL && prom_ok && has \"aqueue_listener_backlog_asked\$(bl_labels 1) 4096\" $T/out &&
	has \"aqueue_listener_somaxconn\$(bl_labels 1) 128\" $T/out && has \"aqueue_listener_backlog\$(bl_labels 1) 128\" $T/out &&
	has '# TYPE aqueue_listener_backlog_asked gauge' $T/out && has '# HELP aqueue_listener_somaxconn net.core.somaxconn' $T/out"
# listen(fd, -1): the kernel reads 2^32-1, the most allowed
t backlog-listen-minus-1 "run 0 -f $BL && notes >$T/notes &&
	grep -qxF '2 tcp6 [::]:443: listen() asked for the most (-1), capped at 4096 by net.core.somaxconn' $T/notes &&
	run 0 -j -f $BL && jl 2 'l[\"backlog_asked\"] == 4294967295 and l[\"somaxconn\"] == 4096 and l[\"backlog_clamped\"] is True and l[\"backlog_needed\"] is None' &&
	run 0 --prometheus -f $BL && prom_ok && has \"aqueue_listener_backlog_asked\$(bl_labels 2) 4294967295\" $T/out"
# A unix name is written in a note as in the table (its \ooo escapes; a
# control byte of a file not the module's as ?): one line, none forged
printf '\033]0;x\007\t' >"$T/ctl-bytes"
sed "s#/run/evil\\\\012#/run/evil$(cat "$T/ctl-bytes")\\\\012#" "$BL" >"$T/bl-raw.txt"
EVIL='/run/evil\012\061\040tcp\0401.2.3.4:5:\040listen()\040asked\040for\0409'
t backlog-unix-hostile-name "run 0 -f $BL && notes >$T/notes &&
	grep -qxF '3 unix $EVIL: listen() asked for 16, within net.core.somaxconn 4096; 5 dropped at a full queue: a backlog of 21 would have held its peak (raise the listen() backlog)' $T/notes &&
	[ \$(grep -c ' tcp 1.2.3.4:5' $T/out) = 0 ] && [ \$(grep -c '^3 unix ' $T/out) = 1 ] && [ \$(wc -l < $T/notes) = 7 ] &&
	run 0 -j -f $BL && jl 3 'l[\"backlog_needed\"] == 21 and l[\"backlog_clamped\"] is False and l[\"local\"].startswith(\"/run/evil\\n1 tcp\")' &&
	grep -c \"\$(printf '\\033')\" $T/bl-raw.txt && run 0 -f $T/bl-raw.txt && hasnt \"\$(printf '\\033')\" $T/out && hasnt \"\$(printf '\\007')\" $T/out &&
	notes >$T/notes && grep -qF '3 unix /run/evil?]0;x??\\012\\061\\040tcp' $T/notes && [ \$(wc -l < $T/notes) = 7 ] &&
	grep '^  *3 unix ' $T/out | awk '{print \$3}' >$T/l1 && grep '^3 unix ' $T/notes | sed 's/^3 unix \\(.*\\): listen() asked.*/\\1/' >$T/l2 && cmp $T/l1 $T/l2"
# Where the module saw no listen() call (0 and 0): no note, no gauges, JSON
# 0, false, null; one that dropped says only the drops and the backlog; a
# UDP socket never has a note
t backlog-unknown-is-zero "run 0 -f $BL && notes >$T/notes && ! grep -q '^4 ' $T/notes && ! grep -q '^6 ' $T/notes &&
	grep -qxF '7 tcp 127.0.0.1:7000: 2 dropped at a full queue: a backlog of 6 would have held its peak (raise the listen() backlog)' $T/notes &&
	run 0 -j -f $BL && jl 4 'l[\"backlog_asked\"] == 0 and l[\"somaxconn\"] == 0 and l[\"backlog_clamped\"] is False and l[\"backlog_needed\"] is None' &&
	jl 7 'l[\"backlog_asked\"] == 0 and l[\"somaxconn\"] == 0 and l[\"backlog_clamped\"] is False and l[\"backlog_needed\"] == 6' &&
	jl 6 'l[\"backlog_asked\"] == 0 and l[\"backlog_clamped\"] is False and l[\"backlog_needed\"] is None' &&
	run 0 --prometheus -f $BL && prom_ok && [ \$(grep -c '^aqueue_listener_\\(backlog_asked\\|somaxconn\\){' $T/out) = 12 ] &&
	! grep -q '^aqueue_listener_\\(backlog_asked\\|somaxconn\\){id=\"[467]\"' $T/out && has \"aqueue_listener_backlog\$(bl_labels 4) 128\" $T/out"
# Which setting to raise: both where the estimate passes somaxconn (5) or
# what a capped listen() asked for (8); none once a listen() again gave it
# room (9); only the notes that apply, those of the listeners shown
t backlog-which-setting "run 0 -f $BL && notes >$T/notes &&
	grep -qxF '5 tcp 127.0.0.1:9000: listen() asked for 100, within net.core.somaxconn 128; 52 dropped at a full queue: a backlog of 152 would have held its peak (raise the listen() backlog and net.core.somaxconn)' $T/notes &&
	grep -qxF '8 tcp 127.0.0.1:6000: listen() asked for 200, capped at 128 by net.core.somaxconn; 100 dropped at a full queue: a backlog of 228 would have held its peak (raise the listen() backlog and net.core.somaxconn)' $T/notes &&
	grep -qxF '9 tcp 127.0.0.1:5000: listen() asked for 64, within net.core.somaxconn 4096; 1 dropped at a full queue: a backlog of 5 would have held its peak (as its backlog of 64 now does)' $T/notes &&
	run 0 -j -f $BL && jl 5 'l[\"backlog_needed\"] == 152 and not l[\"backlog_clamped\"]' && jl 8 'l[\"backlog_needed\"] == 228 and l[\"backlog_clamped\"]' &&
	run 0 -P 8080 -f $BL && notes >$T/notes && [ \"\$(cut -d' ' -f1 $T/notes)\" = 1 ] &&
	run 0 -u -f $BL && [ -z \"\$(notes)\" ] && run 0 --top 2 -f $BL && [ \"\$(notes | cut -d' ' -f1 | tr '\n' ' ')\" = '8 5 ' ] &&
	awk '\$1 == 1 { \$7 = \"18446744073709551615\" } 1' $BL >$T/bl-huge.txt && grep -q ' 18446744073709551615 ' $T/bl-huge.txt &&
	run 0 -f $T/bl-huge.txt && notes | grep -qF '1 tcp 127.0.0.1:8080: listen() asked for 4096, capped at 128 by net.core.somaxconn; 3 dropped at a full queue: a backlog of 18446744073709551615 would have held its peak' &&
	run 0 -j -f $T/bl-huge.txt && jl 1 'l[\"backlog_needed\"] == 2**64 - 1' && run 0 -w 1 -c 1 -f $BL && [ -z \"\$(notes)\" ]"
# A module older than the two keys: the same input without them reads as
# before, every other figure kept: no notes (the table is the keyed one's
# without them), JSON 0, 0, false, null, no gauges; format 1 and 2 have no
# such members at all
sed 's/ backlog_asked [0-9]* somaxconn [0-9]*$//' "$BL" >"$T/bl-old.txt"
t backlog-older-module "! grep -q somaxconn $T/bl-old.txt && run 0 --strict -f $T/bl-old.txt && [ -z \"\$(notes)\" ] && cp $T/out $T/old &&
	run 0 -f $BL && notes >$T/notes && [ -s $T/notes ] && grep -vxF -f $T/notes $T/out | sed '\$d' >$T/new && cmp $T/old $T/new &&
	run 0 --strict -j -f $T/bl-old.txt && json 'j[\"unknown_keys\"] == 0 and j[\"malformed_lines\"] == 0' &&
	json 'all((l[\"backlog_asked\"], l[\"somaxconn\"], l[\"backlog_clamped\"], l[\"backlog_needed\"]) == (0, 0, False, None) for l in j[\"listeners\"])' &&
	jcheck snapshot && run 0 --prometheus -f $T/bl-old.txt && prom_ok && hasnt aqueue_listener_backlog_asked $T/out && hasnt aqueue_listener_somaxconn $T/out &&
	run 0 -f $S/basic.txt && [ -z \"\$(notes)\" ] && run 0 -f $S/names.txt && [ -z \"\$(notes)\" ] &&
	run 0 -j -f $S/basic.txt && json 'not any(k in l for l in j[\"listeners\"] for k in (\"backlog_asked\", \"somaxconn\", \"backlog_clamped\", \"backlog_needed\"))' &&
	run 0 -j -f $S/names.txt && json 'all(l[\"backlog_needed\"] is None and l[\"somaxconn\"] == 0 for l in j[\"listeners\"])'"

# --- reuseport groups (samples/reuseport.txt, format 3 with
# reuseport_group): 3, 4, 6, 8 one group of four on 127.0.0.1:8080 (4 full
# and dropping, the others' queues 1, 0, 2), 5 a group of one, 1, 2, 7 in
# no group (7 the fullest of all), 10 and 11 a UDP group. Over the members
# of a group of two or more shown, one line of numbers only, where its
# first member sorts, the members kept together below it.
RP=$S/reuseport.txt
G3='group 3 (4 members): queue 68/256, enqueued 1200, accepted 1132, drops 80; shares of enqueued 25% 24% 26% 25%; fullest member 4 at 65/64 vs group mean 17.0'
G10='group 10 (2 members): queue 3, enqueued 400, accepted 397, drops 4; shares of enqueued 75% 25%; fullest member 11 at 3 vs group mean 1.5'
# order: the first table's lines, a row as its id, a group line as gID
order() { awk '/^ID PROTO/ { t++; next } /^$/ && t { exit } t == 1 { printf "%s ", $1 == "group" ? "g" $2 : $1 }' "$T/out"; }
# a comm that would forge a group line were it printed raw
sed 's/ 107 stuck$/ 107 x\\012group\\0409\\040(9\\040members):\\040queue\\0400\\012/' "$RP" >"$T/rp-comm.txt"
t reuseport-group-line "run 0 --strict -f $RP && grep -qxF '$G3' $T/out && grep -qxF '$G10' $T/out &&
	[ \$(grep -c '^group ' $T/out) = 2 ] && [ \"\$(order)\" = '7 g3 4 8 3 6 1 5 2 ' ] &&
	grep -A1 '^group 10 ' $T/out | tail -1 | grep -q '^11 udp ' &&
	run 0 -f $T/rp-comm.txt && [ \$(grep -c '^group' $T/out) = 2 ] && has 'x\\012group\\0409' $T/out &&
	run 0 -P 8080 -f $RP && [ \"\$(order)\" = 'g3 4 8 3 6 ' ] && grep -qxF '$G3' $T/out &&
	run 0 --top 2 -f $RP && ! grep -q '^group' $T/out && run 0 -w 1 -c 1 -f $RP && ! grep -q '^group' $T/out"
rp_labels() { awk -v id="$1" '$1 == id { a = $4; p = a; sub(/:[0-9]+$/, "", a); sub(/^.*:/, "", p); gsub(/[][]/, "", a)
	c = $0; for (i = 0; i < 14; i++) sub(/^ *[^ ]+ +/, "", c)
	printf "{id=\"%s\",netns=\"%s\",proto=\"%s\",address=\"%s\",port=\"%s\",comm=\"%s\"}", $1, $2, $3, a, p, c }' "$RP"; }
t reuseport-json "run 0 -j -f $RP && jcheck snapshot && json 'j[\"unknown_keys\"] == 0 and j[\"malformed_lines\"] == 0' &&
	json 'dict((l[\"id\"], l[\"reuseport_group\"]) for l in j[\"listeners\"]) == {1: 0, 2: 0, 3: 3, 4: 3, 5: 5, 6: 3, 7: 0, 8: 3, 10: 10, 11: 10}'"
t reuseport-prom "run 0 --prometheus -f $RP && prom_ok && [ \$(grep -c '^aqueue_listener_reuseport_group{' $T/out) = 7 ] &&
	has '# TYPE aqueue_listener_reuseport_group gauge' $T/out && has '# HELP aqueue_listener_reuseport_group ' $T/out &&
	for i in 3 4 6 8; do has \"aqueue_listener_reuseport_group\$(rp_labels \$i) 3\" $T/out || exit 1; done &&
	has \"aqueue_listener_reuseport_group\$(rp_labels 5) 5\" $T/out && has \"aqueue_listener_reuseport_group\$(rp_labels 11) 10\" $T/out &&
	! grep -q '^aqueue_listener_reuseport_group{id=\"[127]\"' $T/out"
# A module older than the key: no group line, the rows as they were (each
# row of the grouped table is one of these, widths and all), JSON 0, no
# gauge; no other sample has a group line
sed 's/ reuseport_group [0-9]*$//' "$RP" >"$T/rp-old.txt"
t reuseport-older-module "! grep -q reuseport_group $T/rp-old.txt && run 0 --strict -f $T/rp-old.txt && ! grep -q '^group' $T/out &&
	[ \"\$(order)\" = '7 4 1 8 3 6 5 2 ' ] && cp $T/out $T/old && run 0 -f $RP && grep -v '^group ' $T/out | sort >$T/new && sort $T/old | cmp - $T/new &&
	run 0 --strict -j -f $T/rp-old.txt && jcheck snapshot && json 'j[\"unknown_keys\"] == 0 and all(l[\"reuseport_group\"] == 0 for l in j[\"listeners\"])' &&
	run 0 --prometheus -f $T/rp-old.txt && prom_ok && hasnt aqueue_listener_reuseport_group $T/out &&
	for f in $S/*.txt; do [ \$f = $RP ] || ! \"\$AQ\" -f \$f 2>/dev/null | grep -q '^group' || { echo \"group line from \$f\"; exit 1; }; done"

# --- serve, on port 0: the port the kernel chose is read from the "serving" line
# get URL: the status printed, the body in $T/out
get() {
	"$PY" -c 'import sys, urllib.error, urllib.request
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=10); code, body = r.status, r.read()
except urllib.error.HTTPError as e:
    code, body = e.code, e.read()
open(sys.argv[2], "wb").write(body); print(code)' "$1" "$T/out"
}
# serve_with [ADDR:]PORT CHECK: CHECK runs with $url and $where (ADDR:PORT
# as served) while "aqstat serve" runs; the server is stopped after
serve_with() {
	"$AQ" serve "$1" -f $S/one-listener.txt 2>"$T/serr" &
	spid=$!
	i=0
	while ! grep -q '^aqstat: serving ' "$T/serr" && [ $i -lt 100 ] && kill -0 $spid 2>/dev/null; do
		sleep 0.1; i=$((i + 1))
	done
	url=$(sed -n 's|^aqstat: serving \(http://.*/metrics\)$|\1|p' "$T/serr")
	where=${url#http://}; where=${where%/metrics}
	src=0
	if [ -z "$url" ]; then
		echo "aqstat serve $1 did not say where it serves:"; cat "$T/serr"; src=1
	else
		"$2" || src=1
	fi
	kill $spid 2>/dev/null; wait $spid 2>/dev/null
	return $src
}
serve_checks() {
	[ "$(get "$url")" = 200 ] && prom_ok && has 'aqueue_listener_queue_length{id="1",' "$T/out" &&
	hasnt 'pid=' "$T/out" && [ "$(get "${url%/metrics}/other")" = 404 ] && has 'aqstat serves /metrics' "$T/out" &&
	{ timeout 10 "$AQ" serve "$where" >"$T/out" 2>"$T/err"; [ $? = 1 ]; } && has 'the port is in use' "$T/err"
}
t serve-default-loopback "serve_with 0 serve_checks && case \$url in http://127.0.0.1:*) ;; *) exit 1 ;; esac"
t serve-ipv6 "serve_with '[::1]:0' serve_checks && case \$url in 'http://[::1]:'*) ;; *) exit 1 ;; esac"
# refused: exit 2 (bounded: an address taken would serve until killed)
serve_refuses() {
	timeout 10 "$AQ" serve "$1" >"$T/out" 2>"$T/err"
	rc=$?
	[ $rc = 2 ] || { echo "aqstat serve $1: exit $rc, want 2"; cat "$T/err"; return 1; }
}
t serve-bad-address "serve_refuses localhost:9100 && has 'bad address' $T/err && has 'names are not resolved' $T/err &&
	serve_refuses '[::1]' && has 'bad address' $T/err && serve_refuses ::1:9100 && serve_refuses :9100 &&
	serve_refuses '[127.0.0.1]:9100' && serve_refuses 127.0.0.1:65536 && has 'bad port' $T/err && run 2 serve"

# --- filters (many.txt: 200 listeners, proto cycles tcp tcp6 udp udp6 unix by id % 5, netns by id % 4)
t filters "[ \$(count -t) = 80 ] && [ \$(count -u) = 80 ] && [ \$(count -x) = 40 ] && [ \$(count -4) = 80 ] &&
	[ \$(count -6) = 80 ] && [ \$(count -t -4) = 40 ] && [ \$(count -t -x) = 120 ] && [ \$(count --netns 4026531840) = 50 ] &&
	[ \$(count -p 10137) = 1 ] && [ \$(count -p 10137 -p 10138) = 2 ] && [ \$(count -p 10137 -t) = 0 ]"
t filter-table-no-match "run 0 -f $S/basic.txt -p 1 && has 'no listener matches' $T/out"

# --- watch
t watch-deltas "run 0 -w 1 -n 3 -f $S/watch-1.txt -f $S/watch-2.txt -f $S/watch-3.txt &&
	[ \$(grep -c '^aqstat -w 1 ' $T/out) = 3 ] &&
	[ \"\$(awk '\$1 == 1 {print \$6, \$7, \$8, \$9}' $T/out | tr '\n' '|')\" = '100.0 90.0 5.0 1.90ms|100.0 50.0 10.0 2.05µs|50.0 40.0 1.0 2.05µs|' ] &&
	has 'missed +3' $T/out && has 'first frame' $T/out"
# Two frames where the listener with the most drops in all has none in the
# second: the second frame leads with the one dropping now, and its header
# (the columns' widths) is the first frame's although P99 and the counts
# grew wider.
watch_order_frames() {
	idle='    2 4026531840 tcp   127.0.0.1:9090                   64      0      1         10         10        0        2        2        2      43 idle'
	sed "s/^$idle\$/    2 4026531840 tcp   127.0.0.1:9090                   64      0      1         10         10        0        -        -        -      43 idle/" \
		"$S/watch-1.txt" >"$T/f1.txt"
	sed -e "s/^$idle\$/    2 4026531840 tcp   127.0.0.1:9090                   64     30     30         40         10       30     1024  1048576  1048576      43 idle/" \
		-e 's/^listener 2 drops_syn_acceptq 0 /listener 2 drops_syn_acceptq 30 /' \
		-e 's/observed_ns 10000000000/observed_ns 12000000000/g' "$S/watch-1.txt" >"$T/f2.txt"
	! cmp -s "$T/f1.txt" "$T/f2.txt" || { echo "the frames did not change"; return 1; }
	run 0 -w 1 -c 2 -f "$T/f1.txt" -f "$T/f2.txt" || return 1
	order=$(awk '/^ID / { h++; next } h == 2 && $1 ~ /^[0-9]+$/ { printf "%s ", $1 }' "$T/out")
	[ "$order" = "2 1 " ] || { echo "second frame's order: $order"; cat "$T/out"; return 1; }
	if [ "$(grep -c '^ID PROTO' "$T/out")" != 2 ] ||
		[ "$(grep '^ID PROTO' "$T/out" | sort -u | wc -l)" != 1 ]; then
		echo "the header changed between frames"; cat "$T/out"; return 1
	fi
}
t watch-order-and-widths "watch_order_frames"
t watch-live-interval "s=\$(date +%s%N); run 0 -w 0.3 -n 3 -f $S/basic.txt && e=\$(date +%s%N) &&
	[ \$(( (e - s) / 1000000 )) -ge 550 ] && [ \$(grep -c '^aqstat -w 0.3 ' $T/out) = 3 ] && hasnt \"\$(printf '\\033')\" $T/out"

# --- errors and ctl
t module-not-loaded "AQSTAT_PROC=$T/nonexistent run 3 && has 'modprobe aqueue' $T/err && has 'insmod aqueue.ko' $T/err"
t file-missing "run 1 -f $T/nonexistent && has 'No such file' $T/err"
if [ "$(id -u)" = 0 ]; then
	t ctl-not-root "setpriv --reuid=65534 --regid=65534 --clear-groups $AQ ctl enable >$T/out 2>$T/err; [ \$? = 6 ] && has root $T/err"
else
	t ctl-not-root "run 6 ctl enable && has root $T/err"
fi
if [ "$(id -u)" = 0 ]; then
	t ctl-no-debugfs "mkdir -p $T/dbg && AQSTAT_DEBUGFS=$T/dbg run 5 ctl enable && has 'mount -t debugfs none $T/dbg' $T/err"
else
	t ctl-no-debugfs "true"
fi
t ctl-write-one-line ": > $T/control && AQSTAT_CONTROL=$T/control run 0 ctl reset port 8080 && printf 'reset port 8080\n' | cmp - $T/control"
t ctl-read "printf 'enabled 1\nmax_listeners 65536\n' > $T/control && AQSTAT_CONTROL=$T/control run 0 ctl && cmp $T/out $T/control"

# --- format 2: the live keys
t live-json "run 0 -j -f $S/live.txt && json 'j[\"format\"] == 2 and j[\"listeners\"][0][\"stalled\"] == 1 and j[\"listeners\"][0][\"hol_age_ns\"] == 2000000000 and j[\"listeners\"][0][\"overflowing\"] == 1'"
t live-prometheus "run 0 --prometheus -f $S/live.txt && prom_ok && has 'aqueue_listener_stalled$L1} 1' $T/out &&
	has 'aqueue_listener_overflowing$L1} 1' $T/out && has 'aqueue_listener_queue_head_age_seconds$L1} 2' $T/out &&
	hasnt since_ $T/out && run 0 --prometheus -f $S/one-listener.txt && hasnt aqueue_listener_stalled $T/out"
t live-format1-has-none "run 0 -j -f $S/one-listener.txt && json '\"stalled\" not in j[\"listeners\"][0]'"
t live-key-missing "run 8 --strict -f $S/live-missing.txt && has 'field overflowing is missing' $T/err"

# --- events (samples/events.txt: 8 events, a lost line and a bad line)
t events-table "AQSTAT_EVENTS=$S/events.txt run 0 events && [ \$(grep -c '^[0-9][0-9]:' $T/out) = 8 ] &&
	has '1834 drops in 1.20s' $T/out && has 'head waiting 1.00s, no accept for 1.90s' $T/out &&
	has 'accepting again after 3.60s stalled' $T/out && has '3 events lost' $T/out && has 'unknown event' $T/err"
t events-raw-filters "AQSTAT_EVENTS=$S/events.txt run 0 events --raw -x && [ \$(wc -l < $T/out) = 2 ] &&
	has 'open id 2 netns 4026532001 proto unix local @my\\040app' $T/out && has 'lost 3' $T/out"
t events-port-count "AQSTAT_EVENTS=$S/events.txt run 0 events --raw -p 8080 -6 && [ \$(wc -l < $T/out) = 2 ] && has 'recover id 1' $T/out &&
	AQSTAT_EVENTS=$S/events.txt run 0 events --raw -n 2 && [ \$(wc -l < $T/out) = 2 ]"
t events-netns "AQSTAT_EVENTS=$S/events.txt run 0 events --raw --netns 4026532001 && [ \$(grep -c ' open ' $T/out) = 1 ]"
t events-strict "AQSTAT_EVENTS=$S/events.txt run 8 events --strict"
# overflow and stall of a reuseport member carry group and group_room:
# WHAT says the rest of the group's room (not when it is 0 or outside a
# group), -j has both, only on the lines that have them
cat >"$T/ev-group.txt" <<'EOF2'
100.000000000 overflow id 3 netns 4026531840 proto tcp local 127.0.0.1:8080 qnow 65 backlog 64 drops 1 group 3 group_room 190 pid 7 comm w
101.000000000 stall id 4 netns 4026531840 proto tcp local 127.0.0.1:8080 qnow 65 backlog 64 hol_age_ns 1000000000 since_accept_ns 1000000000 group 3 group_room 0 pid 7 comm w
102.000000000 overflow id 9 netns 4026531840 proto tcp local 127.0.0.1:9090 qnow 5 backlog 4 drops 2 group 0 group_room 0 pid 7 comm w
103.000000000 recover id 4 netns 4026531840 proto tcp local 127.0.0.1:8080 qnow 3 backlog 64 stalled_ns 5 pid 7 comm w
EOF2
events_group() { py 'E = [json.loads(l) for l in f]
assert [(x.get("group"), x.get("group_room")) for x in E] == [(3, 190), (3, 0), (0, 0), (None, None)], E'; }
t events-group-room "AQSTAT_EVENTS=$T/ev-group.txt run 0 events && [ \$(grep -c 'the rest of group' $T/out) = 1 ] &&
	has 'dropping; the rest of group 3 has room for 190' $T/out &&
	AQSTAT_EVENTS=$T/ev-group.txt run 0 events -j && jcheck event ndjson && events_group"
t events-usage "run 2 events -j --raw && run 2 events -w 1 && run 2 --raw"
t events-no-module "AQSTAT_EVENTS= run 3 events || [ -e /proc/aqueue_events ]"

echo "$pass passed, $fail failed"
if [ -n "$RESULTS" ]; then
	mkdir -p "$RESULTS/counts" && echo "$pass $fail 0" >"$RESULTS/counts/host-aqstat"
fi
[ "$fail" = 0 ]
