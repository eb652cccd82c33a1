// SPDX-License-Identifier: GPL-2.0
/*
 * A differential soak: a seeded random schedule of workload phases on
 * many listeners in several network namespaces, and at every phase
 * boundary (traffic quiesced) every listener held to the kernel's own
 * account of it.
 *
 * The schedule comes from one seed, printed first; SOAK_SEED=N replays it
 * (the phases, their order, sizes and hold times; not the kernel's timing).
 * SOAK_MINUTES sets the length (default: SOAK_DEFAULT_S seconds, what
 * make check runs); tools/vmtest/run passes both into the guest.
 *
 * Epochs: each opens a set of listeners in every namespace (tcp, tcp6, a
 * reuseport group, a SYN-flood target, unix stream and seqpacket, a watched
 * UDP socket), runs some phases, and closes them all. Between epochs the
 * module is reloaded, disabled and enabled, or given a filter. Phases:
 * handshakes with accepts from several threads, connections held in the
 * queue for a chosen time, queues filled and left across the boundary,
 * overflows, spoofed SYN floods whose SYN-ACKs are lost, SYN cookies
 * (tcp_syncookies 1 and 2), TCP Fast Open, a reuseport member closed with
 * connections queued (tcp_migrate_req=1, 5.14 on), listeners closed with
 * connections queued, clients that give up before accept, unix listeners,
 * watched UDP, and a control-file reset.
 *
 * The checks, per listener: qnow = sock_diag idiag_rqueue (unix: the
 * unix_diag queue); synq_now = the SYN-RECV sockets of its port; drops =
 * SO_MEMINFO's SK_MEMINFO_DROPS (unix: the connects refused with EAGAIN);
 * enqueued = accepted + qnow; accepted = the server's own accept() count;
 * the wait histogram = the waits the server measured (below). Per
 * namespace, summed over its listeners (the closed ones as they were just
 * before close): ListenOverflows, TCPReqQFullDrop, TCPReqQFullDoCookies,
 * SyncookiesSent, TCPMigrateReqSuccess against the module's counts. The
 * closed totals: enqueued = accepted + drained + migrated, each moved by
 * what the closed listeners held, migrated by TCPMigrateReqSuccess.
 *
 * Waits: each connection's time in queue is bracketed by the server's and
 * client's clocks: enqueue happens inside the client's connect() (t0..t1),
 * the dequeue inside the server's accept() (a0..a1), so the wait lies in
 * [a0 - t1, a1 - t0], widened by WAIT_SLACK_NS and WAIT_SLACK_PCT for the
 * final ACK that another CPU may process just after connect() returned.
 * That interval names one bucket, or two when it crosses an edge; the
 * module's histogram must be an assignment of each connection to one of its
 * buckets (a matching, checked exactly). Connections whose enqueue time is
 * not known (an overflowed handshake completed by a retransmit, UDP) only
 * bound the wait from above. The hold phases wait at the geometric middle of
 * a bucket, so most intervals name one bucket: the soak counts and prints
 * how many did, and fails if none did.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/ip.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"

#include "aq_clock.h"
#include "aq_diag.h"
#include "aq_file.h"
#include "aq_fixture.h"
#include "aq_hist.h"
#include "aq_module.h"
#include "aq_netns.h"
#include "aq_proc.h"
#include "aq_rng.h"
#include "aq_sock.h"
#include "aq_syn.h"
#include "aq_unix.h"

#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif
#ifndef TCP_FASTOPEN
#define TCP_FASTOPEN 23
#endif

#define SOAK_DEFAULT_S	75
#define NNS		3
#define MAXL		512
#define MAXPEND		16384
#define MAXACC		16384
#define NBUCKETS	AQUEUE_WAIT_BUCKETS

#define WAIT_SLACK_NS	3000000LL	/* 3 ms, times the kernel's slowdown */
#define WAIT_SLACK_PCT	3

/* SYN floods: spoofed sources routed into a veth whose peer is down. */
#define SPOOF_NET	"198.18.0.0/24"
#define FLOOD_ADDR	"198.18.1.1"

enum kind { K_TCP4, K_TCP6, K_RP, K_FLOOD, K_UNIX, K_USEQ, K_UDP, K_NKINDS };

static const char *const kind_name[K_NKINDS] = {
	"tcp4", "tcp6", "reuseport", "flood", "unix", "unix-seq", "udp",
};

struct ival {
	int64_t lo, hi;		/* bounds of the wait, ns; hi < 0: none */
};

struct lst {
	int ns;
	enum kind kind;
	int fd;
	bool open;
	int group;		/* reuseport group (its first member's index) */
	int backlog;
	uint16_t port;
	char proto[12];
	char local[96];
	/* Expectations since tracking began or the last reset. */
	bool tracked;		/* the filter lets it be tracked */
	bool seen_traffic;	/* UDP rows appear at the first datagram */
	long long accepted, base_drops, refused;
	long long udp_sent, udp_recv;	/* since it opened */
	struct ival *w;
	int nw, capw;
};

struct mibs {
	long long overflows, reqq_drop, reqq_cookies, cookies_sent;
	long long mig_ok, mig_fail;
};

struct nsstate {
	int fd;
	int64_t ino;
	int syncookies;
	bool migrate;
	struct mibs base;	/* at the epoch's start or the last reset */
	struct mibs retired;	/* of listeners closed since then */
	bool partial;		/* the filter tracks some of its TCP listeners */
};

struct pend {
	uint64_t key;
	int64_t t0, t1;
	bool loose;
	bool used;
};

struct acc {
	int li;
	uint64_t key;
	int64_t a0, a1;
};

struct soak {
	struct __test_metadata *md;
	struct aq_rng rng;
	uint64_t seed;
	int init_ns;
	struct nsstate ns[NNS];
	int cur_ns;
	struct lst l[MAXL];
	int nl;
	struct pend *pend;
	int npend;
	struct acc *acc;
	int nacc;
	pthread_mutex_t lock;
	uint32_t next_id;
	int epoch, phase, nphases;
	const char *phase_name;
	uint16_t next_port;
	bool migrate_ok;	/* the kernel has tcp_migrate_req */
	/* The filter of this epoch. */
	int filter;		/* 0 none, 1 netns, 2 kind tcp, 3 kind unix, 4 port */
	int filter_ns;
	uint16_t fports[16];
	int nfports;
	/* closed totals expected to move since the last check */
	long long exp_closed_n, exp_closed_enq, exp_closed_acc, exp_closed_q;
	long long exp_closed_drops;
	struct aq_snap prev;
	bool have_prev;
	long long mig_ok_since_check;	/* TCPMigrateReqSuccess at closes */
	char closed_log[2048];		/* the closes since the last check */
	/* statistics */
	long long comparisons, wait_exact, wait_edge, wait_loose;
	long long mismatches, repeats, printed;
	long long conns, floods;
	int64_t end_ns;
};

/* ---------------------------------------------------------------- util */

/*
 * How much slower than a stock kernel this one is ($AQ_SLOWDOWN, 20 on the
 * debug kernel): the wait slack grows by it, the hold times by its power
 * of two, so that a held connection still names one bucket.
 */
static long long slowdown = 1;
static int slowdown_shift;

static void read_slowdown(void)
{
	const char *env = getenv("AQ_SLOWDOWN");

	slowdown = env && atoll(env) > 1 ? atoll(env) : 1;
	slowdown_shift = 0;
	while ((2LL << slowdown_shift) <= slowdown)
		slowdown_shift++;
}

static int sh(const char *cmd)
{
	int status = system(cmd);

	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void enter_ns(struct soak *s, int ns)
{
	int fd = ns < 0 ? s->init_ns : s->ns[ns].fd;
	struct __test_metadata *_metadata = s->md;

	if (s->cur_ns == ns)
		return;
	ASSERT_EQ(0, setns(fd, CLONE_NEWNET)) TH_LOG("setns: %s",
						     strerror(errno));
	s->cur_ns = ns;
}

static int sysctl_w(const char *name, long v)
{
	char path[128], val[32];

	snprintf(path, sizeof(path), "/proc/sys/net/%s", name);
	snprintf(val, sizeof(val), "%ld\n", v);
	return aq_write_file(path, val);
}

static long long mib(const char *name)
{
	long long v = aq_netstat("TcpExt", name);

	return v < 0 ? 0 : v;
}

static void read_mibs(struct soak *s, int ns, struct mibs *m)
{
	enter_ns(s, ns);
	m->overflows = mib("ListenOverflows");
	m->reqq_drop = mib("TCPReqQFullDrop");
	m->reqq_cookies = mib("TCPReqQFullDoCookies");
	m->cookies_sent = mib("SyncookiesSent");
	m->mig_ok = mib("TCPMigrateReqSuccess");
	m->mig_fail = mib("TCPMigrateReqFailure");
}

static bool is_tcp(const struct lst *l)
{
	return l->kind <= K_FLOOD;
}

static bool is_unix(const struct lst *l)
{
	return l->kind == K_UNIX || l->kind == K_USEQ;
}

static int wait_idx(int64_t ns)
{
	int64_t low = aq_wait_bucket(ns < 0 ? 0 : ns);
	int i = 0;

	while (low >= 1024) {
		low >>= 1;
		i++;
	}
	return i;
}

static int64_t idx_low(int i)
{
	return i ? (int64_t)512 << i : 0;
}

/* The probes the module disarmed or that missed hits, at the first mismatch. */
static void dump_disarmed(struct soak *s)
{
	static char buf[16384];
	char *line, *save = NULL;
	ssize_t n;

	n = aq_read_file(AQ_CONTROL_PATH, buf, sizeof(buf));
	if (n < 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, "probe ", 6) &&
		    (strstr(line, " armed 0") || !strstr(line, " missed 0 ")))
			ksft_print_msg("soak: control: %s\n", line);
}

/* A mismatch: the listener, the field, both values, the phase, the seed. */
static void mismatch(struct soak *s, const struct lst *l, const char *field,
		     long long aq, long long kernel, const char *oracle)
{
	static char seen[256][160];
	static int nseen;
	char what[160];
	int i;

	s->mismatches++;
	/* Each listener's field once: a stuck value would repeat. */
	snprintf(what, sizeof(what), "%" PRId64 " %s %s %s",
		 l ? s->ns[l->ns].ino : 0, l ? l->proto : "", l ? l->local : "",
		 field);
	for (i = 0; i < nseen; i++)
		if (!strcmp(seen[i], what)) {
			s->repeats++;
			return;
		}
	if (nseen < 256)
		strcpy(seen[nseen++], what);
	if (++s->printed > 60)
		return;
	if (s->printed == 1)
		dump_disarmed(s);
	if (l)
		ksft_print_msg("MISMATCH seed %" PRIu64 " epoch %d phase %d (%s): netns %" PRId64 " %s %s (%s): %s %lld, %s %lld\n",
			       s->seed, s->epoch, s->phase, s->phase_name,
			       s->ns[l->ns].ino, l->proto, l->local,
			       kind_name[l->kind], field, aq, oracle, kernel);
	else
		ksft_print_msg("MISMATCH seed %" PRIu64 " epoch %d phase %d (%s): %s %lld, %s %lld\n",
			       s->seed, s->epoch, s->phase, s->phase_name,
			       field, aq, oracle, kernel);
}

static void compare(struct soak *s, const struct lst *l, const char *field,
		    long long aq, long long kernel, const char *oracle)
{
	s->comparisons++;
	if (aq != kernel)
		mismatch(s, l, field, aq, kernel, oracle);
}

/* ------------------------------------------------------- pending conns */

static uint64_t tcp_key(int ns, uint16_t lport, uint16_t cport)
{
	return 1ULL << 62 | (uint64_t)ns << 48 | (uint64_t)lport << 16 | cport;
}

static uint64_t id_key(uint32_t id)
{
	return 2ULL << 62 | id;
}

static void pend_add(struct soak *s, uint64_t key, int64_t t0, int64_t t1,
		     bool loose)
{
	struct pend *p;

	if (s->npend == MAXPEND) {
		/* Drop the used ones. */
		int i, j = 0;

		for (i = 0; i < s->npend; i++)
			if (!s->pend[i].used)
				s->pend[j++] = s->pend[i];
		s->npend = j;
		if (s->npend == MAXPEND)
			s->npend = 0;
	}
	p = &s->pend[s->npend++];
	p->key = key;
	p->t0 = t0;
	p->t1 = t1;
	p->loose = loose;
	p->used = false;
}

static struct pend *pend_find(struct soak *s, uint64_t key)
{
	int i;

	for (i = s->npend - 1; i >= 0; i--)
		if (!s->pend[i].used && s->pend[i].key == key)
			return &s->pend[i];
	return NULL;
}

static void wait_add(struct lst *l, int64_t lo, int64_t hi)
{
	if (l->nw == l->capw) {
		l->capw = l->capw ? 2 * l->capw : 64;
		l->w = realloc(l->w, l->capw * sizeof(*l->w));
		if (!l->w)
			abort();
	}
	l->w[l->nw].lo = lo;
	l->w[l->nw].hi = hi;
	l->nw++;
}

/* Turns the accepts the threads recorded into waits and counts. */
static void settle_accepts(struct soak *s)
{
	int i;

	for (i = 0; i < s->nacc; i++) {
		struct acc *a = &s->acc[i];
		struct lst *l = &s->l[a->li];
		struct pend *p = pend_find(s, a->key);

		l->accepted++;
		l->udp_recv++;
		if (!p) {
			wait_add(l, 0, -1);
			continue;
		}
		p->used = true;
		if (p->loose || l->kind == K_UDP)
			wait_add(l, 0, a->a1 - p->t0);
		else
			wait_add(l, a->a0 - p->t1, a->a1 - p->t0);
	}
	s->nacc = 0;
}

/* ------------------------------------------------------------ accepting */

struct acceptor {
	struct soak *s;
	int li;
	atomic_long *left;
	int64_t deadline;
};

static void *accept_thread(void *arg)
{
	struct acceptor *a = arg;
	struct soak *s = a->s;
	struct lst *l = &s->l[a->li];

	while (atomic_load(a->left) > 0 && aq_now_ns() < a->deadline) {
		struct pollfd pfd = { .fd = l->fd, .events = POLLIN };
		union aq_addr peer;
		socklen_t plen = sizeof(peer);
		uint64_t key = 0;
		int64_t a0, a1;
		int fd;

		if (poll(&pfd, 1, 10) <= 0)
			continue;
		if (l->kind == K_UDP) {
			uint32_t id;
			ssize_t n;

			a0 = aq_now_ns();
			n = recv(l->fd, &id, sizeof(id), MSG_DONTWAIT);
			a1 = aq_now_ns();
			if (n != sizeof(id))
				continue;
			key = id_key(id);
		} else {
			a0 = aq_now_ns();
			fd = accept4(l->fd, &peer.sa, &plen, SOCK_CLOEXEC);
			a1 = aq_now_ns();
			if (fd < 0)
				continue;
			if (is_unix(l)) {
				struct timeval tv = { .tv_sec = 2 };
				uint32_t id;

				setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
					   sizeof(tv));
				if (recv(fd, &id, sizeof(id), 0) == sizeof(id))
					key = id_key(id);
			} else {
				uint16_t cport = ntohs(peer.sa.sa_family == AF_INET ?
						       peer.in.sin_port :
						       peer.in6.sin6_port);

				key = tcp_key(l->ns, l->port, cport);
			}
			close(fd);
		}
		pthread_mutex_lock(&s->lock);
		if (s->nacc < MAXACC) {
			s->acc[s->nacc].li = a->li;
			s->acc[s->nacc].key = key;
			s->acc[s->nacc].a0 = a0;
			s->acc[s->nacc].a1 = a1;
			s->nacc++;
		}
		pthread_mutex_unlock(&s->lock);
		atomic_fetch_sub(a->left, 1);
	}
	return NULL;
}

/* The kernel's queue length of a listener (sock_diag), or -1. */
static long diag_q(struct soak *s, struct lst *l)
{
	enter_ns(s, l->ns);
	if (is_unix(l))
		return aq_unix_rqlen(l->fd);
	if (l->kind == K_UDP) {
		/* datagrams queued: what was sent, less taken and dropped */
		return -1;
	}
	return aq_diag_rqueue(l->fd);
}

/*
 * Accepts `n` connections (or datagrams) of listener li from `threads`
 * threads at once; n < 0: as many as are queued now.
 */
static void accept_n(struct soak *s, int li, long n, int threads)
{
	struct lst *l = &s->l[li];
	struct acceptor a[4];
	pthread_t t[4];
	atomic_long left;
	int i;

	if (n < 0)
		n = l->kind == K_UDP ? 0 : diag_q(s, l);
	if (n <= 0)
		return;
	if (threads < 1)
		threads = 1;
	if (threads > 4)
		threads = 4;
	atomic_init(&left, n);
	for (i = 0; i < threads; i++) {
		a[i].s = s;
		a[i].li = li;
		a[i].left = &left;
		a[i].deadline = aq_now_ns() + 5000000000LL;
		if (pthread_create(&t[i], NULL, accept_thread, &a[i]))
			abort();
	}
	for (i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	settle_accepts(s);
}

/* --------------------------------------------------------------- clients */

static int *cfds;
static int ncfds;

static void keep_client(int fd)
{
	if (ncfds < 8192)
		cfds[ncfds++] = fd;
	else
		aq_close_rst(fd);
}

static void close_clients(void)
{
	int i;

	for (i = 0; i < ncfds; i++)
		aq_close_rst(cfds[i]);
	ncfds = 0;
}

static const char *connect_ip(const struct lst *l)
{
	switch (l->kind) {
	case K_TCP6:
		return "::1";
	case K_FLOOD:
		return FLOOD_ADDR;
	default:
		return "127.0.0.1";
	}
}

/*
 * One client of listener l: blocking connect (or Fast Open), timed.
 * give_up: closes it at once (half the time with an RST). Returns 0 or
 * -errno.
 */
static int client_tcp(struct soak *s, struct lst *l, bool tfo, bool give_up)
{
	union aq_addr a;
	int fd, err = 0;
	int64_t t0, t1;
	uint32_t data = 0x50a4;
	struct timeval tv = { .tv_sec = 3 };

	enter_ns(s, l->ns);
	aq_addr(&a, connect_ip(l), l->port);
	fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	t0 = aq_now_ns();
	if (tfo) {
		if (sendto(fd, &data, sizeof(data), MSG_FASTOPEN, &a.sa,
			   aq_addr_len(&a)) < 0)
			err = -errno;
	} else if (connect(fd, &a.sa, aq_addr_len(&a))) {
		err = -errno;
	}
	t1 = aq_now_ns();
	if (err) {
		close(fd);
		return err;
	}
	pend_add(s, tcp_key(l->ns, l->port, aq_port_of(fd)), t0, t1, false);
	s->conns++;
	if (give_up) {
		if (aq_chance(&s->rng, 1, 2))
			aq_close_rst(fd);
		else
			close(fd);
	} else {
		keep_client(fd);
	}
	return 0;
}

/* A non-blocking connect whose enqueue time is unknown (overflows). */
static int client_tcp_loose(struct soak *s, struct lst *l)
{
	int fd;
	int64_t t0;

	enter_ns(s, l->ns);
	t0 = aq_now_ns();
	fd = aq_connect_nb(connect_ip(l), l->port, false);
	if (fd < 0)
		return fd;
	pend_add(s, tcp_key(l->ns, l->port, aq_port_of(fd)), t0, t0, true);
	s->conns++;
	keep_client(fd);
	return 0;
}

static void unix_addr_of(const struct lst *l, struct aq_unix_addr *a)
{
	aq_unix_abstract(a, l->local + 1);
}

/* A unix client: connect, then its id. -EAGAIN when the queue was full. */
static int client_unix(struct soak *s, struct lst *l, bool give_up)
{
	struct aq_unix_addr a;
	uint32_t id = ++s->next_id;
	int64_t t0, t1;
	int fd;

	enter_ns(s, l->ns);
	unix_addr_of(l, &a);
	t0 = aq_now_ns();
	fd = aq_unix_connect_nb(l->kind == K_UNIX ? SOCK_STREAM :
				SOCK_SEQPACKET, &a);
	t1 = aq_now_ns();
	if (fd == -EAGAIN) {
		l->refused++;
		return fd;
	}
	if (fd < 0)
		return fd;
	pend_add(s, id_key(id), t0, t1, false);
	s->conns++;
	if (send(fd, &id, sizeof(id), MSG_DONTWAIT) != sizeof(id))
		ksft_print_msg("soak: unix client could not send its id\n");
	if (give_up)
		close(fd);
	else
		keep_client(fd);
	return 0;
}

static int udp_sender[NNS] = { -1, -1, -1 };

static void client_udp(struct soak *s, struct lst *l)
{
	union aq_addr a;
	uint32_t id = ++s->next_id;
	int64_t t0;

	enter_ns(s, l->ns);
	if (udp_sender[l->ns] < 0)
		return;
	aq_addr(&a, "127.0.0.1", l->port);
	t0 = aq_now_ns();
	if (sendto(udp_sender[l->ns], &id, sizeof(id), 0, &a.sa, aq_addr_len(&a)) ==
	    sizeof(id)) {
		pend_add(s, id_key(id), t0, t0, true);
		l->udp_sent++;
		l->seen_traffic = true;
	}
}

/* ------------------------------------------------------------ listeners */

static bool filter_tracks(struct soak *s, const struct lst *l)
{
	switch (s->filter) {
	case 1:
		return l->ns == s->filter_ns;
	case 2:
		return is_tcp(l);
	case 3:
		return is_unix(l);
	case 4: {
		int i;

		for (i = 0; i < s->nfports; i++)
			if (s->fports[i] == l->port)
				return is_tcp(l) || l->kind == K_UDP;
		return false;
	}
	default:
		return true;
	}
}

/* Unix listeners under a port filter: not said; not checked. */
static bool filter_unknown(struct soak *s, const struct lst *l)
{
	return s->filter == 4 && is_unix(l);
}

static int open_listener(struct soak *s, int ns, enum kind kind, int group,
			 uint16_t port, int backlog)
{
	struct __test_metadata *_metadata = s->md;
	struct lst *l;
	int fd = -1, qlen = 64, li;

	ASSERT_LT(s->nl, MAXL);
	li = s->nl;
	l = &s->l[li];
	memset(l, 0, sizeof(*l));
	enter_ns(s, ns);
	l->ns = ns;
	l->kind = kind;
	l->group = group < 0 ? li : group;
	l->port = port;
	l->backlog = backlog;
	switch (kind) {
	case K_TCP4:
		fd = aq_listen_tcp("127.0.0.1", port, backlog, 0);
		break;
	case K_TCP6:
		fd = aq_listen_tcp("::1", port, backlog, AQ_V6ONLY);
		break;
	case K_RP:
		fd = aq_listen_tcp("127.0.0.1", port, backlog, AQ_REUSEPORT);
		break;
	case K_FLOOD:
		fd = aq_listen_tcp(FLOOD_ADDR, port, backlog, 0);
		break;
	case K_UNIX:
	case K_USEQ: {
		struct aq_unix_addr a;

		snprintf(l->local, sizeof(l->local), "@aqsoak-%d-%u", ns,
			 ++s->next_id);
		aq_unix_abstract(&a, l->local + 1);
		fd = aq_unix_listen(kind == K_UNIX ? SOCK_STREAM :
				    SOCK_SEQPACKET, &a, backlog);
		snprintf(l->proto, sizeof(l->proto), "%s",
			 kind == K_UNIX ? "unix" : "unix-seq");
		break;
	}
	case K_UDP: {
		union aq_addr a;
		int rcvbuf = 4096;

		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		aq_addr(&a, "127.0.0.1", port);
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		if (bind(fd, &a.sa, aq_addr_len(&a))) {
			close(fd);
			fd = -errno;
		}
		snprintf(l->proto, sizeof(l->proto), "udp");
		break;
	}
	default:
		break;
	}
	ASSERT_LE(0, fd) TH_LOG("%s listener on port %u: %s", kind_name[kind],
				port, strerror(-fd));
	if (is_tcp(l)) {
		setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN, &qlen, sizeof(qlen));
		snprintf(l->proto, sizeof(l->proto), "%s",
			 kind == K_TCP6 ? "tcp6" : "tcp");
	}
	if (!is_unix(l))
		aq_local_str(fd, l->local, sizeof(l->local));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	l->fd = fd;
	l->open = true;
	l->tracked = filter_tracks(s, l);
	s->nl++;
	return li;
}

static void open_epoch_listeners(struct soak *s)
{
	int ns, i, g;

	for (ns = 0; ns < NNS; ns++) {
		int bl = 4 + aq_rand_below(&s->rng, 12);
		uint16_t rp = s->next_port++;

		open_listener(s, ns, K_TCP4, -1, s->next_port++, bl);
		open_listener(s, ns, K_TCP6, -1, s->next_port++,
			      4 + aq_rand_below(&s->rng, 12));
		g = s->nl;
		for (i = 0; i < 2 + (int)aq_rand_below(&s->rng, 2); i++)
			open_listener(s, ns, K_RP, g, rp, bl);
		open_listener(s, ns, K_FLOOD, -1, s->next_port++,
			      4 + aq_rand_below(&s->rng, 12));
		open_listener(s, ns, K_UNIX, -1, 0,
			      2 + aq_rand_below(&s->rng, 8));
		open_listener(s, ns, K_USEQ, -1, 0,
			      2 + aq_rand_below(&s->rng, 8));
		open_listener(s, ns, K_UDP, -1, s->next_port++, 0);
	}
}

/* ----------------------------------------------------------- snapshots */

/* /proc/aqueue, read in the initial namespace (all rows, with their netns). */
static int read_aqueue(struct soak *s, struct aq_snap *snap)
{
	static char text[1 << 20];
	ssize_t n;

	enter_ns(s, -1);
	n = aq_read_file(AQ_PROC_PATH, text, sizeof(text));
	if (n < 0)
		return -1;
	memset(snap, 0, sizeof(*snap));
	return aq_parse(text, snap, false);
}

static struct aq_row *row_of(struct soak *s, struct aq_snap *snap,
			     const struct lst *l)
{
	int i;

	for (i = 0; i < snap->nrows; i++) {
		struct aq_row *r = &snap->rows[i];

		if (r->netns == s->ns[l->ns].ino && !strcmp(r->proto, l->proto) &&
		    !strcmp(r->local, l->local)) {
			/* reuseport members share proto and local */
			if (l->kind == K_RP) {
				int j, nth = 0, k = 0;

				for (j = l->group; j < s->nl && &s->l[j] != l; j++)
					if (s->l[j].kind == K_RP &&
					    s->l[j].group == l->group &&
					    s->l[j].open)
						nth++;
				for (j = i; j < snap->nrows; j++) {
					struct aq_row *q = &snap->rows[j];

					if (q->netns == r->netns &&
					    !strcmp(q->proto, r->proto) &&
					    !strcmp(q->local, r->local) &&
					    k++ == nth)
						return q;
				}
				return NULL;
			}
			return r;
		}
	}
	return NULL;
}

static int first_open_member(struct soak *s, const struct lst *l)
{
	int i;

	for (i = 0; i < s->nl; i++)
		if (s->l[i].open && s->l[i].group == l->group)
			return i;
	return -1;
}

/* --------------------------------------------------------------- oracle */

struct oracle {
	long q[MAXL];
	long synrecv[MAXL];
	long long drops[MAXL];
	struct mibs m[NNS];
};

static long synrecv_of(struct soak *s, const struct lst *l)
{
	enter_ns(s, l->ns);
	return aq_diag_dump(l->kind == K_TCP6 ? AF_INET6 : AF_INET,
			    1U << AQ_TCP_SYN_RECV_STATE, l->port, NULL, 0);
}

static void read_oracle(struct soak *s, struct oracle *o)
{
	int i, ns;

	for (ns = 0; ns < NNS; ns++)
		read_mibs(s, ns, &o->m[ns]);
	for (i = 0; i < s->nl; i++) {
		struct lst *l = &s->l[i];

		if (!l->open)
			continue;
		o->q[i] = diag_q(s, l);
		o->synrecv[i] = is_tcp(l) ? synrecv_of(s, l) : 0;
		o->drops[i] = aq_sk_drops(l->fd);
	}
}

static bool oracle_same(struct soak *s, const struct oracle *a,
			const struct oracle *b)
{
	int i;

	if (memcmp(a->m, b->m, sizeof(a->m)))
		return false;
	for (i = 0; i < s->nl; i++)
		if (s->l[i].open &&
		    (a->q[i] != b->q[i] || a->synrecv[i] != b->synrecv[i] ||
		     a->drops[i] != b->drops[i]))
			return false;
	return true;
}

/* ----------------------------------------------------------- wait check */

/*
 * Whether histogram h is an assignment of each interval to one of the
 * buckets it spans: buckets in increasing order, each taking the intervals
 * that end soonest first (exact for intervals of buckets).
 */
static bool waits_match(struct soak *s, const struct lst *l,
			const struct aq_hist *h, char *why, size_t whysz)
{
	int64_t cnt[NBUCKETS] = { 0 };
	int *blo, *bhi, *done;
	int i, b, left, n = l->nw;
	bool ok = true;

	for (i = 0; i < h->n; i++) {
		int k = wait_idx(h->low[i]);

		if (k < NBUCKETS)
			cnt[k] += h->count[i];
	}
	blo = calloc(n + 1, sizeof(int));
	bhi = calloc(n + 1, sizeof(int));
	done = calloc(n + 1, sizeof(int));
	if (!blo || !bhi || !done)
		abort();
	for (i = 0; i < n; i++) {
		const struct ival *v = &l->w[i];
		int64_t lo = v->lo, hi = v->hi;

		if (hi < 0) {
			blo[i] = 0;
			bhi[i] = NBUCKETS - 1;
			s->wait_loose++;
			continue;
		}
		lo = lo - WAIT_SLACK_NS * slowdown -
		     lo * WAIT_SLACK_PCT / 100;
		hi = hi + WAIT_SLACK_NS * slowdown / 10 +
		     hi * WAIT_SLACK_PCT / 100;
		if (lo < 0)
			lo = 0;
		blo[i] = wait_idx(lo);
		bhi[i] = wait_idx(hi);
		if (blo[i] == bhi[i])
			s->wait_exact++;
		else if (blo[i] + 1 == bhi[i])
			s->wait_edge++;
		else
			s->wait_loose++;
	}
	left = n;
	for (b = 0; b < NBUCKETS && ok; b++) {
		int64_t take = cnt[b];

		while (take > 0) {
			int best = -1;

			for (i = 0; i < n; i++)
				if (!done[i] && blo[i] <= b && bhi[i] >= b &&
				    (best < 0 || bhi[i] < bhi[best]))
					best = i;
			if (best < 0) {
				snprintf(why, whysz,
					 "%" PRId64 " more waits in bucket %" PRId64 " than the server measured there",
					 take, idx_low(b));
				ok = false;
				break;
			}
			done[best] = 1;
			left--;
			take--;
		}
		for (i = 0; ok && i < n; i++)
			if (!done[i] && bhi[i] == b) {
				snprintf(why, whysz,
					 "the server measured a wait in [%" PRId64 ", %" PRId64 "] ns that no bucket from %" PRId64 " to %" PRId64 " holds",
					 l->w[i].lo, l->w[i].hi, idx_low(blo[i]),
					 idx_low(bhi[i]));
				ok = false;
			}
	}
	if (ok && left)
		snprintf(why, whysz, "%d measured waits not in the histogram",
			 left), ok = false;
	free(blo);
	free(bhi);
	free(done);
	return ok;
}

static void log_waits(const struct lst *l, const struct aq_hist *h)
{
	char buf[1024];
	int i, off = 0;

	for (i = 0; i < h->n && off < 900; i++)
		off += snprintf(buf + off, sizeof(buf) - off, " %" PRId64 ":%" PRId64,
				h->low[i], h->count[i]);
	buf[off] = 0;
	ksft_print_msg("  wait_ns histogram:%s\n", buf);
	for (i = 0, off = 0; i < l->nw && off < 900; i++)
		off += snprintf(buf + off, sizeof(buf) - off, " [%" PRId64 ",%" PRId64 "]",
				l->w[i].lo, l->w[i].hi);
	buf[off] = 0;
	ksft_print_msg("  measured (ns):%s%s\n", buf, i < l->nw ? " ..." : "");
}

/* ---------------------------------------------------------------- check */

static void quiesce(struct soak *s)
{
	int64_t deadline = aq_now_ns() + 4000000000LL;
	int i;

	/* Handshakes in flight on the ordinary listeners finish or fail. */
	for (;;) {
		bool busy = false;

		for (i = 0; i < s->nl; i++) {
			struct lst *l = &s->l[i];

			if (l->open && is_tcp(l) && l->kind != K_FLOOD &&
			    synrecv_of(s, l) > 0)
				busy = true;
		}
		if (!busy || aq_now_ns() > deadline)
			break;
		usleep(20000);
	}
}

static void check_all(struct soak *s)
{
	struct __test_metadata *_metadata = s->md;
	static struct oracle o1, o2;
	struct aq_snap snap;
	int tries, i, ns;
	struct {
		long long ovf, rqd, rqc, cks, migin;
		int tracked_tcp, tcp;
	} sum[NNS];

	quiesce(s);
	for (tries = 0;; tries++) {
		read_oracle(s, &o1);
		ASSERT_EQ(0, read_aqueue(s, &snap))
			TH_LOG("cannot parse /proc/aqueue: %s", snap.err);
		read_oracle(s, &o2);
		if (oracle_same(s, &o1, &o2))
			break;
		aq_snap_free(&snap);
		ASSERT_LT(tries, 100) TH_LOG("the kernel never stayed quiet for one read");
		usleep(20000);
	}
	memset(sum, 0, sizeof(sum));
	for (i = 0; i < s->nl; i++) {
		struct lst *l = &s->l[i];
		struct aq_row *r;
		char why[512];

		if (!l->open)
			continue;
		if (is_tcp(l)) {
			sum[l->ns].tcp++;
			sum[l->ns].tracked_tcp += l->tracked;
		}
		if (filter_unknown(s, l))
			continue;
		r = row_of(s, &snap, l);
		if (!l->tracked || (l->kind == K_UDP && !l->seen_traffic)) {
			if (!l->tracked)
				compare(s, l, "row present (filtered out)", !!r, 0,
					"expected");
			continue;
		}
		if (!r) {
			mismatch(s, l, "row present", 0, 1, "expected");
			continue;
		}
		if (l->kind == K_UDP) {
			long long q = l->udp_sent - o1.drops[i] - l->udp_recv;

			compare(s, l, "drops", r->drops,
				o1.drops[i] - l->base_drops, "SK_MEMINFO_DROPS");
			compare(s, l, "qnow", r->qnow, q,
				"sent - received - dropped");
			compare(s, l, "enqueued", r->enqueued,
				r->accepted + r->qnow, "accepted + qnow");
		} else {
			compare(s, l, "qnow", r->qnow, o1.q[i],
				is_unix(l) ? "unix_diag queue" : "idiag_rqueue");
			compare(s, l, "enqueued",
				r->enqueued, r->accepted + r->qnow,
				"accepted + qnow");
		}
		compare(s, l, "accepted", r->accepted, l->accepted,
			"server's accept() count");
		if (is_unix(l))
			compare(s, l, "drops", r->drops, l->refused,
				"connects refused with EAGAIN");
		if (is_tcp(l)) {
			compare(s, l, "drops", r->drops,
				o1.drops[i] - l->base_drops, "SK_MEMINFO_DROPS");
			sum[l->ns].ovf += r->drops_syn_acceptq +
					  r->drops_ack_acceptq;
			sum[l->ns].rqd += r->synq_full_drops;
			sum[l->ns].rqc += r->synq_full_cookies;
			sum[l->ns].cks += r->syn_cookies;
			sum[l->ns].migin += r->migrated_in;
			/* The group's members share the port: compare once. */
			if (first_open_member(s, l) == i) {
				long long synq = 0;
				int k;

				for (k = 0; k < s->nl; k++) {
					struct aq_row *q;

					if (!s->l[k].open ||
					    s->l[k].group != l->group)
						continue;
					q = row_of(s, &snap, &s->l[k]);
					if (q)
						synq += q->synq_now;
				}
				compare(s, l, "synq_now", synq, o1.synrecv[i],
					"SYN-RECV sockets (sock_diag)");
			}
		}
		s->comparisons++;
		if (!waits_match(s, l, &r->wait, why, sizeof(why))) {
			long long printed = s->printed;

			mismatch(s, l, "wait_ns", aq_hist_total(&r->wait),
				 l->nw, "accepts measured by the server");
			if (s->printed > printed && s->printed <= 60) {
				ksft_print_msg("  %s\n", why);
				log_waits(l, &r->wait);
			}
		}
	}
	for (ns = 0; ns < NNS; ns++) {
		struct mibs *m = &o1.m[ns], *b = &s->ns[ns].base,
			    *rt = &s->ns[ns].retired;
		char f[64];

		if (!sum[ns].tcp || sum[ns].tracked_tcp != sum[ns].tcp)
			continue;	/* rows of a filtered namespace: none */
		snprintf(f, sizeof(f), "netns %" PRId64 " drops_*_acceptq",
			 s->ns[ns].ino);
		compare(s, NULL, f, sum[ns].ovf + rt->overflows,
			m->overflows - b->overflows, "TcpExtListenOverflows");
		snprintf(f, sizeof(f), "netns %" PRId64 " synq_full_drops",
			 s->ns[ns].ino);
		compare(s, NULL, f, sum[ns].rqd + rt->reqq_drop,
			m->reqq_drop - b->reqq_drop, "TcpExtTCPReqQFullDrop");
		snprintf(f, sizeof(f), "netns %" PRId64 " synq_full_cookies",
			 s->ns[ns].ino);
		compare(s, NULL, f, sum[ns].rqc + rt->reqq_cookies,
			m->reqq_cookies - b->reqq_cookies,
			"TcpExtTCPReqQFullDoCookies");
		snprintf(f, sizeof(f), "netns %" PRId64 " syn_cookies",
			 s->ns[ns].ino);
		compare(s, NULL, f, sum[ns].cks + rt->cookies_sent,
			m->cookies_sent - b->cookies_sent,
			"TcpExtSyncookiesSent");
		if (m->mig_ok - b->mig_ok) {
			snprintf(f, sizeof(f), "netns %" PRId64 " migrated_in",
				 s->ns[ns].ino);
			compare(s, NULL, f, sum[ns].migin + rt->mig_ok,
				m->mig_ok - b->mig_ok,
				"TcpExtTCPMigrateReqSuccess");
		}
	}
	/* The closed totals. */
	if (s->have_prev) {
		long long before = s->printed;

		struct aq_snap *p = &s->prev;
		long long dmig = snap.closed_migrated - p->closed_migrated;

		compare(s, NULL, "closed listeners",
			snap.closed_listeners - p->closed_listeners,
			s->exp_closed_n, "listeners closed");
		compare(s, NULL, "closed enqueued",
			snap.closed_enqueued - p->closed_enqueued,
			s->exp_closed_enq, "enqueued of the closed rows");
		compare(s, NULL, "closed accepted",
			snap.closed_accepted - p->closed_accepted,
			s->exp_closed_acc, "accepted of the closed rows");
		compare(s, NULL, "closed drained + migrated",
			snap.closed_drained - p->closed_drained + dmig,
			s->exp_closed_q, "queued in the closed rows at close");
		compare(s, NULL, "closed drops",
			snap.closed_drops - p->closed_drops,
			s->exp_closed_drops, "drops of the closed rows");
		if (s->mig_ok_since_check || dmig)
			compare(s, NULL, "closed migrated", dmig,
				s->mig_ok_since_check,
				"TcpExtTCPMigrateReqSuccess at the closes");
		if (s->printed > before && s->printed <= 60) {
			char *line, *save = NULL;

			for (line = strtok_r(s->closed_log, "\n", &save); line;
			     line = strtok_r(NULL, "\n", &save))
				ksft_print_msg("%s\n", line);
		}
	}
	s->closed_log[0] = 0;
	compare(s, NULL, "closed enqueued", snap.closed_enqueued,
		snap.closed_accepted + snap.closed_drained +
		snap.closed_migrated, "accepted + drained + migrated");
	if (s->have_prev)
		aq_snap_free(&s->prev);
	s->prev = snap;
	s->have_prev = true;
	s->exp_closed_n = s->exp_closed_enq = s->exp_closed_acc = 0;
	s->exp_closed_q = s->exp_closed_drops = 0;
	s->mig_ok_since_check = 0;
}

/*
 * Closes listener li (quiesced): what its row held goes to the closed
 * totals, its counters by cause to its namespace's retired sums.
 */
static void close_listener(struct soak *s, int li)
{
	struct lst *l = &s->l[li];
	struct aq_snap snap;
	struct mibs before, after;
	struct aq_row *r;

	quiesce(s);
	read_mibs(s, l->ns, &before);
	if (read_aqueue(s, &snap) == 0 &&
	    l->tracked && !filter_unknown(s, l) &&
	    (r = row_of(s, &snap, l))) {
		struct nsstate *n = &s->ns[l->ns];

		s->exp_closed_n++;
		s->exp_closed_enq += r->enqueued;
		s->exp_closed_acc += r->accepted;
		s->exp_closed_q += r->qnow;
		s->exp_closed_drops += r->drops;
		if (is_tcp(l)) {
			n->retired.overflows += r->drops_syn_acceptq +
						r->drops_ack_acceptq;
			n->retired.reqq_drop += r->synq_full_drops;
			n->retired.reqq_cookies += r->synq_full_cookies;
			n->retired.cookies_sent += r->syn_cookies;
			n->retired.mig_ok += r->migrated_in;
		}
	}
	enter_ns(s, l->ns);
	if (strlen(s->closed_log) < sizeof(s->closed_log) - 200) {
		struct aq_row *q = l->tracked ? row_of(s, &snap, l) : NULL;

		snprintf(s->closed_log + strlen(s->closed_log),
			 sizeof(s->closed_log) - strlen(s->closed_log),
			 "  closed netns %" PRId64 " %s %s (%s): queue %ld, row qnow %lld enqueued %lld accepted %lld migrated_in %lld migrated_out %lld\n",
			 s->ns[l->ns].ino, l->proto, l->local, kind_name[l->kind],
			 diag_q(s, l), q ? (long long)q->qnow : -1LL,
			 q ? (long long)q->enqueued : -1LL,
			 q ? (long long)q->accepted : -1LL,
			 q ? (long long)q->migrated_in : -1LL,
			 q ? (long long)q->migrated_out : -1LL);
	}
	aq_snap_free(&snap);
	enter_ns(s, l->ns);
	close(l->fd);
	l->fd = -1;
	l->open = false;
	free(l->w);
	l->w = NULL;
	l->nw = l->capw = 0;
	read_mibs(s, l->ns, &after);
	/* The module sees the migrations out of the listeners it tracks. */
	if (l->tracked && !filter_unknown(s, l))
		s->mig_ok_since_check += after.mig_ok - before.mig_ok;
}

/* After `reset`: every expectation starts again from the kernel's now. */
static void rebase(struct soak *s)
{
	int i, ns;

	settle_accepts(s);
	for (i = 0; i < s->nl; i++) {
		struct lst *l = &s->l[i];

		if (!l->open)
			continue;
		l->accepted = 0;
		l->refused = 0;
		l->nw = 0;
		l->base_drops = aq_sk_drops(l->fd);
		/*
		 * The module counts what is queued at the reset as enqueued,
		 * so that enqueued = accepted + qnow goes on holding.
		 */
	}
	for (ns = 0; ns < NNS; ns++) {
		read_mibs(s, ns, &s->ns[ns].base);
		memset(&s->ns[ns].retired, 0, sizeof(s->ns[ns].retired));
	}
}

/* --------------------------------------------------------------- floods */

/* One bare SYN from 198.18.0.src:sport to FLOOD_ADDR:dport. */
static int send_syn(int raw, int src, uint16_t sport, uint16_t dport)
{
	char srcs[32];

	snprintf(srcs, sizeof(srcs), "198.18.0.%d", src);
	return aq_send_syn(raw, srcs, FLOOD_ADDR, sport, dport);
}

/* ---------------------------------------------------------------- phases */

static int pick(struct soak *s, int ns, unsigned int kinds)
{
	int cand[MAXL], n = 0, i;

	for (i = 0; i < s->nl; i++)
		if (s->l[i].open && s->l[i].ns == ns &&
		    (kinds & (1U << s->l[i].kind)))
			cand[n++] = i;
	return n ? cand[aq_rand_below(&s->rng, n)] : -1;
}

#define KM(k) (1U << (k))
#define TCP_KINDS (KM(K_TCP4) | KM(K_TCP6) | KM(K_RP) | KM(K_FLOOD))

/*
 * Connections that can join listener li's queue (its reuseport group's:
 * any one member may get them all) without ever finding it full.
 */
static long room(struct soak *s, int li)
{
	struct lst *l = &s->l[li];
	long best = 1 << 30;
	int i;

	for (i = 0; i < s->nl; i++) {
		struct lst *m = &s->l[i];
		long q, r;

		if (!m->open || m->group != l->group)
			continue;
		q = diag_q(s, m);
		r = m->backlog + 1 - q;
		if (r < best)
			best = r;
	}
	if (l->kind == K_FLOOD && synrecv_of(s, l) >= l->backlog)
		return 0;	/* SYNs would wait out the flood */
	return best < 0 ? 0 : best;
}

/* The geometric middle of a wait bucket from 16 ms to 134 ms. */
static int64_t hold_ns(struct soak *s)
{
	int b = 24 + slowdown_shift + aq_rand_below(&s->rng, 3);

	return (int64_t)(((int64_t)1 << b) * 1.4142);
}

static void accept_group(struct soak *s, int li, int threads)
{
	int i;

	for (i = 0; i < s->nl; i++)
		if (s->l[i].open && s->l[i].group == s->l[li].group)
			accept_n(s, i, -1, threads);
}

static void connect_some(struct soak *s, int li, long k, bool tfo, int give_up_pct)
{
	long i;

	for (i = 0; i < k; i++) {
		bool give_up = (int)aq_rand_below(&s->rng, 100) < give_up_pct;

		if (is_unix(&s->l[li]))
			client_unix(s, &s->l[li], give_up);
		else
			client_tcp(s, &s->l[li], tfo, give_up);
	}
}

static void ph_storm(struct soak *s, int ns)
{
	int li = pick(s, ns, KM(K_TCP4) | KM(K_TCP6) | KM(K_FLOOD));
	struct lst *l;
	struct acceptor a[3];
	pthread_t t[3];
	atomic_long left;
	int i, threads = 1 + aq_rand_below(&s->rng, 3);
	long k;

	if (li < 0)
		return;
	l = &s->l[li];
	k = room(s, li);
	if (k > 12)
		k = 12;
	if (k <= 0)
		return;
	/* Accepts run while the clients connect. */
	atomic_init(&left, k + diag_q(s, l));
	for (i = 0; i < threads; i++) {
		a[i] = (struct acceptor){ s, li, &left, aq_now_ns() + 5000000000LL };
		if (pthread_create(&t[i], NULL, accept_thread, &a[i]))
			abort();
	}
	for (i = 0; i < k; i++)
		client_tcp(s, l, false, aq_chance(&s->rng, 1, 8));
	for (i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	settle_accepts(s);
}

static void ph_hold(struct soak *s, int ns, bool accept, bool tfo)
{
	int li = pick(s, ns, tfo ? (KM(K_TCP4) | KM(K_TCP6)) : TCP_KINDS);
	long k;

	if (li < 0)
		return;
	k = room(s, li);
	if (k > 1)
		k = 1 + aq_rand_below(&s->rng, k > 8 ? 8 : k);
	connect_some(s, li, k, tfo, 20);
	if (!accept)
		return;
	aq_sleep_ns(hold_ns(s));
	accept_group(s, li, 1 + aq_rand_below(&s->rng, 3));
}

static void ph_drain(struct soak *s, int ns)
{
	int i;

	for (i = 0; i < s->nl; i++) {
		struct lst *l = &s->l[i];

		if (!l->open || l->ns != ns)
			continue;
		if (l->kind == K_UDP) {
			long q = l->udp_sent - aq_sk_drops(l->fd) - l->udp_recv;

			accept_n(s, i, q, 1);
		} else {
			accept_n(s, i, -1, 1 + aq_rand_below(&s->rng, 3));
		}
	}
}

static void ph_overflow(struct soak *s, int ns)
{
	int li = pick(s, ns, KM(K_TCP4) | KM(K_TCP6));
	struct lst *l;
	int64_t deadline;
	long k, i;

	if (li < 0)
		return;
	l = &s->l[li];
	k = l->backlog + 2 + aq_rand_below(&s->rng, 4);
	for (i = 0; i < k; i++)
		client_tcp_loose(s, l);
	usleep(300000);
	/* Accept until the retried handshakes are all in and taken. */
	deadline = aq_now_ns() + 6000000000LL;
	while (aq_now_ns() < deadline) {
		accept_n(s, li, -1, 2);
		if (diag_q(s, l) == 0 && synrecv_of(s, l) == 0)
			break;
		usleep(200000);
	}
}

static void ph_flood(struct soak *s, int ns)
{
	int li = pick(s, ns, KM(K_FLOOD));
	struct lst *l;
	int raw, n, i;

	if (li < 0)
		return;
	l = &s->l[li];
	enter_ns(s, ns);
	raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (raw < 0) {
		ksft_print_msg("soak: raw socket: %s\n", strerror(errno));
		return;
	}
	n = 1 + aq_rand_below(&s->rng, 2 * l->backlog + 4);
	for (i = 0; i < n; i++)
		if (!send_syn(raw, 1 + aq_rand_below(&s->rng, 250),
			      1024 + aq_rand_below(&s->rng, 60000), l->port))
			s->floods++;
	close(raw);
	usleep(100000);
}

static void ph_cookies(struct soak *s, int ns)
{
	enter_ns(s, ns);
	sysctl_w("ipv4/tcp_syncookies", 2);
	ph_hold(s, ns, aq_chance(&s->rng, 1, 2), false);
	enter_ns(s, ns);
	sysctl_w("ipv4/tcp_syncookies", s->ns[ns].syncookies);
}

static void ph_migrate(struct soak *s, int ns)
{
	int li = pick(s, ns, KM(K_RP)), i, victim = -1, members = 0;
	long k;

	if (li < 0)
		return;
	k = room(s, li);
	if (k > 8)
		k = 8;
	connect_some(s, li, k, false, 10);
	usleep(20000);
	for (i = 0; i < s->nl; i++)
		if (s->l[i].open && s->l[i].group == s->l[li].group) {
			members++;
			if (victim < 0 && diag_q(s, &s->l[i]) > 0)
				victim = i;
		}
	if (victim < 0)
		victim = li;
	close_listener(s, victim);
	if (members <= 2 || aq_chance(&s->rng, 1, 2))
		open_listener(s, ns, K_RP, s->l[li].group, s->l[li].port,
			      s->l[li].backlog);
}

static void ph_closeq(struct soak *s, int ns)
{
	int li = pick(s, ns, KM(K_TCP4) | KM(K_TCP6) | KM(K_FLOOD) |
			     KM(K_UNIX) | KM(K_USEQ));
	struct lst *l;
	enum kind kind;
	long k;

	if (li < 0)
		return;
	l = &s->l[li];
	kind = l->kind;
	k = is_unix(l) ? l->backlog + 1 - diag_q(s, l) : room(s, li);
	if (k > 6)
		k = 6;
	if (k > 0)
		connect_some(s, li, 1 + aq_rand_below(&s->rng, k), false, 20);
	usleep(20000);
	close_listener(s, li);
	open_listener(s, ns, kind, -1, is_unix(l) ? 0 : s->next_port++,
		      2 + aq_rand_below(&s->rng, 12));
}

static void ph_unix(struct soak *s, int ns)
{
	int li = pick(s, ns, KM(K_UNIX) | KM(K_USEQ));
	long k, i;

	if (li < 0)
		return;
	k = 1 + aq_rand_below(&s->rng, s->l[li].backlog + 4);
	for (i = 0; i < k; i++)
		client_unix(s, &s->l[li], aq_chance(&s->rng, 1, 5));
	if (aq_chance(&s->rng, 1, 4))
		return;		/* left queued across the boundary */
	aq_sleep_ns(hold_ns(s));
	accept_n(s, li, -1, 1 + aq_rand_below(&s->rng, 3));
}

static void ph_udp(struct soak *s, int ns)
{
	int li = pick(s, ns, KM(K_UDP));
	struct lst *l;
	long k, i, q;

	if (li < 0)
		return;
	l = &s->l[li];
	k = 1 + aq_rand_below(&s->rng, 24);
	for (i = 0; i < k; i++)
		client_udp(s, l);
	usleep(20000);
	q = l->udp_sent - aq_sk_drops(l->fd) - l->udp_recv;
	if (q > 0)
		accept_n(s, li, aq_rand_below(&s->rng, q + 1), 1);
}

static void ph_reset(struct soak *s)
{
	struct __test_metadata *_metadata = s->md;

	quiesce(s);
	enter_ns(s, -1);
	ASSERT_EQ(0, aq_control("reset\n"));
	rebase(s);
	/* The closed totals restart from 0 too. */
	if (s->have_prev) {
		s->prev.closed_listeners = s->prev.closed_enqueued = 0;
		s->prev.closed_accepted = s->prev.closed_drained = 0;
		s->prev.closed_drops = s->prev.closed_migrated = 0;
	}
}

enum {
	P_STORM, P_HOLD, P_FILL, P_DRAIN, P_OVERFLOW, P_FLOOD, P_COOKIES,
	P_TFO, P_MIGRATE, P_CLOSEQ, P_UNIX, P_UDP, P_RESET, P_NPHASES
};

static const char *const phase_names[P_NPHASES] = {
	"handshakes", "hold", "fill", "drain", "overflow", "synflood",
	"cookies2", "fastopen", "reuseport-close", "close-queued", "unix",
	"udp", "reset",
};

static const int phase_weight[P_NPHASES] = {
	3, 4, 2, 2, 1, 2, 2, 2, 2, 1, 3, 2, 1,
};

static void run_phase(struct soak *s)
{
	int total = 0, i, r, ns = aq_rand_below(&s->rng, NNS), p = 0;

	for (i = 0; i < P_NPHASES; i++)
		total += phase_weight[i];
	r = aq_rand_below(&s->rng, total);
	for (i = 0; i < P_NPHASES; i++) {
		if (r < phase_weight[i]) {
			p = i;
			break;
		}
		r -= phase_weight[i];
	}
	if (p == P_MIGRATE && !s->migrate_ok)
		p = P_CLOSEQ;
	s->phase_name = phase_names[p];
	switch (p) {
	case P_STORM:
		ph_storm(s, ns);
		break;
	case P_HOLD:
		ph_hold(s, ns, true, false);
		break;
	case P_FILL:
		ph_hold(s, ns, false, false);
		break;
	case P_DRAIN:
		ph_drain(s, ns);
		break;
	case P_OVERFLOW:
		ph_overflow(s, ns);
		break;
	case P_FLOOD:
		ph_flood(s, ns);
		break;
	case P_COOKIES:
		ph_cookies(s, ns);
		break;
	case P_TFO:
		ph_hold(s, ns, aq_chance(&s->rng, 1, 2), true);
		break;
	case P_MIGRATE:
		ph_migrate(s, ns);
		break;
	case P_CLOSEQ:
		ph_closeq(s, ns);
		break;
	case P_UNIX:
		ph_unix(s, ns);
		break;
	case P_UDP:
		ph_udp(s, ns);
		break;
	case P_RESET:
		ph_reset(s);
		break;
	}
	close_clients();
	check_all(s);
	s->nphases++;
}

/* ---------------------------------------------------------------- epochs */

static void set_udp_ports(struct soak *s)
{
	char cmd[256] = "udp_ports ";
	int i, n = 0;

	for (i = 0; i < s->nl; i++)
		if (s->l[i].open && s->l[i].kind == K_UDP)
			snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd),
				 "%s%u", n++ ? "," : "", s->l[i].port);
	strcat(cmd, "\n");
	enter_ns(s, -1);
	if (n && aq_control(cmd))
		ksft_print_msg("soak: %s refused\n", cmd);
}

static const char *const epoch_actions[] = {
	"none", "reload", "disable+enable", "filter", "reset",
};

static void epoch_start(struct soak *s)
{
	struct __test_metadata *_metadata = s->md;
	int action = s->epoch ? aq_rand_below(&s->rng, 5) : 0, ns, i;
	char cmd[256];

	enter_ns(s, -1);
	s->filter = 0;
	switch (action) {
	case 1:
		ASSERT_EQ(0, aq_unload());
		ASSERT_EQ(0, aq_load(NULL));
		break;
	case 2:
		ASSERT_EQ(0, aq_control("disable\n"));
		ASSERT_EQ(0, aq_control("enable\n"));
		break;
	case 3:
		s->filter = 1 + aq_rand_below(&s->rng, 4);
		s->filter_ns = aq_rand_below(&s->rng, NNS);
		break;
	case 4:
		ASSERT_EQ(0, aq_control("reset\n"));
		break;
	}
	/* The closed totals start a new baseline after any action. */
	if (action && s->have_prev) {
		aq_snap_free(&s->prev);
		s->have_prev = false;
	}
	for (ns = 0; ns < NNS; ns++) {
		enter_ns(s, ns);
		s->ns[ns].syncookies = aq_rand_below(&s->rng, 2);
		sysctl_w("ipv4/tcp_syncookies", s->ns[ns].syncookies);
		s->ns[ns].migrate = s->migrate_ok && !aq_chance(&s->rng, 1, 3);
		if (s->migrate_ok)
			sysctl_w("ipv4/tcp_migrate_req", s->ns[ns].migrate);
		read_mibs(s, ns, &s->ns[ns].base);
		memset(&s->ns[ns].retired, 0, sizeof(s->ns[ns].retired));
	}
	if (s->next_port > 60000)
		s->next_port = 10000;
	/* The last epoch's filter must not keep these from being tracked. */
	enter_ns(s, -1);
	ASSERT_EQ(0, aq_control("filter netns any\nfilter kind any\nfilter port any\n"));
	s->nl = 0;
	open_epoch_listeners(s);
	enter_ns(s, -1);
	switch (s->filter) {
	case 1:
		snprintf(cmd, sizeof(cmd), "filter netns %" PRId64 "\n",
			 s->ns[s->filter_ns].ino);
		ASSERT_EQ(0, aq_control(cmd));
		break;
	case 2:
		ASSERT_EQ(0, aq_control("filter kind tcp\n"));
		break;
	case 3:
		ASSERT_EQ(0, aq_control("filter kind unix\n"));
		break;
	case 4:
		/* Later listeners open on new ports: not in the filter. */
		strcpy(cmd, "filter port ");
		s->nfports = 0;
		for (i = 0; i < s->nl; i++)
			if (s->l[i].ns == s->filter_ns && !is_unix(&s->l[i]) &&
			    (i == 0 || s->l[i].port != s->l[i - 1].port) &&
			    s->nfports < 16) {
				s->fports[s->nfports] = s->l[i].port;
				snprintf(cmd + strlen(cmd),
					 sizeof(cmd) - strlen(cmd), "%s%u",
					 s->nfports++ ? "," : "", s->l[i].port);
			}
		strcat(cmd, "\n");
		ASSERT_EQ(0, aq_control(cmd));
		break;
	}
	set_udp_ports(s);
	for (i = 0; i < s->nl; i++)
		s->l[i].tracked = filter_tracks(s, &s->l[i]);
	ksft_print_msg("soak: epoch %d: %s%s, %d listeners, %d phases so far, %lld comparisons\n",
		       s->epoch, epoch_actions[action],
		       s->filter ? (s->filter == 1 ? " netns" :
				    s->filter == 2 ? " kind tcp" :
				    s->filter == 3 ? " kind unix" : " port") : "",
		       s->nl, s->nphases, s->comparisons);
	check_all(s);
}

static void epoch_end(struct soak *s)
{
	int i;

	close_clients();
	for (i = 0; i < s->nl; i++)
		if (s->l[i].open)
			close_listener(s, i);
	s->phase_name = "epoch end";
	check_all(s);
	s->epoch++;
}

/* ------------------------------------------------------------------ test */

static int soak_seconds(void)
{
	const char *m = getenv("SOAK_MINUTES");

	if (m && *m && atoi(m) > 0)
		return atoi(m) * 60;
	return SOAK_DEFAULT_S;
}

static void setup_netns(struct soak *s)
{
	struct __test_metadata *_metadata = s->md;
	int ns;

	s->init_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, s->init_ns);
	s->cur_ns = -1;
	for (ns = 0; ns < NNS; ns++) {
		struct stat st;

		enter_ns(s, -1);
		ASSERT_EQ(0, aq_unshare_net());
		s->ns[ns].fd = open("/proc/thread-self/ns/net",
				    O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, s->ns[ns].fd);
		ASSERT_EQ(0, fstat(s->ns[ns].fd, &st));
		s->ns[ns].ino = st.st_ino;
		s->cur_ns = ns;
		/*
		 * The SYN-ACKs to the spoofed sources go out of a veth whose
		 * peer is down, without ARP (tcp_synq.c says why), so the
		 * requests stay in the SYN queue as under a real flood.
		 */
		ASSERT_EQ(0, sh("ip link add aqsyn0 type veth && ip link set aqsyn0 arp off && ip addr add " FLOOD_ADDR "/32 dev aqsyn0 && ip link set aqsyn0 up && ip route add " SPOOF_NET " dev aqsyn0"))
			TH_LOG("cannot route " SPOOF_NET " into a veth");
		/* Fast Open, client and server, without cookies. */
		ASSERT_EQ(0, sysctl_w("ipv4/tcp_fastopen", 0x207));
		udp_sender[ns] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	}
	enter_ns(s, -1);
}

AQ_FIXTURE(soak, NULL, AQ_MODULE_REQUIRED)

TEST_F_TIMEOUT(soak, differential, SOAK_DEFAULT_S + 300)
{
	static struct soak st;
	struct soak *s = &st;
	int64_t start = aq_now_ns();
	int secs = soak_seconds();
	const char *env = getenv("SOAK_SEED");

	/* Lines, not a pipe's buffer: a dying test keeps what it said. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	s->md = _metadata;
	read_slowdown();
	s->seed = env && *env ? strtoull(env, NULL, 0) : aq_seed();
	s->rng.s = s->seed ? s->seed : 1;
	ksft_print_msg("soak: seed %" PRIu64 " (replay: SOAK_SEED=%" PRIu64 "), %d s\n",
		       s->seed, s->seed, secs);
	s->pend = calloc(MAXPEND, sizeof(*s->pend));
	s->acc = calloc(MAXACC, sizeof(*s->acc));
	cfds = calloc(8192, sizeof(*cfds));
	ASSERT_TRUE(s->pend && s->acc && cfds);
	pthread_mutex_init(&s->lock, NULL);
	aq_raise_nofile(20000);
	/*
	 * Debian's 5.10 has the sysctl (a stable backport) but neither the
	 * migration nor its MIBs: the MIB says whether the kernel migrates.
	 */
	s->migrate_ok = aq_path_exists("/proc/sys/net/ipv4/tcp_migrate_req") &&
			aq_netstat("TcpExt", "TCPMigrateReqSuccess") >= 0;
	if (!s->migrate_ok)
		ksft_print_msg("soak: no reuseport migration on this kernel (TCPMigrateReqSuccess, 5.14 on): its phase is skipped\n");
	s->next_port = 10000;
	setup_netns(s);
	s->end_ns = start + (int64_t)secs * 1000000000LL;
	s->phase_name = "epoch start";
	while (aq_now_ns() < s->end_ns) {
		int n = 3 + aq_rand_below(&s->rng, 6);

		s->phase = 0;
		s->phase_name = "epoch start";
		epoch_start(s);
		while (n-- > 0 && aq_now_ns() < s->end_ns) {
			s->phase++;
			run_phase(s);
		}
		epoch_end(s);
	}
	ksft_print_msg("soak: seed %" PRIu64 ": %d epochs, %d phases, %lld comparisons (waits: %lld in one bucket, %lld in two, %lld in more), %lld connections, %lld spoofed SYNs, %lld mismatches (%lld of them repeats), %.1f s\n",
		       s->seed, s->epoch, s->nphases, s->comparisons,
		       s->wait_exact, s->wait_edge, s->wait_loose, s->conns,
		       s->floods, s->mismatches, s->repeats,
		       (aq_now_ns() - start) / 1e9);
	EXPECT_EQ(0, s->mismatches) TH_LOG("seed %" PRIu64 ": %lld mismatches",
					   s->seed, s->mismatches);
	EXPECT_LT(0, s->wait_exact) TH_LOG("no wait was compared to one bucket: the wait check was vacuous");
	enter_ns(s, -1);
	aq_control("filter netns any\nfilter kind any\nfilter port any\n");
}

int main(int argc, char **argv)
{
	struct __fixture_metadata *f;
	struct __test_metadata *t;

	for (f = __fixture_list; f; f = f->next)
		for (t = f->tests; t; t = t->next)
			if (!strcmp(t->name, "differential"))
				t->timeout = soak_seconds() + 300;
	return aq_harness_main(argc, argv);
}
