/* Unit tests for machine/acssupport.c: does the running kernel carry the
 * ACS override? The symbol names are those of the classic patch (Alex
 * Williamson's, as carried by Zen/Liquorix: "ZEN: Add ACS override support";
 * Proxmox VE: github.com/proxmox/pve-kernel, patches/kernel/
 * 0004-pci-Enable-overrides-for-missing-ACS-capabilities-4..patch at
 * 9fa52bc7d75e436b2c97ad20d9ca8e739e66a06b) and of acso's own placement (patches/acs-override/quirks-code.c). The line
 * format is /proc/kallsyms' ("ADDRESS TYPE NAME" and "\t[MODULE]" for a
 * module's symbol; addresses zeroed when read without root) and System.map's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/util.h"
#include "machine/acssupport.h"

#define Z "0000000000000000"
/* A kernel's list with the patch: the quirk among quirks.c's own symbols. */
static const char pve_syms[] =
	Z " T pci_dev_specific_acs_enabled\n"
	Z " t pci_quirk_intel_pch_acs\n"
	Z " t pcie_acs_overrides\n"
	Z " t pcie_acs_override_setup\n"
	Z " d acs_on_ids\n"
	Z " t nvme_probe\t[nvme]\n";
/* A stock kernel: quirks.c is there, the patch is not. */
static const char stock_syms[] =
	"ffffffff81000000 T _text\n"
	"ffffffff815a2b30 T pci_dev_specific_acs_enabled\n"
	"ffffffff815a2c00 t pci_quirk_amd_sb_acs\n";
/* Only a module names the symbols: an out-of-tree module is not the kernel. */
static const char module_syms[] =
	Z " t pcie_acs_overrides\t[acs_fake]\n"
	Z " t pcie_acs_override_setup\t[acs_fake]\n";

static void test_scan(void **state)
{
	char sym[64] = "";
	assert_int_equal(acs_scan_symbols(pve_syms, strlen(pve_syms), sym, sizeof(sym)), 1);
	assert_string_equal(sym, "pcie_acs_overrides");
	assert_int_equal(acs_scan_symbols(stock_syms, strlen(stock_syms), sym, sizeof(sym)), 0);
	/* a module's symbols prove nothing, and without the kernel's own marker
	 * the list is not the kernel's: it tells nothing */
	assert_int_equal(acs_scan_symbols(module_syms, strlen(module_syms), sym, sizeof(sym)), -1);
	/* a compiler suffix is the same function */
	const char isra[] = Z " T pci_dev_specific_acs_enabled\n" Z " t pcie_acs_override_setup.isra.0\n";
	assert_int_equal(acs_scan_symbols(isra, strlen(isra), sym, sizeof(sym)), 1);
	assert_string_equal(sym, "pcie_acs_override_setup");
	/* a longer name that starts alike is another symbol */
	const char longer[] = Z " T pci_dev_specific_acs_enabled\n" Z " t pcie_acs_overrides_table\n";
	assert_int_equal(acs_scan_symbols(longer, strlen(longer), sym, sizeof(sym)), 0);
	/* garbage, an empty list, a last line without newline */
	const char junk[] = "not a symbol list\n\n\x01\x02 T\n";
	assert_int_equal(acs_scan_symbols(junk, strlen(junk), sym, sizeof(sym)), -1);
	assert_int_equal(acs_scan_symbols("", 0, sym, sizeof(sym)), -1);
	const char nonl[] = Z " T pci_dev_specific_acs_enabled\n" Z " t pcie_acs_overrides";
	assert_int_equal(acs_scan_symbols(nonl, strlen(nonl), sym, sizeof(sym)), 1);
}

static void test_flavour(void **state)
{
	assert_string_equal(acs_release_flavour("6.8.12-4-pve"), "pve");
	assert_string_equal(acs_release_flavour("6.11.5-zen1-1-zen"), "zen");
	assert_string_equal(acs_release_flavour("6.11.7-1-liquorix-amd64"), "liquorix");
	assert_string_equal(acs_release_flavour("6.11.8-x64v3-xanmod1"), "xanmod");
	assert_string_equal(acs_release_flavour("6.12.1-2-cachyos"), "cachyos");
	assert_null(acs_release_flavour("6.1.0-27-amd64"));
	assert_null(acs_release_flavour(NULL));
}

/* A root with proc/kallsyms and boot/System.map-REL as given (NULL: absent). */
static char *make_root(const char *kallsyms, const char *release, const char *map)
{
	char tmpl[] = "/tmp/acso-unit-acs.XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	char *root = xstrdup(d);
	int fd = open(root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(mkdir_p_at(fd, "proc", 0755), 0);
	assert_int_equal(mkdir_p_at(fd, "boot", 0755), 0);
	if (kallsyms)
		assert_true(write_file_atomic(fd, "proc/kallsyms", kallsyms, strlen(kallsyms), 0444, WRITE_NOSYNC) >= 0);
	if (map) {
		_cleanup_free_ char *n = xasprintf("boot/System.map-%s", release);
		assert_true(write_file_atomic(fd, n, map, strlen(map), 0644, WRITE_NOSYNC) >= 0);
	}
	close(fd);
	return root;
}

static struct acs_support detect(const char *root, const char *release, bool log_on, bool log_unknown)
{
	struct acs_support a;
	int rfd = root_open_dir(root);
	assert_true(rfd >= 0);
	acs_support_detect(rfd, release, log_on, log_unknown, &a);
	close(rfd);
	return a;
}

static void test_detect(void **state)
{
	/* Proxmox: kallsyms proves it without a reboot */
	_cleanup_free_ char *pve = make_root(pve_syms, "6.8.12-4-pve", NULL);
	struct acs_support a = detect(pve, "6.8.12-4-pve", false, false);
	assert_int_equal(a.supported, TRI_YES);
	assert_int_equal(a.evidence, ACS_EV_KALLSYMS);
	assert_string_equal(a.source, "/proc/kallsyms");
	assert_string_equal(a.symbol, "pcie_acs_overrides");
	assert_string_equal(a.flavour, "pve");
	assert_int_equal(rm_rf_at(AT_FDCWD, pve), 0);

	/* stock kernel: kallsyms proves the absence, whatever the flavour says */
	_cleanup_free_ char *stock = make_root(stock_syms, "6.8.12-4-pve", NULL);
	a = detect(stock, "6.8.12-4-pve", false, false);
	assert_int_equal(a.supported, TRI_NO);
	assert_string_equal(a.flavour, "pve");
	assert_int_equal(rm_rf_at(AT_FDCWD, stock), 0);

	/* no kallsyms: this release's System.map is the fallback */
	_cleanup_free_ char *map = make_root(NULL, "6.1.192-acso", pve_syms);
	a = detect(map, "6.1.192-acso", false, false);
	assert_int_equal(a.supported, TRI_YES);
	assert_int_equal(a.evidence, ACS_EV_SYSTEM_MAP);
	assert_string_equal(a.source, "/boot/System.map-6.1.192-acso");
	/* ... but never another release's */
	a = detect(map, "6.1.0-27-amd64", false, false);
	assert_int_equal(a.supported, TRI_UNKNOWN);
	assert_int_equal(a.evidence, ACS_EV_NONE);
	assert_non_null(strstr(a.note, "/proc/kallsyms"));
	assert_int_equal(rm_rf_at(AT_FDCWD, map), 0);

	/* kallsyms listing only a module's symbols: not proof, System.map decides */
	_cleanup_free_ char *mod = make_root(module_syms, "6.1.0-27-amd64", stock_syms);
	a = detect(mod, "6.1.0-27-amd64", false, false);
	assert_int_equal(a.supported, TRI_NO);
	assert_int_equal(a.evidence, ACS_EV_SYSTEM_MAP);
	assert_non_null(strstr(a.note, "lists no kernel symbols"));
	assert_int_equal(rm_rf_at(AT_FDCWD, mod), 0);

	/* nothing readable: the boot log decides, and the override's own line
	 * wins over everything */
	_cleanup_free_ char *none = make_root(NULL, "x", NULL);
	a = detect(none, "6.1.0-27-amd64", false, true);
	assert_int_equal(a.supported, TRI_NO);
	assert_int_equal(a.evidence, ACS_EV_UNKNOWN_PARAM);
	a = detect(none, "6.1.0-27-amd64", false, false);
	assert_int_equal(a.supported, TRI_UNKNOWN);
	a = detect(none, "6.1.0-27-amd64", true, false);
	assert_int_equal(a.supported, TRI_YES);
	assert_int_equal(a.evidence, ACS_EV_BOOT_LOG);
	/* a release with a slash never names a path */
	a = detect(none, "../../etc/passwd", false, false);
	assert_int_equal(a.supported, TRI_UNKNOWN);
	assert_int_equal(rm_rf_at(AT_FDCWD, none), 0);
}

/* A FIFO in place of kallsyms is not read (it would block) and a directory
 * is not a symbol list. */
static void test_not_regular(void **state)
{
	_cleanup_free_ char *root = make_root(NULL, "x", stock_syms);
	_cleanup_free_ char *fifo = path_join(root, "proc/kallsyms");
	assert_int_equal(mkfifo(fifo, 0644), 0);
	struct acs_support a = detect(root, "x", false, false);
	assert_int_equal(a.supported, TRI_NO); /* System.map-x decided */
	assert_non_null(strstr(a.note, "not a regular file"));
	assert_int_equal(unlink(fifo), 0);
	assert_int_equal(mkdir(fifo, 0755), 0);
	a = detect(root, "x", false, false);
	assert_int_equal(a.evidence, ACS_EV_SYSTEM_MAP);
	assert_int_equal(rm_rf_at(AT_FDCWD, root), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_flavour),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_not_regular),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
