// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/aqueue: the version line, a summary and the listener table.
 * Read through seq_file so that any number of rows streams with "cat".
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#include "aqueue.h"

static void *aq_seq_start(struct seq_file *m, loff_t *pos)
{
	return *pos == 0 ? SEQ_START_TOKEN : NULL;
}

static void *aq_seq_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return NULL;
}

static void aq_seq_stop(struct seq_file *m, void *v)
{
}

static int aq_seq_show(struct seq_file *m, void *v)
{
	if (v == SEQ_START_TOKEN) {
		seq_printf(m, AQUEUE_VERSION_PREFIX "%d\n",
			   AQUEUE_FORMAT_VERSION);
		seq_printf(m, "enabled %d listeners %u untracked %u\n",
			   aq_is_enabled(), 0U, 0U);
		seq_puts(m, "netns proto local backlog qnow qpeak enqueued accepted drops wait_p50 wait_p99 wait_max pid comm\n");
	}
	return 0;
}

static const struct seq_operations aq_seq_ops = {
	.start = aq_seq_start,
	.next = aq_seq_next,
	.stop = aq_seq_stop,
	.show = aq_seq_show,
};

static struct proc_dir_entry *aq_proc_entry;

int aq_proc_init(void)
{
	aq_proc_entry = proc_create_seq(AQUEUE_PROC_NAME, 0444, NULL,
					&aq_seq_ops);
	if (!aq_proc_entry) {
		pr_err("cannot create /proc/%s\n", AQUEUE_PROC_NAME);
		return -ENOMEM;
	}
	return 0;
}

void aq_proc_exit(void)
{
	proc_remove(aq_proc_entry);
}
