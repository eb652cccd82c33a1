/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What is happening now: the live state of each listener (head-of-line
 * age, stalls, drop bursts), kept by hooks that the queue model calls
 * with the listener's lock held and that never sleep. Changes of state
 * become events (events.h).
 */
#ifndef AQUEUE_WATCH_H
#define AQUEUE_WATCH_H

#include <linux/types.h>

#include "table.h"

/* A listener's live state at one moment, for /proc/aqueue. */
struct aq_watch_live {
	u64 hol_age_ns;
	u64 since_accept_ns;
	u64 since_drop_ns;
	bool stalled;
	bool overflowing;
};

/* The longest stall threshold or burst gap: a day. */
#define AQ_WATCH_MS_MAX	86400000U

struct aq_watch_settings {
	u64 stall_ms;
	u64 burst_gap_ms;
	bool drop_log;
};

/* The hooks; under l->lock. */
void aq_watch_init(struct aq_listener *l, u64 now);
void aq_watch_accepted(struct aq_listener *l, u64 now);
/*
 * Returns true if this is the listener's first drop to go to the kernel
 * log: the caller logs it after unlocking (aq_event_log_drop()).
 */
bool aq_watch_dropped(struct aq_listener *l, u64 delta, u64 now);
void aq_watch_opened(struct aq_listener *l);
/* The listener has left the table; takes l->lock itself. */
void aq_watch_closed(struct aq_listener *l);

/* The listener has a queue, a burst of drops or a stall; under l->lock. */
static inline bool aq_watch_busy(const struct aq_listener *l)
{
	return l->qlen || l->burst_drops || l->stalled;
}

/* One periodic look at @l (stall begun, burst over); under l->lock. */
void aq_watch_tick(struct aq_listener *l, u64 now);
/*
 * After a look at @l: keeps it marked for the next period while busy,
 * unmarked once idle. Under l->lock.
 */
void aq_watch_update_mark(struct aq_listener *l);
/* How often the periodic look comes, in jiffies. */
unsigned long aq_watch_period(void);

void aq_watch_read(const struct aq_listener *l, u64 now,
		   struct aq_watch_live *live);

int aq_watch_set_stall_ms(u32 ms);
int aq_watch_set_burst_gap_ms(u32 ms);
void aq_watch_set_drop_log(bool on);
void aq_watch_get_settings(struct aq_watch_settings *settings);

#endif /* AQUEUE_WATCH_H */
