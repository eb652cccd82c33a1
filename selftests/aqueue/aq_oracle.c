// SPDX-License-Identifier: GPL-2.0
#include "aq_harness.h"

#include "aq_oracle.h"
#include "aq_snap.h"

void aq_oracle_read(struct __test_metadata *_metadata, int lfd,
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

bool aq_oracle_same(const struct aq_oracle *a, const struct aq_oracle *b)
{
	return a->sk_drops == b->sk_drops && a->rqueue == b->rqueue &&
	       a->wqueue == b->wqueue && a->mib.drops == b->mib.drops &&
	       a->mib.overflows == b->mib.overflows;
}

void aq_stable_read(struct __test_metadata *_metadata, int lfd,
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
