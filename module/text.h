/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How a listener is named and its waits summed up in text, the same in
 * /proc/aqueue, in the event stream and in the kernel log.
 */
#ifndef AQUEUE_TEXT_H
#define AQUEUE_TEXT_H

#include <linux/sched.h>
#include <linux/types.h>

#include "sock.h"

struct aq_listener;

/* The longest local field: '@', a unix name of octal escapes, a NUL. */
#define AQ_LOCAL_MAX	(2 + 4 * AQ_UNIX_PATH_MAX)

/* tcp, tcp6, udp, udp6, unix or unix-seq. */
const char *aq_text_proto(const struct aq_listener *l);
/*
 * ADDRESS:PORT, [ADDRESS]:PORT, or a unix name: a filesystem path, an
 * abstract name after '@', "-" when unbound; one token, its unusual bytes
 * escaped as \ooo. Reads only the identity, which does not change.
 */
void aq_text_local(char *buf, size_t size, const struct aq_listener *l);
/* Room for a process name whose every byte is escaped, and a NUL. */
#define AQ_COMM_MAX	(4 * TASK_COMM_LEN + 1)

/*
 * A process name as the last field of a line: its control characters,
 * backslashes and non-ASCII bytes escaped as \ooo, "-" when empty.
 */
void aq_text_comm(char *buf, size_t size, const char *comm);
/*
 * A row's times in queue, in microseconds: P50 and P99 (the upper edge of
 * the percentile's bucket, or the longest wait where that is smaller) and
 * the longest; "-" when there was none.
 */
struct aq_text_waits {
	char p50[24];
	char p99[24];
	char max[24];
};

void aq_text_waits(struct aq_text_waits *w, const u64 *wait_hist,
		   u64 wait_max_ns);

#endif /* AQUEUE_TEXT_H */
