/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /proc/aqueue as the tests see it: a strict parser of the whole file into
 * a snapshot (aq_proc.c says why it is the tests' own).
 */
#ifndef AQ_PROC_H
#define AQ_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aq_hist.h"

struct aq_row {
	int64_t id;
	int64_t netns;
	char proto[12];
	char local[80];
	int64_t backlog;
	int64_t qnow, qpeak, enqueued, accepted, drops;
	int64_t p50_us, p99_us, max_us;		/* -1 for "-" */
	int64_t pid;
	char comm[64];

	bool have_detail, have_qlen, have_wait;
	int64_t drops_syn_acceptq, drops_ack_acceptq, drops_other;
	int64_t drained, untimed, resynced;
	int64_t migrated_in, migrated_out;
	int64_t observed_ns, qlen_area_ns, wait_sum_ns, waited;
	/* format 2: the live state, at the end of the detail line */
	int64_t hol_age_ns, since_accept_ns, since_drop_ns, stalled;
	int64_t overflowing;
	int64_t ino;		/* the socket's inode number */
	int64_t backlog_asked, somaxconn;	/* what listen() asked; its cap */
	int64_t reuseport_group;	/* its group's smallest id, or 0 */
	struct aq_hist qlen, wait;

	/* TCP only */
	bool have_syn, have_synq, have_handshake;
	int64_t synq_now, synq_full_drops, synq_full_cookies, syn_cookies;
	int64_t synack_retrans, handshake_sum_ns, handshake_max_ns;
	struct aq_hist synq, handshake;

	/* UDP only */
	bool have_udp, have_qbytes;
	int64_t rmem_now, drops_rcvbuf;
	struct aq_hist qbytes;
};

struct aq_snap {
	int format;
	int64_t enabled, tracked, max_listeners, untracked_listens;
	int64_t untracked_events, filtered_events, memory_bytes;
	int64_t max_memory_bytes, missed, resyncs;
	int64_t closed_listeners, closed_enqueued, closed_accepted;
	int64_t closed_drained, closed_drops;
	int64_t closed_migrated;
	int nrows, cap;
	struct aq_row *rows;
	size_t bytes;		/* size of the text parsed */
	/*
	 * Keys of the state/closed lines that format 2 does not define; the
	 * parser tolerates them so that one test reports them and the others
	 * still run.
	 */
	char extra[256];
	char err[512];
};

void aq_snap_free(struct aq_snap *s);

/*
 * Parses text into s. strict: every row has exactly its listener lines and
 * no listener line names a missing row (a reader that races with listeners
 * opening and closing may see rows and detail lines of different moments:
 * pass strict=false then). Returns 0, or -1 with s->err set.
 */
int aq_parse(const char *text, struct aq_snap *s, bool strict);

/* The row of listener id, or NULL. */
struct aq_row *aq_snap_find_id(struct aq_snap *s, int64_t id);

#endif /* AQ_PROC_H */
