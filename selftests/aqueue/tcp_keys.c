// SPDX-License-Identifier: GPL-2.0
/*
 * What makes a row: one per listening socket, however many share an
 * address. An SO_REUSEPORT group of 4 on one port is 4 rows whose numbers
 * match each socket's own (TCP_INFO / sock_diag and the connections each
 * one accepts); two network namespaces listening on the same port are two
 * rows with their own netns, and a reader inside a namespace sees only its
 * own listeners, while an unprivileged reader in the initial namespace
 * sees only the initial namespace's.
 */
#include <grp.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "kselftest_harness.h"

#include "aq_clock.h"
#include "aq_diag.h"
#include "aq_fixture.h"
#include "aq_netns.h"
#include "aq_proc.h"
#include "aq_snap.h"
#include "aq_sock.h"
#include "aq_task.h"

AQ_FIXTURE(keys, NULL, AQ_MODULE_OPTIONAL)

#define NGROUP 4
#define NCONN 40

/* The row whose comm names group member i ("aq rp i"). */
static struct aq_row *member_row(struct __test_metadata *_metadata,
				 struct aq_snap *s, int64_t netns,
				 const char *local, int i)
{
	char comm[16];
	int k, n = 0;
	struct aq_row *found = NULL;

	snprintf(comm, sizeof(comm), "aq rp %d", i);
	for (k = 0; k < s->nrows; k++) {
		struct aq_row *r = &s->rows[k];

		if (r->netns == netns && !strcmp(r->local, local) &&
		    !strcmp(r->comm, comm)) {
			found = r;
			n++;
		}
	}
	ASSERT_EQ(1, n) TH_LOG("rows for group member %d: %d", i, n);
	return found;
}

/*
 * Connects clients cfd[from..to) to the group's port and waits (bounded)
 * until its members hold `queued` between them; d[] gets each member's
 * sock_diag view.
 */
static void connect_to_group(struct __test_metadata *_metadata,
			     const int *lfd, uint16_t port, int *cfd, int from,
			     int to, struct aq_diag *d, int queued)
{
	int i, k, total = 0;

	for (i = from; i < to; i++) {
		cfd[i] = aq_connect_nb("127.0.0.1", port, false);
		ASSERT_LE(0, cfd[i]);
		ASSERT_EQ(TCP_ESTABLISHED,
			  aq_wait_state(cfd[i], TCP_ESTABLISHED));
	}
	for (k = 0; k < AQ_WAIT_MS; k++) {
		total = 0;
		for (i = 0; i < NGROUP; i++) {
			ASSERT_EQ(0, aq_diag_of(lfd[i], &d[i]));
			total += d[i].rqueue;
		}
		if (total == queued)
			break;
		usleep(1000);
	}
	ASSERT_EQ(queued, total);
}

/*
 * Four listeners share 127.0.0.1:PORT with backlogs 60..63 and comms
 * "aq rp 0".."aq rp 3" (set before each listen()). The kernel spreads 40
 * connections over them; each row must show its own socket's numbers.
 */
static void reuseport_in_netns(struct __test_metadata *_metadata, void *argp)
{
	struct aq_ctx *c = argp;
	int lfd[NGROUP], cfd[NCONN + 8], afd[NCONN], nacc[NGROUP] = { 0 };
	int i, na = 0, total = 0, drained = 0;
	struct aq_diag d[NGROUP];
	struct aq_snap s, s2, s3;
	char local[96];
	uint16_t port = 0;
	int64_t ns = aq_netns_ino();

	for (i = 0; i < NGROUP; i++) {
		char comm[16];

		snprintf(comm, sizeof(comm), "aq rp %d", i);
		aq_set_comm(comm);
		lfd[i] = aq_listen_tcp("127.0.0.1", port, 60 + i, AQ_REUSEPORT);
		ASSERT_LE(0, lfd[i]) TH_LOG("member %d: %s", i,
					    strerror(-lfd[i]));
		port = aq_port_of(lfd[i]);
	}
	aq_set_comm("tcp_keys");
	aq_local_str(lfd[0], local, sizeof(local));

	connect_to_group(_metadata, lfd, port, cfd, 0, NCONN, d, NCONN);
	for (i = 0; i < NGROUP; i++) {
		ASSERT_EQ(60 + i, (int)d[i].wqueue);
		TH_LOG("member %d: %u queued", i, d[i].rqueue);
	}

	if (c->module) {
		aq_snapshot(_metadata, &s);
		EXPECT_EQ(NGROUP, aq_count_rows(&s, ns, "tcp", local));
		total = 0;
		for (i = 0; i < NGROUP; i++) {
			struct aq_row *r = member_row(_metadata, &s, ns, local, i);

			EXPECT_EQ(d[i].wqueue, r->backlog);
			EXPECT_EQ(d[i].rqueue, r->qnow);
			EXPECT_EQ(d[i].rqueue, r->enqueued);
			EXPECT_EQ(d[i].rqueue, r->qpeak);
			total += r->qnow;
		}
		EXPECT_EQ(NCONN, total);
	}

	/* Each member's accept() takes exactly what its row counted. */
	for (i = 0; i < NGROUP; i++) {
		int fd;

		while ((fd = aq_accept_nb(lfd[i])) >= 0) {
			ASSERT_GT(NCONN, na);
			afd[na++] = fd;
			nacc[i]++;
		}
		EXPECT_EQ((int)d[i].rqueue, nacc[i]);
	}
	EXPECT_EQ(NCONN, na);

	/* Eight more, then member 0 closes with whatever it got queued. */
	connect_to_group(_metadata, lfd, port, cfd, NCONN, NCONN + 8, d, 8);
	drained = d[0].rqueue;
	if (c->module) {
		aq_snapshot(_metadata, &s2);
		for (i = 0; i < NGROUP; i++) {
			struct aq_row *r = member_row(_metadata, &s2, ns, local, i);

			EXPECT_EQ(nacc[i], r->accepted);
			EXPECT_EQ(d[i].rqueue, r->qnow);
			EXPECT_EQ(nacc[i] + d[i].rqueue, r->enqueued);
		}
	}
	close(lfd[0]);
	lfd[0] = -1;
	if (c->module) {
		aq_snapshot(_metadata, &s3);
		EXPECT_EQ(NGROUP - 1, aq_count_rows(&s3, ns, "tcp", local));
		EXPECT_EQ(s2.closed_listeners + 1, s3.closed_listeners);
		EXPECT_EQ(s2.closed_drained + drained, s3.closed_drained);
		EXPECT_EQ(s2.closed_accepted + nacc[0], s3.closed_accepted);
		for (i = 1; i < NGROUP; i++) {
			struct aq_row *r = member_row(_metadata, &s3, ns, local, i);

			EXPECT_EQ(d[i].rqueue, r->qnow);
		}
		aq_snap_free(&s3);
		aq_snap_free(&s2);
		aq_snap_free(&s);
	}
	for (i = 0; i < na; i++)
		close(afd[i]);
	for (i = 0; i < NCONN + 8; i++)
		aq_close_rst(cfd[i]);
	for (i = 1; i < NGROUP; i++)
		close(lfd[i]);
}

AQ_NETNS_TEST(keys, reuseport_group_of_four, AQ_RUN_THEN_FINISH,
	      reuseport_in_netns, &self->c)

/* ------------------------------------------------------------------ */

#define SAME_PORT 7777

struct ns_side {
	int index;			/* 0 or 1 */
	int ready[2], done[2];		/* pipes */
	struct aq_ctx *c;
	int64_t *netns;			/* shared: each side's netns inode */
};

/*
 * One namespace: listen on 127.0.0.1:7777 (backlog 5 + index), queue
 * index + 1 connections, then read /proc/aqueue from inside: only this
 * namespace's rows, and this listener's numbers.
 */
static void ns_side_fn(struct __test_metadata *_metadata, void *argp)
{
	struct ns_side *side = argp;
	int n = side->index + 1, cfd[2], lfd, i;
	char local[96], b = 0;
	struct aq_snap s;

	close(side->ready[0]);
	close(side->done[1]);
	side->netns[side->index] = aq_netns_ino();
	lfd = aq_listen_tcp("127.0.0.1", SAME_PORT, 5 + side->index, 0);
	ASSERT_LE(0, lfd) TH_LOG("side %d: %s", side->index, strerror(-lfd));
	for (i = 0; i < n; i++) {
		cfd[i] = aq_connect("127.0.0.1", SAME_PORT);
		ASSERT_LE(0, cfd[i]);
	}
	ASSERT_EQ(n, aq_wait_rqueue(lfd, n));
	aq_local_str(lfd, local, sizeof(local));
	if (side->c->module) {
		struct aq_row *r;

		aq_snapshot(_metadata, &s);
		for (i = 0; i < s.nrows; i++) {
			EXPECT_EQ(side->netns[side->index], s.rows[i].netns)
				TH_LOG("side %d sees row %" PRId64 " of netns %" PRId64,
				       side->index, s.rows[i].id, s.rows[i].netns);
		}
		EXPECT_EQ(1, s.nrows);
		r = aq_row_of(_metadata, &s, lfd);
		EXPECT_EQ(5 + side->index, r->backlog);
		EXPECT_EQ(n, r->qnow);
		EXPECT_EQ(n, r->enqueued);
		aq_snap_free(&s);
	}
	/* Let the initial namespace look, and wait until it has. */
	ASSERT_EQ(1, write(side->ready[1], "r", 1));
	ASSERT_EQ(0, read(side->done[0], &b, 1) < 0);
	for (i = 0; i < n; i++)
		close(cfd[i]);
	close(lfd);
}

struct nobody_arg {
	int64_t init_ns;
	char local[96];		/* the initial namespace's listener */
	int64_t *netns;		/* the two sides' */
};

/* An unprivileged reader in the initial namespace: its listeners only. */
static void nobody_fn(struct __test_metadata *_metadata, void *argp)
{
	struct nobody_arg *arg = argp;
	gid_t nogroup = 65534;
	struct aq_snap s;
	int i;

	ASSERT_EQ(0, setgroups(1, &nogroup));
	ASSERT_EQ(0, setgid(65534));
	ASSERT_EQ(0, setuid(65534));
	aq_snapshot(_metadata, &s);
	for (i = 0; i < s.nrows; i++) {
		EXPECT_EQ(arg->init_ns, s.rows[i].netns)
			TH_LOG("nobody sees row %" PRId64 " of netns %" PRId64,
			       s.rows[i].id, s.rows[i].netns);
	}
	EXPECT_EQ(1, aq_count_rows(&s, arg->init_ns, "tcp", arg->local));
	aq_snap_free(&s);
}

TEST_F(keys, two_netns_same_port)
{
	struct ns_side side[2];
	struct nobody_arg nb;
	int64_t *netns = aq_shared_alloc(2 * sizeof(int64_t));
	struct stat init1, self1;
	pid_t pid[2];
	char b;
	int i, lfd;

	ASSERT_NE(NULL, netns);
	for (i = 0; i < 2; i++) {
		side[i].index = i;
		side[i].c = &self->c;
		side[i].netns = netns;
		ASSERT_EQ(0, pipe(side[i].ready));
		ASSERT_EQ(0, pipe(side[i].done));
		pid[i] = aq_child_start(_metadata, ns_side_fn, &side[i], true);
		ASSERT_LT(0, pid[i]);
		close(side[i].ready[1]);
		close(side[i].done[0]);
	}
	for (i = 0; i < 2; i++) {
		if (read(side[i].ready[0], &b, 1) != 1) {
			/* The side failed before it was ready: report it. */
			close(side[(i + 1) % 2].done[1]);
			close(side[i].done[1]);
			aq_child_wait(_metadata, pid[i]);
			ASSERT_TRUE(0) TH_LOG("side %d ended early", i);
		}
	}
	ASSERT_NE(netns[0], netns[1]);

	/* The privileged reader in the initial namespace sees both. */
	/* In the test guest we are; elsewhere pid 1 may be out of reach. */
	if (stat("/proc/1/ns/net", &init1))
		init1.st_ino = 0;
	ASSERT_EQ(0, stat("/proc/self/ns/net", &self1));
	lfd = aq_listen_tcp("127.0.0.1", 0, 3, 0);
	ASSERT_LE(0, lfd);
	if (self->c.module && init1.st_ino == self1.st_ino) {
		struct aq_snap s;
		char local[64];
		int64_t init_ns = self1.st_ino;

		snprintf(local, sizeof(local), "127.0.0.1:%d", SAME_PORT);
		aq_snapshot(_metadata, &s);
		for (i = 0; i < 2; i++) {
			struct aq_row *r = aq_the_row(_metadata, &s, netns[i],
						      "tcp", local);

			EXPECT_EQ(5 + i, r->backlog);
			EXPECT_EQ(i + 1, r->qnow);
		}
		aq_snap_free(&s);

		nb.init_ns = init_ns;
		nb.netns = netns;
		aq_local_str(lfd, nb.local, sizeof(nb.local));
		aq_child_wait(_metadata,
			      aq_child_start(_metadata, nobody_fn, &nb, false));
	} else if (self->c.module) {
		TH_LOG("not in the initial network namespace: its views not checked");
	}
	close(lfd);
	for (i = 0; i < 2; i++) {
		close(side[i].done[1]);
		close(side[i].ready[0]);
	}
	for (i = 0; i < 2; i++)
		aq_child_wait(_metadata, pid[i]);
	AQ_FINISH(&self->c);
}

AQ_TEST_HARNESS_MAIN
