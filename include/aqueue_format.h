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
#define AQUEUE_FORMAT_VERSION	1

#define AQUEUE_PROC_NAME	"aqueue"
#define AQUEUE_DEBUGFS_DIR	"aqueue"
#define AQUEUE_CONTROL_NAME	"control"

/* First line of /proc/aqueue: "aqueue format <version>". */
#define AQUEUE_VERSION_PREFIX	"aqueue format "

/* Control commands, one per line. */
#define AQUEUE_CMD_ENABLE	"enable"
#define AQUEUE_CMD_DISABLE	"disable"
#define AQUEUE_CMD_RESET	"reset"

#endif /* AQUEUE_FORMAT_H */
