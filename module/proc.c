// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/aqueue: the version line, the global state, the table with one row
 * per listener, then each listener's details and histograms. The format is
 * documented in doc/interface.md and is the contract with aqstat.
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

#include "aqueue_format.h"
#include "config.h"
#include "enable.h"
#include "text.h"
#include "listener.h"
#include "probes.h"
#include "proc.h"
#include "queue.h"
#include "table.h"

#define AQ_POS_DETAILS	((loff_t)U32_MAX + 2)

struct aq_reader {
	u32 netns;	/* the reader's network namespace */
	bool all;	/* privileged reader in the initial namespace */
	bool privileged;	/* may see every listener's owner */
	/* What the listener being shown had, too big for the stack. */
	union {
		struct aq_row row;
		struct aq_detail detail;
	};
};

static char aq_separator;
#define AQ_SEPARATOR ((void *)&aq_separator)

/* The first visible listener with an id of at least @id, or NULL. */
static struct aq_listener *aq_visible(struct seq_file *m, u32 id)
{
	const struct aq_reader *r = m->private;
	struct aq_listener *l;

	while ((l = aq_table_find(&id))) {
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
	aq_table_sync();
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

static void aq_show_totals(struct seq_file *m)
{
	struct aq_table_stats stats;
	struct aq_closed closed;

	aq_table_get_stats(&stats);
	seq_printf(m, "tracked %d max_listeners %u untracked_listens %ld untracked_events %ld filtered_events %ld memory_bytes %ld max_memory_bytes %lu missed %lu resyncs %ld\n",
		   stats.tracked, READ_ONCE(aq_max_listeners),
		   stats.untracked_listens, stats.untracked_events,
		   stats.filtered_events, stats.memory,
		   READ_ONCE(aq_max_memory), aq_probes_missed(),
		   aq_queue_resyncs());
	aq_listeners_get_closed(&closed);
	seq_printf(m, "closed listeners %llu enqueued %llu accepted %llu drained %llu migrated %llu drops %llu\n",
		   closed.listeners, closed.enqueued, closed.accepted,
		   closed.drained, closed.migrated, closed.drops);
}

static void aq_show_header(struct seq_file *m)
{
	seq_printf(m, AQUEUE_VERSION_PREFIX "%d\n", AQUEUE_FORMAT_VERSION);
	seq_printf(m, "state enabled %d ", aq_is_enabled());
	aq_show_totals(m);
	seq_printf(m, "%5s %10s %-8s %-27s %7s %6s %6s %10s %10s %8s %8s %8s %8s %7s %s\n",
		   "id", "netns", "proto", "local", "backlog", "qnow", "qpeak",
		   "enqueued", "accepted", "drops", "p50_us", "p99_us",
		   "max_us", "pid", "comm");
}

static void aq_show_row(struct seq_file *m, struct aq_listener *l)
{
	struct aq_reader *r = m->private;
	struct aq_row *row = &r->row;
	char local[AQ_LOCAL_MAX], comm[AQ_COMM_MAX];
	struct aq_text_waits waits;
	/* As the file's opener, as procfs judges its readers. */
	struct aq_viewer viewer = {
		.pid_ns = task_active_pid_ns(current),
		.uid = m->file->f_cred->euid,
		.privileged = r->privileged,
	};

	if (!aq_listener_read_row(l, &viewer, row))
		return;
	aq_text_comm(comm, sizeof(comm), row->comm);
	aq_text_local(local, sizeof(local), l);
	aq_text_waits(&waits, row->wait_hist, row->wait_max_ns);

	seq_printf(m, "%5u %10u %-8s %-27s %7u %6u %6u %10llu %10llu %8llu %8s %8s %8s %7d %s\n",
		   l->id, l->netns, aq_text_proto(l),
		   local, row->backlog, row->qlen, row->qpeak, row->enqueued,
		   row->accepted, row->drops, waits.p50, waits.p99, waits.max,
		   row->pid, comm);
}

static void aq_show_qlen_hist(struct seq_file *m, const u64 *hist)
{
	unsigned int i;

	for (i = 0; i < AQUEUE_QLEN_BUCKETS; i++)
		if (hist[i])
			seq_printf(m, " %u:%llu", i ? 1U << (i - 1) : 0,
				   hist[i]);
	seq_putc(m, '\n');
}

/* Bucket i of the times in queue starts at this many nanoseconds. */
static u64 aq_wait_bucket_low(unsigned int i)
{
	return i ? 1ULL << (i + AQUEUE_WAIT_SHIFT - 1) : 0;
}

static void aq_show_wait_hist(struct seq_file *m, const u64 *hist)
{
	unsigned int i;

	for (i = 0; i < AQUEUE_WAIT_BUCKETS; i++)
		if (hist[i])
			seq_printf(m, " %llu:%llu", aq_wait_bucket_low(i),
				   hist[i]);
	seq_putc(m, '\n');
}

/* TCP listeners: the SYN queue and the handshake. */
static void aq_show_syn_detail(struct seq_file *m, u32 id,
			       const struct aq_detail *d)
{
	const struct aq_syn *syn = &d->syn;

	seq_printf(m, "listener %u syn synq_now %u synq_full_drops %llu synq_full_cookies %llu syn_cookies %llu synack_retrans %llu handshake_sum_ns %llu handshake_max_ns %llu\n",
		   id, d->synq_len, syn->synq_full_drops,
		   syn->synq_full_cookies, syn->syn_cookies,
		   syn->synack_retrans, syn->handshake_sum_ns,
		   syn->handshake_max_ns);
	seq_printf(m, "listener %u synq", id);
	aq_show_qlen_hist(m, syn->synq_hist);
	seq_printf(m, "listener %u handshake_ns", id);
	aq_show_wait_hist(m, syn->handshake_hist);
}

/* UDP sockets: the receive buffer. */
static void aq_show_udp_detail(struct seq_file *m, u32 id,
			       const struct aq_detail *d)
{
	seq_printf(m, "listener %u udp rmem_now %u drops_rcvbuf %llu\n",
		   id, d->rmem, d->udp.drops_rcvbuf);
	seq_printf(m, "listener %u qbytes", id);
	aq_show_qlen_hist(m, d->udp.qbytes_hist);
}

static void aq_show_detail(struct seq_file *m, struct aq_listener *l)
{
	struct aq_detail *d = &((struct aq_reader *)m->private)->detail;
	const struct aq_watch_live *live = &d->live;

	if (!aq_listener_read_detail(l, d))
		return;
	seq_printf(m, "listener %u drops_syn_acceptq %llu drops_ack_acceptq %llu drops_other %llu drained 0 migrated_in %llu migrated_out %llu untimed %llu resynced %llu observed_ns %llu qlen_area_ns %llu wait_sum_ns %llu waited %llu",
		   l->id, d->drops_syn_acceptq, d->drops_ack_acceptq,
		   d->drops_other, d->migrated_in, d->migrated_out,
		   d->untimed, d->resynced, d->observed_ns,
		   d->qlen_area_ns, d->wait_sum_ns, d->waited);
	seq_printf(m, " hol_age_ns %llu since_accept_ns %llu since_drop_ns %llu stalled %d overflowing %d ino %lu backlog_asked %u somaxconn %u reuseport_group %u",
		   live->hol_age_ns, live->since_accept_ns,
		   live->since_drop_ns, live->stalled, live->overflowing,
		   l->ino, d->backlog_asked, d->somaxconn,
		   d->reuseport_group);
	seq_printf(m, "\nlistener %u qlen", l->id);
	aq_show_qlen_hist(m, d->qlen_hist);
	seq_printf(m, "listener %u wait_ns", l->id);
	aq_show_wait_hist(m, d->wait_hist);
	if (aq_is_udp(l))
		aq_show_udp_detail(m, l->id, d);
	else if (l->family != AF_UNIX)
		aq_show_syn_detail(m, l->id, d);
}

static int aq_seq_show(struct seq_file *m, void *v)
{
	if (v == SEQ_START_TOKEN)
		aq_show_header(m);
	else if (v == AQ_SEPARATOR)
		seq_putc(m, '\n');
	else if (m->index < AQ_POS_DETAILS)
		aq_show_row(m, v);
	else
		aq_show_detail(m, v);
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
	r->privileged = file_ns_capable(file, &init_user_ns, CAP_SYS_PTRACE);
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
