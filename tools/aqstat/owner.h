/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Listeners that were listening before the module was loaded have no
 * owner the module saw (pid 0, comm "-"). Like ss -p, aqstat finds them
 * from the socket's inode among the links in /proc/PID/fd, which only the
 * process's owner and CAP_SYS_PTRACE may list: a reader sees the owners
 * it may see, no others.
 */
#ifndef AQSTAT_OWNER_H
#define AQSTAT_OWNER_H

#include "parse_proc.h"

/* Fills in pid and comm of @s's rows that have none but an inode. */
void find_owners(struct aq_snapshot *s);

#endif /* AQSTAT_OWNER_H */
