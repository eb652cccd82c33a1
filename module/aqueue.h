/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations shared between the module's source files. */
#ifndef AQUEUE_H
#define AQUEUE_H

#include <linux/mutex.h>
#include <linux/types.h>

struct seq_file;

#include "aqueue_format.h"

/* Serialises enable/disable/reset and every other change of configuration. */
extern struct mutex aq_config_lock;

/* Module parameters. */
extern unsigned int aq_max_listeners;
extern unsigned long aq_max_memory;
extern int aq_accept_maxactive;

bool aq_is_enabled(void);
int aq_enable(void);
void aq_disable(void);
void aq_reset(void);

int aq_probes_register(void);
void aq_probes_unregister(void);
int aq_probes_udp(bool on);
bool aq_probes_udp_registered(void);
/* Makes the UDP probes follow the watched ports (while enabled). */
int aq_udp_apply(void);
unsigned long aq_probes_missed(void);
void aq_probes_show(struct seq_file *m);

int aq_proc_init(void);
void aq_proc_exit(void);

int aq_control_init(void);
void aq_control_exit(void);

#endif /* AQUEUE_H */
