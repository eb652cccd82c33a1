// SPDX-License-Identifier: GPL-2.0
/*
 * The control file's grammar (doc/interface.md, "The control file"), each
 * command's effect checked where the kernel has an oracle of its own:
 *
 *  - enable / disable against the kernel's list of registered kprobes
 *    (/sys/kernel/debug/kprobes/list); rows stay readable while disabled,
 *    a listener created meanwhile gets no row, enable starts from an empty
 *    table;
 *  - reset and reset ID against sock_diag (what is queued stays queued)
 *    and SO_MEMINFO (drops count again from the reset);
 *  - filter port / netns / family / kind: rows that stop matching go away,
 *    events of listeners left out show in filtered_events, rows come back
 *    at the next event once the filter lets them;
 *  - max_listeners and max_memory (K/M/G, either case) as limits that bite;
 *  - several commands, comments and empty lines in one write.
 *
 * Everything that needs a listener runs in a fresh network namespace (or
 * two, for the netns filter), so the rows are the test's own.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>

#include "kselftest_harness.h"

#include "aq_clock.h"
#include "aq_ctl.h"
#include "aq_diag.h"
#include "aq_file.h"
#include "aq_fill.h"
#include "aq_fixture.h"
#include "aq_hist.h"
#include "aq_module.h"
#include "aq_netns.h"
#include "aq_proc.h"
#include "aq_snap.h"
#include "aq_sock.h"

AQ_FIXTURE_TIMED(ctl, NULL, AQ_MODULE_REQUIRED, NULL)

/* ------------------------------------------------------------------ */

static bool aq_is_udp_probe(const char *func)
{
	return !strcmp(func, "__udp_enqueue_schedule_skb") ||
	       !strcmp(func, "__skb_recv_udp") ||
	       !strcmp(func, "udp_lib_unhash");
}

/*
 * Every probe the control file lists is (or is not) in the kernel's list
 * of registered kprobes, with the type the control file gives; one it
 * says is disarmed the kernel lists as disabled. A probe is disarmed once
 * and stays so while registered, so the kernel's list is read on both
 * sides of the control file.
 */
static void expect_probes_registered(struct __test_metadata *_metadata,
				     int all)
{
	static char before[65536], list[65536];
	struct aq_probe_line p[32];
	int n, i;

	ASSERT_LE(0, aq_read_file(AQ_KPROBES_LIST, before, sizeof(before)));
	n = aq_ctl_probes(_metadata, p, 32);
	ASSERT_LE(6, n) TH_LOG("the control file lists %d probes", n);
	ASSERT_LE(0, aq_read_file(AQ_KPROBES_LIST, list, sizeof(list)));
	for (i = 0; i < n; i++) {
		int type = aq_kprobe_listed(list, p[i].func);
		/* No UDP port is watched here: those stay unregistered. */
		int want = all && !aq_is_udp_probe(p[i].func);

		EXPECT_EQ(want, p[i].registered)
			TH_LOG("control file: probe %s registered %d",
			       p[i].func, p[i].registered);
		if (p[i].registered) {
			EXPECT_EQ(!p[i].armed,
				  aq_kprobe_disabled(list, p[i].func))
				TH_LOG("%s armed %d, after it the kernel lists it %s",
				       p[i].func, p[i].armed,
				       aq_kprobe_disabled(list, p[i].func) ?
				       "disabled" : "enabled");
			EXPECT_FALSE(p[i].armed &&
				     aq_kprobe_disabled(before, p[i].func))
				TH_LOG("%s armed 1, before it the kernel listed it disabled",
				       p[i].func);
		} else {
			EXPECT_EQ(0, p[i].armed);
		}
		if (want) {
			EXPECT_EQ(strcmp(p[i].type, "kretprobe") ? 'k' : 'r',
				  type)
				TH_LOG("%s (%s) in %s as '%c'", p[i].func,
				       p[i].type, AQ_KPROBES_LIST,
				       type ? type : '-');
		} else {
			EXPECT_EQ(0, type)
				TH_LOG("%s still registered after disable",
				       p[i].func);
		}
	}
}

static long long probe_hits(struct __test_metadata *_metadata,
			    const char *func)
{
	struct aq_probe_line p[32];
	int n, i;

	n = aq_ctl_probes(_metadata, p, 32);
	for (i = 0; i < n; i++)
		if (!strcmp(p[i].func, func))
			return p[i].hits;
	return -1;
}

static int count_disarmed(struct __test_metadata *_metadata)
{
	struct aq_probe_line p[32];
	int n, i, disarmed = 0;

	n = aq_ctl_probes(_metadata, p, 32);
	for (i = 0; i < n; i++)
		disarmed += p[i].registered && !p[i].armed;
	return disarmed;
}

static void one_connection(struct __test_metadata *_metadata, void *arg)
{
	long long *hits = arg;
	int lfd, cfd;

	lfd = aq_listen_tcp("127.0.0.1", 0, 4, 0);
	ASSERT_LE(0, lfd);
	aq_fill(_metadata, lfd, "127.0.0.1", &cfd, 1, 0);
	hits[1] = probe_hits(_metadata, "tcp_conn_request");
	aq_close_rst(cfd);
	close(lfd);
}

TEST_F(ctl, enable_disable_follow_kprobes_list)
{
	long long hits[2];
	struct aq_snap s = { 0 };

	if (!aq_path_exists(AQ_KPROBES_LIST))
		SKIP(return, "no %s (debugfs without kprobes?)", AQ_KPROBES_LIST);

	EXPECT_EQ(1, aq_ctl_value(_metadata, "enabled"));
	expect_probes_registered(_metadata, 1);

	ASSERT_EQ(0, aq_ctl("disable\n"));
	EXPECT_EQ(0, aq_ctl_value(_metadata, "enabled"));
	expect_probes_registered(_metadata, 0);
	aq_snapshot(_metadata, &s);
	EXPECT_EQ(0, s.enabled);
	aq_snap_free(&s);

	/* Disabled costs nothing: no probe fires on a connection. */
	hits[0] = probe_hits(_metadata, "tcp_conn_request");
	ASSERT_LE(0, hits[0]);
	aq_in_netns(_metadata, one_connection, hits);
	EXPECT_EQ(hits[0], probe_hits(_metadata, "tcp_conn_request"));

	/* Both commands are idempotent. */
	ASSERT_EQ(0, aq_ctl("disable\n"));
	expect_probes_registered(_metadata, 0);
	ASSERT_EQ(0, aq_ctl("enable\n"));
	EXPECT_EQ(1, aq_ctl_value(_metadata, "enabled"));
	expect_probes_registered(_metadata, 1);
	ASSERT_EQ(0, aq_ctl("enable\n"));
	expect_probes_registered(_metadata, 1);
	aq_snapshot(_metadata, &s);
	EXPECT_EQ(1, s.enabled);
	aq_snap_free(&s);

	/*
	 * Enabling arms every probe; a connection may then disarm one that
	 * another sees past (the hashdance on 5.10), and the kernel's list
	 * must agree.
	 */
	EXPECT_EQ(0, count_disarmed(_metadata));
	aq_in_netns(_metadata, one_connection, hits);
	TH_LOG("%d probe(s) disarmed after one connection",
	       count_disarmed(_metadata));
	expect_probes_registered(_metadata, 1);
}

static void disable_in_netns(struct __test_metadata *_metadata, void *arg)
{
	const char *ip = "127.0.0.1";
	int l1, l2, c1[2], c2[2];
	struct aq_snap s = { 0 };
	struct aq_row *r;
	int64_t id1;

	l1 = aq_listen_tcp(ip, 0, 4, 0);
	ASSERT_LE(0, l1);
	aq_fill(_metadata, l1, ip, c1, 1, 0);
	aq_snapshot(_metadata, &s);
	r = aq_find_row(&s, l1);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(1, r->qnow);
	id1 = r->id;
	aq_snap_free(&s);

	ASSERT_EQ(0, aq_ctl("disable\n"));
	/* Made while disabled: L2 and its connection, one more for L1. */
	l2 = aq_listen_tcp(ip, 0, 4, 0);
	ASSERT_LE(0, l2);
	aq_fill(_metadata, l2, ip, c2, 1, 0);
	aq_fill(_metadata, l1, ip, c1 + 1, 1, 1);

	aq_snapshot(_metadata, &s);
	EXPECT_EQ(0, s.enabled);
	EXPECT_EQ(NULL, aq_find_row(&s, l2))
		TH_LOG("a listener created while disabled got a row");
	r = aq_find_row(&s, l1);
	ASSERT_NE(NULL, r) TH_LOG("disable removed the rows: doc/interface.md keeps them readable");
	EXPECT_EQ(id1, r->id);
	EXPECT_EQ(1, r->qnow) TH_LOG("a disabled module saw a connection");
	EXPECT_EQ(1, r->enqueued);
	aq_snap_free(&s);

	ASSERT_EQ(0, aq_ctl("enable\n"));
	aq_snapshot(_metadata, &s);
	EXPECT_EQ(1, s.enabled);
	EXPECT_EQ(0, s.nrows) TH_LOG("enable after disable must start from an empty table");
	EXPECT_EQ(0, s.tracked);
	aq_snap_free(&s);

	/* L2's next connection gives it a row, in step with the kernel. */
	aq_fill(_metadata, l2, ip, c2 + 1, 1, 1);
	aq_snapshot(_metadata, &s);
	r = aq_find_row(&s, l2);
	ASSERT_NE(NULL, r) TH_LOG("a listener is not tracked after enable");
	EXPECT_EQ(aq_diag_rqueue(l2), r->qnow);
	EXPECT_LT(id1, r->id) TH_LOG("ids must not be reused");
	EXPECT_EQ(0, r->pid) TH_LOG("listened before tracking began: pid 0");
	EXPECT_EQ(NULL, aq_find_row(&s, l1))
		TH_LOG("L1 had no event since enable");
	aq_snap_free(&s);
	aq_close_fds(c1, 2);
	aq_close_fds(c2, 2);
	close(l1);
	close(l2);
}

AQ_NETNS_TEST(ctl, disable_keeps_rows_enable_starts_empty, AQ_RUN,
	      disable_in_netns, NULL)

/* ------------------------------------------------------------------ */
/* reset */

/* backlog 2: three queued, two SYNs dropped, one accepted: two queued. */
static int busy_listener(struct __test_metadata *_metadata, const char *ip,
			 int *cfd)
{
	int lfd, afd;

	lfd = aq_listen_tcp(ip, 0, 2, 0);
	if (lfd < 0)
		return lfd;
	aq_fill(_metadata, lfd, ip, cfd, 3, 0);
	aq_overflow(_metadata, lfd, ip, 2);
	afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (afd >= 0)
		close(afd);
	if (aq_wait_rqueue(lfd, 2) != 2)
		return -EIO;
	return lfd;
}

static void expect_zeroed(struct __test_metadata *_metadata,
			  const struct aq_row *r, long queued)
{
	EXPECT_EQ(queued, r->qnow) TH_LOG("reset changed what is queued");
	EXPECT_EQ(queued, r->qpeak);
	EXPECT_EQ(queued, r->enqueued) TH_LOG("enqueued = accepted + qnow");
	EXPECT_EQ(0, r->accepted);
	EXPECT_EQ(0, r->drops);
	EXPECT_EQ(0, r->drops_syn_acceptq);
	EXPECT_EQ(0, r->drops_ack_acceptq);
	EXPECT_EQ(0, r->drops_other);
	EXPECT_EQ(0, r->untimed);
	EXPECT_EQ(0, r->wait_sum_ns);
	EXPECT_EQ(-1, r->p50_us);
	EXPECT_EQ(-1, r->max_us);
	EXPECT_EQ(0, r->qlen.n) TH_LOG("qlen histogram kept");
	EXPECT_EQ(0, r->wait.n) TH_LOG("wait_ns histogram kept");
}

static void reset_in_netns(struct __test_metadata *_metadata, void *arg)
{
	const char *ip = "127.0.0.1";
	struct aq_snap s = { 0 };
	long long drops0;
	int cfd[4], lfd, i;
	struct aq_row *r;
	int64_t observed;

	lfd = busy_listener(_metadata, ip, cfd);
	ASSERT_LE(0, lfd);
	aq_snapshot(_metadata, &s);
	r = aq_find_row(&s, lfd);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(1, r->accepted);
	ASSERT_EQ(aq_sk_drops(lfd), r->drops);
	ASSERT_LE(2, r->drops);
	observed = r->observed_ns;
	aq_snap_free(&s);

	drops0 = aq_sk_drops(lfd);
	ASSERT_EQ(0, aq_ctl("reset\n"));
	aq_snapshot(_metadata, &s);
	r = aq_find_row(&s, lfd);
	ASSERT_NE(NULL, r);
	expect_zeroed(_metadata, r, aq_diag_rqueue(lfd));
	EXPECT_GT(observed, r->observed_ns) TH_LOG("observed_ns restarts at reset");
	EXPECT_EQ(0, s.filtered_events);
	EXPECT_EQ(0, s.untracked_listens);
	aq_snap_free(&s);

	/* After the reset: drops count from the kernel's figure at reset. */
	aq_fill(_metadata, lfd, ip, &cfd[3], 1, 2);
	aq_overflow(_metadata, lfd, ip, 1);
	aq_snapshot(_metadata, &s);
	r = aq_find_row(&s, lfd);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(aq_sk_drops(lfd) - drops0, r->drops);
	EXPECT_EQ(3, r->qnow);
	EXPECT_EQ(3, r->enqueued);
	aq_snap_free(&s);

	/* What was queued at the reset stays timed. */
	for (i = 0; i < 3; i++) {
		int afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		ASSERT_LE(0, afd);
		close(afd);
	}
	aq_snapshot(_metadata, &s);
	r = aq_find_row(&s, lfd);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(3, r->accepted);
	EXPECT_EQ(0, r->untimed) TH_LOG("reset made queued connections untimed");
	EXPECT_EQ(3, aq_hist_total(&r->wait));
	aq_snap_free(&s);
	aq_close_fds(cfd, 4);
	close(lfd);
}

AQ_NETNS_TEST(ctl, reset_zeroes_counters_keeps_queue, AQ_RUN, reset_in_netns,
	      NULL)

static void reset_one_in_netns(struct __test_metadata *_metadata, void *arg)
{
	const char *ip = "127.0.0.1";
	struct aq_snap s = { 0 }, t = { 0 };
	int ca[4], cb[4], la, lb;
	struct aq_row *a, *b, b0;
	char cmd[64];

	la = busy_listener(_metadata, ip, ca);
	lb = busy_listener(_metadata, ip, cb);
	ASSERT_LE(0, la);
	ASSERT_LE(0, lb);
	aq_snapshot(_metadata, &s);
	a = aq_find_row(&s, la);
	b = aq_find_row(&s, lb);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	b0 = *b;

	snprintf(cmd, sizeof(cmd), "reset %" PRId64 "\n", a->id);
	ASSERT_EQ(0, aq_ctl(cmd));
	aq_snapshot(_metadata, &t);
	a = aq_find_row(&t, la);
	b = aq_find_row(&t, lb);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	expect_zeroed(_metadata, a, aq_diag_rqueue(la));
	/* The other row, and the global counters, untouched. */
	EXPECT_EQ(b0.enqueued, b->enqueued);
	EXPECT_EQ(b0.accepted, b->accepted);
	EXPECT_EQ(b0.qpeak, b->qpeak);
	EXPECT_EQ(b0.drops, b->drops);
	EXPECT_EQ(aq_sk_drops(lb), b->drops);
	EXPECT_EQ(b0.drops_syn_acceptq, b->drops_syn_acceptq);
	EXPECT_EQ(b0.wait_sum_ns, b->wait_sum_ns);
	EXPECT_TRUE(aq_hist_same(&b0.qlen, &b->qlen));
	EXPECT_TRUE(aq_hist_same(&b0.wait, &b->wait));
	EXPECT_LE(b0.observed_ns, b->observed_ns);
	EXPECT_EQ(s.closed_listeners, t.closed_listeners);
	aq_snap_free(&s);
	aq_snap_free(&t);
	aq_close_fds(ca, 3);
	aq_close_fds(cb, 3);
	close(la);
	close(lb);
}

AQ_NETNS_TEST(ctl, reset_id_only_that_row, AQ_RUN, reset_one_in_netns, NULL)

/* ------------------------------------------------------------------ */
/* filters */

/* One more connection to lfd (queued on top of what is there). */
static int knock(struct __test_metadata *_metadata, int lfd, const char *ip)
{
	long q = aq_diag_rqueue(lfd);
	int cfd = -1;

	aq_fill(_metadata, lfd, ip, &cfd, 1, q);
	return cfd;
}

static int64_t filtered_events(struct __test_metadata *_metadata)
{
	struct aq_snap s = { 0 };
	int64_t v;

	aq_snapshot(_metadata, &s);
	v = s.filtered_events;
	aq_snap_free(&s);
	return v;
}

/* Whether lfd has a row; when it has, its queue must be the kernel's. */
static bool has_row(struct __test_metadata *_metadata, int lfd)
{
	struct aq_snap s = { 0 };
	struct aq_row *r;
	bool found;

	aq_snapshot(_metadata, &s);
	r = aq_find_row(&s, lfd);
	found = r != NULL;
	if (r)
		EXPECT_EQ(aq_diag_rqueue(lfd), r->qnow)
			TH_LOG("row %" PRId64 " (%s) vs sock_diag", r->id,
			       r->local);
	aq_snap_free(&s);
	return found;
}

/* A listener the filters leave out: its next event is counted, no row. */
static int left_out(struct __test_metadata *_metadata, int lfd,
		    const char *ip)
{
	int64_t f0 = filtered_events(_metadata);
	int cfd = knock(_metadata, lfd, ip);

	EXPECT_FALSE(has_row(_metadata, lfd));
	EXPECT_LT(f0, filtered_events(_metadata));
	return cfd;
}

/* `filter key any`: the listener's row comes back at its next event. */
static int filter_any(struct __test_metadata *_metadata, const char *key,
		      int lfd, const char *ip)
{
	char cmd[64], line[32];
	int cfd;

	snprintf(cmd, sizeof(cmd), "filter %s any\n", key);
	snprintf(line, sizeof(line), "filter %s", key);
	ASSERT_EQ(0, aq_ctl(cmd));
	AQ_CTL_EXPECT_LINE(line, "any");
	cfd = knock(_metadata, lfd, ip);
	EXPECT_TRUE(has_row(_metadata, lfd));
	return cfd;
}

static void filter_port_in_netns(struct __test_metadata *_metadata, void *arg)
{
	const char *ip = "127.0.0.1";
	int la, lb, lc, c[8], nc = 0;
	char cmd[64], want[64];

	la = aq_listen_tcp(ip, 0, 8, 0);
	lb = aq_listen_tcp(ip, 0, 8, 0);
	ASSERT_LE(0, la);
	ASSERT_LE(0, lb);
	c[nc++] = knock(_metadata, la, ip);
	c[nc++] = knock(_metadata, lb, ip);
	ASSERT_TRUE(has_row(_metadata, la));
	ASSERT_TRUE(has_row(_metadata, lb));

	snprintf(cmd, sizeof(cmd), "filter port %u\n", aq_port_of(la));
	ASSERT_EQ(0, aq_ctl(cmd));
	snprintf(want, sizeof(want), "%u", aq_port_of(la));
	AQ_CTL_EXPECT_LINE("filter port", want);
	EXPECT_TRUE(has_row(_metadata, la));
	EXPECT_FALSE(has_row(_metadata, lb))
		TH_LOG("a row the new filter leaves out was kept");

	c[nc++] = left_out(_metadata, lb, ip);
	lc = aq_listen_tcp(ip, 0, 8, 0);
	ASSERT_LE(0, lc);
	c[nc++] = knock(_metadata, lc, ip);
	EXPECT_FALSE(has_row(_metadata, lc));
	/* Kept: still counting. */
	c[nc++] = knock(_metadata, la, ip);
	EXPECT_TRUE(has_row(_metadata, la));

	/* Two ports; C comes in at its next event. */
	snprintf(cmd, sizeof(cmd), "filter port %u,%u\n", aq_port_of(la),
		 aq_port_of(lc));
	ASSERT_EQ(0, aq_ctl(cmd));
	snprintf(want, sizeof(want), "%u,%u", aq_port_of(la), aq_port_of(lc));
	AQ_CTL_EXPECT_LINE("filter port", want);
	c[nc++] = knock(_metadata, lc, ip);
	EXPECT_TRUE(has_row(_metadata, lc));
	EXPECT_FALSE(has_row(_metadata, lb));

	c[nc++] = filter_any(_metadata, "port", lb, ip);
	aq_close_fds(c, nc);
	close(la);
	close(lb);
	close(lc);
}

AQ_NETNS_TEST(ctl, filter_port, AQ_RUN, filter_port_in_netns, NULL)

/* Enters the namespace behind nsfd (for this process). */
static void enter_ns(struct __test_metadata *_metadata, int nsfd)
{
	ASSERT_EQ(0, setns(nsfd, CLONE_NEWNET)) TH_LOG("setns: %s",
						       strerror(errno));
}

static int new_ns(struct __test_metadata *_metadata, int64_t *ino)
{
	int fd;

	if (aq_unshare_net())
		return -1;
	*ino = aq_netns_ino();
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	return fd;
}

/*
 * Two namespaces, a listener on the same port in each: the initial
 * namespace (root) sees both rows; filter netns keeps one.
 */
TEST_F(ctl, filter_netns)
{
	const char *ip = "127.0.0.1";
	int init_fd, nsa, nsb, la, lb, ca[2], cb[2];
	int64_t ino_a, ino_b, f0;
	char cmd[64], want[64], local[64];
	struct aq_snap s = { 0 };

	init_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, init_fd);
	nsa = new_ns(_metadata, &ino_a);
	if (nsa < 0)
		SKIP(return, "cannot create a network namespace");
	la = aq_listen_tcp(ip, 0, 4, 0);
	ASSERT_LE(0, la);
	aq_fill(_metadata, la, ip, ca, 1, 0);
	enter_ns(_metadata, init_fd);
	nsb = new_ns(_metadata, &ino_b);
	ASSERT_LE(0, nsb);
	lb = aq_listen_tcp(ip, aq_port_of(la), 4, 0);
	ASSERT_LE(0, lb);
	aq_fill(_metadata, lb, ip, cb, 1, 0);
	enter_ns(_metadata, init_fd);
	aq_local_str(la, local, sizeof(local));

	aq_snapshot(_metadata, &s);
	ASSERT_EQ(1, aq_count_rows(&s, ino_a, "tcp", local));
	ASSERT_EQ(1, aq_count_rows(&s, ino_b, "tcp", local));
	aq_snap_free(&s);

	snprintf(cmd, sizeof(cmd), "filter netns %" PRId64 "\n", ino_a);
	ASSERT_EQ(0, aq_ctl(cmd));
	snprintf(want, sizeof(want), "%" PRId64, ino_a);
	AQ_CTL_EXPECT_LINE("filter netns", want);
	aq_snapshot(_metadata, &s);
	EXPECT_EQ(1, aq_count_rows(&s, ino_a, "tcp", local));
	EXPECT_EQ(0, aq_count_rows(&s, ino_b, "tcp", local))
		TH_LOG("the other namespace's row was kept");
	f0 = s.filtered_events;
	aq_snap_free(&s);

	enter_ns(_metadata, nsb);
	aq_fill(_metadata, lb, ip, &cb[1], 1, 1);
	enter_ns(_metadata, nsa);
	aq_fill(_metadata, la, ip, &ca[1], 1, 1);
	enter_ns(_metadata, init_fd);
	aq_snapshot(_metadata, &s);
	EXPECT_EQ(0, aq_count_rows(&s, ino_b, "tcp", local));
	EXPECT_LT(f0, s.filtered_events);
	EXPECT_EQ(1, aq_count_rows(&s, ino_a, "tcp", local));
	aq_snap_free(&s);

	ASSERT_EQ(0, aq_ctl("filter netns any\n"));
	AQ_CTL_EXPECT_LINE("filter netns", "any");
	aq_close_fds(ca, 2);
	aq_close_fds(cb, 2);
	close(la);
	close(lb);
	close(nsa);
	close(nsb);
	close(init_fd);
}

static void filter_family_in_netns(struct __test_metadata *_metadata,
				   void *arg)
{
	int l4, l6, c[8], nc = 0;

	l4 = aq_listen_tcp("127.0.0.1", 0, 8, 0);
	ASSERT_LE(0, l4);
	l6 = aq_listen_tcp("::1", 0, 8, AQ_V6ONLY);
	if (l6 < 0)
		SKIP(return, "no IPv6 loopback: %s", strerror(-l6));
	c[nc++] = knock(_metadata, l4, "127.0.0.1");
	c[nc++] = knock(_metadata, l6, "::1");
	ASSERT_TRUE(has_row(_metadata, l4));
	ASSERT_TRUE(has_row(_metadata, l6));

	ASSERT_EQ(0, aq_ctl("filter family ipv6\n"));
	AQ_CTL_EXPECT_LINE("filter family", "ipv6");
	EXPECT_FALSE(has_row(_metadata, l4));
	EXPECT_TRUE(has_row(_metadata, l6));
	c[nc++] = left_out(_metadata, l4, "127.0.0.1");

	ASSERT_EQ(0, aq_ctl("filter family ipv4\n"));
	AQ_CTL_EXPECT_LINE("filter family", "ipv4");
	EXPECT_FALSE(has_row(_metadata, l6));
	c[nc++] = knock(_metadata, l4, "127.0.0.1");
	EXPECT_TRUE(has_row(_metadata, l4));
	c[nc++] = knock(_metadata, l6, "::1");
	EXPECT_FALSE(has_row(_metadata, l6));

	c[nc++] = filter_any(_metadata, "family", l6, "::1");
	aq_close_fds(c, nc);
	close(l4);
	close(l6);
}

AQ_NETNS_TEST(ctl, filter_family, AQ_RUN, filter_family_in_netns, NULL)

static void filter_kind_in_netns(struct __test_metadata *_metadata, void *arg)
{
	const char *ip = "127.0.0.1";
	static const char *const others[] = { "unix", "udp" };
	int l, c[8], nc = 0;
	unsigned int i;

	l = aq_listen_tcp(ip, 0, 8, 0);
	ASSERT_LE(0, l);
	c[nc++] = knock(_metadata, l, ip);

	ASSERT_EQ(0, aq_ctl("filter kind tcp\n"));
	AQ_CTL_EXPECT_LINE("filter kind", "tcp");
	EXPECT_TRUE(has_row(_metadata, l));
	c[nc++] = knock(_metadata, l, ip);
	EXPECT_TRUE(has_row(_metadata, l));

	for (i = 0; i < 2; i++) {
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "filter kind %s\n", others[i]);
		ASSERT_EQ(0, aq_ctl(cmd));
		AQ_CTL_EXPECT_LINE("filter kind", others[i]);
		EXPECT_FALSE(has_row(_metadata, l))
			TH_LOG("a TCP row kept under 'filter kind %s'",
			       others[i]);
		c[nc++] = left_out(_metadata, l, ip);
	}

	c[nc++] = filter_any(_metadata, "kind", l, ip);
	aq_close_fds(c, nc);
	close(l);
}

AQ_NETNS_TEST(ctl, filter_kind, AQ_RUN, filter_kind_in_netns, NULL)

/* Each filter line replaces its own criterion only. */
TEST_F(ctl, filter_lines_replace_one_criterion)
{
	ASSERT_EQ(0, aq_ctl("filter port 80,443\n"));
	ASSERT_EQ(0, aq_ctl("filter family ipv6\n"));
	ASSERT_EQ(0, aq_ctl("filter netns 4026531840\n"));
	ASSERT_EQ(0, aq_ctl("filter kind tcp\n"));
	AQ_CTL_EXPECT_LINE("filter port", "80,443");
	AQ_CTL_EXPECT_LINE("filter family", "ipv6");
	AQ_CTL_EXPECT_LINE("filter netns", "4026531840");
	AQ_CTL_EXPECT_LINE("filter kind", "tcp");
	ASSERT_EQ(0, aq_ctl("filter port any\n"));
	AQ_CTL_EXPECT_LINE("filter port", "any");
	AQ_CTL_EXPECT_LINE("filter family", "ipv6");
	AQ_CTL_EXPECT_LINE("filter netns", "4026531840");
	AQ_CTL_EXPECT_LINE("filter kind", "tcp");
}

/* ------------------------------------------------------------------ */
/* limits */

static long long sysfs_param(struct __test_metadata *_metadata,
			     const char *name)
{
	char path[128], buf[64];

	snprintf(path, sizeof(path), AQ_SYSFS_PATH "/parameters/%s", name);
	ASSERT_LT(0, aq_read_file(path, buf, sizeof(buf)));
	return strtoll(buf, NULL, 10);
}

static void max_listeners_in_netns(struct __test_metadata *_metadata,
				   void *arg)
{
	const char *ip = "127.0.0.1";
	struct aq_snap s = { 0 };
	int l[4], c[8], nc = 0, i;
	int64_t t0, u0, ue;
	char cmd[64];

	aq_snapshot(_metadata, &s);
	t0 = s.tracked;
	u0 = s.untracked_listens;
	aq_snap_free(&s);

	snprintf(cmd, sizeof(cmd), "max_listeners %" PRId64 "\n", t0 + 2);
	ASSERT_EQ(0, aq_ctl(cmd));
	EXPECT_EQ(t0 + 2, aq_ctl_value(_metadata, "max_listeners"));
	EXPECT_EQ(t0 + 2, sysfs_param(_metadata, "max_listeners"));

	for (i = 0; i < 4; i++) {
		l[i] = aq_listen_tcp(ip, 0, 8, 0);
		ASSERT_LE(0, l[i]);
	}
	aq_snapshot(_metadata, &s);
	EXPECT_EQ(t0 + 2, s.max_listeners);
	EXPECT_EQ(t0 + 2, s.tracked);
	EXPECT_EQ(u0 + 2, s.untracked_listens)
		TH_LOG("two listen() calls past the limit");
	EXPECT_NE(NULL, aq_find_row(&s, l[0]));
	EXPECT_NE(NULL, aq_find_row(&s, l[1]));
	EXPECT_EQ(NULL, aq_find_row(&s, l[2]));
	EXPECT_EQ(NULL, aq_find_row(&s, l[3]));
	ue = s.untracked_events;
	aq_snap_free(&s);

	/* Untracked: events counted; tracked: still exact. */
	c[nc++] = knock(_metadata, l[2], ip);
	c[nc++] = knock(_metadata, l[0], ip);
	c[nc++] = knock(_metadata, l[1], ip);
	aq_snapshot(_metadata, &s);
	EXPECT_LT(ue, s.untracked_events);
	EXPECT_EQ(NULL, aq_find_row(&s, l[2]));
	EXPECT_EQ(t0 + 2, s.tracked);
	aq_snap_free(&s);
	EXPECT_TRUE(has_row(_metadata, l[0]));
	EXPECT_TRUE(has_row(_metadata, l[1]));

	/* Room for one more: the next event tracks it. */
	snprintf(cmd, sizeof(cmd), "max_listeners %" PRId64 "\n", t0 + 3);
	ASSERT_EQ(0, aq_ctl(cmd));
	c[nc++] = knock(_metadata, l[3], ip);
	EXPECT_TRUE(has_row(_metadata, l[3]));
	c[nc++] = knock(_metadata, l[2], ip);
	EXPECT_FALSE(has_row(_metadata, l[2]));
	aq_close_fds(c, nc);
	for (i = 0; i < 4; i++)
		close(l[i]);
}

AQ_NETNS_TEST(ctl, max_listeners_limit, AQ_RUN, max_listeners_in_netns, NULL)

static void max_memory_in_netns(struct __test_metadata *_metadata, void *arg)
{
	static const struct {
		const char *word;
		long long bytes;
	} sizes[] = {
		{ "1M", 1LL << 20 }, { "2G", 2LL << 30 }, { "65536", 65536 },
		{ "100000", 100000 }, { "3m", 3LL << 20 }, { "1g", 1LL << 30 },
		{ "128k", 128LL << 10 }, { "64K", 65536 },
	};
	struct aq_snap s = { 0 };
	int l[400], n = 0, i;
	unsigned int k;
	int64_t u0;
	char cmd[64];

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		snprintf(cmd, sizeof(cmd), "max_memory %s\n", sizes[k].word);
		ASSERT_EQ(0, aq_ctl(cmd)) TH_LOG("%s", cmd);
		EXPECT_EQ(sizes[k].bytes, aq_ctl_value(_metadata, "max_memory"))
			TH_LOG("%s", cmd);
		EXPECT_EQ(sizes[k].bytes, sysfs_param(_metadata, "max_memory"));
	}

	/* 64K holds some listeners, not 400: the rest are untracked. */
	aq_snapshot(_metadata, &s);
	EXPECT_EQ(65536, s.max_memory_bytes);
	u0 = s.untracked_listens;
	aq_snap_free(&s);
	ASSERT_EQ(0, aq_raise_nofile(1024));
	for (n = 0; n < 400; n++) {
		l[n] = aq_listen_tcp("127.0.0.1", 0, 8, 0);
		ASSERT_LE(0, l[n]);
		if (n % 50 == 49) {
			aq_snapshot(_metadata, &s);
			ASSERT_GE(65536, s.memory_bytes)
				TH_LOG("after %d listeners", n + 1);
			if (s.untracked_listens > u0) {
				aq_snap_free(&s);
				n++;
				break;
			}
			aq_snap_free(&s);
		}
	}
	aq_snapshot(_metadata, &s);
	EXPECT_LT(u0, s.untracked_listens)
		TH_LOG("%d listeners all fit in 64K (memory_bytes %" PRId64 ")",
		       n, s.memory_bytes);
	EXPECT_GE(65536, s.memory_bytes);
	EXPECT_LT(0, s.nrows);
	EXPECT_EQ(n, s.nrows + s.untracked_listens - u0);
	aq_snap_free(&s);
	for (i = 0; i < n; i++)
		close(l[i]);
}

AQ_NETNS_TEST(ctl, max_memory_suffixes_and_limit, AQ_RUN, max_memory_in_netns,
	      NULL)

/* ------------------------------------------------------------------ */
/* Several commands in one write */

static void batch_in_netns(struct __test_metadata *_metadata, void *arg)
{
	const char *ip = "127.0.0.1";
	struct aq_snap s = { 0 };
	int cfd[4], lfd;
	struct aq_row *r;
	char cmd[256], want[16];

	lfd = busy_listener(_metadata, ip, cfd);
	ASSERT_LE(0, lfd);
	snprintf(cmd, sizeof(cmd),
		 "filter port %u\n\n# a comment\n  max_listeners 77\t\nmax_memory 2M\nfilter family ipv4\nreset\n",
		 aq_port_of(lfd));
	ASSERT_EQ(0, aq_ctl(cmd));
	snprintf(want, sizeof(want), "%u", aq_port_of(lfd));
	AQ_CTL_EXPECT_LINE("filter port", want);
	AQ_CTL_EXPECT_LINE("filter family", "ipv4");
	EXPECT_EQ(77, aq_ctl_value(_metadata, "max_listeners"));
	EXPECT_EQ(2 << 20, aq_ctl_value(_metadata, "max_memory"));
	aq_snapshot(_metadata, &s);
	r = aq_find_row(&s, lfd);
	ASSERT_NE(NULL, r);
	expect_zeroed(_metadata, r, aq_diag_rqueue(lfd));
	aq_snap_free(&s);

	/* Applied in order: disable then enable empties the table. */
	ASSERT_EQ(0, aq_ctl("disable\nenable\n"));
	EXPECT_EQ(1, aq_ctl_value(_metadata, "enabled"));
	aq_snapshot(_metadata, &s);
	EXPECT_EQ(0, s.nrows);
	aq_snap_free(&s);
	ASSERT_EQ(0, aq_ctl("enable\ndisable\n"));
	EXPECT_EQ(0, aq_ctl_value(_metadata, "enabled"));

	/* A write of only comments and empty lines changes nothing. */
	ASSERT_EQ(0, aq_ctl("# enable\n\n   \n#\n"));
	EXPECT_EQ(0, aq_ctl_value(_metadata, "enabled"));
	aq_close_fds(cfd, 3);
	close(lfd);
}

AQ_NETNS_TEST(ctl, several_commands_in_one_write, AQ_RUN, batch_in_netns, NULL)

AQ_TEST_HARNESS_MAIN
