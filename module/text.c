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

/* The bound of the bucket that holds the @pct-th percentile, or "-". */
static void aq_text_percentile(char *buf, size_t size, const u64 *wait_hist,
			       u64 wait_max_ns, unsigned int pct)
{
	u64 total = 0, seen = 0, target, edge;
	unsigned int i;

	for (i = 0; i < AQUEUE_WAIT_BUCKETS; i++)
		total += wait_hist[i];
	if (!total) {
		snprintf(buf, size, "-");
		return;
	}
	target = div_u64(total * pct + 99, 100);
	for (i = 0; i < AQUEUE_WAIT_BUCKETS - 1; i++) {
		seen += wait_hist[i];
		if (seen >= target)
			break;
	}
	/* No percentile lies above the longest wait. */
	edge = i == AQUEUE_WAIT_BUCKETS - 1 ? wait_max_ns :
	       min(1ULL << (i + AQUEUE_WAIT_SHIFT), wait_max_ns);
	snprintf(buf, size, "%llu", div_u64(edge + 999, 1000));
}

void aq_text_waits(struct aq_text_waits *w, const u64 *wait_hist,
		   u64 wait_max_ns)
{
	aq_text_percentile(w->p50, sizeof(w->p50), wait_hist, wait_max_ns, 50);
	aq_text_percentile(w->p99, sizeof(w->p99), wait_hist, wait_max_ns, 99);
	if (w->p50[0] == '-')
		snprintf(w->max, sizeof(w->max), "-");
	else
		snprintf(w->max, sizeof(w->max), "%llu",
			 div_u64(wait_max_ns + 999, 1000));
}
