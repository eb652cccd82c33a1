/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * A write buffer in front of a FILE for the outputs of many small pieces
 * (-j, --prometheus): a piece costs a memcpy, not a stdio call, and the
 * stream gets 64 KiB at a time. One thread writes it.
 */
#ifndef AQSTAT_WBUF_H
#define AQSTAT_WBUF_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define WBUF_SIZE	65536
/* the longest piece wb_room() may ask for */
#define WBUF_PIECE_MAX	(WBUF_SIZE / 2)

struct wbuf {
	FILE *f;
	size_t n;
	char b[WBUF_SIZE];
};

static inline void wb_init(struct wbuf *w, FILE *f)
{
	w->f = f;
	w->n = 0;
}

/* Hands what is buffered to the stream (whose errors it keeps). */
void wb_flush(struct wbuf *w);

/* Room for @n more bytes (at most WBUF_PIECE_MAX) at wb_end(). */
static inline char *wb_room(struct wbuf *w, size_t n)
{
	if (n > sizeof(w->b) - w->n)
		wb_flush(w);
	return w->b + w->n;
}

/* After writing at wb_room()'s pointer: the new end. */
static inline void wb_done(struct wbuf *w, char *end)
{
	w->n = (size_t)(end - w->b);
}

void wb_put_long(struct wbuf *w, const void *s, size_t n);

static inline void wb_put(struct wbuf *w, const void *s, size_t n)
{
	if (n > WBUF_PIECE_MAX) {
		wb_put_long(w, s, n);
		return;
	}
	memcpy(wb_room(w, n), s, n);
	w->n += n;
}

static inline void wb_str(struct wbuf *w, const char *s)
{
	wb_put(w, s, strlen(s));
}

static inline void wb_c(struct wbuf *w, char c)
{
	*wb_room(w, 1) = c;
	w->n++;
}

/* @v in decimal at @p (room for 20 digits); returns the end. */
static inline char *put_dec(char *p, uint64_t v)
{
	char tmp[20], *t = tmp + sizeof(tmp);

	do {
		*--t = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(p, t, (size_t)(tmp + sizeof(tmp) - t));
	return p + (tmp + sizeof(tmp) - t);
}

static inline void wb_u64(struct wbuf *w, uint64_t v)
{
	wb_done(w, put_dec(wb_room(w, 20), v));
}

#endif /* AQSTAT_WBUF_H */
