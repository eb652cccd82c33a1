/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Which listeners to show (the -p, -t, -u, -x, -4, -6, --netns and --top
 * options) and in what order.
 */
#ifndef AQSTAT_ROW_FILTER_H
#define AQSTAT_ROW_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "parse_proc.h"

#define AQ_FILTER_MAX	64	/* of each of -p and --netns */

/* Each list or group is an OR; the lists and groups combine with AND. */
struct aqs_filter {
	long ports[AQ_FILTER_MAX];
	int nports;
	uint64_t netns[AQ_FILTER_MAX];
	int nnetns;
	int kind_tcp, kind_udp, kind_unix, fam4, fam6;
	size_t top;	/* --top: the most saturated this many; 0: all */
};

int wanted(const struct aqs_filter *f, const struct aqs_row *l);

/*
 * Pointers to the wanted listeners, in id (input) order; free() them.
 * With f->top, only the f->top first of them by_saturation().
 */
const struct aqs_row **select_listeners(const struct aq_snapshot *s,
					    const struct aqs_filter *f,
					    size_t *n);

/* qsort() order: the fullest queue first, then drops, then the peak. */
int by_saturation(const void *a, const void *b);

/* Whether any listener is stalled or overflowing (the STATE column). */
int any_live_state(const struct aqs_row **v, size_t n);
/* Whether the listeners live in more than one netns (the NETNS column). */
int distinct_netns(const struct aqs_row **v, size_t n);

#endif /* AQSTAT_ROW_FILTER_H */
