/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Counts that any CPU may bump on the probes' path (events of listeners
 * that are filtered out or could not be tracked): per CPU, so that a busy
 * listener left out shares no cache line between CPUs; summed when read,
 * and zeroed by remembering the sum (a reset racing with a bump on
 * another CPU counts that bump on either side, never loses the total).
 */
#ifndef AQUEUE_COUNT_H
#define AQUEUE_COUNT_H

#include <linux/compiler.h>
#include <linux/cpumask.h>
#include <linux/percpu.h>

struct aq_count {
	unsigned long __percpu *cpus;
	unsigned long base;	/* the sum at the last reset */
};

#define AQ_COUNT_DEFINE(name)						\
	static DEFINE_PER_CPU(unsigned long, name##_cpus);		\
	static struct aq_count name = { .cpus = &name##_cpus }

static inline void aq_count_inc(struct aq_count *c)
{
	this_cpu_inc(*c->cpus);
}

static inline unsigned long aq_count_sum(const struct aq_count *c)
{
	unsigned long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(*per_cpu_ptr(c->cpus, cpu));
	return sum;
}

static inline long aq_count_read(const struct aq_count *c)
{
	return (long)(aq_count_sum(c) - READ_ONCE(c->base));
}

static inline void aq_count_reset(struct aq_count *c)
{
	WRITE_ONCE(c->base, aq_count_sum(c));
}

#endif /* AQUEUE_COUNT_H */
