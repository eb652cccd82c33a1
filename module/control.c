// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/aqueue/control: line commands in, state out.
 *
 * A write is parsed whole before anything is applied, so a batch that
 * contains one bad line changes nothing.
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "aqueue.h"

enum aq_command {
	AQ_CMD_ENABLE,
	AQ_CMD_DISABLE,
	AQ_CMD_RESET,
};

static const struct {
	const char *word;
	enum aq_command command;
} aq_command_words[] = {
	{ AQUEUE_CMD_ENABLE, AQ_CMD_ENABLE },
	{ AQUEUE_CMD_DISABLE, AQ_CMD_DISABLE },
	{ AQUEUE_CMD_RESET, AQ_CMD_RESET },
};

/* A page holds far more commands than anyone writes in one go. */
#define AQ_MAX_COMMANDS 64

static struct dentry *aq_debugfs_dir;

static int aq_parse_line(char *line, enum aq_command *command)
{
	char *word = strsep(&line, " \t");
	size_t i;

	if (line && *skip_spaces(line))
		return -EINVAL;	/* none of the commands takes an argument */
	for (i = 0; i < ARRAY_SIZE(aq_command_words); i++) {
		if (!strcmp(word, aq_command_words[i].word)) {
			*command = aq_command_words[i].command;
			return 0;
		}
	}
	return -EINVAL;
}

static int aq_parse(char *text, enum aq_command *commands, int *count)
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

static int aq_apply(enum aq_command command)
{
	switch (command) {
	case AQ_CMD_ENABLE:
		return aq_enable();
	case AQ_CMD_DISABLE:
		aq_disable();
		return 0;
	case AQ_CMD_RESET:
		aq_reset();
		return 0;
	}
	return -EINVAL;
}

static ssize_t aq_control_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	enum aq_command *commands;
	int count, i, err;
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

	/* An embedded NUL would hide the rest of the write from the parser. */
	if (strlen(text) != len) {
		err = -EINVAL;
		goto out_commands;
	}

	err = aq_parse(text, commands, &count);
	if (err)
		goto out_commands;

	mutex_lock(&aq_config_lock);
	for (i = 0; i < count && !err; i++)
		err = aq_apply(commands[i]);
	mutex_unlock(&aq_config_lock);

out_commands:
	kfree(commands);
out_text:
	kfree(text);
	return err ? err : len;
}

static int aq_control_show(struct seq_file *m, void *v)
{
	seq_printf(m, "version %s\n", AQUEUE_VERSION);
	seq_printf(m, "format %d\n", AQUEUE_FORMAT_VERSION);
	seq_printf(m, "enabled %d\n", aq_is_enabled());
	seq_printf(m, "max_listeners %u\n", READ_ONCE(aq_max_listeners));
	aq_probes_show(m);
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
	return 0;
}

void aq_control_exit(void)
{
	debugfs_remove_recursive(aq_debugfs_dir);
	aq_debugfs_dir = NULL;
}
