/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Network namespaces: running a part of a test in a fresh one (in a child,
 * so that the netstat deltas belong to the test alone and ports never
 * collide), and memory shared with such children.
 */
#ifndef AQ_NETNS_H
#define AQ_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct __test_metadata;

/* Inode of the caller's network namespace, as /proc/aqueue prints it. */
int64_t aq_netns_ino(void);

int aq_lo_up(void);

/* Enters a new network namespace with lo up. */
int aq_unshare_net(void);

typedef void (*aq_netns_fn)(struct __test_metadata *_metadata, void *arg);

/*
 * Runs fn(arg) in a forked child, inside a fresh network namespace when
 * newnet. ASSERT_* inside fn ends the child only: its jump buffer is
 * re-armed here, so the fixture's teardown never runs in the child. Memory
 * fn must hand back belongs in aq_shared_alloc(). Returns the child's pid.
 */
pid_t aq_child_start(struct __test_metadata *_metadata, aq_netns_fn fn,
		     void *arg, bool newnet);

/* Fails (or skips) the test as the child did. */
void aq_child_wait(struct __test_metadata *_metadata, pid_t pid);

/* Runs fn(arg) in a fresh network namespace (in a child) and waits. */
void aq_in_netns(struct __test_metadata *_metadata, aq_netns_fn fn,
		 void *arg);

/* Anonymous memory shared with children forked after this call. */
void *aq_shared_alloc(size_t size);

#endif /* AQ_NETNS_H */
