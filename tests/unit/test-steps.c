/* Unit tests for the plans behind acso grub's other boot managers
 * (boot/register.c), acso setup (machine/hostsetup.c), acso install
 * (package/installer.c) and acso prebuilt (package/prebuilt.c). Roots are
 * temporary directories; no command is run. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "boot/register.h"
#include "machine/hostsetup.h"
#include "package/installer.h"
#include "package/manifest.h"
#include "package/prebuilt.h"
#include "unit-tmp.h"

static char *mkroot(void)
{
	char tmpl[] = "/tmp/acso-steps-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	return xstrdup(tmpl);
}

static void drop(char *root)
{
	rm_rf_at(AT_FDCWD, root);
	free(root);
}

/* kernelstub edits with -a/-d, never -o (which replaces every option);
 * grubby's --remove-args takes names; --remove takes back only what acso
 * recorded, and nothing when nothing was recorded. */
static void test_tool_managers(void **state)
{
	char *root = mkroot();
	unit_put(root, "usr/bin/kernelstub", "");
	int fd = root_open_dir(root);
	struct acso_err e = {0};
	struct boot_register b = {0};
	strv_push(&b.params, "pcie_acs_override=downstream");
	strv_push(&b.params, "intel_iommu=on");
	assert_int_equal(boot_register_plan(root, fd, &b, &e), 0);
	assert_int_equal(b.bm, BOOT_KERNELSTUB);
	char *cmd = strv_join(&b.tool_argv);
	char *want = xasprintf("chroot %s kernelstub -a pcie_acs_override=downstream intel_iommu=on", root);
	assert_string_equal(cmd, want);
	free(cmd), free(want);
	boot_register_free(&b);

	b = (struct boot_register){.remove = true};
	assert_int_equal(boot_register_plan(root, fd, &b, &e), 0);
	assert_int_equal(b.tool_argv.n, 0); /* nothing recorded: nothing to take back */
	boot_register_free(&b);

	char *ks = xasprintf("%s/usr/bin/kernelstub", root);
	assert_int_equal(unlink(ks), 0);
	free(ks);
	unit_put(root, "usr/sbin/grubby", "");
	struct strv rec = {0};
	strv_push(&rec, "pcie_acs_override=downstream");
	strv_push(&rec, "intel_iommu=on");
	assert_int_equal(boot_params_write(fd, &rec, &e), 0); /* what an earlier add recorded */
	strv_free(&rec);
	b = (struct boot_register){.remove = true};
	assert_int_equal(boot_register_plan(root, fd, &b, &e), 0);
	assert_int_equal(b.bm, BOOT_GRUBBY);
	cmd = strv_join(&b.tool_argv);
	want = xasprintf("chroot %s grubby --update-kernel=ALL --remove-args=pcie_acs_override intel_iommu", root);
	assert_string_equal(cmd, want);
	free(cmd), free(want);
	boot_register_free(&b);

	/* --once needs GRUB */
	b = (struct boot_register){.once = "6.1.0"};
	strv_push(&b.params, "intel_iommu=on");
	assert_true(boot_register_plan(root, fd, &b, &e) < 0);
	assert_int_equal(b.stage, BR_ONCE_NEEDS_GRUB);
	boot_register_free(&b);
	close(fd);
	drop(root);
}

/* No boot manager: an add is refused, an undo has nothing to do. */
static void test_no_manager(void **state)
{
	char *root = mkroot();
	int fd = root_open_dir(root);
	struct acso_err e = {0};
	struct boot_register b = {0};
	strv_push(&b.params, "intel_iommu=on");
	assert_int_equal(boot_register_plan(root, fd, &b, &e), -ACSO_E_NOTFOUND);
	assert_int_equal(b.stage, BR_NO_MANAGER);
	boot_register_free(&b);
	b = (struct boot_register){.remove = true};
	assert_int_equal(boot_register_plan(root, fd, &b, &e), 0);
	assert_int_equal(b.bm, BOOT_UNKNOWN);
	boot_register_free(&b);
	close(fd);
	drop(root);
}

/* GRUB: --once is refused before anything is written unless GRUB_DEFAULT
 * is saved. */
static void test_grub_once(void **state)
{
	char *root = mkroot();
	unit_put(root, "etc/default/grub", "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n");
	unit_put(root, "usr/sbin/update-grub", "");
	int fd = root_open_dir(root);
	struct acso_err e = {0};
	struct boot_register b = {.once = "6.1.0", .dry_run = true};
	strv_push(&b.params, "intel_iommu=on");
	assert_int_equal(boot_register_plan(root, fd, &b, &e), -ACSO_E_STATE);
	assert_int_equal(b.stage, BR_ONCE_NOT_SAVED);
	assert_string_equal(b.grub_default, "0");
	boot_register_free(&b);
	b = (struct boot_register){.once = "6.1.0", .set_default_saved = true, .dry_run = true};
	strv_push(&b.params, "intel_iommu=on");
	assert_int_equal(boot_register_plan(root, fd, &b, &e), 0);
	assert_true(b.must_regen);
	assert_true(b.grub.changed.n > 0);
	boot_register_free(&b);
	close(fd);
	drop(root);
}

/* acso setup: Debian 12's names, installed packages left out, the group
 * read from /etc/group, everything through chroot for an image. */
static void test_setup_plan(void **state)
{
	char *root = mkroot();
	unit_put(root, "etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n");
	unit_put(root, "var/lib/dpkg/status", "Package: bridge-utils\nStatus: install ok installed\nVersion: 1\n\n");
	unit_put(root, "etc/group", "root:x:0:\nlibvirt:x:120:carol,bob\n");
	int fd = root_open_dir(root);
	struct acso_err e = {0};
	struct setup_plan p = {0};
	assert_int_equal(setup_plan_packages(root, fd, &p, &e), 0);
	char *apt = strv_join(&p.apt);
	char *want = xasprintf("chroot %s apt-get install -y qemu-system-x86 libvirt-daemon-system libvirt-clients", root);
	assert_string_equal(apt, want);
	free(apt), free(want);
	setup_plan_group(root, fd, "bob", &p);
	assert_int_equal(p.member, 1);
	assert_int_equal(p.usermod.n, 0);
	setup_plan_group(root, fd, "alice", &p);
	assert_int_equal(p.member, 0);
	assert_string_equal(p.usermod.v[p.usermod.n - 1], "alice");
	assert_int_equal(etc_group_has(fd, "kvm", "bob"), -1);
	assert_int_equal(etc_group_has(fd, "libvirt", "caro"), 0);
	setup_plan_free(&p);
	/* not apt */
	unit_put(root, "etc/os-release", "ID=fedora\nNAME=Fedora\nVERSION_ID=41\n");
	p = (struct setup_plan){0};
	assert_int_equal(setup_plan_packages(root, fd, &p, &e), -ACSO_E_UNSUPPORTED);
	assert_non_null(p.distro);
	setup_plan_free(&p);
	close(fd);
	drop(root);
}

/* acso install from the last build: a package that changed since the
 * build is refused; one the manifest does not list is not compared. */
static void test_manifest_check(void **state)
{
	struct install_pkg pk = {.path = "/w/linux-image.deb", .info = {.package = "linux-image-6.1.192-acso"}};
	strcpy(pk.info.sha256, "aa");
	struct install_plan plan = {.v = &pk, .n = 1};
	struct manifest_pkg mp = {.info = {.package = "linux-image-6.1.192-acso"}};
	strcpy(mp.info.sha256, "aa");
	struct manifest m = {.pkgs = &mp, .n = 1};
	struct acso_err e = {0};
	assert_int_equal(install_check_manifest(&plan, &m, &e), 0);
	strcpy(mp.info.sha256, "bb");
	assert_int_equal(install_check_manifest(&plan, &m, &e), -ACSO_E_HASH);
	assert_non_null(strstr(e.msg, "changed since the build"));
	mp.info.package = "linux-headers-6.1.192-acso";
	assert_int_equal(install_check_manifest(&plan, &m, &e), 0);
}

/* The running release is refused before anything else. */
static void test_preflight(void **state)
{
	char *root = mkroot();
	unit_put(root, "proc/sys/kernel/osrelease", "6.1.192-acso\n");
	unit_put(root, "boot/.keep", "");
	int fd = root_open_dir(root);
	struct install_pkg pk = {.path = "x.deb", .info = {.package = "linux-image-6.1.192-acso"}};
	struct install_plan plan = {.v = &pk, .n = 1, .release = "6.1.192-acso", .boot_needed = 1};
	struct acso_err e = {0};
	uint64_t boot_free = 0;
	assert_int_equal(install_preflight(root, fd, &plan, &boot_free, &e), -ACSO_E_STATE);
	strcpy(plan.release, "6.1.193-acso");
	assert_int_equal(install_preflight(root, fd, &plan, &boot_free, &e), 0);
	assert_true(boot_free > 0);
	plan.boot_needed = UINT64_MAX;
	assert_int_equal(install_preflight(root, fd, &plan, &boot_free, &e), -ACSO_E_TOOBIG);
	close(fd);
	drop(root);
}

static void test_prebuilt_helpers(void **state)
{
	char *s;
	assert_string_equal(s = prebuilt_series_of("6.1.0-13-amd64"), "6.1");
	free(s);
	assert_string_equal(s = prebuilt_series_of("6.12.5-acso"), "6.12");
	free(s);
	assert_null(prebuilt_series_of("6"));
	assert_null(prebuilt_series_of("6.x"));
	assert_true(prebuilt_release_cmp("6.1.192-acso", "6.1.9-acso") > 0);
	assert_true(prebuilt_release_cmp("6.10.1-acso", "6.9.99-acso") > 0);
	assert_int_equal(prebuilt_release_cmp("6.1.2-acso", "6.1.2-acso"), 0);

	/* the newest of a series, a version, a release; a major alone is no series */
	struct strv rels = {0};
	strv_push(&rels, "6.1.9-acso");
	strv_push(&rels, "6.1.192-acso");
	strv_push(&rels, "6.10.3-acso");
	strv_push(&rels, "6.12.1-acso");
	assert_string_equal(prebuilt_pick(&rels, "6.1"), "6.1.192-acso");
	assert_string_equal(prebuilt_pick(&rels, "6.1.9"), "6.1.9-acso");
	assert_string_equal(prebuilt_pick(&rels, "6.10.3-acso"), "6.10.3-acso");
	assert_null(prebuilt_pick(&rels, "6.1.19"));
	assert_null(prebuilt_pick(&rels, "6.6"));
	assert_null(prebuilt_pick(&rels, "6"));
	strv_free(&rels);

	/* Signed-By's file: armored or binary */
	assert_string_equal(prebuilt_keyring_path("\n-----BEGIN PGP PUBLIC KEY BLOCK-----\n", 38), "/etc/apt/keyrings/acso-prebuilt.asc");
	assert_string_equal(prebuilt_keyring_path("\x99\x01", 2), "/etc/apt/keyrings/acso-prebuilt.gpg");
	_cleanup_free_ char *src = prebuilt_source_text("http://h/repo", "/etc/apt/keyrings/k.asc");
	assert_non_null(strstr(src, "\nTypes: deb\nURIs: http://h/repo/\nSuites: ./\nSigned-By: /etc/apt/keyrings/k.asc\n"));

	/* apt in a chroot for an image, limited to the channel for update */
	struct strv a = {0};
	prebuilt_apt_argv("/img", "apt-get", true, &a);
	assert_string_equal(a.v[0], "chroot");
	assert_string_equal(a.v[1], "/img");
	assert_string_equal(a.v[2], "apt-get");
	assert_true(strv_has(&a, "Dir::Etc::sourcelist=/etc/apt/sources.list.d/acso-prebuilt.sources"));
	assert_true(strv_has(&a, "Dir::Etc::sourceparts=-"));
	assert_true(strv_has(&a, "APT::Get::List-Cleanup=0"));
	strv_free(&a);
	prebuilt_apt_argv("/", "apt-get", false, &a);
	assert_int_equal(a.n, 1);
	strv_free(&a);

	/* the Date of the signed part only */
	time_t d = 0;
	struct acso_err e = {0};
	const char *inrel = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nOrigin: acso\n"
			    "Date: Sat, 05 Dec 2026 20:41:12 +0000\nValid-Until: Mon, 04 Jan 2027 20:41:12 +0000\n"
			    "-----BEGIN PGP SIGNATURE-----\nDate: Sun, 06 Dec 2099 00:00:00 UTC\n";
	assert_int_equal(prebuilt_release_date(inrel, strlen(inrel), &d, &e), 0);
	assert_int_equal((long long)d, 1796503272LL);
	const char *plain = "Date: Sun, 06 Dec 2026 00:00:00 UTC\n";
	assert_int_equal(prebuilt_release_date(plain, strlen(plain), &d, &e), 0);
	const char *local = "Date: Sun, 06 Dec 2026 00:00:00 +0100\n", *none = "Origin: x\n";
	assert_int_equal(prebuilt_release_date(local, strlen(local), &d, &e), -ACSO_E_PARSE);
	assert_int_equal(prebuilt_release_date(none, strlen(none), &d, &e), -ACSO_E_PARSE);
	const char *after = "-----BEGIN PGP SIGNED MESSAGE-----\n\nOrigin: x\n-----BEGIN PGP SIGNATURE-----\nDate: Sun, 06 Dec 2026 00:00:00 UTC\n";
	assert_int_equal(prebuilt_release_date(after, strlen(after), &d, &e), -ACSO_E_PARSE);

	/* images and headers of the architecture asked */
	const char *pk = "Package: linux-image-6.1.5-acso\nArchitecture: amd64\n\n"
			 "Package: linux-headers-6.1.5-acso\nArchitecture: amd64\n\n"
			 "Package: linux-image-6.1.6-acso\nArchitecture: arm64\n\n"
			 "Package: linux-image-6.1.5-acso-dbg\nArchitecture: amd64\n\n"
			 "Package: linux-libc-dev\nArchitecture: amd64\n\n"
			 "Package: linux-image-acso-6.1\nArchitecture: amd64\n\n"
			 "Architecture: amd64\nPackage: linux-image-6.1.7-acso";
	struct strv im = {0}, hd = {0};
	prebuilt_packages_releases(pk, strlen(pk), "amd64", &im, &hd);
	assert_int_equal(im.n, 3);
	assert_string_equal(im.v[0], "6.1.5-acso");
	assert_string_equal(im.v[1], "acso-6.1"); /* the series' metapackage */
	assert_string_equal(im.v[2], "6.1.7-acso");
	assert_int_equal(hd.n, 1);
	assert_string_equal(hd.v[0], "6.1.5-acso");
	strv_free(&im);
	strv_free(&hd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tool_managers),
		cmocka_unit_test(test_no_manager),
		cmocka_unit_test(test_grub_once),
		cmocka_unit_test(test_setup_plan),
		cmocka_unit_test(test_manifest_check),
		cmocka_unit_test(test_preflight),
		cmocka_unit_test(test_prebuilt_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
