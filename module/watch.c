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
 * burst need time to pass without any packet: a delayed work looks at every
 * listener with a queue, a burst or a stall a few times per threshold while
 * the probes are registered, and at all of them every ten seconds.
 */
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/printk.h>
#include <linux/seq_file.h>
#include <linux/socket.h>
#include <linux/workqueue.h>

#include "aqueue.h"
#include "events.h"
#include "listener.h"

#define AQ_WATCH_MS_MAX	86400000U	/* a day */

static u64 aq_stall_ns = NSEC_PER_SEC;
static u64 aq_burst_gap_ns = NSEC_PER_SEC;
static bool aq_drop_log;
static bool aq_watch_running;

static void aq_watch_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(aq_watch_work, aq_watch_fn);

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
		return aq_since(l->ring[l->ring_head], now);
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

static void aq_drop_log_first(struct aq_listener *l)
{
	l->drop_logged = true;
	switch (l->family) {
	case AF_INET:
		pr_info_ratelimited("listener %u tcp %pI4:%u (pid %d) dropped; queue %u, backlog %u\n",
				    l->id, &l->addr.s6_addr32[0],
				    ntohs(l->port), l->pid, l->qlen,
				    l->backlog);
		break;
	case AF_INET6:
		pr_info_ratelimited("listener %u tcp6 [%pI6c]:%u (pid %d) dropped; queue %u, backlog %u\n",
				    l->id, &l->addr, ntohs(l->port), l->pid,
				    l->qlen, l->backlog);
		break;
	default:
		pr_info_ratelimited("listener %u unix %s%*pE (pid %d) refused a connect; queue %u, backlog %u\n",
				    l->id, l->path_len && !l->path[0] ?
				    "@" : "",
				    l->path_len ? l->path_len - 1 : 0,
				    l->path_len && !l->path[0] ?
				    l->path + 1 : l->path,
				    l->pid, l->qlen, l->backlog);
		break;
	}
}

void aq_watch_dropped(struct aq_listener *l, u64 delta, u64 now)
{
	if (l->burst_drops && !aq_is_overflowing(l, now))
		aq_burst_end(l, now);
	l->last_drop_ns = now;
	if (l->burst_drops) {
		l->burst_drops += delta;
		return;
	}
	l->burst_start_ns = now;
	l->burst_drops = delta;
	if (!l->watched)
		aq_listener_watch_busy(l);
	aq_event_emit(l, AQ_EV_OVERFLOW, now, delta, 0);
	if (READ_ONCE(aq_drop_log) && !l->drop_logged)
		aq_drop_log_first(l);
}

void aq_watch_opened(struct aq_listener *l)
{
	aq_event_emit(l, AQ_EV_OPEN, ktime_get_ns(), 0, 0);
}

/* The listener has left the table; its last events. */
void aq_watch_closed(struct aq_listener *l)
{
	unsigned long flags;
	u64 now;

	spin_lock_irqsave(&l->lock, flags);
	now = ktime_get_ns();
	if (l->burst_drops)
		aq_burst_end(l, now);
	l->stalled = false;
	aq_event_emit(l, AQ_EV_CLOSE, now, 0, 0);
	spin_unlock_irqrestore(&l->lock, flags);
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

void aq_watch_show(struct seq_file *m, struct aq_listener *l, u64 now)
{
	u64 hol, idle;
	bool stalled = aq_is_stalled(l, now, &hol, &idle);

	seq_printf(m, " hol_age_ns %llu since_accept_ns %llu since_drop_ns %llu stalled %d overflowing %d",
		   hol, idle, aq_since(l->last_drop_ns, now), stalled,
		   aq_is_overflowing(l, now));
}

/* A few looks per threshold, not more often than every 10 ms. */
static unsigned long aq_watch_period(void)
{
	u64 ns = min(READ_ONCE(aq_stall_ns), READ_ONCE(aq_burst_gap_ns)) / 4;

	return clamp_t(unsigned long, nsecs_to_jiffies(ns),
		       max(1, HZ / 100), HZ / 4);
}

/*
 * Every listener now and then, idle ones included: one whose close no probe
 * saw is retired, and drops that no probe saw show up, within this period.
 */
#define AQ_WATCH_SWEEP_NS (10 * NSEC_PER_SEC)
static u64 aq_watch_swept_ns;

static void aq_watch_fn(struct work_struct *work)
{
	u64 now = ktime_get_ns();
	bool sweep = now - aq_watch_swept_ns >= AQ_WATCH_SWEEP_NS;

	if (sweep)
		aq_watch_swept_ns = now;
	aq_listeners_watch(sweep);
	if (READ_ONCE(aq_watch_running))
		schedule_delayed_work(&aq_watch_work, aq_watch_period());
}

void aq_watch_start(void)
{
	WRITE_ONCE(aq_watch_running, true);
	schedule_delayed_work(&aq_watch_work, aq_watch_period());
}

void aq_watch_stop(void)
{
	WRITE_ONCE(aq_watch_running, false);
	cancel_delayed_work_sync(&aq_watch_work);
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

void aq_watch_show_settings(struct seq_file *m)
{
	seq_printf(m, "stall_threshold_ms %llu\nburst_gap_ms %llu\ndrop_log %d\n",
		   div_u64(READ_ONCE(aq_stall_ns), NSEC_PER_MSEC),
		   div_u64(READ_ONCE(aq_burst_gap_ns), NSEC_PER_MSEC),
		   READ_ONCE(aq_drop_log));
	aq_events_show_settings(m);
}
