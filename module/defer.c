// SPDX-License-Identifier: GPL-2.0
/*
 * Deferred work; see defer.h.
 *
 * A listen() returns to user space at once, so it can do what its probes
 * left before it does: listen() then returns with its listener published,
 * and tasks that open listeners in a loop never find the pools empty,
 * where the work item alone falls behind. Only listen(): a task in
 * accept() or connect() may go on to sleep for as long as it likes, and
 * the module's unload waits for every task work it handed out. A task
 * takes the slot its address hashes to; when another task holds that one,
 * the work item does it.
 */
#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/bug.h>
#include <linux/hash.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/task_work.h>

#include "defer.h"
#include "table.h"

#define AQ_TASK_WORKS 64
#define AQ_DEFER_WORKS 1

static struct callback_head aq_task_works[AQ_TASK_WORKS];
static const struct task_struct *aq_task_work_owner[AQ_TASK_WORKS];
static DECLARE_BITMAP(aq_task_works_busy, AQ_TASK_WORKS);
/* Off while the module unloads, whose own tasks must not take one. */
static bool aq_task_works_on;

static struct work_struct *aq_defer_works[AQ_DEFER_WORKS];
static unsigned int aq_defer_nworks;

/*
 * The entries with something asked for, in the order they asked: an
 * entry's publication is asked for before it can be found, its mark and
 * ring only while it is in the table (checked under its lock, where its
 * unlinking sets unlinked), its retirement last; an entry is freed only
 * once it is off the list.
 */
static LLIST_HEAD(aq_ops);
static DEFINE_MUTEX(aq_ops_mutex);
static void (*aq_ops_apply)(struct aq_listener *l);

static void aq_ops_work_fn(struct work_struct *work)
{
	aq_defer_sync();
}

static DECLARE_WORK(aq_ops_work, aq_ops_work_fn);

void aq_defer_sync(void)
{
	struct aq_listener *l, *next;
	struct llist_node *list;

	mutex_lock(&aq_ops_mutex);
	list = llist_reverse_order(llist_del_all(&aq_ops));
	llist_for_each_entry_safe(l, next, list, op_node)
		aq_ops_apply(l);
	mutex_unlock(&aq_ops_mutex);
}

static void aq_task_work_fn(struct callback_head *head)
{
	unsigned int i;

	for (i = 0; i < aq_defer_nworks; i++)
		aq_defer_works[i]->func(aq_defer_works[i]);
	aq_defer_sync();
	WRITE_ONCE(aq_task_work_owner[head - aq_task_works], NULL);
	clear_bit_unlock(head - aq_task_works, aq_task_works_busy);
}

void aq_defer_kick(struct work_struct *work, bool in_listen)
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

void aq_defer_ask(struct aq_listener *l, u8 ops, bool in_listen)
{
	l->ops_pending |= ops;
	if (l->op_queued)
		return;
	l->op_queued = true;
	if (llist_add(&l->op_node, &aq_ops))
		aq_defer_kick(&aq_ops_work, in_listen);
}

void aq_defer_register(struct work_struct *work)
{
	if (WARN_ON(aq_defer_nworks == AQ_DEFER_WORKS))
		return;
	aq_defer_works[aq_defer_nworks++] = work;
}

void aq_defer_start(void (*apply)(struct aq_listener *l))
{
	aq_ops_apply = apply;
	WRITE_ONCE(aq_task_works_on, true);
}

void aq_defer_stop(void)
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
}

void aq_defer_cancel(void)
{
	cancel_work_sync(&aq_ops_work);
}
