// SPDX-License-Identifier: GPL-2.0
/*
 * Where a connection enters and leaves a TCP listener's queues.
 *
 *   inet_listen               listen() and listen() again: create, backlog
 *   inet_csk_listen_stop      the listener closes: retire its row
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
 *
 * and for unix domain stream and seqpacket listeners:
 *
 *   unix_listen                   listen(): create, backlog
 *   unix_release_sock             the listener closes
 *   security_unix_stream_connect  an embryo joins the listener's queue
 *   unix_accept                   accept() took it
 *   unix_wait_for_peer            a blocking connect sleeps on a full queue
 *   unix_find_other,              a non-blocking connect refused with
 *   unix_stream_connect           EAGAIN, and for which listener
 *
 * and, only while some UDP port is watched (they are not registered
 * otherwise), for UDP sockets bound to such a port:
 *
 *   __udp_enqueue_schedule_skb    a datagram joins the receive queue, or is
 *                                 dropped because the buffer is full
 *   __skb_recv_udp                recvmsg() took one (not a peek)
 *   udp_lib_unhash                the socket closes
 *
 * Handlers stay short: look the listener up, update it under its own lock.
 */
#include <linux/hash.h>
#include <linux/if_ether.h>
#include <linux/jiffies.h>
#include <linux/jump_label.h>
#include <linux/kprobes.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/skbuff.h>
#include <net/inet_connection_sock.h>
#include <net/ip.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "config.h"
#include "filter.h"
#include "listener.h"
#include "probes.h"
#include "queue.h"
#include "sock.h"

/* Index of each probe in aq_probes[], for its hit counter. */
enum aq_probe_index {
	AQ_PROBE_LISTEN_STOP,
	AQ_PROBE_LISTEN,
	AQ_PROBE_HASHDANCE,
	AQ_PROBE_QUEUE_ADD,
	AQ_PROBE_ACCEPT,
	AQ_PROBE_SYN,
	AQ_PROBE_ACK4,
	AQ_PROBE_ACK6,
	AQ_PROBE_SYNACK_RETRANS,
	AQ_PROBE_UNIX_RELEASE,
	AQ_PROBE_UNIX_LISTEN,
	AQ_PROBE_UNIX_ENQUEUE,
	AQ_PROBE_UNIX_ACCEPT,
	AQ_PROBE_UNIX_WAIT,
	AQ_PROBE_UNIX_FIND,
	AQ_PROBE_UNIX_CONNECT,
	AQ_PROBE_UDP_UNHASH,
	AQ_PROBE_UDP_ENQUEUE,
	AQ_PROBE_UDP_RECV,
	AQ_PROBE_COUNT,
};

static DEFINE_PER_CPU(unsigned long[AQ_PROBE_COUNT], aq_probe_hits);

/*
 * For "make bench": the same probes with handlers that return at once, to
 * tell the cost of the kprobe mechanism from the cost of aqueue's own work.
 */
static bool empty_handlers;
module_param(empty_handlers, bool, 0444);
MODULE_PARM_DESC(empty_handlers,
		 "Benchmarking only: probe handlers return at once, nothing is tracked (default: 0)");
static DEFINE_STATIC_KEY_FALSE(aq_empty_handlers);

static bool aq_empty(void)
{
	return static_branch_unlikely(&aq_empty_handlers);
}

static void aq_hit(enum aq_probe_index probe)
{
	this_cpu_inc(aq_probe_hits[probe]);
}

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

static struct sock *aq_sk_arg(struct pt_regs *regs, unsigned int n)
{
	return (struct sock *)aq_probe_arg(regs, n);
}

static int aq_listen_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct socket *sock = (struct socket *)aq_probe_arg(regs, 0);
	struct sock *sk = sock->sk;

	if (aq_empty())
		return 0;
	aq_hit(AQ_PROBE_LISTEN);
	if (!sk || !aq_is_tcp(sk))
		return 1;
	*(struct sock **)ri->data = sk;
	return 0;
}

static int aq_listen_return(struct kretprobe_instance *ri,
			    struct pt_regs *regs)
{
	struct sock *sk = *(struct sock **)ri->data;

	if (aq_empty())
		return 0;
	if ((int)regs_return_value(regs) || !aq_is_listener(sk))
		return 0;
	rcu_read_lock();
	aq_listener_listen(sk);
	rcu_read_unlock();
	return 0;
}

static int aq_listen_stop(struct kprobe *p, struct pt_regs *regs)
{
	struct sock *sk = aq_sk_arg(regs, 0);

	if (aq_empty())
		return 0;
	aq_hit(AQ_PROBE_LISTEN_STOP);
	if (aq_is_tcp(sk)) {
		rcu_read_lock();
		aq_listener_stop(sk);
		rcu_read_unlock();
	}
	return 0;
}

static int aq_syn_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct aq_call *call = (struct aq_call *)ri->data;
	struct sock *sk = aq_sk_arg(regs, 2);
	struct aq_listener *l;

	if (aq_empty())
		return 0;
	aq_hit(AQ_PROBE_SYN);
	rcu_read_lock();
	l = aq_listener_get(sk, true);
	if (l)
		aq_listener_syn(l, sk);
	rcu_read_unlock();
	if (!l)
		return 1;
	call->sk = sk;
	call->drops = aq_sk_drops(sk);
	call->cause = sk_acceptq_is_full(sk) ? AQ_DROP_SYN_ACCEPTQ_FULL :
					       AQ_DROP_OTHER;
	aq_read_syn_mibs(sk, call->syn_mibs);
	return 0;
}

/* Each failed call drops once, through tcp_listendrop(). */
static void aq_call_done(struct aq_call *call)
{
	u32 delta = aq_sk_drops(call->sk) - call->drops;
	struct aq_listener *l;

	if (!delta)
		return;
	rcu_read_lock();
	l = aq_listener_get(call->sk, false);
	if (l)
		aq_listener_drops(l, call->sk, delta, call->cause);
	rcu_read_unlock();
}

static int aq_syn_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct aq_call *call = (struct aq_call *)ri->data;
	unsigned long now[ARRAY_SIZE(aq_syn_mibs)];
	struct aq_syn_outcome outcome;
	struct aq_listener *l;

	if (aq_empty())
		return 0;
	aq_call_done(call);
	aq_read_syn_mibs(call->sk, now);
	outcome.synq_full_drops = now[0] - call->syn_mibs[0];
	outcome.synq_full_cookies = now[1] - call->syn_mibs[1];
	outcome.syn_cookies = now[2] - call->syn_mibs[2];
	if (!outcome.synq_full_drops && !outcome.synq_full_cookies &&
	    !outcome.syn_cookies)
		return 0;
	rcu_read_lock();
	l = aq_listener_get(call->sk, false);
	if (l)
		aq_listener_syn_done(l, &outcome);
	rcu_read_unlock();
	return 0;
}

static int aq_synack_retrans_entry(struct kretprobe_instance *ri,
				   struct pt_regs *regs)
{
	if (aq_empty())
		return 0;
	aq_hit(AQ_PROBE_SYNACK_RETRANS);
	*(struct sock **)ri->data = aq_sk_arg(regs, 0);
	return 0;
}

/* Counted as the kernel's TCPSynRetrans is: when it was sent. */
static int aq_synack_retrans_return(struct kretprobe_instance *ri,
				    struct pt_regs *regs)
{
	struct sock *sk = *(struct sock **)ri->data;
	struct aq_listener *l;

	if (aq_empty() || regs_return_value(regs))
		return 0;
	/* A Fast Open child answers for itself: no listener then. */
	if (!aq_is_tcp(sk) || READ_ONCE(sk->sk_state) != TCP_LISTEN)
		return 0;
	rcu_read_lock();
	l = aq_listener_get(sk, false);
	if (l)
		aq_listener_synack_retrans(l);
	rcu_read_unlock();
	return 0;
}

static void aq_ack_begin(struct aq_call *call, struct sock *sk)
{
	call->sk = sk;
	call->drops = aq_sk_drops(sk);
	call->cause = sk_acceptq_is_full(sk) ? AQ_DROP_ACK_ACCEPTQ_FULL :
					       AQ_DROP_OTHER;
}

static int aq_ack4_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	if (aq_empty())
		return 0;
	aq_hit(AQ_PROBE_ACK4);
	aq_ack_begin((struct aq_call *)ri->data, aq_sk_arg(regs, 0));
	return 0;
}

static int aq_ack6_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sk_buff *skb = (struct sk_buff *)aq_probe_arg(regs, 1);

	if (aq_empty())
		return 0;
	aq_hit(AQ_PROBE_ACK6);
	/* v4-mapped: tcp_v4_syn_recv_sock() runs inside and is counted. */
	if (skb->protocol == htons(ETH_P_IP))
		return 1;
	aq_ack_begin((struct aq_call *)ri->data, aq_sk_arg(regs, 0));
	return 0;
}

static int aq_ack_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	if (aq_empty())
		return 0;
	if (!regs_return_value(regs))
		aq_call_done((struct aq_call *)ri->data);
	return 0;
}

static void aq_enqueue(struct sock *sk, u64 synack_ns)
{
	struct aq_listener *l;

	/* Not listening: the kernel forgets the child instead. */
	if (!aq_is_tcp(sk) || READ_ONCE(sk->sk_state) != TCP_LISTEN)
		return;
	rcu_read_lock();
	l = aq_listener_get(sk, true);
	if (l)
		aq_listener_enqueue(l, sk, synack_ns);
	rcu_read_unlock();
}

/*
 * The request remembers when its first SYN-ACK left (tcp_clock_us(), the
 * monotonic clock), which the kernel does at once on the SYN: that is when
 * the handshake began. 0 when it was never set. The handshake ends at the
 * enqueue's own reading of the clock.
 */
static u64 aq_synack_ns(const struct request_sock *req)
{
	return tcp_rsk(req)->snt_synack * NSEC_PER_USEC;
}

/*
 * inet_csk_complete_hashdance() may carry an inlined copy of
 * inet_csk_reqsk_queue_add() that a probe on the latter never sees, so the
 * final-ACK path is counted here, and a real call it makes is recognised by
 * its child and not counted twice. Both run with softirqs off, so the
 * per-CPU note cannot be interleaved.
 */
static DEFINE_PER_CPU(const struct sock *, aq_hashdance_child);

static int aq_hashdance(struct kprobe *p, struct pt_regs *regs)
{
	bool own_req = (u8)aq_probe_arg(regs, 3);

	if (aq_empty())
		return 0;
	aq_hit(AQ_PROBE_HASHDANCE);
	if (!own_req)
		return 0;
	this_cpu_write(aq_hashdance_child, aq_sk_arg(regs, 1));
	aq_enqueue(aq_sk_arg(regs, 0),
		   aq_synack_ns((struct request_sock *)aq_probe_arg(regs, 2)));
	return 0;
}

static int aq_queue_add(struct kprobe *p, struct pt_regs *regs)
{
	if (aq_empty())
		return 0;
	aq_hit(AQ_PROBE_QUEUE_ADD);
	if (this_cpu_read(aq_hashdance_child) == aq_sk_arg(regs, 2)) {
		this_cpu_write(aq_hashdance_child, NULL);
		return 0;
	}
	aq_enqueue(aq_sk_arg(regs, 0), 0);
	return 0;
}

static int aq_accept_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sock *sk = aq_sk_arg(regs, 0);

	if (aq_empty())
		return 0;
	aq_hit(AQ_PROBE_ACCEPT);
	if (!aq_is_tcp(sk))
		return 1;
	*(struct sock **)ri->data = sk;
	return 0;
}

/* accept() took the head of @sk's queue: TCP and unix alike. */
static void aq_accepted(struct sock *sk)
{
	struct aq_listener *l;

	aq_probes_check_missed();
	rcu_read_lock();
	l = aq_listener_get_after_accept(sk);
	if (l)
		aq_listener_dequeue(l, sk);
	rcu_read_unlock();
}

static int aq_accept_return(struct kretprobe_instance *ri,
			    struct pt_regs *regs)
{
	/* inet_csk_accept() returns the child, or NULL. */
	if (!aq_empty() && regs_return_value(regs))
		aq_accepted(*(struct sock **)ri->data);
	return 0;
}

/*
 * Unix domain stream and seqpacket listeners. The queue is the listener's
 * receive queue of embryo sockets; unix_stream_connect() finds the
 * listener, passes the LSM hook with both sockets and queues the embryo
 * under the listener's state lock; unix_accept() dequeues.
 */
static int aq_unix_listen_entry(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	struct socket *sock = (struct socket *)aq_probe_arg(regs, 0);
	struct sock *sk = sock->sk;

	if (aq_empty())
		return 0;
	aq_hit(AQ_PROBE_UNIX_LISTEN);
	if (!sk)
		return 1;
	*(struct sock **)ri->data = sk;
	return 0;
}

static int aq_unix_release(struct kprobe *p, struct pt_regs *regs)
{
	struct sock *sk = aq_sk_arg(regs, 0);

	if (aq_empty())
		return 0;
	aq_hit(AQ_PROBE_UNIX_RELEASE);
	if (READ_ONCE(sk->sk_state) == TCP_LISTEN) {
		rcu_read_lock();
		aq_listener_stop(sk);
		rcu_read_unlock();
	}
	return 0;
}

static bool aq_is_unix_listener(const struct sock *sk)
{
	return sk->sk_family == AF_UNIX && aq_is_listener(sk);
}

static int aq_unix_enqueue_entry(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	struct sock *other = aq_sk_arg(regs, 1);
	struct aq_listener *l;

	if (aq_empty())
		return 0;
	aq_hit(AQ_PROBE_UNIX_ENQUEUE);
	if (!aq_is_unix_listener(other))
		return 1;
	rcu_read_lock();
	l = aq_listener_get(other, true);
	if (l)
		aq_listener_syn(l, other);
	rcu_read_unlock();
	if (!l)
		return 1;
	*(struct sock **)ri->data = other;
	return 0;
}

/* The LSM said yes: the embryo is queued before the listener is unlocked. */
static int aq_unix_enqueue_return(struct kretprobe_instance *ri,
				  struct pt_regs *regs)
{
	struct sock *other = *(struct sock **)ri->data;
	struct aq_listener *l;

	if (aq_empty() || regs_return_value(regs))
		return 0;
	rcu_read_lock();
	l = aq_listener_get(other, false);
	if (l)
		aq_listener_enqueue(l, other, 0);
	rcu_read_unlock();
	return 0;
}

static int aq_unix_accept_entry(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	struct socket *sock = (struct socket *)aq_probe_arg(regs, 0);
	struct sock *sk = sock->sk;

	if (aq_empty())
		return 0;
	aq_hit(AQ_PROBE_UNIX_ACCEPT);
	if (!sk || sk->sk_family != AF_UNIX)
		return 1;
	*(struct sock **)ri->data = sk;
	return 0;
}

static int aq_unix_accept_return(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	/* unix_accept() returns 0 or -errno. */
	if (!aq_empty() && !regs_return_value(regs))
		aq_accepted(*(struct sock **)ri->data);
	return 0;
}

/* A blocking connect found the queue full and sleeps until it drains. */
static int aq_unix_wait(struct kprobe *p, struct pt_regs *regs)
{
	struct sock *other = aq_sk_arg(regs, 0);
	struct aq_listener *l;

	if (aq_empty())
		return 0;
	aq_hit(AQ_PROBE_UNIX_WAIT);
	if (!aq_is_unix_listener(other))
		return 0;
	rcu_read_lock();
	l = aq_listener_get(other, true);
	if (l)
		aq_listener_waited(l);
	rcu_read_unlock();
	return 0;
}

/*
 * A non-blocking connect to a full queue fails with EAGAIN without passing
 * any function that names the listener, so the listener that
 * unix_find_other() returned to this task is remembered until its connect
 * returns. A slot shared by two tasks at once loses the attribution; the
 * entry holds a socket pointer only to compare it with tracked listeners,
 * which pin theirs.
 */
#define AQ_FOUND_SLOTS 256

static struct aq_found_slot {
	spinlock_t lock;
	const struct task_struct *task;
	const struct sock *other;
} aq_found[AQ_FOUND_SLOTS];

static struct aq_found_slot *aq_found_slot(void)
{
	return &aq_found[hash_ptr(current, ilog2(AQ_FOUND_SLOTS))];
}

static int aq_unix_find_entry(struct kretprobe_instance *ri,
			      struct pt_regs *regs)
{
	int type = (int)aq_probe_arg(regs, 3);

	if (aq_empty())
		return 0;
	aq_hit(AQ_PROBE_UNIX_FIND);
	return type == SOCK_STREAM || type == SOCK_SEQPACKET ? 0 : 1;
}

static int aq_unix_find_return(struct kretprobe_instance *ri,
			       struct pt_regs *regs)
{
	struct sock *other = (struct sock *)regs_return_value(regs);
	struct aq_found_slot *slot;
	unsigned long flags;

	if (aq_empty() || IS_ERR_OR_NULL(other))
		return 0;
	slot = aq_found_slot();
	spin_lock_irqsave(&slot->lock, flags);
	slot->task = current;
	slot->other = other;
	spin_unlock_irqrestore(&slot->lock, flags);
	return 0;
}

static int aq_unix_connect_entry(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	if (aq_empty())
		return 0;
	aq_hit(AQ_PROBE_UNIX_CONNECT);
	return 0;
}

static int aq_unix_connect_return(struct kretprobe_instance *ri,
				  struct pt_regs *regs)
{
	struct aq_found_slot *slot;
	const struct sock *other = NULL;
	struct aq_listener *l;
	unsigned long flags;

	if (aq_empty() || (int)regs_return_value(regs) != -EAGAIN)
		return 0;
	slot = aq_found_slot();
	spin_lock_irqsave(&slot->lock, flags);
	if (slot->task == current) {
		other = slot->other;
		slot->task = NULL;
	}
	spin_unlock_irqrestore(&slot->lock, flags);
	if (!other)
		return 0;
	rcu_read_lock();
	l = aq_listener_get((struct sock *)other, false);
	if (l)
		aq_listener_refused(l);
	rcu_read_unlock();
	return 0;
}

/*
 * UDP sockets on watched ports. A UDP socket is found under RCU without a
 * reference, and its receive path may run from the socket backlog with
 * preemption on, so the entry is looked up again at return.
 */
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

	if (aq_empty())
		return 0;
	aq_hit(AQ_PROBE_UDP_ENQUEUE);
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
	struct aq_listener *l;

	if (aq_empty())
		return 0;
	rcu_read_lock();
	l = aq_listener_get(call->sk, false);
	if (l)
		aq_listener_datagram(l, call->sk, call->seen_len,
				     call->seen_bytes,
				     (int)regs_return_value(regs));
	rcu_read_unlock();
	return 0;
}

static int aq_udp_recv_entry(struct kretprobe_instance *ri,
			     struct pt_regs *regs)
{
	struct sock *sk = aq_sk_arg(regs, 0);
	unsigned int flags = (unsigned int)aq_probe_arg(regs, 1);

	if (aq_empty())
		return 0;
	aq_hit(AQ_PROBE_UDP_RECV);
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
	struct aq_listener *l;

	/* __skb_recv_udp() returns the datagram, or NULL. */
	if (aq_empty() || IS_ERR_OR_NULL((void *)regs_return_value(regs)))
		return 0;
	aq_probes_check_missed();
	rcu_read_lock();
	l = aq_listener_get(sk, false);
	if (l) {
		aq_listener_claim(l);
		aq_listener_dequeue(l, sk);
	}
	rcu_read_unlock();
	return 0;
}

static int aq_udp_unhash(struct kprobe *p, struct pt_regs *regs)
{
	struct sock *sk = aq_sk_arg(regs, 0);

	if (aq_empty())
		return 0;
	aq_hit(AQ_PROBE_UDP_UNHASH);
	if (sk->sk_protocol != IPPROTO_UDP)
		return 0;
	rcu_read_lock();
	aq_listener_stop(sk);
	rcu_read_unlock();
	return 0;
}

static struct kprobe aq_listen_stop_kp = {
	.symbol_name = "inet_csk_listen_stop",
	.pre_handler = aq_listen_stop,
};

static struct kprobe aq_hashdance_kp = {
	.symbol_name = "inet_csk_complete_hashdance",
	.pre_handler = aq_hashdance,
};

static struct kprobe aq_queue_add_kp = {
	.symbol_name = "inet_csk_reqsk_queue_add",
	.pre_handler = aq_queue_add,
};

static struct kretprobe aq_listen_krp = {
	.kp.symbol_name = "inet_listen",
	.entry_handler = aq_listen_entry,
	.handler = aq_listen_return,
	.data_size = sizeof(struct sock *),
};

static struct kretprobe aq_syn_krp = {
	.kp.symbol_name = "tcp_conn_request",
	.entry_handler = aq_syn_entry,
	.handler = aq_syn_return,
	.data_size = sizeof(struct aq_call),
};

static struct kretprobe aq_ack4_krp = {
	.kp.symbol_name = "tcp_v4_syn_recv_sock",
	.entry_handler = aq_ack4_entry,
	.handler = aq_ack_return,
	.data_size = sizeof(struct aq_call),
};

static struct kretprobe aq_ack6_krp = {
	.kp.symbol_name = "tcp_v6_syn_recv_sock",
	.entry_handler = aq_ack6_entry,
	.handler = aq_ack_return,
	.data_size = sizeof(struct aq_call),
};

static struct kretprobe aq_synack_retrans_krp = {
	.kp.symbol_name = "tcp_rtx_synack",
	.entry_handler = aq_synack_retrans_entry,
	.handler = aq_synack_retrans_return,
	.data_size = sizeof(struct sock *),
};

/* One instance per thread blocked in accept(): see accept_maxactive. */
static struct kretprobe aq_accept_krp = {
	.kp.symbol_name = "inet_csk_accept",
	.entry_handler = aq_accept_entry,
	.handler = aq_accept_return,
	.data_size = sizeof(struct sock *),
};

static struct kretprobe aq_unix_listen_krp = {
	.kp.symbol_name = "unix_listen",
	.entry_handler = aq_unix_listen_entry,
	.handler = aq_listen_return,
	.data_size = sizeof(struct sock *),
};

static struct kprobe aq_unix_release_kp = {
	.symbol_name = "unix_release_sock",
	.pre_handler = aq_unix_release,
};

static struct kretprobe aq_unix_enqueue_krp = {
	.kp.symbol_name = "security_unix_stream_connect",
	.entry_handler = aq_unix_enqueue_entry,
	.handler = aq_unix_enqueue_return,
	.data_size = sizeof(struct sock *),
};

static struct kretprobe aq_unix_accept_krp = {
	.kp.symbol_name = "unix_accept",
	.entry_handler = aq_unix_accept_entry,
	.handler = aq_unix_accept_return,
	.data_size = sizeof(struct sock *),
};

static struct kprobe aq_unix_wait_kp = {
	.symbol_name = "unix_wait_for_peer",
	.pre_handler = aq_unix_wait,
};

static struct kretprobe aq_unix_find_krp = {
	.kp.symbol_name = "unix_find_other",
	.entry_handler = aq_unix_find_entry,
	.handler = aq_unix_find_return,
};

/* Held across a blocking connect's sleep, like accept(). */
static struct kretprobe aq_unix_connect_krp = {
	.kp.symbol_name = "unix_stream_connect",
	.entry_handler = aq_unix_connect_entry,
	.handler = aq_unix_connect_return,
};

static struct kprobe aq_udp_unhash_kp = {
	.symbol_name = "udp_lib_unhash",
	.pre_handler = aq_udp_unhash,
};

static struct kretprobe aq_udp_enqueue_krp = {
	.kp.symbol_name = "__udp_enqueue_schedule_skb",
	.entry_handler = aq_udp_enqueue_entry,
	.handler = aq_udp_enqueue_return,
	.data_size = sizeof(struct aq_udp_call),
};

/* Held while recvmsg() sleeps for a datagram, like accept(). */
static struct kretprobe aq_udp_recv_krp = {
	.kp.symbol_name = "__skb_recv_udp",
	.entry_handler = aq_udp_recv_entry,
	.handler = aq_udp_recv_return,
	.data_size = sizeof(struct sock *),
};

struct aq_probe {
	struct kprobe *kp;
	struct kretprobe *krp;
	/* IPv6 may be a module that is not loaded: go on without it. */
	bool optional;
	/* Registered only while some UDP port is watched. */
	bool udp;
	bool registered;
	unsigned long missed_before;	/* by earlier registrations */
};

/* Registered in this order: a listener's end is watched before its start. */
static struct aq_probe aq_probes[AQ_PROBE_COUNT] = {
	[AQ_PROBE_LISTEN_STOP] = { .kp = &aq_listen_stop_kp },
	[AQ_PROBE_LISTEN] = { .krp = &aq_listen_krp },
	[AQ_PROBE_HASHDANCE] = { .kp = &aq_hashdance_kp },
	[AQ_PROBE_QUEUE_ADD] = { .kp = &aq_queue_add_kp },
	[AQ_PROBE_ACCEPT] = { .krp = &aq_accept_krp },
	[AQ_PROBE_SYN] = { .krp = &aq_syn_krp },
	[AQ_PROBE_ACK4] = { .krp = &aq_ack4_krp },
	[AQ_PROBE_ACK6] = { .krp = &aq_ack6_krp, .optional = true },
	[AQ_PROBE_SYNACK_RETRANS] = { .krp = &aq_synack_retrans_krp },
	[AQ_PROBE_UNIX_RELEASE] = { .kp = &aq_unix_release_kp },
	[AQ_PROBE_UNIX_LISTEN] = { .krp = &aq_unix_listen_krp },
	[AQ_PROBE_UNIX_ENQUEUE] = { .krp = &aq_unix_enqueue_krp },
	[AQ_PROBE_UNIX_ACCEPT] = { .krp = &aq_unix_accept_krp },
	[AQ_PROBE_UNIX_WAIT] = { .kp = &aq_unix_wait_kp },
	[AQ_PROBE_UNIX_FIND] = { .krp = &aq_unix_find_krp },
	[AQ_PROBE_UNIX_CONNECT] = { .krp = &aq_unix_connect_krp },
	[AQ_PROBE_UDP_UNHASH] = { .kp = &aq_udp_unhash_kp, .udp = true },
	[AQ_PROBE_UDP_ENQUEUE] = { .krp = &aq_udp_enqueue_krp, .udp = true },
	[AQ_PROBE_UDP_RECV] = { .krp = &aq_udp_recv_krp, .udp = true },
};

static unsigned long aq_missed_seen;
/* When the handlers last summed the probes' misses. */
static unsigned long aq_missed_checked;

static struct kprobe *aq_probe_kprobe(struct aq_probe *p)
{
	return p->krp ? &p->krp->kp : p->kp;
}

static unsigned long aq_probe_missed(struct aq_probe *p)
{
	unsigned long missed = p->missed_before;

	if (READ_ONCE(p->registered)) {
		missed += READ_ONCE(aq_probe_kprobe(p)->nmissed);
		if (p->krp)
			missed += READ_ONCE(p->krp->nmissed);
	}
	return missed;
}

static unsigned long aq_probes_missed_sum(void)
{
	unsigned long missed = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(aq_probes); i++)
		missed += aq_probe_missed(&aq_probes[i]);
	return missed;
}

/*
 * A missed hit leaves the queue models unsure: have every listener start
 * again from the kernel's own queue length at its next event.
 */
static void aq_probes_resync_on_miss(void)
{
	unsigned long missed = aq_probes_missed_sum();

	if (unlikely(missed != READ_ONCE(aq_missed_seen))) {
		WRITE_ONCE(aq_missed_seen, missed);
		aq_queue_resync_all();
	}
}

/*
 * From the handlers and the watch's periodic look: summing nmissed over
 * every probe costs some 150 to 200 instructions, too much for every
 * accept and datagram, so they look at most once per jiffy. The count
 * itself, read from the probes each time, loses nothing.
 */
void aq_probes_check_missed(void)
{
	unsigned long now = jiffies;

	if (likely(READ_ONCE(aq_missed_checked) == now))
		return;
	WRITE_ONCE(aq_missed_checked, now);
	aq_probes_resync_on_miss();
}

unsigned long aq_probes_missed(void)
{
	return aq_probes_missed_sum();
}

static int aq_probe_register(struct aq_probe *p)
{
	struct kprobe *kp = aq_probe_kprobe(p);
	int err;

	/* A kprobe can be registered again only with these cleared. */
	kp->addr = NULL;
	kp->flags = 0;
	kp->nmissed = 0;
	if (p->krp) {
		p->krp->nmissed = 0;
		if (p->krp == &aq_accept_krp || p->krp == &aq_unix_accept_krp ||
		    p->krp == &aq_unix_connect_krp || p->krp == &aq_udp_recv_krp)
			p->krp->maxactive = aq_accept_maxactive;
		else
			p->krp->maxactive = 16 + 4 * num_possible_cpus();
		err = register_kretprobe(p->krp);
	} else {
		err = register_kprobe(kp);
	}
	if (err)
		return err;
	/*
	 * A kprobe that does not ride on ftrace traps through int3, whose
	 * handler runs as an NMI: there the handlers' allocations and the
	 * table's bucket locks (which disable bottom halves) are not allowed.
	 * Kernels with KPROBES_ON_FTRACE, Debian's among them, put every probe
	 * at a function's entry on ftrace, unless the function is notrace.
	 */
	if (!(kp->flags & KPROBE_FLAG_FTRACE)) {
		pr_err("%s is not probed through ftrace (a kernel without KPROBES_ON_FTRACE, or a notrace function): its handler would run as an NMI\n",
		       kp->symbol_name);
		if (p->krp)
			unregister_kretprobe(p->krp);
		else
			unregister_kprobe(kp);
		return -EOPNOTSUPP;
	}
	WRITE_ONCE(p->registered, true);
	return 0;
}

/*
 * Unregisters the first @count probes in one go: the batch calls wait for
 * one RCU grace period each instead of one per probe, which keeps rmmod
 * quick (under emulation a grace period is tens of milliseconds).
 */
static void aq_probes_unregister_some(size_t count, bool udp_only)
{
	struct kretprobe *krps[AQ_PROBE_COUNT];
	struct kprobe *kps[AQ_PROBE_COUNT];
	int nkrp = 0, nkp = 0;
	size_t i;

	for (i = 0; i < count; i++) {
		struct aq_probe *p = &aq_probes[i];

		if (!p->registered || (udp_only && !p->udp))
			continue;
		if (p->krp)
			krps[nkrp++] = p->krp;
		else
			kps[nkp++] = p->kp;
	}
	if (nkrp)
		unregister_kretprobes(krps, nkrp);
	if (nkp)
		unregister_kprobes(kps, nkp);
	for (i = 0; i < count; i++) {
		struct aq_probe *p = &aq_probes[i];

		if (!p->registered || (udp_only && !p->udp))
			continue;
		p->missed_before = aq_probe_missed(p);
		WRITE_ONCE(p->registered, false);
	}
}

int aq_probes_register(void)
{
	size_t i;
	int err;

	if (empty_handlers)
		static_branch_enable(&aq_empty_handlers);
	for (i = 0; i < AQ_FOUND_SLOTS; i++)
		spin_lock_init(&aq_found[i].lock);

	for (i = 0; i < ARRAY_SIZE(aq_probes); i++) {
		struct aq_probe *p = &aq_probes[i];

		if (p->udp)
			continue;
		err = aq_probe_register(p);
		if (!err)
			continue;
		if (p->optional) {
			pr_warn("cannot probe %s (error %d); going on without it\n",
				aq_probe_kprobe(p)->symbol_name, err);
			continue;
		}
		pr_err("cannot probe %s (error %d)\n",
		       aq_probe_kprobe(p)->symbol_name, err);
		goto err_unregister;
	}
	aq_missed_seen = aq_probes_missed_sum();
	/* Events seen while only some probes were in place do not count. */
	aq_queue_resync_all();
	return 0;

err_unregister:
	aq_probes_unregister_some(i, false);
	return err;
}

void aq_probes_unregister(void)
{
	aq_probes_unregister_some(ARRAY_SIZE(aq_probes), false);
}

bool aq_probes_udp_registered(void)
{
	return aq_probes[AQ_PROBE_UDP_ENQUEUE].registered;
}

/* Registers the UDP probes, or unregisters them; all or none. */
int aq_probes_udp(bool on)
{
	size_t i;
	int err;

	if (!on) {
		aq_probes_unregister_some(ARRAY_SIZE(aq_probes), true);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(aq_probes); i++) {
		struct aq_probe *p = &aq_probes[i];

		if (!p->udp || p->registered)
			continue;
		err = aq_probe_register(p);
		if (err) {
			pr_err("cannot probe %s (error %d)\n",
			       aq_probe_kprobe(p)->symbol_name, err);
			aq_probes_unregister_some(ARRAY_SIZE(aq_probes), true);
			return err;
		}
	}
	/* Datagrams seen while only some were in place do not count. */
	aq_queue_resync_all();
	return 0;
}

void aq_probes_show(struct seq_file *m)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(aq_probes); i++) {
		struct aq_probe *p = &aq_probes[i];

		unsigned long hits = 0;
		int cpu;

		for_each_possible_cpu(cpu)
			hits += per_cpu(aq_probe_hits, cpu)[i];
		seq_printf(m, "probe %s %s registered %d hits %lu missed %lu",
			   aq_probe_kprobe(p)->symbol_name,
			   p->krp ? "kretprobe" : "kprobe", p->registered,
			   hits, aq_probe_missed(p));
		if (p->krp)
			seq_printf(m, " maxactive %d", p->krp->maxactive);
		seq_putc(m, '\n');
	}
}
