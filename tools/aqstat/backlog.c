// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <string.h>

#include "backlog.h"
#include "fields.h"

void aq_backlog_view(const struct aqs_row *l, struct aq_backlog *b)
{
	memset(b, 0, sizeof(*b));
	if (!l->has_asked || !(aqs_kind(l) & AQ_K_CONN))
		return;
	b->known = 1;
	b->clamped = l->somaxconn > 0 && l->backlog_asked > l->somaxconn;
	b->full_drops = aqs_kind(l) == AQ_K_TCP ?
		aqs_sat_add(l->drops_syn_acceptq, l->drops_ack_acceptq) : l->drops;
	b->dropped = b->full_drops > 0;
	if (b->dropped)
		b->needed = aqs_sat_add(l->qpeak, b->full_drops - 1);
	/* a listen() again since the peak may have given it enough */
	if (b->dropped && b->needed <= l->backlog)
		b->limit = AQ_LIMIT_NONE;
	else if (b->clamped)
		b->limit = b->dropped && b->needed > l->backlog_asked ?
			   AQ_LIMIT_BOTH : AQ_LIMIT_SOMAXCONN;
	else if (!b->dropped)
		b->limit = AQ_LIMIT_NONE;
	else if (l->somaxconn > 0 && b->needed > l->somaxconn)
		b->limit = AQ_LIMIT_BOTH;
	else
		b->limit = AQ_LIMIT_BACKLOG;
}
