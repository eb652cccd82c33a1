// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aq_clock.h"
#include "aq_file.h"
#include "aq_task.h"

void aq_set_comm(const char *name)
{
	prctl(PR_SET_NAME, name, 0, 0, 0);
}

void aq_get_comm(char *buf, size_t size)
{
	char name[17] = "";

	prctl(PR_GET_NAME, name, 0, 0, 0);
	snprintf(buf, size, "%s", name);
}

char aq_proc_state(pid_t pid)
{
	char path[64], buf[512], *paren;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (aq_read_file(path, buf, sizeof(buf)) <= 0)
		return 0;
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' ? paren[2] : 0;
}

/* Whether a task is a kernel thread (PF_KTHREAD in /proc/PID/stat). */
static bool aq_is_kthread(pid_t pid)
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

void aq_proc_wchan(pid_t pid, char *out, size_t size)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	if (aq_read_file(path, out, size) <= 0)
		snprintf(out, size, "?");
}

int aq_count_d_state(pid_t *first, char *wchan, size_t size)
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

int aq_wait_child_bounded(pid_t pid, int ms)
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

void aq_error(struct aq_errors *e, const char *fmt, ...)
{
	va_list ap;

	atomic_fetch_add(&e->count, 1);
	if (atomic_flag_test_and_set(&e->taken))
		return;
	va_start(ap, fmt);
	vsnprintf(e->first, sizeof(e->first), fmt, ap);
	va_end(ap);
}
