// SPDX-License-Identifier: GPL-2.0 OR MIT
#define _GNU_SOURCE
#include "wbuf.h"

void wb_flush(struct wbuf *w)
{
	if (w->n)
		fwrite_unlocked(w->b, 1, w->n, w->f);
	w->n = 0;
}

void wb_put_long(struct wbuf *w, const void *s, size_t n)
{
	wb_flush(w);
	fwrite_unlocked(s, 1, n, w->f);
}
