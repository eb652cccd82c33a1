// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "aq_syn.h"

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

int aq_send_syn(int raw, const char *src, const char *dst, uint16_t sport,
		uint16_t dport)
{
	struct {
		struct iphdr ip;
		struct tcphdr tcp;
	} pkt;
	struct {
		uint32_t saddr, daddr;
		uint8_t zero, proto;
		uint16_t len;
	} pseudo;
	struct sockaddr_in to = { .sin_family = AF_INET };
	uint32_t sum;

	memset(&pkt, 0, sizeof(pkt));
	pkt.ip.version = 4;
	pkt.ip.ihl = 5;
	pkt.ip.ttl = 64;
	pkt.ip.protocol = IPPROTO_TCP;
	pkt.ip.tot_len = htons(sizeof(pkt));
	if (inet_pton(AF_INET, src, &pkt.ip.saddr) != 1 ||
	    inet_pton(AF_INET, dst, &pkt.ip.daddr) != 1)
		return -EINVAL;
	pkt.tcp.source = htons(sport);
	pkt.tcp.dest = htons(dport);
	pkt.tcp.seq = htonl(0x5e000000u + sport);
	pkt.tcp.doff = 5;
	pkt.tcp.syn = 1;
	pkt.tcp.window = htons(65535);
	pseudo.saddr = pkt.ip.saddr;
	pseudo.daddr = pkt.ip.daddr;
	pseudo.zero = 0;
	pseudo.proto = IPPROTO_TCP;
	pseudo.len = htons(sizeof(pkt.tcp));
	sum = csum_add(0, &pseudo, sizeof(pseudo));
	sum = csum_add(sum, &pkt.tcp, sizeof(pkt.tcp));
	pkt.tcp.check = htons(csum_fold(sum));
	to.sin_addr.s_addr = pkt.ip.daddr;
	if (sendto(raw, &pkt, sizeof(pkt), 0, (struct sockaddr *)&to,
		   sizeof(to)) != sizeof(pkt))
		return -errno;
	return 0;
}
