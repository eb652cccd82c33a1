/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * -w: the table redrawn every interval, with the rates over the interval
 * instead of the counters since tracking began.
 */
#ifndef AQSTAT_WATCH_H
#define AQSTAT_WATCH_H

#include "filter.h"

struct watch_opts {
	double interval;	/* seconds */
	long count;		/* frames, 0: forever */
	const char **files;	/* frame i reads files[i], the last repeats */
	int nfiles;		/* 0: /proc/aqueue */
	int strict;
	const struct aq_filter *filter;
};

int watch(const struct watch_opts *o);

#endif /* AQSTAT_WATCH_H */
