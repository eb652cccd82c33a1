/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels aqueue supports is mapped here to one
 * helper, so that the feature code reads the same on all of them. This file
 * is force-included (see Kbuild) ahead of every module source file.
 *
 * Version ranges, where one is needed, follow lttng-modules: the low
 * version inclusive, the high one exclusive.
 */
#ifndef AQUEUE_COMPAT_H
#define AQUEUE_COMPAT_H

#include <linux/version.h>
#include <linux/kconfig.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 10, 0)
#error "aqueue supports Linux 5.10 and later"
#endif

#if !IS_ENABLED(CONFIG_KPROBES) || !IS_ENABLED(CONFIG_KRETPROBES)
#error "aqueue needs a kernel built with CONFIG_KPROBES and CONFIG_KRETPROBES"
#endif

#if !IS_ENABLED(CONFIG_PROC_FS)
#error "aqueue needs a kernel built with CONFIG_PROC_FS"
#endif

#include <linux/atomic.h>
#include <linux/ptrace.h>

/*
 * A PREEMPT_RT kernel turns spinlock_t into a sleeping lock and forbids
 * allocating or freeing with preemption off, where the probes' handlers
 * run: there the handlers take raw spinlocks only, and the memory they
 * need comes from pools refilled outside them (module/pool.c). Not a
 * version difference, but a kernel difference all the same.
 */
#define AQ_COMPAT_PREEMPT_RT IS_ENABLED(CONFIG_PREEMPT_RT)

struct sock;

/*
 * The probes read only the first arguments and the return values of the
 * functions they hook, and those kept their meaning across the supported
 * range even where the signatures changed:
 * - inet_csk_accept(sk, flags, err, kern) became inet_csk_accept(sk, arg)
 *   in 6.10; sk is still the first argument and the child the result.
 * - inet_csk_listen_start(sk, backlog) lost its backlog in 5.16; aqueue
 *   hooks inet_listen() instead, whose arguments did not change.
 */
static inline unsigned long aq_probe_arg(struct pt_regs *regs, unsigned int n)
{
	return regs_get_kernel_argument(regs, n);
}

/*
 * net.ipv4.tcp_migrate_req, and reuseport_migrate_sock() with it, came in
 * 5.14: before, a closing reuseport listener's queue is always dropped.
 * Flags of its probe (enum aq_probe_flags in module/probes.h).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 14, 0)
#define AQ_COMPAT_MIGRATE_REQ_FLAGS 0
#else
#define AQ_COMPAT_MIGRATE_REQ_FLAGS AQ_PROBE_ABSENT
#endif

/* The kretprobe an instance belongs to: a field until 5.11. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 11, 0)
#define aq_kretprobe_of(ri) ((ri)->rp)
#else
#define aq_kretprobe_of(ri) get_kretprobe(ri)
#endif

/*
 * A listener's drop counter, the one SO_MEMINFO reports. Until 6.18 it is
 * the atomic_t sk_drops in struct sock; since then UDP (and raw) sockets
 * count in per-NUMA-node counters that only sk_drops_read() sums, and
 * sk_drops stays 0 for them. Macros, so that this header does not have to
 * pull in net/sock.h.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 18, 0)
#define aq_sk_drops(sk) ((u32)sk_drops_read(sk))
#else
#define aq_sk_drops(sk) ((u32)atomic_read(&(sk)->sk_drops))
#endif

#endif /* AQUEUE_COMPAT_H */
