/* SPDX-License-Identifier: GPL-2.0 */
/* /proc/aqueue, the table of listeners in text. */
#ifndef AQUEUE_PROC_H
#define AQUEUE_PROC_H

int aq_proc_init(void);
void aq_proc_exit(void);

#endif /* AQUEUE_PROC_H */
