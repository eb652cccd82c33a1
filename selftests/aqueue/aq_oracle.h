/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading /proc/aqueue and the kernel's oracles "at the same moment": the
 * oracle is read before and after the snapshot and the pair is retried
 * until both oracle reads agree, so that a SYN retransmission landing in
 * between cannot make two correct numbers differ.
 */
#ifndef AQ_ORACLE_H
#define AQ_ORACLE_H

#include "aq_proc.h"

struct aq_oracle {
	long long sk_drops;		/* SK_MEMINFO_DROPS of the listener */
	struct aq_listen_mib mib;	/* the namespace's counters */
	long rqueue;			/* sock_diag idiag_rqueue */
	long wqueue;			/* sock_diag idiag_wqueue */
};

static inline void aq_oracle_read(struct __test_metadata *_metadata, int lfd,
				  struct aq_oracle *o)
{
	struct aq_diag d;

	o->sk_drops = aq_sk_drops(lfd);
	ASSERT_LE(0, o->sk_drops) TH_LOG("SO_MEMINFO: %s", strerror(errno));
	aq_listen_mib(_metadata, &o->mib);
	ASSERT_EQ(0, aq_diag_of(lfd, &d)) TH_LOG("listener not in sock_diag");
	o->rqueue = d.rqueue;
	o->wqueue = d.wqueue;
}

static inline bool aq_oracle_same(const struct aq_oracle *a,
				  const struct aq_oracle *b)
{
	return a->sk_drops == b->sk_drops && a->rqueue == b->rqueue &&
	       a->wqueue == b->wqueue && a->mib.drops == b->mib.drops &&
	       a->mib.overflows == b->mib.overflows;
}

/*
 * Fills o (and s, when the module is there: snapshot may be NULL without
 * it) from one quiet moment. Asserts that such a moment came.
 */
static inline void aq_stable_read(struct __test_metadata *_metadata, int lfd,
				  struct aq_snap *s, struct aq_oracle *o)
{
	struct aq_oracle after;
	int tries;

	for (tries = 0; tries < 50; tries++) {
		aq_oracle_read(_metadata, lfd, o);
		if (s)
			aq_snapshot(_metadata, s);
		aq_oracle_read(_metadata, lfd, &after);
		if (aq_oracle_same(o, &after))
			return;
		if (s)
			aq_snap_free(s);
		usleep(20000);
	}
	ASSERT_TRUE(0) TH_LOG("the listener never stayed quiet for one read");
}

#endif /* AQ_ORACLE_H */
