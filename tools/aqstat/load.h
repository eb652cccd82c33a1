/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * One snapshot of /proc/aqueue (or of a saved copy), read and parsed, with
 * a message that says what to do when that fails.
 */
#ifndef AQSTAT_LOAD_H
#define AQSTAT_LOAD_H

#include "parse_proc.h"

#define AQ_DEFAULT_PROC		"/proc/" AQUEUE_PROC_NAME

/* $AQSTAT_PROC, else /proc/aqueue. */
const char *proc_path(void);

/*
 * Reads @file (NULL: proc_path()) into @s. Returns EX_OK, or the exit
 * code after saying why on stderr; @s then holds nothing to free, and
 * s->format the version seen when it is one aqstat does not read
 * (aq_format_newer()), else 0.
 * @strict makes malformed lines a failure (EX_MALFORMED).
 */
int load_snapshot(const char *file, int strict, struct aq_snapshot *s);
/* load_snapshot() that exits on failure. */
void load(const char *file, int strict, struct aq_snapshot *s);

#endif /* AQSTAT_LOAD_H */
