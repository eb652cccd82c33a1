/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kselftest_harness.h for the files of the tests' library, whose helpers
 * take _metadata so that ASSERT_* works in them as it does in a test.
 *
 * The harness is written for a program of one file: besides its macros it
 * defines the runner (__run_test, __wait_for_test, _fixture_global,
 * __active_test) and a static test_harness_run(). Linked from several
 * files, those would be defined twice. Here the runner's definitions are
 * weak, so that the test program's own copy is the one linked and the
 * library's copies are dropped, and the library's unused static runner is
 * not warned about. Only the library's .c files include this header, and
 * first: a test includes kselftest_harness.h itself.
 */
#ifndef AQ_HARNESS_H
#define AQ_HARNESS_H

#ifdef __KSELFTEST_HARNESS_H
#error "the library includes this before kselftest_harness.h"
#endif

#pragma weak __run_test
#pragma weak __wait_for_test
#pragma weak _fixture_global
#pragma weak __active_test

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#endif /* AQ_HARNESS_H */
