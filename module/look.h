/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The periodic look, while aqueue is on: in process context, every few
 * milliseconds at the listeners that have a queue, a burst of drops or a
 * stall (their live state follows the clock, not only the probes), and
 * every AQ_LOOK_ALL_NS at every listener (one whose close no probe saw is
 * retired, drops no probe saw show up). Under aq_config_lock.
 */
#ifndef AQUEUE_LOOK_H
#define AQUEUE_LOOK_H

void aq_look_start(void);
void aq_look_stop(void);

#endif /* AQUEUE_LOOK_H */
