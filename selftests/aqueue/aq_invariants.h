/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every row of /proc/aqueue must satisfy, whatever the test: the
 * accounting identities of the format.
 */
#ifndef AQ_INVARIANTS_H
#define AQ_INVARIANTS_H

#include <stdbool.h>
#include <stddef.h>

#include "aq_proc.h"

/*
 * A read prints all table rows first, then all detail lines, each part of
 * a row under its own hold of the listener's lock: with traffic going only
 * the identities within a part hold. @quiet adds those across the two
 * parts, which hold when nothing moved during the read. 0, or -1 with err
 * saying which identity broke.
 */
int aq_row_invariants(const struct aq_row *r, bool quiet, char *err,
		      size_t errsz);

/* The closed totals' identity, and every row's (quiet). */
int aq_snap_invariants(const struct aq_snap *s, char *err, size_t errsz);

#endif /* AQ_INVARIANTS_H */
