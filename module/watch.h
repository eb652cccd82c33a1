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

#include "queue.h"

struct aq_listener;

/* A listener's live state; its lock guards it. Only watch.c writes it. */
struct aq_watch {
	u64 last_accept_ns;	/* or when tracking began */
	u64 last_drop_ns;	/* or when tracking began */
	u64 burst_start_ns;
	u64 burst_drops;	/* 0: not in a burst of drops */
	u64 stall_start_ns;
	bool stalled;		/* a stall event was sent, no recovery yet */
	bool drop_logged;
};

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

/*
 * The listener has a queue (@qlen), a burst of drops or a stall; under
 * l->lock.
 */
bool aq_watch_busy(const struct aq_listener *l, u32 qlen);

/*
 * Under l->lock: the look is to visit @l every period from now on (it has
 * a queue, or a burst began), until it is idle again.
 */
void aq_watch_look_at(struct aq_listener *l);
/* One periodic look at @l (stall begun, burst over); under l->lock. */
void aq_watch_tick(struct aq_listener *l, u64 now,
		   const struct aq_queue_now *qn);
/*
 * After a look at @l: keeps it marked for the next period while busy,
 * unmarked once idle. Under l->lock.
 */
void aq_watch_update_mark(struct aq_listener *l, u32 qlen);
/* How often the periodic look comes, in jiffies. */
unsigned long aq_watch_period(void);

void aq_watch_read(const struct aq_listener *l, u64 now,
		   const struct aq_queue_now *qn, struct aq_watch_live *live);

int aq_watch_set_stall_ms(u32 ms);
int aq_watch_set_burst_gap_ms(u32 ms);
void aq_watch_set_drop_log(bool on);
void aq_watch_get_settings(struct aq_watch_settings *settings);

#endif /* AQUEUE_WATCH_H */
