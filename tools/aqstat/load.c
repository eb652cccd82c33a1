// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "die.h"
#include "load.h"
#include "owner.h"

const char *proc_path(void)
{
	const char *p = getenv("AQSTAT_PROC");

	return p && *p ? p : AQ_DEFAULT_PROC;
}

int load_snapshot(const char *file, int strict, struct aq_snapshot *s)
{
	const char *path = file ? file : proc_path();
	enum aq_parse_result r;
	size_t len;
	char *text;

	memset(s, 0, sizeof(*s));
	text = aq_read_file(path, &len);
	if (!text) {
		int e = errno;

		if (!file && e == ENOENT) {
			complain("%s does not exist: the aqueue module is not loaded.\n"
				 "Load it with 'modprobe aqueue' (installed) or 'insmod aqueue.ko' (built tree).",
				 path);
			return EX_NOMODULE;
		}
		complain("cannot read %s: %s", path, strerror(e));
		return e == EACCES || e == EPERM ? EX_PERM : EX_ERR;
	}
	r = aqs_parse(text, len, path, stderr, s);
	free(text);
	switch (r) {
	case AQ_PARSE_OK:
		break;
	case AQ_PARSE_NOT_AQUEUE:
		complain("%s is not aqueue output: the first line is not '%sN'",
			 path, AQUEUE_VERSION_PREFIX);
		return EX_FORMAT;
	case AQ_PARSE_VERSION:
		if (s->format == UINT64_MAX)
			complain("%s: unknown format version (out of range); this aqstat reads formats 1 to %d",
				 path, AQUEUE_FORMAT_VERSION);
		else if (aq_format_newer(s))
			complain("%s is format %llu, newer than this aqstat (it reads formats 1 to %d):\n"
				 "this aqstat is older than the module. Install the aqstat built from the same aqueue source as the module.",
				 path, (unsigned long long)s->format, AQUEUE_FORMAT_VERSION);
		else
			complain("%s: unknown format version %llu; this aqstat reads formats 1 to %d",
				 path, (unsigned long long)s->format, AQUEUE_FORMAT_VERSION);
		return EX_FORMAT;
	case AQ_PARSE_HEADER:
		complain("%s: unexpected table header for format %d; refusing to guess the columns",
			 path, AQUEUE_FORMAT_VERSION);
		return EX_FORMAT;
	case AQ_PARSE_NOMEM:
		complain("out of memory");
		return EX_ERR;
	}
	if (s->malformed && strict) {
		complain("%s: %u malformed line%s (--strict)", path,
			 s->malformed, s->malformed == 1 ? "" : "s");
		aq_snapshot_free(s);
		return EX_MALFORMED;
	}
	/* The live file only: a saved one's inodes are another moment's. */
	if (!file && !strcmp(path, AQ_DEFAULT_PROC))
		find_owners(s);
	return EX_OK;
}

void load(const char *file, int strict, struct aq_snapshot *s)
{
	int r = load_snapshot(file, strict, s);

	if (r != EX_OK)
		exit(r);
}
