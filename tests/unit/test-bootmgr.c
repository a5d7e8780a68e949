/* Unit tests for issue 12's boot side: which boot manager a root uses
 * (systemd-boot by what is on the ESP, not by kernel-install; Proxmox VE's
 * proxmox-boot-tool) and a "--" in a command line (the parameters go before
 * it; init's words after it are never touched). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/util.h"
#include "boot/bootmgr.h"
#include "boot/cmdline.h"
#include "boot/proxmox.h"
#include "unit-tmp.h"

static void put(const char *rel, const char *text)
{
	_cleanup_free_ char *p = path_join(g_tmp, rel);
	_cleanup_free_ char *dir = xstrndup(p, (size_t)(strrchr(p, '/') - p));
	assert_int_equal(mkdir_p_at(AT_FDCWD, dir, 0755), 0);
	assert_true(write_file_atomic(AT_FDCWD, p, text, strlen(text), 0644, WRITE_NOSYNC) >= 0);
}

/* cmdline_apply's "--" cases are in test-grub.c's table of its cases. */
static void test_init_separator(void **state)
{
	assert_int_equal(cmdline_count("quiet -- intel_iommu=on", "intel_iommu"), 0);
	assert_int_equal(cmdline_count("intel_iommu=on -- intel_iommu=on", "intel_iommu"), 1);
	assert_int_equal(cmdline_count_word("a -- a", "a"), 1);
}

static void test_detect(void **state)
{
	char tmpl[] = "/tmp/acso-unit-bootmgr.XXXXXX";
	g_tmp = xstrdup(mkdtemp(tmpl));
	_cleanup_close_ int rfd = root_open_dir(g_tmp);
	/* Debian's systemd ships kernel-install whether or not systemd-boot boots */
	put("usr/bin/kernel-install", "");
	assert_int_equal(bootmgr_detect(rfd), BOOT_UNKNOWN);
	put("etc/default/grub", "GRUB_DEFAULT=0\n");
	assert_int_equal(bootmgr_detect(rfd), BOOT_GRUB);
	assert_false(bootmgr_sdboot_on_esp(rfd));
	/* systemd-boot installed on the ESP wins over a leftover GRUB file */
	put("boot/efi/EFI/systemd/systemd-bootx64.efi", "");
	assert_int_equal(bootmgr_detect(rfd), BOOT_SYSTEMD_BOOT);
	assert_true(bootmgr_uses_kcmdline(BOOT_SYSTEMD_BOOT));
	/* Proxmox VE's proxmox-boot-tool before both */
	put("etc/kernel/proxmox-boot-uuids", "936E-9A3F\n");
	assert_int_equal(bootmgr_detect(rfd), BOOT_PROXMOX);
	assert_true(bootmgr_uses_kcmdline(BOOT_PROXMOX));
	assert_false(bootmgr_uses_kcmdline(BOOT_GRUB));
	assert_string_equal(bootmgr_name(BOOT_PROXMOX), "proxmox-boot-tool");
	/* Pop!_OS keeps kernelstub */
	put("usr/bin/kernelstub", "");
	assert_int_equal(bootmgr_detect(rfd), BOOT_KERNELSTUB);
	/* loader entries on an ESP mounted at /efi count too */
	close(rfd);
	rm_rf_at(AT_FDCWD, g_tmp);
	put("efi/loader/entries/x.conf", "title x\n");
	rfd = root_open_dir(g_tmp);
	assert_int_equal(bootmgr_detect(rfd), BOOT_SYSTEMD_BOOT);
}

static void test_refresh_argv(void **state)
{
	struct strv a = {0};
	proxmox_refresh_argv("/", &a);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.v[0], "proxmox-boot-tool");
	assert_string_equal(a.v[1], "refresh");
	strv_free(&a);
	proxmox_refresh_argv("/mnt/img", &a);
	assert_int_equal(a.n, 4);
	assert_string_equal(a.v[0], "chroot");
	assert_string_equal(a.v[1], "/mnt/img");
	strv_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_separator),
		cmocka_unit_test_teardown(test_detect, rm_tmp),
		cmocka_unit_test(test_refresh_argv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
