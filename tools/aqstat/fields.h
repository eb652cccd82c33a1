/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The one list of what aqstat exports: each figure's JSON key (the name
 * /proc/aqueue gives it), where the parser put it, its unit, and, when it
 * is exported to Prometheus, its metric name, type and help. The JSON and
 * the Prometheus output both walk these tables, group by group, each in
 * the order of its own format; the table's -H draws the histograms.
 */
#ifndef AQSTAT_FIELDS_H
#define AQSTAT_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "parse_proc.h"

enum aq_group {
	AQ_G_STATE,	/* struct aq_state: the "state" line */
	AQ_G_CLOSED,	/* struct aqs_closed: the "closed" line */
	/* struct aqs_row from here on */
	AQ_G_ROW,	/* the table row's counters */
	AQ_G_PCT,	/* the row's p50/p99/max: "-" is AQ_FIELD_UNSET */
	AQ_G_DETAIL,	/* the "listener ID drops_syn_acceptq ..." line */
	AQ_G_LIVE,	/* format 2's live state, on the detail line */
	AQ_G_MIGRATE,	/* format 3's reuseport hand-overs, on the detail line */
	/*
	 * format 3's backlog_asked and somaxconn, on the detail line: in
	 * Prometheus only where the module saw the listen() call
	 * (somaxconn > 0)
	 */
	AQ_G_ASKED,
	/*
	 * format 3's reuseport_group, on the detail line: in Prometheus
	 * only for a member of a group (> 0)
	 */
	AQ_G_REUSEPORT,
	AQ_G_HIST,	/* the qlen and wait_ns histograms */
	AQ_G_UDP,	/* the "udp" and "qbytes" lines */
	AQ_G_SYN,	/* the "syn", "synq" and "handshake_ns" lines */
};

enum aq_unit {
	AQ_UNIT_ONE,	/* a count, or bytes */
	AQ_UNIT_NS,	/* nanoseconds: seconds in Prometheus */
	AQ_UNIT_US,	/* microseconds: seconds in Prometheus */
	AQ_UNIT_BOOL,	/* 0 or 1: false or true in JSON, 0 or 1 in Prometheus */
};

/* The kinds of listener a per-listener metric is written for. */
enum {
	AQ_K_TCP = 1,		/* tcp, tcp6: connections */
	AQ_K_UNIX = 2,		/* unix, unix-seq: connections */
	AQ_K_UDP = 4,		/* udp, udp6: datagrams, the buffer in bytes */
	AQ_K_CONN = AQ_K_TCP | AQ_K_UNIX,
	AQ_K_ALL = AQ_K_TCP | AQ_K_UNIX | AQ_K_UDP,
};

unsigned int aqs_kind(const struct aqs_row *l);

struct aq_metric {
	enum aq_group group;
	const char *key;	/* the JSON key */
	size_t off;		/* of the uint64_t in the group's struct */
	enum aq_unit unit;
	const char *name;	/* Prometheus; NULL: not exported */
	const char *type;	/* "gauge" or "counter" */
	const char *help;
	/*
	 * Prometheus: the kinds of listener it is written for, so that a
	 * metric holds one unit (a UDP socket's backlog is bytes: another
	 * metric); prom_only: a second name of a figure JSON has once
	 */
	unsigned int kinds;
	int prom_only;
	/*
	 * Prometheus: written with --metrics all only, not by default (a
	 * figure other metrics tell, or one few need): the default keeps a
	 * listener's series few enough for 65,536 listeners
	 */
	int extra;
};

struct aq_hist_metric {
	enum aq_group group;
	const char *key;	/* the JSON key */
	const char *title;	/* over its bars in the table's -H */
	size_t off;		/* of the uint64_t[n] in struct aqs_row */
	size_t has_off;		/* of the int that says it was read */
	unsigned int n;
	uint64_t (*low)(unsigned int i);	/* bucket i's lower bound */
	/*
	 * AQ_UNIT_NS: le is the next bucket's lower bound, in seconds;
	 * AQ_UNIT_ONE: integer buckets, le is the next lower bound - 1
	 */
	enum aq_unit unit;
	const char *name;	/* Prometheus; NULL: not exported */
	const char *help;
	int has_sum;		/* the detail line has the sum, at sum_off */
	size_t sum_off;
	unsigned int kinds;	/* as in struct aq_metric */
	int prom_only;
};

/* Both tables end with an entry whose key is NULL. */
extern const struct aq_metric aq_metrics[];
extern const struct aq_hist_metric aq_hist_metrics[];

/* Whether @l has the figures of @g (a struct aqs_row group). */
int aq_group_present(const struct aqs_row *l, enum aq_group g);

static inline uint64_t aq_metric_get(const void *base,
				     const struct aq_metric *m)
{
	return *(const uint64_t *)((const char *)base + m->off);
}

static inline const uint64_t *aq_hist_get(const struct aqs_row *l,
					  const struct aq_hist_metric *h)
{
	return (const uint64_t *)((const char *)l + h->off);
}

static inline int aq_hist_present(const struct aqs_row *l,
				  const struct aq_hist_metric *h)
{
	return *(const int *)((const char *)l + h->has_off);
}

/*
 * @l's p50_us or p99_us as shown: at most max_us. The module gives the
 * upper edge of the bucket holding the percentile, which can pass the
 * longest wait it saw.
 */
static inline uint64_t aq_wait_pct_us(const struct aqs_row *l, uint64_t us)
{
	if (us == AQ_FIELD_UNSET || l->max_us == AQ_FIELD_UNSET)
		return us;
	return us < l->max_us ? us : l->max_us;
}

/* Only where h->has_sum and the detail line was read. */
static inline uint64_t aq_hist_sum(const struct aqs_row *l,
				   const struct aq_hist_metric *h)
{
	return *(const uint64_t *)((const char *)l + h->sum_off);
}

#endif /* AQSTAT_FIELDS_H */
