// SPDX-License-Identifier: GPL-2.0 OR MIT
#define _GNU_SOURCE
#include <langinfo.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "parse_proc.h"
#include "die.h"
#include "text.h"

static const char *micro = "u";	/* "µ" in a UTF-8 locale */
static int utf8;

void text_init(void)
{
	const char *cs = nl_langinfo(CODESET);

	utf8 = cs && (!strcasecmp(cs, "UTF-8") || !strcasecmp(cs, "utf8"));
	micro = utf8 ? "\xc2\xb5" : "u";
}

size_t utf8_len(const unsigned char *s)
{
	size_t n;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

char *printable(const char *s)
{
	char *o = xmalloc(strlen(s) + 1), *p = o;

	while (*s) {
		const unsigned char *u = (const unsigned char *)s;
		size_t n = utf8_len(u);

		if (u[0] < 0x20 || u[0] == 0x7f || !n || (n > 1 && !utf8)) {
			*p++ = '?';
			s++;
			continue;
		}
		memcpy(p, s, n);
		p += n;
		s += n;
	}
	*p = '\0';
	return o;
}

const char *ellipsis(void)
{
	return utf8 ? "\xe2\x80\xa6" : "~";
}

size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static int octal(char c)
{
	return c >= '0' && c <= '7';
}

size_t unoctal(const char *s, char *out)
{
	char *o = out;

	while (*s) {
		if (s[0] == '\\' && octal(s[1]) && octal(s[2]) && octal(s[3]) &&
		    s[1] <= '3') {
			*o++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return (size_t)(o - out);
}

void rfc3339(char buf[40], const struct timespec *ts)
{
	struct tm tm;
	size_t n;

	gmtime_r(&ts->tv_sec, &tm);
	n = strftime(buf, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, 40 - n, ".%06ldZ", ts->tv_nsec / 1000);
}

char *fmt_u64(uint64_t v)
{
	return xasprintf("%llu", (unsigned long long)v);
}

static char *fmt_scaled(double v, const char *unit)
{
	if (v < 10)
		return xasprintf("%.2f%s", v, unit);
	if (v < 100)
		return xasprintf("%.1f%s", v, unit);
	return xasprintf("%.0f%s", v, unit);
}

char *fmt_us(uint64_t us)
{
	if (us == AQ_FIELD_UNSET)
		return xstrdup("-");
	if (us < 1000)
		return xasprintf("%llu%ss", (unsigned long long)us, micro);
	if (us < 999500)
		return fmt_scaled((double)us / 1e3, "ms");
	return fmt_scaled((double)us / 1e6, "s");
}

char *fmt_ns(uint64_t ns)
{
	if (ns < 1000)
		return xasprintf("%lluns", (unsigned long long)ns);
	if (ns < 999500)
		return fmt_scaled((double)ns / 1e3, micro[0] == 'u' ? "us" : "\xc2\xb5s");
	if (ns < 999500000)
		return fmt_scaled((double)ns / 1e6, "ms");
	return fmt_scaled((double)ns / 1e9, "s");
}

char *fmt_rate(double v)
{
	if (v < 1000)
		return xasprintf("%.1f", v);
	if (v < 1e6)
		return xasprintf("%.0f", v);
	return fmt_scaled(v / 1e6, "M");
}
