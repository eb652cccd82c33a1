/* SPDX-License-Identifier: GPL-2.0 */
/* The probes of unix domain stream and seqpacket listeners. */
#ifndef AQUEUE_PROBE_UNIX_H
#define AQUEUE_PROBE_UNIX_H

#include "probes.h"

extern struct aq_probe_set aq_unix_probes;
/* Once, before the probes are first registered. */
void aq_probe_unix_init(void);

#endif /* AQUEUE_PROBE_UNIX_H */
