// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation failure: the kernel's failslab makes every slab allocation of
 * this test's listen() calls fail, so aqueue cannot allocate the entry of
 * the listeners created then. Each of them must be counted in
 * untracked_listens (and have no row), the kernel must still have them all
 * (sock_diag, /proc/net/unix), the listeners tracked before must keep
 * working, and nothing may crash or leak (the debug lane checks the kernel
 * log and kmemleak after the suite).
 *
 * failslab is aimed with its task filter: only tasks whose make-it-fail is
 * 1 see failures, and only in task context, so the kernel's softirqs and
 * other tasks are untouched. The test sets it around listen() alone, on a
 * socket already bound, where aqueue's kretprobe on inet_listen or
 * unix_listen is the only allocator (the kernel's listen path allocates
 * nothing then). That is checked, not assumed: every listen() must succeed
 * and failslab must have injected exactly one failure per listen(), the
 * entry's. (The stack-trace filter that could aim at the module's .text,
 * CONFIG_FAULT_INJECTION_STACKTRACE_FILTER, does not exist on x86_64.)
 *
 * A registration that fails part-way: the kernel's fail-nth fails the n-th
 * slab allocation of the task writing "enable", for every n until one is
 * past the registration's last, while another process opens listeners.
 * The probes registered before the failure make rows for some of them;
 * once that process has closed its sockets, the namespace's count of
 * allocated sockets (/proc/net/sockstat) must be back where it was: no
 * row may keep a socket (or its namespace) alive.
 *
 * Needs a kernel with CONFIG_FAILSLAB and CONFIG_FAULT_INJECTION_DEBUG_FS
 * (the debug lane's, tools/vmtest/debug.config); skips elsewhere.
 */
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "kselftest_harness.h"

#include "aq_clock.h"
#include "aq_ctl.h"
#include "aq_diag.h"
#include "aq_file.h"
#include "aq_fixture.h"
#include "aq_netns.h"
#include "aq_proc.h"
#include "aq_snap.h"
#include "aq_sock.h"
#include "aq_task.h"

#define FAILSLAB_DIR	"/sys/kernel/debug/failslab"
#define NTRACKED	3	/* per kind, before the fault */
#define NFAULTED	8	/* per kind, during the fault */
#define FAIL_TIMES	100000
#define FAIL_TIMES_STR	"100000"

enum kind { K_TCP, K_TCP6, K_UNIX, K_NR };

static const char *const kind_name[K_NR] = { "tcp", "tcp6", "unix" };

static int failslab_set(const char *attr, const char *value)
{
	char path[128];

	snprintf(path, sizeof(path), FAILSLAB_DIR "/%s", attr);
	return aq_write_file(path, value);
}

static long failslab_get(const char *attr)
{
	char path[128];

	snprintf(path, sizeof(path), FAILSLAB_DIR "/%s", attr);
	return aq_read_number(path);
}

/* Back to "never fail", whatever state a failed test left. */
static void failslab_off(void)
{
	failslab_set("probability", "0");
	failslab_set("task-filter", "N");
	failslab_set("times", "1");
}

/* Listening unix sockets of this namespace (flags __SO_ACCEPTCON). */
static int unix_listeners(void)
{
	char line[512], flags[16];
	FILE *f = fopen("/proc/net/unix", "re");
	int n = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %15s", flags) == 1 &&
		    !strcmp(flags, "00010000"))
			n++;
	fclose(f);
	return n;
}

/* A socket of the kind, bound (abstract name for unix), not listening. */
static int bound_socket(enum kind k, int i)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	union aq_addr a;
	socklen_t len;
	int fd;

	if (k == K_UNIX) {
		len = offsetof(struct sockaddr_un, sun_path) + 1 +
		      snprintf(un.sun_path + 1, sizeof(un.sun_path) - 1,
			       "aq-fault-%d-%d", (int)getpid(), i);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (bind(fd, (struct sockaddr *)&un, len))
			goto fail;
		return fd;
	}
	if (aq_addr(&a, k == K_TCP ? "127.0.0.1" : "::1", 0))
		return -EINVAL;
	fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, &a.sa, aq_addr_len(&a)))
		goto fail;
	return fd;
fail:
	len = -errno;
	close(fd);
	return (int)len;
}

/* The row of a listening fd, or NULL; any kind. */
static struct aq_row *row_of(struct aq_snap *s, enum kind k, int fd)
{
	struct sockaddr_un un;
	socklen_t len = sizeof(un);
	char local[128];
	int i;

	if (k == K_UNIX) {
		if (getsockname(fd, (struct sockaddr *)&un, &len))
			return NULL;
		snprintf(local, sizeof(local), "@%.*s",
			 (int)(len - offsetof(struct sockaddr_un, sun_path) - 1),
			 un.sun_path + 1);
	} else {
		aq_local_str(fd, local, sizeof(local));
	}
	for (i = 0; i < s->nrows; i++)
		if (s->rows[i].netns == aq_netns_ino() &&
		    !strcmp(s->rows[i].proto, kind_name[k]) &&
		    !strcmp(s->rows[i].local, local))
			return &s->rows[i];
	return NULL;
}

static int kernel_listeners(enum kind k)
{
	if (k == K_UNIX)
		return unix_listeners();
	return aq_count_listeners(k == K_TCP ? AF_INET : AF_INET6);
}

/* A connection to a listener and its accept(); returns 0 or -errno. */
static int connect_accept(enum kind k, int lfd)
{
	struct sockaddr_un un;
	socklen_t len = sizeof(un);
	int cfd, afd;

	if (k == K_UNIX) {
		if (getsockname(lfd, (struct sockaddr *)&un, &len))
			return -errno;
		cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (cfd < 0)
			return -errno;
		if (connect(cfd, (struct sockaddr *)&un, len)) {
			close(cfd);
			return -errno;
		}
	} else {
		cfd = aq_connect(k == K_TCP ? "127.0.0.1" : "::1",
				 aq_port_of(lfd));
		if (cfd < 0)
			return cfd;
	}
	afd = accept(lfd, NULL, NULL);
	if (afd < 0) {
		close(cfd);
		return -errno;
	}
	close(afd);
	close(cfd);
	return 0;
}

FIXTURE(fault) {
	struct aq_ctx c;
};

FIXTURE_SETUP(fault)
{
	failslab_off();
	aq_ctx_setup(_metadata, &self->c, NULL);
}

FIXTURE_TEARDOWN(fault)
{
	failslab_off();
	aq_ctx_teardown(_metadata, &self->c);
}

static void listen_faulted_in_netns(struct __test_metadata *_metadata,
				    void *argp)
{
	int tracked[K_NR][NTRACKED], faulted[K_NR][NFAULTED];
	int before[K_NR], mif, i, k;
	long times_left;
	struct aq_snap s0, s, s2;
	struct aq_row *r;

	aq_snapshot(_metadata, &s0);
	for (k = 0; k < K_NR; k++) {
		before[k] = kernel_listeners(k);
		ASSERT_LE(0, before[k]) TH_LOG("%s: cannot count the kernel's listeners",
					       kind_name[k]);
		for (i = 0; i < NTRACKED; i++) {
			tracked[k][i] = bound_socket(k, i);
			ASSERT_LE(0, tracked[k][i]);
			ASSERT_EQ(0, listen(tracked[k][i], 16));
		}
	}

	mif = open("/proc/self/make-it-fail", O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, mif) TH_LOG("/proc/self/make-it-fail: %s", strerror(errno));
	ASSERT_EQ(0, failslab_set("verbose", "0"));
	ASSERT_EQ(0, failslab_set("space", "0"));
	ASSERT_EQ(0, failslab_set("interval", "1"));
	ASSERT_EQ(0, failslab_set("ignore-gfp-wait", "N"));
	ASSERT_EQ(0, failslab_set("cache-filter", "N"));
	ASSERT_EQ(0, failslab_set("task-filter", "Y"));
	ASSERT_EQ(0, failslab_set("times", FAIL_TIMES_STR));
	ASSERT_EQ(0, failslab_set("probability", "100"));

	/*
	 * Only listen() runs with make-it-fail set: the sockets are bound
	 * already and the file stays open, so the two writes allocate
	 * nothing themselves.
	 */
	for (k = 0; k < K_NR; k++) {
		for (i = 0; i < NFAULTED; i++) {
			int fd = bound_socket(k, NTRACKED + i), ret;

			ASSERT_LE(0, fd);
			ASSERT_EQ(1, pwrite(mif, "1", 1, 0));
			ret = listen(fd, 16);
			ASSERT_EQ(1, pwrite(mif, "0", 1, 0));
			ASSERT_EQ(0, ret) TH_LOG("%s listen() %d under failslab: %s",
						 kind_name[k], i, strerror(errno));
			faulted[k][i] = fd;
		}
	}
	times_left = failslab_get("times");
	failslab_off();
	close(mif);

	EXPECT_EQ(K_NR * NFAULTED, FAIL_TIMES - times_left)
		TH_LOG("failslab injected %ld failures into %d listen() calls",
		       FAIL_TIMES - times_left, K_NR * NFAULTED);

	aq_snapshot(_metadata, &s);
	for (k = 0; k < K_NR; k++) {
		/* The kernel has every listener... */
		EXPECT_EQ(before[k] + NTRACKED + NFAULTED, kernel_listeners(k))
			TH_LOG("%s listeners in the kernel", kind_name[k]);
		/* ...aqueue those it could allocate, and no others. */
		for (i = 0; i < NTRACKED; i++)
			EXPECT_NE(NULL, row_of(&s, k, tracked[k][i]))
				TH_LOG("tracked %s listener %d has no row",
				       kind_name[k], i);
		for (i = 0; i < NFAULTED; i++)
			EXPECT_EQ(NULL, row_of(&s, k, faulted[k][i]))
				TH_LOG("%s listener %d has a row though its entry could not be allocated",
				       kind_name[k], i);
	}
	EXPECT_EQ(s0.untracked_listens + K_NR * NFAULTED, s.untracked_listens);
	EXPECT_EQ(s0.tracked + K_NR * NTRACKED, s.tracked);
	EXPECT_EQ(0, s.untracked_events);

	/* The tracked listeners keep counting, and only theirs. */
	for (k = 0; k < K_NR; k++) {
		int ret = connect_accept(k, tracked[k][0]);

		ASSERT_EQ(0, ret) TH_LOG("%s connection: %s", kind_name[k],
					 strerror(-ret));
	}
	aq_snapshot(_metadata, &s2);
	for (k = 0; k < K_NR; k++) {
		r = row_of(&s2, k, tracked[k][0]);
		ASSERT_NE(NULL, r);
		EXPECT_EQ(1, r->enqueued) TH_LOG("%s", kind_name[k]);
		EXPECT_EQ(1, r->accepted) TH_LOG("%s", kind_name[k]);
		EXPECT_EQ(0, r->qnow) TH_LOG("%s", kind_name[k]);
		EXPECT_EQ(getpid(), r->pid) TH_LOG("%s", kind_name[k]);
	}
	EXPECT_EQ(s.untracked_listens, s2.untracked_listens);
	EXPECT_EQ(s.tracked, s2.tracked);

	for (k = 0; k < K_NR; k++) {
		for (i = 0; i < NTRACKED; i++)
			close(tracked[k][i]);
		for (i = 0; i < NFAULTED; i++)
			close(faulted[k][i]);
	}
	aq_snap_free(&s0);
	aq_snap_free(&s);
	aq_snap_free(&s2);
}

TEST_F(fault, listen_entry_allocation_fails)
{
	if (!self->c.module)
		SKIP(return, "no module at %s", aq_module_path());
	aq_in_netns(_metadata, listen_faulted_in_netns, NULL);
}

/*
 * Sockets of this network namespace allocated and not yet freed (the
 * kernel counts them from sk_alloc() to the last sock_put()), or -1.
 */
static long sockets_used(void)
{
	char buf[4096], *p;
	long n;

	if (aq_read_file("/proc/net/sockstat", buf, sizeof(buf)) <= 0)
		return -1;
	p = strstr(buf, "sockets: used ");
	if (!p || sscanf(p, "sockets: used %ld", &n) != 1)
		return -1;
	return n;
}

#define CHURN_OPEN	32	/* listeners of each kind kept open at once */

/*
 * Opens TCP and unix listeners until killed, keeping the newest
 * CHURN_OPEN of each kind open: whichever of them listen()ed while the
 * listen probes were registered has a row, and is still open when the
 * registration fails.
 */
static void listen_churn(void)
{
	int fds[K_NR][CHURN_OPEN], i, k;

	memset(fds, -1, sizeof(fds));
	for (i = 0;; i++) {
		for (k = 0; k < K_NR; k++) {
			int *slot = &fds[k][i % CHURN_OPEN];

			if (*slot >= 0)
				close(*slot);
			*slot = bound_socket(k, CHURN_OPEN + i % CHURN_OPEN);
			if (*slot < 0 || listen(*slot, 4))
				_exit(1);
		}
	}
}

/* Rows ever made since load: those in the table and those retired. */
static int64_t rows_made(struct __test_metadata *_metadata)
{
	struct aq_snap s;
	int64_t n;

	aq_snapshot(_metadata, &s);
	n = s.tracked + s.closed_listeners;
	aq_snap_free(&s);
	return n;
}

/*
 * "enable" with the registration made to fail at the n-th slab allocation
 * of this task (the kernel's fail-nth), for n = 1, 2, 3, ... until it
 * succeeds, while another process opens listeners. After each failure,
 * once that process has closed them all, every socket it had must be
 * freed: the rows the probes made before the failure must not pin them.
 */
static void enable_fails_in_netns(struct __test_metadata *_metadata,
				  void *argp)
{
	int ctl, nth, n, failed = 0, windows_with_rows = 0;
	long used0, used;
	char num[16];
	pid_t churn;

	ASSERT_EQ(0, aq_ctl("disable\n"));
	used0 = sockets_used();
	ASSERT_LE(0, used0) TH_LOG("no 'sockets: used' in /proc/net/sockstat");
	ctl = open(AQ_CONTROL_PATH, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, ctl);
	nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, nth) TH_LOG("fail-nth: %s", strerror(errno));
	ASSERT_EQ(0, failslab_set("verbose", "0"));
	ASSERT_EQ(0, failslab_set("ignore-gfp-wait", "N"));
	ASSERT_EQ(0, failslab_set("cache-filter", "N"));

	for (n = 1;; n += 1 + n / 8) {
		int64_t made0, made;
		char left[16] = "";
		ssize_t ret;
		int err;

		ASSERT_GT(100000, n) TH_LOG("the fault was always injected");
		made0 = rows_made(_metadata);
		churn = fork();
		ASSERT_LE(0, churn);
		if (churn == 0)
			listen_churn();
		snprintf(num, sizeof(num), "%d", n);
		ASSERT_LT(0, write(nth, num, strlen(num)));
		ret = write(ctl, "enable\n", 7);
		err = ret < 0 ? errno : 0;
		/* fail-nth reads 0 once the fault has been injected. */
		ASSERT_LT(0, pread(nth, left, sizeof(left) - 1, 0));
		ASSERT_LT(0, write(nth, "0", 1));
		kill(churn, SIGKILL);
		ASSERT_EQ(churn, waitpid(churn, NULL, 0));
		if (!err) {
			/* Past the last allocation: nothing failed. */
			if (atoi(left) > 0)
				break;
			/* A failure the registration goes on without. */
			ASSERT_EQ(0, aq_ctl("disable\n"));
		}

		/*
		 * Freed as soon as nothing holds them (the guard is a hang's).
		 * Counted before /proc/aqueue is read, which would look at
		 * the rows.
		 */
		for (int64_t end = aq_now_ns() + AQ_WAIT_MS * 1000000LL;
		     (used = sockets_used()) != used0 && aq_now_ns() < end;)
			aq_sleep_ns(10 * 1000000LL);
		made = rows_made(_metadata);
		if (err) {
			failed++;
			windows_with_rows += made > made0;
		}
		ASSERT_EQ(used0, used)
			TH_LOG("enable with allocation %d failing (%s; %lld rows made): %ld sockets stay allocated with no fd",
			       n, err ? strerror(err) : "went on without it",
			       (long long)(made - made0), used - used0);
	}
	close(nth);
	close(ctl);
	TH_LOG("%d registrations failed part-way, %d of them after probes had made rows",
	       failed, windows_with_rows);
	EXPECT_LT(0, windows_with_rows)
		TH_LOG("no failed registration had made a row: nothing was tested");
}

TEST_F(fault, enable_failing_part_way_pins_no_socket)
{
	if (!self->c.module)
		SKIP(return, "no module at %s", aq_module_path());
	if (!aq_path_exists("/proc/thread-self/fail-nth"))
		SKIP(return, "no /proc/thread-self/fail-nth");
	aq_in_netns(_metadata, enable_fails_in_netns, NULL);
}

int main(int argc, char **argv)
{
	if (!aq_path_exists(FAILSLAB_DIR "/probability") ||
	    !aq_path_exists("/proc/self/make-it-fail")) {
		ksft_print_header();
		ksft_exit_skip("no failslab (needs CONFIG_FAILSLAB and CONFIG_FAULT_INJECTION_DEBUG_FS, and debugfs at /sys/kernel/debug)\n");
	}
	return aq_harness_main(argc, argv);
}
