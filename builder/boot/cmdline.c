/* cmdline.c — see cmdline.h: the kernel command line as white-space
 * separated words, counted, taken out and appended. */
#include <string.h>

#include "base/util.h"
#include "boot/cmdline.h"

/* ---- command-line words ------------------------------------------------- */

static bool word_is(const char *w, size_t len, const char *name)
{
	size_t n = strlen(name);
	return len >= n && !memcmp(w, name, n) && (len == n || w[n] == '=');
}

size_t cmdline_name_len(const char *param)
{
	const char *eq = strchr(param, '=');
	return eq ? (size_t)(eq - param) : strlen(param);
}

/* "--": what follows goes to init, not to the kernel. */
static bool is_init_sep(const char *w, size_t len)
{
	return len == 2 && w[0] == '-' && w[1] == '-';
}

size_t cmdline_count(const char *cmdline, const char *name)
{
	size_t count = 0;
	for (const char *p = cmdline; p && *p;) {
		p += strspn(p, " \t\n");
		size_t len = strcspn(p, " \t\n");
		if (is_init_sep(p, len))
			break;
		if (len && word_is(p, len, name))
			count++;
		p += len;
	}
	return count;
}

size_t cmdline_count_word(const char *cmdline, const char *word)
{
	size_t count = 0, n = strlen(word);
	for (const char *p = cmdline; p && *p;) {
		p += strspn(p, " \t\n");
		size_t len = strcspn(p, " \t\n");
		if (is_init_sep(p, len))
			break;
		if (len && len == n && !memcmp(p, word, n))
			count++;
		p += len;
	}
	return count;
}

static void append_unplaced(struct buf *b, const struct strv *params, const char *placed)
{
	for (size_t i = 0; i < params->n; i++) {
		if (placed[i])
			continue;
		if (b->len)
			buf_append(b, " ", 1);
		buf_append(b, params->v[i], strlen(params->v[i]));
	}
}

char *cmdline_apply(const char *cmdline, const struct strv *params, bool add)
{
	struct buf b = {0};
	/* per parameter: 0 not placed yet, 1 placed; have: right somewhere already */
	_cleanup_free_ char *placed = xcalloc(params->n + 1, 1);
	_cleanup_free_ char *have = xcalloc(params->n + 1, 1);
	for (size_t i = 0; add && i < params->n; i++)
		have[i] = cmdline_count_word(cmdline, params->v[i]) > 0;
	for (const char *p = cmdline; p && *p;) {
		p += strspn(p, " \t\n");
		size_t len = strcspn(p, " \t\n");
		if (is_init_sep(p, len)) {
			/* the kernel's words end here: new ones go before, and
			 * init's words after it stay as they are */
			if (add)
				append_unplaced(&b, params, placed);
			if (b.len)
				buf_append(&b, " ", 1);
			buf_append(&b, p, strlen(p));
			while (b.len && strchr(" \t\n", b.data[b.len - 1]))
				b.len--;
			char *r = xstrdup(buf_str(&b));
			buf_free(&b);
			return r;
		}
		const char *word = p;
		size_t wlen = len;
		for (size_t i = 0; i < params->n && len; i++) {
			_cleanup_free_ char *name = xstrndup(params->v[i], cmdline_name_len(params->v[i]));
			if (!word_is(p, len, name))
				continue;
			bool same = len == strlen(params->v[i]) && !memcmp(p, params->v[i], len);
			/* keep the first right word, or replace the first other
			 * value where it is; every further word of the name goes */
			if (add && !placed[i] && (!have[i] || same)) {
				placed[i] = 1;
				word = params->v[i];
				wlen = strlen(word);
			} else {
				wlen = 0;
			}
			break;
		}
		if (wlen) {
			if (b.len)
				buf_append(&b, " ", 1);
			buf_append(&b, word, wlen);
		}
		p += len;
	}
	if (add)
		append_unplaced(&b, params, placed);
	char *r = xstrdup(buf_str(&b)); /* also "" for an empty buffer */
	buf_free(&b);
	return r;
}
