/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What is happening now: the live state of each listener (head-of-line
 * age, stalls, drop bursts) and the stream of events in /proc/aqueue_events.
 *
 * The probes report through the aq_watch_*() hooks, called with the
 * listener's lock held; they never sleep. Events go to a bounded ring that
 * every reader follows at its own pace; a reader that falls behind by more
 * than the ring holds is told how many it lost.
 */
#ifndef AQUEUE_EVENTS_H
#define AQUEUE_EVENTS_H

#include <linux/types.h>

struct aq_listener;
struct seq_file;

enum aq_event_type {
	AQ_EV_OPEN,
	AQ_EV_CLOSE,
	AQ_EV_OVERFLOW,
	AQ_EV_OVERFLOW_END,
	AQ_EV_STALL,
	AQ_EV_RECOVER,
};

/* Module parameter: how many events the ring holds (a power of two). */
extern unsigned int aq_events_size;

int aq_events_init(void);
void aq_events_exit(void);
/* Records an event of @l; under l->lock, any context. */
void aq_event_emit(struct aq_listener *l, enum aq_event_type type, u64 now,
		   u64 a, u64 b);
void aq_events_show_settings(struct seq_file *m);

/* watch.c: the live state, kept by hooks in listener.c. */
void aq_watch_init(struct aq_listener *l, u64 now);
void aq_watch_accepted(struct aq_listener *l, u64 now);
void aq_watch_dropped(struct aq_listener *l, u64 delta, u64 now);
void aq_watch_opened(struct aq_listener *l);
void aq_watch_closed(struct aq_listener *l);
/* The live keys at the end of a listener's detail line; under l->lock. */
void aq_watch_show(struct seq_file *m, struct aq_listener *l, u64 now);
/* One periodic look at @l (stall begun, burst over); under l->lock. */
void aq_watch_tick(struct aq_listener *l, u64 now);

void aq_watch_start(void);
void aq_watch_stop(void);
int aq_watch_set_stall_ms(u32 ms);
int aq_watch_set_burst_gap_ms(u32 ms);
void aq_watch_set_drop_log(bool on);
void aq_watch_show_settings(struct seq_file *m);

#endif /* AQUEUE_EVENTS_H */
