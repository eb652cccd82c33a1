// SPDX-License-Identifier: GPL-2.0
/* The probe registry; see probes.h. */
#include <linux/cpumask.h>
#include <linux/kallsyms.h>
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/sched/clock.h>
#include <linux/workqueue.h>
#include <net/sock.h>

#include "config.h"
#include "listener.h"
#include "probes.h"
#include "queue.h"
#include "sock.h"

/* Room for every probe of every set, for the batch unregistration. */
#define AQ_PROBES_MAX 32

static DEFINE_PER_CPU(u64[AQ_PROBES_MAX], aq_probe_ns);

static struct aq_probe_set *const *aq_sets;
static unsigned int aq_nsets;

static unsigned long aq_missed_seen;
/* When the handlers last summed the probes' misses. */
unsigned long aq_missed_checked;

int aq_probes_init(struct aq_probe_set *const *sets, unsigned int count)
{
	unsigned int s, i, total = 0;

	for (s = 0; s < count; s++) {
		for (i = 0; i < sets[s]->count; i++) {
			struct aq_probe *p = &sets[s]->probes[i];

			/* A hole in a table, or an entry without handlers. */
			if (WARN_ON(!p->symbol || !(p->pre || p->ret)))
				return -EINVAL;
			if (WARN_ON(total + i >= AQ_PROBES_MAX))
				return -E2BIG;
			p->index = total + i;
		}
		total += sets[s]->count;
	}
	aq_sets = sets;
	aq_nsets = count;
	return 0;
}

/* The @i-th probe of all the sets, in the order of registration. */
static struct aq_probe *aq_probe_at(unsigned int i,
				    const struct aq_probe_set **set)
{
	unsigned int s;

	for (s = 0; s < aq_nsets; s++) {
		if (i < aq_sets[s]->count) {
			*set = aq_sets[s];
			return &aq_sets[s]->probes[i];
		}
		i -= aq_sets[s]->count;
	}
	return NULL;
}

#define aq_for_each_probe(p, set, i)					\
	for ((i) = 0; ((p) = aq_probe_at((i), &(set))); (i)++)

static bool aq_probe_is_kretprobe(const struct aq_probe *p)
{
	return p->ret;
}

static struct kprobe *aq_probe_kprobe(struct aq_probe *p)
{
	return aq_probe_is_kretprobe(p) ? &p->krp.kp : &p->kp;
}

static unsigned long aq_probe_missed(struct aq_probe *p)
{
	unsigned long missed = p->missed_before;

	if (READ_ONCE(p->registered)) {
		missed += READ_ONCE(aq_probe_kprobe(p)->nmissed);
		if (aq_probe_is_kretprobe(p))
			missed += READ_ONCE(p->krp.nmissed);
	}
	return missed;
}

static unsigned long aq_probes_missed_of(unsigned int flags)
{
	unsigned long missed = 0;
	unsigned int s, i;

	for (s = 0; s < aq_nsets; s++)
		for (i = 0; i < aq_sets[s]->count; i++)
			if ((aq_sets[s]->probes[i].flags & flags) == flags)
				missed += aq_probe_missed(&aq_sets[s]->probes[i]);
	return missed;
}

unsigned long aq_probes_missed(void)
{
	return aq_probes_missed_of(0);
}

void aq_probes_resync_on_miss(void)
{
	unsigned long missed = aq_probes_missed_of(AQ_PROBE_QUEUE);

	if (unlikely(missed != READ_ONCE(aq_missed_seen))) {
		WRITE_ONCE(aq_missed_seen, missed);
		aq_queue_check_all();
	}
}

static int aq_noop_pre(struct kprobe *p, struct pt_regs *regs)
{
	return 0;
}

static int aq_noop(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return 0;
}

static int aq_timed_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct aq_probe *p = container_of(kp, struct aq_probe, kp);
	u64 start = local_clock();
	int ret = p->pre(kp, regs);

	this_cpu_add(aq_probe_ns[p->index], local_clock() - start);
	return ret;
}

static int aq_timed_kretprobe(struct kretprobe_instance *ri,
			      struct pt_regs *regs, bool entry)
{
	struct aq_probe *p = container_of(aq_kretprobe_of(ri), struct aq_probe,
					  krp);
	u64 start = local_clock();
	int ret = entry ? p->entry(ri, regs) : p->ret(ri, regs);

	this_cpu_add(aq_probe_ns[p->index], local_clock() - start);
	return ret;
}

static int aq_timed_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return aq_timed_kretprobe(ri, regs, true);
}

static int aq_timed_return(struct kretprobe_instance *ri,
			   struct pt_regs *regs)
{
	return aq_timed_kretprobe(ri, regs, false);
}

static void aq_probe_set_handlers(struct aq_probe *p)
{
	if (!aq_probe_is_kretprobe(p)) {
		p->kp.pre_handler = aq_empty_handlers ? aq_noop_pre :
				    aq_profile_handlers ? aq_timed_pre : p->pre;
	} else if (aq_empty_handlers) {
		p->krp.entry_handler = aq_noop;
		p->krp.handler = aq_noop;
	} else if (aq_profile_handlers) {
		p->krp.entry_handler = p->entry ? aq_timed_entry : NULL;
		p->krp.handler = aq_timed_return;
	} else {
		p->krp.entry_handler = p->entry;
		p->krp.handler = p->ret;
	}
}

/*
 * Where the probed function's code lies, from kallsyms' "name+off/size",
 * for aq_probe_called_from(); left empty if that cannot be read.
 */
static void aq_probe_find_text(struct aq_probe *p)
{
	char sym[KSYM_SYMBOL_LEN], *plus, *slash;
	unsigned long addr = (unsigned long)aq_probe_kprobe(p)->addr;
	unsigned long offset, size;

	p->text_start = 0;
	p->text_end = 0;
	sprint_symbol(sym, addr);
	plus = strrchr(sym, '+');
	slash = plus ? strchr(plus, '/') : NULL;
	if (!slash)
		return;
	*slash = '\0';
	if (kstrtoul(plus + 1, 16, &offset) ||
	    sscanf(slash + 1, "0x%lx", &size) != 1 || offset > addr)
		return;
	p->text_start = addr - offset;
	p->text_end = p->text_start + size;
}

bool aq_probe_called_from(struct pt_regs *regs, const struct aq_probe *p)
{
	unsigned long ret = regs_get_kernel_stack_nth(regs, 0);

	return ret >= p->text_start && ret < p->text_end;
}

static int aq_probe_register(struct aq_probe *p)
{
	struct kprobe *kp = aq_probe_kprobe(p);
	int err;

	WRITE_ONCE(p->disarm_asked, false);
	p->disarmed = false;
	/* A kprobe can be registered again only with these cleared. */
	kp->addr = NULL;
	kp->flags = 0;
	kp->nmissed = 0;
	kp->symbol_name = p->symbol;
	aq_probe_set_handlers(p);
	if (aq_probe_is_kretprobe(p)) {
		p->krp.nmissed = 0;
		p->krp.data_size = p->data_size;
		if (p->flags & AQ_PROBE_SLEEPS)
			p->krp.maxactive = aq_accept_maxactive;
		else
			p->krp.maxactive = 16 + 4 * num_possible_cpus();
		err = register_kretprobe(&p->krp);
	} else {
		err = register_kprobe(kp);
	}
	if (err)
		return err;
	/*
	 * A kprobe that does not ride on ftrace traps through int3, whose
	 * handler runs as an NMI: there the handlers' allocations and the
	 * table's bucket locks (which disable bottom halves) are not allowed.
	 * Kernels with KPROBES_ON_FTRACE, Debian's among them, put every probe
	 * at a function's entry on ftrace, unless the function is notrace.
	 */
	if (!(kp->flags & KPROBE_FLAG_FTRACE)) {
		pr_err("%s is not probed through ftrace (a kernel without KPROBES_ON_FTRACE, or a notrace function): its handler would run as an NMI\n",
		       kp->symbol_name);
		if (aq_probe_is_kretprobe(p))
			unregister_kretprobe(&p->krp);
		else
			unregister_kprobe(kp);
		return -EOPNOTSUPP;
	}
	aq_probe_find_text(p);
	WRITE_ONCE(p->registered, true);
	return 0;
}

/*
 * Unregisters the first @count probes (UINT_MAX: all) in one go: the batch
 * calls wait for one RCU grace period each instead of one per probe, which
 * keeps rmmod quick (under emulation a grace period is tens of
 * milliseconds).
 */
static void aq_probes_unregister_some(unsigned int count, bool udp_only)
{
	struct kretprobe *krps[AQ_PROBES_MAX];
	struct kprobe *kps[AQ_PROBES_MAX];
	const struct aq_probe_set *set;
	int nkrp = 0, nkp = 0;
	struct aq_probe *p;
	unsigned int i;

	aq_for_each_probe(p, set, i) {
		if (i == count)
			break;
		if (!p->registered || (udp_only && !set->udp))
			continue;
		if (aq_probe_is_kretprobe(p))
			krps[nkrp++] = &p->krp;
		else
			kps[nkp++] = &p->kp;
	}
	if (nkrp)
		unregister_kretprobes(krps, nkrp);
	if (nkp)
		unregister_kprobes(kps, nkp);
	aq_for_each_probe(p, set, i) {
		if (i == count)
			break;
		if (!p->registered || (udp_only && !set->udp))
			continue;
		p->missed_before = aq_probe_missed(p);
		WRITE_ONCE(p->registered, false);
	}
}

int aq_probes_register(void)
{
	const struct aq_probe_set *set;
	struct aq_probe *p;
	unsigned int i;
	int err;

	aq_for_each_probe(p, set, i) {
		if (set->udp || (p->flags & AQ_PROBE_ABSENT))
			continue;
		err = aq_probe_register(p);
		if (!err)
			continue;
		if (p->flags & AQ_PROBE_OPTIONAL) {
			pr_warn("cannot probe %s (error %d); going on without it\n",
				p->symbol, err);
			continue;
		}
		pr_err("cannot probe %s (error %d)\n", p->symbol, err);
		goto err_unregister;
	}
	aq_missed_seen = aq_probes_missed_of(AQ_PROBE_QUEUE);
	/* Events seen while only some probes were in place do not count. */
	aq_queue_resync_all();
	return 0;

err_unregister:
	aq_probes_unregister_some(i, false);
	return err;
}

void aq_probes_unregister(void)
{
	aq_probes_unregister_some(UINT_MAX, false);
}

/*
 * disable_kprobe() takes the kprobes' mutex, which a handler cannot. The
 * configuration lock keeps the registrations still; a probe registered
 * again since the handler asked was armed afresh and stays so.
 */
static void aq_disarm_fn(struct work_struct *work)
{
	const struct aq_probe_set *set;
	struct aq_probe *p;
	unsigned int i;

	mutex_lock(&aq_config_lock);
	aq_for_each_probe(p, set, i) {
		if (!p->registered || p->disarmed ||
		    !READ_ONCE(p->disarm_asked))
			continue;
		if (!disable_kprobe(aq_probe_kprobe(p)))
			p->disarmed = true;
	}
	mutex_unlock(&aq_config_lock);
}

static DECLARE_WORK(aq_disarm_work, aq_disarm_fn);

void aq_probe_disarm(struct aq_probe *p)
{
	if (READ_ONCE(p->disarm_asked))
		return;
	WRITE_ONCE(p->disarm_asked, true);
	schedule_work(&aq_disarm_work);
}

void aq_probes_exit(void)
{
	cancel_work_sync(&aq_disarm_work);
}

bool aq_probes_udp_registered(void)
{
	const struct aq_probe_set *set;
	struct aq_probe *p;
	unsigned int i;

	aq_for_each_probe(p, set, i)
		if (set->udp && p->registered)
			return true;
	return false;
}

int aq_probes_udp(bool on)
{
	const struct aq_probe_set *set;
	struct aq_probe *p;
	unsigned int i;
	int err;

	if (!on) {
		aq_probes_unregister_some(UINT_MAX, true);
		return 0;
	}
	aq_for_each_probe(p, set, i) {
		if (!set->udp || p->registered)
			continue;
		err = aq_probe_register(p);
		if (err) {
			pr_err("cannot probe %s (error %d)\n", p->symbol, err);
			aq_probes_unregister_some(UINT_MAX, true);
			return err;
		}
	}
	/* Datagrams seen while only some were in place do not count. */
	aq_queue_resync_all();
	return 0;
}

bool aq_probes_info(unsigned int i, struct aq_probe_info *info)
{
	const struct aq_probe_set *set;
	struct aq_probe *p = aq_probe_at(i, &set);
	unsigned int index;
	int cpu;

	if (!p)
		return false;
	index = p - set->probes;
	info->symbol = p->symbol;
	info->absent = p->flags & AQ_PROBE_ABSENT;
	info->kretprobe = aq_probe_is_kretprobe(p);
	info->registered = p->registered;
	info->armed = p->registered && !p->disarmed;
	info->hits = 0;
	for_each_possible_cpu(cpu)
		info->hits += *per_cpu_ptr(set->hits + index, cpu);
	info->missed = aq_probe_missed(p);
	info->maxactive = info->kretprobe ? p->krp.maxactive : 0;
	info->ns = -1;
	if (aq_profile_handlers) {
		info->ns = 0;
		for_each_possible_cpu(cpu)
			info->ns += per_cpu(aq_probe_ns, cpu)[p->index];
	}
	return true;
}

int aq_probe_listen_return(struct kretprobe_instance *ri,
			   struct pt_regs *regs)
{
	struct sock *sk = *(struct sock **)ri->data;

	if ((int)regs_return_value(regs) || !aq_sock_trackable(sk))
		return 0;
	rcu_read_lock();
	aq_listener_listen(sk);
	rcu_read_unlock();
	return 0;
}
