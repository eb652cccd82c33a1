// SPDX-License-Identifier: GPL-2.0
/* The periodic look; see look.h. */
#include <linux/ktime.h>
#include <linux/rcupdate.h>
#include <linux/workqueue.h>

#include "listener.h"
#include "look.h"
#include "probes.h"
#include "queue.h"
#include "table.h"
#include "watch.h"

#define AQ_LOOK_ALL_NS (10 * NSEC_PER_SEC)
static u64 aq_looked_all_ns;
static bool aq_looking;

static void aq_look_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(aq_look_work, aq_look_fn);

static void aq_look_at_listeners(bool all)
{
	struct aq_queue_now qn;
	struct aq_listener *l;
	unsigned long index, flags;
	u64 now;

	aq_table_sync();
	rcu_read_lock();
	aq_table_for_each(l, index, !all) {
		if (!aq_listener_refresh(l))
			continue;
		raw_spin_lock_irqsave(&l->lock, flags);
		now = ktime_get_ns();
		aq_queue_now(l, now, &qn);
		aq_watch_tick(l, now, &qn);
		aq_watch_update_mark(l, qn.qlen);
		raw_spin_unlock_irqrestore(&l->lock, flags);
	}
	rcu_read_unlock();
}

static void aq_look_fn(struct work_struct *work)
{
	u64 now = ktime_get_ns();
	bool all = now - aq_looked_all_ns >= AQ_LOOK_ALL_NS;

	if (all)
		aq_looked_all_ns = now;
	/* Misses that no accept or datagram has noticed yet. */
	aq_probes_check_missed();
	aq_look_at_listeners(all);
	if (READ_ONCE(aq_looking))
		schedule_delayed_work(&aq_look_work, aq_watch_period());
}

void aq_look_start(void)
{
	WRITE_ONCE(aq_looking, true);
	schedule_delayed_work(&aq_look_work, aq_watch_period());
}

void aq_look_stop(void)
{
	WRITE_ONCE(aq_looking, false);
	cancel_delayed_work_sync(&aq_look_work);
}
