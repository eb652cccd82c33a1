// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <time.h>

#include "aq_clock.h"

int64_t aq_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void aq_sleep_ns(int64_t ns)
{
	struct timespec ts = {
		.tv_sec = ns / 1000000000LL,
		.tv_nsec = ns % 1000000000LL,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}
