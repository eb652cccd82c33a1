// SPDX-License-Identifier: GPL-2.0
/*
 * The SYN side of a TCP listener: SYN queue length, SYN-queue-full drops,
 * SYN cookies, SYN-ACK retransmits and handshake time, each against the
 * kernel's own account of the same thing.
 *
 * SYNs that never complete come from a raw socket with a source address
 * (198.18.0.0/24, inside the guest only) routed out of a veth whose peer is
 * down: the SYN-ACKs vanish and the requests stay in the SYN queue, where
 * sock_diag lists them as SYN-RECV (what `ss -tn state syn-recv` shows).
 * They stay there for seconds, not for ever: a full queue's requests are
 * pruned after their second SYN-ACK retransmit (7 s), so the checks compare
 * what the kernel decided per SYN, and the queue as it is at the snapshot.
 * The netns counters are the namespace's own /proc/net/netstat, so the
 * test's namespace sees nothing else.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>

#include "kselftest_harness.h"

#include "aq_clock.h"
#include "aq_diag.h"
#include "aq_fixture.h"
#include "aq_hist.h"
#include "aq_netns.h"
#include "aq_proc.h"
#include "aq_snap.h"
#include "aq_sock.h"
#include "aq_syn.h"

#define SPOOF_NET "198.18.0.0/24"
#define SPOOF_SRC "198.18.0.9"
/* Not a loopback address: those may not route out of a real device. */
#define LISTEN_ADDR "198.18.1.1"

static int sh(const char *cmd)
{
	int status = system(cmd);

	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_sysctl(struct __test_metadata *_metadata, const char *path,
			 const char *value)
{
	FILE *f = fopen(path, "w");

	ASSERT_NE(NULL, f) TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_LT(0, fprintf(f, "%s\n", value));
	ASSERT_EQ(0, fclose(f)) TH_LOG("%s = %s: %s", path, value,
				       strerror(errno));
}

/*
 * A route for the spoofed sources that leads nowhere. Without ARP: the
 * SYN-ACKs would wait for an address nobody answers for, and when that
 * failed (3 s) the kernel would send itself a host unreachable for each,
 * which drops the request (tcp_req_err()) under the test's feet.
 */
static void route_to_nowhere(struct __test_metadata *_metadata)
{
	ASSERT_EQ(0, sh("ip link add aqsyn0 type veth && ip link set aqsyn0 arp off && ip addr add " LISTEN_ADDR "/32 dev aqsyn0 && ip link set aqsyn0 up && ip route add " SPOOF_NET " dev aqsyn0"))
		TH_LOG("cannot route " SPOOF_NET " into a veth with its peer down");
}

/* Requests (SYN-RECV) in the caller's namespace for local port @port. */
static int diag_synrecv(uint16_t port)
{
	return aq_diag_dump(AF_INET, 1U << AQ_TCP_SYN_RECV_STATE, port,
			    NULL, 0);
}

/* One bare SYN from @src:@sport to LISTEN_ADDR:@dport. */
static int send_syn(int raw, const char *src, uint16_t sport, uint16_t dport)
{
	return aq_send_syn(raw, src, LISTEN_ADDR, sport, dport);
}

static long long mib(const char *name)
{
	return aq_netstat("TcpExt", name);
}

struct syn_mibs {
	long long full_drop, full_cookies, cookies_sent, synack_retrans;
};

static void read_mibs(struct __test_metadata *_metadata, struct syn_mibs *m)
{
	m->full_drop = mib("TCPReqQFullDrop");
	m->full_cookies = mib("TCPReqQFullDoCookies");
	m->cookies_sent = mib("SyncookiesSent");
	m->synack_retrans = mib("TCPSynRetrans");
	ASSERT_LE(0, m->full_drop);
	ASSERT_LE(0, m->full_cookies);
	ASSERT_LE(0, m->cookies_sent);
	ASSERT_LE(0, m->synack_retrans);
}

/*
 * Sends @n SYNs to a listener with backlog @backlog and checks each one's
 * effect as the kernel shows it: queued (one more SYN-RECV), or not (the
 * netns counters moved). Returns in @seen the SYN-queue length each SYN
 * found, as sock_diag showed it just before, and in @queued how many of
 * them the kernel queued.
 */
static void send_syns(struct __test_metadata *_metadata, int lfd, int n,
		      int *seen, int *queued)
{
	uint16_t port = aq_port_of(lfd);
	int raw, i;

	*queued = 0;
	raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	ASSERT_LE(0, raw) TH_LOG("raw socket: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		struct syn_mibs before, after;
		long long drops = aq_sk_drops(lfd);
		int64_t deadline = aq_now_ns() + AQ_WAIT_MS * 1000000LL;
		int now;

		seen[i] = diag_synrecv(port);
		ASSERT_LE(0, seen[i]) TH_LOG("sock_diag: %s",
					     strerror(-seen[i]));
		read_mibs(_metadata, &before);
		ASSERT_EQ(0, send_syn(raw, SPOOF_SRC, 20000 + i, port));
		/* Handled when the packet is, but wait for the evidence. */
		for (;;) {
			now = diag_synrecv(port);
			read_mibs(_metadata, &after);
			if (now > seen[i]) {
				++*queued;
				break;
			}
			if (after.full_drop > before.full_drop ||
			    after.cookies_sent > before.cookies_sent ||
			    aq_sk_drops(lfd) > drops)
				break;
			ASSERT_GT(deadline, aq_now_ns())
				TH_LOG("SYN %d left no trace in the kernel", i);
			usleep(1000);
		}
	}
	close(raw);
}

/* The SYN side as the kernel shows it, for comparison with a snapshot. */
struct synq_oracle {
	int synrecv;			/* sock_diag's SYN-RECV count */
	long long synack_retrans;	/* the namespace's TCPSynRetrans */
};

static void synq_oracle_read(struct __test_metadata *_metadata, int lfd,
			     struct synq_oracle *o)
{
	o->synrecv = diag_synrecv(aq_port_of(lfd));
	ASSERT_LE(0, o->synrecv) TH_LOG("sock_diag: %s",
					strerror(-o->synrecv));
	o->synack_retrans = mib("TCPSynRetrans");
	ASSERT_LE(0, o->synack_retrans);
}

/*
 * A snapshot taken while the SYN side held still: requests leave the queue
 * on their timers, and SYN-ACKs are sent again on them.
 */
static void synq_stable_snapshot(struct __test_metadata *_metadata, int lfd,
				 struct aq_snap *s, struct synq_oracle *o)
{
	struct synq_oracle after;
	int tries;

	for (tries = 0; tries < 20; tries++) {
		synq_oracle_read(_metadata, lfd, o);
		aq_snapshot(_metadata, s);
		synq_oracle_read(_metadata, lfd, &after);
		if (o->synrecv == after.synrecv &&
		    o->synack_retrans == after.synack_retrans)
			return;
		aq_snap_free(s);
	}
	ASSERT_TRUE(0) TH_LOG("the SYN queue never held still for one read");
}

static int64_t hist_at(const struct aq_hist *h, int64_t low)
{
	return aq_hist_get(h, low);
}

/* The qlen-style bucket (0, 1, 2, 4, ...) that holds @len. */
static int64_t len_bucket(int len)
{
	int64_t low = 1;

	if (!len)
		return 0;
	while (low * 2 <= len)
		low *= 2;
	return low;
}

static void expect_synq_hist(struct __test_metadata *_metadata,
			     const struct aq_row *r, const int *seen, int n)
{
	struct aq_hist want = { 0 };
	int i, j;

	for (i = 0; i < n; i++) {
		int64_t low = len_bucket(seen[i]);

		for (j = 0; j < want.n && want.low[j] != low; j++)
			;
		if (j == want.n) {
			want.low[want.n] = low;
			want.count[want.n++] = 0;
		}
		want.count[j]++;
	}
	EXPECT_EQ(want.n, r->synq.n);
	for (j = 0; j < want.n; j++)
		EXPECT_EQ(want.count[j], hist_at(&r->synq, want.low[j]))
			TH_LOG("synq bucket %" PRId64 ": want %" PRId64,
			       want.low[j], want.count[j]);
}

AQ_FIXTURE(synq, NULL, AQ_MODULE_OPTIONAL)

struct synq_arg {
	struct aq_ctx *c;
	int syncookies;
	int backlog;
	int syns;
};

static void synq_in_netns(struct __test_metadata *_metadata, void *argp)
{
	struct synq_arg *arg = argp;
	struct syn_mibs m0, m1;
	char value[16];
	struct aq_snap s;
	struct synq_oracle o;
	struct aq_row *r;
	int *seen, lfd, queued;
	int64_t t0;

	route_to_nowhere(_metadata);
	snprintf(value, sizeof(value), "%d", arg->syncookies);
	write_sysctl(_metadata, "/proc/sys/net/ipv4/tcp_syncookies", value);
	/* Far above the backlog: the listen backlog bounds the SYN queue. */
	write_sysctl(_metadata, "/proc/sys/net/ipv4/tcp_max_syn_backlog",
		     "4096");
	lfd = aq_listen_tcp(LISTEN_ADDR, 0, arg->backlog, 0);
	ASSERT_LE(0, lfd);
	seen = calloc(arg->syns, sizeof(*seen));
	ASSERT_NE(NULL, seen);
	read_mibs(_metadata, &m0);
	t0 = aq_now_ns();
	send_syns(_metadata, lfd, arg->syns, seen, &queued);

	/* The counters move only on SYNs, and the last one was handled. */
	read_mibs(_metadata, &m1);
	TH_LOG("syncookies=%d backlog %d: %d SYNs, %d queued, ReqQFullDrop +%lld, ReqQFullDoCookies +%lld, SyncookiesSent +%lld, in %lld ms",
	       arg->syncookies, arg->backlog, arg->syns, queued,
	       m1.full_drop - m0.full_drop, m1.full_cookies - m0.full_cookies,
	       m1.cookies_sent - m0.cookies_sent,
	       (long long)(aq_now_ns() - t0) / 1000000);
	/* What the kernel must have done, from its documented rules. */
	if (arg->syncookies == 2) {
		EXPECT_EQ(0, queued);
		EXPECT_EQ(arg->syns, m1.cookies_sent - m0.cookies_sent);
	} else {
		long long over = arg->syns - queued;

		/* Full at the backlog, or one past it on newer kernels. */
		EXPECT_TRUE(queued == arg->backlog ||
			    queued == arg->backlog + 1)
			TH_LOG("%d queued for backlog %d", queued,
			       arg->backlog);
		if (arg->syncookies) {
			EXPECT_EQ(over, m1.cookies_sent - m0.cookies_sent);
		} else {
			EXPECT_EQ(over, m1.full_drop - m0.full_drop);
		}
	}
	if (arg->c->module) {
		synq_stable_snapshot(_metadata, lfd, &s, &o);
		r = aq_row_of(_metadata, &s, lfd);
		ASSERT_TRUE(r->have_syn);
		EXPECT_EQ(o.synrecv, r->synq_now);
		EXPECT_EQ(m1.full_drop - m0.full_drop, r->synq_full_drops);
		EXPECT_EQ(m1.full_cookies - m0.full_cookies,
			  r->synq_full_cookies);
		EXPECT_EQ(m1.cookies_sent - m0.cookies_sent, r->syn_cookies);
		EXPECT_EQ(aq_sk_drops(lfd), r->drops);
		/* Nothing completed: no child, no handshake. */
		EXPECT_EQ(0, r->enqueued);
		EXPECT_EQ(0, aq_hist_total(&r->handshake));
		/* Every SYN saw an empty accept queue. */
		EXPECT_EQ(arg->syns, hist_at(&r->qlen, 0));
		expect_synq_hist(_metadata, r, seen, arg->syns);
		aq_snap_free(&s);
	}
	free(seen);
	close(lfd);
}

AQ_NETNS_TEST(synq, full_queue_drops_without_cookies, AQ_RUN_THEN_FINISH,
	      synq_in_netns, &(struct synq_arg){ &self->c, 0, 8, 20 })

AQ_NETNS_TEST(synq, full_queue_answers_with_cookies, AQ_RUN_THEN_FINISH,
	      synq_in_netns, &(struct synq_arg){ &self->c, 1, 4, 10 })

AQ_NETNS_TEST(synq, cookies_always, AQ_RUN_THEN_FINISH, synq_in_netns,
	      &(struct synq_arg){ &self->c, 2, 8, 5 })

/*
 * The SYN-ACKs of queued requests are sent again from 1 s on (then 3 s, 7 s,
 * ...): aqueue's count must be the namespace's TCPSynRetrans, read at a
 * moment when neither moves.
 */
static void retrans_in_netns(struct __test_metadata *_metadata, void *argp)
{
	struct synq_arg *arg = argp;
	struct syn_mibs m0, m1;
	struct synq_oracle o;
	int64_t deadline;
	struct aq_snap s;
	struct aq_row *r;
	int seen[4], lfd, queued;

	route_to_nowhere(_metadata);
	write_sysctl(_metadata, "/proc/sys/net/ipv4/tcp_syncookies", "0");
	lfd = aq_listen_tcp(LISTEN_ADDR, 0, 16, 0);
	ASSERT_LE(0, lfd);
	read_mibs(_metadata, &m0);
	send_syns(_metadata, lfd, 4, seen, &queued);
	ASSERT_EQ(4, queued);
	deadline = aq_now_ns() + 3 * AQ_WAIT_MS * 1000000LL;
	do {
		read_mibs(_metadata, &m1);
		ASSERT_GT(deadline, aq_now_ns())
			TH_LOG("no SYN-ACK was sent again");
		usleep(20000);
	} while (m1.synack_retrans - m0.synack_retrans < 4);
	if (!arg->c->module)
		goto out;
	synq_stable_snapshot(_metadata, lfd, &s, &o);
	r = aq_row_of(_metadata, &s, lfd);
	TH_LOG("TCPSynRetrans +%lld, aqueue synack_retrans %" PRId64,
	       o.synack_retrans - m0.synack_retrans, r->synack_retrans);
	EXPECT_EQ(o.synack_retrans - m0.synack_retrans, r->synack_retrans);
	EXPECT_EQ(4, r->synq_now);
	aq_snap_free(&s);
out:
	close(lfd);
}

AQ_NETNS_TEST(synq, synack_retransmits, AQ_RUN_THEN_FINISH, retrans_in_netns,
	      &(struct synq_arg){ &self->c, 0, 16, 4 })

/*
 * A client with TCP_DEFER_ACCEPT holds its final ACK back until its
 * delayed-ACK timer fires (200 ms): the handshake then lasts that long, and
 * the test brackets it with its own clock:
 *   SYN in [connect() called, connect() returned],
 *   ACK in [last poll that saw no child began, first poll that saw one ended].
 */
static void time_one_handshake(struct __test_metadata *_metadata,
			       const struct synq_arg *arg)
{
	int64_t t0, t1, before = 0, after = 0, lower, upper, low;
	int64_t deadline;
	struct aq_snap s;
	struct aq_row *r;
	int lfd, cfd;

	lfd = aq_listen_tcp("127.0.0.1", 0, 8, 0);
	ASSERT_LE(0, lfd);
	t0 = aq_now_ns();
	cfd = aq_connect_nb("127.0.0.1", aq_port_of(lfd), true);
	t1 = aq_now_ns();
	ASSERT_LE(0, cfd);
	deadline = t1 + AQ_WAIT_MS * 1000000LL;
	for (;;) {
		int64_t start = aq_now_ns();
		long q = aq_diag_rqueue(lfd);

		after = aq_now_ns();
		ASSERT_LE(0, q);
		if (q > 0)
			break;
		before = start;
		ASSERT_GT(deadline, after) TH_LOG("the handshake never ended");
		usleep(2000);
	}
	lower = before - t1;
	/* The kernel stamps the SYN-ACK in whole microseconds. */
	upper = after - t0 + 1000;
	TH_LOG("handshake measured in [%" PRId64 ", %" PRId64 "] ns", lower,
	       upper);
	/* The client did hold its ACK back. */
	ASSERT_LT(0, lower);
	if (arg->c->module) {
		aq_snapshot(_metadata, &s);
		r = aq_row_of(_metadata, &s, lfd);
		EXPECT_EQ(1, r->enqueued);
		ASSERT_EQ(1, r->handshake.n);
		ASSERT_EQ(1, r->handshake.count[0]);
		low = r->handshake.low[0];
		EXPECT_TRUE(low <= upper && aq_wait_bucket_hi(low) > lower)
			TH_LOG("handshake bucket [%" PRId64 ", %" PRId64 ") misses [%" PRId64 ", %" PRId64 "]",
			       low, aq_wait_bucket_hi(low), lower, upper);
		EXPECT_LE(lower, r->handshake_sum_ns);
		EXPECT_GE(upper, r->handshake_sum_ns);
		EXPECT_EQ(r->handshake_sum_ns, r->handshake_max_ns);
		EXPECT_EQ(0, r->synq_now);
		aq_snap_free(&s);
	}
	close(cfd);
	close(lfd);
}

/*
 * Twice: where the hashdance makes a real call to
 * inet_csk_reqsk_queue_add() (5.10), the first child is timed at the
 * hashdance and the second at the call, after the module disarmed the
 * hashdance probe.
 */
static void handshake_in_netns(struct __test_metadata *_metadata, void *argp)
{
	time_one_handshake(_metadata, argp);
	time_one_handshake(_metadata, argp);
}

AQ_NETNS_TEST(synq, handshake_time_of_a_held_back_ack, AQ_RUN_THEN_FINISH,
	      handshake_in_netns, &(struct synq_arg){ &self->c, 0, 8, 1 })

AQ_TEST_HARNESS_MAIN
