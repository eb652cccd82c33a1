// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aq_unix.h"

void aq_unix_abstract(struct aq_unix_addr *a, const char *name)
{
	memset(a, 0, sizeof(*a));
	a->sun.sun_family = AF_UNIX;
	memcpy(a->sun.sun_path + 1, name, strlen(name));
	a->len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

void aq_unix_path(struct aq_unix_addr *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun.sun_family = AF_UNIX;
	snprintf(a->sun.sun_path, sizeof(a->sun.sun_path), "%s", path);
	a->len = sizeof(a->sun);
}

int aq_unix_listen(int type, const struct aq_unix_addr *a, int backlog)
{
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (bind(fd, (const struct sockaddr *)&a->sun, a->len) ||
	    listen(fd, backlog)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int aq_unix_listen_at(const char *name, bool abstract, int backlog)
{
	struct aq_unix_addr a;

	if (abstract) {
		aq_unix_abstract(&a, name);
	} else {
		unlink(name);
		aq_unix_path(&a, name);
	}
	return aq_unix_listen(SOCK_STREAM, &a, backlog);
}

int aq_unix_connect_nb(int type, const struct aq_unix_addr *a)
{
	int fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&a->sun, a->len)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int aq_unix_diag(int fd, uint32_t *rqueue, uint32_t *wqueue)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} msg = {
		.nlh = {
			.nlmsg_len = sizeof(msg),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST,
		},
		.req = {
			.sdiag_family = AF_UNIX,
			.udiag_states = -1,
			.udiag_show = UDIAG_SHOW_RQLEN,
			.udiag_cookie = { -1, -1 },
		},
	};
	char buf[8192];
	struct stat st;
	int ret = -ENOENT;
	ssize_t n;
	int nl;

	if (fstat(fd, &st))
		return -errno;
	msg.req.udiag_ino = st.st_ino;
	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return -errno;
	if (send(nl, &msg, sizeof(msg), 0) < 0) {
		ret = -errno;
		goto out;
	}
	n = recv(nl, buf, sizeof(buf), 0);
	if (n < 0) {
		ret = -errno;
		goto out;
	}
	for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n);
	     h = NLMSG_NEXT(h, n)) {
		struct unix_diag_msg *m = NLMSG_DATA(h);
		int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
		struct rtattr *a;

		if (h->nlmsg_type == NLMSG_ERROR) {
			ret = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
			ret = ret ? ret : -EPROTO;
			break;
		}
		if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
			continue;
		for (a = (struct rtattr *)(m + 1); RTA_OK(a, len);
		     a = RTA_NEXT(a, len)) {
			struct unix_diag_rqlen *q = RTA_DATA(a);

			if (a->rta_type != UNIX_DIAG_RQLEN)
				continue;
			*rqueue = q->udiag_rqueue;
			*wqueue = q->udiag_wqueue;
			ret = 0;
		}
	}
out:
	close(nl);
	return ret;
}

long aq_unix_rqlen(int fd)
{
	uint32_t rqueue, wqueue;
	int ret = aq_unix_diag(fd, &rqueue, &wqueue);

	return ret ? ret : (long)rqueue;
}
