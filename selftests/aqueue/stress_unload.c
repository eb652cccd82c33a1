// SPDX-License-Identifier: GPL-2.0
/*
 * rmmod under load: 100 load/unload cycles while, all the time,
 *
 *  - two processes run a TCP connection storm (connect, accept, close
 *    with RST) and every 50 connections close their listener with three
 *    connections queued and open a new one;
 *  - threads sleep in accept() on a TCP and a unix listener and are woken
 *    now and then, and a unix connect sleeps on a full queue: kretprobe
 *    instances are in flight when the probes go away;
 *  - two processes read /proc/aqueue in 512-byte pieces, one of them also
 *    keeping a file open across cycles and reading it again later;
 *  - one process writes `reset` and `filter port any` to the control file
 *    (ENOENT, ENXIO or EIO while the module goes away; nothing else).
 *
 * After each load the test reads /proc/aqueue itself (every complete row
 * must satisfy the format's identities). At the end: no worker is left
 * blocked (each ends when told, within a bound that only guards against a
 * hang, and no task of the system stays in uninterruptible sleep), the
 * kernel logged no warning, oops or lockdep report (the guest also runs
 * with panic_on_warn), and, where the kernel has kmemleak (the debug
 * lane), it reports no leak. Reads of a file whose module went away may
 * fail with EIO and opens with ENOENT; any other error fails the test.
 *
 * A second test unloads with /proc/aqueue open in the middle of a read and
 * the control file open: the unload is refused while the control file is
 * open (debugfs holds the module) or the open files fail cleanly, and
 * nothing is reported.
 *
 * AQ_UNLOAD_CYCLES changes the number of cycles (100).
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"

#include "aq_clock.h"
#include "aq_file.h"
#include "aq_fixture.h"
#include "aq_invariants.h"
#include "aq_klog.h"
#include "aq_kmemleak.h"
#include "aq_module.h"
#include "aq_netns.h"
#include "aq_proc.h"
#include "aq_snap.h"
#include "aq_sock.h"
#include "aq_task.h"
#include "aq_unix.h"

#define CYCLES 100
#define NSTORM 2
#define NREADERS 2

struct shared {
	atomic_int stop;
	atomic_int storm_ready;
	atomic_long connections, relistens, reads_ok, reads_gone, reads_eio;
	atomic_long held_reads, ctl_ok, ctl_gone, wakeups, unix_wakeups;
	struct aq_errors err;
};

/* ------------------------------------------------------------------ */
/* Workers                                                             */

static void storm(struct shared *sh, int id)
{
	int lfd = aq_listen_tcp("127.0.0.1", 0, 128, 0), n = 0;

	if (lfd < 0) {
		aq_error(&sh->err, "storm %d: listen: %s", id, strerror(-lfd));
		_exit(1);
	}
	atomic_fetch_add(&sh->storm_ready, 1);
	while (!atomic_load(&sh->stop)) {
		int c = aq_connect("127.0.0.1", aq_port_of(lfd)), a;

		if (c < 0) {
			aq_error(&sh->err, "storm %d: connect: %s", id, strerror(-c));
			break;
		}
		a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (a < 0) {
			aq_error(&sh->err, "storm %d: accept: %s", id, strerror(errno));
			break;
		}
		aq_close_rst(c);
		close(a);
		atomic_fetch_add(&sh->connections, 1);
		if (n % 10 == 9)
			usleep(2000);	/* two vCPUs: leave some to the loader */
		if (++n % 50 == 0) {
			/* Close with three queued, listen anew. */
			int q[3], i, fresh;

			for (i = 0; i < 3; i++)
				q[i] = aq_connect("127.0.0.1", aq_port_of(lfd));
			close(lfd);
			for (i = 0; i < 3; i++)
				aq_close_rst(q[i]);
			fresh = aq_listen_tcp("127.0.0.1", 0, 128, 0);
			if (fresh < 0) {
				aq_error(&sh->err, "storm %d: listen again: %s", id,
					 strerror(-fresh));
				break;
			}
			lfd = fresh;
			atomic_fetch_add(&sh->relistens, 1);
		}
	}
	close(lfd);
	_exit(0);
}

struct sleeper {
	struct shared *sh;
	int tcp, unx;
	struct sockaddr_un sun;
	socklen_t sunlen;
};

static void *tcp_acceptor(void *p)
{
	struct sleeper *s = p;

	for (;;) {
		int a = accept4(s->tcp, NULL, NULL, SOCK_CLOEXEC);

		if (a >= 0) {
			close(a);
			atomic_fetch_add(&s->sh->wakeups, 1);
		}
	}
	return NULL;
}

static void *unix_acceptor(void *p)
{
	struct sleeper *s = p;

	for (;;) {
		int a;

		usleep(300000);
		a = accept4(s->unx, NULL, NULL, SOCK_CLOEXEC);
		if (a >= 0) {
			close(a);
			atomic_fetch_add(&s->sh->unix_wakeups, 1);
		}
	}
	return NULL;
}

static void *unix_connector(void *p)
{
	struct sleeper *s = p;

	for (;;) {
		/* Backlog 0 admits one: the next connect sleeps until the
		 * acceptor makes room. */
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)&s->sun, s->sunlen))
			aq_error(&s->sh->err, "unix connect: %s", strerror(errno));
		close(fd);
	}
	return NULL;
}

/* Threads asleep in accept() and connect() when the probes go. */
static void sleepers(struct shared *sh)
{
	static struct sleeper s;
	pthread_t t[4];

	s.sh = sh;
	s.tcp = aq_listen_tcp("127.0.0.1", 0, 8, 0);
	s.sun.sun_family = AF_UNIX;
	memcpy(s.sun.sun_path + 1, "aq-unload", 9);
	s.sunlen = offsetof(struct sockaddr_un, sun_path) + 10;
	s.unx = aq_unix_listen_at("aq-unload", true, 0);
	if (s.tcp < 0 || s.unx < 0) {
		aq_error(&sh->err, "sleepers: listen failed");
		_exit(1);
	}
	pthread_create(&t[0], NULL, tcp_acceptor, &s);
	pthread_create(&t[1], NULL, tcp_acceptor, &s);
	pthread_create(&t[2], NULL, unix_acceptor, &s);
	pthread_create(&t[3], NULL, unix_connector, &s);
	while (!atomic_load(&sh->stop)) {
		int c;

		usleep(200000);
		c = aq_connect("127.0.0.1", aq_port_of(s.tcp));
		if (c >= 0)
			aq_close_rst(c);
	}
	/* The threads are still asleep: exit ends them (that too must
	 * work with or without the module). */
	_exit(0);
}

static void reader(struct shared *sh, int id)
{
	int held = -1, pass = 0;
	char *buf = malloc(1 << 20);

	while (!atomic_load(&sh->stop) && buf) {
		size_t len = 0;
		ssize_t n;
		int fd = open(AQ_PROC_PATH, O_RDONLY | O_CLOEXEC);

		pass++;
		if (fd < 0) {
			if (errno != ENOENT)
				aq_error(&sh->err, "reader %d: open: %s", id,
					 strerror(errno));
			atomic_fetch_add(&sh->reads_gone, 1);
			usleep(1000);
			continue;
		}
		while ((n = read(fd, buf + len, 512)) > 0 && len < (1 << 20) - 512)
			len += n;
		if (n < 0) {
			if (errno != EIO)
				aq_error(&sh->err, "reader %d: read: %s", id,
					 strerror(errno));
			atomic_fetch_add(&sh->reads_eio, 1);
		} else {
			struct aq_snap s;

			buf[len] = '\0';
			if (aq_parse(buf, &s, false))
				aq_error(&sh->err, "reader %d: %s", id, s.err);
			aq_snap_free(&s);
			atomic_fetch_add(&sh->reads_ok, 1);
		}
		usleep(3000);	/* leave CPU to the storm and the loader */
		/* Keep one file open across cycles now and then. */
		if (id == 0 && held < 0 && pass % 7 == 0) {
			held = fd;
			if (read(held, buf, 100) < 0 && errno != EIO)
				aq_error(&sh->err, "held read: %s", strerror(errno));
			continue;
		}
		close(fd);
		if (held >= 0 && pass % 5 == 0) {
			n = read(held, buf, 4096);
			if (n < 0 && errno != EIO)
				aq_error(&sh->err, "held read: %s", strerror(errno));
			close(held);
			held = -1;
			atomic_fetch_add(&sh->held_reads, 1);
		}
	}
	_exit(0);
}

static void controller(struct shared *sh)
{
	static const char *const cmds[] = { "reset\n", "filter port any\n" };
	int i = 0;

	while (!atomic_load(&sh->stop)) {
		int ret = aq_control(cmds[i++ % 2]);

		/* The module going away: no file (ENOENT), debugfs refusing
		 * the open of a module being unloaded (ENXIO), a file removed
		 * under an open descriptor (EIO). */
		if (ret == -ENOENT || ret == -ENXIO || ret == -EIO) {
			atomic_fetch_add(&sh->ctl_gone, 1);
			usleep(2000);
		} else if (ret) {
			aq_error(&sh->err, "control: %s", strerror(-ret));
		} else {
			atomic_fetch_add(&sh->ctl_ok, 1);
		}
		usleep(5000);
	}
	_exit(0);
}

/* Forks fn in a new process, in a netns when newnet. */
static pid_t spawn(struct shared *sh, void (*fn)(struct shared *, int),
		   int id, bool newnet)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (newnet && aq_unshare_net()) {
			aq_error(&sh->err, "unshare: %s", strerror(errno));
			_exit(1);
		}
		fn(sh, id);
		_exit(0);
	}
	return pid;
}

static void sleepers_fn(struct shared *sh, int id) { sleepers(sh); }
static void controller_fn(struct shared *sh, int id) { controller(sh); }

/*
 * Complete rows satisfy the identities within each part of a row even with
 * traffic going (aq_row_invariants).
 */
static int complete_rows_ok(const struct aq_snap *s, char *err, size_t size)
{
	int i;

	for (i = 0; i < s->nrows; i++) {
		const struct aq_row *r = &s->rows[i];

		if (r->have_detail && r->have_qlen && r->have_wait &&
		    aq_row_invariants(r, false, err, size))
			return -1;
	}
	return 0;
}

FIXTURE(unload) {
};

FIXTURE_SETUP(unload)
{
	AQ_REQUIRE_MODULE();
	if (aq_is_loaded())
		ASSERT_EQ(0, aq_unload());
}

FIXTURE_TEARDOWN(unload)
{
	if (aq_is_loaded())
		aq_unload();
}

TEST_F_TIMEOUT(unload, hundred_cycles_under_a_storm, 590)
{
	const char *marker = "aqueue-selftest: stress_unload storm";
	struct shared *sh = aq_shared_alloc(sizeof(*sh));
	int cycles = CYCLES, i, bad_snaps = 0, status, nw = 0, d;
	pid_t w[NSTORM + NREADERS + 2], first_d = 0;
	const char *env = getenv("AQ_UNLOAD_CYCLES");
	char report[4096], wchan[64], why[512];
	int64_t t0, t1, end;

	if (geteuid() != 0 || !aq_path_exists(aq_module_path()))
		return;
	ASSERT_NE(NULL, sh);
	if (env && *env)
		cycles = atoi(env);
	aq_kmemleak_clear();
	aq_klog_mark(marker);

	for (i = 0; i < NSTORM; i++)
		w[nw++] = spawn(sh, storm, i, true);
	w[nw++] = spawn(sh, sleepers_fn, 0, true);
	for (i = 0; i < NREADERS; i++)
		w[nw++] = spawn(sh, reader, i, false);
	w[nw++] = spawn(sh, controller_fn, 0, false);
	for (i = 0; i < nw; i++)
		ASSERT_LT(0, w[i]);
	end = aq_now_ns() + AQ_WAIT_MS * 1000000LL;
	while (atomic_load(&sh->storm_ready) < NSTORM && aq_now_ns() < end)
		usleep(1000);
	ASSERT_EQ(NSTORM, atomic_load(&sh->storm_ready));

	t0 = aq_now_ns();
	for (i = 0; i < cycles; i++) {
		struct aq_snap s;
		long before = atomic_load(&sh->connections);
		int ret;

		ret = aq_load(NULL);
		ASSERT_EQ(0, ret) TH_LOG("load %d: %s", i, strerror(-ret));
		/* Some of the storm under the probes, then a read. */
		end = aq_now_ns() + AQ_WAIT_MS * 1000000LL;
		while (atomic_load(&sh->connections) < before + 5 &&
		       aq_now_ns() < end)
			usleep(500);
		if (aq_try_snapshot(&s, false, why, sizeof(why)) ||
		    complete_rows_ok(&s, why, sizeof(why))) {
			if (bad_snaps++ < 3)
				TH_LOG("cycle %d: /proc/aqueue: %s", i, why);
		}
		aq_snap_free(&s);
		ret = aq_unload();
		ASSERT_EQ(0, ret) TH_LOG("unload %d: %s", i, strerror(-ret));
		ASSERT_FALSE(aq_path_exists(AQ_PROC_PATH));
	}
	t1 = aq_now_ns();

	atomic_store(&sh->stop, 1);
	for (i = 0; i < nw; i++) {
		status = aq_wait_child_bounded(w[i], AQ_HANG_MS);
		if (status == -1) {
			aq_proc_wchan(w[i], wchan, sizeof(wchan));
			TH_LOG("worker %d (pid %d) did not end: state %c in %s", i,
			       w[i], aq_proc_state(w[i]), wchan);
			kill(w[i], SIGKILL);
			waitpid(w[i], NULL, 0);
			EXPECT_TRUE(0);
		}
	}
	/* Nothing of the system stays in uninterruptible sleep. */
	for (i = 0; i < 50; i++) {
		d = aq_count_d_state(&first_d, wchan, sizeof(wchan));
		if (!d)
			break;
		usleep(100000);
	}
	EXPECT_EQ(0, d) TH_LOG("%d tasks in D state, first %d in %s", d, first_d,
			       wchan);

	TH_LOG("%d load/unload cycles in %lld ms (%lld ms each); %ld connections, %ld relistens, %ld+%ld wakeups in accept()",
	       cycles, (long long)(t1 - t0) / 1000000,
	       (long long)(t1 - t0) / 1000000 / (cycles ? cycles : 1),
	       atomic_load(&sh->connections), atomic_load(&sh->relistens),
	       atomic_load(&sh->wakeups), atomic_load(&sh->unix_wakeups));
	TH_LOG("reads: %ld whole, %ld EIO, %ld ENOENT, %ld across an unload; control writes: %ld taken, %ld ENOENT",
	       atomic_load(&sh->reads_ok), atomic_load(&sh->reads_eio),
	       atomic_load(&sh->reads_gone), atomic_load(&sh->held_reads),
	       atomic_load(&sh->ctl_ok), atomic_load(&sh->ctl_gone));
	EXPECT_EQ(0, atomic_load(&sh->err.count))
		TH_LOG("%d worker errors, first: %s", atomic_load(&sh->err.count),
		       sh->err.first);
	EXPECT_EQ(0, bad_snaps);
	EXPECT_LT(0, atomic_load(&sh->reads_ok));
	EXPECT_LT(0, atomic_load(&sh->ctl_ok));
	EXPECT_EQ(NULL, aq_klog_report_since(marker, report, sizeof(report)))
		TH_LOG("kernel reported: %s", report);
	if (aq_kmemleak_present()) {
		int leaks = aq_kmemleak_scan(report, sizeof(report));

		EXPECT_EQ(0, leaks) TH_LOG("kmemleak: %s", report);
	} else {
		TH_LOG("no kmemleak in this kernel: leaks are the debug lane's to find");
	}
}

TEST_F(unload, with_files_open)
{
	const char *marker = "aqueue-selftest: stress_unload open files";
	char buf[4096], report[512];
	int pfd, cfd, ret, lfd;
	ssize_t n;

	if (geteuid() != 0 || !aq_path_exists(aq_module_path()))
		return;
	aq_klog_mark(marker);
	ASSERT_EQ(0, aq_load(NULL));
	lfd = aq_listen_tcp("127.0.0.1", 0, 4, 0);
	ASSERT_LE(0, lfd);
	pfd = open(AQ_PROC_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, pfd);
	ASSERT_LT(0, read(pfd, buf, 100));	/* in the middle of a walk */
	cfd = open(AQ_CONTROL_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, cfd);

	ret = syscall(SYS_delete_module, "aqueue", O_NONBLOCK) ? -errno : 0;
	TH_LOG("unload with both files open: %s", ret ? strerror(-ret) : "taken");
	if (ret) {
		/* Refused while debugfs holds the module: all still works. */
		EXPECT_TRUE(ret == -EWOULDBLOCK || ret == -EBUSY)
			TH_LOG("unload with the control file open: %s", strerror(-ret));
		EXPECT_EQ(6, write(cfd, "reset\n", 6));
		EXPECT_LT(0, read(cfd, buf, sizeof(buf)));
		EXPECT_LT(0, read(pfd, buf, sizeof(buf)));
		close(cfd);
		ASSERT_EQ(0, aq_unload());
	} else {
		/* Taken: the open files fail, they do not crash. */
		n = write(cfd, "reset\n", 6);
		EXPECT_EQ(-1, n);
		close(cfd);
	}
	ASSERT_FALSE(aq_is_loaded());
	/* The /proc file outlived its module: EIO (or EOF), never data. */
	n = read(pfd, buf, sizeof(buf));
	EXPECT_TRUE(n == 0 || (n < 0 && errno == EIO))
		TH_LOG("read after unload: %zd (%s)", n, n < 0 ? strerror(errno) : "");
	EXPECT_EQ(-1, lseek(pfd, 0, SEEK_SET) < 0 ? -1 : 0);
	close(pfd);
	close(lfd);
	/* And it loads again. */
	ASSERT_EQ(0, aq_load(NULL));
	ASSERT_EQ(0, aq_unload());
	EXPECT_EQ(NULL, aq_klog_report_since(marker, report, sizeof(report)))
		TH_LOG("kernel reported: %s", report);
}

AQ_TEST_HARNESS_MAIN
