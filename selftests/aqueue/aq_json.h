/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small, strict JSON reader (RFC 8259) for checking aqstat -j in the
 * guest, which has no python: parses the whole text into a tree, refuses
 * anything that is not JSON (trailing commas, bare words, control bytes in
 * strings, text after the value), and keeps numbers both as text and as
 * int64 when they are integers.
 */
#ifndef AQ_JSON_H
#define AQ_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum aq_jtype { AQ_JNULL, AQ_JBOOL, AQ_JNUM, AQ_JSTR, AQ_JARR, AQ_JOBJ };

struct aq_json {
	enum aq_jtype type;
	bool is_int;
	int64_t i;
	double d;
	char *str;		/* string value (decoded), or a member's key */
	struct aq_json *kids;	/* array items / object members */
	int n, cap;
	char *key;		/* set on object members */
};

/* Parses text; NULL with err filled when it is not exactly one JSON value. */
struct aq_json *aq_json_parse(const char *text, char *err, size_t errsz);

void aq_json_free(struct aq_json *v);

/* Member `key` of an object (NULL if absent or v is not an object). */
struct aq_json *aq_json_get(const struct aq_json *v, const char *key);

/* How many members named key (a strict object has each once). */
int aq_json_count_key(const struct aq_json *v, const char *key);

#endif /* AQ_JSON_H */
