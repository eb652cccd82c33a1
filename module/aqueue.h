/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations shared between the module's source files. */
#ifndef AQUEUE_H
#define AQUEUE_H

#include <linux/mutex.h>
#include <linux/types.h>

#include "aqueue_format.h"

/* Serialises enable/disable/reset and every other change of configuration. */
extern struct mutex aq_config_lock;

bool aq_is_enabled(void);
int aq_enable(void);
void aq_disable(void);
void aq_reset(void);

int aq_proc_init(void);
void aq_proc_exit(void);

int aq_control_init(void);
void aq_control_exit(void);

#endif /* AQUEUE_H */
