// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdio.h>

#include "aq_invariants.h"

int aq_row_invariants(const struct aq_row *r, bool quiet, char *err,
		      size_t errsz)
{
	int64_t timed = aq_hist_total(&r->wait);

#define AQ_INV(cond, fmt, ...) do {					\
	if (!(cond)) {							\
		snprintf(err, errsz, "listener %" PRId64 " (%s %s): " fmt,	\
			 r->id, r->proto, r->local, ##__VA_ARGS__);	\
		return -1;						\
	}								\
} while (0)
#define AQ_INV_QUIET(cond, fmt, ...) do {				\
	if (quiet)							\
		AQ_INV(cond, fmt, ##__VA_ARGS__);			\
} while (0)

	/* migrated_out moves only while the listener closes */
	AQ_INV(r->enqueued == r->accepted + r->qnow + r->migrated_out,
	       "enqueued %" PRId64 " != accepted %" PRId64 " + qnow %" PRId64 " + migrated_out %" PRId64,
	       r->enqueued, r->accepted, r->qnow, r->migrated_out);
	AQ_INV(r->qpeak >= r->qnow, "qpeak %" PRId64 " < qnow %" PRId64,
	       r->qpeak, r->qnow);
	AQ_INV_QUIET(r->drops == r->drops_syn_acceptq + r->drops_ack_acceptq +
			   r->drops_other,
	       "drops %" PRId64 " != syn %" PRId64 " + ack %" PRId64 " + other %" PRId64,
	       r->drops, r->drops_syn_acceptq, r->drops_ack_acceptq,
	       r->drops_other);
	AQ_INV(r->drained == 0, "live listener with drained %" PRId64,
	       r->drained);
	AQ_INV(r->stalled <= 1 && r->overflowing <= 1,
	       "stalled %" PRId64 ", overflowing %" PRId64 " not 0 or 1",
	       r->stalled, r->overflowing);
	AQ_INV_QUIET(r->qnow || (r->hol_age_ns == 0 && !r->stalled),
	       "empty queue with hol_age_ns %" PRId64 ", stalled %" PRId64,
	       r->hol_age_ns, r->stalled);
	/*
	 * No "overflowing implies drops": a reset zeroes the drops of a
	 * burst that is still going on, and live state outlives a reset.
	 */
	AQ_INV_QUIET(r->untimed <= r->accepted, "untimed %" PRId64 " > accepted %" PRId64,
	       r->untimed, r->accepted);
	AQ_INV_QUIET(timed == r->accepted - r->untimed,
	       "wait_ns histogram holds %" PRId64 ", accepted %" PRId64 " - untimed %" PRId64,
	       timed, r->accepted, r->untimed);
	if (r->accepted == 0) {
		AQ_INV(r->p50_us == -1 && r->p99_us == -1 && r->max_us == -1,
		       "nothing accepted but p50/p99/max %" PRId64 "/%" PRId64 "/%" PRId64,
		       r->p50_us, r->p99_us, r->max_us);
	}
	if (timed && quiet) {
		const struct aq_hist *h = &r->wait;
		int64_t top = h->low[h->n - 1];
		bool p50_edge = false, p99_edge = false;
		int i;

		AQ_INV(r->p50_us >= 0 && r->p99_us >= 0 && r->max_us >= 0,
		       "timed accepts but p50/p99/max '-'");
		AQ_INV(r->p50_us <= r->p99_us, "p50 %" PRId64 " > p99 %" PRId64,
		       r->p50_us, r->p99_us);
		/*
		 * p50/p99: the upper edge (µs, floor or ceil) of a
		 * non-empty bucket, or the longest wait where that is less.
		 */
		AQ_INV(r->p99_us <= r->max_us, "p99 %" PRId64 " > max %" PRId64,
		       r->p99_us, r->max_us);
		if (r->p50_us == r->max_us)
			p50_edge = true;
		if (r->p99_us == r->max_us)
			p99_edge = true;
		for (i = 0; i < h->n; i++) {
			int64_t hi = aq_wait_bucket_hi(h->low[i]);
			int64_t f = hi / 1000, c = (hi + 999) / 1000;

			if (r->p50_us == f || r->p50_us == c)
				p50_edge = true;
			if (r->p99_us == f || r->p99_us == c)
				p99_edge = true;
		}
		AQ_INV(p50_edge, "p50_us %" PRId64 " is no non-empty bucket's upper edge",
		       r->p50_us);
		AQ_INV(p99_edge, "p99_us %" PRId64 " is no non-empty bucket's upper edge",
		       r->p99_us);
		/* max within the top non-empty bucket. */
		AQ_INV((int64_t)r->max_us >= top / 1000 &&
		       (int64_t)r->max_us <= (aq_wait_bucket_hi(top) + 999) / 1000,
		       "max_us %" PRId64 " outside the top bucket [%" PRId64 ", %" PRId64 ") ns",
		       r->max_us, top, aq_wait_bucket_hi(top));
		/*
		 * Each timed wait lies in its bucket, the longest at most
		 * max_us: so does their sum.
		 */
		{
			int64_t lo_sum = 0, hi_sum = 0;

			for (i = 0; i < h->n; i++) {
				int64_t hi = i == h->n - 1 ?
					(int64_t)(r->max_us + 1) * 1000 :
					aq_wait_bucket_hi(h->low[i]);

				lo_sum += h->count[i] * h->low[i];
				hi_sum += h->count[i] * hi;
			}
			AQ_INV(r->wait_sum_ns >= lo_sum &&
			       r->wait_sum_ns <= hi_sum,
			       "wait_sum_ns %" PRId64 " outside [%" PRId64 ", %" PRId64 "] that the histogram and max_us allow",
			       r->wait_sum_ns, lo_sum, hi_sum);
		}
	} else if (!timed) {
		AQ_INV(r->wait_sum_ns == 0, "no timed accept but wait_sum_ns %" PRId64,
		       r->wait_sum_ns);
	}
	if (r->have_handshake) {
		const struct aq_hist *h = &r->handshake;
		int64_t n = aq_hist_total(h);

		/* Counted as the child joins the accept queue. */
		AQ_INV_QUIET(n <= r->enqueued,
		       "%" PRId64 " handshakes but %" PRId64 " enqueued", n,
		       r->enqueued);
		if (n) {
			int64_t top = h->low[h->n - 1];

			AQ_INV(r->handshake_max_ns >= top &&
			       r->handshake_max_ns < aq_wait_bucket_hi(top),
			       "handshake_max_ns %" PRId64 " outside the top bucket [%" PRId64 ", %" PRId64 ")",
			       r->handshake_max_ns, top, aq_wait_bucket_hi(top));
			AQ_INV(r->handshake_sum_ns >= r->handshake_max_ns &&
			       r->handshake_sum_ns <= n * r->handshake_max_ns,
			       "handshake_sum_ns %" PRId64 " for %" PRId64 " handshakes of at most %" PRId64,
			       r->handshake_sum_ns, n, r->handshake_max_ns);
		} else {
			AQ_INV(r->handshake_sum_ns == 0 &&
			       r->handshake_max_ns == 0,
			       "no handshake but sum/max %" PRId64 "/%" PRId64,
			       r->handshake_sum_ns, r->handshake_max_ns);
		}
	}
#undef AQ_INV_QUIET
#undef AQ_INV
	return 0;
}

int aq_snap_invariants(const struct aq_snap *s, char *err, size_t errsz)
{
	int i;

	if (s->closed_enqueued != s->closed_accepted + s->closed_drained +
				  s->closed_migrated) {
		snprintf(err, errsz,
			 "closed: enqueued %" PRId64 " != accepted %" PRId64 " + drained %" PRId64 " + migrated %" PRId64,
			 s->closed_enqueued, s->closed_accepted,
			 s->closed_drained, s->closed_migrated);
		return -1;
	}
	if (s->enabled > 1) {
		snprintf(err, errsz, "enabled %" PRId64, s->enabled);
		return -1;
	}
	for (i = 0; i < s->nrows; i++)
		if (aq_row_invariants(&s->rows[i], true, err, errsz))
			return -1;
	return 0;
}
