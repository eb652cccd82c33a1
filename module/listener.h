/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One tracked listening socket and the model of its accept queue.
 *
 * The accept queue is strictly FIFO (children join at the tail in
 * inet_csk_reqsk_queue_add() and accept() takes the head), so enqueue
 * timestamps kept in a ring match dequeues without a per-connection table.
 * The model is [untimed_head][ring][untimed_tail]: connections queued before
 * tracking began (or before a resync) have no timestamp and leave first;
 * those that arrived when the ring could not grow have none either and
 * leave last.
 */
#ifndef AQUEUE_LISTENER_H
#define AQUEUE_LISTENER_H

#include <linux/in6.h>
#include <linux/rhashtable-types.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "aqueue_format.h"

struct sock;
struct seq_file;
struct aq_syn;
struct aq_udp;

/* sizeof(((struct sockaddr_un *)0)->sun_path) */
#define AQ_UNIX_PATH_MAX 108

struct aq_listener {
	struct rhash_head node;
	/*
	 * The hash key. While sk_pinned, the entry holds a reference on the
	 * socket, so readers under RCU may read its counters: the kernel
	 * bumps sk_drops after the last probe of a refused final ACK has
	 * run, and only a read at read time sees it.
	 */
	struct sock *sk;
	bool sk_pinned;
	bool sk_ref;	/* a reference is held (dropped after unpinning) */
	/* watch.c's, under lock (with its live state below, in a hole). */
	u8 stalled:1;		/* a stall event was sent, no recovery yet */
	u8 drop_logged:1;
	u8 watched:1;		/* marked in the ids for the watch's pass */
	u32 id;
	union {
		struct rcu_head rcu;
		struct llist_node free_node;	/* after the grace period */
	};

	/* Identity, copied when tracking begins so readers never touch sk. */
	u32 netns;
	u16 family;
	u16 type;		/* SOCK_STREAM or SOCK_SEQPACKET */
	__be16 port;
	union {
		struct in6_addr addr;	/* IPv4 in the first four bytes */
		u8 path_len;		/* unix: of path[] below, 0: unbound */
	};
	pid_t pid;
	char comm[TASK_COMM_LEN];

	spinlock_t lock;	/* everything below */
	u32 backlog;
	u32 qlen;
	u32 qpeak;
	u32 untimed_head;
	u32 untimed_tail;
	u32 ring_head;
	u32 ring_count;
	u32 ring_cap;
	/*
	 * UDP: datagrams received before their enqueue's probe ran (another
	 * CPU may take one as soon as it is queued): that enqueue is then
	 * counted, not queued.
	 */
	u32 received_early;
	u64 *ring;
	u32 epoch;
	u32 drops_base;
	u64 drops;
	u64 drops_syn_acceptq;
	u64 drops_ack_acceptq;
	u64 waited;		/* unix: connects that slept on a full queue */
	u64 enqueued;
	u64 accepted;
	u64 untimed;
	u64 resynced;
	u64 start_ns;
	u64 qlen_since_ns;
	u64 qlen_area_ns;
	u64 wait_sum_ns;
	u64 wait_max_ns;
	u64 qlen_hist[AQUEUE_QLEN_BUCKETS];
	u64 wait_hist[AQUEUE_WAIT_BUCKETS];

	/* Live state (watch.c), under lock; not cleared by a reset. */
	u64 untimed_since_ns;	/* the untimed head was queued by then */
	u64 tail_since_ns;	/* the first of the untimed tail came */
	u64 last_accept_ns;	/* or when tracking began */
	u64 last_drop_ns;	/* or when tracking began */
	u64 burst_start_ns;
	u64 burst_drops;	/* 0: not in a burst of drops */
	u64 stall_start_ns;
	/*
	 * The parts only some sockets need, allocated at their first use
	 * (see aq_syn_get()), set under lock and freed with the entry.
	 */
	union {
		struct aq_syn *syn;	/* TCP: from the first SYN, or NULL */
		struct aq_udp *udp;	/* UDP: from the first datagram, or NULL */
	};
	/*
	 * Unix listeners only, whose entries come from a cache with room for
	 * AQ_UNIX_PATH_MAX bytes here. Abstract names start with a NUL.
	 */
	char path[];
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
	AQ_DROP_ACK_ACCEPTQ_FULL,
};

int aq_listeners_init(void);
void aq_listeners_exit(void);
void aq_listeners_clear(void);
/* Lets go of every socket (the probes are off): rows keep what they had. */
void aq_listeners_unpin(void);
void aq_listeners_reset(void);
bool aq_listener_exists(u32 id);
int aq_listener_reset_one(u32 id);
void aq_listeners_refilter(void);
/* Makes every listener re-read its queue length from the kernel. */
void aq_listeners_resync_all(void);

/* Called from the probes, with sk a live TCP socket. */
struct aq_listener *aq_listener_get(struct sock *sk, bool create);
/* As above, for a listener whose queue a child has just left. */
struct aq_listener *aq_listener_get_after_accept(struct sock *sk);
void aq_listener_listen(struct sock *sk);
void aq_listener_stop(struct sock *sk);
void aq_listener_syn(struct aq_listener *l, struct sock *sk);
/*
 * @synack_ns: when the handshake began (the first SYN-ACK, on the clock of
 * ktime_get_ns()), or 0 when unknown (syncookies, TFO, unix).
 */
void aq_listener_enqueue(struct aq_listener *l, struct sock *sk,
			 u64 synack_ns);
void aq_listener_dequeue(struct aq_listener *l, struct sock *sk);
void aq_listener_drops(struct aq_listener *l, struct sock *sk, u32 delta,
		       enum aq_drop_cause cause);
void aq_listener_syn_done(struct aq_listener *l,
			  const struct aq_syn_outcome *outcome);
void aq_listener_synack_retrans(struct aq_listener *l);
/*
 * A datagram arrived at a tracked UDP socket, which then held @seen_len
 * datagrams and @seen_bytes of receive memory; @err is what
 * __udp_enqueue_schedule_skb() returned (0: queued).
 */
void aq_listener_datagram(struct aq_listener *l, struct sock *sk,
			  u32 seen_len, u32 seen_bytes, int err);
/* The socket's process, for a UDP socket found by its first datagram. */
void aq_listener_claim(struct aq_listener *l);
/* Unix listeners: a connect refused with EAGAIN, or one that slept. */
void aq_listener_refused(struct aq_listener *l);
void aq_listener_waited(struct aq_listener *l);
/* The queue length the kernel reports for this kind of listener. */
u32 aq_kernel_qlen(const struct sock *sk);
/*
 * Whether @sk, a live socket, is one aqueue tracks: a TCP or unix
 * listener, or a bound UDP socket.
 */
bool aq_is_listener(const struct sock *sk);

/* For /proc/aqueue: iteration in id order under rcu_read_lock(). */
struct aq_listener *aq_listener_find(u32 *id);
void aq_listener_show_row(struct seq_file *m, struct aq_listener *l);
void aq_listener_show_detail(struct seq_file *m, struct aq_listener *l);
void aq_listeners_show_totals(struct seq_file *m);
void aq_listeners_show_limits(struct seq_file *m);

/* For the events: the listener's proto and local fields as printed. */
const char *aq_listener_proto(const struct aq_listener *l);
void aq_listener_local(const struct aq_listener *l, char *buf, size_t size);
/*
 * One look by the watch (events.h), in process context: at the listeners
 * that have a queue, a burst of drops or a stall, or with @sweep at all.
 */
void aq_listeners_watch(bool sweep);
/* The listener has a queue, a burst of drops or a stall; under l->lock. */
static inline bool aq_listener_busy(const struct aq_listener *l)
{
	return l->qlen || l->burst_drops || l->stalled;
}

/* Puts a busy listener on the watch's list; under l->lock. */
void aq_listener_watch_busy(struct aq_listener *l);

#endif /* AQUEUE_LISTENER_H */
