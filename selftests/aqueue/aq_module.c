// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "aq_module.h"

const char *aq_module_path(void)
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

bool aq_kernel_preempt_rt(void)
{
	struct utsname u;

	return !uname(&u) && strstr(u.version, "PREEMPT_RT");
}

int aq_is_loaded(void)
{
	return aq_path_exists(AQ_SYSFS_PATH);
}

int aq_load(const char *params)
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

int aq_unload(void)
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

int aq_control(const char *text)
{
	return aq_write_file(AQ_CONTROL_PATH, text);
}

long long aq_param(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), AQ_SYSFS_PATH "/parameters/%s", name);
	return aq_read_number(path);
}
