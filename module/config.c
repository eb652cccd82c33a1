// SPDX-License-Identifier: GPL-2.0
/* The limits and the configuration lock; see config.h. */
#include <linux/moduleparam.h>
#include <linux/mutex.h>

#include "config.h"

DEFINE_MUTEX(aq_config_lock);

unsigned int aq_max_listeners = 65536;
module_param_named(max_listeners, aq_max_listeners, uint, 0644);
MODULE_PARM_DESC(max_listeners,
		 "Most listening sockets tracked at once; more are counted as untracked (default: 65536)");

unsigned long aq_max_memory = 128UL << 20;
module_param_named(max_memory, aq_max_memory, ulong, 0644);
MODULE_PARM_DESC(max_memory,
		 "Most bytes of listener state kept; beyond, listeners are untracked and waits untimed (default: 128 MiB)");

int aq_accept_maxactive = 8192;
module_param_named(accept_maxactive, aq_accept_maxactive, int, 0444);
MODULE_PARM_DESC(accept_maxactive,
		 "Threads that can be blocked in accept() at once and still be seen; more are counted as missed (default: 8192)");
