/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every module parameter (some also changed through the control file),
 * and the lock that serialises every change of configuration: enable,
 * disable, reset, filters, limits.
 */
#ifndef AQUEUE_CONFIG_H
#define AQUEUE_CONFIG_H

#include <linux/mutex.h>
#include <linux/types.h>

extern struct mutex aq_config_lock;

extern bool aq_enable_at_load;
extern unsigned int aq_max_listeners;
extern unsigned long aq_max_memory;
extern int aq_accept_maxactive;
/* As given: the control file shows the ring's size once rounded. */
extern unsigned int aq_events_size;
extern char *aq_udp_ports_param;

/*
 * For "make bench": handlers that return at once (the cost of the kprobe
 * mechanism alone), or each handler timed with local_clock() and the sum
 * shown per probe in the control file. Off, they cost nothing.
 */
extern bool aq_empty_handlers;
extern bool aq_profile_handlers;

#endif /* AQUEUE_CONFIG_H */
