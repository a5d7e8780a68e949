/* Unit tests for pci.c (config space parser, addresses, sysfs scan),
 * iommu.c (verdicts, override prediction) and sysinfo.c (parsers). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/fileio.h"
#include "machine/iommu.h"
#include "machine/pci.h"
#include "machine/sysinfo.h"
#include "base/util.h"

static void put16(uint8_t *c, size_t off, uint16_t v) { c[off] = v & 0xff; c[off + 1] = v >> 8; }
static void put32(uint8_t *c, size_t off, uint32_t v) { for (int i = 0; i < 4; i++) c[off + i] = (v >> (8 * i)) & 0xff; }

/* A root port: PCIe cap at 0x40, ext caps AER at 0x100 -> ACS at 0x140. */
static void make_port(uint8_t *c, bool acs)
{
	memset(c, 0, 4096);
	put16(c, 0, 0x8086), put16(c, 2, 0x1901);
	put16(c, 6, 0x0010);
	c[9] = 0, c[10] = 0x04, c[11] = 0x06;
	c[0x0e] = 0x81;
	c[0x34] = 0x40;
	c[0x40] = 0x10, c[0x41] = 0;
	put16(c, 0x42, 0x0042);   /* version 2, root port (4) */
	put32(c, 0x100, 0x0001 | 1 << 16 | (acs ? 0x140u << 20 : 0));
	if (acs) {
		put32(c, 0x140, 0x000D | 1 << 16);
		put16(c, 0x144, 0x001f), put16(c, 0x146, 0x001d);
	}
}

static void test_config_parse(void **state)
{
	uint8_t c[4096];
	struct pci_cfg p;
	make_port(c, true);
	pci_parse_config(c, sizeof(c), &p);
	assert_true(p.valid);
	assert_int_equal(p.vendor, 0x8086);
	assert_int_equal(p.class, 0x060400);
	assert_int_equal(p.header_type, 1);
	assert_true(p.multifunction);
	assert_int_equal(p.pcie, PCIE_ROOT_PORT);
	assert_int_equal(p.acs, TRI_YES);
	assert_int_equal(p.acs_cap, 0x1f);
	assert_int_equal(p.acs_ctrl, 0x1d);

	make_port(c, false);
	pci_parse_config(c, sizeof(c), &p);
	assert_int_equal(p.acs, TRI_NO);
	/* 256 bytes (an unprivileged read): ACS unknown, not "no". */
	pci_parse_config(c, 256, &p);
	assert_int_equal(p.pcie, PCIE_ROOT_PORT);
	assert_int_equal(p.acs, TRI_UNKNOWN);
	/* Truncated header. */
	pci_parse_config(c, 63, &p);
	assert_false(p.valid);
	assert_int_equal(p.acs, TRI_UNKNOWN);
	assert_int_equal(p.pcie, PCIE_UNKNOWN);
	pci_parse_config(NULL, 0, &p);
	assert_false(p.valid);
	/* No capability list: conventional PCI, no ACS possible. */
	make_port(c, false);
	put16(c, 6, 0);
	pci_parse_config(c, sizeof(c), &p);
	assert_int_equal(p.pcie, PCIE_NONE);
	assert_int_equal(p.acs, TRI_NO);
	/* A capability list that loops on itself ends. */
	make_port(c, false);
	c[0x40] = 0x01, c[0x41] = 0x40;
	pci_parse_config(c, sizeof(c), &p);
	assert_int_equal(p.pcie, PCIE_NONE);
	/* A capability pointer past a short read: unknown. */
	make_port(c, false);
	c[0x34] = 0xf0;
	pci_parse_config(c, 128, &p);
	assert_int_equal(p.pcie, PCIE_UNKNOWN);
	/* An extended list that loops, or points below 0x100. */
	make_port(c, false);
	put32(c, 0x100, 0x0001 | 1 << 16 | 0x100u << 20);
	pci_parse_config(c, sizeof(c), &p);
	assert_int_equal(p.acs, TRI_NO);
	put32(c, 0x100, 0x0001 | 1 << 16 | 0x040u << 20);
	pci_parse_config(c, sizeof(c), &p);
	assert_int_equal(p.acs, TRI_NO);
	/* ACS header past the end of what was read. */
	make_port(c, true);
	pci_parse_config(c, 0x142, &p);
	assert_int_not_equal(p.acs, TRI_YES);
}

static void test_addr(void **state)
{
	unsigned d, b, s, f;
	assert_int_equal(pci_parse_addr("0000:01:00.3", &d, &b, &s, &f), 0);
	assert_int_equal(b, 1);
	assert_int_equal(f, 3);
	assert_int_equal(pci_parse_addr("0000:01:20.0", &d, &b, &s, &f), -EINVAL); /* slot > 0x1f */
	assert_int_equal(pci_parse_addr("0000:01:00.8", &d, &b, &s, &f), -EINVAL);
	assert_int_equal(pci_parse_addr("01:00.0", &d, &b, &s, &f), -EINVAL);
	assert_int_equal(pci_parse_addr("0000:01:00.0x", &d, &b, &s, &f), -EINVAL);
	assert_int_equal(pci_parse_addr("pci0000:00", &d, &b, &s, &f), -EINVAL);
	char buf[16];
	assert_int_equal(iommu_norm_addr("01:00.0", buf), 0);
	assert_string_equal(buf, "0000:01:00.0");
	assert_int_equal(iommu_norm_addr("0000:0A:00.1", buf), 0);
	assert_string_equal(buf, "0000:0a:00.1");
	assert_int_equal(iommu_norm_addr("junk", buf), -EINVAL);
}

static int fixture_root(const char *name)
{
	char *p = xasprintf("tests/fixtures/%s", name);
	int fd = root_open_dir(p);
	free(p);
	assert_true(fd >= 0);
	return fd;
}

static void test_seed_report(void **state)
{
	int fd = fixture_root("seed");
	struct iommu_report r;
	struct acso_err e = {0};
	assert_int_equal(iommu_report_build(fd, &r, &e), 0);
	assert_int_equal(r.pci.n, 32);
	assert_int_equal(r.pci.warnings, 0);
	assert_int_equal(r.ngroups, 19);
	for (size_t i = 0; i < r.ngroups; i++)
		assert_int_equal(r.groups[i].id, (int)i);
	assert_int_equal(r.ngpus, 2);
	assert_int_equal(r.gpus[0].verdict, VERDICT_SHARED);
	assert_int_equal(r.gpus[0].nfunctions, 3);
	assert_int_equal(r.gpus[0].nbridges, 2);
	assert_int_equal(r.gpus[0].nblockers, 4);
	assert_string_equal(r.gpus[0].override, "id:8086:1901");
	assert_string_equal(r.gpus[0].override_broad, "downstream");
	assert_int_equal(r.gpus[0].override_helps, TRI_YES);
	assert_string_equal(r.gpus[1].override, "id:8086:1905");
	assert_string_equal(r.override_all, "id:8086:1901,id:8086:1905");
	assert_string_equal(r.root_fs_name, "nvme0n1p2");
	assert_string_equal(r.pci.v[r.root_fs_dev].addr, "0000:03:00.0");
	assert_string_equal(r.nic_name, "enp0s31f6");
	assert_true(iommu_group_by_id(&r, 13)->default_nic);
	int gpu = iommu_find_gpu(&r, "02:00.0");
	assert_int_equal(gpu, 1);
	assert_int_equal(iommu_find_gpu(&r, "00:17.0"), -1);
	int a = pci_find(&r.pci, "0000:02:00.1");
	assert_int_equal(iommu_gpu_of(&r, a), 1);
	assert_string_equal(r.pci.v[r.pci.v[a].parent].addr, "0000:00:01.1");
	iommu_report_free(&r);
	close(fd);
}

static void test_other_reports(void **state)
{
	struct { const char *name; enum verdict v; enum tri helps; const char *ov; } cases[] = {
		{"seed-after-override", VERDICT_ISOLATED, TRI_UNKNOWN, NULL},
		{"desktop-clean", VERDICT_ISOLATED_BRIDGE, TRI_UNKNOWN, NULL},
		{"amd-chipset-shared", VERDICT_SHARED, TRI_YES, "id:1022:1483"},
		{"port-has-acs", VERDICT_SHARED, TRI_NO, NULL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int fd = fixture_root(cases[i].name);
		struct iommu_report r;
		assert_int_equal(iommu_report_build(fd, &r, NULL), 0);
		assert_true(r.ngpus >= 1);
		assert_int_equal(r.gpus[0].verdict, cases[i].v);
		assert_int_equal(r.gpus[0].override_helps, cases[i].helps);
		if (cases[i].ov)
			assert_string_equal(r.gpus[0].override, cases[i].ov);
		else
			assert_null(r.gpus[0].override);
		iommu_report_free(&r);
		close(fd);
	}
	int fd = fixture_root("iommu-off");
	struct iommu_report r;
	assert_int_equal(iommu_report_build(fd, &r, NULL), 0);
	assert_int_equal(r.ngroups, 0);
	assert_int_equal(r.gpus[0].verdict, VERDICT_NO_GROUP);
	iommu_report_free(&r);
	close(fd);
	/* A root without /sys at all is an error, with a message. */
	fd = root_open_dir("tests/unit");
	struct acso_err e = {0};
	assert_true(iommu_report_build(fd, &r, &e) < 0);
	assert_non_null(strstr(e.msg, "/sys/bus/pci/devices"));
	close(fd);
}

/* A report of two GPUs with the given verdicts (no devices needed). */
static struct iommu_report two_gpus(struct gpu_verdict g[2], enum verdict a, enum verdict b)
{
	memset(g, 0, 2 * sizeof(*g));
	g[0].verdict = a, g[1].verdict = b;
	return (struct iommu_report){.ngroups = 3, .gpus = g, .ngpus = 2};
}

static void test_outcome(void **state)
{
	struct gpu_verdict g[2];
	struct iommu_report r = two_gpus(g, VERDICT_ISOLATED, VERDICT_ISOLATED_BRIDGE);
	assert_int_equal(iommu_outcome(&r, -1), OUTCOME_USABLE);
	assert_true(iommu_isolated(&r, -1));
	/* a shared group: the override may help */
	r = two_gpus(g, VERDICT_ISOLATED, VERDICT_SHARED);
	assert_int_equal(iommu_outcome(&r, -1), OUTCOME_SHARED);
	assert_false(iommu_isolated(&r, -1));
	/* only the GPU asked for counts */
	assert_int_equal(iommu_outcome(&r, 0), OUTCOME_USABLE);
	assert_true(iommu_isolated(&r, 0));
	/* a GPU that could not be judged outweighs a shared one, in either order */
	r = two_gpus(g, VERDICT_UNKNOWN, VERDICT_SHARED);
	assert_int_equal(iommu_outcome(&r, -1), OUTCOME_UNJUDGED);
	r = two_gpus(g, VERDICT_SHARED, VERDICT_NO_GROUP);
	assert_int_equal(iommu_outcome(&r, -1), OUTCOME_UNJUDGED);
	assert_false(iommu_isolated(&r, 1));
	/* isolation needs groups and a GPU */
	r = two_gpus(g, VERDICT_ISOLATED, VERDICT_ISOLATED);
	r.ngroups = 0;
	assert_false(iommu_isolated(&r, -1));
	r.ngroups = 3, r.ngpus = 0;
	assert_false(iommu_isolated(&r, -1));
	assert_int_equal(iommu_outcome(&r, -1), OUTCOME_USABLE);
}

static void test_sysinfo_parsers(void **state)
{
	struct sysinfo s = {0};
	sysinfo_parse_cpuinfo("processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vmx lm\n\n"
			      "processor\t: 1\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vmxx lm\n", &s);
	assert_int_equal(s.ncpu, 2);
	assert_int_equal(s.vmx, 1);   /* "vmxx" is not vmx */
	assert_int_equal(s.lm, 2);
	assert_true(s.intel);
	sysinfo_parse_cmdline("BOOT_IMAGE=x intel_iommu=on,sm_on iommu=pt pcie_acs_override=downstream,multifunction -- intel_iommu=off", &s);
	assert_true(s.cmd_intel_iommu_on);
	assert_false(s.cmd_intel_iommu_off);
	assert_true(s.cmd_iommu_pt);
	assert_string_equal(s.acs_param, "downstream,multifunction");
	sysinfo_parse_cmdline("amd_iommu=on intel_iommu=off", &s);
	assert_true(s.cmd_amd_iommu_on);
	assert_true(s.cmd_intel_iommu_off);
	sysinfo_scan_log_line("[    0.004000] ACPI: FACS 0x000000008A6B1080 000040", &s);
	assert_false(s.log_acs_enabled);
	assert_int_equal(s.klog.n, 0);
	sysinfo_scan_log_line("[    0.18] Warning: PCIe ACS overrides enabled; This may allow non-IOMMU protected peer-to-peer DMA", &s);
	assert_true(s.log_acs_enabled);
	sysinfo_scan_log_line("[    0.18] PCIe ACS invalid ID", &s);
	assert_true(s.log_acs_parse_error);
	sysinfo_scan_log_line("[    0.24] DMAR-IR: Enabled IRQ remapping in x2apic mode", &s);
	assert_int_equal(s.irq_remap, TRI_YES);
	assert_true(s.log_dmar);
	assert_int_equal(s.klog.n, 3);
	sysinfo_free(&s);

	char *c;
	assert_string_equal(c = sysinfo_install_cmd("ubuntu", "18.04"), "sudo apt-get install qemu-kvm libvirt-bin bridge-utils");
	free(c);
	assert_non_null(strstr(c = sysinfo_install_cmd("ubuntu", "18.10"), "libvirt-daemon-system libvirt-clients"));
	free(c);
	assert_non_null(strstr(c = sysinfo_install_cmd("ubuntu", "22.04"), "libvirt-daemon-system libvirt-clients"));
	free(c);
	assert_non_null(strstr(c = sysinfo_install_cmd("debian", "12"), "libvirt-daemon-system libvirt-clients"));
	free(c);
	assert_null(sysinfo_install_cmd("plan9", "4"));
	assert_null(sysinfo_install_cmd(NULL, NULL));
}

static void test_sysinfo_fixture(void **state)
{
	int fd = fixture_root("seed-after-override");
	struct sysinfo s;
	setenv("USER", "seed", 1);
	unsetenv("SUDO_USER");
	sysinfo_read(fd, false, &s);
	assert_int_equal(s.vmx, 12);
	assert_int_equal(s.dev_kvm, TRI_YES);
	assert_int_equal(s.kvm_loaded, TRI_YES);
	assert_int_equal(s.user_in_libvirt, TRI_YES);
	assert_string_equal(s.release, "5.3.18-acso");
	assert_string_equal(s.acs_param, "id:8086:1901,id:8086:1905");
	assert_true(s.log_acs_enabled);
	assert_int_equal(s.acs_supported, TRI_YES);
	assert_int_equal(s.secure_boot, TRI_NO);
	assert_string_equal(s.klog_source, "/var/log/dmesg");
	assert_int_equal(s.iommu_units, 2);
	sysinfo_free(&s);
	close(fd);
	fd = fixture_root("amd-chipset-shared");
	sysinfo_read(fd, false, &s);
	assert_true(s.amd);
	assert_int_equal(s.secure_boot, TRI_YES);
	assert_int_equal(s.libvirt_installed, TRI_NO);
	assert_int_equal(s.user_in_libvirt, TRI_NO);
	assert_null(s.version_signature);
	sysinfo_free(&s);
	close(fd);
	/* An empty root: everything unknown, nothing crashes. */
	fd = root_open_dir("tests/unit");
	sysinfo_read(fd, false, &s);
	assert_int_equal(s.ncpu, -1);
	assert_null(s.cmdline);
	assert_null(s.klog_source);
	assert_int_equal(s.secure_boot, TRI_UNKNOWN);
	sysinfo_free(&s);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_parse),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_seed_report),
		cmocka_unit_test(test_other_reports),
		cmocka_unit_test(test_outcome),
		cmocka_unit_test(test_sysinfo_parsers),
		cmocka_unit_test(test_sysinfo_fixture),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
