/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tests' own processes and threads: their comm (what listen()
 * records), their state as /proc shows it (no task may be left blocked),
 * a child waited for at most so long, and the first error of many threads.
 */
#ifndef AQ_TASK_H
#define AQ_TASK_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

/* Sets the calling thread's comm (what listen() records). */
void aq_set_comm(const char *name);

void aq_get_comm(char *buf, size_t size);

/* The state letter of /proc/PID/stat ('R', 'S', 'D', 'Z', ...), or 0. */
char aq_proc_state(pid_t pid);

/* Where a task sleeps, for the log. */
void aq_proc_wchan(pid_t pid, char *out, size_t size);

/*
 * Counts the user tasks of the whole system in uninterruptible sleep
 * ('D'), threads included, giving the first one's pid and wchan. A task can be
 * in D for an instant on its way through I/O or a lock: the caller asks
 * again (bounded) and only a task that stays there is "left blocked".
 */
int aq_count_d_state(pid_t *first, char *wchan, size_t size);

/*
 * Waits for a child to end, at most AQ_HANG_MS (a guard against a hang,
 * not a threshold the test measures). Returns the wait status, or -1 if it
 * did not end: then it is left running for the caller to report and kill.
 */
#define AQ_HANG_MS 120000

int aq_wait_child_bounded(pid_t pid, int ms);

/* The first error of many threads, kept for the log. */
struct aq_errors {
	atomic_int count;
	atomic_flag taken;
	char first[512];
};

void aq_error(struct aq_errors *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* AQ_TASK_H */
