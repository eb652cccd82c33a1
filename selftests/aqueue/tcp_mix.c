// SPDX-License-Identifier: GPL-2.0
/*
 * TCP traffic of more than one kind on one listener, where each kind alone
 * is counted right but their mix once was not. Each test holds the queue
 * to the kernel's own (sock_diag's Recv-Q, the netns counters):
 *
 *  - SYN cookies beside ordinary handshakes: the children of both are
 *    counted, whichever way the kernel queues them, and a child address
 *    reused from one kind to the other (TCP sockets are
 *    SLAB_TYPESAFE_BY_RCU) does not switch the final-ACK probe off;
 *  - reuseport migration (tcp_migrate_req): a member closing with
 *    connections queued hands them to another member, which counts them
 *    in its queue (with their enqueue times), and the closed totals count
 *    them as migrated, not drained;
 *  - a reuseport group of four members beside a group of one and a
 *    listener in none: each member's row holds its own queue (sock_diag's,
 *    found by inode) and names the group by its smallest id, which passes
 *    to the next smallest when that member closes;
 *  - a re-synchronisation with the kernel's queue inside accept() (after
 *    the probes were registered again): the child being taken counts once;
 *  - the first event of a listener aqueue did not track yet (it was
 *    filtered out) racing that listener's close: no row, no id, nothing
 *    left behind to read;
 *  - a probe hit missed on one listener (more blocked accept() callers
 *    than the kretprobe's instances) leaves another listener's queue, and
 *    the times of what it holds, as they are; a watched UDP socket's
 *    receive after such a miss counts its datagram once.
 */
#include <pthread.h>

#include "kselftest_harness.h"

#include "aq_ctl.h"
#include "aq_diag.h"
#include "aq_fixture.h"
#include "aq_netns.h"
#include "aq_proc.h"
#include "aq_snap.h"
#include "aq_sock.h"

#define LOCALHOST "127.0.0.1"

AQ_FIXTURE(mix, NULL, AQ_MODULE_REQUIRED)

static int write_sysctl(const char *path, const char *value)
{
	FILE *f = fopen(path, "w");
	int err;

	if (!f)
		return -errno;
	err = fprintf(f, "%s\n", value) < 0 ? -EIO : 0;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

/*
 * Connects and waits for the handshake to complete: established, or
 * already past it when a server that accepts and closes at once beat the
 * wait (CLOSE_WAIT, seen on the debug kernel).
 */
static int connect_done(struct __test_metadata *_metadata, uint16_t port)
{
	int fd = aq_connect_nb(LOCALHOST, port, false), state;

	EXPECT_LE(0, fd);
	if (fd < 0)
		return fd;
	state = aq_wait_state(fd, TCP_ESTABLISHED);
	if (state != TCP_CLOSE_WAIT) {
		EXPECT_EQ(TCP_ESTABLISHED, state);
	}
	return fd;
}

/* @n connections that the server accepts and both ends close. */
static void handshakes(struct __test_metadata *_metadata, int lfd, int n)
{
	uint16_t port = aq_port_of(lfd);
	int i;

	for (i = 0; i < n; i++) {
		int cfd = connect_done(_metadata, port);
		int afd;

		ASSERT_EQ(1, aq_wait_rqueue(lfd, 1));
		afd = accept(lfd, NULL, NULL);
		ASSERT_LE(0, afd);
		close(afd);
		close(cfd);
	}
}

static void expect_queue_is_kernels(struct __test_metadata *_metadata,
				    int lfd, const char *what)
{
	struct aq_snap s;
	struct aq_row *r;
	long rqueue = aq_diag_rqueue(lfd);

	aq_snapshot(_metadata, &s);
	r = aq_row_of(_metadata, &s, lfd);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(rqueue, r->qnow) TH_LOG("%s: qnow %lld, Recv-Q %ld", what,
					  (long long)r->qnow, rqueue);
	EXPECT_EQ(r->enqueued, r->accepted + r->qnow);
}

static void cookies_in_netns(struct __test_metadata *_metadata, void *arg)
{
	const char *sysctl = "/proc/sys/net/ipv4/tcp_syncookies";
	struct aq_probe_line probes[32], *hashdance = NULL, *queue_add = NULL;
	int lfd, round, n, i, fds[12];
	long long cookies;

	lfd = aq_listen_tcp(LOCALHOST, 0, 64, 0);
	ASSERT_LE(0, lfd);
	cookies = aq_netstat("TcpExt", "SyncookiesSent");
	for (round = 0; round < 6; round++) {
		ASSERT_EQ(0, write_sysctl(sysctl, "1"));
		handshakes(_metadata, lfd, 30);
		ASSERT_EQ(0, write_sysctl(sysctl, "2"));
		handshakes(_metadata, lfd, 30);
	}
	ASSERT_EQ(0, write_sysctl(sysctl, "1"));
	/* The kernel's own word that both kinds ran. */
	ASSERT_EQ(180, aq_netstat("TcpExt", "SyncookiesSent") - cookies);

	for (i = 0; i < 12; i++)
		fds[i] = connect_done(_metadata, aq_port_of(lfd));
	ASSERT_EQ(12, aq_wait_rqueue(lfd, 12));
	expect_queue_is_kernels(_metadata, lfd, "after the cookie rounds");

	/*
	 * On a kernel whose hashdance queues its children through a real
	 * call (5.10) the probe is disarmed by design; there the call's own
	 * probe counted them all, which the check above saw.
	 */
	n = aq_ctl_probes(_metadata, probes, 32);
	for (i = 0; i < n; i++) {
		if (!strcmp(probes[i].func, "inet_csk_complete_hashdance")) {
			TH_LOG("hashdance probe: hits %lld armed %d",
			       probes[i].hits, probes[i].armed);
			hashdance = &probes[i];
		}
		if (!strcmp(probes[i].func, "inet_csk_reqsk_queue_add"))
			queue_add = &probes[i];
	}
	ASSERT_NE(NULL, hashdance);
	EXPECT_TRUE(hashdance->armed || (queue_add && queue_add->hits > 0))
		TH_LOG("the hashdance probe is disarmed, and no real call of inet_csk_reqsk_queue_add was seen");
	aq_close_fds(fds, 12);
	close(lfd);
}

AQ_NETNS_TEST(mix, cookies_beside_ordinary_handshakes, AQ_RUN_THEN_FINISH,
	      cookies_in_netns, NULL)

static void migration_in_netns(struct __test_metadata *_metadata, void *arg)
{
	struct aq_snap before, after;
	struct aq_row *r;
	long long ok, failed;
	long q0, q1;
	int l0, l1, i, fds[40], afd;
	uint16_t port;

	if (access("/proc/sys/net/ipv4/tcp_migrate_req", F_OK) ||
	    aq_netstat("TcpExt", "TCPMigrateReqSuccess") < 0)
		SKIP(return, "no net.ipv4.tcp_migrate_req (before 5.14)");
	ASSERT_EQ(0, write_sysctl("/proc/sys/net/ipv4/tcp_migrate_req", "1"));
	l0 = aq_listen_tcp(LOCALHOST, 0, 64, AQ_REUSEPORT);
	ASSERT_LE(0, l0);
	port = aq_port_of(l0);
	l1 = aq_listen_tcp(LOCALHOST, port, 64, AQ_REUSEPORT);
	ASSERT_LE(0, l1);
	for (i = 0; i < 40; i++)
		fds[i] = connect_done(_metadata, port);
	q0 = aq_diag_rqueue(l0);
	q1 = aq_diag_rqueue(l1);
	ASSERT_EQ(40, q0 + q1);
	/* The hash may leave one member empty: then nothing moves. */
	ASSERT_LT(0, q0) TH_LOG("reuseport put all 40 on the second member");

	aq_snapshot(_metadata, &before);
	ok = aq_netstat("TcpExt", "TCPMigrateReqSuccess");
	failed = aq_netstat("TcpExt", "TCPMigrateReqFailure");
	close(l0);
	ASSERT_EQ(q0, aq_netstat("TcpExt", "TCPMigrateReqSuccess") - ok);
	ASSERT_EQ(failed, aq_netstat("TcpExt", "TCPMigrateReqFailure"));
	ASSERT_EQ(40, aq_diag_rqueue(l1));

	aq_snapshot(_metadata, &after);
	expect_queue_is_kernels(_metadata, l1, "after the migration");
	EXPECT_EQ(before.closed_listeners + 1, after.closed_listeners);
	EXPECT_EQ(before.closed_migrated + q0, after.closed_migrated);
	EXPECT_EQ(before.closed_drained, after.closed_drained);
	r = aq_row_of(_metadata, &after, l1);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(q0, r->migrated_in);

	for (i = 0; i < 40; i++) {
		afd = accept(l1, NULL, NULL);
		ASSERT_LE(0, afd);
		close(afd);
	}
	aq_snapshot(_metadata, &after);
	r = aq_row_of(_metadata, &after, l1);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(0, r->qnow);
	EXPECT_EQ(40, r->accepted);
	/* The migrated ones kept their enqueue times. */
	EXPECT_EQ(0, r->untimed);
	aq_close_fds(fds, 40);
	close(l1);
}

AQ_NETNS_TEST(mix, reuseport_migration_on_close, AQ_RUN_THEN_FINISH,
	      migration_in_netns, NULL)

/* The smallest id among the rows of @n members, and each their group. */
static int64_t expect_one_group(struct __test_metadata *_metadata,
				struct aq_snap *s, const int *lfd, int n)
{
	int64_t first = INT64_MAX;
	struct aq_row *r;
	int i;

	for (i = 0; i < n; i++) {
		r = aq_row_of_ino(_metadata, s, lfd[i]);
		if (r->id < first)
			first = r->id;
	}
	for (i = 0; i < n; i++)
		EXPECT_EQ(first, aq_row_of_ino(_metadata, s, lfd[i])->reuseport_group)
			TH_LOG("member %d", i);
	return first;
}

#define GROUP_MEMBERS 4

static void group_in_netns(struct __test_metadata *_metadata, void *arg)
{
	int lfd[GROUP_MEMBERS], fds[40], alone, plain, i, first_i = -1;
	int64_t first;
	struct aq_snap s;
	struct aq_row *r;
	long total = 0;
	uint16_t port;

	lfd[0] = aq_listen_tcp(LOCALHOST, 0, 64, AQ_REUSEPORT);
	ASSERT_LE(0, lfd[0]);
	port = aq_port_of(lfd[0]);
	for (i = 1; i < GROUP_MEMBERS; i++) {
		lfd[i] = aq_listen_tcp(LOCALHOST, port, 64, AQ_REUSEPORT);
		ASSERT_LE(0, lfd[i]);
	}
	alone = aq_listen_tcp(LOCALHOST, 0, 8, AQ_REUSEPORT);
	ASSERT_LE(0, alone);
	plain = aq_listen_tcp(LOCALHOST, 0, 8, 0);
	ASSERT_LE(0, plain);
	for (i = 0; i < 40; i++)
		fds[i] = connect_done(_metadata, port);

	aq_snapshot(_metadata, &s);
	first = expect_one_group(_metadata, &s, lfd, GROUP_MEMBERS);
	ASSERT_LT(0, first);
	for (i = 0; i < GROUP_MEMBERS; i++) {
		r = aq_row_of_ino(_metadata, &s, lfd[i]);
		EXPECT_EQ(aq_diag_rqueue(lfd[i]), r->qnow) TH_LOG("member %d", i);
		total += r->qnow;
		if (r->id == first)
			first_i = i;
	}
	EXPECT_EQ(40, total);
	r = aq_row_of_ino(_metadata, &s, alone);
	EXPECT_EQ(r->id, r->reuseport_group);
	r = aq_row_of_ino(_metadata, &s, plain);
	EXPECT_EQ(0, r->reuseport_group);
	aq_snap_free(&s);

	/* The member that named the group goes: the next smallest names it. */
	ASSERT_LE(0, first_i);
	close(lfd[first_i]);
	lfd[first_i] = lfd[GROUP_MEMBERS - 1];
	aq_snapshot(_metadata, &s);
	EXPECT_LT(first, expect_one_group(_metadata, &s, lfd,
					  GROUP_MEMBERS - 1));
	aq_snap_free(&s);
	aq_close_fds(fds, 40);
	for (i = 0; i < GROUP_MEMBERS - 1; i++)
		close(lfd[i]);
	close(alone);
	close(plain);
}

AQ_NETNS_TEST(mix, reuseport_group_rows_name_their_group, AQ_RUN_IF_MODULE,
	      group_in_netns, NULL)

static void resync_in_netns(struct __test_metadata *_metadata, void *arg)
{
	static const char udp_on[] = "udp_ports 9\n", udp_off[] = "udp_ports none\n";
	struct aq_snap s;
	struct aq_row *r;
	int lfd, fds[3], i, afd;

	lfd = aq_listen_tcp(LOCALHOST, 0, 16, 0);
	ASSERT_LE(0, lfd);
	for (i = 0; i < 3; i++)
		fds[i] = connect_done(_metadata, aq_port_of(lfd));
	ASSERT_EQ(3, aq_wait_rqueue(lfd, 3));
	/* Registering probes makes every listener resync at its next event. */
	ASSERT_EQ(0, aq_ctl_write(udp_on, strlen(udp_on)));
	ASSERT_EQ(0, aq_ctl_write(udp_off, strlen(udp_off)));
	afd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, afd);

	aq_snapshot(_metadata, &s);
	r = aq_row_of(_metadata, &s, lfd);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(1, r->resynced);
	EXPECT_EQ(2, r->qnow);
	EXPECT_EQ(aq_diag_rqueue(lfd), r->qnow);
	EXPECT_EQ(1, r->accepted);
	EXPECT_EQ(3, r->enqueued);
	close(afd);
	aq_close_fds(fds, 3);
	close(lfd);
}

AQ_NETNS_TEST(mix, resync_inside_accept, AQ_RUN_THEN_FINISH, resync_in_netns,
	      NULL)

struct racer {
	uint16_t port;
	int fd;
};

static void *connect_once(void *arg)
{
	struct racer *r = arg;
	int fd = aq_connect_nb(LOCALHOST, r->port, false);

	if (fd >= 0)
		close(fd);
	return NULL;
}

static void *close_listener(void *arg)
{
	close(((struct racer *)arg)->fd);
	return NULL;
}

static void first_event_in_netns(struct __test_metadata *_metadata, void *arg)
{
	static const char other[] = "filter port 1\n", any[] = "filter port any\n";
	struct racer r;
	struct aq_snap s;
	pthread_t t[2];
	int i;

	for (i = 0; i < 300; i++) {
		ASSERT_EQ(0, aq_ctl_write(other, strlen(other)));
		r.fd = aq_listen_tcp(LOCALHOST, 0, 16, 0);
		ASSERT_LE(0, r.fd);
		r.port = aq_port_of(r.fd);
		ASSERT_EQ(0, aq_ctl_write(any, strlen(any)));
		ASSERT_EQ(0, pthread_create(&t[0], NULL, connect_once, &r));
		ASSERT_EQ(0, pthread_create(&t[1], NULL, close_listener, &r));
		pthread_join(t[0], NULL);
		pthread_join(t[1], NULL);
	}
	aq_snapshot(_metadata, &s);
	EXPECT_EQ(0, s.nrows);
	EXPECT_EQ(0, s.tracked);
	aq_snap_free(&s);
}

AQ_NETNS_TEST(mix, first_event_racing_close, AQ_RUN_THEN_FINISH,
	      first_event_in_netns, NULL)

/* One kretprobe instance for accept(): a second blocked caller is missed. */
AQ_FIXTURE(miss, "accept_maxactive=1", AQ_MODULE_REQUIRED)

static void *accept_once(void *arg)
{
	int fd = accept(*(int *)arg, NULL, NULL);

	if (fd >= 0)
		close(fd);
	return NULL;
}

/*
 * Two callers block in accept() on @b: one holds the kretprobe's only
 * instance, the other's hit is missed. Then @b is shut down.
 */
static void miss_an_accept(struct __test_metadata *_metadata, int b)
{
	pthread_t t[2];
	int cfd, i;

	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, accept_once, &b));
	usleep(300000);
	cfd = connect_done(_metadata, aq_port_of(b));
	ASSERT_EQ(0, shutdown(b, SHUT_RD));
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	close(cfd);
}

static void miss_in_netns(struct __test_metadata *_metadata, void *arg)
{
	struct aq_snap s0, s;
	struct aq_row *r;
	int a, b, fds[3], i, afd;

	a = aq_listen_tcp(LOCALHOST, 0, 16, 0);
	ASSERT_LE(0, a);
	b = aq_listen_tcp(LOCALHOST, 0, 16, 0);
	ASSERT_LE(0, b);
	for (i = 0; i < 3; i++)
		fds[i] = connect_done(_metadata, aq_port_of(a));
	ASSERT_EQ(3, aq_wait_rqueue(a, 3));
	aq_snapshot(_metadata, &s0);

	miss_an_accept(_metadata, b);

	for (i = 0; i < 3; i++) {
		afd = accept(a, NULL, NULL);
		ASSERT_LE(0, afd);
		close(afd);
	}
	aq_snapshot(_metadata, &s);
	ASSERT_LT(s0.missed, s.missed) TH_LOG("no probe hit was missed");
	r = aq_row_of(_metadata, &s, a);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(0, r->resynced);
	EXPECT_EQ(3, r->accepted);
	EXPECT_EQ(0, r->untimed);
	EXPECT_EQ(0, r->qnow);
	aq_close_fds(fds, 3);
	close(a);
	close(b);
}

AQ_NETNS_TEST(miss, a_miss_elsewhere_leaves_a_listener_timed,
	      AQ_RUN_THEN_FINISH, miss_in_netns, NULL)

/*
 * A UDP receive after a miss elsewhere compares the socket's queue with
 * the kernel's, which no longer holds the datagram being received: that
 * datagram counts once, and the queue is not found to differ.
 */
static void miss_udp_in_netns(struct __test_metadata *_metadata, void *arg)
{
	static const char udp_off[] = "udp_ports none\n";
	struct aq_snap s0, s;
	struct aq_row *r;
	union aq_addr to;
	int srv, cli, b, i;
	char c = 'x', cmd[64];

	srv = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cli = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, srv);
	ASSERT_LE(0, cli);
	ASSERT_EQ(0, aq_addr(&to, LOCALHOST, 0));
	ASSERT_EQ(0, bind(srv, &to.sa, aq_addr_len(&to)));
	ASSERT_EQ(0, aq_addr(&to, LOCALHOST, aq_port_of(srv)));
	snprintf(cmd, sizeof(cmd), "udp_ports %u\n", aq_port_of(srv));
	ASSERT_EQ(0, aq_ctl_write(cmd, strlen(cmd)));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(1, sendto(cli, &c, 1, 0, &to.sa, aq_addr_len(&to)));
	b = aq_listen_tcp(LOCALHOST, 0, 16, 0);
	ASSERT_LE(0, b);
	aq_snapshot(_metadata, &s0);

	miss_an_accept(_metadata, b);

	ASSERT_EQ(1, recv(srv, &c, 1, 0));
	aq_snapshot(_metadata, &s);
	ASSERT_LT(s0.missed, s.missed) TH_LOG("no probe hit was missed");
	r = aq_row_of(_metadata, &s, srv);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(0, r->resynced);
	EXPECT_EQ(3, r->enqueued);
	EXPECT_EQ(1, r->accepted);
	EXPECT_EQ(2, r->qnow);
	EXPECT_EQ(0, r->untimed);
	aq_snap_free(&s0);
	aq_snap_free(&s);
	ASSERT_EQ(0, aq_ctl_write(udp_off, strlen(udp_off)));
	close(srv);
	close(cli);
	close(b);
}

AQ_NETNS_TEST(miss, a_udp_receive_after_a_miss_counts_once,
	      AQ_RUN_THEN_FINISH, miss_udp_in_netns, NULL)

AQ_TEST_HARNESS_MAIN
