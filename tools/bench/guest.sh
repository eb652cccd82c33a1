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
CONFIGS=${BENCH_CONFIGS:-absent enabled disabled empty filtered udp-other udp-watched udp-empty}
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
MEASUREMENTS=${BENCH_MEASUREMENTS:-storm unix udp saturate acceptors listeners}

ko=/lib/modules/$(uname -r)/extra/aqueue.ko
errors=0

error() {
	echo "bench-error $*"
	errors=$((errors + 1))
}

enter() {
	case $1 in
	absent) return 0 ;;
	enabled) insmod "$ko" ;;
	disabled) insmod "$ko" enable=0 ;;
	empty) insmod "$ko" empty_handlers=1 ;;
	filtered) insmod "$ko" && echo "filter port 1" >/sys/kernel/debug/aqueue/control ;;
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
	storm:filtered | unix:filtered) return 0 ;;
	# The report reads the listeners' figures from absent and enabled
	# only; opening and closing 50,000 listeners costs ~10 s a slot.
	listeners:disabled | listeners:empty) return 1 ;;
	*:udp-* | *:filtered) return 1 ;;
	*) return 0 ;;
	esac
}

leave() {
	[ "$1" = absent ] || rmmod aqueue
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
echo "bench-info acceptors threads $ACCEPTORS ms $ACC_MS"
echo "bench-info listeners $LISTENERS reads $LISTENER_READS"
echo "bench-info clock $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"

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

round=1
while [ $round -le "$ROUNDS" ]; do
	for cfg in $CONFIGS; do
		todo=
		for m in $MEASUREMENTS; do
			applies "$m" "$cfg" && todo="$todo $m"
		done
		[ -n "$todo" ] || continue
		t0=$(uptime_s)
		if ! enter "$cfg"; then
			error "$cfg round $round: cannot load the module"
			continue
		fi
		# Which probes are in place, and how (FTRACE: on the function's
		# fentry call; OPTIMIZED: a jump instead of int3), once a config.
		if [ "$round" = 1 ]; then
			sed "s/^/bench-kprobes $cfg /" /sys/kernel/debug/kprobes/list 2>/dev/null
		fi
		for m in $todo; do
			case $m in
			storm)
				run storm "$cfg" "$round" /bench/aqbench storm \
					"$STORM_CLIENTS" "$STORM_ACCEPTORS" "$STORM_MS" 7001
				;;
			unix)
				run unix "$cfg" "$round" /bench/aqbench unix \
					"$STORM_CLIENTS" "$STORM_ACCEPTORS" "$UNIX_MS" "$UNIX_PATH"
				;;
			udp)
				run udp "$cfg" "$round" /bench/aqbench udp \
					"$UDP_MS" "$UDP_PORT" "$UDP_SIZE"
				;;
			saturate)
				run saturate "$cfg" "$round" /bench/aqbench saturate \
					"$SAT_CLIENTS" "$SAT_BACKLOG" "$SAT_ACCEPT_US" \
					"$SAT_TIMEOUT_MS" "$SAT_MS" 7002
				;;
			acceptors)
				for n in $ACCEPTORS; do
					run "acceptors-$n" "$cfg" "$round" /bench/aqbench acceptors \
						"$n" "$STORM_CLIENTS" "$ACC_MS" 7003
				done
				;;
			listeners)
				# shellcheck disable=SC2086 # the listener counts, one argument each
				run listeners "$cfg" "$round" /bench/aqbench listeners \
					2000 $LISTENERS "$LISTENER_READS"
				;;
			esac
		done
		if [ "$cfg" != absent ] && ! leave "$cfg"; then
			error "$cfg round $round: rmmod failed"
		fi
		echo "bench-slot $cfg $round guest_s $(awk -v a="$t0" -v b="$(uptime_s)" 'BEGIN { printf "%.2f", b - a }')"
	done
	round=$((round + 1))
done

echo "bench-errors $errors"
[ $errors = 0 ]
