/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A deterministic PRNG (splitmix64) for the stress and bad-input tests:
 * the same seed gives the same run, and the seed is printed to replay it.
 */
#ifndef AQ_RNG_H
#define AQ_RNG_H

#include <stdbool.h>
#include <stdint.h>

struct aq_rng {
	uint64_t s;
};

uint64_t aq_rand64(struct aq_rng *r);

/* Uniform in [0, n); n > 0. */
uint64_t aq_rand_below(struct aq_rng *r, uint64_t n);

/* True with probability num/den. */
bool aq_chance(struct aq_rng *r, unsigned int num, unsigned int den);

/* The seed: $AQ_SEED when given (to replay a run), else from the clock. */
uint64_t aq_seed(void);

#endif /* AQ_RNG_H */
