/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The probe registry. Each kind of socket (probe_tcp.c, probe_unix.c,
 * probe_udp.c) lists its probes once and hands the registry a set; the
 * registry registers and unregisters them, counts their hits and misses,
 * and for the benchmark's empty-handler mode registers no-op handlers in
 * place of theirs. Handlers stay short: look the listener up, update it
 * under its own lock.
 */
#ifndef AQUEUE_PROBES_H
#define AQUEUE_PROBES_H

#include <linux/jiffies.h>
#include <linux/kprobes.h>
#include <linux/percpu.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/types.h>

#include "listener.h"
#include "queue.h"
#include "table.h"

struct sock;

enum aq_probe_flags {
	/*
	 * A kretprobe held across a sleep (accept(), a blocking connect,
	 * recvmsg()): one instance per sleeping task, accept_maxactive of
	 * them; the others have a few per CPU.
	 */
	AQ_PROBE_SLEEPS = 1 << 0,
	/* IPv6 may be a module that is not loaded: go on without it. */
	AQ_PROBE_OPTIONAL = 1 << 1,
	/*
	 * Its events move a listener's queue model: a missed hit makes the
	 * listeners compare their queues with the kernel's.
	 */
	AQ_PROBE_QUEUE = 1 << 2,
	/* Not on this kernel (see the compat header): never registered. */
	AQ_PROBE_ABSENT = 1 << 3,
};

struct aq_probe {
	const char *symbol;
	kprobe_pre_handler_t pre;	/* a kprobe's handler */
	kretprobe_handler_t entry;	/* or a kretprobe's two */
	kretprobe_handler_t ret;
	size_t data_size;		/* carried from entry to return */
	unsigned int flags;		/* enum aq_probe_flags */
	/* The registry's. */
	union {
		struct kprobe kp;
		struct kretprobe krp;
	};
	unsigned int index;		/* among all the sets' probes */
	bool registered;
	/* Asked for by a handler; done by a work item (see aq_probe_disarm). */
	bool disarm_asked;
	bool disarmed;
	unsigned long missed_before;	/* by earlier registrations */
	/* The probed function's code, for aq_probe_called_from(). */
	unsigned long text_start;
	unsigned long text_end;
};

struct aq_probe_set {
	struct aq_probe *probes;
	unsigned int count;
	unsigned long __percpu *hits;	/* one counter per probe */
	/* Registered only while some UDP port is watched. */
	bool udp;
};

/*
 * A kind of socket names its probes in an enum, in the order they are
 * registered (AQ_PROBE_SYN, for aq_hit()), and describes each in one
 * entry of its table: the function probed, a kprobe's handler or a
 * kretprobe's two, the data carried from entry to return, flags. The
 * registry refuses a table with a hole.
 */
#define aq_hit(index) this_cpu_inc(aq_probe_hits[index])

/* A table's entries: a kprobe, or a kretprobe carrying @size bytes. */
#define AQ_KPROBE_FLAGS(sym, handler, probe_flags) {			\
	.symbol = (sym), .pre = (handler), .flags = (probe_flags) }
#define AQ_KPROBE(sym, handler) AQ_KPROBE_FLAGS(sym, handler, 0)
#define AQ_KRETPROBE(sym, on_entry, on_return, size, probe_flags) {	\
	.symbol = (sym), .entry = (on_entry), .ret = (on_return),	\
	.data_size = (size), .flags = (probe_flags) }

#define AQ_PROBE_SET(set, table, is_udp)				\
	struct aq_probe_set set = {					\
		.probes = table,					\
		.count = ARRAY_SIZE(table),				\
		.hits = aq_probe_hits,					\
		.udp = is_udp,						\
	}

/* The sets, in the order they are registered; once, before the first. */
int aq_probes_init(struct aq_probe_set *const *sets, unsigned int count);
int aq_probes_register(void);
void aq_probes_unregister(void);
/* Once the probes are unregistered, before the module goes. */
void aq_probes_exit(void);
/* Registers the UDP probes, or unregisters them; all or none. */
int aq_probes_udp(bool on);
bool aq_probes_udp_registered(void);
/* The probes' misses since they were first registered. */
unsigned long aq_probes_missed(void);

/*
 * A missed hit of an AQ_PROBE_QUEUE probe leaves the queue models unsure:
 * if there are new misses, every listener compares its queue length with
 * the kernel's at its next event.
 */
void aq_probes_resync_on_miss(void);

/*
 * From the handlers and the watch's periodic look: summing nmissed over
 * every probe costs some 150 to 200 instructions, too much for every
 * accept and datagram, so they look at most once per jiffy. The count
 * itself, read from the probes each time, loses nothing. Inline for the
 * accept path.
 */
extern unsigned long aq_missed_checked;
static inline void aq_probes_check_missed(void)
{
	unsigned long now = jiffies;

	if (likely(READ_ONCE(aq_missed_checked) == now))
		return;
	WRITE_ONCE(aq_missed_checked, now);
	aq_probes_resync_on_miss();
}

/*
 * From a handler, when another probe turns out to see all that kprobe @p
 * sees on this kernel (which a build cannot tell: it depends on what the
 * compiler inlined): @p stops counting at once and is disabled soon after
 * by a work item, saving its hits. It is armed again when the probes are
 * next registered.
 */
void aq_probe_disarm(struct aq_probe *p);
static inline bool aq_probe_disarming(const struct aq_probe *p)
{
	return READ_ONCE(p->disarm_asked);
}

/*
 * From a kprobe's handler at a function's entry: whether the function was
 * called from the code of probe @p's function (a real call, not an
 * inlined copy). False if another tool's kretprobe on the function has
 * already replaced the return address.
 */
bool aq_probe_called_from(struct pt_regs *regs, const struct aq_probe *p);

struct aq_probe_info {
	const char *symbol;
	bool absent;	/* the function is not on this kernel */
	bool kretprobe;
	bool registered;
	bool armed;
	unsigned long hits;
	unsigned long missed;
	int maxactive;
	s64 ns;		/* in the handlers, when profiled; else -1 */
};

/* The @i-th probe in the order of registration; false past the last. */
bool aq_probes_info(unsigned int i, struct aq_probe_info *info);

/* What the handlers of more than one kind share. */
static inline struct sock *aq_sk_arg(struct pt_regs *regs, unsigned int n)
{
	return (struct sock *)aq_probe_arg(regs, n);
}

/* inet_listen() or unix_listen() returned; its entry kept the socket. */
int aq_probe_listen_return(struct kretprobe_instance *ri,
			   struct pt_regs *regs);

/*
 * Applies @update(listener, ...) to the listener of @sk, found (or with
 * @create, made) under RCU. Evaluates to whether there was one.
 */
#define aq_probe_update(sk, create, update, ...)			\
({									\
	struct aq_listener *__l;					\
									\
	rcu_read_lock();						\
	__l = aq_listener_get((sk), (create));				\
	if (__l)							\
		update(__l, ##__VA_ARGS__);				\
	rcu_read_unlock();						\
	__l != NULL;							\
})

/* accept() took the head of @sk's queue: TCP and unix alike. */
static inline void aq_probe_accepted(struct sock *sk)
{
	struct aq_listener *l;

	aq_probes_check_missed();
	rcu_read_lock();
	l = aq_table_lookup(sk);
	if (!l)
		l = aq_listener_add_after_accept(sk);
	if (l)
		aq_queue_dequeue(l, sk);
	rcu_read_unlock();
}

#endif /* AQUEUE_PROBES_H */
