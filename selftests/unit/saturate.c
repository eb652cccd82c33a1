// SPDX-License-Identifier: GPL-2.0
/*
 * The module's saturating arithmetic (module/saturate.h), held to 128-bit
 * arithmetic: the queue-length integral of a listener with a standing
 * queue of 4096 connections fits for 52 days and must stop at U64_MAX
 * from the 53rd on (it wrapped, so that /proc/aqueue's average queue fell
 * to almost nothing), advanced once a second as the module does, and on
 * random operands. Prints its seed; AQ_SEED=N replays one.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "saturate.h"

typedef unsigned __int128 u128;

static int failed, passed;

static void check(int ok, const char *what)
{
	printf("%s %d - %s\n", ok ? "ok" : "not ok", passed + failed + 1,
	       what);
	if (ok)
		passed++;
	else
		failed++;
}

static u64 oracle(u64 sum, u64 a, u64 b)
{
	u128 exact = (u128)sum + (u128)a * b;

	return exact > UINT64_MAX ? UINT64_MAX : (u64)exact;
}

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Operands of every size, the edges included. */
static uint64_t operand(void)
{
	static const uint64_t edge[] = { 0, 1, 2, UINT32_MAX,
		(uint64_t)UINT32_MAX + 1, UINT64_MAX / 2, UINT64_MAX - 1,
		UINT64_MAX };
	uint64_t r = rng();

	if (r % 8 == 0)
		return edge[(r >> 8) % (sizeof(edge) / sizeof(edge[0]))];
	return rng() >> (r % 64);
}

int main(void)
{
	const u64 ns_per_s = 1000000000ULL, ns_per_day = 86400 * ns_per_s;
	const char *seed_env = getenv("AQ_SEED");
	u64 area, exact, day52 = 52 * ns_per_day;
	int i, monotone = 1, exact_each = 1, random_ok = 1;
	uint64_t seed;

	seed = seed_env ? strtoull(seed_env, NULL, 0) :
	       (uint64_t)time(NULL) * 1000003ULL ^ (uint64_t)clock();
	rng_state = seed;
	printf("# seed %" PRIu64 "\n", seed);

	check(aq_add_product_sat(0, 4096, day52) == 4096 * day52,
	      "a queue of 4096 for 52 days fits exactly");
	check(aq_add_product_sat(0, 4096, day52 + ns_per_day) == UINT64_MAX,
	      "a queue of 4096 for 53 days stops at U64_MAX");
	check(aq_sub_sat(5, 3) == 2 && aq_sub_sat(3, 5) == 0 &&
	      aq_sub_sat(UINT64_MAX, 0) == UINT64_MAX && aq_sub_sat(7, 7) == 0,
	      "a difference of clock readings is never negative");
	check(aq_add_product_sat(UINT64_MAX, 0, UINT64_MAX) == UINT64_MAX &&
	      aq_add_product_sat(UINT64_MAX - 1, 1, 1) == UINT64_MAX &&
	      aq_add_product_sat(UINT64_MAX - 1, 1, 2) == UINT64_MAX &&
	      aq_add_product_sat(5, 0, 7) == 5,
	      "the edges");

	/* Once a second for 60 days, as a listener's integral is advanced. */
	area = 0;
	for (i = 0; i < 60 * 86400; i++) {
		u64 next = aq_add_product_sat(area, 4096, ns_per_s);

		exact = oracle(0, 4096, (u64)(i + 1) * ns_per_s);
		monotone &= next >= area;
		exact_each &= next == exact;
		area = next;
	}
	check(monotone, "advanced each second for 60 days: never decreases");
	check(exact_each && area == UINT64_MAX,
	      "advanced each second for 60 days: exact, then U64_MAX");

	for (i = 0; i < 1000000; i++) {
		u64 s = operand(), a = operand(), b = operand();

		if (aq_add_product_sat(s, a, b) != oracle(s, a, b)) {
			printf("# %" PRIu64 " + %" PRIu64 " * %" PRIu64
			       ": %" PRIu64 ", want %" PRIu64 "\n", s, a, b,
			       aq_add_product_sat(s, a, b), oracle(s, a, b));
			random_ok = 0;
			break;
		}
	}
	check(random_ok, "a million random operands against 128-bit sums");

	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
