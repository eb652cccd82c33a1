// SPDX-License-Identifier: GPL-2.0 OR MIT
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "die.h"
#include "outfile.h"

static _Noreturn void fail(struct outfile *o, const char *what)
{
	int e = errno;

	unlink(o->tmp);
	die(EX_ERR, "%s %s: %s", what, o->tmp, strerror(e));
}

void outfile_open(struct outfile *o, const char *path)
{
	int fd;

	o->path = path;
	o->tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	/* one left by a killed run that had our pid is ours to replace */
	for (int tries = 0; tries < 2; tries++) {
		fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0644);
		if (fd >= 0 || errno != EEXIST || unlink(o->tmp))
			break;
	}
	if (fd < 0)
		die(EX_ERR, "cannot create %s: %s", o->tmp, strerror(errno));
	o->f = fdopen(fd, "w");
	if (!o->f)
		fail(o, "cannot write");
	setvbuf(o->f, NULL, _IOFBF, OUT_BUFFER);
}

void outfile_commit(struct outfile *o)
{
	if (fflush(o->f) == EOF || ferror(o->f))
		fail(o, "writing");
	if (fsync(fileno(o->f)))
		fail(o, "syncing");
	if (fclose(o->f)) {
		o->f = NULL;
		fail(o, "closing");
	}
	o->f = NULL;
	if (rename(o->tmp, o->path)) {
		int e = errno;

		unlink(o->tmp);
		die(EX_ERR, "cannot rename %s to %s: %s", o->tmp, o->path, strerror(e));
	}
	free(o->tmp);
	o->tmp = NULL;
}
