/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pieces the test-side parsers of /proc/aqueue and /proc/aqueue_events
 * share: space-separated tokens, strict numbers, and "key value" lists in
 * which every key is known, appears once and is followed by a number.
 */
#ifndef AQ_FIELDS_H
#define AQ_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A non-negative decimal that fits int64_t; false unless the whole token
 * is one.
 */
bool aq_u64(const char *tok, int64_t *v);

/*
 * Splits line (modified) into at most max space-separated tokens; returns
 * max + 1 when there are more.
 */
int aq_tokens(char *line, char **tok, int max);

struct aq_kv {
	const char *key;
	int64_t *val;
};

/*
 * Parses "key value key value ..." into the listed keys: every key must be
 * known, appear once and be followed by a number; all must be present.
 * With extra, unknown keys (with a number) are tolerated and listed there.
 */
bool aq_parse_kv(char **tok, int ntok, const struct aq_kv *kv, int nkv,
		 char *extra, size_t extrasz, char *err, size_t errsz);

#endif /* AQ_FIELDS_H */
