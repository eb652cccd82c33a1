// SPDX-License-Identifier: GPL-2.0
/*
 * The module's lifetime: load, the files it creates, unload, and repeated
 * cycles that must leave neither a warning nor memory behind.
 */
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"

#include "aq_file.h"
#include "aq_fixture.h"
#include "aq_klog.h"
#include "aq_module.h"

FIXTURE(loaded) {
};

FIXTURE_SETUP(loaded)
{
	AQ_REQUIRE_MODULE();
	if (aq_is_loaded())
		ASSERT_EQ(0, aq_unload());
	ASSERT_EQ(0, aq_load(NULL));
}

FIXTURE_TEARDOWN(loaded)
{
	if (aq_is_loaded())
		EXPECT_EQ(0, aq_unload());
}

TEST_F(loaded, proc_starts_with_version_line)
{
	char buf[4096], want[64];

	ASSERT_LT(0, aq_read_file(AQ_PROC_PATH, buf, sizeof(buf)));
	snprintf(want, sizeof(want), AQUEUE_VERSION_PREFIX "%d\n",
		 AQUEUE_FORMAT_VERSION);
	ASSERT_EQ(0, strncmp(buf, want, strlen(want)))
		TH_LOG("first line is not '%s': %.80s", want, buf);
}

TEST_F(loaded, proc_world_readable)
{
	struct stat st;

	ASSERT_EQ(0, stat(AQ_PROC_PATH, &st));
	ASSERT_EQ(0444U, st.st_mode & 07777);
}

TEST_F(loaded, control_is_root_only)
{
	struct stat st;
	pid_t pid;
	int status;

	ASSERT_EQ(0, stat(AQ_CONTROL_PATH, &st));
	ASSERT_EQ(0600U, st.st_mode & 07777);
	ASSERT_EQ(0U, st.st_uid);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		gid_t nogroup = 65534;
		int fd;

		if (setgroups(1, &nogroup) || setgid(65534) || setuid(65534))
			_exit(2);
		fd = open(AQ_CONTROL_PATH, O_RDONLY);
		if (fd >= 0)
			_exit(1);
		fd = open(AQ_PROC_PATH, O_RDONLY);
		if (fd < 0) {
			perror(AQ_PROC_PATH);
			_exit(3);
		}
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("1: nobody opened control, 2: setuid failed, 3: nobody cannot read /proc/aqueue");
}

TEST_F(loaded, control_shows_and_toggles_state)
{
	char buf[4096];

	ASSERT_LT(0, aq_read_file(AQ_CONTROL_PATH, buf, sizeof(buf)));
	ASSERT_NE(NULL, strstr(buf, "enabled 1\n"));
	ASSERT_EQ(0, aq_control(AQUEUE_CMD_DISABLE "\n"));
	ASSERT_LT(0, aq_read_file(AQ_CONTROL_PATH, buf, sizeof(buf)));
	ASSERT_NE(NULL, strstr(buf, "enabled 0\n"));
	/* Without its newline the line might go on in the next write. */
	ASSERT_EQ(-EINVAL, aq_control(AQUEUE_CMD_ENABLE));
	ASSERT_LT(0, aq_read_file(AQ_CONTROL_PATH, buf, sizeof(buf)));
	ASSERT_NE(NULL, strstr(buf, "enabled 0\n"));
	ASSERT_EQ(0, aq_control(AQUEUE_CMD_ENABLE "\n"));
	ASSERT_LT(0, aq_read_file(AQ_CONTROL_PATH, buf, sizeof(buf)));
	ASSERT_NE(NULL, strstr(buf, "enabled 1\n"));
}

TEST_F(loaded, control_refuses_bad_batch_whole)
{
	char buf[4096];

	ASSERT_EQ(-EINVAL, aq_control("bogus\n"));
	ASSERT_EQ(-EINVAL, aq_control("enable extra\n"));
	/* A valid line before an invalid one must not be applied. */
	ASSERT_EQ(-EINVAL, aq_control(AQUEUE_CMD_DISABLE "\nbogus\n"));
	ASSERT_LT(0, aq_read_file(AQ_CONTROL_PATH, buf, sizeof(buf)));
	ASSERT_NE(NULL, strstr(buf, "enabled 1\n"));
}

TEST_F(loaded, version_and_parameters_visible)
{
	char buf[256];

	ASSERT_LT(1, aq_read_file(AQ_SYSFS_PATH "/version", buf,
				  sizeof(buf)));
	ASSERT_NE(0, strcmp(buf, "unknown\n"));
	ASSERT_LT(0, aq_read_file(AQ_SYSFS_PATH "/parameters/max_listeners",
				  buf, sizeof(buf)));
	ASSERT_LT(0, atoi(buf));
	ASSERT_LT(0, aq_read_file(AQ_SYSFS_PATH "/parameters/enable",
				  buf, sizeof(buf)));
	ASSERT_EQ('Y', buf[0]);
}

TEST(parameters_apply_at_load)
{
	char buf[4096];

	AQ_REQUIRE_MODULE();
	if (aq_is_loaded())
		ASSERT_EQ(0, aq_unload());
	ASSERT_EQ(0, aq_load("enable=0 max_listeners=7"));
	ASSERT_LT(0, aq_read_file(AQ_SYSFS_PATH "/parameters/max_listeners",
				  buf, sizeof(buf)));
	EXPECT_EQ(7, atoi(buf));
	ASSERT_LT(0, aq_read_file(AQ_CONTROL_PATH, buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "enabled 0\n"));
	ASSERT_EQ(0, aq_unload());
}

TEST(unload_removes_entries)
{
	AQ_REQUIRE_MODULE();
	if (!aq_is_loaded())
		ASSERT_EQ(0, aq_load(NULL));
	ASSERT_TRUE(aq_path_exists(AQ_PROC_PATH));
	ASSERT_TRUE(aq_path_exists(AQ_CONTROL_PATH));
	ASSERT_EQ(0, aq_unload());
	ASSERT_FALSE(aq_is_loaded());
	ASSERT_FALSE(aq_path_exists(AQ_PROC_PATH));
	ASSERT_FALSE(aq_path_exists(AQ_CONTROL_PATH));
	ASSERT_FALSE(aq_path_exists(AQ_DEBUGFS_PATH));
}

/* Kernel memory that a leaking module would grow: slab and vmalloc. */
static long aq_kernel_memory_kib(void)
{
	char buf[8192], *line;
	long total = 0, value;
	int fd;

	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "3\n", 2) < 0)
			total = 0;
		close(fd);
	}
	if (aq_read_file("/proc/meminfo", buf, sizeof(buf)) <= 0)
		return -1;
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (sscanf(line, "Slab: %ld kB", &value) == 1 ||
		    sscanf(line, "VmallocUsed: %ld kB", &value) == 1)
			total += value;
	}
	return total;
}

#define AQ_CYCLES 50
/* Per-CPU caches and RCU-deferred frees leave some noise. */
#define AQ_CYCLE_SLACK_KIB 256

FIXTURE(cycles) {
};

FIXTURE_SETUP(cycles)
{
}

FIXTURE_TEARDOWN(cycles)
{
}

/*
 * Registering and unregistering kprobes patches kernel text and waits for
 * RCU grace periods: a cycle takes about half a second under emulation,
 * more than the harness's default 30 s allows for 50 of them.
 */
TEST_F_TIMEOUT(cycles, load_unload_leave_nothing, 300)
{
	const char *marker = "aqueue-selftest: load_unload_cycles";
	const char *env = getenv("AQ_LIFECYCLE_CYCLES");
	int i, cycles = env && *env ? atoi(env) : AQ_CYCLES;
	struct timespec start, end;
	long before, after;
	char report[256];

	AQ_REQUIRE_MODULE();
	if (aq_is_loaded())
		ASSERT_EQ(0, aq_unload());
	/* Warm the slab caches the first loads populate. */
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, aq_load(NULL));
		ASSERT_EQ(0, aq_unload());
	}
	usleep(200000);
	before = aq_kernel_memory_kib();
	ASSERT_LT(0, before);
	aq_klog_mark(marker);

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0; i < cycles; i++) {
		char buf[4096];

		ASSERT_EQ(0, aq_load(NULL)) TH_LOG("cycle %d", i);
		ASSERT_LT(0, aq_read_file(AQ_PROC_PATH, buf, sizeof(buf)));
		ASSERT_LT(0, aq_read_file(AQ_CONTROL_PATH, buf, sizeof(buf)));
		ASSERT_EQ(0, aq_unload()) TH_LOG("cycle %d", i);
	}

	clock_gettime(CLOCK_MONOTONIC, &end);
	usleep(200000);
	after = aq_kernel_memory_kib();
	TH_LOG("slab+vmalloc before %ld KiB, after %d cycles %ld KiB (%.0f ms a cycle)",
	       before, cycles, after,
	       ((end.tv_sec - start.tv_sec) * 1e3 +
		(end.tv_nsec - start.tv_nsec) / 1e6) / cycles);
	/*
	 * KASAN's quarantine keeps freed objects in the slab for a while:
	 * on the debug kernel the slab total is no leak oracle, kmemleak is
	 * (the guest scans it after the suite).
	 */
	if (!aq_path_exists("/sys/kernel/debug/kmemleak"))
		EXPECT_GT(before + AQ_CYCLE_SLACK_KIB, after);
	EXPECT_EQ(NULL, aq_klog_report_since(marker, report, sizeof(report)))
		TH_LOG("kernel reported: %s", report);
}

AQ_TEST_HARNESS_MAIN
