// SPDX-License-Identifier: GPL-2.0 OR MIT
#include "fields.h"

#define MKX(G, T, MEMBER, UNIT, NAME, TYPE, HELP, KINDS, PROM_ONLY, EXTRA) \
	{ G, #MEMBER, offsetof(struct T, MEMBER), UNIT, NAME, TYPE, HELP, \
	  KINDS, PROM_ONLY, EXTRA }
#define MK(G, T, MEMBER, UNIT, NAME, TYPE, HELP, KINDS, PROM_ONLY) \
	MKX(G, T, MEMBER, UNIT, NAME, TYPE, HELP, KINDS, PROM_ONLY, 0)
#define M(G, T, MEMBER, UNIT, NAME, TYPE, HELP) \
	MK(G, T, MEMBER, UNIT, NAME, TYPE, HELP, AQ_K_ALL, 0)
/*
 * a listener's figure that Prometheus gets with --metrics all only: one
 * that a core metric tells already, or that matters to few (aq_metric.extra)
 */
#define LX(G, MEMBER, UNIT, NAME, TYPE, HELP) \
	MKX(G, aqs_row, MEMBER, UNIT, NAME, TYPE, HELP, AQ_K_ALL, 0, 1)
/* a listener's figure written for some kinds of listener only */
#define LK(G, MEMBER, UNIT, NAME, TYPE, HELP, KINDS) \
	MK(G, aqs_row, MEMBER, UNIT, NAME, TYPE, HELP, KINDS, 0)
/* the same figure under another name, for other kinds (not in JSON) */
#define ALIAS(G, MEMBER, UNIT, NAME, TYPE, HELP, KINDS) \
	MK(G, aqs_row, MEMBER, UNIT, NAME, TYPE, HELP, KINDS, 1)
#define STATE(MEMBER, NAME, TYPE, HELP) \
	M(AQ_G_STATE, aq_state, MEMBER, AQ_UNIT_ONE, NAME, TYPE, HELP)
#define CLOSED(MEMBER, NAME, HELP) \
	M(AQ_G_CLOSED, aqs_closed, MEMBER, AQ_UNIT_ONE, NAME, "counter", HELP)
#define L(G, MEMBER, UNIT, NAME, TYPE, HELP) \
	M(G, aqs_row, MEMBER, UNIT, NAME, TYPE, HELP)
/* the figures only JSON has: the Prometheus metrics would repeat others */
#define JSON_ONLY(G, MEMBER, UNIT) L(G, MEMBER, UNIT, NULL, NULL, NULL)

const struct aq_metric aq_metrics[] = {
	M(AQ_G_STATE, aq_state, enabled, AQ_UNIT_BOOL, "aqueue_enabled", "gauge", "1 if aqueue's probes are registered."),
	STATE(tracked, "aqueue_tracked_listeners", "gauge", "Listeners tracked now."),
	STATE(max_listeners, "aqueue_max_listeners", "gauge", "Most listeners aqueue will track."),
	STATE(untracked_listens, "aqueue_untracked_listens_total", "counter", "listen() calls not tracked because the limit was reached."),
	STATE(untracked_events, "aqueue_untracked_events_total", "counter", "Queue events for listeners that could not be tracked."),
	STATE(filtered_events, "aqueue_filtered_events_total", "counter", "Queue events for listeners the control file's filters leave out."),
	STATE(memory_bytes, "aqueue_memory_bytes", "gauge", "Bytes of listener state aqueue holds."),
	STATE(max_memory_bytes, "aqueue_max_memory_bytes", "gauge", "Most bytes of listener state aqueue will hold."),
	STATE(missed, "aqueue_probe_missed_total", "counter", "Probe hits the kernel reported as missed."),
	STATE(resyncs, "aqueue_resyncs_total", "counter", "Times listeners were re-synchronised with the kernel's queue length."),

	CLOSED(listeners, "aqueue_closed_listeners_total", "Listeners closed since load or the last reset."),
	CLOSED(enqueued, "aqueue_closed_enqueued_total", "Connections enqueued on listeners since closed."),
	CLOSED(accepted, "aqueue_closed_accepted_total", "Connections accepted on listeners since closed."),
	CLOSED(drained, "aqueue_closed_drained_total", "Connections still queued when their listener closed."),
	CLOSED(migrated, "aqueue_closed_migrated_total", "Connections handed to another member of their reuseport group when their listener closed."),
	CLOSED(drops, "aqueue_closed_drops_total", "Drops on listeners since closed."),

	LK(AQ_G_ROW, backlog, AQ_UNIT_ONE, "aqueue_listener_backlog", "gauge", "The listener's backlog (sk_max_ack_backlog); the accept queue holds backlog+1 connections. TCP and unix listeners.", AQ_K_CONN),
	ALIAS(AQ_G_ROW, backlog, AQ_UNIT_ONE, "aqueue_listener_receive_buffer_bytes", "gauge", "A UDP socket's receive buffer size (SO_RCVBUF), in bytes.", AQ_K_UDP),
	L(AQ_G_ROW, qnow, AQ_UNIT_ONE, "aqueue_listener_queue_length", "gauge", "Entries in the queue now: connections in a TCP or unix listener's accept queue, datagrams in a UDP socket's receive queue."),
	L(AQ_G_ROW, qpeak, AQ_UNIT_ONE, "aqueue_listener_queue_peak", "gauge", "Longest queue seen since tracking began or the last reset, in entries as aqueue_listener_queue_length."),
	L(AQ_G_ROW, enqueued, AQ_UNIT_ONE, "aqueue_listener_enqueued_total", "counter", "Entries that joined the queue: connections (TCP, unix), datagrams (UDP)."),
	L(AQ_G_ROW, accepted, AQ_UNIT_ONE, "aqueue_listener_accepted_total", "counter", "Entries taken from the queue: connections by accept(), datagrams by recvmsg()."),
	L(AQ_G_ROW, drops, AQ_UNIT_ONE, "aqueue_listener_drops_total", "counter", "Packets the listener dropped: its sk_drops since tracking began (TCP: SYNs and final ACKs, a retransmitted SYN once more each time, and other packets of pending handshakes; unix: connects refused because the queue was full; UDP: datagrams)."),

	LX(AQ_G_PCT, p50_us, AQ_UNIT_US, "aqueue_listener_wait_p50_seconds", "gauge", "Upper edge of the wait histogram bucket holding the median time in queue, at most the longest wait seen."),
	LX(AQ_G_PCT, p99_us, AQ_UNIT_US, "aqueue_listener_wait_p99_seconds", "gauge", "Upper edge of the wait histogram bucket holding the 99th percentile time in queue, at most the longest wait seen."),
	LX(AQ_G_PCT, max_us, AQ_UNIT_US, "aqueue_listener_wait_max_seconds", "gauge", "Longest time in the accept queue seen."),

	LK(AQ_G_DETAIL, drops_syn_acceptq, AQ_UNIT_ONE, "aqueue_listener_drops_syn_acceptq_total", "counter", "SYNs dropped because the accept queue was full (packets, a retransmitted SYN counted again). TCP listeners.", AQ_K_TCP),
	LK(AQ_G_DETAIL, drops_ack_acceptq, AQ_UNIT_ONE, "aqueue_listener_drops_ack_acceptq_total", "counter", "Final ACKs dropped because the accept queue was full (packets). TCP listeners.", AQ_K_TCP),
	LX(AQ_G_DETAIL, drops_other, AQ_UNIT_ONE, "aqueue_listener_drops_other_total", "counter", "Packets dropped for any other cause (the rest of aqueue_listener_drops_total)."),
	LX(AQ_G_DETAIL, drained, AQ_UNIT_ONE, "aqueue_listener_drained_total", "counter", "Connections still queued when the listener closed (0 for a live listener)."),
	LX(AQ_G_MIGRATE, migrated_in, AQ_UNIT_ONE, "aqueue_listener_migrated_in_total", "counter", "Connections a closing member of the listener's reuseport group handed to it (counted in enqueued)."),
	LX(AQ_G_MIGRATE, migrated_out, AQ_UNIT_ONE, "aqueue_listener_migrated_out_total", "counter", "Connections the listener, closing, handed to another member of its reuseport group."),
	LX(AQ_G_DETAIL, untimed, AQ_UNIT_ONE, "aqueue_listener_untimed_total", "counter", "Connections accepted without a known enqueue time."),
	LX(AQ_G_DETAIL, resynced, AQ_UNIT_ONE, "aqueue_listener_resynced_total", "counter", "Times the listener was re-synchronised with the kernel's queue length."),
	LX(AQ_G_DETAIL, observed_ns, AQ_UNIT_NS, "aqueue_listener_observed_seconds_total", "counter", "Time since tracking began or the last reset."),
	L(AQ_G_DETAIL, qlen_area_ns, AQ_UNIT_NS, "aqueue_listener_queue_length_area_seconds_total", "counter", "Integral of the accept queue length over time (connection-seconds); its rate is the average queue length."),
	/* the wait histogram's _sum and _count */
	JSON_ONLY(AQ_G_DETAIL, wait_sum_ns, AQ_UNIT_NS),
	JSON_ONLY(AQ_G_DETAIL, waited, AQ_UNIT_ONE),

	LK(AQ_G_ASKED, backlog_asked, AQ_UNIT_ONE, "aqueue_listener_backlog_asked", "gauge", "The backlog the listener's last listen() call asked for, as the kernel reads it (unsigned: listen(fd, -1), the most allowed, is 4294967295); the backlog is the smaller of it and aqueue_listener_somaxconn. TCP and unix listeners whose listen() call aqueue saw.", AQ_K_CONN),
	LK(AQ_G_ASKED, somaxconn, AQ_UNIT_ONE, "aqueue_listener_somaxconn", "gauge", "net.core.somaxconn of the listener's network namespace at its last listen() call, which caps the backlog. TCP and unix listeners whose listen() call aqueue saw.", AQ_K_CONN),

	L(AQ_G_REUSEPORT, reuseport_group, AQ_UNIT_ONE, "aqueue_listener_reuseport_group", "gauge", "The listener's SO_REUSEPORT group: the smallest id among the group's tracked members, the same on each (its own id for a reuseport socket alone on its address). Members of a group only."),

	L(AQ_G_LIVE, hol_age_ns, AQ_UNIT_NS, "aqueue_listener_queue_head_age_seconds", "gauge", "How long the connection at the head of the accept queue has waited (0 when the queue is empty)."),
	/* ages since an event: alerting has the counters' increase() */
	JSON_ONLY(AQ_G_LIVE, since_accept_ns, AQ_UNIT_NS),
	JSON_ONLY(AQ_G_LIVE, since_drop_ns, AQ_UNIT_NS),
	L(AQ_G_LIVE, stalled, AQ_UNIT_BOOL, "aqueue_listener_stalled", "gauge", "1 while connections wait and neither the head of the queue nor the last accept() is younger than the module's stall_threshold_ms."),
	L(AQ_G_LIVE, overflowing, AQ_UNIT_BOOL, "aqueue_listener_overflowing", "gauge", "1 while a burst of drops lasts: from a drop until the module's burst_gap_ms passed without one."),

	LK(AQ_G_UDP, rmem_now, AQ_UNIT_ONE, "aqueue_listener_receive_buffer_used_bytes", "gauge", "Bytes of a UDP socket's receive buffer in use now.", AQ_K_UDP),
	LK(AQ_G_UDP, drops_rcvbuf, AQ_UNIT_ONE, "aqueue_listener_drops_receive_buffer_total", "counter", "Datagrams a UDP socket dropped because its receive buffer was full.", AQ_K_UDP),

	JSON_ONLY(AQ_G_SYN, synq_now, AQ_UNIT_ONE),
	JSON_ONLY(AQ_G_SYN, synq_full_drops, AQ_UNIT_ONE),
	JSON_ONLY(AQ_G_SYN, synq_full_cookies, AQ_UNIT_ONE),
	JSON_ONLY(AQ_G_SYN, syn_cookies, AQ_UNIT_ONE),
	JSON_ONLY(AQ_G_SYN, synack_retrans, AQ_UNIT_ONE),
	JSON_ONLY(AQ_G_SYN, handshake_sum_ns, AQ_UNIT_NS),
	JSON_ONLY(AQ_G_SYN, handshake_max_ns, AQ_UNIT_NS),
	{ .key = NULL },
};

#define HK(G, MEMBER, KEY, TITLE, N, LOW, UNIT, NAME, HELP, HAS_SUM, SUM, KINDS, PROM_ONLY) \
	{ G, KEY, TITLE, offsetof(struct aqs_row, MEMBER), \
	  offsetof(struct aqs_row, has_##MEMBER), N, LOW, UNIT, NAME, \
	  HELP, HAS_SUM, offsetof(struct aqs_row, SUM), KINDS, PROM_ONLY }
#define H(G, MEMBER, KEY, TITLE, N, LOW, UNIT, NAME, HELP, HAS_SUM, SUM) \
	HK(G, MEMBER, KEY, TITLE, N, LOW, UNIT, NAME, HELP, HAS_SUM, SUM, AQ_K_ALL, 0)
#define H_JSON_ONLY(G, MEMBER, KEY, TITLE, N, LOW, UNIT) \
	H(G, MEMBER, KEY, TITLE, N, LOW, UNIT, NULL, NULL, 0, id)

const struct aq_hist_metric aq_hist_metrics[] = {
	HK(AQ_G_HIST, qlen, "qlen_hist",
	   "qlen: accept queue length seen by each arriving SYN",
	   AQUEUE_QLEN_BUCKETS, aq_qlen_low, AQ_UNIT_ONE,
	   "aqueue_listener_queue_length_at_syn",
	   "Accept queue length seen by each arriving SYN (unix: each connect). TCP and unix listeners. The module keeps no sum: _sum is NaN.",
	   0, id, AQ_K_CONN, 0),
	HK(AQ_G_HIST, qlen, "qlen_hist", NULL,
	   AQUEUE_QLEN_BUCKETS, aq_qlen_low, AQ_UNIT_ONE,
	   "aqueue_listener_queue_length_at_datagram",
	   "Datagrams in a UDP socket's receive queue seen by each arriving datagram. The module keeps no sum: _sum is NaN.",
	   0, id, AQ_K_UDP, 1),
	H(AQ_G_HIST, wait, "wait_ns_hist",
	  "wait_ns: time in the accept queue, ns (1K ~ 1us, 1M ~ 1ms, 1G ~ 1.07s)",
	  AQUEUE_WAIT_BUCKETS, aq_wait_low, AQ_UNIT_NS,
	  "aqueue_listener_wait_seconds",
	  "Time entries spent in the queue: connections from the end of the handshake to accept(), datagrams to recvmsg() (timed ones only).",
	  1, wait_sum_ns),
	H_JSON_ONLY(AQ_G_UDP, qbytes, "qbytes_hist",
		    "qbytes: receive buffer bytes in use seen by each arriving datagram",
		    AQUEUE_QLEN_BUCKETS, aq_qlen_low, AQ_UNIT_ONE),
	H_JSON_ONLY(AQ_G_SYN, synq, "synq_hist",
		    "synq: SYN queue length seen by each arriving SYN",
		    AQUEUE_QLEN_BUCKETS, aq_qlen_low, AQ_UNIT_ONE),
	H_JSON_ONLY(AQ_G_SYN, handshake, "handshake_ns_hist",
		    "handshake_ns: SYN to final ACK, ns",
		    AQUEUE_WAIT_BUCKETS, aq_wait_low, AQ_UNIT_NS),
	{ .key = NULL },
};

int aq_group_present(const struct aqs_row *l, enum aq_group g)
{
	switch (g) {
	case AQ_G_DETAIL:
		return l->has_detail;
	case AQ_G_LIVE:
		return l->has_live;
	case AQ_G_MIGRATE:
		return l->has_migrate;
	case AQ_G_ASKED:
		/* 0: no listen() call seen (or an older module) */
		return l->has_asked && l->somaxconn > 0;
	case AQ_G_REUSEPORT:
		/* 0: in no group (or an older module) */
		return l->has_detail && l->reuseport_group > 0;
	case AQ_G_UDP:
		return l->has_udp;
	case AQ_G_SYN:
		return l->has_syn;
	default:
		return 1;
	}
}

unsigned int aqs_kind(const struct aqs_row *l)
{
	switch (l->proto) {
	case AQ_TCP:
	case AQ_TCP6:
		return AQ_K_TCP;
	case AQ_UDP:
	case AQ_UDP6:
		return AQ_K_UDP;
	default:
		return AQ_K_UNIX;
	}
}
