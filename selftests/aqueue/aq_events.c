// SPDX-License-Identifier: GPL-2.0
#include "aq_harness.h"

#include <fcntl.h>
#include <poll.h>

#include "aq_clock.h"
#include "aq_events.h"
#include "aq_fields.h"

/* Parses one line (without its newline); 0, or -1 with err set. */
static int aq_ev_parse(const char *text, struct aq_ev *e, char *err,
		       size_t errsz)
{
	char line[1024], *tok[40], *p, *comm;
	int64_t sec, nsec;
	int n, i;

	memset(e, 0, sizeof(*e));
	e->drops = e->duration_ns = e->hol_age_ns = -1;
	e->since_accept_ns = e->stalled_ns = -1;
	e->group = e->group_room = -1;
	snprintf(line, sizeof(line), "%.1000s", text);
	/* comm is the rest of the line after " comm ". */
	comm = strstr(line, " comm ");
	if (comm) {
		snprintf(e->comm, sizeof(e->comm), "%s", comm + 6);
		*comm = '\0';
	}
	n = aq_tokens(line, tok, 40);
	if (n < 2 || n > 40) {
		snprintf(err, errsz, "%d tokens", n);
		return -1;
	}
	p = strchr(tok[0], '.');
	if (!p || strlen(p + 1) != 9) {
		snprintf(err, errsz, "timestamp '%s' is not SEC.NNNNNNNNN", tok[0]);
		return -1;
	}
	*p = '\0';
	if (!aq_u64(tok[0], &sec) || !aq_u64(p + 1, &nsec)) {
		snprintf(err, errsz, "timestamp not numbers");
		return -1;
	}
	e->ts_ns = sec * 1000000000LL + nsec;
	snprintf(e->name, sizeof(e->name), "%s", tok[1]);
	if (!strcmp(e->name, "lost")) {
		if (n != 3 || comm || !aq_u64(tok[2], &e->lost) || !e->lost) {
			snprintf(err, errsz, "bad lost line");
			return -1;
		}
		return 0;
	}
	if (strcmp(e->name, "open") && strcmp(e->name, "close") &&
	    strcmp(e->name, "overflow") && strcmp(e->name, "overflow_end") &&
	    strcmp(e->name, "stall") && strcmp(e->name, "recover")) {
		snprintf(err, errsz, "unknown event '%s'", e->name);
		return -1;
	}
	if (!comm || !e->comm[0] || (n - 2) % 2) {
		snprintf(err, errsz, "no comm, or a key without a value");
		return -1;
	}
	{
		struct aq_kv kv[12];
		int nkv = 0;

		kv[nkv++] = (struct aq_kv){ "id", &e->id };
		kv[nkv++] = (struct aq_kv){ "netns", &e->netns };
		kv[nkv++] = (struct aq_kv){ "qnow", &e->qnow };
		kv[nkv++] = (struct aq_kv){ "backlog", &e->backlog };
		kv[nkv++] = (struct aq_kv){ "pid", &e->pid };
		if (!strcmp(e->name, "overflow")) {
			kv[nkv++] = (struct aq_kv){ "drops", &e->drops };
			kv[nkv++] = (struct aq_kv){ "group", &e->group };
			kv[nkv++] = (struct aq_kv){ "group_room", &e->group_room };
		} else if (!strcmp(e->name, "overflow_end")) {
			kv[nkv++] = (struct aq_kv){ "drops", &e->drops };
			kv[nkv++] = (struct aq_kv){ "duration_ns", &e->duration_ns };
		} else if (!strcmp(e->name, "stall")) {
			kv[nkv++] = (struct aq_kv){ "hol_age_ns", &e->hol_age_ns };
			kv[nkv++] = (struct aq_kv){ "since_accept_ns",
						    &e->since_accept_ns };
			kv[nkv++] = (struct aq_kv){ "group", &e->group };
			kv[nkv++] = (struct aq_kv){ "group_room", &e->group_room };
		} else if (!strcmp(e->name, "recover")) {
			kv[nkv++] = (struct aq_kv){ "stalled_ns", &e->stalled_ns };
		}
		/* proto and local are not numbers: take them out first. */
		for (i = 2; i + 1 < n; i += 2) {
			if (!strcmp(tok[i], "proto")) {
				snprintf(e->proto, sizeof(e->proto), "%s", tok[i + 1]);
			} else if (!strcmp(tok[i], "local")) {
				snprintf(e->local, sizeof(e->local), "%s", tok[i + 1]);
			} else {
				continue;
			}
			memmove(&tok[i], &tok[i + 2], (n - i - 2) * sizeof(tok[0]));
			n -= 2;
			i -= 2;
		}
		if (!e->proto[0] || !e->local[0]) {
			snprintf(err, errsz, "no proto or local");
			return -1;
		}
		if (!aq_parse_kv(tok + 2, n - 2, kv, nkv, NULL, 0, err, errsz))
			return -1;
	}
	return 0;
}

int aq_evr_open(struct aq_evr *r)
{
	memset(r, 0, sizeof(*r));
	r->fd = open(AQ_EVENTS_PATH, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	return r->fd < 0 ? -errno : 0;
}

void aq_evr_close(struct aq_evr *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	free(r->ev);
	r->ev = NULL;
	r->n = r->cap = 0;
}

void aq_evr_drain(struct __test_metadata *_metadata, struct aq_evr *r)
{
	for (;;) {
		ssize_t got = read(r->fd, r->buf + r->len,
				   sizeof(r->buf) - 1 - r->len);
		char *nl, *p;

		if (got < 0 && errno == EAGAIN)
			return;
		ASSERT_LT(0, got) TH_LOG("reading %s: %s", AQ_EVENTS_PATH,
					 got ? strerror(errno) : "end of file");
		r->len += got;
		r->buf[r->len] = '\0';
		p = r->buf;
		while ((nl = strchr(p, '\n'))) {
			char err[200];

			*nl = '\0';
			if (r->n == r->cap) {
				r->cap = r->cap ? 2 * r->cap : 256;
				r->ev = realloc(r->ev, r->cap * sizeof(*r->ev));
				ASSERT_NE(NULL, r->ev);
			}
			ASSERT_EQ(0, aq_ev_parse(p, &r->ev[r->n], err, sizeof(err)))
				TH_LOG("event line '%s': %s", p, err);
			r->n++;
			p = nl + 1;
		}
		r->len -= p - r->buf;
		memmove(r->buf, p, r->len);
	}
}

int aq_evr_find(const struct aq_evr *r, int from, const char *name,
		int64_t id)
{
	int i;

	for (i = from; i < r->n; i++)
		if (!strcmp(r->ev[i].name, name) && (!id || r->ev[i].id == id))
			return i;
	return -1;
}

int aq_evr_wait(struct __test_metadata *_metadata, struct aq_evr *r,
		const char *name, int64_t id, int guard_ms)
{
	int64_t deadline = aq_now_ns() + (int64_t)guard_ms * 1000000;
	int i;

	for (;;) {
		struct pollfd p = { .fd = r->fd, .events = POLLIN };
		int64_t left;

		aq_evr_drain(_metadata, r);
		i = aq_evr_find(r, 0, name, id);
		if (i >= 0)
			return i;
		left = (deadline - aq_now_ns()) / 1000000;
		if (left <= 0)
			return -1;
		poll(&p, 1, (int)left);
	}
}

int aq_evr_count(const struct aq_evr *r, const char *name, int64_t id)
{
	int i, n = 0;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->ev[i].name, name) && r->ev[i].id == id)
			n++;
	return n;
}
