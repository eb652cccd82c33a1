/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the aqueue selftests: load and unload the module with
 * the raw syscalls (no modprobe in the guest), read its files, and check the
 * kernel log. Functions that assert take _metadata, as the kernel's own
 * selftests do, so ASSERT_* works inside them.
 */
#ifndef AQ_TEST_H
#define AQ_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* unshare, accept4, pthread_setname_np */
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "aqueue_format.h"

#define AQ_PROC_PATH	"/proc/" AQUEUE_PROC_NAME
#define AQ_DEBUGFS_PATH	"/sys/kernel/debug/" AQUEUE_DEBUGFS_DIR
#define AQ_CONTROL_PATH	AQ_DEBUGFS_PATH "/" AQUEUE_CONTROL_NAME
#define AQ_SYSFS_PATH	"/sys/module/aqueue"

static inline const char *aq_module_path(void)
{
	static char path[512];
	const char *env = getenv("AQUEUE_KO");
	struct utsname u;

	if (env && *env)
		return env;
	uname(&u);
	snprintf(path, sizeof(path), "/lib/modules/%s/extra/aqueue.ko",
		 u.release);
	return path;
}

static inline int aq_path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static inline int aq_is_loaded(void)
{
	return aq_path_exists(AQ_SYSFS_PATH);
}

/*
 * Returns 0 or -errno from finit_module. $AQ_LOAD_PARAMS goes before the
 * test's own parameters, so a test that names the same one wins: the debug
 * lane uses it to load with fewer kretprobe instances (tools/vmtest/init).
 */
static inline int aq_load(const char *params)
{
	const char *base = getenv("AQ_LOAD_PARAMS");
	char all[4096];
	int fd, ret;

	if (snprintf(all, sizeof(all), "%s %s", base ? base : "",
		     params ? params : "") >= (int)sizeof(all))
		return -E2BIG;
	fd = open(aq_module_path(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, all, 0);
	ret = ret ? -errno : 0;
	close(fd);
	return ret;
}

/* Returns 0 or -errno from delete_module; waits out a transient busy. */
static inline int aq_unload(void)
{
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		if (!syscall(SYS_delete_module, "aqueue", O_NONBLOCK))
			return 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EBUSY)
			return -errno;
		usleep(10000);
	}
	return -EBUSY;
}

/* Skips the test when the module file is not there to load. */
#define AQ_REQUIRE_MODULE() do {					\
	if (geteuid() != 0)						\
		SKIP(return, "needs root to load modules");		\
	if (!aq_path_exists(aq_module_path()))				\
		SKIP(return, "no module at %s (set AQUEUE_KO)",		\
		     aq_module_path());					\
} while (0)

/* Reads a whole small file into buf (NUL-terminated); returns its length. */
static inline ssize_t aq_read_file(const char *path, char *buf, size_t size)
{
	ssize_t n, total = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((size_t)total < size - 1) {
		n = read(fd, buf + total, size - 1 - total);
		if (n < 0) {
			n = -errno;
			close(fd);
			return n;
		}
		if (n == 0)
			break;
		total += n;
	}
	buf[total] = '\0';
	close(fd);
	return total;
}

/* Writes text to a small file (sysctl, control) in one write(); 0 or -errno. */
static inline int aq_write_file(const char *path, const char *text)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

/* Writes text to the control file in one write(); returns 0 or -errno. */
static inline int aq_control(const char *text)
{
	return aq_write_file(AQ_CONTROL_PATH, text);
}

/*
 * The kernel log is the oracle for "no warning": a test drops a marker into
 * it and later looks for reports printed after that marker.
 */
static inline void aq_klog_mark(const char *marker)
{
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		dprintf(fd, "%s\n", marker);
		close(fd);
	}
}

static const char *const aq_klog_reports[] = {
	"WARNING:", "BUG:", "Oops", "general protection fault",
	"KASAN", "UBSAN", "possible circular locking",
	"possible recursive locking", "suspicious RCU usage",
	"list_add corruption", "list_del corruption",
	"sleeping function called from invalid context",
	"suspected memory leak", "Call Trace:",
};

/* Returns the first report found after marker, or NULL; buf holds it. */
static inline const char *aq_klog_report_since(const char *marker,
						char *buf, size_t size)
{
	int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	const char *from;
	char *log;
	size_t i;

	if (len <= 0)
		return NULL;
	log = calloc(1, len + 1);
	if (!log)
		return NULL;
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, len);
	if (len < 0)
		len = 0;
	log[len] = '\0';
	from = strstr(log, marker);
	from = from ? from : log;
	for (i = 0; i < sizeof(aq_klog_reports) / sizeof(aq_klog_reports[0]);
	     i++) {
		const char *hit = strstr(from, aq_klog_reports[i]);

		if (hit) {
			const char *end = strchr(hit, '\n');
			size_t n = end ? (size_t)(end - hit) : strlen(hit);

			if (n >= size)
				n = size - 1;
			memcpy(buf, hit, n);
			buf[n] = '\0';
			free(log);
			return buf;
		}
	}
	free(log);
	return NULL;
}

/*
 * The debug kernel (KASAN, lockdep and kmemleak under TCG) runs everything
 * some AQ_SLOWDOWN times slower. The harness's per-test limits
 * (TEST_F_TIMEOUT) are compiled in, so they are stretched here, before the
 * run, rather than sized for the slowest kernel everywhere.
 */
static inline int aq_harness_main(int argc, char **argv)
{
	const char *env = getenv("AQ_SLOWDOWN");
	int factor = env ? atoi(env) : 1;
	struct __fixture_metadata *f;
	struct __test_metadata *t;

	if (factor > 1)
		for (f = __fixture_list; f; f = f->next)
			for (t = f->tests; t; t = t->next)
				t->timeout *= factor;
	return test_harness_run(argc, argv);
}

/* TEST_HARNESS_MAIN, with the limits scaled for a slow kernel. */
#define AQ_TEST_HARNESS_MAIN \
	int main(int argc, char **argv) \
	{ \
		return aq_harness_main(argc, argv); \
	}

#endif /* AQ_TEST_H */
