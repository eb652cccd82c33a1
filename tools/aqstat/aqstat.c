// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * aqstat: show the TCP accept queues that the aqueue module tracks in
 * /proc/aqueue, watch them, export them as JSON or Prometheus text, and
 * drive the module's debugfs control file. libc only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "aqevents.h"
#include "aqparse.h"

#ifndef AQSTAT_VERSION
#define AQSTAT_VERSION "0.1"
#endif

/* Exit codes, documented in aqstat.8. */
enum {
	EX_OK = 0,
	EX_ERR = 1,		/* I/O error, out of memory */
	EX_USAGE = 2,		/* bad command line */
	EX_NOMODULE = 3,	/* /proc/aqueue or the control file missing */
	EX_FORMAT = 4,		/* not aqueue text, or an unknown format */
	EX_NODEBUGFS = 5,	/* ctl: debugfs not mounted */
	EX_PERM = 6,		/* ctl: not root; permission denied */
	EX_REFUSED = 7,		/* ctl: the module refused the command */
	EX_MALFORMED = 8,	/* --strict and malformed lines */
};

#define DEBUGFS_MAGIC_NR	0x64626720
#define DEFAULT_PROC		"/proc/" AQUEUE_PROC_NAME
#define DEFAULT_DEBUGFS		"/sys/kernel/debug"
#define BAR_WIDTH		52

/* Command line. */
static struct {
	int json, prom, hist, strict;
	double interval;	/* > 0: watch mode */
	long count;		/* frames in watch mode, 0: forever */
	const char **files;	/* --file, in order; frame i reads files[i] */
	int nfiles;
	long ports[64];
	int nports;
	uint64_t netns[64];
	int nnetns;
	int kind_tcp, kind_udp, kind_unix, fam4, fam6;
} opt;

static const char *micro = "u";	/* "µ" in a UTF-8 locale */
static int utf8;
static int out_width;		/* 0: no limit */

static void die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("aqstat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die(EX_ERR, "out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		die(EX_ERR, "out of memory");
	return p;
}

static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		die(EX_ERR, "out of memory");
	return s;
}

/* ---- loading ---------------------------------------------------------- */

static const char *proc_path(void)
{
	const char *p = getenv("AQSTAT_PROC");

	return p && *p ? p : DEFAULT_PROC;
}

/* Reads and parses one snapshot; exits with a clear message on failure. */
static void load(const char *file, struct aq_snapshot *s)
{
	const char *path = file ? file : proc_path();
	enum aq_parse_result r;
	size_t len;
	char *text;

	text = aq_read_file(path, &len);
	if (!text) {
		int e = errno;

		if (!file && e == ENOENT)
			die(EX_NOMODULE, "%s does not exist: the aqueue module is not loaded.\n"
			    "Load it with 'modprobe aqueue' (installed) or 'insmod aqueue.ko' (built tree).",
			    path);
		if (e == EACCES || e == EPERM)
			die(EX_PERM, "cannot read %s: %s", path, strerror(e));
		die(EX_ERR, "cannot read %s: %s", path, strerror(e));
	}
	r = aq_parse(text, len, path, stderr, s);
	free(text);
	switch (r) {
	case AQ_PARSE_OK:
		break;
	case AQ_PARSE_NOT_AQUEUE:
		die(EX_FORMAT, "%s is not aqueue output: the first line is not '%sN'",
		    path, AQUEUE_VERSION_PREFIX);
		break;
	case AQ_PARSE_VERSION:
		if (s->format == UINT64_MAX)
			die(EX_FORMAT, "%s: unknown format version (out of range); this aqstat reads formats 1 to %d",
			    path, AQUEUE_FORMAT_VERSION);
		die(EX_FORMAT, "%s: unknown format version %llu; this aqstat reads formats 1 to %d.\n"
		    "Use the aqstat built from the same aqueue source as the module.",
		    path, (unsigned long long)s->format, AQUEUE_FORMAT_VERSION);
		break;
	case AQ_PARSE_HEADER:
		die(EX_FORMAT, "%s: unexpected table header for format %d; refusing to guess the columns",
		    path, AQUEUE_FORMAT_VERSION);
		break;
	case AQ_PARSE_NOMEM:
		die(EX_ERR, "out of memory");
	}
	if (s->malformed && opt.strict)
		die(EX_MALFORMED, "%s: %u malformed line%s (--strict)", path,
		    s->malformed, s->malformed == 1 ? "" : "s");
}

/* ---- filters ---------------------------------------------------------- */

static int wanted(const struct aq_listener *l)
{
	int ok;

	if (opt.nports) {
		ok = 0;
		for (int i = 0; i < opt.nports; i++)
			ok |= l->port == opt.ports[i];
		if (!ok)
			return 0;
	}
	if (opt.nnetns) {
		ok = 0;
		for (int i = 0; i < opt.nnetns; i++)
			ok |= l->netns == opt.netns[i];
		if (!ok)
			return 0;
	}
	if (opt.kind_tcp || opt.kind_udp || opt.kind_unix) {
		int tcp = l->proto == AQ_TCP || l->proto == AQ_TCP6;
		int udp = l->proto == AQ_UDP || l->proto == AQ_UDP6;

		if (!((opt.kind_tcp && tcp) || (opt.kind_udp && udp) ||
		      (opt.kind_unix && (l->proto == AQ_UNIX ||
					 l->proto == AQ_UNIX_SEQ))))
			return 0;
	}
	if (opt.fam4 || opt.fam6) {
		int v4 = l->proto == AQ_TCP || l->proto == AQ_UDP;
		int v6 = l->proto == AQ_TCP6 || l->proto == AQ_UDP6;

		if (!((opt.fam4 && v4) || (opt.fam6 && v6)))
			return 0;
	}
	return 1;
}

/* Pointers to the wanted listeners, in id (input) order. */
static const struct aq_listener **select_listeners(const struct aq_snapshot *s,
						   size_t *n)
{
	const struct aq_listener **v = xmalloc(s->n * sizeof(*v));

	*n = 0;
	for (size_t i = 0; i < s->n; i++)
		if (wanted(&s->l[i]))
			v[(*n)++] = &s->l[i];
	return v;
}

/* How full the queue is: it holds backlog + 1 connections at most. */
static long double saturation(uint64_t q, uint64_t backlog)
{
	return (long double)q / ((long double)backlog + 1);
}

static int by_saturation(const void *a, const void *b)
{
	const struct aq_listener *x = *(const struct aq_listener *const *)a;
	const struct aq_listener *y = *(const struct aq_listener *const *)b;
	long double sx = saturation(x->qnow, x->backlog);
	long double sy = saturation(y->qnow, y->backlog);

	if (sx != sy)
		return sx > sy ? -1 : 1;
	if (x->drops != y->drops)
		return x->drops > y->drops ? -1 : 1;
	sx = saturation(x->qpeak, x->backlog);
	sy = saturation(y->qpeak, y->backlog);
	if (sx != sy)
		return sx > sy ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int any_live_state(const struct aq_listener **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i]->stalled || v[i]->overflowing)
			return 1;
	return 0;
}

static int distinct_netns(const struct aq_listener **v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (v[i]->netns != v[0]->netns)
			return 1;
	return 0;
}

/* ---- text helpers ----------------------------------------------------- */

/* Length of the valid UTF-8 sequence at @s, 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* A copy safe for a terminal: control bytes and bad UTF-8 become '?'. */
static char *printable(const char *s)
{
	char *o = xmalloc(strlen(s) + 1), *p = o;

	while (*s) {
		const unsigned char *u = (const unsigned char *)s;
		size_t n = utf8_len(u);

		if (u[0] < 0x20 || u[0] == 0x7f || !n || (n > 1 && !utf8)) {
			*p++ = '?';
			s++;
			continue;
		}
		memcpy(p, s, n);
		p += n;
		s += n;
	}
	*p = '\0';
	return o;
}

/* Columns a (printable) string takes: one per character. */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static char *fmt_u64(uint64_t v)
{
	return xasprintf("%llu", (unsigned long long)v);
}

static char *fmt_scaled(double v, const char *unit)
{
	if (v < 10)
		return xasprintf("%.2f%s", v, unit);
	if (v < 100)
		return xasprintf("%.1f%s", v, unit);
	return xasprintf("%.0f%s", v, unit);
}

/* A time given in microseconds, in µs, ms or s. */
static char *fmt_us(uint64_t us)
{
	if (us == AQ_FIELD_UNSET)
		return xstrdup("-");
	if (us < 1000)
		return xasprintf("%llu%ss", (unsigned long long)us, micro);
	if (us < 999500)
		return fmt_scaled((double)us / 1e3, "ms");
	return fmt_scaled((double)us / 1e6, "s");
}

/* A time in nanoseconds, in ns, µs, ms or s. */
static char *fmt_ns(uint64_t ns)
{
	if (ns < 1000)
		return xasprintf("%lluns", (unsigned long long)ns);
	if (ns < 999500)
		return fmt_scaled((double)ns / 1e3, micro[0] == 'u' ? "us" : "\xc2\xb5s");
	if (ns < 999500000)
		return fmt_scaled((double)ns / 1e6, "ms");
	return fmt_scaled((double)ns / 1e9, "s");
}

static char *fmt_rate(double v)
{
	if (v < 1000)
		return xasprintf("%.1f", v);
	if (v < 1e6)
		return xasprintf("%.0f", v);
	return fmt_scaled(v / 1e6, "M");
}

/* ---- tables ----------------------------------------------------------- */

struct table {
	int ncols;
	const char **hdr;
	const char *align;	/* 'l' or 'r' per column */
	char **cells;		/* row-major, rows * ncols */
	size_t rows, cap;
};

static void table_add(struct table *t, char **row)
{
	if (t->rows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = realloc(t->cells, t->cap * t->ncols * sizeof(char *));
		if (!t->cells)
			die(EX_ERR, "out of memory");
	}
	memcpy(t->cells + t->rows * t->ncols, row, t->ncols * sizeof(char *));
	t->rows++;
}

static void put_clipped(const char *line, size_t *col)
{
	for (const char *p = line; *p; p++) {
		if (((unsigned char)*p & 0xc0) != 0x80) {
			if (out_width && *col >= (size_t)out_width)
				return;
			(*col)++;
		}
		putchar(*p);
	}
}

static void table_print(struct table *t)
{
	size_t *w = xmalloc(t->ncols * sizeof(*w));
	char *pad = NULL;

	for (int c = 0; c < t->ncols; c++) {
		w[c] = width(t->hdr[c]);
		for (size_t r = 0; r < t->rows; r++) {
			size_t x = width(t->cells[r * t->ncols + c]);

			if (x > w[c])
				w[c] = x;
		}
	}
	for (size_t r = 0; r <= t->rows; r++) {
		size_t col = 0;

		for (int c = 0; c < t->ncols; c++) {
			const char *s = r ? t->cells[(r - 1) * t->ncols + c] : t->hdr[c];
			size_t sw = width(s), fill = w[c] - sw;
			int last = c == t->ncols - 1;

			free(pad);
			pad = xmalloc(fill + 2);
			memset(pad, ' ', fill);
			pad[fill] = '\0';
			if (c)
				put_clipped(" ", &col);
			if (t->align[c] == 'r')
				put_clipped(pad, &col);
			put_clipped(s, &col);
			if (t->align[c] == 'l' && !last)
				put_clipped(pad, &col);
		}
		putchar('\n');
	}
	free(pad);
	free(w);
	for (size_t i = 0; i < t->rows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->rows = t->cap = 0;
}

/* ---- the table -------------------------------------------------------- */

/* printf, clipped to the output width */
static void cprintf(const char *fmt, ...)
{
	va_list ap;
	size_t col;
	char *s, *line, *nl;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		die(EX_ERR, "out of memory");
	va_end(ap);
	for (line = s; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		col = 0;
		put_clipped(line, &col);
		if (!nl)
			break;
		putchar('\n');
	}
	free(s);
}

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
		cprintf("closed: %llu listeners, enqueued %llu, accepted %llu, drained %llu, drops %llu\n",
			(unsigned long long)s->closed.listeners,
			(unsigned long long)s->closed.enqueued,
			(unsigned long long)s->closed.accepted,
			(unsigned long long)s->closed.drained,
			(unsigned long long)s->closed.drops);
	if (s->malformed)
		cprintf("warning: %u malformed line%s in the input skipped (details on stderr)\n",
			s->malformed, s->malformed == 1 ? "" : "s");
	if (s->has_state && (s->state.untracked_listens || s->state.untracked_events))
		cprintf("warning: over the listener limit: %llu listens and %llu events not tracked\n",
			(unsigned long long)s->state.untracked_listens,
			(unsigned long long)s->state.untracked_events);
	if (s->has_state && s->state.missed)
		cprintf("warning: %llu probe hits were missed; figures may be short (see the control file)\n",
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

static char *fmt_queue(const struct aq_listener *l)
{
	return xasprintf("%llu/%llu", (unsigned long long)l->qnow,
			 (unsigned long long)l->backlog);
}

/*
 * What is wrong right now, in the events' words (stall, overflow); format 1
 * has no live state.
 */
static const char *live_state(const struct aq_listener *l)
{
	if (l->stalled && l->overflowing)
		return "stalled+overflow";
	if (l->stalled)
		return "stalled";
	if (l->overflowing)
		return "overflow";
	return "-";
}

static int show_table(const struct aq_snapshot *s)
{
	static const char *hdr[] = {
		"ID", "NETNS", "PROTO", "LOCAL", "QUEUE", "STATE", "PEAK",
		"ENQ", "ACC", "DROPS", "P50", "P99", "MAX", "PID", "COMM",
	};
	size_t n;
	const struct aq_listener **v = select_listeners(s, &n);
	int netns = distinct_netns(v, n), state = any_live_state(v, n);
	struct table t = { 0 };
	const char **h = xmalloc(sizeof(hdr));
	char align[16];
	int nc = 0;

	qsort(v, n, sizeof(*v), by_saturation);
	for (int i = 0; i < 15; i++) {
		if ((i == 1 && !netns) || (i == 5 && !state))
			continue;
		h[nc] = hdr[i];
		align[nc++] = (i == 2 || i == 3 || i == 5 || i == 14) ? 'l' : 'r';
	}
	t.ncols = nc;
	t.hdr = h;
	t.align = align;
	print_summary(s, n);
	if (!n) {
		printf(s->n ? "no listener matches the filters\n"
			    : "no listeners tracked\n");
		free(v);
		free(h);
		return EX_OK;
	}
	for (size_t i = 0; i < n; i++) {
		const struct aq_listener *l = v[i];
		char *row[15];
		int c = 0;

		row[c++] = fmt_u64(l->id);
		if (netns)
			row[c++] = fmt_u64(l->netns);
		row[c++] = xstrdup(aq_proto_name(l->proto));
		row[c++] = printable(l->local);
		row[c++] = fmt_queue(l);
		if (state)
			row[c++] = xstrdup(live_state(l));
		row[c++] = fmt_u64(l->qpeak);
		row[c++] = fmt_u64(l->enqueued);
		row[c++] = fmt_u64(l->accepted);
		row[c++] = fmt_u64(l->drops);
		row[c++] = fmt_us(l->p50_us);
		row[c++] = fmt_us(l->p99_us);
		row[c++] = fmt_us(l->max_us);
		row[c++] = fmt_u64(l->pid);
		row[c++] = printable(l->pid || strcmp(l->comm, "-") ? l->comm : "-");
		table_add(&t, row);
	}
	table_print(&t);
	if (opt.hist) {
		for (size_t i = 0; i < n; i++) {
			const struct aq_listener *l = v[i];
			char *local = printable(l->local), *comm = printable(l->comm);

			printf("\nlistener %llu: %s %s, netns %llu, pid %llu %s\n",
			       (unsigned long long)l->id, aq_proto_name(l->proto),
			       local, (unsigned long long)l->netns,
			       (unsigned long long)l->pid, comm);
			print_hist("qlen: accept queue length seen by each arriving SYN",
				   l->qlen, AQUEUE_QLEN_BUCKETS, aq_qlen_low,
				   l->has_qlen);
			print_hist("wait_ns: time in the accept queue, ns (1K ~ 1us, 1M ~ 1ms, 1G ~ 1.07s)",
				   l->wait, AQUEUE_WAIT_BUCKETS, aq_wait_low,
				   l->has_wait);
			if (l->has_syn) {
				printf("syn queue: now %llu, full: %llu dropped, %llu answered with cookies; cookies sent %llu, SYN-ACKs resent %llu\n",
				       (unsigned long long)l->synq_now,
				       (unsigned long long)l->synq_full_drops,
				       (unsigned long long)l->synq_full_cookies,
				       (unsigned long long)l->syn_cookies,
				       (unsigned long long)l->synack_retrans);
				print_hist("synq: SYN queue length seen by each arriving SYN",
					   l->synq, AQUEUE_QLEN_BUCKETS,
					   aq_qlen_low, l->has_synq);
				print_hist("handshake_ns: SYN to final ACK, ns",
					   l->handshake, AQUEUE_WAIT_BUCKETS,
					   aq_wait_low, l->has_handshake);
			}
			if (l->has_udp) {
				printf("receive buffer: %llu of %llu bytes used, %llu datagrams dropped because it was full\n",
				       (unsigned long long)l->rmem_now,
				       (unsigned long long)l->backlog,
				       (unsigned long long)l->drops_rcvbuf);
				print_hist("qbytes: receive buffer bytes in use seen by each arriving datagram",
					   l->qbytes, AQUEUE_QLEN_BUCKETS,
					   aq_qlen_low, l->has_qbytes);
			}
			free(local);
			free(comm);
		}
	}
	free(v);
	free(h);
	return EX_OK;
}

/* ---- JSON ------------------------------------------------------------- */

static void json_str(const char *s)
{
	putchar('"');
	while (*s) {
		const unsigned char *u = (const unsigned char *)s;
		size_t n = utf8_len(u);

		if (*u == '"' || *u == '\\') {
			printf("\\%c", *u);
		} else if (*u < 0x20 || *u == 0x7f) {
			printf("\\u%04x", *u);
		} else if (!n) {
			fputs("\\ufffd", stdout);	/* not UTF-8 */
			n = 1;
		} else {
			fwrite(s, 1, n, stdout);
		}
		s += n ? n : 1;
	}
	putchar('"');
}

static void json_num(const char *key, uint64_t v, int more)
{
	printf("\"%s\": %llu%s", key, (unsigned long long)v, more ? ", " : "");
}

static void json_opt(const char *key, uint64_t v, int present)
{
	if (present && v != AQ_FIELD_UNSET)
		json_num(key, v, 1);
	else
		printf("\"%s\": null, ", key);
}

/* A table's fields of @base, each followed by ", " */
static void json_fields(const struct aq_field *f, const void *base)
{
	for (; f->key; f++)
		json_num(f->key, aq_field_get(base, f), 1);
}

static void json_hist(const char *key, const uint64_t *h, unsigned int n,
		      uint64_t (*low)(unsigned int), int present, int more)
{
	int first = 1;

	printf("\"%s\": ", key);
	if (!present) {
		printf("null%s", more ? ", " : "");
		return;
	}
	putchar('[');
	for (unsigned int i = 0; i < n; i++) {
		if (!h[i])
			continue;
		printf("%s{\"low\": %llu, \"count\": %llu}", first ? "" : ", ",
		       (unsigned long long)low(i), (unsigned long long)h[i]);
		first = 0;
	}
	printf("]%s", more ? ", " : "");
}

static int show_json(const struct aq_snapshot *s, const char *source)
{
	size_t n;
	const struct aq_listener **v = select_listeners(s, &n);

	printf("{\"format\": %llu, \"source\": ", (unsigned long long)s->format);
	json_str(source);
	printf(", \"malformed_lines\": %u,\n \"state\": ", s->malformed);
	if (s->has_state) {
		putchar('{');
		json_num("enabled", s->state.enabled, 1);
		json_num("tracked", s->state.tracked, 1);
		json_num("max_listeners", s->state.max_listeners, 1);
		json_num("untracked_listens", s->state.untracked_listens, 1);
		json_num("untracked_events", s->state.untracked_events, 1);
		json_num("filtered_events", s->state.filtered_events, 1);
		json_num("memory_bytes", s->state.memory_bytes, 1);
		json_num("max_memory_bytes", s->state.max_memory_bytes, 1);
		json_num("missed", s->state.missed, 1);
		json_num("resyncs", s->state.resyncs, 0);
		putchar('}');
	} else {
		fputs("null", stdout);
	}
	fputs(",\n \"closed\": ", stdout);
	if (s->has_closed) {
		putchar('{');
		json_num("listeners", s->closed.listeners, 1);
		json_num("enqueued", s->closed.enqueued, 1);
		json_num("accepted", s->closed.accepted, 1);
		json_num("drained", s->closed.drained, 1);
		json_num("drops", s->closed.drops, 0);
		putchar('}');
	} else {
		fputs("null", stdout);
	}
	fputs(",\n \"listeners\": [", stdout);
	for (size_t i = 0; i < n; i++) {
		const struct aq_listener *l = v[i];
		int d = l->has_detail;

		printf("%s\n  {", i ? "," : "");
		json_num("id", l->id, 1);
		json_num("netns", l->netns, 1);
		fputs("\"proto\": ", stdout);
		json_str(aq_proto_name(l->proto));
		fputs(", \"local\": ", stdout);
		json_str(l->local);
		fputs(", \"address\": ", stdout);
		json_str(l->addr);
		if (l->port >= 0)
			printf(", \"port\": %ld, ", l->port);
		else
			fputs(", \"port\": null, ", stdout);
		json_num("backlog", l->backlog, 1);
		json_num("qnow", l->qnow, 1);
		json_num("qpeak", l->qpeak, 1);
		json_num("enqueued", l->enqueued, 1);
		json_num("accepted", l->accepted, 1);
		json_num("drops", l->drops, 1);
		json_opt("p50_us", l->p50_us, 1);
		json_opt("p99_us", l->p99_us, 1);
		json_opt("max_us", l->max_us, 1);
		json_num("pid", l->pid, 1);
		fputs("\"comm\": ", stdout);
		json_str(l->comm);
		fputs(",\n   ", stdout);
		json_opt("drops_syn_acceptq", l->drops_syn_acceptq, d);
		json_opt("drops_ack_acceptq", l->drops_ack_acceptq, d);
		json_opt("drops_other", l->drops_other, d);
		json_opt("drained", l->drained, d);
		json_opt("untimed", l->untimed, d);
		json_opt("resynced", l->resynced, d);
		json_opt("observed_ns", l->observed_ns, d);
		json_opt("qlen_area_ns", l->qlen_area_ns, d);
		json_opt("wait_sum_ns", l->wait_sum_ns, d);
		json_opt("waited", l->waited, d);
		if (l->has_live) {	/* format 2 */
			json_num("hol_age_ns", l->hol_age_ns, 1);
			json_num("since_accept_ns", l->since_accept_ns, 1);
			json_num("since_drop_ns", l->since_drop_ns, 1);
			json_num("stalled", l->stalled, 1);
			json_num("overflowing", l->overflowing, 1);
		}
		fputs("\n   ", stdout);
		json_hist("qlen_hist", l->qlen, AQUEUE_QLEN_BUCKETS, aq_qlen_low,
			  l->has_qlen, 1);
		json_hist("wait_ns_hist", l->wait, AQUEUE_WAIT_BUCKETS,
			  aq_wait_low, l->has_wait, l->has_syn || l->has_udp);
		if (l->has_udp) {
			fputs("\n   ", stdout);
			json_fields(aq_udp_fields, l);
			json_hist("qbytes_hist", l->qbytes, AQUEUE_QLEN_BUCKETS,
				  aq_qlen_low, l->has_qbytes, 0);
		}
		if (l->has_syn) {
			fputs("\n   ", stdout);
			json_fields(aq_syn_fields, l);
			json_hist("synq_hist", l->synq, AQUEUE_QLEN_BUCKETS,
				  aq_qlen_low, l->has_synq, 1);
			json_hist("handshake_ns_hist", l->handshake,
				  AQUEUE_WAIT_BUCKETS, aq_wait_low,
				  l->has_handshake, 0);
		}
		putchar('}');
	}
	fputs(n ? "\n ]}\n" : "]}\n", stdout);
	free(v);
	return EX_OK;
}

/* ---- Prometheus ------------------------------------------------------- */

/* Label value: UTF-8 with \\, \" and \n escaped. */
static void prom_label(const char *name, const char *s, int more)
{
	printf("%s=\"", name);
	while (*s) {
		const unsigned char *u = (const unsigned char *)s;
		size_t n = utf8_len(u);

		if (*u == '\\')
			fputs("\\\\", stdout);
		else if (*u == '"')
			fputs("\\\"", stdout);
		else if (*u == '\n')
			fputs("\\n", stdout);
		else if (!n)
			fputs("\xef\xbf\xbd", stdout);	/* U+FFFD */
		else
			fwrite(s, 1, n, stdout);
		s += n ? n : 1;
	}
	printf("\"%s", more ? "," : "");
}

static void prom_labels(const struct aq_listener *l, const char *extra)
{
	char num[32];

	putchar('{');
	snprintf(num, sizeof(num), "%llu", (unsigned long long)l->id);
	prom_label("id", num, 1);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)l->netns);
	prom_label("netns", num, 1);
	prom_label("proto", aq_proto_name(l->proto), 1);
	prom_label("address", l->addr, 1);
	if (l->port >= 0)
		snprintf(num, sizeof(num), "%ld", l->port);
	else
		num[0] = '\0';
	prom_label("port", num, 1);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)l->pid);
	prom_label("pid", num, 1);
	prom_label("comm", l->comm, extra != NULL);
	if (extra)
		fputs(extra, stdout);
	putchar('}');
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

static void prom_family(const char *name, const char *type, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

enum lf {
	F_BACKLOG, F_QNOW, F_QPEAK, F_ENQ, F_ACC, F_DROPS, F_DSYN, F_DACK,
	F_DOTHER, F_DRAINED, F_UNTIMED, F_RESYNCED, F_OBSERVED, F_AREA,
	F_P50, F_P99, F_MAX,
};

static const struct {
	const char *name, *type, *help;
	int detail;	/* needs the detail line */
} lfam[] = {
	[F_BACKLOG] = { "aqueue_listener_backlog", "gauge", "The listener's backlog (sk_max_ack_backlog); the accept queue holds backlog+1 connections.", 0 },
	[F_QNOW] = { "aqueue_listener_queue_length", "gauge", "Connections in the accept queue now.", 0 },
	[F_QPEAK] = { "aqueue_listener_queue_peak", "gauge", "Longest accept queue seen since tracking began or the last reset.", 0 },
	[F_ENQ] = { "aqueue_listener_enqueued_total", "counter", "Connections that joined the accept queue.", 0 },
	[F_ACC] = { "aqueue_listener_accepted_total", "counter", "Connections taken from the accept queue by accept().", 0 },
	[F_DROPS] = { "aqueue_listener_drops_total", "counter", "Connection attempts the listener dropped (its sk_drops since tracking began).", 0 },
	[F_DSYN] = { "aqueue_listener_drops_syn_acceptq_total", "counter", "SYNs dropped because the accept queue was full.", 1 },
	[F_DACK] = { "aqueue_listener_drops_ack_acceptq_total", "counter", "Final ACKs dropped because the accept queue was full.", 1 },
	[F_DOTHER] = { "aqueue_listener_drops_other_total", "counter", "Drops for any other cause.", 1 },
	[F_DRAINED] = { "aqueue_listener_drained_total", "counter", "Connections still queued when the listener closed (0 for a live listener).", 1 },
	[F_UNTIMED] = { "aqueue_listener_untimed_total", "counter", "Connections accepted without a known enqueue time.", 1 },
	[F_RESYNCED] = { "aqueue_listener_resynced_total", "counter", "Times the listener was re-synchronised with the kernel's queue length.", 1 },
	[F_OBSERVED] = { "aqueue_listener_observed_seconds_total", "counter", "Time since tracking began or the last reset.", 1 },
	[F_AREA] = { "aqueue_listener_queue_length_area_seconds_total", "counter", "Integral of the accept queue length over time (connection-seconds); its rate is the average queue length.", 1 },
	[F_P50] = { "aqueue_listener_wait_p50_seconds", "gauge", "Upper edge of the wait histogram bucket holding the median time in queue.", 0 },
	[F_P99] = { "aqueue_listener_wait_p99_seconds", "gauge", "Upper edge of the wait histogram bucket holding the 99th percentile time in queue.", 0 },
	[F_MAX] = { "aqueue_listener_wait_max_seconds", "gauge", "Longest time in the accept queue seen.", 0 },
};

static int lfam_value(const struct aq_listener *l, enum lf f, char **out)
{
	uint64_t v;

	switch (f) {
	case F_BACKLOG: v = l->backlog; break;
	case F_QNOW: v = l->qnow; break;
	case F_QPEAK: v = l->qpeak; break;
	case F_ENQ: v = l->enqueued; break;
	case F_ACC: v = l->accepted; break;
	case F_DROPS: v = l->drops; break;
	case F_DSYN: v = l->drops_syn_acceptq; break;
	case F_DACK: v = l->drops_ack_acceptq; break;
	case F_DOTHER: v = l->drops_other; break;
	case F_DRAINED: v = l->drained; break;
	case F_UNTIMED: v = l->untimed; break;
	case F_RESYNCED: v = l->resynced; break;
	case F_OBSERVED: *out = ns_to_s(l->observed_ns); return 1;
	case F_AREA: *out = ns_to_s(l->qlen_area_ns); return 1;
	case F_P50: case F_P99: case F_MAX:
		v = f == F_P50 ? l->p50_us : f == F_P99 ? l->p99_us : l->max_us;
		if (v == AQ_FIELD_UNSET)
			return 0;
		if (v > UINT64_MAX / 1000)
			*out = xasprintf("%.9g", (double)v / 1e6);
		else
			*out = ns_to_s(v * 1000);
		return 1;
	default:
		return 0;
	}
	*out = fmt_u64(v);
	return 1;
}

static void prom_global(const char *name, const char *type, const char *help,
			uint64_t v)
{
	prom_family(name, type, help);
	printf("%s %llu\n", name, (unsigned long long)v);
}

static int show_prometheus(const struct aq_snapshot *s)
{
	size_t n;
	const struct aq_listener **v = select_listeners(s, &n);

	prom_global("aqueue_parse_malformed_lines", "gauge",
		    "Lines of /proc/aqueue that aqstat could not parse in this read.",
		    s->malformed);
	if (s->has_state) {
		const struct aq_state *st = &s->state;

		prom_global("aqueue_enabled", "gauge", "1 if aqueue's probes are registered.", st->enabled);
		prom_global("aqueue_tracked_listeners", "gauge", "Listeners tracked now.", st->tracked);
		prom_global("aqueue_max_listeners", "gauge", "Most listeners aqueue will track.", st->max_listeners);
		prom_global("aqueue_untracked_listens_total", "counter", "listen() calls not tracked because the limit was reached.", st->untracked_listens);
		prom_global("aqueue_untracked_events_total", "counter", "Queue events for listeners that could not be tracked.", st->untracked_events);
		prom_global("aqueue_filtered_events_total", "counter", "Queue events for listeners the control file's filters leave out.", st->filtered_events);
		prom_global("aqueue_memory_bytes", "gauge", "Bytes of listener state aqueue holds.", st->memory_bytes);
		prom_global("aqueue_max_memory_bytes", "gauge", "Most bytes of listener state aqueue will hold.", st->max_memory_bytes);
		prom_global("aqueue_probe_missed_total", "counter", "Probe hits the kernel reported as missed.", st->missed);
		prom_global("aqueue_resyncs_total", "counter", "Times listeners were re-synchronised with the kernel's queue length.", st->resyncs);
	}
	if (s->has_closed) {
		const struct aq_closed *c = &s->closed;

		prom_global("aqueue_closed_listeners_total", "counter", "Listeners closed since load or the last reset.", c->listeners);
		prom_global("aqueue_closed_enqueued_total", "counter", "Connections enqueued on listeners since closed.", c->enqueued);
		prom_global("aqueue_closed_accepted_total", "counter", "Connections accepted on listeners since closed.", c->accepted);
		prom_global("aqueue_closed_drained_total", "counter", "Connections still queued when their listener closed.", c->drained);
		prom_global("aqueue_closed_drops_total", "counter", "Drops on listeners since closed.", c->drops);
	}
	for (size_t f = 0; f < sizeof(lfam) / sizeof(lfam[0]); f++) {
		int header = 0;

		for (size_t i = 0; i < n; i++) {
			char *val;

			if (lfam[f].detail && !v[i]->has_detail)
				continue;
			if (!lfam_value(v[i], (enum lf)f, &val))
				continue;
			if (!header++)
				prom_family(lfam[f].name, lfam[f].type, lfam[f].help);
			fputs(lfam[f].name, stdout);
			prom_labels(v[i], NULL);
			printf(" %s\n", val);
			free(val);
		}
	}
	/* time in queue: bucket i holds [low(i), low(i+1)); le is inclusive,
	 * an approximation at the edges that the log2 layout cannot avoid */
	for (size_t i = 0, header = 0; i < n; i++) {
		const struct aq_listener *l = v[i];
		uint64_t cum = 0;
		const char *name = "aqueue_listener_wait_seconds";
		char *sum;

		if (!l->has_wait || !l->has_detail)
			continue;
		if (!header++)
			prom_family(name, "histogram",
				    "Time connections spent in the accept queue, enqueue to accept() (timed accepts only).");
		for (unsigned int b = 0; b < AQUEUE_WAIT_BUCKETS; b++) {
			char *le, *lab;

			cum += l->wait[b];
			le = b == AQUEUE_WAIT_BUCKETS - 1 ? xstrdup("+Inf")
							 : ns_to_s(aq_wait_low(b + 1));
			lab = xasprintf("le=\"%s\"", le);
			printf("%s_bucket", name);
			prom_labels(l, lab);
			printf(" %llu\n", (unsigned long long)cum);
			free(le);
			free(lab);
		}
		sum = ns_to_s(l->wait_sum_ns);
		printf("%s_sum", name);
		prom_labels(l, NULL);
		printf(" %s\n%s_count", sum, name);
		prom_labels(l, NULL);
		printf(" %llu\n", (unsigned long long)cum);
		free(sum);
	}
	/* queue length seen by each SYN: integer buckets, le = high - 1 */
	for (size_t i = 0, header = 0; i < n; i++) {
		const struct aq_listener *l = v[i];
		uint64_t cum = 0;
		const char *name = "aqueue_listener_queue_length_at_syn";

		if (!l->has_qlen)
			continue;
		if (!header++)
			prom_family(name, "histogram",
				    "Accept queue length seen by each arriving SYN. The module keeps no sum: _sum is NaN.");
		for (unsigned int b = 0; b < AQUEUE_QLEN_BUCKETS; b++) {
			char *lab;

			cum += l->qlen[b];
			if (b == AQUEUE_QLEN_BUCKETS - 1)
				lab = xstrdup("le=\"+Inf\"");
			else
				lab = xasprintf("le=\"%llu\"",
						(unsigned long long)(aq_qlen_low(b + 1) - 1));
			printf("%s_bucket", name);
			prom_labels(l, lab);
			printf(" %llu\n", (unsigned long long)cum);
			free(lab);
		}
		printf("%s_sum", name);
		prom_labels(l, NULL);
		printf(" NaN\n%s_count", name);
		prom_labels(l, NULL);
		printf(" %llu\n", (unsigned long long)cum);
	}
	free(v);
	return EX_OK;
}

/* ---- watch ------------------------------------------------------------ */

struct rates {
	double arrivals, accepts, drops;
	uint64_t p99_ns;	/* AQ_FIELD_UNSET: nothing timed */
	int p99_top;		/* in the open-ended last bucket */
};

static const struct aq_listener *match(const struct aq_snapshot *s,
				       const struct aq_listener *l)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct aq_listener *p = &s->l[i];

		if (p->id == l->id && p->netns == l->netns &&
		    p->proto == l->proto && !strcmp(p->local, l->local))
			return p;
	}
	return NULL;
}

static void interval_rates(const struct aq_listener *l,
			   const struct aq_listener *p, double wall_s,
			   struct rates *r)
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
}

static void watch_frame(const struct aq_snapshot *s, const struct aq_snapshot *prev,
			double wall_s, long frame)
{
	static const char *hdr[] = {
		"ID", "NETNS", "PROTO", "LOCAL", "QUEUE", "STATE", "PEAK",
		"ARRIVALS/s", "ACCEPTS/s", "DROPS/s", "P99", "PID", "COMM",
	};
	size_t n;
	const struct aq_listener **v = select_listeners(s, &n);
	int netns = distinct_netns(v, n), state = any_live_state(v, n);
	struct table t = { 0 };
	const char *h[13];
	char align[13], when[32];
	time_t now = time(NULL);
	int nc = 0;

	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	qsort(v, n, sizeof(*v), by_saturation);
	printf("aqstat -w %g  %s  frame %ld", opt.interval, when, frame);
	if (s->has_state) {
		printf("  %s  tracked %llu", s->state.enabled ? "enabled" : "DISABLED",
		       (unsigned long long)s->state.tracked);
		if (prev && prev->has_state)
			printf("  missed +%llu  untracked +%llu",
			       (unsigned long long)(s->state.missed - prev->state.missed),
			       (unsigned long long)(s->state.untracked_events -
						    prev->state.untracked_events));
		else
			printf("  missed %llu", (unsigned long long)s->state.missed);
	}
	printf("\n%s\n", prev ? "per-second rates over the last interval"
			      : "first frame: rates since tracking began (or the last reset)");
	for (int i = 0; i < 13; i++) {
		if ((i == 1 && !netns) || (i == 5 && !state))
			continue;
		h[nc] = hdr[i];
		align[nc++] = (i == 2 || i == 3 || i == 5 || i == 12) ? 'l' : 'r';
	}
	t.ncols = nc;
	t.hdr = h;
	t.align = align;
	for (size_t i = 0; i < n; i++) {
		const struct aq_listener *l = v[i];
		struct rates r;
		char *row[13];
		int c = 0;

		interval_rates(l, prev ? match(prev, l) : NULL, wall_s, &r);
		row[c++] = fmt_u64(l->id);
		if (netns)
			row[c++] = fmt_u64(l->netns);
		row[c++] = xstrdup(aq_proto_name(l->proto));
		row[c++] = printable(l->local);
		row[c++] = fmt_queue(l);
		if (state)
			row[c++] = xstrdup(live_state(l));
		row[c++] = fmt_u64(l->qpeak);
		row[c++] = fmt_rate(r.arrivals);
		row[c++] = fmt_rate(r.accepts);
		row[c++] = fmt_rate(r.drops);
		if (r.p99_ns == AQ_FIELD_UNSET) {
			row[c++] = xstrdup("-");
		} else {
			char *x = fmt_ns(r.p99_ns);

			row[c++] = r.p99_top ? xasprintf(">%s", x) : xstrdup(x);
			free(x);
		}
		row[c++] = fmt_u64(l->pid);
		row[c++] = printable(l->comm);
		table_add(&t, row);
	}
	if (n)
		table_print(&t);
	else
		printf(s->n ? "no listener matches the filters\n" : "no listeners tracked\n");
	free(v);
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int watch(void)
{
	struct aq_snapshot cur, prev;
	int have_prev = 0, tty = isatty(STDOUT_FILENO);
	double start = mono(), last = start;
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (long frame = 1; !opt.count || frame <= opt.count; frame++) {
		const char *file = opt.nfiles ?
			opt.files[frame - 1 < opt.nfiles ? frame - 1 : opt.nfiles - 1] : NULL;
		double now;

		load(file, &cur);
		now = mono();
		if (tty)
			fputs("\033[H\033[2J", stdout);
		else if (frame > 1)
			putchar('\n');
		watch_frame(&cur, have_prev ? &prev : NULL, now - last, frame);
		if (fflush(stdout) == EOF || ferror(stdout))
			die(EX_ERR, "writing output: %s", strerror(errno));
		if (have_prev)
			aq_snapshot_free(&prev);
		prev = cur;
		have_prev = 1;
		last = now;
		if (opt.count && frame == opt.count)
			break;
		next.tv_sec += (time_t)opt.interval;
		next.tv_nsec += (long)((opt.interval - (double)(time_t)opt.interval) * 1e9);
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
	if (have_prev)
		aq_snapshot_free(&prev);
	return EX_OK;
}

/* ---- ctl -------------------------------------------------------------- */

static int ctl(int argc, char **argv)
{
	const char *env = getenv("AQSTAT_CONTROL");
	const char *dbg = getenv("AQSTAT_DEBUGFS");
	char *path, *buf;
	size_t len = 0;
	struct statfs sfs;
	int fd, e;

	if (argc > 0 && (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help"))) {
		printf("usage: aqstat ctl [WORD...]\n"
		       "Writes the words, joined by spaces, as one line to the control file\n"
		       "(one write); with no words prints it. Commands are documented in\n"
		       "README.md, e.g. 'aqstat ctl enable', 'aqstat ctl reset'.\n");
		return EX_OK;
	}
	if (env && *env) {
		path = xstrdup(env);	/* explicit: no root or mount checks */
	} else {
		if (!dbg || !*dbg)
			dbg = DEFAULT_DEBUGFS;
		if (geteuid() != 0)
			die(EX_PERM, "ctl needs root: the control file %s/%s/%s is root only (try sudo)",
			    dbg, AQUEUE_DEBUGFS_DIR, AQUEUE_CONTROL_NAME);
		if (statfs(dbg, &sfs) || sfs.f_type != DEBUGFS_MAGIC_NR)
			die(EX_NODEBUGFS, "debugfs is not mounted on %s.\nMount it with: mount -t debugfs none %s",
			    dbg, dbg);
		path = xasprintf("%s/%s/%s", dbg, AQUEUE_DEBUGFS_DIR, AQUEUE_CONTROL_NAME);
	}
	fd = open(path, (argc ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == ENOENT && !(env && *env)) {
			if (!access(proc_path(), F_OK))
				die(EX_NODEBUGFS, "%s is missing although %s exists: the module could not create its debugfs files (see dmesg)",
				    path, proc_path());
			die(EX_NOMODULE, "%s does not exist: the aqueue module is not loaded.\n"
			    "Load it with 'modprobe aqueue' (installed) or 'insmod aqueue.ko' (built tree).",
			    path);
		}
		if (e == EACCES || e == EPERM)
			die(EX_PERM, "cannot open %s: %s (root only; kernel lockdown also restricts debugfs)",
			    path, strerror(e));
		die(EX_ERR, "cannot open %s: %s", path, strerror(e));
	}
	if (!argc) {
		char chunk[4096];
		ssize_t r;

		while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
			if (r < 0) {
				if (errno == EINTR)
					continue;
				die(EX_ERR, "reading %s: %s", path, strerror(errno));
			}
			if (fwrite(chunk, 1, (size_t)r, stdout) != (size_t)r)
				die(EX_ERR, "writing output: %s", strerror(errno));
		}
		close(fd);
		free(path);
		return EX_OK;
	}
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	buf = xmalloc(len + 1);
	buf[0] = '\0';
	for (int i = 0; i < argc; i++) {
		strcat(buf, argv[i]);
		strcat(buf, i == argc - 1 ? "\n" : " ");
	}
	for (;;) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		e = errno;
		buf[len - 1] = '\0';	/* for the messages */
		if (w < 0 && e == EINVAL)
			die(EX_REFUSED, "the module refused '%s' (EINVAL: unknown word, missing or out-of-range argument); nothing was changed",
			    buf);
		if (w < 0 && e == E2BIG)
			die(EX_REFUSED, "the module refused '%s' (E2BIG: the command is too long); nothing was changed",
			    buf);
		if (w < 0 && e == ENOENT)
			die(EX_REFUSED, "the module refused '%s' (ENOENT: no listener has that id); nothing was changed",
			    buf);
		if (w < 0 && (e == EPERM || e == EACCES))
			die(EX_PERM, "writing %s: %s", path, strerror(e));
		if (w < 0)
			die(EX_ERR, "writing %s: %s", path, strerror(e));
		if ((size_t)w != len)
			die(EX_ERR, "writing %s: short write (%zd of %zu bytes)", path, w, len);
		break;
	}
	if (close(fd))
		die(EX_ERR, "closing %s: %s", path, strerror(errno));
	free(buf);
	free(path);
	return EX_OK;
}

/* ---- events ----------------------------------------------------------- */

static int events_raw;

/* AQSTAT_EVENTS names a saved stream (read to its end) instead. */
static int events_from_file(void)
{
	const char *env = getenv("AQSTAT_EVENTS");

	return env && *env;
}

static const char *events_path(void)
{
	return events_from_file() ? getenv("AQSTAT_EVENTS") :
				    "/proc/" AQUEUE_EVENTS_PROC_NAME;
}

/* What the event says beyond its name, for a person. */
static char *event_detail(const struct aq_event_line *e)
{
	char *a, *b, *d;

	if (!strcmp(e->event, "open"))
		return xstrdup("listening");
	if (!strcmp(e->event, "close"))
		return xstrdup("closed");
	if (!strcmp(e->event, "overflow"))
		return e->drops > 1 ?
			xasprintf("dropping (%llu at once)", (unsigned long long)e->drops) :
			xstrdup("dropping");
	if (!strcmp(e->event, "overflow_end")) {
		a = fmt_ns(e->duration_ns);
		d = xasprintf("%llu drop%s in %s", (unsigned long long)e->drops,
			      e->drops == 1 ? "" : "s", a);
		free(a);
		return d;
	}
	if (!strcmp(e->event, "stall")) {
		a = fmt_ns(e->hol_age_ns);
		b = fmt_ns(e->since_accept_ns);
		d = xasprintf("head waiting %s, no accept for %s", a, b);
		free(a);
		free(b);
		return d;
	}
	if (!strcmp(e->event, "recover")) {
		a = fmt_ns(e->stalled_ns);
		d = xasprintf("accepting again after %s stalled", a);
		free(a);
		return d;
	}
	return xstrdup("");
}

static void event_print(const struct aq_event_line *e, const char *raw,
			double mono_to_real, uint64_t own_netns)
{
	char when[32], queue[48], *detail, *local, *comm;
	double t = (double)e->ts_ns / 1e9 + mono_to_real;
	time_t sec = (time_t)t;
	struct tm tm;

	if (events_raw) {
		printf("%s\n", raw);
		return;
	}
	localtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	if (!strcmp(e->event, "lost")) {
		printf("%s.%03d  %-12s %llu events lost: this reader was too slow\n",
		       when, (int)((t - (double)sec) * 1000), "lost",
		       (unsigned long long)e->lost);
		return;
	}
	detail = event_detail(e);
	local = printable(e->local);
	comm = printable(e->comm);
	snprintf(queue, sizeof(queue), "%llu/%llu", (unsigned long long)e->qnow,
		 (unsigned long long)e->backlog);
	printf("%s.%03d  %-12s %-5s %-22s %9s %7llu %-15s %s",
	       when, (int)((t - (double)sec) * 1000), e->event,
	       aq_proto_name(e->proto), local, queue,
	       (unsigned long long)e->pid, comm, detail);
	if (e->netns != own_netns)
		printf(" [netns %llu]", (unsigned long long)e->netns);
	putchar('\n');
	free(detail);
	free(local);
	free(comm);
}

/* Follows the event stream until it ends, or COUNT events were shown. */
static int events(void)
{
	const char *path = events_path();
	struct aq_listener filt;
	struct timespec mono, real;
	uint64_t own_netns = 0;
	size_t len = 0, cap = 1 << 16;
	char *buf = xmalloc(cap + 1);
	long shown = 0;
	struct stat st;
	double offset;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		if (e == ENOENT && !events_from_file())
			die(EX_NOMODULE, "%s does not exist: the aqueue module is not loaded.\n"
			    "Load it with 'modprobe aqueue' (installed) or 'insmod aqueue.ko' (built tree).",
			    path);
		if (e == EACCES || e == EPERM)
			die(EX_PERM, "cannot open %s: %s (root only: try sudo)", path, strerror(e));
		die(EX_ERR, "cannot open %s: %s", path, strerror(e));
	}
	if (!stat("/proc/self/ns/net", &st))
		own_netns = st.st_ino;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	offset = (double)(real.tv_sec - mono.tv_sec) +
		 (double)(real.tv_nsec - mono.tv_nsec) / 1e9;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!events_raw)
		printf("%-12s  %-12s %-5s %-22s %9s %7s %-15s %s\n", "TIME",
		       "EVENT", "PROTO", "LOCAL", "QUEUE", "PID", "COMM", "WHAT");
	for (;;) {
		ssize_t r = read(fd, buf + len, cap - len);
		char *p, *nl;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die(EX_ERR, "reading %s: %s", path, strerror(errno));
		if (r == 0) {
			if (!events_from_file())
				fprintf(stderr, "aqstat: %s ended: the module was unloaded\n", path);
			break;
		}
		len += (size_t)r;
		buf[len] = '\0';
		p = buf;
		while ((nl = memchr(p, '\n', len - (size_t)(p - buf)))) {
			struct aq_event_line e;
			const char *why;

			*nl = '\0';
			if (aq_event_parse(p, &e, &why)) {
				fprintf(stderr, "aqstat: %s: %s: line ignored: %.200s\n", path, why, p);
				if (opt.strict)
					die(EX_MALFORMED, "malformed event line (--strict)");
				p = nl + 1;
				continue;
			}
			memset(&filt, 0, sizeof(filt));
			filt.proto = e.proto;
			filt.port = e.port;
			filt.netns = e.netns;
			if (!strcmp(e.event, "lost") || wanted(&filt)) {
				event_print(&e, p, offset, own_netns);
				if (opt.count && ++shown >= opt.count) {
					close(fd);
					free(buf);
					return EX_OK;
				}
			}
			p = nl + 1;
		}
		len -= (size_t)(p - buf);
		memmove(buf, p, len);
		if (len == cap)
			len = 0;	/* a line longer than the buffer: dropped */
	}
	close(fd);
	free(buf);
	return EX_OK;
}

/* ---- main ------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
"usage: aqstat [OPTIONS]            the listeners, most saturated first\n"
"       aqstat -w SECONDS [-n COUNT] watch: per-interval rates, redrawn in place\n"
"       aqstat -j | --prometheus     JSON, or Prometheus text (node_exporter textfile)\n"
"       aqstat ctl [WORD...]         write a command to the control file, or print it\n"
"       aqstat events [-n COUNT]     follow the event stream (stalls, drop bursts, ...)\n"
"\n"
"Reads %s (format %d) from the aqueue kernel module.\n"
"\n"
"Output:\n"
"  -H, --histograms      add each listener's histograms (queue length, time in queue)\n"
"  -w, --watch SECONDS   refresh every SECONDS (may be fractional), show deltas\n"
"  -n, --count COUNT     stop after COUNT frames (implies -w 1 without -w)\n"
"  -j, --json            one JSON object: state, closed totals, listeners, histograms\n"
"      --prometheus      Prometheus text exposition format\n"
"Filters (repeatable; kinds and families combine with OR):\n"
"  -p, --port PORT       local port\n"
"  -t, --tcp             TCP (tcp and tcp6)\n"
"  -u, --udp             UDP (udp and udp6)\n"
"  -x, --unix            unix domain\n"
"  -4, --ipv4            IPv4 only\n"
"  -6, --ipv6            IPv6 only\n"
"      --netns INODE     network namespace (inode, as in ls -Li /proc/PID/ns/net)\n"
"aqstat events:\n"
"  -n, --count COUNT     exit after COUNT events\n"
"      --raw             the module's lines as they are (CLOCK_MONOTONIC timestamps)\n"
"Input:\n"
"  -f, --file PATH       read a saved copy instead of %s; repeat for -w:\n"
"                        frame N reads the Nth file (the last one repeats)\n"
"      --strict          treat malformed lines as fatal (exit 8)\n"
"  -h, --help            this help;  -V, --version  the version\n"
"\n"
"Exit status: 0 ok, 1 error, 2 usage, 3 module not loaded, 4 unknown format,\n"
"5 debugfs not mounted, 6 not root / permission denied, 7 command refused by\n"
"the module, 8 malformed input with --strict. See aqstat(8).\n",
		DEFAULT_PROC, AQUEUE_FORMAT_VERSION, DEFAULT_PROC);
}

static uint64_t arg_u64(const char *what, const char *s, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!*s || *end || errno || *s == '-' || *s == '+' || v > max)
		die(EX_USAGE, "bad %s '%s'", what, s);
	return v;
}

int main(int argc, char **argv)
{
	enum { O_PROM = 256, O_NETNS, O_STRICT, O_RAW };
	int events_mode = 0;
	static const struct option longopts[] = {
		{ "histograms", no_argument, NULL, 'H' },
		{ "watch", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, O_PROM },
		{ "port", required_argument, NULL, 'p' },
		{ "tcp", no_argument, NULL, 't' },
		{ "udp", no_argument, NULL, 'u' },
		{ "unix", no_argument, NULL, 'x' },
		{ "ipv4", no_argument, NULL, '4' },
		{ "ipv6", no_argument, NULL, '6' },
		{ "netns", required_argument, NULL, O_NETNS },
		{ "file", required_argument, NULL, 'f' },
		{ "strict", no_argument, NULL, O_STRICT },
		{ "raw", no_argument, NULL, O_RAW },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct aq_snapshot s;
	const char *cs;
	struct winsize ws;
	int c, ret;

	setlocale(LC_CTYPE, "");
	cs = nl_langinfo(CODESET);
	utf8 = cs && (!strcasecmp(cs, "UTF-8") || !strcasecmp(cs, "utf8"));
	micro = utf8 ? "\xc2\xb5" : "u";

	if (argc > 1 && !strcmp(argv[1], "ctl"))
		return ctl(argc - 2, argv + 2);
	if (argc > 1 && !strcmp(argv[1], "events")) {
		events_mode = 1;
		argv[1] = argv[0];
		argv++;
		argc--;
	}

	opt.files = xmalloc((size_t)argc * sizeof(*opt.files));
	while ((c = getopt_long(argc, argv, "Hw:n:jp:tux46f:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'H': opt.hist = 1; break;
		case 'w': {
			char *end;

			errno = 0;
			opt.interval = strtod(optarg, &end);
			if (!*optarg || *end || errno || !(opt.interval >= 0.01) ||
			    opt.interval > 86400)
				die(EX_USAGE, "bad interval '%s' (seconds, 0.01 to 86400)", optarg);
			break;
		}
		case 'n':
			opt.count = (long)arg_u64("count", optarg, 1000000000);
			if (!opt.count)
				die(EX_USAGE, "bad count '0'");
			break;
		case 'j': opt.json = 1; break;
		case O_PROM: opt.prom = 1; break;
		case 'p':
			if (opt.nports == 64)
				die(EX_USAGE, "too many -p");
			opt.ports[opt.nports++] = (long)arg_u64("port", optarg, 65535);
			break;
		case 't': opt.kind_tcp = 1; break;
		case 'u': opt.kind_udp = 1; break;
		case 'x': opt.kind_unix = 1; break;
		case '4': opt.fam4 = 1; break;
		case '6': opt.fam6 = 1; break;
		case O_NETNS:
			if (opt.nnetns == 64)
				die(EX_USAGE, "too many --netns");
			opt.netns[opt.nnetns++] = arg_u64("netns inode", optarg, UINT64_MAX);
			break;
		case 'f': opt.files[opt.nfiles++] = optarg; break;
		case O_STRICT: opt.strict = 1; break;
		case O_RAW: events_raw = 1; break;
		case 'h': usage(stdout); return EX_OK;
		case 'V':
			printf("aqstat %s (reads /proc/aqueue format %d)\n", AQSTAT_VERSION,
			       AQUEUE_FORMAT_VERSION);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc)
		die(EX_USAGE, "unexpected argument '%s' (commands: ctl, events; see --help)", argv[optind]);
	if (events_mode) {
		if (opt.interval > 0 || opt.json || opt.prom || opt.hist || opt.nfiles)
			die(EX_USAGE, "events takes the filters, -n COUNT, --raw and --strict only");
		ret = events();
		if (fflush(stdout) == EOF || ferror(stdout))
			die(EX_ERR, "writing output: %s", strerror(errno));
		free(opt.files);
		return ret;
	}
	if (events_raw)
		die(EX_USAGE, "--raw is for aqstat events");
	if (opt.json && opt.prom)
		die(EX_USAGE, "-j and --prometheus are exclusive");
	if (opt.count && opt.interval == 0)
		opt.interval = 1;
	if (opt.interval > 0 && (opt.json || opt.prom || opt.hist))
		die(EX_USAGE, "-w does not combine with -j, --prometheus or -H");
	if ((opt.json || opt.prom) && opt.hist)
		die(EX_USAGE, "-H is for the table; -j and --prometheus always include the histograms");

	if (getenv("COLUMNS"))
		out_width = atoi(getenv("COLUMNS"));
	else if (isatty(STDOUT_FILENO) && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws))
		out_width = ws.ws_col;
	if (out_width < 0)
		out_width = 0;

	if (opt.interval > 0)
		ret = watch();
	else {
		if (opt.nfiles > 1)
			die(EX_USAGE, "several --file are only for -w");
		load(opt.nfiles ? opt.files[0] : NULL, &s);
		if (opt.json)
			ret = show_json(&s, opt.nfiles ? opt.files[0] : proc_path());
		else if (opt.prom)
			ret = show_prometheus(&s);
		else
			ret = show_table(&s);
		aq_snapshot_free(&s);
	}
	if (fflush(stdout) == EOF || ferror(stdout))
		die(EX_ERR, "writing output: %s", strerror(errno));
	free(opt.files);
	return ret;
}
