/* SPDX-License-Identifier: GPL-2.0 */
/* CLOCK_MONOTONIC in nanoseconds: what every test measures time with. */
#ifndef AQ_CLOCK_H
#define AQ_CLOCK_H

#include <stdint.h>

/*
 * Bound on every "wait until the kernel shows X" loop: not a threshold the
 * test measures, only a guard against a hang.
 */
#define AQ_WAIT_MS 5000

int64_t aq_now_ns(void);
void aq_sleep_ns(int64_t ns);

#endif /* AQ_CLOCK_H */
