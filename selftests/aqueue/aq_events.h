/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading /proc/aqueue_events in the tests: a strict parser of its lines
 * (doc/interface.md, "Events") and a reader that collects them with poll(),
 * bounded in time only as a guard against a hang.
 */
#ifndef AQ_EVENTS_H
#define AQ_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "aqueue_format.h"

#define AQ_EVENTS_PATH	"/proc/" AQUEUE_EVENTS_PROC_NAME

struct __test_metadata;

struct aq_ev {
	int64_t ts_ns;
	char name[16];
	int64_t lost;			/* "lost N" lines only */
	int64_t id, netns, qnow, backlog, pid;
	char proto[12];
	char local[128];
	char comm[64];
	/* per event: -1 when the line does not carry it */
	int64_t drops, duration_ns, hol_age_ns, since_accept_ns, stalled_ns;
	int64_t group, group_room;	/* overflow and stall */
};

struct aq_evr {
	int fd;
	char buf[1 << 16];
	size_t len;
	struct aq_ev *ev;
	int n, cap;
};

int aq_evr_open(struct aq_evr *r);

void aq_evr_close(struct aq_evr *r);

/* Reads what is there now (never blocks); asserts every line parses. */
void aq_evr_drain(struct __test_metadata *_metadata, struct aq_evr *r);

/*
 * The index of the first event at or after `from` named `name` for
 * listener `id` (any id when 0), or -1.
 */
int aq_evr_find(const struct aq_evr *r, int from, const char *name,
		int64_t id);

/* Waits (bounded, a guard only) until such an event has come. */
int aq_evr_wait(struct __test_metadata *_metadata, struct aq_evr *r,
		const char *name, int64_t id, int guard_ms);

/* The events of listener id, of one name. */
int aq_evr_count(const struct aq_evr *r, const char *name, int64_t id);

#endif /* AQ_EVENTS_H */
