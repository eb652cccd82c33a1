// SPDX-License-Identifier: GPL-2.0 OR MIT
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cmd_ctl.h"
#include "die.h"
#include "load.h"

#define DEBUGFS_MAGIC_NR	0x64626720
#define DEFAULT_DEBUGFS		"/sys/kernel/debug"

int run_ctl(int argc, char **argv)
{
	const char *env = getenv("AQSTAT_CONTROL");
	const char *dbg = getenv("AQSTAT_DEBUGFS");
	char *path, *buf;
	size_t len = 0;
	struct statfs sfs;
	int fd, e;

	if (argc > 0 && (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help"))) {
		printf("usage: aqstat ctl [WORD...]\n"
		       "Writes the words, joined by spaces, as one line to the control file\n"
		       "(one write); with no words prints it. The commands are in aqstat(8),\n"
		       "CONTROL: e.g. 'aqstat ctl enable', 'aqstat ctl reset'.\n");
		return EX_OK;
	}
	if (env && *env) {
		path = xstrdup(env);	/* explicit: no root or mount checks */
	} else {
		if (!dbg || !*dbg)
			dbg = DEFAULT_DEBUGFS;
		if (geteuid() != 0)
			die(EX_PERM, "ctl needs root: the control file %s/%s/%s is root only (try sudo)",
			    dbg, AQUEUE_DEBUGFS_DIR, AQUEUE_CONTROL_NAME);
		if (statfs(dbg, &sfs) || sfs.f_type != DEBUGFS_MAGIC_NR)
			die(EX_NODEBUGFS, "debugfs is not mounted on %s.\nMount it with: mount -t debugfs none %s",
			    dbg, dbg);
		path = xasprintf("%s/%s/%s", dbg, AQUEUE_DEBUGFS_DIR, AQUEUE_CONTROL_NAME);
	}
	fd = open(path, (argc ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == ENOENT && !(env && *env)) {
			if (!access(proc_path(), F_OK))
				die(EX_NODEBUGFS, "%s is missing although %s exists: the module could not create its debugfs files (see dmesg)",
				    path, proc_path());
			die(EX_NOMODULE, "%s does not exist: the aqueue module is not loaded.\n"
			    "Load it with 'modprobe aqueue' (installed) or 'insmod aqueue.ko' (built tree).",
			    path);
		}
		if (e == EACCES || e == EPERM)
			die(EX_PERM, "cannot open %s: %s (root only; kernel lockdown also restricts debugfs)",
			    path, strerror(e));
		die(EX_ERR, "cannot open %s: %s", path, strerror(e));
	}
	if (!argc) {
		char chunk[4096];
		ssize_t r;

		while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
			if (r < 0) {
				if (errno == EINTR)
					continue;
				die(EX_ERR, "reading %s: %s", path, strerror(errno));
			}
			if (fwrite(chunk, 1, (size_t)r, stdout) != (size_t)r)
				die(EX_ERR, "writing output: %s", strerror(errno));
		}
		close(fd);
		free(path);
		return EX_OK;
	}
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	buf = xmalloc(len + 1);
	buf[0] = '\0';
	for (int i = 0; i < argc; i++) {
		strcat(buf, argv[i]);
		strcat(buf, i == argc - 1 ? "\n" : " ");
	}
	for (;;) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		e = errno;
		buf[len - 1] = '\0';	/* for the messages */
		if (w < 0 && e == EINVAL)
			die(EX_REFUSED, "the module refused '%s' (EINVAL: unknown word, missing or out-of-range argument); nothing was changed",
			    buf);
		if (w < 0 && e == E2BIG)
			die(EX_REFUSED, "the module refused '%s' (E2BIG: the command is too long); nothing was changed",
			    buf);
		if (w < 0 && e == ENOENT)
			die(EX_REFUSED, "the module refused '%s' (ENOENT: no listener has that id); nothing was changed",
			    buf);
		if (w < 0 && (e == EPERM || e == EACCES))
			die(EX_PERM, "writing %s: %s", path, strerror(e));
		if (w < 0)
			die(EX_ERR, "writing %s: %s", path, strerror(e));
		if ((size_t)w != len)
			die(EX_ERR, "writing %s: short write (%zd of %zu bytes)", path, w, len);
		break;
	}
	if (close(fd))
		die(EX_ERR, "closing %s: %s", path, strerror(errno));
	free(buf);
	free(path);
	return EX_OK;
}
