// SPDX-License-Identifier: GPL-2.0
/*
 * The live state of each listener: how long the head of its queue has
 * waited, when it last accepted and dropped, whether it is stalled (a
 * non-empty queue and no accept() for longer than the threshold) or
 * overflowing (in a burst of drops), and the events that mark the changes.
 *
 * Drops come in bursts: the first drop of a burst is an event, the end of
 * the burst (no drop for burst_gap) another one with the burst's total, so
 * that a flood gives two lines, not one per packet. Stalls and the end of a
 * burst need time to pass without any packet: a periodic look (look.c)
 * ticks every listener with a queue, a burst or a stall a few times per
 * threshold while the probes are registered, and all of them now and then.
 */
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/ktime.h>

#include "defer.h"
#include "events.h"
#include "saturate.h"
#include "table.h"
#include "watch.h"

static u64 aq_stall_ns = NSEC_PER_SEC;
static u64 aq_burst_gap_ns = NSEC_PER_SEC;
static bool aq_drop_log;

void aq_watch_init(struct aq_listener *l, u64 now)
{
	l->w.last_accept_ns = now;
	l->w.last_drop_ns = now;
}

bool aq_watch_busy(const struct aq_listener *l, u32 qlen)
{
	return qlen || l->w.burst_drops || l->w.stalled;
}

/* Queue non-empty, its head waiting and no accept() for the threshold. */
static bool aq_is_stalled(const struct aq_listener *l, u64 now,
			  const struct aq_queue_now *qn, u64 *idle)
{
	*idle = aq_sub_sat(now, l->w.last_accept_ns);
	return qn->qlen && min(qn->hol_age_ns, *idle) >= READ_ONCE(aq_stall_ns);
}

static bool aq_is_overflowing(const struct aq_listener *l, u64 now)
{
	return l->w.burst_drops &&
	       aq_sub_sat(now, l->w.last_drop_ns) < READ_ONCE(aq_burst_gap_ns);
}

static void aq_burst_end(struct aq_listener *l, u64 now)
{
	aq_event_emit(l, AQ_EV_OVERFLOW_END, now, l->w.burst_drops,
		      l->w.last_drop_ns - l->w.burst_start_ns);
	l->w.burst_drops = 0;
}

static void aq_recover(struct aq_listener *l, u64 now)
{
	l->w.stalled = false;
	aq_event_emit(l, AQ_EV_RECOVER, now,
		      aq_sub_sat(now, l->w.stall_start_ns), 0);
}

void aq_watch_accepted(struct aq_listener *l, u64 now)
{
	l->w.last_accept_ns = now;
	if (l->w.stalled)
		aq_recover(l, now);
}

bool aq_watch_dropped(struct aq_listener *l, u64 delta, u64 now)
{
	if (l->w.burst_drops && !aq_is_overflowing(l, now))
		aq_burst_end(l, now);
	l->w.last_drop_ns = now;
	if (l->w.burst_drops) {
		l->w.burst_drops += delta;
		return false;
	}
	l->w.burst_start_ns = now;
	l->w.burst_drops = delta;
	aq_watch_look_at(l);
	aq_event_emit(l, AQ_EV_OVERFLOW, now, delta, 0);
	if (!READ_ONCE(aq_drop_log) || l->w.drop_logged)
		return false;
	l->w.drop_logged = true;
	return true;
}

void aq_watch_opened(struct aq_listener *l)
{
	aq_event_emit(l, AQ_EV_OPEN, ktime_get_ns(), 0, 0);
}

void aq_watch_closed(struct aq_listener *l)
{
	unsigned long flags;
	u64 now;

	raw_spin_lock_irqsave(&l->lock, flags);
	now = ktime_get_ns();
	if (l->w.burst_drops)
		aq_burst_end(l, now);
	l->w.stalled = false;
	aq_event_emit(l, AQ_EV_CLOSE, now, 0, 0);
	raw_spin_unlock_irqrestore(&l->lock, flags);
}

void aq_watch_tick(struct aq_listener *l, u64 now,
		   const struct aq_queue_now *qn)
{
	u64 hol = qn->hol_age_ns, idle, stall_ns = READ_ONCE(aq_stall_ns);

	if (l->w.burst_drops && !aq_is_overflowing(l, now))
		aq_burst_end(l, now);
	if (!l->w.stalled && aq_is_stalled(l, now, qn, &idle)) {
		l->w.stalled = true;
		/* The moment the threshold was crossed. */
		l->w.stall_start_ns = now - (min(hol, idle) - stall_ns);
		aq_event_emit(l, AQ_EV_STALL, now, hol, idle);
	} else if (l->w.stalled && !qn->qlen) {
		/* Emptied without an accept(), e.g. by a resync. */
		aq_recover(l, now);
	}
}

/*
 * Under l->lock. Before aq_table_insert() gave the entry an id the mark is
 * left to it, and once the entry is unlinked the mark goes with it.
 */
static void aq_watch_mark(struct aq_listener *l, bool watched)
{
	l->watched = watched;
	if (l->id && !l->unlinked)
		aq_defer_ask(l, AQ_OP_MARK, false);
}

void aq_watch_look_at(struct aq_listener *l)
{
	if (!l->watched)
		aq_watch_mark(l, true);
}

void aq_watch_update_mark(struct aq_listener *l, u32 qlen)
{
	bool busy = aq_watch_busy(l, qlen);

	if (busy != l->watched)
		aq_watch_mark(l, busy);
}

/* A few looks per threshold, not more often than every 10 ms. */
unsigned long aq_watch_period(void)
{
	u64 ns = min(READ_ONCE(aq_stall_ns), READ_ONCE(aq_burst_gap_ns)) / 4;

	return clamp_t(unsigned long, nsecs_to_jiffies(ns),
		       max(1, HZ / 100), HZ / 4);
}

void aq_watch_read(const struct aq_listener *l, u64 now,
		   const struct aq_queue_now *qn, struct aq_watch_live *live)
{
	live->hol_age_ns = qn->hol_age_ns;
	live->stalled = aq_is_stalled(l, now, qn, &live->since_accept_ns);
	live->since_drop_ns = aq_sub_sat(now, l->w.last_drop_ns);
	live->overflowing = aq_is_overflowing(l, now);
}

int aq_watch_set_stall_ms(u32 ms)
{
	if (!ms || ms > AQ_WATCH_MS_MAX)
		return -EINVAL;
	WRITE_ONCE(aq_stall_ns, (u64)ms * NSEC_PER_MSEC);
	return 0;
}

int aq_watch_set_burst_gap_ms(u32 ms)
{
	if (!ms || ms > AQ_WATCH_MS_MAX)
		return -EINVAL;
	WRITE_ONCE(aq_burst_gap_ns, (u64)ms * NSEC_PER_MSEC);
	return 0;
}

void aq_watch_set_drop_log(bool on)
{
	WRITE_ONCE(aq_drop_log, on);
}

void aq_watch_get_settings(struct aq_watch_settings *settings)
{
	settings->stall_ms = div_u64(READ_ONCE(aq_stall_ns), NSEC_PER_MSEC);
	settings->burst_gap_ms = div_u64(READ_ONCE(aq_burst_gap_ns),
					 NSEC_PER_MSEC);
	settings->drop_log = READ_ONCE(aq_drop_log);
}
