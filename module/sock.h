/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading a live socket: whether aqueue tracks it, what the kernel holds in
 * its queue, and its identity. The layer below everything that models a
 * queue; it knows nothing of aqueue's own state.
 */
#ifndef AQUEUE_SOCK_H
#define AQUEUE_SOCK_H

#include <linux/in6.h>
#include <linux/skbuff.h>
#include <linux/types.h>
#include <net/inet_connection_sock.h>
#include <net/sock.h>
#include <net/udp.h>

/* sizeof(((struct sockaddr_un *)0)->sun_path) */
#define AQ_UNIX_PATH_MAX 108

static inline bool aq_sock_is_udp(const struct sock *sk)
{
	return sk->sk_protocol == IPPROTO_UDP && sk->sk_type == SOCK_DGRAM &&
	       (sk->sk_family == AF_INET || sk->sk_family == AF_INET6);
}

/*
 * The queue length the kernel reports for this kind of listener. This and
 * the next two are inline: the probes' path reads them on every SYN.
 */
static inline u32 aq_kernel_qlen(const struct sock *sk)
{
	/* A unix listener queues its embryos as skbs, without sk_ack_backlog. */
	if (sk->sk_family == AF_UNIX)
		return skb_queue_len_lockless(&sk->sk_receive_queue);
	/* recvmsg() moves a UDP socket's queue to a second one, in batches. */
	if (aq_sock_is_udp(sk))
		return skb_queue_len_lockless(&sk->sk_receive_queue) +
		       skb_queue_len_lockless(&udp_sk(sk)->reader_queue);
	return READ_ONCE(sk->sk_ack_backlog);
}

/* TCP: request sockets waiting for their final ACK. */
static inline u32 aq_kernel_synq_len(const struct sock *sk)
{
	return inet_csk_reqsk_queue_len(sk);
}

/* UDP: bytes of receive memory in use. */
static inline u32 aq_kernel_rmem(const struct sock *sk)
{
	return sk_rmem_alloc_get(sk);
}

/*
 * What the backlog column holds: the receive buffer for UDP. @sk is one
 * aq_sock_trackable() took, whose only datagram kind is UDP.
 */
static inline u32 aq_kernel_backlog(const struct sock *sk)
{
	if (sk->sk_type == SOCK_DGRAM)
		return READ_ONCE(sk->sk_rcvbuf);
	return READ_ONCE(sk->sk_max_ack_backlog);
}

/* net.core.somaxconn of the socket's network namespace: listen()'s cap. */
static inline u32 aq_sock_somaxconn(const struct sock *sk)
{
	return READ_ONCE(sock_net(sk)->core.sysctl_somaxconn);
}

/*
 * Whether @sk, a live socket, is one aqueue tracks: a TCP or unix
 * listener, or a bound UDP socket.
 */
bool aq_sock_trackable(const struct sock *sk);

struct aq_sock_now {
	bool read;	/* false: the row's own figures stand */
	u32 drops;
	u32 backlog;
};

/*
 * A tracked listener's socket as a reader sees it, changing nothing: false
 * if it is no longer listening. A @closing one, which may still hand its queue
 * over, and a unix one, which counts refused connects itself, keep the
 * row's own figures.
 */
bool aq_sock_read_now(const struct sock *sk, bool closing,
		      struct aq_sock_now *now);

/* Closed by its owner (orphaned): only references keep it. */
static inline bool aq_sock_dead(const struct sock *sk)
{
	return sock_flag(sk, SOCK_DEAD);
}

/*
 * A reference on a socket found under RCU without one, unless its last
 * reference is already gone (a close on another CPU).
 */
static inline bool aq_sock_hold_live(struct sock *sk)
{
	return refcount_inc_not_zero(&sk->sk_refcnt);
}

static inline u16 aq_sock_family(const struct sock *sk)
{
	return sk->sk_family;
}

/* SOCK_STREAM, SOCK_SEQPACKET or SOCK_DGRAM. */
static inline u16 aq_sock_type(const struct sock *sk)
{
	return sk->sk_type;
}

/*
 * Under RCU: the @i-th listening member of @sk's reuseport group (@sk
 * among them), or NULL past the last or if it is in none. Read without
 * reuseport's lock: a member joining or leaving meanwhile may be missed,
 * or its pointer be stale (compare it, never follow it).
 */
const struct sock *aq_sock_reuseport_member(const struct sock *sk,
					    unsigned int i);
u32 aq_sock_netns(const struct sock *sk);
/* Host order; 0 for a unix socket. */
u16 aq_sock_port(const struct sock *sk);
/* The socket's inode number, as ss -e and /proc/PID/fd show it; or 0. */
unsigned long aq_sock_ino(const struct sock *sk);
/* The bound address of a TCP or UDP socket (IPv4 in the first word). */
void aq_sock_inet_addr(const struct sock *sk, struct in6_addr *addr);
/*
 * The bound name of a unix socket into @path (AQ_UNIX_PATH_MAX bytes);
 * returns its length, 0 if unbound. Abstract names start with a NUL.
 */
u8 aq_sock_unix_path(const struct sock *sk, char *path);

#endif /* AQUEUE_SOCK_H */
