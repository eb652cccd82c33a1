// SPDX-License-Identifier: GPL-2.0
/* The module parameters and the configuration lock; see config.h. */
#include <linux/moduleparam.h>
#include <linux/mutex.h>

#include "config.h"

DEFINE_MUTEX(aq_config_lock);

bool aq_enable_at_load = true;
module_param_named(enable, aq_enable_at_load, bool, 0444);
MODULE_PARM_DESC(enable, "Start with the probes registered (default: 1)");

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

unsigned int aq_events_size = 1024;
module_param_named(events_size, aq_events_size, uint, 0444);
MODULE_PARM_DESC(events_size,
		 "Events kept for readers of /proc/aqueue_events, rounded up to a power of two, 16 to 65536 (default: 1024)");

char *aq_udp_ports_param;
module_param_named(udp_ports, aq_udp_ports_param, charp, 0444);
MODULE_PARM_DESC(udp_ports,
		 "UDP ports whose sockets are watched, comma-separated (default: none; the UDP probes stay off)");

bool aq_empty_handlers;
module_param_named(empty_handlers, aq_empty_handlers, bool, 0444);
MODULE_PARM_DESC(empty_handlers,
		 "Benchmarking only: probe handlers return at once, nothing is tracked (default: 0)");

bool aq_profile_handlers;
module_param_named(profile_handlers, aq_profile_handlers, bool, 0444);
MODULE_PARM_DESC(profile_handlers,
		 "Benchmarking only: time every probe handler; the control file shows the nanoseconds (default: 0)");
