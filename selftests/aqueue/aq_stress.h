/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the stress, fault and bad-input tests (issue #7): a seeded
 * PRNG whose seed is printed, printable escaping of arbitrary bytes, a scan
 * for anything that looks like a kernel pointer, the kernel's leak detector
 * (kmemleak, present on the debug lane only), checks that no process is
 * left blocked, and small readers of sysfs and the control file.
 */
#ifndef AQ_STRESS_H
#define AQ_STRESS_H

#include <ctype.h>
#include <dirent.h>
#include <grp.h>
#include <limits.h>
#include <stddef.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/un.h>

#include "aq_ctl.h"

/* ------------------------------------------------------------------ */
/* A deterministic PRNG (splitmix64): the same seed gives the same run.  */

struct aq_rng {
	uint64_t s;
};

static inline uint64_t aq_rand64(struct aq_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0. */
static inline uint64_t aq_rand_below(struct aq_rng *r, uint64_t n)
{
	return aq_rand64(r) % n;
}

/* True with probability num/den. */
static inline bool aq_chance(struct aq_rng *r, unsigned int num,
			     unsigned int den)
{
	return aq_rand_below(r, den) < num;
}

/* The seed: $AQ_SEED when given (to replay a run), else from the clock. */
static inline uint64_t aq_seed(void)
{
	const char *env = getenv("AQ_SEED");
	struct timespec ts;

	if (env && *env)
		return strtoull(env, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------ */

/* Printable form of arbitrary bytes (\n, \t, \xNN), cut at size. */
static inline const char *aq_show_bytes(const void *p, size_t len, char *out,
					size_t size)
{
	const unsigned char *b = p;
	size_t i, o = 0;

	for (i = 0; i < len && o + 12 < size; i++) {
		if (b[i] == '\n')
			o += snprintf(out + o, size - o, "\\n");
		else if (b[i] == '\t')
			o += snprintf(out + o, size - o, "\\t");
		else if (b[i] == '\\')
			o += snprintf(out + o, size - o, "\\\\");
		else if (b[i] < 0x20 || b[i] >= 0x7f)
			o += snprintf(out + o, size - o, "\\x%02x", b[i]);
		else
			out[o++] = b[i];
	}
	if (i < len)
		o += snprintf(out + o, size - o, "...(%zu bytes)", len);
	/* snprintf() says what it would have written: stay inside. */
	if (o >= size)
		o = size - 1;
	out[o] = '\0';
	return out;
}

/* ------------------------------------------------------------------ */
/* Kernel pointers                                                     */

/*
 * Returns the first token of text that looks like a kernel address, or
 * NULL: a word of exactly 16 hex digits (not all of them decimal), a 0x-prefixed hex number of 8 or more
 * digits, or a decimal number of kernel-address size (2^63 and up: every
 * x86-64 kernel address is in the upper half). `what` receives the token.
 */
static inline const char *aq_find_pointer(const char *text, char *what,
					  size_t size)
{
	const char *p = text;

	while (*p) {
		const char *start = p;
		size_t hex = 0, dec = 0;
		bool prefixed = false;

		if (!isalnum((unsigned char)*p)) {
			p++;
			continue;
		}
		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
			prefixed = true;
			p += 2;
		}
		while (isxdigit((unsigned char)p[hex]))
			hex++;
		while (isdigit((unsigned char)p[dec]))
			dec++;
		if ((prefixed && hex >= 8) ||
		    (!prefixed && hex == 16 && dec != 16 &&
		     !isalnum((unsigned char)p[16])) ||
		    (!prefixed && dec == hex && dec >= 19 &&
		     (dec > 19 || strncmp(p, "9223372036854775808", 19) >= 0))) {
			size_t n = (p - start) + hex;

			if (n >= size)
				n = size - 1;
			memcpy(what, start, n);
			what[n] = '\0';
			return what;
		}
		/* Skip the rest of this alphanumeric token. */
		p = start;
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* kmemleak: the debug lane's leak detector; absent from stock kernels. */

#define AQ_KMEMLEAK "/sys/kernel/debug/kmemleak"

static inline bool aq_kmemleak_present(void)
{
	return access(AQ_KMEMLEAK, R_OK | W_OK) == 0;
}

/* Forgets what kmemleak reported so far (before the test's work). */
static inline void aq_kmemleak_clear(void)
{
	if (aq_kmemleak_present())
		aq_write_file(AQ_KMEMLEAK, "clear\n");
}

/*
 * Scans (twice: an object must be seen unreferenced by two scans) and
 * returns how many leak reports there are; the first goes to buf.
 */
static inline int aq_kmemleak_scan(char *buf, size_t size)
{
	static char text[1 << 16];
	const char *p;
	int n = 0;

	buf[0] = '\0';
	if (!aq_kmemleak_present())
		return 0;
	aq_write_file(AQ_KMEMLEAK, "scan\n");
	sleep(1);
	aq_write_file(AQ_KMEMLEAK, "scan\n");
	if (aq_read_file(AQ_KMEMLEAK, text, sizeof(text)) <= 0)
		return 0;
	for (p = text; (p = strstr(p, "unreferenced object")); p++)
		n++;
	if (n)
		snprintf(buf, size, "%.*s", (int)(size - 1), text);
	return n;
}

/* ------------------------------------------------------------------ */
/* Processes                                                           */

/* The state letter of /proc/PID/stat ('R', 'S', 'D', 'Z', ...), or 0. */
static inline char aq_proc_state(pid_t pid)
{
	char path[64], buf[512], *paren;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (aq_read_file(path, buf, sizeof(buf)) <= 0)
		return 0;
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' ? paren[2] : 0;
}

/* Whether a task is a kernel thread (PF_KTHREAD in /proc/PID/stat). */
static inline bool aq_is_kthread(pid_t pid)
{
	char path[64], buf[512], *p;
	unsigned long flags = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (aq_read_file(path, buf, sizeof(buf)) <= 0)
		return false;
	p = strrchr(buf, ')');
	/* ") S ppid pgrp session tty_nr tpgid flags" */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return false;
	return flags & 0x00200000;
}

/* Where a task sleeps, for the log. */
static inline void aq_proc_wchan(pid_t pid, char *out, size_t size)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	if (aq_read_file(path, out, size) <= 0)
		snprintf(out, size, "?");
}

/*
 * Counts the user tasks of the whole system in uninterruptible sleep
 * ('D'), threads included, giving the first one's pid and wchan. A task can be
 * in D for an instant on its way through I/O or a lock: the caller asks
 * again (bounded) and only a task that stays there is "left blocked".
 */
static inline int aq_count_d_state(pid_t *first, char *wchan, size_t size)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char tpath[64];
		DIR *t;
		struct dirent *te;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(tpath, sizeof(tpath), "/proc/%.32s/task", e->d_name);
		t = opendir(tpath);
		if (!t)
			continue;
		while ((te = readdir(t))) {
			pid_t tid;

			if (!isdigit((unsigned char)te->d_name[0]))
				continue;
			tid = atoi(te->d_name);
			if (aq_proc_state(tid) == 'D' && !aq_is_kthread(tid)) {
				if (!n++) {
					*first = tid;
					aq_proc_wchan(tid, wchan, size);
				}
			}
		}
		closedir(t);
	}
	closedir(d);
	return n;
}

/*
 * Waits for a child to end, at most AQ_HANG_MS (a guard against a hang,
 * not a threshold the test measures). Returns the wait status, or -1 if it
 * did not end: then it is left running for the caller to report and kill.
 */
#define AQ_HANG_MS 120000

static inline int aq_wait_child_bounded(pid_t pid, int ms)
{
	int64_t end = aq_now_ns() + (int64_t)ms * 1000000LL;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0)
			return -1;
		if (aq_now_ns() > end)
			return -1;
		usleep(10000);
	}
}

/* ------------------------------------------------------------------ */
/* Small readers                                                       */

/* A module parameter from sysfs as a number, or -1. */
static inline long long aq_param(const char *name)
{
	char path[256], buf[64];

	snprintf(path, sizeof(path), AQ_SYSFS_PATH "/parameters/%s", name);
	if (aq_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	return strtoll(buf, NULL, 10);
}

/* /proc/aqueue parsed without assertions (for threads); 0 or -1. */
static inline int aq_try_snapshot(struct aq_snap *s, bool strict, char *err,
				  size_t errsz)
{
	size_t len;
	char *text;
	int rd;

	memset(s, 0, sizeof(*s));
	text = aq_read_chunked(AQ_PROC_PATH, 1 << 16, &len, &rd);
	if (!text) {
		snprintf(err, errsz, "read: %s", strerror(-rd));
		return -1;
	}
	if (aq_parse(text, s, strict)) {
		snprintf(err, errsz, "parse: %.200s", s->err);
		free(text);
		return -1;
	}
	free(text);
	return 0;
}

/* The first error of many threads, kept for the log. */
struct aq_errors {
	atomic_int count;
	atomic_flag taken;
	char first[512];
};

static inline void aq_error(struct aq_errors *e, const char *fmt, ...)
{
	va_list ap;

	atomic_fetch_add(&e->count, 1);
	if (atomic_flag_test_and_set(&e->taken))
		return;
	va_start(ap, fmt);
	vsnprintf(e->first, sizeof(e->first), fmt, ap);
	va_end(ap);
}

/*
 * A unix stream listener on a filesystem path or an abstract name (without
 * its leading NUL); the fd or -errno.
 */
static inline int aq_unix_listen_at(const char *name, bool abstract,
				    int backlog)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (abstract) {
		memcpy(sun.sun_path + 1, name, strlen(name));
		len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
	} else {
		unlink(name);
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", name);
		len = sizeof(sun);
	}
	if (bind(fd, (struct sockaddr *)&sun, len) || listen(fd, backlog)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

#endif /* AQ_STRESS_H */
