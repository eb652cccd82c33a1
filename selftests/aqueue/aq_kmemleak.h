/* SPDX-License-Identifier: GPL-2.0 */
/* kmemleak: the debug lane's leak detector; absent from stock kernels. */
#ifndef AQ_KMEMLEAK_H
#define AQ_KMEMLEAK_H

#include <stdbool.h>
#include <stddef.h>

bool aq_kmemleak_present(void);

/* Forgets what kmemleak reported so far (before the test's work). */
void aq_kmemleak_clear(void);

/*
 * Scans (twice: an object must be seen unreferenced by two scans) and
 * returns how many leak reports there are; the first goes to buf.
 */
int aq_kmemleak_scan(char *buf, size_t size);

#endif /* AQ_KMEMLEAK_H */
