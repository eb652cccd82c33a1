/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the probes leave to process context, done soon: by a work item or,
 * when they ran in listen(), by that task on its way back to user space.
 * Below everything that runs in the probes; it knows only work items.
 */
#ifndef AQUEUE_DEFER_H
#define AQUEUE_DEFER_H

#include <linux/types.h>
#include <linux/workqueue.h>

struct aq_listener;

/*
 * Under l->lock, unless no one else can see @l yet: asks process context
 * for @ops (AQ_OP_*, table.h) on @l, which queues itself once. @in_listen:
 * from a listen() call, whose task may do it (see defer.c).
 */
void aq_defer_ask(struct aq_listener *l, u8 ops, bool in_listen);
/*
 * Applies, in process context, what the entries asked for, in the order
 * they asked (the readers of the ids call it first).
 */
void aq_defer_sync(void);

/*
 * @work runs, in the task that called listen() when @in_listen says so,
 * or else as a work item. A task runs every work given to
 * aq_defer_register(), then aq_defer_sync().
 */
void aq_defer_kick(struct work_struct *work, bool in_listen);
/* At init, at most one. */
void aq_defer_register(struct work_struct *work);
/* @apply: what aq_defer_sync() does to each entry that asked. */
void aq_defer_start(void (*apply)(struct aq_listener *l));
/* No task work from now on; waits for the ones handed out. */
void aq_defer_stop(void);
/* After the last entry asked: no work item is left running. */
void aq_defer_cancel(void);

#endif /* AQUEUE_DEFER_H */
