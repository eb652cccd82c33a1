// SPDX-License-Identifier: GPL-2.0
/*
 * The table of tracked listeners; see table.h.
 *
 * Probes find a listener by socket pointer in an rhashtable; /proc/aqueue
 * walks an xarray indexed by the listener's id, so that a read resumed by
 * seq_file continues in O(log n) from where it stopped. Both are read under
 * RCU; an entry is freed only after a grace period, and readers never touch
 * the socket: what they print was copied into the entry.
 *
 * The probes' handlers run with preemption off, where PREEMPT_RT allows no
 * sleeping lock and no allocation or freeing. So they never write the
 * xarray (its lock sleeps there, its nodes are allocated): an entry asks
 * for what is to change (to be published, its mark to follow, a larger
 * ring, to be retired) by queueing itself once on a FIFO list, which
 * process context applies in order; every reader of the ids applies it
 * first (aq_table_sync()). Memory for the probes comes from aq_obj_get()
 * (see there), and what they let go of is freed after a grace period,
 * from an RCU callback.
 */
#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/cpumask.h>
#include <linux/hash.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/rhashtable.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <net/sock.h>

#include "aqueue_compat.h"
#include "config.h"
#include "filter.h"
#include "sock.h"
#include "table.h"

/*
 * Entries and their parts come from caches of their own: from kmalloc()
 * they would be rounded up to the next power of two.
 */
enum aq_obj_kind {
	AQ_OBJ_LISTENER,
	AQ_OBJ_UNIX_LISTENER,
	AQ_OBJ_SYN,
	AQ_OBJ_UDP,
	AQ_OBJ_RING,	/* a ring's first AQ_RING_MIN times */
	AQ_OBJ_KINDS
};

/*
 * What the probes allocate comes from the slab with GFP_ATOMIC, except on
 * PREEMPT_RT, where a handler may neither allocate nor free: there it
 * comes from a few objects of each cache that a work item keeps ready,
 * and goes back to them. When they run out faster than the work refills
 * them, the event is counted as untracked, as at the memory limit.
 */
#define AQ_POOL_FILL 32

struct aq_obj_pool {
	struct kmem_cache *cache;
	raw_spinlock_t lock;
	void **top;		/* a stack linked through each object's first word */
	unsigned int count;
};

static struct aq_obj_pool aq_objs[AQ_OBJ_KINDS];

struct rhashtable aq_table;
/* Written only by aq_table_sync(), under aq_ops_mutex. */
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
static atomic_long_t aq_untracked_listens;
static atomic_long_t aq_untracked_events;
static atomic_long_t aq_filtered_events;
static atomic_long_t aq_memory;

/* Memory held against max_memory. */
static bool aq_table_charge(size_t bytes)
{
	if (atomic_long_add_return(bytes, &aq_memory) >
	    (long)READ_ONCE(aq_max_memory)) {
		atomic_long_sub(bytes, &aq_memory);
		return false;
	}
	return true;
}

static void aq_table_uncharge(size_t bytes)
{
	atomic_long_sub(bytes, &aq_memory);
}

static void aq_pool_refill_fn(struct work_struct *work);
static DECLARE_WORK(aq_pool_refill, aq_pool_refill_fn);
static void aq_ops_work_fn(struct work_struct *work);
static DECLARE_WORK(aq_ops_work, aq_ops_work_fn);

/*
 * What the probes leave to process context is done by a work item or,
 * when they ran in listen(), by that task before it returns to user
 * space, which it does at once: listen() then returns with its listener
 * published, and tasks that open listeners in a loop never find the
 * pools empty, where the work item alone falls behind. Only listen():
 * a task in accept() or connect() may go on to sleep for as long as it
 * likes, and the module's unload waits for every task work it handed
 * out. A task takes the slot its address hashes to; when another task
 * holds that one, the work item does it.
 */
#define AQ_TASK_WORKS 64

static struct callback_head aq_task_works[AQ_TASK_WORKS];
static const struct task_struct *aq_task_work_owner[AQ_TASK_WORKS];
static DECLARE_BITMAP(aq_task_works_busy, AQ_TASK_WORKS);
/* Off while the module unloads, whose own tasks must not take one. */
static bool aq_task_works_on;

static void aq_task_work_fn(struct callback_head *head)
{
	if (AQ_COMPAT_PREEMPT_RT)
		aq_pool_refill_fn(NULL);
	aq_table_sync();
	WRITE_ONCE(aq_task_work_owner[head - aq_task_works], NULL);
	clear_bit_unlock(head - aq_task_works, aq_task_works_busy);
}

static void aq_table_kick(struct work_struct *work, bool in_listen)
{
	unsigned int slot = hash_ptr(current, ilog2(AQ_TASK_WORKS));

	/* A kernel thread never returns to user space. */
	if (!in_listen || !READ_ONCE(aq_task_works_on) || !in_task() ||
	    (current->flags & (PF_KTHREAD | PF_EXITING)))
		goto work;
	if (test_and_set_bit_lock(slot, aq_task_works_busy)) {
		if (READ_ONCE(aq_task_work_owner[slot]) == current)
			return;
		goto work;
	}
	WRITE_ONCE(aq_task_work_owner[slot], current);
	init_task_work(&aq_task_works[slot], aq_task_work_fn);
	if (!task_work_add(current, &aq_task_works[slot], TWA_RESUME))
		return;
	WRITE_ONCE(aq_task_work_owner[slot], NULL);
	clear_bit_unlock(slot, aq_task_works_busy);
work:
	schedule_work(work);
}

static void *aq_pool_pop(struct aq_obj_pool *pool)
{
	unsigned long flags;
	void **obj;

	raw_spin_lock_irqsave(&pool->lock, flags);
	obj = pool->top;
	if (obj) {
		pool->top = *obj;
		pool->count--;
	}
	raw_spin_unlock_irqrestore(&pool->lock, flags);
	return obj;
}

static void aq_pool_push(struct aq_obj_pool *pool, void *obj)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&pool->lock, flags);
	*(void **)obj = pool->top;
	pool->top = obj;
	pool->count++;
	raw_spin_unlock_irqrestore(&pool->lock, flags);
}

/* Up to AQ_POOL_FILL ready, and what frees gave back beyond twice that out. */
static void aq_pool_refill_fn(struct work_struct *work)
{
	struct aq_obj_pool *pool;
	void *obj;

	for (pool = aq_objs; pool < aq_objs + AQ_OBJ_KINDS; pool++) {
		while (READ_ONCE(pool->count) < AQ_POOL_FILL) {
			obj = kmem_cache_alloc(pool->cache, GFP_KERNEL);
			if (!obj)
				break;
			aq_pool_push(pool, obj);
		}
		while (READ_ONCE(pool->count) > 2 * AQ_POOL_FILL &&
		       (obj = aq_pool_pop(pool)))
			kmem_cache_free(pool->cache, obj);
	}
}

static void aq_pools_drain(void)
{
	struct aq_obj_pool *pool;
	void *obj;

	for (pool = aq_objs; pool < aq_objs + AQ_OBJ_KINDS; pool++)
		while ((obj = aq_pool_pop(pool)))
			kmem_cache_free(pool->cache, obj);
}

/* An object of @kind for a probe, zeroed and charged; or NULL. */
static void *aq_obj_get(enum aq_obj_kind kind, bool in_listen)
{
	struct aq_obj_pool *pool = &aq_objs[kind];
	size_t size = kmem_cache_size(pool->cache);
	void *obj;

	if (!aq_table_charge(size))
		return NULL;
	if (!AQ_COMPAT_PREEMPT_RT) {
		obj = kmem_cache_zalloc(pool->cache, GFP_ATOMIC | __GFP_NOWARN);
	} else {
		obj = aq_pool_pop(pool);
		if (READ_ONCE(pool->count) < AQ_POOL_FILL / 2)
			aq_table_kick(&aq_pool_refill, in_listen);
		if (obj)
			memset(obj, 0, size);
	}
	if (!obj)
		aq_table_uncharge(size);
	return obj;
}

/* Gives back from a probe an object aq_obj_get() gave. */
static void aq_obj_put(enum aq_obj_kind kind, void *obj)
{
	struct aq_obj_pool *pool = &aq_objs[kind];

	aq_table_uncharge(kmem_cache_size(pool->cache));
	if (!AQ_COMPAT_PREEMPT_RT) {
		kmem_cache_free(pool->cache, obj);
		return;
	}
	aq_pool_push(pool, obj);
	if (READ_ONCE(pool->count) > 2 * AQ_POOL_FILL)
		schedule_work(&aq_pool_refill);
}

/* Frees, where freeing is allowed (an RCU callback, a work item). */
static void aq_obj_free(enum aq_obj_kind kind, void *obj)
{
	struct aq_obj_pool *pool = &aq_objs[kind];

	aq_table_uncharge(kmem_cache_size(pool->cache));
	kmem_cache_free(pool->cache, obj);
}

static enum aq_obj_kind aq_listener_obj_kind(u16 family)
{
	return family == AF_UNIX ? AQ_OBJ_UNIX_LISTENER : AQ_OBJ_LISTENER;
}

static void aq_ring_free(u64 *ring, u32 cap)
{
	if (cap == AQ_RING_MIN) {
		aq_obj_free(AQ_OBJ_RING, ring);
		return;
	}
	aq_table_uncharge(cap * sizeof(*ring));
	kfree(ring);
}

static void aq_listener_free(struct aq_listener *l)
{
	if (l->q.ring)
		aq_ring_free(l->q.ring, l->q.ring_cap);
	if (l->sk_ref)
		sock_put(l->sk);
	put_pid(l->owner);
	put_pid(l->owner_before);
	if (aq_is_udp(l)) {
		if (l->q.udp)
			aq_obj_free(AQ_OBJ_UDP, l->q.udp);
	} else if (l->q.syn) {
		aq_obj_free(AQ_OBJ_SYN, l->q.syn);
	}
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

struct aq_syn *aq_table_syn_alloc(void)
{
	struct aq_syn *syn = aq_obj_get(AQ_OBJ_SYN, false);

	if (!syn)
		atomic_long_inc(&aq_untracked_events);
	return syn;
}

struct aq_udp *aq_table_udp_alloc(void)
{
	struct aq_udp *udp = aq_obj_get(AQ_OBJ_UDP, false);

	if (!udp)
		atomic_long_inc(&aq_untracked_events);
	return udp;
}

DEFINE_PER_CPU(struct aq_listener *, aq_table_last_found);

struct aq_listener *aq_table_lookup_slow(struct sock *sk)
{
	struct aq_listener *l;

	l = rhashtable_lookup_fast(&aq_table, &sk, aq_table_params);
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

/*
 * The entries with something asked for, in the order they asked: an
 * entry's publication is asked for before it can be found, its mark and
 * ring only while it is in the table (checked under its lock, where its
 * unlinking sets unlinked), its retirement last; an entry is freed only
 * once it is off the list.
 */
static LLIST_HEAD(aq_ops);
static DEFINE_MUTEX(aq_ops_mutex);

static void aq_ops_work_fn(struct work_struct *work)
{
	aq_table_sync();
}

/*
 * Under l->lock, unless no one else can see @l yet (not even this list);
 * @in_listen: from a listen() call, see aq_table_kick().
 */
static void aq_table_ask(struct aq_listener *l, u8 ops, bool in_listen)
{
	l->ops_pending |= ops;
	if (l->op_queued)
		return;
	l->op_queued = true;
	if (llist_add(&l->op_node, &aq_ops))
		aq_table_kick(&aq_ops_work, in_listen);
}

static void aq_table_request(struct aq_listener *l, u8 ops)
{
	aq_table_ask(l, ops, false);
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
		atomic_long_inc(&aq_untracked_events);
}

static void aq_table_follow_mark(struct aq_listener *l, bool watched)
{
	if (watched)
		xa_set_mark(&aq_ids, l->id, AQ_WATCH_MARK);
	else
		xa_clear_mark(&aq_ids, l->id, AQ_WATCH_MARK);
}

/*
 * A ring of @cap, charged; or NULL at the limits. The first comes from a
 * cache of its own, and so on PREEMPT_RT from its pool, in the probe.
 */
static u64 *aq_ring_alloc(u32 cap, gfp_t gfp)
{
	u64 *ring;

	if (cap == AQ_RING_MIN)
		return aq_obj_get(AQ_OBJ_RING, false);
	if (!aq_table_charge(cap * sizeof(*ring)))
		return NULL;
	ring = kmalloc_array(cap, sizeof(*ring), gfp);
	if (!ring)
		aq_table_uncharge(cap * sizeof(*ring));
	return ring;
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

bool aq_table_ring_room(struct aq_listener *l)
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
			aq_table_request(l, AQ_OP_GROW_RING);
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

/* PREEMPT_RT: what aq_table_ring_room() asked for, outside the probes. */
static void aq_table_grow_ring(struct aq_listener *l)
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
		aq_table_grow_ring(l);
}

void aq_table_sync(void)
{
	struct aq_listener *l, *next;
	struct llist_node *list;

	mutex_lock(&aq_ops_mutex);
	list = llist_reverse_order(llist_del_all(&aq_ops));
	llist_for_each_entry_safe(l, next, list, op_node)
		aq_table_apply(l);
	mutex_unlock(&aq_ops_mutex);
}

/* Out of the table: no CPU may still find @l when its grace period ends. */
static void aq_table_forget(struct aq_listener *l)
{
	unsigned long flags;
	int cpu;

	raw_spin_lock_irqsave(&l->lock, flags);
	WRITE_ONCE(l->unlinked, true);
	aq_table_request(l, AQ_OP_RETIRE);
	raw_spin_unlock_irqrestore(&l->lock, flags);
	/* Pairs with the one in aq_table_lookup_slow(). */
	smp_mb();
	for_each_possible_cpu(cpu)
		cmpxchg(per_cpu_ptr(&aq_table_last_found, cpu), l, NULL);
}

bool aq_table_unlink(struct aq_listener *l)
{
	if (rhashtable_remove_fast(&aq_table, &l->node, aq_table_params))
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
		atomic_long_inc(&aq_untracked_listens);
	else
		atomic_long_inc(&aq_untracked_events);
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
		atomic_long_inc(&aq_filtered_events);
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

/*
 * On PREEMPT_RT an insertion must not allocate, which rhashtable does when
 * its table is nested or fuller than 100% before its worker grew it: such
 * an insertion waits (as untracked) for the worker.
 */
static bool aq_table_insert_allocates(void)
{
	const struct bucket_table *tbl;
	bool allocates;

	if (!AQ_COMPAT_PREEMPT_RT)
		return false;
	rcu_read_lock();
	tbl = rht_dereference_rcu(aq_table.tbl, &aq_table);
	allocates = tbl->nest ||
		    atomic_read(&aq_table.nelems) >= (int)tbl->size;
	rcu_read_unlock();
	return allocates;
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
	struct aq_listener *old;
	unsigned long flags;

	if (aq_table_insert_allocates()) {
		aq_count_untracked(from_listen);
		old = ERR_PTR(-ENOMEM);
		goto unused;
	}
	l->id = aq_table_new_id();
	atomic_inc(&aq_tracked);
	/* Before anyone can find it, and so unlink it or mark it. */
	aq_table_ask(l, AQ_OP_PUBLISH | AQ_OP_MARK |
		     (AQ_COMPAT_PREEMPT_RT ? AQ_OP_GROW_RING : 0), from_listen);
	old = rhashtable_lookup_get_insert_fast(&aq_table, &l->node,
						aq_table_params);
	if (!old)
		return l;
	atomic_dec(&aq_tracked);
	if (IS_ERR(old))
		aq_count_untracked(from_listen);
	/*
	 * Its socket is let go after a grace period. Under the lock: the
	 * publication may be being applied.
	 */
	raw_spin_lock_irqsave(&l->lock, flags);
	l->unlinked = true;
	aq_table_request(l, AQ_OP_RETIRE);
	raw_spin_unlock_irqrestore(&l->lock, flags);
	return IS_ERR(old) ? NULL : old;

unused:
	sock_put(l->sk);
	aq_obj_put(aq_listener_obj_kind(l->family), l);
	return IS_ERR(old) ? NULL : old;
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

/*
 * Before aq_table_insert() gave the entry an id the mark is left to it, and
 * once the entry is unlinked the mark goes with it.
 */
static void aq_table_mark_changed(struct aq_listener *l)
{
	if (l->id && !l->unlinked)
		aq_table_request(l, AQ_OP_MARK);
}

void aq_table_watch(struct aq_listener *l)
{
	l->watched = true;
	aq_table_mark_changed(l);
}

void aq_table_unwatch(struct aq_listener *l)
{
	l->watched = false;
	aq_table_mark_changed(l);
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
	stats->untracked_listens = atomic_long_read(&aq_untracked_listens);
	stats->untracked_events = atomic_long_read(&aq_untracked_events);
	stats->filtered_events = atomic_long_read(&aq_filtered_events);
	stats->memory = atomic_long_read(&aq_memory);
}

void aq_table_reset_stats(void)
{
	atomic_long_set(&aq_untracked_listens, 0);
	atomic_long_set(&aq_untracked_events, 0);
	atomic_long_set(&aq_filtered_events, 0);
}

static void aq_caches_destroy(void)
{
	int kind;

	for (kind = 0; kind < AQ_OBJ_KINDS; kind++)
		kmem_cache_destroy(aq_objs[kind].cache);
}

int aq_table_init(void)
{
	int kind, err;

	aq_objs[AQ_OBJ_LISTENER].cache = KMEM_CACHE(aq_listener, 0);
	/* Whole words: the size charged is the size taken in the slab. */
	aq_objs[AQ_OBJ_UNIX_LISTENER].cache =
		kmem_cache_create("aq_unix_listener",
				  sizeof(struct aq_listener) +
				  ALIGN(AQ_UNIX_PATH_MAX, sizeof(u64)),
				  __alignof__(struct aq_listener), 0, NULL);
	aq_objs[AQ_OBJ_SYN].cache = KMEM_CACHE(aq_syn, 0);
	aq_objs[AQ_OBJ_UDP].cache = KMEM_CACHE(aq_udp, 0);
	aq_objs[AQ_OBJ_RING].cache =
		kmem_cache_create("aq_ring", AQ_RING_MIN * sizeof(u64),
				  sizeof(u64), 0, NULL);
	for (kind = 0; kind < AQ_OBJ_KINDS; kind++) {
		if (!aq_objs[kind].cache) {
			err = -ENOMEM;
			goto err_caches;
		}
		raw_spin_lock_init(&aq_objs[kind].lock);
	}
	err = rhashtable_init(&aq_table, &aq_table_params);
	if (err)
		goto err_caches;
	if (AQ_COMPAT_PREEMPT_RT)
		aq_pool_refill_fn(NULL);
	WRITE_ONCE(aq_task_works_on, true);
	return 0;

err_caches:
	aq_caches_destroy();
	return err;
}

void aq_table_exit(void)
{
	/*
	 * A task that took a task work runs it before it returns to user
	 * space, which its system call does soon: wait for that, and a grace
	 * period more for the return after the slot is let go.
	 */
	WRITE_ONCE(aq_task_works_on, false);
	while (!bitmap_empty(aq_task_works_busy, AQ_TASK_WORKS))
		schedule_timeout_uninterruptible(1);
	synchronize_rcu();
	aq_table_clear();
	cancel_work_sync(&aq_ops_work);
	/* The RCU callbacks are this module's code: let them all run. */
	rcu_barrier();
	flush_work(&aq_unix_free);
	cancel_work_sync(&aq_pool_refill);
	aq_pools_drain();
	rhashtable_destroy(&aq_table);
	xa_destroy(&aq_ids);
	aq_caches_destroy();
}
