// SPDX-License-Identifier: GPL-2.0
/*
 * The table of tracked listeners; see table.h.
 *
 * Probes find a listener by socket pointer in a hash of RCU lists; /proc/aqueue
 * walks an xarray indexed by the listener's id, so that a read resumed by
 * seq_file continues in O(log n) from where it stopped. Both are read under
 * RCU; an entry is freed only after a grace period, and readers never touch
 * the socket: what they print was copied into the entry.
 *
 * The probes' handlers run with preemption off, where PREEMPT_RT allows no
 * sleeping lock and no allocation or freeing. So they never write the
 * xarray (its lock sleeps there, its nodes are allocated): an entry asks
 * for what is to change (to be published, its mark to follow, a larger
 * ring, to be retired) through defer.h, and aq_table_apply() does it in
 * process context, in order; every reader of the ids has it done first
 * (aq_table_sync()). Memory for the probes comes from pool.h, and what
 * they let go of is freed after a grace period, from an RCU callback.
 *
 * The hash is not an rhashtable because the probes also add and remove
 * entries from a process's handlers (listen, accept, close), with
 * preemption off: an rhashtable's bucket lock disables softirqs (6.1;
 * 6.12's disables interrupts instead), which PREEMPT_RT forbids there
 * while another task holds them on that CPU (a WARNING in
 * __local_bh_disable_ip), and it allocates when it grows. Here the buckets are allocated once, at load, for
 * max_listeners, and their writers take one raw spinlock: listeners come
 * and go far less often than events, which only read.
 */
#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/llist.h>
#include <linux/pid.h>
#include <linux/hash.h>
#include <linux/mm.h>
#include <linux/rculist.h>
#include <linux/sched.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <net/sock.h>

#include "aqueue_compat.h"
#include "config.h"
#include "count.h"
#include "defer.h"
#include "filter.h"
#include "pool.h"
#include "sock.h"
#include "table.h"

static struct hlist_head *aq_buckets;
static unsigned int aq_bucket_bits;
static DEFINE_RAW_SPINLOCK(aq_buckets_lock);
/* Written only by aq_table_apply(), under defer.c's mutex. */
static DEFINE_XARRAY_FLAGS(aq_ids, XA_FLAGS_ALLOC1);
/*
 * Ids are handed out by the probes, before the entry is in the xarray: a
 * counter, which after 2^32 listeners may come round to an id still in
 * use (the entry then gets a free one when published).
 */
static atomic_t aq_last_id;
static u32 aq_next_free_id;
/*
 * The listeners the watch looks at every period: those with a queue (it
 * may stall), a burst of drops (it has to end) or a stall (it has to
 * recover). Idle ones are only swept now and then, so that thousands of
 * idle listeners cost the watch next to nothing. XA_MARK_0 is the
 * allocator's.
 */
#define AQ_WATCH_MARK XA_MARK_1

static atomic_t aq_tracked;
AQ_COUNT_DEFINE(aq_untracked_listens);
AQ_COUNT_DEFINE(aq_untracked_events);
AQ_COUNT_DEFINE(aq_filtered_events);

static enum aq_obj_kind aq_listener_obj_kind(u16 family)
{
	return family == AF_UNIX ? AQ_OBJ_UNIX_LISTENER : AQ_OBJ_LISTENER;
}

static void aq_listener_free(struct aq_listener *l)
{
	aq_queue_free(l);
	if (l->sk_ref)
		sock_put(l->sk);
	put_pid(l->owner);
	put_pid(l->owner_before);
	aq_obj_free(aq_listener_obj_kind(l->family), l);
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

static struct hlist_head *aq_bucket(const struct sock *sk)
{
	return &aq_buckets[hash_ptr(sk, aq_bucket_bits)];
}

/* Under RCU, or under aq_buckets_lock. */
static struct aq_listener *aq_bucket_find(struct hlist_head *bucket,
					  const struct sock *sk)
{
	struct aq_listener *l;

	hlist_for_each_entry_rcu(l, bucket, node,
				 lockdep_is_held(&aq_buckets_lock))
		if (l->sk == sk)
			return l;
	return NULL;
}

DEFINE_PER_CPU(struct aq_listener *, aq_table_last_found);

u32 aq_table_group(const struct aq_listener *l, u32 *room)
{
	const struct aq_listener *member;
	const struct sock *sk;
	u64 others_room = 0;
	unsigned int i;
	u32 group = 0;

	rcu_read_lock();
	/* Its socket may be followed only while the entry pins it. */
	if (!READ_ONCE(l->sk_pinned))
		goto out;
	for (i = 0; (sk = aq_sock_reuseport_member(l->sk, i)); i++) {
		/* The pointer may be stale: compared, never followed. */
		member = aq_bucket_find(aq_bucket(sk), sk);
		if (!member || READ_ONCE(member->unlinked))
			continue;
		if (!group || member->id < group)
			group = member->id;
		if (member != l && !aq_is_udp(member))
			others_room += aq_queue_room(member);
	}
out:
	rcu_read_unlock();
	*room = min_t(u64, others_room, U32_MAX);
	return group;
}

struct aq_listener *aq_table_lookup_slow(struct sock *sk)
{
	struct aq_listener *l;

	l = aq_bucket_find(aq_bucket(sk), sk);
	if (!l)
		return NULL;
	this_cpu_write(aq_table_last_found, l);
	/*
	 * Pairs with the barrier in aq_table_forget(): either it sees this
	 * CPU's note and clears it, or this CPU sees the entry unlinked.
	 */
	smp_mb();
	if (unlikely(READ_ONCE(l->unlinked)))
		this_cpu_cmpxchg(aq_table_last_found, l, NULL);
	return l;
}

static void aq_table_publish(struct aq_listener *l)
{
	u32 id = l->id;
	int err;

	err = xa_insert(&aq_ids, id, l, GFP_KERNEL);
	if (err == -EBUSY) {
		/* The counter came round to an id still in use. */
		err = xa_alloc_cyclic(&aq_ids, &id, l, xa_limit_32b,
				      &aq_next_free_id, GFP_KERNEL);
		if (err >= 0)
			WRITE_ONCE(l->id, id);
	}
	if (err < 0 && aq_table_unlink(l))
		aq_count_inc(&aq_untracked_events);
}

static void aq_table_follow_mark(struct aq_listener *l, bool watched)
{
	if (watched)
		xa_set_mark(&aq_ids, l->id, AQ_WATCH_MARK);
	else
		xa_clear_mark(&aq_ids, l->id, AQ_WATCH_MARK);
}

static void aq_table_retire(struct aq_listener *l)
{
	/* Not stored at all if its publication failed. */
	xa_cmpxchg(&aq_ids, l->id, l, NULL, 0);
	call_rcu(&l->rcu, aq_listener_free_rcu);
}

/* What was asked for @l, in the order that keeps it right. */
static void aq_table_apply(struct aq_listener *l)
{
	unsigned long flags;
	bool watched;
	u8 ops;

	raw_spin_lock_irqsave(&l->lock, flags);
	ops = l->ops_pending;
	l->ops_pending = 0;
	l->op_queued = false;
	watched = l->watched;
	raw_spin_unlock_irqrestore(&l->lock, flags);

	if (ops & AQ_OP_RETIRE) {
		aq_table_retire(l);
		return;
	}
	if (ops & AQ_OP_PUBLISH)
		aq_table_publish(l);
	if (ops & AQ_OP_MARK)
		aq_table_follow_mark(l, watched);
	if (ops & AQ_OP_GROW_RING)
		aq_queue_grow_ring(l);
	if (ops & AQ_OP_SYN_CPU)
		aq_queue_add_syn_cpu(l);
}

/* Out of the table: no CPU may still find @l when its grace period ends. */
static void aq_table_forget(struct aq_listener *l)
{
	unsigned long flags;
	int cpu;

	raw_spin_lock_irqsave(&l->lock, flags);
	WRITE_ONCE(l->unlinked, true);
	aq_defer_ask(l, AQ_OP_RETIRE, false);
	raw_spin_unlock_irqrestore(&l->lock, flags);
	/* Pairs with the one in aq_table_lookup_slow(). */
	smp_mb();
	for_each_possible_cpu(cpu)
		cmpxchg(per_cpu_ptr(&aq_table_last_found, cpu), l, NULL);
}

bool aq_table_unlink(struct aq_listener *l)
{
	unsigned long flags;
	bool was_in;

	raw_spin_lock_irqsave(&aq_buckets_lock, flags);
	was_in = !hlist_unhashed(&l->node);
	if (was_in)
		hlist_del_init_rcu(&l->node);
	raw_spin_unlock_irqrestore(&aq_buckets_lock, flags);
	if (!was_in)
		return false;
	atomic_dec(&aq_tracked);
	aq_table_forget(l);
	return true;
}

struct pid *aq_table_set_owner(struct aq_listener *l, struct pid *owner)
{
	struct pid *before = l->owner_before;

	if (l->owner && l->owner != owner) {
		/* Dropped only if it is not the last reference. */
		if (before && !refcount_dec_not_one(&before->count))
			return owner;
		l->owner_before = l->owner;
		l->owner = owner;
		owner = NULL;
	}
	if (!l->owner) {
		l->owner = owner;
		owner = NULL;
	}
	l->owner_uid = current_euid();
	l->pid = task_tgid_nr(current);
	/*
	 * Copied without the task's alloc_lock, as tracers do: that lock is
	 * softirq-unsafe, and sleeps on PREEMPT_RT; a rename racing the copy
	 * at worst mixes the two names, still ended.
	 */
	strscpy_pad(l->comm, current->comm, sizeof(l->comm));
	return owner;
}

static enum aq_kind aq_kind_of(u16 family, u16 type)
{
	if (family == AF_UNIX)
		return AQ_KIND_UNIX;
	return type == SOCK_DGRAM ? AQ_KIND_UDP : AQ_KIND_TCP;
}

static void aq_count_untracked(bool from_listen)
{
	if (from_listen)
		aq_count_inc(&aq_untracked_listens);
	else
		aq_count_inc(&aq_untracked_events);
}

static void aq_copy_identity(struct aq_listener *l, const struct sock *sk)
{
	l->netns = aq_sock_netns(sk);
	l->ino = aq_sock_ino(sk);
	l->family = aq_sock_family(sk);
	l->type = aq_sock_type(sk);
	if (l->family == AF_UNIX) {
		l->path_len = aq_sock_unix_path(sk, l->path);
		return;
	}
	l->port = htons(aq_sock_port(sk));
	aq_sock_inet_addr(sk, &l->addr);
}

struct aq_listener *aq_table_alloc(struct sock *sk, bool from_listen)
{
	u16 family = aq_sock_family(sk);
	enum aq_obj_kind kind = aq_listener_obj_kind(family);
	struct aq_listener *l;

	if (!aq_filter_match(aq_sock_netns(sk), family, aq_sock_port(sk),
			     aq_kind_of(family, aq_sock_type(sk)))) {
		aq_count_inc(&aq_filtered_events);
		return NULL;
	}
	if (atomic_read(&aq_tracked) >= READ_ONCE(aq_max_listeners))
		goto untracked;
	l = aq_obj_get(kind, from_listen);
	if (!l)
		goto untracked;

	/*
	 * Listeners and UDP sockets are found under RCU without a reference:
	 * one being closed on another CPU may already have dropped its last.
	 */
	if (!aq_sock_hold_live(sk)) {
		aq_obj_put(kind, l);
		return NULL;
	}
	l->sk = sk;
	l->sk_ref = true;
	l->sk_pinned = true;
	raw_spin_lock_init(&l->lock);
	aq_copy_identity(l, sk);
	l->comm[0] = '-';
	return l;

untracked:
	aq_count_untracked(from_listen);
	return NULL;
}

static u32 aq_table_new_id(void)
{
	u32 id;

	do
		id = (u32)atomic_inc_return(&aq_last_id);
	while (!id);
	return id;
}

struct aq_listener *aq_table_insert(struct aq_listener *l, bool from_listen)
{
	struct hlist_head *bucket = aq_bucket(l->sk);
	struct aq_listener *old;
	unsigned long flags;

	l->id = aq_table_new_id();
	atomic_inc(&aq_tracked);
	/* Before anyone can find it, and so unlink it or mark it. */
	aq_defer_ask(l, AQ_OP_PUBLISH | AQ_OP_MARK |
		     (AQ_COMPAT_PREEMPT_RT ? AQ_OP_GROW_RING : 0), from_listen);
	raw_spin_lock_irqsave(&aq_buckets_lock, flags);
	old = aq_bucket_find(bucket, l->sk);
	if (!old)
		hlist_add_head_rcu(&l->node, bucket);
	raw_spin_unlock_irqrestore(&aq_buckets_lock, flags);
	if (!old)
		return l;
	atomic_dec(&aq_tracked);
	/*
	 * Its socket is let go after a grace period. Under the lock: the
	 * publication may be being applied.
	 */
	raw_spin_lock_irqsave(&l->lock, flags);
	l->unlinked = true;
	aq_defer_ask(l, AQ_OP_RETIRE, false);
	raw_spin_unlock_irqrestore(&l->lock, flags);
	return old;
}

struct aq_listener *aq_table_by_id(u32 id)
{
	return xa_load(&aq_ids, id);
}

struct aq_listener *aq_table_find(u32 *id)
{
	unsigned long index = *id;
	struct aq_listener *l;

	l = xa_find(&aq_ids, &index, U32_MAX, XA_PRESENT);
	if (l)
		*id = index;
	return l;
}

struct aq_listener *aq_table_next(unsigned long *index, bool busy)
{
	return xa_find(&aq_ids, index, ULONG_MAX,
		       busy ? AQ_WATCH_MARK : XA_PRESENT);
}

void aq_table_refilter(void)
{
	struct aq_listener *l;
	unsigned long index;

	aq_table_sync();
	rcu_read_lock();
	xa_for_each(&aq_ids, index, l)
		if (!aq_filter_match(l->netns, l->family, ntohs(l->port),
				     aq_kind_of(l->family, l->type)))
			aq_table_unlink(l);
	rcu_read_unlock();
}

void aq_table_release_sockets(void)
{
	struct aq_listener *l;
	unsigned long index;

	/* No reader is left that saw a pinned socket. */
	synchronize_rcu();
	aq_table_sync();
	xa_for_each(&aq_ids, index, l) {
		if (l->sk_ref) {
			l->sk_ref = false;
			sock_put(l->sk);
		}
	}
}

void aq_table_clear(void)
{
	struct aq_listener *l;
	unsigned long index;

	aq_table_sync();
	xa_for_each(&aq_ids, index, l)
		aq_table_unlink(l);
	aq_table_sync();
}

void aq_table_get_stats(struct aq_table_stats *stats)
{
	stats->tracked = atomic_read(&aq_tracked);
	stats->untracked_listens = aq_count_read(&aq_untracked_listens);
	stats->untracked_events = aq_count_read(&aq_untracked_events) +
				  aq_pool_parts_refused();
	stats->filtered_events = aq_count_read(&aq_filtered_events);
	stats->memory = aq_pool_memory();
}

void aq_table_reset_stats(void)
{
	aq_count_reset(&aq_untracked_listens);
	aq_count_reset(&aq_untracked_events);
	aq_pool_reset_refused();
	aq_count_reset(&aq_filtered_events);
}

/* About four listeners a bucket at max_listeners, from 256 to 65,536. */
#define AQ_BUCKET_BITS_MIN	8
#define AQ_BUCKET_BITS_MAX	16

int aq_table_init(void)
{
	unsigned long want = READ_ONCE(aq_max_listeners) / 4;

	aq_bucket_bits = AQ_BUCKET_BITS_MIN;
	while (aq_bucket_bits < AQ_BUCKET_BITS_MAX &&
	       (1UL << aq_bucket_bits) < want)
		aq_bucket_bits++;
	aq_buckets = kvcalloc(1UL << aq_bucket_bits, sizeof(*aq_buckets),
			      GFP_KERNEL);
	if (!aq_buckets)
		return -ENOMEM;
	aq_defer_start(aq_table_apply);
	return 0;
}

void aq_table_exit(void)
{
	aq_defer_stop();
	aq_table_clear();
	aq_defer_cancel();
	/* The RCU callbacks are this module's code: let them all run. */
	rcu_barrier();
	flush_work(&aq_unix_free);
	kvfree(aq_buckets);
	xa_destroy(&aq_ids);
}
