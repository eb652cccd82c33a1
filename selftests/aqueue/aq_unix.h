/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Unix domain listeners (stream and seqpacket) for the tests, and the
 * kernel's own view of their queue: sock_diag's UNIX_DIAG_RQLEN.
 */
#ifndef AQ_UNIX_H
#define AQ_UNIX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

struct aq_unix_addr {
	struct sockaddr_un sun;
	socklen_t len;
};

/* An abstract name: "@" + name in /proc/aqueue. */
void aq_unix_abstract(struct aq_unix_addr *a, const char *name);

/* A filesystem name. */
void aq_unix_path(struct aq_unix_addr *a, const char *path);

/* A listener of type SOCK_STREAM or SOCK_SEQPACKET; the fd or -errno. */
int aq_unix_listen(int type, const struct aq_unix_addr *a, int backlog);

/*
 * A unix stream listener on a filesystem path (removed first) or an
 * abstract name (without its leading NUL); the fd or -errno.
 */
int aq_unix_listen_at(const char *name, bool abstract, int backlog);

/* Returns the connected fd, or -errno of the non-blocking connect. */
int aq_unix_connect_nb(int type, const struct aq_unix_addr *a);

/*
 * sock_diag's UNIX_DIAG_RQLEN of a listener: its queue length now and its
 * backlog (sk_max_ack_backlog). 0 or -errno.
 */
int aq_unix_diag(int fd, uint32_t *rqueue, uint32_t *wqueue);

/* The listener's queue length as sock_diag reports it, or -errno. */
long aq_unix_rqlen(int fd);

#endif /* AQ_UNIX_H */
