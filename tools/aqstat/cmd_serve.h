/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * aqstat serve: the --prometheus text over HTTP at /metrics, for a host
 * without node_exporter. One request at a time, each bounded in size and
 * time; /proc/aqueue is read afresh for each scrape.
 */
#ifndef AQSTAT_CMD_SERVE_H
#define AQSTAT_CMD_SERVE_H

#include "row_filter.h"
#include "show_prom.h"

struct serve_opts {
	const char *listen;	/* [ADDR:]PORT; ADDR 127.0.0.1 when left out */
	const char *file;	/* NULL: /proc/aqueue */
	int strict;
	const struct aqs_filter *filter;
	const struct prom_opts *prom;	/* --metrics, --buckets */
};

/* Serves until killed; returns only on a setup error's exit code. */
int serve(const struct serve_opts *o);

#endif /* AQSTAT_CMD_SERVE_H */
