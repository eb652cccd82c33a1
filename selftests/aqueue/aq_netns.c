// SPDX-License-Identifier: GPL-2.0
#include "aq_harness.h"

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "aq_netns.h"

int64_t aq_netns_ino(void)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st))
		return 0;
	return st.st_ino;
}

int aq_lo_up(void)
{
	struct ifreq ifr;
	int fd, ret = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		ret = -errno;
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			ret = -errno;
	}
	close(fd);
	return ret;
}

int aq_unshare_net(void)
{
	if (unshare(CLONE_NEWNET))
		return -errno;
	return aq_lo_up();
}

pid_t aq_child_start(struct __test_metadata *_metadata, aq_netns_fn fn,
		     void *arg, bool newnet)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		int ret = newnet ? aq_unshare_net() : 0;

		if (ret) {
			SKIP(_exit(4), "cannot create a network namespace: %s",
			     strerror(-ret));
		}
		if (setjmp(_metadata->env) == 0)
			fn(_metadata, arg);
		fflush(stdout);
		if (_metadata->skip)
			_exit(4);
		_exit(_metadata->passed && !_metadata->aborted ? 0 : 1);
	}
	return pid;
}

void aq_child_wait(struct __test_metadata *_metadata, pid_t pid)
{
	int status;

	ASSERT_LT(0, pid) TH_LOG("fork: %s", strerror(errno));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 4) {
		char reason[sizeof(_metadata->results->reason)];

		memcpy(reason, _metadata->results->reason, sizeof(reason));
		reason[sizeof(reason) - 1] = '\0';
		SKIP(return, "%s", reason);
	}
	ASSERT_TRUE(WIFEXITED(status))
		TH_LOG("child died by signal %d",
		       WIFSIGNALED(status) ? WTERMSIG(status) : -1);
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("the part of the test run in a child failed");
}

void aq_in_netns(struct __test_metadata *_metadata, aq_netns_fn fn, void *arg)
{
	aq_child_wait(_metadata, aq_child_start(_metadata, fn, arg, true));
}

void *aq_shared_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}
