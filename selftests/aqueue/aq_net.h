/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's own oracles for the TCP tests, and the plumbing around them:
 *
 *  - NETLINK_SOCK_DIAG (inet_diag, INET_DIAG_REQ_V2): what `ss -lnt` shows
 *    for a listener, idiag_rqueue = accept queue now, idiag_wqueue = backlog,
 *    and the requests in SYN-RECV (`ss -tn state syn-recv`);
 *  - getsockopt(SO_MEMINFO): SK_MEMINFO_DROPS = the listener's sk_drops;
 *  - /proc/net/netstat TcpExt counters of the current network namespace;
 *  - running a function in a fresh network namespace, so that the netstat
 *    deltas belong to the test alone and ports never collide;
 *  - small socket helpers (listen, non-blocking connect, waits bounded in
 *    time), CLOCK_MONOTONIC and RLIMIT_NOFILE.
 *
 * Helpers that assert take _metadata. None of them may be called from a
 * thread other than the test's main one when they assert (longjmp).
 */
#ifndef AQ_NET_H
#define AQ_NET_H

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "aq_test.h"

#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif
#ifndef SO_REUSEPORT
#define SO_REUSEPORT 15
#endif

#define AQ_TCP_LISTEN_STATE 10	/* TCP_LISTEN in the kernel's enum */
#define AQ_TCP_SYN_RECV_STATE 3	/* TCP_SYN_RECV */

/* Bound on every "wait until the kernel shows X" loop: not a threshold the
 * test measures, only a guard against a hang. */
#define AQ_WAIT_MS 5000

static inline int64_t aq_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline void aq_sleep_ns(int64_t ns)
{
	struct timespec ts = {
		.tv_sec = ns / 1000000000LL,
		.tv_nsec = ns % 1000000000LL,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Raises RLIMIT_NOFILE to at least n (root may raise the hard limit). */
static inline int aq_raise_nofile(rlim_t n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -errno;
	if (rl.rlim_cur >= n)
		return 0;
	if (rl.rlim_max < n)
		rl.rlim_max = n;
	rl.rlim_cur = n;
	return setrlimit(RLIMIT_NOFILE, &rl) ? -errno : 0;
}

/* Inode of the caller's network namespace, as /proc/aqueue prints it. */
static inline int64_t aq_netns_ino(void)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st))
		return 0;
	return st.st_ino;
}

static inline int64_t aq_sock_ino(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return 0;
	return st.st_ino;
}

/* ------------------------------------------------------------------ */
/* Network namespaces                                                  */

static inline int aq_lo_up(void)
{
	struct ifreq ifr;
	int fd, ret = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		ret = -errno;
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			ret = -errno;
	}
	close(fd);
	return ret;
}

/* Enters a new network namespace with lo up. */
static inline int aq_unshare_net(void)
{
	if (unshare(CLONE_NEWNET))
		return -errno;
	return aq_lo_up();
}

typedef void (*aq_netns_fn)(struct __test_metadata *_metadata, void *arg);

/*
 * Runs fn(arg) in a forked child, inside a fresh network namespace when
 * newnet. ASSERT_* inside fn ends the child only: its jump buffer is
 * re-armed here, so the fixture's teardown never runs in the child. Memory
 * fn must hand back belongs in aq_shared_alloc(). Returns the child's pid.
 */
static inline pid_t aq_child_start(struct __test_metadata *_metadata,
				   aq_netns_fn fn, void *arg, bool newnet)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		int ret = newnet ? aq_unshare_net() : 0;

		if (ret) {
			SKIP(_exit(4), "cannot create a network namespace: %s",
			     strerror(-ret));
		}
		if (setjmp(_metadata->env) == 0)
			fn(_metadata, arg);
		fflush(stdout);
		if (_metadata->skip)
			_exit(4);
		_exit(_metadata->passed && !_metadata->aborted ? 0 : 1);
	}
	return pid;
}

/* Fails (or skips) the test as the child did. */
static inline void aq_child_wait(struct __test_metadata *_metadata, pid_t pid)
{
	int status;

	ASSERT_LT(0, pid) TH_LOG("fork: %s", strerror(errno));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 4) {
		char reason[sizeof(_metadata->results->reason)];

		memcpy(reason, _metadata->results->reason, sizeof(reason));
		reason[sizeof(reason) - 1] = '\0';
		SKIP(return, "%s", reason);
	}
	ASSERT_TRUE(WIFEXITED(status))
		TH_LOG("child died by signal %d",
		       WIFSIGNALED(status) ? WTERMSIG(status) : -1);
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("the part of the test run in a child failed");
}

/* Runs fn(arg) in a fresh network namespace (in a child) and waits. */
static inline void aq_in_netns(struct __test_metadata *_metadata,
			       aq_netns_fn fn, void *arg)
{
	aq_child_wait(_metadata, aq_child_start(_metadata, fn, arg, true));
}

/* Anonymous memory shared with children forked after this call. */
static inline void *aq_shared_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* ------------------------------------------------------------------ */
/* /proc/net/netstat                                                   */

/*
 * Value of counter `name` in the `group` ("TcpExt", "Udp") of a file laid
 * out as /proc/net/netstat and /proc/net/snmp are (a line of names, then
 * one of values), in the caller's namespace; -1 when absent.
 */
static inline long long aq_snmp(const char *path, const char *group,
				const char *name)
{
	char buf[16384], *names = NULL, *values = NULL, *line, *save = NULL;
	size_t glen = strlen(group);
	long long result = -1;

	if (aq_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, group, glen) || line[glen] != ':')
			continue;
		if (!names) {
			names = line;
		} else {
			values = line;
			break;
		}
	}
	if (names && values) {
		char *ns = NULL, *vs = NULL, *n, *v;

		n = strtok_r(names + glen + 1, " ", &ns);
		v = strtok_r(values + glen + 1, " ", &vs);
		while (n && v) {
			if (!strcmp(n, name)) {
				result = strtoll(v, NULL, 10);
				break;
			}
			n = strtok_r(NULL, " ", &ns);
			v = strtok_r(NULL, " ", &vs);
		}
	}
	return result;
}

static inline long long aq_netstat(const char *group, const char *name)
{
	return aq_snmp("/proc/net/netstat", group, name);
}

struct aq_listen_mib {
	long long overflows;	/* TcpExtListenOverflows */
	long long drops;	/* TcpExtListenDrops */
};

static inline void aq_listen_mib(struct __test_metadata *_metadata,
				 struct aq_listen_mib *m)
{
	m->overflows = aq_netstat("TcpExt", "ListenOverflows");
	m->drops = aq_netstat("TcpExt", "ListenDrops");
	ASSERT_LE(0, m->overflows) TH_LOG("no TcpExt ListenOverflows");
	ASSERT_LE(0, m->drops) TH_LOG("no TcpExt ListenDrops");
}

/* ------------------------------------------------------------------ */
/* SO_MEMINFO                                                          */

/* The socket's sk_drops, or -1 on error. */
static inline long long aq_sk_drops(int fd)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);

	memset(mem, 0, sizeof(mem));
	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0)
		return -1;
	if (len < (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t))
		return -1;
	return mem[SK_MEMINFO_DROPS];
}

/* ------------------------------------------------------------------ */
/* NETLINK_SOCK_DIAG                                                   */

struct aq_diag {
	int family;
	uint16_t port;			/* host order */
	uint8_t addr[16];
	uint32_t rqueue;		/* accept queue now */
	uint32_t wqueue;		/* backlog */
	int64_t inode;
	uint64_t cookie;
};

/*
 * TCP sockets of one family in the caller's namespace whose state is in
 * `states` (a mask of 1U << state, the kernel's TCP_* numbers), optionally
 * only those on local port `port` (0: all). Returns how many were stored
 * in out (at most max; more are counted but not stored), or -errno.
 */
static inline int aq_diag_dump(int family, uint32_t states, uint16_t port,
			       struct aq_diag *out, int max)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg;
	struct sockaddr_nl nladdr = { .nl_family = AF_NETLINK };
	static char buf[65536];
	int fd, count = 0, done = 0, ret = 0;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg.nlh.nlmsg_seq = 1;
	msg.req.sdiag_family = family;
	msg.req.sdiag_protocol = IPPROTO_TCP;
	msg.req.idiag_states = states;
	msg.req.id.idiag_sport = htons(port);
	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&nladdr,
		   sizeof(nladdr)) < 0) {
		ret = -errno;
		goto out;
	}
	while (!done) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		if (n == 0)
			break;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			struct inet_diag_msg *d;

			if (h->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				ret = e->error ? e->error : -EPROTO;
				goto out;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
				continue;
			d = NLMSG_DATA(h);
			if (d->idiag_state >= 32 ||
			    !(states & (1U << d->idiag_state)) ||
			    d->idiag_family != family)
				continue;
			if (port && ntohs(d->id.idiag_sport) != port)
				continue;
			if (count < max) {
				struct aq_diag *o = &out[count];

				memset(o, 0, sizeof(*o));
				o->family = d->idiag_family;
				o->port = ntohs(d->id.idiag_sport);
				memcpy(o->addr, d->id.idiag_src,
				       family == AF_INET ? 4 : 16);
				o->rqueue = d->idiag_rqueue;
				o->wqueue = d->idiag_wqueue;
				o->inode = d->idiag_inode;
				o->cookie = (uint64_t)d->id.idiag_cookie[0] |
					    (uint64_t)d->id.idiag_cookie[1] << 32;
			}
			count++;
		}
	}
	ret = count;
out:
	close(fd);
	return ret;
}

/* TCP listeners (state LISTEN), as aq_diag_dump(). */
static inline int aq_diag_listeners(int family, uint16_t port,
				    struct aq_diag *out, int max)
{
	return aq_diag_dump(family, 1U << AQ_TCP_LISTEN_STATE, port, out, max);
}

/*
 * Which oracle answered: Debian builds inet_diag and tcp_diag as modules,
 * which a bare test guest may not have. The fallback is TCP_INFO on the
 * listening socket itself: for a listener, tcp_get_info() reports
 * tcpi_unacked = sk_ack_backlog and tcpi_sacked = sk_max_ack_backlog, the
 * very fields tcp_diag_get_info() puts in idiag_rqueue / idiag_wqueue.
 */
enum { AQ_DIAG_UNKNOWN, AQ_DIAG_NETLINK, AQ_DIAG_TCP_INFO };
static int aq_diag_source = AQ_DIAG_UNKNOWN;

static inline int aq_diag_tcp_info(int fd, struct aq_diag *out)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} a;
	socklen_t alen = sizeof(a);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) ||
	    getsockname(fd, &a.sa, &alen))
		return -errno;
	if (ti.tcpi_state != AQ_TCP_LISTEN_STATE)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->family = a.sa.sa_family;
	if (a.sa.sa_family == AF_INET) {
		out->port = ntohs(a.in.sin_port);
		memcpy(out->addr, &a.in.sin_addr, 4);
	} else {
		out->port = ntohs(a.in6.sin6_port);
		memcpy(out->addr, &a.in6.sin6_addr, 16);
	}
	out->rqueue = ti.tcpi_unacked;
	out->wqueue = ti.tcpi_sacked;
	out->inode = aq_sock_ino(fd);
	return 0;
}

/* The kernel's view of the listening socket fd (sock_diag, by inode). */
static inline int aq_diag_of(int fd, struct aq_diag *out)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct aq_diag all[64];
	int64_t ino = aq_sock_ino(fd);
	uint16_t port;
	int n, i;

	/* AQ_DIAG_TCP_INFO=1 forces the fallback (to check it on a host). */
	if (aq_diag_source == AQ_DIAG_UNKNOWN && getenv("AQ_DIAG_TCP_INFO"))
		aq_diag_source = AQ_DIAG_TCP_INFO;
	if (aq_diag_source == AQ_DIAG_TCP_INFO)
		return aq_diag_tcp_info(fd, out);
	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -errno;
	port = ss.ss_family == AF_INET ?
		ntohs(((struct sockaddr_in *)&ss)->sin_port) :
		ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	n = aq_diag_listeners(ss.ss_family, port, all, 64);
	if (n == -ENOENT || n == -EOPNOTSUPP) {
		if (aq_diag_source == AQ_DIAG_UNKNOWN)
			fprintf(stderr, "# sock_diag: no inet_diag for TCP in this kernel (%s): using TCP_INFO's tcpi_unacked/tcpi_sacked\n",
				strerror(-n));
		aq_diag_source = AQ_DIAG_TCP_INFO;
		return aq_diag_tcp_info(fd, out);
	}
	if (n < 0)
		return n;
	aq_diag_source = AQ_DIAG_NETLINK;
	for (i = 0; i < n && i < 64; i++) {
		if (all[i].inode == ino) {
			*out = all[i];
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * How many TCP listeners of `family` the caller's namespace has: sock_diag,
 * or /proc/net/tcp{,6} (state 0A) without inet_diag.
 */
static inline int aq_count_listeners(int family)
{
	const char *path = family == AF_INET ? "/proc/net/tcp" :
					       "/proc/net/tcp6";
	int n = aq_diag_listeners(family, 0, NULL, 0);
	char line[512];
	FILE *f;

	if (n >= 0)
		return n;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = 0;
	while (fgets(line, sizeof(line), f)) {
		char st[8];

		if (sscanf(line, " %*s %*s %*s %7s", st) == 1 &&
		    !strcmp(st, "0A"))
			n++;
	}
	fclose(f);
	return n;
}

/* Accept queue now according to sock_diag, or -1. */
static inline long aq_diag_rqueue(int fd)
{
	struct aq_diag d = { .rqueue = 0 };

	return aq_diag_of(fd, &d) ? -1 : (long)d.rqueue;
}

/* Waits (bounded) until sock_diag shows `want` queued on fd; returns what
 * it saw last. */
static inline long aq_wait_rqueue(int fd, long want)
{
	int64_t end = aq_now_ns() + AQ_WAIT_MS * 1000000LL;
	long seen;

	for (;;) {
		seen = aq_diag_rqueue(fd);
		if (seen == want || aq_now_ns() > end)
			return seen;
		usleep(1000);
	}
}

/* Waits (bounded) until the listener's sk_drops reaches at least `want`. */
static inline long long aq_wait_drops(int fd, long long want)
{
	int64_t end = aq_now_ns() + AQ_WAIT_MS * 1000000LL;
	long long seen;

	for (;;) {
		seen = aq_sk_drops(fd);
		if (seen >= want || aq_now_ns() > end)
			return seen;
		usleep(1000);
	}
}

/* ------------------------------------------------------------------ */
/* Sockets                                                             */

union aq_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_storage ss;
};

static inline socklen_t aq_addr_len(const union aq_addr *a)
{
	return a->sa.sa_family == AF_INET ? sizeof(a->in) : sizeof(a->in6);
}

/* Fills a from a numeric address ("127.0.0.1", "::1", "::") and port. */
static inline int aq_addr(union aq_addr *a, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, ip, &a->in.sin_addr) == 1) {
		a->in.sin_family = AF_INET;
		a->in.sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &a->in6.sin6_addr) == 1) {
		a->in6.sin6_family = AF_INET6;
		a->in6.sin6_port = htons(port);
		return 0;
	}
	return -EINVAL;
}

static inline uint16_t aq_port_of(int fd)
{
	union aq_addr a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, &a.sa, &len))
		return 0;
	return ntohs(a.sa.sa_family == AF_INET ? a.in.sin_port :
						   a.in6.sin6_port);
}

/* "ADDR:PORT" as /proc/aqueue prints the local address of fd. */
static inline void aq_local_str(int fd, char *buf, size_t size)
{
	union aq_addr a;
	socklen_t len = sizeof(a);
	char ip[INET6_ADDRSTRLEN];

	buf[0] = '\0';
	if (getsockname(fd, &a.sa, &len))
		return;
	if (a.sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &a.in.sin_addr, ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, ntohs(a.in.sin_port));
	} else {
		inet_ntop(AF_INET6, &a.in6.sin6_addr, ip, sizeof(ip));
		snprintf(buf, size, "[%s]:%u", ip, ntohs(a.in6.sin6_port));
	}
}

enum {
	AQ_V6ONLY = 1 << 0,	/* IPV6_V6ONLY=1 (default: dual-stack off) */
	AQ_DUAL = 1 << 1,	/* IPV6_V6ONLY=0 */
	AQ_REUSEPORT = 1 << 2,
};

/*
 * A TCP listener on ip:port (port 0: any) with the given backlog; returns
 * the fd or -errno. No assertion, so threads may call it.
 */
static inline int aq_listen_tcp(const char *ip, uint16_t port, int backlog,
				int flags)
{
	union aq_addr a;
	int fd, one = 1, zero = 0, err;

	if (aq_addr(&a, ip, port))
		return -EINVAL;
	fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if ((flags & AQ_REUSEPORT) &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)))
		goto fail;
	if (a.sa.sa_family == AF_INET6 && (flags & (AQ_V6ONLY | AQ_DUAL)) &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
		       (flags & AQ_V6ONLY) ? &one : &zero, sizeof(int)))
		goto fail;
	if (bind(fd, &a.sa, aq_addr_len(&a)) || listen(fd, backlog))
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

/*
 * Starts a non-blocking connection to ip:port; returns the fd (the
 * handshake may still be in flight) or -errno. defer_ack makes the client
 * hold back the final ACK of the handshake (TCP_DEFER_ACCEPT on a
 * connecting socket: tcp_rcv_synsent_state_process() then schedules a
 * delayed ACK instead of sending it) until it sends data or its delayed-ACK
 * timer fires.
 */
static inline int aq_connect_nb(const char *ip, uint16_t port, bool defer_ack)
{
	union aq_addr a;
	int fd, one = 1;

	if (aq_addr(&a, ip, port))
		return -EINVAL;
	fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	if (defer_ack &&
	    setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one, sizeof(one))) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (connect(fd, &a.sa, aq_addr_len(&a)) && errno != EINPROGRESS) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Blocking connect; returns the fd or -errno. */
static inline int aq_connect(const char *ip, uint16_t port)
{
	union aq_addr a;
	int fd;

	if (aq_addr(&a, ip, port))
		return -EINVAL;
	fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, &a.sa, aq_addr_len(&a))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* TCP state of a socket (TCP_ESTABLISHED, TCP_SYN_SENT, ...) or -1. */
static inline int aq_tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return -1;
	return ti.tcpi_state;
}

/* Waits (bounded) until the client socket is in TCP state `want`. */
static inline int aq_wait_state(int fd, int want)
{
	int64_t end = aq_now_ns() + AQ_WAIT_MS * 1000000LL;
	int seen;

	for (;;) {
		seen = aq_tcp_state(fd);
		if (seen == want || aq_now_ns() > end)
			return seen;
		usleep(500);
	}
}

/* Closes with an RST (SO_LINGER 0) so that nothing of it lingers. */
static inline void aq_close_rst(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* Accepts if a connection is queued, never blocks; the fd or -errno. */
static inline int aq_accept_nb(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int fd;

	if (poll(&p, 1, 0) != 1)
		return -EAGAIN;
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Sets the calling thread's comm (what listen() records). */
static inline void aq_set_comm(const char *name)
{
	prctl(PR_SET_NAME, name, 0, 0, 0);
}

static inline void aq_get_comm(char *buf, size_t size)
{
	char name[17] = "";

	prctl(PR_GET_NAME, name, 0, 0, 0);
	snprintf(buf, size, "%s", name);
}

#endif /* AQ_NET_H */
