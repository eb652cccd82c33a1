// SPDX-License-Identifier: GPL-2.0
/* The memory of the listeners' state; see pool.h. */
#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "aqueue_compat.h"
#include "config.h"
#include "count.h"
#include "defer.h"
#include "pool.h"
#include "sock.h"
#include "table.h"

/*
 * What the probes allocate comes from the slab with GFP_ATOMIC, except on
 * PREEMPT_RT, where a handler may neither allocate nor free: there it
 * comes from a few objects of each cache that a work item keeps ready,
 * and goes back to them. When they run out faster than the work refills
 * them, the event is counted as untracked, as at the memory limit.
 */
#define AQ_POOL_FILL 128

struct aq_obj_pool {
	struct kmem_cache *cache;
	raw_spinlock_t lock;
	void **top;		/* a stack linked through each object's first word */
	unsigned int count;
};

static struct aq_obj_pool aq_objs[AQ_OBJ_KINDS];
static atomic_long_t aq_memory;
AQ_COUNT_DEFINE(aq_parts_refused);

static void aq_pool_refill_fn(struct work_struct *work);
static DECLARE_WORK(aq_pool_refill, aq_pool_refill_fn);

static bool aq_charge(size_t bytes)
{
	if (atomic_long_add_return(bytes, &aq_memory) >
	    (long)READ_ONCE(aq_max_memory)) {
		atomic_long_sub(bytes, &aq_memory);
		return false;
	}
	return true;
}

static void aq_uncharge(size_t bytes)
{
	atomic_long_sub(bytes, &aq_memory);
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

void *aq_obj_get(enum aq_obj_kind kind, bool in_listen)
{
	struct aq_obj_pool *pool = &aq_objs[kind];
	size_t size = kmem_cache_size(pool->cache);
	void *obj;

	if (!aq_charge(size))
		return NULL;
	if (!AQ_COMPAT_PREEMPT_RT) {
		obj = kmem_cache_zalloc(pool->cache, GFP_ATOMIC | __GFP_NOWARN);
	} else {
		obj = aq_pool_pop(pool);
		if (READ_ONCE(pool->count) < AQ_POOL_FILL / 2)
			aq_defer_kick(&aq_pool_refill, in_listen);
		if (obj)
			memset(obj, 0, size);
	}
	if (!obj)
		aq_uncharge(size);
	return obj;
}

void aq_obj_put(enum aq_obj_kind kind, void *obj)
{
	struct aq_obj_pool *pool = &aq_objs[kind];

	aq_uncharge(kmem_cache_size(pool->cache));
	if (!AQ_COMPAT_PREEMPT_RT) {
		kmem_cache_free(pool->cache, obj);
		return;
	}
	aq_pool_push(pool, obj);
	if (READ_ONCE(pool->count) > 2 * AQ_POOL_FILL)
		schedule_work(&aq_pool_refill);
}

void aq_obj_free(enum aq_obj_kind kind, void *obj)
{
	struct aq_obj_pool *pool = &aq_objs[kind];

	aq_uncharge(kmem_cache_size(pool->cache));
	kmem_cache_free(pool->cache, obj);
}

void *aq_part_get(enum aq_obj_kind kind)
{
	void *part = aq_obj_get(kind, false);

	if (!part)
		aq_count_inc(&aq_parts_refused);
	return part;
}

u64 *aq_ring_alloc(u32 cap, gfp_t gfp)
{
	u64 *ring;

	if (cap == AQ_RING_MIN)
		return aq_obj_get(AQ_OBJ_RING, false);
	if (!aq_charge(cap * sizeof(*ring)))
		return NULL;
	ring = kmalloc_array(cap, sizeof(*ring), gfp);
	if (!ring)
		aq_uncharge(cap * sizeof(*ring));
	return ring;
}

void aq_ring_free(u64 *ring, u32 cap)
{
	if (cap == AQ_RING_MIN) {
		aq_obj_free(AQ_OBJ_RING, ring);
		return;
	}
	aq_uncharge(cap * sizeof(*ring));
	kfree(ring);
}

/* Per-CPU parts take their size on every possible CPU. */
static size_t aq_percpu_bytes(size_t size)
{
	return size * num_possible_cpus();
}

void __percpu *aq_percpu_part_alloc(size_t size)
{
	void __percpu *part = NULL;

	if (aq_charge(aq_percpu_bytes(size))) {
		part = __alloc_percpu_gfp(size, sizeof(u64),
					  GFP_KERNEL | __GFP_NOWARN);
		if (!part)
			aq_uncharge(aq_percpu_bytes(size));
	}
	if (!part)
		aq_count_inc(&aq_parts_refused);
	return part;
}

void aq_percpu_part_free(void __percpu *part, size_t size)
{
	aq_uncharge(aq_percpu_bytes(size));
	free_percpu(part);
}

long aq_pool_memory(void)
{
	return atomic_long_read(&aq_memory);
}

long aq_pool_parts_refused(void)
{
	return aq_count_read(&aq_parts_refused);
}

void aq_pool_reset_refused(void)
{
	aq_count_reset(&aq_parts_refused);
}

static void aq_caches_destroy(void)
{
	int kind;

	for (kind = 0; kind < AQ_OBJ_KINDS; kind++)
		kmem_cache_destroy(aq_objs[kind].cache);
}

int aq_pool_init(void)
{
	int kind;

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
			aq_caches_destroy();
			return -ENOMEM;
		}
		raw_spin_lock_init(&aq_objs[kind].lock);
	}
	if (AQ_COMPAT_PREEMPT_RT) {
		aq_pool_refill_fn(NULL);
		aq_defer_register(&aq_pool_refill);
	}
	return 0;
}

void aq_pool_exit(void)
{
	cancel_work_sync(&aq_pool_refill);
	aq_pools_drain();
	aq_caches_destroy();
}
