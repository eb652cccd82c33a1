/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A strict parser of /proc/aqueue (format 2), as documented in the README:
 * the version line, the `state` and `closed` lines, the table header, one
 * row per listener (comm is the rest of the line and may hold spaces), an
 * empty line, then per listener its detail, `qlen` and `wait_ns` lines, and
 * for TCP listeners (only) the `syn`, `synq` and `handshake_ns` lines, for
 * UDP sockets (only) the `udp` and `qbytes` lines.
 *
 * The parser refuses what the format does not allow (unknown line, unknown
 * or missing key, a row out of id order, a field that is not a number) and
 * says which line and why, so that a failing test names the exact spot.
 */
#ifndef AQ_PROC_H
#define AQ_PROC_H

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>

#include "aq_test.h"
#include "aq_net.h"

#define AQ_HIST_MAX 48

struct aq_hist {
	int n;
	int64_t low[AQ_HIST_MAX];
	int64_t count[AQ_HIST_MAX];
};

struct aq_row {
	int64_t id;
	int64_t netns;
	char proto[12];
	char local[80];
	int64_t backlog;
	int64_t qnow, qpeak, enqueued, accepted, drops;
	int64_t p50_us, p99_us, max_us;		/* -1 for "-" */
	int64_t pid;
	char comm[64];

	bool have_detail, have_qlen, have_wait;
	int64_t drops_syn_acceptq, drops_ack_acceptq, drops_other;
	int64_t drained, untimed, resynced;
	int64_t observed_ns, qlen_area_ns, wait_sum_ns, waited;
	/* format 2: the live state, at the end of the detail line */
	int64_t hol_age_ns, since_accept_ns, since_drop_ns, stalled;
	int64_t overflowing;
	struct aq_hist qlen, wait;

	/* TCP only */
	bool have_syn, have_synq, have_handshake;
	int64_t synq_now, synq_full_drops, synq_full_cookies, syn_cookies;
	int64_t synack_retrans, handshake_sum_ns, handshake_max_ns;
	struct aq_hist synq, handshake;

	/* UDP only */
	bool have_udp, have_qbytes;
	int64_t rmem_now, drops_rcvbuf;
	struct aq_hist qbytes;
};

static inline bool aq_row_is_tcp(const struct aq_row *r)
{
	return !strcmp(r->proto, "tcp") || !strcmp(r->proto, "tcp6");
}

static inline bool aq_row_is_udp(const struct aq_row *r)
{
	return !strcmp(r->proto, "udp") || !strcmp(r->proto, "udp6");
}

struct aq_snap {
	int format;
	int64_t enabled, tracked, max_listeners, untracked_listens;
	int64_t untracked_events, filtered_events, memory_bytes;
	int64_t max_memory_bytes, missed, resyncs;
	int64_t closed_listeners, closed_enqueued, closed_accepted;
	int64_t closed_drained, closed_drops;
	int nrows, cap;
	struct aq_row *rows;
	size_t bytes;		/* size of the text parsed */
	/* Keys of the state/closed lines that format 2 does not define; the
	 * parser tolerates them so that one test reports them and the others
	 * still run. */
	char extra[256];
	char err[512];
};

static inline void aq_snap_free(struct aq_snap *s)
{
	free(s->rows);
	s->rows = NULL;
	s->nrows = s->cap = 0;
}

/* Reads a whole file with read()s of at most `chunk` bytes. */
static inline char *aq_read_chunked(const char *path, size_t chunk,
				    size_t *lenp, int *errp)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap + 1);
	int fd;

	*errp = 0;
	if (!buf) {
		*errp = -ENOMEM;
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*errp = -errno;
		free(buf);
		return NULL;
	}
	for (;;) {
		ssize_t n;

		if (cap - len < chunk) {
			char *nb;

			cap = cap * 2 + chunk;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				*errp = -ENOMEM;
				break;
			}
			buf = nb;
		}
		n = read(fd, buf + len, chunk);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*errp = -errno;
			break;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	if (*errp) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/* Parses an unsigned decimal token; false unless the whole token is one. */
/* A non-negative decimal that fits int64_t; false unless the whole token
 * is one. */
static inline bool aq_u64(const char *tok, int64_t *v)
{
	unsigned long long u;
	char *end;

	if (!tok || !isdigit((unsigned char)tok[0]))
		return false;
	errno = 0;
	u = strtoull(tok, &end, 10);
	if (errno || *end != '\0' || u > INT64_MAX)
		return false;
	*v = (int64_t)u;
	return true;
}

/* Like aq_u64, but "-" gives -1. */
static inline bool aq_u64_or_dash(const char *tok, int64_t *v)
{
	if (tok && !strcmp(tok, "-")) {
		*v = -1;
		return true;
	}
	return aq_u64(tok, v);
}

static inline bool aq_s64(const char *tok, int64_t *v)
{
	char *end;

	if (!tok || !*tok)
		return false;
	errno = 0;
	*v = strtoll(tok, &end, 10);
	return !errno && *end == '\0';
}

/* Splits line (modified) into at most max space-separated tokens. */
static inline int aq_tokens(char *line, char **tok, int max)
{
	int n = 0;
	char *p = line;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		if (n == max)
			return max + 1;
		tok[n++] = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

struct aq_kv {
	const char *key;
	int64_t *val;
};

/*
 * Parses "key value key value ..." into the listed keys: every key must be
 * known, appear once and be followed by a number; all must be present.
 */
static inline bool aq_parse_kv(char **tok, int ntok, const struct aq_kv *kv,
			       int nkv, char *extra, size_t extrasz,
			       char *err, size_t errsz)
{
	unsigned long long seen = 0;
	int i, k;

	if (ntok % 2) {
		snprintf(err, errsz, "odd number of key/value tokens");
		return false;
	}
	for (i = 0; i < ntok; i += 2) {
		for (k = 0; k < nkv; k++)
			if (!strcmp(tok[i], kv[k].key))
				break;
		if (k == nkv) {
			int64_t ignored;

			if (!extra) {
				snprintf(err, errsz, "unknown key '%s'", tok[i]);
				return false;
			}
			if (!aq_u64(tok[i + 1], &ignored)) {
				snprintf(err, errsz, "key '%s': '%s' is not a number",
					 tok[i], tok[i + 1]);
				return false;
			}
			if (strlen(extra) + strlen(tok[i]) + 2 < extrasz) {
				if (*extra)
					strcat(extra, " ");
				strcat(extra, tok[i]);
			}
			continue;
		}
		if (seen & (1ULL << k)) {
			snprintf(err, errsz, "key '%s' twice", tok[i]);
			return false;
		}
		if (!aq_u64(tok[i + 1], kv[k].val)) {
			snprintf(err, errsz, "key '%s': '%s' is not a number",
				 tok[i], tok[i + 1]);
			return false;
		}
		seen |= 1ULL << k;
	}
	for (k = 0; k < nkv; k++) {
		if (!(seen & (1ULL << k))) {
			snprintf(err, errsz, "key '%s' missing", kv[k].key);
			return false;
		}
	}
	return true;
}

static inline bool aq_is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* "LOW:COUNT" pairs; lows strictly increasing, counts non-zero. */
static inline bool aq_parse_hist(char **tok, int ntok, struct aq_hist *h,
				 bool wait, char *err, size_t errsz)
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

static inline int64_t aq_hist_total(const struct aq_hist *h)
{
	int64_t t = 0;
	int i;

	for (i = 0; i < h->n; i++)
		t += h->count[i];
	return t;
}

static inline int64_t aq_hist_get(const struct aq_hist *h, int64_t low)
{
	int i;

	for (i = 0; i < h->n; i++)
		if (h->low[i] == low)
			return h->count[i];
	return 0;
}

/* The bucket (its low edge) of a queue length and of a wait. */
static inline int64_t aq_qlen_bucket(int64_t len)
{
	int64_t b = 1;

	if (len == 0)
		return 0;
	while (b <= len / 2)
		b <<= 1;
	return b;
}

static inline int64_t aq_wait_bucket(int64_t ns)
{
	int64_t b = 1024;

	if (ns < 1024)
		return 0;
	while (b <= ns / 2)
		b <<= 1;
	return b;
}

/* [lo, hi) of the wait bucket whose low edge is low. */
static inline int64_t aq_wait_bucket_hi(int64_t low)
{
	return low ? 2 * low : 1024;
}

static inline const char *aq_line_end(const char *p)
{
	const char *e = strchr(p, '\n');

	return e ? e : p + strlen(p);
}

static const char aq_table_header[] =
	"id netns proto local backlog qnow qpeak enqueued accepted drops "
	"p50_us p99_us max_us pid comm";

static inline struct aq_row *aq_snap_find_id(struct aq_snap *s, int64_t id)
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

/*
 * Parses text into s. strict: every row has exactly its three listener
 * lines and no listener line names a missing row (a reader that races with
 * listeners opening and closing may see rows and detail lines of different
 * moments: pass strict=false then). Returns 0, or -1 with s->err set.
 */
static inline int aq_parse(const char *text, struct aq_snap *s, bool strict)
{
	const char *p = text, *end;
	char line[1024], *tok[64];
	int lineno = 0, ntok, stage = 0;
	int64_t last_detail_id = 0;
	/*
	 * Which line of a listener comes next: 0 detail, 1 qlen, 2 wait_ns,
	 * 3 syn or udp (or the next listener), 4 synq, 5 handshake_ns,
	 * 7 qbytes, 6 the next listener.
	 */
	int detail_phase = 0;
	bool any_detail = false;

	memset(s, 0, sizeof(*s));
	s->format = -1;
	s->bytes = strlen(text);

#define AQ_PERR(fmt, ...) do {						\
	snprintf(s->err, sizeof(s->err), "line %d: " fmt " [%.200s]",	\
		 lineno, ##__VA_ARGS__, linecopy);			\
	return -1;							\
} while (0)

	while (*p) {
		char linecopy[256];
		size_t len;

		end = aq_line_end(p);
		len = end - p;
		lineno++;
		if (!*end) {
			snprintf(s->err, sizeof(s->err),
				 "line %d does not end with a newline", lineno);
			return -1;
		}
		snprintf(linecopy, sizeof(linecopy), "%.*s", (int)len, p);
		if (len >= sizeof(line))
			AQ_PERR("line longer than %zu bytes", sizeof(line));
		memcpy(line, p, len);
		line[len] = '\0';
		p = end + 1;

		if (stage == 0) {
			int64_t v;

			if (strncmp(line, AQUEUE_VERSION_PREFIX,
				    strlen(AQUEUE_VERSION_PREFIX)) ||
			    !aq_u64(line + strlen(AQUEUE_VERSION_PREFIX), &v))
				AQ_PERR("first line is not the version line");
			s->format = v;
			if (v != AQUEUE_FORMAT_VERSION)
				AQ_PERR("format %" PRId64 " is not %d: refusing",
					v, AQUEUE_FORMAT_VERSION);
			stage = 1;
			continue;
		}
		if (stage == 1) {
			struct aq_kv kv[] = {
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
			char why[128];

			ntok = aq_tokens(line, tok, 64);
			if (ntok < 1 || strcmp(tok[0], "state"))
				AQ_PERR("second line is not the state line");
			if (!aq_parse_kv(tok + 1, ntok - 1, kv, 10, s->extra,
					 sizeof(s->extra), why, sizeof(why)))
				AQ_PERR("state: %s", why);
			stage = 2;
			continue;
		}
		if (stage == 2) {
			struct aq_kv kv[] = {
				{ "listeners", &s->closed_listeners },
				{ "enqueued", &s->closed_enqueued },
				{ "accepted", &s->closed_accepted },
				{ "drained", &s->closed_drained },
				{ "drops", &s->closed_drops },
			};
			char why[128];

			ntok = aq_tokens(line, tok, 64);
			if (ntok < 1 || strcmp(tok[0], "closed"))
				AQ_PERR("third line is not the closed line");
			if (!aq_parse_kv(tok + 1, ntok - 1, kv, 5, s->extra,
					 sizeof(s->extra), why, sizeof(why)))
				AQ_PERR("closed: %s", why);
			stage = 3;
			continue;
		}
		if (stage == 3) {
			char norm[256];
			int i;

			ntok = aq_tokens(line, tok, 64);
			norm[0] = '\0';
			for (i = 0; i < ntok && i < 20; i++) {
				if (i)
					strcat(norm, " ");
				strncat(norm, tok[i], 20);
			}
			if (strcmp(norm, aq_table_header))
				AQ_PERR("table header is not '%s'",
					aq_table_header);
			stage = 4;
			continue;
		}
		if (stage == 4) {
			struct aq_row *r;
			char *q, *c;
			int64_t v;
			int i;

			if (line[0] == '\0') {
				stage = 5;
				continue;
			}
			if (s->nrows == s->cap) {
				int cap = s->cap ? s->cap * 2 : 64;
				struct aq_row *nr = realloc(s->rows,
							    cap * sizeof(*nr));

				if (!nr)
					AQ_PERR("out of memory");
				s->rows = nr;
				s->cap = cap;
			}
			r = &s->rows[s->nrows];
			memset(r, 0, sizeof(*r));
			/* 14 fields, then comm is the rest of the line. */
			q = line;
			for (i = 0; i < 14; i++) {
				while (*q == ' ')
					q++;
				if (!*q)
					AQ_PERR("row has %d fields before comm, not 14",
						i);
				tok[i] = q;
				while (*q && *q != ' ')
					q++;
				if (!*q)
					AQ_PERR("row ends after field %d (no comm)",
						i + 1);
				*q++ = '\0';
			}
			while (*q == ' ')
				q++;
			c = q;
			if (!*c)
				AQ_PERR("row has an empty comm");
			if (!aq_u64(tok[0], &r->id) || !aq_u64(tok[1], &r->netns))
				AQ_PERR("id/netns not numbers");
			if (strcmp(tok[2], "tcp") && strcmp(tok[2], "tcp6") &&
			    strcmp(tok[2], "udp") && strcmp(tok[2], "udp6") &&
			    strcmp(tok[2], "unix") && strcmp(tok[2], "unix-seq"))
				AQ_PERR("proto '%s' is not tcp, tcp6, udp, udp6, unix or unix-seq",
					tok[2]);
			snprintf(r->proto, sizeof(r->proto), "%s", tok[2]);
			snprintf(r->local, sizeof(r->local), "%.79s", tok[3]);
			if (!aq_s64(tok[4], &r->backlog))
				AQ_PERR("backlog '%s' not a number", tok[4]);
			if (!aq_u64(tok[5], &r->qnow) ||
			    !aq_u64(tok[6], &r->qpeak) ||
			    !aq_u64(tok[7], &r->enqueued) ||
			    !aq_u64(tok[8], &r->accepted) ||
			    !aq_u64(tok[9], &r->drops))
				AQ_PERR("qnow..drops not numbers");
			if (!aq_u64_or_dash(tok[10], &r->p50_us) ||
			    !aq_u64_or_dash(tok[11], &r->p99_us) ||
			    !aq_u64_or_dash(tok[12], &r->max_us))
				AQ_PERR("p50_us/p99_us/max_us neither numbers nor '-'");
			if (!aq_u64(tok[13], &v))
				AQ_PERR("pid '%s' not a number", tok[13]);
			r->pid = v;
			snprintf(r->comm, sizeof(r->comm), "%.63s", c);
			if (s->nrows && r->id <= s->rows[s->nrows - 1].id)
				AQ_PERR("row id %" PRId64 " not above the previous %" PRId64,
					r->id, s->rows[s->nrows - 1].id);
			s->nrows++;
			continue;
		}
		/* stage 5: listener lines */
		{
			struct aq_row *r;
			char why[128];
			int64_t id;

			ntok = aq_tokens(line, tok, 64);
			if (ntok > 64)
				AQ_PERR("too many tokens");
			if (ntok < 3 || strcmp(tok[0], "listener") ||
			    !aq_u64(tok[1], &id))
				AQ_PERR("not a 'listener ID ...' line");
			if (any_detail && id < last_detail_id)
				AQ_PERR("listener %" PRId64 " after %" PRId64 ": not in id order",
					id, last_detail_id);
			if (any_detail && id != last_detail_id) {
				static const char *const next[] = {
					"detail", "qlen", "wait_ns", "",
					"synq", "handshake_ns", "", "qbytes",
				};

				if (strict && next[detail_phase][0])
					AQ_PERR("listener %" PRId64 " lacks its %s line",
						last_detail_id,
						next[detail_phase]);
				detail_phase = 0;
			}
			if (any_detail && id == last_detail_id &&
			    (!detail_phase || detail_phase == 6))
				AQ_PERR("listener %" PRId64 ": lines out of order", id);
			any_detail = true;
			last_detail_id = id;
			r = aq_snap_find_id(s, id);
			if (!r && strict)
				AQ_PERR("listener %" PRId64 " has no row", id);
			if (detail_phase == 0) {
				struct aq_row tmp;
				struct aq_row *d = r ? r : &tmp;
				struct aq_kv kv[] = {
					{ "drops_syn_acceptq", &d->drops_syn_acceptq },
					{ "drops_ack_acceptq", &d->drops_ack_acceptq },
					{ "drops_other", &d->drops_other },
					{ "drained", &d->drained },
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
				};

				if (!aq_parse_kv(tok + 2, ntok - 2, kv, 15, NULL,
						 0, why, sizeof(why)))
					AQ_PERR("detail: %s", why);
				if (r)
					r->have_detail = true;
				detail_phase = 1;
			} else if (detail_phase == 1) {
				struct aq_hist tmp;

				if (strcmp(tok[2], "qlen"))
					AQ_PERR("expected the qlen line");
				if (!aq_parse_hist(tok + 3, ntok - 3,
						   r ? &r->qlen : &tmp, false,
						   why, sizeof(why)))
					AQ_PERR("qlen: %s", why);
				if (r)
					r->have_qlen = true;
				detail_phase = 2;
			} else if (detail_phase == 2) {
				struct aq_hist tmp;

				if (strcmp(tok[2], "wait_ns"))
					AQ_PERR("expected the wait_ns line");
				if (!aq_parse_hist(tok + 3, ntok - 3,
						   r ? &r->wait : &tmp, true,
						   why, sizeof(why)))
					AQ_PERR("wait_ns: %s", why);
				if (r)
					r->have_wait = true;
				detail_phase = 3;
			} else if (detail_phase == 3 && !strcmp(tok[2], "udp")) {
				struct aq_row tmp;
				struct aq_row *d = r ? r : &tmp;
				struct aq_kv kv[] = {
					{ "rmem_now", &d->rmem_now },
					{ "drops_rcvbuf", &d->drops_rcvbuf },
				};

				if (r && !aq_row_is_udp(r))
					AQ_PERR("a udp line for a %s listener", r->proto);
				if (!aq_parse_kv(tok + 3, ntok - 3, kv, 2, NULL,
						 0, why, sizeof(why)))
					AQ_PERR("udp: %s", why);
				if (r)
					r->have_udp = true;
				detail_phase = 7;
			} else if (detail_phase == 7) {
				struct aq_hist tmp;

				if (strcmp(tok[2], "qbytes"))
					AQ_PERR("expected the qbytes line");
				if (!aq_parse_hist(tok + 3, ntok - 3,
						   r ? &r->qbytes : &tmp, false,
						   why, sizeof(why)))
					AQ_PERR("qbytes: %s", why);
				if (r)
					r->have_qbytes = true;
				detail_phase = 6;
			} else if (detail_phase == 3) {
				struct aq_row tmp;
				struct aq_row *d = r ? r : &tmp;
				struct aq_kv kv[] = {
					{ "synq_now", &d->synq_now },
					{ "synq_full_drops", &d->synq_full_drops },
					{ "synq_full_cookies", &d->synq_full_cookies },
					{ "syn_cookies", &d->syn_cookies },
					{ "synack_retrans", &d->synack_retrans },
					{ "handshake_sum_ns", &d->handshake_sum_ns },
					{ "handshake_max_ns", &d->handshake_max_ns },
				};

				if (strcmp(tok[2], "syn"))
					AQ_PERR("expected the syn or udp line, or the next listener");
				if (r && !aq_row_is_tcp(r))
					AQ_PERR("a syn line for a %s listener", r->proto);
				if (!aq_parse_kv(tok + 3, ntok - 3, kv, 7, NULL,
						 0, why, sizeof(why)))
					AQ_PERR("syn: %s", why);
				if (r)
					r->have_syn = true;
				detail_phase = 4;
			} else if (detail_phase == 4) {
				struct aq_hist tmp;

				if (strcmp(tok[2], "synq"))
					AQ_PERR("expected the synq line");
				if (!aq_parse_hist(tok + 3, ntok - 3,
						   r ? &r->synq : &tmp, false,
						   why, sizeof(why)))
					AQ_PERR("synq: %s", why);
				if (r)
					r->have_synq = true;
				detail_phase = 5;
			} else {
				struct aq_hist tmp;

				if (strcmp(tok[2], "handshake_ns"))
					AQ_PERR("expected the handshake_ns line");
				if (!aq_parse_hist(tok + 3, ntok - 3,
						   r ? &r->handshake : &tmp,
						   true, why, sizeof(why)))
					AQ_PERR("handshake_ns: %s", why);
				if (r)
					r->have_handshake = true;
				detail_phase = 6;
			}
		}
	}
#undef AQ_PERR
	if (stage < 4) {
		snprintf(s->err, sizeof(s->err),
			 "ended after %d lines, before the table", lineno);
		return -1;
	}
	if (strict) {
		int i;

		if (detail_phase && detail_phase != 3 && detail_phase != 6) {
			snprintf(s->err, sizeof(s->err),
				 "listener %" PRId64 " lacks its last lines",
				 last_detail_id);
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
	}
	return 0;
}

/*
 * What every row must satisfy, whatever the test: the accounting identities
 * of the format. A read prints all table rows first, then all detail lines,
 * each part of a row under its own hold of the listener's lock: with
 * traffic going only the identities within a part hold. @quiet adds those
 * across the two parts, which hold when nothing moved during the read.
 */
static inline int aq_row_invariants(const struct aq_row *r, bool quiet,
				    char *err, size_t errsz)
{
	int64_t timed = aq_hist_total(&r->wait);

#define AQ_INV(cond, fmt, ...) do {					\
	if (!(cond)) {							\
		snprintf(err, errsz, "listener %" PRId64 " (%s %s): " fmt,	\
			 r->id, r->proto, r->local, ##__VA_ARGS__);	\
		return -1;						\
	}								\
} while (0)
#define AQ_INV_QUIET(cond, fmt, ...) do {				\
	if (quiet)							\
		AQ_INV(cond, fmt, ##__VA_ARGS__);			\
} while (0)

	AQ_INV(r->enqueued == r->accepted + r->qnow,
	       "enqueued %" PRId64 " != accepted %" PRId64 " + qnow %" PRId64,
	       r->enqueued, r->accepted, r->qnow);
	AQ_INV(r->qpeak >= r->qnow, "qpeak %" PRId64 " < qnow %" PRId64,
	       r->qpeak, r->qnow);
	AQ_INV_QUIET(r->drops == r->drops_syn_acceptq + r->drops_ack_acceptq +
			   r->drops_other,
	       "drops %" PRId64 " != syn %" PRId64 " + ack %" PRId64 " + other %" PRId64,
	       r->drops, r->drops_syn_acceptq, r->drops_ack_acceptq,
	       r->drops_other);
	AQ_INV(r->drained == 0, "live listener with drained %" PRId64,
	       r->drained);
	AQ_INV(r->stalled <= 1 && r->overflowing <= 1,
	       "stalled %" PRId64 ", overflowing %" PRId64 " not 0 or 1",
	       r->stalled, r->overflowing);
	AQ_INV_QUIET(r->qnow || (r->hol_age_ns == 0 && !r->stalled),
	       "empty queue with hol_age_ns %" PRId64 ", stalled %" PRId64,
	       r->hol_age_ns, r->stalled);
	/* No "overflowing implies drops": a reset zeroes the drops of a
	 * burst that is still going on, and live state outlives a reset. */
	AQ_INV_QUIET(r->untimed <= r->accepted, "untimed %" PRId64 " > accepted %" PRId64,
	       r->untimed, r->accepted);
	AQ_INV_QUIET(timed == r->accepted - r->untimed,
	       "wait_ns histogram holds %" PRId64 ", accepted %" PRId64 " - untimed %" PRId64,
	       timed, r->accepted, r->untimed);
	if (r->accepted == 0) {
		AQ_INV(r->p50_us == -1 && r->p99_us == -1 && r->max_us == -1,
		       "nothing accepted but p50/p99/max %" PRId64 "/%" PRId64 "/%" PRId64,
		       r->p50_us, r->p99_us, r->max_us);
	}
	if (timed && quiet) {
		const struct aq_hist *h = &r->wait;
		int64_t top = h->low[h->n - 1];
		bool p50_edge = false, p99_edge = false;
		int i;

		AQ_INV(r->p50_us >= 0 && r->p99_us >= 0 && r->max_us >= 0,
		       "timed accepts but p50/p99/max '-'");
		AQ_INV(r->p50_us <= r->p99_us, "p50 %" PRId64 " > p99 %" PRId64,
		       r->p50_us, r->p99_us);
		/* p50/p99: the upper edge (µs, floor or ceil) of a
		 * non-empty bucket. */
		for (i = 0; i < h->n; i++) {
			int64_t hi = aq_wait_bucket_hi(h->low[i]);
			int64_t f = hi / 1000, c = (hi + 999) / 1000;

			if (r->p50_us == f || r->p50_us == c)
				p50_edge = true;
			if (r->p99_us == f || r->p99_us == c)
				p99_edge = true;
		}
		AQ_INV(p50_edge, "p50_us %" PRId64 " is no non-empty bucket's upper edge",
		       r->p50_us);
		AQ_INV(p99_edge, "p99_us %" PRId64 " is no non-empty bucket's upper edge",
		       r->p99_us);
		/* max within the top non-empty bucket. */
		AQ_INV((int64_t)r->max_us >= top / 1000 &&
		       (int64_t)r->max_us <= (aq_wait_bucket_hi(top) + 999) / 1000,
		       "max_us %" PRId64 " outside the top bucket [%" PRId64 ", %" PRId64 ") ns",
		       r->max_us, top, aq_wait_bucket_hi(top));
		/* Each timed wait lies in its bucket, the longest at most
		 * max_us: so does their sum. */
		{
			int64_t lo_sum = 0, hi_sum = 0;

			for (i = 0; i < h->n; i++) {
				int64_t hi = i == h->n - 1 ?
					(int64_t)(r->max_us + 1) * 1000 :
					aq_wait_bucket_hi(h->low[i]);

				lo_sum += h->count[i] * h->low[i];
				hi_sum += h->count[i] * hi;
			}
			AQ_INV(r->wait_sum_ns >= lo_sum &&
			       r->wait_sum_ns <= hi_sum,
			       "wait_sum_ns %" PRId64 " outside [%" PRId64 ", %" PRId64 "] that the histogram and max_us allow",
			       r->wait_sum_ns, lo_sum, hi_sum);
		}
	} else if (!timed) {
		AQ_INV(r->wait_sum_ns == 0, "no timed accept but wait_sum_ns %" PRId64,
		       r->wait_sum_ns);
	}
	if (r->have_handshake) {
		const struct aq_hist *h = &r->handshake;
		int64_t n = aq_hist_total(h);

		/* Counted as the child joins the accept queue. */
		AQ_INV_QUIET(n <= r->enqueued,
		       "%" PRId64 " handshakes but %" PRId64 " enqueued", n,
		       r->enqueued);
		if (n) {
			int64_t top = h->low[h->n - 1];

			AQ_INV(r->handshake_max_ns >= top &&
			       r->handshake_max_ns < aq_wait_bucket_hi(top),
			       "handshake_max_ns %" PRId64 " outside the top bucket [%" PRId64 ", %" PRId64 ")",
			       r->handshake_max_ns, top, aq_wait_bucket_hi(top));
			AQ_INV(r->handshake_sum_ns >= r->handshake_max_ns &&
			       r->handshake_sum_ns <= n * r->handshake_max_ns,
			       "handshake_sum_ns %" PRId64 " for %" PRId64 " handshakes of at most %" PRId64,
			       r->handshake_sum_ns, n, r->handshake_max_ns);
		} else {
			AQ_INV(r->handshake_sum_ns == 0 &&
			       r->handshake_max_ns == 0,
			       "no handshake but sum/max %" PRId64 "/%" PRId64,
			       r->handshake_sum_ns, r->handshake_max_ns);
		}
	}
#undef AQ_INV_QUIET
#undef AQ_INV
	return 0;
}

static inline int aq_snap_invariants(const struct aq_snap *s, char *err,
				     size_t errsz)
{
	int i;

	if (s->closed_enqueued != s->closed_accepted + s->closed_drained) {
		snprintf(err, errsz,
			 "closed: enqueued %" PRId64 " != accepted %" PRId64 " + drained %" PRId64,
			 s->closed_enqueued, s->closed_accepted,
			 s->closed_drained);
		return -1;
	}
	if (s->enabled > 1) {
		snprintf(err, errsz, "enabled %" PRId64, s->enabled);
		return -1;
	}
	for (i = 0; i < s->nrows; i++)
		if (aq_row_invariants(&s->rows[i], true, err, errsz))
			return -1;
	return 0;
}

/* Reads and parses /proc/aqueue (strictly) and checks the identities. */
static inline void aq_snapshot_chunked(struct __test_metadata *_metadata,
				       struct aq_snap *s, size_t chunk)
{
	char err[512];
	size_t len;
	char *text;
	int rd;

	text = aq_read_chunked(AQ_PROC_PATH, chunk, &len, &rd);
	ASSERT_NE(NULL, text) TH_LOG("reading %s: %s", AQ_PROC_PATH,
				     strerror(-rd));
	if (aq_parse(text, s, true)) {
		TH_LOG("%s does not parse: %s", AQ_PROC_PATH, s->err);
		TH_LOG("it reads:\n%.3000s", text);
		free(text);
		ASSERT_TRUE(0);
	}
	if (aq_snap_invariants(s, err, sizeof(err))) {
		TH_LOG("%s breaks an identity: %s", AQ_PROC_PATH, err);
		TH_LOG("it reads:\n%.3000s", text);
		free(text);
		ASSERT_TRUE(0);
	}
	free(text);
}

static inline void aq_snapshot(struct __test_metadata *_metadata,
			       struct aq_snap *s)
{
	aq_snapshot_chunked(_metadata, s, 1 << 16);
}

/* The rows of one listener identity (netns, proto, local). */
static inline int aq_count_rows(const struct aq_snap *s, int64_t netns,
				const char *proto, const char *local)
{
	int i, n = 0;

	for (i = 0; i < s->nrows; i++)
		if (s->rows[i].netns == netns &&
		    !strcmp(s->rows[i].proto, proto) &&
		    !strcmp(s->rows[i].local, local))
			n++;
	return n;
}

/* The one row of a listener identity; asserts there is exactly one. */
static inline struct aq_row *aq_the_row(struct __test_metadata *_metadata,
					struct aq_snap *s, int64_t netns,
					const char *proto, const char *local)
{
	int i, n = aq_count_rows(s, netns, proto, local);

	ASSERT_EQ(1, n) TH_LOG("rows for netns %" PRId64 " %s %s: %d (of %d rows)",
			       netns, proto, local, n, s->nrows);
	for (i = 0; i < s->nrows; i++)
		if (s->rows[i].netns == netns &&
		    !strcmp(s->rows[i].proto, proto) &&
		    !strcmp(s->rows[i].local, local))
			return &s->rows[i];
	return NULL;
}

/* The one row of a listening fd (its netns must be the caller's). */
static inline struct aq_row *aq_row_of(struct __test_metadata *_metadata,
				       struct aq_snap *s, int fd)
{
	union {
		struct sockaddr sa;
		struct sockaddr_storage ss;
	} a;
	socklen_t len = sizeof(a), tlen = sizeof(int);
	char local[96];
	struct stat st;
	int type = 0;

	ASSERT_EQ(0, getsockname(fd, &a.sa, &len));
	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen));
	aq_local_str(fd, local, sizeof(local));
	ASSERT_EQ(0, stat("/proc/self/ns/net", &st));
	return aq_the_row(_metadata, s, st.st_ino,
			  type == SOCK_DGRAM ?
			  (a.sa.sa_family == AF_INET ? "udp" : "udp6") :
			  (a.sa.sa_family == AF_INET ? "tcp" : "tcp6"), local);
}

/*
 * Every test starts from a freshly loaded module (so the closed totals and
 * `tracked` start from the test's own baseline) and unloads it at the end.
 * Without the module (e.g. on a host kernel that cannot load modules) the
 * tests still drive the kernel and check its own oracles, then SKIP.
 */
struct aq_ctx {
	bool module;
};

static inline void aq_ctx_setup(struct __test_metadata *_metadata,
				struct aq_ctx *c, const char *params)
{
	c->module = false;
	if (geteuid() != 0)
		SKIP(return, "needs root (network namespaces, the module)");
	if (!aq_path_exists(aq_module_path()))
		return;
	if (aq_is_loaded())
		ASSERT_EQ(0, aq_unload());
	ASSERT_EQ(0, aq_load(params));
	c->module = true;
}

/*
 * For a test that keeps more than @instances threads asleep in accept() or
 * connect() at once, each holding a kretprobe instance: where the lane has
 * loaded the module with fewer ($AQ_LOAD_PARAMS names accept_maxactive),
 * load it again with enough. Elsewhere the default (8192) is kept.
 */
static inline void aq_ctx_need_instances(struct __test_metadata *_metadata,
					 struct aq_ctx *c, int instances)
{
	const char *base = getenv("AQ_LOAD_PARAMS");
	char params[64];

	if (!c->module || !base || !strstr(base, "accept_maxactive"))
		return;
	snprintf(params, sizeof(params), "accept_maxactive=%d", instances);
	ASSERT_EQ(0, aq_unload());
	ASSERT_EQ(0, aq_load(params));
}

static inline void aq_ctx_teardown(struct __test_metadata *_metadata,
				   struct aq_ctx *c)
{
	if (c->module && aq_is_loaded())
		EXPECT_EQ(0, aq_unload());
}

#define AQ_FINISH(c) do {						\
	if (!(c)->module)						\
		SKIP(return, "no module at %s: only the kernel's oracles were checked", \
		     aq_module_path());					\
} while (0)

#endif /* AQ_PROC_H */
