/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every test starts from a freshly loaded module (so the closed totals and
 * `tracked` start from the test's own baseline) and unloads it at the end.
 * Without the module (e.g. on a host kernel that cannot load modules) a
 * test either still drives the kernel and checks its own oracles, then
 * SKIPs (AQ_FINISH), or SKIPs at once.
 *
 * And the harness's main(), with its compiled-in per-test limits stretched
 * for a slow kernel.
 */
#ifndef AQ_FIXTURE_H
#define AQ_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "aq_module.h"
#include "aq_netns.h"

struct __test_metadata;
struct __fixture_metadata;

struct aq_ctx {
	bool module;
	int64_t start_ns;	/* when the test's setup began */
};

void aq_ctx_setup(struct __test_metadata *_metadata, struct aq_ctx *c,
		  const char *params);

/*
 * For a test that keeps more than @instances threads asleep in accept() or
 * connect() at once, each holding a kretprobe instance: where the lane has
 * loaded the module with fewer ($AQ_LOAD_PARAMS names accept_maxactive),
 * load it again with enough. Elsewhere the default (8192) is kept.
 */
void aq_ctx_need_instances(struct __test_metadata *_metadata,
			   struct aq_ctx *c, int instances);

void aq_ctx_teardown(struct __test_metadata *_metadata, struct aq_ctx *c);

/*
 * Logs how long the test took since its setup began, module load and
 * unload included: the suite must stay quick under TCG.
 */
void aq_ctx_log_cost(struct __test_metadata *_metadata,
		     const struct aq_ctx *c);

#define AQ_FINISH(c) do {						\
	if (!(c)->module)						\
		SKIP(return, "no module at %s: only the kernel's oracles were checked", \
		     aq_module_path());					\
} while (0)

/* Whether a fixture's tests run without the module (see above). */
enum { AQ_MODULE_OPTIONAL, AQ_MODULE_REQUIRED };

/*
 * What a fixture's tests need besides the module (a tool, say): called in
 * the setup once the module is loaded, it SKIPs the test when that is
 * missing.
 */
typedef void (*aq_ready_fn)(struct __test_metadata *_metadata);

#define __AQ_FIXTURE(name, params, need, ready, log_cost)		\
	FIXTURE(name) {							\
		struct aq_ctx c;					\
	};								\
	FIXTURE_SETUP(name)						\
	{								\
		aq_ready_fn __ready = (ready);				\
									\
		aq_ctx_setup(_metadata, &self->c, params);		\
		if ((need) == AQ_MODULE_REQUIRED && !self->c.module)	\
			SKIP(return, "no module at %s", aq_module_path()); \
		if (__ready)						\
			__ready(_metadata);				\
	}								\
	FIXTURE_TEARDOWN(name)						\
	{								\
		aq_ctx_teardown(_metadata, &self->c);			\
		if (log_cost)						\
			aq_ctx_log_cost(_metadata, &self->c);		\
	}

/*
 * A fixture whose data is the context `c` of a module loaded with params
 * for each test. Declare the fixture's variant first where params come
 * from it (`variant->params`).
 */
#define AQ_FIXTURE(name, params, need)					\
	__AQ_FIXTURE(name, params, need, NULL, false)

/*
 * AQ_FIXTURE whose tests also log what each costs (aq_ctx_log_cost()) and
 * SKIP where ready (an aq_ready_fn, or NULL) says something is missing.
 */
#define AQ_FIXTURE_TIMED(name, params, need, ready)			\
	__AQ_FIXTURE(name, params, need, ready, true)

/*
 * Where a test whose body runs in a fresh network namespace stands on the
 * module, named in the order things happen (FINISH: AQ_FINISH). The
 * harness (6.1's) runs a test's body even after its setup SKIPped.
 */
enum aq_netns_order {
	AQ_RUN,			/* the setup SKIPs without the module */
	AQ_RUN_IF_MODULE,	/* the same, and the body does not run then */
	AQ_RUN_THEN_FINISH,	/* the body checks the kernel without it */
	AQ_FINISH_THEN_RUN,	/* SKIP without it, before the body */
};

/* aq_in_netns(fn, arg), with c's AQ_FINISH where order puts it. */
void aq_netns_test(struct __test_metadata *_metadata, struct aq_ctx *c,
		   enum aq_netns_order order, aq_netns_fn fn, void *arg);

/*
 * A test of an AQ_FIXTURE whose body is fn(arg) in a fresh network
 * namespace. arg may be built from self and variant, as a compound
 * literal (`&(struct x){ &self->c, variant->n }`): it lives until the
 * test returns, past the child.
 */
#define AQ_NETNS_TEST_TIMEOUT(fixture, name, timeout, order, fn, ...)	\
	TEST_F_TIMEOUT(fixture, name, timeout)				\
	{								\
		aq_netns_test(_metadata, &self->c, order, fn, __VA_ARGS__); \
	}

#define AQ_NETNS_TEST(fixture, name, order, fn, ...)			\
	AQ_NETNS_TEST_TIMEOUT(fixture, name, TEST_TIMEOUT_DEFAULT,	\
			      order, fn, __VA_ARGS__)

/*
 * The debug kernel (KASAN, lockdep and kmemleak under TCG) runs everything
 * some AQ_SLOWDOWN times slower. The harness's per-test limits
 * (TEST_F_TIMEOUT) are compiled in, so they are stretched here, before the
 * run, rather than sized for the slowest kernel everywhere.
 */
void aq_scale_timeouts(struct __fixture_metadata *fixtures);

/* test_harness_run(), with the limits scaled for a slow kernel. */
#define aq_harness_main(argc, argv)					\
	(aq_scale_timeouts(__fixture_list), test_harness_run(argc, argv))

/* TEST_HARNESS_MAIN, with the limits scaled for a slow kernel. */
#define AQ_TEST_HARNESS_MAIN						\
	int main(int argc, char **argv)					\
	{								\
		return aq_harness_main(argc, argv);			\
	}

#endif /* AQ_FIXTURE_H */
