// SPDX-License-Identifier: GPL-2.0
/* Which listeners are tracked; see filter.h. */
#include <linux/lockdep.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/socket.h>

#include "aqueue.h"
#include "filter.h"

struct aq_filter_rcu {
	struct aq_filter f;
	struct rcu_head rcu;
};

static const struct aq_filter aq_filter_any = {
	.kinds = AQ_KIND_ALL,
};

/* NULL means "track everything": the common case costs one load. */
static struct aq_filter_rcu __rcu *aq_filter_active;

static bool aq_filter_is_any(const struct aq_filter *f)
{
	return !f->nports && !f->netns && !f->family &&
	       f->kinds == AQ_KIND_ALL;
}

bool aq_filter_match(u32 netns, u16 family, u16 port, enum aq_kind kind)
{
	const struct aq_filter_rcu *active;
	const struct aq_filter *f;
	bool match = true;
	unsigned int i;

	rcu_read_lock();
	active = rcu_dereference(aq_filter_active);
	if (!active)
		goto out;
	f = &active->f;
	if ((f->netns && f->netns != netns) ||
	    (f->family && f->family != family) || !(f->kinds & kind)) {
		match = false;
		goto out;
	}
	if (f->nports) {
		match = false;
		for (i = 0; i < f->nports; i++)
			if (f->ports[i] == port)
				match = true;
	}
out:
	rcu_read_unlock();
	return match;
}

void aq_filter_get(struct aq_filter *f)
{
	const struct aq_filter_rcu *active;

	lockdep_assert_held(&aq_config_lock);
	active = rcu_dereference_protected(aq_filter_active,
					   lockdep_is_held(&aq_config_lock));
	*f = active ? active->f : aq_filter_any;
}

int aq_filter_set(const struct aq_filter *f)
{
	struct aq_filter_rcu *next = NULL, *old;

	lockdep_assert_held(&aq_config_lock);
	if (!aq_filter_is_any(f)) {
		next = kmalloc(sizeof(*next), GFP_KERNEL);
		if (!next)
			return -ENOMEM;
		next->f = *f;
	}
	old = rcu_dereference_protected(aq_filter_active,
					lockdep_is_held(&aq_config_lock));
	rcu_assign_pointer(aq_filter_active, next);
	if (old)
		kfree_rcu(old, rcu);
	return 0;
}

void aq_filter_show(struct seq_file *m)
{
	struct aq_filter f;
	unsigned int i;

	aq_filter_get(&f);
	seq_puts(m, "filter port ");
	if (!f.nports)
		seq_puts(m, "any");
	for (i = 0; i < f.nports; i++)
		seq_printf(m, "%s%u", i ? "," : "", f.ports[i]);
	seq_puts(m, "\nfilter netns ");
	if (f.netns)
		seq_printf(m, "%u\n", f.netns);
	else
		seq_puts(m, "any\n");
	seq_printf(m, "filter family %s\n",
		   f.family == AF_INET ? "ipv4" :
		   f.family == AF_INET6 ? "ipv6" : "any");
	seq_puts(m, "filter kind ");
	if (f.kinds == AQ_KIND_ALL)
		seq_puts(m, "any");
	else
		seq_printf(m, "%s%s%s", f.kinds & AQ_KIND_TCP ? "tcp" : "",
			   f.kinds & AQ_KIND_UNIX ? "unix" : "",
			   f.kinds & AQ_KIND_UDP ? "udp" : "");
	seq_putc(m, '\n');
}

void aq_filter_exit(void)
{
	struct aq_filter_rcu *old;

	old = rcu_dereference_protected(aq_filter_active, true);
	RCU_INIT_POINTER(aq_filter_active, NULL);
	kfree(old);	/* no reader is left: the probes are gone */
}
