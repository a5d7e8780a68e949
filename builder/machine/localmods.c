/* localmods.c — modules in use plus the modules of present PCI devices. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "machine/localmods.h"
#include "base/util.h"

static void norm(char *s)
{
	for (; *s; s++)
		if (*s == '-')
			*s = '_';
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int localmods_collect(int rootfd, const char *release, struct localmods *out, struct acso_err *e)
{
	*out = (struct localmods){0};
	_cleanup_free_ char *mods = NULL;
	int r = root_read_file(rootfd, "/proc/modules", 4u << 20, &mods, NULL);
	if (r == -ENOENT) {
		/* CONFIG_MODULES=n: nothing is loaded, and no modules.alias
		 * maps the devices present to module names */
		out->no_modules = true;
		return 0;
	}
	if (r < 0)
		return err_set(e, r, "read '/proc/modules': %s", strerror(-r));
	for (char *save = NULL, *l = strtok_r(mods, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *name = xstrndup(l, strcspn(l, " \t"));
		norm(name);
		if (*name && !strv_has(&out->mods, name)) {
			strv_push(&out->mods, name);
			out->loaded++;
		}
		free(name);
	}

	/* modaliases of the PCI devices present */
	struct strv aliases = {0};
	int dfd = root_opendir_fd(rootfd, "/sys/bus/pci/devices");
	if (dfd >= 0) {
		DIR *d = fdopendir(dfd);
		for (struct dirent *de; d && (de = readdir(d));) {
			if (de->d_name[0] == '.')
				continue;
			_cleanup_free_ char *p = xasprintf("/sys/bus/pci/devices/%s/modalias", de->d_name);
			char *a = NULL;
			if (root_read_attr(rootfd, p, &a) == 0) {
				strv_push(&aliases, a);
				free(a);
			}
		}
		if (d)
			closedir(d);
		else
			close(dfd);
	}
	out->pci_devices = aliases.n;
	if (aliases.n) {
		_cleanup_free_ char *path = xasprintf("/lib/modules/%s/modules.alias", release);
		_cleanup_free_ char *text = NULL;
		r = root_read_file(rootfd, path, 64u << 20, &text, NULL);
		if (r < 0) {
			strv_free(&aliases);
			localmods_free(out);
			return err_set(e, r, "read '%s': %s", path, strerror(-r));
		}
		for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			if (!startswith(l, "alias pci:"))
				continue;
			char *pat = l + 6, *sp = strchr(pat, ' ');
			if (!sp)
				continue;
			*sp = 0;
			char *mod = sp + 1;
			mod[strcspn(mod, " \t")] = 0;
			norm(mod);
			for (size_t i = 0; i < aliases.n; i++)
				if (fnmatch(pat, aliases.v[i], 0) == 0 && !strv_has(&out->mods, mod)) {
					strv_push(&out->mods, mod);
					out->from_pci++;
				}
		}
	}
	strv_free(&aliases);
	if (out->mods.n)
		qsort(out->mods.v, out->mods.n, sizeof(char *), cmp);
	return 0;
}

void localmods_lsmod(const struct localmods *m, struct buf *out)
{
	buf_printf(out, "Module                  Size  Used by\n");
	for (size_t i = 0; i < m->mods.n; i++)
		buf_printf(out, "%-24s 16384  0\n", m->mods.v[i]);
	buf_str(out);
}

void localmods_free(struct localmods *m)
{
	strv_free(&m->mods);
	*m = (struct localmods){0};
}
