/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module and its files: load and unload it with the raw syscalls (no
 * modprobe in the guest), write its control file, read its parameters.
 */
#ifndef AQ_MODULE_H
#define AQ_MODULE_H

#include <stdbool.h>

#include "aqueue_format.h"
#include "aq_file.h"

#define AQ_PROC_PATH	"/proc/" AQUEUE_PROC_NAME
#define AQ_DEBUGFS_PATH	"/sys/kernel/debug/" AQUEUE_DEBUGFS_DIR
#define AQ_CONTROL_PATH	AQ_DEBUGFS_PATH "/" AQUEUE_CONTROL_NAME
#define AQ_SYSFS_PATH	"/sys/module/aqueue"

/* $AQUEUE_KO, or where `make install` puts the module. */
const char *aq_module_path(void);

int aq_is_loaded(void);

/*
 * A PREEMPT_RT kernel, where the module sizes a listener's ring by its
 * backlog up front instead of growing it in the probes.
 */
bool aq_kernel_preempt_rt(void);

/*
 * Returns 0 or -errno from finit_module. $AQ_LOAD_PARAMS goes before the
 * test's own parameters, so a test that names the same one wins: the debug
 * lane uses it to load with fewer kretprobe instances (tools/vmtest/init).
 */
int aq_load(const char *params);

/* Returns 0 or -errno from delete_module; waits out a transient busy. */
int aq_unload(void);

/* Writes text to the control file in one write(); returns 0 or -errno. */
int aq_control(const char *text);

/* A module parameter from sysfs as a number, or -1. */
long long aq_param(const char *name);

/* Skips the test when the module file is not there to load. */
#define AQ_REQUIRE_MODULE() do {					\
	if (geteuid() != 0)						\
		SKIP(return, "needs root to load modules");		\
	if (!aq_path_exists(aq_module_path()))				\
		SKIP(return, "no module at %s (set AQUEUE_KO)",		\
		     aq_module_path());					\
} while (0)

#endif /* AQ_MODULE_H */
