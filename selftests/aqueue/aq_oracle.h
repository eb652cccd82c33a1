/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading /proc/aqueue and the kernel's oracles "at the same moment": the
 * oracle is read before and after the snapshot and the pair is retried
 * until both oracle reads agree, so that a SYN retransmission landing in
 * between cannot make two correct numbers differ.
 */
#ifndef AQ_ORACLE_H
#define AQ_ORACLE_H

#include <stdbool.h>

#include "aq_diag.h"
#include "aq_proc.h"

struct aq_oracle {
	long long sk_drops;		/* SK_MEMINFO_DROPS of the listener */
	struct aq_listen_mib mib;	/* the namespace's counters */
	long rqueue;			/* sock_diag idiag_rqueue */
	long wqueue;			/* sock_diag idiag_wqueue */
};

void aq_oracle_read(struct __test_metadata *_metadata, int lfd,
		    struct aq_oracle *o);

bool aq_oracle_same(const struct aq_oracle *a, const struct aq_oracle *b);

/*
 * Fills o (and s, when the module is there: snapshot may be NULL without
 * it) from one quiet moment. Asserts that such a moment came.
 */
void aq_stable_read(struct __test_metadata *_metadata, int lfd,
		    struct aq_snap *s, struct aq_oracle *o);

#endif /* AQ_ORACLE_H */
