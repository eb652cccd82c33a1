// SPDX-License-Identifier: GPL-2.0
/*
 * The model of each listener's queue; see queue.h. Everything here runs on
 * the probes' path under the listener's own lock, and formats nothing.
 */
#include <linux/atomic.h>
#include <linux/log2.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <net/sock.h>

#include "defer.h"
#include "events.h"
#include "pool.h"
#include "queue.h"
#include "saturate.h"
#include "sock.h"
#include "table.h"
#include "watch.h"

static atomic_long_t aq_resyncs;
/* Bumped to make every listener re-read its queue length from the kernel. */
static atomic_t aq_epoch;
/* Bumped to make every listener compare its queue length with the kernel's. */
static atomic_t aq_miss_epoch;

static unsigned int aq_qlen_bucket(u32 len)
{
	return min_t(unsigned int, fls(len), AQUEUE_QLEN_BUCKETS - 1);
}

static unsigned int aq_wait_bucket(u64 ns)
{
	if (ns < (1ULL << AQUEUE_WAIT_SHIFT))
		return 0;
	return min_t(unsigned int, fls64(ns) - AQUEUE_WAIT_SHIFT,
		     AQUEUE_WAIT_BUCKETS - 1);
}

/*
 * A part of a listener, allocated at its first use in the probe that needs
 * it, under l->lock. Without it (the memory limit, or no memory at once)
 * the event's share in it is lost, and counted with the events of the
 * listeners that have no row.
 */
static struct aq_syn *aq_syn_get(struct aq_listener *l)
{
	if (unlikely(!l->q.syn))
		l->q.syn = aq_part_get(AQ_OBJ_SYN);
	return l->q.syn;
}

static struct aq_udp *aq_udp_get(struct aq_listener *l)
{
	if (unlikely(!l->q.udp))
		l->q.udp = aq_part_get(AQ_OBJ_UDP);
	return l->q.udp;
}

static struct aq_syn_cpu __percpu *aq_syn_cpu(const struct aq_listener *l)
{
	/* Pairs with the release in aq_queue_add_syn_cpu(): seen zeroed. */
	return smp_load_acquire(&l->q.syn_cpu);
}

/* Under l->lock, from a TCP listener's SYN path: once. */
static void aq_syn_cpu_ask(struct aq_listener *l)
{
	if (l->q.syn_cpu_asked)
		return;
	l->q.syn_cpu_asked = true;
	aq_defer_ask(l, AQ_OP_SYN_CPU, false);
}

void aq_queue_add_syn_cpu(struct aq_listener *l)
{
	struct aq_syn_cpu __percpu *part;

	part = aq_percpu_part_alloc(sizeof(struct aq_syn_cpu));
	if (!part)
		return;
	/* Zeroed before any probe can see it; see aq_syn_cpu(). */
	smp_store_release(&l->q.syn_cpu, part);
}

void aq_queue_free(struct aq_listener *l)
{
	if (l->q.ring)
		aq_ring_free(l->q.ring, l->q.ring_cap);
	if (l->q.syn_cpu)
		aq_percpu_part_free(l->q.syn_cpu, sizeof(struct aq_syn_cpu));
	if (aq_is_udp(l)) {
		if (l->q.udp)
			aq_obj_free(AQ_OBJ_UDP, l->q.udp);
	} else if (l->q.syn) {
		aq_obj_free(AQ_OBJ_SYN, l->q.syn);
	}
}

void aq_queue_add_cpus(const struct aq_listener *l, u64 *qlen_hist,
		       struct aq_syn *syn)
{
	struct aq_syn_cpu __percpu *part = aq_syn_cpu(l);
	const struct aq_syn_cpu *c;
	unsigned int i;
	int cpu;

	if (!part)
		return;
	for_each_possible_cpu(cpu) {
		c = per_cpu_ptr(part, cpu);
		for (i = 0; i < AQUEUE_QLEN_BUCKETS; i++) {
			qlen_hist[i] += READ_ONCE(c->qlen_hist[i]);
			syn->synq_hist[i] += READ_ONCE(c->syn.synq_hist[i]);
		}
		for (i = 0; i < AQUEUE_WAIT_BUCKETS; i++)
			syn->handshake_hist[i] +=
				READ_ONCE(c->syn.handshake_hist[i]);
		syn->synq_full_drops += READ_ONCE(c->syn.synq_full_drops);
		syn->synq_full_cookies += READ_ONCE(c->syn.synq_full_cookies);
		syn->syn_cookies += READ_ONCE(c->syn.syn_cookies);
		syn->synack_retrans += READ_ONCE(c->syn.synack_retrans);
		syn->handshake_sum_ns += READ_ONCE(c->syn.handshake_sum_ns);
		syn->handshake_max_ns = max(syn->handshake_max_ns,
					    READ_ONCE(c->syn.handshake_max_ns));
	}
}

void aq_queue_init(struct aq_listener *l, struct sock *sk, u32 queued,
		   u64 now)
{
	l->q.backlog = aq_kernel_backlog(sk);
	l->q.qlen = aq_kernel_qlen(sk) + queued;
	l->q.untimed_head = l->q.qlen;
	l->q.enqueued = l->q.qlen;
	l->q.qpeak = l->q.qlen;
	l->q.drops_base = aq_sk_drops(sk);
	l->q.epoch = atomic_read(&aq_epoch);
	l->q.miss_epoch = atomic_read(&aq_miss_epoch);
	l->q.start_ns = now;
	l->q.qlen_since_ns = now;
	l->q.untimed_since_ns = now;
}

/*
 * Lets go of l->lock, and writes the kernel-log line of a first drop if
 * the model asked for one: the log is not written under the lock.
 */
static void aq_unlock_log_drop(struct aq_listener *l, unsigned long flags,
			       bool log)
	__releases(&l->lock)
{
	raw_spin_unlock_irqrestore(&l->lock, flags);
	if (unlikely(log))
		aq_event_log_drop(l);
}

u64 aq_queue_qlen_area(const struct aq_listener *l, u64 now)
{
	if (now <= l->q.qlen_since_ns)
		return l->q.qlen_area_ns;
	return aq_add_product_sat(l->q.qlen_area_ns, l->q.qlen,
				  now - l->q.qlen_since_ns);
}

/*
 * When the head of the queue was queued. A head without an enqueue time
 * (queued before tracking began or before a resync) was queued by the time
 * tracking (re)started: the age is then a lower bound. One that came when
 * the ring of times could not grow gets the time the first such
 * connection came.
 */
static u64 aq_hol_age(const struct aq_listener *l, u64 now)
{
	if (!l->q.qlen)
		return 0;
	if (l->q.untimed_head)
		return aq_sub_sat(now, l->q.untimed_since_ns);
	if (l->q.ring_count)
		return aq_sub_sat(now, aq_ring_since(l->q.ring[l->q.ring_head]));
	if (l->q.untimed_tail)
		return aq_sub_sat(now, l->q.tail_since_ns);
	return 0;
}

void aq_queue_now(const struct aq_listener *l, u64 now,
		  struct aq_queue_now *qn)
{
	qn->qlen = l->q.qlen;
	qn->hol_age_ns = aq_hol_age(l, now);
}

/*
 * The queue length becomes @qlen at @now, the queue-length integral
 * accumulated up to then. Under l->lock. A queue that grows is one the
 * look must visit (aq_watch_look_at()); it stays marked while the queue is
 * not empty, so a dequeue need not say so.
 */
static void aq_qlen_set(struct aq_listener *l, u32 qlen, u64 now)
{
	/*
	 * Events read the clock before they take the lock, so one may come
	 * with a time a little before the last one's: the integral then
	 * stays, and so does its start.
	 */
	l->q.qlen_area_ns = aq_queue_qlen_area(l, now);
	if (now > l->q.qlen_since_ns)
		l->q.qlen_since_ns = now;
	l->q.qlen = qlen;
	if (qlen > l->q.qpeak)
		l->q.qpeak = qlen;
}

/*
 * After a re-registration of the probes the model may be off: start again
 * from the kernel's own queue length, with no timestamps for what is
 * queued. After a missed probe hit it is off only if its length differs
 * from the kernel's: a miss on another listener leaves this one exact.
 * The counts move so that enqueued = accepted + qlen keeps holding.
 * @pending is what the kernel has already taken off its queue and the
 * caller is about to count (the child an accept() returns). @now is the
 * event's time, or 0 for the clock to be read if needed.
 */
static void __cold aq_resync(struct aq_listener *l, struct sock *sk,
			     u32 pending, u64 now, u32 epoch, u32 miss_epoch)
{
	u32 kernel_qlen = aq_kernel_qlen(sk) + pending;

	l->q.miss_epoch = miss_epoch;
	if (l->q.epoch == epoch && kernel_qlen == l->q.qlen)
		return;
	l->q.epoch = epoch;
	if (!now)
		now = ktime_get_ns();
	if (kernel_qlen > l->q.qlen) {
		l->q.enqueued += kernel_qlen - l->q.qlen;
		aq_watch_look_at(l);
	} else {
		l->q.accepted += l->q.qlen - kernel_qlen;
		l->q.untimed += l->q.qlen - kernel_qlen;
	}
	aq_qlen_set(l, kernel_qlen, now);
	l->q.untimed_head = kernel_qlen;
	l->q.untimed_since_ns = now;
	l->q.untimed_tail = 0;
	l->q.ring_head = 0;
	l->q.ring_count = 0;
	if (aq_is_udp(l)) {
		l->q.enqueued += l->q.received_early;
		l->q.received_early = 0;
	}
	l->q.resynced++;
	atomic_long_inc(&aq_resyncs);
}

static void aq_sync(struct aq_listener *l, struct sock *sk, u32 pending,
		    u64 now)
{
	u32 epoch = atomic_read(&aq_epoch);
	u32 miss_epoch = atomic_read(&aq_miss_epoch);

	if (unlikely(l->q.epoch != epoch || l->q.miss_epoch != miss_epoch))
		aq_resync(l, sk, pending, now, epoch, miss_epoch);
}

void aq_queue_sync(struct aq_listener *l, struct sock *sk, u64 now)
{
	aq_sync(l, sk, 0, now);
}

void aq_queue_resync_all(void)
{
	atomic_inc(&aq_epoch);
}

void aq_queue_check_all(void)
{
	atomic_inc(&aq_miss_epoch);
}

long aq_queue_resyncs(void)
{
	return atomic_long_read(&aq_resyncs);
}

void aq_queue_reset_resyncs(void)
{
	atomic_long_set(&aq_resyncs, 0);
}

u64 aq_queue_drops_now(const struct aq_listener *l,
		       const struct aq_sock_now *now)
{
	u32 seen;

	if (!now->read)
		return l->q.drops;
	seen = now->drops - l->q.drops_base;
	if ((s32)(seen - (u32)l->q.drops) > 0)
		return l->q.drops + (u32)(seen - (u32)l->q.drops);
	return l->q.drops;
}

/*
 * Drops are the kernel's own sk_drops counted from when tracking began.
 * Concurrent probes read it at different moments, so keep the largest
 * reading: the last reading after the last drop is exact. Under l->lock;
 * @now is the event's time, or 0 for the clock to be read if there is a
 * drop.
 */
static bool aq_drops_seen(struct aq_listener *l, u32 kernel_drops, u64 now)
{
	struct aq_sock_now read = { .read = true, .drops = kernel_drops };
	u64 drops = aq_queue_drops_now(l, &read);
	bool log = false;

	if (drops > l->q.drops) {
		log = aq_watch_dropped(l, drops - l->q.drops,
				       now ?: ktime_get_ns());
		l->q.drops = drops;
	}
	return log;
}

bool aq_queue_catch_up(struct aq_listener *l, u32 kernel_drops, u32 backlog)
{
	l->q.backlog = backlog;
	return aq_drops_seen(l, kernel_drops, 0);
}

u32 aq_queue_room(const struct aq_listener *l)
{
	u64 holds = (u64)READ_ONCE(l->q.backlog) + 1;
	u32 qlen = READ_ONCE(l->q.qlen);

	return holds > qlen ? min_t(u64, holds - qlen, U32_MAX) : 0;
}

void aq_queue_set_backlog(struct aq_listener *l, u32 backlog)
{
	l->q.backlog = backlog;
}

/*
 * Whether a SYN finds the model as the last event left it: no resync due,
 * the same backlog, no drop since. Read without the lock: a reading that
 * races with a change sends the SYN the locked way, which looks again.
 */
static bool aq_request_changes_nothing(const struct aq_listener *l,
				       struct sock *sk, u32 kernel_drops)
{
	u32 seen = kernel_drops - READ_ONCE(l->q.drops_base);

	return READ_ONCE(l->q.epoch) == atomic_read(&aq_epoch) &&
	       READ_ONCE(l->q.miss_epoch) == atomic_read(&aq_miss_epoch) &&
	       READ_ONCE(l->q.backlog) == aq_kernel_backlog(sk) &&
	       (s32)(seen - (u32)READ_ONCE(l->q.drops)) <= 0;
}

/*
 * The probes' handlers run with preemption off and none of these in a
 * hard interrupt, so this CPU's part is theirs alone while they run.
 */
static void aq_handshake_count(struct aq_syn *syn, u64 handshake_ns)
{
	syn->handshake_hist[aq_wait_bucket(handshake_ns)]++;
	syn->handshake_sum_ns += handshake_ns;
	if (handshake_ns > syn->handshake_max_ns)
		syn->handshake_max_ns = handshake_ns;
}

void aq_queue_request(struct aq_listener *l, struct sock *sk)
{
	struct aq_syn_cpu __percpu *part = aq_syn_cpu(l);
	u32 qlen_bucket = aq_qlen_bucket(aq_kernel_qlen(sk));
	u32 kernel_drops = aq_sk_drops(sk);
	u32 synq_len = l->family == AF_UNIX ? 0 : aq_kernel_synq_len(sk);
	struct aq_syn *syn;
	unsigned long flags;
	bool log = false;

	if (part && aq_request_changes_nothing(l, sk, kernel_drops)) {
		this_cpu_inc(part->qlen_hist[qlen_bucket]);
		this_cpu_inc(part->syn.synq_hist[aq_qlen_bucket(synq_len)]);
		return;
	}
	/* A SYN changes no queue: the clock is read only for a drop. */
	raw_spin_lock_irqsave(&l->lock, flags);
	aq_sync(l, sk, 0, 0);
	l->q.backlog = aq_kernel_backlog(sk);
	/* Unix listeners count their refused connects instead. */
	if (l->family == AF_UNIX) {
		l->q.qlen_hist[qlen_bucket]++;
	} else if (part) {
		log = aq_drops_seen(l, kernel_drops, 0);
		this_cpu_inc(part->qlen_hist[qlen_bucket]);
		this_cpu_inc(part->syn.synq_hist[aq_qlen_bucket(synq_len)]);
	} else {
		log = aq_drops_seen(l, kernel_drops, 0);
		l->q.qlen_hist[qlen_bucket]++;
		syn = aq_syn_get(l);
		if (syn)
			syn->synq_hist[aq_qlen_bucket(synq_len)]++;
		aq_syn_cpu_ask(l);
	}
	aq_unlock_log_drop(l, flags, log);
}

void aq_queue_syn_done(struct aq_listener *l,
		       const struct aq_syn_outcome *outcome)
{
	struct aq_syn_cpu __percpu *part = aq_syn_cpu(l);
	struct aq_syn *syn;
	unsigned long flags;

	if (part) {
		this_cpu_add(part->syn.synq_full_drops,
			     outcome->synq_full_drops);
		this_cpu_add(part->syn.synq_full_cookies,
			     outcome->synq_full_cookies);
		this_cpu_add(part->syn.syn_cookies, outcome->syn_cookies);
		return;
	}
	raw_spin_lock_irqsave(&l->lock, flags);
	syn = aq_syn_get(l);
	if (syn) {
		syn->synq_full_drops += outcome->synq_full_drops;
		syn->synq_full_cookies += outcome->synq_full_cookies;
		syn->syn_cookies += outcome->syn_cookies;
	}
	raw_spin_unlock_irqrestore(&l->lock, flags);
}

void aq_queue_synack_retrans(struct aq_listener *l)
{
	struct aq_syn_cpu __percpu *part = aq_syn_cpu(l);
	struct aq_syn *syn;
	unsigned long flags;

	if (part) {
		this_cpu_inc(part->syn.synack_retrans);
		return;
	}
	raw_spin_lock_irqsave(&l->lock, flags);
	syn = aq_syn_get(l);
	if (syn)
		syn->synack_retrans++;
	raw_spin_unlock_irqrestore(&l->lock, flags);
}

/* Under l->lock: the times queued move to @ring, in order. */
static u64 *aq_ring_move(struct aq_listener *l, u64 *ring, u32 cap)
{
	u64 *old = l->q.ring;
	u32 i;

	for (i = 0; i < l->q.ring_count; i++)
		ring[i] = old[(l->q.ring_head + i) & (l->q.ring_cap - 1)];
	l->q.ring = ring;
	l->q.ring_cap = cap;
	l->q.ring_head = 0;
	return old;
}

/*
 * PREEMPT_RT, under l->lock: the capacity the ring should have before the
 * next burst, grown outside the probes. An accept queue holds at most
 * backlog + 1 (more only with what reuseport hands over), so a ring of
 * that size leaves nothing untimed; a UDP socket's backlog is bytes, and
 * its ring grows by doubling ahead of its queue.
 */
static u32 aq_ring_wanted(const struct aq_listener *l)
{
	u32 want = max(l->q.ring_cap, AQ_RING_MIN);

	if (l->q.ring_count >= l->q.ring_cap - l->q.ring_cap / 4)
		want = max(want, l->q.ring_cap * 2);
	if (!aq_is_udp(l) && l->q.backlog < AQ_RING_MAX)
		want = max(want, roundup_pow_of_two(l->q.backlog + 1));
	return min(want, AQ_RING_MAX);
}

/*
 * Under l->lock, from a probe: true if the ring has room for one more
 * time, grown if need be. On PREEMPT_RT, where a probe cannot allocate,
 * it is grown ahead from process context, and a burst that fills it
 * before then leaves untimed.
 */
static bool aq_ring_room(struct aq_listener *l)
{
	u32 old_cap = l->q.ring_cap, cap;
	u64 *ring;

	if (AQ_COMPAT_PREEMPT_RT) {
		if (!l->q.ring) {
			l->q.ring = aq_ring_alloc(AQ_RING_MIN, 0);
			if (l->q.ring)
				l->q.ring_cap = AQ_RING_MIN;
		}
		if (!(l->ops_pending & AQ_OP_GROW_RING) && !l->unlinked &&
		    l->id && aq_ring_wanted(l) > l->q.ring_cap)
			aq_defer_ask(l, AQ_OP_GROW_RING, false);
		return l->q.ring_count < l->q.ring_cap;
	}
	if (l->q.ring_count < l->q.ring_cap)
		return true;
	cap = old_cap ? old_cap * 2 : AQ_RING_MIN;
	if (cap > AQ_RING_MAX)
		return false;
	ring = aq_ring_alloc(cap, GFP_ATOMIC | __GFP_NOWARN);
	if (!ring)
		return false;
	ring = aq_ring_move(l, ring, cap);
	if (ring)
		aq_ring_free(ring, old_cap);
	return true;
}

void aq_queue_grow_ring(struct aq_listener *l)
{
	u32 cap, old_cap;
	unsigned long flags;
	u64 *ring;

	raw_spin_lock_irqsave(&l->lock, flags);
	old_cap = l->q.ring_cap;
	cap = aq_ring_wanted(l);
	raw_spin_unlock_irqrestore(&l->lock, flags);
	if (cap <= old_cap)
		return;

	ring = aq_ring_alloc(cap, GFP_KERNEL | __GFP_NOWARN);
	if (!ring)
		return;
	raw_spin_lock_irqsave(&l->lock, flags);
	if (l->q.ring_cap == old_cap) {
		ring = aq_ring_move(l, ring, cap);
		swap(cap, old_cap);
	}
	raw_spin_unlock_irqrestore(&l->lock, flags);
	if (ring)
		aq_ring_free(ring, cap);
}

/*
 * One more in the queue, queued at @since (an AQ_RING_UNTIMED entry for
 * one that leaves untimed), kept if the ring has room. Under l->lock.
 */
static void aq_enqueue_locked(struct aq_listener *l, u64 since, u64 now)
{
	aq_watch_look_at(l);
	aq_qlen_set(l, l->q.qlen + 1, now);
	l->q.enqueued++;
	if (!l->q.untimed_tail && aq_ring_room(l)) {
		l->q.ring[(l->q.ring_head + l->q.ring_count) & (l->q.ring_cap - 1)] =
			since;
		l->q.ring_count++;
	} else {
		if (!l->q.untimed_tail)
			l->q.tail_since_ns = aq_ring_since(since);
		l->q.untimed_tail++;
	}
}

/*
 * The head of the queue leaves: returns when it was queued (see
 * AQ_RING_UNTIMED), or AQ_RING_UNTIMED | 0 if the model held nothing. The
 * caller counts it. Under l->lock.
 */
static u64 aq_dequeue_locked(struct aq_listener *l, u64 now)
{
	u64 since;

	if (!l->q.qlen)
		return AQ_RING_UNTIMED;
	aq_qlen_set(l, l->q.qlen - 1, now);
	if (l->q.untimed_head) {
		l->q.untimed_head--;
		return AQ_RING_UNTIMED | l->q.untimed_since_ns;
	}
	if (l->q.ring_count) {
		since = l->q.ring[l->q.ring_head];
		l->q.ring_head = (l->q.ring_head + 1) & (l->q.ring_cap - 1);
		l->q.ring_count--;
		return since;
	}
	l->q.untimed_tail--;
	return AQ_RING_UNTIMED | l->q.tail_since_ns;
}

void aq_queue_enqueue(struct aq_listener *l, struct sock *sk,
		      u64 synack_ns)
{
	struct aq_syn_cpu __percpu *part = aq_syn_cpu(l);
	u64 now = ktime_get_ns(), handshake_ns = 0;
	struct aq_syn *syn;
	unsigned long flags;

	/* Below the first bucket's edge but still a handshake. */
	if (synack_ns && now >= synack_ns)
		handshake_ns = max_t(u64, now - synack_ns, 1);
	if (handshake_ns && part)
		aq_handshake_count(&this_cpu_ptr(part)->syn, handshake_ns);

	raw_spin_lock_irqsave(&l->lock, flags);
	aq_sync(l, sk, 0, now);
	if (handshake_ns && !part) {
		syn = aq_syn_get(l);
		if (syn)
			aq_handshake_count(syn, handshake_ns);
	}
	aq_enqueue_locked(l, now, now);
	raw_spin_unlock_irqrestore(&l->lock, flags);
}

void aq_queue_datagram(struct aq_listener *l, struct sock *sk,
		       u32 seen_len, u32 seen_bytes, int err)
{
	u32 kernel_drops = aq_sk_drops(sk);
	struct aq_udp *udp;
	unsigned long flags;
	bool log;
	u64 now;

	raw_spin_lock_irqsave(&l->lock, flags);
	now = ktime_get_ns();
	aq_sync(l, sk, 0, now);
	l->q.backlog = aq_kernel_backlog(sk);
	l->q.qlen_hist[aq_qlen_bucket(seen_len)]++;
	udp = aq_udp_get(l);
	if (udp)
		udp->qbytes_hist[aq_qlen_bucket(seen_bytes)]++;
	if (!err) {
		if (l->q.received_early) {
			l->q.received_early--;
			l->q.enqueued++;
		} else {
			aq_enqueue_locked(l, now, now);
		}
	} else if (err == -ENOMEM && udp) {
		/* The receive buffer was full; -ENOBUFS is memory pressure. */
		udp->drops_rcvbuf++;
	}
	log = aq_drops_seen(l, kernel_drops, now);
	aq_unlock_log_drop(l, flags, log);
}

/* What leaves a queue that the model holds empty. Under l->lock. */
static void __cold aq_dequeue_unseen(struct aq_listener *l)
{
	l->q.accepted++;
	l->q.untimed++;
	if (aq_is_udp(l))
		l->q.received_early++;
	else
		/* An enqueue was missed: count the pair untimed. */
		l->q.enqueued++;
}

void aq_queue_dequeue(struct aq_listener *l, struct sock *sk)
{
	u64 now = ktime_get_ns(), since, wait;
	unsigned long flags;

	raw_spin_lock_irqsave(&l->lock, flags);
	/* The kernel has already taken the one counted here. */
	aq_sync(l, sk, 1, now);
	if (!l->q.qlen) {
		aq_dequeue_unseen(l);
		goto out;
	}
	since = aq_dequeue_locked(l, now);
	l->q.accepted++;
	if (since & AQ_RING_UNTIMED) {
		l->q.untimed++;
	} else {
		wait = aq_sub_sat(now, since);
		l->q.wait_hist[aq_wait_bucket(wait)]++;
		l->q.wait_sum_ns += wait;
		if (wait > l->q.wait_max_ns)
			l->q.wait_max_ns = wait;
	}
out:
	aq_watch_accepted(l, now);
	raw_spin_unlock_irqrestore(&l->lock, flags);
}

void aq_queue_migrate(struct aq_listener *from, struct sock *from_sk,
		      struct aq_listener *to, struct sock *to_sk)
{
	u64 now = ktime_get_ns(), since = AQ_RING_UNTIMED;
	unsigned long flags;

	if (from) {
		raw_spin_lock_irqsave(&from->lock, flags);
		/* The kernel took it off the queue before choosing @to_sk. */
		aq_sync(from, from_sk, 1, now);
		if (!from->q.qlen)
			/* An enqueue was missed: count it, untimed. */
			from->q.enqueued++;
		since = aq_dequeue_locked(from, now);
		from->q.migrated_out++;
		raw_spin_unlock_irqrestore(&from->lock, flags);
	}
	if (!to)
		return;
	if (since == AQ_RING_UNTIMED)
		since |= now;
	raw_spin_lock_irqsave(&to->lock, flags);
	/* The kernel queues it at the tail right after the probe. */
	aq_sync(to, to_sk, 0, now);
	aq_enqueue_locked(to, since, now);
	to->q.migrated_in++;
	raw_spin_unlock_irqrestore(&to->lock, flags);
}

/* A probed call that may have dropped has returned. */
void aq_queue_drops(struct aq_listener *l, struct sock *sk, u32 delta,
		    enum aq_drop_cause cause)
{
	u32 kernel_drops = aq_sk_drops(sk);
	unsigned long flags;
	bool log;

	raw_spin_lock_irqsave(&l->lock, flags);
	log = aq_drops_seen(l, kernel_drops, 0);
	if (delta) {
		if (cause == AQ_DROP_SYN_ACCEPTQ_FULL)
			l->q.drops_syn_acceptq++;
	}
	aq_unlock_log_drop(l, flags, log);
}

void aq_queue_ack_overflow(struct aq_listener *l, struct sock *sk)
{
	unsigned long flags;
	bool log;

	raw_spin_lock_irqsave(&l->lock, flags);
	/* sk_drops as it is about to be: the kernel's count catches up. */
	log = aq_drops_seen(l, aq_sk_drops(sk) + 1, 0);
	l->q.drops_ack_acceptq++;
	aq_unlock_log_drop(l, flags, log);
}

void aq_queue_refused(struct aq_listener *l)
{
	unsigned long flags;
	bool log;

	raw_spin_lock_irqsave(&l->lock, flags);
	log = aq_watch_dropped(l, 1, ktime_get_ns());
	l->q.drops++;
	aq_unlock_log_drop(l, flags, log);
}

void aq_queue_waited(struct aq_listener *l)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&l->lock, flags);
	l->q.waited++;
	raw_spin_unlock_irqrestore(&l->lock, flags);
}

/* Racing SYNs on other CPUs may keep a count or lose it, as at a reset. */
static void aq_syn_cpu_reset(struct aq_listener *l)
{
	struct aq_syn_cpu __percpu *part = aq_syn_cpu(l);
	int cpu;

	if (!part)
		return;
	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(part, cpu), 0, sizeof(struct aq_syn_cpu));
}

void aq_queue_reset(struct aq_listener *l)
{
	unsigned long flags;
	u64 now;

	raw_spin_lock_irqsave(&l->lock, flags);
	now = ktime_get_ns();
	l->q.drops_base += (u32)l->q.drops;
	l->q.drops = 0;
	l->q.drops_syn_acceptq = 0;
	l->q.drops_ack_acceptq = 0;
	l->q.waited = 0;
	l->q.enqueued = l->q.qlen;
	l->q.accepted = 0;
	l->q.migrated_in = 0;
	l->q.migrated_out = 0;
	l->q.qpeak = l->q.qlen;
	l->q.untimed = 0;
	l->q.resynced = 0;
	l->q.start_ns = now;
	l->q.qlen_since_ns = now;
	l->q.qlen_area_ns = 0;
	l->q.wait_sum_ns = 0;
	l->q.wait_max_ns = 0;
	memset(l->q.qlen_hist, 0, sizeof(l->q.qlen_hist));
	memset(l->q.wait_hist, 0, sizeof(l->q.wait_hist));
	/* The parts stay, zeroed: what is held stays held. */
	if (aq_is_udp(l)) {
		if (l->q.udp)
			memset(l->q.udp, 0, sizeof(*l->q.udp));
	} else if (l->q.syn) {
		memset(l->q.syn, 0, sizeof(*l->q.syn));
	}
	raw_spin_unlock_irqrestore(&l->lock, flags);
	aq_syn_cpu_reset(l);
}
