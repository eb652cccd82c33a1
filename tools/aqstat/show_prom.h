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
	AQ_BUCKETS_COARSE,	/* the default: about one edge in three */
	AQ_BUCKETS_ALL,		/* every edge of the module's */
	AQ_BUCKETS_NONE,	/* no histogram */
};

/* Every metric of @s, after aqueue_up 1. */
int show_prometheus(FILE *out, const struct aq_snapshot *s,
		    const struct aqs_filter *f, enum aq_buckets buckets);
/*
 * aqueue_up 0 and why: the module's figures could not be read. @s, as
 * load_snapshot() left it on failure, or NULL.
 */
void show_prometheus_down(FILE *out, const struct aq_snapshot *s);

#endif /* AQSTAT_SHOW_PROM_H */
