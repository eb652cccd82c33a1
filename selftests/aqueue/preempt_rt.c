// SPDX-License-Identifier: GPL-2.0
/*
 * On a PREEMPT_RT kernel, where a sleeping lock or an allocation in a
 * probe's handler gives "BUG: scheduling while atomic" under contention,
 * aqueue counts a storm exactly and leaves the kernel log clean: clients
 * and accepting threads on every CPU, listeners opened and closed beside
 * them (entries made and freed from the pools), queues deep enough to grow
 * the rings, and /proc/aqueue read all along. Elsewhere this skips (the
 * other programs cover the same paths there).
 */
#include <pthread.h>

#include "kselftest_harness.h"

#include "aq_klog.h"
#include "aq_module.h"
#include "aq_proc.h"
#include "aq_snap.h"
#include "aq_sock.h"

#define CLIENTS 2
#define PER_CLIENT 1500
/* Queued before each accept round: past the ring's first 8 and 16 slots. */
#define BATCH 40
#define CHURN_LISTENERS 300

struct storm {
	int lfd;
	uint16_t port;
	volatile bool stop;
	long accepted[CLIENTS];
	int errors;
};

/* Connects BATCH clients, then accepts them, PER_CLIENT in all. */
static void *aq_rt_client(void *arg)
{
	static int next;
	struct storm *st = arg;
	int idx = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED) % CLIENTS;
	int fds[BATCH], i, n, done = 0;

	while (done < PER_CLIENT) {
		n = PER_CLIENT - done < BATCH ? PER_CLIENT - done : BATCH;
		for (i = 0; i < n; i++) {
			fds[i] = aq_connect("127.0.0.1", st->port);
			if (fds[i] < 0) {
				__atomic_fetch_add(&st->errors, 1,
						   __ATOMIC_RELAXED);
				n = i;
				break;
			}
		}
		for (i = 0; i < n; i++) {
			int afd = accept(st->lfd, NULL, NULL);

			if (afd < 0) {
				__atomic_fetch_add(&st->errors, 1,
						   __ATOMIC_RELAXED);
				continue;
			}
			st->accepted[idx]++;
			close(afd);
		}
		aq_close_fds(fds, n);
		done += n;
		if (!n)
			break;
	}
	return NULL;
}

/* Listeners that live for one connection each: entries made and retired. */
static void *aq_rt_churn(void *arg)
{
	struct storm *st = arg;
	int i;

	for (i = 0; i < CHURN_LISTENERS && !st->stop; i++) {
		int lfd = aq_listen_tcp("127.0.0.1", 0, 4, 0);
		int cfd;

		if (lfd < 0)
			continue;
		cfd = aq_connect("127.0.0.1", aq_port_of(lfd));
		if (cfd >= 0)
			close(cfd);
		close(lfd);
	}
	return NULL;
}

static void *aq_rt_reader(void *arg)
{
	struct storm *st = arg;

	while (!st->stop) {
		struct aq_snap s = { 0 };
		char err[128];

		aq_try_snapshot(&s, false, err, sizeof(err));
		aq_snap_free(&s);
	}
	return NULL;
}

TEST(storm_exact_and_log_clean)
{
	static const char marker[] = "aqtest: preempt_rt storm";
	pthread_t clients[CLIENTS], churn, reader;
	struct storm st = { 0 };
	struct aq_snap s = { 0 };
	struct aq_row *row;
	char report[512];
	long accepted = 0;
	int i;

	if (!aq_kernel_preempt_rt())
		SKIP(return, "not a PREEMPT_RT kernel");
	if (access(aq_module_path(), R_OK))
		SKIP(return, "no module at %s", aq_module_path());
	aq_klog_mark(marker);
	ASSERT_EQ(0, aq_load(NULL));

	st.lfd = aq_listen_tcp("127.0.0.1", 0, 4 * BATCH, 0);
	ASSERT_LE(0, st.lfd);
	st.port = aq_port_of(st.lfd);
	ASSERT_EQ(0, pthread_create(&reader, NULL, aq_rt_reader, &st));
	ASSERT_EQ(0, pthread_create(&churn, NULL, aq_rt_churn, &st));
	for (i = 0; i < CLIENTS; i++)
		ASSERT_EQ(0, pthread_create(&clients[i], NULL, aq_rt_client,
					    &st));
	for (i = 0; i < CLIENTS; i++)
		pthread_join(clients[i], NULL);
	st.stop = true;
	pthread_join(churn, NULL);
	pthread_join(reader, NULL);
	EXPECT_EQ(0, st.errors);
	for (i = 0; i < CLIENTS; i++)
		accepted += st.accepted[i];

	/* The server's own count, and nothing lost to the pools. */
	aq_snapshot(_metadata, &s);
	row = aq_find_row(&s, st.lfd);
	ASSERT_NE(NULL, row);
	EXPECT_EQ(accepted, row->accepted);
	EXPECT_EQ(accepted, row->enqueued);
	EXPECT_EQ(0, row->qnow);
	EXPECT_EQ(0, s.untracked_events);
	EXPECT_EQ(0, s.untracked_listens);
	EXPECT_LE(CHURN_LISTENERS, s.closed_listeners);
	aq_snap_free(&s);
	close(st.lfd);
	EXPECT_EQ(0, aq_unload());
	EXPECT_EQ(NULL, aq_klog_report_since(marker, report, sizeof(report)))
		TH_LOG("kernel log: %s", report);
}

TEST_HARNESS_MAIN
