/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * -j: one JSON object with the global state, the closed listeners' totals
 * and each wanted listener with all its figures and histograms.
 */
#ifndef AQSTAT_JSON_H
#define AQSTAT_JSON_H

#include <stdio.h>

#include "aqparse.h"
#include "filter.h"

/* @source: the file read, as the object's "source". */
int show_json(FILE *out, const struct aq_snapshot *s,
	      const struct aq_filter *f, const char *source);

#endif /* AQSTAT_JSON_H */
