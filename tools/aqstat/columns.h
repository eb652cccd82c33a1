/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Aligned columns of text, clipped to the terminal's width (or $COLUMNS)
 * so that a wide table does not wrap into an unreadable one.
 */
#ifndef AQSTAT_COLUMNS_H
#define AQSTAT_COLUMNS_H

#include <stddef.h>

struct table {
	int ncols;
	const char **hdr;
	const char *align;	/* 'l' or 'r' per column */
	/*
	 * per column, or NULL: the least width, and on return the width
	 * used, so that a redrawn table keeps its columns in place
	 */
	size_t *keep_width;
	char **cells;		/* row-major, rows * ncols */
	size_t rows, cap;
};

/*
 * The output width: $COLUMNS, else the terminal's, else no limit; the
 * height, for -w: $LINES, else the terminal's, else none. Called again
 * to follow a resize.
 */
void columns_init(void);
/* The output's height in lines, 0 for no limit. */
int columns_height(void);

/* Appends a row of ncols allocated cells; the table frees them. */
void table_add(struct table *t, char **row);
/*
 * Prints the header and the rows on stdout, then empties the table. A
 * table wider than the output loses no number: the COMM column is cut at
 * its end, the LOCAL column in its middle, long counts are written as
 * 1.23M; only then is the rest clipped.
 */
void table_print(struct table *t);

/* printf to stdout, each line clipped to the output width */
void cprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* AQSTAT_COLUMNS_H */
