/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TCP sockets for the tests: addresses as /proc/aqueue prints them,
 * listeners, non-blocking connects, waits bounded in time, closing without
 * leftovers. None of these assert, so threads may call them.
 */
#ifndef AQ_SOCK_H
#define AQ_SOCK_H

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>

#ifndef SO_REUSEPORT
#define SO_REUSEPORT 15
#endif

union aq_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_storage ss;
};

socklen_t aq_addr_len(const union aq_addr *a);

/* Fills a from a numeric address ("127.0.0.1", "::1", "::") and port. */
int aq_addr(union aq_addr *a, const char *ip, uint16_t port);

uint16_t aq_port_of(int fd);

/* "ADDR:PORT" as /proc/aqueue prints the local address of fd. */
void aq_local_str(int fd, char *buf, size_t size);

int64_t aq_sock_ino(int fd);

enum {
	AQ_V6ONLY = 1 << 0,	/* IPV6_V6ONLY=1 (default: dual-stack off) */
	AQ_DUAL = 1 << 1,	/* IPV6_V6ONLY=0 */
	AQ_REUSEPORT = 1 << 2,
};

/*
 * A TCP listener on ip:port (port 0: any) with the given backlog; returns
 * the fd or -errno.
 */
int aq_listen_tcp(const char *ip, uint16_t port, int backlog, int flags);

/*
 * Starts a non-blocking connection to ip:port; returns the fd (the
 * handshake may still be in flight) or -errno. defer_ack makes the client
 * hold back the final ACK of the handshake (TCP_DEFER_ACCEPT on a
 * connecting socket: tcp_rcv_synsent_state_process() then schedules a
 * delayed ACK instead of sending it) until it sends data or its delayed-ACK
 * timer fires.
 */
int aq_connect_nb(const char *ip, uint16_t port, bool defer_ack);

/* Blocking connect; returns the fd or -errno. */
int aq_connect(const char *ip, uint16_t port);

/* TCP state of a socket (TCP_ESTABLISHED, TCP_SYN_SENT, ...) or -1. */
int aq_tcp_state(int fd);

/* Waits (bounded) until the client socket is in TCP state `want`. */
int aq_wait_state(int fd, int want);

/* Closes with an RST (SO_LINGER 0) so that nothing of it lingers. */
void aq_close_rst(int fd);

/* aq_close_rst() on each fd that is open, leaving -1 in its place. */
void aq_close_fds(int *fd, int n);

/* Accepts if a connection is queued, never blocks; the fd or -errno. */
int aq_accept_nb(int lfd);

/* Raises RLIMIT_NOFILE to at least n (root may raise the hard limit). */
int aq_raise_nofile(rlim_t n);

#endif /* AQ_SOCK_H */
