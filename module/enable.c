// SPDX-License-Identifier: GPL-2.0
/* aqueue on and off; see enable.h. */
#include <linux/lockdep.h>

#include "config.h"
#include "enable.h"
#include "filter.h"
#include "listener.h"
#include "look.h"
#include "probes.h"
#include "table.h"

static bool aq_enabled;
/* Rows kept from before a disable cannot be trusted after it. */
static bool aq_rows_stale;

bool aq_is_enabled(void)
{
	return READ_ONCE(aq_enabled);
}

int aq_enable(void)
{
	int err;

	lockdep_assert_held(&aq_config_lock);
	if (aq_enabled)
		return 0;
	/*
	 * While the probes were off, listeners may have closed and their
	 * sockets been reused: start from an empty table.
	 */
	if (aq_rows_stale) {
		aq_table_clear();
		aq_rows_stale = false;
	}
	err = aq_probes_register();
	if (err) {
		/*
		 * The probes that did register until one failed may have
		 * made rows: let go of their sockets, as a disable does.
		 */
		aq_listeners_unpin();
		aq_rows_stale = true;
		return err;
	}
	WRITE_ONCE(aq_enabled, true);
	aq_look_start();
	err = aq_udp_apply();
	if (err) {
		aq_disable();
		return err;
	}
	return 0;
}

int aq_udp_apply(void)
{
	bool want = aq_enabled && aq_udp_nports();

	lockdep_assert_held(&aq_config_lock);
	if (want == aq_probes_udp_registered())
		return 0;
	return aq_probes_udp(want);
}

void aq_disable(void)
{
	lockdep_assert_held(&aq_config_lock);
	if (!aq_enabled)
		return;
	aq_look_stop();
	aq_probes_unregister();
	WRITE_ONCE(aq_enabled, false);
	/* Closed listeners must not stay pinned while nothing watches. */
	aq_listeners_unpin();
	aq_rows_stale = true;
}
