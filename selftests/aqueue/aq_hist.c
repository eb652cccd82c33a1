// SPDX-License-Identifier: GPL-2.0
#include "aq_hist.h"

int64_t aq_hist_total(const struct aq_hist *h)
{
	int64_t t = 0;
	int i;

	for (i = 0; i < h->n; i++)
		t += h->count[i];
	return t;
}

int64_t aq_hist_get(const struct aq_hist *h, int64_t low)
{
	int i;

	for (i = 0; i < h->n; i++)
		if (h->low[i] == low)
			return h->count[i];
	return 0;
}

bool aq_hist_same(const struct aq_hist *a, const struct aq_hist *b)
{
	int i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (a->low[i] != b->low[i] || a->count[i] != b->count[i])
			return false;
	return true;
}

int64_t aq_qlen_bucket(int64_t len)
{
	int64_t b = 1;

	if (len == 0)
		return 0;
	while (b <= len / 2)
		b <<= 1;
	return b;
}

int64_t aq_wait_bucket(int64_t ns)
{
	int64_t b = 1024;

	if (ns < 1024)
		return 0;
	while (b <= ns / 2)
		b <<= 1;
	return b;
}

int64_t aq_wait_bucket_hi(int64_t low)
{
	return low ? 2 * low : 1024;
}
