// SPDX-License-Identifier: GPL-2.0 OR MIT
#define _GNU_SOURCE
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "load.h"
#include "show_prom.h"
#include "cmd_serve.h"

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
		show_prometheus(f, &s, o->filter, o->prom);
		aq_snapshot_free(&s);
	} else {
		show_prometheus_down(f, &s);
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

union addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/*
 * [ADDR:]PORT, ADDR a numeric IPv4 address or [IPv6]. inet_pton, not
 * getaddrinfo: a static aqstat then links no NSS code.
 */
static socklen_t parse_listen(const char *arg, union addr *a)
{
	const char *colon = strrchr(arg, ':'), *port = colon ? colon + 1 : arg;
	int v6 = arg[0] == '[', ok;
	char *host;
	long num = 0;

	if (!colon)
		host = xstrdup(DEFAULT_ADDR);
	else if (v6 ? colon - arg < 3 || colon[-1] != ']' :
		 memchr(arg, ':', (size_t)(colon - arg)) != NULL)
		host = NULL;
	else
		host = xasprintf("%.*s", (int)(colon - arg - 2 * v6), arg + v6);
	if (host && (!*port || strspn(port, "0123456789") != strlen(port) ||
		     strlen(port) > 5 || (num = atol(port)) > 65535))
		die(EX_USAGE, "bad port in '%s' (0 to 65535)", arg);
	memset(a, 0, sizeof(*a));
	if (v6) {
		a->in6.sin6_family = AF_INET6;
		a->in6.sin6_port = htons((uint16_t)num);
		ok = host && inet_pton(AF_INET6, host, &a->in6.sin6_addr) == 1;
	} else {
		a->in.sin_family = AF_INET;
		a->in.sin_port = htons((uint16_t)num);
		ok = host && inet_pton(AF_INET, host, &a->in.sin_addr) == 1;
	}
	free(host);
	if (!ok)
		die(EX_USAGE, "bad address '%s' ([ADDR:]PORT, ADDR an IPv4 address or an IPv6 address in brackets: 127.0.0.1:9100, [::1]:9100; names are not resolved)",
		    arg);
	return v6 ? sizeof(a->in6) : sizeof(a->in);
}

static int listen_on(const char *arg)
{
	union addr a;
	socklen_t sl = parse_listen(arg, &a);
	char h[INET6_ADDRSTRLEN];
	int fd, e, one = 1, v6 = a.sa.sa_family == AF_INET6;

	fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die(EX_ERR, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, &a.sa, sl) || listen(fd, 8)) {
		e = errno;
		if (e == EADDRINUSE)
			die(EX_ERR, "cannot listen on %s: the port is in use (by another aqstat serve or an exporter?); pick another with aqstat serve [ADDR:]PORT",
			    arg);
		if (e == EACCES)
			die(EX_PERM, "cannot listen on %s: %s (ports below 1024 need root)",
			    arg, strerror(e));
		die(EX_ERR, "cannot listen on %s: %s", arg, strerror(e));
	}
	/* with the port the kernel chose for port 0 */
	if (!getsockname(fd, &a.sa, &sl) &&
	    inet_ntop(a.sa.sa_family, v6 ? (void *)&a.in6.sin6_addr : (void *)&a.in.sin_addr,
		      h, sizeof(h)))
		fprintf(stderr, "aqstat: serving http://%s%s%s:%u/metrics\n",
			v6 ? "[" : "", h, v6 ? "]" : "",
			ntohs(v6 ? a.in6.sin6_port : a.in.sin_port));
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
