/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * A strict parser for /proc/aqueue (formats 1 to 3, see doc/interface.md
 * and include/aqueue_format.h). Malformed lines are reported and skipped,
 * never half-used: a row either parses completely or is dropped.
 */
#ifndef AQSTAT_PARSE_PROC_H
#define AQSTAT_PARSE_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../../include/aqueue_format.h"

#define AQ_FIELD_UNSET	UINT64_MAX	/* "-" in the p50/p99/max columns */

enum aq_proto {
	AQ_TCP, AQ_TCP6, AQ_UDP, AQ_UDP6, AQ_UNIX, AQ_UNIX_SEQ,
};

struct aqs_row {
	uint64_t id, netns;
	enum aq_proto proto;
	char *local;		/* as printed: 1.2.3.4:80, [::1]:80, a path */
	char *addr;		/* without brackets and port */
	long port;		/* -1 when the listener has none (unix) */
	uint64_t backlog, qnow, qpeak, enqueued, accepted, drops;
	uint64_t p50_us, p99_us, max_us;	/* AQ_FIELD_UNSET for "-" */
	uint64_t pid;
	char *comm;

	/* from the "listener ID ..." lines; has_* say which ones parsed */
	int has_detail, has_qlen, has_wait;
	uint64_t drops_syn_acceptq, drops_ack_acceptq, drops_other;
	uint64_t drained, untimed, resynced;
	/* format 3: handed over by reuseport; has_migrate says it was there */
	int has_migrate;
	uint64_t migrated_in, migrated_out;
	uint64_t observed_ns, qlen_area_ns, wait_sum_ns, waited;
	/* format 2: the live state; has_live says it was there */
	int has_live;
	uint64_t hol_age_ns, since_accept_ns, since_drop_ns;
	uint64_t stalled, overflowing;
	uint64_t ino;		/* the socket's inode number, or 0 */
	/*
	 * format 3, optional: the backlog listen() asked for (32 bits,
	 * unsigned: listen(fd, -1) is 2^32-1) and the net.core.somaxconn
	 * that capped it, 0 where the module saw no listen() call; both 0
	 * when the line lacks them, has_asked 0 then (an older module)
	 */
	int has_asked;
	uint64_t backlog_asked, somaxconn;
	/*
	 * format 3, optional: the smallest id among the tracked members of
	 * the listener's SO_REUSEPORT group (its own for a group of one), 0
	 * for a socket in no group or when the line lacks it
	 */
	uint64_t reuseport_group;
	uint64_t qlen[AQUEUE_QLEN_BUCKETS];
	uint64_t wait[AQUEUE_WAIT_BUCKETS];

	/* TCP listeners only: the "syn", "synq" and "handshake_ns" lines */
	int has_syn, has_synq, has_handshake;
	uint64_t synq_now, synq_full_drops, synq_full_cookies, syn_cookies;
	uint64_t synack_retrans, handshake_sum_ns, handshake_max_ns;
	uint64_t synq[AQUEUE_QLEN_BUCKETS];
	uint64_t handshake[AQUEUE_WAIT_BUCKETS];

	/* UDP sockets only: the "udp" and "qbytes" lines */
	int has_udp, has_qbytes;
	uint64_t rmem_now, drops_rcvbuf;
	uint64_t qbytes[AQUEUE_QLEN_BUCKETS];
};

struct aq_state {
	uint64_t enabled, tracked, max_listeners, untracked_listens;
	uint64_t untracked_events, filtered_events, memory_bytes;
	uint64_t max_memory_bytes, missed, resyncs;
};

struct aqs_closed {
	uint64_t listeners, enqueued, accepted, drained, drops;
	uint64_t migrated;	/* format 3 (0 before) */
};

struct aq_snapshot {
	uint64_t format;
	int has_state, has_closed;
	struct aq_state state;
	struct aqs_closed closed;
	struct aqs_row *l;
	size_t n, cap;
	/*
	 * id -> 1 + index in l (0: an empty slot), open addressing over
	 * nslots (a power of two, at least twice n): finding a listener by
	 * id costs the same for 10 listeners as for 65,536
	 */
	struct aq_slot {
		uint64_t id;
		size_t x;
	} *slot;
	size_t nslots;
	unsigned int malformed;	/* lines reported and skipped */
	/*
	 * Keys (and "listener ID KIND" kinds) this parser does not know, in
	 * lines it kept: a newer module's additions. The first one's name
	 * and line, for the one warning.
	 */
	unsigned int unknown_keys;
	char first_unknown[48];
	unsigned int first_unknown_line;
};

/*
 * One "KEY VALUE" field of a /proc/aqueue line: the uint64_t member at
 * @off of the struct the line fills, named @key (the member's name), and
 * the first format that has it. The tables end with a NULL key.
 */
struct aq_field {
	const char *key;
	size_t off;
	unsigned int format;
	int optional;		/* added within the format: may be absent */
};

/* The "syn" and "udp" lines' fields, in struct aqs_row. */
extern const struct aq_field aq_syn_fields[], aq_udp_fields[];

static inline uint64_t aq_field_get(const void *base, const struct aq_field *f)
{
	return *(const uint64_t *)((const char *)base + f->off);
}

enum aq_parse_result {
	AQ_PARSE_OK = 0,
	AQ_PARSE_NOT_AQUEUE,	/* empty, or the first line is not "aqueue format N" */
	AQ_PARSE_VERSION,	/* a format this parser does not know */
	AQ_PARSE_HEADER,	/* the table header is not the one of format 2 */
	AQ_PARSE_NOMEM,
};

/*
 * Parse @len bytes of @text (not NUL-terminated, may contain NULs) into
 * @s. Each malformed line is reported on @warn (if not NULL) as
 * "NAME:LINE: reason" and counted in s->malformed. On AQ_PARSE_VERSION
 * s->format holds the version seen (UINT64_MAX when it is out of range).
 */
enum aq_parse_result aqs_parse(const char *text, size_t len, const char *name,
			      FILE *warn, struct aq_snapshot *s);
void aq_snapshot_free(struct aq_snapshot *s);

/* The listener with id @id, or NULL; constant time. */
struct aqs_row *aq_snapshot_find(const struct aq_snapshot *s, uint64_t id);

/* After AQ_PARSE_VERSION: the input is of a format newer than this parser. */
static inline int aq_format_newer(const struct aq_snapshot *s)
{
	return s->format > AQUEUE_FORMAT_VERSION && s->format != UINT64_MAX;
}

const char *aq_proto_name(enum aq_proto p);

/* Bucket lower bounds, as printed in the qlen and wait_ns lines. */
uint64_t aq_qlen_low(unsigned int i);
uint64_t aq_wait_low(unsigned int i);

/* Read a whole file (procfs reports size 0); NULL and errno on failure. */
char *aq_read_file(const char *path, size_t *len);

/* A sum of parsed counters, which can be anything: at most UINT64_MAX. */
static inline uint64_t aqs_sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

#endif /* AQSTAT_PARSE_PROC_H */
