// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A strict parser for the lines of /proc/aqueue_events: known events only,
 * every key known, each once, numbers that fit in 64 bits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_events.h"

static int num(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

static const char *const events[] = {
	"open", "close", "overflow", "overflow_end", "stall", "recover",
};

int aq_event_parse(const char *line, struct aq_event_line *e,
		   const char **why)
{
	char buf[1024], *tok[40], *p, *comm, *dot;
	uint64_t sec, nsec;
	int n = 0, known = 0;
	unsigned int seen = 0;

	memset(e, 0, sizeof(*e));
	e->drops = e->duration_ns = e->hol_age_ns = AQ_FIELD_UNSET;
	e->since_accept_ns = e->stalled_ns = AQ_FIELD_UNSET;
	e->group = e->group_room = AQ_FIELD_UNSET;
	e->port = -1;
	if (strlen(line) >= sizeof(buf)) {
		*why = "line too long";
		return -1;
	}
	strcpy(buf, line);
	comm = strstr(buf, " comm ");
	if (comm) {
		*comm = '\0';
		snprintf(e->comm, sizeof(e->comm), "%s", comm + 6);
	}
	for (p = strtok(buf, " "); p; p = strtok(NULL, " ")) {
		if (n == 40) {
			*why = "too many fields";
			return -1;
		}
		tok[n++] = p;
	}
	if (n < 3 || !(dot = strchr(tok[0], '.')) || strlen(dot + 1) != 9) {
		*why = "no SEC.NSEC timestamp";
		return -1;
	}
	*dot = '\0';
	if (num(tok[0], &sec) || num(dot + 1, &nsec)) {
		*why = "bad timestamp";
		return -1;
	}
	e->ts_ns = sec * 1000000000ULL + nsec;
	snprintf(e->event, sizeof(e->event), "%s", tok[1]);
	if (!strcmp(tok[1], "lost")) {
		if (n != 3 || comm || num(tok[2], &e->lost)) {
			*why = "bad lost line";
			return -1;
		}
		return 0;
	}
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		known |= !strcmp(tok[1], events[i]);
	if (!known) {
		*why = "unknown event";
		return -1;
	}
	if (!comm || (n - 2) % 2) {
		*why = "no comm, or a key without a value";
		return -1;
	}
	for (int i = 2; i < n; i += 2) {
		static const char *const keys[] = {
			"id", "netns", "proto", "local", "qnow", "backlog",
			"pid", "drops", "duration_ns", "hol_age_ns",
			"since_accept_ns", "stalled_ns", "group", "group_room",
		};
		uint64_t *vals[] = {
			&e->id, &e->netns, NULL, NULL, &e->qnow, &e->backlog,
			&e->pid, &e->drops, &e->duration_ns, &e->hol_age_ns,
			&e->since_accept_ns, &e->stalled_ns, &e->group,
			&e->group_room,
		};
		unsigned int k;

		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (!strcmp(tok[i], keys[k]))
				break;
		if (k == sizeof(keys) / sizeof(keys[0])) {
			*why = "unknown key";
			return -1;
		}
		if (seen & (1U << k)) {
			*why = "a key twice";
			return -1;
		}
		seen |= 1U << k;
		if (k == 2) {
			int found = 0;

			for (int pr = AQ_TCP; pr <= AQ_UNIX_SEQ; pr++)
				if (!strcmp(tok[i + 1], aq_proto_name(pr))) {
					e->proto = pr;
					found = 1;
				}
			if (!found) {
				*why = "unknown proto";
				return -1;
			}
		} else if (k == 3) {
			snprintf(e->local, sizeof(e->local), "%s", tok[i + 1]);
		} else if (num(tok[i + 1], vals[k])) {
			*why = "a value is not a number";
			return -1;
		}
	}
	if ((seen & 0x7f) != 0x7f) {
		*why = "a key is missing";
		return -1;
	}
	if (e->proto != AQ_UNIX && e->proto != AQ_UNIX_SEQ) {
		p = strrchr(e->local, ':');
		if (!p || num(p + 1, &sec) || sec > 65535) {
			*why = "local has no port";
			return -1;
		}
		e->port = (long)sec;
	}
	return 0;
}
