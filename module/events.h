/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Events as text: the stream in /proc/aqueue_events, one line per change
 * of a listener's live state, and the kernel log line of a listener's
 * first drop. Events go to a bounded ring that every reader follows at its
 * own pace; a reader that falls behind by more than the ring holds is told
 * how many it lost.
 */
#ifndef AQUEUE_EVENTS_H
#define AQUEUE_EVENTS_H

#include <linux/types.h>

struct aq_listener;

enum aq_event_type {
	AQ_EV_OPEN,
	AQ_EV_CLOSE,
	AQ_EV_OVERFLOW,
	AQ_EV_OVERFLOW_END,
	AQ_EV_STALL,
	AQ_EV_RECOVER,
};

int aq_events_init(void);
void aq_events_exit(void);
/* Records an event of @l; under l->lock, any context. */
void aq_event_emit(struct aq_listener *l, enum aq_event_type type, u64 now,
		   u64 a, u64 b);
/*
 * Logs the first drop of @l (rate-limited), its proto and local fields as
 * /proc/aqueue shows them; not under l->lock.
 */
void aq_event_log_drop(struct aq_listener *l);
/* How many events the ring holds. */
unsigned int aq_events_ring_size(void);

#endif /* AQUEUE_EVENTS_H */
