#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the bench guest (tools/vmtest/init, aqvm=bench): every
# measurement in its configurations, alternated round by round so that
# drift cancels:
#
#   absent    aqueue not loaded
#   enabled   insmod aqueue.ko (the probes registered, tracking; no UDP
#             port watched, so the UDP probes are not registered)
#   disabled  insmod aqueue.ko enable=0 (loaded, no probes)
#   empty     insmod aqueue.ko empty_handlers=1 (the probes, handlers return
#             at once: the floor of the kprobe mechanism)
#
# and for the two storms only, to split aqueue's own work:
#
#   filtered  insmod aqueue.ko, then "filter port 1" in the control file:
#             every handler runs and looks its socket up, but no listener
#             is tracked (the cost of the lookups, not of the bookkeeping)
#
# and for the two storms and UDP, where the time goes, probe by probe:
#
#   profile      insmod aqueue.ko profile_handlers=1: every handler timed
#                with local_clock(), the sums read from the control file
#   udp-profile  the same with the flooded port watched
#
# and for the TCP storm and the SYN flood, the reference points of the cost
# goal against the bpftrace peer (doc/performance.md, "Against the goals"):
#
#   floor       insmod aqfloor.ko (tools/bench/floor): empty kprobes at the
#               points the measurement's bpftrace peer hooks (the flood's:
#               aqfloor.ko syn=1), the floor any kprobe-based tool pays
#               for them
#   peer        bpftrace running the measurement's script (Debian 12's
#               bpftrace, in the guest's root): tools/bench/peer.bt for
#               the storm, peer-flood.bt for the flood; started before the
#               measurement once its probes are attached, stopped after it
#   peer-kfunc  the same on the BPF trampoline (kfunc/kretfunc probes):
#               peer-kfunc.bt, peer-flood-kfunc.bt
#
# These three are set up for each measurement, the others once a slot.
#
# and for the UDP measurement only (besides absent and enabled):
#
#   udp-other    insmod aqueue.ko udp_ports=OTHER: the UDP probes registered,
#                the flooded port not watched
#   udp-watched  insmod aqueue.ko udp_ports=PORT: the flooded port watched
#   udp-empty    insmod aqueue.ko empty_handlers=1 udp_ports=PORT: the UDP
#                probes with handlers that return at once
#
# Prints one "raw MEASUREMENT CONFIG ROUND key=value..." line per run, for
# tools/bench/report; "bench-error ..." when something could not run.
# Parameters come from /bench/params (BENCH_* variables, written by the
# host) with the defaults below.

# shellcheck source=/dev/null # written by the host into the guest's initramfs
[ -r /bench/params ] && . /bench/params
ROUNDS=${BENCH_ROUNDS:-6}
CONFIGS=${BENCH_CONFIGS:-absent enabled disabled empty filtered floor peer peer-kfunc profile udp-other udp-watched udp-empty udp-profile}
STORM_MS=${BENCH_STORM_MS:-2000}
STORM_CLIENTS=${BENCH_STORM_CLIENTS:-4}
STORM_ACCEPTORS=${BENCH_STORM_ACCEPTORS:-2}
SAT_MS=${BENCH_SAT_MS:-2000}
SAT_CLIENTS=${BENCH_SAT_CLIENTS:-64}
SAT_BACKLOG=${BENCH_SAT_BACKLOG:-8}
SAT_ACCEPT_US=${BENCH_SAT_ACCEPT_US:-10000}
SAT_TIMEOUT_MS=${BENCH_SAT_TIMEOUT_MS:-50}
ACCEPTORS=${BENCH_ACCEPTORS:-1000 4000}
ACC_MS=${BENCH_ACC_MS:-1000}
LISTENERS=${BENCH_LISTENERS:-1000 10000 50000}
LISTENER_READS=${BENCH_LISTENER_READS:-2}
UNIX_MS=${BENCH_UNIX_MS:-$STORM_MS}
UNIX_PATH=/tmp/aqbench.sock
UDP_MS=${BENCH_UDP_MS:-2000}
UDP_SIZE=${BENCH_UDP_SIZE:-64}
UDP_PORT=7004
UDP_OTHER_PORT=7005
FLOOD_MS=${BENCH_FLOOD_MS:-2000}
FLOOD_BACKLOG=${BENCH_FLOOD_BACKLOG:-16}
FLOOD_PORT=7006
# aqbench's spoofed sources (FLOOD_NET there).
FLOOD_NET=127.77.0.0/16
MEASUREMENTS=${BENCH_MEASUREMENTS:-storm unix udp flood saturate acceptors listeners}
# How long the peer may take to compile its script and attach (guest
# seconds: under instruction counting, LLVM's work counts as well).
PEER_WAIT=${BENCH_PEER_WAIT:-600}

ko=/lib/modules/$(uname -r)/extra/aqueue.ko
floor_ko=/lib/modules/$(uname -r)/extra/aqfloor.ko
peer_script=
peer_out=/tmp/peer.out
peer_pid=
errors=0

error() {
	echo "bench-error $*"
	errors=$((errors + 1))
}

# peer_script_for CONFIG MEASUREMENT: the peer's script.
peer_script_for() {
	case $1:$2 in
	peer:storm) echo /bench/peer.bt ;;
	peer-kfunc:storm) echo /bench/peer-kfunc.bt ;;
	peer:flood) echo /bench/peer-flood.bt ;;
	peer-kfunc:flood) echo /bench/peer-flood-kfunc.bt ;;
	esac
}

# Every probe of the peer's script in place: the functions of its kprobes
# and kretprobes in $peer_kprobes, the number of its kfuncs and kretfuncs
# in $peer_kfuncs. A kprobe is in /sys/kernel/debug/kprobes/list (at +0x4,
# past the endbr64, on 6.12) and enabled: perf's kprobes are [DISABLED]
# from their registration until the BPF program is attached and the event
# enabled. A kfunc is no kprobe but a BPF trampoline, attached once its
# tracing link exists: one "link_type: tracing" among bpftrace's
# descriptors per probe.
peer_attached() {
	for f in $peer_kprobes; do
		grep -v DISABLED /sys/kernel/debug/kprobes/list 2>/dev/null |
			grep -qE " $f\+0x[0-9a-f]+ " || return 1
	done
	[ "$peer_kfuncs" -gt 0 ] || return 0
	links=$(grep -l '^link_type:[[:space:]]*tracing' /proc/"$peer_pid"/fdinfo/* 2>/dev/null | wc -l)
	[ "$links" -ge "$peer_kfuncs" ]
}

# peer_start CONFIG MEASUREMENT
peer_start() {
	if [ ! -x /usr/bin/bpftrace ]; then
		echo "bench: no bpftrace in the guest" >&2
		return 1
	fi
	peer_script=$(peer_script_for "$1" "$2")
	if [ -z "$peer_script" ]; then
		echo "bench: no $1 script for $2" >&2
		return 1
	fi
	peer_kprobes=$(awk -F '[:{ \t]' '/^k(ret)?probe:/ { print $2 }' "$peer_script")
	peer_kfuncs=$(grep -cE '^k(ret)?func:' "$peer_script")
	# bpftrace 0.17 finds no BTF on 5.10 by itself ("btf: no" in its
	# --info, and then it wants kernel headers), although the kernel
	# has /sys/kernel/btf/vmlinux: named, the file serves the kprobe
	# scripts on every kernel. Named, it also turns kfunc off ("kfunc:
	# no"), so the kfunc scripts go without it (kfunc_available).
	if [ "$peer_kfuncs" -gt 0 ]; then
		bpftrace "$peer_script" >"$peer_out" 2>&1 &
	else
		BPFTRACE_BTF=/sys/kernel/btf/vmlinux bpftrace "$peer_script" >"$peer_out" 2>&1 &
	fi
	peer_pid=$!
	waited=0
	while ! peer_attached; do
		if ! kill -0 "$peer_pid" 2>/dev/null || [ $waited -ge "$PEER_WAIT" ]; then
			echo "bench: the peer attached nothing in ${waited}s:" \
				"$(tail -n 5 "$peer_out" | tr '\n' ' ')" >&2
			sed "s/^/bench-peer-out $1 $2 /" "$peer_out"
			kill -INT "$peer_pid" 2>/dev/null
			wait "$peer_pid"
			peer_pid=
			return 1
		fi
		sleep 1
		waited=$((waited + 1))
	done
}

# Stops bpftrace; on SIGINT it prints its maps and exits.
peer_stop() {
	[ -n "$peer_pid" ] || return 1
	kill -INT "$peer_pid" && wait "$peer_pid"
	rc=$?
	peer_pid=
	return $rc
}

# peer_report CONFIG MEASUREMENT ROUND: what the peer counted in the run
# (the samples in its histograms, the enqueue times left in @start) as
# one bench-peer line; the whole output of the first round as
# bench-peer-out lines.
peer_report() {
	counts=$(awk '
		/^@/ { name = $1; sub(/\[.*/, "", name); sub(/:$/, "", name)
			if (name == "@start") left++
			next }
		/^\[/ { line = $0; sub(/^\[[^])]*[])]/, "", line)
			split(line, f, " "); n[name] += f[1] }
		/^Attaching [0-9]+ probe/ { attached = $2 }
		END { printf "attached=%d qlen_samples=%d wait_samples=%d synq_samples=%d start_left=%d",
			attached, n["@qlen"], n["@wait_ns"], n["@synq"], left }' "$peer_out")
	echo "bench-peer $1 $2 $3 $counts"
	[ "$3" != 1 ] || sed "s/^/bench-peer-out $1 $2 /" "$peer_out"
	case $2:$counts in
	storm:*" qlen_samples=0 "* | storm:*" wait_samples=0 "* | flood:*" synq_samples=0 "*)
		error "$1 $2 round $3: the peer counted nothing ($counts)"
		;;
	esac
}

# floor_report ROUND: the returns of inet_csk_accept the floor's kretprobe
# missed (all its instances held by acceptors asleep in accept()), which
# aqfloor.ko logs when it is unloaded, as one bench-floor line.
floor_seen=0
floor_report() {
	n=$(dmesg | grep -c 'aqfloor: inet_csk_accept: [0-9]* returns missed')
	missed=0
	if [ "$n" -gt "$floor_seen" ]; then
		missed=$(dmesg | sed -n 's/.*aqfloor: inet_csk_accept: \([0-9]*\) returns missed.*/\1/p' | tail -n 1)
		floor_seen=$n
	fi
	echo "bench-floor $1 accept_missed=$missed"
}

# enter CONFIG [MEASUREMENT]: the measurement for those set up for each.
enter() {
	case $1 in
	absent) return 0 ;;
	floor)
		if [ "$2" = flood ]; then
			insmod "$floor_ko" syn=1
		else
			insmod "$floor_ko"
		fi
		;;
	peer | peer-kfunc) peer_start "$1" "$2" ;;
	enabled) insmod "$ko" ;;
	disabled) insmod "$ko" enable=0 ;;
	empty) insmod "$ko" empty_handlers=1 ;;
	filtered) insmod "$ko" && echo "filter port 1" >/sys/kernel/debug/aqueue/control ;;
	profile) insmod "$ko" profile_handlers=1 ;;
	udp-profile) insmod "$ko" profile_handlers=1 udp_ports="$UDP_PORT" ;;
	udp-other) insmod "$ko" udp_ports="$UDP_OTHER_PORT" ;;
	udp-watched) insmod "$ko" udp_ports="$UDP_PORT" ;;
	udp-empty) insmod "$ko" empty_handlers=1 udp_ports="$UDP_PORT" ;;
	*) return 1 ;;
	esac
}

# applies MEASUREMENT CONFIG: whether the measurement runs in that
# configuration (the udp-* ones are for UDP only; UDP has no disabled or
# plain empty run, whose UDP probes would not be registered either;
# filtered is for the storms only).
applies() {
	case $1:$2 in
	udp:absent | udp:enabled | udp:udp-*) return 0 ;;
	udp:*) return 1 ;;
	storm:filtered | unix:filtered | storm:profile | unix:profile) return 0 ;;
	# The floor module and the peers hook TCP only.
	storm:floor | storm:peer | storm:peer-kfunc) return 0 ;;
	# The flood compares aqueue with the peers above their floor; empty
	# and profile split aqueue's share.
	flood:absent | flood:enabled | flood:empty | flood:floor | flood:peer | \
		flood:peer-kfunc | flood:profile) return 0 ;;
	flood:*) return 1 ;;
	*:floor | *:peer | *:peer-kfunc) return 1 ;;
	# The report reads the listeners' figures from absent and enabled
	# only; opening and closing 50,000 listeners is slow in every slot.
	listeners:disabled | listeners:empty) return 1 ;;
	*:udp-* | *:filtered | *:profile) return 1 ;;
	*) return 0 ;;
	esac
}

leave() {
	case $1 in
	absent) return 0 ;;
	floor) rmmod aqfloor ;;
	peer | peer-kfunc) peer_stop ;;
	*) rmmod aqueue ;;
	esac
}

# run MEASUREMENT CONFIG ROUND COMMAND...: one raw line, or an error.
run() {
	m=$1 cfg=$2 round=$3
	shift 3
	if out=$("$@" 2>/tmp/bench.err); then
		echo "$out" | while read -r line; do
			echo "raw $m $cfg $round $line"
		done
	else
		error "$m $cfg round $round: $* failed: $(tail -n 3 /tmp/bench.err | tr '\n' ' ')"
	fi
}

uptime_s() {
	cut -d' ' -f1 /proc/uptime
}

# measure MEASUREMENT CONFIG ROUND: its raw lines, or an error.
measure() {
	case $1 in
	storm)
		run storm "$2" "$3" /bench/aqbench storm \
			"$STORM_CLIENTS" "$STORM_ACCEPTORS" "$STORM_MS" 7001
		;;
	unix)
		run unix "$2" "$3" /bench/aqbench unix \
			"$STORM_CLIENTS" "$STORM_ACCEPTORS" "$UNIX_MS" "$UNIX_PATH"
		;;
	udp)
		run udp "$2" "$3" /bench/aqbench udp \
			"$UDP_MS" "$UDP_PORT" "$UDP_SIZE"
		;;
	flood)
		run flood "$2" "$3" /bench/aqbench flood \
			"$FLOOD_MS" "$FLOOD_PORT" "$FLOOD_BACKLOG"
		;;
	saturate)
		run saturate "$2" "$3" /bench/aqbench saturate \
			"$SAT_CLIENTS" "$SAT_BACKLOG" "$SAT_ACCEPT_US" \
			"$SAT_TIMEOUT_MS" "$SAT_MS" 7002
		;;
	acceptors)
		for n in $ACCEPTORS; do
			run "acceptors-$n" "$2" "$3" /bench/aqbench acceptors \
				"$n" "$STORM_CLIENTS" "$ACC_MS" 7003
		done
		;;
	listeners)
		# shellcheck disable=SC2086 # the listener counts, one argument each
		run listeners "$2" "$3" /bench/aqbench listeners \
			2000 $LISTENERS "$LISTENER_READS"
		;;
	esac
}

# slot CONFIG ROUND MEASUREMENT...: the configuration set up, the
# measurements run under it, taken down again.
slot() {
	cfg=$1 round=$2
	shift 2
	if ! enter "$cfg" "$1"; then
		error "$cfg round $round: cannot load the module or start the peer"
		return
	fi
	# Which probes are in place, and how (FTRACE: on the function's
	# fentry call; OPTIMIZED: a jump instead of int3), once a config
	# (once a measurement for those set up for each: CONFIG/MEASUREMENT).
	if [ "$round" = 1 ]; then
		label=$cfg
		! per_measurement "$cfg" || label=$cfg/$1
		sed "s|^|bench-kprobes $label |" /sys/kernel/debug/kprobes/list 2>/dev/null
	fi
	for m in "$@"; do
		measure "$m" "$cfg" "$round"
	done
	if ! leave "$cfg"; then
		error "$cfg round $round: rmmod failed, or the peer did not stop"
	fi
	case $cfg in
	peer | peer-kfunc) peer_report "$cfg" "$1" "$round" ;;
	floor) [ "$1" != storm ] || floor_report "$round" ;;
	esac
}

# Whether CONFIG's hooks depend on the measurement: the peers' scripts and
# the floor of their hooks are set up anew for each.
per_measurement() {
	case $1 in
	floor | peer | peer-kfunc) return 0 ;;
	*) return 1 ;;
	esac
}

# The flood's listener answers with SYN cookies, and its SYN-ACKs to the
# spoofed 127.77.0.0/16 must go nowhere. Within 127.0.0.0/8, a local
# route, each would come back, find no socket and draw a RST, and the RST
# would remove the SYN's request from the SYN queue: the queue never fills
# and no cookie is sent. A blackhole or unreachable route fails the route
# lookup in tcp_conn_request() before the cookie (a listen drop instead).
# A unicast route through lo, more specific than 127.0.0.0/8 in the local
# table, lets the SYN-ACK be sent; it is received as any packet on lo, but
# tcp_v4_send_reset() answers no socket-less packet whose route is not
# RTN_LOCAL, so it is dropped there, without a RST. Filtering it with tc
# instead would need iproute2's tc and the sch_prio, cls_u32 and act_gact
# modules, none of which the busybox guest has.
flood_setup() {
	echo 1 >/proc/sys/net/ipv4/tcp_syncookies &&
		ip route add "$FLOOD_NET" dev lo table local
}

# 50,000 listeners need as many descriptors; the threads need pids.
max_listeners=0
for n in $LISTENERS; do [ "$n" -gt "$max_listeners" ] && max_listeners=$n; done
echo $((max_listeners + 1024)) >/proc/sys/fs/nr_open
echo 1048576 >/proc/sys/fs/file-max
echo 65536 >/proc/sys/kernel/threads-max 2>/dev/null
echo 65536 >/proc/sys/kernel/pid_max 2>/dev/null
# shellcheck disable=SC3045 # the guest's sh is busybox's ash, which has them
{
	ulimit -n $((max_listeners + 512)) 2>/dev/null
	ulimit -u unlimited 2>/dev/null
	ulimit -s 8192
}

echo "bench-info kernel $(uname -r) cpus $(grep -c ^processor /proc/cpuinfo) rounds $ROUNDS configs $CONFIGS"
echo "bench-info measurements $MEASUREMENTS"
echo "bench-info storm clients $STORM_CLIENTS acceptors $STORM_ACCEPTORS ms $STORM_MS"
echo "bench-info unix clients $STORM_CLIENTS acceptors $STORM_ACCEPTORS ms $UNIX_MS path $UNIX_PATH"
echo "bench-info udp ms $UDP_MS size $UDP_SIZE port $UDP_PORT other_port $UDP_OTHER_PORT"
echo "bench-info saturate clients $SAT_CLIENTS backlog $SAT_BACKLOG accept_every_us $SAT_ACCEPT_US connect_timeout_ms $SAT_TIMEOUT_MS ms $SAT_MS"
echo "bench-info flood ms $FLOOD_MS backlog $FLOOD_BACKLOG port $FLOOD_PORT sources $FLOOD_NET"
echo "bench-info acceptors threads $ACCEPTORS ms $ACC_MS"
echo "bench-info listeners $LISTENERS reads $LISTENER_READS"
echo "bench-info clock $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"
case " $CONFIGS " in
*" peer "* | *" peer-kfunc "*) echo "bench-info peer $(bpftrace --version 2>&1) bpf_jit_enable $(cat /proc/sys/net/core/bpf_jit_enable 2>/dev/null) btf $([ -e /sys/kernel/btf/vmlinux ] && echo yes || echo no)" ;;
esac
# Where bookworm's bpftrace finds no BTF by itself (5.10), it has no
# kfunc either: the kfunc peer is left out of the run, said so, rather
# than failed in every round.
case " $CONFIGS " in
*" peer-kfunc "*)
	bpftrace_info=$(bpftrace --info 2>&1)
	if ! echo "$bpftrace_info" | grep -q 'kfunc: yes'; then
		echo "bench-info peer-kfunc left out: bpftrace $(echo "$bpftrace_info" | grep -E '^ *(btf|kfunc):' | tr -s ' \n' ' ')"
		CONFIGS=$(echo " $CONFIGS " | sed 's/ peer-kfunc / /; s/^ //; s/ $//')
	fi
	;;
esac
case " $MEASUREMENTS " in
*" flood "*) flood_setup || error "flood: cannot set tcp_syncookies or the route of $FLOOD_NET" ;;
esac

# One unrecorded storm first, so that round 1 starts from the same steady
# state (TIME_WAIT sockets, slab caches) as the others.
case " $MEASUREMENTS " in
*" storm "*) /bench/aqbench storm "$STORM_CLIENTS" "$STORM_ACCEPTORS" "$STORM_MS" 7001 >/dev/null ||
	error "warm-up storm failed" ;;
esac
case " $MEASUREMENTS " in
*" unix "*) /bench/aqbench unix "$STORM_CLIENTS" "$STORM_ACCEPTORS" "$UNIX_MS" $UNIX_PATH >/dev/null ||
	error "warm-up unix storm failed" ;;
esac
case " $MEASUREMENTS " in
*" udp "*) /bench/aqbench udp "$UDP_MS" $UDP_PORT "$UDP_SIZE" >/dev/null ||
	error "warm-up udp flood failed" ;;
esac
case " $MEASUREMENTS " in
*" flood "*) /bench/aqbench flood "$FLOOD_MS" $FLOOD_PORT "$FLOOD_BACKLOG" >/dev/null ||
	error "warm-up SYN flood failed" ;;
esac

round=1
while [ $round -le "$ROUNDS" ]; do
	for cfg in $CONFIGS; do
		todo=
		for m in $MEASUREMENTS; do
			applies "$m" "$cfg" && todo="$todo $m"
		done
		[ -n "$todo" ] || continue
		t0=$(uptime_s)
		if per_measurement "$cfg"; then
			for m in $todo; do
				slot "$cfg" "$round" "$m"
			done
		else
			# shellcheck disable=SC2086 # the measurements, one argument each
			slot "$cfg" "$round" $todo
		fi
		echo "bench-slot $cfg $round guest_s $(awk -v a="$t0" -v b="$(uptime_s)" 'BEGIN { printf "%.2f", b - a }')"
	done
	round=$((round + 1))
done

echo "bench-errors $errors"
[ $errors = 0 ]
