// SPDX-License-Identifier: GPL-2.0
/* Which listeners are tracked; see filter.h. */
#include <linux/bitmap.h>
#include <linux/ctype.h>
#include <linux/lockdep.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/socket.h>

#include "config.h"
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

static DECLARE_BITMAP(aq_udp_ports, 1U << 16);
static unsigned int aq_udp_ports_count;

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

	if (kind == AQ_KIND_UDP && !aq_udp_port_on(port))
		return false;
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

bool aq_udp_port_on(u16 port)
{
	return test_bit(port, aq_udp_ports);
}

unsigned int aq_udp_nports(void)
{
	return READ_ONCE(aq_udp_ports_count);
}

int aq_ports_parse(char *list, const char *empty_word, u16 *ports,
		   unsigned int max, unsigned int *n)
{
	char *word;
	u16 port;

	*n = 0;
	if (!strcmp(list, empty_word))
		return 0;
	while ((word = strsep(&list, ","))) {
		if (*n == max || !isdigit(word[0]) ||
		    kstrtou16(word, 10, &port) || !port)
			return -EINVAL;
		ports[(*n)++] = port;
	}
	return 0;
}

void aq_udp_ports_set(const u16 *ports, unsigned int n)
{
	unsigned int i;

	lockdep_assert_held(&aq_config_lock);
	bitmap_zero(aq_udp_ports, 1U << 16);
	for (i = 0; i < n; i++)
		set_bit(ports[i], aq_udp_ports);
	WRITE_ONCE(aq_udp_ports_count,
		   bitmap_weight(aq_udp_ports, 1U << 16));
}

void aq_udp_ports_show(struct seq_file *m)
{
	unsigned int port, n = 0;

	seq_puts(m, "udp_ports ");
	for_each_set_bit(port, aq_udp_ports, 1U << 16)
		seq_printf(m, "%s%u", n++ ? "," : "", port);
	seq_puts(m, n ? "\n" : "none\n");
}

void aq_filter_exit(void)
{
	struct aq_filter_rcu *old;

	old = rcu_dereference_protected(aq_filter_active, true);
	RCU_INIT_POINTER(aq_filter_active, NULL);
	kfree(old);	/* no reader is left: the probes are gone */
}
