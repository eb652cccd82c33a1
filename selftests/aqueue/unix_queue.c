// SPDX-License-Identifier: GPL-2.0
/*
 * Unix domain stream and seqpacket listeners, each checked against the
 * kernel's own oracles: sock_diag's UNIX_DIAG_RQLEN for the queue length,
 * the connect() results themselves for refusals, CLOCK_MONOTONIC for the
 * time in queue.
 */
#include <inttypes.h>
#include <pthread.h>

#include "kselftest_harness.h"

#include "aq_clock.h"
#include "aq_fixture.h"
#include "aq_hist.h"
#include "aq_netns.h"
#include "aq_proc.h"
#include "aq_snap.h"
#include "aq_sock.h"
#include "aq_unix.h"

static struct aq_row *aq_unix_row(struct __test_metadata *_metadata,
				  struct aq_snap *s, int type,
				  const char *local)
{
	return aq_the_row(_metadata, s, aq_netns_ino(),
			  type == SOCK_SEQPACKET ? "unix-seq" : "unix", local);
}

AQ_FIXTURE(unixq, NULL, AQ_MODULE_OPTIONAL)

FIXTURE_VARIANT(unixq) {
	int type;
	int backlog;
};

FIXTURE_VARIANT_ADD(unixq, stream_b0) { .type = SOCK_STREAM, .backlog = 0 };
FIXTURE_VARIANT_ADD(unixq, stream_b3) { .type = SOCK_STREAM, .backlog = 3 };
FIXTURE_VARIANT_ADD(unixq, seqpacket_b2) {
	.type = SOCK_SEQPACKET, .backlog = 2
};

struct aq_unix_case {
	struct aq_ctx *c;
	int type, backlog;
};

#define AQ_EXTRA_CONNECTS 4

/* A test of the fixture whose body runs in a network namespace of its own. */
#define AQ_UNIXQ_TEST(name, body)					\
	AQ_NETNS_TEST(unixq, name, AQ_RUN_THEN_FINISH, body,		\
		      &(struct aq_unix_case){ &self->c, variant->type,	\
					      variant->backlog })

/*
 * Backlog N admits N+1 queued connections; the extra non-blocking connects
 * get EAGAIN, each counted once; the row matches sock_diag; closing with a
 * full queue moves the lot to the closed totals as drained.
 */
static void admits_in_netns(struct __test_metadata *_metadata, void *argp)
{
	const struct aq_unix_case *k = argp;
	int fds[16], admitted = 0, refused = 0, lfd, fd, i;
	struct aq_unix_addr a;
	struct aq_snap s = { 0 }, s2 = { 0 };
	struct aq_row *r;

	aq_unix_abstract(&a, "aq-admits");
	lfd = aq_unix_listen(k->type, &a, k->backlog);
	ASSERT_LE(0, lfd) TH_LOG("listen: %s", strerror(-lfd));
	for (i = 0; i < k->backlog + 1 + AQ_EXTRA_CONNECTS; i++) {
		fd = aq_unix_connect_nb(k->type, &a);
		if (fd >= 0) {
			fds[admitted++] = fd;
		} else {
			ASSERT_EQ(-EAGAIN, fd) TH_LOG("connect %d: %s", i,
						       strerror(-fd));
			refused++;
		}
	}
	ASSERT_EQ(k->backlog + 1, admitted);
	ASSERT_EQ(AQ_EXTRA_CONNECTS, refused);
	ASSERT_EQ(admitted, aq_unix_rqlen(lfd));
	if (!k->c->module)
		goto out;

	aq_snapshot(_metadata, &s);
	r = aq_unix_row(_metadata, &s, k->type, "@aq-admits");
	EXPECT_EQ(k->backlog, r->backlog);
	EXPECT_EQ(admitted, r->qnow);
	EXPECT_EQ(admitted, r->qpeak);
	EXPECT_EQ(admitted, r->enqueued);
	EXPECT_EQ(0, r->accepted);
	EXPECT_EQ(refused, r->drops);
	EXPECT_EQ(0, r->waited);
	EXPECT_EQ(getpid(), r->pid);
	/* One sample per connect that passed the full-queue check. */
	EXPECT_EQ(admitted, aq_hist_total(&r->qlen));
	EXPECT_EQ(1, aq_hist_get(&r->qlen, 0));
	close(lfd);
	lfd = -1;
	aq_snapshot(_metadata, &s2);
	EXPECT_EQ(0, aq_count_rows(&s2, aq_netns_ino(),
				   k->type == SOCK_SEQPACKET ? "unix-seq" : "unix",
				   "@aq-admits"));
	EXPECT_EQ(s.closed_listeners + 1, s2.closed_listeners);
	EXPECT_EQ(s.closed_drained + admitted, s2.closed_drained);
	EXPECT_EQ(s.closed_drops + refused, s2.closed_drops);
	aq_snap_free(&s);
	aq_snap_free(&s2);
out:
	for (i = 0; i < admitted; i++)
		close(fds[i]);
	if (lfd >= 0)
		close(lfd);
}

AQ_UNIXQ_TEST(admits_backlog_plus_one, admits_in_netns)

/* Time in queue lands in the bucket that holds the measured delay. */
static void wait_in_netns(struct __test_metadata *_metadata, void *argp)
{
	const struct aq_unix_case *k = argp;
	static const int64_t delays_ms[] = { 10, 200 };
	int64_t lo[2], hi[2], before, after_connect, before_accept, after;
	struct aq_unix_addr a;
	struct aq_snap s = { 0 };
	struct aq_row *r;
	int lfd, fd, afd, i;

	aq_unix_abstract(&a, "aq-wait");
	lfd = aq_unix_listen(k->type, &a, 4);
	ASSERT_LE(0, lfd);
	for (i = 0; i < 2; i++) {
		before = aq_now_ns();
		fd = aq_unix_connect_nb(k->type, &a);
		ASSERT_LE(0, fd);
		after_connect = aq_now_ns();
		aq_sleep_ns(delays_ms[i] * 1000000);
		before_accept = aq_now_ns();
		afd = accept(lfd, NULL, NULL);
		after = aq_now_ns();
		ASSERT_LE(0, afd);
		lo[i] = before_accept - after_connect;
		hi[i] = after - before;
		close(afd);
		close(fd);
	}
	if (!k->c->module)
		goto out;
	aq_snapshot(_metadata, &s);
	r = aq_unix_row(_metadata, &s, k->type, "@aq-wait");
	EXPECT_EQ(2, r->accepted);
	EXPECT_EQ(0, r->untimed);
	EXPECT_EQ(2, aq_hist_total(&r->wait));
	for (i = 0; i < 2; i++) {
		int64_t blo = aq_wait_bucket(lo[i]), bhi = aq_wait_bucket(hi[i]);
		int64_t seen = 0, b;

		for (b = blo; b <= bhi; b = b ? b * 2 : 1024)
			seen += aq_hist_get(&r->wait, b);
		EXPECT_LE(1, seen)
			TH_LOG("delay %" PRId64 " ms: no wait in buckets %" PRId64 "..%" PRId64,
			       delays_ms[i], blo, bhi);
	}
	EXPECT_LE(hi[1] / 1000 / 2, r->max_us);
	aq_snap_free(&s);
out:
	close(lfd);
}

AQ_UNIXQ_TEST(time_in_queue, wait_in_netns)

struct aq_blocked {
	const struct aq_unix_addr *a;
	int type;
	int fd;
};

static void *aq_blocking_connect(void *argp)
{
	struct aq_blocked *b = argp;
	int fd = socket(AF_UNIX, b->type | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, (const struct sockaddr *)&b->a->sun,
			       b->a->len)) {
		close(fd);
		fd = -errno;
	}
	b->fd = fd;
	return NULL;
}

/* A blocking connect to a full queue sleeps, is counted, then gets in. */
static void waited_in_netns(struct __test_metadata *_metadata, void *argp)
{
	const struct aq_unix_case *k = argp;
	struct aq_blocked b = { .type = k->type, .fd = 0 };
	int fds[8], n = 0, lfd, afd, tries;
	struct aq_unix_addr a;
	struct aq_snap s = { 0 };
	struct aq_row *r;
	pthread_t t;

	aq_unix_abstract(&a, "aq-waited");
	b.a = &a;
	lfd = aq_unix_listen(k->type, &a, 1);
	ASSERT_LE(0, lfd);
	while (n < 2)
		ASSERT_LE(0, fds[n++] = aq_unix_connect_nb(k->type, &a));
	ASSERT_EQ(-EAGAIN, aq_unix_connect_nb(k->type, &a));
	ASSERT_EQ(0, pthread_create(&t, NULL, aq_blocking_connect, &b));
	/* Until the module saw it sleep, or (without it) a while. */
	for (tries = 0; tries < 500; tries++) {
		int64_t waited = 0;

		if (k->c->module) {
			aq_snapshot(_metadata, &s);
			waited = aq_unix_row(_metadata, &s, k->type,
					     "@aq-waited")->waited;
			aq_snap_free(&s);
		}
		if (waited)
			break;
		aq_sleep_ns(10000000);
	}
	EXPECT_EQ(0, __atomic_load_n(&b.fd, __ATOMIC_SEQ_CST))
		TH_LOG("the blocking connect returned early");
	if (k->c->module) {
		aq_snapshot(_metadata, &s);
		r = aq_unix_row(_metadata, &s, k->type, "@aq-waited");
		EXPECT_EQ(1, r->waited);
		EXPECT_EQ(1, r->drops);
		EXPECT_EQ(2, r->qnow);
		aq_snap_free(&s);
	}
	afd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_LE(0, b.fd) TH_LOG("blocking connect: %s", strerror(-b.fd));
	EXPECT_EQ(2, aq_unix_rqlen(lfd));
	if (k->c->module) {
		aq_snapshot(_metadata, &s);
		r = aq_unix_row(_metadata, &s, k->type, "@aq-waited");
		EXPECT_EQ(3, r->enqueued);
		EXPECT_EQ(1, r->accepted);
		EXPECT_EQ(2, r->qnow);
		EXPECT_EQ(1, r->waited);
		aq_snap_free(&s);
	}
	close(b.fd);
	close(afd);
	while (n)
		close(fds[--n]);
	close(lfd);
}

AQ_UNIXQ_TEST(blocking_connect_waits, waited_in_netns)

/*
 * A blocking connect with a send timeout gives up on a full queue with
 * EAGAIN, as a non-blocking one does at once: a refusal too.
 */
static void timed_out_in_netns(struct __test_metadata *_metadata, void *argp)
{
	const struct aq_unix_case *k = argp;
	struct timeval timeout = { .tv_usec = 20000 };
	int fds[2], n = 0, lfd, fd, ret;
	struct aq_unix_addr a;
	struct aq_snap s = { 0 };
	struct aq_row *r;

	aq_unix_abstract(&a, "aq-timed-out");
	lfd = aq_unix_listen(k->type, &a, 1);
	ASSERT_LE(0, lfd);
	while (n < 2)
		ASSERT_LE(0, fds[n++] = aq_unix_connect_nb(k->type, &a));
	fd = socket(AF_UNIX, k->type | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout,
				sizeof(timeout)));
	ret = connect(fd, (const struct sockaddr *)&a.sun, a.len);
	ASSERT_EQ(-1, ret);
	ASSERT_EQ(EAGAIN, errno);
	EXPECT_EQ(2, aq_unix_rqlen(lfd));
	if (k->c->module) {
		aq_snapshot(_metadata, &s);
		r = aq_unix_row(_metadata, &s, k->type, "@aq-timed-out");
		EXPECT_EQ(1, r->drops);
		EXPECT_EQ(1, r->waited);
		EXPECT_EQ(2, r->qnow);
		aq_snap_free(&s);
	}
	close(fd);
	while (n)
		close(fds[--n]);
	close(lfd);
}

AQ_UNIXQ_TEST(timed_connect_refused, timed_out_in_netns)

/* A filesystem name with a space is one escaped token. */
TEST_F(unixq, filesystem_name_escaped)
{
	char dir[] = "/tmp/aq unix.XXXXXX", local[128];
	struct aq_unix_addr a = { .sun.sun_family = AF_UNIX };
	struct aq_snap s = { 0 };
	struct aq_row *r;
	const char *p;
	size_t out = 0;
	int lfd, fd;

	if (variant->type != SOCK_STREAM || variant->backlog)
		SKIP(return, "one variant is enough");
	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(a.sun.sun_path, sizeof(a.sun.sun_path), "%s/s", dir);
	a.len = sizeof(a.sun);
	lfd = aq_unix_listen(SOCK_STREAM, &a, 5);
	ASSERT_LE(0, lfd);
	fd = aq_unix_connect_nb(SOCK_STREAM, &a);
	ASSERT_LE(0, fd);
	for (p = a.sun.sun_path; *p; p++)
		out += *p == ' ' ?
			snprintf(local + out, sizeof(local) - out, "\\040") :
			snprintf(local + out, sizeof(local) - out, "%c", *p);
	if (self->c.module) {
		aq_snapshot(_metadata, &s);
		r = aq_the_row(_metadata, &s, aq_netns_ino(), "unix", local);
		EXPECT_EQ(1, r->qnow);
		EXPECT_EQ(1, aq_unix_rqlen(lfd));
		aq_snap_free(&s);
	}
	close(fd);
	close(lfd);
	unlink(a.sun.sun_path);
	rmdir(dir);
	AQ_FINISH(&self->c);
}

#define AQ_ACCEPTORS 2000

struct aq_acceptor {
	int lfd;
	int accepted;
};

static void *aq_accept_one(void *argp)
{
	struct aq_acceptor *acc = argp;
	int fd = accept(acc->lfd, NULL, NULL);

	if (fd >= 0) {
		__atomic_add_fetch(&acc->accepted, 1, __ATOMIC_SEQ_CST);
		close(fd);
	}
	return NULL;
}

/* 2,000 threads blocked in accept(): every connection seen, none missed. */
static void acceptors_in_netns(struct __test_metadata *_metadata, void *argp)
{
	const struct aq_unix_case *k = argp;
	struct aq_acceptor acc = { .accepted = 0 };
	static pthread_t threads[AQ_ACCEPTORS];
	int i, fd, started = 0;
	struct aq_unix_addr a;
	struct aq_snap s = { 0 };
	pthread_attr_t attr;
	struct aq_row *r;

	ASSERT_EQ(0, aq_raise_nofile(4 * AQ_ACCEPTORS));
	aq_unix_abstract(&a, "aq-acceptors");
	acc.lfd = aq_unix_listen(k->type, &a, 4096);
	ASSERT_LE(0, acc.lfd);
	ASSERT_EQ(0, pthread_attr_init(&attr));
	ASSERT_EQ(0, pthread_attr_setstacksize(&attr, 64 * 1024));
	for (i = 0; i < AQ_ACCEPTORS; i++)
		if (!pthread_create(&threads[i], &attr, aq_accept_one, &acc))
			started++;
	ASSERT_EQ(AQ_ACCEPTORS, started);
	/* Let them all reach accept() before the first connect. */
	aq_sleep_ns(2000000000LL);
	for (i = 0; i < AQ_ACCEPTORS; i++) {
		fd = socket(AF_UNIX, k->type | SOCK_CLOEXEC, 0);
		ASSERT_LE(0, fd) TH_LOG("socket %d: %s", i, strerror(errno));
		ASSERT_EQ(0, connect(fd, (struct sockaddr *)&a.sun, a.len))
			TH_LOG("connect %d: %s", i, strerror(errno));
		close(fd);
	}
	for (i = 0; i < AQ_ACCEPTORS; i++)
		pthread_join(threads[i], NULL);
	ASSERT_EQ(AQ_ACCEPTORS, acc.accepted);
	if (k->c->module) {
		aq_snapshot(_metadata, &s);
		r = aq_unix_row(_metadata, &s, k->type, "@aq-acceptors");
		EXPECT_EQ(AQ_ACCEPTORS, r->enqueued);
		EXPECT_EQ(AQ_ACCEPTORS, r->accepted);
		EXPECT_EQ(0, r->untimed);
		EXPECT_EQ(AQ_ACCEPTORS, aq_hist_total(&r->wait));
		EXPECT_EQ(0, s.missed);
		aq_snap_free(&s);
	}
	close(acc.lfd);
}

TEST_F_TIMEOUT(unixq, thousands_of_blocked_acceptors, 300)
{
	struct aq_unix_case k = {
		&self->c, variant->type, variant->backlog
	};

	if (variant->backlog != 3)
		SKIP(return, "one stream variant is enough");
	aq_ctx_need_instances(_metadata, &self->c, 2 * AQ_ACCEPTORS);
	aq_in_netns(_metadata, acceptors_in_netns, &k);
	AQ_FINISH(&self->c);
}

AQ_TEST_HARNESS_MAIN
