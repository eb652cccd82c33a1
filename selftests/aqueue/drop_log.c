// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel-log line of a listener's first drop (`drop_log 1`), for every
 * kind of listener: tcp, tcp6, udp, udp6, unix on a filesystem name that
 * needs escaping (a space) and on an abstract name, unix-seq. Each one
 * drops more than once and gets exactly one line,
 *
 *   aqueue: listener ID PROTO LOCAL (pid PID) dropped; queue Q, backlog B
 *
 * whose ID, PROTO and LOCAL are byte for byte those of its row in
 * /proc/aqueue, whose PID is the process that called listen() (for UDP, the
 * first one that received, as doc/interface.md says), and whose queue and
 * backlog are the kernel's own after the drops: sock_diag's
 * (idiag_rqueue/idiag_wqueue, UNIX_DIAG_RQLEN) for TCP and unix, for UDP the
 * datagrams sent less SO_MEMINFO's drops, and its receive buffer. The unix
 * name is checked against one escaped here by doc/interface.md's rule.
 *
 * The drops are provoked as the queue tests do: TCP SYNs to a full accept
 * queue, datagrams to a full receive buffer on a port in `udp_ports`,
 * non-blocking connects to a full unix backlog. The log is read from
 * /dev/kmsg, from just before the first drop on.
 */
#include <inttypes.h>
#include <linux/sock_diag.h>
#include <stddef.h>
#include <stdio.h>

#include "kselftest_harness.h"

#include "aq_clock.h"
#include "aq_diag.h"
#include "aq_fill.h"
#include "aq_fixture.h"
#include "aq_klog.h"
#include "aq_module.h"
#include "aq_netns.h"
#include "aq_proc.h"
#include "aq_snap.h"
#include "aq_sock.h"
#include "aq_unix.h"

#define BACKLOG 1
#define DATAGRAMS 40
#define PAYLOAD 100

AQ_FIXTURE(droplog, NULL, AQ_MODULE_REQUIRED)

struct listener {
	const char *proto;		/* as /proc/aqueue must call it */
	int fd;
	int cfd[BACKLOG + 1];		/* its queued clients */
	char unix_name[128];		/* unix: escaped as documented */
	uint32_t queue, backlog;	/* the kernel's, after the drops */
	int64_t id;			/* its row's */
	int lines;			/* drop lines that name it */
	char line[1024];		/* the first one */
};

/* Backlog 1 admits two connections; two SYNs after them are dropped. */
static void tcp_drops(struct __test_metadata *_metadata, struct listener *l,
		      const char *ip)
{
	struct aq_diag d;

	l->fd = aq_listen_tcp(ip, 0, BACKLOG, 0);
	ASSERT_LE(0, l->fd) TH_LOG("listen on %s: %s", ip, strerror(-l->fd));
	aq_fill(_metadata, l->fd, ip, l->cfd, BACKLOG + 1, 0);
	aq_overflow(_metadata, l->fd, ip, 2);
	ASSERT_EQ(0, aq_diag_of(l->fd, &d));
	l->queue = d.rqueue;
	l->backlog = d.wqueue;
}

static void udp_bind(struct __test_metadata *_metadata, struct listener *l,
		     const char *ip)
{
	int rcvbuf = 2048;
	union aq_addr a;

	ASSERT_EQ(0, aq_addr(&a, ip, 0));
	l->fd = socket(a.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, l->fd);
	ASSERT_EQ(0, setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				sizeof(rcvbuf)));
	ASSERT_EQ(0, bind(l->fd, &a.sa, aq_addr_len(&a)));
}

/*
 * One datagram received, so that the socket has a pid, then more than its
 * receive buffer holds: the rest of them are dropped.
 */
static void udp_drops(struct __test_metadata *_metadata, struct listener *l,
		      const char *ip)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);
	char buf[PAYLOAD];
	union aq_addr a;
	int cli, i;

	ASSERT_EQ(0, aq_addr(&a, ip, aq_port_of(l->fd)));
	cli = socket(a.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, cli);
	memset(buf, 'u', sizeof(buf));
	ASSERT_EQ(1, sendto(cli, buf, 1, 0, &a.sa, aq_addr_len(&a)));
	ASSERT_EQ(1, recv(l->fd, buf, sizeof(buf), 0));
	for (i = 0; i < DATAGRAMS; i++)
		ASSERT_EQ(PAYLOAD, sendto(cli, buf, sizeof(buf), 0, &a.sa,
					  aq_addr_len(&a)));
	close(cli);
	/* Loopback delivers as it sends: the queue is complete now. */
	ASSERT_EQ(0, getsockopt(l->fd, SOL_SOCKET, SO_MEMINFO, mem, &len));
	ASSERT_LE(2U, mem[SK_MEMINFO_DROPS]) TH_LOG("the receive buffer never filled");
	l->queue = DATAGRAMS - mem[SK_MEMINFO_DROPS];
	l->backlog = mem[SK_MEMINFO_RCVBUF];
}

/*
 * A unix name as doc/interface.md says /proc/aqueue prints it: every space,
 * control character, backslash or non-ASCII byte as \ooo, an abstract
 * name after '@'.
 */
static void unix_escape(const struct aq_unix_addr *a, char *out, size_t size)
{
	const char *name = a->sun.sun_path;
	size_t len = a->len - offsetof(struct sockaddr_un, sun_path), i, o = 0;

	if (!name[0]) {
		out[o++] = '@';
		name++;
		len--;
	} else {
		len = strnlen(name, len);
	}
	for (i = 0; i < len && o + 5 < size; i++) {
		unsigned char c = name[i];

		if (c <= ' ' || c >= 0x7f || c == '\\')
			o += snprintf(out + o, size - o, "\\%03o", c);
		else
			out[o++] = c;
	}
	out[o] = '\0';
}

/* Backlog 1 admits two connections; two connects after them are refused. */
static void unix_drops(struct __test_metadata *_metadata, struct listener *l,
		       int type, const struct aq_unix_addr *a)
{
	int i, fd, admitted = 0, refused = 0;

	unix_escape(a, l->unix_name, sizeof(l->unix_name));
	l->fd = aq_unix_listen(type, a, BACKLOG);
	ASSERT_LE(0, l->fd) TH_LOG("listen on %s: %s", l->unix_name,
				   strerror(-l->fd));
	for (i = 0; i < BACKLOG + 1 + 2; i++) {
		fd = aq_unix_connect_nb(type, a);
		if (fd >= 0) {
			ASSERT_GT(BACKLOG + 1, admitted);
			l->cfd[admitted++] = fd;
		} else {
			ASSERT_EQ(-EAGAIN, fd) TH_LOG("connect %d: %s", i,
						       strerror(-fd));
			refused++;
		}
	}
	ASSERT_EQ(2, refused);
	ASSERT_EQ(0, aq_unix_diag(l->fd, &l->queue, &l->backlog));
}

/* Counts the drop lines that name a listener, keeping the first. */
static void take_line(struct __test_metadata *_metadata, struct listener *ls,
		      int n, const char *msg)
{
	char prefix[64];
	int i;

	if (strncmp(msg, "aqueue: listener ", 17))
		return;
	TH_LOG("kernel log: %s", msg);
	for (i = 0; i < n; i++) {
		snprintf(prefix, sizeof(prefix), "aqueue: listener %" PRId64 " ",
			 ls[i].id);
		if (strncmp(msg, prefix, strlen(prefix)))
			continue;
		if (!ls[i].lines++)
			snprintf(ls[i].line, sizeof(ls[i].line), "%s", msg);
	}
}

/* Reads the log until every listener has a line (bounded: a guard). */
static void read_lines(struct __test_metadata *_metadata, int kmsg,
		       struct listener *ls, int n)
{
	int64_t end = aq_now_ns() + AQ_WAIT_MS * 1000000LL;
	char msg[1024];
	int got, i, missing;

	for (;;) {
		while ((got = aq_kmsg_next(kmsg, msg, sizeof(msg))) > 0)
			take_line(_metadata, ls, n, msg);
		ASSERT_LE(0, got) TH_LOG("/dev/kmsg: %s", strerror(-got));
		for (i = 0, missing = 0; i < n; i++)
			missing += !ls[i].lines;
		if (!missing || aq_now_ns() > end)
			return;
		usleep(10000);
	}
}

enum { TCP, TCP6, UDP, UDP6, UNIX_PATH, UNIX_ABSTRACT, UNIX_SEQ, NKINDS };

static void drops_in_netns(struct __test_metadata *_metadata, void *argp)
{
	struct listener ls[NKINDS] = {
		[TCP] = { .proto = "tcp" },
		[TCP6] = { .proto = "tcp6" },
		[UDP] = { .proto = "udp" },
		[UDP6] = { .proto = "udp6" },
		[UNIX_PATH] = { .proto = "unix" },
		[UNIX_ABSTRACT] = { .proto = "unix" },
		[UNIX_SEQ] = { .proto = "unix-seq" },
	};
	char dir[] = "/tmp/aq drop log.XXXXXX", path[64], cmd[64], want[512];
	struct aq_unix_addr a;
	struct aq_snap s;
	int kmsg, i, j;

	for (i = 0; i < NKINDS; i++)
		for (j = 0; j < BACKLOG + 1; j++)
			ls[i].cfd[j] = -1;
	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	udp_bind(_metadata, &ls[UDP], "127.0.0.1");
	udp_bind(_metadata, &ls[UDP6], "::1");
	snprintf(cmd, sizeof(cmd), "udp_ports %u,%u\n",
		 aq_port_of(ls[UDP].fd), aq_port_of(ls[UDP6].fd));
	ASSERT_EQ(0, aq_control(cmd));

	kmsg = aq_kmsg_open();
	ASSERT_LE(0, kmsg) TH_LOG("/dev/kmsg: %s", strerror(-kmsg));
	tcp_drops(_metadata, &ls[TCP], "127.0.0.1");
	tcp_drops(_metadata, &ls[TCP6], "::1");
	udp_drops(_metadata, &ls[UDP], "127.0.0.1");
	udp_drops(_metadata, &ls[UDP6], "::1");
	aq_unix_path(&a, path);
	unix_drops(_metadata, &ls[UNIX_PATH], SOCK_STREAM, &a);
	aq_unix_abstract(&a, "aq-drop-log");
	unix_drops(_metadata, &ls[UNIX_ABSTRACT], SOCK_STREAM, &a);
	aq_unix_abstract(&a, "aq-drop-log-seq");
	unix_drops(_metadata, &ls[UNIX_SEQ], SOCK_SEQPACKET, &a);

	aq_snapshot(_metadata, &s);
	for (i = 0; i < NKINDS; i++) {
		struct aq_row *r = ls[i].unix_name[0] ?
			aq_the_row(_metadata, &s, aq_netns_ino(), ls[i].proto,
				   ls[i].unix_name) :
			aq_row_of(_metadata, &s, ls[i].fd);

		EXPECT_STREQ(ls[i].proto, r->proto);
		EXPECT_EQ(getpid(), r->pid);
		/* More than one drop: only the first is logged. */
		EXPECT_LE(2, r->drops) TH_LOG("%s %s", r->proto, r->local);
		ls[i].id = r->id;
	}
	read_lines(_metadata, kmsg, ls, NKINDS);
	for (i = 0; i < NKINDS; i++) {
		const struct aq_row *r = aq_snap_find_id(&s, ls[i].id);

		snprintf(want, sizeof(want),
			 "aqueue: listener %" PRId64 " %s %s (pid %d) dropped; queue %u, backlog %u",
			 r->id, r->proto, r->local, getpid(), ls[i].queue,
			 ls[i].backlog);
		EXPECT_EQ(1, ls[i].lines) TH_LOG("%s", want);
		EXPECT_STREQ(want, ls[i].line);
	}
	aq_snap_free(&s);
	close(kmsg);
	for (i = 0; i < NKINDS; i++) {
		aq_close_fds(ls[i].cfd, BACKLOG + 1);
		close(ls[i].fd);
	}
	unlink(path);
	rmdir(dir);
}

TEST_F(droplog, first_drop_of_each_kind)
{
	if (!self->c.module)
		return;
	ASSERT_EQ(0, aq_control("drop_log 1\n"));
	aq_in_netns(_metadata, drops_in_netns, NULL);
}

AQ_TEST_HARNESS_MAIN
