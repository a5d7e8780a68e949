/* hostsetup.c — see hostsetup.h. */
#include <errno.h>
#include <string.h>

#include "base/fileio.h"
#include "base/spawn.h"
#include "machine/hostsetup.h"
#include "machine/virtpkgs.h"

void setup_plan_free(struct setup_plan *p)
{
	free(p->distro);
	strv_free(&p->pkgs);
	strv_free(&p->missing);
	strv_free(&p->apt);
	strv_free(&p->usermod);
}

int setup_plan_packages(const char *root, int rootfd, struct setup_plan *p, struct acso_err *e)
{
	_cleanup_free_ char *osr = NULL, *status = NULL;
	int r = root_read_file(rootfd, "/etc/os-release", 64 << 10, &osr, NULL);
	if (r == -ENOENT)
		r = root_read_file(rootfd, "/usr/lib/os-release", 64 << 10, &osr, NULL);
	if (r < 0)
		return err_set(e, r, "read '/etc/os-release': %s", acso_strerror(r));
	if ((r = virt_packages(osr, &p->pkgs, &p->distro)) < 0)
		return err_set(e, r, "'%s' is not a Debian or Ubuntu system", p->distro);
	if (p->vm_tools) { /* the same names on every Debian and Ubuntu release */
		strv_push(&p->pkgs, "ovmf");
		strv_push(&p->pkgs, "virt-manager");
	}
	(void)root_read_file(rootfd, "/var/lib/dpkg/status", (size_t)64 << 20, &status, NULL);
	for (size_t i = 0; i < p->pkgs.n; i++)
		if (!status || !dpkg_installed(status, p->pkgs.v[i]))
			strv_push(&p->missing, p->pkgs.v[i]);
	if (!p->missing.n)
		return 0;
	strv_push_chroot(&p->apt, root);
	strv_push(&p->apt, "apt-get");
	strv_push(&p->apt, "install");
	strv_push(&p->apt, "-y");
	for (size_t i = 0; i < p->missing.n; i++)
		strv_push(&p->apt, p->missing.v[i]);
	return 0;
}

int etc_group_has(int rootfd, const char *group, const char *user)
{
	_cleanup_free_ char *text = NULL;
	if (root_read_file(rootfd, "/etc/group", (size_t)4 << 20, &text, NULL) < 0)
		return -1;
	_cleanup_free_ char *head = xasprintf("%s:", group);
	for (char *l = text; l && *l;) {
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = '\0';
		if (startswith(l, head)) {
			char *members = strrchr(l, ':') + 1;
			for (char *save = NULL, *m = strtok_r(members, ",", &save); m; m = strtok_r(NULL, ",", &save))
				if (!strcmp(m, user))
					return 1;
			return 0;
		}
		l = nl ? nl + 1 : NULL;
	}
	return -1;
}

void setup_plan_group(const char *root, int rootfd, const char *user, struct setup_plan *p)
{
	p->member = etc_group_has(rootfd, "libvirt", user);
	if (p->member == 1)
		return;
	strv_push_chroot(&p->usermod, root);
	strv_push(&p->usermod, "usermod");
	strv_push(&p->usermod, "-a");
	strv_push(&p->usermod, "-G");
	strv_push(&p->usermod, "libvirt");
	strv_push(&p->usermod, user);
}

int setup_run(const struct strv *argv, int log_fd, struct acso_err *e)
{
	static const char *const env[] = {"DEBIAN_FRONTEND=noninteractive", NULL};
	struct spawn_opts so = {.log_fd = log_fd, .env = env};
	return spawn_check((const char *const *)argv->v, &so, e);
}
