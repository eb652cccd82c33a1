// SPDX-License-Identifier: GPL-2.0
/*
 * Time in the accept queue, measured against CLOCK_MONOTONIC in the test,
 * and blocking accept() at scale.
 *
 * A connection's wait (enqueue to accept()) is known to lie in
 *   [lower, upper] = [accept() called - child seen queued (poll POLLIN),
 *                     accept() returned - connect() called]
 * so the histogram bucket that aqueue puts it in must intersect that
 * interval; max_us, wait_sum_ns and the queue-length integral must fall in
 * it too. No timing threshold: the bounds come from the same clock.
 */
#include <dirent.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"

#include "aq_clock.h"
#include "aq_diag.h"
#include "aq_file.h"
#include "aq_fixture.h"
#include "aq_hist.h"
#include "aq_netns.h"
#include "aq_oracle.h"
#include "aq_proc.h"
#include "aq_snap.h"
#include "aq_sock.h"

struct bracket {
	int64_t lower, upper;
};

/* Waits (bounded) until the listener has a child to accept. */
static int wait_acceptable(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	return poll(&p, 1, AQ_WAIT_MS) == 1 ? 0 : -1;
}

/* The bucket low edges where after has one more sample than before. */
static int new_samples(const struct aq_hist *before,
		       const struct aq_hist *after, int64_t *low, int max)
{
	int i, n = 0;

	for (i = 0; i < after->n; i++) {
		int64_t d = after->count[i] - aq_hist_get(before, after->low[i]);

		while (d-- > 0 && n < max)
			low[n++] = after->low[i];
	}
	return n;
}

static void expect_bucket_in(struct __test_metadata *_metadata, int64_t low,
			     const struct bracket *b)
{
	int64_t hi = aq_wait_bucket_hi(low);

	EXPECT_TRUE(low <= b->upper && hi > b->lower)
		TH_LOG("wait bucket [%" PRId64 ", %" PRId64 ") ns misses the measured [%" PRId64 ", %" PRId64 "] ns",
		       low, hi, b->lower, b->upper);
}

AQ_FIXTURE(wait, NULL, AQ_MODULE_OPTIONAL)

FIXTURE_VARIANT(wait) {
	int64_t delay_ns;
};

FIXTURE_VARIANT_ADD(wait, d10ms) { .delay_ns = 10000000 };
FIXTURE_VARIANT_ADD(wait, d200ms) { .delay_ns = 200000000 };
FIXTURE_VARIANT_ADD(wait, d1s) { .delay_ns = 1000000000 };

struct wait_arg {
	struct aq_ctx *c;
	int64_t delay_ns;
};

static void one_wait_in_netns(struct __test_metadata *_metadata, void *argp)
{
	struct wait_arg *arg = argp;
	int64_t t0, t1, t2, t3, edge;
	struct bracket b;
	struct aq_snap s;
	struct aq_row *r;
	int lfd, cfd, afd;

	lfd = aq_listen_tcp("127.0.0.1", 0, 4, 0);
	ASSERT_LE(0, lfd);
	t0 = aq_now_ns();
	cfd = aq_connect("127.0.0.1", aq_port_of(lfd));
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, wait_acceptable(lfd));
	t1 = aq_now_ns();
	aq_sleep_ns(arg->delay_ns);
	t2 = aq_now_ns();
	afd = accept(lfd, NULL, NULL);
	t3 = aq_now_ns();
	ASSERT_LE(0, afd);
	b.lower = t2 - t1;
	b.upper = t3 - t0;
	TH_LOG("measured wait in [%" PRId64 ", %" PRId64 "] ns", b.lower,
	       b.upper);

	if (arg->c->module) {
		int64_t lo_us = b.lower / 1000, hi_us = (b.upper + 999) / 1000;

		aq_snapshot(_metadata, &s);
		r = aq_row_of(_metadata, &s, lfd);
		EXPECT_EQ(1, r->enqueued);
		EXPECT_EQ(1, r->accepted);
		EXPECT_EQ(0, r->untimed);
		ASSERT_EQ(1, r->wait.n) TH_LOG("one wait, %d buckets", r->wait.n);
		EXPECT_EQ(1, r->wait.count[0]);
		expect_bucket_in(_metadata, r->wait.low[0], &b);
		EXPECT_LE(lo_us, r->max_us);
		EXPECT_GE(hi_us, r->max_us);
		EXPECT_LE(b.lower, r->wait_sum_ns);
		EXPECT_GE(b.upper, r->wait_sum_ns);
		/* One connection queued alone: the integral is its wait. */
		EXPECT_LE(b.lower, r->qlen_area_ns);
		EXPECT_GE(b.upper, r->qlen_area_ns);
		/*
		 * One sample: p50 = p99 = its wait, the longest, which is
		 * below its bucket's upper edge.
		 */
		edge = aq_wait_bucket_hi(r->wait.low[0]);
		EXPECT_EQ(r->max_us, r->p50_us)
			TH_LOG("p50_us %" PRId64 ", max_us %" PRId64 ", bucket edge %" PRId64 " ns",
			       r->p50_us, r->max_us, edge);
		EXPECT_GT((edge + 999) / 1000, r->p50_us);
		EXPECT_EQ(r->p50_us, r->p99_us);
		aq_snap_free(&s);
	}
	close(afd);
	close(cfd);
	close(lfd);
}

AQ_NETNS_TEST(wait, bucket_brackets_known_delay, AQ_RUN_THEN_FINISH,
	      one_wait_in_netns,
	      &(struct wait_arg){ &self->c, variant->delay_ns })

/* ------------------------------------------------------------------ */

AQ_FIXTURE(tcpw, NULL, AQ_MODULE_OPTIONAL)

/*
 * Enqueue times are matched to accepts in FIFO order: c1 waits 300 ms
 * before c2 arrives, then accept() takes c1 at once (long wait) and c2 after
 * another 20 ms (short wait). Matching by arrival order the other way round
 * would swap the two buckets; each accept's new sample is checked alone.
 */
static void fifo_in_netns(struct __test_metadata *_metadata, void *argp)
{
	struct aq_ctx *c = argp;
	int64_t before[2], queued[2], a0, a1, got[4];
	struct aq_snap s0, s1, s2;
	const struct aq_hist *prev, *cur;
	int lfd, cfd[2], afd[2], i;
	struct bracket b;

	lfd = aq_listen_tcp("127.0.0.1", 0, 4, 0);
	ASSERT_LE(0, lfd);
	for (i = 0; i < 2; i++) {
		before[i] = aq_now_ns();
		cfd[i] = aq_connect("127.0.0.1", aq_port_of(lfd));
		ASSERT_LE(0, cfd[i]);
		ASSERT_EQ(i + 1, aq_wait_rqueue(lfd, i + 1));
		queued[i] = aq_now_ns();
		if (i == 0)
			aq_sleep_ns(300000000);
	}
	if (c->module)
		aq_snapshot(_metadata, &s0);
	for (i = 0; i < 2; i++) {
		if (i == 1)
			aq_sleep_ns(20000000);
		a0 = aq_now_ns();
		afd[i] = accept(lfd, NULL, NULL);
		a1 = aq_now_ns();
		ASSERT_LE(0, afd[i]);
		b.lower = a0 - queued[i];
		b.upper = a1 - before[i];
		if (!c->module)
			continue;
		aq_snapshot(_metadata, i == 0 ? &s1 : &s2);
		prev = &aq_row_of(_metadata, i == 0 ? &s0 : &s1, lfd)->wait;
		cur = &aq_row_of(_metadata, i == 0 ? &s1 : &s2, lfd)->wait;
		ASSERT_EQ(1, new_samples(prev, cur, got, 4))
			TH_LOG("accept %d did not add exactly one wait", i);
		TH_LOG("accept %d: measured [%" PRId64 ", %" PRId64 "] ns, bucket %" PRId64,
		       i, b.lower, b.upper, got[0]);
		expect_bucket_in(_metadata, got[0], &b);
	}
	if (c->module) {
		aq_snap_free(&s0);
		aq_snap_free(&s1);
		aq_snap_free(&s2);
	}
	for (i = 0; i < 2; i++) {
		close(afd[i]);
		close(cfd[i]);
	}
	close(lfd);
}

AQ_NETNS_TEST(tcpw, waits_matched_fifo, AQ_RUN_THEN_FINISH, fifo_in_netns,
	      &self->c)

/* ------------------------------------------------------------------ */

#define NACCEPTORS 2000

struct acceptors {
	int lfd;
	atomic_int entering;	/* about to call accept() */
	atomic_int accepted;
	atomic_int failed;
	int fd[NACCEPTORS];
};

static void *acceptor(void *p)
{
	struct acceptors *a = p;
	int fd, slot;

	atomic_fetch_add(&a->entering, 1);
	fd = accept(a->lfd, NULL, NULL);
	if (fd < 0) {
		atomic_fetch_add(&a->failed, 1);
		return NULL;
	}
	slot = atomic_fetch_add(&a->accepted, 1);
	if (slot < NACCEPTORS)
		a->fd[slot] = fd;
	return NULL;
}

/* Threads of this process now asleep in accept()/accept4(). */
static int count_blocked_in_accept(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char path[300], buf[128], state = 0;
		const char *paren;
		long nr;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/syscall",
			 e->d_name);
		if (aq_read_file(path, buf, sizeof(buf)) <= 0)
			continue;
		nr = strtol(buf, NULL, 10);
		if (nr != SYS_accept && nr != SYS_accept4)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat",
			 e->d_name);
		if (aq_read_file(path, buf, sizeof(buf)) <= 0)
			continue;
		paren = strrchr(buf, ')');
		if (paren && paren[1] == ' ')
			state = paren[2];
		if (state == 'S')
			n++;
	}
	closedir(d);
	return n;
}

/*
 * 2,000 threads asleep in accept() on one listener (each holds a kretprobe
 * instance on inet_csk_accept for its whole sleep), then 2,000 connections:
 * every one must be counted as accepted, with a time in queue, and the
 * module must report no miss.
 */
static void blocked_in_netns(struct __test_metadata *_metadata, void *argp)
{
	struct aq_ctx *c = argp;
	static int cfd[NACCEPTORS];
	struct acceptors *a;
	pthread_t *tid;
	pthread_attr_t attr;
	struct aq_snap s;
	struct aq_oracle o;
	int i, blocked = 0, started = 0;
	int64_t end;

	ASSERT_EQ(0, aq_raise_nofile(2 * NACCEPTORS + 64));
	a = calloc(1, sizeof(*a));
	tid = calloc(NACCEPTORS, sizeof(*tid));
	ASSERT_TRUE(a && tid);
	a->lfd = aq_listen_tcp("127.0.0.1", 0, 4096, 0);
	ASSERT_LE(0, a->lfd);

	ASSERT_EQ(0, pthread_attr_init(&attr));
	ASSERT_EQ(0, pthread_attr_setstacksize(&attr, 64 * 1024));
	for (i = 0; i < NACCEPTORS; i++) {
		if (pthread_create(&tid[i], &attr, acceptor, a))
			break;
		started++;
	}
	ASSERT_EQ(NACCEPTORS, started) TH_LOG("pthread_create: %s",
					      strerror(errno));
	end = aq_now_ns() + 120 * 1000000000LL;
	while (aq_now_ns() < end) {
		if (atomic_load(&a->entering) == NACCEPTORS) {
			blocked = count_blocked_in_accept();
			if (blocked == NACCEPTORS)
				break;
		}
		usleep(20000);
	}
	ASSERT_EQ(NACCEPTORS, blocked)
		TH_LOG("%d of %d threads asleep in accept()", blocked,
		       NACCEPTORS);

	for (i = 0; i < NACCEPTORS; i++) {
		cfd[i] = aq_connect("127.0.0.1", aq_port_of(a->lfd));
		ASSERT_LE(0, cfd[i]) TH_LOG("connect %d: %s", i,
					    strerror(-cfd[i]));
	}
	end = aq_now_ns() + 120 * 1000000000LL;
	while (atomic_load(&a->accepted) + atomic_load(&a->failed) <
	       NACCEPTORS && aq_now_ns() < end)
		usleep(20000);
	ASSERT_EQ(NACCEPTORS, atomic_load(&a->accepted))
		TH_LOG("%d accepted, %d failed", atomic_load(&a->accepted),
		       atomic_load(&a->failed));
	for (i = 0; i < NACCEPTORS; i++)
		pthread_join(tid[i], NULL);

	aq_stable_read(_metadata, a->lfd, c->module ? &s : NULL, &o);
	EXPECT_EQ(0, o.rqueue);
	EXPECT_EQ(0, o.sk_drops);
	if (c->module) {
		struct aq_row *r = aq_row_of(_metadata, &s, a->lfd);

		EXPECT_EQ(0, s.missed);
		EXPECT_EQ(0, s.resyncs);
		EXPECT_EQ(NACCEPTORS, r->enqueued);
		EXPECT_EQ(NACCEPTORS, r->accepted);
		EXPECT_EQ(0, r->qnow);
		EXPECT_EQ(0, r->untimed);
		EXPECT_EQ(0, r->resynced);
		EXPECT_EQ(NACCEPTORS, aq_hist_total(&r->wait));
		EXPECT_LT(0, r->wait_sum_ns);
		aq_snap_free(&s);
	}
	for (i = 0; i < NACCEPTORS; i++) {
		close(cfd[i]);
		close(a->fd[i]);
	}
	close(a->lfd);
	free(tid);
	free(a);
}

TEST_F_TIMEOUT(tcpw, thousands_blocked_in_accept, 400)
{
	aq_ctx_need_instances(_metadata, &self->c, 2 * NACCEPTORS);
	aq_in_netns(_metadata, blocked_in_netns, &self->c);
	AQ_FINISH(&self->c);
}

AQ_TEST_HARNESS_MAIN
