// SPDX-License-Identifier: GPL-2.0
/*
 * On a PREEMPT_RT kernel aqueue refuses to load, with a message that says
 * why, and leaves nothing behind: its probe handlers still take locks that
 * sleep there, and a refusal is better than "BUG: scheduling while
 * atomic" under the first connection storm. A connection storm after the
 * refusal keeps the kernel log clean. Elsewhere this skips.
 */
#include <sys/utsname.h>

#include "kselftest_harness.h"

#include "aq_klog.h"
#include "aq_module.h"
#include "aq_sock.h"

#define MESSAGE "aqueue: PREEMPT_RT kernels are not supported yet"

static bool preempt_rt(void)
{
	struct utsname u;

	return !uname(&u) && strstr(u.version, "PREEMPT_RT");
}

TEST(refused_with_a_reason)
{
	static const char marker[] = "aqtest: preempt_rt refusal";
	char report[512];
	int i, lfd;

	if (!preempt_rt())
		SKIP(return, "not a PREEMPT_RT kernel");
	if (access(aq_module_path(), R_OK))
		SKIP(return, "no module at %s", aq_module_path());
	aq_klog_mark(marker);
	EXPECT_EQ(-EOPNOTSUPP, aq_load(NULL));
	EXPECT_FALSE(aq_is_loaded());
	EXPECT_EQ(1, aq_klog_count_since(marker, MESSAGE));
	EXPECT_NE(0, access("/proc/aqueue", F_OK));

	/* A storm, as the one that made the module's handlers sleep. */
	lfd = aq_listen_tcp("127.0.0.1", 0, 128, 0);
	ASSERT_LE(0, lfd);
	for (i = 0; i < 2000; i++) {
		int cfd = aq_connect("127.0.0.1", aq_port_of(lfd));
		int afd;

		ASSERT_LE(0, cfd);
		afd = accept(lfd, NULL, NULL);
		ASSERT_LE(0, afd);
		close(afd);
		close(cfd);
	}
	close(lfd);
	EXPECT_EQ(NULL, aq_klog_report_since(marker, report, sizeof(report)))
		TH_LOG("kernel log: %s", report);
}

TEST_HARNESS_MAIN
