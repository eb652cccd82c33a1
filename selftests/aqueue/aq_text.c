// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "aq_text.h"

const char *aq_show_bytes(const void *p, size_t len, char *out, size_t size)
{
	const unsigned char *b = p;
	size_t i, o = 0;

	for (i = 0; i < len && o + 12 < size; i++) {
		if (b[i] == '\n')
			o += snprintf(out + o, size - o, "\\n");
		else if (b[i] == '\t')
			o += snprintf(out + o, size - o, "\\t");
		else if (b[i] == '\\')
			o += snprintf(out + o, size - o, "\\\\");
		else if (b[i] < 0x20 || b[i] >= 0x7f)
			o += snprintf(out + o, size - o, "\\x%02x", b[i]);
		else
			out[o++] = b[i];
	}
	if (i < len)
		o += snprintf(out + o, size - o, "...(%zu bytes)", len);
	/* snprintf() says what it would have written: stay inside. */
	if (o >= size)
		o = size - 1;
	out[o] = '\0';
	return out;
}

const char *aq_find_pointer(const char *text, char *what, size_t size)
{
	const char *p = text;

	while (*p) {
		const char *start = p;
		size_t hex = 0, dec = 0;
		bool prefixed = false;

		if (!isalnum((unsigned char)*p)) {
			p++;
			continue;
		}
		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
			prefixed = true;
			p += 2;
		}
		while (isxdigit((unsigned char)p[hex]))
			hex++;
		while (isdigit((unsigned char)p[dec]))
			dec++;
		if ((prefixed && hex >= 8) ||
		    (!prefixed && hex == 16 && dec != 16 &&
		     !isalnum((unsigned char)p[16])) ||
		    (!prefixed && dec == hex && dec >= 19 &&
		     (dec > 19 || strncmp(p, "9223372036854775808", 19) >= 0))) {
			size_t n = (p - start) + hex;

			if (n >= size)
				n = size - 1;
			memcpy(what, start, n);
			what[n] = '\0';
			return what;
		}
		/* Skip the rest of this alphanumeric token. */
		p = start;
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
	}
	return NULL;
}
