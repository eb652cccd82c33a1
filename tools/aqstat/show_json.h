/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * -j: one JSON object with the global state, the closed listeners' totals
 * and each wanted listener with all its figures and histograms; -w -j and
 * events -j: one object a line (NDJSON). The schema, and its version:
 * doc/aqstat-json.md and aqstat.schema.json.
 */
#ifndef AQSTAT_SHOW_JSON_H
#define AQSTAT_SHOW_JSON_H

#include <stdio.h>
#include <time.h>

#include "parse_events.h"
#include "parse_proc.h"
#include "row_filter.h"
#include "cmd_watch.h"

/*
 * "schema_version" of every document: raised when a member changes its
 * meaning or type or goes away; new members do not raise it.
 */
#define AQSTAT_JSON_SCHEMA	1

/* A frame of -w -j. */
struct json_frame {
	long frame;			/* from 1 */
	struct timespec when;		/* CLOCK_REALTIME of the read */
	double interval_s;		/* since the last frame; < 0 in the first */
	const struct aq_rates *rates;	/* one for each listener shown */
};

/* @source: the file read, as the object's "source". */
int show_json(FILE *out, const struct aq_snapshot *s,
	      const struct aqs_filter *f, const char *source);
/* A frame of -w -j: the listeners @v[0..n), on one line. */
void show_json_frame(FILE *out, const struct aq_snapshot *s,
		     const struct aqs_row **v, size_t n,
		     const char *source, const struct json_frame *fr);
/* events -j: the event @e, which happened at @when, on one line. */
void show_json_event(FILE *out, const struct aq_event_line *e,
		     const struct timespec *when);

#endif /* AQSTAT_SHOW_JSON_H */
