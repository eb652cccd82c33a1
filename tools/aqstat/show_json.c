// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backlog.h"
#include "die.h"
#include "fields.h"
#include "show_json.h"
#include "text.h"
#include "wbuf.h"

/*
 * An object being written: a ", " goes before each member but the first;
 * @oneline: no newline in it (-w -j and events -j write one document a
 * line).
 */
struct jobj {
	struct wbuf *w;
	int more;
	int oneline;
};

/*
 * The @len bytes at @s (NUL-terminated after them, NULs among them
 * allowed) as a JSON string: quotes, backslashes and control characters
 * escaped (so no newline ever), bytes that are not UTF-8 as U+FFFD.
 */
static void json_strn(struct wbuf *w, const char *s, size_t len)
{
	const char *end = s + len;

	wb_c(w, '"');
	while (s < end) {
		const unsigned char *u = (const unsigned char *)s;
		size_t n = 0;

		/* a run of printable ASCII that needs no escape, in one piece */
		while (s + n < end && u[n] >= 0x20 && u[n] < 0x7f &&
		       u[n] != '"' && u[n] != '\\')
			n++;
		if (n) {
			wb_put(w, s, n);
			s += n;
			continue;
		}
		n = utf8_len(u);
		if (*u == '"' || *u == '\\') {
			wb_c(w, '\\');
			wb_c(w, (char)*u);
		} else if (*u < 0x20 || *u == 0x7f) {
			static const char hex[] = "0123456789abcdef";
			char e[6] = { '\\', 'u', '0', '0', hex[*u >> 4], hex[*u & 15] };

			wb_put(w, e, sizeof(e));
		} else if (!n || n > (size_t)(end - s)) {
			wb_str(w, "\\ufffd");	/* not UTF-8 */
			n = 1;
		} else {
			wb_put(w, s, n);
		}
		s += n ? n : 1;
	}
	wb_c(w, '"');
}

static void json_str(struct wbuf *w, const char *s)
{
	json_strn(w, s, strlen(s));
}

/* A name as /proc/aqueue writes it, its \ooo escapes decoded. */
static void json_name(struct wbuf *w, const char *s)
{
	size_t len = strlen(s);
	char small[256], *d = len < sizeof(small) ? small : xmalloc(len + 1);
	size_t n = unoctal(s, d);

	json_strn(w, d, n);
	if (d != small)
		free(d);
}

static void key(struct jobj *o, const char *k)
{
	if (o->more)
		wb_put(o->w, ", ", 2);
	wb_c(o->w, '"');
	wb_str(o->w, k);
	wb_put(o->w, "\": ", 3);
	o->more = 1;
}

/* A new line of members, indented under the first. */
static void newline(struct jobj *o)
{
	if (o->oneline)
		return;
	wb_str(o->w, o->more ? ", \n   " : "\n   ");
	o->more = 0;
}

static void num(struct jobj *o, const char *k, uint64_t v)
{
	key(o, k);
	wb_u64(o->w, v);
}

static void str(struct jobj *o, const char *k, const char *v)
{
	key(o, k);
	json_str(o->w, v);
}

static void name(struct jobj *o, const char *k, const char *v)
{
	key(o, k);
	json_name(o->w, v);
}

static void null(struct jobj *o, const char *k)
{
	key(o, k);
	wb_put(o->w, "null", 4);
}

static void boolean(struct jobj *o, const char *k, int v)
{
	key(o, k);
	wb_str(o->w, v ? "true" : "false");
}

/* A finite double; null otherwise (JSON has no NaN). */
static void real(struct jobj *o, const char *k, double v)
{
	char buf[40];

	key(o, k);
	if (isfinite(v)) {
		snprintf(buf, sizeof(buf), "%.10g", v);
		wb_str(o->w, buf);
	} else {
		wb_put(o->w, "null", 4);
	}
}

/*
 * The table's members of group @g of @base. A group that is not there is
 * null, or left out where the format or the protocol never has it.
 */
static void group(struct jobj *o, enum aq_group g, const void *base,
		  int present)
{
	int nullable = g == AQ_G_PCT || g == AQ_G_DETAIL || g == AQ_G_ASKED ||
		       g == AQ_G_REUSEPORT;

	if (!present && !nullable)
		return;
	for (const struct aq_metric *m = aq_metrics; m->key; m++) {
		uint64_t v;

		if (m->group != g || m->prom_only)
			continue;
		v = aq_metric_get(base, m);
		if (!present || (g == AQ_G_PCT && v == AQ_FIELD_UNSET))
			null(o, m->key);
		else if (m->unit == AQ_UNIT_BOOL)
			boolean(o, m->key, v != 0);
		else
			num(o, m->key, v);
	}
}

/* [{"low": L, "count": C}, ...] of the non-empty buckets */
static void hists(struct jobj *o, enum aq_group g, const struct aqs_row *l)
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
		wb_c(o->w, '[');
		for (unsigned int i = 0; i < h->n; i++) {
			if (!b[i])
				continue;
			wb_str(o->w, first ? "{\"low\": " : ", {\"low\": ");
			wb_u64(o->w, h->low(i));
			wb_str(o->w, ", \"count\": ");
			wb_u64(o->w, b[i]);
			wb_c(o->w, '}');
			first = 0;
		}
		wb_c(o->w, ']');
	}
}

/*
 * backlog_clamped and backlog_needed (backlog.h), format 3: false and
 * null where the module did not say what listen() asked for, for a UDP
 * socket, and (needed) for a listener that did not drop at a full queue;
 * null both when the detail line did not parse
 */
static void backlog(struct jobj *o, const struct aqs_row *l)
{
	struct aq_backlog b;

	if (!l->has_detail) {
		null(o, "backlog_clamped");
		null(o, "backlog_needed");
		return;
	}
	aq_backlog_view(l, &b);
	boolean(o, "backlog_clamped", b.clamped);
	if (b.dropped)
		num(o, "backlog_needed", b.needed);
	else
		null(o, "backlog_needed");
}

/* -w -j: what the frame shows of a listener */
static void rates(struct jobj *o, const struct aq_rates *r)
{
	struct jobj in = { o->w, 0, 1 };

	key(o, "rates");
	wb_c(o->w, '{');
	real(&in, "seconds", r->seconds);
	boolean(&in, "since_start", r->since_start);
	real(&in, "arrivals_per_s", r->arrivals);
	real(&in, "accepts_per_s", r->accepts);
	real(&in, "drops_per_s", r->drops);
	if (r->p99_ns == AQ_FIELD_UNSET)
		null(&in, "wait_p99_ns");
	else
		num(&in, "wait_p99_ns", r->p99_ns);
	boolean(&in, "wait_p99_at_least", r->p99_top);
	wb_c(o->w, '}');
}

/*
 * @format: the input's, whose listeners have backlog_asked and
 * reuseport_group from 3 on
 */
static void listener(struct wbuf *w, const struct aqs_row *l, int oneline,
		     const struct aq_rates *r, uint64_t format)
{
	struct jobj o = { w, 0, oneline };

	wb_c(w, '{');
	num(&o, "id", l->id);
	num(&o, "netns", l->netns);
	str(&o, "proto", aq_proto_name(l->proto));
	name(&o, "local", l->local);
	str(&o, "local_escaped", l->local);
	name(&o, "address", l->addr);
	if (l->port >= 0) {
		num(&o, "port", (uint64_t)l->port);
	} else {
		null(&o, "port");
	}
	group(&o, AQ_G_ROW, l, 1);
	group(&o, AQ_G_PCT, l, 1);
	num(&o, "pid", l->pid);
	name(&o, "comm", l->comm);
	if (r)
		rates(&o, r);
	newline(&o);
	group(&o, AQ_G_DETAIL, l, l->has_detail);
	group(&o, AQ_G_LIVE, l, l->has_live);
	group(&o, AQ_G_MIGRATE, l, l->has_migrate);
	if (format >= 3) {
		group(&o, AQ_G_ASKED, l, l->has_detail);
		backlog(&o, l);
		/* 0 for a socket in no group and where the module lacks it */
		group(&o, AQ_G_REUSEPORT, l, l->has_detail);
	}
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
	wb_c(w, '}');
}

/* An object of the table's group @g, or null */
static void global(struct wbuf *w, enum aq_group g, const void *base, int present)
{
	struct jobj o = { w, 0, 1 };

	if (!present) {
		wb_str(w, "null");
		return;
	}
	wb_c(w, '{');
	group(&o, g, base, 1);
	wb_c(w, '}');
}

/*
 * The document: the snapshot's members, @fr's for a frame of -w -j, and
 * the listeners @v[0..n) (with their rates in a frame).
 */
static void document(FILE *out, const struct aq_snapshot *s,
		     const struct aqs_row **v, size_t n,
		     const char *source, const struct json_frame *fr)
{
	const char *nl = fr ? "" : "\n ";
	struct wbuf *w = xmalloc(sizeof(*w));
	struct jobj o = { w, 0, 1 };

	wb_init(w, out);
	wb_c(w, '{');
	num(&o, "schema_version", AQSTAT_JSON_SCHEMA);
	num(&o, "format", s->format);
	str(&o, "source", source);
	if (fr) {
		char when[40];

		num(&o, "frame", (uint64_t)fr->frame);
		rfc3339(when, &fr->when);
		str(&o, "time", when);
		if (fr->interval_s < 0)
			null(&o, "interval_s");
		else
			real(&o, "interval_s", fr->interval_s);
	}
	num(&o, "malformed_lines", s->malformed);
	num(&o, "unknown_keys", s->unknown_keys);
	wb_c(w, ',');
	wb_str(w, nl);
	wb_str(w, "\"state\": ");
	global(w, AQ_G_STATE, &s->state, s->has_state);
	wb_c(w, ',');
	wb_str(w, nl);
	wb_str(w, "\"closed\": ");
	global(w, AQ_G_CLOSED, &s->closed, s->has_closed);
	wb_c(w, ',');
	wb_str(w, nl);
	wb_str(w, "\"listeners\": [");
	for (size_t i = 0; i < n; i++) {
		if (fr)
			wb_str(w, i ? ", " : "");
		else
			wb_str(w, i ? ",\n  " : "\n  ");
		listener(w, v[i], !!fr, fr ? &fr->rates[i] : NULL, s->format);
	}
	wb_str(w, n && !fr ? "\n ]}\n" : "]}\n");
	wb_flush(w);
	free(w);
}

int show_json(FILE *out, const struct aq_snapshot *s,
	      const struct aqs_filter *f, const char *source)
{
	size_t n;
	const struct aqs_row **v = select_listeners(s, f, &n);

	document(out, s, v, n, source, NULL);
	free(v);
	return EX_OK;
}

void show_json_frame(FILE *out, const struct aq_snapshot *s,
		     const struct aqs_row **v, size_t n,
		     const char *source, const struct json_frame *fr)
{
	document(out, s, v, n, source, fr);
}

void show_json_event(FILE *out, const struct aq_event_line *e,
		     const struct timespec *when)
{
	struct wbuf *w = xmalloc(sizeof(*w));
	struct jobj o = { w, 0, 1 };
	char t[40];

	wb_init(w, out);
	wb_c(w, '{');
	num(&o, "schema_version", AQSTAT_JSON_SCHEMA);
	str(&o, "event", e->event);
	num(&o, "monotonic_ns", e->ts_ns);
	rfc3339(t, when);
	str(&o, "time", t);
	if (!strcmp(e->event, "lost")) {
		num(&o, "lost", e->lost);
	} else {
		const char *colon = strrchr(e->local, ':');
		char *addr;

		num(&o, "id", e->id);
		num(&o, "netns", e->netns);
		str(&o, "proto", aq_proto_name(e->proto));
		name(&o, "local", e->local);
		str(&o, "local_escaped", e->local);
		if (e->port < 0 || !colon) {
			name(&o, "address", e->local);
			null(&o, "port");
		} else {
			int br = e->local[0] == '[' && colon > e->local && colon[-1] == ']';

			addr = xasprintf("%.*s", (int)(colon - e->local) - 2 * br,
					 e->local + br);
			str(&o, "address", addr);
			free(addr);
			num(&o, "port", (uint64_t)e->port);
		}
		num(&o, "qnow", e->qnow);
		num(&o, "backlog", e->backlog);
		if (e->drops != AQ_FIELD_UNSET)
			num(&o, "drops", e->drops);
		if (e->duration_ns != AQ_FIELD_UNSET)
			num(&o, "duration_ns", e->duration_ns);
		if (e->hol_age_ns != AQ_FIELD_UNSET)
			num(&o, "hol_age_ns", e->hol_age_ns);
		if (e->since_accept_ns != AQ_FIELD_UNSET)
			num(&o, "since_accept_ns", e->since_accept_ns);
		if (e->stalled_ns != AQ_FIELD_UNSET)
			num(&o, "stalled_ns", e->stalled_ns);
		if (e->group != AQ_FIELD_UNSET)
			num(&o, "group", e->group);
		if (e->group_room != AQ_FIELD_UNSET)
			num(&o, "group_room", e->group_room);
		num(&o, "pid", e->pid);
		name(&o, "comm", e->comm);
	}
	wb_str(w, "}\n");
	wb_flush(w);
	free(w);
}
