#!/usr/bin/env python3
# Writes the generated samples: many.txt (many listeners, several network
# namespaces, every proto) and watch-1/2/3.txt (three reads of the same
# listeners for -w). Run from tests/: python3 mksamples.py
H = "   id      netns proto local                       backlog   qnow  qpeak   enqueued   accepted    drops   p50_us   p99_us   max_us     pid comm\n"
def row(*f):
    return "%5s %10s %-5s %-27s %7s %6s %6s %10s %10s %8s %8s %8s %8s %7s %s\n" % f
def det(id, syn, obs, area, wsum, qlen, wait):
    return ("listener %d drops_syn_acceptq %d drops_ack_acceptq 0 drops_other 0 drained 0 untimed 0 resynced 0 observed_ns %d qlen_area_ns %d wait_sum_ns %d waited 0\n" % (id, syn, obs, area, wsum)
            + "listener %d qlen%s\n" % (id, "".join(" %d:%d" % p for p in qlen))
            + "listener %d wait_ns%s\n" % (id, "".join(" %d:%d" % p for p in wait)))

def many():
    rows, dets = [], []
    protos = ["tcp", "tcp6", "udp", "udp6", "unix"]
    for i in range(1, 201):
        netns = 4026531840 + (i % 4) * 1000
        proto = protos[i % 5]
        port = 10000 + i
        local = {"tcp": "10.1.%d.%d:%d" % (i // 250, i % 250, port), "udp": "10.1.%d.%d:%d" % (i // 250, i % 250, port),
                 "tcp6": "[2001:db8::%x]:%d" % (i, port), "udp6": "[2001:db8::%x]:%d" % (i, port),
                 "unix": "/run/app%d.sock" % i}[proto]
        backlog = 128
        qnow = i % 7 if i != 137 else 129      # listener 137 is the full one
        drops = i * 3 if i != 137 else 999999
        enq = i * 1000
        rows.append(row(i, netns, proto, local, backlog, qnow, max(qnow, 9), enq, enq - qnow, drops, 66, 525, 1832, 1000 + i, "worker %d" % i))
        dets.append(det(i, drops, 10**10, 10**9 * (i % 7), 250000 * (enq - qnow), [(0, enq // 2), (4, enq // 2)], [(32768, enq - qnow)]))
    return ("aqueue format 1\nstate enabled 1 tracked 200 max_listeners 65536 untracked_listens 2 untracked_events 5 filtered_events 0 memory_bytes 4096 max_memory_bytes 134217728 missed 1 resyncs 1\n"
            "closed listeners 0 enqueued 0 accepted 0 drained 0 drops 0\n" + H + "".join(rows) + "\n" + "".join(dets))

def watch(frame):
    # listener 1: +200 enqueued, +100 accepted, +20 drops per frame over 2 s of observed_ns,
    # waits in the interval: 99 at [1K,2K) ns and 1 at [1M,2M) ns -> p99 = 2.05 us (bucket edge 2048 ns)
    # frame 3: counters reset (aqstat ctl reset) -> rates since the reset
    obs = [10, 12, 1][frame - 1] * 10**9
    enq = [1000, 1200, 50][frame - 1]
    acc = [900, 1000, 40][frame - 1]
    drops = [50, 70, 1][frame - 1]
    w1k = [800, 899, 40][frame - 1]
    w1m = [100, 101, 0][frame - 1]
    s = ("aqueue format 1\nstate enabled 1 tracked 2 max_listeners 65536 untracked_listens 0 untracked_events 0 filtered_events 0 memory_bytes 4096 max_memory_bytes 134217728 missed %d resyncs 0\n" % [0, 3, 3][frame - 1]
         + "closed listeners 0 enqueued 0 accepted 0 drained 0 drops 0\n" + H)
    s += row(1, 4026531840, "tcp", "127.0.0.1:8080", 64, 65, 65, enq, acc, drops, 2, 2048, 1900, 42, "busy srv")
    s += row(2, 4026531840, "tcp", "127.0.0.1:9090", 64, 0, 1, 10, 10, 0, 2, 2, 2, 43, "idle")
    s += "\n" + det(1, drops, obs, obs * 60, 10**6, [(0, 5), (64, enq)], [(1024, w1k), (1048576, w1m)])
    s += det(2, 0, obs, 0, 15000, [(0, 10)], [(1024, 10)])
    return s

open("samples/many.txt", "w").write(many())
for f in (1, 2, 3):
    open("samples/watch-%d.txt" % f, "w").write(watch(f))
