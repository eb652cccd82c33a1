/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tracked listener's life: created at listen() or at the first event of
 * a socket that was listening before aqueue came, retired when it closes,
 * and brought up to date with its socket (drops, backlog, a close no probe
 * saw) by the periodic look. Readers get copies taken under its lock, with
 * the socket's drops and backlog as they are now, and change nothing.
 */
#ifndef AQUEUE_LISTENER_H
#define AQUEUE_LISTENER_H

#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/uidgid.h>
#include <linux/types.h>

#include "aqueue_format.h"
#include "table.h"
#include "watch.h"

struct sock;

/* Under rcu_read_lock(), with sk a live socket that aqueue tracks. */
struct aq_listener *aq_listener_get(struct sock *sk, bool create);
/*
 * A new row for a listener no probe had met, whose queue a child has just
 * left; under rcu_read_lock().
 */
struct aq_listener *aq_listener_add_after_accept(struct sock *sk);
void aq_listener_listen(struct sock *sk);
/*
 * A UDP socket's reader took a datagram; the first (in a task) names the
 * socket's process, for a socket found by its first datagram.
 */
void aq_listener_received(struct aq_listener *l, struct sock *sk);
/*
 * The listener is closing: its row stays until aq_listener_stop(), and
 * meanwhile reuseport may hand its queue over.
 */
void aq_listener_closing(struct aq_listener *l);
void aq_listener_stop(struct sock *sk);

/* What a row of /proc/aqueue shows. */
struct aq_row {
	pid_t pid;
	char comm[TASK_COMM_LEN];
	u32 backlog;
	u32 qlen;
	u32 qpeak;
	u64 enqueued;
	u64 accepted;
	u64 drops;
	u64 wait_max_ns;
	u64 wait_hist[AQUEUE_WAIT_BUCKETS];
};

/* What the detail lines of a listener in /proc/aqueue show. */
struct aq_detail {
	u64 drops_syn_acceptq;
	u64 drops_ack_acceptq;
	u64 drops_other;
	u64 migrated_in;
	u64 migrated_out;
	u64 untimed;
	u64 resynced;
	u64 observed_ns;
	u64 qlen_area_ns;
	u64 wait_sum_ns;
	u64 waited;
	u32 backlog_asked;	/* as struct aq_listener's */
	u32 somaxconn;
	u32 reuseport_group;	/* see aq_table_group() */
	struct aq_watch_live live;
	u64 qlen_hist[AQUEUE_QLEN_BUCKETS];
	u64 wait_hist[AQUEUE_WAIT_BUCKETS];
	/* The socket's now, 0 once it is no longer pinned. */
	u32 synq_len;
	u32 rmem;
	/* TCP's or UDP's part, zeroes if it has none yet. */
	union {
		struct aq_syn syn;
		struct aq_udp udp;
	};
};

/* Who reads /proc/aqueue, for what it may see of the listeners' owners. */
struct aq_viewer {
	struct pid_namespace *pid_ns;
	kuid_t uid;
	bool privileged;	/* CAP_SYS_PTRACE in the initial namespace */
};

/*
 * Under rcu_read_lock(). Return false, and copy nothing, if the socket
 * is no longer listening: the row is not shown, and the periodic look
 * retires it. The owner is left out (pid 0, comm empty) where @v may not
 * see it.
 */
bool aq_listener_read_row(struct aq_listener *l, const struct aq_viewer *v,
			  struct aq_row *row);
bool aq_listener_read_detail(struct aq_listener *l, struct aq_detail *detail);

/* What the listeners that closed had when they went away. */
struct aq_closed {
	u64 listeners;
	u64 enqueued;
	u64 accepted;
	u64 drained;
	u64 migrated;	/* handed to other members of a reuseport group */
	u64 drops;
};

void aq_listeners_get_closed(struct aq_closed *closed);

/*
 * The periodic look's catch-up with the socket while the entry pins it,
 * under RCU: drops that no probe saw, the backlog, a close that no probe
 * saw. Returns false if the socket turned out to be no longer listening:
 * the row is then retired.
 */
bool aq_listener_refresh(struct aq_listener *l);

bool aq_listener_exists(u32 id);
int aq_listener_reset_one(u32 id);
/* Every listener's counts, the closed totals and the global counts. */
void aq_listeners_reset(void);
/* Lets go of every socket (the probes are off): rows keep what they had. */
void aq_listeners_unpin(void);

#endif /* AQUEUE_LISTENER_H */
