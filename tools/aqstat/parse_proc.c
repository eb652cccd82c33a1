// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A strict parser for /proc/aqueue, formats 1 to 3 (format 2 adds the
 * live keys at the end of the detail line, and requires them; format 3
 * the reuseport migration keys of the detail and closed lines, and keys
 * added within it that a module may not print yet: ino, backlog_asked,
 * somaxconn, reuseport_group).
 *
 * Fields are separated by one or more spaces (only spaces: a tab is part
 * of a field). Numbers are unsigned decimal and must fit in 64 bits. Every
 * line but the first starts with a keyword (state, closed, id, listener)
 * or is a table row (starts with the listener's id). A line that does not
 * parse completely is reported and skipped; so is a last line without its
 * newline, since a cut-off histogram line would otherwise look valid.
 *
 * What a newer module may add without a new format number, a KEY VALUE
 * pair in a line of keys or a "listener ID KIND ..." line of a new KIND,
 * is skipped and counted (unknown_keys), never a reason to drop the line:
 * the figures this parser knows are all still there.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parse_proc.h"

#define MAX_TOKENS	160
#define MAX_INPUT	(1UL << 30)

struct tokens {
	int n;
	char *t[MAX_TOKENS];
	size_t off[MAX_TOKENS];	/* offset of each token in the line */
	int overflow;
};

struct ctx {
	const char *name;
	FILE *warn;
	struct aq_snapshot *s;
	unsigned int lineno;
	size_t last;	/* 1 + index of the listener of the last detail line */
	size_t len;	/* of the whole input */
};

static void bad(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	c->s->malformed++;
	if (!c->warn)
		return;
	fprintf(c->warn, "aqstat: %s:%u: ", c->name, c->lineno);
	va_start(ap, fmt);
	vfprintf(c->warn, fmt, ap);
	va_end(ap);
	fputs(": line ignored\n", c->warn);
}

static void note(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	c->s->malformed++;
	if (!c->warn)
		return;
	fprintf(c->warn, "aqstat: %s: ", c->name);
	va_start(ap, fmt);
	vfprintf(c->warn, fmt, ap);
	va_end(ap);
	fputc('\n', c->warn);
}

/* A key a module could add: a lower-case letter, then [a-z0-9_]. */
static int is_key(const char *s)
{
	if (*s < 'a' || *s > 'z')
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(s);
}

/*
 * A key or a line kind this parser does not know, in a format it knows:
 * what a newer module adds. Counted, the first one kept for the warning
 * aqs_parse() gives once, never a reason to drop the line.
 */
static void unknown(struct ctx *c, const char *what)
{
	if (!c->s->unknown_keys++) {
		snprintf(c->s->first_unknown, sizeof(c->s->first_unknown),
			 "%s", what);
		c->s->first_unknown_line = c->lineno;
	}
}

/* Splits @line in place at spaces. */
static void tokenize(char *line, struct tokens *tk)
{
	char *p = line;

	tk->n = 0;
	tk->overflow = 0;
	for (;;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		if (tk->n == MAX_TOKENS) {
			tk->overflow = 1;
			break;
		}
		tk->off[tk->n] = (size_t)(p - line);
		tk->t[tk->n++] = p;
		while (*p && *p != ' ')
			p++;
		if (!*p)
			break;
		*p++ = '\0';
	}
}

/* 0, or -1 (not a number), -2 (does not fit in 64 bits). */
static int parse_u64(const char *s, uint64_t *v)
{
	uint64_t x = 0;
	size_t n;

	if (!*s)
		return -1;
	for (n = 0; s[n]; n++) {
		unsigned int d = (unsigned int)(unsigned char)s[n] - '0';

		if (d > 9)
			return -1;
		/* 19 digits always fit (10^19 - 1 < 2^64): test the rest only */
		if (n >= 19 && x > (UINT64_MAX - d) / 10)
			return -2;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

static int want_u64(struct ctx *c, const char *what, const char *s, uint64_t *v)
{
	int r = parse_u64(s, v);

	if (r == -2)
		bad(c, "%s %.40s%s is larger than 2^64-1", what, s,
		    strlen(s) > 40 ? "..." : "");
	else if (r)
		bad(c, "%s is not an unsigned number", what);
	return r;
}

static int want_u64_or_dash(struct ctx *c, const char *what, const char *s,
			    uint64_t *v)
{
	if (!strcmp(s, "-")) {
		*v = AQ_FIELD_UNSET;
		return 0;
	}
	if (want_u64(c, what, s, v))
		return -1;
	if (*v == AQ_FIELD_UNSET) {
		bad(c, "%s is 2^64-1, which aqstat reserves for \"-\"", what);
		return -1;
	}
	return 0;
}

const char *aq_proto_name(enum aq_proto p)
{
	static const char *const names[] = {
		"tcp", "tcp6", "udp", "udp6", "unix", "unix-seq",
	};

	return names[p];
}

static int proto_from(const char *s, enum aq_proto *p)
{
	for (int i = AQ_TCP; i <= AQ_UNIX_SEQ; i++)
		if (!strcmp(s, aq_proto_name((enum aq_proto)i))) {
			*p = (enum aq_proto)i;
			return 0;
		}
	return -1;
}

uint64_t aq_qlen_low(unsigned int i)
{
	return i ? 1ULL << (i - 1) : 0;
}

uint64_t aq_wait_low(unsigned int i)
{
	return i ? 1ULL << (i + AQUEUE_WAIT_SHIFT - 1) : 0;
}

/* "ADDR:PORT" or "[ADDR6]:PORT" for IP listeners; anything for unix. */
static int parse_local(struct ctx *c, struct aqs_row *l, const char *s)
{
	const char *colon = strrchr(s, ':');
	unsigned char buf[16];
	uint64_t port;
	char *addr;
	size_t alen;
	int v6 = l->proto == AQ_TCP6 || l->proto == AQ_UDP6;

	if (l->proto == AQ_UNIX || l->proto == AQ_UNIX_SEQ) {
		l->port = -1;
		l->addr = strdup(s);
		l->local = strdup(s);
		return 0;
	}
	if (!colon || parse_u64(colon + 1, &port) || port > 65535) {
		bad(c, "local address %.60s has no valid :PORT", s);
		return -1;
	}
	if (v6) {
		if (s[0] != '[' || colon == s || colon[-1] != ']') {
			bad(c, "IPv6 address %.60s is not in brackets", s);
			return -1;
		}
		s++;
		alen = (size_t)(colon - 1 - s);
	} else {
		alen = (size_t)(colon - s);
	}
	addr = strndup(s, alen);
	if (!addr)
		return -1;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, buf) != 1) {
		bad(c, "%.60s is not an IPv%d address", addr, v6 ? 6 : 4);
		free(addr);
		return -1;
	}
	l->addr = addr;
	l->port = (long)port;
	l->local = strdup(v6 ? s - 1 : s);
	return 0;
}

#define MAX_FIELDS	32	/* in one table: a bit each in parse_fields() */

/*
 * Member M of struct T, a key of format 1 (FIELD), 2 (LIVE) or 3 (F3); the
 * _Generic, 0 when it selects, refuses to compile for a M that is not a
 * uint64_t.
 */
#define FIELD_OFF(T, M)	\
	(offsetof(struct T, M) + _Generic(((struct T *)0)->M, uint64_t: 0))
#define FIELD(T, M)	{ #M, FIELD_OFF(T, M), 1, 0 }
#define LIVE(T, M)	{ #M, FIELD_OFF(T, M), 2, 0 }
#define F3(T, M)	{ #M, FIELD_OFF(T, M), 3, 0 }
#define F3_OPT(T, M)	{ #M, FIELD_OFF(T, M), 3, 1 }
#define NFIELDS(f)	(sizeof(f) / sizeof((f)[0]) - 1)

static const struct aq_field state_fields[] = {
	FIELD(aq_state, enabled), FIELD(aq_state, tracked),
	FIELD(aq_state, max_listeners), FIELD(aq_state, untracked_listens),
	FIELD(aq_state, untracked_events), FIELD(aq_state, filtered_events),
	FIELD(aq_state, memory_bytes), FIELD(aq_state, max_memory_bytes),
	FIELD(aq_state, missed), FIELD(aq_state, resyncs),
	{ NULL, 0, 0, 0 },
};

static const struct aq_field closed_fields[] = {
	FIELD(aqs_closed, listeners), FIELD(aqs_closed, enqueued),
	FIELD(aqs_closed, accepted), FIELD(aqs_closed, drained),
	F3(aqs_closed, migrated), FIELD(aqs_closed, drops),
	{ NULL, 0, 0, 0 },
};

/* The first key names the line: parse_detail() looks for it. */
static const struct aq_field detail_fields[] = {
	FIELD(aqs_row, drops_syn_acceptq),
	FIELD(aqs_row, drops_ack_acceptq),
	FIELD(aqs_row, drops_other), FIELD(aqs_row, drained),
	F3(aqs_row, migrated_in), F3(aqs_row, migrated_out),
	FIELD(aqs_row, untimed), FIELD(aqs_row, resynced),
	FIELD(aqs_row, observed_ns), FIELD(aqs_row, qlen_area_ns),
	FIELD(aqs_row, wait_sum_ns), FIELD(aqs_row, waited),
	LIVE(aqs_row, hol_age_ns), LIVE(aqs_row, since_accept_ns),
	LIVE(aqs_row, since_drop_ns), LIVE(aqs_row, stalled),
	LIVE(aqs_row, overflowing), F3_OPT(aqs_row, ino),
	F3_OPT(aqs_row, backlog_asked), F3_OPT(aqs_row, somaxconn),
	F3_OPT(aqs_row, reuseport_group),
	{ NULL, 0, 0, 0 },
};

const struct aq_field aq_syn_fields[] = {
	FIELD(aqs_row, synq_now), FIELD(aqs_row, synq_full_drops),
	FIELD(aqs_row, synq_full_cookies), FIELD(aqs_row, syn_cookies),
	FIELD(aqs_row, synack_retrans),
	FIELD(aqs_row, handshake_sum_ns),
	FIELD(aqs_row, handshake_max_ns),
	{ NULL, 0, 0, 0 },
};

const struct aq_field aq_udp_fields[] = {
	FIELD(aqs_row, rmem_now), FIELD(aqs_row, drops_rcvbuf),
	{ NULL, 0, 0, 0 },
};

_Static_assert(NFIELDS(state_fields) <= MAX_FIELDS, "state_fields");
_Static_assert(NFIELDS(closed_fields) <= MAX_FIELDS, "closed_fields");
_Static_assert(NFIELDS(detail_fields) <= MAX_FIELDS, "detail_fields");
_Static_assert(NFIELDS(aq_syn_fields) <= MAX_FIELDS, "aq_syn_fields");
_Static_assert(NFIELDS(aq_udp_fields) <= MAX_FIELDS, "aq_udp_fields");

/*
 * "KEY VALUE" pairs from token @first on into the members of @dst that @f
 * names: every key of @f that the input's format has exactly once, no
 * others. @dst changes only when the whole line parses; then @seenp (if
 * not NULL) gets bit k set for each f[k] the line had (the optional ones
 * may be missing).
 */
static int parse_fields(struct ctx *c, const char *what, struct tokens *tk,
			int first, const struct aq_field *f, void *dst,
			uint64_t *seenp)
{
	uint64_t seen = 0, tmp[MAX_FIELDS];
	int nunknown = 0, first_unknown = 0;

	if ((tk->n - first) % 2) {
		bad(c, "%s: key %s has no value", what, tk->t[tk->n - 1]);
		return -1;
	}
	for (int i = first, next = 0; i < tk->n; i += 2) {
		int k = next;

		/* the keys come in the table's order: try the next one first */
		if (!f[k].key || f[k].format > c->s->format ||
		    strcmp(tk->t[i], f[k].key))
			for (k = 0; f[k].key; k++)
				if (f[k].format <= c->s->format &&
				    !strcmp(tk->t[i], f[k].key))
					break;
		if (f[k].key)
			next = k + 1;
		if (!f[k].key) {
			/* a newer module's key: skipped, the line kept */
			if (!is_key(tk->t[i])) {
				bad(c, "%s: %.40s is not a key", what, tk->t[i]);
				return -1;
			}
			if (!nunknown++)
				first_unknown = i;
			continue;
		}
		if (seen & (1ULL << k)) {
			bad(c, "%s: field %s appears twice", what, f[k].key);
			return -1;
		}
		if (want_u64(c, f[k].key, tk->t[i + 1], &tmp[k]))
			return -1;
		seen |= 1ULL << k;
	}
	for (int k = 0; f[k].key; k++)
		if (f[k].format <= c->s->format && !f[k].optional &&
		    !(seen & (1ULL << k))) {
			bad(c, "%s: field %s is missing", what, f[k].key);
			return -1;
		}
	for (int k = 0; f[k].key; k++)
		if (seen & (1ULL << k))
			*(uint64_t *)((char *)dst + f[k].off) = tmp[k];
	while (nunknown--)
		unknown(c, tk->t[first_unknown]);
	if (seenp)
		*seenp = seen;
	return 0;
}

/* Whether the line @seen (parse_fields()'s) had @f's key @key. */
static int field_seen(const struct aq_field *f, uint64_t seen, const char *key)
{
	for (int k = 0; f[k].key; k++)
		if (!strcmp(f[k].key, key))
			return !!(seen & (1ULL << k));
	return 0;
}

/* @f's fields of the input's format from @src to @dst */
static void copy_fields(struct ctx *c, const struct aq_field *f, void *dst,
			const void *src)
{
	for (; f->key; f++)
		if (f->format <= c->s->format)
			memcpy((char *)dst + f->off, (const char *)src + f->off,
			       sizeof(uint64_t));
}

static int snapshot_reserve(struct aq_snapshot *s, size_t cap, size_t nslots);

static void parse_state(struct ctx *c, struct tokens *tk)
{
	size_t want, nslots = 32;

	if (c->s->has_state) {
		bad(c, "a second state line");
		return;
	}
	if (parse_fields(c, "state", tk, 1, state_fields, &c->s->state, NULL))
		return;
	c->s->has_state = 1;
	/*
	 * The table that follows has about "tracked" rows: room for them at
	 * once, without growing and rehashing on the way. No more than the
	 * input can hold (a row and its detail lines take well over 64
	 * bytes); on failure the table grows as it is read.
	 */
	want = c->s->state.tracked < c->len / 64 ? (size_t)c->s->state.tracked
						  : c->len / 64;
	while (nslots < 2 * want)
		nslots *= 2;
	if (want > c->s->cap)
		snapshot_reserve(c->s, want, nslots);
}

static void parse_closed(struct ctx *c, struct tokens *tk)
{
	if (c->s->has_closed) {
		bad(c, "a second closed line");
		return;
	}
	if (parse_fields(c, "closed", tk, 1, closed_fields, &c->s->closed,
			 NULL))
		return;
	c->s->has_closed = 1;
}

static const char *const header[] = {
	"id", "netns", "proto", "local", "backlog", "qnow", "qpeak",
	"enqueued", "accepted", "drops", "p50_us", "p99_us", "max_us", "pid",
	"comm",
};
#define NCOLS ((int)(sizeof(header) / sizeof(header[0])))

static int header_ok(struct tokens *tk)
{
	if (tk->n != NCOLS)
		return 0;
	for (int i = 0; i < NCOLS; i++)
		if (strcmp(tk->t[i], header[i]))
			return 0;
	return 1;
}

static size_t slot_of(uint64_t id, size_t nslots)
{
	/*
	 * Fibonacci hashing, the product's top bits: consecutive ids (the
	 * module numbers its listeners so) land in distinct slots
	 */
	return (size_t)((id * 0x9e3779b97f4a7c15ULL) >>
			(64 - __builtin_ctzll((unsigned long long)nslots)));
}

struct aqs_row *aq_snapshot_find(const struct aq_snapshot *s, uint64_t id)
{
	if (!s->nslots)
		return NULL;
	for (size_t i = slot_of(id, s->nslots);; i = (i + 1) & (s->nslots - 1)) {
		const struct aq_slot *sl = &s->slot[i];

		if (!sl->x)
			return NULL;
		if (sl->id == id)
			return &s->l[sl->x - 1];
	}
}

static void slot_put(struct aq_slot *slot, size_t nslots, uint64_t id, size_t x)
{
	size_t i = slot_of(id, nslots);

	while (slot[i].x)
		i = (i + 1) & (nslots - 1);
	slot[i].id = id;
	slot[i].x = x;
}

/*
 * Asks for transparent huge pages over the @len bytes at @p (a large
 * allocation: 65,536 listeners are 120 MB of rows, which 4 KiB pages
 * fault in one by one). A hint: where the kernel says no, nothing changes.
 */
static void huge_pages(void *p, size_t len)
{
	const uintptr_t huge = 2UL << 20;
	uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
	uintptr_t e = ((uintptr_t)p + len) & ~(huge - 1);

	if (len >= 2 * huge && e > a)
		madvise((void *)a, e - a, MADV_HUGEPAGE);
}

/* The rows array of @s with room for @cap listeners, and their slots. */
static int snapshot_reserve(struct aq_snapshot *s, size_t cap, size_t nslots)
{
	if (cap > s->cap) {
		struct aqs_row *nl = realloc(s->l, cap * sizeof(*nl));

		if (!nl)
			return -1;
		huge_pages(nl, cap * sizeof(*nl));
		s->l = nl;
		s->cap = cap;
	}
	if (nslots > s->nslots) {
		struct aq_slot *slot = calloc(nslots, sizeof(*slot));

		if (!slot)
			return -1;
		for (size_t i = 0; i < s->n; i++)
			slot_put(slot, nslots, s->l[i].id, i + 1);
		free(s->slot);
		s->slot = slot;
		s->nslots = nslots;
	}
	return 0;
}

/* Room for one more listener in @s: its array, and its slots. */
static int snapshot_grow(struct aq_snapshot *s)
{
	return snapshot_reserve(s, s->n < s->cap ? s->cap : s->cap ? s->cap * 2 : 16,
				2 * (s->n + 1) <= s->nslots ? s->nslots :
				s->nslots ? s->nslots * 2 : 32);
}

static void free_listener(struct aqs_row *l)
{
	free(l->local);
	free(l->addr);
	free(l->comm);
}

/* @raw is the unsplit line (for comm), @tk its tokens. */
static int parse_row(struct ctx *c, const char *raw, size_t rawlen,
		     struct tokens *tk)
{
	struct aqs_row l;
	struct aq_snapshot *s = c->s;
	uint64_t *u[] = {
		&l.backlog, &l.qnow, &l.qpeak, &l.enqueued, &l.accepted, &l.drops,
	};
	uint64_t *d[] = { &l.p50_us, &l.p99_us, &l.max_us };
	size_t commoff;

	memset(&l, 0, sizeof(l));
	if (tk->n < NCOLS - 1) {
		bad(c, "table row has %d of %d fields", tk->n, NCOLS);
		return 0;
	}
	if (tk->n == NCOLS - 1) {
		/* "pid " and nothing after: an empty comm, or a cut line */
		size_t end = tk->off[NCOLS - 2] + strlen(tk->t[NCOLS - 2]);

		if (end + 1 != rawlen || raw[end] != ' ') {
			bad(c, "table row has no comm field");
			return 0;
		}
		commoff = rawlen;
	} else {
		commoff = tk->off[NCOLS - 1];
	}
	if (want_u64(c, "id", tk->t[0], &l.id) ||
	    want_u64(c, "netns", tk->t[1], &l.netns))
		return 0;
	if (proto_from(tk->t[2], &l.proto)) {
		bad(c, "unknown proto %.20s", tk->t[2]);
		return 0;
	}
	for (int i = 0; i < 6; i++)
		if (want_u64(c, header[4 + i], tk->t[4 + i], u[i]))
			return 0;
	for (int i = 0; i < 3; i++)
		if (want_u64_or_dash(c, header[10 + i], tk->t[10 + i], d[i]))
			return 0;
	if (want_u64(c, "pid", tk->t[13], &l.pid))
		return 0;
	if (aq_snapshot_find(s, l.id)) {
		bad(c, "listener %llu appears twice in the table",
		    (unsigned long long)l.id);
		return 0;
	}
	if (parse_local(c, &l, tk->t[3]))
		goto fail;
	l.comm = strndup(raw + commoff, rawlen - commoff);
	if (!l.local || !l.addr || !l.comm)
		goto nomem;
	if (snapshot_grow(s))
		goto nomem;
	s->l[s->n] = l;
	s->n++;
	slot_put(s->slot, s->nslots, l.id, s->n);
	return 0;
nomem:
	free_listener(&l);
	return -1;
fail:
	free_listener(&l);
	return 0;
}

/* The bucket whose lower bound is @low: 0, or a power of two's. */
static int bucket_of(uint64_t low, int wait, unsigned int *idx)
{
	unsigned int n = wait ? AQUEUE_WAIT_BUCKETS : AQUEUE_QLEN_BUCKETS;
	unsigned int i;

	if (!low) {
		*idx = 0;
		return 0;
	}
	if (low & (low - 1))
		return -1;
	/* low(i) is 2^(i - 1), times 2^AQUEUE_WAIT_SHIFT for times */
	i = (unsigned int)__builtin_ctzll((unsigned long long)low) + 1;
	if (wait) {
		if (i <= AQUEUE_WAIT_SHIFT)
			return -1;
		i -= AQUEUE_WAIT_SHIFT;
	}
	if (i >= n || (wait ? aq_wait_low(i) : aq_qlen_low(i)) != low)
		return -1;
	*idx = i;
	return 0;
}

/* A histogram line into @dst; @wait: time buckets, else length buckets. */
static void parse_hist(struct ctx *c, struct aqs_row *l, struct tokens *tk,
		       int wait, uint64_t *dst, int *has)
{
	unsigned int n = wait ? AQUEUE_WAIT_BUCKETS : AQUEUE_QLEN_BUCKETS;
	uint64_t tmp[AQUEUE_WAIT_BUCKETS] = { 0 };
	const char *what = tk->t[2];
	int last = -1;

	if (*has) {
		bad(c, "listener %llu: a second %s line",
		    (unsigned long long)l->id, what);
		return;
	}
	for (int i = 3; i < tk->n; i++) {
		char *colon = strchr(tk->t[i], ':');
		uint64_t low, count;
		unsigned int idx;

		if (!colon) {
			bad(c, "%s: %.40s is not LOW:COUNT", what, tk->t[i]);
			return;
		}
		*colon = '\0';
		if (want_u64(c, "bucket", tk->t[i], &low) ||
		    want_u64(c, "count", colon + 1, &count))
			return;
		if (bucket_of(low, wait, &idx)) {
			bad(c, "%s: %llu is not a bucket boundary", what,
			    (unsigned long long)low);
			return;
		}
		if ((int)idx <= last) {
			bad(c, "%s: buckets out of order", what);
			return;
		}
		last = (int)idx;
		tmp[idx] = count;
	}
	memcpy(dst, tmp, n * sizeof(tmp[0]));
	*has = 1;
}

/* The syn and udp lines: @f's fields, once per listener. */
static void parse_kv(struct ctx *c, struct aqs_row *l, struct tokens *tk,
		     const struct aq_field *f, int *has)
{
	if (*has) {
		bad(c, "listener %llu: a second %s line",
		    (unsigned long long)l->id, tk->t[2]);
		return;
	}
	if (parse_fields(c, tk->t[2], tk, 3, f, l, NULL))
		return;
	*has = 1;
}

static void parse_detail(struct ctx *c, struct tokens *tk)
{
	struct aqs_row *l, t;
	uint64_t id, seen;

	if (tk->n < 3) {
		bad(c, "listener line without an id and a kind");
		return;
	}
	if (want_u64(c, "listener id", tk->t[1], &id))
		return;
	/*
	 * a listener's lines come together, the listeners in the table's
	 * order: look up the last one first, then the next
	 */
	if (c->last && c->s->l[c->last - 1].id == id)
		l = &c->s->l[c->last - 1];
	else if (c->last < c->s->n && c->s->l[c->last].id == id)
		l = &c->s->l[c->last];
	else
		l = aq_snapshot_find(c->s, id);
	if (l)
		c->last = (size_t)(l - c->s->l) + 1;
	if (!l) {
		bad(c, "listener %llu is not in the table",
		    (unsigned long long)id);
		return;
	}
	if (!strcmp(tk->t[2], "qlen")) {
		parse_hist(c, l, tk, 0, l->qlen, &l->has_qlen);
	} else if (!strcmp(tk->t[2], "wait_ns")) {
		parse_hist(c, l, tk, 1, l->wait, &l->has_wait);
	} else if (!strcmp(tk->t[2], "syn")) {
		parse_kv(c, l, tk, aq_syn_fields, &l->has_syn);
	} else if (!strcmp(tk->t[2], "synq")) {
		parse_hist(c, l, tk, 0, l->synq, &l->has_synq);
	} else if (!strcmp(tk->t[2], "handshake_ns")) {
		parse_hist(c, l, tk, 1, l->handshake, &l->has_handshake);
	} else if (!strcmp(tk->t[2], "udp")) {
		parse_kv(c, l, tk, aq_udp_fields, &l->has_udp);
	} else if (!strcmp(tk->t[2], "qbytes")) {
		parse_hist(c, l, tk, 0, l->qbytes, &l->has_qbytes);
	} else if (!strcmp(tk->t[2], detail_fields[0].key)) {
		if (l->has_detail) {
			bad(c, "listener %llu: a second detail line",
			    (unsigned long long)id);
			return;
		}
		/* into @t first: the flags are checked before @l takes it */
		memset(&t, 0, sizeof(t));
		if (parse_fields(c, "listener", tk, 2, detail_fields, &t, &seen))
			return;
		if (t.stalled > 1 || t.overflowing > 1) {
			bad(c, "listener %llu: stalled or overflowing not 0 or 1",
			    (unsigned long long)id);
			return;
		}
		copy_fields(c, detail_fields, l, &t);
		l->has_live = c->s->format >= 2;
		l->has_migrate = c->s->format >= 3;
		/* both or neither: the module prints the two together */
		l->has_asked = field_seen(detail_fields, seen, "backlog_asked") &&
			       field_seen(detail_fields, seen, "somaxconn");
		l->has_detail = 1;
	} else if (is_key(tk->t[2])) {
		unknown(c, tk->t[2]);	/* a newer module's line kind */
	} else {
		bad(c, "listener %llu: unknown line kind %.30s",
		    (unsigned long long)id, tk->t[2]);
	}
}

/* Where in the file a line is: before the table, in it, after it. */
enum phase { P_PREAMBLE, P_TABLE, P_DETAILS };

/* The first line, "aqueue format N"; @nl: it ended in a newline. */
static enum aq_parse_result parse_version(struct ctx *c, char *line, int nl,
					  struct tokens *tk)
{
	uint64_t v;

	tokenize(line, tk);
	if (!nl || tk->n != 3 || strcmp(tk->t[0], "aqueue") ||
	    strcmp(tk->t[1], "format") || parse_u64(tk->t[2], &v) == -1)
		return AQ_PARSE_NOT_AQUEUE;
	if (parse_u64(tk->t[2], &v))
		v = UINT64_MAX;
	c->s->format = v;
	if (v < 1 || v > AQUEUE_FORMAT_VERSION)
		return AQ_PARSE_VERSION;
	return AQ_PARSE_OK;
}

/*
 * Any line after the first: @line is a copy of the @n bytes at @raw
 * (which the table row's comm is cut from), @nl says a newline ended it.
 * A malformed line is reported and skipped; only running out of memory
 * and a table header of another format end the parse.
 */
static enum aq_parse_result parse_line(struct ctx *c, enum phase *phase,
				       char *line, const char *raw, size_t n,
				       int nl, struct tokens *tk)
{
	if (memchr(line, '\0', n)) {
		bad(c, "NUL byte in line");
		return AQ_PARSE_OK;
	}
	if (!nl) {
		bad(c, "truncated: no newline at the end of the input");
		return AQ_PARSE_OK;
	}
	if (n == 0) {
		if (*phase == P_TABLE)
			*phase = P_DETAILS;
		else
			bad(c, "unexpected empty line");
		return AQ_PARSE_OK;
	}
	if (line[n - 1] == '\r') {
		bad(c, "carriage return at the end of the line");
		return AQ_PARSE_OK;
	}
	tokenize(line, tk);
	if (tk->overflow) {
		bad(c, "more than %d fields", MAX_TOKENS);
		return AQ_PARSE_OK;
	}
	if (!tk->n) {
		bad(c, "blank line");
		return AQ_PARSE_OK;
	}
	if (tk->t[0][0] >= '0' && tk->t[0][0] <= '9') {
		if (*phase != P_TABLE)
			bad(c, "table row outside the table");
		else if (parse_row(c, raw, n, tk))
			return AQ_PARSE_NOMEM;
	} else if (!strcmp(tk->t[0], "state")) {
		parse_state(c, tk);
	} else if (!strcmp(tk->t[0], "closed")) {
		parse_closed(c, tk);
	} else if (!strcmp(tk->t[0], "id")) {
		if (*phase != P_PREAMBLE) {
			bad(c, "a second table header");
			return AQ_PARSE_OK;
		}
		if (!header_ok(tk)) {
			if (c->warn)
				fprintf(c->warn, "aqstat: %s:%u: the table header is not the one of format %d\n",
					c->name, c->lineno, AQUEUE_FORMAT_VERSION);
			return AQ_PARSE_HEADER;
		}
		*phase = P_TABLE;
	} else if (!strcmp(tk->t[0], "listener")) {
		if (*phase == P_PREAMBLE) {
			bad(c, "listener line before the table");
			return AQ_PARSE_OK;
		}
		*phase = P_DETAILS;
		parse_detail(c, tk);
	} else {
		bad(c, "unknown keyword %.30s", tk->t[0]);
	}
	return AQ_PARSE_OK;
}

/* After the last line: what is missing, and the unknown keys, said once. */
static void parse_end(struct ctx *c, enum phase phase)
{
	struct aq_snapshot *s = c->s;

	if (s->unknown_keys && c->warn)
		fprintf(c->warn, "aqstat: %s: %u unknown key%s skipped (the first, %s, on line %u): the module is newer than this aqstat; every other figure is shown\n",
			c->name, s->unknown_keys, s->unknown_keys == 1 ? "" : "s",
			s->first_unknown, s->first_unknown_line);
	if (c->lineno == 1) {	/* just the version line */
		note(c, "nothing after the version line");
		return;
	}
	if (!s->has_state)
		note(c, "no valid state line");
	if (!s->has_closed)
		note(c, "no valid closed line");
	if (phase == P_PREAMBLE)
		note(c, "no table header");
	for (size_t i = 0; i < s->n; i++) {
		struct aqs_row *l = &s->l[i];

		if (!l->has_detail || !l->has_qlen || !l->has_wait)
			note(c, "listener %llu: line%s missing:%s%s%s",
			     (unsigned long long)l->id,
			     l->has_detail + l->has_qlen + l->has_wait < 2 ? "s" : "",
			     l->has_detail ? "" : " detail",
			     l->has_qlen ? "" : " qlen",
			     l->has_wait ? "" : " wait_ns");
	}
}

enum aq_parse_result aqs_parse(const char *text, size_t len, const char *name,
			       FILE *warn, struct aq_snapshot *s)
{
	struct ctx c = { .name = name, .warn = warn, .s = s, .len = len };
	struct tokens *tk;
	enum aq_parse_result ret = AQ_PARSE_OK;
	const char *p = text, *end = text + len;
	char *line = NULL;
	size_t linecap = 0;
	enum phase phase = P_PREAMBLE;

	memset(s, 0, sizeof(*s));
	tk = malloc(sizeof(*tk));
	if (!tk)
		return AQ_PARSE_NOMEM;
	if (!len)
		ret = AQ_PARSE_NOT_AQUEUE;
	while (ret == AQ_PARSE_OK && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		c.lineno++;
		if (n + 1 > linecap) {
			char *nb = realloc(line, n + 1);

			if (!nb) {
				ret = AQ_PARSE_NOMEM;
				break;
			}
			line = nb;
			linecap = n + 1;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		if (c.lineno == 1)
			ret = parse_version(&c, line, !!nl, tk);
		else
			ret = parse_line(&c, &phase, line, p, n, !!nl, tk);
		p += n + (nl ? 1 : 0);
	}
	if (ret == AQ_PARSE_OK)
		parse_end(&c, phase);
	free(line);
	free(tk);
	if (ret != AQ_PARSE_OK && ret != AQ_PARSE_VERSION)
		aq_snapshot_free(s);
	return ret;
}

void aq_snapshot_free(struct aq_snapshot *s)
{
	for (size_t i = 0; i < s->n; i++)
		free_listener(&s->l[i]);
	free(s->l);
	free(s->slot);
	s->l = NULL;
	s->slot = NULL;
	s->n = s->cap = s->nslots = 0;
}

char *aq_read_file(const char *path, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf;
	struct stat st;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	/* a saved copy says its size (procfs says 0): read it in one go */
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (uint64_t)st.st_size < MAX_INPUT)
		cap = (size_t)st.st_size + 1;	/* + 1: to see the end */
	buf = malloc(cap + 1);
	if (!buf)
		goto fail_close;
	huge_pages(buf, cap + 1);
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *nb;

			if (cap >= MAX_INPUT) {
				errno = EFBIG;
				goto fail_close;
			}
			nb = realloc(buf, cap * 2 + 1);
			if (!nb)
				goto fail_close;
			buf = nb;
			cap *= 2;
			huge_pages(buf, cap + 1);
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto fail_close;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
fail_close:
	err = errno;
	close(fd);
	free(buf);
	errno = err;
	return NULL;
}
