// SPDX-License-Identifier: GPL-2.0
/*
 * A strict parser of /proc/aqueue (format 3), as doc/interface.md defines
 * it: the version line, the `state` and `closed` lines, the table header,
 * one row per listener (comm is the rest of the line and may hold spaces),
 * an empty line, then per listener its detail, `qlen` and `wait_ns` lines,
 * and for TCP listeners (only) the `syn`, `synq` and `handshake_ns` lines,
 * for UDP sockets (only) the `udp` and `qbytes` lines. One function parses
 * each kind of line.
 *
 * It refuses what the format does not allow (unknown line, unknown or
 * missing key, a row out of id order, a field that is not a number) and
 * says which line and why, so that a failing test names the exact spot.
 *
 * It is written apart from aqstat's parser (tools/aqstat/parse_proc.c) on
 * purpose: the tests need an independent oracle. Were they to read the file
 * with aqstat's code, a misreading of the documentation shared by the module
 * and that code would pass unseen, and the aqstat tests would compare the
 * tool with itself; two readers written from the documentation alone
 * disagree where one of them is wrong.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aqueue_format.h"
#include "aq_fields.h"
#include "aq_proc.h"

void aq_snap_free(struct aq_snap *s)
{
	free(s->rows);
	s->rows = NULL;
	s->nrows = s->cap = 0;
}

static bool aq_row_is_tcp(const struct aq_row *r)
{
	return !strcmp(r->proto, "tcp") || !strcmp(r->proto, "tcp6");
}

static bool aq_row_is_udp(const struct aq_row *r)
{
	return !strcmp(r->proto, "udp") || !strcmp(r->proto, "udp6");
}

/* Like aq_u64, but "-" gives -1. */
static bool aq_u64_or_dash(const char *tok, int64_t *v)
{
	if (tok && !strcmp(tok, "-")) {
		*v = -1;
		return true;
	}
	return aq_u64(tok, v);
}

static bool aq_s64(const char *tok, int64_t *v)
{
	char *end;

	if (!tok || !*tok)
		return false;
	errno = 0;
	*v = strtoll(tok, &end, 10);
	return !errno && *end == '\0';
}

static bool aq_is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* "LOW:COUNT" pairs; lows strictly increasing, counts non-zero. */
static bool aq_parse_hist(char **tok, int ntok, struct aq_hist *h, bool wait,
			  char *err, size_t errsz)
{
	int i;

	h->n = 0;
	for (i = 0; i < ntok; i++) {
		char *colon = strchr(tok[i], ':');
		int64_t low, count;

		if (!colon) {
			snprintf(err, errsz, "'%s' is not LOW:COUNT", tok[i]);
			return false;
		}
		*colon = '\0';
		if (!aq_u64(tok[i], &low) || !aq_u64(colon + 1, &count)) {
			snprintf(err, errsz, "'%s:%s' is not LOW:COUNT",
				 tok[i], colon + 1);
			return false;
		}
		if (count == 0) {
			snprintf(err, errsz, "empty bucket %" PRId64 " listed",
				 low);
			return false;
		}
		/* qlen: 0, 1, 2, 4, ...; wait_ns: 0, 1024, 2048, ... */
		if (low && (!aq_is_pow2(low) || (wait && low < 1024))) {
			snprintf(err, errsz, "%" PRId64 " is not a bucket's low edge",
				 low);
			return false;
		}
		if (h->n && low <= h->low[h->n - 1]) {
			snprintf(err, errsz, "buckets not in increasing order at %" PRId64,
				 low);
			return false;
		}
		if (h->n == AQ_HIST_MAX) {
			snprintf(err, errsz, "more than %d buckets", AQ_HIST_MAX);
			return false;
		}
		h->low[h->n] = low;
		h->count[h->n] = count;
		h->n++;
	}
	return true;
}

static const char aq_table_header[] =
	"id netns proto local backlog qnow qpeak enqueued accepted drops "
	"p50_us p99_us max_us pid comm";

/* The part of the file the next line belongs to. */
enum aq_part {
	AQ_AT_VERSION, AQ_AT_STATE, AQ_AT_CLOSED, AQ_AT_HEADER, AQ_AT_ROWS,
	AQ_AT_LISTENERS,
};

/* Which line of a listener comes next. */
enum aq_next {
	AQ_NEXT_DETAIL,
	AQ_NEXT_QLEN,
	AQ_NEXT_WAIT,
	AQ_NEXT_SYN_OR_UDP,	/* or the next listener (unix) */
	AQ_NEXT_SYNQ,
	AQ_NEXT_HANDSHAKE,
	AQ_NEXT_LISTENER,	/* this listener's lines are complete */
	AQ_NEXT_QBYTES,
};

/* The line a listener lacks when the next one starts at `next`. */
static const char *const aq_next_name[] = {
	[AQ_NEXT_DETAIL] = "detail",
	[AQ_NEXT_QLEN] = "qlen",
	[AQ_NEXT_WAIT] = "wait_ns",
	[AQ_NEXT_SYN_OR_UDP] = "",
	[AQ_NEXT_SYNQ] = "synq",
	[AQ_NEXT_HANDSHAKE] = "handshake_ns",
	[AQ_NEXT_LISTENER] = "",
	[AQ_NEXT_QBYTES] = "qbytes",
};

struct aq_parser {
	struct aq_snap *s;
	bool strict;
	enum aq_part part;
	bool any_listener_line;
	int64_t last_id;	/* of the last listener line */
	enum aq_next next;
	char why[256];
};

/* Says why the line is refused; returns false. */
static bool __attribute__((format(printf, 2, 3)))
aq_refuse(struct aq_parser *ps, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ps->why, sizeof(ps->why), fmt, ap);
	va_end(ap);
	return false;
}

/* "aqueue format N" */
static bool aq_parse_version(struct aq_parser *ps, char *line)
{
	size_t plen = strlen(AQUEUE_VERSION_PREFIX);
	int64_t v;

	if (strncmp(line, AQUEUE_VERSION_PREFIX, plen) ||
	    !aq_u64(line + plen, &v))
		return aq_refuse(ps, "first line is not the version line");
	ps->s->format = v;
	if (v != AQUEUE_FORMAT_VERSION)
		return aq_refuse(ps, "format %" PRId64 " is not %d: refusing",
				 v, AQUEUE_FORMAT_VERSION);
	return true;
}

/*
 * "KEYWORD key N key N ...", the file's totals: every key of kv once; keys
 * that format 3 does not define go to s->extra.
 */
static bool aq_parse_totals(struct aq_parser *ps, char *line,
			    const char *keyword, const char *nth,
			    const struct aq_kv *kv, int nkv)
{
	struct aq_snap *s = ps->s;
	char *tok[64], why[128];
	int ntok = aq_tokens(line, tok, 64);

	if (ntok < 1 || strcmp(tok[0], keyword))
		return aq_refuse(ps, "%s line is not the %s line", nth,
				 keyword);
	if (!aq_parse_kv(tok + 1, ntok - 1, kv, nkv, s->extra,
			 sizeof(s->extra), why, sizeof(why)))
		return aq_refuse(ps, "%s: %s", keyword, why);
	return true;
}

/* "state enabled N tracked N ..." */
static bool aq_parse_state(struct aq_parser *ps, char *line)
{
	struct aq_snap *s = ps->s;
	const struct aq_kv kv[] = {
		{ "enabled", &s->enabled },
		{ "tracked", &s->tracked },
		{ "max_listeners", &s->max_listeners },
		{ "untracked_listens", &s->untracked_listens },
		{ "untracked_events", &s->untracked_events },
		{ "filtered_events", &s->filtered_events },
		{ "memory_bytes", &s->memory_bytes },
		{ "max_memory_bytes", &s->max_memory_bytes },
		{ "missed", &s->missed },
		{ "resyncs", &s->resyncs },
	};

	return aq_parse_totals(ps, line, "state", "second", kv,
			       sizeof(kv) / sizeof(kv[0]));
}

/* "closed listeners N enqueued N ..." */
static bool aq_parse_closed(struct aq_parser *ps, char *line)
{
	struct aq_snap *s = ps->s;
	const struct aq_kv kv[] = {
		{ "listeners", &s->closed_listeners },
		{ "enqueued", &s->closed_enqueued },
		{ "accepted", &s->closed_accepted },
		{ "drained", &s->closed_drained },
		{ "migrated", &s->closed_migrated },
		{ "drops", &s->closed_drops },
	};

	return aq_parse_totals(ps, line, "closed", "third", kv,
			       sizeof(kv) / sizeof(kv[0]));
}

/* The column names, however many spaces apart. */
static bool aq_parse_header(struct aq_parser *ps, char *line)
{
	char *tok[64], norm[256];
	int ntok = aq_tokens(line, tok, 64), i;

	norm[0] = '\0';
	for (i = 0; i < ntok && i < 20; i++) {
		if (i)
			strcat(norm, " ");
		strncat(norm, tok[i], 20);
	}
	if (strcmp(norm, aq_table_header))
		return aq_refuse(ps, "table header is not '%s'",
				 aq_table_header);
	return true;
}

/* A table row: 14 fields, then comm is the rest of the line. */
static bool aq_parse_row(struct aq_parser *ps, char *line)
{
	struct aq_snap *s = ps->s;
	char *tok[14], *q, *c;
	struct aq_row *r;
	int64_t v;
	int i;

	if (s->nrows == s->cap) {
		int cap = s->cap ? s->cap * 2 : 64;
		struct aq_row *nr = realloc(s->rows, cap * sizeof(*nr));

		if (!nr)
			return aq_refuse(ps, "out of memory");
		s->rows = nr;
		s->cap = cap;
	}
	r = &s->rows[s->nrows];
	memset(r, 0, sizeof(*r));
	q = line;
	for (i = 0; i < 14; i++) {
		while (*q == ' ')
			q++;
		if (!*q)
			return aq_refuse(ps, "row has %d fields before comm, not 14",
					 i);
		tok[i] = q;
		while (*q && *q != ' ')
			q++;
		if (!*q)
			return aq_refuse(ps, "row ends after field %d (no comm)",
					 i + 1);
		*q++ = '\0';
	}
	while (*q == ' ')
		q++;
	c = q;
	if (!*c)
		return aq_refuse(ps, "row has an empty comm");
	if (!aq_u64(tok[0], &r->id) || !aq_u64(tok[1], &r->netns))
		return aq_refuse(ps, "id/netns not numbers");
	if (strcmp(tok[2], "tcp") && strcmp(tok[2], "tcp6") &&
	    strcmp(tok[2], "udp") && strcmp(tok[2], "udp6") &&
	    strcmp(tok[2], "unix") && strcmp(tok[2], "unix-seq"))
		return aq_refuse(ps, "proto '%s' is not tcp, tcp6, udp, udp6, unix or unix-seq",
				 tok[2]);
	snprintf(r->proto, sizeof(r->proto), "%s", tok[2]);
	snprintf(r->local, sizeof(r->local), "%.79s", tok[3]);
	if (!aq_s64(tok[4], &r->backlog))
		return aq_refuse(ps, "backlog '%s' not a number", tok[4]);
	if (!aq_u64(tok[5], &r->qnow) || !aq_u64(tok[6], &r->qpeak) ||
	    !aq_u64(tok[7], &r->enqueued) || !aq_u64(tok[8], &r->accepted) ||
	    !aq_u64(tok[9], &r->drops))
		return aq_refuse(ps, "qnow..drops not numbers");
	if (!aq_u64_or_dash(tok[10], &r->p50_us) ||
	    !aq_u64_or_dash(tok[11], &r->p99_us) ||
	    !aq_u64_or_dash(tok[12], &r->max_us))
		return aq_refuse(ps, "p50_us/p99_us/max_us neither numbers nor '-'");
	if (!aq_u64(tok[13], &v))
		return aq_refuse(ps, "pid '%s' not a number", tok[13]);
	r->pid = v;
	snprintf(r->comm, sizeof(r->comm), "%.63s", c);
	if (s->nrows && r->id <= s->rows[s->nrows - 1].id)
		return aq_refuse(ps, "row id %" PRId64 " not above the previous %" PRId64,
				 r->id, s->rows[s->nrows - 1].id);
	s->nrows++;
	return true;
}

/* "listener ID drops_syn_acceptq N ... overflowing N" */
static bool aq_parse_detail(struct aq_parser *ps, char **tok, int ntok,
			    struct aq_row *d)
{
	struct aq_kv kv[] = {
		{ "drops_syn_acceptq", &d->drops_syn_acceptq },
		{ "drops_ack_acceptq", &d->drops_ack_acceptq },
		{ "drops_other", &d->drops_other },
		{ "drained", &d->drained },
		{ "migrated_in", &d->migrated_in },
		{ "migrated_out", &d->migrated_out },
		{ "untimed", &d->untimed },
		{ "resynced", &d->resynced },
		{ "observed_ns", &d->observed_ns },
		{ "qlen_area_ns", &d->qlen_area_ns },
		{ "wait_sum_ns", &d->wait_sum_ns },
		{ "waited", &d->waited },
		{ "hol_age_ns", &d->hol_age_ns },
		{ "since_accept_ns", &d->since_accept_ns },
		{ "since_drop_ns", &d->since_drop_ns },
		{ "stalled", &d->stalled },
		{ "overflowing", &d->overflowing },
		{ "ino", &d->ino },
		{ "backlog_asked", &d->backlog_asked },
		{ "somaxconn", &d->somaxconn },
		{ "reuseport_group", &d->reuseport_group },
	};
	char why[128];

	if (!aq_parse_kv(tok + 2, ntok - 2, kv, sizeof(kv) / sizeof(kv[0]),
			 NULL, 0, why, sizeof(why)))
		return aq_refuse(ps, "detail: %s", why);
	d->have_detail = true;
	return true;
}

/*
 * "listener ID NAME LOW:COUNT ...": qlen, wait_ns, synq, handshake_ns,
 * qbytes.
 */
static bool aq_parse_hist_line(struct aq_parser *ps, char **tok, int ntok,
			       const char *name, struct aq_hist *h, bool wait)
{
	char why[128];

	if (strcmp(tok[2], name))
		return aq_refuse(ps, "expected the %s line", name);
	if (!aq_parse_hist(tok + 3, ntok - 3, h, wait, why, sizeof(why)))
		return aq_refuse(ps, "%s: %s", name, why);
	return true;
}

/* "listener ID syn synq_now N ... handshake_max_ns N" (TCP) */
static bool aq_parse_syn(struct aq_parser *ps, char **tok, int ntok,
			 struct aq_row *d, bool known)
{
	struct aq_kv kv[] = {
		{ "synq_now", &d->synq_now },
		{ "synq_full_drops", &d->synq_full_drops },
		{ "synq_full_cookies", &d->synq_full_cookies },
		{ "syn_cookies", &d->syn_cookies },
		{ "synack_retrans", &d->synack_retrans },
		{ "handshake_sum_ns", &d->handshake_sum_ns },
		{ "handshake_max_ns", &d->handshake_max_ns },
	};
	char why[128];

	if (strcmp(tok[2], "syn"))
		return aq_refuse(ps, "expected the syn or udp line, or the next listener");
	if (known && !aq_row_is_tcp(d))
		return aq_refuse(ps, "a syn line for a %s listener", d->proto);
	if (!aq_parse_kv(tok + 3, ntok - 3, kv, 7, NULL, 0, why, sizeof(why)))
		return aq_refuse(ps, "syn: %s", why);
	d->have_syn = true;
	return true;
}

/* "listener ID udp rmem_now N drops_rcvbuf N" (UDP) */
static bool aq_parse_udp(struct aq_parser *ps, char **tok, int ntok,
			 struct aq_row *d, bool known)
{
	struct aq_kv kv[] = {
		{ "rmem_now", &d->rmem_now },
		{ "drops_rcvbuf", &d->drops_rcvbuf },
	};
	char why[128];

	if (known && !aq_row_is_udp(d))
		return aq_refuse(ps, "a udp line for a %s listener", d->proto);
	if (!aq_parse_kv(tok + 3, ntok - 3, kv, 2, NULL, 0, why, sizeof(why)))
		return aq_refuse(ps, "udp: %s", why);
	d->have_udp = true;
	return true;
}

/*
 * A "listener ID ..." line: in id order, each listener's lines in their
 * order, then the line itself by its kind. A listener without a row (a
 * racing reader's, when not strict) is parsed into a scratch row.
 */
static bool aq_parse_listener_line(struct aq_parser *ps, char *line)
{
	struct aq_row scratch, *r, *d;
	char *tok[64];
	int64_t id;
	int ntok;

	ntok = aq_tokens(line, tok, 64);
	if (ntok > 64)
		return aq_refuse(ps, "too many tokens");
	if (ntok < 3 || strcmp(tok[0], "listener") || !aq_u64(tok[1], &id))
		return aq_refuse(ps, "not a 'listener ID ...' line");
	if (ps->any_listener_line && id < ps->last_id)
		return aq_refuse(ps, "listener %" PRId64 " after %" PRId64 ": not in id order",
				 id, ps->last_id);
	if (ps->any_listener_line && id != ps->last_id) {
		if (ps->strict && aq_next_name[ps->next][0])
			return aq_refuse(ps, "listener %" PRId64 " lacks its %s line",
					 ps->last_id, aq_next_name[ps->next]);
		ps->next = AQ_NEXT_DETAIL;
	}
	if (ps->any_listener_line && id == ps->last_id &&
	    (ps->next == AQ_NEXT_DETAIL || ps->next == AQ_NEXT_LISTENER))
		return aq_refuse(ps, "listener %" PRId64 ": lines out of order",
				 id);
	ps->any_listener_line = true;
	ps->last_id = id;
	r = aq_snap_find_id(ps->s, id);
	if (!r && ps->strict)
		return aq_refuse(ps, "listener %" PRId64 " has no row", id);
	if (!r)
		memset(&scratch, 0, sizeof(scratch));
	d = r ? r : &scratch;

	switch (ps->next) {
	case AQ_NEXT_DETAIL:
		ps->next = AQ_NEXT_QLEN;
		return aq_parse_detail(ps, tok, ntok, d);
	case AQ_NEXT_QLEN:
		ps->next = AQ_NEXT_WAIT;
		d->have_qlen = true;
		return aq_parse_hist_line(ps, tok, ntok, "qlen", &d->qlen,
					  false);
	case AQ_NEXT_WAIT:
		ps->next = AQ_NEXT_SYN_OR_UDP;
		d->have_wait = true;
		return aq_parse_hist_line(ps, tok, ntok, "wait_ns", &d->wait,
					  true);
	case AQ_NEXT_SYN_OR_UDP:
		if (!strcmp(tok[2], "udp")) {
			ps->next = AQ_NEXT_QBYTES;
			return aq_parse_udp(ps, tok, ntok, d, r);
		}
		ps->next = AQ_NEXT_SYNQ;
		return aq_parse_syn(ps, tok, ntok, d, r);
	case AQ_NEXT_QBYTES:
		ps->next = AQ_NEXT_LISTENER;
		d->have_qbytes = true;
		return aq_parse_hist_line(ps, tok, ntok, "qbytes", &d->qbytes,
					  false);
	case AQ_NEXT_SYNQ:
		ps->next = AQ_NEXT_HANDSHAKE;
		d->have_synq = true;
		return aq_parse_hist_line(ps, tok, ntok, "synq", &d->synq,
					  false);
	default:
		ps->next = AQ_NEXT_LISTENER;
		d->have_handshake = true;
		return aq_parse_hist_line(ps, tok, ntok, "handshake_ns",
					  &d->handshake, true);
	}
}

/* One line, by the part of the file it belongs to. */
static bool aq_parse_line(struct aq_parser *ps, char *line)
{
	switch (ps->part) {
	case AQ_AT_VERSION:
		ps->part = AQ_AT_STATE;
		return aq_parse_version(ps, line);
	case AQ_AT_STATE:
		ps->part = AQ_AT_CLOSED;
		return aq_parse_state(ps, line);
	case AQ_AT_CLOSED:
		ps->part = AQ_AT_HEADER;
		return aq_parse_closed(ps, line);
	case AQ_AT_HEADER:
		ps->part = AQ_AT_ROWS;
		return aq_parse_header(ps, line);
	case AQ_AT_ROWS:
		if (line[0] == '\0') {
			ps->part = AQ_AT_LISTENERS;
			return true;
		}
		return aq_parse_row(ps, line);
	default:
		return aq_parse_listener_line(ps, line);
	}
}

/* Every row has exactly the listener lines of its protocol. */
static int aq_check_complete(const struct aq_parser *ps)
{
	struct aq_snap *s = ps->s;
	int i;

	if (ps->next != AQ_NEXT_DETAIL && ps->next != AQ_NEXT_SYN_OR_UDP &&
	    ps->next != AQ_NEXT_LISTENER) {
		snprintf(s->err, sizeof(s->err),
			 "listener %" PRId64 " lacks its last lines",
			 ps->last_id);
		return -1;
	}
	for (i = 0; i < s->nrows; i++) {
		const struct aq_row *r = &s->rows[i];
		bool tcp = aq_row_is_tcp(r), udp = aq_row_is_udp(r);

		if (!r->have_detail || !r->have_qlen ||
		    !r->have_wait || r->have_syn != tcp ||
		    r->have_synq != tcp || r->have_handshake != tcp ||
		    r->have_udp != udp || r->have_qbytes != udp) {
			snprintf(s->err, sizeof(s->err),
				 "row %" PRId64 " (%s) lacks listener lines",
				 r->id, r->proto);
			return -1;
		}
	}
	return 0;
}

int aq_parse(const char *text, struct aq_snap *s, bool strict)
{
	struct aq_parser ps = { .s = s, .strict = strict };
	const char *p = text;
	int lineno = 0;

	memset(s, 0, sizeof(*s));
	s->format = -1;
	s->bytes = strlen(text);
	while (*p) {
		const char *end = strchr(p, '\n');
		char line[1024];
		size_t len;
		int shown;

		lineno++;
		if (!end) {
			snprintf(s->err, sizeof(s->err),
				 "line %d does not end with a newline", lineno);
			return -1;
		}
		len = end - p;
		shown = len < 200 ? len : 200;
		if (len >= sizeof(line)) {
			snprintf(s->err, sizeof(s->err),
				 "line %d: line longer than %zu bytes [%.*s]",
				 lineno, sizeof(line), shown, p);
			return -1;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		if (!aq_parse_line(&ps, line)) {
			/* The line as read, not as tokenized. */
			snprintf(s->err, sizeof(s->err), "line %d: %s [%.*s]",
				 lineno, ps.why, shown, p);
			return -1;
		}
		p = end + 1;
	}
	if (ps.part < AQ_AT_ROWS) {
		snprintf(s->err, sizeof(s->err),
			 "ended after %d lines, before the table", lineno);
		return -1;
	}
	return strict ? aq_check_complete(&ps) : 0;
}

struct aq_row *aq_snap_find_id(struct aq_snap *s, int64_t id)
{
	int lo = 0, hi = s->nrows - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;

		if (s->rows[mid].id == id)
			return &s->rows[mid];
		if (s->rows[mid].id < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}
