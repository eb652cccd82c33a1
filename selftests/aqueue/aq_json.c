// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aq_json.h"

struct aq_jparser {
	const char *p;
	char err[160];
};

static void aq_json_free_in(struct aq_json *v)
{
	int i;

	for (i = 0; i < v->n; i++)
		aq_json_free_in(&v->kids[i]);
	free(v->kids);
	free(v->str);
	free(v->key);
}

void aq_json_free(struct aq_json *v)
{
	if (v) {
		aq_json_free_in(v);
		free(v);
	}
}

static void aq_jws(struct aq_jparser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' ||
	       *ps->p == '\r')
		ps->p++;
}

#define AQ_JFAIL(ps, ...) do {						\
	snprintf((ps)->err, sizeof((ps)->err), __VA_ARGS__);		\
	return false;							\
} while (0)

static bool aq_jvalue(struct aq_jparser *ps, struct aq_json *v, int depth);

static bool aq_jstring(struct aq_jparser *ps, char **out)
{
	size_t cap = 32, n = 0;
	char *s = malloc(cap);

	if (!s)
		AQ_JFAIL(ps, "out of memory");
	ps->p++;	/* the opening quote */
	for (;;) {
		unsigned char c = *ps->p++;

		if (n + 8 > cap) {
			char *t = realloc(s, cap *= 2);

			if (!t) {
				free(s);
				AQ_JFAIL(ps, "out of memory");
			}
			s = t;
		}
		if (c == '"')
			break;
		if (c < 0x20) {
			free(s);
			AQ_JFAIL(ps, "control byte 0x%02x in a string", c);
		}
		if (c != '\\') {
			s[n++] = c;
			continue;
		}
		c = *ps->p++;
		switch (c) {
		case '"': case '\\': case '/': s[n++] = c; break;
		case 'b': s[n++] = '\b'; break;
		case 'f': s[n++] = '\f'; break;
		case 'n': s[n++] = '\n'; break;
		case 'r': s[n++] = '\r'; break;
		case 't': s[n++] = '\t'; break;
		case 'u': {
			unsigned int u = 0, k;

			for (k = 0; k < 4; k++) {
				char h = *ps->p++;

				u <<= 4;
				if (h >= '0' && h <= '9')
					u |= h - '0';
				else if (h >= 'a' && h <= 'f')
					u |= h - 'a' + 10;
				else if (h >= 'A' && h <= 'F')
					u |= h - 'A' + 10;
				else {
					free(s);
					AQ_JFAIL(ps, "bad \\u escape");
				}
			}
			/* Enough for the tests: BMP only, as UTF-8. */
			if (u < 0x80) {
				s[n++] = u;
			} else if (u < 0x800) {
				s[n++] = 0xc0 | (u >> 6);
				s[n++] = 0x80 | (u & 0x3f);
			} else {
				s[n++] = 0xe0 | (u >> 12);
				s[n++] = 0x80 | ((u >> 6) & 0x3f);
				s[n++] = 0x80 | (u & 0x3f);
			}
			break;
		}
		default:
			free(s);
			AQ_JFAIL(ps, "bad escape \\%c", c);
		}
	}
	s[n] = '\0';
	*out = s;
	return true;
}

static bool aq_jnumber(struct aq_jparser *ps, struct aq_json *v)
{
	const char *start = ps->p, *q = ps->p;
	bool is_int = true;
	char *end;

	if (*q == '-')
		q++;
	if (*q == '0')
		q++;
	else if (*q >= '1' && *q <= '9')
		while (*q >= '0' && *q <= '9')
			q++;
	else
		AQ_JFAIL(ps, "bad number");
	if (*q == '.') {
		is_int = false;
		q++;
		if (*q < '0' || *q > '9')
			AQ_JFAIL(ps, "bad fraction");
		while (*q >= '0' && *q <= '9')
			q++;
	}
	if (*q == 'e' || *q == 'E') {
		is_int = false;
		q++;
		if (*q == '+' || *q == '-')
			q++;
		if (*q < '0' || *q > '9')
			AQ_JFAIL(ps, "bad exponent");
		while (*q >= '0' && *q <= '9')
			q++;
	}
	v->type = AQ_JNUM;
	v->d = strtod(start, &end);
	if (is_int) {
		errno = 0;
		v->i = strtoll(start, &end, 10);
		v->is_int = !errno;
	}
	ps->p = q;
	return true;
}

static bool aq_jpush(struct aq_jparser *ps, struct aq_json *v,
		     struct aq_json **kid)
{
	if (v->n == v->cap) {
		int cap = v->cap ? v->cap * 2 : 8;
		struct aq_json *k = realloc(v->kids, cap * sizeof(*k));

		if (!k)
			AQ_JFAIL(ps, "out of memory");
		v->kids = k;
		v->cap = cap;
	}
	*kid = &v->kids[v->n++];
	memset(*kid, 0, sizeof(**kid));
	return true;
}

static bool aq_jvalue(struct aq_jparser *ps, struct aq_json *v, int depth)
{
	struct aq_json *kid;

	if (depth > 64)
		AQ_JFAIL(ps, "nested too deep");
	aq_jws(ps);
	switch (*ps->p) {
	case '{':
		v->type = AQ_JOBJ;
		ps->p++;
		aq_jws(ps);
		if (*ps->p == '}') {
			ps->p++;
			return true;
		}
		for (;;) {
			char *key;

			aq_jws(ps);
			if (*ps->p != '"')
				AQ_JFAIL(ps, "object key expected");
			if (!aq_jstring(ps, &key))
				return false;
			if (!aq_jpush(ps, v, &kid)) {
				free(key);
				return false;
			}
			kid->key = key;
			aq_jws(ps);
			if (*ps->p++ != ':')
				AQ_JFAIL(ps, "':' expected after \"%s\"", key);
			if (!aq_jvalue(ps, kid, depth + 1))
				return false;
			aq_jws(ps);
			if (*ps->p == ',') {
				ps->p++;
				continue;
			}
			if (*ps->p++ == '}')
				return true;
			AQ_JFAIL(ps, "',' or '}' expected");
		}
	case '[':
		v->type = AQ_JARR;
		ps->p++;
		aq_jws(ps);
		if (*ps->p == ']') {
			ps->p++;
			return true;
		}
		for (;;) {
			if (!aq_jpush(ps, v, &kid) ||
			    !aq_jvalue(ps, kid, depth + 1))
				return false;
			aq_jws(ps);
			if (*ps->p == ',') {
				ps->p++;
				continue;
			}
			if (*ps->p++ == ']')
				return true;
			AQ_JFAIL(ps, "',' or ']' expected");
		}
	case '"':
		v->type = AQ_JSTR;
		return aq_jstring(ps, &v->str);
	case 't':
		if (strncmp(ps->p, "true", 4))
			break;
		ps->p += 4;
		v->type = AQ_JBOOL;
		v->i = 1;
		return true;
	case 'f':
		if (strncmp(ps->p, "false", 5))
			break;
		ps->p += 5;
		v->type = AQ_JBOOL;
		return true;
	case 'n':
		if (strncmp(ps->p, "null", 4))
			break;
		ps->p += 4;
		v->type = AQ_JNULL;
		return true;
	default:
		return aq_jnumber(ps, v);
	}
	AQ_JFAIL(ps, "unexpected '%.10s'", ps->p);
}

struct aq_json *aq_json_parse(const char *text, char *err, size_t errsz)
{
	struct aq_jparser ps = { .p = text };
	struct aq_json *v = calloc(1, sizeof(*v));

	if (!v) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	if (!aq_jvalue(&ps, v, 0)) {
		snprintf(err, errsz, "at byte %zu: %s", (size_t)(ps.p - text),
			 ps.err);
		aq_json_free(v);
		return NULL;
	}
	aq_jws(&ps);
	if (*ps.p) {
		snprintf(err, errsz, "text after the value at byte %zu",
			 (size_t)(ps.p - text));
		aq_json_free(v);
		return NULL;
	}
	return v;
}

struct aq_json *aq_json_get(const struct aq_json *v, const char *key)
{
	int i;

	if (!v || v->type != AQ_JOBJ)
		return NULL;
	for (i = 0; i < v->n; i++)
		if (!strcmp(v->kids[i].key, key))
			return &v->kids[i];
	return NULL;
}

int aq_json_count_key(const struct aq_json *v, const char *key)
{
	int i, n = 0;

	for (i = 0; v && v->type == AQ_JOBJ && i < v->n; i++)
		n += !strcmp(v->kids[i].key, key);
	return n;
}
