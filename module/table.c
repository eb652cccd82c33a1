// SPDX-License-Identifier: GPL-2.0
/*
 * The table of tracked listeners; see table.h.
 *
 * Probes find a listener by socket pointer in an rhashtable; /proc/aqueue
 * walks an xarray indexed by the listener's id, so that a read resumed by
 * seq_file continues in O(log n) from where it stopped. Both are read under
 * RCU; an entry is freed only after a grace period, and readers never touch
 * the socket: what they print was copied into the entry.
 */
#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/llist.h>
#include <linux/pid.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <net/sock.h>

#include "config.h"
#include "filter.h"
#include "sock.h"
#include "table.h"

/*
 * Entries and their parts come from caches of their own: from kmalloc()
 * they would be rounded up to the next power of two.
 */
static struct kmem_cache *aq_listener_cache;
static struct kmem_cache *aq_unix_listener_cache;
static struct kmem_cache *aq_syn_cache;
static struct kmem_cache *aq_udp_cache;

struct rhashtable aq_table;
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
static atomic_long_t aq_untracked_events;
static atomic_long_t aq_filtered_events;
static atomic_long_t aq_memory;

bool aq_table_charge(size_t bytes)
{
	if (atomic_long_add_return(bytes, &aq_memory) >
	    (long)READ_ONCE(aq_max_memory)) {
		atomic_long_sub(bytes, &aq_memory);
		return false;
	}
	return true;
}

void aq_table_uncharge(size_t bytes)
{
	atomic_long_sub(bytes, &aq_memory);
}

/* An object from one of the caches, charged at the size it takes there. */
static void *aq_cache_alloc(struct kmem_cache *cache)
{
	size_t size = kmem_cache_size(cache);
	void *obj;

	if (!aq_table_charge(size))
		return NULL;
	obj = kmem_cache_zalloc(cache, GFP_ATOMIC | __GFP_NOWARN);
	if (!obj)
		aq_table_uncharge(size);
	return obj;
}

static void aq_cache_free(struct kmem_cache *cache, void *obj)
{
	aq_table_uncharge(kmem_cache_size(cache));
	kmem_cache_free(cache, obj);
}

static struct kmem_cache *aq_listener_cache_of(u16 family)
{
	return family == AF_UNIX ? aq_unix_listener_cache : aq_listener_cache;
}

static void aq_listener_free(struct aq_listener *l)
{
	aq_table_uncharge(l->ring_cap * sizeof(*l->ring));
	if (l->sk_ref)
		sock_put(l->sk);
	put_pid(l->owner);
	kfree(l->ring);
	if (aq_is_udp(l)) {
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

struct aq_syn *aq_table_syn_alloc(void)
{
	struct aq_syn *syn = aq_cache_alloc(aq_syn_cache);

	if (!syn)
		atomic_long_inc(&aq_untracked_events);
	return syn;
}

struct aq_udp *aq_table_udp_alloc(void)
{
	struct aq_udp *udp = aq_cache_alloc(aq_udp_cache);

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

/* Out of the table: no CPU may still find @l when its grace period ends. */
static void aq_table_forget(struct aq_listener *l)
{
	int cpu;

	WRITE_ONCE(l->unlinked, true);
	/* Pairs with the one in aq_table_lookup_slow(). */
	smp_mb();
	for_each_possible_cpu(cpu)
		cmpxchg(per_cpu_ptr(&aq_table_last_found, cpu), l, NULL);
	call_rcu(&l->rcu, aq_listener_free_rcu);
}

/*
 * An entry's id is reserved before it enters the table, and the entry is
 * stored there only under the ids' lock and only if no unlink came first:
 * an unlink racing the insertion never leaves it in the ids.
 */
bool aq_table_unlink(struct aq_listener *l)
{
	unsigned long flags;

	if (rhashtable_remove_fast(&aq_table, &l->node, aq_table_params))
		return false;
	xa_lock_irqsave(&aq_ids, flags);
	WRITE_ONCE(l->unlinked, true);
	__xa_erase(&aq_ids, l->id);
	xa_unlock_irqrestore(&aq_ids, flags);
	atomic_dec(&aq_tracked);
	aq_table_forget(l);
	return true;
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
	l->family = sk->sk_family;
	l->type = sk->sk_type;
	if (sk->sk_family == AF_UNIX) {
		l->path_len = aq_sock_unix_path(sk, l->path);
		return;
	}
	l->port = htons(aq_sock_port(sk));
	aq_sock_inet_addr(sk, &l->addr);
}

struct aq_listener *aq_table_alloc(struct sock *sk, bool from_listen)
{
	struct aq_listener *l;

	if (!aq_filter_match(aq_sock_netns(sk), sk->sk_family,
			     aq_sock_port(sk),
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
	return l;

untracked:
	aq_count_untracked(from_listen);
	return NULL;
}

static void aq_table_release_id(u32 id)
{
	unsigned long flags;

	xa_lock_irqsave(&aq_ids, flags);
	__xa_erase(&aq_ids, id);
	xa_unlock_irqrestore(&aq_ids, flags);
}

struct aq_listener *aq_table_insert(struct aq_listener *l, bool from_listen)
{
	struct aq_listener *old;
	unsigned long flags;
	int err;

	/* Reserved: readers see nothing at the id until the entry is in. */
	xa_lock_irqsave(&aq_ids, flags);
	err = __xa_alloc_cyclic(&aq_ids, &l->id, NULL, xa_limit_32b,
				&aq_next_id, GFP_ATOMIC | __GFP_NOWARN);
	xa_unlock_irqrestore(&aq_ids, flags);
	if (err < 0) {
		sock_put(l->sk);
		aq_cache_free(aq_listener_cache_of(l->family), l);
		aq_count_untracked(from_listen);
		return NULL;
	}
	atomic_inc(&aq_tracked);
	old = rhashtable_lookup_get_insert_fast(&aq_table, &l->node,
						aq_table_params);
	if (old) {
		atomic_dec(&aq_tracked);
		aq_table_release_id(l->id);
		sock_put(l->sk);
		aq_cache_free(aq_listener_cache_of(l->family), l);
		return IS_ERR(old) ? NULL : old;
	}
	xa_lock_irqsave(&aq_ids, flags);
	if (!l->unlinked)
		__xa_store(&aq_ids, l->id, l, GFP_ATOMIC | __GFP_NOWARN);
	xa_unlock_irqrestore(&aq_ids, flags);
	return l;
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
 * The id is set under the ids' lock when the entry is stored there: before
 * that, or after the entry left, there is nothing to mark, and the next
 * event tries again.
 */
void aq_table_watch(struct aq_listener *l)
{
	unsigned long flags;

	xa_lock_irqsave(&aq_ids, flags);
	if (l->id) {
		__xa_set_mark(&aq_ids, l->id, AQ_WATCH_MARK);
		l->watched = true;
	}
	xa_unlock_irqrestore(&aq_ids, flags);
}

void aq_table_unwatch(struct aq_listener *l)
{
	unsigned long flags;

	l->watched = false;
	xa_lock_irqsave(&aq_ids, flags);
	__xa_clear_mark(&aq_ids, l->id, AQ_WATCH_MARK);
	xa_unlock_irqrestore(&aq_ids, flags);
}

void aq_table_refilter(void)
{
	struct aq_listener *l;
	unsigned long index;

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

	xa_for_each(&aq_ids, index, l)
		aq_table_unlink(l);
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
	kmem_cache_destroy(aq_udp_cache);
	kmem_cache_destroy(aq_syn_cache);
	kmem_cache_destroy(aq_unix_listener_cache);
	kmem_cache_destroy(aq_listener_cache);
}

int aq_table_init(void)
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

void aq_table_exit(void)
{
	aq_table_clear();
	/* The RCU callbacks are this module's code: let them all run. */
	rcu_barrier();
	flush_work(&aq_unix_free);
	rhashtable_destroy(&aq_table);
	xa_destroy(&aq_ids);
	aq_caches_destroy();
}
