// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backlog.h"
#include "columns.h"
#include "die.h"
#include "fields.h"
#include "show_table.h"
#include "text.h"

#define BAR_WIDTH		52

static void print_summary(const struct aq_snapshot *s, size_t shown)
{
	if (s->has_state)
		cprintf("aqueue %s: %llu tracked (max %llu), %zu shown, missed %llu, resyncs %llu\n",
			s->state.enabled ? "enabled" : "DISABLED",
			(unsigned long long)s->state.tracked,
			(unsigned long long)s->state.max_listeners, shown,
			(unsigned long long)s->state.missed,
			(unsigned long long)s->state.resyncs);
	else
		cprintf("aqueue: global state unknown (no valid state line)\n");
	if (s->has_closed)
		cprintf("closed: %llu listeners, enqueued %llu, accepted %llu, drained %llu, migrated %llu, drops %llu\n",
			(unsigned long long)s->closed.listeners,
			(unsigned long long)s->closed.enqueued,
			(unsigned long long)s->closed.accepted,
			(unsigned long long)s->closed.drained,
			(unsigned long long)s->closed.migrated,
			(unsigned long long)s->closed.drops);
	/* warnings on stderr: "aqstat > file" keeps the table alone */
	if (s->malformed)
		complain("warning: %u malformed line%s in the input skipped (each reported above)",
			 s->malformed, s->malformed == 1 ? "" : "s");
	if (s->has_state && (s->state.untracked_listens || s->state.untracked_events))
		complain("warning: over the listener limit: %llu listens and %llu events not tracked",
			 (unsigned long long)s->state.untracked_listens,
			 (unsigned long long)s->state.untracked_events);
	if (s->has_state && s->state.missed)
		complain("warning: %llu probe hits were missed; figures may be short (see the control file)",
			 (unsigned long long)s->state.missed);
}

static const char *hist_unit(uint64_t v, uint64_t *scaled)
{
	static const char *const sfx[] = { "", "K", "M", "G", "T", "P", "E" };
	int i = 0;

	while (v && v % 1024 == 0 && i < 6) {
		v /= 1024;
		i++;
	}
	*scaled = v;
	return sfx[i];
}

/* A bucket label the way bpftrace's hist() prints it. */
static char *hist_label(uint64_t low, uint64_t high, int last)
{
	uint64_t a, b;
	const char *ua, *ub;

	if (high == low + 1 && !last)
		return xasprintf("[%llu]", (unsigned long long)low);
	ua = hist_unit(low, &a);
	if (last)
		return xasprintf("[%llu%s, ...)", (unsigned long long)a, ua);
	ub = hist_unit(high, &b);
	return xasprintf("[%llu%s, %llu%s)", (unsigned long long)a, ua,
			 (unsigned long long)b, ub);
}

static void print_hist(const char *title, const uint64_t *h, unsigned int n,
		       uint64_t (*low)(unsigned int), int present)
{
	int first = -1, last = -1;
	uint64_t max = 0;

	printf("@%s\n", title);
	if (!present) {
		printf("(not in the input)\n");
		return;
	}
	for (unsigned int i = 0; i < n; i++)
		if (h[i]) {
			if (first < 0)
				first = (int)i;
			last = (int)i;
			if (h[i] > max)
				max = h[i];
		}
	if (first < 0) {
		printf("(empty)\n");
		return;
	}
	for (int i = first; i <= last; i++) {
		int top = i == (int)n - 1;
		char *lab = hist_label(low((unsigned int)i),
				       top ? 0 : low((unsigned int)i + 1), top);
		int bar = (int)((long double)h[i] * BAR_WIDTH / max);
		char bars[BAR_WIDTH + 1];

		memset(bars, '@', (size_t)bar);
		memset(bars + bar, ' ', (size_t)(BAR_WIDTH - bar));
		bars[BAR_WIDTH] = '\0';
		printf("%-16s%8llu |%s|\n", lab, (unsigned long long)h[i], bars);
		free(lab);
	}
}

static void print_hists(const struct aqs_row *l, enum aq_group g)
{
	for (const struct aq_hist_metric *h = aq_hist_metrics; h->key; h++)
		if (h->group == g && !h->prom_only)
			print_hist(h->title, aq_hist_get(l, h), h->n, h->low,
				   aq_hist_present(l, h));
}

static void print_histograms(const struct aqs_row *l)
{
	char *local = printable(l->local), *comm = printable(l->comm);

	printf("\nlistener %llu: %s %s, netns %llu, pid %llu %s\n",
	       (unsigned long long)l->id, aq_proto_name(l->proto),
	       local, (unsigned long long)l->netns,
	       (unsigned long long)l->pid, comm);
	print_hists(l, AQ_G_HIST);
	if (l->has_syn) {
		printf("syn queue: now %llu, full: %llu dropped, %llu answered with cookies; cookies sent %llu, SYN-ACKs resent %llu\n",
		       (unsigned long long)l->synq_now,
		       (unsigned long long)l->synq_full_drops,
		       (unsigned long long)l->synq_full_cookies,
		       (unsigned long long)l->syn_cookies,
		       (unsigned long long)l->synack_retrans);
		print_hists(l, AQ_G_SYN);
	}
	if (l->has_udp) {
		printf("receive buffer: %llu of %llu bytes used, %llu datagrams dropped because it was full\n",
		       (unsigned long long)l->rmem_now,
		       (unsigned long long)l->backlog,
		       (unsigned long long)l->drops_rcvbuf);
		print_hists(l, AQ_G_UDP);
	}
	free(local);
	free(comm);
}

/*
 * The queue in its own unit: connections over the backlog for a TCP or
 * unix listener, datagrams alone for a UDP socket (whose limit is its
 * receive buffer, in bytes: fmt_rcvbuf()).
 */
static char *fmt_queue(const struct aqs_row *l)
{
	if (aqs_kind(l) == AQ_K_UDP)
		return fmt_u64(l->qnow);
	return xasprintf("%llu/%llu", (unsigned long long)l->qnow,
			 (unsigned long long)l->backlog);
}

/* A UDP socket's receive buffer: bytes in use over its size. */
static char *fmt_rcvbuf(const struct aqs_row *l)
{
	if (!l->has_udp)
		return xasprintf("-/%llu", (unsigned long long)l->backlog);
	return xasprintf("%llu/%llu", (unsigned long long)l->rmem_now,
			 (unsigned long long)l->backlog);
}

/*
 * What is wrong right now, in the events' words (stall, overflow); format 1
 * has no live state.
 */
static const char *live_state(const struct aqs_row *l)
{
	if (l->stalled && l->overflowing)
		return "stalled+overflow";
	if (l->stalled)
		return "stalled";
	if (l->overflowing)
		return "overflow";
	return "-";
}

void listener_table_init(struct listener_table *lt, const char *const *hdr,
			 int n, const struct aqs_row **v, size_t nv, int udp)
{
	int nc = 0;

	memset(lt, 0, sizeof(*lt));
	lt->netns = distinct_netns(v, nv);
	lt->state = any_live_state(v, nv);
	lt->udp = udp;
	for (int i = 0; i < n && nc < LISTENER_COLS_MAX; i++) {
		const char *h = hdr[i];

		if ((!strcmp(h, "NETNS") && !lt->netns) ||
		    (!strcmp(h, "STATE") && !lt->state))
			continue;
		if (!strcmp(h, "QUEUE") && udp) {
			/* datagrams, and the buffer in bytes: two columns */
			lt->hdr[nc] = "DGRAMS";
			lt->align[nc++] = 'r';
			lt->hdr[nc] = "RCVBUF";
			lt->align[nc++] = 'r';
			continue;
		}
		lt->hdr[nc] = h;
		/* the rates of -w, in the words of the table's ENQ and ACC */
		if (!strcmp(h, "ARRIVALS/s"))
			lt->narrow[nc] = "ENQ/s";
		else if (!strcmp(h, "ACCEPTS/s"))
			lt->narrow[nc] = "ACC/s";
		lt->align[nc++] = (!strcmp(h, "PROTO") || !strcmp(h, "LOCAL") ||
				   !strcmp(h, "STATE") || i == n - 1) ? 'l' : 'r';
	}
	lt->t.ncols = nc;
	lt->t.hdr = lt->hdr;
	lt->t.align = lt->align;
	lt->t.narrow_hdr = lt->narrow;
}

int listener_cells(const struct listener_table *lt, char **row,
		   const struct aqs_row *l)
{
	int c = 0;

	row[c++] = fmt_u64(l->id);
	if (lt->netns)
		row[c++] = fmt_u64(l->netns);
	row[c++] = xstrdup(aq_proto_name(l->proto));
	row[c++] = printable(l->local);
	row[c++] = fmt_queue(l);
	if (lt->udp)
		row[c++] = fmt_rcvbuf(l);
	if (lt->state)
		row[c++] = xstrdup(live_state(l));
	return c;
}

/* listen()'s argument as the note says it: -1 reads as the most allowed */
static char *fmt_asked(uint64_t asked)
{
	if (asked == AQ_BACKLOG_MOST)
		return xstrdup("the most (-1)");
	return fmt_u64(asked);
}

/*
 * One line after the table about @l's backlog, if it has one to say
 * (backlog.h): "ID PROTO LOCAL: " (LOCAL as its row shows it, so that no
 * name can split or forge a line), what listen() asked for and what
 * net.core.somaxconn let it have, and for a listener that dropped at a
 * full queue the backlog that would have held its peak and what to raise.
 */
static void print_backlog_note(const struct aqs_row *l,
			       const struct aq_backlog *b)
{
	static const char *const raise[] = {
		[AQ_LIMIT_BACKLOG] = "raise the listen() backlog",
		[AQ_LIMIT_SOMAXCONN] = "raise net.core.somaxconn",
		[AQ_LIMIT_BOTH] = "raise the listen() backlog and net.core.somaxconn",
	};
	char *local = printable(l->local), *asked = fmt_asked(l->backlog_asked);

	printf("%llu %s %s: ", (unsigned long long)l->id,
	       aq_proto_name(l->proto), local);
	if (b->clamped)
		printf("listen() asked for %s, capped at %llu by net.core.somaxconn",
		       asked, (unsigned long long)l->somaxconn);
	else if (l->somaxconn)
		printf("listen() asked for %s, within net.core.somaxconn %llu",
		       asked, (unsigned long long)l->somaxconn);
	if (b->dropped) {
		printf("%s%llu dropped at a full queue: a backlog of %llu would have held its peak",
		       b->clamped || l->somaxconn ? "; " : "",
		       (unsigned long long)b->full_drops,
		       (unsigned long long)b->needed);
		if (b->limit == AQ_LIMIT_NONE)
			printf(" (as its backlog of %llu now does)",
			       (unsigned long long)l->backlog);
		else
			printf(" (%s)", raise[b->limit]);
	}
	putchar('\n');
	free(local);
	free(asked);
}

/* The notes of the @n listeners @v, in their order, after a blank line. */
static void print_backlog_notes(const struct aqs_row **v, size_t n)
{
	int first = 1;

	for (size_t i = 0; i < n; i++) {
		struct aq_backlog b;

		aq_backlog_view(v[i], &b);
		if (!aq_backlog_noted(&b))
			continue;
		if (first)
			putchar('\n');
		first = 0;
		print_backlog_note(v[i], &b);
	}
}

/* A member of a reuseport group at position pos of the table's order. */
struct member {
	uint64_t group;
	size_t pos;
};

static int by_group_then_pos(const void *a, const void *b)
{
	const struct member *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/*
 * Keeps the members of each reuseport group of @v together, in their
 * order, where its first member is; the other rows stay in theirs.
 */
static void group_members(const struct aqs_row **v, size_t n)
{
	struct member *m = xmalloc((n ? n : 1) * sizeof(*m));
	/* run[i]: 1 + the start in @m of the group whose first row is v[i] */
	size_t *run = xmalloc((n ? n : 1) * sizeof(*run));
	const struct aqs_row **out = xmalloc((n ? n : 1) * sizeof(*out));
	size_t nm = 0, k = 0;

	for (size_t i = 0; i < n; i++) {
		run[i] = 0;
		if (v[i]->reuseport_group)
			m[nm++] = (struct member){ v[i]->reuseport_group, i };
	}
	qsort(m, nm, sizeof(*m), by_group_then_pos);
	for (size_t j = 0; j < nm; j++)
		if (!j || m[j].group != m[j - 1].group)
			run[m[j].pos] = j + 1;
	for (size_t i = 0; i < n; i++) {
		if (!v[i]->reuseport_group)
			out[k++] = v[i];
		else if (run[i])
			for (size_t j = run[i] - 1;
			     j < nm && m[j].group == v[i]->reuseport_group; j++)
				out[k++] = v[m[j].pos];
	}
	memcpy(v, out, n * sizeof(*v));
	free(out);
	free(run);
	free(m);
}

/*
 * The line over the @k members @g of one reuseport group (k >= 2), in the
 * table's order; numbers only, so that nothing can forge or split it:
 * "group G (K members): queue Q/B, enqueued E, accepted A, drops D;
 * shares of enqueued P% P% ...; fullest member ID at Q/B vs group mean M".
 * A UDP group's queue is in datagrams, without a limit (its receive
 * buffers are bytes).
 */
static char *group_line(const struct aqs_row *const *g, size_t k)
{
	int udp = aqs_kind(g[0]) == AQ_K_UDP;
	uint64_t q = 0, b = 0, e = 0, a = 0, d = 0;
	long double etotal = 0, qtotal = 0;
	const struct aqs_row *full = g[0];
	char *s, *t;

	for (size_t i = 0; i < k; i++) {
		q = aqs_sat_add(q, g[i]->qnow);
		b = aqs_sat_add(b, g[i]->backlog);
		e = aqs_sat_add(e, g[i]->enqueued);
		a = aqs_sat_add(a, g[i]->accepted);
		d = aqs_sat_add(d, g[i]->drops);
		etotal += g[i]->enqueued;
		qtotal += g[i]->qnow;
		if (g[i]->qnow > full->qnow)
			full = g[i];
	}
	s = xasprintf("group %llu (%zu members): queue %llu",
		      (unsigned long long)g[0]->reuseport_group, k,
		      (unsigned long long)q);
	if (!udp) {
		t = xasprintf("%s/%llu", s, (unsigned long long)b);
		free(s);
		s = t;
	}
	t = xasprintf("%s, enqueued %llu, accepted %llu, drops %llu; shares of enqueued",
		      s, (unsigned long long)e, (unsigned long long)a,
		      (unsigned long long)d);
	free(s);
	s = t;
	for (size_t i = 0; i < k; i++) {
		if (etotal > 0)
			t = xasprintf("%s %.0Lf%%", s,
				      100.0L * g[i]->enqueued / etotal);
		else
			t = xasprintf("%s -", s);
		free(s);
		s = t;
	}
	t = xasprintf("%s; fullest member %llu at %llu", s,
		      (unsigned long long)full->id, (unsigned long long)full->qnow);
	free(s);
	s = t;
	if (!udp) {
		t = xasprintf("%s/%llu", s, (unsigned long long)full->backlog);
		free(s);
		s = t;
	}
	t = xasprintf("%s vs group mean %.1Lf", s, qtotal / k);
	free(s);
	return t;
}

size_t udp_last(const struct aqs_row **v, size_t n)
{
	size_t k = 0;
	const struct aqs_row **udp = xmalloc(n * sizeof(*udp));
	size_t nudp = 0;

	for (size_t i = 0; i < n; i++) {
		if (aqs_kind(v[i]) == AQ_K_UDP)
			udp[nudp++] = v[i];
		else
			v[k++] = v[i];
	}
	memcpy(v + k, udp, nudp * sizeof(*udp));
	free(udp);
	return k;
}

int show_table(const struct aq_snapshot *s, const struct aqs_filter *f,
	       int histograms)
{
	static const char *const hdr[] = {
		"ID", "NETNS", "PROTO", "LOCAL", "QUEUE", "STATE", "PEAK",
		"ENQ", "ACC", "DROPS", "P50", "P99", "MAX", "PID", "COMM",
	};
	size_t n;
	const struct aqs_row **v = select_listeners(s, f, &n);
	struct listener_table lt;

	size_t nconn;

	qsort(v, n, sizeof(*v), by_saturation);
	nconn = udp_last(v, n);
	group_members(v, nconn);
	group_members(v + nconn, n - nconn);
	print_summary(s, n);
	if (!n) {
		printf(s->n ? "no listener matches the filters\n"
			    : "no listeners tracked\n");
		free(v);
		return EX_OK;
	}
	for (size_t i = 0; i < n; i++) {
		const struct aqs_row *l = v[i];
		char *row[LISTENER_COLS_MAX];
		int c;

		/* TCP and unix listeners, then UDP sockets: their own units */
		if (i == 0 || i == nconn) {
			if (i)
				table_print(&lt.t);
			if (i && nconn)
				putchar('\n');
			if (i == nconn)
				cprintf("UDP sockets: DGRAMS datagrams queued, RCVBUF receive buffer bytes used/size\n");
			listener_table_init(&lt, hdr, sizeof(hdr) / sizeof(*hdr),
					    v + i, i == nconn ? n - nconn : nconn,
					    i == nconn);
		}
		c = listener_cells(&lt, row, l);

		/* over the first member of a group of two or more shown */
		if (l->reuseport_group && (i == 0 || i == nconn ||
		    v[i - 1]->reuseport_group != l->reuseport_group)) {
			size_t k = 1, end = i < nconn ? nconn : n;

			while (i + k < end &&
			       v[i + k]->reuseport_group == l->reuseport_group)
				k++;
			if (k >= 2)
				table_add_line(&lt.t, group_line(v + i, k));
		}
		row[c++] = fmt_u64(l->qpeak);
		row[c++] = fmt_u64(l->enqueued);
		row[c++] = fmt_u64(l->accepted);
		row[c++] = fmt_u64(l->drops);
		row[c++] = fmt_us(aq_wait_pct_us(l, l->p50_us));
		row[c++] = fmt_us(aq_wait_pct_us(l, l->p99_us));
		row[c++] = fmt_us(l->max_us);
		row[c++] = fmt_u64(l->pid);
		row[c++] = printable(l->pid || strcmp(l->comm, "-") ? l->comm : "-");
		table_add(&lt.t, row);
	}
	table_print(&lt.t);
	print_backlog_notes(v, n);
	if (histograms)
		for (size_t i = 0; i < n; i++)
			print_histograms(v[i]);
	free(v);
	return EX_OK;
}
