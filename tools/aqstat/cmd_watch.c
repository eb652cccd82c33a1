// SPDX-License-Identifier: GPL-2.0 OR MIT
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "columns.h"
#include "die.h"
#include "fields.h"
#include "show_json.h"
#include "load.h"
#include "show_table.h"
#include "text.h"
#include "cmd_watch.h"

static const struct aqs_row *match(const struct aq_snapshot *s,
				       const struct aqs_row *l)
{
	const struct aqs_row *p = aq_snapshot_find(s, l->id);

	if (p && p->netns == l->netns && p->proto == l->proto &&
	    !strcmp(p->local, l->local))
		return p;
	return NULL;
}

static void interval_rates(const struct aqs_row *l,
			   const struct aqs_row *p, double wall_s,
			   struct aq_rates *r)
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
	r->seconds = dt;
	r->since_start = reset;
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

struct frame_row {
	const struct aqs_row *l;
	struct aq_rates r;
};

/* The worst first, by what the frame shows: drops/s, fullness, arrivals/s. */
static int by_frame(const void *a, const void *b)
{
	const struct frame_row *x = a, *y = b;

	if (x->r.drops != y->r.drops)
		return x->r.drops > y->r.drops ? -1 : 1;
	if (by_saturation(&x->l, &y->l) && (x->l->qnow || y->l->qnow))
		return by_saturation(&x->l, &y->l);
	if (x->r.arrivals != y->r.arrivals)
		return x->r.arrivals > y->r.arrivals ? -1 : 1;
	return by_saturation(&x->l, &y->l);
}

/* udp_last() for frame rows: UDP sockets last, each part in its order. */
static size_t udp_rows_last(struct frame_row *rows, size_t n)
{
	struct frame_row *udp = xmalloc((n ? n : 1) * sizeof(*udp));
	size_t k = 0, nudp = 0;

	for (size_t i = 0; i < n; i++) {
		if (aqs_kind(rows[i].l) == AQ_K_UDP)
			udp[nudp++] = rows[i];
		else
			rows[k++] = rows[i];
	}
	memcpy(rows + k, udp, nudp * sizeof(*udp));
	free(udp);
	return k;
}

/*
 * How many of the @n rows fit the screen's height, as top does: the
 * frame's two lines, a table header, the line that says how many more
 * there are, the cursor's line after it and, when a UDP socket is among
 * them, its table's three.
 */
static size_t fit_height(const struct frame_row *rows, size_t n)
{
	int h = columns_height();
	size_t room, udp = 0;

	if (h <= 0)
		return n;
	/* and the last line's newline, which would scroll a full screen */
	room = h > 5 ? (size_t)h - 5 : 1;
	if (n <= room + 1)	/* the "more" line's place holds the last row */
		return n;
	for (size_t i = 0; i < room; i++)
		udp |= aqs_kind(rows[i].l) == AQ_K_UDP;
	if (udp && room > 4)
		room -= 3;
	return room;
}

/* Column widths kept from frame to frame, by title. */
static struct {
	const char *title;
	size_t width;
} kept[2 * LISTENER_COLS_MAX];

/* @w: the widths @lt's columns had, as its least widths now. */
static void kept_load(struct listener_table *lt, size_t *w)
{
	for (int c = 0; c < lt->t.ncols; c++) {
		w[c] = 0;
		for (size_t k = 0; k < sizeof(kept) / sizeof(*kept) && kept[k].title; k++)
			if (!strcmp(kept[k].title, lt->t.hdr[c]))
				w[c] = kept[k].width;
	}
	lt->t.keep_width = w;
}

/* After table_print(): the widths @lt's columns took, for the next frame. */
static void kept_save(const struct listener_table *lt, const size_t *w)
{
	for (int c = 0; c < lt->t.ncols; c++) {
		size_t k;

		for (k = 0; k < sizeof(kept) / sizeof(*kept) && kept[k].title; k++)
			if (!strcmp(kept[k].title, lt->t.hdr[c]))
				break;
		if (k < sizeof(kept) / sizeof(*kept)) {
			kept[k].title = lt->t.hdr[c];
			kept[k].width = w[c];
		}
	}
}

/*
 * What -w leaves out when nothing else makes a row fit the width (an
 * 80-column terminal with a NETNS column): PEAK first, a figure since
 * tracking began among the interval's, then NETNS, which PID and LOCAL
 * mostly tell apart too. ID, the queue, the rates, P99, PID and COMM
 * stay.
 */
static void may_drop(struct listener_table *lt)
{
	for (int c = 0; c < lt->t.ncols; c++)
		lt->drop[c] = !strcmp(lt->hdr[c], "PEAK") ? 1 :
			      !strcmp(lt->hdr[c], "NETNS") ? 2 : 0;
	lt->t.drop = lt->drop;
}

/* The titles of @lt's columns in @hidden, after @note. */
static void note_hidden(char *note, size_t size, const struct listener_table *lt,
			unsigned long hidden)
{
	for (int c = 0; c < lt->t.ncols; c++) {
		size_t len = strlen(note);

		if (!(hidden & (1UL << c)) || strstr(note, lt->hdr[c]))
			continue;
		snprintf(note + len, size - len, "%s%s", len ? " " : "", lt->hdr[c]);
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
	const struct aqs_row **v = select_listeners(s, o->filter, &n);
	/* the TCP and unix listeners', the UDP sockets' (their own units) */
	struct listener_table lt[2];
	size_t kw[2][LISTENER_COLS_MAX];
	int nt = 0;
	struct frame_row *rows;
	size_t nconn, shown, headlen;
	char *head, hidden[64] = "";
	FILE *hf;
	char when[32];
	time_t now = time(NULL);

	/* the frame's own figures decide the order: drops/s, fullness, arrivals/s */
	rows = xmalloc((n ? n : 1) * sizeof(*rows));
	for (size_t i = 0; i < n; i++) {
		rows[i].l = v[i];
		interval_rates(v[i], prev ? match(prev, v[i]) : NULL, wall_s, &rows[i].r);
	}
	qsort(rows, n, sizeof(*rows), by_frame);
	shown = fit_height(rows, n);
	nconn = udp_rows_last(rows, shown);
	for (size_t i = 0; i < shown; i++)
		v[i] = rows[i].l;
	for (size_t i = 0; i < shown; i++) {
		const struct aqs_row *l = v[i];
		const struct aq_rates *rp = &rows[i].r;
		char *row[LISTENER_COLS_MAX];
		int c;

		if (i == 0 || i == nconn) {
			listener_table_init(&lt[nt], hdr, sizeof(hdr) / sizeof(*hdr),
					    v + i, i == nconn ? shown - nconn : nconn,
					    i == nconn);
			kept_load(&lt[nt], kw[nt]);
			may_drop(&lt[nt]);
			nt++;
		}
		c = listener_cells(&lt[nt - 1], row, l);
		row[c++] = fmt_u64(l->qpeak);
		row[c++] = fmt_rate(rp->arrivals);
		row[c++] = fmt_rate(rp->accepts);
		row[c++] = fmt_rate(rp->drops);
		if (rp->p99_ns == AQ_FIELD_UNSET) {
			row[c++] = xstrdup("-");
		} else {
			char *x = fmt_ns(rp->p99_ns);

			row[c++] = rp->p99_top ? xasprintf(">%s", x) : xstrdup(x);
			free(x);
		}
		row[c++] = fmt_u64(l->pid);
		row[c++] = printable(l->comm);
		table_add(&lt[nt - 1].t, row);
	}
	/*
	 * fitted before the frame's header, which says what they leave out;
	 * a column one table leaves out the other does too
	 */
	for (int k = 0; k < nt; k++)
		note_hidden(hidden, sizeof(hidden), &lt[k], table_would_hide(&lt[k].t));
	for (int k = 0; k < nt; k++) {
		for (int c = 0; c < lt[k].t.ncols; c++)
			if (lt[k].drop[c] && strstr(hidden, lt[k].hdr[c]))
				lt[k].t.hidden |= 1UL << c;
		table_fit(&lt[k].t);
	}

	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	hf = open_memstream(&head, &headlen);
	if (!hf)
		die(EX_ERR, "out of memory");
	fprintf(hf, "aqstat -w %g  %s  frame %ld", o->interval, when, frame);
	if (s->has_state) {
		fprintf(hf, "  %s  tracked %llu", s->state.enabled ? "enabled" : "DISABLED",
		       (unsigned long long)s->state.tracked);
		if (prev && prev->has_state)
			fprintf(hf, "  missed +%llu  untracked +%llu",
			       (unsigned long long)(s->state.missed - prev->state.missed),
			       (unsigned long long)(s->state.untracked_events -
						    prev->state.untracked_events));
		else
			fprintf(hf, "  missed %llu", (unsigned long long)s->state.missed);
	}
	fprintf(hf, "\n%s", prev ? "per-second rates over the last interval"
			      : "first frame: rates since tracking began or a reset");
	if (*hidden)
		fprintf(hf, "; too narrow for %s", hidden);
	fputc('\n', hf);
	if (fclose(hf))
		die(EX_ERR, "out of memory");
	cprintf("%s", head);	/* clipped: a wrapped line would push the table down */
	free(head);
	for (int k = 0; k < nt; k++) {
		if (lt[k].udp)
			cprintf("%sUDP sockets: DGRAMS datagrams queued, RCVBUF receive buffer bytes used/size; rates in datagrams\n",
				k ? "\n" : "");
		table_print(&lt[k].t);
		kept_save(&lt[k], kw[k]);
	}
	if (shown < n)
		cprintf("%zu more listener%s, calmer than these (a taller window, --top or the filters show them)\n",
			n - shown, n - shown == 1 ? "" : "s");
	if (!n)
		printf(s->n ? "no listener matches the filters\n" : "no listeners tracked\n");
	free(rows);
	free(v);
}

/* -w -j: the frame as one JSON document on one line, every listener */
static void json_frame(const struct watch_opts *o, const char *file,
		       const struct aq_snapshot *s, const struct aq_snapshot *prev,
		       double wall_s, long frame)
{
	size_t n;
	const struct aqs_row **v = select_listeners(s, o->filter, &n);
	struct aq_rates *r = xmalloc((n ? n : 1) * sizeof(*r));
	struct json_frame fr = {
		.frame = frame, .interval_s = prev ? wall_s : -1, .rates = r,
	};

	clock_gettime(CLOCK_REALTIME, &fr.when);
	for (size_t i = 0; i < n; i++)
		interval_rates(v[i], prev ? match(prev, v[i]) : NULL, wall_s, &r[i]);
	show_json_frame(stdout, s, v, n, file ? file : proc_path(), &fr);
	free(r);
	free(v);
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile sig_atomic_t resized;

static void on_winch(int sig)
{
	(void)sig;
	resized = 1;
}

int watch(const struct watch_opts *o)
{
	struct sigaction sa = { .sa_handler = on_winch };
	struct aq_snapshot cur, prev;
	int have_prev = 0, tty = !o->json && isatty(STDOUT_FILENO);
	double start = mono(), last = start;
	struct timespec next;

	/* a resize ends the wait: the next frame is drawn at once, to fit */
	if (tty)
		sigaction(SIGWINCH, &sa, NULL);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (long frame = 1; !o->count || frame <= o->count; frame++) {
		const char *file = o->nfiles ?
			o->files[frame - 1 < o->nfiles ? frame - 1 : o->nfiles - 1] : NULL;
		double now;

		load(file, o->strict, &cur);
		now = mono();
		if (tty)
			columns_init();	/* the size now: it may have changed */
		if (tty)
			fputs("\033[H\033[2J", stdout);
		else if (frame > 1 && !o->json)
			putchar('\n');
		if (o->json)
			json_frame(o, file, &cur, have_prev ? &prev : NULL, now - last, frame);
		else
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
			if (resized) {
				resized = 0;
				clock_gettime(CLOCK_MONOTONIC, &next);
				break;
			}
	}
	if (have_prev)
		aq_snapshot_free(&prev);
	return EX_OK;
}
