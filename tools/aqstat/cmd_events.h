/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * aqstat events: the module's event stream (/proc/aqueue_events), one
 * line an event in wall-clock time, or --raw as the module wrote it.
 */
#ifndef AQSTAT_CMD_EVENTS_H
#define AQSTAT_CMD_EVENTS_H

#include "row_filter.h"

struct events_opts {
	const struct aqs_filter *filter;
	long count;	/* events to show, 0: until the stream ends */
	int strict;	/* a malformed line ends it (EX_MALFORMED) */
	int raw;
	int json;	/* one JSON object a line (NDJSON) */
};

/* Follows the stream until it ends, or count events were shown. */
int events(const struct events_opts *o);

#endif /* AQSTAT_CMD_EVENTS_H */
