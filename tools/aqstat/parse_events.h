/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * One line of /proc/aqueue_events (see doc/interface.md, "Events"):
 *
 *   SEC.NSEC EVENT id N netns N proto P local L qnow N backlog N [KEY N...] pid N comm COMM
 *   SEC.NSEC lost N
 *
 * The timestamp is CLOCK_MONOTONIC; comm is the rest of the line.
 */
#ifndef AQSTAT_PARSE_EVENTS_H
#define AQSTAT_PARSE_EVENTS_H

#include <stdint.h>

#include "parse_proc.h"

struct aq_event_line {
	uint64_t ts_ns;
	char event[16];
	uint64_t lost;			/* "lost" lines */
	uint64_t id, netns, qnow, backlog, pid;
	enum aq_proto proto;
	long port;			/* -1 for unix */
	char local[512];
	char comm[64];
	/* AQ_FIELD_UNSET unless the event carries it */
	uint64_t drops, duration_ns, hol_age_ns, since_accept_ns, stalled_ns;
	/* overflow and stall: the reuseport group, the room its others have */
	uint64_t group, group_room;
};

/* Parses @line (no newline); 0, or -1 with a reason in @why. */
int aq_event_parse(const char *line, struct aq_event_line *e,
		   const char **why);

#endif /* AQSTAT_PARSE_EVENTS_H */
