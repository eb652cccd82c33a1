#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The aqueue demo, run as /demo/demo.sh inside the guest that
# "tools/vmtest/run --demo" boots: load the module, flood a server that
# never accepts and then one that accepts slowly with more clients than
# their backlog holds, and show what /proc/aqueue says after each; then
# follow the event stream while a server is stopped and resumed; last,
# what Prometheus gets of the first server, beside the kernel's own counts
# of the same moment (tools/prom/scrape-check reads that part).
# Everything happens on 127.0.0.1 inside the guest.

set -eu
cd "$(dirname "$0")"

children=
cleanup() {
	# shellcheck disable=SC2086 # a list of pids, split on purpose
	[ -z "$children" ] || kill $children 2>/dev/null || true
}
trap cleanup EXIT

# The namespace's listen drops as the kernel counts them.
listen_drops() {
	awk '/^TcpExt:/ && !names { for (i = 2; i <= NF; i++) name[i] = $i; names = 1; next }
	     /^TcpExt:/ { for (i = 2; i <= NF; i++)
			if (name[i] ~ /^Listen(Overflows|Drops)$/) { printf "%s%s %s", sep, name[i], $i; sep = " " } }
	     END { print "" }' /proc/net/netstat
}

# The kernel's own view, to compare with aqueue's.
show() {
	port=$1
	echo "\$ cat /proc/aqueue"
	cat /proc/aqueue
	echo
	echo "\$ aqstat -H -P $port    # the same, sorted by saturation, histograms drawn"
	aqstat -H -P "$port"
	echo
	echo "\$ netstat -ltn    # a listener's Recv-Q is its accept queue now"
	netstat -ltn | grep -E "^Proto|:$port "
	echo "$(listen_drops)  (TcpExt, all listeners so far)"
	echo
}

# PORT's accept queue as the kernel shows it (/proc/net/tcp: a listener's
# rx_queue is sk_ack_backlog, netstat's Recv-Q) and the listen drops, on one
# line.
kernel_counts() {
	queues=$(awk -v port=":$(printf '%04X' "$1")" \
		'$4 == "0A" && substr($2, length($2) - 4) == port { print $5 }' /proc/net/tcp)
	echo "port $1 accept_queue $((0x${queues#*:})) $(listen_drops)"
}

# aqstat --prometheus between two readings of kernel_counts that agree, so
# that all three describe one moment. The clients must be gone: their
# retried SYNs would add drops.
snapshot_for_prometheus() {
	port=$1 tries=0
	while :; do
		before=$(kernel_counts "$port")
		aqstat --prometheus -P "$port" >/tmp/aqueue.prom
		after=$(kernel_counts "$port")
		netstat -ltn | grep -E "^Proto|:$port " >/tmp/netstat.txt
		tries=$((tries + 1))
		if [ "$before" = "$after" ] || [ "$tries" -ge 10 ]; then
			break
		fi
		sleep 1
	done
	printf 'aqueue-kernel-before: %s\n' "$before" >/tmp/kernel-before.txt
	printf 'aqueue-kernel-after: %s\n' "$after" >/tmp/kernel-after.txt
}

insmod "/lib/modules/$(uname -r)/extra/aqueue.ko"
echo "aqueue $(cat /sys/module/aqueue/version 2>/dev/null || echo '?') loaded on $(uname -r)"
echo

echo "== 1. A server that never accepts: listen(fd, 4) on 127.0.0.1:8001, 10 clients"
server=$(./backlog listen 8001 4)
children="$server"
clients=$(./backlog connect 8001 10 500)
children="$children $clients"
show 8001
kill "$clients"
children="$server"
sleep 1
snapshot_for_prometheus 8001
kill "$server"
children=

echo "== 2. A server that accepts one connection every 50 ms: listen(fd, 4) on 127.0.0.1:8002, 12 clients at once"
server=$(./backlog listen 8002 4 50)
children="$server"
clients=$(./backlog connect 8002 12 5000)
children="$children $clients"
# The last clients got in with a retried SYN: let the server catch up.
sleep 1
show 8002
kill "$server" "$clients"
children=

echo "== 3. A server stopped (SIGSTOP) while clients keep coming, then resumed, followed by 'aqstat events'"
aqstat events -P 8003 >/tmp/events.txt 2>&1 &
follower=$!
children="$follower"
# Let it open the stream before the server listens, to see the "open".
sleep 1
server=$(./backlog listen 8003 4 20)
children="$children $server"
clients=$(./backlog connect 8003 2 500)
children="$children $clients"
kill -STOP "$server"
more=$(./backlog connect 8003 8 500)
children="$children $more"
sleep 2
kill -CONT "$server"
sleep 3
kill "$clients" "$more" "$server"
sleep 1
kill "$follower"
children=
echo "\$ aqstat events -P 8003    # from before the server started, until it was killed"
cat /tmp/events.txt
echo

echo "== 4. What Prometheus gets: 'aqstat --prometheus -P 8001' while the server of part 1 still held its queue, its clients gone"
echo "\$ netstat -ltn"
cat /tmp/netstat.txt
cat /tmp/kernel-before.txt
echo "-----BEGIN AQSTAT PROMETHEUS-----"
cat /tmp/aqueue.prom
echo "-----END AQSTAT PROMETHEUS-----"
cat /tmp/kernel-after.txt
echo

rmmod aqueue
echo "aqueue unloaded; its kernel messages:"
dmesg | grep 'aqueue:' || true
