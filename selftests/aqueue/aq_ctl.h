/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the control-file tests: raw writes (any bytes, several
 * write() calls on one open file), the read-back as `key value` lines, a
 * "nothing changed" comparison of the control file and /proc/aqueue, and
 * the kernel's own list of registered kprobes as the oracle for enable and
 * disable.
 */
#ifndef AQ_CTL_H
#define AQ_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "aq_proc.h"

#define AQ_KPROBES_LIST "/sys/kernel/debug/kprobes/list"

/*
 * Writes len bytes (NULs and all) to the control file in one write();
 * returns 0 when the whole write was taken, -errno when refused, or
 * -EMSGSIZE on a short write (the control file must take all or nothing).
 */
int aq_ctl_write(const void *buf, size_t len);

/* A C string's bytes, without its terminating NUL. */
#define aq_ctl(s) aq_ctl_write((s), strlen(s))

/* Reads the control file into buf; asserts it could. */
void aq_ctl_read(struct __test_metadata *_metadata, char *buf, size_t size);

/*
 * The rest of the line that starts with `key ` in text ("filter port" is a
 * key too), copied into out without the newline; NULL if there is none.
 */
char *aq_ctl_line(const char *text, const char *key, char *out, size_t size);

/* The number after `key` in the control file; asserts it is there. */
long long aq_ctl_value(struct __test_metadata *_metadata, const char *key);

/* Asserts the control file's `key` line reads exactly `want`. */
#define AQ_CTL_EXPECT_LINE(key, want) do {				\
	char __buf[8192], __val[256];					\
	aq_ctl_read(_metadata, __buf, sizeof(__buf));			\
	ASSERT_NE(NULL, aq_ctl_line(__buf, key, __val, sizeof(__val)))	\
		TH_LOG("no '%s' line in the control file", key);	\
	EXPECT_STREQ(want, __val) TH_LOG("control file: %s", key);	\
} while (0)

/*
 * The control file with what changes on its own taken out: the hits and
 * missed counts of the probe lines (traffic, even a sock_diag dump, moves
 * them). Everything else must be byte for byte the same when nothing was
 * changed.
 */
void aq_ctl_settings(struct __test_metadata *_metadata, char *out,
		     size_t size);

/* Registered kprobes on `func` per the kernel ('k' or 'r'), or 0. */
int aq_kprobe_listed(const char *list, const char *func);
/* The kernel lists the kprobe on `func` as [DISABLED]. */
int aq_kprobe_disabled(const char *list, const char *func);

/*
 * The probes the control file lists: name, type ("kprobe"/"kretprobe")
 * registered, hits, missed and armed. Returns how many (at most max).
 */
struct aq_probe_line {
	char func[64];
	char type[16];
	int registered;
	long long hits, missed;
	int armed;
};

int aq_ctl_probes(struct __test_metadata *_metadata,
		  struct aq_probe_line *out, int max);

/* The whole observable configuration and table at one moment. */
struct aq_world {
	char settings[8192];
	struct aq_snap snap;
};

void aq_world_read(struct __test_metadata *_metadata, struct aq_world *w);

/* Expects the world to read as `before`; logs `what` (the input) if not. */
bool aq_world_unchanged(struct __test_metadata *_metadata,
			const struct aq_world *before, const char *what);

#endif /* AQ_CTL_H */
