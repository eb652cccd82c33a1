// SPDX-License-Identifier: GPL-2.0
#include "aq_harness.h"

#include <inttypes.h>
#include <sys/stat.h>

#include "aq_file.h"
#include "aq_invariants.h"
#include "aq_module.h"
#include "aq_netns.h"
#include "aq_snap.h"
#include "aq_sock.h"

void aq_snapshot_chunked(struct __test_metadata *_metadata, struct aq_snap *s,
			 size_t chunk)
{
	char err[512];
	size_t len;
	char *text;
	int rd;

	text = aq_read_chunked(AQ_PROC_PATH, chunk, &len, &rd);
	ASSERT_NE(NULL, text) TH_LOG("reading %s: %s", AQ_PROC_PATH,
				     strerror(-rd));
	if (aq_parse(text, s, true)) {
		TH_LOG("%s does not parse: %s", AQ_PROC_PATH, s->err);
		TH_LOG("it reads:\n%.3000s", text);
		free(text);
		ASSERT_TRUE(0);
	}
	if (aq_snap_invariants(s, err, sizeof(err))) {
		TH_LOG("%s breaks an identity: %s", AQ_PROC_PATH, err);
		TH_LOG("it reads:\n%.3000s", text);
		free(text);
		ASSERT_TRUE(0);
	}
	free(text);
}

void aq_snapshot(struct __test_metadata *_metadata, struct aq_snap *s)
{
	aq_snapshot_chunked(_metadata, s, 1 << 16);
}

int aq_try_snapshot(struct aq_snap *s, bool strict, char *err, size_t errsz)
{
	size_t len;
	char *text;
	int rd;

	memset(s, 0, sizeof(*s));
	text = aq_read_chunked(AQ_PROC_PATH, 1 << 16, &len, &rd);
	if (!text) {
		snprintf(err, errsz, "read: %s", strerror(-rd));
		return -1;
	}
	if (aq_parse(text, s, strict)) {
		snprintf(err, errsz, "parse: %.200s", s->err);
		free(text);
		return -1;
	}
	free(text);
	return 0;
}

int aq_count_rows(const struct aq_snap *s, int64_t netns, const char *proto,
		  const char *local)
{
	int i, n = 0;

	for (i = 0; i < s->nrows; i++)
		if (s->rows[i].netns == netns &&
		    !strcmp(s->rows[i].proto, proto) &&
		    !strcmp(s->rows[i].local, local))
			n++;
	return n;
}

struct aq_row *aq_the_row(struct __test_metadata *_metadata, struct aq_snap *s,
			  int64_t netns, const char *proto, const char *local)
{
	int i, n = aq_count_rows(s, netns, proto, local);

	ASSERT_EQ(1, n) TH_LOG("rows for netns %" PRId64 " %s %s: %d (of %d rows)",
			       netns, proto, local, n, s->nrows);
	for (i = 0; i < s->nrows; i++)
		if (s->rows[i].netns == netns &&
		    !strcmp(s->rows[i].proto, proto) &&
		    !strcmp(s->rows[i].local, local))
			return &s->rows[i];
	return NULL;
}

struct aq_row *aq_row_of_ino(struct __test_metadata *_metadata,
			     struct aq_snap *s, int fd)
{
	struct stat st;
	int i;

	ASSERT_EQ(0, fstat(fd, &st));
	for (i = 0; i < s->nrows; i++)
		if (s->rows[i].ino == (int64_t)st.st_ino)
			return &s->rows[i];
	ASSERT_TRUE(false) TH_LOG("no row for the socket of inode %llu",
				  (unsigned long long)st.st_ino);
	return NULL;
}

struct aq_row *aq_row_of(struct __test_metadata *_metadata, struct aq_snap *s,
			 int fd)
{
	union aq_addr a;
	socklen_t len = sizeof(a), tlen = sizeof(int);
	char local[96];
	struct stat st;
	int type = 0;

	ASSERT_EQ(0, getsockname(fd, &a.sa, &len));
	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen));
	aq_local_str(fd, local, sizeof(local));
	ASSERT_EQ(0, stat("/proc/self/ns/net", &st));
	return aq_the_row(_metadata, s, st.st_ino,
			  type == SOCK_DGRAM ?
			  (a.sa.sa_family == AF_INET ? "udp" : "udp6") :
			  (a.sa.sa_family == AF_INET ? "tcp" : "tcp6"), local);
}

struct aq_row *aq_find_row(struct aq_snap *s, int lfd)
{
	union aq_addr a;
	socklen_t len = sizeof(a);
	char local[96];
	int64_t ino = aq_netns_ino();
	int i;

	if (getsockname(lfd, &a.sa, &len))
		return NULL;
	aq_local_str(lfd, local, sizeof(local));
	for (i = 0; i < s->nrows; i++)
		if (s->rows[i].netns == ino && !strcmp(s->rows[i].local, local) &&
		    !strcmp(s->rows[i].proto,
			    a.sa.sa_family == AF_INET ? "tcp" : "tcp6"))
			return &s->rows[i];
	return NULL;
}
