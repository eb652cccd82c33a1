// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzzing the control file: at least 100,000 writes of random bytes,
 * random words, valid batches of every command and mutations of them
 * (huge, negative and malformed numbers, NULs, bytes that are not
 * printable ASCII, overlong lines and writes, more than 64 commands,
 * lines cut across two writes on one open file).
 *
 * The oracle is the test's own model of the grammar doc/interface.md
 * documents ("The control file"), written from the documentation and not
 * from module/control.c: for every write it predicts "taken" or the set
 * of errnos a refusal may carry (EINVAL, E2BIG, ENOENT for `reset ID` of
 * an unknown id), and the state every taken write leads to. After every
 * taken write the control file is read back and compared with the model
 * (enabled, max_listeners, max_memory, the four filter lines, udp_ports
 * and whether the UDP probes are registered, stall_threshold_ms,
 * burst_gap_ms, drop_log); every 256 writes, and whenever the model says
 * a row came or went, /proc/aqueue (the state line and the row of a
 * listener of the test's own that has queued, accepted and dropped
 * connections to lose) and the module parameters in sysfs are compared
 * too. A refused write must change nothing, which the next read-back
 * checks. Nothing sends a datagram meanwhile, so a watched UDP port adds
 * no row.
 *
 * Where the documentation leaves a form open (the lowercase k/m/g of the
 * kernel's memparse(), a max_memory above LONG_MAX but within unsigned
 * long, a comment line that starts with blanks), the model accepts either
 * answer but holds a taken write to the lenient reading; how the module
 * answered is counted and printed.
 *
 * The run is deterministic for a seed: it is printed, and AQ_SEED=N
 * replays it. AQ_FUZZ_INPUTS changes the number of writes.
 */
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>

#include "kselftest_harness.h"

#include "aq_clock.h"
#include "aq_ctl.h"
#include "aq_diag.h"
#include "aq_fill.h"
#include "aq_fixture.h"
#include "aq_module.h"
#include "aq_netns.h"
#include "aq_proc.h"
#include "aq_rng.h"
#include "aq_snap.h"
#include "aq_sock.h"
#include "aq_text.h"

#define AQ_FUZZ_INPUTS 100000
#define AQ_MAX_CMDS 64
#define AQ_MAX_PORTS 16		/* filter port */
#define AQ_MAX_UDP_PORTS 64
#define AQ_MEM_MIN 65536ULL
#define AQ_LISTENERS_MAX 16777216ULL
#define AQ_WATCH_MS_MAX 86400000ULL
#define AQ_TOGGLES 8		/* real enable/disable flips: each costs ~0.5 s */
/* udp_ports naming the first port, or none, while enabled: the UDP probes
 * are registered or unregistered. */
#define AQ_UDP_TOGGLES 8

#define F_EINVAL (1 << 0)
#define F_E2BIG (1 << 1)
#define F_ENOENT (1 << 2)

enum {
	V_ENABLE, V_DISABLE, V_RESET, V_RESET_ID, V_FILTER, V_MAXL, V_MAXM,
	V_UDP_PORTS, V_STALL, V_BURST_GAP, V_DROP_LOG,
};
enum { K_PORT, K_NETNS, K_FAMILY, K_KIND };
enum { FAM_ANY, FAM_V4, FAM_V6 };
enum { KIND_ANY, KIND_TCP, KIND_UNIX, KIND_UDP };

/* The words of filter family and filter kind, by the values above. */
static const char *const family_words[] = { "any", "ipv4", "ipv6" };
static const char *const kind_words[] = { "any", "tcp", "unix", "udp" };

struct fcmd {
	int verb, key;
	int nports;		/* filter port, udp_ports */
	unsigned int ports[AQ_MAX_UDP_PORTS];
	unsigned long long val;
};

/* What the model says of one write. */
struct verdict {
	unsigned int bad;	/* F_* of the rules it breaks */
	int amb;		/* forms the documentation leaves open */
	int amb_lower, amb_bigmem, amb_comment;
	int n;
	struct fcmd cmd[AQ_MAX_CMDS + 1];
};

struct model {
	bool enabled, stale;
	unsigned long long max_listeners, max_memory;
	int nports;
	unsigned int ports[AQ_MAX_PORTS];
	unsigned long long netns;	/* 0: any */
	int family, kind;
	int nudp;
	unsigned int udp[AQ_MAX_UDP_PORTS];	/* ascending, each once */
	unsigned long long stall_ms, burst_gap_ms, drop_log;
	/* The test's listener and its row. */
	int64_t my_netns;
	unsigned int my_port;
	bool row;
	int64_t id;
	bool zeroed;
	int64_t enqueued, accepted, drops, qnow, qpeak;
};

/* ------------------------------------------------------------------ */
/* The model of the documented grammar                                */

/*
 * A decimal number: digits only (no sign). Returns 0 and the value, 1 on
 * overflow of 64 bits (a number, but too large for any field), -1 when not
 * a number.
 */
static int num(const char *w, unsigned long long *v)
{
	unsigned long long x = 0;
	const char *p = w;

	if (!*p)
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (x > (ULLONG_MAX - (*p - '0')) / 10) {
			/* Still a number, just too large: check the rest. */
			for (; *p; p++)
				if (*p < '0' || *p > '9')
					return -1;
			return 1;
		}
		x = x * 10 + (*p - '0');
	}
	*v = x;
	return 0;
}

/* A number in [lo, hi]; false (and EINVAL) otherwise. */
static bool num_in(struct verdict *e, const char *w, unsigned long long lo,
		   unsigned long long hi, unsigned long long *v)
{
	int r = num(w, v);

	if (r || *v < lo || *v > hi) {
		e->bad |= F_EINVAL;
		return false;
	}
	return true;
}

static void eval_max_memory(struct verdict *e, const char *w,
			    struct fcmd *c)
{
	char digits[4096];
	size_t len = strlen(w);
	unsigned int shift = 0;
	unsigned long long v;
	int r;

	if (!len || len >= sizeof(digits)) {
		e->bad |= F_EINVAL;
		return;
	}
	memcpy(digits, w, len + 1);
	switch (digits[len - 1]) {
	case 'k': case 'm': case 'g':
		/* memparse() takes them; the documentation names K, M, G. */
		e->amb++;
		e->amb_lower++;
		digits[len - 1] -= 'a' - 'A';
		/* fallthrough */
	case 'K': case 'M': case 'G':
		shift = digits[len - 1] == 'K' ? 10 :
			digits[len - 1] == 'M' ? 20 : 30;
		digits[--len] = '\0';
	}
	r = num(digits, &v);
	if (r || (shift && v > (ULLONG_MAX >> shift))) {
		e->bad |= F_EINVAL;
		return;
	}
	v <<= shift;
	if (v < AQ_MEM_MIN) {
		e->bad |= F_EINVAL;
		return;
	}
	/* Fits unsigned long, the parameter's type, but not a long. */
	if (v > (unsigned long long)LONG_MAX) {
		e->amb++;
		e->amb_bigmem++;
	}
	c->val = v;
}

/* w, one of the n words, sets *val to its index. */
static void one_of(struct verdict *e, const char *w, const char *const *words,
		   size_t n, unsigned long long *val)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!strcmp(w, words[i])) {
			*val = i;
			return;
		}
	}
	e->bad |= F_EINVAL;
}

/* A list of ports of filter port or udp_ports, or the word for none. */
static void eval_ports(struct verdict *e, const char *w, const char *none,
		       int max, struct fcmd *c)
{
	char list[4096], *p, *tok;

	if (!strcmp(w, none))
		return;
	snprintf(list, sizeof(list), "%s", w);
	p = list;
	while ((tok = strsep(&p, ","))) {
		unsigned long long v;

		if (c->nports == max) {
			e->bad |= F_EINVAL;
			return;
		}
		if (!num_in(e, tok, 1, 65535, &v))
			return;
		c->ports[c->nports++] = v;
	}
}

static void eval_filter(struct verdict *e, char **w, struct fcmd *c)
{
	c->verb = V_FILTER;
	if (!strcmp(w[1], "port")) {
		c->key = K_PORT;
		eval_ports(e, w[2], "any", AQ_MAX_PORTS, c);
	} else if (!strcmp(w[1], "netns")) {
		c->key = K_NETNS;
		if (strcmp(w[2], "any"))
			num_in(e, w[2], 1, UINT32_MAX, &c->val);
	} else if (!strcmp(w[1], "family")) {
		c->key = K_FAMILY;
		one_of(e, w[2], family_words, ARRAY_SIZE(family_words),
		       &c->val);
	} else if (!strcmp(w[1], "kind")) {
		c->key = K_KIND;
		one_of(e, w[2], kind_words, ARRAY_SIZE(kind_words), &c->val);
	} else {
		e->bad |= F_EINVAL;
	}
}

/* One command line, blanks trimmed, not empty, not a comment. */
static void eval_line(struct verdict *e, char *line, const struct model *m)
{
	char *w[8], *p = line;
	struct fcmd *c;
	int n = 0;

	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (n == 8) {
			e->bad |= F_EINVAL;
			return;
		}
		w[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = '\0';
	}
	if (e->n == AQ_MAX_CMDS) {
		/* More than 64 commands: the documentation gives no errno. */
		e->bad |= F_E2BIG | F_EINVAL;
		return;
	}
	c = &e->cmd[e->n++];
	memset(c, 0, sizeof(*c));
	if (!strcmp(w[0], "enable") && n == 1) {
		c->verb = V_ENABLE;
	} else if (!strcmp(w[0], "disable") && n == 1) {
		c->verb = V_DISABLE;
	} else if (!strcmp(w[0], "reset") && n == 1) {
		c->verb = V_RESET;
	} else if (!strcmp(w[0], "reset") && n == 2) {
		int r = num(w[1], &c->val);

		c->verb = V_RESET_ID;
		if (r < 0) {
			e->bad |= F_EINVAL;
		} else if (r > 0 || c->val == 0 || c->val > UINT32_MAX) {
			/* A number no id can be: "none with that id" or
			 * "not a valid id" are both fair. */
			e->bad |= F_EINVAL | F_ENOENT;
		} else {
			/* The check is against the table before the write. */
			if (!(m->row && (int64_t)c->val == m->id))
				e->bad |= F_ENOENT;
		}
	} else if (!strcmp(w[0], "filter") && n == 3) {
		eval_filter(e, w, c);
	} else if (!strcmp(w[0], "max_listeners") && n == 2) {
		c->verb = V_MAXL;
		num_in(e, w[1], 1, AQ_LISTENERS_MAX, &c->val);
	} else if (!strcmp(w[0], "max_memory") && n == 2) {
		c->verb = V_MAXM;
		eval_max_memory(e, w[1], c);
	} else if (!strcmp(w[0], "udp_ports") && n == 2) {
		c->verb = V_UDP_PORTS;
		eval_ports(e, w[1], "none", AQ_MAX_UDP_PORTS, c);
	} else if (!strcmp(w[0], "stall_threshold_ms") && n == 2) {
		c->verb = V_STALL;
		num_in(e, w[1], 1, AQ_WATCH_MS_MAX, &c->val);
	} else if (!strcmp(w[0], "burst_gap_ms") && n == 2) {
		c->verb = V_BURST_GAP;
		num_in(e, w[1], 1, AQ_WATCH_MS_MAX, &c->val);
	} else if (!strcmp(w[0], "drop_log") && n == 2) {
		c->verb = V_DROP_LOG;
		num_in(e, w[1], 0, 1, &c->val);
	} else {
		e->bad |= F_EINVAL;
	}
}

static void evaluate(const char *buf, size_t len, const struct model *m,
		     struct verdict *e)
{
	static char text[1 << 21];
	long page = sysconf(_SC_PAGESIZE);
	char *p, *line;
	size_t i;

	memset(e, 0, offsetof(struct verdict, cmd));
	if ((long)len >= page)
		e->bad |= F_E2BIG;
	if (!len || buf[len - 1] != '\n')
		e->bad |= F_EINVAL;
	for (i = 0; i < len; i++) {
		unsigned char ch = buf[i];

		if ((ch < 0x20 || ch > 0x7e) && ch != '\n' && ch != '\t') {
			e->bad |= F_EINVAL;
			break;
		}
	}
	if (e->bad || len >= sizeof(text))
		return;
	memcpy(text, buf, len);
	text[len] = '\0';
	p = text;
	while ((line = strsep(&p, "\n"))) {
		char *end, *start = line;

		while (*line == ' ' || *line == '\t')
			line++;
		end = line + strlen(line);
		while (end > line && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (!*line)
			continue;
		if (*line == '#') {
			if (line != start) {
				/* Blanks before the '#': a comment? */
				e->amb++;
				e->amb_comment++;
			}
			continue;
		}
		eval_line(e, line, m);
	}
}

static bool my_match(const struct model *m)
{
	int i;

	if (m->netns && (int64_t)m->netns != m->my_netns)
		return false;
	if (m->family == FAM_V6)
		return false;
	if (m->kind != KIND_ANY && m->kind != KIND_TCP)
		return false;
	if (!m->nports)
		return true;
	for (i = 0; i < m->nports; i++)
		if (m->ports[i] == m->my_port)
			return true;
	return false;
}

/* The watched UDP ports as the control file shows them: a set. */
static void set_udp_ports(struct model *m, const struct fcmd *c)
{
	int i, j;

	m->nudp = 0;
	for (i = 0; i < c->nports; i++) {
		for (j = m->nudp; j > 0 && m->udp[j - 1] > c->ports[i]; j--)
			;
		if (j > 0 && m->udp[j - 1] == c->ports[i])
			continue;
		memmove(&m->udp[j + 1], &m->udp[j],
			(m->nudp - j) * sizeof(m->udp[0]));
		m->udp[j] = c->ports[i];
		m->nudp++;
	}
}

/* How many times a write flips `enabled`, and the UDP probes' registration. */
struct flips {
	int toggles, udp;
};

/* Applies a taken write. */
static struct flips apply(struct model *m, const struct verdict *e)
{
	struct flips flips = { 0 };
	int i;

	for (i = 0; i < e->n; i++) {
		const struct fcmd *c = &e->cmd[i];

		switch (c->verb) {
		case V_ENABLE:
			if (!m->enabled) {
				if (m->stale)
					m->row = false;
				m->stale = false;
				m->enabled = true;
				flips.toggles++;
			}
			break;
		case V_DISABLE:
			if (m->enabled) {
				m->enabled = false;
				m->stale = true;
				flips.toggles++;
			}
			break;
		case V_RESET:
			m->zeroed = true;
			break;
		case V_RESET_ID:
			if (m->row && (int64_t)c->val == m->id)
				m->zeroed = true;
			break;
		case V_FILTER:
			if (c->key == K_PORT) {
				m->nports = c->nports;
				memcpy(m->ports, c->ports, sizeof(m->ports));
			} else if (c->key == K_NETNS) {
				m->netns = c->val;
			} else if (c->key == K_FAMILY) {
				m->family = c->val;
			} else {
				m->kind = c->val;
			}
			if (m->row && !my_match(m))
				m->row = false;
			break;
		case V_MAXL:
			m->max_listeners = c->val;
			break;
		case V_MAXM:
			m->max_memory = c->val;
			break;
		case V_UDP_PORTS: {
			bool watched = m->nudp;

			set_udp_ports(m, c);
			if (m->enabled && watched != !!m->nudp)
				flips.udp++;
			break;
		}
		case V_STALL:
			m->stall_ms = c->val;
			break;
		case V_BURST_GAP:
			m->burst_gap_ms = c->val;
			break;
		case V_DROP_LOG:
			m->drop_log = c->val;
			break;
		}
	}
	return flips;
}

/* ------------------------------------------------------------------ */
/* The generator                                                       */

struct gen {
	struct aq_rng rng;
	char buf[1 << 21];
	size_t len;
};

#define R(n) aq_rand_below(&g->rng, (n))
#define CHANCE(a, b) aq_chance(&g->rng, (a), (b))

static void put(struct gen *g, const char *s)
{
	size_t n = strlen(s);

	if (g->len + n < sizeof(g->buf)) {
		memcpy(g->buf + g->len, s, n);
		g->len += n;
	}
}

static void putf(struct gen *g, const char *fmt, ...)
{
	char tmp[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	put(g, tmp);
}

/* A blank between words: usually one space, sometimes more, or tabs. */
static void blank(struct gen *g)
{
	int n = CHANCE(1, 5) ? 1 + R(3) : 1;

	while (n--)
		put(g, CHANCE(1, 6) ? "\t" : " ");
}

/* A number for a field whose valid range is [lo, hi]: mostly valid. */
static void number(struct gen *g, unsigned long long lo, unsigned long long hi,
		   unsigned long long likely)
{
	static const char *const odd[] = {
		"0", "-1", "-0", "00", "4294967295", "4294967296",
		"4294967297", "18446744073709551615", "18446744073709551616",
		"99999999999999999999999999999999", "0x10", "1e3", "1.5",
		"12a", "", "-", "+", "++1", "1,", " ", "9223372036854775807",
		"9223372036854775808", "65535", "65536", "16777216",
		"16777217", "2147483648", "-2147483648",
	};
	int k = R(100);

	if (k < 45) {
		putf(g, "%llu", likely);
	} else if (k < 70) {
		putf(g, "%llu", lo + aq_rand64(&g->rng) % (hi - lo + 1));
	} else if (k < 76) {
		putf(g, "%llu", CHANCE(1, 2) ? lo : hi);
	} else if (k < 80) {
		putf(g, "%llu", CHANCE(1, 2) ? lo - 1 : hi + 1);
	} else if (k < 82) {
		/* Leading zeros: still the same decimal number. */
		putf(g, "000%llu", likely);
	} else if (k < 83) {
		putf(g, "+%llu", likely);
	} else if (k < 88) {
		putf(g, "-%llu", aq_rand64(&g->rng) % 100000);
	} else if (k < 92) {
		int n = 15 + R(30);

		while (n--)
			putf(g, "%d", (int)R(10));
	} else {
		put(g, odd[R(sizeof(odd) / sizeof(odd[0]))]);
	}
}

static void bytes_word(struct gen *g, const struct model *m)
{
	static const char *const sfx[] = { "", "K", "M", "G", "k", "m", "g",
					   "T", "E", "B", "KB", "KiB" };
	int k = R(10);

	if (k < 6) {
		static const unsigned long long v[] = {
			65536, 1 << 20, 100000, 134217728, 1ULL << 30,
		};

		putf(g, "%llu", v[R(5)]);
	} else if (k < 9) {
		number(g, 1, 1 << 20, 64 + R(4096));
		put(g, sfx[R(CHANCE(4, 5) ? 4 : 12)]);
	} else {
		number(g, AQ_MEM_MIN, (unsigned long long)LONG_MAX,
		       m->max_memory);
	}
}

/*
 * A list of ports, or the word for none. A list around its limit of max
 * is mostly of plain ports, so that the limit is what decides.
 */
static void port_list(struct gen *g, const char *none, int max,
		      unsigned int likely)
{
	bool around_max = CHANCE(1, 20);
	int n, i;

	if (CHANCE(1, 4)) {
		put(g, none);
		return;
	}
	n = around_max ? max - 1 + R(4) : 1 + R(4);
	for (i = 0; i < n; i++) {
		if (i)
			put(g, CHANCE(1, 50) ? ",," : ",");
		if (around_max && !CHANCE(1, n))
			putf(g, "%u", 1 + (unsigned int)R(65535));
		else
			number(g, 1, 65535,
			       CHANCE(1, 2) ? likely : 1 + R(65535));
	}
}

/* One command, without its newline; mostly valid. */
static void command(struct gen *g, const struct model *m)
{
	int k = R(100);

	if (CHANCE(1, 8))
		blank(g);
	if (k < 6) {
		put(g, m->enabled ? "enable" : "disable");	/* no-ops */
	} else if (k < 8) {
		put(g, m->enabled ? "disable" : "enable");
	} else if (k < 17) {
		put(g, "reset");
	} else if (k < 28) {
		put(g, "reset");
		blank(g);
		number(g, 1, UINT32_MAX,
		       CHANCE(2, 3) ? (unsigned long long)m->id :
				      m->id + 1 + R(1000));
	} else if (k < 40) {
		put(g, "filter");
		blank(g);
		put(g, "port");
		blank(g);
		port_list(g, "any", AQ_MAX_PORTS, m->my_port);
	} else if (k < 48) {
		put(g, "filter");
		blank(g);
		put(g, "netns");
		blank(g);
		if (CHANCE(1, 3))
			put(g, "any");
		else
			number(g, 1, UINT32_MAX,
			       CHANCE(2, 3) ? (unsigned long long)m->my_netns :
					      4026531840ULL + R(1000));
	} else if (k < 55) {
		static const char *const fam[] = { "ipv4", "any", "ipv6",
						   "IPV4", "inet" };

		put(g, "filter");
		blank(g);
		put(g, "family");
		blank(g);
		put(g, fam[CHANCE(9, 10) ? R(3) : R(5)]);
	} else if (k < 62) {
		static const char *const kind[] = { "tcp", "any", "unix", "udp",
						    "TCP", "sctp" };

		put(g, "filter");
		blank(g);
		put(g, "kind");
		blank(g);
		put(g, kind[CHANCE(9, 10) ? R(4) : R(6)]);
	} else if (k < 73) {
		put(g, "max_listeners");
		blank(g);
		number(g, 1, AQ_LISTENERS_MAX, 1 + R(100000));
	} else if (k < 83) {
		put(g, "max_memory");
		blank(g);
		bytes_word(g, m);
	} else if (k < 90) {
		put(g, "udp_ports");
		blank(g);
		port_list(g, "none", AQ_MAX_UDP_PORTS,
			  m->nudp ? m->udp[0] : 1 + R(65535));
	} else if (k < 94) {
		put(g, "stall_threshold_ms");
		blank(g);
		number(g, 1, AQ_WATCH_MS_MAX, 1 + R(10000));
	} else if (k < 97) {
		put(g, "burst_gap_ms");
		blank(g);
		number(g, 1, AQ_WATCH_MS_MAX, 1 + R(10000));
	} else {
		put(g, "drop_log");
		blank(g);
		number(g, 0, 1, R(2));
	}
	if (CHANCE(1, 8))
		blank(g);
}

/* A batch of commands, comments and empty lines, each line ended. */
static void batch(struct gen *g, const struct model *m, int ncmd)
{
	int i;

	for (i = 0; i < ncmd; i++) {
		if (CHANCE(1, 10))
			put(g, CHANCE(1, 2) ? "\n" : "# a comment\n");
		if (CHANCE(1, 40))
			put(g, "  # blanks, then a comment\n");
		command(g, m);
		put(g, "\n");
	}
}

static const char *const vocab[] = {
	"enable", "disable", "reset", "filter", "port", "netns", "family",
	"kind", "max_listeners", "max_memory", "udp_ports",
	"stall_threshold_ms", "burst_gap_ms", "drop_log", "any", "none",
	"ipv4", "ipv6", "tcp", "unix", "udp", "#", "1", "80", "0", "-1",
	"64K", "1M", ",", "all",
};

/* Changes a batch in 1 to 3 places. */
static void mutate(struct gen *g)
{
	int ops = 1 + R(3);

	while (ops--) {
		size_t at = g->len ? R(g->len) : 0;
		int k = R(100);

		if (k < 20 && g->len) {
			g->buf[at] = R(256);			/* any byte */
		} else if (k < 35 && g->len + 1 < sizeof(g->buf)) {
			memmove(g->buf + at + 1, g->buf + at, g->len - at);
			g->buf[at] = CHANCE(1, 3) ? '\0' : R(256);
			g->len++;
		} else if (k < 45 && g->len) {
			memmove(g->buf + at, g->buf + at + 1, g->len - at - 1);
			g->len--;
		} else if (k < 55 && g->len && g->buf[g->len - 1] == '\n') {
			g->len--;				/* no newline */
		} else if (k < 65 && g->len) {
			char c = g->buf[at];			/* case */

			if (isalpha((unsigned char)c))
				g->buf[at] = c ^ 0x20;
		} else if (k < 75 && g->len + 64 < sizeof(g->buf)) {
			/* A number or word spliced in. */
			char tmp[64];
			int n;

			if (CHANCE(1, 2))
				n = snprintf(tmp, sizeof(tmp), "%s%llu",
					     CHANCE(1, 3) ? "-" : "",
					     (unsigned long long)aq_rand64(&g->rng) >>
						     R(64));
			else
				n = snprintf(tmp, sizeof(tmp), "%s%s",
					     CHANCE(1, 2) ? " " : "",
					     vocab[R(sizeof(vocab) / sizeof(vocab[0]))]);
			memmove(g->buf + at + n, g->buf + at, g->len - at);
			memcpy(g->buf + at, tmp, n);
			g->len += n;
		} else if (k < 85 && g->len && g->len + g->len < sizeof(g->buf)) {
			memcpy(g->buf + g->len, g->buf, g->len);	/* twice */
			g->len += g->len;
		} else if (g->len + 6000 < sizeof(g->buf)) {
			/* An overlong word. */
			size_t n = 1000 + R(5000);

			memmove(g->buf + at + n, g->buf + at, g->len - at);
			memset(g->buf + at, CHANCE(1, 2) ? '9' : 'a', n);
			g->len += n;
		}
	}
}

static void random_bytes(struct gen *g)
{
	size_t n = R(CHANCE(1, 10) ? 5000 : 200), i;

	for (i = 0; i < n; i++)
		g->buf[i] = CHANCE(1, 2) ? R(256) : 0x20 + R(95);
	g->len = n;
	if (CHANCE(1, 2))
		put(g, "\n");
}

static void random_words(struct gen *g)
{
	int lines = 1 + R(4), w;

	while (lines--) {
		for (w = 1 + R(5); w; w--) {
			put(g, vocab[R(sizeof(vocab) / sizeof(vocab[0]))]);
			if (w > 1)
				blank(g);
		}
		put(g, "\n");
	}
}

/* Writes past a page, or more than 64 commands, or a page of comments. */
static void oversize(struct gen *g, const struct model *m)
{
	long page = sysconf(_SC_PAGESIZE);
	int k = R(4);

	if (k == 0) {
		batch(g, m, 60 + R(10));		/* around 64 commands */
	} else if (k == 1) {
		/* Comments up to just below, at or above a page. */
		size_t want = page - 3 + R(6);

		put(g, "reset\n");
		while (g->len + 1 < want) {
			size_t n = want - 1 - g->len;

			if (n > 100)
				n = 100;
			memset(g->buf + g->len, '#', n);
			g->len += n;
			put(g, "\n");
		}
	} else if (k == 2) {
		/* One long port list. */
		put(g, "filter port ");
		while (g->len < (size_t)page + 100)
			putf(g, "%u,", m->my_port);
		g->buf[g->len - 1] = '\n';
	} else {
		size_t n = page * (1 + R(4)) + R(100);

		memset(g->buf, '#', n);
		g->len = n;
		put(g, "\n");
	}
}

/* ------------------------------------------------------------------ */
/* Reading the state back                                              */

struct fuzz {
	struct model m;
	int lfd, cfd[8], ncfd;
	int ctl_fd;
	int failures;
	char last_input[400];
	long long writes, taken, refused, readbacks, fullchecks, revivals;
	long long toggles, udp_toggles, amb_taken, amb_refused;
	long long amb_lower_taken, amb_lower_refused, amb_bigmem_taken;
	long long amb_bigmem_refused, amb_comment_taken, amb_comment_refused;
	long long by_errno[4];	/* EINVAL, E2BIG, ENOENT, other */
	long long split_writes, max_len;
};

#define FAIL(f, fmt, ...) do {						\
	if ((f)->failures++ < 10)					\
		TH_LOG("after input %lld ('%s'): " fmt, (f)->writes,	\
		       (f)->last_input, ##__VA_ARGS__);			\
} while (0)

/* A list of ports as the control file shows it, or the word for none. */
static void ports_text(char *out, size_t size, const unsigned int *ports,
		       int n, const char *none)
{
	size_t o = 0;
	int i;

	snprintf(out, size, "%s", none);
	for (i = 0; i < n && o < size; i++)
		o += snprintf(out + o, size - o, "%s%u", i ? "," : "",
			      ports[i]);
}

static const char *const udp_probes[] = {
	"__udp_enqueue_schedule_skb", "__skb_recv_udp", "udp_lib_unhash",
};

static void expect_ctl(struct __test_metadata *_metadata, struct fuzz *f)
{
	char buf[8192], val[4096], want[4096], ports[4096];
	const struct model *m = &f->m;
	size_t i;

	aq_ctl_read(_metadata, buf, sizeof(buf));
	f->readbacks++;
#define LINE(key, fmt, ...) do {					\
	snprintf(want, sizeof(want), fmt, ##__VA_ARGS__);		\
	if (!aq_ctl_line(buf, key, val, sizeof(val)))			\
		FAIL(f, "no '%s' line in the control file", key);	\
	else if (strcmp(val, want))					\
		FAIL(f, "control file '%s %s', the model says '%s'",	\
		     key, val, want);					\
} while (0)
	LINE("enabled", "%d", m->enabled);
	LINE("max_listeners", "%llu", m->max_listeners);
	LINE("max_memory", "%llu", m->max_memory);
	LINE("stall_threshold_ms", "%llu", m->stall_ms);
	LINE("burst_gap_ms", "%llu", m->burst_gap_ms);
	LINE("drop_log", "%llu", m->drop_log);
	ports_text(ports, sizeof(ports), m->ports, m->nports, "any");
	LINE("filter port", "%s", ports);
	ports_text(ports, sizeof(ports), m->udp, m->nudp, "none");
	LINE("udp_ports", "%s", ports);
	if (m->netns)
		LINE("filter netns", "%llu", m->netns);
	else
		LINE("filter netns", "any");
	LINE("filter family", "%s", family_words[m->family]);
	LINE("filter kind", "%s", kind_words[m->kind]);
	LINE("tracked", "%d", m->row ? 1 : 0);
#undef LINE
	/* Registered while some port is watched and the module enabled. */
	for (i = 0; i < sizeof(udp_probes) / sizeof(udp_probes[0]); i++) {
		char key[64];
		int reg;

		snprintf(key, sizeof(key), "probe %s", udp_probes[i]);
		if (!aq_ctl_line(buf, key, val, sizeof(val)))
			continue;	/* one this kernel lacks is not listed */
		if (sscanf(val, "%*s registered %d", &reg) != 1)
			FAIL(f, "'%s %s' does not parse", key, val);
		else if (reg != (m->enabled && m->nudp))
			FAIL(f, "%s registered %d; the model: enabled %d, %d UDP port(s)",
			     udp_probes[i], reg, m->enabled, m->nudp);
	}
}

static struct aq_row *my_row(struct aq_snap *s, int lfd)
{
	return aq_find_row(s, lfd);
}

/* /proc/aqueue and sysfs against the model (and the kernel's queue). */
static void expect_all(struct __test_metadata *_metadata, struct fuzz *f)
{
	const struct model *m = &f->m;
	struct aq_snap s;
	struct aq_row *r;
	long q = aq_diag_rqueue(f->lfd);

	expect_ctl(_metadata, f);
	f->fullchecks++;
	aq_snapshot(_metadata, &s);
	if (s.enabled != m->enabled || s.max_listeners != (int64_t)m->max_listeners ||
	    s.max_memory_bytes != (int64_t)m->max_memory ||
	    s.tracked != (m->row ? 1 : 0))
		FAIL(f, "/proc/aqueue state enabled %" PRId64 " max_listeners %" PRId64 " max_memory_bytes %" PRId64 " tracked %" PRId64 "; the model: %d %llu %llu %d",
		     s.enabled, s.max_listeners, s.max_memory_bytes, s.tracked,
		     m->enabled, m->max_listeners, m->max_memory, m->row);
	if (aq_param("max_listeners") != (long long)m->max_listeners ||
	    aq_param("max_memory") != (long long)m->max_memory)
		FAIL(f, "sysfs max_listeners %lld max_memory %lld; the model: %llu %llu",
		     aq_param("max_listeners"), aq_param("max_memory"),
		     m->max_listeners, m->max_memory);
	r = my_row(&s, f->lfd);
	if (!r != !m->row) {
		FAIL(f, "the listener's row is %s, the model says %s",
		     r ? "there" : "gone", m->row ? "there" : "gone");
	} else if (r) {
		int64_t acc = m->zeroed ? 0 : m->accepted;
		int64_t drops = m->zeroed ? 0 : m->drops;
		int64_t enq = m->zeroed ? m->qnow : m->enqueued;
		int64_t peak = m->zeroed ? m->qnow : m->qpeak;

		if (r->id != m->id || r->qnow != q || r->qnow != m->qnow ||
		    r->accepted != acc || r->drops != drops ||
		    r->enqueued != enq || r->qpeak != peak)
			FAIL(f, "row id %" PRId64 " qnow %" PRId64 " accepted %" PRId64 " drops %" PRId64 " enqueued %" PRId64 " qpeak %" PRId64 "; the model: id %" PRId64 " qnow %" PRId64 " (sock_diag %ld) accepted %" PRId64 " drops %" PRId64 " enqueued %" PRId64 " qpeak %" PRId64 "%s",
			     r->id, r->qnow, r->accepted, r->drops, r->enqueued,
			     r->qpeak, m->id, m->qnow, q, acc, drops, enq, peak,
			     m->zeroed ? " (reset)" : "");
	}
	aq_snap_free(&s);
}

/* Takes the row's counts as the model's from now on. */
static void baseline(struct __test_metadata *_metadata, struct fuzz *f)
{
	struct model *m = &f->m;
	struct aq_snap s;
	struct aq_row *r;

	aq_snapshot(_metadata, &s);
	r = my_row(&s, f->lfd);
	ASSERT_NE(NULL, r) TH_LOG("the listener has no row");
	ASSERT_EQ(aq_diag_rqueue(f->lfd), r->qnow);
	if (m->row)
		ASSERT_LT(m->id, r->id) TH_LOG("ids are not reused");
	m->row = true;
	m->id = r->id;
	m->zeroed = false;
	m->enqueued = r->enqueued;
	m->accepted = r->accepted;
	m->drops = r->drops;
	m->qnow = r->qnow;
	m->qpeak = r->qpeak;
	aq_snap_free(&s);
}

/*
 * A row that a filter or a re-enable removed comes back with the
 * listener's next queue event when the filter lets it: accept one, queue
 * one (the queue stays as long).
 */
static void revive(struct __test_metadata *_metadata, struct fuzz *f)
{
	struct model *m = &f->m;
	int afd;

	if (m->row || !m->enabled || !my_match(m) || f->ncfd >= 8)
		return;
	afd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, afd);
	close(afd);
	aq_fill(_metadata, f->lfd, "127.0.0.1", &f->cfd[f->ncfd++], 1,
		m->qnow - 1);
	m->row = true;	/* the id must be new: baseline() checks */
	baseline(_metadata, f);
	f->revivals++;
	/* Room for the next revival: the oldest client goes (RST), its
	 * connection stays queued at the listener. */
	if (f->ncfd == 8) {
		int i;

		aq_close_rst(f->cfd[0]);
		for (i = 1; i < 8; i++)
			f->cfd[i - 1] = f->cfd[i];
		f->ncfd--;
	}
}

static int errno_bit(int err)
{
	return err == -EINVAL ? F_EINVAL : err == -E2BIG ? F_E2BIG :
	       err == -ENOENT ? F_ENOENT : 0;
}

/* One write on fd; the model's verdict against the module's answer. */
static void one_write(struct __test_metadata *_metadata, struct fuzz *f,
		      int fd, const char *buf, size_t len)
{
	struct model *m = &f->m;
	static struct verdict e;
	bool taken;
	ssize_t n;
	int err;

	evaluate(buf, len, m, &e);
	aq_show_bytes(buf, len, f->last_input, sizeof(f->last_input));
	n = write(fd, buf, len);
	err = n < 0 ? -errno : 0;
	f->writes++;
	if ((long long)len > f->max_len)
		f->max_len = len;
	taken = n >= 0;
	if (taken && (size_t)n != len) {
		FAIL(f, "short write: %zd of %zu bytes taken", n, len);
		taken = false;
	}
	if (taken)
		f->taken++;
	else
		f->refused++;
	if (!taken) {
		int b = errno_bit(err);

		f->by_errno[b == F_EINVAL ? 0 : b == F_E2BIG ? 1 :
			    b == F_ENOENT ? 2 : 3]++;
	}

	if (len == 0) {
		/* An empty write: either refused or a no-op. */
		if (!taken && err != -EINVAL)
			FAIL(f, "empty write: %s", strerror(-err));
		return;
	}
	/* A refusal for a form the documentation leaves open is EINVAL. */
	if (e.bad && e.amb)
		e.bad |= F_EINVAL;
	if (e.bad) {
		if (taken)
			FAIL(f, "taken, but doc/interface.md says it must be refused (rules broken: %s%s%s)",
			     e.bad & F_EINVAL ? "EINVAL " : "",
			     e.bad & F_E2BIG ? "E2BIG " : "",
			     e.bad & F_ENOENT ? "ENOENT" : "");
		else if (!(errno_bit(err) & e.bad))
			FAIL(f, "refused with %s, doc/interface.md says %s%s%s",
			     strerror(-err), e.bad & F_EINVAL ? "EINVAL " : "",
			     e.bad & F_E2BIG ? "E2BIG " : "",
			     e.bad & F_ENOENT ? "ENOENT" : "");
		if (!taken)
			return;
		/* Taken against the model: follow what it did, roughly. */
	} else if (e.amb) {
		if (taken) {
			f->amb_taken++;
			f->amb_lower_taken += !!e.amb_lower;
			f->amb_bigmem_taken += !!e.amb_bigmem;
			f->amb_comment_taken += !!e.amb_comment;
		} else {
			f->amb_refused++;
			f->amb_lower_refused += !!e.amb_lower;
			f->amb_bigmem_refused += !!e.amb_bigmem;
			f->amb_comment_refused += !!e.amb_comment;
			if (err != -EINVAL)
				FAIL(f, "refused with %s, not EINVAL",
				     strerror(-err));
			return;
		}
	} else if (!taken) {
		FAIL(f, "refused with %s, but the documented grammar takes it",
		     strerror(-err));
		return;
	}
	{
		bool had_row = m->row;
		struct flips fl = apply(m, &e);

		f->toggles += fl.toggles;
		f->udp_toggles += fl.udp;
		expect_ctl(_metadata, f);
		if (had_row != m->row)
			expect_all(_metadata, f);
	}
}

/* What this write would flip if it were taken. */
static struct flips would_flip(const struct model *m, const char *buf,
			       size_t len)
{
	static struct verdict e;
	struct model tmp = *m;
	struct flips none = { 0 };

	evaluate(buf, len, m, &e);
	if (e.bad)
		return none;
	return apply(&tmp, &e);
}

static bool flips(const struct model *m, const char *buf, size_t len)
{
	struct flips fl = would_flip(m, buf, len);

	return fl.toggles || fl.udp;
}

/* Would this write flip something whose budget is spent? */
static bool over_budget(const struct fuzz *f, const char *buf, size_t len)
{
	struct flips fl = would_flip(&f->m, buf, len);

	return (fl.toggles && f->toggles >= AQ_TOGGLES) ||
	       (fl.udp && f->udp_toggles >= AQ_UDP_TOGGLES);
}

/* The ports the module watches from its load on (its udp_ports). */
static void read_udp_ports(struct __test_metadata *_metadata,
			   struct model *m)
{
	char buf[8192], val[4096], *p = val, *tok;
	struct fcmd c = { .verb = V_UDP_PORTS };

	aq_ctl_read(_metadata, buf, sizeof(buf));
	ASSERT_NE(NULL, aq_ctl_line(buf, "udp_ports", val, sizeof(val)));
	if (strcmp(val, "none"))
		while ((tok = strsep(&p, ",")) && c.nports < AQ_MAX_UDP_PORTS)
			c.ports[c.nports++] = strtoul(tok, NULL, 10);
	set_udp_ports(m, &c);
}

static void fuzz_in_netns(struct __test_metadata *_metadata, void *arg)
{
	static struct gen gen;
	struct gen *g = &gen;
	struct fuzz *f = calloc(1, sizeof(*f));
	long long inputs = AQ_FUZZ_INPUTS;
	uint64_t seed = aq_seed();
	int64_t t0 = aq_now_ns();
	const char *env = getenv("AQ_FUZZ_INPUTS");
	struct model *m;
	int afd;

	ASSERT_NE(NULL, f);
	m = &f->m;
	if (env && *env)
		inputs = atoll(env);
	g->rng.s = seed;
	TH_LOG("seed %llu (AQ_SEED=%llu replays this run), %lld writes",
	       (unsigned long long)seed, (unsigned long long)seed, inputs);

	/* A listener with something to lose: 4 queued, 1 accepted, 2 drops. */
	f->lfd = aq_listen_tcp("127.0.0.1", 0, 4, 0);
	ASSERT_LE(0, f->lfd);
	aq_fill(_metadata, f->lfd, "127.0.0.1", f->cfd, 5, 0);
	f->ncfd = 5;
	aq_overflow(_metadata, f->lfd, "127.0.0.1", 2);
	afd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, afd);
	close(afd);
	ASSERT_EQ(4, aq_wait_rqueue(f->lfd, 4));

	m->enabled = true;
	m->max_listeners = aq_ctl_value(_metadata, "max_listeners");
	m->max_memory = aq_ctl_value(_metadata, "max_memory");
	m->stall_ms = aq_ctl_value(_metadata, "stall_threshold_ms");
	m->burst_gap_ms = aq_ctl_value(_metadata, "burst_gap_ms");
	m->drop_log = aq_ctl_value(_metadata, "drop_log");
	read_udp_ports(_metadata, m);
	m->my_netns = aq_netns_ino();
	m->my_port = aq_port_of(f->lfd);
	baseline(_metadata, f);
	ASSERT_EQ(2, m->drops);
	ASSERT_EQ(1, m->accepted);
	/* Freshly loaded: this listener is the first and only row. */
	ASSERT_EQ(1, aq_ctl_value(_metadata, "tracked"));
	expect_all(_metadata, f);

	f->ctl_fd = open(AQ_CONTROL_PATH, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, f->ctl_fd);

	while (f->writes < inputs && f->failures < 50) {
		int k = R(100), fd = f->ctl_fd, own = -1;

		g->len = 0;
		if (k < 35) {
			batch(g, m, 1 + R(4));
		} else if (k < 70) {
			batch(g, m, 1 + R(4));
			mutate(g);
		} else if (k < 80) {
			random_bytes(g);
		} else if (k < 88) {
			random_words(g);
		} else if (k < 95) {
			/* One batch cut into two or three writes. */
			size_t cut1, cut2;

			batch(g, m, 1 + R(3));
			if (g->len < 3 || flips(m, g->buf, g->len))
				continue;
			cut1 = 1 + R(g->len - 1);
			cut2 = CHANCE(1, 2) ? cut1 + R(g->len - cut1) : g->len;
			own = open(AQ_CONTROL_PATH, O_WRONLY | O_CLOEXEC);
			ASSERT_LE(0, own);
			/* The pieces may flip `enabled` or the UDP probes one
			 * by one: only when none can, or the budget allows. */
			if (over_budget(f, g->buf, cut1) ||
			    over_budget(f, g->buf + cut1, cut2 - cut1) ||
			    over_budget(f, g->buf + cut2, g->len - cut2)) {
				close(own);
				continue;
			}
			one_write(_metadata, f, own, g->buf, cut1);
			if (cut2 > cut1)
				one_write(_metadata, f, own, g->buf + cut1,
					  cut2 - cut1);
			if (g->len > cut2)
				one_write(_metadata, f, own, g->buf + cut2,
					  g->len - cut2);
			close(own);
			f->split_writes++;
			goto check;
		} else {
			oversize(g, m);
		}
		if (over_budget(f, g->buf, g->len))
			continue;
		if (CHANCE(1, 20)) {
			own = open(AQ_CONTROL_PATH, O_WRONLY | O_CLOEXEC);
			ASSERT_LE(0, own);
			fd = own;
		}
		one_write(_metadata, f, fd, g->buf, g->len);
		if (own >= 0)
			close(own);
check:
		if (f->writes % 256 < 3 || (!m->row && m->enabled &&
					    my_match(m) && CHANCE(1, 20))) {
			expect_all(_metadata, f);
			if (f->revivals < 300)
				revive(_metadata, f);
		}
	}
	close(f->ctl_fd);
	expect_all(_metadata, f);

	TH_LOG("%lld writes (%lld cut mid-batch), %lld taken, %lld refused: EINVAL %lld, E2BIG %lld, ENOENT %lld, other %lld; longest %lld bytes",
	       f->writes, f->split_writes, f->taken, f->refused,
	       f->by_errno[0], f->by_errno[1], f->by_errno[2], f->by_errno[3],
	       f->max_len);
	TH_LOG("%lld read-backs of the control file, %lld of /proc/aqueue and sysfs; %lld enable/disable flips, %lld of the UDP probes, %lld rows revived",
	       f->readbacks, f->fullchecks, f->toggles, f->udp_toggles,
	       f->revivals);
	TH_LOG("forms the documentation leaves open: taken %lld, refused %lld (k/m/g: %lld/%lld, max_memory > LONG_MAX: %lld/%lld, blanks before '#': %lld/%lld taken/refused)",
	       f->amb_taken, f->amb_refused, f->amb_lower_taken,
	       f->amb_lower_refused,
	       f->amb_bigmem_taken, f->amb_bigmem_refused,
	       f->amb_comment_taken, f->amb_comment_refused);
	TH_LOG("took %lld ms", (long long)(aq_now_ns() - t0) / 1000000);
	EXPECT_EQ(0, f->failures) TH_LOG("%d writes the module answered otherwise than the documented grammar (seed %llu)",
				       f->failures, (unsigned long long)seed);
	EXPECT_LE(inputs, f->writes);
	aq_close_fds(f->cfd, f->ncfd);
	close(f->lfd);
	free(f);
}

AQ_FIXTURE(fuzz, NULL, AQ_MODULE_REQUIRED)

AQ_NETNS_TEST_TIMEOUT(fuzz, hundred_thousand_writes, 580, AQ_RUN_IF_MODULE,
		      fuzz_in_netns, NULL)

AQ_TEST_HARNESS_MAIN
