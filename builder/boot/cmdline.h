/* cmdline.h — a kernel command line as white-space separated words: the
 * word operations every boot manager's file shares (GRUB's variables,
 * /etc/kernel/cmdline, /proc/cmdline). Core: never prints or exits. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"

/* Command-line helpers on white-space separated words. */
size_t cmdline_count(const char *cmdline, const char *name);   /* "name" or "name=..." */
size_t cmdline_count_word(const char *cmdline, const char *word); /* exactly word */
/* The length of param's name: up to its '=', else all of it. */
size_t cmdline_name_len(const char *param);
/* A copy of cmdline with every "name"/"name=..." word of each params[i]'s
 * name removed, then params appended (each "name=value"). */
char *cmdline_apply(const char *cmdline, const struct strv *params, bool add);
