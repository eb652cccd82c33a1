/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * aqstat's default view: a summary, one row per listener (most saturated
 * first) and, with -H, each listener's histograms as bpftrace draws them.
 */
#ifndef AQSTAT_SHOW_TABLE_H
#define AQSTAT_SHOW_TABLE_H

#include "parse_proc.h"
#include "columns.h"
#include "row_filter.h"

int show_table(const struct aq_snapshot *s, const struct aqs_filter *f,
	       int histograms);

#define LISTENER_COLS_MAX	16

/*
 * A table of listeners as the table and the watch draw it: it starts with
 * ID [NETNS] PROTO LOCAL QUEUE [STATE], NETNS when the listeners live in
 * more than one netns, STATE when one of them is stalled or overflowing.
 * TCP and unix listeners (QUEUE: connections/backlog) and UDP sockets
 * (DGRAMS RCVBUF) are drawn in two tables, so no column mixes units.
 */
struct listener_table {
	struct table t;
	int netns, state, udp;
	const char *hdr[LISTENER_COLS_MAX];
	char align[LISTENER_COLS_MAX];
	/* t.narrow_hdr: ENQ/s for ARRIVALS/s, ACC/s for ACCEPTS/s */
	const char *narrow[LISTENER_COLS_MAX];
	int drop[LISTENER_COLS_MAX];	/* for t.drop, which a view sets */
};

/*
 * @hdr: the @n column titles, the six above, then the view's own, COMM
 * last; @v: the @nv listeners it will show. @udp: a table of UDP
 * sockets, whose QUEUE is two columns: DGRAMS (datagrams queued) and
 * RCVBUF (receive buffer bytes used/size), never a ratio of the two.
 */
void listener_table_init(struct listener_table *lt, const char *const *hdr,
			 int n, const struct aqs_row **v, size_t nv,
			 int udp);

/*
 * Moves the UDP sockets of @v to its end, each part in its order;
 * returns how many are not UDP.
 */
size_t udp_last(const struct aqs_row **v, size_t n);
/* Fills the row's cells up to QUEUE or STATE; returns how many. */
int listener_cells(const struct listener_table *lt, char **row,
		   const struct aqs_row *l);

#endif /* AQSTAT_SHOW_TABLE_H */
