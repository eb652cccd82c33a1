// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <time.h>

#include "aq_rng.h"

uint64_t aq_rand64(struct aq_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t aq_rand_below(struct aq_rng *r, uint64_t n)
{
	return aq_rand64(r) % n;
}

bool aq_chance(struct aq_rng *r, unsigned int num, unsigned int den)
{
	return aq_rand_below(r, den) < num;
}

uint64_t aq_seed(void)
{
	const char *env = getenv("AQ_SEED");
	struct timespec ts;

	if (env && *env)
		return strtoull(env, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec;
}
