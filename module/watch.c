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
 * burst need time to pass without any packet: a periodic look (enable.c)
 * ticks every listener with a queue, a burst or a stall a few times per
 * threshold while the probes are registered, and all of them now and then.
 */
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/ktime.h>

#include "events.h"
#include "table.h"
#include "watch.h"

static u64 aq_stall_ns = NSEC_PER_SEC;
static u64 aq_burst_gap_ns = NSEC_PER_SEC;
static bool aq_drop_log;

static u64 aq_since(u64 then, u64 now)
{
	return now > then ? now - then : 0;
}

void aq_watch_init(struct aq_listener *l, u64 now)
{
	l->untimed_since_ns = now;
	l->last_accept_ns = now;
	l->last_drop_ns = now;
}

/*
 * When the head of the queue was queued. A head without an enqueue time
 * (queued before tracking began or before a resync) was queued by the time
 * tracking (re)started: the age is then a lower bound. One that came when
 * the ring of times could not grow gets the time the first such
 * connection came.
 */
static u64 aq_hol_age(const struct aq_listener *l, u64 now)
{
	if (!l->qlen)
		return 0;
	if (l->untimed_head)
		return aq_since(l->untimed_since_ns, now);
	if (l->ring_count)
		return aq_since(aq_ring_since(l->ring[l->ring_head]), now);
	if (l->untimed_tail)
		return aq_since(l->tail_since_ns, now);
	return 0;
}

/* Queue non-empty, its head waiting and no accept() for the threshold. */
static bool aq_is_stalled(const struct aq_listener *l, u64 now, u64 *hol,
			  u64 *idle)
{
	*hol = aq_hol_age(l, now);
	*idle = aq_since(l->last_accept_ns, now);
	return l->qlen && min(*hol, *idle) >= READ_ONCE(aq_stall_ns);
}

static bool aq_is_overflowing(const struct aq_listener *l, u64 now)
{
	return l->burst_drops &&
	       aq_since(l->last_drop_ns, now) < READ_ONCE(aq_burst_gap_ns);
}

static void aq_burst_end(struct aq_listener *l, u64 now)
{
	aq_event_emit(l, AQ_EV_OVERFLOW_END, now, l->burst_drops,
		      l->last_drop_ns - l->burst_start_ns);
	l->burst_drops = 0;
}

static void aq_recover(struct aq_listener *l, u64 now)
{
	l->stalled = false;
	aq_event_emit(l, AQ_EV_RECOVER, now,
		      aq_since(l->stall_start_ns, now), 0);
}

void aq_watch_accepted(struct aq_listener *l, u64 now)
{
	l->last_accept_ns = now;
	if (l->stalled)
		aq_recover(l, now);
}

bool aq_watch_dropped(struct aq_listener *l, u64 delta, u64 now)
{
	if (l->burst_drops && !aq_is_overflowing(l, now))
		aq_burst_end(l, now);
	l->last_drop_ns = now;
	if (l->burst_drops) {
		l->burst_drops += delta;
		return false;
	}
	l->burst_start_ns = now;
	l->burst_drops = delta;
	if (!l->watched)
		aq_table_watch(l);
	aq_event_emit(l, AQ_EV_OVERFLOW, now, delta, 0);
	if (!READ_ONCE(aq_drop_log) || l->drop_logged)
		return false;
	l->drop_logged = true;
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
	if (l->burst_drops)
		aq_burst_end(l, now);
	l->stalled = false;
	aq_event_emit(l, AQ_EV_CLOSE, now, 0, 0);
	raw_spin_unlock_irqrestore(&l->lock, flags);
}

void aq_watch_tick(struct aq_listener *l, u64 now)
{
	u64 hol, idle, stall_ns = READ_ONCE(aq_stall_ns);

	if (l->burst_drops && !aq_is_overflowing(l, now))
		aq_burst_end(l, now);
	if (!l->stalled && aq_is_stalled(l, now, &hol, &idle)) {
		l->stalled = true;
		/* The moment the threshold was crossed. */
		l->stall_start_ns = now - (min(hol, idle) - stall_ns);
		aq_event_emit(l, AQ_EV_STALL, now, hol, idle);
	} else if (l->stalled && !l->qlen) {
		/* Emptied without an accept(), e.g. by a resync. */
		aq_recover(l, now);
	}
}

void aq_watch_update_mark(struct aq_listener *l)
{
	if (aq_watch_busy(l)) {
		if (!l->watched)
			aq_table_watch(l);
		return;
	}
	if (l->watched)
		aq_table_unwatch(l);
}

/* A few looks per threshold, not more often than every 10 ms. */
unsigned long aq_watch_period(void)
{
	u64 ns = min(READ_ONCE(aq_stall_ns), READ_ONCE(aq_burst_gap_ns)) / 4;

	return clamp_t(unsigned long, nsecs_to_jiffies(ns),
		       max(1, HZ / 100), HZ / 4);
}

void aq_watch_read(const struct aq_listener *l, u64 now,
		   struct aq_watch_live *live)
{
	live->stalled = aq_is_stalled(l, now, &live->hol_age_ns,
				      &live->since_accept_ns);
	live->since_drop_ns = aq_since(l->last_drop_ns, now);
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
