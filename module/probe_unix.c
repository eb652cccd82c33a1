// SPDX-License-Identifier: GPL-2.0
/*
 * Where a connection enters and leaves the queue of a unix domain stream
 * or seqpacket listener:
 *
 *   unix_listen                   listen(): create, backlog
 *   unix_release_sock             the listener closes
 *   security_unix_stream_connect  an embryo joins the listener's queue
 *   unix_accept                   accept() took it
 *   unix_wait_for_peer            a blocking connect sleeps on a full queue
 *   unix_find_other,              a non-blocking connect refused with
 *   unix_stream_connect           EAGAIN, and for which listener
 *
 * The queue is the listener's receive queue of embryo sockets;
 * unix_stream_connect() finds the listener, passes the LSM hook with both
 * sockets and queues the embryo under the listener's state lock;
 * unix_accept() dequeues.
 */
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/hash.h>
#include <linux/kprobes.h>
#include <linux/log2.h>
#include <linux/net.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <net/sock.h>

#include "listener.h"
#include "probe_unix.h"
#include "probes.h"
#include "queue.h"
#include "sock.h"

/*
 * The probes, in the order they are registered: a listener's end is
 * watched before its start. Each is described in aq_unix_table below.
 */
enum {
	AQ_PROBE_RELEASE,
	AQ_PROBE_LISTEN,
	AQ_PROBE_ENQUEUE,
	AQ_PROBE_ACCEPT,
	AQ_PROBE_WAIT,
	AQ_PROBE_FIND,
	AQ_PROBE_CONNECT,
	AQ_PROBE_COUNT
};

static DEFINE_PER_CPU(unsigned long[AQ_PROBE_COUNT], aq_probe_hits);

static int aq_unix_listen_entry(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	struct socket *sock = (struct socket *)aq_probe_arg(regs, 0);
	struct sock *sk = sock->sk;

	aq_hit(AQ_PROBE_LISTEN);
	if (!sk)
		return 1;
	*(struct sock **)ri->data = sk;
	return 0;
}

static int aq_unix_release(struct kprobe *p, struct pt_regs *regs)
{
	struct sock *sk = aq_sk_arg(regs, 0);

	aq_hit(AQ_PROBE_RELEASE);
	if (READ_ONCE(sk->sk_state) == TCP_LISTEN) {
		rcu_read_lock();
		aq_listener_stop(sk);
		rcu_read_unlock();
	}
	return 0;
}

static bool aq_is_unix_listener(const struct sock *sk)
{
	return sk->sk_family == AF_UNIX && aq_sock_trackable(sk);
}

static int aq_unix_enqueue_entry(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	struct sock *other = aq_sk_arg(regs, 1);

	aq_hit(AQ_PROBE_ENQUEUE);
	if (!aq_is_unix_listener(other) ||
	    !aq_probe_update(other, true, aq_queue_request, other))
		return 1;
	*(struct sock **)ri->data = other;
	return 0;
}

/* The LSM said yes: the embryo is queued before the listener is unlocked. */
static int aq_unix_enqueue_return(struct kretprobe_instance *ri,
				  struct pt_regs *regs)
{
	struct sock *other = *(struct sock **)ri->data;

	if (!regs_return_value(regs))
		aq_probe_update(other, false, aq_queue_enqueue, other, 0);
	return 0;
}

static int aq_unix_accept_entry(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	struct socket *sock = (struct socket *)aq_probe_arg(regs, 0);
	struct sock *sk = sock->sk;

	aq_hit(AQ_PROBE_ACCEPT);
	if (!sk || sk->sk_family != AF_UNIX)
		return 1;
	*(struct sock **)ri->data = sk;
	return 0;
}

static int aq_unix_accept_return(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	/* unix_accept() returns 0 or -errno. */
	if (!regs_return_value(regs))
		aq_probe_accepted(*(struct sock **)ri->data);
	return 0;
}

/* A blocking connect found the queue full and sleeps until it drains. */
static int aq_unix_wait(struct kprobe *p, struct pt_regs *regs)
{
	struct sock *other = aq_sk_arg(regs, 0);

	aq_hit(AQ_PROBE_WAIT);
	if (aq_is_unix_listener(other))
		aq_probe_update(other, true, aq_queue_waited);
	return 0;
}

/*
 * A non-blocking connect to a full queue fails with EAGAIN without passing
 * any function that names the listener, so the listener that
 * unix_find_other() returned to this task is remembered until its connect
 * returns. Only a connect that may stop waiting is refused with EAGAIN: a
 * non-blocking one, or one with a send timeout. Such a connect claims its
 * task's slot at its entry; the others skip both return probes. A slot
 * shared by two tasks at once loses the attribution; the entry holds a
 * socket pointer only to compare it with tracked listeners, which pin
 * theirs.
 */
#define AQ_FOUND_SLOTS 256

static struct aq_found_slot {
	raw_spinlock_t lock;
	const struct task_struct *task;
	const struct sock *other;
} aq_found[AQ_FOUND_SLOTS];

void aq_probe_unix_init(void)
{
	unsigned int i;

	for (i = 0; i < AQ_FOUND_SLOTS; i++)
		raw_spin_lock_init(&aq_found[i].lock);
}

static struct aq_found_slot *aq_found_slot(void)
{
	return &aq_found[hash_ptr(current, ilog2(AQ_FOUND_SLOTS))];
}

static int aq_unix_connect_entry(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	struct socket *sock = (struct socket *)aq_probe_arg(regs, 0);
	int flags = (int)aq_probe_arg(regs, 3);
	struct aq_found_slot *slot;
	unsigned long irqflags;

	aq_hit(AQ_PROBE_CONNECT);
	if (!(flags & O_NONBLOCK) &&
	    READ_ONCE(sock->sk->sk_sndtimeo) == MAX_SCHEDULE_TIMEOUT)
		return 1;
	slot = aq_found_slot();
	raw_spin_lock_irqsave(&slot->lock, irqflags);
	WRITE_ONCE(slot->task, current);
	slot->other = NULL;
	raw_spin_unlock_irqrestore(&slot->lock, irqflags);
	return 0;
}

/* Called inside unix_stream_connect(), after its entry. */
static int aq_unix_find_entry(struct kretprobe_instance *ri,
			      struct pt_regs *regs)
{
	int type = (int)aq_probe_arg(regs, 3);

	aq_hit(AQ_PROBE_FIND);
	if (READ_ONCE(aq_found_slot()->task) != current)
		return 1;
	return type == SOCK_STREAM || type == SOCK_SEQPACKET ? 0 : 1;
}

static int aq_unix_find_return(struct kretprobe_instance *ri,
			       struct pt_regs *regs)
{
	struct sock *other = (struct sock *)regs_return_value(regs);
	struct aq_found_slot *slot;
	unsigned long flags;

	if (IS_ERR_OR_NULL(other))
		return 0;
	slot = aq_found_slot();
	raw_spin_lock_irqsave(&slot->lock, flags);
	if (slot->task == current)
		slot->other = other;
	raw_spin_unlock_irqrestore(&slot->lock, flags);
	return 0;
}

static int aq_unix_connect_return(struct kretprobe_instance *ri,
				  struct pt_regs *regs)
{
	struct aq_found_slot *slot = aq_found_slot();
	const struct sock *other = NULL;
	unsigned long flags;

	raw_spin_lock_irqsave(&slot->lock, flags);
	if (slot->task == current) {
		other = slot->other;
		WRITE_ONCE(slot->task, NULL);
	}
	raw_spin_unlock_irqrestore(&slot->lock, flags);
	if (other && (int)regs_return_value(regs) == -EAGAIN)
		aq_probe_update((struct sock *)other, false,
				aq_queue_refused);
	return 0;
}

static struct aq_probe aq_unix_table[AQ_PROBE_COUNT] = {
	[AQ_PROBE_RELEASE] = AQ_KPROBE_FLAGS("unix_release_sock",
		aq_unix_release, AQ_PROBE_QUEUE),
	[AQ_PROBE_LISTEN] = AQ_KRETPROBE("unix_listen",
		aq_unix_listen_entry, aq_probe_listen_return,
		sizeof(struct sock *), 0),
	[AQ_PROBE_ENQUEUE] = AQ_KRETPROBE("security_unix_stream_connect",
		aq_unix_enqueue_entry, aq_unix_enqueue_return,
		sizeof(struct sock *), AQ_PROBE_QUEUE),
	[AQ_PROBE_ACCEPT] = AQ_KRETPROBE("unix_accept",
		aq_unix_accept_entry, aq_unix_accept_return,
		sizeof(struct sock *), AQ_PROBE_SLEEPS | AQ_PROBE_QUEUE),
	[AQ_PROBE_WAIT] = AQ_KPROBE("unix_wait_for_peer", aq_unix_wait),
	[AQ_PROBE_FIND] = AQ_KRETPROBE("unix_find_other",
		aq_unix_find_entry, aq_unix_find_return,
		0, 0),
	[AQ_PROBE_CONNECT] = AQ_KRETPROBE("unix_stream_connect",
		aq_unix_connect_entry, aq_unix_connect_return,
		0, AQ_PROBE_SLEEPS),
};

AQ_PROBE_SET(aq_unix_probes, aq_unix_table, false);
