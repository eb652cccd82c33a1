// SPDX-License-Identifier: GPL-2.0
/*
 * aqueue: make the kernel's listen backlog queues visible without eBPF.
 *
 * This file owns the module's lifetime: it brings the parts up in order
 * and takes them down in the reverse one. What each part is, and which
 * parts it builds on, is said at the top of its header.
 */
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "config.h"
#include "control.h"
#include "enable.h"
#include "events.h"
#include "filter.h"
#include "pool.h"
#include "probe_tcp.h"
#include "probe_udp.h"
#include "probe_unix.h"
#include "probes.h"
#include "proc.h"
#include "table.h"

/* Registered in this order. */
static struct aq_probe_set *const aq_probe_sets[] = {
	&aq_tcp_probes,
	&aq_unix_probes,
	&aq_udp_probes,
};

static int __init aq_udp_ports_load(const char *param)
{
	u16 ports[AQ_UDP_PORTS_MAX];
	unsigned int n;
	char *list;
	int err;

	list = kstrdup(param, GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	err = aq_ports_parse(list, "none", ports, AQ_UDP_PORTS_MAX, &n);
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
	if (aq_udp_ports_param) {
		err = aq_udp_ports_load(aq_udp_ports_param);
		if (err)
			return err;
	}
	err = aq_probes_init(aq_probe_sets, ARRAY_SIZE(aq_probe_sets));
	if (err)
		return err;
	aq_probe_unix_init();

	err = aq_pool_init();
	if (err)
		goto err_out;

	err = aq_table_init();
	if (err)
		goto err_pool;

	err = aq_events_init();
	if (err)
		goto err_table;

	err = aq_proc_init();
	if (err)
		goto err_events;

	err = aq_control_init();
	if (err)
		goto err_proc;

	if (aq_enable_at_load) {
		mutex_lock(&aq_config_lock);
		err = aq_enable();
		mutex_unlock(&aq_config_lock);
		if (err)
			goto err_probes;
	}

	pr_info("version %s loaded%s\n", AQUEUE_VERSION,
		aq_enable_at_load ? "" : " (disabled)");
	return 0;

err_probes:
	aq_probes_exit();
	aq_control_exit();
err_proc:
	aq_proc_exit();
err_events:
	aq_events_exit();
err_table:
	aq_table_exit();
err_pool:
	aq_pool_exit();
err_out:
	return err;
}

static void __exit aqueue_exit(void)
{
	mutex_lock(&aq_config_lock);
	aq_disable();
	mutex_unlock(&aq_config_lock);
	aq_probes_exit();
	aq_control_exit();
	aq_proc_exit();
	aq_events_exit();
	aq_table_exit();
	aq_pool_exit();
	aq_filter_exit();
	pr_info("unloaded\n");
}

module_init(aqueue_init);
module_exit(aqueue_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The aqueue developers");
MODULE_DESCRIPTION("Listen backlog queue histograms without eBPF");
MODULE_VERSION(AQUEUE_VERSION);
