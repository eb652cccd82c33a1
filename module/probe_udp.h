/* SPDX-License-Identifier: GPL-2.0 */
/* The probes of UDP sockets on watched ports. */
#ifndef AQUEUE_PROBE_UDP_H
#define AQUEUE_PROBE_UDP_H

#include "probes.h"

extern struct aq_probe_set aq_udp_probes;

#endif /* AQUEUE_PROBE_UDP_H */
