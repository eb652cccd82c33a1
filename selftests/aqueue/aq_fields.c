// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aq_fields.h"

bool aq_u64(const char *tok, int64_t *v)
{
	unsigned long long u;
	char *end;

	if (!tok || !isdigit((unsigned char)tok[0]))
		return false;
	errno = 0;
	u = strtoull(tok, &end, 10);
	if (errno || *end != '\0' || u > INT64_MAX)
		return false;
	*v = (int64_t)u;
	return true;
}

int aq_tokens(char *line, char **tok, int max)
{
	int n = 0;
	char *p = line;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		if (n == max)
			return max + 1;
		tok[n++] = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

bool aq_parse_kv(char **tok, int ntok, const struct aq_kv *kv, int nkv,
		 char *extra, size_t extrasz, char *err, size_t errsz)
{
	unsigned long long seen = 0;
	int i, k;

	if (ntok % 2) {
		snprintf(err, errsz, "odd number of key/value tokens");
		return false;
	}
	for (i = 0; i < ntok; i += 2) {
		for (k = 0; k < nkv; k++)
			if (!strcmp(tok[i], kv[k].key))
				break;
		if (k == nkv) {
			int64_t ignored;

			if (!extra) {
				snprintf(err, errsz, "unknown key '%s'", tok[i]);
				return false;
			}
			if (!aq_u64(tok[i + 1], &ignored)) {
				snprintf(err, errsz, "key '%s': '%s' is not a number",
					 tok[i], tok[i + 1]);
				return false;
			}
			if (strlen(extra) + strlen(tok[i]) + 2 < extrasz) {
				if (*extra)
					strcat(extra, " ");
				strcat(extra, tok[i]);
			}
			continue;
		}
		if (seen & (1ULL << k)) {
			snprintf(err, errsz, "key '%s' twice", tok[i]);
			return false;
		}
		if (!aq_u64(tok[i + 1], kv[k].val)) {
			snprintf(err, errsz, "key '%s': '%s' is not a number",
				 tok[i], tok[i + 1]);
			return false;
		}
		seen |= 1ULL << k;
	}
	for (k = 0; k < nkv; k++) {
		if (!(seen & (1ULL << k))) {
			snprintf(err, errsz, "key '%s' missing", kv[k].key);
			return false;
		}
	}
	return true;
}
