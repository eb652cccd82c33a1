/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TCP listeners with something in them: connections queued one by one,
 * each seen queued by sock_diag, and SYNs dropped at a full queue, each
 * seen dropped by SO_MEMINFO, in the caller's network namespace.
 */
#ifndef AQ_FILL_H
#define AQ_FILL_H

#include <stdint.h>

struct __test_metadata;

/*
 * Connects n clients to lfd (ip) and waits until sock_diag shows each one
 * queued on top of `already`. Client fds go to cfd. Where t_before and
 * t_queued are given, they get the CLOCK_MONOTONIC instants just before
 * each connect and once it is seen queued.
 */
void aq_fill_timed(struct __test_metadata *_metadata, int lfd, const char *ip,
		   int *cfd, int n, long already, int64_t *t_before,
		   int64_t *t_queued);

void aq_fill(struct __test_metadata *_metadata, int lfd, const char *ip,
	     int *cfd, int n, long already);

/*
 * Attempts n connections to a full queue: each SYN is dropped, which the
 * listener's sk_drops shows. The clients are closed at once (in SYN_SENT,
 * so nothing is sent) to stop their retransmissions.
 */
void aq_overflow(struct __test_metadata *_metadata, int lfd, const char *ip,
		 int n);

#endif /* AQ_FILL_H */
