// SPDX-License-Identifier: GPL-2.0
/*
 * Where a connection enters and leaves a TCP listener's queues:
 *
 *   inet_listen               listen() and listen() again: create, backlog
 *   inet_csk_listen_stop      the listener closes: retire its row when
 *                             done, what is still queued then is drained
 *   reuseport_migrate_sock    ... or handed to another member of its
 *                             reuseport group (tcp_migrate_req)
 *   tcp_conn_request          a SYN reached the listener: accept and SYN
 *                             queue lengths seen, drops at SYN time (accept
 *                             or SYN queue full), SYN cookies sent
 *   tcp_rtx_synack            a SYN-ACK sent again
 *   tcp_v{4,6}_syn_recv_sock  the final ACK: drops when the accept queue is
 *                             full by then
 *   inet_csk_complete_hashdance  a child joins the accept queue at the
 *   inet_csk_reqsk_queue_add     final ACK (handshake time), or through
 *                                syncookies or Fast Open
 *   inet_csk_accept           accept() took the head of the queue
 */
#include <linux/if_ether.h>
#include <linux/kprobes.h>
#include <linux/net.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/skbuff.h>
#include <net/inet_connection_sock.h>
#include <net/ip.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "listener.h"
#include "probe_tcp.h"
#include "probes.h"
#include "queue.h"

/*
 * The probes, in the order they are registered: a listener's end is
 * watched before its start. Each is described in aq_tcp_table below.
 */
enum {
	AQ_PROBE_LISTEN_STOP,
	AQ_PROBE_MIGRATE,
	AQ_PROBE_LISTEN,
	AQ_PROBE_HASHDANCE,
	AQ_PROBE_QUEUE_ADD,
	AQ_PROBE_ACCEPT,
	AQ_PROBE_SYN,
	AQ_PROBE_ACK4,
	AQ_PROBE_ACK6,
	AQ_PROBE_SYNACK_RETRANS,
	AQ_PROBE_COUNT
};

static DEFINE_PER_CPU(unsigned long[AQ_PROBE_COUNT], aq_probe_hits);

/*
 * The netns counters of what tcp_conn_request() decided for one SYN. They
 * are per CPU and a listener's SYNs are handled with softirqs off, so the
 * difference on this CPU across the call is this SYN's alone.
 */
static const int aq_syn_mibs[] = {
	LINUX_MIB_TCPREQQFULLDROP,
	LINUX_MIB_TCPREQQFULLDOCOOKIES,
	LINUX_MIB_SYNCOOKIESSENT,
};

/* Carried from a kretprobe's entry to its return. */
struct aq_call {
	struct sock *sk;
	u32 drops;
	enum aq_drop_cause cause;
	unsigned long syn_mibs[ARRAY_SIZE(aq_syn_mibs)];
};

static void aq_read_syn_mibs(const struct sock *sk, unsigned long *out)
{
	struct linux_mib __percpu *mib = sock_net(sk)->mib.net_statistics;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(aq_syn_mibs); i++)
		out[i] = this_cpu_read(mib->mibs[aq_syn_mibs[i]]);
}

static bool aq_is_tcp(const struct sock *sk)
{
	return sk->sk_protocol == IPPROTO_TCP &&
	       (sk->sk_family == AF_INET || sk->sk_family == AF_INET6);
}

static int aq_listen_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct socket *sock = (struct socket *)aq_probe_arg(regs, 0);
	struct sock *sk = sock->sk;

	aq_hit(AQ_PROBE_LISTEN);
	if (!sk || !aq_is_tcp(sk))
		return 1;
	*(struct sock **)ri->data = sk;
	return 0;
}

static int aq_listen_stop_entry(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	struct sock *sk = aq_sk_arg(regs, 0);

	aq_hit(AQ_PROBE_LISTEN_STOP);
	if (!aq_is_tcp(sk) || !aq_probe_update(sk, false, aq_listener_closing))
		return 1;
	*(struct sock **)ri->data = sk;
	return 0;
}

static int aq_listen_stop_return(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	struct sock *sk = *(struct sock **)ri->data;

	rcu_read_lock();
	aq_listener_stop(sk);
	rcu_read_unlock();
	return 0;
}

/* Carried from reuseport_migrate_sock()'s entry to its return. */
struct aq_migration {
	struct sock *from;
	struct sock *child;
};

/*
 * inet_csk_listen_stop() asks reuseport for a new listener for each child
 * it takes off the queue (a full socket; a request socket is a handshake
 * that moves, which no accept queue holds yet). The kernel queues the
 * child there right after the call returns, unless it cannot copy its
 * request (no memory), which the model does not see.
 */
static int aq_migrate_entry(struct kretprobe_instance *ri,
			    struct pt_regs *regs)
{
	struct aq_migration *m = (struct aq_migration *)ri->data;

	aq_hit(AQ_PROBE_MIGRATE);
	m->from = aq_sk_arg(regs, 0);
	m->child = aq_sk_arg(regs, 1);
	if (!aq_is_tcp(m->from) ||
	    READ_ONCE(m->child->sk_state) == TCP_NEW_SYN_RECV)
		return 1;
	return 0;
}

static int aq_migrate_return(struct kretprobe_instance *ri,
			     struct pt_regs *regs)
{
	struct aq_migration *m = (struct aq_migration *)ri->data;
	struct sock *to_sk = (struct sock *)regs_return_value(regs);
	struct aq_listener *from, *to = NULL;

	if (!to_sk)
		return 0;
	rcu_read_lock();
	from = aq_listener_get(m->from, false);
	if (READ_ONCE(to_sk->sk_state) == TCP_LISTEN)
		to = aq_listener_get(to_sk, true);
	aq_queue_migrate(from, m->from, to, to_sk);
	rcu_read_unlock();
	return 0;
}

/*
 * What the return of tcp_conn_request() adds is known at its entry: it
 * tests the queues before anything else, so the return (a trampoline that
 * costs about as much as the probe itself) is taken only when a queue is
 * full at the entry or SYN cookies are always sent. A drop of any other
 * kind (no memory, no route) moves sk_drops, which the next event or read
 * counts, as drops of another cause.
 */
static bool aq_syn_may_overflow(const struct sock *sk)
{
	return sk_acceptq_is_full(sk) || inet_csk_reqsk_queue_is_full(sk) ||
	       READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_syncookies) == 2;
}

static int aq_syn_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct aq_call *call = (struct aq_call *)ri->data;
	struct sock *sk = aq_sk_arg(regs, 2);

	aq_hit(AQ_PROBE_SYN);
	if (!aq_probe_update(sk, true, aq_queue_request, sk) ||
	    !aq_syn_may_overflow(sk))
		return 1;
	call->sk = sk;
	call->drops = aq_sk_drops(sk);
	call->cause = sk_acceptq_is_full(sk) ? AQ_DROP_SYN_ACCEPTQ_FULL :
					       AQ_DROP_OTHER;
	aq_read_syn_mibs(sk, call->syn_mibs);
	return 0;
}

static int aq_syn_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct aq_call *call = (struct aq_call *)ri->data;
	unsigned long now[ARRAY_SIZE(aq_syn_mibs)];
	struct aq_syn_outcome outcome;
	/* Each failed call drops once, through tcp_listendrop(). */
	u32 delta = aq_sk_drops(call->sk) - call->drops;

	if (delta)
		aq_probe_update(call->sk, false, aq_queue_drops, call->sk,
				delta, call->cause);
	aq_read_syn_mibs(call->sk, now);
	outcome.synq_full_drops = now[0] - call->syn_mibs[0];
	outcome.synq_full_cookies = now[1] - call->syn_mibs[1];
	outcome.syn_cookies = now[2] - call->syn_mibs[2];
	if (!outcome.synq_full_drops && !outcome.synq_full_cookies &&
	    !outcome.syn_cookies)
		return 0;
	aq_probe_update(call->sk, false, aq_queue_syn_done, &outcome);
	return 0;
}

static int aq_synack_retrans_entry(struct kretprobe_instance *ri,
				   struct pt_regs *regs)
{
	aq_hit(AQ_PROBE_SYNACK_RETRANS);
	*(struct sock **)ri->data = aq_sk_arg(regs, 0);
	return 0;
}

/* Counted as the kernel's TCPSynRetrans is: when it was sent. */
static int aq_synack_retrans_return(struct kretprobe_instance *ri,
				    struct pt_regs *regs)
{
	struct sock *sk = *(struct sock **)ri->data;

	if (regs_return_value(regs))
		return 0;
	/* A Fast Open child answers for itself: no listener then. */
	if (aq_is_tcp(sk) && READ_ONCE(sk->sk_state) == TCP_LISTEN)
		aq_probe_update(sk, false, aq_queue_synack_retrans);
	return 0;
}

/*
 * The final ACK: the first thing tcp_v{4,6}_syn_recv_sock() does is to
 * drop it if the accept queue is full, so a full queue at the entry is the
 * drop, counted at once and ahead of sk_drops, which then catches up. No
 * return probe is needed: other failures there (no memory, no route) move
 * sk_drops, which the next event or read counts, as drops of another
 * cause.
 */
static void aq_ack(struct sock *sk)
{
	if (unlikely(sk_acceptq_is_full(sk)))
		aq_probe_update(sk, false, aq_queue_ack_overflow, sk);
}

static int aq_ack4(struct kprobe *p, struct pt_regs *regs)
{
	aq_hit(AQ_PROBE_ACK4);
	aq_ack(aq_sk_arg(regs, 0));
	return 0;
}

static int aq_ack6(struct kprobe *p, struct pt_regs *regs)
{
	struct sk_buff *skb = (struct sk_buff *)aq_probe_arg(regs, 1);

	aq_hit(AQ_PROBE_ACK6);
	/* v4-mapped: tcp_v4_syn_recv_sock() runs inside and is counted. */
	if (skb->protocol != htons(ETH_P_IP))
		aq_ack(aq_sk_arg(regs, 0));
	return 0;
}

static void aq_enqueue(struct sock *sk, u64 synack_ns)
{
	/* Not listening: the kernel forgets the child instead. */
	if (aq_is_tcp(sk) && READ_ONCE(sk->sk_state) == TCP_LISTEN)
		aq_probe_update(sk, true, aq_queue_enqueue, sk, synack_ns);
}

/*
 * The request remembers when its first SYN-ACK left (tcp_clock_us(), the
 * monotonic clock), which the kernel does at once on the SYN: that is when
 * the handshake began. 0 when it was never set (a SYN cookie's request). A
 * Fast Open child joins at the SYN, with no handshake behind it. The
 * handshake ends at the enqueue's own reading of the clock.
 */
static u64 aq_synack_ns(const struct request_sock *req)
{
	if (tcp_rsk(req)->tfo_listener)
		return 0;
	return tcp_rsk(req)->snt_synack * NSEC_PER_USEC;
}

static struct aq_probe aq_tcp_table[AQ_PROBE_COUNT];

/*
 * inet_csk_complete_hashdance() may carry an inlined copy of
 * inet_csk_reqsk_queue_add() that a probe on the latter never sees (6.1
 * on), so the final-ACK path is counted there. Where the hashdance makes a
 * real call instead (5.10), the call is told by its return address and
 * not counted twice, and the hashdance probe is disarmed: the call sees
 * every child from then on. The per-CPU note says whether the hashdance
 * probe counted the child it called with: with softirqs off, nothing runs
 * on this CPU between the two. A call from inet_csk_listen_stop() is a
 * reuseport migration, counted where reuseport chose the new listener.
 */
static DEFINE_PER_CPU(const struct sock *, aq_hashdance_child);

static int aq_hashdance(struct kprobe *p, struct pt_regs *regs)
{
	bool own_req = (u8)aq_probe_arg(regs, 3);

	aq_hit(AQ_PROBE_HASHDANCE);
	if (!own_req || aq_probe_disarming(&aq_tcp_table[AQ_PROBE_HASHDANCE]))
		return 0;
	this_cpu_write(aq_hashdance_child, aq_sk_arg(regs, 1));
	aq_enqueue(aq_sk_arg(regs, 0),
		   aq_synack_ns((struct request_sock *)aq_probe_arg(regs, 2)));
	return 0;
}

static int aq_queue_add(struct kprobe *p, struct pt_regs *regs)
{
	struct aq_probe *hashdance = &aq_tcp_table[AQ_PROBE_HASHDANCE];

	aq_hit(AQ_PROBE_QUEUE_ADD);
	if (aq_probe_called_from(regs, hashdance)) {
		bool counted = this_cpu_read(aq_hashdance_child) ==
			       aq_sk_arg(regs, 2);

		this_cpu_write(aq_hashdance_child, NULL);
		aq_probe_disarm(hashdance);
		if (counted)
			return 0;
	} else if (aq_probe_called_from(regs,
					&aq_tcp_table[AQ_PROBE_LISTEN_STOP])) {
		return 0;
	}
	aq_enqueue(aq_sk_arg(regs, 0),
		   aq_synack_ns((struct request_sock *)aq_probe_arg(regs, 1)));
	return 0;
}

static int aq_accept_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sock *sk = aq_sk_arg(regs, 0);

	aq_hit(AQ_PROBE_ACCEPT);
	if (!aq_is_tcp(sk))
		return 1;
	*(struct sock **)ri->data = sk;
	return 0;
}

static int aq_accept_return(struct kretprobe_instance *ri,
			    struct pt_regs *regs)
{
	/* inet_csk_accept() returns the child, or NULL. */
	if (regs_return_value(regs))
		aq_probe_accepted(*(struct sock **)ri->data);
	return 0;
}

static struct aq_probe aq_tcp_table[AQ_PROBE_COUNT] = {
	[AQ_PROBE_LISTEN_STOP] = AQ_KRETPROBE("inet_csk_listen_stop",
		aq_listen_stop_entry, aq_listen_stop_return,
		sizeof(struct sock *), AQ_PROBE_QUEUE),
	[AQ_PROBE_MIGRATE] = AQ_KRETPROBE("reuseport_migrate_sock",
		aq_migrate_entry, aq_migrate_return,
		sizeof(struct aq_migration),
		AQ_PROBE_QUEUE | AQ_COMPAT_MIGRATE_REQ_FLAGS),
	[AQ_PROBE_LISTEN] = AQ_KRETPROBE("inet_listen",
		aq_listen_entry, aq_probe_listen_return,
		sizeof(struct sock *), 0),
	[AQ_PROBE_HASHDANCE] = AQ_KPROBE_FLAGS("inet_csk_complete_hashdance",
		aq_hashdance, AQ_PROBE_QUEUE),
	[AQ_PROBE_QUEUE_ADD] = AQ_KPROBE_FLAGS("inet_csk_reqsk_queue_add",
		aq_queue_add, AQ_PROBE_QUEUE),
	[AQ_PROBE_ACCEPT] = AQ_KRETPROBE("inet_csk_accept",
		aq_accept_entry, aq_accept_return,
		sizeof(struct sock *), AQ_PROBE_SLEEPS | AQ_PROBE_QUEUE),
	[AQ_PROBE_SYN] = AQ_KRETPROBE("tcp_conn_request",
		aq_syn_entry, aq_syn_return,
		sizeof(struct aq_call), 0),
	[AQ_PROBE_ACK4] = AQ_KPROBE("tcp_v4_syn_recv_sock", aq_ack4),
	[AQ_PROBE_ACK6] = AQ_KPROBE_FLAGS("tcp_v6_syn_recv_sock", aq_ack6,
		AQ_PROBE_OPTIONAL),
	[AQ_PROBE_SYNACK_RETRANS] = AQ_KRETPROBE("tcp_rtx_synack",
		aq_synack_retrans_entry, aq_synack_retrans_return,
		sizeof(struct sock *), 0),
};

AQ_PROBE_SET(aq_tcp_probes, aq_tcp_table, false);
