// SPDX-License-Identifier: GPL-2.0 OR MIT
/* The owners of listeners the module saw no owner for; see owner.h. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "owner.h"

struct wanted {
	uint64_t ino;
	struct aqs_row *row;
};

static int by_ino(const void *a, const void *b)
{
	const struct wanted *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* Numeric, as /proc's process directories are. */
static int is_pid(const char *name)
{
	if (!*name)
		return 0;
	for (; *name; name++)
		if (!isdigit((unsigned char)*name))
			return 0;
	return 1;
}

/* @pid's comm escaped as the module writes a comm (\ooo), or NULL. */
static char *read_comm(int proc, const char *pid)
{
	char path[64], raw[64], *out;
	size_t n = 0, i;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "%s/comm", pid);
	fd = openat(proc, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	len = read(fd, raw, sizeof(raw) - 1);
	close(fd);
	if (len <= 0)
		return NULL;
	if (raw[len - 1] == '\n')
		len--;
	out = malloc(4 * (size_t)len + 1);
	if (!out)
		return NULL;
	for (i = 0; i < (size_t)len; i++) {
		unsigned char c = raw[i];

		if (c < ' ' || c >= 0x7f || c == '\\')
			n += sprintf(out + n, "\\%03o", c);
		else
			out[n++] = c;
	}
	out[n] = '\0';
	return out;
}

/* Fills the rows among @w[0..@n) whose socket one of @pid's fds is. */
static size_t claim(int proc, const char *pid, struct wanted *w, size_t n)
{
	char path[64], link[64];
	size_t found = 0;
	struct dirent *d;
	DIR *fds;
	int dfd;

	snprintf(path, sizeof(path), "%s/fd", pid);
	dfd = openat(proc, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return 0;	/* not ours to list, or gone */
	fds = fdopendir(dfd);
	if (!fds) {
		close(dfd);
		return 0;
	}
	while ((d = readdir(fds))) {
		unsigned long long ino;
		struct wanted key, *hit;
		ssize_t len;

		len = readlinkat(dfd, d->d_name, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (sscanf(link, "socket:[%llu]", &ino) != 1)
			continue;
		key.ino = ino;
		hit = bsearch(&key, w, n, sizeof(*w), by_ino);
		if (!hit || hit->row->pid)
			continue;
		hit->row->pid = strtoull(pid, NULL, 10);
		free(hit->row->comm);
		hit->row->comm = read_comm(proc, pid);
		if (!hit->row->comm) {
			hit->row->pid = 0;
			hit->row->comm = strdup("-");
			continue;
		}
		found++;
	}
	closedir(fds);
	return found;
}

void find_owners(struct aq_snapshot *s)
{
	struct wanted *w;
	size_t n = 0, left, i;
	struct dirent *d;
	DIR *procdir;
	int proc;

	w = calloc(s->n ? s->n : 1, sizeof(*w));
	if (!w)
		return;
	for (i = 0; i < s->n; i++)
		if (!s->l[i].pid && s->l[i].ino)
			w[n++] = (struct wanted){ s->l[i].ino, &s->l[i] };
	if (!n) {
		free(w);
		return;
	}
	qsort(w, n, sizeof(*w), by_ino);
	procdir = opendir("/proc");
	if (!procdir) {
		free(w);
		return;
	}
	proc = dirfd(procdir);
	left = n;
	while (left && (d = readdir(procdir)))
		if (is_pid(d->d_name))
			left -= claim(proc, d->d_name, w, n);
	closedir(procdir);
	free(w);
}
