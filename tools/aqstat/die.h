/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * aqstat's exit codes, its error messages and the allocations that give
 * up with one: no caller has a better answer to running out of memory.
 */
#ifndef AQSTAT_DIE_H
#define AQSTAT_DIE_H

#include <stddef.h>

/* Exit codes, documented in aqstat.8. */
enum {
	EX_OK = 0,
	EX_ERR = 1,		/* I/O error, out of memory */
	EX_USAGE = 2,		/* bad command line */
	EX_NOMODULE = 3,	/* /proc/aqueue or the control file missing */
	EX_FORMAT = 4,		/* not aqueue text, or an unknown format */
	EX_NODEBUGFS = 5,	/* ctl: debugfs not mounted */
	EX_PERM = 6,		/* ctl: not root; permission denied */
	EX_REFUSED = 7,		/* ctl: the module refused the command */
	EX_MALFORMED = 8,	/* --strict and malformed lines */
};

/* "aqstat: MESSAGE" on stderr. */
void complain(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
_Noreturn void die(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The stdio buffer of -j, --prometheus and -o: a write a MiB. */
#define OUT_BUFFER	(1 << 20)

void *xmalloc(size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* AQSTAT_DIE_H */
