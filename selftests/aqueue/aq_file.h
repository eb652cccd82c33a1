/* SPDX-License-Identifier: GPL-2.0 */
/* Small files (procfs, sysfs, debugfs) read and written whole. */
#ifndef AQ_FILE_H
#define AQ_FILE_H

#include <stddef.h>
#include <sys/types.h>

int aq_path_exists(const char *path);

/* Reads a whole small file into buf (NUL-terminated); returns its length. */
ssize_t aq_read_file(const char *path, char *buf, size_t size);

/* The number a small file holds (sysfs, debugfs), or -1. */
long long aq_read_number(const char *path);

/* Writes text to a small file (sysctl, control) in one write(); 0 or -errno. */
int aq_write_file(const char *path, const char *text);

/*
 * Reads a whole file with read()s of at most `chunk` bytes; returns it
 * NUL-terminated (to be freed) with its length in *lenp, or NULL with
 * -errno in *errp.
 */
char *aq_read_chunked(const char *path, size_t chunk, size_t *lenp,
		      int *errp);

#endif /* AQ_FILE_H */
