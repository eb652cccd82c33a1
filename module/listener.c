// SPDX-License-Identifier: GPL-2.0
/* A tracked listener's life; see listener.h. */
#include <linux/compat.h>
#include <linux/cred.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <net/sock.h>
#include <asm/syscall.h>
#include <asm/unistd.h>

#include "events.h"
#include "listener.h"
#include "queue.h"
#include "sock.h"
#include "table.h"
#include "watch.h"

static DEFINE_RAW_SPINLOCK(aq_closed_lock);
static struct aq_closed aq_closed;

/*
 * Creates the entry for a listener seen for the first time, which is either
 * a listen() call or the first queue event of a socket that was already
 * listening when aqueue was loaded. @queued is what the kernel holds beyond
 * sk_ack_backlog right now (a child accept() just took).
 */
static struct aq_listener *aq_listener_create(struct sock *sk, u32 queued,
					      bool from_listen)
{
	struct aq_listener *l, *added;
	unsigned long flags;
	u64 now;

	l = aq_table_alloc(sk, from_listen);
	if (!l)
		return NULL;
	now = ktime_get_ns();
	aq_queue_init(l, sk, queued, now);
	aq_watch_init(l, now);
	added = aq_table_insert(l, from_listen);
	if (added != l)
		return added;

	/* A listener found with a queue already: the watch looks at it. */
	raw_spin_lock_irqsave(&l->lock, flags);
	if (aq_watch_busy(l, l->q.qlen))
		aq_watch_look_at(l);
	raw_spin_unlock_irqrestore(&l->lock, flags);

	/*
	 * A socket that stopped listening after the caller looked at it may
	 * already have passed inet_csk_listen_stop(), which found nothing to
	 * remove; the state is set before that call, so checking it after the
	 * insertion catches the race.
	 */
	smp_mb();
	if (!aq_sock_trackable(sk)) {
		aq_table_unlink(l);
		return NULL;
	}
	return l;
}

struct aq_listener *aq_listener_get(struct sock *sk, bool create)
{
	struct aq_listener *l;

	l = aq_table_lookup(sk);
	if (l || !create)
		return l;
	return aq_listener_create(sk, 0, false);
}

struct aq_listener *aq_listener_add_after_accept(struct sock *sk)
{
	return aq_listener_create(sk, 1, false);
}

/*
 * The backlog argument of the listen() system call the current task is in,
 * as the kernel compares it with somaxconn (a negative one, which asks for
 * the most allowed, as a large unsigned value); false when the call did
 * not come from listen(2) of this ABI: a kernel thread, io_uring, a 32-bit
 * task's socketcall(), whose arguments lie in user memory.
 */
static bool aq_listen_syscall_backlog(u32 *backlog)
{
	struct pt_regs *regs = task_pt_regs(current);
	unsigned long args[6];

	if ((current->flags & PF_KTHREAD) || in_compat_syscall() ||
	    syscall_get_nr(current, regs) != __NR_listen)
		return false;
	syscall_get_arguments(current, regs, args);
	*backlog = (u32)args[1];
	return true;
}

void aq_listener_listen(struct sock *sk)
{
	u32 backlog_asked = 0, somaxconn = 0;
	struct pid *owner, *old;
	struct aq_listener *l;
	unsigned long flags;
	bool created = false;

	l = aq_table_lookup(sk);
	if (!l) {
		l = aq_listener_create(sk, 0, true);
		created = l;
	}
	if (!l)
		return;
	owner = get_task_pid(current, PIDTYPE_TGID);
	if (aq_listen_syscall_backlog(&backlog_asked))
		somaxconn = aq_sock_somaxconn(sk);
	raw_spin_lock_irqsave(&l->lock, flags);
	aq_queue_set_backlog(l, aq_kernel_backlog(sk));
	l->backlog_asked = backlog_asked;
	l->somaxconn = somaxconn;
	old = aq_table_set_owner(l, owner);
	if (created)
		aq_watch_opened(l);
	raw_spin_unlock_irqrestore(&l->lock, flags);
	put_pid(old);
}

void aq_listener_received(struct aq_listener *l, struct sock *sk)
{
	struct pid *owner;
	unsigned long flags;

	/*
	 * A receive in softirq (a sockmap verdict) runs on whatever task it
	 * interrupted: that task is not the owner.
	 */
	if (!READ_ONCE(l->pid) && in_task()) {
		owner = get_task_pid(current, PIDTYPE_TGID);
		raw_spin_lock_irqsave(&l->lock, flags);
		if (!l->pid)
			owner = aq_table_set_owner(l, owner);
		raw_spin_unlock_irqrestore(&l->lock, flags);
		put_pid(owner);
	}
	aq_queue_dequeue(l, sk);
}

/*
 * Moves a listener's counts to the closed totals and forgets it. Also used
 * for a row whose socket is found no longer listening: a unix listener can
 * be picked up by a connect racing with its close after the close's probe
 * ran.
 */
static void aq_listener_retire(struct aq_listener *l, struct sock *sk)
{
	u64 enqueued, accepted, drained, migrated, drops;
	unsigned long flags;

	raw_spin_lock_irqsave(&l->lock, flags);
	aq_queue_sync(l, sk, ktime_get_ns());
	enqueued = l->q.enqueued;
	accepted = l->q.accepted;
	drained = l->q.qlen;
	migrated = l->q.migrated_out;
	drops = l->q.drops;
	raw_spin_unlock_irqrestore(&l->lock, flags);

	if (!aq_table_unlink(l))
		return;
	aq_watch_closed(l);
	raw_spin_lock_irqsave(&aq_closed_lock, flags);
	aq_closed.listeners++;
	aq_closed.enqueued += enqueued;
	aq_closed.accepted += accepted;
	aq_closed.drained += drained;
	aq_closed.migrated += migrated;
	aq_closed.drops += drops;
	raw_spin_unlock_irqrestore(&aq_closed_lock, flags);
}

void aq_listener_closing(struct aq_listener *l)
{
	WRITE_ONCE(l->closing, true);
}

void aq_listener_stop(struct sock *sk)
{
	struct aq_listener *l;

	l = aq_table_lookup(sk);
	if (!l)
		return;
	if (l->family != AF_UNIX)
		aq_queue_drops(l, sk, 0, AQ_DROP_OTHER);
	aq_listener_retire(l, sk);
}

/*
 * Under RCU: the socket's figures while the entry pins it, changing
 * nothing. Returns false if the socket is no longer listening: no reader
 * shows the row, which the periodic look retires.
 */
static bool aq_listener_peek(const struct aq_listener *l,
			     struct aq_sock_now *now)
{
	if (!READ_ONCE(l->sk_pinned)) {
		now->read = false;
		return true;
	}
	return aq_sock_read_now(l->sk, READ_ONCE(l->closing), now);
}

bool aq_listener_refresh(struct aq_listener *l)
{
	struct aq_sock_now sock_now;
	unsigned long flags;
	bool log;

	if (!aq_listener_peek(l, &sock_now)) {
		aq_listener_retire(l, l->sk);
		return false;
	}
	if (!sock_now.read)
		return true;
	raw_spin_lock_irqsave(&l->lock, flags);
	log = aq_queue_catch_up(l, sock_now.drops, sock_now.backlog);
	raw_spin_unlock_irqrestore(&l->lock, flags);
	if (log)
		aq_event_log_drop(l);
	return true;
}

bool aq_listener_read_row(struct aq_listener *l, const struct aq_viewer *v,
			  struct aq_row *row)
{
	struct aq_sock_now sock_now;
	unsigned long flags;

	if (!aq_listener_peek(l, &sock_now))
		return false;
	raw_spin_lock_irqsave(&l->lock, flags);
	/*
	 * As ss -p: a reader sees the process that owns a listener only if it
	 * may look at the process (the same user, or CAP_SYS_PTRACE), and by
	 * its pid in the reader's pid namespace, where it must exist.
	 */
	row->pid = 0;
	row->comm[0] = '\0';
	if (l->owner && (v->privileged || uid_eq(v->uid, l->owner_uid)))
		row->pid = pid_nr_ns(l->owner, v->pid_ns);
	if (row->pid)
		memcpy(row->comm, l->comm, sizeof(row->comm));
	row->backlog = sock_now.read ? sock_now.backlog : l->q.backlog;
	row->qlen = l->q.qlen;
	row->qpeak = l->q.qpeak;
	row->enqueued = l->q.enqueued;
	row->accepted = l->q.accepted;
	row->drops = aq_queue_drops_now(l, &sock_now);
	row->wait_max_ns = l->q.wait_max_ns;
	memcpy(row->wait_hist, l->q.wait_hist, sizeof(row->wait_hist));
	raw_spin_unlock_irqrestore(&l->lock, flags);
	return true;
}

bool aq_listener_read_detail(struct aq_listener *l, struct aq_detail *d)
{
	u64 now = ktime_get_ns(), known_drops, drops;
	struct aq_sock_now sock_now;
	u32 group_room;
	struct aq_queue_now qn;
	unsigned long flags;

	if (!aq_listener_peek(l, &sock_now))
		return false;
	d->synq_len = 0;
	d->rmem = 0;
	d->reuseport_group = aq_table_group(l, &group_room);
	/* The socket is pinned while it is tracked; else say 0. */
	if (READ_ONCE(l->sk_pinned)) {
		if (aq_is_udp(l))
			d->rmem = aq_kernel_rmem(l->sk);
		else if (l->family != AF_UNIX)
			d->synq_len = aq_kernel_synq_len(l->sk);
	}
	raw_spin_lock_irqsave(&l->lock, flags);
	d->qlen_area_ns = aq_queue_qlen_area(l, now);
	drops = aq_queue_drops_now(l, &sock_now);
	known_drops = l->q.drops_syn_acceptq + l->q.drops_ack_acceptq;
	d->drops_syn_acceptq = l->q.drops_syn_acceptq;
	d->drops_ack_acceptq = l->q.drops_ack_acceptq;
	d->drops_other = drops > known_drops ? drops - known_drops : 0;
	d->migrated_in = l->q.migrated_in;
	d->migrated_out = l->q.migrated_out;
	d->untimed = l->q.untimed;
	d->resynced = l->q.resynced;
	d->observed_ns = now > l->q.start_ns ? now - l->q.start_ns : 0;
	d->wait_sum_ns = l->q.wait_sum_ns;
	d->waited = l->q.waited;
	d->backlog_asked = l->backlog_asked;
	d->somaxconn = l->somaxconn;
	aq_queue_now(l, now, &qn);
	aq_watch_read(l, now, &qn, &d->live);
	memcpy(d->qlen_hist, l->q.qlen_hist, sizeof(d->qlen_hist));
	memcpy(d->wait_hist, l->q.wait_hist, sizeof(d->wait_hist));
	if (aq_is_udp(l)) {
		if (l->q.udp)
			d->udp = *l->q.udp;
		else
			memset(&d->udp, 0, sizeof(d->udp));
	} else if (l->family != AF_UNIX) {
		if (l->q.syn)
			d->syn = *l->q.syn;
		else
			memset(&d->syn, 0, sizeof(d->syn));
	}
	raw_spin_unlock_irqrestore(&l->lock, flags);
	if (!aq_is_udp(l) && l->family != AF_UNIX)
		aq_queue_add_cpus(l, d->qlen_hist, &d->syn);
	return true;
}

void aq_listeners_get_closed(struct aq_closed *closed)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&aq_closed_lock, flags);
	*closed = aq_closed;
	raw_spin_unlock_irqrestore(&aq_closed_lock, flags);
}

bool aq_listener_exists(u32 id)
{
	bool exists;

	aq_table_sync();
	rcu_read_lock();
	exists = aq_table_by_id(id);
	rcu_read_unlock();
	return exists;
}

int aq_listener_reset_one(u32 id)
{
	struct aq_listener *l;

	aq_table_sync();
	rcu_read_lock();
	l = aq_table_by_id(id);
	if (l)
		aq_queue_reset(l);
	rcu_read_unlock();
	return l ? 0 : -ENOENT;
}

void aq_listeners_reset(void)
{
	struct aq_listener *l;
	unsigned long index, flags;

	aq_table_sync();
	rcu_read_lock();
	aq_table_for_each(l, index, false)
		aq_queue_reset(l);
	rcu_read_unlock();

	raw_spin_lock_irqsave(&aq_closed_lock, flags);
	memset(&aq_closed, 0, sizeof(aq_closed));
	raw_spin_unlock_irqrestore(&aq_closed_lock, flags);
	aq_table_reset_stats();
	aq_queue_reset_resyncs();
}

void aq_listeners_unpin(void)
{
	struct aq_listener *l;
	unsigned long index;

	aq_table_sync();
	rcu_read_lock();
	aq_table_for_each(l, index, false) {
		aq_listener_refresh(l);
		WRITE_ONCE(l->sk_pinned, false);
	}
	rcu_read_unlock();
	aq_table_release_sockets();
}
