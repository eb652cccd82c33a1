// SPDX-License-Identifier: GPL-2.0
/* Listeners and their waits in text; see text.h. */
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/socket.h>

#include "aqueue_format.h"
#include "text.h"
#include "table.h"

const char *aq_text_proto(const struct aq_listener *l)
{
	if (l->family == AF_UNIX)
		return l->type == SOCK_SEQPACKET ? "unix-seq" : "unix";
	if (l->type == SOCK_DGRAM)
		return l->family == AF_INET6 ? "udp6" : "udp";
	return l->family == AF_INET6 ? "tcp6" : "tcp";
}

/*
 * Bytes a user chose (a unix name, a process name) may be anything: write
 * control characters, backslashes, non-ASCII and, with @spaces, spaces as
 * \ooo (as /proc/mounts does), so that no line can be split or forged.
 * Returns the length written.
 */
static size_t aq_format_escaped(char *buf, size_t size, const char *s,
				size_t len, bool spaces)
{
	size_t out = 0, i;

	for (i = 0; i < len && out + 5 < size; i++) {
		unsigned char c = s[i];

		if (c < ' ' || c >= 0x7f || c == '\\' || (spaces && c == ' '))
			out += snprintf(buf + out, size - out, "\\%03o", c);
		else
			buf[out++] = c;
	}
	buf[out] = '\0';
	return out;
}

/* A unix name stays one token; abstract names start with '@'. */
static void aq_format_unix_path(char *buf, size_t size,
				const struct aq_listener *l)
{
	if (!l->path_len) {
		snprintf(buf, size, "-");
		return;
	}
	if (!l->path[0]) {
		buf[0] = '@';
		aq_format_escaped(buf + 1, size - 1, l->path + 1,
				  l->path_len - 1, true);
		return;
	}
	aq_format_escaped(buf, size, l->path, l->path_len, true);
}

void aq_text_comm(char *buf, size_t size, const char *comm)
{
	if (!aq_format_escaped(buf, size, comm, strnlen(comm, TASK_COMM_LEN),
			       false))
		snprintf(buf, size, "-");
}

void aq_text_local(char *buf, size_t size, const struct aq_listener *l)
{
	if (l->family == AF_UNIX)
		aq_format_unix_path(buf, size, l);
	else if (l->family == AF_INET6)
		snprintf(buf, size, "[%pI6c]:%u", &l->addr, ntohs(l->port));
	else
		snprintf(buf, size, "%pI4:%u", &l->addr.s6_addr32[0],
			 ntohs(l->port));
}

void aq_text_waits(struct aq_text_waits *w, const u64 *wait_hist,
		   u64 wait_max_ns)
{
	static const unsigned int pcts[] = { 50, 99 };
	char *const out[] = { w->p50, w->p99 };
	u64 total = 0, seen = 0, target, edge;
	unsigned int i, p;

	BUILD_BUG_ON(sizeof(w->p50) != sizeof(w->p99));
	for (i = 0; i < AQUEUE_WAIT_BUCKETS; i++)
		total += wait_hist[i];
	if (!total) {
		snprintf(w->p50, sizeof(w->p50), "-");
		snprintf(w->p99, sizeof(w->p99), "-");
		snprintf(w->max, sizeof(w->max), "-");
		return;
	}
	/* One walk of the buckets: the percentiles come in rising order. */
	i = 0;
	for (p = 0; p < ARRAY_SIZE(pcts); p++) {
		target = div_u64(total * pcts[p] + 99, 100);
		while (i < AQUEUE_WAIT_BUCKETS - 1 && seen + wait_hist[i] < target)
			seen += wait_hist[i++];
		/* No percentile lies above the longest wait. */
		edge = i == AQUEUE_WAIT_BUCKETS - 1 ? wait_max_ns :
		       min(1ULL << (i + AQUEUE_WAIT_SHIFT), wait_max_ns);
		snprintf(out[p], sizeof(w->p50), "%llu",
			 div_u64(edge + 999, 1000));
	}
	snprintf(w->max, sizeof(w->max), "%llu",
		 div_u64(wait_max_ns + 999, 1000));
}
