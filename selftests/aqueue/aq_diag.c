// SPDX-License-Identifier: GPL-2.0
#include "aq_harness.h"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "aq_clock.h"
#include "aq_diag.h"
#include "aq_file.h"
#include "aq_sock.h"

long long aq_snmp(const char *path, const char *group, const char *name)
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

long long aq_netstat(const char *group, const char *name)
{
	return aq_snmp("/proc/net/netstat", group, name);
}

void aq_listen_mib(struct __test_metadata *_metadata, struct aq_listen_mib *m)
{
	m->overflows = aq_netstat("TcpExt", "ListenOverflows");
	m->drops = aq_netstat("TcpExt", "ListenDrops");
	ASSERT_LE(0, m->overflows) TH_LOG("no TcpExt ListenOverflows");
	ASSERT_LE(0, m->drops) TH_LOG("no TcpExt ListenDrops");
}

long long aq_sk_drops(int fd)
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

int aq_diag_dump(int family, uint32_t states, uint16_t port,
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

int aq_diag_listeners(int family, uint16_t port, struct aq_diag *out, int max)
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

static int aq_diag_tcp_info(int fd, struct aq_diag *out)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	union aq_addr a;
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

int aq_diag_of(int fd, struct aq_diag *out)
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

int aq_count_listeners(int family)
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

long aq_diag_rqueue(int fd)
{
	struct aq_diag d = { .rqueue = 0 };

	return aq_diag_of(fd, &d) ? -1 : (long)d.rqueue;
}

long aq_wait_rqueue(int fd, long want)
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

long long aq_wait_drops(int fd, long long want)
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
