/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels aqueue supports is mapped here to one
 * helper, so that the feature code reads the same on all of them. This file
 * is force-included (see Kbuild) ahead of every module source file.
 *
 * Ranges follow lttng-modules: the low version is inclusive, the high one
 * exclusive.
 */
#ifndef AQUEUE_COMPAT_H
#define AQUEUE_COMPAT_H

#include <linux/version.h>
#include <linux/kconfig.h>

#define AQ_KERNEL_RANGE(lo_a, lo_b, lo_c, hi_a, hi_b, hi_c) \
	(LINUX_VERSION_CODE >= KERNEL_VERSION(lo_a, lo_b, lo_c) && \
	 LINUX_VERSION_CODE < KERNEL_VERSION(hi_a, hi_b, hi_c))

#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 10, 0)
#error "aqueue supports Linux 5.10 and later"
#endif

#if !IS_ENABLED(CONFIG_KPROBES) || !IS_ENABLED(CONFIG_KRETPROBES)
#error "aqueue needs a kernel built with CONFIG_KPROBES and CONFIG_KRETPROBES"
#endif

#if !IS_ENABLED(CONFIG_PROC_FS)
#error "aqueue needs a kernel built with CONFIG_PROC_FS"
#endif

#endif /* AQUEUE_COMPAT_H */
