// SPDX-License-Identifier: GPL-2.0
/*
 * aqueue: make the kernel's listen backlog queues visible without eBPF.
 *
 * This file owns the module's lifetime and global state; the /proc reader,
 * the control file and the probes live in files of their own.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

#include "aqueue.h"

static bool enable = true;
module_param(enable, bool, 0444);
MODULE_PARM_DESC(enable, "Start with the probes registered (default: 1)");

static unsigned int max_listeners = 65536;
module_param(max_listeners, uint, 0444);
MODULE_PARM_DESC(max_listeners,
		 "Most listening sockets tracked at once; more are counted as untracked (default: 65536)");

DEFINE_MUTEX(aq_config_lock);
static bool aq_enabled;

bool aq_is_enabled(void)
{
	return READ_ONCE(aq_enabled);
}

int aq_enable(void)
{
	lockdep_assert_held(&aq_config_lock);
	WRITE_ONCE(aq_enabled, true);
	return 0;
}

void aq_disable(void)
{
	lockdep_assert_held(&aq_config_lock);
	WRITE_ONCE(aq_enabled, false);
}

void aq_reset(void)
{
	lockdep_assert_held(&aq_config_lock);
}

static int __init aqueue_init(void)
{
	int err;

	err = aq_proc_init();
	if (err)
		goto err_out;

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
	pr_info("unloaded\n");
}

module_init(aqueue_init);
module_exit(aqueue_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The aqueue developers");
MODULE_DESCRIPTION("Listen backlog queue histograms without eBPF");
MODULE_VERSION(AQUEUE_VERSION);
