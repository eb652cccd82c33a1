// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/aqueue: the version line, the global state, the table with one row
 * per listener, then each listener's details and histograms. The format is
 * documented in README.md and is the contract with aqstat.
 *
 * seq_file may stop and resume the walk anywhere; the position encodes
 * where: 0 is the header, 1 + id a table row, AQ_POS_DETAILS the empty line
 * between the parts, AQ_POS_DETAILS + 1 + id a listener's details. Ids
 * only grow, so a resumed walk neither repeats nor skips a listener.
 */
#include <linux/capability.h>
#include <linux/nsproxy.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>

#include "aqueue.h"
#include "listener.h"

#define AQ_POS_DETAILS	((loff_t)U32_MAX + 2)

struct aq_reader {
	u32 netns;	/* the reader's network namespace */
	bool all;	/* privileged reader in the initial namespace */
};

static char aq_separator;
#define AQ_SEPARATOR ((void *)&aq_separator)

/* The first visible listener with an id of at least @id, or NULL. */
static struct aq_listener *aq_visible(struct seq_file *m, u32 id)
{
	const struct aq_reader *r = m->private;
	struct aq_listener *l;

	while ((l = aq_listener_find(&id))) {
		if (r->all || l->netns == r->netns)
			return l;
		if (id == U32_MAX)
			break;
		id++;
	}
	return NULL;
}

static void *aq_seek(struct seq_file *m, loff_t *pos)
{
	struct aq_listener *l;

	if (*pos == 0)
		return SEQ_START_TOKEN;
	if (*pos < AQ_POS_DETAILS) {
		l = aq_visible(m, *pos - 1);
		if (l) {
			*pos = 1 + (loff_t)l->id;
			return l;
		}
		*pos = AQ_POS_DETAILS;
		return AQ_SEPARATOR;
	}
	if (*pos == AQ_POS_DETAILS)
		return AQ_SEPARATOR;
	if (*pos - AQ_POS_DETAILS - 1 > U32_MAX)
		return NULL;
	l = aq_visible(m, *pos - AQ_POS_DETAILS - 1);
	if (l) {
		*pos = AQ_POS_DETAILS + 1 + l->id;
		return l;
	}
	return NULL;
}

static void *aq_seq_start(struct seq_file *m, loff_t *pos)
	__acquires(RCU)
{
	rcu_read_lock();
	return aq_seek(m, pos);
}

static void *aq_seq_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return aq_seek(m, pos);
}

static void aq_seq_stop(struct seq_file *m, void *v)
	__releases(RCU)
{
	rcu_read_unlock();
}

static void aq_show_header(struct seq_file *m)
{
	seq_printf(m, AQUEUE_VERSION_PREFIX "%d\n", AQUEUE_FORMAT_VERSION);
	seq_printf(m, "state enabled %d ", aq_is_enabled());
	aq_listeners_show_totals(m);
	seq_printf(m, "%5s %10s %-8s %-27s %7s %6s %6s %10s %10s %8s %8s %8s %8s %7s %s\n",
		   "id", "netns", "proto", "local", "backlog", "qnow", "qpeak",
		   "enqueued", "accepted", "drops", "p50_us", "p99_us",
		   "max_us", "pid", "comm");
}

static int aq_seq_show(struct seq_file *m, void *v)
{
	if (v == SEQ_START_TOKEN)
		aq_show_header(m);
	else if (v == AQ_SEPARATOR)
		seq_putc(m, '\n');
	else if (m->index < AQ_POS_DETAILS)
		aq_listener_show_row(m, v);
	else
		aq_listener_show_detail(m, v);
	return 0;
}

static const struct seq_operations aq_seq_ops = {
	.start = aq_seq_start,
	.next = aq_seq_next,
	.stop = aq_seq_stop,
	.show = aq_seq_show,
};

static int aq_proc_open(struct inode *inode, struct file *file)
{
	struct aq_reader *r;
	struct net *net = current->nsproxy->net_ns;

	r = __seq_open_private(file, &aq_seq_ops, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->netns = net->ns.inum;
	r->all = net_eq(net, &init_net) &&
		 file_ns_capable(file, &init_user_ns, CAP_NET_ADMIN);
	return 0;
}

static const struct proc_ops aq_proc_ops = {
	.proc_open = aq_proc_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = seq_release_private,
};

static struct proc_dir_entry *aq_proc_entry;

int aq_proc_init(void)
{
	aq_proc_entry = proc_create(AQUEUE_PROC_NAME, 0444, NULL,
				    &aq_proc_ops);
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
