/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which listeners aqueue tracks: by port, network namespace, address
 * family and kind of socket. Read locklessly on the hot path; replaced
 * whole under aq_config_lock.
 */
#ifndef AQUEUE_FILTER_H
#define AQUEUE_FILTER_H

#include <linux/types.h>

struct seq_file;

#define AQ_FILTER_MAX_PORTS 16

enum aq_kind {
	AQ_KIND_TCP = 1 << 0,
	AQ_KIND_UNIX = 1 << 1,
	AQ_KIND_UDP = 1 << 2,
};
#define AQ_KIND_ALL (AQ_KIND_TCP | AQ_KIND_UNIX | AQ_KIND_UDP)

struct aq_filter {
	u16 ports[AQ_FILTER_MAX_PORTS];	/* host order */
	unsigned int nports;		/* 0: any port */
	u32 netns;			/* 0: any namespace */
	u16 family;			/* AF_INET, AF_INET6, 0: any */
	unsigned int kinds;		/* enum aq_kind bits */
};

bool aq_filter_match(u32 netns, u16 family, u16 port, enum aq_kind kind);
/* Returns a copy of the filter in force, for editing. */
void aq_filter_get(struct aq_filter *f);
int aq_filter_set(const struct aq_filter *f);
void aq_filter_show(struct seq_file *m);
void aq_filter_exit(void);

/*
 * UDP is a hot path, so UDP sockets are watched only on the ports listed
 * here (none by default), and its probes are registered only while the
 * list is not empty. The list is read locklessly and changed under
 * aq_config_lock.
 */
#define AQ_UDP_PORTS_MAX 64
bool aq_udp_port_on(u16 port);
unsigned int aq_udp_nports(void);
/*
 * @empty_word ("any" for a filter, "none" for udp_ports) or PORT[,PORT...]
 * (decimal, 1 to 65535, at most @max) into @ports; @list is cut up.
 */
int aq_ports_parse(char *list, const char *empty_word, u16 *ports,
		   unsigned int max, unsigned int *n);
/* @ports: @n ports in host order; replaces the list. */
void aq_udp_ports_set(const u16 *ports, unsigned int n);
void aq_udp_ports_show(struct seq_file *m);

#endif /* AQUEUE_FILTER_H */
