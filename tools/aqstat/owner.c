// SPDX-License-Identifier: GPL-2.0 OR MIT
/* The owners of listeners the module saw no owner for; see owner.h. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "owner.h"

struct wanted {
	uint64_t ino;
	struct aqs_row *row;
	int found;
};

static int wanted_by_ino(const void *a, const void *b)
{
	const struct wanted *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static int owner_by_ino(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static int u64_order(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Numeric, as /proc's process directories are. */
static int is_pid(const char *name)
{
	if (!*name || strlen(name) > 20)
		return 0;
	for (; *name; name++)
		if (!isdigit((unsigned char)*name))
			return 0;
	return 1;
}

/* @pid's comm escaped as the module writes a comm (\ooo), or NULL. */
static char *read_comm(int proc, const char *pid)
{
	char path[300], raw[64], *out;
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

/* The inode of the socket a /proc/PID/fd link names, or 0. */
static uint64_t socket_ino(int dir, const char *name)
{
	char link[64];
	unsigned long long ino;
	ssize_t len = readlinkat(dir, name, link, sizeof(link) - 1);

	if (len <= 0)
		return 0;
	link[len] = '\0';
	if (sscanf(link, "socket:[%llu]", &ino) != 1)
		return 0;
	return ino;
}

/* Whether the descriptor @o was found at is still its socket. */
static int still_owner(int proc, const struct owner *o)
{
	char path[64];

	snprintf(path, sizeof(path), "%llu/fd/%s", (unsigned long long)o->pid, o->fd);
	return socket_ino(proc, path) == o->ino;
}

/* @row's pid and comm from @o. */
static void give(struct aqs_row *row, const struct owner *o)
{
	char *comm = strdup(o->comm);

	if (!comm)
		return;
	free(row->comm);
	row->comm = comm;
	row->pid = o->pid;
}

/*
 * The owners among @pid's descriptors of the sockets @w[0..@n) names (by
 * inode) that no process was found for yet, into @out; returns how many.
 */
static size_t claim(int proc, const char *pid, struct wanted *w, size_t n,
		    struct owner *out)
{
	char path[300], *comm = NULL;
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
		struct wanted key, *hit;
		struct owner *o = &out[found];

		key.ino = socket_ino(dfd, d->d_name);
		if (!key.ino || strlen(d->d_name) >= sizeof(o->fd))
			continue;
		hit = bsearch(&key, w, n, sizeof(*w), wanted_by_ino);
		if (!hit || hit->found)
			continue;
		if (!comm)
			comm = read_comm(proc, pid);
		if (!comm)
			break;	/* gone, or no longer ours to read */
		o->comm = strdup(comm);
		if (!o->comm)
			break;
		o->ino = key.ino;
		o->pid = strtoull(pid, NULL, 10);
		strcpy(o->fd, d->d_name);
		hit->found = 1;
		give(hit->row, o);
		found++;
	}
	free(comm);
	closedir(fds);
	return found;
}

/*
 * A scan of c->proc for the owners of @w[0..@n) (by inode), appended to
 * @out, which has room for @n; returns how many it found.
 */
static size_t scan(struct owner_cache *c, struct wanted *w, size_t n,
		   struct owner *out)
{
	size_t found = 0;
	struct dirent *d;
	DIR *procdir;

	c->scans++;
	procdir = opendir(c->proc);
	if (!procdir)
		return 0;
	while (found < n && (d = readdir(procdir)))
		if (is_pid(d->d_name))
			found += claim(dirfd(procdir), d->d_name, w, n, out + found);
	closedir(procdir);
	return found;
}

void owners_fill(struct owner_cache *c, struct aq_snapshot *s, double now)
{
	struct wanted *w, *left;
	struct owner *keep;
	uint64_t *missing;
	size_t n = 0, nleft = 0, nkeep = 0, i;
	int fresh = 0, proc = -1;

	w = calloc(s->n ? s->n : 1, sizeof(*w));
	keep = calloc(s->n ? s->n : 1, sizeof(*keep));
	left = calloc(s->n ? s->n : 1, sizeof(*left));
	if (!w || !keep || !left)
		goto out;
	for (i = 0; i < s->n; i++)
		if (!s->l[i].pid && s->l[i].ino)
			w[n++] = (struct wanted){ s->l[i].ino, &s->l[i], 0 };
	qsort(w, n, sizeof(*w), wanted_by_ino);
	if (n && c->n)
		proc = open(c->proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* the owners found before, each checked where it was found */
	for (i = 0; i < n; i++) {
		struct owner key = { .ino = w[i].ino };
		struct owner *o = c->n ? bsearch(&key, c->v, c->n, sizeof(*c->v),
						 owner_by_ino) : NULL;

		if (o && o->comm && proc >= 0 && still_owner(proc, o)) {
			give(w[i].row, o);
			keep[nkeep++] = *o;
			o->comm = NULL;	/* moved */
			continue;
		}
		left[nleft++] = w[i];
		/* not looked for yet, or its owner let it go: look now */
		if (!c->nmissing || !bsearch(&w[i].ino, c->missing, c->nmissing,
					     sizeof(*c->missing), u64_order))
			fresh = 1;
	}
	if (nleft && (fresh || now - c->last_scan >= c->retry_s)) {
		nkeep += scan(c, left, nleft, keep + nkeep);
		c->last_scan = now;
	}
	/* what is still not found: those the scan did not find, or was not run for */
	missing = malloc((nleft ? nleft : 1) * sizeof(*missing));
	if (missing) {
		size_t m = 0;

		for (i = 0; i < nleft; i++)
			if (!left[i].found)
				missing[m++] = left[i].ino;
		free(c->missing);
		c->missing = missing;
		c->nmissing = m;
	}
	/* the owners of listeners gone are forgotten */
	for (i = 0; i < c->n; i++)
		free(c->v[i].comm);
	free(c->v);
	qsort(keep, nkeep, sizeof(*keep), owner_by_ino);
	c->v = keep;
	c->n = nkeep;
	keep = NULL;
out:
	if (proc >= 0)
		close(proc);
	free(keep);
	free(left);
	free(w);
}

void owner_cache_free(struct owner_cache *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].comm);
	free(c->v);
	free(c->missing);
	c->v = NULL;
	c->missing = NULL;
	c->n = c->nmissing = 0;
}

void find_owners(struct aq_snapshot *s)
{
	static struct owner_cache cache = {
		.proc = "/proc", .retry_s = OWNER_RETRY_S,
	};
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	owners_fill(&cache, s, (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}
