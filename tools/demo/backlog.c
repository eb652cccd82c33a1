// SPDX-License-Identifier: GPL-2.0
/*
 * backlog listen PORT BACKLOG [ACCEPT_EVERY_MS]
 *	Listen on 127.0.0.1:PORT with listen(fd, BACKLOG). Without
 *	ACCEPT_EVERY_MS never accept, like a server stuck elsewhere; with it,
 *	accept (and close) one connection every ACCEPT_EVERY_MS ms.
 *
 * backlog connect PORT CLIENTS WAIT_MS
 *	Start CLIENTS non-blocking connects to 127.0.0.1:PORT, wait up to
 *	WAIT_MS ms for their handshakes and report on stderr how many
 *	completed. The sockets stay open, so queued connections stay queued
 *	and dropped SYNs keep being retried by the kernel.
 *
 * Both return once their sockets are set up and carry on in a child
 * process, so a script needs no sleeps to sequence them; the child's pid is
 * the only thing printed on stdout, for the script to kill it with.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long parse_number(const char *text, const char *what, long min, long max)
{
	char *end;
	long value;

	errno = 0;
	value = strtol(text, &end, 10);
	if (errno || *end || end == text || value < min || value > max) {
		fprintf(stderr, "backlog: bad %s '%s' (%ld..%ld)\n", what, text,
			min, max);
		exit(2);
	}
	return value;
}

static void fail(const char *what)
{
	perror(what);
	exit(1);
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};

	return addr;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Returns in the caller with the child's pid printed; the child goes on. */
static void continue_in_background(void)
{
	pid_t pid = fork();
	int devnull;

	if (pid < 0)
		fail("fork");
	if (pid > 0) {
		printf("%d\n", (int)pid);
		exit(0);
	}
	/* The script reads our stdout to its end: let go of it. */
	devnull = open("/dev/null", O_WRONLY);
	if (devnull >= 0) {
		dup2(devnull, STDOUT_FILENO);
		close(devnull);
	}
}

static _Noreturn void hold_forever(void)
{
	for (;;)
		pause();
}

static _Noreturn void run_listener(int port, int backlog, long accept_every_ms)
{
	struct sockaddr_in addr = loopback(port);
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		fail("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&addr, sizeof(addr)))
		fail("bind");
	if (listen(fd, backlog))
		fail("listen");

	continue_in_background();
	if (accept_every_ms < 0)
		hold_forever();
	for (;;) {
		int conn = accept(fd, NULL, NULL);

		if (conn >= 0)
			close(conn);
		sleep_ms(accept_every_ms);
	}
}

static int start_connect(const struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		fail("socket");
	if (fcntl(fd, F_SETFL, O_NONBLOCK))
		fail("fcntl");
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) &&
	    errno != EINPROGRESS)
		fail("connect");
	return fd;
}

static _Noreturn void run_clients(int port, int clients, long wait_ms)
{
	struct sockaddr_in addr = loopback(port);
	struct pollfd *pending = calloc(clients, sizeof(*pending));
	int waiting = clients, connected = 0, failed = 0;
	long start = now_ms(), deadline = start + wait_ms;

	if (!pending)
		fail("calloc");
	for (int i = 0; i < clients; i++) {
		pending[i].fd = start_connect(&addr);
		pending[i].events = POLLOUT;
	}

	/* A client whose SYN was dropped stays in SYN-SENT, not writable. */
	while (waiting > 0 && now_ms() < deadline) {
		if (poll(pending, clients, deadline - now_ms()) < 0 &&
		    errno != EINTR)
			fail("poll");
		for (int i = 0; i < clients; i++) {
			int err = 0;
			socklen_t len = sizeof(err);

			if (!pending[i].revents)
				continue;
			getsockopt(pending[i].fd, SOL_SOCKET, SO_ERROR, &err, &len);
			if (err)
				failed++;
			else
				connected++;
			waiting--;
			/* poll skips negative fds; the socket itself stays open. */
			pending[i].fd = -pending[i].fd - 1;
		}
	}

	fprintf(stderr, "%d clients to 127.0.0.1:%d after %ld ms: %d connected (as the client sees it), %d still in SYN-SENT (SYN dropped, the kernel retries it), %d failed\n",
		clients, port, now_ms() - start, connected, waiting, failed);
	continue_in_background();
	hold_forever();
}

int main(int argc, char **argv)
{
	if (argc >= 4 && argc <= 5 && !strcmp(argv[1], "listen"))
		run_listener(parse_number(argv[2], "port", 1, 65535),
			     parse_number(argv[3], "backlog", -1, 65535),
			     argc == 5 ? parse_number(argv[4], "interval", 1, 60000) : -1);
	if (argc == 5 && !strcmp(argv[1], "connect"))
		run_clients(parse_number(argv[2], "port", 1, 65535),
			    parse_number(argv[3], "client count", 1, 1000),
			    parse_number(argv[4], "wait", 0, 60000));
	fprintf(stderr,
		"usage: backlog listen PORT BACKLOG [ACCEPT_EVERY_MS]\n"
		"       backlog connect PORT CLIENTS WAIT_MS\n");
	return 2;
}
