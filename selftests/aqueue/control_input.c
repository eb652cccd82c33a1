// SPDX-License-Identifier: GPL-2.0
/*
 * Bad input to the control file: doc/interface.md says a write is parsed and
 * checked whole, one bad line refuses the whole write with EINVAL (ENOENT
 * for the id of `reset ID`) and changes nothing, and a write must be smaller
 * than a page and hold at most 64 commands (aqstat.8 names E2BIG for "too
 * long").
 *
 * Each bad line is written three ways: alone, after a batch of valid
 * commands that would each change something visible (disable, reset, a
 * filter, both limits), and before that batch. After every refusal the
 * control file (minus the probes' hit counters) and /proc/aqueue must read
 * as before, against a listener that has something to lose: queued
 * connections, an accept, dropped SYNs.
 */
#include <fcntl.h>
#include <inttypes.h>

#include "kselftest_harness.h"

#include "aq_clock.h"
#include "aq_ctl.h"
#include "aq_diag.h"
#include "aq_fill.h"
#include "aq_fixture.h"
#include "aq_module.h"
#include "aq_netns.h"
#include "aq_proc.h"
#include "aq_snap.h"
#include "aq_sock.h"

#define AQ_EINVAL	(1 << 0)
#define AQ_E2BIG	(1 << 1)
#define AQ_ENOENT	(1 << 2)

struct bad {
	const char *bytes;
	size_t len;
	int allowed;		/* AQ_E* bits */
};

/* A literal with its exact length, NULs included. */
#define B(lit, allowed) { lit, sizeof(lit) - 1, allowed }

/* Valid commands that would each show if applied. */
static const char valid_batch[] =
	"disable\nreset\nfilter port 1\nfilter family ipv6\nmax_listeners 3\nmax_memory 1M\n";

static int errno_bit(int err)
{
	switch (err) {
	case -EINVAL: return AQ_EINVAL;
	case -E2BIG: return AQ_E2BIG;
	case -ENOENT: return AQ_ENOENT;
	}
	return 0;
}

static const char *errno_names(int allowed, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s", allowed & AQ_EINVAL ? "EINVAL " : "",
		 allowed & AQ_E2BIG ? "E2BIG " : "",
		 allowed & AQ_ENOENT ? "ENOENT " : "");
	return buf;
}

/* Printable form of arbitrary bytes, for the log. */
static const char *show(const char *b, size_t len, char *out, size_t size)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 8 < size; i++) {
		unsigned char ch = b[i];

		if (ch == '\n')
			o += snprintf(out + o, size - o, "\\n");
		else if (ch == '\t')
			o += snprintf(out + o, size - o, "\\t");
		else if (ch < 0x20 || ch >= 0x7f)
			o += snprintf(out + o, size - o, "\\x%02x", ch);
		else
			out[o++] = ch;
	}
	if (i < len)
		o += snprintf(out + o, size - o, "...(%zu bytes)", len);
	out[o] = '\0';
	return out;
}

/* Writes bytes, expects one of the allowed errnos and an unchanged world
 * (re-reading it as the new baseline when it did change, so that one
 * failure does not hide the next). Returns whether all was as expected. */
static bool refused(struct __test_metadata *_metadata, struct aq_world *w,
		    const char *bytes, size_t len, int allowed)
{
	char what[200], names[40];
	bool ok = true;
	int ret;

	ret = aq_ctl_write(bytes, len);
	show(bytes, len, what, sizeof(what));
	if (!(errno_bit(ret) & allowed)) {
		TH_LOG("'%s': write returned %s, expected %s", what,
		       ret ? strerror(-ret) : "success",
		       errno_names(allowed, names, sizeof(names)));
		ok = false;
	}
	if (!aq_world_unchanged(_metadata, w, what)) {
		ok = false;
		aq_snap_free(&w->snap);
		aq_world_read(_metadata, w);
	}
	return ok;
}

/* The bad line alone, after the valid batch and before it. */
static int refused_three_ways(struct __test_metadata *_metadata,
			      struct aq_world *w, const struct bad *b)
{
	size_t vlen = sizeof(valid_batch) - 1;
	char *buf = malloc(b->len + vlen + 2);
	int failed = 0;

	ASSERT_NE(NULL, buf);
	failed += !refused(_metadata, w, b->bytes, b->len, b->allowed);
	memcpy(buf, valid_batch, vlen);
	memcpy(buf + vlen, b->bytes, b->len);
	failed += !refused(_metadata, w, buf, vlen + b->len, b->allowed);
	memcpy(buf, b->bytes, b->len);
	buf[b->len] = '\n';
	memcpy(buf + b->len + 1, valid_batch, vlen);
	failed += !refused(_metadata, w, buf, b->len + 1 + vlen, b->allowed);
	free(buf);
	return failed;
}

struct table {
	const struct bad *bad;
	size_t n;
};

/* A listener with something to lose: 2 queued, 1 accepted, 2 drops. */
static int busy_listener(struct __test_metadata *_metadata, int *cfd)
{
	int lfd, afd;

	lfd = aq_listen_tcp("127.0.0.1", 0, 2, 0);
	ASSERT_LE(0, lfd);
	aq_fill(_metadata, lfd, "127.0.0.1", cfd, 3, 0);
	aq_overflow(_metadata, lfd, "127.0.0.1", 2);
	afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, afd);
	close(afd);
	ASSERT_EQ(2, aq_wait_rqueue(lfd, 2));
	return lfd;
}

static void table_in_netns(struct __test_metadata *_metadata, void *arg)
{
	struct table *t = arg;
	struct aq_world *w = calloc(1, sizeof(*w));
	int cfd[3], lfd, failed = 0;
	struct aq_row *r;
	size_t i;

	ASSERT_NE(NULL, w);
	lfd = busy_listener(_metadata, cfd);
	aq_world_read(_metadata, w);
	r = aq_find_row(&w->snap, lfd);
	ASSERT_NE(NULL, r);
	ASSERT_LT(0, r->accepted);
	ASSERT_LT(0, r->drops);

	for (i = 0; i < t->n; i++)
		failed += refused_three_ways(_metadata, w, &t->bad[i]);
	EXPECT_EQ(0, failed) TH_LOG("%d of %zu writes not refused as doc/interface.md says",
				    failed, 3 * t->n);
	aq_snap_free(&w->snap);
	free(w);
	aq_close_fds(cfd, 3);
	close(lfd);
}

AQ_FIXTURE_TIMED(input, NULL, AQ_MODULE_REQUIRED, NULL)

/* The argument of table_in_netns for a table of bad writes. */
#define TABLE(tbl) (&(struct table){ tbl, ARRAY_SIZE(tbl) })

/* Unknown words, missing and extra arguments. */
static const struct bad bad_words[] = {
	B("bogus\n", AQ_EINVAL),
	B("Enable\n", AQ_EINVAL),
	B("DISABLE\n", AQ_EINVAL),
	B("enable now\n", AQ_EINVAL),
	B("disable 1\n", AQ_EINVAL),
	B("reset 1 2\n", AQ_EINVAL),
	B("reset all\n", AQ_EINVAL),
	B("filter\n", AQ_EINVAL),
	B("filter port\n", AQ_EINVAL),
	B("filter port 80 443\n", AQ_EINVAL),
	B("filter port 80, 443\n", AQ_EINVAL),
	B("filter colour red\n", AQ_EINVAL),
	B("filter netns\n", AQ_EINVAL),
	B("filter netns any extra\n", AQ_EINVAL),
	B("filter family\n", AQ_EINVAL),
	B("filter family ipv5\n", AQ_EINVAL),
	B("filter family IPV4\n", AQ_EINVAL),
	B("filter family inet\n", AQ_EINVAL),
	B("filter kind\n", AQ_EINVAL),
	B("filter kind sctp\n", AQ_EINVAL),
	B("filter kind tcp udp\n", AQ_EINVAL),
	B("filter port any,80\n", AQ_EINVAL),
	B("max_listeners\n", AQ_EINVAL),
	B("max_listeners 5 6\n", AQ_EINVAL),
	B("max_memory\n", AQ_EINVAL),
	B("max_memory 1M 2M\n", AQ_EINVAL),
	B("enable;disable\n", AQ_EINVAL),
	B("max-listeners 5\n", AQ_EINVAL),
	B("max_listeners=5\n", AQ_EINVAL),
};

AQ_NETNS_TEST(input, unknown_missing_extra_words, AQ_RUN, table_in_netns,
	      TABLE(bad_words))

/* Out of range, negative, malformed and huge numbers. */
static const struct bad bad_numbers[] = {
	B("filter port 0\n", AQ_EINVAL),
	B("filter port 65536\n", AQ_EINVAL),
	B("filter port -1\n", AQ_EINVAL),
	B("filter port -80\n", AQ_EINVAL),
	B("filter port 80,\n", AQ_EINVAL),
	B("filter port ,80\n", AQ_EINVAL),
	B("filter port 80,,81\n", AQ_EINVAL),
	B("filter port 80.5\n", AQ_EINVAL),
	B("filter port 0x50\n", AQ_EINVAL),
	B("filter port 4294967376\n", AQ_EINVAL),		/* 2^32 + 80 */
	B("filter port 18446744073709551616\n", AQ_EINVAL),	/* 2^64 */
	B("filter port 18446744073709551696\n", AQ_EINVAL),	/* 2^64 + 80 */
	/* 17 ports: doc/interface.md allows up to 16. */
	B("filter port 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\n", AQ_EINVAL),
	B("filter netns 0\n", AQ_EINVAL),
	B("filter netns -1\n", AQ_EINVAL),
	B("filter netns 4294967296\n", AQ_EINVAL),		/* 2^32 */
	B("filter netns 18446744073709551616\n", AQ_EINVAL),
	B("filter netns 18446744077999999999\n", AQ_EINVAL),
	B("max_listeners 0\n", AQ_EINVAL),
	B("max_listeners 16777217\n", AQ_EINVAL),
	B("max_listeners -1\n", AQ_EINVAL),
	B("max_listeners -0\n", AQ_EINVAL),
	B("max_listeners 4294967297\n", AQ_EINVAL),		/* 2^32 + 1 */
	B("max_listeners 18446744073709551616\n", AQ_EINVAL),
	B("max_listeners 18446744073709551617\n", AQ_EINVAL),
	B("max_listeners 100000000000000000000000000000\n", AQ_EINVAL),
	B("max_listeners 5x\n", AQ_EINVAL),
	B("max_listeners 1K\n", AQ_EINVAL),
	B("max_listeners 1e3\n", AQ_EINVAL),
	B("max_memory 0\n", AQ_EINVAL),
	B("max_memory 65535\n", AQ_EINVAL),
	B("max_memory 63K\n", AQ_EINVAL),
	B("max_memory -1\n", AQ_EINVAL),
	B("max_memory -64K\n", AQ_EINVAL),
	B("max_memory K\n", AQ_EINVAL),
	B("max_memory 1Q\n", AQ_EINVAL),
	B("max_memory 64KB\n", AQ_EINVAL),
	B("max_memory 1.5M\n", AQ_EINVAL),
	B("max_memory 16E\n", AQ_EINVAL),			/* 2^64 */
	B("max_memory 8E\n", AQ_EINVAL),			/* 2^63 */
	B("max_memory 18446744073709551616\n", AQ_EINVAL),	/* 2^64 */
	B("max_memory 18446744073709617152\n", AQ_EINVAL),	/* 2^64 + 64K */
	B("max_memory 36893488147419168768\n", AQ_EINVAL),	/* 2^65 + 64K */
	B("max_memory 17179869185G\n", AQ_EINVAL),		/* 2^64 + 1G */
	B("reset -1\n", AQ_EINVAL),
	B("reset 1x\n", AQ_EINVAL),
	/* Not a number an id can be; ENOENT ("none with that id") is a
	 * fair answer too. */
	B("reset 0\n", AQ_EINVAL | AQ_ENOENT),
	B("reset 18446744073709551616\n", AQ_EINVAL | AQ_ENOENT),
};

AQ_NETNS_TEST(input, out_of_range_and_huge_numbers, AQ_RUN, table_in_netns,
	      TABLE(bad_numbers))

/* NUL bytes and bytes that are not UTF-8 (or not ASCII words). */
static const struct bad bad_bytes[] = {
	B("\0", AQ_EINVAL),
	B("disable\0", AQ_EINVAL),
	B("disable\0\n", AQ_EINVAL),
	B("enable\0bogus\n", AQ_EINVAL),
	B("reset\n\0\n", AQ_EINVAL),
	B("filter port 80\0\n", AQ_EINVAL),
	B("\xff\xfe\n", AQ_EINVAL),
	B("filter port 80\xff\n", AQ_EINVAL),
	B("dis\x80" "able\n", AQ_EINVAL),
	B("filter family ipv4\xc0\n", AQ_EINVAL),
	/* A lone 0xA0 is not UTF-8; Latin-1 calls it a no-break space. */
	B("disable\xa0\n", AQ_EINVAL),
	B("\xa0" "disable\n", AQ_EINVAL),
	B("reset\xa0\n", AQ_EINVAL),
	/* UTF-8 no-break space: valid UTF-8, but not a separator. */
	B("disable\xc2\xa0\n", AQ_EINVAL),
	B("max_listeners\xc2\xa0" "5\n", AQ_EINVAL),
	B("disable\x1b[0m\n", AQ_EINVAL),
};

AQ_NETNS_TEST(input, nul_and_non_utf8_bytes, AQ_RUN, table_in_netns,
	      TABLE(bad_bytes))

/* ------------------------------------------------------------------ */

static void limits_in_netns(struct __test_metadata *_metadata, void *arg)
{
	long page = sysconf(_SC_PAGESIZE);
	struct aq_world *w = calloc(1, sizeof(*w));
	size_t big = 1 << 20, len, i;
	char *buf = malloc(big), cmd[64];
	int cfd[3], lfd, ret;

	ASSERT_NE(NULL, w);
	ASSERT_NE(NULL, buf);
	lfd = busy_listener(_metadata, cfd);
	aq_world_read(_metadata, w);

	/* "disable" then comment lines up to `len` bytes in all. */
#define FILL(total) do {						\
	memset(buf, '#', (total));					\
	memcpy(buf, "disable\n", 8);					\
	for (i = 8 + 100; i < (size_t)(total); i += 101)		\
		buf[i] = '\n';						\
	buf[(total) - 1] = '\n';					\
} while (0)

	FILL((size_t)page);
	EXPECT_TRUE(refused(_metadata, w, buf, page, AQ_E2BIG | AQ_EINVAL))
		TH_LOG("a write of exactly PAGE_SIZE (%ld)", page);
	FILL((size_t)page + 1);
	EXPECT_TRUE(refused(_metadata, w, buf, page + 1, AQ_E2BIG | AQ_EINVAL));
	FILL(3 * (size_t)page);
	EXPECT_TRUE(refused(_metadata, w, buf, 3 * page, AQ_E2BIG | AQ_EINVAL));
	FILL(big);
	EXPECT_TRUE(refused(_metadata, w, buf, big, AQ_E2BIG | AQ_EINVAL));

	/* One line longer than a page. */
	len = snprintf(buf, big, "filter port ");
	while (len < (size_t)page + 100)
		len += snprintf(buf + len, big - len, "80,");
	buf[len - 1] = '\n';
	EXPECT_TRUE(refused(_metadata, w, buf, len, AQ_E2BIG | AQ_EINVAL))
		TH_LOG("a line of %zu bytes", len);

	/* One byte less than a page: accepted and applied. */
	FILL((size_t)page - 1);
	ret = aq_ctl_write(buf, page - 1);
	EXPECT_EQ(0, ret) TH_LOG("a write of PAGE_SIZE - 1 bytes: %s",
				 strerror(-ret));
	EXPECT_EQ(0, aq_ctl_value(_metadata, "enabled"));
	ASSERT_EQ(0, aq_ctl("enable\n"));
	aq_snap_free(&w->snap);
	aq_world_read(_metadata, w);

	/* 64 commands: accepted, all applied in order; 65: refused. */
	len = 0;
	for (i = 0; i < 63; i++)
		len += snprintf(buf + len, big - len, "max_listeners %zu\n",
				1000 + i);
	len += snprintf(buf + len, big - len, "max_listeners 4321\n");
	ret = aq_ctl_write(buf, len);
	EXPECT_EQ(0, ret) TH_LOG("64 commands: %s", strerror(-ret));
	EXPECT_EQ(4321, aq_ctl_value(_metadata, "max_listeners"));
	aq_snap_free(&w->snap);
	aq_world_read(_metadata, w);
	len = 0;
	for (i = 0; i < 65; i++)
		len += snprintf(buf + len, big - len, "max_listeners %zu\n",
				2000 + i);
	EXPECT_TRUE(refused(_metadata, w, buf, len, AQ_E2BIG | AQ_EINVAL))
		TH_LOG("65 commands in one write");
	/* Comments and empty lines are not commands. */
	len = 0;
	for (i = 0; i < 64; i++)
		len += snprintf(buf + len, big - len, "# %zu\n\nmax_listeners %zu\n",
				i, 3000 + i);
	ret = aq_ctl_write(buf, len);
	EXPECT_EQ(0, ret) TH_LOG("64 commands with comments: %s",
				 strerror(-ret));
	snprintf(cmd, sizeof(cmd), "%d", 3063);
	AQ_CTL_EXPECT_LINE("max_listeners", cmd);
#undef FILL
	aq_snap_free(&w->snap);
	free(w);
	free(buf);
	aq_close_fds(cfd, 3);
	close(lfd);
}

AQ_NETNS_TEST(input, page_and_command_limits, AQ_RUN, limits_in_netns, NULL)

/* Two write() calls on one open file, the line cut in the middle: neither
 * half is a command, so both are refused and nothing changes. */
static void split_in_netns(struct __test_metadata *_metadata, void *arg)
{
	static const char *const halves[][2] = {
		{ "filter po", "rt 80\n" },
		{ "disab", "le\n" },
		{ "max_memory 1", "M\n" },
		{ "filter family ip", "v6\n" },
		/* The first half is a whole command on its own. */
		{ "max_listeners 12", "34\n" },
	};
	struct aq_world *w = calloc(1, sizeof(*w));
	int cfd[3], lfd, fd, i, j;

	ASSERT_NE(NULL, w);
	lfd = busy_listener(_metadata, cfd);
	aq_world_read(_metadata, w);
	for (i = 0; i < (int)(sizeof(halves) / sizeof(halves[0])); i++) {
		fd = open(AQ_CONTROL_PATH, O_WRONLY | O_CLOEXEC);
		ASSERT_LE(0, fd);
		for (j = 0; j < 2; j++) {
			ssize_t n = write(fd, halves[i][j],
					  strlen(halves[i][j]));

			EXPECT_EQ(-1, n) TH_LOG("'%s' + '%s': part %d taken",
						halves[i][0], halves[i][1], j + 1);
			if (n < 0)
				EXPECT_EQ(EINVAL, errno);
		}
		close(fd);
		EXPECT_TRUE(aq_world_unchanged(_metadata, w, halves[i][0]));
	}
	aq_snap_free(&w->snap);
	free(w);
	aq_close_fds(cfd, 3);
	close(lfd);
}

AQ_NETNS_TEST(input, write_split_mid_line, AQ_RUN, split_in_netns, NULL)

/* reset ID of an id that does not exist: ENOENT, alone or in a batch. */
static void enoent_in_netns(struct __test_metadata *_metadata, void *arg)
{
	static const char *const tails[] = { "", "\nenable", "\ndisable" };
	struct aq_world *w = calloc(1, sizeof(*w));
	int cfd[3], lfd, i;
	int64_t id;
	char buf[512];

	ASSERT_NE(NULL, w);
	lfd = busy_listener(_metadata, cfd);
	aq_world_read(_metadata, w);
	id = aq_find_row(&w->snap, lfd)->id;

	for (i = 0; i < 3; i++) {
		snprintf(buf, sizeof(buf), "reset %" PRId64 "%s\n", id + 1000,
			 tails[i]);
		EXPECT_TRUE(refused(_metadata, w, buf, strlen(buf), AQ_ENOENT));
		snprintf(buf, sizeof(buf), "%sreset %" PRId64 "%s\n",
			 valid_batch, id + 1000, tails[i]);
		EXPECT_TRUE(refused(_metadata, w, buf, strlen(buf), AQ_ENOENT));
	}
	snprintf(buf, sizeof(buf), "reset %" PRId64 "\n", (int64_t)UINT32_MAX);
	EXPECT_TRUE(refused(_metadata, w, buf, strlen(buf), AQ_ENOENT));

	/* The listener's own id works, and only that. */
	snprintf(buf, sizeof(buf), "reset %" PRId64 "\n", id);
	EXPECT_EQ(0, aq_ctl(buf));
	/* Its row gone (closed), its id is unknown from then on. */
	aq_close_fds(cfd, 3);
	close(lfd);
	aq_snap_free(&w->snap);
	aq_world_read(_metadata, w);
	EXPECT_TRUE(refused(_metadata, w, buf, strlen(buf), AQ_ENOENT))
		TH_LOG("reset of a closed listener's id");
	aq_snap_free(&w->snap);
	free(w);
}

AQ_NETNS_TEST(input, reset_unknown_id_is_enoent, AQ_RUN, enoent_in_netns, NULL)

/*
 * All or nothing when a command of the batch removes the row that a later
 * `reset ID` names: either the write succeeds (the reset finds nothing to
 * do) or it is refused and nothing changed; never refused yet half
 * applied.
 */
static void order_in_netns(struct __test_metadata *_metadata, void *arg)
{
	static const char *const heads[] = {
		"filter port 1\n", "disable\nenable\n", "filter kind unix\n",
	};
	struct aq_world *w = calloc(1, sizeof(*w));
	int cfd[3], extra[3], lfd, afd, ret, i;
	char buf[256], what[256];
	int64_t id;

	ASSERT_NE(NULL, w);
	lfd = busy_listener(_metadata, cfd);
	for (i = 0; i < 3; i++) {
		aq_world_read(_metadata, w);
		ASSERT_NE(NULL, aq_find_row(&w->snap, lfd));
		id = aq_find_row(&w->snap, lfd)->id;
		snprintf(buf, sizeof(buf), "%sreset %" PRId64 "\n", heads[i], id);
		ret = aq_ctl(buf);
		show(buf, strlen(buf), what, sizeof(what));
		if (ret) {
			EXPECT_TRUE(aq_world_unchanged(_metadata, w, what))
				TH_LOG("'%s' was refused (%s) but partly applied",
				       what, strerror(-ret));
		}
		/* Back to a tracked listener for the next round: make room
		 * in the queue, then one connection (the row's first event). */
		ASSERT_EQ(0, aq_ctl("filter port any\nfilter kind any\nenable\n"));
		afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		ASSERT_LE(0, afd);
		close(afd);
		aq_fill(_metadata, lfd, "127.0.0.1", &extra[i], 1,
			aq_diag_rqueue(lfd));
		aq_snap_free(&w->snap);
	}
	free(w);
	aq_close_fds(extra, 3);
	aq_close_fds(cfd, 3);
	close(lfd);
}

AQ_NETNS_TEST(input, batch_is_all_or_nothing_when_reset_target_goes, AQ_RUN,
	      order_in_netns, NULL)

AQ_TEST_HARNESS_MAIN
