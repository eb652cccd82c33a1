/* SPDX-License-Identifier: GPL-2.0 */
#ifndef AQ_UNIT_LINUX_LIMITS_H
#define AQ_UNIT_LINUX_LIMITS_H

#include <stdint.h>

#define U64_MAX UINT64_MAX

#endif
