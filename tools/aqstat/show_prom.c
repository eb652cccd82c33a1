// SPDX-License-Identifier: GPL-2.0 OR MIT
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "die.h"
#include "fields.h"
#include "show_prom.h"
#include "text.h"
#include "wbuf.h"

/* A growing string: the labels of every listener, one after another. */
struct dbuf {
	char *p;
	size_t n, cap;
};

static char *db_room(struct dbuf *d, size_t n)
{
	if (n > d->cap - d->n) {
		size_t cap = d->cap ? d->cap : 4096;

		while (n > cap - d->n)
			cap *= 2;
		d->p = realloc(d->p, cap);
		if (!d->p)
			die(EX_ERR, "out of memory");
		d->cap = cap;
	}
	return d->p + d->n;
}

static void db_put(struct dbuf *d, const char *s, size_t n)
{
	memcpy(db_room(d, n), s, n);
	d->n += n;
}

/* NAME="VALUE": the value UTF-8 with \\, \" and \n escaped. */
static void prom_label(struct dbuf *d, const char *name, const char *s, int more)
{
	db_put(d, name, strlen(name));
	db_put(d, "=\"", 2);
	while (*s) {
		const unsigned char *u = (const unsigned char *)s;
		size_t n = 0;

		/* a run of ASCII that needs no escape, in one piece */
		while (u[n] && u[n] < 0x80 && u[n] != '\\' && u[n] != '"' &&
		       u[n] != '\n')
			n++;
		if (n) {
			db_put(d, s, n);
			s += n;
			continue;
		}
		n = utf8_len(u);

		if (*u == '\\')
			db_put(d, "\\\\", 2);
		else if (*u == '"')
			db_put(d, "\\\"", 2);
		else if (*u == '\n')
			db_put(d, "\\n", 2);
		else if (!n)
			db_put(d, "\xef\xbf\xbd", 3);	/* U+FFFD */
		else
			db_put(d, s, n);
		s += n ? n : 1;
	}
	db_put(d, more ? "\"," : "\"", more ? 2 : 1);
}

/*
 * The labels of @l, without the braces, at the end of @d: id, netns,
 * proto, address, port, comm.
 */
static void prom_labels(struct dbuf *d, const struct aqs_row *l)
{
	char num[24];

	*put_dec(num, l->id) = '\0';
	prom_label(d, "id", num, 1);
	*put_dec(num, l->netns) = '\0';
	prom_label(d, "netns", num, 1);
	prom_label(d, "proto", aq_proto_name(l->proto), 1);
	prom_label(d, "address", l->addr, 1);
	if (l->port >= 0)
		*put_dec(num, (uint64_t)l->port) = '\0';
	else
		num[0] = '\0';
	prom_label(d, "port", num, 1);
	/*
	 * no pid label: it churns; id identifies the listener, comm names
	 * the program
	 */
	prom_label(d, "comm", l->comm, 0);
}

#define VALUE_MAX	48	/* the longest sample value, with its NUL */

/* @v in decimal into @buf (VALUE_MAX bytes); returns its end. */
static char *put_u64(char *buf, uint64_t v)
{
	buf = put_dec(buf, v);
	*buf = '\0';
	return buf;
}

/* Nanoseconds as exact decimal seconds, into @buf. */
static void ns_to_s(char *buf, uint64_t ns)
{
	uint64_t frac = ns % 1000000000ULL;
	char *p = put_u64(buf, ns / 1000000000ULL);

	if (!frac)
		return;
	*p++ = '.';
	for (uint64_t d = 100000000ULL; frac; d /= 10) {
		*p++ = (char)('0' + frac / d);
		frac %= d;
	}
	*p = '\0';
}

/* The sample value of @v into @buf, in seconds where the unit is a time. */
static void prom_value(char *buf, uint64_t v, enum aq_unit unit)
{
	switch (unit) {
	case AQ_UNIT_NS:
		ns_to_s(buf, v);
		break;
	case AQ_UNIT_US:
		if (v > UINT64_MAX / 1000)
			snprintf(buf, VALUE_MAX, "%.9g", (double)v / 1e6);
		else
			ns_to_s(buf, v * 1000);
		break;
	default:
		put_u64(buf, v);
	}
}

static void prom_family(struct wbuf *w, const char *name, const char *type,
			const char *help)
{
	wb_str(w, "# HELP ");
	wb_str(w, name);
	wb_c(w, ' ');
	wb_str(w, help);
	wb_str(w, "\n# TYPE ");
	wb_str(w, name);
	wb_c(w, ' ');
	wb_str(w, type);
	wb_c(w, '\n');
}

static void prom_global(struct wbuf *w, const char *name, const char *type,
			const char *help, uint64_t v)
{
	prom_family(w, name, type, help);
	wb_str(w, name);
	wb_c(w, ' ');
	wb_u64(w, v);
	wb_c(w, '\n');
}

/*
 * aqueue_up and what says why it is 0: aqueue_format_newer tells "aqstat
 * is older than the module" from "the module is not loaded".
 */
static void prom_up(struct wbuf *w, int up, const struct aq_snapshot *s)
{
	int newer = s && aq_format_newer(s);

	prom_global(w, "aqueue_up", "gauge",
		    "1 if aqstat read the aqueue module's figures; 0 if it could not: the module is not loaded, or aqueue_format_newer is 1, or the file is not readable.",
		    (uint64_t)up);
	prom_global(w, "aqueue_format_newer", "gauge",
		    "1 if /proc/aqueue is of a format newer than this aqstat reads: aqstat is older than the module (aqueue_up is then 0).",
		    (uint64_t)newer);
	prom_global(w, "aqueue_format", "gauge",
		    "The format version of /proc/aqueue as read (0 when it could not be read).",
		    s && s->format != UINT64_MAX ? s->format : 0);
}

/* One sample a metric of group @g of the global struct @base. */
static void prom_globals(struct wbuf *w, enum aq_group g, const void *base)
{
	for (const struct aq_metric *m = aq_metrics; m->key; m++)
		if (m->group == g && m->name)
			prom_global(w, m->name, m->type, m->help,
				    aq_metric_get(base, m));
}

/* One --prometheus output: its listeners, their labels, its options. */
struct prom {
	struct wbuf *w;
	const struct aqs_row **v;
	size_t n;
	struct dbuf labels;	/* of v[i]: at label_off[i], to label_off[i + 1] */
	size_t *label_off;
	const struct prom_opts *o;
};

static char *put(char *dst, const char *s, size_t n)
{
	memcpy(dst, s, n);
	return dst + n;
}

/* NAME SUFFIX{ of one family's samples: made once, copied into each. */
struct series {
	char s[128];
	size_t len;
};

static void series_init(struct series *se, const char *name, const char *suffix)
{
	int n = snprintf(se->s, sizeof(se->s), "%s%s{", name, suffix);

	if (n < 0 || (size_t)n >= sizeof(se->s))
		die(EX_ERR, "metric name %s too long", name);	/* a bug */
	se->len = (size_t)n;
}

/*
 * One line NAME SUFFIX{LABELS[,le="LE"]} VALUE, put together in the
 * write buffer: 65,536 listeners make a million lines or more.
 */
static void sample(struct prom *p, const struct series *se, size_t i,
		   const char *le, const char *value)
{
	const char *lab = p->labels.p + p->label_off[i];
	size_t lab_len = p->label_off[i + 1] - p->label_off[i];
	size_t le_len = le ? strlen(le) : 0, v_len = strlen(value);
	size_t need = se->len + lab_len + le_len + v_len + 16;
	char *o;

	if (need > WBUF_PIECE_MAX) {	/* never, with the module's names */
		wb_put(p->w, se->s, se->len);
		wb_put(p->w, lab, lab_len);
		if (le) {
			wb_str(p->w, ",le=\"");
			wb_put(p->w, le, le_len);
			wb_c(p->w, '"');
		}
		wb_str(p->w, "} ");
		wb_put(p->w, value, v_len);
		wb_c(p->w, '\n');
		return;
	}
	o = wb_room(p->w, need);
	o = put(o, se->s, se->len);
	o = put(o, lab, lab_len);
	if (le) {
		o = put(o, ",le=\"", 5);
		o = put(o, le, le_len);
		*o++ = '"';
	}
	o = put(o, "} ", 2);
	o = put(o, value, v_len);
	*o++ = '\n';
	wb_done(p->w, o);
}

/* Whether metric @m is written at all with these options. */
static int metric_shown(const struct prom *p, const struct aq_metric *m)
{
	return m->name && (!m->extra || p->o->metrics == AQ_METRICS_ALL);
}

/* One family a metric of group @g, one sample in it a listener. */
static void prom_listeners(struct prom *p, enum aq_group g)
{
	for (const struct aq_metric *m = aq_metrics; m->key; m++) {
		struct series se;
		int header = 0;

		if (m->group != g || !metric_shown(p, m))
			continue;
		series_init(&se, m->name, "");
		for (size_t i = 0; i < p->n; i++) {
			const struct aqs_row *l = p->v[i];
			uint64_t x = aq_metric_get(l, m);
			char val[VALUE_MAX];

			if (g == AQ_G_PCT)
				x = aq_wait_pct_us(l, x);
			if (!(m->kinds & aqs_kind(l)) || !aq_group_present(l, g) ||
			    (g == AQ_G_PCT && x == AQ_FIELD_UNSET))
				continue;
			if (!header++)
				prom_family(p->w, m->name, m->type, m->help);
			prom_value(val, x, m->unit);
			sample(p, &se, i, NULL, val);
		}
	}
}

/*
 * Whether bucket @i of @h has its own sample in the output. The last,
 * +Inf, always: a histogram has it (its count); with --buckets none (the
 * default) no other. Every one with --buckets all; the coarse layout
 * keeps one edge in two (times) or in four (lengths) of the module's log2
 * edges: the counts stay exact at the edges kept (they are cumulative), a
 * quantile is known to within a factor of four (times) instead of two.
 */
static int bucket_shown(const struct prom *p, const struct aq_hist_metric *h,
			unsigned int i)
{
	if (i == h->n - 1 || p->o->buckets == AQ_BUCKETS_ALL)
		return 1;
	if (p->o->buckets == AQ_BUCKETS_NONE)
		return 0;
	if (h->unit == AQ_UNIT_NS)	/* le 4.096us, 16us, ... 68.7s */
		return i % 2 == 0 && i >= 2 && i <= 26;
	/* le 0, 3, 15, 63, ... 65535 */
	return i == 0 || (i % 2 == 0 && i <= 16);
}

/* Bucket i's le: its upper bound, inclusive, into @buf. */
static void prom_le(char *buf, const struct aq_hist_metric *h, unsigned int i)
{
	if (i == h->n - 1)
		strcpy(buf, "+Inf");
	/*
	 * bucket i holds [low(i), low(i+1)): for times an approximation at
	 * the edges that the log2 layout cannot avoid
	 */
	else if (h->unit == AQ_UNIT_NS)
		ns_to_s(buf, h->low(i + 1));
	else
		put_u64(buf, h->low(i + 1) - 1);
}

/* A histogram's series and the le of each bucket: the same for every listener. */
struct hist_series {
	struct series bucket, sum, count;
	char le[AQUEUE_WAIT_BUCKETS][VALUE_MAX];
};

/* Listener @li's samples of @h: the buckets shown, _sum and _count. */
static void prom_hist(struct prom *p, const struct aq_hist_metric *h,
		      const struct hist_series *hs, size_t li)
{
	const struct aqs_row *l = p->v[li];
	const uint64_t *b = aq_hist_get(l, h);
	char val[VALUE_MAX];
	uint64_t cum = 0;

	for (unsigned int i = 0; i < h->n; i++) {
		cum += b[i];
		if (!bucket_shown(p, h, i))
			continue;
		put_u64(val, cum);
		sample(p, &hs->bucket, li, hs->le[i], val);
	}
	if (h->has_sum)
		prom_value(val, aq_hist_sum(l, h), h->unit);
	else
		strcpy(val, "NaN");
	sample(p, &hs->sum, li, NULL, val);
	put_u64(val, cum);
	sample(p, &hs->count, li, NULL, val);
}

/* The histograms in @unit, one family each, cumulative buckets. */
static void prom_hists(struct prom *p, enum aq_unit unit)
{
	for (const struct aq_hist_metric *h = aq_hist_metrics; h->key; h++) {
		struct hist_series hs;
		int header = 0;

		if (h->unit != unit || !h->name)
			continue;
		series_init(&hs.bucket, h->name, "_bucket");
		series_init(&hs.sum, h->name, "_sum");
		series_init(&hs.count, h->name, "_count");
		for (unsigned int i = 0; i < h->n; i++)
			prom_le(hs.le[i], h, i);
		for (size_t i = 0; i < p->n; i++) {
			/* a sum comes from the detail line */
			if (!(h->kinds & aqs_kind(p->v[i])) ||
			    !aq_hist_present(p->v[i], h) ||
			    (h->has_sum && !p->v[i]->has_detail))
				continue;
			if (!header++)
				prom_family(p->w, h->name, "histogram", h->help);
			prom_hist(p, h, &hs, i);
		}
	}
}

int show_prometheus(FILE *out, const struct aq_snapshot *s,
		    const struct aqs_filter *f, const struct prom_opts *o)
{
	struct wbuf *w = xmalloc(sizeof(*w));
	struct prom p = { .w = w, .o = o };

	wb_init(w, out);
	p.v = select_listeners(s, f, &p.n);
	p.label_off = xmalloc((p.n + 1) * sizeof(*p.label_off));
	for (size_t i = 0; i < p.n; i++) {
		p.label_off[i] = p.labels.n;
		prom_labels(&p.labels, p.v[i]);
	}
	p.label_off[p.n] = p.labels.n;
	prom_up(w, 1, s);
	prom_global(w, "aqueue_parse_malformed_lines", "gauge",
		    "Lines of /proc/aqueue that aqstat could not parse in this read (their figures are missing).",
		    s->malformed);
	prom_global(w, "aqueue_parse_unknown_keys", "gauge",
		    "Keys of /proc/aqueue that this aqstat does not know, skipped in this read (a newer module; every known figure is kept).",
		    s->unknown_keys);
	if (s->has_state)
		prom_globals(w, AQ_G_STATE, &s->state);
	if (s->has_closed)
		prom_globals(w, AQ_G_CLOSED, &s->closed);
	prom_listeners(&p, AQ_G_ROW);
	prom_listeners(&p, AQ_G_ASKED);
	prom_listeners(&p, AQ_G_REUSEPORT);
	prom_listeners(&p, AQ_G_DETAIL);
	prom_listeners(&p, AQ_G_LIVE);
	prom_listeners(&p, AQ_G_MIGRATE);
	prom_listeners(&p, AQ_G_PCT);
	prom_listeners(&p, AQ_G_UDP);
	/* the times first, as the exposition has always listed them */
	prom_hists(&p, AQ_UNIT_NS);
	prom_hists(&p, AQ_UNIT_ONE);
	wb_flush(w);
	free(p.labels.p);
	free(p.label_off);
	free(p.v);
	free(w);
	return EX_OK;
}

void show_prometheus_down(FILE *out, const struct aq_snapshot *s)
{
	struct wbuf *w = xmalloc(sizeof(*w));

	wb_init(w, out);
	prom_up(w, 0, s);
	wb_flush(w);
	free(w);
}
