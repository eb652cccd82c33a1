// SPDX-License-Identifier: GPL-2.0
/*
 * Many listeners:
 *  - churn: 10,000 listeners opened and closed by several threads (one in
 *    ten with a connection queued at close) while another thread reads
 *    /proc/aqueue in a loop: every read parses, the kernel logs no
 *    warning, no row outlives its socket, `tracked` returns to its
 *    baseline and the closed totals count every listener;
 *  - 10,000 listeners at once: all appear, each exactly once, when the file
 *    is read in 1 KiB pieces (seq_file restarts at every read) and in odd
 *    sized pieces;
 *  - the max_listeners limit: what does not fit is counted, not lost.
 */
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

#include "kselftest_harness.h"

#include "aq_clock.h"
#include "aq_diag.h"
#include "aq_file.h"
#include "aq_fixture.h"
#include "aq_klog.h"
#include "aq_module.h"
#include "aq_netns.h"
#include "aq_proc.h"
#include "aq_snap.h"
#include "aq_sock.h"
#include "aq_task.h"

#define NCHURN 10000
#define NWORKERS 4
#define NSCALE 10000

AQ_FIXTURE(scale, NULL, AQ_MODULE_OPTIONAL)

struct churn {
	bool module;
	atomic_int next;		/* listeners handed out */
	atomic_int workers_done;
	atomic_int queued;		/* listeners closed with one queued */
	atomic_int reads, bad_reads, max_rows;
	struct aq_errors err;
};

static void *churn_worker(void *p)
{
	struct churn *ch = p;
	int i;

	while ((i = atomic_fetch_add(&ch->next, 1)) < NCHURN) {
		int lfd = aq_listen_tcp("127.0.0.1", 0, 8, 0), cfd = -1;

		if (lfd < 0) {
			aq_error(&ch->err, "listener %d: %s", i,
				 strerror(-lfd));
			continue;
		}
		if (i % 10 == 0) {
			struct pollfd pf = { .fd = lfd, .events = POLLIN };

			cfd = aq_connect("127.0.0.1", aq_port_of(lfd));
			if (cfd < 0 || poll(&pf, 1, AQ_WAIT_MS) != 1)
				aq_error(&ch->err,
					 "listener %d: connection not queued",
					 i);
			else
				atomic_fetch_add(&ch->queued, 1);
		}
		close(lfd);
		if (cfd >= 0)
			close(cfd);
	}
	atomic_fetch_add(&ch->workers_done, 1);
	return NULL;
}

static void *churn_reader(void *p)
{
	struct churn *ch = p;
	int64_t end = aq_now_ns() + 300 * 1000000000LL;
	int pass;

	/* Bounded in count and time; normally ends with the workers. */
	for (pass = 0; pass < 100000 && aq_now_ns() < end; pass++) {
		bool last = atomic_load(&ch->workers_done) == NWORKERS;
		struct aq_snap s;
		size_t len;
		char *text;
		int err;

		/* 4 KiB reads: seq_file resumes mid-table under churn. */
		text = aq_read_chunked(AQ_PROC_PATH, 4096, &len, &err);
		if (!text) {
			aq_error(&ch->err, "read %d: %s", pass, strerror(-err));
			atomic_fetch_add(&ch->bad_reads, 1);
		} else {
			/* Rows and listener lines may come from different
			 * moments while listeners come and go: not strict. */
			if (aq_parse(text, &s, false)) {
				aq_error(&ch->err, "read %d: %s", pass, s.err);
				atomic_fetch_add(&ch->bad_reads, 1);
			} else if (s.nrows > atomic_load(&ch->max_rows)) {
				atomic_store(&ch->max_rows, s.nrows);
			}
			aq_snap_free(&s);
			free(text);
		}
		atomic_fetch_add(&ch->reads, 1);
		if (last)
			break;
	}
	return NULL;
}

static void churn_in_netns(struct __test_metadata *_metadata, void *argp)
{
	struct churn *ch = argp;
	const char *marker = "aqueue-selftest: listener churn";
	pthread_t worker[NWORKERS], reader;
	struct aq_snap s0, s1;
	int64_t ns = aq_netns_ino();
	char report[256];
	int i;

	if (ch->module) {
		aq_snapshot(_metadata, &s0);
		EXPECT_EQ(0, s0.nrows);
	}
	aq_klog_mark(marker);
	if (ch->module)
		ASSERT_EQ(0, pthread_create(&reader, NULL, churn_reader, ch));
	for (i = 0; i < NWORKERS; i++)
		ASSERT_EQ(0, pthread_create(&worker[i], NULL, churn_worker, ch));
	for (i = 0; i < NWORKERS; i++)
		pthread_join(worker[i], NULL);
	if (ch->module)
		pthread_join(reader, NULL);

	EXPECT_EQ(0, atomic_load(&ch->err.count))
		TH_LOG("%d errors, first: %s", atomic_load(&ch->err.count),
		       ch->err.first);
	EXPECT_EQ(NCHURN / 10, atomic_load(&ch->queued));
	EXPECT_EQ(0, aq_count_listeners(AF_INET));
	EXPECT_EQ(NULL, aq_klog_report_since(marker, report, sizeof(report)))
		TH_LOG("kernel reported: %s", report);
	if (!ch->module)
		return;
	TH_LOG("%d reads during the churn (%d bad), up to %d rows seen",
	       atomic_load(&ch->reads), atomic_load(&ch->bad_reads),
	       atomic_load(&ch->max_rows));
	EXPECT_LT(0, atomic_load(&ch->reads));

	aq_snapshot(_metadata, &s1);
	for (i = 0; i < s1.nrows; i++) {
		EXPECT_NE(ns, s1.rows[i].netns)
			TH_LOG("stale row %" PRId64 " %s (closed listener)",
			       s1.rows[i].id, s1.rows[i].local);
	}
	EXPECT_EQ(s0.tracked, s1.tracked);
	EXPECT_EQ(s0.closed_listeners + NCHURN, s1.closed_listeners);
	EXPECT_EQ(s0.closed_enqueued + NCHURN / 10, s1.closed_enqueued);
	EXPECT_EQ(s0.closed_drained + NCHURN / 10, s1.closed_drained);
	EXPECT_EQ(s0.closed_accepted, s1.closed_accepted);
	EXPECT_EQ(0, s1.untracked_listens);
	EXPECT_EQ(0, s1.missed);
	aq_snap_free(&s1);
	aq_snap_free(&s0);
}

TEST_F_TIMEOUT(scale, listener_churn_with_reader, 500)
{
	struct churn *ch = aq_shared_alloc(sizeof(*ch));

	ASSERT_NE(NULL, ch);
	ch->module = self->c.module;
	aq_in_netns(_metadata, churn_in_netns, ch);
	AQ_FINISH(&self->c);
}

/* ------------------------------------------------------------------ */

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/*
 * Checks that the rows of namespace ns are exactly the listeners on
 * `ports` (sorted), each once.
 */
static void expect_rows_are(struct __test_metadata *_metadata,
			    const struct aq_snap *s, int64_t ns,
			    const uint16_t *ports, int n)
{
	uint16_t *seen = calloc(s->nrows + 1, sizeof(*seen));
	int i, k = 0, dup = 0, missing = 0;

	ASSERT_NE(NULL, seen);
	for (i = 0; i < s->nrows; i++) {
		const struct aq_row *r = &s->rows[i];
		unsigned int port;

		if (r->netns != ns)
			continue;
		ASSERT_EQ(1, sscanf(r->local, "127.0.0.1:%u", &port))
			TH_LOG("row %" PRId64 ": local %s", r->id, r->local);
		seen[k++] = port;
	}
	qsort(seen, k, sizeof(*seen), cmp_u16);
	for (i = 1; i < k; i++)
		if (seen[i] == seen[i - 1])
			dup++;
	for (i = 0; i < n; i++)
		if (!bsearch(&ports[i], seen, k, sizeof(*seen), cmp_u16))
			missing++;
	EXPECT_EQ(n, k);
	EXPECT_EQ(0, dup);
	EXPECT_EQ(0, missing);
	free(seen);
}

static void many_in_netns(struct __test_metadata *_metadata, void *argp)
{
	struct aq_ctx *c = argp;
	static int lfd[NSCALE];
	static uint16_t ports[NSCALE];
	int64_t ns = aq_netns_ino();
	struct aq_snap s0, s, s2, s3;
	int i;

	ASSERT_EQ(0, aq_raise_nofile(NSCALE + 256));
	if (c->module)
		aq_snapshot(_metadata, &s0);
	for (i = 0; i < NSCALE; i++) {
		lfd[i] = aq_listen_tcp("127.0.0.1", 0, 16, 0);
		ASSERT_LE(0, lfd[i]) TH_LOG("listener %d: %s", i,
					    strerror(-lfd[i]));
		ports[i] = aq_port_of(lfd[i]);
	}
	qsort(ports, NSCALE, sizeof(ports[0]), cmp_u16);
	EXPECT_EQ(NSCALE, aq_count_listeners(AF_INET));

	if (c->module) {
		int64_t t0 = aq_now_ns();

		/* 1 KiB reads: a seq_file restart every kilobyte. */
		aq_snapshot_chunked(_metadata, &s, 1024);
		TH_LOG("%d rows, %zu bytes, read in 1 KiB pieces in %" PRId64 " ms",
		       s.nrows, s.bytes, (aq_now_ns() - t0) / 1000000);
		expect_rows_are(_metadata, &s, ns, ports, NSCALE);
		EXPECT_EQ(s0.tracked + NSCALE, s.tracked);
		EXPECT_EQ(0, s.untracked_listens);

		/* Pieces that end anywhere within a line. */
		aq_snapshot_chunked(_metadata, &s2, 777);
		expect_rows_are(_metadata, &s2, ns, ports, NSCALE);
		/* The same listeners under the same ids. */
		EXPECT_EQ(s.nrows, s2.nrows);
		for (i = 0; i < s.nrows && i < s2.nrows; i++) {
			EXPECT_EQ(s.rows[i].id, s2.rows[i].id);
			EXPECT_STREQ(s.rows[i].local, s2.rows[i].local);
		}
		aq_snap_free(&s2);
		aq_snap_free(&s);
	}
	for (i = 0; i < NSCALE; i++)
		close(lfd[i]);
	if (c->module) {
		aq_snapshot(_metadata, &s3);
		expect_rows_are(_metadata, &s3, ns, ports, 0);
		EXPECT_EQ(s0.tracked, s3.tracked);
		EXPECT_EQ(s0.closed_listeners + NSCALE, s3.closed_listeners);
		aq_snap_free(&s3);
		aq_snap_free(&s0);
	}
}

TEST_F_TIMEOUT(scale, ten_thousand_listeners, 500)
{
	char buf[64];

	if (self->c.module &&
	    aq_read_file(AQ_SYSFS_PATH "/parameters/max_listeners", buf,
			 sizeof(buf)) > 0 && atoi(buf) < NSCALE + 64) {
		/* The default is below the test's need: raise it. */
		ASSERT_EQ(0, aq_unload());
		ASSERT_EQ(0, aq_load("max_listeners=20000"));
	}
	aq_in_netns(_metadata, many_in_netns, &self->c);
	AQ_FINISH(&self->c);
}

/* ------------------------------------------------------------------ */

AQ_FIXTURE(limit, "max_listeners=5", AQ_MODULE_OPTIONAL)

/*
 * With room for 5, 8 listeners: 5 rows, 3 untracked listens, and queue
 * events on an untracked listener counted as untracked events. A slot
 * freed by a close is used again.
 */
static void limit_in_netns(struct __test_metadata *_metadata, void *argp)
{
	struct aq_ctx *c = argp;
	int lfd[8], cfd = -1, i, untracked = -1, again;
	int64_t ns = aq_netns_ino();
	struct aq_snap s, s2, s3;

	if (!c->module)
		return;
	aq_snapshot(_metadata, &s);
	ASSERT_EQ(5, s.max_listeners);
	ASSERT_EQ(0, s.tracked);
	aq_snap_free(&s);
	for (i = 0; i < 8; i++) {
		lfd[i] = aq_listen_tcp("127.0.0.1", 0, 4, 0);
		ASSERT_LE(0, lfd[i]);
	}
	aq_snapshot(_metadata, &s);
	EXPECT_EQ(5, s.tracked);
	EXPECT_EQ(5, s.nrows);
	EXPECT_EQ(3, s.untracked_listens);
	for (i = 0; i < 8; i++) {
		char local[96];

		aq_local_str(lfd[i], local, sizeof(local));
		if (!aq_count_rows(&s, ns, "tcp", local)) {
			untracked = i;
			break;
		}
	}
	ASSERT_LE(0, untracked);
	cfd = aq_connect("127.0.0.1", aq_port_of(lfd[untracked]));
	ASSERT_LE(0, cfd);
	ASSERT_EQ(1, aq_wait_rqueue(lfd[untracked], 1));
	aq_snapshot(_metadata, &s2);
	EXPECT_LT(s.untracked_events, s2.untracked_events);
	EXPECT_EQ(5, s2.tracked);

	/* Free a tracked slot: the next listener fits. */
	for (i = 0; i < 8; i++) {
		char local[96];

		aq_local_str(lfd[i], local, sizeof(local));
		if (aq_count_rows(&s, ns, "tcp", local))
			break;
	}
	ASSERT_GT(8, i);
	close(lfd[i]);
	lfd[i] = -1;
	again = aq_listen_tcp("127.0.0.1", 0, 4, 0);
	ASSERT_LE(0, again);
	aq_snapshot(_metadata, &s3);
	EXPECT_EQ(5, s3.tracked);
	EXPECT_EQ(3, s3.untracked_listens);
	aq_row_of(_metadata, &s3, again);
	aq_snap_free(&s3);
	aq_snap_free(&s2);
	aq_snap_free(&s);
	close(again);
	close(cfd);
	for (i = 0; i < 8; i++)
		if (lfd[i] >= 0)
			close(lfd[i]);
}

AQ_NETNS_TEST(limit, untracked_counted_not_lost, AQ_RUN_THEN_FINISH,
	      limit_in_netns, &self->c)

AQ_TEST_HARNESS_MAIN
