/* cmd-setup.c — `acso setup`: the seed guide's first steps for a machine
 * starting from nothing: the KVM and libvirt packages under the names this
 * release uses, the invoking user in the libvirt group, and the IOMMU turned
 * on through the same boot-parameter code as `acso grub`. */
#include <errno.h>
#include <json-c/json.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd-grub.h"
#include "cli/commands.h"
#include "base/err.h"
#include "base/fileio.h"
#include "boot/params.h"
#include "cli/output.h"
#include "base/spawn.h"
#include "base/util.h"
#include "machine/virtpkgs.h"


struct setup_opts {
	const char *user;
	bool no_packages, no_group, no_iommu, iommu_pt, no_update;
};

#define OPTS struct setup_opts
const struct acso_option setup_options[] = {
	OPT_STRING(0, "user", user, "NAME", "add NAME to the libvirt group (default: SUDO_USER)"),
	OPT_BOOL(0, "no-packages", no_packages, "do not install packages"),
	OPT_BOOL(0, "no-group", no_group, "do not change group membership"),
	OPT_BOOL(0, "no-iommu", no_iommu, "do not add intel_iommu=on"),
	OPT_BOOL(0, "iommu-pt", iommu_pt, "also add iommu=pt"),
	OPT_BOOL(0, "no-update", no_update, "do not run update-grub"),
	OPT_END,
};

/* Is user a member of group per ROOT/etc/group? -1: no such group. */
static int libvirt_member(int rootfd, const char *group, const char *user)
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

static void push_chroot(struct strv *argv, const struct acso_ctx *ctx)
{
	if (strcmp(ctx->root, "/")) {
		strv_push(argv, "chroot");
		strv_push(argv, ctx->root);
	}
}

int cmd_setup(struct acso_ctx *ctx, int argc, char **argv)
{
	struct setup_opts o = {0};
	int first;
	int r = cmd_options(ctx, argc, argv, &o, &first);
	if (r)
		return r;
	struct acso_err e = {0};
	int rc = EXIT_OK;
	struct strv pkgs = {0}, missing = {0}, apt = {0}, grp = {0};
	_cleanup_free_ char *distro = NULL, *osr = NULL, *status = NULL;
	struct json_object *j = json_object_new_object();

	/* 1. packages */
	if (!o.no_packages) {
		r = root_read_file(ctx->rootfd, "/etc/os-release", 64 << 10, &osr, NULL);
		if (r == -ENOENT)
			r = root_read_file(ctx->rootfd, "/usr/lib/os-release", 64 << 10, &osr, NULL);
		if (r < 0) {
			rc = fail(NULL, r, "read '/etc/os-release'");
			goto out;
		}
		if (virt_packages(osr, &pkgs, &distro) < 0) {
			msg_error("'%s' is not a Debian or Ubuntu system: acso setup knows only apt", distro);
			msg_hint("install KVM and libvirt with your package manager, then run 'acso setup --no-packages'");
			rc = EXIT_FAIL;
			goto out;
		}
		(void)root_read_file(ctx->rootfd, "/var/lib/dpkg/status", (size_t)64 << 20, &status, NULL);
		for (size_t i = 0; i < pkgs.n; i++)
			if (!status || !dpkg_installed(status, pkgs.v[i]))
				strv_push(&missing, pkgs.v[i]);
		json_object_object_add(j, "distro", json_object_new_string(distro));
		json_object_object_add(j, "packages", json_from_strv(&pkgs));
		json_object_object_add(j, "missing", json_from_strv(&missing));
		if (missing.n) {
			push_chroot(&apt, ctx);
			strv_push(&apt, "apt-get");
			strv_push(&apt, "install");
			strv_push(&apt, "-y");
			for (size_t i = 0; i < missing.n; i++)
				strv_push(&apt, missing.v[i]);
			_cleanup_free_ char *line = argv_join(&apt);
			json_object_object_add(j, "install", json_from_strv(&apt));
			if (!ctx->json)
				printf("%s: %s\n", ctx->dry_run ? "Would run" : "Running", line);
			if (!ctx->dry_run) {
				static const char *const env[] = {"DEBIAN_FRONTEND=noninteractive", NULL};
				struct spawn_opts so = {.log_fd = STDERR_FILENO, .env = env};
				r = spawn_check((const char *const *)apt.v, &so, &e);
				if (r < 0) {
					rc = fail(&e, r, "'%s'", line);
					msg_hint("check the apt sources ('apt-get update') and run 'acso setup' again");
					goto out;
				}
			}
		} else if (!ctx->json) {
			printf("Packages: %s already installed\n", distro);
		}
	}

	/* 2. the libvirt group */
	if (!o.no_group) {
		const char *user = o.user ? o.user : getenv("SUDO_USER");
		if (!user && geteuid() != 0) {
			struct passwd *pw = getpwuid(geteuid());
			user = pw ? pw->pw_name : NULL;
		}
		if (!user || !strcmp(user, "root")) {
			msg_warn("no user to add to the libvirt group (run through sudo, or give --user NAME)");
		} else {
			int m = libvirt_member(ctx->rootfd, "libvirt", user);
			json_object_object_add(j, "user", json_object_new_string(user));
			if (m == 1) {
				if (!ctx->json)
					printf("Group: %s is already in libvirt\n", user);
			} else {
				push_chroot(&grp, ctx);
				strv_push(&grp, "usermod");
				strv_push(&grp, "-a");
				strv_push(&grp, "-G");
				strv_push(&grp, "libvirt");
				strv_push(&grp, user);
				_cleanup_free_ char *line = argv_join(&grp);
				json_object_object_add(j, "group", json_from_strv(&grp));
				if (!ctx->json)
					printf("%s: %s\n", ctx->dry_run ? "Would run" : "Running", line);
				if (!ctx->dry_run) {
					struct spawn_opts so = {.log_fd = STDERR_FILENO};
					r = spawn_check((const char *const *)grp.v, &so, &e);
					if (r < 0) {
						rc = fail(&e, r, "'%s'", line);
						if (m < 0)
							msg_hint("the libvirt group comes with libvirt-daemon-system: install it first");
						goto out;
					}
					msg_hint("%s must log out and in again for the group to apply", user);
				}
			}
		}
	}

	/* 3. the IOMMU, through the boot-parameter code of `acso grub` */
	if (!o.no_iommu) {
		const char *vendor = cpu_vendor(ctx->rootfd);
		json_object_object_add(j, "cpu", json_object_new_string(vendor));
		if (strcmp(vendor, "intel") && !o.iommu_pt) {
			if (!ctx->json)
				printf("IOMMU: %s CPU: no parameter needed (the IOMMU is on when the firmware enables it)\n", vendor);
		} else {
			struct grub_request rq = {.acs = "", .intel_iommu = -1, .iommu_pt = o.iommu_pt,
						  .no_update = o.no_update, .no_report = ctx->json};
			if (!ctx->json)
				printf("IOMMU:\n");
			fflush(stdout);
			r = grub_do(ctx, &rq);
			json_object_object_add(j, "iommu", json_object_new_boolean(r == EXIT_OK));
			if (r != EXIT_OK) {
				rc = r;
				goto out;
			}
		}
	}
	if (!ctx->json)
		printf("Next: reboot if the boot parameters changed, then run 'acso check' to see what is left\n");
out:
	if (ctx->json) {
		json_object_object_add(j, "dry_run", json_object_new_boolean(ctx->dry_run));
		json_object_object_add(j, "ok", json_object_new_boolean(rc == EXIT_OK));
		out_json(j);
	}
	json_object_put(j);
	strv_free(&pkgs);
	strv_free(&missing);
	strv_free(&apt);
	strv_free(&grp);
	return rc;
}
