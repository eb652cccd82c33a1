// SPDX-License-Identifier: GPL-2.0
/*
 * aqfloor: the "floor" configuration of make bench (tools/bench/guest.sh).
 *
 * Empty probes at the points the bpftrace peer hooks (tools/bench/peer.bt):
 * a kprobe on tcp_v4_syn_recv_sock and on inet_csk_complete_hashdance (the
 * enqueue: inet_csk_reqsk_queue_add is inlined there from 6.1 on), and a
 * kretprobe on inet_csk_accept whose entry and return handlers do nothing.
 * What a connection costs with this module loaded, less what it costs
 * without, is what any kprobe-based tool pays for these hooks before its
 * handlers do any work: the peer's cost and aqueue's are measured against
 * it. Like the peer's kretprobe (perf's), the kretprobe keeps the kernel's
 * default number of instances.
 *
 * With syn=1 it is the floor of the SYN flood's peers instead
 * (tools/bench/peer-flood.bt): one empty kprobe on tcp_conn_request, the
 * only hook of theirs a flooded listener's SYN passes. The storm's three
 * points would not fire in a flood, and tcp_conn_request is not among
 * the storm peer's hooks, so each measurement loads the floor of its own
 * peer.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kprobes.h>
#include <linux/module.h>

static bool syn;
module_param(syn, bool, 0444);
MODULE_PARM_DESC(syn, "Probe tcp_conn_request alone, the SYN flood peers' hook");

static int aqfloor_pre(struct kprobe *p, struct pt_regs *regs)
{
	return 0;
}

static int aqfloor_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return 0;
}

static int aqfloor_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return 0;
}

static struct kprobe aqfloor_syn_recv = {
	.symbol_name = "tcp_v4_syn_recv_sock",
	.pre_handler = aqfloor_pre,
};

static struct kprobe aqfloor_hashdance = {
	.symbol_name = "inet_csk_complete_hashdance",
	.pre_handler = aqfloor_pre,
};

static struct kprobe aqfloor_conn_request = {
	.symbol_name = "tcp_conn_request",
	.pre_handler = aqfloor_pre,
};

static struct kretprobe aqfloor_accept = {
	.kp.symbol_name = "inet_csk_accept",
	.entry_handler = aqfloor_entry,
	.handler = aqfloor_return,
};

static int __init aqfloor_init(void)
{
	int err;

	if (syn) {
		err = register_kprobe(&aqfloor_conn_request);
		if (err)
			pr_err("cannot probe %s: %d\n",
			       aqfloor_conn_request.symbol_name, err);
		return err;
	}
	err = register_kprobe(&aqfloor_syn_recv);
	if (err) {
		pr_err("cannot probe %s: %d\n", aqfloor_syn_recv.symbol_name,
		       err);
		return err;
	}
	err = register_kprobe(&aqfloor_hashdance);
	if (err) {
		pr_err("cannot probe %s: %d\n", aqfloor_hashdance.symbol_name,
		       err);
		goto err_syn_recv;
	}
	err = register_kretprobe(&aqfloor_accept);
	if (err) {
		pr_err("cannot probe %s: %d\n",
		       aqfloor_accept.kp.symbol_name, err);
		goto err_hashdance;
	}
	return 0;

err_hashdance:
	unregister_kprobe(&aqfloor_hashdance);
err_syn_recv:
	unregister_kprobe(&aqfloor_syn_recv);
	return err;
}

static void __exit aqfloor_exit(void)
{
	if (syn) {
		unregister_kprobe(&aqfloor_conn_request);
		return;
	}
	unregister_kretprobe(&aqfloor_accept);
	unregister_kprobe(&aqfloor_hashdance);
	unregister_kprobe(&aqfloor_syn_recv);
	/* A blocked accept() beyond the instances is not seen: say so. */
	if (aqfloor_accept.nmissed)
		pr_info("%s: %d returns missed\n",
			aqfloor_accept.kp.symbol_name, aqfloor_accept.nmissed);
}

module_init(aqfloor_init);
module_exit(aqfloor_exit);

MODULE_DESCRIPTION("Empty kprobes at the bpftrace peers' hooks: make bench's floor");
MODULE_LICENSE("GPL");
