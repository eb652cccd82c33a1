/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * -w: the table redrawn every interval, with the rates over the interval
 * instead of the counters since tracking began.
 */
#ifndef AQSTAT_CMD_WATCH_H
#define AQSTAT_CMD_WATCH_H

#include "row_filter.h"

/* A listener's figures over one interval of -w. */
struct aq_rates {
	double arrivals, accepts, drops;	/* per second */
	uint64_t p99_ns;	/* AQ_FIELD_UNSET: nothing timed */
	int p99_top;		/* in the open-ended last bucket: at least p99_ns */
	double seconds;		/* the interval the rates are over */
	int since_start;	/* over the time since tracking began or a reset */
};

struct watch_opts {
	double interval;	/* seconds */
	long count;		/* frames, 0: forever */
	const char **files;	/* frame i reads files[i], the last repeats */
	int nfiles;		/* 0: /proc/aqueue */
	int strict;
	int json;		/* one JSON document a frame (NDJSON) */
	const struct aqs_filter *filter;
};

int watch(const struct watch_opts *o);

#endif /* AQSTAT_CMD_WATCH_H */
