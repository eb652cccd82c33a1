// SPDX-License-Identifier: GPL-2.0
/*
 * The table of tracked listeners and the accept-queue model of each.
 *
 * Probes find a listener by socket pointer in an rhashtable; /proc/aqueue
 * walks an xarray indexed by the listener's id, so that a read resumed by
 * seq_file continues in O(log n) from where it stopped. Both are read under
 * RCU; an entry is freed only after a grace period, and readers never touch
 * the socket: what they print was copied into the entry.
 */
#include <linux/atomic.h>
#include <linux/llist.h>
#include <linux/log2.h>
#include <linux/rhashtable.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <net/inet_connection_sock.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/af_unix.h>
#include <net/sock.h>
#include <net/udp.h>

#include "aqueue.h"
#include "events.h"
#include "filter.h"
#include "listener.h"

/* The ring of enqueue times grows on demand up to this many entries. */
#define AQ_RING_MIN	8U
#define AQ_RING_MAX	65536U

/* The longest local field: a unix name of octal escapes. */
#define AQ_LOCAL_LEN	(1 + 4 * AQ_UNIX_PATH_MAX + 1)

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
 * UDP: the receive queue in bytes (the queue holds datagrams, and the
 * backlog field holds sk_rcvbuf). Allocated at a socket's first datagram.
 */
struct aq_udp {
	u64 drops_rcvbuf;	/* UdpRcvbufErrors */
	u64 qbytes_hist[AQUEUE_QLEN_BUCKETS];
};

/* What a listener without its part shows. */
static const struct aq_syn aq_syn_none;
static const struct aq_udp aq_udp_none;

/*
 * Entries and their parts come from caches of their own: from kmalloc()
 * they would be rounded up to the next power of two.
 */
static struct kmem_cache *aq_listener_cache;
static struct kmem_cache *aq_unix_listener_cache;
static struct kmem_cache *aq_syn_cache;
static struct kmem_cache *aq_udp_cache;

static const struct rhashtable_params aq_table_params = {
	.key_len = sizeof(const struct sock *),
	.key_offset = offsetof(struct aq_listener, sk),
	.head_offset = offsetof(struct aq_listener, node),
	.automatic_shrinking = true,
};

static struct rhashtable aq_table;
/* Taken from softirq and process context alike, hence the irq-safe lock. */
static DEFINE_XARRAY_FLAGS(aq_ids, XA_FLAGS_ALLOC1 | XA_FLAGS_LOCK_IRQ);
static u32 aq_next_id;
/*
 * The listeners the watch looks at every period: those with a queue (it
 * may stall), a burst of drops (it has to end) or a stall (it has to
 * recover). Idle ones are only swept now and then, so that thousands of
 * idle listeners cost the watch next to nothing. XA_MARK_0 is the
 * allocator's.
 */
#define AQ_WATCH_MARK XA_MARK_1

static atomic_t aq_tracked;
static atomic_long_t aq_untracked_listens;
/* Events of untracked listeners, or that a part could not be had for. */
static atomic_long_t aq_untracked_events;
static atomic_long_t aq_filtered_events;
/* Bytes of entries, their parts and rings, held against aq_max_memory. */
static atomic_long_t aq_memory;
static atomic_long_t aq_resyncs;
/* Bumped to make every listener re-read its queue length from the kernel. */
static atomic_t aq_epoch;

/* What the rows of closed listeners said when they went away. */
static DEFINE_SPINLOCK(aq_closed_lock);
static struct {
	u64 listeners;
	u64 enqueued;
	u64 accepted;
	u64 drained;
	u64 drops;
} aq_closed;

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

static u64 aq_wait_bucket_low(unsigned int i)
{
	return i ? 1ULL << (i + AQUEUE_WAIT_SHIFT - 1) : 0;
}

static bool aq_memory_charge(size_t bytes)
{
	if (atomic_long_add_return(bytes, &aq_memory) >
	    (long)READ_ONCE(aq_max_memory)) {
		atomic_long_sub(bytes, &aq_memory);
		return false;
	}
	return true;
}

static void aq_memory_uncharge(size_t bytes)
{
	atomic_long_sub(bytes, &aq_memory);
}

/* An object from one of the caches, charged at the size it takes there. */
static void *aq_cache_alloc(struct kmem_cache *cache)
{
	size_t size = kmem_cache_size(cache);
	void *obj;

	if (!aq_memory_charge(size))
		return NULL;
	obj = kmem_cache_zalloc(cache, GFP_ATOMIC | __GFP_NOWARN);
	if (!obj)
		aq_memory_uncharge(size);
	return obj;
}

static void aq_cache_free(struct kmem_cache *cache, void *obj)
{
	aq_memory_uncharge(kmem_cache_size(cache));
	kmem_cache_free(cache, obj);
}

static struct kmem_cache *aq_listener_cache_of(u16 family)
{
	return family == AF_UNIX ? aq_unix_listener_cache : aq_listener_cache;
}

static void aq_listener_free(struct aq_listener *l)
{
	aq_memory_uncharge(l->ring_cap * sizeof(*l->ring));
	if (l->sk_ref)
		sock_put(l->sk);
	kfree(l->ring);
	if (l->type == SOCK_DGRAM) {
		if (l->udp)
			aq_cache_free(aq_udp_cache, l->udp);
	} else if (l->syn) {
		aq_cache_free(aq_syn_cache, l->syn);
	}
	aq_cache_free(aq_listener_cache_of(l->family), l);
}

/*
 * A unix socket must not be destroyed from softirq, where RCU callbacks
 * run: its destructor purges the receive queue with the lock that
 * unix_stream_connect() takes with bottom halves on (lockdep: inconsistent
 * SOFTIRQ-ON-W -> IN-SOFTIRQ-W). Entries that may hold the last reference
 * to one are freed from a work item instead.
 */
static LLIST_HEAD(aq_unix_frees);

static void aq_unix_free_work(struct work_struct *work)
{
	struct llist_node *list = llist_del_all(&aq_unix_frees);
	struct aq_listener *l, *next;

	llist_for_each_entry_safe(l, next, list, free_node)
		aq_listener_free(l);
}

static DECLARE_WORK(aq_unix_free, aq_unix_free_work);

static void aq_listener_free_rcu(struct rcu_head *rcu)
{
	struct aq_listener *l = container_of(rcu, struct aq_listener, rcu);

	if (l->sk_ref && l->family == AF_UNIX) {
		llist_add(&l->free_node, &aq_unix_frees);
		schedule_work(&aq_unix_free);
		return;
	}
	aq_listener_free(l);
}

/*
 * A part of a listener, allocated at its first use in the probe that needs
 * it, under l->lock. Without it (the memory limit, or no memory at once)
 * the event's share in it is lost, and counted with the events of the
 * listeners that have no row.
 */
static struct aq_syn *aq_syn_get(struct aq_listener *l)
{
	if (unlikely(!l->syn)) {
		l->syn = aq_cache_alloc(aq_syn_cache);
		if (!l->syn)
			atomic_long_inc(&aq_untracked_events);
	}
	return l->syn;
}

static struct aq_udp *aq_udp_get(struct aq_listener *l)
{
	if (unlikely(!l->udp)) {
		l->udp = aq_cache_alloc(aq_udp_cache);
		if (!l->udp)
			atomic_long_inc(&aq_untracked_events);
	}
	return l->udp;
}

/* Returns true if this call removed the listener (and so must retire it). */
static bool aq_listener_unlink(struct aq_listener *l)
{
	unsigned long flags;

	if (rhashtable_remove_fast(&aq_table, &l->node, aq_table_params))
		return false;
	xa_lock_irqsave(&aq_ids, flags);
	__xa_erase(&aq_ids, l->id);
	xa_unlock_irqrestore(&aq_ids, flags);
	atomic_dec(&aq_tracked);
	call_rcu(&l->rcu, aq_listener_free_rcu);
	return true;
}

static bool aq_sk_is_udp(const struct sock *sk)
{
	return sk->sk_protocol == IPPROTO_UDP && sk->sk_type == SOCK_DGRAM &&
	       (sk->sk_family == AF_INET || sk->sk_family == AF_INET6);
}

static bool aq_is_udp(const struct aq_listener *l)
{
	return l->type == SOCK_DGRAM;
}

bool aq_is_listener(const struct sock *sk)
{
	/* A UDP socket is in its table from bind() to close(). */
	if (aq_sk_is_udp(sk))
		return !sk_unhashed(sk);
	if (READ_ONCE(sk->sk_state) != TCP_LISTEN)
		return false;
	if (sk->sk_family == AF_UNIX)
		return sk->sk_type == SOCK_STREAM ||
		       sk->sk_type == SOCK_SEQPACKET;
	return sk->sk_protocol == IPPROTO_TCP &&
	       (sk->sk_family == AF_INET || sk->sk_family == AF_INET6);
}

u32 aq_kernel_qlen(const struct sock *sk)
{
	/* A unix listener queues its embryos as skbs, without sk_ack_backlog. */
	if (sk->sk_family == AF_UNIX)
		return skb_queue_len_lockless(&sk->sk_receive_queue);
	/* recvmsg() moves a UDP socket's queue to a second one, in batches. */
	if (aq_sk_is_udp(sk))
		return skb_queue_len_lockless(&sk->sk_receive_queue) +
		       skb_queue_len_lockless(&udp_sk(sk)->reader_queue);
	return READ_ONCE(sk->sk_ack_backlog);
}

/* What the backlog column holds: the receive buffer for UDP. */
static u32 aq_kernel_backlog(const struct sock *sk)
{
	if (aq_sk_is_udp(sk))
		return READ_ONCE(sk->sk_rcvbuf);
	return READ_ONCE(sk->sk_max_ack_backlog);
}

static enum aq_kind aq_kind_of(u16 family, u16 type)
{
	if (family == AF_UNIX)
		return AQ_KIND_UNIX;
	return type == SOCK_DGRAM ? AQ_KIND_UDP : AQ_KIND_TCP;
}

static u16 aq_port_of(const struct sock *sk)
{
	return sk->sk_family == AF_UNIX ? 0 : inet_sk(sk)->inet_num;
}

/* The bound name; a listening unix socket always has one. */
static void aq_copy_unix_path(struct aq_listener *l, const struct sock *sk)
{
	/* Pairs with the release store that publishes it in unix_bind(). */
	const struct unix_address *addr = smp_load_acquire(&unix_sk(sk)->addr);
	int len;

	if (!addr)
		return;
	len = addr->len - (int)offsetof(struct sockaddr_un, sun_path);
	len = clamp(len, 0, AQ_UNIX_PATH_MAX);
	memcpy(l->path, addr->name->sun_path, len);
	/* A filesystem name may carry its terminating NUL in len. */
	if (len && l->path[0])
		len = strnlen(l->path, len);
	l->path_len = len;
}

static void aq_copy_identity(struct aq_listener *l, const struct sock *sk)
{
	l->netns = sock_net(sk)->ns.inum;
	l->family = sk->sk_family;
	l->type = sk->sk_type;
	if (sk->sk_family == AF_UNIX) {
		aq_copy_unix_path(l, sk);
		return;
	}
	l->port = htons(inet_sk(sk)->inet_num);
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6) {
		l->addr = sk->sk_v6_rcv_saddr;
		return;
	}
#endif
	l->addr.s6_addr32[0] = inet_sk(sk)->inet_rcv_saddr;
}

/*
 * Creates the entry for a listener seen for the first time, which is either
 * a listen() call or the first queue event of a socket that was already
 * listening when aqueue was loaded. @queued is what the kernel holds beyond
 * sk_ack_backlog right now (a child accept() just took).
 */
static struct aq_listener *aq_listener_create(struct sock *sk, u32 queued,
					      bool from_listen)
{
	struct aq_listener *l, *old;
	unsigned long flags;
	int err;

	if (!aq_filter_match(sock_net(sk)->ns.inum, sk->sk_family,
			     aq_port_of(sk),
			     aq_kind_of(sk->sk_family, sk->sk_type))) {
		atomic_long_inc(&aq_filtered_events);
		return NULL;
	}
	if (atomic_read(&aq_tracked) >= READ_ONCE(aq_max_listeners))
		goto untracked;
	l = aq_cache_alloc(aq_listener_cache_of(sk->sk_family));
	if (!l)
		goto untracked;

	/*
	 * Listeners and UDP sockets are found under RCU without a reference:
	 * one being closed on another CPU may already have dropped its last.
	 */
	if (!refcount_inc_not_zero(&sk->sk_refcnt)) {
		aq_cache_free(aq_listener_cache_of(sk->sk_family), l);
		return NULL;
	}
	l->sk = sk;
	l->sk_ref = true;
	l->sk_pinned = true;
	spin_lock_init(&l->lock);
	aq_copy_identity(l, sk);
	l->comm[0] = '-';
	l->backlog = aq_kernel_backlog(sk);
	l->qlen = aq_kernel_qlen(sk) + queued;
	l->untimed_head = l->qlen;
	l->enqueued = l->qlen;
	l->qpeak = l->qlen;
	l->drops_base = aq_sk_drops(sk);
	l->epoch = atomic_read(&aq_epoch);
	l->start_ns = ktime_get_ns();
	l->qlen_since_ns = l->start_ns;
	aq_watch_init(l, l->start_ns);

	old = rhashtable_lookup_get_insert_fast(&aq_table, &l->node,
						aq_table_params);
	if (old) {
		sock_put(sk);
		aq_cache_free(aq_listener_cache_of(sk->sk_family), l);
		return IS_ERR(old) ? NULL : old;
	}

	xa_lock_irqsave(&aq_ids, flags);
	err = __xa_alloc_cyclic(&aq_ids, &l->id, l, xa_limit_32b,
				&aq_next_id, GFP_ATOMIC | __GFP_NOWARN);
	xa_unlock_irqrestore(&aq_ids, flags);
	if (err < 0) {
		if (!rhashtable_remove_fast(&aq_table, &l->node,
					    aq_table_params))
			call_rcu(&l->rcu, aq_listener_free_rcu);
		goto untracked;
	}
	atomic_inc(&aq_tracked);
	/* Probes may have filled its queue before it had an id to mark. */
	spin_lock_irqsave(&l->lock, flags);
	if (aq_listener_busy(l))
		aq_listener_watch_busy(l);
	spin_unlock_irqrestore(&l->lock, flags);

	/*
	 * A socket that stopped listening after the caller looked at it may
	 * already have passed inet_csk_listen_stop(), which found nothing to
	 * remove; the state is set before that call, so checking it after the
	 * insertion catches the race.
	 */
	smp_mb();
	if (!aq_is_listener(sk)) {
		aq_listener_unlink(l);
		return NULL;
	}
	return l;

untracked:
	if (from_listen)
		atomic_long_inc(&aq_untracked_listens);
	else
		atomic_long_inc(&aq_untracked_events);
	return NULL;
}

struct aq_listener *aq_listener_get(struct sock *sk, bool create)
{
	struct aq_listener *l;

	l = rhashtable_lookup_fast(&aq_table, &sk, aq_table_params);
	if (l || !create)
		return l;
	return aq_listener_create(sk, 0, false);
}

struct aq_listener *aq_listener_get_after_accept(struct sock *sk)
{
	struct aq_listener *l;

	l = rhashtable_lookup_fast(&aq_table, &sk, aq_table_params);
	if (l)
		return l;
	return aq_listener_create(sk, 1, false);
}

/* Accumulates the queue-length integral up to @now; under l->lock. */
static void aq_qlen_advance(struct aq_listener *l, u64 now)
{
	if (now > l->qlen_since_ns)
		l->qlen_area_ns += (u64)l->qlen * (now - l->qlen_since_ns);
	l->qlen_since_ns = now;
}

static void aq_qlen_set(struct aq_listener *l, u32 qlen, u64 now)
{
	aq_qlen_advance(l, now);
	l->qlen = qlen;
	if (qlen > l->qpeak)
		l->qpeak = qlen;
	if (qlen && !l->watched)
		aq_listener_watch_busy(l);
}

/*
 * The id is set under the ids' lock when the entry is stored there: before
 * that, or after the entry left, there is nothing to mark, and the next
 * event tries again.
 */
void aq_listener_watch_busy(struct aq_listener *l)
{
	unsigned long flags;

	xa_lock_irqsave(&aq_ids, flags);
	if (l->id) {
		__xa_set_mark(&aq_ids, l->id, AQ_WATCH_MARK);
		l->watched = true;
	}
	xa_unlock_irqrestore(&aq_ids, flags);
}

/*
 * After the watch's look at @l: marked while busy, unmarked once idle.
 * Under l->lock.
 */
static void aq_listener_watch_sync(struct aq_listener *l)
{
	unsigned long flags;

	if (aq_listener_busy(l)) {
		if (!l->watched)
			aq_listener_watch_busy(l);
		return;
	}
	if (!l->watched)
		return;
	l->watched = false;
	xa_lock_irqsave(&aq_ids, flags);
	__xa_clear_mark(&aq_ids, l->id, AQ_WATCH_MARK);
	xa_unlock_irqrestore(&aq_ids, flags);
}

/*
 * After a missed probe hit or a re-enable the model may be off: start again
 * from the kernel's own queue length, with no timestamps for what is queued.
 * The counts move so that enqueued = accepted + qlen keeps holding.
 */
static void aq_sync(struct aq_listener *l, struct sock *sk, u64 now)
{
	u32 epoch = atomic_read(&aq_epoch);
	u32 kernel_qlen;

	if (likely(l->epoch == epoch))
		return;
	l->epoch = epoch;
	kernel_qlen = aq_kernel_qlen(sk);
	if (kernel_qlen > l->qlen) {
		l->enqueued += kernel_qlen - l->qlen;
	} else {
		l->accepted += l->qlen - kernel_qlen;
		l->untimed += l->qlen - kernel_qlen;
	}
	aq_qlen_set(l, kernel_qlen, now);
	l->untimed_head = kernel_qlen;
	l->untimed_since_ns = now;
	l->untimed_tail = 0;
	l->ring_head = 0;
	l->ring_count = 0;
	if (aq_is_udp(l)) {
		l->enqueued += l->received_early;
		l->received_early = 0;
	}
	l->resynced++;
	atomic_long_inc(&aq_resyncs);
}

void aq_listeners_resync_all(void)
{
	atomic_inc(&aq_epoch);
}

static bool aq_ring_grow(struct aq_listener *l)
{
	u32 cap = l->ring_cap ? l->ring_cap * 2 : AQ_RING_MIN;
	u64 *ring;
	u32 i;

	if (cap > AQ_RING_MAX ||
	    !aq_memory_charge((cap - l->ring_cap) * sizeof(*ring)))
		return false;
	ring = kmalloc_array(cap, sizeof(*ring), GFP_ATOMIC | __GFP_NOWARN);
	if (!ring) {
		aq_memory_uncharge((cap - l->ring_cap) * sizeof(*ring));
		return false;
	}
	for (i = 0; i < l->ring_count; i++)
		ring[i] = l->ring[(l->ring_head + i) & (l->ring_cap - 1)];
	kfree(l->ring);
	l->ring = ring;
	l->ring_cap = cap;
	l->ring_head = 0;
	return true;
}

void aq_listener_listen(struct sock *sk)
{
	char comm[TASK_COMM_LEN];
	struct aq_listener *l;
	unsigned long flags;
	bool created = false;

	/*
	 * get_task_comm() takes the task's alloc_lock, which is softirq-unsafe:
	 * never under l->lock, which the SYN path takes in softirq.
	 */
	get_task_comm(comm, current);
	l = rhashtable_lookup_fast(&aq_table, &sk, aq_table_params);
	if (!l) {
		l = aq_listener_create(sk, 0, true);
		created = l;
	}
	if (!l)
		return;
	spin_lock_irqsave(&l->lock, flags);
	l->backlog = READ_ONCE(sk->sk_max_ack_backlog);
	l->pid = task_tgid_nr(current);
	memcpy(l->comm, comm, sizeof(l->comm));
	if (created)
		aq_watch_opened(l);
	spin_unlock_irqrestore(&l->lock, flags);
}

static void aq_listener_retire(struct aq_listener *l, struct sock *sk);

void aq_listener_stop(struct sock *sk)
{
	struct aq_listener *l;

	l = rhashtable_lookup_fast(&aq_table, &sk, aq_table_params);
	if (!l)
		return;
	if (l->family != AF_UNIX)
		aq_listener_drops(l, sk, 0, AQ_DROP_OTHER);
	aq_listener_retire(l, sk);
}

/*
 * Moves a listener's counts to the closed totals and forgets it. Also used
 * for a row whose socket is found no longer listening: a unix listener can
 * be picked up by a connect racing with its close after the close's probe
 * ran.
 */
static void aq_listener_retire(struct aq_listener *l, struct sock *sk)
{
	u64 enqueued, accepted, drained, drops;
	unsigned long flags;

	spin_lock_irqsave(&l->lock, flags);
	aq_sync(l, sk, ktime_get_ns());
	enqueued = l->enqueued;
	accepted = l->accepted;
	drained = l->qlen;
	drops = l->drops;
	spin_unlock_irqrestore(&l->lock, flags);

	if (!aq_listener_unlink(l))
		return;
	aq_watch_closed(l);
	spin_lock_irqsave(&aq_closed_lock, flags);
	aq_closed.listeners++;
	aq_closed.enqueued += enqueued;
	aq_closed.accepted += accepted;
	aq_closed.drained += drained;
	aq_closed.drops += drops;
	spin_unlock_irqrestore(&aq_closed_lock, flags);
}

/*
 * Drops are the kernel's own sk_drops counted from when tracking began.
 * Concurrent probes read it at different moments, so keep the largest
 * reading: the last reading after the last drop is exact. Under l->lock;
 * @now is the event's time, or 0 for the clock to be read if there is a
 * drop.
 */
static void aq_drops_seen(struct aq_listener *l, u32 kernel_drops, u64 now)
{
	u32 seen = kernel_drops - l->drops_base;

	if ((s32)(seen - (u32)l->drops) > 0) {
		aq_watch_dropped(l, (u32)(seen - (u32)l->drops),
				 now ?: ktime_get_ns());
		l->drops += (u32)(seen - (u32)l->drops);
	}
}

void aq_listener_syn(struct aq_listener *l, struct sock *sk)
{
	u32 kernel_qlen = aq_kernel_qlen(sk);
	u32 kernel_drops = aq_sk_drops(sk);
	u32 synq_len = l->family == AF_UNIX ? 0 : inet_csk_reqsk_queue_len(sk);
	struct aq_syn *syn;
	unsigned long flags;
	u64 now;

	spin_lock_irqsave(&l->lock, flags);
	now = ktime_get_ns();
	aq_sync(l, sk, now);
	l->backlog = READ_ONCE(sk->sk_max_ack_backlog);
	l->qlen_hist[aq_qlen_bucket(kernel_qlen)]++;
	/* Unix listeners count their refused connects instead. */
	if (l->family != AF_UNIX) {
		aq_drops_seen(l, kernel_drops, now);
		syn = aq_syn_get(l);
		if (syn)
			syn->synq_hist[aq_qlen_bucket(synq_len)]++;
	}
	spin_unlock_irqrestore(&l->lock, flags);
}

void aq_listener_syn_done(struct aq_listener *l,
			  const struct aq_syn_outcome *outcome)
{
	struct aq_syn *syn;
	unsigned long flags;

	spin_lock_irqsave(&l->lock, flags);
	syn = aq_syn_get(l);
	if (syn) {
		syn->synq_full_drops += outcome->synq_full_drops;
		syn->synq_full_cookies += outcome->synq_full_cookies;
		syn->syn_cookies += outcome->syn_cookies;
	}
	spin_unlock_irqrestore(&l->lock, flags);
}

void aq_listener_synack_retrans(struct aq_listener *l)
{
	struct aq_syn *syn;
	unsigned long flags;

	spin_lock_irqsave(&l->lock, flags);
	syn = aq_syn_get(l);
	if (syn)
		syn->synack_retrans++;
	spin_unlock_irqrestore(&l->lock, flags);
}

/* One more in the queue, timed if the ring has room. Under l->lock. */
static void aq_enqueue_locked(struct aq_listener *l, u64 now)
{
	aq_qlen_set(l, l->qlen + 1, now);
	l->enqueued++;
	if (!l->untimed_tail &&
	    (l->ring_count < l->ring_cap || aq_ring_grow(l))) {
		l->ring[(l->ring_head + l->ring_count) & (l->ring_cap - 1)] = now;
		l->ring_count++;
	} else {
		if (!l->untimed_tail)
			l->tail_since_ns = now;
		l->untimed_tail++;
	}
}

void aq_listener_enqueue(struct aq_listener *l, struct sock *sk,
			 u64 synack_ns)
{
	struct aq_syn *syn;
	unsigned long flags;
	u64 now, handshake_ns;

	spin_lock_irqsave(&l->lock, flags);
	now = ktime_get_ns();
	aq_sync(l, sk, now);
	if (synack_ns && now >= synack_ns) {
		/* Below the first bucket's edge but still a handshake. */
		handshake_ns = max_t(u64, now - synack_ns, 1);
		syn = aq_syn_get(l);
		if (syn) {
			syn->handshake_hist[aq_wait_bucket(handshake_ns)]++;
			syn->handshake_sum_ns += handshake_ns;
			if (handshake_ns > syn->handshake_max_ns)
				syn->handshake_max_ns = handshake_ns;
		}
	}
	aq_enqueue_locked(l, now);
	spin_unlock_irqrestore(&l->lock, flags);
}

void aq_listener_datagram(struct aq_listener *l, struct sock *sk,
			  u32 seen_len, u32 seen_bytes, int err)
{
	u32 kernel_drops = aq_sk_drops(sk);
	struct aq_udp *udp;
	unsigned long flags;
	u64 now;

	spin_lock_irqsave(&l->lock, flags);
	now = ktime_get_ns();
	aq_sync(l, sk, now);
	l->backlog = READ_ONCE(sk->sk_rcvbuf);
	l->qlen_hist[aq_qlen_bucket(seen_len)]++;
	udp = aq_udp_get(l);
	if (udp)
		udp->qbytes_hist[aq_qlen_bucket(seen_bytes)]++;
	if (!err) {
		if (l->received_early) {
			l->received_early--;
			l->enqueued++;
		} else {
			aq_enqueue_locked(l, now);
		}
	} else if (err == -ENOMEM && udp) {
		/* The receive buffer was full; -ENOBUFS is memory pressure. */
		udp->drops_rcvbuf++;
	}
	aq_drops_seen(l, kernel_drops, now);
	spin_unlock_irqrestore(&l->lock, flags);
}

void aq_listener_claim(struct aq_listener *l)
{
	char comm[TASK_COMM_LEN];
	unsigned long flags;

	if (READ_ONCE(l->pid))
		return;
	/* Outside l->lock, as in aq_listener_listen(). */
	get_task_comm(comm, current);
	spin_lock_irqsave(&l->lock, flags);
	if (!l->pid) {
		l->pid = task_tgid_nr(current);
		memcpy(l->comm, comm, sizeof(l->comm));
	}
	spin_unlock_irqrestore(&l->lock, flags);
}

void aq_listener_dequeue(struct aq_listener *l, struct sock *sk)
{
	unsigned long flags;
	u64 now, wait;

	spin_lock_irqsave(&l->lock, flags);
	now = ktime_get_ns();
	aq_sync(l, sk, now);
	if (!l->qlen) {
		l->accepted++;
		l->untimed++;
		if (aq_is_udp(l))
			l->received_early++;
		else
			/* An enqueue was missed: count the pair untimed. */
			l->enqueued++;
		goto out;
	}
	aq_qlen_set(l, l->qlen - 1, now);
	l->accepted++;
	if (l->untimed_head) {
		l->untimed_head--;
		l->untimed++;
	} else if (l->ring_count) {
		wait = now - l->ring[l->ring_head];
		l->ring_head = (l->ring_head + 1) & (l->ring_cap - 1);
		l->ring_count--;
		l->wait_hist[aq_wait_bucket(wait)]++;
		l->wait_sum_ns += wait;
		if (wait > l->wait_max_ns)
			l->wait_max_ns = wait;
	} else {
		l->untimed_tail--;
		l->untimed++;
	}
out:
	aq_watch_accepted(l, now);
	spin_unlock_irqrestore(&l->lock, flags);
}

/* A probed call that may have dropped has returned. */
void aq_listener_drops(struct aq_listener *l, struct sock *sk, u32 delta,
		       enum aq_drop_cause cause)
{
	u32 kernel_drops = aq_sk_drops(sk);
	unsigned long flags;

	spin_lock_irqsave(&l->lock, flags);
	aq_drops_seen(l, kernel_drops, 0);
	if (delta) {
		if (cause == AQ_DROP_SYN_ACCEPTQ_FULL)
			l->drops_syn_acceptq++;
		else if (cause == AQ_DROP_ACK_ACCEPTQ_FULL)
			l->drops_ack_acceptq++;
	}
	spin_unlock_irqrestore(&l->lock, flags);
}

void aq_listener_refused(struct aq_listener *l)
{
	unsigned long flags;

	spin_lock_irqsave(&l->lock, flags);
	aq_watch_dropped(l, 1, ktime_get_ns());
	l->drops++;
	spin_unlock_irqrestore(&l->lock, flags);
}

void aq_listener_waited(struct aq_listener *l)
{
	unsigned long flags;

	spin_lock_irqsave(&l->lock, flags);
	l->waited++;
	spin_unlock_irqrestore(&l->lock, flags);
}

struct aq_listener *aq_listener_find(u32 *id)
{
	unsigned long index = *id;
	struct aq_listener *l;

	l = xa_find(&aq_ids, &index, U32_MAX, XA_PRESENT);
	if (l)
		*id = index;
	return l;
}

/*
 * A unix name may hold any byte: escape spaces, control characters,
 * backslashes and non-ASCII as \ooo (as /proc/mounts does) so that the
 * field stays one token; abstract names start with '@'.
 */
static void aq_format_unix_path(char *buf, size_t size,
				const struct aq_listener *l)
{
	size_t out = 0, i = 0;

	if (!l->path_len) {
		snprintf(buf, size, "-");
		return;
	}
	if (!l->path[0]) {
		buf[out++] = '@';
		i = 1;
	}
	for (; i < l->path_len && out + 5 < size; i++) {
		unsigned char c = l->path[i];

		if (c <= ' ' || c >= 0x7f || c == '\\')
			out += snprintf(buf + out, size - out, "\\%03o", c);
		else
			buf[out++] = c;
	}
	buf[out] = '\0';
}

static const char *aq_proto_name(const struct aq_listener *l)
{
	if (l->family == AF_UNIX)
		return l->type == SOCK_SEQPACKET ? "unix-seq" : "unix";
	if (aq_is_udp(l))
		return l->family == AF_INET6 ? "udp6" : "udp";
	return l->family == AF_INET6 ? "tcp6" : "tcp";
}

static void aq_format_local(char *buf, size_t size, const struct aq_listener *l)
{
	if (l->family == AF_UNIX)
		aq_format_unix_path(buf, size, l);
	else if (l->family == AF_INET6)
		snprintf(buf, size, "[%pI6c]:%u", &l->addr, ntohs(l->port));
	else
		snprintf(buf, size, "%pI4:%u", &l->addr.s6_addr32[0],
			 ntohs(l->port));
}

/* Upper edge, in microseconds, of the bucket holding percentile @pct. */
static void aq_format_percentile(char *buf, size_t size,
				 const struct aq_listener *l, unsigned int pct)
{
	u64 total = 0, seen = 0, target;
	unsigned int i;

	for (i = 0; i < AQUEUE_WAIT_BUCKETS; i++)
		total += l->wait_hist[i];
	if (!total) {
		snprintf(buf, size, "-");
		return;
	}
	target = div_u64(total * pct + 99, 100);
	for (i = 0; i < AQUEUE_WAIT_BUCKETS - 1; i++) {
		seen += l->wait_hist[i];
		if (seen >= target)
			break;
	}
	if (i == AQUEUE_WAIT_BUCKETS - 1)
		snprintf(buf, size, "%llu",
			 div_u64(l->wait_max_ns + 999, 1000));
	else
		snprintf(buf, size, "%llu",
			 div_u64((1ULL << (i + AQUEUE_WAIT_SHIFT)) + 999, 1000));
}

/*
 * Reads the socket's live figures while the entry pins it, under RCU.
 * Returns false if the socket turned out to be no longer listening: the row
 * is then retired and must not be shown.
 */
static bool aq_refresh_from_socket(struct aq_listener *l)
{
	struct sock *sk = l->sk;
	unsigned long flags;
	u32 drops, backlog;

	if (!READ_ONCE(l->sk_pinned))
		return true;
	if (!aq_is_listener(sk) || sock_flag(sk, SOCK_DEAD)) {
		aq_listener_retire(l, sk);
		return false;
	}
	/* Unix listeners count refused connects themselves. */
	if (l->family == AF_UNIX)
		return true;
	drops = aq_sk_drops(sk);
	backlog = aq_kernel_backlog(sk);
	spin_lock_irqsave(&l->lock, flags);
	aq_drops_seen(l, drops, 0);
	l->backlog = backlog;
	spin_unlock_irqrestore(&l->lock, flags);
	return true;
}

void aq_listener_show_row(struct seq_file *m, struct aq_listener *l)
{
	char local[AQ_LOCAL_LEN], p50[24], p99[24], max[24];
	char comm[TASK_COMM_LEN];
	u64 enqueued, accepted, drops;
	u32 backlog, qlen, qpeak;
	unsigned long flags;
	pid_t pid;

	if (!aq_refresh_from_socket(l))
		return;
	aq_format_local(local, sizeof(local), l);
	spin_lock_irqsave(&l->lock, flags);
	pid = l->pid;
	memcpy(comm, l->comm, sizeof(comm));
	backlog = l->backlog;
	qlen = l->qlen;
	qpeak = l->qpeak;
	enqueued = l->enqueued;
	accepted = l->accepted;
	drops = l->drops;
	aq_format_percentile(p50, sizeof(p50), l, 50);
	aq_format_percentile(p99, sizeof(p99), l, 99);
	if (p50[0] == '-')
		snprintf(max, sizeof(max), "-");
	else
		snprintf(max, sizeof(max), "%llu",
			 div_u64(l->wait_max_ns + 999, 1000));
	spin_unlock_irqrestore(&l->lock, flags);

	seq_printf(m, "%5u %10u %-8s %-27s %7u %6u %6u %10llu %10llu %8llu %8s %8s %8s %7d %s\n",
		   l->id, l->netns, aq_proto_name(l),
		   local, backlog, qlen, qpeak, enqueued, accepted, drops,
		   p50, p99, max, pid, comm);
}

static void aq_show_qlen_hist(struct seq_file *m, const u64 *hist)
{
	unsigned int i;

	for (i = 0; i < AQUEUE_QLEN_BUCKETS; i++)
		if (hist[i])
			seq_printf(m, " %u:%llu", i ? 1U << (i - 1) : 0,
				   hist[i]);
	seq_putc(m, '\n');
}

static void aq_show_wait_hist(struct seq_file *m, const u64 *hist)
{
	unsigned int i;

	for (i = 0; i < AQUEUE_WAIT_BUCKETS; i++)
		if (hist[i])
			seq_printf(m, " %llu:%llu", aq_wait_bucket_low(i),
				   hist[i]);
	seq_putc(m, '\n');
}

/* TCP listeners: the SYN queue and the handshake. Under l->lock. */
static void aq_show_syn_detail(struct seq_file *m, struct aq_listener *l,
			       u32 synq_len)
{
	const struct aq_syn *syn = l->syn ?: &aq_syn_none;

	seq_printf(m, "listener %u syn synq_now %u synq_full_drops %llu synq_full_cookies %llu syn_cookies %llu synack_retrans %llu handshake_sum_ns %llu handshake_max_ns %llu\n",
		   l->id, synq_len, syn->synq_full_drops,
		   syn->synq_full_cookies, syn->syn_cookies,
		   syn->synack_retrans, syn->handshake_sum_ns,
		   syn->handshake_max_ns);
	seq_printf(m, "listener %u synq", l->id);
	aq_show_qlen_hist(m, syn->synq_hist);
	seq_printf(m, "listener %u handshake_ns", l->id);
	aq_show_wait_hist(m, syn->handshake_hist);
}

/* UDP sockets: the receive buffer. Under l->lock. */
static void aq_show_udp_detail(struct seq_file *m, struct aq_listener *l,
			       u32 rmem)
{
	const struct aq_udp *udp = l->udp ?: &aq_udp_none;

	seq_printf(m, "listener %u udp rmem_now %u drops_rcvbuf %llu\n",
		   l->id, rmem, udp->drops_rcvbuf);
	seq_printf(m, "listener %u qbytes", l->id);
	aq_show_qlen_hist(m, udp->qbytes_hist);
}

void aq_listener_show_detail(struct seq_file *m, struct aq_listener *l)
{
	u64 now = ktime_get_ns(), area, known_drops;
	unsigned long flags;
	u32 synq_len = 0, rmem = 0;

	if (!aq_refresh_from_socket(l))
		return;
	/* The socket is pinned while it is tracked; else say 0. */
	if (READ_ONCE(l->sk_pinned)) {
		if (aq_is_udp(l))
			rmem = sk_rmem_alloc_get(l->sk);
		else if (l->family != AF_UNIX)
			synq_len = inet_csk_reqsk_queue_len(l->sk);
	}
	spin_lock_irqsave(&l->lock, flags);
	area = l->qlen_area_ns;
	if (now > l->qlen_since_ns)
		area += (u64)l->qlen * (now - l->qlen_since_ns);
	known_drops = l->drops_syn_acceptq + l->drops_ack_acceptq;
	seq_printf(m, "listener %u drops_syn_acceptq %llu drops_ack_acceptq %llu drops_other %llu drained 0 untimed %llu resynced %llu observed_ns %llu qlen_area_ns %llu wait_sum_ns %llu waited %llu",
		   l->id, l->drops_syn_acceptq, l->drops_ack_acceptq,
		   l->drops > known_drops ? l->drops - known_drops : 0,
		   l->untimed, l->resynced,
		   now > l->start_ns ? now - l->start_ns : 0, area,
		   l->wait_sum_ns, l->waited);
	aq_watch_show(m, l, now);
	seq_printf(m, "\nlistener %u qlen", l->id);
	aq_show_qlen_hist(m, l->qlen_hist);
	seq_printf(m, "listener %u wait_ns", l->id);
	aq_show_wait_hist(m, l->wait_hist);
	if (aq_is_udp(l))
		aq_show_udp_detail(m, l, rmem);
	else if (l->family != AF_UNIX)
		aq_show_syn_detail(m, l, synq_len);
	spin_unlock_irqrestore(&l->lock, flags);
}

const char *aq_listener_proto(const struct aq_listener *l)
{
	return aq_proto_name(l);
}

void aq_listener_local(const struct aq_listener *l, char *buf, size_t size)
{
	aq_format_local(buf, size, l);
}

void aq_listeners_watch(bool sweep)
{
	xa_mark_t filter = sweep ? XA_PRESENT : AQ_WATCH_MARK;
	struct aq_listener *l;
	unsigned long index, flags;

	rcu_read_lock();
	xa_for_each_marked(&aq_ids, index, l, filter) {
		if (!aq_refresh_from_socket(l))
			continue;
		spin_lock_irqsave(&l->lock, flags);
		aq_watch_tick(l, ktime_get_ns());
		aq_listener_watch_sync(l);
		spin_unlock_irqrestore(&l->lock, flags);
	}
	rcu_read_unlock();
}

void aq_listeners_show_limits(struct seq_file *m)
{
	seq_printf(m, "max_listeners %u\nmax_memory %lu\ntracked %d\nuntracked_listens %ld\nuntracked_events %ld\nfiltered_events %ld\nmemory_bytes %ld\n",
		   READ_ONCE(aq_max_listeners), READ_ONCE(aq_max_memory),
		   atomic_read(&aq_tracked),
		   atomic_long_read(&aq_untracked_listens),
		   atomic_long_read(&aq_untracked_events),
		   atomic_long_read(&aq_filtered_events),
		   atomic_long_read(&aq_memory));
}

void aq_listeners_show_totals(struct seq_file *m)
{
	unsigned long flags;
	u64 listeners, enqueued, accepted, drained, drops;

	seq_printf(m, "tracked %d max_listeners %u untracked_listens %ld untracked_events %ld filtered_events %ld memory_bytes %ld max_memory_bytes %lu missed %lu resyncs %ld\n",
		   atomic_read(&aq_tracked), READ_ONCE(aq_max_listeners),
		   atomic_long_read(&aq_untracked_listens),
		   atomic_long_read(&aq_untracked_events),
		   atomic_long_read(&aq_filtered_events),
		   atomic_long_read(&aq_memory), READ_ONCE(aq_max_memory),
		   aq_probes_missed(), atomic_long_read(&aq_resyncs));

	spin_lock_irqsave(&aq_closed_lock, flags);
	listeners = aq_closed.listeners;
	enqueued = aq_closed.enqueued;
	accepted = aq_closed.accepted;
	drained = aq_closed.drained;
	drops = aq_closed.drops;
	spin_unlock_irqrestore(&aq_closed_lock, flags);
	seq_printf(m, "closed listeners %llu enqueued %llu accepted %llu drained %llu drops %llu\n",
		   listeners, enqueued, accepted, drained, drops);
}

/* Zeroes what was counted; what is queued now stays queued and timed. */
static void aq_listener_reset(struct aq_listener *l)
{
	unsigned long flags;
	u64 now;

	spin_lock_irqsave(&l->lock, flags);
	now = ktime_get_ns();
	l->drops_base += (u32)l->drops;
	l->drops = 0;
	l->drops_syn_acceptq = 0;
	l->drops_ack_acceptq = 0;
	l->waited = 0;
	l->enqueued = l->qlen;
	l->accepted = 0;
	l->qpeak = l->qlen;
	l->untimed = 0;
	l->resynced = 0;
	l->start_ns = now;
	l->qlen_since_ns = now;
	l->qlen_area_ns = 0;
	l->wait_sum_ns = 0;
	l->wait_max_ns = 0;
	memset(l->qlen_hist, 0, sizeof(l->qlen_hist));
	memset(l->wait_hist, 0, sizeof(l->wait_hist));
	/* The parts stay, zeroed: what is held stays held. */
	if (aq_is_udp(l)) {
		if (l->udp)
			memset(l->udp, 0, sizeof(*l->udp));
	} else if (l->syn) {
		memset(l->syn, 0, sizeof(*l->syn));
	}
	spin_unlock_irqrestore(&l->lock, flags);
}

bool aq_listener_exists(u32 id)
{
	bool exists;

	rcu_read_lock();
	exists = xa_load(&aq_ids, id);
	rcu_read_unlock();
	return exists;
}

int aq_listener_reset_one(u32 id)
{
	struct aq_listener *l;

	rcu_read_lock();
	l = xa_load(&aq_ids, id);
	if (l)
		aq_listener_reset(l);
	rcu_read_unlock();
	return l ? 0 : -ENOENT;
}

void aq_listeners_reset(void)
{
	struct aq_listener *l;
	unsigned long index, flags;

	rcu_read_lock();
	xa_for_each(&aq_ids, index, l)
		aq_listener_reset(l);
	rcu_read_unlock();

	spin_lock_irqsave(&aq_closed_lock, flags);
	memset(&aq_closed, 0, sizeof(aq_closed));
	spin_unlock_irqrestore(&aq_closed_lock, flags);
	atomic_long_set(&aq_untracked_listens, 0);
	atomic_long_set(&aq_untracked_events, 0);
	atomic_long_set(&aq_filtered_events, 0);
	atomic_long_set(&aq_resyncs, 0);
}

/* Stops tracking the listeners that the filter in force leaves out. */
void aq_listeners_refilter(void)
{
	struct aq_listener *l;
	unsigned long index;

	rcu_read_lock();
	xa_for_each(&aq_ids, index, l)
		if (!aq_filter_match(l->netns, l->family, ntohs(l->port),
				     aq_kind_of(l->family, l->type)))
			aq_listener_unlink(l);
	rcu_read_unlock();
}

void aq_listeners_unpin(void)
{
	struct aq_listener *l;
	unsigned long index;

	rcu_read_lock();
	xa_for_each(&aq_ids, index, l) {
		aq_refresh_from_socket(l);
		WRITE_ONCE(l->sk_pinned, false);
	}
	rcu_read_unlock();
	/* No reader is left that saw a pinned socket. */
	synchronize_rcu();
	xa_for_each(&aq_ids, index, l) {
		if (l->sk_ref) {
			l->sk_ref = false;
			sock_put(l->sk);
		}
	}
}

/* Forgets every listener; only while no probe is registered. */
void aq_listeners_clear(void)
{
	struct aq_listener *l;
	unsigned long index;

	xa_for_each(&aq_ids, index, l)
		aq_listener_unlink(l);
}

static void aq_caches_destroy(void)
{
	kmem_cache_destroy(aq_udp_cache);
	kmem_cache_destroy(aq_syn_cache);
	kmem_cache_destroy(aq_unix_listener_cache);
	kmem_cache_destroy(aq_listener_cache);
}

int aq_listeners_init(void)
{
	int err;

	aq_listener_cache = KMEM_CACHE(aq_listener, 0);
	/* Whole words: the size charged is the size taken in the slab. */
	aq_unix_listener_cache =
		kmem_cache_create("aq_unix_listener",
				  sizeof(struct aq_listener) +
				  ALIGN(AQ_UNIX_PATH_MAX, sizeof(u64)),
				  __alignof__(struct aq_listener), 0, NULL);
	aq_syn_cache = KMEM_CACHE(aq_syn, 0);
	aq_udp_cache = KMEM_CACHE(aq_udp, 0);
	if (!aq_listener_cache || !aq_unix_listener_cache || !aq_syn_cache ||
	    !aq_udp_cache) {
		aq_caches_destroy();
		return -ENOMEM;
	}
	err = rhashtable_init(&aq_table, &aq_table_params);
	if (err)
		aq_caches_destroy();
	return err;
}

void aq_listeners_exit(void)
{
	aq_listeners_clear();
	/* The RCU callbacks are this module's code: let them all run. */
	rcu_barrier();
	flush_work(&aq_unix_free);
	rhashtable_destroy(&aq_table);
	xa_destroy(&aq_ids);
	aq_caches_destroy();
}
