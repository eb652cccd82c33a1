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
	char **cells;		/* row-major, rows * ncols */
	size_t rows, cap;
};

/* The output width: $COLUMNS, else the terminal's, else no limit. */
void columns_init(void);

/* Appends a row of ncols allocated cells; the table frees them. */
void table_add(struct table *t, char **row);
/* Prints the header and the rows on stdout, then empties the table. */
void table_print(struct table *t);

/* printf to stdout, each line clipped to the output width */
void cprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* AQSTAT_COLUMNS_H */
