// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <unistd.h>

#include "aq_klog.h"

/*
 * One write() per record: dprintf() would lseek(SEEK_CUR) first, which
 * /dev/kmsg refuses (EINVAL), and then write nothing at all.
 */
void aq_klog_mark(const char *marker)
{
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	char line[512];
	int len;

	if (fd < 0)
		return;
	len = snprintf(line, sizeof(line), "%s\n", marker);
	if (len >= (int)sizeof(line))
		len = sizeof(line) - 1;
	if (write(fd, line, len) != len)
		perror("writing a marker to /dev/kmsg");
	close(fd);
}

static const char *const aq_klog_reports[] = {
	"WARNING:", "BUG:", "Oops", "general protection fault",
	"KASAN", "UBSAN", "possible circular locking",
	"possible recursive locking", "suspicious RCU usage",
	"list_add corruption", "list_del corruption",
	"sleeping function called from invalid context",
	"suspected memory leak", "Call Trace:",
};

/* The whole kernel log (to be freed), or NULL. */
static char *aq_klog_read_all(void)
{
	int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *log;

	if (len <= 0)
		return NULL;
	log = calloc(1, len + 1);
	if (!log)
		return NULL;
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, len);
	log[len > 0 ? len : 0] = '\0';
	return log;
}

/* Where marker is in log, or the start of log without it. */
static const char *aq_klog_since(const char *log, const char *marker)
{
	const char *from = strstr(log, marker);

	return from ? from : log;
}

const char *aq_klog_report_since(const char *marker, char *buf, size_t size)
{
	char *log = aq_klog_read_all();
	const char *from;
	size_t i;

	if (!log)
		return NULL;
	from = aq_klog_since(log, marker);
	for (i = 0; i < sizeof(aq_klog_reports) / sizeof(aq_klog_reports[0]);
	     i++) {
		const char *hit = strstr(from, aq_klog_reports[i]);

		if (hit) {
			const char *end = strchr(hit, '\n');
			size_t n = end ? (size_t)(end - hit) : strlen(hit);

			if (n >= size)
				n = size - 1;
			memcpy(buf, hit, n);
			buf[n] = '\0';
			free(log);
			return buf;
		}
	}
	free(log);
	return NULL;
}

int aq_klog_count_since(const char *marker, const char *what)
{
	char *log = aq_klog_read_all();
	const char *p;
	int n = 0;

	if (!log)
		return -1;
	for (p = aq_klog_since(log, marker); (p = strstr(p, what));
	     p += strlen(what))
		n++;
	free(log);
	return n;
}

int aq_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (lseek(fd, 0, SEEK_END) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int aq_hex(char c)
{
	return isdigit((unsigned char)c) ? c - '0' :
	       tolower((unsigned char)c) - 'a' + 10;
}

int aq_kmsg_next(int fd, char *msg, size_t size)
{
	char rec[8192];
	const char *p, *end;
	size_t o = 0;
	ssize_t n;

	do {
		n = read(fd, rec, sizeof(rec) - 1);
		/*
		 * EPIPE: records were overwritten before this read; the
		 * next one goes on with the oldest one left.
		 */
	} while (n < 0 && (errno == EINTR || errno == EPIPE));
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	rec[n] = '\0';
	/* "PRIORITY,SEQUENCE,TIMESTAMP,FLAGS;TEXT\n" then " KEY=VALUE" lines */
	p = strchr(rec, ';');
	if (!p)
		return -EPROTO;
	end = strchr(++p, '\n');
	if (!end)
		end = p + strlen(p);
	while (p < end && o + 1 < size) {
		if (end - p >= 4 && p[0] == '\\' && p[1] == 'x' &&
		    isxdigit((unsigned char)p[2]) &&
		    isxdigit((unsigned char)p[3])) {
			msg[o++] = aq_hex(p[2]) << 4 | aq_hex(p[3]);
			p += 4;
		} else {
			msg[o++] = *p++;
		}
	}
	msg[o] = '\0';
	return 1;
}
