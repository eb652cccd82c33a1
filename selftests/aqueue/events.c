// SPDX-License-Identifier: GPL-2.0
/*
 * What is happening now: the live keys of /proc/aqueue and the event
 * stream of /proc/aqueue_events, against the kernel's oracles.
 *
 *  - stall_and_recover: a TCP listener stops accepting while clients keep
 *    connecting. The head-of-line age and the time since the last accept
 *    lie in intervals measured with CLOCK_MONOTONIC around the events that
 *    define them, at two instants, and grow with that clock; the listener
 *    is stalled once both exceed the threshold (1 s, set by the test) and
 *    not before; the stream shows it opened, the first drop, the stall
 *    (queue and backlog as sock_diag shows them), the burst's total (equal
 *    to SO_MEMINFO's drops and to ListenOverflows) and the recovery, each
 *    stamped inside the interval in which it happened.
 *  - hostile_process_names: the comm of a listener's owner, which any
 *    process sets, comes out escaped in every event line (newline, tab,
 *    backslash, DEL), and no line is split or forged by it.
 *  - burst_100k: 100,000 connects refused by a full unix listener (counted
 *    by the test itself) give a handful of lines whose drops add up to
 *    exactly 100,000.
 *  - slow_reader: a reader that does not read while 40 events happen gets
 *    "lost N" and the last events the ring holds, with N + lines = 40;
 *    another reader, that keeps up, gets all 40; connections go through
 *    meanwhile.
 *  - unload_with_blocked_reader: a reader blocked in read(), one in poll()
 *    and an epoll registration do not stop the module from unloading; the
 *    reader gets end of file, poll returns, and the kernel log stays clean.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/un.h>

#include "kselftest_harness.h"

#include "aq_clock.h"
#include "aq_ctl.h"
#include "aq_diag.h"
#include "aq_events.h"
#include "aq_file.h"
#include "aq_fill.h"
#include "aq_fixture.h"
#include "aq_klog.h"
#include "aq_module.h"
#include "aq_netns.h"
#include "aq_proc.h"
#include "aq_snap.h"
#include "aq_sock.h"
#include "aq_task.h"

#define SEC 1000000000LL

FIXTURE_VARIANT(events) {
	const char *params;
};

AQ_FIXTURE(events, variant->params, AQ_MODULE_REQUIRED)

FIXTURE_VARIANT_ADD(events, default_ring) { .params = NULL };

/* lo <= v <= hi, with the bracket in the log when not. */
#define EXPECT_IN(v, lo, hi, what) \
	EXPECT_TRUE((v) >= (lo) && (v) <= (hi)) \
		TH_LOG("%s %" PRId64 " not in [%" PRId64 ", %" PRId64 "]", \
		       (what), (int64_t)(v), (int64_t)(lo), (int64_t)(hi))

struct stall_times {
	int64_t acc0, acc1;	/* around the last accept() before the stall */
	int64_t c0, q0;		/* the head's connect() called; seen queued */
};

/* A snapshot with the CLOCK_MONOTONIC instants just before and after. */
static struct aq_row *snap_row(struct __test_metadata *_metadata,
			       struct aq_snap *s, int lfd, int64_t *t0,
			       int64_t *t1)
{
	struct aq_row *r;

	*t0 = aq_now_ns();
	aq_snapshot(_metadata, s);
	*t1 = aq_now_ns();
	r = aq_row_of(_metadata, s, lfd);
	return r;
}

static void check_live(struct __test_metadata *_metadata,
		       const struct aq_row *r, const struct stall_times *t,
		       int64_t t0, int64_t t1)
{
	/* The head joined in [c0, q0]; the last accept ran in [acc0, acc1]. */
	EXPECT_IN(r->hol_age_ns, t0 - t->q0, t1 - t->c0, "hol_age_ns");
	EXPECT_IN(r->since_accept_ns, t0 - t->acc1, t1 - t->acc0,
		  "since_accept_ns");
	/* Stalled exactly when both exceed the threshold, where the
	 * brackets decide it. */
	if (t1 - t->c0 < SEC || t1 - t->acc0 < SEC)
		EXPECT_EQ(0, r->stalled);
	if (t0 - t->q0 >= SEC && t0 - t->acc1 >= SEC)
		EXPECT_EQ(1, r->stalled);
}

static void check_stall(struct __test_metadata *_metadata,
			const struct aq_ev *e, const struct stall_times *t,
			int lfd, const char *local, const char *comm)
{
	int64_t earliest = (t->c0 > t->acc0 ? t->c0 : t->acc0) + SEC;
	struct aq_diag d;

	EXPECT_LE(earliest, e->ts_ns);
	/* In no reuseport group. */
	EXPECT_EQ(0, e->group);
	EXPECT_EQ(0, e->group_room);
	EXPECT_IN(e->hol_age_ns, e->ts_ns - t->q0, e->ts_ns - t->c0,
		  "stall hol_age_ns");
	EXPECT_IN(e->since_accept_ns, e->ts_ns - t->acc1,
		  e->ts_ns - t->acc0, "stall since_accept_ns");
	ASSERT_EQ(0, aq_diag_of(lfd, &d));
	EXPECT_EQ(d.rqueue, e->qnow);
	EXPECT_EQ(d.wqueue, e->backlog);
	EXPECT_EQ(aq_netns_ino(), e->netns);
	EXPECT_STREQ("tcp", e->proto);
	EXPECT_STREQ(local, e->local);
	EXPECT_EQ(getpid(), e->pid);
	EXPECT_STREQ(comm, e->comm);
}

/* Recovered at the accept() that ended the stall; stalled since the
 * threshold was crossed, max(head queued, last accept) + 1 s. */
static void check_recover(struct __test_metadata *_metadata,
			  const struct aq_ev *e, const struct stall_times *t,
			  int64_t r0, int64_t r1)
{
	int64_t lo = (t->c0 > t->acc0 ? t->c0 : t->acc0) + SEC;
	int64_t hi = (t->q0 > t->acc1 ? t->q0 : t->acc1) + SEC;

	EXPECT_IN(e->ts_ns, r0, r1, "recover timestamp");
	EXPECT_IN(e->stalled_ns, e->ts_ns - hi, e->ts_ns - lo, "stalled_ns");
	EXPECT_EQ(4, e->qnow);
}

static void stall_in_netns(struct __test_metadata *_metadata, void *argp)
{
	struct aq_listen_mib mib0, mib1;
	int64_t t0, t1, u0, u1, hol1, r0, r1, drop_call, due;
	int64_t id, drops0, drops1, sum = 0;
	struct stall_times t;
	int lfd, c, afd, cfd[5], i, iopen, istall, irec, iend;
	struct aq_snap s1, s2, s3;
	struct aq_row *row;
	struct aq_evr ev;
	char local[96], comm[32];

	ASSERT_EQ(0, aq_evr_open(&ev));
	aq_set_comm("aq-stall");
	aq_get_comm(comm, sizeof(comm));
	lfd = aq_listen_tcp("127.0.0.1", 0, 4, 0);
	ASSERT_LE(0, lfd);
	aq_local_str(lfd, local, sizeof(local));
	aq_listen_mib(_metadata, &mib0);
	drops0 = aq_sk_drops(lfd);

	/* One connection accepted: the last accept before the stall. */
	c = aq_connect("127.0.0.1", aq_port_of(lfd));
	ASSERT_LE(0, c);
	ASSERT_EQ(1, aq_wait_rqueue(lfd, 1));
	t.acc0 = aq_now_ns();
	afd = accept(lfd, NULL, NULL);
	t.acc1 = aq_now_ns();
	ASSERT_LE(0, afd);
	close(afd);
	close(c);

	/* Then the server stops accepting; the head is the first of five. */
	t.c0 = aq_now_ns();
	aq_fill(_metadata, lfd, "127.0.0.1", cfd, 1, 0);
	t.q0 = aq_now_ns();
	aq_fill(_metadata, lfd, "127.0.0.1", cfd + 1, 4, 1);
	/* Clients keep connecting: SYNs dropped, the queue being full. */
	drop_call = aq_now_ns();
	aq_overflow(_metadata, lfd, "127.0.0.1", 3);

	row = snap_row(_metadata, &s1, lfd, &t0, &t1);
	id = row->id;
	check_live(_metadata, row, &t, t0, t1);
	EXPECT_EQ(5, row->qnow);
	EXPECT_IN(row->since_drop_ns, 0, t1 - drop_call, "since_drop_ns");
	/* Overflowing while the drops are less than the gap (1 s) old. */
	if (t1 - drop_call < SEC)
		EXPECT_EQ(1, row->overflowing);
	hol1 = row->hol_age_ns;

	/* A second instant: the age grew as CLOCK_MONOTONIC did. */
	aq_sleep_ns(SEC / 4);
	row = snap_row(_metadata, &s2, lfd, &u0, &u1);
	check_live(_metadata, row, &t, u0, u1);
	EXPECT_IN(row->hol_age_ns - hol1, u0 - t1, u1 - t0, "hol_age_ns growth");
	aq_snap_free(&s1);
	aq_snap_free(&s2);

	/* Past the threshold: stalled, in /proc and in the stream. */
	due = (t.q0 > t.acc1 ? t.q0 : t.acc1) + SEC;
	if (aq_now_ns() < due)
		aq_sleep_ns(due - aq_now_ns() + SEC / 20);
	row = snap_row(_metadata, &s3, lfd, &u0, &u1);
	check_live(_metadata, row, &t, u0, u1);
	EXPECT_EQ(1, row->stalled);
	aq_snap_free(&s3);

	istall = aq_evr_wait(_metadata, &ev, "stall", id, AQ_WAIT_MS);
	ASSERT_LE(0, istall) TH_LOG("no stall event for listener %" PRId64, id);
	check_stall(_metadata, &ev.ev[istall], &t, lfd, local, comm);

	/* Accepting again: recovered, at the moment of that accept. */
	r0 = aq_now_ns();
	afd = accept(lfd, NULL, NULL);
	r1 = aq_now_ns();
	ASSERT_LE(0, afd);
	irec = aq_evr_wait(_metadata, &ev, "recover", id, AQ_WAIT_MS);
	ASSERT_LE(0, irec) TH_LOG("no recover event");
	EXPECT_LT(istall, irec);
	check_recover(_metadata, &ev.ev[irec], &t, r0, r1);
	row = snap_row(_metadata, &s3, lfd, &u0, &u1);
	EXPECT_IN(row->since_accept_ns, u0 - r1, u1 - r0, "since_accept_ns");
	if (u1 - r0 < SEC)
		EXPECT_EQ(0, row->stalled);
	aq_snap_free(&s3);

	/* The burst: its first drop, then its total once it is over. */
	iend = aq_evr_wait(_metadata, &ev, "overflow_end", id, AQ_WAIT_MS);
	ASSERT_LE(0, iend) TH_LOG("no overflow_end event");
	drops1 = aq_sk_drops(lfd);
	aq_listen_mib(_metadata, &mib1);
	for (i = 0; i < ev.n; i++)
		if (ev.ev[i].id == id && !strcmp(ev.ev[i].name, "overflow_end"))
			sum += ev.ev[i].drops;
	EXPECT_EQ(drops1 - drops0, sum);
	EXPECT_EQ(mib1.overflows - mib0.overflows, sum);
	EXPECT_EQ(aq_evr_count(&ev, "overflow", id),
		  aq_evr_count(&ev, "overflow_end", id));
	EXPECT_LE(1, aq_evr_count(&ev, "overflow", id));
	EXPECT_GE(3, aq_evr_count(&ev, "overflow", id));
	EXPECT_LE(drop_call, ev.ev[aq_evr_find(&ev, 0, "overflow", id)].ts_ns);

	/* drop_log is off by default: nothing in the kernel log. */
	EXPECT_EQ(0, aq_klog_count_since("aqueue-selftest: stall_and_recover",
					 "aqueue: listener "));

	iopen = aq_evr_find(&ev, 0, "open", id);
	ASSERT_EQ(0, iopen) TH_LOG("the listener's open is not the first event");
	EXPECT_EQ(4, ev.ev[iopen].backlog);

	close(afd);
	aq_close_fds(cfd, 5);
	close(lfd);
	ASSERT_LE(0, aq_evr_wait(_metadata, &ev, "close", id, AQ_WAIT_MS));
	aq_evr_close(&ev);
}

TEST_F(events, stall_and_recover)
{
	aq_klog_mark("aqueue-selftest: stall_and_recover");
	ASSERT_EQ(0, aq_control("stall_threshold_ms 1000\nburst_gap_ms 1000\n"));
	aq_in_netns(_metadata, stall_in_netns, NULL);
}

/* ------------------------------------------------------------------ */

/*
 * Names any process may give itself come out of the stream escaped, as in
 * /proc/aqueue: the strict parser reads every line, so a newline in a
 * comm that split an event line, or forged one, fails it here.
 */
static void hostile_in_netns(struct __test_metadata *_metadata, void *argp)
{
	static const char *const names[] = { "a\nlistener 9", "b\\x\t\x7f" };
	static const char *const shown[] = { "a\\012listener 9",
					     "b\\134x\\011\\177" };
	int64_t id[2];
	struct aq_snap s;
	struct aq_evr ev;
	int fds[2], i, k, ours = 0;

	ASSERT_EQ(0, aq_evr_open(&ev));
	for (i = 0; i < 2; i++) {
		aq_set_comm(names[i]);
		fds[i] = aq_listen_tcp("127.0.0.1", 0, 4, 0);
		ASSERT_LE(0, fds[i]);
	}
	aq_set_comm("aq-events");
	aq_snapshot(_metadata, &s);
	for (i = 0; i < 2; i++)
		id[i] = aq_row_of(_metadata, &s, fds[i])->id;
	aq_snap_free(&s);
	aq_close_fds(fds, 2);

	for (i = 0; i < 2; i++) {
		ASSERT_LE(0, aq_evr_wait(_metadata, &ev, "close", id[i],
					 AQ_WAIT_MS));
		k = aq_evr_find(&ev, 0, "open", id[i]);
		ASSERT_LE(0, k) TH_LOG("no open event for listener %" PRId64,
				       id[i]);
		EXPECT_STREQ(shown[i], ev.ev[k].comm);
	}
	/* Nothing else in this netns: no line names a listener 9. */
	for (i = 0; i < ev.n; i++) {
		if (ev.ev[i].lost || ev.ev[i].netns != aq_netns_ino())
			continue;
		EXPECT_TRUE(ev.ev[i].id == id[0] || ev.ev[i].id == id[1])
			TH_LOG("event %s of listener %" PRId64, ev.ev[i].name,
			       ev.ev[i].id);
		ours++;
	}
	EXPECT_LE(4, ours);
	aq_evr_close(&ev);
}

TEST_F(events, hostile_process_names)
{
	aq_in_netns(_metadata, hostile_in_netns, NULL);
}

/* ------------------------------------------------------------------ */

/*
 * One member of a reuseport group overflows while another has room, as a
 * stuck worker does: its overflow event names the group and says what
 * the rest of the group would still take, which is the other member's
 * room as sock_diag shows it (backlog + 1 - Recv-Q).
 */
static void group_room_in_netns(struct __test_metadata *_metadata,
				void *argp)
{
	int small, big, fds[256], n = 0, state, k;
	long long overflows = aq_netstat("TcpExt", "ListenOverflows");
	int64_t end, group;
	struct aq_diag d_big;
	struct aq_snap s;
	struct aq_evr ev;
	uint16_t port;

	ASSERT_EQ(0, aq_evr_open(&ev));
	small = aq_listen_tcp("127.0.0.1", 0, 1, AQ_REUSEPORT);
	ASSERT_LE(0, small);
	port = aq_port_of(small);
	big = aq_listen_tcp("127.0.0.1", port, 200, AQ_REUSEPORT);
	ASSERT_LE(0, big);

	/* One client at a time, each queued before the next, until the hash
	 * sends the full small member a SYN. */
	while (aq_netstat("TcpExt", "ListenOverflows") == overflows) {
		ASSERT_GT(256, n) TH_LOG("the hash never chose the small member");
		fds[n] = aq_connect_nb("127.0.0.1", port, false);
		ASSERT_LE(0, fds[n]);
		end = aq_now_ns() + AQ_WAIT_MS * 1000000LL;
		do {
			state = aq_tcp_state(fds[n]);
			if (state == TCP_ESTABLISHED &&
			    aq_diag_rqueue(small) + aq_diag_rqueue(big) == n + 1)
				break;
			usleep(500);
		} while (aq_netstat("TcpExt", "ListenOverflows") == overflows &&
			 aq_now_ns() < end);
		ASSERT_GT(end, aq_now_ns());
		n++;
	}
	ASSERT_EQ(0, aq_diag_of(big, &d_big));
	ASSERT_EQ(2, aq_diag_rqueue(small));

	aq_snapshot(_metadata, &s);
	group = aq_row_of_ino(_metadata, &s, small)->id;
	if (aq_row_of_ino(_metadata, &s, big)->id < group)
		group = aq_row_of_ino(_metadata, &s, big)->id;
	k = aq_evr_wait(_metadata, &ev, "overflow",
			aq_row_of_ino(_metadata, &s, small)->id, AQ_WAIT_MS);
	ASSERT_LE(0, k) TH_LOG("no overflow event for the small member");
	EXPECT_EQ(group, ev.ev[k].group);
	EXPECT_EQ((int64_t)d_big.wqueue + 1 - d_big.rqueue, ev.ev[k].group_room);
	EXPECT_EQ(0, aq_evr_count(&ev, "overflow",
				  aq_row_of_ino(_metadata, &s, big)->id));
	aq_snap_free(&s);
	aq_close_fds(fds, n);
	close(small);
	close(big);
	aq_evr_close(&ev);
}

TEST_F(events, overflowing_member_says_its_group_has_room)
{
	aq_in_netns(_metadata, group_room_in_netns, NULL);
}

/* ------------------------------------------------------------------ */

#define BURST 100000

static void burst_in_netns(struct __test_metadata *_metadata, void *argp)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	socklen_t alen = offsetof(struct sockaddr_un, sun_path) + 8;
	int lfd, c0, cfd, i, refused = 0, lines = 0;
	int64_t id = 0, sum = 0, deadline;
	struct aq_snap s;
	struct aq_evr ev;
	char what[96];

	memcpy(a.sun_path, "\0aqburst", 8);
	ASSERT_EQ(0, aq_evr_open(&ev));
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&a, alen));
	ASSERT_EQ(0, listen(lfd, 0));
	/* Backlog 0 admits one; every connect after it is refused. */
	c0 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ASSERT_EQ(0, connect(c0, (struct sockaddr *)&a, alen));
	cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, cfd);
	for (i = 0; i < BURST; i++) {
		if (connect(cfd, (struct sockaddr *)&a, alen) == 0)
			break;
		if (errno != EAGAIN)
			break;
		refused++;
	}
	ASSERT_EQ(BURST, refused) TH_LOG("connect %d: %s", i, strerror(errno));

	aq_snapshot(_metadata, &s);
	for (i = 0; i < s.nrows; i++)
		if (s.rows[i].netns == aq_netns_ino() &&
		    !strcmp(s.rows[i].local, "@aqburst"))
			id = s.rows[i].id;
	ASSERT_NE(0, id);
	EXPECT_EQ(BURST, aq_snap_find_id(&s, id)->drops);
	aq_snap_free(&s);
	/* drop_log 1: one kernel log line for the listener's first drop. */
	snprintf(what, sizeof(what), "aqueue: listener %" PRId64 " unix @aqburst ",
		 id);
	EXPECT_EQ(1, aq_klog_count_since("aqueue-selftest: burst_100k", what));

	/* The burst ends a gap after its last drop: wait for every drop to be
	 * summed (the guard only bounds a hang). */
	deadline = aq_now_ns() + 3 * (int64_t)AQ_WAIT_MS * 1000000;
	for (;;) {
		ASSERT_LE(0, aq_evr_wait(_metadata, &ev, "overflow_end", id,
					 AQ_WAIT_MS));
		sum = 0;
		for (i = 0; i < ev.n; i++)
			if (ev.ev[i].id == id &&
			    !strcmp(ev.ev[i].name, "overflow_end"))
				sum += ev.ev[i].drops;
		if (sum >= BURST || aq_now_ns() > deadline)
			break;
		aq_sleep_ns(SEC / 2);
		aq_evr_drain(_metadata, &ev);
	}
	EXPECT_EQ(BURST, sum);
	for (i = 0; i < ev.n; i++)
		if (ev.ev[i].id == id)
			lines++;
	TH_LOG("%d event lines for %d refused connects", lines, BURST);
	/* open, overflow, overflow_end, stall; more only if the burst was
	 * cut by a pause longer than the gap. */
	EXPECT_GE(12, lines);
	EXPECT_EQ(aq_evr_count(&ev, "overflow", id),
		  aq_evr_count(&ev, "overflow_end", id));
	close(cfd);
	close(c0);
	close(lfd);
	aq_evr_close(&ev);
}

TEST_F(events, burst_100k)
{
	aq_klog_mark("aqueue-selftest: burst_100k");
	ASSERT_EQ(0, aq_control("burst_gap_ms 1000\ndrop_log 1\n"));
	aq_in_netns(_metadata, burst_in_netns, NULL);
}

/* ------------------------------------------------------------------ */

#define SLOW_LISTENERS 20

struct keeper {
	int fd;
	atomic_int lines;
	atomic_int lost;
	atomic_int stop;
};

/* A reader that keeps up: blocking reads, lines counted. */
static void *keeper_main(void *argp)
{
	struct keeper *k = argp;
	char buf[8192];

	while (!atomic_load(&k->stop)) {
		ssize_t n = read(k->fd, buf, sizeof(buf) - 1);
		char *p;

		if (n <= 0)
			break;
		buf[n] = '\0';
		for (p = buf; (p = strchr(p, '\n')); p++) {
			if (strstr(buf, " lost "))
				atomic_fetch_add(&k->lost, 1);
			atomic_fetch_add(&k->lines, 1);
		}
	}
	return NULL;
}

static void slow_in_netns(struct __test_metadata *_metadata, void *argp)
{
	struct keeper k = { 0 };
	struct aq_evr slow;
	pthread_t th;
	int i, n, lost = 0;
	int64_t guard;

	ASSERT_EQ(0, aq_evr_open(&slow));
	/* This one through the debugfs link beside the control file. */
	k.fd = open(AQ_DEBUGFS_PATH "/" AQUEUE_EVENTS_NAME, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, k.fd);
	ASSERT_EQ(0, pthread_create(&th, NULL, keeper_main, &k));

	for (i = 0; i < SLOW_LISTENERS; i++) {
		int lfd = aq_listen_tcp("127.0.0.1", 0, 4, 0);
		int c, afd;

		ASSERT_LE(0, lfd);
		/* The network path goes on while a reader sleeps. */
		c = aq_connect("127.0.0.1", aq_port_of(lfd));
		ASSERT_LE(0, c);
		afd = accept(lfd, NULL, NULL);
		ASSERT_LE(0, afd);
		close(afd);
		close(c);
		close(lfd);
		/* Let the keeper catch up: it must lose nothing. */
		guard = aq_now_ns() + (int64_t)AQ_WAIT_MS * 1000000;
		while (atomic_load(&k.lines) < 2 * (i + 1) &&
		       aq_now_ns() < guard)
			usleep(1000);
		ASSERT_EQ(2 * (i + 1), atomic_load(&k.lines));
	}
	atomic_store(&k.stop, 1);
	ASSERT_EQ(0, atomic_load(&k.lost));

	/* The one that slept: told what it lost, then the newest. */
	aq_evr_drain(_metadata, &slow);
	n = 0;
	for (i = 0; i < slow.n; i++) {
		if (!strcmp(slow.ev[i].name, "lost")) {
			EXPECT_EQ(0, i) TH_LOG("lost is not the first line");
			lost += slow.ev[i].lost;
		} else {
			n++;
		}
	}
	TH_LOG("slow reader: lost %d, got %d of %d", lost, n,
	       2 * SLOW_LISTENERS);
	EXPECT_LT(0, lost);
	EXPECT_EQ(16, n);
	EXPECT_EQ(2 * SLOW_LISTENERS, lost + n);
	EXPECT_STREQ("close", slow.ev[slow.n - 1].name);

	/* Wakes the keeper out of its read() with one more event. */
	close(aq_listen_tcp("127.0.0.1", 0, 1, 0));
	pthread_join(th, NULL);
	close(k.fd);
	aq_evr_close(&slow);
}

AQ_FIXTURE(small, "events_size=16", AQ_MODULE_REQUIRED)

TEST_F(small, slow_reader)
{
	char buf[4096];

	aq_ctl_read(_metadata, buf, sizeof(buf));
	ASSERT_NE(NULL, strstr(buf, "\nevents_size 16\n")) TH_LOG("%s", buf);
	aq_in_netns(_metadata, slow_in_netns, NULL);
}

/* ------------------------------------------------------------------ */

struct blocked {
	int fd;
	atomic_int state;	/* 0 not yet, 1 about to block, 2 returned */
	ssize_t ret;
	int err;
	short revents;
};

static void *blocked_read(void *argp)
{
	struct blocked *b = argp;
	char buf[256];

	atomic_store(&b->state, 1);
	b->ret = read(b->fd, buf, sizeof(buf));
	b->err = errno;
	atomic_store(&b->state, 2);
	return NULL;
}

static void *blocked_poll(void *argp)
{
	struct blocked *b = argp;
	struct pollfd p = { .fd = b->fd, .events = POLLIN };

	atomic_store(&b->state, 1);
	b->ret = poll(&p, 1, -1);
	b->err = errno;
	b->revents = p.revents;
	atomic_store(&b->state, 2);
	return NULL;
}

/* Waits (bounded) until the thread sleeps in the kernel. */
static bool thread_sleeps(pid_t tid)
{
	char path[64], buf[512], *p;
	int tries;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	for (tries = 0; tries < 500; tries++) {
		if (aq_read_file(path, buf, sizeof(buf)) > 0) {
			p = strrchr(buf, ')');
			if (p && p[1] == ' ' && p[2] == 'S')
				return true;
		}
		usleep(10000);
	}
	return false;
}

struct tid_arg {
	void *(*fn)(void *);
	void *arg;
	atomic_int tid;
};

static void *with_tid(void *argp)
{
	struct tid_arg *t = argp;

	atomic_store(&t->tid, gettid());
	return t->fn(t->arg);
}

/* aq_unload() in a child; -ETIMEDOUT if it has not returned after the
 * guard (it is then left behind). */
static int unload_guarded(struct __test_metadata *_metadata)
{
	int64_t guard = aq_now_ns() + 6 * (int64_t)AQ_WAIT_MS * 1000000;
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(-aq_unload());
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (aq_now_ns() > guard) {
			TH_LOG("unloading the module hangs");
			return -ETIMEDOUT;
		}
		usleep(10000);
	}
	return WIFEXITED(status) ? -WEXITSTATUS(status) : -EINTR;
}

TEST_F(events, unload_with_blocked_reader)
{
	struct blocked rd = { 0 }, pl = { 0 };
	struct tid_arg trd = { blocked_read, &rd, 0 }, tpl = { blocked_poll, &pl, 0 };
	struct epoll_event eev = { .events = EPOLLIN };
	pthread_t th_rd, th_pl;
	char report[256];
	int epfd, i;

	aq_klog_mark("aqueue-selftest: unload_with_blocked_reader");
	rd.fd = open(AQ_EVENTS_PATH, O_RDONLY | O_CLOEXEC);
	pl.fd = open(AQ_EVENTS_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, rd.fd);
	ASSERT_LE(0, pl.fd);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, epfd);
	ASSERT_EQ(0, epoll_ctl(epfd, EPOLL_CTL_ADD, pl.fd, &eev));
	ASSERT_EQ(0, pthread_create(&th_rd, NULL, with_tid, &trd));
	ASSERT_EQ(0, pthread_create(&th_pl, NULL, with_tid, &tpl));
	for (i = 0; i < 500 && (!atomic_load(&trd.tid) ||
				!atomic_load(&tpl.tid)); i++)
		usleep(1000);
	ASSERT_TRUE(thread_sleeps(atomic_load(&trd.tid)));
	ASSERT_TRUE(thread_sleeps(atomic_load(&tpl.tid)));
	ASSERT_EQ(1, atomic_load(&rd.state));
	ASSERT_EQ(1, atomic_load(&pl.state));

	/* The open files do not keep the module, and unloading does not
	 * wait for them: in a child, so that a hang is a failure. */
	ASSERT_EQ(0, unload_guarded(_metadata));
	ASSERT_FALSE(aq_is_loaded());

	for (i = 0; i < 500 && (atomic_load(&rd.state) != 2 ||
				atomic_load(&pl.state) != 2); i++)
		usleep(10000);
	ASSERT_EQ(2, atomic_load(&rd.state)) TH_LOG("read() still blocked");
	ASSERT_EQ(2, atomic_load(&pl.state)) TH_LOG("poll() still blocked");
	pthread_join(th_rd, NULL);
	pthread_join(th_pl, NULL);
	/* End of file, or the error of a file whose entry is gone. */
	EXPECT_TRUE(rd.ret == 0 || (rd.ret < 0 && (rd.err == EIO ||
						   rd.err == ENODEV)))
		TH_LOG("read returned %zd (%s)", rd.ret, strerror(rd.err));
	EXPECT_EQ(1, pl.ret);
	EXPECT_TRUE(pl.revents & (POLLIN | POLLHUP));
	EXPECT_GE(0, read(rd.fd, report, sizeof(report)));
	close(epfd);
	close(rd.fd);
	close(pl.fd);
	EXPECT_EQ(NULL, aq_klog_report_since("aqueue-selftest: unload_with_blocked_reader",
					     report, sizeof(report)))
		TH_LOG("kernel log: %s", report);
}

AQ_TEST_HARNESS_MAIN
