/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The model of a listener's queue, kept from the probes' events.
 *
 * The accept queue is strictly FIFO (children join at the tail in
 * inet_csk_reqsk_queue_add() and accept() takes the head), so enqueue
 * timestamps kept in a ring match dequeues without a per-connection table.
 * The model is [untimed_head][ring][untimed_tail]: connections queued before
 * tracking began (or before a resync) have no timestamp and leave first;
 * those that arrived when the ring could not grow have none either and
 * leave last.
 *
 * Each function takes the listener's lock itself, except where said.
 */
#ifndef AQUEUE_QUEUE_H
#define AQUEUE_QUEUE_H

#include <linux/bits.h>
#include <linux/types.h>

#include "aqueue_format.h"

struct aq_listener;
struct aq_sock_now;
struct sock;

/*
 * TCP: the SYN queue (request sockets waiting for the final ACK) and the
 * handshake, SYN to final ACK. Allocated at a listener's first SYN: an idle
 * listener, and every unix one, goes without.
 */
struct aq_syn {
	u64 synq_full_drops;	/* TCPReqQFullDrop */
	u64 synq_full_cookies;	/* TCPReqQFullDoCookies */
	u64 syn_cookies;	/* SyncookiesSent */
	u64 synack_retrans;
	u64 handshake_sum_ns;
	u64 handshake_max_ns;
	u64 synq_hist[AQUEUE_QLEN_BUCKETS];
	u64 handshake_hist[AQUEUE_WAIT_BUCKETS];
};

/*
 * TCP, once process context has allocated it (AQ_OP_SYN_CPU) after a
 * listener's first SYN: what SYNs and handshakes add, kept per CPU so that
 * a SYN writes no cache line another CPU writes. Readers add the CPUs' to
 * the listener's own, which hold what came before.
 */
struct aq_syn_cpu {
	u64 qlen_hist[AQUEUE_QLEN_BUCKETS];	/* the accept queue, per SYN */
	struct aq_syn syn;
};

/*
 * UDP: the receive queue in bytes (the queue holds datagrams, and the
 * backlog field holds sk_rcvbuf). Allocated at a socket's first datagram.
 */
struct aq_udp {
	u64 drops_rcvbuf;	/* UdpRcvbufErrors */
	u64 qbytes_hist[AQUEUE_QLEN_BUCKETS];
};

/*
 * A listener's ring of enqueue times is allocated at its first enqueue
 * and doubles as its queue grows, up to AQ_RING_MAX.
 */
#define AQ_RING_MIN	8U
#define AQ_RING_MAX	65536U

/*
 * An entry of a listener's ring is the time its connection joined the
 * queue or, with this bit set, a time by which it had: a connection that
 * reuseport handed over from a queue where it had no time. It leaves
 * untimed.
 */
#define AQ_RING_UNTIMED BIT_ULL(63)

static inline u64 aq_ring_since(u64 entry)
{
	return entry & ~AQ_RING_UNTIMED;
}

/*
 * The model of a listener's queue; the listener's lock guards it, but for
 * the per-CPU SYN part. Only queue.c writes it.
 */
struct aq_queue {
	u32 backlog;
	u32 qlen;
	u32 qpeak;
	u32 untimed_head;
	u32 untimed_tail;
	u32 ring_head;
	u32 ring_count;
	u32 ring_cap;	/* a power of two; see AQ_RING_UNTIMED */
	/*
	 * UDP: datagrams received before their enqueue's probe ran (another
	 * CPU may take one as soon as it is queued): that enqueue is then
	 * counted, not queued.
	 */
	u32 received_early;
	u64 *ring;
	u32 epoch;
	u32 miss_epoch;
	u32 drops_base;
	u64 drops;
	u64 drops_syn_acceptq;
	u64 drops_ack_acceptq;
	u64 waited;		/* unix: connects that slept on a full queue */
	u64 enqueued;
	u64 accepted;
	/* Handed over by reuseport when a member of the group closed. */
	u64 migrated_in;
	u64 migrated_out;
	u64 untimed;
	u64 resynced;
	u64 start_ns;
	u64 qlen_since_ns;
	u64 qlen_area_ns;
	u64 wait_sum_ns;
	u64 wait_max_ns;
	u64 untimed_since_ns;	/* the untimed head was queued by then */
	u64 tail_since_ns;	/* the first of the untimed tail came */
	u64 qlen_hist[AQUEUE_QLEN_BUCKETS];
	u64 wait_hist[AQUEUE_WAIT_BUCKETS];
	/*
	 * The parts only some sockets need, allocated at their first use
	 * (see aq_syn_get()) and freed with the entry.
	 */
	union {
		struct aq_syn *syn;	/* TCP: from the first SYN, or NULL */
		struct aq_udp *udp;	/* UDP: from the first datagram, or NULL */
	};
	/* Set once, in process context; read with aq_syn_cpu(). */
	struct aq_syn_cpu __percpu *syn_cpu;
	bool syn_cpu_asked;
};

/* What one SYN did to the netns counters, read on its own CPU. */
struct aq_syn_outcome {
	u32 synq_full_drops;
	u32 synq_full_cookies;
	u32 syn_cookies;
};

/* Why a listen drop happened, as far as the probe could tell. */
enum aq_drop_cause {
	AQ_DROP_OTHER,
	AQ_DROP_SYN_ACCEPTQ_FULL,
};

/*
 * The model of a new entry, before it is in the table: @queued is what the
 * kernel holds beyond sk_ack_backlog right now (a child accept() just
 * took).
 */
void aq_queue_init(struct aq_listener *l, struct sock *sk, u32 queued,
		   u64 now);
/*
 * PREEMPT_RT, in process context: the ring the probes asked for
 * (AQ_OP_GROW_RING), big enough for the next burst.
 */
void aq_queue_grow_ring(struct aq_listener *l);
/* In process context: the per-CPU SYN part the first SYN asked for. */
void aq_queue_add_syn_cpu(struct aq_listener *l);
/* Frees the parts and the ring, with the entry. */
void aq_queue_free(struct aq_listener *l);
/*
 * Under RCU, for a reader: adds the per-CPU SYN part, if any, to what it
 * copied of the listener's own under l->lock.
 */
void aq_queue_add_cpus(const struct aq_listener *l, u64 *qlen_hist,
		       struct aq_syn *syn);
/* Makes every listener re-read its queue length from the kernel. */
void aq_queue_resync_all(void);
/*
 * After a missed probe hit: every listener compares its queue length with
 * the kernel's at its next event, and re-reads it if they differ.
 */
void aq_queue_check_all(void);
/* Under l->lock: catches up with a resync asked for since the last event. */
void aq_queue_sync(struct aq_listener *l, struct sock *sk, u64 now);
/*
 * Under l->lock: the socket's drop counter and backlog, read by the
 * periodic look. Returns true if the caller is to log the listener's first
 * drop, after the unlock (see aq_event_log_drop()).
 */
bool aq_queue_catch_up(struct aq_listener *l, u32 kernel_drops, u32 backlog);
/* Under l->lock: listen() (again) set the backlog. */
void aq_queue_set_backlog(struct aq_listener *l, u32 backlog);
/*
 * Under l->lock: the drops the listener has with the kernel's counter as
 * @now read it, or the model's own if @now read nothing; for a reader,
 * changing nothing (the events and the periodic look count them).
 */
u64 aq_queue_drops_now(const struct aq_listener *l,
		       const struct aq_sock_now *now);
/*
 * Without l->lock, as its last event left it: how many more connections
 * the accept queue of a TCP listener takes (it holds backlog + 1).
 */
u32 aq_queue_room(const struct aq_listener *l);
/* Zeroes what was counted; what is queued now stays queued and timed. */
void aq_queue_reset(struct aq_listener *l);
/* Resyncs done since the last reset, over all listeners. */
long aq_queue_resyncs(void);
void aq_queue_reset_resyncs(void);

/* From the probes, with sk the listener's live socket. */
/* A connection request reached the listener: a SYN, or a unix connect. */
void aq_queue_request(struct aq_listener *l, struct sock *sk);
/*
 * @synack_ns: when the handshake began (the first SYN-ACK, on the clock of
 * ktime_get_ns()), or 0 when unknown (syncookies, TFO, unix).
 */
void aq_queue_enqueue(struct aq_listener *l, struct sock *sk,
		      u64 synack_ns);
void aq_queue_dequeue(struct aq_listener *l, struct sock *sk);
/*
 * inet_csk_listen_stop() of @from_sk took the head of its queue and
 * reuseport chose @to_sk to queue it: the connection moves, with its
 * enqueue time, from @from to @to (either NULL where not tracked).
 */
void aq_queue_migrate(struct aq_listener *from, struct sock *from_sk,
		      struct aq_listener *to, struct sock *to_sk);
void aq_queue_drops(struct aq_listener *l, struct sock *sk, u32 delta,
		    enum aq_drop_cause cause);
/*
 * A final ACK found the accept queue full, which the kernel is about to
 * drop (counted before its sk_drops moves).
 */
void aq_queue_ack_overflow(struct aq_listener *l, struct sock *sk);
void aq_queue_syn_done(struct aq_listener *l,
		       const struct aq_syn_outcome *outcome);
void aq_queue_synack_retrans(struct aq_listener *l);
/*
 * A datagram arrived at a tracked UDP socket, which then held @seen_len
 * datagrams and @seen_bytes of receive memory; @err is what
 * __udp_enqueue_schedule_skb() returned (0: queued).
 */
void aq_queue_datagram(struct aq_listener *l, struct sock *sk,
		       u32 seen_len, u32 seen_bytes, int err);
/* Unix listeners: a connect refused with EAGAIN, or one that slept. */
void aq_queue_refused(struct aq_listener *l);
void aq_queue_waited(struct aq_listener *l);

/* What the watch judges a listener's queue by, at one moment. */
struct aq_queue_now {
	u32 qlen;
	/*
	 * How long the head has waited; 0 when empty. A head without an
	 * enqueue time counts from when tracking (re)started: a lower bound.
	 */
	u64 hol_age_ns;
};

/* Under l->lock. */
void aq_queue_now(const struct aq_listener *l, u64 now,
		  struct aq_queue_now *qn);

/*
 * Under l->lock: the queue-length integral up to @now, in connection-
 * nanoseconds; U64_MAX once it no longer fits (52 days of a standing
 * queue of 4,096).
 */
u64 aq_queue_qlen_area(const struct aq_listener *l, u64 now);

#endif /* AQUEUE_QUEUE_H */
