/* SPDX-License-Identifier: GPL-2.0 */
/*
 * aqueue on and off. While on, the probes are registered and a periodic
 * look brings the live state of the busy listeners up to date; while off,
 * the rows keep what they had and let go of their sockets. Under
 * aq_config_lock, except aq_is_enabled().
 */
#ifndef AQUEUE_ENABLE_H
#define AQUEUE_ENABLE_H

#include <linux/types.h>

bool aq_is_enabled(void);
int aq_enable(void);
void aq_disable(void);
/* Makes the UDP probes follow the watched ports (while enabled). */
int aq_udp_apply(void);

#endif /* AQUEUE_ENABLE_H */
