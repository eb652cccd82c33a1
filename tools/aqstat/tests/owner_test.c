// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * owner_test: owners_fill() (owner.c) on a proc tree of its own making,
 * the time given: what a scan finds, that a read finds the owners it
 * found before without a scan, that it scans at once for an inode it has
 * not looked for and for an owner that let its socket go, and only every
 * OWNER_RETRY_S for an inode no process was found for. Counts the scans
 * (struct owner_cache's scans). Prints "ok"/"not ok" lines, exits 1 on a
 * failure.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "owner.h"

static char root[] = "/tmp/aqstat-owner-test.XXXXXX";
static int failed;

#define CHECK(cond, ...) do {						\
	if (cond) {							\
		printf("ok - ");					\
	} else {							\
		printf("not ok - ");					\
		failed = 1;						\
	}								\
	printf(__VA_ARGS__);						\
	printf(" (%s)\n", #cond);					\
} while (0)

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A shell command in the tree, which it must not fail. */
static void sh(const char *fmt, ...)
{
	char cmd[512];
	int n = snprintf(cmd, sizeof(cmd), "cd '%s' && ", root);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
	va_end(ap);
	if (system(cmd)) {
		fprintf(stderr, "owner_test: failed: %s\n", cmd);
		exit(1);
	}
}

/* Process PID with comm COMM holds the socket INO at descriptor FD. */
static void holds(int pid, const char *comm, int fd, unsigned long ino)
{
	sh("mkdir -p %d/fd && printf '%%s\\n' '%s' > %d/comm && ln -sfn 'socket:[%lu]' %d/fd/%d",
	   pid, comm, pid, ino, pid, fd);
}

/* A snapshot of @n listeners, the module knowing none's owner. */
static void snapshot(struct aq_snapshot *s, const uint64_t *ino, size_t n)
{
	memset(s, 0, sizeof(*s));
	s->l = calloc(n, sizeof(*s->l));
	if (!s->l)
		exit(1);
	s->n = s->cap = n;
	for (size_t i = 0; i < n; i++) {
		s->l[i].id = i + 1;
		s->l[i].ino = ino[i];
		s->l[i].comm = strdup("-");
	}
}

static void snapshot_free(struct aq_snapshot *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->l[i].comm);
	free(s->l);
}

/* Whether row @i has the owner @pid @comm. */
static int owned(const struct aq_snapshot *s, size_t i, uint64_t pid,
		 const char *comm)
{
	return s->l[i].pid == pid && !strcmp(s->l[i].comm, comm);
}

/* A read at @now of listeners @ino[0..@n): its snapshot in @s. */
static void read_at(struct owner_cache *c, struct aq_snapshot *s,
		    const uint64_t *ino, size_t n, double now)
{
	snapshot_free(s);
	snapshot(s, ino, n);
	owners_fill(c, s, now);
}

int main(void)
{
	struct owner_cache c = { .retry_s = 5 };
	const uint64_t three[] = { 5001, 5002, 5003 };
	const uint64_t four[] = { 5001, 5002, 5003, 5004 };
	const uint64_t two[] = { 5001, 5003 };
	struct aq_snapshot s;

	if (!mkdtemp(root)) {
		perror("owner_test: mkdtemp");
		return 1;
	}
	c.proc = root;
	holds(100, "server", 3, 5001);
	holds(200, "db", 4, 5002);
	/* what a scan must pass over */
	sh("ln -s /dev/null 200/fd/0 && ln -s 'pipe:[77]' 200/fd/5 && mkdir sys 300 && echo x > 300/comm");

	snapshot(&s, three, 3);
	owners_fill(&c, &s, 0);
	CHECK(c.scans == 1, "the first read scans");
	CHECK(owned(&s, 0, 100, "server") && owned(&s, 1, 200, "db"), "the owners found");
	CHECK(owned(&s, 2, 0, "-"), "an inode no process holds keeps pid 0 and comm -");

	read_at(&c, &s, three, 3, 1);
	CHECK(c.scans == 1, "the next read does not scan");
	CHECK(owned(&s, 0, 100, "server") && owned(&s, 1, 200, "db"),
	      "and has the owners from before");
	read_at(&c, &s, three, 3, 4.9);
	CHECK(c.scans == 1, "nor does one before the retry for the inode not found");

	/* found later, escaped as the module writes a comm */
	holds(400, "late\001x\\", 9, 5003);
	read_at(&c, &s, three, 3, 5);
	CHECK(c.scans == 2, "the retry is a scan");
	CHECK(owned(&s, 2, 400, "late\\001x\\134"), "which finds the owner that came, comm escaped");
	read_at(&c, &s, three, 3, 5.5);
	CHECK(c.scans == 2 && owned(&s, 2, 400, "late\\001x\\134"), "kept after");

	/* a listener the last scan has not looked for: a scan at once */
	holds(100, "server", 4, 5004);
	read_at(&c, &s, four, 4, 6);
	CHECK(c.scans == 3, "a new inode is a scan at once");
	CHECK(owned(&s, 3, 100, "server"), "which finds its owner");

	/* the owner let the socket go, another holds it: a scan at once */
	sh("rm 100/fd/3");
	holds(500, "heir", 3, 5001);
	read_at(&c, &s, four, 4, 6.5);
	CHECK(c.scans == 4, "an owner no longer at its descriptor is a scan at once");
	CHECK(owned(&s, 0, 500, "heir"), "which finds the new owner");
	read_at(&c, &s, four, 4, 7);
	CHECK(c.scans == 4, "and then none");

	/* a listener the module knows the owner of is left alone */
	snapshot_free(&s);
	snapshot(&s, four, 4);
	s.l[1].pid = 42;
	free(s.l[1].comm);
	s.l[1].comm = strdup("known");
	owners_fill(&c, &s, 7.5);
	CHECK(c.scans == 4 && owned(&s, 1, 42, "known"), "an owner the module gave stays");

	/* listeners gone: their owners are forgotten */
	read_at(&c, &s, two, 2, 8);
	CHECK(c.n == 2 && c.scans == 4, "the owners of listeners gone are forgotten");

	/* a reader that may list nothing: found nothing, scans no more often */
	sh("chmod 000 500/fd");
	if (geteuid() != 0) {
		read_at(&c, &s, two, 2, 9);
		CHECK(c.scans == 5 && owned(&s, 0, 0, "-"), "an owner not ours to see is not shown");
		read_at(&c, &s, two, 2, 10);
		CHECK(c.scans == 5, "and not looked for again before the retry");
	}
	sh("chmod 755 500/fd");

	snapshot_free(&s);
	owner_cache_free(&c);
	sh("cd / && rm -rf '%s'", root);
	printf("%s\n", failed ? "owner_test: FAILED" : "owner_test: passed");
	return failed;
}
