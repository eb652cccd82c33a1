// SPDX-License-Identifier: GPL-2.0
#include "aq_harness.h"

#include "aq_clock.h"
#include "aq_fixture.h"

void aq_ctx_setup(struct __test_metadata *_metadata, struct aq_ctx *c,
		  const char *params)
{
	c->start_ns = aq_now_ns();
	c->module = false;
	if (geteuid() != 0)
		SKIP(return, "needs root (network namespaces, the module)");
	if (!aq_path_exists(aq_module_path()))
		return;
	if (aq_is_loaded())
		ASSERT_EQ(0, aq_unload());
	ASSERT_EQ(0, aq_load(params));
	c->module = true;
}

void aq_ctx_need_instances(struct __test_metadata *_metadata,
			   struct aq_ctx *c, int instances)
{
	const char *base = getenv("AQ_LOAD_PARAMS");
	char params[64];

	if (!c->module || !base || !strstr(base, "accept_maxactive"))
		return;
	snprintf(params, sizeof(params), "accept_maxactive=%d", instances);
	ASSERT_EQ(0, aq_unload());
	ASSERT_EQ(0, aq_load(params));
}

void aq_ctx_teardown(struct __test_metadata *_metadata, struct aq_ctx *c)
{
	if (c->module && aq_is_loaded())
		EXPECT_EQ(0, aq_unload());
}

void aq_ctx_log_cost(struct __test_metadata *_metadata,
		     const struct aq_ctx *c)
{
	TH_LOG("took %lld ms (module load and unload included)",
	       (long long)(aq_now_ns() - c->start_ns) / 1000000);
}

void aq_netns_test(struct __test_metadata *_metadata, struct aq_ctx *c,
		   enum aq_netns_order order, aq_netns_fn fn, void *arg)
{
	if (order == AQ_RUN_IF_MODULE && !c->module)
		return;
	if (order == AQ_FINISH_THEN_RUN)
		AQ_FINISH(c);
	aq_in_netns(_metadata, fn, arg);
	if (order == AQ_RUN_THEN_FINISH)
		AQ_FINISH(c);
}

void aq_scale_timeouts(struct __fixture_metadata *fixtures)
{
	const char *env = getenv("AQ_SLOWDOWN");
	int factor = env ? atoi(env) : 1;
	struct __fixture_metadata *f;
	struct __test_metadata *t;

	if (factor > 1)
		for (f = fixtures; f; f = f->next)
			for (t = f->tests; t; t = t->next)
				t->timeout *= factor;
}
