/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The table of tracked listeners: one entry per listening socket (or
 * watched UDP socket), found by socket pointer in a hash of RCU lists on
 * the probes' path and by id in an xarray by the readers. Entries come from
 * pool.h and are freed after an RCU grace period.
 */
#ifndef AQUEUE_TABLE_H
#define AQUEUE_TABLE_H

#include <linux/bits.h>
#include <linux/cred.h>
#include <linux/in6.h>
#include <linux/llist.h>
#include <linux/net.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/uidgid.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/types.h>

#include "aqueue_format.h"
#include "defer.h"
#include "queue.h"
#include "watch.h"

struct sock;

/*
 * What the probes ask process context to do to an entry (aq_defer_ask(),
 * done by aq_table_apply()): bits of ops_pending.
 */
#define AQ_OP_PUBLISH	BIT(0)	/* into the ids */
#define AQ_OP_MARK	BIT(1)	/* the watch's mark follows watched */
#define AQ_OP_GROW_RING	BIT(2)	/* PREEMPT_RT: a ring for the next burst */
#define AQ_OP_RETIRE	BIT(3)	/* out of the ids, freed after a grace period */
#define AQ_OP_SYN_CPU	BIT(4)	/* TCP: the per-CPU part for SYNs */

/*
 * One tracked listener: its identity and lifetime (listener.c, table.c),
 * its queue model (queue.h) and its live state (watch.h).
 */
struct aq_listener {
	struct hlist_node node;		/* in its bucket, table.c's */
	/*
	 * The hash key. While sk_pinned, the entry holds a reference on the
	 * socket, so readers under RCU may read its counters: the kernel
	 * bumps sk_drops after the last probe of a refused final ACK has
	 * run, and only a read at read time sees it.
	 */
	struct sock *sk;
	bool sk_pinned;
	bool sk_ref;	/* a reference is held (dropped after unpinning) */
	bool unlinked;	/* out of the table: no CPU may remember it */
	/*
	 * In inet_csk_listen_stop(), which may hand the queue to another
	 * member of its reuseport group: retired when that returns.
	 */
	bool closing;
	/* Under lock, in a hole. */
	u8 watched:1;		/* watch.c's: to be marked for its pass */
	u8 op_queued:1;		/* defer.c's: op_node is queued */
	u8 ops_pending;		/* defer.c's: AQ_OP_* */
	u32 id;
	union {
		struct rcu_head rcu;
		struct llist_node free_node;	/* after the grace period */
	};
	struct llist_node op_node;

	/* Identity, copied when tracking begins so readers never touch sk. */
	unsigned long ino;	/* finds the owner when no probe saw one */
	u32 netns;
	u16 family;
	u16 type;		/* SOCK_STREAM, SOCK_SEQPACKET or SOCK_DGRAM */
	__be16 port;
	union {
		struct in6_addr addr;	/* IPv4 in the first four bytes */
		u8 path_len;		/* unix: of path[] below, 0: unbound */
	};
	pid_t pid;		/* in the initial pid namespace, for the log */
	char comm[TASK_COMM_LEN];
	/*
	 * The same process for /proc/aqueue's readers, who may see it only
	 * as ss -p would (see aq_listener_read_row()); under lock.
	 */
	struct pid *owner;
	/*
	 * The owner before, kept rather than put: a probe must not free it,
	 * and it may be the last reference (see aq_table_set_owner()).
	 */
	struct pid *owner_before;
	kuid_t owner_uid;
	/*
	 * The backlog the last listen() call asked for, before the kernel
	 * capped it at somaxconn, and that cap; both 0 when no listen()
	 * system call was seen (see aq_listener_listen()). Under lock.
	 */
	u32 backlog_asked;
	u32 somaxconn;

	raw_spinlock_t lock;	/* everything below */
	struct aq_queue q;	/* queue.c's */
	struct aq_watch w;	/* watch.c's */
	/*
	 * Unix listeners only, whose entries come from a cache with room for
	 * AQ_UNIX_PATH_MAX bytes here. Abstract names start with a NUL.
	 */
	char path[];
};

/*
 * Under l->lock: the current task, as @owner (a reference handed over),
 * owns @l. Returns a reference for the caller to put after the unlock,
 * never the last one.
 */
struct pid *aq_table_set_owner(struct aq_listener *l, struct pid *owner);

static inline bool aq_is_udp(const struct aq_listener *l)
{
	return l->type == SOCK_DGRAM;
}

int aq_table_init(void);
void aq_table_exit(void);

/*
 * Each CPU remembers the entry its probes found last: while a CPU serves
 * one busy listener, as under a connection storm, an event's lookup is
 * one comparison instead of a hash walk. An entry is forgotten by every
 * CPU before it is freed (aq_table_unlink()).
 */
DECLARE_PER_CPU(struct aq_listener *, aq_table_last_found);

struct aq_listener *aq_table_lookup_slow(struct sock *sk);

/*
 * Any context: the reuseport group of @l, named by the smallest id among
 * its tracked members (so the name stays while that member lives, and
 * every member shows the same), 0 for a socket in no group or no longer
 * pinned; and into @room what the other members' accept queues still
 * take (aq_queue_room()). The members are read without reuseport's lock
 * or theirs: one joining or leaving meanwhile may be missed.
 */
u32 aq_table_group(const struct aq_listener *l, u32 *room);

/*
 * Under rcu_read_lock(), from the probes' handlers only: they run with
 * preemption off, so the note is written and checked on one CPU.
 */
static inline struct aq_listener *aq_table_lookup(struct sock *sk)
{
	struct aq_listener *l = this_cpu_read(aq_table_last_found);

	if (likely(l && l->sk == sk))
		return l;
	return aq_table_lookup_slow(sk);
}

/*
 * A new entry for @sk, a live socket: its identity copied and a reference
 * held on it. NULL when the filter leaves it out or a limit is reached
 * (counted as filtered or untracked).
 */
struct aq_listener *aq_table_alloc(struct sock *sk, bool from_listen);
/*
 * Adds @l from aq_table_alloc(), once its model is set up. Returns @l, or
 * the entry another CPU added for the same socket first, or NULL; @l is
 * freed unless returned.
 */
struct aq_listener *aq_table_insert(struct aq_listener *l, bool from_listen);
/*
 * Takes @l out of the table, to be freed after a grace period. Returns
 * true if this call removed it.
 */
bool aq_table_unlink(struct aq_listener *l);

/*
 * Applies to the ids what the probes changed so far: the readers of ids
 * call it first, from process context.
 */
static inline void aq_table_sync(void)
{
	aq_defer_sync();
}

/* Under rcu_read_lock(): the entry with id @id, or NULL. */
struct aq_listener *aq_table_by_id(u32 id);
/* Under rcu_read_lock(): the first entry with an id of at least *@id. */
struct aq_listener *aq_table_find(u32 *id);
/*
 * The first entry from *@index on, or with @busy the first of those the
 * watch marked (AQ_OP_MARK) to be looked at every period; for
 * aq_table_for_each().
 */
struct aq_listener *aq_table_next(unsigned long *index, bool busy);
#define aq_table_for_each(l, index, busy)				\
	for ((index) = 0; ((l) = aq_table_next(&(index), (busy))); (index)++)

/* Stops tracking the listeners that the filter in force leaves out. */
void aq_table_refilter(void);
/*
 * Drops the references on the sockets, once no reader can still see one
 * pinned (sk_pinned cleared beforehand).
 */
void aq_table_release_sockets(void);
/* Forgets every listener; only while no probe is registered. */
void aq_table_clear(void);

struct aq_table_stats {
	int tracked;
	long untracked_listens;
	/* Events of untracked listeners, or that a part could not be had for. */
	long untracked_events;
	long filtered_events;
	/* Bytes of entries, their parts and rings. */
	long memory;
};

void aq_table_get_stats(struct aq_table_stats *stats);
/* Zeroes the counts of what was not tracked. */
void aq_table_reset_stats(void);

#endif /* AQUEUE_TABLE_H */
