// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/aqueue_events: one text line per event, as it happens; and the
 * kernel log line of a listener's first drop. Both name the listener by
 * the proto and local fields of its /proc/aqueue row (text.c).
 *
 * Events are written to a ring of fixed-size records under one spinlock,
 * from any context (the probes run in softirq or process context, with
 * interrupts on or off); nothing on that path sleeps or formats more than
 * the listener's address. Each reader keeps its own position: several
 * readers each see every event, and one that falls more than the ring
 * behind gets a "lost N" line instead of what was overwritten. Readers are
 * woken through an irq_work, so that the probes never take a waitqueue
 * lock of their own.
 *
 * The file lives in /proc rather than in debugfs because procfs can take a
 * file away from its readers: at unload, readers are woken and see end of
 * file, in-flight reads are waited for, and every open file is released by
 * proc_remove(), so an open reader never pins the module and no file
 * operation of the module runs after it is gone. debugfs keeps a symlink,
 * /sys/kernel/debug/aqueue/events, next to the control file.
 */
#include <linux/capability.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/irq_work.h>
#include <linux/log2.h>
#include <linux/mutex.h>
#include <linux/nsproxy.h>
#include <linux/poll.h>
#include <linux/printk.h>
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include <net/net_namespace.h>

#include "aqueue_format.h"
#include "config.h"
#include "events.h"
#include "text.h"
#include "table.h"

#define AQ_EV_LINE_MAX	(AQ_LOCAL_MAX + AQ_COMM_MAX + 320)
#define AQ_EV_SIZE_MIN	16U
#define AQ_EV_SIZE_MAX	65536U

struct aq_event {
	u64 seq;
	u64 ts_ns;
	u64 a, b;
	u32 id, netns, qlen, backlog;
	u32 group, group_room;	/* overflow and stall */
	pid_t pid;
	u8 type;
	const char *proto;
	char comm[TASK_COMM_LEN];
	char local[AQ_LOCAL_MAX];
};

static const char *const aq_event_names[] = {
	[AQ_EV_OPEN] = "open",
	[AQ_EV_CLOSE] = "close",
	[AQ_EV_OVERFLOW] = "overflow",
	[AQ_EV_OVERFLOW_END] = "overflow_end",
	[AQ_EV_STALL] = "stall",
	[AQ_EV_RECOVER] = "recover",
};

static DEFINE_RAW_SPINLOCK(aq_ev_lock);	/* the ring, its head, aq_ev_dead */
static struct aq_event *aq_ev_ring;
static u32 aq_ev_mask;
static u64 aq_ev_head;			/* sequence number of the next event */
static bool aq_ev_dead;			/* unloading: readers see end of file */
static DECLARE_WAIT_QUEUE_HEAD(aq_ev_wq);
static struct proc_dir_entry *aq_ev_entry;

static void aq_ev_wake(struct irq_work *work)
{
	wake_up_interruptible_all(&aq_ev_wq);
}

static DEFINE_IRQ_WORK(aq_ev_wake_work, aq_ev_wake);

void aq_event_emit(struct aq_listener *l, enum aq_event_type type, u64 now,
		   u64 a, u64 b)
{
	u32 group = 0, group_room = 0;
	struct aq_event *ev;
	unsigned long flags;

	/* A member in trouble beside others with room: the group's look. */
	if (type == AQ_EV_OVERFLOW || type == AQ_EV_STALL)
		group = aq_table_group(l, &group_room);
	raw_spin_lock_irqsave(&aq_ev_lock, flags);
	if (!aq_ev_ring || aq_ev_dead) {
		raw_spin_unlock_irqrestore(&aq_ev_lock, flags);
		return;
	}
	ev = &aq_ev_ring[aq_ev_head & aq_ev_mask];
	ev->ts_ns = now;
	ev->type = type;
	ev->a = a;
	ev->b = b;
	ev->id = l->id;
	ev->netns = l->netns;
	ev->qlen = l->q.qlen;
	ev->backlog = l->q.backlog;
	ev->group = group;
	ev->group_room = group_room;
	ev->pid = l->pid;
	memcpy(ev->comm, l->comm, sizeof(ev->comm));
	ev->proto = aq_text_proto(l);
	aq_text_local(ev->local, sizeof(ev->local), l);
	ev->seq = aq_ev_head;
	WRITE_ONCE(aq_ev_head, aq_ev_head + 1);
	raw_spin_unlock_irqrestore(&aq_ev_lock, flags);

	/* Pairs with the barrier in prepare_to_wait() of a reader. */
	if (wq_has_sleeper(&aq_ev_wq))
		irq_work_queue(&aq_ev_wake_work);
}

struct aq_ev_reader {
	struct mutex lock;	/* one read() at a time on this file */
	u64 next;		/* sequence number of the next event to read */
	u32 netns;		/* the reader's network namespace */
	bool all;		/* privileged reader in the initial namespace */
	size_t len, off;	/* of the line being handed out */
	struct aq_event ev;
	char line[AQ_EV_LINE_MAX];
};

static void aq_ev_format(struct aq_ev_reader *r)
{
	const struct aq_event *ev = &r->ev;
	char comm[AQ_COMM_MAX];
	u32 nsec;
	u64 sec = div_u64_rem(ev->ts_ns, NSEC_PER_SEC, &nsec);
	size_t n;

	n = scnprintf(r->line, sizeof(r->line),
		      "%llu.%09u %s id %u netns %u proto %s local %s qnow %u backlog %u",
		      sec, nsec, aq_event_names[ev->type], ev->id, ev->netns,
		      ev->proto, ev->local, ev->qlen, ev->backlog);
	switch (ev->type) {
	case AQ_EV_OVERFLOW:
		n += scnprintf(r->line + n, sizeof(r->line) - n,
			       " drops %llu group %u group_room %u", ev->a,
			       ev->group, ev->group_room);
		break;
	case AQ_EV_OVERFLOW_END:
		n += scnprintf(r->line + n, sizeof(r->line) - n,
			       " drops %llu duration_ns %llu", ev->a, ev->b);
		break;
	case AQ_EV_STALL:
		n += scnprintf(r->line + n, sizeof(r->line) - n,
			       " hol_age_ns %llu since_accept_ns %llu group %u group_room %u",
			       ev->a, ev->b, ev->group, ev->group_room);
		break;
	case AQ_EV_RECOVER:
		n += scnprintf(r->line + n, sizeof(r->line) - n,
			       " stalled_ns %llu", ev->a);
		break;
	default:
		break;
	}
	aq_text_comm(comm, sizeof(comm), ev->comm);
	n += scnprintf(r->line + n, sizeof(r->line) - n, " pid %d comm %s\n",
		       ev->pid, comm);
	r->len = n;
	r->off = 0;
}

static void aq_ev_format_lost(struct aq_ev_reader *r, u64 lost)
{
	u32 nsec;
	u64 sec = div_u64_rem(ktime_get_ns(), NSEC_PER_SEC, &nsec);

	r->len = scnprintf(r->line, sizeof(r->line), "%llu.%09u lost %llu\n",
			   sec, nsec, lost);
	r->off = 0;
}

/* Puts the reader's next line in r->line; false if there is none yet. */
static bool aq_ev_next_line(struct aq_ev_reader *r)
{
	unsigned long flags;
	u64 head, oldest;

	raw_spin_lock_irqsave(&aq_ev_lock, flags);
	for (;;) {
		head = aq_ev_head;
		if (r->next == head) {
			raw_spin_unlock_irqrestore(&aq_ev_lock, flags);
			return false;
		}
		oldest = head > aq_ev_mask + 1 ? head - aq_ev_mask - 1 : 0;
		if (r->next < oldest) {
			u64 lost = oldest - r->next;

			r->next = oldest;
			raw_spin_unlock_irqrestore(&aq_ev_lock, flags);
			aq_ev_format_lost(r, lost);
			return true;
		}
		r->ev = aq_ev_ring[r->next & aq_ev_mask];
		r->next++;
		if (r->all || r->ev.netns == r->netns)
			break;
	}
	raw_spin_unlock_irqrestore(&aq_ev_lock, flags);
	aq_ev_format(r);
	return true;
}

static bool aq_ev_ready(const struct aq_ev_reader *r)
{
	return READ_ONCE(aq_ev_dead) || r->next != READ_ONCE(aq_ev_head);
}

static ssize_t aq_ev_read(struct file *file, char __user *ubuf, size_t count,
			  loff_t *ppos)
{
	struct aq_ev_reader *r = file->private_data;
	size_t done = 0, n;
	int err = 0;

	if (!count)
		return 0;
	if (mutex_lock_interruptible(&r->lock))
		return -ERESTARTSYS;
	while (done < count) {
		if (r->off == r->len && !aq_ev_next_line(r)) {
			/* Whole lines only once something was handed out. */
			if (done || READ_ONCE(aq_ev_dead))
				break;
			if (file->f_flags & O_NONBLOCK) {
				err = -EAGAIN;
				break;
			}
			err = wait_event_interruptible(aq_ev_wq,
						       aq_ev_ready(r));
			if (err)
				break;
			continue;
		}
		n = min(count - done, r->len - r->off);
		if (copy_to_user(ubuf + done, r->line + r->off, n)) {
			err = -EFAULT;
			break;
		}
		done += n;
		r->off += n;
		if (r->off < r->len)
			break;
	}
	mutex_unlock(&r->lock);
	return done ? done : err;
}

static __poll_t aq_ev_poll(struct file *file, struct poll_table_struct *wait)
{
	struct aq_ev_reader *r = file->private_data;

	poll_wait(file, &aq_ev_wq, wait);
	if (READ_ONCE(aq_ev_dead))
		return EPOLLIN | EPOLLRDNORM | EPOLLHUP;
	/* Events of other namespaces wake a reader that then finds none. */
	if (READ_ONCE(r->off) != READ_ONCE(r->len) || aq_ev_ready(r))
		return EPOLLIN | EPOLLRDNORM;
	return 0;
}

static int aq_ev_open(struct inode *inode, struct file *file)
{
	struct net *net = current->nsproxy->net_ns;
	struct aq_ev_reader *r;
	unsigned long flags;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	mutex_init(&r->lock);
	r->netns = net->ns.inum;
	r->all = net_eq(net, &init_net) &&
		 file_ns_capable(file, &init_user_ns, CAP_NET_ADMIN);
	/* A reader sees what happens from now on. */
	raw_spin_lock_irqsave(&aq_ev_lock, flags);
	r->next = aq_ev_head;
	raw_spin_unlock_irqrestore(&aq_ev_lock, flags);
	file->private_data = r;
	return nonseekable_open(inode, file);
}

static int aq_ev_release(struct inode *inode, struct file *file)
{
	struct aq_ev_reader *r = file->private_data;

	mutex_destroy(&r->lock);
	kfree(r);
	return 0;
}

static const struct proc_ops aq_ev_proc_ops = {
	.proc_open = aq_ev_open,
	.proc_read = aq_ev_read,
	.proc_poll = aq_ev_poll,
	.proc_release = aq_ev_release,
};

/* A setting only: a count of events would change under a reader's eyes. */
unsigned int aq_events_ring_size(void)
{
	return aq_ev_mask + 1;
}

/*
 * Formatted outside l->lock, from the identity, which does not change;
 * the counts are taken under it.
 */
void aq_event_log_drop(struct aq_listener *l)
{
	char local[AQ_LOCAL_MAX];
	u32 qlen, backlog;
	unsigned long flags;
	pid_t pid;

	raw_spin_lock_irqsave(&l->lock, flags);
	pid = l->pid;
	qlen = l->q.qlen;
	backlog = l->q.backlog;
	raw_spin_unlock_irqrestore(&l->lock, flags);
	aq_text_local(local, sizeof(local), l);
	pr_info_ratelimited("listener %u %s %s (pid %d) dropped; queue %u, backlog %u\n",
			    l->id, aq_text_proto(l), local, pid, qlen,
			    backlog);
}

int aq_events_init(void)
{
	unsigned int size = clamp(aq_events_size, AQ_EV_SIZE_MIN,
				  AQ_EV_SIZE_MAX);
	struct aq_event *ring;
	unsigned long flags;

	size = roundup_pow_of_two(size);
	ring = vzalloc(array_size(size, sizeof(*ring)));
	if (!ring)
		return -ENOMEM;
	raw_spin_lock_irqsave(&aq_ev_lock, flags);
	aq_ev_ring = ring;
	aq_ev_mask = size - 1;
	raw_spin_unlock_irqrestore(&aq_ev_lock, flags);

	aq_ev_entry = proc_create(AQUEUE_EVENTS_PROC_NAME, 0400, NULL,
				  &aq_ev_proc_ops);
	if (!aq_ev_entry) {
		pr_err("cannot create /proc/%s\n", AQUEUE_EVENTS_PROC_NAME);
		aq_ev_ring = NULL;
		vfree(ring);
		return -ENOMEM;
	}
	return 0;
}

void aq_events_exit(void)
{
	unsigned long flags;
	int tries;

	raw_spin_lock_irqsave(&aq_ev_lock, flags);
	aq_ev_dead = true;
	raw_spin_unlock_irqrestore(&aq_ev_lock, flags);
	/* Blocked readers return 0; proc_remove() waits for them. */
	wake_up_interruptible_all(&aq_ev_wq);
	proc_remove(aq_ev_entry);
	irq_work_sync(&aq_ev_wake_work);
	/*
	 * A task in poll() or select() leaves the waitqueue once woken, as
	 * procfs no longer calls into the module; epoll entries stay until
	 * told that the queue goes away.
	 */
	/* No new sleeper can come: procfs no longer calls aq_ev_poll(). */
	for (tries = 0; tries < 100 && waitqueue_active(&aq_ev_wq); tries++) {
		wake_up_interruptible_all(&aq_ev_wq);
		msleep(20);
	}
	/* Only epoll entries can be left; the same holds. */
	if (waitqueue_active(&aq_ev_wq))
		wake_up_pollfree(&aq_ev_wq);
	synchronize_rcu();
	vfree(aq_ev_ring);
	aq_ev_ring = NULL;
}
