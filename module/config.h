/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The limits the user sets (module parameters, also changed through the
 * control file) and the lock that serialises every change of
 * configuration: enable, disable, reset, filters, limits.
 */
#ifndef AQUEUE_CONFIG_H
#define AQUEUE_CONFIG_H

#include <linux/mutex.h>
#include <linux/types.h>

extern struct mutex aq_config_lock;

extern unsigned int aq_max_listeners;
extern unsigned long aq_max_memory;
extern int aq_accept_maxactive;

#endif /* AQUEUE_CONFIG_H */
