#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""mkscale.py N [FILE]: a synthetic /proc/aqueue (format 3) with N
listeners in the shape of the samples and of a busy host: mostly TCP
(IPv4 and IPv6, every detail line with SYN-queue and handshake
histograms), some unix listeners with long paths, some watched UDP
sockets, four network namespaces. Deterministic: the same N gives the
same text. Written to FILE, or to standard output."""

import sys

HEADER = ("   id      netns proto local                       backlog   qnow  qpeak"
          "   enqueued   accepted    drops   p50_us   p99_us   max_us     pid comm\n")
PROTOS = ["tcp", "tcp", "tcp6", "tcp", "tcp6", "unix", "tcp", "udp"]


def listener(i):
    proto = PROTOS[i % len(PROTOS)]
    netns = 4026531840 + (i % 4) * 1000
    port = 1024 + i % 64000
    local = {
        "tcp": "10.%d.%d.%d:%d" % (i >> 16 & 255, i >> 8 & 255, i & 255, port),
        "tcp6": "[2001:db8::%x:%x]:%d" % (i >> 16, i & 0xffff, port),
        "udp": "10.%d.%d.%d:%d" % (i >> 16 & 255, i >> 8 & 255, i & 255, port),
        "unix": "/var/lib/kubelet/pods/%08x-%04x/volumes/kubernetes.io~csi/app.sock" % (i, i & 0xffff),
    }[proto]
    backlog = 212992 if proto == "udp" else 4096
    qnow = (i * 7) % 13
    enq = 1000 + i * 37 % 100000
    acc = enq - qnow
    drops = (i * 11) % 5 if i % 9 == 0 else 0
    row = "%5d %10d %-5s %-27s %7d %6d %6d %10d %10d %8d %8s %8s %8s %7d %s\n" % (
        i, netns, proto, local, backlog, qnow, qnow + 3, enq, acc, drops,
        66, 263, 1832, 1000 + i % 30000, "worker %d" % (i % 50))
    det = ("listener %d drops_syn_acceptq %d drops_ack_acceptq 0 drops_other 0 drained 0"
           " migrated_in 0 migrated_out 0 untimed 0 resynced 0 observed_ns 86400000000000"
           " qlen_area_ns %d wait_sum_ns %d waited 0 hol_age_ns 0 since_accept_ns 1830000"
           " since_drop_ns 86400000000000 stalled 0 overflowing 0\n"
           % (i, drops, 912345678 * (qnow + 1), 145000 * acc))
    det += "listener %d qlen 0:%d 1:30 2:4 4:%d\n" % (i, enq - 34 - qnow, qnow)
    det += ("listener %d wait_ns 16384:%d 32768:%d 65536:%d 131072:200 262144:30 524288:3 1048576:1\n"
            % (i, acc // 2, acc // 4, acc - acc // 2 - acc // 4 - 234))
    if proto.startswith("tcp"):
        det += ("listener %d syn synq_now 0 synq_full_drops 0 synq_full_cookies 0 syn_cookies 0"
                " synack_retrans 0 handshake_sum_ns %d handshake_max_ns 912000\n" % (i, 104000 * enq))
        det += "listener %d synq 0:%d 1:4\n" % (i, enq - 4)
        det += "listener %d handshake_ns 32768:%d 65536:%d 131072:4\n" % (i, enq // 2, enq - enq // 2 - 4)
    elif proto == "udp":
        det += "listener %d udp rmem_now %d drops_rcvbuf 0\n" % (i, qnow * 768)
        det += "listener %d qbytes 0:%d 512:60 1024:40\n" % (i, enq - 100)
    return row, det


def text(n):
    rows, dets = [], []
    for i in range(1, n + 1):
        r, d = listener(i)
        rows.append(r)
        dets.append(d)
    return ("aqueue format 3\n"
            "state enabled 1 tracked %d max_listeners 65536 untracked_listens 0 untracked_events 0"
            " filtered_events 0 memory_bytes %d max_memory_bytes 134217728 missed 0 resyncs 0\n"
            "closed listeners 0 enqueued 0 accepted 0 drained 0 migrated 0 drops 0\n" % (n, 1200 * n)
            + HEADER + "".join(rows) + "\n" + "".join(dets))


def main():
    if len(sys.argv) not in (2, 3) or not sys.argv[1].isdigit():
        sys.exit("usage: mkscale.py N [FILE]")
    out = text(int(sys.argv[1]))
    if len(sys.argv) == 3:
        with open(sys.argv[2], "w") as f:
            f.write(out)
    else:
        sys.stdout.write(out)


if __name__ == "__main__":
    main()
