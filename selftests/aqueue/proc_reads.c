// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/aqueue read in every way a reader may: with 1-byte reads, reads
 * of odd sizes, lseek()s forward, backward, into the middle of a line and
 * past the end, pread()s at random offsets from many threads on one open
 * file, and from many processes at once, each with its own pattern. On a
 * quiet system each must give the same bytes as one big read.
 *
 * "Quiet" leaves the fields computed at read time moving: observed_ns,
 * qlen_area_ns and the live ages (hol_age_ns, since_*). They are compared as
 * "digits at the same place", and the comparison only counts when a big
 * read taken before the pattern and one taken after it agree on every
 * other byte (the two fields only grow: if their lengths did not change
 * across the pair, they did not change in between either). When they did,
 * the pattern runs again (a few times at most).
 *
 * The table spans many seq_file buffers: 120 TCP listeners (some with
 * queued connections, one with dropped SYNs), IPv6, unix listeners with
 * names that need escaping, in a network namespace of the test's own.
 */
#include <ctype.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/sock_diag.h>
#include <pthread.h>
#include <sys/prctl.h>

#include "kselftest_harness.h"

#include "aq_clock.h"
#include "aq_ctl.h"
#include "aq_events.h"
#include "aq_file.h"
#include "aq_fill.h"
#include "aq_fixture.h"
#include "aq_module.h"
#include "aq_netns.h"
#include "aq_proc.h"
#include "aq_rng.h"
#include "aq_snap.h"
#include "aq_sock.h"
#include "aq_text.h"
#include "aq_unix.h"

#define NLISTEN 120
#define NPROCS 8
#define NTHREADS 4
#define TRIES 6

struct ref {
	char *text;
	size_t len;
	unsigned char *mask;	/* 1: a digit of a moving field */
};

static void ref_free(struct ref *r)
{
	free(r->text);
	free(r->mask);
	memset(r, 0, sizeof(*r));
}

static void mask_field(struct ref *r, const char *key)
{
	size_t klen = strlen(key);
	char *p = r->text;

	while ((p = strstr(p, key))) {
		p += klen;
		while (isdigit((unsigned char)*p))
			r->mask[p++ - r->text] = 1;
	}
}

static void ref_read(struct __test_metadata *_metadata, struct ref *r)
{
	int err;

	r->text = aq_read_chunked(AQ_PROC_PATH, 1 << 20, &r->len, &err);
	ASSERT_NE(NULL, r->text) TH_LOG("read: %s", strerror(-err));
	r->mask = calloc(1, r->len + 1);
	ASSERT_NE(NULL, r->mask);
	mask_field(r, " observed_ns ");
	mask_field(r, " qlen_area_ns ");
	/* Format 2's live keys are ages, computed at read time too. */
	mask_field(r, " hol_age_ns ");
	mask_field(r, " since_accept_ns ");
	mask_field(r, " since_drop_ns ");
}

/* Same bytes but for the digits of the moving fields, at the same places. */
static bool same_layout(const struct ref *a, const struct ref *b)
{
	size_t i;

	if (a->len != b->len)
		return false;
	for (i = 0; i < a->len; i++) {
		if (a->mask[i] != b->mask[i])
			return false;
		if (!a->mask[i] && a->text[i] != b->text[i])
			return false;
	}
	return true;
}

/*
 * Whether buf[0..n) is what r holds at off: n is 0 at or past the end,
 * and otherwise at least 1 and at most what was asked (a read may stop
 * short: seq_file hands out at most one buffer of records per call).
 */
static bool matches_at(const struct ref *r, size_t off, const char *buf,
		       size_t n, size_t want, size_t *bad)
{
	size_t expect = off >= r->len ? 0 : r->len - off, i;

	if (expect > want)
		expect = want;
	*bad = off;
	if (n > expect || (expect && !n))
		return false;
	for (i = 0; i < n; i++) {
		if (r->mask[off + i] ? !isdigit((unsigned char)buf[i]) :
				       buf[i] != r->text[off + i]) {
			*bad = off + i;
			return false;
		}
	}
	return true;
}

/* The log of a round of lseeks, printed only when the round counts. */
static char round_log[8192];
static size_t round_log_len;

#define RLOG(fmt, ...) do {						\
	if (round_log_len < sizeof(round_log))				\
		round_log_len += snprintf(round_log + round_log_len,	\
					  sizeof(round_log) - round_log_len, \
					  "# " fmt "\n", ##__VA_ARGS__);	\
} while (0)

static void log_diff(const struct ref *r,
		     const char *buf, size_t n, size_t off, size_t bad)
{
	char a[200], b[200];
	size_t from = bad > off + 40 ? bad - 40 : off;
	size_t an = from < r->len ? r->len - from : 0;
	size_t bn = from - off < n ? n - (from - off) : 0;

	RLOG("differs at byte %zu (read %zu bytes at %zu; the big read has %zu)",
	       bad, n, off, r->len);
	RLOG("big read: '%s'", aq_show_bytes(r->text + (from < r->len ? from : r->len),
					       an > 80 ? 80 : an, a, sizeof(a)));
	RLOG("this read: '%s'", aq_show_bytes(buf + (from - off),
						bn > 80 ? 80 : bn, b, sizeof(b)));
}

/* The whole file with read()s of sizes from sizes[] in turn. */
static char *read_pattern(const size_t *sizes, int nsizes, size_t *len)
{
	size_t cap = 1 << 20, n = 0;
	char *buf = malloc(cap);
	int fd = open(AQ_PROC_PATH, O_RDONLY | O_CLOEXEC), i = 0;

	if (!buf || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	for (;;) {
		size_t want = sizes[i++ % nsizes];
		ssize_t got;

		if (n + want > cap) {
			cap = 2 * cap + want;
			buf = realloc(buf, cap);
			if (!buf)
				break;
		}
		got = read(fd, buf + n, want);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			if (got < 0) {
				free(buf);
				buf = NULL;
			}
			break;
		}
		n += got;
	}
	close(fd);
	*len = n;
	return buf;
}

/*
 * Runs fn until a big read before and one after agree, then checks its
 * result against them. fn returns what it read of the whole file.
 */
typedef char *(*whole_fn)(void *arg, size_t *len);

static void expect_same_as_big_read(struct __test_metadata *_metadata,
				    const char *what, whole_fn fn, void *arg)
{
	int tries;

	for (tries = 0; tries < TRIES; tries++) {
		struct ref before, after;
		size_t len, bad;
		char *got;

		ref_read(_metadata, &before);
		got = fn(arg, &len);
		ref_read(_metadata, &after);
		ASSERT_NE(NULL, got) TH_LOG("%s: a read failed", what);
		if (!same_layout(&before, &after)) {
			free(got);
			ref_free(&before);
			ref_free(&after);
			continue;
		}
		if (!matches_at(&before, 0, got, len, before.len, &bad) ||
		    len != before.len) {
			round_log_len = 0;
			log_diff(&before, got, len, 0, bad);
			fputs(round_log, stdout);
			free(got);
			ref_free(&before);
			ref_free(&after);
			ASSERT_TRUE(0) TH_LOG("%s: not the content of one big read", what);
		}
		free(got);
		ref_free(&before);
		ref_free(&after);
		return;
	}
	ASSERT_TRUE(0) TH_LOG("%s: the file never stayed quiet for %d tries",
			      what, TRIES);
}

struct sizes {
	const size_t *v;
	int n;
};

static char *whole_by_sizes(void *arg, size_t *len)
{
	const struct sizes *s = arg;

	return read_pattern(s->v, s->n, len);
}

/* ------------------------------------------------------------------ */
/* A quiet world with a big table                                      */

struct world {
	int lfd[NLISTEN + 8];
	int nl;
	int cfd[64];
	int nc;
	int64_t rows;
};

static void world_build(struct __test_metadata *_metadata, struct world *w)
{
	struct aq_snap s;
	int i;

	ASSERT_EQ(0, aq_raise_nofile(1024));
	for (i = 0; i < NLISTEN; i++) {
		w->lfd[w->nl] = aq_listen_tcp("127.0.0.1", 0, 1 + i % 7, 0);
		ASSERT_LE(0, w->lfd[w->nl]);
		w->nl++;
	}
	/* Something in the queues: 2 connections on every 10th listener. */
	for (i = 0; i < NLISTEN; i += 10) {
		aq_fill(_metadata, w->lfd[i], "127.0.0.1", &w->cfd[w->nc], 2, 0);
		w->nc += 2;
	}
	/* One accepted, and SYNs dropped at a full queue (backlog 1). */
	{
		int afd, full = 2 + (NLISTEN - 7) % 7;	/* backlog + 1 */

		aq_fill(_metadata, w->lfd[NLISTEN - 7], "127.0.0.1",
			&w->cfd[w->nc], full, 0);
		w->nc += full;
		aq_overflow(_metadata, w->lfd[NLISTEN - 7], "127.0.0.1", 2);
		afd = accept4(w->lfd[NLISTEN - 7], NULL, NULL, SOCK_CLOEXEC);
		ASSERT_LE(0, afd);
		close(afd);
	}
	w->lfd[w->nl] = aq_listen_tcp("::1", 0, 9, AQ_V6ONLY);
	ASSERT_LE(0, w->lfd[w->nl++]);
	w->lfd[w->nl] = aq_listen_tcp("::", 0, 9, AQ_DUAL);
	ASSERT_LE(0, w->lfd[w->nl++]);
	w->lfd[w->nl] = aq_unix_listen_at("aq reads \\ \x01 \xe9 tab\t.", true, 5);
	ASSERT_LE(0, w->lfd[w->nl++]);
	w->lfd[w->nl] = aq_unix_listen_at("/tmp/aq-reads sock", false, 5);
	ASSERT_LE(0, w->lfd[w->nl++]);

	aq_snapshot(_metadata, &s);
	w->rows = s.nrows;
	EXPECT_EQ(w->nl, s.nrows);
	TH_LOG("%d rows, %zu bytes in /proc/aqueue", s.nrows, s.bytes);
	aq_snap_free(&s);
}

static void world_free(struct world *w)
{
	aq_close_fds(w->cfd, w->nc);
	while (w->nl)
		close(w->lfd[--w->nl]);
	unlink("/tmp/aq-reads sock");
}

/* ------------------------------------------------------------------ */

static void small_reads_in_netns(struct __test_metadata *_metadata, void *arg)
{
	static const size_t one[] = { 1 };
	static const size_t odd[] = { 7, 1, 13, 4095, 2, 4097, 3, 63, 65, 511,
				      1000, 1, 8191, 17 };
	static const size_t page[] = { 4096 };
	static const size_t huge[] = { 1 << 20 };
	struct sizes s1 = { one, 1 }, s2 = { odd, 14 }, s3 = { page, 1 },
		     s4 = { huge, 1 };
	struct aq_rng rng = { aq_seed() };
	size_t rnd[64];
	struct sizes s5 = { rnd, 64 };
	struct world w = { .nl = 0 };
	int i;

	world_build(_metadata, &w);
	TH_LOG("seed %llu for the random sizes", (unsigned long long)rng.s);
	for (i = 0; i < 64; i++)
		rnd[i] = 1 + aq_rand_below(&rng, aq_chance(&rng, 1, 4) ? 9000 : 40);
	expect_same_as_big_read(_metadata, "1-byte reads", whole_by_sizes, &s1);
	expect_same_as_big_read(_metadata, "odd-sized reads", whole_by_sizes, &s2);
	expect_same_as_big_read(_metadata, "page-sized reads", whole_by_sizes, &s3);
	expect_same_as_big_read(_metadata, "1 MiB reads", whole_by_sizes, &s4);
	expect_same_as_big_read(_metadata, "random-sized reads", whole_by_sizes, &s5);
	world_free(&w);
}

/* ------------------------------------------------------------------ */

/*
 * lseek()s and pread()s: each read checked against the big reads around
 * the whole sequence. Returns the number of mismatches (logged).
 */
struct seeks {
	struct aq_rng rng;
	int ops;
};

static int seek_sequence(const struct ref *r, struct aq_rng *rng, int ops,
			 bool *layout_only)
{
	char *buf = malloc(r->len + 9000);
	int fd = open(AQ_PROC_PATH, O_RDONLY | O_CLOEXEC), bad_ops = 0, i;
	off_t pos = 0;

	if (!buf || fd < 0) {
		free(buf);
		return -1;
	}
	for (i = 0; i < ops; i++) {
		int k = aq_rand_below(rng, 100);
		size_t want = 1 + aq_rand_below(rng, aq_chance(rng, 1, 3) ? 5000 : 60);
		off_t target, got_pos;
		ssize_t n;
		size_t bad;

		/* Where to: anywhere in the file, mostly; its ends; past it. */
		if (k < 50)
			target = aq_rand_below(rng, r->len + 1);
		else if (k < 60)
			target = aq_chance(rng, 1, 2) ? 0 : (off_t)r->len;
		else if (k < 65)
			target = r->len + 1 + aq_rand_below(rng, 100000);
		else
			target = -1;	/* relative, below */

		if (k < 65) {
			if (aq_chance(rng, 1, 2)) {
				got_pos = lseek(fd, target, SEEK_SET);
			} else {
				got_pos = lseek(fd, target - pos, SEEK_CUR);
			}
			if (got_pos != target) {
				RLOG("lseek to %lld returned %lld (%s)",
				       (long long)target, (long long)got_pos,
				       got_pos < 0 ? strerror(errno) : "");
				bad_ops++;
				continue;
			}
			pos = target;
			n = read(fd, buf, want);
		} else if (k < 75) {
			/* Before the start: refused, the position stays. */
			off_t below = -(off_t)(1 + aq_rand_below(rng, 1000));

			if (aq_chance(rng, 1, 2))
				got_pos = lseek(fd, below, SEEK_SET);
			else
				got_pos = lseek(fd, below - pos, SEEK_CUR);
			if (got_pos != -1 || errno != EINVAL) {
				RLOG("lseek to %lld: %lld, not EINVAL",
				       (long long)below, (long long)got_pos);
				bad_ops++;
				if (got_pos >= 0)
					pos = got_pos;
			}
			n = read(fd, buf, want);
		} else if (k < 80) {
			/* SEEK_END: seq_file files have no known end. */
			got_pos = lseek(fd, -(off_t)aq_rand_below(rng, 100), SEEK_END);
			if (got_pos >= 0)
				pos = got_pos;
			n = read(fd, buf, want);
		} else if (k < 90) {
			/* pread leaves the file position alone. */
			off_t at = aq_rand_below(rng, r->len + 50);

			n = pread(fd, buf, want, at);
			if (n < 0 || !matches_at(r, at, buf, n, want, &bad)) {
				if (n >= 0)
					log_diff(r, buf, n, at, bad);
				else
					RLOG("pread at %lld: %s", (long long)at,
					       strerror(errno));
				bad_ops++;
			}
			n = read(fd, buf, want);
		} else {
			/* Straight on from where the last read stopped. */
			n = read(fd, buf, want);
		}
		if (n < 0) {
			RLOG("read at %lld: %s", (long long)pos, strerror(errno));
			bad_ops++;
			continue;
		}
		if (!matches_at(r, pos, buf, n, want, &bad)) {
			log_diff(r, buf, n, pos, bad);
			bad_ops++;
		}
		pos += n;
		if (lseek(fd, 0, SEEK_CUR) != pos) {
			RLOG("position %lld after reading to %lld",
			       (long long)lseek(fd, 0, SEEK_CUR), (long long)pos);
			bad_ops++;
		}
		if (bad_ops > 5)
			break;
	}
	*layout_only = false;
	close(fd);
	free(buf);
	return bad_ops;
}

static void seeks_in_netns(struct __test_metadata *_metadata, void *arg)
{
	struct world w = { .nl = 0 };
	struct aq_rng rng = { aq_seed() };
	int tries, rounds = 0;

	world_build(_metadata, &w);
	TH_LOG("seed %llu for the offsets and sizes", (unsigned long long)rng.s);
	for (tries = 0; tries < TRIES * 4 && rounds < 4; tries++) {
		struct ref before, after;
		struct aq_rng saved = rng;
		bool unused;
		int bad;

		ref_read(_metadata, &before);
		round_log_len = 0;
		bad = seek_sequence(&before, &rng, 150, &unused);
		ref_read(_metadata, &after);
		if (!same_layout(&before, &after)) {
			/* A moving field grew a digit meanwhile: again. */
			rng = saved;
			ref_free(&before);
			ref_free(&after);
			continue;
		}
		ref_free(&before);
		ref_free(&after);
		if (bad)
			fputs(round_log, stdout);
		ASSERT_EQ(0, bad) TH_LOG("round %d: %d reads differ from the big read",
					 rounds, bad);
		rounds++;
	}
	ASSERT_EQ(4, rounds) TH_LOG("the file never stayed quiet");
	world_free(&w);
}

/* ------------------------------------------------------------------ */
/* Many readers at once                                                */

struct shared_out {
	size_t len[NPROCS];
	int err[NPROCS];
	char text[NPROCS][1 << 18];
};

struct preads {
	int fd;
	const struct ref *r;
	uint64_t seed;
	int bad;
	pthread_barrier_t *start;
};

static void *pread_thread(void *p)
{
	struct preads *t = p;
	struct aq_rng rng = { t->seed };
	char *buf = malloc(t->r->len + 5000);
	int i;

	if (!buf) {
		t->bad++;
		return NULL;
	}
	pthread_barrier_wait(t->start);
	for (i = 0; i < 200; i++) {
		off_t at = aq_rand_below(&rng, t->r->len + 10);
		size_t want = 1 + aq_rand_below(&rng, 3000), bad;
		ssize_t n = pread(t->fd, buf, want, at);

		if (n < 0 || !matches_at(t->r, at, buf, n, want, &bad))
			t->bad++;
	}
	free(buf);
	return NULL;
}

static void many_in_netns(struct __test_metadata *_metadata, void *arg)
{
	static const size_t pattern[NPROCS][4] = {
		{ 1 }, { 3, 5 }, { 4096 }, { 1 << 17 }, { 100, 1 },
		{ 4095, 4097 }, { 17, 1023, 2 }, { 65536, 1, 7 },
	};
	static const int npattern[NPROCS] = { 1, 2, 1, 1, 2, 2, 3, 3 };
	struct shared_out *out = aq_shared_alloc(sizeof(*out));
	struct world w = { .nl = 0 };
	int tries, done = 0;

	ASSERT_NE(NULL, out);
	world_build(_metadata, &w);
	for (tries = 0; tries < TRIES && !done; tries++) {
		struct ref before, after;
		int go[2], i, status;
		pid_t pid[NPROCS];
		pthread_t th[NTHREADS];
		struct preads pr[NTHREADS];
		pthread_barrier_t start;
		char c = 0;
		int fd;

		ref_read(_metadata, &before);
		ASSERT_EQ(0, pipe(go));
		for (i = 0; i < NPROCS; i++) {
			pid[i] = fork();
			ASSERT_LE(0, pid[i]);
			if (pid[i] == 0) {
				char *t;
				size_t len = 0;

				close(go[1]);
				if (read(go[0], &c, 1) < 0)
					_exit(1);
				t = read_pattern(pattern[i], npattern[i], &len);
				out->err[i] = !t || len > sizeof(out->text[i]);
				if (t && !out->err[i])
					memcpy(out->text[i], t, len);
				out->len[i] = len;
				_exit(0);
			}
		}
		/* And threads reading one shared open file with pread(). */
		fd = open(AQ_PROC_PATH, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, pthread_barrier_init(&start, NULL, NTHREADS));
		for (i = 0; i < NTHREADS; i++) {
			pr[i] = (struct preads){ .fd = fd, .r = &before,
						 .seed = aq_seed() + i,
						 .start = &start };
			ASSERT_EQ(0, pthread_create(&th[i], NULL, pread_thread,
						    &pr[i]));
		}
		close(go[0]);
		close(go[1]);	/* all children read EOF: go */
		for (i = 0; i < NTHREADS; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&start);
		close(fd);
		for (i = 0; i < NPROCS; i++) {
			ASSERT_EQ(pid[i], waitpid(pid[i], &status, 0));
			ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
		}
		ref_read(_metadata, &after);
		if (same_layout(&before, &after)) {
			for (i = 0; i < NPROCS; i++) {
				size_t bad;

				ASSERT_EQ(0, out->err[i]) TH_LOG("reader %d failed", i);
				if (!matches_at(&before, 0, out->text[i], out->len[i],
						before.len, &bad) ||
				    out->len[i] != before.len) {
					round_log_len = 0;
					log_diff(&before, out->text[i],
						 out->len[i], 0, bad);
					fputs(round_log, stdout);
					ASSERT_TRUE(0) TH_LOG("reader %d (reads of %zu...) differs",
							      i, pattern[i][0]);
				}
			}
			for (i = 0; i < NTHREADS; i++) {
				int bad = pr[i].bad;

				ASSERT_EQ(0, bad) TH_LOG("pread thread %d: %d reads differ",
							 i, bad);
			}
			done = 1;
		}
		ref_free(&before);
		ref_free(&after);
	}
	ASSERT_TRUE(done) TH_LOG("the file never stayed quiet");
	world_free(&w);
}

/*
 * A process name is the user's to choose, newlines and all
 * (PR_SET_NAME): it must not split its row, forge another or hide the
 * listeners after it.
 */
static void comm_in_netns(struct __test_metadata *_metadata, void *arg)
{
	static const char *const names[] = { "a\nlistener 9", "b\\x\t\x7f" };
	static const char *const shown[] = { "a\\012listener 9",
					     "b\\134x\\011\\177" };
	struct aq_snap s;
	struct aq_row *r;
	int fds[3], i;

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, prctl(PR_SET_NAME, names[i], 0, 0, 0));
		fds[i] = aq_listen_tcp("127.0.0.1", 0, 4, 0);
		ASSERT_LE(0, fds[i]);
	}
	ASSERT_EQ(0, prctl(PR_SET_NAME, "after", 0, 0, 0));
	fds[2] = aq_listen_tcp("127.0.0.1", 0, 4, 0);
	ASSERT_LE(0, fds[2]);
	aq_snapshot(_metadata, &s);
	EXPECT_EQ(3, s.nrows);
	for (i = 0; i < 3; i++) {
		r = aq_row_of(_metadata, &s, fds[i]);
		ASSERT_NE(NULL, r);
		EXPECT_STREQ(i < 2 ? shown[i] : "after", r->comm);
	}
	aq_snap_free(&s);
	aq_close_fds(fds, 3);
}

AQ_FIXTURE(reads, NULL, AQ_MODULE_REQUIRED)

AQ_NETNS_TEST(reads, hostile_process_names, AQ_RUN, comm_in_netns, NULL)

AQ_NETNS_TEST_TIMEOUT(reads, small_and_odd_sized_reads, 300, AQ_RUN_IF_MODULE,
		      small_reads_in_netns, NULL)

AQ_NETNS_TEST_TIMEOUT(reads, lseek_and_pread, 300, AQ_RUN_IF_MODULE,
		      seeks_in_netns, NULL)

AQ_NETNS_TEST_TIMEOUT(reads, many_readers_at_once, 300, AQ_RUN_IF_MODULE,
		      many_in_netns, NULL)

/* The periodic look's sweep of every listener, idle ones included. */
#define SWEEP_NS	(10 * 1000000000LL)
/* How long after the sweep began its event may come: a guard, generous. */
#define SWEEP_SLACK_NS	(2 * 1000000000LL)

static int64_t udp_drops(struct __test_metadata *_metadata, int fd)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);

	EXPECT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len));
	return mem[SK_MEMINFO_DROPS];
}

/*
 * A read of /proc/aqueue changes nothing. A socket filter that drops every
 * datagram does so before the UDP enqueue the probes watch, so only the
 * socket's drop counter knows. A read shows that count at once (the
 * kernel's SO_MEMINFO is the oracle), but the event of the drop comes from
 * the periodic look's sweep of every listener, never from a read. The
 * sweep's moment is learnt from a first such drop, whose event only the
 * sweep can send.
 */
static void reads_change_nothing_in_netns(struct __test_metadata *_metadata,
					  void *arg)
{
	struct sock_filter drop_all = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &drop_all };
	int64_t id, t_sweep, r0, r1, deadline;
	int srv, cli, first, second, i;
	union aq_addr a;
	struct aq_evr ev;
	struct aq_snap s;
	char cmd[64], c = 'x';

	srv = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cli = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, srv);
	ASSERT_LE(0, cli);
	ASSERT_EQ(0, aq_addr(&a, "127.0.0.1", 0));
	ASSERT_EQ(0, bind(srv, &a.sa, aq_addr_len(&a)));
	ASSERT_EQ(0, aq_addr(&a, "127.0.0.1", aq_port_of(srv)));
	/* A burst ends at the next look, which then leaves the row alone. */
	snprintf(cmd, sizeof(cmd), "burst_gap_ms 1\nudp_ports %u\n",
		 aq_port_of(srv));
	ASSERT_EQ(0, aq_ctl(cmd));
	ASSERT_EQ(0, aq_evr_open(&ev));

	/* A datagram that arrives makes the row. */
	ASSERT_EQ(1, sendto(cli, &c, 1, 0, &a.sa, aq_addr_len(&a)));
	ASSERT_EQ(1, recv(srv, &c, 1, 0));
	aq_snapshot(_metadata, &s);
	id = aq_row_of(_metadata, &s, srv)->id;
	aq_snap_free(&s);
	ASSERT_EQ(0, setsockopt(srv, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
				sizeof(prog)));

	/* The first unseen drop: its event tells when the sweep ran. */
	ASSERT_EQ(1, sendto(cli, &c, 1, 0, &a.sa, aq_addr_len(&a)));
	ASSERT_EQ(1, udp_drops(_metadata, srv));
	first = aq_evr_wait(_metadata, &ev, "overflow", id,
			    (SWEEP_NS + SWEEP_SLACK_NS) / 1000000);
	ASSERT_LE(0, first) TH_LOG("no sweep reported the first drop");
	t_sweep = ev.ev[first].ts_ns;
	ASSERT_LE(0, aq_evr_wait(_metadata, &ev, "overflow_end", id,
				 AQ_WAIT_MS));

	/* The second, and reads right after it. */
	ASSERT_EQ(1, sendto(cli, &c, 1, 0, &a.sa, aq_addr_len(&a)));
	ASSERT_EQ(2, udp_drops(_metadata, srv));
	r0 = aq_now_ns();
	for (i = 0; i < 3; i++) {
		aq_snapshot(_metadata, &s);
		EXPECT_EQ(2, aq_row_of(_metadata, &s, srv)->drops);
		aq_snap_free(&s);
	}
	aq_evr_drain(_metadata, &ev);
	r1 = aq_now_ns();
	if (r1 >= t_sweep + SWEEP_NS - SWEEP_SLACK_NS) {
		aq_evr_close(&ev);
		SKIP(return, "the reads ended %.1f s after the sweep, too close to the next one to tell them apart",
		     (r1 - t_sweep) / 1e9);
	}
	second = aq_evr_find(&ev, first + 1, "overflow", id);
	EXPECT_EQ(-1, second)
		TH_LOG("a read sent the drop's event (%.3f s after the reads began)",
		       (ev.ev[second].ts_ns - r0) / 1e9);

	/* The next sweep reports it (the wait is a guard only). */
	for (deadline = aq_now_ns() + SWEEP_NS + SWEEP_SLACK_NS;
	     second < 0 && aq_now_ns() < deadline;) {
		aq_sleep_ns(100 * 1000000LL);
		aq_evr_drain(_metadata, &ev);
		second = aq_evr_find(&ev, first + 1, "overflow", id);
	}
	ASSERT_LE(0, second) TH_LOG("no sweep reported the second drop");
	/*
	 * Sweeps begin SWEEP_NS apart, but an event is stamped when the walk
	 * reaches its listener, so two stamps may be a little closer: half a
	 * period still tells the next sweep from the short periodic look.
	 */
	EXPECT_LT(r1, ev.ev[second].ts_ns);
	EXPECT_LE(t_sweep + SWEEP_NS / 2, ev.ev[second].ts_ns);
	aq_evr_close(&ev);
	close(cli);
	close(srv);
}

AQ_NETNS_TEST_TIMEOUT(reads, a_read_changes_nothing, 120, AQ_RUN,
		      reads_change_nothing_in_netns, NULL)

AQ_TEST_HARNESS_MAIN
