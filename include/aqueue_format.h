/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The contract between the module and its readers (aqstat, the tests):
 * what /proc/aqueue and the control file say, and how the histograms are
 * laid out. Included by kernel and userspace code alike, so it holds
 * only constants.
 */
#ifndef AQUEUE_FORMAT_H
#define AQUEUE_FORMAT_H

/* Raised on any change a strict parser of /proc/aqueue would notice. */
#define AQUEUE_FORMAT_VERSION	3

#define AQUEUE_PROC_NAME	"aqueue"
#define AQUEUE_DEBUGFS_DIR	"aqueue"
#define AQUEUE_CONTROL_NAME	"control"
/* The event stream: /proc/aqueue_events, linked from the debugfs dir. */
#define AQUEUE_EVENTS_PROC_NAME	"aqueue_events"
#define AQUEUE_EVENTS_NAME	"events"

/* First line of /proc/aqueue: "aqueue format <version>". */
#define AQUEUE_VERSION_PREFIX	"aqueue format "

/*
 * Histogram buckets are log2 so that they span microseconds to hours (and
 * queue lengths of 0 to millions) in a few hundred bytes per listener.
 *
 * Queue length: bucket 0 holds 0, bucket i >= 1 holds [2^(i-1), 2^i); the
 * last bucket also holds everything longer.
 */
#define AQUEUE_QLEN_BUCKETS	32

/*
 * Time in queue, in nanoseconds: bucket 0 holds [0, 2^10), bucket i >= 1
 * holds [2^(i+9), 2^(i+10)); the last bucket (from 2^48 ns, 78 hours) also
 * holds everything longer.
 */
#define AQUEUE_WAIT_BUCKETS	40
#define AQUEUE_WAIT_SHIFT	10

/* Control commands, one per line. */
#define AQUEUE_CMD_ENABLE	"enable"
#define AQUEUE_CMD_DISABLE	"disable"
#define AQUEUE_CMD_RESET	"reset"
#define AQUEUE_CMD_FILTER	"filter"
#define AQUEUE_CMD_MAX_LISTENERS "max_listeners"
#define AQUEUE_CMD_MAX_MEMORY	"max_memory"
#define AQUEUE_CMD_UDP_PORTS	"udp_ports"
#define AQUEUE_CMD_STALL_THRESHOLD "stall_threshold_ms"
#define AQUEUE_CMD_BURST_GAP	"burst_gap_ms"
#define AQUEUE_CMD_DROP_LOG	"drop_log"

#endif /* AQUEUE_FORMAT_H */
