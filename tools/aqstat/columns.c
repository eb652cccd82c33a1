// SPDX-License-Identifier: GPL-2.0 OR MIT
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "columns.h"
#include "die.h"
#include "text.h"

static int out_width;		/* 0: no limit */

void columns_init(void)
{
	struct winsize ws;

	if (getenv("COLUMNS"))
		out_width = atoi(getenv("COLUMNS"));
	else if (isatty(STDOUT_FILENO) && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws))
		out_width = ws.ws_col;
	if (out_width < 0)
		out_width = 0;
}

void table_add(struct table *t, char **row)
{
	if (t->rows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = realloc(t->cells, t->cap * t->ncols * sizeof(char *));
		if (!t->cells)
			die(EX_ERR, "out of memory");
	}
	memcpy(t->cells + t->rows * t->ncols, row, t->ncols * sizeof(char *));
	t->rows++;
}

static void put_clipped(const char *line, size_t *col)
{
	for (const char *p = line; *p; p++) {
		if (((unsigned char)*p & 0xc0) != 0x80) {
			if (out_width && *col >= (size_t)out_width)
				return;
			(*col)++;
		}
		putchar(*p);
	}
}

void table_print(struct table *t)
{
	size_t *w = xmalloc(t->ncols * sizeof(*w));
	char *pad = NULL;

	for (int c = 0; c < t->ncols; c++) {
		w[c] = width(t->hdr[c]);
		for (size_t r = 0; r < t->rows; r++) {
			size_t x = width(t->cells[r * t->ncols + c]);

			if (x > w[c])
				w[c] = x;
		}
	}
	for (size_t r = 0; r <= t->rows; r++) {
		size_t col = 0;

		for (int c = 0; c < t->ncols; c++) {
			const char *s = r ? t->cells[(r - 1) * t->ncols + c] : t->hdr[c];
			size_t sw = width(s), fill = w[c] - sw;
			int last = c == t->ncols - 1;

			free(pad);
			pad = xmalloc(fill + 2);
			memset(pad, ' ', fill);
			pad[fill] = '\0';
			if (c)
				put_clipped(" ", &col);
			if (t->align[c] == 'r')
				put_clipped(pad, &col);
			put_clipped(s, &col);
			if (t->align[c] == 'l' && !last)
				put_clipped(pad, &col);
		}
		putchar('\n');
	}
	free(pad);
	free(w);
	for (size_t i = 0; i < t->rows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->rows = t->cap = 0;
}

void cprintf(const char *fmt, ...)
{
	va_list ap;
	size_t col;
	char *s, *line, *nl;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		die(EX_ERR, "out of memory");
	va_end(ap);
	for (line = s; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		col = 0;
		put_clipped(line, &col);
		if (!nl)
			break;
		putchar('\n');
	}
	free(s);
}
