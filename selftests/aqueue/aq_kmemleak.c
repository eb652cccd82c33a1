// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "aq_file.h"
#include "aq_kmemleak.h"

#define AQ_KMEMLEAK "/sys/kernel/debug/kmemleak"

bool aq_kmemleak_present(void)
{
	return access(AQ_KMEMLEAK, R_OK | W_OK) == 0;
}

void aq_kmemleak_clear(void)
{
	if (aq_kmemleak_present())
		aq_write_file(AQ_KMEMLEAK, "clear\n");
}

int aq_kmemleak_scan(char *buf, size_t size)
{
	static char text[1 << 16];
	const char *p;
	int n = 0;

	buf[0] = '\0';
	if (!aq_kmemleak_present())
		return 0;
	aq_write_file(AQ_KMEMLEAK, "scan\n");
	sleep(1);
	aq_write_file(AQ_KMEMLEAK, "scan\n");
	if (aq_read_file(AQ_KMEMLEAK, text, sizeof(text)) <= 0)
		return 0;
	for (p = text; (p = strstr(p, "unreferenced object")); p++)
		n++;
	if (n)
		snprintf(buf, size, "%.*s", (int)(size - 1), text);
	return n;
}
