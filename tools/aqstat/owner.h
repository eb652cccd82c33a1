/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Listeners that were listening before the module was loaded have no
 * owner the module saw (pid 0, comm "-"). Like ss -p, aqstat finds them
 * from the socket's inode among the links in /proc/PID/fd, which only the
 * process's owner and CAP_SYS_PTRACE may list: a reader sees the owners
 * it may see, no others.
 *
 * Scanning every process's descriptors costs as much as the processes
 * have descriptors, and -w reads /proc/aqueue every frame: what a scan
 * found is kept, and checked each read with one readlink of the
 * descriptor it was found at. A read scans again only for an inode it
 * has not looked for yet, or once a few seconds have passed, for those
 * the last scan did not find.
 */
#ifndef AQSTAT_OWNER_H
#define AQSTAT_OWNER_H

#include <stddef.h>
#include <stdint.h>

#include "parse_proc.h"

/* An inode that a scan did not find is looked for again after this. */
#define OWNER_RETRY_S	5.0

/* An owner found: the inode is the socket at /proc/PID/fd/FD. */
struct owner {
	uint64_t ino, pid;
	char fd[16];		/* its name in /proc/PID/fd */
	char *comm;		/* escaped as the module writes a comm (\ooo) */
};

/* What the scans found, from one read to the next. */
struct owner_cache {
	const char *proc;	/* the proc mount: "/proc", or a test's tree */
	double retry_s;		/* OWNER_RETRY_S, or a test's */
	struct owner *v;	/* by inode */
	size_t n;
	uint64_t *missing;	/* the inodes the last scan did not find, in order */
	size_t nmissing;
	double last_scan;	/* when it ran, on the caller's clock */
	unsigned long scans;	/* of /proc: each costs what it reads */
};

/*
 * Fills in pid and comm of @s's rows that have none but an inode, from
 * @c and, when needed, a scan of c->proc; @now (seconds, any clock that
 * only goes forward) says when. Owners of inodes no longer in @s are
 * forgotten.
 */
void owners_fill(struct owner_cache *c, struct aq_snapshot *s, double now);
void owner_cache_free(struct owner_cache *c);

/* owners_fill() with the process's own cache over /proc. */
void find_owners(struct aq_snapshot *s);

#endif /* AQSTAT_OWNER_H */
