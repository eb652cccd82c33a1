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

#include <linux/types.h>

struct aq_listener;
struct sock;

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
 * Under l->lock: the kernel's drop counter read at @now (0: read the
 * clock if there is a drop). Returns true if the caller is to log the
 * listener's first drop, after the unlock (see aq_event_log_drop()).
 */
bool aq_queue_drops_seen(struct aq_listener *l, u32 kernel_drops, u64 now);
/*
 * Under l->lock: the drops the listener has with the kernel's counter read
 * now, for a reader; changes nothing (the events and the periodic look
 * count them).
 */
u64 aq_queue_drops_now(const struct aq_listener *l, u32 kernel_drops);
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
/*
 * A UDP socket's reader took a datagram; the first names the socket's
 * process, for a socket found by its first datagram.
 */
void aq_queue_received(struct aq_listener *l, struct sock *sk);
/* Unix listeners: a connect refused with EAGAIN, or one that slept. */
void aq_queue_refused(struct aq_listener *l);
void aq_queue_waited(struct aq_listener *l);

/*
 * Under l->lock: the queue-length integral up to @now, in connection-
 * nanoseconds; U64_MAX once it no longer fits (52 days of a standing
 * queue of 4,096).
 */
u64 aq_queue_qlen_area(const struct aq_listener *l, u64 now);

#endif /* AQUEUE_QUEUE_H */
