// SPDX-License-Identifier: GPL-2.0 OR MIT
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "columns.h"
#include "die.h"
#include "load.h"
#include "table.h"
#include "text.h"
#include "watch.h"

struct rates {
	double arrivals, accepts, drops;
	uint64_t p99_ns;	/* AQ_FIELD_UNSET: nothing timed */
	int p99_top;		/* in the open-ended last bucket */
};

static const struct aq_listener *match(const struct aq_snapshot *s,
				       const struct aq_listener *l)
{
	const struct aq_listener *p = aq_snapshot_find(s, l->id);

	if (p && p->netns == l->netns && p->proto == l->proto &&
	    !strcmp(p->local, l->local))
		return p;
	return NULL;
}

static void interval_rates(const struct aq_listener *l,
			   const struct aq_listener *p, double wall_s,
			   struct rates *r)
{
	uint64_t dw[AQUEUE_WAIT_BUCKETS], total = 0, target, seen = 0;
	double dt;
	int reset = !p || l->enqueued < p->enqueued ||
		    l->accepted < p->accepted || l->drops < p->drops ||
		    (l->has_detail && p->has_detail && l->observed_ns < p->observed_ns);
	unsigned int i;

	for (i = 0; i < AQUEUE_WAIT_BUCKETS; i++) {
		if (!reset && l->wait[i] < p->wait[i])
			reset = 1;
	}
	if (reset)
		dt = l->has_detail ? (double)l->observed_ns / 1e9 : 0;
	else if (l->has_detail && p->has_detail)
		dt = (double)(l->observed_ns - p->observed_ns) / 1e9;
	else
		dt = wall_s;
	r->arrivals = r->accepts = r->drops = 0;
	if (dt > 0) {
		r->arrivals = (double)(l->enqueued - (reset ? 0 : p->enqueued)) / dt;
		r->accepts = (double)(l->accepted - (reset ? 0 : p->accepted)) / dt;
		r->drops = (double)(l->drops - (reset ? 0 : p->drops)) / dt;
	}
	for (i = 0; i < AQUEUE_WAIT_BUCKETS; i++) {
		dw[i] = l->wait[i] - (reset ? 0 : p->wait[i]);
		total += dw[i];
	}
	r->p99_ns = AQ_FIELD_UNSET;
	r->p99_top = 0;
	if (!total || !l->has_wait)
		return;
	target = (total * 99 + 99) / 100;
	if (total > UINT64_MAX / 100)
		target = total - total / 100;
	for (i = 0; i < AQUEUE_WAIT_BUCKETS - 1; i++) {
		seen += dw[i];
		if (seen >= target)
			break;
	}
	if (i == AQUEUE_WAIT_BUCKETS - 1) {
		r->p99_top = 1;
		r->p99_ns = aq_wait_low(i);
	} else {
		r->p99_ns = aq_wait_low(i + 1);
	}
	/* a bucket's upper edge can pass the longest wait seen */
	if (l->max_us != AQ_FIELD_UNSET && l->max_us <= UINT64_MAX / 1000 &&
	    r->p99_ns > l->max_us * 1000) {
		r->p99_ns = l->max_us * 1000;
		r->p99_top = 0;
	}
}

static void watch_frame(const struct watch_opts *o, const struct aq_snapshot *s,
			const struct aq_snapshot *prev, double wall_s, long frame)
{
	static const char *const hdr[] = {
		"ID", "NETNS", "PROTO", "LOCAL", "QUEUE", "STATE", "PEAK",
		"ARRIVALS/s", "ACCEPTS/s", "DROPS/s", "P99", "PID", "COMM",
	};
	size_t n;
	const struct aq_listener **v = select_listeners(s, o->filter, &n);
	struct listener_table lt;
	size_t nconn;
	char when[32];
	time_t now = time(NULL);

	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	qsort(v, n, sizeof(*v), by_saturation);
	printf("aqstat -w %g  %s  frame %ld", o->interval, when, frame);
	if (s->has_state) {
		printf("  %s  tracked %llu", s->state.enabled ? "enabled" : "DISABLED",
		       (unsigned long long)s->state.tracked);
		if (prev && prev->has_state)
			printf("  missed +%llu  untracked +%llu",
			       (unsigned long long)(s->state.missed - prev->state.missed),
			       (unsigned long long)(s->state.untracked_events -
						    prev->state.untracked_events));
		else
			printf("  missed %llu", (unsigned long long)s->state.missed);
	}
	printf("\n%s\n", prev ? "per-second rates over the last interval"
			      : "first frame: rates since tracking began (or the last reset)");
	nconn = udp_last(v, n);
	for (size_t i = 0; i < n; i++) {
		const struct aq_listener *l = v[i];
		struct rates r;
		char *row[LISTENER_COLS_MAX];
		int c;

		/* TCP and unix listeners, then UDP sockets: their own units */
		if (i == 0 || i == nconn) {
			if (i)
				table_print(&lt.t);
			if (i == nconn)
				printf("%sUDP sockets: DGRAMS datagrams queued, RCVBUF receive buffer bytes used/size; rates in datagrams\n",
				       i ? "\n" : "");
			listener_table_init(&lt, hdr, sizeof(hdr) / sizeof(*hdr),
					    v + i, i == nconn ? n - nconn : nconn,
					    i == nconn);
		}
		c = listener_cells(&lt, row, l);

		interval_rates(l, prev ? match(prev, l) : NULL, wall_s, &r);
		row[c++] = fmt_u64(l->qpeak);
		row[c++] = fmt_rate(r.arrivals);
		row[c++] = fmt_rate(r.accepts);
		row[c++] = fmt_rate(r.drops);
		if (r.p99_ns == AQ_FIELD_UNSET) {
			row[c++] = xstrdup("-");
		} else {
			char *x = fmt_ns(r.p99_ns);

			row[c++] = r.p99_top ? xasprintf(">%s", x) : xstrdup(x);
			free(x);
		}
		row[c++] = fmt_u64(l->pid);
		row[c++] = printable(l->comm);
		table_add(&lt.t, row);
	}
	if (n)
		table_print(&lt.t);
	else
		printf(s->n ? "no listener matches the filters\n" : "no listeners tracked\n");
	free(v);
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int watch(const struct watch_opts *o)
{
	struct aq_snapshot cur, prev;
	int have_prev = 0, tty = isatty(STDOUT_FILENO);
	double start = mono(), last = start;
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (long frame = 1; !o->count || frame <= o->count; frame++) {
		const char *file = o->nfiles ?
			o->files[frame - 1 < o->nfiles ? frame - 1 : o->nfiles - 1] : NULL;
		double now;

		load(file, o->strict, &cur);
		now = mono();
		if (tty)
			fputs("\033[H\033[2J", stdout);
		else if (frame > 1)
			putchar('\n');
		watch_frame(o, &cur, have_prev ? &prev : NULL, now - last, frame);
		if (fflush(stdout) == EOF || ferror(stdout))
			die(EX_ERR, "writing output: %s", strerror(errno));
		if (have_prev)
			aq_snapshot_free(&prev);
		prev = cur;
		have_prev = 1;
		last = now;
		if (o->count && frame == o->count)
			break;
		next.tv_sec += (time_t)o->interval;
		next.tv_nsec += (long)((o->interval - (double)(time_t)o->interval) * 1e9);
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
	if (have_prev)
		aq_snapshot_free(&prev);
	return EX_OK;
}
