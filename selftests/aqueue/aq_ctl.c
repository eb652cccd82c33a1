// SPDX-License-Identifier: GPL-2.0
#include "aq_harness.h"

#include <fcntl.h>
#include <inttypes.h>

#include "aq_ctl.h"
#include "aq_module.h"
#include "aq_snap.h"

int aq_ctl_write(const void *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(AQ_CONTROL_PATH, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	if (n < 0)
		n = -errno;
	else if ((size_t)n != len)
		n = -EMSGSIZE;
	else
		n = 0;
	close(fd);
	return n;
}

void aq_ctl_read(struct __test_metadata *_metadata, char *buf, size_t size)
{
	ssize_t n = aq_read_file(AQ_CONTROL_PATH, buf, size);

	ASSERT_LT(0, n) TH_LOG("reading %s: %s", AQ_CONTROL_PATH,
			       strerror(n < 0 ? -(int)n : EIO));
}

char *aq_ctl_line(const char *text, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p && *p) {
		const char *end = strchr(p, '\n');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n > klen && !strncmp(p, key, klen) && p[klen] == ' ') {
			n -= klen + 1;
			if (n >= size)
				n = size - 1;
			memcpy(out, p + klen + 1, n);
			out[n] = '\0';
			return out;
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

long long aq_ctl_value(struct __test_metadata *_metadata, const char *key)
{
	char buf[8192], val[128], *end;
	long long v;

	aq_ctl_read(_metadata, buf, sizeof(buf));
	ASSERT_NE(NULL, aq_ctl_line(buf, key, val, sizeof(val)))
		TH_LOG("no '%s' line in the control file:\n%s", key, buf);
	errno = 0;
	v = strtoll(val, &end, 10);
	ASSERT_TRUE(!errno && end != val && !*end)
		TH_LOG("'%s %s' is not a number", key, val);
	return v;
}

void aq_ctl_settings(struct __test_metadata *_metadata, char *out,
		     size_t size)
{
	char buf[8192], *line, *save = NULL;
	size_t used = 0;

	aq_ctl_read(_metadata, buf, sizeof(buf));
	out[0] = '\0';
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *hits = strstr(line, " hits ");

		if (!strncmp(line, "probe ", 6) && hits)
			*hits = '\0';
		used += snprintf(out + used, size - used, "%s\n", line);
		ASSERT_GT(size, used) TH_LOG("control file too long");
	}
}

/* The line of the kernel's kprobe list for `func`, or NULL. */
static const char *aq_kprobe_line(const char *list, const char *func,
				  char *type)
{
	const char *p = list;
	size_t flen = strlen(func);

	/* Lines read "ADDR  k  func+0x0    [module] [FLAGS]". */
	while (p && *p) {
		const char *end = strchr(p, '\n');
		char t[4], sym[160];

		if (sscanf(p, "%*s %3s %159s", t, sym) == 2 &&
		    !strncmp(sym, func, flen) && sym[flen] == '+') {
			*type = t[0];
			return p;
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

int aq_kprobe_listed(const char *list, const char *func)
{
	char type;

	return aq_kprobe_line(list, func, &type) ? type : 0;
}

int aq_kprobe_disabled(const char *list, const char *func)
{
	char type;
	const char *line = aq_kprobe_line(list, func, &type);
	const char *end, *flag;

	if (!line)
		return 0;
	end = strchr(line, '\n');
	flag = strstr(line, "[DISABLED]");
	return flag && (!end || flag < end);
}

int aq_ctl_probes(struct __test_metadata *_metadata,
		  struct aq_probe_line *out, int max)
{
	char buf[8192], *line, *save = NULL;
	int n = 0;

	aq_ctl_read(_metadata, buf, sizeof(buf));
	for (line = strtok_r(buf, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		struct aq_probe_line *p = &out[n];

		if (strncmp(line, "probe ", 6))
			continue;
		ASSERT_EQ(6, sscanf(line, "probe %63s %15s registered %d hits %lld missed %lld armed %d",
				    p->func, p->type, &p->registered,
				    &p->hits, &p->missed, &p->armed))
			TH_LOG("probe line does not parse: %s", line);
		n++;
	}
	return n;
}

/*
 * "Nothing changed": the fields of /proc/aqueue that only a command (or
 * traffic, which the tests keep away) can move. Returns NULL when the two
 * snapshots agree, else what differs.
 */
static const char *aq_snap_diff(const struct aq_snap *a,
				const struct aq_snap *b, char *why,
				size_t size)
{
	int i;

#define AQ_SAME(f) do {							\
	if (a->f != b->f) {						\
		snprintf(why, size, #f " %" PRId64 " -> %" PRId64,	\
			 (int64_t)a->f, (int64_t)b->f);			\
		return why;						\
	}								\
} while (0)
	AQ_SAME(enabled); AQ_SAME(tracked); AQ_SAME(max_listeners);
	AQ_SAME(untracked_listens); AQ_SAME(untracked_events);
	AQ_SAME(filtered_events); AQ_SAME(memory_bytes);
	AQ_SAME(max_memory_bytes); AQ_SAME(resyncs);
	AQ_SAME(closed_listeners); AQ_SAME(closed_enqueued);
	AQ_SAME(closed_accepted); AQ_SAME(closed_drained);
	AQ_SAME(closed_drops); AQ_SAME(nrows);
	for (i = 0; i < a->nrows; i++) {
		AQ_SAME(rows[i].id); AQ_SAME(rows[i].backlog);
		AQ_SAME(rows[i].qnow); AQ_SAME(rows[i].qpeak);
		AQ_SAME(rows[i].enqueued); AQ_SAME(rows[i].accepted);
		AQ_SAME(rows[i].drops); AQ_SAME(rows[i].drops_syn_acceptq);
		AQ_SAME(rows[i].drops_ack_acceptq);
		AQ_SAME(rows[i].drops_other); AQ_SAME(rows[i].untimed);
		AQ_SAME(rows[i].resynced); AQ_SAME(rows[i].wait_sum_ns);
		AQ_SAME(rows[i].p50_us); AQ_SAME(rows[i].p99_us);
		AQ_SAME(rows[i].max_us); AQ_SAME(rows[i].pid);
		/* A reset restarts the clock: it only moves forward. */
		if (b->rows[i].observed_ns < a->rows[i].observed_ns) {
			snprintf(why, size, "listener %" PRId64 " observed_ns went back: %" PRId64 " -> %" PRId64,
				 a->rows[i].id, a->rows[i].observed_ns,
				 b->rows[i].observed_ns);
			return why;
		}
		if (!aq_hist_same(&a->rows[i].qlen, &b->rows[i].qlen) ||
		    !aq_hist_same(&a->rows[i].wait, &b->rows[i].wait)) {
			snprintf(why, size, "listener %" PRId64 " histograms changed",
				 a->rows[i].id);
			return why;
		}
	}
#undef AQ_SAME
	return NULL;
}

void aq_world_read(struct __test_metadata *_metadata, struct aq_world *w)
{
	aq_ctl_settings(_metadata, w->settings, sizeof(w->settings));
	memset(&w->snap, 0, sizeof(w->snap));
	aq_snapshot(_metadata, &w->snap);
}

bool aq_world_unchanged(struct __test_metadata *_metadata,
			const struct aq_world *before, const char *what)
{
	struct aq_world *now = calloc(1, sizeof(*now));
	char why[256];
	bool same = true;

	if (!now)
		return false;
	aq_world_read(_metadata, now);
	if (strcmp(before->settings, now->settings)) {
		const char *a = before->settings, *b = now->settings;

		/* Only the lines that differ. */
		while (*a || *b) {
			size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");

			if (la != lb || strncmp(a, b, la))
				TH_LOG("%s: control file '%.*s' -> '%.*s'",
				       what, (int)la, a, (int)lb, b);
			a += la + (a[la] ? 1 : 0);
			b += lb + (b[lb] ? 1 : 0);
		}
		same = false;
	}
	if (aq_snap_diff(&before->snap, &now->snap, why, sizeof(why))) {
		TH_LOG("%s: /proc/aqueue changed: %s", what, why);
		same = false;
	}
	aq_snap_free(&now->snap);
	free(now);
	return same;
}
