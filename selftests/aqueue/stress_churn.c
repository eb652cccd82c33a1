// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency and limits:
 *
 *  - churn: threads open and close listeners (some with connections
 *    queued or accepted at close) while a thread reads /proc/aqueue in a
 *    loop and another writes the control file concurrently: disable,
 *    enable, reset, reset of ids it saw, filters, and both limits up and
 *    down. Every control write of a valid command must be taken (ENOENT
 *    allowed for `reset ID` of a row that went), every read must parse
 *    and its complete rows satisfy the format's identities; at the end,
 *    with the filters and limits back, no row outlives its socket, no
 *    listener is tracked, and memory_bytes goes back to 0 (the module's
 *    own account of what it holds), with nothing in the kernel log;
 *
 *  - memory limit: with max_memory lowered below what the tracked rows
 *    already hold, no row is freed (all still shown, memory_bytes
 *    unchanged), further listeners are counted as untracked, tracked
 *    listeners keep counting exactly (sock_diag's queue, the accepts the
 *    test made; waits that could not get a timestamp slot are counted as
 *    untimed), and once enough listeners closed a new one is tracked
 *    again; closing all gives memory_bytes 0.
 */
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>

#include "kselftest_harness.h"

#include "aq_clock.h"
#include "aq_ctl.h"
#include "aq_diag.h"
#include "aq_fill.h"
#include "aq_fixture.h"
#include "aq_hist.h"
#include "aq_invariants.h"
#include "aq_klog.h"
#include "aq_module.h"
#include "aq_netns.h"
#include "aq_proc.h"
#include "aq_rng.h"
#include "aq_snap.h"
#include "aq_sock.h"
#include "aq_task.h"

#define NLISTENERS 5000
#define NWORKERS 4

AQ_FIXTURE(churn, NULL, AQ_MODULE_REQUIRED)

struct churn {
	atomic_int next, workers_done;
	atomic_long reads, rows_seen, ctl_writes, ctl_enoent, flips;
	atomic_long last_id;
	struct aq_errors err;
};

static void *worker(void *p)
{
	struct churn *ch = p;
	int i;

	while ((i = atomic_fetch_add(&ch->next, 1)) < NLISTENERS) {
		int lfd = aq_listen_tcp("127.0.0.1", 0, 8, 0), c[2] = { -1, -1 };

		if (lfd < 0) {
			aq_error(&ch->err, "listener %d: %s", i, strerror(-lfd));
			continue;
		}
		if (i % 5 == 0) {
			struct pollfd pf = { .fd = lfd, .events = POLLIN };

			c[0] = aq_connect("127.0.0.1", aq_port_of(lfd));
			c[1] = aq_connect("127.0.0.1", aq_port_of(lfd));
			if (c[0] < 0 || c[1] < 0 || poll(&pf, 1, AQ_WAIT_MS) != 1)
				aq_error(&ch->err, "listener %d: not queued", i);
			else if (i % 10 == 0)
				close(accept4(lfd, NULL, NULL, SOCK_CLOEXEC));
		}
		close(lfd);
		aq_close_rst(c[0]);
		aq_close_rst(c[1]);
	}
	atomic_fetch_add(&ch->workers_done, 1);
	return NULL;
}

static void *reader(void *p)
{
	struct churn *ch = p;

	while (atomic_load(&ch->workers_done) < NWORKERS) {
		char why[512];
		struct aq_snap s;
		int i;

		if (aq_try_snapshot(&s, false, why, sizeof(why))) {
			aq_error(&ch->err, "read: %s", why);
			continue;
		}
		for (i = 0; i < s.nrows; i++) {
			const struct aq_row *r = &s.rows[i];

			if (r->have_detail && r->have_qlen && r->have_wait &&
			    aq_row_invariants(r, false, why, sizeof(why)))
				aq_error(&ch->err, "row: %s", why);
			atomic_store(&ch->last_id, r->id);
		}
		atomic_fetch_add(&ch->rows_seen, s.nrows);
		atomic_fetch_add(&ch->reads, 1);
		aq_snap_free(&s);
	}
	return NULL;
}

static void *controller(void *p)
{
	struct churn *ch = p;
	struct aq_rng rng = { aq_seed() };
	while (atomic_load(&ch->workers_done) < NWORKERS) {
		char cmd[128];
		int k = aq_rand_below(&rng, 100), ret;
		bool reset_id = false;

		if (k < 10) {
			/* A flip costs kprobe (un)registration: not too often. */
			snprintf(cmd, sizeof(cmd), "disable\n");
			atomic_fetch_add(&ch->flips, 1);
		} else if (k < 20) {
			snprintf(cmd, sizeof(cmd), "enable\n");
		} else if (k < 30) {
			snprintf(cmd, sizeof(cmd), "reset\n");
		} else if (k < 50) {
			/* Ids start at 1: a row seen, or one just after. */
			snprintf(cmd, sizeof(cmd), "reset %ld\n",
				 atomic_load(&ch->last_id) + 1 -
				 (long)aq_rand_below(&rng, 2));
			if (!strcmp(cmd, "reset 0\n"))
				snprintf(cmd, sizeof(cmd), "reset 1\n");
			reset_id = true;
		} else if (k < 60) {
			snprintf(cmd, sizeof(cmd), "filter port %u,%u\n",
				 1024 + (unsigned int)aq_rand_below(&rng, 60000),
				 1024 + (unsigned int)aq_rand_below(&rng, 60000));
		} else if (k < 70) {
			snprintf(cmd, sizeof(cmd), "filter port any\nfilter family %s\n",
				 aq_chance(&rng, 1, 2) ? "any" : "ipv4");
		} else if (k < 80) {
			snprintf(cmd, sizeof(cmd), "max_listeners %u\n",
				 aq_chance(&rng, 1, 2) ? 3 : 65536);
		} else if (k < 90) {
			snprintf(cmd, sizeof(cmd), "max_memory %s\n",
				 aq_chance(&rng, 1, 2) ? "64K" : "128M");
		} else {
			snprintf(cmd, sizeof(cmd), "reset\nfilter kind %s\n",
				 aq_chance(&rng, 1, 2) ? "tcp" : "any");
		}
		ret = aq_control(cmd);
		if (ret == -ENOENT && reset_id)
			atomic_fetch_add(&ch->ctl_enoent, 1);
		else if (ret)
			aq_error(&ch->err, "control '%.*s': %s",
				 (int)strcspn(cmd, "\n"), cmd, strerror(-ret));
		else
			atomic_fetch_add(&ch->ctl_writes, 1);
		usleep(2000);
	}
	return NULL;
}

/* Waits (bounded) until memory_bytes reads `want`: RCU frees rows late. */
static int64_t wait_memory(struct __test_metadata *_metadata, int64_t want)
{
	int64_t end = aq_now_ns() + AQ_WAIT_MS * 1000000LL, seen;

	for (;;) {
		struct aq_snap s;

		aq_snapshot(_metadata, &s);
		seen = s.memory_bytes;
		aq_snap_free(&s);
		if (seen == want || aq_now_ns() > end)
			return seen;
		usleep(10000);
	}
}

static void churn_in_netns(struct __test_metadata *_metadata, void *arg)
{
	const char *marker = "aqueue-selftest: stress_churn";
	struct churn *ch = calloc(1, sizeof(*ch));
	pthread_t w[NWORKERS], rd, ctl;
	int64_t ns = aq_netns_ino(), t0 = aq_now_ns();
	char report[512];
	struct aq_snap s;
	int i;

	ASSERT_NE(NULL, ch);
	aq_klog_mark(marker);
	ASSERT_EQ(0, pthread_create(&rd, NULL, reader, ch));
	ASSERT_EQ(0, pthread_create(&ctl, NULL, controller, ch));
	for (i = 0; i < NWORKERS; i++)
		ASSERT_EQ(0, pthread_create(&w[i], NULL, worker, ch));
	for (i = 0; i < NWORKERS; i++)
		pthread_join(w[i], NULL);
	pthread_join(rd, NULL);
	pthread_join(ctl, NULL);

	TH_LOG("%d listeners in %lld ms: %ld reads (%ld rows), %ld control writes taken (%ld disable), %ld reset ID of a row gone",
	       NLISTENERS, (long long)(aq_now_ns() - t0) / 1000000,
	       atomic_load(&ch->reads), atomic_load(&ch->rows_seen),
	       atomic_load(&ch->ctl_writes), atomic_load(&ch->flips),
	       atomic_load(&ch->ctl_enoent));
	EXPECT_EQ(0, atomic_load(&ch->err.count))
		TH_LOG("%d errors, first: %s", atomic_load(&ch->err.count),
		       ch->err.first);
	EXPECT_LT(0, atomic_load(&ch->reads));
	EXPECT_LT(0, atomic_load(&ch->ctl_writes));

	/* Back to tracking everything: no row may be left of a closed
	 * listener, and what the module holds goes back to nothing. */
	ASSERT_EQ(0, aq_ctl("filter port any\nfilter family any\nfilter kind any\nmax_listeners 65536\nmax_memory 128M\nenable\n"));
	EXPECT_EQ(0, aq_count_listeners(AF_INET));
	aq_snapshot(_metadata, &s);
	for (i = 0; i < s.nrows; i++)
		EXPECT_NE(ns, s.rows[i].netns)
			TH_LOG("row %" PRId64 " (%s) outlived its listener",
			       s.rows[i].id, s.rows[i].local);
	EXPECT_EQ(0, s.tracked);
	aq_snap_free(&s);
	EXPECT_EQ(0, wait_memory(_metadata, 0))
		TH_LOG("memory_bytes with no listener tracked");
	EXPECT_EQ(NULL, aq_klog_report_since(marker, report, sizeof(report)))
		TH_LOG("kernel reported: %s", report);
	free(ch);
}

AQ_NETNS_TEST_TIMEOUT(churn, listeners_readers_and_control_at_once, 400,
		      AQ_RUN_IF_MODULE, churn_in_netns, NULL)

/* ------------------------------------------------------------------ */

static void accept_n(struct __test_metadata *_metadata, int lfd, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		int a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		ASSERT_LE(0, a);
		close(a);
	}
}

static void memory_in_netns(struct __test_metadata *_metadata, void *arg)
{
	static int l[400];
	bool rt = aq_kernel_preempt_rt();
	int cfd[16], n = 0, i, x, y, closed;
	struct aq_snap s, s2;
	struct aq_row *r;
	int64_t m0, entry, rows0, u0, e0;

	ASSERT_EQ(0, aq_raise_nofile(1024));
	ASSERT_EQ(0, aq_ctl("max_memory 1M\n"));
	/* Enough rows to hold more than 64K. */
	for (;;) {
		l[n] = aq_listen_tcp("127.0.0.1", 0, 16, 0);
		ASSERT_LE(0, l[n]);
		n++;
		if (n % 20)
			continue;
		aq_snapshot(&*_metadata, &s);
		m0 = s.memory_bytes;
		aq_snap_free(&s);
		if (m0 > 80 * 1024 || n == 400)
			break;
	}
	ASSERT_LT(80 * 1024, m0) TH_LOG("%d rows hold only %" PRId64 " bytes", n, m0);
	/* No ring yet: every row costs the same. */
	ASSERT_EQ(0, m0 % n);
	entry = m0 / n;

	/* A ring on l[0]: 10 queued, accepted, timed. */
	aq_fill(_metadata, l[0], "127.0.0.1", cfd, 10, 0);
	accept_n(_metadata, l[0], 10);
	aq_close_fds(cfd, 10);
	aq_snapshot(_metadata, &s);
	ASSERT_LT(m0, s.memory_bytes) TH_LOG("the ring is not charged");
	m0 = s.memory_bytes;
	rows0 = s.nrows;
	u0 = s.untracked_listens;
	e0 = s.untracked_events;
	ASSERT_EQ(n, rows0);
	aq_snap_free(&s);

	/* Below what is held: nothing is freed. */
	ASSERT_EQ(0, aq_ctl("max_memory 64K\n"));
	aq_snapshot(_metadata, &s);
	EXPECT_EQ(65536, s.max_memory_bytes);
	EXPECT_EQ(rows0, s.nrows);
	EXPECT_EQ(m0, s.memory_bytes);
	aq_snap_free(&s);

	/* A new listener does not fit: untracked, counted. */
	x = aq_listen_tcp("127.0.0.1", 0, 16, 0);
	ASSERT_LE(0, x);
	aq_snapshot(_metadata, &s);
	EXPECT_EQ(u0 + 1, s.untracked_listens);
	EXPECT_EQ(NULL, aq_find_row(&s, x));
	aq_snap_free(&s);

	/*
	 * Tracked ones keep counting. l[1] has no ring and cannot get one:
	 * its waits are untimed; l[0]'s ring has room: timed. On PREEMPT_RT
	 * every row got a ring for its backlog when it was published.
	 */
	aq_fill(_metadata, l[1], "127.0.0.1", cfd, 5, 0);
	aq_fill(_metadata, l[0], "127.0.0.1", &cfd[5], 5, 0);
	aq_fill(_metadata, x, "127.0.0.1", &cfd[10], 2, 0);
	aq_snapshot(_metadata, &s);
	r = aq_find_row(&s, l[1]);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(aq_diag_rqueue(l[1]), r->qnow);
	EXPECT_EQ(5, r->qnow);
	EXPECT_EQ(5, r->enqueued);
	EXPECT_LT(e0, s.untracked_events) TH_LOG("events of the untracked listener");
	EXPECT_EQ(m0, s.memory_bytes) TH_LOG("charged past the limit");
	aq_snap_free(&s);
	accept_n(_metadata, l[1], 5);
	accept_n(_metadata, l[0], 5);
	aq_snapshot(_metadata, &s);
	r = aq_find_row(&s, l[1]);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(0, r->qnow);
	EXPECT_EQ(5, r->accepted);
	EXPECT_EQ(rt ? 0 : 5, r->untimed);
	EXPECT_EQ(rt ? 5 : 0, aq_hist_total(&r->wait));
	r = aq_find_row(&s, l[0]);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(15, r->accepted);
	EXPECT_EQ(0, r->untimed);
	EXPECT_EQ(15, aq_hist_total(&r->wait));
	aq_snap_free(&s);
	aq_close_fds(cfd, 12);

	/* Close rows until there is room for one more, then one more fits. */
	closed = 0;
	for (i = n - 1; i >= 2 && m0 - closed * entry + entry > 65536; i--) {
		close(l[i]);
		l[i] = -1;
		closed++;
	}
	wait_memory(_metadata, m0 - closed * entry);
	aq_snapshot(_metadata, &s);
	EXPECT_EQ(m0 - closed * entry, s.memory_bytes);
	EXPECT_EQ(rows0 - closed, s.nrows);
	aq_snap_free(&s);
	y = aq_listen_tcp("127.0.0.1", 0, 16, 0);
	ASSERT_LE(0, y);
	aq_snapshot(_metadata, &s2);
	EXPECT_NE(NULL, aq_find_row(&s2, y)) TH_LOG("no row though there is room");
	EXPECT_GE(65536, s2.memory_bytes);
	EXPECT_EQ(u0 + 1, s2.untracked_listens);
	aq_snap_free(&s2);

	/* All gone: nothing held. */
	for (i = 0; i < n; i++)
		if (l[i] >= 0)
			close(l[i]);
	close(x);
	close(y);
	EXPECT_EQ(0, wait_memory(_metadata, 0));
}

AQ_NETNS_TEST(churn, memory_limit_lowered_below_use, AQ_RUN_IF_MODULE,
	      memory_in_netns, NULL)

AQ_TEST_HARNESS_MAIN
