/* SPDX-License-Identifier: GPL-2.0 */
/* What the kernel's own check_*_overflow() are built on. */
#ifndef AQ_UNIT_LINUX_OVERFLOW_H
#define AQ_UNIT_LINUX_OVERFLOW_H

#define check_add_overflow(a, b, d) __builtin_add_overflow(a, b, d)
#define check_mul_overflow(a, b, d) __builtin_mul_overflow(a, b, d)

#endif
