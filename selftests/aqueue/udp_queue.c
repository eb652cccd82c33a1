// SPDX-License-Identifier: GPL-2.0
/*
 * UDP receive queues, watched only on the ports named with `udp_ports`:
 * the probes exist only while some port is watched (the kernel's own
 * kprobes list says so), and a slow reader with a small SO_RCVBUF shows
 * the queue, the waits and the drops that SO_MEMINFO, the namespace's
 * Udp RcvbufErrors counter and CLOCK_MONOTONIC show.
 */
#include <inttypes.h>
#include <linux/bpf.h>
#include <linux/sock_diag.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"

#include "aq_clock.h"
#include "aq_ctl.h"
#include "aq_diag.h"
#include "aq_file.h"
#include "aq_fixture.h"
#include "aq_hist.h"
#include "aq_module.h"
#include "aq_netns.h"
#include "aq_proc.h"
#include "aq_snap.h"
#include "aq_sock.h"
#include "aq_task.h"

#define KPROBES_LIST "/sys/kernel/debug/kprobes/list"

static const char *const udp_probes[] = {
	"__udp_enqueue_schedule_skb", "__skb_recv_udp", "udp_lib_unhash",
};

/*
 * How many of the UDP probes the kernel lists as registered; *tcp says
 * whether aqueue's accept probe is there too (the list is read right).
 */
static int udp_probes_listed(struct __test_metadata *_metadata, bool *tcp)
{
	static char list[1 << 16];
	ssize_t n = aq_read_file(KPROBES_LIST, list, sizeof(list));
	size_t i;
	int found = 0;

	*tcp = false;
	ASSERT_LE(0, n) TH_LOG("reading %s", KPROBES_LIST);
	*tcp = aq_kprobe_listed(list, "inet_csk_accept") != 0;
	for (i = 0; i < sizeof(udp_probes) / sizeof(udp_probes[0]); i++)
		if (aq_kprobe_listed(list, udp_probes[i]))
			found++;
	return found;
}

#define EXPECT_PROBES(udp, tcp) do {					\
	bool __tcp;							\
	EXPECT_EQ(udp, udp_probes_listed(_metadata, &__tcp));		\
	EXPECT_EQ(tcp, __tcp);						\
} while (0)

AQ_FIXTURE(udpctl, NULL, AQ_MODULE_OPTIONAL)

TEST_F(udpctl, probes_only_while_a_port_is_watched)
{
	AQ_FINISH(&self->c);
	EXPECT_PROBES(0, true);
	AQ_CTL_EXPECT_LINE("udp_ports", "none");
	ASSERT_EQ(0, aq_control("udp_ports 5353,53\n"));
	EXPECT_PROBES(3, true);
	AQ_CTL_EXPECT_LINE("udp_ports", "53,5353");
	/* Disabled, nothing is probed; enabled again, UDP comes back. */
	ASSERT_EQ(0, aq_control("disable\n"));
	EXPECT_PROBES(0, false);
	ASSERT_EQ(0, aq_control("enable\n"));
	EXPECT_PROBES(3, true);
	ASSERT_EQ(0, aq_control("udp_ports none\n"));
	EXPECT_PROBES(0, true);
	AQ_CTL_EXPECT_LINE("udp_ports", "none");
	/* Bad lists change nothing. */
	ASSERT_EQ(0, aq_control("udp_ports 7\n"));
	EXPECT_EQ(-EINVAL, aq_control("udp_ports 0\n"));
	EXPECT_EQ(-EINVAL, aq_control("udp_ports 65536\n"));
	EXPECT_EQ(-EINVAL, aq_control("udp_ports 53,\n"));
	EXPECT_EQ(-EINVAL, aq_control("udp_ports -1\n"));
	EXPECT_EQ(-EINVAL, aq_control("udp_ports\n"));
	AQ_CTL_EXPECT_LINE("udp_ports", "7");
	EXPECT_PROBES(3, true);
}

TEST_F(udpctl, module_parameter)
{
	AQ_FINISH(&self->c);
	ASSERT_EQ(0, aq_unload());
	EXPECT_EQ(-EINVAL, aq_load("udp_ports=53,x"));
	EXPECT_FALSE(aq_is_loaded());
	ASSERT_EQ(0, aq_load("udp_ports=9,7"));
	AQ_CTL_EXPECT_LINE("udp_ports", "7,9");
	EXPECT_PROBES(3, true);
}

/* Udp (or Udp6) counter `name` of the caller's namespace, or -1. */
static long long udp_mib(int family, const char *name)
{
	char buf[16384], key[64], *line, *save = NULL;
	long long v = -1;

	if (family == AF_INET)
		return aq_snmp("/proc/net/snmp", "Udp", name);
	snprintf(key, sizeof(key), "Udp6%s", name);
	if (aq_read_file("/proc/net/snmp6", buf, sizeof(buf)) <= 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char k[64];
		long long val;

		if (sscanf(line, "%63s %lld", k, &val) == 2 && !strcmp(k, key))
			v = val;
	}
	return v;
}

AQ_FIXTURE(udp, NULL, AQ_MODULE_OPTIONAL)

FIXTURE_VARIANT(udp) {
	int family;
	const char *ip;
};

FIXTURE_VARIANT_ADD(udp, ipv4) { .family = AF_INET, .ip = "127.0.0.1" };
FIXTURE_VARIANT_ADD(udp, ipv6) { .family = AF_INET6, .ip = "::1" };

static void meminfo(struct __test_metadata *_metadata, int fd, uint32_t *mem)
{
	socklen_t len = sizeof(uint32_t) * SK_MEMINFO_VARS;

	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len));
}

struct slow_arg {
	struct aq_ctx *c;
	int family;
	const char *ip;
};

/* A test of the fixture whose body runs in a network namespace of its own. */
#define AQ_UDP_TEST(name, order, body)					\
	AQ_NETNS_TEST(udp, name, order, body,				\
		      &(struct slow_arg){ &self->c, variant->family,	\
					  variant->ip })

#define DATAGRAMS 40
#define PAYLOAD 100

/* A UDP socket bound to a free port of arg's address, *to. */
static int udp_bound(struct __test_metadata *_metadata,
		     const struct slow_arg *arg, union aq_addr *to)
{
	int fd = socket(arg->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, aq_addr(to, arg->ip, 0));
	ASSERT_EQ(0, bind(fd, &to->sa, aq_addr_len(to)));
	ASSERT_EQ(0, aq_addr(to, arg->ip, aq_port_of(fd)));
	return fd;
}

/* aqueue watches fd's port and no other. */
static void watch_only(struct __test_metadata *_metadata, int fd)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "udp_ports %u\n", aq_port_of(fd));
	ASSERT_EQ(0, aq_control(cmd));
}

/*
 * A server that has not read yet with a receive buffer for a few
 * datagrams: the first Q are queued, seeing 0..Q-1 before them, the rest
 * are dropped, each seeing Q. Then it reads them all after a pause.
 */
static void slow_reader_in_netns(struct __test_metadata *_metadata,
				 void *argp)
{
	struct slow_arg *arg = argp;
	uint32_t mem[SK_MEMINFO_VARS];
	union aq_addr a;
	char buf[PAYLOAD];
	int64_t t0, t1, t2, t3;
	long long rcvbuf_errors0, rcvbuf_errors;
	int srv, cli, i, q, got, rcvbuf = 2048;
	int64_t truesize;
	struct aq_snap s;
	struct aq_row *r;

	srv = udp_bound(_metadata, arg, &a);
	ASSERT_EQ(0, setsockopt(srv, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				sizeof(rcvbuf)));
	if (arg->c->module)
		watch_only(_metadata, srv);
	cli = socket(arg->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, cli);
	memset(buf, 'u', sizeof(buf));
	rcvbuf_errors0 = udp_mib(arg->family, "RcvbufErrors");
	ASSERT_LE(0, rcvbuf_errors0);
	t0 = aq_now_ns();
	for (i = 0; i < DATAGRAMS; i++)
		ASSERT_EQ(PAYLOAD, sendto(cli, buf, sizeof(buf), 0, &a.sa,
					  aq_addr_len(&a)));
	t1 = aq_now_ns();
	/* Loopback delivers as it sends: the queue is complete now. */
	meminfo(_metadata, srv, mem);
	rcvbuf_errors = udp_mib(arg->family, "RcvbufErrors") - rcvbuf_errors0;
	q = DATAGRAMS - (int)mem[SK_MEMINFO_DROPS];
	TH_LOG("%d datagrams: %d queued in %u bytes of rcvbuf %u, %u dropped, RcvbufErrors +%lld",
	       DATAGRAMS, q, mem[SK_MEMINFO_RMEM_ALLOC], mem[SK_MEMINFO_RCVBUF],
	       mem[SK_MEMINFO_DROPS], rcvbuf_errors);
	ASSERT_LT(0, q);
	ASSERT_GT(DATAGRAMS, q) TH_LOG("the receive buffer never filled");
	EXPECT_EQ(mem[SK_MEMINFO_DROPS], rcvbuf_errors);
	truesize = mem[SK_MEMINFO_RMEM_ALLOC] / q;
	EXPECT_EQ(truesize * q, mem[SK_MEMINFO_RMEM_ALLOC]);

	if (arg->c->module) {
		int64_t seen_len[DATAGRAMS], seen_bytes[DATAGRAMS];

		/* A peek takes nothing out. */
		ASSERT_EQ(PAYLOAD, recv(srv, buf, sizeof(buf), MSG_PEEK));
		aq_snapshot(_metadata, &s);
		r = aq_row_of(_metadata, &s, srv);
		ASSERT_TRUE(r->have_udp);
		EXPECT_EQ(mem[SK_MEMINFO_RCVBUF], r->backlog);
		EXPECT_EQ(mem[SK_MEMINFO_RMEM_ALLOC], r->rmem_now);
		EXPECT_EQ(mem[SK_MEMINFO_DROPS], r->drops);
		EXPECT_EQ(rcvbuf_errors, r->drops_rcvbuf);
		EXPECT_EQ(q, r->qnow);
		EXPECT_EQ(q, r->qpeak);
		EXPECT_EQ(q, r->enqueued);
		EXPECT_EQ(0, r->accepted);
		for (i = 0; i < DATAGRAMS; i++) {
			seen_len[i] = i < q ? i : q;
			seen_bytes[i] = seen_len[i] * truesize;
		}
		for (i = 0; i < DATAGRAMS; i++) {
			int64_t lb = aq_qlen_bucket(seen_len[i]);
			int64_t bb = aq_qlen_bucket(seen_bytes[i]);
			int j, want_l = 0, want_b = 0;

			for (j = 0; j < DATAGRAMS; j++) {
				want_l += aq_qlen_bucket(seen_len[j]) == lb;
				want_b += aq_qlen_bucket(seen_bytes[j]) == bb;
			}
			EXPECT_EQ(want_l, aq_hist_get(&r->qlen, lb))
				TH_LOG("qlen bucket %" PRId64, lb);
			EXPECT_EQ(want_b, aq_hist_get(&r->qbytes, bb))
				TH_LOG("qbytes bucket %" PRId64, bb);
		}
		EXPECT_EQ(DATAGRAMS, aq_hist_total(&r->qlen));
		EXPECT_EQ(DATAGRAMS, aq_hist_total(&r->qbytes));
		aq_snap_free(&s);
	}

	aq_sleep_ns(50 * 1000000LL);
	t2 = aq_now_ns();
	for (got = 0; recv(srv, buf, sizeof(buf), MSG_DONTWAIT) == PAYLOAD;)
		got++;
	t3 = aq_now_ns();
	EXPECT_EQ(q, got);

	if (arg->c->module) {
		int64_t lower = t2 - t1, upper = t3 - t0;

		aq_snapshot(_metadata, &s);
		r = aq_row_of(_metadata, &s, srv);
		EXPECT_EQ(got, r->accepted);
		EXPECT_EQ(0, r->qnow);
		EXPECT_EQ(0, r->untimed);
		EXPECT_EQ(getpid(), r->pid);
		EXPECT_EQ(got, aq_hist_total(&r->wait));
		for (i = 0; i < r->wait.n; i++)
			EXPECT_TRUE(r->wait.low[i] <= upper &&
				    aq_wait_bucket_hi(r->wait.low[i]) > lower)
				TH_LOG("wait bucket %" PRId64 " misses [%" PRId64 ", %" PRId64 "]",
				       r->wait.low[i], lower, upper);
		EXPECT_LE(got * lower, r->wait_sum_ns);
		EXPECT_GE(got * upper, r->wait_sum_ns);
		aq_snap_free(&s);
	}
	close(cli);
	close(srv);
}

AQ_UDP_TEST(slow_reader_queue_waits_and_drops, AQ_RUN_THEN_FINISH,
	    slow_reader_in_netns)

/* Only watched ports are tracked; a closed socket's row goes away. */
static void watched_only_in_netns(struct __test_metadata *_metadata,
				  void *argp)
{
	struct slow_arg *arg = argp;
	int watched, other, cli;
	union aq_addr a, b;
	struct aq_snap s;
	char c = 'x';

	watched = udp_bound(_metadata, arg, &a);
	other = udp_bound(_metadata, arg, &b);
	cli = socket(arg->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, cli);
	watch_only(_metadata, watched);
	ASSERT_EQ(1, sendto(cli, &c, 1, 0, &a.sa, aq_addr_len(&a)));
	ASSERT_EQ(1, sendto(cli, &c, 1, 0, &b.sa, aq_addr_len(&b)));
	ASSERT_EQ(1, recv(other, &c, 1, 0));

	aq_snapshot(_metadata, &s);
	EXPECT_EQ(1, aq_row_of(_metadata, &s, watched)->qnow);
	EXPECT_EQ(1, s.tracked);
	EXPECT_EQ(0, s.closed_listeners);
	aq_snap_free(&s);

	close(watched);
	aq_snapshot(_metadata, &s);
	EXPECT_EQ(0, s.tracked);
	EXPECT_EQ(1, s.closed_listeners);
	EXPECT_EQ(1, s.closed_drained);
	aq_snap_free(&s);
	close(other);
	close(cli);
}

AQ_UDP_TEST(only_watched_ports_and_close, AQ_FINISH_THEN_RUN,
	    watched_only_in_netns)

static int bpf_call(int cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/*
 * A sockmap holding srv, with a verdict program (return SK_PASS) that
 * takes every datagram as it arrives: the kernel then dequeues it in
 * softirq (udp_read_skb() calling __skb_recv_udp()), on whatever task the
 * softirq interrupted. Returns the map's fd, or -errno; the program stays
 * attached for as long as the map lives.
 */
static int sockmap_pass_all(int srv)
{
	struct bpf_insn prog[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = SK_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr;
	int map, fd, key = 0, err;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_SOCKMAP;
	attr.key_size = sizeof(int);
	attr.value_size = sizeof(int);
	attr.max_entries = 1;
	map = bpf_call(BPF_MAP_CREATE, &attr);
	if (map < 0)
		return -errno;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SK_SKB;
	attr.insns = (uintptr_t)prog;
	attr.insn_cnt = sizeof(prog) / sizeof(prog[0]);
	attr.license = (uintptr_t)"GPL";
	fd = bpf_call(BPF_PROG_LOAD, &attr);
	if (fd < 0)
		goto fail;

	memset(&attr, 0, sizeof(attr));
	attr.target_fd = map;
	attr.attach_bpf_fd = fd;
	attr.attach_type = BPF_SK_SKB_VERDICT;
	if (bpf_call(BPF_PROG_ATTACH, &attr))
		goto fail;
	close(fd);
	fd = -1;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = map;
	attr.key = (uintptr_t)&key;
	attr.value = (uintptr_t)&srv;
	attr.flags = BPF_ANY;
	if (bpf_call(BPF_MAP_UPDATE_ELEM, &attr))
		goto fail;
	return map;
fail:
	err = -errno;
	if (fd >= 0)
		close(fd);
	close(map);
	return err;
}

#define SENDER_COMM "aq-udp-sender"

/*
 * A receive that the kernel does in softirq runs on the task it
 * interrupted, here the sender (loopback delivers inside its sendto()):
 * that task must not be named as the socket's owner.
 */
static void sockmap_receive_in_netns(struct __test_metadata *_metadata,
				     void *argp)
{
	struct slow_arg *arg = argp;
	char buf[PAYLOAD], comm[32];
	int srv, map, got, status;
	struct aq_snap s;
	struct aq_row *r;
	union aq_addr a;
	pid_t sender;

	srv = udp_bound(_metadata, arg, &a);
	map = sockmap_pass_all(srv);
	if (map < 0) {
		close(srv);
		SKIP(return, "no sockmap verdict for UDP sockets (5.13 on): %s",
		     strerror(-map));
	}
	watch_only(_metadata, srv);

	sender = fork();
	ASSERT_LE(0, sender);
	if (sender == 0) {
		int cli = socket(arg->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		int i;

		aq_set_comm(SENDER_COMM);
		memset(buf, 'u', sizeof(buf));
		for (i = 0; i < DATAGRAMS; i++)
			if (sendto(cli, buf, sizeof(buf), 0, &a.sa,
				   aq_addr_len(&a)) != PAYLOAD)
				_exit(1);
		_exit(0);
	}
	ASSERT_EQ(sender, waitpid(sender, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* The kernel has taken them all off the socket's queue itself. */
	aq_snapshot(_metadata, &s);
	r = aq_row_of(_metadata, &s, srv);
	EXPECT_EQ(DATAGRAMS, r->enqueued);
	EXPECT_EQ(DATAGRAMS, r->accepted);
	EXPECT_EQ(0, r->qnow);
	EXPECT_NE(sender, r->pid);
	EXPECT_STRNE(SENDER_COMM, r->comm);
	aq_snap_free(&s);

	/* They reach the reader through the sockmap's own queue. */
	for (got = 0; recv(srv, buf, sizeof(buf), MSG_DONTWAIT) == PAYLOAD;)
		got++;
	EXPECT_EQ(DATAGRAMS, got);
	aq_get_comm(comm, sizeof(comm));
	aq_snapshot(_metadata, &s);
	r = aq_row_of(_metadata, &s, srv);
	EXPECT_NE(sender, r->pid);
	EXPECT_TRUE(r->pid == 0 || r->pid == getpid())
		TH_LOG("owner %d %s; the reader is %d %s", (int)r->pid, r->comm,
		       (int)getpid(), comm);
	aq_snap_free(&s);
	close(map);
	close(srv);
}

AQ_UDP_TEST(softirq_receive_names_no_task, AQ_FINISH_THEN_RUN,
	    sockmap_receive_in_netns)

AQ_TEST_HARNESS_MAIN
