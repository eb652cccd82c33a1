// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aq_clock.h"
#include "aq_sock.h"

socklen_t aq_addr_len(const union aq_addr *a)
{
	return a->sa.sa_family == AF_INET ? sizeof(a->in) : sizeof(a->in6);
}

int aq_addr(union aq_addr *a, const char *ip, uint16_t port)
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

uint16_t aq_port_of(int fd)
{
	union aq_addr a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, &a.sa, &len))
		return 0;
	return ntohs(a.sa.sa_family == AF_INET ? a.in.sin_port :
						   a.in6.sin6_port);
}

void aq_local_str(int fd, char *buf, size_t size)
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

int64_t aq_sock_ino(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return 0;
	return st.st_ino;
}

int aq_listen_tcp(const char *ip, uint16_t port, int backlog, int flags)
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

int aq_connect_nb(const char *ip, uint16_t port, bool defer_ack)
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

int aq_connect(const char *ip, uint16_t port)
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

int aq_tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return -1;
	return ti.tcpi_state;
}

int aq_wait_state(int fd, int want)
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

void aq_close_rst(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

void aq_close_fds(int *fd, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (fd[i] >= 0)
			aq_close_rst(fd[i]);
		fd[i] = -1;
	}
}

int aq_accept_nb(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int fd;

	if (poll(&p, 1, 0) != 1)
		return -EAGAIN;
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int aq_raise_nofile(rlim_t n)
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
