/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel log as an oracle: for "no warning" a test drops a marker into
 * it and later looks for reports printed after that marker; for the lines
 * the module prints, a test reads /dev/kmsg from a moment on.
 */
#ifndef AQ_KLOG_H
#define AQ_KLOG_H

#include <stddef.h>

void aq_klog_mark(const char *marker);

/* Returns the first report found after marker, or NULL; buf holds it. */
const char *aq_klog_report_since(const char *marker, char *buf, size_t size);

/* How many times the log holds `what` after marker, or -1. */
int aq_klog_count_since(const char *marker, const char *what);

/*
 * /dev/kmsg opened non-blocking and at its end, so that reading it gives
 * the records logged after this call; the fd or -errno.
 */
int aq_kmsg_open(void);

/*
 * The next record's text (without its header and newline) into msg, with
 * /dev/kmsg's \xNN escapes undone: it escapes a backslash too, so that a
 * "\040" the kernel printed reads "\x5c040" there. Returns 1, 0 when no
 * record is there now, or -errno.
 */
int aq_kmsg_next(int fd, char *msg, size_t size);

#endif /* AQ_KLOG_H */
