/* SPDX-License-Identifier: GPL-2.0 */
/* The probes: where connections enter and leave the queues. */
#ifndef AQUEUE_PROBES_H
#define AQUEUE_PROBES_H

#include <linux/types.h>

struct seq_file;

int aq_probes_register(void);
void aq_probes_unregister(void);
/* Registers the UDP probes, or unregisters them; all or none. */
int aq_probes_udp(bool on);
bool aq_probes_udp_registered(void);
/* The probes' misses since they were first registered. */
unsigned long aq_probes_missed(void);
/*
 * If there are new misses, every listener starts again from the kernel's
 * own queue length at its next event; at most once per jiffy.
 */
void aq_probes_check_missed(void);
void aq_probes_show(struct seq_file *m);

#endif /* AQUEUE_PROBES_H */
