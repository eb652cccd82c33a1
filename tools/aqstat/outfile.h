/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * -o FILE: the output replaces FILE in one rename, so that a reader such
 * as node_exporter's textfile collector sees the old file or the new one,
 * never half of one. The text is written to FILE.tmp.PID beside it first
 * (a name the collector, which reads *.prom, passes over).
 */
#ifndef AQSTAT_OUTFILE_H
#define AQSTAT_OUTFILE_H

#include <stdio.h>

struct outfile {
	FILE *f;
	const char *path;
	char *tmp;
};

/* Creates the temporary file; exits on failure. */
void outfile_open(struct outfile *o, const char *path);
/* Writes it out, syncs it and renames it over path; exits on failure. */
void outfile_commit(struct outfile *o);

#endif /* AQSTAT_OUTFILE_H */
