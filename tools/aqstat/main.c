// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * aqstat: show the accept queues that the aqueue module tracks in
 * /proc/aqueue, watch them, export them as JSON or Prometheus text, and
 * drive the module's debugfs control file. libc only. This file is the
 * command line; each mode is in a file of its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "columns.h"
#include "cmd_ctl.h"
#include "die.h"
#include "cmd_events.h"
#include "row_filter.h"
#include "show_json.h"
#include "load.h"
#include "outfile.h"
#include "show_prom.h"
#include "cmd_serve.h"
#include "show_table.h"
#include "text.h"
#include "cmd_watch.h"

/* from the build (tools/aqstat/Makefile), as the module's version */
#ifndef AQSTAT_VERSION
#define AQSTAT_VERSION "unknown"
#endif

static struct {
	int json, prom, hist, strict, raw;
	double interval;	/* > 0: watch mode */
	long count;		/* frames in watch mode, 0: forever */
	const char **files;	/* --file, in order; frame i reads files[i] */
	int nfiles;
	const char *output;	/* -o */
	struct prom_opts prom_opts;	/* --buckets, --metrics */
	int buckets_set, metrics_set;
	struct aqs_filter filter;
} opt;

static void print_usage(FILE *f)
{
	fprintf(f,
"usage: aqstat [OPTIONS]            the listeners, most saturated first\n"
"       aqstat -w SECONDS [-c COUNT] watch: per-interval rates, redrawn in place\n"
"       aqstat -j | --prometheus     JSON, or Prometheus text (node_exporter textfile)\n"
"       aqstat ctl [WORD...]         write a command to the control file, or print it\n"
"       aqstat events [-c N] [-j]    follow the event stream (stalls, drop bursts, ...)\n"
"       aqstat serve [ADDR:]PORT     Prometheus metrics over HTTP at /metrics\n"
"\n"
"Reads %s (format %d) from the aqueue kernel module.\n"
"\n"
"Output:\n"
"  -H, --histograms      add each listener's histograms (queue length, time in queue)\n"
"  -w, --watch SECONDS   refresh every SECONDS (may be fractional), show deltas\n"
"  -c, --count COUNT     stop after COUNT frames (implies -w 1 without -w)\n"
"  -j, --json            one JSON object (state, totals, listeners, histograms);\n"
"                        with -w one a frame, each on one line (see aqstat(8), JSON)\n"
"      --prometheus      Prometheus text exposition format: 16 to 18 series a\n"
"                        listener by default (see aqstat(8), PROMETHEUS)\n"
"      --metrics SET     with --prometheus and serve: core (default) or all, which\n"
"                        adds the percentiles since tracking began, rarer counters\n"
"      --buckets MODE    with --prometheus and serve: the histograms' buckets,\n"
"                        none (default: +Inf only, with _sum and _count), coarse,\n"
"                        or all (the module's 40 and 32)\n"
"  -o, --output FILE     with --prometheus: replace FILE atomically (write, fsync,\n"
"                        rename); without the module it holds aqueue_up 0 (exit 0)\n"
"Filters (repeatable; kinds and families combine with OR):\n"
"  -P, --port PORT[,PORT...]  local ports\n"
"  -t, --tcp             TCP (tcp and tcp6)\n"
"  -u, --udp             UDP (udp and udp6)\n"
"  -x, --unix            unix domain\n"
"  -4, --ipv4            IPv4 only\n"
"  -6, --ipv6            IPv6 only\n"
"      --netns INODE     network namespace (inode, as in ls -Li /proc/PID/ns/net)\n"
"      --top N           only the N most saturated of the listeners the filters keep\n"
"As with ss, and changing nothing: -n, --numeric (aqstat resolves no names),\n"
"  -l, --listening (aqstat shows only listeners), -p, --processes (always\n"
"  shown), -a, --all; so 'aqstat -tlnp' works. Older spellings kept:\n"
"  -n COUNT, -p PORT[,PORT...].\n"
"aqstat events:\n"
"  -c, --count COUNT     exit after COUNT events\n"
"  -j, --json            one JSON object an event, on one line\n"
"      --raw             the module's lines as they are (CLOCK_MONOTONIC timestamps)\n"
"aqstat serve: ADDR a numeric IPv4 address or [IPv6], 127.0.0.1 when left out;\n"
"  takes the filters, --top, --metrics, --buckets, -f and --strict; serves one\n"
"  request at a time until killed\n"
"Input:\n"
"  -f, --file PATH       read a saved copy instead of %s; repeat for -w:\n"
"                        frame N reads the Nth file (the last one repeats)\n"
"      --strict          treat malformed lines as fatal (exit 8)\n"
"  -h, --help            this help;  -V, --version  the version\n"
"\n"
"Exit status: 0 ok, 1 error, 2 usage, 3 module not loaded, 4 unknown format,\n"
"5 debugfs not mounted, 6 not root / permission denied, 7 command refused by\n"
"the module, 8 malformed input with --strict. See aqstat(8).\n",
		AQ_DEFAULT_PROC, AQUEUE_FORMAT_VERSION, AQ_DEFAULT_PROC);
}

static uint64_t arg_u64(const char *what, const char *s, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!*s || *end || errno || *s == '-' || *s == '+' || v > max)
		die(EX_USAGE, "bad %s '%s'", what, s);
	return v;
}

/* The index of a filter list's next entry, which counts in @n. */
static int next_slot(int *n, const char *option)
{
	if (*n == AQ_FILTER_MAX)
		die(EX_USAGE, "too many %s", option);
	return (*n)++;
}

/* PORT[,PORT...] into the filter, as the control file's "filter port" */
static void add_ports(struct aqs_filter *f, const char *list)
{
	char *copy = xstrdup(list), *save = NULL;

	if (!*list || *list == ',' || list[strlen(list) - 1] == ',' || strstr(list, ",,"))
		die(EX_USAGE, "bad port list '%s' (PORT[,PORT...], 0 to 65535)", list);
	for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save))
		f->ports[next_slot(&f->nports, "ports")] =
			(long)arg_u64("port", p, 65535);
	free(copy);
}

/* Whether @s is a count or a port list: digits and commas, a digit first. */
static int numeric_word(const char *s)
{
	return s && *s >= '0' && *s <= '9' && strspn(s, "0123456789,") == strlen(s);
}

#define SHORT_FLAGS	"Hjtux46hVnlpa"	/* the short options without an argument */
#define SHORT_ARGS	"wcoPf"		/* and those with one */

/*
 * The spellings of aqstat before it followed ss: "-n COUNT" and "-p
 * PORTS", where ss has -n (numeric) and -p (processes) without an
 * argument, which aqstat now takes and ignores. A -n or -p that ends a
 * group of short flags and is followed by a number (a port list) is the
 * old option: rewritten into --count or --port in a copy of @argv. The
 * argument of an option that takes one is never looked at.
 */
static char **old_spellings(int *argc, char **argv)
{
	char **nv = xmalloc(((size_t)*argc * 2 + 1) * sizeof(*nv));
	int n = 0, i;

	nv[n++] = argv[0];
	for (i = 1; i < *argc; i++) {
		const char *a = argv[i];
		size_t len = strlen(a);

		if (!strcmp(a, "--"))
			break;
		if (a[0] == '-' && a[1] == '-') {
			static const char *const with_arg[] = {
				"--watch", "--count", "--output", "--port", "--netns",
				"--file", "--buckets", "--metrics", "--top",
			};

			nv[n++] = argv[i];
			for (size_t k = 0; k < sizeof(with_arg) / sizeof(*with_arg); k++)
				if (!strcmp(a, with_arg[k]) && i + 1 < *argc)
					nv[n++] = argv[++i];
			continue;
		}
		if (a[0] != '-' || len < 2) {
			nv[n++] = argv[i];
			continue;
		}
		/* a group of short options: up to the first that takes an argument */
		size_t k = 1;

		while (k < len && strchr(SHORT_FLAGS, a[k]))
			k++;
		if (k == len && (a[len - 1] == 'n' || a[len - 1] == 'p') &&
		    i + 1 < *argc && numeric_word(argv[i + 1])) {
			if (len > 2)
				nv[n++] = xasprintf("%.*s", (int)len - 1, a);
			nv[n++] = a[len - 1] == 'n' ? "--count" : "--port";
			nv[n++] = argv[++i];
			continue;
		}
		nv[n++] = argv[i];
		if (k == len - 1 && strchr(SHORT_ARGS, a[k]) && i + 1 < *argc)
			nv[n++] = argv[++i];	/* -w SECONDS, -f PATH, ... */
	}
	for (; i < *argc; i++)
		nv[n++] = argv[i];
	nv[n] = NULL;
	*argc = n;
	return nv;
}

/* Returns the exit code when the command line says to stop here. */
static int parse_options(int argc, char **argv)
{
	enum { O_PROM = 256, O_NETNS, O_STRICT, O_RAW, O_BUCKETS, O_METRICS, O_TOP };
	static const struct option longopts[] = {
		{ "histograms", no_argument, NULL, 'H' },
		{ "watch", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, O_PROM },
		{ "buckets", required_argument, NULL, O_BUCKETS },
		{ "metrics", required_argument, NULL, O_METRICS },
		{ "top", required_argument, NULL, O_TOP },
		{ "output", required_argument, NULL, 'o' },
		{ "port", required_argument, NULL, 'P' },
		{ "numeric", no_argument, NULL, 'n' },
		{ "listening", no_argument, NULL, 'l' },
		{ "processes", no_argument, NULL, 'p' },
		{ "all", no_argument, NULL, 'a' },
		{ "tcp", no_argument, NULL, 't' },
		{ "udp", no_argument, NULL, 'u' },
		{ "unix", no_argument, NULL, 'x' },
		{ "ipv4", no_argument, NULL, '4' },
		{ "ipv6", no_argument, NULL, '6' },
		{ "netns", required_argument, NULL, O_NETNS },
		{ "file", required_argument, NULL, 'f' },
		{ "strict", no_argument, NULL, O_STRICT },
		{ "raw", no_argument, NULL, O_RAW },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct aqs_filter *f = &opt.filter;
	int c;

	opt.files = xmalloc((size_t)argc * sizeof(*opt.files));
	while ((c = getopt_long(argc, argv, "Hw:c:jo:P:tux46f:hVnlpa", longopts, NULL)) != -1) {
		switch (c) {
		case 'H':
			opt.hist = 1;
			break;
		case 'w': {
			char *end;

			errno = 0;
			opt.interval = strtod(optarg, &end);
			if (!*optarg || *end || errno || !(opt.interval >= 0.01) ||
			    opt.interval > 86400)
				die(EX_USAGE, "bad interval '%s' (seconds, 0.01 to 86400)", optarg);
			break;
		}
		case 'n':	/* ss: numeric, which aqstat always is */
		case 'l':	/* ss: listening sockets, all aqstat shows */
		case 'p':	/* ss: processes, which aqstat always shows */
		case 'a':	/* ss: all sockets; aqstat shows all it tracks */
			break;
		case 'c':
			opt.count = (long)arg_u64("count", optarg, 1000000000);
			if (!opt.count)
				die(EX_USAGE, "bad count '0'");
			break;
		case 'j':
			opt.json = 1;
			break;
		case O_PROM:
			opt.prom = 1;
			break;
		case 'o':
			opt.output = optarg;
			break;
		case O_BUCKETS:
			if (!strcmp(optarg, "coarse"))
				opt.prom_opts.buckets = AQ_BUCKETS_COARSE;
			else if (!strcmp(optarg, "all"))
				opt.prom_opts.buckets = AQ_BUCKETS_ALL;
			else if (!strcmp(optarg, "none"))
				opt.prom_opts.buckets = AQ_BUCKETS_NONE;
			else
				die(EX_USAGE, "bad --buckets '%s' (none, coarse or all)", optarg);
			opt.buckets_set = 1;
			break;
		case O_METRICS:
			if (!strcmp(optarg, "core"))
				opt.prom_opts.metrics = AQ_METRICS_CORE;
			else if (!strcmp(optarg, "all"))
				opt.prom_opts.metrics = AQ_METRICS_ALL;
			else
				die(EX_USAGE, "bad --metrics '%s' (core or all)", optarg);
			opt.metrics_set = 1;
			break;
		case O_TOP:
			f->top = (size_t)arg_u64("--top", optarg, 16777216);
			if (!f->top)
				die(EX_USAGE, "bad --top '0'");
			break;
		case 'P':
			add_ports(f, optarg);
			break;
		case 't':
			f->kind_tcp = 1;
			break;
		case 'u':
			f->kind_udp = 1;
			break;
		case 'x':
			f->kind_unix = 1;
			break;
		case '4':
			f->fam4 = 1;
			break;
		case '6':
			f->fam6 = 1;
			break;
		case O_NETNS:
			f->netns[next_slot(&f->nnetns, "--netns")] =
				arg_u64("netns inode", optarg, UINT64_MAX);
			break;
		case 'f':
			opt.files[opt.nfiles++] = optarg;
			break;
		case O_STRICT:
			opt.strict = 1;
			break;
		case O_RAW:
			opt.raw = 1;
			break;
		case 'h':
			print_usage(stdout);
			return EX_OK;
		case 'V':
			printf("aqstat %s (reads /proc/aqueue format %d)\n", AQSTAT_VERSION,
			       AQUEUE_FORMAT_VERSION);
			return EX_OK;
		default:	/* getopt said what is wrong */
			fputs("Try 'aqstat --help' for more information.\n", stderr);
			return EX_USAGE;
		}
	}
	return -1;
}

static int run_events(void)
{
	struct events_opts o = {
		.filter = &opt.filter, .count = opt.count,
		.strict = opt.strict, .raw = opt.raw, .json = opt.json,
	};

	if (opt.interval > 0 || opt.prom || opt.hist || opt.nfiles ||
	    opt.output || opt.buckets_set || opt.metrics_set || opt.filter.top)
		die(EX_USAGE, "events takes the filters, -c COUNT, -j, --raw and --strict only");
	if (opt.json && opt.raw)
		die(EX_USAGE, "events: -j and --raw are exclusive");
	return events(&o);
}

static int run_serve(const char *where)
{
	struct serve_opts o = {
		.listen = where, .file = opt.nfiles ? opt.files[0] : NULL,
		.strict = opt.strict, .filter = &opt.filter,
		.prom = &opt.prom_opts,
	};

	if (opt.interval > 0 || opt.count || opt.json || opt.prom || opt.hist ||
	    opt.raw || opt.output || opt.nfiles > 1)
		die(EX_USAGE, "serve takes the filters, --top, --metrics, --buckets, -f FILE and --strict only");
	if (!where)
		die(EX_USAGE, "serve needs a port: aqstat serve [ADDR:]PORT");
	return serve(&o);
}

/* -o: the file is replaced even when the module cannot be read */
static int prometheus_to_file(void)
{
	struct aq_snapshot s;
	struct outfile of;
	int r = load_snapshot(opt.nfiles ? opt.files[0] : NULL, opt.strict, &s);

	outfile_open(&of, opt.output);
	if (r == EX_OK) {
		show_prometheus(of.f, &s, &opt.filter, &opt.prom_opts);
		aq_snapshot_free(&s);
	} else {
		show_prometheus_down(of.f, &s);
	}
	outfile_commit(&of);
	/*
	 * the file says that the module is not loaded: that is no failure; a
	 * format newer than aqstat's is (exit 4), and the file says that too
	 */
	return r == EX_NOMODULE ? EX_OK : r;
}

static int run_once(void)
{
	const char *file = opt.nfiles ? opt.files[0] : NULL;
	struct aq_snapshot s;
	int ret;

	if (opt.nfiles > 1)
		die(EX_USAGE, "several --file are only for -w");
	if (opt.output)
		return prometheus_to_file();
	/*
	 * -j and --prometheus write a line at a time, up to hundreds of
	 * megabytes: in large writes (stdio's default is one per 4 KiB)
	 */
	if ((opt.json || opt.prom) && !isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, OUT_BUFFER);
	load(file, opt.strict, &s);
	if (opt.json)
		ret = show_json(stdout, &s, &opt.filter, file ? file : proc_path());
	else if (opt.prom)
		ret = show_prometheus(stdout, &s, &opt.filter, &opt.prom_opts);
	else
		ret = show_table(&s, &opt.filter, opt.hist);
	aq_snapshot_free(&s);
	return ret;
}

int main(int argc, char **argv)
{
	enum { MAIN, EVENTS, SERVE } mode = MAIN;
	const char *where = NULL;	/* serve's [ADDR:]PORT */
	int ret;

	setlocale(LC_CTYPE, "");
	text_init();

	if (argc > 1 && !strcmp(argv[1], "ctl"))
		return run_ctl(argc - 2, argv + 2);
	if (argc > 1 && (!strcmp(argv[1], "events") || !strcmp(argv[1], "serve"))) {
		mode = argv[1][0] == 'e' ? EVENTS : SERVE;
		argv[1] = argv[0];
		argv++;
		argc--;
	}

	argv = old_spellings(&argc, argv);
	ret = parse_options(argc, argv);
	if (ret >= 0)
		return ret;
	if (mode == SERVE && optind < argc)
		where = argv[optind++];
	if (optind < argc)
		die(EX_USAGE, "unexpected argument '%s' (commands: ctl, events, serve; see --help)",
		    argv[optind]);
	if (mode == SERVE)
		return run_serve(where);
	if (mode == EVENTS) {
		ret = run_events();
	} else {
		if (opt.raw)
			die(EX_USAGE, "--raw is for aqstat events");
		if (opt.json && opt.prom)
			die(EX_USAGE, "-j and --prometheus are exclusive");
		if (opt.count && opt.interval == 0)
			opt.interval = 1;
		if (opt.interval > 0 && (opt.prom || opt.hist))
			die(EX_USAGE, "-w does not combine with --prometheus or -H");
		if ((opt.json || opt.prom) && opt.hist)
			die(EX_USAGE, "-H is for the table; -j and --prometheus always include the histograms");
		if (opt.output && !opt.prom)
			die(EX_USAGE, "-o is for --prometheus");
		if (opt.buckets_set && !opt.prom)
			die(EX_USAGE, "--buckets is for --prometheus and serve");
		if (opt.metrics_set && !opt.prom)
			die(EX_USAGE, "--metrics is for --prometheus and serve");
		columns_init();
		if (opt.interval > 0) {
			struct watch_opts w = {
				.interval = opt.interval, .count = opt.count,
				.files = opt.files, .nfiles = opt.nfiles,
				.strict = opt.strict, .json = opt.json,
				.filter = &opt.filter,
			};

			ret = watch(&w);
		} else {
			ret = run_once();
		}
	}
	if (fflush(stdout) == EOF || ferror(stdout))
		die(EX_ERR, "writing output: %s", strerror(errno));
	free(opt.files);
	return ret;
}
