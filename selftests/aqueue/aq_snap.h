/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A snapshot of /proc/aqueue: read, parsed strictly and checked against
 * the format's identities (or, for threads, only parsed), and a listener's
 * row in it.
 */
#ifndef AQ_SNAP_H
#define AQ_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aq_proc.h"

struct __test_metadata;

/*
 * Reads (with read()s of chunk bytes) and parses /proc/aqueue strictly,
 * and checks the identities of every row (aq_invariants.h).
 */
void aq_snapshot_chunked(struct __test_metadata *_metadata, struct aq_snap *s,
			 size_t chunk);
void aq_snapshot(struct __test_metadata *_metadata, struct aq_snap *s);

/* /proc/aqueue parsed without assertions (for threads); 0 or -1. */
int aq_try_snapshot(struct aq_snap *s, bool strict, char *err, size_t errsz);

/* The rows of one listener identity (netns, proto, local). */
int aq_count_rows(const struct aq_snap *s, int64_t netns, const char *proto,
		  const char *local);

/* The one row of a listener identity; asserts there is exactly one. */
struct aq_row *aq_the_row(struct __test_metadata *_metadata, struct aq_snap *s,
			  int64_t netns, const char *proto, const char *local);

/* The one row of a TCP or UDP socket fd (its netns must be the caller's). */
struct aq_row *aq_row_of(struct __test_metadata *_metadata, struct aq_snap *s,
			 int fd);

/*
 * The row of socket @fd, found by its inode: the members of a reuseport
 * group share an address. Asserts there is one.
 */
struct aq_row *aq_row_of_ino(struct __test_metadata *_metadata,
			     struct aq_snap *s, int fd);

/* The row of TCP listener lfd in s, or NULL: "no row" is a result. */
struct aq_row *aq_find_row(struct aq_snap *s, int lfd);

#endif /* AQ_SNAP_H */
