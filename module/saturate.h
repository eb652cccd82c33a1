/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Arithmetic that never wraps. Sums that run for the life of a listener
 * (months on a server) stop at U64_MAX: a reader that divides one by a
 * duration then gets an upper bound, never a small number. Differences of
 * clock readings stop at 0. Kept free of anything but the arithmetic so
 * that selftests/unit checks it on the host.
 */
#ifndef AQ_SATURATE_H
#define AQ_SATURATE_H

#include <linux/limits.h>
#include <linux/overflow.h>
#include <linux/types.h>

/* a - b, or 0 where b is larger (a clock read on another CPU, earlier). */
static inline u64 aq_sub_sat(u64 a, u64 b)
{
	return a > b ? a - b : 0;
}

/* sum + a * b, or U64_MAX where that does not fit. */
static inline u64 aq_add_product_sat(u64 sum, u64 a, u64 b)
{
	u64 product;

	if (check_mul_overflow(a, b, &product) ||
	    check_add_overflow(sum, product, &sum))
		return U64_MAX;
	return sum;
}

#endif /* AQ_SATURATE_H */
