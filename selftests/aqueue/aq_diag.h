/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's own view of a TCP listener, the oracle of the tests:
 *
 *  - NETLINK_SOCK_DIAG (inet_diag, INET_DIAG_REQ_V2): what `ss -lnt` shows
 *    for a listener, idiag_rqueue = accept queue now, idiag_wqueue = backlog,
 *    and the requests in SYN-RECV (`ss -tn state syn-recv`);
 *  - getsockopt(SO_MEMINFO): SK_MEMINFO_DROPS = the listener's sk_drops;
 *  - /proc/net/netstat TcpExt counters of the current network namespace.
 */
#ifndef AQ_DIAG_H
#define AQ_DIAG_H

#include <stdint.h>

#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

#define AQ_TCP_LISTEN_STATE 10	/* TCP_LISTEN in the kernel's enum */
#define AQ_TCP_SYN_RECV_STATE 3	/* TCP_SYN_RECV */

struct __test_metadata;

/*
 * Value of counter `name` in the `group` ("TcpExt", "Udp") of a file laid
 * out as /proc/net/netstat and /proc/net/snmp are (a line of names, then
 * one of values), in the caller's namespace; -1 when absent.
 */
long long aq_snmp(const char *path, const char *group, const char *name);

long long aq_netstat(const char *group, const char *name);

struct aq_listen_mib {
	long long overflows;	/* TcpExtListenOverflows */
	long long drops;	/* TcpExtListenDrops */
};

void aq_listen_mib(struct __test_metadata *_metadata, struct aq_listen_mib *m);

/* The socket's sk_drops, or -1 on error. */
long long aq_sk_drops(int fd);

struct aq_diag {
	int family;
	uint16_t port;			/* host order */
	uint8_t addr[16];
	uint32_t rqueue;		/* accept queue now */
	uint32_t wqueue;		/* backlog */
	int64_t inode;
	uint64_t cookie;
};

/*
 * TCP sockets of one family in the caller's namespace whose state is in
 * `states` (a mask of 1U << state, the kernel's TCP_* numbers), optionally
 * only those on local port `port` (0: all). Returns how many were stored
 * in out (at most max; more are counted but not stored), or -errno.
 */
int aq_diag_dump(int family, uint32_t states, uint16_t port,
		 struct aq_diag *out, int max);

/* TCP listeners (state LISTEN), as aq_diag_dump(). */
int aq_diag_listeners(int family, uint16_t port, struct aq_diag *out,
		      int max);

/* The kernel's view of the listening socket fd (sock_diag, by inode). */
int aq_diag_of(int fd, struct aq_diag *out);

/*
 * How many TCP listeners of `family` the caller's namespace has: sock_diag,
 * or /proc/net/tcp{,6} (state 0A) without inet_diag.
 */
int aq_count_listeners(int family);

/* Accept queue now according to sock_diag, or -1. */
long aq_diag_rqueue(int fd);

/*
 * Waits (bounded) until sock_diag shows `want` queued on fd; returns what
 * it saw last.
 */
long aq_wait_rqueue(int fd, long want);

/* Waits (bounded) until the listener's sk_drops reaches at least `want`. */
long long aq_wait_drops(int fd, long long want);

#endif /* AQ_DIAG_H */
