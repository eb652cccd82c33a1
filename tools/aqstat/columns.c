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
static int out_height;		/* rows: 0, no limit */

void columns_init(void)
{
	struct winsize ws;

	int tty = isatty(STDOUT_FILENO) && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws);

	out_width = out_height = 0;
	if (getenv("COLUMNS"))
		out_width = atoi(getenv("COLUMNS"));
	else if (tty)
		out_width = ws.ws_col;
	if (getenv("LINES"))
		out_height = atoi(getenv("LINES"));
	else if (tty)
		out_height = ws.ws_row;
	if (out_width < 0)
		out_width = 0;
	if (out_height < 0)
		out_height = 0;
}

int columns_height(void)
{
	return out_height;
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

/* The first @n characters of @s (UTF-8), allocated. */
static char *first_chars(const char *s, size_t n)
{
	const char *p = s;

	for (size_t k = 0; *p && k <= n; p++)
		if (((unsigned char)*p & 0xc0) != 0x80 && k++ == n)
			break;
	return xasprintf("%.*s", (int)(p - s), s);
}

/* @s past its first @n characters. */
static const char *skip_chars(const char *s, size_t n)
{
	for (size_t k = 0; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80 && k++ == n)
			break;
	return s;
}

/*
 * @s in @w columns: the middle cut out for an address (the start says
 * where, the end which socket), the end for a name.
 */
static char *shorten(const char *s, size_t w, int middle)
{
	const char *dots = ellipsis();
	size_t n = width(s), head, tail;
	char *a, *r;

	if (n <= w || w < 2)
		return xstrdup(s);
	head = middle ? (w - 1) / 2 : w - 1;
	tail = w - 1 - head;
	a = first_chars(s, head);
	r = xasprintf("%s%s%s", a, dots, skip_chars(s, n - tail));
	free(a);
	return r;
}

/* 1234567 as 1.23M: a count in at most 5 columns, for a narrow screen. */
static char *compact(const char *s)
{
	static const char sfx[] = "KMGTPE";
	double v;
	int i = -1;

	if (strlen(s) <= 5 || strspn(s, "0123456789") != strlen(s))
		return xstrdup(s);
	v = strtod(s, NULL);
	while (v >= 999.5 && i < 5) {
		v /= 1000;
		i++;
	}
	return xasprintf(v < 9.995 ? "%.2f%c" : v < 99.95 ? "%.1f%c" : "%.0f%c",
			 v, sfx[i]);
}

/* The columns of counts (not of ids: ID, NETNS, PID stay exact). */
static int compactable(const char *hdr)
{
	static const char *const counts[] = { "PEAK", "ENQ", "ACC", "DROPS", "DGRAMS" };

	for (size_t i = 0; i < sizeof(counts) / sizeof(*counts); i++)
		if (!strcmp(hdr, counts[i]))
			return 1;
	return 0;
}

static size_t total_width(const size_t *w, int ncols)
{
	size_t sum = (size_t)ncols - 1;

	for (int c = 0; c < ncols; c++)
		sum += w[c];
	return sum;
}

static void measure(struct table *t, size_t *w)
{
	for (int c = 0; c < t->ncols; c++) {
		w[c] = width(t->hdr[c]);
		for (size_t r = 0; r < t->rows; r++) {
			size_t x = width(t->cells[r * t->ncols + c]);

			if (x > w[c])
				w[c] = x;
		}
		if (t->keep_width && w[c] < t->keep_width[c])
			w[c] = t->keep_width[c];
	}
}

/*
 * Makes a table wider than the output fit it without losing a number:
 * first the last column (COMM) down to 6 characters, then the LOCAL
 * column down to 10, cut in the middle; then counts of more than five
 * digits written as 1.23M. What still does not fit is clipped.
 */
static void squeeze(struct table *t, size_t *w)
{
	int last = t->ncols - 1, local = -1;
	size_t over;

	if (!out_width || total_width(w, t->ncols) <= (size_t)out_width)
		return;
	for (int c = 0; c < t->ncols; c++)
		if (!strcmp(t->hdr[c], "LOCAL"))
			local = c;
	for (int pass = 0; pass < 3; pass++) {
		int c = pass == 0 ? last : pass == 1 ? local : -1;
		size_t floor = pass == 0 ? 6 : 10;

		over = total_width(w, t->ncols) - (size_t)out_width;
		if (pass == 2) {
			for (c = 0; c < t->ncols; c++)
				for (size_t r = 0; r < t->rows && compactable(t->hdr[c]); r++) {
					char **cell = &t->cells[r * t->ncols + c];
					char *x = compact(*cell);

					free(*cell);
					*cell = x;
				}
			measure(t, w);
			return;
		}
		if (c < 0 || w[c] <= floor)
			continue;
		w[c] = w[c] - over > floor && w[c] > over ? w[c] - over : floor;
		for (size_t r = 0; r < t->rows; r++) {
			char **cell = &t->cells[r * t->ncols + c];
			char *x = shorten(*cell, w[c], c == local);

			free(*cell);
			*cell = x;
		}
		if (total_width(w, t->ncols) <= (size_t)out_width)
			return;
	}
}

void table_print(struct table *t)
{
	size_t *w = xmalloc(t->ncols * sizeof(*w));
	char *pad = NULL;

	measure(t, w);
	squeeze(t, w);
	if (t->keep_width)
		memcpy(t->keep_width, w, t->ncols * sizeof(*w));
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
