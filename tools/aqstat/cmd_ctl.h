/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * aqstat ctl: one command line written to the module's debugfs control
 * file in one write, or the file printed, with an answer for each way
 * that can fail.
 */
#ifndef AQSTAT_CMD_CTL_H
#define AQSTAT_CMD_CTL_H

/* @argv: the words after "ctl" */
int run_ctl(int argc, char **argv);

#endif /* AQSTAT_CMD_CTL_H */
