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
		t->before = realloc(t->before, t->cap * sizeof(char *));
		if (!t->cells || !t->before)
			die(EX_ERR, "out of memory");
	}
	memcpy(t->cells + t->rows * t->ncols, row, t->ncols * sizeof(char *));
	t->before[t->rows] = t->pending;
	t->pending = NULL;
	t->rows++;
}

void table_add_line(struct table *t, char *line)
{
	free(t->pending);
	t->pending = line;
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

/* The width of the columns shown, with a space between two. */
static size_t total_width(const struct table *t)
{
	size_t sum = 0;
	int shown = 0;

	for (int c = 0; c < t->ncols; c++)
		if (!(t->hidden & (1UL << c))) {
			sum += t->w[c];
			shown++;
		}
	return sum + (size_t)(shown ? shown - 1 : 0);
}

static int fits(const struct table *t)
{
	return !out_width || total_width(t) <= (size_t)out_width;
}

/* Column @c's width: its title's and its widest cell's. */
static size_t column_width(const struct table *t, int c)
{
	size_t w = width(t->title[c]);

	for (size_t r = 0; r < t->rows; r++) {
		size_t x = width(t->cells[r * t->ncols + c]);

		if (x > w)
			w = x;
	}
	return w;
}

/* Each column's width, at least its kept one. */
static void measure(struct table *t)
{
	for (int c = 0; c < t->ncols; c++) {
		t->w[c] = column_width(t, c);
		if (t->keep_width && t->w[c] < t->keep_width[c])
			t->w[c] = t->keep_width[c];
	}
}

static int column(const struct table *t, const char *hdr)
{
	for (int c = 0; c < t->ncols; c++)
		if (!strcmp(t->hdr[c], hdr))
			return c;
	return -1;
}

/*
 * The NETNS column without the leading digits that all its rows share
 * (netns inodes of a host mostly start 40265...), marked with an
 * ellipsis: the rows stay told apart, in fewer columns.
 */
static void cut_shared_digits(struct table *t, int c)
{
	const char *first;
	size_t k, minlen;

	if (c < 0 || !t->rows)
		return;
	first = t->cells[c];
	k = minlen = strlen(first);
	for (size_t r = 1; r < t->rows; r++) {
		const char *s = t->cells[r * t->ncols + c];
		size_t i = 0;

		while (i < k && s[i] == first[i])
			i++;
		k = i;
		if (strlen(s) < minlen)
			minlen = strlen(s);
	}
	if (k >= minlen)	/* one row's digits would all go */
		k = minlen ? minlen - 1 : 0;
	if (k < 2)		/* the ellipsis takes a column */
		return;
	for (size_t r = 0; r < t->rows; r++) {
		char **cell = &t->cells[r * t->ncols + c];
		char *x = xasprintf("%s%s", ellipsis(), *cell + k);

		free(*cell);
		*cell = x;
	}
	t->w[c] = column_width(t, c);
}

/* Column @c down to @floor columns, its cells cut (in their middle or end). */
static void cut_column(struct table *t, int c, size_t floor, int middle)
{
	size_t over = total_width(t) - (size_t)out_width;

	if (c < 0 || t->w[c] <= floor)
		return;
	t->w[c] = t->w[c] - over > floor && t->w[c] > over ? t->w[c] - over : floor;
	for (size_t r = 0; r < t->rows; r++) {
		char **cell = &t->cells[r * t->ncols + c];
		char *x = shorten(*cell, t->w[c], middle);

		free(*cell);
		*cell = x;
	}
}

void table_fit(struct table *t)
{
	int maxdrop = 0;

	if (t->w)
		return;
	t->w = xmalloc(t->ncols * sizeof(*t->w));
	t->title = xmalloc(t->ncols * sizeof(*t->title));
	for (int c = 0; c < t->ncols; c++)
		t->title[c] = t->hdr[c];
	measure(t);
	if (fits(t))
		return;
	/* losing nothing: shorter titles, the digits every netns shares */
	for (int c = 0; t->narrow_hdr && c < t->ncols; c++)
		if (t->narrow_hdr[c]) {
			t->title[c] = t->narrow_hdr[c];
			t->w[c] = column_width(t, c);
		}
	if (fits(t))
		return;
	cut_shared_digits(t, column(t, "NETNS"));
	if (fits(t))
		return;
	/* COMM (the last column) down to 6, then LOCAL to 10 */
	cut_column(t, t->ncols - 1, 6, 0);
	if (fits(t))
		return;
	cut_column(t, column(t, "LOCAL"), 10, 1);
	if (fits(t))
		return;
	for (int c = 0; c < t->ncols; c++) {
		if (!compactable(t->hdr[c]))
			continue;
		for (size_t r = 0; r < t->rows; r++) {
			char **cell = &t->cells[r * t->ncols + c];
			char *x = compact(*cell);

			free(*cell);
			*cell = x;
		}
		t->w[c] = column_width(t, c);
	}
	/* then the columns the view can do without, in its order */
	for (int c = 0; t->drop && c < t->ncols; c++)
		if (t->drop[c] > maxdrop)
			maxdrop = t->drop[c];
	for (int k = 1; k <= maxdrop && !fits(t); k++)
		for (int c = 0; c < t->ncols; c++)
			if (t->drop[c] == k)
				t->hidden |= 1UL << c;
}

unsigned long table_would_hide(const struct table *t)
{
	struct table c = *t;
	unsigned long hidden;

	c.cells = xmalloc((t->rows ? t->rows : 1) * t->ncols * sizeof(*c.cells));
	for (size_t i = 0; i < t->rows * t->ncols; i++)
		c.cells[i] = xstrdup(t->cells[i]);
	c.w = NULL;
	c.title = NULL;
	table_fit(&c);
	hidden = c.hidden;
	for (size_t i = 0; i < t->rows * t->ncols; i++)
		free(c.cells[i]);
	free(c.cells);
	free(c.w);
	free(c.title);
	return hidden;
}

void table_print(struct table *t)
{
	char *pad = NULL;
	int last = -1;

	table_fit(t);
	if (t->keep_width)
		memcpy(t->keep_width, t->w, t->ncols * sizeof(*t->w));
	for (int c = 0; c < t->ncols; c++)
		if (!(t->hidden & (1UL << c)))
			last = c;
	for (size_t r = 0; r <= t->rows; r++) {
		size_t col = 0;
		int first = 1;

		if (r && t->before[r - 1])
			printf("%s\n", t->before[r - 1]);
		for (int c = 0; c < t->ncols; c++) {
			const char *s = r ? t->cells[(r - 1) * t->ncols + c] : t->title[c];
			size_t sw = width(s), fill = t->w[c] > sw ? t->w[c] - sw : 0;

			if (t->hidden & (1UL << c))
				continue;
			free(pad);
			pad = xmalloc(fill + 2);
			memset(pad, ' ', fill);
			pad[fill] = '\0';
			if (!first)
				put_clipped(" ", &col);
			first = 0;
			if (t->align[c] == 'r')
				put_clipped(pad, &col);
			put_clipped(s, &col);
			if (t->align[c] == 'l' && c != last)
				put_clipped(pad, &col);
		}
		putchar('\n');
	}
	free(pad);
	for (size_t i = 0; i < t->rows * t->ncols; i++)
		free(t->cells[i]);
	for (size_t i = 0; i < t->rows; i++)
		free(t->before[i]);
	free(t->cells);
	free(t->before);
	free(t->pending);
	t->before = NULL;
	t->pending = NULL;
	free(t->w);
	free(t->title);
	t->cells = NULL;
	t->w = NULL;
	t->title = NULL;
	t->hidden = 0;
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
