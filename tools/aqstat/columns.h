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
	/*
	 * per column, or NULL: a shorter title for a narrow output
	 * (NULL: none), and the order in which columns may be left out
	 * when nothing else makes the table fit (0: never; 1 first, ...)
	 */
	const char *const *narrow_hdr;
	const int *drop;
	char **cells;		/* row-major, rows * ncols */
	size_t rows, cap;
	/*
	 * per row, or NULL: a line printed whole just before it, not a
	 * cell (no column's width counts it); pending: table_add_line()'s
	 * for the next row
	 */
	char **before;
	char *pending;
	/*
	 * table_fit()'s: the widths, the titles, the columns left out
	 * (bit c: column c; those set before table_fit() stay out)
	 */
	size_t *w;
	const char **title;
	unsigned long hidden;
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
 * @line (allocated, without a newline; the table frees it) is printed on
 * its own just before the next row table_add() appends, neither clipped
 * nor aligned.
 */
void table_add_line(struct table *t, char *line);
/*
 * Makes the table fit the output's width, without losing a number where
 * it can: the narrow titles first, then the NETNS column without the
 * leading digits its rows share, the COMM column cut at its end, the
 * LOCAL column in its middle, long counts written as 1.23M; then the
 * columns of t->drop left out, in its order (t->hidden says which); only
 * then is the rest clipped. table_print() calls it if need be.
 */
void table_fit(struct table *t);
/* The columns table_fit() would leave out of @t, which stays as it is. */
unsigned long table_would_hide(const struct table *t);
/* Prints the header and the rows on stdout, then empties the table. */
void table_print(struct table *t);

/* printf to stdout, each line clipped to the output width */
void cprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* AQSTAT_COLUMNS_H */
