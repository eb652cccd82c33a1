/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * --prometheus: the text exposition format (0.0.4), as node_exporter's
 * textfile collector and a Prometheus scrape read it.
 */
#ifndef AQSTAT_SHOW_PROM_H
#define AQSTAT_SHOW_PROM_H

#include <stdio.h>

#include "parse_proc.h"
#include "row_filter.h"

/* Which histogram buckets --prometheus writes (--buckets). */
enum aq_buckets {
	/*
	 * the default: no bucket but +Inf, which each histogram has: its
	 * count, _sum and _count (their rates give the mean)
	 */
	AQ_BUCKETS_NONE,
	AQ_BUCKETS_COARSE,	/* one edge in two (times) or four (lengths) */
	AQ_BUCKETS_ALL,		/* every edge of the module's */
};

/* Which of a listener's metrics --prometheus writes (--metrics). */
enum aq_metric_set {
	AQ_METRICS_CORE,	/* the default: those without aq_metric.extra */
	AQ_METRICS_ALL,
};

struct prom_opts {
	enum aq_buckets buckets;
	enum aq_metric_set metrics;
};

/* Every metric of @s that @o asks for, after aqueue_up 1. */
int show_prometheus(FILE *out, const struct aq_snapshot *s,
		    const struct aqs_filter *f, const struct prom_opts *o);
/*
 * aqueue_up 0 and why: the module's figures could not be read. @s, as
 * load_snapshot() left it on failure, or NULL.
 */
void show_prometheus_down(FILE *out, const struct aq_snapshot *s);

#endif /* AQSTAT_SHOW_PROM_H */
