/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The histograms of /proc/aqueue as doc/interface.md lays them out:
 * power-of-two buckets named by their low edge, 0, 1, 2, 4, ... for lengths
 * and bytes, 0, 1024, 2048, ... for nanoseconds; only non-empty buckets are
 * listed.
 */
#ifndef AQ_HIST_H
#define AQ_HIST_H

#include <stdbool.h>
#include <stdint.h>

#define AQ_HIST_MAX 48

struct aq_hist {
	int n;
	int64_t low[AQ_HIST_MAX];
	int64_t count[AQ_HIST_MAX];
};

int64_t aq_hist_total(const struct aq_hist *h);

/* The count of the bucket whose low edge is low (0 if not listed). */
int64_t aq_hist_get(const struct aq_hist *h, int64_t low);

bool aq_hist_same(const struct aq_hist *a, const struct aq_hist *b);

/* The bucket (its low edge) of a queue length and of a wait. */
int64_t aq_qlen_bucket(int64_t len);
int64_t aq_wait_bucket(int64_t ns);

/* [lo, hi) of the wait bucket whose low edge is low. */
int64_t aq_wait_bucket_hi(int64_t low);

#endif /* AQ_HIST_H */
