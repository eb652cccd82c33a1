/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Text the kernel hands out, looked at byte by byte: arbitrary bytes made
 * printable for the log, and a scan for anything that looks like a kernel
 * pointer (which no file of the module may show).
 */
#ifndef AQ_TEXT_H
#define AQ_TEXT_H

#include <stddef.h>

/* Printable form of arbitrary bytes (\n, \t, \xNN), cut at size. */
const char *aq_show_bytes(const void *p, size_t len, char *out, size_t size);

/*
 * Returns the first token of text that looks like a kernel address, or
 * NULL: a word of exactly 16 hex digits (not all of them decimal), a 0x-prefixed hex number of 8 or more
 * digits, or a decimal number of kernel-address size (2^63 and up: every
 * x86-64 kernel address is in the upper half). `what` receives the token.
 */
const char *aq_find_pointer(const char *text, char *what, size_t size);

#endif /* AQ_TEXT_H */
