// SPDX-License-Identifier: GPL-2.0
/*
 * What /proc/aqueue shows to whom: doc/interface.md says a reader in a
 * network namespace other than the initial one sees only the listeners of
 * its own namespace, a reader in the initial namespace with CAP_NET_ADMIN
 * sees all, any other reader in the initial namespace sees the initial
 * namespace's listeners; and kernel pointers are never printed.
 *
 * Listeners (TCP, TCP6, unix) live in the initial namespace and in two
 * namespaces A and B held by processes of their own. Readers, each a
 * forked process: root; uid 65534 (setresuid after fork); root without
 * CAP_NET_ADMIN; root and uid 65534 inside A (setns); root in a new empty
 * namespace; uid 65534 in a user namespace of its own (all capabilities
 * there, none in the initial one), in the initial network namespace and in
 * a new one with a listener of its own; a file opened inside A and read
 * after moving back to the initial namespace. Each reader's text must
 * parse strictly, hold every listener it should see and none it should
 * not (by namespace inode, protocol and address), and contain nothing
 * that looks like a kernel address; the control file is scanned too. The
 * pid and comm of a listener's owner are shown as ss -p would: to root
 * and to the owner's own uid, and hidden (0, -) from everyone else; and
 * numbered in the reader's pid namespace, where an owner it does not hold
 * is hidden too.
 */
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"

#include "aq_clock.h"
#include "aq_ctl.h"
#include "aq_fixture.h"
#include "aq_module.h"
#include "aq_netns.h"
#include "aq_proc.h"
#include "aq_snap.h"
#include "aq_sock.h"
#include "aq_task.h"
#include "aq_text.h"
#include "aq_unix.h"

enum {
	R_ROOT, R_NOBODY, R_NOCAP, R_ROOT_A, R_NOBODY_A, R_EMPTY,
	R_USERNS, R_USERNS_NET, R_OPENED_IN_A, NREADERS
};

static const char *const reader_name[NREADERS] = {
	"root in the initial netns", "uid 65534 in the initial netns",
	"root without CAP_NET_ADMIN", "root in netns A", "uid 65534 in netns A",
	"root in a new empty netns", "uid 65534 in a user namespace",
	"uid 65534 in a user and network namespace",
	"opened in netns A, read in the initial netns",
};

struct vis {
	int64_t ns_init, ns[2];
	char local[2][2][96];	/* netns A/B: tcp, unix */
	int ready[2];
	/* What each reader saw. */
	int err[NREADERS];
	int skipped[NREADERS];
	char why[NREADERS][160];
	int64_t own_ns[NREADERS];
	char own_local[NREADERS][96];
	size_t len[NREADERS];
	char text[NREADERS][1 << 16];
};

static const char *const ns_unix[2] = { "aq-vis-A", "aq-vis-B" };

static void lo_local(int fd, char *out, size_t size)
{
	aq_local_str(fd, out, size);
}

/* Holds netns A or B with its listeners until `hold` reads EOF. */
static void netns_holder(struct vis *v, int which, int hold)
{
	char c;
	int t, u;

	if (aq_unshare_net())
		_exit(2);
	t = aq_listen_tcp("127.0.0.1", 0, 3, 0);
	u = aq_unix_listen_at(ns_unix[which], true, 3);
	if (t < 0 || u < 0)
		_exit(3);
	v->ns[which] = aq_netns_ino();
	lo_local(t, v->local[which][0], sizeof(v->local[which][0]));
	snprintf(v->local[which][1], sizeof(v->local[which][1]), "@%s",
		 ns_unix[which]);
	__atomic_store_n(&v->ready[which], 1, __ATOMIC_SEQ_CST);
	while (read(hold, &c, 1) > 0)
		;
	_exit(0);
}

static int drop_to_nobody(void)
{
	gid_t g = 65534;

	if (setgroups(1, &g) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		return -errno;
	return 0;
}

/* Drops CAP_NET_ADMIN from the effective and permitted sets. */
static int drop_net_admin(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	d[CAP_NET_ADMIN / 32].effective &= ~(1U << (CAP_NET_ADMIN % 32));
	d[CAP_NET_ADMIN / 32].permitted &= ~(1U << (CAP_NET_ADMIN % 32));
	d[CAP_NET_ADMIN / 32].inheritable &= ~(1U << (CAP_NET_ADMIN % 32));
	if (syscall(SYS_capset, &h, d))
		return -errno;
	return 0;
}

static int enter_netns_of(pid_t pid)
{
	char path[64];
	int fd, ret;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	return ret;
}

static int read_into(struct vis *v, int r, int fd)
{
	size_t n = 0;

	for (;;) {
		ssize_t got = read(fd, v->text[r] + n, sizeof(v->text[r]) - 1 - n);

		if (got < 0)
			return -errno;
		if (got == 0)
			break;
		n += got;
		if (n >= sizeof(v->text[r]) - 1)
			return -EFBIG;
	}
	v->text[r][n] = '\0';
	v->len[r] = n;
	return 0;
}

static int read_proc(struct vis *v, int r)
{
	int fd = open(AQ_PROC_PATH, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = read_into(v, r, fd);
	close(fd);
	return ret;
}

#define SKIP_READER(fmt, ...) do {					\
	v->skipped[r] = 1;						\
	snprintf(v->why[r], sizeof(v->why[r]), fmt, ##__VA_ARGS__);	\
	_exit(0);							\
} while (0)

#define FAIL_READER(fmt, ...) do {					\
	v->err[r] = 1;							\
	snprintf(v->why[r], sizeof(v->why[r]), fmt, ##__VA_ARGS__);	\
	_exit(1);							\
} while (0)

static void reader(struct vis *v, int r, pid_t holder_a)
{
	int ret = 0, fd, init_fd;

	switch (r) {
	case R_ROOT:
		break;
	case R_NOBODY:
		ret = drop_to_nobody();
		break;
	case R_NOCAP:
		ret = drop_net_admin();
		break;
	case R_ROOT_A:
		ret = enter_netns_of(holder_a);
		break;
	case R_NOBODY_A:
		ret = enter_netns_of(holder_a);
		if (!ret)
			ret = drop_to_nobody();
		break;
	case R_EMPTY:
		ret = aq_unshare_net();
		v->own_ns[r] = aq_netns_ino();
		break;
	case R_USERNS:
		ret = drop_to_nobody();
		if (!ret && unshare(CLONE_NEWUSER))
			SKIP_READER("unshare(CLONE_NEWUSER) as uid 65534: %s",
				    strerror(errno));
		break;
	case R_USERNS_NET: {
		int lfd;

		ret = drop_to_nobody();
		if (ret)
			break;
		if (unshare(CLONE_NEWUSER | CLONE_NEWNET))
			SKIP_READER("unshare(CLONE_NEWUSER | CLONE_NEWNET) as uid 65534: %s",
				    strerror(errno));
		ret = aq_lo_up();
		if (ret)
			break;
		lfd = aq_listen_tcp("127.0.0.1", 0, 2, 0);
		if (lfd < 0) {
			ret = lfd;
			break;
		}
		v->own_ns[r] = aq_netns_ino();
		lo_local(lfd, v->own_local[r], sizeof(v->own_local[r]));
		ret = read_proc(v, r);
		close(lfd);
		if (ret)
			FAIL_READER("read: %s", strerror(-ret));
		_exit(0);
	}
	case R_OPENED_IN_A:
		init_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (init_fd < 0 || enter_netns_of(holder_a))
			FAIL_READER("setns into A: %s", strerror(errno));
		fd = open(AQ_PROC_PATH, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(init_fd, CLONE_NEWNET))
			FAIL_READER("open or setns back: %s", strerror(errno));
		ret = read_into(v, r, fd);
		if (ret)
			FAIL_READER("read: %s", strerror(-ret));
		_exit(0);
	}
	if (ret)
		FAIL_READER("set-up: %s", strerror(-ret));
	ret = read_proc(v, r);
	if (ret)
		FAIL_READER("read: %s", strerror(-ret));
	_exit(0);
}

static bool has_row(const struct aq_snap *s, int64_t ns, const char *proto,
		    const char *local)
{
	return aq_count_rows(s, ns, proto, local) > 0;
}

static void check_reader(struct __test_metadata *_metadata, struct vis *v,
			 int r, const char init_local[3][96])
{
	static const char *const init_proto[3] = { "tcp", "tcp6", "unix" };
	int64_t allowed[3] = { -1, -1, -1 };
	bool see_init = false, see_ns[2] = { false, false };
	struct aq_snap s;
	char what[128];
	int i, k;

	if (v->skipped[r]) {
		TH_LOG("%s: not checked: %s", reader_name[r], v->why[r]);
		return;
	}
	ASSERT_EQ(0, v->err[r]) TH_LOG("%s: %s", reader_name[r], v->why[r]);
	if (aq_parse(v->text[r], &s, true)) {
		TH_LOG("%s: does not parse: %s", reader_name[r], s.err);
		ASSERT_TRUE(0);
	}
	EXPECT_EQ(NULL, aq_find_pointer(v->text[r], what, sizeof(what)))
		TH_LOG("%s: '%s' looks like a kernel address", reader_name[r], what);

	switch (r) {
	case R_ROOT:
		see_init = see_ns[0] = see_ns[1] = true;
		allowed[0] = v->ns_init;
		allowed[1] = v->ns[0];
		allowed[2] = v->ns[1];
		break;
	case R_NOBODY:
	case R_NOCAP:
	case R_USERNS:
		see_init = true;
		allowed[0] = v->ns_init;
		break;
	case R_ROOT_A:
	case R_NOBODY_A:
	case R_OPENED_IN_A:
		see_ns[0] = true;
		allowed[0] = v->ns[0];
		break;
	case R_EMPTY:
	case R_USERNS_NET:
		allowed[0] = v->own_ns[r];
		break;
	}
	for (i = 0; i < s.nrows; i++) {
		const struct aq_row *row = &s.rows[i];

		EXPECT_TRUE(row->netns == allowed[0] || row->netns == allowed[1] ||
			    row->netns == allowed[2])
			TH_LOG("%s: sees listener %" PRId64 " (%s %s) of netns %" PRId64,
			       reader_name[r], row->id, row->proto, row->local,
			       row->netns);
	}
	/* Those it must see: so that "nothing" cannot pass for "right". */
	for (k = 0; k < 3 && see_init; k++)
		EXPECT_TRUE(has_row(&s, v->ns_init, init_proto[k], init_local[k]))
			TH_LOG("%s: no row for %s %s of the initial netns",
			       reader_name[r], init_proto[k], init_local[k]);
	for (i = 0; i < 2; i++) {
		for (k = 0; k < 2; k++) {
			const char *proto = k ? "unix" : "tcp";
			bool seen = has_row(&s, v->ns[i], proto, v->local[i][k]);

			EXPECT_EQ(see_ns[i], seen)
				TH_LOG("%s: %s %s of netns %c %s", reader_name[r],
				       proto, v->local[i][k], 'A' + i,
				       seen ? "visible" : "missing");
		}
	}
	/*
	 * The owners, as ss -p shows them: to root, and to the uid that
	 * called listen(); never the pid and comm of another user's process.
	 */
	for (i = 0, k = 0; i < s.nrows; i++) {
		const struct aq_row *row = &s.rows[i];
		bool own = r == R_USERNS_NET && row->netns == v->own_ns[r];

		if (row->pid > 0)
			k++;
		if (r == R_NOBODY || r == R_NOBODY_A || r == R_USERNS ||
		    (r == R_USERNS_NET && !own))
			EXPECT_TRUE(row->pid == 0 && !strcmp(row->comm, "-"))
				TH_LOG("%s: sees pid %" PRId64 " comm %s of listener %s",
				       reader_name[r], row->pid, row->comm,
				       row->local);
	}
	if (r == R_ROOT || r == R_ROOT_A || r == R_USERNS_NET)
		EXPECT_LT(0, k) TH_LOG("%s: sees no owner at all", reader_name[r]);
	if (r == R_EMPTY)
		EXPECT_EQ(0, s.nrows) TH_LOG("%s", reader_name[r]);
	if (r == R_USERNS_NET) {
		EXPECT_TRUE(has_row(&s, v->own_ns[r], "tcp", v->own_local[r]))
			TH_LOG("%s: its own listener %s is missing",
			       reader_name[r], v->own_local[r]);
		EXPECT_EQ(1, s.nrows);
	}
	aq_snap_free(&s);
}

AQ_FIXTURE(vis, NULL, AQ_MODULE_REQUIRED)

TEST_F(vis, each_reader_sees_its_own)
{
	struct vis *v = aq_shared_alloc(sizeof(*v));
	char init_local[3][96], ctl[8192], what[128];
	int hold[2], lfd[3], i, status, checked = 0;
	pid_t holder[2], rd[NREADERS];
	int64_t end;

	if (!self->c.module)
		return;
	ASSERT_NE(NULL, v);
	v->ns_init = aq_netns_ino();
	ASSERT_EQ(0, pipe(hold));
	for (i = 0; i < 2; i++) {
		holder[i] = fork();
		ASSERT_LE(0, holder[i]);
		if (holder[i] == 0) {
			close(hold[1]);
			netns_holder(v, i, hold[0]);
		}
	}
	close(hold[0]);
	/* The initial namespace's listeners, made by the test itself. */
	lfd[0] = aq_listen_tcp("127.0.0.1", 0, 4, 0);
	lfd[1] = aq_listen_tcp("::1", 0, 4, AQ_V6ONLY);
	lfd[2] = aq_unix_listen_at("aq-vis-init", true, 4);
	for (i = 0; i < 3; i++) {
		int fd = lfd[i];

		ASSERT_LE(0, fd) TH_LOG("listener %d: %s", i, strerror(-fd));
	}
	lo_local(lfd[0], init_local[0], sizeof(init_local[0]));
	lo_local(lfd[1], init_local[1], sizeof(init_local[1]));
	snprintf(init_local[2], sizeof(init_local[2]), "@aq-vis-init");

	end = aq_now_ns() + AQ_WAIT_MS * 1000000LL;
	while (!(__atomic_load_n(&v->ready[0], __ATOMIC_SEQ_CST) &&
		 __atomic_load_n(&v->ready[1], __ATOMIC_SEQ_CST)) &&
	       aq_now_ns() < end)
		usleep(1000);
	ASSERT_TRUE(v->ready[0] && v->ready[1]) TH_LOG("netns holders not ready");
	ASSERT_NE(v->ns[0], v->ns_init);
	ASSERT_NE(v->ns[1], v->ns_init);

	for (i = 0; i < NREADERS; i++) {
		fflush(stdout);
		rd[i] = fork();
		ASSERT_LE(0, rd[i]);
		if (rd[i] == 0) {
			close(hold[1]);
			reader(v, i, holder[0]);
		}
		ASSERT_EQ(rd[i], waitpid(rd[i], &status, 0));
		ASSERT_TRUE(WIFEXITED(status)) TH_LOG("%s: died", reader_name[i]);
	}
	for (i = 0; i < NREADERS; i++) {
		check_reader(_metadata, v, i, (const char (*)[96])init_local);
		checked += !v->skipped[i];
	}
	TH_LOG("%d of %d readers checked", checked, NREADERS);

	/* The control file (root only) holds no address either. */
	aq_ctl_read(_metadata, ctl, sizeof(ctl));
	EXPECT_EQ(NULL, aq_find_pointer(ctl, what, sizeof(what)))
		TH_LOG("control file: '%s' looks like a kernel address", what);

	close(hold[1]);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(holder[i], waitpid(holder[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("netns holder %c failed (%d)", 'A' + i, status);
	}
	for (i = 0; i < 3; i++)
		close(lfd[i]);
}

/* What a reader in a pid namespace of its own saw, and who it was. */
struct pidns_reader {
	int done, err;
	pid_t pid_there, pid_here;	/* its pid in its namespace, in ours */
	char local[96];			/* its own listener */
	char text[1 << 16];
};

/* In a new pid namespace: a listener of its own, then /proc/aqueue read. */
static void pidns_reader(struct pidns_reader *p, int hold)
{
	pid_t child;
	int fd;
	char c;

	if (unshare(CLONE_NEWPID))
		_exit(2);
	child = fork();
	if (child < 0)
		_exit(3);
	if (child) {
		int status;

		p->pid_here = child;
		waitpid(child, &status, 0);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 4);
	}
	aq_set_comm("aq-pidns");
	fd = aq_listen_tcp("127.0.0.1", 0, 4, 0);
	if (fd < 0)
		_exit(5);
	lo_local(fd, p->local, sizeof(p->local));
	p->pid_there = getpid();
	fd = open(AQ_PROC_PATH, O_RDONLY | O_CLOEXEC);
	p->err = fd < 0 ? -errno : 0;
	if (fd >= 0) {
		ssize_t got, n = 0;

		while ((got = read(fd, p->text + n,
				   sizeof(p->text) - 1 - n)) > 0)
			n += got;
		p->err = got < 0 ? -errno : 0;
		close(fd);
	}
	__atomic_store_n(&p->done, 1, __ATOMIC_SEQ_CST);
	/* The listener stays until the test has read its row too. */
	if (read(hold, &c, 1) < 0)
		_exit(6);
	_exit(0);
}

/*
 * As ss -p, numbered in the reader's pid namespace: a root reader in a pid
 * namespace of its own sees its own listener's owner by its pid there (1)
 * and a listener whose owner that namespace does not hold with pid 0 and
 * comm -; the initial namespace's root sees both by their pids here.
 */
TEST_F(vis, pids_numbered_in_the_readers_pid_namespace)
{
	struct pidns_reader *p = aq_shared_alloc(sizeof(*p));
	const struct aq_row *r;
	char mine[96], comm[32];
	struct aq_snap s;
	int hold[2], lfd, i, status;
	pid_t helper;
	int64_t end;

	if (!self->c.module)
		return;
	ASSERT_NE(NULL, p);
	aq_get_comm(comm, sizeof(comm));
	lfd = aq_listen_tcp("127.0.0.1", 0, 4, 0);
	ASSERT_LE(0, lfd);
	lo_local(lfd, mine, sizeof(mine));
	ASSERT_EQ(0, pipe(hold));
	fflush(stdout);
	helper = fork();
	ASSERT_LE(0, helper);
	if (helper == 0) {
		close(hold[1]);
		pidns_reader(p, hold[0]);
	}
	close(hold[0]);
	end = aq_now_ns() + AQ_WAIT_MS * 1000000LL;
	while (!__atomic_load_n(&p->done, __ATOMIC_SEQ_CST) &&
	       aq_now_ns() < end && waitpid(helper, &status, WNOHANG) == 0)
		usleep(1000);
	ASSERT_TRUE(p->done) TH_LOG("the reader in a new pid namespace did not read");
	ASSERT_EQ(0, p->err) TH_LOG("reading: %s", strerror(-p->err));
	EXPECT_EQ(1, p->pid_there);

	/* What it saw. */
	if (aq_parse(p->text, &s, true)) {
		TH_LOG("does not parse: %s", s.err);
		ASSERT_TRUE(0);
	}
	for (i = 0, r = NULL; i < s.nrows; i++)
		if (s.rows[i].netns == aq_netns_ino() &&
		    !strcmp(s.rows[i].local, p->local))
			r = &s.rows[i];
	ASSERT_NE(NULL, r) TH_LOG("its own listener %s", p->local);
	EXPECT_EQ(1, r->pid);
	EXPECT_STREQ("aq-pidns", r->comm);
	for (i = 0, r = NULL; i < s.nrows; i++)
		if (s.rows[i].netns == aq_netns_ino() &&
		    !strcmp(s.rows[i].local, mine))
			r = &s.rows[i];
	ASSERT_NE(NULL, r) TH_LOG("the test's listener %s", mine);
	EXPECT_EQ(0, r->pid);
	EXPECT_STREQ("-", r->comm);
	aq_snap_free(&s);

	/* What the initial namespace sees. */
	aq_snapshot(_metadata, &s);
	for (i = 0, r = NULL; i < s.nrows; i++)
		if (s.rows[i].netns == aq_netns_ino() &&
		    !strcmp(s.rows[i].local, p->local))
			r = &s.rows[i];
	ASSERT_NE(NULL, r);
	EXPECT_EQ(p->pid_here, r->pid);
	r = aq_row_of(_metadata, &s, lfd);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(getpid(), r->pid);
	EXPECT_STREQ(comm, r->comm);
	aq_snap_free(&s);

	close(hold[1]);
	ASSERT_EQ(helper, waitpid(helper, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("the pid namespace's reader failed (%d)", status);
	close(lfd);
}

/* The scanner itself: what it must and must not take for an address. */
TEST(pointer_scan_recognises_addresses)
{
	static const char *const yes[] = {
		"x ffff888003a1b2c0 y", "at 0xffffffffc0a01000", "18446612682130400960",
		"p=0x00000000deadbeef", "9223372036854775808",
	};
	static const char *const no[] = {
		"4026531840 tcp 127.0.0.1:8080", "281474976710656:3",
		"qlen_area_ns 1234567890123456", "[::1]:443 ipv6 fe80", "0x1f",
		"9223372036854775807",
	};
	char what[64];
	unsigned int i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		const char *t = yes[i];

		EXPECT_NE(NULL, aq_find_pointer(t, what, sizeof(what)))
			TH_LOG("missed in '%s'", t);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		const char *t = no[i], *hit = aq_find_pointer(t, what, sizeof(what));

		EXPECT_EQ(NULL, hit) TH_LOG("'%s' taken for an address in '%s'",
					    what, t);
	}
}

AQ_TEST_HARNESS_MAIN
