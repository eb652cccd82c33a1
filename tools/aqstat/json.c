// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <stdlib.h>

#include "die.h"
#include "fields.h"
#include "json.h"
#include "text.h"

/* An object being written: a ", " goes before each member but the first. */
struct jobj {
	FILE *f;
	int more;
};

static void json_str(FILE *f, const char *s)
{
	putc('"', f);
	while (*s) {
		const unsigned char *u = (const unsigned char *)s;
		size_t n = utf8_len(u);

		if (*u == '"' || *u == '\\') {
			fprintf(f, "\\%c", *u);
		} else if (*u < 0x20 || *u == 0x7f) {
			fprintf(f, "\\u%04x", *u);
		} else if (!n) {
			fputs("\\ufffd", f);	/* not UTF-8 */
			n = 1;
		} else {
			fwrite(s, 1, n, f);
		}
		s += n ? n : 1;
	}
	putc('"', f);
}

/* @v in decimal: printf is the most of -j's time at 65,536 listeners */
static void json_u64(FILE *f, uint64_t v)
{
	char buf[24], *p = buf + sizeof(buf);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	fwrite(p, 1, (size_t)(buf + sizeof(buf) - p), f);
}

static void key(struct jobj *o, const char *k)
{
	if (o->more)
		fputs(", ", o->f);
	putc('"', o->f);
	fputs(k, o->f);
	fputs("\": ", o->f);
	o->more = 1;
}

/* A new line of members, indented under the first. */
static void newline(struct jobj *o)
{
	fputs(o->more ? ", \n   " : "\n   ", o->f);
	o->more = 0;
}

static void num(struct jobj *o, const char *k, uint64_t v)
{
	key(o, k);
	json_u64(o->f, v);
}

static void str(struct jobj *o, const char *k, const char *v)
{
	key(o, k);
	json_str(o->f, v);
}

static void null(struct jobj *o, const char *k)
{
	key(o, k);
	fputs("null", o->f);
}

/*
 * The table's members of group @g of @base. A group that is not there is
 * null, or left out where the format or the protocol never has it.
 */
static void group(struct jobj *o, enum aq_group g, const void *base,
		  int present)
{
	int nullable = g == AQ_G_PCT || g == AQ_G_DETAIL;

	if (!present && !nullable)
		return;
	for (const struct aq_metric *m = aq_metrics; m->key; m++) {
		uint64_t v;

		if (m->group != g || m->prom_only)
			continue;
		v = aq_metric_get(base, m);
		if (!present || (g == AQ_G_PCT && v == AQ_FIELD_UNSET))
			null(o, m->key);
		else
			num(o, m->key, v);
	}
}

/* [{"low": L, "count": C}, ...] of the non-empty buckets */
static void hists(struct jobj *o, enum aq_group g, const struct aq_listener *l)
{
	for (const struct aq_hist_metric *h = aq_hist_metrics; h->key; h++) {
		const uint64_t *b = aq_hist_get(l, h);
		int first = 1;

		if (h->group != g || h->prom_only)
			continue;
		if (!aq_hist_present(l, h)) {
			null(o, h->key);
			continue;
		}
		key(o, h->key);
		putc('[', o->f);
		for (unsigned int i = 0; i < h->n; i++) {
			if (!b[i])
				continue;
			fputs(first ? "{\"low\": " : ", {\"low\": ", o->f);
			json_u64(o->f, h->low(i));
			fputs(", \"count\": ", o->f);
			json_u64(o->f, b[i]);
			putc('}', o->f);
			first = 0;
		}
		putc(']', o->f);
	}
}

static void listener(FILE *f, const struct aq_listener *l)
{
	struct jobj o = { f, 0 };

	putc('{', f);
	num(&o, "id", l->id);
	num(&o, "netns", l->netns);
	str(&o, "proto", aq_proto_name(l->proto));
	str(&o, "local", l->local);
	str(&o, "address", l->addr);
	if (l->port >= 0) {
		key(&o, "port");
		fprintf(f, "%ld", l->port);
	} else {
		null(&o, "port");
	}
	group(&o, AQ_G_ROW, l, 1);
	group(&o, AQ_G_PCT, l, 1);
	num(&o, "pid", l->pid);
	str(&o, "comm", l->comm);
	fputs(",\n   ", f);
	o.more = 0;
	group(&o, AQ_G_DETAIL, l, l->has_detail);
	group(&o, AQ_G_LIVE, l, l->has_live);
	group(&o, AQ_G_MIGRATE, l, l->has_migrate);
	newline(&o);
	hists(&o, AQ_G_HIST, l);
	if (l->has_udp) {
		newline(&o);
		group(&o, AQ_G_UDP, l, 1);
		hists(&o, AQ_G_UDP, l);
	}
	if (l->has_syn) {
		newline(&o);
		group(&o, AQ_G_SYN, l, 1);
		hists(&o, AQ_G_SYN, l);
	}
	putc('}', f);
}

/* An object of the table's group @g, or null */
static void global(FILE *f, enum aq_group g, const void *base, int present)
{
	struct jobj o = { f, 0 };

	if (!present) {
		fputs("null", f);
		return;
	}
	putc('{', f);
	group(&o, g, base, 1);
	putc('}', f);
}

int show_json(FILE *out, const struct aq_snapshot *s,
	      const struct aq_filter *f, const char *source)
{
	size_t n;
	const struct aq_listener **v = select_listeners(s, f, &n);

	fprintf(out, "{\"format\": %llu, \"source\": ", (unsigned long long)s->format);
	json_str(out, source);
	fprintf(out, ", \"malformed_lines\": %u, \"unknown_keys\": %u,\n \"state\": ",
		s->malformed, s->unknown_keys);
	global(out, AQ_G_STATE, &s->state, s->has_state);
	fputs(",\n \"closed\": ", out);
	global(out, AQ_G_CLOSED, &s->closed, s->has_closed);
	fputs(",\n \"listeners\": [", out);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n  " : "\n  ", out);
		listener(out, v[i]);
	}
	fputs(n ? "\n ]}\n" : "]}\n", out);
	free(v);
	return EX_OK;
}
