// SPDX-License-Identifier: GPL-2.0
/*
 * Where a datagram enters and leaves the receive queue of a UDP socket
 * bound to a watched port. These probes are registered only while some
 * UDP port is watched:
 *
 *   __udp_enqueue_schedule_skb    a datagram joins the receive queue, or is
 *                                 dropped because the buffer is full
 *   __skb_recv_udp                recvmsg() took one (not a peek)
 *   udp_lib_unhash                the socket closes
 *
 * A UDP socket is found under RCU without a reference, and its receive
 * path may run from the socket backlog with preemption on, so the entry is
 * looked up again at return.
 */
#include <linux/err.h>
#include <linux/kprobes.h>
#include <linux/net.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/socket.h>
#include <net/sock.h>

#include "filter.h"
#include "listener.h"
#include "probe_udp.h"
#include "probes.h"
#include "queue.h"
#include "sock.h"

/*
 * The probes, in the order they are registered: a socket's end is
 * watched before its datagrams. Each is described in aq_udp_table below.
 */
enum {
	AQ_PROBE_UNHASH,
	AQ_PROBE_ENQUEUE,
	AQ_PROBE_RECV,
	AQ_PROBE_COUNT
};

static DEFINE_PER_CPU(unsigned long[AQ_PROBE_COUNT], aq_probe_hits);

static bool aq_udp_watched(const struct sock *sk)
{
	return sk->sk_protocol == IPPROTO_UDP && sk->sk_type == SOCK_DGRAM &&
	       aq_udp_port_on(inet_sk(sk)->inet_num);
}

struct aq_udp_call {
	struct sock *sk;
	u32 seen_len;
	u32 seen_bytes;
};

static int aq_udp_enqueue_entry(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	struct aq_udp_call *call = (struct aq_udp_call *)ri->data;
	struct sock *sk = aq_sk_arg(regs, 0);
	struct aq_listener *l;

	aq_hit(AQ_PROBE_ENQUEUE);
	if (!aq_udp_watched(sk))
		return 1;
	rcu_read_lock();
	l = aq_listener_get(sk, true);
	rcu_read_unlock();
	if (!l)
		return 1;
	call->sk = sk;
	call->seen_len = aq_kernel_qlen(sk);
	call->seen_bytes = sk_rmem_alloc_get(sk);
	return 0;
}

static int aq_udp_enqueue_return(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	struct aq_udp_call *call = (struct aq_udp_call *)ri->data;

	aq_probe_update(call->sk, false, aq_queue_datagram, call->sk,
			call->seen_len, call->seen_bytes,
			(int)regs_return_value(regs));
	return 0;
}

static int aq_udp_recv_entry(struct kretprobe_instance *ri,
			     struct pt_regs *regs)
{
	struct sock *sk = aq_sk_arg(regs, 0);
	unsigned int flags = (unsigned int)aq_probe_arg(regs, 1);

	aq_hit(AQ_PROBE_RECV);
	/* A peek leaves the datagram queued. */
	if ((flags & MSG_PEEK) || !aq_udp_watched(sk))
		return 1;
	*(struct sock **)ri->data = sk;
	return 0;
}

static int aq_udp_recv_return(struct kretprobe_instance *ri,
			      struct pt_regs *regs)
{
	struct sock *sk = *(struct sock **)ri->data;

	/* __skb_recv_udp() returns the datagram, or NULL. */
	if (IS_ERR_OR_NULL((void *)regs_return_value(regs)))
		return 0;
	aq_probes_check_missed();
	aq_probe_update(sk, false, aq_listener_received, sk);
	return 0;
}

static int aq_udp_unhash(struct kprobe *p, struct pt_regs *regs)
{
	struct sock *sk = aq_sk_arg(regs, 0);

	aq_hit(AQ_PROBE_UNHASH);
	if (sk->sk_protocol != IPPROTO_UDP)
		return 0;
	rcu_read_lock();
	aq_listener_stop(sk);
	rcu_read_unlock();
	return 0;
}

static struct aq_probe aq_udp_table[AQ_PROBE_COUNT] = {
	[AQ_PROBE_UNHASH] = AQ_KPROBE_FLAGS("udp_lib_unhash", aq_udp_unhash,
		AQ_PROBE_QUEUE),
	[AQ_PROBE_ENQUEUE] = AQ_KRETPROBE("__udp_enqueue_schedule_skb",
		aq_udp_enqueue_entry, aq_udp_enqueue_return,
		sizeof(struct aq_udp_call), AQ_PROBE_QUEUE),
	[AQ_PROBE_RECV] = AQ_KRETPROBE("__skb_recv_udp",
		aq_udp_recv_entry, aq_udp_recv_return,
		sizeof(struct sock *), AQ_PROBE_SLEEPS | AQ_PROBE_QUEUE),
};

AQ_PROBE_SET(aq_udp_probes, aq_udp_table, true);
