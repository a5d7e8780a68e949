/* cmdline.h — a kernel command line as white-space separated words: the
 * word operations every boot manager's file shares (GRUB's variables,
 * /etc/kernel/cmdline, /proc/cmdline). Core: never prints or exits. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"

/* Command-line helpers on white-space separated words. */
/* A "--" word ends the kernel's words (what follows goes to init): the
 * counts stop there, and cmdline_apply puts new words before it and never
 * touches a word after it. */
size_t cmdline_count(const char *cmdline, const char *name);   /* "name" or "name=..." */
size_t cmdline_count_word(const char *cmdline, const char *word); /* exactly word */
/* The length of param's name: up to its '=', else all of it. */
size_t cmdline_name_len(const char *param);
/* A copy of cmdline, words joined by one space. add: each params[i]
 * ("name=value") ends up exactly once and the user's words stay where they
 * are: a word already equal to it is kept in place, else the first word with
 * another value of its name is replaced in place, else it is appended; any
 * further word of the name goes. !add: every "name"/"name=..." word goes. */
char *cmdline_apply(const char *cmdline, const struct strv *params, bool add);
