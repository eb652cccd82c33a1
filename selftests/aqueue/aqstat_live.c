// SPDX-License-Identifier: GPL-2.0
/*
 * aqstat against the live module (aqstat.8 is the contract):
 *
 *  - with a saturated listener (backlog 2, never accepting, more clients
 *    than fit), `aqstat -j` is valid JSON whose every figure equals
 *    /proc/aqueue's, and the listener's queue, backlog and drops equal the
 *    kernel's (sock_diag, SO_MEMINFO);
 *  - `aqstat --prometheus` carries the listener's samples with its labels;
 *  - the table shows the saturated listener first;
 *  - a listen(fd, 4096) capped by net.core.somaxconn 128 that then drops
 *    SYNs gets a note after the table naming the two and the backlog that
 *    would have held its peak (the kernel's peak and ListenOverflows), and
 *    -j says the same;
 *  - four SO_REUSEPORT listeners of one port holding 40 connections: -j
 *    gives each the smallest of their ids as reuseport_group and the
 *    queue sock_diag shows, and the table's line over the group says 4
 *    members and a queue of 40;
 *  - `aqstat ctl filter port N` changes what the module tracks; bad input
 *    exits 7 with the kernel's refusal and changes nothing;
 *  - without the module, every mode exits 3 and says how to load it;
 *  - `aqstat -w 1 -c 2` draws two frames about a second apart.
 *
 * The listeners live in a fresh network namespace; aqstat runs there too,
 * so /proc/aqueue shows it only the test's own rows.
 */
#include <inttypes.h>
#include <sys/mman.h>

#include "kselftest_harness.h"

#include "aq_clock.h"
#include "aq_ctl.h"
#include "aq_diag.h"
#include "aq_file.h"
#include "aq_fill.h"
#include "aq_fixture.h"
#include "aq_hist.h"
#include "aq_json.h"
#include "aq_module.h"
#include "aq_netns.h"
#include "aq_oracle.h"
#include "aq_proc.h"
#include "aq_snap.h"
#include "aq_sock.h"
#include "aq_task.h"

static const char *aqstat_path(void)
{
	const char *env = getenv("AQSTAT");

	return env && *env ? env : "/usr/sbin/aqstat";
}

struct run {
	int status;		/* exit code, or 128 + signal */
	char *out, *err;	/* NUL-terminated */
	int64_t ns;		/* wall time */
};

static char *slurp_fd(int fd)
{
	off_t len = lseek(fd, 0, SEEK_END);
	char *buf;

	if (len < 0)
		len = 0;
	buf = calloc(1, len + 1);
	if (buf && len && pread(fd, buf, len, 0) != len)
		buf[0] = '\0';
	return buf;
}

/* The user aqstat runs as (run_aqstat's child), 0 for root. */
static uid_t run_uid;

/* Runs aqstat with argv (NULL-terminated, without argv[0]), output
 * captured; kills it after `timeout_s`. */
static void run_aqstat(struct __test_metadata *_metadata, struct run *r,
		       int timeout_s, const char *const *args)
{
	const char *argv[32];
	int out, err, status, i;
	int64_t start, deadline;
	pid_t pid;

	argv[0] = "aqstat";
	for (i = 0; args[i] && i < 30; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	out = memfd_create("aqstat-out", MFD_CLOEXEC);
	err = memfd_create("aqstat-err", MFD_CLOEXEC);
	ASSERT_LE(0, out);
	ASSERT_LE(0, err);
	start = aq_now_ns();
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		dup2(out, 1);
		dup2(err, 2);
		unsetenv("COLUMNS");
		if (run_uid && (setresgid(run_uid, run_uid, run_uid) ||
				setresuid(run_uid, run_uid, run_uid)))
			_exit(126);
		execv(aqstat_path(), (char *const *)argv);
		_exit(127);
	}
	deadline = start + (int64_t)timeout_s * 1000000000LL;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (aq_now_ns() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		usleep(5000);
	}
	r->ns = aq_now_ns() - start;
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) :
					128 + WTERMSIG(status);
	r->out = slurp_fd(out);
	r->err = slurp_fd(err);
	close(out);
	close(err);
	ASSERT_NE(NULL, r->out);
	ASSERT_NE(NULL, r->err);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

#define AQSTAT(r, timeout, ...) do {					\
	const char *const __a[] = { __VA_ARGS__, NULL };	\
	run_aqstat(_metadata, (r), (timeout), __a);			\
} while (0)

static void aqstat_present(struct __test_metadata *_metadata)
{
	if (access(aqstat_path(), X_OK))
		SKIP(return, "no aqstat at %s (set AQSTAT)", aqstat_path());
}

AQ_FIXTURE_TIMED(live, NULL, AQ_MODULE_REQUIRED, aqstat_present)

#define SRV_COMM "aq live srv"

/* Backlog 2 holds 3; three more SYNs are dropped. Nothing is accepted. */
static int saturated(struct __test_metadata *_metadata, int *cfd)
{
	int lfd;

	aq_set_comm(SRV_COMM);
	lfd = aq_listen_tcp("127.0.0.1", 0, 2, 0);
	ASSERT_LE(0, lfd);
	aq_fill(_metadata, lfd, "127.0.0.1", cfd, 3, 0);
	aq_overflow(_metadata, lfd, "127.0.0.1", 3);
	return lfd;
}

/* ------------------------------------------------------------------ */
/* JSON */

static int64_t jint(struct __test_metadata *_metadata,
		    const struct aq_json *obj, const char *key)
{
	const struct aq_json *v = aq_json_get(obj, key);

	EXPECT_NE(NULL, v) TH_LOG("JSON: no \"%s\"", key);
	if (!v)
		return INT64_MIN;
	EXPECT_EQ(1, aq_json_count_key(obj, key)) TH_LOG("JSON: \"%s\" twice", key);
	if (v->type == AQ_JNULL)
		return -1;	/* as aq_proc.h keeps "-" */
	EXPECT_TRUE(v->type == AQ_JNUM && v->is_int)
		TH_LOG("JSON: \"%s\" is not an integer", key);
	return v->i;
}

static const char *jstr(const struct aq_json *obj, const char *key)
{
	const struct aq_json *v = aq_json_get(obj, key);

	return v && v->type == AQ_JSTR ? v->str : "(not a string)";
}

static void expect_hist(struct __test_metadata *_metadata,
			const struct aq_json *arr, const struct aq_hist *h,
			const char *what)
{
	int i;

	ASSERT_NE(NULL, arr) TH_LOG("JSON: no %s", what);
	ASSERT_EQ((int)AQ_JARR, (int)arr->type);
	ASSERT_EQ(h->n, arr->n) TH_LOG("%s: buckets", what);
	for (i = 0; i < h->n; i++) {
		EXPECT_EQ(h->low[i], jint(_metadata, &arr->kids[i], "low"));
		EXPECT_EQ(h->count[i], jint(_metadata, &arr->kids[i], "count"))
			TH_LOG("%s bucket %" PRId64, what, h->low[i]);
	}
}

/* Every field of /proc/aqueue's snapshot s in aqstat's JSON j. */
static void expect_json_is_snap(struct __test_metadata *_metadata,
				const struct aq_json *j,
				const struct aq_snap *s)
{
	const struct aq_json *st = aq_json_get(j, "state");
	const struct aq_json *cl = aq_json_get(j, "closed");
	const struct aq_json *ls = aq_json_get(j, "listeners");
	const struct aq_json *v;
	int i;

	EXPECT_EQ(AQUEUE_FORMAT_VERSION, jint(_metadata, j, "format"));
	EXPECT_EQ(0, jint(_metadata, j, "malformed_lines"));
	ASSERT_NE(NULL, st);
	ASSERT_NE(NULL, cl);
	ASSERT_NE(NULL, ls);
	ASSERT_EQ((int)AQ_JARR, (int)ls->type);

#define ST(f) EXPECT_EQ(s->f, jint(_metadata, st, #f)) TH_LOG("state " #f)
	/* A flag is a JSON boolean (aqstat.schema.json, schema_version 1). */
	EXPECT_EQ(1, jint(_metadata, j, "schema_version"));
	v = aq_json_get(st, "enabled");
	ASSERT_NE(NULL, v);
	EXPECT_EQ((int)AQ_JBOOL, (int)v->type);
	EXPECT_EQ(s->enabled, v->i) TH_LOG("state enabled");
	ST(tracked); ST(max_listeners); ST(untracked_listens);
	ST(untracked_events); ST(filtered_events); ST(memory_bytes);
	ST(max_memory_bytes); ST(missed); ST(resyncs);
#undef ST
	EXPECT_EQ(s->closed_listeners, jint(_metadata, cl, "listeners"));
	EXPECT_EQ(s->closed_enqueued, jint(_metadata, cl, "enqueued"));
	EXPECT_EQ(s->closed_accepted, jint(_metadata, cl, "accepted"));
	EXPECT_EQ(s->closed_drained, jint(_metadata, cl, "drained"));
	EXPECT_EQ(s->closed_drops, jint(_metadata, cl, "drops"));

	ASSERT_EQ(s->nrows, ls->n) TH_LOG("listeners in JSON vs rows");
	for (i = 0; i < s->nrows; i++) {
		const struct aq_row *r = &s->rows[i];
		const struct aq_json *l = &ls->kids[i];
		char addr[96];
		const char *colon = strrchr(r->local, ':');
		size_t alen = colon - r->local;

		ASSERT_EQ((int)AQ_JOBJ, (int)l->type);
#define RF(f) EXPECT_EQ(r->f, jint(_metadata, l, #f)) TH_LOG("listener %" PRId64 " " #f, r->id)
		RF(id); RF(netns); RF(backlog); RF(qnow); RF(qpeak);
		RF(enqueued); RF(accepted); RF(drops); RF(p50_us); RF(p99_us);
		RF(max_us); RF(pid); RF(drops_syn_acceptq);
		RF(drops_ack_acceptq); RF(drops_other); RF(drained);
		RF(untimed); RF(resynced); RF(wait_sum_ns);
#undef RF
		/* aqstat read first: the clocks only moved on since. */
		EXPECT_GE(r->observed_ns, jint(_metadata, l, "observed_ns"));
		EXPECT_LT(0, jint(_metadata, l, "observed_ns"));
		EXPECT_GE(r->qlen_area_ns, jint(_metadata, l, "qlen_area_ns"));
		EXPECT_STREQ(r->proto, jstr(l, "proto"));
		EXPECT_STREQ(r->local, jstr(l, "local"));
		EXPECT_STREQ(r->comm, jstr(l, "comm"));
		ASSERT_NE(NULL, colon);
		if (r->local[0] == '[')
			snprintf(addr, sizeof(addr), "%.*s", (int)alen - 2,
				 r->local + 1);
		else
			snprintf(addr, sizeof(addr), "%.*s", (int)alen, r->local);
		EXPECT_STREQ(addr, jstr(l, "address"));
		EXPECT_EQ(atoll(colon + 1), jint(_metadata, l, "port"));
		expect_hist(_metadata, aq_json_get(l, "qlen_hist"), &r->qlen,
			    "qlen_hist");
		expect_hist(_metadata, aq_json_get(l, "wait_ns_hist"),
			    &r->wait, "wait_ns_hist");
	}
}

/*
 * `aqstat mode` and /proc/aqueue at one quiet moment of lfd: the kernel's
 * view of it (o) reads the same before and after both.
 */
static void quiet_run(struct __test_metadata *_metadata, int lfd,
		      const char *mode, struct aq_oracle *o, struct run *r,
		      struct aq_snap *s)
{
	struct aq_oracle after;
	int tries;

	for (tries = 0; tries < 20; tries++) {
		aq_oracle_read(_metadata, lfd, o);
		AQSTAT(r, 30, mode);
		aq_snapshot(_metadata, s);
		aq_oracle_read(_metadata, lfd, &after);
		if (aq_oracle_same(o, &after))
			break;
		run_free(r);
		aq_snap_free(s);
	}
	ASSERT_GT(20, tries) TH_LOG("the listener never stayed quiet");
	ASSERT_EQ(0, r->status) TH_LOG("aqstat %s: %s", mode, r->err);
}

static void json_in_netns(struct __test_metadata *_metadata, void *arg)
{
	struct aq_oracle o1;
	struct aq_snap s = { 0 };
	struct aq_json *j = NULL;
	struct run r = { 0 };
	struct aq_row *row;
	int cfd[3], lfd;
	char err[200];

	lfd = saturated(_metadata, cfd);
	quiet_run(_metadata, lfd, "-j", &o1, &r, &s);
	j = aq_json_parse(r.out, err, sizeof(err));
	ASSERT_NE(NULL, j) TH_LOG("aqstat -j is not JSON: %s\n%.2000s", err,
				  r.out);
	expect_json_is_snap(_metadata, j, &s);

	/* And the kernel agrees with both. */
	row = aq_row_of(_metadata, &s, lfd);
	EXPECT_EQ(3, o1.rqueue);
	EXPECT_EQ(o1.rqueue, row->qnow);
	EXPECT_EQ(o1.wqueue, row->backlog);
	EXPECT_EQ(o1.sk_drops, row->drops);
	EXPECT_LE(3, row->drops);
	EXPECT_EQ(getpid(), row->pid);
	EXPECT_STREQ(SRV_COMM, row->comm);
	aq_json_free(j);
	aq_snap_free(&s);
	run_free(&r);
	aq_close_fds(cfd, 3);
	close(lfd);
}

AQ_NETNS_TEST(live, json_equals_proc_and_kernel, AQ_RUN, json_in_netns, NULL)

/* aqstat -j's listener @id, as run by @uid: its pid, and its comm in @comm. */
static int64_t json_owner(struct __test_metadata *_metadata, uid_t uid,
			  int64_t id, char *comm, size_t size)
{
	struct aq_json *j, *ls;
	struct run r = { 0 };
	int64_t pid = -1;
	char err[200];
	int i;

	run_uid = uid;
	AQSTAT(&r, 30, "-j");
	run_uid = 0;
	EXPECT_EQ(0, r.status) TH_LOG("aqstat -j as uid %u: %s", uid, r.err);
	j = aq_json_parse(r.out, err, sizeof(err));
	EXPECT_NE(NULL, j) TH_LOG("aqstat -j is not JSON: %s", err);
	ls = j ? aq_json_get(j, "listeners") : NULL;
	for (i = 0; ls && i < ls->n; i++) {
		const char *c;

		if (jint(_metadata, &ls->kids[i], "id") != id)
			continue;
		pid = jint(_metadata, &ls->kids[i], "pid");
		c = jstr(&ls->kids[i], "comm");
		snprintf(comm, size, "%s", c ? c : "");
	}
	aq_json_free(j);
	run_free(&r);
	return pid;
}

/*
 * A listener that was listening before the module was loaded has no
 * owner the module saw: /proc/aqueue gives pid 0 and the socket's inode,
 * and aqstat finds the process from it as ss -p does, for a reader who
 * may list the process's descriptors (root) and for no other (nobody).
 */
static void owner_in_netns(struct __test_metadata *_metadata, void *arg)
{
	struct aq_snap s = { 0 };
	struct aq_row *row;
	char comm[64];
	int lfd, cfd;
	int64_t id;

	ASSERT_EQ(0, aq_unload());
	aq_set_comm(SRV_COMM);
	lfd = aq_listen_tcp("127.0.0.1", 0, 4, 0);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, aq_load(NULL));
	/*
	 * Its first connection makes the row: no listen() the module saw,
	 * and no accept() yet (whose caller would become the owner).
	 */
	cfd = aq_connect("127.0.0.1", aq_port_of(lfd));
	ASSERT_LE(0, cfd);
	ASSERT_EQ(1, aq_wait_rqueue(lfd, 1));
	aq_snapshot(_metadata, &s);
	row = aq_row_of(_metadata, &s, lfd);
	ASSERT_NE(NULL, row);
	EXPECT_EQ(0, row->pid);
	EXPECT_EQ(aq_sock_ino(lfd), row->ino);
	id = row->id;
	aq_snap_free(&s);

	EXPECT_EQ(getpid(), json_owner(_metadata, 0, id, comm, sizeof(comm)));
	EXPECT_STREQ(SRV_COMM, comm);
	EXPECT_EQ(0, json_owner(_metadata, 65534, id, comm, sizeof(comm)));
	close(cfd);
	close(lfd);
}

AQ_NETNS_TEST(live, owner_of_a_listener_older_than_the_module, AQ_RUN,
	      owner_in_netns, NULL)

/* ------------------------------------------------------------------ */
/* Prometheus */

/* The value of the sample `name` + `labels` (exact), or NaN if absent. */
static double prom_sample(const char *text, const char *name,
			  const char *labels, int *count)
{
	char prefix[512];
	const char *p = text;
	double v = __builtin_nan("");
	size_t plen;

	snprintf(prefix, sizeof(prefix), "%s%s ", name, labels);
	plen = strlen(prefix);
	*count = 0;
	while (p && *p) {
		if (!strncmp(p, prefix, plen)) {
			v = strtod(p + plen, NULL);
			++*count;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return v;
}

#define EXPECT_SAMPLE(text, name, labels, want) do {			\
	int __n;							\
	double __v = prom_sample(text, name, labels, &__n);		\
	EXPECT_EQ(1, __n) TH_LOG("samples of %s%s", name, labels);	\
	EXPECT_EQ((double)(want), __v) TH_LOG("%s%s", name, labels);	\
} while (0)

/* Every sample's family has a # TYPE line before it. */
static void expect_typed(struct __test_metadata *_metadata, const char *text)
{
	static const char *const suffixes[] = { "_bucket", "_sum", "_count" };
	const char *p = text;
	int lines = 0;

	while (*p) {
		const char *end = strchr(p, '\n');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char name[128], type[200], *q;
		unsigned int k;

		if (n && *p != '#') {
			snprintf(name, sizeof(name), "%.*s", (int)n, p);
			name[strcspn(name, "{ ")] = '\0';
			snprintf(type, sizeof(type), "# TYPE %s ", name);
			q = strstr(text, type);
			for (k = 0; !q && k < 3; k++) {
				size_t sl = strlen(suffixes[k]), nl = strlen(name);

				if (nl > sl && !strcmp(name + nl - sl, suffixes[k])) {
					snprintf(type, sizeof(type), "# TYPE %.*s histogram",
						 (int)(nl - sl), name);
					q = strstr(text, type);
				}
			}
			EXPECT_TRUE(q && q < p) TH_LOG("no # TYPE before '%.*s'",
						       (int)n, p);
			lines++;
		}
		p += n + (end ? 1 : 0);
	}
	EXPECT_LT(10, lines);
}

static void prom_in_netns(struct __test_metadata *_metadata, void *arg)
{
	struct aq_oracle o1;
	struct aq_snap s = { 0 };
	struct run r = { 0 };
	struct aq_row *row;
	char labels[300], inf[320];
	int cfd[3], lfd;

	lfd = saturated(_metadata, cfd);
	quiet_run(_metadata, lfd, "--prometheus", &o1, &r, &s);
	row = aq_row_of(_metadata, &s, lfd);
	snprintf(labels, sizeof(labels),
		 "{id=\"%" PRId64 "\",netns=\"%" PRId64 "\",proto=\"tcp\",address=\"127.0.0.1\",port=\"%u\",comm=\"%s\"}",
		 row->id, row->netns, aq_port_of(lfd), SRV_COMM);
	/* no pid label: it churns (aqstat(8), Labels) */
	EXPECT_EQ(NULL, strstr(r.out, "pid=\"")) TH_LOG("%s", r.out);

	EXPECT_SAMPLE(r.out, "aqueue_enabled", "", 1);
	EXPECT_SAMPLE(r.out, "aqueue_tracked_listeners", "", s.tracked);
	EXPECT_SAMPLE(r.out, "aqueue_parse_malformed_lines", "", 0);
	EXPECT_SAMPLE(r.out, "aqueue_listener_backlog", labels, o1.wqueue);
	EXPECT_SAMPLE(r.out, "aqueue_listener_queue_length", labels, o1.rqueue);
	EXPECT_SAMPLE(r.out, "aqueue_listener_queue_peak", labels, 3);
	EXPECT_SAMPLE(r.out, "aqueue_listener_enqueued_total", labels, 3);
	EXPECT_SAMPLE(r.out, "aqueue_listener_accepted_total", labels, 0);
	EXPECT_SAMPLE(r.out, "aqueue_listener_drops_total", labels, o1.sk_drops);
	EXPECT_SAMPLE(r.out, "aqueue_listener_drops_syn_acceptq_total", labels,
		      row->drops_syn_acceptq);
	EXPECT_SAMPLE(r.out, "aqueue_listener_queue_length_at_syn_count",
		      labels, aq_hist_total(&row->qlen));
	snprintf(inf, sizeof(inf), "%.*s,le=\"+Inf\"}",
		 (int)strlen(labels) - 1, labels);
	EXPECT_SAMPLE(r.out, "aqueue_listener_queue_length_at_syn_bucket", inf,
		      aq_hist_total(&row->qlen));
	EXPECT_SAMPLE(r.out, "aqueue_listener_wait_seconds_count", labels, 0);
	expect_typed(_metadata, r.out);
	aq_snap_free(&s);
	run_free(&r);
	aq_close_fds(cfd, 3);
	close(lfd);
}

AQ_NETNS_TEST(live, prometheus_has_the_listener, AQ_RUN, prom_in_netns, NULL)

/* The table: the saturated listener first, QUEUE 3/2. */
static void table_in_netns(struct __test_metadata *_metadata, void *arg)
{
	struct run r = { 0 };
	int cfd[3], c2, lfd, idle;
	char local[64], *first, *second;

	idle = aq_listen_tcp("127.0.0.1", 0, 64, 0);
	ASSERT_LE(0, idle);
	aq_fill(_metadata, idle, "127.0.0.1", &c2, 1, 0);
	lfd = saturated(_metadata, cfd);
	AQSTAT(&r, 30, "-H");
	ASSERT_EQ(0, r.status) TH_LOG("aqstat: %s", r.err);
	aq_local_str(lfd, local, sizeof(local));
	first = strstr(r.out, local);
	ASSERT_NE(NULL, first) TH_LOG("no row for %s:\n%s", local, r.out);
	EXPECT_NE(NULL, strstr(first, " 3/2 ")) TH_LOG("%s", r.out);
	aq_local_str(idle, local, sizeof(local));
	second = strstr(r.out, local);
	ASSERT_NE(NULL, second);
	EXPECT_LT(first, second) TH_LOG("the saturated listener is not first:\n%s",
					 r.out);
	EXPECT_NE(NULL, strstr(r.out, "@qlen")) TH_LOG("-H draws no histogram");
	run_free(&r);
	aq_close_fds(cfd, 3);
	aq_close_rst(c2);
	close(lfd);
	close(idle);
}

AQ_NETNS_TEST(live, table_puts_saturated_first, AQ_RUN, table_in_netns, NULL)

/* ------------------------------------------------------------------ */
/* listen() above net.core.somaxconn */

#define CAP_COMM "aq live cap"
#define CAP_SOMAXCONN 128
#define CAP_ASKED 4096
#define CAP_SYNS 3

/* The line of @text that starts with @prefix, into @line; false if none. */
static bool line_starting(const char *text, const char *prefix, char *line,
			  size_t size)
{
	size_t plen = strlen(prefix);
	const char *p = text;

	while (p && *p) {
		const char *end = strchr(p, '\n');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n >= plen && !strncmp(p, prefix, plen)) {
			snprintf(line, size, "%.*s", (int)n, p);
			return true;
		}
		p = end ? end + 1 : NULL;
	}
	return false;
}

/*
 * listen(fd, 4096) under net.core.somaxconn 128 gets a backlog of 128:
 * 129 connections fill its queue and three SYNs more are dropped. The
 * table's note names what was asked, the cap and the sysctl, and a
 * backlog of the kernel's peak (sock_diag's rqueue, backlog+1) plus the
 * drops (ListenOverflows) minus one; -j has the same figures.
 */
static void somaxconn_note_in_netns(struct __test_metadata *_metadata,
				    void *arg)
{
	char want[16], got[16] = "", local[64], prefix[128], line[1024];
	const struct aq_json *ls, *l = NULL, *v;
	struct aq_snap s = { 0 };
	struct aq_json *j;
	struct aq_oracle o;
	struct run r = { 0 };
	struct aq_row *row;
	long long over0, needed, shown = -1;
	int cfd[CAP_SOMAXCONN + 1], lfd, i;
	const char *at;
	char err[200];

	snprintf(want, sizeof(want), "%d\n", CAP_SOMAXCONN);
	ASSERT_EQ(0, aq_write_file("/proc/sys/net/core/somaxconn", want));
	ASSERT_LT(0, aq_read_file("/proc/sys/net/core/somaxconn", got,
				  sizeof(got) - 1));
	ASSERT_STREQ(want, got);
	over0 = aq_netstat("TcpExt", "ListenOverflows");
	ASSERT_LE(0, over0);

	aq_set_comm(CAP_COMM);
	lfd = aq_listen_tcp("127.0.0.1", 0, CAP_ASKED, 0);
	ASSERT_LE(0, lfd);
	aq_fill(_metadata, lfd, "127.0.0.1", cfd, CAP_SOMAXCONN + 1, 0);
	aq_overflow(_metadata, lfd, "127.0.0.1", CAP_SYNS);

	/* the table, and the kernel's figures before and after it */
	quiet_run(_metadata, lfd, "-t", &o, &r, &s);
	EXPECT_EQ(CAP_SOMAXCONN, o.wqueue);
	EXPECT_EQ(CAP_SOMAXCONN + 1, o.rqueue);
	EXPECT_EQ(CAP_SYNS, o.mib.overflows - over0);
	needed = o.rqueue + (o.mib.overflows - over0) - 1;
	row = aq_row_of(_metadata, &s, lfd);
	ASSERT_NE(NULL, row);
	EXPECT_EQ(CAP_ASKED, row->backlog_asked);
	EXPECT_EQ(CAP_SOMAXCONN, row->somaxconn);
	EXPECT_EQ(o.rqueue, row->qpeak);
	EXPECT_EQ(o.mib.overflows - over0,
		  row->drops_syn_acceptq + row->drops_ack_acceptq);

	aq_local_str(lfd, local, sizeof(local));
	snprintf(prefix, sizeof(prefix), "%" PRId64 " tcp %s: ", row->id, local);
	ASSERT_TRUE(line_starting(r.out, prefix, line, sizeof(line)))
		TH_LOG("no note for %s after the table:\n%s", local, r.out);
	TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, "listen() asked for 4096, capped at 128 "
				     "by net.core.somaxconn"))
		TH_LOG("%s", line);
	at = strstr(line, "a backlog of ");
	ASSERT_NE(NULL, at) TH_LOG("%s", line);
	EXPECT_EQ(1, sscanf(at, "a backlog of %lld would have held its peak",
			    &shown));
	EXPECT_EQ(needed, shown) TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, "(raise net.core.somaxconn)"))
		TH_LOG("%s", line);
	run_free(&r);
	aq_snap_free(&s);

	/* -j: the same */
	quiet_run(_metadata, lfd, "-j", &o, &r, &s);
	j = aq_json_parse(r.out, err, sizeof(err));
	ASSERT_NE(NULL, j) TH_LOG("aqstat -j is not JSON: %s", err);
	row = aq_row_of(_metadata, &s, lfd);
	ASSERT_NE(NULL, row);
	ls = aq_json_get(j, "listeners");
	for (i = 0; ls && i < ls->n && !l; i++)
		if (jint(_metadata, &ls->kids[i], "id") == row->id)
			l = &ls->kids[i];
	ASSERT_NE(NULL, l) TH_LOG("-j lacks listener %" PRId64, row->id);
	EXPECT_EQ(CAP_ASKED, jint(_metadata, l, "backlog_asked"));
	EXPECT_EQ(CAP_SOMAXCONN, jint(_metadata, l, "somaxconn"));
	v = aq_json_get(l, "backlog_clamped");
	ASSERT_NE(NULL, v);
	EXPECT_EQ((int)AQ_JBOOL, (int)v->type);
	EXPECT_EQ(1, v->i) TH_LOG("backlog_clamped is not true");
	EXPECT_EQ(o.rqueue + (o.mib.overflows - over0) - 1,
		  jint(_metadata, l, "backlog_needed"));
	aq_json_free(j);
	run_free(&r);
	aq_snap_free(&s);
	aq_close_fds(cfd, CAP_SOMAXCONN + 1);
	close(lfd);
}

/* 129 connections one by one, each seen queued, and two runs of aqstat */
AQ_NETNS_TEST_TIMEOUT(live, listen_above_somaxconn_gets_a_note, 60, AQ_RUN,
		      somaxconn_note_in_netns, NULL)

/* ------------------------------------------------------------------ */
/* a reuseport group */

#define GROUP_MEMBERS 4
#define GROUP_CONNS 40
#define GROUP_BACKLOG 64

/* What sock_diag shows queued on the @n listeners @lfd, all told. */
static long group_rqueue(const int *lfd, int n)
{
	long total = 0;
	int i;

	for (i = 0; i < n; i++)
		total += aq_diag_rqueue(lfd[i]);
	return total;
}

/* aqstat -j's listener @id in @ls, or NULL. */
static const struct aq_json *json_listener(struct __test_metadata *_metadata,
					   const struct aq_json *ls, int64_t id)
{
	int i;

	for (i = 0; ls && i < ls->n; i++)
		if (jint(_metadata, &ls->kids[i], "id") == id)
			return &ls->kids[i];
	return NULL;
}

/*
 * Four listeners with SO_REUSEPORT on one 127.0.0.1 port, 40 connections
 * that the kernel's hash spreads among them, none accepted. -j: each
 * member's reuseport_group is the smallest of their ids (the rows'), its
 * qnow is sock_diag's Recv-Q; the table: one line over the group, "group
 * G (4 members): queue 40/256, ...".
 */
static void group_in_netns(struct __test_metadata *_metadata, void *arg)
{
	int lfd[GROUP_MEMBERS], fds[GROUP_CONNS], i, members = 0;
	long long queue = -1, backlog = -1, gid = -1;
	int64_t first = INT64_MAX, id[GROUP_MEMBERS];
	const struct aq_json *ls, *l;
	char prefix[64], line[1024], err[200];
	int64_t end;
	struct aq_snap s = { 0 };
	struct aq_json *j;
	struct run r = { 0 };
	uint16_t port;

	lfd[0] = aq_listen_tcp("127.0.0.1", 0, GROUP_BACKLOG, AQ_REUSEPORT);
	ASSERT_LE(0, lfd[0]);
	port = aq_port_of(lfd[0]);
	for (i = 1; i < GROUP_MEMBERS; i++) {
		lfd[i] = aq_listen_tcp("127.0.0.1", port, GROUP_BACKLOG,
				       AQ_REUSEPORT);
		ASSERT_LE(0, lfd[i]);
	}
	for (i = 0; i < GROUP_CONNS; i++) {
		fds[i] = aq_connect_nb("127.0.0.1", port, false);
		ASSERT_LE(0, fds[i]);
		aq_wait_state(fds[i], TCP_ESTABLISHED);
	}
	/* every child in an accept queue before aqstat reads */
	end = aq_now_ns() + AQ_WAIT_MS * 1000000LL;
	while (group_rqueue(lfd, GROUP_MEMBERS) < GROUP_CONNS &&
	       aq_now_ns() < end)
		usleep(1000);
	ASSERT_EQ(GROUP_CONNS, group_rqueue(lfd, GROUP_MEMBERS));

	aq_snapshot(_metadata, &s);
	for (i = 0; i < GROUP_MEMBERS; i++) {
		id[i] = aq_row_of_ino(_metadata, &s, lfd[i])->id;
		if (id[i] < first)
			first = id[i];
	}
	aq_snap_free(&s);

	/* -j: the group's name and each member's queue, the kernel's */
	AQSTAT(&r, 30, "-j");
	ASSERT_EQ(0, r.status) TH_LOG("aqstat -j: %s", r.err);
	j = aq_json_parse(r.out, err, sizeof(err));
	ASSERT_NE(NULL, j) TH_LOG("aqstat -j is not JSON: %s", err);
	ls = aq_json_get(j, "listeners");
	ASSERT_NE(NULL, ls);
	for (i = 0; i < GROUP_MEMBERS; i++) {
		l = json_listener(_metadata, ls, id[i]);
		ASSERT_NE(NULL, l) TH_LOG("-j lacks listener %" PRId64, id[i]);
		EXPECT_EQ(first, jint(_metadata, l, "reuseport_group"))
			TH_LOG("member %d (id %" PRId64 ")", i, id[i]);
		EXPECT_EQ(aq_diag_rqueue(lfd[i]), jint(_metadata, l, "qnow"))
			TH_LOG("member %d (id %" PRId64 ")", i, id[i]);
	}
	aq_json_free(j);
	run_free(&r);

	/* the table: one line over the four, their queues summed */
	AQSTAT(&r, 30, "-t");
	ASSERT_EQ(0, r.status) TH_LOG("aqstat -t: %s", r.err);
	snprintf(prefix, sizeof(prefix), "group %" PRId64 " (", first);
	ASSERT_TRUE(line_starting(r.out, prefix, line, sizeof(line)))
		TH_LOG("no line for group %" PRId64 ":\n%s", first, r.out);
	TH_LOG("%s", line);
	EXPECT_EQ(4, sscanf(line, "group %lld (%d members): queue %lld/%lld",
			    &gid, &members, &queue, &backlog))
		TH_LOG("%s", line);
	EXPECT_EQ(first, gid);
	EXPECT_EQ(GROUP_MEMBERS, members) TH_LOG("%s", line);
	EXPECT_EQ(GROUP_CONNS, queue) TH_LOG("%s", line);
	EXPECT_EQ(GROUP_MEMBERS * GROUP_BACKLOG, backlog) TH_LOG("%s", line);
	EXPECT_EQ(GROUP_CONNS, group_rqueue(lfd, GROUP_MEMBERS));
	run_free(&r);
	aq_close_fds(fds, GROUP_CONNS);
	for (i = 0; i < GROUP_MEMBERS; i++)
		close(lfd[i]);
}

/* 40 connections one by one, and two runs of aqstat */
AQ_NETNS_TEST_TIMEOUT(live, reuseport_group_in_json_and_table, 60, AQ_RUN,
		      group_in_netns, NULL)

/* ------------------------------------------------------------------ */
/* ctl */

static bool has_row(struct __test_metadata *_metadata, int lfd)
{
	struct aq_snap s = { 0 };
	bool found;

	aq_snapshot(_metadata, &s);
	found = aq_find_row(&s, lfd) != NULL;
	aq_snap_free(&s);
	return found;
}

static void ctl_in_netns(struct __test_metadata *_metadata, void *arg)
{
	const char *ip = "127.0.0.1";
	int la, lb, c[4], nc = 0;
	struct aq_snap s = { 0 };
	struct run r = { 0 };
	char port[16], settings[8192];
	const char *missing;
	int64_t f0;
	int tries;

	la = aq_listen_tcp(ip, 0, 8, 0);
	lb = aq_listen_tcp(ip, 0, 8, 0);
	ASSERT_LE(0, la);
	ASSERT_LE(0, lb);
	aq_fill(_metadata, la, ip, &c[nc++], 1, 0);
	aq_fill(_metadata, lb, ip, &c[nc++], 1, 0);
	ASSERT_TRUE(has_row(_metadata, lb));

	snprintf(port, sizeof(port), "%u", aq_port_of(la));
	AQSTAT(&r, 30, "ctl", "filter", "port", port);
	EXPECT_EQ(0, r.status) TH_LOG("aqstat ctl filter port %s: %s", port,
				      r.err);
	run_free(&r);
	AQ_CTL_EXPECT_LINE("filter port", port);
	EXPECT_TRUE(has_row(_metadata, la));
	EXPECT_FALSE(has_row(_metadata, lb));
	aq_snapshot(_metadata, &s);
	f0 = s.filtered_events;
	aq_snap_free(&s);
	aq_fill(_metadata, lb, ip, &c[nc++], 1, 1);
	aq_snapshot(_metadata, &s);
	EXPECT_LT(f0, s.filtered_events);
	EXPECT_EQ(NULL, aq_find_row(&s, lb));
	aq_snap_free(&s);

	/*
	 * Without words: the control file as it reads. Its counters move on
	 * their own (memory_bytes falls when the entry the filter dropped is
	 * freed, after a grace period): compare with a read right after, a
	 * few times until the two agree.
	 */
	for (tries = 0; tries < 5; tries++) {
		char *line, *save = NULL;

		AQSTAT(&r, 30, "ctl");
		EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
		aq_ctl_settings(_metadata, settings, sizeof(settings));
		missing = NULL;
		for (line = strtok_r(settings, "\n", &save); line && !missing;
		     line = strtok_r(NULL, "\n", &save))
			if (!strstr(r.out, line))
				missing = line;
		if (!missing) {
			run_free(&r);
			break;
		}
		TH_LOG("'aqstat ctl' lacks '%s'", missing);
		run_free(&r);
		aq_sleep_ns(100000000);
	}
	EXPECT_GT(5, tries) TH_LOG("'aqstat ctl' never matched the control file");

	AQSTAT(&r, 30, "ctl", "filter", "port", "any");
	EXPECT_EQ(0, r.status);
	run_free(&r);
	AQ_CTL_EXPECT_LINE("filter port", "any");
	aq_fill(_metadata, lb, ip, &c[nc++], 1, 2);
	EXPECT_TRUE(has_row(_metadata, lb));
	aq_close_fds(c, nc);
	close(la);
	close(lb);
}

AQ_NETNS_TEST(live, ctl_filter_port_changes_tracking, AQ_RUN, ctl_in_netns,
	      NULL)

static void ctl_bad_in_netns(struct __test_metadata *_metadata, void *arg)
{
	static const struct {
		const char *args[4];
		const char *errname;
	} bad[] = {
		{ { "filter", "port", "0" }, "EINVAL" },
		{ { "bogus" }, "EINVAL" },
		{ { "disable", "now" }, "EINVAL" },
		{ { "max_memory", "63K" }, "EINVAL" },
		{ { "filter", "family", "ipv5" }, "EINVAL" },
		{ { "filter", "port", "@LONG" /* a page of ports */ }, "E2BIG" },
	};
	struct aq_world *w = calloc(1, sizeof(*w));
	char *longlist = malloc(8192);
	int cfd[3], lfd, afd;
	unsigned int i;
	size_t n = 0;

	ASSERT_NE(NULL, w);
	ASSERT_NE(NULL, longlist);
	while (n < 6000)
		n += snprintf(longlist + n, 8192 - n, "%s80", n ? "," : "");
	lfd = aq_listen_tcp("127.0.0.1", 0, 2, 0);
	ASSERT_LE(0, lfd);
	aq_fill(_metadata, lfd, "127.0.0.1", cfd, 3, 0);
	afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, afd);
	close(afd);
	aq_world_read(_metadata, w);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[6] = { "ctl" };
		struct run r = { 0 };
		int k;

		for (k = 0; k < 3 && bad[i].args[k]; k++)
			args[k + 1] = strcmp(bad[i].args[k], "@LONG") ?
				      bad[i].args[k] : longlist;
		args[k + 1] = NULL;
		run_aqstat(_metadata, &r, 30, args);
		EXPECT_EQ(7, r.status) TH_LOG("aqstat ctl %s %s: exit %d: %s",
					      args[1], args[2] ? args[2] : "",
					      r.status, r.err);
		EXPECT_NE(NULL, strstr(r.err, bad[i].errname))
			TH_LOG("stderr does not name %s: %s", bad[i].errname,
			       r.err);
		EXPECT_NE(NULL, strstr(r.err, "refused")) TH_LOG("%s", r.err);
		EXPECT_TRUE(aq_world_unchanged(_metadata, w, args[1]));
		run_free(&r);
	}
	aq_snap_free(&w->snap);
	free(w);
	free(longlist);
	aq_close_fds(cfd, 3);
	close(lfd);
}

AQ_NETNS_TEST(live, ctl_bad_input_exits_7_changes_nothing, AQ_RUN,
	      ctl_bad_in_netns, NULL)

/*
 * reset of an unknown id: the module refuses it (ENOENT, doc/interface.md)
 * and changes nothing; aqstat.8 gives exit 7 to "the module refused the
 * command", exit 1 to I/O errors on files.
 */
static void ctl_enoent_in_netns(struct __test_metadata *_metadata, void *arg)
{
	struct run r = { 0 };

	AQSTAT(&r, 30, "ctl", "reset", "999999");
	EXPECT_EQ(7, r.status) TH_LOG("aqstat ctl reset 999999: exit %d: %s",
				      r.status, r.err);
	EXPECT_NE(NULL, strstr(r.err, "999999")) TH_LOG("%s", r.err);
	run_free(&r);
}

AQ_NETNS_TEST(live, ctl_reset_unknown_id_is_a_refusal, AQ_RUN,
	      ctl_enoent_in_netns, NULL)

/* ------------------------------------------------------------------ */

TEST_F(live, module_not_loaded_says_how_to_load)
{
	static const char *const modes[][4] = {
		{ NULL }, { "-j" }, { "--prometheus" }, { "-H" },
		{ "-w", "1", "-c", "1" }, { "ctl" }, { "ctl", "enable" },
	};
	unsigned int i;

	ASSERT_EQ(0, aq_unload());
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		const char *args[5] = { NULL };
		struct run r = { 0 };
		int k;

		for (k = 0; k < 4 && modes[i][k]; k++)
			args[k] = modes[i][k];
		run_aqstat(_metadata, &r, 30, args);
		EXPECT_EQ(3, r.status) TH_LOG("aqstat %s %s: exit %d: %s",
					      args[0] ? args[0] : "",
					      args[1] ? args[1] : "",
					      r.status, r.err);
		EXPECT_TRUE(strstr(r.err, "modprobe aqueue") ||
			    strstr(r.err, "insmod"))
			TH_LOG("aqstat %s: no hint how to load: %s",
			       args[0] ? args[0] : "", r.err);
		EXPECT_STREQ("", r.out) TH_LOG("output without a module");
		run_free(&r);
	}
}

static void watch_in_netns(struct __test_metadata *_metadata, void *arg)
{
	struct run r = { 0 };
	int cfd[3], lfd;
	char local[64], *f1, *f2;

	lfd = saturated(_metadata, cfd);
	AQSTAT(&r, 60, "-w", "1", "-c", "2");
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	f1 = strstr(r.out, "frame 1");
	f2 = strstr(r.out, "frame 2");
	ASSERT_NE(NULL, f1) TH_LOG("%s", r.out);
	ASSERT_NE(NULL, f2) TH_LOG("%s", r.out);
	EXPECT_LT(f1, f2);
	EXPECT_EQ(NULL, strstr(r.out, "frame 3"));
	aq_local_str(lfd, local, sizeof(local));
	EXPECT_TRUE(strstr(f1, local) && strstr(f1, local) < f2)
		TH_LOG("frame 1 lacks %s", local);
	EXPECT_NE(NULL, strstr(f2, local)) TH_LOG("frame 2 lacks %s", local);
	/* One interval of a second between the two frames. */
	EXPECT_LE(1000000000LL, r.ns);
	EXPECT_GT(20000000000LL, r.ns);
	run_free(&r);
	aq_close_fds(cfd, 3);
	close(lfd);
}

AQ_NETNS_TEST(live, watch_draws_two_frames, AQ_RUN, watch_in_netns, NULL)

AQ_TEST_HARNESS_MAIN
