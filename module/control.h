/* SPDX-License-Identifier: GPL-2.0 */
/* /sys/kernel/debug/aqueue/control: line commands in, state out. */
#ifndef AQUEUE_CONTROL_H
#define AQUEUE_CONTROL_H

int aq_control_init(void);
void aq_control_exit(void);

#endif /* AQUEUE_CONTROL_H */
