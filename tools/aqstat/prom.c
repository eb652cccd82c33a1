// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <stdlib.h>

#include "die.h"
#include "fields.h"
#include "prom.h"
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

static void prom_labels(FILE *f, const struct aq_listener *l, const char *extra)
{
	char num[32];

	putc('{', f);
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
	prom_label(f, "comm", l->comm, extra != NULL);
	if (extra)
		fputs(extra, f);
	putc('}', f);
}

/* Nanoseconds as exact decimal seconds. */
static char *ns_to_s(uint64_t ns)
{
	char frac[16];
	int n;

	if (!(ns % 1000000000ULL))
		return xasprintf("%llu", (unsigned long long)(ns / 1000000000ULL));
	n = snprintf(frac, sizeof(frac), "%09llu",
		     (unsigned long long)(ns % 1000000000ULL));
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	return xasprintf("%llu.%s", (unsigned long long)(ns / 1000000000ULL), frac);
}

/* The sample value of @v, in seconds where the unit is a time. */
static char *prom_value(uint64_t v, enum aq_unit unit)
{
	switch (unit) {
	case AQ_UNIT_NS:
		return ns_to_s(v);
	case AQ_UNIT_US:
		if (v > UINT64_MAX / 1000)
			return xasprintf("%.9g", (double)v / 1e6);
		return ns_to_s(v * 1000);
	default:
		return fmt_u64(v);
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

/* One family a metric of group @g, one sample in it a listener. */
static void prom_listeners(FILE *f, enum aq_group g,
			   const struct aq_listener **v, size_t n)
{
	for (const struct aq_metric *m = aq_metrics; m->key; m++) {
		int header = 0;

		if (m->group != g || !m->name)
			continue;
		for (size_t i = 0; i < n; i++) {
			uint64_t x = aq_metric_get(v[i], m);
			char *val;

			if (g == AQ_G_PCT)
				x = aq_wait_pct_us(v[i], x);
			if (!aq_group_present(v[i], g) ||
			    (g == AQ_G_PCT && x == AQ_FIELD_UNSET))
				continue;
			if (!header++)
				prom_family(f, m->name, m->type, m->help);
			val = prom_value(x, m->unit);
			fputs(m->name, f);
			prom_labels(f, v[i], NULL);
			fprintf(f, " %s\n", val);
			free(val);
		}
	}
}

/* Bucket i's le: its upper bound, inclusive. */
static char *prom_le(const struct aq_hist_metric *h, unsigned int i)
{
	if (i == h->n - 1)
		return xstrdup("+Inf");
	/*
	 * bucket i holds [low(i), low(i+1)): for times an approximation at
	 * the edges that the log2 layout cannot avoid
	 */
	if (h->unit == AQ_UNIT_NS)
		return ns_to_s(h->low(i + 1));
	return fmt_u64(h->low(i + 1) - 1);
}

static void prom_hist(FILE *f, const struct aq_hist_metric *h,
		      const struct aq_listener *l)
{
	const uint64_t *b = aq_hist_get(l, h);
	uint64_t cum = 0;
	char *sum;

	for (unsigned int i = 0; i < h->n; i++) {
		char *le = prom_le(h, i), *lab = xasprintf("le=\"%s\"", le);

		cum += b[i];
		fprintf(f, "%s_bucket", h->name);
		prom_labels(f, l, lab);
		fprintf(f, " %llu\n", (unsigned long long)cum);
		free(le);
		free(lab);
	}
	sum = h->has_sum ? prom_value(aq_hist_sum(l, h), h->unit) : xstrdup("NaN");
	fprintf(f, "%s_sum", h->name);
	prom_labels(f, l, NULL);
	fprintf(f, " %s\n%s_count", sum, h->name);
	prom_labels(f, l, NULL);
	fprintf(f, " %llu\n", (unsigned long long)cum);
	free(sum);
}

/* The histograms in @unit, one family each, cumulative buckets. */
static void prom_hists(FILE *f, enum aq_unit unit,
		       const struct aq_listener **v, size_t n)
{
	for (const struct aq_hist_metric *h = aq_hist_metrics; h->key; h++) {
		int header = 0;

		if (h->unit != unit || !h->name)
			continue;
		for (size_t i = 0; i < n; i++) {
			/* a sum comes from the detail line */
			if (!aq_hist_present(v[i], h) ||
			    (h->has_sum && !v[i]->has_detail))
				continue;
			if (!header++)
				prom_family(f, h->name, "histogram", h->help);
			prom_hist(f, h, v[i]);
		}
	}
}

int show_prometheus(FILE *out, const struct aq_snapshot *s,
		    const struct aq_filter *f)
{
	size_t n;
	const struct aq_listener **v = select_listeners(s, f, &n);

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
	prom_listeners(out, AQ_G_ROW, v, n);
	prom_listeners(out, AQ_G_DETAIL, v, n);
	prom_listeners(out, AQ_G_LIVE, v, n);
	prom_listeners(out, AQ_G_MIGRATE, v, n);
	prom_listeners(out, AQ_G_PCT, v, n);
	/* the times first, as the exposition has always listed them */
	prom_hists(out, AQ_UNIT_NS, v, n);
	prom_hists(out, AQ_UNIT_ONE, v, n);
	free(v);
	return EX_OK;
}

void show_prometheus_down(FILE *out, const struct aq_snapshot *s)
{
	prom_up(out, 0, s);
}
