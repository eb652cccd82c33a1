// SPDX-License-Identifier: GPL-2.0 OR MIT
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "parse_events.h"
#include "die.h"
#include "cmd_events.h"
#include "show_json.h"
#include "text.h"

/* AQSTAT_EVENTS names a saved stream (read to its end) instead. */
static int events_from_file(void)
{
	const char *env = getenv("AQSTAT_EVENTS");

	return env && *env;
}

static const char *events_path(void)
{
	return events_from_file() ? getenv("AQSTAT_EVENTS") :
				    "/proc/" AQUEUE_EVENTS_PROC_NAME;
}

/*
 * An overflow or a stall of one member of a reuseport group while the
 * others could take more: the kernel's hash keeps sending it its share.
 */
static char *with_group_room(char *what, const struct aq_event_line *e)
{
	char *d;

	if (e->group == AQ_FIELD_UNSET || !e->group || !e->group_room)
		return what;
	d = xasprintf("%s; the rest of group %llu has room for %llu", what,
		      (unsigned long long)e->group,
		      (unsigned long long)e->group_room);
	free(what);
	return d;
}

/* What the event says beyond its name, for a person. */
static char *event_detail(const struct aq_event_line *e)
{
	char *a, *b, *d;

	if (!strcmp(e->event, "open"))
		return xstrdup("listening");
	if (!strcmp(e->event, "close"))
		return xstrdup("closed");
	if (!strcmp(e->event, "overflow"))
		return with_group_room(e->drops > 1 ?
			xasprintf("dropping (%llu at once)", (unsigned long long)e->drops) :
			xstrdup("dropping"), e);
	if (!strcmp(e->event, "overflow_end")) {
		a = fmt_ns(e->duration_ns);
		d = xasprintf("%llu drop%s in %s", (unsigned long long)e->drops,
			      e->drops == 1 ? "" : "s", a);
		free(a);
		return d;
	}
	if (!strcmp(e->event, "stall")) {
		a = fmt_ns(e->hol_age_ns);
		b = fmt_ns(e->since_accept_ns);
		d = xasprintf("head waiting %s, no accept for %s", a, b);
		free(a);
		free(b);
		return with_group_room(d, e);
	}
	if (!strcmp(e->event, "recover")) {
		a = fmt_ns(e->stalled_ns);
		d = xasprintf("accepting again after %s stalled", a);
		free(a);
		return d;
	}
	return xstrdup("");
}

static void event_print(const struct aq_event_line *e, const char *raw,
			int as_raw, double mono_to_real, uint64_t own_netns)
{
	char when[32], queue[48], *detail, *local, *comm;
	double t = (double)e->ts_ns / 1e9 + mono_to_real;
	time_t sec = (time_t)t;
	struct tm tm;

	if (as_raw) {
		printf("%s\n", raw);
		return;
	}
	localtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	if (!strcmp(e->event, "lost")) {
		printf("%s.%03d  %-12s %llu events lost: this reader was too slow\n",
		       when, (int)((t - (double)sec) * 1000), "lost",
		       (unsigned long long)e->lost);
		return;
	}
	detail = event_detail(e);
	local = printable(e->local);
	comm = printable(e->comm);
	snprintf(queue, sizeof(queue), "%llu/%llu", (unsigned long long)e->qnow,
		 (unsigned long long)e->backlog);
	printf("%s.%03d  %-12s %-5s %-22s %9s %7llu %-15s %s",
	       when, (int)((t - (double)sec) * 1000), e->event,
	       aq_proto_name(e->proto), local, queue,
	       (unsigned long long)e->pid, comm, detail);
	if (e->netns != own_netns)
		printf(" [netns %llu]", (unsigned long long)e->netns);
	putchar('\n');
	free(detail);
	free(local);
	free(comm);
}

/* The wall-clock time of @e, by the offset between the two clocks. */
static void event_json(const struct aq_event_line *e, int64_t mono_to_real_ns)
{
	int64_t ns = (int64_t)e->ts_ns + mono_to_real_ns;
	struct timespec when = {
		.tv_sec = (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000),
	};

	if (when.tv_nsec < 0) {
		when.tv_sec--;
		when.tv_nsec += 1000000000;
	}
	show_json_event(stdout, e, &when);
}

int events(const struct events_opts *o)
{
	const char *path = events_path();
	struct aqs_row filt;
	struct timespec mono, real;
	uint64_t own_netns = 0;
	size_t len = 0, cap = 1 << 16;
	char *buf = xmalloc(cap + 1);
	long shown = 0;
	struct stat st;
	double offset;
	int64_t offset_ns;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		if (e == ENOENT && !events_from_file())
			die(EX_NOMODULE, "%s does not exist: the aqueue module is not loaded.\n"
			    "Load it with 'modprobe aqueue' (installed) or 'insmod aqueue.ko' (built tree).",
			    path);
		if (e == EACCES || e == EPERM)
			die(EX_PERM, "cannot open %s: %s (root only: try sudo)", path, strerror(e));
		die(EX_ERR, "cannot open %s: %s", path, strerror(e));
	}
	if (!stat("/proc/self/ns/net", &st))
		own_netns = st.st_ino;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	offset = (double)(real.tv_sec - mono.tv_sec) +
		 (double)(real.tv_nsec - mono.tv_nsec) / 1e9;
	offset_ns = ((int64_t)real.tv_sec - (int64_t)mono.tv_sec) * 1000000000 +
		    (real.tv_nsec - mono.tv_nsec);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!o->raw && !o->json)
		printf("%-12s  %-12s %-5s %-22s %9s %7s %-15s %s\n", "TIME",
		       "EVENT", "PROTO", "LOCAL", "QUEUE", "PID", "COMM", "WHAT");
	for (;;) {
		ssize_t r = read(fd, buf + len, cap - len);
		char *p, *nl;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die(EX_ERR, "reading %s: %s", path, strerror(errno));
		if (r == 0) {
			if (!events_from_file())
				fprintf(stderr, "aqstat: %s ended: the module was unloaded\n", path);
			break;
		}
		len += (size_t)r;
		buf[len] = '\0';
		p = buf;
		while ((nl = memchr(p, '\n', len - (size_t)(p - buf)))) {
			struct aq_event_line e;
			const char *why;

			*nl = '\0';
			if (aq_event_parse(p, &e, &why)) {
				fprintf(stderr, "aqstat: %s: %s: line ignored: %.200s\n", path, why, p);
				if (o->strict)
					die(EX_MALFORMED, "malformed event line (--strict)");
				p = nl + 1;
				continue;
			}
			memset(&filt, 0, sizeof(filt));
			filt.proto = e.proto;
			filt.port = e.port;
			filt.netns = e.netns;
			if (!strcmp(e.event, "lost") || wanted(o->filter, &filt)) {
				if (o->json)
					event_json(&e, offset_ns);
				else
					event_print(&e, p, o->raw, offset, own_netns);
				if (o->count && ++shown >= o->count) {
					close(fd);
					free(buf);
					return EX_OK;
				}
			}
			p = nl + 1;
		}
		len -= (size_t)(p - buf);
		memmove(buf, p, len);
		if (len == cap)
			len = 0;	/* a line longer than the buffer: dropped */
	}
	close(fd);
	free(buf);
	return EX_OK;
}
