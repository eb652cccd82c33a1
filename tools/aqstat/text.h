/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Text for a person: strings made safe for a terminal, and numbers and
 * times in short units. The strings are allocated; the caller frees them.
 */
#ifndef AQSTAT_TEXT_H
#define AQSTAT_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Reads the locale's codeset (after setlocale): UTF-8 or not. */
void text_init(void);

/* Length of the valid UTF-8 sequence at @s, 0 if invalid. */
size_t utf8_len(const unsigned char *s);
/* A copy safe for a terminal: control bytes and bad UTF-8 become '?'. */
char *printable(const char *s);
/* "…" in a UTF-8 locale, else "~". */
const char *ellipsis(void);
/* Columns a (printable) string takes: one per character. */
size_t width(const char *s);

/*
 * A name as /proc/aqueue and the event stream write it (a unix path, a
 * comm), its \ooo octal escapes decoded into @out, which has room for
 * strlen(@s) + 1 bytes; returns the decoded length. The bytes may hold
 * NULs (abstract unix names can) and are NUL-terminated besides. A
 * backslash not followed by three octal digits stays as it is.
 */
size_t unoctal(const char *s, char *out);

/* @ts (CLOCK_REALTIME) as RFC 3339 in UTC with microseconds, in @buf. */
void rfc3339(char buf[40], const struct timespec *ts);

char *fmt_u64(uint64_t v);
/* A time given in microseconds, in µs, ms or s; "-" for AQ_FIELD_UNSET. */
char *fmt_us(uint64_t us);
/* A time in nanoseconds, in ns, µs, ms or s. */
char *fmt_ns(uint64_t ns);
/* A per-second rate with one decimal below 1000, then whole, then M. */
char *fmt_rate(double v);

#endif /* AQSTAT_TEXT_H */
