/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Bare SYNs from spoofed sources, sent through a raw socket: handshakes
 * that never complete, for the SYN queue and SYN floods.
 */
#ifndef AQ_SYN_H
#define AQ_SYN_H

#include <stdint.h>

/*
 * One SYN from @src:@sport to @dst:@dport (IPv4 dotted quads) through @raw
 * (socket(AF_INET, SOCK_RAW, IPPROTO_RAW)). Returns 0 or -errno.
 */
int aq_send_syn(int raw, const char *src, const char *dst, uint16_t sport,
		uint16_t dport);

#endif /* AQ_SYN_H */
