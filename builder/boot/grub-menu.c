/* grub-menu.c — after the config files: the command that regenerates
 * grub.cfg, the menu entry of a release in it, and grub-set-default. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/spawn.h"
#include "base/util.h"
#include "boot/boot-int.h"
#include "boot/grub.h"

/* ---- regeneration, entries, defaults ------------------------------------ */

static bool have_prog(const char *root, int rootfd, const char *name)
{
	if (strcmp(root, "/"))
		return root_has_prog(rootfd, name);
	_cleanup_free_ char *p = spawn_which(name);
	return p != NULL;
}

int grub_regen_argv(const char *root, int rootfd, struct strv *argv, struct acso_err *e)
{
	strv_push_chroot(argv, root);
	if (have_prog(root, rootfd, "update-grub")) {
		strv_push(argv, "update-grub");
	} else if (have_prog(root, rootfd, "grub-mkconfig")) {
		strv_push(argv, "grub-mkconfig");
		strv_push(argv, "-o");
		strv_push(argv, "/boot/grub/grub.cfg");
	} else if (have_prog(root, rootfd, "grub2-mkconfig")) {
		strv_push(argv, "grub2-mkconfig");
		strv_push(argv, "-o");
		strv_push(argv, "/boot/grub2/grub.cfg");
	} else {
		strv_free(argv);
		return err_set(e, -ACSO_E_NOTFOUND, "none of update-grub, grub-mkconfig, grub2-mkconfig is installed");
	}
	return 0;
}

/* The id after $menuentry_id_option on a menuentry/submenu line. */
static char *entry_id(const char *line)
{
	const char *p = strstr(line, "$menuentry_id_option");
	if (!p)
		return NULL;
	p += strlen("$menuentry_id_option");
	p += strspn(p, " \t");
	if (*p != '\'')
		return NULL;
	const char *q = strchr(p + 1, '\'');
	return q ? xstrndup(p + 1, (size_t)(q - p - 1)) : NULL;
}

int grub_entry_for(int rootfd, const char *release, char **out, struct acso_err *e)
{
	_cleanup_free_ char *cfg = NULL;
	const char *path = "/boot/grub/grub.cfg";
	int r = root_read_file(rootfd, path, (size_t)16 << 20, &cfg, NULL);
	if (r == -ENOENT) {
		path = "/boot/grub2/grub.cfg";
		r = root_read_file(rootfd, path, (size_t)16 << 20, &cfg, NULL);
	}
	if (r < 0)
		return err_set(e, r, "cannot read '%s': %s", path, acso_strerror(r));
	_cleanup_free_ char *want = xasprintf("gnulinux-%s-advanced-", release);
	_cleanup_free_ char *sub = NULL;
	for (char *line = cfg; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		const char *t = line + strspn(line, " \t");
		if (startswith(t, "submenu ")) {
			free(sub);
			sub = entry_id(t);
		} else if (line[0] == '}') {
			free(sub);
			sub = NULL;
		} else if (startswith(t, "menuentry ")) {
			_cleanup_free_ char *id = entry_id(t);
			if (id && startswith(id, want)) {
				*out = sub ? xasprintf("%s>%s", sub, id) : xstrdup(id);
				return 0;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return err_set(e, -ACSO_E_NOTFOUND, "no boot entry for kernel %s in '%s'", release, path);
}

int grub_set_default(const char *root, const char *entry, struct acso_err *e)
{
	struct strv argv = {0};
	strv_push_chroot(&argv, root);
	strv_push(&argv, "grub-set-default");
	strv_push(&argv, entry);
	struct spawn_opts o = {.log_fd = -1, .quiet = true};
	int r = spawn_check((const char *const *)argv.v, &o, e);
	strv_free(&argv);
	return r;
}
