// SPDX-License-Identifier: GPL-2.0
#include "aq_harness.h"

#include "aq_clock.h"
#include "aq_diag.h"
#include "aq_fill.h"
#include "aq_sock.h"

void aq_fill_timed(struct __test_metadata *_metadata, int lfd, const char *ip,
		   int *cfd, int n, long already, int64_t *t_before,
		   int64_t *t_queued)
{
	uint16_t port = aq_port_of(lfd);
	int i;

	for (i = 0; i < n; i++) {
		if (t_before)
			t_before[i] = aq_now_ns();
		cfd[i] = aq_connect_nb(ip, port, false);
		ASSERT_LE(0, cfd[i]) TH_LOG("connect %d: %s", i,
					    strerror(-cfd[i]));
		ASSERT_EQ(TCP_ESTABLISHED,
			  aq_wait_state(cfd[i], TCP_ESTABLISHED))
			TH_LOG("client %d never established", i);
		ASSERT_EQ(already + i + 1, aq_wait_rqueue(lfd, already + i + 1))
			TH_LOG("sock_diag: connection %d not queued", i);
		if (t_queued)
			t_queued[i] = aq_now_ns();
	}
}

void aq_fill(struct __test_metadata *_metadata, int lfd, const char *ip,
	     int *cfd, int n, long already)
{
	aq_fill_timed(_metadata, lfd, ip, cfd, n, already, NULL, NULL);
}

void aq_overflow(struct __test_metadata *_metadata, int lfd, const char *ip,
		 int n)
{
	uint16_t port = aq_port_of(lfd);
	int i;

	for (i = 0; i < n; i++) {
		long long before = aq_sk_drops(lfd);
		int fd = aq_connect_nb(ip, port, false);

		ASSERT_LE(0, fd);
		ASSERT_LE(before + 1, aq_wait_drops(lfd, before + 1))
			TH_LOG("SYN %d to a full queue was not dropped", i);
		EXPECT_EQ(TCP_SYN_SENT, aq_tcp_state(fd));
		close(fd);
	}
}
