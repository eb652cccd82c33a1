/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * What a listener's backlog says once the module tells what listen()
 * asked for and the net.core.somaxconn that capped it: whether the cap
 * cut the backlog, the backlog that would have held the queue's peak, and
 * which setting kept it from doing so. One view for the table's notes,
 * the JSON and the Prometheus output.
 */
#ifndef AQSTAT_BACKLOG_H
#define AQSTAT_BACKLOG_H

#include <stdint.h>

#include "parse_proc.h"

/* listen(fd, -1) as the kernel reads it (unsigned): the most allowed */
#define AQ_BACKLOG_MOST		UINT32_MAX

/* The setting that kept the backlog from holding the queue's peak. */
enum aq_backlog_limit {
	AQ_LIMIT_NONE,		/* none: no drop, or the backlog holds it now */
	AQ_LIMIT_BACKLOG,	/* the listen() argument (the application's) */
	AQ_LIMIT_SOMAXCONN,	/* net.core.somaxconn */
	AQ_LIMIT_BOTH,		/* both of them */
};

struct aq_backlog {
	/*
	 * a TCP or unix listener whose detail line had backlog_asked and
	 * somaxconn (a module that prints them): nothing below is set
	 * otherwise
	 */
	int known;
	/* listen() asked for more than net.core.somaxconn let it have */
	int clamped;
	/*
	 * it dropped at a full accept queue (TCP: drops_syn_acceptq +
	 * drops_ack_acceptq, unix: drops), full_drops times: needed is the
	 * backlog that would have held its peak had every drop come at once,
	 * qpeak + full_drops - 1 (a backlog of N holds N+1 connections),
	 * an upper estimate since a retried SYN counts again
	 */
	int dropped;
	uint64_t full_drops, needed;
	/*
	 * what cut it: none when the backlog now is at least needed (a
	 * listen() again since the peak); net.core.somaxconn when it
	 * clamped listen()'s argument (and the argument too when needed
	 * passes it); else, for a listener that dropped, the argument, and
	 * somaxconn too when needed passes it (only the argument when
	 * somaxconn is unknown, 0)
	 */
	enum aq_backlog_limit limit;
};

/* @l's view; b->known 0 (and all else 0) where the module did not say. */
void aq_backlog_view(const struct aqs_row *l, struct aq_backlog *b);

/* Whether the table has a note for it: clamped, or dropped. */
static inline int aq_backlog_noted(const struct aq_backlog *b)
{
	return b->clamped || b->dropped;
}

#endif /* AQSTAT_BACKLOG_H */
