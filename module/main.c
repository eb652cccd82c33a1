// SPDX-License-Identifier: GPL-2.0
/*
 * aqueue: make the kernel's listen backlog queues visible without eBPF.
 *
 * This file owns the module's lifetime and its global switches; the table
 * of listeners, the probes, /proc/aqueue and the control file live in files
 * of their own.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>

#include "aqueue.h"
#include "events.h"
#include "filter.h"
#include "listener.h"

static bool enable = true;
module_param(enable, bool, 0444);
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

static char *udp_ports;
module_param(udp_ports, charp, 0444);
MODULE_PARM_DESC(udp_ports,
		 "UDP ports whose sockets are watched, comma-separated (default: none; the UDP probes stay off)");

DEFINE_MUTEX(aq_config_lock);
static bool aq_enabled;
/* Rows kept from before a disable cannot be trusted after it. */
static bool aq_rows_stale;

bool aq_is_enabled(void)
{
	return READ_ONCE(aq_enabled);
}

int aq_enable(void)
{
	int err;

	lockdep_assert_held(&aq_config_lock);
	if (aq_enabled)
		return 0;
	/*
	 * While the probes were off, listeners may have closed and their
	 * sockets been reused: start from an empty table.
	 */
	if (aq_rows_stale) {
		aq_listeners_clear();
		aq_rows_stale = false;
	}
	err = aq_probes_register();
	if (err)
		return err;
	WRITE_ONCE(aq_enabled, true);
	aq_watch_start();
	err = aq_udp_apply();
	if (err) {
		aq_disable();
		return err;
	}
	return 0;
}

int aq_udp_apply(void)
{
	bool want = aq_enabled && aq_udp_nports();

	lockdep_assert_held(&aq_config_lock);
	if (want == aq_probes_udp_registered())
		return 0;
	return aq_probes_udp(want);
}

void aq_disable(void)
{
	lockdep_assert_held(&aq_config_lock);
	if (!aq_enabled)
		return;
	aq_watch_stop();
	aq_probes_unregister();
	WRITE_ONCE(aq_enabled, false);
	/* Closed listeners must not stay pinned while nothing watches. */
	aq_listeners_unpin();
	aq_rows_stale = true;
}

void aq_reset(void)
{
	lockdep_assert_held(&aq_config_lock);
	aq_listeners_reset();
}

static int __init aq_udp_ports_load(const char *param)
{
	u16 ports[AQ_UDP_PORTS_MAX];
	unsigned int n;
	char *list;
	int err;

	list = kstrdup(param, GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	err = aq_udp_ports_parse(list, ports, &n);
	kfree(list);
	if (err) {
		pr_err("udp_ports: a comma-separated list of at most %d ports from 1 to 65535, or none\n",
		       AQ_UDP_PORTS_MAX);
		return err;
	}
	mutex_lock(&aq_config_lock);
	aq_udp_ports_set(ports, n);
	mutex_unlock(&aq_config_lock);
	return 0;
}

static int __init aqueue_init(void)
{
	int err;

	if (aq_accept_maxactive < 1) {
		pr_err("accept_maxactive must be at least 1\n");
		return -EINVAL;
	}
	if (udp_ports) {
		err = aq_udp_ports_load(udp_ports);
		if (err)
			return err;
	}

	err = aq_listeners_init();
	if (err)
		goto err_out;

	err = aq_events_init();
	if (err)
		goto err_listeners;

	err = aq_proc_init();
	if (err)
		goto err_events;

	err = aq_control_init();
	if (err)
		goto err_proc;

	if (enable) {
		mutex_lock(&aq_config_lock);
		err = aq_enable();
		mutex_unlock(&aq_config_lock);
		if (err)
			goto err_control;
	}

	pr_info("version %s loaded%s\n", AQUEUE_VERSION,
		enable ? "" : " (disabled)");
	return 0;

err_control:
	aq_control_exit();
err_proc:
	aq_proc_exit();
err_events:
	aq_events_exit();
err_listeners:
	aq_listeners_exit();
err_out:
	return err;
}

static void __exit aqueue_exit(void)
{
	mutex_lock(&aq_config_lock);
	aq_disable();
	mutex_unlock(&aq_config_lock);
	aq_control_exit();
	aq_proc_exit();
	aq_events_exit();
	aq_listeners_exit();
	aq_filter_exit();
	pr_info("unloaded\n");
}

module_init(aqueue_init);
module_exit(aqueue_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The aqueue developers");
MODULE_DESCRIPTION("Listen backlog queue histograms without eBPF");
MODULE_VERSION(AQUEUE_VERSION);
