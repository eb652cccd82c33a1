/* SPDX-License-Identifier: GPL-2.0 */
/* The probes of TCP listeners, IPv4 and IPv6. */
#ifndef AQUEUE_PROBE_TCP_H
#define AQUEUE_PROBE_TCP_H

#include "probes.h"

extern struct aq_probe_set aq_tcp_probes;

#endif /* AQUEUE_PROBE_TCP_H */
