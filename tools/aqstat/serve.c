// SPDX-License-Identifier: GPL-2.0 OR MIT
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "load.h"
#include "prom.h"
#include "serve.h"

#define REQUEST_MAX	8192	/* bytes of request line and headers */
/* to read the request and send the answer: well within a scrape timeout */
#define REQUEST_MS	5000
#define DEFAULT_ADDR	"127.0.0.1"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for @events on @fd until @deadline; 0 when it came. */
static int wait_for(int fd, short events, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	long long left;
	int r;

	do {
		left = deadline - now_ms();
		if (left <= 0)
			return -1;
		r = poll(&p, 1, (int)left);
	} while (r < 0 && errno == EINTR);
	return r > 0 ? 0 : -1;
}

static int send_all(int fd, const char *p, size_t n, long long deadline)
{
	while (n) {
		ssize_t w;

		if (wait_for(fd, POLLOUT, deadline))
			return -1;
		w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* @extra: more header lines, each ending in \r\n */
static void respond(int fd, const char *status, const char *extra,
		    const char *body, size_t len, long long deadline)
{
	char *head = xasprintf("HTTP/1.1 %s\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
			       status, extra, len);

	if (!send_all(fd, head, strlen(head), deadline))
		send_all(fd, body, len, deadline);
	free(head);
}

static void metrics(int fd, const struct serve_opts *o, long long deadline)
{
	struct aq_snapshot s;
	char *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);

	if (!f)
		die(EX_ERR, "out of memory");
	if (load_snapshot(o->file, o->strict, &s) == EX_OK) {
		show_prometheus(f, &s, o->filter);
		aq_snapshot_free(&s);
	} else {
		show_prometheus_down(f);
	}
	if (fclose(f))
		die(EX_ERR, "out of memory");
	respond(fd, "200 OK",
		"Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n",
		body, len, deadline);
	free(body);
}

/* An answer other than the metrics: @msg, a line of text. */
static void refuse(int fd, const char *status, const char *extra,
		   const char *msg, long long deadline)
{
	char *type = xasprintf("Content-Type: text/plain; charset=utf-8\r\n%s", extra);

	respond(fd, status, type, msg, strlen(msg), deadline);
	free(type);
}

/* Reads the request line and headers, then answers; no keep-alive. */
static void handle(int fd, const struct serve_opts *o)
{
	long long deadline = now_ms() + REQUEST_MS;
	char req[REQUEST_MAX + 1], *sp;
	const char *path;
	size_t n = 0;

	while (!memmem(req, n, "\r\n\r\n", 4) && !memmem(req, n, "\n\n", 2)) {
		ssize_t r;

		if (n == REQUEST_MAX) {
			refuse(fd, "431 Request Header Fields Too Large", "",
			       "request too large\n", deadline);
			return;
		}
		if (wait_for(fd, POLLIN, deadline))
			return;
		r = recv(fd, req + n, REQUEST_MAX - n, MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return;
		n += (size_t)r;
	}
	req[n] = '\0';
	sp = strchr(req, ' ');
	path = sp ? sp + 1 : "";
	if (!sp)
		refuse(fd, "400 Bad Request", "", "bad request\n", deadline);
	else if (sp - req != 3 || memcmp(req, "GET", 3))
		refuse(fd, "405 Method Not Allowed", "Allow: GET\r\n",
		       "only GET\n", deadline);
	else if (strncmp(path, "/metrics", 8) || (path[8] != ' ' && path[8] != '?'))
		refuse(fd, "404 Not Found", "", "aqstat serves /metrics\n", deadline);
	else
		metrics(fd, o, deadline);
}

/* Splits [ADDR:]PORT, ADDR an IPv4 address, [IPv6] or a name. */
static void split_listen(const char *arg, char **host, char **port)
{
	const char *colon = strrchr(arg, ':');

	if (!colon) {
		*host = xstrdup(DEFAULT_ADDR);
		*port = xstrdup(arg);
	} else if (arg[0] == '[') {
		if (colon[-1] != ']' || colon - arg < 3)
			die(EX_USAGE, "bad address '%s' ([ADDR:]PORT; an IPv6 address goes in brackets: [::1]:9100)", arg);
		*host = xasprintf("%.*s", (int)(colon - arg - 2), arg + 1);
		*port = xstrdup(colon + 1);
	} else {
		if (memchr(arg, ':', (size_t)(colon - arg)))
			die(EX_USAGE, "bad address '%s' ([ADDR:]PORT; an IPv6 address goes in brackets: [::1]:9100)", arg);
		*host = xasprintf("%.*s", (int)(colon - arg), arg);
		*port = xstrdup(colon + 1);
	}
	if (!**port || strspn(*port, "0123456789") != strlen(*port) ||
	    strlen(*port) > 5 || atol(*port) > 65535)
		die(EX_USAGE, "bad port in '%s' (0 to 65535)", arg);
}

static int listen_on(const char *arg)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	}, *ai;
	char *host, *port, h[NI_MAXHOST], p[NI_MAXSERV];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd, e, one = 1;

	split_listen(arg, &host, &port);
	e = getaddrinfo(*host ? host : NULL, port, &hints, &ai);
	if (e)
		die(EX_USAGE, "cannot listen on '%s': %s", arg, gai_strerror(e));
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		die(EX_ERR, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 8)) {
		e = errno;
		if (e == EADDRINUSE)
			die(EX_ERR, "cannot listen on %s: the port is in use (by another aqstat serve or an exporter?); pick another with aqstat serve [ADDR:]PORT",
			    arg);
		if (e == EACCES)
			die(EX_PERM, "cannot listen on %s: %s (ports below 1024 need root)",
			    arg, strerror(e));
		die(EX_ERR, "cannot listen on %s: %s", arg, strerror(e));
	}
	freeaddrinfo(ai);
	if (!getsockname(fd, (struct sockaddr *)&ss, &sl) &&
	    !getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), p, sizeof(p),
			 NI_NUMERICHOST | NI_NUMERICSERV))
		fprintf(stderr, "aqstat: serving http://%s%s%s:%s/metrics\n",
			ss.ss_family == AF_INET6 ? "[" : "", h,
			ss.ss_family == AF_INET6 ? "]" : "", p);
	free(host);
	free(port);
	return fd;
}

int serve(const struct serve_opts *o)
{
	int lfd = listen_on(o->listen);

	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EINTR && errno != ECONNABORTED)
				complain("accept: %s", strerror(errno));
			if (errno == EMFILE || errno == ENFILE || errno == ENOMEM)
				sleep(1);
			continue;
		}
		handle(fd, o);
		close(fd);
	}
}
