// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <stdlib.h>

#include "die.h"
#include "row_filter.h"

int wanted(const struct aqs_filter *f, const struct aqs_row *l)
{
	int ok;

	if (f->nports) {
		ok = 0;
		for (int i = 0; i < f->nports; i++)
			ok |= l->port == f->ports[i];
		if (!ok)
			return 0;
	}
	if (f->nnetns) {
		ok = 0;
		for (int i = 0; i < f->nnetns; i++)
			ok |= l->netns == f->netns[i];
		if (!ok)
			return 0;
	}
	if (f->kind_tcp || f->kind_udp || f->kind_unix) {
		int tcp = l->proto == AQ_TCP || l->proto == AQ_TCP6;
		int udp = l->proto == AQ_UDP || l->proto == AQ_UDP6;

		if (!((f->kind_tcp && tcp) || (f->kind_udp && udp) ||
		      (f->kind_unix && (l->proto == AQ_UNIX ||
					l->proto == AQ_UNIX_SEQ))))
			return 0;
	}
	if (f->fam4 || f->fam6) {
		int v4 = l->proto == AQ_TCP || l->proto == AQ_UDP;
		int v6 = l->proto == AQ_TCP6 || l->proto == AQ_UDP6;

		if (!((f->fam4 && v4) || (f->fam6 && v6)))
			return 0;
	}
	return 1;
}

/* qsort() order of pointers into one array: the input's. */
static int by_input_order(const void *a, const void *b)
{
	const struct aqs_row *x = *(const struct aqs_row *const *)a;
	const struct aqs_row *y = *(const struct aqs_row *const *)b;

	return x < y ? -1 : x > y;
}

const struct aqs_row **select_listeners(const struct aq_snapshot *s,
					    const struct aqs_filter *f,
					    size_t *n)
{
	const struct aqs_row **v = xmalloc(s->n * sizeof(*v));

	*n = 0;
	for (size_t i = 0; i < s->n; i++)
		if (wanted(f, &s->l[i]))
			v[(*n)++] = &s->l[i];
	if (f->top && *n > f->top) {
		qsort(v, *n, sizeof(*v), by_saturation);
		*n = f->top;
		qsort(v, *n, sizeof(*v), by_input_order);
	}
	return v;
}

static int aq_is_udp(const struct aqs_row *l)
{
	return l->proto == AQ_UDP || l->proto == AQ_UDP6;
}

/* How full the queue is: it holds backlog + 1 connections at most. */
static long double saturation(uint64_t q, uint64_t backlog)
{
	return (long double)q / ((long double)backlog + 1);
}

/*
 * How full @l's queue is now, 0 to 1: connections over the backlog+1
 * the accept queue holds; for a UDP socket, whose limit is in bytes,
 * receive buffer bytes in use over its size (datagrams over bytes would
 * mean nothing).
 */
static long double fullness(const struct aqs_row *l)
{
	if (aq_is_udp(l))
		return l->has_udp && l->backlog ?
			(long double)l->rmem_now / (long double)l->backlog : 0;
	return saturation(l->qnow, l->backlog);
}

int by_saturation(const void *a, const void *b)
{
	const struct aqs_row *x = *(const struct aqs_row *const *)a;
	const struct aqs_row *y = *(const struct aqs_row *const *)b;
	long double sx = fullness(x);
	long double sy = fullness(y);

	if (sx != sy)
		return sx > sy ? -1 : 1;
	if (x->drops != y->drops)
		return x->drops > y->drops ? -1 : 1;
	/* the peak is in entries: for connections only */
	sx = aq_is_udp(x) ? 0 : saturation(x->qpeak, x->backlog);
	sy = aq_is_udp(y) ? 0 : saturation(y->qpeak, y->backlog);
	if (sx != sy)
		return sx > sy ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int any_live_state(const struct aqs_row **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i]->stalled || v[i]->overflowing)
			return 1;
	return 0;
}

int distinct_netns(const struct aqs_row **v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (v[i]->netns != v[0]->netns)
			return 1;
	return 0;
}
