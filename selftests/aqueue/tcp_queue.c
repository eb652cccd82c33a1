// SPDX-License-Identifier: GPL-2.0
/*
 * The TCP accept queue as /proc/aqueue shows it, each number checked
 * against the kernel's own view of the same listener:
 *
 *  - backlog N admits N+1 connections (the seed article's table), for
 *    N = 0..4 and for backlog -1 capped by net.core.somaxconn; queue now,
 *    peak and backlog equal sock_diag's idiag_rqueue / idiag_wqueue; the
 *    queue-length histogram holds exactly the lengths the SYNs saw;
 *  - drops equal SO_MEMINFO's SK_MEMINFO_DROPS, and the accept-queue drops
 *    by cause add up to the namespace's TcpExtListenOverflows delta;
 *  - accounting: enqueued = accepted + queued now for live listeners, and
 *    the closed totals move by enqueued = accepted + drained at close;
 *  - listen() again changes the backlog of the same row;
 *  - IPv6, dual-stack and v4-mapped connections (one row, tcp6).
 *
 * Every scenario runs in a fresh network namespace: ports never collide,
 * the netstat deltas are the test's own, and no other listener shows.
 */
#include <inttypes.h>

#include "kselftest_harness.h"

#include "aq_clock.h"
#include "aq_diag.h"
#include "aq_file.h"
#include "aq_fill.h"
#include "aq_fixture.h"
#include "aq_hist.h"
#include "aq_netns.h"
#include "aq_oracle.h"
#include "aq_proc.h"
#include "aq_snap.h"
#include "aq_sock.h"
#include "aq_task.h"

/* The closed totals moved by exactly what the closed row held. */
static void expect_closed_delta(struct __test_metadata *_metadata,
				const struct aq_snap *before,
				const struct aq_snap *after,
				const struct aq_row *gone, int64_t gone_drops)
{
	EXPECT_EQ(before->closed_listeners + 1, after->closed_listeners);
	EXPECT_EQ(before->closed_enqueued + gone->enqueued,
		  after->closed_enqueued);
	EXPECT_EQ(before->closed_accepted + gone->accepted,
		  after->closed_accepted);
	EXPECT_EQ(before->closed_drained + gone->qnow, after->closed_drained);
	EXPECT_EQ(before->closed_drops + gone_drops, after->closed_drops);
	EXPECT_EQ(before->tracked - 1, after->tracked);
}

/*
 * Queue-length histogram of a listener that got n connections in a row and
 * then only SYNs to its full queue: the k-th SYN saw k-1 queued, each
 * dropped SYN (retransmissions included) saw all n.
 */
static void expect_qlen_hist(struct __test_metadata *_metadata,
			     const struct aq_row *r, int n, int64_t full_syns)
{
	struct aq_hist want = { 0 };
	int i, j;

	for (i = 0; i <= n; i++) {
		int64_t b = aq_qlen_bucket(i);

		for (j = 0; j < want.n && want.low[j] != b; j++)
			;
		if (j == want.n) {
			want.low[j] = b;
			want.count[j] = 0;
			want.n++;
		}
		want.count[j] += i < n ? 1 : full_syns;
	}
	EXPECT_EQ(want.n, r->qlen.n);
	for (j = 0; j < want.n; j++) {
		EXPECT_EQ(want.count[j], aq_hist_get(&r->qlen, want.low[j]))
			TH_LOG("qlen bucket %" PRId64, want.low[j]);
	}
}

/* ------------------------------------------------------------------ */

AQ_FIXTURE(backlog, NULL, AQ_MODULE_OPTIONAL)

FIXTURE_VARIANT(backlog) {
	int backlog;		/* passed to listen() */
	int somaxconn;		/* written to the namespace's sysctl, or 0 */
};

FIXTURE_VARIANT_ADD(backlog, b0) { .backlog = 0 };
FIXTURE_VARIANT_ADD(backlog, b1) { .backlog = 1 };
FIXTURE_VARIANT_ADD(backlog, b2) { .backlog = 2 };
FIXTURE_VARIANT_ADD(backlog, b3) { .backlog = 3 };
FIXTURE_VARIANT_ADD(backlog, b4) { .backlog = 4 };
FIXTURE_VARIANT_ADD(backlog, minus1_somaxconn6) {
	.backlog = -1, .somaxconn = 6,
};

struct backlog_arg {
	struct aq_ctx *c;
	const FIXTURE_VARIANT(backlog) *v;
};

#define SOMAXCONN_PATH "/proc/sys/net/core/somaxconn"

static void backlog_in_netns(struct __test_metadata *_metadata, void *argp)
{
	struct backlog_arg *arg = argp;
	const int extra = 2;
	int cfd[16], n, i, lfd, want_backlog = arg->v->backlog;
	int64_t t_before[16], t_queued[16], t_listen0, t_listen1;
	int64_t t_read0, t_read1, area_lo = 0, area_hi = 0;
	struct aq_oracle o0, o;
	struct aq_snap s, s2;
	char comm[32], old_somax[32] = "";
	struct aq_row *r, gone;

	if (arg->v->somaxconn) {
		char val[16];

		/* somaxconn is per namespace: this changes ours only. */
		ASSERT_LT(0, aq_read_file(SOMAXCONN_PATH, old_somax,
					  sizeof(old_somax)));
		snprintf(val, sizeof(val), "%d\n", arg->v->somaxconn);
		ASSERT_EQ(0, aq_write_file(SOMAXCONN_PATH, val));
		want_backlog = arg->v->somaxconn;
	}
	n = want_backlog + 1;
	ASSERT_GE(16, n);

	snprintf(comm, sizeof(comm), "aq backlog %d", arg->v->backlog);
	aq_set_comm(comm);
	t_listen0 = aq_now_ns();
	lfd = aq_listen_tcp("127.0.0.1", 0, arg->v->backlog, 0);
	t_listen1 = aq_now_ns();
	ASSERT_LE(0, lfd) TH_LOG("listen: %s", strerror(-lfd));
	aq_oracle_read(_metadata, lfd, &o0);
	ASSERT_EQ(want_backlog, o0.wqueue);
	ASSERT_EQ(0, o0.rqueue);
	ASSERT_EQ(0, o0.sk_drops);

	aq_fill_timed(_metadata, lfd, "127.0.0.1", cfd, n, 0, t_before,
		      t_queued);
	aq_overflow(_metadata, lfd, "127.0.0.1", extra);

	t_read0 = aq_now_ns();
	aq_stable_read(_metadata, lfd, arg->c->module ? &s : NULL, &o);
	t_read1 = aq_now_ns();

	/* The kernel: backlog N admits N+1, the rest were dropped at SYN. */
	EXPECT_EQ(n, o.rqueue);
	EXPECT_EQ(want_backlog, o.wqueue);
	EXPECT_LE(extra, o.sk_drops);
	EXPECT_EQ(o.sk_drops, o.mib.overflows - o0.mib.overflows);
	EXPECT_EQ(o.sk_drops, o.mib.drops - o0.mib.drops);

	if (!arg->c->module)
		goto out;

	r = aq_row_of(_metadata, &s, lfd);
	EXPECT_EQ(o.wqueue, r->backlog);
	EXPECT_EQ(o.rqueue, r->qnow);
	EXPECT_EQ(o.rqueue, r->qpeak);
	EXPECT_EQ((int64_t)n, r->enqueued);
	EXPECT_EQ(0, r->accepted);
	EXPECT_EQ((int64_t)o.sk_drops, r->drops);
	EXPECT_EQ((int64_t)o.sk_drops, r->drops_syn_acceptq);
	EXPECT_EQ(0, r->drops_ack_acceptq);
	EXPECT_EQ(getpid(), r->pid);
	EXPECT_STREQ(comm, r->comm);
	EXPECT_EQ(-1, r->p50_us);
	EXPECT_EQ(-1, r->max_us);
	EXPECT_EQ(0, r->untimed);
	EXPECT_EQ(0, r->resynced);
	EXPECT_EQ(0, s.missed);

	expect_qlen_hist(_metadata, r, n, o.sk_drops);

	/* Time-average queue length: connection k was queued from some
	 * moment in [t_before[k], t_queued[k]] until the read. */
	for (i = 0; i < n; i++) {
		area_lo += t_read0 - t_queued[i];
		area_hi += t_read1 - t_before[i];
	}
	EXPECT_LE(area_lo, r->qlen_area_ns);
	EXPECT_GE(area_hi, r->qlen_area_ns);
	EXPECT_LE(t_read0 - t_listen1, r->observed_ns);
	EXPECT_GE(t_read1 - t_listen0, r->observed_ns);

	/* Closing the listener drains the queue into the closed totals. */
	gone = *r;
	close(lfd);
	lfd = -1;
	aq_snapshot(_metadata, &s2);
	EXPECT_EQ(0, aq_count_rows(&s2, gone.netns, gone.proto, gone.local));
	expect_closed_delta(_metadata, &s, &s2, &gone, o.sk_drops);
	aq_snap_free(&s2);
	aq_snap_free(&s);
out:
	aq_close_fds(cfd, n);
	if (lfd >= 0)
		close(lfd);
	if (old_somax[0])
		EXPECT_EQ(0, aq_write_file(SOMAXCONN_PATH, old_somax));
}

AQ_NETNS_TEST(backlog, admits_backlog_plus_one, AQ_RUN_THEN_FINISH,
	      backlog_in_netns, &(struct backlog_arg){ &self->c, variant })

/* ------------------------------------------------------------------ */

AQ_FIXTURE(tcpq, NULL, AQ_MODULE_OPTIONAL)

/*
 * Drops of both kinds on one listener (backlog 2):
 *  - at the final ACK: with 2 queued (not full), three clients that hold
 *    back their final ACK all get through the SYN stage; the first one's
 *    ACK fills the queue, the next two ACKs overflow it;
 *  - at the SYN: further connection attempts to the full queue.
 * Oracles: SK_MEMINFO_DROPS for drops; ListenOverflows for the accept-queue
 * drops of both kinds together.
 */
static void drops_in_netns(struct __test_metadata *_metadata, void *argp)
{
	struct aq_ctx *c = argp;
	const char *ip = "127.0.0.1";
	int pre[2], late[3], lfd, i, late_est = 0;
	long long drops_before_writes;
	struct aq_oracle o0, o;
	struct aq_snap s, s2;
	uint16_t port;
	struct aq_row *r, gone;

	lfd = aq_listen_tcp(ip, 0, 2, 0);
	ASSERT_LE(0, lfd);
	port = aq_port_of(lfd);
	aq_oracle_read(_metadata, lfd, &o0);
	aq_fill(_metadata, lfd, ip, pre, 2, 0);

	for (i = 0; i < 3; i++) {
		late[i] = aq_connect_nb(ip, port, true);
		ASSERT_LE(0, late[i]) TH_LOG("%s", strerror(-late[i]));
	}
	for (i = 0; i < 3; i++)
		if (aq_wait_state(late[i], TCP_ESTABLISHED) == TCP_ESTABLISHED)
			late_est++;
	/* Normally all three hold their ACK: nothing more queued yet. */
	drops_before_writes = aq_sk_drops(lfd);
	if (late_est != 3 || aq_diag_rqueue(lfd) != 2 ||
	    drops_before_writes != 0)
		TH_LOG("the delayed ACKs did not wait (est %d, queued %ld, drops %lld): fewer ACK drops are certain",
		       late_est, aq_diag_rqueue(lfd), drops_before_writes);
	for (i = 0; i < 3; i++) {
		long long before = aq_sk_drops(lfd);

		ASSERT_EQ(1, write(late[i], "x", 1));
		if (i == 0) {
			ASSERT_EQ(3, aq_wait_rqueue(lfd, 3));
		} else {
			ASSERT_LE(before + 1, aq_wait_drops(lfd, before + 1))
				TH_LOG("ACK %d to a full queue not dropped", i);
		}
	}
	aq_overflow(_metadata, lfd, ip, 2);

	aq_stable_read(_metadata, lfd, c->module ? &s : NULL, &o);
	EXPECT_EQ(3, o.rqueue);
	/* Both kinds of accept-queue drop count as ListenOverflows and as
	 * ListenDrops; sk_drops counts at least those. */
	EXPECT_LE(4, o.mib.overflows - o0.mib.overflows);
	EXPECT_EQ(o.mib.overflows - o0.mib.overflows,
		  o.mib.drops - o0.mib.drops);
	EXPECT_LE(o.mib.drops - o0.mib.drops, o.sk_drops);
	TH_LOG("kernel: sk_drops %lld, ListenOverflows +%lld, ListenDrops +%lld",
	       o.sk_drops, o.mib.overflows - o0.mib.overflows,
	       o.mib.drops - o0.mib.drops);

	if (c->module) {
		r = aq_row_of(_metadata, &s, lfd);
		TH_LOG("aqueue: drops %" PRIu64 " syn %" PRIu64 " ack %" PRIu64 " other %" PRIu64,
		       r->drops, r->drops_syn_acceptq, r->drops_ack_acceptq,
		       r->drops_other);
		EXPECT_EQ((int64_t)o.sk_drops, r->drops);
		EXPECT_EQ((int64_t)(o.mib.overflows - o0.mib.overflows),
			  r->drops_syn_acceptq + r->drops_ack_acceptq);
		/* Certain: the two SYNs sent to the full queue, and (when the
		 * three clients held their ACK) the 2nd and 3rd ACK. */
		EXPECT_LE(2, r->drops_syn_acceptq);
		if (late_est == 3 && drops_before_writes == 0) {
			EXPECT_LE(2, r->drops_ack_acceptq);
		}
		EXPECT_EQ(3, r->qnow);
		EXPECT_EQ(3, r->qpeak);
		EXPECT_EQ(3, r->enqueued);

		/* Quiet the clients, then close: the drops go to the totals. */
		aq_close_fds(late, 3);
		aq_close_fds(pre, 2);
		aq_stable_read(_metadata, lfd, NULL, &o);
		aq_snap_free(&s);
		aq_stable_read(_metadata, lfd, &s, &o);
		r = aq_row_of(_metadata, &s, lfd);
		EXPECT_EQ((int64_t)o.sk_drops, r->drops);
		gone = *r;
		close(lfd);
		lfd = -1;
		aq_snapshot(_metadata, &s2);
		expect_closed_delta(_metadata, &s, &s2, &gone, gone.drops);
		aq_snap_free(&s2);
		aq_snap_free(&s);
	}
	aq_close_fds(late, 3);
	aq_close_fds(pre, 2);
	if (lfd >= 0)
		close(lfd);
}

AQ_NETNS_TEST(tcpq, drops_match_meminfo_and_netstat, AQ_RUN_THEN_FINISH,
	      drops_in_netns, &self->c)

/*
 * enqueued = accepted + qnow while the listener lives; at close the row
 * leaves and the closed totals move by its enqueued, accepted, drained.
 */
static void accounting_in_netns(struct __test_metadata *_metadata, void *argp)
{
	struct aq_ctx *c = argp;
	const char *ip = "127.0.0.1";
	int cfd[7], afd[2], lfd, idle, i;
	struct aq_snap s, s2, s3;
	struct aq_oracle o;
	struct aq_row *r, gone;

	lfd = aq_listen_tcp(ip, 0, 8, 0);
	ASSERT_LE(0, lfd);
	idle = aq_listen_tcp(ip, 0, 8, 0);
	ASSERT_LE(0, idle);
	aq_fill(_metadata, lfd, ip, cfd, 6, 0);
	for (i = 0; i < 2; i++) {
		afd[i] = aq_accept_nb(lfd);
		ASSERT_LE(0, afd[i]);
	}
	aq_fill(_metadata, lfd, ip, cfd + 6, 1, 4);

	aq_stable_read(_metadata, lfd, c->module ? &s : NULL, &o);
	EXPECT_EQ(5, o.rqueue);
	if (c->module) {
		r = aq_row_of(_metadata, &s, lfd);
		EXPECT_EQ(7, r->enqueued);
		EXPECT_EQ(2, r->accepted);
		EXPECT_EQ(5, r->qnow);
		EXPECT_EQ(6, r->qpeak);
		EXPECT_EQ(0, r->untimed);
		EXPECT_EQ(2, aq_hist_total(&r->wait));
		r = aq_row_of(_metadata, &s, idle);
		EXPECT_EQ(0, r->enqueued);

		r = aq_row_of(_metadata, &s, lfd);
		gone = *r;
		close(lfd);
		lfd = -1;
		aq_snapshot(_metadata, &s2);
		EXPECT_EQ(0, aq_count_rows(&s2, gone.netns, gone.proto,
					   gone.local));
		expect_closed_delta(_metadata, &s, &s2, &gone, 0);
		EXPECT_EQ(7, s2.closed_enqueued - s.closed_enqueued);
		EXPECT_EQ(2, s2.closed_accepted - s.closed_accepted);
		EXPECT_EQ(5, s2.closed_drained - s.closed_drained);

		/* An empty listener closes with nothing to add but itself. */
		gone = *aq_row_of(_metadata, &s2, idle);
		close(idle);
		idle = -1;
		aq_snapshot(_metadata, &s3);
		expect_closed_delta(_metadata, &s2, &s3, &gone, 0);
		aq_snap_free(&s3);
		aq_snap_free(&s2);
		aq_snap_free(&s);
	}
	aq_close_fds(cfd, 7);
	aq_close_fds(afd, 2);
	if (lfd >= 0)
		close(lfd);
	if (idle >= 0)
		close(idle);
}

AQ_NETNS_TEST(tcpq, accounting_live_and_closed, AQ_RUN_THEN_FINISH,
	      accounting_in_netns, &self->c)

/*
 * listen() on a listening socket only changes sk_max_ack_backlog: the same
 * row must show the new backlog and keep its counts; a new listener on the
 * port after close is a new row with a new id.
 */
static void relisten_in_netns(struct __test_metadata *_metadata, void *argp)
{
	struct aq_ctx *c = argp;
	const char *ip = "127.0.0.1";
	struct aq_snap s, s2, s3;
	struct aq_oracle o;
	int cfd[2], lfd, lfd2;
	int64_t id = 0;
	uint16_t port;

	lfd = aq_listen_tcp(ip, 0, 8, 0);
	ASSERT_LE(0, lfd);
	port = aq_port_of(lfd);
	aq_fill(_metadata, lfd, ip, cfd, 2, 0);
	if (c->module) {
		aq_snapshot(_metadata, &s);
		id = aq_row_of(_metadata, &s, lfd)->id;
		EXPECT_EQ(8, aq_row_of(_metadata, &s, lfd)->backlog);
	}
	ASSERT_EQ(0, listen(lfd, 3));
	aq_stable_read(_metadata, lfd, c->module ? &s2 : NULL, &o);
	EXPECT_EQ(3, o.wqueue);
	if (c->module) {
		struct aq_row *r = aq_row_of(_metadata, &s2, lfd);

		EXPECT_EQ(id, r->id);
		EXPECT_EQ(o.wqueue, r->backlog);
		EXPECT_EQ(2, r->enqueued);
		EXPECT_EQ(2, r->qnow);
	}
	aq_close_fds(cfd, 2);
	close(lfd);
	lfd2 = aq_listen_tcp(ip, port, 5, 0);
	ASSERT_LE(0, lfd2) TH_LOG("port %u again: %s", port, strerror(-lfd2));
	if (c->module) {
		struct aq_row *r;

		aq_snapshot(_metadata, &s3);
		r = aq_row_of(_metadata, &s3, lfd2);
		EXPECT_LT(id, r->id) TH_LOG("a reused port got id %" PRIu64 " after %" PRIu64,
					    r->id, id);
		EXPECT_EQ(5, r->backlog);
		EXPECT_EQ(0, r->enqueued);
		EXPECT_EQ(0, r->qpeak);
		EXPECT_EQ(NULL, aq_snap_find_id(&s3, id));
		aq_snap_free(&s3);
		aq_snap_free(&s2);
		aq_snap_free(&s);
	}
	close(lfd2);
}

AQ_NETNS_TEST(tcpq, relisten_updates_backlog, AQ_RUN_THEN_FINISH,
	      relisten_in_netns, &self->c)

/* An IPv6-only listener on ::1: tcp6, [::1]:PORT, backlog+1 admitted. */
static void ipv6_in_netns(struct __test_metadata *_metadata, void *argp)
{
	struct aq_ctx *c = argp;
	struct aq_oracle o0, o;
	int cfd[4], lfd;
	struct aq_snap s;
	char local[96];

	lfd = aq_listen_tcp("::1", 0, 3, AQ_V6ONLY);
	ASSERT_LE(0, lfd) TH_LOG("listen on ::1: %s", strerror(-lfd));
	aq_oracle_read(_metadata, lfd, &o0);
	aq_fill(_metadata, lfd, "::1", cfd, 4, 0);
	aq_overflow(_metadata, lfd, "::1", 1);
	aq_stable_read(_metadata, lfd, c->module ? &s : NULL, &o);
	EXPECT_EQ(4, o.rqueue);
	EXPECT_EQ(3, o.wqueue);
	EXPECT_EQ(o.sk_drops, o.mib.overflows - o0.mib.overflows);
	aq_local_str(lfd, local, sizeof(local));
	EXPECT_EQ(0, strncmp(local, "[::1]:", 6));
	if (c->module) {
		struct aq_row *r = aq_the_row(_metadata, &s, aq_netns_ino(),
					      "tcp6", local);

		EXPECT_EQ(3, r->backlog);
		EXPECT_EQ(4, r->qnow);
		EXPECT_EQ(4, r->qpeak);
		EXPECT_EQ(4, r->enqueued);
		EXPECT_EQ((int64_t)o.sk_drops, r->drops);
		EXPECT_EQ((int64_t)o.sk_drops, r->drops_syn_acceptq);
		aq_snap_free(&s);
	}
	aq_close_fds(cfd, 4);
	close(lfd);
}

AQ_NETNS_TEST(tcpq, ipv6_listener, AQ_RUN_THEN_FINISH, ipv6_in_netns, &self->c)

/*
 * A dual-stack listener on [::] (IPV6_V6ONLY=0) with backlog 2: one IPv6
 * and one v4-mapped connection queue on the one tcp6 row; then two v4
 * clients that hold back their final ACK: the first fills the queue, the
 * second overflows it at the ACK (tcp_v6_syn_recv_sock hands v4-mapped
 * requests to tcp_v4_syn_recv_sock: one drop, not two); then a v4 SYN to
 * the full queue. No tcp (IPv4) row may appear for it.
 */
static void dual_in_netns(struct __test_metadata *_metadata, void *argp)
{
	struct aq_ctx *c = argp;
	int cfd[2], late[2], afd[3], lfd, i, late_est = 0;
	char local[96], local4[96];
	struct aq_oracle o0, o;
	struct aq_snap s, s2;
	uint16_t port;

	lfd = aq_listen_tcp("::", 0, 2, AQ_DUAL);
	ASSERT_LE(0, lfd) TH_LOG("listen on [::]: %s", strerror(-lfd));
	port = aq_port_of(lfd);
	aq_oracle_read(_metadata, lfd, &o0);
	aq_fill(_metadata, lfd, "::1", cfd, 1, 0);
	aq_fill(_metadata, lfd, "127.0.0.1", cfd + 1, 1, 1);
	for (i = 0; i < 2; i++) {
		late[i] = aq_connect_nb("127.0.0.1", port, true);
		ASSERT_LE(0, late[i]);
	}
	for (i = 0; i < 2; i++)
		if (aq_wait_state(late[i], TCP_ESTABLISHED) == TCP_ESTABLISHED)
			late_est++;
	if (late_est != 2 || aq_diag_rqueue(lfd) != 2)
		TH_LOG("the delayed ACKs did not wait: fewer ACK drops are certain");
	for (i = 0; i < 2; i++) {
		long long before = aq_sk_drops(lfd);

		ASSERT_EQ(1, write(late[i], "x", 1));
		if (i == 0) {
			ASSERT_EQ(3, aq_wait_rqueue(lfd, 3));
		} else {
			ASSERT_LE(before + 1, aq_wait_drops(lfd, before + 1));
		}
	}
	aq_overflow(_metadata, lfd, "127.0.0.1", 1);

	aq_stable_read(_metadata, lfd, c->module ? &s : NULL, &o);
	EXPECT_EQ(3, o.rqueue);
	EXPECT_LE(2, o.mib.overflows - o0.mib.overflows);
	aq_local_str(lfd, local, sizeof(local));
	snprintf(local4, sizeof(local4), "0.0.0.0:%u", port);
	if (c->module) {
		struct aq_row *r = aq_the_row(_metadata, &s, aq_netns_ino(),
					      "tcp6", local);

		EXPECT_EQ(0, aq_count_rows(&s, aq_netns_ino(), "tcp", local4));
		EXPECT_EQ(1, s.nrows) TH_LOG("one listener, %d rows", s.nrows);
		EXPECT_EQ(3, r->enqueued);
		EXPECT_EQ(3, r->qnow);
		EXPECT_EQ(3, r->qpeak);
		EXPECT_EQ(2, r->backlog);
		EXPECT_EQ((int64_t)o.sk_drops, r->drops);
		EXPECT_EQ((int64_t)(o.mib.overflows - o0.mib.overflows),
			  r->drops_syn_acceptq + r->drops_ack_acceptq);
		EXPECT_LE(1, r->drops_syn_acceptq);
		if (late_est == 2) {
			EXPECT_LE(1, r->drops_ack_acceptq);
		}
	}
	/* Accept all three: the v4 ones arrive v4-mapped. */
	for (i = 0; i < 3; i++) {
		struct sockaddr_in6 peer;
		socklen_t len = sizeof(peer);

		afd[i] = accept4(lfd, (struct sockaddr *)&peer, &len,
				 SOCK_CLOEXEC);
		ASSERT_LE(0, afd[i]);
		ASSERT_EQ(AF_INET6, peer.sin6_family);
		if (i > 0) {
			EXPECT_TRUE(IN6_IS_ADDR_V4MAPPED(&peer.sin6_addr));
		}
	}
	if (c->module) {
		struct aq_row *r;

		aq_snapshot(_metadata, &s2);
		r = aq_the_row(_metadata, &s2, aq_netns_ino(), "tcp6", local);
		EXPECT_EQ(3, r->accepted);
		EXPECT_EQ(0, r->qnow);
		EXPECT_EQ(3, aq_hist_total(&r->wait));
		aq_snap_free(&s2);
		aq_snap_free(&s);
	}
	aq_close_fds(afd, 3);
	aq_close_fds(late, 2);
	aq_close_fds(cfd, 2);
	close(lfd);
}

AQ_NETNS_TEST(tcpq, dual_stack_and_v4_mapped, AQ_RUN_THEN_FINISH, dual_in_netns,
	      &self->c)

/*
 * The lines as format 3 defines them: the parser already refuses anything
 * else, but tolerates unknown keys on the state and closed lines so that
 * this one test reports them.
 */
static void format_in_netns(struct __test_metadata *_metadata, void *argp)
{
	struct aq_ctx *c = argp;
	struct aq_snap s;
	int lfd, cfd;
	char comm[16];

	if (!c->module)
		return;
	aq_set_comm("aq fmt x");
	lfd = aq_listen_tcp("127.0.0.1", 0, 4, 0);
	ASSERT_LE(0, lfd);
	cfd = aq_connect("127.0.0.1", aq_port_of(lfd));
	ASSERT_LE(0, cfd);
	ASSERT_EQ(1, aq_wait_rqueue(lfd, 1));
	aq_snapshot(_metadata, &s);
	EXPECT_STREQ("", s.extra)
		TH_LOG("keys that format 3 does not define: %s", s.extra);
	aq_get_comm(comm, sizeof(comm));
	EXPECT_STREQ(comm, aq_row_of(_metadata, &s, lfd)->comm);
	aq_snap_free(&s);
	close(cfd);
	close(lfd);
}

AQ_NETNS_TEST(tcpq, proc_lines_as_documented, AQ_RUN_THEN_FINISH,
	      format_in_netns, &self->c)

AQ_TEST_HARNESS_MAIN
