/* SPDX-License-Identifier: GPL-2.0 */
/* The kernel's fixed-width names, for module headers built on the host. */
#ifndef AQ_UNIT_LINUX_TYPES_H
#define AQ_UNIT_LINUX_TYPES_H

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t u64;
typedef uint32_t u32;

#endif
