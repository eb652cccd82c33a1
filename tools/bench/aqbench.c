// SPDX-License-Identifier: GPL-2.0
/*
 * aqbench: the workloads of "make bench", run inside the guest by guest.sh.
 * Each prints one line of key=value pairs on stdout; nothing here judges
 * speed, a non-zero exit means the workload could not run.
 *
 * aqbench storm CLIENTS ACCEPTORS MS PORT
 *	Loopback connection storm: CLIENTS threads connect to 127.0.0.1:PORT,
 *	send one byte and close; ACCEPTORS threads accept, read the byte and
 *	close. Counts connections completed in a window of MS ms (guest time)
 *	and the busy CPU ticks of /proc/stat over that window.
 *
 * aqbench unix CLIENTS ACCEPTORS MS PATH
 *	The same storm on a unix domain stream listener bound to PATH (a
 *	file name, removed first and after): connections in the window, busy
 *	CPU ticks, and the listener's enqueued count in /proc/aqueue.
 *
 * aqbench udp MS PORT SIZE
 *	One sender thread floods SIZE-byte datagrams to a UDP socket bound to
 *	127.0.0.1:PORT, one receiver thread reads them (receive buffer raised
 *	with SO_RCVBUFFORCE so that it rarely overflows). Datagrams received in
 *	a window of MS ms, the busy CPU ticks, the kernel's RcvbufErrors, the
 *	row of the socket in /proc/aqueue if it is tracked, and how many of
 *	aqueue's UDP probes are in /sys/kernel/debug/kprobes/list.
 *
 * aqbench flood MS PORT BACKLOG
 *	A SYN flood: one thread sends SYNs from random sources in
 *	127.77.0.0/16 (random ports too) to a listener on 127.0.0.1:PORT
 *	with a backlog of BACKLOG that never accepts, through a raw socket.
 *	Once the SYN queue is full every SYN is answered with a SYN cookie
 *	(net.ipv4.tcp_syncookies=1, set by guest.sh, which also gives the
 *	SYN-ACKs to 127.77.0.0/16 a route that drops them). Reports the
 *	SYNs the kernel absorbed in a window of MS ms (its SyncookiesSent
 *	delta) and those sent, the busy CPU ticks, the RSTs, listen drops and
 *	backlog drops of the window, and SyncookiesSent against aqueue's own
 *	syn_cookies for the listener over its whole life.
 *
 * aqbench saturate CLIENTS BACKLOG ACCEPT_EVERY_US TIMEOUT_MS MS PORT
 *	A listener with a small backlog and one slow acceptor (one accept()
 *	every ACCEPT_EVERY_US us); CLIENTS threads connect in a loop, giving
 *	up on a connect after TIMEOUT_MS ms (SO_SNDTIMEO). Reports the
 *	namespace's ListenOverflows/ListenDrops deltas over the window and,
 *	when aqueue tracks the listener, its own drops_*_acceptq deltas; and,
 *	for an exact comparison, both over the listener's whole life (from
 *	before listen() to after the clients have stopped).
 *
 * aqbench acceptors THREADS CLIENTS MS PORT
 *	THREADS threads blocked in accept() on one listener, then a storm of
 *	CLIENTS client threads for MS ms. Reports connections/s and the probe
 *	misses aqueue saw over the whole run.
 *
 * aqbench listeners PORT N1 [N2...] READS
 *	Opens listeners up to N1, N2, ... (ascending), PER_ADDRESS ports from
 *	PORT up on 127.0.1.1, then on 127.0.1.2, ... (away from the storms'
 *	TIME_WAIT sockets on 127.0.0.1, and PORT should be below the ephemeral
 *	range, which they also hold), and at each step reports
 *	aqueue's memory_bytes, the active slab bytes of /proc/slabinfo and
 *	MemAvailable, each as a delta from before the first listener, then
 *	times READS full reads of /proc/aqueue.
 *
 * Every mode also reports the aqueue probe hits and misses counted in the
 * control file over the run (-1 when the module is not loaded).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CONTROL "/sys/kernel/debug/aqueue/control"
#define PROC_AQUEUE "/proc/aqueue"
/* Listeners per address in "listeners" mode, from 127.0.1.1 on. */
#define PER_ADDRESS 30000
#define LISTENERS_ADDR 0x7f000101 /* 127.0.1.1 */

static atomic_int stop;
static int listen_fd = -1;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static long number(const char *text, const char *what, long min, long max)
{
	char *end;
	long value;

	errno = 0;
	value = strtol(text, &end, 10);
	if (errno || *end || end == text || value < min || value > max) {
		fprintf(stderr, "aqbench: bad %s '%s' (%ld..%ld)\n", what, text,
			min, max);
		exit(2);
	}
	return value;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ns(long long ns)
{
	struct timespec ts = { ns / 1000000000LL, ns % 1000000000LL };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static struct sockaddr_in loopback(unsigned int addr, int port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(addr),
	};

	return sin;
}

static int listen_on(unsigned int addr, int port, int backlog)
{
	struct sockaddr_in sin = loopback(addr, port);
	int one = 1, fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die("SO_REUSEADDR");
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)))
		die("bind");
	if (listen(fd, backlog))
		die("listen");
	return fd;
}

/* Busy and total ticks of the "cpu" line of /proc/stat. */
static void cpu_ticks(unsigned long long *busy, unsigned long long *total)
{
	unsigned long long v[10] = { 0 };
	FILE *f = fopen("/proc/stat", "r");

	if (!f)
		die("/proc/stat");
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
		   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7],
		   &v[8], &v[9]) < 8) {
		fprintf(stderr, "aqbench: cannot parse /proc/stat\n");
		exit(1);
	}
	fclose(f);
	/* guest and guest_nice are already in user and nice. */
	*total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
	*busy = *total - v[3] - v[4];
}

/*
 * The probe lines of the control file: each probe's hits and misses and,
 * when the module was loaded with profile_handlers=1, the nanoseconds its
 * handlers took (-1 otherwise).
 */
#define MAX_PROBES 32
struct probe_row {
	char func[64];
	long long hits, missed, ns;
};

struct probe_profile {
	bool present;	/* the control file could be read */
	int n;
	struct probe_row row[MAX_PROBES];
};

static void probe_profile(struct probe_profile *p)
{
	char line[512];
	FILE *f = fopen(CONTROL, "r");

	p->n = 0;
	p->present = f != NULL;
	if (!f)
		return;
	while (p->n < MAX_PROBES && fgets(line, sizeof(line), f)) {
		struct probe_row *r = &p->row[p->n];
		const char *h = strstr(line, " hits "), *m = strstr(line, " missed ");
		const char *ns = strstr(line, " ns ");

		if (strncmp(line, "probe ", 6) || !h || !m ||
		    sscanf(line, "probe %63s", r->func) != 1)
			continue;
		r->hits = strtoll(h + 6, NULL, 10);
		r->missed = strtoll(m + 8, NULL, 10);
		r->ns = ns ? strtoll(ns + 4, NULL, 10) : -1;
		p->n++;
	}
	fclose(f);
}

/* Sum of the probe hits and misses of a snapshot; -1 if absent. */
static void probe_totals(const struct probe_profile *p, long long *hits,
			 long long *missed)
{
	int i;

	*hits = *missed = p->present ? 0 : -1;
	for (i = 0; i < p->n; i++) {
		*hits += p->row[i].hits;
		*missed += p->row[i].missed;
	}
}

static void probe_counts(long long *hits, long long *missed)
{
	struct probe_profile p;

	probe_profile(&p);
	probe_totals(&p, hits, missed);
}

/* One counter of the TcpExt lines of /proc/net/netstat. */
static long long tcpext(const char *name)
{
	char keys[4096], values[4096];
	long long result = -1;
	FILE *f = fopen("/proc/net/netstat", "r");

	if (!f)
		die("/proc/net/netstat");
	while (fgets(keys, sizeof(keys), f) && fgets(values, sizeof(values), f)) {
		char *ks, *vs, *k, *v;

		if (strncmp(keys, "TcpExt:", 7))
			continue;
		k = strtok_r(keys, " \n", &ks);
		v = strtok_r(values, " \n", &vs);
		while ((k = strtok_r(NULL, " \n", &ks)) &&
		       (v = strtok_r(NULL, " \n", &vs))) {
			if (!strcmp(k, name)) {
				result = strtoll(v, NULL, 10);
				break;
			}
		}
		break;
	}
	fclose(f);
	return result;
}

/*
 * aqueue's drops at SYN and at final ACK for the listener on 127.0.0.1:PORT,
 * from its row's detail line; -1 when it is not tracked.
 */
static long long aqueue_listen_drops(int port)
{
	char line[1024], local[64], want[64];
	long id = -1;
	long long syn, ack, result = -1;
	FILE *f = fopen(PROC_AQUEUE, "r");

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "127.0.0.1:%d", port);
	while (fgets(line, sizeof(line), f)) {
		long row;

		if (id < 0 && sscanf(line, "%ld %*s %*s %63s", &row, local) == 2 &&
		    !strcmp(local, want))
			id = row;
		else if (id >= 0 &&
			 sscanf(line, "listener %ld drops_syn_acceptq %lld drops_ack_acceptq %lld",
				&row, &syn, &ack) == 3 && row == id) {
			result = syn + ack;
			break;
		}
	}
	fclose(f);
	return result;
}

/*
 * A value KEY of the detail lines ("listener ID ... KEY N ...") of the
 * listener on 127.0.0.1:PORT; -1 when it is not tracked.
 */
static long long aqueue_listener_value(int port, const char *key)
{
	char line[1024], local[64], want[64], prefix[64];
	long id = -1;
	long long result = -1;
	FILE *f = fopen(PROC_AQUEUE, "r");

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "127.0.0.1:%d", port);
	while (fgets(line, sizeof(line), f)) {
		long row;
		const char *p;

		if (id < 0) {
			if (sscanf(line, "%ld %*s %*s %63s", &row, local) == 2 &&
			    !strcmp(local, want)) {
				id = row;
				snprintf(prefix, sizeof(prefix), "listener %ld ", id);
				snprintf(want, sizeof(want), " %s ", key);
			}
			continue;
		}
		if (strncmp(line, prefix, strlen(prefix)))
			continue;
		p = strstr(line, want);
		if (p) {
			result = strtoll(p + strlen(want), NULL, 10);
			break;
		}
	}
	fclose(f);
	return result;
}

/*
 * A column of the /proc/aqueue row whose proto and local address are
 * PROTO and LOCAL (the header line names the columns); -1 when there is
 * no such row (not loaded, not tracked).
 */
static long long aqueue_row(const char *proto, const char *local,
			    const char *column)
{
	char line[1024], p[32], l[256];
	int col = -1;
	long long result = -1;
	FILE *f = fopen(PROC_AQUEUE, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *save, *w;
		int i = 0;

		if (col < 0) {
			/* The header: the first word is "id". */
			w = strtok_r(line, " \n", &save);
			if (!w || strcmp(w, "id"))
				continue;
			for (i = 1; (w = strtok_r(NULL, " \n", &save)); i++)
				if (!strcmp(w, column))
					col = i;
			if (col < 0)
				break;
			continue;
		}
		if (sscanf(line, "%*s %*s %31s %255s", p, l) != 2)
			continue;
		if (strcmp(p, proto) || strcmp(l, local))
			continue;
		for (w = strtok_r(line, " \n", &save); w && i < col;
		     w = strtok_r(NULL, " \n", &save))
			i++;
		if (w)
			result = strtoll(w, NULL, 10);
		break;
	}
	fclose(f);
	return result;
}

/* One counter of /proc/net/snmp (PREFIX "Udp:"); -1 when not found. */
static long long snmp(const char *prefix, const char *name)
{
	char keys[4096], values[4096];
	long long result = -1;
	FILE *f = fopen("/proc/net/snmp", "r");

	if (!f)
		die("/proc/net/snmp");
	while (fgets(keys, sizeof(keys), f) && fgets(values, sizeof(values), f)) {
		char *ks, *vs, *k, *v;

		if (strncmp(keys, prefix, strlen(prefix)) ||
		    strncmp(values, prefix, strlen(prefix)))
			continue;
		k = strtok_r(keys, " \n", &ks);
		v = strtok_r(values, " \n", &vs);
		while ((k = strtok_r(NULL, " \n", &ks)) &&
		       (v = strtok_r(NULL, " \n", &vs))) {
			if (!strcmp(k, name)) {
				result = strtoll(v, NULL, 10);
				break;
			}
		}
		break;
	}
	fclose(f);
	return result;
}

/*
 * How many of aqueue's UDP probe points the kernel has registered, from
 * /sys/kernel/debug/kprobes/list (any owner); -1 when it cannot be read.
 */
static int udp_kprobes(void)
{
	static const char *const names[] = {
		"__udp_enqueue_schedule_skb", "__skb_recv_udp", "udp_lib_unhash",
	};
	char line[512];
	int n = 0;
	FILE *f = fopen("/sys/kernel/debug/kprobes/list", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			const char *p = strstr(line, names[i]);
			size_t len = strlen(names[i]);

			if (p && (p == line || p[-1] == ' ') &&
			    (p[len] == '+' || p[len] == ' ' || p[len] == '\n'))
				n++;
		}
	fclose(f);
	return n;
}

/* A value of the state line of /proc/aqueue; -1 when absent. */
static long long aqueue_state(const char *key)
{
	char line[1024], want[64];
	long long result = -1;
	FILE *f = fopen(PROC_AQUEUE, "r");

	if (!f)
		return -1;
	snprintf(want, sizeof(want), " %s ", key);
	while (fgets(line, sizeof(line), f)) {
		char *p;

		if (strncmp(line, "state ", 6))
			continue;
		p = strstr(line, want);
		if (p)
			result = strtoll(p + strlen(want), NULL, 10);
		break;
	}
	fclose(f);
	return result;
}

/* Active bytes of every cache in /proc/slabinfo. */
static long long slab_bytes(void)
{
	char line[512];
	long long total = 0;
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char name[128];
		long long active, num, size;

		if (line[0] == '#' || !strncmp(line, "slabinfo", 8))
			continue;
		if (sscanf(line, "%127s %lld %lld %lld", name, &active, &num,
			   &size) == 4)
			total += active * size;
	}
	fclose(f);
	return total;
}

static long long mem_available(void)
{
	char line[256];
	long long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		die("/proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

static pthread_t spawn(void *(*fn)(void *), void *arg, size_t stack)
{
	pthread_attr_t attr;
	pthread_t t;
	int err;

	pthread_attr_init(&attr);
	if (stack)
		pthread_attr_setstacksize(&attr, stack);
	err = pthread_create(&t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	if (err) {
		errno = err;
		die("pthread_create");
	}
	return t;
}

/* Wakes every thread blocked in accept() on the listener: they get EINVAL. */
static void stop_listener(void)
{
	shutdown(listen_fd, SHUT_RDWR);
}

/* ---- storm ---- */

static int storm_port;
/* The unix storm's listener, when storm_unix. */
static int storm_unix;
static struct sockaddr_un storm_sun;
static atomic_llong completed, accepted;

static void *storm_client(void *arg)
{
	struct sockaddr_in sin = loopback(INADDR_LOOPBACK, storm_port);
	const struct sockaddr *to = storm_unix ? (struct sockaddr *)&storm_sun :
				    (struct sockaddr *)&sin;
	socklen_t to_len = storm_unix ? sizeof(storm_sun) : sizeof(sin);
	char byte = 'x';

	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		int fd = socket(storm_unix ? AF_UNIX : AF_INET, SOCK_STREAM, 0);

		if (fd < 0)
			die("socket");
		if (connect(fd, to, to_len)) {
			if (errno == EADDRNOTAVAIL || errno == EINTR) {
				close(fd);
				continue;
			}
			die("connect");
		}
		if (send(fd, &byte, 1, MSG_NOSIGNAL) != 1)
			die("send");
		close(fd);
		atomic_fetch_add_explicit(&completed, 1, memory_order_relaxed);
	}
	return NULL;
}

static void *storm_acceptor(void *arg)
{
	char byte;

	(void)arg;
	for (;;) {
		int fd = accept(listen_fd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (atomic_load(&stop))
				return NULL;
			die("accept");
		}
		if (recv(fd, &byte, 1, 0) < 0 && errno != ECONNRESET)
			die("recv");
		close(fd);
		atomic_fetch_add_explicit(&accepted, 1, memory_order_relaxed);
	}
}

struct window {
	long long ns, conns, busy, total;
};

/* Runs CLIENTS storm clients for MS ms and measures the window. */
static struct window storm_window(int clients, long ms)
{
	unsigned long long busy0, total0, busy1, total1;
	pthread_t *t = calloc(clients, sizeof(*t));
	struct window w;
	long long t0, c0;
	int i;

	if (!t)
		die("calloc");
	for (i = 0; i < clients; i++)
		t[i] = spawn(storm_client, NULL, 256 << 10);
	/* Let the storm reach its steady state first. */
	sleep_ns(ms * 1000000LL / 10);
	c0 = atomic_load(&completed);
	cpu_ticks(&busy0, &total0);
	t0 = now_ns();
	sleep_ns(ms * 1000000LL);
	w.conns = atomic_load(&completed) - c0;
	w.ns = now_ns() - t0;
	cpu_ticks(&busy1, &total1);
	w.busy = busy1 - busy0;
	w.total = total1 - total0;
	atomic_store(&stop, 1);
	for (i = 0; i < clients; i++)
		pthread_join(t[i], NULL);
	free(t);
	return w;
}

static void print_window(const struct window *w)
{
	long hz = sysconf(_SC_CLK_TCK);

	printf("conns=%lld secs=%.6f conn_per_s=%.2f busy_ticks=%lld total_ticks=%lld cpu_us_per_conn=%.3f",
	       w->conns, w->ns / 1e9, w->conns * 1e9 / w->ns, w->busy,
	       w->total, w->conns ? w->busy * 1e6 / hz / w->conns : 0.0);
}

static int unix_listen_on(const char *path, int backlog)
{
	int fd;

	if (strlen(path) >= sizeof(storm_sun.sun_path)) {
		fprintf(stderr, "aqbench: path too long: %s\n", path);
		exit(2);
	}
	storm_sun.sun_family = AF_UNIX;
	strcpy(storm_sun.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket(AF_UNIX)");
	if (bind(fd, (struct sockaddr *)&storm_sun, sizeof(storm_sun)))
		die("bind(AF_UNIX)");
	if (listen(fd, backlog))
		die("listen(AF_UNIX)");
	return fd;
}

/* " hits:FUNC=N ns:FUNC=N" for each probe that was timed and hit. */
static void print_profile(const struct probe_profile *before,
			  const struct probe_profile *after)
{
	int i, j;

	for (i = 0; i < after->n; i++) {
		const struct probe_row *b = NULL, *a = &after->row[i];

		for (j = 0; j < before->n; j++)
			if (!strcmp(before->row[j].func, a->func))
				b = &before->row[j];
		if (!b || a->ns < 0 || b->ns < 0 || a->hits == b->hits)
			continue;
		printf(" hits:%s=%lld ns:%s=%lld", a->func, a->hits - b->hits,
		       a->func, a->ns - b->ns);
	}
}

/* "storm" and "unix": the same storm on TCP or on a unix listener. */
static int storm(int argc, char **argv)
{
	long long hits0, missed0, hits1, missed1, enq = -1;
	struct probe_profile prof0, prof1;
	int clients, acceptors, i;
	pthread_t *t;
	struct window w;
	long ms;

	if (argc != 6)
		return 2;
	storm_unix = !strcmp(argv[1], "unix");
	clients = number(argv[2], "clients", 1, 10000);
	acceptors = number(argv[3], "acceptors", 1, 10000);
	ms = number(argv[4], "duration", 1, 3600000);
	if (!storm_unix)
		storm_port = number(argv[5], "port", 1, 65535);

	probe_profile(&prof0);
	probe_totals(&prof0, &hits0, &missed0);
	listen_fd = storm_unix ? unix_listen_on(argv[5], 4096) :
				 listen_on(INADDR_LOOPBACK, storm_port, 4096);
	t = calloc(acceptors, sizeof(*t));
	if (!t)
		die("calloc");
	for (i = 0; i < acceptors; i++)
		t[i] = spawn(storm_acceptor, NULL, 256 << 10);
	w = storm_window(clients, ms);
	/* Every connection made must be accepted before the listener goes. */
	while (atomic_load(&accepted) < atomic_load(&completed))
		sleep_ns(1000000);
	if (storm_unix)
		enq = aqueue_row("unix", argv[5], "enqueued");
	else {
		char local[32];

		snprintf(local, sizeof(local), "127.0.0.1:%d", storm_port);
		enq = aqueue_row("tcp", local, "enqueued");
	}
	stop_listener();
	for (i = 0; i < acceptors; i++)
		pthread_join(t[i], NULL);
	close(listen_fd);
	if (storm_unix)
		unlink(argv[5]);
	free(t);
	probe_profile(&prof1);
	probe_totals(&prof1, &hits1, &missed1);
	print_window(&w);
	printf(" all_conns=%lld probe_hits=%lld probe_missed=%lld aqueue_enqueued=%lld",
	       (long long)atomic_load(&completed),
	       hits0 < 0 ? -1 : hits1 - hits0,
	       missed0 < 0 ? -1 : missed1 - missed0, enq);
	print_profile(&prof0, &prof1);
	putchar('\n');
	return 0;
}

/* ---- udp ---- */

static int udp_rx = -1, udp_tx = -1, udp_size;
static atomic_llong udp_sent, udp_received, udp_send_errors;

static void *udp_sender(void *arg)
{
	char buf[65536];

	(void)arg;
	memset(buf, 'u', sizeof(buf));
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		if (send(udp_tx, buf, udp_size, 0) == udp_size)
			atomic_fetch_add_explicit(&udp_sent, 1,
						  memory_order_relaxed);
		else if (errno == ENOBUFS || errno == EAGAIN ||
			 errno == ECONNREFUSED || errno == EINTR)
			atomic_fetch_add_explicit(&udp_send_errors, 1,
						  memory_order_relaxed);
		else
			die("send(udp)");
	}
	return NULL;
}

static void *udp_receiver(void *arg)
{
	char buf[65536];

	(void)arg;
	for (;;) {
		ssize_t n = recv(udp_rx, buf, sizeof(buf), 0);

		if (n >= 0) {
			atomic_fetch_add_explicit(&udp_received, 1,
						  memory_order_relaxed);
			continue;
		}
		if (errno != EAGAIN && errno != EINTR)
			die("recv(udp)");
		/* Idle for the receive timeout: done once the sender is. */
		if (atomic_load(&stop))
			return NULL;
	}
}

static int udp_flood(int argc, char **argv)
{
	unsigned long long busy0, total0, busy1, total1;
	long long hits0, missed0, hits1, missed1, t0, ns, sent, received;
	long long in0, err0, in1, err1, enq;
	struct probe_profile prof0, prof1;
	struct timeval tv = { 0, 100000 };
	struct sockaddr_in sin;
	pthread_t rx, tx;
	int port, rcvbuf = 8 << 20, one = 1;
	char local[32];
	long ms;
	long hz = sysconf(_SC_CLK_TCK);

	if (argc != 5)
		return 2;
	ms = number(argv[2], "duration", 1, 3600000);
	port = number(argv[3], "port", 1, 65535);
	udp_size = number(argv[4], "size", 1, 65507);

	probe_profile(&prof0);
	probe_totals(&prof0, &hits0, &missed0);
	sin = loopback(INADDR_LOOPBACK, port);
	udp_rx = socket(AF_INET, SOCK_DGRAM, 0);
	udp_tx = socket(AF_INET, SOCK_DGRAM, 0);
	if (udp_rx < 0 || udp_tx < 0)
		die("socket(udp)");
	if (setsockopt(udp_rx, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die("SO_REUSEADDR");
	if (setsockopt(udp_rx, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) &&
	    setsockopt(udp_rx, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)))
		die("SO_RCVBUF");
	if (setsockopt(udp_rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		die("SO_RCVTIMEO");
	if (bind(udp_rx, (struct sockaddr *)&sin, sizeof(sin)))
		die("bind(udp)");
	if (connect(udp_tx, (struct sockaddr *)&sin, sizeof(sin)))
		die("connect(udp)");
	rx = spawn(udp_receiver, NULL, 256 << 10);
	tx = spawn(udp_sender, NULL, 256 << 10);
	sleep_ns(ms * 1000000LL / 10);
	sent = atomic_load(&udp_sent);
	received = atomic_load(&udp_received);
	in0 = snmp("Udp:", "InDatagrams");
	err0 = snmp("Udp:", "RcvbufErrors");
	cpu_ticks(&busy0, &total0);
	t0 = now_ns();
	sleep_ns(ms * 1000000LL);
	received = atomic_load(&udp_received) - received;
	sent = atomic_load(&udp_sent) - sent;
	ns = now_ns() - t0;
	cpu_ticks(&busy1, &total1);
	in1 = snmp("Udp:", "InDatagrams");
	err1 = snmp("Udp:", "RcvbufErrors");
	atomic_store(&stop, 1);
	pthread_join(tx, NULL);
	pthread_join(rx, NULL);
	snprintf(local, sizeof(local), "127.0.0.1:%d", port);
	enq = aqueue_row("udp", local, "enqueued");
	close(udp_tx);
	close(udp_rx);
	probe_profile(&prof1);
	probe_totals(&prof1, &hits1, &missed1);
	printf("secs=%.6f received=%lld dgram_per_s=%.2f sent_per_s=%.2f in_datagrams=%lld rcvbuf_errors=%lld send_errors=%lld busy_ticks=%llu total_ticks=%llu cpu_us_per_dgram=%.4f probe_hits=%lld probe_missed=%lld aqueue_enqueued=%lld udp_kprobes=%d",
	       ns / 1e9, received, received * 1e9 / ns, sent * 1e9 / ns,
	       in1 - in0, err1 - err0, (long long)atomic_load(&udp_send_errors),
	       busy1 - busy0, total1 - total0,
	       received ? (busy1 - busy0) * 1e6 / hz / received : 0.0,
	       hits0 < 0 ? -1 : hits1 - hits0,
	       missed0 < 0 ? -1 : missed1 - missed0, enq, udp_kprobes());
	print_profile(&prof0, &prof1);
	putchar('\n');
	return 0;
}

/* ---- flood ---- */

/* The spoofed sources, 127.77.0.0/16: guest.sh routes them to nowhere. */
#define FLOOD_NET 0x7f4d0000
#define FLOOD_BATCH 32
/* An IPv4 header, a TCP header and the MSS option a real SYN carries. */
#define SYN_IP_LEN 20
#define SYN_LEN (SYN_IP_LEN + 24)

static int flood_fd = -1, flood_port;
static atomic_llong flood_sent;

static void put16(unsigned char *p, unsigned int v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* The TCP checksum over the pseudo-header and the segment (no payload). */
static unsigned int syn_checksum(const unsigned char *pkt)
{
	uint32_t sum = IPPROTO_TCP + (SYN_LEN - SYN_IP_LEN);
	int i;

	/* The addresses end the IP header: they and the segment, in one. */
	for (i = 12; i < SYN_LEN; i += 2)
		sum += (uint32_t)pkt[i] << 8 | pkt[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/*
 * A SYN from SADDR:SPORT. The kernel fills in the IP header's total length,
 * identification and checksum (IP_HDRINCL); the TCP checksum is ours.
 */
static void syn_fill(unsigned char *pkt, uint32_t saddr, unsigned int sport,
		     uint32_t seq)
{
	unsigned char *tcp = pkt + SYN_IP_LEN;

	memset(pkt, 0, SYN_LEN);
	pkt[0] = 0x45;
	put16(pkt + 2, SYN_LEN);
	pkt[8] = 64;
	pkt[9] = IPPROTO_TCP;
	put32(pkt + 12, saddr);
	put32(pkt + 16, INADDR_LOOPBACK);
	put16(tcp, sport);
	put16(tcp + 2, flood_port);
	put32(tcp + 4, seq);
	tcp[12] = (SYN_LEN - SYN_IP_LEN) / 4 << 4;
	tcp[13] = 0x02;
	put16(tcp + 14, 65535);
	tcp[20] = 2;
	tcp[21] = 4;
	put16(tcp + 22, 1460);
	put16(tcp + 16, syn_checksum(pkt));
}

/* xorshift32: the same sources and ports in every run, cheaply. */
static uint32_t next_random(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

static void *flood_sender(void *arg)
{
	static unsigned char pkt[FLOOD_BATCH][SYN_LEN];
	struct sockaddr_in to = loopback(INADDR_LOOPBACK, 0);
	struct iovec iov[FLOOD_BATCH];
	struct mmsghdr msg[FLOOD_BATCH];
	uint32_t state = 2463534242u;
	int i;

	(void)arg;
	memset(msg, 0, sizeof(msg));
	for (i = 0; i < FLOOD_BATCH; i++) {
		iov[i].iov_base = pkt[i];
		iov[i].iov_len = SYN_LEN;
		msg[i].msg_hdr.msg_name = &to;
		msg[i].msg_hdr.msg_namelen = sizeof(to);
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		int n;

		for (i = 0; i < FLOOD_BATCH; i++) {
			uint32_t r = next_random(&state);

			syn_fill(pkt[i], FLOOD_NET | (r & 0xffff),
				 1024 + (r >> 16) % (65536 - 1024),
				 next_random(&state));
		}
		n = sendmmsg(flood_fd, msg, FLOOD_BATCH, 0);
		if (n > 0)
			atomic_fetch_add_explicit(&flood_sent, n,
						  memory_order_relaxed);
		else if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
			die("sendmmsg(raw)");
	}
	return NULL;
}

/* Packets the CPUs' input backlogs dropped (/proc/net/softnet_stat). */
static long long backlog_drops(void)
{
	char line[512];
	long long total = 0;
	FILE *f = fopen("/proc/net/softnet_stat", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long processed, dropped;

		if (sscanf(line, "%lx %lx", &processed, &dropped) == 2)
			total += dropped;
	}
	fclose(f);
	return total;
}

static long long syncookies_sysctl(void)
{
	long long v = -1;
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_syncookies", "r");

	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int flood(int argc, char **argv)
{
	unsigned long long busy0, total0, busy1, total1;
	long long hits0, missed0, hits1, missed1, t0, ns, sent, life0, life;
	long long ck0, ck1, full0, full1, ld0, ld1, rst0, rst1, bd0, bd1;
	long long aq_cookies;
	struct probe_profile prof0, prof1;
	int backlog, one = 1;
	pthread_t tx;
	long ms;
	long hz = sysconf(_SC_CLK_TCK);

	if (argc != 5)
		return 2;
	ms = number(argv[2], "duration", 1, 3600000);
	flood_port = number(argv[3], "port", 1, 65535);
	backlog = number(argv[4], "backlog", 1, 65535);

	probe_profile(&prof0);
	probe_totals(&prof0, &hits0, &missed0);
	life0 = tcpext("SyncookiesSent");
	listen_fd = listen_on(INADDR_LOOPBACK, flood_port, backlog);
	/*
	 * IPPROTO_RAW implies IP_HDRINCL and receives nothing: an
	 * IPPROTO_TCP raw socket would be handed a copy of every TCP
	 * segment the guest receives, the flood's own SYNs and SYN-ACKs
	 * among them, which would weigh on every SYN.
	 */
	flood_fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (flood_fd < 0)
		die("socket(SOCK_RAW) (needs CAP_NET_RAW)");
	if (setsockopt(flood_fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)))
		die("IP_HDRINCL");
	tx = spawn(flood_sender, NULL, 256 << 10);
	/* Past the first SYNs, which fill the SYN queue: all cookies now. */
	sleep_ns(ms * 1000000LL / 10);
	sent = atomic_load(&flood_sent);
	ck0 = tcpext("SyncookiesSent");
	full0 = tcpext("TCPReqQFullDoCookies");
	ld0 = tcpext("ListenDrops");
	rst0 = snmp("Tcp:", "OutRsts");
	bd0 = backlog_drops();
	cpu_ticks(&busy0, &total0);
	t0 = now_ns();
	sleep_ns(ms * 1000000LL);
	ck1 = tcpext("SyncookiesSent");
	ns = now_ns() - t0;
	sent = atomic_load(&flood_sent) - sent;
	cpu_ticks(&busy1, &total1);
	full1 = tcpext("TCPReqQFullDoCookies");
	ld1 = tcpext("ListenDrops");
	rst1 = snmp("Tcp:", "OutRsts");
	bd1 = backlog_drops();
	atomic_store(&stop, 1);
	pthread_join(tx, NULL);
	close(flood_fd);
	/* Quiet now: the last SYNs in flight have been answered. */
	sleep_ns(100000000);
	life = tcpext("SyncookiesSent") - life0;
	aq_cookies = aqueue_listener_value(flood_port, "syn_cookies");
	close(listen_fd);
	probe_profile(&prof1);
	probe_totals(&prof1, &hits1, &missed1);
	if (ck1 == ck0) {
		fprintf(stderr, "aqbench: no SYN cookie for %lld SYNs (tcp_syncookies %lld, %lld RSTs, %lld listen drops): is 127.77.0.0/16 routed through lo?\n",
			sent, syncookies_sysctl(), rst1 - rst0, ld1 - ld0);
		return 1;
	}
	printf("secs=%.6f syns=%lld syn_per_s=%.2f sent=%lld sent_per_s=%.2f reqqfull_cookies=%lld listen_drops=%lld out_rsts=%lld backlog_drops=%lld busy_ticks=%llu total_ticks=%llu cpu_us_per_syn=%.4f all_syns=%lld syncookies_sysctl=%lld probe_hits=%lld probe_missed=%lld life_cookies=%lld life_aqueue_cookies=%lld",
	       ns / 1e9, ck1 - ck0, (ck1 - ck0) * 1e9 / ns, sent,
	       sent * 1e9 / ns, full1 - full0, ld1 - ld0, rst1 - rst0,
	       bd0 < 0 ? -1 : bd1 - bd0, busy1 - busy0, total1 - total0,
	       ck1 > ck0 ? (busy1 - busy0) * 1e6 / hz / (ck1 - ck0) : 0.0,
	       (long long)atomic_load(&flood_sent), syncookies_sysctl(),
	       hits0 < 0 ? -1 : hits1 - hits0,
	       missed0 < 0 ? -1 : missed1 - missed0, life, aq_cookies);
	print_profile(&prof0, &prof1);
	putchar('\n');
	return 0;
}

/* ---- saturate ---- */

static long accept_every_us, connect_timeout_ms;
static atomic_llong attempts, connected;

static void *slow_acceptor(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		int fd;

		sleep_ns(accept_every_us * 1000LL);
		fd = accept(listen_fd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (atomic_load(&stop))
				break;
			die("accept");
		}
		close(fd);
		atomic_fetch_add(&accepted, 1);
	}
	return NULL;
}

static void *impatient_client(void *arg)
{
	struct sockaddr_in sin = loopback(INADDR_LOOPBACK, storm_port);
	struct timeval tv = { connect_timeout_ms / 1000,
			      connect_timeout_ms % 1000 * 1000 };

	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0)
			die("socket");
		if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
			die("SO_SNDTIMEO");
		atomic_fetch_add_explicit(&attempts, 1, memory_order_relaxed);
		if (!connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
			atomic_fetch_add_explicit(&connected, 1,
						  memory_order_relaxed);
		else if (errno != EINPROGRESS && errno != EAGAIN &&
			 errno != EINTR && errno != ECONNREFUSED &&
			 errno != ECONNRESET && errno != ETIMEDOUT &&
			 errno != EADDRNOTAVAIL)
			die("connect");
		close(fd);
	}
	return NULL;
}

static int saturate(int argc, char **argv)
{
	long long ov0, dr0, aq0, ov1, dr1, aq1, t0, ns, att0, acc0, life0;
	long long hits0, missed0, hits1, missed1;
	pthread_t acceptor, *t;
	int clients, backlog, i;
	long ms;

	if (argc != 8)
		return 2;
	clients = number(argv[2], "clients", 1, 10000);
	backlog = number(argv[3], "backlog", 0, 65535);
	accept_every_us = number(argv[4], "accept interval", 1, 10000000);
	connect_timeout_ms = number(argv[5], "connect timeout", 1, 100000);
	ms = number(argv[6], "duration", 1, 3600000);
	storm_port = number(argv[7], "port", 1, 65535);

	probe_counts(&hits0, &missed0);
	life0 = tcpext("ListenOverflows");
	listen_fd = listen_on(INADDR_LOOPBACK, storm_port, backlog);
	acceptor = spawn(slow_acceptor, NULL, 0);
	t = calloc(clients, sizeof(*t));
	if (!t)
		die("calloc");
	for (i = 0; i < clients; i++)
		t[i] = spawn(impatient_client, NULL, 256 << 10);
	/* Past the first timeouts: the queue is full and churning. */
	sleep_ns(connect_timeout_ms * 2000000LL);
	ov0 = tcpext("ListenOverflows");
	dr0 = tcpext("ListenDrops");
	aq0 = aqueue_listen_drops(storm_port);
	att0 = atomic_load(&attempts);
	acc0 = atomic_load(&accepted);
	t0 = now_ns();
	sleep_ns(ms * 1000000LL);
	ov1 = tcpext("ListenOverflows");
	dr1 = tcpext("ListenDrops");
	aq1 = aqueue_listen_drops(storm_port);
	ns = now_ns() - t0;
	att0 = atomic_load(&attempts) - att0;
	acc0 = atomic_load(&accepted) - acc0;
	atomic_store(&stop, 1);
	for (i = 0; i < clients; i++)
		pthread_join(t[i], NULL);
	/* Quiet now: the last segments in flight have been handled. */
	sleep_ns(100000000);
	life0 = tcpext("ListenOverflows") - life0;
	aq1 = aqueue_listen_drops(storm_port);
	stop_listener();
	pthread_join(acceptor, NULL);
	close(listen_fd);
	free(t);
	probe_counts(&hits1, &missed1);
	printf("secs=%.6f overflows=%lld overflows_per_s=%.2f listendrops=%lld aqueue_drops=%lld attempts_per_s=%.2f accepted_per_s=%.2f probe_missed=%lld life_overflows=%lld life_aqueue_drops=%lld\n",
	       ns / 1e9, ov1 - ov0, (ov1 - ov0) * 1e9 / ns, dr1 - dr0,
	       aq0 < 0 || aq1 < 0 ? -1 : aq1 - aq0, att0 * 1e9 / ns,
	       acc0 * 1e9 / ns, missed0 < 0 ? -1 : missed1 - missed0,
	       life0, aq1);
	(void)hits1;
	return 0;
}

/* ---- acceptors ---- */

static atomic_int waiting;

static void *blocked_acceptor(void *arg)
{
	char byte;

	(void)arg;
	atomic_fetch_add(&waiting, 1);
	for (;;) {
		int fd = accept(listen_fd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (atomic_load(&stop))
				return NULL;
			die("accept");
		}
		if (recv(fd, &byte, 1, 0) < 0 && errno != ECONNRESET)
			die("recv");
		close(fd);
		atomic_fetch_add_explicit(&accepted, 1, memory_order_relaxed);
	}
}

static int acceptors(int argc, char **argv)
{
	long long hits0, missed0, hits1, missed1;
	int threads, clients, i;
	struct rlimit rl;
	pthread_t *t;
	struct window w;
	long ms;

	if (argc != 6)
		return 2;
	threads = number(argv[2], "threads", 1, 100000);
	clients = number(argv[3], "clients", 1, 10000);
	ms = number(argv[4], "duration", 1, 3600000);
	storm_port = number(argv[5], "port", 1, 65535);

	getrlimit(RLIMIT_NPROC, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NPROC, &rl);
	probe_counts(&hits0, &missed0);
	listen_fd = listen_on(INADDR_LOOPBACK, storm_port, 4096);
	t = calloc(threads, sizeof(*t));
	if (!t)
		die("calloc");
	for (i = 0; i < threads; i++)
		t[i] = spawn(blocked_acceptor, NULL, 64 << 10);
	while (atomic_load(&waiting) < threads)
		sleep_ns(1000000);
	/* Until every one of them sleeps in accept(). */
	sleep_ns(200000000);
	w = storm_window(clients, ms);
	while (atomic_load(&accepted) < atomic_load(&completed))
		sleep_ns(1000000);
	stop_listener();
	for (i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	close(listen_fd);
	free(t);
	probe_counts(&hits1, &missed1);
	print_window(&w);
	printf(" threads=%d all_conns=%lld probe_hits=%lld probe_missed=%lld aqueue_missed=%lld\n",
	       threads, (long long)atomic_load(&completed),
	       hits0 < 0 ? -1 : hits1 - hits0,
	       missed0 < 0 ? -1 : missed1 - missed0, aqueue_state("missed"));
	return 0;
}

/* ---- listeners ---- */

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* Reads /proc/aqueue whole; returns its size, -1 when it is absent. */
static long long read_aqueue(long long *lines)
{
	static char buf[1 << 16];
	long long size = 0;
	FILE *f = fopen(PROC_AQUEUE, "r");
	size_t n;

	*lines = 0;
	if (!f)
		return -1;
	setvbuf(f, NULL, _IONBF, 0);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		size += n;
		for (size_t i = 0; i < n; i++)
			*lines += buf[i] == '\n';
	}
	fclose(f);
	return size;
}

static int listeners(int argc, char **argv)
{
	long long mem0, slab0, avail0, *times, hits0, missed0, hits1, missed1;
	int port, reads, nsteps, *fds, opened = 0, i, s;
	struct rlimit rl;
	long max;

	if (argc < 5)
		return 2;
	port = number(argv[2], "port", 1, 65535);
	reads = number(argv[argc - 1], "reads", 1, 1000);
	nsteps = argc - 4;
	max = number(argv[argc - 2], "listeners", 1, 1000000);
	if (port > 65535 - PER_ADDRESS + 1) {
		fprintf(stderr, "aqbench: port %d leaves no room\n", port);
		return 2;
	}
	rl.rlim_cur = rl.rlim_max = max + 64;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("RLIMIT_NOFILE (raise /proc/sys/fs/nr_open)");
	fds = calloc(max, sizeof(*fds));
	times = calloc(reads, sizeof(*times));
	if (!fds || !times)
		die("calloc");

	probe_counts(&hits0, &missed0);
	mem0 = aqueue_state("memory_bytes");
	slab0 = slab_bytes();
	avail0 = mem_available();
	for (s = 0; s < nsteps; s++) {
		long n = number(argv[3 + s], "listeners", opened, max);
		long long t0 = now_ns(), open_ns, size = 0, lines = 0, mem;
		long long slab, avail;

		for (; opened < n; opened++)
			fds[opened] = listen_on(LISTENERS_ADDR + opened / PER_ADDRESS,
						port + opened % PER_ADDRESS, 16);
		open_ns = now_ns() - t0;
		mem = aqueue_state("memory_bytes");
		slab = slab_bytes();
		avail = mem_available();
		for (i = 0; i < reads; i++) {
			t0 = now_ns();
			size = read_aqueue(&lines);
			times[i] = now_ns() - t0;
		}
		qsort(times, reads, sizeof(*times), cmp_ll);
		printf("listeners=%d open_us_per_listener=%.3f memory_bytes=%lld tracked=%lld slab_bytes=%lld memavail_bytes=%lld read_bytes=%lld read_lines=%lld read_ms_median=%.3f read_ms_min=%.3f read_ms_max=%.3f\n",
		       opened, open_ns / 1e3 / opened,
		       mem0 < 0 ? -1 : mem - mem0, aqueue_state("tracked"),
		       slab - slab0, avail0 - avail, size, lines,
		       size < 0 ? -1 : times[reads / 2] / 1e6,
		       size < 0 ? -1 : times[0] / 1e6,
		       size < 0 ? -1 : times[reads - 1] / 1e6);
		fflush(stdout);
	}
	for (i = 0; i < opened; i++)
		close(fds[i]);
	probe_counts(&hits1, &missed1);
	printf("listeners_closed=%d probe_missed=%lld\n", opened,
	       missed0 < 0 ? -1 : missed1 - missed0);
	(void)hits1;
	free(fds);
	free(times);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 2;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "storm"))
		rc = storm(argc, argv);
	else if (argc >= 2 && !strcmp(argv[1], "unix"))
		rc = storm(argc, argv);
	else if (argc >= 2 && !strcmp(argv[1], "udp"))
		rc = udp_flood(argc, argv);
	else if (argc >= 2 && !strcmp(argv[1], "flood"))
		rc = flood(argc, argv);
	else if (argc >= 2 && !strcmp(argv[1], "saturate"))
		rc = saturate(argc, argv);
	else if (argc >= 2 && !strcmp(argv[1], "acceptors"))
		rc = acceptors(argc, argv);
	else if (argc >= 2 && !strcmp(argv[1], "listeners"))
		rc = listeners(argc, argv);
	if (rc == 2)
		fprintf(stderr, "usage: see the comment at the top of aqbench.c\n");
	return rc;
}
