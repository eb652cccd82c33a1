// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/aqueue/control: line commands in, state out.
 *
 * A write is parsed whole before anything is applied, so a batch that
 * contains one bad line changes nothing. The grammar is in
 * doc/interface.md.
 */
#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "aqueue_format.h"
#include "config.h"
#include "control.h"
#include "enable.h"
#include "events.h"
#include "filter.h"
#include "listener.h"
#include "probes.h"
#include "table.h"
#include "watch.h"

enum aq_verb {
	AQ_VERB_ENABLE,
	AQ_VERB_DISABLE,
	AQ_VERB_RESET,
	AQ_VERB_FILTER,
	AQ_VERB_MAX_LISTENERS,
	AQ_VERB_MAX_MEMORY,
	AQ_VERB_UDP_PORTS,
	AQ_VERB_STALL_THRESHOLD,
	AQ_VERB_BURST_GAP,
	AQ_VERB_DROP_LOG,
};

enum aq_filter_key {
	AQ_FILTER_PORT,
	AQ_FILTER_NETNS,
	AQ_FILTER_FAMILY,
	AQ_FILTER_KIND,
};

struct aq_command {
	enum aq_verb verb;
	enum aq_filter_key key;
	bool has_value;
	unsigned long value;
	struct aq_filter filter;	/* the fields that key names */
	u16 udp_ports[AQ_UDP_PORTS_MAX];
	unsigned int udp_nports;
};

/* A page holds far more commands than anyone writes in one go. */
#define AQ_MAX_COMMANDS 64
#define AQ_MAX_LISTENERS_LIMIT (1U << 24)
#define AQ_MAX_MEMORY_MIN (64UL << 10)

static struct dentry *aq_debugfs_dir;

/* Decimal digits only: kstrtou32() alone would also take a leading '+'. */
static int aq_parse_u32(const char *word, u32 min, u32 max, u32 *value)
{
	if (!word || !isdigit(word[0]) || kstrtou32(word, 10, value) ||
	    *value < min || *value > max)
		return -EINVAL;
	return 0;
}

/*
 * A byte count with an optional K, M or G suffix, either case as the
 * kernel's memparse() takes them; overflow is an error.
 */
static int aq_parse_bytes(char *word, unsigned long long *bytes)
{
	size_t len = strlen(word);
	unsigned int shift = 0;

	switch (len ? toupper(word[len - 1]) : 0) {
	case 'G':
		shift += 10;
		fallthrough;
	case 'M':
		shift += 10;
		fallthrough;
	case 'K':
		shift += 10;
		word[--len] = '\0';
	}
	if (!len || !isdigit(word[0]) || kstrtoull(word, 10, bytes) ||
	    *bytes > (ULLONG_MAX >> shift))
		return -EINVAL;
	*bytes <<= shift;
	return 0;
}

/* The words of "filter family" and "filter kind", and what they set. */
static const char *const aq_family_words[] = { "any", "ipv4", "ipv6" };
static const u32 aq_family_values[] = { 0, AF_INET, AF_INET6 };
static const char *const aq_kind_words[] = { "any", "tcp", "unix", "udp" };
static const u32 aq_kind_values[] = {
	AQ_KIND_ALL, AQ_KIND_TCP, AQ_KIND_UNIX, AQ_KIND_UDP
};

/* @value, one of the @n @words, sets *@out to its value in @values. */
static int aq_parse_word(const char *value, const char *const *words,
			 const u32 *values, size_t n, u32 *out)
{
	int i = match_string(words, n, value);

	if (i < 0)
		return -EINVAL;
	*out = values[i];
	return 0;
}

static int aq_parse_filter(char *key, char *value, struct aq_command *cmd)
{
	struct aq_filter *f = &cmd->filter;
	u32 family;
	int err;

	if (!key || !value)
		return -EINVAL;
	if (!strcmp(key, "port")) {
		cmd->key = AQ_FILTER_PORT;
		return aq_ports_parse(value, "any", f->ports,
				      AQ_FILTER_MAX_PORTS, &f->nports);
	}
	if (!strcmp(key, "netns")) {
		cmd->key = AQ_FILTER_NETNS;
		if (!strcmp(value, "any"))
			return 0;
		return aq_parse_u32(value, 1, U32_MAX, &f->netns);
	}
	if (!strcmp(key, "family")) {
		cmd->key = AQ_FILTER_FAMILY;
		err = aq_parse_word(value, aq_family_words, aq_family_values,
				    ARRAY_SIZE(aq_family_words), &family);
		f->family = family;
		return err;
	}
	if (!strcmp(key, "kind")) {
		cmd->key = AQ_FILTER_KIND;
		return aq_parse_word(value, aq_kind_words, aq_kind_values,
				     ARRAY_SIZE(aq_kind_words), &f->kinds);
	}
	return -EINVAL;
}

/* The commands of the live state and events (watch.c). */
static int aq_parse_watch(char **words, unsigned int n,
			  struct aq_command *cmd)
{
	u32 value;

	if (n != 2)
		return -EINVAL;
	if (!strcmp(words[0], AQUEUE_CMD_STALL_THRESHOLD))
		cmd->verb = AQ_VERB_STALL_THRESHOLD;
	else if (!strcmp(words[0], AQUEUE_CMD_BURST_GAP))
		cmd->verb = AQ_VERB_BURST_GAP;
	else if (!strcmp(words[0], AQUEUE_CMD_DROP_LOG))
		cmd->verb = AQ_VERB_DROP_LOG;
	else
		return -EINVAL;
	if (aq_parse_u32(words[1], cmd->verb == AQ_VERB_DROP_LOG ? 0 : 1,
			 cmd->verb == AQ_VERB_DROP_LOG ? 1 : AQ_WATCH_MS_MAX,
			 &value))
		return -EINVAL;
	cmd->value = value;
	return 0;
}

static int aq_parse_line(char *line, struct aq_command *cmd)
{
	char *words[4] = { };
	unsigned long long bytes;
	unsigned int n = 0;
	char *word;
	u32 value;

	while ((word = strsep(&line, " \t"))) {
		if (!*word)
			continue;
		if (n == ARRAY_SIZE(words))
			return -EINVAL;
		words[n++] = word;
	}

	memset(cmd, 0, sizeof(*cmd));
	if (!strcmp(words[0], AQUEUE_CMD_ENABLE) && n == 1) {
		cmd->verb = AQ_VERB_ENABLE;
	} else if (!strcmp(words[0], AQUEUE_CMD_DISABLE) && n == 1) {
		cmd->verb = AQ_VERB_DISABLE;
	} else if (!strcmp(words[0], AQUEUE_CMD_RESET) && n <= 2) {
		cmd->verb = AQ_VERB_RESET;
		if (n == 2) {
			if (aq_parse_u32(words[1], 1, U32_MAX, &value))
				return -EINVAL;
			cmd->has_value = true;
			cmd->value = value;
		}
	} else if (!strcmp(words[0], AQUEUE_CMD_FILTER) && n == 3) {
		cmd->verb = AQ_VERB_FILTER;
		return aq_parse_filter(words[1], words[2], cmd);
	} else if (!strcmp(words[0], AQUEUE_CMD_MAX_LISTENERS) && n == 2) {
		cmd->verb = AQ_VERB_MAX_LISTENERS;
		if (aq_parse_u32(words[1], 1, AQ_MAX_LISTENERS_LIMIT, &value))
			return -EINVAL;
		cmd->value = value;
	} else if (!strcmp(words[0], AQUEUE_CMD_MAX_MEMORY) && n == 2) {
		cmd->verb = AQ_VERB_MAX_MEMORY;
		if (aq_parse_bytes(words[1], &bytes) ||
		    bytes < AQ_MAX_MEMORY_MIN || bytes > LONG_MAX)
			return -EINVAL;
		cmd->value = bytes;
	} else if (!strcmp(words[0], AQUEUE_CMD_UDP_PORTS) && n == 2) {
		cmd->verb = AQ_VERB_UDP_PORTS;
		return aq_ports_parse(words[1], "none", cmd->udp_ports,
				      AQ_UDP_PORTS_MAX, &cmd->udp_nports);
	} else {
		return aq_parse_watch(words, n, cmd);
	}
	return 0;
}

static int aq_parse(char *text, struct aq_command *commands, int *count)
{
	char *line;
	int err;

	*count = 0;
	while ((line = strsep(&text, "\n"))) {
		line = strim(line);
		if (!*line || *line == '#')
			continue;
		if (*count == AQ_MAX_COMMANDS)
			return -E2BIG;
		err = aq_parse_line(line, &commands[*count]);
		if (err)
			return err;
		++*count;
	}
	return 0;
}

/* Refusals that depend on the state go before anything is applied. */
static int aq_check(const struct aq_command *cmd)
{
	if (cmd->verb == AQ_VERB_RESET && cmd->has_value &&
	    !aq_listener_exists(cmd->value))
		return -ENOENT;
	return 0;
}

static int aq_apply_filter(const struct aq_command *cmd)
{
	struct aq_filter f;
	int err;

	aq_filter_get(&f);
	switch (cmd->key) {
	case AQ_FILTER_PORT:
		memcpy(f.ports, cmd->filter.ports, sizeof(f.ports));
		f.nports = cmd->filter.nports;
		break;
	case AQ_FILTER_NETNS:
		f.netns = cmd->filter.netns;
		break;
	case AQ_FILTER_FAMILY:
		f.family = cmd->filter.family;
		break;
	case AQ_FILTER_KIND:
		f.kinds = cmd->filter.kinds;
		break;
	}
	err = aq_filter_set(&f);
	if (!err)
		aq_table_refilter();
	return err;
}

static int aq_apply(const struct aq_command *cmd)
{
	switch (cmd->verb) {
	case AQ_VERB_ENABLE:
		return aq_enable();
	case AQ_VERB_DISABLE:
		aq_disable();
		return 0;
	case AQ_VERB_RESET:
		/*
		 * aq_check() refused unknown ids up front; one that an earlier
		 * command of the batch removed (a filter, a re-enable) has
		 * nothing left to reset.
		 */
		if (cmd->has_value)
			aq_listener_reset_one(cmd->value);
		else
			aq_listeners_reset();
		return 0;
	case AQ_VERB_FILTER:
		return aq_apply_filter(cmd);
	case AQ_VERB_MAX_LISTENERS:
		WRITE_ONCE(aq_max_listeners, cmd->value);
		return 0;
	case AQ_VERB_MAX_MEMORY:
		WRITE_ONCE(aq_max_memory, cmd->value);
		return 0;
	case AQ_VERB_UDP_PORTS:
		aq_udp_ports_set(cmd->udp_ports, cmd->udp_nports);
		aq_table_refilter();
		return aq_udp_apply();
	case AQ_VERB_STALL_THRESHOLD:
		return aq_watch_set_stall_ms(cmd->value);
	case AQ_VERB_BURST_GAP:
		return aq_watch_set_burst_gap_ms(cmd->value);
	case AQ_VERB_DROP_LOG:
		aq_watch_set_drop_log(cmd->value);
		return 0;
	}
	return -EINVAL;
}

static ssize_t aq_control_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	struct aq_command *commands;
	int count, i, err;
	size_t pos;
	char *text;

	if (len >= PAGE_SIZE)
		return -E2BIG;

	text = memdup_user_nul(ubuf, len);
	if (IS_ERR(text))
		return PTR_ERR(text);

	commands = kcalloc(AQ_MAX_COMMANDS, sizeof(*commands), GFP_KERNEL);
	if (!commands) {
		err = -ENOMEM;
		goto out_text;
	}

	/*
	 * A write must end its last line: one that does not may be the first
	 * half of a line whose rest comes in the next write, and applying it
	 * alone would do something nobody asked for.
	 */
	if (!len || text[len - 1] != '\n') {
		err = -EINVAL;
		goto out_commands;
	}

	/*
	 * Commands are plain ASCII. An embedded NUL would hide the rest of the
	 * write from the parser, and the kernel's isspace() takes bytes such
	 * as 0xa0 for blanks, which would let them pass unseen.
	 */
	for (pos = 0; pos < len; pos++) {
		if (!(isprint(text[pos]) && isascii(text[pos])) &&
		    text[pos] != '\n' && text[pos] != '\t') {
			err = -EINVAL;
			goto out_commands;
		}
	}

	err = aq_parse(text, commands, &count);
	if (err)
		goto out_commands;

	mutex_lock(&aq_config_lock);
	for (i = 0; i < count && !err; i++)
		err = aq_check(&commands[i]);
	for (i = 0; i < count && !err; i++)
		err = aq_apply(&commands[i]);
	mutex_unlock(&aq_config_lock);

out_commands:
	kfree(commands);
out_text:
	kfree(text);
	return err ? err : len;
}

static void aq_show_limits(struct seq_file *m)
{
	struct aq_table_stats stats;

	/*
	 * What the probes asked for (a part, a ring) is allocated first, as
	 * for a read of /proc/aqueue, so that both show the same memory.
	 */
	aq_table_sync();
	aq_table_get_stats(&stats);
	seq_printf(m, "max_listeners %u\nmax_memory %lu\ntracked %d\nuntracked_listens %ld\nuntracked_events %ld\nfiltered_events %ld\nmemory_bytes %ld\n",
		   READ_ONCE(aq_max_listeners), READ_ONCE(aq_max_memory),
		   stats.tracked, stats.untracked_listens,
		   stats.untracked_events, stats.filtered_events,
		   stats.memory);
}

static void aq_show_watch_settings(struct seq_file *m)
{
	struct aq_watch_settings settings;

	aq_watch_get_settings(&settings);
	seq_printf(m, "stall_threshold_ms %llu\nburst_gap_ms %llu\ndrop_log %d\n",
		   settings.stall_ms, settings.burst_gap_ms, settings.drop_log);
	seq_printf(m, "events_size %u\n", aq_events_ring_size());
}

static void aq_show_probes(struct seq_file *m)
{
	struct aq_probe_info info;
	unsigned int i;

	for (i = 0; aq_probes_info(i, &info); i++) {
		if (info.absent)
			continue;
		seq_printf(m, "probe %s %s registered %d hits %lu missed %lu armed %d",
			   info.symbol, info.kretprobe ? "kretprobe" : "kprobe",
			   info.registered, info.hits, info.missed, info.armed);
		if (info.kretprobe)
			seq_printf(m, " maxactive %d", info.maxactive);
		if (info.ns >= 0)
			seq_printf(m, " ns %lld", info.ns);
		seq_putc(m, '\n');
	}
}

static int aq_control_show(struct seq_file *m, void *v)
{
	seq_printf(m, "version %s\n", AQUEUE_VERSION);
	seq_printf(m, "format %d\n", AQUEUE_FORMAT_VERSION);
	seq_printf(m, "enabled %d\n", aq_is_enabled());
	aq_show_limits(m);
	aq_show_watch_settings(m);
	mutex_lock(&aq_config_lock);
	aq_filter_show(m);
	aq_udp_ports_show(m);
	mutex_unlock(&aq_config_lock);
	aq_show_probes(m);
	return 0;
}

static int aq_control_open(struct inode *inode, struct file *file)
{
	return single_open(file, aq_control_show, inode->i_private);
}

static const struct file_operations aq_control_fops = {
	.owner = THIS_MODULE,
	.open = aq_control_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = aq_control_write,
};

int aq_control_init(void)
{
	struct dentry *dir;

	dir = debugfs_create_dir(AQUEUE_DEBUGFS_DIR, NULL);
	if (IS_ERR(dir)) {
		/* /proc/aqueue still works: say so rather than fail to load. */
		pr_warn("debugfs unavailable (error %ld): no control file\n",
			PTR_ERR(dir));
		return 0;
	}
	aq_debugfs_dir = dir;
	debugfs_create_file(AQUEUE_CONTROL_NAME, 0600, dir, NULL,
			    &aq_control_fops);
	debugfs_create_symlink(AQUEUE_EVENTS_NAME, dir,
			       "/proc/" AQUEUE_EVENTS_PROC_NAME);
	return 0;
}

void aq_control_exit(void)
{
	debugfs_remove_recursive(aq_debugfs_dir);
	aq_debugfs_dir = NULL;
}
