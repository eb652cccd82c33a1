/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The memory of the listeners' state: entries, their SYN and UDP parts and
 * their rings of enqueue times, each from a cache of its own (kmalloc()
 * would round them up to the next power of two), charged against
 * max_memory at the size they take in the slab; and the per-CPU parts,
 * charged for every possible CPU. Below everything that runs in the
 * probes.
 */
#ifndef AQUEUE_POOL_H
#define AQUEUE_POOL_H

#include <linux/compiler_types.h>
#include <linux/gfp.h>
#include <linux/types.h>

enum aq_obj_kind {
	AQ_OBJ_LISTENER,
	AQ_OBJ_UNIX_LISTENER,
	AQ_OBJ_SYN,
	AQ_OBJ_UDP,
	AQ_OBJ_RING,	/* a ring's first AQ_RING_MIN times */
	AQ_OBJ_KINDS
};

int aq_pool_init(void);
/* Once nothing allocated here is left. */
void aq_pool_exit(void);

/*
 * An object of @kind for a probe, zeroed and charged; or NULL at the
 * memory limit or without memory at once. @in_listen: from a listen()
 * call, whose task may refill the pools (defer.h).
 */
void *aq_obj_get(enum aq_obj_kind kind, bool in_listen);
/* Gives back, from a probe, an object aq_obj_get() gave. */
void aq_obj_put(enum aq_obj_kind kind, void *obj);
/* Frees, where freeing is allowed (an RCU callback, a work item). */
void aq_obj_free(enum aq_obj_kind kind, void *obj);
/*
 * A SYN or UDP part, at its first use in a probe; NULL (counted as a
 * refused part) at the limits.
 */
void *aq_part_get(enum aq_obj_kind kind);

/*
 * A part of @size bytes on every possible CPU, zeroed and charged, in
 * process context; or NULL (counted as a refused part) at the limits.
 */
void __percpu *aq_percpu_part_alloc(size_t size);
/* Where freeing is allowed, as aq_obj_free(). */
void aq_percpu_part_free(void __percpu *part, size_t size);

/*
 * A ring of @cap times, charged; or NULL at the limits. The first
 * (AQ_RING_MIN) comes from a cache of its own, and so on PREEMPT_RT from
 * its pool, in the probe.
 */
u64 *aq_ring_alloc(u32 cap, gfp_t gfp);
void aq_ring_free(u64 *ring, u32 cap);

/* Bytes held against max_memory. */
long aq_pool_memory(void);
/* Parts refused since load or the last reset. */
long aq_pool_parts_refused(void);
void aq_pool_reset_refused(void);

#endif /* AQUEUE_POOL_H */
