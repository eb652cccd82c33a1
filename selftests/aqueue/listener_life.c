// SPDX-License-Identifier: GPL-2.0
/*
 * The ways a listener's life can end or change that ordinary programs do
 * not take, each against the kernel's own view:
 *
 *  - the process that owns a listener is killed (SIGKILL) with
 *    connections queued and dropped, and with another thread blocked in
 *    accept() on a second listener: both rows go; the closed totals take
 *    the queued connections as drained and the drops the kernel counted
 *    (TcpExtListenOverflows of the test's namespace);
 *  - listen() again with a smaller backlog while more than that is
 *    queued: the row keeps its id and counts, shows the new backlog
 *    (sock_diag's idiag_wqueue), the kernel drops the next SYN and the
 *    row counts it, and every accept is counted and timed;
 *  - listen() asking for more than net.core.somaxconn: the row says what
 *    was asked (4096, and -1 as the kernel reads it) beside the cap read
 *    back from the namespace's sysctl, and the backlog sock_diag shows,
 *    for a TCP and a unix listener;
 *  - shutdown() of a listener: SHUT_WR leaves it listening and tracked;
 *    SHUT_RD stops it (the kernel resets the queue), its row goes with
 *    the queue counted as drained, and listen() on the same socket makes
 *    a new row with a new id; a unix listener shut down for reading
 *    refuses connects with ECONNREFUSED, which are not drops;
 *  - a listener passed to another process (in another network namespace)
 *    over SCM_RIGHTS, the sender closing its copy: the row stays (pid and
 *    comm of the process that called listen()), the receiver's accepts
 *    are counted and timed, and the row goes only when the last copy is
 *    closed. The receiver, in another namespace, does not see the row.
 */
#include <dirent.h>
#include <pthread.h>

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
#include "aq_task.h"
#include "aq_unix.h"

AQ_FIXTURE(life, NULL, AQ_MODULE_REQUIRED)

/* sock_diag's view of the IPv4 listener on port (in the caller's netns). */
static int diag_port(uint16_t port, struct aq_diag *d)
{
	int n = aq_diag_listeners(AF_INET, port, d, 1);

	if (n == -ENOENT || n == -EOPNOTSUPP)
		return -EOPNOTSUPP;
	return n;
}

static long wait_rqueue_port(uint16_t port, long want)
{
	int64_t end = aq_now_ns() + AQ_WAIT_MS * 1000000LL;
	struct aq_diag d;

	for (;;) {
		int n = diag_port(port, &d);
		long seen = n == 1 ? (long)d.rqueue : -1;

		if (seen == want || aq_now_ns() > end)
			return seen;
		usleep(1000);
	}
}

/* n clients queued on 127.0.0.1:port, on top of `already`. */
static void fill_port(struct __test_metadata *_metadata, uint16_t port,
		      int *cfd, int n, long already)
{
	int i;

	for (i = 0; i < n; i++) {
		cfd[i] = aq_connect_nb("127.0.0.1", port, false);
		ASSERT_LE(0, cfd[i]);
		ASSERT_EQ(TCP_ESTABLISHED, aq_wait_state(cfd[i], TCP_ESTABLISHED));
		ASSERT_EQ(already + i + 1, wait_rqueue_port(port, already + i + 1));
	}
}

/* n SYNs dropped at a full queue; the namespace's ListenOverflows is the
 * oracle. Clients close in SYN_SENT so nothing retransmits. */
static void overflow_port(struct __test_metadata *_metadata, uint16_t port,
			  int n)
{
	int i;

	for (i = 0; i < n; i++) {
		long long before = aq_netstat("TcpExt", "ListenOverflows");
		int64_t end = aq_now_ns() + AQ_WAIT_MS * 1000000LL;
		int fd = aq_connect_nb("127.0.0.1", port, false);

		ASSERT_LE(0, fd);
		while (aq_netstat("TcpExt", "ListenOverflows") < before + 1 &&
		       aq_now_ns() < end)
			usleep(1000);
		ASSERT_EQ(before + 1, aq_netstat("TcpExt", "ListenOverflows"))
			TH_LOG("SYN %d to a full queue was not dropped", i);
		close(fd);
	}
}

static struct aq_row *row_at(struct aq_snap *s, const char *proto,
			     const char *local)
{
	int64_t ns = aq_netns_ino();
	int i;

	for (i = 0; i < s->nrows; i++)
		if (s->rows[i].netns == ns && !strcmp(s->rows[i].proto, proto) &&
		    !strcmp(s->rows[i].local, local))
			return &s->rows[i];
	return NULL;
}

static int rows_in_my_netns(const struct aq_snap *s)
{
	int64_t ns = aq_netns_ino();
	int i, n = 0;

	for (i = 0; i < s->nrows; i++)
		n += s->rows[i].netns == ns;
	return n;
}

/* ------------------------------------------------------------------ */
/* Killed                                                              */

struct victim {
	uint16_t port[2];
	pid_t pid;
	int ready;
	int blocked;
};

static void *accept_forever(void *p)
{
	int fd = *(int *)p;

	for (;;)
		close(accept(fd, NULL, NULL));
	return NULL;
}

static void victim_main(struct victim *v)
{
	pthread_t th;
	int l1, l2;

	aq_set_comm("aq-victim");
	l1 = aq_listen_tcp("127.0.0.1", 0, 3, 0);
	l2 = aq_listen_tcp("127.0.0.1", 0, 8, 0);
	if (l1 < 0 || l2 < 0)
		_exit(2);
	v->port[0] = aq_port_of(l1);
	v->port[1] = aq_port_of(l2);
	v->pid = getpid();
	if (pthread_create(&th, NULL, accept_forever, &l2))
		_exit(3);
	__atomic_store_n(&v->ready, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
}

static void killed_in_netns(struct __test_metadata *_metadata, void *arg)
{
	struct victim *v = aq_shared_alloc(sizeof(*v));
	struct aq_snap s0, s1, s2;
	struct aq_row *r1, *r2;
	char local[2][64];
	int cfd[4], status, i;
	int64_t end;
	struct aq_diag d;
	pid_t pid;

	ASSERT_NE(NULL, v);
	aq_snapshot(_metadata, &s0);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		victim_main(v);
	end = aq_now_ns() + AQ_WAIT_MS * 1000000LL;
	while (!__atomic_load_n(&v->ready, __ATOMIC_SEQ_CST) && aq_now_ns() < end)
		usleep(1000);
	ASSERT_TRUE(v->ready);
	/* The other thread is asleep in accept() (syscall 43 or 288 on
	 * x86-64) before the kill. */
	end = aq_now_ns() + AQ_WAIT_MS * 1000000LL;
	for (;;) {
		char path[64], buf[512];
		bool asleep = false;
		DIR *dir;
		struct dirent *e;

		snprintf(path, sizeof(path), "/proc/%d/task", pid);
		dir = opendir(path);
		ASSERT_NE(NULL, dir);
		while ((e = readdir(dir))) {
			int tid = atoi(e->d_name);

			if (tid <= 0 || tid == pid)
				continue;
			snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
			if (aq_read_file(path, buf, sizeof(buf)) > 0 &&
			    (!strncmp(buf, "43 ", 3) || !strncmp(buf, "288 ", 4)) &&
			    aq_proc_state(tid) == 'S')
				asleep = true;
		}
		closedir(dir);
		if (asleep || aq_now_ns() > end)
			break;
		usleep(2000);
	}

	/* 4 queued (backlog 3 admits 4), 2 dropped, none accepted. */
	fill_port(_metadata, v->port[0], cfd, 4, 0);
	overflow_port(_metadata, v->port[0], 2);
	ASSERT_EQ(1, diag_port(v->port[0], &d));
	EXPECT_EQ(4U, d.rqueue);
	for (i = 0; i < 2; i++)
		snprintf(local[i], sizeof(local[i]), "127.0.0.1:%u", v->port[i]);
	aq_snapshot(_metadata, &s1);
	r1 = row_at(&s1, "tcp", local[0]);
	r2 = row_at(&s1, "tcp", local[1]);
	ASSERT_NE(NULL, r1);
	ASSERT_NE(NULL, r2);
	EXPECT_EQ(4, r1->qnow);
	EXPECT_EQ(4, r1->enqueued);
	EXPECT_EQ(0, r1->accepted);
	EXPECT_EQ(2, r1->drops);
	EXPECT_EQ(2, r1->drops_syn_acceptq);
	EXPECT_EQ(pid, r1->pid);
	EXPECT_STREQ("aq-victim", r1->comm);
	EXPECT_EQ(0, r2->enqueued);

	ASSERT_EQ(0, kill(pid, SIGKILL));
	status = aq_wait_child_bounded(pid, AQ_HANG_MS);
	ASSERT_NE(-1, status) TH_LOG("the killed process did not end (state %c)",
				     aq_proc_state(pid));
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	/* The kernel: no listener left, the queued connections reset. */
	EXPECT_EQ(0, aq_count_listeners(AF_INET));
	for (i = 0; i < 4; i++) {
		char c;

		EXPECT_EQ(-1, read(cfd[i], &c, 1));
	}
	aq_snapshot(_metadata, &s2);
	EXPECT_EQ(0, rows_in_my_netns(&s2));
	EXPECT_EQ(s0.tracked, s2.tracked);
	EXPECT_EQ(s0.closed_listeners + 2, s2.closed_listeners);
	EXPECT_EQ(s0.closed_enqueued + 4, s2.closed_enqueued);
	EXPECT_EQ(s0.closed_drained + 4, s2.closed_drained);
	EXPECT_EQ(s0.closed_accepted, s2.closed_accepted);
	EXPECT_EQ(s0.closed_drops + aq_netstat("TcpExt", "ListenOverflows"),
		  s2.closed_drops);
	EXPECT_EQ(0, s2.missed);
	aq_snap_free(&s0);
	aq_snap_free(&s1);
	aq_snap_free(&s2);
	aq_close_fds(cfd, 4);
}

AQ_NETNS_TEST(life, owner_killed_with_queue, AQ_RUN_IF_MODULE, killed_in_netns,
	      NULL)

/* ------------------------------------------------------------------ */
/* listen() again, smaller                                             */

static void relisten_in_netns(struct __test_metadata *_metadata, void *arg)
{
	struct aq_snap s;
	struct aq_row *r;
	struct aq_oracle o;
	int cfd[8], lfd, afd, i, accepted = 0;
	int64_t id;
	char local[64];

	lfd = aq_listen_tcp("127.0.0.1", 0, 8, 0);
	ASSERT_LE(0, lfd);
	aq_local_str(lfd, local, sizeof(local));
	fill_port(_metadata, aq_port_of(lfd), cfd, 6, 0);
	aq_snapshot(_metadata, &s);
	r = aq_row_of(_metadata, &s, lfd);
	id = r->id;
	EXPECT_EQ(8, r->backlog);
	aq_snap_free(&s);

	/* Smaller than what is queued: the kernel keeps the six. */
	ASSERT_EQ(0, listen(lfd, 2));
	aq_stable_read(_metadata, lfd, &s, &o);
	r = aq_row_of(_metadata, &s, lfd);
	EXPECT_EQ(2, o.wqueue);
	EXPECT_EQ(6, o.rqueue);
	EXPECT_EQ(id, r->id);
	EXPECT_EQ(o.wqueue, r->backlog);
	EXPECT_EQ(6, r->qnow);
	EXPECT_EQ(6, r->enqueued);
	aq_snap_free(&s);

	/* The next SYN finds the queue over the new backlog. */
	overflow_port(_metadata, aq_port_of(lfd), 1);
	for (i = 0; i < 4; i++) {
		afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		ASSERT_LE(0, afd);
		close(afd);
		accepted++;
	}
	/* 2 left: room for one more (backlog 2 admits 3). */
	fill_port(_metadata, aq_port_of(lfd), &cfd[6], 1, 2);
	while ((afd = aq_accept_nb(lfd)) >= 0) {
		close(afd);
		accepted++;
	}
	ASSERT_EQ(7, accepted);
	aq_stable_read(_metadata, lfd, &s, &o);
	r = aq_row_of(_metadata, &s, lfd);
	EXPECT_EQ(id, r->id);
	EXPECT_EQ(0, o.rqueue);
	EXPECT_EQ(o.rqueue, r->qnow);
	EXPECT_EQ(6, r->qpeak);
	EXPECT_EQ(7, r->enqueued);
	EXPECT_EQ(accepted, r->accepted);
	EXPECT_EQ(0, r->untimed);
	EXPECT_EQ(accepted, aq_hist_total(&r->wait));
	EXPECT_EQ(o.sk_drops, r->drops);
	EXPECT_EQ(1, r->drops_syn_acceptq);
	EXPECT_EQ(o.mib.overflows, r->drops_syn_acceptq + r->drops_ack_acceptq);
	aq_snap_free(&s);
	aq_close_fds(cfd, 7);
	close(lfd);
}

AQ_NETNS_TEST(life, listen_again_with_a_smaller_backlog, AQ_RUN_IF_MODULE,
	      relisten_in_netns, NULL)

/* ------------------------------------------------------------------ */
/* listen() above somaxconn                                            */

static void set_somaxconn(struct __test_metadata *_metadata, int value)
{
	char want[16], got[16] = "";

	snprintf(want, sizeof(want), "%d\n", value);
	ASSERT_EQ(0, aq_write_file("/proc/sys/net/core/somaxconn", want));
	ASSERT_LT(0, aq_read_file("/proc/sys/net/core/somaxconn", got,
				  sizeof(got) - 1));
	ASSERT_STREQ(want, got);
}

#define SOMAXCONN_UNIX_NAME "aq-life-somaxconn"

/* The row of @fd says @asked and @cap; sock_diag's backlog is @backlog. */
static void expect_asked(struct __test_metadata *_metadata, int fd,
			 bool is_unix, int64_t asked, int64_t cap,
			 int64_t backlog)
{
	struct aq_snap s;
	struct aq_row *r;
	uint32_t rq, wq;

	aq_snapshot(_metadata, &s);
	if (is_unix) {
		r = aq_the_row(_metadata, &s, aq_netns_ino(), "unix",
			       "@" SOMAXCONN_UNIX_NAME);
		ASSERT_EQ(0, aq_unix_diag(fd, &rq, &wq));
	} else {
		struct aq_diag d;

		r = aq_row_of(_metadata, &s, fd);
		ASSERT_EQ(1, diag_port(aq_port_of(fd), &d));
		wq = d.wqueue;
	}
	EXPECT_EQ(backlog, wq);
	EXPECT_EQ(wq, r->backlog);
	EXPECT_EQ(asked, r->backlog_asked);
	EXPECT_EQ(cap, r->somaxconn);
	aq_snap_free(&s);
}

static void somaxconn_in_netns(struct __test_metadata *_metadata, void *arg)
{
	struct aq_unix_addr ua;
	int lfd, ufd;

	set_somaxconn(_metadata, 128);
	lfd = aq_listen_tcp("127.0.0.1", 0, 4096, 0);
	ASSERT_LE(0, lfd);
	expect_asked(_metadata, lfd, false, 4096, 128, 128);

	/* -1 asks for the most allowed; the kernel reads it unsigned. */
	ASSERT_EQ(0, listen(lfd, -1));
	expect_asked(_metadata, lfd, false, UINT32_MAX, 128, 128);

	/* Under the cap: what was asked is the backlog. */
	set_somaxconn(_metadata, 1000);
	ASSERT_EQ(0, listen(lfd, 16));
	expect_asked(_metadata, lfd, false, 16, 1000, 16);
	close(lfd);

	set_somaxconn(_metadata, 128);
	aq_unix_abstract(&ua, SOMAXCONN_UNIX_NAME);
	ufd = aq_unix_listen(SOCK_STREAM, &ua, 4096);
	ASSERT_LE(0, ufd);
	expect_asked(_metadata, ufd, true, 4096, 128, 128);
	close(ufd);
}

AQ_NETNS_TEST(life, listen_above_somaxconn_says_what_was_asked,
	      AQ_RUN_IF_MODULE, somaxconn_in_netns, NULL)

/* ------------------------------------------------------------------ */
/* shutdown()                                                          */

/* A connect to abstract @name that must be refused; returns its socket. */
static int connect_refused(struct __test_metadata *_metadata, const char *name)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len = offsetof(struct sockaddr_un, sun_path) + 1 +
			strlen(name);
	int fd;

	memcpy(sun.sun_path + 1, name, strlen(name));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	EXPECT_LE(0, fd);
	EXPECT_EQ(-1, connect(fd, (struct sockaddr *)&sun, len));
	EXPECT_EQ(ECONNREFUSED, errno);
	return fd;
}

static void shutdown_in_netns(struct __test_metadata *_metadata, void *arg)
{
	struct aq_snap s0, s, s2;
	struct aq_row *r;
	char local[64], local2[64];
	int cfd[4], lfd, afd, i, ufd, u[3];
	int64_t id;

	aq_snapshot(_metadata, &s0);
	lfd = aq_listen_tcp("127.0.0.1", 0, 5, 0);
	ASSERT_LE(0, lfd);
	aq_local_str(lfd, local, sizeof(local));
	fill_port(_metadata, aq_port_of(lfd), cfd, 3, 0);
	afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, afd);
	close(afd);

	/* SHUT_WR: a listener has nothing to send; it goes on listening. */
	ASSERT_EQ(0, shutdown(lfd, SHUT_WR));
	ASSERT_EQ(AQ_TCP_LISTEN_STATE, aq_tcp_state(lfd));
	fill_port(_metadata, aq_port_of(lfd), &cfd[3], 1, 2);
	aq_snapshot(_metadata, &s);
	r = aq_row_of(_metadata, &s, lfd);
	id = r->id;
	EXPECT_EQ(3, r->qnow);
	EXPECT_EQ(4, r->enqueued);
	EXPECT_EQ(1, r->accepted);
	aq_snap_free(&s);

	/* SHUT_RD: the kernel stops the listener and resets its queue. */
	ASSERT_EQ(0, shutdown(lfd, SHUT_RD));
	EXPECT_EQ(7 /* TCP_CLOSE */, aq_tcp_state(lfd));
	EXPECT_EQ(0, aq_count_listeners(AF_INET));
	for (i = 1; i < 4; i++) {
		char c;

		EXPECT_EQ(-1, read(cfd[i], &c, 1)) TH_LOG("client %d not reset", i);
	}
	aq_snapshot(_metadata, &s);
	EXPECT_EQ(NULL, row_at(&s, "tcp", local));
	EXPECT_EQ(0, rows_in_my_netns(&s));
	EXPECT_EQ(s0.closed_listeners + 1, s.closed_listeners);
	EXPECT_EQ(s0.closed_enqueued + 4, s.closed_enqueued);
	EXPECT_EQ(s0.closed_accepted + 1, s.closed_accepted);
	EXPECT_EQ(s0.closed_drained + 3, s.closed_drained);
	aq_snap_free(&s);

	/* The same socket listens again: a new listener, a new row. */
	ASSERT_EQ(0, listen(lfd, 2));
	aq_local_str(lfd, local2, sizeof(local2));
	fill_port(_metadata, aq_port_of(lfd), cfd, 1, 0);
	aq_snapshot(_metadata, &s2);
	r = aq_row_of(_metadata, &s2, lfd);
	EXPECT_LT(id, r->id);
	EXPECT_EQ(2, r->backlog);
	EXPECT_EQ(1, r->enqueued);
	EXPECT_EQ(0, r->accepted);
	EXPECT_EQ(1, r->qpeak);
	EXPECT_EQ(getpid(), r->pid);
	EXPECT_EQ(1, rows_in_my_netns(&s2));
	aq_snap_free(&s2);
	aq_close_fds(cfd, 4);
	close(lfd);

	/* A unix listener shut down for reading: connects are refused
	 * (ECONNREFUSED), which is not a drop; what was queued stays and
	 * is accepted. */
	ufd = aq_unix_listen_at("aq-life-shut", true, 4);
	ASSERT_LE(0, ufd);
	for (i = 0; i < 2; i++) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		socklen_t len = offsetof(struct sockaddr_un, sun_path) + 1 +
				strlen("aq-life-shut");

		memcpy(sun.sun_path + 1, "aq-life-shut", strlen("aq-life-shut"));
		u[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		ASSERT_LE(0, u[i]);
		ASSERT_EQ(0, connect(u[i], (struct sockaddr *)&sun, len));
	}
	ASSERT_EQ(0, shutdown(ufd, SHUT_RD));
	u[2] = connect_refused(_metadata, "aq-life-shut");
	for (i = 0; i < 2; i++) {
		afd = accept4(ufd, NULL, NULL, SOCK_CLOEXEC);
		ASSERT_LE(0, afd) TH_LOG("accept %d after shutdown: %s", i,
					 strerror(errno));
		close(afd);
	}
	aq_snapshot(_metadata, &s);
	r = row_at(&s, "unix", "@aq-life-shut");
	ASSERT_NE(NULL, r);
	EXPECT_EQ(2, r->enqueued);
	EXPECT_EQ(2, r->accepted);
	EXPECT_EQ(0, r->qnow);
	EXPECT_EQ(0, r->drops);
	aq_snap_free(&s);
	for (i = 0; i < 3; i++)
		close(u[i]);
	close(ufd);
	aq_snap_free(&s0);
}

AQ_NETNS_TEST(life, shutdown_of_a_listener, AQ_RUN_IF_MODULE, shutdown_in_netns,
	      NULL)

/* ------------------------------------------------------------------ */
/* SCM_RIGHTS                                                          */

struct passed {
	int accepted;
	int rows_seen;		/* rows the receiver sees in its netns */
	int err;
	char why[128];
};

static int send_fd(int sock, int fd)
{
	char dummy = 'x';
	struct iovec iov = { .iov_base = &dummy, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
	char dummy;
	struct iovec iov = { .iov_base = &dummy, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -errno;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -EPROTO;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* The receiver: another process in another netns; accepts `n`, then
 * waits for the word to close. */
static void receiver(struct passed *p, int sock, int n)
{
	struct aq_snap s;
	char err[256], c;
	int lfd, i;

	aq_set_comm("aq-recv");
	if (aq_unshare_net()) {
		p->err = 1;
		snprintf(p->why, sizeof(p->why), "unshare: %s", strerror(errno));
		_exit(1);
	}
	lfd = recv_fd(sock);
	if (lfd < 0) {
		p->err = 1;
		snprintf(p->why, sizeof(p->why), "recvmsg: %s", strerror(-lfd));
		_exit(1);
	}
	for (i = 0; i < n; i++) {
		int afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (afd < 0) {
			p->err = 1;
			snprintf(p->why, sizeof(p->why), "accept %d: %s", i,
				 strerror(errno));
			_exit(1);
		}
		close(afd);
		__atomic_add_fetch(&p->accepted, 1, __ATOMIC_SEQ_CST);
	}
	if (aq_try_snapshot(&s, true, err, sizeof(err))) {
		p->err = 1;
		snprintf(p->why, sizeof(p->why), "%.120s", err);
		_exit(1);
	}
	p->rows_seen = s.nrows;
	aq_snap_free(&s);
	/* Tell the sender, then wait for its word to close the listener. */
	if (write(sock, "a", 1) != 1 || read(sock, &c, 1) != 1)
		_exit(1);
	close(lfd);
	_exit(0);
}

static void scm_in_netns(struct __test_metadata *_metadata, void *arg)
{
	struct passed *p = aq_shared_alloc(sizeof(*p));
	struct aq_snap s0, s, s2;
	struct aq_row *r;
	char local[64], c;
	int sv[2], lfd, cfd[5], status, i;
	uint16_t port;
	pid_t pid;
	struct aq_diag d;

	ASSERT_NE(NULL, p);
	aq_snapshot(_metadata, &s0);
	aq_set_comm("aq-owner");
	lfd = aq_listen_tcp("127.0.0.1", 0, 8, 0);
	ASSERT_LE(0, lfd);
	port = aq_port_of(lfd);
	aq_local_str(lfd, local, sizeof(local));
	fill_port(_metadata, port, cfd, 3, 0);

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sv[0]);
		close(lfd);
		receiver(p, sv[1], 5);
	}
	close(sv[1]);
	ASSERT_EQ(0, send_fd(sv[0], lfd));
	close(lfd);	/* the receiver's copy is the only one now */

	/* Two more after the pass, in the listener's namespace. */
	for (i = 3; i < 5; i++) {
		cfd[i] = aq_connect_nb("127.0.0.1", port, false);
		ASSERT_LE(0, cfd[i]);
		ASSERT_EQ(TCP_ESTABLISHED, aq_wait_state(cfd[i], TCP_ESTABLISHED));
	}
	ASSERT_EQ(1, read(sv[0], &c, 1)) TH_LOG("the receiver: %s", p->why);
	ASSERT_EQ(0, p->err) TH_LOG("the receiver: %s", p->why);
	EXPECT_EQ(5, p->accepted);
	EXPECT_EQ(0, p->rows_seen) TH_LOG("the receiver's netns has no listener");

	/* The listener lives on in the receiver, tracked as before. */
	ASSERT_EQ(1, diag_port(port, &d));
	aq_snapshot(_metadata, &s);
	r = row_at(&s, "tcp", local);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(d.rqueue, r->qnow);
	EXPECT_EQ(0, r->qnow);
	EXPECT_EQ(5, r->enqueued);
	EXPECT_EQ(5, r->accepted);
	EXPECT_EQ(0, r->untimed);
	EXPECT_EQ(5, aq_hist_total(&r->wait));
	EXPECT_EQ(getpid(), r->pid);
	EXPECT_STREQ("aq-owner", r->comm);

	/* The last copy closes: the row goes. */
	ASSERT_EQ(1, write(sv[0], "c", 1));
	status = aq_wait_child_bounded(pid, AQ_HANG_MS);
	ASSERT_NE(-1, status);
	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	EXPECT_EQ(0, aq_count_listeners(AF_INET));
	aq_snapshot(_metadata, &s2);
	EXPECT_EQ(NULL, row_at(&s2, "tcp", local));
	EXPECT_EQ(s0.closed_listeners + 1, s2.closed_listeners);
	EXPECT_EQ(s0.closed_accepted + 5, s2.closed_accepted);
	EXPECT_EQ(s0.closed_drained, s2.closed_drained);
	aq_snap_free(&s0);
	aq_snap_free(&s);
	aq_snap_free(&s2);
	close(sv[0]);
	aq_close_fds(cfd, 5);
}

AQ_NETNS_TEST(life, passed_over_scm_rights_and_accepted_there, AQ_RUN_IF_MODULE,
	      scm_in_netns, NULL)

AQ_TEST_HARNESS_MAIN
