// SPDX-License-Identifier: GPL-2.0 OR MIT
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "die.h"
#include "fields.h"
#include "show_prom.h"
#include "text.h"

/* Label value: UTF-8 with \\, \" and \n escaped. */
static void prom_label(FILE *f, const char *name, const char *s, int more)
{
	fprintf(f, "%s=\"", name);
	while (*s) {
		const unsigned char *u = (const unsigned char *)s;
		size_t n = utf8_len(u);

		if (*u == '\\')
			fputs("\\\\", f);
		else if (*u == '"')
			fputs("\\\"", f);
		else if (*u == '\n')
			fputs("\\n", f);
		else if (!n)
			fputs("\xef\xbf\xbd", f);	/* U+FFFD */
		else
			fwrite(s, 1, n, f);
		s += n ? n : 1;
	}
	fprintf(f, "\"%s", more ? "," : "");
}

/* The labels of @l, without the braces: id, netns, proto, address, port, comm. */
static char *prom_labels(const struct aqs_row *l)
{
	char *buf = NULL, num[32];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		die(EX_ERR, "out of memory");
	snprintf(num, sizeof(num), "%llu", (unsigned long long)l->id);
	prom_label(f, "id", num, 1);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)l->netns);
	prom_label(f, "netns", num, 1);
	prom_label(f, "proto", aq_proto_name(l->proto), 1);
	prom_label(f, "address", l->addr, 1);
	if (l->port >= 0)
		snprintf(num, sizeof(num), "%ld", l->port);
	else
		num[0] = '\0';
	prom_label(f, "port", num, 1);
	/*
	 * no pid label: it churns; id identifies the listener, comm names
	 * the program
	 */
	prom_label(f, "comm", l->comm, 0);
	if (fclose(f))
		die(EX_ERR, "out of memory");
	return buf;
}

#define VALUE_MAX	48	/* the longest sample value, with its NUL */

/* @v in decimal into @buf (VALUE_MAX bytes); returns its end. */
static char *put_u64(char *buf, uint64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(buf, p, (size_t)(tmp + sizeof(tmp) - p));
	buf += tmp + sizeof(tmp) - p;
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

static void prom_family(FILE *f, const char *name, const char *type,
			const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_global(FILE *f, const char *name, const char *type,
			const char *help, uint64_t v)
{
	prom_family(f, name, type, help);
	fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

/*
 * aqueue_up and what says why it is 0: aqueue_format_newer tells "aqstat
 * is older than the module" from "the module is not loaded".
 */
static void prom_up(FILE *f, int up, const struct aq_snapshot *s)
{
	int newer = s && aq_format_newer(s);

	prom_global(f, "aqueue_up", "gauge",
		    "1 if aqstat read the aqueue module's figures; 0 if it could not: the module is not loaded, or aqueue_format_newer is 1, or the file is not readable.",
		    (uint64_t)up);
	prom_global(f, "aqueue_format_newer", "gauge",
		    "1 if /proc/aqueue is of a format newer than this aqstat reads: aqstat is older than the module (aqueue_up is then 0).",
		    (uint64_t)newer);
	prom_global(f, "aqueue_format", "gauge",
		    "The format version of /proc/aqueue as read (0 when it could not be read).",
		    s && s->format != UINT64_MAX ? s->format : 0);
}

/* One sample a metric of group @g of the global struct @base. */
static void prom_globals(FILE *f, enum aq_group g, const void *base)
{
	for (const struct aq_metric *m = aq_metrics; m->key; m++)
		if (m->group == g && m->name)
			prom_global(f, m->name, m->type, m->help,
				    aq_metric_get(base, m));
}

/* One --prometheus output: its listeners, their labels, its buckets. */
struct prom {
	FILE *f;
	const struct aqs_row **v;
	size_t n;
	char **labels;		/* of v[i], from prom_labels() */
	size_t *label_len;
	char *line;		/* room for the longest sample line */
	enum aq_buckets buckets;
};

static char *put(char *dst, const char *s, size_t n)
{
	memcpy(dst, s, n);
	return dst + n;
}

/*
 * One line NAME SUFFIX{LABELS[,le="LE"]} VALUE, put together in p->line
 * and written at once, without taking the stream's lock each time (one
 * thread writes it): 65,536 listeners make millions of them.
 */
static void sample(struct prom *p, const char *name, const char *suffix,
		   size_t i, const char *le, const char *value)
{
	char *o = p->line;

	o = put(o, name, strlen(name));
	o = put(o, suffix, strlen(suffix));
	*o++ = '{';
	o = put(o, p->labels[i], p->label_len[i]);
	if (le) {
		o = put(o, ",le=\"", 5);
		o = put(o, le, strlen(le));
		*o++ = '"';
	}
	o = put(o, "} ", 2);
	o = put(o, value, strlen(value));
	*o++ = '\n';
	fwrite_unlocked(p->line, 1, (size_t)(o - p->line), p->f);
}

/* One family a metric of group @g, one sample in it a listener. */
static void prom_listeners(struct prom *p, enum aq_group g)
{
	for (const struct aq_metric *m = aq_metrics; m->key; m++) {
		int header = 0;

		if (m->group != g || !m->name)
			continue;
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
				prom_family(p->f, m->name, m->type, m->help);
			prom_value(val, x, m->unit);
			sample(p, m->name, "", i, NULL, val);
		}
	}
}

/*
 * Whether bucket @i of @h has its own sample in the output. Every one
 * with --buckets all; the coarse layout keeps one edge in two (times) or
 * in four (lengths) of the module's log2 edges, and the last, +Inf: the
 * counts stay exact at the edges kept (they are cumulative), a quantile
 * is known to within a factor of four (times) instead of two.
 */
static int bucket_shown(const struct prom *p, const struct aq_hist_metric *h,
			unsigned int i)
{
	if (i == h->n - 1 || p->buckets == AQ_BUCKETS_ALL)
		return 1;
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

static void prom_hist(struct prom *p, const struct aq_hist_metric *h, size_t li)
{
	const struct aqs_row *l = p->v[li];
	const uint64_t *b = aq_hist_get(l, h);
	char le[VALUE_MAX], val[VALUE_MAX];
	uint64_t cum = 0;

	for (unsigned int i = 0; i < h->n; i++) {
		cum += b[i];
		if (!bucket_shown(p, h, i))
			continue;
		prom_le(le, h, i);
		put_u64(val, cum);
		sample(p, h->name, "_bucket", li, le, val);
	}
	if (h->has_sum)
		prom_value(val, aq_hist_sum(l, h), h->unit);
	else
		strcpy(val, "NaN");
	sample(p, h->name, "_sum", li, NULL, val);
	put_u64(val, cum);
	sample(p, h->name, "_count", li, NULL, val);
}

/* The histograms in @unit, one family each, cumulative buckets. */
static void prom_hists(struct prom *p, enum aq_unit unit)
{
	if (p->buckets == AQ_BUCKETS_NONE)
		return;
	for (const struct aq_hist_metric *h = aq_hist_metrics; h->key; h++) {
		int header = 0;

		if (h->unit != unit || !h->name)
			continue;
		for (size_t i = 0; i < p->n; i++) {
			/* a sum comes from the detail line */
			if (!(h->kinds & aqs_kind(p->v[i])) ||
			    !aq_hist_present(p->v[i], h) ||
			    (h->has_sum && !p->v[i]->has_detail))
				continue;
			if (!header++)
				prom_family(p->f, h->name, "histogram", h->help);
			prom_hist(p, h, i);
		}
	}
}

int show_prometheus(FILE *out, const struct aq_snapshot *s,
		    const struct aqs_filter *f, enum aq_buckets buckets)
{
	struct prom p = { .f = out, .buckets = buckets };
	size_t longest = 0;

	p.v = select_listeners(s, f, &p.n);
	p.labels = xmalloc(p.n * sizeof(*p.labels));
	p.label_len = xmalloc(p.n * sizeof(*p.label_len));
	for (size_t i = 0; i < p.n; i++) {
		p.labels[i] = prom_labels(p.v[i]);
		p.label_len[i] = strlen(p.labels[i]);
		if (p.label_len[i] > longest)
			longest = p.label_len[i];
	}
	/* a name and its suffix, le="...", a value: well within 256 */
	p.line = xmalloc(longest + 256);
	prom_up(out, 1, s);
	prom_global(out, "aqueue_parse_malformed_lines", "gauge",
		    "Lines of /proc/aqueue that aqstat could not parse in this read (their figures are missing).",
		    s->malformed);
	prom_global(out, "aqueue_parse_unknown_keys", "gauge",
		    "Keys of /proc/aqueue that this aqstat does not know, skipped in this read (a newer module; every known figure is kept).",
		    s->unknown_keys);
	if (s->has_state)
		prom_globals(out, AQ_G_STATE, &s->state);
	if (s->has_closed)
		prom_globals(out, AQ_G_CLOSED, &s->closed);
	prom_listeners(&p, AQ_G_ROW);
	prom_listeners(&p, AQ_G_DETAIL);
	prom_listeners(&p, AQ_G_LIVE);
	prom_listeners(&p, AQ_G_MIGRATE);
	prom_listeners(&p, AQ_G_PCT);
	prom_listeners(&p, AQ_G_UDP);
	/* the times first, as the exposition has always listed them */
	prom_hists(&p, AQ_UNIT_NS);
	prom_hists(&p, AQ_UNIT_ONE);
	for (size_t i = 0; i < p.n; i++)
		free(p.labels[i]);
	free(p.labels);
	free(p.label_len);
	free(p.line);
	free(p.v);
	return EX_OK;
}

void show_prometheus_down(FILE *out, const struct aq_snapshot *s)
{
	prom_up(out, 0, s);
}
